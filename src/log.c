/* log.c -- one line per event on stderr: "prog: level: [zone.] text" */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zonedrop/log.h"
#include "zonedrop/util.h"

static const char *log_prog = "zonedrop";
static enum log_level log_max = LOG_INFO;
static const char *const log_names[] = { "error", "warning", "info", "debug" };

void log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_max = level;
}

void log_set_level(enum log_level level)
{
	log_max = level;
}

enum log_level log_get_level(void)
{
	return log_max;
}

int log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	if (strcmp(s, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level < 4 ? log_names[level] : "?";
}

void log_msg(enum log_level level, const char *zone, const char *fmt, ...)
{
	char raw[2048], text[4096], zsafe[1100], line[6144];
	va_list ap;
	int n;
	int saved = errno;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* untrusted bytes (zone names, header values, checker output) never reach the log raw */
	str_safe(text, sizeof text, raw, strlen(raw));
	if (zone != NULL && zone[0] != '\0') {
		str_safe(zsafe, sizeof zsafe, zone, strlen(zone));
		n = snprintf(line, sizeof line, "%s: %s: [%s.] %s\n", log_prog, log_level_name(level),
		             zsafe, text);
	} else {
		n = snprintf(line, sizeof line, "%s: %s: %s\n", log_prog, log_level_name(level), text);
	}
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* one write(2) per line so threads and processes do not interleave */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nothing sensible to do when stderr is gone */
	}
out:
	errno = saved;
}
