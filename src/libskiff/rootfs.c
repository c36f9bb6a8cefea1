/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rootfs: propagation, the config mounts, pivot_root, masked and read-only paths. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mounts.h"
#include "rootfs.h"
#include "utils.h"

static const char *propagation_of(const struct oci_config *c)
{
	return c->linux_ ? c->linux_->rootfs_propagation : NULL;
}

/* How the container's tree is cut from the host's: rprivate when asked, else rslave. */
static unsigned long isolation_mode(const struct oci_config *c)
{
	long p = mounts_propagation_flags(propagation_of(c));

	return p > 0 && (p & MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE;
}

/* Cuts every propagation path to the host before the first mount (see rootfs.h). */
static int isolate_propagation(const struct oci_config *c, struct skiff_error **err)
{
	long p = mounts_propagation_flags(propagation_of(c));
	unsigned long mode = isolation_mode(c);

	if (p < 0)
		return error_msg(err, "linux.rootfsPropagation: unknown value \"%s\"",
		                 propagation_of(c));
	if (mount(NULL, "/", NULL, MS_REC | mode, NULL) < 0)
		return error_errno(err, "make / %s", mode == MS_PRIVATE ? "rprivate" : "rslave");
	return 0;
}

/*
 * A read-only bind turns read-only only once every config mount is made:
 * a later entry below it (devpts on /dev/pts under a read-only /dev bind)
 * needs its mount point created first, as crun does.  *deferred says so.
 */
static int parse_entry(const struct oci_config *c, size_t i, struct mount_spec *s, bool *deferred,
                       struct skiff_error **err)
{
	char field[32];

	snprintf(field, sizeof(field), "mounts[%zu]", i);
	if (mount_spec_parse(&c->mounts[i], field, s, err) < 0)
		return -1;
	*deferred = s->bind && !s->remount && (s->attr_set & MOUNT_ATTR_RDONLY);
	if (*deferred)
		s->attr_set &= ~(uint64_t)MOUNT_ATTR_RDONLY;
	return 0;
}

static int open_sources(const struct oci_config *c, const char *bundle, bool userns,
                        enum bind_maker which, pid_t init, int **out, struct skiff_error **err)
{
	int *fds = xcalloc(c->mounts_len + 1, sizeof(int));

	for (size_t i = 0; i < c->mounts_len; i++)
		fds[i] = -1;
	*out = fds;
	for (size_t i = 0; i < c->mounts_len; i++) {
		const struct oci_mount *m = &c->mounts[i];
		struct mount_spec s;
		bool deferred, here;

		if (parse_entry(c, i, &s, &deferred, err) < 0)
			return -1;
		here = mount_bind_maker(m, &s, userns) == which;
		if (here)
			fds[i] = mount_bind_source(m, &s, bundle, isolation_mode(c), init, err);
		mount_spec_free(&s);
		if (here && fds[i] < 0)
			return -1;
	}
	return 0;
}

int rootfs_open_bind_sources(const struct oci_config *c, const char *bundle, bool userns, int **out,
                             struct skiff_error **err)
{
	return open_sources(c, bundle, userns, BIND_BY_RUNTIME, 0, out, err);
}

int rootfs_open_idmapped_sources(const struct oci_config *c, const char *bundle, pid_t init,
                                 int **out, struct skiff_error **err)
{
	return open_sources(c, bundle, true, BIND_BY_RUNTIME_AFTER_CLONE, init, out, err);
}

void rootfs_close_bind_sources(int **fds, size_t n)
{
	for (size_t i = 0; *fds && i < n; i++)
		if ((*fds)[i] >= 0)
			close((*fds)[i]);
	free(*fds);
	*fds = NULL;
}

static int mount_config_entries(const struct oci_config *c, int rootfd, const char *bundle,
                                int *bind_fds, unsigned flags, int *ro, struct skiff_error **err)
{
	size_t n_ro = 0;
	int r = 0;

	for (size_t i = 0; i < c->mounts_len && r == 0; i++) {
		const struct oci_mount *m = &c->mounts[i];
		struct mount_spec s;
		bool deferred;

		if (parse_entry(c, i, &s, &deferred, err) < 0) {
			r = -1;
			break;
		}
		r = mount_entry(rootfd, m, &s, bundle, bind_fds ? steal_fd(&bind_fds[i]) : -1,
		                (flags & ROOTFS_NEW_NETNS ? 0 : MOUNT_SYSFS_RO) |
		                    (flags & ROOTFS_NEW_CGROUPNS ? 0 : MOUNT_HOST_CGROUPNS),
		                deferred ? &ro[n_ro] : NULL, err);
		if (r == 0 && deferred)
			n_ro++;
		mount_spec_free(&s);
	}
	ro[n_ro] = -1;
	return r;
}

int rootfs_seal_readonly(int **ro, struct skiff_error **err)
{
	int r = 0;

	for (size_t i = 0; *ro && (*ro)[i] >= 0; i++) {
		if (r == 0 && mount_set_attr((*ro)[i], false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
			r = error_errno(err, "make a read-only bind mount read-only");
		close((*ro)[i]);
	}
	free(*ro);
	*ro = NULL;
	return r;
}

/* A missing process.cwd is made inside the rootfs (mode 0755), as runc and crun do. */
static int make_cwd(const struct oci_config *c, int rootfd, struct skiff_error **err)
{
	int fd;

	if (c->process == NULL || c->process->cwd == NULL)
		return 0;
	fd = mkpath_in_root(rootfd, c->process->cwd, false, 0, "process.cwd", err);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int rootfs_prepare(const struct oci_config *c, const char *rootfs, const char *bundle,
                   int *bind_fds, unsigned flags, int **deferred_ro, struct skiff_error **err)
{
	cleanup_close int rootfd = -1;

	if (rootfs == NULL || rootfs[0] != '/')
		return error_msg(err, "rootfs: must be an absolute path, got \"%s\"",
		                 rootfs ? rootfs : "");
	if (!(flags & ROOTFS_SHARED_MNTNS) && isolate_propagation(c, err) < 0)
		return -1;
	/* pivot_root needs the new root to be a mount point. */
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return error_errno(err, "bind mount the rootfs %s onto itself", rootfs);
	if ((flags & ROOTFS_SHARED_MNTNS) &&
	    mount(NULL, rootfs, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return error_errno(err, "make the rootfs bind %s rprivate", rootfs);
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return error_errno(err, "open the rootfs %s", rootfs);
	*deferred_ro = xcalloc(c->mounts_len + 1, sizeof(int));
	**deferred_ro = -1;
	if (mount_config_entries(c, rootfd, bundle, bind_fds, flags, *deferred_ro, err) < 0)
		return -1;
	return make_cwd(c, rootfd, err);
}

int rootfs_pivot(const char *rootfs, bool no_pivot, unsigned flags, struct skiff_error **err)
{
	cleanup_close int newroot = -1, oldroot = -1;

	newroot = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (newroot < 0)
		return error_errno(err, "open the rootfs %s", rootfs);
	if (fchdir(newroot) < 0)
		return error_errno(err, "chdir to the rootfs %s", rootfs);
	/* In the runtime's mount namespace, moving or pivoting "/" would move the host's. */
	if (flags & ROOTFS_SHARED_MNTNS) {
		if (chroot(".") < 0)
			return error_errno(err, "chroot to the rootfs %s", rootfs);
		return chdir("/") < 0 ? error_errno(err, "chdir to / in the container") : 0;
	}
	if (no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return error_errno(err, "move the rootfs %s onto /", rootfs);
		if (chroot(".") < 0)
			return error_errno(err, "chroot to the rootfs %s", rootfs);
		if (chdir("/") < 0)
			return error_errno(err, "chdir to / in the container");
		return 0;
	}
	oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return error_errno(err, "open the old root");
	/* new_root == put_old: the old root ends up stacked on the new one... */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return error_errno(err, "pivot_root to %s", rootfs);
	/* ...where it is detached; as a slave, so the unmount cannot reach the host. */
	if (fchdir(oldroot) < 0)
		return error_errno(err, "chdir to the old root");
	if (mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return error_errno(err, "make the old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		return error_errno(err, "detach the old root");
	if (chdir("/") < 0)
		return error_errno(err, "chdir to / in the container");
	return 0;
}

/* The container's /dev/null, checked to really be the null device (CVE-2025-31133). */
static int open_dev_null(int rootfd, struct skiff_error **err)
{
	cleanup_close int fd = open_in_root(rootfd, "/dev/null", IN_ROOT_NOFOLLOW);
	struct stat st;

	if (fd < 0) {
		errno = -fd;
		return error_errno(err, "open /dev/null in the container");
	}
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat /dev/null in the container");
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
		return error_msg(err, "/dev/null in the container is not the null device "
		                      "(char 1:3); refusing to use it for masking");
	return steal_fd(&fd);
}

static int attach(int tree, int dest)
{
	return move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int mask_dir(int dest)
{
	cleanup_close int fsfd = -1, mnt = -1;

	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0 || fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	mnt = fsmount(fsfd, FSMOUNT_CLOEXEC,
	              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return -1;
	return attach(mnt, dest);
}

static int mask_file(int nullfd, int dest)
{
	cleanup_close int tree =
	    open_tree(nullfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);

	if (tree < 0)
		return -1;
	return attach(tree, dest);
}

static int mask_paths(int rootfd, char **paths, struct skiff_error **err)
{
	cleanup_close int nullfd = -1;

	for (size_t i = 0; paths && paths[i]; i++) {
		cleanup_close int fd = open_in_root(rootfd, paths[i], 0);
		struct stat st;

		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			errno = -fd;
			return error_errno(err, "maskedPaths: open %s", paths[i]);
		}
		if (fstat(fd, &st) < 0)
			return error_errno(err, "maskedPaths: stat %s", paths[i]);
		if (S_ISDIR(st.st_mode)) {
			if (mask_dir(fd) < 0)
				return error_errno(err, "maskedPaths: mask %s", paths[i]);
			continue;
		}
		if (nullfd < 0) {
			nullfd = open_dev_null(rootfd, err);
			if (nullfd < 0)
				return error_wrap(err, "maskedPaths: mask %s", paths[i]);
		}
		if (mask_file(nullfd, fd) < 0)
			return error_errno(err, "maskedPaths: mask %s", paths[i]);
	}
	return 0;
}

static int readonly_paths(int rootfd, char **paths, struct skiff_error **err)
{
	const uint64_t ro =
	    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

	for (size_t i = 0; paths && paths[i]; i++) {
		cleanup_close int fd = open_in_root(rootfd, paths[i], 0), tree = -1;

		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			errno = -fd;
			return error_errno(err, "readonlyPaths: open %s", paths[i]);
		}
		/* A bind of the path onto itself; mount_setattr only adds flags, keeping the rest.
		 */
		tree = open_tree(
		    fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
		if (tree < 0 || mount_set_attr(tree, true, ro, 0, 0) < 0 || attach(tree, fd) < 0)
			return error_errno(err, "readonlyPaths: make %s read-only", paths[i]);
	}
	return 0;
}

int rootfs_finalize(const struct oci_config *c, struct skiff_error **err)
{
	const struct oci_linux *l = c->linux_;
	cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	long p = mounts_propagation_flags(propagation_of(c));

	if (rootfd < 0)
		return error_errno(err, "open /");
	if (l && mask_paths(rootfd, l->masked_paths, err) < 0)
		return -1;
	if (l && readonly_paths(rootfd, l->readonly_paths, err) < 0)
		return -1;
	if (c->root && c->root->readonly &&
	    mount_set_attr(rootfd, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
		return error_errno(err, "root.readonly: remount / read-only");
	if (p < 0)
		return error_msg(err, "linux.rootfsPropagation: unknown value \"%s\"",
		                 propagation_of(c));
	if (p > 0 && mount_set_attr(rootfd, p & MS_REC, 0, 0, (unsigned long)p & ~MS_REC) < 0)
		return error_errno(err, "linux.rootfsPropagation: make / %s", propagation_of(c));
	return 0;
}
