/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SIGNALS_H
#define SKIFF_SIGNALS_H

/*
 * "TERM", "SIGTERM", "15", "RTMIN+3" -> the number; -1 if unknown.  "0" is
 * accepted: callers (containerd, runc's users) send it to ask whether the
 * container is alive.
 */
int signal_parse(const char *s);

#endif
