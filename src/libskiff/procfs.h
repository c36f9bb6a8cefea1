/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_PROCFS_H
#define SKIFF_PROCFS_H

#include <stdbool.h>

/*
 * Opens `path` (relative, e.g. "sys/net/ipv4/ip_forward") on a procfs for
 * something skiff writes or reopens there (sysctls, LSM attributes,
 * oom_score_adj, timens_offsets, the exec fifo), never on a file the
 * container planted (CVE-2019-16884, CVE-2019-19921, CVE-2023-27561,
 * CVE-2023-28642, CVE-2025-52881).  /proc is used when it is the root of a
 * real procfs reached through no symlink, and the walk below it crosses no
 * mount, so a file bound over the target is never opened.  When that fails
 * (no /proc, a symlink, a plain directory or another filesystem there, a
 * mount over the target, a read-only /proc), the same walk is made on a
 * private procfs instance mounted nowhere, which no container can reach.  The
 * walk follows no magic link, nor any symlink unless `symlinks` ("self",
 * "thread-self").  Returns the fd, or -1 with errno set; EXDEV: /proc was not
 * to be trusted and no private procfs could be made (no CAP_SYS_ADMIN over
 * the pid namespace).
 */
int procfs_open(const char *path, int flags, bool symlinks);

/* Writes `data` to procfs_open(path) in one write(2); 0, or -1 with errno set. */
int procfs_write(const char *path, const char *data);

/*
 * Opens the file behind `fd` anew with `flags` (an O_PATH fd's write end, say)
 * through `fd_dir`, procfs_open("self/fd", O_PATH | O_DIRECTORY, true) made
 * while skiff could still mount a procfs, and checks it is the same inode.
 * Returns the new fd, or -1 with errno set.
 */
int procfs_reopen(int fd_dir, int fd, int flags);

#endif
