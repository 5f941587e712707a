/* counters.h -- the CGI's request counters: spool_dir/counters, flock'd increments */
#ifndef ZONEDROP_COUNTERS_H
#define ZONEDROP_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/err.h"

/*
 * The file is text, one counter a line, the value fixed-width so that an
 * increment rewrites 20 digits in place (one pwrite) and a torn write can
 * only ever touch one counter:
 *     accepted_rawsave 00000000000000000042\n
 * Lines are appended on a counter's first increment; the file is created
 * (empty, group-writable for the CGI's group) at install, never by the
 * programs: without it nothing is counted and nothing fails. Writers take
 * flock(LOCK_EX), readers flock(LOCK_SH). Unknown names are kept; lines
 * that do not parse are skipped.
 */

#define COUNTERS_NAME "counters"
#define COUNTERS_NAME_MAX 32            /* a name is [a-z0-9_], shorter than this */
#define COUNTERS_MAX 64                 /* counters read at most */
#define COUNTERS_FILE_MAX 8192          /* a larger file is not a counters file */

/* The counters the CGI keeps (cgi.c), and the reasons /metrics lists. */
#define COUNTER_ACCEPTED_RAWSAVE "accepted_rawsave"
#define COUNTER_ACCEPTED_DELETE  "accepted_delete"
#define COUNTER_REJECTED_PREFIX  "rejected_"
/* rejected_<reason>, in the order /metrics prints them; NULL-terminated */
extern const char *const counters_reasons[];

struct counters {
	size_t n;
	struct {
		char name[COUNTERS_NAME_MAX];
		uint64_t value;
	} v[COUNTERS_MAX];
};

/* Add delta to the counter name in spool_dir/counters (created never).
 * 0; ZD_ENOENT when there is no counters file (count nothing); ZD_EINVAL for
 * a bad name; ZD_E2BIG when the file is too large; ZD_EIO otherwise. */
int counters_add(const char *spool_dir, const char *name, uint64_t delta, struct zd_err *err);

/* Read every counter (shared lock). 0; ZD_ENOENT when the file is missing. */
int counters_read(const char *spool_dir, struct counters *c, struct zd_err *err);

/* The value of name, 0 when absent. */
uint64_t counters_get(const struct counters *c, const char *name);

#endif
