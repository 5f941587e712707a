/* common.c -- what every zonedrop(8) subcommand shares: messages, exits,
 * argument checks, TSV fields */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zonedrop/domain.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"
#include "cli.h"

/* ---- messages and exits (only cmd/ prints and exits) ---- */

void die(int code, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, NULL, "%s", buf);
	exit(code);
}

void warn(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_msg(LOG_WARNING, NULL, "%s", buf);
}

/* A library error to an exit code (DESIGN.md): busy/full is "try later". */
int exit_for(int rc)
{
	switch (rc) {
	case 0:
		return EX_DONE;
	case ZD_EBUSY:
	case ZD_ENOSPC:
	case ZD_ETIMEDOUT:
		return EX_BUSY;
	case ZD_ECONFIG:
		return EX_USAGE;
	default:
		return EX_FAILED;
	}
}

void die_err(int rc, const struct zd_err *err, const char *what)
{
	die(exit_for(rc), "%s: %s", what, zd_err_str(err));
}

/* A failed write to stdout is a failure too. */
void stdout_finish(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_FAILED, "write to stdout: %s", strerror(errno));
}

/* ---- small helpers ---- */

const char *iso_time(char *buf, size_t sz, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return "-";
	return buf;
}

/* Untrusted or free text for one TSV field: no tab, newline, control or
 * 8-bit byte (as \xNN). A backslash is kept, so text that was escaped
 * before it was stored (last_error, .why notes) is not escaped twice. */
const char *field(char *buf, size_t sz, const char *s)
{
	const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (s == NULL || s[0] == '\0')
		return "-";
	for (; *s != '\0' && o + 5 < sz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past a separate value. */
const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		die(EX_USAGE, "%s needs a value", name);
	return argv[++*i];
}

int is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

void check_domain_arg(const char *d)
{
	struct zd_err err;

	char safe[600];

	if (domain_check(d, &err) != 0)
		die(EX_USAGE, "\"%s\": %s", str_safe(safe, sizeof safe, d, strlen(d)), err.msg);
}

const struct config_backend *backend_arg(const struct config *cfg, const char *name)
{
	const struct config_backend *be = config_backend_find(cfg, name);

	if (be == NULL)
		die(EX_USAGE, "no backend named \"%s\" in %s", name, cfg->path ? cfg->path : "the config");
	return be;
}

/* Open the state read-only; NULL when there is none yet. */
struct store *state_open_ro(const struct config *cfg)
{
	struct store *st = NULL;
	struct zd_err err;
	int rc = store_open(cfg->state_dir, STORE_RDONLY, &st, &err);

	if (rc == ZD_ENOENT)
		return NULL;
	if (rc != 0)
		die_err(rc, &err, "open state");
	return st;
}


struct config *config_or_die(const char *arg)
{
	struct config *cfg = NULL;
	struct zd_err err;

	if (config_load(config_path(arg), &cfg, &err) != 0)
		die(EX_USAGE, "%s", zd_err_str(&err));
	log_set_level((enum log_level)cfg->log_level);
	if (user_switch(cfg->user, &err) != 0)
		die(err.code == ZD_ECONFIG ? EX_USAGE : EX_FAILED, "%s", zd_err_str(&err));
	return cfg;
}

int run_exit(int rc, const struct zd_err *err, const char *busy_hint)
{
	switch (rc) {
	case ZD_EBUSY:
		if (busy_hint != NULL)
			log_msg(LOG_WARNING, NULL, "%s: %s", zd_err_str(err), busy_hint);
		return EX_BUSY;
	case ZD_ECONFIG:
	case ZD_EINVAL:
		log_msg(LOG_ERROR, NULL, "%s", zd_err_str(err));
		return EX_USAGE;
	default:
		/* state database or spool unusable right now: the timer tries again */
		log_msg(LOG_ERROR, NULL, "%s", zd_err_str(err));
		return EX_BUSY;
	}
}
