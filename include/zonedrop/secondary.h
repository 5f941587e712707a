/* secondary.h -- the secondary zone list (zones_file) and its refresh state in state.db */
#ifndef ZONEDROP_SECONDARY_H
#define ZONEDROP_SECONDARY_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/err.h"
#include "zonedrop/store.h"

#define SECONDARY_KEY_MAX 254
#define SECONDARY_HOST_MAX 64      /* a numeric IPv4/IPv6 address */
#define SECONDARY_MASTER_MAX 80    /* "host:port" or "[v6]:port" */
#define SECONDARY_LINE_MAX 1024

/* One line of the zones_file: "domain master[:port] [tsig-key-name]". */
struct secondary_entry {
	char domain[256];            /* no trailing dot, lower case (domain_check) */
	char host[SECONDARY_HOST_MAX];   /* numeric address, no brackets */
	int port;                    /* default 53 */
	char key[SECONDARY_KEY_MAX]; /* "" when none */
	int line;                    /* 1-based line in the file */
};

struct secondary_list {
	struct secondary_entry *e;   /* owned: secondary_list_free() */
	size_t n;
	size_t errors;               /* lines refused (reported through the callback) */
};

/* Parse a zones_file held in buf (len bytes, need not be NUL-terminated).
 * Blank lines and "#" comments (whole line or after the fields) are
 * skipped. A line that does not parse, or names a domain already listed,
 * is reported through fn("line N: why", arg) (fn may be NULL), counted in
 * list->errors and skipped. Returns 0, or ZD_ENOMEM. */
int secondary_parse(const char *buf, size_t len, struct secondary_list *list,
                    void (*fn)(const char *msg, void *arg), void *arg);
/* The same, streamed: each(e, arg) for every good line, in file order, no
 * list kept (for 100,000s of lines). each returns 0 (taken), a line number
 * N > 0 (refused: the domain is already listed on line N; reported like a
 * bad line and counted) or < 0 (stop: returned). Bad lines go to
 * fn(msg, arg) and are counted in *errors. Returns 0 or each's error. */
int secondary_parse_each(const char *buf, size_t len,
                         int (*each)(const struct secondary_entry *e, void *arg),
                         void (*fn)(const char *msg, void *arg), void *arg, size_t *errors);
/* The same from a file; ZD_ENOENT when it does not exist (an empty list). */
int secondary_load(const char *path, struct secondary_list *list,
                   void (*fn)(const char *msg, void *arg), void *arg, struct zd_err *err);
void secondary_list_free(struct secondary_list *list);
/* Parse one "master[:port]" (IPv4, IPv6, "[IPv6]:port"); 0 or ZD_EINVAL. */
int secondary_master_parse(const char *s, char *host, size_t hostsz, int *port);
/* "host:port" ("[v6]:port" for IPv6) into out: the per-master key. */
void secondary_master_format(char *out, size_t outsz, const char *host, int port);

/* Edit the zones_file crash-safely (temp + rename), keeping every other
 * line and comment as is. add: ZD_EEXIST when domain is listed (with
 * another master or key: replace=1 replaces the line). del: ZD_ENOENT when
 * not listed. The file is created (0644) by add when missing. */
int secondary_file_add(const char *path, const struct secondary_entry *e, int replace,
                       struct zd_err *err);
int secondary_file_del(const char *path, const char *domain, struct zd_err *err);

/* ---- refresh state (tables secondary_zones, secondary_masters) ---- */

/* The per-zone state. serial is meaningful when have_serial. Times are unix seconds. */
struct secondary_state {
	char domain[256];
	char master[SECONDARY_MASTER_MAX];
	char key[SECONDARY_KEY_MAX];
	int have_serial;             /* a transfer was accepted */
	uint32_t serial;             /* the serial held (transferred) */
	uint32_t refresh, retry, expire;   /* from the SOA held */
	int64_t last_check;          /* last SOA query or transfer attempt */
	int64_t last_ok;             /* last time the master confirmed the serial (expire runs from here) */
	int64_t next_due;            /* 0: at once */
	int failures;                /* consecutive failed attempts */
	int64_t expire_at;           /* 0: not known yet */
	int withdrawn;               /* expired and deleted through the spool */
	char pending_item[256];      /* spool item waiting for the drain, "" none */
	uint32_t pending_serial;
	uint32_t pending_refresh, pending_retry, pending_expire;
	int64_t transfers;           /* AXFRs done for this zone */
	char last_error[256];
};

struct secondary_master_state {
	char master[SECONDARY_MASTER_MAX];
	int failures;                /* consecutive runs in which it did not answer */
	int64_t backoff_until;       /* 0: none */
	char last_error[256];
};

struct secondary_counts {
	size_t total;
	size_t fresh;                /* last check ok, not due */
	size_t due;                  /* due now (never transferred, or refresh time passed), not failing */
	size_t failing;              /* last attempt failed, not expired */
	size_t expired;              /* expire time passed since the master last confirmed */
	size_t pending;              /* transferred, waiting for the drain */
	int64_t oldest_ok;           /* the least recent last_ok among zones held (0 none) */
	char oldest_domain[256];
};

/* The zone's state word: "fresh", "due", "failing", "expired", "pending", "new". Static. */
const char *secondary_state_name(const struct secondary_state *s, int64_t now);

/* Create the tables when missing (in the store's database). */
int secondary_db_init(struct store *st, struct zd_err *err);
/* Finalize the statements cached for st; call before store_close(st). */
void secondary_release(struct store *st);
/* Every zone state, domain order; fn returning non-zero stops the walk. */
int secondary_state_each(struct store *st, int (*fn)(const struct secondary_state *s, void *arg),
                         void *arg, struct zd_err *err);
int secondary_state_get(struct store *st, const char *domain, struct secondary_state *s,
                        struct zd_err *err);
int secondary_state_put(struct store *st, const struct secondary_state *s, struct zd_err *err);
int secondary_state_del(struct store *st, const char *domain, struct zd_err *err);
int secondary_master_each(struct store *st,
                          int (*fn)(const struct secondary_master_state *m, void *arg), void *arg,
                          struct zd_err *err);
int secondary_master_put(struct store *st, const struct secondary_master_state *m,
                         struct zd_err *err);
/* Counters kept across runs (soa_queries, axfr_ok, axfr_failed, ...). */
int secondary_counter_add(struct store *st, const char *name, int64_t n, struct zd_err *err);
int secondary_counter_get(struct store *st, const char *name, int64_t *n, struct zd_err *err);
/* The refresher's updates of one zone's row (other columns kept):
 * ok: the master confirmed the serial held (failures reset, expire restarts);
 * fail: one more failure, why as last_error;
 * transfer: a transferred version was spooled as item, waiting for the drain. */
int secondary_mark_ok(struct store *st, const char *domain, int64_t now, int64_t next_due,
                      int64_t expire_at, struct zd_err *err);
int secondary_mark_fail(struct store *st, const char *domain, int64_t now, int64_t next_due,
                        const char *why, struct zd_err *err);
int secondary_mark_transfer(struct store *st, const char *domain, int64_t now, int64_t next_due,
                            int64_t expire_at, uint32_t serial, uint32_t refresh, uint32_t retry,
                            uint32_t expire, const char *item, struct zd_err *err);
/* The counts for zonedrop status; all zero when the tables do not exist yet. */
int secondary_counts(struct store *st, int64_t now, struct secondary_counts *c, struct zd_err *err);

#endif
