/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CONTAINER_OPS_H
#define SKIFF_CONTAINER_OPS_H

/*
 * Operations on a container's cgroup while it lives: pause/resume
 * (cgroup.freeze), update (resource files), ps (cgroup.procs) and events
 * (counters and OOM kills).  The lifecycle itself is in container.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "context.h"
#include "error.h"
#include "libocispec/runtime_spec.h"

struct opened;
struct cgroup_manager;
/* The container's cgroup in *m; a clear message when it was made without one. */
int container_need_cgroup(const struct opened *c, const char *what, struct cgroup_manager *m,
                          struct skiff_error **err);
int container_pause(const struct skiff_context *ctx, const char *id, struct skiff_error **err);
int container_resume(const struct skiff_context *ctx, const char *id, struct skiff_error **err);

/*
 * Writes r to the container's cgroup (created, running or paused) and
 * records it in the saved config.  Every controller r needs is checked
 * first, so a refused update changes nothing.
 */
int container_update(const struct skiff_context *ctx, const char *id, const struct oci_resources *r,
                     struct skiff_error **err);

/* Host pids of every process in the container (its init alone without a cgroup). */
int container_pids(const struct skiff_context *ctx, const char *id, pid_t **pids, size_t *n,
                   struct skiff_error **err);

struct events_options {
	bool stats_only;  /* one stats record, then return */
	long interval_ms; /* between stats records in the stream */
};

/*
 * Prints runc-shaped event records, one JSON object a line, on stdout:
 * {"type":"stats",...} every interval and {"type":"oom",...} when the
 * kernel OOM-kills in the container; returns 0 once the container stops.
 */
int container_events(const struct skiff_context *ctx, const char *id,
                     const struct events_options *o, struct skiff_error **err);

#endif
