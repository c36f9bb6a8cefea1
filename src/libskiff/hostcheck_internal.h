/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_HOSTCHECK_INTERNAL_H
#define SKIFF_HOSTCHECK_INTERNAL_H

/* Shared by the hostcheck*.c probes; not part of libskiff's interface. */

#include <stdbool.h>
#include "hostcheck.h"

/*
 * Adds a row; the pointer stays valid until the next hc_add, so a probe
 * adds its advice right after.
 */
struct hostcheck_row *hc_add(struct hostcheck_report *r, const char *name, enum hostcheck_status s,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void hc_advise(struct hostcheck_row *row, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first line of a small file, without its newline; NULL when unreadable. */
char *hc_read_line(const char *path);
bool hc_exists(const char *path);
/* The type of the filesystem holding path ("tmpfs", "ext4"; "unknown"), from mountinfo. */
char *hc_fs_type(const char *path);
/* A "Key:\tvalue" line of /proc/self/status; NULL when absent. */
char *hc_proc_status(const char *key);
/* Runs fn in a forked child; its return value is the exit status (-1: could not fork). */
int hc_in_child(int (*fn)(void *), void *arg);
/*
 * An fd of a fresh user namespace that maps its root to the caller's
 * uid and gid (one ID each, written by the child that made it), or -1
 * with errno set.
 */
int hc_userns_fd(void);

void hostcheck_kernel(struct hostcheck_report *r);
void hostcheck_syscalls(struct hostcheck_report *r);
void hostcheck_pidfd(struct hostcheck_report *r);
void hostcheck_clone_into_cgroup(struct hostcheck_report *r);
void hostcheck_namespaces(struct hostcheck_report *r);
void hostcheck_privileges(struct hostcheck_report *r);
void hostcheck_userns(struct hostcheck_report *r);
void hostcheck_cgroup(struct hostcheck_report *r);
void hostcheck_cgroup_delegation(struct hostcheck_report *r);
void hostcheck_systemd(struct hostcheck_report *r);
void hostcheck_seccomp(struct hostcheck_report *r);
void hostcheck_idmap(struct hostcheck_report *r, const char *state_root);
void hostcheck_lsm(struct hostcheck_report *r);
void hostcheck_trampoline(struct hostcheck_report *r);
void hostcheck_state_root(struct hostcheck_report *r, const char *state_root, const char *no_root);
void hostcheck_criu(struct hostcheck_report *r);

#endif
