/* zonedrop-drain.c -- ingest the spool, bring every backend to the desired state, verify */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "zonedrop/config.h"
#include "zonedrop/drain.h"
#include "zonedrop/err.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"
#include "cli/cli.h"


#define DRAIN_SQLITE_HEAP_MAX (2 * 1024 * 1024)

static const char usage_text[] =
	"usage: zonedrop-drain [-c FILE] [-h] [-f] [-b BACKEND]\n"
	"\n"
	"  -c FILE     config (default $ZONEDROP_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
	"  -f          retry every failed, rejected and waiting zone now\n"
	"  -b BACKEND  apply to this backend only (even when it is not enabled)\n"
	"  -h          this help\n"
	"Exit: 0 all applied and verified, 1 some zone failed or was rejected,\n"
	"      2 usage or configuration error, 75 the spool is locked or the state is busy.\n";

static void usage(int code)
{
	fputs(usage_text, code == 0 ? stdout : stderr);
	exit(code);
}

int main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct drain_opts opts = { 0, NULL };
	struct drain_stats stats;
	struct zd_err err = { 0 };
	const char *arg_c = NULL;
	int ch, rc;

	/* ldns takes and frees a 64 KiB buffer per record parsed; with glibc's
	 * default 128 KiB trim threshold every free shrank the heap (brk + TLB
	 * flush): 1.6-8 ms per zone measured, 0.13 ms with the heap kept */
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	/* the drain must stay small (32 MB at 10k zones, texts of a batch
	 * included): SQLite gives back cache pages above this, whatever
	 * cache_size the store asks for */
	sqlite3_soft_heap_limit64(DRAIN_SQLITE_HEAP_MAX);
	log_init("zonedrop-drain", LOG_INFO);
	/* a control command or a DNS server closing on us is an error to report,
	 * not a reason to die half-way (children get SIGPIPE back: exec.c) */
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:fb:h")) != -1) {
		switch (ch) {
		case 'c':
			arg_c = optarg;
			break;
		case 'f':
			opts.force_retry = 1;
			break;
		case 'b':
			opts.only_backend = optarg;
			break;
		case 'h':
			usage(EX_DONE);
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind != argc)
		usage(EX_USAGE);
	cfg = config_or_die(arg_c);

	zd_err_clear(&err);
	rc = drain_run(cfg, &opts, &stats, &err);
	switch (rc) {
	case 0:
		break;
	case 1:
		log_msg(LOG_ERROR, NULL, "some zones were not applied: %zu failed or rejected, %zu bad "
		        "item(s) (see the lines above)", stats.failed, stats.bad);
		rc = EX_FAILED;
		break;
	default:
		rc = run_exit(rc, &err, "another drain runs, try later");
		break;
	}
	config_free(cfg);
	return rc;
}
