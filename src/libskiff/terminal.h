/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_TERMINAL_H
#define SKIFF_TERMINAL_H

#include "error.h"
#include "libocispec/runtime_spec.h"

/* Connects to the caller's --console-socket (a unix stream socket). */
int terminal_connect(const char *path, int *fd, struct skiff_error **err);
/* The console-socket protocol: one message, the pty's name as data, the master as SCM_RIGHTS. */
int terminal_send_master(int sock, int master, struct skiff_error **err);
/*
 * Init, after pivot_root: makes a pty in the container's devpts, makes
 * the slave its controlling terminal, stdio and /dev/console, and returns
 * the master for the caller.
 */
int terminal_setup(const struct oci_process *p, int *master, struct skiff_error **err);
/* `exec`, in the container's mount namespace: the same without touching /dev/console. */
int terminal_setup_exec(const struct oci_process *p, int *master, struct skiff_error **err);
/*
 * `run` with a tty and no console socket: copies between the caller's
 * terminal and the master until the master hangs up.  The caller's
 * terminal is in raw mode meanwhile.  Signals read from `sig_fd` (a
 * signalfd, or -1) go to the process, SIGWINCH as a resize of the pty.
 * Returns when `pidfd` becomes readable and the master is drained.
 */
int terminal_proxy(int master, int pidfd, int sig_fd, struct skiff_error **err);

/*
 * Gives the pty the caller's terminal size, as soon as the master arrives:
 * the process may ask for it (stty size) before terminal_proxy starts.
 */
void terminal_copy_window_size(int master);

#endif
