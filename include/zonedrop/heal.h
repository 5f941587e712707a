/* heal.h -- what each backend really serves against what zonedrop believes it applied */
#ifndef ZONEDROP_HEAL_H
#define ZONEDROP_HEAL_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"
#include "zonedrop/store.h"

/* One difference. what: "missing" (a zone to serve is not served), "stale"
 * (served with another serial), "unwanted" (a deleted zone zonedrop once
 * wrote is still served), "differs" (--deep: the content differs; record is
 * "-RR" desired but not served or "+RR" served but not desired). */
struct heal_mismatch {
	const char *backend;
	const char *domain;
	const char *what;
	int has_want;
	uint32_t want_serial;
	int has_got;
	uint32_t got_serial;
	const char *record;      /* "differs" only, else NULL */
};
typedef void (*heal_report_fn)(const struct heal_mismatch *m, void *arg);

struct heal_opts {
	const char *only_backend;     /* NULL: every enabled backend */
	char *const *domains;         /* only these (NULL/0: all) */
	size_t ndomains;
	int deep;                     /* compare the records too (AXFR, else per-RRset queries) */
	int mark;                     /* 1: store_bstate_heal() each mismatch (writable store) */
	int64_t timeout_ms;           /* per backend: DNS answers / database (default 10 s) */
};

struct heal_stats {
	size_t backends;              /* checked */
	size_t backends_skipped;      /* did not answer, could not be read */
	size_t zones;                 /* (zone, backend) pairs checked */
	size_t mismatches;            /* zones found missing/stale/unwanted/differing */
	size_t marked;                /* of them, marked for the next drain */
	size_t unanswered;            /* pairs that got no answer */
};

/* Only zones the store says are in sync on a backend are checked (pending,
 * failed, rejected zones are the drain's business already): present zones
 * must be served with their serial; deleted zones the backend once held must
 * not be served. DNS servers (nsd, bind, knot) by SOA query to the
 * backend's verify address, many in flight; MySQL backends by their rows.
 * fn (may be NULL) gets each mismatch. Returns 0 when everything matched,
 * 1 when something differed or a backend could not be checked, <0 on a
 * store error. */
int heal_run(const struct config *cfg, struct store *st, const struct heal_opts *o,
             heal_report_fn fn, void *arg, struct heal_stats *hs, struct zd_err *err);

/* --deep for one zone: compare text (the desired zone) with what host@port
 * serves (AXFR where allowed, else one query per desired RRset). fn gets one
 * "differs" mismatch per differing record (m->backend/domain/serials from
 * tmpl). Returns the number of differences, or <0 (err) when the server
 * could not be asked or the text not parsed. */
int heal_deep_zone(const char *host, int port, const char *domain, const char *text,
                   size_t len, int64_t timeout_ms, const struct heal_mismatch *tmpl,
                   heal_report_fn fn, void *arg, struct zd_err *err);

#endif
