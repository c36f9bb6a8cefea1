/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "foreground.h"
#include "terminal.h"
#include "utils.h"

static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
                                SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD};

void foreground_block(struct foreground *fg)
{
	sigemptyset(&fg->forwarded);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&fg->forwarded, forwarded[i]);
	sigprocmask(SIG_BLOCK, &fg->forwarded, &fg->saved);
}

void foreground_restore(const struct foreground *fg)
{
	sigprocmask(SIG_SETMASK, &fg->saved, NULL);
}

/* A shell's convention: 128+N for a death by signal N. */
static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/*
 * Through the pidfd: once reaped, the pid may name another process, and
 * a signal read before the reap must never reach that one.
 */
static int reap_forwarding(pid_t pid, int pidfd, int sfd)
{
	int status = 0;

	for (;;) {
		struct signalfd_siginfo si;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return status;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD)
			sys_pidfd_signal(pidfd, (int)si.ssi_signo);
	}
}

int foreground_wait(const struct foreground *fg, pid_t pid, int pidfd, int pty_master,
                    int *exit_code, struct skiff_error **err)
{
	cleanup_close int sfd = signalfd(-1, &fg->forwarded, SFD_CLOEXEC);

	if (sfd < 0)
		return error_errno(err, "signalfd");
	if (pty_master >= 0) {
		struct skiff_error *ignored = NULL;
		terminal_proxy(pty_master, pidfd, sfd, &ignored);
		error_free(&ignored);
	}
	*exit_code = exit_code_of(reap_forwarding(pid, pidfd, sfd));
	return 0;
}
