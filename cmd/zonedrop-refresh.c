/* zonedrop-refresh.c -- secondary zones: SOA poll of the masters, AXFR on change, into the spool */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zonedrop/config.h"
#include "zonedrop/err.h"
#include "zonedrop/log.h"
#include "zonedrop/refresh.h"
#include "zonedrop/util.h"
#include "cli/cli.h"


static const char usage_text[] =
	"usage: zonedrop-refresh [-c FILE] [-h] [-f] [-t SECONDS] [-z DOMAIN]\n"
	"\n"
	"  -c FILE     config (default $ZONEDROP_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
	"  -f          every zone is due now (ignore refresh timers and master backoff)\n"
	"  -t SECONDS  stop starting work after this long (default 50)\n"
	"  -z DOMAIN   look at this zone only\n"
	"  -h          this help\n"
	"Exit: 0 every due zone handled, 1 some zone failed or expired,\n"
	"      2 usage or configuration error, 75 another refresh runs or the state is busy.\n";

static void usage(int code)
{
	fputs(usage_text, code == 0 ? stdout : stderr);
	exit(code);
}

int main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct refresh_opts opts = { 0, 0, NULL };
	struct refresh_stats st;
	struct zd_err err = { 0 };
	const char *arg_c = NULL;
	uint64_t secs;
	int ch, rc;

	log_init("zonedrop-refresh", LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:ft:z:h")) != -1) {
		switch (ch) {
		case 'c':
			arg_c = optarg;
			break;
		case 'f':
			opts.force = 1;
			break;
		case 't':
			if (parse_u64(optarg, 86400, &secs) != 0 || secs == 0)
				die(EX_USAGE, "-t %s: not a number of seconds (1 to 86400)", optarg);
			opts.deadline_ms = (int64_t)secs * 1000;
			break;
		case 'z':
			opts.only = optarg;
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
	rc = refresh_run(cfg, &opts, &st, &err);
	if (rc >= 0)
		log_msg(LOG_INFO, NULL, "refresh done: zones=%zu due=%zu checked=%zu unchanged=%zu "
		        "changed=%zu transferred=%zu failed=%zu expired=%zu withdrawn=%zu pending=%zu "
		        "drain_rejected=%zu backoff=%zu not_done=%zu masters=%zu masters_down=%zu "
		        "soa_queries=%zu seconds=%.3f", st.zones, st.due, st.checked, st.unchanged,
		        st.changed, st.transferred, st.failed, st.expired, st.withdrawn, st.pending,
		        st.drain_rejected, st.backoff, st.not_done, st.masters, st.masters_down,
		        st.soa_queries, st.seconds);
	switch (rc) {
	case 0:
		break;
	case 1:
		log_msg(LOG_ERROR, NULL, "some zones failed: %zu failed, %zu expired, %zu rejected by the "
		        "drain (see the lines above)", st.failed, st.expired, st.drain_rejected);
		rc = EX_FAILED;
		break;
	default:
		rc = run_exit(rc, &err, "try later");
		break;
	}
	config_free(cfg);
	return rc;
}
