/* fuzz_cgi.c -- one CGI request into cgi_serve(), plus the raw request parsers
 *
 * Input: five lines, then the body:
 *   METHOD\n PATH\n QUERY_STRING\n AUTHORIZATION\n CONTENT_LENGTH\n body...
 * The spool and state live in a private temp directory; items the
 * handler accepts are removed after each input. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zonedrop/cgi.h"
#include "zonedrop/config.h"
#include "zonedrop/http.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_root[64];
static char fz_spool[128];
static char fz_state[128];
static struct config fz_cfg;
static struct config_user fz_users[1];
static FILE *fz_null;

static void fz_mkdirs(void)
{
	static const char *subs[] = { "tmp", "new", "cur", "bad" };
	char p[256], idx[256];
	size_t i;
	FILE *fp;

	snprintf(fz_root, sizeof fz_root, "/tmp/zd-fuzz-cgi.XXXXXX");
	if (mkdtemp(fz_root) == NULL)
		abort();
	snprintf(fz_spool, sizeof fz_spool, "%s/spool", fz_root);
	snprintf(fz_state, sizeof fz_state, "%s/state", fz_root);
	mkdir(fz_spool, 0700);
	mkdir(fz_state, 0700);
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", fz_spool, subs[i]);
		mkdir(p, 0700);
	}
	/* a held zone, so exists and the parent walk find something */
	snprintf(idx, sizeof idx, "%s/zones.idx", fz_state);
	fp = fopen(idx, "w");
	if (fp != NULL) {
		fputs("example.net\tda1.example.net\talice\n", fp);
		fclose(fp);
	}
}

static size_t fz_clean(const char *sub);

/* at exit: leave no temp directory behind */
static void fz_remove(void)
{
	static const char *subs[] = { "tmp", "new", "cur", "bad" };
	char p[256];
	size_t i;

	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		fz_clean(subs[i]);
		snprintf(p, sizeof p, "%s/%s", fz_spool, subs[i]);
		rmdir(p);
	}
	rmdir(fz_spool);
	snprintf(p, sizeof p, "%s/zones.idx", fz_state);
	unlink(p);
	rmdir(fz_state);
	rmdir(fz_root);
}

static void fz_init(void)
{
	if (fz_null != NULL)
		return;
	log_init("fuzz_cgi", LOG_ERROR);
	fz_mkdirs();
	atexit(fz_remove);
	fz_users[0].name = "da";
	fz_users[0].password = "pw";
	fz_cfg.spool_dir = fz_spool;
	fz_cfg.state_dir = fz_state;
	fz_cfg.receiver.users = fz_users;
	fz_cfg.receiver.nusers = 1;
	fz_cfg.receiver.max_body = 65536;
	fz_cfg.receiver.parent_exists = 3;
	fz_null = fopen("/dev/null", "w");
	if (fz_null == NULL)
		abort();
}

/* remove whatever the request left in tmp/ or new/; how many there were */
static size_t fz_clean(const char *sub)
{
	size_t n = 0;
	char dir[256], path[512];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/%s", fz_spool, sub);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
		n++;
	}
	closedir(d);
	return n;
}

/* next line of data (without '\n') as a malloc'd string */
static char *fz_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct cgi_request req;
	struct http_params params = { 0 };
	struct zd_err err;
	char *f[5], user[HTTP_CRED_MAX + 1], pass[HTTP_CRED_MAX + 1], enc[512];
	uint64_t cl;
	FILE *in;
	size_t i, bodylen;
	int status;

	fz_init();
	for (i = 0; i < 5; i++)
		f[i] = fz_line(&p, end);
	bodylen = (size_t)(end - p);

	/* the parsers on their own, on the whole input */
	http_form_parse(&params, (const char *)data, size, &err);
	http_params_free(&params);
	http_basic_auth(f[3], user, sizeof user, pass, sizeof pass, &err);
	http_content_length(f[4], &cl, &err);
	http_url_encode(enc, sizeof enc, f[2]);

	memset(&req, 0, sizeof req);
	req.method = f[0];
	req.script_name = f[1];
	req.query = f[2];
	req.authorization = f[3];
	/* "-" stands for the real body length, so most inputs reach the handlers */
	if (strcmp(f[4], "-") == 0) {
		free(f[4]);
		f[4] = malloc(32);
		if (f[4] == NULL)
			abort();
		snprintf(f[4], 32, "%zu", bodylen);
	}
	req.content_length = f[4];
	req.remote_addr = "127.0.0.1";
	in = bodylen > 0 ? fmemopen((void *)p, bodylen, "r") : fopen("/dev/null", "r");
	if (in == NULL)
		abort();
	status = cgi_serve(&fz_cfg, &req, in, fz_null);
	fclose(in);
	if (status != ZD_EIO && (status < 200 || status > 599))
		__builtin_trap();
	fz_clean("new");
	/* no answer ever leaves anything in tmp/ */
	if (fz_clean("tmp") != 0)
		__builtin_trap();
	for (i = 0; i < 5; i++)
		free(f[i]);
	return 0;
}
