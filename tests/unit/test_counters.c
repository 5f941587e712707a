/* test_counters.c -- spool_dir/counters: never created, increments in place, concurrent writers */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/counters.h"
#include "zonedrop/util.h"

#define NCHILD 8
#define NINC 250

static char dir[] = "/tmp/zd-test-counters.XXXXXX";
static char path[ZD_PATH_MAX];

static void file_set(const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

int main(void)
{
	struct counters c;
	struct zd_err err;
	struct stat sb;
	char *text = NULL, big[COUNTERS_FILE_MAX + 64];
	size_t len = 0;
	int i, rc, st, all_ok = 1;
	pid_t pid;

	if (mkdtemp(dir) == NULL)
		return 1;
	path_join(path, sizeof path, dir, COUNTERS_NAME);

	/* missing: nothing counted, nothing created */
	is_int(counters_add(dir, "accepted_rawsave", 1, &err), ZD_ENOENT, "missing file: ZD_ENOENT");
	ok(stat(path, &sb) < 0, "missing file: not created");
	is_int(counters_read(dir, &c, &err), ZD_ENOENT, "missing file: read ZD_ENOENT");

	/* an empty file, as the installer makes it */
	file_set("");
	is_int(counters_add(dir, "accepted_rawsave", 1, &err), 0, "first increment");
	is_int(counters_add(dir, "accepted_rawsave", 2, &err), 0, "second increment");
	is_int(counters_add(dir, "rejected_auth", 1, &err), 0, "another counter");
	file_read_all(path, 0, &text, &len, NULL);
	is_str(text, "accepted_rawsave 00000000000000000003\nrejected_auth 00000000000000000001\n",
	       "fixed-width lines, updated in place");
	free(text);
	text = NULL;
	is_int(counters_read(dir, &c, &err), 0, "read");
	is_int(c.n, 2, "two counters");
	is_int(counters_get(&c, "accepted_rawsave"), 3, "accepted_rawsave = 3");
	is_int(counters_get(&c, "rejected_auth"), 1, "rejected_auth = 1");
	is_int(counters_get(&c, "rejected_none"), 0, "absent counter = 0");

	/* bad names never reach the file */
	is_int(counters_add(dir, "", 1, &err), ZD_EINVAL, "empty name refused");
	is_int(counters_add(dir, "Bad-Name", 1, &err), ZD_EINVAL, "upper case and - refused");
	is_int(counters_add(dir, "a\nb", 1, &err), ZD_EINVAL, "newline refused");
	is_int(counters_add(dir, "a_name_that_is_far_too_long_for_it", 1, &err), ZD_EINVAL,
	       "over-long name refused");

	/* damage: garbage and a torn line are skipped; a missing newline at the end is mended */
	file_set("garbage line\nrejected_auth 0000000000000000000x\naccepted_rawsave 00000000000000000007");
	is_int(counters_read(dir, &c, &err), 0, "damaged file: read");
	is_int(c.n, 0, "damaged file: nothing parses (no newline after the last line)");
	is_int(counters_add(dir, "rejected_auth", 1, &err), 0, "damaged file: increment");
	is_int(counters_read(dir, &c, &err), 0, "damaged file: read again");
	is_int(counters_get(&c, "rejected_auth"), 1, "a torn counter starts again at 1");
	file_read_all(path, 0, &text, &len, NULL);
	ok(text != NULL && strstr(text, "00000000000000000007\nrejected_auth 00000000000000000001\n"),
	   "the new line starts on a line of its own");
	free(text);
	text = NULL;

	/* saturates, never wraps */
	file_set("x 18446744073709551610\n");
	is_int(counters_add(dir, "x", 100, &err), 0, "increment near the top");
	counters_read(dir, &c, &err);
	ok(counters_get(&c, "x") == UINT64_MAX, "saturates at UINT64_MAX");

	/* too large a file is not a counters file */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	file_set(big);
	is_int(counters_add(dir, "x", 1, &err), ZD_E2BIG, "oversized file refused");
	is_int(counters_read(dir, &c, &err), ZD_E2BIG, "oversized file: read refused");

	/* a directory or a symlink in its place */
	unlink(path);
	if (symlink("/etc/passwd", path) == 0) {
		is_int(counters_add(dir, "x", 1, &err), ZD_EIO, "a symlink is never followed");
		unlink(path);
	}

	/* concurrent writers: every increment counted */
	file_set("");
	for (i = 0; i < NCHILD; i++) {
		pid = fork();
		if (pid == 0) {
			int k, bad = 0;
			for (k = 0; k < NINC; k++) {
				if (counters_add(dir, k % 2 ? "accepted_rawsave" : "rejected_bad_zone", 1,
				                 NULL) != 0)
					bad = 1;
				if (k % 50 == 0 && counters_add(dir, "accepted_delete", 1, NULL) != 0)
					bad = 1;
			}
			_exit(bad);
		}
		if (pid < 0)
			all_ok = 0;
	}
	while ((pid = wait(&st)) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			all_ok = 0;
	ok(all_ok, "%d children, %d increments each, no error", NCHILD, NINC);
	rc = counters_read(dir, &c, &err);
	is_int(rc, 0, "read after the children");
	is_int(counters_get(&c, "accepted_rawsave"), NCHILD * NINC / 2, "accepted_rawsave sums up");
	is_int(counters_get(&c, "rejected_bad_zone"), NCHILD * NINC / 2, "rejected_bad_zone sums up");
	is_int(counters_get(&c, "accepted_delete"), NCHILD * (NINC / 50), "accepted_delete sums up");
	is_int(c.n, 3, "each counter on one line, however many writers raced to add it");

	unlink(path);
	rmdir(dir);
	return tap_done();
}
