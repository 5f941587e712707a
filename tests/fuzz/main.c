/* main.c -- replay main for the fuzz harnesses: each argument is one input (make fuzz-replay, gcc) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	struct stat sb;
	unsigned char *buf;
	size_t len;
	FILE *fp;
	int i, done = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		fp = fopen(argv[i], "rb");
		if (fp == NULL) {
			perror(argv[i]);
			return 1;
		}
		/* one byte more than the size, so an empty file still gives a valid pointer */
		buf = malloc((size_t)sb.st_size + 1);
		if (buf == NULL) {
			fclose(fp);
			return 1;
		}
		len = fread(buf, 1, (size_t)sb.st_size, fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		done++;
	}
	fprintf(stderr, "replayed %d inputs\n", done);
	return 0;
}
