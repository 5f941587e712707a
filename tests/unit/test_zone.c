/* test_zone.c -- zone text checks (PROTOCOL.md section 4) over the fixture zones and edge cases */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zonedrop/util.h"
#include "zonedrop/zone.h"

#define GOOD_DIR "tests/fixtures/zones"
#define BAD_DIR "tests/fixtures/zones/bad"
#define D "example.net"

/* a minimal valid zone; tests append to it */
#define HEAD "$TTL 3600\n@ IN SOA ns1.example.org. hostmaster ( 2026010101 3600 600 86400 300 )\n" \
             "@ IN NS ns1.example.org.\n"

static int check(const char *text, struct zd_err *err)
{
	zd_err_clear(err);
	return zone_check(D, text, strlen(text), NULL, err);
}

/* check and expect failure on a given line (0: any line), message containing want */
static void refuse(const char *text, unsigned line, const char *want, const char *what)
{
	struct zd_err err;
	char prefix[32];
	int rc = check(text, &err);

	ok(rc == ZD_EINVAL, "refused: %s", what);
	if (rc != ZD_EINVAL)
		return;
	if (line > 0) {
		snprintf(prefix, sizeof prefix, "line %u: ", line);
		ok(strncmp(err.msg, prefix, strlen(prefix)) == 0, "  on line %u: %s", line, err.msg);
	} else {
		ok(strncmp(err.msg, "line ", 5) == 0, "  \"line N: reason\": %s", err.msg);
	}
	if (want != NULL)
		ok(strstr(err.msg, want) != NULL, "  says '%s'", want);
}

static void accept(const char *text, const char *what)
{
	struct zd_err err;
	int rc = check(text, &err);

	ok(rc == 0, "accepted: %s", what);
	if (rc != 0)
		printf("#   %s\n", err.msg);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

/* every GOOD_DIR/<domain>.zone passes; every BAD_DIR/NNN-*.zone fails for
 * content-check-NNN.example.net */
static void fixtures(void)
{
	struct dirent *de;
	struct zd_err err;
	struct zone_info info;
	char path[ZD_PATH_MAX], domain[300], *buf;
	size_t len, ngood = 0, nbad = 0;
	DIR *dir;
	FILE *fp;
	int rc;

	dir = opendir(GOOD_DIR);
	ok(dir != NULL, "open %s (tests run from the repository root)", GOOD_DIR);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".zone"))
			continue;
		snprintf(domain, sizeof domain, "%.*s", (int)(strlen(de->d_name) - 5), de->d_name);
		path_join(path, sizeof path, GOOD_DIR, de->d_name);
		if (file_read_all(path, 0, &buf, &len, &err) < 0) {
			ok(0, "read %s", path);
			continue;
		}
		rc = zone_check(domain, buf, len, &info, &err);
		ok(rc == 0 && info.serial != 0 && info.nrr > 0, "good zone %s (%zu records)", domain,
		   info.nrr);
		if (rc != 0)
			printf("#   %s\n", err.msg);
		/* the same from a FILE, as the CGI and the drain read it */
		fp = fmemopen(buf, len, "r");
		rc = fp ? zone_check_fp(domain, fp, NULL, &err) : -1;
		ok(rc == 0, "  and through zone_check_fp");
		if (fp)
			fclose(fp);
		free(buf);
		ngood++;
	}
	closedir(dir);
	ok(ngood >= 41, "at least the 41 corpus zones (%zu)", ngood);

	dir = opendir(BAD_DIR);
	ok(dir != NULL, "open %s", BAD_DIR);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".zone"))
			continue;
		snprintf(domain, sizeof domain, "content-check-%.3s.example.net", de->d_name);
		path_join(path, sizeof path, BAD_DIR, de->d_name);
		if (file_read_all(path, 0, &buf, &len, &err) < 0) {
			ok(0, "read %s", path);
			continue;
		}
		zd_err_clear(&err);
		rc = zone_check(domain, buf, len, NULL, &err);
		ok(rc == ZD_EINVAL && strncmp(err.msg, "line ", 5) == 0, "bad zone %s: %s",
		   de->d_name, err.msg);
		ok(strchr(err.msg, '\n') == NULL, "  message is one safe line");
		free(buf);
		nbad++;
	}
	closedir(dir);
	ok(nbad >= 27, "at least the corpus's bad zones (%zu)", nbad);
}

int main(void)
{
	struct zd_err err;
	struct zone_info info;
	char *big;
	FILE *fp;
	size_t i;

	fixtures();

	/* the minimal zone and what zone_info says */
	is_int(zone_check(D, HEAD, strlen(HEAD), &info, &err), 0, "minimal zone");
	is_int(info.serial, 2026010101, "serial");
	is_int(info.refresh, 3600, "refresh");
	is_int(info.retry, 600, "retry");
	is_int(info.expire, 86400, "expire");
	is_int(info.minimum, 300, "minimum");
	is_int((long long)info.nrr, 2, "two records");
	is_int(zone_check(D, HEAD, strlen(HEAD), NULL, &err), 0, "info may be NULL");

	/* the zone name itself */
	is_int(zone_check("EXAMPLE.net", HEAD, strlen(HEAD), NULL, &err), ZD_EINVAL,
	       "upper-case domain refused");
	is_int(zone_check("example.net.", HEAD, strlen(HEAD), NULL, &err), ZD_EINVAL,
	       "trailing dot refused");
	is_int(zone_check("../x.net", HEAD, strlen(HEAD), NULL, &err), ZD_EINVAL,
	       "path refused");

	/* forms DirectAdmin and hand-edited zones use */
	accept("\n\n\n" HEAD "\n\nwww\t3600\tIN\tA\t192.0.2.1\n\n\n", "blank lines around");
	accept("$TTL 3600\r\n@ IN SOA ns1.example.org. hostmaster (\r\n 1 2 3 4 5 )\r\n"
	       "@ IN NS ns1.example.org.\r\n", "CRLF line ends");
	accept(HEAD "www IN A 192.0.2.1", "no final newline");
	accept(HEAD "WWW IN A 192.0.2.1\nMail.Example.NET. IN A 192.0.2.2\n", "upper-case owners");
	accept("$ORIGIN example.net.\n" HEAD, "$ORIGIN at the apex");
	accept(HEAD "$ORIGIN sub.example.net.\nwww IN A 192.0.2.1\n", "$ORIGIN below the apex");
	accept(HEAD "$ORIGIN sub\nwww IN A 192.0.2.1\n", "relative $ORIGIN below the apex");
	accept(HEAD "$origin sub.example.net.\nwww IN A 192.0.2.1\n", "$origin in lower case");
	accept(HEAD "www A 192.0.2.1\n", "no TTL, no class");
	accept(HEAD "www 300 A 192.0.2.1\n", "TTL, no class");
	accept(HEAD "www IN 300 A 192.0.2.1\n", "class before TTL");
	accept(HEAD "www CLASS1 300 A 192.0.2.1\n", "CLASS1 is IN");
	accept(HEAD "www 1h30m IN A 192.0.2.1\n", "TTL with units");
	accept(HEAD "www 2147483647 IN A 192.0.2.1\n", "TTL 2^31-1");
	accept(HEAD "www 0 IN A 192.0.2.1\n", "TTL 0");
	accept("$TTL 1w\n" HEAD, "$TTL 1w");
	accept("$TTL 2147483647\n" HEAD, "$TTL 2^31-1");
	accept(HEAD "www IN A 192.0.2.1\n    IN AAAA 2001:db8::1\n\tIN TXT \"same owner\"\n",
	       "blank owners continue the previous one");
	accept(HEAD "* IN A 192.0.2.1\n*.sub IN A 192.0.2.1\n", "wildcards");
	accept(HEAD "txt IN TXT \"a;b\" \"(c)\" \"d\\\"e\" f\\;g ; a comment\n",
	       "quoted and escaped specials");
	accept(HEAD "txt IN TXT ( \"one\"\n  \"two\" ; comment inside\n  \"three\" )\n",
	       "multi-line record with comments");
	accept(HEAD "; caf\xe9 in Latin-1, caf\xc3\xa9 in UTF-8\n", "high bytes in comments");
	accept(HEAD "unk IN TYPE65534 \\# 3 abcdef\n", "RFC 3597 unknown type");
	accept(HEAD "a2 IN TYPE1 \\# 4 c0000201\n", "RFC 3597 form of a known type");
	accept(HEAD "alias IN CNAME www\nwww IN A 192.0.2.1\n", "CNAME elsewhere");
	accept(HEAD "alias IN CNAME www\nalias IN CNAME www.example.net.\n",
	       "the same CNAME twice is one record");
	accept(HEAD "alias IN CNAME www\nalias IN RRSIG CNAME 13 3 3600 20491231000000 "
	       "20250101000000 26097 example.net. AAAA\nalias IN NSEC zz.example.net. CNAME RRSIG NSEC\n",
	       "RRSIG and NSEC beside a CNAME");
	accept(HEAD "xn--bcher-kva IN A 192.0.2.1\n", "IDN owner");
	accept(HEAD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa IN A 192.0.2.1\n",
	       "63-character label");
	accept(HEAD "@ IN MX 10 mail\nmail IN A 192.0.2.1\n_sip._tcp IN SRV 0 5 5060 sip\n"
	       "@ IN CAA 0 issue \"letsencrypt.org\"\n", "MX, SRV, CAA");

	/* bytes */
	refuse(HEAD "www IN A 192.0.2.1\x01\n", 4, "control character", "0x01");
	refuse(HEAD "; comment \x7f\n", 4, "control character", "DEL in a comment");
	{
		static const char nul[] = HEAD "w\0w IN A 192.0.2.1\n";
		is_int(zone_check(D, nul, sizeof nul - 1, NULL, &err), ZD_EINVAL, "NUL refused");
		ok(strstr(err.msg, "line 4: control character 0x00") != NULL, "  %s", err.msg);
	}
	refuse("\x1b[31m\n", 1, "control character", "escape sequence");
	refuse("", 1, "no records", "empty text");
	refuse("\n\n; only a comment\n$TTL 300\n", 0, "no records", "comments and $TTL only");

	/* directives */
	refuse(HEAD "$INCLUDE /etc/passwd\n", 4, "$INCLUDE", "$INCLUDE");
	refuse(HEAD "$include /etc/passwd\n", 4, "$INCLUDE", "$include");
	refuse(HEAD "$InClUdE x\n", 4, "$INCLUDE", "$InClUdE");
	refuse(HEAD "  $INCLUDE x\n", 4, "$INCLUDE", "indented $INCLUDE");
	refuse(HEAD "$GENERATE 1-10 h$ A 192.0.2.$\n", 4, "$GENERATE", "$GENERATE");
	refuse(HEAD "$generate 1-10 h$ A 192.0.2.$\n", 4, "$GENERATE", "$generate");
	refuse(HEAD "$FOO bar\n", 4, "unknown directive", "unknown directive");
	refuse("$TTL -1\n" HEAD, 1, "$TTL", "$TTL -1");
	refuse("$TTL\n" HEAD, 1, "$TTL", "$TTL without value");
	refuse("$TTL 1h x\n" HEAD, 1, "$TTL", "$TTL with extra text");
	refuse("$TTL 2147483648\n" HEAD, 1, "$TTL", "$TTL 2^31");
	refuse("$TTL 4294967296\n" HEAD, 1, "$TTL", "$TTL 2^32 (would wrap)");
	refuse("$TTL 99999999999\n" HEAD, 1, "$TTL", "$TTL 11 digits");
	refuse("$TTL 3600x\n" HEAD, 1, "$TTL", "$TTL with a bad unit");
	refuse("$TTL h\n" HEAD, 1, "$TTL", "$TTL unit without number");
	refuse(HEAD "$ORIGIN victim.example.\nwww IN A 192.0.2.1\n", 4, "outside", "$ORIGIN elsewhere");
	refuse(HEAD "$ORIGIN .\ncom IN NS ns.evil.\n", 4, "outside", "$ORIGIN .");
	refuse(HEAD "$ORIGIN net.\n", 4, "outside", "$ORIGIN parent");
	refuse(HEAD "$ORIGIN xexample.net.\n", 4, "outside", "$ORIGIN string suffix");
	refuse(HEAD "$ORIGIN\n", 4, "$ORIGIN", "$ORIGIN without name");
	refuse(HEAD "$ORIGIN a.example.net. b\n", 4, "$ORIGIN", "$ORIGIN with extra text");

	/* owners */
	refuse(HEAD "www.victim.example. IN A 192.0.2.1\n", 4, "outside", "absolute owner elsewhere");
	refuse(HEAD "net. IN A 192.0.2.1\n", 4, "outside", "parent owner");
	refuse(HEAD "xexample.net. IN A 192.0.2.1\n", 4, "outside", "string suffix, not label-wise");
	refuse(HEAD "@foo IN A 192.0.2.1\n", 4, "owner", "owner starting with @");

	/* SOA */
	refuse("$TTL 300\n@ IN NS ns1.example.org.\n", 0, "no SOA", "no SOA");
	refuse(HEAD "@ IN SOA ns1.example.org. h 2 3 4 5 6\n", 4, "second SOA", "two SOA");
	refuse("$TTL 300\nsub IN SOA ns1.example.org. h 2 3 4 5 6\n@ IN NS ns1.example.org.\n", 2,
	       "SOA", "SOA below the apex");
	refuse("$TTL 300\n@ IN SOA ns1.example.org. h ( today 3 4 5 6 )\n@ IN NS ns.example.org.\n",
	       2, "SOA", "bad serial");
	refuse("$TTL 300\n@ IN SOA ns1.example.org. h 1 2 3 4 5\n", 0, "NS", "no NS at the apex");
	refuse("$TTL 300\n@ IN SOA ns1.example.org. h 1 2 3 4 5\nsub IN NS ns1.example.org.\n", 0,
	       "NS", "NS only below the apex");

	/* classes, types, TTLs */
	refuse(HEAD "www CH A 192.0.2.1\n", 4, "class", "class CH");
	refuse(HEAD "www HS 300 A 192.0.2.1\n", 4, "class", "class HS");
	refuse(HEAD "www CLASS3 A 192.0.2.1\n", 4, "class", "CLASS3");
	refuse(HEAD "www ANY A 192.0.2.1\n", 4, "class", "class ANY");
	refuse(HEAD "www IN IN A 192.0.2.1\n", 4, "two classes", "two classes");
	refuse(HEAD "www 300 300 A 192.0.2.1\n", 4, "two TTLs", "two TTLs");
	refuse(HEAD "www 2147483648 IN A 192.0.2.1\n", 4, "TTL", "TTL 2^31");
	refuse(HEAD "www 4294967297 IN A 192.0.2.1\n", 4, "TTL", "TTL past 2^32 (would wrap)");
	refuse(HEAD "www 3600q IN A 192.0.2.1\n", 4, "TTL", "TTL with a bad unit");
	refuse(HEAD "www IN FROBNICATE x\n", 4, "unknown record type", "unknown type");
	refuse(HEAD "www IN TYPE65536 \\# 0\n", 4, "unknown record type", "TYPE65536");
	refuse(HEAD "www IN TYPE0 \\# 0\n", 4, "unknown record type", "TYPE0");
	refuse(HEAD "www IN TYPE1x \\# 0\n", 4, "unknown record type", "TYPE1x");
	refuse(HEAD "www IN AXFR\n", 4, "unknown record type", "AXFR");
	refuse(HEAD "www IN ANY x\n", 0, NULL, "ANY");
	refuse(HEAD "www IN OPT \\# 0\n", 4, "unknown record type", "OPT");
	refuse(HEAD "www IN TYPE65534 abc\n", 4, NULL, "unknown type without \\#");
	refuse(HEAD "www IN\n", 4, "type", "no type");
	refuse(HEAD "www\n", 4, "type", "owner only");
	refuse(HEAD "www IN A 999.1.1.1\n", 4, "A record", "bad IPv4");
	refuse(HEAD "www IN A 192.0.2.1 extra\n", 4, NULL, "superfluous text");
	refuse(HEAD "www IN MX 10\n", 4, NULL, "missing field");

	/* CNAME */
	refuse(HEAD "@ IN CNAME elsewhere.example.org.\n", 4, "apex", "CNAME at the apex");
	refuse(HEAD "shop IN CNAME www\nshop IN A 192.0.2.45\n", 5, "CNAME and other data",
	       "CNAME beside A");
	refuse(HEAD "shop IN A 192.0.2.45\nshop IN CNAME www\n", 5, "CNAME and other data",
	       "A then CNAME");
	refuse(HEAD "Shop IN CNAME www\nshop IN MX 10 mail\n", 5, "CNAME and other data",
	       "beside other data, case-insensitively");
	refuse(HEAD "alias IN CNAME www\nalias IN CNAME mail\n", 5, "more than one CNAME",
	       "two CNAMEs");

	/* lexer: parentheses, quotes, escapes, sizes */
	refuse(HEAD "txt IN TXT ( \"never closed\"\nwww IN A 192.0.2.1\n", 4, "parenthesis",
	       "unclosed parenthesis");
	refuse(HEAD "txt IN TXT \"never closed\nwww IN A 192.0.2.1\n", 4, "quoted",
	       "unterminated quote");
	refuse(HEAD "txt IN TXT \"never closed", 4, "quoted", "unterminated quote at the end");
	refuse(HEAD "txt IN TXT \"x\" )\n", 4, "')'", "')' without '('");
	refuse(HEAD "txt IN TXT x\\\nwww IN A 192.0.2.1\n", 4, "backslash", "backslash newline");
	refuse(HEAD "txt IN TXT x\\", 4, "backslash", "backslash at the end");
	big = malloc(300);
	memset(big, 'L', 299);
	big[299] = '\0';
	{
		char *z = malloc(strlen(HEAD) + 400);
		sprintf(z, HEAD "long IN TXT \"%.256s\"\n", big);
		refuse(z, 4, "TXT", "TXT string of 256");
		sprintf(z, HEAD "long IN TXT \"%.255s\"\n", big);
		accept(z, "TXT string of 255");
		free(z);
	}
	free(big);
	big = malloc(strlen(HEAD) + 70100);
	strcpy(big, HEAD);
	i = strlen(big);
	memset(big + i, 'x', 70000);
	strcpy(big + i + 70000, " IN A 192.0.2.1\n");
	refuse(big, 4, "longer than", "70000-byte owner");
	free(big);
	refuse(HEAD "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa IN A 192.0.2.1\n",
	       4, NULL, "64-character label");

	/* line numbers point at where an entry starts */
	refuse("$TTL 300\n\n; c\n@ IN SOA ns1.example.org. h (\n 1\n 2\n 3\n 4\n 5 )\n"
	       "@ IN NS ns1.example.org.\n\n\nbad IN A x\n", 13, NULL, "line after a multi-line SOA");
	refuse("$TTL 300\r\n@ IN SOA ns1.example.org. h 1 2 3 4 5\r\n@ IN NS n.example.org.\r\n"
	       "bad IN A x\r\n", 4, NULL, "line numbers with CRLF");

	/* zone_check_fp reads the same */
	fp = fmemopen((void *)(HEAD "$INCLUDE x\n"), strlen(HEAD "$INCLUDE x\n"), "r");
	is_int(zone_check_fp(D, fp, NULL, &err), ZD_EINVAL, "fp: $INCLUDE refused");
	fclose(fp);
	fp = fmemopen((void *)HEAD, strlen(HEAD), "r");
	is_int(zone_check_fp(D, fp, &info, &err), 0, "fp: good zone");
	is_int(info.serial, 2026010101, "fp: serial");
	fclose(fp);

	/* RFC 1982 */
	is_int(serial_cmp(2, 1), 1, "2 newer than 1");
	is_int(serial_cmp(1, 2), -1, "1 older than 2");
	is_int(serial_cmp(5, 5), 0, "equal");
	is_int(serial_cmp(0, 0xffffffffU), 1, "0 newer than 2^32-1 (wrap)");
	is_int(serial_cmp(0xffffffffU, 0), -1, "2^32-1 older than 0");
	is_int(serial_cmp(0x80000000U, 0), 0, "2^31 apart is undefined");
	is_int(serial_cmp(0x7fffffffU, 0), 1, "2^31-1 apart is newer");
	return tap_done();
}
