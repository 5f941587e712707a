/* test_auth.c -- Basic-auth users (crypt(3) and plain) and allow_from */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "tap.h"
#include "zonedrop/auth.h"

int main(void)
{
	struct config_user users[] = {
		{ .name = "plain", .password = "pw-plain" },
		{ .name = "sha512", .password_hash = "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1" },
		{ .name = "sha256", .password_hash = "$5$saltsalt$i1q2ZQzc.tl/BQ6CHiENAcVDvEY6nJ1OWlWXKh94b1." },
		{ .name = "yescrypt", .password_hash = "$y$j9T$saltsaltsaltsalt$gIvwkwu59HUpqBIOkVbDR/t2/jSuuzFfOz0l6nwgRw2" },
		{ .name = "both", .password_hash = "$5$saltsalt$i1q2ZQzc.tl/BQ6CHiENAcVDvEY6nJ1OWlWXKh94b1.",
		  .password = "other" },
		{ .name = "nothing" },
		{ .name = "emptypw", .password = "" },
		{ .name = "badhash", .password_hash = "*" },
	};
	size_t nu = sizeof users / sizeof users[0];
	struct config_cidr c[4], one;
	struct zd_err err;

	is_int(auth_check_user(users, nu, "plain", "pw-plain", &err), 0, "plain password");
	is_int(auth_check_user(users, nu, "plain", "pw-plai", &err), ZD_EACCES, "prefix refused");
	is_int(auth_check_user(users, nu, "plain", "pw-plainX", &err), ZD_EACCES, "longer refused");
	is_int(auth_check_user(users, nu, "plain", "pw-plain\n", &err), ZD_EACCES,
	       "trailing newline refused");
	is_int(auth_check_user(users, nu, "plain", "", &err), ZD_EACCES, "empty refused");
	is_int(auth_check_user(users, nu, "PLAIN", "pw-plain", &err), ZD_EACCES,
	       "user names are case-sensitive");
	is_int(auth_check_user(users, nu, "plai", "pw-plain", &err), ZD_EACCES, "user prefix refused");
	is_int(auth_check_user(users, nu, "nobody", "pw-plain", &err), ZD_EACCES, "unknown user");
	ok(strstr(err.msg, "pw-plain") == NULL, "message never holds the password");
	is_int(auth_check_user(users, nu, "", "pw-plain", &err), ZD_EACCES, "empty user");
	is_int(auth_check_user(users, nu, NULL, NULL, &err), ZD_EACCES, "no credentials");
	is_int(auth_check_user(users, 0, "plain", "pw-plain", &err), ZD_EACCES, "no users at all");

	is_int(auth_check_user(users, nu, "sha512", "s3cret", &err), 0, "crypt $6$");
	is_int(auth_check_user(users, nu, "sha512", "s3creT", &err), ZD_EACCES, "crypt $6$ wrong");
	is_int(auth_check_user(users, nu, "sha256", "s3cret", &err), 0, "crypt $5$");
	is_int(auth_check_user(users, nu, "yescrypt", "s3cret", &err), 0, "crypt $y$");
	is_int(auth_check_user(users, nu, "yescrypt", "s3cret ", &err), ZD_EACCES,
	       "crypt $y$ wrong");
	is_int(auth_check_user(users, nu, "sha512",
	       "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1",
	       &err), ZD_EACCES, "the hash itself is not the password");
	is_int(auth_check_user(users, nu, "both", "s3cret", &err), 0, "hash wins over plain");
	is_int(auth_check_user(users, nu, "both", "other", &err), ZD_EACCES, "plain ignored then");
	is_int(auth_check_user(users, nu, "nothing", "", &err), ZD_EACCES, "no secret never matches");
	is_int(auth_check_user(users, nu, "emptypw", "", &err), ZD_EACCES,
	       "empty plain password never matches");
	is_int(auth_check_user(users, nu, "badhash", "*", &err), ZD_EACCES, "'*' hash never matches");
	is_int(auth_check_user(users, nu, "badhash", "", &err), ZD_EACCES, "'*' hash, empty password");

	/* allow_from */
	is_int(auth_cidr_parse("127.0.0.1/32", &c[0], &err), 0, "parse 127.0.0.1/32");
	is_int(c[0].family, AF_INET, "  IPv4");
	is_int(c[0].prefix, 32, "  /32");
	is_int(auth_cidr_parse("203.0.113.0/24", &c[1], &err), 0, "parse 203.0.113.0/24");
	is_int(auth_cidr_parse("2001:db8::/32", &c[2], &err), 0, "parse 2001:db8::/32");
	is_int(c[2].family, AF_INET6, "  IPv6");
	is_int(auth_cidr_parse("10.1.2.3", &c[3], &err), 0, "bare address");
	is_int(c[3].prefix, 32, "  full prefix");
	is_int(auth_cidr_parse("10.0.0.0/33", &one, &err), ZD_EINVAL, "/33 refused");
	is_int(auth_cidr_parse("::/129", &one, &err), ZD_EINVAL, "/129 refused");
	is_int(auth_cidr_parse("10.0.0.0/", &one, &err), ZD_EINVAL, "empty prefix refused");
	is_int(auth_cidr_parse("10.0.0.0/8x", &one, &err), ZD_EINVAL, "garbage prefix refused");
	is_int(auth_cidr_parse("10.0.0/8", &one, &err), ZD_EINVAL, "short address refused");
	is_int(auth_cidr_parse("", &one, &err), ZD_EINVAL, "empty refused");
	is_int(auth_cidr_parse("0.0.0.0/0", &one, &err), 0, "/0 ok");

	is_int(auth_addr_allowed(c, 4, "127.0.0.1", &err), 0, "127.0.0.1 allowed");
	is_int(auth_addr_allowed(c, 4, "127.0.0.2", &err), ZD_EACCES, "127.0.0.2 refused");
	is_int(auth_addr_allowed(c, 4, "203.0.113.255", &err), 0, "inside /24");
	is_int(auth_addr_allowed(c, 4, "203.0.114.0", &err), ZD_EACCES, "outside /24");
	is_int(auth_addr_allowed(c, 4, "2001:db8:ffff::1", &err), 0, "inside IPv6 /32");
	is_int(auth_addr_allowed(c, 4, "2001:db9::1", &err), ZD_EACCES, "outside IPv6 /32");
	is_int(auth_addr_allowed(c, 4, "::ffff:203.0.113.7", &err), 0, "IPv4-mapped counts as IPv4");
	is_int(auth_addr_allowed(c, 4, "::ffff:198.51.100.7", &err), ZD_EACCES,
	       "IPv4-mapped outside");
	is_int(auth_addr_allowed(c, 4, "10.1.2.3", &err), 0, "bare address entry");
	is_int(auth_addr_allowed(c, 4, "", &err), ZD_EINVAL, "empty address");
	is_int(auth_addr_allowed(c, 4, NULL, &err), ZD_EINVAL, "no address");
	is_int(auth_addr_allowed(c, 4, "localhost", &err), ZD_EINVAL, "a name is not an address");
	is_int(auth_addr_allowed(c, 4, "127.0.0.1, 10.0.0.1", &err), ZD_EINVAL, "a list is refused");
	is_int(auth_addr_allowed(NULL, 0, "198.51.100.1", &err), 0, "no allow_from: everyone");
	is_int(auth_addr_allowed(NULL, 0, NULL, &err), 0, "no allow_from: even without address");
	is_int(auth_cidr_parse("0.0.0.0/0", &one, &err), 0, "everyone IPv4");
	is_int(auth_addr_allowed(&one, 1, "198.51.100.1", &err), 0, "/0 matches");
	is_int(auth_addr_allowed(&one, 1, "2001:db8::1", &err), ZD_EACCES, "IPv4 /0 not IPv6");
	one.prefix = 99;
	is_int(auth_addr_allowed(&one, 1, "198.51.100.1", &err), ZD_EACCES,
	       "an impossible prefix never matches");
	return tap_done();
}
