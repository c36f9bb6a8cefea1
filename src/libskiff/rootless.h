/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_ROOTLESS_H
#define SKIFF_ROOTLESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

/*
 * Whether skiff runs without privilege over the host: an unprivileged
 * caller, or root inside a user namespace (which never holds
 * CAP_SYS_ADMIN over the host).  `option` is --rootless: true, false or
 * auto (NULL means auto).
 */
bool rootless_caller(const char *option);
/*
 * Whether skiff holds capability `cap` (linux/capability.h) where it runs.
 * Without CAP_SYS_ADMIN it may not mount: the container's init, root in
 * its new user namespace, makes the bind mounts.  Without CAP_SETGID its
 * gid map needs setgroups denied first (user_namespaces(7)).
 */
bool rootless_has_cap(int cap);
/* True when this process is in a user namespace other than the host's. */
bool rootless_in_userns(void);
/*
 * The state root when --root is not given: SKIFF_DEFAULT_ROOT for root on
 * the host, $XDG_RUNTIME_DIR/skiff for an unprivileged caller (runc's
 * rule).  NULL with an error naming XDG_RUNTIME_DIR when it is unset.
 */
const char *rootless_state_root(struct skiff_error **err);
/*
 * After cgroup_create failed with *err: 0 when a rootless caller may go on
 * without a cgroup (it may not write one and asked for no limits; device
 * rules need no cgroup, the user namespace already bounds them), else -1
 * with *err naming the limit that needs the cgroup (runc's rule).
 */
int rootless_cgroup_skip(const char *option, const struct oci_resources *r,
                         struct skiff_error **err);

/*
 * Writes pid's uid or gid map through the setuid helper `helper`
 * (newuidmap, newgidmap: shadow's, Debian package uidmap), which grants
 * the ranges /etc/subuid or /etc/subgid give the caller.  Errors name
 * `field`, the helper and its own message.
 */
int rootless_map_by_helper(const char *helper, const char *subid_file, pid_t pid,
                           const struct oci_id_mapping *m, size_t n, const char *field,
                           struct skiff_error **err);

#endif
