/* backend_nsd.c -- NSD: zone files, one include for the zone list, one reconfig/reload per batch, verify
 *
 * Every NSD reload re-reads the whole server: `nsd-control reload ZONE`
 * costs 121 ms at 1k zones, 817 ms at 10k and 8.96 s at 100k, a full
 * `reload` 135 ms / 1.04 s / 9.44 s, and 1,000 changed zones on a 10k-zone
 * server take 165 s as one reload per zone against 2.9 s as one reload
 * (NAMESERVER-COSTS.md). So a batch is applied in one go:
 *  1. Zone files are written as zones_dir/<domain>.zone.<backend>.tmp.
 *     Batches of at most NSD_CHECK_MAX zones to serve run nsd-checkzone on
 *     each temp file (9 ms a process: 20+ s per 1,000, so larger batches
 *     rely on the drain's in-process check and on verification). A refused
 *     zone never reaches NSD: its old file stays, it is BZ_REJECTED.
 *  2. The temp files are made durable (fsync each, or one syncfs for a big
 *     batch), renamed over <domain>.zone, and the directory is fsync'd.
 *     Without a pre-check, the replaced file stays as <domain>.zone.prev (a
 *     hard link) until the new one is verified: NSD answers SERVFAIL for a
 *     zone whose new file it cannot load, so a refused version is put back.
 *  3. The include (include_file) is regenerated from the zones kept plus the
 *     batch's zones to serve, sorted: one pattern "zonedrop-<backend>" with
 *     zonefile "<zones_dir>/%s.zone", one zone: stanza per zone. It is the
 *     single truth of what NSD serves, across restarts as well.
 *  4. The zone set changed (a zone added or removed) -> one `nsd-control
 *     reconfig` (144 ms / 1.22 s / 5.86 s to add at 1k/10k/100k). reconfig
 *     does not re-read zones NSD already has (tested: a changed file stays
 *     unread), so changed zones get one `reload ZONE` when there is exactly
 *     one, else one `reload` (never N reloads for N zones).
 *     Not addzone/delzone: 133/988/8630 ms each, no cheaper than reconfig at
 *     10k and dearer at 100k, one command per zone, and a zone both in the
 *     include and added with addzone makes reconfig fail with "duplicate
 *     zone" and leaves a stale entry in zonelistfile (tested with NSD 4.6:
 *     the zone comes back after a restart although deleted).
 *  5. Verification by SOA query: the expected serial for zones served,
 *     nothing for removed ones, polled until verify_timeout. After a first
 *     round sized to the server (a reload at 100k zones takes ~9 s), zones
 *     still answering another serial get one more reload (a file NSD had
 *     before a crashed drain is not re-read by reconfig).
 *  6. Batches that skipped the pre-check run nsd-checkzone on the few zones
 *     that failed verification: refused ones get their old file back (or
 *     leave the include again, when new) and are BZ_REJECTED.
 * Removed zones lose their file once NSD no longer serves them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zonedrop/backend.h"
#include "zonedrop/domain.h"
#include "zonedrop/exec.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"
#include "zonedrop/verify.h"

#define NSD_CHECK_MAX 50              /* nsd-checkzone per zone only up to this many (DESIGN.md) */
#define NSD_CHECK_TIMEOUT_MS 30000
#define NSD_CONTROL_TIMEOUT_MS 120000 /* reconfig parses the whole include first */
#define NSD_SYNCFS_MIN 32             /* more temp files than this: one syncfs, not N fsyncs */
#define NSD_POLL_MS 100
#define NSD_FIRST_ROUND_MS 3000       /* plus 1 ms per 10 zones the server holds */
#define NSD_FILE_MODE 0644            /* nsd runs as its own user and must read them */
#define NSD_INCLUDE_MODE 0644

enum nsd_op { NOP_NONE = 0, NOP_ADD, NOP_CHANGE, NOP_DEL };

struct nsd_zone {
	enum nsd_op op;
	unsigned done : 1;        /* result decided before verification */
	unsigned tmp : 1;         /* the temp file exists */
	unsigned written : 1;     /* the new text is <domain>.zone */
	unsigned has_prev : 1;    /* <domain>.zone.prev holds the file it replaced */
	unsigned in_include : 1;  /* listed in the include after this batch */
	unsigned verify : 1;      /* takes part in verification */
	unsigned ok : 1;          /* verified */
	unsigned checked : 1;     /* nsd-checkzone ran on its installed file */
	unsigned char vstate;     /* last enum verify_state */
	int rcode;
	uint32_t got_serial;
};

struct nsd_ctx {
	struct backend_batch *b;
	const struct config_backend *be;
	struct nsd_zone *nz;
	char zdir[ZD_PATH_MAX];   /* zones_dir without trailing slashes */
	const char *vhost;
	int vport;
	int down;                 /* NSD could not be reached: why */
	char why[ZD_ERR_MSG_MAX];
	int no_checker;           /* nsd-checkzone is not installed */
	int used_check, used_reconfig, used_reload, used_reload_all, used_checkzone_after, used_verify;
};

static void nsd_result(struct nsd_ctx *c, size_t i, enum backend_result r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void nsd_result(struct nsd_ctx *c, size_t i, enum backend_result r, const char *fmt, ...)
{
	struct backend_zone *z = &c->b->zones[i];
	char raw[sizeof z->error];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	str_safe(z->error, sizeof z->error, raw, strlen(raw));
	z->result = r;
	c->nz[i].done = 1;
}

/* snprintf into a fixed buffer where cutting a long message short is fine */
static void nsd_fmt(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void nsd_fmt(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

static int nsd_path(const struct nsd_ctx *c, const char *domain, const char *suffix, char *out,
                    size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s.zone%s", c->zdir, domain, suffix);

	return n < 0 || (size_t)n >= outsz ? ZD_ENAMETOOLONG : 0;
}

static int nsd_tmp_path(const struct nsd_ctx *c, const char *domain, char *out, size_t outsz)
{
	/* per backend: two NSD backends may share one zones_dir */
	int n = snprintf(out, outsz, "%s/.%s.zone.%s.tmp", c->zdir, domain, c->be->name);

	return n < 0 || (size_t)n >= outsz ? ZD_ENAMETOOLONG : 0;
}

/* Output of a command as one line for an error message: the lines that say
 * "error" when there are any, else all of it. */
static void nsd_output_line(const char *out, char *line, size_t linesz)
{
	char buf[ZD_ERR_MSG_MAX];
	const char *p = out ? out : "";
	size_t o = 0;
	int errors_only = strstr(p, "error") != NULL;

	buf[0] = '\0';
	while (*p != '\0' && o + 1 < sizeof buf) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len > 0 && (!errors_only || memmem(p, len, "error", 5) != NULL)) {
			if (o > 0 && o + 2 < sizeof buf) {
				buf[o++] = ';';
				buf[o++] = ' ';
			}
			if (len > sizeof buf - 1 - o)
				len = sizeof buf - 1 - o;
			memcpy(buf + o, p, len);
			o += len;
		}
		p = e ? e + 1 : p + len;
	}
	buf[o] = '\0';
	str_safe(line, linesz, buf, o);
}

/* nsd-control <words>: 0 when it ran and said so, else c->down with the output. */
static int nsd_control(struct nsd_ctx *c, const char *const *words)
{
	struct exec_result res;
	struct zd_err e;
	char line[ZD_ERR_MSG_MAX];
	int rc;

	zd_err_clear(&e);
	rc = exec_run(c->be->control, words, NULL, 0, NSD_CONTROL_TIMEOUT_MS, &res, &e);
	if (rc != 0) {
		nsd_fmt(c->why, sizeof c->why, "nsd-control %s: %s", words[0], e.msg);
		c->down = 1;
		return rc;
	}
	nsd_output_line(res.output, line, sizeof line);
	if (res.timed_out || res.status != 0 || strstr(res.output ? res.output : "", "error") != NULL) {
		if (res.timed_out)
			nsd_fmt(c->why, sizeof c->why, "nsd-control %s: timed out after %d s: %s", words[0],
			         NSD_CONTROL_TIMEOUT_MS / 1000, line);
		else
			nsd_fmt(c->why, sizeof c->why, "nsd-control %s: exit %d: %s", words[0], res.status,
			         line[0] ? line : "no output");
		c->down = 1;
		rc = ZD_ECMD;
	}
	log_debug(NULL, "backend=%s nsd-control %s%s%s: %s", c->be->name, words[0],
	          words[1] ? " " : "", words[1] ? words[1] : "", line);
	exec_result_free(&res);
	return rc;
}

/* nsd-checkzone's verdict as one line: "line 6: unrecognized RR type 'X'; ...",
 * without its time stamps, process ids and our temp file's name. */
static void nsd_checker_why(const char *out, const char *path, char *why, size_t whysz)
{
	char buf[ZD_ERR_MSG_MAX];
	const char *p = out ? out : "";
	size_t o = 0, plen = strlen(path);

	buf[0] = '\0';
	while (*p != '\0' && o + 1 < sizeof buf) {
		const char *e = strchr(p, '\n'), *m, *t;
		size_t len = e ? (size_t)(e - p) : strlen(p), tl;
		char *lp = strndup(p, len);

		p = e ? e + 1 : p + len;
		if (lp == NULL)
			break;
		/* "[time] nsd-checkzone[pid]: error: PATH:LINE: text" */
		m = strstr(lp, "error: ");
		if (m == NULL) {
			free(lp);
			continue;
		}
		t = m + 7;
		if (strncmp(t, path, plen) == 0 && t[plen] == ':')
			t += plen + 1;
		else if (strncmp(t, "zone ", 5) == 0)
			t = NULL;   /* the summary line */
		if (t != NULL) {
			int n;
			tl = strlen(t);
			n = snprintf(buf + o, sizeof buf - o, "%s%s%.*s", o ? "; " : "",
			             (*t >= '0' && *t <= '9') ? "line " : "", (int)tl, t);
			if (n > 0)
				o += (size_t)n < sizeof buf - o ? (size_t)n : sizeof buf - o - 1;
		}
		free(lp);
	}
	if (o == 0)
		nsd_output_line(out, buf, sizeof buf);
	nsd_fmt(why, whysz, "nsd-checkzone: %s", buf[0] ? buf : "refused");
}

/* nsd-checkzone DOMAIN FILE: 0 accepted, 1 refused (why filled), -1 could not run. */
static int nsd_checkzone(struct nsd_ctx *c, const char *domain, const char *path, char *why,
                         size_t whysz)
{
	struct exec_result res;
	struct zd_err e;
	const char *words[] = { domain, path, NULL };
	int rc;

	if (c->no_checker)
		return -1;
	zd_err_clear(&e);
	if (exec_run("nsd-checkzone", words, NULL, 0, NSD_CHECK_TIMEOUT_MS, &res, &e) != 0) {
		log_warning(domain, "backend=%s nsd-checkzone: %s", c->be->name, e.msg);
		return -1;
	}
	if (res.status == 127 || res.status == 126) {
		log_warning(NULL, "backend=%s nsd-checkzone cannot run, zones are not pre-checked: %s",
		            c->be->name, res.output ? res.output : "");
		c->no_checker = 1;
		exec_result_free(&res);
		return -1;
	}
	if (res.timed_out) {
		log_warning(domain, "backend=%s nsd-checkzone timed out", c->be->name);
		exec_result_free(&res);
		return -1;
	}
	rc = res.status == 0 ? 0 : 1;
	if (rc == 1)
		nsd_checker_why(res.output, path, why, whysz);
	exec_result_free(&res);
	return rc;
}

/* Write the text to the temp file (no fsync yet: see nsd_write_all). */
static int nsd_write_tmp(struct nsd_ctx *c, size_t i, int sync_each, struct zd_err *err)
{
	struct backend_zone *z = &c->b->zones[i];
	char tmp[ZD_PATH_MAX];
	int rc;

	if (nsd_tmp_path(c, z->domain, tmp, sizeof tmp) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long for %s", z->domain);
	rc = backend_zone_file_write(tmp, z, NSD_FILE_MODE, sync_each, err);
	if (rc != 0)
		return rc;
	c->nz[i].tmp = 1;
	/* the file has it now: the drain may give the text's memory back */
	if (c->b->text_done != NULL)
		c->b->text_done(c->b, i);
	return 0;
}

static void nsd_drop_tmp(struct nsd_ctx *c, size_t i)
{
	char tmp[ZD_PATH_MAX];

	if (c->nz[i].tmp && nsd_tmp_path(c, c->b->zones[i].domain, tmp, sizeof tmp) == 0)
		unlink(tmp);
	c->nz[i].tmp = 0;
}

/* Temp file -> <domain>.zone; keep_prev: the replaced file stays as .prev. */
static int nsd_install(struct nsd_ctx *c, size_t i, int keep_prev, struct zd_err *err)
{
	struct backend_zone *z = &c->b->zones[i];
	char tmp[ZD_PATH_MAX], path[ZD_PATH_MAX], prev[ZD_PATH_MAX];
	int rc, has_prev = 0;

	if (nsd_tmp_path(c, z->domain, tmp, sizeof tmp) != 0 ||
	    nsd_path(c, z->domain, "", path, sizeof path) != 0 ||
	    nsd_path(c, z->domain, ".prev", prev, sizeof prev) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long for %s", z->domain);
	rc = backend_zone_file_install(c->be->name, z->domain, tmp, path, prev,
	                               keep_prev && c->nz[i].op == NOP_CHANGE, &has_prev, err);
	c->nz[i].has_prev = has_prev != 0;
	if (rc != 0)
		return rc;
	c->nz[i].tmp = 0;
	c->nz[i].written = 1;
	return 0;
}

/* Steps 1-2: check (small batches), make durable, rename into place. */
static void nsd_write_all(struct nsd_ctx *c, int precheck)
{
	struct backend_batch *b = c->b;
	struct zd_err e;
	size_t i, nwrite = 0;
	int sync_each, fd;
	char why[ZD_ERR_MSG_MAX];

	for (i = 0; i < b->n; i++)
		if (!c->nz[i].done && (c->nz[i].op == NOP_ADD || c->nz[i].op == NOP_CHANGE))
			nwrite++;
	if (nwrite == 0)
		return;
	sync_each = nwrite <= NSD_SYNCFS_MIN;
	for (i = 0; i < b->n; i++) {
		if (c->nz[i].done || (c->nz[i].op != NOP_ADD && c->nz[i].op != NOP_CHANGE))
			continue;
		zd_err_clear(&e);
		if (nsd_write_tmp(c, i, sync_each, &e) < 0) {
			nsd_result(c, i, BZ_FAILED, "write zone file: %s", zd_err_str(&e));
			continue;
		}
		if (precheck) {
			char tmp[ZD_PATH_MAX];
			int r;

			why[0] = '\0';
			if (nsd_tmp_path(c, b->zones[i].domain, tmp, sizeof tmp) != 0)
				continue;
			r = nsd_checkzone(c, b->zones[i].domain, tmp, why, sizeof why);
			if (r >= 0)
				c->used_check = 1;
			if (r == 1) {
				nsd_drop_tmp(c, i);
				nsd_result(c, i, BZ_REJECTED, "%s", why);
			}
		}
	}
	/* data on disk before any rename, or a crash leaves an empty zone file */
	if (!sync_each) {
		fd = open(c->zdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0) {
			int se = errno;
			for (i = 0; i < b->n; i++)
				if (c->nz[i].tmp) {
					nsd_drop_tmp(c, i);
					nsd_result(c, i, BZ_FAILED, "syncfs %s: %s", c->zdir, strerror(se));
				}
		}
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < b->n; i++) {
		if (!c->nz[i].tmp)
			continue;
		zd_err_clear(&e);
		if (nsd_install(c, i, !precheck, &e) < 0) {
			nsd_drop_tmp(c, i);
			nsd_result(c, i, BZ_FAILED, "install zone file: %s", zd_err_str(&e));
		}
	}
	zd_err_clear(&e);
	if (fsync_dir(c->zdir, 1, &e) < 0)
		for (i = 0; i < b->n; i++)
			if (c->nz[i].written && !c->nz[i].done)
				nsd_result(c, i, BZ_FAILED, "%s", zd_err_str(&e));
}

struct nsd_buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void nb_add(struct nsd_buf *nb, const char *s, size_t len)
{
	if (nb->oom)
		return;
	if (nb->len + len + 1 > nb->cap) {
		size_t cap = nb->cap ? nb->cap : 4096;
		char *p;

		while (nb->len + len + 1 > cap)
			cap *= 2;
		p = realloc(nb->p, cap);
		if (p == NULL) {
			nb->oom = 1;
			return;
		}
		nb->p = p;
		nb->cap = cap;
	}
	memcpy(nb->p + nb->len, s, len);
	nb->len += len;
	nb->p[nb->len] = '\0';
}

static void nb_zone(struct nsd_buf *nb, const char *domain, const char *pattern)
{
	char line[DOMAIN_MAX + 200];
	int n = snprintf(line, sizeof line, "zone:\n  name: \"%s\"\n  include-pattern: \"%s\"\n", domain,
	                 pattern);

	if (n > 0 && (size_t)n < sizeof line)
		nb_add(nb, line, (size_t)n);
	else
		nb->oom = 1;
}

/* Step 3: the include text from keep + the batch, both sorted by domain.
 * *changed: its bytes differ from the file's. */
static int nsd_include(struct nsd_ctx *c, int *changed, struct zd_err *err)
{
	struct backend_batch *b = c->b;
	struct nsd_buf nb = { NULL, 0, 0, 0 };
	char pattern[128], head[ZD_PATH_MAX + 512], *old = NULL;
	size_t k = 0, i = 0, oldlen = 0;
	int n, rc = 0;

	*changed = 0;
	n = snprintf(pattern, sizeof pattern, "zonedrop-%s", c->be->name);
	if (n < 0 || (size_t)n >= sizeof pattern)
		return zd_err_set(err, ZD_ENAMETOOLONG, "backend name too long");
	n = snprintf(head, sizeof head,
	             "# %s -- written by zonedrop-drain for backend %s; every drain rewrites it\n"
	             "pattern:\n  name: \"%s\"\n  zonefile: \"%s/%%s.zone\"\n",
	             c->be->include_file, c->be->name, pattern, c->zdir);
	if (n < 0 || (size_t)n >= sizeof head)
		return zd_err_set(err, ZD_ENAMETOOLONG, "zones_dir too long");
	nb_add(&nb, head, (size_t)n);
	/* merge: keep and the batch's zones are disjoint and each sorted */
	while (k < b->nkeep || i < b->n) {
		int cmp;

		if (i < b->n && !c->nz[i].in_include) {
			i++;
			continue;
		}
		if (k >= b->nkeep)
			cmp = 1;
		else if (i >= b->n)
			cmp = -1;
		else
			cmp = strcmp(b->keep[k], b->zones[i].domain);
		if (cmp <= 0) {
			/* only names that pass the grammar reach nsd.conf (quotes, newlines) */
			if (domain_check(b->keep[k], NULL) == 0)
				nb_zone(&nb, b->keep[k], pattern);
			if (cmp == 0)
				i++;
			k++;
		} else {
			nb_zone(&nb, b->zones[i].domain, pattern);
			i++;
		}
	}
	if (nb.oom) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory building %s", c->be->include_file);
		goto out;
	}
	if (file_read_all(c->be->include_file, 0, &old, &oldlen, NULL) == 0 && oldlen == nb.len &&
	    memcmp(old, nb.p, nb.len) == 0)
		goto out;
	rc = file_write_atomic(c->be->include_file, nb.p, nb.len, NSD_INCLUDE_MODE, err);
	*changed = rc == 0;
out:
	free(old);
	free(nb.p);
	return rc;
}

static int64_t nsd_first_round_ms(const struct nsd_ctx *c)
{
	return NSD_FIRST_ROUND_MS + (int64_t)(c->b->n + c->b->nkeep) / 10;
}

/* Verify the zones marked verify and not yet ok, for at most timeout_ms. */
static int nsd_verify(struct nsd_ctx *c, int64_t timeout_ms, struct zd_err *err)
{
	struct backend_batch *b = c->b;
	struct verify_query *q;
	size_t *map, i, m = 0;
	int rc;

	q = calloc(b->n ? b->n : 1, sizeof *q);
	map = calloc(b->n ? b->n : 1, sizeof *map);
	if (q == NULL || map == NULL) {
		free(q);
		free(map);
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	}
	for (i = 0; i < b->n; i++) {
		struct nsd_zone *k = &c->nz[i];

		if (!k->verify || k->ok || k->done)
			continue;
		q[m].domain = b->zones[i].domain;
		q[m].serial = b->zones[i].serial;
		q[m].want_present = k->op != NOP_DEL;
		map[m++] = i;
	}
	if (m > 0)
		c->used_verify = 1;
	rc = m == 0 ? 0 : verify_soa(c->vhost, c->vport, q, m, timeout_ms, NSD_POLL_MS, err);
	if (rc == 0)
		for (i = 0; i < m; i++) {
			struct nsd_zone *k = &c->nz[map[i]];

			k->ok = q[i].ok;
			k->vstate = (unsigned char)q[i].state;
			k->rcode = q[i].rcode;
			k->got_serial = q[i].got_serial;
		}
	free(q);
	free(map);
	return rc;
}

static void nsd_verify_message(struct nsd_ctx *c, size_t i, int64_t waited_ms)
{
	struct backend_zone *z = &c->b->zones[i];
	struct nsd_zone *k = &c->nz[i];
	double s = (double)waited_ms / 1000.0;

	switch ((enum verify_state)k->vstate) {
	case VERIFY_NOANSWER:
	case VERIFY_PENDING:
		nsd_result(c, i, BZ_FAILED, "verify: no answer from %s@%d within %.1f s", c->vhost,
		           c->vport, s);
		break;
	case VERIFY_OTHER:
		nsd_result(c, i, BZ_FAILED, "verify: serves serial %u, expected %u after %.1f s",
		           k->got_serial, z->serial, s);
		break;
	case VERIFY_SERVED:
		if (z->present)
			nsd_result(c, i, BZ_FAILED, "verify: serves serial %u, expected %u", k->got_serial,
			           z->serial);
		else
			nsd_result(c, i, BZ_FAILED, "verify: still served (serial %u) after %.1f s",
			           k->got_serial, s);
		break;
	case VERIFY_ABSENT:
	default:
		if (z->present)
			nsd_result(c, i, BZ_FAILED, "verify: not served (%s) after %.1f s",
			           verify_rcode_name(k->rcode), s);
		else
			nsd_result(c, i, BZ_FAILED, "verify: answers %s, not gone, after %.1f s",
			           verify_rcode_name(k->rcode), s);
		break;
	}
}

/* reload for the zones marked: one ZONE when exactly one, else all. */
static int nsd_reload(struct nsd_ctx *c, const size_t *idx, size_t n)
{
	const char *words[3] = { "reload", NULL, NULL };
	const char *reconfig[] = { "reconfig", NULL };
	int rc;

	if (n == 0)
		return 0;
	if (n > 1) {
		c->used_reload_all = 1;
		return nsd_control(c, words);
	}
	words[1] = c->b->zones[idx[0]].domain;
	c->used_reload = 1;
	rc = nsd_control(c, words);
	if (rc < 0 && strstr(c->why, "not configured") != NULL) {
		/* NSD lost it (started from another config?): the include has it */
		c->down = 0;
		c->why[0] = '\0';
		c->used_reconfig = 1;
		rc = nsd_control(c, reconfig);
	}
	return rc;
}

static int nsd_setup(struct nsd_ctx *c, struct zd_err *err)
{
	const struct config_backend *be = c->be;
	const char *p;
	size_t len;

	if (be->zones_dir == NULL || be->zones_dir[0] != '/')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: zones_dir must be an absolute path",
		                  be->name);
	if (be->include_file == NULL || be->include_file[0] != '/')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: include_file must be an absolute path",
		                  be->name);
	if (be->control == NULL || be->control[0] == '\0')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: no control command", be->name);
	/* zones_dir goes into nsd.conf inside quotes, and NSD expands % in zonefile */
	for (p = be->zones_dir; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || *p == '%' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return zd_err_set(err, ZD_ECONFIG,
			                  "backend %s: zones_dir may not hold quotes, backslashes, '%%' or "
			                  "control characters", be->name);
	len = str_copy(c->zdir, be->zones_dir, sizeof c->zdir);
	if (len + DOMAIN_MAX + 80 >= sizeof c->zdir)
		return zd_err_set(err, ZD_ENAMETOOLONG, "backend %s: zones_dir too long", be->name);
	while (len > 1 && c->zdir[len - 1] == '/')
		c->zdir[--len] = '\0';
	c->vhost = be->verify_host != NULL && be->verify_host[0] != '\0' ? be->verify_host : "127.0.0.1";
	c->vport = be->verify_port > 0 ? be->verify_port : 53;
	return mkdir_p(c->zdir, 0755, err);
}

/* Step 6: zones of an unchecked batch that failed verification: did NSD refuse them? */
static int nsd_check_candidate(const struct nsd_zone *k, int servfail_only)
{
	return k->verify && !k->ok && !k->done && k->written && !k->checked &&
	       (!servfail_only || k->rcode == 2 /* SERVFAIL: NSD could not load it */);
}

static void nsd_check_after(struct nsd_ctx *c, int servfail_only, int *reconfig, size_t *reload,
                            size_t *nreload)
{
	struct backend_batch *b = c->b;
	size_t i, nfail = 0;
	char path[ZD_PATH_MAX], prev[ZD_PATH_MAX], why[ZD_ERR_MSG_MAX];

	for (i = 0; i < b->n; i++)
		if (nsd_check_candidate(&c->nz[i], servfail_only))
			nfail++;
	if (nfail == 0 || nfail > NSD_CHECK_MAX)
		return;
	for (i = 0; i < b->n; i++) {
		struct nsd_zone *k = &c->nz[i];
		struct backend_zone *z = &b->zones[i];

		if (!nsd_check_candidate(k, servfail_only))
			continue;
		k->checked = 1;
		if (nsd_path(c, z->domain, "", path, sizeof path) != 0 ||
		    nsd_path(c, z->domain, ".prev", prev, sizeof prev) != 0)
			continue;
		why[0] = '\0';
		if (nsd_checkzone(c, z->domain, path, why, sizeof why) != 1)
			continue;
		c->used_checkzone_after = 1;
		if (k->op == NOP_CHANGE && k->has_prev) {
			/* the old file back: NSD serves it again after a reload, and after a restart */
			if (rename(prev, path) < 0) {
				log_warning(z->domain, "backend=%s put back %s: %s", c->be->name, prev,
				            strerror(errno));
			} else {
				k->has_prev = 0;
				/* NSD re-reads a file only when its mtime differs from the one
				 * it last loaded, and that is the old file's own: tested, a
				 * reload of the restored file is a no-op without this */
				if (utimensat(AT_FDCWD, path, NULL, 0) < 0)
					log_warning(z->domain, "backend=%s touch %s: %s", c->be->name, path,
					            strerror(errno));
				reload[(*nreload)++] = i;
			}
		} else if (k->op == NOP_ADD) {
			unlink(path);
			k->in_include = 0;
			*reconfig = 1;
		}
		k->written = 0;
		nsd_result(c, i, BZ_REJECTED, "%s", why);
	}
}

/* Refused zones of an unchecked batch leave NSD's view: new ones the
 * include (reconfig), changed ones get their old file re-read. <0 when NSD
 * could not be told. idx: scratch room for b->n indexes. */
static int nsd_settle_rejected(struct nsd_ctx *c, int servfail_only, size_t *idx)
{
	const char *words[] = { "reconfig", NULL };
	struct zd_err e;
	size_t nidx = 0;
	int again = 0, ch = 0;

	nsd_check_after(c, servfail_only, &again, idx, &nidx);
	if (again) {
		zd_err_clear(&e);
		if (nsd_include(c, &ch, &e) < 0)
			log_warning(NULL, "backend=%s include_file: %s", c->be->name, e.msg);
		else if (nsd_control(c, words) < 0)
			return -1;
	}
	return nsd_reload(c, idx, nidx) < 0 ? -1 : 0;
}

int backend_nsd_apply(struct backend_batch *b, struct zd_err *err)
{
	struct nsd_ctx c;
	struct zd_err e;
	size_t i, n = b->n, nserve = 0, nreload = 0, nreload2 = 0, mlen;
	size_t *reload = NULL, *reload2 = NULL;
	int64_t t0 = time_mono_ms(), tv = t0, first, left;
	int rc = 0, precheck, changed = 0, need_reconfig = 0;
	char path[ZD_PATH_MAX];

	memset(&c, 0, sizeof c);
	c.b = b;
	c.be = b->be;
	backend_batch_reset(b);
	c.nz = calloc(n ? n : 1, sizeof *c.nz);
	reload = calloc(n ? n : 1, sizeof *reload);
	reload2 = calloc(n ? n : 1, sizeof *reload2);
	if (c.nz == NULL || reload == NULL || reload2 == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		backend_batch_fail(b, "out of memory");
		goto out;
	}
	zd_err_clear(&e);
	if (nsd_setup(&c, &e) < 0) {
		c.down = 1;
		str_copy(c.why, e.msg, sizeof c.why);
		goto finish;
	}
	if (n == 0)
		goto finish;

	/* what each zone needs; only checked LDH names reach paths and nsd.conf */
	for (i = 0; i < n; i++) {
		struct backend_zone *z = &b->zones[i];

		zd_err_clear(&e);
		if (z->domain == NULL || domain_check(z->domain, &e) < 0) {
			nsd_result(&c, i, BZ_REJECTED, "not a zone name zonedrop serves: %s", e.msg);
		} else if (!z->present) {
			c.nz[i].op = NOP_DEL;
		} else if (z->text == NULL) {
			nsd_result(&c, i, BZ_FAILED, "no zone text");
		} else {
			c.nz[i].op = z->was_present ? NOP_CHANGE : NOP_ADD;
			nserve++;
		}
	}
	/* a checker process per zone only for small batches (DESIGN.md "Checking and verifying") */
	precheck = nserve <= NSD_CHECK_MAX;
	nsd_write_all(&c, precheck);
	log_debug(NULL, "backend=%s %zu zone file(s) written%s, %.3f s", c.be->name, nserve,
	          precheck ? " and checked" : "", (double)(time_mono_ms() - t0) / 1000.0);

	for (i = 0; i < n; i++) {
		struct nsd_zone *k = &c.nz[i];

		switch (k->op) {
		case NOP_ADD:
			k->in_include = k->written;
			break;
		case NOP_CHANGE:
			k->in_include = 1;   /* the new file, or the old one it keeps */
			if (k->written)
				reload[nreload++] = i;
			break;
		default:
			k->in_include = 0;
			break;
		}
		if ((int)k->in_include != (b->zones[i].was_present ? 1 : 0))
			need_reconfig = 1;
		k->verify = !k->done && (k->op == NOP_DEL || k->written);
	}
	zd_err_clear(&e);
	if (nsd_include(&c, &changed, &e) < 0) {
		/* NSD would not learn of new or removed zones: nothing of the set changes */
		for (i = 0; i < n; i++)
			if ((int)c.nz[i].in_include != (b->zones[i].was_present ? 1 : 0)) {
				c.nz[i].in_include = b->zones[i].was_present ? 1 : 0;
				if (!c.nz[i].done)
					nsd_result(&c, i, BZ_FAILED, "include_file: %s", e.msg);
			}
		need_reconfig = 0;
		rc = zd_err_set(err, ZD_EIO, "include_file: %s", e.msg);
	}
	if (need_reconfig || changed) {
		const char *words[] = { "reconfig", NULL };

		c.used_reconfig = 1;
		if (nsd_control(&c, words) < 0)
			goto finish;
	}
	if (nsd_reload(&c, reload, nreload) < 0)
		goto finish;

	/* verify; zones still answering another serial after a first round get one more reload */
	tv = time_mono_ms();
	log_debug(NULL, "backend=%s include and control done, %.3f s", c.be->name,
	          (double)(tv - t0) / 1000.0);
	first = nsd_first_round_ms(&c);
	if (first > b->verify_timeout_ms)
		first = b->verify_timeout_ms;
	zd_err_clear(&e);
	if (nsd_verify(&c, first, &e) < 0)
		goto verify_failed;
	/* unchecked batch: a zone NSD answers SERVFAIL for failed to load; ask
	 * the checker now rather than after the whole verify_timeout */
	if (!precheck && nsd_settle_rejected(&c, 1, reload2) < 0)
		goto finish;
	for (i = 0; i < n; i++)
		if (c.nz[i].verify && !c.nz[i].ok && !c.nz[i].done && c.nz[i].op != NOP_DEL &&
		    c.nz[i].vstate == VERIFY_OTHER)
			reload2[nreload2++] = i;
	if (nreload2 > 0) {
		log_debug(NULL, "backend=%s %zu zone(s) still serve another serial after %.3f s: reload",
		          c.be->name, nreload2, (double)(time_mono_ms() - tv) / 1000.0);
		if (nsd_reload(&c, reload2, nreload2) < 0)
			goto finish;
	}
	left = b->verify_timeout_ms - (time_mono_ms() - tv);
	for (i = 0; i < n && (c.nz[i].ok || !c.nz[i].verify || c.nz[i].done); i++)
		;
	if (i < n && left > 0) {
		zd_err_clear(&e);
		if (nsd_verify(&c, left, &e) < 0)
			goto verify_failed;
	}
	if (!precheck && nsd_settle_rejected(&c, 0, reload2) < 0)
		goto finish;
	goto finish;

verify_failed:
	for (i = 0; i < n; i++)
		if (c.nz[i].verify && !c.nz[i].ok && !c.nz[i].done)
			nsd_result(&c, i, BZ_FAILED, "verify: %s", e.msg);

finish:
	if (c.down && rc == 0)
		rc = zd_err_set(err, ZD_ECMD, "%s", c.why);
	for (i = 0; i < n; i++) {
		struct backend_zone *z = &b->zones[i];
		struct nsd_zone *k = &c.nz[i];

		if (z->result == BZ_UNSET) {
			if (c.down)
				nsd_result(&c, i, BZ_FAILED, "%s", c.why);
			else if (k->ok)
				z->result = BZ_OK;
			else if (k->verify)
				nsd_verify_message(&c, i, time_mono_ms() - tv);
			else
				nsd_result(&c, i, BZ_FAILED, "not applied");
		}
		nsd_drop_tmp(&c, i);
		/* does NSD hold a valid copy now (is it in the include)? */
		switch (k->op) {
		case NOP_ADD:
			z->now_present = k->in_include;
			break;
		case NOP_CHANGE:
			z->now_present = 1;
			break;
		case NOP_DEL:
			/* not confirmed gone: stays "present" so the delete is tried again */
			z->now_present = k->ok ? 0 : z->was_present;
			if (k->ok && nsd_path(&c, z->domain, "", path, sizeof path) == 0 && unlink(path) < 0 &&
			    errno != ENOENT)
				log_warning(z->domain, "backend=%s remove %s: %s", c.be->name, path,
				            strerror(errno));
			/* and what a killed drain may have left of it */
			if (k->ok && nsd_tmp_path(&c, z->domain, path, sizeof path) == 0)
				unlink(path);
			break;
		default:
			break;
		}
		if (k->has_prev && nsd_path(&c, z->domain, ".prev", path, sizeof path) == 0) {
			if (unlink(path) < 0 && errno != ENOENT)
				log_warning(z->domain, "backend=%s remove %s: %s", c.be->name, path,
				            strerror(errno));
			k->has_prev = 0;
		}
	}
out:
	nsd_fmt(b->mechanism, sizeof b->mechanism, "%s%s%s%s%s%s",
	        c.used_check ? "checkzone+" : "", c.used_reconfig ? "reconfig+" : "",
	        c.used_reload ? "reload-zone+" : "", c.used_reload_all ? "reload+" : "",
	        c.used_checkzone_after ? "checkzone-after+" : "", c.used_verify ? "verify" : "");
	mlen = strlen(b->mechanism);
	if (mlen > 0 && b->mechanism[mlen - 1] == '+')
		b->mechanism[mlen - 1] = '\0';
	if (b->mechanism[0] == '\0')
		str_copy(b->mechanism, "none", sizeof b->mechanism);
	b->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	log_debug(NULL, "backend=%s batch of %zu zones: %s, %.3f s", b->be->name, n, b->mechanism,
	          b->seconds);
	free(c.nz);
	free(reload);
	free(reload2);
	return rc;
}
