/* domain.c -- the names zonedrop accepts: zone names, DA hostnames, DA user names */
#include <stdio.h>
#include <string.h>

#include "zonedrop/domain.h"

/* Printable form of one byte for a message (messages must stay log-safe). */
static const char *domain_byte(unsigned char c, char *buf, size_t sz)
{
	if (c > 0x20 && c < 0x7f && c != '\\')
		snprintf(buf, sz, "'%c'", c);
	else
		snprintf(buf, sz, "byte 0x%02x", c);
	return buf;
}

/* The shared grammar: LDH labels, lower case only. min_labels is 2 for
 * zones and 1 for hostnames. */
static int domain_check_labels(const char *name, size_t min_labels, const char *what,
                               struct zd_err *err)
{
	const unsigned char *p, *label;
	size_t len, nlabels = 0, llen;
	int all_digits;
	char b[16];

	if (name == NULL || name[0] == '\0')
		return zd_err_set(err, ZD_EINVAL, "%s is empty", what);
	len = strlen(name);
	if (len > DOMAIN_MAX)
		return zd_err_set(err, ZD_EINVAL, "%s longer than %d characters", what, DOMAIN_MAX);
	p = (const unsigned char *)name;
	for (;;) {
		label = p;
		all_digits = 1;
		while (*p != '\0' && *p != '.') {
			if ((*p >= 'a' && *p <= 'z') || *p == '-') {
				all_digits = 0;
			} else if (*p >= '0' && *p <= '9') {
				/* digits keep all_digits as it is */
			} else if (*p >= 'A' && *p <= 'Z') {
				return zd_err_set(err, ZD_EINVAL, "%s must be lower case", what);
			} else {
				return zd_err_set(err, ZD_EINVAL, "%s holds a forbidden character (%s)",
				                  what, domain_byte(*p, b, sizeof b));
			}
			p++;
		}
		llen = (size_t)(p - label);
		if (llen == 0)
			return zd_err_set(err, ZD_EINVAL, "%s has an empty label", what);
		if (llen > 63)
			return zd_err_set(err, ZD_EINVAL, "%s has a label longer than 63 characters",
			                  what);
		if (label[0] == '-' || label[llen - 1] == '-')
			return zd_err_set(err, ZD_EINVAL, "%s has a label starting or ending with '-'",
			                  what);
		nlabels++;
		if (*p == '\0') {
			if (all_digits)
				return zd_err_set(err, ZD_EINVAL, "%s has an all-numeric last label",
				                  what);
			break;
		}
		p++;   /* the dot; a trailing dot gives an empty label above */
	}
	if (nlabels < min_labels)
		return zd_err_set(err, ZD_EINVAL, "%s needs at least %zu labels", what, min_labels);
	return 0;
}

int domain_check(const char *name, struct zd_err *err)
{
	return domain_check_labels(name, 2, "domain", err);
}

int hostname_check(const char *name, struct zd_err *err)
{
	if (name != NULL && name[0] == '\0')
		return 0;
	return domain_check_labels(name, 1, "hostname", err);
}

int username_check(const char *name, struct zd_err *err)
{
	const unsigned char *p;
	char b[16];

	if (name == NULL || name[0] == '\0')
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
			continue;
		return zd_err_set(err, ZD_EINVAL, "username holds a forbidden character (%s)",
		                  domain_byte(*p, b, sizeof b));
	}
	if ((size_t)(p - (const unsigned char *)name) > USERNAME_MAX)
		return zd_err_set(err, ZD_EINVAL, "username longer than %d characters", USERNAME_MAX);
	return 0;
}

const char *domain_parent(const char *name)
{
	const char *dot;

	if (name == NULL)
		return NULL;
	dot = strchr(name, '.');
	if (dot == NULL || dot[1] == '\0')
		return NULL;
	return dot + 1;
}
