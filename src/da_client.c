/* da_client.c -- a DirectAdmin server's domain list (PROTOCOL.md section 7), with libcurl
 *
 * A listing only counts when it is complete (PROTOCOL.md section 10, trap 2:
 * an HTML login page, a redirect, a 500 or a cut-short body once became an
 * empty listing that was trusted, and every zone was deleted). So every
 * doubt here is an error, never a shorter list:
 *  - each page answers 200, not text/html, and parses (jansson) completely;
 *  - info.total_pages is given and the same on every page; current_page,
 *    ipp and rows, where given, agree with what was read;
 *  - a 3xx to Basic auth means DirectAdmin "Evolution": POST /CMD_LOGIN
 *    once, keep the session cookie (curl's in-memory cookie engine, sent
 *    only back to the same host), ask again without Basic auth; a 3xx then
 *    is a failure. No redirect is ever followed, so no request leaves the
 *    configured origin;
 *  - per-request timeouts and the caller's total deadline; answers over
 *    DA_BODY_MAX are cut off and fail.
 * Names are lower-cased and checked like pushed domains; a listed name
 * zonedrop could never hold is counted (invalid) and otherwise ignored:
 * being listed only ever protects a zone. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "zonedrop/da_client.h"
#include "zonedrop/domain.h"
#include "zonedrop/util.h"

#define DA_REQUEST_TIMEOUT_MS 30000
#define DA_CONNECT_TIMEOUT_MS 10000
#define DA_PASSWORD_MAX 4096

/* ------------------------------------------------------------ the listing */

void da_listing_free(struct da_listing *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->domains[i]);
	free(l->domains);
	memset(l, 0, sizeof *l);
}

static int da_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void da_listing_finish(struct da_listing *l)
{
	size_t i, o = 0;

	if (l->n == 0)
		return;
	qsort(l->domains, l->n, sizeof *l->domains, da_cmp);
	for (i = 0; i < l->n; i++) {
		if (o > 0 && strcmp(l->domains[o - 1], l->domains[i]) == 0) {
			free(l->domains[i]);
			continue;
		}
		l->domains[o++] = l->domains[i];
	}
	l->n = o;
}

int da_listing_has(const struct da_listing *l, const char *domain)
{
	const char *key = domain;

	return l->n > 0 && bsearch(&key, l->domains, l->n, sizeof *l->domains, da_cmp) != NULL;
}

/* One listed name (len bytes, not NUL-terminated): lower-cased, one trailing
 * dot dropped, checked. ZD_E2BIG past DA_DOMAINS_MAX. */
static int da_add(struct da_listing *l, const char *s, size_t len, struct zd_err *err)
{
	char name[256];
	size_t i;

	l->rows++;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof name) {
		l->invalid++;
		return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0') {
			l->invalid++;
			return 0;
		}
		name[i] = (char)(c < 0x80 ? tolower(c) : c);
	}
	name[len] = '\0';
	if (domain_check(name, NULL) != 0) {
		l->invalid++;
		return 0;
	}
	if (l->n >= DA_DOMAINS_MAX)
		return zd_err_set(err, ZD_E2BIG, "more than %u domains listed", DA_DOMAINS_MAX);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		char **nd = realloc(l->domains, ncap * sizeof *nd);

		if (nd == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory for the listing");
		l->domains = nd;
		l->cap = ncap;
	}
	if ((l->domains[l->n] = strdup(name)) == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory for the listing");
	l->n++;
	return 0;
}

/* ------------------------------------------------------------------ JSON */

/* A count in info: a JSON integer, or a string of 1-9 digits (DirectAdmin
 * sends numbers as strings). -1 when absent; -2 when present but not a count. */
static long da_json_count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t i;

	if (v == NULL || json_is_null(v))
		return -1;
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		return x < 0 || x > 1000000000 ? -2 : (long)x;
	}
	if (!json_is_string(v))
		return -2;
	s = json_string_value(v);
	for (i = 0; s[i] != '\0'; i++)
		if (!isdigit((unsigned char)s[i]) || i >= 9)
			return -2;
	return i == 0 ? -2 : strtol(s, NULL, 10);
}

static int da_key_is_row(const char *k)
{
	size_t i;

	for (i = 0; k[i] != '\0'; i++)
		if (!isdigit((unsigned char)k[i]) || i >= 9)
			return 0;
	return i > 0;
}

int da_parse_json_page(const char *buf, size_t len, struct da_listing *l, long *total_pages,
                       long *rows, long *ipp, long *current_page, size_t *nrows,
                       struct zd_err *err)
{
	json_error_t je;
	json_t *root = NULL, *info, *v;
	const char *key;
	char safe[128];
	size_t found = 0;
	int rc = 0;

	*total_pages = *rows = *ipp = *current_page = -1;
	*nrows = 0;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return zd_err_set(err, ZD_EINVAL, "not JSON: line %d column %d: %s", je.line, je.column,
		                  str_safe(safe, sizeof safe, je.text, strlen(je.text)));
	if (!json_is_object(root)) {
		rc = zd_err_set(err, ZD_EINVAL, "JSON answer is not an object");
		goto out;
	}
	if ((v = json_object_get(root, "error")) != NULL) {
		const char *t = json_is_string(v) ? json_string_value(v) : "(not a string)";
		rc = zd_err_set(err, ZD_EINVAL, "DirectAdmin answered error: %s",
		                str_safe(safe, sizeof safe, t, strlen(t)));
		goto out;
	}
	info = json_object_get(root, "info");
	if (info == NULL || !json_is_object(info)) {
		rc = zd_err_set(err, ZD_EINVAL, "no \"info\" object: not a domain listing");
		goto out;
	}
	*total_pages = da_json_count(info, "total_pages");
	*rows = da_json_count(info, "rows");
	*ipp = da_json_count(info, "ipp");
	*current_page = da_json_count(info, "current_page");
	if (*total_pages < 1 || *total_pages > DA_PAGES_MAX) {
		rc = zd_err_set(err, ZD_EINVAL, "info.total_pages missing or out of range");
		goto out;
	}
	if (*rows == -2 || *ipp == -2 || *current_page == -2) {
		rc = zd_err_set(err, ZD_EINVAL, "info.rows/ipp/current_page is not a count");
		goto out;
	}
	json_object_foreach(root, key, v) {
		json_t *d;
		const char *s;

		if (!da_key_is_row(key))
			continue;   /* "info" and whatever else DirectAdmin adds */
		d = json_is_object(v) ? json_object_get(v, "domain") : v;
		if (d == NULL || !json_is_string(d)) {
			rc = zd_err_set(err, ZD_EINVAL, "row \"%s\" has no \"domain\" string",
			                str_safe(safe, sizeof safe, key, strlen(key)));
			goto out;
		}
		s = json_string_value(d);
		if ((rc = da_add(l, s, json_string_length(d), err)) != 0)
			goto out;
		found++;
	}
	*nrows = found;
out:
	json_decref(root);
	return rc;
}

/* ---------------------------------------------------------------- legacy */

static int da_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) (%XX, '+') into out; ZD_EINVAL on a bad escape or a control byte. */
static int da_unescape(const char *s, size_t len, char *out, size_t outsz, size_t *olen)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, lo;

			if (i + 2 >= len)
				return ZD_EINVAL;
			h = da_hex((unsigned char)s[i + 1]);
			lo = da_hex((unsigned char)s[i + 2]);
			if (h < 0 || lo < 0)
				return ZD_EINVAL;
			c = h * 16 + lo;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return ZD_EINVAL;
		if (o + 1 >= outsz)
			return ZD_E2BIG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*olen = o;
	return 0;
}

static int da_parse_form(const char *buf, size_t len, struct da_listing *l, struct zd_err *err)
{
	size_t pos = 0;
	char key[64], val[512], safe[128];

	while (pos < len) {
		const char *p = buf + pos, *amp = memchr(p, '&', len - pos), *eq;
		size_t plen = amp ? (size_t)(amp - p) : len - pos, klen, vlen;
		int rc;

		pos += plen + 1;
		while (plen > 0 && (p[plen - 1] == '\n' || p[plen - 1] == '\r'))
			plen--;   /* a final newline after the last pair */
		if (plen == 0)
			continue;
		eq = memchr(p, '=', plen);
		if (eq == NULL)
			return zd_err_set(err, ZD_EINVAL, "legacy listing: a piece without '='");
		if (da_unescape(p, (size_t)(eq - p), key, sizeof key, &klen) != 0)
			return zd_err_set(err, ZD_EINVAL, "legacy listing: bad key");
		if (strcmp(key, "list[]") != 0)
			return zd_err_set(err, ZD_EINVAL, "legacy listing: unexpected key \"%s\" (%s)",
			                  str_safe(safe, sizeof safe, key, klen),
			                  strcmp(key, "error") == 0 ? "an error answer" : "not a listing");
		rc = da_unescape(eq + 1, plen - (size_t)(eq + 1 - p), val, sizeof val, &vlen);
		if (rc != 0)
			return zd_err_set(err, ZD_EINVAL, "legacy listing: bad value");
		if ((rc = da_add(l, val, vlen, err)) != 0)
			return rc;
	}
	return 0;
}

static int da_parse_lines(const char *buf, size_t len, struct da_listing *l, struct zd_err *err)
{
	size_t pos = 0, line = 0;

	while (pos < len) {
		const char *p = buf + pos, *nl = memchr(p, '\n', len - pos);
		size_t plen = nl ? (size_t)(nl - p) : len - pos, i;
		int rc;

		pos += plen + 1;
		line++;
		while (plen > 0 && (p[plen - 1] == '\r' || p[plen - 1] == ' ' || p[plen - 1] == '\t'))
			plen--;
		while (plen > 0 && (p[0] == ' ' || p[0] == '\t')) {
			p++;
			plen--;
		}
		if (plen == 0)
			continue;
		/* a line that is no name at all means this is not a listing (garbage,
		 * an error text): refuse the whole answer rather than skip the line */
		for (i = 0; i < plen; i++) {
			unsigned char c = (unsigned char)p[i];
			if (!(isalnum(c) || c == '.' || c == '-' || c == '_'))
				return zd_err_set(err, ZD_EINVAL, "listing line %zu is not a domain name", line);
		}
		if ((rc = da_add(l, p, plen, err)) != 0)
			return rc;
	}
	return 0;
}

int da_parse_legacy(const char *buf, size_t len, struct da_listing *l, struct zd_err *err)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f || c >= 0x80)
			return zd_err_set(err, ZD_EINVAL, "listing holds control or 8-bit bytes: not a "
			                  "domain list");
	}
	if (memchr(buf, '=', len) != NULL) {
		l->format = DA_FMT_LEGACY;
		return da_parse_form(buf, len, l, err);
	}
	l->format = DA_FMT_LINES;
	return da_parse_lines(buf, len, l, err);
}

int da_detect(const char *buf, size_t len, const char *ctype, enum da_format *fmt,
              struct zd_err *err)
{
	size_t i = 0;

	*fmt = DA_FMT_NONE;
	if (ctype != NULL && strncasecmp(ctype, "text/html", 9) == 0)
		return zd_err_set(err, ZD_EINVAL, "answer is text/html (a login or error page?)");
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && buf[i] == '{') {
		*fmt = DA_FMT_JSON;
		return 0;
	}
	if (i < len && buf[i] == '<')
		return zd_err_set(err, ZD_EINVAL, "answer looks like HTML (a login or error page?)");
	if (len - i >= 6 && (strncmp(buf + i, "error=", 6) == 0 || memmem(buf + i, len - i, "&error=", 7) != NULL))
		return zd_err_set(err, ZD_EINVAL, "DirectAdmin answered an error");
	*fmt = DA_FMT_LEGACY;
	return 0;
}

/* ------------------------------------------------------------------ HTTP */

struct da_resp {
	char *buf;
	size_t len, cap;
	int too_big;
	long status;
	char ctype[128];
};

struct da_http {
	CURL *cu;
	const struct config_da_server *da;
	const struct da_fetch_opts *o;
	char base[2048];          /* url without a trailing '/' */
	char password[DA_PASSWORD_MAX];
	char errbuf[CURL_ERROR_SIZE];
	int session;              /* cookie only, no Basic auth */
	int64_t timeout_ms;
};

static size_t da_write(char *p, size_t sz, size_t nm, void *arg)
{
	struct da_resp *r = arg;
	size_t n = sz * nm;

	if (r->len + n > DA_BODY_MAX) {
		r->too_big = 1;
		return 0;   /* stops the transfer with CURLE_WRITE_ERROR */
	}
	if (r->len + n + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap : 65536;
		char *nb;

		while (ncap < r->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(r->buf, ncap)) == NULL)
			return 0;
		r->buf = nb;
		r->cap = ncap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

static void da_resp_reset(struct da_resp *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

/* One request: GET base+path, or POST form when form != NULL. */
static int da_request(struct da_http *h, const char *path, const char *form, struct da_resp *r,
                      struct zd_err *err)
{
	char url[4096];
	int64_t left = h->timeout_ms;
	char *ct = NULL;
	CURLcode cc;
	int n;

	da_resp_reset(r);
	n = snprintf(url, sizeof url, "%s%s", h->base, path);
	if (n < 0 || (size_t)n >= sizeof url)
		return zd_err_set(err, ZD_ENAMETOOLONG, "%s: URL too long", h->base);
	if (h->o != NULL && h->o->deadline_mono_ms > 0) {
		int64_t rest = h->o->deadline_mono_ms - time_mono_ms();
		if (rest <= 0)
			return zd_err_set(err, ZD_ETIMEDOUT, "%s: the run's deadline passed", h->base);
		if (rest < left)
			left = rest;
	}
	curl_easy_setopt(h->cu, CURLOPT_URL, url);
	curl_easy_setopt(h->cu, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(h->cu, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(left < DA_CONNECT_TIMEOUT_MS ? left : DA_CONNECT_TIMEOUT_MS));
	curl_easy_setopt(h->cu, CURLOPT_WRITEDATA, r);
	if (h->session) {
		curl_easy_setopt(h->cu, CURLOPT_HTTPAUTH, (long)CURLAUTH_NONE);
		curl_easy_setopt(h->cu, CURLOPT_USERNAME, NULL);
		curl_easy_setopt(h->cu, CURLOPT_PASSWORD, NULL);
	} else {
		curl_easy_setopt(h->cu, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h->cu, CURLOPT_USERNAME, h->da->user ? h->da->user : "");
		curl_easy_setopt(h->cu, CURLOPT_PASSWORD, h->password);
	}
	if (form != NULL) {
		curl_easy_setopt(h->cu, CURLOPT_POSTFIELDS, form);
		curl_easy_setopt(h->cu, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	} else {
		curl_easy_setopt(h->cu, CURLOPT_HTTPGET, 1L);
	}
	h->errbuf[0] = '\0';
	cc = curl_easy_perform(h->cu);
	if (form != NULL)
		curl_easy_setopt(h->cu, CURLOPT_POSTFIELDS, NULL);
	if (r->too_big)
		return zd_err_set(err, ZD_E2BIG, "%s%s: answer larger than %u bytes", h->base, path,
		                  DA_BODY_MAX);
	if (cc != CURLE_OK) {
		int code = cc == CURLE_OPERATION_TIMEDOUT ? ZD_ETIMEDOUT : ZD_EIO;
		return zd_err_set(err, code, "%s%s: %s", h->base, path,
		                  h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
	}
	curl_easy_getinfo(h->cu, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(h->cu, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
		str_copy(r->ctype, ct, sizeof r->ctype);
	if (r->buf == NULL) {
		r->buf = calloc(1, 1);
		if (r->buf == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory");
	}
	return 0;
}

static int da_read_password(const char *path, char *out, size_t outsz, struct zd_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	out[0] = '\0';
	if (path == NULL)
		return 0;
	if ((rc = file_read_all(path, outsz - 1, &buf, &len, err)) != 0)
		return rc;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	str_copy(out, buf, outsz);
	memset(buf, 0, len);
	free(buf);
	return 0;
}

static int da_is_redirect(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

/* DirectAdmin Evolution: a session instead of Basic auth. */
static int da_login(struct da_http *h, int ipp, struct da_resp *r, struct zd_err *err)
{
	char referer[128], *form = NULL, *u = NULL, *p = NULL, *ref = NULL;
	struct curl_slist *cookies = NULL;
	size_t flen;
	int rc;

	snprintf(referer, sizeof referer, "/CMD_DNS_ADMIN?json=yes&page=1&ipp=%d", ipp);
	u = curl_easy_escape(h->cu, h->da->user ? h->da->user : "", 0);
	p = curl_easy_escape(h->cu, h->password, 0);
	ref = curl_easy_escape(h->cu, referer, 0);
	if (u == NULL || p == NULL || ref == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	flen = strlen(u) + strlen(p) + strlen(ref) + 64;
	if ((form = malloc(flen)) == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(form, flen, "username=%s&password=%s&referer=%s", u, p, ref);
	h->session = 1;   /* the login itself carries the credentials in the form */
	if ((rc = da_request(h, "/CMD_LOGIN", form, r, err)) != 0)
		goto out;
	if (r->status != 200 && !da_is_redirect(r->status)) {
		rc = zd_err_set(err, ZD_EACCES, "%s/CMD_LOGIN: HTTP %ld", h->base, r->status);
		goto out;
	}
	if (curl_easy_getinfo(h->cu, CURLINFO_COOKIELIST, &cookies) != CURLE_OK || cookies == NULL) {
		rc = zd_err_set(err, ZD_EACCES, "%s/CMD_LOGIN: no session cookie (login refused?)",
		                h->base);
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(cookies);
	if (form != NULL) {
		memset(form, 0, strlen(form));
		free(form);
	}
	curl_free(u);
	if (p != NULL) {
		memset(p, 0, strlen(p));
		curl_free(p);
	}
	curl_free(ref);
	return rc;
}

/* One page's answer must be a usable 200 of the listing. */
static int da_answer_ok(struct da_http *h, const char *path, const struct da_resp *r,
                        struct zd_err *err)
{
	if (da_is_redirect(r->status))
		return zd_err_set(err, ZD_EACCES, "%s%s: redirected%s", h->base, path,
		                  h->session ? " after a session login" : "");
	if (r->status == 401 || r->status == 403)
		return zd_err_set(err, ZD_EACCES, "%s%s: HTTP %ld (credentials refused)", h->base, path,
		                  r->status);
	if (r->status != 200)
		return zd_err_set(err, ZD_EIO, "%s%s: HTTP %ld", h->base, path, r->status);
	return 0;
}

static int da_walk(struct da_http *h, struct da_listing *l, struct zd_err *err)
{
	struct da_resp r;
	char path[128];
	long page = 1, total = -1, rows_info = -1, tp, rw, ip, cp;
	size_t nrows, seen = 0;
	int ipp = h->da->ipp > 0 ? h->da->ipp : 1000, rc;
	enum da_format fmt;
	struct zd_err e;

	memset(&r, 0, sizeof r);
	for (;;) {
		snprintf(path, sizeof path, "/CMD_DNS_ADMIN?json=yes&page=%ld&ipp=%d", page, ipp);
		if ((rc = da_request(h, path, NULL, &r, err)) != 0)
			goto out;
		if (page == 1 && !h->session && da_is_redirect(r.status)) {
			if ((rc = da_login(h, ipp, &r, err)) != 0)
				goto out;
			l->session = 1;
			if ((rc = da_request(h, path, NULL, &r, err)) != 0)
				goto out;
		}
		if ((rc = da_answer_ok(h, path, &r, err)) != 0)
			goto out;
		zd_err_clear(&e);
		if ((rc = da_detect(r.buf, r.len, r.ctype, &fmt, &e)) != 0) {
			rc = zd_err_set(err, ZD_EINVAL, "%s%s: %s", h->base, path, e.msg);
			goto out;
		}
		if (fmt != DA_FMT_JSON) {
			if (page != 1) {
				rc = zd_err_set(err, ZD_EINVAL, "%s%s: page %ld is not JSON", h->base, path,
				                page);
				goto out;
			}
			/* the legacy answer is the whole list in one */
			if ((rc = da_parse_legacy(r.buf, r.len, l, &e)) != 0) {
				rc = zd_err_set(err, rc, "%s%s: %s", h->base, path, e.msg);
				goto out;
			}
			break;
		}
		l->format = DA_FMT_JSON;
		if ((rc = da_parse_json_page(r.buf, r.len, l, &tp, &rw, &ip, &cp, &nrows, &e)) != 0) {
			rc = zd_err_set(err, rc, "%s%s: %s", h->base, path, e.msg);
			goto out;
		}
		if (page == 1) {
			total = tp;
			rows_info = rw;
		} else if (tp != total || rw != rows_info) {
			rc = zd_err_set(err, ZD_EINVAL, "%s%s: total_pages/rows changed while paging "
			                "(%ld/%ld, then %ld/%ld): the list changed, try again later",
			                h->base, path, total, rows_info, tp, rw);
			goto out;
		}
		if (cp >= 0 && cp != page) {
			rc = zd_err_set(err, ZD_EINVAL, "%s%s: answered page %ld", h->base, path, cp);
			goto out;
		}
		/* a page before the last holds exactly ipp rows where the server says its ipp */
		if (page < total && ip > 0 && nrows != (size_t)ip) {
			rc = zd_err_set(err, ZD_EINVAL, "%s%s: %zu rows on a page of %ld", h->base, path,
			                nrows, ip);
			goto out;
		}
		if (page < total && nrows == 0) {
			rc = zd_err_set(err, ZD_EINVAL, "%s%s: empty page %ld of %ld", h->base, path, page,
			                total);
			goto out;
		}
		seen += nrows;
		l->pages = page;
		if (page >= total)
			break;
		page++;
	}
	if (l->format == DA_FMT_JSON && rows_info >= 0 && seen != (size_t)rows_info) {
		rc = zd_err_set(err, ZD_EINVAL, "%s: %zu rows read, info.rows says %ld", h->base, seen,
		                rows_info);
		goto out;
	}
	rc = 0;
out:
	da_resp_reset(&r);
	return rc;
}

int da_fetch_listing(const struct config_da_server *da, const struct da_fetch_opts *o,
                     struct da_listing *l, struct zd_err *err)
{
	struct da_http h;
	size_t blen;
	int rc;

	memset(&h, 0, sizeof h);
	memset(l, 0, sizeof *l);
	h.da = da;
	h.o = o;
	h.timeout_ms = o != NULL && o->request_timeout_ms > 0 ? o->request_timeout_ms
	                                                     : DA_REQUEST_TIMEOUT_MS;
	if (da->url == NULL || (strncmp(da->url, "http://", 7) != 0 &&
	                        strncmp(da->url, "https://", 8) != 0))
		return zd_err_set(err, ZD_ECONFIG, "DirectAdmin url must be http:// or https://");
	blen = str_copy(h.base, da->url, sizeof h.base);
	if (blen >= sizeof h.base)
		return zd_err_set(err, ZD_ENAMETOOLONG, "DirectAdmin url too long");
	while (blen > 0 && h.base[blen - 1] == '/')
		h.base[--blen] = '\0';
	if ((rc = da_read_password(da->password_file, h.password, sizeof h.password, err)) != 0)
		return rc;
	h.cu = curl_easy_init();
	if (h.cu == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "curl_easy_init failed");
		goto out;
	}
	curl_easy_setopt(h.cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h.cu, CURLOPT_ERRORBUFFER, h.errbuf);
	curl_easy_setopt(h.cu, CURLOPT_WRITEFUNCTION, da_write);
	curl_easy_setopt(h.cu, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h.cu, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h.cu, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h.cu, CURLOPT_SSL_VERIFYPEER, da->verify_tls ? 1L : 0L);
	curl_easy_setopt(h.cu, CURLOPT_SSL_VERIFYHOST, da->verify_tls ? 2L : 0L);
	curl_easy_setopt(h.cu, CURLOPT_USERAGENT, "zonedrop-reconcile");
	curl_easy_setopt(h.cu, CURLOPT_COOKIEFILE, "");   /* in-memory cookies for the session */
	curl_easy_setopt(h.cu, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)DA_BODY_MAX);
	rc = da_walk(&h, l, err);
	if (rc == 0)
		da_listing_finish(l);
out:
	if (rc != 0)
		da_listing_free(l);
	if (h.cu != NULL)
		curl_easy_cleanup(h.cu);
	memset(h.password, 0, sizeof h.password);
	return rc;
}
