/* peer_export.h -- what peers may read of us: state_dir/export.db and /internal/zones
 *
 * The CGI never opens state.db (DESIGN.md "How the CGI reads state"). The
 * drain keeps state_dir/export.db, a SQLite database in rollback-journal
 * mode, mode 0640 (group-readable by the CGI's group), holding per zone:
 * domain, present, serial, changed, updated, hostname, username, sha256 and
 * the text. The CGI opens it read-only and streams rows (PROTOCOL.md 8).
 *
 * Which zones changed is recorded inside state.db itself: triggers on the
 * zones table append the domain to export_log in the same transaction as
 * the change, so a crash between the state commit and the export loses
 * nothing. peer_export_update() applies the log to export.db (one
 * transaction), then trims the log. export.db's meta holds the last log id
 * applied and a token naming the state.db it was built from; state.db's
 * meta holds the same (export_log_id, export_state_id). When they disagree
 * (export.db missing, restored from an older copy, from another state.db),
 * export.db is rebuilt in full beside the old one and renamed over it.
 */
#ifndef ZONEDROP_PEER_EXPORT_H
#define ZONEDROP_PEER_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"

#define PEER_EXPORT_DB "export.db"
#define PEER_SHA256_HEX 65          /* 64 hex digits + NUL */
#define PEER_BATCH_MAX 100          /* names in one ?domains=a,b,... request */

struct peer_export_stats {
	int rebuilt;            /* 1: export.db was written in full */
	size_t zones;           /* rows written (or removed) */
	size_t purged;          /* tombstones older than peers.tombstone_days dropped */
	double seconds;
};

/* Bring state_dir/export.db up to date with state_dir/state.db. Called by
 * the drain after its ingest commit, under the spool lock (one writer).
 * With no peers.users configured it removes the export (and the change log
 * in state.db) instead, so nothing grows unread. ZD_EBUSY when a reader
 * held export.db too long (the next drain catches up: the log stays). */
int peer_export_update(const struct config *cfg, struct peer_export_stats *st, struct zd_err *err);

/* Hex SHA-256 of len bytes into out (PEER_SHA256_HEX bytes). */
void peer_sha256_hex(const void *data, size_t len, char out[PEER_SHA256_HEX]);

/* Base64 (RFC 4648, padded) of len bytes: malloc'd, NUL-terminated; the
 * caller frees. NULL when out of memory. For zone texts that are not
 * UTF-8 (JSON strings must be): sent as "zone_base64". */
char *peer_b64_encode(const void *data, size_t len);

#endif
