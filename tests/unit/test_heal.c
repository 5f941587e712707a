/* test_heal.c -- store_bstate_heal() and store_sync_each(): healing marks become drain work */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"

struct seen {
	char domain[256];
	int present, was_present, n;
};

static int work_fn(const struct store_zone *z, const struct store_bstate *b, void *arg)
{
	struct seen *s = arg;

	str_copy(s->domain, z->domain, sizeof s->domain);
	s->present = z->present;
	s->was_present = b->applied_present;
	s->n++;
	return 0;
}

static int sync_fn(const struct store_zone *z, const struct store_bstate *b, void *arg)
{
	int *nulls = arg;

	(void)z;
	if (b == NULL)
		(*nulls)++;
	return 0;
}

static void put_zone(struct store *st, const char *d, int present, int64_t gen)
{
	struct store_zone z;
	struct zd_err err;

	memset(&z, 0, sizeof z);
	str_copy(z.domain, d, sizeof z.domain);
	z.present = present;
	z.serial = 7;
	z.gen = gen;
	z.text = present ? "x" : NULL;
	z.text_len = present ? 1 : 0;
	store_zone_put(st, &z, &err);
}

static void put_b(struct store *st, const char *d, int64_t gen, int present)
{
	struct store_bstate b;
	struct zd_err err;

	memset(&b, 0, sizeof b);
	str_copy(b.backend, "nsd1", sizeof b.backend);
	str_copy(b.domain, d, sizeof b.domain);
	b.applied_gen = gen;
	b.applied_serial = 7;
	b.applied_present = present;
	str_copy(b.status, BSTATE_OK, sizeof b.status);
	store_bstate_put(st, &b, &err);
}

static struct seen work(struct store *st)
{
	struct seen s;
	struct zd_err err;

	memset(&s, 0, sizeof s);
	store_work_each(st, "nsd1", time_now(), 0, work_fn, &s, &err);
	return s;
}

int main(void)
{
	char dir[] = "/tmp/zd-test-heal.XXXXXX";
	struct store *st = NULL;
	struct store_bstate b;
	struct zd_err err;
	struct seen s;
	int nulls = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	ok(store_open(dir, 0, &st, &err) == 0, "open a new state");
	put_zone(st, "a.example", 1, 1);
	put_b(st, "a.example", 1, 1);
	put_zone(st, "gone.example", 0, 2);
	put_b(st, "gone.example", 2, 0);
	put_zone(st, "never.example", 1, 1);
	/* never.example has no row: that is work already */
	s = work(st);
	ok(s.n == 1 && strcmp(s.domain, "never.example") == 0, "only the never-applied zone is work");
	ok(store_sync_each(st, "nsd1", sync_fn, &nulls, &err) == 0 && nulls == 1,
	   "store_sync_each: a NULL state for the zone without a row");
	put_b(st, "never.example", 1, 1);
	is_int(work(st).n, 0, "all in sync");

	ok(store_bstate_heal(st, "nsd1", "a.example", STORE_HEAL_ADD, "heal: missing", &err) == 0,
	   "heal ADD");
	s = work(st);
	ok(s.n == 1 && strcmp(s.domain, "a.example") == 0 && s.present && !s.was_present,
	   "ADD: work again, applied as a new zone");
	store_bstate_get(st, "nsd1", "a.example", &b, &err);
	ok(strcmp(b.status, BSTATE_PENDING) == 0 && strcmp(b.last_error, "heal: missing") == 0,
	   "pending, with the reason");
	put_b(st, "a.example", 1, 1);

	ok(store_bstate_heal(st, "nsd1", "a.example", STORE_HEAL_RELOAD, "heal: stale", &err) == 0,
	   "heal RELOAD");
	s = work(st);
	ok(s.n == 1 && s.was_present, "RELOAD: work again, in place");
	put_b(st, "a.example", 1, 1);

	ok(store_bstate_heal(st, "nsd1", "gone.example", STORE_HEAL_REMOVE, "heal: unwanted", &err) == 0,
	   "heal REMOVE");
	s = work(st);
	ok(s.n == 1 && strcmp(s.domain, "gone.example") == 0 && !s.present && s.was_present,
	   "REMOVE: the deleted zone is work again (to remove)");
	store_bstate_get(st, "nsd1", "gone.example", &b, &err);
	is_int(b.applied_gen, 2, "REMOVE keeps applied_gen");

	is_int(store_bstate_heal(st, "nsd1", "nope.example", STORE_HEAL_ADD, "x", &err), ZD_ENOENT,
	       "no row: ZD_ENOENT");
	is_int(store_bstate_heal(st, "bind1", "a.example", STORE_HEAL_ADD, "x", &err), ZD_ENOENT,
	       "another backend's row is untouched");
	store_close(st);
	{
		char p[300];
		snprintf(p, sizeof p, "%s/state.db", dir);
		unlink(p);
		snprintf(p, sizeof p, "%s/state.db-wal", dir);
		unlink(p);
		snprintf(p, sizeof p, "%s/state.db-shm", dir);
		unlink(p);
		rmdir(dir);
	}
	return tap_done();
}
