/* backend_knot.c -- Knot DNS: zone files, one knotc conf transaction per batch, zone-reload, verify
 *
 * A batch reaches knotd in these steps (costs: NAMESERVER-COSTS.md; figures
 * below measured with Knot 3.2.6 on this project's machine kind):
 *  1. Zone files are written as temp files beside zones_dir/<domain>.zone.
 *     Batches of at most KNOT_CHECK_MAX zones to serve run kzonecheck on each
 *     (~15 ms a process). Only what knotd itself refuses to load (kzonecheck's
 *     "serious" errors, parse errors) rejects a zone there; other findings
 *     (missing glue, ...) are logged, since knotd loads such zones. Bigger
 *     batches rely on knotd's own load result (step 5).
 *  2. The temp files are made durable (fsync each, or one syncfs for a big
 *     batch) and renamed into place. The file a changed zone replaces stays
 *     as <domain>.zone.prev (a hard link) until the batch is settled, so a
 *     refused version can be put back: knotd keeps serving the old one, and
 *     a restart finds it too. A file knotd never saw (knotd down) is rolled
 *     back the same way.
 *  3. Changed zones: zone-reload, many zones per command (1,000 zones on a
 *     10k-zone knotd: one knotc, 131 ms). knotd answers "no such zone" for
 *     zones it lost (restarted without our include): those are added like
 *     new ones.
 *  4. New and deleted zones: one conf transaction. conf-abort first (a drain
 *     killed inside a transaction leaves it open, and conf-begin then fails),
 *     conf-begin, conf-set zone[d] + zone[d].file (absolute path), conf-unset
 *     zone[d], conf-commit, conf-abort (a no-op after a commit; after a
 *     refused one it closes the transaction). More than KNOT_CHECK_MAX adds,
 *     when knotd's default template already puts zones at zones_dir/%s.zone,
 *     go as "conf-set zone.domain d1 d2 ..." lines instead (10,000 adds: 0.3 s
 *     instead of 7 s of per-zone commands). A refused commit is retried
 *     without the zones causing it, found by halving (KNOT_BISECT_MAX
 *     transactions at most).
 *  5. Verification by SOA query. Zones not served after a first round get a
 *     blocking "zone-reload -b", whose per-zone error is knotd's load
 *     verdict: REJECTED (a new zone is unset again, a changed one gets its old
 *     file back; kzonecheck then explains why when few zones got it); the
 *     others are polled until verify_timeout.
 *  6. include_file, when set, is rewritten with the zones knotd holds, in
 *     Knot's text-config syntax, so a knotd started from text keeps them.
 *
 * knotc runs in interactive mode with the commands on stdin: one process for
 * thousands of commands, where argv would take one per ~60 zones. It runs
 * under "env -u HOME": with a HOME, knotc rewrites ~/.knotc_history after
 * every command (2.4 ms per command instead of 0.3 ms). In that mode knotc
 * exits 0 whatever happens, so every answer is read: each conf-* command
 * prints exactly one "OK" or "error: ..." line; a zone command prints "OK",
 * or one "error: [zone] (reason)" line per zone that failed.
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

#define KNOT_CHECK_MAX 50             /* kzonecheck per zone only up to this many (DESIGN.md) */
#define KNOT_CHECK_TIMEOUT_MS 30000
#define KNOT_SESSION_CMDS 2000        /* knotc commands (or zones) per process: answers stay < 1 MiB */
#define KNOT_RELOAD_LINE 200          /* zones per zone-reload command */
#define KNOT_BULK_LINE 200            /* zones per "conf-set zone.domain" command */
#define KNOT_FIRST_VERIFY_MS 3000     /* + 0.5 ms a zone; then knotd's verdict on what is not served */
#define KNOT_POLL_MS 100
#define KNOT_BISECT_MAX 64            /* transactions spent finding the zones a commit refuses */
#define KNOT_SYNCFS_MIN 32            /* more files than this: one syncfs, not one fsync each */
#define KNOT_FILE_MODE 0644           /* knotd runs as its own user and must read them */

enum knot_op { KOP_NONE = 0, KOP_ADD, KOP_CHANGE, KOP_DEL };

/* What happens to one zone of the batch, beside its struct backend_zone. */
struct knot_zone {
	enum knot_op op;
	unsigned done : 1;        /* result decided before verification */
	unsigned tmp : 1;         /* the temp file exists */
	unsigned written : 1;     /* the new text is in <domain>.zone */
	unsigned has_prev : 1;    /* <domain>.zone.prev holds the file it replaced */
	unsigned in_conf : 1;     /* configured in knotd by this batch */
	unsigned set_ok : 1;      /* transaction: conf-set zone[d] said OK */
	unsigned dup : 1;         /* transaction: knotd had it already */
	unsigned file_err : 1;    /* transaction: conf-set zone[d].file failed */
	unsigned unset_ok : 1;    /* transaction: it is gone (or was never there) */
	unsigned reload : 1;      /* wants a zone-reload in the next round */
	unsigned sent : 1;        /* knotd took a zone-reload for the new file */
	unsigned verify : 1;      /* takes part in verification */
	unsigned ok : 1;          /* verified */
	unsigned load_refused : 1; /* knotd's loader refused the file */
	unsigned char vstate;     /* last enum verify_state */
	uint32_t got_serial;
};

struct knot_ctx {
	struct backend_batch *b;
	const struct config_backend *be;
	struct knot_zone *kz;
	char *control;            /* "env -u HOME " + the backend's control words */
	char zdir[ZD_PATH_MAX];   /* zones_dir without trailing slashes */
	const char *vhost;
	int vport;
	int down;                 /* knotd could not be reached: why */
	char why[ZD_ERR_MSG_MAX];
	int no_checker;           /* kzonecheck is not installed */
	int bulk;                 /* adds without file: knotd's default template finds them */
	int used_check, used_txn, used_reload, used_verdict;
	int64_t ms_check, ms_write, ms_apply, ms_verify, ms_finish;   /* where the time went */
};

struct knot_buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void kb_add(struct knot_buf *kb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void kb_add(struct knot_buf *kb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (kb->oom)
		return;
	for (;;) {
		size_t room = kb->cap - kb->len;

		va_start(ap, fmt);
		n = vsnprintf(kb->p ? kb->p + kb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			kb->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			kb->len += (size_t)n;
			return;
		}
		size_t cap = kb->cap ? kb->cap * 2 : 8192;
		while (cap - kb->len <= (size_t)n)
			cap *= 2;
		char *np = realloc(kb->p, cap);
		if (np == NULL) {
			kb->oom = 1;
			return;
		}
		kb->p = np;
		kb->cap = cap;
	}
}

static void kb_reset(struct knot_buf *kb)
{
	kb->len = 0;
	if (kb->p != NULL)
		kb->p[0] = '\0';
}

static void kb_free(struct knot_buf *kb)
{
	free(kb->p);
	memset(kb, 0, sizeof *kb);
}

static void knot_result(struct knot_ctx *c, size_t i, enum backend_result r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Decide zone i now; the message becomes its one safe line. */
static void knot_result(struct knot_ctx *c, size_t i, enum backend_result r, const char *fmt, ...)
{
	struct backend_zone *z = &c->b->zones[i];
	char raw[sizeof z->error];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	str_safe(z->error, sizeof z->error, raw, strlen(raw));
	z->result = r;
	c->kz[i].done = 1;
	c->kz[i].reload = 0;
	c->kz[i].verify = 0;
}

static int knot_path(const struct knot_ctx *c, const char *domain, const char *suffix, char *out,
                     size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s.zone%s", c->zdir, domain, suffix);

	if (n < 0 || (size_t)n >= outsz)
		return ZD_ENAMETOOLONG;
	return 0;
}

/* Index of domain (no trailing dot) in the batch, which is sorted by domain; -1 if absent. */
static long knot_find(const struct knot_ctx *c, const char *name, size_t len)
{
	size_t lo = 0, hi = c->b->n;

	if (len > 0 && name[len - 1] == '.')
		len--;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *d = c->b->zones[mid].domain;
		int cmp = strncmp(d, name, len);

		if (cmp == 0 && d[len] != '\0')
			cmp = 1;
		if (cmp == 0)
			return (long)mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* not sorted after all (a caller's slip): look at every zone */
	for (lo = 0; lo < c->b->n; lo++)
		if (strncmp(c->b->zones[lo].domain, name, len) == 0 && c->b->zones[lo].domain[len] == '\0')
			return (long)lo;
	return -1;
}

/* ---- knotc sessions ----------------------------------------------------------------- */

/* Run knotc with in on stdin. Returns 0 with res filled (caller frees), or
 * an error when knotc could not run, timed out or failed as a whole. */
static int knot_run(struct knot_ctx *c, const struct knot_buf *in, size_t ncmds,
                    struct exec_result *res, struct zd_err *err)
{
	int timeout = 60000 + (int)(ncmds > 100000 ? 100000 : ncmds) * 10;
	int rc;

	if (in->oom)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	rc = exec_run(c->control, NULL, in->p, in->len, timeout, res, err);
	if (rc < 0)
		return rc;
	if (res->timed_out) {
		exec_result_free(res);
		return zd_err_set(err, ZD_ETIMEDOUT, "knotc did not finish within %d ms", timeout);
	}
	if (res->status != 0) {
		char first[200];
		size_t l = strcspn(res->output, "\n");

		str_safe(first, sizeof first, res->output, l);
		rc = zd_err_set(err, ZD_ECMD, "knotc exited %d: %s", res->status, first);
		exec_result_free(res);
		return rc;
	}
	return 0;
}

/* The answers in knotc's output, in order: lines "OK" and "error: ..." (not
 * notices, warnings or data). Cuts out into lines; line[] points into it. */
static int knot_answers(char *out, char ***line, size_t *n)
{
	size_t cap = 64, k = 0;
	char **v = malloc(cap * sizeof *v);
	char *p = out;

	if (v == NULL)
		return ZD_ENOMEM;
	while (p != NULL && *p != '\0') {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (strcmp(p, "OK") == 0 || strncmp(p, "error:", 6) == 0) {
			if (k == cap) {
				char **nv = realloc(v, cap * 2 * sizeof *v);
				if (nv == NULL) {
					free(v);
					return ZD_ENOMEM;
				}
				v = nv;
				cap *= 2;
			}
			v[k++] = p;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	*line = v;
	*n = k;
	return 0;
}

/* "error: (reason) item" -> "reason" into out */
static const char *knot_reason(const char *ans, char *out, size_t outsz)
{
	const char *p = ans, *q;

	if (strncmp(p, "error:", 6) == 0)
		p += 6;
	while (*p == ' ')
		p++;
	if (*p == '(' && (q = strchr(p, ')')) != NULL)
		str_safe(out, outsz, p + 1, (size_t)(q - p - 1));
	else
		str_safe(out, outsz, p, strlen(p));
	return out;
}

/* ---- zone-reload -------------------------------------------------------------------- */

/* zone-reload (blocking: "-b", knotd's load verdict) of every zone marked
 * reload. abort_first: the session opens with conf-abort (stale
 * transactions; also tells whether knotd answers at all). */
static int knot_reload(struct knot_ctx *c, int blocking, int abort_first, struct zd_err *err)
{
	struct knot_buf in = { 0 };
	struct exec_result res;
	size_t i = 0, n = c->b->n;
	int rc = 0;

	while (i < n || abort_first) {
		size_t nz = 0, inline_ = 0, j, k, nans = 0;
		char **ans = NULL;
		size_t first = i;

		kb_reset(&in);
		if (abort_first)
			kb_add(&in, "conf-abort\n");
		for (; i < n && nz < KNOT_SESSION_CMDS; i++) {
			if (!c->kz[i].reload)
				continue;
			if (inline_ == 0)
				kb_add(&in, "zone-reload%s", blocking ? " -b" : "");
			kb_add(&in, " %s", c->b->zones[i].domain);
			nz++;
			if (++inline_ == KNOT_RELOAD_LINE) {
				kb_add(&in, "\n");
				inline_ = 0;
			}
		}
		if (inline_ > 0)
			kb_add(&in, "\n");
		if (nz == 0 && !abort_first)
			break;
		c->used_reload |= !blocking && nz > 0;
		c->used_verdict |= blocking && nz > 0;
		rc = knot_run(c, &in, nz + 1, &res, err);
		if (rc < 0) {
			c->down = 1;
			str_copy(c->why, err->msg, sizeof c->why);
			goto out;
		}
		rc = knot_answers(res.output, &ans, &nans);
		if (rc < 0) {
			exec_result_free(&res);
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
			goto out;
		}
		k = 0;
		if (abort_first) {
			abort_first = 0;
			if (nans == 0 || strcmp(ans[0], "OK") != 0) {
				char why[300];
				const char *a0 = nans ? ans[0] : "no answer";
				str_safe(why, sizeof why, a0, strlen(a0));
				rc = zd_err_set(err, ZD_ECMD, "knotd: conf-abort: %s", why);
				c->down = 1;
				str_copy(c->why, err->msg, sizeof c->why);
				free(ans);
				exec_result_free(&res);
				goto out;
			}
			k = 1;
		}
		for (; k < nans; k++) {
			const char *a = ans[k], *lb, *rb;
			char reason[300];
			long zi;

			if (strcmp(a, "OK") == 0)
				continue;
			lb = strchr(a, '[');
			rb = lb ? strchr(lb, ']') : NULL;
			if (lb == NULL || rb == NULL || (zi = knot_find(c, lb + 1, (size_t)(rb - lb - 1))) < 0 ||
			    (size_t)zi < first || (size_t)zi >= i) {
				/* not about one of our zones: knotd is gone or broken */
				str_safe(reason, sizeof reason, a, strlen(a));
				rc = zd_err_set(err, ZD_ECMD, "knotd: zone-reload: %s", reason);
				c->down = 1;
				str_copy(c->why, err->msg, sizeof c->why);
				free(ans);
				exec_result_free(&res);
				goto out;
			}
			if (c->kz[zi].done)
				continue;   /* a second line about the same zone */
			knot_reason(rb + 1, reason, sizeof reason);
			if (strstr(reason, "no such zone") != NULL) {
				if (!blocking && c->kz[zi].op == KOP_CHANGE)
					c->kz[zi].op = KOP_ADD;   /* knotd lost it: configure it again */
				else
					knot_result(c, (size_t)zi, BZ_FAILED, "knotd has no zone %s",
					            c->b->zones[zi].domain);
			} else if (blocking && strstr(reason, "timed out") == NULL &&
			           strstr(reason, "connection") == NULL) {
				knot_result(c, (size_t)zi, BZ_REJECTED, "knotd refused to load the zone file (%s)",
				            reason);
				c->kz[zi].load_refused = 1;
			} else {
				knot_result(c, (size_t)zi, BZ_FAILED, "zone-reload: %s", reason);
			}
		}
		free(ans);
		exec_result_free(&res);
		for (j = first; j < i; j++) {
			if (c->kz[j].reload && !c->kz[j].done && c->kz[j].op == KOP_CHANGE)
				c->kz[j].sent = 1;
			c->kz[j].reload = 0;
		}
	}
out:
	kb_free(&in);
	return rc;
}

/* ---- the conf transaction ----------------------------------------------------------- */

enum knot_cmd_kind { KC_ABORT, KC_BEGIN, KC_SET, KC_FILE, KC_UNSET, KC_COMMIT, KC_BULK };

struct knot_cmd {
	enum knot_cmd_kind kind;
	size_t zone;              /* KC_SET, KC_FILE, KC_UNSET */
	const size_t *zones;      /* KC_BULK: these zones, file from knotd's default template */
	size_t count;
};

static void knot_cmd_text(struct knot_ctx *c, struct knot_buf *in, const struct knot_cmd *cmd)
{
	const char *d = cmd->kind >= KC_SET && cmd->kind <= KC_UNSET ? c->b->zones[cmd->zone].domain : "";
	size_t i;

	switch (cmd->kind) {
	case KC_ABORT:
		kb_add(in, "conf-abort\n");
		break;
	case KC_BEGIN:
		kb_add(in, "conf-begin\n");
		break;
	case KC_SET:
		kb_add(in, "conf-set zone[%s]\n", d);
		break;
	case KC_FILE:
		/* zones_dir holds no quote, backslash or '%' (checked): a plain quoted word */
		kb_add(in, "conf-set zone[%s].file \"%s/%s.zone\"\n", d, c->zdir, d);
		break;
	case KC_UNSET:
		kb_add(in, "conf-unset zone[%s]\n", d);
		break;
	case KC_COMMIT:
		kb_add(in, "conf-commit\n");
		break;
	case KC_BULK:
		kb_add(in, "conf-set zone.domain");
		for (i = 0; i < cmd->count; i++)
			kb_add(in, " %s", c->b->zones[cmd->zones[i]].domain);
		kb_add(in, "\n");
		break;
	}
}

static void knot_cmds_free(char **answers, size_t n)
{
	size_t i;

	for (i = 0; answers != NULL && i < n; i++) {
		free(answers[i]);
		answers[i] = NULL;
	}
}

/* Run cmds[0..n) in sessions; answers[] gets a malloc'd copy of each answer. */
static int knot_cmds(struct knot_ctx *c, const struct knot_cmd *cmds, size_t n, char **answers,
                     struct zd_err *err)
{
	struct knot_buf in = { 0 };
	size_t i = 0;
	int rc = 0;

	while (i < n) {
		struct exec_result res;
		size_t m = n - i > KNOT_SESSION_CMDS ? KNOT_SESSION_CMDS : n - i, j, nans = 0;
		char **ans = NULL;

		kb_reset(&in);
		for (j = 0; j < m; j++)
			knot_cmd_text(c, &in, &cmds[i + j]);
		rc = knot_run(c, &in, m, &res, err);
		if (rc < 0)
			goto out;
		rc = knot_answers(res.output, &ans, &nans);
		if (rc < 0) {
			exec_result_free(&res);
			rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
			goto out;
		}
		if (nans != m) {
			/* without one answer per command nothing can be told apart */
			rc = zd_err_set(err, ZD_ECMD, "knotc gave %zu answers to %zu commands%s%.200s", nans, m,
			                nans ? ", first: " : "", nans ? ans[0] : "");
			free(ans);
			exec_result_free(&res);
			goto out;
		}
		for (j = 0; j < m; j++) {
			answers[i + j] = strdup(ans[j]);
			if (answers[i + j] == NULL) {
				rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
				break;
			}
		}
		free(ans);
		exec_result_free(&res);
		if (rc < 0)
			goto out;
		i += m;
	}
out:
	kb_free(&in);
	return rc;
}

static void knot_abort_quietly(struct knot_ctx *c)
{
	struct knot_cmd cmd = { KC_ABORT, 0, NULL, 0 };
	char *ans = NULL;
	struct zd_err e;

	zd_err_clear(&e);
	if (knot_cmds(c, &cmd, 1, &ans, &e) < 0)
		log_warning(NULL, "backend=%s conf-abort after a failed transaction: %s", c->be->name,
		            zd_err_str(&e));
	free(ans);
}

/* Record the answers to zone commands in kz[]. Zones of a refused bulk add
 * go to redo[] (one by one next), zones added without their file to unfix[]. */
static void knot_txn_record(struct knot_ctx *c, const struct knot_cmd *cmds, char **ans, size_t n,
                            size_t *redo, size_t *nredo, size_t *unfix, size_t *nunfix)
{
	size_t i, j;
	char why[300];

	for (i = 0; i < n; i++) {
		size_t z = cmds[i].zone;
		struct knot_zone *k = &c->kz[z];
		int is_ok = strcmp(ans[i], "OK") == 0;

		knot_reason(ans[i], why, sizeof why);
		switch (cmds[i].kind) {
		case KC_BULK:
			for (j = 0; j < cmds[i].count; j++) {
				if (is_ok)
					c->kz[cmds[i].zones[j]].set_ok = 1;
				else
					redo[(*nredo)++] = cmds[i].zones[j];
			}
			break;
		case KC_SET:
			if (is_ok)
				k->set_ok = 1;
			else if (strstr(ans[i], "duplicate identifier") != NULL)
				k->dup = 1;
			else
				knot_result(c, z, BZ_FAILED, "conf-set zone[%s]: %s", c->b->zones[z].domain, why);
			break;
		case KC_FILE:
			if (!is_ok && (k->set_ok || k->dup)) {
				k->file_err = 1;
				knot_result(c, z, BZ_FAILED, "conf-set zone[%s].file: %s", c->b->zones[z].domain, why);
				/* added without our file, knotd would load its default path: take it out */
				if (k->set_ok)
					unfix[(*nunfix)++] = z;
			}
			break;
		case KC_UNSET:
			if (is_ok || strstr(ans[i], "invalid identifier") != NULL)
				k->unset_ok = 1;
			else
				knot_result(c, z, BZ_FAILED, "conf-unset zone[%s]: %s", c->b->zones[z].domain, why);
			break;
		default:
			break;
		}
	}
}

/* One transaction: add[] configured, del[] unset. Adds are one conf-set per
 * zone plus its file, or with c->bulk (knotd's default template finds the
 * files in zones_dir) conf-set zone.domain for many zones at once. Returns 0
 * when committed; otherwise an error, *refused = 1 when it was conf-commit
 * that failed. Per-zone answers land in kz[] (or decide the zone). */
static int knot_txn(struct knot_ctx *c, const size_t *add, size_t nadd, const size_t *del,
                    size_t ndel, int *refused, struct zd_err *err)
{
	struct knot_cmd *cmds = NULL;
	char **ans = NULL;
	size_t *redo = NULL, *unfix = NULL;
	size_t n = 0, i, nredo = 0, nunfix = 0, cap = 4 + 2 * nadd + ndel;
	int rc = 0, opened = 0, bulk = c->bulk && nadd > 1;
	char why[300];

	*refused = 0;
	cmds = calloc(cap, sizeof *cmds);
	ans = calloc(cap, sizeof *ans);
	redo = calloc(nadd + 1, sizeof *redo);
	unfix = calloc(nadd + 1, sizeof *unfix);
	if (cmds == NULL || ans == NULL || redo == NULL || unfix == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	c->used_txn = 1;
	cmds[n++] = (struct knot_cmd){ KC_ABORT, 0, NULL, 0 };
	cmds[n++] = (struct knot_cmd){ KC_BEGIN, 0, NULL, 0 };
	for (i = 0; i < nadd; i++) {
		struct knot_zone *k = &c->kz[add[i]];
		k->set_ok = k->dup = k->file_err = 0;
		if (bulk) {
			if (i % KNOT_BULK_LINE == 0)
				cmds[n++] = (struct knot_cmd){ KC_BULK, 0, add + i,
				                               nadd - i > KNOT_BULK_LINE ? KNOT_BULK_LINE : nadd - i };
		} else {
			cmds[n++] = (struct knot_cmd){ KC_SET, add[i], NULL, 0 };
			cmds[n++] = (struct knot_cmd){ KC_FILE, add[i], NULL, 0 };
		}
	}
	for (i = 0; i < ndel; i++) {
		c->kz[del[i]].unset_ok = 0;
		cmds[n++] = (struct knot_cmd){ KC_UNSET, del[i], NULL, 0 };
	}
	rc = knot_cmds(c, cmds, n, ans, err);
	opened = 1;
	if (rc < 0)
		goto out;
	if (strcmp(ans[0], "OK") != 0) {
		str_safe(why, sizeof why, ans[0], strlen(ans[0]));
		rc = zd_err_set(err, ZD_ECMD, "knotd: conf-abort: %s", why);
		c->down = 1;
		str_copy(c->why, err->msg, sizeof c->why);
		goto out;
	}
	if (strcmp(ans[1], "OK") != 0) {
		str_safe(why, sizeof why, ans[1], strlen(ans[1]));
		rc = zd_err_set(err, ZD_ECMD, "knotd: conf-begin: %s", why);
		goto out;
	}
	knot_txn_record(c, cmds + 2, ans + 2, n - 2, redo, &nredo, unfix, &nunfix);
	knot_cmds_free(ans, n);

	/* a bulk line fails as a whole (one zone knotd has already): those one by one */
	if (nredo > 0) {
		for (n = 0, i = 0; i < nredo; i++) {
			cmds[n++] = (struct knot_cmd){ KC_SET, redo[i], NULL, 0 };
			cmds[n++] = (struct knot_cmd){ KC_FILE, redo[i], NULL, 0 };
		}
		rc = knot_cmds(c, cmds, n, ans, err);
		if (rc < 0)
			goto out;
		nredo = 0;
		knot_txn_record(c, cmds, ans, n, redo, &nredo, unfix, &nunfix);
		knot_cmds_free(ans, n);
	}
	if (nunfix > 0) {
		for (n = 0, i = 0; i < nunfix; i++)
			cmds[n++] = (struct knot_cmd){ KC_UNSET, unfix[i], NULL, 0 };
		rc = knot_cmds(c, cmds, n, ans, err);
		for (i = 0; rc == 0 && i < n; i++)
			if (strcmp(ans[i], "OK") != 0) {
				str_safe(why, sizeof why, ans[i], strlen(ans[i]));
				rc = zd_err_set(err, ZD_ECMD, "knotd: conf-unset after a failed conf-set: %s", why);
			}
		knot_cmds_free(ans, n);
		if (rc < 0)
			goto out;
	}
	/* the conf-abort after conf-commit is a no-op unless the commit failed */
	cmds[0] = (struct knot_cmd){ KC_COMMIT, 0, NULL, 0 };
	cmds[1] = (struct knot_cmd){ KC_ABORT, 0, NULL, 0 };
	n = 2;
	rc = knot_cmds(c, cmds, n, ans, err);
	if (rc < 0)
		goto out;
	opened = 0;
	if (strcmp(ans[0], "OK") != 0) {
		*refused = 1;
		knot_reason(ans[0], why, sizeof why);
		rc = zd_err_set(err, ZD_ECMD, "knotd refused conf-commit: %s", why);
		goto out;
	}
	for (i = 0; i < nadd; i++) {
		struct knot_zone *k = &c->kz[add[i]];
		if ((k->set_ok || k->dup) && !k->file_err) {
			k->in_conf = 1;
			/* knotd loads what a commit adds; a zone it had keeps its old data until reloaded */
			if (k->dup)
				k->reload = 1;
		}
	}
	for (i = 0; i < ndel; i++)
		if (c->kz[del[i]].unset_ok)
			c->kz[del[i]].in_conf = 0;
out:
	if (opened && !c->down)
		knot_abort_quietly(c);
	knot_cmds_free(ans, n);
	free(unfix);
	free(redo);
	free(ans);
	free(cmds);
	return rc;
}

/* 1 when knotd's default template puts a zone without "file" at
 * zones_dir/<domain>.zone (storage = zones_dir, file unset or "%s.zone"):
 * then big adds need no conf-set of each file (0.5 ms per zone at 10k). */
static int knot_template_ok(struct knot_ctx *c)
{
	struct knot_buf in = { 0 };
	struct exec_result res;
	struct zd_err e;
	char *p, *nl;
	int storage_ok = 0, file_ok = 1;

	kb_add(&in, "conf-read template[default].storage\nconf-read template[default].file\n");
	zd_err_clear(&e);
	if (knot_run(c, &in, 2, &res, &e) < 0) {
		kb_free(&in);
		return 0;
	}
	for (p = res.output; p != NULL && *p != '\0'; p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (strncmp(p, "template[default].storage = ", 28) == 0) {
			size_t l = strlen(p + 28);
			while (l > 1 && p[28 + l - 1] == '/')
				l--;
			storage_ok = l == strlen(c->zdir) && strncmp(p + 28, c->zdir, l) == 0;
		} else if (strncmp(p, "template[default].file = ", 25) == 0) {
			file_ok = strcmp(p + 25, "%s.zone") == 0;
		}
	}
	exec_result_free(&res);
	kb_free(&in);
	return storage_ok && file_ok;
}

/* knotd refused a commit holding add[]: commit halves until the zones it
 * refuses are alone (REJECTED); *budget caps the transactions spent. */
static void knot_txn_bisect(struct knot_ctx *c, size_t *add, size_t n, int *budget)
{
	struct zd_err e;
	int refused = 0;
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		if (!c->kz[add[i]].done)
			add[m++] = add[i];
	if (m == 0 || c->down)
		return;
	if (*budget <= 0) {
		for (i = 0; i < m; i++)
			knot_result(c, add[i], BZ_FAILED, "not added: knotd refused the transaction holding it");
		return;
	}
	(*budget)--;
	zd_err_clear(&e);
	if (knot_txn(c, add, m, NULL, 0, &refused, &e) == 0)
		return;
	if (!refused) {
		for (i = 0; i < m; i++)
			if (!c->kz[add[i]].done)
				knot_result(c, add[i], BZ_FAILED, "%s", e.msg);
		return;
	}
	if (m == 1) {
		knot_result(c, add[0], BZ_REJECTED, "%s", e.msg);
		return;
	}
	knot_txn_bisect(c, add, m / 2, budget);
	knot_txn_bisect(c, add + m / 2, m - m / 2, budget);
}

/* ---- checking and writing ----------------------------------------------------------- */

/* kzonecheck on zone i's text in file path. Rejects on what knotd would
 * refuse to load; logs the rest. A file, not a pipe: kzonecheck reads a pipe
 * wrongly beyond ~200 KB (false "invalid IPv4 address" at line 9414 of a
 * good zone, Knot 3.2.6) and stops reading at its first error. */
static void knot_check(struct knot_ctx *c, size_t i, const char *path)
{
	struct backend_zone *z = &c->b->zones[i];
	const char *args[] = { "-v", "-o", z->domain, path, NULL };
	struct exec_result res;
	struct zd_err e;
	char *p, *msg = NULL, *first = NULL;
	int serious;

	if (c->no_checker)
		return;
	zd_err_clear(&e);
	if (exec_run("kzonecheck", args, NULL, 0, KNOT_CHECK_TIMEOUT_MS, &res, &e) < 0) {
		log_warning(z->domain, "backend=%s kzonecheck did not run: %s", c->be->name, zd_err_str(&e));
		return;
	}
	c->used_check = 1;
	if (res.status == 127 || res.status == 126) {
		c->no_checker = 1;
		log_warning(NULL, "backend=%s kzonecheck not found (Debian: knot-dnssecutils): "
		            "relying on knotd's load result", c->be->name);
		goto out;
	}
	if (res.timed_out) {
		log_warning(z->domain, "backend=%s kzonecheck timed out: relying on knotd's load result",
		            c->be->name);
		goto out;
	}
	if (res.status == 0)
		goto out;
	serious = strstr(res.output, "Serious semantic error") != NULL;
	for (p = res.output; p != NULL && *p != '\0';) {
		char *nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (strncmp(p, "error: ", 7) == 0) {
			serious = 1;
			if (msg == NULL && strstr(p, "failed to run semantic checks") == NULL)
				msg = p + 7;
		} else if (p[0] == '[' && first == NULL) {
			first = p;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	if (msg == NULL)
		msg = first != NULL ? first : "refused";
	/* "file '<temp file>', " says nothing to an operator */
	if ((p = strstr(msg, "file '")) != NULL) {
		char *q = strstr(p, "', ");
		if (q != NULL)
			memmove(p, q + 3, strlen(q + 3) + 1);
	}
	if (serious)
		knot_result(c, i, BZ_REJECTED, "kzonecheck: %s", msg);
	else
		log_warning(z->domain, "backend=%s kzonecheck: %s (knotd loads it anyway)", c->be->name, msg);
out:
	exec_result_free(&res);
}

/* 1 when path holds text (plus the newline a file gets when the text lacks one) */
static int knot_same_file(const char *path, const char *text, size_t len)
{
	char *old = NULL;
	size_t olen = 0;
	int same;

	if (file_read_all(path, len + 2, &old, &olen, NULL) < 0)
		return 0;
	same = (olen == len || (olen == len + 1 && old[len] == '\n' && (len == 0 || text[len - 1] != '\n'))) &&
	       memcmp(old, text, len) == 0;
	free(old);
	return same;
}

static int knot_tmp_path(const struct knot_ctx *c, const char *domain, char *out, size_t outsz)
{
	/* per backend: two backends may share one zones_dir */
	int n = snprintf(out, outsz, "%s/.%s.zone.%s.tmp", c->zdir, domain, c->be->name);

	return n < 0 || (size_t)n >= outsz ? ZD_ENAMETOOLONG : 0;
}

static int knot_write_tmp(struct knot_ctx *c, size_t i, int sync_each, struct zd_err *err)
{
	struct backend_zone *z = &c->b->zones[i];
	char tmp[ZD_PATH_MAX];
	int rc;

	if (knot_tmp_path(c, z->domain, tmp, sizeof tmp) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long for %s", z->domain);
	rc = backend_zone_file_write(tmp, z, KNOT_FILE_MODE, sync_each, err);
	if (rc != 0)
		return rc;
	c->kz[i].tmp = 1;
	return 0;
}

static void knot_drop_tmp(struct knot_ctx *c, size_t i)
{
	char tmp[ZD_PATH_MAX];

	if (c->kz[i].tmp && knot_tmp_path(c, c->b->zones[i].domain, tmp, sizeof tmp) == 0)
		unlink(tmp);
	c->kz[i].tmp = 0;
}

/* Temp file -> <domain>.zone; the file it replaces stays as .prev, to put
 * back if knotd refuses the new one. */
static int knot_install(struct knot_ctx *c, size_t i, struct zd_err *err)
{
	struct backend_zone *z = &c->b->zones[i];
	char tmp[ZD_PATH_MAX], path[ZD_PATH_MAX], prev[ZD_PATH_MAX];
	int rc, has_prev = 0;

	if (knot_tmp_path(c, z->domain, tmp, sizeof tmp) != 0 ||
	    knot_path(c, z->domain, "", path, sizeof path) != 0 ||
	    knot_path(c, z->domain, ".prev", prev, sizeof prev) != 0)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long for %s", z->domain);
	rc = backend_zone_file_install(c->be->name, z->domain, tmp, path, prev, z->was_present,
	                               &has_prev, err);
	c->kz[i].has_prev = has_prev != 0;
	if (rc != 0)
		return rc;
	c->kz[i].tmp = 0;
	c->kz[i].written = 1;
	return 0;
}

/* Zone files of the zones to serve: temp files, kzonecheck on each when
 * precheck (small batches), durable (fsync each, or one syncfs for a big
 * batch: 10,000 fsyncs took 5-50 s here), renamed into place, one fsync of
 * the directory. A file that already holds the text (a retry) is left alone. */
static void knot_write_all(struct knot_ctx *c, int precheck)
{
	struct backend_batch *b = c->b;
	struct zd_err e;
	size_t i, nwrite = 0, ninstalled = 0;
	int sync_each, fd;
	char path[ZD_PATH_MAX];

	for (i = 0; i < b->n; i++) {
		struct knot_zone *k = &c->kz[i];
		if (k->done || (k->op != KOP_ADD && k->op != KOP_CHANGE))
			continue;
		if (knot_path(c, b->zones[i].domain, "", path, sizeof path) == 0 &&
		    knot_same_file(path, b->zones[i].text, b->zones[i].text_len))
			k->written = 1;
		else
			nwrite++;
	}
	if (nwrite == 0)
		return;
	sync_each = nwrite <= KNOT_SYNCFS_MIN;
	for (i = 0; i < b->n; i++) {
		struct knot_zone *k = &c->kz[i];
		if (k->done || k->written || (k->op != KOP_ADD && k->op != KOP_CHANGE))
			continue;
		zd_err_clear(&e);
		if (knot_write_tmp(c, i, sync_each, &e) < 0) {
			knot_result(c, i, BZ_FAILED, "write zone file: %s", zd_err_str(&e));
			continue;
		}
		if (precheck) {
			int64_t t = time_mono_ms();
			if (knot_tmp_path(c, b->zones[i].domain, path, sizeof path) == 0)
				knot_check(c, i, path);
			c->ms_check += time_mono_ms() - t;
			if (k->done)
				knot_drop_tmp(c, i);
		}
	}
	/* data on disk before any rename, or a crash leaves an empty zone file */
	if (!sync_each) {
		fd = open(c->zdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0) {
			int se = errno;
			for (i = 0; i < b->n; i++)
				if (c->kz[i].tmp) {
					knot_drop_tmp(c, i);
					knot_result(c, i, BZ_FAILED, "syncfs %s: %s", c->zdir, strerror(se));
				}
		}
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < b->n; i++) {
		if (!c->kz[i].tmp)
			continue;
		zd_err_clear(&e);
		if (knot_install(c, i, &e) < 0) {
			knot_drop_tmp(c, i);
			knot_result(c, i, BZ_FAILED, "install zone file: %s", zd_err_str(&e));
		} else {
			ninstalled++;
		}
	}
	zd_err_clear(&e);
	if (ninstalled > 0 && fsync_dir(c->zdir, 1, &e) < 0)
		for (i = 0; i < b->n; i++)
			if (c->kz[i].written && !c->kz[i].done)
				knot_result(c, i, BZ_FAILED, "%s", zd_err_str(&e));
}

/* Zone i's new file is done with: keep it (ok), or put the old one back. */
static void knot_files_settle(struct knot_ctx *c, size_t i, int restore)
{
	struct backend_zone *z = &c->b->zones[i];
	struct knot_zone *k = &c->kz[i];
	char path[ZD_PATH_MAX], prev[ZD_PATH_MAX];

	if (knot_path(c, z->domain, "", path, sizeof path) < 0 ||
	    knot_path(c, z->domain, ".prev", prev, sizeof prev) < 0)
		return;
	if (k->has_prev) {
		if (restore) {
			if (rename(prev, path) < 0)
				log_warning(z->domain, "backend=%s put back %s: %s", c->be->name, prev,
				            strerror(errno));
			else
				fsync_dir(path, 0, NULL);
		} else if (unlink(prev) < 0 && errno != ENOENT) {
			log_warning(z->domain, "backend=%s unlink %s: %s", c->be->name, prev, strerror(errno));
		}
		k->has_prev = 0;
	} else if (restore && k->written && !z->was_present) {
		/* a new zone knotd refused: its file serves nobody */
		unlink(path);
	}
}

/* ---- verification ------------------------------------------------------------------- */

static int knot_verify(struct knot_ctx *c, int64_t timeout_ms, struct zd_err *err)
{
	struct verify_query *q;
	size_t *idx, i, m = 0;
	int rc = 0;

	q = calloc(c->b->n ? c->b->n : 1, sizeof *q);
	idx = calloc(c->b->n ? c->b->n : 1, sizeof *idx);
	if (q == NULL || idx == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < c->b->n; i++) {
		struct knot_zone *k = &c->kz[i];
		if (!k->verify || k->ok || k->done)
			continue;
		q[m].domain = c->b->zones[i].domain;
		q[m].serial = c->b->zones[i].serial;
		q[m].want_present = k->op != KOP_DEL;
		idx[m++] = i;
	}
	if (m == 0)
		goto out;
	if (timeout_ms < 1)
		timeout_ms = 1;
	rc = verify_soa(c->vhost, c->vport, q, m, timeout_ms, KNOT_POLL_MS, err);
	if (rc < 0)
		goto out;
	for (i = 0; i < m; i++) {
		struct knot_zone *k = &c->kz[idx[i]];
		k->ok = q[i].ok ? 1 : 0;
		k->vstate = (unsigned char)q[i].state;
		k->got_serial = q[i].got_serial;
	}
out:
	free(q);
	free(idx);
	return rc;
}

static void knot_verify_message(struct knot_ctx *c, size_t i)
{
	struct knot_zone *k = &c->kz[i];
	const struct backend_zone *z = &c->b->zones[i];

	if (k->op == KOP_DEL)
		knot_result(c, i, BZ_FAILED, "still served by %s@%d after the delete", c->vhost, c->vport);
	else if (k->vstate == VERIFY_OTHER)
		knot_result(c, i, BZ_FAILED, "%s@%d serves serial %u, expected %u", c->vhost, c->vport,
		            (unsigned)k->got_serial, (unsigned)z->serial);
	else if (k->vstate == VERIFY_ABSENT)
		knot_result(c, i, BZ_FAILED, "not served by %s@%d (expected serial %u)", c->vhost, c->vport,
		            (unsigned)z->serial);
	else
		knot_result(c, i, BZ_FAILED, "no answer from %s@%d (expected serial %u)", c->vhost, c->vport,
		            (unsigned)z->serial);
}

/* ---- include_file ------------------------------------------------------------------- */

static int knot_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* include_file: every zone knotd holds after this batch, Knot text syntax. */
static int knot_include(struct knot_ctx *c, struct zd_err *err)
{
	struct backend_batch *b = c->b;
	struct knot_buf out = { 0 };
	const char **names;
	size_t i, m = 0;
	int rc = 0;

	names = calloc(b->nkeep + b->n + 1, sizeof *names);
	if (names == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < b->nkeep; i++) {
		if (domain_check(b->keep[i], NULL) < 0)
			continue;
		names[m++] = b->keep[i];
	}
	for (i = 0; i < b->n; i++)
		if (b->zones[i].now_present && domain_check(b->zones[i].domain, NULL) == 0)
			names[m++] = b->zones[i].domain;
	qsort(names, m, sizeof *names, knot_strcmp);
	kb_add(&out, "# Zones of zonedrop backend \"%s\" for knotd, in Knot's text configuration.\n"
	       "# Written by zonedrop-drain after every batch: do not edit. In knot.conf:\n"
	       "#   include: \"%s\"\n", c->be->name, c->be->include_file);
	for (i = 0; i < m; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (i == 0)
			kb_add(&out, "zone:\n");
		kb_add(&out, "  - domain: \"%s\"\n    file: \"%s/%s.zone\"\n", names[i], c->zdir, names[i]);
	}
	if (out.oom) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	if (knot_same_file(c->be->include_file, out.p, out.len))
		goto out;
	rc = file_write_atomic(c->be->include_file, out.p, out.len, KNOT_FILE_MODE, err);
out:
	kb_free(&out);
	free(names);
	return rc;
}

/* ---- the batch ---------------------------------------------------------------------- */

static int knot_setup(struct knot_ctx *c, struct zd_err *err)
{
	const struct config_backend *be = c->be;
	const char *p;
	size_t len;

	if (be->zones_dir == NULL || be->zones_dir[0] != '/')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: zones_dir must be an absolute path", be->name);
	if (be->control == NULL || be->control[0] == '\0')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: control (knotc ...) is not set", be->name);
	/* the path goes into knotc lines ("...") and Knot's config, where '%' is a format */
	for (p = be->zones_dir; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == '%')
			return zd_err_set(err, ZD_ECONFIG,
			                  "backend %s: zones_dir may not hold quotes, backslashes, '%%' or "
			                  "control characters", be->name);
	if (be->include_file != NULL && be->include_file[0] != '/')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: include_file must be an absolute path",
		                  be->name);
	len = str_copy(c->zdir, be->zones_dir, sizeof c->zdir);
	if (len + DOMAIN_MAX + 16 >= sizeof c->zdir)
		return zd_err_set(err, ZD_ENAMETOOLONG, "backend %s: zones_dir too long", be->name);
	while (len > 1 && c->zdir[len - 1] == '/')
		c->zdir[--len] = '\0';
	len = strlen(be->control) + 16;
	c->control = malloc(len);
	if (c->control == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	/* no HOME: knotc would rewrite ~/.knotc_history after every command */
	snprintf(c->control, len, "env -u HOME %s", be->control);
	c->vhost = be->verify_host != NULL && be->verify_host[0] != '\0' ? be->verify_host : "127.0.0.1";
	c->vport = be->verify_port > 0 ? be->verify_port : 53;
	return mkdir_p(c->zdir, 0755, err);
}

/* After the batch: result and now_present of zone i, and its files settled. */
static void knot_zone_finish(struct knot_ctx *c, size_t i)
{
	struct backend_zone *z = &c->b->zones[i];
	struct knot_zone *k = &c->kz[i];
	char path[ZD_PATH_MAX];

	if (z->result == BZ_UNSET) {
		if (c->down)
			knot_result(c, i, BZ_FAILED, "%s", c->why);
		else if (k->ok)
			z->result = BZ_OK;
		else if (k->verify)
			knot_verify_message(c, i);
		else
			knot_result(c, i, BZ_FAILED, "not applied");
	}
	/* does knotd hold a valid copy now? */
	switch (k->op) {
	case KOP_ADD:
		z->now_present = k->in_conf;
		break;
	case KOP_CHANGE:
		z->now_present = 1;   /* the new version, or the old one knotd kept */
		break;
	case KOP_DEL:
		z->now_present = k->unset_ok ? 0 : z->was_present;
		if (k->unset_ok && knot_path(c, z->domain, "", path, sizeof path) == 0 && unlink(path) < 0 &&
		    errno != ENOENT)
			log_warning(z->domain, "backend=%s unlink %s: %s", c->be->name, path, strerror(errno));
		break;
	default:
		break;
	}
	/* refused, or never shown to knotd (down): the disk keeps what knotd
	 * serves, so a restart does not load an unapplied, unchecked version */
	if (k->written || k->has_prev)
		knot_files_settle(c, i, z->result == BZ_REJECTED ||
		                  (z->result == BZ_FAILED && ((k->op == KOP_CHANGE && !k->sent) ||
		                                              (k->op == KOP_ADD && !k->in_conf))));
}

/* knotd's verdict says only "failed" (its log has more): when few zones got
 * it, kzonecheck tells the operator why. */
static void knot_explain(struct knot_ctx *c)
{
	char path[ZD_PATH_MAX];
	size_t i, m = 0;

	for (i = 0; i < c->b->n; i++)
		m += c->kz[i].load_refused;
	if (m == 0 || m > KNOT_CHECK_MAX)
		return;
	for (i = 0; i < c->b->n && !c->no_checker; i++) {
		struct backend_zone *z = &c->b->zones[i];
		char was[sizeof z->error];

		if (!c->kz[i].load_refused)
			continue;
		str_copy(was, z->error, sizeof was);
		z->result = BZ_UNSET;
		z->error[0] = '\0';
		/* the refused text is still in <domain>.zone: settled after this */
		if (knot_path(c, z->domain, "", path, sizeof path) == 0)
			knot_check(c, i, path);
		if (z->result == BZ_REJECTED)
			knot_result(c, i, BZ_REJECTED, "knotd refused to load the zone file: %.400s", z->error);
		else
			knot_result(c, i, BZ_REJECTED, "%s", was);
	}
}

/* Verify; knotd's own verdict on what is not served after a short while; poll on. */
static void knot_verify_all(struct knot_ctx *c)
{
	struct backend_batch *b = c->b;
	struct zd_err e;
	size_t i;
	int64_t tv = time_mono_ms(), left, first;
	int rc;

	for (i = 0; i < b->n; i++) {
		struct knot_zone *k = &c->kz[i];
		if (k->done)
			continue;
		if ((k->op == KOP_CHANGE && k->written) || (k->op == KOP_ADD && k->in_conf) ||
		    (k->op == KOP_DEL && k->unset_ok))
			k->verify = 1;
	}
	/* knotd loads what a commit adds in the background: ~1 s for 10,000 zones */
	first = KNOT_FIRST_VERIFY_MS + (int64_t)b->n / 2;
	zd_err_clear(&e);
	rc = knot_verify(c, b->verify_timeout_ms < first ? b->verify_timeout_ms : first, &e);
	if (rc == 0) {
		for (i = 0; i < b->n; i++)
			if (c->kz[i].verify && !c->kz[i].ok && !c->kz[i].done && c->kz[i].op != KOP_DEL)
				c->kz[i].reload = 1;
		zd_err_clear(&e);
		if (knot_reload(c, 1, 0, &e) < 0 && c->down)
			return;
		left = b->verify_timeout_ms - (time_mono_ms() - tv);
		zd_err_clear(&e);
		rc = knot_verify(c, left > 1000 ? left : 1000, &e);
	}
	if (rc < 0)
		for (i = 0; i < b->n; i++)
			if (c->kz[i].verify && !c->kz[i].ok && !c->kz[i].done)
				knot_result(c, i, BZ_FAILED, "verify: %s", e.msg);
	knot_explain(c);
}

/* The transaction for new and deleted zones; a refused commit is retried in parts. */
static void knot_apply_txn(struct knot_ctx *c, size_t *add, size_t nadd, size_t *del, size_t ndel)
{
	struct zd_err e;
	int refused = 0, budget = KNOT_BISECT_MAX;
	size_t i;

	zd_err_clear(&e);
	if (knot_txn(c, add, nadd, del, ndel, &refused, &e) == 0)
		return;
	if (!refused || c->down) {
		c->down = 1;
		str_copy(c->why, e.msg, sizeof c->why);
		return;
	}
	log_warning(NULL, "backend=%s %s: committing the batch in parts", c->be->name, e.msg);
	/* deletes alone (or an empty commit): a refusal there is not about our zones */
	for (i = 0; i < nadd; i++)
		c->kz[add[i]].set_ok = c->kz[add[i]].dup = 0;
	zd_err_clear(&e);
	if (knot_txn(c, NULL, 0, del, ndel, &refused, &e) < 0) {
		c->down = 1;
		str_copy(c->why, e.msg, sizeof c->why);
		return;
	}
	knot_txn_bisect(c, add, nadd, &budget);
}

int backend_knot_apply(struct backend_batch *b, struct zd_err *err)
{
	struct knot_ctx c;
	struct zd_err e;
	size_t i, n = b->n, nadd = 0, ndel = 0, ncheck = 0, nrej = 0;
	size_t *add = NULL, *del = NULL;
	int64_t t0 = time_mono_ms(), tp;
	int rc = 0, refused = 0;

	memset(&c, 0, sizeof c);
	c.b = b;
	c.be = b->be;
	backend_batch_reset(b);
	c.kz = calloc(n ? n : 1, sizeof *c.kz);
	add = calloc(n ? n : 1, sizeof *add);
	del = calloc(n ? n : 1, sizeof *del);
	if (c.kz == NULL || add == NULL || del == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		backend_batch_fail(b, "out of memory");
		goto out;
	}
	zd_err_clear(&e);
	if (knot_setup(&c, &e) < 0) {
		c.down = 1;
		str_copy(c.why, e.msg, sizeof c.why);
		goto finish;
	}

	/* what each zone needs; only checked LDH names ever reach knotc */
	for (i = 0; i < n; i++) {
		struct backend_zone *z = &b->zones[i];

		zd_err_clear(&e);
		if (z->domain == NULL || domain_check(z->domain, &e) < 0) {
			knot_result(&c, i, BZ_REJECTED, "not a zone name zonedrop serves: %s", e.msg);
		} else if (!z->present) {
			c.kz[i].op = KOP_DEL;
		} else if (z->text == NULL) {
			knot_result(&c, i, BZ_FAILED, "no zone text");
		} else {
			c.kz[i].op = z->was_present ? KOP_CHANGE : KOP_ADD;
			ncheck++;
		}
	}
	/* a checker process per zone only for small batches (DESIGN.md "Checking and verifying") */
	tp = time_mono_ms();
	knot_write_all(&c, ncheck <= KNOT_CHECK_MAX);
	for (i = 0; i < n; i++)
		if (!c.kz[i].done && c.kz[i].op == KOP_CHANGE)
			c.kz[i].reload = 1;
	c.ms_write = time_mono_ms() - tp - c.ms_check;
	tp = time_mono_ms();

	/* changed zones first (after conf-abort of a stale transaction): a zone
	 * knotd lost turns into an add for the transaction */
	for (i = 0; i < n && !c.kz[i].reload; i++)
		;
	zd_err_clear(&e);
	if (i < n && knot_reload(&c, 0, 1, &e) < 0 && c.down)
		goto finish;
	for (i = 0; i < n; i++) {
		if (c.kz[i].done)
			continue;
		if (c.kz[i].op == KOP_ADD)
			add[nadd++] = i;
		else if (c.kz[i].op == KOP_DEL)
			del[ndel++] = i;
	}
	if (nadd + ndel > 0) {
		c.bulk = nadd > KNOT_CHECK_MAX && knot_template_ok(&c);
		knot_apply_txn(&c, add, nadd, del, ndel);
		if (c.down)
			goto finish;
		/* zones knotd had already keep their old data until reloaded */
		zd_err_clear(&e);
		if (knot_reload(&c, 0, 0, &e) < 0 && c.down)
			goto finish;
	}
	c.ms_apply = time_mono_ms() - tp;
	tp = time_mono_ms();
	knot_verify_all(&c);
	c.ms_verify = time_mono_ms() - tp;
	if (c.down)
		goto finish;

	/* new zones knotd refused to load leave its configuration again */
	for (i = 0; i < n; i++)
		if (c.kz[i].op == KOP_ADD && c.kz[i].in_conf && b->zones[i].result == BZ_REJECTED)
			del[nrej++] = i;
	if (nrej > 0) {
		zd_err_clear(&e);
		if (knot_txn(&c, NULL, 0, del, nrej, &refused, &e) < 0) {
			for (i = 0; i < nrej; i++)
				knot_result(&c, del[i], BZ_FAILED,
				            "refused by knotd and still in its configuration: %s", e.msg);
			c.down = 0;   /* the zones are decided; the rest stands */
		} else {
			for (i = 0; i < nrej; i++)
				c.kz[del[i]].in_conf = 0;
		}
	}

finish:
	tp = time_mono_ms();
	if (c.down)
		rc = zd_err_set(err, ZD_ECMD, "%s", c.why);
	for (i = 0; i < n; i++)
		knot_zone_finish(&c, i);
	if (c.be->include_file != NULL && c.zdir[0] != '\0') {
		zd_err_clear(&e);
		if (knot_include(&c, &e) < 0) {
			/* a text-config knotd would lose these zones on restart: retry them */
			for (i = 0; i < n; i++)
				if (b->zones[i].result == BZ_OK)
					knot_result(&c, i, BZ_FAILED, "include_file: %s", e.msg);
			if (rc == 0)
				rc = zd_err_set(err, ZD_EIO, "include_file: %s", e.msg);
		}
	}
	c.ms_finish = time_mono_ms() - tp;
out:
	snprintf(b->mechanism, sizeof b->mechanism, "%s%s%s%sverify",
	         c.used_check ? "kzonecheck+" : "", c.used_txn ? "conf-txn+" : "",
	         c.used_reload ? "zone-reload+" : "", c.used_verdict ? "zone-reload-b+" : "");
	b->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	log_debug(NULL, "backend=%s batch of %zu zones: %s, %.3f s (check %lld ms, write %lld ms, "
	          "knotc %lld ms, verify %lld ms, files and include %lld ms)", c.be->name, n,
	          b->mechanism, b->seconds, (long long)c.ms_check, (long long)c.ms_write,
	          (long long)c.ms_apply, (long long)c.ms_verify, (long long)c.ms_finish);
	free(c.control);
	free(c.kz);
	free(add);
	free(del);
	return rc;
}
