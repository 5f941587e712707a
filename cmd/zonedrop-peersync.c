/* zonedrop-peersync.c -- pull newer zones from peer instances into the spool (Source: peer) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "zonedrop/config.h"
#include "zonedrop/err.h"
#include "zonedrop/log.h"
#include "zonedrop/peer.h"
#include "zonedrop/util.h"
#include "cli/cli.h"


static const char usage_text[] =
	"usage: zonedrop-peersync [-c FILE] [-h] [-n] [-t SECONDS] [-j N]\n"
	"\n"
	"  -c FILE     config (default $ZONEDROP_CONFIG, else " CONFIG_DEFAULT_PATH ")\n"
	"  -n          dry run: decide and report, spool nothing\n"
	"  -t SECONDS  deadline of the whole run (default 600)\n"
	"  -j N        zone requests in flight per peer (default 4, at most 64;\n"
	"              each asks for up to 100 zones)\n"
	"  -h          this help\n"
	"Exit: 0 every peer answered and every newer zone was spooled, 1 some peer or\n"
	"      zone failed, 2 usage or configuration error, 75 the state is busy.\n";

static void usage(int code)
{
	fputs(usage_text, code == 0 ? stdout : stderr);
	exit(code);
}

int main(int argc, char **argv)
{
	struct peer_sync_opts opts = { 600000, 4, 0 };
	struct peer_sync_stats st;
	struct config *cfg = NULL;
	struct zd_err err = { 0 };
	const char *arg_c = NULL;
	uint64_t v;
	int ch, rc;

	log_init("zonedrop-peersync", LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:nt:j:h")) != -1) {
		switch (ch) {
		case 'c':
			arg_c = optarg;
			break;
		case 'n':
			opts.dry_run = 1;
			break;
		case 't':
			if (parse_u64(optarg, 86400, &v) != 0 || v == 0)
				die(EX_USAGE, "-t: seconds, 1..86400");
			opts.deadline_ms = (int64_t)v * 1000;
			break;
		case 'j':
			if (parse_u64(optarg, 64, &v) != 0 || v == 0)
				die(EX_USAGE, "-j: 1..64");
			opts.parallel = (int)v;
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
	if (cfg->peers.nremotes == 0)
		die(EX_USAGE, "%s: no peers.remotes configured", cfg->path);
	zd_err_clear(&err);
	rc = peer_sync_run(cfg, &opts, &st, &err);
	if (rc < 0) {
		log_msg(LOG_ERROR, NULL, "%s", zd_err_str(&err));
		config_free(cfg);
		return rc == ZD_ECONFIG ? EX_USAGE : EX_BUSY;
	}
	log_msg(rc == 0 ? LOG_INFO : LOG_ERROR, NULL,
	        "peersync done: peers_ok=%zu peers_failed=%zu listed=%zu pulled=%zu deleted=%zu "
	        "suspect=%zu undefined=%zu conflicts=%zu failed=%zu seconds=%.3f", st.peers_ok,
	        st.peers_failed, st.listed, st.pulled, st.deleted, st.suspect, st.undefined,
	        st.conflicts, st.failed, st.seconds);
	config_free(cfg);
	return rc == 0 ? EX_DONE : EX_FAILED;
}
