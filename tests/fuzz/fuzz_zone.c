/* fuzz_zone.c -- zone text into zone_check() and zone_check_fp() (the CGI's and drain's checker) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "zonedrop/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zd_err err;
	struct zone_info info;
	FILE *fp;
	int a, b;

	a = zone_check("example.net", (const char *)data, size, &info, &err);
	if (size > 0) {
		fp = fmemopen((void *)data, size, "r");
		if (fp != NULL) {
			b = zone_check_fp("example.net", fp, NULL, &err);
			fclose(fp);
			/* both readers must agree */
			if ((a == 0) != (b == 0))
				__builtin_trap();
		}
	}
	/* every refusal is one log-safe line starting "line N: " */
	if (a == ZD_EINVAL && (strncmp(err.msg, "line ", 5) != 0 || strchr(err.msg, '\n') != NULL))
		__builtin_trap();
	return 0;
}
