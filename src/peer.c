/* peer.c -- zonedrop-peersync: ask peers for newer zones, spool them with Source: peer
 *
 * A run: every peers.remotes entry is asked for /internal/zones (libcurl,
 * only its own configured credentials, no redirects, http/https only, a
 * size cap and the run's deadline). The list is parsed line by line as it
 * arrives and each entry is decided against state.db at once (peer_decide),
 * so only candidates are kept. A list without its trailer, out of order,
 * or with a line that does not parse is unusable: none of its candidates
 * count. Then, per zone, the best candidate across peers wins; tombstones
 * become delete items, present zones are fetched (?domain=D, several in
 * flight per peer), checked (hash, serial, zone_check) and spooled. The
 * drain checks peer items once more against the state it holds when it
 * applies them (a push may have arrived meanwhile).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "zonedrop/domain.h"
#include "zonedrop/http.h"
#include "zonedrop/log.h"
#include "zonedrop/peer.h"
#include "zonedrop/spool.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "zonedrop/zone.h"

#define PEER_LIST_MAX ((uint64_t)256 * 1024 * 1024)   /* bytes of one list */
#define PEER_CONNECT_MS 10000
#define PEER_LOW_SPEED_S 30                          /* < 1 byte/s this long: give up */
#define PEER_URL_MAX 2048

/* ------------------------------------------------------------------ rule */

const char *peer_verdict_name(enum peer_verdict v)
{
	switch (v) {
	case PEER_KEEP: return "keep";
	case PEER_PULL: return "pull";
	case PEER_DELETE: return "delete";
	case PEER_SUSPECT: return "suspect";
	case PEER_UNDEFINED: return "undefined";
	case PEER_CONFLICT: return "conflict";
	}
	return "?";
}

/* RFC 1982: 1 a newer, -1 a older, 0 equal, 2 undefined (2^31 apart). */
static int peer_serial_cmp(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	if (d == 0)
		return 0;
	if (d == UINT32_C(0x80000000))
		return 2;
	return d < UINT32_C(0x80000000) ? 1 : -1;
}

enum peer_verdict peer_decide(const struct peer_local *l, const struct peer_entry *r,
                              int64_t now_us)
{
	enum peer_verdict v = PEER_KEEP;
	int c;

	if (l->held) {
		c = peer_serial_cmp(r->serial, l->serial);
		if (!r->present && !l->present)
			return PEER_KEEP;           /* deleted on both sides */
		if (c == 2)
			return PEER_UNDEFINED;
	} else {
		c = 1;
	}
	if (!r->present) {
		/* a tombstone beats a present zone with the same or an older serial;
		 * a zone we never held has nothing to delete */
		if (!l->held || c < 0)
			return PEER_KEEP;
		v = PEER_DELETE;
	} else if (!l->held) {
		v = PEER_PULL;
	} else if (!l->present) {
		/* re-created: only a newer serial beats our tombstone */
		v = c > 0 ? PEER_PULL : PEER_KEEP;
	} else if (c != 0) {
		v = c > 0 ? PEER_PULL : PEER_KEEP;
	} else if (l->sha256[0] != '\0' && r->sha256[0] != '\0' && strcmp(l->sha256, r->sha256) == 0) {
		v = PEER_KEEP;                  /* the same text */
	} else if (r->changed_us > l->changed_us) {
		v = PEER_PULL;
	} else if (r->changed_us == l->changed_us && l->sha256[0] != '\0' && r->sha256[0] != '\0') {
		return PEER_CONFLICT;
	}
	if (v == PEER_KEEP)
		return v;
	if (r->changed_us > now_us + (int64_t)PEER_FUTURE_MAX_S * 1000000)
		return PEER_SUSPECT;
	return v;
}

/* -------------------------------------------------------------- parsers */

static int peer_digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int peer_time_parse(const char *s, int64_t *us)
{
	struct tm tm, chk;
	int y, mo, d, h, mi, se, i, frac = 0, nd = 0;
	const char *p;
	time_t t;

	if (s == NULL || strlen(s) < 20 || strlen(s) > 30)
		return ZD_EINVAL;
	if (peer_digits(s, 4, &y) || s[4] != '-' || peer_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    peer_digits(s + 8, 2, &d) || s[10] != 'T' || peer_digits(s + 11, 2, &h) ||
	    s[13] != ':' || peer_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    peer_digits(s + 17, 2, &se))
		return ZD_EINVAL;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			if (nd < 6)
				frac = frac * 10 + (*p - '0');
		if (nd == 0 || nd > 9)
			return ZD_EINVAL;
		for (i = nd; i < 6; i++)
			frac *= 10;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		return ZD_EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return ZD_EINVAL;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se > 59 ? 59 : se;
	t = timegm(&tm);
	if (gmtime_r(&t, &chk) == NULL || chk.tm_mday != d || chk.tm_mon != mo - 1)
		return ZD_EINVAL;   /* 31 February and the like */
	*us = (int64_t)t * 1000000 + frac;
	return 0;
}

static const char *peer_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int peer_field_copy(char *dst, size_t dsz, const char *src)
{
	if (src == NULL || strlen(src) >= dsz)
		return -1;
	str_copy(dst, src, dsz);
	return 0;
}

/* The fields shared by list entries and zone answers. */
static int peer_entry_from(json_t *o, struct peer_entry *e, struct zd_err *err)
{
	const char *state, *changed, *s;
	struct zd_err sub;
	json_t *serial;
	size_t i;

	memset(e, 0, sizeof *e);
	if (peer_field_copy(e->domain, sizeof e->domain, peer_jstr(o, "domain")) != 0)
		return zd_err_set(err, ZD_EINVAL, "no domain");
	if (domain_check(e->domain, &sub) != 0)
		return zd_err_set(err, ZD_EINVAL, "domain: %s", sub.msg);
	state = peer_jstr(o, "state");
	if (state == NULL || (strcmp(state, "present") != 0 && strcmp(state, "deleted") != 0))
		return zd_err_set(err, ZD_EINVAL, "%s: state is not present/deleted", e->domain);
	e->present = strcmp(state, "present") == 0;
	serial = json_object_get(o, "serial");
	if (!json_is_integer(serial) || json_integer_value(serial) < 0 ||
	    json_integer_value(serial) > (json_int_t)UINT32_MAX)
		return zd_err_set(err, ZD_EINVAL, "%s: serial is not 0..4294967295", e->domain);
	e->serial = (uint32_t)json_integer_value(serial);
	changed = peer_jstr(o, "changed");
	if (peer_field_copy(e->changed, sizeof e->changed, changed) != 0 ||
	    peer_time_parse(e->changed, &e->changed_us) != 0)
		return zd_err_set(err, ZD_EINVAL, "%s: changed is not an RFC 3339 UTC time", e->domain);
	if (!e->present)
		return 0;
	s = peer_jstr(o, "hostname");
	if (s == NULL)
		s = "";
	if (peer_field_copy(e->hostname, sizeof e->hostname, s) != 0 ||
	    hostname_check(e->hostname, &sub) != 0)
		return zd_err_set(err, ZD_EINVAL, "%s: hostname not acceptable", e->domain);
	s = peer_jstr(o, "username");
	if (s == NULL)
		s = "";
	if (peer_field_copy(e->username, sizeof e->username, s) != 0 ||
	    username_check(e->username, &sub) != 0)
		return zd_err_set(err, ZD_EINVAL, "%s: username not acceptable", e->domain);
	s = peer_jstr(o, "sha256");
	if (s == NULL || strlen(s) != 64)
		return zd_err_set(err, ZD_EINVAL, "%s: sha256 is not 64 hex digits", e->domain);
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return zd_err_set(err, ZD_EINVAL, "%s: sha256 is not 64 hex digits", e->domain);
	str_copy(e->sha256, s, sizeof e->sha256);
	return 0;
}

int peer_list_line(const char *line, size_t len, struct peer_entry *e, int *trailer,
                   uint64_t *count, struct zd_err *err)
{
	json_error_t je;
	json_t *o, *end, *n;
	int rc;

	*trailer = 0;
	if (len > PEER_LINE_MAX)
		return zd_err_set(err, ZD_EINVAL, "line longer than %d bytes", PEER_LINE_MAX);
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		char safe[64];
		return zd_err_set(err, ZD_EINVAL, "not JSON (%s): %s", je.text,
		                  str_safe(safe, sizeof safe, line, len < 40 ? len : 40));
	}
	if (!json_is_object(o)) {
		rc = zd_err_set(err, ZD_EINVAL, "not a JSON object");
		goto out;
	}
	end = json_object_get(o, "end");
	if (end != NULL) {
		n = json_object_get(o, "count");
		if (!json_is_true(end) || !json_is_integer(n) || json_integer_value(n) < 0 ||
		    json_object_size(o) != 2) {
			rc = zd_err_set(err, ZD_EINVAL, "bad trailer (want {\"end\":true,\"count\":N})");
			goto out;
		}
		*trailer = 1;
		*count = (uint64_t)json_integer_value(n);
		rc = 0;
		goto out;
	}
	rc = peer_entry_from(o, e, err);
out:
	json_decref(o);
	return rc;
}

int peer_zone_parse(const char *buf, size_t len, const char *domain, struct peer_entry *e,
                    char **text, size_t *text_len, struct zd_err *err)
{
	char sha[PEER_SHA256_HEX];
	json_error_t je;
	json_t *o;
	const char *z, *b64;
	size_t zlen;
	char *t = NULL;
	int rc;

	*text = NULL;
	*text_len = 0;
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return zd_err_set(err, ZD_EINVAL, "answer is not JSON: %s (line %d)", je.text, je.line);
	if (!json_is_object(o)) {
		rc = zd_err_set(err, ZD_EINVAL, "answer is not a JSON object");
		goto out;
	}
	if ((rc = peer_entry_from(o, e, err)) != 0)
		goto out;
	if (domain != NULL && strcmp(e->domain, domain) != 0) {
		rc = zd_err_set(err, ZD_EINVAL, "answer is for another domain (%s)", e->domain);
		goto out;
	}
	if (!e->present) {
		rc = 0;
		goto out;
	}
	z = peer_jstr(o, "zone");
	b64 = peer_jstr(o, "zone_base64");
	if ((z == NULL) == (b64 == NULL)) {
		rc = zd_err_set(err, ZD_EINVAL, "answer has no zone text (or two)");
		goto out;
	}
	if (z != NULL) {
		zlen = json_string_length(json_object_get(o, "zone"));
		t = malloc(zlen + 1);
		if (t == NULL) {
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(t, z, zlen);
	} else {
		size_t blen = strlen(b64);
		t = malloc(blen / 4 * 3 + 4);
		if (t == NULL) {
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
			goto out;
		}
		if (http_b64_decode(b64, blen, (unsigned char *)t, blen / 4 * 3 + 3, &zlen) != 0) {
			rc = zd_err_set(err, ZD_EINVAL, "zone_base64 is not base64");
			goto out;
		}
	}
	t[zlen] = '\0';
	peer_sha256_hex(t, zlen, sha);
	if (strcmp(sha, e->sha256) != 0) {
		rc = zd_err_set(err, ZD_EINVAL, "zone text does not match its sha256");
		goto out;
	}
	*text = t;
	*text_len = zlen;
	t = NULL;
	rc = 0;
out:
	free(t);
	json_decref(o);
	return rc;
}

/* ------------------------------------------------------------------ run */

struct ps_cand {
	struct peer_entry e;
	size_t peer;
};

struct ps_pend {
	struct spool_tmp t;
	struct peer_entry e;
	const char *url;
};

struct ps_run {
	const struct config *cfg;
	const struct peer_sync_opts *o;
	struct peer_sync_stats *st;
	struct store *store;          /* NULL: no state yet, we hold nothing */
	int64_t deadline;             /* time_mono_ms() */
	int64_t now_us;
	struct ps_cand *c;
	size_t n, cap;
	char **pass;
	char **base;                  /* URL without trailing '/' */
	struct ps_pend *pend;         /* written to tmp/, not yet in new/ */
	size_t npend, pendcap;
	int *peer_bad;
};

static int64_t ps_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What we hold of domain; the hash only when it can decide (equal serials). */
static int ps_local(struct ps_run *r, const struct peer_entry *e, struct peer_local *l,
                    struct zd_err *err)
{
	struct store_zone z;
	int rc;

	memset(l, 0, sizeof *l);
	if (r->store == NULL)
		return 0;
	rc = store_zone_get(r->store, e->domain, 0, &z, err);
	if (rc == ZD_ENOENT) {
		zd_err_clear(err);
		return 0;
	}
	if (rc != 0)
		return rc;
	l->held = 1;
	l->present = z.present;
	l->serial = z.serial;
	if (peer_time_parse(z.changed, &l->changed_us) != 0)
		l->changed_us = 0;
	if (z.present && e->present && z.serial == e->serial && e->changed_us >= l->changed_us) {
		store_zone_clear(&z);
		rc = store_zone_get(r->store, e->domain, 1, &z, err);
		if (rc != 0)
			return rc;
		if (z.text != NULL)
			peer_sha256_hex(z.text, z.text_len, l->sha256);
	}
	store_zone_clear(&z);
	return 0;
}

static CURL *ps_easy(struct ps_run *r, size_t peer, const char *url)
{
	const struct config_peer_remote *pr = &r->cfg->peers.remotes[peer];
	int64_t left = r->deadline - time_mono_ms();
	CURL *h;

	if (left < 1)
		left = 1;
	h = curl_easy_init();
	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* this peer's own credentials, to this URL only: no redirects, no other scheme */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERNAME, pr->user);
	curl_easy_setopt(h, CURLOPT_PASSWORD, r->pass[peer]);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(left < PEER_CONNECT_MS ? left : PEER_CONNECT_MS));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)PEER_LOW_SPEED_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "zonedrop-peersync");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	return h;
}

/* An HTTP answer that is not 200, in words. */
static void ps_status_text(long code, char *buf, size_t sz)
{
	if (code == 401)
		snprintf(buf, sz, "credentials refused (401)");
	else if (code == 403)
		snprintf(buf, sz, "not a peer account (403)");
	else if (code >= 300 && code < 400)
		snprintf(buf, sz, "answered a redirect (%ld), not followed", code);
	else
		snprintf(buf, sz, "answered HTTP %ld", code);
}

/* ---- the list */

struct ps_list {
	struct ps_run *r;
	size_t peer;
	char line[PEER_LINE_MAX + 1];
	size_t llen;
	char last[256];
	int trailer;
	int bad;
	uint64_t entries, bytes;
	struct zd_err err;
};

static int ps_cand_add(struct ps_run *r, const struct peer_entry *e, size_t peer)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 1024;
		struct ps_cand *nc = realloc(r->c, ncap * sizeof *nc);
		if (nc == NULL)
			return ZD_ENOMEM;
		r->c = nc;
		r->cap = ncap;
	}
	r->c[r->n].e = *e;
	r->c[r->n].peer = peer;
	r->n++;
	return 0;
}

static void ps_list_entry(struct ps_list *L)
{
	struct ps_run *r = L->r;
	const char *url = r->base[L->peer];
	struct peer_entry e;
	struct peer_local l;
	enum peer_verdict v;
	uint64_t count = 0;
	int trailer;

	if (L->trailer) {
		zd_err_set(&L->err, ZD_EINVAL, "data after the trailer");
		L->bad = 1;
		return;
	}
	if (peer_list_line(L->line, L->llen, &e, &trailer, &count, &L->err) != 0) {
		L->bad = 1;
		return;
	}
	if (trailer) {
		if (count != L->entries) {
			zd_err_set(&L->err, ZD_EINVAL, "trailer says %llu entries, the list had %llu",
			           (unsigned long long)count, (unsigned long long)L->entries);
			L->bad = 1;
			return;
		}
		L->trailer = 1;
		return;
	}
	if (strcmp(e.domain, L->last) <= 0) {
		zd_err_set(&L->err, ZD_EINVAL, "list not sorted by domain at %s", e.domain);
		L->bad = 1;
		return;
	}
	str_copy(L->last, e.domain, sizeof L->last);
	L->entries++;
	if (ps_local(r, &e, &l, &L->err) != 0) {
		L->bad = 1;
		return;
	}
	v = peer_decide(&l, &e, r->now_us);
	switch (v) {
	case PEER_KEEP:
		break;
	case PEER_PULL:
	case PEER_DELETE:
		if (ps_cand_add(r, &e, L->peer) != 0) {
			zd_err_set(&L->err, ZD_ENOMEM, "out of memory");
			L->bad = 1;
		}
		break;
	case PEER_SUSPECT:
		r->st->suspect++;
		log_warning(e.domain, "peer=%s serial=%u changed=%s is more than %d s ahead of our "
		            "clock: not trusted, skipped", url, e.serial, e.changed, PEER_FUTURE_MAX_S);
		break;
	case PEER_UNDEFINED:
		r->st->undefined++;
		log_warning(e.domain, "peer=%s serial=%u and ours serial=%u are 2^31 apart "
		            "(RFC 1982 cannot order them): skipped", url, e.serial, l.serial);
		break;
	case PEER_CONFLICT:
		r->st->conflicts++;
		log_warning(e.domain, "peer=%s serial=%u changed=%s: same serial and time as ours but "
		            "other content; kept ours", url, e.serial, e.changed);
		break;
	}
}

static size_t ps_list_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ps_list *L = arg;
	size_t n = size * nmemb, i;

	L->bytes += n;
	if (L->bytes > PEER_LIST_MAX) {
		zd_err_set(&L->err, ZD_E2BIG, "list larger than %llu bytes",
		           (unsigned long long)PEER_LIST_MAX);
		L->bad = 1;
		return 0;
	}
	for (i = 0; i < n && !L->bad; i++) {
		if (data[i] == '\n') {
			L->line[L->llen] = '\0';
			ps_list_entry(L);
			L->llen = 0;
			continue;
		}
		if (L->llen >= PEER_LINE_MAX) {
			zd_err_set(&L->err, ZD_EINVAL, "line longer than %d bytes", PEER_LINE_MAX);
			L->bad = 1;
			break;
		}
		L->line[L->llen++] = data[i];
	}
	return L->bad ? 0 : n;
}

/* Read one peer's list; its candidates join r->c only when it was complete. */
static int ps_list(struct ps_run *r, size_t peer)
{
	const char *url = r->base[peer];
	char full[PEER_URL_MAX], why[128];
	struct ps_list *L;
	size_t before = r->n;
	CURLcode cc;
	long code = 0;
	char *ctype = NULL;
	CURL *h;
	int ok = 0;

	L = calloc(1, sizeof *L);
	if (L == NULL)
		return ZD_ENOMEM;
	L->r = r;
	L->peer = peer;
	snprintf(full, sizeof full, "%s/internal/zones", url);
	h = ps_easy(r, peer, full);
	if (h == NULL) {
		free(L);
		return ZD_ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ps_list_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, L);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
	if (L->bad) {
		log_error(NULL, "peer=%s list unusable: %s", url, zd_err_str(&L->err));
	} else if (cc != CURLE_OK) {
		log_error(NULL, "peer=%s list: %s", url, curl_easy_strerror(cc));
	} else if (code != 200) {
		ps_status_text(code, why, sizeof why);
		log_error(NULL, "peer=%s list: %s", url, why);
	} else {
		if (L->llen > 0) {   /* a last line without its newline */
			L->line[L->llen] = '\0';
			ps_list_entry(L);
		}
		if (L->bad)
			log_error(NULL, "peer=%s list unusable: %s", url, zd_err_str(&L->err));
		else if (!L->trailer)
			log_error(NULL, "peer=%s list incomplete (no trailer after %llu entries): not "
			          "acted upon", url, (unsigned long long)L->entries);
		else if (ctype == NULL || strncmp(ctype, "application/x-ndjson", 20) != 0)
			log_error(NULL, "peer=%s list: Content-Type %s, not application/x-ndjson", url,
			          ctype ? ctype : "(none)");
		else
			ok = 1;
	}
	if (ok) {
		r->st->listed += L->entries;
		log_info(NULL, "peer=%s list: %llu entries, %zu newer than ours", url,
		         (unsigned long long)L->entries, r->n - before);
	} else {
		r->n = before;
		r->peer_bad[peer] = 1;
	}
	curl_easy_cleanup(h);
	free(L);
	return 0;
}

/* ---- spooling */

/* Items are written to tmp/ as they come and moved into new/ in batches:
 * one syncfs() for the batch, then the renames, then one fsync of new/.
 * The same order as spool_tmp_commit() (data on disk before the name), at
 * one journal commit per batch instead of two fsyncs per zone (10k zones:
 * minutes on a busy disk). */
static int ps_spool(struct ps_run *r, const struct peer_entry *e, const char *text, size_t len,
                    const char *url)
{
	struct spool_item it;
	struct zd_err err = { 0 };
	struct ps_pend *p;
	char hdr[SPOOL_HEADER_MAX + 1];
	size_t hlen = 0;
	int rc;

	if (r->o->dry_run) {
		log_info(e->domain, "peer=%s serial=%u changed=%s would be spooled (%s) (dry run)", url,
		         e->serial, e->changed, e->present ? "rawsave" : "delete");
		return 0;
	}
	if (r->npend == r->pendcap) {
		size_t ncap = r->pendcap ? r->pendcap * 2 : 64;
		struct ps_pend *np = realloc(r->pend, ncap * sizeof *np);
		if (np == NULL) {
			log_error(e->domain, "peer=%s cannot spool: out of memory", url);
			return -1;
		}
		r->pend = np;
		r->pendcap = ncap;
	}
	p = &r->pend[r->npend];
	memset(p, 0, sizeof *p);
	memset(&it, 0, sizeof it);
	it.action = e->present ? SPOOL_RAWSAVE : SPOOL_DELETE;
	str_copy(it.domain, e->domain, sizeof it.domain);
	str_copy(it.source, "peer", sizeof it.source);
	str_copy(it.changed, e->changed, sizeof it.changed);
	if (e->present) {
		str_copy(it.hostname, e->hostname, sizeof it.hostname);
		str_copy(it.username, e->username, sizeof it.username);
	} else {
		/* the tombstone's serial lets the drain check the rule again */
		snprintf(it.serial, sizeof it.serial, "%u", e->serial);
	}
	if ((rc = spool_tmp_open(&p->t, r->cfg->spool_dir, &err)) != 0)
		goto fail;
	time_iso(it.received, sizeof it.received, p->t.sec, p->t.usec);
	if ((rc = spool_header_format(&it, hdr, sizeof hdr, &hlen)) != 0) {
		zd_err_set(&err, rc, "cannot format the item header");
		spool_tmp_abort(&p->t);
		goto fail;
	}
	if ((rc = spool_tmp_write(&p->t, hdr, hlen, &err)) != 0 ||
	    (e->present && (rc = spool_tmp_write(&p->t, text, len, &err)) != 0)) {
		spool_tmp_abort(&p->t);
		goto fail;
	}
	if (close(p->t.fd) < 0) {
		zd_err_sys(&err, ZD_EIO, "close %s", p->t.tmp_path);
		p->t.fd = -1;
		unlink(p->t.tmp_path);
		goto fail;
	}
	p->t.fd = -1;
	p->e = *e;
	p->url = url;
	r->npend++;
	return 0;
fail:
	log_error(e->domain, "peer=%s cannot spool: %s", url, zd_err_str(&err));
	return -1;
}

/* Move the written items into new/ (see ps_spool). */
static void ps_spool_flush(struct ps_run *r)
{
	struct zd_err err = { 0 };
	char dir[ZD_PATH_MAX];
	size_t i, moved = 0;
	int fd, synced = 0;

	if (r->npend == 0)
		return;
	if (path_join(dir, sizeof dir, r->cfg->spool_dir, "tmp") == 0 &&
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		synced = syncfs(fd) == 0;
		close(fd);
	}
	for (i = 0; i < r->npend; i++) {
		struct ps_pend *p = &r->pend[i];

		if (!synced) {
			/* no syncfs: each file on its own, as spool_tmp_commit does */
			fd = open(p->t.tmp_path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || fsync(fd) < 0) {
				zd_err_sys(&err, ZD_EIO, "fsync %s", p->t.tmp_path);
				if (fd >= 0)
					close(fd);
				goto bad;
			}
			close(fd);
		}
		if (rename(p->t.tmp_path, p->t.new_path) < 0) {
			zd_err_sys(&err, ZD_EIO, "rename %s into new/", p->t.tmp_path);
			goto bad;
		}
		moved++;
		if (p->e.present)
			r->st->pulled++;
		else
			r->st->deleted++;
		log_info(p->e.domain, "peer=%s item=%s action=%s serial=%u changed=%s spooled", p->url,
		         p->t.name, p->e.present ? "rawsave" : "delete", p->e.serial, p->e.changed);
		continue;
bad:
		log_error(p->e.domain, "peer=%s cannot spool: %s", p->url, zd_err_str(&err));
		unlink(p->t.tmp_path);
		r->st->failed++;
	}
	if (moved > 0 && fsync_dir(r->pend[0].t.new_dir, 1, &err) != 0) {
		log_error(NULL, "%s", zd_err_str(&err));
		r->st->failed++;
	}
	r->npend = 0;
}

/* A fetched zone answer, parsed (hash checked): check the rest, decide again, spool. */
static void ps_fetched(struct ps_run *r, const struct ps_cand *c, const struct peer_entry *ep,
                       const char *text, size_t tlen)
{
	const char *url = r->base[c->peer];
	struct peer_entry e = *ep;
	struct peer_local l;
	struct zone_info info;
	struct zd_err err = { 0 };
	enum peer_verdict v;

	if (e.present) {
		if (memchr(text, '\r', tlen) != NULL || memchr(text, '\0', tlen) != NULL) {
			log_error(e.domain, "peer=%s zone text holds CR or NUL bytes: refused", url);
			goto fail;
		}
		if (tlen > r->cfg->receiver.max_body) {
			log_error(e.domain, "peer=%s zone text larger than receiver.max_body: refused", url);
			goto fail;
		}
		/* exactly the checks a DirectAdmin push gets */
		if (zone_check(e.domain, text, tlen, &info, &err) != 0) {
			log_error(e.domain, "peer=%s serial=%u zone refused: Invalid zone data: %s", url,
			          e.serial, err.msg);
			goto fail;
		}
		if (info.serial != e.serial) {
			log_error(e.domain, "peer=%s zone text has serial %u, its metadata says %u: refused",
			          url, info.serial, e.serial);
			goto fail;
		}
	}
	/* the peer may have changed it since its list: decide on what we got */
	if (ps_local(r, &e, &l, &err) != 0) {
		log_error(e.domain, "state: %s", zd_err_str(&err));
		goto fail;
	}
	v = peer_decide(&l, &e, ps_now_us());
	if (v == PEER_PULL || v == PEER_DELETE) {
		if (ps_spool(r, &e, text, tlen, url) != 0)
			goto fail;
	} else {
		log_info(e.domain, "peer=%s serial=%u: no longer newer than ours when fetched (%s), "
		         "skipped", url, e.serial, peer_verdict_name(v));
	}
	return;
fail:
	r->st->failed++;
}

/* One ?domains= request in flight: up to PEER_BATCH_MAX candidates. */
struct ps_fetch {
	struct ps_run *r;
	size_t peer;
	size_t cands[PEER_BATCH_MAX];
	unsigned char seen[PEER_BATCH_MAX];
	size_t n;
	char *line;
	size_t llen, lcap, lmax;
	int bad, trailer;
	uint64_t lines;
	struct zd_err err;
	CURL *h;
};

static void ps_fetch_line(struct ps_fetch *f)
{
	struct ps_run *r = f->r;
	struct peer_entry e;
	char *text = NULL;
	size_t tlen = 0, i;
	uint64_t count = 0;
	int tr = 0;

	if (f->trailer) {
		zd_err_set(&f->err, ZD_EINVAL, "data after the trailer");
		f->bad = 1;
		return;
	}
	if (f->llen < 64 && memmem(f->line, f->llen, "\"end\"", 5) != NULL) {
		if (peer_list_line(f->line, f->llen, &e, &tr, &count, &f->err) != 0 || !tr) {
			f->bad = 1;
			return;
		}
		if (count != f->lines) {
			zd_err_set(&f->err, ZD_EINVAL, "trailer says %llu answers, got %llu",
			           (unsigned long long)count, (unsigned long long)f->lines);
			f->bad = 1;
			return;
		}
		f->trailer = 1;
		return;
	}
	f->lines++;
	e.domain[0] = '\0';
	if (peer_zone_parse(f->line, f->llen, NULL, &e, &text, &tlen, &f->err) != 0) {
		/* one bad answer: that zone fails, the others stand on their own */
		log_error(e.domain[0] ? e.domain : NULL, "peer=%s zone answer refused: %s",
		          r->base[f->peer], zd_err_str(&f->err));
		r->st->failed++;
		zd_err_clear(&f->err);
		return;
	}
	for (i = 0; i < f->n; i++)
		if (!f->seen[i] && strcmp(r->c[f->cands[i]].e.domain, e.domain) == 0)
			break;
	if (i == f->n) {
		zd_err_set(&f->err, ZD_EINVAL, "an answer for %s, which was not asked for (or twice)",
		           e.domain);
		f->bad = 1;
		free(text);
		return;
	}
	f->seen[i] = 1;
	ps_fetched(r, &r->c[f->cands[i]], &e, text, tlen);
	free(text);
}

static size_t ps_fetch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ps_fetch *f = arg;
	size_t n = size * nmemb, i;

	for (i = 0; i < n && !f->bad; i++) {
		if (data[i] == '\n') {
			ps_fetch_line(f);
			f->llen = 0;
			continue;
		}
		if (f->llen + 1 >= f->lcap) {
			size_t ncap = f->lcap ? f->lcap * 2 : 65536;
			char *nb;
			if (f->llen + 1 >= f->lmax) {
				zd_err_set(&f->err, ZD_E2BIG, "an answer line larger than %zu bytes", f->lmax);
				f->bad = 1;
				break;
			}
			if (ncap > f->lmax)
				ncap = f->lmax;
			nb = realloc(f->line, ncap);
			if (nb == NULL) {
				zd_err_set(&f->err, ZD_ENOMEM, "out of memory");
				f->bad = 1;
				break;
			}
			f->line = nb;
			f->lcap = ncap;
		}
		f->line[f->llen++] = data[i];
	}
	return f->bad ? 0 : n;
}

/* Start a request for idx[*next...]: as many names as fit in one URL. */
static int ps_fetch_start(struct ps_run *r, CURLM *m, struct ps_fetch *f, const size_t *idx,
                          size_t nidx, size_t *next)
{
	char url[PEER_URL_MAX + 8];
	size_t len;
	int k;

	memset(f, 0, sizeof *f);
	f->r = r;
	f->peer = r->c[idx[*next]].peer;
	/* JSON may escape a byte in up to 6: the bound follows receiver.max_body */
	f->lmax = (size_t)r->cfg->receiver.max_body * 6 + 65536;
	k = snprintf(url, sizeof url, "%s/internal/zones?domains=", r->base[f->peer]);
	if (k < 0 || (size_t)k >= PEER_URL_MAX)
		return ZD_ENAMETOOLONG;
	len = (size_t)k;
	/* the names passed domain_check: [a-z0-9.-] only, nothing to escape */
	while (*next < nidx && f->n < PEER_BATCH_MAX) {
		const char *d = r->c[idx[*next]].e.domain;
		size_t dl = strlen(d);
		if (f->n > 0 && len + dl + 1 >= PEER_URL_MAX)
			break;
		if (f->n > 0)
			url[len++] = ',';
		memcpy(url + len, d, dl);
		len += dl;
		url[len] = '\0';
		f->cands[f->n++] = idx[(*next)++];
	}
	f->h = ps_easy(r, f->peer, url);
	if (f->h == NULL)
		return ZD_ENOMEM;
	curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, ps_fetch_write);
	curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->h, CURLOPT_PRIVATE, f);
	if (curl_multi_add_handle(m, f->h) != CURLM_OK) {
		curl_easy_cleanup(f->h);
		f->h = NULL;
		return ZD_ENOMEM;
	}
	return 0;
}

static void ps_fetch_done(struct ps_run *r, CURLM *m, struct ps_fetch *f, CURLcode cc)
{
	const char *url = r->base[f->peer];
	char why[128];
	long code = 0;
	size_t i, missing = 0;

	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
	if (!f->bad && cc == CURLE_OK && code == 200 && f->llen > 0)
		ps_fetch_line(f);   /* a last line without its newline */
	if (f->bad) {
		log_error(NULL, "peer=%s zone answers unusable: %s", url, zd_err_str(&f->err));
		r->peer_bad[f->peer] = 1;
	} else if (cc != CURLE_OK) {
		log_error(NULL, "peer=%s zone fetch: %s", url, curl_easy_strerror(cc));
		r->peer_bad[f->peer] = 1;
	} else if (code != 200) {
		ps_status_text(code, why, sizeof why);
		log_error(NULL, "peer=%s zone fetch: %s", url, why);
		r->peer_bad[f->peer] = 1;
	} else if (!f->trailer) {
		log_error(NULL, "peer=%s zone answers cut short (no trailer)", url);
		r->peer_bad[f->peer] = 1;
	}
	for (i = 0; i < f->n; i++) {
		if (f->seen[i])
			continue;
		missing++;
		if (code == 200 && f->trailer && !f->bad)
			log_error(r->c[f->cands[i]].e.domain, "peer=%s listed it but sent no answer for it",
			          url);
	}
	r->st->failed += missing;
	ps_spool_flush(r);
	curl_multi_remove_handle(m, f->h);
	curl_easy_cleanup(f->h);
	free(f->line);
	memset(f, 0, sizeof *f);
}

/* Fetch the candidates of one peer (indices idx[0..n)) in batches, several in flight. */
static int ps_fetch_peer(struct ps_run *r, const size_t *idx, size_t n)
{
	int par = r->o->parallel > 0 ? r->o->parallel : 4;
	struct ps_fetch *slots;
	size_t next = 0, active = 0, i;
	CURLM *m;
	int running, rc = 0;

	slots = calloc((size_t)par, sizeof *slots);
	m = curl_multi_init();
	if (slots == NULL || m == NULL) {
		free(slots);
		if (m)
			curl_multi_cleanup(m);
		return ZD_ENOMEM;
	}
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)par);
	for (;;) {
		CURLMsg *msg;
		int q;

		for (i = 0; i < (size_t)par && next < n && time_mono_ms() < r->deadline; i++) {
			if (slots[i].h != NULL)
				continue;
			if ((rc = ps_fetch_start(r, m, &slots[i], idx, n, &next)) != 0)
				goto out;
			active++;
		}
		if (active == 0)
			break;
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			rc = ZD_EIO;
			goto out;
		}
		while ((msg = curl_multi_info_read(m, &q)) != NULL) {
			struct ps_fetch *f = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
			ps_fetch_done(r, m, f, msg->data.result);
			active--;
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	if (next < n) {
		log_error(NULL, "peer=%s run deadline reached: %zu zone(s) not fetched",
		          r->base[r->c[idx[0]].peer], n - next);
		r->st->failed += n - next;
		r->peer_bad[r->c[idx[0]].peer] = 1;
	}
out:
	for (i = 0; i < (size_t)par; i++) {
		if (slots[i].h != NULL) {
			curl_multi_remove_handle(m, slots[i].h);
			curl_easy_cleanup(slots[i].h);
			free(slots[i].line);
		}
	}
	curl_multi_cleanup(m);
	free(slots);
	return rc;
}

static int ps_cand_cmp(const void *a, const void *b)
{
	const struct ps_cand *x = a, *y = b;
	int c = strcmp(x->e.domain, y->e.domain);

	if (c != 0)
		return c;
	return x->peer < y->peer ? -1 : x->peer > y->peer;
}

/* Read a password file: the first line, without its line end. */
static int ps_password(const char *path, char **out, struct zd_err *err)
{
	size_t len = 0;
	char *buf = NULL;
	int rc;

	*out = NULL;
	if (path == NULL)
		return zd_err_set(err, ZD_ECONFIG, "no password_file");
	if ((rc = file_read_all(path, 4096, &buf, &len, err)) != 0)
		return rc;
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		free(buf);
		return zd_err_set(err, ZD_ECONFIG, "%s is empty", path);
	}
	*out = buf;
	return 0;
}

int peer_sync_run(const struct config *cfg, const struct peer_sync_opts *o,
                  struct peer_sync_stats *st, struct zd_err *err)
{
	struct peer_sync_opts dflt = { 600000, 4, 0 };
	struct peer_sync_stats localst;
	struct ps_run r;
	size_t np = cfg->peers.nremotes, i, j, w, *idx = NULL, nidx;
	int64_t t0 = time_mono_ms();
	int rc = 0;

	if (o == NULL)
		o = &dflt;
	if (st == NULL)
		st = &localst;
	memset(st, 0, sizeof *st);
	memset(&r, 0, sizeof r);
	r.cfg = cfg;
	r.o = o;
	r.st = st;
	r.deadline = t0 + (o->deadline_ms > 0 ? o->deadline_ms : dflt.deadline_ms);
	r.now_us = ps_now_us();
	if (np == 0)
		return zd_err_set(err, ZD_ECONFIG, "no peers.remotes configured");
	r.pass = calloc(np, sizeof *r.pass);
	r.base = calloc(np, sizeof *r.base);
	r.peer_bad = calloc(np, sizeof *r.peer_bad);
	if (r.pass == NULL || r.base == NULL || r.peer_bad == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < np; i++) {
		const struct config_peer_remote *pr = &cfg->peers.remotes[i];
		size_t ul = strlen(pr->url);
		struct zd_err e = { 0 };

		r.base[i] = strdup(pr->url);
		if (r.base[i] == NULL) {
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
			goto out;
		}
		while (ul > 0 && r.base[i][ul - 1] == '/')
			r.base[i][--ul] = '\0';
		if (strncmp(pr->url, "http://", 7) != 0 && strncmp(pr->url, "https://", 8) != 0) {
			log_error(NULL, "peer=%s: the url must be http:// or https://", pr->url);
			r.peer_bad[i] = 1;
			continue;
		}
		if (ps_password(pr->password_file, &r.pass[i], &e) != 0) {
			log_error(NULL, "peer=%s password_file: %s", pr->url, zd_err_str(&e));
			r.peer_bad[i] = 1;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		rc = zd_err_set(err, ZD_EIO, "curl_global_init failed");
		goto out;
	}
	rc = store_open(cfg->state_dir, STORE_RDONLY, &r.store, err);
	if (rc == ZD_ENOENT) {
		r.store = NULL;   /* no state yet: we hold nothing */
		zd_err_clear(err);
	} else if (rc != 0) {
		goto out_curl;
	}
	for (i = 0; i < np; i++) {
		if (r.peer_bad[i])
			continue;
		if (time_mono_ms() >= r.deadline) {
			log_error(NULL, "peer=%s not asked: run deadline reached", r.base[i]);
			r.peer_bad[i] = 1;
			continue;
		}
		if ((rc = ps_list(&r, i)) != 0) {
			zd_err_set(err, rc, "out of memory");
			goto out_curl;
		}
	}
	/* the best candidate per zone across peers: the same rule between them */
	if (r.n > 1)
		qsort(r.c, r.n, sizeof *r.c, ps_cand_cmp);
	for (i = 0, w = 0; i < r.n; i = j) {
		size_t best = i;
		for (j = i + 1; j < r.n && strcmp(r.c[j].e.domain, r.c[i].e.domain) == 0; j++) {
			struct peer_local l;
			enum peer_verdict v;
			memset(&l, 0, sizeof l);
			l.held = 1;
			l.present = r.c[best].e.present;
			l.serial = r.c[best].e.serial;
			l.changed_us = r.c[best].e.changed_us;
			str_copy(l.sha256, r.c[best].e.sha256, sizeof l.sha256);
			v = peer_decide(&l, &r.c[j].e, r.now_us);
			if (v == PEER_PULL || v == PEER_DELETE)
				best = j;
		}
		r.c[w++] = r.c[best];
	}
	r.n = w;
	/* tombstones need no fetch; present zones are fetched per peer */
	idx = calloc(r.n ? r.n : 1, sizeof *idx);
	if (idx == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out_curl;
	}
	for (i = 0; i < r.n; i++)
		if (!r.c[i].e.present && ps_spool(&r, &r.c[i].e, NULL, 0, r.base[r.c[i].peer]) != 0)
			st->failed++;
	ps_spool_flush(&r);
	for (j = 0; j < np; j++) {
		nidx = 0;
		for (i = 0; i < r.n; i++)
			if (r.c[i].e.present && r.c[i].peer == j)
				idx[nidx++] = i;
		if (nidx == 0)
			continue;
		if ((rc = ps_fetch_peer(&r, idx, nidx)) != 0) {
			zd_err_set(err, rc, "zone fetches from %s could not run", r.base[j]);
			goto out_curl;
		}
	}
	for (i = 0; i < np; i++) {
		if (r.peer_bad[i])
			st->peers_failed++;
		else
			st->peers_ok++;
	}
	rc = st->peers_failed > 0 || st->failed > 0 ? 1 : 0;
out_curl:
	curl_global_cleanup();
out:
	st->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	store_close(r.store);
	for (i = 0; i < np; i++) {
		if (r.pass != NULL && r.pass[i] != NULL) {
			explicit_bzero(r.pass[i], strlen(r.pass[i]));
			free(r.pass[i]);
		}
		if (r.base != NULL)
			free(r.base[i]);
	}
	free(r.pass);
	free(r.base);
	free(r.peer_bad);
	for (i = 0; i < r.npend; i++)   /* written but never moved (an error above) */
		unlink(r.pend[i].t.tmp_path);
	free(r.pend);
	free(r.c);
	free(idx);
	return rc;
}
