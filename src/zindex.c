/* zindex.c -- the held-zones snapshot the CGI reads: sorted lines, looked up by binary search */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zonedrop/log.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "zonedrop/zindex.h"

struct zindex_pub {
	FILE *fp;
	size_t skipped;
};

/* A field that would break the line format is never written (the names are
 * validated on the way in, so this only guards against a damaged database). */
static int zindex_field_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			return 0;
	return 1;
}

static int zindex_pub_zone(const struct store_zone *z, void *arg)
{
	struct zindex_pub *p = arg;

	if (!z->present)
		return 0;
	if (z->domain[0] == '\0' || !zindex_field_ok(z->domain) || !zindex_field_ok(z->hostname) ||
	    !zindex_field_ok(z->username)) {
		log_warning(z->domain, "zones.idx: skipped, a field holds a tab or newline");
		p->skipped++;
		return 0;
	}
	if (fprintf(p->fp, "%s\t%s\t%s\n", z->domain, z->hostname, z->username) < 0)
		return ZD_EIO;
	return 0;
}

int zindex_publish(struct store *st, const char *state_dir, struct zd_err *err)
{
	struct file_atomic fa;
	struct zindex_pub p = { NULL, 0 };
	char path[ZD_PATH_MAX];
	int rc;

	if (path_join(path, sizeof path, state_dir, ZINDEX_NAME) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", state_dir);
	if ((rc = file_atomic_open(&fa, path, 0644, err)) != 0)
		return rc;
	p.fp = fa.fp;
	/* store_zone_each walks in domain order with SQLite's BINARY collation,
	 * i.e. memcmp order: exactly what zindex_lookup's search expects */
	rc = store_zone_each(st, NULL, 0, 0, zindex_pub_zone, &p, err);
	if (rc == ZD_EIO)
		rc = zd_err_sys(err, ZD_EIO, "write %s", fa.tmp);
	if (rc != 0) {
		file_atomic_abort(&fa);
		return rc;
	}
	return file_atomic_commit(&fa, err);
}

/* Compare key with the first field of line [s, e). */
static int zindex_cmp(const char *key, size_t klen, const char *s, const char *e)
{
	const char *tab = memchr(s, '\t', (size_t)(e - s));
	size_t flen = (size_t)((tab ? tab : e) - s), n = klen < flen ? klen : flen;
	int c = memcmp(key, s, n);

	if (c != 0)
		return c;
	return klen < flen ? -1 : klen > flen ? 1 : 0;
}

/* Copy field [s, e) into out (truncated to fit, always terminated). */
static void zindex_copy(char *out, size_t outsz, const char *s, const char *e)
{
	size_t n = (size_t)(e - s);

	if (out == NULL || outsz == 0)
		return;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int zindex_lookup(const char *state_dir, const char *domain, char *hostname, size_t hsz,
                  char *username, size_t usz, struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	const char *map = MAP_FAILED, *s, *e, *f1, *f2;
	size_t size = 0, lo, hi, mid, klen;
	struct stat sb;
	int fd = -1, rc = ZD_ENOENT, c;

	zindex_copy(hostname, hsz, "", "");
	zindex_copy(username, usz, "", "");
	if (domain == NULL || domain[0] == '\0')
		return zd_err_set(err, ZD_ENOENT, "no domain given");
	klen = strlen(domain);
	if (path_join(path, sizeof path, state_dir, ZINDEX_NAME) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? zd_err_set(err, ZD_ENOENT, "no zone index yet")
		                     : zd_err_sys(err, ZD_EIO, "open %s", path);
		goto out;
	}
	if (fstat(fd, &sb) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "stat %s", path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0) {
		rc = zd_err_set(err, ZD_ENOENT, "%s not held", domain);
		goto out;
	}
	size = (size_t)sb.st_size;
	/* the file is replaced by rename, never rewritten in place, so the
	 * mapping cannot shrink under us */
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = zd_err_sys(err, ZD_EIO, "mmap %s", path);
		goto out;
	}
	/* Binary search over lines: lo is always a line start; [lo, hi) holds
	 * the lines still in question. Garbage (unsorted, no newlines, no tabs)
	 * can only make the search miss, never read outside the map. */
	lo = 0;
	hi = size;
	rc = zd_err_set(err, ZD_ENOENT, "%s not held", domain);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		s = map + mid;
		while (s > map + lo && s[-1] != '\n')
			s--;
		e = memchr(s, '\n', size - (size_t)(s - map));
		if (e == NULL)
			e = map + size;
		c = zindex_cmp(domain, klen, s, e);
		if (c == 0) {
			f1 = memchr(s, '\t', (size_t)(e - s));
			if (f1 != NULL) {
				f1++;
				f2 = memchr(f1, '\t', (size_t)(e - f1));
				zindex_copy(hostname, hsz, f1, f2 ? f2 : e);
				if (f2 != NULL) {
					const char *f3;
					f2++;
					f3 = memchr(f2, '\t', (size_t)(e - f2));
					zindex_copy(username, usz, f2, f3 ? f3 : e);
				}
			}
			zd_err_clear(err);
			rc = 0;
			break;
		}
		if (c < 0)
			hi = (size_t)(s - map);
		else
			lo = (size_t)(e - map) + 1;
	}
out:
	if (map != MAP_FAILED)
		munmap((void *)map, size);
	if (fd >= 0)
		close(fd);
	return rc;
}
