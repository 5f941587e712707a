/* verify.h -- ask a nameserver which SOA serial it serves (ldns, UDP, many in flight) */
#ifndef ZONEDROP_VERIFY_H
#define ZONEDROP_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/err.h"

enum verify_state {
	VERIFY_PENDING = 0,
	VERIFY_SERVED,      /* authoritative SOA owned by the zone, with the serial */
	VERIFY_ABSENT,      /* no SOA owned by the zone in the answer (REFUSED, NXDOMAIN, parent's answer) */
	VERIFY_OTHER,       /* served, but another serial (got_serial) */
	VERIFY_NOANSWER,    /* no answer before the deadline */
};

struct verify_query {
	const char *domain;     /* no trailing dot */
	uint32_t serial;        /* expected, when want_present */
	int want_present;       /* 1: expect serial served; 0: expect absent */
	/* results */
	enum verify_state state;
	uint32_t got_serial;
	int ok;                 /* 1 when the answer matched the expectation */
	int rcode;              /* (added) rcode of the last answer, -1 none; SERVFAIL is
	                         * "absent" for state but never ok for want_present=0 */
};

/* Query host@port (IPv4 or IPv6 literal) for each zone's SOA, repeating for
 * those not yet matching every poll_ms (a reload returns before the zone is
 * loaded), until all match or timeout_ms passes. At most 256 queries in
 * flight; TCP fallback when truncated. Returns 0 when the server could be
 * asked at all (see q[i].ok), ZD_EDNS/ZD_EIO otherwise. */
int verify_soa(const char *host, int port, struct verify_query *q, size_t n,
               int64_t timeout_ms, int64_t poll_ms, struct zd_err *err);

/* (added for healing) The same without polling: each zone's first answer
 * is its verdict (state, got_serial, rcode, ok); lost queries are asked
 * again until timeout_ms. */
int verify_soa_first(const char *host, int port, struct verify_query *q, size_t n,
                     int64_t timeout_ms, struct zd_err *err);

/* One query, no polling: served serial of domain, ZD_ENOENT when not served. */
int verify_soa_once(const char *host, int port, const char *domain, uint32_t *serial,
                    int64_t timeout_ms, struct zd_err *err);

/* (added) "NOERROR", "SERVFAIL", "REFUSED", ... for an rcode; "no answer" for -1.
 * Static string. */
const char *verify_rcode_name(int rcode);

#endif
