/* test_util.c -- crash-safe writes, durations, numbers, escaping, constant-time compare */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "zonedrop/util.h"

int main(void)
{
	char dir[] = "/tmp/zd-test-util.XXXXXX", path[ZD_PATH_MAX], out[64], *buf;
	size_t len;
	int64_t ms;
	uint64_t u;
	struct zd_err err;
	struct stat sb;
	struct file_atomic fa;

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	is_int(path_join(path, sizeof path, dir, "a.zone"), 0, "path_join fits");
	is_int(path_join(out, 8, "/long/dir", "name"), ZD_ENAMETOOLONG, "path_join truncation is an error");

	is_int(file_write_atomic(path, "hello\n", 6, 0640, &err), 0, "atomic write");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640, "mode 0640 applied");
	is_int(file_read_all(path, 0, &buf, &len, &err), 0, "read back");
	ok(len == 6 && strcmp(buf, "hello\n") == 0, "content intact");
	free(buf);
	is_int(file_read_all(path, 3, &buf, &len, &err), ZD_E2BIG, "max size enforced");
	is_int(file_write_atomic(path, "", 0, 0644, &err), 0, "empty write replaces");
	is_int(file_read_all(path, 0, &buf, &len, &err), 0, "read empty");
	ok(len == 0 && buf[0] == '\0', "empty content");
	free(buf);
	is_int(file_read_all("/nonexistent/zd", 0, &buf, &len, &err), ZD_ENOENT, "missing file is ENOENT");

	is_int(file_atomic_open(&fa, path, 0600, &err), 0, "streamed open");
	fputs("streamed", fa.fp);
	file_atomic_abort(&fa);
	is_int(file_read_all(path, 0, &buf, &len, &err), 0, "abort leaves the old file");
	ok(len == 0, "old content kept after abort");
	free(buf);
	ok(access(fa.tmp, F_OK) != 0, "temp file removed after abort");
	is_int(file_write_atomic("/nonexistent/dir/x", "x", 1, 0644, &err), ZD_EIO, "write into a missing dir fails");

	snprintf(path, sizeof path, "%s/x/y/z", dir);
	is_int(mkdir_p(path, 0755, &err), 0, "mkdir_p");
	ok(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode), "mkdir_p made it");
	is_int(mkdir_p(path, 0755, &err), 0, "mkdir_p again is fine");

	is_int(parse_duration_ms("30s", &ms), 0, "30s"); is_int(ms, 30000, "30s = 30000 ms");
	is_int(parse_duration_ms("2m", &ms), 0, "2m"); is_int(ms, 120000, "2m");
	is_int(parse_duration_ms("1d", &ms), 0, "1d"); is_int(ms, 86400000, "1d");
	is_int(parse_duration_ms("1500ms", &ms), 0, "ms"); is_int(ms, 1500, "1500ms");
	is_int(parse_duration_ms("7", &ms), 0, "bare"); is_int(ms, 7000, "bare number is seconds");
	is_int(parse_duration_ms("", &ms), ZD_EINVAL, "empty duration");
	is_int(parse_duration_ms("-1s", &ms), ZD_EINVAL, "negative duration");
	is_int(parse_duration_ms("5x", &ms), ZD_EINVAL, "unknown unit");
	is_int(parse_duration_ms("99999999999999999999s", &ms), ZD_EINVAL, "overflow");

	is_int(parse_u64("42", 100, &u), 0, "u64"); is_int(u, 42, "42");
	is_int(parse_u64("101", 100, &u), ZD_EINVAL, "over max");
	is_int(parse_u64("12abc", 1000, &u), ZD_EINVAL, "trailing garbage");
	is_int(parse_u64(" 1", 1000, &u), ZD_EINVAL, "leading space");
	is_int(parse_u64("-1", 1000, &u), ZD_EINVAL, "negative");

	is_str(str_safe(out, sizeof out, "a\nb\\c\x01", 6), "a\\x0ab\\x5cc\\x01", "escaping");
	is_str(str_safe(out, 8, "abcdefghijkl", 12), "abcd...", "truncation marked");
	ok(str_ct_equal("abc", 3, "abc", 3), "ct equal");
	ok(!str_ct_equal("abc", 3, "abd", 3), "ct differ");
	ok(!str_ct_equal("abc", 3, "ab", 2), "ct prefix differs");
	ok(!str_ct_equal("", 0, "a", 1), "ct empty vs one");

	time_iso(out, sizeof out, 1732323723, 456789);
	is_str(out, "2024-11-23T01:02:03.456789Z", "iso time");
	is_int(time_iso_parse(out), 1732323723, "iso parse");
	is_int(time_iso_parse("2024-11-23T01:02:03Z"), 1732323723, "iso parse without fraction");
	is_int(time_iso_parse("2024-11-23 01:02:03"), -1, "iso parse refuses other forms");

	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return tap_done();
}
