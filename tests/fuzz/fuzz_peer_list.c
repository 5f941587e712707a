/* fuzz_peer_list.c -- a peer's answers (they face the network): /internal/zones lines
 * through peer_list_line(), the whole input through peer_zone_parse() */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer_entry e;
	struct zd_err err;
	const char *p = (const char *)data, *end = p + size, *nl;
	uint64_t count;
	char *text = NULL;
	size_t tlen = 0;
	int trailer;

	/* as the list reader does: one line at a time */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (peer_list_line(p, (size_t)(nl - p), &e, &trailer, &count, &err) == 0 && !trailer) {
			/* what passes is safe to spool and to log */
			if (strchr(e.domain, '/') != NULL || strchr(e.hostname, '\n') != NULL ||
			    strchr(e.username, ' ') != NULL || (e.present && strlen(e.sha256) != 64))
				__builtin_trap();
		}
		p = nl + 1;
	}
	if (peer_zone_parse((const char *)data, size, "example.com", &e, &text, &tlen, &err) == 0) {
		if (e.present && (text == NULL || strlen(e.sha256) != 64))
			__builtin_trap();
		if (!e.present && text != NULL)
			__builtin_trap();
	}
	free(text);
	return 0;
}
