/* test_spool.c -- spool names, item parsing at its edges, delivery, listing order, lock */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/spool.h"
#include "zonedrop/util.h"

static char dir[] = "/tmp/zd-test-spool.XXXXXX";

static const char good_hdr[] =
	"Action: rawsave\n"
	"Domain: example.com\n"
	"Hostname: da1.example.net\n"
	"Username: alice\n"
	"Source: directadmin\n"
	"Client-Ip: 203.0.113.7\n"
	"Received: 2026-11-23T01:02:03.456789Z\n"
	"\n";
static const char zone_body[] = "$TTL 3600\nexample.com. IN SOA ns1 host 1 2 3 4 5\n";

static int parse_str(const char *s, struct spool_item *it, struct zd_err *err)
{
	return spool_item_parse(s, strlen(s), it, err);
}

/* good_hdr with one line replaced (or removed when repl is ""). */
static int parse_with(const char *find, const char *repl, const char *body, struct zd_err *err)
{
	char buf[16384];
	struct spool_item it;
	const char *p = strstr(good_hdr, find);
	int rc;

	if (p == NULL)
		return -99999;
	snprintf(buf, sizeof buf, "%.*s%s%s%s", (int)(p - good_hdr), good_hdr, repl,
	         p + strlen(find), body);
	rc = parse_str(buf, &it, err);
	spool_item_clear(&it);
	return rc;
}

static void touch(const char *sub, const char *name, const char *content)
{
	char path[ZD_PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
	fp = fopen(path, "w");
	if (fp) {
		fputs(content, fp);
		fclose(fp);
	}
}

static int exists(const char *sub, const char *name)
{
	char path[ZD_PATH_MAX];

	snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
	return access(path, F_OK) == 0;
}

static void test_names(void)
{
	char name[SPOOL_NAME_MAX], name2[SPOOL_NAME_MAX], longname[400];
	int64_t sec, s2;
	long usec, u2, pid, counter;
	const char *host;
	char *v[6];

	is_int(spool_name_new(name, sizeof name, &sec, &usec), 0, "name_new");
	is_int(spool_name_parse(name, &s2, &u2, &pid, &counter), 0, "own name parses: %s", name);
	ok(s2 == sec && u2 == usec && pid == (long)getpid() && counter >= 1, "time, pid, counter round trip");
	host = strrchr(name, '.');
	ok(host && strchr(host + 1, '/') == NULL && host[1] != '\0', "host part present, no '/'");
	ok(strchr(name, '_') != NULL && strlen(strchr(name, '.') + 1) > 7 &&
	   strchr(name, '.')[7] == '.', "usec zero-padded to 6 digits");
	is_int(spool_name_new(name2, sizeof name2, NULL, NULL), 0, "second name");
	ok(strcmp(name, name2) != 0, "names differ within one process");
	ok(spool_name_cmp(&(char *){ name }, &(char *){ name2 }) < 0, "second sorts after first");
	is_int(spool_name_new(name2, 12, NULL, NULL), ZD_ENAMETOOLONG, "too small buffer refused");

	is_int(spool_name_parse("1732323723.456789.4242_1.ns1", &s2, &u2, &pid, &counter), 0,
	       "DESIGN example parses");
	ok(s2 == 1732323723 && u2 == 456789 && pid == 4242 && counter == 1, "fields of the example");
	is_int(spool_name_parse("1732323723.45678.4242_1.ns1", NULL, NULL, NULL, NULL), ZD_EINVAL,
	       "5-digit usec refused");
	is_int(spool_name_parse("1732323723.4567890.4242_1.ns1", NULL, NULL, NULL, NULL), ZD_EINVAL,
	       "7-digit usec refused");
	is_int(spool_name_parse("1732323723.456789.4242.ns1", NULL, NULL, NULL, NULL), ZD_EINVAL,
	       "no counter refused");
	is_int(spool_name_parse("1732323723.456789.4242_1.", NULL, NULL, NULL, NULL), ZD_EINVAL,
	       "empty host refused");
	is_int(spool_name_parse("1732323723.456789.4242_1.ns1.why", NULL, NULL, NULL, NULL),
	       ZD_EINVAL, "a .why note is not an item name");
	is_int(spool_name_parse("1732323723.456789.4242_1.a/b", NULL, NULL, NULL, NULL), ZD_EINVAL,
	       "'/' in host refused");
	is_int(spool_name_parse("", NULL, NULL, NULL, NULL), ZD_EINVAL, "empty refused");
	is_int(spool_name_parse("x1.000000.1_1.h", NULL, NULL, NULL, NULL), ZD_EINVAL,
	       "leading garbage refused");
	/* a name of exactly SPOOL_NAME_MAX-1 bytes is the longest accepted */
	memset(longname, 'h', sizeof longname);
	memcpy(longname, "1.000000.1_1.", 13);
	longname[SPOOL_NAME_MAX - 1] = '\0';
	is_int(spool_name_parse(longname, NULL, NULL, NULL, NULL), 0, "name of %d bytes accepted",
	       SPOOL_NAME_MAX - 1);
	longname[SPOOL_NAME_MAX - 1] = 'h';
	longname[SPOOL_NAME_MAX] = '\0';
	is_int(spool_name_parse(longname, NULL, NULL, NULL, NULL), ZD_EINVAL,
	       "name of %d bytes refused", SPOOL_NAME_MAX);

	/* arrival order: numeric seconds (9 < 10), then usec, then pid/counter, foreign last */
	v[0] = "foreign-file";
	v[1] = "10.000000.5_1.h";
	v[2] = "9.999999.7_1.h";
	v[3] = "10.000000.5_2.h";
	v[4] = "10.000001.1_1.h";
	v[5] = "10.000000.4_9.h";
	qsort(v, 6, sizeof v[0], spool_name_cmp);
	is_str(v[0], "9.999999.7_1.h", "across a second boundary: 9.999999 first");
	is_str(v[1], "10.000000.4_9.h", "same time: lower pid first");
	is_str(v[2], "10.000000.5_1.h", "same pid: counter 1");
	is_str(v[3], "10.000000.5_2.h", "then counter 2");
	is_str(v[4], "10.000001.1_1.h", "then the next microsecond");
	is_str(v[5], "foreign-file", "unparsable names last");
}

static void test_parse(void)
{
	struct spool_item it;
	struct zd_err err;
	char buf[SPOOL_HEADER_MAX + 512], hdr[SPOOL_HEADER_MAX + 1];
	size_t len, i;

	snprintf(buf, sizeof buf, "%s%s", good_hdr, zone_body);
	is_int(parse_str(buf, &it, &err), 0, "a full item parses");
	ok(it.action == SPOOL_RAWSAVE, "action rawsave");
	is_str(it.domain, "example.com", "domain");
	is_str(it.hostname, "da1.example.net", "hostname");
	is_str(it.username, "alice", "username");
	is_str(it.source, "directadmin", "source");
	is_str(it.client_ip, "203.0.113.7", "client ip");
	is_str(it.received, "2026-11-23T01:02:03.456789Z", "received");
	is_str(it.changed, "", "changed absent");
	ok(it.text && it.text_len == strlen(zone_body) && strcmp(it.text, zone_body) == 0, "body copied");
	/* round trip through the formatter */
	is_int(spool_header_format(&it, hdr, sizeof hdr, &len), 0, "format");
	is_str(hdr, good_hdr, "format reproduces the header byte for byte");
	is_int(spool_header_format(&it, hdr, 40, &len), ZD_ENAMETOOLONG, "format into a small buffer");
	spool_item_clear(&it);
	ok(it.text == NULL, "clear frees the text");

	/* not NUL-terminated input: parse must stay inside len */
	snprintf(buf, sizeof buf, "%s%sXXXX", good_hdr, zone_body);
	is_int(spool_item_parse(buf, strlen(good_hdr) + strlen(zone_body), &it, &err), 0,
	       "parse honours len");
	ok(it.text_len == strlen(zone_body), "body ends at len");
	spool_item_clear(&it);

	is_int(parse_with("Action: rawsave\n", "Action: delete\n", "", &err), 0,
	       "delete with an empty body");
	snprintf(buf, sizeof buf, "%s", good_hdr);
	is_int(parse_str(buf, &it, &err), ZD_EINVAL, "rawsave with an empty body refused");
	ok(strstr(err.msg, "no zone text") != NULL, "says why: %s", err.msg);
	is_int(parse_with("Action: rawsave\n", "Action: delete\n", "ignored body\n", &err), 0,
	       "delete ignores a body");
	is_int(parse_with("Action: rawsave\n", "Action: DELETE\n", "", &err), ZD_EINVAL,
	       "action is case-sensitive");
	is_int(parse_with("Action: rawsave\n", "Action: rawsave-and-more-than-16-bytes\n", zone_body,
	                  &err), ZD_EINVAL, "long action refused");

	/* truncated: the header stops mid-line, or before the blank line */
	len = strlen(good_hdr);
	for (i = 0; i < len; i++)
		if (spool_item_parse(good_hdr, i, &it, &err) == 0)
			break;
	ok(i == len, "every truncation of the header is refused (stopped at %zu of %zu)", i, len);
	is_int(spool_item_parse(good_hdr, 0, &it, &err), ZD_EINVAL, "empty input refused");
	is_int(spool_item_parse("Action: rawsave", 15, &it, &err), ZD_EINVAL, "no newline refused");
	ok(strstr(err.msg, "truncated") != NULL, "truncation named: %s", err.msg);
	is_int(parse_str("Action: delete\nDomain: example.com\nSource: cli\n"
	                 "Received: 2026-11-23T01:02:03Z\n", &it, &err), ZD_EINVAL,
	       "missing blank line refused");
	ok(strstr(err.msg, "blank line") != NULL, "says so: %s", err.msg);
	is_int(parse_str("Action: delete\nDomain: example.com\nSource: cli\n"
	                 "Received: 2026-11-23T01:02:03Z\n\n", &it, &err), 0,
	       "minimal delete (no Hostname/Username/Client-Ip)");
	ok(it.text == NULL && it.hostname[0] == '\0', "delete: no text, empty owner");

	is_int(parse_with("Username: alice\n", "Username: alice\nX-Extra: 1\n", zone_body, &err),
	       ZD_EINVAL, "unknown header refused");
	ok(strstr(err.msg, "X-Extra") != NULL, "names it: %s", err.msg);
	is_int(parse_with("Username: alice\n", "username: alice\n", zone_body, &err), ZD_EINVAL,
	       "header names are case-sensitive");
	is_int(parse_with("Username: alice\n", "Username: alice\nUsername: bob\n", zone_body, &err),
	       ZD_EINVAL, "duplicate header refused");
	ok(strstr(err.msg, "twice") != NULL, "says twice: %s", err.msg);
	is_int(parse_with("Domain: example.com\n", "Domain: example.com\r\n", zone_body, &err),
	       ZD_EINVAL, "CRLF in a header refused");
	is_int(parse_with("Z\n\n", "Z\n\r\n", zone_body, &err), ZD_EINVAL,
	       "CRLF blank line refused");
	is_int(parse_with("Username: alice\n", "Username: al\tice\n", zone_body, &err), ZD_EINVAL,
	       "tab in a value refused");
	is_int(parse_with("Hostname: da1.example.net\n", "Hostname: da1.example.net\x7f\n", zone_body,
	                  &err), ZD_EINVAL, "DEL in a value refused");
	is_int(parse_with("Hostname: da1.example.net\n", "Hostname: da1.\xc3\xa9xample.net\n",
	                  zone_body, &err), ZD_EINVAL, "8-bit byte in a value refused");
	is_int(parse_with("Hostname: da1.example.net\n", "Hostname:\n", zone_body, &err), 0,
	       "empty value without a space");
	is_int(parse_with("Hostname: da1.example.net\n", "Hostname: \n", zone_body, &err), 0,
	       "empty value with a space");
	is_int(parse_with("Hostname: da1.example.net\n", "Hostname:da1.example.net\n", zone_body,
	                  &err), ZD_EINVAL, "no space after ':' refused");
	is_int(parse_with("Hostname: da1.example.net\n", "Hostname da1.example.net\n", zone_body,
	                  &err), ZD_EINVAL, "no ':' refused");
	is_int(parse_with("Domain: example.com\n", "", zone_body, &err), ZD_EINVAL,
	       "missing Domain refused");
	is_int(parse_with("Received: 2026-11-23T01:02:03.456789Z\n", "", zone_body, &err), ZD_EINVAL,
	       "missing Received refused");
	is_int(parse_with("Domain: example.com\n", "Domain: ../../etc/passwd\n", zone_body, &err),
	       ZD_EINVAL, "bad domain refused");
	is_int(parse_with("Domain: example.com\n", "Domain: Example.com\n", zone_body, &err),
	       ZD_EINVAL, "upper-case domain refused");
	is_int(parse_with("Domain: example.com\n", "Domain: example.com.\n", zone_body, &err),
	       ZD_EINVAL, "trailing dot refused");
	is_int(parse_with("Hostname: da1.example.net\n", "Hostname: da1 example\n", zone_body, &err),
	       ZD_EINVAL, "bad hostname refused");
	is_int(parse_with("Username: alice\n", "Username: al/ice\n", zone_body, &err), ZD_EINVAL,
	       "bad username refused");
	is_int(parse_with("Source: directadmin\n", "Source: mars\n", zone_body, &err), ZD_EINVAL,
	       "unknown source refused");
	is_int(parse_with("Source: directadmin\n", "Source: peer\n", zone_body, &err), 0,
	       "source peer accepted");
	is_int(parse_with("Client-Ip: 203.0.113.7\n", "Client-Ip: 2001:db8::1\n", zone_body, &err), 0,
	       "IPv6 client address accepted");
	is_int(parse_with("Client-Ip: 203.0.113.7\n", "Client-Ip: 1.2.3.4, 5.6.7.8\n", zone_body,
	                  &err), ZD_EINVAL, "address list refused");
	is_int(parse_with("Received: 2026-11-23T01:02:03.456789Z\n", "Received: yesterday\n",
	                  zone_body, &err), ZD_EINVAL, "bad Received refused");
	is_int(parse_with("Username: alice\n", "Username: alice\nChanged: 2026-01-02T03:04:05Z\n",
	                  zone_body, &err), 0, "Changed accepted");
	is_int(parse_with("Username: alice\n", "Username: alice\nChanged: 2026-13-02\n", zone_body,
	                  &err), ZD_EINVAL, "bad Changed refused");

	/* username at its limit of 64, and one over */
	{
		char line[128];
		memset(line, 0, sizeof line);
		memcpy(line, "Username: ", 10);
		memset(line + 10, 'u', 64);
		line[74] = '\n';
		is_int(parse_with("Username: alice\n", line, zone_body, &err), 0, "64-char username");
		line[74] = 'u';
		line[75] = '\n';
		is_int(parse_with("Username: alice\n", line, zone_body, &err), ZD_EINVAL,
		       "65-char username refused");
	}
	/* a domain of 253 characters is the longest accepted */
	{
		char line[400], d[260];
		memset(d, 0, sizeof d);
		for (i = 0; i < 253; i++)
			d[i] = (i % 64 == 63) ? '.' : 'a';
		d[252] = 'z';
		snprintf(line, sizeof line, "Domain: %s\n", d);
		is_int(parse_with("Domain: example.com\n", line, zone_body, &err), 0, "253-char domain");
		d[253] = 'z';
		snprintf(line, sizeof line, "Domain: %s\n", d);
		is_int(parse_with("Domain: example.com\n", line, zone_body, &err), ZD_EINVAL,
		       "254-char domain refused");
	}
	/* header block over SPOOL_HEADER_MAX */
	{
		char *big = malloc(SPOOL_HEADER_MAX * 2);
		size_t o = 0;
		o += (size_t)sprintf(big + o, "Action: rawsave\n");
		memcpy(big + o, "Client-Ip: ", 11);
		o += 11;
		memset(big + o, '1', SPOOL_HEADER_MAX);
		o += SPOOL_HEADER_MAX;
		big[o++] = '\n';
		big[o++] = '\n';
		is_int(spool_item_parse(big, o, &it, &err), ZD_E2BIG, "header over %d bytes refused",
		       SPOOL_HEADER_MAX);
		free(big);
	}
	/* a body may hold anything, including NUL: parse copies, zone_check judges */
	snprintf(buf, sizeof buf, "%sA\n", good_hdr);
	len = strlen(buf);
	buf[len - 1] = '\0';
	is_int(spool_item_parse(buf, len, &it, &err), 0, "NUL in body is the zone checker's job");
	ok(it.text_len == 2, "body length kept");
	spool_item_clear(&it);
	/* CRLF body kept as given */
	snprintf(buf, sizeof buf, "%sa\r\nb\r\n", good_hdr);
	is_int(parse_str(buf, &it, &err), 0, "CRLF body accepted as bytes");
	ok(it.text_len == 6, "body unchanged");
	spool_item_clear(&it);
}

static void test_deliver(void)
{
	struct spool_item it, back;
	struct spool_tmp t;
	struct zd_err err;
	struct stat sb;
	char **names = NULL;
	size_t n = 0;
	char path[ZD_PATH_MAX];

	memset(&it, 0, sizeof it);
	it.action = SPOOL_RAWSAVE;
	snprintf(it.domain, sizeof it.domain, "example.org");
	snprintf(it.source, sizeof it.source, "cli");
	it.text = (char *)zone_body;
	it.text_len = strlen(zone_body);
	is_int(spool_deliver(dir, &it, &err), 0, "deliver");
	ok(it.name[0] != '\0' && it.received[0] != '\0', "name and Received filled: %s", it.name);
	ok(exists("new", it.name) && !exists("tmp", it.name), "in new/, not in tmp/");
	snprintf(path, sizeof path, "%s/new/%s", dir, it.name);
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "mode 0640");
	is_int(spool_item_read(dir, "new", it.name, &back, &err), 0, "read back");
	is_str(back.domain, "example.org", "domain read back");
	is_str(back.source, "cli", "source read back");
	is_str(back.name, it.name, "name set by read");
	ok(back.sec == it.sec && back.usec == it.usec, "sec/usec from the name");
	ok(back.text_len == strlen(zone_body) && memcmp(back.text, zone_body, back.text_len) == 0,
	   "body read back");
	spool_item_clear(&back);

	/* invalid items never reach new/ */
	memset(&it, 0, sizeof it);
	it.action = SPOOL_RAWSAVE;
	snprintf(it.domain, sizeof it.domain, "example.org");
	snprintf(it.source, sizeof it.source, "cli");
	is_int(spool_deliver(dir, &it, &err), ZD_EINVAL, "rawsave without text refused");
	snprintf(it.domain, sizeof it.domain, "bad\nDomain: evil.com");
	it.text = (char *)zone_body;
	it.text_len = strlen(zone_body);
	it.name[0] = '\0';
	is_int(spool_deliver(dir, &it, &err), ZD_EINVAL, "header injection refused");
	it.action = SPOOL_DELETE;
	snprintf(it.domain, sizeof it.domain, "example.org");
	it.name[0] = '\0';
	it.text = NULL;
	it.text_len = 0;
	is_int(spool_deliver(dir, &it, &err), 0, "delete delivered");
	is_int(spool_count(dir, "tmp", &n, NULL, &err), 0, "count tmp");
	is_int(n, 0, "tmp/ is empty after refusals");
	is_int(spool_list(dir, "new", &names, &n, &err), 0, "list new");
	is_int(n, 2, "two items in new/");
	spool_names_free(names, n);

	/* streamed: abort leaves nothing */
	is_int(spool_tmp_open(&t, dir, &err), 0, "tmp open");
	is_int(spool_tmp_write(&t, "x", 1, &err), 0, "tmp write");
	spool_tmp_abort(&t);
	ok(!exists("tmp", t.name) && !exists("new", t.name), "abort removes the temp file");
	is_int(spool_tmp_open(&t, dir, &err), 0, "tmp open again");
	is_int(spool_tmp_write(&t, good_hdr, strlen(good_hdr), &err), 0, "header");
	is_int(spool_tmp_write(&t, zone_body, strlen(zone_body), &err), 0, "body");
	ok(exists("tmp", t.name), "visible in tmp/ while streaming");
	is_int(spool_tmp_commit(&t, &err), 0, "commit");
	ok(!exists("tmp", t.name) && exists("new", t.name), "committed into new/");
	is_int(spool_tmp_commit(&t, &err), ZD_EINVAL, "second commit refused");
	is_int(spool_tmp_open(&t, "/nonexistent/zd-spool", &err), ZD_EIO, "missing spool: error");
}

static void test_list_move(void)
{
	struct zd_err err;
	char **names = NULL, *buf = NULL, path[ZD_PATH_MAX];
	size_t n = 0, removed = 0, len;
	int64_t age = -1;
	struct timespec ts[2];

	touch("cur", "10.000000.5_1.h", "x");
	touch("cur", "9.999999.7_1.h", "x");
	touch("cur", ".hidden", "x");
	touch("cur", "1000000000.000000.3_3.h", "x");
	is_int(spool_list(dir, "cur", &names, &n, &err), 0, "list cur");
	is_int(n, 3, "dotfile skipped");
	if (n == 3) {
		is_str(names[0], "9.999999.7_1.h", "by seconds: 9 first");
		is_str(names[1], "10.000000.5_1.h", "numeric, not lexical: 10 after 9");
		is_str(names[2], "1000000000.000000.3_3.h", "then 1000000000");
	}
	spool_names_free(names, n);
	is_int(spool_list(dir, "nosuch", &names, &n, &err), ZD_ENOENT, "missing dir is ENOENT");
	ok(names == NULL && n == 0, "nothing returned");

	is_int(spool_count(dir, "cur", &n, &age, &err), 0, "count cur");
	is_int(n, 3, "three counted");
	ok(age >= (int64_t)time(NULL) - 9 - 5, "age from the oldest name: %lld", (long long)age);
	is_int(spool_count(dir, "bad", &n, &age, &err), 0, "count empty bad/");
	ok(n == 0 && age == 0, "empty: 0 items, age 0");

	is_int(spool_move(dir, "cur", "new", "10.000000.5_1.h", &err), 0, "move cur -> new");
	ok(exists("new", "10.000000.5_1.h") && !exists("cur", "10.000000.5_1.h"), "moved");
	is_int(spool_move(dir, "cur", "new", "10.000000.5_1.h", &err), ZD_ENOENT, "move of a gone item");
	is_int(spool_move(dir, "cur", "new", "../x", &err), ZD_EINVAL, "path in a name refused");
	is_int(spool_remove(dir, "new", "10.000000.5_1.h", &err), 0, "remove");
	is_int(spool_remove(dir, "new", "10.000000.5_1.h", &err), ZD_ENOENT, "remove twice: ENOENT");

	is_int(spool_reject(dir, "cur", "9.999999.7_1.h", "line 3: bad\nthing\x01", &err), 0, "reject");
	ok(exists("bad", "9.999999.7_1.h") && exists("bad", "9.999999.7_1.h.why"), "item and .why in bad/");
	snprintf(path, sizeof path, "%s/bad/9.999999.7_1.h.why", dir);
	is_int(file_read_all(path, 0, &buf, &len, &err), 0, "read .why");
	is_str(buf, "line 3: bad\\x0athing\\x01\n", "one escaped line");
	free(buf);
	is_int(spool_count(dir, "bad", &n, NULL, &err), 0, "count bad");
	is_int(n, 1, ".why notes are not counted as items");
	is_int(spool_list(dir, "bad", &names, &n, &err), 0, "list bad");
	ok(n == 1 && strcmp(names[0], "9.999999.7_1.h") == 0, "bad/ lists the item only");
	spool_names_free(names, n);

	/* tmp/ cleaning: old files go, fresh ones stay */
	touch("tmp", "old.item", "x");
	touch("tmp", "fresh.item", "x");
	snprintf(path, sizeof path, "%s/tmp/old.item", dir);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 40 * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, path, ts, 0);
	is_int(spool_clean_tmp(dir, 36 * 3600, &removed, &err), 0, "clean tmp");
	is_int(removed, 1, "one removed");
	ok(!exists("tmp", "old.item") && exists("tmp", "fresh.item"), "the old one");
	spool_remove(dir, "tmp", "fresh.item", &err);
}

static void test_lock(void)
{
	struct zd_err err;
	int fd = -1, fd2 = -1, status = 0;
	pid_t pid;

	is_int(spool_lock(dir, &fd, &err), 0, "lock");
	ok(fd >= 0, "lock fd");
	pid = fork();
	if (pid == 0) {
		int cfd, rc = spool_lock(dir, &cfd, NULL);
		_exit(rc == ZD_EBUSY ? 75 : rc == 0 ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid, "child ran");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 75, "child sees ZD_EBUSY while held");
	/* flock is per open file: a second open in this process contends too */
	is_int(spool_lock(dir, &fd2, &err), ZD_EBUSY, "second open in-process is busy");
	spool_unlock(fd);
	pid = fork();
	if (pid == 0) {
		int cfd, rc = spool_lock(dir, &cfd, NULL);
		_exit(rc == 0 ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "child gets the lock once released");
	is_int(spool_lock("/nonexistent/zd", &fd, &err), ZD_EIO, "lock in a missing dir: EIO");
}

int main(void)
{
	char path[ZD_PATH_MAX];
	struct zd_err err;
	char cmd[ZD_PATH_MAX + 16];

	umask(022);
	ok(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/tmp", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/new", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/cur", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/bad", dir);
	mkdir(path, 0700);
	(void)err;

	test_names();
	test_parse();
	test_deliver();
	test_list_move();
	test_lock();

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
