/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SECCOMP_NOTIFY_H
#define SKIFF_SECCOMP_NOTIFY_H

/*
 * linux.seccomp.listenerPath: handing the SCMP_ACT_NOTIFY listener to the
 * caller's seccomp agent.
 *
 * The agent's unix socket lives on the host, so skiff connects to it in the
 * parent, before the clone (like --console-socket): the path is resolved in
 * the host's mount namespace, and a missing agent fails `create` before
 * anything runs.  The init inherits the connected socket and, right after
 * loading the filter, sends one message on it: the container process state
 * of the runtime-spec as data, the listener as SCM_RIGHTS.
 *
 *   {"ociVersion": "...", "fds": ["seccompFd"], "pid": <init pid on the host>,
 *    "metadata": "<listenerMetadata>", "state": {<the state JSON>}}
 *
 * metadata is left out when listenerMetadata is unset.
 */

#include "error.h"
#include "libocispec/runtime_spec.h"

/* Parent: connects to s->listener_path (SOCK_STREAM); *fd is close-on-exec. */
int seccomp_notify_connect(const struct oci_seccomp *s, int *fd, struct skiff_error **err);

/*
 * The message above, malloc'd.  `state` is the state JSON (an object) whose
 * "pid" becomes the top-level pid.  NULL with *err when state is not a state.
 */
char *seccomp_notify_message(const char *state, const char *metadata, struct skiff_error **err);

/*
 * Init: sends msg (seccomp_notify_message's, built before the filter was
 * loaded) with notify_fd attached: one sendmsg(2), nothing else.
 */
int seccomp_notify_send(int sock, int notify_fd, const char *msg, struct skiff_error **err);

#endif
