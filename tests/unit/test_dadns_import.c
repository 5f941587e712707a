/* test_dadns_import.c -- directdnsonly 2.x app.yml into zonedrop.yml: every converted key,
 * the environment's two spellings, refusals, notes; the datastore rows into spool items */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "zonedrop/config.h"
#include "zonedrop/dadns_import.h"
#include "zonedrop/spool.h"
#include "tap.h"

static struct dadns_conf conv;

static int convert(const char *yml, const char *const *env, size_t nenv)
{
	struct dadns_opts o;
	struct zd_err err;
	int rc;

	dadns_conf_free(&conv);
	memset(&o, 0, sizeof o);
	o.source_name = "app.yml";
	o.secrets_dir = "/etc/zonedrop";
	o.env = env;
	o.nenv = nenv;
	rc = dadns_convert(yml, strlen(yml), &o, &conv, &err);
	if (rc != 0)
		printf("# convert: %s\n", err.msg);
	return rc;
}

static int has(const char *s)
{
	return conv.yaml != NULL && strstr(conv.yaml, s) != NULL;
}

static int noted(const char *s)
{
	size_t i;

	for (i = 0; i < conv.nnotes; i++)
		if (strstr(conv.notes[i], s) != NULL)
			return 1;
	return 0;
}

/* the generated text loads with zonedrop's own config loader */
static int loads(void)
{
	struct config *cfg = NULL;
	struct zd_err err;
	int rc = config_load_mem("generated", conv.yaml, strlen(conv.yaml), &cfg, &err);

	if (rc != 0)
		printf("# %s\n", err.msg);
	config_free(cfg);
	return rc == 0;
}

/* the hash in 'password_hash: "..."' after the line naming user verifies pw */
static int hash_ok(const char *user, const char *pw)
{
	char key[128], hash[256], *p, *q;
	struct crypt_data cd;
	const char *h;

	snprintf(key, sizeof key, "name: \"%s\"", user);
	if ((p = strstr(conv.yaml, key)) == NULL || (p = strstr(p, "password_hash: \"")) == NULL)
		return 0;
	p += 16;
	if ((q = strchr(p, '"')) == NULL || (size_t)(q - p) >= sizeof hash)
		return 0;
	memcpy(hash, p, (size_t)(q - p));
	hash[q - p] = '\0';
	memset(&cd, 0, sizeof cd);
	h = crypt_r(pw, hash, &cd);
	return h != NULL && strcmp(h, hash) == 0 && strncmp(hash, "$6$", 3) == 0;
}

static const char full[] =
	"log_level: TRACE\n"
	"timezone: Pacific/Auckland\n"
	"app:\n"
	"  auth_username: dauser\n"
	"  auth_password: \"p@ss word\"\n"
	"  listen_port: 2223\n"
	"  ssl_enable: true\n"
	"  ssl_cert: /etc/ssl/c.pem\n"
	"  ssl_key: /etc/ssl/k.pem\n"
	"  proxy_support: false\n"
	"  check_subdomain_owner_in_cluster_domainowners: 0\n"
	"datastore:\n"
	"  type: sqlite\n"
	"  db_location: /data/x.db\n"
	"dns:\n"
	"  backends:\n"
	"    b1:\n"
	"      type: bind\n"
	"      enabled: true\n"
	"      zones_dir: /var/lib/bind/ddo\n"
	"      named_conf: /etc/bind/named.conf.local\n"
	"    n1:\n"
	"      type: nsd\n"
	"      enabled: true\n"
	"    off:\n"
	"      type: nsd\n"
	"      enabled: false\n"
	"    weird:\n"
	"      type: powerdns\n"
	"      enabled: true\n"
	"    \"c.1\":\n"
	"      type: coredns_mysql\n"
	"      enabled: true\n"
	"      host: db.example.net\n"
	"      password: dbpw\n"
	"      table_name: rr\n"
	"reconciliation:\n"
	"  enabled: true\n"
	"  dry_run: false\n"
	"  verify_ssl: false\n"
	"  ipp: 500\n"
	"  directadmin_servers:\n"
	"    - {hostname: da1.example.net, port: 2222, username: admin, password: dapw, ssl: false}\n"
	"peer_sync:\n"
	"  enabled: true\n"
	"  interval_minutes: 5\n"
	"  auth_username: peersync\n"
	"  auth_password: peerpw\n"
	"  peers:\n"
	"    - {url: \"https://ns2.example.net:2222\", username: ps, password: p2}\n";

int main(void)
{
	char out[64], path[256], dir[] = "/tmp/zdtest-dadns.XXXXXX";
	struct spool_item it;
	struct zd_err err;
	int low, i;

	/* ---- a full file ---- */
	is_int(convert(full, NULL, 0), 0, "full app.yml converts");
	ok(!conv.refused, "nothing refused");
	ok(loads(), "the result loads with zonedrop's config loader");
	ok(has("log_level: debug\n"), "TRACE -> debug");
	ok(hash_ok("dauser", "p@ss word"), "receiver user with a SHA-512 hash of the app password");
	ok(!has("p@ss word") && !has("dapw") && !has("dbpw") && !has("p2\""), "no plain password in the YAML");
	ok(has("parent_exists: 2\n"), "check_subdomain_owner...: 0 -> parent_exists 2");
	ok(has("  b1:\n    type: bind\n    enabled: true\n    zones_dir: \"/var/lib/bind/ddo\"\n"
	       "    include_file: \"/etc/bind/named.conf.zonedrop\"\n    control: \"rndc\"\n"),
	   "bind backend; named.conf.local replaced by a file of its own");
	ok(noted("named.conf.local holds other configuration"), "...and the include line is asked for");
	ok(has("  n1:\n    type: nsd\n    enabled: true\n    zones_dir: \"/etc/nsd/zones\"\n"
	       "    include_file: \"/etc/nsd/nsd.conf.d/zones.conf\"\n    control: \"nsd-control\"\n"),
	   "nsd backend with directdnsonly's defaults");
	ok(!has("  off:") && noted("dns.backends.off: not enabled"), "a disabled backend is left out, with a note");
	ok(!has("weird") || noted("type \"powerdns\""), "unknown type ignored with a warning");
	ok(!has("  weird:"), "unknown type not written");
	ok(has("  c-1:\n    type: coredns_mysql\n") && noted("named c-1"), "coredns_mysql, name cleaned and noted");
	ok(has("    records_table: \"rr\"\n") && has("    user: \"coredns\"\n"), "table_name -> records_table");
	ok(has("password_file: \"/etc/zonedrop/coredns-c-1.pass\""), "coredns password into a file");
	is_str(conv.zones_dir, "/var/lib/bind/ddo", "the first enabled bind/nsd zones_dir is the text fallback");
	ok(has("reconcile:\n  dry_run: true\n"), "reconcile always dry_run");
	ok(noted("dry_run was false"), "...saying what directdnsonly had");
	ok(has("    - url: \"http://da1.example.net:2222\"\n      user: \"admin\"\n"
	       "      password_file: \"/etc/zonedrop/da-da1-example-net.pass\"\n      verify_tls: false\n"
	       "      hostname: \"da1.example.net\"\n      ipp: 500\n"), "DirectAdmin server entry");
	ok(hash_ok("peersync", "peerpw"), "peer user hashed");
	ok(has("    - url: \"https://ns2.example.net:2222\"\n      user: \"ps\"\n"
	       "      password_file: \"/etc/zonedrop/peer-ns2-example-net.pass\"\n"), "peer remote");
	ok(noted("OnUnitActiveSec=5min"), "peer interval hint");
	is_int(conv.nsecrets, 3, "three password files");
	for (i = 0; i < (int)conv.nsecrets; i++)
		if (strcmp(conv.secrets[i].path, "/etc/zonedrop/da-da1-example-net.pass") == 0)
			is_str(conv.secrets[i].value, "dapw", "the DA password goes to its file");
	ok(noted("ssl_certificate /etc/ssl/c.pem") && noted("listen 2223 ssl"), "TLS hint for the web server");
	ok(noted("timezone"), "timezone noted");
	is_str(conv.db_location, "/data/x.db", "db_location");
	is_str(conv.datastore_type, "sqlite", "datastore type");

	/* ---- defaults and refusals ---- */
	is_int(convert("app: {auth_username: x}\n", NULL, 0), 0, "minimal file converts");
	ok(conv.refused && noted("\"changeme\""), "the default password changeme is refused");
	is_int(convert("app: {auth_password: \"\"}\n", NULL, 0), 0, "empty password");
	ok(conv.refused && noted("empty"), "an empty password is refused");
	{
		const char *env[] = { "DADNS_APP_AUTH_PASSWORD=fromenv", "PATH=/bin" };

		is_int(convert("app: {auth_username: x}\n", env, 2), 0, "documented env spelling");
		ok(!conv.refused && hash_ok("x", "fromenv"), "DADNS_APP_AUTH_PASSWORD used");
		ok(noted("taken from DADNS_APP_AUTH_PASSWORD"), "...and said so");
	}
	{
		const char *env[] = { "DADNS.APP.AUTH.PASSWORD=dotted", "DADNS.LOG.LEVEL=ERROR" };

		is_int(convert("log_level: info\napp: {auth_password: filepw}\n", env, 2), 0, "dotted env spelling");
		ok(hash_ok("directdnsonly", "dotted"), "DADNS.APP.AUTH.PASSWORD wins over the file");
		ok(noted("app.auth_password: used DADNS.APP.AUTH.PASSWORD") && noted("values not shown"),
		   "the override is reported without values");
		ok(has("log_level: error\n"), "DADNS.LOG.LEVEL (dots for underscores too)");
	}
	is_int(convert("app: {auth_password: a}\nlog_level: info\n", NULL, 0), 0, "no backends");
	ok(has("backends:\n  {}\n") && noted("no enabled bind, nsd or coredns_mysql"), "empty backends noted");
	ok(loads(), "...and still loads");
	ok(has("  directadmin: []\n") && has("  remotes: []\n"), "no reconcile/peer sections: empty lists");
	is_str(conv.db_location, "data/directdns.db", "db_location default");
	{
		const char *env[] = { "DADNS_PEER_SYNC_PEER_URL=https://p0.example.net",
		                      "DADNS_PEER_SYNC_PEER_1_URL=https://p1.example.net",
		                      "DADNS_PEER_SYNC_PEER_1_PASSWORD=x1",
		                      "DADNS_PEER_SYNC_PEER_3_URL=https://p3.example.net" };

		is_int(convert("app: {auth_password: a}\npeer_sync: {enabled: true, auth_password: b, "
		               "peers: [{url: \"https://p0.example.net\", password: y}]}\n", env, 4), 0, "env peers");
		ok(has("https://p1.example.net") && !has("https://p3.example.net"), "numbered peers stop at the first gap");
		ok(strstr(strstr(conv.yaml, "p0.example.net") + 1, "p0.example.net") == NULL, "a listed URL is not added twice");
	}
	is_int(convert("peer_sync: {enabled: true}\napp: {auth_password: a}\n", NULL, 0), 0, "peer defaults");
	ok(conv.refused && noted("peer_sync.auth_password"), "peer password changeme refused when enabled");
	is_int(convert("datastore: {type: mysql}\napp: {auth_password: a}\n", NULL, 0), 0, "mysql datastore");
	ok(noted("only sqlite"), "mysql datastore noted");
	is_int(convert("- a\n- b\n", NULL, 0), ZD_ECONFIG, "a list is not an app.yml");
	is_int(convert("app: [\n", NULL, 0), ZD_ECONFIG, "broken YAML");
	is_int(convert("app: {auth_password: \"a\\\"b\\\\c\\nd\"}\n", NULL, 0), 0, "password with quotes");
	ok(loads() && hash_ok("directdnsonly", "a\"b\\c\nd"), "...hashed from the exact bytes");
	is_int(convert("dns: {backends: {n: {type: nsd, enabled: true, zones_dir: \"/a b\"}}}\n"
	               "app: {auth_password: a}\n", NULL, 0), 0, "odd path");
	ok(has("zones_dir: \"/a b\"") && loads(), "paths are quoted");
	is_int(convert("dns: {backends: {n: {type: nsd, enabled: true, zones_dir: \"/a\\nb\"}}}\n"
	               "app: {auth_password: a}\n", NULL, 0), 0, "path with a newline");
	ok(has("zones_dir: \"/a\\x0ab\"") && !loads(), "...escaped, so zonedrop's loader names it");

	/* ---- times ---- */
	is_int(dadns_time_iso("2026-01-02 03:04:05.123456", out, sizeof out), 0, "SQLAlchemy time");
	is_str(out, "2026-01-02T03:04:05.123456Z", "...as the spool's ISO time");
	is_int(dadns_time_iso("2026-01-02 03:04:05", out, sizeof out), 0, "no fraction");
	is_str(out, "2026-01-02T03:04:05.000000Z", "...zero microseconds");
	is_int(dadns_time_iso("2026-01-02 03:04:05.5", out, sizeof out), 0, "short fraction");
	is_str(out, "2026-01-02T03:04:05.500000Z", "...scaled");
	is_int(dadns_time_iso("2026-01-02", out, sizeof out), ZD_EINVAL, "date alone refused");
	is_int(dadns_time_iso("yesterday", out, sizeof out), ZD_EINVAL, "text refused");
	is_int(dadns_time_iso("2026-01-02 03:04:05+02:00", out, sizeof out), ZD_EINVAL, "offset refused");

	/* ---- rows ---- */
	{
		const char *zone = "$ORIGIN example.org.\r\n$TTL 300\r\n@ IN SOA ns1.example.org. h.example.org. "
		                   "5 3600 600 86400 300\r\n@ IN NS ns1.example.org.\r\n";
		struct dadns_row r = { "Example.ORG", "da1.example.net", "bob", zone, "2026-01-02 03:04:05" };

		is_int(dadns_row_item(&r, NULL, &it, &low, &err), 0, "row -> item");
		is_str(it.domain, "example.org", "domain lower-cased");
		ok(low, "...and flagged");
		is_str(it.source, "cli", "Source: cli");
		is_str(it.hostname, "da1.example.net", "Hostname");
		is_str(it.username, "bob", "Username");
		is_str(it.changed, "2026-01-02T03:04:05.000000Z", "Changed from zone_updated_at");
		ok(it.action == SPOOL_RAWSAVE && strchr(it.text, '\r') == NULL, "rawsave with LF line ends");
		spool_item_clear(&it);
		r.domain = "bad_name.org";
		is_int(dadns_row_item(&r, NULL, &it, &low, &err), ZD_EINVAL, "an invalid name is skipped");
		r.domain = "example.org.";
		is_int(dadns_row_item(&r, NULL, &it, &low, &err), ZD_EINVAL, "a trailing dot is skipped");
		r.domain = "example.org";
		r.username = "bad user";
		is_int(dadns_row_item(&r, NULL, &it, &low, &err), ZD_EINVAL, "a bad username is skipped");
		r.username = "";
		r.zone_data = "$TTL 300\n@ IN SOA ns1.other.org. h.other.org. 5 1 1 1 1\nwww.other.org. IN A 192.0.2.1\n";
		is_int(dadns_row_item(&r, NULL, &it, &low, &err), ZD_EINVAL, "an out-of-zone record is refused");
		ok(strstr(err.msg, "zone refused") != NULL, "...as a zone check: %s", err.msg);
		r.zone_data = NULL;
		is_int(dadns_row_item(&r, NULL, &it, &low, &err), ZD_EINVAL, "NULL zone_data and no zones_dir");
		ok(strstr(err.msg, "no zone text") != NULL, "...no zone text");

		/* the fallback file and the datastore */
		ok(mkdtemp(dir) != NULL, "temp dir");
		snprintf(path, sizeof path, "%s/example.org.db", dir);
		{
			FILE *fp = fopen(path, "w");

			fputs(zone, fp);
			fclose(fp);
		}
		r.updated = "";
		is_int(dadns_row_item(&r, dir, &it, &low, &err), 0, "NULL zone_data: <zones_dir>/<domain>.db");
		is_str(it.changed, "", "no time: no Changed header");
		spool_item_clear(&it);

		{
			sqlite3 *db;
			char dbp[300], found[256] = "", sub[300];
			struct cb { int n; char first[256]; } cbd = { 0, "" };
			int count_rows(const struct dadns_row *row, void *arg);

			snprintf(dbp, sizeof dbp, "%s/ddo.db", dir);
			ok(sqlite3_open(dbp, &db) == SQLITE_OK, "make a datastore");
			/* the older layout first, then the migration's ALTER TABLEs (column order) */
			ok(sqlite3_exec(db, "CREATE TABLE domains (id INTEGER PRIMARY KEY, domain VARCHAR(255) UNIQUE,"
			                " hostname VARCHAR(255), username VARCHAR(255));"
			                "CREATE TABLE keys (id INTEGER PRIMARY KEY, key VARCHAR(255));"
			                "INSERT INTO domains VALUES (2, 'b.example', NULL, NULL);"
			                "ALTER TABLE domains ADD COLUMN zone_updated_at DATETIME;"
			                "ALTER TABLE domains ADD COLUMN zone_data TEXT;"
			                "INSERT INTO domains VALUES (1, 'a.example', 'h', 'u', '2026-01-01 00:00:00', 'x');",
			                NULL, NULL, NULL) == SQLITE_OK, "schema with migrated columns");
			sqlite3_close(db);
			is_int(dadns_db_each(dbp, count_rows, &cbd, &err), 0, "walk the datastore");
			is_int(cbd.n, 2, "two rows");
			is_str(cbd.first, "a.example|h|u|x|2026-01-01 00:00:00", "columns by name, id order");
			ok(chmod(dbp, 0400) == 0, "read-only file");
			is_int(dadns_db_each(dbp, count_rows, &cbd, &err), 0, "read-only datastore is fine");
			snprintf(sub, sizeof sub, "%s/none.db", dir);
			ok(dadns_db_each(sub, count_rows, &cbd, &err) == ZD_EDB && access(sub, F_OK) != 0,
			   "a missing datastore is an error and is not created");
			snprintf(sub, sizeof sub, "%s/app.yml", dir);
			is_int(dadns_db_resolve("ddo.db", sub, found, sizeof found, &err), 0, "relative to app.yml's dir");
			ok(strstr(found, "/ddo.db") != NULL, "...%s", found);
			snprintf(sub, sizeof sub, "%s/config", dir);
			ok(mkdir(sub, 0755) == 0, "a config/ dir as in the Docker image");
			snprintf(sub, sizeof sub, "%s/config/app.yml", dir);
			is_int(dadns_db_resolve("ddo.db", sub, found, sizeof found, &err), 0, "relative to its parent (Docker)");
			is_int(dadns_db_resolve("nope.db", sub, found, sizeof found, &err), ZD_ENOENT, "none found");
			ok(strstr(err.msg, "tried") != NULL, "...naming where it looked");
			unlink(dbp);
			snprintf(sub, sizeof sub, "%s/config", dir);
			rmdir(sub);
		}
		unlink(path);
		rmdir(dir);
	}
	dadns_conf_free(&conv);
	return tap_done();
}

int count_rows(const struct dadns_row *row, void *arg)
{
	struct { int n; char first[256]; } *c = arg;

	if (c->n++ == 0)
		snprintf(c->first, sizeof c->first, "%s|%s|%s|%s|%s", row->domain, row->hostname, row->username,
		         row->zone_data ? row->zone_data : "NULL", row->updated);
	return 0;
}
