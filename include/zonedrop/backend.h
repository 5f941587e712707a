/* backend.h -- bringing one nameserver (or database) to the desired state */
#ifndef ZONEDROP_BACKEND_H
#define ZONEDROP_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"

enum backend_result {
	BZ_UNSET = 0,
	BZ_OK,          /* applied and verified */
	BZ_REJECTED,    /* the server's checker refused this version: no retry until it changes */
	BZ_FAILED,      /* apply or verification failed: retry on the schedule */
};

/* One zone of a batch. The drain fills the inputs; the backend fills result/error. */
struct backend_zone {
	char *domain;
	int present;            /* 1: serve text; 0: stop serving */
	int was_present;        /* the backend had a valid copy before (bstate.applied_present) */
	uint32_t serial;
	int64_t gen;
	char *text;             /* present only: zone text, LF line ends */
	size_t text_len;
	/* results */
	enum backend_result result;
	int now_present;        /* after the batch: does the backend hold a valid copy? */
	char error[512];        /* one line, already safe to log */
};

struct backend_batch {
	const struct config *cfg;
	const struct config_backend *be;
	struct backend_zone *zones;   /* sorted by domain */
	size_t n;
	/* Domains the backend holds a valid copy of before this batch and that
	 * are not in zones[] (sorted): they stay in the generated config. */
	char **keep;
	size_t nkeep;
	int64_t verify_timeout_ms;
	/* filled by backend_apply */
	double seconds;
	char mechanism[64];           /* e.g. "reconfig+reload", for the summary line */
	/* (added by the drain) Optional, may be NULL: a backend done with
	 * zones[i].text (written to its file) may call text_done(batch, i), and
	 * the drain gives the memory behind it back (a big batch's texts are
	 * mapped from a file, not held on the heap). The text stays readable.
	 * zones[].text may point into read-only memory: never write through it. */
	void (*text_done)(struct backend_batch *batch, size_t i);
	void *text_arg;
};

/* Apply a batch: write zone files/rows, regenerate config, reload, verify.
 * Sets every zones[i].result. Returns 0, or an error when the backend as a
 * whole could not be reached (then every zone not already rejected is
 * BZ_FAILED with that message). Runs in its own thread: must not touch the
 * store; may log. */
int backend_apply(struct backend_batch *batch, struct zd_err *err);

/* For the apply functions: every zone's result unset, error empty,
 * now_present as before the batch. */
void backend_batch_reset(struct backend_batch *batch);
/* Every zone of the batch failed with the same one-line reason (escaped),
 * now_present as before the batch. */
void backend_batch_fail(struct backend_batch *batch, const char *why);

/* Write z's text to the temp file tmp for a zone file: a leftover of a killed
 * drain is removed first, the file is created O_EXCL|O_NOFOLLOW with mode,
 * a missing final newline is added, fsync'd when sync_each (else the caller
 * syncs the filesystem once). On failure tmp is removed. The caller renames. */
int backend_zone_file_write(const char *tmp, const struct backend_zone *z, mode_t mode,
                            int sync_each, struct zd_err *err);

/* Put a written temp file in place: when keep_prev, the file at path is
 * first hard-linked to prev (the version to put back if the server refuses
 * the new one; *has_prev = 1 then, a failed link is only logged), then tmp
 * is renamed onto path. When the rename fails, prev is removed again. */
int backend_zone_file_install(const char *be_name, const char *domain, const char *tmp,
                              const char *path, const char *prev, int keep_prev, int *has_prev,
                              struct zd_err *err);

/* Per type. */
int backend_nsd_apply(struct backend_batch *batch, struct zd_err *err);
int backend_bind_apply(struct backend_batch *batch, struct zd_err *err);
int backend_knot_apply(struct backend_batch *batch, struct zd_err *err);
/* MySQL/MariaDB rows (src/backend_mysql.c): PowerDNS gmysql schema, CoreDNS
 * coredns_mysql_extend schema (PROTOCOL.md section 9). */
int backend_powerdns_mysql_apply(struct backend_batch *batch, struct zd_err *err);
int backend_coredns_mysql_apply(struct backend_batch *batch, struct zd_err *err);
/* zonedrop db-init: create the backend's tables when absent. */
int backend_mysql_db_init(const struct config_backend *be, struct zd_err *err);
/* Connect and see the tables (check-config). */
int backend_mysql_probe(const struct config_backend *be, struct zd_err *err);

/* (added for healing) Read back what a MySQL backend holds for each q[i]
 * (zonedrop verify, zonedrop-reconcile): zone_row (the zones/domains table
 * names it), has_soa + got_serial (its SOA row), nrows (rows the server
 * would answer: PowerDNS disabled=0 with a type, CoreDNS online!=0) and,
 * when want_rows, those rows as RRs in presentation form ("owner ttl IN
 * type rdata", owner absolute; PowerDNS names without the final dot: parse
 * with origin "."), owned by q[i] until backend_rows_check_clear(). One
 * connection, one consistent snapshot, a few grouped SELECTs per 500 zones.
 * Returns 0, or an error (nothing allocated) when the database cannot be
 * read. */
struct backend_rows_check {
	const char *domain;
	int want_rows;
	/* results */
	int zone_row;
	int has_soa;
	uint32_t got_serial;
	size_t nrows;
	char **rrs;
	size_t nrrs;
};
int backend_mysql_check(const struct config_backend *be, struct backend_rows_check *q, size_t n,
                        struct zd_err *err);
void backend_rows_check_clear(struct backend_rows_check *q);

/* Check that a backend's configuration is usable (dirs exist, control runs):
 * used by check-config. */
int backend_probe(const struct config_backend *be, struct zd_err *err);

#endif
