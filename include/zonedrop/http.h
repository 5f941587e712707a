/* http.h -- CGI request pieces: form/query parameters, Content-Length, Basic auth */
#ifndef ZONEDROP_HTTP_H
#define ZONEDROP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "zonedrop/err.h"

#define HTTP_PARAMS_MAX 65536      /* parameters per request (query + body) */
#define HTTP_AUTH_MAX 1024         /* longest Authorization header accepted */
#define HTTP_CRED_MAX 512          /* longest decoded user or password */

/* One decoded name=value pair; both NUL-terminated, owned by the set. */
struct http_param {
	char *name;
	char *value;
};

/* Parameters of one request, from the query string and/or a form body.
 * Start zeroed ({0}); release with http_params_free(). */
struct http_params {
	struct http_param *v;
	size_t n;
	size_t cap;
};

/* Parse application/x-www-form-urlencoded text s[0..len) and add its pairs
 * to p: split at '&' (empty pieces skipped), name and value split at the
 * first '=' (none: empty value), '+' is a space, %XX decoded exactly once.
 * ZD_EINVAL (reason in err) for a malformed escape, an empty name, a NUL or
 * other control byte (< 0x20, 0x7f) in a decoded name or value, or a name
 * already present in p (so a parameter given twice anywhere, query or body,
 * is refused); ZD_E2BIG over HTTP_PARAMS_MAX; ZD_ENOMEM. On error p keeps
 * what it held before the call. */
int http_form_parse(struct http_params *p, const char *s, size_t len, struct zd_err *err);

/* The value of name, or NULL when absent. Borrowed from p. */
const char *http_param_get(const struct http_params *p, const char *name);

void http_params_free(struct http_params *p);

/* CONTENT_LENGTH: NULL or "" is 0; otherwise decimal digits only (no sign,
 * no blanks), at most 2^53. ZD_EINVAL otherwise. */
int http_content_length(const char *s, uint64_t *out, struct zd_err *err);

/* Decode "Basic <base64(user:password)>" (scheme case-insensitive) into
 * user and pass (NUL-terminated). ZD_EINVAL for a missing header, another
 * scheme, bad base64, no ':', an empty user, a NUL byte, or parts longer
 * than HTTP_CRED_MAX. */
int http_basic_auth(const char *header, char *user, size_t usz, char *pass, size_t psz,
                    struct zd_err *err);

/* Strict base64 (RFC 4648, padding optional at the end, no blanks) of
 * s[0..len) into out; *outlen set. ZD_EINVAL on bad input, ZD_E2BIG when
 * out is too small. */
int http_b64_decode(const char *s, size_t len, unsigned char *out, size_t outsz,
                    size_t *outlen);

/* Url-encode in for a DA-API answer value: [A-Za-z0-9._~-] kept, every
 * other byte %XX. ZD_E2BIG when out is too small (out then holds a
 * truncated but valid encoding). */
int http_url_encode(char *out, size_t outsz, const char *in);

#endif
