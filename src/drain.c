/* drain.c -- spool -> desired state (SQLite) -> every backend, in parallel, verified
 *
 * One run, under the spool lock:
 *  1. tmp/ leftovers older than 36 h go.
 *  2. Ingest. Items a killed drain left in cur/ come first (they are older
 *     than anything in new/), then new/ items are claimed into cur/; all
 *     are applied to the desired state in arrival order inside ONE
 *     transaction. Only after COMMIT do the items leave cur/ (oldest first),
 *     so a crash at any point re-ingests at most what was already
 *     committed: a push of the same text is no change, an item the zone
 *     row names as its last is skipped, and an item older than the one the
 *     row names is skipped too (a recovered item must never undo a newer
 *     push: PROTOCOL.md section 10, trap 8).
 *  3. zones.idx is republished for the CGI's exists answers.
 *  4. Apply. Per enabled backend, the zones whose desired state it lacks
 *     (store_work_each) form a batch; the zones it already serves and that
 *     stay are its keep list. Every backend runs in its own thread (threads
 *     never touch the store); after the join, the results are recorded in
 *     one transaction, with the retry schedule for failures.
 * A zone's text is read once per run and shared between backends that need
 * the same version. Texts go to an unlinked temp file in state_dir and are
 * mapped read-only; a backend done with a text hands its pages back
 * (backend_batch.text_done), so a 10k-zone batch costs the drain its
 * bookkeeping, not 10k zone texts on the heap (32 MB RSS budget).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zonedrop/backend.h"
#include "zonedrop/domain.h"
#include "zonedrop/drain.h"
#include "zonedrop/log.h"
#include "zonedrop/peer.h"
#include "zonedrop/peer_export.h"
#include "zonedrop/spool.h"
#include "zonedrop/status.h"
#include "zonedrop/store.h"
#include "zonedrop/util.h"
#include "zonedrop/zindex.h"
#include "zonedrop/zone.h"

#define DRAIN_TMP_MAX_AGE (36 * 3600)
/* meta key: "1" from the ingest commit until zones.idx is rewritten */
#define DRAIN_META_ZINDEX "zindex_pending"
#define DRAIN_TEXT_BLOCK (256 * 1024)   /* mmap offsets are page-aligned, so blocks are too */

/* What the drain remembers of a zone's backend state while the batch runs. */
struct drain_prev {
	int64_t applied_gen;
	int64_t failed_gen;
	uint32_t applied_serial;
	int attempts;
};

/* One zone of a batch while it is collected, and the drain's side of it after. */
struct drain_row {
	char *domain;
	char *item;               /* the spool item that set the desired state */
	char *text;               /* on the heap (owned or borrowed), or NULL when in_file */
	size_t text_len;
	uint64_t text_off;        /* in_file: where it starts in the text file */
	int64_t gen;
	uint32_t serial;
	unsigned present : 1;
	unsigned was_present : 1;
	unsigned owned : 1;       /* text is this batch's to free */
	unsigned in_file : 1;     /* text is in the run's text file (mapped after the builds) */
	struct drain_prev prev;
};

struct drain_be {
	const struct config_backend *be;
	struct backend_batch batch;
	struct drain_row *rows;   /* rows[i] goes with batch.zones[i] */
	size_t nrows, cap, keepcap;
	pthread_t tid;
	int started;
	int rc;
	struct zd_err err;
	size_t applied, failed;
	const struct drain_ctx *ctx;
	uint64_t trun_start, trun_end;   /* text_done: the texts' run not yet dropped */
};

struct drain_ctx {
	const struct config *cfg;
	const struct drain_opts *opts;
	struct drain_stats *st;
	struct store *store;
	struct drain_be *bes;
	size_t nbes;
	size_t built;             /* batches complete (for sharing texts) */
	int64_t now;
	/* the batches' texts: written to an unlinked file in state_dir while the
	 * batches are built, then mapped read-only; backends hand pages back
	 * with text_done(), so 10k texts never sit on the heap at once */
	FILE *tfp;
	uint64_t toff;
	char *tmap;
	size_t tmaplen;
};

/* ---------------------------------------------------------------- ingest */

static int drain_claim(const char *spool_dir, const char *name, struct zd_err *err)
{
	char src[ZD_PATH_MAX], dst[ZD_PATH_MAX];
	int n;

	n = snprintf(src, sizeof src, "%s/new/%s", spool_dir, name);
	if (n < 0 || (size_t)n >= sizeof src)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s/new/%s", spool_dir, name);
	n = snprintf(dst, sizeof dst, "%s/cur/%s", spool_dir, name);
	if (n < 0 || (size_t)n >= sizeof dst)
		return zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s/cur/%s", spool_dir, name);
	if (rename(src, dst) < 0)
		return zd_err_sys(err, errno == ENOENT ? ZD_ENOENT : ZD_EIO, "claim %s", src);
	return 0;
}

/* The new owner of a pushed zone: a push names its DirectAdmin server;
 * a push without one (cli, peer without a hostname) leaves the owner as is. */
static void drain_owner(const struct spool_item *it, const struct store_zone *old, int have_old,
                        struct store_zone *z)
{
	if (it->hostname[0] != '\0') {
		str_copy(z->hostname, it->hostname, sizeof z->hostname);
		if (it->username[0] != '\0')
			str_copy(z->username, it->username, sizeof z->username);
		else if (have_old && strcmp(old->hostname, it->hostname) == 0)
			str_copy(z->username, old->username, sizeof z->username);   /* older DA sends none */
		else
			z->username[0] = '\0';
	} else if (have_old) {
		str_copy(z->hostname, old->hostname, sizeof z->hostname);
		str_copy(z->username, it->username[0] ? it->username : old->username, sizeof z->username);
	} else {
		z->hostname[0] = '\0';
		str_copy(z->username, it->username, sizeof z->username);
	}
}

static void drain_stamp(const struct spool_item *it, struct store_zone *z, int64_t now)
{
	str_copy(z->source, it->source, sizeof z->source);
	str_copy(z->item, it->name, sizeof z->item);
	str_copy(z->received, it->received, sizeof z->received);
	/* changed is stamped once, where DirectAdmin pushed, and carried as is */
	str_copy(z->changed, it->changed[0] ? it->changed : it->received, sizeof z->changed);
	z->updated = now;
}

/* ---- peer sync (peer.c): a Source: peer item applies only while it still
 * wins over the desired state by the pull rule; a push that arrived after
 * zonedrop-peersync decided must not be undone by it. */
static int drain_peer_wins(const struct spool_item *it, const struct store_zone *old, int have_old,
                           const struct zone_info *info)
{
	struct peer_local l;
	struct peer_entry r;
	enum peer_verdict v;
	uint64_t serial = 0;
	struct timespec ts;

	memset(&l, 0, sizeof l);
	memset(&r, 0, sizeof r);
	if (have_old) {
		l.held = 1;
		l.present = old->present;
		l.serial = old->serial;
		if (peer_time_parse(old->changed, &l.changed_us) != 0)
			l.changed_us = 0;
	}
	str_copy(r.domain, it->domain, sizeof r.domain);
	r.present = it->action == SPOOL_RAWSAVE;
	if (r.present) {
		r.serial = info->serial;
	} else if (parse_u64(it->serial, UINT32_MAX, &serial) == 0) {
		r.serial = (uint32_t)serial;
	} else {
		log_warning(it->domain, "item=%s peer delete without a Serial: header: not applied",
		            it->name);
		return 0;
	}
	if (peer_time_parse(it->changed, &r.changed_us) != 0)
		r.changed_us = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	v = peer_decide(&l, &r, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if (v == PEER_PULL || v == PEER_DELETE)
		return 1;
	log_info(it->domain, "item=%s from a peer (serial=%u changed=%s) not applied: ours "
	         "(serial=%u) wins now (%s)", it->name, r.serial, it->changed,
	         have_old ? old->serial : 0, peer_verdict_name(v));
	return 0;
}

/* Apply one item to the desired state. Returns 0 (done, may be a no-op),
 * 1 when the item is bad (why filled), <0 on a store error. */
static int drain_item(struct drain_ctx *c, const struct spool_item *it, int recovered, char *why,
                      size_t whysz, struct zd_err *err)
{
	struct store_zone old, z;
	struct zone_info info;
	struct zd_err e;
	int rc, have_old;

	memset(&z, 0, sizeof z);
	zd_err_clear(&e);
	if (domain_check(it->domain, &e) != 0) {
		snprintf(why, whysz, "Domain: %s", e.msg);
		return 1;
	}
	if (it->action == SPOOL_RAWSAVE) {
		/* the CGI checked it; the drain checks again: the spool is a trust boundary too */
		if (zone_check(it->domain, it->text, it->text_len, &info, &e) != 0) {
			snprintf(why, whysz, "zone check failed: %s", e.msg);
			return 1;
		}
	}
	rc = store_zone_get(c->store, it->domain, it->action == SPOOL_RAWSAVE, &old, err);
	if (rc != 0 && rc != ZD_ENOENT)
		return rc;
	have_old = rc == 0;
	zd_err_clear(err);
	rc = 0;
	if (have_old && old.item[0] != '\0') {
		char *a = old.item;
		const char *b = it->name;

		if (strcmp(old.item, it->name) == 0) {
			log_info(it->domain, "item=%s already stored (recovered after a crash)", it->name);
			goto out;
		}
		if (recovered && spool_name_cmp(&a, &b) > 0) {
			log_info(it->domain, "item=%s superseded by item=%s (recovered after a crash)",
			         it->name, old.item);
			goto out;
		}
	}
	if (strcmp(it->source, "peer") == 0 && !drain_peer_wins(it, &old, have_old, &info))
		goto out;
	if (it->action == SPOOL_RAWSAVE) {
		int same = have_old && old.present && old.text != NULL && old.text_len == it->text_len &&
		           memcmp(old.text, it->text, it->text_len) == 0;

		if (same) {
			struct store_zone own;

			memset(&own, 0, sizeof own);
			drain_owner(it, &old, 1, &own);
			if (strcmp(own.hostname, old.hostname) == 0 && strcmp(own.username, old.username) == 0) {
				log_info(it->domain, "item=%s serial=%u unchanged (same text)", it->name,
				         info.serial);
				goto out;
			}
			/* same text, new owner: metadata only, backends have nothing to do */
			log_info(it->domain, "item=%s owner hostname=%s username=%s -> hostname=%s "
			         "username=%s (a push moves ownership)", it->name, old.hostname,
			         old.username, own.hostname, own.username);
			str_copy(old.hostname, own.hostname, sizeof old.hostname);
			str_copy(old.username, own.username, sizeof old.username);
			str_copy(old.item, it->name, sizeof old.item);
			old.updated = c->now;
			rc = store_zone_put(c->store, &old, err);
			goto out;
		}
		str_copy(z.domain, it->domain, sizeof z.domain);
		drain_owner(it, &old, have_old, &z);
		if (have_old && old.hostname[0] != '\0' && strcmp(old.hostname, z.hostname) != 0)
			log_info(it->domain, "item=%s owner hostname=%s -> hostname=%s (a push moves ownership)",
			         it->name, old.hostname, z.hostname);
		z.present = 1;
		z.serial = info.serial;
		z.gen = (have_old ? old.gen : 0) + 1;
		drain_stamp(it, &z, c->now);
		z.text = it->text;
		z.text_len = it->text_len;
		rc = store_zone_put(c->store, &z, err);
		z.text = NULL;
		if (rc == 0) {
			c->st->changed++;
			log_info(it->domain, "item=%s action=rawsave serial=%u gen=%lld hostname=%s stored",
			         it->name, z.serial, (long long)z.gen, z.hostname);
		}
		goto out;
	}
	/* delete */
	if (!have_old || !old.present) {
		log_info(it->domain, "item=%s action=delete: not held, nothing to do", it->name);
		goto out;
	}
	if (it->hostname[0] != '\0' && strcmp(it->hostname, old.hostname) != 0) {
		log_warning(it->domain, "item=%s action=delete from hostname=%s not applied: the zone is "
		            "owned by hostname=%s (ownership moves only with a push)", it->name,
		            it->hostname, old.hostname[0] ? old.hostname : "(none)");
		goto out;
	}
	z = old;          /* loaded without its text */
	z.text = NULL;
	z.text_len = 0;
	z.present = 0;    /* a tombstone: serial stays the last one held (peers) */
	z.gen = old.gen + 1;
	drain_stamp(it, &z, c->now);
	rc = store_zone_put(c->store, &z, err);
	if (rc == 0) {
		c->st->changed++;
		log_info(it->domain, "item=%s action=delete gen=%lld stored", it->name, (long long)z.gen);
	}
out:
	store_zone_clear(&old);
	return rc;
}

/* Read every claimed item, apply it, commit, then let the items go. */
static int drain_ingest(struct drain_ctx *c, struct zd_err *err)
{
	const char *sd = c->cfg->spool_dir;
	char **cur = NULL, **nw = NULL, **all = NULL;
	size_t ncur = 0, nnew = 0, nall = 0, i, ndone = 0;
	unsigned char *done = NULL;
	int rc, in_txn = 0;
	struct zd_err e;

	if ((rc = spool_list(sd, "cur", &cur, &ncur, err)) != 0)
		goto out;
	if ((rc = spool_list(sd, "new", &nw, &nnew, err)) != 0)
		goto out;
	if (ncur + nnew == 0)
		goto out;
	if (ncur > 0)
		log_info(NULL, "recovering %zu item(s) left in cur/ by an interrupted drain", ncur);
	all = calloc(ncur + nnew, sizeof *all);
	done = calloc(ncur + nnew, 1);
	if (all == NULL || done == NULL) {
		rc = zd_err_set(err, ZD_ENOMEM, "out of memory for %zu items", ncur + nnew);
		goto out;
	}
	for (i = 0; i < ncur; i++)
		all[nall++] = cur[i];
	/* claims need no fsync each: one lost in a power cut leaves the item in
	 * new/, where the next drain finds it again; cur/ is fsync'd once below */
	for (i = 0; i < nnew; i++) {
		zd_err_clear(&e);
		if (drain_claim(sd, nw[i], &e) != 0) {
			if (e.code != ZD_ENOENT)
				log_error(NULL, "item=%s %s", nw[i], zd_err_str(&e));
			continue;
		}
		all[nall++] = nw[i];
	}
	if (nnew > 0) {
		char dir[ZD_PATH_MAX];
		if (path_join(dir, sizeof dir, sd, "cur") != 0) {
			rc = zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", sd);
			goto out;
		}
		if ((rc = fsync_dir(dir, 1, err)) != 0)
			goto out;
	}
	if ((rc = store_begin(c->store, err)) != 0)
		goto out;
	in_txn = 1;
	for (i = 0; i < nall; i++) {
		struct spool_item it;
		char why[ZD_ERR_MSG_MAX + 64];
		int r;

		zd_err_clear(&e);
		r = spool_item_read(sd, "cur", all[i], &it, &e);
		if (r == ZD_ENOENT) {
			spool_item_clear(&it);
			continue;
		}
		if (r == ZD_EINVAL || r == ZD_E2BIG) {
			snprintf(why, sizeof why, "unreadable item: %s", e.msg);
			it.domain[0] = '\0';   /* not a name to tag a log line with */
			r = 1;
		} else if (r != 0) {
			/* I/O: leave it in cur/ for the next run */
			log_error(NULL, "item=%s %s", all[i], zd_err_str(&e));
			spool_item_clear(&it);
			continue;
		} else {
			r = drain_item(c, &it, i < ncur, why, sizeof why, err);
		}
		if (r < 0) {
			spool_item_clear(&it);
			rc = r;
			goto out;
		}
		if (r == 1) {
			zd_err_clear(&e);
			log_error(it.domain[0] ? it.domain : NULL, "item=%s moved to bad/: %s", all[i], why);
			if (spool_reject(sd, "cur", all[i], why, &e) != 0)
				log_error(NULL, "item=%s %s", all[i], zd_err_str(&e));
			c->st->bad++;
		} else {
			done[i] = 1;
			ndone++;
			c->st->items++;
		}
		spool_item_clear(&it);
	}
	/* zones.idx must follow this commit even if we are killed right after it */
	if (ndone > 0 && (rc = store_meta_set(c->store, DRAIN_META_ZINDEX, "1", err)) != 0)
		goto out;
	if ((rc = store_commit(c->store, err)) != 0)
		goto out;
	in_txn = 0;
	/* committed: the items may go now, oldest first, so that what a crash
	 * leaves behind is always the newest part */
	for (i = 0; i < nall; i++) {
		if (!done[i])
			continue;
		zd_err_clear(&e);
		if (spool_remove(sd, "cur", all[i], &e) != 0 && e.code != ZD_ENOENT)
			log_error(NULL, "item=%s %s", all[i], zd_err_str(&e));
	}
	if (ndone > 0) {
		char dir[ZD_PATH_MAX];
		zd_err_clear(&e);
		if (path_join(dir, sizeof dir, sd, "cur") == 0 && fsync_dir(dir, 1, &e) != 0)
			log_warning(NULL, "%s", zd_err_str(&e));
	}
out:
	if (in_txn)
		store_rollback(c->store);
	free(all);
	free(done);
	spool_names_free(cur, ncur);
	spool_names_free(nw, nnew);
	return rc;
}

/* ----------------------------------------------------------------- batches */

/* The same version's text in an earlier backend's batch, to share. */
static const struct drain_row *drain_shared(const struct drain_ctx *c, const char *domain,
                                            int64_t gen)
{
	size_t j;

	for (j = 0; j < c->built; j++) {
		const struct drain_be *d = &c->bes[j];
		size_t lo = 0, hi = d->nrows;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int cmp = strcmp(d->rows[mid].domain, domain);

			if (cmp == 0) {
				if (d->rows[mid].gen == gen && (d->rows[mid].in_file || d->rows[mid].text))
					return &d->rows[mid];
				break;
			}
			if (cmp < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return NULL;
}

/* The run's text file: O_TMPFILE in state_dir (never visible, gone with
 * the process), else a named temp file unlinked at once. NULL: texts stay
 * on the heap. */
static FILE *drain_text_file(const struct config *cfg)
{
	char path[ZD_PATH_MAX];
	FILE *fp;
	int fd;

	fd = open(cfg->state_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (path_join(path, sizeof path, cfg->state_dir, ".drain-texts.XXXXXX") != 0)
			return NULL;
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0)
			return NULL;
		unlink(path);
	}
	fp = fdopen(fd, "w+");
	if (fp == NULL)
		close(fd);
	return fp;
}

struct drain_work_arg {
	struct drain_ctx *c;
	struct drain_be *d;
};

/* Rows are collected small (struct backend_zone carries a 512-byte error
 * buffer: 10k zones doubling would cost 9 MB), the batch array is then
 * allocated once at its size. */
static int drain_work_zone(const struct store_zone *z, const struct store_bstate *b, void *arg)
{
	struct drain_work_arg *a = arg;
	struct drain_be *d = a->d;
	struct drain_row *r;
	const struct drain_row *sh;

	if (d->nrows == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct drain_row *nr = realloc(d->rows, cap * sizeof *nr);

		if (nr == NULL)
			return ZD_ENOMEM;
		d->rows = nr;
		d->cap = cap;
	}
	r = &d->rows[d->nrows];
	memset(r, 0, sizeof *r);
	r->domain = strdup(z->domain);
	r->item = strdup(z->item);
	if (r->domain == NULL || r->item == NULL)
		goto nomem;
	r->present = z->present ? 1 : 0;
	r->was_present = b->applied_present ? 1 : 0;
	r->serial = z->serial;
	r->gen = z->gen;
	if (z->present && z->text != NULL) {
		sh = drain_shared(a->c, z->domain, z->gen);
		if (sh != NULL) {
			r->text = sh->text;          /* borrowed: owned stays 0 */
			r->text_off = sh->text_off;
			r->in_file = sh->in_file;
			r->text_len = sh->text_len;
		} else if (a->c->tfp != NULL) {
			/* NUL-terminated in the file too: backends may treat it as a string */
			if (fwrite(z->text, 1, z->text_len, a->c->tfp) != z->text_len ||
			    fputc('\0', a->c->tfp) == EOF)
				goto ioerr;
			r->text_off = a->c->toff;
			r->in_file = 1;
			r->text_len = z->text_len;
			a->c->toff += z->text_len + 1;
		} else {
			r->text = malloc(z->text_len + 1);
			if (r->text == NULL)
				goto nomem;
			memcpy(r->text, z->text, z->text_len);
			r->text[z->text_len] = '\0';
			r->text_len = z->text_len;
			r->owned = 1;
		}
	}
	r->prev.applied_gen = b->applied_gen;
	r->prev.failed_gen = b->failed_gen;
	r->prev.applied_serial = b->applied_serial;
	r->prev.attempts = b->attempts;
	d->nrows++;
	return 0;
ioerr:
	free(r->domain);
	free(r->item);
	return ZD_EIO;
nomem:
	free(r->domain);
	free(r->item);
	return ZD_ENOMEM;
}

/* The batch array from the rows; the strings stay owned by the rows. */
static int drain_batch_fill(struct drain_be *d)
{
	size_t i;

	d->batch.n = 0;
	if (d->nrows == 0)
		return 0;
	d->batch.zones = calloc(d->nrows, sizeof *d->batch.zones);
	if (d->batch.zones == NULL)
		return ZD_ENOMEM;
	for (i = 0; i < d->nrows; i++) {
		struct backend_zone *bz = &d->batch.zones[i];
		const struct drain_row *r = &d->rows[i];

		bz->domain = r->domain;
		bz->present = r->present;
		bz->was_present = r->was_present;
		bz->serial = r->serial;
		bz->gen = r->gen;
		bz->text = r->text;
		bz->text_len = r->text_len;
	}
	d->batch.n = d->nrows;
	return 0;
}

static int drain_keep_zone(const struct store_zone *z, void *arg)
{
	struct drain_be *d = arg;
	struct backend_batch *b = &d->batch;

	/* a zone deleted from the desired state never stays in a config, even
	 * while its delete waits for a retry */
	if (!z->present)
		return 0;
	if (b->nkeep == d->keepcap) {
		size_t cap = d->keepcap ? d->keepcap * 2 : 256;
		char **k = realloc(b->keep, cap * sizeof *k);

		if (k == NULL)
			return ZD_ENOMEM;
		b->keep = k;
		d->keepcap = cap;
	}
	b->keep[b->nkeep] = strdup(z->domain);
	if (b->keep[b->nkeep] == NULL)
		return ZD_ENOMEM;
	b->nkeep++;
	return 0;
}

/* keep minus the batch's zones (both sorted by domain) */
static void drain_keep_minus_batch(struct backend_batch *b)
{
	size_t k, i = 0, o = 0;

	for (k = 0; k < b->nkeep; k++) {
		int cmp = 1;

		while (i < b->n && (cmp = strcmp(b->zones[i].domain, b->keep[k])) < 0)
			i++;
		if (i < b->n && cmp == 0) {
			free(b->keep[k]);
			continue;
		}
		b->keep[o++] = b->keep[k];
	}
	b->nkeep = o;
}

static void drain_texts_free(struct drain_be *d)
{
	size_t i;

	for (i = 0; i < d->nrows; i++) {
		if (d->rows[i].owned)
			free(d->rows[i].text);
		d->rows[i].owned = 0;
		d->rows[i].in_file = 0;
		d->rows[i].text = NULL;
		if (i < d->batch.n)
			d->batch.zones[i].text = NULL;
	}
}

static void drain_be_free(struct drain_be *d)
{
	size_t i;

	drain_texts_free(d);
	for (i = 0; i < d->nrows; i++) {
		free(d->rows[i].domain);
		free(d->rows[i].item);
	}
	for (i = 0; i < d->batch.nkeep; i++)
		free(d->batch.keep[i]);
	free(d->rows);
	free(d->batch.zones);
	free(d->batch.keep);
	memset(&d->batch, 0, sizeof d->batch);
	d->rows = NULL;
	d->nrows = d->cap = d->keepcap = 0;
}

static int drain_build(struct drain_ctx *c, struct drain_be *d, struct zd_err *err)
{
	struct drain_work_arg a = { c, d };
	int rc;

	d->batch.cfg = c->cfg;
	d->batch.be = d->be;
	d->batch.verify_timeout_ms = c->cfg->verify_timeout_ms > 0 ? c->cfg->verify_timeout_ms : 30000;
	rc = store_work_each(c->store, d->be->name, c->now, c->opts->force_retry, drain_work_zone, &a,
	                     err);
	if (rc == ZD_ENOMEM)
		return zd_err_set(err, rc, "out of memory building the batch of %s", d->be->name);
	if (rc == ZD_EIO)
		return zd_err_sys(err, rc, "write the zone texts to a temp file in %s", c->cfg->state_dir);
	if (rc != 0)
		return rc;
	if (drain_batch_fill(d) != 0)
		return zd_err_set(err, ZD_ENOMEM, "out of memory building the batch of %s", d->be->name);
	rc = store_served_each(c->store, d->be->name, drain_keep_zone, d, err);
	if (rc == ZD_ENOMEM)
		return zd_err_set(err, rc, "out of memory building the zone list of %s", d->be->name);
	if (rc != 0)
		return rc;
	drain_keep_minus_batch(&d->batch);
	return 0;
}

static void drain_text_drop(const struct drain_ctx *c, uint64_t from, uint64_t to)
{
	if (to > c->tmaplen)
		to = c->tmaplen;
	if (to > from)
		madvise(c->tmap + from, (size_t)(to - from), MADV_DONTNEED);
}

/* backend_batch.text_done: the pages behind the texts a backend is done
 * with leave the process (they stay in the page cache; touching them again
 * faults them back in, so a neighbour's text sharing a page is never lost).
 * Texts lie in batch order, so this drops whole DRAIN_TEXT_BLOCK blocks
 * behind the backend as it moves on: one madvise per block, not per zone
 * (each is a TLB flush: 10k of them cost 6 s here), and whole blocks,
 * because a fault maps the pages around it too (fault-around, 64 KiB). */
static void drain_text_done(struct backend_batch *b, size_t i)
{
	struct drain_be *d = b->text_arg;
	const struct drain_ctx *c = d != NULL ? d->ctx : NULL;
	const char *t = i < b->n ? b->zones[i].text : NULL;
	uint64_t off, end, blk;

	if (c == NULL || c->tmap == NULL || t == NULL || t < c->tmap || t >= c->tmap + c->tmaplen)
		return;
	off = (uint64_t)(t - c->tmap);
	end = off + b->zones[i].text_len + 1;
	blk = off & ~(uint64_t)(DRAIN_TEXT_BLOCK - 1);
	if (d->trun_end == 0 || off < d->trun_start || off > d->trun_end + DRAIN_TEXT_BLOCK) {
		/* a jump (a text shared with an earlier batch): the last run goes whole */
		if (d->trun_end > 0)
			drain_text_drop(c, d->trun_start & ~(uint64_t)(DRAIN_TEXT_BLOCK - 1),
			                (d->trun_end + DRAIN_TEXT_BLOCK - 1) & ~(uint64_t)(DRAIN_TEXT_BLOCK - 1));
		d->trun_start = blk;
		d->trun_end = end;
		return;
	}
	if (end > d->trun_end)
		d->trun_end = end;
	if (blk > d->trun_start) {
		drain_text_drop(c, d->trun_start, blk);
		d->trun_start = blk;
	}
}

/* After every batch is built: map the text file, point the zones into it. */
static int drain_text_map(struct drain_ctx *c, struct zd_err *err)
{
	size_t j, i;

	if (c->tfp == NULL)
		return 0;
	if (fflush(c->tfp) != 0 || ferror(c->tfp))
		return zd_err_sys(err, ZD_EIO, "write the zone texts to a temp file in %s",
		                  c->cfg->state_dir);
	if (c->toff > 0) {
		void *m = mmap(NULL, (size_t)c->toff, PROT_READ, MAP_SHARED, fileno(c->tfp), 0);

		if (m == MAP_FAILED)
			return zd_err_sys(err, ZD_EIO, "map the zone texts");
		c->tmap = m;
		c->tmaplen = (size_t)c->toff;
	}
	for (j = 0; j < c->nbes; j++) {
		struct drain_be *d = &c->bes[j];

		d->ctx = c;
		d->batch.text_done = drain_text_done;
		d->batch.text_arg = d;
		for (i = 0; i < d->nrows; i++)
			if (d->rows[i].in_file)
				d->batch.zones[i].text = c->tmap + d->rows[i].text_off;
	}
	return 0;
}

static void drain_text_close(struct drain_ctx *c)
{
	if (c->tmap != NULL)
		munmap(c->tmap, c->tmaplen);
	c->tmap = NULL;
	c->tmaplen = 0;
	if (c->tfp != NULL)
		fclose(c->tfp);
	c->tfp = NULL;
	c->toff = 0;
}

static void *drain_thread(void *arg)
{
	struct drain_be *d = arg;

	zd_err_clear(&d->err);
	d->rc = backend_apply(&d->batch, &d->err);
	return NULL;
}

/* ----------------------------------------------------------------- results */

static int64_t drain_retry_delay_s(const struct config *cfg, int attempts)
{
	int64_t ms;

	if (cfg->retry.nschedule == 0 || attempts < 1)
		return 30;
	ms = cfg->retry.schedule_ms[(size_t)attempts - 1];
	return (ms + 999) / 1000;
}

static void drain_dur(char *out, size_t sz, int64_t s)
{
	if (s % 3600 == 0 && s >= 3600)
		snprintf(out, sz, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0 && s >= 60)
		snprintf(out, sz, "%lldm", (long long)(s / 60));
	else
		snprintf(out, sz, "%llds", (long long)s);
}

/* One zone's result into its backend state, and its log line. */
static int drain_record(struct drain_ctx *c, struct drain_be *d, size_t i, struct zd_err *err)
{
	const struct backend_zone *z = &d->batch.zones[i];
	const struct drain_prev *p = &d->rows[i].prev;
	struct store_bstate nb;
	const char *item = d->rows[i].item[0] ? d->rows[i].item : "-";
	char dur[32];

	memset(&nb, 0, sizeof nb);
	str_copy(nb.backend, d->be->name, sizeof nb.backend);
	str_copy(nb.domain, z->domain, sizeof nb.domain);
	nb.applied_gen = p->applied_gen;
	nb.applied_serial = p->applied_serial;
	nb.applied_present = z->now_present ? 1 : 0;
	nb.updated = c->now;
	switch (z->result) {
	case BZ_OK:
		nb.applied_gen = z->gen;
		if (z->present)
			nb.applied_serial = z->serial;
		nb.applied_present = z->present ? 1 : 0;
		str_copy(nb.status, BSTATE_OK, sizeof nb.status);
		d->applied++;
		log_info(z->domain, "backend=%s item=%s serial=%u %s", d->be->name, item, z->serial,
		         z->present ? "applied" : "removed");
		break;
	case BZ_REJECTED:
		str_copy(nb.status, BSTATE_REJECTED, sizeof nb.status);
		nb.failed_gen = z->gen;
		nb.attempts = p->failed_gen == z->gen ? p->attempts : 0;
		str_copy(nb.last_error, z->error, sizeof nb.last_error);
		d->failed++;
		log_error(z->domain, "backend=%s item=%s serial=%u rejected: %s%s", d->be->name, item,
		          z->serial, z->error, z->now_present ? " (the previous version stays served)" : "");
		break;
	case BZ_FAILED:
	default:
		nb.failed_gen = z->gen;
		nb.attempts = (p->failed_gen == z->gen ? p->attempts : 0) + 1;
		str_copy(nb.last_error, z->result == BZ_FAILED ? z->error : "backend gave no result",
		         sizeof nb.last_error);
		d->failed++;
		if ((size_t)nb.attempts <= c->cfg->retry.nschedule ||
		    (c->cfg->retry.nschedule == 0 && nb.attempts == 1)) {
			int64_t delay = drain_retry_delay_s(c->cfg, nb.attempts);

			str_copy(nb.status, BSTATE_RETRY, sizeof nb.status);
			nb.next_retry = c->now + delay;
			drain_dur(dur, sizeof dur, delay);
			log_error(z->domain, "backend=%s item=%s serial=%u failed: %s (attempt %d, retry in %s)",
			          d->be->name, item, z->serial, nb.last_error, nb.attempts, dur);
		} else {
			str_copy(nb.status, BSTATE_FAILED, sizeof nb.status);
			nb.next_retry = 0;
			log_error(z->domain, "backend=%s item=%s serial=%u failed: %s (attempt %d, no more "
			          "retries: zonedrop retry)", d->be->name, item, z->serial, nb.last_error,
			          nb.attempts);
		}
		break;
	}
	return store_bstate_put(c->store, &nb, err);
}

static void drain_meta(struct drain_ctx *c, double seconds, size_t zones, int ok)
{
	char v[64];
	struct zd_err e;

	zd_err_clear(&e);
	/* one transaction: one fsync, and readers never see half of it */
	if (store_begin(c->store, &e) != 0)
		goto fail;
	time_iso_now(v, sizeof v);
	if (store_meta_set(c->store, "last_drain_end", v, &e) != 0)
		goto fail;
	snprintf(v, sizeof v, "%.3f", seconds);
	if (store_meta_set(c->store, "last_drain_seconds", v, &e) != 0)
		goto fail;
	snprintf(v, sizeof v, "%zu", zones);
	if (store_meta_set(c->store, "last_drain_zones", v, &e) != 0)
		goto fail;
	if (store_meta_set(c->store, "last_drain_result", ok ? "ok" : "failed", &e) != 0)
		goto fail;
	if (store_commit(c->store, &e) != 0)
		goto fail;
	return;
fail:
	store_rollback(c->store);
	log_warning(NULL, "%s", zd_err_str(&e));
}

/* Build every batch, run them in parallel, record. 1 when something failed. */
static int drain_apply(struct drain_ctx *c, struct zd_err *err)
{
	const struct config *cfg = c->cfg;
	size_t j, i, nsel = 0;
	int rc = 0, failed = 0;

	c->bes = calloc(cfg->nbackends ? cfg->nbackends : 1, sizeof *c->bes);
	if (c->bes == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	for (j = 0; j < cfg->nbackends; j++) {
		const struct config_backend *be = &cfg->backends[j];

		if (c->opts->only_backend != NULL) {
			if (strcmp(be->name, c->opts->only_backend) != 0)
				continue;
		} else if (!be->enabled) {
			continue;
		}
		c->bes[c->nbes++].be = be;
		nsel++;
	}
	if (c->opts->only_backend != NULL && nsel == 0)
		return zd_err_set(err, ZD_ECONFIG, "no backend named %s in %s", c->opts->only_backend,
		                  cfg->path ? cfg->path : "the configuration");
	if (c->nbes == 0)
		log_warning(NULL, "no enabled backend: the desired state is kept, nothing is applied");

	c->now = time_now();
	c->tfp = drain_text_file(cfg);
	if (c->tfp == NULL && c->nbes > 0)
		log_warning(NULL, "no temp file in %s for the zone texts (%s): they stay in memory",
		            cfg->state_dir, strerror(errno));
	for (j = 0; j < c->nbes; j++) {
		if ((rc = drain_build(c, &c->bes[j], err)) != 0)
			return rc;
		c->built = j + 1;
	}
	if ((rc = drain_text_map(c, err)) != 0)
		return rc;
	for (j = 0; j < c->nbes; j++) {
		struct drain_be *d = &c->bes[j];

		if (d->batch.n == 0)
			continue;
		log_info(NULL, "backend=%s applying %zu zone(s), %zu kept", d->be->name, d->batch.n,
		         d->batch.nkeep);
		if (pthread_create(&d->tid, NULL, drain_thread, d) != 0) {
			/* no thread: run it here, the others still run in parallel */
			drain_thread(d);
		} else {
			d->started = 1;
		}
	}
	for (j = 0; j < c->nbes; j++)
		if (c->bes[j].started) {
			pthread_join(c->bes[j].tid, NULL);
			c->bes[j].started = 0;
		}

	/* texts are no longer needed: drop them before the bookkeeping */
	for (j = 0; j < c->nbes; j++)
		drain_texts_free(&c->bes[j]);
	drain_text_close(c);

	c->now = time_now();
	if ((rc = store_begin(c->store, err)) != 0)
		return rc;
	for (j = 0; j < c->nbes; j++) {
		struct drain_be *d = &c->bes[j];

		for (i = 0; i < d->batch.n; i++)
			if ((rc = drain_record(c, d, i, err)) != 0) {
				store_rollback(c->store);
				return rc;
			}
		if (d->rc != 0) {
			log_error(NULL, "backend=%s failed: %s", d->be->name, zd_err_str(&d->err));
			failed = 1;
		}
		if (d->failed > 0)
			failed = 1;
		c->st->applied += d->applied;
		c->st->failed += d->failed;
		if (d->batch.n > 0)
			log_info(NULL, "backend=%s mechanism=%s zones=%zu applied=%zu failed=%zu seconds=%.3f "
			         "zones/s=%.1f", d->be->name, d->batch.mechanism[0] ? d->batch.mechanism : "-",
			         d->batch.n, d->applied, d->failed, d->batch.seconds,
			         d->batch.seconds > 0 ? (double)d->batch.n / d->batch.seconds : 0.0);
	}
	if ((rc = store_commit(c->store, err)) != 0) {
		store_rollback(c->store);
		return rc;
	}
	return failed;
}

/* -------------------------------------------------------------------- run */

int drain_run(const struct config *cfg, const struct drain_opts *opts, struct drain_stats *stats,
              struct zd_err *err)
{
	struct drain_ctx c;
	struct drain_opts defopts = { 0, NULL };
	struct drain_stats localst;
	struct zd_err e;
	char idx[ZD_PATH_MAX];
	int64_t t0 = time_mono_ms();
	int lockfd = -1, rc, result = 0;
	size_t removed = 0, j, zones = 0;

	memset(&c, 0, sizeof c);
	if (stats == NULL)
		stats = &localst;
	memset(stats, 0, sizeof *stats);
	c.cfg = cfg;
	c.opts = opts ? opts : &defopts;
	c.st = stats;

	if ((rc = spool_lock(cfg->spool_dir, &lockfd, err)) != 0)
		return rc;
	zd_err_clear(&e);
	if (spool_clean_tmp(cfg->spool_dir, DRAIN_TMP_MAX_AGE, &removed, &e) != 0)
		log_warning(NULL, "%s", zd_err_str(&e));
	if (removed > 0)
		log_info(NULL, "removed %zu file(s) older than 36 h from tmp/", removed);
	if ((rc = store_open(cfg->state_dir, 0, &c.store, err)) != 0)
		goto out;

	c.now = time_now();
	if ((rc = drain_ingest(&c, err)) != 0)
		goto out;
	log_debug(NULL, "ingest: %zu item(s), %zu bad, %.3f s", stats->items, stats->bad,
	          (double)(time_mono_ms() - t0) / 1000.0);
	/* the CGI's exists answers: after every ingest, and once on a fresh state */
	if (path_join(idx, sizeof idx, cfg->state_dir, ZINDEX_NAME) != 0) {
		rc = zd_err_set(err, ZD_ENAMETOOLONG, "path too long: %s", cfg->state_dir);
		goto out;
	}
	{
		char pending[8] = "";

		zd_err_clear(&e);
		store_meta_get(c.store, DRAIN_META_ZINDEX, pending, sizeof pending, &e);
		if (strcmp(pending, "1") == 0 || access(idx, F_OK) != 0) {
			zd_err_clear(&e);
			if (zindex_publish(c.store, cfg->state_dir, &e) != 0)
				log_error(NULL, "%s", zd_err_str(&e));
			else if (store_meta_set(c.store, DRAIN_META_ZINDEX, "0", &e) != 0)
				log_warning(NULL, "%s", zd_err_str(&e));
			log_debug(NULL, "zones.idx published, %.3f s",
			          (double)(time_mono_ms() - t0) / 1000.0);
		}
	}

	/* peers: state_dir/export.db follows the commit (peer_export.c) */
	{
		struct peer_export_stats px;

		zd_err_clear(&e);
		if (peer_export_update(cfg, &px, &e) != 0)
			log_error(NULL, "export.db for peers not updated: %s", zd_err_str(&e));
		else if (cfg->peers.nusers > 0)
			log_debug(NULL, "export.db: %s, %zu zone(s), %zu tombstone(s) purged, %.3f s",
			          px.rebuilt ? "rebuilt" : "updated", px.zones, px.purged, px.seconds);
	}

	/* what the ingest freed (ldns buffers kept by the trim threshold) goes
	 * back before the batches are built: the peak is ingest or apply, not both */
	malloc_trim(0);
	rc = drain_apply(&c, err);
	if (rc < 0)
		goto out;
	result = rc;
	rc = 0;
	for (j = 0; j < c.nbes; j++)
		zones += c.bes[j].batch.n;
	stats->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	if (stats->bad > 0)
		result = 1;
	drain_meta(&c, stats->seconds, zones, result == 0);
	log_info(NULL, "drain done: items=%zu bad=%zu changed=%zu zones=%zu applied=%zu failed=%zu "
	         "seconds=%.3f zones/s=%.1f", stats->items, stats->bad, stats->changed, zones,
	         stats->applied, stats->failed, stats->seconds,
	         stats->seconds > 0 ? (double)zones / stats->seconds : 0.0);
out:
	if (rc < 0 && c.store != NULL) {
		stats->seconds = (double)(time_mono_ms() - t0) / 1000.0;
		drain_meta(&c, stats->seconds, zones, 0);
	}
	/* status.json for the CGI's /status and /metrics, after every run that
	 * opened the state, failed or not (status.c) */
	if (c.store != NULL) {
		zd_err_clear(&e);
		if (status_publish(cfg, c.store, &e) != 0)
			log_warning(NULL, "status.json not written: %s", zd_err_str(&e));
	}
	if (c.bes != NULL) {
		for (j = 0; j < c.nbes; j++) {
			if (c.bes[j].started)
				pthread_join(c.bes[j].tid, NULL);
			drain_be_free(&c.bes[j]);
		}
		free(c.bes);
	}
	drain_text_close(&c);
	store_close(c.store);
	spool_unlock(lockfd);
	if (rc < 0)
		return rc;
	return result ? 1 : 0;
}
