/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_PROCESS_H
#define SKIFF_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

#include "libocispec/runtime_spec.h"
#include "error.h"

/*
 * Applying the runtime-spec `process` object to the calling process: the
 * container's init (already in its namespaces, after pivot_root) and
 * `exec`.  Every function returns 0, or <0 with *err naming the config
 * field and the failing call.
 *
 * Order for the caller (each step needs what the previous ones keep):
 *   1. process_validate(), process_validate_personality()  in the parent,
 *      before anything exists;
 *   2. process_set_cpu_affinity(execCPUAffinity.initial)   exec only, before
 *      joining the cgroup; `.final` after joining it;
 *   3. process_apply_rlimits()     raising a hard limit needs CAP_SYS_RESOURCE;
 *   4. process_apply_attributes()  RT policies, negative nice, RT io class,
 *      lowering oomScoreAdj need privileges;
 *   5. process_apply_personality();
 *   6. process_apply_identity()    drops privileges: everything privileged
 *      (mounts, hooks, LSM label, seccomp when noNewPrivileges is false)
 *      goes before it;
 *   7. process_apply_final()       umask, chdir as the container user,
 *      no_new_privs (before a seccomp filter loaded without CAP_SYS_ADMIN);
 *   8. process_resolve_executable(), process_close_fds() or
 *      process_cloexec_fds(), then process_exec().
 * process_exec_prepare() goes in skiff itself, before the clone.
 */

/* Pure checks of the process object; touches nothing. */
int process_validate(const struct oci_process *p, struct skiff_error **err);
/* Pure checks of linux.personality (NULL: nothing to check). */
int process_validate_personality(const struct oci_personality *pers, struct skiff_error **err);

int process_apply_rlimits(const struct oci_process *p, struct skiff_error **err);
/* oomScoreAdj, scheduler, ioPriority. */
int process_apply_attributes(const struct oci_process *p, struct skiff_error **err);
/* linux.personality (NULL: nothing to do). */
int process_apply_personality(const struct oci_personality *pers, struct skiff_error **err);
/*
 * Capability bounding set, groups, gid, uid, then the capability sets and
 * the ambient set exactly as configured (absent: all empty).
 */
int process_apply_identity(const struct oci_process *p, struct skiff_error **err);
/* umask (0022 when unset), chdir(cwd) checked to stay inside the root, noNewPrivileges. */
int process_apply_final(const struct oci_process *p, struct skiff_error **err);

/*
 * Sets the CPU affinity of `pid` (0: the caller) to a list like "0-3,7";
 * NULL or "" does nothing.  `field` names the config field in errors.
 */
int process_set_cpu_affinity(pid_t pid, const char *cpus, const char *field,
                             struct skiff_error **err);

/*
 * Closes every fd >= keep_below except those in extra_keep (no runtime fd
 * may reach the container: CVE-2024-21626).  Returns 0, or -1 with errno.
 */
int process_close_fds(int keep_below, const int *extra_keep, size_t n_extra);
/* Same selection, marked close-on-exec instead: for fds needed until execve. */
int process_cloexec_fds(int keep_below, const int *extra_keep, size_t n_extra);

/*
 * Checks that args[0] resolves (as process_exec() will resolve it) to an
 * executable regular file, so a bad command fails `create`, not `start`.
 * Call it after process_apply_final() (cwd and credentials are final).
 */
int process_resolve_executable(const struct oci_process *p, struct skiff_error **err);
/*
 * Writes the exec trampoline (src/libskiff/trampoline.c) to a sealed,
 * close-on-exec memfd that clones inherit.  Call it in skiff before
 * cloning a container process; on failure (a warning is logged, -1
 * returned) process_exec() executes the program directly.
 */
int process_exec_prepare(void);
/*
 * execve(args, env) with args[0] looked up in the PATH of p->env (never
 * the runtime's), through the trampoline when prepared (CVE-2019-5736:
 * the process's /proc/self/exe is never the host's skiff binary while
 * the container's program is loaded); returns only on failure.
 *
 * status_fd (-1: none) is a close-on-exec fd, the write end of a pipe
 * whose reader learns how the program's own execve went, which happens in
 * the trampoline, past the point where this function could report it:
 * EOF when it succeeded (the fd closes on that exec), or the execve's
 * errno (an int, 4 bytes) when it failed, the process then exiting 127
 * without a message of its own.  A failure before that (or a direct
 * exec) is returned here as usual, and the fd closes unwritten.
 */
int process_exec(const struct oci_process *p, int status_fd, struct skiff_error **err);

#endif
