/* test_backend_mysql.c -- what the MySQL backends write, without a server:
 * zone text -> rows of the PowerDNS gmysql schema and of the CoreDNS
 * coredns_mysql_extend schema (PROTOCOL.md section 9), and SQL quoting.
 * (a real MariaDB and PowerDNS are in tests/e2e/82-mysql.bats) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "tap.h"
#include "zonedrop/backend_mysql.h"

static const char zone[] =
	"$TTL 3600\n"
	"@\tIN\tSOA\tNS1.Example.NET.\thostmaster.example.com. ( 2026010101 3600 600 86400 300 )\n"
	"@\t\tIN\tNS\tns1.example.net.\n"
	"@\t\tIN\tNS\tns2\n"
	"@\t600\tIN\tA\t192.0.2.1\n"
	"WWW\t\tIN\tCNAME\t@\n"
	"ftp\t\tIN\tCNAME\tWww.Example.COM.\n"
	"*\t\tIN\tA\t192.0.2.9\n"
	"a.b\t\tIN\tAAAA\t2001:db8::1\n"
	"@\t\tIN\tMX\t10 mail\n"
	"@\t\tIN\tMX\t20 mx.other.example.\n"
	"_sip._tcp\tIN\tSRV\t5 60 5060 sip\n"
	"@\t\tIN\tTXT\t\"v=spf1 a mx ~all\"\n"
	"txt\t\tIN\tTXT\t\"it's \\\"quoted\\\" \\\\ here\"\n"
	"@\t\tIN\tCAA\t0 issue \"letsencrypt.org\"\n";

/* the row with this name and type (the nth of them, from 0), or NULL */
static const struct mysql_row *row(const struct mysql_rows *z, const char *name, const char *type,
                                   int nth)
{
	size_t i;

	for (i = 0; i < z->n; i++)
		if (strcmp(z->rows[i].name, name) == 0 && strcmp(z->rows[i].type, type) == 0 &&
		    nth-- == 0)
			return &z->rows[i];
	return NULL;
}

#define CONTENT(r) ((r) ? (r)->content : "(no row)")

static void test_powerdns(void)
{
	struct mysql_rows z;
	const struct mysql_row *r;
	char why[256] = "";
	size_t i;
	int dots = 0, upper = 0;

	is_int(backend_mysql_rows("example.com", zone, strlen(zone), 1, &z, why, sizeof why), 0,
	       "pdns: the zone parses (%s)", why);
	is_int(z.n, 14, "pdns: one row per RR (SOA included)");
	is_int(z.serial, 2026010101, "pdns: serial from the SOA");
	is_str(z.rows[0].type, "SOA", "pdns: the SOA row comes first");
	is_str(z.rows[0].name, "example.com", "pdns: apex owner without the trailing dot");
	is_str(z.rows[0].content, "ns1.example.net hostmaster.example.com 2026010101 3600 600 86400 300",
	       "pdns: SOA content: names lower case, absolute, no trailing dot");
	is_int(z.rows[0].ttl, 3600, "pdns: $TTL applies");
	is_int(z.rows[0].prio, 0, "pdns: SOA prio 0");
	r = row(&z, "example.com", "NS", 1);
	is_str(CONTENT(r), "ns2.example.com", "pdns: a relative NS target made absolute");
	r = row(&z, "example.com", "A", 0);
	ok(r && r->ttl == 600, "pdns: an explicit TTL is kept");
	r = row(&z, "www.example.com", "CNAME", 0);
	is_str(CONTENT(r), "example.com", "pdns: upper-case owner lowered, CNAME to @ is the apex");
	r = row(&z, "ftp.example.com", "CNAME", 0);
	is_str(CONTENT(r), "www.example.com", "pdns: CNAME target lowered, no trailing dot");
	r = row(&z, "*.example.com", "A", 0);
	is_str(CONTENT(r), "192.0.2.9", "pdns: the wildcard row is named *.example.com");
	r = row(&z, "a.b.example.com", "AAAA", 0);
	is_str(CONTENT(r), "2001:db8::1", "pdns: a two-label owner");
	/* PowerDNS 4.x's generic SQL backends keep the MX/SRV priority in the
	 * prio column and put it in front of content when they read the row */
	r = row(&z, "example.com", "MX", 0);
	is_str(CONTENT(r), "mail.example.com", "pdns: MX content without the priority");
	is_int(r ? r->prio : 99, 10, "pdns: MX priority in prio");
	r = row(&z, "example.com", "MX", 1);
	is_str(CONTENT(r), "mx.other.example", "pdns: MX outside the zone, no trailing dot");
	is_int(r ? r->prio : 99, 20, "pdns: second MX priority in prio");
	r = row(&z, "_sip._tcp.example.com", "SRV", 0);
	is_str(CONTENT(r), "60 5060 sip.example.com", "pdns: SRV weight port target, no priority");
	is_int(r ? r->prio : 99, 5, "pdns: SRV priority in prio");
	r = row(&z, "example.com", "TXT", 0);
	is_str(CONTENT(r), "\"v=spf1 a mx ~all\"", "pdns: TXT content quoted");
	r = row(&z, "txt.example.com", "TXT", 0);
	is_str(CONTENT(r), "\"it's \\\"quoted\\\" \\\\ here\"", "pdns: TXT escapes kept");
	r = row(&z, "example.com", "CAA", 0);
	is_str(CONTENT(r), "0 issue \"letsencrypt.org\"", "pdns: CAA");
	ok(r && r->prio == 0, "pdns: prio 0 for other types");
	for (i = 0; i < z.n; i++) {
		const char *n = z.rows[i].name;
		dots += n[strlen(n) - 1] == '.';
		for (; *n; n++)
			upper += *n >= 'A' && *n <= 'Z';
	}
	is_int(dots, 0, "pdns: no owner has a trailing dot");
	is_int(upper, 0, "pdns: every owner is lower case");
	backend_mysql_rows_free(&z);
	is_int(z.n, 0, "rows_free empties");
}

static void test_coredns(void)
{
	struct mysql_rows z;
	const struct mysql_row *r;
	char why[256] = "";

	is_int(backend_mysql_rows("Example.com", zone, strlen(zone), 0, &z, why, sizeof why), 0,
	       "coredns: the zone parses (%s)", why);
	is_int(z.n, 14, "coredns: one row per RR");
	is_str(z.rows[0].name, "@", "coredns: apex hostname is @");
	is_str(z.rows[0].content,
	       "ns1.example.net. hostmaster.example.com. 2026010101 3600 600 86400 300",
	       "coredns: SOA names absolute with the trailing dot");
	r = row(&z, "@", "NS", 0);
	is_str(CONTENT(r), "ns1.example.net.", "coredns: apex NS, absolute with dot");
	r = row(&z, "@", "NS", 1);
	is_str(CONTENT(r), "ns2.example.com.", "coredns: relative NS target made absolute");
	r = row(&z, "www", "CNAME", 0);
	is_str(CONTENT(r), "example.com.", "coredns: hostname relative and lowered");
	r = row(&z, "*", "A", 0);
	is_str(CONTENT(r), "192.0.2.9", "coredns: wildcard row hostname is *");
	r = row(&z, "a.b", "AAAA", 0);
	is_str(CONTENT(r), "2001:db8::1", "coredns: a two-label hostname stays relative (a.b)");
	r = row(&z, "@", "MX", 0);
	is_str(CONTENT(r), "10 mail.example.com.", "coredns: MX priority inside data");
	is_int(r ? r->prio : 99, 0, "coredns: no prio column");
	r = row(&z, "_sip._tcp", "SRV", 0);
	is_str(CONTENT(r), "5 60 5060 sip.example.com.", "coredns: SRV data in full");
	r = row(&z, "@", "MX", 1);
	is_str(CONTENT(r), "20 mx.other.example.", "coredns: a name outside the zone keeps its dot");
	backend_mysql_rows_free(&z);
}

static void test_reject(void)
{
	static const char nosoa[] = "$TTL 300\n@ IN NS ns1.example.net.\n";
	/* (the bad record comes before any good one: ldns_zone_new_frm_fp_l
	 * leaks the records it already read when a later one fails; the drain's
	 * ingest check, zone_check(), rejects such text before any backend) */
	static const char bad[] = "$TTL 300\nwww IN A 999.1.2.3\n@ IN SOA ns1 h 1 2 3 4 5\n";
	static const char other[] = "$TTL 300\n"
		"@ IN SOA ns1.example.net. h.example.net. 7 3600 600 86400 300\n"
		"www.elsewhere.example. IN A 192.0.2.1\n";
	struct mysql_rows z;
	char why[256] = "";

	is_int(backend_mysql_rows("example.com", nosoa, strlen(nosoa), 1, &z, why, sizeof why), -1,
	       "a zone without SOA is rejected");
	is_str(why, "zone has no SOA", "  and says why");
	backend_mysql_rows_free(&z);
	why[0] = '\0';
	is_int(backend_mysql_rows("example.com", bad, strlen(bad), 0, &z, why, sizeof why), -1,
	       "a bad A record is rejected");
	ok(strncmp(why, "zone text line 2:", 17) == 0, "  with the line: %s", why);
	backend_mysql_rows_free(&z);
	/* an owner outside the origin keeps its absolute name in coredns */
	is_int(backend_mysql_rows("example.com", other, strlen(other), 0, &z, why, sizeof why), 0,
	       "an out-of-zone owner parses");
	ok(z.n == 2 && strcmp(z.rows[1].name, "www.elsewhere.example.") == 0,
	   "coredns: out-of-zone owner stays absolute (%s)", z.n == 2 ? z.rows[1].name : "?");
	is_int(z.serial, 7, "serial 7");
	backend_mysql_rows_free(&z);
}

static void test_quote(void)
{
	MYSQL *my = mysql_init(NULL);
	char out[256];
	size_t n;

	ok(my != NULL, "mysql_init");
	n = backend_mysql_quote(my, out, "example.com");
	is_str(out, "'example.com'", "plain string quoted");
	is_int(n, 13, "length returned");
	backend_mysql_quote(my, out, "");
	is_str(out, "''", "empty string");
	backend_mysql_quote(my, out, "it's");
	is_str(out, "'it\\'s'", "single quote escaped");
	backend_mysql_quote(my, out, "x'); DROP TABLE records; -- ");
	is_str(out, "'x\\'); DROP TABLE records; -- '", "an injection stays inside the literal");
	backend_mysql_quote(my, out, "a\\b\"c");
	is_str(out, "'a\\\\b\\\"c'", "backslash and double quote escaped");
	backend_mysql_quote(my, out, "l1\nl2\r\032");
	is_str(out, "'l1\\nl2\\r\\Z'", "newline, CR and ^Z escaped");
	backend_mysql_quote(my, out, "\"it's \\\"q\\\"\"");
	is_str(out, "'\\\"it\\'s \\\\\\\"q\\\\\\\"\\\"'", "TXT content with escapes round-trips");
	mysql_close(my);
}

int main(void)
{
	test_powerdns();
	test_coredns();
	test_reject();
	test_quote();
	return tap_done();
}
