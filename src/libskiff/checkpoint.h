/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CHECKPOINT_H
#define SKIFF_CHECKPOINT_H

/*
 * `checkpoint` and the CRIU half of `restore`: what the container is made
 * of, told to CRIU the way runc tells it (bind mounts, masked files,
 * devices and a cgroup bind as external mounts, namespaces joined by path
 * as external namespaces, the freezer cgroup, the stdio pipes), and what
 * skiff keeps beside the images: skiff-checkpoint.json (the marker that
 * the images are skiff's, and the init's stdio) and the config.json the
 * container ran with.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "container.h"
#include "criu.h"

#define CHECKPOINT_MARK   "skiff-checkpoint.json"
#define CHECKPOINT_CONFIG "skiff-config.json"

/* Dumps a running or paused container; without --leave-running or --pre-dump it is deleted. */
int container_checkpoint(const struct skiff_context *ctx, const char *id,
                         const struct criu_options *o, struct skiff_error **err);

struct restore_options {
	struct create_options o; /* id, bundle, pid file, console socket, no-pivot */
	struct criu_options c;
	bool detach;
};

/*
 * Restores a container from images (container.c: the lifecycle around
 * it).  In the foreground it waits, deletes and sets *exit_status, as run.
 */
int container_restore(const struct skiff_context *ctx, const struct restore_options *r,
                      int *exit_status, struct skiff_error **err);

/* What container_restore hands the CRIU half. */
struct checkpoint_restore {
	const struct criu_options *c;
	const struct oci_config *config;
	const char *bundle, *rootfs;
	const char *state_dir;   /* the new container's state directory (criu-root goes there) */
	const char *cgroup_path; /* the new container's cgroup, or NULL */
	const char *cgroup_dir;  /* its cgroup2 directory on the host, or NULL */
	struct criu_restore_calls calls;
};

/* Checks image_path holds a skiff checkpoint, before anything is made. */
int checkpoint_image_check(const char *image_path, struct skiff_error **err);

/* Restores; *pid is the restored init, our child. */
int checkpoint_restore_run(const struct checkpoint_restore *rq, pid_t *pid,
                           struct skiff_error **err);

#endif
