/* domain.h -- the names zonedrop accepts (PROTOCOL.md section 4) */
#ifndef ZONEDROP_DOMAIN_H
#define ZONEDROP_DOMAIN_H

#include <stddef.h>
#include "zonedrop/err.h"

#define DOMAIN_MAX 253
#define USERNAME_MAX 64

/* A zone name: lower-case LDH labels of 1..63, no leading/trailing hyphen,
 * at least two labels, <= 253 characters, no trailing dot, last label not
 * all digits. 0 or ZD_EINVAL with a reason in err. */
int domain_check(const char *name, struct zd_err *err);
/* A DirectAdmin hostname: the same grammar, one label allowed; "" is valid. */
int hostname_check(const char *name, struct zd_err *err);
/* [A-Za-z0-9._-]{1,64}; "" is valid (absent). */
int username_check(const char *name, struct zd_err *err);

/* The parent of a name ("a.b.c" -> "b.c"), NULL for a name with one label.
 * Points into name. */
const char *domain_parent(const char *name);

#endif
