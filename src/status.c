/* status.c -- PLACEHOLDER until its issue lands: answers 501 */
#include <stdio.h>

#include "zonedrop/cgi.h"
#include "zonedrop/util.h"

int status_serve(const struct config *cfg, const struct cgi_request *req, int metrics, FILE *out,
                 struct cgi_answer *a)
{
	(void)cfg;
	(void)req;
	(void)out;
	(void)metrics;
	a->written = 0;
	str_copy(a->text, "not implemented yet", sizeof a->text);
	return 501;
}
