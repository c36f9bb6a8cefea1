/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CGROUP_H
#define SKIFF_CGROUP_H

/*
 * A container's cgroup, behind one interface whatever the host has.
 *
 * A cgroup manager ("driver") is chosen once, at create, and its name is
 * kept in the container's state next to the cgroup's path, so every later
 * command drives the cgroup the way it was made:
 *   fs2  the unified hierarchy (cgroup2 at /sys/fs/cgroup);
 *   fs1  the v1 hierarchies of a legacy or hybrid host, plus, on a hybrid
 *        host, the cgroup2 hierarchy at /sys/fs/cgroup/unified for the
 *        controllers that live there (hugetlb, say) and for the process's
 *        "0::" cgroup (cgroup namespaces and delegation see that one).
 *   systemd  a transient scope unit systemd makes on a unified host
 *        (--systemd-cgroup), Delegate=yes, limits as its properties where
 *        systemd has them and in its cgroup's files otherwise.
 * --cgroup-manager disabled makes no cgroup at all (a NULL path).
 *
 * A path names the container's cgroup relative to each hierarchy's root,
 * starting with '/'; the same path is used in every hierarchy.  Callers
 * never ask which cgroup version a host runs: a missing operation belongs
 * here.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

/* "max" in a cgroup file reads back as this. */
#define CGROUP_MAX UINT64_MAX

struct cgroup_driver;
struct cgroup_stats;

struct cgroup_manager {
	const struct cgroup_driver *drv;
	const char *name; /* "fs2", "fs1", "systemd": what the state records */
	const char *path; /* borrowed; "/a/b" */
};

/*
 * The driver for a new container: `manager` is --cgroup-manager (NULL or
 * "cgroupfs" picks fs2 on a unified host, fs1 on a legacy or hybrid one),
 * `systemd` is --systemd-cgroup.  *name gets NULL for "disabled".
 */
int cgroup_manager_choose(const char *manager, bool systemd, const char **name,
                          struct skiff_error **err);

/*
 * The manager a state names; name NULL is fs2 (states written before there
 * were drivers).  path must outlive m.
 */
int cgroup_manager_load(const char *name, const char *path, struct cgroup_manager *m,
                        struct skiff_error **err);

/*
 * Where cgroup_create puts container id's cgroup ("/a/b", malloc'd): create
 * records it before it makes it, so a create killed halfway leaves it known.
 * The systemd driver takes runc's "slice:prefix:name" form instead of a path.
 */
char *cgroup_manager_resolve(const struct cgroup_manager *m, const char *cgroups_path,
                             const char *id, struct skiff_error **err);

/*
 * The `tasks` files of the hierarchies a new init cannot be cloned into
 * (v1), opened by the parent for the init to move itself with "0"
 * (cgroup_enter_self).  Moving another process by pid takes the kernel's
 * global threadgroup lock for writing, which waits for an RCU grace period
 * (milliseconds on an idle host, tens of them on a loaded one); a
 * single-threaded process moving itself through `tasks` takes no global lock.
 */
struct cgroup_self {
	int *fds;     /* n fds, O_WRONLY */
	char **files; /* their paths, for errors */
	size_t n;
};

/*
 * In the process to move (single-threaded), before it runs anything of the
 * container's: writes "0" to every fd of s, then closes them.
 */
int cgroup_enter_self(struct cgroup_self *s, struct skiff_error **err);
/* Closes what is still open and frees s's arrays (n becomes 0). */
void cgroup_self_free(struct cgroup_self *s);

/* What cgroup_create made. */
struct cgroup_created {
	char *path;   /* malloc'd, for the state */
	char *mount;  /* malloc'd: where the hierarchy (or hierarchies) are mounted */
	int clone_fd; /* a cgroup2 directory for clone3(CLONE_INTO_CGROUP), or -1 */
	/*
	 * The hierarchies the init then moves itself into (n == 0: none).  With
	 * neither clone_fd nor these, cgroup_enter moves the init.
	 */
	struct cgroup_self self;
	/*
	 * The directories create made (full paths, in order; NULL-terminated,
	 * may be NULL): what cgroup_unmake removes after a failed create, and
	 * nothing that was there before.
	 */
	char **made;
	/* The cgroup its processes are listed in was made now: nothing is in it yet. */
	bool fresh;
};

/*
 * Resolves linux.cgroupsPath for container id, creates the cgroup in every
 * hierarchy the driver uses and writes the limits in `r` (may be NULL),
 * devices included.  Everything that can be checked is checked before the
 * first mkdir; on failure what it made is removed again.  m->path is set
 * to out->path.
 */
int cgroup_create(struct cgroup_manager *m, const char *cgroups_path, const char *id,
                  const struct oci_resources *r, struct cgroup_created *out,
                  struct skiff_error **err);
void cgroup_created_free(struct cgroup_created *c);
/*
 * After a failed create, once its processes are gone: removes made
 * (deepest first) and frees it; the systemd driver stops the scope it
 * started.
 */
void cgroup_unmake(const struct cgroup_manager *m, char **made);

/* A new container's init, cloned outside its cgroup and waiting to be moved in. */
struct cgroup_adoptee {
	pid_t pid;
	const char *id;
	const struct oci_resources *r;     /* may be NULL */
	const struct oci_map *annotations; /* org.systemd.property.* (systemd driver) */
};

/*
 * Moves a new init that was not cloned into cgroup_created.clone_fd into
 * the container's cgroup before it runs anything of the container's:
 * into every v1 hierarchy (fs1), or into a transient scope the systemd
 * driver starts around it, with the limits set.
 */
int cgroup_adopt(const struct cgroup_manager *m, const struct cgroup_adoptee *a,
                 struct skiff_error **err);

/*
 * exec --cgroup: sub-cgroups of the container's, each "[CONTROLLER:]PATH"
 * (runc's format), a NULL-terminated list; NULL or empty for none.  PATH
 * is relative to the container's cgroup and must exist; without a
 * controller it applies to every hierarchy.  cgroup v2 takes one PATH
 * without a controller.
 */
typedef char *const *cgroup_subs;

/*
 * Moves pid into the container's cgroup (or its subs) before it runs
 * anything of the container's: into fd's cgroup when fd >= 0 (what
 * cgroup_exec_target gave), else into every hierarchy of m.  Not needed
 * after a clone3 into cgroup_created.clone_fd, nor where the init entered
 * cgroup_created.self.
 */
int cgroup_enter(const struct cgroup_manager *m, int fd, cgroup_subs subs, pid_t pid,
                 struct skiff_error **err);

/*
 * Where a process `exec` starts goes: *fd gets a cgroup2 directory to
 * clone into (or -1: then cgroup_enter(m, -1, subs, pid) moves it before
 * it runs).  init is the container's init (its cgroup may have moved
 * down).  Errors name the --cgroup value.
 */
int cgroup_exec_target(const struct cgroup_manager *m, pid_t init, cgroup_subs subs, int *fd,
                       struct skiff_error **err);

/*
 * Where cgroup_exec_target gave no fd (v1 hierarchies), and the container
 * is not paused: the `tasks` files the process moves itself into first
 * (cgroup_enter_self), and *fd the cgroup2 part of a hybrid host to be
 * born in.  Nothing set: cgroup_enter moves the process.
 */
int cgroup_exec_self(const struct cgroup_manager *m, cgroup_subs subs, int *fd,
                     struct cgroup_self *self, struct skiff_error **err);

/*
 * Cgroup ownership (runtime-spec config-linux): a container with a user
 * namespace and a cgroup namespace of its own that mounts /sys/fs/cgroup
 * read-write may run its own cgroup tree (systemd).  True when c mounts it
 * so.  cgroup_delegate() then gives the host uid that process.user.uid
 * maps to in pid's user namespace the container's cgroup2 directory and
 * the files listed in /sys/kernel/cgroup/delegate; resource files stay the
 * runtime's, since they hand out the parent's resources.
 */
bool cgroup_wants_delegation(const struct oci_config *c);
int cgroup_delegate(const struct cgroup_manager *m, pid_t pid, uint32_t uid,
                    struct skiff_error **err);

/*
 * `update`: makes the controllers r needs available, then writes r.  The
 * devices are replaced only when r->devices is non-empty.  A refused
 * request changes nothing where it can be checked first.
 */
int cgroup_update(const struct cgroup_manager *m, const struct oci_resources *r,
                  struct skiff_error **err);

/* Pauses (frozen) or resumes every process, waiting until the kernel agrees. */
int cgroup_freeze(const struct cgroup_manager *m, bool frozen, struct skiff_error **err);
/* The directory whose freezer holds the container (CRIU freezes it to dump); malloc'd. */
char *cgroup_freezer_dir(const struct cgroup_manager *m, struct skiff_error **err);
/* True when the container was paused. */
int cgroup_is_frozen(const struct cgroup_manager *m, bool *out, struct skiff_error **err);

/*
 * Sends sig to every process in the cgroup and its descendants; for
 * SIGKILL it returns once they are all gone.
 */
int cgroup_kill_all(const struct cgroup_manager *m, int sig, struct skiff_error **err);

/* Every pid in the cgroup and its descendants; *pids is malloc'd. */
int cgroup_pids(const struct cgroup_manager *m, pid_t **pids, size_t *n, struct skiff_error **err);

/* The counters `events --stats` reports. */
int cgroup_stats(const struct cgroup_manager *m, struct cgroup_stats *out,
                 struct skiff_error **err);

/*
 * OOM kills so far (0 when the memory controller is missing), and an fd
 * that polls readable when the count may have changed (-1: poll on a
 * timer).  The fd is the caller's to close.
 */
uint64_t cgroup_oom_kills(const struct cgroup_manager *m);
int cgroup_oom_watch(const struct cgroup_manager *m);

/*
 * Removes the cgroup and its descendants in every hierarchy, SIGKILLing
 * what is left first when kill is true.  A missing cgroup is not an error.
 */
int cgroup_destroy(const struct cgroup_manager *m, bool kill, struct skiff_error **err);

/* ---- the hierarchies, for mounts ---- */

/* The cgroup2 mount: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
int cgroup_mountpoint(const char **out, struct skiff_error **err);
/* Our own cgroup in the v2 hierarchy (the "0::" line of /proc/self/cgroup). */
int cgroup_own_path(char **out, struct skiff_error **err);
/* True when /sys/fs/cgroup is the cgroup2 hierarchy (cgroupfs then means fs2). */
bool cgroup_manager_is_unified(void);

/* A v1 hierarchy as a container's /sys/fs/cgroup shows it (runc's layout on v1 hosts). */
struct cgroup_v1_hierarchy {
	char *mnt;         /* /sys/fs/cgroup/cpu */
	char *controllers; /* "cpu", "cpu,cpuacct", "name=systemd" */
	char *path;        /* our own cgroup in it */
};

/* The v1 hierarchies of a legacy or hybrid host (none on a unified one). */
int cgroup_v1_hierarchies(struct cgroup_v1_hierarchy **out, size_t *n, struct skiff_error **err);
void cgroup_v1_hierarchies_free(struct cgroup_v1_hierarchy *h, size_t n);
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
	uint64_t memory_cache; /* page cache: v2 memory.stat "file", v1 "cache" */
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

void cgroup_stats_free(struct cgroup_stats *s);

#endif
