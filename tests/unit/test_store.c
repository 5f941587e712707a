/* test_store.c -- desired state, per-backend state, work selection, counts, zones.idx */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "zonedrop/zindex.h"

static char dir[] = "/tmp/zd-test-store.XXXXXX";

static void zone_set(struct store_zone *z, const char *domain, int present, int64_t gen,
                     const char *host, const char *text)
{
	memset(z, 0, sizeof *z);
	str_copy(z->domain, domain, sizeof z->domain);
	z->present = present;
	z->gen = gen;
	z->serial = (uint32_t)(2026010100 + gen);
	str_copy(z->hostname, host, sizeof z->hostname);
	str_copy(z->username, "alice", sizeof z->username);
	str_copy(z->source, "directadmin", sizeof z->source);
	str_copy(z->item, "1.000000.1_1.h", sizeof z->item);
	str_copy(z->received, "2026-11-23T01:02:03.456789Z", sizeof z->received);
	z->updated = 1000 + gen;
	z->text = (char *)text;
	z->text_len = text ? strlen(text) : 0;
}

static int put_zone(struct store *st, const char *domain, int present, int64_t gen,
                    const char *host)
{
	struct store_zone z;
	char text[128];

	snprintf(text, sizeof text, "%s. IN SOA ns1 host %lld 1 2 3 4\n", domain, (long long)gen);
	zone_set(&z, domain, present, gen, host, present ? text : NULL);
	return store_zone_put(st, &z, NULL);
}

static int put_b(struct store *st, const char *backend, const char *domain, int64_t applied_gen,
                 int applied_present, const char *status, int64_t failed_gen, int64_t next_retry)
{
	struct store_bstate b;

	memset(&b, 0, sizeof b);
	str_copy(b.backend, backend, sizeof b.backend);
	str_copy(b.domain, domain, sizeof b.domain);
	b.applied_gen = applied_gen;
	b.applied_serial = (uint32_t)(2026010100 + applied_gen);
	b.applied_present = applied_present;
	str_copy(b.status, status, sizeof b.status);
	b.failed_gen = failed_gen;
	b.next_retry = next_retry;
	b.attempts = failed_gen ? 2 : 0;
	return store_bstate_put(st, &b, NULL);
}

/* Collect work as "domain,domain,..." */
struct collect {
	char s[2048];
	int text_ok;
	int n;
	struct store *st;
};

static int collect_work(const struct store_zone *z, const struct store_bstate *b, void *arg)
{
	struct collect *c = arg;
	size_t l = strlen(c->s);

	snprintf(c->s + l, sizeof c->s - l, "%s%s", l ? "," : "", z->domain);
	if (b == NULL || strcmp(b->domain, z->domain) != 0)
		c->text_ok = 0;
	if (z->present && (z->text == NULL || strstr(z->text, z->domain) != z->text))
		c->text_ok = 0;
	if (!z->present && z->text != NULL)
		c->text_ok = 0;
	c->n++;
	return 0;
}

static int collect_zone(const struct store_zone *z, void *arg)
{
	struct collect *c = arg;
	size_t l = strlen(c->s);

	snprintf(c->s + l, sizeof c->s - l, "%s%s", l ? "," : "", z->domain);
	c->n++;
	if (z->text != NULL)
		c->text_ok++;
	return 0;
}

static int stop_at_two(const struct store_zone *z, void *arg)
{
	(void)z;
	return ++*(int *)arg == 2 ? 42 : 0;
}

static int nested(const struct store_zone *z, void *arg)
{
	struct collect *c = arg;
	struct collect inner;
	struct store_zone got;

	(void)z;
	memset(&inner, 0, sizeof inner);
	/* the same statement while it is stepping: the store must use a private copy */
	if (store_zone_each(c->st, NULL, 1, 0, collect_zone, &inner, NULL) == 0 && inner.n > 0)
		c->n++;
	if (store_zone_get(c->st, z->domain, 1, &got, NULL) == 0)
		c->text_ok++;
	store_zone_clear(&got);
	return 0;
}

static int count_b(const struct store_bstate *b, void *arg)
{
	(void)b;
	++*(int *)arg;
	return 0;
}

static const char *state_of(struct store *st, const char *backend, const char *domain)
{
	struct store_zone z;
	struct store_bstate b;
	const char *s;
	int have;

	if (store_zone_get(st, domain, 0, &z, NULL) != 0)
		return "nozone";
	have = store_bstate_get(st, backend, domain, &b, NULL) == 0;
	s = store_zone_state(&z, have ? &b : NULL);
	return s ? s : "none";
}

static void test_open(void)
{
	struct store *st = NULL, *ro = NULL;
	struct zd_err err;
	char path[ZD_PATH_MAX], val[64];
	struct stat sb;

	snprintf(path, sizeof path, "%s/state", dir);
	is_int(store_open(path, STORE_RDONLY, &ro, &err), ZD_ENOENT, "read-only open of no state: ENOENT");
	is_int(store_open(path, 0, &st, &err), 0, "create (state_dir made too)");
	snprintf(path, sizeof path, "%s/state/%s", dir, STORE_DB_NAME);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "state.db is 0640");
	snprintf(path, sizeof path, "%s/state/%s-wal", dir, STORE_DB_NAME);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "WAL file exists (WAL mode), 0640");
	is_int(store_meta_set(st, "k", "v", &err), 0, "meta set");
	store_close(st);
	snprintf(path, sizeof path, "%s/state", dir);
	is_int(store_open(path, 0, &st, &err), 0, "reopen (no migration)");
	is_int(store_meta_get(st, "k", val, sizeof val, &err), 0, "meta survives");
	is_str(val, "v", "meta value");
	is_int(store_open(path, STORE_RDONLY, &ro, &err), 0, "read-only open beside the writer");
	is_int(store_meta_get(ro, "k", val, sizeof val, &err), 0, "reader reads");
	ok(store_meta_set(ro, "k", "w", &err) != 0, "reader cannot write");
	store_close(ro);
	store_close(st);
	store_close(NULL);
	is_int(store_open("/proc/zd-no-such", 0, &st, &err), ZD_EIO, "unwritable state_dir: EIO");
}

static void test_zones(struct store *st)
{
	struct store_zone z, got;
	struct zd_err err;
	struct collect c;
	size_t present = 9, deleted = 9;
	int stop = 0;
	static const char latin1[] = "; caf\xe9\nexample.net. IN SOA a b 1 2 3 4 5\n";

	is_int(store_zone_count(st, &present, &deleted, &err), 0, "count empty");
	ok(present == 0 && deleted == 0, "0 and 0");
	is_int(store_zone_get(st, "example.net", 0, &got, &err), ZD_ENOENT, "unknown zone: ENOENT");

	zone_set(&z, "example.net", 1, 1, "da1.example", latin1);
	is_int(store_zone_put(st, &z, &err), 0, "put gen 1");
	is_int(store_zone_get(st, "example.net", 1, &got, &err), 0, "get with text");
	ok(got.gen == 1 && got.present == 1 && got.serial == 2026010101, "gen, present, serial");
	is_str(got.hostname, "da1.example", "hostname");
	is_str(got.username, "alice", "username");
	is_str(got.item, "1.000000.1_1.h", "item");
	ok(got.updated == 1001, "updated");
	ok(got.text_len == strlen(latin1) && memcmp(got.text, latin1, got.text_len) == 0 &&
	   got.text[got.text_len] == '\0', "non-UTF-8 text round trip, NUL-terminated");
	store_zone_clear(&got);
	ok(got.text == NULL, "clear");
	is_int(store_zone_get(st, "example.net", 0, &got, &err), 0, "get without text");
	ok(got.text == NULL, "no text loaded");

	/* the caller owns gen: a change is a put with gen + 1, a delete a tombstone */
	zone_set(&z, "example.net", 1, 2, "da2.example", "example.net. IN SOA a b 2 2 3 4 5\n");
	is_int(store_zone_put(st, &z, &err), 0, "put gen 2 (owner moves)");
	store_zone_get(st, "example.net", 0, &got, &err);
	ok(got.gen == 2, "gen 2 stored");
	is_str(got.hostname, "da2.example", "new owner");
	zone_set(&z, "example.net", 0, 3, "da2.example", "ignored");
	is_int(store_zone_put(st, &z, &err), 0, "tombstone gen 3");
	is_int(store_zone_get(st, "example.net", 1, &got, &err), 0, "tombstone still readable");
	ok(got.present == 0 && got.gen == 3 && got.text == NULL, "present=0, gen 3, text NULL");
	store_zone_clear(&got);

	put_zone(st, "b.example", 1, 1, "da1.example");
	put_zone(st, "a.example", 1, 1, "da2.example");
	put_zone(st, "c.example", 1, 1, "da1.example");
	is_int(store_zone_count(st, &present, &deleted, &err), 0, "count");
	ok(present == 3 && deleted == 1, "3 present, 1 deleted");

	memset(&c, 0, sizeof c);
	is_int(store_zone_each(st, NULL, 0, 0, collect_zone, &c, &err), 0, "each present");
	is_str(c.s, "a.example,b.example,c.example", "domain order, tombstone skipped");
	ok(c.text_ok == 0, "no text without with_text");
	memset(&c, 0, sizeof c);
	store_zone_each(st, NULL, 1, 1, collect_zone, &c, &err);
	is_str(c.s, "a.example,b.example,c.example,example.net", "with deleted");
	is_int(c.text_ok, 3, "text for the present ones");
	memset(&c, 0, sizeof c);
	store_zone_each(st, "da1.example", 0, 0, collect_zone, &c, &err);
	is_str(c.s, "b.example,c.example", "owner filter");
	memset(&c, 0, sizeof c);
	store_zone_each(st, "da2.example", 1, 0, collect_zone, &c, &err);
	is_str(c.s, "a.example,example.net", "owner filter with deleted");
	is_int(store_zone_each(st, NULL, 1, 0, stop_at_two, &stop, &err), 42,
	       "callback's non-zero stops the walk and is returned");
	memset(&c, 0, sizeof c);
	c.st = st;
	is_int(store_zone_each(st, NULL, 1, 0, nested, &c, &err), 0, "re-entrant walk");
	ok(c.n == 4 && c.text_ok == 4, "nested walks and gets inside a walk work");
}

static void test_work(struct store *st)
{
	struct zd_err err;
	struct collect c;
	struct store_backend_counts bc;
	struct store_bstate b;
	int64_t now = 1000000;
	size_t n = 0;
	int cnt = 0;

	/* a fresh set of zones: w01..w11 as in the store.h rules */
	put_zone(st, "w01.example", 1, 1, "");      /* no row: work */
	put_zone(st, "w02.example", 1, 2, "");      /* in sync */
	put_b(st, "nsd1", "w02.example", 2, 1, BSTATE_OK, 0, 0);
	put_zone(st, "w03.example", 1, 3, "");      /* changed since: work */
	put_b(st, "nsd1", "w03.example", 2, 1, BSTATE_OK, 0, 0);
	put_zone(st, "w04.example", 0, 2, "");      /* deleted, backend holds it: work */
	put_b(st, "nsd1", "w04.example", 1, 1, BSTATE_OK, 0, 0);
	put_zone(st, "w05.example", 0, 2, "");      /* deleted, never seen: nothing */
	put_zone(st, "w06.example", 0, 2, "");      /* deleted and gone: in sync */
	put_b(st, "nsd1", "w06.example", 2, 0, BSTATE_OK, 0, 0);
	put_zone(st, "w07.example", 1, 5, "");      /* retry not due */
	put_b(st, "nsd1", "w07.example", 4, 1, BSTATE_RETRY, 5, now + 100);
	put_zone(st, "w08.example", 1, 5, "");      /* retry due */
	put_b(st, "nsd1", "w08.example", 4, 1, BSTATE_RETRY, 5, now - 1);
	put_zone(st, "w09.example", 1, 5, "");      /* failed */
	put_b(st, "nsd1", "w09.example", 4, 1, BSTATE_FAILED, 5, 0);
	put_zone(st, "w10.example", 1, 5, "");      /* rejected */
	put_b(st, "nsd1", "w10.example", 0, 0, BSTATE_REJECTED, 5, 0);
	put_zone(st, "w11.example", 1, 6, "");      /* rejected at an older gen: work again */
	put_b(st, "nsd1", "w11.example", 0, 0, BSTATE_REJECTED, 5, 0);
	put_zone(st, "w12.example", 0, 3, "");      /* deleted, delete failed, retry not due */
	put_b(st, "nsd1", "w12.example", 2, 1, BSTATE_RETRY, 3, now + 50);
	/* another backend's rows must not leak in */
	put_b(st, "bind1", "w01.example", 1, 1, BSTATE_OK, 0, 0);

	memset(&c, 0, sizeof c);
	c.text_ok = 1;
	is_int(store_work_each(st, "nsd1", now, 0, collect_work, &c, &err), 0, "work nsd1");
	is_str(c.s, "a.example,b.example,c.example,"
	       "w01.example,w03.example,w04.example,w08.example,w11.example",
	       "work: new, changed, deleted-held, retry due, new version after reject");
	ok(c.text_ok, "present zones come with their text, b is never NULL");
	memset(&c, 0, sizeof c);
	c.text_ok = 1;
	store_work_each(st, "nsd1", now, 1, collect_work, &c, &err);
	is_str(c.s, "a.example,b.example,c.example,"
	       "w01.example,w03.example,w04.example,w07.example,w08.example,w09.example,"
	       "w10.example,w11.example,w12.example", "force: also not due, failed, rejected");
	memset(&c, 0, sizeof c);
	store_work_each(st, "nsd1", now + 99, 0, collect_work, &c, &err);
	ok(strstr(c.s, "w07") == NULL && strstr(c.s, "w12") != NULL,
	   "one second before next_retry: not due (w12 is)");
	memset(&c, 0, sizeof c);
	store_work_each(st, "nsd1", now + 100, 0, collect_work, &c, &err);
	ok(strstr(c.s, "w07") != NULL, "at next_retry: due");
	memset(&c, 0, sizeof c);
	store_work_each(st, "bind1", now, 0, collect_work, &c, &err);
	ok(strstr(c.s, "w01") == NULL && strstr(c.s, "w02") != NULL && strstr(c.s, "w04") == NULL,
	   "bind1: its own rows only (%s)", c.s);

	is_int(store_backend_counts(st, "nsd1", now, &bc, &err), 0, "counts");
	/* the zones from test_zones (a/b/c present, example.net deleted) have no nsd1 row */
	is_int(bc.applied, 2, "applied: w02 served, w06 gone");
	is_int(bc.pending, 3 + 4, "pending: w01 w03 w04 w11 + a b c");
	is_int(bc.retry, 3, "retry: w07 w08 w12");
	is_int(bc.failed, 1, "failed: w09");
	is_int(bc.rejected, 1, "rejected: w10");
	is_int(bc.next_retry, now - 1, "earliest retry");
	is_str(state_of(st, "nsd1", "w02.example"), "ok", "state ok");
	is_str(state_of(st, "nsd1", "w01.example"), "pending", "state pending (no row)");
	is_str(state_of(st, "nsd1", "w04.example"), "pending", "state pending (delete)");
	is_str(state_of(st, "nsd1", "w05.example"), "none", "deleted, never seen: no state");
	is_str(state_of(st, "nsd1", "w06.example"), "ok", "deleted and gone: ok");
	is_str(state_of(st, "nsd1", "w07.example"), "retry", "state retry");
	is_str(state_of(st, "nsd1", "w09.example"), "failed", "state failed");
	is_str(state_of(st, "nsd1", "w10.example"), "rejected", "state rejected");
	is_str(state_of(st, "nsd1", "w11.example"), "pending", "rejected at an older gen: pending");
	is_int(store_backend_counts(st, "nobody", now, &bc, &err), 0, "counts of an unknown backend");
	is_int(bc.pending, 11, "all 11 present zones pending for a backend with no rows");
	is_int(bc.applied, 0, "deleted zones it never saw are not counted");

	memset(&c, 0, sizeof c);
	is_int(store_served_each(st, "nsd1", collect_zone, &c, &err), 0, "served");
	is_str(c.s, "w02.example,w03.example,w04.example,w07.example,w08.example,w09.example,"
	       "w12.example", "served: applied_present=1 rows in domain order");

	cnt = 0;
	is_int(store_bstate_each(st, "nsd1", NULL, count_b, &cnt, &err), 0, "bstate each backend");
	is_int(cnt, 10, "10 nsd1 rows");
	cnt = 0;
	store_bstate_each(st, NULL, "w01.example", count_b, &cnt, &err);
	is_int(cnt, 1, "w01: one row (bind1)");
	cnt = 0;
	store_bstate_each(st, "nsd1", "w02.example", count_b, &cnt, &err);
	is_int(cnt, 1, "backend and domain");
	cnt = 0;
	store_bstate_each(st, NULL, NULL, count_b, &cnt, &err);
	is_int(cnt, 11, "all rows");
	is_int(store_bstate_get(st, "nsd1", "w01.example", &b, &err), ZD_ENOENT, "no row: ENOENT");
	is_int(store_bstate_get(st, "nsd1", "w07.example", &b, &err), 0, "row");
	ok(b.failed_gen == 5 && b.next_retry == now + 100 && b.attempts == 2 &&
	   strcmp(b.status, "retry") == 0 && b.applied_gen == 4 && b.applied_present == 1,
	   "row fields round trip");

	is_int(store_retry_now(st, "nsd1", "w09.example", &n, &err), 0, "retry one domain");
	is_int(n, 1, "one row changed");
	is_int(store_retry_now(st, "bind1", NULL, &n, &err), 0, "retry on a backend with none");
	is_int(n, 0, "nothing changed");
	is_int(store_retry_now(st, NULL, NULL, &n, &err), 0, "retry all");
	is_int(n, 5, "w07 w08 w10 w11 w12");
	memset(&c, 0, sizeof c);
	store_work_each(st, "nsd1", now, 0, collect_work, &c, &err);
	is_str(c.s, "a.example,b.example,c.example,"
	       "w01.example,w03.example,w04.example,w07.example,w08.example,w09.example,"
	       "w10.example,w11.example,w12.example", "after retry: all due now");
	store_bstate_get(st, "nsd1", "w10.example", &b, &err);
	ok(strcmp(b.status, "pending") == 0 && b.attempts == 0 && b.next_retry == 0,
	   "retried row is pending, attempts reset");
}

static void test_txn(struct store *st)
{
	struct zd_err err;
	struct store_zone z, got;
	char val[4];

	zone_set(&z, "notext.example", 1, 1, "", "x. IN SOA a b 1 2 3 4 5\n");
	store_zone_put(st, &z, &err);
	zone_set(&z, "notext.example", 1, 2, "", NULL);
	is_int(store_zone_put(st, &z, &err), 0, "put a present row without text");
	is_int(store_zone_get(st, "notext.example", 1, &got, &err), 0, "get it");
	ok(got.gen == 2 && got.text == NULL, "the old text is not kept under the new gen");
	store_zone_clear(&got);
	zone_set(&z, "notext.example", 0, 3, "", NULL);
	store_zone_put(st, &z, &err);
	is_int(store_begin(st, &err), 0, "begin (put inside a transaction)");
	zone_set(&z, "notext.example", 1, 4, "", "y. IN SOA a b 1 2 3 4 5\n");
	is_int(store_zone_put(st, &z, &err), 0, "put inside a transaction");
	store_rollback(st);
	store_zone_get(st, "notext.example", 1, &got, &err);
	ok(got.gen == 3 && got.present == 0 && got.text == NULL, "rolled back: row and text together");
	store_zone_clear(&got);


	is_int(store_begin(st, &err), 0, "begin");
	put_zone(st, "rolled.example", 1, 1, "");
	is_int(store_zone_get(st, "rolled.example", 0, &z, &err), 0, "visible inside");
	store_rollback(st);
	is_int(store_zone_get(st, "rolled.example", 0, &z, &err), ZD_ENOENT, "gone after rollback");
	store_rollback(st);
	ok(1, "rollback outside a transaction is harmless");
	is_int(store_begin(st, &err), 0, "begin");
	put_zone(st, "kept.example", 1, 1, "");
	is_int(store_commit(st, &err), 0, "commit");
	is_int(store_zone_get(st, "kept.example", 0, &z, &err), 0, "kept");
	is_int(store_commit(st, &err), ZD_EDB, "commit without begin: EDB");
	is_int(store_meta_get(st, "nope", val, sizeof val, &err), ZD_ENOENT, "meta missing");
	store_meta_set(st, "last_drain_result", "ok", &err);
	is_int(store_meta_get(st, "last_drain_result", val, sizeof val, &err), 0, "meta fits");
	store_meta_set(st, "long", "abcdefgh", &err);
	is_int(store_meta_get(st, "long", val, sizeof val, &err), ZD_E2BIG, "meta too long: E2BIG");
	is_str(val, "abc", "truncated copy");
}

static void test_zindex(struct store *st)
{
	struct zd_err err;
	char host[256], user[65], path[ZD_PATH_MAX], sdir[ZD_PATH_MAX];
	struct stat sb;
	FILE *fp;
	int i, crashed = 0;

	snprintf(sdir, sizeof sdir, "%s/state", dir);
	is_int(zindex_lookup(sdir, "a.example", host, sizeof host, user, sizeof user, &err), ZD_ENOENT,
	       "no index yet: ENOENT");
	is_int(zindex_publish(st, sdir, &err), 0, "publish");
	snprintf(path, sizeof path, "%s/state/%s", dir, ZINDEX_NAME);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644, "zones.idx is 0644");
	is_int(zindex_lookup(sdir, "a.example", host, sizeof host, user, sizeof user, &err), 0,
	       "first entry found");
	is_str(host, "da2.example", "hostname");
	is_str(user, "alice", "username");
	is_int(zindex_lookup(sdir, "w11.example", host, sizeof host, user, sizeof user, &err), 0,
	       "last entry found");
	is_str(host, "", "empty hostname");
	is_int(zindex_lookup(sdir, "kept.example", host, 4, user, sizeof user, &err), 0,
	       "middle entry, small buffer");
	is_int(zindex_lookup(sdir, "example.net", host, sizeof host, user, sizeof user, &err),
	       ZD_ENOENT, "tombstone not in the index");
	is_int(zindex_lookup(sdir, "w05.example", host, sizeof host, user, sizeof user, &err),
	       ZD_ENOENT, "deleted not in the index");
	is_int(zindex_lookup(sdir, "a.exampl", host, sizeof host, user, sizeof user, &err), ZD_ENOENT,
	       "prefix is not a match");
	is_int(zindex_lookup(sdir, "a.example.", host, sizeof host, user, sizeof user, &err),
	       ZD_ENOENT, "longer key is not a match");
	is_int(zindex_lookup(sdir, "0", host, sizeof host, user, sizeof user, &err), ZD_ENOENT,
	       "before the first");
	is_int(zindex_lookup(sdir, "zzz", host, sizeof host, user, sizeof user, &err), ZD_ENOENT,
	       "after the last");
	is_int(zindex_lookup(sdir, "", host, sizeof host, user, sizeof user, &err), ZD_ENOENT,
	       "empty key");

	/* damaged files: never crash, at worst not found */
	fp = fopen(path, "w");
	fclose(fp);
	is_int(zindex_lookup(sdir, "a.example", host, sizeof host, user, sizeof user, &err), ZD_ENOENT,
	       "empty file");
	fp = fopen(path, "w");
	fputs("a.example\tda1", fp);   /* no newline at the end, no username */
	fclose(fp);
	is_int(zindex_lookup(sdir, "a.example", host, sizeof host, user, sizeof user, &err), 0,
	       "truncated last line still found");
	is_str(host, "da1", "its hostname");
	is_str(user, "", "no username");
	fp = fopen(path, "w");
	fputs("zz.example\t\t\nb.example\n\n\na.example\tx\ty\tz\n\t\t\n", fp);   /* unsorted, odd */
	fclose(fp);
	for (i = 0; i < 3; i++)
		zindex_lookup(sdir, i == 0 ? "a.example" : i == 1 ? "b.example" : "q", host,
		              sizeof host, user, sizeof user, &err);
	ok(1, "unsorted garbage: no crash");
	fp = fopen(path, "w");
	srand(7);
	for (i = 0; i < 100000; i++)
		fputc(rand() % 256, fp);
	fclose(fp);
	for (i = 0; i < 200; i++) {
		char key[16];
		int rc;
		snprintf(key, sizeof key, "%c%d", 'a' + i % 26, i);
		rc = zindex_lookup(sdir, key, host, sizeof host, user, sizeof user, &err);
		if (rc != 0 && rc != ZD_ENOENT)
			crashed = 1;
	}
	ok(!crashed, "random bytes: no crash");
	is_int(zindex_publish(st, sdir, &err), 0, "republish over garbage");
	is_int(zindex_lookup(sdir, "b.example", host, sizeof host, user, sizeof user, &err), 0,
	       "found again");
}

/* Large enough to catch an N-queries shape by its answer, not its timing. */
static void test_many(void)
{
	struct store *st = NULL;
	struct zd_err err;
	struct collect c;
	struct store_backend_counts bc;
	char path[ZD_PATH_MAX], d[64];
	int i, ok_all = 1;

	snprintf(path, sizeof path, "%s/many", dir);
	if (store_open(path, 0, &st, &err) != 0) {
		ok(0, "open many: %s", zd_err_str(&err));
		return;
	}
	store_begin(st, &err);
	for (i = 0; i < 5000; i++) {
		snprintf(d, sizeof d, "z%05d.example", i);
		if (put_zone(st, d, 1, 1 + i % 3, "da1") != 0)
			ok_all = 0;
		/* every other zone applied at gen 1 */
		if (i % 2 == 0 && put_b(st, "nsd1", d, 1, 1, BSTATE_OK, 0, 0) != 0)
			ok_all = 0;
	}
	ok(ok_all && store_commit(st, &err) == 0, "5000 zones written in one transaction");
	memset(&c, 0, sizeof c);
	store_work_each(st, "nsd1", 0, 0, collect_work, &c, &err);
	/* work: odd i (no row) = 2500, plus even i with gen != 1 (i%3 != 0 among even) */
	{
		int want = 0;
		for (i = 0; i < 5000; i++)
			if (i % 2 == 1 || 1 + i % 3 != 1)
				want++;
		is_int(c.n, want, "work count at 5000 zones");
		store_backend_counts(st, "nsd1", 0, &bc, &err);
		is_int(bc.pending, want, "pending count matches");
		is_int(bc.applied, 5000 - want, "applied count matches");
	}
	store_close(st);
}

int main(void)
{
	struct store *st = NULL;
	struct zd_err err;
	char path[ZD_PATH_MAX], cmd[ZD_PATH_MAX + 16];

	umask(022);
	ok(mkdtemp(dir) != NULL, "mkdtemp");
	test_open();
	snprintf(path, sizeof path, "%s/state", dir);
	if (store_open(path, 0, &st, &err) != 0) {
		ok(0, "open: %s", zd_err_str(&err));
		return tap_done();
	}
	test_zones(st);
	test_work(st);
	test_txn(st);
	test_zindex(st);
	store_close(st);
	test_many();

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
