/* verify.c -- ask a nameserver which SOA serial it serves (ldns, UDP, many in flight)
 *
 * One non-blocking UDP socket connected to the server; every zone's query
 * gets a random, unused 16-bit ID (an ID -> zone table), at most
 * VERIFY_INFLIGHT_MAX unanswered at once. Queues drive the loop, so each
 * step costs O(1) per zone and 100k zones never mean 100k scans:
 *   ready    zones to ask now;
 *   in flight (an array, at most 256): a query older than rto (from the
 *            answer times seen, 200 ms to 3 s) is lost and asked again with
 *            a new ID; the old ID stays valid for rto more (stale), so a
 *            slow server's late answers still count instead of every query
 *            being asked again forever;
 *   waiting  answered but not yet as expected: asked again poll_ms after
 *            the answer (a reload returns before the zone is loaded, so one
 *            answer is never the verdict); with many zones waiting, each
 *            backs off up to VERIFY_BACKOFF_MAX_MS.
 * Packets are built with ldns_pkt_query_new()/ldns_pkt2wire() and read with
 * ldns_wire2pkt(); a truncated answer is asked again over TCP (ldns_tcp_send,
 * blocking, rare: SOA answers fit in UDP). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "zonedrop/util.h"
#include "zonedrop/verify.h"

#define VERIFY_INFLIGHT_MAX 256
#define VERIFY_EDNS_SIZE 1232
#define VERIFY_TCP_TIMEOUT_MS 3000
#define VERIFY_NO_ID (-1)
#define VERIFY_BACKOFF_MAX_MS 1000
#define VERIFY_LEVELS 5              /* poll_ms x1, x2, x4, x8, then the maximum */
#define VERIFY_RTO_FIRST_MS 1000     /* before any answer was timed */
#define VERIFY_RTO_MIN_MS 200
#define VERIFY_RTO_MAX_MS 3000
#define VERIFY_STALE_MAX 8192          /* beyond this a given-up ID is forgotten at once */

/* Per zone, beside the caller's struct verify_query. */
struct verify_slot {
	int id;                  /* ID of the query in flight, VERIFY_NO_ID when none */
	int64_t sent_at;         /* when that query left */
	unsigned pos;            /* its place in inflight[] */
	unsigned answered : 1;   /* some answer came back at least once */
	unsigned done : 1;       /* matched: no more queries */
	unsigned misses : 4;     /* answers that did not match yet (backoff) */
	unsigned queued : 1;     /* in ready or in a waiting queue (never both, never twice) */
	ldns_rdf *dname;         /* the zone as an absolute name */
};

/* A ring of zones in time order that grows as needed, up to max entries. */
struct verify_ent {
	uint32_t idx;
	int32_t id;              /* stale: the ID given up on */
	int64_t at;              /* waiting: ask again at; stale: forget the ID at */
};

struct verify_fifo {
	struct verify_ent *e;
	size_t head, len, cap, max;
};

struct verify_run {
	int fd;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct verify_query *q;
	struct verify_slot *slot;
	size_t n;
	size_t left;             /* zones not done */
	int64_t poll_ms;
	int first_answer;        /* verify_soa_once: any answer ends the zone */
	int32_t *idmap;          /* 65536 entries: ID -> zone index, -1 free */
	size_t inflight;
	size_t infl[VERIFY_INFLIGHT_MAX];   /* the zones with a query in flight */
	int64_t srtt;            /* smoothed answer time (ms), 0 until the first answer */
	int64_t rto;             /* a query unanswered this long is asked again */
	struct verify_fifo ready, waiting[VERIFY_LEVELS];
	struct verify_fifo stale; /* IDs given up on: a late answer still counts until rto more */
	uint16_t rnd[256];
	size_t nrnd;
	int net_errno;           /* last send/recv error (e.g. ECONNREFUSED) */
};

static void fifo_init(struct verify_fifo *f, size_t max)
{
	memset(f, 0, sizeof *f);
	f->max = max ? max : 1;
}

static void fifo_free(struct verify_fifo *f)
{
	free(f->e);
	memset(f, 0, sizeof *f);
}

static int fifo_push(struct verify_fifo *f, size_t idx, int64_t at, int id)
{
	size_t pos;

	if (f->len == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64, k;
		struct verify_ent *ne;

		if (f->cap >= f->max)
			return ZD_E2BIG;
		if (ncap > f->max)
			ncap = f->max;
		ne = malloc(ncap * sizeof *ne);
		if (ne == NULL)
			return ZD_ENOMEM;
		for (k = 0; k < f->len; k++)
			ne[k] = f->e[(f->head + k) % f->cap];
		free(f->e);
		f->e = ne;
		f->head = 0;
		f->cap = ncap;
	}
	pos = (f->head + f->len) % f->cap;
	f->e[pos].idx = (uint32_t)idx;
	f->e[pos].at = at;
	f->e[pos].id = id;
	f->len++;
	return 0;
}

static void fifo_pop(struct verify_fifo *f)
{
	f->head = (f->head + 1) % f->cap;
	f->len--;
}

static void infl_add(struct verify_run *r, size_t i)
{
	r->slot[i].pos = (unsigned)r->inflight;
	r->infl[r->inflight++] = i;
}

static void infl_del(struct verify_run *r, size_t i)
{
	size_t pos = r->slot[i].pos, last = r->infl[r->inflight - 1];

	r->infl[pos] = last;
	r->slot[last].pos = (unsigned)pos;
	r->inflight--;
}

static uint16_t verify_random16(struct verify_run *r)
{
	if (r->nrnd == 0) {
		size_t got = 0;

		while (got < sizeof r->rnd) {
			ssize_t k = getrandom((char *)r->rnd + got, sizeof r->rnd - got, 0);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				/* no entropy source: fall back on something, IDs only need to differ */
				for (size_t i = 0; i < 256; i++)
					r->rnd[i] = (uint16_t)(random() & 0xffff);
				break;
			}
			got += (size_t)k;
		}
		r->nrnd = 256;
	}
	return r->rnd[--r->nrnd];
}

static int verify_resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
                          struct zd_err *err)
{
	struct addrinfo hints, *res = NULL;
	char portstr[16];
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc == EAI_NONAME) {
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(host, portstr, &hints, &res);
	}
	if (rc != 0 || res == NULL)
		return zd_err_set(err, ZD_EDNS, "verify address %s@%d: %s", host, port,
		                  rc != 0 ? gai_strerror(rc) : "no address");
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* The wire form of an SOA query for slot i with id (no RD, EDNS0). */
static int verify_build(struct verify_run *r, size_t i, uint16_t id, uint8_t **wire, size_t *len)
{
	ldns_pkt *p;
	ldns_status s;

	p = ldns_pkt_query_new(ldns_rdf_clone(r->slot[i].dname), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
	if (p == NULL)
		return ZD_ENOMEM;
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_rd(p, false);
	ldns_pkt_set_edns_udp_size(p, VERIFY_EDNS_SIZE);
	s = ldns_pkt2wire(wire, p, len);
	ldns_pkt_free(p);
	return s == LDNS_STATUS_OK ? 0 : ZD_ENOMEM;
}

static int verify_send(struct verify_run *r, size_t i, int64_t now)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	uint16_t id;
	int tries, rc;

	for (tries = 0; tries < 64; tries++) {
		id = verify_random16(r);
		if (r->idmap[id] < 0)
			break;
	}
	if (tries == 64)
		return ZD_EBUSY;   /* cannot happen with 256 in flight; be safe */
	if ((rc = verify_build(r, i, id, &wire, &len)) != 0)
		return rc;
	if (send(r->fd, wire, len, 0) < 0) {
		r->net_errno = errno;
		LDNS_FREE(wire);
		/* EAGAIN (socket buffer full) or ECONNREFUSED (ICMP from an earlier
		 * query): the zone waits one poll_ms and is asked again */
		r->slot[i].queued = 1;
		return fifo_push(&r->waiting[0], i, now + r->poll_ms, 0);
	}
	LDNS_FREE(wire);
	r->idmap[id] = (int32_t)i;
	r->slot[i].id = id;
	r->slot[i].sent_at = now;
	infl_add(r, i);
	return 0;
}

/* Classify an answer for slot i; 1 when it matches the expectation. */
static int verify_judge(struct verify_run *r, size_t i, ldns_pkt *p)
{
	struct verify_query *q = &r->q[i];
	ldns_rr_list *ans = ldns_pkt_answer(p);
	ldns_pkt_rcode rc = ldns_pkt_get_rcode(p);
	size_t k;
	int served = 0;
	uint32_t serial = 0;

	q->rcode = (int)rc;
	if (rc == LDNS_RCODE_NOERROR && ldns_pkt_aa(p) && ans != NULL) {
		for (k = 0; k < ldns_rr_list_rr_count(ans); k++) {
			ldns_rr *rr = ldns_rr_list_rr(ans, k);
			ldns_rdf *sr;

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
			    ldns_dname_compare(ldns_rr_owner(rr), r->slot[i].dname) != 0)
				continue;
			sr = ldns_rr_rdf(rr, 2);
			if (sr == NULL || ldns_rdf_get_type(sr) != LDNS_RDF_TYPE_INT32)
				continue;
			serial = ldns_rdf2native_int32(sr);
			served = 1;
			break;
		}
	}
	if (served) {
		q->got_serial = serial;
		q->state = q->want_present && serial != q->serial ? VERIFY_OTHER : VERIFY_SERVED;
	} else {
		q->got_serial = 0;
		q->state = VERIFY_ABSENT;
	}
	if (q->want_present)
		q->ok = served && serial == q->serial;
	else
		/* REFUSED, NXDOMAIN, a parent's answer: gone. SERVFAIL is a zone the
		 * server still has configured but cannot load: not gone. */
		q->ok = !served && rc != LDNS_RCODE_SERVFAIL && rc != LDNS_RCODE_FORMERR &&
		        rc != LDNS_RCODE_NOTIMPL;
	return q->ok;
}

/* The rare truncated answer: the same question over TCP, blocking. */
static ldns_pkt *verify_tcp(struct verify_run *r, size_t i)
{
	ldns_pkt *qp = NULL, *ap = NULL;
	ldns_buffer *qbin = NULL;
	uint8_t *answer = NULL;
	size_t alen = 0;
	struct timeval tv;

	qp = ldns_pkt_query_new(ldns_rdf_clone(r->slot[i].dname), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
	if (qp == NULL)
		goto out;
	ldns_pkt_set_id(qp, verify_random16(r));
	ldns_pkt_set_rd(qp, false);
	qbin = ldns_buffer_new(LDNS_MIN_BUFLEN);
	if (qbin == NULL || ldns_pkt2buffer_wire(qbin, qp) != LDNS_STATUS_OK)
		goto out;
	tv.tv_sec = VERIFY_TCP_TIMEOUT_MS / 1000;
	tv.tv_usec = (VERIFY_TCP_TIMEOUT_MS % 1000) * 1000;
	if (ldns_tcp_send(&answer, qbin, &r->ss, r->sslen, tv, &alen) != LDNS_STATUS_OK)
		goto out;
	if (ldns_wire2pkt(&ap, answer, alen) != LDNS_STATUS_OK) {
		ap = NULL;
		goto out;
	}
	if (ldns_pkt_id(ap) != ldns_pkt_id(qp)) {
		ldns_pkt_free(ap);
		ap = NULL;
	}
out:
	LDNS_FREE(answer);
	ldns_buffer_free(qbin);
	ldns_pkt_free(qp);
	return ap;
}

/* The question of p must be the one asked of slot i (IDs alone can be guessed). */
static int verify_question_ok(struct verify_run *r, size_t i, ldns_pkt *p)
{
	ldns_rr_list *qs = ldns_pkt_question(p);
	ldns_rr *qr;

	if (qs == NULL || ldns_rr_list_rr_count(qs) != 1)
		return 0;
	qr = ldns_rr_list_rr(qs, 0);
	return ldns_rr_get_type(qr) == LDNS_RR_TYPE_SOA &&
	       ldns_dname_compare(ldns_rr_owner(qr), r->slot[i].dname) == 0;
}

/* When to ask a zone again after an answer that did not match: poll_ms
 * while few zones wait; with many, each zone backs off (x2 per miss, up to
 * VERIFY_BACKOFF_MAX_MS), so a server reloading 100k zones is not asked
 * 1M times a second, and NSD's rate limit on error answers (200/s from one
 * /24 by default) is not tripped more than needed. One FIFO per step keeps
 * every queue in time order. Returns the step. */
static size_t verify_level(struct verify_run *r, size_t i)
{
	size_t k;

	if (r->slot[i].misses < 15)
		r->slot[i].misses++;
	if (r->left <= VERIFY_INFLIGHT_MAX)
		return 0;
	k = r->slot[i].misses - 1u;
	return k < VERIFY_LEVELS ? k : VERIFY_LEVELS - 1;
}

static int64_t verify_level_ms(const struct verify_run *r, size_t k)
{
	int64_t ms = r->poll_ms;

	while (k-- > 0 && ms < VERIFY_BACKOFF_MAX_MS)
		ms *= 2;
	return ms > VERIFY_BACKOFF_MAX_MS && r->poll_ms <= VERIFY_BACKOFF_MAX_MS ? VERIFY_BACKOFF_MAX_MS
	                                                                        : ms;
}

static int verify_receive(struct verify_run *r, int64_t now)
{
	uint8_t buf[65536];

	for (;;) {
		ssize_t len = recv(r->fd, buf, sizeof buf, 0);
		ldns_pkt *p = NULL, *tp = NULL;
		uint16_t id;
		int32_t i;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			/* ECONNREFUSED: nothing listens (yet); the lost queries are asked again */
			r->net_errno = errno;
			return 0;
		}
		if (len < 12 || ldns_wire2pkt(&p, buf, (size_t)len) != LDNS_STATUS_OK)
			continue;
		id = ldns_pkt_id(p);
		i = r->idmap[id];
		if (i < 0 || !ldns_pkt_qr(p) || !verify_question_ok(r, (size_t)i, p)) {
			ldns_pkt_free(p);
			continue;
		}
		r->idmap[id] = -1;
		if (r->slot[i].id == id) {
			/* the query in flight: time it (a slow server stretches rto, so
			 * answers are not thrown away for being late) */
			int64_t rtt = now - r->slot[i].sent_at, rto;

			r->slot[i].id = VERIFY_NO_ID;
			infl_del(r, (size_t)i);
			r->srtt = r->srtt == 0 ? rtt + 1 : (7 * r->srtt + rtt + 1) / 8;
			rto = 3 * r->srtt + 30;
			if (rto < r->poll_ms)
				rto = r->poll_ms;
			if (rto < VERIFY_RTO_MIN_MS)
				rto = VERIFY_RTO_MIN_MS;
			r->rto = rto > VERIFY_RTO_MAX_MS ? VERIFY_RTO_MAX_MS : rto;
		}
		/* else a late answer to a query given up on: it still tells the truth */
		if (r->slot[i].done) {
			ldns_pkt_free(p);
			continue;
		}
		r->slot[i].answered = 1;
		if (ldns_pkt_tc(p)) {
			tp = verify_tcp(r, (size_t)i);
			if (tp != NULL) {
				ldns_pkt_free(p);
				p = tp;
			}
		}
		if (verify_judge(r, (size_t)i, p) || r->first_answer) {
			r->slot[i].done = 1;
			r->left--;
		} else if (r->slot[i].id == VERIFY_NO_ID && !r->slot[i].queued) {
			size_t k = verify_level(r, (size_t)i);

			r->slot[i].queued = 1;
			if (fifo_push(&r->waiting[k], (size_t)i, now + verify_level_ms(r, k), 0) != 0) {
				ldns_pkt_free(p);
				return ZD_E2BIG;
			}
		}
		/* (a newer query of this zone is still in flight: its answer decides) */
		ldns_pkt_free(p);
	}
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int verify_loop(struct verify_run *r, int64_t timeout_ms)
{
	int64_t now = time_mono_ms(), deadline = now + timeout_ms;
	int rc;

	while (r->left > 0) {
		int64_t wake;
		struct pollfd pf;
		size_t k;

		now = time_mono_ms();
		if (now >= deadline)
			break;
		/* lost queries: no answer within rto; the ID stays valid for a late answer */
		for (k = 0; k < r->inflight;) {
			size_t i = r->infl[k];
			int id = r->slot[i].id;

			if (!r->slot[i].done && r->slot[i].sent_at + r->rto > now) {
				k++;
				continue;
			}
			infl_del(r, i);   /* infl[k] is now another zone: look at k again */
			r->slot[i].id = VERIFY_NO_ID;
			if (r->slot[i].done || fifo_push(&r->stale, i, now + r->rto, id) != 0)
				r->idmap[id] = -1;
			if (!r->slot[i].done && !r->slot[i].queued) {
				r->slot[i].queued = 1;
				if ((rc = fifo_push(&r->ready, i, now, 0)) != 0)
					return rc;
			}
		}
		while (r->stale.len > 0 && r->stale.e[r->stale.head].at <= now) {
			size_t h = r->stale.head, i = r->stale.e[h].idx;
			int id = r->stale.e[h].id;

			fifo_pop(&r->stale);
			if (r->idmap[id] == (int32_t)i && r->slot[i].id != id)
				r->idmap[id] = -1;
		}
		for (k = 0; k < VERIFY_LEVELS; k++)
			while (r->waiting[k].len > 0 && r->waiting[k].e[r->waiting[k].head].at <= now) {
				size_t i = r->waiting[k].e[r->waiting[k].head].idx;

				fifo_pop(&r->waiting[k]);
				if ((rc = fifo_push(&r->ready, i, now, 0)) != 0)
					return rc;
			}
		while (r->ready.len > 0 && r->inflight < VERIFY_INFLIGHT_MAX) {
			size_t i = r->ready.e[r->ready.head].idx;

			fifo_pop(&r->ready);
			r->slot[i].queued = 0;
			if (r->slot[i].done || r->slot[i].id != VERIFY_NO_ID)
				continue;
			if ((rc = verify_send(r, i, now)) != 0)
				return rc;
		}
		/* sleep until an answer, a lost query's time, a retry's time or the deadline */
		wake = deadline;
		for (k = 0; k < r->inflight; k++)
			wake = min64(wake, r->slot[r->infl[k]].sent_at + r->rto);
		if (r->stale.len > 0)
			wake = min64(wake, r->stale.e[r->stale.head].at);
		for (k = 0; k < VERIFY_LEVELS; k++)
			if (r->waiting[k].len > 0)
				wake = min64(wake, r->waiting[k].e[r->waiting[k].head].at);
		if (r->ready.len > 0 && r->inflight < VERIFY_INFLIGHT_MAX)
			wake = now;
		pf.fd = r->fd;
		pf.events = POLLIN;
		pf.revents = 0;
		if (poll(&pf, 1, (int)(wake > now ? min64(wake - now, 1000) : 0)) < 0 && errno != EINTR)
			return ZD_EIO;
		if (pf.revents & (POLLIN | POLLERR))
			if ((rc = verify_receive(r, time_mono_ms())) != 0)
				return rc;
	}
	return 0;
}

static int verify_do(const char *host, int port, struct verify_query *q, size_t n,
                     int64_t timeout_ms, int64_t poll_ms, int first_answer, struct zd_err *err)
{
	struct verify_run r;
	size_t i;
	int rc = 0;

	memset(&r, 0, sizeof r);
	r.fd = -1;
	r.q = q;
	r.n = n;
	r.poll_ms = poll_ms > 0 ? poll_ms : 100;
	r.first_answer = first_answer;
	for (i = 0; i < n; i++) {
		q[i].state = VERIFY_PENDING;
		q[i].got_serial = 0;
		q[i].ok = 0;
		q[i].rcode = -1;
	}
	if (n == 0)
		return 0;
	if (host == NULL || host[0] == '\0')
		host = "127.0.0.1";
	if (port <= 0)
		port = 53;
	if ((rc = verify_resolve(host, port, &r.ss, &r.sslen, err)) != 0)
		return rc;
	r.slot = calloc(n, sizeof *r.slot);
	r.idmap = malloc(65536 * sizeof *r.idmap);
	if (r.slot == NULL || r.idmap == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory for %zu queries", n);
		goto out;
	}
	/* every zone is in at most one of ready and waiting[] at a time */
	fifo_init(&r.ready, n);
	for (i = 0; i < VERIFY_LEVELS; i++)
		fifo_init(&r.waiting[i], n);
	fifo_init(&r.stale, VERIFY_STALE_MAX);
	r.rto = r.poll_ms > VERIFY_RTO_FIRST_MS ? r.poll_ms : VERIFY_RTO_FIRST_MS;
	for (i = 0; i < 65536; i++)
		r.idmap[i] = -1;
	for (i = 0; i < n; i++) {
		char name[300];
		int k = snprintf(name, sizeof name, "%s.", q[i].domain ? q[i].domain : "");

		r.slot[i].id = VERIFY_NO_ID;
		if (k < 0 || (size_t)k >= sizeof name || q[i].domain == NULL || q[i].domain[0] == '\0' ||
		    ldns_str2rdf_dname(&r.slot[i].dname, name) != LDNS_STATUS_OK) {
			r.slot[i].dname = NULL;
			r.slot[i].done = 1;   /* not a name: stays PENDING, never ok */
			continue;
		}
		ldns_dname2canonical(r.slot[i].dname);
		r.left++;
		r.slot[i].queued = 1;
		if (fifo_push(&r.ready, i, 0, 0) != 0) {
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory for %zu queries", n);
			goto out;
		}
	}
	r.fd = socket(r.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r.fd < 0) {
		rc = zd_err_sys(err, ZD_EIO, "verify: socket");
		goto out;
	}
	/* connected: only the server's answers reach us, and ICMP errors are reported */
	if (connect(r.fd, (struct sockaddr *)&r.ss, r.sslen) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "verify: connect to %s@%d", host, port);
		goto out;
	}
	rc = verify_loop(&r, timeout_ms);
	if (rc != 0) {
		rc = zd_err_set(err, rc == ZD_ENOMEM ? ZD_ENOMEM : ZD_EIO, "verify: query loop failed");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!r.slot[i].answered && r.slot[i].dname != NULL)
			q[i].state = VERIFY_NOANSWER;
out:
	if (r.fd >= 0)
		close(r.fd);
	if (r.slot != NULL)
		for (i = 0; i < n; i++)
			ldns_rdf_deep_free(r.slot[i].dname);
	free(r.slot);
	free(r.idmap);
	fifo_free(&r.ready);
	for (i = 0; i < VERIFY_LEVELS; i++)
		fifo_free(&r.waiting[i]);
	fifo_free(&r.stale);
	return rc;
}

const char *verify_rcode_name(int rcode)
{
	ldns_lookup_table *t;

	if (rcode < 0)
		return "no answer";
	t = ldns_lookup_by_id(ldns_rcodes, rcode);
	return t != NULL && t->name != NULL ? t->name : "unknown rcode";
}

int verify_soa(const char *host, int port, struct verify_query *q, size_t n, int64_t timeout_ms,
               int64_t poll_ms, struct zd_err *err)
{
	return verify_do(host, port, q, n, timeout_ms, poll_ms, 0, err);
}

int verify_soa_first(const char *host, int port, struct verify_query *q, size_t n,
                     int64_t timeout_ms, struct zd_err *err)
{
	return verify_do(host, port, q, n, timeout_ms, timeout_ms < 1000 ? timeout_ms : 1000, 1, err);
}

int verify_soa_once(const char *host, int port, const char *domain, uint32_t *serial,
                    int64_t timeout_ms, struct zd_err *err)
{
	struct verify_query q;
	int rc;

	memset(&q, 0, sizeof q);
	q.domain = domain;
	q.want_present = 1;
	/* a lost datagram is asked again once a second until timeout_ms */
	rc = verify_do(host, port, &q, 1, timeout_ms, timeout_ms < 1000 ? timeout_ms : 1000, 1, err);
	if (rc != 0)
		return rc;
	if (q.state == VERIFY_NOANSWER || q.state == VERIFY_PENDING)
		return zd_err_set(err, ZD_ETIMEDOUT, "no answer from %s@%d for %s",
		                  host && *host ? host : "127.0.0.1", port > 0 ? port : 53, domain);
	if (q.state == VERIFY_ABSENT)
		return zd_err_set(err, ZD_ENOENT, "%s is not served (%s)", domain,
		                  verify_rcode_name(q.rcode));
	if (serial != NULL)
		*serial = q.got_serial;
	return 0;
}
