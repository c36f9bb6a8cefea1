/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_ROOTFS_H
#define SKIFF_ROOTFS_H

/*
 * The container's filesystem view, built by its init inside its own mount
 * namespace.  The caller runs, in this order:
 *
 *   parent:  mounts_validate()                      (mounts.h; nothing created yet)
 *   init:    rootfs_prepare()   propagation, rootfs bind, config mounts
 *            devices_setup()    /dev nodes and symlinks (devices.h)
 *            rootfs_seal_readonly()  read-only binds turn read-only
 *            [createContainer hooks]
 *            rootfs_pivot()     pivot_root, old root detached, cwd "/"
 *            rootfs_finalize()  maskedPaths, readonlyPaths, root.readonly,
 *                               final rootfsPropagation
 *
 * Propagation, and why the host never sees a container mount:
 * a new mount namespace starts as a copy whose mounts stay peers of the
 * host's shared mounts, so the first thing rootfs_prepare() does is turn
 * the whole tree into slaves (MS_REC|MS_SLAVE; MS_REC|MS_PRIVATE when
 * rootfsPropagation is [r]private).  From then on host mount events may
 * still flow in, but nothing flows out.  "shared"/"unbindable" (and their
 * r- forms) are applied only by rootfs_finalize(), on the container's "/"
 * after pivot_root: a slave made shared becomes "shared and slave" with a
 * new peer group of its own, so the container's mounts propagate to its
 * own peers (later bind copies, nested namespaces) and never back to the
 * host.  It cannot be done before pivot_root, which refuses a shared new
 * root; and the rootfs' parent mount stays a slave, never shared.
 * Consequence: per-mount "rshared" binds are likewise shared-and-slave;
 * mounts made in the container never appear on the host.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

enum rootfs_flags {
	/* The container has its own network namespace; without it sysfs is read-only. */
	ROOTFS_NEW_NETNS = 1 << 0,
	/* The container has its own cgroup namespace; without it cgroup mounts are binds. */
	ROOTFS_NEW_CGROUPNS = 1 << 1,
	/*
	 * The container has no mount namespace: its mounts are made in the
	 * runtime's, as runc does.  The host's propagation is left alone (runc
	 * makes "/" rslave); the rootfs bind is made private, so the container's
	 * mounts reach no peer; rootfs_pivot() then only chroots.  The mounts stay
	 * when the container is gone, as with runc.
	 */
	ROOTFS_SHARED_MNTNS = 1 << 2,
};

/*
 * In skiff, before the clone: the bind sources, opened as the runtime
 * (mount_bind_source()) when the container has a user namespace, since the
 * mapped root may not reach them (runc does the same), and idmapped binds
 * with their own mappings.  *out has one fd per config mount, -1 for the
 * others; release with rootfs_close_bind_sources.
 */
int rootfs_open_bind_sources(const struct oci_config *c, const char *bundle, bool userns, int **out,
                             struct skiff_error **err);
/*
 * In skiff, once the init's user namespace has its maps: the idmapped binds
 * that use it (no mappings of their own), which the init may not idmap
 * itself; sent to it before GO (SYNC_MOUNT_FD).  Same *out as above.
 */
int rootfs_open_idmapped_sources(const struct oci_config *c, const char *bundle, pid_t init,
                                 int **out, struct skiff_error **err);
void rootfs_close_bind_sources(int **fds, size_t n);

/*
 * `rootfs` is the absolute host path of root.path; `bundle` the absolute
 * bundle directory, against which relative bind sources are resolved (NULL:
 * the cwd); `bind_fds` what rootfs_open_bind_sources() opened (NULL: the
 * init opens bind sources itself; used fds are closed).  Must run in a
 * fresh mount namespace.
 */
int rootfs_prepare(const struct oci_config *c, const char *rootfs, const char *bundle,
                   int *bind_fds, unsigned flags, int **deferred_ro, struct skiff_error **err);
/*
 * Read-only binds are attached read-write, and *deferred_ro (-1-terminated)
 * holds their fds: later mounts and devices may need mount points inside
 * them (devpts on /dev/pts under a read-only /dev), as crun allows.  After
 * devices_setup(), rootfs_seal_readonly() makes them read-only and frees
 * the list.
 */
int rootfs_seal_readonly(int **deferred_ro, struct skiff_error **err);

/*
 * Makes `rootfs` the root: pivot_root(".", ".") then the old root detached
 * (MNT_DETACH), cwd "/".  no_pivot (ramfs/initramfs hosts, where
 * pivot_root is impossible): MS_MOVE the rootfs onto "/" and chroot; the
 * old root then stays reachable to a process with CAP_SYS_CHROOT.
 * ROOTFS_SHARED_MNTNS in flags: chroot only (the namespace is the host's).
 */
int rootfs_pivot(const char *rootfs, bool no_pivot, unsigned flags, struct skiff_error **err);

/*
 * After rootfs_pivot(): masks linux.maskedPaths (directories with an empty
 * read-only tmpfs, files with the container's /dev/null, which must be the
 * real 1:3 character device — CVE-2025-31133), makes linux.readonlyPaths
 * read-only (ro, nosuid, nodev, noexec, recursively), makes "/" read-only
 * for root.readonly, and sets rootfsPropagation on "/".  Missing paths are
 * skipped.
 */
int rootfs_finalize(const struct oci_config *c, struct skiff_error **err);

#endif
