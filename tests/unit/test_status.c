/* test_status.c -- the status document, status.json, and the CGI's /status and /metrics */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tap.h"
#include "zonedrop/cgi.h"
#include "zonedrop/config.h"
#include "zonedrop/counters.h"
#include "zonedrop/status.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"

static char dir[] = "/tmp/zd-test-status.XXXXXX";

static int put_zone(struct store *st, const char *domain, int present, int64_t gen)
{
	struct store_zone z;
	char text[128];

	memset(&z, 0, sizeof z);
	snprintf(text, sizeof text, "%s. IN SOA ns1 host %lld 1 2 3 4\n", domain, (long long)gen);
	str_copy(z.domain, domain, sizeof z.domain);
	z.present = present;
	z.gen = gen;
	z.serial = (uint32_t)gen;
	z.text = present ? text : NULL;
	z.text_len = present ? strlen(text) : 0;
	return store_zone_put(st, &z, NULL);
}

static int put_b(struct store *st, const char *backend, const char *domain, int64_t applied_gen,
                 const char *status, int64_t failed_gen, int attempts, const char *why)
{
	struct store_bstate b;

	memset(&b, 0, sizeof b);
	str_copy(b.backend, backend, sizeof b.backend);
	str_copy(b.domain, domain, sizeof b.domain);
	b.applied_gen = applied_gen;
	b.applied_present = applied_gen > 0;
	str_copy(b.status, status, sizeof b.status);
	b.failed_gen = failed_gen;
	b.attempts = attempts;
	b.next_retry = strcmp(status, "retry") == 0 ? 2000000000 : 0;
	str_copy(b.last_error, why, sizeof b.last_error);
	return store_bstate_put(st, &b, NULL);
}

/* Run status_serve into a buffer; returns the status, *out the whole answer. */
static int serve(const struct config *cfg, const char *method, int metrics, char **out)
{
	struct cgi_request req;
	struct cgi_answer a = { 0, "" };
	size_t len = 0;
	FILE *fp;
	int rc;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.path_info = metrics ? "/metrics" : "/status";
	*out = NULL;
	fp = open_memstream(out, &len);
	rc = status_serve(cfg, &req, metrics, fp, &a);
	fclose(fp);
	if (!a.written) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static json_t *body_json(const char *answer)
{
	const char *b = answer ? strstr(answer, "\r\n\r\n") : NULL;

	return b ? json_loads(b + 4, 0, NULL) : NULL;
}

static json_t *backend_of(json_t *backends, const char *name)
{
	size_t i;
	json_t *b;

	json_array_foreach(backends, i, b)
		if (strcmp(json_string_value(json_object_get(b, "name")), name) == 0)
			return b;
	return NULL;
}

int main(void)
{
	char yaml[2048], path[ZD_PATH_MAX], name[64], *ans = NULL;
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct zd_err err;
	json_t *doc = NULL, *b, *v;
	const char *k;
	size_t i;
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(yaml, sizeof yaml,
	         "spool_dir: %s/spool\nstate_dir: %s/state\n"
	         "receiver:\n  users:\n    - name: u\n      password: p\n"
	         "backends:\n"
	         "  nsd1:\n    type: nsd\n    zones_dir: %s/z1\n    include_file: %s/i1\n"
	         "    control: \"true\"\n"
	         "  nsd-2:\n    type: nsd\n    zones_dir: %s/z2\n    include_file: %s/i2\n"
	         "    control: \"true\"\n",
	         dir, dir, dir, dir, dir, dir);
	rc = config_load_mem("test.yml", yaml, strlen(yaml), &cfg, &err);
	is_int(rc, 0, "config loads (%s)", rc ? err.msg : "");
	if (rc != 0)
		return tap_done();
	snprintf(path, sizeof path, "%s/spool", dir);
	mkdir(path, 0750);
	snprintf(path, sizeof path, "%s/spool/new", dir);
	mkdir(path, 0750);
	snprintf(path, sizeof path, "%s/spool/tmp", dir);
	mkdir(path, 0750);
	/* cur/ and bad/ missing: unreadable states are null, not an error */

	/* no state yet */
	is_int(status_build(cfg, NULL, STATUS_ALL, &doc, &err), 0, "build without state");
	ok(json_is_false(json_object_get(doc, "state")), "state false");
	ok(json_is_null(json_object_get(json_object_get(doc, "last_drain"), "end")), "no last drain");
	is_int(json_array_size(json_object_get(doc, "backends")), 2, "both backends listed");
	ok(json_is_null(json_object_get(doc, "counters")), "no counters file: counters null");
	ok(json_is_object(json_object_get(json_object_get(doc, "spool"), "new")), "spool new counted");
	ok(json_is_null(json_object_get(json_object_get(doc, "spool"), "cur")), "spool cur missing: null");
	i = 0;
	json_object_foreach(doc, k, v) {
		static const char *const want[] = { "spool", "state", "last_drain", "zones", "backends",
		                                    "counters" };
		ok(i < 6 && strcmp(k, want[i]) == 0, "key %zu is %s", i, k);
		i++;
	}
	json_decref(doc);

	/* /status before the first drain: drain null */
	rc = serve(cfg, "GET", 0, &ans);
	is_int(rc, 200, "/status without status.json: 200");
	ok(ans && strstr(ans, "Content-Type: application/json\r\n"), "/status is JSON");
	doc = body_json(ans);
	ok(doc && json_is_null(json_object_get(doc, "drain")), "\"drain\": null");
	ok(doc && json_is_string(json_object_get(doc, "time")), "\"time\" given");
	json_decref(doc);
	free(ans);

	/* a state: 150 zones, nsd1 has all but: 120 failed, 3 rejected, 2 retry, 1 pending */
	snprintf(path, sizeof path, "%s/state", dir);
	is_int(store_open(path, 0, &st, &err), 0, "store opens");
	store_begin(st, NULL);
	for (i = 0; i < 150; i++) {
		snprintf(name, sizeof name, "z%03zu.example", i);
		put_zone(st, name, 1, 2);
		if (i < 120)
			put_b(st, "nsd1", name, 1, "failed", 2, 3, "nsd-control: connection refused");
		else if (i < 123)
			put_b(st, "nsd1", name, 0, "rejected", 2, 0, "bad zone: line 3");
		else if (i < 125)
			put_b(st, "nsd1", name, 1, "retry", 2, 1, "timeout");
		else if (i < 126)
			;   /* never seen: pending */
		else
			put_b(st, "nsd1", name, 2, "ok", 0, 0, "");
	}
	/* an old failure at an earlier gen is not a failure now */
	put_b(st, "nsd1", "z149.example", 2, "failed", 1, 5, "old");
	put_zone(st, "gone.example", 0, 3);
	store_meta_set(st, "last_drain_end", "2026-11-23T01:02:03.000000Z", NULL);
	store_meta_set(st, "last_drain_seconds", "1.250", NULL);
	store_meta_set(st, "last_drain_zones", "150", NULL);
	store_meta_set(st, "last_drain_result", "failed", NULL);
	is_int(store_commit(st, &err), 0, "state written");

	is_int(status_build(cfg, st, STATUS_STATE, &doc, &err), 0, "build from the state");
	ok(json_is_true(json_object_get(doc, "state")), "state true");
	is_int(json_integer_value(json_object_get(json_object_get(doc, "zones"), "present")), 150,
	       "150 present");
	is_int(json_integer_value(json_object_get(json_object_get(doc, "zones"), "deleted")), 1,
	       "1 deleted");
	b = backend_of(json_object_get(doc, "backends"), "nsd1");
	is_int(json_integer_value(json_object_get(b, "failed")), 120, "nsd1: 120 failed");
	is_int(json_integer_value(json_object_get(b, "rejected")), 3, "nsd1: 3 rejected");
	is_int(json_integer_value(json_object_get(b, "retry")), 2, "nsd1: 2 retry");
	is_int(json_integer_value(json_object_get(b, "pending")), 1, "nsd1: 1 pending");
	is_int(json_integer_value(json_object_get(b, "applied")), 24, "nsd1: 24 applied");
	is_int(json_integer_value(json_object_get(b, "failures_total")), 123, "failures_total 123");
	is_int(json_array_size(json_object_get(b, "failures")), STATUS_FAILED_MAX,
	       "failures list capped at %d", STATUS_FAILED_MAX);
	v = json_array_get(json_object_get(b, "failures"), 0);
	is_str(json_string_value(json_object_get(v, "domain")), "z000.example", "first in domain order");
	is_str(json_string_value(json_object_get(v, "state")), "failed", "its state");
	is_int(json_integer_value(json_object_get(v, "attempts")), 3, "its attempts");
	is_str(json_string_value(json_object_get(v, "last_error")), "nsd-control: connection refused",
	       "its last error");
	b = backend_of(json_object_get(doc, "backends"), "nsd-2");
	is_int(json_integer_value(json_object_get(b, "pending")), 150, "second backend: all pending");
	is_int(json_array_size(json_object_get(b, "failures")), 0, "second backend: no failures");
	json_decref(doc);

	/* the drain's file (it can read cur/), then /status and /metrics from it */
	snprintf(path, sizeof path, "%s/spool/cur", dir);
	mkdir(path, 0700);
	is_int(status_publish(cfg, st, &err), 0, "status.json published");
	rmdir(path);
	snprintf(path, sizeof path, "%s/state/%s", dir, STATUS_FILE_NAME);
	{
		struct stat sb;
		ok(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0640, "status.json is 0640");
	}
	store_close(st);
	st = NULL;
	snprintf(path, sizeof path, "%s/spool/%s", dir, COUNTERS_NAME);
	fclose(fopen(path, "w"));
	counters_add(cfg->spool_dir, COUNTER_ACCEPTED_RAWSAVE, 7, NULL);
	counters_add(cfg->spool_dir, "rejected_bad_zone", 2, NULL);

	rc = serve(cfg, "GET", 0, &ans);
	is_int(rc, 200, "/status: 200");
	doc = body_json(ans);
	v = json_object_get(doc, "drain");
	ok(json_is_object(v), "drain from status.json");
	ok(json_object_get(v, "spool") == NULL, "the drain's spool is merged into the live one");
	is_int(json_integer_value(json_object_get(backend_of(json_object_get(v, "backends"), "nsd1"),
	                                          "failed")), 120, "failed count via status.json");
	is_int(json_integer_value(json_object_get(json_object_get(doc, "counters"), "accepted_rawsave")),
	       7, "counters in /status");
	ok(json_is_string(json_object_get(json_object_get(json_object_get(doc, "spool"), "cur"),
	                                  "as_of")), "an unreadable live state comes from the drain, as_of");
	json_decref(doc);
	free(ans);

	rc = serve(cfg, "GET", 1, &ans);
	is_int(rc, 200, "/metrics: 200");
	ok(ans && strstr(ans, "Content-Type: text/plain; version=0.0.4"), "text format 0.0.4");
	ok(ans && strstr(ans, "\nzonedrop_backend_zones{backend=\"nsd1\",state=\"failed\"} 120\n"),
	   "backend failed series");
	ok(ans && strstr(ans, "\nzonedrop_backend_zones{backend=\"nsd-2\",state=\"pending\"} 150\n"),
	   "second backend's series");
	ok(ans && strstr(ans, "\nzonedrop_zones{state=\"present\"} 150\n"), "zones present");
	ok(ans && strstr(ans, "\nzonedrop_last_drain_duration_seconds 1.250\n"), "drain duration");
	ok(ans && strstr(ans, "\nzonedrop_last_drain_success 0\n"), "drain success 0");
	ok(ans && strstr(ans, "\nzonedrop_last_drain_timestamp_seconds 1795395723\n"),
	   "drain end as unix time");
	ok(ans && strstr(ans, "\nzonedrop_pushes_total{action=\"rawsave\",result=\"accepted\"} 7\n"),
	   "accepted pushes");
	ok(ans && strstr(ans, "\nzonedrop_requests_rejected_total{reason=\"bad_zone\"} 2\n"),
	   "rejections by reason");
	ok(ans && strstr(ans, "\nzonedrop_requests_rejected_total{reason=\"auth\"} 0\n"),
	   "every reason listed");
	ok(ans && strstr(ans, "# TYPE zonedrop_requests_rejected_total counter\n"), "counter type");
	free(ans);

	/* GET only */
	rc = serve(cfg, "POST", 1, &ans);
	is_int(rc, 405, "POST /metrics: 405");
	ok(ans && strstr(ans, "\r\nAllow: GET\r\n"), "Allow: GET");
	free(ans);

	/* a damaged status.json: live answer, and it says why */
	snprintf(path, sizeof path, "%s/state/%s", dir, STATUS_FILE_NAME);
	file_write_atomic(path, "{not json", 9, 0640, NULL);
	rc = serve(cfg, "GET", 0, &ans);
	is_int(rc, 200, "damaged status.json: still 200");
	doc = body_json(ans);
	ok(doc && json_is_null(json_object_get(doc, "drain")), "drain null");
	ok(doc && json_is_string(json_object_get(doc, "drain_error")), "drain_error says why");
	json_decref(doc);
	free(ans);
	rc = serve(cfg, "GET", 1, &ans);
	ok(ans && strstr(ans, "\nzonedrop_status_published 0\n"), "metrics: published 0");
	free(ans);

	config_free(cfg);
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
