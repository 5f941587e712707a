/* zindex.h -- the held-zones snapshot the CGI reads (state_dir/zones.idx) */
#ifndef ZONEDROP_ZINDEX_H
#define ZONEDROP_ZINDEX_H

#include <stddef.h>
#include "zonedrop/err.h"

struct store;

#define ZINDEX_NAME "zones.idx"

/* Write state_dir/zones.idx atomically, mode 0644: one line per present zone,
 * "domain\thostname\tusername\n", sorted bytewise by domain. The drain calls
 * this after each commit, so the CGI answers exists without ever waiting
 * for the database or the drain's lock. */
int zindex_publish(struct store *st, const char *state_dir, struct zd_err *err);

/* Look domain up (binary search over the mmap'd file). 0 found (hostname and
 * username copied out, may be ""), ZD_ENOENT not held or no index yet. */
int zindex_lookup(const char *state_dir, const char *domain, char *hostname, size_t hsz,
                  char *username, size_t usz, struct zd_err *err);

#endif
