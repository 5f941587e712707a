/* store.h -- desired state and per-backend applied state in SQLite (state_dir/state.db) */
#ifndef ZONEDROP_STORE_H
#define ZONEDROP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/err.h"
#include "zonedrop/spool.h"

/*
 * Schema (see store.c for the SQL):
 *   zones(domain PK, present, serial, gen, hostname, username, source, item,
 *         received, changed, updated)
 *     One row per zone ever held. present=0 is a tombstone (deleted).
 *   zone_text(domain PK, text)
 *     The zone text, apart so that scans of zones never page through it.
 *     gen increases by one on every change of the desired state of that zone;
 *     a push whose text equals the stored text (and present=1) is no change.
 *   backend_zones(backend, domain, applied_gen, applied_serial, applied_present,
 *         status, attempts, next_retry, failed_gen, last_error, updated)
 *     What each backend has: applied_gen == zones.gen means in sync.
 *   meta(key PK, value)  -- last drain times and figures.
 * WAL mode; one writer (the drain, under the spool lock); readers open
 * their own connections (backend threads, the CLI).
 */

#define STORE_DB_NAME "state.db"
#define STORE_RDONLY 1

struct store;

struct store_zone {
	char domain[256];
	int present;
	uint32_t serial;
	int64_t gen;
	char hostname[256];
	char username[65];
	char source[16];
	char item[256];          /* spool item name that set this state */
	char received[40];
	char changed[40];
	int64_t updated;         /* unix seconds of the last change */
	char *text;              /* only when asked for; store_zone_clear() frees */
	size_t text_len;
};

/* backend_zones.status values */
#define BSTATE_OK       "ok"        /* applied_gen == gen, verified */
#define BSTATE_PENDING  "pending"   /* not yet tried at this gen */
#define BSTATE_RETRY    "retry"     /* failed; next_retry is when */
#define BSTATE_FAILED   "failed"    /* retries exhausted at failed_gen */
#define BSTATE_REJECTED "rejected"  /* the server's checker refused failed_gen */

struct store_bstate {
	char backend[64];
	char domain[256];
	int64_t applied_gen;     /* 0: never applied */
	uint32_t applied_serial;
	int applied_present;     /* 1: the backend has a valid file/config/rows for it */
	char status[16];
	int attempts;            /* failures at failed_gen */
	int64_t next_retry;      /* unix seconds; 0 none */
	int64_t failed_gen;
	char last_error[512];
	int64_t updated;
};

struct store_backend_counts {
	size_t applied;          /* in sync (present zones served, deleted zones gone) */
	size_t pending;          /* desired state not yet applied, no failure yet */
	size_t retry;            /* failed, a retry is scheduled */
	size_t failed;           /* retries exhausted */
	size_t rejected;         /* the server's checker refused the current version */
	int64_t next_retry;      /* earliest due retry, 0 none */
};

/* Open (and create/migrate unless STORE_RDONLY) state_dir/state.db. */
int store_open(const char *state_dir, int flags, struct store **out, struct zd_err *err);
void store_close(struct store *st);

int store_begin(struct store *st, struct zd_err *err);     /* BEGIN IMMEDIATE */
int store_commit(struct store *st, struct zd_err *err);
void store_rollback(struct store *st);

/* One zone; ZD_ENOENT when never held. with_text: also load the text. */
int store_zone_get(struct store *st, const char *domain, int with_text, struct store_zone *z,
                   struct zd_err *err);
/* Insert or replace the row of z->domain as given (the caller sets gen). */
int store_zone_put(struct store *st, const struct store_zone *z, struct zd_err *err);
void store_zone_clear(struct store_zone *z);

/* Every zone in domain order. owner: only that hostname (NULL = all).
 * with_deleted: tombstones too. fn returning non-zero stops the walk and
 * that value is returned. */
typedef int (*store_zone_fn)(const struct store_zone *z, void *arg);
int store_zone_each(struct store *st, const char *owner, int with_deleted, int with_text,
                    store_zone_fn fn, void *arg, struct zd_err *err);
int store_zone_count(struct store *st, size_t *present, size_t *deleted, struct zd_err *err);

/* Per-backend state; ZD_ENOENT when the backend never saw the zone. */
int store_bstate_get(struct store *st, const char *backend, const char *domain,
                     struct store_bstate *b, struct zd_err *err);
int store_bstate_put(struct store *st, const struct store_bstate *b, struct zd_err *err);
/* backend or domain may be NULL (= all). */
typedef int (*store_bstate_fn)(const struct store_bstate *b, void *arg);
int store_bstate_each(struct store *st, const char *backend, const char *domain,
                      store_bstate_fn fn, void *arg, struct zd_err *err);
/* Forget backends no longer configured? No: rows stay until the backend name is reused. */

/* The work of one backend: zones whose desired state differs from what the
 * backend has, that are not waiting for a retry (next_retry > now) and not
 * failed/rejected at their current gen. force: include failed/rejected and
 * not-yet-due retries too. Calls fn for each in domain order. */
/* z (with text) and b are borrowed for the call only; b is never NULL: a
 * backend that never saw the zone gets a zeroed state, status "pending". */
typedef int (*store_work_fn)(const struct store_zone *z, const struct store_bstate *b, void *arg);
int store_work_each(struct store *st, const char *backend, int64_t now, int force,
                    store_work_fn fn, void *arg, struct zd_err *err);
/* Domains the backend has a valid copy of (applied_present=1), domain order. */
int store_served_each(struct store *st, const char *backend, store_zone_fn fn, void *arg,
                      struct zd_err *err);

int store_backend_counts(struct store *st, const char *backend, int64_t now,
                         struct store_backend_counts *c, struct zd_err *err);
/* (added by the store engineer) The state of zone z on one backend, by the
 * same rules as store_work_each/store_backend_counts: BSTATE_OK when in sync,
 * else BSTATE_PENDING/RETRY/FAILED/REJECTED; NULL for a deleted zone the
 * backend never saw. b is NULL when the backend has no row. Static string. */
const char *store_zone_state(const struct store_zone *z, const struct store_bstate *b);
/* Make failed/retry/rejected zones due now (zonedrop retry): backend and
 * domain may be NULL (= all). *n = rows changed. */
int store_retry_now(struct store *st, const char *backend, const char *domain, size_t *n,
                    struct zd_err *err);

/* (status.c) The zones failed or rejected on backend at their current
 * version, the ones store_backend_counts() counts as failed/rejected, in
 * domain order, at most limit; b is borrowed for the call. */
int store_failed_each(struct store *st, const char *backend, size_t limit, store_bstate_fn fn,
                      void *arg, struct zd_err *err);

/* ---- healing (zonedrop-reconcile, zonedrop verify) ---- */
/* Every zone with this backend's state of it, in domain order, tombstones
 * included; b is NULL when the backend has no row. Borrowed for the call. */
typedef int (*store_sync_fn)(const struct store_zone *z, const struct store_bstate *b, void *arg);
int store_sync_each(struct store *st, const char *backend, store_sync_fn fn, void *arg,
                    struct zd_err *err);
/* What the server was found to lack (heal modes). */
enum store_heal {
	STORE_HEAL_ADD = 1,     /* not served at all: apply as a new zone (applied_present=0) */
	STORE_HEAL_RELOAD,      /* served, another serial or not loadable: apply again (applied_present=1) */
	STORE_HEAL_REMOVE,      /* a deleted zone still served: remove again (applied_present=1) */
};
/* Reset backend+domain so the next drain applies the desired state again:
 * status pending, no retry, no failure; applied_gen 0 for ADD/RELOAD.
 * why goes to last_error. ZD_ENOENT when the backend has no row. */
int store_bstate_heal(struct store *st, const char *backend, const char *domain,
                      enum store_heal mode, const char *why, struct zd_err *err);

int store_meta_get(struct store *st, const char *key, char *val, size_t valsz, struct zd_err *err);
int store_meta_set(struct store *st, const char *key, const char *val, struct zd_err *err);

/* (added for secondary.c) The SQLite handle, for modules that keep their own
 * tables in state.db (created IF NOT EXISTS by them). Borrowed. */
struct sqlite3 *store_sqlite(struct store *st);

#endif
