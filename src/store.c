/* store.c -- desired state and per-backend applied state in SQLite (state_dir/state.db) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "zonedrop/store.h"
#include "zonedrop/util.h"

/* Bump with a new step in store_migrate() whenever the schema changes. */
#define STORE_SCHEMA_VERSION 1
/* Long enough for the drain's largest transaction; the CLI then waits, not fails. */
#define STORE_BUSY_MS 30000

static const char store_schema_v1[] =
	"CREATE TABLE zones ("
	" domain   TEXT PRIMARY KEY NOT NULL,"
	" present  INTEGER NOT NULL DEFAULT 1,"
	" serial   INTEGER NOT NULL DEFAULT 0,"
	" gen      INTEGER NOT NULL DEFAULT 0,"
	" hostname TEXT NOT NULL DEFAULT '',"
	" username TEXT NOT NULL DEFAULT '',"
	" source   TEXT NOT NULL DEFAULT '',"
	" item     TEXT NOT NULL DEFAULT '',"
	" received TEXT NOT NULL DEFAULT '',"
	" changed  TEXT NOT NULL DEFAULT '',"
	" updated  INTEGER NOT NULL DEFAULT 0"
	");"
	/* covering for the work/count scans: 100k zones are walked in a few MB */
	"CREATE INDEX zones_state ON zones(domain, present, gen);"
	"CREATE INDEX zones_owner ON zones(hostname, domain);"
	/* The text lives apart: rows of zones stay ~150 bytes, so listings, the
	 * exists index and the scans above never page through zone texts. The
	 * text is read only for the zones that are returned with it. */
	"CREATE TABLE zone_text ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" text   BLOB NOT NULL"
	");"
	"CREATE TABLE backend_zones ("
	" backend TEXT NOT NULL,"
	" domain  TEXT NOT NULL,"
	" applied_gen     INTEGER NOT NULL DEFAULT 0,"
	" applied_serial  INTEGER NOT NULL DEFAULT 0,"
	" applied_present INTEGER NOT NULL DEFAULT 0,"
	" status     TEXT NOT NULL DEFAULT 'pending',"
	" attempts   INTEGER NOT NULL DEFAULT 0,"
	" next_retry INTEGER NOT NULL DEFAULT 0,"
	" failed_gen INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" updated    INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (backend, domain)"
	") WITHOUT ROWID;"
	"CREATE INDEX backend_zones_domain ON backend_zones(domain);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;";

#define ZCOLS "domain, present, serial, gen, hostname, username, source, item, received, changed, updated"
#define ZCOLS_Z "z.domain, z.present, z.serial, z.gen, z.hostname, z.username, z.source, z.item, " \
	"z.received, z.changed, z.updated"
#define BCOLS "backend, domain, applied_gen, applied_serial, applied_present, status, attempts, " \
	"next_retry, failed_gen, last_error, updated"
#define BCOLS_B "b.backend, b.domain, b.applied_gen, b.applied_serial, b.applied_present, b.status, " \
	"b.attempts, b.next_retry, b.failed_gen, b.last_error, b.updated"
#define NZCOLS 11
#define NBCOLS 11

/* The two halves of "work" (store.h): (a) present and the backend lacks this gen,
 * (b) deleted and the backend still holds something. Always 0 or 1, never NULL. */
#define WORK_EXPR "((z.present = 1 AND (b.domain IS NULL OR b.applied_gen <> z.gen))" \
	" OR (z.present = 0 AND IFNULL(b.applied_present, 0) = 1))"
/* Held back: failed at this very gen and not due (or given up / rejected). */
#define HELD_EXPR "(b.domain IS NOT NULL AND b.failed_gen = z.gen AND" \
	" ((b.status = 'retry' AND b.next_retry > ?2) OR b.status IN ('failed', 'rejected')))"

enum store_stmt_id {
	ST_ZONE_GET,
	ST_ZONE_GET_TEXT,
	ST_ZONE_PUT,
	ST_TEXT_PUT,
	ST_TEXT_DEL,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_ZONE_EACH,
	ST_ZONE_EACH_TEXT,
	ST_ZONE_EACH_OWNER,
	ST_ZONE_EACH_OWNER_TEXT,
	ST_ZONE_COUNT,
	ST_BSTATE_GET,
	ST_BSTATE_PUT,
	ST_BSTATE_EACH_ALL,
	ST_BSTATE_EACH_BACKEND,
	ST_BSTATE_EACH_DOMAIN,
	ST_WORK,
	ST_SERVED,
	ST_COUNTS,
	ST_RETRY_NOW,
	ST_FAILED_EACH,   /* status.c: failed/rejected zones of one backend */
	ST_META_GET,
	ST_META_SET,
	ST_SYNC,
	ST_HEAL,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

static const char *const store_sql[ST_COUNT] = {
	[ST_ZONE_GET] = "SELECT " ZCOLS " FROM zones WHERE domain = ?1",
	[ST_ZONE_GET_TEXT] = "SELECT " ZCOLS_Z ", t.text FROM zones z"
		" LEFT JOIN zone_text t ON t.domain = z.domain WHERE z.domain = ?1",
	[ST_ZONE_PUT] =
		"INSERT INTO zones (" ZCOLS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
		" ON CONFLICT(domain) DO UPDATE SET present=?2, serial=?3, gen=?4, hostname=?5,"
		" username=?6, source=?7, item=?8, received=?9, changed=?10, updated=?11",
	[ST_TEXT_PUT] = "INSERT INTO zone_text (domain, text) VALUES (?1, ?2)"
		" ON CONFLICT(domain) DO UPDATE SET text = ?2",
	[ST_TEXT_DEL] = "DELETE FROM zone_text WHERE domain = ?1",
	[ST_SAVEPOINT] = "SAVEPOINT store_put",
	[ST_RELEASE] = "RELEASE store_put",
	[ST_ROLLBACK_TO] = "ROLLBACK TO store_put",
	[ST_ZONE_EACH] = "SELECT " ZCOLS " FROM zones WHERE (?2 OR present = 1) ORDER BY domain",
	[ST_ZONE_EACH_TEXT] = "SELECT " ZCOLS_Z ", t.text FROM zones z"
		" LEFT JOIN zone_text t ON t.domain = z.domain"
		" WHERE (?2 OR z.present = 1) ORDER BY z.domain",
	[ST_ZONE_EACH_OWNER] = "SELECT " ZCOLS " FROM zones WHERE hostname = ?1 AND (?2 OR present = 1)"
		" ORDER BY domain",
	[ST_ZONE_EACH_OWNER_TEXT] = "SELECT " ZCOLS_Z ", t.text FROM zones z"
		" LEFT JOIN zone_text t ON t.domain = z.domain WHERE z.hostname = ?1"
		" AND (?2 OR z.present = 1) ORDER BY z.domain",
	[ST_ZONE_COUNT] = "SELECT IFNULL(SUM(present = 1), 0), IFNULL(SUM(present = 0), 0) FROM zones",
	[ST_BSTATE_GET] = "SELECT " BCOLS " FROM backend_zones WHERE backend = ?1 AND domain = ?2",
	[ST_BSTATE_PUT] =
		"INSERT INTO backend_zones (" BCOLS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
		" ON CONFLICT(backend, domain) DO UPDATE SET applied_gen=?3, applied_serial=?4,"
		" applied_present=?5, status=?6, attempts=?7, next_retry=?8, failed_gen=?9,"
		" last_error=?10, updated=?11",
	[ST_BSTATE_EACH_ALL] = "SELECT " BCOLS " FROM backend_zones ORDER BY backend, domain",
	[ST_BSTATE_EACH_BACKEND] = "SELECT " BCOLS " FROM backend_zones WHERE backend = ?1"
		" AND (?2 IS NULL OR domain = ?2) ORDER BY domain",
	[ST_BSTATE_EACH_DOMAIN] = "SELECT " BCOLS " FROM backend_zones WHERE domain = ?2"
		" ORDER BY backend",
	/* one pass over the zones index, one primary-key probe per zone, and the
	 * text fetched only for the rows that are work: no N queries */
	[ST_WORK] = "SELECT " ZCOLS_Z ", t.text, " BCOLS_B
		" FROM zones z LEFT JOIN backend_zones b ON b.backend = ?1 AND b.domain = z.domain"
		" LEFT JOIN zone_text t ON t.domain = z.domain"
		" WHERE " WORK_EXPR " AND (?3 OR NOT " HELD_EXPR ") ORDER BY z.domain",
	[ST_SERVED] = "SELECT b.domain, z.present, z.serial, z.gen, z.hostname, z.username, z.source,"
		" z.item, z.received, z.changed, z.updated"
		" FROM backend_zones b LEFT JOIN zones z ON z.domain = b.domain"
		" WHERE b.backend = ?1 AND b.applied_present = 1 ORDER BY b.domain",
	/* the same classification as store_zone_state(), in one aggregate pass */
	[ST_COUNTS] =
		"SELECT IFNULL(SUM(w = 0 AND (present = 1 OR has_row)), 0),"
		" IFNULL(SUM(w = 1 AND cls = 'pending'), 0),"
		" IFNULL(SUM(w = 1 AND cls = 'retry'), 0),"
		" IFNULL(SUM(w = 1 AND cls = 'failed'), 0),"
		" IFNULL(SUM(w = 1 AND cls = 'rejected'), 0),"
		" IFNULL(MIN(CASE WHEN w = 1 AND cls = 'retry' THEN next_retry END), 0)"
		" FROM (SELECT z.present AS present, b.domain IS NOT NULL AS has_row,"
		"  " WORK_EXPR " AS w,"
		"  CASE WHEN b.failed_gen = z.gen AND b.status IN ('retry', 'failed', 'rejected')"
		"   THEN b.status ELSE 'pending' END AS cls,"
		"  b.next_retry AS next_retry"
		"  FROM zones z LEFT JOIN backend_zones b ON b.backend = ?1 AND b.domain = z.domain)",
	[ST_RETRY_NOW] = "UPDATE backend_zones SET status = 'pending', attempts = 0, next_retry = 0,"
		" updated = ?3 WHERE status IN ('retry', 'failed', 'rejected')"
		" AND (?1 IS NULL OR backend = ?1) AND (?2 IS NULL OR domain = ?2)",
	/* failed/rejected at the zone's current gen and still work (store_zone_state());
	 * the status filter comes first, so only those rows probe zones */
	[ST_FAILED_EACH] = "SELECT " BCOLS_B " FROM backend_zones b"
		" JOIN zones z ON z.domain = b.domain"
		" WHERE b.backend = ?1 AND b.status IN ('failed', 'rejected') AND b.failed_gen = z.gen"
		" AND " WORK_EXPR " ORDER BY b.domain LIMIT ?2",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
		" ON CONFLICT(key) DO UPDATE SET value = ?2",
	/* healing: every zone beside this backend's row of it */
	[ST_SYNC] = "SELECT " ZCOLS_Z ", NULL, " BCOLS_B
		" FROM zones z LEFT JOIN backend_zones b ON b.backend = ?1 AND b.domain = z.domain"
		" ORDER BY z.domain",
	[ST_HEAL] = "UPDATE backend_zones SET status = 'pending', attempts = 0, next_retry = 0,"
		" failed_gen = 0, last_error = ?4, updated = ?5,"
		" applied_gen = CASE WHEN ?3 = 3 THEN applied_gen ELSE 0 END,"
		" applied_present = CASE WHEN ?3 = 1 THEN 0 ELSE 1 END"
		" WHERE backend = ?1 AND domain = ?2",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

struct store {
	sqlite3 *db;
	int rdonly;
	sqlite3_stmt *stmt[ST_COUNT];
};

/* A statement in use: the cached one, or a private copy when the cached
 * one is already stepping (a callback re-entering the store). */
struct store_q {
	sqlite3_stmt *s;
	int owned;
};

static int store_fail(struct store *st, struct zd_err *err, const char *what)
{
	int ec = sqlite3_extended_errcode(st->db);
	int code = (ec & 0xff) == SQLITE_BUSY || (ec & 0xff) == SQLITE_LOCKED ? ZD_EBUSY : ZD_EDB;

	return zd_err_set(err, code, "state database: %s: %s", what, sqlite3_errmsg(st->db));
}

static int store_prep(struct store *st, enum store_stmt_id id, struct store_q *q, struct zd_err *err)
{
	sqlite3_stmt *s = st->stmt[id];

	q->s = NULL;
	q->owned = 0;
	if (s != NULL && !sqlite3_stmt_busy(s)) {
		q->s = s;
		return 0;
	}
	if (sqlite3_prepare_v3(st->db, store_sql[id], -1, s == NULL ? SQLITE_PREPARE_PERSISTENT : 0,
	                       &s, NULL) != SQLITE_OK)
		return store_fail(st, err, "prepare");
	if (st->stmt[id] == NULL) {
		st->stmt[id] = s;
	} else {
		q->owned = 1;
	}
	q->s = s;
	return 0;
}

static void store_done(struct store_q *q)
{
	if (q->s == NULL)
		return;
	if (q->owned) {
		sqlite3_finalize(q->s);
	} else {
		sqlite3_reset(q->s);
		sqlite3_clear_bindings(q->s);
	}
	q->s = NULL;
}

static int store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v == NULL ? sqlite3_bind_null(s, i) : sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void store_col_copy(sqlite3_stmt *s, int col, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	str_copy(out, t ? (const char *)t : "", outsz);
}

/* Fill z from columns col..col+10 (+ text at col+11 when with_text). */
static int store_row_zone(sqlite3_stmt *s, int col, int with_text, struct store_zone *z,
                          struct zd_err *err)
{
	memset(z, 0, sizeof *z);
	store_col_copy(s, col + 0, z->domain, sizeof z->domain);
	z->present = sqlite3_column_int(s, col + 1);
	z->serial = (uint32_t)sqlite3_column_int64(s, col + 2);
	z->gen = sqlite3_column_int64(s, col + 3);
	store_col_copy(s, col + 4, z->hostname, sizeof z->hostname);
	store_col_copy(s, col + 5, z->username, sizeof z->username);
	store_col_copy(s, col + 6, z->source, sizeof z->source);
	store_col_copy(s, col + 7, z->item, sizeof z->item);
	store_col_copy(s, col + 8, z->received, sizeof z->received);
	store_col_copy(s, col + 9, z->changed, sizeof z->changed);
	z->updated = sqlite3_column_int64(s, col + 10);
	if (with_text && sqlite3_column_type(s, col + NZCOLS) != SQLITE_NULL) {
		const void *b = sqlite3_column_blob(s, col + NZCOLS);
		size_t n = (size_t)sqlite3_column_bytes(s, col + NZCOLS);

		z->text = malloc(n + 1);
		if (z->text == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory loading %s", z->domain);
		if (n > 0)
			memcpy(z->text, b, n);
		z->text[n] = '\0';
		z->text_len = n;
	}
	return 0;
}

static void store_row_bstate(sqlite3_stmt *s, int col, struct store_bstate *b)
{
	memset(b, 0, sizeof *b);
	store_col_copy(s, col + 0, b->backend, sizeof b->backend);
	store_col_copy(s, col + 1, b->domain, sizeof b->domain);
	b->applied_gen = sqlite3_column_int64(s, col + 2);
	b->applied_serial = (uint32_t)sqlite3_column_int64(s, col + 3);
	b->applied_present = sqlite3_column_int(s, col + 4);
	store_col_copy(s, col + 5, b->status, sizeof b->status);
	b->attempts = sqlite3_column_int(s, col + 6);
	b->next_retry = sqlite3_column_int64(s, col + 7);
	b->failed_gen = sqlite3_column_int64(s, col + 8);
	store_col_copy(s, col + 9, b->last_error, sizeof b->last_error);
	b->updated = sqlite3_column_int64(s, col + 10);
}

static int store_exec(struct store *st, const char *sql, struct zd_err *err)
{
	char *msg = NULL;
	int rc = 0;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = store_fail(st, err, msg ? msg : sql);
		sqlite3_free(msg);
	}
	return rc;
}

static int store_user_version(struct store *st, int *v, struct zd_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW)
		rc = store_fail(st, err, "read user_version");
	else
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc;
}

/* Create or upgrade the schema inside one write transaction, so two
 * programs opening a new database at once cannot both create it. */
static int store_migrate(struct store *st, struct zd_err *err)
{
	char sql[64];
	int rc, v = 0;

	/* the common case, without waiting for the writer's lock */
	if ((rc = store_user_version(st, &v, err)) != 0)
		return rc;
	if (v == STORE_SCHEMA_VERSION)
		return 0;
	if ((rc = store_exec(st, "BEGIN IMMEDIATE", err)) != 0)
		return rc;
	if ((rc = store_user_version(st, &v, err)) != 0)
		goto out;
	if (v > STORE_SCHEMA_VERSION) {
		rc = zd_err_set(err, ZD_EDB, "state database has schema %d, newer than this zonedrop (%d)",
		                v, STORE_SCHEMA_VERSION);
		goto out;
	}
	if (v < 1 && (rc = store_exec(st, store_schema_v1, err)) != 0)
		goto out;
	/* later versions: if (v < 2) ALTER TABLE ... */
	if (v != STORE_SCHEMA_VERSION) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
		if ((rc = store_exec(st, sql, err)) != 0)
			goto out;
	}
	rc = store_exec(st, "COMMIT", err);
out:
	if (rc != 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int store_open(const char *state_dir, int flags, struct store **out, struct zd_err *err)
{
	char path[ZD_PATH_MAX];
	struct store *st = NULL;
	struct stat sb;
	int rc = 0, fd, v = 0, oflags;

	*out = NULL;
	if (path_join(path, sizeof path, state_dir, STORE_DB_NAME) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", state_dir);
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	st->rdonly = (flags & STORE_RDONLY) != 0;
	if (st->rdonly) {
		if (stat(path, &sb) < 0) {
			rc = errno == ENOENT ? zd_err_set(err, ZD_ENOENT, "no state yet (%s)", path)
			                     : zd_err_sys(err, ZD_EIO, "stat %s", path);
			goto out;
		}
		oflags = SQLITE_OPEN_READONLY;
	} else {
		if ((rc = mkdir_p(state_dir, 0750, err)) != 0)
			goto out;
		/* create it 0640 ourselves: SQLite would use 0644 less the umask, and
		 * gives its -wal and -shm files the mode of the database */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd >= 0) {
			if (fchmod(fd, 0640) < 0)
				rc = zd_err_sys(err, ZD_EIO, "chmod %s", path);
			close(fd);
			if (rc != 0)
				goto out;
		} else if (errno != EEXIST) {
			rc = zd_err_sys(err, ZD_EIO, "create %s", path);
			goto out;
		}
		oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	}
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		rc = st->db ? store_fail(st, err, path) : zd_err_set(err, ZD_ENOMEM, "sqlite3_open");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (!st->rdonly) {
		/* WAL: readers (CLI, backend threads) never block the drain's writes.
		 * synchronous=FULL: a spool item is removed right after COMMIT, so the
		 * commit itself must survive a power cut, which NORMAL does not promise in WAL mode. */
		if ((rc = store_exec(st, "PRAGMA journal_mode = WAL", err)) != 0 ||
		    (rc = store_migrate(st, err)) != 0)
			goto out;
	}
	if ((rc = store_exec(st, "PRAGMA synchronous = FULL; PRAGMA cache_size = -32768", err)) != 0)
		goto out;
	if (st->rdonly) {
		if ((rc = store_user_version(st, &v, err)) != 0)
			goto out;
		if (v == 0) {
			rc = zd_err_set(err, ZD_ENOENT, "no state yet (%s)", path);
			goto out;
		}
		if (v > STORE_SCHEMA_VERSION) {
			rc = zd_err_set(err, ZD_EDB, "state database has schema %d, newer than this zonedrop",
			                v);
			goto out;
		}
	}
	*out = st;
	st = NULL;
out:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

/* Run a statement with no result rows. */
static int store_step_done(struct store *st, struct store_q *q, const char *what,
                           struct zd_err *err)
{
	int rc = 0;

	if (sqlite3_step(q->s) != SQLITE_DONE)
		rc = store_fail(st, err, what);
	store_done(q);
	return rc;
}

int store_begin(struct store *st, struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, ST_BEGIN, &q, err)) != 0)
		return rc;
	return store_step_done(st, &q, "begin", err);
}

int store_commit(struct store *st, struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, ST_COMMIT, &q, err)) != 0)
		return rc;
	return store_step_done(st, &q, "commit", err);
}

void store_rollback(struct store *st)
{
	struct store_q q;

	if (sqlite3_get_autocommit(st->db))
		return;
	if (store_prep(st, ST_ROLLBACK, &q, NULL) != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	sqlite3_step(q.s);
	store_done(&q);
}

int store_zone_get(struct store *st, const char *domain, int with_text, struct store_zone *z,
                   struct zd_err *err)
{
	struct store_q q;
	int rc, r;

	memset(z, 0, sizeof *z);
	if ((rc = store_prep(st, with_text ? ST_ZONE_GET_TEXT : ST_ZONE_GET, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, domain);
	r = sqlite3_step(q.s);
	if (r == SQLITE_ROW)
		rc = store_row_zone(q.s, 0, with_text, z, err);
	else if (r == SQLITE_DONE)
		rc = zd_err_set(err, ZD_ENOENT, "zone %s is not held", domain);
	else
		rc = store_fail(st, err, "read zone");
	store_done(&q);
	return rc;
}

/* One parameterless statement (savepoint handling). */
static int store_run(struct store *st, enum store_stmt_id id, const char *what, struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, id, &q, err)) != 0)
		return rc;
	return store_step_done(st, &q, what, err);
}

int store_zone_put(struct store *st, const struct store_zone *z, struct zd_err *err)
{
	struct store_q q = { NULL, 0 };
	size_t tlen;
	int rc, in_sp = 0;

	/* row and text change together, inside or outside the caller's transaction */
	if ((rc = store_run(st, ST_SAVEPOINT, "savepoint", err)) != 0)
		goto out;
	in_sp = 1;
	if ((rc = store_prep(st, ST_ZONE_PUT, &q, err)) != 0)
		goto out;
	store_bind_text(q.s, 1, z->domain);
	sqlite3_bind_int(q.s, 2, z->present ? 1 : 0);
	sqlite3_bind_int64(q.s, 3, (sqlite3_int64)z->serial);
	sqlite3_bind_int64(q.s, 4, z->gen);
	store_bind_text(q.s, 5, z->hostname);
	store_bind_text(q.s, 6, z->username);
	store_bind_text(q.s, 7, z->source);
	store_bind_text(q.s, 8, z->item);
	store_bind_text(q.s, 9, z->received);
	store_bind_text(q.s, 10, z->changed);
	sqlite3_bind_int64(q.s, 11, z->updated);
	if ((rc = store_step_done(st, &q, "write zone", err)) != 0)
		goto out;
	if (z->present && z->text != NULL) {
		if ((rc = store_prep(st, ST_TEXT_PUT, &q, err)) != 0)
			goto out;
		tlen = z->text_len ? z->text_len : strlen(z->text);
		store_bind_text(q.s, 1, z->domain);
		/* a blob: zone text may carry Latin-1 comments, which are not UTF-8 */
		sqlite3_bind_blob64(q.s, 2, z->text, (sqlite3_uint64)tlen, SQLITE_STATIC);
	} else {
		/* a tombstone (or a row without text) keeps no text */
		if ((rc = store_prep(st, ST_TEXT_DEL, &q, err)) != 0)
			goto out;
		store_bind_text(q.s, 1, z->domain);
	}
	if ((rc = store_step_done(st, &q, "write zone text", err)) != 0)
		goto out;
	rc = store_run(st, ST_RELEASE, "release", err);
	in_sp = rc != 0;
out:
	store_done(&q);
	if (in_sp) {
		store_run(st, ST_ROLLBACK_TO, "rollback to", NULL);
		store_run(st, ST_RELEASE, "release", NULL);
	}
	return rc;
}

void store_zone_clear(struct store_zone *z)
{
	if (z == NULL)
		return;
	free(z->text);
	z->text = NULL;
	z->text_len = 0;
}

/* Step q, handing each row to fn; shared by the zone walks. */
static int store_walk_zones(struct store *st, struct store_q *q, int with_text, store_zone_fn fn,
                            void *arg, struct zd_err *err)
{
	struct store_zone z;
	int rc = 0, r;

	memset(&z, 0, sizeof z);
	while ((r = sqlite3_step(q->s)) == SQLITE_ROW) {
		if ((rc = store_row_zone(q->s, 0, with_text, &z, err)) != 0)
			break;
		rc = fn(&z, arg);
		store_zone_clear(&z);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
		rc = store_fail(st, err, "read zones");
	store_zone_clear(&z);
	store_done(q);
	return rc;
}

int store_zone_each(struct store *st, const char *owner, int with_deleted, int with_text,
                    store_zone_fn fn, void *arg, struct zd_err *err)
{
	struct store_q q;
	enum store_stmt_id id;
	int rc;

	if (owner != NULL)
		id = with_text ? ST_ZONE_EACH_OWNER_TEXT : ST_ZONE_EACH_OWNER;
	else
		id = with_text ? ST_ZONE_EACH_TEXT : ST_ZONE_EACH;
	if ((rc = store_prep(st, id, &q, err)) != 0)
		return rc;
	if (owner != NULL)
		store_bind_text(q.s, 1, owner);
	sqlite3_bind_int(q.s, 2, with_deleted ? 1 : 0);
	return store_walk_zones(st, &q, with_text, fn, arg, err);
}

int store_zone_count(struct store *st, size_t *present, size_t *deleted, struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, ST_ZONE_COUNT, &q, err)) != 0)
		return rc;
	if (sqlite3_step(q.s) == SQLITE_ROW) {
		if (present)
			*present = (size_t)sqlite3_column_int64(q.s, 0);
		if (deleted)
			*deleted = (size_t)sqlite3_column_int64(q.s, 1);
	} else {
		rc = store_fail(st, err, "count zones");
	}
	store_done(&q);
	return rc;
}

int store_bstate_get(struct store *st, const char *backend, const char *domain,
                     struct store_bstate *b, struct zd_err *err)
{
	struct store_q q;
	int rc, r;

	memset(b, 0, sizeof *b);
	if ((rc = store_prep(st, ST_BSTATE_GET, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, backend);
	store_bind_text(q.s, 2, domain);
	r = sqlite3_step(q.s);
	if (r == SQLITE_ROW)
		store_row_bstate(q.s, 0, b);
	else if (r == SQLITE_DONE)
		rc = zd_err_set(err, ZD_ENOENT, "backend %s never saw %s", backend, domain);
	else
		rc = store_fail(st, err, "read backend state");
	store_done(&q);
	return rc;
}

int store_bstate_put(struct store *st, const struct store_bstate *b, struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, ST_BSTATE_PUT, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, b->backend);
	store_bind_text(q.s, 2, b->domain);
	sqlite3_bind_int64(q.s, 3, b->applied_gen);
	sqlite3_bind_int64(q.s, 4, (sqlite3_int64)b->applied_serial);
	sqlite3_bind_int(q.s, 5, b->applied_present ? 1 : 0);
	store_bind_text(q.s, 6, b->status[0] ? b->status : BSTATE_PENDING);
	sqlite3_bind_int(q.s, 7, b->attempts);
	sqlite3_bind_int64(q.s, 8, b->next_retry);
	sqlite3_bind_int64(q.s, 9, b->failed_gen);
	store_bind_text(q.s, 10, b->last_error);
	sqlite3_bind_int64(q.s, 11, b->updated);
	return store_step_done(st, &q, "write backend state", err);
}

int store_bstate_each(struct store *st, const char *backend, const char *domain,
                      store_bstate_fn fn, void *arg, struct zd_err *err)
{
	struct store_q q;
	struct store_bstate b;
	enum store_stmt_id id;
	int rc, r;

	if (backend != NULL)
		id = ST_BSTATE_EACH_BACKEND;
	else if (domain != NULL)
		id = ST_BSTATE_EACH_DOMAIN;
	else
		id = ST_BSTATE_EACH_ALL;
	if ((rc = store_prep(st, id, &q, err)) != 0)
		return rc;
	if (id != ST_BSTATE_EACH_ALL) {
		if (id == ST_BSTATE_EACH_BACKEND)
			store_bind_text(q.s, 1, backend);
		store_bind_text(q.s, 2, domain);
	}
	while ((r = sqlite3_step(q.s)) == SQLITE_ROW) {
		store_row_bstate(q.s, 0, &b);
		if ((rc = fn(&b, arg)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_fail(st, err, "read backend states");
	store_done(&q);
	return rc;
}

int store_work_each(struct store *st, const char *backend, int64_t now, int force,
                    store_work_fn fn, void *arg, struct zd_err *err)
{
	struct store_q q;
	struct store_zone z;
	struct store_bstate b;
	int rc, r;

	memset(&z, 0, sizeof z);
	if ((rc = store_prep(st, ST_WORK, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, backend);
	sqlite3_bind_int64(q.s, 2, now);
	sqlite3_bind_int(q.s, 3, force ? 1 : 0);
	while ((r = sqlite3_step(q.s)) == SQLITE_ROW) {
		if ((rc = store_row_zone(q.s, 0, 1, &z, err)) != 0)
			break;
		if (sqlite3_column_type(q.s, NZCOLS + 1 + 1) == SQLITE_NULL) {
			/* the backend never saw this zone: a fresh, never-applied state */
			memset(&b, 0, sizeof b);
			str_copy(b.backend, backend, sizeof b.backend);
			str_copy(b.domain, z.domain, sizeof b.domain);
			str_copy(b.status, BSTATE_PENDING, sizeof b.status);
		} else {
			store_row_bstate(q.s, NZCOLS + 1, &b);
		}
		rc = fn(&z, &b, arg);
		store_zone_clear(&z);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
		rc = store_fail(st, err, "read work");
	store_zone_clear(&z);
	store_done(&q);
	return rc;
}

int store_served_each(struct store *st, const char *backend, store_zone_fn fn, void *arg,
                      struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, ST_SERVED, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, backend);
	return store_walk_zones(st, &q, 0, fn, arg, err);
}

int store_backend_counts(struct store *st, const char *backend, int64_t now,
                         struct store_backend_counts *c, struct zd_err *err)
{
	struct store_q q;
	int rc;

	memset(c, 0, sizeof *c);
	if ((rc = store_prep(st, ST_COUNTS, &q, err)) != 0)
		return rc;
	/* a scheduled retry counts as "retry" whether due or not: now is not needed */
	(void)now;
	store_bind_text(q.s, 1, backend);
	if (sqlite3_step(q.s) == SQLITE_ROW) {
		c->applied = (size_t)sqlite3_column_int64(q.s, 0);
		c->pending = (size_t)sqlite3_column_int64(q.s, 1);
		c->retry = (size_t)sqlite3_column_int64(q.s, 2);
		c->failed = (size_t)sqlite3_column_int64(q.s, 3);
		c->rejected = (size_t)sqlite3_column_int64(q.s, 4);
		c->next_retry = sqlite3_column_int64(q.s, 5);
	} else {
		rc = store_fail(st, err, "count backend states");
	}
	store_done(&q);
	return rc;
}

const char *store_zone_state(const struct store_zone *z, const struct store_bstate *b)
{
	int work;

	if (z->present)
		work = b == NULL || b->applied_gen != z->gen;
	else
		work = b != NULL && b->applied_present;
	if (!work)
		return z->present || b != NULL ? BSTATE_OK : NULL;
	if (b != NULL && b->failed_gen == z->gen) {
		if (strcmp(b->status, BSTATE_RETRY) == 0)
			return BSTATE_RETRY;
		if (strcmp(b->status, BSTATE_FAILED) == 0)
			return BSTATE_FAILED;
		if (strcmp(b->status, BSTATE_REJECTED) == 0)
			return BSTATE_REJECTED;
	}
	return BSTATE_PENDING;
}

int store_retry_now(struct store *st, const char *backend, const char *domain, size_t *n,
                    struct zd_err *err)
{
	struct store_q q;
	int rc;

	if (n)
		*n = 0;
	if ((rc = store_prep(st, ST_RETRY_NOW, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, backend);
	store_bind_text(q.s, 2, domain);
	sqlite3_bind_int64(q.s, 3, time_now());
	if (sqlite3_step(q.s) != SQLITE_DONE)
		rc = store_fail(st, err, "schedule retries");
	else if (n)
		*n = (size_t)sqlite3_changes(st->db);
	store_done(&q);
	return rc;
}

int store_failed_each(struct store *st, const char *backend, size_t limit, store_bstate_fn fn,
                      void *arg, struct zd_err *err)
{
	struct store_q q;
	struct store_bstate b;
	int rc, r;

	if ((rc = store_prep(st, ST_FAILED_EACH, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, backend);
	sqlite3_bind_int64(q.s, 2, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	while ((r = sqlite3_step(q.s)) == SQLITE_ROW) {
		store_row_bstate(q.s, 0, &b);
		if ((rc = fn(&b, arg)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = store_fail(st, err, "read failed zones");
	store_done(&q);
	return rc;
}

int store_meta_get(struct store *st, const char *key, char *val, size_t valsz, struct zd_err *err)
{
	struct store_q q;
	const unsigned char *t;
	int rc, r;

	if (valsz > 0)
		val[0] = '\0';
	if ((rc = store_prep(st, ST_META_GET, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, key);
	r = sqlite3_step(q.s);
	if (r == SQLITE_ROW) {
		t = sqlite3_column_text(q.s, 0);
		if (str_copy(val, t ? (const char *)t : "", valsz) >= valsz)
			rc = zd_err_set(err, ZD_E2BIG, "meta %s longer than %zu bytes", key, valsz);
	} else if (r == SQLITE_DONE) {
		rc = zd_err_set(err, ZD_ENOENT, "no meta %s", key);
	} else {
		rc = store_fail(st, err, "read meta");
	}
	store_done(&q);
	return rc;
}

int store_meta_set(struct store *st, const char *key, const char *val, struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, ST_META_SET, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, key);
	store_bind_text(q.s, 2, val ? val : "");
	return store_step_done(st, &q, "write meta", err);
}

/* ---- healing (zonedrop-reconcile, zonedrop verify) ---- */

int store_sync_each(struct store *st, const char *backend, store_sync_fn fn, void *arg,
                    struct zd_err *err)
{
	struct store_q q;
	struct store_zone z;
	struct store_bstate b;
	int rc, r;

	memset(&z, 0, sizeof z);
	if ((rc = store_prep(st, ST_SYNC, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, backend);
	while ((r = sqlite3_step(q.s)) == SQLITE_ROW) {
		int has_b = sqlite3_column_type(q.s, NZCOLS + 1 + 1) != SQLITE_NULL;

		if ((rc = store_row_zone(q.s, 0, 0, &z, err)) != 0)
			break;
		if (has_b)
			store_row_bstate(q.s, NZCOLS + 1, &b);
		rc = fn(&z, has_b ? &b : NULL, arg);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
		rc = store_fail(st, err, "read zones");
	store_done(&q);
	return rc;
}

int store_bstate_heal(struct store *st, const char *backend, const char *domain,
                      enum store_heal mode, const char *why, struct zd_err *err)
{
	struct store_q q;
	int rc;

	if ((rc = store_prep(st, ST_HEAL, &q, err)) != 0)
		return rc;
	store_bind_text(q.s, 1, backend);
	store_bind_text(q.s, 2, domain);
	sqlite3_bind_int(q.s, 3, (int)mode);
	store_bind_text(q.s, 4, why ? why : "");
	sqlite3_bind_int64(q.s, 5, time_now());
	if (sqlite3_step(q.s) != SQLITE_DONE)
		rc = store_fail(st, err, "mark for healing");
	else if (sqlite3_changes(st->db) == 0)
		rc = zd_err_set(err, ZD_ENOENT, "backend %s never saw %s", backend, domain);
	store_done(&q);
	return rc;
}

/* (added for secondary.c) */
struct sqlite3 *store_sqlite(struct store *st)
{
	return st->db;
}
