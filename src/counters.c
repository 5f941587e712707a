/* counters.c -- the CGI's request counters: spool_dir/counters, flock'd increments
 *
 * See counters.h for the format. The file is never created here: the CGI
 * may write spool items and this one file, which the installer creates
 * group-writable (DESIGN.md "What the CGI may write"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zonedrop/counters.h"
#include "zonedrop/util.h"

#define COUNTERS_DIGITS 20

const char *const counters_reasons[] = {
	"auth",          /* 401: no or wrong credentials, or not an account for the endpoint */
	"forbidden",     /* 403: allow_from, or a DirectAdmin account on a peers' endpoint */
	"not_found",     /* 404: no such endpoint */
	"method",        /* 405 */
	"bad_request",   /* 400: parameters, domain, Content-Length */
	"bad_zone",      /* 400: the zone text did not pass the checks */
	"too_large",     /* 413: body larger than receiver.max_body */
	"unavailable",   /* 503: spool full or unwritable, state unreadable */
	"internal",      /* 500 and any other status */
	NULL
};

static int counters_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= COUNTERS_NAME_MAX)
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* Open spool_dir/counters (never creating it) and lock it. */
static int counters_open(const char *spool_dir, int flags, int lock, int *fdp, struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	struct stat sb;
	int fd;

	*fdp = -1;
	if (path_join(path, sizeof path, spool_dir, COUNTERS_NAME) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", spool_dir);
	fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return zd_err_sys(err, errno == ENOENT ? ZD_ENOENT : ZD_EIO, "open %s", path);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return zd_err_set(err, ZD_EIO, "%s is not a regular file", path);
	}
	while (flock(fd, lock) < 0) {
		if (errno != EINTR) {
			zd_err_sys(err, ZD_EIO, "lock %s", path);
			close(fd);
			return ZD_EIO;
		}
	}
	*fdp = fd;
	return 0;
}

/* The whole file into buf (NUL-terminated); ZD_E2BIG when it is too large. */
static int counters_load(int fd, char *buf, size_t bufsz, size_t *len, struct zd_err *err)
{
	size_t got = 0;
	ssize_t r;

	for (;;) {
		r = pread(fd, buf + got, bufsz - 1 - got, (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return zd_err_sys(err, ZD_EIO, "read counters");
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == bufsz - 1)
			return zd_err_set(err, ZD_E2BIG, "counters file larger than %zu bytes",
			                  bufsz - 2);
	}
	buf[got] = '\0';
	*len = got;
	return 0;
}

/* One line "name value": 1 and the parts when it parses. */
static int counters_line(const char *s, size_t n, const char **name, size_t *nlen,
                         uint64_t *value, size_t *voff)
{
	const char *sp = memchr(s, ' ', n);
	char digits[COUNTERS_DIGITS + 1];

	if (sp == NULL || sp == s || (size_t)(sp - s) >= COUNTERS_NAME_MAX)
		return 0;
	if (n - (size_t)(sp - s) - 1 != COUNTERS_DIGITS)
		return 0;
	memcpy(digits, sp + 1, COUNTERS_DIGITS);
	digits[COUNTERS_DIGITS] = '\0';
	if (strspn(digits, "0123456789") != COUNTERS_DIGITS ||
	    parse_u64(digits, UINT64_MAX, value) != 0)
		return 0;
	*name = s;
	*nlen = (size_t)(sp - s);
	*voff = (size_t)(sp - s) + 1;
	return 1;
}

static int counters_pwrite(int fd, const char *buf, size_t len, off_t off, struct zd_err *err)
{
	ssize_t w;

	while (len > 0) {
		w = pwrite(fd, buf, len, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return zd_err_sys(err, ZD_EIO, "write counters");
		}
		buf += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

int counters_add(const char *spool_dir, const char *name, uint64_t delta, struct zd_err *err)
{
	char buf[COUNTERS_FILE_MAX + 2], line[COUNTERS_NAME_MAX + COUNTERS_DIGITS + 4];
	const char *s, *e, *ln;
	size_t len = 0, nlen, voff, want = strlen(name);
	uint64_t v;
	int fd = -1, rc, n;

	if (!counters_name_ok(name))
		return zd_err_set(err, ZD_EINVAL, "bad counter name");
	if ((rc = counters_open(spool_dir, O_RDWR, LOCK_EX, &fd, err)) != 0)
		return rc;
	if ((rc = counters_load(fd, buf, sizeof buf, &len, err)) != 0)
		goto out;
	/* the first line that parses with this name holds the counter */
	for (s = buf; s < buf + len; s = e + 1) {
		e = memchr(s, '\n', (size_t)(buf + len - s));
		if (e == NULL)
			break;
		if (!counters_line(s, (size_t)(e - s), &ln, &nlen, &v, &voff) || nlen != want ||
		    memcmp(ln, name, want) != 0)
			continue;
		v = v > UINT64_MAX - delta ? UINT64_MAX : v + delta;
		snprintf(line, sizeof line, "%0*llu", COUNTERS_DIGITS, (unsigned long long)v);
		rc = counters_pwrite(fd, line, COUNTERS_DIGITS, (off_t)(s - buf + (long)voff), err);
		goto out;
	}
	/* first increment: a new line at the end (after a newline if one is missing) */
	n = snprintf(line, sizeof line, "%s%s %0*llu\n", len > 0 && buf[len - 1] != '\n' ? "\n" : "",
	             name, COUNTERS_DIGITS, (unsigned long long)delta);
	if (len + (size_t)n > COUNTERS_FILE_MAX) {
		rc = zd_err_set(err, ZD_E2BIG, "counters file full (%zu bytes)", len);
		goto out;
	}
	rc = counters_pwrite(fd, line, (size_t)n, (off_t)len, err);
out:
	close(fd);   /* and the lock with it */
	return rc;
}

int counters_read(const char *spool_dir, struct counters *c, struct zd_err *err)
{
	char buf[COUNTERS_FILE_MAX + 2];
	const char *s, *e, *ln;
	size_t len = 0, nlen, voff, i;
	uint64_t v;
	int fd = -1, rc;

	memset(c, 0, sizeof *c);
	if ((rc = counters_open(spool_dir, O_RDONLY, LOCK_SH, &fd, err)) != 0)
		return rc;
	rc = counters_load(fd, buf, sizeof buf, &len, err);
	close(fd);
	if (rc != 0)
		return rc;
	for (s = buf; s < buf + len && c->n < COUNTERS_MAX; s = e + 1) {
		e = memchr(s, '\n', (size_t)(buf + len - s));
		if (e == NULL)
			break;
		if (!counters_line(s, (size_t)(e - s), &ln, &nlen, &v, &voff))
			continue;
		for (i = 0; i < c->n; i++)
			if (strlen(c->v[i].name) == nlen && memcmp(c->v[i].name, ln, nlen) == 0)
				break;
		if (i < c->n)
			continue;   /* the first one counts, as in counters_add() */
		memcpy(c->v[c->n].name, ln, nlen);
		c->v[c->n].name[nlen] = '\0';
		if (!counters_name_ok(c->v[c->n].name))
			continue;
		c->v[c->n].value = v;
		c->n++;
	}
	return 0;
}

uint64_t counters_get(const struct counters *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return c->v[i].value;
	return 0;
}
