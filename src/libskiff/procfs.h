/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_PROCFS_H
#define SKIFF_PROCFS_H

#include <stdbool.h>

/*
 * Opens `path` (relative, e.g. "sys/net/ipv4/ip_forward") in the procfs at
 * /proc for a write skiff makes there (sysctls, LSM attributes).  /proc
 * must be the root of a real procfs and the walk may cross no mount and
 * follow no magic link (nor any symlink unless `symlinks`): a file bound
 * over the target, even another procfs file that fstatfs alone would
 * accept, fails with EXDEV instead of taking the write (CVE-2025-52881).
 * Returns the fd, or -1 with errno set.
 */
int procfs_open(const char *path, int flags, bool symlinks);

#endif
