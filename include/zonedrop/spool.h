/* spool.h -- the Maildir-style spool: tmp/ -> new/ -> cur/ (or bad/) */
#ifndef ZONEDROP_SPOOL_H
#define ZONEDROP_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "zonedrop/err.h"
#include "zonedrop/util.h"

#define SPOOL_NAME_MAX 256
#define SPOOL_HEADER_MAX 8192     /* an item's header block never exceeds this */

enum spool_action { SPOOL_RAWSAVE = 1, SPOOL_DELETE = 2 };

/* One spool item's header (DESIGN.md "Spool item format"). */
struct spool_item {
	char name[SPOOL_NAME_MAX];   /* file name in its directory */
	enum spool_action action;
	char domain[256];
	char hostname[256];          /* "" when absent */
	char username[65];           /* "" when absent */
	char source[16];             /* directadmin | peer | refresh | reconcile | cli */
	char client_ip[64];          /* "" when absent */
	char received[40];           /* ISO UTC with microseconds */
	char changed[40];            /* "" when absent */
	char serial[12];             /* "" when absent; a peer's tombstone serial (peer deletes) */
	int64_t sec;                 /* from the name: arrival order */
	long usec;
	/* body (zone text, LF line ends) for rawsave; NULL for delete. Owned by
	 * the item: spool_item_clear() frees it. */
	char *text;
	size_t text_len;
};

/* Format the header block (ends with the blank line) into buf. */
int spool_header_format(const struct spool_item *item, char *buf, size_t bufsz, size_t *len);
/* Parse an item from buf (header, blank line, body). Unknown header names and
 * malformed lines are errors; the body is copied into item->text. */
int spool_item_parse(const char *buf, size_t len, struct spool_item *item, struct zd_err *err);
/* Read spool_dir/sub/name and parse it. */
int spool_item_read(const char *spool_dir, const char *sub, const char *name,
                    struct spool_item *item, struct zd_err *err);
void spool_item_clear(struct spool_item *item);

/* A unique Maildir name "<sec>.<usec>.<pid>_<counter>.<host>" (usec zero-padded
 * to 6 digits); sec/usec returned for the Received header. */
int spool_name_new(char *out, size_t outsz, int64_t *sec, long *usec);
/* Parse the time part of a name; ZD_EINVAL when it is not a spool name. */
int spool_name_parse(const char *name, int64_t *sec, long *usec, long *pid, long *counter);
/* Arrival order for qsort over char * names. */
int spool_name_cmp(const void *a, const void *b);

/* Streamed delivery (the CGI): open spool_dir/tmp/<name> O_EXCL mode 0640,
 * write the header with spool_tmp_write(), stream the body, then commit
 * (fsync, rename into new/, fsync new/) or abort (unlink). */
struct spool_tmp {
	int fd;
	char name[SPOOL_NAME_MAX];
	char tmp_path[ZD_PATH_MAX];
	char new_path[ZD_PATH_MAX];
	char new_dir[ZD_PATH_MAX];
	int64_t sec;
	long usec;
};
int spool_tmp_open(struct spool_tmp *t, const char *spool_dir, struct zd_err *err);
int spool_tmp_write(struct spool_tmp *t, const void *buf, size_t len, struct zd_err *err);
int spool_tmp_commit(struct spool_tmp *t, struct zd_err *err);
void spool_tmp_abort(struct spool_tmp *t);

/* Whole item in one call (CLI, peersync, refresh, reconcile): fills
 * item->name/received when empty. */
int spool_deliver(const char *spool_dir, struct spool_item *item, struct zd_err *err);

/* Names in spool_dir/sub (skipping dotfiles), sorted in arrival order.
 * *names is an array of malloc'd strings: spool_names_free(). errno is
 * reset before each readdir so an I/O error is never an empty spool. */
int spool_list(const char *spool_dir, const char *sub, char ***names, size_t *n,
               struct zd_err *err);
void spool_names_free(char **names, size_t n);

/* Move an item between states with one rename (fsyncs the target dir). */
int spool_move(const char *spool_dir, const char *from, const char *to, const char *name,
               struct zd_err *err);
/* Remove spool_dir/sub/name. */
int spool_remove(const char *spool_dir, const char *sub, const char *name, struct zd_err *err);
/* Move sub/name into bad/ and write bad/name.why holding why (one line). */
int spool_reject(const char *spool_dir, const char *sub, const char *name, const char *why,
                 struct zd_err *err);
/* Remove tmp/ files older than max_age seconds (36 h in the drain). */
int spool_clean_tmp(const char *spool_dir, int64_t max_age, size_t *removed, struct zd_err *err);

/* Non-blocking exclusive flock on spool_dir/.lock: *fd on success,
 * ZD_EBUSY when another process holds it. */
int spool_lock(const char *spool_dir, int *fd, struct zd_err *err);
void spool_unlock(int fd);

/* Count entries in sub (skipping dotfiles) and the age of the oldest (seconds, 0 if none). */
int spool_count(const char *spool_dir, const char *sub, size_t *n, int64_t *oldest_age,
                struct zd_err *err);

#endif
