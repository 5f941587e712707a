/* dadns_import.h -- directdnsonly 2.x into zonedrop: its app.yml (plus the DADNS_
 * environment) into zonedrop.yml, its SQLite datastore into spool items
 * (shared/DIRECTDNSONLY-IMPORT.md; `zonedrop import-directdnsonly`) */
#ifndef ZONEDROP_DADNS_IMPORT_H
#define ZONEDROP_DADNS_IMPORT_H

#include <stddef.h>
#include "zonedrop/err.h"
#include "zonedrop/spool.h"

/* A password directdnsonly kept in plain text, to be written (mode 0600) to
 * path, which the generated config names with password_file. */
struct dadns_secret {
	char *path;
	char *value;
};

struct dadns_opts {
	const char *source_name;      /* APP_YML as given, for the header comment and messages */
	const char *secrets_dir;      /* absolute: where the .pass files go */
	const char *verify;           /* "ADDR[@PORT]" for every backend, or NULL */
	const char *const *env;       /* "KEY=VALUE" strings (--env-file, --from-env), may be NULL */
	size_t nenv;
	/* receiver/peer password hashing: crypt(3) setting prefix, "$6$" when NULL */
	const char *hash_prefix;
};

/* The conversion's result. Everything is owned by it: dadns_conf_free(). */
struct dadns_conf {
	char *yaml;                   /* the zonedrop.yml text */
	char **notes;                 /* one line each: what could not be converted and why */
	size_t nnotes;
	struct dadns_secret *secrets;
	size_t nsecrets;
	int refused;                  /* 1: a value zonedrop must refuse (notes say which):
	                               * write nothing, exit 2 */
	char *datastore_type;         /* "sqlite" unless the file says otherwise */
	char *db_location;            /* datastore.db_location as configured (maybe relative) */
	char *zones_dir;              /* zones_dir of the first enabled ddo bind/nsd backend:
	                               * where a NULL zone_data row's text may be; or NULL */
};

/* Convert app.yml text (len bytes; name for messages) and opts->env into
 * out. ZD_ECONFIG with err->msg "NAME:LINE:COL: ..." when the YAML cannot be
 * read or has the wrong shape; ZD_ENOMEM. A value that is merely unusable is
 * a note, not an error. */
int dadns_convert(const char *buf, size_t len, const struct dadns_opts *opts,
                  struct dadns_conf *out, struct zd_err *err);
void dadns_conf_free(struct dadns_conf *c);

/* Resolve datastore.db_location as DIRECTDNSONLY-IMPORT.md 2.2 says: an
 * absolute path as is; a relative one against the current directory, then
 * the directory holding app_yml, then its parent. The first that exists goes
 * to out; ZD_ENOENT (err names every place tried) when none does. */
int dadns_db_resolve(const char *location, const char *app_yml, char *out, size_t outsz,
                     struct zd_err *err);

/* One row of the datastore's domains table; empty strings for NULL. */
struct dadns_row {
	const char *domain;
	const char *hostname;
	const char *username;
	const char *zone_data;        /* NULL when the column is NULL or absent */
	const char *updated;          /* zone_updated_at text, "" when NULL or absent */
};

/* Open path read-only (never written) and call fn for each row of domains in
 * id order; fn's non-zero result stops the walk and is returned. ZD_EDB when
 * the file is not a directdnsonly datastore (no domains table with a domain
 * column). */
int dadns_db_each(const char *path, int (*fn)(const struct dadns_row *row, void *arg), void *arg,
                  struct zd_err *err);

/* A row into a rawsave spool item (Source: cli, Changed: from zone_updated_at),
 * checked as a DirectAdmin push would be: the domain (lower-cased only when
 * that makes it valid: *lowered = 1), hostname and username, and the zone
 * text (zone_data, else zones_dir/<domain>.db when zones_dir is not NULL).
 * 0 or ZD_EINVAL with the reason in err (the row is to be skipped);
 * ZD_ENOMEM. item->text is owned by the item: spool_item_clear(). */
int dadns_row_item(const struct dadns_row *row, const char *zones_dir, struct spool_item *item,
                   int *lowered, struct zd_err *err);

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (SQLAlchemy's naive UTC) into the spool's
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ"; ZD_EINVAL when it is not that form. */
int dadns_time_iso(const char *in, char *out, size_t outsz);

#endif
