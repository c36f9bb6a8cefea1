/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_MOUNTS_H
#define SKIFF_MOUNTS_H

/*
 * The config's `mounts`: the option table, the checks the parent runs
 * before anything is created, and the mounting of one entry inside the
 * rootfs.  Every destination is resolved inside the rootfs with
 * openat2(RESOLVE_IN_ROOT) and every mount is attached through file
 * descriptors (open_tree/fsmount + move_mount), so a symlink in the image,
 * or one swapped in during setup (CVE-2021-30465), can never redirect a
 * mount onto the host.
 *
 * The rootfs steps (rootfs.h) and /dev (devices.h) build on this file.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

/*
 * Pure checks, run by the parent before anything exists: absolute mount
 * destinations, options (a name that is no mount flag is filesystem data
 * such as "mode=755", passed to the filesystem, ignored on a bind mount as
 * mount(2) ignores it), linux.rootfsPropagation, linux.devices types and numbers,
 * absolute maskedPaths and readonlyPaths.
 */
int mounts_validate(const struct oci_config *c, struct skiff_error **err);

/* ---- shared with rootfs.c and devices.c ---- */

/* One mount entry with its options decoded. */
struct mount_spec {
	bool bind, rbind, remount;
	bool idmap, ridmap;
	unsigned long sb_flags;      /* MS_SYNCHRONOUS, MS_DIRSYNC, MS_MANDLOCK, MS_LAZYTIME, ... */
	bool sb_rdonly;              /* "ro" on a new superblock */
	uint64_t attr_set, attr_clr; /* MOUNT_ATTR_* on the top mount */
	uint64_t rattr_set, rattr_clr; /* MOUNT_ATTR_* on the whole tree ("rro", ...) */
	unsigned long propagation;     /* MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE, or 0 */
	bool propagation_rec;
	char *data; /* options left for the filesystem, comma-joined; NULL when none */
};

/* Decodes m->options; `field` names it in errors ("mounts[3]"). Free with mount_spec_free(). */
int mount_spec_parse(const struct oci_mount *m, const char *field, struct mount_spec *out,
                     struct skiff_error **err);
void mount_spec_free(struct mount_spec *s);

/* rootfsPropagation → MS_* (with MS_REC for the r- forms); 0 when NULL, -1 when unknown. */
long mounts_propagation_flags(const char *value);

/* Lexically cleans an absolute path: "//a/./b/../c/" → "/a/c"; ".." stops at "/". */
char *path_clean(const char *path);

/*
 * Opens `path` (absolute or relative, always taken inside the root) below
 * `rootfd` with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), as O_PATH.
 * Returns the fd or -errno; never sets an error (callers decide whether
 * ENOENT matters).
 */
#define IN_ROOT_NO_SYMLINKS 0x1 /* refuse any symlink on the way (proc, sysfs) */
#define IN_ROOT_NOFOLLOW    0x2 /* do not follow a symlink in the last component */
int open_in_root(int rootfd, const char *path, int flags);

/*
 * Like open_in_root(), but creates what is missing: directories for every
 * component, and the last one as a directory or (make_file) an empty
 * regular file.  Each component is created with mkdirat/openat relative to
 * an fd that was itself resolved inside the root.  `what` prefixes errors.
 */
int mkpath_in_root(int rootfd, const char *path, bool make_file, int flags, const char *what,
                   struct skiff_error **err);

/*
 * Mounts config entry `m` (already parsed into `s`) onto the rootfs:
 * rootfd is the rootfs mount, `bundle` resolves relative bind sources
 * (NULL: the cwd), `sysfs_ro` forces sysfs read-only (shared netns).
 * `field` names the entry in errors.
 */
enum mount_entry_flags {
	MOUNT_SYSFS_RO = 1 << 0,      /* the container shares the host's network namespace */
	MOUNT_HOST_CGROUPNS = 1 << 1, /* the container shares the host's cgroup namespace */
};
/*
 * src_tree: the bind source from mount_bind_source() (taken over), or -1 to
 * open it here.  attached (NULL: not wanted) receives an fd of the new mount.
 */
int mount_entry(int rootfd, const struct oci_mount *m, const struct mount_spec *s,
                const char *bundle, int src_tree, unsigned int flags, int *attached,
                struct skiff_error **err);

/*
 * A bind entry's source, cloned detached (open_tree) with its attributes
 * and idmap set, in the caller's context: skiff opens them before the init
 * enters a user namespace, in which the mapped root may not reach a source
 * the host's root can, nor idmap a mount of the host's filesystems (and
 * whose /proc would name the idmap helper by the wrong pid).  Its
 * propagation is set to `propagation` (MS_SLAVE or MS_PRIVATE), as the
 * init's rslave/rprivate would have made it.
 */
int mount_bind_source(const struct oci_mount *m, const struct mount_spec *s, const char *bundle,
                      unsigned long propagation, pid_t init, struct skiff_error **err);
/*
 * Who makes entry m: the init, or skiff with mount_bind_source() before the
 * clone, or after it (an idmap on the container's own user namespace:
 * `init` then names the init).  userns: the container has one.
 */
enum bind_maker {
	BIND_BY_INIT,
	BIND_BY_RUNTIME,
	BIND_BY_RUNTIME_AFTER_CLONE,
};
enum bind_maker mount_bind_maker(const struct oci_mount *m, const struct mount_spec *s,
                                 bool userns);

/* Applies attributes/propagation to the mount that fd is the root of. */
int mount_set_attr(int fd, bool recursive, uint64_t set, uint64_t clr, unsigned long propagation);

/* Every option name skiff applies, NULL-terminated (for `features`). */
const char *const *mount_option_names(void);

#endif
