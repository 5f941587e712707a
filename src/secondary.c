/* secondary.c -- the secondary zone list (zones_file) and its refresh state in state.db
 *
 * The list is the zones_file named by secondary.zones_file: the operator's
 * file, edited by `zonedrop secondary add|del` with a temp file + rename, so
 * the file stays the one source of truth and can be kept in configuration
 * management. The refresh state lives beside the desired state in state.db,
 * in tables this module creates (IF NOT EXISTS: no store schema version is
 * spent on them, and the drain never touches them). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "zonedrop/domain.h"
#include "zonedrop/secondary.h"
#include "zonedrop/util.h"

/* ---- zones_file parsing ---- */

struct sec_hash {
	uint32_t *slot;          /* index + 1 into list->e, 0 empty */
	size_t cap;
};

static uint32_t sec_fnv(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int sec_hash_grow(struct sec_hash *h, const struct secondary_list *l)
{
	size_t ncap = h->cap ? h->cap * 2 : 1024, i;
	uint32_t *ns = calloc(ncap, sizeof *ns);

	if (ns == NULL)
		return ZD_ENOMEM;
	for (i = 0; i < l->n; i++) {
		size_t k = sec_fnv(l->e[i].domain) & (ncap - 1);
		while (ns[k] != 0)
			k = (k + 1) & (ncap - 1);
		ns[k] = (uint32_t)i + 1;
	}
	free(h->slot);
	h->slot = ns;
	h->cap = ncap;
	return 0;
}

/* The line already holding domain, or 0; with add, remember index idx. */
static int sec_hash_find(struct sec_hash *h, const struct secondary_list *l, const char *domain)
{
	size_t k;

	if (h->cap == 0)
		return 0;
	for (k = sec_fnv(domain) & (h->cap - 1); h->slot[k] != 0; k = (k + 1) & (h->cap - 1))
		if (strcmp(l->e[h->slot[k] - 1].domain, domain) == 0)
			return l->e[h->slot[k] - 1].line;
	return 0;
}

static int sec_hash_add(struct sec_hash *h, const struct secondary_list *l, size_t idx)
{
	size_t k;
	int rc;

	if ((l->n + 1) * 2 > h->cap && (rc = sec_hash_grow(h, l)) != 0)
		return rc;
	for (k = sec_fnv(l->e[idx].domain) & (h->cap - 1); h->slot[k] != 0; k = (k + 1) & (h->cap - 1))
		;
	h->slot[k] = (uint32_t)idx + 1;
	return 0;
}

int secondary_master_parse(const char *s, char *host, size_t hostsz, int *port)
{
	char buf[SECONDARY_MASTER_MAX];
	const char *h = s, *p = NULL;
	unsigned char addr[16];
	uint64_t v;
	size_t hl;

	if (s == NULL || strlen(s) >= sizeof buf)
		return ZD_EINVAL;
	*port = 53;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL)
			return ZD_EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != '\0')
			return ZD_EINVAL;
	} else {
		const char *c = strchr(s, ':');

		if (c != NULL && strchr(c + 1, ':') == NULL) {
			hl = (size_t)(c - s);
			p = c + 1;
		} else {
			hl = strlen(s);   /* bare IPv6 (several colons) or IPv4 without port */
		}
	}
	if (hl == 0 || hl >= hostsz || hl >= sizeof buf)
		return ZD_EINVAL;
	memcpy(buf, h, hl);
	buf[hl] = '\0';
	if (inet_pton(AF_INET, buf, addr) != 1 && inet_pton(AF_INET6, buf, addr) != 1)
		return ZD_EINVAL;
	if (s[0] == '[' && strchr(buf, ':') == NULL)
		return ZD_EINVAL;   /* brackets are for IPv6 */
	if (p != NULL) {
		if (parse_u64(p, 65535, &v) != 0 || v == 0)
			return ZD_EINVAL;
		*port = (int)v;
	}
	memcpy(host, buf, hl + 1);
	return 0;
}

void secondary_master_format(char *out, size_t outsz, const char *host, int port)
{
	if (strchr(host, ':') != NULL)
		snprintf(out, outsz, "[%s]:%d", host, port);
	else
		snprintf(out, outsz, "%s:%d", host, port);
}

static int sec_key_ok(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n >= SECONDARY_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '.' && k[i] != '-' && k[i] != '_')
			return 0;
	return 1;
}

/* Split one line (NUL-terminated, comment removed) into at most 4 words. */
static size_t sec_words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return max + 1;
		w[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

/* Fill e from a line; 0, or ZD_EINVAL with why. */
static int sec_line(char *line, int lineno, struct secondary_entry *e, char *why, size_t whysz)
{
	char *w[4], safe[128];
	size_t n, dl;
	struct zd_err de;

	memset(e, 0, sizeof *e);
	e->line = lineno;
	n = sec_words(line, w, 3);
	if (n == 0)
		return 1;   /* blank */
	if (n < 2 || n > 3) {
		snprintf(why, whysz, "expected \"domain master[:port] [tsig-key]\", got %zu field(s)",
		         n > 3 ? (size_t)4 : n);
		return ZD_EINVAL;
	}
	dl = strlen(w[0]);
	if (dl > 1 && w[0][dl - 1] == '.')
		w[0][--dl] = '\0';
	for (char *c = w[0]; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (dl >= sizeof e->domain || domain_check(w[0], &de) != 0) {
		snprintf(why, whysz, "domain \"%s\": %.200s", str_safe(safe, sizeof safe, w[0], dl),
		         dl >= sizeof e->domain ? "too long" : de.msg);
		return ZD_EINVAL;
	}
	memcpy(e->domain, w[0], dl + 1);
	if (secondary_master_parse(w[1], e->host, sizeof e->host, &e->port) != 0) {
		snprintf(why, whysz, "master \"%s\": not an IP address with an optional :port",
		         str_safe(safe, sizeof safe, w[1], strlen(w[1])));
		return ZD_EINVAL;
	}
	if (n == 3) {
		if (!sec_key_ok(w[2])) {
			snprintf(why, whysz, "tsig key name \"%s\": only letters, digits, '.', '-', '_'",
			         str_safe(safe, sizeof safe, w[2], strlen(w[2])));
			return ZD_EINVAL;
		}
		str_copy(e->key, w[2], sizeof e->key);
	}
	return 0;
}

/* The lines of a zones_file, one each(e, each_arg) per good line (see
 * secondary_parse_each); refused lines go to fn(msg, fn_arg). */
static int sec_parse_lines(const char *buf, size_t len,
                           int (*each)(const struct secondary_entry *e, void *arg), void *each_arg,
                           void (*fn)(const char *msg, void *arg), void *fn_arg, size_t *errors)
{
	size_t pos = 0;
	int lineno = 0, rc = 0;
	char line[SECONDARY_LINE_MAX + 1], why[400], msg[480];

	*errors = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos, k;
		struct secondary_entry e;
		char *hash;
		int r;

		lineno++;
		if (ll > SECONDARY_LINE_MAX || memchr(buf + pos, '\0', ll) != NULL) {
			snprintf(why, sizeof why, "%s", ll > SECONDARY_LINE_MAX ? "line too long"
			                                                         : "NUL byte in line");
			r = ZD_EINVAL;
		} else {
			memcpy(line, buf + pos, ll);
			line[ll] = '\0';
			if ((hash = strchr(line, '#')) != NULL)
				*hash = '\0';
			for (k = 0; k < ll && line[k]; k++)
				if ((unsigned char)line[k] < 0x20 && line[k] != '\t' && line[k] != '\r')
					break;
			if (k < ll && line[k] != '\0') {
				snprintf(why, sizeof why, "control byte in line");
				r = ZD_EINVAL;
			} else {
				r = sec_line(line, lineno, &e, why, sizeof why);
			}
		}
		pos += ll + (nl ? 1 : 0);
		if (r == 1)
			continue;
		if (r == 0 && (r = each(&e, each_arg)) < 0) {
			rc = r;
			break;
		}
		if (r > 0)   /* each() names the line that listed the domain first */
			snprintf(why, sizeof why, "%s is already listed on line %d", e.domain, r);
		if (r != 0) {
			(*errors)++;
			if (fn != NULL) {
				snprintf(msg, sizeof msg, "line %d: %s", lineno, why);
				fn(msg, fn_arg);
			}
		}
	}
	return rc;
}

int secondary_parse_each(const char *buf, size_t len,
                         int (*each)(const struct secondary_entry *e, void *arg),
                         void (*fn)(const char *msg, void *arg), void *arg, size_t *errors)
{
	return sec_parse_lines(buf, len, each, arg, fn, arg, errors);
}

struct sec_collect {
	struct secondary_list *list;
	struct sec_hash h;
	size_t cap;
};

static int sec_collect_one(const struct secondary_entry *e, void *arg)
{
	struct sec_collect *c = arg;
	struct secondary_list *list = c->list;
	int dup;

	if ((dup = sec_hash_find(&c->h, list, e->domain)) != 0)
		return dup;
	if (list->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct secondary_entry *ne = realloc(list->e, ncap * sizeof *ne);

		if (ne == NULL)
			return ZD_ENOMEM;
		list->e = ne;
		c->cap = ncap;
	}
	list->e[list->n] = *e;
	if (sec_hash_add(&c->h, list, list->n) != 0)
		return ZD_ENOMEM;
	list->n++;
	return 0;
}

int secondary_parse(const char *buf, size_t len, struct secondary_list *list,
                    void (*fn)(const char *msg, void *arg), void *arg)
{
	struct sec_collect c;
	int rc;

	memset(list, 0, sizeof *list);
	memset(&c, 0, sizeof c);
	c.list = list;
	rc = sec_parse_lines(buf, len, sec_collect_one, &c, fn, arg, &list->errors);
	free(c.h.slot);
	if (rc != 0)
		secondary_list_free(list);
	return rc;
}

int secondary_load(const char *path, struct secondary_list *list,
                   void (*fn)(const char *msg, void *arg), void *arg, struct zd_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(list, 0, sizeof *list);
	rc = file_read_all(path, 256u << 20, &buf, &len, err);
	if (rc != 0) {
		if (rc == ZD_ENOENT || (err != NULL && err->sys_errno == ENOENT))
			return zd_err_set(err, ZD_ENOENT, "%s: no such file", path);
		return rc;
	}
	rc = secondary_parse(buf, len, list, fn, arg);
	free(buf);
	if (rc != 0)
		return zd_err_set(err, rc, "%s: out of memory", path);
	return 0;
}

void secondary_list_free(struct secondary_list *list)
{
	free(list->e);
	memset(list, 0, sizeof *list);
}

/* ---- zones_file editing ---- */

/* The domain a raw line names (first word, folded), or "" for blank/comment. */
static void sec_line_domain(const char *p, size_t ll, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	while (i < ll && (p[i] == ' ' || p[i] == '\t'))
		i++;
	while (i < ll && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '#' && o + 1 < outsz)
		out[o++] = (char)tolower((unsigned char)p[i++]);
	if (o > 1 && out[o - 1] == '.')
		o--;
	out[o] = '\0';
}

/* Rewrite path without the line of domain and, when add is given, with add
 * in its place (or appended). *found: the domain was listed. */
static int sec_edit(const char *path, const char *domain, const char *add, int *found,
                    struct zd_err *err)
{
	char *buf = NULL, *out = NULL, d[256];
	size_t len = 0, pos = 0, o = 0, alen = add ? strlen(add) : 0;
	struct stat sb;
	mode_t mode = 0644;
	int rc;

	*found = 0;
	rc = file_read_all(path, 256u << 20, &buf, &len, err);
	if (rc != 0) {
		if (!(rc == ZD_ENOENT || (err != NULL && err->sys_errno == ENOENT)) || add == NULL)
			return rc == ZD_ENOENT || (err && err->sys_errno == ENOENT)
			       ? zd_err_set(err, ZD_ENOENT, "%s: no such file", path) : rc;
		zd_err_clear(err);
		buf = NULL;
		len = 0;
	} else if (stat(path, &sb) == 0) {
		mode = sb.st_mode & 07777;
	}
	out = malloc(len + alen + 2);
	if (out == NULL) {
		free(buf);
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		sec_line_domain(buf + pos, ll, d, sizeof d);
		if (strcmp(d, domain) == 0) {
			if (add != NULL && !*found) {
				memcpy(out + o, add, alen);
				o += alen;
				out[o++] = '\n';
			}
			*found = 1;
		} else {
			memcpy(out + o, buf + pos, ll);
			o += ll;
			out[o++] = '\n';
		}
		pos += ll + (nl ? 1 : 0);
	}
	if (add != NULL && !*found) {
		memcpy(out + o, add, alen);
		o += alen;
		out[o++] = '\n';
	}
	rc = 0;
	if (add != NULL || *found)
		rc = file_write_atomic(path, out, o, mode, err);
	free(buf);
	free(out);
	return rc;
}

int secondary_file_add(const char *path, const struct secondary_entry *e, int replace,
                       struct zd_err *err)
{
	struct secondary_list l;
	char line[SECONDARY_LINE_MAX], master[SECONDARY_MASTER_MAX];
	size_t i;
	int rc, found;

	rc = secondary_load(path, &l, NULL, NULL, err);
	if (rc != 0 && rc != ZD_ENOENT)
		return rc;
	zd_err_clear(err);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.e[i].domain, e->domain) == 0)
			break;
	if (i < l.n && !replace) {
		rc = zd_err_set(err, ZD_EEXIST, "%s is already listed in %s (line %d)", e->domain, path,
		                l.e[i].line);
		secondary_list_free(&l);
		return rc;
	}
	secondary_list_free(&l);
	secondary_master_format(master, sizeof master, e->host, e->port);
	snprintf(line, sizeof line, "%s %s%s%s", e->domain, master, e->key[0] ? " " : "", e->key);
	return sec_edit(path, e->domain, line, &found, err);
}

int secondary_file_del(const char *path, const char *domain, struct zd_err *err)
{
	int rc, found;

	rc = sec_edit(path, domain, NULL, &found, err);
	if (rc != 0)
		return rc;
	if (!found)
		return zd_err_set(err, ZD_ENOENT, "%s is not listed in %s", domain, path);
	return 0;
}

/* ---- state ---- */

static const char sec_schema[] =
	"CREATE TABLE IF NOT EXISTS secondary_zones ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" master TEXT NOT NULL DEFAULT '',"
	" key    TEXT NOT NULL DEFAULT '',"
	" have_serial INTEGER NOT NULL DEFAULT 0,"
	" serial  INTEGER NOT NULL DEFAULT 0,"
	" refresh INTEGER NOT NULL DEFAULT 0,"
	" retry   INTEGER NOT NULL DEFAULT 0,"
	" expire  INTEGER NOT NULL DEFAULT 0,"
	" last_check INTEGER NOT NULL DEFAULT 0,"
	" last_ok    INTEGER NOT NULL DEFAULT 0,"
	" next_due   INTEGER NOT NULL DEFAULT 0,"
	" failures   INTEGER NOT NULL DEFAULT 0,"
	" expire_at  INTEGER NOT NULL DEFAULT 0,"
	" withdrawn  INTEGER NOT NULL DEFAULT 0,"
	" pending_item TEXT NOT NULL DEFAULT '',"
	" pending_serial  INTEGER NOT NULL DEFAULT 0,"
	" pending_refresh INTEGER NOT NULL DEFAULT 0,"
	" pending_retry   INTEGER NOT NULL DEFAULT 0,"
	" pending_expire  INTEGER NOT NULL DEFAULT 0,"
	" transfers  INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT ''"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS secondary_masters ("
	" master TEXT PRIMARY KEY NOT NULL,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" backoff_until INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT ''"
	") WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS secondary_counters ("
	" name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

#define SCOLS "domain, master, key, have_serial, serial, refresh, retry, expire, last_check, " \
	"last_ok, next_due, failures, expire_at, withdrawn, pending_item, pending_serial, " \
	"pending_refresh, pending_retry, pending_expire, transfers, last_error"

static int sec_fail(sqlite3 *db, struct zd_err *err, const char *what)
{
	int ec = sqlite3_errcode(db);

	return zd_err_set(err, ec == SQLITE_BUSY || ec == SQLITE_LOCKED ? ZD_EBUSY : ZD_EDB,
	                  "state database: %s: %s", what, sqlite3_errmsg(db));
}

int secondary_db_init(struct store *st, struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	char *msg = NULL;
	int rc = 0;

	if (sqlite3_exec(db, sec_schema, NULL, NULL, &msg) != SQLITE_OK) {
		rc = zd_err_set(err, sqlite3_errcode(db) == SQLITE_BUSY ? ZD_EBUSY : ZD_EDB,
		                "state database: create secondary tables: %s", msg ? msg : "?");
		sqlite3_free(msg);
	}
	return rc;
}

static void sec_col(sqlite3_stmt *s, int c, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(s, c);

	str_copy(out, t ? (const char *)t : "", outsz);
}

static void sec_row(sqlite3_stmt *s, struct secondary_state *z)
{
	memset(z, 0, sizeof *z);
	sec_col(s, 0, z->domain, sizeof z->domain);
	sec_col(s, 1, z->master, sizeof z->master);
	sec_col(s, 2, z->key, sizeof z->key);
	z->have_serial = sqlite3_column_int(s, 3);
	z->serial = (uint32_t)sqlite3_column_int64(s, 4);
	z->refresh = (uint32_t)sqlite3_column_int64(s, 5);
	z->retry = (uint32_t)sqlite3_column_int64(s, 6);
	z->expire = (uint32_t)sqlite3_column_int64(s, 7);
	z->last_check = sqlite3_column_int64(s, 8);
	z->last_ok = sqlite3_column_int64(s, 9);
	z->next_due = sqlite3_column_int64(s, 10);
	z->failures = sqlite3_column_int(s, 11);
	z->expire_at = sqlite3_column_int64(s, 12);
	z->withdrawn = sqlite3_column_int(s, 13);
	sec_col(s, 14, z->pending_item, sizeof z->pending_item);
	z->pending_serial = (uint32_t)sqlite3_column_int64(s, 15);
	z->pending_refresh = (uint32_t)sqlite3_column_int64(s, 16);
	z->pending_retry = (uint32_t)sqlite3_column_int64(s, 17);
	z->pending_expire = (uint32_t)sqlite3_column_int64(s, 18);
	z->transfers = sqlite3_column_int64(s, 19);
	sec_col(s, 20, z->last_error, sizeof z->last_error);
}

int secondary_state_each(struct store *st, int (*fn)(const struct secondary_state *s, void *arg),
                         void *arg, struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	struct secondary_state z;
	int rc = 0, r;

	if (sqlite3_prepare_v2(db, "SELECT " SCOLS " FROM secondary_zones ORDER BY domain", -1, &s,
	                       NULL) != SQLITE_OK)
		/* no refresh ran yet: no state */
		return strstr(sqlite3_errmsg(db), "no such table") ? 0
		       : sec_fail(db, err, "list secondary zones");
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		sec_row(s, &z);
		if ((rc = fn(&z, arg)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = sec_fail(db, err, "list secondary zones");
	sqlite3_finalize(s);
	return rc;
}

int secondary_state_get(struct store *st, const char *domain, struct secondary_state *z,
                        struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	int rc = 0, r;

	if (sqlite3_prepare_v2(db, "SELECT " SCOLS " FROM secondary_zones WHERE domain = ?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return sec_fail(db, err, "read secondary zone");
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		sec_row(s, z);
	else if (r == SQLITE_DONE)
		rc = zd_err_set(err, ZD_ENOENT, "%s: no refresh state", domain);
	else
		rc = sec_fail(db, err, "read secondary zone");
	sqlite3_finalize(s);
	return rc;
}

/* One cached statement per kind for the handle in use: refresh writes
 * thousands of rows per run. secondary_release() finalizes them before the
 * store is closed (sqlite3_close refuses a handle with live statements). */
struct sec_cache {
	sqlite3 *db;
	sqlite3_stmt *put, *del, *cadd;
	sqlite3_stmt *ok, *fail, *xfr;   /* the refresher's per-zone updates */
};
static struct sec_cache sec_cache;

void secondary_release(struct store *st)
{
	if (st == NULL || sec_cache.db != store_sqlite(st))
		return;
	sqlite3_finalize(sec_cache.put);
	sqlite3_finalize(sec_cache.del);
	sqlite3_finalize(sec_cache.cadd);
	sqlite3_finalize(sec_cache.ok);
	sqlite3_finalize(sec_cache.fail);
	sqlite3_finalize(sec_cache.xfr);
	memset(&sec_cache, 0, sizeof sec_cache);
}

static sqlite3_stmt *sec_stmt(sqlite3 *db, sqlite3_stmt **slot, const char *sql)
{
	if (sec_cache.db != db) {
		/* another handle: the statements of the old one were released with it */
		memset(&sec_cache, 0, sizeof sec_cache);
		sec_cache.db = db;
	}
	if (*slot == NULL && sqlite3_prepare_v2(db, sql, -1, slot, NULL) != SQLITE_OK)
		*slot = NULL;
	return *slot;
}

int secondary_state_put(struct store *st, const struct secondary_state *z, struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = sec_stmt(db, &sec_cache.put,
		"INSERT OR REPLACE INTO secondary_zones (" SCOLS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,"
		"?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)");
	int rc = 0;

	if (s == NULL)
		return sec_fail(db, err, "write secondary zone");
	sqlite3_bind_text(s, 1, z->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, z->master, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, z->key, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, z->have_serial);
	sqlite3_bind_int64(s, 5, z->serial);
	sqlite3_bind_int64(s, 6, z->refresh);
	sqlite3_bind_int64(s, 7, z->retry);
	sqlite3_bind_int64(s, 8, z->expire);
	sqlite3_bind_int64(s, 9, z->last_check);
	sqlite3_bind_int64(s, 10, z->last_ok);
	sqlite3_bind_int64(s, 11, z->next_due);
	sqlite3_bind_int(s, 12, z->failures);
	sqlite3_bind_int64(s, 13, z->expire_at);
	sqlite3_bind_int(s, 14, z->withdrawn);
	sqlite3_bind_text(s, 15, z->pending_item, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 16, z->pending_serial);
	sqlite3_bind_int64(s, 17, z->pending_refresh);
	sqlite3_bind_int64(s, 18, z->pending_retry);
	sqlite3_bind_int64(s, 19, z->pending_expire);
	sqlite3_bind_int64(s, 20, z->transfers);
	sqlite3_bind_text(s, 21, z->last_error, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sec_fail(db, err, "write secondary zone");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int secondary_state_del(struct store *st, const char *domain, struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = sec_stmt(db, &sec_cache.del, "DELETE FROM secondary_zones WHERE domain = ?1");
	int rc = 0;

	if (s == NULL)
		return sec_fail(db, err, "delete secondary zone");
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sec_fail(db, err, "delete secondary zone");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int secondary_master_each(struct store *st,
                          int (*fn)(const struct secondary_master_state *m, void *arg), void *arg,
                          struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	struct secondary_master_state m;
	int rc = 0, r;

	if (sqlite3_prepare_v2(db, "SELECT master, failures, backoff_until, last_error"
	                       " FROM secondary_masters ORDER BY master", -1, &s, NULL) != SQLITE_OK)
		return sec_fail(db, err, "list masters");
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&m, 0, sizeof m);
		sec_col(s, 0, m.master, sizeof m.master);
		m.failures = sqlite3_column_int(s, 1);
		m.backoff_until = sqlite3_column_int64(s, 2);
		sec_col(s, 3, m.last_error, sizeof m.last_error);
		if ((rc = fn(&m, arg)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = sec_fail(db, err, "list masters");
	sqlite3_finalize(s);
	return rc;
}

int secondary_master_put(struct store *st, const struct secondary_master_state *m,
                         struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	int rc = 0;

	/* a master that answers again has no row: the table holds the troubled ones */
	if (sqlite3_prepare_v2(db, m->failures == 0 ? "DELETE FROM secondary_masters WHERE master = ?1"
	                       : "INSERT OR REPLACE INTO secondary_masters (master, failures,"
	                         " backoff_until, last_error) VALUES (?1, ?2, ?3, ?4)", -1, &s,
	                       NULL) != SQLITE_OK)
		return sec_fail(db, err, "write master");
	sqlite3_bind_text(s, 1, m->master, -1, SQLITE_STATIC);
	if (m->failures != 0) {
		sqlite3_bind_int(s, 2, m->failures);
		sqlite3_bind_int64(s, 3, m->backoff_until);
		sqlite3_bind_text(s, 4, m->last_error, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sec_fail(db, err, "write master");
	sqlite3_finalize(s);
	return rc;
}

int secondary_counter_add(struct store *st, const char *name, int64_t n, struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = sec_stmt(db, &sec_cache.cadd,
		"INSERT INTO secondary_counters (name, value) VALUES (?1, ?2)"
		" ON CONFLICT(name) DO UPDATE SET value = value + ?2");
	int rc = 0;

	if (s == NULL)
		return sec_fail(db, err, "count");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sec_fail(db, err, "count");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int secondary_counter_get(struct store *st, const char *name, int64_t *n, struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	int rc = 0, r;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM secondary_counters WHERE name = ?1", -1, &s,
	                       NULL) != SQLITE_OK)
		return strstr(sqlite3_errmsg(db), "no such table") ? 0 : sec_fail(db, err, "count");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else if (r != SQLITE_DONE)
		rc = sec_fail(db, err, "count");
	sqlite3_finalize(s);
	return rc;
}

/* The same classification as secondary_state_name(), in SQL. */
#define SEC_CLASS_SQL \
	"CASE WHEN withdrawn OR (have_serial AND expire_at > 0 AND expire_at <= ?1) THEN 'expired'" \
	" WHEN pending_item <> '' THEN 'pending'" \
	" WHEN failures > 0 THEN 'failing'" \
	" WHEN have_serial = 0 THEN 'new'" \
	" WHEN next_due <= ?1 THEN 'due' ELSE 'fresh' END"

const char *secondary_state_name(const struct secondary_state *s, int64_t now)
{
	if (s->withdrawn || (s->have_serial && s->expire_at > 0 && s->expire_at <= now))
		return "expired";
	if (s->pending_item[0] != '\0')
		return "pending";
	if (s->failures > 0)
		return "failing";
	if (!s->have_serial)
		return "new";
	return s->next_due <= now ? "due" : "fresh";
}

int secondary_counts(struct store *st, int64_t now, struct secondary_counts *c, struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	int rc = 0, r;

	memset(c, 0, sizeof *c);
	if (sqlite3_prepare_v2(db, "SELECT " SEC_CLASS_SQL " AS cls, COUNT(*) FROM secondary_zones"
	                       " GROUP BY cls", -1, &s, NULL) != SQLITE_OK)
		return strstr(sqlite3_errmsg(db), "no such table") ? 0 : sec_fail(db, err, "count");
	sqlite3_bind_int64(s, 1, now);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *cls = (const char *)sqlite3_column_text(s, 0);
		size_t n = (size_t)sqlite3_column_int64(s, 1);

		c->total += n;
		if (cls == NULL)
			continue;
		if (strcmp(cls, "expired") == 0)
			c->expired += n;
		else if (strcmp(cls, "pending") == 0)
			c->pending += n;
		else if (strcmp(cls, "failing") == 0)
			c->failing += n;
		else if (strcmp(cls, "fresh") == 0)
			c->fresh += n;
		else
			c->due += n;   /* due, new */
	}
	if (r != SQLITE_DONE)
		rc = sec_fail(db, err, "count");
	sqlite3_finalize(s);
	s = NULL;
	if (rc != 0)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT domain, last_ok FROM secondary_zones WHERE have_serial = 1"
	                       " ORDER BY last_ok, domain LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return sec_fail(db, err, "count");
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		sec_col(s, 0, c->oldest_domain, sizeof c->oldest_domain);
		c->oldest_ok = sqlite3_column_int64(s, 1);
	} else if (r != SQLITE_DONE) {
		rc = sec_fail(db, err, "count");
	}
	sqlite3_finalize(s);
	return rc;
}

/* ---- the refresher's per-zone updates (no full row in memory) ---- */

/* slot: the cached statement (prepared once per handle, sec_stmt) */
static int sec_exec_bound(struct store *st, sqlite3_stmt **slot, const char *sql,
                          const char *domain, const int64_t *v, size_t nv, const char *text,
                          struct zd_err *err)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = sec_stmt(db, slot, sql);
	size_t i;
	int rc = 0;

	if (s == NULL)
		return sec_fail(db, err, "update secondary zone");
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	for (i = 0; i < nv; i++)
		sqlite3_bind_int64(s, (int)i + 2, v[i]);
	if (text != NULL)
		sqlite3_bind_text(s, (int)nv + 2, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = sec_fail(db, err, "update secondary zone");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int secondary_mark_ok(struct store *st, const char *domain, int64_t now, int64_t next_due,
                      int64_t expire_at, struct zd_err *err)
{
	int64_t v[3] = { now, next_due, expire_at };

	return sec_exec_bound(st, &sec_cache.ok, "UPDATE secondary_zones SET last_check = ?2,"
	                      " last_ok = ?2, next_due = ?3, expire_at = ?4, failures = 0, last_error = ''"
	                      " WHERE domain = ?1", domain, v, 3, NULL, err);
}

int secondary_mark_fail(struct store *st, const char *domain, int64_t now, int64_t next_due,
                        const char *why, struct zd_err *err)
{
	int64_t v[2] = { now, next_due };

	return sec_exec_bound(st, &sec_cache.fail, "UPDATE secondary_zones SET last_check = ?2, next_due = ?3,"
	                      " failures = failures + 1, last_error = ?4 WHERE domain = ?1", domain, v,
	                      2, why, err);
}

int secondary_mark_transfer(struct store *st, const char *domain, int64_t now, int64_t next_due,
                            int64_t expire_at, uint32_t serial, uint32_t refresh, uint32_t retry,
                            uint32_t expire, const char *item, struct zd_err *err)
{
	int64_t v[7] = { now, next_due, expire_at, serial, refresh, retry, expire };

	return sec_exec_bound(st, &sec_cache.xfr, "UPDATE secondary_zones SET last_check = ?2,"
	                      " last_ok = ?2, next_due = ?3, expire_at = ?4, pending_serial = ?5, pending_refresh = ?6,"
	                      " pending_retry = ?7, pending_expire = ?8, pending_item = ?9,"
	                      " failures = 0, withdrawn = 0, transfers = transfers + 1, last_error = ''"
	                      " WHERE domain = ?1", domain, v, 7, item, err);
}
