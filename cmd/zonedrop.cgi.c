/* zonedrop.cgi.c -- the receiver: DirectAdmin's pushes into the spool (runs per request) */
#include <stdio.h>

#include "zonedrop/cgi.h"
#include "zonedrop/config.h"
#include "zonedrop/log.h"

/* No argv on purpose: web servers may turn a query string into arguments
 * (RFC 3875 section 4.4); the config comes from $ZONEDROP_CONFIG or the
 * default path only. */
int main(void)
{
	struct config *cfg = NULL;
	struct zd_err err = { 0 };
	const char *path;
	int rc;

	log_init("zonedrop.cgi", LOG_INFO);
	path = config_path(NULL);
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
