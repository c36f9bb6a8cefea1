/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SYNC_H
#define SKIFF_SYNC_H

#include <stdint.h>
#include "error.h"

/*
 * The create protocol between skiff (parent) and the container's init
 * (child), over a SOCK_SEQPACKET socketpair; one message per packet:
 *
 *   parent                              child (init)
 *   clone3 ──────────────────────────▶ waits for GO
 *   writes uid/gid maps (user ns)
 *   MOUNT_FD (0..n: an idmapped bind
 *   on the init's user namespace;
 *   errnum is its mounts[] index) ──▶ kept for its entry
 *   GO ─────────────────────────────▶ joins/makes namespaces, mounts
 *                        ◀──────────── RUNTIME_HOOKS (mounts done)
 *   moves linux.netDevices in,
 *   runs prestart + createRuntime
 *   HOOKS_DONE (the state) ─────────▶ createContainer hooks, pivot_root,
 *                                      terminal, process attributes
 *                        ◀──────────── PTY (master fd; `run` with a tty)
 *                        ◀──────────── READY, then blocks on exec.fifo
 *   writes state, exits
 *
 * Without prestart or createRuntime hooks and netDevices
 * (create_plan_has_runtime_step) the parent has nothing to do there: GO
 * carries the state, and RUNTIME_HOOKS and HOOKS_DONE are not sent.
 *
 * At any point the child may send ERROR (message + errno) and exit; the
 * parent then tears everything down and reports the message.
 */
enum sync_type {
	SYNC_GO = 1,
	SYNC_RUNTIME_HOOKS,
	SYNC_HOOKS_DONE,
	SYNC_PTY,
	SYNC_READY,
	SYNC_ERROR,
	SYNC_MOUNT_FD,
	SYNC_PROCESS, /* rootless exec: the process's pid (errnum) and pidfd (exec.c) */
};

int sync_send(int sock, enum sync_type type, int errnum, const char *text, int pass_fd);
/* Receives one message; *text and *fd (-1 if none) are optional. EOF gives type 0. */
int sync_recv(int sock, enum sync_type *type, int *errnum, char **text, int *fd,
              struct skiff_error **err);
/* Receives and checks that the message is `want`; an ERROR becomes *err. */
int sync_expect(int sock, enum sync_type want, int *fd, struct skiff_error **err);
/* Child side: reports err to the parent. */
void sync_send_error(int sock, const struct skiff_error *err);

#endif
