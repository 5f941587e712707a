/* peer.h -- peer sync: the pull rule, the peer answers' parsers, zonedrop-peersync's run
 * (PROTOCOL.md section 8) */
#ifndef ZONEDROP_PEER_H
#define ZONEDROP_PEER_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"
#include "zonedrop/peer_export.h"

#define PEER_FUTURE_MAX_S 300          /* a `changed` further ahead of our clock is suspect */
#define PEER_LINE_MAX 4096             /* one list line (a list entry is ~250 bytes) */

/* One list entry, or one ?domain= answer's metadata. */
struct peer_entry {
	char domain[256];
	int present;                 /* 0: tombstone */
	uint32_t serial;
	char changed[40];            /* as received (validated) */
	int64_t changed_us;          /* microseconds since the epoch */
	char hostname[256];          /* present zones only ("" otherwise) */
	char username[65];
	char sha256[PEER_SHA256_HEX];
};

/* What this instance holds of a zone (held = 0: never heard of it). */
struct peer_local {
	int held;
	int present;
	uint32_t serial;
	int64_t changed_us;          /* 0 when unknown */
	char sha256[PEER_SHA256_HEX];   /* "" when unknown */
};

enum peer_verdict {
	PEER_KEEP = 0,       /* ours is as new or newer: nothing to do */
	PEER_PULL,           /* the remote zone wins: fetch and spool it */
	PEER_DELETE,         /* the remote tombstone wins: spool a delete */
	PEER_SUSPECT,        /* would win, but its `changed` is > 300 s ahead of our clock */
	PEER_UNDEFINED,      /* serials 2^31 apart: RFC 1982 does not order them */
	PEER_CONFLICT,       /* same serial, same time, other content: kept ours */
};

const char *peer_verdict_name(enum peer_verdict v);

/* The pull rule (PROTOCOL.md 8): the remote version wins when its serial
 * is newer (RFC 1982); on equal serials the later `changed` wins; a
 * tombstone beats a present zone with the same or an older serial, a
 * present zone with a newer serial beats a tombstone; a remote tombstone
 * for a zone we do not hold (or hold deleted) is nothing to do. A version
 * that would win but whose `changed` lies more than PEER_FUTURE_MAX_S
 * ahead of now_us is never trusted: PEER_SUSPECT. */
enum peer_verdict peer_decide(const struct peer_local *l, const struct peer_entry *r,
                              int64_t now_us);

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" -> microseconds. 0 or ZD_EINVAL. */
int peer_time_parse(const char *s, int64_t *us);

/* One line of /internal/zones (without its "\n"). Fills e for an entry
 * (*trailer = 0) or *count for the trailer {"end":true,"count":N}
 * (*trailer = 1). Every field is checked: domain (domain_check), state,
 * serial (0..2^32-1), changed (peer_time_parse), and for present zones
 * hostname/username (the spool's grammar) and sha256 (64 hex digits).
 * ZD_EINVAL with the reason in err otherwise. */
int peer_list_line(const char *line, size_t len, struct peer_entry *e, int *trailer,
                   uint64_t *count, struct zd_err *err);

/* A ?domain= answer for domain (NULL: any domain): metadata into e and, for a present zone,
 * the text (from "zone" or "zone_base64") into a malloc'd NUL-terminated
 * *text (caller frees) whose SHA-256 must equal e->sha256. *text is NULL
 * for a tombstone. ZD_EINVAL with the reason otherwise. */
int peer_zone_parse(const char *buf, size_t len, const char *domain, struct peer_entry *e,
                    char **text, size_t *text_len, struct zd_err *err);

struct peer_sync_opts {
	int64_t deadline_ms;         /* whole run; default 600 s */
	int parallel;                /* ?domains= requests in flight per peer; default 4 */
	int dry_run;                 /* decide and report, spool nothing */
};

struct peer_sync_stats {
	size_t peers_ok, peers_failed;
	size_t listed;               /* entries read from complete lists */
	size_t pulled;               /* zones spooled (rawsave) */
	size_t deleted;              /* tombstones spooled (delete) */
	size_t suspect;              /* skipped: future `changed` */
	size_t undefined;            /* skipped: serials RFC 1982 cannot order */
	size_t conflicts;            /* same serial and time, other content */
	size_t failed;               /* fetches or zones that failed (bad text, hash, ...) */
	double seconds;
};

/* One zonedrop-peersync run: every peers.remotes entry is asked for its
 * list (libcurl, its own credentials only, no redirects, size and time
 * limits); the best version of each zone across complete lists is decided
 * against state.db (read-only) and spooled with Source: peer. Returns 0
 * when every peer answered and every chosen zone was spooled, 1 when some
 * peer or zone failed (logged), <0 when the run could not start. */
int peer_sync_run(const struct config *cfg, const struct peer_sync_opts *o,
                  struct peer_sync_stats *st, struct zd_err *err);

#endif
