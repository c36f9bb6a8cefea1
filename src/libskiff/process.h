/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_PROCESS_H
#define SKIFF_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libocispec/runtime_spec.h"
#include "error.h"
#include "seccomp.h"

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
 *      goes before it; enters the cwd;
 *   7. process_apply_final()       umask, the cwd checked, no_new_privs
 *      (before a seccomp filter loaded without CAP_SYS_ADMIN);
 *   8. process_launch_resolve(), process_close_fds() or
 *      process_cloexec_fds(), then process_launch_prepare(), the seccomp
 *      filter (unless the trampoline loads it), process_release_admin(),
 *      process_launch_exec() — or all of step 8 in one: process_exec().
 * process_exec_prepare() goes in skiff itself, before the clone.
 *
 * Once a seccomp filter is loaded the process makes no syscall but the exec
 * ones (execveat of the trampoline, its execve), so a profile that does not
 * know the syscalls skiff uses cannot break the start.  Two exceptions, both
 * calls any profile that lets a runtime start a program must allow: without
 * noNewPrivileges the filter is loaded holding CAP_SYS_ADMIN, then one
 * capset(2) sets the configured capabilities; with SCMP_ACT_NOTIFY one
 * sendmsg(2) hands the listener to the agent.  `exec` adds one fcntl(2) in
 * the trampoline, before its filter when it loads it (noNewPrivileges).
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
 * Capability bounding set, chdir(cwd), groups, gid, uid, then the
 * capability sets and the ambient set exactly as configured (absent: all
 * empty).  The chdir happens as the runtime, so a user may work in a
 * directory it cannot enter; refused for lack of permission, it is tried
 * again as the user (who may have rights the runtime lacks), as runc does.
 */
int process_apply_identity(const struct oci_process *p, struct skiff_error **err);
/* The configured capability sets, when process_apply_identity_holding_admin kept them back. */
struct process_caps {
	uint64_t effective, permitted, inheritable;
	bool held;
};
/*
 * process_apply_identity, except that CAP_SYS_ADMIN stays effective (nothing
 * else) and the configured sets go to *held, for a seccomp filter loaded
 * without no_new_privs as late as possible; process_release_admin() applies them.
 */
int process_apply_identity_holding_admin(const struct oci_process *p, struct process_caps *held,
                                         struct skiff_error **err);
/* capset(2) of the held sets; nothing when none are held.  Safe under the filter. */
int process_release_admin(const struct process_caps *held, struct skiff_error **err);
/*
 * crun's annotation run.oci.keep_original_groups (any value; podman sends it
 * for --group-add keep-groups): the process keeps the supplementary groups
 * of the runtime's caller, no setgroups(2) at all.  Call it in skiff before
 * cloning the process, with the config's annotations.
 */
#define ANNOTATION_KEEP_ORIGINAL_GROUPS "run.oci.keep_original_groups"
void process_keep_original_groups(const struct oci_map *annotations);
/* umask (0022 when unset), the cwd checked to be inside the root, noNewPrivileges. */
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

/* process_exec in steps, so that everything but the exec happens before a seccomp filter. */
struct process_launch {
	const struct oci_process *proc;
	char *path;  /* args[0] resolved in the container's PATH */
	char **argv; /* the trampoline's: ["", STATUS, FILTER, PATH, ARGV0, ...] */
	int status_fd, filter_fd;
	bool trampoline;
	char status[16], filter[16], fdpath[32];
};
/* Resolves args[0] (process_resolve_executable's checks); clear *l after, even on error. */
int process_launch_resolve(const struct oci_process *p, struct process_launch *l,
                           struct skiff_error **err);
/*
 * The trampoline's argv, status_fd made inheritable for it, and, when
 * filter can be loaded by the trampoline (noNewPrivileges, no listener),
 * the filter's memfd: then process_launch_loads_filter() is true and the
 * caller must not load the filter itself.
 */
int process_launch_prepare(struct process_launch *l, int status_fd,
                           const struct seccomp_program *filter, struct skiff_error **err);
bool process_launch_loads_filter(const struct process_launch *l);
/* Only execveat/execve (and filter's load if the trampoline cannot run); returns on failure. */
int process_launch_exec(struct process_launch *l, const struct seccomp_program *filter,
                        struct skiff_error **err);
void process_launch_clear(struct process_launch *l);

#endif
