/* refresh.h -- secondary zones: SOA poll of the masters, AXFR on change, into the spool */
#ifndef ZONEDROP_REFRESH_H
#define ZONEDROP_REFRESH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"

struct refresh_opts {
	int64_t deadline_ms;     /* the run stops starting work after this (default 50 s) */
	int force;               /* every zone is due now (not those waiting for the drain) */
	const char *only;        /* NULL, or the one domain to look at */
};

struct refresh_stats {
	size_t zones;            /* listed in zones_file */
	size_t due;              /* due this run */
	size_t checked;          /* SOA answered by the master */
	size_t unchanged;        /* serial as held: marked fresh */
	size_t changed;          /* newer serial (or never transferred): AXFR tried */
	size_t transferred;      /* AXFR valid and spooled */
	size_t failed;           /* zones failing after this run's attempt */
	size_t expired;          /* expired zones (reported; withdrawn when configured) */
	size_t withdrawn;        /* delete items spooled for expired zones this run */
	size_t backoff;          /* due, but their master is backed off */
	size_t not_done;         /* due, left for the next run (deadline) */
	size_t pending;          /* waiting for the drain */
	size_t drain_rejected;   /* transferred versions the drain put in bad/ */
	size_t masters;          /* distinct masters */
	size_t masters_down;     /* masters that answered nothing this run */
	size_t soa_queries;      /* datagrams sent */
	double seconds;
};

/* One run (DESIGN.md: zonedrop-refresh): read the zones_file, settle
 * transfers the drain has taken (or put in bad/), query every due zone's
 * master for its SOA serial (many in flight), AXFR the changed ones,
 * validate and spool them (Source: refresh), record the state. Returns 0
 * when every due zone was handled, 1 when some zone failed or expired
 * (named on stderr), ZD_EBUSY when another refresh runs, ZD_ECONFIG for a
 * configuration problem, other <0 when it could not run. */
int refresh_run(const struct config *cfg, const struct refresh_opts *opts,
                struct refresh_stats *stats, struct zd_err *err);

/* ---- the pieces, for tests ---- */

/* Seconds from a SOA timer, clamped by refresh_min/refresh_max (ms). */
int64_t refresh_clamp(uint32_t secs, int64_t min_ms, int64_t max_ms);
/* When a zone is due again after a good check: now + clamp(refresh). */
int64_t refresh_next_ok(int64_t now, uint32_t refresh, int64_t min_ms, int64_t max_ms);
/* After a failure (failures counts this one, >= 1): with a SOA held,
 * now + clamp(retry); for a zone never transferred, refresh_min doubled per
 * failure up to min(refresh_max, 1 h). */
int64_t refresh_next_fail(int64_t now, int have_soa, uint32_t retry, int failures, int64_t min_ms,
                          int64_t max_ms);
/* A master that did not answer in `failures` consecutive runs (>= 1) is
 * asked again after refresh_min doubled per run, at most min(refresh_max, 1 h). */
int64_t refresh_master_backoff(int64_t now, int failures, int64_t min_ms, int64_t max_ms);
/* 1 when the master's serial calls for a transfer (RFC 1982 newer, or
 * nothing held yet). */
int refresh_serial_wanted(int have_serial, uint32_t held, uint32_t master);

/* The SOA sweep: many queries in flight over one UDP socket per address
 * family, at most `concurrency` in all and `per_master` per master
 * (secondary.per_master, default REFRESH_MASTER_INFLIGHT); a query
 * unanswered after `timeout_ms` (secondary.query_timeout, default
 * REFRESH_SOA_TIMEOUT_MS; <1 takes the default) is sent again,
 * REFRESH_SOA_TRIES times in all; a master that answered nothing while
 * REFRESH_MASTER_DOWN_AFTER of its zones ran out of tries is down, and its
 * other zones are not asked (state REFRESH_Q_DOWN). */
#define REFRESH_MASTER_INFLIGHT 16
#define REFRESH_SOA_TIMEOUT_MS 1500
#define REFRESH_SOA_TRIES 3
#define REFRESH_MASTER_DOWN_AFTER 3

enum refresh_q_state {
	REFRESH_Q_PENDING = 0,   /* not asked or not answered before the deadline */
	REFRESH_Q_SERIAL,        /* authoritative SOA: serial */
	REFRESH_Q_ERROR,         /* an answer without the zone's SOA (rcode) */
	REFRESH_Q_TIMEOUT,       /* no answer after every try */
	REFRESH_Q_DOWN,          /* not asked: its master is down */
};

struct refresh_master {
	struct sockaddr_storage ss;
	socklen_t sslen;
	char name[80];           /* "host:port" */
	/* sweep bookkeeping */
	int64_t qhead, qtail;    /* queued zones (indexes into the query array), -1 none */
	int inflight;
	int answered;            /* some answer came back this run */
	int timeouts;            /* zones that ran out of tries */
	int down;
	int in_ready;
};

struct refresh_query {
	const char *domain;      /* no trailing dot */
	size_t master;           /* index into the master array */
	/* results */
	enum refresh_q_state state;
	uint32_t serial;
	int rcode;               /* of the last answer, -1 none */
	/* sweep bookkeeping */
	int64_t next;            /* queue link */
	int64_t prev_f, next_f;  /* in-flight list (send order) */
	int64_t sent_at;
	int id;                  /* in flight: the query ID, -1 none */
	int tries;
};

/* Run the sweep until every query has a verdict or deadline (monotonic ms)
 * passes. *sent counts datagrams. 0, or ZD_EIO/ZD_ENOMEM. */
int refresh_soa_sweep(struct refresh_master *m, size_t nm, struct refresh_query *q, size_t nq,
                      int concurrency, int per_master, int64_t timeout_ms, int64_t deadline,
                      size_t *sent, struct zd_err *err);

/* AXFR of domain from a master (TCP, ldns), TSIG-signed when key_name is
 * set, validated (complete, SOA first and last with one serial, every
 * owner in the zone, class IN, then zone_check()) and rendered as zone text
 * by ldns. *text is malloc'd (caller frees). *serial, *refresh, *retry,
 * *expire from its SOA. ZD_EDNS (transfer failed, refused, TSIG), ZD_EINVAL
 * (the data is not a valid zone), ZD_ETIMEDOUT; err->msg says why. */
struct refresh_tsig {
	const char *name;
	const char *algorithm;   /* hmac-sha256 ... */
	const char *secret;      /* base64 */
};
int refresh_axfr(const struct sockaddr_storage *ss, socklen_t sslen, const char *domain,
                 const struct refresh_tsig *key, int64_t timeout_ms, size_t max_bytes, char **text,
                 size_t *len, uint32_t *serial, uint32_t *refresh, uint32_t *retry,
                 uint32_t *expire, struct zd_err *err);

#endif
