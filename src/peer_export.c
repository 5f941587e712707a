/* peer_export.c -- state_dir/export.db kept by the drain, served to peers as /internal/zones
 *
 * Writer side (drain, peer_export_update): see peer_export.h for the change
 * log and the lag check. Reader side (CGI, peer_export_serve): export.db is
 * opened read-only and rows are streamed to the client one line at a
 * time; nothing is built in memory beyond one row. Rollback-journal mode:
 * a reader needs no write access to anything (no -shm, no -wal).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <ldns/sha2.h>
#include <sqlite3.h>

#include "zonedrop/cgi.h"
#include "zonedrop/domain.h"
#include "zonedrop/http.h"
#include "zonedrop/log.h"
#include "zonedrop/peer_export.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"

#define PX_BUSY_MS 10000          /* the drain waits this long for a reading CGI */
#define PX_CGI_BUSY_MS 5000       /* the CGI waits this long for a writing drain */
#define PX_REBUILD_MIN 256         /* changes below this are always applied in place */
#define PX_META_LOG "export_log_id"
#define PX_META_TOKEN "export_state_id"

static const char px_schema[] =
	"PRAGMA journal_mode=DELETE;"
	"CREATE TABLE zones ("
	" domain   TEXT PRIMARY KEY NOT NULL,"
	" present  INTEGER NOT NULL,"
	" serial   INTEGER NOT NULL,"
	" changed  TEXT NOT NULL,"
	" updated  INTEGER NOT NULL,"
	" hostname TEXT NOT NULL,"
	" username TEXT NOT NULL,"
	" sha256   TEXT NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX zones_tomb ON zones(present, updated);"
	/* texts apart: the list never pages through them */
	"CREATE TABLE zone_text (domain TEXT PRIMARY KEY NOT NULL, text BLOB NOT NULL);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;";

/* In state.db: every change of zones is logged in the same transaction. */
static const char px_state_log[] =
	"CREATE TABLE IF NOT EXISTS export_log ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, domain TEXT NOT NULL);"
	"CREATE TRIGGER IF NOT EXISTS export_log_ins AFTER INSERT ON zones"
	" BEGIN INSERT INTO export_log (domain) VALUES (NEW.domain); END;"
	"CREATE TRIGGER IF NOT EXISTS export_log_upd AFTER UPDATE ON zones"
	" BEGIN INSERT INTO export_log (domain) VALUES (NEW.domain); END;"
	"CREATE TRIGGER IF NOT EXISTS export_log_del AFTER DELETE ON zones"
	" BEGIN INSERT INTO export_log (domain) VALUES (OLD.domain); END;";

static const char px_state_unlog[] =
	"DROP TRIGGER IF EXISTS export_log_ins;"
	"DROP TRIGGER IF EXISTS export_log_upd;"
	"DROP TRIGGER IF EXISTS export_log_del;"
	"DROP TABLE IF EXISTS export_log;"
	"DELETE FROM meta WHERE key IN ('" PX_META_LOG "', '" PX_META_TOKEN "');";

#define PX_ZSEL "SELECT z.domain, z.present, z.serial, z.changed, z.updated, z.hostname," \
	" z.username, t.text FROM zones z LEFT JOIN zone_text t ON t.domain = z.domain"
#define PX_INS_ZONE "INSERT OR REPLACE INTO zones (domain, present, serial, changed, updated," \
	" hostname, username, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
#define PX_INS_TEXT "INSERT OR REPLACE INTO zone_text (domain, text) VALUES (?1, ?2)"

/* --------------------------------------------------------------- helpers */

void peer_sha256_hex(const void *data, size_t len, char out[PEER_SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[LDNS_SHA256_DIGEST_LENGTH];
	ldns_sha256_CTX ctx;
	size_t i;

	/* streamed: ldns_sha256() takes an unsigned int length */
	ldns_sha256_init(&ctx);
	for (i = 0; i < len;) {
		size_t n = len - i > (1u << 30) ? (1u << 30) : len - i;
		ldns_sha256_update(&ctx, (const uint8_t *)data + i, n);
		i += n;
	}
	ldns_sha256_final(d, &ctx);
	for (i = 0; i < sizeof d; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * sizeof d] = '\0';
}

char *peer_b64_encode(const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out, *o;
	size_t i;

	out = malloc((len + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = tab[p[i + 2] & 63];
	}
	if (i < len) {
		*o++ = tab[p[i] >> 2];
		if (i + 1 < len) {
			*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*o++ = tab[(p[i + 1] & 15) << 2];
		} else {
			*o++ = tab[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int px_fail(sqlite3 *db, struct zd_err *err, const char *what)
{
	int ec = db ? sqlite3_extended_errcode(db) & 0xff : SQLITE_ERROR;

	return zd_err_set(err, ec == SQLITE_BUSY || ec == SQLITE_LOCKED ? ZD_EBUSY : ZD_EDB,
	                  "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int px_exec(sqlite3 *db, const char *sql, struct zd_err *err, const char *what)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return px_fail(db, err, what);
	return 0;
}

/* One text value of a meta table ("" when absent). */
static int px_meta_get(sqlite3 *db, const char *key, char *val, size_t sz, struct zd_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	val[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL) != SQLITE_OK)
		return px_fail(db, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		str_copy(val, (const char *)sqlite3_column_text(s, 0), sz);
	else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rc = px_fail(db, err, "meta");
	sqlite3_finalize(s);
	return rc < 0 ? rc : 0;
}

static int px_meta_set(sqlite3 *db, const char *key, const char *val, struct zd_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", -1,
	                       &s, NULL) != SQLITE_OK)
		return px_fail(db, err, "meta");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = px_fail(db, err, "meta");
	sqlite3_finalize(s);
	return rc;
}

static int64_t px_int(sqlite3 *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *s = NULL;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* ------------------------------------------------------------ writer side */

struct px_writer {
	sqlite3 *ex;
	sqlite3_stmt *ins_zone, *ins_text, *del_zone, *del_text;
	int64_t cutoff;           /* tombstones updated before this are not exported */
};

static int px_writer_prep(struct px_writer *w, struct zd_err *err)
{
	if (sqlite3_prepare_v2(w->ex, PX_INS_ZONE, -1, &w->ins_zone, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->ex, PX_INS_TEXT, -1, &w->ins_text, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->ex, "DELETE FROM zones WHERE domain = ?1", -1, &w->del_zone,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->ex, "DELETE FROM zone_text WHERE domain = ?1", -1, &w->del_text,
	                       NULL) != SQLITE_OK)
		return px_fail(w->ex, err, "export.db");
	return 0;
}

static void px_writer_end(struct px_writer *w)
{
	sqlite3_finalize(w->ins_zone);
	sqlite3_finalize(w->ins_text);
	sqlite3_finalize(w->del_zone);
	sqlite3_finalize(w->del_text);
	w->ins_zone = w->ins_text = w->del_zone = w->del_text = NULL;
}

static int px_step_reset(sqlite3 *db, sqlite3_stmt *s, struct zd_err *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : px_fail(db, err, "export.db write");
}

static int px_drop(struct px_writer *w, const char *domain, struct zd_err *err)
{
	int rc;

	sqlite3_bind_text(w->del_zone, 1, domain, -1, SQLITE_STATIC);
	if ((rc = px_step_reset(w->ex, w->del_zone, err)) != 0)
		return rc;
	sqlite3_bind_text(w->del_text, 1, domain, -1, SQLITE_STATIC);
	return px_step_reset(w->ex, w->del_text, err);
}

/* Copy the current row of a PX_ZSEL statement into export.db. Returns 1
 * when the row was a tombstone past its time (dropped), else 0 or <0. */
static int px_put(struct px_writer *w, sqlite3_stmt *q, struct zd_err *err)
{
	const char *domain = (const char *)sqlite3_column_text(q, 0);
	int present = sqlite3_column_int(q, 1);
	int64_t updated = sqlite3_column_int64(q, 4);
	const void *text = sqlite3_column_blob(q, 7);
	int tlen = sqlite3_column_bytes(q, 7);
	char sha[PEER_SHA256_HEX] = "";
	int rc;

	if (domain == NULL)
		return 0;
	if (!present && updated < w->cutoff) {
		rc = px_drop(w, domain, err);
		return rc < 0 ? rc : 1;
	}
	if (present)
		peer_sha256_hex(text ? text : "", (size_t)tlen, sha);
	sqlite3_bind_text(w->ins_zone, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(w->ins_zone, 2, present ? 1 : 0);
	sqlite3_bind_int64(w->ins_zone, 3, sqlite3_column_int64(q, 2));
	sqlite3_bind_value(w->ins_zone, 4, sqlite3_column_value(q, 3));
	sqlite3_bind_int64(w->ins_zone, 5, updated);
	sqlite3_bind_value(w->ins_zone, 6, sqlite3_column_value(q, 5));
	sqlite3_bind_value(w->ins_zone, 7, sqlite3_column_value(q, 6));
	sqlite3_bind_text(w->ins_zone, 8, sha, -1, SQLITE_TRANSIENT);
	if ((rc = px_step_reset(w->ex, w->ins_zone, err)) != 0)
		return rc;
	if (!present || text == NULL) {
		sqlite3_bind_text(w->del_text, 1, domain, -1, SQLITE_TRANSIENT);
		return px_step_reset(w->ex, w->del_text, err);
	}
	sqlite3_bind_text(w->ins_text, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(w->ins_text, 2, text, tlen, SQLITE_STATIC);
	return px_step_reset(w->ex, w->ins_text, err);
}

static int px_open_state(const char *state_dir, sqlite3 **db, struct zd_err *err)
{
	char path[ZD_PATH_MAX];

	*db = NULL;
	if (path_join(path, sizeof path, state_dir, STORE_DB_NAME) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", state_dir);
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return px_fail(*db, err, path);
	sqlite3_busy_timeout(*db, 30000);
	return 0;
}

/* Open (flags) an export database file and make the writer's statements. */
static int px_open_export(const char *path, int create, struct px_writer *w, struct zd_err *err)
{
	int fd, rc;

	if (create) {
		/* 0640 from the start: SQLite gives its journal the database's mode */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0)
			return zd_err_sys(err, ZD_EIO, "create %s", path);
		if (fchmod(fd, 0640) < 0) {
			rc = zd_err_sys(err, ZD_EIO, "chmod %s", path);
			close(fd);
			return rc;
		}
		close(fd);
	}
	if (sqlite3_open_v2(path, &w->ex, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		return px_fail(w->ex, err, path);
	sqlite3_busy_timeout(w->ex, PX_BUSY_MS);
	if (create && (rc = px_exec(w->ex, px_schema, err, "export.db schema")) != 0)
		return rc;
	/* a cut power may lose the last export, never corrupt it; lag is repaired */
	if ((rc = px_exec(w->ex, "PRAGMA synchronous=NORMAL", err, "export.db")) != 0)
		return rc;
	return px_writer_prep(w, err);
}

static void px_close_export(struct px_writer *w)
{
	px_writer_end(w);
	if (w->ex != NULL)
		sqlite3_close(w->ex);
	w->ex = NULL;
}

/* Write export.db in full: a new file beside it, renamed over it. */
static int px_rebuild(const struct config *cfg, sqlite3 *sdb, const char *path, int64_t cutoff,
                      struct peer_export_stats *st, struct zd_err *err)
{
	char tmp[ZD_PATH_MAX], token[33], logid[32];
	unsigned char rnd[16];
	struct px_writer w;
	sqlite3_stmt *q = NULL;
	int64_t maxid;
	int rc, n, in_read = 0, in_write = 0;
	size_t i;

	memset(&w, 0, sizeof w);
	w.cutoff = cutoff;
	n = snprintf(tmp, sizeof tmp, "%s.new", path);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", path);
	if (unlink(tmp) < 0 && errno != ENOENT)
		return zd_err_sys(err, ZD_EIO, "remove %s", tmp);
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return zd_err_sys(err, ZD_EIO, "getrandom");
	for (i = 0; i < sizeof rnd; i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	if ((rc = px_open_export(tmp, 1, &w, err)) != 0)
		goto out;
	/* one read snapshot of state.db: the log position and the rows agree */
	if ((rc = px_exec(sdb, "BEGIN", err, "state.db")) != 0)
		goto out;
	in_read = 1;
	maxid = px_int(sdb, "SELECT IFNULL(MAX(id), 0) FROM export_log", 0);
	if (sqlite3_prepare_v2(sdb, PX_ZSEL " ORDER BY z.domain", -1, &q, NULL) != SQLITE_OK) {
		rc = px_fail(sdb, err, "state.db");
		goto out;
	}
	if ((rc = px_exec(w.ex, "BEGIN", err, "export.db")) != 0)
		goto out;
	in_write = 1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		rc = px_put(&w, q, err);
		if (rc < 0)
			goto out;
		if (rc == 1)
			st->purged++;
		else
			st->zones++;
	}
	if (rc != SQLITE_DONE) {
		rc = px_fail(sdb, err, "state.db read");
		goto out;
	}
	snprintf(logid, sizeof logid, "%lld", (long long)maxid);
	if ((rc = px_meta_set(w.ex, PX_META_LOG, logid, err)) != 0 ||
	    (rc = px_meta_set(w.ex, PX_META_TOKEN, token, err)) != 0)
		goto out;
	if ((rc = px_exec(w.ex, "COMMIT", err, "export.db commit")) != 0)
		goto out;
	in_write = 0;
	sqlite3_finalize(q);
	q = NULL;
	px_exec(sdb, "COMMIT", NULL, "state.db");
	in_read = 0;
	px_close_export(&w);
	/* the new file is whole on disk (SQLite synced it) before it gets the name */
	if (rename(tmp, path) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "rename %s", tmp);
		goto out;
	}
	if ((rc = fsync_dir(path, 0, err)) != 0)
		goto out;
	/* only now may state.db forget the log: a crash before this commit
	 * leaves tokens that disagree, and the next drain rebuilds again */
	if ((rc = px_exec(sdb, "BEGIN IMMEDIATE", err, "state.db")) != 0)
		goto out;
	{
		char sql[128];
		snprintf(sql, sizeof sql, "DELETE FROM export_log WHERE id <= %lld", (long long)maxid);
		if ((rc = px_exec(sdb, sql, err, "state.db export_log")) != 0 ||
		    (rc = px_meta_set(sdb, PX_META_LOG, logid, err)) != 0 ||
		    (rc = px_meta_set(sdb, PX_META_TOKEN, token, err)) != 0 ||
		    (rc = px_exec(sdb, "COMMIT", err, "state.db commit")) != 0) {
			px_exec(sdb, "ROLLBACK", NULL, "state.db");
			goto out;
		}
	}
	st->rebuilt = 1;
	(void)cfg;
out:
	sqlite3_finalize(q);
	if (in_write)
		px_exec(w.ex, "ROLLBACK", NULL, "export.db");
	if (in_read)
		px_exec(sdb, "ROLLBACK", NULL, "state.db");
	px_close_export(&w);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Apply the log entries after export.db's position; 1 = rebuild instead. */
static int px_incremental(sqlite3 *sdb, const char *path, int64_t cutoff,
                          struct peer_export_stats *st, struct zd_err *err)
{
	char token[64], stoken[64], val[32], logid[32], sql[192];
	struct px_writer w;
	sqlite3_stmt *dom = NULL, *q = NULL;
	long long exid, sid, maxid;
	int rc, in_read = 0, in_write = 0;
	struct stat sb;

	memset(&w, 0, sizeof w);
	w.cutoff = cutoff;
	if (stat(path, &sb) < 0)
		return 1;
	if ((rc = px_open_export(path, 0, &w, err)) != 0)
		goto rebuild;
	if (px_meta_get(w.ex, PX_META_TOKEN, token, sizeof token, err) != 0 ||
	    px_meta_get(w.ex, PX_META_LOG, val, sizeof val, err) != 0)
		goto rebuild;
	exid = strtoll(val, NULL, 10);
	if ((rc = px_meta_get(sdb, PX_META_TOKEN, stoken, sizeof stoken, err)) != 0 ||
	    (rc = px_meta_get(sdb, PX_META_LOG, val, sizeof val, err)) != 0)
		goto out;
	sid = strtoll(val, NULL, 10);
	if (token[0] == '\0' || strcmp(token, stoken) != 0) {
		log_info(NULL, "export.db belongs to another state.db: rebuilding it");
		goto rebuild;
	}
	if (exid < sid) {
		log_warning(NULL, "export.db is behind state.db (log %lld < %lld): rebuilding it", exid,
		            sid);
		goto rebuild;
	}
	if ((rc = px_exec(sdb, "BEGIN", err, "state.db")) != 0)
		goto out;
	in_read = 1;
	maxid = px_int(sdb, "SELECT IFNULL(MAX(id), 0) FROM export_log", 0);
	/* most zones changed: writing a new file is cheaper than updating in
	 * place under a rollback journal (10k changed zones: 0.6 s vs 5 s) */
	if (maxid - exid > PX_REBUILD_MIN &&
	    (maxid - exid) * 4 > px_int(sdb, "SELECT COUNT(*) FROM zones", 0)) {
		log_debug(NULL, "export.db: %lld changes, rebuilding rather than updating",
		          maxid - exid);
		goto rebuild;
	}
	if ((rc = px_exec(w.ex, "BEGIN IMMEDIATE", err, "export.db")) != 0)
		goto out;
	in_write = 1;
	if (maxid > exid) {
		if (sqlite3_prepare_v2(sdb, "SELECT DISTINCT domain FROM export_log WHERE id > ?1 AND"
		                       " id <= ?2", -1, &dom, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(sdb, PX_ZSEL " WHERE z.domain = ?1", -1, &q, NULL) != SQLITE_OK) {
			rc = px_fail(sdb, err, "state.db");
			goto out;
		}
		sqlite3_bind_int64(dom, 1, exid);
		sqlite3_bind_int64(dom, 2, maxid);
		while ((rc = sqlite3_step(dom)) == SQLITE_ROW) {
			const char *d = (const char *)sqlite3_column_text(dom, 0);
			int r;

			if (d == NULL)
				continue;
			sqlite3_bind_text(q, 1, d, -1, SQLITE_TRANSIENT);
			r = sqlite3_step(q);
			if (r == SQLITE_ROW) {
				r = px_put(&w, q, err);
			} else if (r == SQLITE_DONE) {
				r = px_drop(&w, d, err);
			} else {
				r = px_fail(sdb, err, "state.db read");
			}
			sqlite3_reset(q);
			if (r < 0) {
				rc = r;
				goto out;
			}
			if (r == 1)
				st->purged++;
			else
				st->zones++;
		}
		if (rc != SQLITE_DONE) {
			rc = px_fail(sdb, err, "state.db export_log");
			goto out;
		}
	}
	/* tombstones past peers.tombstone_days leave the list */
	{
		sqlite3_stmt *p = NULL;
		if (sqlite3_prepare_v2(w.ex, "DELETE FROM zones WHERE present = 0 AND updated < ?1",
		                       -1, &p, NULL) != SQLITE_OK) {
			rc = px_fail(w.ex, err, "export.db purge");
			goto out;
		}
		sqlite3_bind_int64(p, 1, cutoff);
		rc = sqlite3_step(p);
		sqlite3_finalize(p);
		if (rc != SQLITE_DONE) {
			rc = px_fail(w.ex, err, "export.db purge");
			goto out;
		}
		st->purged += (size_t)sqlite3_changes(w.ex);
	}
	snprintf(logid, sizeof logid, "%lld", maxid > exid ? maxid : exid);
	if ((rc = px_meta_set(w.ex, PX_META_LOG, logid, err)) != 0)
		goto out;
	if ((rc = px_exec(w.ex, "COMMIT", err, "export.db commit")) != 0)
		goto out;
	in_write = 0;
	sqlite3_finalize(dom);
	sqlite3_finalize(q);
	dom = q = NULL;
	px_exec(sdb, "COMMIT", NULL, "state.db");
	in_read = 0;
	if (maxid > sid) {
		if ((rc = px_exec(sdb, "BEGIN IMMEDIATE", err, "state.db")) != 0)
			goto out;
		snprintf(sql, sizeof sql, "DELETE FROM export_log WHERE id <= %s", logid);
		if ((rc = px_exec(sdb, sql, err, "state.db export_log")) != 0 ||
		    (rc = px_meta_set(sdb, PX_META_LOG, logid, err)) != 0 ||
		    (rc = px_exec(sdb, "COMMIT", err, "state.db commit")) != 0) {
			px_exec(sdb, "ROLLBACK", NULL, "state.db");
			goto out;
		}
	}
	rc = 0;
	goto out;
rebuild:
	rc = 1;
out:
	sqlite3_finalize(dom);
	sqlite3_finalize(q);
	if (in_write)
		px_exec(w.ex, "ROLLBACK", NULL, "export.db");
	if (in_read)
		px_exec(sdb, "ROLLBACK", NULL, "state.db");
	px_close_export(&w);
	return rc;
}

int peer_export_update(const struct config *cfg, struct peer_export_stats *st,
                       struct zd_err *err)
{
	struct peer_export_stats local;
	char path[ZD_PATH_MAX];
	sqlite3 *sdb = NULL;
	int64_t t0 = time_mono_ms(), cutoff;
	int rc, had_log;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	if (path_join(path, sizeof path, cfg->state_dir, PEER_EXPORT_DB) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", cfg->state_dir);
	if ((rc = px_open_state(cfg->state_dir, &sdb, err)) != 0)
		goto out;
	had_log = px_int(sdb, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND"
	                 " name IN ('export_log_ins', 'export_log_upd', 'export_log_del')", 0) == 3;
	if (cfg->peers.nusers == 0) {
		/* nobody may read it: keep nothing that would grow unread */
		if (had_log && (rc = px_exec(sdb, px_state_unlog, err, "state.db")) != 0)
			goto out;
		if (unlink(path) < 0 && errno != ENOENT)
			rc = zd_err_sys(err, ZD_EIO, "remove %s", path);
		goto out;
	}
	if (!had_log) {
		/* changes before the triggers were not logged: build in full below */
		if ((rc = px_exec(sdb, px_state_log, err, "state.db export_log")) != 0)
			goto out;
		unlink(path);
	}
	cutoff = time_now() - (int64_t)cfg->peers.tombstone_days * 86400;
	rc = px_incremental(sdb, path, cutoff, st, err);
	if (rc == 1) {
		memset(st, 0, sizeof *st);
		zd_err_clear(err);
		rc = px_rebuild(cfg, sdb, path, cutoff, st, err);
	}
out:
	if (sdb != NULL)
		sqlite3_close(sdb);
	st->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	return rc;
}

/* ------------------------------------------------------------ reader side */

/* The endpoint path as cgi.c sees it: SCRIPT_NAME + PATH_INFO, else REQUEST_URI's path. */
static int px_path_is(const struct cgi_request *req, const char *want)
{
	char path[512];
	size_t n;
	int len;

	len = snprintf(path, sizeof path, "%s%s", req->script_name ? req->script_name : "",
	               req->path_info ? req->path_info : "");
	if (len >= 0 && (size_t)len < sizeof path && strcmp(path, want) == 0)
		return 1;
	if (req->request_uri != NULL) {
		n = strcspn(req->request_uri, "?");
		if (n == strlen(want) && memcmp(req->request_uri, want, n) == 0)
			return 1;
	}
	return 0;
}

static int px_out_fail(struct cgi_answer *a, const char *what)
{
	a->written = 1;
	snprintf(a->text, sizeof a->text, "%s: writing the answer failed", what);
	return ZD_EIO;
}

/* json_dumpf of a row object plus "\n"; 0 or ZD_EIO. */
static int px_put_line(FILE *out, json_t *o)
{
	int rc = 0;

	if (o == NULL)
		return ZD_ENOMEM;
	if (json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || fputc('\n', out) == EOF)
		rc = ZD_EIO;
	json_decref(o);
	return rc;
}

/* A row's list fields (PROTOCOL.md 8); tombstones carry no owner or hash. */
static json_t *px_row_json(sqlite3_stmt *s)
{
	const char *domain = (const char *)sqlite3_column_text(s, 0);
	int present = sqlite3_column_int(s, 1);
	const char *changed = (const char *)sqlite3_column_text(s, 3);
	json_t *o;

	o = json_object();
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "domain", json_string(domain ? domain : ""));
	json_object_set_new(o, "state", json_string(present ? "present" : "deleted"));
	json_object_set_new(o, "serial", json_integer((json_int_t)(uint32_t)sqlite3_column_int64(s, 2)));
	json_object_set_new(o, "changed", json_string(changed ? changed : ""));
	if (present) {
		const char *h = (const char *)sqlite3_column_text(s, 4);
		const char *u = (const char *)sqlite3_column_text(s, 5);
		const char *sha = (const char *)sqlite3_column_text(s, 6);
		json_object_set_new(o, "hostname", json_string(h ? h : ""));
		json_object_set_new(o, "username", json_string(u ? u : ""));
		json_object_set_new(o, "sha256", json_string(sha ? sha : ""));
	}
	return o;
}

#define PX_COLS "domain, present, serial, changed, hostname, username, sha256"

static int px_list(sqlite3 *db, const char *since, FILE *out, struct cgi_answer *a)
{
	sqlite3_stmt *s = NULL;
	int64_t since_s = 0;
	uint64_t count = 0;
	json_t *t;
	int rc;

	if (since != NULL) {
		since_s = time_iso_parse(since);
		if (since_s < 0) {
			str_copy(a->text, "since: not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)",
			         sizeof a->text);
			return 400;
		}
	}
	if (sqlite3_prepare_v2(db, "SELECT " PX_COLS " FROM zones WHERE updated >= ?1 ORDER BY domain",
	                       -1, &s, NULL) != SQLITE_OK) {
		snprintf(a->text, sizeof a->text, "export.db: %s", sqlite3_errmsg(db));
		return 503;
	}
	sqlite3_bind_int64(s, 1, since_s);
	/* the first step takes the read lock: an error here still gets a clean answer */
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(a->text, sizeof a->text, "export.db: %s", sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return 503;
	}
	a->written = 1;
	if (fputs("Status: 200 OK\r\nContent-Type: application/x-ndjson\r\n"
	          "Cache-Control: no-store\r\n\r\n", out) == EOF) {
		sqlite3_finalize(s);
		return px_out_fail(a, "list");
	}
	for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
		if (px_put_line(out, px_row_json(s)) != 0) {
			sqlite3_finalize(s);
			return px_out_fail(a, "list");
		}
		count++;
	}
	if (rc != SQLITE_DONE) {
		/* no trailer: the peer sees an incomplete list and acts on none of it */
		snprintf(a->text, sizeof a->text, "list cut after %llu zones: export.db: %s",
		         (unsigned long long)count, sqlite3_errmsg(db));
		sqlite3_finalize(s);
		fflush(out);
		return 500;
	}
	sqlite3_finalize(s);
	t = json_pack("{s:b, s:I}", "end", 1, "count", (json_int_t)count);
	if (px_put_line(out, t) != 0 || fflush(out) != 0 || ferror(out))
		return px_out_fail(a, "list");
	snprintf(a->text, sizeof a->text, "list: %llu zone(s)%s%s", (unsigned long long)count,
	         since ? " since=" : "", since ? since : "");
	return 200;
}

/* One zone's answer object (the list fields plus its text): 200 with *out
 * set, 404 when not held, 503/500 with a->text otherwise. */
static int px_zone_obj(sqlite3_stmt *s, const char *domain, json_t **out, struct cgi_answer *a)
{
	json_t *o = NULL, *zs;
	char *b64 = NULL;
	int rc, status = 200;

	*out = NULL;
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		str_copy(a->text, "not found", sizeof a->text);
		return 404;
	}
	if (rc != SQLITE_ROW) {
		snprintf(a->text, sizeof a->text, "export.db: %s", sqlite3_errmsg(sqlite3_db_handle(s)));
		return 503;
	}
	o = px_row_json(s);
	if (o == NULL)
		goto nomem;
	if (sqlite3_column_int(s, 1)) {
		const char *text = sqlite3_column_blob(s, 7);
		size_t len = (size_t)sqlite3_column_bytes(s, 7);

		/* JSON strings are UTF-8; a zone with Latin-1 comments goes as base64 */
		zs = json_stringn(text ? text : "", len);
		if (zs != NULL) {
			json_object_set_new(o, "zone", zs);
		} else {
			b64 = peer_b64_encode(text ? text : "", len);
			if (b64 == NULL || json_object_set_new(o, "zone_base64", json_string(b64)) != 0)
				goto nomem;
		}
	}
	snprintf(a->text, sizeof a->text, "zone sent serial=%u state=%s",
	         (unsigned)sqlite3_column_int64(s, 2), sqlite3_column_int(s, 1) ? "present" : "deleted");
	free(b64);
	*out = o;
	return status;
nomem:
	free(b64);
	json_decref(o);
	str_copy(a->text, "out of memory", sizeof a->text);
	return 500;
}

#define PX_ZONE_SQL "SELECT z.domain, z.present, z.serial, z.changed, z.hostname, z.username," \
	" z.sha256, t.text FROM zones z LEFT JOIN zone_text t ON t.domain = z.domain" \
	" WHERE z.domain = ?1"

static int px_zone(sqlite3 *db, const char *domain, FILE *out, struct cgi_answer *a)
{
	sqlite3_stmt *s = NULL;
	struct zd_err e = { 0 };
	json_t *o = NULL;
	int status;

	if (domain_check(domain, &e) != 0) {
		snprintf(a->text, sizeof a->text, "invalid domain: %.400s", e.msg);
		return 400;
	}
	if (sqlite3_prepare_v2(db, PX_ZONE_SQL, -1, &s, NULL) != SQLITE_OK) {
		snprintf(a->text, sizeof a->text, "export.db: %s", sqlite3_errmsg(db));
		return 503;
	}
	status = px_zone_obj(s, domain, &o, a);
	if (status != 200)
		goto out;
	a->written = 1;
	if (fputs("Status: 200 OK\r\nContent-Type: application/json\r\n"
	          "Cache-Control: no-store\r\n\r\n", out) == EOF ||
	    px_put_line(out, o) != 0 || fflush(out) != 0 || ferror(out))
		status = px_out_fail(a, "zone");
	o = NULL;   /* px_put_line took it */
out:
	json_decref(o);
	sqlite3_finalize(s);
	return status;
}

/* ?domains=a,b,... (zonedrop's batch form of ?domain=, PEER_BATCH_MAX names):
 * ndjson, one ?domain= answer per held name in the order asked, then the
 * trailer; names not held are left out. One request instead of one CGI run
 * per zone is what makes a full sync of 10k zones take seconds. */
static int px_zones(sqlite3 *db, const char *list, FILE *out, struct cgi_answer *a)
{
	sqlite3_stmt *s = NULL;
	struct zd_err e = { 0 };
	char *copy = NULL, *tok, *save = NULL;
	uint64_t count = 0, asked = 0;
	const char *p;
	json_t *o;
	int status = 200, rc;

	for (p = list, asked = 1; *p != '\0'; p++)
		asked += *p == ',';
	if (asked > PEER_BATCH_MAX) {
		snprintf(a->text, sizeof a->text, "domains: at most %d names", PEER_BATCH_MAX);
		return 400;
	}
	copy = strdup(list);
	if (copy == NULL) {
		str_copy(a->text, "out of memory", sizeof a->text);
		return 500;
	}
	/* every name is checked before a byte is sent */
	for (tok = copy; tok != NULL; tok = strchr(tok, ',') ? strchr(tok, ',') + 1 : NULL) {
		char one[256];
		size_t n = strcspn(tok, ",");
		if (n >= sizeof one) {
			str_copy(a->text, "invalid domain in domains: too long", sizeof a->text);
			status = 400;
			goto out;
		}
		memcpy(one, tok, n);
		one[n] = '\0';
		if (domain_check(one, &e) != 0) {
			snprintf(a->text, sizeof a->text, "invalid domain in domains: %.400s", e.msg);
			status = 400;
			goto out;
		}
	}
	if (sqlite3_prepare_v2(db, PX_ZONE_SQL, -1, &s, NULL) != SQLITE_OK ||
	    px_exec(db, "BEGIN", &e, "export.db") != 0) {
		snprintf(a->text, sizeof a->text, "export.db: %s", sqlite3_errmsg(db));
		status = 503;
		goto out;
	}
	a->written = 1;
	if (fputs("Status: 200 OK\r\nContent-Type: application/x-ndjson\r\n"
	          "Cache-Control: no-store\r\n\r\n", out) == EOF) {
		status = px_out_fail(a, "zones");
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		rc = px_zone_obj(s, tok, &o, a);
		if (rc == 404)
			continue;
		if (rc != 200) {
			/* no trailer: the peer acts on none of it */
			fflush(out);
			status = 500;
			goto out;
		}
		if (px_put_line(out, o) != 0) {
			status = px_out_fail(a, "zones");
			goto out;
		}
		count++;
	}
	o = json_pack("{s:b, s:I}", "end", 1, "count", (json_int_t)count);
	if (px_put_line(out, o) != 0 || fflush(out) != 0 || ferror(out)) {
		status = px_out_fail(a, "zones");
		goto out;
	}
	snprintf(a->text, sizeof a->text, "zones: %llu of %llu sent", (unsigned long long)count,
	         (unsigned long long)asked);
out:
	if (s != NULL) {
		sqlite3_finalize(s);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	free(copy);
	return status;
}

int peer_export_serve(const struct config *cfg, const struct cgi_request *req, FILE *out,
                      struct cgi_answer *a)
{
	struct http_params p = { 0 };
	struct zd_err e = { 0 };
	char path[ZD_PATH_MAX], spath[ZD_PATH_MAX];
	const char *since, *domain, *domains;
	sqlite3 *db = NULL;
	int status;

	a->written = 0;
	a->text[0] = '\0';
	if (req->method == NULL || strcmp(req->method, "GET") != 0) {
		str_copy(a->text, "method not allowed (GET only)", sizeof a->text);
		return 405;
	}
	if (!px_path_is(req, "/internal/zones")) {
		str_copy(a->text, "not found", sizeof a->text);
		return 404;
	}
	if (req->query != NULL && http_form_parse(&p, req->query, strlen(req->query), &e) != 0) {
		snprintf(a->text, sizeof a->text, "bad query: %.400s", e.msg);
		status = 400;
		goto out;
	}
	since = http_param_get(&p, "since");
	domain = http_param_get(&p, "domain");
	domains = http_param_get(&p, "domains");
	if ((since != NULL) + (domain != NULL) + (domains != NULL) > 1) {
		str_copy(a->text, "give one of since, domain, domains", sizeof a->text);
		status = 400;
		goto out;
	}
	if (path_join(path, sizeof path, cfg->state_dir, PEER_EXPORT_DB) != 0 ||
	    path_join(spath, sizeof spath, cfg->state_dir, STORE_DB_NAME) != 0) {
		str_copy(a->text, "state_dir path too long", sizeof a->text);
		status = 500;
		goto out;
	}
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		if (access(spath, F_OK) == 0) {
			str_copy(a->text, "zones not exported yet (zonedrop-drain has not run since "
			         "peers.users was configured)", sizeof a->text);
			status = 503;
			goto out;
		}
		/* no state at all: we hold nothing */
		if (domain != NULL) {
			str_copy(a->text, "not found", sizeof a->text);
			status = 404;
			goto out;
		}
		if (domains != NULL) {
			since = NULL;   /* none held: an empty answer, as below */
		}
		if (since != NULL && time_iso_parse(since) < 0) {
			str_copy(a->text, "since: not an RFC 3339 UTC time", sizeof a->text);
			status = 400;
			goto out;
		}
		a->written = 1;
		if (fputs("Status: 200 OK\r\nContent-Type: application/x-ndjson\r\n"
		          "Cache-Control: no-store\r\n\r\n{\"end\":true,\"count\":0}\n", out) == EOF ||
		    fflush(out) != 0) {
			status = px_out_fail(a, "list");
			goto out;
		}
		str_copy(a->text, "list: 0 zone(s), no state yet", sizeof a->text);
		status = 200;
		goto out;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(a->text, sizeof a->text, "export.db: %s", db ? sqlite3_errmsg(db) : "no memory");
		status = 503;
		goto out;
	}
	sqlite3_busy_timeout(db, PX_CGI_BUSY_MS);
	if (domain != NULL)
		status = px_zone(db, domain, out, a);
	else if (domains != NULL)
		status = px_zones(db, domains, out, a);
	else
		status = px_list(db, since, out, a);
out:
	if (db != NULL)
		sqlite3_close(db);
	http_params_free(&p);
	return status;
}
