/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
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
#include "utils.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for pid, killing it at the deadline (-1: none). Returns its wait status. */
static int wait_with_deadline(pid_t pid, int pidfd, long long deadline, bool *timed_out)
{
	int status;

	*timed_out = false;
	for (;;) {
		int left = -1;
		if (deadline >= 0) {
			long long d = deadline - now_ms();
			left = d < 0 ? 0 : (int)d;
		}
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int r = pidfd >= 0 ? poll(&p, 1, left) : 1;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			*timed_out = true;
			kill(pid, SIGKILL);
		}
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR)
				return -1;
		}
		return status;
	}
}

static int run_one(const struct oci_hook *h, const char *which, size_t idx, const char *state,
                   struct skiff_error **err)
{
	int in[2];
	pid_t pid;
	int pidfd, status;
	bool timed_out;
	char *const empty[] = {NULL};
	char *const fallback_args[] = {h->path, NULL};

	if (pipe2(in, O_CLOEXEC) < 0)
		return error_errno(err, "%s hook %zu: pipe", which, idx);
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return error_errno(err, "%s hook %zu: fork", which, idx);
	}
	if (pid == 0) {
		dup2(in[0], 0);
		execve(h->path, h->args ? h->args : fallback_args, h->env ? h->env : empty);
		fprintf(stderr, "skiff: %s hook `%s`: %s\n", which, h->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	/* The hook may not read its stdin: ignore EPIPE rather than die of it. */
	signal(SIGPIPE, SIG_IGN);
	write_all(in[1], state, strlen(state));
	close(in[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	status = wait_with_deadline(pid, pidfd, h->has_timeout ? now_ms() + h->timeout * 1000 : -1,
	                            &timed_out);
	if (pidfd >= 0)
		close(pidfd);
	if (timed_out)
		return error_set(err, 0, "%s hook `%s` timed out after %lld s", which, h->path,
		                 (long long)h->timeout);
	if (status < 0)
		return error_errno(err, "%s hook `%s`: wait", which, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return error_set(err, 0, "%s hook `%s` exited with status %d", which, h->path,
		                 WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return error_set(err, 0, "%s hook `%s` was killed by signal %d", which, h->path,
		                 WTERMSIG(status));
	return 0;
}

int hooks_run(const struct oci_hook_list *list, const char *which, const char *state_json,
              struct skiff_error **err)
{
	for (size_t i = 0; list && i < list->len; i++)
		if (run_one(&list->hooks[i], which, i, state_json, err) < 0)
			return -1;
	return 0;
}
