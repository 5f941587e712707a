/* fuzz_spool.c -- spool item bytes into spool_item_parse() (the drain's reader of new/) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/spool.h"

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
	struct spool_item item, again;
	struct zd_err err;
	char hdr[SPOOL_HEADER_MAX + 1], *buf, name[SPOOL_NAME_MAX + 1];
	size_t hlen = 0, n;
	int rc;

	memset(&err, 0, sizeof err);
	rc = spool_item_parse((const char *)data, size, &item, &err);
	if (rc != 0) {
		/* a refusal leaves nothing owned and a one-line, log-safe reason */
		if (item.text != NULL || err.msg[0] == '\0' || !safe_line(err.msg))
			__builtin_trap();
	} else {
		/* an accepted item formats back into a header that parses to the same item */
		if (item.action == SPOOL_RAWSAVE && (item.text == NULL || item.text_len == 0))
			__builtin_trap();
		if (spool_header_format(&item, hdr, sizeof hdr, &hlen) != 0)
			__builtin_trap();
		buf = malloc(hlen + item.text_len + 1);
		if (buf != NULL) {
			memcpy(buf, hdr, hlen);
			if (item.text_len > 0)
				memcpy(buf + hlen, item.text, item.text_len);
			if (spool_item_parse(buf, hlen + item.text_len, &again, &err) != 0)
				__builtin_trap();
			if (again.action != item.action || strcmp(again.domain, item.domain) != 0 ||
			    strcmp(again.hostname, item.hostname) != 0 ||
			    strcmp(again.username, item.username) != 0 ||
			    strcmp(again.source, item.source) != 0 ||
			    strcmp(again.client_ip, item.client_ip) != 0 ||
			    strcmp(again.received, item.received) != 0 ||
			    strcmp(again.changed, item.changed) != 0 || again.text_len != item.text_len ||
			    (item.text_len > 0 && memcmp(again.text, item.text, item.text_len) != 0))
				__builtin_trap();
			spool_item_clear(&again);
			free(buf);
		}
		spool_item_clear(&item);
	}
	/* the same bytes as a file name: parsing must not read past the string */
	n = size < SPOOL_NAME_MAX ? size : SPOOL_NAME_MAX;
	memcpy(name, data, n);
	name[n] = '\0';
	(void)spool_name_parse(name, NULL, NULL, NULL, NULL);
	return 0;
}
