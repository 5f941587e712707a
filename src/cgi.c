/* cgi.c -- zonedrop.cgi's request handler: auth, DirectAdmin endpoints, spool delivery
 *
 * Order of decisions: no users configured (500), endpoint (404), allow_from
 * (403), credentials (401), method (405), Content-Length (400, 413), then
 * the parameters and the action. A rawsave body is streamed into spool
 * tmp/ (CRLF -> LF), checked there with ldns, and renamed into new/ before
 * "error=0" is written; nothing is left in tmp/ or new/ on any error. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zonedrop/auth.h"
#include "zonedrop/cgi.h"
#include "zonedrop/counters.h"
#include "zonedrop/domain.h"
#include "zonedrop/http.h"
#include "zonedrop/log.h"
#include "zonedrop/spool.h"
#include "zonedrop/util.h"
#include "zonedrop/zindex.h"
#include "zonedrop/zone.h"

#define CGI_CHUNK 65536
#define CGI_TEXT_MAX 1024
#define CGI_PATH_MAX 256
#define CGI_SPOOL_RESERVE (1024 * 1024)   /* bytes kept free beyond the item */
#define CGI_SPOOL_INODES 16                /* inodes kept free */

enum cgi_endpoint {
	CGI_EP_NONE = 0,
	CGI_EP_LOGIN_TEST,
	CGI_EP_DNS_ADMIN,
	CGI_EP_INTERNAL,
	CGI_EP_STATUS,
	CGI_EP_METRICS,
};

/* One request in flight: what the log line and the answer need. */
struct cgi_ctx {
	const struct config *cfg;
	const struct cgi_request *req;
	FILE *in;
	FILE *out;
	char path[CGI_PATH_MAX];
	char user[HTTP_CRED_MAX + 1];
	char client_ip[64];
	const char *action;
	const char *domain;        /* for the log line; validated or escaped by log.c */
	uint64_t content_length;
	int status;
	int io_failed;
	const char *reason;        /* counters: a rejection's reason when the status does not say it */
	const char *accepted;      /* counters: COUNTER_ACCEPTED_* of an accepted push or delete */
};

static const char *cgi_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Headers plus body in one go; extra is more header lines (each ending
 * in \r\n) or "". */
static int cgi_write(FILE *out, int status, const char *extra, const char *body)
{
	if (fprintf(out,
	            "Status: %d %s\r\n"
	            "Content-Type: text/plain; charset=utf-8\r\n"
	            "Cache-Control: no-store\r\n"
	            "%s"
	            "\r\n"
	            "%s",
	            status, cgi_reason(status), extra, body) < 0)
		return ZD_EIO;
	if (fflush(out) != 0 || ferror(out))
		return ZD_EIO;
	return 0;
}

int cgi_answer_error(FILE *out, int status, const char *text)
{
	char enc[CGI_TEXT_MAX * 3 + 1], body[CGI_TEXT_MAX * 3 + 32];
	const char *extra = "";

	http_url_encode(enc, sizeof enc, text);
	snprintf(body, sizeof body, "error=1&text=%s", enc);
	if (status == 401)
		extra = "WWW-Authenticate: Basic realm=\"zonedrop\"\r\n";
	else if (status == 405)
		extra = "Allow: GET, POST\r\n";
	return cgi_write(out, status, extra, body);
}

/* The log line for the outcome: info for 2xx, warning for 4xx, error for 5xx. */
static void cgi_log(const struct cgi_ctx *c, const char *item, const char *text)
{
	enum log_level lv = c->status < 400 ? LOG_INFO : c->status < 500 ? LOG_WARNING : LOG_ERROR;
	const char *method = c->req->method ? c->req->method : "";

	log_msg(lv, c->domain, "status=%d method=%s path=%s%s%s client=%s user=%s%s%s %s", c->status,
	        method, c->path, c->action ? " action=" : "", c->action ? c->action : "",
	        c->client_ip[0] ? c->client_ip : "-", c->user[0] ? c->user : "-",
	        item ? " item=" : "", item ? item : "", text);
}

/* Error answer plus its log line; detail (may be NULL) goes to the log
 * only, for what the client need not see (paths, errno text). Returns the
 * status. */
static int cgi_fail_detail(struct cgi_ctx *c, int status, const char *detail, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));
static int cgi_fail_detail(struct cgi_ctx *c, int status, const char *detail, const char *fmt,
                           ...)
{
	char text[CGI_TEXT_MAX], logtext[CGI_TEXT_MAX + ZD_ERR_MSG_MAX + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	c->status = status;
	if (cgi_answer_error(c->out, status, text) < 0)
		c->io_failed = 1;
	if (detail != NULL && detail[0] != '\0') {
		snprintf(logtext, sizeof logtext, "%s: %s", text, detail);
		cgi_log(c, NULL, logtext);
	} else {
		cgi_log(c, NULL, text);
	}
	return status;
}

#define cgi_fail(c, status, ...) cgi_fail_detail(c, status, NULL, __VA_ARGS__)

/* 200 with body (already encoded) plus its log line. */
static int cgi_ok(struct cgi_ctx *c, const char *body, const char *item, const char *logtext)
{
	c->status = 200;
	if (cgi_write(c->out, 200, "", body) < 0)
		c->io_failed = 1;
	cgi_log(c, item, logtext);
	return 200;
}

/* The outcome of an endpoint served by another module (cgi.h). */
static int cgi_other(struct cgi_ctx *c, int status, const struct cgi_answer *a)
{
	if (!a->written)
		return cgi_fail(c, status >= 400 ? status : 500, "%s",
		                a->text[0] ? a->text : "internal error");
	c->status = status;
	if (status < 0) {
		c->io_failed = 1;
		c->status = 500;
	}
	cgi_log(c, NULL, a->text);
	return status;
}

/* The endpoint path: SCRIPT_NAME + PATH_INFO, else the path of REQUEST_URI.
 * Matched exactly; the bytes are never used to build a file name. */
static enum cgi_endpoint cgi_route(const char *path)
{
	if (strcmp(path, "/CMD_API_LOGIN_TEST") == 0)
		return CGI_EP_LOGIN_TEST;
	if (strcmp(path, "/CMD_API_DNS_ADMIN") == 0)
		return CGI_EP_DNS_ADMIN;
	if (strcmp(path, "/internal") == 0 || strncmp(path, "/internal/", 10) == 0)
		return CGI_EP_INTERNAL;
	if (strcmp(path, "/status") == 0)
		return CGI_EP_STATUS;
	if (strcmp(path, "/metrics") == 0)
		return CGI_EP_METRICS;
	return CGI_EP_NONE;
}

static enum cgi_endpoint cgi_find_path(struct cgi_ctx *c)
{
	const struct cgi_request *r = c->req;
	enum cgi_endpoint ep = CGI_EP_NONE;
	size_t n;
	int len;

	len = snprintf(c->path, sizeof c->path, "%s%s", r->script_name ? r->script_name : "",
	               r->path_info ? r->path_info : "");
	if (len >= 0 && (size_t)len < sizeof c->path)
		ep = cgi_route(c->path);
	if (ep == CGI_EP_NONE && r->request_uri != NULL) {
		n = strcspn(r->request_uri, "?");
		if (n < sizeof c->path) {
			memcpy(c->path, r->request_uri, n);
			c->path[n] = '\0';
			ep = cgi_route(c->path);
		}
	}
	if (ep == CGI_EP_NONE && (len < 0 || (size_t)len >= sizeof c->path))
		str_copy(c->path, "(too long)", sizeof c->path);
	return ep;
}

/* Read exactly len bytes of body into a malloc'd NUL-terminated buffer. */
static int cgi_read_body(struct cgi_ctx *c, size_t len, char **out)
{
	char *buf;
	size_t got = 0, n;

	*out = NULL;
	buf = malloc(len + 1);
	if (buf == NULL)
		return ZD_ENOMEM;
	while (got < len) {
		n = fread(buf + got, 1, len - got, c->in);
		if (n == 0)
			break;
		got += n;
	}
	if (got < len) {
		free(buf);
		return ZD_EIO;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static int cgi_flag_on(const char *v)
{
	return v != NULL && (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	                     strcmp(v, "1") == 0);
}

/* PROTOCOL.md 3.2, from the zones.idx snapshot; never waits for a drain. */
static int cgi_exists(struct cgi_ctx *c, const struct http_params *p)
{
	char host[256], user[128], ehost[800], euser[400], body[2048];
	const char *domain = http_param_get(p, "domain"), *anc;
	struct zd_err err = { 0 };
	int rc;

	if (domain == NULL)
		return cgi_fail(c, 400, "exists needs a domain");
	c->domain = domain;
	if (domain_check(domain, &err) < 0)
		return cgi_fail(c, 400, "invalid domain: %s", err.msg);
	rc = zindex_lookup(c->cfg->state_dir, domain, host, sizeof host, user, sizeof user, &err);
	if (rc == 0) {
		char details[400], edetails[1300];
		if (host[0] != '\0')
			snprintf(details, sizeof details, "Domain exists on %s", host);
		else
			snprintf(details, sizeof details, "Domain exists");
		http_url_encode(edetails, sizeof edetails, details);
		snprintf(body, sizeof body, "error=0&exists=1&details=%s", edetails);
		return cgi_ok(c, body, NULL, "exists=1");
	}
	if (rc != ZD_ENOENT)
		return cgi_fail_detail(c, 503, err.msg, "zone state unreadable, try again later");
	if (cgi_flag_on(http_param_get(p, "check_for_parent_domain"))) {
		/* nearest held ancestor first; a single label (a TLD) is never asked */
		for (anc = domain_parent(domain); anc != NULL && domain_parent(anc) != NULL;
		     anc = domain_parent(anc)) {
			rc = zindex_lookup(c->cfg->state_dir, anc, host, sizeof host, user, sizeof user,
			                   &err);
			if (rc == ZD_ENOENT)
				continue;
			if (rc < 0)
				return cgi_fail_detail(c, 503, err.msg, "zone state unreadable, try again later");
			if (c->cfg->receiver.parent_exists == 2) {
				char details[400], edetails[1300];
				snprintf(details, sizeof details, "Parent Domain exists on %s", host);
				http_url_encode(edetails, sizeof edetails, details);
				snprintf(body, sizeof body, "error=0&exists=2&details=%s", edetails);
				return cgi_ok(c, body, NULL, "exists=2");
			}
			http_url_encode(ehost, sizeof ehost, host);
			http_url_encode(euser, sizeof euser, user);
			snprintf(body, sizeof body, "error=0&exists=3&hostname=%s&username=%s", ehost,
			         euser);
			return cgi_ok(c, body, NULL, "exists=3");
		}
	}
	return cgi_ok(c, "error=0&exists=0", NULL, "exists=0");
}

/* Enough room in the spool for len more bytes? Short of space or inodes
 * the answer is 503 before anything is written. */
static int cgi_spool_room(struct cgi_ctx *c, uint64_t len, struct zd_err *err)
{
	struct statvfs sv;
	char dir[ZD_PATH_MAX];
	uint64_t avail;

	if (path_join(dir, sizeof dir, c->cfg->spool_dir, "tmp") < 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "spool path too long");
	if (statvfs(dir, &sv) < 0)
		return zd_err_sys(err, ZD_EIO, "spool %s", dir);
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (avail < len + SPOOL_HEADER_MAX + CGI_SPOOL_RESERVE)
		return zd_err_set(err, ZD_ENOSPC, "spool is short of space");
	if (sv.f_files != 0 && sv.f_favail < CGI_SPOOL_INODES)
		return zd_err_set(err, ZD_ENOSPC, "spool is short of inodes");
	return 0;
}

/* Fill the header fields every DirectAdmin item carries. */
static int cgi_item_init(struct cgi_ctx *c, struct spool_item *item, enum spool_action action,
                         const char *domain, const char *hostname, const char *username)
{
	memset(item, 0, sizeof *item);
	item->action = action;
	if (str_copy(item->domain, domain, sizeof item->domain) >= sizeof item->domain ||
	    str_copy(item->hostname, hostname, sizeof item->hostname) >= sizeof item->hostname ||
	    str_copy(item->username, username, sizeof item->username) >= sizeof item->username)
		return ZD_ENAMETOOLONG;
	str_copy(item->source, "directadmin", sizeof item->source);
	str_copy(item->client_ip, c->client_ip, sizeof item->client_ip);
	return 0;
}

/* Open a tmp item and write its header. */
static int cgi_item_open(struct cgi_ctx *c, struct spool_tmp *t, struct spool_item *item,
                         struct zd_err *err)
{
	char head[SPOOL_HEADER_MAX];
	size_t hlen;
	int rc;

	rc = spool_tmp_open(t, c->cfg->spool_dir, err);
	if (rc < 0)
		return rc;
	str_copy(item->name, t->name, sizeof item->name);
	item->sec = t->sec;
	item->usec = t->usec;
	time_iso(item->received, sizeof item->received, t->sec, t->usec);
	rc = spool_header_format(item, head, sizeof head, &hlen);
	if (rc < 0) {
		zd_err_set(err, rc, "spool header does not fit");
		goto fail;
	}
	rc = spool_tmp_write(t, head, hlen, err);
	if (rc < 0)
		goto fail;
	return (int)hlen;
fail:
	spool_tmp_abort(t);
	return rc;
}

/* Stream the body into the open tmp item: CRLF -> LF, control bytes refused.
 * Returns 0, ZD_EINVAL (zone text refused: msg in err), or an error with
 * *short_body set (the client sent less than Content-Length) or not (a
 * spool write failed). */
static int cgi_stream_zone(struct cgi_ctx *c, struct spool_tmp *t, uint64_t len,
                           int *short_body, struct zd_err *err)
{
	unsigned char *in = NULL, *out = NULL;
	uint64_t left = len;
	unsigned long line = 1;
	size_t n, i, o;
	int cr = 0, rc = 0;

	in = malloc(CGI_CHUNK);
	out = malloc(CGI_CHUNK + 1);
	if (in == NULL || out == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	while (left > 0) {
		n = fread(in, 1, left < CGI_CHUNK ? (size_t)left : CGI_CHUNK, c->in);
		if (n == 0) {
			*short_body = 1;
			rc = zd_err_set(err, ZD_EIO, "body shorter than Content-Length");
			goto out;
		}
		left -= n;
		o = 0;
		for (i = 0; i < n; i++) {
			unsigned char b = in[i];
			/* a CR is held back until we know whether an LF follows */
			if (cr) {
				cr = 0;
				if (b != '\n')
					out[o++] = '\r';
			}
			if (b == '\r') {
				cr = 1;
				continue;
			}
			if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7f) {
				rc = zd_err_set(err, ZD_EINVAL, "line %lu: control character 0x%02x", line,
				                (unsigned)b);
				goto out;
			}
			if (b == '\n')
				line++;
			out[o++] = b;
		}
		if (o > 0) {
			rc = spool_tmp_write(t, out, o, err);
			if (rc < 0)
				goto out;
		}
	}
	if (cr) {
		rc = spool_tmp_write(t, "\r", 1, err);
		if (rc < 0)
			goto out;
	}
out:
	free(in);
	free(out);
	return rc;
}

/* Check the zone text as it lies in tmp/, after the header. */
static int cgi_check_tmp(struct spool_tmp *t, size_t hlen, const char *domain,
                         struct zone_info *info, struct zd_err *err)
{
	FILE *fp;
	int rc;

	fp = fopen(t->tmp_path, "re");
	if (fp == NULL)
		return zd_err_sys(err, ZD_EIO, "reopen spool item");
	if (fseeko(fp, (off_t)hlen, SEEK_SET) != 0) {
		rc = zd_err_sys(err, ZD_EIO, "seek in spool item");
		fclose(fp);
		return rc;
	}
	rc = zone_check_fp(domain, fp, info, err);
	fclose(fp);
	return rc;
}

/* A failed commit may fail after the rename (fsync of new/): an error
 * answer must leave nothing in new/, and the name is ours alone. */
static void cgi_take_back(struct spool_tmp *t)
{
	spool_tmp_abort(t);
	if (unlink(t->new_path) < 0 && errno != ENOENT)
		log_error(NULL, "item=%s could not be taken back from new/: %s", t->name,
		          strerror(errno));
}

static int cgi_spool_status(int rc)
{
	/* unwritable, full or broken spool: temporary for DirectAdmin */
	return rc == ZD_ENOMEM ? 500 : 503;
}

/* PROTOCOL.md 3.3: the body is the zone, whatever the Content-Type. */
static int cgi_rawsave(struct cgi_ctx *c, const struct http_params *p)
{
	const char *domain = http_param_get(p, "domain");
	const char *hostname = http_param_get(p, "hostname");
	const char *username = http_param_get(p, "username");
	struct spool_item item;
	struct spool_tmp t;
	struct zone_info info;
	struct zd_err err = { 0 };
	char logtext[128];
	int rc, hlen, held = 0, short_body = 0, status;

	if (domain == NULL)
		return cgi_fail(c, 400, "rawsave needs a domain");
	c->domain = domain;
	if (domain_check(domain, &err) < 0)
		return cgi_fail(c, 400, "invalid domain: %s", err.msg);
	if (hostname == NULL)
		hostname = "";
	if (username == NULL)
		username = "";
	if (hostname_check(hostname, &err) < 0)
		return cgi_fail(c, 400, "invalid hostname: %s", err.msg);
	if (username_check(username, &err) < 0)
		return cgi_fail(c, 400, "invalid username: %s", err.msg);
	if (c->content_length == 0) {
		zone_check(domain, "", 0, NULL, &err);
		c->reason = "bad_zone";
		return cgi_fail(c, 400, "Invalid zone data: %s", err.msg);
	}
	if (cgi_spool_room(c, c->content_length, &err) < 0)
		return cgi_fail_detail(c, 503, zd_err_str(&err), "spool unavailable, try again later");
	if (cgi_item_init(c, &item, SPOOL_RAWSAVE, domain, hostname, username) < 0)
		return cgi_fail(c, 400, "parameter too long");

	hlen = cgi_item_open(c, &t, &item, &err);
	if (hlen < 0) {
		status = cgi_fail_detail(c, cgi_spool_status(hlen), zd_err_str(&err),
		                         "spool unavailable, try again later");
		goto out;
	}
	held = 1;
	rc = cgi_stream_zone(c, &t, c->content_length, &short_body, &err);
	if (rc == 0)
		rc = cgi_check_tmp(&t, (size_t)hlen, domain, &info, &err);
	if (rc < 0) {
		if (!short_body && rc == ZD_EINVAL)
			c->reason = "bad_zone";
		if (short_body)
			status = cgi_fail(c, 400, "body shorter than Content-Length");
		else if (rc == ZD_EINVAL)
			status = cgi_fail(c, 400, "Invalid zone data: %s", err.msg);
		else if (rc == ZD_ENOMEM)
			status = cgi_fail(c, 500, "out of memory");
		else
			status = cgi_fail_detail(c, cgi_spool_status(rc), zd_err_str(&err),
			                         "spool unavailable, try again later");
		goto out;
	}
	/* error=0 only once the item is fsync'd and renamed into new/ */
	held = 0;
	rc = spool_tmp_commit(&t, &err);
	if (rc < 0) {
		cgi_take_back(&t);
		status = cgi_fail_detail(c, cgi_spool_status(rc), zd_err_str(&err),
		                         "spool unavailable, try again later");
		goto out;
	}
	snprintf(logtext, sizeof logtext, "accepted serial=%u records=%zu bytes=%llu", info.serial,
	         info.nrr, (unsigned long long)c->content_length);
	status = cgi_ok(c, "error=0", item.name, logtext);
out:
	if (held)
		spool_tmp_abort(&t);
	return status;
}

static int cgi_strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The domains a delete names: domain= and/or select0..N (same domain when
 * both), each checked, duplicates folded. *out is a malloc'd array of
 * pointers borrowed from p. */
static int cgi_delete_names(const struct http_params *p, const char ***out, size_t *n,
                            char *why, size_t whysz)
{
	const char *domain = http_param_get(p, "domain");
	const char **names = NULL;
	struct zd_err err = { 0 };
	size_t i, j, k = 0;
	int rc = ZD_EINVAL;

	*out = NULL;
	*n = 0;
	names = calloc(p->n + 1, sizeof *names);
	if (names == NULL) {
		snprintf(why, whysz, "out of memory");
		return ZD_ENOMEM;
	}
	for (i = 0; i < p->n; i++) {
		const char *nm = p->v[i].name;
		if (strncmp(nm, "select", 6) != 0 || nm[6] == '\0' ||
		    strspn(nm + 6, "0123456789") != strlen(nm + 6))
			continue;
		if (domain_check(p->v[i].value, &err) < 0) {
			snprintf(why, whysz, "invalid domain in %s: %s", nm, err.msg);
			goto fail;
		}
		if (domain != NULL && strcmp(domain, p->v[i].value) != 0) {
			snprintf(why, whysz, "domain and %s name different domains", nm);
			goto fail;
		}
		names[k++] = p->v[i].value;
	}
	/* one item per domain, however often it is named */
	if (k > 1) {
		qsort(names, k, sizeof *names, cgi_strp_cmp);
		for (i = 1, j = 1; i < k; i++)
			if (strcmp(names[i], names[j - 1]) != 0)
				names[j++] = names[i];
		k = j;
	}
	if (domain != NULL) {
		if (domain_check(domain, &err) < 0) {
			snprintf(why, whysz, "invalid domain: %s", err.msg);
			goto fail;
		}
		if (k == 0)
			names[k++] = domain;
	}
	if (k == 0) {
		snprintf(why, whysz, "delete names no domain (domain or select0)");
		goto fail;
	}
	*out = names;
	*n = k;
	return 0;
fail:
	free(names);
	return rc;
}

/* PROTOCOL.md 3.4: one item per domain, all or nothing. */
static int cgi_delete(struct cgi_ctx *c, const struct http_params *p)
{
	const char *hostname = http_param_get(p, "hostname");
	const char *username = http_param_get(p, "username");
	const char **names = NULL;
	char why[CGI_TEXT_MAX], path[ZD_PATH_MAX], newdir[ZD_PATH_MAX];
	char (*items)[SPOOL_NAME_MAX] = NULL;
	struct spool_item item;
	struct spool_tmp t;
	struct zd_err err = { 0 };
	size_t n = 0, i, ndone = 0;
	int rc, status;

	if (hostname == NULL)
		hostname = "";
	if (username == NULL)
		username = "";
	rc = cgi_delete_names(p, &names, &n, why, sizeof why);
	if (rc < 0) {
		c->domain = http_param_get(p, "domain") ? http_param_get(p, "domain")
		                                        : http_param_get(p, "select0");
		return cgi_fail(c, rc == ZD_ENOMEM ? 500 : 400, "%s", why);
	}
	c->domain = names[0];
	if (hostname_check(hostname, &err) < 0) {
		status = cgi_fail(c, 400, "invalid hostname: %s", err.msg);
		goto out;
	}
	if (username_check(username, &err) < 0) {
		status = cgi_fail(c, 400, "invalid username: %s", err.msg);
		goto out;
	}
	if (cgi_spool_room(c, (uint64_t)n * SPOOL_HEADER_MAX, &err) < 0) {
		status = cgi_fail_detail(c, 503, zd_err_str(&err), "spool unavailable, try again later");
		goto out;
	}
	items = calloc(n, sizeof *items);
	if (items == NULL) {
		status = cgi_fail(c, 500, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (cgi_item_init(c, &item, SPOOL_DELETE, names[i], hostname, username) < 0) {
			rc = zd_err_set(&err, ZD_ENAMETOOLONG, "parameter too long");
			break;
		}
		rc = cgi_item_open(c, &t, &item, &err);
		if (rc < 0)
			break;
		rc = spool_tmp_commit(&t, &err);
		if (rc < 0) {
			cgi_take_back(&t);
			break;
		}
		str_copy(items[ndone], item.name, sizeof items[ndone]);
		ndone++;
	}
	if (i < n) {
		/* all or nothing: take back what this request already put into new/ */
		size_t j;
		path_join(newdir, sizeof newdir, c->cfg->spool_dir, "new");
		for (j = 0; j < ndone; j++)
			if (path_join(path, sizeof path, newdir, items[j]) < 0 || unlink(path) < 0)
				log_error(names[j], "item=%s could not be taken back: %s", items[j],
				          strerror(errno));
		status = cgi_fail_detail(c, cgi_spool_status(rc), zd_err_str(&err),
		                         "spool unavailable, try again later");
		goto out;
	}
	/* one log line per item, so a grep for the item name finds its request */
	for (i = 0; i + 1 < n; i++) {
		c->domain = names[i];
		c->status = 200;
		cgi_log(c, items[i], "accepted delete");
	}
	c->domain = names[n - 1];
	status = cgi_ok(c, "error=0", items[n - 1], "accepted delete");
out:
	free(items);
	free(names);
	return status;
}

static int cgi_dns_admin(struct cgi_ctx *c)
{
	const struct cgi_request *r = c->req;
	const char *method = r->method ? r->method : "";
	struct http_params p = { 0 };
	struct zd_err err = { 0 };
	char *body = NULL;
	int is_post, status;

	is_post = strcmp(method, "POST") == 0;
	if (!is_post && strcmp(method, "GET") != 0)
		return cgi_fail(c, 405, "method %s not allowed", method);
	if (r->query != NULL && http_form_parse(&p, r->query, strlen(r->query), &err) < 0) {
		status = cgi_fail(c, 400, "bad query string: %s", err.msg);
		goto out;
	}
	c->action = http_param_get(&p, "action");
	/* without an action in the query, a POST body is a form (DA's delete) */
	if (c->action == NULL && is_post && c->content_length > 0) {
		if (cgi_read_body(c, (size_t)c->content_length, &body) < 0) {
			status = cgi_fail(c, 400, "body shorter than Content-Length");
			goto out;
		}
		if (http_form_parse(&p, body, (size_t)c->content_length, &err) < 0) {
			status = cgi_fail(c, 400, "no action in the query string, and the body is "
			                          "not a form: %s", err.msg);
			goto out;
		}
		c->action = http_param_get(&p, "action");
		if (c->action == NULL) {
			status = cgi_fail(c, 400, "no action");
			goto out;
		}
		if (strcmp(c->action, "rawsave") == 0) {
			status = cgi_fail(c, 400, "rawsave takes its parameters in the query string "
			                          "and the zone as the body");
			goto out;
		}
	}
	if (c->action == NULL) {
		if (is_post && c->content_length == 0)
			status = cgi_ok(c, "error=0&text=OK", NULL, "empty POST");
		else
			status = cgi_fail(c, 400, "no action");
		goto out;
	}
	if (strcmp(c->action, "exists") == 0) {
		status = cgi_exists(c, &p);
	} else if (strcmp(c->action, "rawsave") == 0) {
		status = is_post ? cgi_rawsave(c, &p) : cgi_fail(c, 405, "rawsave needs POST");
	} else if (strcmp(c->action, "delete") == 0) {
		status = is_post ? cgi_delete(c, &p) : cgi_fail(c, 405, "delete needs POST");
	} else {
		status = cgi_fail(c, 400, "unknown action");
	}
out:
	/* c->action points into p, freed here: cgi_count() gets a static name */
	if (status == 200 && c->action != NULL && strcmp(c->action, "rawsave") == 0)
		c->accepted = COUNTER_ACCEPTED_RAWSAVE;
	else if (status == 200 && c->action != NULL && strcmp(c->action, "delete") == 0)
		c->accepted = COUNTER_ACCEPTED_DELETE;
	c->action = NULL;
	http_params_free(&p);
	free(body);
	return status;
}

/* Read and drop a body nobody needs (login test), so the web server can
 * finish writing it; at most max_body. */
static void cgi_drain(struct cgi_ctx *c)
{
	char buf[4096];
	uint64_t left = c->content_length;
	size_t n;

	if (left > c->cfg->receiver.max_body)
		return;
	while (left > 0) {
		n = fread(buf, 1, left < sizeof buf ? (size_t)left : sizeof buf, c->in);
		if (n == 0)
			break;
		left -= n;
	}
}

/* One increment of spool_dir/counters per request outcome (counters.h);
 * without the file nothing is counted, and counting never fails a request. */
static void cgi_count(const struct cgi_ctx *c)
{
	char name[COUNTERS_NAME_MAX];
	const char *reason;
	struct zd_err err = { 0 };
	int rc;

	if (c->status >= 200 && c->status < 300) {
		if (c->accepted == NULL)
			return;
		str_copy(name, c->accepted, sizeof name);
	} else {
		switch (c->status) {
		case 400: reason = c->reason ? c->reason : "bad_request"; break;
		case 401: reason = "auth"; break;
		case 403: reason = "forbidden"; break;
		case 404: reason = "not_found"; break;
		case 405: reason = "method"; break;
		case 413: reason = "too_large"; break;
		case 503: reason = "unavailable"; break;
		default: reason = "internal"; break;
		}
		snprintf(name, sizeof name, "%s%s", COUNTER_REJECTED_PREFIX, reason);
	}
	rc = counters_add(c->cfg->spool_dir, name, 1, &err);
	if (rc != 0 && rc != ZD_ENOENT)
		log_warning(NULL, "counter %s not counted: %s", name, zd_err_str(&err));
}

int cgi_serve(const struct config *cfg, const struct cgi_request *req, FILE *in, FILE *out)
{
	struct cgi_ctx c;
	struct cgi_answer ans = { 0, "" };
	struct zd_err err = { 0 };
	char pass[HTTP_CRED_MAX + 1];
	unsigned char addr[16];
	enum cgi_endpoint ep;
	const char *method;
	int rc, status;

	memset(&c, 0, sizeof c);
	memset(pass, 0, sizeof pass);
	c.cfg = cfg;
	c.req = req;
	c.in = in;
	c.out = out;
	method = req->method ? req->method : "";
	/* Client-Ip is REMOTE_ADDR only, and only when it is an address */
	if (req->remote_addr != NULL && strlen(req->remote_addr) < sizeof c.client_ip &&
	    (inet_pton(AF_INET, req->remote_addr, addr) == 1 ||
	     inet_pton(AF_INET6, req->remote_addr, addr) == 1))
		str_copy(c.client_ip, req->remote_addr, sizeof c.client_ip);
	ep = cgi_find_path(&c);

	/* never an unauthenticated receiver */
	if (cfg->receiver.nusers == 0) {
		status = cgi_fail(&c, 500, "receiver has no users configured (receiver.users)");
		goto out;
	}
	if (ep == CGI_EP_NONE) {
		status = cgi_fail(&c, 404, "no such endpoint");
		goto out;
	}
	if (auth_addr_allowed(cfg->receiver.allow_from, cfg->receiver.nallow_from, c.client_ip,
	                      &err) < 0) {
		status = cgi_fail(&c, 403, "client not allowed");
		goto out;
	}
	rc = http_basic_auth(req->authorization, c.user, sizeof c.user, pass, sizeof pass, &err);
	if (ep == CGI_EP_INTERNAL) {
		/* peers only: DirectAdmin's accounts get 403, everyone else 401 */
		if (rc == 0 &&
		    auth_check_user(cfg->peers.users, cfg->peers.nusers, c.user, pass, &err) == 0) {
			status = cgi_other(&c, peer_export_serve(cfg, req, out, &ans), &ans);
			goto out;
		}
		if (rc == 0 && auth_check_user(cfg->receiver.users, cfg->receiver.nusers, c.user,
		                               pass, &err) == 0) {
			status = cgi_fail(&c, 403, "not a peer account");
			goto out;
		}
		status = cgi_fail(&c, 401, "authentication required");
		goto out;
	}
	if (rc == 0)
		rc = auth_check_user(cfg->receiver.users, cfg->receiver.nusers, c.user, pass, &err);
	if (rc < 0) {
		status = cgi_fail(&c, 401, "authentication failed");
		goto out;
	}
	if (ep == CGI_EP_STATUS || ep == CGI_EP_METRICS) {
		status = cgi_other(&c, status_serve(cfg, req, ep == CGI_EP_METRICS, out, &ans), &ans);
		goto out;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) {
		status = cgi_fail(&c, 405, "method not allowed");
		goto out;
	}
	if (strcmp(method, "POST") == 0) {
		if (http_content_length(req->content_length, &c.content_length, &err) < 0) {
			status = cgi_fail(&c, 400, "%s", err.msg);
			goto out;
		}
		/* decided before reading a byte */
		if (c.content_length > cfg->receiver.max_body) {
			status = cgi_fail(&c, 413, "body larger than receiver.max_body (%llu bytes)",
			                  (unsigned long long)cfg->receiver.max_body);
			goto out;
		}
	}
	if (ep == CGI_EP_LOGIN_TEST) {
		cgi_drain(&c);
		status = cgi_ok(&c, "error=0&text=Login%20OK", NULL, "login ok");
		goto out;
	}
	status = cgi_dns_admin(&c);
out:
	explicit_bzero(pass, sizeof pass);
	cgi_count(&c);
	if (c.io_failed)
		return ZD_EIO;
	return status;
}

void cgi_request_from_env(struct cgi_request *req)
{
	memset(req, 0, sizeof *req);
	req->method = getenv("REQUEST_METHOD");
	req->script_name = getenv("SCRIPT_NAME");
	req->path_info = getenv("PATH_INFO");
	req->request_uri = getenv("REQUEST_URI");
	req->query = getenv("QUERY_STRING");
	req->content_length = getenv("CONTENT_LENGTH");
	req->content_type = getenv("CONTENT_TYPE");
	req->authorization = getenv("HTTP_AUTHORIZATION");
	req->remote_addr = getenv("REMOTE_ADDR");
}

int cgi_handle(const struct config *cfg, FILE *in, FILE *out)
{
	struct cgi_request req;

	cgi_request_from_env(&req);
	return cgi_serve(cfg, &req, in, out);
}
