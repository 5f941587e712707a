/* test_verify.c -- verify_soa against an in-process fake nameserver (ldns-built answers) and a closed port */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "tap.h"
#include "zonedrop/util.h"
#include "zonedrop/verify.h"

/* The fake server: UDP and TCP on one port of 127.0.0.1.
 *   *.served.test, a.test   SOA serial fake_serial (AA)
 *   slow.test               serial 1 for the first 3 queries, then 2
 *   sf.test                 SERVFAIL
 *   tc.test                 UDP: truncated, no records; TCP: serial 7
 *   spoof.test              an answer to another question (must be ignored)
 *   child.parent.test       the parent's NXDOMAIN with its SOA in authority
 *   drop.test               never answered
 *   anything else           REFUSED */
static int fake_udp = -1, fake_tcp = -1, fake_port;
static volatile int fake_stop;
static volatile uint32_t fake_serial = 5;
static int fake_slow_count;
static int fake_tcp_count;

static ldns_rr *soa_rr(const char *owner, uint32_t serial)
{
	char buf[512];
	ldns_rr *rr = NULL;

	snprintf(buf, sizeof buf, "%s 300 IN SOA ns1.x. h.x. %u 3600 600 86400 300", owner, serial);
	if (ldns_rr_new_frm_str(&rr, buf, 0, NULL, NULL) != LDNS_STATUS_OK)
		return NULL;
	return rr;
}

static ldns_pkt *fake_answer(const ldns_pkt *q, int tcp)
{
	ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	char *name = ldns_rdf2str(ldns_rr_owner(qr));
	ldns_pkt *a = ldns_pkt_new();
	ldns_rr *question = ldns_rr_clone(qr);

	ldns_pkt_set_id(a, ldns_pkt_id(q));
	ldns_pkt_set_qr(a, true);
	ldns_pkt_set_opcode(a, LDNS_PACKET_QUERY);
	if (strcmp(name, "spoof.test.") == 0) {
		ldns_rdf *other = ldns_dname_new_frm_str("other.test.");
		ldns_rdf_deep_free(ldns_rr_owner(question));
		ldns_rr_set_owner(question, other);
	}
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, question);
	if ((strlen(name) > 13 && strcmp(name + strlen(name) - 13, ".served.test.") == 0) ||
	    strcmp(name, "a.test.") == 0 || strcmp(name, "spoof.test.") == 0) {
		ldns_pkt_set_aa(a, true);
		ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, soa_rr(name, fake_serial));
	} else if (strcmp(name, "slow.test.") == 0) {
		ldns_pkt_set_aa(a, true);
		ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, soa_rr(name, ++fake_slow_count > 3 ? 2 : 1));
	} else if (strcmp(name, "sf.test.") == 0) {
		ldns_pkt_set_rcode(a, LDNS_RCODE_SERVFAIL);
	} else if (strcmp(name, "tc.test.") == 0) {
		if (tcp) {
			fake_tcp_count++;
			ldns_pkt_set_aa(a, true);
			ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, soa_rr(name, 7));
		} else {
			ldns_pkt_set_tc(a, true);
		}
	} else if (strcmp(name, "child.parent.test.") == 0) {
		ldns_pkt_set_aa(a, true);
		ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
		ldns_pkt_push_rr(a, LDNS_SECTION_AUTHORITY, soa_rr("parent.test.", 9));
	} else if (strcmp(name, "drop.test.") == 0) {
		ldns_pkt_free(a);
		a = NULL;
	} else {
		ldns_pkt_set_rcode(a, LDNS_RCODE_REFUSED);
	}
	free(name);
	return a;
}

static void *fake_main(void *arg)
{
	(void)arg;
	while (!fake_stop) {
		struct pollfd pf[2] = { { fake_udp, POLLIN, 0 }, { fake_tcp, POLLIN, 0 } };
		uint8_t buf[65536], *wire = NULL;
		size_t wlen = 0;
		ldns_pkt *q = NULL, *a;

		if (poll(pf, 2, 50) <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(fake_udp, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);

			if (n > 0 && ldns_wire2pkt(&q, buf, (size_t)n) == LDNS_STATUS_OK) {
				a = fake_answer(q, 0);
				if (a != NULL && ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK) {
					if (sendto(fake_udp, wire, wlen, 0, (struct sockaddr *)&from, fl) < 0)
						perror("sendto");
					LDNS_FREE(wire);
				}
				ldns_pkt_free(a);
				ldns_pkt_free(q);
			}
		}
		if (pf[1].revents & POLLIN) {
			int c = accept(fake_tcp, NULL, NULL);
			uint8_t lenb[2];

			if (c < 0)
				continue;
			if (read(c, lenb, 2) == 2) {
				size_t want = (size_t)lenb[0] << 8 | lenb[1], got = 0;
				ssize_t r;

				while (got < want && (r = read(c, buf + got, want - got)) > 0)
					got += (size_t)r;
				if (got == want && ldns_wire2pkt(&q, buf, want) == LDNS_STATUS_OK) {
					a = fake_answer(q, 1);
					if (a != NULL && ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK) {
						uint8_t out[2] = { (uint8_t)(wlen >> 8), (uint8_t)wlen };
						if (write(c, out, 2) != 2 || write(c, wire, wlen) != (ssize_t)wlen)
							perror("write");
						LDNS_FREE(wire);
					}
					ldns_pkt_free(a);
					ldns_pkt_free(q);
				}
			}
			close(c);
		}
	}
	return NULL;
}

static int fake_start(pthread_t *t)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fake_udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (fake_udp < 0 || bind(fake_udp, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fake_udp, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	fake_port = ntohs(sa.sin_port);
	fake_tcp = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fake_tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fake_tcp < 0 || bind(fake_tcp, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fake_tcp, 16) < 0)
		return -1;
	return pthread_create(t, NULL, fake_main, NULL);
}

/* the server's serial moves on 300 ms from now */
static void *bump_later(void *arg)
{
	struct timespec ts = { 0, 300 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	fake_serial = 6;
	return NULL;
}

/* a port nothing listens on (bound then closed) */
static int closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int main(void)
{
	struct verify_query q[8];
	struct zd_err err;
	pthread_t t;
	uint32_t serial = 0;
	int64_t t0;
	size_t i, n, okc;
	int rc, port = closed_port();

	/* nothing listens: every zone NOANSWER, but the server "could be asked" */
	memset(q, 0, sizeof q);
	q[0].domain = "a.test";
	q[0].serial = 5;
	q[0].want_present = 1;
	q[1].domain = "b.test";
	q[1].want_present = 0;
	zd_err_clear(&err);
	t0 = time_mono_ms();
	rc = verify_soa("127.0.0.1", port, q, 2, 600, 100, &err);
	is_int(rc, 0, "closed port: verify_soa returns 0 (%s)", err.msg);
	is_int(q[0].state, VERIFY_NOANSWER, "closed port: want present -> NOANSWER");
	is_int(q[1].state, VERIFY_NOANSWER, "closed port: want absent -> NOANSWER, not absent");
	ok(!q[0].ok && !q[1].ok, "closed port: nothing is ok");
	ok(time_mono_ms() - t0 >= 550 && time_mono_ms() - t0 < 3000, "closed port: waits the timeout");
	zd_err_clear(&err);
	rc = verify_soa_once("127.0.0.1", port, "a.test", &serial, 300, &err);
	is_int(rc, ZD_ETIMEDOUT, "verify_soa_once on a closed port: ZD_ETIMEDOUT");
	zd_err_clear(&err);
	rc = verify_soa("not an address!", 53, q, 1, 100, 50, &err);
	ok(rc < 0, "an unusable host is an error: %s", err.msg);
	rc = verify_soa("127.0.0.1", port, q, 0, 100, 50, &err);
	is_int(rc, 0, "no zones: nothing to do");
	is_str(verify_rcode_name(2), "SERVFAIL", "rcode names");
	is_str(verify_rcode_name(-1), "no answer", "rcode name of no answer");

	if (fake_start(&t) != 0) {
		ok(0, "fake server started");
		return tap_done();
	}
	memset(q, 0, sizeof q);
	q[0].domain = "a.test";            q[0].serial = 5; q[0].want_present = 1;
	q[1].domain = "x.served.test";     q[1].serial = 6; q[1].want_present = 1;
	q[2].domain = "gone.test";         q[2].want_present = 0;
	q[3].domain = "sf.test";           q[3].want_present = 0;
	q[4].domain = "child.parent.test"; q[4].want_present = 0;
	q[5].domain = "tc.test";           q[5].serial = 7; q[5].want_present = 1;
	q[6].domain = "spoof.test";        q[6].serial = 5; q[6].want_present = 1;
	q[7].domain = "slow.test";         q[7].serial = 2; q[7].want_present = 1;
	zd_err_clear(&err);
	rc = verify_soa("127.0.0.1", fake_port, q, 8, 1500, 50, &err);
	is_int(rc, 0, "fake server: verify_soa returns 0 (%s)", err.msg);
	ok(q[0].ok && q[0].state == VERIFY_SERVED && q[0].got_serial == 5, "served with the serial: ok");
	ok(!q[1].ok && q[1].state == VERIFY_OTHER && q[1].got_serial == 5,
	   "served with another serial: OTHER, got_serial 5");
	ok(q[2].ok && q[2].state == VERIFY_ABSENT && q[2].rcode == LDNS_RCODE_REFUSED,
	   "REFUSED counts as absent");
	ok(!q[3].ok && q[3].rcode == LDNS_RCODE_SERVFAIL, "SERVFAIL is never 'gone'");
	ok(q[4].ok && q[4].state == VERIFY_ABSENT, "a parent's NXDOMAIN with its SOA counts as absent");
	ok(q[5].ok && q[5].got_serial == 7, "truncated answer: asked again over TCP");
	ok(fake_tcp_count >= 1, "the TCP fallback reached the server");
	ok(!q[6].ok && q[6].state == VERIFY_NOANSWER, "an answer to another question is ignored");
	ok(q[7].ok && q[7].got_serial == 2, "a serial that changes while polling is waited for");

	/* many zones: more than the in-flight limit, all served */
	n = 3000;
	{
		struct verify_query *m = calloc(n, sizeof *m);
		char (*names)[64] = calloc(n, 64);

		for (i = 0; i < n; i++) {
			snprintf(names[i], 64, "z%zu.served.test", i);
			m[i].domain = names[i];
			m[i].serial = 5;
			m[i].want_present = 1;
		}
		zd_err_clear(&err);
		rc = verify_soa("127.0.0.1", fake_port, m, n, 10000, 100, &err);
		for (i = 0, okc = 0; i < n; i++)
			okc += m[i].ok ? 1 : 0;
		ok(rc == 0 && okc == n, "3000 zones verified (%zu ok)", okc);
		/* the serial moves on while they are polled */
		for (i = 0; i < n; i++)
			m[i].serial = 6;
		fake_serial = 5;
		{
			pthread_t bump;

			zd_err_clear(&err);
			pthread_create(&bump, NULL, bump_later, NULL);
			rc = verify_soa("127.0.0.1", fake_port, m, n, 10000, 100, &err);
			pthread_join(bump, NULL);
		}
		for (i = 0, okc = 0; i < n; i++)
			okc += m[i].ok ? 1 : 0;
		ok(rc == 0 && okc == n, "3000 zones seen at their new serial (%zu ok)", okc);
		free(m);
		free(names);
	}

	zd_err_clear(&err);
	serial = 0;
	rc = verify_soa_once("127.0.0.1", fake_port, "a.test", &serial, 1000, &err);
	ok(rc == 0 && serial == 6, "verify_soa_once: served serial (%u)", serial);
	rc = verify_soa_once("127.0.0.1", fake_port, "gone.test", &serial, 1000, &err);
	is_int(rc, ZD_ENOENT, "verify_soa_once: not served -> ZD_ENOENT (%s)", err.msg);
	rc = verify_soa_once("127.0.0.1", fake_port, "drop.test", &serial, 300, &err);
	is_int(rc, ZD_ETIMEDOUT, "verify_soa_once: never answered -> ZD_ETIMEDOUT");

	fake_stop = 1;
	pthread_join(t, NULL);
	close(fake_udp);
	close(fake_tcp);
	return tap_done();
}
