/* test_backend_knot.c -- the knot backend against a fake knotc: the commands it
 * sends, how it reads the answers, knotd down, a refused commit, file roll-back
 * (a real knotd is in tests/e2e/81-knot.bats) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/backend.h"
#include "zonedrop/util.h"

static char dir[256], zones[300], ctl[600], logf[300], modef[300], missf[300], inc[300];

/* The fake knotc logs every stdin line and answers as knotc does in
 * interactive mode, by the mode in its mode file: ok, down, mute. */
static const char fake[] =
	"#!/bin/sh\n"
	"d=$1\n"
	"mode=$(cat \"$d/mode\")\n"
	"while IFS= read -r line; do\n"
	"  printf '%s\\n' \"$line\" >> \"$d/log\"\n"
	"  case $mode in\n"
	"  down) echo \"error: failed to connect to socket '$d/knot.sock' (not exists)\"; continue ;;\n"
	"  mute) continue ;;\n"
	"  esac\n"
	"  set -- $line\n"
	"  case $1 in\n"
	"  conf-begin) : > \"$d/txn\"; echo OK ;;\n"
	"  conf-abort) rm -f \"$d/txn\"; echo OK ;;\n"
	"  conf-set|conf-unset) echo \"$line\" >> \"$d/txn\"; echo OK ;;\n"
	"  conf-commit) if grep -q refuse \"$d/txn\"; then echo 'error: (invalid parameter) conf-commit';\n"
	"               else rm -f \"$d/txn\"; echo OK; fi ;;\n"
	"  conf-read) ;;\n"
	"  zone-reload) shift; [ \"$1\" = -b ] && shift; bad=0\n"
	"    for z in \"$@\"; do if grep -qx \"$z\" \"$d/missing\" 2>/dev/null; then\n"
	"      echo \"error: [$z] (no such zone found)\"; bad=1; fi; done\n"
	"    [ $bad = 1 ] || echo OK ;;\n"
	"  *) echo \"error: invalid command '$1'\" ;;\n"
	"  esac\n"
	"done\n";

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

static void zone_text(char *out, size_t sz, const char *d, unsigned serial)
{
	snprintf(out, sz,
	         "$TTL 300\n@ IN SOA ns1.%s. h.%s. %u 3600 600 86400 300\n@ IN NS ns1.%s.\n"
	         "ns1 IN A 192.0.2.1\n", d, d, serial, d);
}

struct fixture {
	struct config_backend be;
	struct backend_batch b;
	struct backend_zone z[4];
	char text[4][512];
	struct zd_err err;
};

static void fx_init(struct fixture *f, const char *zones_dir)
{
	memset(f, 0, sizeof *f);
	f->be.name = "knot1";
	f->be.type = BACKEND_KNOT;
	f->be.enabled = 1;
	f->be.zones_dir = (char *)zones_dir;
	f->be.control = ctl;
	f->be.include_file = inc;
	f->be.verify_host = "127.0.0.1";
	f->be.verify_port = 9;   /* nobody answers: verification fails, quickly */
	f->b.be = &f->be;
	f->b.zones = f->z;
	f->b.verify_timeout_ms = 200;
}

static void fx_zone(struct fixture *f, const char *domain, int present, int was_present,
                    unsigned serial)
{
	struct backend_zone *z = &f->z[f->b.n];

	z->domain = (char *)domain;
	z->present = present;
	z->was_present = was_present;
	z->serial = serial;
	if (present) {
		zone_text(f->text[f->b.n], sizeof f->text[f->b.n], domain, serial);
		z->text = f->text[f->b.n];
		z->text_len = strlen(z->text);
	}
	f->b.n++;
}

/* TAP diagnostics: every line of text behind "# " */
static void diag_if(int cond, const char *text)
{
	const char *p = text, *nl;

	if (!cond)
		return;
	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL) {
			printf("#   %s\n", p);
			break;
		}
		printf("#   %.*s\n", (int)(nl - p), p);
	}
}

static void mode(const char *m)
{
	put(modef, m);
	unlink(logf);
}

int main(void)
{
	struct fixture f;
	char path[1024], *log, *s, fakepath[300];
	char *keep[] = { "kept.example" };
	int rc;

	snprintf(dir, sizeof dir, "/tmp/zd-test-knot.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(zones, sizeof zones, "%s/zones", dir);
	snprintf(logf, sizeof logf, "%s/log", dir);
	snprintf(modef, sizeof modef, "%s/mode", dir);
	snprintf(missf, sizeof missf, "%s/missing", dir);
	snprintf(inc, sizeof inc, "%s/zonedrop.conf", dir);
	snprintf(fakepath, sizeof fakepath, "%s/knotc", dir);
	put(fakepath, fake);
	chmod(fakepath, 0755);
	snprintf(ctl, sizeof ctl, "%s %s", fakepath, dir);

	/* configuration the backend refuses before any command */
	mode("ok");
	fx_init(&f, "relative/zones");
	fx_zone(&f, "a.example", 1, 0, 1);
	rc = backend_knot_apply(&f.b, &f.err);
	ok(rc < 0, "relative zones_dir: an error");
	is_int(f.z[0].result, BZ_FAILED, "relative zones_dir: zone failed");
	ok(strstr(f.z[0].error, "absolute") != NULL, "relative zones_dir: says why (%s)", f.z[0].error);
	fx_init(&f, "/tmp/a\"b");
	fx_zone(&f, "a.example", 1, 0, 1);
	ok(backend_knot_apply(&f.b, &f.err) < 0, "a quote in zones_dir: an error");
	ok(access(logf, F_OK) != 0, "knotc never ran for a bad configuration");

	/* an add and a delete: one transaction, the file path absolute */
	mode("ok");
	fx_init(&f, zones);
	fx_zone(&f, "a.example", 1, 0, 1);
	fx_zone(&f, "b.example", 0, 1, 0);
	fx_zone(&f, "Bad_Name.example", 1, 0, 1);
	f.b.keep = keep;
	f.b.nkeep = 1;
	rc = backend_knot_apply(&f.b, &f.err);
	is_int(rc, 0, "add + delete: knotd reached");
	log = slurp(logf);
	snprintf(path, sizeof path,
	         "conf-abort\nconf-begin\nconf-set zone[a.example]\n"
	         "conf-set zone[a.example].file \"%s/a.example.zone\"\nconf-unset zone[b.example]\n"
	         "conf-commit\nconf-abort\n", zones);
	ok(strncmp(log, path, strlen(path)) == 0, "add + delete: one transaction");
	diag_if(strncmp(log, path, strlen(path)) != 0, log);
	ok(strstr(log, "Bad_Name") == NULL, "a bad name never reaches knotc");
	free(log);
	is_int(f.z[2].result, BZ_REJECTED, "bad name rejected");
	is_int(f.z[0].result, BZ_FAILED, "add: not served (no server to ask): failed");
	is_int(f.z[0].now_present, 1, "add: configured in knotd");
	is_int(f.z[1].now_present, 0, "delete: gone from knotd");
	snprintf(path, sizeof path, "%s/a.example.zone", zones);
	ok(access(path, F_OK) == 0, "add: zone file written");
	s = slurp(inc);
	rc = strstr(s, "zone:\n  - domain: \"a.example\"\n") != NULL &&
	     strstr(s, "  - domain: \"kept.example\"\n    file: \"") != NULL &&
	     strstr(s, "b.example") == NULL;
	ok(rc, "include: kept + added, not deleted");
	diag_if(!rc, s);
	free(s);

	/* a change: zone-reload, no transaction; knotd lost the zone: added again */
	mode("ok");
	fx_init(&f, zones);
	fx_zone(&f, "a.example", 1, 1, 2);
	put(missf, "a.example\n");
	backend_knot_apply(&f.b, &f.err);
	log = slurp(logf);
	ok(strncmp(log, "conf-abort\nzone-reload a.example\n", 33) == 0, "change: zone-reload");
	diag_if(strncmp(log, "conf-abort\nzone-reload a.example\n", 33) != 0, log);
	ok(strstr(log, "conf-set zone[a.example]\n") != NULL, "a zone knotd lost is added again");
	free(log);
	unlink(missf);

	/* knotd down: failed, and the disk keeps what knotd had */
	mode("down");
	fx_init(&f, zones);
	fx_zone(&f, "a.example", 1, 1, 3);
	fx_zone(&f, "c.example", 1, 0, 1);
	rc = backend_knot_apply(&f.b, &f.err);
	ok(rc < 0, "knotd down: an error for the backend");
	ok(strstr(f.err.msg, "failed to connect") != NULL, "knotd down: says why (%s)", f.err.msg);
	is_int(f.z[0].result, BZ_FAILED, "knotd down: change failed");
	is_int(f.z[1].result, BZ_FAILED, "knotd down: add failed");
	is_int(f.z[0].now_present, 1, "knotd down: the changed zone is still held");
	is_int(f.z[1].now_present, 0, "knotd down: the new zone is not");
	snprintf(path, sizeof path, "%s/a.example.zone", zones);
	s = slurp(path);
	ok(strstr(s, " 2 3600") != NULL, "knotd down: the old file is back");
	free(s);
	snprintf(path, sizeof path, "%s/c.example.zone", zones);
	ok(access(path, F_OK) != 0, "knotd down: no file for a zone knotd never got");
	snprintf(path, sizeof path, "%s/a.example.zone.prev", zones);
	ok(access(path, F_OK) != 0, "knotd down: no .prev left");

	/* knotc answers nothing: nothing can be told apart, the backend fails */
	mode("mute");
	fx_init(&f, zones);
	fx_zone(&f, "d.example", 0, 1, 0);
	ok(backend_knot_apply(&f.b, &f.err) < 0, "no answers: an error");
	is_int(f.z[0].result, BZ_FAILED, "no answers: zone failed");

	/* a commit knotd refuses: committed in parts, the zone causing it rejected */
	mode("ok");
	fx_init(&f, zones);
	fx_zone(&f, "e.example", 1, 0, 1);
	fx_zone(&f, "refuse.example", 1, 0, 1);
	fx_zone(&f, "f.example", 1, 0, 1);
	backend_knot_apply(&f.b, &f.err);
	is_int(f.z[1].result, BZ_REJECTED, "refused commit: that zone rejected");
	ok(strstr(f.z[1].error, "conf-commit") != NULL, "refused commit: says why (%s)", f.z[1].error);
	is_int(f.z[1].now_present, 0, "refused commit: not in knotd");
	is_int(f.z[0].now_present, 1, "refused commit: the others are added");
	is_int(f.z[2].now_present, 1, "refused commit: the others are added (2)");
	snprintf(path, sizeof path, "%s/refuse.example.zone", zones);
	ok(access(path, F_OK) != 0, "refused commit: its file is removed");
	ok(strcmp(f.b.mechanism, "") != 0, "mechanism named (%s)", f.b.mechanism);

	/* no temp files left anywhere */
	snprintf(path, sizeof path, "ls -A %s | grep -q tmp", zones);
	ok(system(path) != 0, "no temp files left in zones_dir");

	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		return 2;
	return tap_done();
}
