/* drain.h -- spool -> desired state -> every backend */
#ifndef ZONEDROP_DRAIN_H
#define ZONEDROP_DRAIN_H

#include <stddef.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"

struct drain_opts {
	int force_retry;        /* apply failed/rejected/not-yet-due zones too */
	const char *only_backend;   /* NULL = all enabled */
};

struct drain_stats {
	size_t items;           /* spool items ingested */
	size_t bad;             /* items moved to bad/ */
	size_t changed;         /* zones whose desired state changed */
	size_t applied;         /* (zone, backend) pairs applied and verified */
	size_t failed;          /* (zone, backend) pairs failed or rejected */
	double seconds;
};

/* One drain run: lock the spool (ZD_EBUSY when held), recover cur/, ingest
 * new/ in arrival order, publish the exists index, apply to every enabled
 * backend in parallel, record results. Returns 0 when every zone was
 * applied and verified everywhere, ZD_EINVAL-free non-zero codes otherwise:
 *   ZD_EBUSY  lock held (exit 75)
 *   1         some zone rejected or some backend failed (exit 1)
 *   other <0  could not run (exit 2/75 by the caller) */
int drain_run(const struct config *cfg, const struct drain_opts *opts, struct drain_stats *st,
              struct zd_err *err);

#endif
