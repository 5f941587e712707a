/* backend.c -- one entry point per nameserver kind: apply a batch, probe a configuration */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zonedrop/backend.h"
#include "zonedrop/exec.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"

#define BACKEND_PROBE_TIMEOUT_MS 10000

void backend_batch_reset(struct backend_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->zones[i].result = BZ_UNSET;
		b->zones[i].error[0] = '\0';
		b->zones[i].now_present = b->zones[i].was_present;
	}
}

void backend_batch_fail(struct backend_batch *b, const char *why)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		b->zones[i].result = BZ_FAILED;
		b->zones[i].now_present = b->zones[i].was_present;
		str_safe(b->zones[i].error, sizeof b->zones[i].error, why, strlen(why));
	}
}

int backend_apply(struct backend_batch *b, struct zd_err *err)
{
	const char *tname;
	char why[256];
	int64_t t0;

	b->mechanism[0] = '\0';
	b->seconds = 0;
	switch (b->be->type) {
	case BACKEND_NSD:
		return backend_nsd_apply(b, err);
	case BACKEND_BIND:
		return backend_bind_apply(b, err);
	case BACKEND_KNOT:
		return backend_knot_apply(b, err);
	case BACKEND_POWERDNS_MYSQL:
		return backend_powerdns_mysql_apply(b, err);
	case BACKEND_COREDNS_MYSQL:
		return backend_coredns_mysql_apply(b, err);
	default:
		break;
	}
	t0 = time_mono_ms();
	tname = config_backend_type_name(b->be->type);
	snprintf(why, sizeof why, "backend type %s not implemented yet", tname ? tname : "?");
	backend_batch_fail(b, why);
	str_copy(b->mechanism, "none", sizeof b->mechanism);
	b->seconds = (double)(time_mono_ms() - t0) / 1000.0;
	return zd_err_set(err, ZD_ECONFIG, "backend %s: %s", b->be->name, why);
}

/* dir exists, is a directory and we may write in it */
static int backend_probe_dir(const struct config_backend *be, const char *key, const char *dir,
                             struct zd_err *err)
{
	struct stat sb;

	if (dir == NULL || dir[0] == '\0')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: %s is not set", be->name, key);
	if (dir[0] != '/')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: %s must be an absolute path", be->name, key);
	if (stat(dir, &sb) < 0)
		return zd_err_sys(err, ZD_ECONFIG, "backend %s: %s %s", be->name, key, dir);
	if (!S_ISDIR(sb.st_mode))
		return zd_err_set(err, ZD_ECONFIG, "backend %s: %s %s is not a directory", be->name, key,
		                  dir);
	if (access(dir, W_OK | X_OK) < 0)
		return zd_err_sys(err, ZD_ECONFIG, "backend %s: %s %s is not writable", be->name, key, dir);
	return 0;
}

/* "<control> status" answers with exit 0 */
static int backend_probe_control(const struct config_backend *be, struct zd_err *err)
{
	static const char *const words[] = { "status", NULL };
	struct exec_result res;
	char line[200];
	int rc;

	if (be->control == NULL || be->control[0] == '\0')
		return zd_err_set(err, ZD_ECONFIG, "backend %s: control is not set", be->name);
	rc = exec_run(be->control, words, NULL, 0, BACKEND_PROBE_TIMEOUT_MS, &res, err);
	if (rc != 0)
		return rc;
	str_safe(line, sizeof line, res.output ? res.output : "", res.output_len);
	if (res.timed_out)
		rc = zd_err_set(err, ZD_ECMD, "backend %s: '%s status' timed out", be->name, be->control);
	else if (res.status != 0)
		rc = zd_err_set(err, ZD_ECMD, "backend %s: '%s status' exit %d: %s", be->name, be->control,
		                res.status, line);
	exec_result_free(&res);
	return rc;
}

int backend_probe(const struct config_backend *be, struct zd_err *err)
{
	char dir[ZD_PATH_MAX], *slash;
	int rc;

	switch (be->type) {
	case BACKEND_NSD:
	case BACKEND_BIND:
	case BACKEND_KNOT:
		if ((rc = backend_probe_dir(be, "zones_dir", be->zones_dir, err)) != 0)
			return rc;
		if (be->include_file != NULL && be->include_file[0] != '\0') {
			if (str_copy(dir, be->include_file, sizeof dir) >= sizeof dir)
				return zd_err_set(err, ZD_ENAMETOOLONG, "backend %s: include_file too long",
				                  be->name);
			slash = strrchr(dir, '/');
			if (slash == NULL)
				return zd_err_set(err, ZD_ECONFIG,
				                  "backend %s: include_file must be an absolute path", be->name);
			if (slash == dir)
				slash[1] = '\0';
			else
				*slash = '\0';
			if ((rc = backend_probe_dir(be, "include_file's directory", dir, err)) != 0)
				return rc;
		} else if (be->type != BACKEND_KNOT) {
			return zd_err_set(err, ZD_ECONFIG, "backend %s: include_file is not set", be->name);
		}
		return backend_probe_control(be, err);
	case BACKEND_POWERDNS_MYSQL:
	case BACKEND_COREDNS_MYSQL:
		return backend_mysql_probe(be, err);
	default:
		return zd_err_set(err, ZD_ECONFIG, "backend %s: unknown type", be->name);
	}
}

int backend_zone_file_write(const char *tmp, const struct backend_zone *z, mode_t mode,
                            int sync_each, struct zd_err *err)
{
	size_t off = 0;
	int fd, rc = 0;

	/* a leftover of a killed drain */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return zd_err_sys(err, ZD_EIO, "remove %s", tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return zd_err_sys(err, ZD_EIO, "create %s", tmp);
	if (fchmod(fd, mode) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "chmod %s", tmp);
		goto fail;
	}
	while (off < z->text_len) {
		ssize_t w = write(fd, z->text + off, z->text_len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = zd_err_sys(err, ZD_EIO, "write %s", tmp);
			goto fail;
		}
		off += (size_t)w;
	}
	/* a last line without its newline is a parse error to some readers */
	if (z->text_len > 0 && z->text[z->text_len - 1] != '\n' && write(fd, "\n", 1) != 1) {
		rc = zd_err_sys(err, ZD_EIO, "write %s", tmp);
		goto fail;
	}
	if (sync_each && fsync(fd) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "fsync %s", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = zd_err_sys(err, ZD_EIO, "close %s", tmp);
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

int backend_zone_file_install(const char *be_name, const char *domain, const char *tmp,
                              const char *path, const char *prev, int keep_prev, int *has_prev,
                              struct zd_err *err)
{
	int rc;

	if (keep_prev) {
		if (unlink(prev) < 0 && errno != ENOENT)
			log_warning(domain, "backend=%s remove %s: %s", be_name, prev, strerror(errno));
		if (link(path, prev) == 0)
			*has_prev = 1;
		else if (errno != ENOENT)
			log_warning(domain, "backend=%s link %s: %s", be_name, prev, strerror(errno));
	}
	if (rename(tmp, path) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "rename %s", tmp);
		if (*has_prev) {
			unlink(prev);
			*has_prev = 0;
		}
		return rc;
	}
	return 0;
}
