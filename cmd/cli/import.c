/* import.c -- zonedrop import-directdnsonly: directdnsonly 2.x's app.yml into
 * zonedrop.yml and its SQLite datastore into the spool (shared/DIRECTDNSONLY-IMPORT.md) */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zonedrop/dadns_import.h"
#include "zonedrop/log.h"
#include "zonedrop/spool.h"
#include "zonedrop/util.h"
#include "cli.h"

extern char **environ;

static const char import_usage[] =
	"usage: zonedrop [-c FILE] import-directdnsonly [--output FILE] [--secrets-dir DIR]\n"
	"         [--env-file FILE] [--from-env] [--verify ADDR@PORT] [--no-config] [--no-zones]\n"
	"         APP_YML [DB]\n";

/* "KEY=VALUE" lines of an env file (docker inspect, compose environment:,
 * "export " and quotes tolerated) appended to *env */
static void env_file_read(const char *path, char ***env, size_t *n)
{
	struct zd_err err;
	char *buf, *line, *save = NULL, *eq, *v, **ne;
	size_t len, vl;

	if (file_read_all(path, 1u << 20, &buf, &len, &err) != 0)
		die(EX_USAGE, "--env-file: %s", zd_err_str(&err));
	for (line = strtok_r(buf, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
		while (*line == ' ' || *line == '\t' || *line == '-')
			line++;
		if (strncmp(line, "export ", 7) == 0)
			line += 7;
		if (*line == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		v = eq + 1;
		vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			memmove(v, v + 1, vl - 1);
		}
		ne = realloc(*env, (*n + 1) * sizeof *ne);
		if (ne == NULL || (ne[*n] = strdup(line)) == NULL)
			die(EX_FAILED, "out of memory");
		*env = ne;
		(*n)++;
	}
	free(buf);
}

/* create path with content, never replacing an existing file */
static int write_new(const char *path, const char *data, size_t len, mode_t mode, uid_t uid)
{
	char tmp[ZD_PATH_MAX];
	struct zd_err err;

	if (snprintf(tmp, sizeof tmp, "%s.import.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		die(EX_USAGE, "%s: path too long", path);
	if (file_write_atomic(tmp, data, len, mode, &err) != 0)
		die(EX_FAILED, "%s", zd_err_str(&err));
	if (uid != (uid_t)-1 && chown(tmp, uid, (gid_t)-1) != 0)
		warn("chown %s: %s", tmp, strerror(errno));
	/* link(2) fails when path exists: an existing file is never replaced */
	if (link(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	unlink(tmp);
	return fsync_dir(path, 0, &err) == 0 ? 0 : -1;
}

static int secret_same(const char *path, const char *value)
{
	struct zd_err err;
	char *buf;
	size_t len;
	int same;

	if (file_read_all(path, 65536, &buf, &len, &err) != 0)
		return 0;
	same = len == strlen(value) && memcmp(buf, value, len) == 0;
	explicit_bzero(buf, len);
	free(buf);
	return same;
}

struct import_run {
	const struct config *cfg;
	const char *zones_dir;
	FILE *report;
	size_t imported, skipped;
	int fatal;
};

static int import_row(const struct dadns_row *row, void *arg)
{
	struct import_run *r = arg;
	struct spool_item item;
	struct zd_err err;
	char fb[1024], rb[1024];
	int lowered = 0, rc;

	rc = dadns_row_item(row, r->zones_dir, &item, &lowered, &err);
	if (rc == ZD_ENOMEM)
		die(EX_FAILED, "out of memory");
	if (rc != 0) {
		fprintf(r->report, "%s\tskipped\t%s\n", field(fb, sizeof fb, row->domain),
		        field(rb, sizeof rb, zd_err_str(&err)));
		log_warning(row->domain, "import: skipped: %s", zd_err_str(&err));
		r->skipped++;
		return 0;
	}
	rc = spool_deliver(r->cfg->spool_dir, &item, &err);
	if (rc != 0) {
		/* the spool itself failed: nothing after this can succeed either */
		log_error(item.domain, "import: %s", zd_err_str(&err));
		spool_item_clear(&item);
		r->fatal = exit_for(rc);
		return 1;
	}
	snprintf(rb, sizeof rb, "item=%s%s%s", item.name, lowered ? " lower-cased" : "",
	         item.changed[0] ? "" : " no-changed-time");
	fprintf(r->report, "%s\timported\t%s\n", item.domain, rb);
	log_info(item.domain, "item=%s source=cli imported from directdnsonly%s", item.name,
	         lowered ? " (name lower-cased)" : "");
	r->imported++;
	spool_item_clear(&item);
	return 0;
}

int cmd_import_directdnsonly(const char *cfg_arg, int argc, char **argv)
{
	const char *output = NULL, *secrets_dir = NULL, *verify = NULL, *app = NULL, *db = NULL, *v;
	char **env = NULL, secdir[ZD_PATH_MAX], dbpath[ZD_PATH_MAX], *buf = NULL, *slash;
	size_t nenv = 0, len, i;
	int a, from_env = 0, no_config = 0, no_zones = 0, rc, code = EX_DONE;
	struct dadns_opts o;
	struct dadns_conf conv;
	struct zd_err err;
	struct passwd *pw;
	uid_t owner = (uid_t)-1;
	FILE *report;

	for (a = 0; a < argc; a++) {
		if ((v = opt_value(argc, argv, &a, "--output")) != NULL)
			output = v;
		else if ((v = opt_value(argc, argv, &a, "--secrets-dir")) != NULL)
			secrets_dir = v;
		else if ((v = opt_value(argc, argv, &a, "--verify")) != NULL)
			verify = v;
		else if ((v = opt_value(argc, argv, &a, "--env-file")) != NULL)
			env_file_read(v, &env, &nenv);
		else if (strcmp(argv[a], "--from-env") == 0)
			from_env = 1;
		else if (strcmp(argv[a], "--no-config") == 0)
			no_config = 1;
		else if (strcmp(argv[a], "--no-zones") == 0)
			no_zones = 1;
		else if (is_help(argv[a])) {
			fputs(import_usage, stdout);
			return EX_DONE;
		} else if (argv[a][0] == '-' && argv[a][1] != '\0')
			die(EX_USAGE, "import-directdnsonly: unknown option \"%s\"", argv[a]);
		else if (app == NULL)
			app = argv[a];
		else if (db == NULL)
			db = argv[a];
		else
			die(EX_USAGE, "%s", import_usage);
	}
	if (app == NULL || (no_config && no_zones))
		die(EX_USAGE, "%s", import_usage);
	if (from_env)
		for (i = 0; environ[i] != NULL; i++) {
			char **ne;

			if (strncmp(environ[i], "DADNS", 5) != 0)
				continue;
			ne = realloc(env, (nenv + 1) * sizeof *ne);
			if (ne == NULL || (ne[nenv] = strdup(environ[i])) == NULL)
				die(EX_FAILED, "out of memory");
			env = ne;
			nenv++;
		}
	/* the password files: beside the written config, else beside the one in use */
	if (secrets_dir == NULL) {
		str_copy(secdir, output ? output : config_path(cfg_arg), sizeof secdir);
		slash = strrchr(secdir, '/');
		if (slash == NULL)
			str_copy(secdir, ".", sizeof secdir);
		else if (slash == secdir)
			secdir[1] = '\0';
		else
			*slash = '\0';
	} else if (str_copy(secdir, secrets_dir, sizeof secdir) >= sizeof secdir)
		die(EX_USAGE, "--secrets-dir: path too long");
	if (secdir[0] != '/') {
		char cwd[ZD_PATH_MAX], tmp[ZD_PATH_MAX];

		if (getcwd(cwd, sizeof cwd) == NULL || snprintf(tmp, sizeof tmp, "%s/%s", cwd, secdir)
		    >= (int)sizeof tmp)
			die(EX_USAGE, "secrets directory %s: cannot make it absolute", secdir);
		str_copy(secdir, tmp, sizeof secdir);
	}

	if (file_read_all(app, 4u << 20, &buf, &len, &err) != 0)
		die(EX_USAGE, "%s", zd_err_str(&err));
	memset(&o, 0, sizeof o);
	o.source_name = app;
	o.secrets_dir = secdir;
	o.verify = verify;
	o.env = (const char *const *)env;
	o.nenv = nenv;
	rc = dadns_convert(buf, len, &o, &conv, &err);
	free(buf);
	if (rc != 0)
		die(rc == ZD_ENOMEM ? EX_FAILED : EX_USAGE, "%s", zd_err_str(&err));
	for (i = 0; i < conv.nnotes; i++)
		log_msg(LOG_WARNING, NULL, "import: %s", conv.notes[i]);
	if (conv.refused)
		die(EX_USAGE, "import: nothing written: fix what is refused above");
	if (!no_zones && strcmp(conv.datastore_type, "sqlite") != 0 && db == NULL)
		die(EX_USAGE, "import: datastore.type is %s: only a SQLite datastore can be imported "
		    "(--no-zones converts the configuration alone)", conv.datastore_type);

	if (!no_config) {
		/* secrets first: a config naming files that do not exist helps nobody */
		if (geteuid() == 0 && (pw = getpwnam("zonedrop")) != NULL)
			owner = pw->pw_uid;
		for (i = 0; i < conv.nsecrets; i++) {
			if (write_new(conv.secrets[i].path, conv.secrets[i].value, strlen(conv.secrets[i].value),
			              0600, owner) != 0) {
				if (errno == EEXIST && secret_same(conv.secrets[i].path, conv.secrets[i].value))
					continue;
				die(errno == EEXIST ? EX_USAGE : EX_FAILED, "%s: %s%s", conv.secrets[i].path,
				    strerror(errno), errno == EEXIST ? " (holds another value; not overwritten)" : "");
			}
			log_info(NULL, "import: wrote %s (mode 0600%s)", conv.secrets[i].path,
			         owner != (uid_t)-1 ? ", owner zonedrop" : "; make zonedrop its owner");
		}
		if (output != NULL) {
			if (write_new(output, conv.yaml, strlen(conv.yaml), 0640, (uid_t)-1) != 0)
				die(errno == EEXIST ? EX_USAGE : EX_FAILED, "--output %s: %s%s", output,
				    strerror(errno), errno == EEXIST ? " (never overwritten)" : "");
			log_info(NULL, "import: wrote %s: give it the CGI's group (chgrp www-data), "
			         "then run zonedrop check-config", output);
		} else {
			fputs(conv.yaml, stdout);
			stdout_finish();
		}
	}
	if (no_zones)
		goto done;

	/* the datastore */
	if (db != NULL)
		str_copy(dbpath, db, sizeof dbpath);
	else if (dadns_db_resolve(conv.db_location, app, dbpath, sizeof dbpath, &err) != 0)
		die(EX_USAGE, "%s", zd_err_str(&err));
	log_info(NULL, "import: datastore %s", dbpath);
	{
		/* the spool: the configuration in use (-c, $ZONEDROP_CONFIG), else the one just
		 * written, else the default */
		const char *path = cfg_arg ? cfg_arg : getenv("ZONEDROP_CONFIG");
		struct config *cfg = NULL;
		struct import_run r;

		if ((path == NULL || path[0] == '\0') && output != NULL && !no_config)
			path = output;
		path = config_path(path);
		if ((rc = config_load(path, &cfg, &err)) != 0)
			die(EX_USAGE, "%s", zd_err_str(&err));
		if (user_switch(cfg->user, &err) != 0)
			die(err.code == ZD_ECONFIG ? EX_USAGE : EX_FAILED, "%s", zd_err_str(&err));
		/* the zone report goes where the configuration text did not */
		report = output != NULL || no_config ? stdout : stderr;
		memset(&r, 0, sizeof r);
		r.cfg = cfg;
		r.zones_dir = conv.zones_dir;
		r.report = report;
		rc = dadns_db_each(dbpath, import_row, &r, &err);
		if (rc != 0 && r.fatal == 0)
			die(EX_USAGE, "%s", zd_err_str(&err));
		if (r.fatal != 0)
			code = r.fatal;
		else if (r.skipped > 0)
			code = EX_FAILED;
		log_info(NULL, "import: %zu zones spooled to %s/new, %zu skipped; now run zonedrop-drain",
		         r.imported, cfg->spool_dir, r.skipped);
		config_free(cfg);
	}
done:
	if (!no_config)
		log_info(NULL, "import: next: stop DirectAdmin's pushes to directdnsonly and wait for its "
		         "queues to empty; zonedrop check-config; a drain; the CGI on the old port with "
		         "the same user and password; reconcile stays dry_run until one clean run");
	dadns_conf_free(&conv);
	for (i = 0; i < nenv; i++)
		free(env[i]);
	free(env);
	return code;
}
