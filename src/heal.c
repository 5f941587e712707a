/* heal.c -- what each backend really serves against what zonedrop believes it applied
 *
 * zonedrop-reconcile's healing pass and `zonedrop verify`. Per backend, the
 * zones the store says are in sync are asked for (one pass over the state,
 * store_sync_each): DNS servers by SOA query, all zones of a backend in one
 * verify_soa_first() run (256 in flight, one answer each, lost datagrams
 * asked again), MySQL backends by their rows (backend_mysql_check). A zone
 * the server lacks, serves with another serial, or serves although it was
 * deleted is reported and, with mark, set back to "pending" in the store
 * (store_bstate_heal), so the next drain applies the desired state again by
 * its usual means: healing never writes to a nameserver itself.
 * A backend whose server answers nothing is skipped (reported once), never
 * marked wholesale: a dead server is the drain's retry business.
 * --deep compares records: AXFR from the server where it allows it (ldns),
 * else one query per desired RRset; MySQL backends compare their rows with
 * the desired records, then (where `verify:` names the server in front)
 * what that server answers. TTLs are not compared, nor DNSSEC records
 * per DNSSEC type unless both sides have some. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "zonedrop/backend.h"
#include "zonedrop/heal.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"
#include "zonedrop/verify.h"

#define HEAL_TIMEOUT_MS 10000

struct heal_zone {
	char *domain;
	uint32_t serial;
	int want_present;
};

struct heal_collect {
	const struct heal_opts *o;
	struct heal_zone *z;
	size_t n, cap;
	int oom;
};

static int heal_wanted(const struct heal_opts *o, const char *domain)
{
	size_t i;

	if (o->ndomains == 0)
		return 1;
	for (i = 0; i < o->ndomains; i++)
		if (strcmp(o->domains[i], domain) == 0)
			return 1;
	return 0;
}

/* Zones in scope: in sync according to the store. */
static int heal_collect_zone(const struct store_zone *z, const struct store_bstate *b, void *arg)
{
	struct heal_collect *c = arg;
	const char *state;

	if (b == NULL)
		return 0;   /* never written to this backend: nothing zonedrop answers for */
	state = store_zone_state(z, b);
	if (state == NULL || strcmp(state, BSTATE_OK) != 0)
		return 0;
	if (!z->present && b->applied_present)
		return 0;
	if (!heal_wanted(c->o, z->domain))
		return 0;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct heal_zone *nz = realloc(c->z, ncap * sizeof *nz);

		if (nz == NULL) {
			c->oom = 1;
			return 1;
		}
		c->z = nz;
		c->cap = ncap;
	}
	c->z[c->n].domain = strdup(z->domain);
	if (c->z[c->n].domain == NULL) {
		c->oom = 1;
		return 1;
	}
	c->z[c->n].serial = z->present ? z->serial : 0;
	c->z[c->n].want_present = z->present ? 1 : 0;
	c->n++;
	return 0;
}

static void heal_collect_free(struct heal_collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->z[i].domain);
	free(c->z);
	c->z = NULL;
	c->n = c->cap = 0;
}

static void heal_report(heal_report_fn fn, void *arg, const char *backend, const char *domain,
                        const char *what, int has_want, uint32_t want, int has_got, uint32_t got)
{
	struct heal_mismatch m;

	if (fn == NULL)
		return;
	memset(&m, 0, sizeof m);
	m.backend = backend;
	m.domain = domain;
	m.what = what;
	m.has_want = has_want;
	m.want_serial = want;
	m.has_got = has_got;
	m.got_serial = got;
	fn(&m, arg);
}

/* Mark one mismatch for the next drain. */
static int heal_mark(struct store *st, const struct heal_opts *o, const char *backend,
                     const char *domain, enum store_heal mode, const char *why,
                     struct heal_stats *hs, struct zd_err *err)
{
	int rc;

	if (!o->mark)
		return 0;
	rc = store_bstate_heal(st, backend, domain, mode, why, err);
	if (rc == 0) {
		hs->marked++;
		log_info(domain, "backend=%s %s: marked for the next drain", backend, why);
	}
	return rc == ZD_ENOENT ? 0 : rc;
}

/* --deep for the zones served with the right serial. */
static int heal_deep(const struct config_backend *be, struct store *st,
                     const struct heal_collect *c, const struct verify_query *q, int64_t timeout_ms,
                     heal_report_fn fn, void *arg, const struct heal_opts *o,
                     struct heal_stats *hs, int *bad)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct store_zone z;
		struct heal_mismatch t;
		struct zd_err e;
		int r;

		if (!c->z[i].want_present || !q[i].ok)
			continue;
		zd_err_clear(&e);
		if ((r = store_zone_get(st, c->z[i].domain, 1, &z, &e)) != 0 || z.text == NULL) {
			store_zone_clear(&z);
			if (r == ZD_ENOENT || r == 0)
				continue;
			return r;
		}
		memset(&t, 0, sizeof t);
		t.backend = be->name;
		t.domain = c->z[i].domain;
		t.what = "differs";
		t.has_want = t.has_got = 1;
		t.want_serial = c->z[i].serial;
		t.got_serial = q[i].got_serial;
		r = heal_deep_zone(be->verify_host ? be->verify_host : "127.0.0.1",
		                   be->verify_port > 0 ? be->verify_port : 53, c->z[i].domain, z.text,
		                   z.text_len, timeout_ms, &t, fn, arg, &e);
		store_zone_clear(&z);
		if (r < 0) {
			log_warning(c->z[i].domain, "backend=%s deep check: %s", be->name, zd_err_str(&e));
			*bad = 1;
			continue;
		}
		if (r > 0) {
			hs->mismatches++;
			*bad = 1;
			zd_err_clear(&e);
			if (heal_mark(st, o, be->name, c->z[i].domain, STORE_HEAL_RELOAD,
			              "heal: served records differ", hs, &e) < 0)
				return e.code ? e.code : ZD_EDB;
		}
	}
	return 0;
}

static int heal_dns(const struct config_backend *be, struct store *st, struct heal_collect *c,
                    const struct heal_opts *o, heal_report_fn fn, void *arg,
                    struct heal_stats *hs, struct zd_err *err)
{
	struct verify_query *q = NULL;
	int64_t timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : HEAL_TIMEOUT_MS;
	size_t i, noanswer = 0;
	struct zd_err e;
	int rc = 0, bad = 0;

	if (c->n == 0)
		return 0;
	if ((q = calloc(c->n, sizeof *q)) == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < c->n; i++) {
		q[i].domain = c->z[i].domain;
		q[i].serial = c->z[i].serial;
		q[i].want_present = c->z[i].want_present;
	}
	zd_err_clear(&e);
	if (verify_soa_first(be->verify_host ? be->verify_host : "127.0.0.1",
	                     be->verify_port > 0 ? be->verify_port : 53, q, c->n, timeout_ms, &e) != 0) {
		log_warning(NULL, "backend=%s not checked: %s", be->name, zd_err_str(&e));
		hs->backends_skipped++;
		rc = 1;
		goto out;
	}
	for (i = 0; i < c->n; i++)
		if (q[i].state == VERIFY_NOANSWER || q[i].state == VERIFY_PENDING)
			noanswer++;
	hs->unanswered += noanswer;
	if (noanswer == c->n) {
		log_warning(NULL, "backend=%s not checked: no answer from %s@%d for any of %zu zone(s)",
		            be->name, be->verify_host ? be->verify_host : "127.0.0.1",
		            be->verify_port > 0 ? be->verify_port : 53, c->n);
		hs->backends_skipped++;
		rc = 1;
		goto out;
	}
	hs->backends++;
	hs->zones += c->n - noanswer;
	if (noanswer > 0) {
		log_warning(NULL, "backend=%s %zu zone(s) got no answer: not checked", be->name, noanswer);
		bad = 1;
	}
	for (i = 0; i < c->n; i++) {
		const struct heal_zone *hz = &c->z[i];
		const struct verify_query *r = &q[i];
		const char *what = NULL;
		enum store_heal mode = STORE_HEAL_ADD;
		char why[96];

		if (r->state == VERIFY_NOANSWER || r->state == VERIFY_PENDING)
			continue;
		if (hz->want_present) {
			if (r->state == VERIFY_OTHER) {
				what = "stale";
				mode = STORE_HEAL_RELOAD;
			} else if (r->state == VERIFY_ABSENT) {
				what = "missing";
				/* SERVFAIL: configured but not loadable: apply again in place */
				mode = r->rcode == LDNS_RCODE_SERVFAIL ? STORE_HEAL_RELOAD : STORE_HEAL_ADD;
			}
		} else if (r->state == VERIFY_SERVED || r->rcode == LDNS_RCODE_SERVFAIL) {
			what = "unwanted";
			mode = STORE_HEAL_REMOVE;
		}
		if (what == NULL)
			continue;
		bad = 1;
		hs->mismatches++;
		heal_report(fn, arg, be->name, hz->domain, what, hz->want_present, hz->serial,
		            r->state == VERIFY_SERVED || r->state == VERIFY_OTHER, r->got_serial);
		if (hz->want_present)
			snprintf(why, sizeof why, "heal: %s (%s, served serial %u, desired %u)", what,
			         verify_rcode_name(r->rcode), r->got_serial, hz->serial);
		else
			snprintf(why, sizeof why, "heal: %s (deleted, still answered: %s)", what,
			         verify_rcode_name(r->rcode));
		if ((rc = heal_mark(st, o, be->name, hz->domain, mode, why, hs, err)) < 0)
			goto out;
	}
	if (o->deep && (rc = heal_deep(be, st, c, q, timeout_ms, fn, arg, o, hs, &bad)) < 0) {
		zd_err_set(err, rc, "deep check of %s failed", be->name);
		goto out;
	}
	rc = bad;
out:
	free(q);
	return rc;
}

/* forward: the record comparison below */
static ldns_rr_list *heal_parse(const char *domain, const char *text, size_t len,
                                struct zd_err *err);
static void heal_list_norm(ldns_rr_list *l);
static int heal_diff(const ldns_rr_list *want, const ldns_rr_list *got,
                     const struct heal_mismatch *tmpl, heal_report_fn fn, void *arg);

/* The rows the MySQL backends write for a zone: its SOA and every other record. */
static size_t heal_row_count(const ldns_rr_list *l)
{
	size_t i, n = 0;

	for (i = 1; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) != LDNS_RR_TYPE_SOA)
			n++;
	return ldns_rr_list_rr_count(l) > 0 ? n + 1 : 0;
}

/* --deep on MySQL: the rows (as RRs) against the desired records; a row
 * ldns cannot read is reported as served but not desired. Returns the
 * number of differences. */
static int heal_rows_deep(const struct backend_rows_check *q, ldns_rr_list *want,
                          const struct heal_mismatch *tmpl, heal_report_fn fn, void *arg)
{
	ldns_rr_list *got = ldns_rr_list_new();
	ldns_rdf *root = ldns_dname_new_frm_str(".");
	size_t i;
	int diffs = 0;

	if (got == NULL || root == NULL) {
		ldns_rr_list_free(got);
		ldns_rdf_deep_free(root);
		return -1;
	}
	for (i = 0; i < q->nrrs; i++) {
		ldns_rr *rr = NULL;

		if (ldns_rr_new_frm_str(&rr, q->rrs[i], 0, root, NULL) == LDNS_STATUS_OK) {
			ldns_rr_list_push_rr(got, rr);
		} else {
			struct heal_mismatch m = *tmpl;
			char rec[1024];

			snprintf(rec, sizeof rec, "+%s (unreadable row)", q->rrs[i]);
			m.record = rec;
			diffs++;
			if (fn != NULL)
				fn(&m, arg);
		}
	}
	heal_list_norm(got);
	diffs += heal_diff(want, got, tmpl, fn, arg);
	ldns_rr_list_deep_free(got);
	ldns_rdf_deep_free(root);
	return diffs;
}

/* MySQL backends by their rows: zone row, SOA serial, the number of rows
 * against the desired records; --deep compares the rows record by record,
 * then (where `verify:` names the server in front, e.g. PowerDNS) what it
 * serves. */
static int heal_mysql(const struct config_backend *be, struct store *st, struct heal_collect *c,
                      const struct heal_opts *o, heal_report_fn fn, void *arg,
                      struct heal_stats *hs, struct zd_err *err)
{
	struct backend_rows_check *q = NULL;
	int64_t timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : HEAL_TIMEOUT_MS;
	size_t i;
	struct zd_err e;
	int rc = 0, bad = 0;

	if (c->n == 0)
		return 0;
	if ((q = calloc(c->n, sizeof *q)) == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < c->n; i++) {
		q[i].domain = c->z[i].domain;
		q[i].want_rows = o->deep && c->z[i].want_present;
	}
	zd_err_clear(&e);
	if (backend_mysql_check(be, q, c->n, &e) != 0) {
		log_warning(NULL, "backend=%s not checked: %s", be->name, zd_err_str(&e));
		hs->backends_skipped++;
		free(q);
		return 1;
	}
	hs->backends++;
	hs->zones += c->n;
	for (i = 0; i < c->n; i++) {
		const struct heal_zone *hz = &c->z[i];
		ldns_rr_list *want = NULL;
		struct store_zone z;
		struct heal_mismatch t;
		const char *what = NULL;
		enum store_heal mode = STORE_HEAL_RELOAD;
		size_t nwant = 0;
		char why[160];
		int diffs = 0;

		memset(&z, 0, sizeof z);
		if (!hz->want_present) {
			if (q[i].zone_row) {
				what = "unwanted";
				mode = STORE_HEAL_REMOVE;
				snprintf(why, sizeof why, "heal: unwanted (deleted, still in %s with %zu rows)",
				         be->type == BACKEND_POWERDNS_MYSQL ? "domains" : "the zones table",
				         q[i].nrows);
			}
		} else if (!q[i].zone_row || !q[i].has_soa) {
			what = "missing";
			mode = q[i].zone_row ? STORE_HEAL_RELOAD : STORE_HEAL_ADD;
			snprintf(why, sizeof why, "heal: missing (%s)",
			         q[i].zone_row ? "zone row without an SOA row" : "no zone row");
		} else if (q[i].got_serial != hz->serial) {
			what = "stale";
			snprintf(why, sizeof why, "heal: stale (SOA row serial %u, desired %u)",
			         q[i].got_serial, hz->serial);
		} else {
			/* right serial: the rows against the desired records */
			zd_err_clear(&e);
			if ((rc = store_zone_get(st, hz->domain, 1, &z, &e)) != 0 || z.text == NULL) {
				if (rc == ZD_ENOENT || rc == 0) {
					rc = 0;
					goto next;
				}
				*err = e;
				goto out;
			}
			want = heal_parse(hz->domain, z.text, z.text_len, &e);
			if (want == NULL) {
				log_warning(hz->domain, "backend=%s not compared: %s", be->name, zd_err_str(&e));
				bad = 1;
				goto next;
			}
			nwant = heal_row_count(want);
			memset(&t, 0, sizeof t);
			t.backend = be->name;
			t.domain = hz->domain;
			t.what = "differs";
			t.has_want = t.has_got = 1;
			t.want_serial = hz->serial;
			t.got_serial = q[i].got_serial;
			if (o->deep) {
				heal_list_norm(want);
				diffs = heal_rows_deep(&q[i], want, &t, fn, arg);
				if (diffs < 0) {
					rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
					goto out;
				}
				if (diffs == 0 && be->verify_set) {
					zd_err_clear(&e);
					diffs = heal_deep_zone(be->verify_host ? be->verify_host : "127.0.0.1",
					                       be->verify_port > 0 ? be->verify_port : 53,
					                       hz->domain, z.text, z.text_len, timeout_ms, &t, fn,
					                       arg, &e);
					if (diffs < 0) {
						log_warning(hz->domain, "backend=%s deep check: %s", be->name,
						            zd_err_str(&e));
						bad = 1;
						diffs = 0;
					} else if (diffs > 0) {
						snprintf(why, sizeof why, "heal: served records differ (%d)", diffs);
					}
				} else if (diffs > 0) {
					snprintf(why, sizeof why, "heal: rows differ from the desired records (%d)",
					         diffs);
				}
			}
			if (diffs == 0 && q[i].nrows != nwant) {
				/* not deep, or records equal but repeated (duplicate rows) */
				diffs = 1;
				snprintf(why, sizeof why, "heal: %zu rows, desired %zu records", q[i].nrows,
				         nwant);
				heal_report(fn, arg, be->name, hz->domain, "differs", 1, hz->serial, 1,
				            q[i].got_serial);
			}
			if (diffs > 0) {
				bad = 1;
				hs->mismatches++;
				if ((rc = heal_mark(st, o, be->name, hz->domain, STORE_HEAL_RELOAD, why, hs,
				                    err)) < 0)
					goto out;
			}
			goto next;
		}
		if (what == NULL)
			goto next;
		bad = 1;
		hs->mismatches++;
		heal_report(fn, arg, be->name, hz->domain, what, hz->want_present, hz->serial,
		            q[i].has_soa, q[i].got_serial);
		if ((rc = heal_mark(st, o, be->name, hz->domain, mode, why, hs, err)) < 0)
			goto out;
next:
		ldns_rr_list_deep_free(want);
		store_zone_clear(&z);
		continue;
out:
		ldns_rr_list_deep_free(want);
		store_zone_clear(&z);
		break;
	}
	if (rc >= 0)
		rc = bad;
	for (i = 0; i < c->n; i++)
		backend_rows_check_clear(&q[i]);
	free(q);
	return rc;
}

int heal_run(const struct config *cfg, struct store *st, const struct heal_opts *o,
             heal_report_fn fn, void *arg, struct heal_stats *hs, struct zd_err *err)
{
	struct heal_stats local;
	size_t j;
	int rc, result = 0;

	if (hs == NULL)
		hs = &local;
	memset(hs, 0, sizeof *hs);
	for (j = 0; j < cfg->nbackends; j++) {
		const struct config_backend *be = &cfg->backends[j];
		struct heal_collect c;

		if (o->only_backend != NULL ? strcmp(be->name, o->only_backend) != 0 : !be->enabled)
			continue;
		memset(&c, 0, sizeof c);
		c.o = o;
		rc = store_sync_each(st, be->name, heal_collect_zone, &c, err);
		if (c.oom)
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory listing the zones of %s", be->name);
		if (rc != 0) {
			heal_collect_free(&c);
			return rc;
		}
		if (o->mark && (rc = store_begin(st, err)) != 0) {
			heal_collect_free(&c);
			return rc;
		}
		switch (be->type) {
		case BACKEND_POWERDNS_MYSQL:
		case BACKEND_COREDNS_MYSQL:
			rc = heal_mysql(be, st, &c, o, fn, arg, hs, err);
			break;
		default:
			rc = heal_dns(be, st, &c, o, fn, arg, hs, err);
			break;
		}
		if (o->mark) {
			if (rc < 0) {
				store_rollback(st);
			} else {
				int r = store_commit(st, err);
				if (r != 0) {
					store_rollback(st);
					rc = r;
				}
			}
		}
		heal_collect_free(&c);
		if (rc < 0)
			return rc;
		if (rc > 0)
			result = 1;
	}
	return result;
}

/* ------------------------------------------------------------------ deep */

static int heal_has_type(const ldns_rr_list *l, ldns_rr_type t)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t)
			return 1;
	return 0;
}

static void heal_drop_type(ldns_rr_list *l, ldns_rr_type t)
{
	size_t i, o = 0;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (ldns_rr_get_type(rr) == t) {
			ldns_rr_free(rr);
			continue;
		}
		ldns_rr_list_set_rr(l, rr, o++);
	}
	ldns_rr_list_set_rr_count(l, o);
}

/* A DNSSEC type is compared only when both sides have records of it: what
 * a signing server adds, or what a server drops from a presigned zone
 * (PowerDNS serves NSEC3 rows but no RRSIG/DNSKEY without PRESIGNED), is
 * not something applying the zone again would change. */
static void heal_dnssec_align(ldns_rr_list *want, ldns_rr_list *got)
{
	static const ldns_rr_type types[] = {
		LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NSEC, LDNS_RR_TYPE_NSEC3, LDNS_RR_TYPE_NSEC3PARAM,
		LDNS_RR_TYPE_DNSKEY, LDNS_RR_TYPE_CDS, LDNS_RR_TYPE_CDNSKEY, LDNS_RR_TYPE_ZONEMD,
	};
	size_t k;

	for (k = 0; k < sizeof types / sizeof types[0]; k++)
		if (heal_has_type(want, types[k]) != heal_has_type(got, types[k])) {
			heal_drop_type(want, types[k]);
			heal_drop_type(got, types[k]);
		}
}

/* Sort canonically and drop duplicates (an AXFR repeats the SOA at its end). */
static void heal_list_norm(ldns_rr_list *l)
{
	size_t i, o = 0, n = ldns_rr_list_rr_count(l);

	for (i = 0; i < n; i++)
		ldns_rr2canonical(ldns_rr_list_rr(l, i));
	if (n > 1)
		ldns_rr_list_sort(l);
	for (i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (o > 0 && ldns_rr_compare(ldns_rr_list_rr(l, o - 1), rr) == 0) {
			ldns_rr_free(rr);
			continue;
		}
		ldns_rr_list_set_rr(l, rr, o++);
	}
	ldns_rr_list_set_rr_count(l, o);
}

static ldns_rr_list *heal_parse(const char *domain, const char *text, size_t len,
                                struct zd_err *err)
{
	ldns_zone *zone = NULL;
	ldns_rdf *origin = NULL;
	ldns_rr_list *out = NULL;
	char o[300];
	int line = 0;
	ldns_status s;
	FILE *fp;
	size_t i;

	snprintf(o, sizeof o, "%s.", domain);
	if ((origin = ldns_dname_new_frm_str(o)) == NULL) {
		zd_err_set(err, ZD_EINVAL, "bad domain name");
		return NULL;
	}
	if ((fp = fmemopen((void *)text, len, "r")) == NULL) {
		ldns_rdf_deep_free(origin);
		zd_err_sys(err, ZD_ENOMEM, "fmemopen");
		return NULL;
	}
	s = ldns_zone_new_frm_fp_l(&zone, fp, origin, 3600, LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	ldns_rdf_deep_free(origin);
	if (s != LDNS_STATUS_OK || ldns_zone_soa(zone) == NULL) {
		zd_err_set(err, ZD_EINVAL, "desired text line %d: %s", line,
		           s != LDNS_STATUS_OK ? ldns_get_errorstr_by_id(s) : "no SOA");
		if (zone != NULL)
			ldns_zone_deep_free(zone);
		return NULL;
	}
	out = ldns_rr_list_new();
	if (out != NULL) {
		ldns_rr_list_push_rr(out, ldns_rr_clone(ldns_zone_soa(zone)));
		for (i = 0; i < ldns_rr_list_rr_count(ldns_zone_rrs(zone)); i++)
			ldns_rr_list_push_rr(out, ldns_rr_clone(ldns_rr_list_rr(ldns_zone_rrs(zone), i)));
	}
	ldns_zone_deep_free(zone);
	if (out == NULL)
		zd_err_set(err, ZD_ENOMEM, "out of memory");
	return out;
}

static ldns_resolver *heal_resolver(const char *host, int port, int64_t timeout_ms,
                                    struct zd_err *err)
{
	ldns_resolver *res = ldns_resolver_new();
	ldns_rdf *ns;
	struct timeval tv;

	if (res == NULL) {
		zd_err_set(err, ZD_ENOMEM, "out of memory");
		return NULL;
	}
	ns = ldns_rdf_new_frm_str(strchr(host, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, host);
	if (ns == NULL) {
		ldns_resolver_deep_free(res);
		zd_err_set(err, ZD_EINVAL, "verify address %s is not an IP address", host);
		return NULL;
	}
	ldns_resolver_push_nameserver(res, ns);
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(res, (uint16_t)port);
	ldns_resolver_set_recursive(res, false);
	ldns_resolver_set_retry(res, 2);
	ldns_resolver_set_fallback(res, true);
	ldns_resolver_set_edns_udp_size(res, 1232);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_sec = 5;
	ldns_resolver_set_timeout(res, tv);
	return res;
}

/* AXFR; NULL when the server will not transfer (refused, cut short). */
static ldns_rr_list *heal_axfr(ldns_resolver *res, ldns_rdf *apex)
{
	ldns_rr_list *l = ldns_rr_list_new();
	ldns_rr *rr;
	size_t soas = 0;

	if (l == NULL)
		return NULL;
	if (ldns_axfr_start(res, apex, LDNS_RR_CLASS_IN) != LDNS_STATUS_OK)
		goto fail;
	while ((rr = ldns_axfr_next(res)) != NULL) {
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			soas++;
		ldns_rr_list_push_rr(l, rr);
	}
	if (!ldns_axfr_complete(res) || soas < 2) {
		ldns_axfr_abort(res);
		goto fail;
	}
	return l;
fail:
	ldns_rr_list_deep_free(l);
	return NULL;
}

/* One query per desired RRset: the matching records of answer, authority
 * (delegations) and additional (glue) sections. */
static ldns_rr_list *heal_queries(ldns_resolver *res, const ldns_rr_list *want, struct zd_err *err)
{
	ldns_rr_list *got = ldns_rr_list_new();
	size_t i, n = ldns_rr_list_rr_count(want);

	if (got == NULL) {
		zd_err_set(err, ZD_ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		ldns_rr *w = ldns_rr_list_rr(want, i);
		ldns_pkt *p = NULL;
		ldns_rr_list *secs[3];
		size_t s, k;

		/* the list is sorted: one question per owner+type */
		if (i > 0 && ldns_rr_get_type(ldns_rr_list_rr(want, i - 1)) == ldns_rr_get_type(w) &&
		    ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(want, i - 1)), ldns_rr_owner(w)) == 0)
			continue;
		if (ldns_resolver_send(&p, res, ldns_rr_owner(w), ldns_rr_get_type(w), LDNS_RR_CLASS_IN,
		                       0) != LDNS_STATUS_OK || p == NULL) {
			ldns_rr_list_deep_free(got);
			zd_err_set(err, ZD_EDNS, "no answer to a query");
			return NULL;
		}
		secs[0] = ldns_pkt_answer(p);
		secs[1] = ldns_pkt_authority(p);
		secs[2] = ldns_pkt_additional(p);
		for (s = 0; s < 3; s++)
			for (k = 0; secs[s] != NULL && k < ldns_rr_list_rr_count(secs[s]); k++) {
				ldns_rr *rr = ldns_rr_list_rr(secs[s], k);

				if (ldns_rr_get_type(rr) == ldns_rr_get_type(w) &&
				    ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(w)) == 0)
					ldns_rr_list_push_rr(got, ldns_rr_clone(rr));
			}
		ldns_pkt_free(p);
	}
	return got;
}

static void heal_rr_text(const ldns_rr *rr, char sign, char *out, size_t outsz)
{
	char *s = ldns_rr2str(rr);
	size_t i, o = 0;

	if (outsz < 2)
		return;
	out[o++] = sign;
	for (i = 0; s != NULL && s[i] != '\0' && o + 1 < outsz; i++) {
		char c = s[i];

		if (c == '\n')
			break;
		out[o++] = c == '\t' ? ' ' : c;
	}
	out[o] = '\0';
	free(s);
}

/* Both lists normalised: report "-RR" desired but absent, "+RR" present but
 * not desired. Returns the number of differences. */
static int heal_diff(const ldns_rr_list *want, const ldns_rr_list *got,
                     const struct heal_mismatch *tmpl, heal_report_fn fn, void *arg)
{
	size_t i = 0, j = 0, nw = ldns_rr_list_rr_count(want), ng = ldns_rr_list_rr_count(got);
	char rec[1024];
	int diffs = 0;

	while (i < nw || j < ng) {
		int c;
		struct heal_mismatch m = *tmpl;

		if (i >= nw)
			c = 1;
		else if (j >= ng)
			c = -1;
		else
			c = ldns_rr_compare(ldns_rr_list_rr(want, i), ldns_rr_list_rr(got, j));
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (c < 0)
			heal_rr_text(ldns_rr_list_rr(want, i++), '-', rec, sizeof rec);
		else
			heal_rr_text(ldns_rr_list_rr(got, j++), '+', rec, sizeof rec);
		m.record = rec;
		diffs++;
		if (fn != NULL)
			fn(&m, arg);
	}
	return diffs;
}

int heal_deep_zone(const char *host, int port, const char *domain, const char *text,
                   size_t len, int64_t timeout_ms, const struct heal_mismatch *tmpl,
                   heal_report_fn fn, void *arg, struct zd_err *err)
{
	ldns_rr_list *want = NULL, *got = NULL;
	ldns_resolver *res = NULL;
	ldns_rdf *apex = NULL;
	char name[300];
	int diffs = 0;

	if ((want = heal_parse(domain, text, len, err)) == NULL)
		return err != NULL && err->code ? err->code : ZD_EINVAL;
	heal_list_norm(want);
	if ((res = heal_resolver(host, port, timeout_ms, err)) == NULL) {
		diffs = err != NULL && err->code ? err->code : ZD_EINVAL;
		goto out;
	}
	snprintf(name, sizeof name, "%s.", domain);
	apex = ldns_dname_new_frm_str(name);
	if (apex == NULL) {
		diffs = zd_err_set(err, ZD_EINVAL, "bad domain name");
		goto out;
	}
	got = heal_axfr(res, apex);
	if (got == NULL) {
		/* the transfer state of a failed AXFR must not leak into the queries */
		ldns_resolver_deep_free(res);
		if ((res = heal_resolver(host, port, timeout_ms, err)) == NULL) {
			diffs = err != NULL && err->code ? err->code : ZD_EINVAL;
			goto out;
		}
		got = heal_queries(res, want, err);
		if (got == NULL) {
			diffs = err != NULL && err->code ? err->code : ZD_EDNS;
			goto out;
		}
	}
	heal_dnssec_align(want, got);
	heal_list_norm(got);
	diffs = heal_diff(want, got, tmpl, fn, arg);
out:
	ldns_rdf_deep_free(apex);
	if (res != NULL)
		ldns_resolver_deep_free(res);
	ldns_rr_list_deep_free(want);
	ldns_rr_list_deep_free(got);
	return diffs;
}
