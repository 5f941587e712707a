/* zonedrop.cgi.c -- the receiver: DirectAdmin's pushes into the spool, one
 * process per request (CGI) or many requests per process (FastCGI) */
#include <stdio.h>
#include <stdlib.h>

#include "zonedrop/cgi.h"
#include "zonedrop/config.h"
#include "zonedrop/fcgi.h"
#include "zonedrop/log.h"
#include "zonedrop/util.h"

/* No argv on purpose: web servers may turn a query string into arguments
 * (RFC 3875 section 4.4); the config comes from $ZONEDROP_CONFIG or the
 * default path only. Under FastCGI, $ZONEDROP_FCGI_MAX_REQUESTS (optional)
 * makes the process end after that many requests. */
int main(void)
{
	struct config *cfg = NULL;
	struct zd_err err = { 0 };
	const char *path, *max;
	uint64_t maxreq = 0;
	int rc;

	log_init("zonedrop.cgi", LOG_INFO);
	path = config_path(NULL);
	if (fcgi_is_fastcgi()) {
		max = getenv("ZONEDROP_FCGI_MAX_REQUESTS");
		if (max != NULL && max[0] != '\0' && parse_u64(max, 1000000000, &maxreq) != 0) {
			log_error(NULL, "ZONEDROP_FCGI_MAX_REQUESTS=%s: not a number", max);
			return 2;
		}
		if (fcgi_serve_loop(path, (unsigned long)maxreq, &err) != 0) {
			log_error(NULL, "%s", zd_err_str(&err));
			return 1;
		}
		return 0;
	}
	if (config_load(path, &cfg, &err) < 0) {
		log_error(NULL, "configuration %s: %s", path, zd_err_str(&err));
		cgi_answer_error(stdout, 500, "receiver configuration error (see the server's error log)");
		return 0;
	}
	log_set_level((enum log_level)cfg->log_level);
	rc = cgi_handle(cfg, stdin, stdout);
	config_free(cfg);
	return rc < 0 ? 1 : 0;
}
