/* exec.h -- run a control command (nsd-control, rndc, knotc) without a shell */
#ifndef ZONEDROP_EXEC_H
#define ZONEDROP_EXEC_H

#include <stddef.h>
#include "zonedrop/err.h"

#define EXEC_ARGV_MAX 64

/* Split a config "control:" string into words (whitespace separated,
 * double and single quotes group, backslash escapes one byte; no globbing,
 * no variables). argv points into buf; argv[*argc] = NULL. */
int exec_split(const char *cmd, char *buf, size_t bufsz, char **argv, int maxargs,
               int *argc, struct zd_err *err);

struct exec_result {
	int status;        /* exit status, or 128+signal; -1 when it could not run */
	int timed_out;     /* killed after timeout_ms */
	char *output;      /* stdout+stderr, NUL-terminated, malloc'd (caller frees) */
	size_t output_len;
};

/* Run "control" words + extra args: fork, execvp (PATH plus /usr/sbin:/sbin),
 * stdin from input (may be NULL = /dev/null), capture stdout+stderr (at most
 * 1 MiB kept), kill the process group after timeout_ms. Returns 0 when the
 * command ran (see res->status) or an error when it could not be started. */
int exec_run(const char *control, const char *const *extra, const char *input, size_t input_len,
             int timeout_ms, struct exec_result *res, struct zd_err *err);
void exec_result_free(struct exec_result *res);

#endif
