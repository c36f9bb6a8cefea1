/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CGROUP_H
#define SKIFF_CGROUP_H

/*
 * The cgroup v2 filesystem driver.
 *
 * A cgroup is named by its path relative to the cgroup2 mount, starting
 * with '/' (what cgroup_resolve_path() returns and what the state file
 * keeps).  Every function below that takes `path` joins it with
 * cgroup_mountpoint() itself.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

/* "max" in a cgroup file reads back as this. */
#define CGROUP_MAX UINT64_MAX

/* The cgroup2 mount: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
int cgroup_mountpoint(const char **out, struct skiff_error **err);

/*
 * linux.cgroupsPath -> a path relative to the mount, starting with '/'.
 *   absolute ("/a/b")   -> itself;
 *   relative ("a/b")    -> under the parent of the caller's cgroup;
 *   empty or NULL       -> "<parent of the caller's cgroup>/skiff-<id>".
 * The caller's own cgroup usually holds processes (a login scope, a
 * service), and v2's no-internal-process rule then forbids enabling
 * controllers for its children, so its parent is used, as runc does.
 * ".." components are refused.  Returns a malloc'd string, or NULL with *err.
 */
/* Our own cgroup in the v2 hierarchy (the "0::" line of /proc/self/cgroup). */
int cgroup_own_path(char **out, struct skiff_error **err);
char *cgroup_resolve_path(const char *cgroups_path, const char *id, struct skiff_error **err);

/*
 * Creates the cgroup (mkdir -p, 0755), enables in each ancestor's
 * cgroup.subtree_control exactly the controllers `r` needs, writes the
 * resource files and attaches the device filter (skiff's defaults plus
 * r->devices).  *dirfd_out gets an O_DIRECTORY fd of the cgroup, for
 * clone3(CLONE_INTO_CGROUP).  On failure every directory it made is removed
 * again (pre-existing ones are left, and so are controllers it enabled in
 * pre-existing ancestors).  `r` may be NULL.
 */
int cgroup_create(const char *path, const struct oci_resources *r, int *dirfd_out,
                  struct skiff_error **err);

/*
 * Makes the controllers `r` needs available in the cgroup at path: enables
 * them in the cgroup.subtree_control of the root and of every ancestor
 * (`update`, for limits the container was not created with).
 */
int cgroup_enable_controllers(const char *path, const struct oci_resources *r,
                              struct skiff_error **err);

/*
 * Cgroup ownership (runtime-spec config-linux): a container with a user
 * namespace and a cgroup namespace of its own that mounts /sys/fs/cgroup
 * read-write may run its own cgroup tree (systemd).  True when c mounts it
 * so.  cgroup_delegate() then gives the host uid that process.user.uid
 * maps to in pid's user namespace the directory and the files listed in
 * /sys/kernel/cgroup/delegate; resource files stay the runtime's, since
 * they hand out the parent's resources.
 */
bool cgroup_wants_delegation(const struct oci_config *c);
int cgroup_delegate(int dirfd, pid_t pid, uint32_t uid, struct skiff_error **err);

/* Moves pid into the cgroup (the fallback when CLONE_INTO_CGROUP is missing). */
int cgroup_enter(int dirfd, pid_t pid, struct skiff_error **err);

/*
 * Writes the resource files for `r` (create and `update`).  The device
 * filter is replaced only when r->devices is non-empty.
 */
int cgroup_apply_resources(int dirfd, const struct oci_resources *r, struct skiff_error **err);

/* Writes cgroup.freeze and waits until cgroup.events agrees (thaws again on timeout). */
int cgroup_freeze(const char *path, bool frozen, struct skiff_error **err);
/* True when cgroup.freeze is 1 (the container was paused). */
int cgroup_is_frozen(const char *path, bool *out, struct skiff_error **err);

/*
 * Sends sig to every process in the cgroup and its descendants.  SIGKILL
 * uses cgroup.kill where the kernel has it, else signals cgroup.procs
 * until it stays empty; for SIGKILL it returns once the cgroup is empty.
 */
int cgroup_kill_all(const char *path, int sig, struct skiff_error **err);

/* Every pid in the cgroup and its descendants; *pids is malloc'd. */
int cgroup_pids(const char *path, pid_t **pids, size_t *n, struct skiff_error **err);

/*
 * Removes the cgroup and its descendants (depth first), SIGKILLing what is
 * left first when kill is true; EBUSY is retried for a few seconds.
 * A cgroup that does not exist is not an error.
 */
int cgroup_destroy(const char *path, bool kill, struct skiff_error **err);

/* ---- stats (for `events --stats`) ---- */

struct cgroup_kv {
	char *key;
	uint64_t value;
};

struct cgroup_io_stat {
	uint32_t major, minor;
	uint64_t rbytes, wbytes, rios, wios, dbytes, dios;
};

struct cgroup_hugetlb_stat {
	char *page_size; /* "2MB" */
	uint64_t current, max, failcnt /* hugetlb.<size>.events "max" */;
};

/* A has_* flag is false when the files are missing (controller not enabled). */
struct cgroup_stats {
	bool has_memory;
	uint64_t memory_current, memory_max, memory_peak;
	bool has_swap;
	uint64_t swap_current, swap_max;
	struct cgroup_kv *memory_stat; /* every line of memory.stat, in order */
	size_t memory_stat_len;
	bool has_memory_events;
	uint64_t memory_events_low, memory_events_high, memory_events_max, memory_events_oom,
	    memory_events_oom_kill;

	bool has_pids;
	uint64_t pids_current, pids_max;

	bool has_cpu; /* cpu.stat; usage/user/system exist even without the cpu controller */
	uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
	uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;

	struct cgroup_io_stat *io; /* io.stat, one entry per device */
	size_t io_len;

	struct cgroup_hugetlb_stat *hugetlb;
	size_t hugetlb_len;
};

int cgroup_stats(const char *path, struct cgroup_stats *out, struct skiff_error **err);
void cgroup_stats_free(struct cgroup_stats *s);

#endif
