/* status.c -- the status document (`zonedrop status`, status.json) and /status, /metrics
 *
 * One builder, status_build(), makes the JSON for `zonedrop status --json`
 * and for state_dir/status.json, which the drain publishes at the end of
 * every run (status_publish). The CGI never opens state.db: /status and
 * /metrics (status_serve) answer from status.json, the live spool counts
 * (readdir, names only) and spool_dir/counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "zonedrop/cgi.h"
#include "zonedrop/counters.h"
#include "zonedrop/secondary.h"
#include "zonedrop/spool.h"
#include "zonedrop/status.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"

#define STATUS_FILE_MAX (16u * 1024 * 1024)   /* a larger status.json is not ours */
#define STATUS_405_BODY "error=1&text=method%20not%20allowed%2C%20GET%20only"
#define STATUS_DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))

static const char *const status_spool_states[] = { "new", "cur", "bad", "tmp" };
#define STATUS_NSTATES (sizeof status_spool_states / sizeof status_spool_states[0])

/* ------------------------------------------------------------- sections */

/* "spool": live counts, names only (spool_count parses the arrival time
 * out of each name); a state that cannot be read is null. */
static int status_spool(const struct config *cfg, struct store *st, json_t *root,
                        struct zd_err *err)
{
	json_t *spool = json_object();
	size_t i, n;
	int64_t age;

	(void)st;
	(void)err;
	if (spool == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < STATUS_NSTATES; i++) {
		if (spool_count(cfg->spool_dir, status_spool_states[i], &n, &age, NULL) == 0)
			json_object_set_new(spool, status_spool_states[i],
			                    json_pack("{s:I,s:I}", "count", (json_int_t)n, "oldest_age",
			                              (json_int_t)age));
		else
			json_object_set_new(spool, status_spool_states[i], json_null());
	}
	json_object_set_new(root, "spool", spool);
	return 0;
}

struct status_failed_walk {
	json_t *list;
};

static int status_failed_one(const struct store_bstate *b, void *arg)
{
	struct status_failed_walk *w = arg;

	return json_array_append_new(w->list, json_pack("{s:s,s:s,s:i,s:s,s:I}", "domain", b->domain,
	                                                "state", b->status, "attempts", b->attempts,
	                                                "last_error", b->last_error, "updated",
	                                                (json_int_t)b->updated)) == 0
	       ? 0 : ZD_ENOMEM;
}

/* One "backends" entry. */
static int status_backend(const struct config_backend *be, struct store *st, int64_t now,
                          json_t **out, struct zd_err *err)
{
	struct store_backend_counts bc;
	struct status_failed_walk w = { NULL };
	json_t *o;
	int rc;

	memset(&bc, 0, sizeof bc);
	*out = NULL;
	w.list = json_array();
	if (w.list == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	if (st != NULL) {
		if ((rc = store_backend_counts(st, be->name, now, &bc, err)) != 0 ||
		    (bc.failed + bc.rejected > 0 &&
		     (rc = store_failed_each(st, be->name, STATUS_FAILED_MAX, status_failed_one, &w,
		                             err)) != 0)) {
			if (rc == ZD_ENOMEM)
				zd_err_set(err, rc, "out of memory");
			json_decref(w.list);
			return rc;
		}
	}
	o = json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "name", be->name, "type",
	              config_backend_type_name(be->type), "enabled", be->enabled, "applied",
	              (json_int_t)bc.applied, "pending", (json_int_t)bc.pending, "retry",
	              (json_int_t)bc.retry, "failed", (json_int_t)bc.failed, "rejected",
	              (json_int_t)bc.rejected, "next_retry", (json_int_t)bc.next_retry,
	              "failures_total", (json_int_t)(bc.failed + bc.rejected), "failures", w.list);
	if (o == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	*out = o;
	return 0;
}

/* "state", "last_drain", "zones", "backends" from the store (NULL: none yet). */
static int status_state(const struct config *cfg, struct store *st, json_t *root,
                        struct zd_err *err)
{
	char end[64] = "", secs[64] = "", zones[64] = "", result[256] = "", *ep;
	json_t *drain, *backends, *b;
	size_t present = 0, deleted = 0, i;
	int64_t now = time_now();
	uint64_t nz;
	double d;
	int rc;

	if (st != NULL) {
		store_meta_get(st, "last_drain_end", end, sizeof end, NULL);
		store_meta_get(st, "last_drain_seconds", secs, sizeof secs, NULL);
		store_meta_get(st, "last_drain_zones", zones, sizeof zones, NULL);
		store_meta_get(st, "last_drain_result", result, sizeof result, NULL);
		if ((rc = store_zone_count(st, &present, &deleted, err)) != 0)
			return rc;
	}
	json_object_set_new(root, "state", json_boolean(st != NULL));
	drain = json_object();
	json_object_set_new(root, "last_drain", drain);
	json_object_set_new(drain, "end", end[0] ? json_string(end) : json_null());
	errno = 0;
	d = strtod(secs, &ep);
	json_object_set_new(drain, "seconds",
	                    secs[0] && *ep == '\0' && errno == 0 ? json_real(d) : json_null());
	json_object_set_new(drain, "zones", parse_u64(zones, UINT64_MAX, &nz) == 0
	                                    ? json_integer((json_int_t)nz) : json_null());
	json_object_set_new(drain, "result", result[0] ? json_string(result) : json_null());
	json_object_set_new(root, "zones", json_pack("{s:I,s:I}", "present", (json_int_t)present,
	                                             "deleted", (json_int_t)deleted));
	backends = json_array();
	json_object_set_new(root, "backends", backends);
	for (i = 0; i < cfg->nbackends; i++) {
		if ((rc = status_backend(&cfg->backends[i], st, now, &b, err)) != 0)
			return rc;
		json_array_append_new(backends, b);
	}
	return 0;
}

/* "secondary": zonedrop-refresh's zone counts, when secondary zones are
 * configured (null while refresh has not run yet). */
static int status_secondary(const struct config *cfg, struct store *st, json_t *root,
                            struct zd_err *err)
{
	struct secondary_counts sc;
	struct zd_err e;

	(void)err;
	if (cfg->secondary.zones_file == NULL || st == NULL)
		return 0;
	memset(&sc, 0, sizeof sc);
	if (secondary_counts(st, time_now(), &sc, &e) != 0) {
		json_object_set_new(root, "secondary", json_null());
		return 0;
	}
	json_object_set_new(root, "secondary", json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "zones", (json_int_t)sc.total,
		"fresh", (json_int_t)sc.fresh, "due", (json_int_t)sc.due,
		"failing", (json_int_t)sc.failing, "expired", (json_int_t)sc.expired,
		"pending", (json_int_t)sc.pending,
		"oldest", sc.oldest_ok ? json_string(sc.oldest_domain) : json_null(),
		"oldest_ok", sc.oldest_ok ? json_integer((json_int_t)sc.oldest_ok) : json_null()));
	return 0;
}

/* "counters": the CGI's counters, null when there is no counters file. */
static int status_counters(const struct config *cfg, struct store *st, json_t *root,
                           struct zd_err *err)
{
	struct counters c;
	json_t *o;
	size_t i;

	(void)st;
	(void)err;
	if (counters_read(cfg->spool_dir, &c, NULL) != 0) {
		json_object_set_new(root, "counters", json_null());
		return 0;
	}
	o = json_object();
	for (i = 0; i < c.n; i++)
		json_object_set_new(o, c.v[i].name, json_integer((json_int_t)c.v[i].value));
	json_object_set_new(root, "counters", o);
	return 0;
}

/* The document is these sections, in this order. A new section (e.g.
 * "secondary" for zonedrop-refresh) is one function and one line here. */
static const struct status_section {
	unsigned flag;
	int (*fn)(const struct config *cfg, struct store *st, json_t *root, struct zd_err *err);
} status_sections[] = {
	{ STATUS_SPOOL, status_spool },
	{ STATUS_STATE, status_state },
	{ STATUS_STATE, status_secondary },
	{ STATUS_COUNTERS, status_counters },
};

int status_build(const struct config *cfg, struct store *st, unsigned sections, json_t **out,
                 struct zd_err *err)
{
	json_t *root;
	size_t i;
	int rc;

	*out = NULL;
	root = json_object();
	if (root == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < sizeof status_sections / sizeof status_sections[0]; i++) {
		if ((sections & status_sections[i].flag) == 0)
			continue;
		if ((rc = status_sections[i].fn(cfg, st, root, err)) != 0) {
			json_decref(root);
			return rc;
		}
	}
	*out = root;
	return 0;
}

int status_publish(const struct config *cfg, struct store *st, struct zd_err *err)
{
	char path[ZD_PATH_MAX], now[64];
	struct file_atomic fa;
	struct stat sb;
	json_t *root = NULL;
	char *text = NULL;
	int rc;

	if (path_join(path, sizeof path, cfg->state_dir, STATUS_FILE_NAME) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", cfg->state_dir);
	if ((rc = status_build(cfg, st, STATUS_SPOOL | STATUS_STATE, &root, err)) != 0)
		return rc;
	time_iso_now(now, sizeof now);
	json_object_set_new(root, "published", json_string(now));
	text = json_dumps(root, STATUS_DUMP_FLAGS | JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	if ((rc = file_atomic_open(&fa, path, 0640, err)) != 0)
		goto out;
	/* 0640 in the group of state_dir (the CGI's, zonedrop-spool(5)), whatever
	 * our own group. A drain outside that group cannot: the file stays in
	 * its own group, and /status says "drain_error": permission denied. */
	if (stat(cfg->state_dir, &sb) == 0 && sb.st_gid != getegid() &&
	    fchown(fileno(fa.fp), (uid_t)-1, sb.st_gid) < 0)
		errno = 0;
	if (fputs(text, fa.fp) == EOF) {
		rc = zd_err_sys(err, ZD_EIO, "write %s", fa.tmp);
		file_atomic_abort(&fa);
		goto out;
	}
	rc = file_atomic_commit(&fa, err);
out:
	free(text);
	return rc;
}

/* ------------------------------------------------------------ /status */

/* status.json as the drain left it: 0 and *out, ZD_ENOENT when there is
 * none yet, or an error (unreadable, not JSON) with err set. */
static int status_load(const struct config *cfg, json_t **out, struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	json_error_t je;
	int rc;

	*out = NULL;
	if (path_join(path, sizeof path, cfg->state_dir, STATUS_FILE_NAME) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", cfg->state_dir);
	if ((rc = file_read_all(path, STATUS_FILE_MAX, &buf, &len, err)) != 0)
		return rc;
	*out = json_loadb(buf, len, 0, &je);
	free(buf);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return zd_err_set(err, ZD_EINVAL, "%s: not a status document: line %d: %s", path,
		                  je.line, je.text);
	}
	return 0;
}

/* The live answer: "time", "spool" (live, else the drain's view of a state
 * this process may not read, e.g. cur/ and bad/ of mode 0700, marked with
 * "as_of"), "counters", "drain" (status.json without its spool, or null). */
static int status_document(const struct config *cfg, json_t **out, char *why, size_t whysz)
{
	json_t *root = NULL, *live = NULL, *drain = NULL, *spool, *old, *st;
	struct zd_err err;
	char now[64];
	size_t i;
	int rc;

	*out = NULL;
	zd_err_clear(&err);
	if ((rc = status_build(cfg, NULL, STATUS_SPOOL | STATUS_COUNTERS, &live, &err)) != 0) {
		snprintf(why, whysz, "%s", zd_err_str(&err));
		return rc;
	}
	/* "time" first: the key order is for the people reading it */
	time_iso_now(now, sizeof now);
	root = json_pack("{s:s}", "time", now);
	if (root == NULL || json_object_update(root, live) != 0) {
		json_decref(root);
		json_decref(live);
		snprintf(why, whysz, "out of memory");
		return ZD_ENOMEM;
	}
	json_decref(live);
	rc = status_load(cfg, &drain, &err);
	if (rc != 0 && rc != ZD_ENOENT) {
		/* say so in the answer (and the log line), and serve what is live */
		snprintf(why, whysz, "%s", zd_err_str(&err));
		json_object_set_new(root, "drain_error", json_string(why));
	}
	spool = json_object_get(root, "spool");
	old = drain != NULL ? json_object_get(drain, "spool") : NULL;
	for (i = 0; i < STATUS_NSTATES && old != NULL; i++) {
		const char *s = status_spool_states[i];

		if (!json_is_null(json_object_get(spool, s)))
			continue;
		st = json_object_get(old, s);
		if (json_is_object(st)) {
			st = json_deep_copy(st);
			json_object_set_new(st, "as_of", json_deep_copy(json_object_get(drain, "published")));
			json_object_set_new(spool, s, st);
		}
	}
	if (drain != NULL)
		json_object_del(drain, "spool");
	json_object_set_new(root, "drain", drain != NULL ? drain : json_null());
	*out = root;
	return 0;
}

/* ------------------------------------------------------------ /metrics */

/* A label value in the text format: \ " and newline escaped. */
static void metric_label(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '"')
			fputs("\\\"", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void metric_head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void metrics_write(FILE *fp, json_t *doc)
{
	json_t *spool = json_object_get(doc, "spool"), *drain = json_object_get(doc, "drain");
	json_t *counters = json_object_get(doc, "counters"), *last, *zones, *backends, *b, *v;
	static const char *const bstates[] = { "ok", "pending", "retry", "failed", "rejected" };
	static const char *const bkeys[] = { "applied", "pending", "retry", "failed", "rejected" };
	const char *s;
	size_t i, j;
	int64_t t;
	char name[COUNTERS_NAME_MAX + 16];

	metric_head(fp, "zonedrop_spool_items", "gauge", "Spool items per state (new, cur, bad, tmp).");
	for (i = 0; i < STATUS_NSTATES; i++)
		if (json_is_object(v = json_object_get(spool, status_spool_states[i])))
			fprintf(fp, "zonedrop_spool_items{state=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
			        status_spool_states[i], jint(v, "count"));
	metric_head(fp, "zonedrop_spool_oldest_seconds", "gauge",
	            "Age of the oldest item per spool state, 0 when empty.");
	for (i = 0; i < STATUS_NSTATES; i++)
		if (json_is_object(v = json_object_get(spool, status_spool_states[i])))
			fprintf(fp, "zonedrop_spool_oldest_seconds{state=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
			        status_spool_states[i], jint(v, "oldest_age"));

	metric_head(fp, "zonedrop_status_published", "gauge",
	            "1 when the drain's status.json was read, 0 when there is none or it is unreadable.");
	fprintf(fp, "zonedrop_status_published %d\n", json_is_object(drain) ? 1 : 0);
	if (json_is_object(drain)) {
		s = json_string_value(json_object_get(drain, "published"));
		t = s ? time_iso_parse(s) : -1;
		if (t >= 0) {
			metric_head(fp, "zonedrop_status_published_timestamp_seconds", "gauge",
			            "When the drain last wrote status.json (unix time).");
			fprintf(fp, "zonedrop_status_published_timestamp_seconds %lld\n", (long long)t);
		}
		zones = json_object_get(drain, "zones");
		metric_head(fp, "zonedrop_zones", "gauge",
		            "Zones in the desired state: present, and deleted (tombstones).");
		fprintf(fp, "zonedrop_zones{state=\"present\"} %" JSON_INTEGER_FORMAT "\n",
		        jint(zones, "present"));
		fprintf(fp, "zonedrop_zones{state=\"deleted\"} %" JSON_INTEGER_FORMAT "\n",
		        jint(zones, "deleted"));

		last = json_object_get(drain, "last_drain");
		s = json_string_value(json_object_get(last, "end"));
		t = s ? time_iso_parse(s) : -1;
		if (t >= 0) {
			metric_head(fp, "zonedrop_last_drain_timestamp_seconds", "gauge",
			            "When the last drain run ended (unix time).");
			fprintf(fp, "zonedrop_last_drain_timestamp_seconds %lld\n", (long long)t);
		}
		if (json_is_number(v = json_object_get(last, "seconds"))) {
			metric_head(fp, "zonedrop_last_drain_duration_seconds", "gauge",
			            "How long the last drain run took.");
			fprintf(fp, "zonedrop_last_drain_duration_seconds %.3f\n", json_number_value(v));
		}
		if (json_is_integer(v = json_object_get(last, "zones"))) {
			metric_head(fp, "zonedrop_last_drain_zones", "gauge",
			            "Zone changes the last drain run applied (summed over backends).");
			fprintf(fp, "zonedrop_last_drain_zones %" JSON_INTEGER_FORMAT "\n",
			        json_integer_value(v));
		}
		if (json_is_string(v = json_object_get(last, "result"))) {
			metric_head(fp, "zonedrop_last_drain_success", "gauge",
			            "1 when the last drain run applied everything, else 0.");
			fprintf(fp, "zonedrop_last_drain_success %d\n",
			        strcmp(json_string_value(v), "ok") == 0);
		}

		backends = json_object_get(drain, "backends");
		metric_head(fp, "zonedrop_backend_enabled", "gauge",
		            "1 for an enabled backend, 0 for a disabled one.");
		json_array_foreach(backends, i, b) {
			fputs("zonedrop_backend_enabled{backend=\"", fp);
			metric_label(fp, jstr(b, "name"));
			fputs("\",type=\"", fp);
			metric_label(fp, jstr(b, "type"));
			fprintf(fp, "\"} %d\n", json_is_true(json_object_get(b, "enabled")));
		}
		metric_head(fp, "zonedrop_backend_zones", "gauge",
		            "Zones per backend and state: ok (in sync), pending, retry, failed "
		            "(retries exhausted), rejected (refused by the server's checker).");
		json_array_foreach(backends, i, b)
			for (j = 0; j < sizeof bstates / sizeof bstates[0]; j++) {
				fputs("zonedrop_backend_zones{backend=\"", fp);
				metric_label(fp, jstr(b, "name"));
				fprintf(fp, "\",state=\"%s\"} %" JSON_INTEGER_FORMAT "\n", bstates[j],
				        jint(b, bkeys[j]));
			}
		metric_head(fp, "zonedrop_backend_next_retry_timestamp_seconds", "gauge",
		            "When the earliest scheduled retry of a backend is due (unix time), 0 none.");
		json_array_foreach(backends, i, b) {
			fputs("zonedrop_backend_next_retry_timestamp_seconds{backend=\"", fp);
			metric_label(fp, jstr(b, "name"));
			fprintf(fp, "\"} %" JSON_INTEGER_FORMAT "\n", jint(b, "next_retry"));
		}
	}

	metric_head(fp, "zonedrop_counters_enabled", "gauge",
	            "1 when the receiver counts requests (spool_dir/counters exists), else 0.");
	fprintf(fp, "zonedrop_counters_enabled %d\n", json_is_object(counters));
	if (json_is_object(counters)) {
		metric_head(fp, "zonedrop_pushes_total", "counter",
		            "Accepted DirectAdmin requests: rawsave pushes and delete requests.");
		fprintf(fp, "zonedrop_pushes_total{action=\"rawsave\",result=\"accepted\"} %"
		        JSON_INTEGER_FORMAT "\n", jint(counters, COUNTER_ACCEPTED_RAWSAVE));
		fprintf(fp, "zonedrop_pushes_total{action=\"delete\",result=\"accepted\"} %"
		        JSON_INTEGER_FORMAT "\n", jint(counters, COUNTER_ACCEPTED_DELETE));
		metric_head(fp, "zonedrop_requests_rejected_total", "counter",
		            "Requests the receiver refused, by reason.");
		for (i = 0; counters_reasons[i] != NULL; i++) {
			snprintf(name, sizeof name, "%s%s", COUNTER_REJECTED_PREFIX, counters_reasons[i]);
			fprintf(fp, "zonedrop_requests_rejected_total{reason=\"%s\"} %" JSON_INTEGER_FORMAT
			        "\n", counters_reasons[i], jint(counters, name));
		}
	}
}

/* ------------------------------------------------------------- answer */

static int status_send(FILE *out, const char *head, const char *body, size_t len)
{
	if (fputs(head, out) == EOF || (len > 0 && fwrite(body, 1, len, out) != len))
		return ZD_EIO;
	if (fflush(out) != 0 || ferror(out))
		return ZD_EIO;
	return 0;
}

int status_serve(const struct config *cfg, const struct cgi_request *req, int metrics, FILE *out,
                 struct cgi_answer *a)
{
	const char *method = req->method ? req->method : "";
	json_t *doc = NULL;
	char *body = NULL;
	size_t len = 0;
	FILE *mem;
	int rc, status = 200;

	a->written = 0;
	a->text[0] = '\0';
	if (strcmp(method, "GET") != 0) {
		/* written here: cgi_serve's own 405 names POST in Allow */
		snprintf(a->text, sizeof a->text, "method not allowed, GET only");
		a->written = 1;
		if (status_send(out, "Status: 405 Method Not Allowed\r\n"
		                     "Content-Type: text/plain; charset=utf-8\r\n"
		                     "Cache-Control: no-store\r\n"
		                     "Allow: GET\r\n"
		                     "\r\n", STATUS_405_BODY, strlen(STATUS_405_BODY)) < 0)
			return ZD_EIO;
		return 405;
	}
	if ((rc = status_document(cfg, &doc, a->text, sizeof a->text)) != 0) {
		if (a->text[0] == '\0')
			snprintf(a->text, sizeof a->text, "status unavailable");
		return rc == ZD_ENOMEM ? 500 : 503;
	}
	mem = open_memstream(&body, &len);
	if (mem == NULL) {
		json_decref(doc);
		snprintf(a->text, sizeof a->text, "out of memory");
		return 500;
	}
	if (metrics) {
		metrics_write(mem, doc);
	} else {
		json_dumpf(doc, mem, STATUS_DUMP_FLAGS | JSON_INDENT(2));
		fputc('\n', mem);
	}
	json_decref(doc);
	if (fclose(mem) != 0 || body == NULL) {
		free(body);
		snprintf(a->text, sizeof a->text, "out of memory");
		return 500;
	}
	a->written = 1;
	if (a->text[0] == '\0')
		snprintf(a->text, sizeof a->text, "%s bytes=%zu", metrics ? "metrics" : "status", len);
	rc = status_send(out, metrics ? "Status: 200 OK\r\n"
	                                "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	                                "Cache-Control: no-store\r\n\r\n"
	                              : "Status: 200 OK\r\n"
	                                "Content-Type: application/json\r\n"
	                                "Cache-Control: no-store\r\n\r\n",
	                 body, len);
	free(body);
	return rc < 0 ? ZD_EIO : status;
}
