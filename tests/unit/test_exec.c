/* test_exec.c -- control command splitting and running */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "zonedrop/exec.h"

int main(void)
{
	char buf[256], *argv[8];
	int argc;
	struct exec_result res;
	struct zd_err err;
	const char *extra[] = { "reload", "example.com", NULL };
	static char big[300000];

	is_int(exec_split("nsd-control -c /etc/nsd/nsd.conf", buf, sizeof buf, argv, 8, &argc, &err), 0, "split");
	is_int(argc, 3, "three words");
	is_str(argv[2], "/etc/nsd/nsd.conf", "third word");
	is_int(exec_split("rndc -k \"/a b/key\" -s '127.0.0.1'", buf, sizeof buf, argv, 8, &argc, &err), 0, "quotes");
	is_str(argv[2], "/a b/key", "double quotes group");
	is_str(argv[4], "127.0.0.1", "single quotes");
	is_int(exec_split("a\\ b c", buf, sizeof buf, argv, 8, &argc, &err), 0, "backslash");
	is_str(argv[0], "a b", "escaped space");
	is_int(exec_split("  ", buf, sizeof buf, argv, 8, &argc, &err), ZD_EINVAL, "empty command");
	is_int(exec_split("a \"b", buf, sizeof buf, argv, 8, &argc, &err), ZD_EINVAL, "unclosed quote");
	is_int(exec_split("a b c d e f g h i", buf, sizeof buf, argv, 8, &argc, &err), ZD_EINVAL, "too many words");
	is_int(exec_split("a $(rm -rf /) ; b", buf, sizeof buf, argv, 8, &argc, &err), 0, "no shell meaning");
	is_str(argv[1], "$(rm", "shell syntax is just words");

	is_int(exec_run("echo", extra, NULL, 0, 5000, &res, &err), 0, "run echo");
	is_int(res.status, 0, "exit 0");
	is_str(res.output, "reload example.com\n", "output captured, extra args appended");
	exec_result_free(&res);

	is_int(exec_run("sh -c 'echo out; echo err >&2; exit 3'", NULL, NULL, 0, 5000, &res, &err), 0, "run sh");
	is_int(res.status, 3, "exit status passed through");
	ok(strstr(res.output, "out") && strstr(res.output, "err"), "stdout and stderr both captured");
	exec_result_free(&res);

	memset(big, 'x', sizeof big - 1);
	is_int(exec_run("wc -c", NULL, big, sizeof big - 1, 5000, &res, &err), 0, "large stdin fed");
	ok(res.output && atoi(res.output) == (int)sizeof big - 1, "all input arrived");
	exec_result_free(&res);

	/* the child exits without reading: no SIGPIPE may kill us */
	is_int(exec_run("true", NULL, big, sizeof big - 1, 5000, &res, &err), 0, "child ignoring stdin");
	is_int(res.status, 0, "still here after the child closed its stdin");
	exec_result_free(&res);

	is_int(exec_run("sleep 10", NULL, NULL, 0, 200, &res, &err), 0, "timeout run");
	ok(res.timed_out, "killed after the timeout");
	exec_result_free(&res);

	is_int(exec_run("/nonexistent/zd-tool", NULL, NULL, 0, 5000, &res, &err), 0, "missing tool runs the child");
	is_int(res.status, 127, "127 when it cannot execute");
	ok(strstr(res.output, "cannot execute") != NULL, "says why");
	exec_result_free(&res);
	return tap_done();
}
