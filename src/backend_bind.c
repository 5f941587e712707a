/* backend_bind.c -- BIND 9 backend: zone files, one named.conf include, rndc */
/*
 * How a batch reaches named, and why. Measured here (BIND 9.18.49, 2 cores,
 * ~20-record zones, command start -> answer seen), then the project's
 * reference figures from NAMESERVER-COSTS.md:
 *
 *                                 10k zones              100k zones
 *   rndc addzone (one zone)       31 ms / 123 ms         50 ms / 93 ms
 *   rndc delzone (one zone)       30-40 ms / 96 ms       35-115 ms / 115 ms
 *   include + rndc reconfig       260-370 ms / 809 ms    2.4-2.9 s / 5.35 s
 *   rndc reload ZONE              35 ms / 114 ms         60-90 ms / 64 ms
 *   rndc reload (everything)      215 ms / 920 ms        2.3-2.5 s / 3.74 s
 *   named-checkzone               23-80 ms per zone (one process each)
 *   named-checkconf -z            0.12 s for 1,000 zones (one process)
 *
 * addzone is the cheapest way to add one zone, but named keeps addzone'd zones
 * in its own NZD database, and a zone both there and in the include breaks
 * every later reconfig ("reloading configuration failed: already exists") and
 * named's restart. Tried here: after such a failed reconfig, `rndc delzone`
 * took the zone out of memory but left it in the NZD, so the breakage stayed
 * until the NZD was edited by hand. Keeping addzone'd zones out of the include
 * instead would make the NZD a second zone list that zonedrop cannot read
 * back, and that vanishes silently when named's directory or allow-new-zones
 * changes. So the include is the ONE list of zonedrop's zones: named reads it
 * at every start, and it is rewritten (atomically) from keep + batch before
 * named is told anything; zonedrop never uses addzone.
 *
 *  - zones added (or a stanza changed): one `rndc reconfig` per batch, however
 *    many zones it adds. It costs O(zones served) -- ~0.3 s at 10k, ~2.5 s at
 *    100k here -- once per drain, not per zone.
 *  - zones deleted, nothing added: `rndc delzone ZONE` each when few. On a zone
 *    from the config it only unloads it (tried: the NZD stays empty, a later
 *    reconfig with the zone back in the include loads it again, and it works
 *    without allow-new-zones). Many deletes: one reconfig. Either way the zone
 *    stops being served in this drain, whatever else changes.
 *  - changed zones: `rndc reload ZONE` each when few, else one `rndc reload`
 *    (which re-reads the config too, so it also covers adds and deletes).
 *    "Few" is max(10, zones served / 2000): one per-zone command (~0.1 s)
 *    against one whole-server command (~0.2 s + ~0.05 ms per zone served).
 *  - never `rndc reload ZONE` for a zone named does not have: "not found"
 *    (the include was written but its reconfig lost in a crash) turns into a
 *    reconfig.
 *
 * Checking: one zone to check -> named-checkzone; more -> one
 * `named-checkconf -z` per 5,000 zones on a candidate config that names only
 * the candidate files (same checks, same messages, one process start). A
 * refused zone keeps its old file and stanza when it had one, else stays out
 * of the include. After applying, every zone's SOA serial is polled
 * (verify_soa) until it matches or verify_timeout passes: reloads return
 * before loading ends, and named keeps serving the old version when a load
 * fails, so a mismatch is a failure, retried by the drain. A delete counts as
 * done only once named answers without the zone.
 *
 * At scale (measured here): 1,102 zones changed/added/deleted on a 100k-zone
 * named took 2.3 s of files and checks, 8.5 s of one `rndc reload`, 1.9 s of
 * verification; a first import of 100k zones in one batch 30 s of checks
 * (20 named-checkconf runs), 52 s of one reconfig, 13 s of verification.
 *
 * A zone named already has from elsewhere (its own named.conf, a manual
 * addzone) makes every reconfig fail; after a failed reconfig the added zones
 * are probed with `rndc zonestatus`, those named has are left out of the
 * include (failed, retried later) and the reconfig runs again.
 */
#include <fcntl.h>
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

/* DESIGN.md allows a checker process per zone up to 50 zones, but one
 * named-checkconf -z over 12 zones costs what one named-checkzone does (50-95
 * ms against 60-80 ms here, nearly all process start), so per zone only when
 * a single zone is to be checked (the usual push); more go through one
 * named-checkconf -z per BIND_CHECKCONF_CHUNK zones. */
#define BIND_CHECK_PER_ZONE_MAX 1
#define BIND_FSYNC_EACH_MAX 50         /* more candidate files: one syncfs() instead */
#define BIND_CHECKCONF_CHUNK 5000      /* zones per named-checkconf -z (its output stays < 1 MiB) */
#define BIND_ZONE_OPS_MIN 10           /* per-zone rndc commands always allowed up to here */
#define BIND_ZONE_OPS_PER 2000         /* ... and one more per this many zones served */
#define BIND_PROBE_MAX 200             /* zonestatus probes after a failed reconfig */
#define BIND_RNDC_ZONE_MS 30000        /* reload ZONE, delzone, zonestatus */
#define BIND_RNDC_SERVER_MS 300000     /* reconfig, reload: seconds at 100k zones */
#define BIND_CHECKZONE_MS 30000
#define BIND_CHECKCONF_MS 600000
#define BIND_VERIFY_POLL_MS 100
#define BIND_FILE_MODE 0644            /* named runs as another user and must read them */
#define BIND_STANZA_MAX (ZD_PATH_MAX + 2 * DOMAIN_MAX + 64)

enum bind_state {
	BIND_DONE = 0,       /* result decided (bad name, refused, failed) */
	BIND_CHECK,          /* present: to be staged and checked */
	BIND_ACCEPTED,       /* checked (or unchanged on disk): zone file in place */
	BIND_DELETE,         /* present == 0 */
};

struct bind_zone {
	struct backend_zone *z;
	enum bind_state state;
	unsigned in_old : 1;      /* listed in the include before this batch */
	unsigned in_new : 1;      /* listed in the include written now */
	unsigned same : 1;        /* the zone file already holds exactly this text */
	unsigned need_check : 1;  /* candidate written, checker not run yet */
};

struct bind_old {
	char *name;
	const char *line;    /* the stanza line as it was, in old_text */
	size_t len;
};

struct bind_ctx {
	struct backend_batch *b;
	const char *be;      /* backend name, for logs */
	char zones_dir[ZD_PATH_MAX];
	char *old_text;      /* the include before this batch (NULL: none) */
	size_t old_len;
	struct bind_old *old;    /* its stanzas, sorted by name */
	size_t nold;
	struct bind_zone *bz;    /* parallel to b->zones */
	const char **bnames;     /* valid batch names, sorted */
	size_t nbnames;
	const char **names;      /* zones of the new include, sorted, unique */
	unsigned char *drop;     /* per name: left out after a failed reconfig */
	size_t nnames;
	size_t nserved;          /* names not dropped */
	char *inc;               /* the new include text */
	size_t inc_len;
	int inc_on_disk;         /* the include file now holds inc */
	int down;                /* named could not be reached */
	char down_msg[ZD_ERR_MSG_MAX];
};

static int bind_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int bind_cmp_old(const void *a, const void *b)
{
	return strcmp(((const struct bind_old *)a)->name, ((const struct bind_old *)b)->name);
}

static int bind_cmp_zone(const void *a, const void *b)
{
	return strcmp((*(struct bind_zone *const *)a)->z->domain,
	              (*(struct bind_zone *const *)b)->z->domain);
}

static const struct bind_old *bind_old_find(const struct bind_ctx *c, const char *name)
{
	struct bind_old key;

	if (c->nold == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, c->old, c->nold, sizeof *c->old, bind_cmp_old);
}

static int bind_in_batch(const struct bind_ctx *c, const char *name)
{
	return c->nbnames > 0 &&
	       bsearch(&name, c->bnames, c->nbnames, sizeof *c->bnames, bind_cmp_str) != NULL;
}

static int bind_in_new(const struct bind_ctx *c, const char *name)
{
	const char **p;

	if (c->nnames == 0)
		return 0;
	p = bsearch(&name, c->names, c->nnames, sizeof *c->names, bind_cmp_str);
	return p != NULL && !c->drop[p - c->names];
}

/* Record a per-zone outcome; msg is made log-safe. */
static void bind_zone_result(struct bind_zone *bz, enum backend_result r, const char *msg)
{
	bz->z->result = r;
	if (msg != NULL)
		str_safe(bz->z->error, sizeof bz->z->error, msg, strlen(msg));
	else
		bz->z->error[0] = '\0';
	bz->state = BIND_DONE;
}

/* <zones_dir>/<name>.zone, and the candidate <zones_dir>/.<name>.zone.new */
static int bind_path(const struct bind_ctx *c, const char *name, int cand, char *out, size_t sz)
{
	int n = snprintf(out, sz, cand ? "%s/.%s.zone.new" : "%s/%s.zone", c->zones_dir, name);

	return n < 0 || (size_t)n >= sz ? ZD_ENAMETOOLONG : 0;
}

/* The stanza for one validated name: exactly the line parsed back next time. */
static int bind_stanza(const struct bind_ctx *c, const char *name, char *out, size_t sz)
{
	int n = snprintf(out, sz, "zone \"%s\" { type primary; file \"%s/%s.zone\"; };", name,
	                 c->zones_dir, name);

	return n < 0 || (size_t)n >= sz ? ZD_ENAMETOOLONG : 0;
}

/* zones_dir is written into named.conf between quotes: absolute, and nothing
 * that could end the string or the statement. */
static int bind_check_dir(struct bind_ctx *c, struct zd_err *err)
{
	const struct config_backend *be = c->b->be;
	const unsigned char *p;
	size_t len;

	if (be->zones_dir == NULL || be->include_file == NULL || be->control == NULL)
		return zd_err_set(err, ZD_ECONFIG, "a bind backend needs zones_dir, include_file and control");
	if (be->zones_dir[0] != '/')
		return zd_err_set(err, ZD_ECONFIG, "zones_dir must be an absolute path");
	for (p = (const unsigned char *)be->zones_dir; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == ';' || *p == '{' ||
		    *p == '}')
			return zd_err_set(err, ZD_ECONFIG,
			                  "zones_dir holds a character named.conf cannot take");
	if (str_copy(c->zones_dir, be->zones_dir, sizeof c->zones_dir) >= sizeof c->zones_dir)
		return zd_err_set(err, ZD_ENAMETOOLONG, "zones_dir too long");
	len = strlen(c->zones_dir);
	while (len > 1 && c->zones_dir[len - 1] == '/')
		c->zones_dir[--len] = '\0';
	return mkdir_p(c->zones_dir, 0755, err);
}

/* The include written last time: its stanzas say which zones named was told
 * about (or is about to be, after a crash: it is written before named is
 * told). Lines that are not our stanzas for valid names are ignored and
 * vanish at the next rewrite. */
static int bind_read_old(struct bind_ctx *c, struct zd_err *err)
{
	const char *path = c->b->be->include_file;
	const char *p, *end;
	size_t cap = 0;
	int rc;

	rc = file_read_all(path, 0, &c->old_text, &c->old_len, err);
	if (rc == ZD_ENOENT) {
		zd_err_clear(err);
		c->old_text = NULL;
		c->old_len = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	for (p = c->old_text; p < c->old_text + c->old_len; p = end + 1) {
		const char *name, *q;
		size_t nlen;
		char *copy;

		end = memchr(p, '\n', (size_t)(c->old_text + c->old_len - p));
		if (end == NULL)
			end = c->old_text + c->old_len;
		if ((size_t)(end - p) < 7 || strncmp(p, "zone \"", 6) != 0)
			continue;
		name = p + 6;
		q = memchr(name, '"', (size_t)(end - name));
		if (q == NULL || q == name || (nlen = (size_t)(q - name)) > DOMAIN_MAX)
			continue;
		copy = strndup(name, nlen);
		if (copy == NULL)
			return zd_err_set(err, ZD_ENOMEM, "out of memory reading %s", path);
		if (domain_check(copy, NULL) != 0) {
			free(copy);
			continue;
		}
		if (c->nold == cap) {
			struct bind_old *n;
			cap = cap ? cap * 2 : 256;
			n = realloc(c->old, cap * sizeof *n);
			if (n == NULL) {
				free(copy);
				return zd_err_set(err, ZD_ENOMEM, "out of memory reading %s", path);
			}
			c->old = n;
		}
		c->old[c->nold].name = copy;
		c->old[c->nold].line = p;
		c->old[c->nold].len = (size_t)(end - p);
		c->nold++;
	}
	if (c->nold > 1)
		qsort(c->old, c->nold, sizeof *c->old, bind_cmp_old);
	return 0;
}

/* 1 when path holds exactly text (nothing to write or check). */
static int bind_same_file(const char *path, const char *text, size_t len)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	int same;

	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size != len)
		return 0;
	if (file_read_all(path, len + 1, &buf, &got, NULL) != 0)
		return 0;
	same = got == len && memcmp(buf, text, len) == 0;
	free(buf);
	return same;
}

/* A candidate plays the temp file of file_write_atomic(): the checker reads it
 * under its own name, and only an accepted one is renamed onto the zone file
 * (then the directory is fsynced once for all). do_sync 0: the caller syncs
 * the filesystem once before any rename. */
static int bind_write_candidate(const char *path, const char *text, size_t len, int do_sync,
                                struct zd_err *err)
{
	int fd, rc = 0;
	size_t off = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, BIND_FILE_MODE);
	if (fd < 0)
		return zd_err_sys(err, ZD_EIO, "create %s", path);
	if (fchmod(fd, BIND_FILE_MODE) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "chmod %s", path);
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = zd_err_sys(err, ZD_EIO, "write %s", path);
			goto out;
		}
		off += (size_t)w;
	}
	if (do_sync && fsync(fd) < 0)
		rc = zd_err_sys(err, ZD_EIO, "fsync %s", path);
out:
	if (close(fd) < 0 && rc == 0)
		rc = zd_err_sys(err, ZD_EIO, "close %s", path);
	if (rc != 0)
		unlink(path);
	return rc;
}

/* Checker text for a message: "zone D/IN: " dropped, and "<candidate>:N:"
 * turned into "line N:". */
static void bind_checker_line(const char *line, const char *cand, char *msg, size_t sz)
{
	const char *t = line, *slash;
	size_t clen = cand ? strlen(cand) : 0;
	char buf[1100];

	if (strncmp(t, "zone ", 5) == 0 && (slash = strstr(t, "/IN: ")) != NULL)
		t = slash + 5;
	if (clen > 0 && strncmp(t, cand, clen) == 0 && t[clen] == ':') {
		snprintf(buf, sizeof buf, "line %s", t + clen + 1);
		t = buf;
	}
	str_safe(msg, sz, t, strlen(t));
}

/* The first line of checker output that says what is wrong. */
static void bind_checker_msg(const char *out, const char *cand, char *msg, size_t sz)
{
	const char *p = out;

	while (p != NULL && *p != '\0') {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char line[1024];

		if (l >= sizeof line)
			l = sizeof line - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		p = e ? e + 1 : NULL;
		if (line[0] == '\0' || strcmp(line, "OK") == 0 || strstr(line, ": loaded serial ") ||
		    strstr(line, "not loaded due to errors") || strncmp(line, "_default/", 9) == 0)
			continue;
		bind_checker_line(line, cand, msg, sz);
		return;
	}
	str_copy(msg, "refused (no message)", sz);
}

/* named-checkzone for each zone still to check (small batches). */
static void bind_check_each(struct bind_ctx *c)
{
	size_t i;

	for (i = 0; i < c->b->n; i++) {
		struct bind_zone *bz = &c->bz[i];
		struct exec_result res;
		struct zd_err e;
		char cand[ZD_PATH_MAX], msg[600], full[700];
		const char *argv[] = { bz->z->domain, cand, NULL };

		if (!bz->need_check)
			continue;
		bz->need_check = 0;
		bind_path(c, bz->z->domain, 1, cand, sizeof cand);
		zd_err_clear(&e);
		if (exec_run("named-checkzone", argv, NULL, 0, BIND_CHECKZONE_MS, &res, &e) != 0) {
			snprintf(full, sizeof full, "cannot run named-checkzone: %s", zd_err_str(&e));
			unlink(cand);
			bind_zone_result(bz, BZ_FAILED, full);
			continue;
		}
		if (res.status == 0 && !res.timed_out) {
			bz->state = BIND_ACCEPTED;
		} else if (res.status == 1 && !res.timed_out) {
			bind_checker_msg(res.output, cand, msg, sizeof msg);
			snprintf(full, sizeof full, "named-checkzone: %s", msg);
			unlink(cand);
			bind_zone_result(bz, BZ_REJECTED, full);
			log_warning(bz->z->domain, "backend=%s refused: %s", c->be, full);
		} else {
			snprintf(full, sizeof full, "named-checkzone %s (status %d)",
			         res.timed_out ? "timed out" : "could not run", res.status);
			unlink(cand);
			bind_zone_result(bz, BZ_FAILED, full);
		}
		exec_result_free(&res);
	}
}

/* One named-checkconf -z over a candidate config naming the candidates of
 * chunk[0..n) (sorted by name). "zone D/IN: not loaded due to errors." and
 * "_default/D/IN: ..." name the refused ones; every other zone of the chunk
 * loaded. Returns NULL, or why the whole chunk could not be checked. */
static const char *bind_check_chunk(struct bind_ctx *c, struct bind_zone **chunk, size_t n,
                                    char *fail, size_t failsz)
{
	char conf[ZD_PATH_MAX], cand[ZD_PATH_MAX], line[1024];
	struct file_atomic fa;
	struct exec_result res;
	struct zd_err e;
	const char *argv[] = { "-z", conf, NULL };
	const char *p;
	unsigned char *rej, *at_line;
	size_t i, nrej = 0, dlen = strlen(c->zones_dir);

	zd_err_clear(&e);
	if (path_join(conf, sizeof conf, c->zones_dir, ".zonedrop-check.conf") != 0)
		return "zones_dir too long";
	if (file_atomic_open(&fa, conf, 0600, &e) != 0) {
		snprintf(fail, failsz, "candidate config: %s", zd_err_str(&e));
		return fail;
	}
	fprintf(fa.fp, "options { directory \"%s\"; };\n", c->zones_dir);
	for (i = 0; i < n; i++) {
		bind_path(c, chunk[i]->z->domain, 1, cand, sizeof cand);
		fprintf(fa.fp, "zone \"%s\" { type primary; file \"%s\"; };\n", chunk[i]->z->domain,
		        cand);
	}
	if (file_atomic_commit(&fa, &e) != 0) {
		snprintf(fail, failsz, "candidate config: %s", zd_err_str(&e));
		return fail;
	}
	if (exec_run("named-checkconf", argv, NULL, 0, BIND_CHECKCONF_MS, &res, &e) != 0) {
		unlink(conf);
		snprintf(fail, failsz, "cannot run named-checkconf: %s", zd_err_str(&e));
		return fail;
	}
	unlink(conf);
	if (res.timed_out || (res.status != 0 && res.status != 1)) {
		snprintf(fail, failsz, "named-checkconf -z %s (status %d)",
		         res.timed_out ? "timed out" : "could not run", res.status);
		exec_result_free(&res);
		return fail;
	}
	rej = calloc(2 * (n + 1), 1);
	if (rej == NULL) {
		exec_result_free(&res);
		return "out of memory";
	}
	at_line = rej + n + 1;
	/* stdout ("zone D/IN: why") and stderr ("_default/D/IN: bad zone") come
	 * through one pipe in no fixed order: read all, then decide */
	for (p = res.status == 1 ? res.output : NULL; p != NULL && *p != '\0';) {
		const char *eol = strchr(p, '\n'), *name = NULL, *slash = NULL;
		size_t l = eol ? (size_t)(eol - p) : strlen(p);
		struct backend_zone key_z;
		struct bind_zone key_bz, *kp = &key_bz, **hit;
		char nbuf[DOMAIN_MAX + 1];
		size_t nlen = 0;

		if (l >= sizeof line)
			l = sizeof line - 1;
		memcpy(line, p, l);
		line[l] = '\0';
		p = eol ? eol + 1 : NULL;
		if (strstr(line, ": loaded serial ") != NULL)
			continue;
		if (strncmp(line, "zone ", 5) == 0 && (slash = strstr(line + 5, "/IN: ")) != NULL)
			name = line + 5;
		else if (strncmp(line, "_default/", 9) == 0 &&
		         (slash = strstr(line + 9, "/IN: ")) != NULL)
			name = line + 9;   /* "_default/D/IN: bad zone", "...: file not found" */
		else if (strncmp(line, c->zones_dir, dlen) == 0 && strncmp(line + dlen, "/.", 2) == 0 &&
		         (slash = strstr(line + dlen, ".zone.new:")) != NULL)
			name = line + dlen + 2;   /* "<dir>/.D.zone.new:5: unknown RR type 'FOO'" */
		if (name == NULL || (nlen = (size_t)(slash - name)) > DOMAIN_MAX)
			continue;
		memcpy(nbuf, name, nlen);
		nbuf[nlen] = '\0';
		key_z.domain = nbuf;
		key_bz.z = &key_z;
		hit = bsearch(&kp, chunk, n, sizeof *chunk, bind_cmp_zone);
		if (hit == NULL || !(*hit)->need_check)
			continue;
		if (strstr(line, "not loaded due to errors") != NULL || name == line + 9) {
			rej[hit - chunk] = 1;
		} else if ((*hit)->z->error[0] == '\0' || (name == line + dlen + 2 && !at_line[hit - chunk])) {
			/* the first message about a zone is its reason (scratch in
			 * error), unless a "file:line:" one comes: it says more */
			bind_path(c, (*hit)->z->domain, 1, cand, sizeof cand);
			bind_checker_line(line, cand, (*hit)->z->error, sizeof (*hit)->z->error);
			at_line[hit - chunk] = name == line + dlen + 2;
		}
	}
	for (i = 0; i < n; i++) {
		struct bind_zone *bz = chunk[i];
		char full[700];

		if (!rej[i])
			continue;
		snprintf(full, sizeof full, "named-checkconf -z: %s",
		         bz->z->error[0] ? bz->z->error : "refused");
		bz->need_check = 0;
		bind_path(c, bz->z->domain, 1, cand, sizeof cand);
		unlink(cand);
		bind_zone_result(bz, BZ_REJECTED, full);
		log_warning(bz->z->domain, "backend=%s refused: %s", c->be, full);
		nrej++;
	}
	free(rej);
	if (res.status == 1 && nrej == 0) {
		char first[300];
		bind_checker_msg(res.output, NULL, first, sizeof first);
		snprintf(fail, failsz, "named-checkconf -z failed: %s", first);
		exec_result_free(&res);
		for (i = 0; i < n; i++)
			chunk[i]->z->error[0] = '\0';
		return fail;
	}
	exec_result_free(&res);
	for (i = 0; i < n; i++)
		if (chunk[i]->need_check) {
			chunk[i]->need_check = 0;
			chunk[i]->z->error[0] = '\0';
			chunk[i]->state = BIND_ACCEPTED;
		}
	return NULL;
}

/* Large batches: the candidates through named-checkconf -z, a chunk at a time. */
static int bind_check_batch(struct bind_ctx *c, size_t ncand, struct zd_err *err)
{
	struct bind_zone **v;
	size_t i, n = 0, off;
	char fail[ZD_ERR_MSG_MAX + 64];

	v = malloc(ncand * sizeof *v);
	if (v == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < c->b->n; i++)
		if (c->bz[i].need_check)
			v[n++] = &c->bz[i];
	qsort(v, n, sizeof *v, bind_cmp_zone);
	for (off = 0; off < n; off += BIND_CHECKCONF_CHUNK) {
		size_t k = n - off < BIND_CHECKCONF_CHUNK ? n - off : BIND_CHECKCONF_CHUNK;
		const char *why = bind_check_chunk(c, v + off, k, fail, sizeof fail);

		if (why == NULL)
			continue;
		log_error(NULL, "backend=%s %s", c->be, why);
		for (i = off; i < off + k; i++) {
			char cand[ZD_PATH_MAX];

			if (!v[i]->need_check)
				continue;
			v[i]->need_check = 0;
			bind_path(c, v[i]->z->domain, 1, cand, sizeof cand);
			unlink(cand);
			bind_zone_result(v[i], BZ_FAILED, why);
		}
	}
	log_debug(NULL, "backend=%s named-checkconf -z checked %zu zones", c->be, n);
	free(v);
	return 0;
}

/* Write the candidates, check them, move the accepted ones into place. */
static int bind_stage_files(struct bind_ctx *c, struct zd_err *err)
{
	size_t i, ncand = 0, npresent = 0;
	int bulk, rc;
	char file[ZD_PATH_MAX], cand[ZD_PATH_MAX];

	for (i = 0; i < c->b->n; i++)
		if (c->bz[i].state == BIND_CHECK)
			npresent++;
	/* many files: one syncfs() before the renames instead of an fsync each */
	bulk = npresent > BIND_FSYNC_EACH_MAX;
	for (i = 0; i < c->b->n; i++) {
		struct bind_zone *bz = &c->bz[i];
		struct zd_err e;

		if (bz->state != BIND_CHECK)
			continue;
		bind_path(c, bz->z->domain, 0, file, sizeof file);
		bind_path(c, bz->z->domain, 1, cand, sizeof cand);
		if (bind_same_file(file, bz->z->text, bz->z->text_len)) {
			/* only checked text is ever renamed there */
			bz->same = 1;
			bz->state = BIND_ACCEPTED;
			continue;
		}
		zd_err_clear(&e);
		if (bind_write_candidate(cand, bz->z->text, bz->z->text_len, !bulk, &e) != 0) {
			bind_zone_result(bz, BZ_FAILED, zd_err_str(&e));
			continue;
		}
		bz->need_check = 1;
		ncand++;
	}
	if (bulk && ncand > 0) {
		int fd = open(c->zones_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || syncfs(fd) < 0) {
			rc = zd_err_sys(err, ZD_EIO, "sync %s", c->zones_dir);
			if (fd >= 0)
				close(fd);
			for (i = 0; i < c->b->n; i++)
				if (c->bz[i].need_check) {
					bind_path(c, c->bz[i].z->domain, 1, cand, sizeof cand);
					unlink(cand);
					c->bz[i].need_check = 0;
				}
			return rc;
		}
		close(fd);
	}
	if (ncand > BIND_CHECK_PER_ZONE_MAX) {
		rc = bind_check_batch(c, ncand, err);
		if (rc != 0)
			return rc;
	} else if (ncand > 0) {
		bind_check_each(c);
	}
	for (i = 0; i < c->b->n; i++) {
		struct bind_zone *bz = &c->bz[i];

		if (bz->state != BIND_ACCEPTED || bz->same)
			continue;
		bind_path(c, bz->z->domain, 0, file, sizeof file);
		bind_path(c, bz->z->domain, 1, cand, sizeof cand);
		if (rename(cand, file) < 0) {
			struct zd_err e;
			zd_err_sys(&e, ZD_EIO, "rename %s", cand);
			unlink(cand);
			bind_zone_result(bz, BZ_FAILED, zd_err_str(&e));
		}
	}
	/* the renames must be on disk before named (or a crash) sees the include */
	return fsync_dir(c->zones_dir, 1, err);
}

/* The zones of the new include: keep + the batch zones that stay served. */
static int bind_collect(struct bind_ctx *c, struct zd_err *err)
{
	const struct backend_batch *b = c->b;
	size_t i, n = 0, k;
	char file[ZD_PATH_MAX];

	c->names = malloc((b->nkeep + b->n + 1) * sizeof *c->names);
	if (c->names == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < b->nkeep; i++) {
		const char *name = b->keep[i];

		/* only validated names reach named.conf */
		if (domain_check(name, NULL) != 0) {
			log_warning(NULL, "backend=%s keep list holds an invalid name; left out", c->be);
			continue;
		}
		if (!bind_in_batch(c, name))
			c->names[n++] = name;
	}
	for (i = 0; i < b->n; i++) {
		struct bind_zone *bz = &c->bz[i];
		int in = 0;

		if (bz->state == BIND_ACCEPTED) {
			in = 1;
		} else if (bz->z->present && bz->state == BIND_DONE &&
		           (bz->z->result == BZ_REJECTED || bz->z->result == BZ_FAILED) &&
		           (bz->z->was_present || bz->in_old) && domain_check(bz->z->domain, NULL) == 0 &&
		           bind_path(c, bz->z->domain, 0, file, sizeof file) == 0) {
			/* refused or not staged: the version served before stays */
			in = access(file, R_OK) == 0;
		}
		bz->in_new = in;
		if (in)
			c->names[n++] = bz->z->domain;
	}
	if (n > 1)
		qsort(c->names, n, sizeof *c->names, bind_cmp_str);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || strcmp(c->names[i], c->names[k - 1]) != 0)
			c->names[k++] = c->names[i];
	c->nnames = k;
	c->drop = calloc(k + 1, 1);
	if (c->drop == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	return 0;
}

/* Render the include text from names (minus dropped ones). */
static int bind_render(struct bind_ctx *c, struct zd_err *err)
{
	char stanza[BIND_STANZA_MAX];
	FILE *fp;
	size_t i;

	free(c->inc);
	c->inc = NULL;
	c->inc_len = 0;
	fp = open_memstream(&c->inc, &c->inc_len);
	if (fp == NULL)
		return zd_err_sys(err, ZD_ENOMEM, "open_memstream");
	fprintf(fp, "// zonedrop: the zones of backend %s. Written by zonedrop-drain at every\n"
	            "// change (named reads it at start, reconfig and reload); do not edit.\n",
	        c->be);
	c->nserved = 0;
	for (i = 0; i < c->nnames; i++) {
		if (c->drop[i])
			continue;
		if (bind_stanza(c, c->names[i], stanza, sizeof stanza) != 0) {
			fclose(fp);
			return zd_err_set(err, ZD_ENAMETOOLONG, "zone file path too long");
		}
		fprintf(fp, "%s\n", stanza);
		c->nserved++;
	}
	if (fclose(fp) != 0)
		return zd_err_sys(err, ZD_ENOMEM, "building the include");
	return 0;
}

/* Write the include unless it already holds exactly this text. */
static int bind_write_include(struct bind_ctx *c, struct zd_err *err)
{
	char *cur = NULL;
	size_t curlen = 0;
	int rc;

	if (file_read_all(c->b->be->include_file, 0, &cur, &curlen, NULL) == 0 &&
	    curlen == c->inc_len && memcmp(cur, c->inc, curlen) == 0) {
		free(cur);
		c->inc_on_disk = 1;
		return 0;
	}
	free(cur);
	c->inc_on_disk = 0;
	rc = file_write_atomic(c->b->be->include_file, c->inc, c->inc_len, BIND_FILE_MODE, err);
	if (rc == 0)
		c->inc_on_disk = 1;
	return rc;
}

/* Indices into names of zones listed now but not before, or with another
 * stanza: they need a reconfig. *out is malloc'd (caller frees). */
static int bind_added(struct bind_ctx *c, size_t **out, size_t *nout, struct zd_err *err)
{
	char stanza[BIND_STANZA_MAX];
	size_t i, n = 0;

	*nout = 0;
	*out = malloc((c->nnames + 1) * sizeof **out);
	if (*out == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (i = 0; i < c->nnames; i++) {
		const struct bind_old *o;

		if (c->drop[i])
			continue;
		o = bind_old_find(c, c->names[i]);
		if (o != NULL && bind_stanza(c, c->names[i], stanza, sizeof stanza) == 0 &&
		    strlen(stanza) == o->len && memcmp(stanza, o->line, o->len) == 0)
			continue;
		(*out)[n++] = i;
	}
	*nout = n;
	return 0;
}

/* rndc with the configured control words. 0: done; 1: named answered with a
 * failure (its output in *out when out is given, caller frees); -1: named
 * could not be reached (c->down set, the batch stops). */
static int bind_rndc(struct bind_ctx *c, const char *const *args, int timeout_ms, char **out)
{
	struct exec_result res;
	struct zd_err e;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c->down)
		return -1;
	zd_err_clear(&e);
	if (exec_run(c->b->be->control, args, NULL, 0, timeout_ms, &res, &e) != 0) {
		snprintf(c->down_msg, sizeof c->down_msg, "%s", zd_err_str(&e));
		c->down = 1;
		return -1;
	}
	if (res.status == 0 && !res.timed_out) {
		rc = 0;
	} else if (!res.timed_out && res.status == 1 && strstr(res.output, "' failed: ") != NULL) {
		rc = 1;   /* "rndc: 'reload' failed: not found": named answered */
	} else {
		char safe[300];
		const char *o = res.output != NULL ? res.output : "";

		str_safe(safe, sizeof safe, o, strcspn(o, "\n"));
		snprintf(c->down_msg, sizeof c->down_msg, "rndc %s %s: %s", args[0],
		         res.timed_out ? "timed out" : "failed", safe[0] ? safe : "no output");
		c->down = 1;
		rc = -1;
	}
	if (rc == 1 && out != NULL) {
		*out = res.output;
		res.output = NULL;
	}
	exec_result_free(&res);
	return rc;
}

/* rndc's failure text as one log-safe line. */
static void bind_rndc_msg(const char *out, char *msg, size_t sz)
{
	const char *o = out != NULL ? out : "";
	const char *p = strstr(o, "' failed: ");

	if (p != NULL)
		o = p + 10;
	str_safe(msg, sz, o, strcspn(o, "\n"));
}

/* After a failed reconfig: which added zones does named already have from
 * elsewhere (its own named.conf, an NZD entry of a manual addzone)? Each would
 * fail every reconfig, so they leave the include and the rest goes through.
 * Marks them in drop; returns how many, or -1 when named went away. */
static int bind_probe_conflicts(struct bind_ctx *c, const size_t *added, size_t nadded)
{
	size_t i;
	int found = 0;

	for (i = 0; i < nadded; i++) {
		const char *args[] = { "zonestatus", c->names[added[i]], NULL };
		char *out = NULL;
		int r = bind_rndc(c, args, BIND_RNDC_ZONE_MS, &out);

		if (r < 0)
			return -1;
		/* "not found": named has no such zone; anything else ("zone not
		 * loaded", or a status) means it does */
		if (r == 0 || strstr(out, "not found") == NULL) {
			c->drop[added[i]] = 1;
			found++;
		}
		free(out);
	}
	return found;
}

/* rndc reconfig; on failure with zones added, take the culprits (or, when
 * they cannot be found, all added zones) out of the include and try again,
 * so one zone never blocks the others. */
static int bind_reconfig(struct bind_ctx *c, struct zd_err *err)
{
	const char *args[] = { "reconfig", NULL };
	size_t *added = NULL, nadded = 0, i, j;
	int attempt, rc = 0;
	char *out = NULL;

	for (attempt = 0;; attempt++) {
		char msg[256];
		int r = bind_rndc(c, args, BIND_RNDC_SERVER_MS, &out), found = 0;

		if (r < 0) {
			rc = ZD_ECMD;
			break;
		}
		if (r == 0)
			break;
		bind_rndc_msg(out, msg, sizeof msg);
		free(out);
		out = NULL;
		log_error(NULL, "backend=%s rndc reconfig failed: %s", c->be, msg);
		free(added);
		added = NULL;
		rc = bind_added(c, &added, &nadded, err);
		if (rc != 0)
			break;
		if (nadded == 0 || attempt == 2) {
			rc = zd_err_set(err, ZD_ECMD, "rndc reconfig failed: %s", msg);
			break;
		}
		if (attempt == 0 && nadded <= BIND_PROBE_MAX) {
			found = bind_probe_conflicts(c, added, nadded);
			if (found < 0) {
				rc = ZD_ECMD;
				break;
			}
		}
		if (found == 0)
			for (i = 0; i < nadded; i++)
				c->drop[added[i]] = 1;
		for (i = 0; i < nadded; i++) {
			const char *name = c->names[added[i]];

			if (!c->drop[added[i]])
				continue;
			log_error(name, "backend=%s left out of %s: %s", c->be, c->b->be->include_file,
			          found ? "named already has this zone from elsewhere (named.conf or rndc addzone)"
			                : "rndc reconfig fails with the zones added");
			for (j = 0; j < c->b->n; j++)
				if (c->bz[j].in_new && strcmp(c->bz[j].z->domain, name) == 0) {
					char m[512];

					snprintf(m, sizeof m, "not added: %s",
					         found ? "named already has this zone outside zonedrop's include "
					                 "(named.conf or rndc addzone)"
					               : msg);
					c->bz[j].in_new = 0;
					bind_zone_result(&c->bz[j], BZ_FAILED, m);
				}
		}
		rc = bind_render(c, err);
		if (rc == 0)
			rc = bind_write_include(c, err);
		if (rc != 0)
			break;
	}
	free(out);
	free(added);
	return rc;
}

/* Bring named to the include and the new files. */
static int bind_apply_named(struct bind_ctx *c, struct zd_err *err)
{
	struct backend_batch *b = c->b;
	size_t i, nreload = 0, ndel = 0, nadded = 0, ops_max;
	size_t *added = NULL;
	const char **dels = NULL;
	int need_reconfig, did_full = 0, rc;
	char mech[64] = "", *out = NULL;

	ops_max = c->nserved / BIND_ZONE_OPS_PER;
	if (ops_max < BIND_ZONE_OPS_MIN)
		ops_max = BIND_ZONE_OPS_MIN;
	rc = bind_added(c, &added, &nadded, err);
	if (rc != 0)
		goto out;
	dels = malloc((c->nold + b->n + 1) * sizeof *dels);
	if (dels == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	/* named may hold zones the include no longer lists: those of the old
	 * include, and deletes of zones zonedrop had applied (a crash may have
	 * come between an earlier include rewrite and its delzone). A zone
	 * zonedrop never gave named (its own named.conf's) is never unloaded. */
	for (i = 0; i < c->nold; i++)
		if (!bind_in_new(c, c->old[i].name))
			dels[ndel++] = c->old[i].name;
	for (i = 0; i < b->n; i++) {
		if (c->bz[i].state == BIND_DELETE && !c->bz[i].in_old && c->bz[i].z->was_present)
			dels[ndel++] = c->bz[i].z->domain;
		if (c->bz[i].state == BIND_ACCEPTED && c->bz[i].in_old && c->bz[i].in_new)
			nreload++;
	}
	need_reconfig = nadded > 0 || ndel > ops_max;

	if (nreload > ops_max) {
		/* many changed zones: one reload re-reads the config and every zone
		 * file that changed; it covers adds and deletes too */
		const char *args[] = { "reload", NULL };
		int r = bind_rndc(c, args, BIND_RNDC_SERVER_MS, &out);

		if (r < 0) {
			rc = ZD_ECMD;
			goto out;
		}
		if (r == 0) {
			did_full = 1;
			str_copy(mech, "reload", sizeof mech);
		} else {
			char msg[256];
			bind_rndc_msg(out, msg, sizeof msg);
			log_warning(NULL, "backend=%s rndc reload failed: %s; reconfig + reload per zone",
			            c->be, msg);
			need_reconfig = 1;
		}
		free(out);
		out = NULL;
	}
	if (!did_full && !need_reconfig && ndel > 0) {
		/* few deletes, nothing added: unload each at once; the include no
		 * longer lists them, so they do not come back */
		for (i = 0; i < ndel && !need_reconfig; i++) {
			const char *args[] = { "delzone", dels[i], NULL };
			int r = bind_rndc(c, args, BIND_RNDC_ZONE_MS, &out);

			if (r < 0) {
				rc = ZD_ECMD;
				goto out;
			}
			if (r > 0 && strstr(out, "not found") == NULL) {
				char msg[256];
				bind_rndc_msg(out, msg, sizeof msg);
				log_warning(dels[i], "backend=%s rndc delzone failed: %s; reconfig instead",
				            c->be, msg);
				need_reconfig = 1;
			}
			free(out);
			out = NULL;
		}
		if (!need_reconfig)
			str_copy(mech, "delzone", sizeof mech);
	}
	if (!did_full && need_reconfig) {
		rc = bind_reconfig(c, err);
		if (rc != 0)
			goto out;
		str_copy(mech, "reconfig", sizeof mech);
	}
	if (!did_full && nreload > 0) {
		int lost = 0;

		for (i = 0; i < b->n; i++) {
			struct bind_zone *bz = &c->bz[i];
			const char *args[] = { "reload", bz->z->domain, NULL };
			int r;

			if (bz->state != BIND_ACCEPTED || !bz->in_old || !bz->in_new)
				continue;
			r = bind_rndc(c, args, BIND_RNDC_ZONE_MS, &out);
			if (r < 0) {
				rc = ZD_ECMD;
				goto out;
			}
			if (r > 0) {
				char msg[256];

				bind_rndc_msg(out, msg, sizeof msg);
				if (strstr(out, "not found") != NULL)
					lost = 1;   /* listed, never loaded: a reconfig loads it */
				else
					log_warning(bz->z->domain, "backend=%s rndc reload failed: %s", c->be,
					            msg);
			}
			free(out);
			out = NULL;
		}
		if (lost && strcmp(mech, "reconfig") != 0) {
			rc = bind_reconfig(c, err);
			if (rc != 0)
				goto out;
		}
		snprintf(mech + strlen(mech), sizeof mech - strlen(mech), "%sreload-zone%s",
		         mech[0] ? "+" : "", lost ? "+reconfig" : "");
	}
	str_copy(b->mechanism, mech[0] ? mech : "none", sizeof b->mechanism);
out:
	if (c->down)
		rc = zd_err_set(err, ZD_ECMD, "%s", c->down_msg);
	free(out);
	free(added);
	free(dels);
	return rc;
}

/* Poll the SOA of every zone applied or deleted; set their results. */
static int bind_verify(struct bind_ctx *c, struct zd_err *err)
{
	struct backend_batch *b = c->b;
	struct verify_query *q;
	size_t *idx, i, n = 0;
	const char *host = b->be->verify_host != NULL ? b->be->verify_host : "127.0.0.1";
	int port = b->be->verify_port > 0 ? b->be->verify_port : 53;
	int rc = 0;

	q = calloc(b->n + 1, sizeof *q);
	idx = calloc(b->n + 1, sizeof *idx);
	if (q == NULL || idx == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		struct bind_zone *bz = &c->bz[i];

		if (bz->state != BIND_ACCEPTED && bz->state != BIND_DELETE)
			continue;
		q[n].domain = bz->z->domain;
		q[n].serial = bz->z->serial;
		q[n].want_present = bz->state == BIND_ACCEPTED;
		idx[n++] = i;
	}
	if (n == 0)
		goto out;
	rc = verify_soa(host, port, q, n, b->verify_timeout_ms > 0 ? b->verify_timeout_ms : 30000,
	                BIND_VERIFY_POLL_MS, err);
	if (rc != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct bind_zone *bz = &c->bz[idx[i]];
		char msg[256];

		if (q[i].ok) {
			bind_zone_result(bz, BZ_OK, NULL);
			continue;
		}
		if (q[i].state == VERIFY_NOANSWER || q[i].state == VERIFY_PENDING)
			snprintf(msg, sizeof msg, "no answer from %s@%d within verify_timeout", host, port);
		else if (!q[i].want_present && !bz->in_old && !bz->z->was_present)
			snprintf(msg, sizeof msg, "served by named from outside zonedrop's include "
			         "(named.conf?): not removed");
		else if (!q[i].want_present)
			snprintf(msg, sizeof msg, "still served after delete (%s, serial %u)",
			         verify_rcode_name(q[i].rcode), q[i].got_serial);
		else if (q[i].state == VERIFY_OTHER)
			snprintf(msg, sizeof msg, "named serves serial %u, want %u (reload failed? see named's log)",
			         q[i].got_serial, q[i].serial);
		else
			snprintf(msg, sizeof msg, "not served (%s), want serial %u (load failed? see named's log)",
			         verify_rcode_name(q[i].rcode), q[i].serial);
		bind_zone_result(bz, BZ_FAILED, msg);
	}
out:
	free(q);
	free(idx);
	return rc;
}

int backend_bind_apply(struct backend_batch *batch, struct zd_err *err)
{
	struct bind_ctx c;
	size_t i;
	int rc;
	int64_t t0 = time_mono_ms(), t_files = t0, t_named = t0;
	char fail[ZD_ERR_MSG_MAX];

	memset(&c, 0, sizeof c);
	c.b = batch;
	c.be = batch->be != NULL && batch->be->name != NULL ? batch->be->name : "bind";
	str_copy(batch->mechanism, "none", sizeof batch->mechanism);
	backend_batch_reset(batch);
	rc = bind_check_dir(&c, err);
	if (rc == 0)
		rc = bind_read_old(&c, err);
	if (rc != 0)
		goto fail_all;
	c.bz = calloc(batch->n + 1, sizeof *c.bz);
	c.bnames = calloc(batch->n + 1, sizeof *c.bnames);
	if (c.bz == NULL || c.bnames == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
		goto fail_all;
	}
	for (i = 0; i < batch->n; i++) {
		struct bind_zone *bz = &c.bz[i];
		char path[ZD_PATH_MAX];
		struct zd_err e;

		bz->z = &batch->zones[i];
		zd_err_clear(&e);
		/* only validated names reach a path or named.conf */
		if (bz->z->domain == NULL || domain_check(bz->z->domain, &e) != 0) {
			bind_zone_result(bz, BZ_REJECTED, e.msg[0] ? e.msg : "invalid zone name");
			bz->z->now_present = 0;
			continue;
		}
		c.bnames[c.nbnames++] = bz->z->domain;
		bz->in_old = bind_old_find(&c, bz->z->domain) != NULL;
		if (bind_path(&c, bz->z->domain, 1, path, sizeof path) != 0)
			bind_zone_result(bz, BZ_FAILED, "zone file path too long");
		else if (!bz->z->present)
			bz->state = BIND_DELETE;
		else if (bz->z->text == NULL)
			bind_zone_result(bz, BZ_FAILED, "no zone text");
		else
			bz->state = BIND_CHECK;
	}
	if (c.nbnames > 1)
		qsort(c.bnames, c.nbnames, sizeof *c.bnames, bind_cmp_str);

	/* 1. zone files: candidates, checker, the accepted ones renamed into place */
	rc = bind_stage_files(&c, err);
	t_files = time_mono_ms();
	/* 2. the include from keep + what this batch leaves served, written before
	 *    named is told: after a crash it is ahead of named, never behind */
	if (rc == 0)
		rc = bind_collect(&c, err);
	if (rc == 0)
		rc = bind_render(&c, err);
	if (rc == 0)
		rc = bind_write_include(&c, err);
	/* 3. named: reconfig / delzone / reload, as few and as cheap as this batch allows */
	if (rc == 0)
		rc = bind_apply_named(&c, err);
	if (rc != 0)
		goto fail_all;
	/* 4. files of deleted zones go once named no longer reads them */
	for (i = 0; i < batch->n; i++) {
		char path[ZD_PATH_MAX];

		if (c.bz[i].state != BIND_DELETE || bind_path(&c, c.bz[i].z->domain, 0, path, sizeof path))
			continue;
		if (unlink(path) < 0 && errno != ENOENT) {
			struct zd_err e;
			zd_err_sys(&e, ZD_EIO, "cannot remove %s", path);
			log_warning(c.bz[i].z->domain, "backend=%s %s", c.be, zd_err_str(&e));
		}
	}
	/* 5. what does named serve now? */
	t_named = time_mono_ms();
	rc = bind_verify(&c, err);
	if (rc != 0)
		goto fail_all;
	log_info(NULL, "backend=%s zones=%zu served=%zu mechanism=%s files+check %lld ms, named %lld ms, "
	         "verify %lld ms", c.be, batch->n, c.nserved, batch->mechanism,
	         (long long)(t_files - t0), (long long)(t_named - t_files),
	         (long long)(time_mono_ms() - t_named));
	goto done;

fail_all:
	str_copy(fail, err != NULL && err->msg[0] ? zd_err_str(err) : "bind backend failed",
	         sizeof fail);
	log_error(NULL, "backend=%s %s", c.be, fail);
	for (i = 0; i < batch->n; i++) {
		struct backend_zone *z = &batch->zones[i];

		if (z->result == BZ_REJECTED || z->result == BZ_FAILED)
			continue;
		z->result = BZ_FAILED;
		str_safe(z->error, sizeof z->error, fail, strlen(fail));
	}
done:
	for (i = 0; i < batch->n && c.bz != NULL; i++) {
		struct backend_zone *z = &batch->zones[i];

		/* held after the batch = listed in the include on disk: named serves
		 * it, or will at its next start */
		if (c.bz[i].z != NULL && c.inc_on_disk)
			z->now_present = c.bz[i].in_new;
		/* a delete is done only when named was seen without the zone: until
		 * then it may still serve it, and the drain must come back (a zone
		 * left to the next reconfig would be served until some other zone
		 * changes) */
		if (!z->present && z->result != BZ_OK && z->result != BZ_REJECTED &&
		    (z->was_present || c.bz[i].in_old))
			z->now_present = 1;
		if (z->result == BZ_UNSET) {
			z->result = BZ_FAILED;
			str_copy(z->error, "not applied", sizeof z->error);
		}
	}
	batch->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	for (i = 0; i < c.nold; i++)
		free(c.old[i].name);
	free(c.old);
	free(c.old_text);
	free(c.bz);
	free(c.bnames);
	free(c.names);
	free(c.drop);
	free(c.inc);
	return rc;
}
