/* auth.h -- who may talk to the receiver: Basic-auth users and allow_from */
#ifndef ZONEDROP_AUTH_H
#define ZONEDROP_AUTH_H

#include <stddef.h>
#include "zonedrop/config.h"
#include "zonedrop/err.h"

/* Check user/password against users[0..n): the name must match exactly
 * (case-sensitive); then a password_hash is checked with crypt(3), else a
 * plain password with a constant-time compare. An entry with neither, or
 * with an empty plain password, never matches. 0 when accepted, ZD_EACCES
 * when refused (err says why, without the password). */
int auth_check_user(const struct config_user *users, size_t n, const char *user,
                    const char *password, struct zd_err *err);

/* Is addr (REMOTE_ADDR, IPv4 or IPv6 text; IPv4-mapped IPv6 counts as
 * IPv4) inside one of cidrs[0..n)? n == 0 means everyone. 0 allowed,
 * ZD_EACCES outside, ZD_EINVAL when addr is missing or unparsable. */
int auth_addr_allowed(const struct config_cidr *cidrs, size_t n, const char *addr,
                      struct zd_err *err);

/* Parse "a.b.c.d/nn", "x::y/nn" or a bare address (full-length prefix)
 * into c. 0 or ZD_EINVAL. */
int auth_cidr_parse(const char *s, struct config_cidr *c, struct zd_err *err);

#endif
