/* log.h -- one line per event on stderr: "prog: level: [zone.] key=value text" */
#ifndef ZONEDROP_LOG_H
#define ZONEDROP_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARNING = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the program name and the highest level printed (default LOG_INFO). */
void log_init(const char *prog, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error" | "warning" | "info" | "debug" -> level; -1 when unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level level);

/* One line: "prog: level: [zone.] <fmt...>". zone may be NULL; it is
 * escaped (untrusted). The formatted text is escaped too: arguments may
 * carry untrusted bytes. Thread-safe (one write(2) per line). */
void log_msg(enum log_level level, const char *zone, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(zone, ...)   log_msg(LOG_ERROR, zone, __VA_ARGS__)
#define log_warning(zone, ...) log_msg(LOG_WARNING, zone, __VA_ARGS__)
#define log_info(zone, ...)    log_msg(LOG_INFO, zone, __VA_ARGS__)
#define log_debug(zone, ...)   log_msg(LOG_DEBUG, zone, __VA_ARGS__)

#endif
