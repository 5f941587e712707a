/* fuzz_config.c -- YAML text into config_load_mem(); what loads must print, load again and print the same */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zonedrop/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(const char *msg, void *arg)
{
	/* a warning is one line */
	if (strchr(msg, '\n') != NULL)
		__builtin_trap();
	(*(int *)arg)++;
}

static char *print(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	if (config_print(fp, cfg) != 0)
		__builtin_trap();
	fclose(fp);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL, *again = NULL;
	struct zd_err err;
	char *out, *out2;
	int rc, n = 0;

	rc = config_load_mem("fuzz.yml", data, size, &cfg, &err);
	if (rc != 0) {
		/* every refusal is one log-safe line, "fuzz.yml:LINE:COL: ..." */
		if (cfg != NULL || rc != ZD_ECONFIG || strncmp(err.msg, "fuzz.yml:", 9) != 0 ||
		    strchr(err.msg, '\n') != NULL)
			__builtin_trap();
		return 0;
	}
	if (config_warnings(cfg, count, &n) != n)
		__builtin_trap();
	out = print(cfg);
	if (out == NULL)
		__builtin_trap();
	/* the effective config is itself a valid config that prints the same */
	rc = config_load_mem("printed.yml", out, strlen(out), &again, &err);
	if (rc != 0) {
		fprintf(stderr, "printed config does not load: %s\n%s", err.msg, out);
		__builtin_trap();
	}
	out2 = print(again);
	if (out2 == NULL || strcmp(strchr(out, '\n'), strchr(out2, '\n')) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n----\n%s", out, out2 ? out2 : "");
		__builtin_trap();
	}
	free(out2);
	free(out);
	config_free(again);
	config_free(cfg);
	return 0;
}
