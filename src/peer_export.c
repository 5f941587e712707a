/* peer_export.c -- PLACEHOLDER until its issue lands: answers 501 */
#include <stdio.h>

#include "zonedrop/cgi.h"
#include "zonedrop/util.h"

int peer_export_serve(const struct config *cfg, const struct cgi_request *req, FILE *out,
                      struct cgi_answer *a)
{
	(void)cfg;
	(void)req;
	(void)out;
	a->written = 0;
	str_copy(a->text, "not implemented yet", sizeof a->text);
	return 501;
}
