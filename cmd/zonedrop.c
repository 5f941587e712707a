/* zonedrop.c -- the operators' CLI: status, zones, show, push, delete, retry, spool,
 * check-config, passwd */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "zonedrop/backend.h"
#include "zonedrop/config.h"
#include "zonedrop/domain.h"
#include "zonedrop/err.h"
#include "zonedrop/log.h"
#include "zonedrop/secondary.h"
#include "zonedrop/spool.h"
#include "zonedrop/status.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "zonedrop/zone.h"
#include "cli/cli.h"


static const char usage_text[] =
	"usage: zonedrop [-c FILE] [-h] COMMAND [ARGS]\n"
	"\n"
	"  status [--json]                      spool depths, last drain, per-backend state\n"
	"  zones [--owner HOST] [--deleted] [--backend NAME --state STATE]\n"
	"                                       one line per zone: domain serial owner updated\n"
	"                                       (STATE: ok pending retry failed rejected)\n"
	"  show DOMAIN                          metadata, per-backend state, zone text\n"
	"  push DOMAIN [FILE|-] [--hostname H] [--username U]\n"
	"                                       check a zone and spool it (Source: cli)\n"
	"  delete DOMAIN...                     spool a delete for each domain\n"
	"  retry [--backend NAME] [DOMAIN...|--all]\n"
	"                                       make failed/retrying/rejected zones due now\n"
	"  verify [--backend NAME] [--deep] [--timeout D] [DOMAIN...]\n"
	"                                       what each backend serves against the desired\n"
	"                                       state: backend domain missing|stale|unwanted|differs\n"
	"                                       desired served [record]\n"
	"  spool [new|cur|bad|tmp]...           list spool items: state name age domain action [why]\n"
	"  check-config                         load the config, print it with defaults\n"
	"  db-init BACKEND...                   create a MySQL backend's tables when absent\n"
	"  passwd [-y] [USER]                   read a password, print a password_hash line\n"
	"  import-directdnsonly [--output FILE] [--env-file FILE] [--from-env] [--verify A@P]\n"
	"         [--secrets-dir DIR] [--no-config] [--no-zones] APP_YML [DB]\n"
	"                                       directdnsonly 2.x config -> zonedrop.yml, zones -> spool\n"
	"  secondary add DOMAIN MASTER[:PORT] [KEY] [--replace] | del DOMAIN | list\n"
	"                                       secondary zones (zones_file); list: domain master\n"
	"                                       key state serial last-check next-due\n"
	"\n"
	"  -c FILE  config (default $ZONEDROP_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
	"Exit: 0 done, 1 failed, 2 usage or configuration error, 75 busy (try later).\n";

static void usage(int code)
{
	fputs(usage_text, code == 0 ? stdout : stderr);
	exit(code);
}

static void privileges_drop(const struct config *cfg)
{
	struct zd_err err;

	if (user_switch(cfg->user, &err) != 0)
		die(err.code == ZD_ECONFIG ? EX_USAGE : EX_FAILED, "%s", zd_err_str(&err));
}

/* ---- status ---- */

static const char *const spool_states[] = { "new", "cur", "bad", "tmp" };
#define NSTATES (sizeof spool_states / sizeof spool_states[0])

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* The human form of the status document (status.h), one record a line. */
static void status_print(const struct config *cfg, json_t *doc, int state_err)
{
	json_t *spool = json_object_get(doc, "spool"), *drain = json_object_get(doc, "last_drain");
	json_t *zones = json_object_get(doc, "zones"), *counters = json_object_get(doc, "counters");
	json_t *b, *f, *v, *sec;
	const char *key;
	char tbuf[32], fbuf[1024], sbuf[64];
	size_t i, j;

	for (i = 0; i < NSTATES; i++) {
		v = json_object_get(spool, spool_states[i]);
		if (!json_is_object(v))
			printf("spool\t%s\t-\tunreadable\n", spool_states[i]);
		else if (jint(v, "count") == 0)
			printf("spool\t%s\t0\toldest=-\n", spool_states[i]);
		else
			printf("spool\t%s\t%lld\toldest=%llds\n", spool_states[i],
			       (long long)jint(v, "count"), (long long)jint(v, "oldest_age"));
	}
	if (!json_is_true(json_object_get(doc, "state")))
		printf("state\t%s\t%s\n", state_err ? "unreadable" : "none yet", cfg->state_dir);
	if (jstr(drain, "end")[0] == '\0') {
		printf("last_drain\tnever\n");
	} else {
		v = json_object_get(drain, "seconds");
		if (json_is_number(v))
			snprintf(sbuf, sizeof sbuf, "%.3f", json_number_value(v));
		else
			str_copy(sbuf, "-", sizeof sbuf);
		v = json_object_get(drain, "zones");
		printf("last_drain\tend=%s\tseconds=%s\tzones=", field(tbuf, sizeof tbuf, jstr(drain, "end")),
		       sbuf);
		if (json_is_integer(v))
			printf("%lld", (long long)json_integer_value(v));
		else
			putchar('-');
		printf("\tresult=%s\n", field(fbuf, sizeof fbuf, jstr(drain, "result")));
	}
	printf("zones\tpresent=%lld\tdeleted=%lld\n", (long long)jint(zones, "present"),
	       (long long)jint(zones, "deleted"));
	json_array_foreach(json_object_get(doc, "backends"), i, b)
		printf("backend\t%s\t%s\t%s\tapplied=%lld\tpending=%lld\tretry=%lld\tfailed=%lld"
		       "\trejected=%lld\tnext_retry=%s\n", jstr(b, "name"), jstr(b, "type"),
		       json_is_true(json_object_get(b, "enabled")) ? "enabled" : "disabled",
		       (long long)jint(b, "applied"), (long long)jint(b, "pending"),
		       (long long)jint(b, "retry"), (long long)jint(b, "failed"),
		       (long long)jint(b, "rejected"), iso_time(tbuf, sizeof tbuf, jint(b, "next_retry")));
	/* the zones that need an operator: retries exhausted or refused by the server */
	json_array_foreach(json_object_get(doc, "backends"), i, b) {
		json_array_foreach(json_object_get(b, "failures"), j, f)
			printf("failed\t%s\t%s\t%s\tattempts=%lld\terror=%s\n", jstr(b, "name"),
			       jstr(f, "domain"), jstr(f, "state"), (long long)jint(f, "attempts"),
			       field(fbuf, sizeof fbuf, jstr(f, "last_error")));
		if (jint(b, "failures_total") > (json_int_t)json_array_size(json_object_get(b, "failures")))
			printf("failed\t%s\t(%lld more)\n", jstr(b, "name"),
			       (long long)(jint(b, "failures_total") -
			                   (json_int_t)json_array_size(json_object_get(b, "failures"))));
	}
	sec = json_object_get(doc, "secondary");
	if (json_is_object(sec))
		printf("secondary\tzones=%lld\tfresh=%lld\tdue=%lld\tfailing=%lld\texpired=%lld"
		       "\tpending=%lld\toldest=%s\toldest_ok=%s\n",
		       (long long)json_integer_value(json_object_get(sec, "zones")),
		       (long long)json_integer_value(json_object_get(sec, "fresh")),
		       (long long)json_integer_value(json_object_get(sec, "due")),
		       (long long)json_integer_value(json_object_get(sec, "failing")),
		       (long long)json_integer_value(json_object_get(sec, "expired")),
		       (long long)json_integer_value(json_object_get(sec, "pending")),
		       json_is_string(json_object_get(sec, "oldest"))
		               ? json_string_value(json_object_get(sec, "oldest")) : "-",
		       iso_time(tbuf, sizeof tbuf,
		                (int64_t)json_integer_value(json_object_get(sec, "oldest_ok"))));
	if (json_is_object(counters)) {
		fputs("counters", stdout);
		json_object_foreach(counters, key, v)
			printf("\t%s=%lld", key, (long long)json_integer_value(v));
		putchar('\n');
	}
}

static int cmd_status(const struct config *cfg, int argc, char **argv)
{
	struct store *st = NULL;
	struct zd_err err;
	json_t *doc = NULL, *v;
	size_t i, n;
	int64_t age;
	int json = 0, rc, a, state_err = EX_DONE;

	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--json") == 0)
			json = 1;
		else if (is_help(argv[a]))
			usage(0);
		else
			die(EX_USAGE, "status: unexpected argument \"%s\"", argv[a]);
	}
	/* the spool part is worth printing even when the state cannot be read */
	rc = store_open(cfg->state_dir, STORE_RDONLY, &st, &err);
	if (rc != 0 && rc != ZD_ENOENT) {
		warn("open state: %s", zd_err_str(&err));
		state_err = exit_for(rc);
	}
	if ((rc = status_build(cfg, st, STATUS_ALL, &doc, &err)) != 0)
		die_err(rc, &err, "status");
	store_close(st);
	for (i = 0; i < NSTATES; i++) {
		v = json_object_get(json_object_get(doc, "spool"), spool_states[i]);
		if (json_is_null(v) && spool_count(cfg->spool_dir, spool_states[i], &n, &age, &err) != 0)
			warn("spool %s: %s", spool_states[i], zd_err_str(&err));
	}
	if (json) {
		if (json_dumpf(doc, stdout,
		               JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) != 0)
			die(EX_FAILED, "write to stdout: %s", strerror(errno));
		putchar('\n');
	} else {
		status_print(cfg, doc, state_err);
	}
	json_decref(doc);
	return state_err;
}

/* ---- zones ---- */

struct zones_walk {
	struct store *st;
	const char *backend;
	const char *state;
	int with_deleted;
};

static int zones_line(const struct store_zone *z, void *arg)
{
	struct zones_walk *w = arg;
	struct store_bstate b;
	char tbuf[32], hbuf[512];
	const char *s;
	int have;

	if (w->backend != NULL) {
		have = store_bstate_get(w->st, w->backend, z->domain, &b, NULL) == 0;
		s = store_zone_state(z, have ? &b : NULL);
		if (s == NULL || strcmp(s, w->state) != 0)
			return 0;
	}
	printf("%s\t%lu\t%s\t%s", z->domain, (unsigned long)z->serial,
	       field(hbuf, sizeof hbuf, z->hostname), iso_time(tbuf, sizeof tbuf, z->updated));
	if (w->with_deleted)
		printf("\t%s", z->present ? "present" : "deleted");
	putchar('\n');
	return ferror(stdout) ? ZD_EIO : 0;
}

static int cmd_zones(const struct config *cfg, int argc, char **argv)
{
	struct zones_walk w = { NULL, NULL, NULL, 0 };
	const char *owner = NULL, *v;
	struct zd_err err;
	int a, rc;

	for (a = 0; a < argc; a++) {
		if ((v = opt_value(argc, argv, &a, "--owner")) != NULL)
			owner = v;
		else if ((v = opt_value(argc, argv, &a, "--backend")) != NULL)
			w.backend = v;
		else if ((v = opt_value(argc, argv, &a, "--state")) != NULL)
			w.state = v;
		else if (strcmp(argv[a], "--deleted") == 0)
			w.with_deleted = 1;
		else if (is_help(argv[a]))
			usage(0);
		else
			die(EX_USAGE, "zones: unexpected argument \"%s\"", argv[a]);
	}
	if ((w.backend == NULL) != (w.state == NULL))
		die(EX_USAGE, "zones: --backend and --state go together");
	if (w.state != NULL) {
		if (strcmp(w.state, BSTATE_OK) != 0 && strcmp(w.state, BSTATE_PENDING) != 0 &&
		    strcmp(w.state, BSTATE_RETRY) != 0 && strcmp(w.state, BSTATE_FAILED) != 0 &&
		    strcmp(w.state, BSTATE_REJECTED) != 0)
			die(EX_USAGE, "zones: --state is one of ok pending retry failed rejected");
		backend_arg(cfg, w.backend);
	}
	w.st = state_open_ro(cfg);
	if (w.st == NULL)
		return EX_DONE;
	rc = store_zone_each(w.st, owner, w.with_deleted, 0, zones_line, &w, &err);
	if (rc == ZD_EIO)
		die(EX_FAILED, "write to stdout: %s", strerror(errno));
	if (rc != 0)
		die_err(rc, &err, "list zones");
	store_close(w.st);
	return EX_DONE;
}

/* ---- show ---- */

static int cmd_show(const struct config *cfg, int argc, char **argv)
{
	struct store *st;
	struct store_zone z;
	struct store_bstate b;
	struct zd_err err;
	char tbuf[32], t2[32], ebuf[2048];
	const char *state;
	size_t i;
	int rc, have;

	if (argc >= 1 && is_help(argv[0]))
		usage(0);
	if (argc != 1)
		die(EX_USAGE, "usage: zonedrop show DOMAIN");
	check_domain_arg(argv[0]);
	st = state_open_ro(cfg);
	if (st == NULL)
		die(EX_FAILED, "%s: not held (no state yet)", argv[0]);
	rc = store_zone_get(st, argv[0], 1, &z, &err);
	if (rc == ZD_ENOENT)
		die(EX_FAILED, "%s: not held", argv[0]);
	if (rc != 0)
		die_err(rc, &err, argv[0]);
	printf("domain\t%s\n", z.domain);
	printf("state\t%s\n", z.present ? "present" : "deleted");
	printf("serial\t%lu\n", (unsigned long)z.serial);
	printf("gen\t%lld\n", (long long)z.gen);
	printf("hostname\t%s\n", field(ebuf, sizeof ebuf, z.hostname));
	printf("username\t%s\n", field(ebuf, sizeof ebuf, z.username));
	printf("source\t%s\n", field(ebuf, sizeof ebuf, z.source));
	printf("item\t%s\n", field(ebuf, sizeof ebuf, z.item));
	printf("received\t%s\n", field(ebuf, sizeof ebuf, z.received));
	printf("changed\t%s\n", field(ebuf, sizeof ebuf, z.changed));
	printf("updated\t%s\n", iso_time(tbuf, sizeof tbuf, z.updated));
	for (i = 0; i < cfg->nbackends; i++) {
		const char *name = cfg->backends[i].name;

		rc = store_bstate_get(st, name, z.domain, &b, &err);
		if (rc != 0 && rc != ZD_ENOENT)
			die_err(rc, &err, "read backend state");
		have = rc == 0;
		state = store_zone_state(&z, have ? &b : NULL);
		if (!have) {
			printf("backend\t%s\t%s\tapplied_gen=0\tapplied_serial=-\tserved=no\n", name,
			       state ? state : "-");
			continue;
		}
		printf("backend\t%s\t%s\tapplied_gen=%lld\tapplied_serial=%lu\tserved=%s\tattempts=%d"
		       "\tnext_retry=%s\tupdated=%s\terror=%s\n", name, state ? state : "-",
		       (long long)b.applied_gen, (unsigned long)b.applied_serial,
		       b.applied_present ? "yes" : "no", b.attempts,
		       iso_time(tbuf, sizeof tbuf, b.next_retry), iso_time(t2, sizeof t2, b.updated),
		       field(ebuf, sizeof ebuf, b.last_error));
	}
	if (z.present && z.text != NULL) {
		putchar('\n');
		fwrite(z.text, 1, z.text_len, stdout);
		if (z.text_len > 0 && z.text[z.text_len - 1] != '\n')
			putchar('\n');
	}
	store_zone_clear(&z);
	store_close(st);
	return EX_DONE;
}

/* ---- push / delete ---- */

/* Read FILE ("-" or NULL: stdin) up to max bytes. */
static char *read_input(const char *path, uint64_t max, size_t *len)
{
	struct zd_err err;
	char *buf = NULL, *nb;
	size_t cap = 0, used = 0;
	ssize_t r;
	int rc;

	if (path != NULL && strcmp(path, "-") != 0) {
		rc = file_read_all(path, (size_t)max, &buf, len, &err);
		if (rc != 0)
			die(EX_FAILED, "%s", zd_err_str(&err));
		return buf;
	}
	for (;;) {
		if (used + 1 >= cap) {
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (nb == NULL)
				die(EX_FAILED, "out of memory");
			buf = nb;
		}
		r = read(STDIN_FILENO, buf + used, cap - used - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die(EX_FAILED, "read stdin: %s", strerror(errno));
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (max && used > max)
			die(EX_FAILED, "zone text larger than max_body (%llu bytes)", (unsigned long long)max);
	}
	buf[used] = '\0';
	*len = used;
	return buf;
}

/* CRLF -> LF in place (PROTOCOL.md: CRLF accepted, stored as LF). */
static size_t crlf_to_lf(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		s[o++] = s[i];
	}
	s[o] = '\0';
	return o;
}

static void deliver(const struct config *cfg, struct spool_item *item)
{
	struct zd_err err;
	int rc = spool_deliver(cfg->spool_dir, item, &err);

	if (rc != 0)
		die(rc == ZD_EINVAL ? EX_USAGE : exit_for(rc), "%s: %s", item->domain, zd_err_str(&err));
	printf("%s\n", item->name);
}

static int cmd_push(const struct config *cfg, int argc, char **argv)
{
	struct spool_item item;
	struct zone_info info;
	struct zd_err err;
	const char *domain = NULL, *file = NULL, *host = "", *user = "", *v;
	size_t len = 0;
	char *text;
	int a, rc;

	for (a = 0; a < argc; a++) {
		if ((v = opt_value(argc, argv, &a, "--hostname")) != NULL)
			host = v;
		else if ((v = opt_value(argc, argv, &a, "--username")) != NULL)
			user = v;
		else if (is_help(argv[a]))
			usage(0);
		else if (argv[a][0] == '-' && argv[a][1] != '\0')
			die(EX_USAGE, "push: unknown option \"%s\"", argv[a]);
		else if (domain == NULL)
			domain = argv[a];
		else if (file == NULL)
			file = argv[a];
		else
			die(EX_USAGE, "usage: zonedrop push DOMAIN [FILE|-]");
	}
	if (domain == NULL)
		die(EX_USAGE, "usage: zonedrop push DOMAIN [FILE|-]");
	check_domain_arg(domain);
	if (hostname_check(host, &err) != 0 || username_check(user, &err) != 0)
		die(EX_USAGE, "%s", err.msg);
	text = read_input(file, cfg->receiver.max_body, &len);
	len = crlf_to_lf(text, len);
	if (len == 0)
		die(EX_FAILED, "%s: empty zone text", domain);
	/* the same in-process check as the CGI: a bad zone never reaches the spool */
	rc = zone_check(domain, text, len, &info, &err);
	if (rc != 0)
		die(EX_FAILED, "%s: zone refused: %s", domain, zd_err_str(&err));
	memset(&item, 0, sizeof item);
	item.action = SPOOL_RAWSAVE;
	str_copy(item.domain, domain, sizeof item.domain);
	str_copy(item.hostname, host, sizeof item.hostname);
	str_copy(item.username, user, sizeof item.username);
	str_copy(item.source, "cli", sizeof item.source);
	item.text = text;
	item.text_len = len;
	deliver(cfg, &item);
	log_info(domain, "item=%s serial=%lu queued", item.name, (unsigned long)info.serial);
	free(text);
	return EX_DONE;
}

static int cmd_delete(const struct config *cfg, int argc, char **argv)
{
	struct spool_item item;
	int a;

	if (argc >= 1 && is_help(argv[0]))
		usage(0);
	if (argc < 1)
		die(EX_USAGE, "usage: zonedrop delete DOMAIN...");
	/* check every name before spooling any, so a typo spools nothing */
	for (a = 0; a < argc; a++)
		check_domain_arg(argv[a]);
	for (a = 0; a < argc; a++) {
		memset(&item, 0, sizeof item);
		item.action = SPOOL_DELETE;
		str_copy(item.domain, argv[a], sizeof item.domain);
		str_copy(item.source, "cli", sizeof item.source);
		deliver(cfg, &item);
		log_info(argv[a], "item=%s delete queued", item.name);
	}
	return EX_DONE;
}

/* ---- retry ---- */

static int cmd_retry(const struct config *cfg, int argc, char **argv)
{
	struct store *st = NULL;
	struct zd_err err;
	const char *backend = NULL, *v;
	char path[ZD_PATH_MAX];
	size_t n, total = 0;
	int a, all = 0, ndomains = 0, rc;

	for (a = 0; a < argc; a++) {
		if ((v = opt_value(argc, argv, &a, "--backend")) != NULL)
			backend = v;
		else if (strcmp(argv[a], "--all") == 0)
			all = 1;
		else if (is_help(argv[a]))
			usage(0);
		else if (argv[a][0] == '-')
			die(EX_USAGE, "retry: unknown option \"%s\"", argv[a]);
		else {
			check_domain_arg(argv[a]);
			ndomains++;
		}
	}
	if (all && ndomains > 0)
		die(EX_USAGE, "retry: name domains or --all, not both");
	if (backend != NULL)
		backend_arg(cfg, backend);
	if (path_join(path, sizeof path, cfg->state_dir, STORE_DB_NAME) != 0)
		die(EX_USAGE, "state_dir too long");
	if (access(path, F_OK) != 0) {
		log_info(NULL, "no state yet: nothing to retry");
		return EX_DONE;
	}
	if ((rc = store_open(cfg->state_dir, 0, &st, &err)) != 0)
		die_err(rc, &err, "open state");
	if (ndomains == 0) {
		if ((rc = store_retry_now(st, backend, NULL, &total, &err)) != 0)
			die_err(rc, &err, "retry");
	}
	for (a = 0; a < argc && ndomains > 0; a++) {
		if (strcmp(argv[a], "--backend") == 0) {
			a++;
			continue;
		}
		if (argv[a][0] == '-')
			continue;
		if ((rc = store_retry_now(st, backend, argv[a], &n, &err)) != 0)
			die_err(rc, &err, argv[a]);
		if (n == 0) {
			log_warning(argv[a], "nothing to retry%s%s", backend ? " on " : "",
			            backend ? backend : "");
		}
		total += n;
	}
	store_close(st);
	printf("retry\t%zu\n", total);
	log_info(NULL, "%zu zone state(s) due now; the next zonedrop-drain applies them", total);
	return EX_DONE;
}

/* ---- spool ---- */

/* Header of an item without reading its whole body: the header is at most
 * SPOOL_HEADER_MAX bytes, and one body byte tells a rawsave it has text. */
static int spool_peek(const char *path, struct spool_item *item)
{
	char buf[SPOOL_HEADER_MAX + 2];
	ssize_t r;
	size_t used = 0;
	int fd, rc;

	memset(item, 0, sizeof *item);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ZD_EIO;
	while (used < sizeof buf) {
		r = read(fd, buf + used, sizeof buf - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		used += (size_t)r;
	}
	close(fd);
	rc = spool_item_parse(buf, used, item, NULL);
	spool_item_clear(item);
	return rc;
}

static int cmd_spool(const struct config *cfg, int argc, char **argv)
{
	struct zd_err err;
	struct spool_item item;
	struct stat sb;
	char **names = NULL, path[ZD_PATH_MAX], wpath[ZD_PATH_MAX + 8], *why, wbuf[1024];
	const char *states[NSTATES];
	size_t nstates = 0, n = 0, i, j, wlen;
	int64_t now = time_now(), sec;
	int a, rc, ex = EX_DONE;

	for (a = 0; a < argc; a++) {
		if (is_help(argv[a]))
			usage(0);
		for (i = 0; i < NSTATES; i++)
			if (strcmp(argv[a], spool_states[i]) == 0)
				break;
		if (i == NSTATES)
			die(EX_USAGE, "spool: state is one of new cur bad tmp");
		if (nstates < NSTATES)
			states[nstates++] = spool_states[i];
	}
	if (nstates == 0)
		for (i = 0; i < NSTATES; i++)
			states[nstates++] = spool_states[i];
	for (i = 0; i < nstates; i++) {
		rc = spool_list(cfg->spool_dir, states[i], &names, &n, &err);
		if (rc != 0) {
			warn("spool %s: %s", states[i], zd_err_str(&err));
			ex = EX_FAILED;
			continue;
		}
		for (j = 0; j < n; j++) {
			int n1 = snprintf(path, sizeof path, "%s/%s/%s", cfg->spool_dir, states[i], names[j]);
			if (n1 < 0 || (size_t)n1 >= sizeof path)
				continue;
			if (spool_name_parse(names[j], &sec, NULL, NULL, NULL) != 0)
				sec = stat(path, &sb) == 0 ? (int64_t)sb.st_mtime : now;
			rc = spool_peek(path, &item);
			printf("%s\t%s\t%llds\t%s\t%s", states[i], names[j],
			       (long long)(now > sec ? now - sec : 0), rc == 0 ? item.domain : "-",
			       rc != 0 ? "-" : item.action == SPOOL_RAWSAVE ? "rawsave" : "delete");
			if (strcmp(states[i], "bad") == 0) {
				why = NULL;
				snprintf(wpath, sizeof wpath, "%s.why", path);
				if (file_read_all(wpath, 4096, &why, &wlen, NULL) == 0) {
					while (wlen > 0 && (why[wlen - 1] == '\n' || why[wlen - 1] == '\r'))
						why[--wlen] = '\0';
					printf("\t%s", field(wbuf, sizeof wbuf, why));
				} else {
					printf("\t-");
				}
				free(why);
			}
			putchar('\n');
		}
		spool_names_free(names, n);
		names = NULL;
	}
	return ex;
}

/* ---- check-config ---- */

static void config_warn(const char *msg, void *arg)
{
	(void)arg;
	log_msg(LOG_WARNING, NULL, "%s", msg);
}

static int cmd_check_config(const char *path, int argc, char **argv)
{
	struct config *cfg = NULL;
	struct zd_err err;
	int rc;

	if (argc >= 1 && is_help(argv[0]))
		usage(0);
	if (argc > 0)
		die(EX_USAGE, "check-config takes no arguments");
	rc = config_load(path, &cfg, &err);
	if (rc != 0)
		die(EX_USAGE, "%s", zd_err_str(&err));
	config_warnings(cfg, config_warn, NULL);
	if (config_print(stdout, cfg) != 0)
		die(EX_FAILED, "write to stdout: %s", strerror(errno));
	config_free(cfg);
	return EX_DONE;
}

/* ---- passwd ---- */

/* One line from fp without its line end; NULL at EOF. */
static char *line_read(FILE *fp)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, fp);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static char *tty_password(FILE *tty, const char *prompt)
{
	struct termios old, quiet;
	char *pw;
	int echo_off;

	fputs(prompt, stderr);
	fflush(stderr);
	echo_off = tcgetattr(fileno(tty), &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	pw = line_read(tty);
	if (echo_off)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	return pw;
}

static void secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int cmd_passwd(int argc, char **argv)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], *pw = NULL, *again = NULL;
	const char *user = NULL, *prefix = "$6$";
	struct crypt_data *cd = NULL;
	struct zd_err err;
	const char *hash;
	int a;

	for (a = 0; a < argc; a++) {
		if (is_help(argv[a]))
			usage(0);
		else if (strcmp(argv[a], "-y") == 0 || strcmp(argv[a], "--yescrypt") == 0)
			prefix = "$y$";
		else if (argv[a][0] == '-' || user != NULL)
			die(EX_USAGE, "usage: zonedrop passwd [-y] [USER]");
		else
			user = argv[a];
	}
	if (user != NULL && (user[0] == '\0' || username_check(user, &err) != 0))
		die(EX_USAGE, "passwd: a user name is [A-Za-z0-9._-]{1,64}");
	if (isatty(STDIN_FILENO)) {
		pw = tty_password(stdin, "Password: ");
		again = pw ? tty_password(stdin, "Again: ") : NULL;
		if (pw == NULL || again == NULL)
			die(EX_FAILED, "no password read");
		if (strcmp(pw, again) != 0)
			die(EX_FAILED, "the passwords differ");
	} else {
		pw = line_read(stdin);
		if (pw == NULL)
			die(EX_FAILED, "no password on stdin");
	}
	if (pw[0] == '\0')
		die(EX_FAILED, "empty password");
	/* random bytes from the OS (rbytes NULL), default cost */
	if (crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof salt) == NULL)
		die(EX_FAILED, "crypt_gensalt %s: %s", prefix, strerror(errno));
	cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		die(EX_FAILED, "out of memory");
	hash = crypt_rn(pw, salt, cd, (int)sizeof *cd);
	if (hash == NULL || hash[0] == '*')
		die(EX_FAILED, "crypt failed: %s", strerror(errno));
	if (user != NULL)
		printf("- name: %s\n  password_hash: \"%s\"\n", user, hash);
	else
		printf("password_hash: \"%s\"\n", hash);
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	secret_free(pw);
	secret_free(again);
	return EX_DONE;
}

/* ---- main ---- */

struct command {
	const char *name;
	int (*fn)(const struct config *cfg, int argc, char **argv);
};

/* ---- db-init ---- */

static int cmd_db_init(const struct config *cfg, int argc, char **argv)
{
	const struct config_backend *be;
	struct zd_err err;
	int i, failed = 0;

	if (argc < 1)
		die(EX_USAGE, "usage: zonedrop db-init BACKEND...");
	for (i = 0; i < argc; i++) {
		be = config_backend_find(cfg, argv[i]);
		if (be == NULL)
			die(EX_USAGE, "no backend \"%s\" in the configuration", argv[i]);
		if (be->type != BACKEND_POWERDNS_MYSQL && be->type != BACKEND_COREDNS_MYSQL)
			die(EX_USAGE, "backend %s is %s, not a MySQL backend", be->name,
			    config_backend_type_name(be->type));
	}
	for (i = 0; i < argc; i++) {
		be = config_backend_find(cfg, argv[i]);
		zd_err_clear(&err);
		if (backend_mysql_db_init(be, &err) != 0) {
			warn("%s", zd_err_str(&err));
			failed = 1;
		} else {
			printf("%s: tables ready\n", be->name);
		}
	}
	return failed ? EX_FAILED : EX_DONE;
}

static const struct command commands[] = {
	{ "status", cmd_status },
	{ "zones", cmd_zones },
	{ "show", cmd_show },
	{ "push", cmd_push },
	{ "delete", cmd_delete },
	{ "retry", cmd_retry },
	{ "spool", cmd_spool },
	{ "db-init", cmd_db_init },
	{ "verify", cmd_verify },
	{ "secondary", cmd_secondary },   /* cmd/cli/secondary.c */
};

int main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct zd_err err;
	const char *cfg_arg = NULL, *path, *name;
	const struct command *cmd = NULL;
	size_t i;
	int opt, rc;

	log_init("zonedrop", LOG_INFO);
	while ((opt = getopt(argc, argv, "+c:h")) != -1) {
		switch (opt) {
		case 'c':
			cfg_arg = optarg;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind >= argc)
		usage(EX_USAGE);
	name = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;
	path = config_path(cfg_arg);

	/* these two never touch the spool or the state: no user switch */
	if (strcmp(name, "passwd") == 0)
		rc = cmd_passwd(argc, argv);
	else if (strcmp(name, "check-config") == 0)
		rc = cmd_check_config(path, argc, argv);
	else if (strcmp(name, "import-directdnsonly") == 0)
		rc = cmd_import_directdnsonly(cfg_arg, argc, argv);
	else {
		for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(name, commands[i].name) == 0)
				cmd = &commands[i];
		if (cmd == NULL) {
			warn("unknown command \"%s\"", name);
			usage(EX_USAGE);
		}
		if (argc >= 1 && is_help(argv[0]))
			usage(0);
		rc = config_load(path, &cfg, &err);
		if (rc != 0)
			die(EX_USAGE, "%s", zd_err_str(&err));
		log_set_level((enum log_level)cfg->log_level);
		privileges_drop(cfg);
		rc = cmd->fn(cfg, argc, argv);
		config_free(cfg);
	}
	stdout_finish();
	return rc;
}
