/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "utils.h"

/* The inode number of every procfs root (PROC_ROOT_INO in the kernel). */
#define PROC_ROOT_INO 1

int procfs_open(const char *path, int flags, bool symlinks)
{
	struct open_how root_how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct open_how how = {
	    .flags = (unsigned long long)flags | O_CLOEXEC,
	    .resolve =
	        RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | (symlinks ? 0 : RESOLVE_NO_SYMLINKS),
	};
	cleanup_close int root = -1;
	struct statfs sfs;
	struct stat st;

	root = (int)syscall(SYS_openat2, AT_FDCWD, "/proc", &root_how, sizeof(root_how));
	if (root < 0)
		return -1;
	/* Not a procfs, or a directory of one bound on /proc: nothing to trust below it. */
	if (fstatfs(root, &sfs) < 0 || fstat(root, &st) < 0)
		return -1;
	if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO) {
		errno = EXDEV;
		return -1;
	}
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}
