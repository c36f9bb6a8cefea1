/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_EXEC_H
#define SKIFF_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "context.h"
#include "error.h"

/*
 * `exec`: runs another process in a running container.  The process is
 * the container's config process with args = COMMAND, or the runtime-spec
 * `process` object in --process FILE (containerd's and conmon's way); the
 * remaining options override fields of either.
 */
struct exec_options {
	const char *id;
	const char *process_file; /* --process */
	char **args;              /* COMMAND [ARG...]: NULL-terminated, may be empty */
	const char *console_socket;
	const char *pid_file;
	const char *cwd;
	const char *user;          /* "UID[:GID]" */
	char **env;                /* "K=V" each (NULL-terminated, may be NULL) */
	char **additional_gids;    /* decimal gids (NULL-terminated, may be NULL) */
	char **caps;               /* added to bounding, effective and permitted */
	const char *apparmor;      /* process.apparmorProfile */
	const char *process_label; /* process.selinuxLabel */
	int tty;                   /* -1: as the process says, else process.terminal */
	unsigned int preserve_fds; /* fds 3..3+N-1 reach the process */
	char **cgroups;            /* --cgroup [CONTROLLER:]PATH each (cgroup.h), may be NULL */
	bool detach, no_new_privs, ignore_paused;
};

/*
 * Starts the process.  Detached: returns once it has been exec'd (it is
 * then the caller's subreaper's child).  In the foreground: waits,
 * forwarding signals (and the terminal with --tty and no console socket),
 * and sets *exit_status to its status (128+N for a signal).
 */
int container_exec(const struct skiff_context *ctx, const struct exec_options *o, int *exit_status,
                   struct skiff_error **err);

#endif
