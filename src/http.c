/* http.c -- CGI request pieces: form/query parameters, Content-Length, Basic auth */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zonedrop/http.h"
#include "zonedrop/util.h"

static int http_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) once into a malloc'd NUL-terminated string. what names
 * the piece for messages ("name" or "value of X"). */
static int http_decode(const char *s, size_t len, const char *what, char **out,
                       struct zd_err *err)
{
	char *d;
	size_t i, j = 0;
	int hi, lo;
	unsigned char c;

	*out = NULL;
	d = malloc(len + 1);
	if (d == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len) {
				free(d);
				return zd_err_set(err, ZD_EINVAL, "malformed percent escape in %s", what);
			}
			hi = http_hexval((unsigned char)s[i + 1]);
			lo = http_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(d);
				return zd_err_set(err, ZD_EINVAL, "malformed percent escape in %s", what);
			}
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f) {
			free(d);
			return zd_err_set(err, ZD_EINVAL, "control character (0x%02x) in %s", c, what);
		}
		d[j++] = (char)c;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

const char *http_param_get(const struct http_params *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return p->v[i].value;
	return NULL;
}

void http_params_free(struct http_params *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
	}
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

static int http_name_cmp(const void *a, const void *b)
{
	const struct http_param *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* A name given twice (anywhere in p) -> the repeated name, else NULL. */
static const char *http_params_dup(const struct http_params *p, int *nomem)
{
	const struct http_param **idx;
	const char *dup = NULL;
	size_t i;

	*nomem = 0;
	if (p->n < 2)
		return NULL;
	if (p->n <= 16) {
		size_t j;
		for (i = 0; i < p->n && dup == NULL; i++)
			for (j = i + 1; j < p->n; j++)
				if (strcmp(p->v[i].name, p->v[j].name) == 0) {
					dup = p->v[i].name;
					break;
				}
		return dup;
	}
	idx = malloc(p->n * sizeof *idx);
	if (idx == NULL) {
		*nomem = 1;
		return NULL;
	}
	for (i = 0; i < p->n; i++)
		idx[i] = &p->v[i];
	qsort(idx, p->n, sizeof *idx, http_name_cmp);
	for (i = 1; i < p->n; i++)
		if (strcmp(idx[i - 1]->name, idx[i]->name) == 0) {
			dup = idx[i]->name;
			break;
		}
	free(idx);
	return dup;
}

int http_form_parse(struct http_params *p, const char *s, size_t len, struct zd_err *err)
{
	size_t start = 0, end, eq, n0 = p->n;
	char *name = NULL, *value = NULL;
	char what[96], safe[64];
	const char *dup;
	int rc = 0, nomem;

	while (start < len) {
		end = start;
		while (end < len && s[end] != '&')
			end++;
		if (end == start) {
			start = end + 1;
			continue;
		}
		eq = start;
		while (eq < end && s[eq] != '=')
			eq++;
		if (eq == start) {
			rc = zd_err_set(err, ZD_EINVAL, "parameter without a name");
			goto fail;
		}
		rc = http_decode(s + start, eq - start, "a parameter name", &name, err);
		if (rc < 0)
			goto fail;
		str_safe(safe, sizeof safe, name, strlen(name));
		snprintf(what, sizeof what, "parameter '%s'", safe);
		if (eq < end)
			rc = http_decode(s + eq + 1, end - eq - 1, what, &value, err);
		else
			rc = http_decode("", 0, what, &value, err);
		if (rc < 0)
			goto fail;
		if (p->n >= HTTP_PARAMS_MAX) {
			rc = zd_err_set(err, ZD_E2BIG, "more than %d parameters", HTTP_PARAMS_MAX);
			goto fail;
		}
		if (p->n == p->cap) {
			size_t ncap = p->cap ? p->cap * 2 : 16;
			struct http_param *nv = realloc(p->v, ncap * sizeof *nv);
			if (nv == NULL) {
				rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
				goto fail;
			}
			p->v = nv;
			p->cap = ncap;
		}
		p->v[p->n].name = name;
		p->v[p->n].value = value;
		p->n++;
		name = value = NULL;
		start = end + 1;
	}
	dup = http_params_dup(p, &nomem);
	if (nomem) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto fail;
	}
	if (dup != NULL) {
		str_safe(safe, sizeof safe, dup, strlen(dup));
		rc = zd_err_set(err, ZD_EINVAL, "parameter '%s' given twice", safe);
		goto fail;
	}
	return 0;
fail:
	free(name);
	free(value);
	/* drop what this call added: the set stays as it was */
	while (p->n > n0) {
		p->n--;
		free(p->v[p->n].name);
		free(p->v[p->n].value);
	}
	return rc;
}

int http_content_length(const char *s, uint64_t *out, struct zd_err *err)
{
	uint64_t v = 0;
	const char *q;

	*out = 0;
	if (s == NULL || s[0] == '\0')
		return 0;
	for (q = s; *q != '\0'; q++) {
		if (*q < '0' || *q > '9')
			return zd_err_set(err, ZD_EINVAL, "Content-Length is not a number");
		if (q - s >= 16)
			return zd_err_set(err, ZD_EINVAL, "Content-Length out of range");
		v = v * 10 + (uint64_t)(*q - '0');
	}
	if (v > ((uint64_t)1 << 53))
		return zd_err_set(err, ZD_EINVAL, "Content-Length out of range");
	*out = v;
	return 0;
}

static int http_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int http_b64_decode(const char *s, size_t len, unsigned char *out, size_t outsz,
                    size_t *outlen)
{
	size_t i, n = 0, pad = 0, datalen;
	unsigned long acc = 0;
	int bits = 0, v;

	*outlen = 0;
	/* padding only at the very end, at most two '=' */
	while (len > 0 && s[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	datalen = len;
	if (datalen % 4 == 1)
		return ZD_EINVAL;
	if (pad > 0 && (datalen + pad) % 4 != 0)
		return ZD_EINVAL;
	for (i = 0; i < datalen; i++) {
		v = http_b64val((unsigned char)s[i]);
		if (v < 0)
			return ZD_EINVAL;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outsz)
				return ZD_E2BIG;
			out[n++] = (unsigned char)((acc >> bits) & 0xff);
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0)
		return ZD_EINVAL;
	*outlen = n;
	return 0;
}

int http_basic_auth(const char *header, char *user, size_t usz, char *pass, size_t psz,
                    struct zd_err *err)
{
	unsigned char buf[HTTP_AUTH_MAX];
	const char *p, *b64;
	size_t b64len, n, ulen, plen;
	unsigned char *colon;
	int rc;

	if (usz > 0)
		user[0] = '\0';
	if (psz > 0)
		pass[0] = '\0';
	if (header == NULL || header[0] == '\0')
		return zd_err_set(err, ZD_EINVAL, "no credentials");
	if (strlen(header) > HTTP_AUTH_MAX)
		return zd_err_set(err, ZD_EINVAL, "Authorization header too long");
	if (strncasecmp(header, "Basic", 5) != 0 || (header[5] != ' ' && header[5] != '\t'))
		return zd_err_set(err, ZD_EINVAL, "not Basic authentication");
	p = header + 5;
	while (*p == ' ' || *p == '\t')
		p++;
	b64 = p;
	b64len = strlen(b64);
	while (b64len > 0 && (b64[b64len - 1] == ' ' || b64[b64len - 1] == '\t'))
		b64len--;
	if (b64len == 0)
		return zd_err_set(err, ZD_EINVAL, "empty Basic credentials");
	rc = http_b64_decode(b64, b64len, buf, sizeof buf, &n);
	if (rc < 0) {
		rc = zd_err_set(err, ZD_EINVAL, "bad base64 in Basic credentials");
		goto out;
	}
	rc = ZD_EINVAL;
	if (memchr(buf, '\0', n) != NULL) {
		zd_err_set(err, rc, "NUL byte in Basic credentials");
		goto out;
	}
	colon = memchr(buf, ':', n);
	if (colon == NULL) {
		zd_err_set(err, rc, "no ':' in Basic credentials");
		goto out;
	}
	ulen = (size_t)(colon - buf);
	plen = n - ulen - 1;
	if (ulen == 0) {
		zd_err_set(err, rc, "empty user name");
		goto out;
	}
	if (ulen > HTTP_CRED_MAX || plen > HTTP_CRED_MAX || ulen >= usz || plen >= psz) {
		zd_err_set(err, rc, "Basic credentials too long");
		goto out;
	}
	memcpy(user, buf, ulen);
	user[ulen] = '\0';
	memcpy(pass, colon + 1, plen);
	pass[plen] = '\0';
	rc = 0;
out:
	/* the decoded secret does not linger on the stack */
	explicit_bzero(buf, sizeof buf);
	return rc;
}

int http_url_encode(char *out, size_t outsz, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;
	unsigned char c;

	if (outsz == 0)
		return ZD_E2BIG;
	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			if (j + 1 >= outsz)
				goto full;
			out[j++] = (char)c;
		} else {
			if (j + 3 >= outsz)
				goto full;
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		}
	}
	out[j] = '\0';
	return 0;
full:
	out[j] = '\0';
	return ZD_E2BIG;
}
