/* refresh.c -- secondary zones: SOA poll of the masters, AXFR on change, into the spool
 *
 * One run: the zones_file is merged (both in domain order) with the refresh
 * state in state.db; transfers the drain has taken, or put in bad/, are
 * settled; every due zone whose master is not backed off is asked for its
 * SOA in one sweep (refresh_soa_sweep: the verify.c pattern -- ldns packets,
 * a random-ID table, a non-blocking socket -- extended to many masters with
 * per-master in-flight caps and down detection); changed zones are
 * transferred by a few threads (refresh_axfr), validated and delivered to
 * the spool with Source: refresh; the results are written in one short
 * transaction (the drain is the only writer of the zones tables; we write
 * only secondary_* tables). Memory stays small: per zone a ~100-byte record
 * for due zones only, and a zone's text only while it is being spooled. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <sqlite3.h>

#include "zonedrop/log.h"
#include "zonedrop/refresh.h"
#include "zonedrop/secondary.h"
#include "zonedrop/spool.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "zonedrop/zone.h"

#define REFRESH_EDNS_SIZE 1232
#define REFRESH_DEADLINE_MS 50000
#define REFRESH_AXFR_TIMEOUT_MS 30000
#define REFRESH_AXFR_THREADS 8
#define REFRESH_TEXT_MAX (64u << 20)
#define REFRESH_HOUR_MS (3600 * 1000LL)
#define REFRESH_CACHE_KB "4096"

/* ---- timers ---- */

int64_t refresh_clamp(uint32_t secs, int64_t min_ms, int64_t max_ms)
{
	int64_t ms = (int64_t)secs * 1000;

	if (ms < min_ms)
		ms = min_ms;
	if (ms > max_ms)
		ms = max_ms;
	return (ms + 999) / 1000;
}

int64_t refresh_next_ok(int64_t now, uint32_t refresh, int64_t min_ms, int64_t max_ms)
{
	return now + refresh_clamp(refresh, min_ms, max_ms);
}

static int64_t refresh_doubling(int n, int64_t min_ms, int64_t max_ms)
{
	int64_t cap = max_ms < REFRESH_HOUR_MS ? max_ms : REFRESH_HOUR_MS, ms = min_ms;

	if (cap < min_ms)
		cap = min_ms;
	while (--n > 0 && ms < cap)
		ms *= 2;
	if (ms > cap)
		ms = cap;
	return (ms + 999) / 1000;
}

int64_t refresh_next_fail(int64_t now, int have_soa, uint32_t retry, int failures, int64_t min_ms,
                          int64_t max_ms)
{
	if (have_soa)
		return now + refresh_clamp(retry, min_ms, max_ms);
	return now + refresh_doubling(failures < 1 ? 1 : failures, min_ms, max_ms);
}

int64_t refresh_master_backoff(int64_t now, int failures, int64_t min_ms, int64_t max_ms)
{
	return now + refresh_doubling(failures < 1 ? 1 : failures, min_ms, max_ms);
}

int refresh_serial_wanted(int have_serial, uint32_t held, uint32_t master)
{
	return !have_serial || serial_cmp(master, held) > 0;
}

/* ---- the SOA sweep ---- */

struct sweep {
	struct refresh_master *m;
	size_t nm;
	struct refresh_query *q;
	size_t nq;
	int concurrency;
	int per_master;          /* in flight per master */
	int64_t timeout_ms;      /* one try's wait */
	int fd4, fd6;
	int32_t *idmap;          /* 65536: ID -> query index, -1 free */
	size_t *ready;           /* ring of masters with queued zones and room */
	size_t rhead, rlen;
	int64_t fhead, ftail;    /* in flight, oldest first */
	size_t inflight, left;
	size_t sent;
	uint16_t rnd[256];
	size_t nrnd;
	ldns_rdf **dname;        /* per query, lazily */
};

static uint16_t sweep_random16(struct sweep *s)
{
	if (s->nrnd == 0) {
		if (getrandom(s->rnd, sizeof s->rnd, 0) != (ssize_t)sizeof s->rnd)
			for (size_t i = 0; i < 256; i++)
				s->rnd[i] = (uint16_t)(random() & 0xffff);
		s->nrnd = 256;
	}
	return s->rnd[--s->nrnd];
}

static void sweep_ready_push(struct sweep *s, size_t mi)
{
	struct refresh_master *m = &s->m[mi];

	if (m->in_ready || m->down || m->qhead < 0 || m->inflight >= s->per_master)
		return;
	m->in_ready = 1;
	s->ready[(s->rhead + s->rlen) % s->nm] = mi;
	s->rlen++;
}

static void sweep_fl_add(struct sweep *s, size_t i)
{
	s->q[i].prev_f = s->ftail;
	s->q[i].next_f = -1;
	if (s->ftail >= 0)
		s->q[s->ftail].next_f = (int64_t)i;
	else
		s->fhead = (int64_t)i;
	s->ftail = (int64_t)i;
	s->inflight++;
	s->m[s->q[i].master].inflight++;
}

static void sweep_fl_del(struct sweep *s, size_t i)
{
	struct refresh_query *q = &s->q[i];

	if (q->prev_f >= 0)
		s->q[q->prev_f].next_f = q->next_f;
	else
		s->fhead = q->next_f;
	if (q->next_f >= 0)
		s->q[q->next_f].prev_f = q->prev_f;
	else
		s->ftail = q->prev_f;
	q->prev_f = q->next_f = -1;
	s->idmap[q->id] = -1;
	q->id = -1;
	s->inflight--;
	s->m[q->master].inflight--;
	sweep_ready_push(s, q->master);
}

/* Put query i back at the head of its master's queue (a retry goes first). */
static void sweep_requeue(struct sweep *s, size_t i)
{
	struct refresh_master *m = &s->m[s->q[i].master];

	s->q[i].next = m->qhead;
	m->qhead = (int64_t)i;
	if (m->qtail < 0)
		m->qtail = (int64_t)i;
	sweep_ready_push(s, s->q[i].master);
}

static void sweep_verdict(struct sweep *s, size_t i, enum refresh_q_state st)
{
	s->q[i].state = st;
	s->left--;
	/* only queries in flight keep their name: memory stays O(concurrency) */
	ldns_rdf_deep_free(s->dname[i]);
	s->dname[i] = NULL;
}

/* A master is down: every zone still queued for it gets REFRESH_Q_DOWN. */
static void sweep_master_down(struct sweep *s, size_t mi)
{
	struct refresh_master *m = &s->m[mi];

	m->down = 1;
	while (m->qhead >= 0) {
		size_t i = (size_t)m->qhead;

		m->qhead = s->q[i].next;
		sweep_verdict(s, i, REFRESH_Q_DOWN);
	}
	m->qtail = -1;
}

static int sweep_send(struct sweep *s, size_t i, int64_t now)
{
	struct refresh_query *q = &s->q[i];
	struct refresh_master *m = &s->m[q->master];
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	uint16_t id = 0;
	int tries, fd;

	if (s->dname[i] == NULL) {
		char name[300];
		int k = snprintf(name, sizeof name, "%s.", q->domain);

		if (k < 0 || (size_t)k >= sizeof name ||
		    ldns_str2rdf_dname(&s->dname[i], name) != LDNS_STATUS_OK) {
			s->dname[i] = NULL;
			q->rcode = -1;
			sweep_verdict(s, i, REFRESH_Q_ERROR);
			return 0;
		}
		ldns_dname2canonical(s->dname[i]);
	}
	for (tries = 0; tries < 64; tries++) {
		id = sweep_random16(s);
		if (s->idmap[id] < 0)
			break;
	}
	if (tries == 64)
		return 1;   /* crowded: try later */
	p = ldns_pkt_query_new(ldns_rdf_clone(s->dname[i]), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
	if (p == NULL)
		return ZD_ENOMEM;
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_rd(p, false);
	ldns_pkt_set_edns_udp_size(p, REFRESH_EDNS_SIZE);
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK) {
		ldns_pkt_free(p);
		return ZD_ENOMEM;
	}
	ldns_pkt_free(p);
	fd = m->ss.ss_family == AF_INET6 ? s->fd6 : s->fd4;
	if (sendto(fd, wire, len, 0, (struct sockaddr *)&m->ss, m->sslen) < 0) {
		int e = errno;

		LDNS_FREE(wire);
		if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == EINTR)
			return 1;
		/* unreachable: counts as a try without answer */
		q->tries++;
		if (q->tries >= REFRESH_SOA_TRIES) {
			m->timeouts++;
			sweep_verdict(s, i, REFRESH_Q_TIMEOUT);
		} else {
			sweep_requeue(s, i);
		}
		return 0;
	}
	LDNS_FREE(wire);
	s->sent++;
	q->tries++;
	q->id = id;
	q->sent_at = now;
	s->idmap[id] = (int32_t)i;
	sweep_fl_add(s, i);
	return 0;
}

static int sweep_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void sweep_judge(struct sweep *s, size_t i, ldns_pkt *p)
{
	struct refresh_query *q = &s->q[i];
	ldns_rr_list *ans = ldns_pkt_answer(p);
	size_t k;

	q->rcode = (int)ldns_pkt_get_rcode(p);
	if (q->rcode == LDNS_RCODE_NOERROR && ldns_pkt_aa(p) && ans != NULL)
		for (k = 0; k < ldns_rr_list_rr_count(ans); k++) {
			ldns_rr *rr = ldns_rr_list_rr(ans, k);
			ldns_rdf *sr;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
			    ldns_dname_compare(ldns_rr_owner(rr), s->dname[i]) != 0)
				continue;
			sr = ldns_rr_rdf(rr, 2);
			if (sr == NULL || ldns_rdf_get_type(sr) != LDNS_RDF_TYPE_INT32)
				continue;
			q->serial = ldns_rdf2native_int32(sr);
			sweep_verdict(s, i, REFRESH_Q_SERIAL);
			return;
		}
	sweep_verdict(s, i, REFRESH_Q_ERROR);
}

static void sweep_receive(struct sweep *s, int fd)
{
	uint8_t buf[65536];

	for (;;) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof from;
		ssize_t len = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
		ldns_pkt *p = NULL;
		ldns_rr_list *qs;
		int32_t i;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return;   /* EAGAIN, or an ICMP error: the query times out */
		}
		if (len < 12)
			continue;
		i = s->idmap[((unsigned)buf[0] << 8) | buf[1]];
		if (i < 0 || !sweep_same_addr(&from, &s->m[s->q[i].master].ss))
			continue;
		if (ldns_wire2pkt(&p, buf, (size_t)len) != LDNS_STATUS_OK)
			continue;
		qs = ldns_pkt_question(p);
		if (!ldns_pkt_qr(p) || qs == NULL || ldns_rr_list_rr_count(qs) != 1 ||
		    ldns_rr_get_type(ldns_rr_list_rr(qs, 0)) != LDNS_RR_TYPE_SOA ||
		    ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(qs, 0)), s->dname[i]) != 0) {
			ldns_pkt_free(p);
			continue;
		}
		s->m[s->q[i].master].answered = 1;
		sweep_fl_del(s, (size_t)i);
		sweep_judge(s, (size_t)i, p);
		ldns_pkt_free(p);
	}
}

static int sweep_socket(int family, int *fd, struct zd_err *err)
{
	int sz = 4 << 20;

	*fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return zd_err_sys(err, ZD_EIO, "refresh: UDP socket");
	/* thousands of answers may arrive between two polls */
	setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	setsockopt(*fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	return 0;
}

int refresh_soa_sweep(struct refresh_master *m, size_t nm, struct refresh_query *q, size_t nq,
                      int concurrency, int per_master, int64_t timeout_ms, int64_t deadline,
                      size_t *sent, struct zd_err *err)
{
	struct sweep s;
	size_t i;
	int rc = 0, need4 = 0, need6 = 0;

	memset(&s, 0, sizeof s);
	s.fd4 = s.fd6 = -1;
	s.m = m;
	s.nm = nm;
	s.q = q;
	s.nq = nq;
	s.concurrency = concurrency < 1 ? 1 : concurrency > 4096 ? 4096 : concurrency;
	s.per_master = per_master < 1 ? REFRESH_MASTER_INFLIGHT : per_master;
	if (s.per_master > s.concurrency)
		s.per_master = s.concurrency;
	s.timeout_ms = timeout_ms < 1 ? REFRESH_SOA_TIMEOUT_MS : timeout_ms;
	s.fhead = s.ftail = -1;
	*sent = 0;
	if (nq == 0)
		return 0;
	s.idmap = malloc(65536 * sizeof *s.idmap);
	s.ready = malloc((nm ? nm : 1) * sizeof *s.ready);
	s.dname = calloc(nq, sizeof *s.dname);
	if (s.idmap == NULL || s.ready == NULL || s.dname == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory for %zu queries", nq);
		goto out;
	}
	for (i = 0; i < 65536; i++)
		s.idmap[i] = -1;
	for (i = 0; i < nm; i++) {
		m[i].qhead = m[i].qtail = -1;
		m[i].inflight = m[i].answered = m[i].timeouts = m[i].down = m[i].in_ready = 0;
	}
	/* queue each zone on its master, in the given order */
	for (i = 0; i < nq; i++) {
		struct refresh_master *mm = &m[q[i].master];

		q[i].state = REFRESH_Q_PENDING;
		q[i].rcode = -1;
		q[i].id = -1;
		q[i].tries = 0;
		q[i].next = -1;
		q[i].prev_f = q[i].next_f = -1;
		if (mm->qtail >= 0)
			q[mm->qtail].next = (int64_t)i;
		else
			mm->qhead = (int64_t)i;
		mm->qtail = (int64_t)i;
		if (mm->ss.ss_family == AF_INET6)
			need6 = 1;
		else
			need4 = 1;
	}
	s.left = nq;
	if ((need4 && (rc = sweep_socket(AF_INET, &s.fd4, err)) != 0) ||
	    (need6 && (rc = sweep_socket(AF_INET6, &s.fd6, err)) != 0))
		goto out;
	for (i = 0; i < nm; i++)
		sweep_ready_push(&s, i);
	while (s.left > 0) {
		int64_t now = time_mono_ms(), wake;
		struct pollfd pf[2];
		int npf = 0, stalled = 0;

		if (now >= deadline)
			break;
		/* queries that ran out of time: again, or a verdict */
		while (s.fhead >= 0 && q[s.fhead].sent_at + s.timeout_ms <= now) {
			size_t k = (size_t)s.fhead;
			struct refresh_master *mm = &m[q[k].master];

			sweep_fl_del(&s, k);
			if (q[k].tries < REFRESH_SOA_TRIES) {
				sweep_requeue(&s, k);
				continue;
			}
			mm->timeouts++;
			sweep_verdict(&s, k, REFRESH_Q_TIMEOUT);
			if (!mm->answered && mm->timeouts >= REFRESH_MASTER_DOWN_AFTER && !mm->down)
				sweep_master_down(&s, q[k].master);
		}
		/* round robin over masters with queued zones and room */
		while (s.rlen > 0 && s.inflight < (size_t)s.concurrency && !stalled) {
			size_t mi = s.ready[s.rhead], k;
			struct refresh_master *mm = &m[mi];

			s.rhead = (s.rhead + 1) % nm;
			s.rlen--;
			mm->in_ready = 0;
			if (mm->down || mm->qhead < 0 || mm->inflight >= s.per_master)
				continue;
			k = (size_t)mm->qhead;
			mm->qhead = q[k].next;
			if (mm->qhead < 0)
				mm->qtail = -1;
			rc = sweep_send(&s, k, now);
			if (rc < 0) {
				rc = zd_err_set(err, rc, "refresh: cannot build a query");
				goto out;
			}
			if (rc == 1) {
				/* socket buffer full: wait for it to drain */
				sweep_requeue(&s, k);
				stalled = 1;
				rc = 0;
			}
			sweep_ready_push(&s, mi);
		}
		wake = deadline;
		if (s.fhead >= 0 && q[s.fhead].sent_at + s.timeout_ms < wake)
			wake = q[s.fhead].sent_at + s.timeout_ms;
		if (s.left == 0)
			break;
		if (s.fd4 >= 0) {
			pf[npf].fd = s.fd4;
			pf[npf].events = POLLIN | (stalled ? POLLOUT : 0);
			pf[npf++].revents = 0;
		}
		if (s.fd6 >= 0) {
			pf[npf].fd = s.fd6;
			pf[npf].events = POLLIN | (stalled ? POLLOUT : 0);
			pf[npf++].revents = 0;
		}
		if (poll(pf, (nfds_t)npf, (int)(wake > now ? (wake - now > 1000 ? 1000 : wake - now) : 0)) < 0 &&
		    errno != EINTR) {
			rc = zd_err_sys(err, ZD_EIO, "refresh: poll");
			goto out;
		}
		for (int k = 0; k < npf; k++)
			if (pf[k].revents & (POLLIN | POLLERR))
				sweep_receive(&s, pf[k].fd);
	}
	/* deadline: what is in flight stays PENDING (due next run) */
out:
	*sent = s.sent;
	if (s.fd4 >= 0)
		close(s.fd4);
	if (s.fd6 >= 0)
		close(s.fd6);
	if (s.dname != NULL)
		for (i = 0; i < nq; i++)
			ldns_rdf_deep_free(s.dname[i]);
	free(s.dname);
	free(s.idmap);
	free(s.ready);
	return rc;
}

/* ---- AXFR ---- */

static const char *refresh_algo(const char *a)
{
	if (a == NULL || strcmp(a, "hmac-sha256") == 0)
		return "hmac-sha256.";
	if (strcmp(a, "hmac-md5") == 0)
		return "hmac-md5.sig-alg.reg.int.";
	if (strcmp(a, "hmac-sha1") == 0)
		return "hmac-sha1.";
	if (strcmp(a, "hmac-sha224") == 0)
		return "hmac-sha224.";
	if (strcmp(a, "hmac-sha384") == 0)
		return "hmac-sha384.";
	if (strcmp(a, "hmac-sha512") == 0)
		return "hmac-sha512.";
	return a;
}

static const char *refresh_tsig_error(ldns_pkt *p)
{
	ldns_rr *t = ldns_pkt_tsig(p);
	ldns_rdf *e;
	uint16_t v;

	if (t == NULL || (e = ldns_rr_rdf(t, 5)) == NULL || ldns_rdf_size(e) != 2)
		return NULL;
	v = ldns_rdf2native_int16(e);
	switch (v) {
	case 0: return NULL;
	case 16: return "BADSIG";
	case 17: return "BADKEY";
	case 18: return "BADTIME";
	case 22: return "BADTRUNC";
	default: return "TSIG error";
	}
}

int refresh_axfr(const struct sockaddr_storage *ss, socklen_t sslen, const char *domain,
                 const struct refresh_tsig *key, int64_t timeout_ms, size_t max_bytes, char **text,
                 size_t *len, uint32_t *serial, uint32_t *refresh, uint32_t *retry,
                 uint32_t *expire, struct zd_err *err)
{
	ldns_rdf *apex = NULL, *mac = NULL;
	ldns_pkt *qp = NULL, *p = NULL;
	ldns_buffer *qbin = NULL;
	ldns_rr_list *rrs = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0, total = 0, nsoa = 0, k, nmsg = 0, tlen = 0, tcap = 0;
	struct timeval tv;
	char name[300], *out = NULL;
	int fd = -1, rc = 0, unsigned_run = 0, done = 0;
	int64_t deadline = time_mono_ms() + timeout_ms;
	uint16_t id;
	struct zone_info info;
	struct zd_err e;

	*text = NULL;
	*len = 0;
	if (snprintf(name, sizeof name, "%s.", domain) >= (int)sizeof name ||
	    ldns_str2rdf_dname(&apex, name) != LDNS_STATUS_OK)
		return zd_err_set(err, ZD_EINVAL, "not a domain name");
	ldns_dname2canonical(apex);
	rrs = ldns_rr_list_new();
	qp = ldns_pkt_query_new(ldns_rdf_clone(apex), LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	if (rrs == NULL || qp == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
		id = (uint16_t)random();
	ldns_pkt_set_id(qp, id);
	ldns_pkt_set_rd(qp, false);
	if (key != NULL && key->name != NULL) {
		if (ldns_pkt_tsig_sign(qp, key->name, key->secret, 300, refresh_algo(key->algorithm), NULL) !=
		    LDNS_STATUS_OK) {
			rc = zd_err_set(err, ZD_ECONFIG, "cannot sign with TSIG key %s (algorithm %s, secret "
			                "not base64?)", key->name, key->algorithm ? key->algorithm : "?");
			goto out;
		}
		mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(qp), 3));
	}
	qbin = ldns_buffer_new(LDNS_MIN_BUFLEN);
	if (qbin == NULL || ldns_pkt2buffer_wire(qbin, qp) != LDNS_STATUS_OK) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	tv.tv_sec = timeout_ms / 1000 > 10 ? 10 : timeout_ms / 1000;
	tv.tv_usec = tv.tv_sec == 0 ? (timeout_ms % 1000) * 1000 : 0;
	fd = ldns_tcp_connect2(ss, sslen, tv);
	if (fd < 0) {
		rc = zd_err_set(err, ZD_EDNS, "AXFR: cannot connect over TCP");
		goto out;
	}
	if (ldns_tcp_send_query(qbin, fd, ss, sslen) == 0) {
		rc = zd_err_set(err, ZD_EDNS, "AXFR: cannot send the query");
		goto out;
	}
	while (!done) {
		ldns_rr_list *ans;
		const char *te;

		if (time_mono_ms() > deadline) {
			rc = zd_err_set(err, ZD_ETIMEDOUT, "AXFR: not complete after %lld ms",
			                (long long)timeout_ms);
			goto out;
		}
		wire = ldns_tcp_read_wire_timeout(fd, &wlen, tv);
		if (wire == NULL) {
			rc = zd_err_set(err, nsoa == 0 && nmsg == 0 ? ZD_EDNS : ZD_EINVAL,
			                nmsg == 0 ? "AXFR: no answer (connection closed or timed out)"
			                          : "AXFR: incomplete (stream ended before the closing SOA)");
			goto out;
		}
		total += wlen;
		if (total > max_bytes) {
			rc = zd_err_set(err, ZD_E2BIG, "AXFR: larger than %zu bytes", max_bytes);
			goto out;
		}
		if (ldns_wire2pkt(&p, wire, wlen) != LDNS_STATUS_OK) {
			p = NULL;
			rc = zd_err_set(err, ZD_EINVAL, "AXFR: malformed message %zu", nmsg + 1);
			goto out;
		}
		if (ldns_pkt_id(p) != id) {
			rc = zd_err_set(err, ZD_EDNS, "AXFR: answer with another ID");
			goto out;
		}
		te = refresh_tsig_error(p);
		if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR) {
			ldns_lookup_table *t = ldns_lookup_by_id(ldns_rcodes, (int)ldns_pkt_get_rcode(p));

			rc = zd_err_set(err, ZD_EDNS, "AXFR refused: master answered %s%s%s",
			                t && t->name ? t->name : "an error", te ? ", TSIG " : "",
			                te ? te : (ldns_pkt_get_rcode(p) == LDNS_RCODE_NOTAUTH && key
			                           ? " (wrong TSIG key?)" : ""));
			goto out;
		}
		if (key != NULL && key->name != NULL) {
			if (ldns_pkt_tsig(p) != NULL) {
				if (unsigned_run == 0) {
					ldns_rdf *nmac;

					if (!ldns_pkt_tsig_verify_next(p, wire, wlen, key->name, key->secret, mac,
					                               nmsg > 0)) {
						rc = zd_err_set(err, ZD_EDNS, "AXFR: TSIG of message %zu does not verify "
						                "with key %s (wrong key?)", nmsg + 1, key->name);
						goto out;
					}
					nmac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
					ldns_rdf_deep_free(mac);
					mac = nmac;
				}
				/* after unsigned messages the MAC covers them too, which ldns
				 * cannot compute: that part of the chain goes unchecked */
				unsigned_run = 0;
			} else if (nmsg == 0) {
				rc = zd_err_set(err, ZD_EDNS, "AXFR: the answer is not TSIG-signed (key %s)",
				                key->name);
				goto out;
			} else if (++unsigned_run > 99) {
				rc = zd_err_set(err, ZD_EDNS, "AXFR: more than 99 unsigned messages in a row");
				goto out;
			}
		}
		nmsg++;
		ans = ldns_pkt_answer(p);
		for (k = 0; ans != NULL && k < ldns_rr_list_rr_count(ans); k++) {
			ldns_rr *rr = ldns_rr_list_rr(ans, k);

			if (done) {
				rc = zd_err_set(err, ZD_EINVAL, "AXFR: records after the closing SOA");
				goto out;
			}
			if (ldns_rr_list_rr_count(rrs) == 0 &&
			    (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
			     ldns_dname_compare(ldns_rr_owner(rr), apex) != 0)) {
				rc = zd_err_set(err, ZD_EINVAL, "AXFR: does not start with the zone's SOA");
				goto out;
			}
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
				nsoa++;
				if (nsoa == 2) {
					if (ldns_dname_compare(ldns_rr_owner(rr), apex) != 0 ||
					    ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)) !=
					    ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(rrs, 0), 2))) {
						rc = zd_err_set(err, ZD_EINVAL, "AXFR: the closing SOA differs from the "
						                "first (transfer changed under way?)");
						goto out;
					}
					done = 1;
					continue;
				}
			}
			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
				rc = zd_err_set(err, ZD_EINVAL, "AXFR: record of class other than IN");
				goto out;
			}
			if (ldns_dname_compare(ldns_rr_owner(rr), apex) != 0 &&
			    !ldns_dname_is_subdomain(ldns_rr_owner(rr), apex)) {
				char *o = ldns_rdf2str(ldns_rr_owner(rr)), safe[300];

				rc = zd_err_set(err, ZD_EINVAL, "AXFR: out-of-zone data: owner %s is not in %s",
				                o ? str_safe(safe, sizeof safe, o, strlen(o)) : "?", domain);
				free(o);
				goto out;
			}
			if (!ldns_rr_list_push_rr(rrs, ldns_rr_clone(rr))) {
				rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
				goto out;
			}
		}
		ldns_pkt_free(p);
		p = NULL;
		LDNS_FREE(wire);
		wire = NULL;
	}
	/* render with ldns, one record per line, absolute names */
	for (k = 0; k < ldns_rr_list_rr_count(rrs); k++) {
		char *line = ldns_rr2str(ldns_rr_list_rr(rrs, k));
		size_t ll;

		if (line == NULL) {
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
			goto out;
		}
		ll = strlen(line);
		if (tlen + ll + 2 > tcap) {
			size_t ncap = (tcap ? tcap * 2 : 4096) + ll;
			char *no = realloc(out, ncap);

			if (no == NULL) {
				free(line);
				rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
				goto out;
			}
			out = no;
			tcap = ncap;
		}
		memcpy(out + tlen, line, ll);
		tlen += ll;
		if (ll == 0 || line[ll - 1] != '\n')
			out[tlen++] = '\n';
		free(line);
	}
	if (out == NULL) {
		rc = zd_err_set(err, ZD_EINVAL, "AXFR: empty");
		goto out;
	}
	out[tlen] = '\0';
	/* the same checks as a DirectAdmin push */
	zd_err_clear(&e);
	if (zone_check(domain, out, tlen, &info, &e) != 0) {
		rc = zd_err_set(err, ZD_EINVAL, "AXFR: zone check failed: %s", e.msg);
		goto out;
	}
	*serial = info.serial;
	*refresh = info.refresh;
	*retry = info.retry;
	*expire = info.expire;
	*text = out;
	*len = tlen;
	out = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(out);
	LDNS_FREE(wire);
	ldns_pkt_free(p);
	ldns_pkt_free(qp);
	ldns_buffer_free(qbin);
	ldns_rr_list_deep_free(rrs);
	ldns_rdf_deep_free(apex);
	ldns_rdf_deep_free(mac);
	return rc;
}

/* ---- one run ---- */

/* A due zone, compact: 170k of them must fit in a few MB. */
struct rz {
	const char *domain;      /* the list's (arena) */
	size_t master;
	int key;                 /* index into cfg tsig keys, -1 none */
	int have_serial, withdrawn, failures;
	uint32_t serial, refresh, retry, expire;
	int64_t last_ok;
	int expiring;            /* expire passed: expired unless this run's check confirms it */
	int withdraw;            /* expired now and its delete spooled: record withdrawn */
	/* results */
	enum { RZ_NONE, RZ_OK, RZ_FAIL, RZ_XFR_OK, RZ_XFR_WANT } res;
	uint32_t nserial, nrefresh, nretry, nexpire;
	char *why;               /* malloc'd, RZ_FAIL */
	char *item;              /* malloc'd, RZ_XFR_OK */
};

/* One zones_file line, compact: 170,000 of them take a few MB (a struct
 * secondary_entry is ~600 bytes). */
struct rent {
	const char *domain;      /* in the run's arena */
	uint32_t master;         /* index into the master array */
	int32_t key;             /* index into run.keys, -1 none */
	int line;
};

#define RUN_ARENA_CHUNK 65536

struct run {
	const struct config *cfg;
	struct refresh_stats *st;
	struct store *store;
	int64_t now;
	struct refresh_master *m;
	size_t nm, mcap;
	int64_t *mbackoff;       /* per master: backoff_until from the state */
	int *mfail;              /* per master: failures from the state */
	uint32_t *mhash;         /* master name -> index + 1 */
	size_t mhcap;
	struct rz *z;
	size_t nz, zcap;
	char **secrets;          /* per tsig key, base64, NULL when unreadable */
	/* the zones_file */
	struct rent *e;
	size_t ne, ecap, errors;
	uint32_t *ehash;         /* domain -> entry index + 1 */
	size_t ehcap;
	char **arena;            /* chunks of RUN_ARENA_CHUNK bytes: the domains */
	size_t narena, apos;
	char **keys;             /* the TSIG key names the list uses, distinct */
	size_t nkeys;
	/* AXFR workers */
	pthread_mutex_t mu;
	size_t next_job;
	size_t *jobs;
	size_t njobs;
	int64_t deadline;
};

static uint32_t run_fnv(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The master index for host:port, added when new; (size_t)-1 on error. */
static size_t run_master(struct run *r, const char *host, int port)
{
	char name[SECONDARY_MASTER_MAX];
	size_t k, i;
	struct addrinfo hints, *res = NULL;
	char ps[16];

	secondary_master_format(name, sizeof name, host, port);
	if (r->nm * 2 >= r->mhcap) {
		size_t ncap = r->mhcap ? r->mhcap * 2 : 1024;
		uint32_t *nh = calloc(ncap, sizeof *nh);

		if (nh == NULL)
			return (size_t)-1;
		for (i = 0; i < r->nm; i++) {
			for (k = run_fnv(r->m[i].name) & (ncap - 1); nh[k]; k = (k + 1) & (ncap - 1))
				;
			nh[k] = (uint32_t)i + 1;
		}
		free(r->mhash);
		r->mhash = nh;
		r->mhcap = ncap;
	}
	for (k = run_fnv(name) & (r->mhcap - 1); r->mhash[k]; k = (k + 1) & (r->mhcap - 1))
		if (strcmp(r->m[r->mhash[k] - 1].name, name) == 0)
			return r->mhash[k] - 1;
	if (r->nm == r->mcap) {
		size_t ncap = r->mcap ? r->mcap * 2 : 64;
		struct refresh_master *nm = realloc(r->m, ncap * sizeof *nm);
		int64_t *nb = realloc(r->mbackoff, ncap * sizeof *nb);
		int *nf;

		if (nm != NULL)
			r->m = nm;
		if (nb != NULL)
			r->mbackoff = nb;
		nf = realloc(r->mfail, ncap * sizeof *nf);
		if (nf != NULL)
			r->mfail = nf;
		if (nm == NULL || nb == NULL || nf == NULL)
			return (size_t)-1;
		r->mcap = ncap;
	}
	memset(&r->m[r->nm], 0, sizeof r->m[r->nm]);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0 || res == NULL)
		return (size_t)-1;
	memcpy(&r->m[r->nm].ss, res->ai_addr, res->ai_addrlen);
	r->m[r->nm].sslen = res->ai_addrlen;
	freeaddrinfo(res);
	str_copy(r->m[r->nm].name, name, sizeof r->m[r->nm].name);
	r->mbackoff[r->nm] = 0;
	r->mfail[r->nm] = 0;
	r->mhash[k] = (uint32_t)r->nm + 1;
	return r->nm++;
}

static int run_master_state(const struct secondary_master_state *ms, void *arg)
{
	struct run *r = arg;
	char host[SECONDARY_HOST_MAX];
	int port;
	size_t mi;

	if (secondary_master_parse(ms->master, host, sizeof host, &port) != 0)
		return 0;
	mi = run_master(r, host, port);
	if (mi == (size_t)-1)
		return 0;
	r->mbackoff[mi] = ms->backoff_until;
	r->mfail[mi] = ms->failures;
	return 0;
}

static int run_key(const struct config *cfg, const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return -1;
	for (i = 0; i < cfg->secondary.ntsig_keys; i++)
		if (strcmp(cfg->secondary.tsig_keys[i].name, name) == 0)
			return (int)i;
	return -2;
}

/* Where is spool item name now: 0 gone (the drain took it), 1 waiting
 * (new/ or cur/), 2 in bad/ (why filled from bad/NAME.why). */
static int run_item_where(const char *spool_dir, const char *name, char *why, size_t whysz)
{
	static const char *const waiting[] = { "new", "cur" };
	char path[ZD_PATH_MAX];
	struct stat sb;
	size_t i;

	for (i = 0; i < 2; i++) {
		int n = snprintf(path, sizeof path, "%s/%s/%s", spool_dir, waiting[i], name);
		if (n > 0 && (size_t)n < sizeof path && stat(path, &sb) == 0)
			return 1;
	}
	snprintf(why, whysz, "(no reason recorded)");
	int n = snprintf(path, sizeof path, "%s/bad/%s", spool_dir, name);
	if (n > 0 && (size_t)n < sizeof path && stat(path, &sb) == 0) {
		FILE *fp;

		n = snprintf(path, sizeof path, "%s/bad/%s.why", spool_dir, name);
		if (n > 0 && (size_t)n < sizeof path && (fp = fopen(path, "r")) != NULL) {
			char line[400];

			if (fgets(line, sizeof line, fp) != NULL) {
				line[strcspn(line, "\n")] = '\0';
				str_safe(why, whysz, line, strlen(line));
			}
			fclose(fp);
		}
		return 2;
	}
	return 0;
}

static int run_add_zone(struct run *r, const struct rent *e,
                        const struct secondary_state *s, size_t mi, int key)
{
	struct rz *z;

	if (r->nz == r->zcap) {
		size_t ncap = r->zcap ? r->zcap * 2 : 1024;
		struct rz *nz = realloc(r->z, ncap * sizeof *nz);

		if (nz == NULL)
			return ZD_ENOMEM;
		r->z = nz;
		r->zcap = ncap;
	}
	z = &r->z[r->nz];
	memset(z, 0, sizeof *z);
	z->domain = e->domain;
	z->master = mi;
	z->key = key;
	if (s != NULL) {
		z->have_serial = s->have_serial && !s->withdrawn;
		z->withdrawn = s->withdrawn;
		z->failures = s->failures;
		z->serial = s->serial;
		z->refresh = s->refresh;
		z->retry = s->retry;
		z->expire = s->expire;
		z->last_ok = s->last_ok;
	}
	r->nz++;
	return 0;
}

static void run_fail(struct run *r, struct rz *z, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void run_fail(struct run *r, struct rz *z, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	z->res = RZ_FAIL;
	free(z->why);
	z->why = strdup(buf);
	log_error(z->domain, "master=%s %s", r->m[z->master].name, buf);
}

/* A zone expired: reported, and with withdraw_expired its delete spooled
 * (Source: refresh). 1 when the delete was spooled (record withdrawn). */
static int run_expire(struct run *r, const char *domain, const char *master, uint32_t serial,
                      int64_t last_ok, uint32_t expire)
{
	const struct config *cfg = r->cfg;
	struct spool_item it;
	struct zd_err de;

	r->st->expired++;
	log_error(domain, "master=%s expired: serial %u not confirmed since %lld (expire %us)%s",
	          master, serial, (long long)last_ok, expire,
	          cfg->secondary.withdraw_expired ? "; withdrawing it" : "");
	if (!cfg->secondary.withdraw_expired)
		return 0;
	memset(&it, 0, sizeof it);
	it.action = SPOOL_DELETE;
	str_copy(it.domain, domain, sizeof it.domain);
	str_copy(it.source, "refresh", sizeof it.source);
	zd_err_clear(&de);
	if (spool_deliver(cfg->spool_dir, &it, &de) != 0) {
		log_error(domain, "cannot spool the delete of the expired zone: %s", zd_err_str(&de));
		return 0;
	}
	log_info(domain, "item=%s action=delete source=refresh (expired)", it.name);
	r->st->withdrawn++;
	return 1;
}

/* Settle, expire and choose: called with the list entry e (NULL: the zone
 * left the list) and its state s (NULL: new). Runs inside the write
 * transaction of the merge. */
static int run_merge_one(struct run *r, const struct rent *e,
                         const struct secondary_state *s0, const struct refresh_opts *o,
                         struct zd_err *err)
{
	const struct config *cfg = r->cfg;
	struct secondary_state s;
	const char *master, *ekey;
	char why[400];
	size_t mi = 0;
	int key, rc, dirty = 0, expired, due;

	if (e == NULL) {
		/* no longer listed: forget it (it stays served until deleted) */
		log_info(s0->domain, "no longer in %s: refresh state dropped (the zone stays on the "
		         "backends until `zonedrop delete`)", cfg->secondary.zones_file);
		return secondary_state_del(r->store, s0->domain, err);
	}
	if (o->only != NULL && strcmp(o->only, e->domain) != 0)
		return 0;
	master = r->m[e->master].name;
	ekey = e->key >= 0 ? r->keys[e->key] : "";
	if (s0 != NULL) {
		s = *s0;
	} else {
		memset(&s, 0, sizeof s);
		str_copy(s.domain, e->domain, sizeof s.domain);
		dirty = 1;
	}
	if (strcmp(s.master, master) != 0 || strcmp(s.key, ekey) != 0) {
		if (s0 != NULL)
			log_info(e->domain, "master=%s key=%s (was master=%s key=%s): due now", master,
			         ekey[0] ? ekey : "-", s.master, s.key[0] ? s.key : "-");
		str_copy(s.master, master, sizeof s.master);
		str_copy(s.key, ekey, sizeof s.key);
		s.next_due = 0;
		dirty = 1;
	}
	/* a transfer handed to the drain: taken, waiting, or put in bad/ */
	if (s.pending_item[0] != '\0') {
		int where = run_item_where(cfg->spool_dir, s.pending_item, why, sizeof why);

		if (where == 1) {
			r->st->pending++;
			if (dirty && (rc = secondary_state_put(r->store, &s, err)) != 0)
				return rc;
			return 0;
		}
		if (where == 0) {
			s.have_serial = 1;
			s.serial = s.pending_serial;
			s.refresh = s.pending_refresh;
			s.retry = s.pending_retry;
			s.expire = s.pending_expire;
			log_debug(e->domain, "item=%s serial=%u taken by the drain", s.pending_item, s.serial);
		} else {
			char msg[800];

			r->st->drain_rejected++;
			s.failures++;
			snprintf(msg, sizeof msg, "transferred serial %u rejected by the drain (item %s in bad/): %.200s",
			         s.pending_serial, s.pending_item, why);
			str_copy(s.last_error, msg, sizeof s.last_error);
			/* not again next minute: the retry timer of the version held, or backoff */
			s.next_due = refresh_next_fail(r->now, s.have_serial, s.retry, s.failures,
			                               cfg->secondary.refresh_min_ms,
			                               cfg->secondary.refresh_max_ms);
			log_error(e->domain, "master=%s item=%s %s", master, s.pending_item, msg);
		}
		s.pending_item[0] = '\0';
		dirty = 1;
	}
	/* expired: the master has not confirmed the version held for `expire`
	 * seconds. A zone this run asks its master about is judged after the
	 * sweep (run_expire_late): an answer now keeps it (runs may be further
	 * apart than a short expire); the others are judged here. */
	expired = s.have_serial && !s.withdrawn && s.expire_at > 0 && s.expire_at <= r->now;
	due = o->force || !s.have_serial || s.withdrawn || s.next_due <= r->now;
	mi = e->master;
	if (expired && !(due && (o->force || r->mbackoff[mi] <= r->now))) {
		if (run_expire(r, e->domain, master, s.serial, s.last_ok, s.expire)) {
			s.withdrawn = 1;
			dirty = 1;
		}
		expired = 0;
	}
	if (dirty && (rc = secondary_state_put(r->store, &s, err)) != 0)
		return rc;
	if (!due)
		return 0;
	r->st->due++;
	key = run_key(cfg, ekey);
	if ((rc = run_add_zone(r, e, &s, mi, key)) != 0)
		return zd_err_set(err, rc, "out of memory for zones");
	r->z[r->nz - 1].expiring = expired;
	if (key == -2)
		run_fail(r, &r->z[r->nz - 1], "tsig key %s is not in secondary.tsig_keys", ekey);
	else if (key >= 0 && r->secrets[key] == NULL)
		run_fail(r, &r->z[r->nz - 1], "tsig key %s: secret_file unreadable", ekey);
	return 0;
}

/* The zones_file's refused lines, one log line each. */
static void refresh_report_line(const char *msg, void *arg)
{
	const struct run *r = arg;

	log_error(NULL, "%s: %s (line skipped)", r->cfg->secondary.zones_file, msg);
}

static const char *run_strdup(struct run *r, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > RUN_ARENA_CHUNK)
		return NULL;
	if (r->narena == 0 || r->apos + n > RUN_ARENA_CHUNK) {
		char **na = realloc(r->arena, (r->narena + 1) * sizeof *na);

		if (na == NULL)
			return NULL;
		r->arena = na;
		if ((r->arena[r->narena] = malloc(RUN_ARENA_CHUNK)) == NULL)
			return NULL;
		r->narena++;
		r->apos = 0;
	}
	p = r->arena[r->narena - 1] + r->apos;
	memcpy(p, s, n);
	r->apos += n;
	return p;
}

/* secondary_parse_each's callback: one good line into the compact list.
 * A domain listed before: that line's number (the line is refused). */
static int run_list_one(const struct secondary_entry *e, void *arg)
{
	struct run *r = arg;
	size_t k, i, mi;
	int32_t key = -1;

	if (r->ne * 2 >= r->ehcap) {
		size_t ncap = r->ehcap ? r->ehcap * 2 : 1024;
		uint32_t *nh = calloc(ncap, sizeof *nh);

		if (nh == NULL)
			return ZD_ENOMEM;
		for (i = 0; i < r->ne; i++) {
			for (k = run_fnv(r->e[i].domain) & (ncap - 1); nh[k]; k = (k + 1) & (ncap - 1))
				;
			nh[k] = (uint32_t)i + 1;
		}
		free(r->ehash);
		r->ehash = nh;
		r->ehcap = ncap;
	}
	for (k = run_fnv(e->domain) & (r->ehcap - 1); r->ehash[k]; k = (k + 1) & (r->ehcap - 1))
		if (strcmp(r->e[r->ehash[k] - 1].domain, e->domain) == 0)
			return r->e[r->ehash[k] - 1].line;
	if (r->ne == r->ecap) {
		size_t ncap = r->ecap ? r->ecap * 2 : 1024;
		struct rent *ne = realloc(r->e, ncap * sizeof *ne);

		if (ne == NULL)
			return ZD_ENOMEM;
		r->e = ne;
		r->ecap = ncap;
	}
	mi = run_master(r, e->host, e->port);
	if (mi == (size_t)-1)
		return ZD_ENOMEM;
	if (e->key[0] != '\0') {
		for (i = 0; i < r->nkeys; i++)
			if (strcmp(r->keys[i], e->key) == 0)
				break;
		if (i == r->nkeys) {
			char **nk = realloc(r->keys, (r->nkeys + 1) * sizeof *nk);

			if (nk == NULL)
				return ZD_ENOMEM;
			r->keys = nk;
			if ((r->keys[r->nkeys] = strdup(e->key)) == NULL)
				return ZD_ENOMEM;
			r->nkeys++;
		}
		key = (int32_t)i;
	}
	if ((r->e[r->ne].domain = run_strdup(r, e->domain)) == NULL)
		return ZD_ENOMEM;
	r->e[r->ne].master = (uint32_t)mi;
	r->e[r->ne].key = key;
	r->e[r->ne].line = e->line;
	r->ehash[k] = (uint32_t)r->ne + 1;
	r->ne++;
	return 0;
}

struct run_merge {
	struct run *r;
	const struct refresh_opts *o;
	size_t i;                /* next list entry */
	int keep_unlisted;       /* the list had errors: do not drop states */
	struct zd_err *err;
};

static int run_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rent *)a)->domain, ((const struct rent *)b)->domain);
}

static int run_merge_state(const struct secondary_state *s, void *arg)
{
	struct run_merge *mg = arg;
	int rc, c;

	struct run *r = mg->r;

	while (mg->i < r->ne && (c = strcmp(r->e[mg->i].domain, s->domain)) < 0)
		if ((rc = run_merge_one(r, &r->e[mg->i++], NULL, mg->o, mg->err)) != 0)
			return rc;
	if (mg->i < r->ne && strcmp(r->e[mg->i].domain, s->domain) == 0)
		return run_merge_one(r, &r->e[mg->i++], s, mg->o, mg->err);
	if (mg->keep_unlisted || mg->o->only != NULL)
		return 0;
	return run_merge_one(mg->r, NULL, s, mg->o, mg->err);
}

static int run_secret(const char *path, char **out)
{
	char *buf = NULL;
	size_t len = 0, i, o = 0;
	struct zd_err e;

	*out = NULL;
	if (file_read_all(path, 4096, &buf, &len, &e) != 0)
		return -1;
	/* the base64 secret; whitespace ignored */
	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			buf[o++] = buf[i];
	buf[o] = '\0';
	if (o == 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

static void *run_axfr_worker(void *arg)
{
	struct run *r = arg;

	for (;;) {
		struct rz *z;
		struct refresh_tsig tk, *kp = NULL;
		struct spool_item it;
		struct zd_err e;
		char *text = NULL;
		size_t len = 0, j;
		int rc;

		pthread_mutex_lock(&r->mu);
		if (r->next_job >= r->njobs || time_mono_ms() >= r->deadline) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		j = r->jobs[r->next_job++];
		pthread_mutex_unlock(&r->mu);
		z = &r->z[j];
		if (z->key >= 0) {
			tk.name = r->cfg->secondary.tsig_keys[z->key].name;
			tk.algorithm = r->cfg->secondary.tsig_keys[z->key].algorithm;
			tk.secret = r->secrets[z->key];
			kp = &tk;
		}
		zd_err_clear(&e);
		rc = refresh_axfr(&r->m[z->master].ss, r->m[z->master].sslen, z->domain, kp,
		                  REFRESH_AXFR_TIMEOUT_MS, REFRESH_TEXT_MAX, &text, &len, &z->nserial,
		                  &z->nrefresh, &z->nretry, &z->nexpire, &e);
		if (rc != 0) {
			run_fail(r, z, "%s", e.msg);
			continue;
		}
		memset(&it, 0, sizeof it);
		it.action = SPOOL_RAWSAVE;
		str_copy(it.domain, z->domain, sizeof it.domain);
		str_copy(it.source, "refresh", sizeof it.source);
		it.text = text;
		it.text_len = len;
		zd_err_clear(&e);
		rc = spool_deliver(r->cfg->spool_dir, &it, &e);
		it.text = NULL;
		free(text);
		if (rc != 0) {
			run_fail(r, z, "cannot spool the transferred zone: %s", zd_err_str(&e));
			continue;
		}
		z->item = strdup(it.name);
		z->res = RZ_XFR_OK;
		log_info(z->domain, "master=%s item=%s serial=%u transferred (%zu bytes) source=refresh",
		         r->m[z->master].name, it.name, z->nserial, len);
	}
}

int refresh_run(const struct config *cfg, const struct refresh_opts *opts,
                struct refresh_stats *stats, struct zd_err *err)
{
	struct refresh_opts defo = { 0, 0, NULL };
	const struct refresh_opts *o = opts ? opts : &defo;
	struct run r;
	struct run_merge mg;
	struct refresh_query *q = NULL;
	size_t *qz = NULL, nq = 0, i, sent = 0;
	char lockpath[ZD_PATH_MAX];
	int lockfd = -1, rc = 0, in_txn = 0, failed = 0;
	int64_t t0 = time_mono_ms(), deadline;
	pthread_t th[REFRESH_AXFR_THREADS];
	size_t nth = 0;

	memset(stats, 0, sizeof *stats);
	memset(&r, 0, sizeof r);
	r.cfg = cfg;
	r.st = stats;
	deadline = t0 + (o->deadline_ms > 0 ? o->deadline_ms : REFRESH_DEADLINE_MS);
	if (cfg->secondary.zones_file == NULL)
		return zd_err_set(err, ZD_ECONFIG, "%s: secondary.zones_file is not set", cfg->path);
	/* one refresh at a time (not the spool lock: the drain holds that) */
	if ((rc = mkdir_p(cfg->state_dir, 0750, err)) != 0)
		return rc;
	if (path_join(lockpath, sizeof lockpath, cfg->state_dir, "refresh.lock") != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", cfg->state_dir);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lockfd < 0)
		return zd_err_sys(err, ZD_EIO, "open %s", lockpath);
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? zd_err_set(err, ZD_EBUSY, "%s is held: another refresh runs",
		                                       lockpath)
		                          : zd_err_sys(err, ZD_EIO, "lock %s", lockpath);
		close(lockfd);
		return rc;
	}
	pthread_mutex_init(&r.mu, NULL);
	r.secrets = calloc(cfg->secondary.ntsig_keys + 1, sizeof *r.secrets);
	if (r.secrets == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < cfg->secondary.ntsig_keys; i++)
		if (run_secret(cfg->secondary.tsig_keys[i].secret_file, &r.secrets[i]) != 0)
			log_error(NULL, "tsig key %s: cannot read a secret from %s",
			          cfg->secondary.tsig_keys[i].name, cfg->secondary.tsig_keys[i].secret_file);
	{
		char *buf = NULL;
		size_t len = 0;
		struct zd_err le;

		/* refused lines are reported and skipped; the run goes on (exit 1) */
		zd_err_clear(&le);
		rc = file_read_all(cfg->secondary.zones_file, 256u << 20, &buf, &len, &le);
		if (rc != 0 && le.sys_errno == ENOENT) {
			log_warning(NULL, "%s: no such file: no secondary zones", cfg->secondary.zones_file);
			rc = 0;
		} else if (rc != 0) {
			rc = zd_err_set(err, ZD_ECONFIG, "secondary.zones_file: %s", zd_err_str(&le));
			goto out;
		} else {
			rc = secondary_parse_each(buf, len, run_list_one, refresh_report_line, &r,
			                          &r.errors);
			free(buf);
			if (rc != 0) {
				rc = zd_err_set(err, rc, "out of memory reading %s", cfg->secondary.zones_file);
				goto out;
			}
			if (r.errors > 0)
				failed = 1;
		}
		free(r.ehash);   /* duplicates are found; the merge walks in domain order */
		r.ehash = NULL;
	}
	stats->zones = r.ne;
	qsort(r.e, r.ne, sizeof *r.e, run_entry_cmp);
	if ((rc = store_open(cfg->state_dir, 0, &r.store, err)) != 0)
		goto out;
	if ((rc = secondary_db_init(r.store, err)) != 0)
		goto out;
	/* the store's 32 MB page cache is for the drain; one pass over the
	 * secondary tables needs little (peak RSS target: 64 MB at 170k zones) */
	sqlite3_exec(store_sqlite(r.store), "PRAGMA cache_size = -" REFRESH_CACHE_KB, NULL, NULL, NULL);
	r.now = time_now();
	if ((rc = secondary_master_each(r.store, run_master_state, &r, err)) != 0)
		goto out;
	/* merge list and state: new rows, settled transfers, expiry, the due set */
	if ((rc = store_begin(r.store, err)) != 0)
		goto out;
	in_txn = 1;
	memset(&mg, 0, sizeof mg);
	mg.r = &r;
	mg.o = o;
	mg.keep_unlisted = r.errors > 0;
	mg.err = err;
	if ((rc = secondary_state_each(r.store, run_merge_state, &mg, err)) != 0)
		goto out;
	while (mg.i < r.ne)
		if ((rc = run_merge_one(&r, &r.e[mg.i++], NULL, o, err)) != 0)
			goto out;
	if ((rc = store_commit(r.store, err)) != 0)
		goto out;
	in_txn = 0;
	stats->masters = r.nm;
	/* the sweep: zones whose master is not backed off and that need asking */
	q = calloc(r.nz ? r.nz : 1, sizeof *q);
	qz = calloc(r.nz ? r.nz : 1, sizeof *qz);
	if (q == NULL || qz == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory for %zu zones", r.nz);
		goto out;
	}
	for (i = 0; i < r.nz; i++) {
		struct rz *z = &r.z[i];

		if (z->res != RZ_NONE)
			continue;
		if (r.mbackoff[z->master] > r.now && !o->force) {
			stats->backoff++;
			continue;
		}
		q[nq].domain = z->domain;
		q[nq].master = z->master;
		qz[nq++] = i;
	}
	{
		size_t mlog = 0;

		for (i = 0; i < r.nm; i++)
			if (r.mbackoff[i] > r.now && !o->force)
				mlog++;
		if (mlog > 0)
			log_info(NULL, "%zu master(s) backed off: %zu due zone(s) wait for them", mlog,
			         stats->backoff);
	}
	if ((rc = refresh_soa_sweep(r.m, r.nm, q, nq, cfg->secondary.concurrency,
	                            cfg->secondary.per_master, cfg->secondary.query_timeout_ms,
	                            deadline, &sent, err)) != 0)
		goto out;
	stats->soa_queries = sent;
	for (i = 0; i < nq; i++) {
		struct rz *z = &r.z[qz[i]];

		switch (q[i].state) {
		case REFRESH_Q_PENDING:
			stats->not_done++;
			break;
		case REFRESH_Q_SERIAL:
			stats->checked++;
			if (refresh_serial_wanted(z->have_serial, z->serial, q[i].serial)) {
				z->res = RZ_XFR_WANT;
				stats->changed++;
				log_debug(z->domain, "master=%s serial=%u held=%u%s: transfer", r.m[z->master].name,
				          q[i].serial, z->serial, z->have_serial ? "" : " (none)");
			} else {
				z->res = RZ_OK;
				stats->unchanged++;
				if (q[i].serial != z->serial)
					log_warning(z->domain, "master=%s serial=%u is older than the one held (%u): "
					            "not transferred", r.m[z->master].name, q[i].serial, z->serial);
			}
			break;
		case REFRESH_Q_ERROR:
			run_fail(&r, z, "SOA query answered %s without the zone's SOA (not authoritative "
			         "for it?)", q[i].rcode >= 0 && ldns_lookup_by_id(ldns_rcodes, q[i].rcode)
			         ? ldns_lookup_by_id(ldns_rcodes, q[i].rcode)->name : "?");
			break;
		case REFRESH_Q_TIMEOUT:
			run_fail(&r, z, "no answer to the SOA query (%d tries, %lld ms each)",
			         REFRESH_SOA_TRIES, (long long)cfg->secondary.query_timeout_ms);
			break;
		case REFRESH_Q_DOWN:
			z->res = RZ_FAIL;
			z->why = strdup("master down: not asked (its other zones got no answer)");
			break;
		}
	}
	/* masters: down ones back off, answering ones are cleared */
	for (i = 0; i < r.nm; i++) {
		if (r.m[i].down || (r.m[i].timeouts > 0 && !r.m[i].answered)) {
			size_t nz = 0, k;

			for (k = 0; k < nq; k++)
				if (q[k].master == i)
					nz++;
			stats->masters_down++;
			r.mfail[i]++;
			r.mbackoff[i] = refresh_master_backoff(r.now, r.mfail[i],
			                                       cfg->secondary.refresh_min_ms,
			                                       cfg->secondary.refresh_max_ms);
			log_error(NULL, "master=%s down: no answer (%zu zone(s) failing); asked again after "
			          "%llds", r.m[i].name, nz, (long long)(r.mbackoff[i] - r.now));
		}
	}
	/* the sweep's arrays are done with: the transfers' memory comes instead */
	free(q);
	free(qz);
	q = NULL;
	qz = NULL;
	/* the transfers */
	r.jobs = calloc(r.nz ? r.nz : 1, sizeof *r.jobs);
	if (r.jobs == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < r.nz; i++)
		if (r.z[i].res == RZ_XFR_WANT)
			r.jobs[r.njobs++] = i;
	r.deadline = deadline;
	for (nth = 0; nth < REFRESH_AXFR_THREADS && nth < r.njobs; nth++)
		if (pthread_create(&th[nth], NULL, run_axfr_worker, &r) != 0)
			break;
	if (nth == 0 && r.njobs > 0)
		run_axfr_worker(&r);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	/* expiry of the zones asked this run: unless the master confirmed them now */
	for (i = 0; i < r.nz; i++) {
		struct rz *z = &r.z[i];

		if (z->expiring && z->res != RZ_OK && z->res != RZ_XFR_OK)
			z->withdraw = run_expire(&r, z->domain, r.m[z->master].name, z->serial, z->last_ok,
			                         z->expire);
	}
	/* record: one short transaction */
	if ((rc = store_begin(r.store, err)) != 0)
		goto out;
	in_txn = 1;
	for (i = 0; i < r.nz; i++) {
		struct rz *z = &r.z[i];
		const struct config *c = cfg;

		switch (z->res) {
		case RZ_OK:
			rc = secondary_mark_ok(r.store, z->domain, r.now,
			                       refresh_next_ok(r.now, z->refresh, c->secondary.refresh_min_ms,
			                                       c->secondary.refresh_max_ms),
			                       z->expire ? r.now + z->expire : 0, err);
			break;
		case RZ_XFR_OK:
			stats->transferred++;
			rc = secondary_mark_transfer(r.store, z->domain, r.now,
			                             refresh_next_ok(r.now, z->nrefresh,
			                                             c->secondary.refresh_min_ms,
			                                             c->secondary.refresh_max_ms),
			                             z->nexpire ? r.now + z->nexpire : 0, z->nserial,
			                             z->nrefresh, z->nretry, z->nexpire,
			                             z->item ? z->item : "", err);
			break;
		case RZ_FAIL:
			stats->failed++;
			rc = secondary_mark_fail(r.store, z->domain, r.now,
			                         refresh_next_fail(r.now, z->have_serial, z->retry,
			                                           z->failures + 1, c->secondary.refresh_min_ms,
			                                           c->secondary.refresh_max_ms),
			                         z->why ? z->why : "failed", err);
			break;
		case RZ_XFR_WANT:
			stats->not_done++;   /* deadline before its transfer: due next run */
			break;
		case RZ_NONE:
			break;
		}
		if (rc == 0 && z->withdraw) {
			struct secondary_state ws;

			if ((rc = secondary_state_get(r.store, z->domain, &ws, err)) == 0) {
				ws.withdrawn = 1;
				rc = secondary_state_put(r.store, &ws, err);
			}
		}
		if (rc != 0)
			goto out;
	}
	for (i = 0; i < r.nm; i++) {
		struct secondary_master_state ms;
		int down = r.m[i].down || (r.m[i].timeouts > 0 && !r.m[i].answered);

		if (!down && !r.m[i].answered)
			continue;   /* not asked this run: keep its backoff */
		memset(&ms, 0, sizeof ms);
		str_copy(ms.master, r.m[i].name, sizeof ms.master);
		ms.failures = down ? r.mfail[i] : 0;
		ms.backoff_until = down ? r.mbackoff[i] : 0;
		if (down)
			str_copy(ms.last_error, "no answer to SOA queries", sizeof ms.last_error);
		if ((rc = secondary_master_put(r.store, &ms, err)) != 0)
			goto out;
	}
	if ((rc = secondary_counter_add(r.store, "soa_queries", (int64_t)sent, err)) != 0 ||
	    (rc = secondary_counter_add(r.store, "soa_checked", (int64_t)stats->checked, err)) != 0 ||
	    (rc = secondary_counter_add(r.store, "axfr_ok", (int64_t)stats->transferred, err)) != 0 ||
	    (rc = secondary_counter_add(r.store, "axfr_wanted", (int64_t)stats->changed, err)) != 0 ||
	    (rc = secondary_counter_add(r.store, "failures", (int64_t)stats->failed, err)) != 0 ||
	    (rc = secondary_counter_add(r.store, "drain_rejected", (int64_t)stats->drain_rejected,
	                                err)) != 0)
		goto out;
	if ((rc = store_commit(r.store, err)) != 0)
		goto out;
	in_txn = 0;
	if (stats->failed > 0 || stats->expired > 0 || stats->drain_rejected > 0)
		failed = 1;
out:
	if (in_txn)
		store_rollback(r.store);
	stats->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	if (r.store != NULL) {
		secondary_release(r.store);
		store_close(r.store);
	}
	for (i = 0; i < r.nz; i++) {
		free(r.z[i].why);
		free(r.z[i].item);
	}
	free(r.z);
	free(r.m);
	free(r.mbackoff);
	free(r.mfail);
	free(r.mhash);
	free(r.jobs);
	if (r.secrets != NULL)
		for (i = 0; i < cfg->secondary.ntsig_keys; i++)
			free(r.secrets[i]);
	free(r.secrets);
	free(q);
	free(qz);
	free(r.e);
	free(r.ehash);
	for (i = 0; i < r.narena; i++)
		free(r.arena[i]);
	free(r.arena);
	for (i = 0; i < r.nkeys; i++)
		free(r.keys[i]);
	free(r.keys);
	pthread_mutex_destroy(&r.mu);
	if (lockfd >= 0)
		close(lockfd);
	if (rc != 0)
		return rc;
	return failed ? 1 : 0;
}

