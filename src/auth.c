/* auth.c -- who may talk to the receiver: Basic-auth users and allow_from */
#include <arpa/inet.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "zonedrop/auth.h"
#include "zonedrop/util.h"

/* crypt(3) of password with setting hash, compared in constant time. */
static int auth_crypt_ok(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *out;
	int ok = 0;

	/* struct crypt_data is ~32 KiB: keep it off the stack */
	cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		return 0;
	/* crypt_rn, not crypt_r: sanitizers intercept crypt_r, and with
	 * --as-needed libcrypt would then not be linked at all */
	out = crypt_rn(password, hash, cd, (int)sizeof *cd);
	/* failures return NULL or a string starting with '*' that never matches a hash */
	if (out != NULL && out[0] != '*' && hash[0] != '\0')
		ok = str_ct_equal(out, strlen(out), hash, strlen(hash));
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

int auth_check_user(const struct config_user *users, size_t n, const char *user,
                    const char *password, struct zd_err *err)
{
	const struct config_user *u = NULL;
	size_t i;
	int ok = 0;

	if (user == NULL || password == NULL || user[0] == '\0')
		return zd_err_set(err, ZD_EACCES, "no credentials");
	for (i = 0; i < n; i++) {
		if (users[i].name != NULL &&
		    str_ct_equal(users[i].name, strlen(users[i].name), user, strlen(user)) &&
		    u == NULL)
			u = &users[i];
	}
	if (u == NULL) {
		/* spend about the time of a real check, so unknown names do not stand out */
		(void)auth_crypt_ok(password, "$6$zonedropdummy$");
		return zd_err_set(err, ZD_EACCES, "unknown user");
	}
	if (u->password_hash != NULL && u->password_hash[0] != '\0')
		ok = auth_crypt_ok(password, u->password_hash);
	else if (u->password != NULL && u->password[0] != '\0')
		ok = str_ct_equal(u->password, strlen(u->password), password, strlen(password));
	if (!ok)
		return zd_err_set(err, ZD_EACCES, "wrong password");
	return 0;
}

int auth_cidr_parse(const char *s, struct config_cidr *c, struct zd_err *err)
{
	char buf[64];
	const char *slash;
	size_t alen;
	uint64_t prefix;
	int max;

	memset(c, 0, sizeof *c);
	if (s == NULL || s[0] == '\0')
		return zd_err_set(err, ZD_EINVAL, "empty address");
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof buf)
		return zd_err_set(err, ZD_EINVAL, "bad address");
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return zd_err_set(err, ZD_EINVAL, "bad address");
	}
	c->prefix = max;
	if (slash != NULL) {
		if (parse_u64(slash + 1, (uint64_t)max, &prefix) < 0)
			return zd_err_set(err, ZD_EINVAL, "bad prefix length");
		c->prefix = (int)prefix;
	}
	return 0;
}

static int auth_prefix_match(const unsigned char *a, const unsigned char *b, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;
	unsigned char mask;

	if (full > 0 && memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int auth_addr_allowed(const struct config_cidr *cidrs, size_t n, const char *addr,
                      struct zd_err *err)
{
	unsigned char a6[16], a4[4];
	int have4 = 0, have6 = 0;
	size_t i;

	if (n == 0)
		return 0;
	if (addr == NULL || addr[0] == '\0')
		return zd_err_set(err, ZD_EINVAL, "no client address");
	if (inet_pton(AF_INET, addr, a4) == 1) {
		have4 = 1;
		/* the mapped form, for allow_from entries written as ::ffff:a.b.c.d/nn */
		memset(a6, 0, 10);
		a6[10] = a6[11] = 0xff;
		memcpy(a6 + 12, a4, 4);
		have6 = 1;
	} else if (inet_pton(AF_INET6, addr, a6) == 1) {
		have6 = 1;
		if (memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memcpy(a4, a6 + 12, 4);
			have4 = 1;
		}
	} else {
		return zd_err_set(err, ZD_EINVAL, "client address not understood");
	}
	for (i = 0; i < n; i++) {
		if (cidrs[i].prefix < 0 ||
		    cidrs[i].prefix > (cidrs[i].family == AF_INET ? 32 : 128))
			continue;
		if (cidrs[i].family == AF_INET && have4 &&
		    auth_prefix_match(a4, cidrs[i].addr, cidrs[i].prefix))
			return 0;
		if (cidrs[i].family == AF_INET6 && have6 &&
		    auth_prefix_match(a6, cidrs[i].addr, cidrs[i].prefix))
			return 0;
	}
	return zd_err_set(err, ZD_EACCES, "client address not in allow_from");
}
