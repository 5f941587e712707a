/* zone.h -- zone text checked in-process with ldns (PROTOCOL.md section 4) */
#ifndef ZONEDROP_ZONE_H
#define ZONEDROP_ZONE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "zonedrop/err.h"

struct zone_info {
	uint32_t serial;         /* SOA serial */
	uint32_t refresh, retry, expire, minimum;
	size_t nrr;              /* records parsed */
};

/* Check zone text for domain (no trailing dot): bytes (no NUL or control
 * byte but TAB/CR/LF), exactly one SOA owned by the apex, every owner at or
 * below the apex (label-wise), class IN, no $INCLUDE/$GENERATE, $ORIGIN only
 * at or below the apex, every record parses, TTLs <= 2^31-1, no CNAME at the
 * apex or beside other data. On error err->msg is "line N: reason".
 * info may be NULL. */
int zone_check(const char *domain, const char *text, size_t len, struct zone_info *info,
               struct zd_err *err);
/* The same, reading from fp until EOF (text already LF-only). */
int zone_check_fp(const char *domain, FILE *fp, struct zone_info *info, struct zd_err *err);

/* RFC 1982: 1 when a is newer than b, -1 when older, 0 equal or undefined. */
int serial_cmp(uint32_t a, uint32_t b);

#endif
