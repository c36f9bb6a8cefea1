/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "signals.h"
#include "process.h"
#include "utils.h"

/* Beyond this a deadline is "never": keeps the ms arithmetic far from overflow. */
#define HOOK_TIMEOUT_MAX_S (100LL * 365 * 24 * 3600)

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Feeds what fits of the state into the non-blocking pipe; closes it when done (or unread). */
static void feed_state(int *fd, const char **data, size_t *left)
{
	while (*left > 0) {
		ssize_t n = write(*fd, *data, *left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) /* EPIPE: the hook closed its stdin unread */
			break;
		*data += n;
		*left -= (size_t)n;
	}
	close(*fd);
	*fd = -1;
}

/*
 * Waits for pid, killing it at the deadline (-1: none), while writing the
 * state to its stdin: a hook that never reads a state larger than the pipe
 * must still time out.  Returns its wait status.
 */
static int wait_with_deadline(pid_t pid, int pidfd, long long deadline, int in, const char *state,
                              bool *timed_out)
{
	size_t left_bytes = strlen(state);
	int status;

	*timed_out = false;
	feed_state(&in, &state, &left_bytes);
	for (;;) {
		int left = -1;
		if (deadline >= 0) {
			long long d = deadline - now_ms();
			/* poll's timeout is an int: a far deadline is waited for in slices. */
			left = d < 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
		}
		struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN},
		                      {.fd = in, .events = POLLOUT}};
		int r = poll(p, in >= 0 ? 2 : 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (in >= 0 && p[1].revents)
			feed_state(&in, &state, &left_bytes);
		if (p[0].revents & POLLIN)
			break;
		if (r == 0 && deadline - now_ms() <= 0) {
			*timed_out = true;
			kill(pid, SIGKILL); /* not reaped yet: pid is still the hook */
			break;
		}
	}
	if (in >= 0)
		close(in);
	if (wait_pid(pid, &status) < 0)
		return -1;
	return status;
}

/*
 * The hook is a program of the host's admin, run as runc runs it: stdin the
 * state, stdout/stderr skiff's, and nothing else of skiff's.  Signal mask
 * and dispositions are reset: `run` blocks the signals it forwards, a hook
 * would inherit them blocked (unkillable by SIGTERM), and an ignored
 * SIGPIPE survives execve.
 */
__attribute__((noreturn)) static void exec_hook(const struct oci_hook *h, const char *which,
                                                int stdin_fd)
{
	char *const empty[] = {NULL};
	char *const fallback_args[] = {h->path, NULL};

	signals_reset_for_exec();
	if (stdin_fd == 0)
		fcntl(0, F_SETFD, 0); /* dup2 onto itself would keep O_CLOEXEC */
	else if (dup2(stdin_fd, 0) < 0)
		_exit(127);
	/* fds the caller passed skiff (--preserve-fds, LISTEN_FDS, conmon's) are not the hook's. */
	process_cloexec_fds(3, NULL, 0);
	execve(h->path, h->args ? h->args : fallback_args, h->env ? h->env : empty);
	fprintf(stderr, "skiff: %s hook `%s`: %s\n", which, h->path, strerror(errno));
	_exit(127);
}

static long long deadline_of(const struct oci_hook *h)
{
	if (!h->has_timeout || h->timeout > HOOK_TIMEOUT_MAX_S)
		return -1;
	return now_ms() + h->timeout * 1000;
}

static int run_one(const struct oci_hook *h, const char *which, const char *state,
                   struct skiff_error **err)
{
	int in[2];
	pid_t pid;
	int pidfd, status;
	bool timed_out;
	struct sigaction ignore = {.sa_handler = SIG_IGN}, saved;

	if (pipe2(in, O_CLOEXEC) < 0)
		return error_errno(err, "%s hook `%s`: pipe", which, h->path);
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return error_errno(err, "%s hook `%s`: fork", which, h->path);
	}
	if (pid == 0)
		exec_hook(h, which, in[0]);
	close(in[0]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		error_errno(err, "%s hook `%s`: pidfd_open", which, h->path);
		close(in[1]);
		kill(pid, SIGKILL);
		wait_pid(pid, NULL);
		return -1;
	}
	/* The hook may not read its stdin: EPIPE, not death by SIGPIPE; then as before. */
	sigaction(SIGPIPE, &ignore, &saved);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	status = wait_with_deadline(pid, pidfd, deadline_of(h), in[1], state, &timed_out);
	sigaction(SIGPIPE, &saved, NULL);
	close(pidfd);
	if (timed_out)
		return error_msg(err, "%s hook `%s` timed out after %lld s", which, h->path,
		                 (long long)h->timeout);
	if (status < 0)
		return error_errno(err, "%s hook `%s`: wait", which, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return error_msg(err, "%s hook `%s` exited with status %d", which, h->path,
		                 WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return error_msg(err, "%s hook `%s` was killed by signal %d", which, h->path,
		                 WTERMSIG(status));
	return 0;
}

int hooks_run(const struct oci_hook_list *list, const char *which, const char *state_json,
              struct skiff_error **err)
{
	for (size_t i = 0; list && i < list->len; i++) {
		log_debug("%s hook %zu: run `%s`", which, i, list->hooks[i].path);
		if (run_one(&list->hooks[i], which, state_json, err) < 0)
			return -1;
	}
	return 0;
}

void hooks_run_warn(const struct oci_hook_list *list, const char *which, const char *state_json)
{
	for (size_t i = 0; list && i < list->len; i++) {
		struct skiff_error *err = NULL;
		if (run_one(&list->hooks[i], which, state_json, &err) < 0) {
			cleanup_free char *text = error_text(err);
			log_warning("%s", text);
			error_free(&err);
		}
	}
}
