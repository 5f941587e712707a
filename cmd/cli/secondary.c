/* secondary.c -- zonedrop secondary add|del|list: the zones_file and the refresh state */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/config.h"
#include "zonedrop/domain.h"
#include "zonedrop/secondary.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "cli.h"

static const char secondary_usage[] =
	"usage: zonedrop secondary add DOMAIN MASTER[:PORT] [TSIG-KEY] [--replace]\n"
	"       zonedrop secondary del DOMAIN\n"
	"       zonedrop secondary list\n";

struct sec_list_walk {
	const struct secondary_list *l;
	size_t i;
	int64_t now;
};

static void sec_print(const char *domain, const char *master, const char *key, const char *state,
                      const struct secondary_state *s)
{
	char t1[32], t2[32], serial[16] = "-";

	if (s != NULL && s->have_serial)
		snprintf(serial, sizeof serial, "%lu", (unsigned long)s->serial);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", domain, master, key[0] ? key : "-", state, serial,
	       iso_time(t1, sizeof t1, s ? s->last_check : 0),
	       s != NULL && s->next_due > 0 ? iso_time(t2, sizeof t2, s->next_due) : "now");
}

static void sec_print_entry(const struct secondary_entry *e)
{
	char master[SECONDARY_MASTER_MAX];

	secondary_master_format(master, sizeof master, e->host, e->port);
	sec_print(e->domain, master, e->key, "new", NULL);
}

static int sec_list_row(const struct secondary_state *s, void *arg)
{
	struct sec_list_walk *w = arg;

	while (w->i < w->l->n && strcmp(w->l->e[w->i].domain, s->domain) < 0)
		sec_print_entry(&w->l->e[w->i++]);
	if (w->i < w->l->n && strcmp(w->l->e[w->i].domain, s->domain) == 0) {
		const struct secondary_entry *e = &w->l->e[w->i++];
		char master[SECONDARY_MASTER_MAX];

		secondary_master_format(master, sizeof master, e->host, e->port);
		sec_print(e->domain, master, e->key, secondary_state_name(s, w->now), s);
	}
	/* state of a zone no longer listed: the next refresh drops it */
	return ferror(stdout) ? ZD_EIO : 0;
}

static int sec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct secondary_entry *)a)->domain,
	              ((const struct secondary_entry *)b)->domain);
}

static void sec_report(const char *msg, void *arg)
{
	warn("%s: %s (line skipped)", (const char *)arg, msg);
}

static int secondary_list_cmd(const struct config *cfg)
{
	struct secondary_list l;
	struct sec_list_walk w;
	struct store *st;
	struct zd_err err;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(&l, 0, sizeof l);
	rc = file_read_all(cfg->secondary.zones_file, 256u << 20, &buf, &len, &err);
	if (rc != 0 && err.sys_errno != ENOENT)
		die_err(rc, &err, "read the zones_file");
	if (rc == 0) {
		if (secondary_parse(buf, len, &l, sec_report, cfg->secondary.zones_file) != 0)
			die(EX_FAILED, "out of memory");
		free(buf);
	}
	qsort(l.e, l.n, sizeof *l.e, sec_cmp);
	w.l = &l;
	w.i = 0;
	w.now = time_now();
	st = state_open_ro(cfg);
	if (st != NULL) {
		rc = secondary_state_each(st, sec_list_row, &w, &err);
		store_close(st);
		if (rc != 0)
			die_err(rc, &err, "read the refresh state");
	}
	while (w.i < l.n)
		sec_print_entry(&l.e[w.i++]);
	rc = l.errors > 0 ? EX_FAILED : EX_DONE;
	secondary_list_free(&l);
	stdout_finish();
	return rc;
}

int cmd_secondary(const struct config *cfg, int argc, char **argv)
{
	struct secondary_entry e;
	struct zd_err err;
	int rc, replace = 0, a, n = 0;
	char *args[4];

	if (argc < 1 || is_help(argv[0])) {
		fputs(secondary_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? EX_USAGE : EX_DONE;
	}
	if (cfg->secondary.zones_file == NULL)
		die(EX_USAGE, "%s: secondary.zones_file is not set", cfg->path);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--replace") == 0)
			replace = 1;
		else if (n < 4)
			args[n++] = argv[a];
		else
			die(EX_USAGE, "%s", secondary_usage);
	}
	if (strcmp(argv[0], "list") == 0) {
		if (n != 0)
			die(EX_USAGE, "%s", secondary_usage);
		return secondary_list_cmd(cfg);
	}
	if (strcmp(argv[0], "add") == 0) {
		size_t i;

		if (n < 2 || n > 3)
			die(EX_USAGE, "%s", secondary_usage);
		memset(&e, 0, sizeof e);
		check_domain_arg(args[0]);
		str_copy(e.domain, args[0], sizeof e.domain);
		if (secondary_master_parse(args[1], e.host, sizeof e.host, &e.port) != 0)
			die(EX_USAGE, "master \"%s\": not an IP address with an optional :port", args[1]);
		if (n == 3) {
			for (i = 0; i < cfg->secondary.ntsig_keys; i++)
				if (strcmp(cfg->secondary.tsig_keys[i].name, args[2]) == 0)
					break;
			if (i == cfg->secondary.ntsig_keys)
				die(EX_USAGE, "tsig key \"%s\" is not in secondary.tsig_keys", args[2]);
			str_copy(e.key, args[2], sizeof e.key);
		}
		zd_err_clear(&err);
		if ((rc = secondary_file_add(cfg->secondary.zones_file, &e, replace, &err)) != 0)
			die(rc == ZD_EEXIST ? EX_FAILED : exit_for(rc), "%s%s", zd_err_str(&err),
			    rc == ZD_EEXIST ? " (--replace to change it)" : "");
		printf("%s: added to %s; zonedrop-refresh transfers it on its next run\n", e.domain,
		       cfg->secondary.zones_file);
		stdout_finish();
		return EX_DONE;
	}
	if (strcmp(argv[0], "del") == 0) {
		if (n != 1)
			die(EX_USAGE, "%s", secondary_usage);
		check_domain_arg(args[0]);
		zd_err_clear(&err);
		if ((rc = secondary_file_del(cfg->secondary.zones_file, args[0], &err)) != 0)
			die(rc == ZD_ENOENT ? EX_FAILED : exit_for(rc), "%s", zd_err_str(&err));
		printf("%s: removed from %s; it stays on the backends until `zonedrop delete %s`\n",
		       args[0], cfg->secondary.zones_file, args[0]);
		stdout_finish();
		return EX_DONE;
	}
	die(EX_USAGE, "secondary: unknown subcommand \"%s\"\n%s", argv[0], secondary_usage);
}
