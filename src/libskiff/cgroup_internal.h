/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CGROUP_INTERNAL_H
#define SKIFF_CGROUP_INTERNAL_H

/*
 * Pieces shared by the cgroup*.c files, and
 * tested directly by tests/unit/cgroup_test.c.  Nothing here touches the
 * system except the helpers cgroup.c shares and cgroup_devices_install().
 */

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "libocispec/runtime_spec.h"

/* ---- resources -> files (cgroup_resources.c) ---- */

enum {
	CGW_IF_EXISTS = 1 << 0, /* skip quietly when the file does not exist */
	CGW_TRY = 1 << 1,       /* ignore a failed write (a later write repeats it) */
	CGW_UNIFIED = 1 << 2, /* from linux.resources.unified: a missing file is the key's fault */
	/*
	 * v1 blkio.weight*: blkio.bfq.weight* when CFQ's file is missing.  v2: one
	 * of a pair, io.bfq.weight where the cgroup has it (BFQ is loaded), else
	 * io.weight.
	 */
	CGW_BFQ = 1 << 3,
};

struct cgroup_write {
	char *file;  /* "memory.max" */
	char *value; /* "max" */
	char *what;  /* "memory limit": names the request in errors */
	int flags;
};

/* The files to write, in order. */
struct cgroup_plan {
	struct cgroup_write *w;
	size_t len;
	char **warnings; /* settings cgroup v2 cannot express, ignored; NULL-terminated */
};

/*
 * linux.resources.pids.limit as pids.max (spec 1.3.0): -1 (any negative) is
 * no limit, returned as -1 for "max"; 0 is a limit, returned as 1, because the
 * init is counted (born in the cgroup on v2, where 0 would refuse it) and
 * runc maps it the same way.
 */
static inline int64_t cgroup_pids_max(int64_t limit)
{
	return limit < 0 ? -1 : limit ? limit : 1;
}

/* Validates and converts r (may be NULL) into a plan; errors name the config field. */
int cgroup_plan_resources(const struct oci_resources *r, struct cgroup_plan *out,
                          struct skiff_error **err);
void cgroup_plan_free(struct cgroup_plan *p);
/* The value planned for file (the last one), or NULL. */
const char *cgroup_plan_get(const struct cgroup_plan *p, const char *file);

/*
 * The controller that owns a cgroup file ("memory.max" -> "memory"), or
 * false for core files (cgroup.*, *.pressure, cpu.stat) that need none.
 */
bool cgroup_file_controller(const char *file, char *buf, size_t size);

/* A linux.resources.unified key names one file in the cgroup directory. */
bool cgroup_unified_key_valid(const char *key);

/* cgroup_resolve_path() with the caller's own cgroup given (for tests). */
char *cgroup_resolve_path_from(const char *cgroups_path, const char *id, const char *own,
                               struct skiff_error **err);

/* The conversions, exposed for tests. */
uint64_t cgroup_shares_to_weight(uint64_t shares);
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight);

/* ---- shared by cgroup.c and cgroup_control.c ---- */

/* The cgroup's directory: mountpoint + path (checked: absolute, no ".."). */
char *cgroup_dir(const char *path, struct skiff_error **err);
/* Reads a cgroup file; -1 with errno set (ENOENT when missing), no error object. */
int cgroup_read_at(int dirfd, const char *file, char **out);
/* Waits (up to 10 s) until "key" in cgroup.events equals want; -1 with errno. */
int cgroup_wait_events(int dirfd, const char *key, unsigned long long want);
void cgroup_sleep_ms(long ms);
long cgroup_now_ms(void);

/* ---- device filter (cgroup_devices.c) ---- */

struct cgroup_bpf_prog {
	struct bpf_insn *insns;
	size_t len;
};

/* One linux.resources.devices rule, checked. */
struct cgroup_dev_rule {
	bool allow;
	char type;       /* 'a', 'c' or 'b' */
	int64_t major;   /* -1 = any */
	int64_t minor;   /* -1 = any */
	unsigned access; /* BPF_DEVCG_ACC_* bits */
};

/*
 * The config's rules, checked and converted, followed by skiff's default
 * devices when with_defaults is set (*out is malloc'd).
 */
int cgroup_devices_rules(const struct oci_device_cgroup *rules, size_t n, bool with_defaults,
                         struct cgroup_dev_rule **out, size_t *len, struct skiff_error **err);

/*
 * Compiles rules into a BPF_PROG_TYPE_CGROUP_DEVICE program.  Rules are
 * checked last to first and the first match decides, so later rules win;
 * skiff's default devices are appended after the config's rules when
 * with_defaults is set, so a config's "deny all" cannot take /dev/null
 * away.  Nothing matching means deny.
 */
int cgroup_devices_compile(const struct oci_device_cgroup *rules, size_t n, bool with_defaults,
                           struct cgroup_bpf_prog *out, struct skiff_error **err);
void cgroup_bpf_prog_free(struct cgroup_bpf_prog *p);

/* Loads prog and attaches it to the cgroup, replacing the programs skiff attached before. */
int cgroup_devices_install(int dirfd, const struct cgroup_bpf_prog *prog, struct skiff_error **err);

/* ---- drivers (cgroup_manager.c dispatches to these) ---- */

struct cgroup_created;
struct cgroup_stats;

/* One backend; every path is the container's, already resolved ("/a/b"). */
struct cgroup_driver {
	const char *name;
	/* linux.cgroupsPath -> the cgroup's path ("/a/b"), malloc'd */
	char *(*resolve)(const char *cgroups_path, const char *id, struct skiff_error **err);
	int (*create)(const char *path, const struct oci_resources *r, struct cgroup_created *out,
	              struct skiff_error **err);
	int (*enter)(const char *path, cgroup_subs subs, pid_t pid, struct skiff_error **err);
	int (*adopt)(const char *path, const struct cgroup_adoptee *a, struct skiff_error **err);
	/* After a failed create: removes what create and adopt made (made: see cgroup.h). */
	void (*unmake)(const char *path, char **made);
	int (*exec_target)(const char *path, pid_t init, cgroup_subs subs, int *fd,
	                   struct skiff_error **err);
	/* May be NULL: every hierarchy can be cloned into. */
	int (*exec_self)(const char *path, cgroup_subs subs, int *fd, struct cgroup_self *self,
	                 struct skiff_error **err);
	int (*delegate)(const char *path, pid_t pid, uint32_t uid, struct skiff_error **err);
	int (*update)(const char *path, const struct oci_resources *r, struct skiff_error **err);
	int (*freeze)(const char *path, bool frozen, struct skiff_error **err);
	int (*is_frozen)(const char *path, bool *out, struct skiff_error **err);
	char *(*freezer_dir)(const char *path, struct skiff_error **err);
	int (*kill_all)(const char *path, int sig, struct skiff_error **err);
	int (*pids)(const char *path, pid_t **pids, size_t *n, struct skiff_error **err);
	int (*stats)(const char *path, struct cgroup_stats *out, struct skiff_error **err);
	uint64_t (*oom_kills)(const char *path);
	int (*oom_watch)(const char *path);
	int (*destroy)(const char *path, bool kill, struct skiff_error **err);
};

extern const struct cgroup_driver cgroup_fs2_driver;
extern const struct cgroup_driver cgroup_fs1_driver;
#ifdef HAVE_SYSTEMD
/*
 * One name ("systemd") in the state, two tables: the scope's cgroup driven
 * as cgroup v2 (unified hosts), or as v1 hierarchies (legacy and hybrid
 * hosts, cgroup_systemd_v1.c).  A host's layout only changes with a reboot,
 * which also empties the state root.
 */
extern const struct cgroup_driver cgroup_systemd_driver;
extern const struct cgroup_driver cgroup_systemd_v1_driver;
#endif

/* The fs drivers' unmake: the directories in made, deepest first, once empty. */
void cgroup_unmake_dirs(const char *path, char **made);

/*
 * linux.cgroupsPath -> a path relative to the hierarchy roots, starting
 * with '/':
 *   absolute ("/a/b")   -> itself;
 *   relative ("a/b")    -> under the parent of the caller's cgroup2 cgroup;
 *   empty or NULL       -> "<parent of the caller's cgroup>/skiff-<id>".
 * The caller's own cgroup usually holds processes (a login scope, a
 * service), and v2's no-internal-process rule then forbids enabling
 * controllers for its children, so its parent is used, as runc does.
 * ".." components are refused.  Returns a malloc'd string, or NULL with *err.
 */
char *cgroup_resolve_path(const char *cgroups_path, const char *id, struct skiff_error **err);

/*
 * The sub-cgroup subs give for a hierarchy holding controllers ("cpu,cpuacct";
 * "" for cgroup2, which takes only entries without one): "" for none, else
 * "/PATH".  Checks every entry's form; errors name it.
 */
int cgroup_sub_for(cgroup_subs subs, const char *controllers, const char **out,
                   struct skiff_error **err);

/* ---- the cgroup v2 driver's pieces (cgroup_fs2*.c) ---- */

/*
 * Creates the cgroup (mkdir -p, 0755), enables in each ancestor's
 * cgroup.subtree_control every controller it has (as runc; failing only when
 * one that `r` needs cannot be enabled), writes the
 * resource files and attaches the device filter (skiff's defaults plus
 * r->devices).  *dirfd_out gets an O_DIRECTORY fd of the cgroup, for
 * clone3(CLONE_INTO_CGROUP).  On failure every directory it made is removed
 * again (pre-existing ones are left, and so are controllers it enabled in
 * pre-existing ancestors).  `r` may be NULL.
 */
int fs2_create(const char *path, const struct oci_resources *r, int *dirfd_out,
               struct skiff_error **err);

/*
 * Makes the controllers `r` needs available in the cgroup at path: enables
 * them in the cgroup.subtree_control of the root and of every ancestor
 * (`update`, for limits the container was not created with).
 */
int fs2_enable_controllers(const char *path, const struct oci_resources *r,
                           struct skiff_error **err);

/*
 * Cgroup ownership (runtime-spec config-linux): a container with a user
 * namespace and a cgroup namespace of its own that mounts /sys/fs/cgroup
 * read-write may run its own cgroup tree (systemd).  True when c mounts it
 * so.  fs2_delegate() then gives the host uid that process.user.uid
 * maps to in pid's user namespace the directory and the files listed in
 * /sys/kernel/cgroup/delegate; resource files stay the runtime's, since
 * they hand out the parent's resources.
 */
bool cgroup_wants_delegation(const struct oci_config *c);
int fs2_delegate(int dirfd, pid_t pid, uint32_t uid, struct skiff_error **err);

/* Moves pid into the cgroup (the fallback when CLONE_INTO_CGROUP is missing). */
int fs2_enter(int dirfd, pid_t pid, struct skiff_error **err);

/*
 * Writes the resource files for `r` (create and `update`).  The device
 * filter is replaced only when r->devices is non-empty.
 */
int fs2_apply_resources(int dirfd, const struct oci_resources *r, struct skiff_error **err);

/* fs2_apply_resources with the plan made already (the systemd driver adjusts it). */
int fs2_apply_plan(int dirfd, const struct cgroup_plan *plan, const struct oci_resources *r,
                   struct skiff_error **err);
/* checkBeforeUpdate: a memory limit below the cgroup's current usage is refused. */
int fs2_check_memory_usage(int dirfd, const struct oci_resources *r, struct skiff_error **err);

/* Writes cgroup.freeze and waits until cgroup.events agrees (thaws again on timeout). */
int fs2_freeze(const char *path, bool frozen, struct skiff_error **err);
/* True when cgroup.freeze is 1 (the container was paused). */
int fs2_is_frozen(const char *path, bool *out, struct skiff_error **err);

/*
 * Sends sig to every process in the cgroup and its descendants.  SIGKILL
 * uses cgroup.kill where the kernel has it, else signals cgroup.procs
 * until it stays empty; for SIGKILL it returns once the cgroup is empty.
 */
int fs2_kill_all(const char *path, int sig, struct skiff_error **err);

/* Every pid in the cgroup and its descendants; *pids is malloc'd. */
int fs2_pids(const char *path, pid_t **pids, size_t *n, struct skiff_error **err);

/*
 * Removes the cgroup and its descendants (depth first), SIGKILLing what is
 * left first when kill is true; EBUSY is retried for a few seconds.
 * A cgroup that does not exist is not an error.
 */
int fs2_destroy(const char *path, bool kill, struct skiff_error **err);

/*
 * fs2_create without the device filter when devices is false: the cgroup2
 * part of a hybrid host, where the v1 devices controller holds the rules.
 * It enables only the controllers `r` needs (that root is the host's).
 */
int fs2_create_part(const char *path, const struct oci_resources *r, bool devices, int *dirfd_out,
                    struct skiff_error **err);
/*
 * fs2_create (all: every controller enabled along the path) or
 * fs2_create_part with the plan made already; r gives the device rules.
 * On an existing cgroup (a systemd scope) it makes nothing, enables the
 * controllers along the path and writes the plan.
 */
int fs2_create_planned(const char *path, const struct cgroup_plan *plan,
                       const struct oci_resources *r, bool devices, bool all, int *dirfd_out,
                       struct skiff_error **err);
/* Every pid in dfd's cgroup and its descendants, appended to *pids. */
void cgroup_collect_pids(int dfd, pid_t **pids, size_t *n);
/* Removes dir's child cgroups (deepest first) and dir; a missing dir is fine. */
int cgroup_remove_tree(const char *dir, struct skiff_error **err);
/* Adds a write to a plan. */
void cgroup_plan_add(struct cgroup_plan *p, const char *file, int flags, const char *what,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* linux.resources.rdma as rdma.max lines (one format for v1 and v2). */
int cgroup_plan_rdma(const struct oci_rdma *r, size_t n, struct cgroup_plan *p,
                     struct skiff_error **err);

/* The fs2 counters (cgroup_fs2_stats.c). */
int fs2_stats(const char *path, struct cgroup_stats *out, struct skiff_error **err);
/* Whether a space-separated list (cgroup.controllers) holds word. */
bool cgroup_has_word(const char *list, const char *word);
/* The value after "key " in a flat-keyed file (cgroup.events, memory.events). */
bool cgroup_keyed_value(const char *data, const char *key, unsigned long long *out);

/* ---- the cgroup v1 driver's pieces (cgroup_fs1*.c) ---- */

struct fs1_hier {
	char *mnt;         /* /sys/fs/cgroup/cpu */
	char *controllers; /* "cpu" or "cpu,cpuacct" or "name=systemd" */
};

struct fs1_host {
	struct fs1_hier *v1;
	size_t n;
	char *v2; /* a hybrid host's cgroup2 mount, or NULL */
};

/*
 * The mounted v1 hierarchies (one entry per hierarchy) and the cgroup2 mount,
 * if any: read once per process, then shared (never freed).
 */
const struct fs1_host *fs1_host_get(struct skiff_error **err);
/* Where controller ("memory") is mounted, or NULL. */
const char *fs1_mount_of(const struct fs1_host *h, const char *controller);
/* Where the controller owning file ("memory.limit_in_bytes") is mounted; ctl gets its name. */
const char *fs1_mount_for_file(const struct fs1_host *h, const char *file, char *ctl, size_t size);
/*
 * Writes w into dir; errors name w->what (the config field).  *fd is the
 * file written, opened when it is -1 and left open for the caller to write
 * the same file again (and close).
 */
int fs1_write(const char *dir, const struct cgroup_write *w, int *fd, struct skiff_error **err);
/* Reads mnt + path + "/" + file; -1 with errno, no error object. */
int fs1_read(const char *mnt, const char *path, const char *file, char **out);

/* What a v1 container's cgroup gets written (cgroup_fs1.c). */
struct fs1_plan {
	struct cgroup_plan res, dev;
	struct oci_resources v2; /* what the cgroup2 part drives (borrows r's arrays) */
	bool v2_devices;         /* no v1 devices controller: the eBPF filter there */
};

/*
 * r's writes for the hierarchies h has, checked against what is mounted;
 * the device rules (skiff's defaults included) only when devices is set.
 * p is set even on failure: fs1_plan_free it.
 */
int fs1_plan_all(const struct fs1_host *h, const struct oci_resources *r, bool devices,
                 struct fs1_plan *p, struct skiff_error **err);
void fs1_plan_free(struct fs1_plan *p);
/*
 * For a cgroup systemd made in some hierarchies (a scope around pid): makes
 * path in every other hierarchy, writes p and moves pid into all of them.
 * On failure the directories it made are removed again.
 */
int fs1_join(const char *path, const struct fs1_plan *p, pid_t pid, struct skiff_error **err);
/* Writes p (`update`). */
int fs1_apply(const char *path, const struct fs1_plan *p, struct skiff_error **err);
/* checkBeforeUpdate: a memory limit below the cgroup's current usage is refused. */
int fs1_check_memory_usage(const char *path, const struct oci_resources *r,
                           struct skiff_error **err);

/*
 * linux.resources -> v1 writes (pure).  hugetlb: plan the hugepage limits
 * (false when the hugetlb controller lives in the cgroup2 part instead).
 */
int fs1_plan_resources(const struct oci_resources *r, bool hugetlb, struct cgroup_plan *out,
                       struct skiff_error **err);
/* The device rules (skiff's defaults appended) -> devices.allow/deny writes. */
int fs1_devices_plan(const struct oci_device_cgroup *rules, size_t n, struct cgroup_plan *out,
                     struct skiff_error **err);
/* The v1 counters (cgroup_fs1_stats.c). */
int fs1_stats(const char *path, struct cgroup_stats *out, struct skiff_error **err);

/* ---- the systemd driver's conversions (cgroup_systemd_props.c, sdbus_gvariant.c) ---- */

struct sd_props;
struct sd_value;

/* "a-b.slice" -> "/a.slice/a-b.slice" ("-.slice" -> ""); errors name linux.cgroupsPath. */
int sd_expand_slice(const char *slice, char **out, struct skiff_error **err);
/*
 * runc's systemd cgroupsPath "slice:prefix:name" -> the scope's cgroup path
 * ("/system.slice/prefix-name.scope"); empty -> default_slice, prefix
 * "skiff", name id.
 */
int sd_resolve_path(const char *cgroups_path, const char *id, const char *default_slice, char **out,
                    struct skiff_error **err);
/* The scope's unit name (the last component) and its slice (the one before, or "-.slice"). */
int sd_unit_of_path(const char *path, char **unit, char **slice);
/* "0-3,8" -> the byte array systemd's AllowedCPUs takes; -1 when malformed. */
int sd_cpuset_bits(const char *list, struct sd_value *out);
/*
 * The planned files systemd has properties for, as properties (version:
 * systemd's, for the ones newer systemds have).  A cpu.max quota that is
 * not a whole percent is rounded up in the plan too, so file and unit agree.
 */
void sd_props_from_plan(struct cgroup_plan *plan, int version, struct sd_props *ps);
/*
 * The same for a v1 plan (cgroup_fs1_resources.c's files), with systemd's
 * v1 names: MemoryLimit, CPUShares, CPUQuotaPerSecUSec and
 * CPUQuotaPeriodUSec (cpu.cfs_quota_us rounded up in the plan too),
 * BlockIOWeight, TasksMax, AllowedCPUs and AllowedMemoryNodes.
 */
void sd_props_from_plan_v1(struct cgroup_plan *plan, int version, struct sd_props *ps);
/*
 * The device rules (defaults included) as DevicePolicy and DeviceAllow; v1:
 * for a cgroup v1 host, where rules systemd cannot express are deny-all.
 */
void sd_props_devices(const struct cgroup_dev_rule *rules, size_t n, bool v1, struct sd_props *ps);
/* org.systemd.property.NAME annotations (GVariant text values) as properties. */
int sd_props_annotations(const struct oci_map *a, struct sd_props *ps, struct skiff_error **err);
/* One GVariant text value; *why says what is wrong. */
int sd_gvariant_parse(const char *text, struct sd_value *out, const char **why);

/* ---- the steps both systemd drivers share (cgroup_systemd.c) ---- */

/* Connects to the manager the caller's scopes belong to (system as root, else the user's). */
int sd_connect(struct skiff_error **err);
/* linux.cgroupsPath ("slice:prefix:name") -> the scope's cgroup path (the manager's). */
char *sd_resolve(const char *cgroups_path, const char *id, struct skiff_error **err);
/* The unit (and its slice) a scope's cgroup path names; errors name the path. */
int sd_unit_of(const char *path, char **unit, char **slice, struct skiff_error **err);
/* A loaded unit whose cgroup (read through fs) holds processes is another container's. */
int sd_unit_unused(const struct cgroup_driver *fs, const char *path, const char *unit,
                   struct skiff_error **err);
/* systemd's version when the plan holds one of the gated files (NULL-ended), else 0. */
int sd_version_for(const struct cgroup_plan *plan, const char *const *gated);
/* Description, Slice, Delegate, PIDs=[a->pid], accounting, DefaultDependencies=no. */
void sd_props_scope(const char *slice, const struct cgroup_adoptee *a, bool v1,
                    struct sd_props *ps);
/* r's device rules (skiff's defaults included) as properties; nothing when rootless. */
int sd_props_rules(const struct oci_resources *r, bool v1, struct sd_props *ps,
                   struct skiff_error **err);
void sd_log_props(const char *what, const char *unit, const struct sd_props *ps);
/* delete: kills (kill) through fs, stops the unit, removes what systemd left through fs. */
int sd_destroy_with(const struct cgroup_driver *fs, const char *path, bool kill,
                    struct skiff_error **err);
/* After a failed create: stops the scope unless another container's, then as above. */
void sd_unmake_with(const struct cgroup_driver *fs, const char *path, char **made);

/*
 * The systemd driver's own steps on a v1 host (cgroup_systemd_v1.c); the
 * rest of its table is the fs1 driver's (cgroup_fs1.c).
 */
char *sd1_resolve(const char *cgroups_path, const char *id, struct skiff_error **err);
int sd1_create(const char *path, const struct oci_resources *r, struct cgroup_created *out,
               struct skiff_error **err);
int sd1_adopt(const char *path, const struct cgroup_adoptee *a, struct skiff_error **err);
void sd1_unmake(const char *path, char **made);
int sd1_update(const char *path, const struct oci_resources *r, struct skiff_error **err);
int sd1_destroy(const char *path, bool kill, struct skiff_error **err);

#endif
