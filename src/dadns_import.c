/* dadns_import.c -- directdnsonly 2.x app.yml + DADNS_ environment into zonedrop.yml, and
 * its SQLite datastore rows into spool items (shared/DIRECTDNSONLY-IMPORT.md) */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <yaml.h>

#include "zonedrop/dadns_import.h"
#include "zonedrop/domain.h"
#include "zonedrop/util.h"
#include "zonedrop/zone.h"

/* ---- a growing text buffer; on allocation failure it stays failed ---- */

struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *ns;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->s != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		ns = realloc(b->s, b->cap + (size_t)n + 4096);
		if (ns == NULL) {
			b->failed = 1;
			return;
		}
		b->s = ns;
		b->cap += (size_t)n + 4096;
	}
}

/* s as a YAML double-quoted scalar: every byte outside printable ASCII escaped */
static void sb_yq(struct sbuf *b, const char *s)
{
	const unsigned char *p;

	sb_printf(b, "\"");
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			sb_printf(b, "\\x%02x", *p);
		else
			sb_printf(b, "%c", *p);
	}
	sb_printf(b, "\"");
}

/* ---- the conversion context ---- */

struct cv {
	yaml_document_t doc;
	const struct dadns_opts *o;
	struct dadns_conf *out;
	struct sbuf y;               /* the YAML being written */
	int oom;
	char **bufs;                 /* strings to free at the end */
	size_t nbufs;
};

static void note(struct cv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct cv *c, const char *fmt, ...)
{
	char buf[1024], **nn;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	nn = realloc(c->out->notes, (c->out->nnotes + 1) * sizeof *nn);
	if (nn == NULL || (nn[c->out->nnotes] = strdup(buf)) == NULL) {
		if (nn != NULL)
			c->out->notes = nn;
		c->oom = 1;
		return;
	}
	c->out->notes = nn;
	c->out->nnotes++;
}

static char *keep(struct cv *c, char *s)
{
	char **nb;

	if (s == NULL) {
		c->oom = 1;
		return NULL;
	}
	nb = realloc(c->bufs, (c->nbufs + 1) * sizeof *nb);
	if (nb == NULL) {
		free(s);
		c->oom = 1;
		return NULL;
	}
	c->bufs = nb;
	c->bufs[c->nbufs++] = s;
	return s;
}

/* ---- YAML tree access ---- */

static yaml_node_t *node_get(struct cv *c, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(&c->doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(&c->doc, p->value);
	}
	return NULL;
}

/* "a.b.c" from the root */
static yaml_node_t *path_get(struct cv *c, const char *path)
{
	char buf[256], *save = NULL, *tok;
	yaml_node_t *n = yaml_document_get_root_node(&c->doc);

	str_copy(buf, path, sizeof buf);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && n != NULL; tok = strtok_r(NULL, ".", &save))
		n = node_get(c, n, tok);
	return n;
}

static const char *scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	/* YAML null: "~", "null" or nothing */
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (n->data.scalar.length == 0 || strcmp((const char *)n->data.scalar.value, "~") == 0 ||
	     strcasecmp((const char *)n->data.scalar.value, "null") == 0))
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* the fixed table of scalar keys directdnsonly may take from the environment;
 * never derived by splitting a variable name on "_" */
static const char *const env_keys[] = {
	"log_level", "timezone", "queue_location",
	"app.auth_username", "app.auth_password", "app.listen_port", "app.ssl_enable",
	"app.ssl_cert", "app.ssl_key", "app.ssl_bundle", "app.proxy_support",
	"app.check_subdomain_owner_in_cluster_domainowners",
	"datastore.type", "datastore.db_location",
};

static int is_secret_key(const char *key)
{
	return strstr(key, "password") != NULL;
}

/* an environment value by exact name, or NULL */
static const char *env_get(const struct dadns_opts *o, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; o->env != NULL && i < o->nenv; i++)
		if (strncmp(o->env[i], name, n) == 0 && o->env[i][n] == '=')
			return o->env[i] + n + 1;
	return NULL;
}

/* A scalar key: the file's value, or the environment's (documented
 * DADNS_A_B_C or the dotted DADNS.A.B.C that 2.8.0 really reads). */
static const char *value(struct cv *c, const char *key)
{
	char under[128], dotted[128];
	const char *file = scalar(path_get(c, key)), *env = NULL, *used = NULL;
	size_t i, k;

	for (i = 0; i < sizeof env_keys / sizeof env_keys[0]; i++)
		if (strcmp(env_keys[i], key) == 0)
			break;
	if (i < sizeof env_keys / sizeof env_keys[0]) {
		k = (size_t)snprintf(under, sizeof under, "DADNS_");
		snprintf(dotted, sizeof dotted, "DADNS.");
		for (i = 0; key[i] && k + i + 1 < sizeof under; i++) {
			under[k + i] = key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
			dotted[k + i] = key[i] == '.' || key[i] == '_' ? '.' : (char)toupper((unsigned char)key[i]);
		}
		under[k + i] = dotted[k + i] = '\0';
		if ((env = env_get(c->o, under)) != NULL)
			used = under;
		else if ((env = env_get(c->o, dotted)) != NULL)
			used = dotted;
	}
	if (env != NULL && (file == NULL || strcmp(file, env) != 0)) {
		if (file != NULL)
			note(c, "%s: used %s from the environment, not app.yml's value%s; directdnsonly "
			     "2.8.0 may not have used it (it reads only the dotted DADNS.* spelling)", key,
			     used, is_secret_key(key) ? " (values not shown)" : "");
		else
			note(c, "%s: taken from %s in the environment", key, used);
		return env;
	}
	return file;
}

static int truthy(const char *v, int dflt)
{
	if (v == NULL)
		return dflt;
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
	    strcmp(v, "1") == 0)
		return 1;
	if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0 ||
	    strcmp(v, "0") == 0)
		return 0;
	return dflt;
}

/* a name usable in a file name or as a backend key: [A-Za-z0-9_-], max 63 */
static void name_clean(char *out, size_t outsz, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < outsz && i < 63; i++)
		out[i] = isalnum((unsigned char)in[i]) || in[i] == '-' || in[i] == '_' ? in[i] : '-';
	out[i] = '\0';
	if (i == 0)
		str_copy(out, "x", outsz);
}

/* a secret file for kind-name; returns its path (owned by c->out) */
static const char *secret_add(struct cv *c, const char *kind, const char *name, const char *val)
{
	char clean[64], path[ZD_PATH_MAX];
	struct dadns_secret *ns;
	size_t i;
	int n;

	name_clean(clean, sizeof clean, name);
	n = snprintf(path, sizeof path, "%s/%s-%s.pass", c->o->secrets_dir, kind, clean);
	if (n < 0 || (size_t)n >= sizeof path) {
		c->oom = 1;
		return NULL;
	}
	/* two servers whose names clean to the same file: number the later ones */
	for (i = 0; i < c->out->nsecrets; i++)
		if (strcmp(c->out->secrets[i].path, path) == 0) {
			snprintf(path, sizeof path, "%s/%s-%s-%zu.pass", c->o->secrets_dir, kind, clean,
			         c->out->nsecrets + 1);
			break;
		}
	ns = realloc(c->out->secrets, (c->out->nsecrets + 1) * sizeof *ns);
	if (ns == NULL) {
		c->oom = 1;
		return NULL;
	}
	c->out->secrets = ns;
	ns[c->out->nsecrets].path = strdup(path);
	ns[c->out->nsecrets].value = strdup(val);
	if (ns[c->out->nsecrets].path == NULL || ns[c->out->nsecrets].value == NULL) {
		free(ns[c->out->nsecrets].path);
		free(ns[c->out->nsecrets].value);
		c->oom = 1;
		return NULL;
	}
	return ns[c->out->nsecrets++].path;
}

/* crypt(3) hash of pw, kept in c; NULL (and c->oom or a note) on failure */
static const char *hash_pw(struct cv *c, const char *pw)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *prefix = c->o->hash_prefix ? c->o->hash_prefix : "$6$";
	char *h, *res = NULL;

	if (crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof salt) == NULL) {
		note(c, "crypt_gensalt %s: %s", prefix, strerror(errno));
		c->out->refused = 1;
		return NULL;
	}
	cd = calloc(1, sizeof *cd);
	if (cd == NULL) {
		c->oom = 1;
		return NULL;
	}
	h = crypt_rn(pw, salt, cd, (int)sizeof *cd);
	if (h == NULL || h[0] == '*') {
		note(c, "crypt failed: %s", strerror(errno));
		c->out->refused = 1;
	} else {
		res = keep(c, strdup(h));
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return res;
}

/* the receiver's / peers' account: "changeme" and empty are refused (PROTOCOL 10.6) */
static const char *account_hash(struct cv *c, const char *what, const char *user, const char *pw)
{
	if (pw == NULL || pw[0] == '\0' || strcmp(pw, "changeme") == 0) {
		note(c, "%s: the password of user \"%s\" is %s: refused. Set the real one in app.yml "
		     "(or the environment, --env-file), or leave the account out and add it with "
		     "`zonedrop passwd %s`", what, user, pw == NULL || pw[0] == '\0' ? "empty"
		     : "directdnsonly's default \"changeme\"", user);
		c->out->refused = 1;
		return NULL;
	}
	return hash_pw(c, pw);
}

/* ---- sections ---- */

static void conv_top(struct cv *c)
{
	const char *lv = value(c, "log_level"), *zl = "info", *v;
	char low[32];
	size_t i;

	if (lv != NULL) {
		for (i = 0; lv[i] && i + 1 < sizeof low; i++)
			low[i] = (char)tolower((unsigned char)lv[i]);
		low[i] = '\0';
		if (strcmp(low, "trace") == 0 || strcmp(low, "debug") == 0)
			zl = "debug";
		else if (strcmp(low, "info") == 0 || strcmp(low, "success") == 0)
			zl = "info";
		else if (strcmp(low, "warning") == 0 || strcmp(low, "warn") == 0)
			zl = "warning";
		else if (strcmp(low, "error") == 0 || strcmp(low, "critical") == 0)
			zl = "error";
		else
			note(c, "log_level \"%s\" is not a loguru level: info used", lv);
	}
	sb_printf(&c->y, "spool_dir: /var/spool/zonedrop\nstate_dir: /var/lib/zonedrop\n"
	          "log_level: %s\nuser: zonedrop\n", zl);
	if ((v = value(c, "timezone")) != NULL)
		note(c, "timezone \"%s\": not converted, zonedrop logs through journald (UTC)", v);
	v = value(c, "queue_location");
	note(c, "queue_location (%s): not converted; wait until directdnsonly's save/, delete/ and "
	     "retry/ queues there are empty before switching over (zonedrop cannot read them)",
	     v ? v : "./data/queues");
	if (scalar(path_get(c, "environment")) != NULL)
		note(c, "environment: CherryPy's setting, no zonedrop equivalent");
	if (scalar(path_get(c, "app.log_level")) != NULL)
		note(c, "app.log_level: CherryPy's access log, no zonedrop equivalent (the web server logs access)");
	if (scalar(path_get(c, "app.proxy_support_base")) != NULL)
		note(c, "app.proxy_support_base: no zonedrop equivalent");
}

static void conv_receiver(struct cv *c)
{
	const char *user = value(c, "app.auth_username"), *pw = value(c, "app.auth_password");
	const char *port = value(c, "app.listen_port"), *ssl = value(c, "app.ssl_enable");
	const char *cert = value(c, "app.ssl_cert"), *key = value(c, "app.ssl_key");
	const char *bundle = value(c, "app.ssl_bundle"), *v, *h;
	int tls;

	if (user == NULL || user[0] == '\0')
		user = "directdnsonly";
	if (pw == NULL && path_get(c, "app.auth_password") == NULL)
		pw = "changeme";         /* directdnsonly's default */
	sb_printf(&c->y, "receiver:\n  users:\n    - name: ");
	sb_yq(&c->y, user);
	sb_printf(&c->y, "\n");
	h = account_hash(c, "app.auth_password", user, pw);
	if (h != NULL) {
		sb_printf(&c->y, "      password_hash: ");
		sb_yq(&c->y, h);
		sb_printf(&c->y, "\n");
	}
	v = value(c, "app.check_subdomain_owner_in_cluster_domainowners");
	sb_printf(&c->y, "  parent_exists: %d\n", truthy(v, 1) ? 3 : 2);

	tls = truthy(ssl, 0);
	note(c, "app.listen_port/app.ssl_*: the web server's job now; e.g. nginx \"listen %s%s;\"%s%s%s%s, "
	     "lighttpd \"server.port = %s\"%s (examples/nginx.conf, examples/lighttpd.conf)",
	     port ? port : "2222", tls ? " ssl" : "", tls && cert ? " ssl_certificate " : "",
	     tls && cert ? cert : "", tls && key ? "; ssl_certificate_key " : "", tls && key ? key : "",
	     port ? port : "2222", tls ? " with ssl.engine = \"enable\"" : "");
	if (tls && bundle != NULL && bundle[0])
		note(c, "app.ssl_bundle %s: append it to the certificate file the web server names", bundle);
	if (truthy(value(c, "app.proxy_support"), 1))
		note(c, "app.proxy_support is true: zonedrop never trusts X-Forwarded-For; allow_from "
		     "sees the connecting address (put the proxy's address there, or none)");
}

static void backend_common(struct cv *c, const char *name, const char *type)
{
	sb_printf(&c->y, "  %s:\n    type: %s\n    enabled: true\n", name, type);
	if (c->o->verify != NULL) {
		sb_printf(&c->y, "    verify: ");
		sb_yq(&c->y, c->o->verify);
		sb_printf(&c->y, "\n");
	}
}

/* zonedrop rewrites include_file whole: never a file that holds other configuration */
static const char *include_path(struct cv *c, const char *inst, const char *conf, const char *fresh,
                                const char *incl_syntax)
{
	const char *base = strrchr(conf, '/');
	size_t dirlen = base ? (size_t)(base - conf) : 0;
	char *path;

	base = base ? base + 1 : conf;
	if (strcmp(base, "named.conf.local") != 0 && strcmp(base, "named.conf") != 0 &&
	    strcmp(base, "nsd.conf") != 0)
		return conf;
	path = keep(c, malloc(dirlen + strlen(fresh) + 3));
	if (path == NULL)
		return conf;
	if (dirlen > 0)
		sprintf(path, "%.*s/%s", (int)dirlen, conf, fresh);
	else
		sprintf(path, "%s", fresh);
	note(c, "dns.backends.%s: %s holds other configuration and zonedrop rewrites its include "
	     "file whole: using %s instead; add %s naming it to %s", inst, conf, path, incl_syntax, conf);
	return path;
}

static void conv_backends(struct cv *c)
{
	yaml_node_t *bk = path_get(c, "dns.backends");
	yaml_node_pair_t *p;
	yaml_node_t *k, *b;
	const char *inst, *type, *zd = NULL, *cf, *incl;
	char name[64];
	size_t nb = 0;

	if (scalar(path_get(c, "dns.default_backend")) != NULL)
		note(c, "dns.default_backend: read by nothing in directdnsonly 2.x; ignored");
	sb_printf(&c->y, "backends:\n");
	if (bk != NULL && bk->type == YAML_MAPPING_NODE) {
		for (p = bk->data.mapping.pairs.start; p < bk->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(&c->doc, p->key);
			b = yaml_document_get_node(&c->doc, p->value);
			inst = scalar(k);
			if (inst == NULL || b == NULL || b->type != YAML_MAPPING_NODE) {
				note(c, "dns.backends: an entry that is not \"name: {type: ...}\": ignored");
				continue;
			}
			type = scalar(node_get(c, b, "type"));
			if (!truthy(scalar(node_get(c, b, "enabled")), 0)) {
				note(c, "dns.backends.%s: not enabled in directdnsonly: not converted", inst);
				continue;
			}
			name_clean(name, sizeof name, inst);
			if (strcmp(name, inst) != 0)
				note(c, "dns.backends.%s: named %s in zonedrop ([A-Za-z0-9_-], at most 63)", inst, name);
			if (type != NULL && strcmp(type, "bind") == 0) {
				zd = scalar(node_get(c, b, "zones_dir"));
				cf = scalar(node_get(c, b, "named_conf"));
				zd = zd ? zd : "/etc/named/zones";
				cf = cf ? cf : "/etc/named.conf.local";
				backend_common(c, name, "bind");
				incl = include_path(c, inst, cf, "named.conf.zonedrop", "an include line");
				sb_printf(&c->y, "    zones_dir: ");
				sb_yq(&c->y, zd);
				sb_printf(&c->y, "\n    include_file: ");
				sb_yq(&c->y, incl);
				sb_printf(&c->y, "\n    control: \"rndc\"\n");
				if (strncmp(zd, "/var/lib/bind/", 14) != 0 && strncmp(zd, "/etc/bind/", 10) != 0)
					note(c, "dns.backends.%s: on Debian, AppArmor lets named read /var/lib/bind "
					     "and /etc/bind only: zones_dir %s may need to move there", inst, zd);
			} else if (type != NULL && strcmp(type, "nsd") == 0) {
				zd = scalar(node_get(c, b, "zones_dir"));
				cf = scalar(node_get(c, b, "nsd_conf"));
				zd = zd ? zd : "/etc/nsd/zones";
				cf = cf ? cf : "/etc/nsd/nsd.conf.d/zones.conf";
				backend_common(c, name, "nsd");
				incl = include_path(c, inst, cf, "zonedrop.conf", "an include: line");
				sb_printf(&c->y, "    zones_dir: ");
				sb_yq(&c->y, zd);
				sb_printf(&c->y, "\n    include_file: ");
				sb_yq(&c->y, incl);
				sb_printf(&c->y, "\n    control: \"nsd-control\"\n");
			} else if (type != NULL && strcmp(type, "coredns_mysql") == 0) {
				const char *host = scalar(node_get(c, b, "host"));
				const char *port = scalar(node_get(c, b, "port"));
				const char *db = scalar(node_get(c, b, "database"));
				const char *u = scalar(node_get(c, b, "username"));
				const char *pw = scalar(node_get(c, b, "password"));
				const char *tbl = scalar(node_get(c, b, "table_name"));
				const char *pf;
				uint64_t pn = 3306;

				if (port != NULL && parse_u64(port, 65535, &pn) != 0) {
					note(c, "dns.backends.%s: port \"%s\" is not a port number: 3306 used", inst, port);
					pn = 3306;
				}
				backend_common(c, name, "coredns_mysql");
				sb_printf(&c->y, "    host: ");
				sb_yq(&c->y, host ? host : "localhost");
				sb_printf(&c->y, "\n    port: %u\n    database: ", (unsigned)pn);
				sb_yq(&c->y, db ? db : "coredns");
				sb_printf(&c->y, "\n    user: ");
				sb_yq(&c->y, u ? u : "coredns");
				sb_printf(&c->y, "\n");
				pf = secret_add(c, "coredns", name, pw ? pw : "");
				if (pf != NULL) {
					sb_printf(&c->y, "    password_file: ");
					sb_yq(&c->y, pf);
					sb_printf(&c->y, "\n");
				}
				sb_printf(&c->y, "    records_table: ");
				sb_yq(&c->y, tbl ? tbl : "records");
				sb_printf(&c->y, "\n");
				note(c, "dns.backends.%s: run `zonedrop db-init %s` once: zonedrop also keeps a "
				     "zones table (zones_table: zones)", inst, name);
			} else {
				note(c, "dns.backends.%s: type \"%s\" unknown to directdnsonly 2.x: ignored",
				     inst, type ? type : "(none)");
				continue;
			}
			if (c->out->zones_dir == NULL && type != NULL &&
			    (strcmp(type, "bind") == 0 || strcmp(type, "nsd") == 0)) {
				c->out->zones_dir = strdup(zd);
				if (c->out->zones_dir == NULL)
					c->oom = 1;
				note(c, "dns.backends.%s: directdnsonly's <domain>.db files stay in %s; remove "
				     "them once zonedrop has applied every zone (it writes its own names)", inst, zd);
			}
			nb++;
		}
	}
	if (nb == 0) {
		sb_printf(&c->y, "  {}\n");
		note(c, "dns.backends: no enabled bind, nsd or coredns_mysql backend: add one "
		     "(zonedrop.yml(5)) before running the drain");
	}
	if (c->o->verify == NULL && nb > 0)
		note(c, "backends: no verify address given (--verify ADDR@PORT): zonedrop queries 127.0.0.1@53");
}

static void conv_reconcile(struct cv *c)
{
	yaml_node_t *r = path_get(c, "reconciliation"), *list, *s;
	yaml_node_item_t *it;
	const char *v, *host, *port, *user, *pw, *pf;
	int verify = 1, ssl;
	uint64_t ipp = 1000, pn;

	sb_printf(&c->y, "reconcile:\n  dry_run: true\n  max_deletes: 5%%\n");
	if (r == NULL) {
		sb_printf(&c->y, "  directadmin: []\n");
		return;
	}
	v = scalar(node_get(c, r, "dry_run"));
	note(c, "reconciliation.dry_run was %s: imported as true (report orphans, delete none); set "
	     "reconcile.dry_run: false after one clean zonedrop-reconcile run", v ? v : "false");
	if ((v = scalar(node_get(c, r, "interval_minutes"))) != NULL && strcmp(v, "60") != 0)
		note(c, "reconciliation.interval_minutes %s: systemctl edit zonedrop-reconcile.timer -> "
		     "[Timer] OnUnitActiveSec=%smin", v, v);
	if ((v = scalar(node_get(c, r, "initial_delay_minutes"))) != NULL && strcmp(v, "0") != 0)
		note(c, "reconciliation.initial_delay_minutes %s: zonedrop-reconcile.timer -> "
		     "[Timer] OnBootSec=%smin (RandomizedDelaySec= staggers receivers)", v, v);
	verify = truthy(scalar(node_get(c, r, "verify_ssl")), 1);
	if ((v = scalar(node_get(c, r, "ipp"))) != NULL && parse_u64(v, 100000, &ipp) != 0) {
		note(c, "reconciliation.ipp \"%s\" is not a number: 1000 used", v);
		ipp = 1000;
	}
	if (!truthy(scalar(node_get(c, r, "enabled")), 0)) {
		note(c, "reconciliation.enabled is false: no reconcile.directadmin servers written");
		sb_printf(&c->y, "  directadmin: []\n");
		return;
	}
	list = node_get(c, r, "directadmin_servers");
	if (list == NULL || list->type != YAML_SEQUENCE_NODE ||
	    list->data.sequence.items.start == list->data.sequence.items.top) {
		note(c, "reconciliation.directadmin_servers: none listed");
		sb_printf(&c->y, "  directadmin: []\n");
		return;
	}
	sb_printf(&c->y, "  directadmin:\n");
	for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		s = yaml_document_get_node(&c->doc, *it);
		host = scalar(node_get(c, s, "hostname"));
		if (host == NULL || hostname_check(host, NULL) != 0 || host[0] == '\0') {
			note(c, "reconciliation.directadmin_servers: an entry without a valid hostname: skipped");
			continue;
		}
		port = scalar(node_get(c, s, "port"));
		pn = 2222;
		if (port != NULL && (parse_u64(port, 65535, &pn) != 0 || pn == 0)) {
			note(c, "reconciliation.directadmin_servers %s: port \"%s\" invalid: 2222 used", host, port);
			pn = 2222;
		}
		user = scalar(node_get(c, s, "username"));
		pw = scalar(node_get(c, s, "password"));
		ssl = truthy(scalar(node_get(c, s, "ssl")), 1);
		sb_printf(&c->y, "    - url: \"%s://%s:%u\"\n      user: ", ssl ? "https" : "http", host,
		          (unsigned)pn);
		sb_yq(&c->y, user ? user : "admin");
		sb_printf(&c->y, "\n");
		pf = secret_add(c, "da", host, pw ? pw : "");
		if (pf != NULL) {
			sb_printf(&c->y, "      password_file: ");
			sb_yq(&c->y, pf);
			sb_printf(&c->y, "\n");
		}
		sb_printf(&c->y, "      verify_tls: %s\n      hostname: ", verify ? "true" : "false");
		sb_yq(&c->y, host);
		sb_printf(&c->y, "\n      ipp: %u\n", (unsigned)ipp);
	}
}

/* one peers.remotes entry unless its URL is listed already */
static void remote_add(struct cv *c, struct sbuf *urls, const char *url, const char *user,
                       const char *pw, const char *from)
{
	char host[128];
	const char *h, *pf;
	size_t i;

	if (url == NULL || url[0] == '\0' || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
		note(c, "%s: URL \"%s\" is not http(s)://...: skipped", from, url ? url : "");
		return;
	}
	/* urls holds "\nURL\n" for each entry so far */
	for (h = urls->s; h != NULL && (h = strstr(h, url)) != NULL; h++)
		if (h > urls->s && h[-1] == '\n' && h[strlen(url)] == '\n')
			return;
	sb_printf(urls, "\n%s\n", url);
	h = strstr(url, "//") + 2;
	for (i = 0; h[i] && h[i] != ':' && h[i] != '/' && i + 1 < sizeof host; i++)
		host[i] = h[i];
	host[i] = '\0';
	sb_printf(&c->y, "    - url: ");
	sb_yq(&c->y, url);
	sb_printf(&c->y, "\n      user: ");
	sb_yq(&c->y, user && user[0] ? user : "peersync");
	sb_printf(&c->y, "\n");
	pf = secret_add(c, "peer", host, pw ? pw : "");
	if (pf != NULL) {
		sb_printf(&c->y, "      password_file: ");
		sb_yq(&c->y, pf);
		sb_printf(&c->y, "\n");
	}
}

static void conv_peers(struct cv *c)
{
	yaml_node_t *ps = path_get(c, "peer_sync"), *list, *s;
	yaml_node_item_t *it;
	struct sbuf urls = { 0 };
	const char *v, *user, *pw, *h;
	char n1[64], n2[64], n3[64];
	int i;

	sb_printf(&c->y, "peers:\n  tombstone_days: 30\n");
	if (!truthy(scalar(node_get(c, ps, "enabled")), 0)) {
		if (ps != NULL)
			note(c, "peer_sync.enabled is false: no peers written");
		sb_printf(&c->y, "  users: []\n  remotes: []\n");
		return;
	}
	if ((v = scalar(node_get(c, ps, "interval_minutes"))) != NULL && strcmp(v, "15") != 0)
		note(c, "peer_sync.interval_minutes %s: systemctl edit zonedrop-peersync.timer -> "
		     "[Timer] OnUnitActiveSec=%smin", v, v);
	user = scalar(node_get(c, ps, "auth_username"));
	pw = scalar(node_get(c, ps, "auth_password"));
	user = user && user[0] ? user : "peersync";
	if (pw == NULL && node_get(c, ps, "auth_password") == NULL)
		pw = "changeme";
	h = account_hash(c, "peer_sync.auth_password", user, pw);
	if (h != NULL) {
		sb_printf(&c->y, "  users:\n    - name: ");
		sb_yq(&c->y, user);
		sb_printf(&c->y, "\n      password_hash: ");
		sb_yq(&c->y, h);
		sb_printf(&c->y, "\n");
	} else {
		sb_printf(&c->y, "  users: []\n");
	}
	note(c, "peer_sync: directdnsonly nodes do not speak zonedrop's /internal/zones; list only "
	     "peers that run zonedrop (gossiped peers are never imported)");
	sb_printf(&c->y, "  remotes:\n");
	list = node_get(c, ps, "peers");
	if (list != NULL && list->type == YAML_SEQUENCE_NODE)
		for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
			s = yaml_document_get_node(&c->doc, *it);
			remote_add(c, &urls, scalar(node_get(c, s, "url")), scalar(node_get(c, s, "username")),
			           scalar(node_get(c, s, "password")), "peer_sync.peers");
		}
	if ((v = env_get(c->o, "DADNS_PEER_SYNC_PEER_URL")) != NULL)
		remote_add(c, &urls, v, env_get(c->o, "DADNS_PEER_SYNC_PEER_USERNAME"),
		           env_get(c->o, "DADNS_PEER_SYNC_PEER_PASSWORD"), "DADNS_PEER_SYNC_PEER_URL");
	for (i = 1; i <= 9; i++) {
		snprintf(n1, sizeof n1, "DADNS_PEER_SYNC_PEER_%d_URL", i);
		snprintf(n2, sizeof n2, "DADNS_PEER_SYNC_PEER_%d_USERNAME", i);
		snprintf(n3, sizeof n3, "DADNS_PEER_SYNC_PEER_%d_PASSWORD", i);
		if ((v = env_get(c->o, n1)) == NULL)
			break;
		remote_add(c, &urls, v, env_get(c->o, n2), env_get(c->o, n3), n1);
	}
	if (urls.len == 0)
		sb_printf(&c->y, "    []\n");
	if (urls.failed)
		c->oom = 1;
	free(urls.s);
}

static void conv_datastore(struct cv *c)
{
	const char *t = value(c, "datastore.type"), *loc = value(c, "datastore.db_location");

	c->out->datastore_type = strdup(t ? t : "sqlite");
	c->out->db_location = strdup(loc ? loc : "data/directdns.db");
	if (c->out->datastore_type == NULL || c->out->db_location == NULL)
		c->oom = 1;
	else if (strcmp(c->out->datastore_type, "sqlite") != 0)
		note(c, "datastore.type %s: only sqlite datastores can be imported", c->out->datastore_type);
}

int dadns_convert(const char *buf, size_t len, const struct dadns_opts *o, struct dadns_conf *out,
                  struct zd_err *err)
{
	yaml_parser_t parser;
	yaml_node_t *root;
	struct cv c;
	int rc = 0, have_doc = 0;
	size_t i;
	const char *name = o->source_name ? o->source_name : "app.yml";

	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	c.o = o;
	c.out = out;
	if (!yaml_parser_initialize(&parser))
		return zd_err_set(err, ZD_ENOMEM, "yaml parser: out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &c.doc)) {
		rc = zd_err_set(err, ZD_ECONFIG, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
		                parser.problem_mark.column + 1, parser.problem ? parser.problem : "unreadable YAML");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&c.doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		rc = zd_err_set(err, ZD_ECONFIG, "%s:1:1: not a directdnsonly app.yml (expected a mapping "
		                "of keys such as app:, dns:, datastore:)", name);
		goto out;
	}
	sb_printf(&c.y, "# zonedrop.yml -- converted from directdnsonly's %s by\n"
	          "# `zonedrop import-directdnsonly`; keys in zonedrop.yml(5). Check with\n"
	          "#   zonedrop check-config\n", name);
	conv_top(&c);
	conv_receiver(&c);
	conv_backends(&c);
	sb_printf(&c.y, "retry:\n  schedule: [30s, 2m, 5m, 15m, 30m]\n");
	conv_reconcile(&c);
	conv_peers(&c);
	conv_datastore(&c);
	if (c.oom || c.y.failed) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	out->yaml = c.y.s;
	c.y.s = NULL;
out:
	if (have_doc)
		yaml_document_delete(&c.doc);
	yaml_parser_delete(&parser);
	free(c.y.s);
	for (i = 0; i < c.nbufs; i++)
		free(c.bufs[i]);
	free(c.bufs);
	if (rc != 0)
		dadns_conf_free(out);
	return rc;
}

void dadns_conf_free(struct dadns_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->yaml);
	for (i = 0; i < c->nnotes; i++)
		free(c->notes[i]);
	free(c->notes);
	for (i = 0; i < c->nsecrets; i++) {
		free(c->secrets[i].path);
		if (c->secrets[i].value != NULL)
			explicit_bzero(c->secrets[i].value, strlen(c->secrets[i].value));
		free(c->secrets[i].value);
	}
	free(c->secrets);
	free(c->datastore_type);
	free(c->db_location);
	free(c->zones_dir);
	memset(c, 0, sizeof *c);
}

/* ---- the datastore ---- */

int dadns_db_resolve(const char *location, const char *app_yml, char *out, size_t outsz,
                     struct zd_err *err)
{
	char dir[ZD_PATH_MAX], tried[3 * 256], *slash;
	struct stat sb;
	int i;

	if (location == NULL || location[0] == '\0')
		return zd_err_set(err, ZD_ENOENT, "datastore.db_location is empty");
	if (location[0] == '/') {
		if (str_copy(out, location, outsz) >= outsz)
			return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", location);
		if (stat(out, &sb) != 0)
			return zd_err_sys(err, ZD_ENOENT, "datastore %s", out);
		return 0;
	}
	tried[0] = '\0';
	if (str_copy(dir, app_yml, sizeof dir) >= sizeof dir)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", app_yml);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		str_copy(dir, ".", sizeof dir);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	for (i = 0; i < 3; i++) {
		int n;

		if (i == 0)
			n = snprintf(out, outsz, "%s", location);
		else if (i == 1)
			n = snprintf(out, outsz, "%s/%s", dir, location);
		else
			n = snprintf(out, outsz, "%s/../%s", dir, location);
		if (n < 0 || (size_t)n >= outsz)
			return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", location);
		if (stat(out, &sb) == 0)
			return 0;
		if (strlen(tried) + strlen(out) + 3 < sizeof tried) {
			strcat(tried, tried[0] ? ", " : "");
			strcat(tried, out);
		}
	}
	out[0] = '\0';
	return zd_err_set(err, ZD_ENOENT, "datastore %s not found (tried %s); name it as the DB argument",
	                  location, tried);
}

int dadns_db_each(const char *path, int (*fn)(const struct dadns_row *row, void *arg), void *arg,
                  struct zd_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char uri[ZD_PATH_MAX + 32], sql[512];
	int rc = 0, has_domain = 0, has_host = 0, has_user = 0, has_data = 0, has_upd = 0, s, n;
	struct dadns_row row;

	/* a URI with mode=ro: the datastore is never written, and a missing file is
	 * an error rather than a new empty database */
	n = snprintf(uri, sizeof uri, "file:");
	for (const char *p = path; *p && (size_t)n + 4 < sizeof uri; p++) {
		if (*p == '?' || *p == '#' || *p == '%')
			n += snprintf(uri + n, sizeof uri - (size_t)n, "%%%02X", (unsigned char)*p);
		else
			uri[n++] = *p;
	}
	uri[n] = '\0';
	if (strlen(uri) + 9 >= sizeof uri)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", path);
	strcat(uri, "?mode=ro");
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		rc = zd_err_set(err, ZD_EDB, "open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "PRAGMA table_info(domains)", -1, &st, NULL) != SQLITE_OK) {
		rc = zd_err_set(err, ZD_EDB, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(st, 1);

		if (col == NULL)
			continue;
		has_domain |= strcmp(col, "domain") == 0;
		has_host |= strcmp(col, "hostname") == 0;
		has_user |= strcmp(col, "username") == 0;
		has_data |= strcmp(col, "zone_data") == 0;
		has_upd |= strcmp(col, "zone_updated_at") == 0;
	}
	if (s != SQLITE_DONE) {
		rc = zd_err_set(err, ZD_EDB, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!has_domain) {
		rc = zd_err_set(err, ZD_EDB, "%s: not a directdnsonly datastore (no table domains with a "
		                "column domain)", path);
		goto out;
	}
	/* columns by name: two of them were added later by ALTER TABLE */
	snprintf(sql, sizeof sql, "SELECT domain, %s, %s, %s, %s FROM domains ORDER BY id",
	         has_host ? "hostname" : "NULL", has_user ? "username" : "NULL",
	         has_data ? "zone_data" : "NULL", has_upd ? "CAST(zone_updated_at AS TEXT)" : "NULL");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = zd_err_set(err, ZD_EDB, "%s: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t;

		t = (const char *)sqlite3_column_text(st, 0);
		row.domain = t ? t : "";
		t = (const char *)sqlite3_column_text(st, 1);
		row.hostname = t ? t : "";
		t = (const char *)sqlite3_column_text(st, 2);
		row.username = t ? t : "";
		row.zone_data = (const char *)sqlite3_column_text(st, 3);
		t = (const char *)sqlite3_column_text(st, 4);
		row.updated = t ? t : "";
		if ((rc = fn(&row, arg)) != 0)
			goto out;
	}
	if (s != SQLITE_DONE)
		rc = zd_err_set(err, ZD_EDB, "%s: %s", path, sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int dadns_time_iso(const char *in, char *out, size_t outsz)
{
	struct tm tm;
	char *end;
	long usec = 0;
	int i, digits;
	time_t t;

	memset(&tm, 0, sizeof tm);
	end = strptime(in, "%Y-%m-%d", &tm);
	if (end == NULL || (*end != ' ' && *end != 'T') || (end - in) != 10)
		return ZD_EINVAL;
	in = end + 1;
	end = strptime(in, "%H:%M:%S", &tm);
	if (end == NULL || (end - in) != 8)
		return ZD_EINVAL;
	if (*end == '.') {
		for (i = 1, digits = 0; isdigit((unsigned char)end[i]); i++, digits++)
			if (digits < 6)
				usec = usec * 10 + (end[i] - '0');
		if (digits == 0)
			return ZD_EINVAL;
		for (; digits < 6; digits++)
			usec *= 10;
		end += i;
	}
	/* naive UTC; an explicit offset is not what SQLAlchemy writes */
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return ZD_EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1 || outsz < 32)
		return ZD_EINVAL;
	time_iso(out, outsz, (int64_t)t, usec);
	return 0;
}

int dadns_row_item(const struct dadns_row *row, const char *zones_dir, struct spool_item *item,
                   int *lowered, struct zd_err *err)
{
	char dom[DOMAIN_MAX + 2], path[ZD_PATH_MAX], safe[300];
	char *text = NULL;
	size_t len = 0, i, j;
	struct zd_err e;
	int rc;

	memset(item, 0, sizeof *item);
	*lowered = 0;
	str_safe(safe, sizeof safe, row->domain, strlen(row->domain));
	if (strlen(row->domain) > DOMAIN_MAX)
		return zd_err_set(err, ZD_EINVAL, "domain %s: longer than %d characters", safe, DOMAIN_MAX);
	str_copy(dom, row->domain, sizeof dom);
	if (domain_check(dom, &e) != 0) {
		for (i = 0; dom[i]; i++)
			dom[i] = (char)tolower((unsigned char)dom[i]);
		if (strcmp(dom, row->domain) == 0 || domain_check(dom, NULL) != 0)
			return zd_err_set(err, ZD_EINVAL, "domain %s: %s", safe, e.msg);
		*lowered = 1;
	}
	if (hostname_check(row->hostname, &e) != 0)
		return zd_err_set(err, ZD_EINVAL, "hostname: %s", e.msg);
	if (username_check(row->username, &e) != 0)
		return zd_err_set(err, ZD_EINVAL, "username: %s", e.msg);
	if (row->zone_data != NULL) {
		len = strlen(row->zone_data);
		text = malloc(len + 1);
		if (text == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory");
		memcpy(text, row->zone_data, len + 1);
	} else if (zones_dir != NULL) {
		if (snprintf(path, sizeof path, "%s/%s.db", zones_dir, dom) >= (int)sizeof path)
			return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", zones_dir);
		rc = file_read_all(path, 64u << 20, &text, &len, &e);
		if (rc != 0)
			return zd_err_set(err, ZD_EINVAL, "no zone text (zone_data is NULL, %s: %s)",
			                  path, zd_err_str(&e));
	} else {
		return zd_err_set(err, ZD_EINVAL, "no zone text (zone_data is NULL and no bind/nsd "
		                  "zones_dir to look in)");
	}
	/* LF line ends, as every spool item carries */
	for (i = j = 0; i < len; i++)
		if (!(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n'))
			text[j++] = text[i];
	text[j] = '\0';
	len = j;
	if (len == 0) {
		free(text);
		return zd_err_set(err, ZD_EINVAL, "empty zone text");
	}
	if ((rc = zone_check(dom, text, len, NULL, &e)) != 0) {
		free(text);
		return zd_err_set(err, ZD_EINVAL, "zone refused: %s", e.msg);
	}
	item->action = SPOOL_RAWSAVE;
	str_copy(item->domain, dom, sizeof item->domain);
	str_copy(item->hostname, row->hostname, sizeof item->hostname);
	str_copy(item->username, row->username, sizeof item->username);
	str_copy(item->source, "cli", sizeof item->source);
	if (row->updated[0] != '\0' && dadns_time_iso(row->updated, item->changed, sizeof item->changed) != 0) {
		/* an unreadable time is not worth losing the zone: arrival time stands in */
		item->changed[0] = '\0';
	}
	item->text = text;
	item->text_len = len;
	return 0;
}
