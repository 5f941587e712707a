/* test_refresh.c -- due times, serial arithmetic, zones_file parsing and editing */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/refresh.h"
#include "zonedrop/secondary.h"
#include "zonedrop/util.h"
#include "zonedrop/zone.h"

static int nmsg;
static char lastmsg[512];

static void collect(const char *msg, void *arg)
{
	(void)arg;
	nmsg++;
	str_copy(lastmsg, msg, sizeof lastmsg);
}

static void parse(const char *text, struct secondary_list *l)
{
	nmsg = 0;
	lastmsg[0] = '\0';
	if (secondary_parse(text, strlen(text), l, collect, NULL) != 0)
		abort();
}

int main(void)
{
	struct secondary_list l;
	char host[64], path[] = "/tmp/zd-test-refresh.XXXXXX", *buf = NULL;
	int port, fd;
	size_t len;
	struct secondary_entry e;
	struct zd_err err;

	/* timers: clamp */
	is_int(refresh_clamp(3600, 60000, 86400000), 3600, "refresh inside the clamp");
	is_int(refresh_clamp(5, 60000, 86400000), 60, "refresh below refresh_min");
	is_int(refresh_clamp(4000000000u, 60000, 86400000), 86400, "refresh above refresh_max");
	is_int(refresh_clamp(0, 1000, 1000), 1, "1s minimum");
	is_int(refresh_next_ok(1000, 3600, 60000, 86400000), 4600, "due after refresh");
	is_int(refresh_next_fail(1000, 1, 600, 3, 60000, 86400000), 1600, "retry with a SOA held");
	is_int(refresh_next_fail(1000, 0, 0, 1, 60000, 86400000), 1060, "new zone: refresh_min");
	is_int(refresh_next_fail(1000, 0, 0, 3, 60000, 86400000), 1240, "new zone: doubled per failure");
	is_int(refresh_next_fail(1000, 0, 0, 30, 60000, 86400000), 4600, "new zone: at most 1 h");
	is_int(refresh_next_fail(1000, 0, 0, 30, 60000, 600000), 1600, "new zone: at most refresh_max");
	is_int(refresh_master_backoff(0, 1, 1000, 3600000), 1, "master backoff 1");
	is_int(refresh_master_backoff(0, 4, 1000, 3600000), 8, "master backoff doubles");
	is_int(refresh_master_backoff(0, 40, 1000, 3600000), 3600, "master backoff capped");

	/* serial arithmetic (RFC 1982) */
	ok(refresh_serial_wanted(0, 0, 5), "nothing held: transfer");
	ok(refresh_serial_wanted(1, 1, 2), "newer: transfer");
	ok(!refresh_serial_wanted(1, 2, 2), "equal: no transfer");
	ok(!refresh_serial_wanted(1, 3, 2), "older: no transfer");
	ok(refresh_serial_wanted(1, 4294967295u, 1), "wrap: 1 is newer than 2^32-1");
	ok(!refresh_serial_wanted(1, 1, 4294967295u), "wrap: 2^32-1 is older than 1");
	ok(!refresh_serial_wanted(1, 0, 2147483648u), "2^31 apart: undefined, no transfer");
	ok(refresh_serial_wanted(1, 0, 2147483647u), "2^31-1 ahead: newer");

	/* master addresses */
	ok(secondary_master_parse("192.0.2.1", host, sizeof host, &port) == 0 && port == 53 &&
	   strcmp(host, "192.0.2.1") == 0, "IPv4, default port");
	ok(secondary_master_parse("192.0.2.1:5353", host, sizeof host, &port) == 0 && port == 5353,
	   "IPv4 with port");
	ok(secondary_master_parse("2001:db8::1", host, sizeof host, &port) == 0 && port == 53 &&
	   strcmp(host, "2001:db8::1") == 0, "bare IPv6");
	ok(secondary_master_parse("[2001:db8::1]:54", host, sizeof host, &port) == 0 && port == 54,
	   "bracketed IPv6 with port");
	ok(secondary_master_parse("ns1.example.net", host, sizeof host, &port) != 0, "names refused");
	ok(secondary_master_parse("192.0.2.1:0", host, sizeof host, &port) != 0, "port 0 refused");
	ok(secondary_master_parse("192.0.2.1:65536", host, sizeof host, &port) != 0, "port too big");
	ok(secondary_master_parse("[192.0.2.1]:53", host, sizeof host, &port) != 0, "brackets only for v6");
	ok(secondary_master_parse("", host, sizeof host, &port) != 0, "empty refused");

	/* zones_file */
	parse("# comment\n\nexample.com 192.0.2.1\n  Example.NET. 192.0.2.2:5300 xfr-key # why\n", &l);
	is_int(l.n, 2, "two entries");
	is_int(l.errors, 0, "no errors");
	is_str(l.e[1].domain, "example.net", "folded, trailing dot dropped");
	is_int(l.e[1].port, 5300, "port");
	is_str(l.e[1].key, "xfr-key", "key");
	is_int(l.e[1].line, 4, "line number");
	secondary_list_free(&l);
	parse("example.com 192.0.2.1\nexample.com 192.0.2.9\nbad_name.com 192.0.2.1\n"
	      "x.com\nx.com 1.2.3.4 k extra\nok.com 192.0.2.1 bad/key\nlast.com 192.0.2.3", &l);
	is_int(l.n, 2, "good lines kept (first and last)");
	is_int(l.errors, 5, "five refused");
	is_int(nmsg, 5, "one message each");
	ok(strstr(lastmsg, "line 6: tsig key name") != NULL, "message names the line: %s", lastmsg);
	secondary_list_free(&l);
	parse("", &l);
	is_int(l.n + l.errors, 0, "empty file");
	secondary_list_free(&l);
	parse("a.com 192.0.2.1\0b.com 192.0.2.1\n", &l);   /* strlen stops at NUL */
	is_int(l.n, 1, "NUL ends the text given");
	secondary_list_free(&l);

	/* editing */
	fd = mkstemp(path);
	ok(fd >= 0, "temp file");
	if (write(fd, "# keep me\nold.com 192.0.2.1\n", 28) != 28)
		abort();
	close(fd);
	memset(&e, 0, sizeof e);
	str_copy(e.domain, "new.com", sizeof e.domain);
	str_copy(e.host, "2001:db8::2", sizeof e.host);
	e.port = 5353;
	is_int(secondary_file_add(path, &e, 0, &err), 0, "add");
	is_int(secondary_file_add(path, &e, 0, &err), ZD_EEXIST, "add twice refused");
	str_copy(e.domain, "old.com", sizeof e.domain);
	is_int(secondary_file_add(path, &e, 1, &err), 0, "replace");
	is_int(secondary_file_del(path, "nope.com", &err), ZD_ENOENT, "del of an unlisted zone");
	is_int(secondary_file_del(path, "new.com", &err), 0, "del");
	ok(file_read_all(path, 0, &buf, &len, &err) == 0, "read back");
	is_str(buf, "# keep me\nold.com [2001:db8::2]:5353\n", "comments kept, line replaced");
	free(buf);
	unlink(path);
	return tap_done();
}
