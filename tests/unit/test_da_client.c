/* test_da_client.c -- the DirectAdmin listing parsers and the max_deletes rule */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zonedrop/config.h"
#include "zonedrop/da_client.h"
#include "zonedrop/reconcile.h"

static int json(const char *s, struct da_listing *l, long *tp, long *rows, size_t *nrows,
                struct zd_err *err)
{
	long ipp, cp;

	return da_parse_json_page(s, strlen(s), l, tp, rows, &ipp, &cp, nrows, err);
}

static int legacy(const char *s, struct da_listing *l, struct zd_err *err)
{
	return da_parse_legacy(s, strlen(s), l, err);
}

static void test_json(void)
{
	struct da_listing l;
	struct zd_err err;
	long tp, rows;
	size_t n;
	int rc;

	memset(&l, 0, sizeof l);
	rc = json("{\"0\":{\"domain\":\"b.com\",\"username\":\"x\"},\"1\":{\"domain\":\"A.example.NET.\"},"
	          "\"info\":{\"current_page\":\"1\",\"ipp\":\"50\",\"total_pages\":\"2\",\"rows\":\"51\"}}",
	          &l, &tp, &rows, &n, &err);
	is_int(rc, 0, "a JSON page parses");
	is_int(tp, 2, "total_pages as a string");
	is_int(rows, 51, "rows as a string");
	is_int(n, 2, "two rows on the page");
	da_listing_finish(&l);
	is_int(l.n, 2, "two names");
	is_str(l.n > 0 ? l.domains[0] : NULL, "a.example.net", "lower-cased, trailing dot dropped, sorted");
	ok(da_listing_has(&l, "b.com") && !da_listing_has(&l, "c.com"), "lookup");
	da_listing_free(&l);

	rc = json("{\"0\":\"a.com\",\"1\":{\"domain\":\"bad name\"},\"2\":{\"domain\":\"a.com\"},"
	          "\"info\":{\"total_pages\":1}}", &l, &tp, &rows, &n, &err);
	is_int(rc, 0, "string rows, an invalid name and a duplicate");
	is_int(l.invalid, 1, "the invalid name is counted, not kept");
	da_listing_finish(&l);
	is_int(l.n, 1, "the duplicate is dropped");
	is_int(rows, -1, "rows absent -> -1");
	da_listing_free(&l);

	rc = json("{\"info\":{\"total_pages\":\"1\",\"rows\":\"0\"}}", &l, &tp, &rows, &n, &err);
	ok(rc == 0 && l.n == 0 && n == 0, "an empty listing parses (the caller decides)");
	da_listing_free(&l);

	rc = json("{\"0\":{\"domain\":\"a.com\"},\"info\":{\"total_p", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL && strstr(err.msg, "not JSON") != NULL, "truncated JSON: %s", err.msg);
	da_listing_free(&l);
	rc = json("{\"error\":\"Login Required\"}", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL && strstr(err.msg, "Login Required") != NULL, "an error object: %s", err.msg);
	da_listing_free(&l);
	rc = json("{\"0\":{\"domain\":\"a.com\"}}", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL, "no info: not a listing");
	da_listing_free(&l);
	rc = json("{\"0\":{\"domain\":\"a.com\"},\"info\":{\"total_pages\":0}}", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL, "total_pages 0 refused");
	da_listing_free(&l);
	rc = json("{\"0\":{\"domain\":\"a.com\"},\"info\":{\"total_pages\":\"x\"}}", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL, "total_pages not a count refused");
	da_listing_free(&l);
	rc = json("{\"0\":{\"domain\":\"a.com\"},\"info\":{\"total_pages\":1,\"rows\":\"-1\"}}", &l, &tp,
	          &rows, &n, &err);
	ok(rc == ZD_EINVAL, "rows not a count refused");
	da_listing_free(&l);
	rc = json("{\"0\":{\"user\":\"x\"},\"info\":{\"total_pages\":1}}", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL && strstr(err.msg, "domain") != NULL, "a row without a domain: %s", err.msg);
	da_listing_free(&l);
	rc = json("{\"0\":{\"domain\":\"a.com\"},\"0\":{\"domain\":\"b.com\"},\"info\":{\"total_pages\":1}}",
	          &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL, "a duplicate key refused");
	da_listing_free(&l);
	rc = json("[1,2]", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL, "an array is no listing");
	da_listing_free(&l);
	rc = json("", &l, &tp, &rows, &n, &err);
	ok(rc == ZD_EINVAL, "empty input");
	da_listing_free(&l);
}

static void test_legacy(void)
{
	struct da_listing l;
	struct zd_err err;
	int rc;

	memset(&l, 0, sizeof l);
	rc = legacy("list[]=a.com&list[]=b.example.net&list%5B%5D=c%2Eorg\n", &l, &err);
	is_int(rc, 0, "list[]= form");
	is_int(l.format, DA_FMT_LEGACY, "format legacy");
	da_listing_finish(&l);
	is_int(l.n, 3, "three names (one escaped)");
	ok(da_listing_has(&l, "c.org"), "%%2E decoded");
	da_listing_free(&l);

	rc = legacy("list[]=a.com&error=1&text=nope", &l, &err);
	ok(rc == ZD_EINVAL && strstr(err.msg, "error") != NULL, "an error key: %s", err.msg);
	da_listing_free(&l);
	rc = legacy("list[]=a%2", &l, &err);
	ok(rc == ZD_EINVAL, "a cut escape");
	da_listing_free(&l);
	rc = legacy("list[]=a%0a.com", &l, &err);
	ok(rc == ZD_EINVAL, "an escaped control byte");
	da_listing_free(&l);
	rc = legacy("list[]", &l, &err);
	ok(rc == ZD_EINVAL, "a piece without '='");
	da_listing_free(&l);

	rc = legacy("a.com\r\nb.example.net\n\n  c.org  \n", &l, &err);
	ok(rc == 0 && l.format == DA_FMT_LINES && l.n == 3, "one per line (CRLF, blank lines, blanks)");
	da_listing_free(&l);
	rc = legacy("a.com\nthis is not a name\n", &l, &err);
	ok(rc == ZD_EINVAL, "a line that is no name refuses the whole answer");
	da_listing_free(&l);
	rc = legacy("a.com\n\x01\n", &l, &err);
	ok(rc == ZD_EINVAL, "a control byte refuses the whole answer");
	da_listing_free(&l);
	rc = legacy("", &l, &err);
	ok(rc == 0 && l.n == 0, "an empty answer is an empty list (the caller decides)");
	da_listing_free(&l);
}

static void test_detect(void)
{
	enum da_format f;
	struct zd_err err;

	ok(da_detect(" {\"a\":1}", 8, "application/json", &f, &err) == 0 && f == DA_FMT_JSON, "JSON");
	ok(da_detect("list[]=a.com", 12, "text/plain", &f, &err) == 0 && f == DA_FMT_LEGACY, "legacy");
	ok(da_detect("{}", 2, "text/html; charset=utf-8", &f, &err) == ZD_EINVAL, "text/html refused");
	ok(da_detect("<html>", 6, NULL, &f, &err) == ZD_EINVAL, "HTML refused");
	ok(da_detect("error=1&text=x", 14, NULL, &f, &err) == ZD_EINVAL, "error=1 refused");
	ok(da_detect("list[]=a.com&error=1", 20, NULL, &f, &err) == ZD_EINVAL, "&error= refused");
}

static void test_max_deletes(void)
{
	struct config cfg;

	memset(&cfg, 0, sizeof cfg);
	cfg.reconcile.max_deletes_percent = 1;
	cfg.reconcile.max_deletes = 5;
	is_int(reconcile_max_deletes(&cfg, 100), 5, "5%% of 100");
	is_int(reconcile_max_deletes(&cfg, 19), 0, "5%% of 19 rounds down to 0");
	is_int(reconcile_max_deletes(&cfg, 100000), 5000, "5%% of 100,000");
	cfg.reconcile.max_deletes = 50;
	is_int(reconcile_max_deletes(&cfg, 12), 6, "50%% of 12");
	cfg.reconcile.max_deletes_percent = 0;
	cfg.reconcile.max_deletes = 3;
	is_int(reconcile_max_deletes(&cfg, 1000), 3, "an absolute count");
	is_int(reconcile_max_deletes(&cfg, 1), 3, "a count does not depend on the zones");
}

int main(void)
{
	test_json();
	test_legacy();
	test_detect();
	test_max_deletes();
	return tap_done();
}
