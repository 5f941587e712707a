/* fuzz_secondary_list.c -- zones_file bytes into secondary_parse() (zonedrop-refresh's list) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/domain.h"
#include "zonedrop/secondary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void msg_check(const char *msg, void *arg)
{
	(void)arg;
	/* one log-safe line */
	for (; *msg != '\0'; msg++)
		if ((unsigned char)*msg < 0x20 || (unsigned char)*msg == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secondary_list l;
	size_t i, j;

	if (secondary_parse((const char *)data, size, &l, msg_check, NULL) != 0)
		return 0;
	for (i = 0; i < l.n; i++) {
		if (domain_check(l.e[i].domain, NULL) != 0 || l.e[i].port < 1 || l.e[i].port > 65535 ||
		    l.e[i].host[0] == '\0' || l.e[i].line < 1)
			abort();
		for (j = i + 1; j < l.n && j < i + 8; j++)
			if (strcmp(l.e[i].domain, l.e[j].domain) == 0)
				abort();   /* duplicates are refused */
	}
	secondary_list_free(&l);
	return 0;
}
