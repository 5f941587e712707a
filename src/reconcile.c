/* reconcile.c -- zonedrop-reconcile: orphans against DirectAdmin listings, healing of backends
 *
 * Orphans. Per reconcile.directadmin entry: the zones its hostname owns are
 * read from the state first, then its listing is fetched (da_client.c); only
 * a complete listing counts (PROTOCOL.md section 7), and an empty one while
 * we hold zones of that server does not count either. A held zone absent
 * from it is an orphan. Reading the state before the listing means a
 * domain created on DirectAdmin (and pushed) while the listing was on its
 * way cannot be taken for an orphan; each orphan's row is read again right
 * before its delete is spooled, and one whose owner or update time moved
 * meanwhile is kept. Deletes go through the spool (Action: delete, Source:
 * reconcile, Hostname: the owner, so the drain refuses it if ownership moved
 * on before it is drained) and the drain removes the zone everywhere.
 * Dry run (the default) reports only; more orphans than max_deletes: none
 * deleted for that server, reported, exit 1.
 *
 * Locks. Spooling needs no lock (the CGI spools without one). Healing writes
 * backend state and its DNS checks must not race a drain that is applying
 * (a zone half-way through a reload would look stale), so healing takes the
 * drain's spool lock, non-blocking: held -> healing is skipped (ZD_EBUSY,
 * exit 75 when nothing else failed). The listings are fetched without the
 * lock: a slow DirectAdmin never holds up the drain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/da_client.h"
#include "zonedrop/log.h"
#include "zonedrop/reconcile.h"
#include "zonedrop/spool.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"

#define RECONCILE_DEADLINE_MS (10 * 60 * 1000)

struct rc_held {
	char **domains;
	size_t n, cap;
	int oom;
};

static int rc_held_add(const struct store_zone *z, void *arg)
{
	struct rc_held *h = arg;

	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 1024;
		char **nd = realloc(h->domains, ncap * sizeof *nd);

		if (nd == NULL) {
			h->oom = 1;
			return 1;
		}
		h->domains = nd;
		h->cap = ncap;
	}
	if ((h->domains[h->n] = strdup(z->domain)) == NULL) {
		h->oom = 1;
		return 1;
	}
	h->n++;
	return 0;
}

static void rc_held_free(struct rc_held *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->domains[i]);
	free(h->domains);
	memset(h, 0, sizeof *h);
}

size_t reconcile_max_deletes(const struct config *cfg, size_t held)
{
	double m = cfg->reconcile.max_deletes;

	if (m < 0)
		return 0;
	if (cfg->reconcile.max_deletes_percent)
		/* rounded down: 5% of 19 zones is 0, so a small server never loses a zone
		 * unattended; say max_deletes: 1 (a count) for that */
		return (size_t)((double)held * m / 100.0 + 1e-9);
	return (size_t)m;
}

static void rc_report(reconcile_report_fn fn, void *arg, const char *server, const char *domain,
                      const char *what)
{
	struct reconcile_report r;

	if (fn == NULL)
		return;
	memset(&r, 0, sizeof r);
	r.kind = "orphan";
	r.server = server;
	r.domain = domain;
	r.what = what;
	fn(&r, arg);
}

/* Spool the delete of one orphan, unless its row moved since t0. */
static int rc_delete(const struct config *cfg, struct store *st, const char *owner,
                     const char *domain, int64_t t0, struct zd_err *err)
{
	struct spool_item it;
	struct store_zone z;
	int rc;

	rc = store_zone_get(st, domain, 0, &z, err);
	if (rc == ZD_ENOENT)
		return 1;
	if (rc != 0)
		return rc;
	if (!z.present || strcmp(z.hostname, owner) != 0 || z.updated >= t0)
		return 1;
	memset(&it, 0, sizeof it);
	it.action = SPOOL_DELETE;
	str_copy(it.domain, domain, sizeof it.domain);
	str_copy(it.hostname, owner, sizeof it.hostname);
	str_copy(it.username, z.username, sizeof it.username);
	str_copy(it.source, "reconcile", sizeof it.source);
	rc = spool_deliver(cfg->spool_dir, &it, err);
	if (rc == 0)
		log_info(domain, "server=%s item=%s orphan: not in the DirectAdmin listing, delete "
		         "spooled", owner, it.name);
	return rc;
}

static int rc_server(const struct config *cfg, const struct config_da_server *da,
                     const struct reconcile_opts *o, int dry_run, int64_t deadline,
                     reconcile_report_fn fn, void *arg, struct reconcile_stats *rs,
                     struct zd_err *err)
{
	const char *owner = da->hostname ? da->hostname : "";
	struct rc_held held;
	struct da_listing l;
	struct da_fetch_opts fo;
	struct store *st = NULL;
	struct zd_err e;
	size_t i, norphans = 0, max, *orph = NULL;
	int64_t t0 = time_now();
	int rc = 0, result = 0;

	memset(&held, 0, sizeof held);
	memset(&l, 0, sizeof l);
	rs->servers++;
	/* what we hold of it, before the listing is asked for (see the top) */
	zd_err_clear(&e);
	rc = store_open(cfg->state_dir, STORE_RDONLY, &st, &e);
	if (rc == ZD_ENOENT) {
		rc = 0;
	} else if (rc != 0) {
		rc = zd_err_set(err, rc, "%s", zd_err_str(&e));
		goto out;
	} else {
		rc = store_zone_each(st, owner, 0, 0, rc_held_add, &held, err);
		if (held.oom)
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory listing the zones of %s", owner);
		if (rc != 0)
			goto out;
	}
	rs->held += held.n;
	memset(&fo, 0, sizeof fo);
	fo.request_timeout_ms = o->request_timeout_ms;
	fo.deadline_mono_ms = deadline;
	zd_err_clear(&e);
	if (da_fetch_listing(da, &fo, &l, &e) != 0) {
		log_warning(NULL, "server=%s listing unusable, nothing of its %zu zone(s) deleted: %s",
		            owner, held.n, zd_err_str(&e));
		rs->servers_skipped++;
		result = 1;
		goto out;
	}
	rs->listed += l.n;
	if (l.n == 0 && held.n > 0) {
		log_warning(NULL, "server=%s listing is empty while zonedrop holds %zu of its zones: "
		            "not trusted, nothing deleted", owner, held.n);
		rs->servers_skipped++;
		result = 1;
		goto out;
	}
	if (l.invalid > 0)
		log_info(NULL, "server=%s %zu listed name(s) are no zone zonedrop could hold (ignored)",
		         owner, l.invalid);
	orph = calloc(held.n ? held.n : 1, sizeof *orph);
	if (orph == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < held.n; i++)
		if (!da_listing_has(&l, held.domains[i]))
			orph[norphans++] = i;
	rs->orphans += norphans;
	max = reconcile_max_deletes(cfg, held.n);
	log_info(NULL, "server=%s listing format=%s pages=%ld session=%s listed=%zu held=%zu "
	         "orphans=%zu max_deletes=%zu", owner,
	         l.format == DA_FMT_JSON ? "json" : l.format == DA_FMT_LINES ? "lines" : "legacy",
	         l.pages, l.session ? "yes" : "no", l.n, held.n, norphans, max);
	if (norphans == 0)
		goto out;
	if (dry_run) {
		for (i = 0; i < norphans; i++) {
			log_info(held.domains[orph[i]], "server=%s orphan (dry run: not deleted)", owner);
			rc_report(fn, arg, owner, held.domains[orph[i]], "dry-run");
		}
		goto out;
	}
	if (norphans > max) {
		log_warning(NULL, "server=%s %zu orphan(s), more than max_deletes=%zu of %zu zone(s): "
		            "none deleted", owner, norphans, max, held.n);
		for (i = 0; i < norphans; i++)
			rc_report(fn, arg, owner, held.domains[orph[i]], "over-cap");
		rs->servers_capped++;
		result = 1;
		goto out;
	}
	for (i = 0; i < norphans; i++) {
		const char *d = held.domains[orph[i]];
		int r;

		zd_err_clear(&e);
		r = rc_delete(cfg, st, owner, d, t0, &e);
		if (r == 1) {
			log_info(d, "server=%s changed while the listing was read: kept", owner);
			rc_report(fn, arg, owner, d, "changed");
		} else if (r != 0) {
			log_error(d, "server=%s delete not spooled: %s", owner, zd_err_str(&e));
			result = 1;
		} else {
			rs->deleted++;
			rc_report(fn, arg, owner, d, "deleted");
		}
	}
out:
	free(orph);
	da_listing_free(&l);
	rc_held_free(&held);
	store_close(st);
	return rc < 0 ? rc : result;
}

struct rc_heal_arg {
	reconcile_report_fn fn;
	void *arg;
};

static void rc_heal_report(const struct heal_mismatch *m, void *arg)
{
	const struct rc_heal_arg *a = arg;
	struct reconcile_report r;

	if (a->fn == NULL)
		return;
	memset(&r, 0, sizeof r);
	r.kind = "heal";
	r.server = m->backend;
	r.domain = m->domain;
	r.what = m->what;
	r.m = m;
	a->fn(&r, a->arg);
}

int reconcile_run(const struct config *cfg, const struct reconcile_opts *o,
                  reconcile_report_fn fn, void *arg, struct reconcile_stats *rs,
                  struct zd_err *err)
{
	struct reconcile_stats local;
	int64_t t0 = time_mono_ms(), deadline;
	int dry_run, rc = 0, result = 0, lockfd = -1;
	struct store *st = NULL;
	size_t i, nmatch = 0;

	if (rs == NULL)
		rs = &local;
	memset(rs, 0, sizeof *rs);
	dry_run = o->dry_run >= 0 ? o->dry_run : cfg->reconcile.dry_run;
	deadline = t0 + (o->deadline_ms > 0 ? o->deadline_ms : RECONCILE_DEADLINE_MS);

	if (o->orphans) {
		for (i = 0; i < cfg->reconcile.ndirectadmin; i++) {
			const struct config_da_server *da = &cfg->reconcile.directadmin[i];

			if (o->only_server != NULL && strcmp(o->only_server, da->hostname) != 0 &&
			    strcmp(o->only_server, da->url) != 0)
				continue;
			nmatch++;
			if (time_mono_ms() >= deadline) {
				log_warning(NULL, "server=%s not asked: the run's deadline passed", da->hostname);
				rs->servers_skipped++;
				result = 1;
				continue;
			}
			rc = rc_server(cfg, da, o, dry_run, deadline, fn, arg, rs, err);
			if (rc < 0)
				return rc;
			if (rc > 0)
				result = 1;
		}
		if (o->only_server != NULL && nmatch == 0)
			return zd_err_set(err, ZD_ECONFIG, "no reconcile.directadmin entry for %s",
			                  o->only_server);
	}
	if (o->heal) {
		struct heal_opts ho;
		struct rc_heal_arg a = { fn, arg };

		rc = spool_lock(cfg->spool_dir, &lockfd, err);
		if (rc == ZD_EBUSY) {
			log_warning(NULL, "healing skipped: a drain holds the spool lock, try later");
			rs->heal_busy = 1;
			rs->seconds = (double)(time_mono_ms() - t0) / 1000.0;
			return result ? 1 : ZD_EBUSY;
		}
		if (rc != 0)
			return rc;
		rc = store_open(cfg->state_dir, 0, &st, err);
		if (rc != 0)
			goto out;
		memset(&ho, 0, sizeof ho);
		/* healing only re-applies the desired state: reconcile.dry_run (about
		 * deleting orphans) leaves it on; an explicit dry run (-n) reports only */
		ho.mark = o->dry_run == 1 ? 0 : 1;
		ho.timeout_ms = o->heal_timeout_ms;
		ho.deep = o->deep;
		rc = heal_run(cfg, st, &ho, rc_heal_report, &a, &rs->heal, err);
		if (rc < 0)
			goto out;
		/* mismatches are marked for the drain: done, not failed; a backend
		 * (or zones) that could not be checked is a failure of this run */
		if (rs->heal.backends_skipped > 0 || rs->heal.unanswered > 0)
			result = 1;
		rc = 0;
	}
out:
	store_close(st);
	spool_unlock(lockfd);
	rs->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	if (rc < 0)
		return rc;
	return result;
}
