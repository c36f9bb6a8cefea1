/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /dev: the default device nodes, linux.devices and the standard symlinks (see devices.h). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devices.h"
#include "mounts.h"
#include "utils.h"

static const struct oci_device default_devices[] = {
    {.type = "c", .path = "/dev/null", .major = 1, .minor = 3},
    {.type = "c", .path = "/dev/zero", .major = 1, .minor = 5},
    {.type = "c", .path = "/dev/full", .major = 1, .minor = 7},
    {.type = "c", .path = "/dev/random", .major = 1, .minor = 8},
    {.type = "c", .path = "/dev/urandom", .major = 1, .minor = 9},
    {.type = "c", .path = "/dev/tty", .major = 5, .minor = 0},
};

static const struct {
	const char *name, *target;
} dev_symlinks[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

/* The last config mount on /dev is a bind: the caller brought its own /dev. */
static bool dev_is_bind_mounted(const struct oci_config *c)
{
	bool bind = false;

	for (size_t i = 0; i < c->mounts_len; i++) {
		const struct oci_mount *m = &c->mounts[i];
		cleanup_free char *dest = NULL;
		struct mount_spec s;

		if (m->destination == NULL)
			continue;
		dest = path_clean(m->destination);
		if (strcmp(dest, "/dev") != 0 || mount_spec_parse(m, "mounts", &s, NULL) < 0)
			continue;
		if (!s.remount)
			bind = s.bind;
		mount_spec_free(&s);
	}
	return bind;
}

static bool configured(const struct oci_config *c, const char *path)
{
	const struct oci_linux *l = c->linux_;

	for (size_t i = 0; l && i < l->devices_len; i++) {
		cleanup_free char *a = path_clean(l->devices[i].path), *b = path_clean(path);
		if (strcmp(a, b) == 0)
			return true;
	}
	return false;
}

static mode_t node_type(const char *type)
{
	switch (type[0]) {
	case 'b':
		return S_IFBLK;
	case 'p':
		return S_IFIFO;
	default:
		return S_IFCHR; /* c and u (unbuffered) */
	}
}

/*
 * In a user namespace: an empty file with a node bind-mounted over it, the
 * one skiff made (node_tree, taken over) or else the host's own.
 */
static int bind_host_node(int parent, const char *name, const char *hostpath, int node_tree,
                          const char *what, struct skiff_error **err)
{
	cleanup_close int fd = -1, tree = node_tree;

	fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_errno(err, "%s: create the mount point", what);
	close(fd);
	fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "%s: open the mount point", what);
	if (tree < 0)
		tree = open_tree(AT_FDCWD, hostpath, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return error_errno(err, "%s: open_tree %s", what, hostpath);
	if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return error_errno(err, "%s: bind mount %s", what, hostpath);
	return 0;
}

static int make_node(int parent, const char *name, const struct oci_device *d, const char *what,
                     struct skiff_error **err)
{
	mode_t mode = (d->has_file_mode ? d->file_mode : 0666) & 07777;
	mode_t old = umask(0);
	int r = mknodat(parent, name, node_type(d->type) | mode,
	                makedev((unsigned)d->major, (unsigned)d->minor));

	umask(old);
	if (r < 0)
		return error_errno(err, "%s: mknod", what);
	if ((d->has_uid || d->has_gid) &&
	    fchownat(parent, name, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
	             AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "%s: chown", what);
	return 0;
}

static int create_device(int rootfd, const struct oci_device *d, bool in_userns, int node_tree,
                         struct skiff_error **err)
{
	cleanup_free char *path = path_clean(d->path), *what = NULL;
	cleanup_close int parent = -1;
	char *slash = strrchr(path, '/');
	const char *name = slash + 1;

	what = xasprintf("create device %s", path);
	if (*name == '\0')
		return error_msg(err, "%s: not a file path", what);
	*slash = '\0';
	parent = mkpath_in_root(rootfd, *path ? path : "/", false, 0, what, err);
	*slash = '/';
	if (parent < 0)
		return -1;
	/* Replace whatever the image has there (a stale node, a symlink)... */
	if (unlinkat(parent, name, 0) < 0 && errno != ENOENT) {
		/* ...unless a config mount already provides it. */
		if (errno == EBUSY)
			return 0;
		return error_errno(err, "%s: remove the existing file", what);
	}
	if (in_userns && d->type[0] != 'p')
		return bind_host_node(parent, name, path, node_tree, what, err);
	if (make_node(parent, name, d, what, err) == 0)
		return 0;
	/*
	 * Root of a user namespace skiff was started in (rootless podman runs
	 * the runtime in its own) may not mknod either: bind the host's, as
	 * there.  Checked on failure only: the common case pays nothing.
	 */
	if (d->type[0] == 'p' || !*err || (*err)->errnum != EPERM ||
	    faccessat(parent, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return -1;
	error_free(err);
	return bind_host_node(parent, name, path, node_tree, what, err);
}

static int create_symlinks(int rootfd, const struct oci_config *c, struct skiff_error **err)
{
	cleanup_close int devfd = mkpath_in_root(rootfd, "/dev", false, 0, "create /dev", err);

	if (devfd < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(dev_symlinks); i++) {
		cleanup_free char *path = xasprintf("/dev/%s", dev_symlinks[i].name);

		if (configured(c, path))
			continue;
		/* An image's /dev/ptmx is usually a device node that cannot work with a new devpts.
		 */
		if (strcmp(dev_symlinks[i].name, "ptmx") == 0 && unlinkat(devfd, "ptmx", 0) < 0 &&
		    errno != ENOENT)
			return error_errno(err, "remove /dev/ptmx");
		if (symlinkat(dev_symlinks[i].target, devfd, dev_symlinks[i].name) < 0 &&
		    errno != EEXIST)
			return error_errno(err, "symlink %s -> %s", path, dev_symlinks[i].target);
	}
	return 0;
}

/* A container id to the host's, through the config's mappings; -1 when unmapped. */
static long long to_host(const struct oci_id_mapping *map, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= map[i].container_id && id - map[i].container_id < map[i].size)
			return (long long)map[i].host_id + (id - map[i].container_id);
	return -1;
}

/* One node of linux.devices on skiff's private tmpfs, as a detached bind of it. */
static int make_private_node(int mnt, size_t i, const struct oci_device *d,
                             const struct oci_linux *l, struct skiff_error **err)
{
	long long uid = to_host(l->uid_mappings, l->uid_mappings_len, d->has_uid ? d->uid : 0);
	long long gid = to_host(l->gid_mappings, l->gid_mappings_len, d->has_gid ? d->gid : 0);
	char name[32];

	snprintf(name, sizeof(name), "%zu", i);
	if (uid < 0 || gid < 0)
		return error_msg(err,
		                 "linux.devices[%zu]: %s %u is not mapped in the user namespace", i,
		                 uid < 0 ? "uid" : "gid",
		                 uid < 0 ? (unsigned)(d->has_uid ? d->uid : 0)
		                         : (unsigned)(d->has_gid ? d->gid : 0));
	if (mknodat(mnt, name, node_type(d->type),
	            makedev((unsigned)d->major, (unsigned)d->minor)) < 0 ||
	    fchmodat(mnt, name, (d->has_file_mode ? d->file_mode : 0666) & 07777, 0) < 0 ||
	    fchownat(mnt, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
		return error_errno(err, "linux.devices[%zu]: make %s", i, d->path);
	int tree = open_tree(mnt, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return error_errno(err, "linux.devices[%zu]: open_tree %s", i, d->path);
	return tree;
}

int devices_make_nodes(const struct oci_config *c, int **out, struct skiff_error **err)
{
	const struct oci_linux *l = c->linux_;
	cleanup_close int fsfd = -1, mnt = -1;

	*out = xcalloc(l->devices_len + 1, sizeof(int));
	for (size_t i = 0; i < l->devices_len; i++)
		(*out)[i] = -1;
	if (l->devices_len == 0 || dev_is_bind_mounted(c))
		return 0;
	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0 || fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "skiff-devices", 0) < 0 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return error_errno(err, "linux.devices: make a tmpfs for the nodes");
	mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return error_errno(err, "linux.devices: mount a tmpfs for the nodes");
	for (size_t i = 0; i < l->devices_len; i++) {
		if (l->devices[i].type[0] == 'p')
			continue;
		(*out)[i] = make_private_node(mnt, i, &l->devices[i], l, err);
		if ((*out)[i] < 0)
			return -1;
	}
	return 0;
}

int devices_setup(const struct oci_config *c, const char *rootfs, bool in_userns, int *nodes,
                  struct skiff_error **err)
{
	const struct oci_linux *l = c->linux_;
	cleanup_close int rootfd = -1;

	if (dev_is_bind_mounted(c))
		return 0;
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return error_errno(err, "open the rootfs %s", rootfs);
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		if (!configured(c, default_devices[i].path) &&
		    create_device(rootfd, &default_devices[i], in_userns, -1, err) < 0)
			return -1;
	for (size_t i = 0; l && i < l->devices_len; i++)
		if (create_device(rootfd, &l->devices[i], in_userns,
		                  nodes ? steal_fd(&nodes[i]) : -1, err) < 0)
			return error_wrap(err, "linux.devices[%zu]", i);
	return create_symlinks(rootfd, c, err);
}

static bool is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

int devices_reopen_null(const struct oci_config *c, struct skiff_error **err)
{
	cleanup_close int null = -1;
	struct stat st;

	if (dev_is_bind_mounted(c))
		return 0;
	null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (null < 0)
		return error_errno(err, "open the container's /dev/null");
	if (fstat(null, &st) < 0 || !is_dev_null(&st))
		return error_msg(err, "the container's /dev/null is not char 1:3");
	for (int fd = 0; fd < 3; fd++)
		if (fstat(fd, &st) == 0 && is_dev_null(&st) && dup3(null, fd, 0) < 0)
			return error_errno(err, "reopen fd %d on the container's /dev/null", fd);
	return 0;
}
