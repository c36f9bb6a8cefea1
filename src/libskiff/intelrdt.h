/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_INTELRDT_H
#define SKIFF_INTELRDT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "status.h"
#include "libocispec/runtime_spec.h"

/*
 * linux.intelRdt (config-linux.md, spec 1.3.0) on the resctrl filesystem
 * at /sys/fs/resctrl: the container's processes join a CTRL_MON group
 * (closID, "/" for the root group, or one named after the container), whose
 * schemata get l3CacheSchema, memBwSchema and the `schemata` lines, and with
 * enableMonitoring a MON group mon_groups/<id> of their own.  What skiff
 * made is recorded in the state and removed by delete; a group named by
 * closID that existed before is never removed.
 */
#define RESCTRL_MOUNT "/sys/fs/resctrl"

/* Before anything exists: the fields, and resctrl mounted. */
int intelrdt_validate(const struct oci_intel_rdt *r, struct skiff_error **err);
/*
 * Parent, with the init cloned but not released: places pid, filling
 * st->rdt_* with what it made (so a failure is undone by intelrdt_remove).
 */
int intelrdt_setup(const struct oci_intel_rdt *r, const char *id, pid_t pid,
                   struct container_status *st, struct skiff_error **err);
/* exec: the calling process joins the container's group; its children inherit it. */
int intelrdt_join_self(const struct container_status *st, struct skiff_error **err);
/* delete (and a failed create): removes the groups skiff made. */
void intelrdt_remove(const struct container_status *st);
/*
 * Whether each "RES:id=value;..." entry of `want` has the same value in
 * `file` (the schemata file as the kernel prints it: padded, leading zeros).
 */
bool intelrdt_schema_matches(const char *want, const char *file);

#endif
