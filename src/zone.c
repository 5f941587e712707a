/* zone.c -- zone text checked in-process with ldns (PROTOCOL.md section 4)
 *
 * The text is cut into entries (one record, parentheses joined, comments
 * dropped) by a small lexer that only knows quotes, escapes, comments and
 * parentheses; directives ($TTL, $ORIGIN, and the refused $INCLUDE and
 * $GENERATE) are handled here, so ldns never sees a directive and never
 * opens a file. Owner, TTL, class and type are checked from the entry's
 * first tokens; the record itself is parsed by ldns_rr_new_frm_str(). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "zonedrop/domain.h"
#include "zonedrop/util.h"
#include "zonedrop/zone.h"

#define ZONE_ENTRY_MAX 65535          /* one record, parentheses joined */
#define ZONE_TTL_MAX 2147483647UL     /* RFC 2181 section 8 */

/* Bytes come from memory or from a FILE. */
struct zone_src {
	FILE *fp;
	const unsigned char *buf;
	size_t len;
	size_t pos;
};

/* One entry: the text ldns gets, and the line it starts on. */
struct zone_entry {
	char *text;
	size_t len;
	size_t cap;
	unsigned long line;
};

/* What the CNAME rules need of each record. */
struct zone_rec {
	ldns_rdf *owner;          /* canonical (lower case) copy */
	ldns_rdf *target;         /* CNAME only: canonical target */
	uint16_t type;
	unsigned long line;
};

struct zone_ctx {
	const char *domain;
	ldns_rdf *apex;
	ldns_rdf *origin;
	ldns_rdf *prev;
	uint32_t default_ttl;
	size_t nsoa;
	size_t napex_ns;
	struct zone_info info;
	struct zone_rec *recs;
	size_t nrecs;
	size_t cap;
	unsigned long line;        /* current physical line (1-based) */
};

static int zone_src_getc(struct zone_src *s)
{
	if (s->fp != NULL)
		return getc(s->fp);
	if (s->pos < s->len)
		return s->buf[s->pos++];
	return EOF;
}

static int zone_entry_put(struct zone_entry *e, char c, struct zd_err *err)
{
	char *n;
	size_t ncap;

	if (e->len + 1 >= e->cap) {
		if (e->cap >= ZONE_ENTRY_MAX + 1)
			return zd_err_set(err, ZD_EINVAL, "line %lu: record longer than %d bytes",
			                  e->line, ZONE_ENTRY_MAX);
		ncap = e->cap ? e->cap * 2 : 256;
		if (ncap > ZONE_ENTRY_MAX + 1)
			ncap = ZONE_ENTRY_MAX + 1;
		n = realloc(e->text, ncap);
		if (n == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory");
		e->text = n;
		e->cap = ncap;
	}
	e->text[e->len++] = c;
	e->text[e->len] = '\0';
	return 0;
}

/* The next entry into e. 1: an entry, 0: end of text, <0: error. A blank
 * or comment-only line is no entry. Parentheses and comments become
 * blanks; quotes and escapes are kept for ldns. */
static int zone_next_entry(struct zone_ctx *z, struct zone_src *src, struct zone_entry *e,
                           struct zd_err *err)
{
	int c, depth = 0, quote = 0, comment = 0, escape = 0, content = 0, rc;
	unsigned long quote_line = 0, paren_line = 0;

	e->len = 0;
	if (e->text != NULL)
		e->text[0] = '\0';
	e->line = z->line;
	for (;;) {
		c = zone_src_getc(src);
		if (c == EOF) {
			if (quote)
				return zd_err_set(err, ZD_EINVAL, "line %lu: unterminated quoted string",
				                  quote_line);
			if (escape)
				return zd_err_set(err, ZD_EINVAL, "line %lu: backslash at end of text",
				                  z->line);
			if (depth > 0)
				return zd_err_set(err, ZD_EINVAL, "line %lu: unbalanced parenthesis",
				                  paren_line);
			return content ? 1 : 0;
		}
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return zd_err_set(err, ZD_EINVAL, "line %lu: control character 0x%02x",
			                  z->line, (unsigned)c);
		if (c == '\r')
			c = ' ';
		if (comment) {
			if (c != '\n')
				continue;
			comment = 0;
		}
		if (escape) {
			if (c == '\n')
				return zd_err_set(err, ZD_EINVAL, "line %lu: backslash at end of line",
				                  z->line);
			escape = 0;
			if ((rc = zone_entry_put(e, (char)c, err)) < 0)
				return rc;
			continue;
		}
		if (quote) {
			if (c == '\n')
				return zd_err_set(err, ZD_EINVAL, "line %lu: unterminated quoted string",
				                  quote_line);
			if (c == '\\')
				escape = 1;
			else if (c == '"')
				quote = 0;
			if ((rc = zone_entry_put(e, (char)c, err)) < 0)
				return rc;
			continue;
		}
		switch (c) {
		case '\\':
			escape = 1;
			content = 1;
			break;
		case '"':
			quote = 1;
			quote_line = z->line;
			content = 1;
			break;
		case ';':
			comment = 1;
			continue;
		case '(':
			if (depth == 0)
				paren_line = z->line;
			depth++;
			c = ' ';
			break;
		case ')':
			if (depth == 0)
				return zd_err_set(err, ZD_EINVAL, "line %lu: ')' without '('", z->line);
			depth--;
			c = ' ';
			break;
		case '\n':
			z->line++;
			if (depth > 0) {
				c = ' ';
				break;
			}
			if (content)
				return 1;
			/* a blank or comment-only line: the entry starts on the next one */
			e->len = 0;
			if (e->text != NULL)
				e->text[0] = '\0';
			e->line = z->line;
			continue;
		case ' ':
		case '\t':
			break;
		default:
			content = 1;
			break;
		}
		if ((rc = zone_entry_put(e, (char)c, err)) < 0)
			return rc;
	}
}

/* Next blank-separated token of s from *pos ('\\' escapes the next byte). */
static int zone_token(const char *s, size_t *pos, const char **tok, size_t *toklen)
{
	size_t i = *pos, start;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] == '\0') {
		*pos = i;
		return 0;
	}
	start = i;
	while (s[i] != '\0' && s[i] != ' ' && s[i] != '\t') {
		if (s[i] == '\\' && s[i + 1] != '\0')
			i++;
		i++;
	}
	*tok = s + start;
	*toklen = i - start;
	*pos = i;
	return 1;
}

/* A TTL: plain seconds, or BIND-style units (1h30m, 2d, 1w); at most 2^31-1. */
static int zone_ttl_parse(const char *s, size_t len, uint32_t *out)
{
	uint64_t total = 0, num = 0, mult;
	size_t i, digits = 0;
	int units = 0;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= '0' && c <= '9') {
			num = num * 10 + (uint64_t)(c - '0');
			if (++digits > 10 || num > ZONE_TTL_MAX)
				return -1;
			continue;
		}
		switch (tolower(c)) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 604800; break;
		default: return -1;
		}
		if (digits == 0)
			return -1;
		total += num * mult;
		if (total > ZONE_TTL_MAX)
			return -1;
		num = 0;
		digits = 0;
		units = 1;
	}
	if (digits == 0 && !units)
		return -1;
	total += num;
	if (total > ZONE_TTL_MAX)
		return -1;
	*out = (uint32_t)total;
	return 0;
}

/* Escaped copy of a token for a message. */
static const char *zone_tok_safe(char *buf, size_t sz, const char *tok, size_t len)
{
	return str_safe(buf, sz, tok, len);
}

/* name at or below the apex, label-wise; name is canonical */
static int zone_in_zone(const struct zone_ctx *z, const ldns_rdf *name)
{
	return ldns_dname_compare(name, z->apex) == 0 || ldns_dname_is_subdomain(name, z->apex);
}

static int zone_directive(struct zone_ctx *z, const struct zone_entry *e, struct zd_err *err)
{
	const char *tok, *arg, *extra;
	size_t pos = 0, toklen, arglen, extralen;
	char name[32], safe[300], buf[300];
	ldns_rdf *o = NULL;
	uint32_t ttl;
	int rc = 0;

	zone_token(e->text, &pos, &tok, &toklen);
	zone_tok_safe(name, sizeof name, tok, toklen);
	if (!zone_token(e->text, &pos, &arg, &arglen))
		arg = NULL;
	if (toklen == 8 && strncasecmp(tok, "$INCLUDE", 8) == 0)
		return zd_err_set(err, ZD_EINVAL, "line %lu: $INCLUDE is not allowed", e->line);
	if (toklen == 9 && strncasecmp(tok, "$GENERATE", 9) == 0)
		return zd_err_set(err, ZD_EINVAL, "line %lu: $GENERATE is not allowed", e->line);
	if (toklen == 4 && strncasecmp(tok, "$TTL", 4) == 0) {
		if (arg == NULL)
			return zd_err_set(err, ZD_EINVAL, "line %lu: $TTL without a value", e->line);
		if (zone_token(e->text, &pos, &extra, &extralen))
			return zd_err_set(err, ZD_EINVAL, "line %lu: text after the $TTL value",
			                  e->line);
		if (zone_ttl_parse(arg, arglen, &ttl) < 0)
			return zd_err_set(err, ZD_EINVAL, "line %lu: bad $TTL value '%s'", e->line,
			                  zone_tok_safe(safe, sizeof safe, arg, arglen));
		z->default_ttl = ttl;
		return 0;
	}
	if (toklen == 7 && strncasecmp(tok, "$ORIGIN", 7) == 0) {
		if (arg == NULL)
			return zd_err_set(err, ZD_EINVAL, "line %lu: $ORIGIN without a name", e->line);
		if (zone_token(e->text, &pos, &extra, &extralen))
			return zd_err_set(err, ZD_EINVAL, "line %lu: text after the $ORIGIN name",
			                  e->line);
		zone_tok_safe(safe, sizeof safe, arg, arglen);
		if (arglen >= sizeof buf)
			return zd_err_set(err, ZD_EINVAL, "line %lu: bad $ORIGIN name", e->line);
		memcpy(buf, arg, arglen);
		buf[arglen] = '\0';
		o = ldns_dname_new_frm_str(buf);
		if (o == NULL) {
			rc = zd_err_set(err, ZD_EINVAL, "line %lu: bad $ORIGIN name '%s'", e->line,
			                safe);
			goto out;
		}
		if (!ldns_dname_str_absolute(buf) && ldns_dname_cat(o, z->origin) != LDNS_STATUS_OK) {
			rc = zd_err_set(err, ZD_EINVAL, "line %lu: bad $ORIGIN name '%s'", e->line,
			                safe);
			goto out;
		}
		ldns_dname2canonical(o);
		if (!zone_in_zone(z, o)) {
			rc = zd_err_set(err, ZD_EINVAL, "line %lu: $ORIGIN %s is outside the zone %s",
			                e->line, safe, z->domain);
			goto out;
		}
		ldns_rdf_deep_free(z->origin);
		z->origin = o;
		o = NULL;
		goto out;
	}
	rc = zd_err_set(err, ZD_EINVAL, "line %lu: unknown directive %s", e->line, name);
out:
	ldns_rdf_deep_free(o);
	return rc;
}

/* "IN", "CH", ..., "CLASS<n>": 1 (and the class in *cls) when tok names a class */
static int zone_class_token(const char *tok, size_t len, unsigned *cls)
{
	static const struct { const char *name; unsigned cls; } names[] = {
		{ "IN", 1 }, { "CS", 2 }, { "CH", 3 }, { "CHAOS", 3 }, { "HS", 4 },
		{ "HESIOD", 4 }, { "NONE", 254 }, { "ANY", 255 },
	};
	size_t i, j;
	unsigned v = 0;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == len && strncasecmp(tok, names[i].name, len) == 0) {
			*cls = names[i].cls;
			return 1;
		}
	if (len > 5 && strncasecmp(tok, "CLASS", 5) == 0) {
		for (j = 5; j < len; j++) {
			if (tok[j] < '0' || tok[j] > '9' || v > 65535)
				return 0;
			v = v * 10 + (unsigned)(tok[j] - '0');
		}
		*cls = v;
		return 1;
	}
	return 0;
}

/* Type mnemonic known to ldns, or TYPE<n> (RFC 3597). 0 for anything else. */
static unsigned zone_type_token(const char *tok, size_t len)
{
	char buf[32];
	unsigned v = 0;
	size_t j;

	if (len == 0 || len >= sizeof buf)
		return 0;
	if (len > 4 && strncasecmp(tok, "TYPE", 4) == 0) {
		for (j = 4; j < len; j++) {
			if (tok[j] < '0' || tok[j] > '9' || v > 65535)
				return 0;
			v = v * 10 + (unsigned)(tok[j] - '0');
		}
		return v <= 65535 ? v : 0;
	}
	memcpy(buf, tok, len);
	buf[len] = '\0';
	v = ldns_get_rr_type_by_name(buf);
	/* only types ldns describes: its query-only names (AXFR, ANY...) are not data */
	if (v != 0 && ldns_rr_descript((uint16_t)v) == NULL)
		return 0;
	return v;
}

static int zone_rec_add(struct zone_ctx *z, const ldns_rr *rr, ldns_rdf *owner,
                        unsigned long line, struct zd_err *err)
{
	struct zone_rec *r;

	if (z->nrecs == z->cap) {
		size_t ncap = z->cap ? z->cap * 2 : 64;
		struct zone_rec *n = realloc(z->recs, ncap * sizeof *n);
		if (n == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory");
		z->recs = n;
		z->cap = ncap;
	}
	r = &z->recs[z->nrecs];
	memset(r, 0, sizeof *r);
	r->owner = owner;
	r->type = (uint16_t)ldns_rr_get_type(rr);
	r->line = line;
	if (r->type == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1) {
		r->target = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
		if (r->target == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory");
		ldns_dname2canonical(r->target);
	}
	z->nrecs++;
	return 0;
}

static int zone_record(struct zone_ctx *z, const struct zone_entry *e, struct zd_err *err)
{
	const char *tok, *owner = NULL;
	size_t pos = 0, toklen, ownerlen = 0, fields;
	char safe[300], *norm = NULL;
	unsigned cls, type;
	uint32_t ttl = 0;
	int have_ttl = 0, have_class = 0, n, rc = 0;
	size_t normsz;
	ldns_rr *rr = NULL;
	ldns_rdf *cowner = NULL;
	ldns_status st;

	if (e->text[0] != ' ' && e->text[0] != '\t') {
		zone_token(e->text, &pos, &owner, &ownerlen);
		if (owner[0] == '@' && ownerlen != 1)
			return zd_err_set(err, ZD_EINVAL, "line %lu: bad owner name '%s'", e->line,
			                  zone_tok_safe(safe, sizeof safe, owner, ownerlen));
	}
	/* [TTL] [class] or [class] [TTL], then the type */
	for (fields = 0;; fields++) {
		if (!zone_token(e->text, &pos, &tok, &toklen))
			return zd_err_set(err, ZD_EINVAL, "line %lu: record without a type", e->line);
		if (fields >= 2)
			break;
		if (tok[0] >= '0' && tok[0] <= '9') {
			if (have_ttl)
				return zd_err_set(err, ZD_EINVAL, "line %lu: two TTLs in one record",
				                  e->line);
			if (zone_ttl_parse(tok, toklen, &ttl) < 0)
				return zd_err_set(err, ZD_EINVAL,
				                  "line %lu: bad TTL '%s' (0 to 2147483647 seconds)",
				                  e->line, zone_tok_safe(safe, sizeof safe, tok, toklen));
			have_ttl = 1;
			continue;
		}
		if (zone_class_token(tok, toklen, &cls)) {
			if (have_class)
				return zd_err_set(err, ZD_EINVAL, "line %lu: two classes in one record",
				                  e->line);
			if (cls != LDNS_RR_CLASS_IN)
				return zd_err_set(err, ZD_EINVAL,
				                  "line %lu: class %s is not allowed (only IN)", e->line,
				                  zone_tok_safe(safe, sizeof safe, tok, toklen));
			have_class = 1;
			continue;
		}
		break;
	}
	type = zone_type_token(tok, toklen);
	if (type == 0 || type == LDNS_RR_TYPE_OPT || (type >= 128 && type <= 255))
		return zd_err_set(err, ZD_EINVAL, "line %lu: unknown record type '%s'", e->line,
		                  zone_tok_safe(safe, sizeof safe, tok, toklen));

	/* what ldns parses: "owner [ttl] IN TYPE rdata", in the order it knows */
	normsz = e->len + 48;
	norm = malloc(normsz);
	if (norm == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	if (have_ttl)
		n = snprintf(norm, normsz, "%.*s %lu IN %.*s%s", (int)ownerlen,
		             owner ? owner : "", (unsigned long)ttl, (int)toklen, tok, e->text + pos);
	else
		n = snprintf(norm, normsz, "%.*s IN %.*s%s", (int)ownerlen, owner ? owner : "",
		             (int)toklen, tok, e->text + pos);
	if (n < 0 || (size_t)n >= normsz) {
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: record too long", e->line);
		goto out;
	}
	st = ldns_rr_new_frm_str(&rr, norm, z->default_ttl, z->origin, &z->prev);
	if (st != LDNS_STATUS_OK) {
		rr = NULL;
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: bad %s record: %s", e->line,
		                zone_tok_safe(safe, sizeof safe, tok, toklen),
		                ldns_get_errorstr_by_id(st));
		goto out;
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: class is not IN", e->line);
		goto out;
	}
	if (ldns_rr_ttl(rr) > ZONE_TTL_MAX) {
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: TTL over 2147483647", e->line);
		goto out;
	}
	cowner = ldns_rdf_clone(ldns_rr_owner(rr));
	if (cowner == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	ldns_dname2canonical(cowner);
	if (!zone_in_zone(z, cowner)) {
		char *s = ldns_rdf2str(cowner);
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: owner %s is outside the zone %s",
		                e->line, s ? zone_tok_safe(safe, sizeof safe, s, strlen(s)) : "?",
		                z->domain);
		free(s);
		goto out;
	}
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
		if (++z->nsoa > 1) {
			rc = zd_err_set(err, ZD_EINVAL, "line %lu: a second SOA record", e->line);
			goto out;
		}
		if (ldns_dname_compare(cowner, z->apex) != 0) {
			rc = zd_err_set(err, ZD_EINVAL, "line %lu: the SOA is not owned by %s", e->line,
			                z->domain);
			goto out;
		}
		if (ldns_rr_rd_count(rr) == 7) {
			z->info.serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			z->info.refresh = ldns_rdf2native_int32(ldns_rr_rdf(rr, 3));
			z->info.retry = ldns_rdf2native_int32(ldns_rr_rdf(rr, 4));
			z->info.expire = ldns_rdf2native_int32(ldns_rr_rdf(rr, 5));
			z->info.minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		}
	}
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_dname_compare(cowner, z->apex) == 0) {
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: CNAME at the zone apex", e->line);
		goto out;
	}
	if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS && ldns_dname_compare(cowner, z->apex) == 0)
		z->napex_ns++;
	rc = zone_rec_add(z, rr, cowner, e->line, err);
	cowner = NULL;   /* owned by recs now, even when adding the target failed */
	if (rc < 0)
		goto out;
	z->info.nrr++;
out:
	ldns_rdf_deep_free(cowner);
	ldns_rr_free(rr);
	free(norm);
	return rc;
}

static int zone_rec_cmp(const void *a, const void *b)
{
	const struct zone_rec *x = a, *y = b;
	int c = ldns_dname_compare(x->owner, y->owner);

	if (c != 0)
		return c;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* No CNAME beside other data (RRSIG and NSEC may sit beside it), one CNAME per name. */
static int zone_check_cnames(struct zone_ctx *z, struct zd_err *err)
{
	size_t i, j, k, first_cname;
	unsigned long line;
	char *s, safe[300];

	qsort(z->recs, z->nrecs, sizeof *z->recs, zone_rec_cmp);
	for (i = 0; i < z->nrecs; i = j) {
		first_cname = (size_t)-1;
		for (j = i; j < z->nrecs && ldns_dname_compare(z->recs[i].owner, z->recs[j].owner) == 0;
		     j++)
			if (z->recs[j].type == LDNS_RR_TYPE_CNAME && first_cname == (size_t)-1)
				first_cname = j;
		if (first_cname == (size_t)-1)
			continue;
		for (k = i; k < j; k++) {
			const char *why = NULL;
			if (k == first_cname)
				continue;
			if (z->recs[k].type == LDNS_RR_TYPE_CNAME) {
				/* the same CNAME twice is one record; two targets are not */
				if (ldns_rdf_compare(z->recs[k].target, z->recs[first_cname].target) != 0)
					why = "more than one CNAME at";
			} else if (z->recs[k].type != LDNS_RR_TYPE_RRSIG &&
			           z->recs[k].type != LDNS_RR_TYPE_NSEC) {
				why = "CNAME and other data at";
			}
			if (why == NULL)
				continue;
			line = z->recs[k].line > z->recs[first_cname].line ? z->recs[k].line
			                                                     : z->recs[first_cname].line;
			s = ldns_rdf2str(z->recs[k].owner);
			zd_err_set(err, ZD_EINVAL, "line %lu: %s %s", line, why,
			           s ? str_safe(safe, sizeof safe, s, strlen(s)) : "?");
			free(s);
			return ZD_EINVAL;
		}
	}
	return 0;
}

static int zone_run(const char *domain, struct zone_src *src, struct zone_info *info,
                    struct zd_err *err)
{
	struct zone_ctx z;
	struct zone_entry e;
	char apex[DOMAIN_MAX + 2];
	size_t i;
	int rc, n;

	memset(&z, 0, sizeof z);
	memset(&e, 0, sizeof e);
	if (info != NULL)
		memset(info, 0, sizeof *info);
	z.domain = domain;
	z.line = 1;
	rc = domain_check(domain, err);
	if (rc < 0)
		goto out;
	n = snprintf(apex, sizeof apex, "%s.", domain);
	if (n < 0 || (size_t)n >= sizeof apex) {
		rc = zd_err_set(err, ZD_EINVAL, "domain too long");
		goto out;
	}
	z.apex = ldns_dname_new_frm_str(apex);
	z.origin = ldns_dname_new_frm_str(apex);
	if (z.apex == NULL || z.origin == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	ldns_dname2canonical(z.apex);
	/* no $TTL and no TTL on a record: ldns's default (3600) applies */
	z.default_ttl = 0;
	for (;;) {
		rc = zone_next_entry(&z, src, &e, err);
		if (rc < 0)
			goto out;
		if (rc == 0)
			break;
		i = 0;
		while (e.text[i] == ' ' || e.text[i] == '\t')
			i++;
		if (e.text[i] == '$')
			rc = zone_directive(&z, &e, err);
		else
			rc = zone_record(&z, &e, err);
		if (rc < 0)
			goto out;
	}
	if (src->fp != NULL && ferror(src->fp)) {
		rc = zd_err_sys(err, ZD_EIO, "read error");
		goto out;
	}
	if (z.info.nrr == 0) {
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: no records in the zone", z.line);
		goto out;
	}
	if (z.nsoa == 0) {
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: no SOA record for %s", z.line, domain);
		goto out;
	}
	if (z.napex_ns == 0) {
		rc = zd_err_set(err, ZD_EINVAL, "line %lu: no NS record at the apex of %s", z.line,
		                domain);
		goto out;
	}
	rc = zone_check_cnames(&z, err);
	if (rc < 0)
		goto out;
	if (info != NULL)
		*info = z.info;
	rc = 0;
out:
	for (i = 0; i < z.nrecs; i++) {
		ldns_rdf_deep_free(z.recs[i].owner);
		ldns_rdf_deep_free(z.recs[i].target);
	}
	free(z.recs);
	ldns_rdf_deep_free(z.apex);
	ldns_rdf_deep_free(z.origin);
	ldns_rdf_deep_free(z.prev);
	free(e.text);
	return rc;
}

int zone_check(const char *domain, const char *text, size_t len, struct zone_info *info,
               struct zd_err *err)
{
	struct zone_src src;

	memset(&src, 0, sizeof src);
	src.buf = (const unsigned char *)text;
	src.len = text != NULL ? len : 0;
	return zone_run(domain, &src, info, err);
}

int zone_check_fp(const char *domain, FILE *fp, struct zone_info *info, struct zd_err *err)
{
	struct zone_src src;

	memset(&src, 0, sizeof src);
	src.fp = fp;
	return zone_run(domain, &src, info, err);
}

int serial_cmp(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	if (a == b || d == 0x80000000U)
		return 0;
	return d < 0x80000000U ? 1 : -1;
}
