/* da_client.h -- a DirectAdmin server's domain list (PROTOCOL.md section 7), with libcurl */
#ifndef ZONEDROP_DA_CLIENT_H
#define ZONEDROP_DA_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"

#define DA_BODY_MAX (64u * 1024 * 1024)   /* one answer (page or legacy list) */
#define DA_DOMAINS_MAX 10000000u          /* domains in one listing */
#define DA_PAGES_MAX 100000               /* pages in one JSON listing */

enum da_format { DA_FMT_NONE = 0, DA_FMT_JSON, DA_FMT_LEGACY, DA_FMT_LINES };

/* Domains of one listing: lower-cased, checked (PROTOCOL.md section 4),
 * sorted and unique after da_listing_finish(). Start zeroed; da_listing_free(). */
struct da_listing {
	char **domains;
	size_t n, cap;
	size_t rows;             /* entries read (before dropping duplicates) */
	size_t invalid;          /* entries that are no zone name zonedrop could hold */
	enum da_format format;
	long pages;              /* JSON: pages walked */
	int session;             /* 1: the session-login fallback was used */
};

void da_listing_free(struct da_listing *l);
/* Sort and drop duplicates. */
void da_listing_finish(struct da_listing *l);
/* 1 when domain (no trailing dot) is listed; after da_listing_finish(). */
int da_listing_has(const struct da_listing *l, const char *domain);

/* One JSON page, {"0":{"domain":..},...,"info":{"total_pages":T,...}}: adds
 * its domains to l; *total_pages, *rows, *ipp, *current_page get the info
 * values (-1 when not given; numbers or digit strings). ZD_EINVAL (why in
 * err) for anything else: not JSON, not an object, an "error" key, a row
 * without a "domain" string, no info.total_pages, *nrows = rows on this page. */
int da_parse_json_page(const char *buf, size_t len, struct da_listing *l, long *total_pages,
                       long *rows, long *ipp, long *current_page, size_t *nrows,
                       struct zd_err *err);
/* The legacy answer: "list[]=a.com&list[]=b.com" (url-encoded; list%5B%5D too),
 * or one domain per line. ZD_EINVAL for other keys (error=1&text=...), bad
 * escapes, control bytes, a line that is not a name. l->format is set. */
int da_parse_legacy(const char *buf, size_t len, struct da_listing *l, struct zd_err *err);
/* Which parser a first answer needs: JSON ('{' first), legacy, or ZD_EINVAL
 * (HTML, an error=... answer, binary). ctype may be NULL. */
int da_detect(const char *buf, size_t len, const char *ctype, enum da_format *fmt,
              struct zd_err *err);

struct da_fetch_opts {
	int64_t request_timeout_ms;   /* per HTTP request (default 30 s) */
	int64_t deadline_mono_ms;     /* time_mono_ms() by which all must be done; 0 none */
};

/* The whole domain list of one DirectAdmin server: JSON pages 1..T (stable
 * T, row counts consistent with info), else the legacy answer; a 3xx to
 * Basic auth -> POST /CMD_LOGIN, session cookie, again (a 3xx after that
 * fails). Redirects are never followed; TLS verified per verify_tls. 0 with
 * l filled and finished (it may be empty: the caller decides), or
 * ZD_EIO/ZD_EINVAL/ZD_ETIMEDOUT/ZD_E2BIG/ZD_EACCES with err naming the URL
 * and the reason: the listing is then unusable, l is emptied. */
int da_fetch_listing(const struct config_da_server *da, const struct da_fetch_opts *o,
                     struct da_listing *l, struct zd_err *err);

#endif
