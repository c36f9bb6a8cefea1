/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The last step of every container process, shared by create's init and exec. */
#include <config.h>
#include <stdlib.h>

#include "launch.h"
#include "seccomp_notify.h"
#include "utils.h"

/*
 * Loads the filter; with a listener, hands it to the agent with msg.  Both
 * fds are close-on-exec: closing them would be one more syscall under the filter.
 */
static int load_filter(const struct launch_seccomp *s, const char *msg, struct skiff_error **err)
{
	int notify_fd = -1;

	if (seccomp_program_load(s->filter, &notify_fd, err) < 0)
		return -1;
	if (notify_fd >= 0 && seccomp_notify_send(s->listener_fd, notify_fd, msg, err) < 0)
		return -1;
	return 0;
}

int launch_program(struct process_launch *l, int status_fd, const struct launch_seccomp *s,
                   struct skiff_error **err)
{
	/* Freed only on failure: execve drops it (free(3) might munmap under the filter). */
	cleanup_free char *msg = NULL;

	if (process_launch_prepare(l, status_fd, s->filter, err) < 0)
		return -1;
	if (s->filter && !process_launch_loads_filter(l)) {
		if (s->filter->needs_notify) {
			msg = seccomp_notify_message(s->state_text, s->metadata, err);
			if (msg == NULL)
				return -1;
		}
		if (load_filter(s, msg, err) < 0)
			return -1;
	}
	if (s->held && process_release_admin(s->held, err) < 0)
		return -1;
	return process_launch_exec(l, s->filter, err);
}
