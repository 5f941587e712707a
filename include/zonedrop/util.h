/* util.h -- crash-safe file writing, time stamps, small string and number helpers */
#ifndef ZONEDROP_UTIL_H
#define ZONEDROP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "zonedrop/err.h"

#define ZD_PATH_MAX 4096

/* Write len bytes to path crash-safely: temp file beside it (mkstemp),
 * write, fsync, close, fchmod(mode), rename onto path, fsync the directory.
 * On failure the temp file is removed and path is untouched. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct zd_err *err);

/* A temp file beside target for streaming writes: file_atomic_open() fills
 * fa, file_atomic_commit() fsyncs/renames/fsyncs dir (and closes), and
 * file_atomic_abort() closes and unlinks. fa->fp is a buffered FILE*. */
struct file_atomic {
	FILE *fp;
	char tmp[ZD_PATH_MAX];
	char target[ZD_PATH_MAX];
	mode_t mode;
};
int file_atomic_open(struct file_atomic *fa, const char *target, mode_t mode, struct zd_err *err);
int file_atomic_commit(struct file_atomic *fa, struct zd_err *err);
void file_atomic_abort(struct file_atomic *fa);

/* fsync the directory holding path (or path itself when is_dir). */
int fsync_dir(const char *path, int is_dir, struct zd_err *err);

/* Read a whole file into a NUL-terminated malloc'd buffer (caller frees).
 * max: refuse files larger than this (0 = no limit). */
int file_read_all(const char *path, size_t max, char **out, size_t *len, struct zd_err *err);

/* mkdir -p: every component it creates gets exactly mode (chmod after
 * mkdir, so the umask does not apply); existing ones are left as they are. */
int mkdir_p(const char *path, mode_t mode, struct zd_err *err);

/* Path join with truncation check: ZD_ENAMETOOLONG when it does not fit. */
int path_join(char *out, size_t outsz, const char *dir, const char *name);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (buf >= 32 bytes). */
void time_iso_now(char *buf, size_t sz);
/* Format a unix time (seconds, microseconds) the same way. */
void time_iso(char *buf, size_t sz, int64_t sec, long usec);
/* Parse the ISO form above (fraction optional) into unix seconds; -1 on error. */
int64_t time_iso_parse(const char *s);
/* Seconds since the epoch, and a monotonic clock in milliseconds. */
int64_t time_now(void);
int64_t time_mono_ms(void);

/* Durations: "30s", "2m", "1h", "1d", "1500ms" or a bare number of seconds.
 * Result in milliseconds. Returns 0 or ZD_EINVAL. */
int parse_duration_ms(const char *s, int64_t *ms);
/* Unsigned decimal with range check and full-string check (no atoi). */
int parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Escape untrusted bytes for a log line or a one-line message: printable
 * ASCII kept (except '\\'), everything else as \xNN. Always NUL-terminates;
 * truncates with "..." when out is too small. Returns out. */
char *str_safe(char *out, size_t outsz, const char *in, size_t inlen);

/* Constant-time comparison of two byte strings (length leaks, content does not). */
int str_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Started as root and user names another account: become it (groups, gid,
 * uid; checks root cannot be regained). No-op when user is NULL/empty, when
 * not root, or when user is root itself. ZD_ECONFIG: no such user; ZD_EIO:
 * a switch call failed. */
int user_switch(const char *user, struct zd_err *err);

/* strlcpy-alike: always NUL-terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t dstsz);

#endif
