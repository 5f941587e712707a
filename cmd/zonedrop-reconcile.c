/* zonedrop-reconcile.c -- orphans against DirectAdmin listings, healing of every backend */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "zonedrop/config.h"
#include "zonedrop/err.h"
#include "zonedrop/log.h"
#include "zonedrop/reconcile.h"
#include "zonedrop/util.h"
#include "cli/cli.h"


static const char usage_text[] =
	"usage: zonedrop-reconcile [-c FILE] [-h] [-n | -y] [-O | -H] [-D] [-s SERVER]\n"
	"                          [-t SECONDS] [-T SECONDS]\n"
	"\n"
	"  -c FILE     config (default $ZONEDROP_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
	"  -n          dry run: report orphans and mismatches, delete and mark nothing\n"
	"  -y          delete orphans although reconcile.dry_run is true (max_deletes holds)\n"
	"  -O          orphans only (no healing)\n"
	"  -H          healing only (no DirectAdmin listings)\n"
	"  -D, --deep  healing compares every record, not only the SOA serial\n"
	"  -s SERVER   only this reconcile.directadmin entry (hostname or url)\n"
	"  -t SECONDS  per HTTP request and per backend check (default 30 / 10)\n"
	"  -T SECONDS  the whole run (default 600)\n"
	"  -h          this help\n"
	"Output: orphan<TAB>server<TAB>domain<TAB>deleted|dry-run|over-cap|changed\n"
	"        heal<TAB>backend<TAB>domain<TAB>missing|stale|unwanted|differs<TAB>desired<TAB>served\n"
	"             [<TAB>-RR desired, not served | +RR served, not desired]  (-D)\n"
	"Exit: 0 done (orphans and mismatches handled or reported), 1 a listing was\n"
	"      unusable, orphans over max_deletes, or a backend could not be checked,\n"
	"      2 usage or configuration error,\n"
	"      75 the spool is locked (healing skipped) or the state is busy.\n";

static void usage(int code)
{
	fputs(usage_text, code == 0 ? stdout : stderr);
	exit(code);
}

static int64_t seconds_arg(const char *s, const char *opt)
{
	uint64_t v;

	if (parse_u64(s, 86400, &v) != 0 || v == 0)
		die(EX_USAGE, "%s: seconds from 1 to 86400, not \"%s\"", opt, s);
	return (int64_t)v * 1000;
}

/* untrusted text as one TSV field */
static const char *tsv(char *buf, size_t sz, const char *s)
{
	if (s == NULL || *s == '\0')
		return "-";
	return str_safe(buf, sz, s, strlen(s));
}

static void report(const struct reconcile_report *r, void *arg)
{
	char a[300], b[300], w[64];

	(void)arg;
	if (r->m != NULL) {
		char want[16] = "-", got[16] = "-";

		if (r->m->has_want)
			snprintf(want, sizeof want, "%u", r->m->want_serial);
		if (r->m->has_got)
			snprintf(got, sizeof got, "%u", r->m->got_serial);
		printf("heal\t%s\t%s\t%s\t%s\t%s", tsv(a, sizeof a, r->server),
		       tsv(b, sizeof b, r->domain), tsv(w, sizeof w, r->what), want, got);
		if (r->m->record != NULL) {
			char rec[1100];

			printf("\t%s", tsv(rec, sizeof rec, r->m->record));
		}
		putchar('\n');
	} else {
		printf("%s\t%s\t%s\t%s\n", r->kind, tsv(a, sizeof a, r->server),
		       tsv(b, sizeof b, r->domain), tsv(w, sizeof w, r->what));
	}
}

int main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct reconcile_opts o;
	struct reconcile_stats rs;
	struct zd_err err = { 0 };
	const char *arg_c = NULL;
	int ch, rc, only_orphans = 0, only_heal = 0;
	static const struct option longopts[] = {
		{ "deep", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};

	memset(&o, 0, sizeof o);
	o.dry_run = -1;
	log_init("zonedrop-reconcile", LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "c:nyOHDs:t:T:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			arg_c = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'y':
			o.dry_run = 0;
			break;
		case 'O':
			only_orphans = 1;
			break;
		case 'H':
			only_heal = 1;
			break;
		case 'D':
			o.deep = 1;
			break;
		case 's':
			o.only_server = optarg;
			break;
		case 't':
			o.request_timeout_ms = seconds_arg(optarg, "-t");
			o.heal_timeout_ms = o.request_timeout_ms;
			break;
		case 'T':
			o.deadline_ms = seconds_arg(optarg, "-T");
			break;
		case 'h':
			usage(EX_DONE);
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind != argc || (only_orphans && only_heal) || (only_orphans && o.deep))
		usage(EX_USAGE);
	o.orphans = !only_heal;
	o.heal = !only_orphans;
	cfg = config_or_die(arg_c);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EX_FAILED, "curl_global_init failed");

	zd_err_clear(&err);
	rc = reconcile_run(cfg, &o, report, NULL, &rs, &err);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_msg(LOG_ERROR, NULL, "write to stdout failed");
		if (rc == 0)
			rc = 1;
	}
	log_msg(LOG_INFO, NULL, "reconcile done: servers=%zu skipped=%zu capped=%zu held=%zu "
	        "listed=%zu orphans=%zu deleted=%zu%s backends=%zu backends_skipped=%zu zones=%zu "
	        "mismatches=%zu healed=%zu%s seconds=%.3f", rs.servers, rs.servers_skipped,
	        rs.servers_capped, rs.held, rs.listed, rs.orphans, rs.deleted,
	        o.orphans && (o.dry_run == 1 || (o.dry_run < 0 && cfg->reconcile.dry_run)) ? " (dry run)" : "",
	        rs.heal.backends, rs.heal.backends_skipped, rs.heal.zones, rs.heal.mismatches,
	        rs.heal.marked, rs.heal_busy ? " (healing skipped: spool locked)" : "", rs.seconds);
	switch (rc) {
	case 0:
		rc = EX_DONE;
		break;
	case 1:
		rc = EX_FAILED;
		break;
	default:
		rc = run_exit(rc, &err, NULL);
		break;
	}
	curl_global_cleanup();
	config_free(cfg);
	return rc;
}
