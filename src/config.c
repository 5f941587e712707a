/* config.c -- zonedrop.yml into struct config: one table of keys, types, ranges and defaults */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>

#include "zonedrop/auth.h"
#include "zonedrop/config.h"
#include "zonedrop/exec.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"

#define CONFIG_FILE_MAX      (1024 * 1024)  /* a larger file is refused */
#define CONFIG_STR_MAX       1024           /* any text value, paths included */
#define CONFIG_BACKENDS_MAX  256
#define CONFIG_LIST_MAX      10000          /* users, remotes, DA servers, keys */
#define CONFIG_WHERE_MAX     256            /* "backends.nsd1.tls.ca_file" */

/* One key of a mapping. Every table below is the single place where a key's
 * type, range and default live: loading, defaults, printing and freeing all
 * walk the same tables. */
enum ckind {
	K_STR,       /* non-empty text without control bytes */
	K_SECRET,    /* the same, printed as ******** */
	K_NAME,      /* an HTTP Basic user name: K_STR without ':' */
	K_WORD,      /* [A-Za-z0-9_.-]: system user, TSIG key name */
	K_IDENT,     /* SQL table name: [A-Za-z0-9_] */
	K_PATH,      /* absolute path */
	K_CMD,       /* control command: exec_split() must accept it */
	K_URL,       /* http:// or https:// URL without credentials */
	K_HOST,      /* lower-case host name or address */
	K_ALGO,      /* TSIG algorithm */
	K_BOOL,
	K_INT,       /* int field, range min..max */
	K_U64,       /* uint64_t field, range min..max */
	K_DUR,       /* int64_t milliseconds, range min..max ms */
	K_LEVEL,     /* log level name -> int */
	K_TYPE,      /* backend type name -> enum backend_type */
	K_VERIFY,    /* "addr" or "addr@port": off = host, off2 = port */
	K_DELETES,   /* "N%" or N: off = double, off2 = int percent flag */
	K_DURLIST,   /* list of durations: off = int64_t *, off2 = size_t count */
	K_CIDRLIST,  /* list of CIDRs: off = struct config_cidr *, off2 = count */
	K_MAP,       /* nested mapping filling the same struct */
	K_LIST,      /* list of mappings: off = item array, off2 = count */
	K_BACKENDS,  /* the backends: mapping of name -> backend */
};

struct cctx;
struct ckey {
	const char *name;
	enum ckind kind;
	size_t off;
	size_t off2;
	long long min, max;      /* numbers and durations; strings: max length */
	const char *def;         /* default, parsed like a value in the file */
	unsigned types;          /* backends: type bits it applies to (0: all) */
	unsigned req;            /* type bits that require it (REQ: always) */
	size_t set;              /* offset + 1 of an int set to 1 when given */
	const struct ckey *sub;  /* K_MAP, K_LIST: the nested keys */
	size_t isize;            /* K_LIST: size of one item */
	const char *uniq;        /* K_LIST: key whose value must differ between items */
	int (*check)(struct cctx *c, yaml_node_t *node, void *base, const char *where);
};

#define REQ     (~0u)
#define TB(t)   (1u << (t))
#define T_FILE  (TB(BACKEND_NSD) | TB(BACKEND_BIND) | TB(BACKEND_KNOT))
#define T_SQL   (TB(BACKEND_POWERDNS_MYSQL) | TB(BACKEND_COREDNS_MYSQL))
#define SEC     1000LL
#define DAY     (86400LL * SEC)

#define C(f)  offsetof(struct config, f)
#define B(f)  offsetof(struct config_backend, f)
#define U(f)  offsetof(struct config_user, f)
#define D(f)  offsetof(struct config_da_server, f)
#define R(f)  offsetof(struct config_peer_remote, f)
#define K(f)  offsetof(struct config_tsig_key, f)

struct cctx {
	yaml_document_t *doc;
	const char *file;
	struct zd_err *err;
};

static int check_user(struct cctx *, yaml_node_t *, void *, const char *);
static int check_backend(struct cctx *, yaml_node_t *, void *, const char *);
static int check_da(struct cctx *, yaml_node_t *, void *, const char *);
static int check_secondary(struct cctx *, yaml_node_t *, void *, const char *);

static const struct ckey user_keys[] = {
	{ .name = "name", .kind = K_NAME, .off = U(name), .max = 255, .req = REQ },
	{ .name = "password_hash", .kind = K_SECRET, .off = U(password_hash) },
	{ .name = "password", .kind = K_SECRET, .off = U(password) },
	{ .name = NULL }
};

static const struct ckey tls_keys[] = {
	{ .name = "ca_file", .kind = K_PATH, .off = B(tls_ca_file) },
	{ .name = "verify", .kind = K_BOOL, .off = B(tls_verify), .def = "true" },
	{ .name = NULL }
};

static const struct ckey backend_keys[] = {
	{ .name = "type", .kind = K_TYPE, .off = B(type), .req = REQ },
	{ .name = "enabled", .kind = K_BOOL, .off = B(enabled), .def = "true" },
	{ .name = "zones_dir", .kind = K_PATH, .off = B(zones_dir), .types = T_FILE, .req = T_FILE },
	{ .name = "include_file", .kind = K_PATH, .off = B(include_file), .types = T_FILE,
	  .req = TB(BACKEND_NSD) | TB(BACKEND_BIND) },
	{ .name = "control", .kind = K_CMD, .off = B(control),
	  .types = T_FILE | TB(BACKEND_POWERDNS_MYSQL), .req = T_FILE },
	{ .name = "verify", .kind = K_VERIFY, .off = B(verify_host), .off2 = B(verify_port),
	  .def = "127.0.0.1@53", .set = B(verify_set) + 1 },
	{ .name = "host", .kind = K_STR, .off = B(host), .max = 255, .types = T_SQL, .req = T_SQL },
	{ .name = "port", .kind = K_INT, .off = B(port), .min = 1, .max = 65535, .def = "3306",
	  .types = T_SQL },
	{ .name = "database", .kind = K_STR, .off = B(database), .max = 64, .types = T_SQL, .req = T_SQL },
	{ .name = "user", .kind = K_STR, .off = B(user), .max = 80, .types = T_SQL, .req = T_SQL },
	{ .name = "password_file", .kind = K_PATH, .off = B(password_file), .types = T_SQL },
	{ .name = "tls", .kind = K_MAP, .sub = tls_keys, .types = T_SQL, .set = B(tls_set) + 1 },
	{ .name = "api_url", .kind = K_URL, .off = B(api_url), .types = TB(BACKEND_POWERDNS_MYSQL) },
	{ .name = "api_key_file", .kind = K_PATH, .off = B(api_key_file),
	  .types = TB(BACKEND_POWERDNS_MYSQL) },
	{ .name = "zones_table", .kind = K_IDENT, .off = B(zones_table), .max = 64, .def = "zones",
	  .types = TB(BACKEND_COREDNS_MYSQL) },
	{ .name = "records_table", .kind = K_IDENT, .off = B(records_table), .max = 64, .def = "records",
	  .types = TB(BACKEND_COREDNS_MYSQL) },
	{ .name = NULL }
};

static const struct ckey receiver_keys[] = {
	{ .name = "users", .kind = K_LIST, .off = C(receiver.users), .off2 = C(receiver.nusers),
	  .max = CONFIG_LIST_MAX, .sub = user_keys, .isize = sizeof(struct config_user),
	  .uniq = "name", .check = check_user },
	{ .name = "allow_from", .kind = K_CIDRLIST, .off = C(receiver.allow_from),
	  .off2 = C(receiver.nallow_from), .max = CONFIG_LIST_MAX },
	{ .name = "max_body", .kind = K_U64, .off = C(receiver.max_body), .min = 1, .max = 1LL << 30,
	  .def = "4194304" },
	{ .name = "parent_exists", .kind = K_INT, .off = C(receiver.parent_exists), .min = 2, .max = 3,
	  .def = "3" },
	{ .name = NULL }
};

static const struct ckey retry_keys[] = {
	{ .name = "schedule", .kind = K_DURLIST, .off = C(retry.schedule_ms), .off2 = C(retry.nschedule),
	  .min = 1 * SEC, .max = 7 * DAY, .def = "30s 2m 5m 15m 30m" },
	{ .name = NULL }
};

static const struct ckey da_keys[] = {
	{ .name = "url", .kind = K_URL, .off = D(url), .req = REQ },
	{ .name = "user", .kind = K_NAME, .off = D(user), .max = 255, .req = REQ },
	{ .name = "password_file", .kind = K_PATH, .off = D(password_file), .req = REQ },
	{ .name = "verify_tls", .kind = K_BOOL, .off = D(verify_tls), .def = "true" },
	{ .name = "hostname", .kind = K_HOST, .off = D(hostname) },
	{ .name = "ipp", .kind = K_INT, .off = D(ipp), .min = 1, .max = 100000, .def = "1000" },
	{ .name = NULL }
};

static const struct ckey reconcile_keys[] = {
	{ .name = "dry_run", .kind = K_BOOL, .off = C(reconcile.dry_run), .def = "true" },
	{ .name = "max_deletes", .kind = K_DELETES, .off = C(reconcile.max_deletes),
	  .off2 = C(reconcile.max_deletes_percent), .def = "5%" },
	{ .name = "directadmin", .kind = K_LIST, .off = C(reconcile.directadmin),
	  .off2 = C(reconcile.ndirectadmin), .max = CONFIG_LIST_MAX, .sub = da_keys,
	  .isize = sizeof(struct config_da_server), .uniq = "hostname", .check = check_da },
	{ .name = NULL }
};

static const struct ckey remote_keys[] = {
	{ .name = "url", .kind = K_URL, .off = R(url), .req = REQ },
	{ .name = "user", .kind = K_NAME, .off = R(user), .max = 255, .req = REQ },
	{ .name = "password_file", .kind = K_PATH, .off = R(password_file), .req = REQ },
	{ .name = NULL }
};

static const struct ckey peers_keys[] = {
	{ .name = "tombstone_days", .kind = K_INT, .off = C(peers.tombstone_days), .min = 1,
	  .max = 3650, .def = "30" },
	{ .name = "users", .kind = K_LIST, .off = C(peers.users), .off2 = C(peers.nusers),
	  .max = CONFIG_LIST_MAX, .sub = user_keys, .isize = sizeof(struct config_user),
	  .uniq = "name", .check = check_user },
	{ .name = "remotes", .kind = K_LIST, .off = C(peers.remotes), .off2 = C(peers.nremotes),
	  .max = CONFIG_LIST_MAX, .sub = remote_keys, .isize = sizeof(struct config_peer_remote),
	  .uniq = "url" },
	{ .name = NULL }
};

static const struct ckey tsig_keys[] = {
	{ .name = "name", .kind = K_WORD, .off = K(name), .max = 253, .req = REQ },
	{ .name = "algorithm", .kind = K_ALGO, .off = K(algorithm), .def = "hmac-sha256" },
	{ .name = "secret_file", .kind = K_PATH, .off = K(secret_file), .req = REQ },
	{ .name = NULL }
};

static const struct ckey secondary_keys[] = {
	{ .name = "zones_file", .kind = K_PATH, .off = C(secondary.zones_file) },
	{ .name = "refresh_min", .kind = K_DUR, .off = C(secondary.refresh_min_ms), .min = 1 * SEC,
	  .max = 1 * DAY, .def = "60s" },
	{ .name = "refresh_max", .kind = K_DUR, .off = C(secondary.refresh_max_ms), .min = 1 * SEC,
	  .max = 30 * DAY, .def = "1d" },
	{ .name = "concurrency", .kind = K_INT, .off = C(secondary.concurrency), .min = 1, .max = 4096,
	  .def = "256" },
	/* refresh2: per-master SOA limits */
	{ .name = "per_master", .kind = K_INT, .off = C(secondary.per_master), .min = 1, .max = 4096,
	  .def = "16" },
	{ .name = "query_timeout", .kind = K_DUR, .off = C(secondary.query_timeout_ms), .min = 100,
	  .max = 60 * SEC, .def = "1500ms" },
	{ .name = "withdraw_expired", .kind = K_BOOL, .off = C(secondary.withdraw_expired),
	  .def = "false" },
	{ .name = "tsig_keys", .kind = K_LIST, .off = C(secondary.tsig_keys),
	  .off2 = C(secondary.ntsig_keys), .max = CONFIG_LIST_MAX, .sub = tsig_keys,
	  .isize = sizeof(struct config_tsig_key), .uniq = "name" },
	{ .name = NULL }
};

static const struct ckey top_keys[] = {
	{ .name = "spool_dir", .kind = K_PATH, .off = C(spool_dir), .def = "/var/spool/zonedrop" },
	{ .name = "state_dir", .kind = K_PATH, .off = C(state_dir), .def = "/var/lib/zonedrop" },
	{ .name = "log_level", .kind = K_LEVEL, .off = C(log_level), .def = "info" },
	{ .name = "user", .kind = K_WORD, .off = C(user), .max = 32 },
	{ .name = "verify_timeout", .kind = K_DUR, .off = C(verify_timeout_ms), .min = 1 * SEC,
	  .max = 3600 * SEC, .def = "30s" },
	{ .name = "receiver", .kind = K_MAP, .sub = receiver_keys },
	{ .name = "backends", .kind = K_BACKENDS, .off = C(backends), .off2 = C(nbackends) },
	{ .name = "retry", .kind = K_MAP, .sub = retry_keys },
	{ .name = "reconcile", .kind = K_MAP, .sub = reconcile_keys },
	{ .name = "peers", .kind = K_MAP, .sub = peers_keys },
	{ .name = "secondary", .kind = K_MAP, .sub = secondary_keys, .check = check_secondary },
	{ .name = NULL }
};

static const char *const type_names[] = {
	[BACKEND_NSD] = "nsd",
	[BACKEND_BIND] = "bind",
	[BACKEND_KNOT] = "knot",
	[BACKEND_POWERDNS_MYSQL] = "powerdns_mysql",
	[BACKEND_COREDNS_MYSQL] = "coredns_mysql",
};
#define TYPE_MAX BACKEND_COREDNS_MYSQL

static const char *const tsig_algorithms[] = {
	"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512", NULL
};

/* ---- small helpers --------------------------------------------------------------- */

#define FIELD(base, off, type) ((type *)(void *)((char *)(base) + (off)))

/* "FILE:LINE:COL: message", 1-based (libyaml marks are 0-based); untrusted
 * parts of the message were escaped by the caller (str_safe). */
static int cfail(struct cctx *c, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cfail(struct cctx *c, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[ZD_ERR_MSG_MAX], file[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	str_safe(file, sizeof file, c->file, strlen(c->file));
	if (m != NULL)
		return zd_err_set(c->err, ZD_ECONFIG, "%s:%zu:%zu: %s", file, m->line + 1,
		                  m->column + 1, msg);
	return zd_err_set(c->err, ZD_ECONFIG, "%s: %s", file, msg);
}

static void join(char *out, size_t sz, const char *where, const char *name)
{
	char n[80];

	str_safe(n, sizeof n, name, strlen(name));
	if (where[0] == '\0')
		snprintf(out, sz, "%s", n);
	else
		snprintf(out, sz, "%s.%s", where, n);
}

/* where[i]; a path too long for the buffer is cut (it is only for messages) */
static void join_index(char *out, size_t sz, const char *where, size_t i)
{
	int n = snprintf(out, sz, "%s[%zu]", where, i);

	if (n < 0 || (size_t)n >= sz)
		out[sz - 1] = '\0';
}

static yaml_node_t *node_at(struct cctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a value";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/* A plain empty value, ~ or null: the key is there without a value. */
static int node_null(const yaml_node_t *n)
{
	const char *v;

	if (n == NULL)
		return 1;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* The key node named name in mapping node, or NULL. */
static yaml_node_t *map_key(struct cctx *c, yaml_node_t *map, const char *name)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strlen((const char *)k->data.scalar.value) == k->data.scalar.length &&
		    strcmp((const char *)k->data.scalar.value, name) == 0)
			return k;
	}
	return NULL;
}

static void fmt_dur(char *buf, size_t sz, int64_t ms)
{
	if (ms != 0 && ms % DAY == 0)
		snprintf(buf, sz, "%lldd", (long long)(ms / DAY));
	else if (ms != 0 && ms % (3600 * SEC) == 0)
		snprintf(buf, sz, "%lldh", (long long)(ms / (3600 * SEC)));
	else if (ms != 0 && ms % (60 * SEC) == 0)
		snprintf(buf, sz, "%lldm", (long long)(ms / (60 * SEC)));
	else if (ms % SEC == 0)
		snprintf(buf, sz, "%llds", (long long)(ms / SEC));
	else
		snprintf(buf, sz, "%lldms", (long long)ms);
}

static int url_host(const char *url, char *out, size_t sz)
{
	const char *p = strstr(url, "://"), *e;
	size_t n, i;

	if (p == NULL)
		return -1;
	p += 3;
	if (*p == '[') {
		p++;
		e = strchr(p, ']');
		if (e == NULL)
			return -1;
	} else {
		e = p + strcspn(p, ":/?#");
	}
	n = (size_t)(e - p);
	if (n == 0 || n >= sz)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
	out[n] = '\0';
	return 0;
}

static int in_set(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

#define CH_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* scheme://host[:port][/...] with a host name, an IPv4 address or [IPv6],
 * and no user:password@ */
static int url_ok(const char *s)
{
	const char *a = strstr(s, "://"), *e;
	size_t n;

	if (a == NULL)
		return 0;
	a += 3;
	n = strcspn(a, "/?#");
	if (memchr(a, '@', n) != NULL || strchr(s, ' ') != NULL)
		return 0;
	if (*a == '[') {
		e = memchr(a, ']', n);
		if (e == NULL || e == a + 1 || strspn(a + 1, "0123456789abcdefABCDEF:.") != (size_t)(e - a - 1))
			return 0;
		e++;
	} else {
		e = a + strspn(a, CH_ALNUM ".-");
		if (e == a)
			return 0;
	}
	if (*e == ':') {
		size_t d = strspn(e + 1, "0123456789");

		if (d == 0 || d > 5)
			return 0;
		e += 1 + d;
	}
	return *e == '\0' || *e == '/' || *e == '?' || *e == '#';
}

/* ---- scalar values --------------------------------------------------------------- */

static int parse_verify(const char *s, char *host, size_t hsz, int *port)
{
	const char *at = strrchr(s, '@');
	unsigned char a[16];
	uint64_t p = 53;
	size_t n = at ? (size_t)(at - s) : strlen(s);

	if (n == 0 || n >= hsz)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
		return -1;
	if (at != NULL && (parse_u64(at + 1, 65535, &p) < 0 || p == 0))
		return -1;
	*port = (int)p;
	return 0;
}

static int parse_deletes(const char *s, double *v, int *percent)
{
	char *end;
	size_t n = strlen(s);
	uint64_t u;
	double d;

	if (n > 1 && s[n - 1] == '%') {
		char num[32];

		if (n - 1 >= sizeof num || !in_set(s, "0123456789.%") || s[0] == '.')
			return -1;
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		errno = 0;
		d = strtod(num, &end);
		if (errno != 0 || *end != '\0' || end == num || d < 0 || d > 100)
			return -1;
		*v = d;
		*percent = 1;
		return 0;
	}
	if (parse_u64(s, 1000000000, &u) < 0)
		return -1;
	*v = (double)u;
	*percent = 0;
	return 0;
}

/* Store one scalar s (len bytes) into base as key k says. m is NULL for a
 * default from the table. */
static int set_scalar(struct cctx *c, const struct ckey *k, void *base, const char *s, size_t len,
                      const yaml_mark_t *m, const char *where)
{
	char v[80], host[INET6_ADDRSTRLEN + 1];
	long long maxlen = k->max > 0 ? k->max : CONFIG_STR_MAX;
	uint64_t u;
	int64_t ms;
	size_t i;
	int n, port, pct;
	double d;

	str_safe(v, sizeof v, s, len);
	if (strlen(s) != len)
		return cfail(c, m, "%s: contains a NUL byte", where);
	switch (k->kind) {
	case K_STR: case K_SECRET: case K_NAME: case K_WORD: case K_IDENT: case K_PATH:
	case K_CMD: case K_URL: case K_HOST: case K_ALGO: {
		char **p = FIELD(base, k->off, char *);
		char *copy;

		if (len == 0)
			return cfail(c, m, "%s: must not be empty", where);
		if (strlen(s) != len)
			return cfail(c, m, "%s: contains a NUL byte", where);
		if ((long long)len > maxlen)
			return cfail(c, m, "%s: longer than %lld bytes", where, maxlen);
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return cfail(c, m, "%s: contains a control character", where);
		switch (k->kind) {
		case K_NAME:
			if (strchr(s, ':') != NULL)
				return cfail(c, m, "%s: a user name cannot contain ':' (HTTP Basic auth)",
				             where);
			break;
		case K_WORD:
			if (!in_set(s, CH_ALNUM "_.-"))
				return cfail(c, m, "%s: '%s': use only A-Z a-z 0-9 _ . -", where, v);
			break;
		case K_IDENT:
			if (!in_set(s, CH_ALNUM "_"))
				return cfail(c, m, "%s: '%s': a table name is A-Z a-z 0-9 _ only", where, v);
			break;
		case K_PATH:
			if (s[0] != '/')
				return cfail(c, m, "%s: '%s' must be an absolute path", where, v);
			if (strpbrk(s, "\"\\") != NULL)
				return cfail(c, m, "%s: '%s': a path cannot contain '\"' or '\\'", where, v);
			break;
		case K_CMD: {
			char buf[2 * CONFIG_STR_MAX + 2], *argv[EXEC_ARGV_MAX + 1];
			struct zd_err e;
			int argc;

			zd_err_clear(&e);
			if (exec_split(s, buf, sizeof buf, argv, EXEC_ARGV_MAX, &argc, &e) < 0)
				return cfail(c, m, "%s: %s", where, e.msg);
			break;
		}
		case K_URL:
			if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
				return cfail(c, m, "%s: '%s' must start with http:// or https://", where, v);
			{
				const char *auth = strstr(s, "://") + 3;
				size_t alen = strcspn(auth, "/?#");

				if (memchr(auth, '@', alen) != NULL)
					return cfail(c, m, "%s: no credentials in URLs: use password_file", where);
			}
			if (!url_ok(s) || url_host(s, host, sizeof host) < 0)
				return cfail(c, m, "%s: '%s' is not a URL with a host name or address", where, v);
			break;
		case K_HOST:
			if (!in_set(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") || s[0] == '.' ||
			    s[0] == '-' || len > 253)
				return cfail(c, m, "%s: '%s' is not a lower-case host name", where, v);
			break;
		case K_ALGO:
			for (i = 0; tsig_algorithms[i] != NULL; i++)
				if (strcmp(s, tsig_algorithms[i]) == 0)
					break;
			if (tsig_algorithms[i] == NULL)
				return cfail(c, m, "%s: '%s' is not one of hmac-md5, hmac-sha1, hmac-sha224, "
				             "hmac-sha256, hmac-sha384, hmac-sha512", where, v);
			break;
		default:
			break;
		}
		copy = strndup(s, len);
		if (copy == NULL)
			return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
		free(*p);
		*p = copy;
		return 0;
	}
	case K_BOOL:
		if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0)
			*FIELD(base, k->off, int) = 1;
		else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
		         strcasecmp(s, "off") == 0)
			*FIELD(base, k->off, int) = 0;
		else
			return cfail(c, m, "%s: '%s' is not true or false", where, v);
		return 0;
	case K_INT:
	case K_U64:
		/* 010 is 8 to other YAML readers: refuse leading zeros rather than guess */
		if (parse_u64(s, (uint64_t)k->max, &u) < 0 || u < (uint64_t)k->min ||
		    (s[0] == '0' && s[1] != '\0')) {
			if (k->max - k->min == 1)
				return cfail(c, m, "%s: '%s': must be %lld or %lld", where, v, k->min, k->max);
			return cfail(c, m, "%s: '%s': must be a number from %lld to %lld", where, v,
			             k->min, k->max);
		}
		if (k->kind == K_INT)
			*FIELD(base, k->off, int) = (int)u;
		else
			*FIELD(base, k->off, uint64_t) = u;
		return 0;
	case K_DUR: {
		char lo[32], hi[32];

		fmt_dur(lo, sizeof lo, k->min);
		fmt_dur(hi, sizeof hi, k->max);
		if (strlen(s) != len || parse_duration_ms(s, &ms) < 0)
			return cfail(c, m, "%s: '%s' is not a duration (like 1500ms, 30s, 2m, 1h, 1d)",
			             where, v);
		if (ms < k->min || ms > k->max)
			return cfail(c, m, "%s: '%s' is not from %s to %s", where, v, lo, hi);
		*FIELD(base, k->off, int64_t) = ms;
		return 0;
	}
	case K_LEVEL:
		n = strlen(s) == len ? log_level_parse(s) : -1;
		if (n < 0)
			return cfail(c, m, "%s: '%s' is not error, warning, info or debug", where, v);
		*FIELD(base, k->off, int) = n;
		return 0;
	case K_TYPE:
		for (n = 1; n <= TYPE_MAX; n++)
			if (strlen(s) == len && strcmp(s, type_names[n]) == 0)
				break;
		if (n > TYPE_MAX)
			return cfail(c, m, "%s: '%s' is not nsd, bind, knot, powerdns_mysql or coredns_mysql",
			             where, v);
		*FIELD(base, k->off, enum backend_type) = (enum backend_type)n;
		return 0;
	case K_VERIFY: {
		char **p = FIELD(base, k->off, char *), *copy;

		if (strlen(s) != len || parse_verify(s, host, sizeof host, &port) < 0)
			return cfail(c, m, "%s: '%s' is not ADDRESS or ADDRESS@PORT (an IPv4 or IPv6 "
			             "address, port 1-65535)", where, v);
		copy = strdup(host);
		if (copy == NULL)
			return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
		free(*p);
		*p = copy;
		*FIELD(base, k->off2, int) = port;
		return 0;
	}
	case K_DELETES:
		if (strlen(s) != len || parse_deletes(s, &d, &pct) < 0)
			return cfail(c, m, "%s: '%s' is not a percentage (0%%-100%%) or a count", where, v);
		*FIELD(base, k->off, double) = d;
		*FIELD(base, k->off2, int) = pct;
		return 0;
	default:
		return cfail(c, m, "%s: internal error: not a scalar key", where);
	}
}

/* ---- lists and mappings ---------------------------------------------------------- */

static int walk_map(struct cctx *c, yaml_node_t *node, const struct ckey *keys, void *base,
                    const char *where, unsigned tbit, const yaml_mark_t *owner);
static void apply_defaults(const struct ckey *keys, void *base, unsigned tbit);
static void free_keys(const struct ckey *keys, void *base);

static const struct ckey *key_find(const struct ckey *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

static int want_list(struct cctx *c, yaml_node_t *v, const char *where, size_t max, size_t *n)
{
	if (node_null(v)) {
		*n = 0;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return cfail(c, &v->start_mark, "%s: expected a list, found %s", where, node_kind(v));
	*n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (*n > max)
		return cfail(c, &v->start_mark, "%s: more than %zu entries", where, max);
	return 0;
}

/* A list item that must be a plain value. */
static yaml_node_t *list_scalar(struct cctx *c, yaml_node_t *seq, size_t i, const char *where,
                                int *rc)
{
	yaml_node_t *it = node_at(c, seq->data.sequence.items.start[i]);

	*rc = 0;
	if (it == NULL || it->type != YAML_SCALAR_NODE || node_null(it)) {
		*rc = cfail(c, it ? &it->start_mark : &seq->start_mark, "%s[%zu]: expected a value, found %s",
		            where, i, it == NULL || node_null(it) ? "nothing" : node_kind(it));
		return NULL;
	}
	if (strlen((const char *)it->data.scalar.value) != it->data.scalar.length) {
		*rc = cfail(c, &it->start_mark, "%s[%zu]: contains a NUL byte", where, i);
		return NULL;
	}
	return it;
}

static int set_durlist_default(const struct ckey *k, void *base)
{
	int64_t *arr, ms;
	char buf[128], *tok, *save = NULL;
	size_t n = 0;

	arr = calloc(16, sizeof *arr);
	if (arr == NULL)
		return ZD_ENOMEM;
	str_copy(buf, k->def, sizeof buf);
	for (tok = strtok_r(buf, " ", &save); tok != NULL && n < 16; tok = strtok_r(NULL, " ", &save))
		if (parse_duration_ms(tok, &ms) == 0)
			arr[n++] = ms;
	free(*FIELD(base, k->off, int64_t *));
	*FIELD(base, k->off, int64_t *) = arr;
	*FIELD(base, k->off2, size_t) = n;
	return 0;
}

static int set_durlist(struct cctx *c, const struct ckey *k, void *base, yaml_node_t *v,
                       const char *where)
{
	size_t n, i;
	int64_t *arr;
	int rc;

	rc = want_list(c, v, where, 32, &n);
	if (rc < 0)
		return rc;
	if (n == 0)
		return cfail(c, &v->start_mark, "%s: needs at least one step", where);
	arr = calloc(n, sizeof *arr);
	if (arr == NULL)
		return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
	free(*FIELD(base, k->off, int64_t *));
	*FIELD(base, k->off, int64_t *) = arr;
	*FIELD(base, k->off2, size_t) = n;
	for (i = 0; i < n; i++) {
		char w[CONFIG_WHERE_MAX];
		struct ckey one = *k;
		yaml_node_t *it = list_scalar(c, v, i, where, &rc);

		if (it == NULL)
			return rc;
		join_index(w, sizeof w, where, i);
		one.kind = K_DUR;
		one.off = (size_t)i * sizeof *arr;
		rc = set_scalar(c, &one, arr, (const char *)it->data.scalar.value,
		                it->data.scalar.length, &it->start_mark, w);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int set_cidrlist(struct cctx *c, const struct ckey *k, void *base, yaml_node_t *v,
                        const char *where)
{
	struct config_cidr *arr;
	size_t n, i;
	int rc;

	rc = want_list(c, v, where, (size_t)k->max, &n);
	if (rc < 0)
		return rc;
	arr = calloc(n ? n : 1, sizeof *arr);
	if (arr == NULL)
		return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
	free(*FIELD(base, k->off, struct config_cidr *));
	*FIELD(base, k->off, struct config_cidr *) = arr;
	*FIELD(base, k->off2, size_t) = n;
	for (i = 0; i < n; i++) {
		yaml_node_t *it = list_scalar(c, v, i, where, &rc);
		const char *s;
		char sv[80];
		struct zd_err e;
		int full, j, bad = 0;

		if (it == NULL)
			return rc;
		s = (const char *)it->data.scalar.value;
		str_safe(sv, sizeof sv, s, it->data.scalar.length);
		if (auth_cidr_parse(s, &arr[i], &e) < 0)
			return cfail(c, &it->start_mark, "%s[%zu]: '%s' is not an address or ADDRESS/PREFIX",
			             where, i, sv);
		/* bits set past the prefix are a typo more often than not: 10.0.0.1/8 */
		full = arr[i].family == AF_INET ? 4 : 16;
		for (j = 0; j < full; j++) {
			int keep = arr[i].prefix - j * 8;
			unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 :
			                     (unsigned char)(0xff << (8 - keep));

			if (arr[i].addr[j] & (unsigned char)~mask)
				bad = 1;
		}
		if (bad)
			return cfail(c, &it->start_mark, "%s[%zu]: '%s' has address bits set past the "
			             "prefix length", where, i, sv);
	}
	return 0;
}

static int set_list(struct cctx *c, const struct ckey *k, void *base, yaml_node_t *v,
                    const char *where)
{
	char *arr;
	size_t n, i, j, uoff = 0;
	const struct ckey *u = k->uniq ? key_find(k->sub, k->uniq) : NULL;
	int rc;

	rc = want_list(c, v, where, (size_t)k->max, &n);
	if (rc < 0)
		return rc;
	arr = calloc(n ? n : 1, k->isize);
	if (arr == NULL)
		return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
	/* the old list (none: lists have no defaults) goes; the new one is
	 * reachable from base at once, so a failure half way frees it all */
	*FIELD(base, k->off, void *) = arr;
	*FIELD(base, k->off2, size_t) = n;
	for (i = 0; i < n; i++) {
		char w[CONFIG_WHERE_MAX];
		yaml_node_t *it = node_at(c, v->data.sequence.items.start[i]);

		join_index(w, sizeof w, where, i);
		apply_defaults(k->sub, arr + i * k->isize, 1);
		if (it == NULL || it->type != YAML_MAPPING_NODE)
			return cfail(c, it ? &it->start_mark : &v->start_mark,
			             "%s: expected a mapping, found %s", w,
			             it == NULL || node_null(it) ? "nothing" : node_kind(it));
		rc = walk_map(c, it, k->sub, arr + i * k->isize, w, 1, &it->start_mark);
		if (rc == 0 && k->check != NULL)
			rc = k->check(c, it, arr + i * k->isize, w);
		if (rc < 0)
			return rc;
	}
	if (u == NULL)
		return 0;
	uoff = u->off;
	for (i = 1; i < n; i++) {
		const char *a = *FIELD(arr + i * k->isize, uoff, char *);

		for (j = 0; j < i; j++) {
			const char *b = *FIELD(arr + j * k->isize, uoff, char *);

			if (a != NULL && b != NULL && strcmp(a, b) == 0) {
				yaml_node_t *it = node_at(c, v->data.sequence.items.start[i]);
				char sv[80];

				return cfail(c, &it->start_mark, "%s[%zu]: %s '%s' is already used by %s[%zu]",
				             where, i, k->uniq, str_safe(sv, sizeof sv, a, strlen(a)), where, j);
			}
		}
	}
	return 0;
}

static int backend_name_ok(const char *s, size_t len)
{
	return len >= 1 && len <= 63 && strlen(s) == len && in_set(s, CH_ALNUM "_-");
}

static int set_backends(struct cctx *c, const struct ckey *k, void *base, yaml_node_t *v,
                        const char *where)
{
	struct config_backend *arr;
	size_t n, i, j;
	int rc;

	if (node_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return cfail(c, &v->start_mark, "%s: expected a mapping of backend names, found %s", where,
		             node_kind(v));
	n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	if (n > CONFIG_BACKENDS_MAX)
		return cfail(c, &v->start_mark, "%s: more than %d backends", where, CONFIG_BACKENDS_MAX);
	arr = calloc(n ? n : 1, sizeof *arr);
	if (arr == NULL)
		return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
	*FIELD(base, k->off, struct config_backend *) = arr;
	*FIELD(base, k->off2, size_t) = n;
	for (i = 0; i < n; i++) {
		yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
		yaml_node_t *kn = node_at(c, p->key), *vn = node_at(c, p->value), *tk;
		struct config_backend *be = &arr[i];
		char w[CONFIG_WHERE_MAX], sv[80];
		const char *name;
		unsigned tbit;

		if (kn == NULL || kn->type != YAML_SCALAR_NODE)
			return cfail(c, kn ? &kn->start_mark : &v->start_mark,
			             "%s: a backend name must be a plain string", where);
		name = (const char *)kn->data.scalar.value;
		str_safe(sv, sizeof sv, name, kn->data.scalar.length);
		if (!backend_name_ok(name, kn->data.scalar.length))
			return cfail(c, &kn->start_mark, "%s: backend name '%s' must be 1-63 of "
			             "A-Z a-z 0-9 _ -", where, sv);
		for (j = 0; j < i; j++)
			if (strcmp(arr[j].name, name) == 0)
				return cfail(c, &kn->start_mark, "%s: duplicate backend '%s'", where, sv);
		be->name = strdup(name);
		if (be->name == NULL)
			return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
		be->line = (int)kn->start_mark.line + 1;
		join(w, sizeof w, where, name);
		if (vn == NULL || vn->type != YAML_MAPPING_NODE)
			return cfail(c, vn && !node_null(vn) ? &vn->start_mark : &kn->start_mark,
			             "%s: expected a mapping, found %s", w,
			             vn == NULL || node_null(vn) ? "nothing" : node_kind(vn));
		/* the type decides which keys apply and which are required */
		tk = map_key(c, vn, "type");
		if (tk == NULL)
			return cfail(c, &kn->start_mark, "%s: missing key 'type' (nsd, bind, knot, "
			             "powerdns_mysql, coredns_mysql)", w);
		{
			yaml_node_pair_t *q;
			char tw[CONFIG_WHERE_MAX];

			join(tw, sizeof tw, w, "type");
			for (q = vn->data.mapping.pairs.start; q < vn->data.mapping.pairs.top; q++) {
				yaml_node_t *tv;

				if (node_at(c, q->key) != tk)
					continue;
				tv = node_at(c, q->value);
				if (tv == NULL || tv->type != YAML_SCALAR_NODE || node_null(tv))
					return cfail(c, tv ? &tv->start_mark : &tk->start_mark,
					             "%s: expected a value, found %s", tw,
					             tv == NULL || node_null(tv) ? "nothing" : node_kind(tv));
				rc = set_scalar(c, &backend_keys[0], be, (const char *)tv->data.scalar.value,
				                tv->data.scalar.length, &tv->start_mark, tw);
				if (rc < 0)
					return rc;
				break;
			}
		}
		tbit = TB(be->type);
		apply_defaults(backend_keys, be, tbit);
		rc = walk_map(c, vn, backend_keys, be, w, tbit, &kn->start_mark);
		if (rc == 0)
			rc = check_backend(c, vn, be, w);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int set_value(struct cctx *c, const struct ckey *k, void *base, yaml_node_t *v,
                     const char *where, unsigned tbit, const yaml_mark_t *keymark)
{
	int rc;

	switch (k->kind) {
	case K_DURLIST:
		return set_durlist(c, k, base, v, where);
	case K_CIDRLIST:
		return set_cidrlist(c, k, base, v, where);
	case K_LIST:
		return set_list(c, k, base, v, where);
	case K_BACKENDS:
		return set_backends(c, k, base, v, where);
	case K_MAP:
		rc = walk_map(c, v, k->sub, base, where, tbit, keymark);
		if (rc == 0 && k->set)
			*FIELD(base, k->set - 1, int) = 1;
		if (rc == 0 && k->check)
			rc = k->check(c, v, base, where);
		return rc;
	default:
		break;
	}
	if (v->type != YAML_SCALAR_NODE)
		return cfail(c, &v->start_mark, "%s: expected a value, found %s", where, node_kind(v));
	if (node_null(v))
		return cfail(c, &v->start_mark, "%s: no value (leave the key out for the default)", where);
	rc = set_scalar(c, k, base, (const char *)v->data.scalar.value, v->data.scalar.length,
	                &v->start_mark, where);
	if (rc == 0 && k->set)
		*FIELD(base, k->set - 1, int) = 1;
	return rc;
}

static const char *type_of_bit(unsigned tbit)
{
	int t;

	for (t = 1; t <= TYPE_MAX; t++)
		if (TB(t) == tbit)
			return type_names[t];
	return "?";
}

static int walk_map(struct cctx *c, yaml_node_t *node, const struct ckey *keys, void *base,
                    const char *where, unsigned tbit, const yaml_mark_t *owner)
{
	yaml_node_pair_t *p;
	uint64_t seen = 0;
	const struct ckey *k;
	int rc;

	if (!node_null(node) && node->type != YAML_MAPPING_NODE)
		return cfail(c, &node->start_mark, "%s%sexpected a mapping, found %s", where,
		             where[0] ? ": " : "", node_kind(node));
	if (node->type == YAML_MAPPING_NODE) {
		for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = node_at(c, p->key), *vn = node_at(c, p->value);
			char w[CONFIG_WHERE_MAX], sv[80];
			const char *name;
			size_t idx;

			if (kn == NULL || vn == NULL)
				return cfail(c, &node->start_mark, "%s: broken document", where);
			if (kn->type != YAML_SCALAR_NODE)
				return cfail(c, &kn->start_mark, "%s%skeys must be plain strings, found %s",
				             where, where[0] ? ": " : "", node_kind(kn));
			name = (const char *)kn->data.scalar.value;
			str_safe(sv, sizeof sv, name, kn->data.scalar.length);
			k = strlen(name) == kn->data.scalar.length ? key_find(keys, name) : NULL;
			if (k == NULL)
				return cfail(c, &kn->start_mark, "%s%sunknown key '%s'", where,
				             where[0] ? ": " : "", sv);
			idx = (size_t)(k - keys);
			if (seen & ((uint64_t)1 << idx))
				return cfail(c, &kn->start_mark, "%s%sduplicate key '%s'", where,
				             where[0] ? ": " : "", sv);
			seen |= (uint64_t)1 << idx;
			join(w, sizeof w, where, name);
			if (k->types != 0 && !(k->types & tbit))
				return cfail(c, &kn->start_mark, "%s: not used by a backend of type %s", w,
				             type_of_bit(tbit));
			rc = set_value(c, k, base, vn, w, tbit, &kn->start_mark);
			if (rc < 0)
				return rc;
		}
	}
	for (k = keys; k->name != NULL; k++) {
		if (!(k->req & tbit) || (seen & ((uint64_t)1 << (k - keys))))
			continue;
		return cfail(c, owner ? owner : &node->start_mark, "%s%smissing key '%s'", where,
		             where[0] ? ": " : "", k->name);
	}
	return 0;
}

/* ---- checks across keys ---------------------------------------------------------- */

static int check_user(struct cctx *c, yaml_node_t *node, void *item, const char *where)
{
	struct config_user *u = item;

	if (u->password != NULL && u->password_hash != NULL)
		return cfail(c, &node->start_mark, "%s: give password_hash or password, not both", where);
	if (u->password == NULL && u->password_hash == NULL)
		return cfail(c, &node->start_mark, "%s: missing key 'password_hash' (or 'password' for "
		             "tests); `zonedrop passwd` prints a hash", where);
	return 0;
}

static int check_backend(struct cctx *c, yaml_node_t *node, void *item, const char *where)
{
	struct config_backend *be = item;
	yaml_node_t *k;

	if ((be->api_url == NULL) != (be->api_key_file == NULL)) {
		k = map_key(c, node, be->api_url ? "api_url" : "api_key_file");
		return cfail(c, k ? &k->start_mark : &node->start_mark,
		             "%s: api_url and api_key_file go together", where);
	}
	return 0;
}

static int check_da(struct cctx *c, yaml_node_t *node, void *item, const char *where)
{
	struct config_da_server *da = item;
	char host[256];

	const struct ckey *k = key_find(da_keys, "hostname");
	char w[CONFIG_WHERE_MAX];
	yaml_node_t *u;

	if (da->hostname != NULL)
		return 0;
	u = map_key(c, node, "url");
	if (url_host(da->url, host, sizeof host) < 0)
		return cfail(c, u ? &u->start_mark : &node->start_mark, "%s: no host in url", where);
	/* the URL's host stands in for hostname: it must be one (not [2001:db8::1]) */
	join(w, sizeof w, where, "hostname (from url)");
	return set_scalar(c, k, da, host, strlen(host), u ? &u->start_mark : &node->start_mark, w);
}

static int check_secondary(struct cctx *c, yaml_node_t *node, void *base, const char *where)
{
	struct config *cfg = base;
	yaml_node_t *k;

	if (cfg->secondary.refresh_min_ms > cfg->secondary.refresh_max_ms) {
		k = map_key(c, node, "refresh_min");
		if (k == NULL)
			k = map_key(c, node, "refresh_max");
		return cfail(c, k ? &k->start_mark : &node->start_mark,
		             "%s: refresh_min is larger than refresh_max", where);
	}
	/* refresh2: a master's share cannot exceed the whole (when set: the
	 * default 16 is only capped by a smaller concurrency at run time) */
	k = map_key(c, node, "per_master");
	if (k != NULL && cfg->secondary.per_master > cfg->secondary.concurrency) {
		return cfail(c, &k->start_mark, "%s: per_master (%d) is larger than concurrency (%d)", where,
		             cfg->secondary.per_master, cfg->secondary.concurrency);
	}
	return 0;
}

/* ---- defaults and freeing -------------------------------------------------------- */

static void apply_defaults(const struct ckey *keys, void *base, unsigned tbit)
{
	struct cctx none = { NULL, "(defaults)", NULL };
	const struct ckey *k;

	for (k = keys; k->name != NULL; k++) {
		if (k->types != 0 && !(k->types & tbit))
			continue;
		if (k->kind == K_MAP)
			apply_defaults(k->sub, base, tbit);
		else if (k->kind == K_DURLIST && k->def != NULL)
			(void)set_durlist_default(k, base);
		else if (k->def != NULL)
			(void)set_scalar(&none, k, base, k->def, strlen(k->def), NULL, k->name);
	}
}

static void free_keys(const struct ckey *keys, void *base)
{
	const struct ckey *k;
	size_t i, n;

	for (k = keys; k->name != NULL; k++) {
		switch (k->kind) {
		case K_STR: case K_SECRET: case K_NAME: case K_WORD: case K_IDENT: case K_PATH:
		case K_CMD: case K_URL: case K_HOST: case K_ALGO: case K_VERIFY: {
			char **p = FIELD(base, k->off, char *);

			if (k->kind == K_SECRET && *p != NULL)
				explicit_bzero(*p, strlen(*p));
			free(*p);
			*p = NULL;
			break;
		}
		case K_DURLIST: case K_CIDRLIST:
			free(*FIELD(base, k->off, void *));
			*FIELD(base, k->off, void *) = NULL;
			*FIELD(base, k->off2, size_t) = 0;
			break;
		case K_MAP:
			free_keys(k->sub, base);
			break;
		case K_LIST: {
			char *arr = *FIELD(base, k->off, char *);

			n = *FIELD(base, k->off2, size_t);
			for (i = 0; arr != NULL && i < n; i++)
				free_keys(k->sub, arr + i * k->isize);
			free(arr);
			*FIELD(base, k->off, void *) = NULL;
			*FIELD(base, k->off2, size_t) = 0;
			break;
		}
		case K_BACKENDS: {
			struct config_backend *arr = *FIELD(base, k->off, struct config_backend *);

			n = *FIELD(base, k->off2, size_t);
			for (i = 0; arr != NULL && i < n; i++) {
				free_keys(backend_keys, &arr[i]);
				free(arr[i].name);
			}
			free(arr);
			*FIELD(base, k->off, void *) = NULL;
			*FIELD(base, k->off2, size_t) = 0;
			break;
		}
		default:
			break;
		}
	}
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free_keys(top_keys, cfg);
	free(cfg->path);
	free(cfg);
}

/* ---- loading --------------------------------------------------------------------- */

static int yaml_fail(struct cctx *c, yaml_parser_t *p, const char *buf, size_t len)
{
	yaml_mark_t m = p->problem_mark;
	const char *what = p->problem ? p->problem : "syntax error";

	if (p->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		size_t i, off = p->problem_offset < len ? p->problem_offset : len;

		memset(&m, 0, sizeof m);
		for (i = 0; i < off; i++) {
			if (buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		return cfail(c, &m, "not UTF-8 text without control characters (%s)", what);
	}
	if (p->context != NULL)
		return cfail(c, &m, "YAML: %s %s", p->context, what);
	return cfail(c, &m, "YAML: %s", what);
}

/* One pass over the events before building the document: it finds aliases
 * (refused: they let a short text stand for a huge or cyclic tree, and a
 * config needs none) and a second document (which would be ignored) with
 * the exact place of each. Syntax errors surface here first. */
static int prescan(struct cctx *c, const void *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, docs = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		return zd_err_set(c->err, ZD_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, buf, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = yaml_fail(c, &parser, buf, len);
			break;
		}
		if (ev.type == YAML_ALIAS_EVENT) {
			char a[80];
			const char *n = (const char *)ev.data.alias.anchor;

			rc = cfail(c, &ev.start_mark, "aliases (*%s) are not supported: write the value out",
			           str_safe(a, sizeof a, n ? n : "", n ? strlen(n) : 0));
		} else if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			rc = cfail(c, &ev.start_mark, "more than one YAML document (---)");
		} else if (ev.type == YAML_STREAM_END_EVENT) {
			done = 1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

int config_load_mem(const char *name, const void *buf, size_t len, struct config **out,
                    struct zd_err *err)
{
	struct cctx c = { NULL, name ? name : "(config)", err };
	struct config *cfg;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0, have_parser = 0, have_doc = 0;

	*out = NULL;
	zd_err_clear(err);
	cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	cfg->path = strdup(c.file);
	if (cfg->path == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto done;
	}
	apply_defaults(top_keys, cfg, 1);
	if (cfg->spool_dir == NULL || cfg->retry.schedule_ms == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto done;
	}
	rc = prescan(&c, buf, len);
	if (rc < 0)
		goto done;
	if (!yaml_parser_initialize(&parser)) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto done;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_fail(&c, &parser, buf, len);
		goto done;
	}
	have_doc = 1;
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL) {
		if (root->type == YAML_MAPPING_NODE || node_null(root))
			rc = walk_map(&c, root, top_keys, cfg, "", 1, NULL);
		else
			rc = cfail(&c, &root->start_mark, "expected a mapping of keys at the top, found %s "
			           "(see zonedrop.yml(5))", node_kind(root));
	}
done:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	if (rc < 0) {
		config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int config_load(const char *path, struct config **out, struct zd_err *err)
{
	struct zd_err e;
	char *buf = NULL, file[200];
	size_t len = 0;
	int rc;

	*out = NULL;
	zd_err_clear(&e);
	rc = file_read_all(path, CONFIG_FILE_MAX, &buf, &len, &e);
	if (rc < 0) {
		str_safe(file, sizeof file, path, strlen(path));
		if (rc == ZD_E2BIG)
			return zd_err_set(err, ZD_ECONFIG, "%s: larger than %d bytes", file, CONFIG_FILE_MAX);
		rc = zd_err_set(err, ZD_EIO, "%s: cannot read the configuration", file);
		if (err != NULL)
			err->sys_errno = e.sys_errno;
		return rc;
	}
	rc = config_load_mem(path, buf, len, out, err);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

const char *config_path(const char *arg)
{
	const char *env;

	if (arg != NULL && arg[0] != '\0')
		return arg;
	env = getenv("ZONEDROP_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	return CONFIG_DEFAULT_PATH;
}

/* ---- printing -------------------------------------------------------------------- */

/* A YAML scalar: plain when that reads back the same, double-quoted otherwise. */
static void put_str(FILE *fp, const char *s)
{
	static const char *const words[] = {
		"true", "false", "yes", "no", "on", "off", "null", "y", "n", NULL
	};
	int plain = s[0] != '\0' && in_set(s, CH_ALNUM "/_.@+-") &&
	            strchr(CH_ALNUM "/", s[0]) != NULL;
	const char *dot = strchr(s, '.');
	size_t i;

	/* 3306 or 1.5 would read back as numbers in other YAML tools */
	if (in_set(s, "0123456789.") && (dot == NULL || strchr(dot + 1, '.') == NULL))
		plain = 0;

	for (i = 0; plain && words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			plain = 0;
	if (plain) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(fp, "\\x%02x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static void print_keys(FILE *fp, const struct ckey *keys, const void *base, int indent,
                       unsigned tbit, int dash);

static void print_key(FILE *fp, const struct ckey *k, const void *base, int indent, unsigned tbit,
                      int *dash)
{
	void *b = (void *)(uintptr_t)base;
	char buf[64];
	size_t i, n;

	if (k->types != 0 && !(k->types & tbit))
		return;
	switch (k->kind) {
	case K_STR: case K_NAME: case K_WORD: case K_IDENT: case K_PATH: case K_CMD: case K_URL:
	case K_HOST: case K_ALGO: case K_SECRET: {
		const char *s = *FIELD(b, k->off, char *);

		if (s == NULL)
			return;
		break;
	}
	case K_MAP:
		if (k->set && !*FIELD(b, k->set - 1, int))
			return;
		break;
	default:
		break;
	}
	if (*dash) {
		fprintf(fp, "%*s- %s:", indent - 2, "", k->name);
		*dash = 0;
	} else {
		fprintf(fp, "%*s%s:", indent, "", k->name);
	}
	switch (k->kind) {
	case K_SECRET:
		fputs(" \"********\"\n", fp);
		return;
	case K_STR: case K_NAME: case K_WORD: case K_IDENT: case K_PATH: case K_CMD: case K_URL:
	case K_HOST: case K_ALGO:
		fputc(' ', fp);
		put_str(fp, *FIELD(b, k->off, char *));
		break;
	case K_BOOL:
		fputs(*FIELD(b, k->off, int) ? " true" : " false", fp);
		break;
	case K_INT:
		fprintf(fp, " %d", *FIELD(b, k->off, int));
		break;
	case K_U64:
		fprintf(fp, " %llu", (unsigned long long)*FIELD(b, k->off, uint64_t));
		break;
	case K_DUR:
		fmt_dur(buf, sizeof buf, *FIELD(b, k->off, int64_t));
		fprintf(fp, " %s", buf);
		break;
	case K_LEVEL:
		fprintf(fp, " %s", log_level_name((enum log_level)*FIELD(b, k->off, int)));
		break;
	case K_TYPE:
		fprintf(fp, " %s", config_backend_type_name(*FIELD(b, k->off, enum backend_type)));
		break;
	case K_VERIFY: {
		const char *h = *FIELD(b, k->off, char *);
		char v[INET6_ADDRSTRLEN + 16];

		snprintf(v, sizeof v, "%s@%d", h ? h : "127.0.0.1", *FIELD(b, k->off2, int));
		fputc(' ', fp);
		put_str(fp, v);
		break;
	}
	case K_DELETES:
		if (*FIELD(b, k->off2, int))
			fprintf(fp, " \"%g%%\"", *FIELD(b, k->off, double));
		else
			fprintf(fp, " %.0f", *FIELD(b, k->off, double));
		break;
	case K_DURLIST: {
		int64_t *arr = *FIELD(b, k->off, int64_t *);

		n = *FIELD(b, k->off2, size_t);
		fputs(" [", fp);
		for (i = 0; i < n; i++) {
			fmt_dur(buf, sizeof buf, arr[i]);
			fprintf(fp, "%s%s", i ? ", " : "", buf);
		}
		fputc(']', fp);
		break;
	}
	case K_CIDRLIST: {
		struct config_cidr *arr = *FIELD(b, k->off, struct config_cidr *);

		n = *FIELD(b, k->off2, size_t);
		fputs(" [", fp);
		for (i = 0; i < n; i++) {
			char a[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN + 8];

			if (inet_ntop(arr[i].family, arr[i].addr, a, sizeof a) == NULL)
				str_copy(a, "?", sizeof a);
			snprintf(v, sizeof v, "%s/%d", a, arr[i].prefix);
			fputs(i ? ", " : "", fp);
			put_str(fp, v);
		}
		fputc(']', fp);
		break;
	}
	case K_MAP:
		fputc('\n', fp);
		print_keys(fp, k->sub, base, indent + 2, tbit, 0);
		return;
	case K_LIST: {
		const char *arr = *FIELD(b, k->off, char *);

		n = *FIELD(b, k->off2, size_t);
		if (n == 0) {
			fputs(" []\n", fp);
			return;
		}
		fputc('\n', fp);
		for (i = 0; i < n; i++)
			print_keys(fp, k->sub, arr + i * k->isize, indent + 4, 1, 1);
		return;
	}
	case K_BACKENDS: {
		const struct config_backend *arr = *FIELD(b, k->off, struct config_backend *);

		n = *FIELD(b, k->off2, size_t);
		if (n == 0) {
			fputs(" {}\n", fp);
			return;
		}
		fputc('\n', fp);
		for (i = 0; i < n; i++) {
			fprintf(fp, "%*s%s:\n", indent + 2, "", arr[i].name);
			print_keys(fp, backend_keys, &arr[i], indent + 4, TB(arr[i].type), 0);
		}
		return;
	}
	}
	fputc('\n', fp);
}

static void print_keys(FILE *fp, const struct ckey *keys, const void *base, int indent,
                       unsigned tbit, int dash)
{
	const struct ckey *k;

	for (k = keys; k->name != NULL; k++)
		print_key(fp, k, base, indent, tbit, &dash);
}

int config_print(FILE *fp, const struct config *cfg)
{
	char file[200];

	str_safe(file, sizeof file, cfg->path ? cfg->path : "", cfg->path ? strlen(cfg->path) : 0);
	fprintf(fp, "# effective configuration from %s (defaults filled in, secrets masked)\n", file);
	print_keys(fp, top_keys, cfg, 0, 1, 0);
	if (fflush(fp) != 0 || ferror(fp))
		return zd_err_set(NULL, ZD_EIO, "write error");
	return 0;
}

/* ---- warnings and lookups -------------------------------------------------------- */

static void warn_users(const struct config_user *u, size_t n, const char *list,
                       void (*fn)(const char *, void *), void *arg, int *count)
{
	char msg[ZD_ERR_MSG_MAX], name[80];
	size_t i;

	for (i = 0; i < n; i++) {
		str_safe(name, sizeof name, u[i].name ? u[i].name : "", u[i].name ? strlen(u[i].name) : 0);
		if (u[i].password != NULL) {
			snprintf(msg, sizeof msg, "%s[%zu] (%s): plain-text password: fine for tests, use "
			         "password_hash in production (`zonedrop passwd` prints one)", list, i, name);
			fn(msg, arg);
			(*count)++;
		} else if (u[i].password_hash != NULL && u[i].password_hash[0] != '$') {
			snprintf(msg, sizeof msg, "%s[%zu] (%s): password_hash does not look like a "
			         "crypt(3) hash ($6$... or $y$...)", list, i, name);
			fn(msg, arg);
			(*count)++;
		}
	}
}

int config_warnings(const struct config *cfg, void (*fn)(const char *msg, void *arg), void *arg)
{
	char msg[ZD_ERR_MSG_MAX];
	int count = 0, enabled = 0;
	size_t i;

	if (cfg->receiver.nusers == 0) {
		fn("receiver.users is empty: the CGI will refuse every request", arg);
		count++;
	}
	warn_users(cfg->receiver.users, cfg->receiver.nusers, "receiver.users", fn, arg, &count);
	warn_users(cfg->peers.users, cfg->peers.nusers, "peers.users", fn, arg, &count);
	for (i = 0; i < cfg->nbackends; i++) {
		const struct config_backend *be = &cfg->backends[i];

		enabled += be->enabled ? 1 : 0;
		if (be->tls_set && !be->tls_verify) {
			snprintf(msg, sizeof msg, "backends.%s.tls.verify is false: the MySQL server's "
			         "certificate is not checked", be->name);
			fn(msg, arg);
			count++;
		}
	}
	if (enabled == 0) {
		fn("no enabled backend: the drain has nowhere to apply zones", arg);
		count++;
	}
	for (i = 0; i < cfg->reconcile.ndirectadmin; i++) {
		const struct config_da_server *da = &cfg->reconcile.directadmin[i];

		if (!da->verify_tls || strncmp(da->url, "http://", 7) == 0) {
			snprintf(msg, sizeof msg, "reconcile.directadmin[%zu] (%s): %s", i, da->hostname,
			         !da->verify_tls ? "verify_tls is false: the server's certificate is not "
			         "checked" : "plain http: the admin password crosses the network in clear");
			fn(msg, arg);
			count++;
		}
	}
	for (i = 0; i < cfg->peers.nremotes; i++) {
		if (strncmp(cfg->peers.remotes[i].url, "http://", 7) == 0) {
			snprintf(msg, sizeof msg, "peers.remotes[%zu]: plain http: the peer password "
			         "crosses the network in clear", i);
			fn(msg, arg);
			count++;
		}
	}
	return count;
}

const struct config_backend *config_backend_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nbackends; i++)
		if (cfg->backends[i].name != NULL && strcmp(cfg->backends[i].name, name) == 0)
			return &cfg->backends[i];
	return NULL;
}

const char *config_backend_type_name(enum backend_type type)
{
	if ((int)type < 1 || (int)type > TYPE_MAX)
		return "?";
	return type_names[type];
}
