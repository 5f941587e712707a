/* util.c -- crash-safe file writing, time stamps, small string and number helpers */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zonedrop/util.h"

int fsync_dir(const char *path, int is_dir, struct zd_err *err)
{
	char dir[ZD_PATH_MAX];
	char *slash;
	int fd, rc = 0;

	if (str_copy(dir, path, sizeof dir) >= sizeof dir)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", path);
	if (!is_dir) {
		slash = strrchr(dir, '/');
		if (slash == NULL)
			str_copy(dir, ".", sizeof dir);
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return zd_err_sys(err, ZD_EIO, "open directory %s", dir);
	if (fsync(fd) < 0)
		rc = zd_err_sys(err, ZD_EIO, "fsync directory %s", dir);
	close(fd);
	return rc;
}

int file_atomic_open(struct file_atomic *fa, const char *target, mode_t mode, struct zd_err *err)
{
	int n, fd;

	memset(fa, 0, sizeof *fa);
	fa->mode = mode;
	if (str_copy(fa->target, target, sizeof fa->target) >= sizeof fa->target)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", target);
	/* the temp file sits beside the target: same filesystem, so rename is atomic */
	n = snprintf(fa->tmp, sizeof fa->tmp, "%s.tmp.XXXXXX", target);
	if (n < 0 || (size_t)n >= sizeof fa->tmp)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", target);
	fd = mkostemp(fa->tmp, O_CLOEXEC);
	if (fd < 0)
		return zd_err_sys(err, ZD_EIO, "create temp file for %s", target);
	if (fchmod(fd, mode) < 0) {
		int rc = zd_err_sys(err, ZD_EIO, "chmod %s", fa->tmp);
		close(fd);
		unlink(fa->tmp);
		return rc;
	}
	fa->fp = fdopen(fd, "w");
	if (fa->fp == NULL) {
		int rc = zd_err_sys(err, ZD_EIO, "fdopen %s", fa->tmp);
		close(fd);
		unlink(fa->tmp);
		return rc;
	}
	return 0;
}

int file_atomic_commit(struct file_atomic *fa, struct zd_err *err)
{
	int rc = 0;

	if (fa->fp == NULL)
		return zd_err_set(err, ZD_EINVAL, "file %s not open", fa->target);
	/* fsync before rename, or a crash can leave an empty file under the final name */
	if (fflush(fa->fp) != 0 || ferror(fa->fp)) {
		rc = zd_err_sys(err, ZD_EIO, "write %s", fa->tmp);
		goto fail;
	}
	if (fsync(fileno(fa->fp)) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "fsync %s", fa->tmp);
		goto fail;
	}
	if (fclose(fa->fp) != 0) {
		fa->fp = NULL;
		rc = zd_err_sys(err, ZD_EIO, "close %s", fa->tmp);
		goto fail;
	}
	fa->fp = NULL;
	if (rename(fa->tmp, fa->target) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "rename %s to %s", fa->tmp, fa->target);
		goto fail;
	}
	fa->tmp[0] = '\0';
	return fsync_dir(fa->target, 0, err);
fail:
	file_atomic_abort(fa);
	return rc;
}

void file_atomic_abort(struct file_atomic *fa)
{
	if (fa->fp != NULL) {
		fclose(fa->fp);
		fa->fp = NULL;
	}
	if (fa->tmp[0] != '\0') {
		unlink(fa->tmp);
		fa->tmp[0] = '\0';
	}
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      struct zd_err *err)
{
	struct file_atomic fa;
	int rc;

	rc = file_atomic_open(&fa, path, mode, err);
	if (rc != 0)
		return rc;
	if (len > 0 && fwrite(data, 1, len, fa.fp) != len) {
		rc = zd_err_sys(err, ZD_EIO, "write %s", fa.tmp);
		file_atomic_abort(&fa);
		return rc;
	}
	return file_atomic_commit(&fa, err);
}

int file_read_all(const char *path, size_t max, char **out, size_t *len, struct zd_err *err)
{
	int fd = -1, rc = 0;
	char *buf = NULL;
	size_t cap = 0, used = 0;
	ssize_t r;
	struct stat sb;

	*out = NULL;
	if (len)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = zd_err_sys(err, errno == ENOENT ? ZD_ENOENT : ZD_EIO, "open %s", path);
		goto out;
	}
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
		cap = (size_t)sb.st_size + 1;
	if (max && cap > max + 1) {
		rc = zd_err_set(err, ZD_E2BIG, "%s is larger than %zu bytes", path, max);
		goto out;
	}
	if (cap < 4096)
		cap = 4096;
	buf = malloc(cap);
	if (buf == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	for (;;) {
		if (used + 1 >= cap) {
			char *nb;
			if (max && used > max) {
				rc = zd_err_set(err, ZD_E2BIG, "%s is larger than %zu bytes", path, max);
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				rc = zd_err_set(err, ZD_ENOMEM, "out of memory reading %s", path);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + used, cap - used - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = zd_err_sys(err, ZD_EIO, "read %s", path);
			goto out;
		}
		if (r == 0)
			break;
		used += (size_t)r;
	}
	if (max && used > max) {
		rc = zd_err_set(err, ZD_E2BIG, "%s is larger than %zu bytes", path, max);
		goto out;
	}
	buf[used] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = used;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int mkdir_p(const char *path, mode_t mode, struct zd_err *err)
{
	char tmp[ZD_PATH_MAX];
	char *p;

	if (str_copy(tmp, path, sizeof tmp) >= sizeof tmp)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) == 0)
			chmod(tmp, mode);          /* exactly mode: the umask does not apply */
		else if (errno != EEXIST)
			return zd_err_sys(err, ZD_EIO, "mkdir %s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, mode) == 0) {
		if (chmod(tmp, mode) < 0)
			return zd_err_sys(err, ZD_EIO, "chmod %s", tmp);
	} else if (errno != EEXIST) {
		return zd_err_sys(err, ZD_EIO, "mkdir %s", tmp);
	}
	return 0;
}

int path_join(char *out, size_t outsz, const char *dir, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outsz)
		return ZD_ENAMETOOLONG;
	return 0;
}

void time_iso(char *buf, size_t sz, int64_t sec, long usec)
{
	struct tm tm;
	time_t t = (time_t)sec;

	gmtime_r(&t, &tm);
	snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

void time_iso_now(char *buf, size_t sz)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	time_iso(buf, sz, (int64_t)tv.tv_sec, (long)tv.tv_usec);
}

int64_t time_iso_parse(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t t;

	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != 'Z' || p[1] != '\0')
		return -1;
	t = (int64_t)timegm(&tm);
	return t;
}

int64_t time_now(void)
{
	return (int64_t)time(NULL);
}

int64_t time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return ZD_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return ZD_EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int parse_duration_ms(const char *s, int64_t *ms)
{
	char num[32];
	size_t i = 0;
	uint64_t v, mult;
	const char *unit;

	if (s == NULL)
		return ZD_EINVAL;
	while (s[i] >= '0' && s[i] <= '9') {
		if (i + 1 >= sizeof num)
			return ZD_EINVAL;
		num[i] = s[i];
		i++;
	}
	num[i] = '\0';
	if (i == 0)
		return ZD_EINVAL;
	unit = s + i;
	if (*unit == '\0' || strcmp(unit, "s") == 0)
		mult = 1000;
	else if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(unit, "d") == 0)
		mult = 86400 * 1000;
	else
		return ZD_EINVAL;
	if (parse_u64(num, (uint64_t)INT64_MAX / mult, &v) != 0)
		return ZD_EINVAL;
	*ms = (int64_t)(v * mult);
	return 0;
}

char *str_safe(char *out, size_t outsz, const char *in, size_t inlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (outsz == 0)
		return out;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;

		if (o + need + 1 > outsz) {
			/* no room: end with "..." when it fits */
			if (outsz >= 4) {
				o = o > outsz - 4 ? outsz - 4 : o;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

int str_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *pa = a, *pb = b;
	unsigned char diff = (unsigned char)(alen != blen);
	size_t i, n = alen > blen ? alen : blen;

	/* walk the longer length so the time depends on lengths only */
	for (i = 0; i < n; i++) {
		unsigned char ca = i < alen ? pa[i] : 0;
		unsigned char cb = i < blen ? pb[i] : 0;
		diff |= ca ^ cb;
	}
	return diff == 0;
}

size_t str_copy(char *dst, const char *src, size_t dstsz)
{
	size_t len = strlen(src);

	if (dstsz > 0) {
		size_t n = len >= dstsz ? dstsz - 1 : len;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int user_switch(const char *user, struct zd_err *err)
{
	struct passwd *pw;

	if (user == NULL || user[0] == '\0' || geteuid() != 0)
		return 0;
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL)
		return zd_err_set(err, ZD_ECONFIG, "user %s: %s", user,
		                  errno ? strerror(errno) : "no such user");
	if (pw->pw_uid == 0)
		return 0;
	/* groups first: once setuid has run they can no longer change */
	if (initgroups(pw->pw_name, pw->pw_gid) < 0)
		return zd_err_set(err, ZD_EIO, "initgroups %s: %s", user, strerror(errno));
	if (setgid(pw->pw_gid) < 0)
		return zd_err_set(err, ZD_EIO, "setgid %s: %s", user, strerror(errno));
	if (setuid(pw->pw_uid) < 0)
		return zd_err_set(err, ZD_EIO, "setuid %s: %s", user, strerror(errno));
	if (setuid(0) == 0)
		return zd_err_set(err, ZD_EIO, "could regain root after switching to %s", user);
	return 0;
}
