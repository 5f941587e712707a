/* spool.c -- the Maildir-style spool: unique names, crash-safe delivery, strict item parsing */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "zonedrop/domain.h"
#include "zonedrop/spool.h"
#include "zonedrop/util.h"

#define SPOOL_HOST_MAX 63
#define SPOOL_OPEN_TRIES 16

/* Per-process delivery counter: with pid and microseconds it makes names unique. */
static unsigned long spool_counter;

/* The host part of a name: the first label of gethostname(), every byte
 * outside [A-Za-z0-9-] replaced by '-', so a name never holds '/' or '.'. */
static void spool_host(char *out, size_t outsz)
{
	char host[256];
	size_t i, o = 0;

	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	for (i = 0; host[i] != '\0' && host[i] != '.' && o + 1 < outsz && o < SPOOL_HOST_MAX; i++) {
		unsigned char c = (unsigned char)host[i];
		int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-';
		out[o++] = keep ? (char)c : '-';
	}
	out[o] = '\0';
	if (o == 0)
		str_copy(out, "localhost", outsz);
}

int spool_name_new(char *out, size_t outsz, int64_t *sec, long *usec)
{
	char host[SPOOL_HOST_MAX + 1];
	struct timeval tv;
	unsigned long c;
	int n;

	spool_host(host, sizeof host);
	gettimeofday(&tv, NULL);
	c = __atomic_add_fetch(&spool_counter, 1, __ATOMIC_RELAXED);
	n = snprintf(out, outsz, "%lld.%06ld.%ld_%lu.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
	             (long)getpid(), c, host);
	if (n < 0 || (size_t)n >= outsz)
		return ZD_ENAMETOOLONG;
	if (sec)
		*sec = (int64_t)tv.tv_sec;
	if (usec)
		*usec = (long)tv.tv_usec;
	return 0;
}

/* Decimal digits at *p (at most maxdigits, at least one) into *v; advances *p. */
static int spool_digits(const char **p, int maxdigits, long long *v)
{
	const char *s = *p;
	long long x = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > maxdigits)
			return -1;
		x = x * 10 + (*s - '0');
		s++;
	}
	if (n == 0)
		return -1;
	*v = x;
	*p = s;
	return 0;
}

int spool_name_parse(const char *name, int64_t *sec, long *usec, long *pid, long *counter)
{
	const char *p = name, *start, *host;
	long long s, u, pd, c;

	if (name == NULL)
		return ZD_EINVAL;
	if (spool_digits(&p, 18, &s) != 0 || *p++ != '.')
		return ZD_EINVAL;
	start = p;
	if (spool_digits(&p, 6, &u) != 0 || p - start != 6 || *p++ != '.')
		return ZD_EINVAL;
	if (spool_digits(&p, 18, &pd) != 0 || *p++ != '_')
		return ZD_EINVAL;
	if (spool_digits(&p, 18, &c) != 0 || *p++ != '.')
		return ZD_EINVAL;
	host = p;
	for (; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return ZD_EINVAL;
	}
	if (p == host || strlen(name) >= SPOOL_NAME_MAX)
		return ZD_EINVAL;
	if (sec)
		*sec = (int64_t)s;
	if (usec)
		*usec = (long)u;
	if (pid)
		*pid = (long)pd;
	if (counter)
		*counter = (long)c;
	return 0;
}

/* Sort key of one name: parsed names first in time order, then the rest by name. */
struct spool_key {
	int valid;
	int64_t sec;
	long usec, pid, counter;
	char *name;
};

static void spool_key_make(struct spool_key *k, char *name)
{
	k->name = name;
	k->valid = spool_name_parse(name, &k->sec, &k->usec, &k->pid, &k->counter) == 0;
}

static int spool_key_cmp(const void *a, const void *b)
{
	const struct spool_key *x = a, *y = b;

	if (x->valid != y->valid)
		return x->valid ? -1 : 1;
	if (x->valid) {
		if (x->sec != y->sec)
			return x->sec < y->sec ? -1 : 1;
		if (x->usec != y->usec)
			return x->usec < y->usec ? -1 : 1;
		if (x->pid != y->pid)
			return x->pid < y->pid ? -1 : 1;
		if (x->counter != y->counter)
			return x->counter < y->counter ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

int spool_name_cmp(const void *a, const void *b)
{
	struct spool_key x, y;

	spool_key_make(&x, *(char *const *)a);
	spool_key_make(&y, *(char *const *)b);
	return spool_key_cmp(&x, &y);
}

/* ---- header format and parse ---- */

static const char *spool_action_name(enum spool_action a)
{
	return a == SPOOL_RAWSAVE ? "rawsave" : a == SPOOL_DELETE ? "delete" : NULL;
}

static int spool_source_valid(const char *s)
{
	static const char *const sources[] = { "directadmin", "peer", "refresh", "reconcile", "cli" };
	size_t i;

	for (i = 0; i < sizeof sources / sizeof sources[0]; i++)
		if (strcmp(s, sources[i]) == 0)
			return 1;
	return 0;
}

/* A header value: printable ASCII only (no control byte, no DEL, no 8-bit). */
static int spool_value_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Client-Ip: an address literal, nothing that needs escaping. */
static int spool_ip_valid(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '.' || c == ':' || c == '%' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* Every field of an item as the parser would accept it. */
static int spool_item_validate(const struct spool_item *item, struct zd_err *err)
{
	struct zd_err sub;
	int rc;

	if (spool_action_name(item->action) == NULL)
		return zd_err_set(err, ZD_EINVAL, "unknown action %d", (int)item->action);
	if (domain_check(item->domain, &sub) != 0)
		return zd_err_set(err, ZD_EINVAL, "Domain: %s", sub.msg);
	if ((rc = hostname_check(item->hostname, &sub)) != 0)
		return zd_err_set(err, ZD_EINVAL, "Hostname: %s", sub.msg);
	if ((rc = username_check(item->username, &sub)) != 0)
		return zd_err_set(err, ZD_EINVAL, "Username: %s", sub.msg);
	if (!spool_source_valid(item->source))
		return zd_err_set(err, ZD_EINVAL, "Source: unknown source \"%s\"", item->source);
	if (!spool_ip_valid(item->client_ip))
		return zd_err_set(err, ZD_EINVAL, "Client-Ip: not an address");
	if (item->received[0] == '\0' || time_iso_parse(item->received) < 0)
		return zd_err_set(err, ZD_EINVAL, "Received: not an ISO UTC time");
	if (item->changed[0] != '\0' && time_iso_parse(item->changed) < 0)
		return zd_err_set(err, ZD_EINVAL, "Changed: not an ISO UTC time");
	if (item->serial[0] != '\0' && parse_u64(item->serial, UINT32_MAX, &(uint64_t){ 0 }) != 0)
		return zd_err_set(err, ZD_EINVAL, "Serial: not a serial number");
	if (item->action == SPOOL_RAWSAVE && (item->text == NULL || item->text_len == 0))
		return zd_err_set(err, ZD_EINVAL, "rawsave item has no zone text");
	return 0;
}

int spool_header_format(const struct spool_item *item, char *buf, size_t bufsz, size_t *len)
{
	const char *action = spool_action_name(item->action);
	int n;

	if (action == NULL)
		return ZD_EINVAL;
	/* a newline in a value would forge a header: refuse rather than write it */
	if (!spool_value_clean(item->domain) || !spool_value_clean(item->hostname) ||
	    !spool_value_clean(item->username) || !spool_value_clean(item->source) ||
	    !spool_value_clean(item->client_ip) || !spool_value_clean(item->received) ||
	    !spool_value_clean(item->changed) || !spool_value_clean(item->serial))
		return ZD_EINVAL;
	n = snprintf(buf, bufsz,
	             "Action: %s\nDomain: %s\nHostname: %s\nUsername: %s\nSource: %s\n"
	             "Client-Ip: %s\nReceived: %s\n%s%s%s%s%s%s\n",
	             action, item->domain, item->hostname, item->username, item->source,
	             item->client_ip, item->received, item->changed[0] ? "Changed: " : "",
	             item->changed, item->changed[0] ? "\n" : "", item->serial[0] ? "Serial: " : "",
	             item->serial, item->serial[0] ? "\n" : "");
	if (n < 0 || (size_t)n >= bufsz || (size_t)n > SPOOL_HEADER_MAX)
		return ZD_ENAMETOOLONG;
	if (len)
		*len = (size_t)n;
	return 0;
}

enum {
	SH_ACTION, SH_DOMAIN, SH_HOSTNAME, SH_USERNAME, SH_SOURCE, SH_CLIENT_IP,
	SH_RECEIVED, SH_CHANGED, SH_SERIAL, SH_COUNT
};

/* offset and size of a char[] field of struct spool_item */
#define SH_FIELD(f) offsetof(struct spool_item, f), sizeof ((struct spool_item *)0)->f

static const struct {
	const char *name;
	size_t off;     /* field in struct spool_item (Action: handled apart) */
	size_t size;
} spool_headers[SH_COUNT] = {
	[SH_ACTION] = { "Action", 0, 0 },
	[SH_DOMAIN] = { "Domain", SH_FIELD(domain) },
	[SH_HOSTNAME] = { "Hostname", SH_FIELD(hostname) },
	[SH_USERNAME] = { "Username", SH_FIELD(username) },
	[SH_SOURCE] = { "Source", SH_FIELD(source) },
	[SH_CLIENT_IP] = { "Client-Ip", SH_FIELD(client_ip) },
	[SH_RECEIVED] = { "Received", SH_FIELD(received) },
	[SH_CHANGED] = { "Changed", SH_FIELD(changed) },
	[SH_SERIAL] = { "Serial", SH_FIELD(serial) },
};

int spool_item_parse(const char *buf, size_t len, struct spool_item *item, struct zd_err *err)
{
	size_t pos = 0, lineno = 0, body;
	int seen[SH_COUNT] = { 0 };
	char action[16] = "";
	int rc = 0, h;

	memset(item, 0, sizeof *item);
	for (;;) {
		const char *line = buf + pos, *nl, *colon, *val;
		size_t llen, nlen, vlen;

		if (pos >= len) {
			rc = zd_err_set(err, ZD_EINVAL, "header line %zu: no blank line before the body",
			                lineno + 1);
			goto out;
		}
		nl = memchr(line, '\n', len - pos);
		if (nl == NULL) {
			rc = zd_err_set(err, ZD_EINVAL, "header line %zu: truncated (no newline)",
			                lineno + 1);
			goto out;
		}
		lineno++;
		llen = (size_t)(nl - line);
		pos += llen + 1;
		if (pos > SPOOL_HEADER_MAX) {
			rc = zd_err_set(err, ZD_E2BIG, "header longer than %d bytes", SPOOL_HEADER_MAX);
			goto out;
		}
		if (llen == 0)
			break;   /* the blank line: the body follows */
		colon = memchr(line, ':', llen);
		if (colon == NULL) {
			rc = zd_err_set(err, ZD_EINVAL, "header line %zu: no ':'", lineno);
			goto out;
		}
		nlen = (size_t)(colon - line);
		for (h = 0; h < SH_COUNT; h++)
			if (strlen(spool_headers[h].name) == nlen &&
			    memcmp(spool_headers[h].name, line, nlen) == 0)
				break;
		if (h == SH_COUNT) {
			char safe[64];
			str_safe(safe, sizeof safe, line, nlen);
			rc = zd_err_set(err, ZD_EINVAL, "header line %zu: unknown header \"%s\"", lineno,
			                safe);
			goto out;
		}
		if (seen[h]++) {
			rc = zd_err_set(err, ZD_EINVAL, "header line %zu: %s given twice", lineno,
			                spool_headers[h].name);
			goto out;
		}
		/* "Name: value" or "Name:" (empty value) */
		val = colon + 1;
		vlen = llen - nlen - 1;
		if (vlen > 0) {
			if (*val != ' ') {
				rc = zd_err_set(err, ZD_EINVAL, "header line %zu: no space after ':'",
				                lineno);
				goto out;
			}
			val++;
			vlen--;
		}
		for (size_t i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)val[i];
			if (c < 0x20 || c >= 0x7f) {
				rc = zd_err_set(err, ZD_EINVAL,
				                "header line %zu: %s holds a control or non-ASCII byte",
				                lineno, spool_headers[h].name);
				goto out;
			}
		}
		if (h == SH_ACTION) {
			if (vlen >= sizeof action) {
				rc = zd_err_set(err, ZD_EINVAL, "header line %zu: unknown action", lineno);
				goto out;
			}
			memcpy(action, val, vlen);
			action[vlen] = '\0';
		} else {
			char *field = (char *)item + spool_headers[h].off;
			if (vlen >= spool_headers[h].size) {
				rc = zd_err_set(err, ZD_EINVAL, "header line %zu: %s too long", lineno,
				                spool_headers[h].name);
				goto out;
			}
			memcpy(field, val, vlen);
			field[vlen] = '\0';
		}
	}
	if (!seen[SH_ACTION] || !seen[SH_DOMAIN] || !seen[SH_SOURCE] || !seen[SH_RECEIVED]) {
		rc = zd_err_set(err, ZD_EINVAL, "missing header %s",
		                !seen[SH_ACTION] ? "Action" : !seen[SH_DOMAIN] ? "Domain" :
		                !seen[SH_SOURCE] ? "Source" : "Received");
		goto out;
	}
	if (strcmp(action, "rawsave") == 0) {
		item->action = SPOOL_RAWSAVE;
	} else if (strcmp(action, "delete") == 0) {
		item->action = SPOOL_DELETE;
	} else {
		char safe[64];
		rc = zd_err_set(err, ZD_EINVAL, "unknown action \"%s\"",
		                str_safe(safe, sizeof safe, action, strlen(action)));
		goto out;
	}
	body = pos;
	/* a delete carries no zone text: whatever follows its header is ignored */
	if (item->action == SPOOL_RAWSAVE && len > body) {
		item->text = malloc(len - body + 1);
		if (item->text == NULL) {
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(item->text, buf + body, len - body);
		item->text[len - body] = '\0';
		item->text_len = len - body;
	}
	rc = spool_item_validate(item, err);
out:
	if (rc != 0)
		spool_item_clear(item);
	return rc;
}

void spool_item_clear(struct spool_item *item)
{
	if (item == NULL)
		return;
	free(item->text);
	item->text = NULL;
	item->text_len = 0;
}

/* "spool_dir/sub/name" with the truncation check. */
static int spool_path(char *out, size_t outsz, const char *spool_dir, const char *sub,
                      const char *name, struct zd_err *err)
{
	int n;

	if (name != NULL)
		n = snprintf(out, outsz, "%s/%s/%s", spool_dir, sub, name);
	else
		n = snprintf(out, outsz, "%s/%s", spool_dir, sub);
	if (n < 0 || (size_t)n >= outsz)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s/%s", spool_dir, sub);
	return 0;
}

/* A name the spool functions may touch: no path, no dotfile. */
static int spool_name_safe(const char *name, struct zd_err *err)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
	    strlen(name) >= SPOOL_NAME_MAX)
		return zd_err_set(err, ZD_EINVAL, "not a spool item name");
	return 0;
}

int spool_item_read(const char *spool_dir, const char *sub, const char *name,
                    struct spool_item *item, struct zd_err *err)
{
	char path[ZD_PATH_MAX], *buf = NULL;
	size_t len = 0;
	int rc;

	memset(item, 0, sizeof *item);
	if ((rc = spool_name_safe(name, err)) != 0)
		goto out;
	if ((rc = spool_path(path, sizeof path, spool_dir, sub, name, err)) != 0)
		goto out;
	if ((rc = file_read_all(path, 0, &buf, &len, err)) != 0)
		goto out;
	if ((rc = spool_item_parse(buf, len, item, err)) != 0)
		goto out;
	str_copy(item->name, name, sizeof item->name);
	if (spool_name_parse(name, &item->sec, &item->usec, NULL, NULL) != 0) {
		/* a foreign name: order by its Received stamp */
		item->sec = time_iso_parse(item->received);
		item->usec = 0;
	}
out:
	free(buf);
	return rc;
}

/* ---- delivery ---- */

static int spool_tmp_open_named(struct spool_tmp *t, const char *spool_dir, const char *name,
                                struct zd_err *err)
{
	int tries, rc = 0;

	memset(t, 0, sizeof *t);
	t->fd = -1;
	for (tries = 0; tries < SPOOL_OPEN_TRIES; tries++) {
		if (name != NULL) {
			if ((rc = spool_name_safe(name, err)) != 0)
				return rc;
			str_copy(t->name, name, sizeof t->name);
			if (spool_name_parse(name, &t->sec, &t->usec, NULL, NULL) != 0) {
				struct timeval tv;
				gettimeofday(&tv, NULL);
				t->sec = (int64_t)tv.tv_sec;
				t->usec = (long)tv.tv_usec;
			}
		} else if (spool_name_new(t->name, sizeof t->name, &t->sec, &t->usec) != 0) {
			return zd_err_set(err, ZD_ENAMETOOLONG, "spool name too long");
		}
		if ((rc = spool_path(t->tmp_path, sizeof t->tmp_path, spool_dir, "tmp", t->name, err)) ||
		    (rc = spool_path(t->new_path, sizeof t->new_path, spool_dir, "new", t->name, err)) ||
		    (rc = spool_path(t->new_dir, sizeof t->new_dir, spool_dir, "new", NULL, err)))
			return rc;
		t->fd = open(t->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (t->fd >= 0)
			break;
		if (errno != EEXIST || name != NULL)
			return zd_err_sys(err, errno == ENOSPC || errno == EDQUOT ? ZD_ENOSPC :
			                  errno == EEXIST ? ZD_EEXIST : ZD_EIO, "create %s", t->tmp_path);
	}
	if (t->fd < 0)
		return zd_err_set(err, ZD_EEXIST, "no unique name in %s/tmp", spool_dir);
	/* the umask must not take the group's read bit: the drain reads as the group */
	if (fchmod(t->fd, 0640) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "chmod %s", t->tmp_path);
		spool_tmp_abort(t);
		return rc;
	}
	return 0;
}

int spool_tmp_open(struct spool_tmp *t, const char *spool_dir, struct zd_err *err)
{
	return spool_tmp_open_named(t, spool_dir, NULL, err);
}

int spool_tmp_write(struct spool_tmp *t, const void *buf, size_t len, struct zd_err *err)
{
	const char *p = buf;

	if (t->fd < 0)
		return zd_err_set(err, ZD_EINVAL, "spool item not open");
	while (len > 0) {
		ssize_t w = write(t->fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return zd_err_sys(err, errno == ENOSPC || errno == EDQUOT ? ZD_ENOSPC : ZD_EIO,
			                  "write %s", t->tmp_path);
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int spool_tmp_commit(struct spool_tmp *t, struct zd_err *err)
{
	int rc = 0, fd = t->fd;

	if (fd < 0)
		return zd_err_set(err, ZD_EINVAL, "spool item not open");
	/* fsync before rename, or a crash could leave an empty item in new/ */
	if (fsync(fd) < 0) {
		rc = zd_err_sys(err, errno == ENOSPC || errno == EDQUOT ? ZD_ENOSPC : ZD_EIO,
		                "fsync %s", t->tmp_path);
		goto fail;
	}
	t->fd = -1;
	if (close(fd) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "close %s", t->tmp_path);
		goto fail;
	}
	if (rename(t->tmp_path, t->new_path) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "rename %s into new/", t->tmp_path);
		goto fail;
	}
	t->tmp_path[0] = '\0';
	/* the item exists once new/ itself is on disk */
	return fsync_dir(t->new_dir, 1, err);
fail:
	spool_tmp_abort(t);
	return rc;
}

void spool_tmp_abort(struct spool_tmp *t)
{
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	if (t->tmp_path[0] != '\0') {
		unlink(t->tmp_path);
		t->tmp_path[0] = '\0';
	}
}

int spool_deliver(const char *spool_dir, struct spool_item *item, struct zd_err *err)
{
	struct spool_tmp t;
	char hdr[SPOOL_HEADER_MAX + 1];
	size_t hlen = 0;
	int rc, opened = 0;

	rc = spool_tmp_open_named(&t, spool_dir, item->name[0] ? item->name : NULL, err);
	if (rc != 0)
		goto out;
	opened = 1;
	str_copy(item->name, t.name, sizeof item->name);
	item->sec = t.sec;
	item->usec = t.usec;
	if (item->received[0] == '\0')
		time_iso(item->received, sizeof item->received, t.sec, t.usec);
	/* validate before writing: never spool an item the drain would reject */
	if ((rc = spool_item_validate(item, err)) != 0)
		goto out;
	if ((rc = spool_header_format(item, hdr, sizeof hdr, &hlen)) != 0) {
		rc = zd_err_set(err, rc, "cannot format the item header");
		goto out;
	}
	if ((rc = spool_tmp_write(&t, hdr, hlen, err)) != 0)
		goto out;
	if (item->action == SPOOL_RAWSAVE &&
	    (rc = spool_tmp_write(&t, item->text, item->text_len, err)) != 0)
		goto out;
	opened = 0;
	rc = spool_tmp_commit(&t, err);
out:
	if (opened)
		spool_tmp_abort(&t);
	return rc;
}

/* ---- listing, moving, locking ---- */

/* Entries a reader of sub must skip: dotfiles, and in bad/ the .why notes
 * (and their temp files) that sit beside rejected items. */
static int spool_skip(const char *sub, const char *name)
{
	size_t n;

	if (name[0] == '.')
		return 1;
	if (strcmp(sub, "bad") == 0) {
		n = strlen(name);
		if ((n > 4 && strcmp(name + n - 4, ".why") == 0) || strstr(name, ".why.tmp.") != NULL)
			return 1;
	}
	return 0;
}

/* Call fn for every item name in sub (dot files and bad/'s notes skipped),
 * in directory order. fn returns 0, or an error code (err set) that stops
 * the walk and is returned. */
typedef int (*spool_walk_fn)(DIR *d, const char *name, void *arg, struct zd_err *err);

static int spool_walk(const char *spool_dir, const char *sub, spool_walk_fn fn, void *arg,
                      struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	DIR *d;
	struct dirent *de;
	int rc;

	if ((rc = spool_path(path, sizeof path, spool_dir, sub, NULL, err)) != 0)
		return rc;
	d = opendir(path);
	if (d == NULL)
		return zd_err_sys(err, errno == ENOENT ? ZD_ENOENT : ZD_EIO, "open %s", path);
	for (;;) {
		/* errno = 0 first, or an I/O error would look like the end of the spool */
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = zd_err_sys(err, ZD_EIO, "read %s", path);
			break;
		}
		if (spool_skip(sub, de->d_name))
			continue;
		if ((rc = fn(d, de->d_name, arg, err)) != 0)
			break;
	}
	closedir(d);
	return rc;
}

struct spool_list_walk {
	struct spool_key *keys;
	size_t cnt, cap;
	const char *sub;
};

static int spool_list_one(DIR *d, const char *name, void *arg, struct zd_err *err)
{
	struct spool_list_walk *w = arg;

	(void)d;
	if (w->cnt == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		struct spool_key *nk = realloc(w->keys, ncap * sizeof *nk);
		if (nk == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory listing %s/", w->sub);
		w->keys = nk;
		w->cap = ncap;
	}
	w->keys[w->cnt].name = strdup(name);
	if (w->keys[w->cnt].name == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory listing %s/", w->sub);
	spool_key_make(&w->keys[w->cnt], w->keys[w->cnt].name);
	w->cnt++;
	return 0;
}

int spool_list(const char *spool_dir, const char *sub, char ***names, size_t *n,
               struct zd_err *err)
{
	struct spool_list_walk w = { NULL, 0, 0, sub };
	char **out = NULL;
	size_t i;
	int rc;

	*names = NULL;
	*n = 0;
	if ((rc = spool_walk(spool_dir, sub, spool_list_one, &w, err)) != 0)
		goto out;
	if (w.cnt > 0)
		qsort(w.keys, w.cnt, sizeof *w.keys, spool_key_cmp);
	out = malloc((w.cnt ? w.cnt : 1) * sizeof *out);
	if (out == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory listing %s/", sub);
		goto out;
	}
	for (i = 0; i < w.cnt; i++) {
		out[i] = w.keys[i].name;
		w.keys[i].name = NULL;
	}
	*names = out;
	*n = w.cnt;
out:
	if (w.keys != NULL) {
		for (i = 0; i < w.cnt; i++)
			free(w.keys[i].name);
		free(w.keys);
	}
	return rc;
}

void spool_names_free(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int spool_move(const char *spool_dir, const char *from, const char *to, const char *name,
               struct zd_err *err)
{
	char src[ZD_PATH_MAX], dst[ZD_PATH_MAX], dir[ZD_PATH_MAX];
	int rc;

	if ((rc = spool_name_safe(name, err)) != 0)
		return rc;
	if ((rc = spool_path(src, sizeof src, spool_dir, from, name, err)) != 0 ||
	    (rc = spool_path(dst, sizeof dst, spool_dir, to, name, err)) != 0 ||
	    (rc = spool_path(dir, sizeof dir, spool_dir, to, NULL, err)) != 0)
		return rc;
	if (rename(src, dst) < 0)
		return zd_err_sys(err, errno == ENOENT ? ZD_ENOENT : ZD_EIO, "rename %s to %s/", src,
		                  to);
	return fsync_dir(dir, 1, err);
}

int spool_remove(const char *spool_dir, const char *sub, const char *name, struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	int rc;

	if ((rc = spool_name_safe(name, err)) != 0)
		return rc;
	if ((rc = spool_path(path, sizeof path, spool_dir, sub, name, err)) != 0)
		return rc;
	if (unlink(path) < 0)
		return zd_err_sys(err, errno == ENOENT ? ZD_ENOENT : ZD_EIO, "remove %s", path);
	return 0;
}

int spool_reject(const char *spool_dir, const char *sub, const char *name, const char *why,
                 struct zd_err *err)
{
	char path[ZD_PATH_MAX], whyname[SPOOL_NAME_MAX + 8], line[ZD_ERR_MSG_MAX + 2];
	size_t len;
	int rc, n;

	if ((rc = spool_name_safe(name, err)) != 0)
		return rc;
	n = snprintf(whyname, sizeof whyname, "%s.why", name);
	if (n < 0 || (size_t)n >= sizeof whyname)
		return zd_err_set(err, ZD_ENAMETOOLONG, "name too long: %s", name);
	if ((rc = spool_path(path, sizeof path, spool_dir, "bad", whyname, err)) != 0)
		return rc;
	/* one safe line: the reason may quote the item's own bytes */
	str_safe(line, sizeof line - 1, why ? why : "", why ? strlen(why) : 0);
	len = strlen(line);
	line[len++] = '\n';
	line[len] = '\0';
	/* the note first: a crash between the two leaves the item where it was,
	 * and the next drain rejects it again and rewrites the note */
	if ((rc = file_write_atomic(path, line, len, 0640, err)) != 0)
		return rc;
	return spool_move(spool_dir, sub, "bad", name, err);
}

int spool_clean_tmp(const char *spool_dir, int64_t max_age, size_t *removed, struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	DIR *d = NULL;
	struct dirent *de;
	struct stat sb;
	int64_t now = time_now();
	size_t cnt = 0;
	int rc = 0, dfd;

	if ((rc = spool_path(path, sizeof path, spool_dir, "tmp", NULL, err)) != 0)
		goto out;
	d = opendir(path);
	if (d == NULL) {
		rc = zd_err_sys(err, errno == ENOENT ? ZD_ENOENT : ZD_EIO, "open %s", path);
		goto out;
	}
	dfd = dirfd(d);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = zd_err_sys(err, ZD_EIO, "read %s", path);
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
			continue;
		if (now - (int64_t)sb.st_mtime <= max_age)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			cnt++;
		else if (errno != ENOENT && rc == 0)
			rc = zd_err_sys(err, ZD_EIO, "remove %s/%s", path, de->d_name);
	}
out:
	if (d != NULL)
		closedir(d);
	if (removed)
		*removed = cnt;
	return rc;
}

int spool_lock(const char *spool_dir, int *fd, struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	int rc, lfd;

	*fd = -1;
	if ((rc = spool_path(path, sizeof path, spool_dir, ".lock", NULL, err)) != 0)
		return rc;
	lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lfd < 0)
		return zd_err_sys(err, ZD_EIO, "open %s", path);
	while (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			rc = zd_err_set(err, ZD_EBUSY, "%s is held by another process", path);
		else
			rc = zd_err_sys(err, ZD_EIO, "lock %s", path);
		close(lfd);
		return rc;
	}
	*fd = lfd;
	return 0;
}

void spool_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

struct spool_count_walk {
	size_t cnt;
	int64_t oldest;
};

static int spool_count_one(DIR *d, const char *name, void *arg, struct zd_err *err)
{
	struct spool_count_walk *w = arg;
	struct stat sb;
	int64_t t;

	(void)err;
	w->cnt++;
	/* the name carries the arrival time; stat only foreign names */
	if (spool_name_parse(name, &t, NULL, NULL, NULL) != 0) {
		if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return 0;
		t = (int64_t)sb.st_mtime;
	}
	if (w->oldest < 0 || t < w->oldest)
		w->oldest = t;
	return 0;
}

int spool_count(const char *spool_dir, const char *sub, size_t *n, int64_t *oldest_age,
                struct zd_err *err)
{
	struct spool_count_walk w = { 0, -1 };
	int64_t now = time_now();
	int rc;

	*n = 0;
	if (oldest_age)
		*oldest_age = 0;
	if ((rc = spool_walk(spool_dir, sub, spool_count_one, &w, err)) != 0)
		return rc;
	*n = w.cnt;
	if (oldest_age && w.oldest >= 0)
		*oldest_age = now > w.oldest ? now - w.oldest : 0;
	return 0;
}
