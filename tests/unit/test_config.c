/* test_config.c -- zonedrop.yml: the DESIGN.md example, defaults, every error kind with FILE:LINE:COL, printing */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/config.h"
#include "zonedrop/log.h"

/* DESIGN.md's configuration block, verbatim */
static const char design_example[] =
"spool_dir: /var/spool/zonedrop      # tmp/ new/ cur/ bad/\n"
"state_dir: /var/lib/zonedrop        # state.db and whatever else the tools keep\n"
"log_level: info\n"
"receiver:\n"
"  users:                            # Basic-auth accounts (DirectAdmin, peers)\n"
"    - name: directdnsonly\n"
"      password_hash: \"$6$...\"       # crypt(3); `zonedrop passwd` prints one\n"
"    - name: test\n"
"      password: \"plain-text\"        # accepted for development and tests\n"
"  allow_from: [127.0.0.1/32, 203.0.113.0/24]   # optional\n"
"  max_body: 4194304\n"
"  parent_exists: 3                  # 3 (DA >= 1.59: hostname+username) or 2\n"
"user: zonedrop                      # optional: tools started as root switch to it\n"
"verify_timeout: 30s\n"
"backends:\n"
"  nsd1:\n"
"    type: nsd                        # nsd | bind | knot | powerdns_mysql | coredns_mysql\n"
"    enabled: true\n"
"    zones_dir: /var/lib/zonedrop/nsd\n"
"    include_file: /etc/nsd/nsd.conf.d/zonedrop.conf\n"
"    control: \"nsd-control -c /etc/nsd/nsd.conf\"\n"
"  bind1:\n"
"    type: bind\n"
"    zones_dir: /var/lib/zonedrop/bind\n"
"    include_file: /etc/bind/named.conf.zonedrop\n"
"    control: \"rndc -s 127.0.0.1 -p 953\"\n"
"  knot1:\n"
"    type: knot\n"
"    zones_dir: /var/lib/zonedrop/knot\n"
"    control: \"knotc -s /run/knot/knot.sock\"\n"
"  pdns_dc1:\n"
"    type: powerdns_mysql\n"
"    host: 127.0.0.1\n"
"    port: 3306\n"
"    database: pdns\n"
"    user: pdns\n"
"    password_file: /etc/zonedrop/pdns.pass\n"
"    tls: {ca_file: /etc/ssl/certs/ca-certificates.crt, verify: true}   # optional\n"
"    api_url: http://127.0.0.1:8081   # optional: PowerDNS API for cache flushes\n"
"    api_key_file: /etc/zonedrop/pdns-api.key\n"
"    control: \"pdns_control\"          # optional: local PowerDNS only\n"
"  coredns_dc1:\n"
"    type: coredns_mysql              # same connection keys as powerdns_mysql\n"
"    host: 127.0.0.1\n"
"    database: coredns\n"
"    user: coredns\n"
"    password_file: /etc/zonedrop/coredns.pass\n"
"    zones_table: zones               # defaults as in PROTOCOL.md section 9\n"
"    records_table: records\n"
"  # every backend may also name `verify: 127.0.0.1@53` — where to query it\n"
"retry:\n"
"  schedule: [30s, 2m, 5m, 15m, 30m]\n"
"reconcile:\n"
"  dry_run: true                     # report orphans, delete nothing\n"
"  max_deletes: 5%                   # per DA server and run: percent or count\n"
"  directadmin:\n"
"    - url: https://da1.example.net:2222\n"
"      user: admin\n"
"      password_file: /etc/zonedrop/da1.pass\n"
"      verify_tls: true\n"
"      hostname: da1.example.net     # what it sends as hostname= (default: URL host)\n"
"      ipp: 1000                     # listing page size\n"
"peers:\n"
"  tombstone_days: 30                # how long deletes are remembered for peers\n"
"  users:                            # who may read /internal/zones from us\n"
"    - name: peersync\n"
"      password_hash: \"$6$...\"\n"
"  remotes:                          # whom zonedrop-peersync asks\n"
"    - url: https://ns2.example.net:2222\n"
"      user: peersync\n"
"      password_file: /etc/zonedrop/ns2.pass\n"
"secondary:\n"
"  zones_file: /etc/zonedrop/secondary.zones   # \"domain master[:port] [tsig-key]\" per line\n"
"  refresh_min: 60s                  # clamp the SOA refresh/retry timers\n"
"  refresh_max: 1d\n"
"  concurrency: 256                  # SOA queries in flight\n"
"  withdraw_expired: false           # true: an expired zone is deleted from backends\n"
"  tsig_keys:\n"
"    - name: xfr-key\n"
"      algorithm: hmac-sha256\n"
"      secret_file: /etc/zonedrop/xfr-key.secret\n";

static char *tmp_paths[256];
static int ntmp;

/* text into a fresh /tmp file; the path lives until the end of main */
static const char *write_tmp(const char *text)
{
	char path[] = "/tmp/zd-test-config.XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror("mkstemp/write");
		exit(1);
	}
	close(fd);
	tmp_paths[ntmp] = strdup(path);
	return tmp_paths[ntmp++];
}

static struct config *load_ok(const char *text, const char *what)
{
	struct config *cfg = NULL;
	struct zd_err err;
	int rc;

	zd_err_clear(&err);
	rc = config_load(write_tmp(text), &cfg, &err);
	ok(rc == 0 && cfg != NULL, "loads: %s", what);
	if (rc != 0)
		printf("#   %s\n", err.msg);
	return cfg;
}

/* text must fail with ZD_ECONFIG at line:col and a message containing want */
static void load_fails(const char *text, int line, int col, const char *want, const char *what)
{
	struct config *cfg = NULL;
	struct zd_err err;
	char prefix[128];
	const char *path = write_tmp(text);
	int rc, good;

	zd_err_clear(&err);
	rc = config_load(path, &cfg, &err);
	snprintf(prefix, sizeof prefix, "%s:%d:%d: ", path, line, col);
	good = rc == ZD_ECONFIG && cfg == NULL && strncmp(err.msg, prefix, strlen(prefix)) == 0 &&
	       strstr(err.msg, want) != NULL && strchr(err.msg, '\n') == NULL;
	ok(good, "refused at %d:%d: %s", line, col, what);
	if (!good)
		printf("#   rc %d, msg '%s', want prefix '%s' and '%s'\n", rc, err.msg, prefix, want);
	config_free(cfg);
}

static char *print_str(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	if (config_print(fp, cfg) != 0)
		buf = NULL;
	fclose(fp);
	return buf;
}

static void count_warning(const char *msg, void *arg)
{
	char *seen = arg;

	if (strstr(msg, "receiver.users is empty") != NULL)
		seen[0] = 1;
	if (strstr(msg, "plain-text password") != NULL)
		seen[1] = 1;
	if (strstr(msg, "no enabled backend") != NULL)
		seen[2] = 1;
	if (strchr(msg, '\n') != NULL)
		seen[3] = 1;
}

static const char nsd_min[] =
"backends:\n"
"  nsd1:\n"
"    type: nsd\n"
"    zones_dir: /z\n"
"    include_file: /etc/nsd/zd.conf\n"
"    control: nsd-control\n";

static void test_design_example(void)
{
	struct config *cfg = load_ok(design_example, "the DESIGN.md example");
	const struct config_backend *be;
	char a[INET6_ADDRSTRLEN];

	if (cfg == NULL)
		return;
	is_str(cfg->spool_dir, "/var/spool/zonedrop", "spool_dir");
	is_str(cfg->state_dir, "/var/lib/zonedrop", "state_dir");
	is_int(cfg->log_level, LOG_INFO, "log_level info");
	is_str(cfg->user, "zonedrop", "user");
	is_int(cfg->verify_timeout_ms, 30000, "verify_timeout 30s");
	is_int(cfg->receiver.nusers, 2, "two receiver users");
	is_str(cfg->receiver.users[0].name, "directdnsonly", "user 0 name");
	is_str(cfg->receiver.users[0].password_hash, "$6$...", "user 0 hash");
	ok(cfg->receiver.users[0].password == NULL, "user 0 has no plain password");
	is_str(cfg->receiver.users[1].password, "plain-text", "user 1 plain password");
	is_int(cfg->receiver.nallow_from, 2, "two allow_from entries");
	is_int(cfg->receiver.allow_from[0].family, AF_INET, "allow_from[0] IPv4");
	is_int(cfg->receiver.allow_from[1].prefix, 24, "allow_from[1] /24");
	inet_ntop(AF_INET, cfg->receiver.allow_from[1].addr, a, sizeof a);
	is_str(a, "203.0.113.0", "allow_from[1] address");
	is_int(cfg->receiver.max_body, 4194304, "max_body");
	is_int(cfg->receiver.parent_exists, 3, "parent_exists");
	is_int(cfg->nbackends, 5, "five backends");

	be = config_backend_find(cfg, "nsd1");
	ok(be != NULL && be->type == BACKEND_NSD && be->enabled, "nsd1 is an enabled nsd");
	if (be != NULL) {
		is_str(be->zones_dir, "/var/lib/zonedrop/nsd", "nsd1 zones_dir");
		is_str(be->include_file, "/etc/nsd/nsd.conf.d/zonedrop.conf", "nsd1 include_file");
		is_str(be->control, "nsd-control -c /etc/nsd/nsd.conf", "nsd1 control");
		is_str(be->verify_host, "127.0.0.1", "verify default host");
		is_int(be->verify_port, 53, "verify default port");
		is_int(be->verify_set, 0, "verify not given");
		is_int(be->line, 16, "nsd1 defined on line 16");
	}
	be = config_backend_find(cfg, "knot1");
	ok(be != NULL && be->type == BACKEND_KNOT && be->include_file == NULL, "knot1 without include_file");
	be = config_backend_find(cfg, "pdns_dc1");
	ok(be != NULL && be->type == BACKEND_POWERDNS_MYSQL, "pdns_dc1 type");
	if (be != NULL) {
		is_str(be->host, "127.0.0.1", "pdns host");
		is_int(be->port, 3306, "pdns port");
		is_str(be->database, "pdns", "pdns database");
		is_str(be->user, "pdns", "pdns user");
		is_str(be->password_file, "/etc/zonedrop/pdns.pass", "pdns password_file");
		ok(be->tls_set && be->tls_verify, "pdns tls given, verify on");
		is_str(be->tls_ca_file, "/etc/ssl/certs/ca-certificates.crt", "pdns tls ca_file");
		is_str(be->api_url, "http://127.0.0.1:8081", "pdns api_url");
		is_str(be->api_key_file, "/etc/zonedrop/pdns-api.key", "pdns api_key_file");
		is_str(be->control, "pdns_control", "pdns control");
		ok(be->zones_table == NULL, "no zones_table on powerdns");
	}
	be = config_backend_find(cfg, "coredns_dc1");
	ok(be != NULL && be->type == BACKEND_COREDNS_MYSQL, "coredns_dc1 type");
	if (be != NULL) {
		is_int(be->port, 3306, "coredns default port");
		is_str(be->zones_table, "zones", "coredns zones_table");
		is_str(be->records_table, "records", "coredns records_table");
		is_int(be->tls_set, 0, "coredns without tls");
	}
	ok(config_backend_find(cfg, "nope") == NULL, "unknown backend not found");
	is_int(cfg->retry.nschedule, 5, "five retry steps");
	if (cfg->retry.nschedule == 5) {
		is_int(cfg->retry.schedule_ms[1], 120000, "retry step 2m");
		is_int(cfg->retry.schedule_ms[4], 1800000, "retry step 30m");
	}
	is_int(cfg->reconcile.dry_run, 1, "dry_run");
	ok(cfg->reconcile.max_deletes_percent && cfg->reconcile.max_deletes == 5.0, "max_deletes 5%%");
	is_int(cfg->reconcile.ndirectadmin, 1, "one DA server");
	if (cfg->reconcile.ndirectadmin == 1) {
		is_str(cfg->reconcile.directadmin[0].url, "https://da1.example.net:2222", "DA url");
		is_str(cfg->reconcile.directadmin[0].hostname, "da1.example.net", "DA hostname");
		is_int(cfg->reconcile.directadmin[0].ipp, 1000, "DA ipp");
		is_int(cfg->reconcile.directadmin[0].verify_tls, 1, "DA verify_tls");
	}
	is_int(cfg->peers.tombstone_days, 30, "tombstone_days");
	is_int(cfg->peers.nusers, 1, "one peer user");
	is_int(cfg->peers.nremotes, 1, "one peer remote");
	if (cfg->peers.nremotes == 1)
		is_str(cfg->peers.remotes[0].password_file, "/etc/zonedrop/ns2.pass", "remote password_file");
	is_str(cfg->secondary.zones_file, "/etc/zonedrop/secondary.zones", "secondary zones_file");
	is_int(cfg->secondary.refresh_min_ms, 60000, "refresh_min");
	is_int(cfg->secondary.refresh_max_ms, 86400000, "refresh_max");
	is_int(cfg->secondary.concurrency, 256, "concurrency");
	is_int(cfg->secondary.withdraw_expired, 0, "withdraw_expired");
	is_int(cfg->secondary.ntsig_keys, 1, "one TSIG key");
	if (cfg->secondary.ntsig_keys == 1)
		is_str(cfg->secondary.tsig_keys[0].algorithm, "hmac-sha256", "TSIG algorithm");
	config_free(cfg);
}

static void test_defaults(void)
{
	struct config *cfg;
	const struct config_backend *be;

	cfg = load_ok("", "an empty file");
	if (cfg != NULL) {
		is_str(cfg->spool_dir, "/var/spool/zonedrop", "default spool_dir");
		is_str(cfg->state_dir, "/var/lib/zonedrop", "default state_dir");
		is_int(cfg->log_level, LOG_INFO, "default log_level");
		ok(cfg->user == NULL, "no user by default");
		is_int(cfg->verify_timeout_ms, 30000, "default verify_timeout");
		is_int(cfg->receiver.nusers, 0, "no users by default");
		is_int(cfg->receiver.nallow_from, 0, "allow_from empty: everyone");
		is_int(cfg->receiver.max_body, 4194304, "default max_body");
		is_int(cfg->receiver.parent_exists, 3, "default parent_exists");
		is_int(cfg->nbackends, 0, "no backends");
		is_int(cfg->retry.nschedule, 5, "default retry schedule has 5 steps");
		if (cfg->retry.nschedule == 5)
			ok(cfg->retry.schedule_ms[0] == 30000 && cfg->retry.schedule_ms[1] == 120000 &&
			   cfg->retry.schedule_ms[2] == 300000 && cfg->retry.schedule_ms[3] == 900000 &&
			   cfg->retry.schedule_ms[4] == 1800000, "default schedule 30s 2m 5m 15m 30m");
		ok(cfg->reconcile.dry_run == 1 && cfg->reconcile.max_deletes_percent == 1 &&
		   cfg->reconcile.max_deletes == 5.0, "default dry_run, 5%%");
		is_int(cfg->peers.tombstone_days, 30, "default tombstone_days");
		ok(cfg->secondary.zones_file == NULL, "no secondary zones file");
		ok(cfg->secondary.refresh_min_ms == 60000 && cfg->secondary.refresh_max_ms == 86400000 &&
		   cfg->secondary.concurrency == 256 && cfg->secondary.withdraw_expired == 0,
		   "secondary defaults");
		config_free(cfg);
	}
	cfg = load_ok("# only a comment\n---\n", "a comment and a document start");
	config_free(cfg);
	cfg = load_ok("receiver:\nbackends:\nretry:\n", "empty sections");
	if (cfg != NULL)
		is_int(cfg->retry.nschedule, 5, "empty retry: keeps the default schedule");
	config_free(cfg);

	cfg = load_ok("log_level: debug\nverify_timeout: 1500ms\nretry: {schedule: [1s, 2s]}\n"
	              "reconcile: {max_deletes: 12, dry_run: no}\n", "overrides");
	if (cfg != NULL) {
		is_int(cfg->log_level, LOG_DEBUG, "log_level debug");
		is_int(cfg->verify_timeout_ms, 1500, "verify_timeout 1500ms");
		is_int(cfg->retry.nschedule, 2, "schedule of 2");
		ok(cfg->reconcile.max_deletes_percent == 0 && cfg->reconcile.max_deletes == 12,
		   "max_deletes as a count");
		is_int(cfg->reconcile.dry_run, 0, "dry_run: no");
	}
	config_free(cfg);

	cfg = load_ok("backends:\n"
	              "  b-1_x:\n    type: bind\n    enabled: false\n    zones_dir: /z\n"
	              "    include_file: /i\n    control: \"rndc -k '/etc/bind/a key'\"\n"
	              "    verify: \"::1@5353\"\n"
	              "  k:\n    type: knot\n    zones_dir: /z\n    control: knotc\n"
	              "    verify: 192.0.2.1\n"
	              "  pd:\n    type: powerdns_mysql\n    host: db\n    database: pdns\n    user: u\n"
	              "    tls: {}\n",
	              "backend variants");
	if (cfg != NULL) {
		be = config_backend_find(cfg, "b-1_x");
		ok(be != NULL && !be->enabled, "enabled: false");
		if (be != NULL) {
			is_str(be->verify_host, "::1", "IPv6 verify host");
			is_int(be->verify_port, 5353, "verify port");
			is_int(be->verify_set, 1, "verify given");
		}
		be = config_backend_find(cfg, "k");
		if (be != NULL) {
			is_str(be->verify_host, "192.0.2.1", "verify without port");
			is_int(be->verify_port, 53, "port 53 by default");
		}
		be = config_backend_find(cfg, "pd");
		ok(be != NULL && be->tls_set && be->tls_verify && be->tls_ca_file == NULL,
		   "tls: {} means verify with the system CAs");
		ok(be != NULL && be->password_file == NULL, "password_file optional");
	}
	config_free(cfg);

	cfg = load_ok("reconcile:\n  directadmin:\n    - url: https://DA2.Example.NET:2222/\n"
	              "      user: admin\n      password_file: /p\n", "DA hostname from the URL");
	if (cfg != NULL && cfg->reconcile.ndirectadmin == 1)
		is_str(cfg->reconcile.directadmin[0].hostname, "da2.example.net", "hostname lower-cased");
	config_free(cfg);
	cfg = load_ok("reconcile:\n  directadmin:\n    - url: https://[2001:db8::1]:2222\n"
	              "      hostname: da3.example.net\n      user: admin\n      password_file: /p\n",
	              "DA URL with an IPv6 address and a hostname");
	config_free(cfg);
	cfg = load_ok("receiver:\n  allow_from: [\"::1\", 2001:db8::/32, 10.1.2.3, 0.0.0.0/0]\n",
	              "allow_from IPv6 and bare addresses");
	if (cfg != NULL && cfg->receiver.nallow_from == 4) {
		ok(cfg->receiver.allow_from[0].family == AF_INET6 && cfg->receiver.allow_from[0].prefix == 128,
		   "::1 is /128");
		is_int(cfg->receiver.allow_from[1].prefix, 32, "2001:db8::/32");
		is_int(cfg->receiver.allow_from[2].prefix, 32, "bare IPv4 is /32");
		is_int(cfg->receiver.allow_from[3].prefix, 0, "0.0.0.0/0");
	}
	config_free(cfg);
}

static void test_errors(void)
{
	struct config *cfg = NULL;
	struct zd_err err;
	int rc;

	/* unknown keys */
	load_fails("spool_dir: /s\nno_such_key: 1\n", 2, 1, "unknown key 'no_such_key'", "unknown top key");
	load_fails("receiver:\n  max_body: 10\n  maxbody: 10\n", 3, 3, "receiver: unknown key 'maxbody'",
	           "unknown nested key");
	load_fails("backends:\n  n:\n    type: nsd\n    zone_dir: /z\n", 4, 5,
	           "backends.n: unknown key 'zone_dir'", "unknown backend key");
	load_fails("receiver:\n  users:\n    - name: a\n      password: b\n      pasword: c\n", 5, 7,
	           "receiver.users[0]: unknown key 'pasword'", "unknown user key");
	/* duplicates */
	load_fails("log_level: info\nlog_level: debug\n", 2, 1, "duplicate key 'log_level'", "duplicate key");
	load_fails("backends:\n  a:\n    type: knot\n    type: knot\n", 4, 5, "duplicate key 'type'",
	           "duplicate key in a backend");
	load_fails("receiver:\n  users:\n    - {name: a, password: x}\n    - {name: a, password_hash: $y$x}\n",
	           4, 7, "name 'a' is already used by receiver.users[0]", "duplicate user names");
	load_fails("backends:\n  a: {type: knot, zones_dir: /z, control: knotc}\n"
	           "  a: {type: knot, zones_dir: /z, control: knotc}\n", 3, 3, "duplicate backend 'a'",
	           "duplicate backend names");
	load_fails("secondary:\n  tsig_keys:\n    - {name: k, secret_file: /a}\n    - {name: k, secret_file: /b}\n",
	           4, 7, "name 'k' is already used", "duplicate TSIG key names");
	/* wrong types */
	load_fails("receiver: 5\n", 1, 11, "receiver: expected a mapping, found a value", "value for a mapping");
	load_fails("spool_dir:\n  a: b\n", 2, 3, "spool_dir: expected a value, found a mapping",
	           "mapping for a value");
	load_fails("receiver:\n  allow_from: {a: b}\n", 2, 15, "expected a list, found a mapping",
	           "mapping for a list");
	load_fails("receiver:\n  users: [a]\n", 2, 11, "receiver.users[0]: expected a mapping, found a value",
	           "value for a list item");
	load_fails("retry:\n  schedule: 30s\n", 2, 13, "expected a list, found a value", "value for a list");
	load_fails("- a\n- b\n", 1, 1, "expected a mapping of keys at the top, found a list", "top-level list");
	load_fails("receiver:\n  max_body: lots\n", 2, 13, "receiver.max_body: 'lots'", "text for a number");
	load_fails("backends:\n  n:\n    type: nsd\n    enabled: maybe\n", 4, 14, "is not true or false",
	           "bad boolean");
	load_fails("spool_dir:\n", 1, 11, "spool_dir: no value", "null value");
	load_fails("spool_dir: \"\"\n", 1, 12, "must not be empty", "empty string");
	load_fails("spool_dir: \"/a\\0b\"\n", 1, 12, "NUL byte", "NUL byte in a value");
	load_fails("spool_dir: \"/a\\nb\"\n", 1, 12, "control character", "newline in a value");
	load_fails("? [a]\n: b\n", 1, 3, "keys must be plain strings", "a list as a key");
	/* out of range */
	load_fails("receiver:\n  parent_exists: 4\n", 2, 18, "must be 2 or 3", "parent_exists 4");
	load_fails("receiver:\n  max_body: 0\n", 2, 13, "from 1 to", "max_body 0");
	load_fails("verify_timeout: 2h\n", 1, 17, "is not from 1s to 1h", "verify_timeout too long");
	load_fails("verify_timeout: 10 s\n", 1, 17, "is not a duration", "duration with a space");
	load_fails("retry:\n  schedule: [30s, 0s]\n", 2, 19, "retry.schedule[1]: '0s' is not from 1s to 7d",
	           "zero retry step");
	load_fails("retry:\n  schedule: []\n", 2, 13, "at least one step", "empty schedule");
	load_fails("log_level: loud\n", 1, 12, "is not error, warning, info or debug", "bad log level");
	load_fails("receiver:\n  parent_exists: 03\n", 2, 18, "must be 2 or 3", "leading zero");
	load_fails("peers:\n  tombstone_days: -1\n", 2, 19, "from 1 to 3650", "negative number");
	load_fails("reconcile:\n  max_deletes: 101%\n", 2, 16, "percentage", "over 100%");
	load_fails("reconcile:\n  max_deletes: five\n", 2, 16, "percentage", "max_deletes text");
	load_fails("secondary:\n  refresh_min: 2h\n  refresh_max: 1h\n", 2, 3,
	           "refresh_min is larger than refresh_max", "refresh_min > refresh_max");
	load_fails("secondary:\n  tsig_keys:\n    - {name: k, algorithm: hmac-sha3, secret_file: /s}\n", 3, 28,
	           "is not one of hmac-md5", "unknown TSIG algorithm");
	load_fails("receiver:\n  allow_from: [10.0.0.1/8]\n", 2, 16, "bits set past the prefix",
	           "host bits set");
	load_fails("receiver:\n  allow_from: [10.0.0.0/33]\n", 2, 16, "not an address", "prefix too long");
	load_fails("receiver:\n  allow_from: [example.com]\n", 2, 16, "not an address", "name in allow_from");
	/* backends: types, names, required keys */
	load_fails("backends:\n  n:\n    zones_dir: /z\n", 2, 3, "backends.n: missing key 'type'", "no type");
	load_fails("backends:\n  n:\n    type: djbdns\n", 3, 11, "is not nsd, bind, knot", "unknown type");
	load_fails("backends:\n  n:\n    type: nsd\n    zones_dir: /z\n    control: nsd-control\n", 2, 3,
	           "backends.n: missing key 'include_file'", "nsd without include_file");
	load_fails("backends:\n  n:\n    type: bind\n    include_file: /i\n    control: rndc\n", 2, 3,
	           "missing key 'zones_dir'", "bind without zones_dir");
	load_fails("backends:\n  n:\n    type: knot\n    zones_dir: /z\n", 2, 3, "missing key 'control'",
	           "knot without control");
	load_fails("backends:\n  p:\n    type: powerdns_mysql\n    database: d\n    user: u\n", 2, 3,
	           "backends.p: missing key 'host'", "powerdns without host");
	load_fails("backends:\n  p:\n    type: coredns_mysql\n    host: h\n    user: u\n", 2, 3,
	           "missing key 'database'", "coredns without database");
	load_fails("backends:\n  p:\n    type: coredns_mysql\n    host: h\n    database: d\n", 2, 3,
	           "missing key 'user'", "coredns without user");
	load_fails("backends:\n  n:\n    type: nsd\n    host: db\n", 4, 5, "not used by a backend of type nsd",
	           "a MySQL key on nsd");
	load_fails("backends:\n  p:\n    type: powerdns_mysql\n    zones_table: z\n", 4, 5,
	           "not used by a backend of type powerdns_mysql", "zones_table on powerdns");
	load_fails("backends:\n  p:\n    type: coredns_mysql\n    host: h\n    database: d\n    user: u\n"
	           "    zones_table: \"z; drop\"\n", 7, 18, "a table name is", "SQL in a table name");
	load_fails("backends:\n  p:\n    type: powerdns_mysql\n    host: h\n    database: d\n    user: u\n"
	           "    api_url: http://127.0.0.1:8081\n", 7, 5, "api_url and api_key_file go together",
	           "api_url without api_key_file");
	load_fails("backends:\n  p:\n    type: powerdns_mysql\n    host: h\n    database: d\n    user: u\n"
	           "    port: 70000\n", 7, 11, "from 1 to 65535", "port out of range");
	load_fails("backends:\n  bad name:\n    type: nsd\n", 2, 3, "backend name 'bad name' must be",
	           "backend name with a space");
	load_fails("backends:\n  abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd:\n"
	           "    type: nsd\n", 2, 3, "must be 1-63", "backend name of 64 characters");
	load_fails("backends:\n  n:\n", 2, 3, "backends.n: expected a mapping, found nothing",
	           "backend without keys");
	load_fails("backends:\n  n:\n    type: knot\n    zones_dir: /z\n    control: \"knotc '\"\n", 5, 14,
	           "unclosed quote", "control with an open quote");
	load_fails("backends:\n  n:\n    type: knot\n    zones_dir: /z\n    control: knotc\n"
	           "    verify: localhost@53\n", 6, 13, "is not ADDRESS or ADDRESS@PORT", "verify by name");
	load_fails("backends:\n  n:\n    type: knot\n    zones_dir: /z\n    control: knotc\n"
	           "    verify: 127.0.0.1@0\n", 6, 13, "ADDRESS@PORT", "verify port 0");
	/* paths */
	load_fails("spool_dir: var/spool\n", 1, 12, "must be an absolute path", "relative spool_dir");
	load_fails("state_dir: ./state\n", 1, 12, "must be an absolute path", "relative state_dir");
	load_fails("backends:\n  n:\n    type: nsd\n    zones_dir: zones\n", 4, 16, "backends.n.zones_dir",
	           "relative zones_dir");
	load_fails("backends:\n  n:\n    type: nsd\n    include_file: \"/a\\\"b\"\n", 4, 19, "cannot contain",
	           "quote in a path");
	load_fails("reconcile:\n  directadmin:\n    - url: https://da\n      user: a\n"
	           "      password_file: da.pass\n", 5, 22, "must be an absolute path",
	           "relative password_file");
	/* users */
	load_fails("receiver:\n  users:\n    - name: a\n      password: x\n      password_hash: $6$x\n", 3, 7,
	           "give password_hash or password, not both", "both password kinds");
	load_fails("receiver:\n  users:\n    - name: a\n", 3, 7, "missing key 'password_hash'", "no password");
	load_fails("peers:\n  users:\n    - password: x\n", 3, 7, "peers.users[0]: missing key 'name'",
	           "user without a name");
	load_fails("receiver:\n  users:\n    - name: \"a:b\"\n      password: x\n", 3, 13, "cannot contain ':'",
	           "colon in a user name");
	load_fails("receiver:\n  users:\n    - name: a\n      password: \"\"\n", 4, 17, "must not be empty",
	           "empty password");
	/* URLs and lists of servers */
	load_fails("peers:\n  remotes:\n    - url: ftp://x\n      user: u\n      password_file: /p\n", 3, 12,
	           "must start with http:// or https://", "ftp URL");
	load_fails("peers:\n  remotes:\n    - url: https://u:p@x/\n      user: u\n      password_file: /p\n", 3,
	           12, "no credentials in URLs", "credentials in a URL");
	load_fails("reconcile:\n  directadmin:\n    - {url: \"https://a\", user: u, password_file: /p, hostname: A.B}\n",
	           3, 64, "lower-case host name", "upper-case DA hostname");
	load_fails("reconcile:\n  directadmin:\n    - {url: \"https://[2001:db8::1]:2222\", user: u, password_file: /p}\n",
	           3, 8, "hostname (from url): '2001:db8::1' is not a lower-case host name",
	           "DA URL with an IPv6 address and no hostname");
	load_fails("peers:\n  remotes:\n    - {url: \"https://a b/\", user: u, password_file: /p}\n", 3, 13,
	           "is not a URL with a host", "space in a URL");
	load_fails("peers:\n  remotes:\n    - {url: \"https://a:99999999/\", user: u, password_file: /p}\n", 3, 13,
	           "is not a URL with a host", "long port in a URL");
	/* YAML itself */
	load_fails("receiver:\n  users: [\n", 3, 1, "YAML", "unclosed flow list");
	load_fails("a: b\n  c: d\n", 2, 4, "YAML", "bad indentation");
	load_fails("spool_dir: /a\n\x01\n", 2, 1, "not UTF-8 text", "control byte in the file");
	load_fails("spool_dir: /a\n---\nspool_dir: /b\n", 2, 1, "more than one YAML document", "two documents");
	load_fails("x: &a /s\nspool_dir: *a\n", 2, 12, "aliases (*a) are not supported", "alias");
	load_fails("receiver: &r\n  users: *r\n", 2, 10, "aliases (*r) are not supported", "recursive alias");
	load_fails("backends:\n  n: &n {type: knot, zones_dir: /z, control: knotc}\n  m: *n\n", 3, 6,
	           "aliases (*n)", "alias for a backend");

	/* not readable */
	zd_err_clear(&err);
	rc = config_load("/nonexistent/zonedrop.yml", &cfg, &err);
	ok(rc == ZD_EIO && cfg == NULL && strstr(err.msg, "/nonexistent/zonedrop.yml") != NULL &&
	   err.sys_errno != 0, "missing file: ZD_EIO naming the file");
	rc = config_load("/tmp", &cfg, &err);
	ok(rc == ZD_EIO && cfg == NULL, "a directory: ZD_EIO");
	rc = config_load_mem("mem", "a: [", 4, &cfg, &err);
	ok(rc == ZD_ECONFIG && strncmp(err.msg, "mem:", 4) == 0, "config_load_mem names its input: %s",
	   err.msg);
}

static void test_print(void)
{
	struct config *cfg, *again = NULL;
	struct zd_err err;
	char *out, *out2;
	char seen[4] = { 0, 0, 0, 0 };
	int n;

	cfg = load_ok(design_example, "the DESIGN.md example, for printing");
	if (cfg == NULL)
		return;
	out = print_str(cfg);
	ok(out != NULL, "config_print works");
	if (out == NULL) {
		config_free(cfg);
		return;
	}
	ok(strstr(out, "plain-text") == NULL, "plain password masked");
	ok(strstr(out, "$6$...") == NULL, "password_hash masked");
	ok(strstr(out, "password: \"********\"") != NULL && strstr(out, "password_hash: \"********\"") != NULL,
	   "masks shown as ********");
	ok(strstr(out, "spool_dir: /var/spool/zonedrop\n") != NULL, "spool_dir printed plain");
	ok(strstr(out, "  schedule: [30s, 2m, 5m, 15m, 30m]\n") != NULL, "retry schedule printed");
	ok(strstr(out, "  allow_from: [127.0.0.1/32, 203.0.113.0/24]\n") != NULL, "allow_from printed");
	ok(strstr(out, "    verify: 127.0.0.1@53\n") != NULL, "default verify printed");
	ok(strstr(out, "  max_deletes: \"5%\"\n") != NULL, "max_deletes printed as a percentage");
	ok(strstr(out, "    control: \"nsd-control -c /etc/nsd/nsd.conf\"\n") != NULL, "control quoted");
	ok(strstr(out, "    - name: directdnsonly\n      password_hash:") != NULL, "list items with '- '");
	ok(strstr(out, "    tls:\n      ca_file: /etc/ssl/certs/ca-certificates.crt\n      verify: true\n") != NULL,
	   "tls block printed");
	ok(strstr(out, "  refresh_max: 1d\n") != NULL, "durations printed in their unit");
	/* what it prints loads again and prints the same */
	n = config_load_mem("printed", out, strlen(out), &again, &err);
	ok(n == 0, "the printed config loads again%s%s", n ? ": " : "", n ? err.msg : "");
	if (n == 0) {
		out2 = print_str(again);
		ok(out2 != NULL && strcmp(strchr(out, '\n'), strchr(out2, '\n')) == 0,
		   "and prints the same (round trip)");
		free(out2);
	}
	config_free(again);
	free(out);

	n = config_warnings(cfg, count_warning, seen);
	ok(n >= 1 && seen[1] && !seen[0] && !seen[2] && !seen[3], "warnings: plain-text password (%d)", n);
	config_free(cfg);

	cfg = load_ok("", "empty, for warnings");
	if (cfg != NULL) {
		memset(seen, 0, sizeof seen);
		n = config_warnings(cfg, count_warning, seen);
		ok(n == 2 && seen[0] && seen[2], "warnings: no users, no backend");
		out = print_str(cfg);
		ok(out != NULL && strstr(out, "  users: []\n") != NULL && strstr(out, "backends: {}\n") != NULL,
		   "empty lists printed as [] and {}");
		ok(out != NULL && strstr(out, "\nuser:") == NULL, "unset user not printed");
		free(out);
	}
	config_free(cfg);
	cfg = load_ok(nsd_min, "minimal nsd backend");
	if (cfg != NULL) {
		out = print_str(cfg);
		ok(out != NULL && strstr(out, "port:") == NULL && strstr(out, "tls:") == NULL,
		   "MySQL keys not printed for nsd");
		free(out);
	}
	config_free(cfg);
}

/* the shipped example must load, and warn only about its placeholder-free parts */
static void test_example_file(void)
{
	struct config *cfg = NULL;
	struct zd_err err;
	const struct config_backend *be;
	int rc;

	if (access("examples/zonedrop.yml", R_OK) != 0) {
		ok(1, "# skip examples/zonedrop.yml not found (run from the source tree)");
		return;
	}
	rc = config_load("examples/zonedrop.yml", &cfg, &err);
	ok(rc == 0, "examples/zonedrop.yml loads%s%s", rc ? ": " : "", rc ? err.msg : "");
	if (cfg == NULL)
		return;
	be = config_backend_find(cfg, "nsd1");
	ok(be != NULL && be->enabled && be->type == BACKEND_NSD, "example: nsd1 enabled");
	ok(cfg->reconcile.dry_run && cfg->reconcile.ndirectadmin == 0 && cfg->peers.nusers == 0,
	   "example: reconcile dry run, no DA servers, no peer accounts");
	ok(cfg->receiver.nusers == 1 && cfg->receiver.users[0].password == NULL,
	   "example: one receiver user, no plain password");
	config_free(cfg);
}

static void test_misc(void)
{
	is_str(config_path("/x.yml"), "/x.yml", "config_path: -c wins");
	setenv("ZONEDROP_CONFIG", "/env.yml", 1);
	is_str(config_path(NULL), "/env.yml", "config_path: then $ZONEDROP_CONFIG");
	setenv("ZONEDROP_CONFIG", "", 1);
	is_str(config_path(NULL), CONFIG_DEFAULT_PATH, "config_path: empty variable ignored");
	unsetenv("ZONEDROP_CONFIG");
	is_str(config_path(NULL), CONFIG_DEFAULT_PATH, "config_path: else the default");
	is_str(config_backend_type_name(BACKEND_KNOT), "knot", "type name knot");
	is_str(config_backend_type_name(BACKEND_COREDNS_MYSQL), "coredns_mysql", "type name coredns_mysql");
	is_str(config_backend_type_name((enum backend_type)0), "?", "type name of nonsense");
	config_free(NULL);
	ok(1, "config_free(NULL) is a no-op");
}

/* refresh2: secondary.per_master and secondary.query_timeout */
static void test_secondary_limits(void)
{
	struct config *cfg;
	char *out;

	cfg = load_ok("", "secondary limits: defaults");
	if (cfg != NULL) {
		is_int(cfg->secondary.per_master, 16, "default per_master 16");
		is_int(cfg->secondary.query_timeout_ms, 1500, "default query_timeout 1500ms");
		out = print_str(cfg);
		ok(out != NULL && strstr(out, "per_master: 16") != NULL &&
		   strstr(out, "query_timeout: 1500ms") != NULL, "printed with the effective config");
		free(out);
	}
	config_free(cfg);
	cfg = load_ok("secondary:\n  concurrency: 8\n", "concurrency below the default per_master");
	if (cfg != NULL)
		is_int(cfg->secondary.per_master, 16, "per_master default kept (capped at run time)");
	config_free(cfg);
	cfg = load_ok("secondary:\n  concurrency: 1024\n  per_master: 64\n  query_timeout: 3s\n",
	              "secondary limits set");
	if (cfg != NULL) {
		is_int(cfg->secondary.per_master, 64, "per_master 64");
		is_int(cfg->secondary.query_timeout_ms, 3000, "query_timeout 3s");
	}
	config_free(cfg);
	load_fails("secondary:\n  per_master: 0\n", 2, 15, "from 1 to 4096", "per_master 0");
	load_fails("secondary:\n  per_master: many\n", 2, 15, "secondary.per_master", "per_master text");
	load_fails("secondary:\n  concurrency: 32\n  per_master: 64\n", 3, 3,
	           "per_master (64) is larger than concurrency (32)", "per_master > concurrency");
	load_fails("secondary:\n  query_timeout: 50ms\n", 2, 18, "is not from 100ms to 1m",
	           "query_timeout too short");
	load_fails("secondary:\n  query_timeout: 2m\n", 2, 18, "is not from 100ms to 1m",
	           "query_timeout too long");
	load_fails("secondary:\n  query_timeout: soon\n", 2, 18, "is not a duration",
	           "query_timeout text");
}

int main(void)
{
	int i;

	test_design_example();
	test_defaults();
	test_errors();
	test_print();
	test_example_file();
	test_misc();
	test_secondary_limits();
	for (i = 0; i < ntmp; i++) {
		unlink(tmp_paths[i]);
		free(tmp_paths[i]);
	}
	return tap_done();
}
