/* reconcile.h -- zonedrop-reconcile: orphans against DirectAdmin listings, healing of backends */
#ifndef ZONEDROP_RECONCILE_H
#define ZONEDROP_RECONCILE_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"
#include "zonedrop/heal.h"

struct reconcile_opts {
	int dry_run;                  /* -1: reconcile.dry_run of the config; 0/1 override */
	int orphans;                  /* 1: compare with the DirectAdmin listings */
	int heal;                     /* 1: check every backend, mark what to apply again */
	const char *only_server;      /* hostname or url of one reconcile.directadmin entry */
	int64_t request_timeout_ms;   /* per HTTP request (default 30 s) */
	int64_t deadline_ms;          /* whole run (default 10 min) */
	int64_t heal_timeout_ms;      /* DNS answers per backend (default 10 s) */
	int deep;                     /* healing compares records too (heal_opts.deep) */
};

struct reconcile_stats {
	size_t servers;               /* DirectAdmin servers asked */
	size_t servers_skipped;       /* listing unusable: nothing of theirs deleted */
	size_t servers_capped;        /* more orphans than max_deletes: none deleted */
	size_t held;                  /* zones owned by the servers asked */
	size_t listed;                /* domains in their listings */
	size_t orphans;               /* found */
	size_t deleted;               /* deletes spooled (Source: reconcile) */
	int heal_busy;                /* healing skipped: a drain holds the spool lock */
	struct heal_stats heal;
	double seconds;
};

/* What a run reports, one call per line of the report (the caller prints):
 * kind "orphan": server = its hostname, domain, what = "deleted" |
 * "dry-run" | "over-cap" | "changed" (owner or time moved meanwhile: kept);
 * kind "heal": m != NULL. */
struct reconcile_report {
	const char *kind;
	const char *server;
	const char *domain;
	const char *what;
	const struct heal_mismatch *m;
};
typedef void (*reconcile_report_fn)(const struct reconcile_report *r, void *arg);

/* One run: for each DirectAdmin server, orphans (zones it owns, held since
 * before its listing was fetched, absent from a complete listing) are
 * reported and, unless dry run or over max_deletes, spooled as deletes;
 * then, under the spool lock (the drain's: backend state is written), every
 * enabled backend is checked and its mismatches marked for the next drain.
 * Returns 0 all done (mismatches found and marked count as done); 1 a
 * listing was unusable, the cap hit, or a backend could not be checked; ZD_EBUSY the spool
 * lock is held (healing skipped, orphans done); other <0 could not run. */
int reconcile_run(const struct config *cfg, const struct reconcile_opts *o,
                  reconcile_report_fn fn, void *arg, struct reconcile_stats *rs,
                  struct zd_err *err);

/* The most deletes a server with held zones may get in one run. */
size_t reconcile_max_deletes(const struct config *cfg, size_t held);

#endif
