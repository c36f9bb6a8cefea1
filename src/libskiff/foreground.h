/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_FOREGROUND_H
#define SKIFF_FOREGROUND_H

#include <signal.h>
#include <sys/types.h>

#include "error.h"

/*
 * Waiting for a foreground child: `run`'s init, `exec`'s process.
 * skiff stands in for it on the caller's side: the signals a shell or a
 * supervisor sends skiff (INT, TERM, HUP, QUIT, USR1, USR2, WINCH) go on
 * to the child, the terminal is proxied, and skiff exits with the
 * child's status.
 *
 *   foreground_block()   before the clone, so no signal arrives unseen
 *                        in between (the child unblocks its own mask);
 *   foreground_wait()    once the child runs;
 *   foreground_restore() at the end, whichever way it went.
 */
struct foreground {
	sigset_t forwarded; /* and SIGCHLD, which ends the wait */
	sigset_t saved;
};

void foreground_block(struct foreground *fg);
void foreground_restore(const struct foreground *fg);

/*
 * Proxies the terminal (pty_master >= 0) until the child hangs up, then
 * forwards signals through pidfd until `pid` is reaped.  *exit_code is
 * its exit status, or 128+N when signal N killed it.  Fails (with the
 * child untouched) only when no signalfd can be made.
 */
int foreground_wait(const struct foreground *fg, pid_t pid, int pidfd, int pty_master,
                    int *exit_code, struct skiff_error **err);

#endif
