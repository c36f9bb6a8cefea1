/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SIGNALS_H
#define SKIFF_SIGNALS_H

/*
 * "TERM", "SIGTERM", "15", "RTMIN+3" -> the number; -1 if unknown.  "0" is
 * accepted: callers (containerd, runc's users) send it to ask whether the
 * container is alive.
 */
int signal_parse(const char *s);

/*
 * Every signal that skiff's caller left ignored (nohup's SIGHUP, a shell's
 * SIGINT/SIGQUIT for background jobs) back to its default, and none blocked:
 * ignored dispositions survive execve, and a container's process (or a hook)
 * must not depend on how skiff was started.  runc's processes start so too.
 */
void signals_reset_for_exec(void);

#endif
