/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_DEVICES_H
#define SKIFF_DEVICES_H

/*
 * /dev inside the rootfs, run by init after rootfs_prepare() and before
 * rootfs_pivot().
 *
 * When it runs: unless the config bind-mounts /dev (then the caller chose
 * a ready-made /dev and nothing is touched).  With a tmpfs (or other
 * filesystem) on /dev that is the usual empty /dev; with no /dev mount the
 * nodes go into the image's /dev, as the spec's "runtime MUST supply"
 * default devices require.
 *
 * What: the default set null zero full random urandom tty (char, 0666,
 * root), then linux.devices (which replace defaults of the same path), then
 * the symlinks fd -> /proc/self/fd, stdin/stdout/stderr ->
 * /proc/self/fd/0..2, ptmx -> pts/ptmx.  /dev/core is not created.
 * In a user namespace mknod is impossible: char and block devices are
 * bind-mounted onto an empty file instead, the defaults from the same host
 * path, linux.devices from nodes skiff made (devices_make_nodes; fifos are
 * still mknod'ed).  Every path is resolved inside the rootfs.
 */

#include <stdbool.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

/*
 * nodes: what devices_make_nodes() made (NULL: none), one fd per
 * linux.devices entry, taken over when used.
 */
int devices_setup(const struct oci_config *c, const char *rootfs, bool in_userns, int *nodes,
                  struct skiff_error **err);

/*
 * In skiff, before the clone, for a new user namespace with its mappings in
 * the config: each char/block node of linux.devices made on a private
 * detached tmpfs with its fileMode and its uid/gid (mapped to the host's
 * ids), as a detached bind; the init attaches it instead of the host's node,
 * which it could not chown without changing the host's.  *out has one fd
 * per entry (-1: none); free it like rootfs_close_bind_sources().
 */
int devices_make_nodes(const struct oci_config *c, int **out, struct skiff_error **err);

/*
 * After pivot_root, in the init: stdio that is the caller's /dev/null
 * (char 1:3) becomes the container's own /dev/null, as runc does, so no fd
 * of the container points at the host's /dev (CRIU cannot dump one that
 * does).  Nothing to do when the config binds /dev.
 */
int devices_reopen_null(const struct oci_config *c, struct skiff_error **err);

#endif
