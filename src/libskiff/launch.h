/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_LAUNCH_H
#define SKIFF_LAUNCH_H

#include "error.h"
#include "process.h"
#include "seccomp.h"

/* What the last step of a container process (init or exec) needs. */
struct launch_seccomp {
	const struct seccomp_program *filter; /* NULL: no linux.seccomp */
	const struct process_caps *held;      /* CAP_SYS_ADMIN kept for the load */
	int listener_fd;                      /* the agent's socket, for SCMP_ACT_NOTIFY */
	const char *state_text;               /* what the agent is told */
	const char *metadata;                 /* linux.seccomp.listenerMetadata */
};

/*
 * Execs the resolved program of l: prepares the trampoline, loads the
 * seccomp filter (or leaves it to the trampoline), applies the held
 * capabilities, execs.  After the load only sendmsg (to a notify agent),
 * capset (with held caps) and the execs run (see process.h).  Returns only
 * on failure, with *err set.
 */
int launch_program(struct process_launch *l, int status_fd, const struct launch_seccomp *s,
                   struct skiff_error **err);

#endif
