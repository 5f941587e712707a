/* test_backend_bind.c -- the bind backend against a fake rndc and a fake named:
 * which rndc commands a batch sends, the include it writes, names that must
 * never reach it, refused zones, named down, a reload of a zone named lacks, a
 * zone named already has from elsewhere (a real named is in tests/e2e/80-bind.bats).
 *
 * The fake rndc keeps what "named" has loaded in DIR/loaded/<zone> (the serial),
 * changing it only as named would: reconfig adds/drops zones by the include but
 * reloads no file; reload ZONE re-reads one file; reload re-reads all; delzone
 * unloads. A fake DNS server answers SOA queries from DIR/loaded, so the
 * backend's own verification tells whether the right commands were sent. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "tap.h"
#include "zonedrop/backend.h"
#include "zonedrop/util.h"

static char dir[128], zones[256], inc[256], ctl[1024], logf[256], modef[256];

static const char fake_rndc[] =
	"#!/bin/sh\n"
	"d=$1; shift\n"
	"echo \"$*\" >> \"$d/log\"\n"
	"mode=$(cat \"$d/mode\" 2>/dev/null)\n"
	"if [ \"$mode\" = down ]; then echo 'rndc: connect failed: 127.0.0.1#953: connection refused'; exit 1; fi\n"
	"serial() { awk '$3 == \"SOA\" { print $6; exit }' \"$d/zones/$1.zone\" 2>/dev/null; }\n"
	"listed() { sed -n 's/^zone \"\\([^\"]*\\)\".*/\\1/p' \"$d/zonedrop.conf\" 2>/dev/null; }\n"
	"sync_conf() {  # $1 = 1: re-read every file\n"
	"  listed > \"$d/want\"\n"
	"  for f in \"$d\"/loaded/*; do [ -e \"$f\" ] || continue; z=${f##*/}\n"
	"    grep -qx \"$z\" \"$d/want\" || rm -f \"$f\"; done\n"
	"  while read -r z; do\n"
	"    if [ ! -e \"$d/loaded/$z\" ] || [ \"$1\" = 1 ]; then s=$(serial \"$z\"); [ -n \"$s\" ] && echo \"$s\" > \"$d/loaded/$z\"; fi\n"
	"  done < \"$d/want\"\n"
	"}\n"
	"case $1 in\n"
	"reconfig)\n"
	"  if [ \"$mode\" = conflict ] && listed | grep -qxf \"$d/exists\"; then\n"
	"    echo \"rndc: 'reconfig' failed: failure\"; exit 1; fi\n"
	"  sync_conf 0 ;;\n"
	"reload)\n"
	"  if [ -z \"$2\" ]; then sync_conf 1; echo 'server reload successful'; exit 0; fi\n"
	"  if [ ! -e \"$d/loaded/$2\" ]; then echo \"rndc: 'reload' failed: not found\";\n"
	"    echo \"no matching zone '$2' in any view\"; exit 1; fi\n"
	"  serial \"$2\" > \"$d/loaded/$2\"; echo 'zone reload queued' ;;\n"
	"delzone)\n"
	"  if [ ! -e \"$d/loaded/$2\" ]; then echo \"rndc: 'delzone' failed: not found\"; exit 1; fi\n"
	"  rm -f \"$d/loaded/$2\"; echo \"zone '$2' is no longer active and will be deleted.\" ;;\n"
	"zonestatus)\n"
	"  if [ -e \"$d/loaded/$2\" ] || grep -qx \"$2\" \"$d/exists\" 2>/dev/null; then echo \"name: $2\"; exit 0; fi\n"
	"  echo \"rndc: 'zonestatus' failed: not found\"; exit 1 ;;\n"
	"*) echo \"rndc: '$1' failed: unknown command\"; exit 1 ;;\n"
	"esac\n";

/* ---- the fake named: SOA answers from DIR/loaded ---- */

static int dns_fd = -1, dns_port;
static volatile int dns_stop;

static ldns_pkt *dns_answer(const ldns_pkt *q)
{
	ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	char *name = ldns_rdf2str(ldns_rr_owner(qr));
	ldns_pkt *a = ldns_pkt_new();
	char path[600], rrtext[700];
	unsigned serial = 0;
	FILE *fp;
	size_t l = strlen(name);

	ldns_pkt_set_id(a, ldns_pkt_id(q));
	ldns_pkt_set_qr(a, true);
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
	if (l > 0 && name[l - 1] == '.')
		name[l - 1] = '\0';
	snprintf(path, sizeof path, "%s/loaded/%s", dir, name);
	fp = fopen(path, "r");
	if (fp != NULL && fscanf(fp, "%u", &serial) == 1) {
		ldns_rr *rr = NULL;

		snprintf(rrtext, sizeof rrtext, "%s. 300 IN SOA ns1.x. h.x. %u 3600 600 86400 300", name,
		         serial);
		if (ldns_rr_new_frm_str(&rr, rrtext, 0, NULL, NULL) == LDNS_STATUS_OK) {
			ldns_pkt_set_aa(a, true);
			ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
		}
	} else {
		ldns_pkt_set_rcode(a, LDNS_RCODE_REFUSED);
	}
	if (fp != NULL)
		fclose(fp);
	free(name);
	return a;
}

static void *dns_main(void *arg)
{
	(void)arg;
	while (!dns_stop) {
		struct pollfd pf = { dns_fd, POLLIN, 0 };
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		uint8_t buf[4096], *wire = NULL;
		size_t wlen = 0;
		ldns_pkt *q = NULL, *a;
		ssize_t n;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		n = recvfrom(dns_fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0 || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
			continue;
		a = dns_answer(q);
		if (ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK) {
			if (sendto(dns_fd, wire, wlen, 0, (struct sockaddr *)&from, fl) < 0)
				perror("sendto");
			LDNS_FREE(wire);
		}
		ldns_pkt_free(a);
		ldns_pkt_free(q);
	}
	return NULL;
}

static int dns_start(pthread_t *t)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dns_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (dns_fd < 0 || bind(dns_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(dns_fd, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	dns_port = ntohs(sa.sin_port);
	return pthread_create(t, NULL, dns_main, NULL);
}

/* ---- helpers ---- */

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0) {
		perror(path);
		exit(2);
	}
}

static char *slurp(const char *path)
{
	char *t = NULL;
	size_t len;

	if (file_read_all(path, 0, &t, &len, NULL) < 0)
		return strdup("");
	return t;
}

static int exists(const char *fmt, const char *a)
{
	char p[700];

	snprintf(p, sizeof p, fmt, a);
	return access(p, F_OK) == 0;
}

/* rndc commands sent since the last call, ";"-joined */
static char cmds[4096];
static const char *commands(void)
{
	char *t = slurp(logf), *p;

	str_copy(cmds, t, sizeof cmds);
	for (p = cmds; *p; p++)
		if (*p == '\n')
			*p = ';';
	if (p > cmds && p[-1] == ';')
		p[-1] = '\0';
	free(t);
	put(logf, "");
	return cmds;
}

static void zone_text(char *out, size_t sz, const char *d, unsigned serial, int good)
{
	snprintf(out, sz,
	         "$TTL 300\n@ IN SOA ns1.%s. h.%s. %u 3600 600 86400 300\n@ IN NS ns1.%s.\n%s",
	         d, d, serial, d, good ? "ns1 IN A 192.0.2.1\n" : "www IN A 192.0.2.1\n");
}

#define NZ 16
struct fixture {
	struct config_backend be;
	struct backend_batch b;
	struct backend_zone z[NZ];
	char text[NZ][512];
	char *keep[NZ];
	struct zd_err err;
};

static void fx_init(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	f->be.name = "bind1";
	f->be.type = BACKEND_BIND;
	f->be.enabled = 1;
	f->be.zones_dir = zones;
	f->be.include_file = inc;
	f->be.control = ctl;
	f->be.verify_host = "127.0.0.1";
	f->be.verify_port = dns_port;
	f->b.be = &f->be;
	f->b.zones = f->z;
	f->b.keep = f->keep;
	f->b.verify_timeout_ms = 1500;
}

static void fx_put(struct fixture *f, const char *d, unsigned serial, int good, int was)
{
	struct backend_zone *z = &f->z[f->b.n];

	zone_text(f->text[f->b.n], sizeof f->text[0], d, serial, good);
	z->domain = (char *)d;
	z->present = 1;
	z->was_present = was;
	z->serial = serial;
	z->text = f->text[f->b.n];
	z->text_len = strlen(z->text);
	f->b.n++;
}

static void fx_del(struct fixture *f, const char *d, int was)
{
	struct backend_zone *z = &f->z[f->b.n++];

	z->domain = (char *)d;
	z->present = 0;
	z->was_present = was;
}

static void fx_keep(struct fixture *f, const char *d)
{
	f->keep[f->b.nkeep++] = (char *)d;
}

static int fx_run(struct fixture *f)
{
	zd_err_clear(&f->err);
	return backend_bind_apply(&f->b, &f->err);
}

static int in_include(const char *d)
{
	char *t = slurp(inc), key[1024];
	int r;

	snprintf(key, sizeof key, "zone \"%s\" { type primary; file \"%s/%s.zone\"; };\n", d, zones, d);
	r = strstr(t, key) != NULL;
	free(t);
	return r;
}

int main(void)
{
	struct fixture f;
	pthread_t t;
	char p[700], *txt;
	int rc, i;
	static const char *bulk[12] = { "m01.test", "m02.test", "m03.test", "m04.test", "m05.test",
		"m06.test", "m07.test", "m08.test", "m09.test", "m10.test", "m11.test", "m12.test" };

	snprintf(dir, sizeof dir, "/tmp/zd-test-bind.XXXXXX");
	if (mkdtemp(dir) == NULL || dns_start(&t) != 0) {
		perror("setup");
		return 2;
	}
	snprintf(zones, sizeof zones, "%s/zones", dir);
	snprintf(inc, sizeof inc, "%s/zonedrop.conf", dir);
	snprintf(logf, sizeof logf, "%s/log", dir);
	snprintf(modef, sizeof modef, "%s/mode", dir);
	snprintf(p, sizeof p, "%s/rndc", dir);
	put(p, fake_rndc);
	chmod(p, 0755);
	snprintf(ctl, sizeof ctl, "%s %s", p, dir);
	snprintf(p, sizeof p, "%s/loaded", dir);
	mkdir(p, 0755);
	put(modef, "ok");
	put(logf, "");

	/* configuration that cannot go into named.conf */
	fx_init(&f);
	f.be.zones_dir = "relative/zones";
	fx_put(&f, "a.test", 1, 1, 0);
	rc = fx_run(&f);
	is_int(rc, ZD_ECONFIG, "relative zones_dir refused");
	is_int(f.z[0].result, BZ_FAILED, "  the zone failed");
	fx_init(&f);
	f.be.zones_dir = "/tmp/x\";zone";
	fx_put(&f, "a.test", 1, 1, 0);
	is_int(fx_run(&f), ZD_ECONFIG, "zones_dir with a quote refused");
	ok(access(inc, F_OK) != 0, "  no include written");

	/* three new zones: one reconfig, all verified */
	fx_init(&f);
	fx_put(&f, "a.test", 1, 1, 0);
	fx_put(&f, "b.test", 1, 1, 0);
	fx_put(&f, "c.test", 1, 1, 0);
	rc = fx_run(&f);
	is_int(rc, 0, "add three: rc 0 (%s)", f.err.msg);
	is_str(commands(), "reconfig", "  one reconfig, nothing else");
	for (i = 0; i < 3; i++) {
		is_int(f.z[i].result, BZ_OK, "  %s ok (%s)", f.z[i].domain, f.z[i].error);
		is_int(f.z[i].now_present, 1, "  %s now present", f.z[i].domain);
		ok(in_include(f.z[i].domain), "  %s in the include", f.z[i].domain);
		ok(exists("%s/zones/a.test.zone", dir), "  zone file there");
	}
	ok(!exists("%s/zones/.a.test.zone.new", dir), "  no candidate left");
	is_str(f.b.mechanism, "reconfig", "  mechanism reconfig");

	/* one changed zone: reload ZONE only */
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "c.test");
	fx_put(&f, "b.test", 2, 1, 1);
	rc = fx_run(&f);
	is_int(rc, 0, "change one: rc 0");
	is_str(commands(), "reload b.test", "  reload b.test, no reconfig, no full reload");
	is_int(f.z[0].result, BZ_OK, "  verified (%s)", f.z[0].error);

	/* the same text again (a retry): nothing written, still reloaded and verified */
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "c.test");
	fx_put(&f, "b.test", 2, 1, 1);
	is_int(fx_run(&f), 0, "same text again: rc 0");
	is_str(commands(), "reload b.test", "  reloaded");
	is_int(f.z[0].result, BZ_OK, "  verified");

	/* a delete, nothing added: delzone, file gone, include without it */
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "b.test");
	fx_del(&f, "c.test", 1);
	is_int(fx_run(&f), 0, "delete one: rc 0");
	is_str(commands(), "delzone c.test", "  delzone c.test only");
	is_int(f.z[0].result, BZ_OK, "  verified absent (%s)", f.z[0].error);
	is_int(f.z[0].now_present, 0, "  not present");
	ok(!in_include("c.test"), "  not in the include");
	ok(!exists("%s/zones/c.test.zone", dir), "  zone file removed");

	/* names that must never reach a path or named.conf */
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "b.test");
	fx_keep(&f, "evil\";}; include \"/etc/shadow");
	fx_put(&f, "../../etc/x.test", 1, 1, 0);
	fx_put(&f, "UPPER.test", 1, 1, 0);
	fx_put(&f, "q\"uote.test", 1, 1, 0);
	fx_put(&f, "d.test", 1, 1, 0);
	rc = fx_run(&f);
	is_int(rc, 0, "hostile names: rc 0");
	for (i = 0; i < 3; i++)
		is_int(f.z[i].result, BZ_REJECTED, "  %s refused", f.z[i].domain);
	is_int(f.z[3].result, BZ_OK, "  the good zone applied (%s)", f.z[3].error);
	txt = slurp(inc);
	ok(strstr(txt, "etc") == NULL && strstr(txt, "UPPER") == NULL && strstr(txt, "uote") == NULL &&
	   strstr(txt, "shadow") == NULL, "  none of them in the include");
	free(txt);
	ok(access("/etc/x.test.zone", F_OK) != 0, "  no file outside zones_dir");
	commands();

	/* a zone named-checkzone refuses: new -> left out; served before -> old kept */
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "d.test");
	fx_put(&f, "b.test", 3, 0, 1);
	fx_put(&f, "e.test", 1, 0, 0);
	fx_put(&f, "f.test", 1, 1, 0);
	rc = fx_run(&f);
	is_int(rc, 0, "refused zones in a batch: rc 0");
	is_int(f.z[0].result, BZ_REJECTED, "  b.test (served) refused");
	ok(strstr(f.z[0].error, "no address records") != NULL, "  with named's reason: %s", f.z[0].error);
	is_int(f.z[0].now_present, 1, "  b.test still held (old version)");
	ok(in_include("b.test"), "  b.test keeps its stanza");
	snprintf(p, sizeof p, "%s/zones/b.test.zone", dir);
	txt = slurp(p);
	ok(strstr(txt, " 2 3600") != NULL, "  b.test keeps its old file");
	free(txt);
	is_int(f.z[1].result, BZ_REJECTED, "  e.test (new) refused");
	is_int(f.z[1].now_present, 0, "  e.test not held");
	ok(!in_include("e.test"), "  e.test not in the include");
	ok(!exists("%s/zones/e.test.zone", dir) && !exists("%s/zones/.e.test.zone.new", dir),
	   "  no file for e.test");
	is_int(f.z[2].result, BZ_OK, "  f.test applied beside them (%s)", f.z[2].error);
	is_str(commands(), "reconfig", "  one reconfig for f.test");

	/* the include was written but named never reconfigured (a crash): a
	 * reload of a zone named lacks turns into a reconfig */
	snprintf(p, sizeof p, "%s/loaded/f.test", dir);
	unlink(p);
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "b.test");
	fx_keep(&f, "d.test");
	fx_put(&f, "f.test", 2, 1, 1);
	is_int(fx_run(&f), 0, "reload of a zone named lacks: rc 0");
	is_str(commands(), "reload f.test;reconfig", "  reload, then reconfig");
	is_int(f.z[0].result, BZ_OK, "  served after all (%s)", f.z[0].error);

	/* many changed zones: one full reload */
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "b.test");
	fx_keep(&f, "d.test");
	fx_keep(&f, "f.test");
	for (i = 0; i < 12; i++)
		fx_put(&f, bulk[i], 1, 1, 0);
	is_int(fx_run(&f), 0, "12 new zones: rc 0");
	is_str(commands(), "reconfig", "  one reconfig");
	fx_init(&f);
	fx_keep(&f, "a.test");
	fx_keep(&f, "b.test");
	fx_keep(&f, "d.test");
	fx_keep(&f, "f.test");
	for (i = 0; i < 12; i++)
		fx_put(&f, bulk[i], 2, 1, 1);
	is_int(fx_run(&f), 0, "12 changed zones: rc 0");
	is_str(commands(), "reload", "  one full rndc reload");
	for (i = 0, rc = 0; i < 12; i++)
		rc += f.z[i].result == BZ_OK;
	is_int(rc, 12, "  all 12 verified");

	/* named down: every zone failed, rc != 0; the include is ahead of named */
	put(modef, "down");
	fx_init(&f);
	for (i = 0; i < 12; i++)
		fx_keep(&f, bulk[i]);
	fx_keep(&f, "a.test");
	fx_keep(&f, "d.test");
	fx_put(&f, "b.test", 4, 1, 1);
	fx_put(&f, "g.test", 1, 1, 0);
	fx_del(&f, "f.test", 1);
	rc = fx_run(&f);
	ok(rc != 0, "named down: rc %d (%s)", rc, f.err.msg);
	ok(strstr(f.err.msg, "connection refused") != NULL, "  rndc's reason in the error");
	for (i = 0; i < 3; i++)
		is_int(f.z[i].result, BZ_FAILED, "  %s failed", f.z[i].domain);
	is_int(f.z[2].now_present, 1, "  the delete is not done (named may still serve it)");
	ok(in_include("g.test") && !in_include("f.test"), "  include holds the new state for named's restart");
	commands();
	/* named back: the retry converges */
	put(modef, "ok");
	is_int(fx_run(&f), 0, "named back: rc 0 (%s)", f.err.msg);
	for (i = 0; i < 3; i++)
		is_int(f.z[i].result, BZ_OK, "  %s ok (%s)", f.z[i].domain, f.z[i].error);
	is_int(f.z[2].now_present, 0, "  f.test gone");
	commands();

	/* a zone named has from elsewhere: reconfig fails, it is found and left out */
	put(modef, "conflict");
	snprintf(p, sizeof p, "%s/exists", dir);
	put(p, "own.test\n");
	fx_init(&f);
	for (i = 0; i < 12; i++)
		fx_keep(&f, bulk[i]);
	fx_keep(&f, "a.test");
	fx_keep(&f, "b.test");
	fx_keep(&f, "d.test");
	fx_put(&f, "h.test", 1, 1, 0);
	fx_put(&f, "own.test", 1, 1, 0);
	rc = fx_run(&f);
	is_int(rc, 0, "conflict: rc 0 (%s)", f.err.msg);
	is_str(commands(), "reconfig;zonestatus h.test;zonestatus own.test;reconfig",
	       "  reconfig, probes, reconfig");
	is_int(f.z[0].result, BZ_OK, "  h.test applied (%s)", f.z[0].error);
	is_int(f.z[1].result, BZ_FAILED, "  own.test failed");
	ok(strstr(f.z[1].error, "already has") != NULL, "  named: %s", f.z[1].error);
	ok(!in_include("own.test"), "  own.test not in the include");
	is_int(f.z[1].now_present, 0, "  own.test not held");

	/* deleting a zone zonedrop never gave named does not unload it */
	fx_init(&f);
	fx_del(&f, "own.test", 0);
	for (i = 0; i < 12; i++)
		fx_keep(&f, bulk[i]);
	fx_keep(&f, "a.test");
	fx_keep(&f, "b.test");
	fx_keep(&f, "d.test");
	fx_keep(&f, "h.test");
	fx_run(&f);
	ok(strstr(commands(), "delzone") == NULL, "no delzone for a zone zonedrop never applied");

	dns_stop = 1;
	pthread_join(t, NULL);
	close(dns_fd);
	snprintf(p, sizeof p, "rm -rf '%s'", dir);
	if (system(p) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return tap_done();
}
