/* config.h -- zonedrop.yml loaded into a plain struct (one loader for every program) */
#ifndef ZONEDROP_CONFIG_H
#define ZONEDROP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "zonedrop/err.h"

#define CONFIG_DEFAULT_PATH "/etc/zonedrop/zonedrop.yml"

struct config_user {
	char *name;
	char *password_hash;     /* crypt(3) string, or NULL */
	char *password;          /* plain text (development/tests), or NULL */
};

struct config_cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

enum backend_type {
	BACKEND_NSD = 1,
	BACKEND_BIND,
	BACKEND_KNOT,
	BACKEND_POWERDNS_MYSQL,
	BACKEND_COREDNS_MYSQL,
};

struct config_backend {
	char *name;              /* the key under backends: (validated [A-Za-z0-9_-]+) */
	enum backend_type type;
	int enabled;             /* default 1 */
	/* file-based servers */
	char *zones_dir;
	char *include_file;
	char *control;           /* command words, see exec_split() */
	/* where to query it: verify: 127.0.0.1@53 (default 127.0.0.1, port 53) */
	char *verify_host;
	int verify_port;
	int verify_set;          /* 1 when "verify:" was given */
	/* MySQL servers */
	char *host;
	int port;                /* default 3306 */
	char *database;
	char *user;
	char *password_file;
	char *tls_ca_file;
	int tls_verify;          /* default 1 when tls: is given */
	int tls_set;
	char *api_url;
	char *api_key_file;
	char *zones_table;       /* coredns: default "zones" */
	char *records_table;     /* coredns: default "records" */
	int line;                /* where it was defined, for messages */
};

struct config_da_server {
	char *url;
	char *user;
	char *password_file;
	int verify_tls;          /* default 1 */
	char *hostname;          /* default: host part of url */
	int ipp;                 /* default 1000 */
};

struct config_peer_remote {
	char *url;
	char *user;
	char *password_file;
};

struct config_tsig_key {
	char *name;
	char *algorithm;         /* default hmac-sha256 */
	char *secret_file;
};

struct config {
	char *path;              /* the file it was loaded from */
	char *spool_dir;         /* default /var/spool/zonedrop */
	char *state_dir;         /* default /var/lib/zonedrop */
	int log_level;           /* enum log_level, default info */
	char *user;              /* NULL: do not switch */
	int64_t verify_timeout_ms;   /* default 30 s */

	struct {
		struct config_user *users;
		size_t nusers;
		struct config_cidr *allow_from;
		size_t nallow_from;   /* 0: everyone may connect */
		uint64_t max_body;    /* default 4194304 */
		int parent_exists;    /* 3 (default) or 2 */
	} receiver;

	struct config_backend *backends;
	size_t nbackends;

	struct {
		int64_t *schedule_ms; /* default 30s 2m 5m 15m 30m */
		size_t nschedule;
	} retry;

	struct {
		int dry_run;          /* default 1 */
		int max_deletes_percent;  /* 1: max_deletes is a percentage */
		double max_deletes;   /* default 5 (%) */
		struct config_da_server *directadmin;
		size_t ndirectadmin;
	} reconcile;

	struct {
		int tombstone_days;   /* default 30 */
		struct config_user *users;
		size_t nusers;
		struct config_peer_remote *remotes;
		size_t nremotes;
	} peers;

	struct {
		char *zones_file;
		int64_t refresh_min_ms;   /* default 60 s */
		int64_t refresh_max_ms;   /* default 1 d */
		int concurrency;          /* default 256 */
		int per_master;           /* default 16: SOA queries in flight per master */
		int64_t query_timeout_ms; /* default 1500 ms: one SOA try's wait */
		int withdraw_expired;     /* default 0 */
		struct config_tsig_key *tsig_keys;
		size_t ntsig_keys;
	} secondary;
};

/* Load and validate path. On failure returns ZD_ECONFIG (or ZD_EIO when it
 * cannot be read) with err->msg "FILE:LINE:COL: message". *out is owned by
 * the caller: config_free(). */
int config_load(const char *path, struct config **out, struct zd_err *err);
/* The same from a buffer (len bytes, need not be NUL-terminated); name stands
 * for FILE in messages. Used by the fuzz harness and tests. */
int config_load_mem(const char *name, const void *buf, size_t len, struct config **out,
                    struct zd_err *err);
void config_free(struct config *cfg);

/* The path to use: -c argument if given, else $ZONEDROP_CONFIG, else the default. */
const char *config_path(const char *arg);

/* Print the effective config (defaults filled in) as YAML; passwords masked. */
int config_print(FILE *fp, const struct config *cfg);

/* Things that load but are probably wrong (no receiver users, plain-text
 * passwords, TLS checks off, no enabled backend): fn(msg, arg) once per
 * warning, msg a one-line text without the "warning: " prefix. Returns the
 * number of warnings. zonedrop check-config prints them on stderr. */
int config_warnings(const struct config *cfg, void (*fn)(const char *msg, void *arg), void *arg);

/* Find a backend by name; NULL when none. */
const struct config_backend *config_backend_find(const struct config *cfg, const char *name);
const char *config_backend_type_name(enum backend_type type);

#endif
