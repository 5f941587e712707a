/* verify.c -- zonedrop verify: what every backend serves against the desired state */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/heal.h"
#include "zonedrop/log.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "cli.h"

/* One mismatch: backend domain what desired served [record] */
static void verify_line(const struct heal_mismatch *m, void *arg)
{
	char b[300], d[300], r[1100], want[16] = "-", got[16] = "-";
	size_t *n = arg;

	if (m->has_want)
		snprintf(want, sizeof want, "%u", m->want_serial);
	if (m->has_got)
		snprintf(got, sizeof got, "%u", m->got_serial);
	if (m->record != NULL)
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", field(b, sizeof b, m->backend),
		       field(d, sizeof d, m->domain), m->what, want, got, field(r, sizeof r, m->record));
	else
		printf("%s\t%s\t%s\t%s\t%s\n", field(b, sizeof b, m->backend),
		       field(d, sizeof d, m->domain), m->what, want, got);
	(*n)++;
}

int cmd_verify(const struct config *cfg, int argc, char **argv)
{
	struct heal_opts o;
	struct heal_stats hs;
	struct store *st;
	struct zd_err err;
	const char *v;
	char **doms = NULL;
	size_t ndoms = 0, lines = 0;
	int a, rc;
	int64_t t0 = time_mono_ms();

	memset(&o, 0, sizeof o);
	doms = calloc((size_t)argc + 1, sizeof *doms);
	if (doms == NULL)
		die(EX_FAILED, "out of memory");
	for (a = 0; a < argc; a++) {
		if ((v = opt_value(argc, argv, &a, "--backend")) != NULL) {
			backend_arg(cfg, v);
			o.only_backend = v;
		} else if ((v = opt_value(argc, argv, &a, "--timeout")) != NULL) {
			int64_t ms;
			if (parse_duration_ms(v, &ms) != 0 || ms <= 0)
				die(EX_USAGE, "verify: --timeout takes a duration (10s, 1500ms)");
			o.timeout_ms = ms;
		} else if (strcmp(argv[a], "--deep") == 0) {
			o.deep = 1;
		} else if (argv[a][0] == '-') {
			die(EX_USAGE, "verify: unexpected argument \"%s\"", argv[a]);
		} else {
			check_domain_arg(argv[a]);
			doms[ndoms++] = argv[a];
		}
	}
	o.domains = doms;
	o.ndomains = ndoms;
	o.mark = 0;   /* on demand: report only; zonedrop-reconcile marks */
	st = state_open_ro(cfg);
	if (st == NULL) {
		free(doms);
		return EX_DONE;   /* nothing held, nothing to serve */
	}
	for (a = 0; (size_t)a < ndoms; a++) {
		struct store_zone z;
		memset(&z, 0, sizeof z);
		if (store_zone_get(st, doms[a], 0, &z, &err) == ZD_ENOENT)
			warn("[%s] is not held: nothing to verify", doms[a]);
		store_zone_clear(&z);
	}
	zd_err_clear(&err);
	rc = heal_run(cfg, st, &o, verify_line, &lines, &hs, &err);
	store_close(st);
	free(doms);
	if (rc < 0)
		die_err(rc, &err, "verify");
	log_info(NULL, "verify done: backends=%zu skipped=%zu zones=%zu mismatches=%zu "
	         "unanswered=%zu seconds=%.3f", hs.backends, hs.backends_skipped, hs.zones,
	         hs.mismatches, hs.unanswered, (double)(time_mono_ms() - t0) / 1000.0);
	return rc == 0 ? EX_DONE : EX_FAILED;
}
