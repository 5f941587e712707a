/* fuzz_da_listing.c -- a DirectAdmin answer into the listing parsers (zonedrop-reconcile
 * reads it from the network): da_detect, then da_parse_json_page or da_parse_legacy */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/da_client.h"
#include "zonedrop/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int safe_line(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct da_listing l;
	struct zd_err err;
	enum da_format fmt;
	long tp, rows, ipp, cp;
	size_t nrows = 0, i;
	const char *buf = (const char *)data;
	int rc;

	memset(&l, 0, sizeof l);
	memset(&err, 0, sizeof err);
	/* the first byte picks the content type the answer claims */
	rc = da_detect(buf, size, size > 0 && data[0] == '<' ? "text/html" : "text/plain", &fmt, &err);
	if (rc == 0) {
		if (fmt == DA_FMT_JSON)
			rc = da_parse_json_page(buf, size, &l, &tp, &rows, &ipp, &cp, &nrows, &err);
		else
			rc = da_parse_legacy(buf, size, &l, &err);
	}
	if (rc != 0) {
		/* a refusal is a one-line, log-safe reason */
		if (err.msg[0] == '\0' || !safe_line(err.msg))
			__builtin_trap();
	} else {
		if (fmt == DA_FMT_JSON && (tp < 1 || nrows > l.rows))
			__builtin_trap();
		da_listing_finish(&l);
		/* every name kept is one zonedrop could hold, sorted, unique, and found */
		for (i = 0; i < l.n; i++) {
			if (domain_check(l.domains[i], NULL) != 0)
				__builtin_trap();
			if (i > 0 && strcmp(l.domains[i - 1], l.domains[i]) >= 0)
				__builtin_trap();
			if (!da_listing_has(&l, l.domains[i]))
				__builtin_trap();
		}
		if (l.n + l.invalid > l.rows)
			__builtin_trap();
	}
	da_listing_free(&l);
	return 0;
}
