/* test_http.c -- form/query parsing, Content-Length, Basic auth, base64, answer encoding */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zonedrop/http.h"

static int parse(struct http_params *p, const char *s, struct zd_err *err)
{
	return http_form_parse(p, s, strlen(s), err);
}

int main(void)
{
	struct http_params p = { 0 };
	struct zd_err err;
	char user[HTTP_CRED_MAX + 1], pass[HTTP_CRED_MAX + 1], out[64], big[HTTP_AUTH_MAX + 64];
	unsigned char bin[16];
	uint64_t cl;
	size_t n, i;
	char *form;

	/* the captured DirectAdmin requests */
	is_int(parse(&p, "action=rawsave&domain=test.com&hostname=s23.example.net", &err), 0,
	       "rawsave query parses");
	is_str(http_param_get(&p, "action"), "rawsave", "action");
	is_str(http_param_get(&p, "domain"), "test.com", "domain");
	is_str(http_param_get(&p, "hostname"), "s23.example.net", "hostname");
	ok(http_param_get(&p, "username") == NULL, "absent parameter is NULL");
	http_params_free(&p);
	is_int(parse(&p, "action=delete&cluster=yes&hostname=da1&select0=a.com&username=cheybugger",
	             &err), 0, "DA delete body parses");
	is_str(http_param_get(&p, "select0"), "a.com", "select0");
	is_int((long long)p.n, 5, "five parameters");
	http_params_free(&p);

	/* decoding exactly once */
	is_int(parse(&p, "a=%252e%41+b%2Bc&b=&c", &err), 0, "escapes parse");
	is_str(http_param_get(&p, "a"), "%2eA b+c", "%%25 decodes once, + is a space, %%2B is +");
	is_str(http_param_get(&p, "b"), "", "empty value");
	is_str(http_param_get(&p, "c"), "", "name without '=' has an empty value");
	http_params_free(&p);
	is_int(parse(&p, "&&a=1&&", &err), 0, "empty pieces skipped");
	is_int((long long)p.n, 1, "one parameter");
	http_params_free(&p);
	is_int(parse(&p, "a=x=y", &err), 0, "second '=' belongs to the value");
	is_str(http_param_get(&p, "a"), "x=y", "value keeps '='");
	http_params_free(&p);
	is_int(parse(&p, "d%6fmain=a.com", &err), 0, "escaped name");
	is_str(http_param_get(&p, "domain"), "a.com", "name decoded");
	http_params_free(&p);
	is_int(parse(&p, "a=%C3%BC", &err), 0, "UTF-8 bytes are not control characters");
	http_params_free(&p);

	/* malformed escapes */
	is_int(parse(&p, "a=%zz", &err), ZD_EINVAL, "%%zz refused");
	is_int(parse(&p, "a=%4", &err), ZD_EINVAL, "truncated %%4 refused");
	is_int(parse(&p, "a=%", &err), ZD_EINVAL, "lone %% refused");
	is_int(parse(&p, "a=b%", &err), ZD_EINVAL, "trailing %% refused");
	is_int(parse(&p, "%g1=b", &err), ZD_EINVAL, "bad escape in a name refused");
	is_int((long long)p.n, 0, "nothing kept after errors");

	/* control characters */
	is_int(parse(&p, "a=x%00y", &err), ZD_EINVAL, "NUL refused");
	is_int(parse(&p, "a=x%0Ay", &err), ZD_EINVAL, "newline refused");
	is_int(parse(&p, "a=x%0dy", &err), ZD_EINVAL, "CR refused");
	is_int(parse(&p, "a=x%09y", &err), ZD_EINVAL, "tab refused");
	is_int(parse(&p, "a=x%7Fy", &err), ZD_EINVAL, "DEL refused");
	is_int(parse(&p, "a%0A=1", &err), ZD_EINVAL, "control character in a name refused");
	is_int(http_form_parse(&p, "a=x\ny", 5, &err), ZD_EINVAL, "raw newline refused");
	is_int(http_form_parse(&p, "a=x\0y", 5, &err), ZD_EINVAL, "raw NUL refused");
	ok(strchr(err.msg, '\n') == NULL, "message is one line: %s", err.msg);
	is_int(parse(&p, "=x", &err), ZD_EINVAL, "empty name refused");

	/* a parameter given twice anywhere */
	is_int(parse(&p, "domain=a.com&domain=b.com", &err), ZD_EINVAL, "twice, different values");
	ok(strstr(err.msg, "domain") != NULL, "message names it: %s", err.msg);
	is_int(parse(&p, "domain=a.com&domain=a.com", &err), ZD_EINVAL, "twice, same value");
	is_int(parse(&p, "domain=a.com&d%6Fmain=a.com", &err), ZD_EINVAL,
	       "twice, once escaped");
	is_int(parse(&p, "domain=a.com", &err), 0, "query");
	is_int(parse(&p, "action=exists&domain=a.com", &err), ZD_EINVAL,
	       "query and body name the same parameter");
	is_int((long long)p.n, 1, "the failed call added nothing");
	is_str(http_param_get(&p, "domain"), "a.com", "earlier parameters kept");
	http_params_free(&p);
	/* many parameters: the sorted duplicate check */
	form = malloc(200 * 32 + 64);
	n = 0;
	for (i = 0; i < 200; i++)
		n += (size_t)sprintf(form + n, "%sselect%zu=a%zu.com", i ? "&" : "", i, i);
	is_int(http_form_parse(&p, form, n, &err), 0, "200 distinct parameters");
	is_int((long long)p.n, 200, "all kept");
	http_params_free(&p);
	n += (size_t)sprintf(form + n, "&select57=x.com");
	is_int(http_form_parse(&p, form, n, &err), ZD_EINVAL, "one repeated among 201");
	ok(strstr(err.msg, "select57") != NULL, "the repeated one is named: %s", err.msg);
	is_int((long long)p.n, 0, "nothing kept");
	http_params_free(&p);
	free(form);
	http_params_free(&p);

	/* Content-Length */
	is_int(http_content_length(NULL, &cl, &err), 0, "absent is 0");
	is_int((long long)cl, 0, "  = 0");
	is_int(http_content_length("", &cl, &err), 0, "empty is 0");
	is_int(http_content_length("259", &cl, &err), 0, "259");
	is_int((long long)cl, 259, "  = 259");
	is_int(http_content_length("0", &cl, &err), 0, "0");
	is_int(http_content_length("12abc", &cl, &err), ZD_EINVAL, "12abc refused");
	is_int(http_content_length("-1", &cl, &err), ZD_EINVAL, "-1 refused");
	is_int(http_content_length("+5", &cl, &err), ZD_EINVAL, "+5 refused");
	is_int(http_content_length(" 5", &cl, &err), ZD_EINVAL, "blank refused");
	is_int(http_content_length("5, 5", &cl, &err), ZD_EINVAL, "list refused");
	is_int(http_content_length("0x10", &cl, &err), ZD_EINVAL, "hex refused");
	is_int(http_content_length("99999999999999999999999", &cl, &err), ZD_EINVAL,
	       "huge refused");
	is_int(http_content_length("9007199254740992", &cl, &err), 0, "2^53 ok");
	is_int(http_content_length("9007199254740993", &cl, &err), ZD_EINVAL, "2^53+1 refused");

	/* base64 */
	is_int(http_b64_decode("ZGE6cHc=", 8, bin, sizeof bin, &n), 0, "da:pw");
	ok(n == 5 && memcmp(bin, "da:pw", 5) == 0, "  decoded");
	is_int(http_b64_decode("ZGE6cHc", 7, bin, sizeof bin, &n), 0, "without padding");
	ok(n == 5 && memcmp(bin, "da:pw", 5) == 0, "  decoded");
	is_int(http_b64_decode("", 0, bin, sizeof bin, &n), 0, "empty");
	is_int((long long)n, 0, "  nothing");
	is_int(http_b64_decode("Z", 1, bin, sizeof bin, &n), ZD_EINVAL, "one character refused");
	is_int(http_b64_decode("ZGE6c Hc=", 9, bin, sizeof bin, &n), ZD_EINVAL, "blank refused");
	is_int(http_b64_decode("ZGE6cHc*", 8, bin, sizeof bin, &n), ZD_EINVAL, "'*' refused");
	is_int(http_b64_decode("ZG=6cHc=", 8, bin, sizeof bin, &n), ZD_EINVAL,
	       "inner '=' refused");
	is_int(http_b64_decode("ZGE6cHd=", 8, bin, sizeof bin, &n), ZD_EINVAL,
	       "non-canonical trailing bits refused");
	is_int(http_b64_decode("ZGE6cHc===", 10, bin, sizeof bin, &n), ZD_EINVAL,
	       "three '=' refused");
	is_int(http_b64_decode("YWFhYWFhYWFhYWFhYWFhYWFh", 24, bin, 4, &n), ZD_E2BIG,
	       "output too small");

	/* Basic auth */
	is_int(http_basic_auth("Basic ZGE6cHc=", user, sizeof user, pass, sizeof pass, &err), 0,
	       "Basic da:pw");
	is_str(user, "da", "user");
	is_str(pass, "pw", "password");
	is_int(http_basic_auth("basic   ZGE6cHc=  ", user, sizeof user, pass, sizeof pass, &err), 0,
	       "scheme case and blanks");
	is_int(http_basic_auth("Basic ZGE6", user, sizeof user, pass, sizeof pass, &err), 0,
	       "empty password decodes");
	is_str(pass, "", "  empty password");
	is_int(http_basic_auth("Basic ZGE6cHc6eA==", user, sizeof user, pass, sizeof pass, &err), 0,
	       "password with ':'");
	is_str(pass, "pw:x", "  split at the first ':'");
	is_int(http_basic_auth(NULL, user, sizeof user, pass, sizeof pass, &err), ZD_EINVAL,
	       "missing header");
	is_int(http_basic_auth("", user, sizeof user, pass, sizeof pass, &err), ZD_EINVAL,
	       "empty header");
	is_int(http_basic_auth("Bearer ZGE6cHc=", user, sizeof user, pass, sizeof pass, &err),
	       ZD_EINVAL, "Bearer refused");
	is_int(http_basic_auth("Basic ", user, sizeof user, pass, sizeof pass, &err), ZD_EINVAL,
	       "Basic with nothing");
	is_int(http_basic_auth("Basic", user, sizeof user, pass, sizeof pass, &err), ZD_EINVAL,
	       "Basic alone");
	is_int(http_basic_auth("BasicZGE6cHc=", user, sizeof user, pass, sizeof pass, &err),
	       ZD_EINVAL, "no blank after Basic");
	is_int(http_basic_auth("Basic ZGFwdw==", user, sizeof user, pass, sizeof pass, &err),
	       ZD_EINVAL, "no ':'");
	is_int(http_basic_auth("Basic OnB3", user, sizeof user, pass, sizeof pass, &err), ZD_EINVAL,
	       "empty user");
	is_int(http_basic_auth("Basic ZGEAOnB3", user, sizeof user, pass, sizeof pass, &err),
	       ZD_EINVAL, "NUL in credentials");
	is_int(http_basic_auth("Basic !!!!", user, sizeof user, pass, sizeof pass, &err), ZD_EINVAL,
	       "bad base64");
	is_str(user, "", "user cleared on failure");
	memset(big, 'A', sizeof big);
	memcpy(big, "Basic ", 6);
	big[sizeof big - 1] = '\0';
	is_int(http_basic_auth(big, user, sizeof user, pass, sizeof pass, &err), ZD_EINVAL,
	       "over-long header");
	is_int(http_basic_auth("Basic ZGE6cHc=", user, 2, pass, sizeof pass, &err), ZD_EINVAL,
	       "user buffer too small");

	/* answers */
	is_int(http_url_encode(out, sizeof out, "Login OK"), 0, "encode");
	is_str(out, "Login%20OK", "space as %%20");
	http_url_encode(out, sizeof out, "a&b=c\n%/~-._");
	is_str(out, "a%26b%3Dc%0A%25%2F~-._", "reserved bytes escaped");
	http_url_encode(out, sizeof out, "\xff");
	is_str(out, "%FF", "high byte");
	is_int(http_url_encode(out, 5, "abcdef"), ZD_E2BIG, "too small");
	is_str(out, "abcd", "truncated but terminated");
	is_int(http_url_encode(out, 5, "ab cd"), ZD_E2BIG, "escape never split");
	is_str(out, "ab", "  whole escapes only");
	return tap_done();
}
