/* test_domain.c -- zone names, DA hostnames and user names (PROTOCOL.md section 4) */
#include <string.h>

#include "tap.h"
#include "zonedrop/domain.h"

static char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

int main(void)
{
	static const char *good[] = {
		"example.com", "a.bc", "xn--bcher-kva.ch", "2.0.192.in-addr.arpa", "a-b.c-d.example",
		"shop.oakridge-vets.co.nz", "24x7-support.io", "x1.y2", "0.example", "a--b.example",
	};
	static const char *bad[] = {
		"", "com", "example.com.", ".example.com", "exa mple.com", "EXAMPLE.com", "example.Com",
		"../etc/passwd", "/tmp/x", "a/b.com", "a\\b.com", "a..b", "-a.com", "a-.com", "a.-b",
		"a.b-", "*.example.com", "_dmarc.example.com", "ex\"ample.com", "a}.com", "a;b.com",
		"a@b.com", "example.com:2222", "example.123", "192.0.2.1", "m\xc3\xbcnchen.de",
		"a\tb.com", "a\nb.com", "ex%41mple.com", "a+b.com", "a.b\x7f",
	};
	char name[400], label[80], *p;
	struct zd_err err;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		is_int(domain_check(good[i], &err), 0, "domain ok: %s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		zd_err_clear(&err);
		is_int(domain_check(bad[i], &err), ZD_EINVAL, "domain refused: index %zu", i);
		ok(err.msg[0] != '\0', "  with a reason");
		ok(strchr(err.msg, '\n') == NULL && strchr(err.msg, '\t') == NULL,
		   "  reason is log-safe: %s", err.msg);
	}
	is_int(domain_check(NULL, &err), ZD_EINVAL, "NULL refused");

	/* length limits: 63-character labels, 253 characters in all */
	snprintf(name, sizeof name, "%s.com", repeat(label, 'a', 63));
	is_int(domain_check(name, &err), 0, "63-character label ok");
	snprintf(name, sizeof name, "%s.com", repeat(label, 'a', 64));
	is_int(domain_check(name, &err), ZD_EINVAL, "64-character label refused");
	/* 4 x (62 + dot) = 252, + "z" = 253 */
	p = name;
	for (i = 0; i < 4; i++) {
		memset(p, 'a' + (int)i, 62);
		p += 62;
		*p++ = '.';
	}
	strcpy(p, "z");
	is_int((long long)strlen(name), 253, "built a 253-character name");
	is_int(domain_check(name, &err), 0, "253 characters ok");
	strcpy(p, "zz");
	is_int(domain_check(name, &err), ZD_EINVAL, "254 characters refused");

	/* hostnames: same grammar, one label allowed, "" allowed */
	is_int(hostname_check("", &err), 0, "empty hostname ok");
	is_int(hostname_check("localhost", &err), 0, "single-label hostname ok");
	is_int(hostname_check("da1.kit.example", &err), 0, "hostname ok");
	is_int(hostname_check("da_1.kit.example", &err), ZD_EINVAL, "underscore refused");
	is_int(hostname_check("da1.kit.example\nAction: delete", &err), ZD_EINVAL,
	       "newline refused");
	is_int(hostname_check("DA1.kit.example", &err), ZD_EINVAL, "upper case refused");
	is_int(hostname_check("da1.kit.example.", &err), ZD_EINVAL, "trailing dot refused");
	is_int(hostname_check("123", &err), ZD_EINVAL, "all-numeric refused");
	is_int(hostname_check("192.0.2.1", &err), ZD_EINVAL, "address refused");

	/* user names */
	is_int(username_check("", &err), 0, "empty username ok (absent)");
	is_int(username_check(NULL, &err), 0, "NULL username ok (absent)");
	is_int(username_check("cheybugger", &err), 0, "username ok");
	is_int(username_check("A.b_c-9", &err), 0, "username with . _ - and upper case ok");
	is_int(username_check(repeat(label, 'u', 64), &err), 0, "64 characters ok");
	is_int(username_check(repeat(label, 'u', 65), &err), ZD_EINVAL, "65 characters refused");
	is_int(username_check("al ice", &err), ZD_EINVAL, "space refused");
	is_int(username_check("ali\nce", &err), ZD_EINVAL, "newline refused");
	is_int(username_check("a/b", &err), ZD_EINVAL, "slash refused");
	is_int(username_check("\xc3\xa9", &err), ZD_EINVAL, "UTF-8 refused");

	/* parents */
	is_str(domain_parent("a.b.c"), "b.c", "parent of a.b.c");
	is_str(domain_parent("b.c"), "c", "parent of b.c");
	ok(domain_parent("c") == NULL, "no parent for one label");
	ok(domain_parent(NULL) == NULL, "no parent for NULL");
	ok(domain_parent("c.") == NULL, "no parent after a trailing dot");
	return tap_done();
}
