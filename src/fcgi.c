/* fcgi.c -- zonedrop.cgi as a FastCGI responder: libfcgi's request loop
 * around cgi_serve(), the request's streams wrapped as stdio FILEs */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zonedrop/cgi.h"
#include "zonedrop/config.h"
#include "zonedrop/fcgi.h"
#include "zonedrop/log.h"

static volatile sig_atomic_t fcgi_stop;

/* libfcgi's accept retries on EINTR unless shutdown is pending */
static void fcgi_on_signal(int sig)
{
	(void)sig;
	fcgi_stop = 1;
	FCGX_ShutdownPending();
}

int fcgi_is_fastcgi(void)
{
	return !FCGX_IsCGI();
}

/* ---- FCGX streams as FILE* (fopencookie) ---- */

static ssize_t fcgi_read(void *cookie, char *buf, size_t n)
{
	int r;

	if (n > 1 << 20)
		n = 1 << 20;
	r = FCGX_GetStr(buf, (int)n, (FCGX_Stream *)cookie);
	return r < 0 ? -1 : r;
}

static ssize_t fcgi_write(void *cookie, const char *buf, size_t n)
{
	int r;

	if (n > 1 << 20)
		n = 1 << 20;
	r = FCGX_PutStr(buf, (int)n, (FCGX_Stream *)cookie);
	if (r < 0 || (size_t)r != n) {
		errno = EIO;
		return -1;
	}
	return r;
}

static FILE *fcgi_file(FCGX_Stream *s, int writing)
{
	cookie_io_functions_t io;

	memset(&io, 0, sizeof io);
	if (writing)
		io.write = fcgi_write;
	else
		io.read = fcgi_read;
	return fopencookie(s, writing ? "w" : "r", io);
}

/* ---- the config, reloaded when its file changes ---- */

struct fcgi_conf {
	const char *path;
	struct config *cfg;
	struct stat st;
	int have_st;
};

static int fcgi_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The config to serve the next request with; NULL (logged) when it does not load. */
static const struct config *fcgi_conf_get(struct fcgi_conf *fc)
{
	struct config *cfg = NULL;
	struct zd_err err = { 0 };
	struct stat st;

	if (stat(fc->path, &st) == 0) {
		if (fc->cfg != NULL && fc->have_st && fcgi_same_file(&st, &fc->st))
			return fc->cfg;
		fc->st = st;
		fc->have_st = 1;
	} else {
		fc->have_st = 0;
	}
	if (config_load(fc->path, &cfg, &err) < 0) {
		log_error(NULL, "configuration %s: %s", fc->path, zd_err_str(&err));
		config_free(fc->cfg);
		fc->cfg = NULL;
		fc->have_st = 0;      /* try again on the next request */
		return NULL;
	}
	if (fc->cfg != NULL)
		log_info(NULL, "configuration %s reloaded", fc->path);
	config_free(fc->cfg);
	fc->cfg = cfg;
	log_set_level((enum log_level)cfg->log_level);
	return cfg;
}

/* ---- the loop ---- */

static void fcgi_one(const struct config *cfg, FCGX_Request *r)
{
	struct cgi_request req;
	FILE *in, *out;

	memset(&req, 0, sizeof req);
	req.method = FCGX_GetParam("REQUEST_METHOD", r->envp);
	req.script_name = FCGX_GetParam("SCRIPT_NAME", r->envp);
	req.path_info = FCGX_GetParam("PATH_INFO", r->envp);
	req.request_uri = FCGX_GetParam("REQUEST_URI", r->envp);
	req.query = FCGX_GetParam("QUERY_STRING", r->envp);
	req.content_length = FCGX_GetParam("CONTENT_LENGTH", r->envp);
	req.content_type = FCGX_GetParam("CONTENT_TYPE", r->envp);
	req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", r->envp);
	req.remote_addr = FCGX_GetParam("REMOTE_ADDR", r->envp);

	in = fcgi_file(r->in, 0);
	out = fcgi_file(r->out, 1);
	if (in == NULL || out == NULL) {
		static const char oom[] = "Status: 500 Internal Server Error\r\n"
		                          "Content-Type: text/plain; charset=utf-8\r\n\r\n"
		                          "error=1&text=out%20of%20memory";
		log_error(NULL, "fopencookie: %s", strerror(errno));
		FCGX_PutStr(oom, (int)sizeof oom - 1, r->out);
	} else if (cfg == NULL) {
		cgi_answer_error(out, 500, "receiver configuration error (see the server's error log)");
	} else {
		cgi_serve(cfg, &req, in, out);
	}
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
}

int fcgi_serve_loop(const char *path, unsigned long max_requests, struct zd_err *err)
{
	struct fcgi_conf fc;
	struct sigaction sa;
	FCGX_Request r;
	unsigned long n = 0;
	int rc = 0;

	memset(&fc, 0, sizeof fc);
	fc.path = path;
	if (FCGX_Init() != 0)
		return zd_err_set(err, ZD_EIO, "FastCGI: initialisation failed");
	if (FCGX_InitRequest(&r, 0, 0) != 0)
		return zd_err_set(err, ZD_EIO, "FastCGI: cannot set up a request");
	/* a stop signal ends the loop between requests, never within one:
	 * no SA_RESTART, so a blocked accept returns */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fcgi_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fcgi_conf_get(&fc);
	while (!fcgi_stop) {
		if (FCGX_Accept_r(&r) < 0) {
			if (!fcgi_stop)
				rc = zd_err_set(err, ZD_EIO, "FastCGI: accept on fd 0 failed");
			break;
		}
		fcgi_one(fcgi_conf_get(&fc), &r);
		FCGX_Finish_r(&r);
		if (max_requests > 0 && ++n >= max_requests)
			break;
	}
	FCGX_Free(&r, 1);
	config_free(fc.cfg);
	return rc;
}
