/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CONTEXT_H
#define SKIFF_CONTEXT_H

#include <stdbool.h>

/* The global options every subcommand sees (runc's, plus crun's --cgroup-manager). */
struct skiff_context {
	const char *root;       /* state root, default /run/skiff */
	const char *log;        /* --log FILE */
	const char *log_format; /* text | json */
	bool debug;
	bool systemd_cgroup;
	const char *rootless;       /* true | false | auto */
	const char *cgroup_manager; /* cgroupfs | disabled */
	/*
	 * The exit status for skiff's own failures: 1, but 255 once exec has
	 * parsed its options, as runc, so a caller can tell a failed exec from a
	 * process that exited 1.
	 */
	int failure_status;
};

#define SKIFF_DEFAULT_ROOT "/run/skiff"

#endif
