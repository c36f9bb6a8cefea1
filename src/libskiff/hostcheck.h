/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_HOSTCHECK_H
#define SKIFF_HOSTCHECK_H

/*
 * `skiff check`: what this host gives skiff, feature by feature, and why a
 * feature does not work.  Every probe only reads: files under /proc and
 * /sys, syscalls called so that they fail before doing anything, and
 * throwaway children (a user namespace, a detached mount) that vanish
 * with them.  Nothing on the host is created or changed.
 */

#include <stdbool.h>
#include <stddef.h>

enum hostcheck_status {
	HOSTCHECK_OK,          /* works */
	HOSTCHECK_LIMITED,     /* works in part; the advice says which part */
	HOSTCHECK_UNAVAILABLE, /* does not work here; containers that need it fail */
	HOSTCHECK_FATAL,       /* skiff cannot run at all */
};

struct hostcheck_row {
	char *name; /* stable key for tools: "cgroup", "user-namespaces", ... */
	enum hostcheck_status status;
	char *detail;  /* what was found, one sentence */
	char **advice; /* NULL-terminated: consequences and what to do */
};

struct hostcheck_report {
	struct hostcheck_row *rows;
	size_t n;
};

/*
 * Probes the host; state_root is the --root skiff would use, or NULL with
 * no_root saying why there is none (an unprivileged caller without
 * XDG_RUNTIME_DIR).
 */
void hostcheck_run(const char *state_root, const char *no_root, struct hostcheck_report *r);
void hostcheck_report_free(struct hostcheck_report *r);
/* False when a row is HOSTCHECK_FATAL. */
bool hostcheck_runnable(const struct hostcheck_report *r);
/* "ok", "limited", "no", "FATAL". */
const char *hostcheck_status_name(enum hostcheck_status s);

#endif
