/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "utils.h"

/* The inode number of every procfs root (PROC_ROOT_INO in the kernel). */
#define PROC_ROOT_INO 1

/*
 * A procfs instance of skiff's own, mounted nowhere: no path leads to it, so
 * nothing in the container can stand between skiff and the file it opens.
 * It costs about 0.3 ms (the detached mount's teardown waits for RCU), so it
 * is the fallback, not the rule.  -1 when the kernel will not make one here
 * (a user namespace that owns no pid namespace, or no procfs fully visible).
 */
static int private_proc_root(void)
{
	cleanup_close int fsfd = fsopen("proc", FSOPEN_CLOEXEC);

	if (fsfd < 0 || fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	return fsmount(fsfd, FSMOUNT_CLOEXEC,
	               MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

/* /proc itself, trusted only when it is the root of a procfs and no symlink. */
static int mounted_proc_root(void)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	cleanup_close int root = -1;
	struct statfs sfs;
	struct stat st;

	root = (int)syscall(SYS_openat2, AT_FDCWD, "/proc", &how, sizeof(how));
	if (root < 0)
		return -1;
	/* Not a procfs, or a directory of one bound on /proc: nothing to trust below it. */
	if (fstatfs(root, &sfs) < 0 || fstat(root, &st) < 0)
		return -1;
	if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO) {
		errno = EXDEV;
		return -1;
	}
	return steal_fd(&root);
}

static int open_beneath(int root, const char *path, int flags, bool symlinks)
{
	struct open_how how = {
	    .flags = (unsigned long long)flags | O_CLOEXEC,
	    .resolve =
	        RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | (symlinks ? 0 : RESOLVE_NO_SYMLINKS),
	};

	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* What the container may have done to /proc, as opposed to a plain error. */
static bool planted(int e)
{
	return e == EXDEV || e == ELOOP || e == ENOENT || e == ENOTDIR || e == EROFS;
}

int procfs_open(const char *path, int flags, bool symlinks)
{
	cleanup_close int root = mounted_proc_root();
	int fd = root < 0 ? -1 : open_beneath(root, path, flags, symlinks);
	int first = errno;

	if (fd >= 0 || !planted(first))
		return fd;
	if (root >= 0)
		close(root);
	root = private_proc_root();
	if (root < 0) {
		/* Say what was wrong with /proc, not why no other procfs could be made. */
		errno = first == ELOOP || first == ENOTDIR ? EXDEV : first;
		return -1;
	}
	return open_beneath(root, path, flags, symlinks);
}

int procfs_write(const char *path, const char *data)
{
	cleanup_close int fd = procfs_open(path, O_WRONLY, true);
	size_t len = strlen(data);

	if (fd < 0)
		return -1;
	return write(fd, data, len) == (ssize_t)len ? 0 : -1;
}

int procfs_reopen(int fd_dir, int fd, int flags)
{
	cleanup_close int reopened = -1;
	struct stat want, got;
	char name[16];

	if (fstat(fd, &want) < 0)
		return -1;
	snprintf(name, sizeof(name), "%d", fd);
	/* The one magic link followed: fd/N itself, in a directory procfs_open checked. */
	reopened = openat(fd_dir, name, flags | O_CLOEXEC);
	if (reopened < 0 || fstat(reopened, &got) < 0)
		return -1;
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		errno = EXDEV;
		return -1;
	}
	return steal_fd(&reopened);
}
