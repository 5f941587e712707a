/* exec.c -- run a control command (nsd-control, rndc, knotc): fork + execvp, no shell, timeout */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zonedrop/exec.h"
#include "zonedrop/util.h"

#define EXEC_OUTPUT_MAX (1024 * 1024)

int exec_split(const char *cmd, char *buf, size_t bufsz, char **argv, int maxargs, int *argc,
               struct zd_err *err)
{
	const char *p = cmd;
	size_t o = 0;
	int n = 0;

	*argc = 0;
	for (;;) {
		char quote = 0;
		int have = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n + 1 >= maxargs)
			return zd_err_set(err, ZD_EINVAL, "control command has too many words");
		argv[n] = buf + o;
		while (*p != '\0' && (quote || (*p != ' ' && *p != '\t'))) {
			char c = *p++;

			if (quote && c == quote) {
				quote = 0;
				continue;
			}
			if (!quote && (c == '"' || c == '\'')) {
				quote = c;
				have = 1;
				continue;
			}
			if (c == '\\' && quote != '\'') {
				if (*p == '\0')
					return zd_err_set(err, ZD_EINVAL, "control command ends in a backslash");
				c = *p++;
			}
			if (o + 1 >= bufsz)
				return zd_err_set(err, ZD_E2BIG, "control command too long");
			buf[o++] = c;
			have = 1;
		}
		if (quote)
			return zd_err_set(err, ZD_EINVAL, "control command has an unclosed quote");
		if (!have)
			break;
		if (o + 1 >= bufsz)
			return zd_err_set(err, ZD_E2BIG, "control command too long");
		buf[o++] = '\0';
		n++;
	}
	if (n == 0)
		return zd_err_set(err, ZD_EINVAL, "control command is empty");
	argv[n] = NULL;
	*argc = n;
	return 0;
}

static void exec_child(char **argv, int in_fd, int out_fd)
{
	const char *path = getenv("PATH");
	char newpath[ZD_PATH_MAX];

	setpgid(0, 0);
	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0)
		_exit(126);
	/* control tools live in sbin, which a web server's or a unit's PATH may lack */
	snprintf(newpath, sizeof newpath, "%s%s/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	         path ? path : "", path && *path ? ":" : "");
	setenv("PATH", newpath, 1);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* A child that exits before reading all its input makes write() raise
 * SIGPIPE, whose default action would kill the drain. Block it in this
 * thread only (a library must not change process-wide handlers), write,
 * and take a SIGPIPE this write raised off the pending set before unblocking. */
static ssize_t exec_write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old_set, pending;
	struct timespec zero = { 0, 0 };
	int was_pending, saved;
	ssize_t w;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
	w = write(fd, buf, len);
	saved = errno;
	if (w < 0 && saved == EPIPE && !was_pending) {
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	errno = saved;
	return w;
}

int exec_run(const char *control, const char *const *extra, const char *input, size_t input_len,
             int timeout_ms, struct exec_result *res, struct zd_err *err)
{
	char buf[8192];
	char *argv[EXEC_ARGV_MAX + 1];
	int argc, rc, i;
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 };
	pid_t pid;
	size_t in_off = 0, cap = 4096;
	int64_t deadline;
	int status = 0, reaped = 0;

	memset(res, 0, sizeof *res);
	res->status = -1;
	rc = exec_split(control, buf, sizeof buf, argv, EXEC_ARGV_MAX, &argc, err);
	if (rc != 0)
		return rc;
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (argc >= EXEC_ARGV_MAX)
			return zd_err_set(err, ZD_E2BIG, "too many arguments for %s", argv[0]);
		argv[argc++] = (char *)extra[i];
	}
	argv[argc] = NULL;
	res->output = malloc(cap);
	if (res->output == NULL)
		return zd_err_set(err, ZD_ENOMEM, "out of memory");
	res->output[0] = '\0';
	if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
		rc = zd_err_sys(err, ZD_EIO, "pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = zd_err_sys(err, ZD_EIO, "fork for %s", argv[0]);
		goto out;
	}
	if (pid == 0)
		exec_child(argv, in_pipe[0], out_pipe[1]);
	setpgid(pid, pid);
	close(in_pipe[0]);
	close(out_pipe[1]);
	in_pipe[0] = out_pipe[1] = -1;
	if (input == NULL || input_len == 0) {
		close(in_pipe[1]);
		in_pipe[1] = -1;
	} else {
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	}
	deadline = time_mono_ms() + timeout_ms;
	/* feed stdin and drain stdout together: either alone can deadlock on a full pipe */
	while (out_pipe[0] >= 0) {
		struct pollfd pf[2];
		int nf = 0, left = (int)(deadline - time_mono_ms());

		if (left <= 0) {
			res->timed_out = 1;
			kill(-pid, SIGKILL);
			break;
		}
		pf[nf].fd = out_pipe[0];
		pf[nf++].events = POLLIN;
		if (in_pipe[1] >= 0) {
			pf[nf].fd = in_pipe[1];
			pf[nf++].events = POLLOUT;
		}
		if (poll(pf, nf, left) < 0) {
			if (errno == EINTR)
				continue;
			rc = zd_err_sys(err, ZD_EIO, "poll");
			kill(-pid, SIGKILL);
			break;
		}
		if (nf == 2 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = exec_write_nosigpipe(in_pipe[1], input + in_off, input_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				in_off = input_len;   /* the child closed stdin: stop feeding */
			if (in_off >= input_len) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char chunk[4096];
			ssize_t r = read(out_pipe[0], chunk, sizeof chunk);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(out_pipe[0]);
				out_pipe[0] = -1;
				break;
			}
			if (res->output_len + (size_t)r < EXEC_OUTPUT_MAX) {
				if (res->output_len + (size_t)r + 1 > cap) {
					char *nb;
					while (res->output_len + (size_t)r + 1 > cap)
						cap *= 2;
					nb = realloc(res->output, cap);
					if (nb == NULL) {
						rc = zd_err_set(err, ZD_ENOMEM, "out of memory");
						kill(-pid, SIGKILL);
						break;
					}
					res->output = nb;
				}
				memcpy(res->output + res->output_len, chunk, (size_t)r);
				res->output_len += (size_t)r;
				res->output[res->output_len] = '\0';
			}
		}
	}
	/* the child may have closed its output but still run: wait with the same deadline */
	while (!reaped) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			reaped = 1;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (time_mono_ms() >= deadline) {
			res->timed_out = 1;
			kill(-pid, SIGKILL);
			if (waitpid(pid, &status, 0) == pid)
				reaped = 1;
			break;
		}
		usleep(2000);
	}
	if (reaped) {
		if (WIFEXITED(status))
			res->status = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			res->status = 128 + WTERMSIG(status);
	}
	if (res->timed_out && rc == 0)
		rc = 0;   /* it ran; the caller sees timed_out */
out:
	if (in_pipe[0] >= 0)
		close(in_pipe[0]);
	if (in_pipe[1] >= 0)
		close(in_pipe[1]);
	if (out_pipe[0] >= 0)
		close(out_pipe[0]);
	if (out_pipe[1] >= 0)
		close(out_pipe[1]);
	if (rc != 0) {
		free(res->output);
		res->output = NULL;
		res->output_len = 0;
	}
	return rc;
}

void exec_result_free(struct exec_result *res)
{
	free(res->output);
	res->output = NULL;
	res->output_len = 0;
}
