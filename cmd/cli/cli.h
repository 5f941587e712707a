/* cli.h -- what the programs' mains share (cmd/cli/common.c: messages, exits,
 * config loading), and the parts of zonedrop(8): cmd/zonedrop.c (main,
 * dispatch and the first commands) and cmd/cli/<command>.c (one file per
 * later command). Only cmd/ prints and exits (STYLE.md). */
#ifndef ZONEDROP_CLI_H
#define ZONEDROP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"
#include "zonedrop/store.h"

#define EX_DONE 0
#define EX_FAILED 1
#define EX_USAGE 2
#define EX_BUSY 75

/* log at error level and exit(code) */
void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a library error code to an exit code (DESIGN.md) */
int exit_for(int rc);
void die_err(int rc, const struct zd_err *err, const char *what) __attribute__((noreturn));
/* fflush stdout; a failed write is EX_FAILED */
void stdout_finish(void);

/* Load the config (-c arg, else $ZONEDROP_CONFIG, else the default), set its
 * log level, and when started as root with user: set become that user; exit 2
 * on a config error, 1 when the switch fails. */
struct config *config_or_die(const char *arg);

/* The exit code of a timer program whose run failed as a whole (rc < 0):
 * busy 75 (logged as a warning with busy_hint, silent when it is NULL), a
 * config or usage error 2, anything else 75 (the timer tries again); logged. */
int run_exit(int rc, const struct zd_err *err, const char *busy_hint);

/* "YYYY-MM-DDTHH:MM:SSZ" or "-" for t <= 0 */
const char *iso_time(char *buf, size_t sz, int64_t t);
/* untrusted text as one TSV field ("-" when empty) */
const char *field(char *buf, size_t sz, const char *s);
/* "--name VALUE" / "--name=VALUE" at argv[*i], else NULL */
const char *opt_value(int argc, char **argv, int *i, const char *name);
int is_help(const char *a);
/* exit 2 unless d is a valid domain */
void check_domain_arg(const char *d);
/* the named backend, or exit 2 */
const struct config_backend *backend_arg(const struct config *cfg, const char *name);
/* the state read-only; NULL when there is none yet */
struct store *state_open_ro(const struct config *cfg);

/* Commands in cmd/cli/<name>.c: (config loaded, user switched) -> exit code. */
int cmd_verify(const struct config *cfg, int argc, char **argv);   /* verify.c */

/* import.c: converts before any config exists, so it is given -c (NULL when absent)
 * and loads the configuration itself */
int cmd_import_directdnsonly(const char *cfg_arg, int argc, char **argv);
int cmd_secondary(const struct config *cfg, int argc, char **argv);   /* secondary.c */

#endif
