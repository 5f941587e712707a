/* status.h -- the status document: `zonedrop status`, state_dir/status.json, /status, /metrics */
#ifndef ZONEDROP_STATUS_H
#define ZONEDROP_STATUS_H

#include <jansson.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"

struct store;

#define STATUS_FILE_NAME "status.json"   /* in state_dir, written by the drain */
#define STATUS_FAILED_MAX 100            /* failed zones listed per backend */

/* Sections of the document (status_build's flags), in this key order:
 *   STATUS_SPOOL     "spool": {new|cur|bad|tmp: {count, oldest_age} or null}
 *   STATUS_STATE     "state": bool, "last_drain": {end, seconds, zones, result},
 *                    "zones": {present, deleted}, "backends": [{name, type,
 *                    enabled, applied, pending, retry, failed, rejected,
 *                    next_retry, failures_total, failures: [{domain, state,
 *                    attempts, last_error, updated}]}] -- from the store;
 *                    st NULL (no state yet): state false, zero counts
 *                    "secondary": {zones, fresh, due, failing, expired, pending,
 *                    oldest, oldest_ok} when secondary.zones_file is set
 *   STATUS_COUNTERS  "counters": {name: value} from spool_dir/counters, or null
 * Every count is an SQL aggregate; the failures lists are capped at
 * STATUS_FAILED_MAX (failures_total has the full number). */
#define STATUS_SPOOL    0x1u
#define STATUS_STATE    0x2u
#define STATUS_COUNTERS 0x4u
#define STATUS_ALL      (STATUS_SPOOL | STATUS_STATE | STATUS_COUNTERS)

/* Build the document; *out is the caller's (json_decref). A section that
 * cannot be read is null (spool state, counters) or an error (the store). */
int status_build(const struct config *cfg, struct store *st, unsigned sections, json_t **out,
                 struct zd_err *err);

/* The drain, at the end of every run with the state open: spool + state
 * sections plus "published" (ISO time) into state_dir/status.json, written
 * atomically, mode 0640, for the CGI's /status and /metrics. */
int status_publish(const struct config *cfg, struct store *st, struct zd_err *err);

/* status_serve(): see cgi.h. */

#endif
