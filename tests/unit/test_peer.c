/* test_peer.c -- the pull rule, the peer answers' parsers, export.db upkeep (peer.c, peer_export.c) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tap.h"
#include "zonedrop/config.h"
#include "zonedrop/peer.h"
#include "zonedrop/peer_export.h"
#include "zonedrop/spool.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"

#define NOW ((int64_t)1800000000 * 1000000)   /* 2027-01-15 */
#define SEC ((int64_t)1000000)

static struct peer_local L(int held, int present, uint32_t serial, int64_t changed, const char *sha)
{
	struct peer_local l;

	memset(&l, 0, sizeof l);
	l.held = held;
	l.present = present;
	l.serial = serial;
	l.changed_us = changed;
	str_copy(l.sha256, sha ? sha : "", sizeof l.sha256);
	return l;
}

static struct peer_entry R(int present, uint32_t serial, int64_t changed, const char *sha)
{
	struct peer_entry e;

	memset(&e, 0, sizeof e);
	str_copy(e.domain, "example.com", sizeof e.domain);
	e.present = present;
	e.serial = serial;
	e.changed_us = changed;
	str_copy(e.sha256, sha ? sha : "", sizeof e.sha256);
	return e;
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

#define DECIDE(l, r, want, ...) do { struct peer_local l_ = l; struct peer_entry r_ = r; \
	is_str(peer_verdict_name(peer_decide(&l_, &r_, NOW)), peer_verdict_name(want), __VA_ARGS__); \
} while (0)

static void test_rule(void)
{
	int64_t t = NOW - 3600 * SEC;

	/* serials */
	DECIDE(L(0, 0, 0, 0, NULL), R(1, 5, t, SHA_A), PEER_PULL, "a zone we never held is pulled");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 6, t - SEC, SHA_B), PEER_PULL, "newer serial wins, even with an older time");
	DECIDE(L(1, 1, 6, t, SHA_A), R(1, 5, t + SEC, SHA_B), PEER_KEEP, "older serial loses, even with a later time");
	DECIDE(L(1, 1, 0xfffffff0u, t, SHA_A), R(1, 5, t, SHA_B), PEER_PULL, "RFC 1982: 5 is newer than 0xfffffff0 (wrap)");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 0xfffffff0u, t, SHA_B), PEER_KEEP, "RFC 1982: 0xfffffff0 is older than 5");
	DECIDE(L(1, 1, 0, t, SHA_A), R(1, 0x80000000u, t, SHA_B), PEER_UNDEFINED, "serials 2^31 apart are not ordered");
	DECIDE(L(1, 1, 1, t, SHA_A), R(1, 0x80000000u, t, SHA_B), PEER_PULL, "2^31 - 1 ahead is newer");
	DECIDE(L(1, 1, 0x80000001u, t, SHA_A), R(1, 0, t, SHA_B), PEER_PULL, "0 is newer than 2^31 + 1 (wrap)");
	/* equal serials: times */
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 5, t + SEC, SHA_B), PEER_PULL, "equal serial: later changed wins");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 5, t - SEC, SHA_B), PEER_KEEP, "equal serial: earlier changed loses");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 5, t + SEC, SHA_A), PEER_KEEP, "equal serial, same text: nothing to do");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 5, t, SHA_B), PEER_CONFLICT, "equal serial and time, other text: conflict");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 5, t, SHA_A), PEER_KEEP, "equal everything: nothing to do");
	DECIDE(L(1, 1, 5, t, NULL), R(1, 5, t, SHA_B), PEER_KEEP, "equal serial and time, our hash unknown: keep");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 5, NOW + 301 * SEC, SHA_B), PEER_SUSPECT, "changed 301 s ahead: suspect");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 5, NOW + 300 * SEC, SHA_B), PEER_PULL, "changed 300 s ahead: still trusted");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 6, NOW + 86400 * SEC, SHA_B), PEER_SUSPECT, "a newer serial with a future time is not trusted either");
	DECIDE(L(1, 1, 5, t, SHA_A), R(1, 4, NOW + 86400 * SEC, SHA_B), PEER_KEEP, "a losing entry with a future time is just kept");
	DECIDE(L(0, 0, 0, 0, NULL), R(1, 5, NOW + 86400 * SEC, SHA_B), PEER_SUSPECT, "a new zone with a future time: suspect");
	/* tombstones */
	DECIDE(L(1, 1, 5, t, SHA_A), R(0, 5, t - SEC, NULL), PEER_DELETE, "tombstone beats present with the same serial (even older time)");
	DECIDE(L(1, 1, 4, t, SHA_A), R(0, 5, t, NULL), PEER_DELETE, "tombstone beats present with an older serial");
	DECIDE(L(1, 1, 6, t, SHA_A), R(0, 5, t + SEC, NULL), PEER_KEEP, "present with a newer serial beats a tombstone");
	DECIDE(L(1, 0, 5, t, NULL), R(1, 5, t + SEC, SHA_B), PEER_KEEP, "our tombstone beats a present zone with the same serial");
	DECIDE(L(1, 0, 5, t, NULL), R(1, 4, t + SEC, SHA_B), PEER_KEEP, "our tombstone beats an older serial (no resurrection)");
	DECIDE(L(1, 0, 5, t, NULL), R(1, 6, t - SEC, SHA_B), PEER_PULL, "a newer serial beats our tombstone (re-created)");
	DECIDE(L(0, 0, 0, 0, NULL), R(0, 5, t, NULL), PEER_KEEP, "a tombstone for a zone we never held: nothing");
	DECIDE(L(1, 0, 3, t, NULL), R(0, 5, t, NULL), PEER_KEEP, "deleted on both sides: nothing");
	DECIDE(L(1, 1, 5, t, SHA_A), R(0, 5, NOW + 3600 * SEC, NULL), PEER_SUSPECT, "a tombstone from the future: suspect");
	DECIDE(L(1, 1, 0, t, SHA_A), R(0, 0x80000000u, t, NULL), PEER_UNDEFINED, "tombstone 2^31 apart: undefined");
}

static void test_time(void)
{
	int64_t us = 0;

	ok(peer_time_parse("2026-11-23T01:02:03.456789Z", &us) == 0 && us == (int64_t)1795395723 * SEC + 456789,
	   "RFC 3339 with microseconds");
	ok(peer_time_parse("2026-11-23T01:02:03Z", &us) == 0 && us == (int64_t)1795395723 * SEC, "without fraction");
	ok(peer_time_parse("2026-11-23T01:02:03.5Z", &us) == 0 && us % SEC == 500000, "one fraction digit");
	ok(peer_time_parse("2026-11-23T01:02:03.123456789Z", &us) == 0 && us % SEC == 123456, "nine digits, cut to us");
	ok(peer_time_parse("2026-11-23T01:02:03.1234567890Z", &us) != 0, "ten digits refused");
	ok(peer_time_parse("2026-11-23T01:02:03.Z", &us) != 0, "empty fraction refused");
	ok(peer_time_parse("2026-11-23T01:02:03+00:00", &us) != 0, "offsets refused (UTC Z only)");
	ok(peer_time_parse("2026-02-31T01:02:03Z", &us) != 0, "31 February refused");
	ok(peer_time_parse("2026-11-23 01:02:03Z", &us) != 0, "space instead of T refused");
	ok(peer_time_parse("2026-11-23T01:02:03Zjunk", &us) != 0, "trailing junk refused");
	ok(peer_time_parse("", &us) != 0 && peer_time_parse(NULL, &us) != 0, "empty and NULL refused");
}

static int line(const char *s, struct peer_entry *e, int *tr, uint64_t *n)
{
	struct zd_err err = { 0 };
	int rc = peer_list_line(s, strlen(s), e, tr, n, &err);

	if (rc != 0)
		printf("# refused: %s\n", err.msg);
	return rc;
}

static void test_list(void)
{
	struct peer_entry e;
	uint64_t n = 99;
	int tr = -1;
	char big[PEER_LINE_MAX + 64];

	ok(line("{\"domain\":\"example.com\",\"state\":\"present\",\"serial\":2026112301,"
	        "\"changed\":\"2026-11-23T01:02:03.456789Z\",\"hostname\":\"da1.example.net\","
	        "\"username\":\"alice\",\"sha256\":\"" SHA_A "\"}", &e, &tr, &n) == 0 && tr == 0 &&
	   e.present && e.serial == 2026112301u && strcmp(e.hostname, "da1.example.net") == 0 &&
	   strcmp(e.username, "alice") == 0 && strcmp(e.sha256, SHA_A) == 0, "a present entry");
	ok(line("{\"domain\":\"gone.example\",\"state\":\"deleted\",\"serial\":4294967295,"
	        "\"changed\":\"2026-11-24T08:00:00.000000Z\"}", &e, &tr, &n) == 0 && !e.present &&
	   e.serial == 4294967295u, "a tombstone, serial 2^32-1");
	ok(line("{\"end\":true,\"count\":2}", &e, &tr, &n) == 0 && tr == 1 && n == 2, "the trailer");
	ok(line("{\"end\":false,\"count\":2}", &e, &tr, &n) != 0, "end:false refused");
	ok(line("{\"end\":true,\"count\":-1}", &e, &tr, &n) != 0, "negative count refused");
	ok(line("{\"end\":true,\"count\":1,\"x\":1}", &e, &tr, &n) != 0, "trailer with more keys refused");
	ok(line("{\"domain\":\"gone.example\",\"state\":\"deleted\",\"serial\":4294967296,"
	        "\"changed\":\"2026-11-24T08:00:00Z\"}", &e, &tr, &n) != 0, "serial 2^32 refused");
	ok(line("{\"domain\":\"gone.example\",\"state\":\"deleted\",\"serial\":\"5\","
	        "\"changed\":\"2026-11-24T08:00:00Z\"}", &e, &tr, &n) != 0, "serial as a string refused");
	ok(line("{\"domain\":\"../etc/passwd\",\"state\":\"deleted\",\"serial\":5,"
	        "\"changed\":\"2026-11-24T08:00:00Z\"}", &e, &tr, &n) != 0, "a path as domain refused");
	ok(line("{\"domain\":\"Example.com\",\"state\":\"deleted\",\"serial\":5,"
	        "\"changed\":\"2026-11-24T08:00:00Z\"}", &e, &tr, &n) != 0, "upper case refused");
	ok(line("{\"domain\":\"a.example\",\"state\":\"gone\",\"serial\":5,"
	        "\"changed\":\"2026-11-24T08:00:00Z\"}", &e, &tr, &n) != 0, "unknown state refused");
	ok(line("{\"domain\":\"a.example\",\"state\":\"deleted\",\"serial\":5,"
	        "\"changed\":\"tomorrow\"}", &e, &tr, &n) != 0, "bad time refused");
	ok(line("{\"domain\":\"a.example\",\"state\":\"present\",\"serial\":5,"
	        "\"changed\":\"2026-11-24T08:00:00Z\",\"sha256\":\"" SHA_A "\",\"username\":\"a b\"}",
	        &e, &tr, &n) != 0, "bad username refused");
	ok(line("{\"domain\":\"a.example\",\"state\":\"present\",\"serial\":5,"
	        "\"changed\":\"2026-11-24T08:00:00Z\",\"sha256\":\"" SHA_A "\",\"hostname\":\"a\\nb\"}",
	        &e, &tr, &n) != 0, "newline in hostname refused");
	ok(line("{\"domain\":\"a.example\",\"state\":\"present\",\"serial\":5,"
	        "\"changed\":\"2026-11-24T08:00:00Z\",\"sha256\":\"ABC\"}", &e, &tr, &n) != 0,
	   "short sha256 refused");
	ok(line("{\"domain\":\"a.example\",\"domain\":\"b.example\",\"state\":\"deleted\",\"serial\":5,"
	        "\"changed\":\"2026-11-24T08:00:00Z\"}", &e, &tr, &n) != 0, "duplicate keys refused");
	ok(line("[1,2]", &e, &tr, &n) != 0, "an array refused");
	ok(line("<html>", &e, &tr, &n) != 0, "HTML refused");
	ok(line("", &e, &tr, &n) != 0, "an empty line refused");
	memset(big, ' ', sizeof big);
	big[sizeof big - 1] = '\0';
	ok(line(big, &e, &tr, &n) != 0, "an over-long line refused");
}

static void test_zone(void)
{
	const char *text = "$TTL 300\n@ IN SOA ns1.a.example. h.a.example. ( 5 1 1 1 1 )\n";
	char sha[PEER_SHA256_HEX], buf[2048], *t = NULL, *b64;
	struct peer_entry e;
	struct zd_err err = { 0 };
	size_t tl = 0;

	peer_sha256_hex("abc", 3, sha);
	is_str(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(abc)");
	peer_sha256_hex(text, strlen(text), sha);
	snprintf(buf, sizeof buf, "{\"domain\":\"a.example\",\"state\":\"present\",\"serial\":5,"
	         "\"changed\":\"2026-11-24T08:00:00Z\",\"sha256\":\"%s\",\"zone\":\"$TTL 300\\n@ IN SOA "
	         "ns1.a.example. h.a.example. ( 5 1 1 1 1 )\\n\"}", sha);
	ok(peer_zone_parse(buf, strlen(buf), "a.example", &e, &t, &tl, &err) == 0 && t != NULL &&
	   tl == strlen(text) && memcmp(t, text, tl) == 0, "a zone answer");
	free(t);
	t = NULL;
	ok(peer_zone_parse(buf, strlen(buf), "b.example", &e, &t, &tl, &err) != 0 && t == NULL,
	   "an answer for another domain refused");
	buf[strlen(buf) - 5] = 'X';   /* the text changes, the hash does not */
	ok(peer_zone_parse(buf, strlen(buf), "a.example", &e, &t, &tl, &err) != 0 && t == NULL &&
	   strstr(err.msg, "sha256") != NULL, "a text not matching its sha256 refused");
	/* Latin-1 bytes travel as base64 */
	b64 = peer_b64_encode("caf\xe9\n", 5);
	is_str(b64, "Y2Fm6Qo=", "base64 of Latin-1 text");
	peer_sha256_hex("caf\xe9\n", 5, sha);
	snprintf(buf, sizeof buf, "{\"domain\":\"a.example\",\"state\":\"present\",\"serial\":5,"
	         "\"changed\":\"2026-11-24T08:00:00Z\",\"sha256\":\"%s\",\"zone_base64\":\"%s\"}", sha, b64);
	ok(peer_zone_parse(buf, strlen(buf), "a.example", &e, &t, &tl, &err) == 0 && tl == 5 &&
	   memcmp(t, "caf\xe9\n", 5) == 0, "zone_base64 decoded");
	free(t);
	t = NULL;
	free(b64);
	snprintf(buf, sizeof buf, "{\"domain\":\"a.example\",\"state\":\"present\",\"serial\":5,"
	         "\"changed\":\"2026-11-24T08:00:00Z\",\"sha256\":\"%s\"}", sha);
	ok(peer_zone_parse(buf, strlen(buf), "a.example", &e, &t, &tl, &err) != 0, "no zone text refused");
	snprintf(buf, sizeof buf, "{\"domain\":\"a.example\",\"state\":\"deleted\",\"serial\":5,"
	         "\"changed\":\"2026-11-24T08:00:00Z\"}");
	ok(peer_zone_parse(buf, strlen(buf), "a.example", &e, &t, &tl, &err) == 0 && t == NULL &&
	   !e.present, "a tombstone answer");
	ok(peer_zone_parse("{", 1, "a.example", &e, &t, &tl, &err) != 0, "truncated JSON refused");
}

/* export.db follows state.db through the change log, and repairs lag */
static int64_t q_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void put(struct store *st, const char *d, int present, uint32_t serial, const char *text)
{
	struct store_zone z;
	struct zd_err err = { 0 };

	memset(&z, 0, sizeof z);
	str_copy(z.domain, d, sizeof z.domain);
	z.present = present;
	z.serial = serial;
	z.gen = 1;
	z.updated = time_now();
	str_copy(z.changed, "2026-11-24T08:00:00.000000Z", sizeof z.changed);
	z.text = (char *)text;
	z.text_len = text ? strlen(text) : 0;
	store_begin(st, &err);
	store_zone_put(st, &z, &err);
	store_commit(st, &err);
}

static void test_export(void)
{
	char dir[] = "/tmp/zd-test-peer.XXXXXX", path[ZD_PATH_MAX], cmd[ZD_PATH_MAX + 16];
	struct config cfg;
	struct config_user u = { "peer", NULL, "pw" };
	struct peer_export_stats px;
	struct store *st = NULL;
	struct zd_err err = { 0 };
	struct stat sb;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.state_dir = dir;
	cfg.peers.tombstone_days = 30;
	cfg.peers.users = &u;
	cfg.peers.nusers = 1;
	snprintf(path, sizeof path, "%s/export.db", dir);
	ok(store_open(dir, 0, &st, &err) == 0, "state.db");
	put(st, "a.example", 1, 1, "text a\n");
	ok(peer_export_update(&cfg, &px, &err) == 0 && px.rebuilt && px.zones == 1,
	   "first run builds export.db in full (%s)", err.msg);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "export.db is mode 0640");
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *q = NULL;
		char mode[16] = "";
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW)
			str_copy(mode, (const char *)sqlite3_column_text(q, 0), sizeof mode);
		sqlite3_finalize(q);
		sqlite3_close(db);
		is_str(mode, "delete", "export.db is in rollback-journal mode (the CGI needs no write access)");
	}
	put(st, "b.example", 1, 7, "text b\n");
	put(st, "a.example", 0, 1, NULL);
	ok(peer_export_update(&cfg, &px, &err) == 0 && !px.rebuilt && px.zones == 2,
	   "then incrementally: the two changed zones only");
	is_int(q_int(path, "SELECT serial FROM zones WHERE domain = 'b.example'"), 7, "b exported");
	is_int(q_int(path, "SELECT present FROM zones WHERE domain = 'a.example'"), 0, "a is a tombstone");
	is_int(q_int(path, "SELECT COUNT(*) FROM zone_text WHERE domain = 'a.example'"), 0, "no text for a tombstone");
	snprintf(cmd, sizeof cmd, "%s/state.db", dir);
	is_int(q_int(cmd, "SELECT COUNT(*) FROM export_log"), 0, "the change log is trimmed");
	ok(peer_export_update(&cfg, &px, &err) == 0 && !px.rebuilt && px.zones == 0, "no change: nothing written");
	/* a lost export.db (or one restored from elsewhere) is rebuilt */
	unlink(path);
	ok(peer_export_update(&cfg, &px, &err) == 0 && px.rebuilt && px.zones == 2, "missing export.db rebuilt");
	{
		sqlite3 *db = NULL;
		sqlite3_open(path, &db);
		sqlite3_exec(db, "UPDATE meta SET value = 'other' WHERE key = 'export_state_id'", 0, 0, 0);
		sqlite3_close(db);
	}
	ok(peer_export_update(&cfg, &px, &err) == 0 && px.rebuilt, "export.db of another state.db rebuilt");
	/* an export behind state.db's position (restored from an old copy) is rebuilt */
	{
		sqlite3 *db = NULL;
		put(st, "c.example", 1, 3, "text c\n");
		ok(peer_export_update(&cfg, &px, &err) == 0 && !px.rebuilt, "c exported");
		sqlite3_open(path, &db);
		sqlite3_exec(db, "UPDATE meta SET value = '0' WHERE key = 'export_log_id'", 0, 0, 0);
		sqlite3_close(db);
		ok(peer_export_update(&cfg, &px, &err) == 0 && px.rebuilt, "an export behind state.db rebuilt");
	}
	/* old tombstones leave the export */
	{
		struct store_zone z;
		memset(&z, 0, sizeof z);
		store_zone_get(st, "a.example", 0, &z, &err);
		z.updated = time_now() - 31 * 86400;
		store_begin(st, &err);
		store_zone_put(st, &z, &err);
		store_commit(st, &err);
		ok(peer_export_update(&cfg, &px, &err) == 0 && px.purged == 1, "a tombstone older than tombstone_days is purged");
		is_int(q_int(path, "SELECT COUNT(*) FROM zones WHERE domain = 'a.example'"), 0, "a gone from the export");
	}
	/* no peers.users: no export, no log */
	cfg.peers.nusers = 0;
	ok(peer_export_update(&cfg, &px, &err) == 0 && access(path, F_OK) != 0, "without peers.users export.db goes");
	is_int(q_int(cmd, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'export_log%'"), 0, "and so do the log and triggers");
	store_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* the spool's Serial: header (peer deletes carry the tombstone's serial) */
static void test_spool_serial(void)
{
	struct spool_item it, back;
	struct zd_err err = { 0 };
	char hdr[SPOOL_HEADER_MAX + 1];
	size_t len = 0;

	memset(&it, 0, sizeof it);
	it.action = SPOOL_DELETE;
	str_copy(it.domain, "gone.example", sizeof it.domain);
	str_copy(it.source, "peer", sizeof it.source);
	str_copy(it.received, "2026-11-24T08:00:00.000000Z", sizeof it.received);
	str_copy(it.changed, "2026-11-23T08:00:00.000000Z", sizeof it.changed);
	str_copy(it.serial, "4294967295", sizeof it.serial);
	ok(spool_header_format(&it, hdr, sizeof hdr, &len) == 0 && strstr(hdr, "\nSerial: 4294967295\n") != NULL,
	   "Serial: written");
	ok(spool_item_parse(hdr, len, &back, &err) == 0 && strcmp(back.serial, "4294967295") == 0,
	   "Serial: read back");
	spool_item_clear(&back);
	ok(spool_item_parse("Action: delete\nDomain: a.example\nSource: peer\nReceived: "
	                    "2026-11-24T08:00:00Z\nSerial: 4294967296\n\n", 90, &back, &err) != 0,
	   "Serial: 2^32 refused");
	spool_item_clear(&back);
	ok(spool_item_parse("Action: delete\nDomain: a.example\nSource: peer\nReceived: "
	                    "2026-11-24T08:00:00Z\nSerial: -1\n\n", 82, &back, &err) != 0,
	   "Serial: -1 refused");
	spool_item_clear(&back);
}

int main(void)
{
	test_spool_serial();
	test_rule();
	test_time();
	test_list();
	test_zone();
	test_export();
	return tap_done();
}
