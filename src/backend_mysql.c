/* backend_mysql.c -- PowerDNS (gmysql schema) and CoreDNS (coredns_mysql_extend) rows in MySQL/MariaDB
 *
 * One connection per batch. Zones are written in groups of MY_GROUP_ZONES,
 * one transaction per group that holds whole zones only (a failed group is
 * retried zone by zone), so readers never see half a zone. A group costs a
 * handful of statements whatever its size: one SELECT of the zones' ids, one
 * DELETE of their records (WHERE domain_id IN (...)), one DELETE of the
 * removed zones, one multi-row INSERT of the new zones (and a SELECT of
 * their ids), multi-row INSERTs of the records (up to MY_INSERT_MAX bytes
 * each), COMMIT; reading back is one grouped SELECT per group. Zone text is
 * parsed with ldns; record contents are rendered with ldns_rdf2str. */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ldns/ldns.h>
#include <mysql.h>

#include "zonedrop/backend.h"
#include "zonedrop/backend_mysql.h"
#include "zonedrop/exec.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"
#include "zonedrop/verify.h"

#define MY_CONNECT_TIMEOUT_S 10
#define MY_RW_TIMEOUT_S      60
#define MY_GROUP_ZONES       500            /* zones per transaction */
#define MY_INSERT_MAX        (1024 * 1024)  /* bytes per multi-row INSERT */
#define MY_CONTROL_TIMEOUT_MS 30000
#define MY_PURGE_PER_CMD     40   /* exec_run takes EXEC_ARGV_MAX words in all */
#define MY_PURGE_ALL_ABOVE   200  /* more zones: one `purge` of the whole cache */
#define MY_POLL_MS           100

/* ---- growing string ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_reserve(struct sbuf *s, size_t more)
{
	size_t ncap;
	char *np;

	if (s->oom || s->len + more + 1 <= s->cap)
		return;
	ncap = s->cap ? s->cap : 4096;
	while (ncap < s->len + more + 1)
		ncap *= 2;
	np = realloc(s->p, ncap);
	if (np == NULL) {
		s->oom = 1;
		return;
	}
	s->p = np;
	s->cap = ncap;
}

static void sb_add(struct sbuf *s, const char *str, size_t n)
{
	sb_reserve(s, n);
	if (s->oom)
		return;
	memcpy(s->p + s->len, str, n);
	s->len += n;
	s->p[s->len] = '\0';
}

static void sb_cat(struct sbuf *s, const char *str)
{
	sb_add(s, str, strlen(str));
}

static void sb_printf(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->oom = 1;
		return;
	}
	sb_reserve(s, (size_t)n);
	if (s->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

size_t backend_mysql_quote(struct st_mysql *my, char *out, const char *s)
{
	size_t n = strlen(s), k;

	out[0] = '\'';
	k = 1 + mysql_real_escape_string(my, out + 1, s, (unsigned long)n);
	out[k++] = '\'';
	out[k] = '\0';
	return k;
}

/* 'escaped string' */
static void sb_quote(struct sbuf *s, MYSQL *my, const char *str)
{
	sb_reserve(s, 2 * strlen(str) + 3);
	if (s->oom)
		return;
	s->len += backend_mysql_quote(my, s->p + s->len, str);
}

static void sb_free(struct sbuf *s)
{
	free(s->p);
	memset(s, 0, sizeof *s);
}

/* ---- connection ---- */

struct myconn {
	MYSQL *my;
	const struct config_backend *be;
	int pdns;              /* 1 powerdns_mysql, 0 coredns_mysql */
	const char *zt, *rt;   /* table names */
};

static int my_ident_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

static void my_close(struct myconn *c)
{
	if (c->my)
		mysql_close(c->my);
	c->my = NULL;
}

static int my_connect(struct myconn *c, const struct config_backend *be, struct zd_err *err)
{
	unsigned int cto = MY_CONNECT_TIMEOUT_S, rwto = MY_RW_TIMEOUT_S;
	char *pass = NULL;
	size_t plen = 0;
	my_bool vf;
	int rc;

	memset(c, 0, sizeof *c);
	c->be = be;
	c->pdns = be->type == BACKEND_POWERDNS_MYSQL;
	c->zt = c->pdns ? "domains" : (be->zones_table ? be->zones_table : "zones");
	c->rt = c->pdns ? "records" : (be->records_table ? be->records_table : "records");
	if (!my_ident_ok(c->zt) || !my_ident_ok(c->rt))
		return zd_err_set(err, ZD_ECONFIG, "backend %s: table names must be [A-Za-z0-9_]",
		                  be->name);
	if (be->tls_set && be->tls_ca_file && access(be->tls_ca_file, R_OK) != 0)
		return zd_err_set(err, ZD_ECONFIG, "backend %s: tls.ca_file %s: %s", be->name,
		                  be->tls_ca_file, strerror(errno));
	if (be->password_file && be->password_file[0]) {
		struct zd_err pe;
		zd_err_clear(&pe);
		rc = file_read_all(be->password_file, 4096, &pass, &plen, &pe);
		if (rc != 0)
			return zd_err_set(err, rc, "backend %s: password_file: %s", be->name,
			                  zd_err_str(&pe));
		/* the first line is the password (a final newline or CRLF is not part of it) */
		pass[strcspn(pass, "\r\n")] = '\0';
	}
	c->my = mysql_init(NULL);
	if (c->my == NULL) {
		free(pass);
		return zd_err_set(err, ZD_ENOMEM, "backend %s: mysql_init failed", be->name);
	}
	mysql_optionsv(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &cto);
	mysql_optionsv(c->my, MYSQL_OPT_READ_TIMEOUT, &rwto);
	mysql_optionsv(c->my, MYSQL_OPT_WRITE_TIMEOUT, &rwto);
	mysql_optionsv(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (be->tls_set) {
		/* tls: given means TLS or no connection; verify: the server's
		 * certificate against ca_file (or the system's CAs) and its name */
		my_bool enforce = 1;
		mysql_optionsv(c->my, MYSQL_OPT_SSL_ENFORCE, &enforce);
		if (be->tls_ca_file)
			mysql_optionsv(c->my, MYSQL_OPT_SSL_CA, be->tls_ca_file);
		vf = be->tls_verify ? 1 : 0;
		mysql_optionsv(c->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &vf);
	}
	if (mysql_real_connect(c->my, be->host ? be->host : "127.0.0.1", be->user, pass,
	                       be->database, (unsigned)(be->port ? be->port : 3306), NULL, 0) == NULL) {
		rc = zd_err_set(err, ZD_EIO, "backend %s: connect to %s:%d: %s", be->name,
		                be->host ? be->host : "127.0.0.1", be->port ? be->port : 3306,
		                mysql_error(c->my));
		if (pass)
			memset(pass, 0, plen);
		free(pass);
		my_close(c);
		return rc;
	}
	if (pass) {
		memset(pass, 0, plen);
		free(pass);
	}
	if (mysql_autocommit(c->my, 0) != 0) {
		rc = zd_err_set(err, ZD_EIO, "backend %s: autocommit off: %s", be->name,
		                mysql_error(c->my));
		my_close(c);
		return rc;
	}
	return 0;
}

static int my_exec(struct myconn *c, const char *sql, size_t len, struct zd_err *err)
{
	if (mysql_real_query(c->my, sql, (unsigned long)len) != 0)
		return zd_err_set(err, ZD_EIO, "backend %s: %s", c->be->name, mysql_error(c->my));
	return 0;
}

static int my_execs(struct myconn *c, const char *sql, struct zd_err *err)
{
	return my_exec(c, sql, strlen(sql), err);
}

/* ---- zone text -> rows ---- */

void backend_mysql_rows_free(struct mysql_rows *z)
{
	size_t i;

	for (i = 0; i < z->n; i++) {
		free(z->rows[i].name);
		free(z->rows[i].type);
		free(z->rows[i].content);
	}
	free(z->rows);
	memset(z, 0, sizeof *z);
}

static void str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* drop the trailing dot of an absolute name, but keep "." */
static void strip_dot(char *s)
{
	size_t n = strlen(s);

	if (n > 1 && s[n - 1] == '.' && s[n - 2] != '\\')
		s[n - 1] = '\0';
}

static int myzone_add_rr(struct mysql_rows *z, size_t *cap, const ldns_rr *rr, const char *origin,
                         int pdns)
{
	struct sbuf content = { 0 };
	struct mysql_row *r;
	char *owner, *tname, *f;
	size_t i, first = 0, olen, zlen;
	unsigned prio = 0;
	ldns_rr_type t = ldns_rr_get_type(rr);

	if (z->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct mysql_row *nr = realloc(z->rows, ncap * sizeof *nr);
		if (nr == NULL)
			return -1;
		z->rows = nr;
		*cap = ncap;
	}
	owner = ldns_rdf2str(ldns_rr_owner(rr));
	tname = ldns_rr_type2str(ldns_rr_get_type(rr));
	if (owner == NULL || tname == NULL) {
		free(owner);
		free(tname);
		return -1;
	}
	str_lower(owner);
	/* PowerDNS 4.x's generic SQL backends store the MX/SRV priority in
	 * the prio column and prepend it to content when reading */
	if (pdns && (t == LDNS_RR_TYPE_MX || t == LDNS_RR_TYPE_SRV) && ldns_rr_rd_count(rr) > 1) {
		prio = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		first = 1;
	}
	for (i = first; i < ldns_rr_rd_count(rr); i++) {
		ldns_rdf *rd = ldns_rr_rdf(rr, i);
		f = ldns_rdf2str(rd);
		if (f == NULL) {
			content.oom = 1;
			break;
		}
		if (ldns_rdf_get_type(rd) == LDNS_RDF_TYPE_DNAME) {
			str_lower(f);
			if (pdns)
				strip_dot(f);
		}
		if (i > first)
			sb_cat(&content, " ");
		sb_cat(&content, f);
		free(f);
	}
	if (content.oom || content.p == NULL) {
		if (!content.oom && ldns_rr_rd_count(rr) == 0) {
			sb_cat(&content, "");
		}
		if (content.oom || content.p == NULL) {
			free(owner);
			free(tname);
			sb_free(&content);
			return -1;
		}
	}
	if (pdns) {
		strip_dot(owner);
	} else {
		/* relative to the origin ("example.com."): "@", "www", "*" */
		olen = strlen(owner);
		zlen = strlen(origin);
		if (strcmp(owner, origin) == 0) {
			strcpy(owner, "@");
		} else if (olen > zlen && strcmp(owner + olen - zlen, origin) == 0 &&
		           owner[olen - zlen - 1] == '.') {
			owner[olen - zlen - 1] = '\0';
		}
	}
	r = &z->rows[z->n++];
	r->name = owner;
	r->type = tname;
	r->content = content.p;
	r->ttl = ldns_rr_ttl(rr);
	r->prio = prio;
	if (t == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) >= 3)
		z->serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	return 0;
}

int backend_mysql_rows(const char *domain, const char *text, size_t len, int pdns,
                       struct mysql_rows *z, char *why, size_t whysz)
{
	ldns_zone *zone = NULL;
	ldns_rdf *origin;
	ldns_status st;
	char origin_s[300];
	size_t i, cap = 0, nrr;
	int line = 0;
	FILE *fp;

	memset(z, 0, sizeof *z);
	snprintf(origin_s, sizeof origin_s, "%s.", domain);
	str_lower(origin_s);
	origin = ldns_dname_new_frm_str(origin_s);
	if (origin == NULL) {
		snprintf(why, whysz, "bad domain name");
		return -1;
	}
	fp = fmemopen((void *)text, len, "r");
	if (fp == NULL) {
		ldns_rdf_deep_free(origin);
		snprintf(why, whysz, "fmemopen failed");
		return -1;
	}
	st = ldns_zone_new_frm_fp_l(&zone, fp, origin, 3600, LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	ldns_rdf_deep_free(origin);
	if (st != LDNS_STATUS_OK) {
		snprintf(why, whysz, "zone text line %d: %s", line, ldns_get_errorstr_by_id(st));
		return -1;
	}
	if (ldns_zone_soa(zone) == NULL) {
		ldns_zone_deep_free(zone);
		snprintf(why, whysz, "zone has no SOA");
		return -1;
	}
	if (myzone_add_rr(z, &cap, ldns_zone_soa(zone), origin_s, pdns) != 0)
		goto oom;
	nrr = ldns_rr_list_rr_count(ldns_zone_rrs(zone));
	for (i = 0; i < nrr; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_zone_rrs(zone), i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			continue;
		if (myzone_add_rr(z, &cap, rr, origin_s, pdns) != 0)
			goto oom;
	}
	ldns_zone_deep_free(zone);
	return 0;
oom:
	ldns_zone_deep_free(zone);
	backend_mysql_rows_free(z);
	snprintf(why, whysz, "out of memory rendering records");
	return -1;
}

/* ---- SQL for a group of zones ---- */

/* One zone of a group: its key in the zones table and what the database holds. */
struct gzone {
	size_t i;            /* index in the batch */
	char key[300];       /* pdns "example.com", coredns "example.com." */
	long long id;
	int found;
	int isnew;           /* inserted into the zones table by this group */
	long long rows;      /* read back: row count */
	uint32_t serial;     /* read back: SOA serial */
};

static int gz_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gzone *)a)->key, ((const struct gzone *)b)->key);
}

static struct gzone *gz_find(struct gzone *g, size_t m, const char *name)
{
	struct gzone k;

	str_copy(k.key, name, sizeof k.key);
	str_lower(k.key);
	return bsearch(&k, g, m, sizeof *g, gz_cmp);
}

/* zone name as stored: pdns "example.com", coredns "example.com." */
static void my_zone_key(const struct myconn *c, const char *domain, char *out, size_t outsz)
{
	snprintf(out, outsz, c->pdns ? "%s" : "%s.", domain);
	str_lower(out);
}

#define MY_ZNAME(c)   ((c)->pdns ? "name" : "zone_name")
#define MY_FK(c)      ((c)->pdns ? "domain_id" : "zone_id")
#define MY_CONTENT(c) ((c)->pdns ? "content" : "data")

static int my_sb_exec(struct myconn *c, struct sbuf *q, struct zd_err *err)
{
	if (q->oom)
		return zd_err_set(err, ZD_ENOMEM, "backend %s: out of memory", c->be->name);
	return my_exec(c, q->p, q->len, err);
}

/* "'k1','k2',..." of the group's zones that pass want (-1 any, else found == want) */
static size_t my_key_list(struct myconn *c, struct sbuf *q, const struct gzone *g, size_t m,
                          int want)
{
	size_t j, k = 0;

	for (j = 0; j < m; j++) {
		if (want >= 0 && g[j].found != want)
			continue;
		if (k++ > 0)
			sb_cat(q, ",");
		sb_quote(q, c->my, g[j].key);
	}
	return k;
}

/* Fill id/found of the group's zones (g sorted by key) that are not found yet:
 * one SELECT ... WHERE name IN (...). */
static int my_lookup_ids(struct myconn *c, struct gzone *g, size_t m, struct zd_err *err)
{
	struct sbuf q = { 0 };
	MYSQL_RES *res;
	MYSQL_ROW row;
	struct gzone *z;
	int rc;

	sb_printf(&q, "SELECT id, %s FROM %s WHERE %s IN (", MY_ZNAME(c), c->zt, MY_ZNAME(c));
	if (my_key_list(c, &q, g, m, 0) == 0) {
		sb_free(&q);
		return 0;
	}
	sb_cat(&q, ")");
	rc = my_sb_exec(c, &q, err);
	sb_free(&q);
	if (rc != 0)
		return rc;
	res = mysql_store_result(c->my);
	if (res == NULL)
		return zd_err_set(err, ZD_EIO, "backend %s: %s", c->be->name, mysql_error(c->my));
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL)
			continue;
		z = gz_find(g, m, row[1]);
		if (z == NULL)
			continue;
		z->id = strtoll(row[0], NULL, 10);
		z->found = 1;
	}
	mysql_free_result(res);
	return 0;
}

/* "DELETE FROM table WHERE col IN (ids of the zones that pass pick)"; pick
 * 0: every found zone, 1: found zones that are to be absent */
static int my_delete_in(struct myconn *c, struct backend_batch *b, const struct gzone *g,
                        size_t m, const char *table, const char *col, int pick,
                        struct zd_err *err)
{
	struct sbuf q = { 0 };
	size_t j, k = 0;
	int rc = 0;

	sb_printf(&q, "DELETE FROM %s WHERE %s IN (", table, col);
	for (j = 0; j < m; j++) {
		if (!g[j].found || (pick == 1 && b->zones[g[j].i].present))
			continue;
		sb_printf(&q, "%s%lld", k++ ? "," : "", g[j].id);
	}
	sb_cat(&q, ")");
	if (k > 0)
		rc = my_sb_exec(c, &q, err);
	sb_free(&q);
	return rc;
}

/* Replace (present) or remove the rows of the group's zones, inside the
 * caller's transaction; created[i] = 1 for zones new to the database. */
static int my_group_write(struct myconn *c, struct backend_batch *b, const struct mysql_rows *mz,
                          struct gzone *g, size_t m, int *created, struct zd_err *err)
{
	struct sbuf q = { 0 };
	size_t j, r, head, nnew = 0;
	int rc;

	qsort(g, m, sizeof *g, gz_cmp);
	rc = my_lookup_ids(c, g, m, err);
	if (rc == 0)
		rc = my_delete_in(c, b, g, m, c->rt, MY_FK(c), 0, err);
	if (rc == 0)
		rc = my_delete_in(c, b, g, m, c->zt, "id", 1, err);
	if (rc != 0)
		return rc;
	/* new zones: one multi-row INSERT, then their ids */
	if (c->pdns)
		sb_printf(&q, "INSERT INTO %s (name,type) VALUES ", c->zt);
	else
		sb_printf(&q, "INSERT INTO %s (zone_name) VALUES ", c->zt);
	for (j = 0; j < m; j++) {
		if (g[j].found || !b->zones[g[j].i].present)
			continue;
		g[j].isnew = 1;
		sb_cat(&q, nnew++ ? ",(" : "(");
		sb_quote(&q, c->my, g[j].key);
		sb_cat(&q, c->pdns ? ",'NATIVE')" : ")");
	}
	if (nnew > 0) {
		rc = my_sb_exec(c, &q, err);
		if (rc == 0)
			rc = my_lookup_ids(c, g, m, err);
		for (j = 0; rc == 0 && j < m; j++) {
			if (!b->zones[g[j].i].present)
				continue;
			if (!g[j].found)
				rc = zd_err_set(err, ZD_EIO, "backend %s: %s: no row in %s after INSERT",
				                c->be->name, g[j].key, c->zt);
		}
		for (j = 0; rc == 0 && j < m; j++)
			if (g[j].isnew)
				created[g[j].i] = 1;
	}
	if (rc != 0)
		goto out;
	/* the records of every present zone: multi-row INSERTs of up to MY_INSERT_MAX bytes */
	q.len = 0;
	if (c->pdns)
		sb_printf(&q, "INSERT INTO %s (domain_id,name,type,content,ttl,prio,disabled,"
		          "ordername,auth) VALUES ", c->rt);
	else
		sb_printf(&q, "INSERT INTO %s (zone_id,hostname,type,data,ttl,online) VALUES ", c->rt);
	head = q.len;
	for (j = 0; j < m && rc == 0; j++) {
		const struct mysql_rows *z = &mz[g[j].i];
		if (!b->zones[g[j].i].present)
			continue;
		for (r = 0; r < z->n && rc == 0; r++) {
			const struct mysql_row *w = &z->rows[r];
			sb_printf(&q, "%s(%lld,", q.len > head ? "," : "", g[j].id);
			sb_quote(&q, c->my, w->name);
			sb_cat(&q, ",");
			sb_quote(&q, c->my, w->type);
			sb_cat(&q, ",");
			sb_quote(&q, c->my, w->content);
			if (c->pdns)
				sb_printf(&q, ",%u,%u,0,NULL,1)", w->ttl, w->prio);
			else
				sb_printf(&q, ",%u,1)", w->ttl);
			if (q.len - head > MY_INSERT_MAX) {
				rc = my_sb_exec(c, &q, err);
				q.len = head;
			}
		}
	}
	if (rc == 0 && q.len > head)
		rc = my_sb_exec(c, &q, err);
out:
	sb_free(&q);
	return rc;
}

/* Read back the group's zones in one SELECT: row count and SOA serial of
 * each zone the database holds (g sorted by key; found/rows/serial set). */
static int my_group_readback(struct myconn *c, struct gzone *g, size_t m, struct zd_err *err)
{
	struct sbuf q = { 0 };
	MYSQL_RES *res;
	MYSQL_ROW row;
	struct gzone *z;
	size_t j;
	int rc;

	for (j = 0; j < m; j++) {
		g[j].found = 0;
		g[j].rows = 0;
		g[j].serial = 0;
	}
	sb_printf(&q, "SELECT z.%s, COUNT(r.id), MAX(IF(r.type='SOA',r.%s,NULL)) FROM %s z "
	          "LEFT JOIN %s r ON r.%s=z.id WHERE z.%s IN (", MY_ZNAME(c), MY_CONTENT(c), c->zt,
	          c->rt, MY_FK(c), MY_ZNAME(c));
	my_key_list(c, &q, g, m, -1);
	sb_cat(&q, ") GROUP BY z.id");
	rc = my_sb_exec(c, &q, err);
	sb_free(&q);
	if (rc != 0)
		return rc;
	res = mysql_store_result(c->my);
	if (res == NULL)
		return zd_err_set(err, ZD_EIO, "backend %s: %s", c->be->name, mysql_error(c->my));
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || (z = gz_find(g, m, row[0])) == NULL)
			continue;
		z->found = 1;
		z->rows = row[1] ? strtoll(row[1], NULL, 10) : 0;
		if (row[2]) {
			/* "mname rname serial ..." */
			const char *p = row[2];
			int f;
			for (f = 0; f < 2 && p; f++) {
				p = strchr(p, ' ');
				if (p)
					p++;
			}
			if (p)
				z->serial = (uint32_t)strtoul(p, NULL, 10);
		}
	}
	mysql_free_result(res);
	return 0;
}

/* ---- PowerDNS caches ---- */

static size_t my_curl_sink(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

static int pdns_api_flush(const struct config_backend *be, const char *key, CURL *cu,
                          const char *domain, struct zd_err *err)
{
	char url[1024], hdr[600];
	struct curl_slist *h = NULL;
	long code = 0;
	CURLcode cc;
	size_t n = strlen(be->api_url);

	snprintf(url, sizeof url, "%.*s/api/v1/servers/localhost/cache/flush?domain=%s.",
	         (int)(n > 0 && be->api_url[n - 1] == '/' ? n - 1 : n), be->api_url, domain);
	snprintf(hdr, sizeof hdr, "X-API-Key: %s", key);
	h = curl_slist_append(h, hdr);
	curl_easy_reset(cu);
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, my_curl_sink);
	if (be->tls_set && be->tls_ca_file)
		curl_easy_setopt(cu, CURLOPT_CAINFO, be->tls_ca_file);
	cc = curl_easy_perform(cu);
	curl_slist_free_all(h);
	if (cc != CURLE_OK)
		return zd_err_set(err, ZD_EIO, "PowerDNS API %s: %s", url, curl_easy_strerror(cc));
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return zd_err_set(err, ZD_EIO, "PowerDNS API cache flush %s: HTTP %ld", domain, code);
	return 0;
}

static int pdns_control_run(const struct config_backend *be, const char **words,
                            struct zd_err *err)
{
	struct exec_result res;
	int rc;

	rc = exec_run(be->control, words, NULL, 0, MY_CONTROL_TIMEOUT_MS, &res, err);
	if (rc != 0)
		return rc;
	if (res.status != 0) {
		char out[200];
		str_safe(out, sizeof out, res.output ? res.output : "", res.output_len);
		rc = zd_err_set(err, ZD_ECMD, "%s %s: exit %d%s: %s", be->control, words[0], res.status,
		                res.timed_out ? " (timed out)" : "", out);
	}
	exec_result_free(&res);
	return rc;
}

/* After the rows are committed: purge changed zones, announce new ones.
 * Problems are logged, not fatal (verification decides). */
static void pdns_caches(struct backend_batch *b, const int *done, const int *created)
{
	const struct config_backend *be = b->be;
	struct zd_err e;
	size_t i, ndone = 0;
	int any_new = 0;

	for (i = 0; i < b->n; i++) {
		ndone += done[i] != 0;
		if (done[i] && (created[i] || !b->zones[i].present))
			any_new = 1;   /* the zone list changed */
	}
	/* new and deleted zones into PowerDNS's zone cache first
	 * (zone-cache-refresh-interval), then the purges drop whatever was
	 * cached before, REFUSED included */
	if (be->control && be->control[0] && any_new) {
		const char *rw[] = { "rediscover", NULL };
		zd_err_clear(&e);
		if (pdns_control_run(be, rw, &e) != 0)
			log_msg(LOG_WARNING, NULL, "backend %s: %s", be->name, zd_err_str(&e));
	}
	if (be->api_url && be->api_url[0] && be->api_key_file && be->api_key_file[0]) {
		char *key = NULL;
		size_t klen = 0;
		CURL *cu;
		zd_err_clear(&e);
		if (file_read_all(be->api_key_file, 4096, &key, &klen, &e) != 0) {
			log_msg(LOG_WARNING, NULL, "backend %s: %s", be->name, zd_err_str(&e));
		} else {
			while (klen > 0 && (key[klen - 1] == '\n' || key[klen - 1] == '\r'))
				key[--klen] = '\0';
			cu = curl_easy_init();
			for (i = 0; cu && i < b->n; i++) {
				if (!done[i])
					continue;
				zd_err_clear(&e);
				if (pdns_api_flush(be, key, cu, b->zones[i].domain, &e) != 0) {
					log_msg(LOG_WARNING, b->zones[i].domain, "backend %s: %s", be->name,
					        zd_err_str(&e));
					break;
				}
			}
			if (cu)
				curl_easy_cleanup(cu);
			free(key);
		}
	}
	if (be->control && be->control[0] && ndone > MY_PURGE_ALL_ABOVE) {
		/* one command instead of one per MY_PURGE_PER_CMD zones: a big batch
		 * costs PowerDNS a cold cache, not hundreds of control commands */
		const char *pw[] = { "purge", NULL };
		zd_err_clear(&e);
		if (pdns_control_run(be, pw, &e) != 0)
			log_msg(LOG_WARNING, NULL, "backend %s: %s", be->name, zd_err_str(&e));
	} else if (be->control && be->control[0]) {
		const char *words[MY_PURGE_PER_CMD + 2];
		char *bufs[MY_PURGE_PER_CMD];
		size_t nw = 0, k;
		words[0] = "purge";
		for (i = 0; i <= b->n; i++) {
			if (i < b->n && done[i]) {
				bufs[nw] = malloc(strlen(b->zones[i].domain) + 2);
				if (bufs[nw] == NULL)
					continue;
				sprintf(bufs[nw], "%s$", b->zones[i].domain);
				words[1 + nw] = bufs[nw];
				nw++;
			}
			if (nw > 0 && (nw == MY_PURGE_PER_CMD || i == b->n)) {
				words[1 + nw] = NULL;
				zd_err_clear(&e);
				if (pdns_control_run(be, words, &e) != 0)
					log_msg(LOG_WARNING, NULL, "backend %s: %s", be->name, zd_err_str(&e));
				for (k = 0; k < nw; k++)
					free(bufs[k]);
				nw = 0;
			}
		}
	}
}

/* ---- the batch ---- */

static void my_set(struct backend_zone *z, enum backend_result r, int now_present, const char *why)
{
	z->result = r;
	z->now_present = now_present;
	if (why)
		str_safe(z->error, sizeof z->error, why, strlen(why));
	else
		z->error[0] = '\0';
}

/* the zones of [from, to) still to do, into g; returns how many */
static size_t my_group_zones(const struct myconn *c, const struct backend_batch *b,
                             const int *todo, size_t from, size_t to, struct gzone *g)
{
	size_t i, m = 0;

	for (i = from; i < to; i++) {
		if (!todo[i])
			continue;
		memset(&g[m], 0, sizeof g[m]);
		g[m].i = i;
		my_zone_key(c, b->zones[i].domain, g[m].key, sizeof g[m].key);
		m++;
	}
	return m;
}

/* Write zones [from, to) in one transaction. 0 committed, else error (rolled back). */
static int my_group(struct myconn *c, struct backend_batch *b, const struct mysql_rows *mz,
                    const int *todo, int *created, struct gzone *g, size_t from, size_t to,
                    struct zd_err *err)
{
	size_t i, m = my_group_zones(c, b, todo, from, to, g);
	int rc;

	if (m == 0)
		return 0;
	rc = my_group_write(c, b, mz, g, m, created, err);
	if (rc == 0 && mysql_commit(c->my) != 0)
		rc = zd_err_set(err, ZD_EIO, "backend %s: commit: %s", c->be->name, mysql_error(c->my));
	if (rc != 0) {
		mysql_rollback(c->my);
		for (i = from; i < to; i++)
			created[i] = 0;
	}
	return rc;
}

/* Verify zones by reading their rows back, a group at a time. */
static void my_verify_rows(struct myconn *c, struct backend_batch *b, const int *todo,
                           const size_t *nrows, const uint32_t *serial, struct gzone *g)
{
	char why[512];
	size_t from, j, m;
	struct zd_err ve;

	for (from = 0; from < b->n; from += MY_GROUP_ZONES) {
		size_t to = from + MY_GROUP_ZONES < b->n ? from + MY_GROUP_ZONES : b->n;
		m = my_group_zones(c, b, todo, from, to, g);
		if (m == 0)
			continue;
		qsort(g, m, sizeof *g, gz_cmp);
		zd_err_clear(&ve);
		if (my_group_readback(c, g, m, &ve) != 0) {
			for (j = 0; j < m; j++)
				my_set(&b->zones[g[j].i], BZ_FAILED, b->zones[g[j].i].present, ve.msg);
			continue;
		}
		for (j = 0; j < m; j++) {
			struct backend_zone *z = &b->zones[g[j].i];
			size_t i = g[j].i;
			if (!z->present) {
				if (g[j].found)
					snprintf(why, sizeof why, "zone still in %s after delete", c->zt);
				my_set(z, g[j].found ? BZ_FAILED : BZ_OK, 0, g[j].found ? why : NULL);
			} else if (!g[j].found) {
				snprintf(why, sizeof why, "zone missing from %s after commit", c->zt);
				my_set(z, BZ_FAILED, 1, why);
			} else if ((size_t)g[j].rows != nrows[i] || g[j].serial != serial[i]) {
				snprintf(why, sizeof why, "read back %lld rows, serial %u; expected %zu "
				         "rows, serial %u", g[j].rows, g[j].serial, nrows[i], serial[i]);
				my_set(z, BZ_FAILED, 1, why);
			} else {
				my_set(z, BZ_OK, 1, NULL);
			}
		}
	}
	mysql_commit(c->my);  /* end the read transaction */
}

/* Verify zones by asking PowerDNS for their SOA (all in flight, polled). */
static int my_verify_dns(struct backend_batch *b, const int *todo, const uint32_t *serial,
                         struct zd_err *err)
{
	struct verify_query *q = calloc(b->n ? b->n : 1, sizeof *q);
	size_t *idx = calloc(b->n ? b->n : 1, sizeof *idx);
	size_t i, j, m = 0;
	char why[512];
	struct zd_err ve;

	if (q == NULL || idx == NULL) {
		free(q);
		free(idx);
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	}
	for (i = 0; i < b->n; i++) {
		if (!todo[i])
			continue;
		q[m].domain = b->zones[i].domain;
		q[m].serial = serial[i];
		q[m].want_present = b->zones[i].present;
		idx[m++] = i;
	}
	zd_err_clear(&ve);
	if (m > 0 && verify_soa(b->be->verify_host ? b->be->verify_host : "127.0.0.1",
	                        b->be->verify_port ? b->be->verify_port : 53, q, m,
	                        b->verify_timeout_ms > 0 ? b->verify_timeout_ms : 10000,
	                        MY_POLL_MS, &ve) != 0) {
		for (j = 0; j < m; j++)
			my_set(&b->zones[idx[j]], BZ_FAILED, b->zones[idx[j]].present, ve.msg);
	} else {
		for (j = 0; j < m; j++) {
			struct backend_zone *z = &b->zones[idx[j]];
			if (q[j].ok) {
				my_set(z, BZ_OK, z->present, NULL);
				continue;
			}
			if (q[j].state == VERIFY_OTHER)
				snprintf(why, sizeof why, "rows written; PowerDNS serves serial %u, "
				         "expected %u", q[j].got_serial, q[j].serial);
			else
				snprintf(why, sizeof why, "rows written; PowerDNS %s (%s)",
				         z->present ? "does not serve the zone" : "still serves the zone",
				         verify_rcode_name(q[j].rcode));
			my_set(z, BZ_FAILED, z->present, why);
		}
	}
	free(q);
	free(idx);
	return 0;
}

/* ldns allocates and frees a large line buffer per RR; with glibc's default
 * trim threshold every zone then grows and trims the heap (brk + TLB
 * flushes), which made parsing 10,000 small zones take seconds. */
static pthread_once_t my_malloc_once = PTHREAD_ONCE_INIT;
static void my_malloc_tune(void)
{
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
}

/* Parse the present zones of [from, to) into mz (todo set, nrows/serial
 * kept after the rows are freed); a zone ldns cannot read is rejected,
 * never written. The texts are given back to the drain once parsed. */
static void my_parse_group(struct backend_batch *b, int pdns, struct mysql_rows *mz, int *todo,
                           size_t *nrows, uint32_t *serial, size_t from, size_t to)
{
	char why[512];
	size_t i;

	for (i = from; i < to; i++) {
		struct backend_zone *z = &b->zones[i];
		if (!z->present) {
			todo[i] = 1;
			continue;
		}
		if (backend_mysql_rows(z->domain, z->text, z->text_len, pdns, &mz[i], why,
		                       sizeof why) != 0) {
			backend_mysql_rows_free(&mz[i]);
			my_set(z, BZ_REJECTED, z->was_present, why);
		} else {
			todo[i] = 1;
			nrows[i] = mz[i].n;
			serial[i] = mz[i].serial;
		}
		if (b->text_done)
			b->text_done(b, i);
	}
}

static int backend_mysql_apply(struct backend_batch *b, struct zd_err *err)
{
	struct myconn c;
	struct mysql_rows *mz = NULL;
	struct gzone *g = NULL;
	int *todo = NULL, *created = NULL;
	size_t *nrows = NULL;
	uint32_t *serial = NULL;
	size_t i, j, from, n1 = b->n ? b->n : 1;
	int64_t t0 = time_mono_ms(), t_conn, t_write, t_purge, t, ms_parse = 0;
	int rc, pdns = b->be->type == BACKEND_POWERDNS_MYSQL;

	memset(&c, 0, sizeof c);
	pthread_once(&my_malloc_once, my_malloc_tune);
	str_copy(b->mechanism, pdns ? "sql+purge" : "sql", sizeof b->mechanism);
	backend_batch_reset(b);
	mz = calloc(n1, sizeof *mz);
	todo = calloc(n1, sizeof *todo);
	created = calloc(n1, sizeof *created);
	nrows = calloc(n1, sizeof *nrows);
	serial = calloc(n1, sizeof *serial);
	g = calloc(MY_GROUP_ZONES, sizeof *g);
	if (mz == NULL || todo == NULL || created == NULL || nrows == NULL || serial == NULL ||
	    g == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "backend %s: out of memory", b->be->name);
		goto fail_all;
	}
	rc = my_connect(&c, b->be, err);
	if (rc != 0) {
		/* still tell rejected zones apart: they need no retry */
		for (from = 0; from < b->n; from += MY_GROUP_ZONES) {
			size_t to = from + MY_GROUP_ZONES < b->n ? from + MY_GROUP_ZONES : b->n;
			my_parse_group(b, pdns, mz, todo, nrows, serial, from, to);
			for (i = from; i < to; i++)
				backend_mysql_rows_free(&mz[i]);
		}
		goto fail_all;
	}
	t_conn = time_mono_ms();
	/* a group at a time: parse, write in one transaction, free the rows */
	for (from = 0; from < b->n; from += MY_GROUP_ZONES) {
		size_t to = from + MY_GROUP_ZONES < b->n ? from + MY_GROUP_ZONES : b->n;
		struct zd_err ge;
		t = time_mono_ms();
		my_parse_group(b, pdns, mz, todo, nrows, serial, from, to);
		ms_parse += time_mono_ms() - t;
		zd_err_clear(&ge);
		if (my_group(&c, b, mz, todo, created, g, from, to, &ge) != 0) {
			if (mysql_ping(c.my) != 0) {
				/* the server went away: the rest of the batch fails */
				*err = ge;
				for (i = from; i < b->n; i++)
					if (todo[i] || (i >= to && b->zones[i].result == BZ_UNSET))
						my_set(&b->zones[i], BZ_FAILED, b->zones[i].was_present, ge.msg);
				for (i = from; i < to; i++)
					backend_mysql_rows_free(&mz[i]);
				my_close(&c);
				memset(todo + from, 0, (b->n - from) * sizeof *todo);
				rc = ge.code ? ge.code : ZD_EIO;
				break;
			}
			/* isolate the zone that broke the group */
			for (j = from; j < to; j++) {
				if (!todo[j])
					continue;
				zd_err_clear(&ge);
				if (my_group(&c, b, mz, todo, created, g, j, j + 1, &ge) != 0) {
					my_set(&b->zones[j], BZ_FAILED, b->zones[j].was_present, ge.msg);
					todo[j] = 0;
				}
			}
		}
		for (i = from; i < to; i++)
			backend_mysql_rows_free(&mz[i]);
	}
	t_write = time_mono_ms();
	if (pdns)
		pdns_caches(b, todo, created);
	t_purge = time_mono_ms();
	if (pdns && b->be->verify_set) {
		if (my_verify_dns(b, todo, serial, err) != 0) {
			rc = err->code;
			goto fail_all;
		}
	} else if (c.my) {
		my_verify_rows(&c, b, todo, nrows, serial, g);
	} else {
		/* the server went away after earlier groups were committed */
		for (i = 0; i < b->n; i++)
			if (todo[i])
				my_set(&b->zones[i], BZ_FAILED, b->zones[i].present,
				       "rows committed, then the server went away: not read back");
	}
	log_msg(LOG_DEBUG, NULL, "backend %s: parse %lld ms, connect %lld ms, write %lld ms, "
	        "caches %lld ms, verify %lld ms", b->be->name, (long long)ms_parse,
	        (long long)(t_conn - t0), (long long)(t_write - t_conn - ms_parse),
	        (long long)(t_purge - t_write), (long long)(time_mono_ms() - t_purge));
	free(mz);
	free(todo);
	free(created);
	free(nrows);
	free(serial);
	free(g);
	my_close(&c);
	b->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	return rc;

fail_all:
	for (i = 0; i < b->n; i++) {
		struct backend_zone *z = &b->zones[i];
		if (z->result == BZ_REJECTED)
			continue;
		my_set(z, BZ_FAILED, z->was_present, err ? err->msg : "backend failed");
	}
	if (mz)
		for (i = 0; i < b->n; i++)
			backend_mysql_rows_free(&mz[i]);
	free(mz);
	free(todo);
	free(created);
	free(nrows);
	free(serial);
	free(g);
	my_close(&c);
	b->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	return rc;
}

int backend_powerdns_mysql_apply(struct backend_batch *b, struct zd_err *err)
{
	return backend_mysql_apply(b, err);
}

int backend_coredns_mysql_apply(struct backend_batch *b, struct zd_err *err)
{
	return backend_mysql_apply(b, err);
}

/* ---- db-init ---- */

static const char *const pdns_schema[] = {
	"CREATE TABLE IF NOT EXISTS domains (\n"
	"  id INT AUTO_INCREMENT, name VARCHAR(255) NOT NULL, master VARCHAR(128) DEFAULT NULL,\n"
	"  last_check INT DEFAULT NULL, type VARCHAR(8) NOT NULL,\n"
	"  notified_serial INT UNSIGNED DEFAULT NULL,\n"
	"  account VARCHAR(40) CHARACTER SET 'utf8' DEFAULT NULL,\n"
	"  options VARCHAR(64000) DEFAULT NULL, catalog VARCHAR(255) DEFAULT NULL,\n"
	"  PRIMARY KEY (id), UNIQUE KEY name_index (name), KEY catalog_idx (catalog)\n"
	") Engine=InnoDB CHARACTER SET 'latin1'",
	"CREATE TABLE IF NOT EXISTS records (\n"
	"  id BIGINT AUTO_INCREMENT, domain_id INT DEFAULT NULL, name VARCHAR(255) DEFAULT NULL,\n"
	"  type VARCHAR(10) DEFAULT NULL, content VARCHAR(64000) DEFAULT NULL,\n"
	"  ttl INT DEFAULT NULL, prio INT DEFAULT NULL, disabled TINYINT(1) DEFAULT 0,\n"
	"  ordername VARCHAR(255) BINARY DEFAULT NULL, auth TINYINT(1) DEFAULT 1,\n"
	"  PRIMARY KEY (id), KEY nametype_index (name,type), KEY domain_id (domain_id),\n"
	"  KEY ordername (ordername)\n"
	") Engine=InnoDB CHARACTER SET 'latin1'",
	"CREATE TABLE IF NOT EXISTS supermasters (\n"
	"  ip VARCHAR(64) NOT NULL, nameserver VARCHAR(255) NOT NULL,\n"
	"  account VARCHAR(40) CHARACTER SET 'utf8' NOT NULL, PRIMARY KEY (ip, nameserver)\n"
	") Engine=InnoDB CHARACTER SET 'latin1'",
	"CREATE TABLE IF NOT EXISTS comments (\n"
	"  id INT AUTO_INCREMENT, domain_id INT NOT NULL, name VARCHAR(255) NOT NULL,\n"
	"  type VARCHAR(10) NOT NULL, modified_at INT NOT NULL,\n"
	"  account VARCHAR(40) CHARACTER SET 'utf8' DEFAULT NULL,\n"
	"  comment TEXT CHARACTER SET 'utf8' NOT NULL, PRIMARY KEY (id),\n"
	"  KEY comments_name_type_idx (name, type), KEY comments_order_idx (domain_id, modified_at)\n"
	") Engine=InnoDB CHARACTER SET 'latin1'",
	"CREATE TABLE IF NOT EXISTS domainmetadata (\n"
	"  id INT AUTO_INCREMENT, domain_id INT NOT NULL, kind VARCHAR(32), content TEXT,\n"
	"  PRIMARY KEY (id), KEY domainmetadata_idx (domain_id, kind)\n"
	") Engine=InnoDB CHARACTER SET 'latin1'",
	"CREATE TABLE IF NOT EXISTS cryptokeys (\n"
	"  id INT AUTO_INCREMENT, domain_id INT NOT NULL, flags INT NOT NULL, active BOOL,\n"
	"  published BOOL DEFAULT 1, content TEXT, PRIMARY KEY(id), KEY domainidindex (domain_id)\n"
	") Engine=InnoDB CHARACTER SET 'latin1'",
	"CREATE TABLE IF NOT EXISTS tsigkeys (\n"
	"  id INT AUTO_INCREMENT, name VARCHAR(255), algorithm VARCHAR(50), secret VARCHAR(255),\n"
	"  PRIMARY KEY (id), UNIQUE KEY namealgoindex (name, algorithm)\n"
	") Engine=InnoDB CHARACTER SET 'latin1'",
	NULL
};

int backend_mysql_db_init(const struct config_backend *be, struct zd_err *err)
{
	struct myconn c;
	struct sbuf q = { 0 };
	int rc = 0;
	size_t i;

	if (be->type != BACKEND_POWERDNS_MYSQL && be->type != BACKEND_COREDNS_MYSQL)
		return zd_err_set(err, ZD_ECONFIG, "backend %s is not a MySQL backend", be->name);
	rc = my_connect(&c, be, err);
	if (rc != 0)
		return rc;
	if (c.pdns) {
		for (i = 0; pdns_schema[i] && rc == 0; i++)
			rc = my_execs(&c, pdns_schema[i], err);
	} else {
		sb_printf(&q, "CREATE TABLE IF NOT EXISTS %s (id INT NOT NULL AUTO_INCREMENT, "
		          "zone_name VARCHAR(255) NOT NULL, PRIMARY KEY (id), UNIQUE KEY zone_name "
		          "(zone_name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", c.zt);
		rc = q.oom ? zd_err_set(err, ZD_ENOMEM, "out of memory") : my_exec(&c, q.p, q.len, err);
		q.len = 0;
		sb_printf(&q, "CREATE TABLE IF NOT EXISTS %s (id INT NOT NULL AUTO_INCREMENT, "
		          "zone_id INT NOT NULL, hostname VARCHAR(512) NOT NULL, type VARCHAR(10) NOT "
		          "NULL, data VARCHAR(1024) NOT NULL, ttl INT NOT NULL DEFAULT 120, online INT "
		          "NOT NULL DEFAULT 0, PRIMARY KEY (id), KEY lookup (zone_id, hostname(191), "
		          "type, online)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4", c.rt);
		if (rc == 0)
			rc = q.oom ? zd_err_set(err, ZD_ENOMEM, "out of memory")
			           : my_exec(&c, q.p, q.len, err);
		sb_free(&q);
	}
	if (rc == 0 && mysql_commit(c.my) != 0)
		rc = zd_err_set(err, ZD_EIO, "backend %s: commit: %s", be->name, mysql_error(c.my));
	my_close(&c);
	return rc;
}

/* connect and see the tables: used by check-config */
int backend_mysql_probe(const struct config_backend *be, struct zd_err *err)
{
	struct myconn c;
	struct sbuf q = { 0 };
	int rc;

	rc = my_connect(&c, be, err);
	if (rc != 0)
		return rc;
	sb_printf(&q, "SELECT 1 FROM %s, %s LIMIT 0", c.zt, c.rt);
	rc = q.oom ? zd_err_set(err, ZD_ENOMEM, "out of memory") : my_exec(&c, q.p, q.len, err);
	if (rc == 0) {
		MYSQL_RES *res = mysql_store_result(c.my);
		if (res)
			mysql_free_result(res);
	} else {
		char m[ZD_ERR_MSG_MAX];
		str_copy(m, err ? err->msg : "", sizeof m);
		rc = zd_err_set(err, ZD_ECONFIG, "%.400s (run zonedrop db-init %s)", m, be->name);
	}
	sb_free(&q);
	my_close(&c);
	return rc;
}

/* ---- healing: read back without writing (zonedrop-reconcile, zonedrop verify) ----
 *
 * Self-contained on purpose (uses only the connection and string helpers
 * above): zones are looked up in chunks of MY_CHECK_CHUNK names, one grouped
 * SELECT each for the zone row, the served row count and the SOA, and one
 * more for the rows themselves when the caller wants them (--deep). Only
 * rows the server would answer count: PowerDNS disabled=0 with a type
 * (rectify's empty non-terminals have none), CoreDNS online!=0. */

#define MY_CHECK_CHUNK 500

void backend_rows_check_clear(struct backend_rows_check *q)
{
	size_t i;

	for (i = 0; i < q->nrrs; i++)
		free(q->rrs[i]);
	free(q->rrs);
	q->rrs = NULL;
	q->nrrs = 0;
}

struct my_check_key {
	char key[300];
	size_t i;
};

static int my_check_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct my_check_key *)a)->key, ((const struct my_check_key *)b)->key);
}

static struct backend_rows_check *my_check_find(struct my_check_key *k, size_t m,
                                                struct backend_rows_check *q, const char *name)
{
	struct my_check_key want, *hit;

	str_copy(want.key, name, sizeof want.key);
	str_lower(want.key);
	hit = bsearch(&want, k, m, sizeof *k, my_check_key_cmp);
	return hit ? &q[hit->i] : NULL;
}

/* serial = third field of "mname rname serial refresh ..." */
static uint32_t my_check_serial(const char *soa)
{
	const char *p = soa;
	int f;

	for (f = 0; f < 2 && p != NULL; f++) {
		p = strchr(p, ' ');
		if (p != NULL)
			while (*p == ' ')
				p++;
	}
	return p != NULL ? (uint32_t)strtoul(p, NULL, 10) : 0;
}

static int my_check_type_is(const char *type, const char *want)
{
	for (; *type != '\0' && *want != '\0'; type++, want++)
		if (toupper((unsigned char)*type) != *want)
			return 0;
	return *type == '\0' && *want == '\0';
}

/* One row as an RR in presentation form, owner absolute: PowerDNS names and
 * contents lack the final dot (the caller parses with origin "."); a
 * PowerDNS MX/SRV whose content lacks the priority gets the prio column. */
static char *my_check_rr(const struct myconn *c, const char *zone, const char *name,
                         const char *type, const char *content, const char *ttl, const char *prio)
{
	struct sbuf s = { 0 };
	size_t fields = 0, want = 0;
	const char *p;

	if (c->pdns) {
		sb_cat(&s, name);
		sb_cat(&s, ".");
	} else if (strcmp(name, "@") == 0) {
		sb_cat(&s, zone);
	} else {
		sb_printf(&s, "%s.%s", name, zone);
	}
	sb_printf(&s, " %s IN %s ", ttl ? ttl : "0", type);
	if (c->pdns && prio != NULL) {
		if (my_check_type_is(type, "MX"))
			want = 2;
		else if (my_check_type_is(type, "SRV"))
			want = 4;
		for (p = content; want > 0 && *p != '\0'; ) {
			while (*p == ' ')
				p++;
			if (*p == '\0')
				break;
			fields++;
			while (*p != '\0' && *p != ' ')
				p++;
		}
		if (want > 0 && fields + 1 == want)
			sb_printf(&s, "%s ", prio);
	}
	sb_cat(&s, content);
	if (s.oom) {
		sb_free(&s);
		return NULL;
	}
	return s.p;
}

static int my_check_rows(struct myconn *c, struct my_check_key *k, size_t m,
                         struct backend_rows_check *q, struct zd_err *err)
{
	struct sbuf s = { 0 };
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	size_t j, asked = 0;
	int rc = 0;

	if (c->pdns)
		sb_printf(&s, "SELECT d.name, r.name, r.type, r.content, r.ttl, r.prio FROM %s d JOIN "
		          "%s r ON r.domain_id=d.id AND r.disabled=0 AND r.type IS NOT NULL AND "
		          "r.type<>'' WHERE d.name IN (", c->zt, c->rt);
	else
		sb_printf(&s, "SELECT z.zone_name, r.hostname, r.type, r.data, r.ttl, NULL FROM %s z "
		          "JOIN %s r ON r.zone_id=z.id AND r.online<>0 WHERE z.zone_name IN (",
		          c->zt, c->rt);
	for (j = 0; j < m; j++) {
		if (!q[k[j].i].want_rows)
			continue;
		if (asked++ > 0)
			sb_cat(&s, ",");
		sb_quote(&s, c->my, k[j].key);
	}
	sb_cat(&s, ")");
	if (asked == 0)
		goto out;
	if (s.oom) {
		rc = zd_err_set(err, ZD_ENOMEM, "backend %s: out of memory", c->be->name);
		goto out;
	}
	if ((rc = my_exec(c, s.p, s.len, err)) != 0)
		goto out;
	if ((res = mysql_use_result(c->my)) == NULL) {
		rc = zd_err_set(err, ZD_EIO, "backend %s: %s", c->be->name, mysql_error(c->my));
		goto out;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct backend_rows_check *z;
		char zone[300], **nr, *rr;

		if (row[0] == NULL || row[1] == NULL || row[2] == NULL || row[3] == NULL)
			continue;
		if ((z = my_check_find(k, m, q, row[0])) == NULL || !z->want_rows)
			continue;
		/* CoreDNS zone names carry the dot already */
		snprintf(zone, sizeof zone, "%s", row[0]);
		rr = my_check_rr(c, zone, row[1], row[2], row[3], row[4], row[5]);
		nr = rr != NULL ? realloc(z->rrs, (z->nrrs + 1) * sizeof *nr) : NULL;
		if (nr == NULL) {
			free(rr);
			rc = zd_err_set(err, ZD_ENOMEM, "backend %s: out of memory", c->be->name);
			break;
		}
		z->rrs = nr;
		z->rrs[z->nrrs++] = rr;
	}
	if (rc == 0 && mysql_errno(c->my) != 0)
		rc = zd_err_set(err, ZD_EIO, "backend %s: %s", c->be->name, mysql_error(c->my));
	while (row != NULL && (row = mysql_fetch_row(res)) != NULL)
		;   /* drain what is left after an error */
out:
	if (res != NULL)
		mysql_free_result(res);
	sb_free(&s);
	return rc;
}

static int my_check_chunk(struct myconn *c, struct my_check_key *k, size_t m,
                          struct backend_rows_check *q, struct zd_err *err)
{
	struct sbuf s = { 0 };
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	size_t j;
	int rc;

	qsort(k, m, sizeof *k, my_check_key_cmp);
	if (c->pdns)
		sb_printf(&s, "SELECT d.name, COUNT(r.id), MAX(IF(r.type='SOA',r.content,NULL)) FROM %s d "
		          "LEFT JOIN %s r ON r.domain_id=d.id AND r.disabled=0 AND r.type IS NOT NULL "
		          "AND r.type<>'' WHERE d.name IN (", c->zt, c->rt);
	else
		sb_printf(&s, "SELECT z.zone_name, COUNT(r.id), MAX(IF(r.type='SOA',r.data,NULL)) FROM %s z "
		          "LEFT JOIN %s r ON r.zone_id=z.id AND r.online<>0 WHERE z.zone_name IN (",
		          c->zt, c->rt);
	for (j = 0; j < m; j++) {
		if (j > 0)
			sb_cat(&s, ",");
		sb_quote(&s, c->my, k[j].key);
	}
	sb_printf(&s, ") GROUP BY %s", c->pdns ? "d.id, d.name" : "z.id, z.zone_name");
	if (s.oom) {
		rc = zd_err_set(err, ZD_ENOMEM, "backend %s: out of memory", c->be->name);
		goto out;
	}
	if ((rc = my_exec(c, s.p, s.len, err)) != 0)
		goto out;
	if ((res = mysql_store_result(c->my)) == NULL) {
		rc = zd_err_set(err, ZD_EIO, "backend %s: %s", c->be->name, mysql_error(c->my));
		goto out;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		struct backend_rows_check *z;

		if (row[0] == NULL || (z = my_check_find(k, m, q, row[0])) == NULL)
			continue;
		z->zone_row = 1;
		z->nrows = row[1] ? (size_t)strtoull(row[1], NULL, 10) : 0;
		if (row[2] != NULL) {
			z->has_soa = 1;
			z->got_serial = my_check_serial(row[2]);
		}
	}
	mysql_free_result(res);
	res = NULL;
	rc = my_check_rows(c, k, m, q, err);
out:
	sb_free(&s);
	return rc;
}

int backend_mysql_check(const struct config_backend *be, struct backend_rows_check *q, size_t n,
                        struct zd_err *err)
{
	struct myconn c;
	struct my_check_key *k = NULL;
	size_t i, m;
	int rc;

	for (i = 0; i < n; i++) {
		q[i].zone_row = q[i].has_soa = 0;
		q[i].got_serial = 0;
		q[i].nrows = 0;
		q[i].rrs = NULL;
		q[i].nrrs = 0;
	}
	if (n == 0)
		return 0;
	if ((rc = my_connect(&c, be, err)) != 0)
		return rc;
	k = calloc(n < MY_CHECK_CHUNK ? n : MY_CHECK_CHUNK, sizeof *k);
	if (k == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "backend %s: out of memory", be->name);
		goto out;
	}
	/* one read-only transaction: every chunk sees the same snapshot */
	if ((rc = my_execs(&c, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err)) != 0)
		goto out;
	for (i = 0; i < n && rc == 0; i += m) {
		size_t j;

		m = n - i < MY_CHECK_CHUNK ? n - i : MY_CHECK_CHUNK;
		for (j = 0; j < m; j++) {
			my_zone_key(&c, q[i + j].domain, k[j].key, sizeof k[j].key);
			k[j].i = i + j;
		}
		rc = my_check_chunk(&c, k, m, q, err);
	}
	mysql_rollback(c.my);
	if (rc != 0)
		for (i = 0; i < n; i++)
			backend_rows_check_clear(&q[i]);
out:
	free(k);
	my_close(&c);
	return rc;
}
