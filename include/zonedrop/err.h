/* err.h -- error codes and the error detail struct every module fills */
#ifndef ZONEDROP_ERR_H
#define ZONEDROP_ERR_H

#include <errno.h>

/* Library functions return 0 or one of these (negative, mirroring -errno). */
#define ZD_OK            0
#define ZD_ENOMEM        (-ENOMEM)
#define ZD_EINVAL        (-EINVAL)       /* bad input: see err->msg */
#define ZD_ENOENT        (-ENOENT)       /* no such zone / file */
#define ZD_EEXIST        (-EEXIST)
#define ZD_EIO           (-EIO)          /* I/O error: err->msg + errno text */
#define ZD_ENAMETOOLONG  (-ENAMETOOLONG)
#define ZD_EBUSY         (-EBUSY)        /* lock held */
#define ZD_EACCES        (-EACCES)       /* refused (auth, allow_from) */
#define ZD_ENOSPC        (-ENOSPC)       /* spool full: temporary */
#define ZD_E2BIG         (-E2BIG)        /* over a size limit */
#define ZD_ETIMEDOUT     (-ETIMEDOUT)
#define ZD_ECONFIG       (-1000)         /* configuration error */
#define ZD_EDB           (-1001)         /* SQLite error */
#define ZD_ECMD          (-1002)         /* a control command failed */
#define ZD_EDNS          (-1003)         /* DNS query/answer problem */

#define ZD_ERR_MSG_MAX 512

/* Detail for a failure: a human message (already safe to log: no control
 * bytes) and the errno that caused it, 0 if none. */
struct zd_err {
	int code;
	int sys_errno;
	char msg[ZD_ERR_MSG_MAX];
};

/* Fill err (may be NULL) and return code. printf-style message. */
int zd_err_set(struct zd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, remembering errno (saved before formatting). */
int zd_err_sys(struct zd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reset to "no error". */
void zd_err_clear(struct zd_err *err);
/* The message plus ": strerror(sys_errno)" when sys_errno is set; static buffer per thread. */
const char *zd_err_str(const struct zd_err *err);

#endif
