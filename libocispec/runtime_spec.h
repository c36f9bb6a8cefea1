/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OCISPEC_RUNTIME_SPEC_H
#define OCISPEC_RUNTIME_SPEC_H

/*
 * The OCI runtime-spec data model (config.json, state.json, features) as
 * typed C structs, with a parser and a generator.  Nothing here touches
 * the system.
 *
 * Conventions:
 *  - strings are `char *`, NULL when absent;
 *  - string arrays are NULL-terminated `char **`, NULL when absent;
 *  - arrays of structs are `T *x` plus `size_t x_len`;
 *  - an optional number or bool has `bool has_<name>` beside it;
 *  - maps of strings are `struct oci_map` (insertion order kept).
 * Unknown JSON fields are ignored; a wrong type or impossible value is an
 * error naming the field path: "config.json: process.rlimits[2].hard:
 * expected an unsigned integer".
 *
 * Input handling (see tests/unit/corpus/EXPECTED for every message):
 *  - null reads as absent; JSON comments are accepted (yajl_tree allows them);
 *  - integers must be written as integers (no 1.0, no 1e3) and fit their C type;
 *  - a key repeated in any object the parser reads is an error:
 *    "config.json: process.user: duplicate key "uid"";
 *  - documents nested deeper than 64 levels, NUL bytes, malformed UTF-8
 *    (overlong forms, surrogates, > U+10FFFF), "\u0000" and unpaired
 *    surrogate escapes are refused as "invalid JSON: ... at line L, column C".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCI_SPEC_VERSION "1.3.0"

struct oci_map {
	size_t len;
	char **keys;
	char **values;
};

/* ---- process ---- */

struct oci_box {
	uint64_t height, width;
};

struct oci_user {
	uint32_t uid, gid;
	bool has_umask;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t additional_gids_len;
	char *username; /* windows; kept for round trips */
};

struct oci_capabilities {
	char **bounding, **effective, **inheritable, **permitted, **ambient;
};

struct oci_rlimit {
	char *type;
	uint64_t soft, hard;
};

struct oci_scheduler {
	char *policy; /* SCHED_OTHER, ... */
	bool has_nice;
	int32_t nice;
	bool has_priority;
	int32_t priority;
	char **flags; /* SCHED_FLAG_* */
	bool has_runtime, has_deadline, has_period;
	uint64_t runtime, deadline, period;
};

struct oci_io_priority {
	char *class; /* IOPRIO_CLASS_RT | _BE | _IDLE */
	int32_t priority;
};

struct oci_exec_cpu_affinity {
	char *initial, *final;
};

struct oci_process {
	bool terminal;
	struct oci_box *console_size;
	struct oci_user user;
	char **args;
	char *command_line; /* windows */
	char **env;
	char *cwd;
	struct oci_capabilities *capabilities;
	struct oci_rlimit *rlimits;
	size_t rlimits_len;
	bool no_new_privileges;
	char *apparmor_profile;
	bool has_oom_score_adj;
	int32_t oom_score_adj;
	struct oci_scheduler *scheduler;
	char *selinux_label;
	struct oci_io_priority *io_priority;
	struct oci_exec_cpu_affinity *exec_cpu_affinity;
};

/* ---- root, mounts, hooks ---- */

struct oci_root {
	char *path;
	bool readonly;
};

struct oci_id_mapping {
	uint32_t container_id, host_id, size;
};

struct oci_mount {
	char *destination;
	char *type;
	char *source;
	char **options;
	struct oci_id_mapping *uid_mappings;
	size_t uid_mappings_len;
	struct oci_id_mapping *gid_mappings;
	size_t gid_mappings_len;
};

struct oci_hook {
	char *path;
	char **args;
	char **env;
	bool has_timeout;
	int64_t timeout; /* seconds, > 0 */
};

struct oci_hook_list {
	struct oci_hook *hooks;
	size_t len;
};

struct oci_hooks {
	struct oci_hook_list prestart, create_runtime, create_container, start_container, poststart,
	    poststop;
};

/* ---- linux ---- */

struct oci_namespace {
	char *type; /* pid network mount ipc uts user cgroup time */
	char *path;
};

struct oci_time_offset {
	int64_t secs;
	uint32_t nanosecs;
};

struct oci_time_offsets {
	bool has_boottime, has_monotonic;
	struct oci_time_offset boottime, monotonic;
};

struct oci_device {
	char *type; /* c b u p */
	char *path;
	bool has_major, has_minor, has_file_mode, has_uid, has_gid;
	int64_t major, minor;
	uint32_t file_mode, uid, gid;
};

struct oci_device_cgroup {
	bool allow;
	char *type; /* a c b, NULL = all */
	bool has_major, has_minor;
	int64_t major, minor; /* -1 = all */
	char *access;         /* rwm subset */
};

struct oci_memory {
	bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness;
	int64_t limit, reservation, swap, kernel, kernel_tcp;
	uint64_t swappiness;
	bool has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
	bool disable_oom_killer, use_hierarchy, check_before_update;
};

struct oci_cpu {
	bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
	    has_realtime_period, has_idle;
	uint64_t shares;
	int64_t quota;
	uint64_t burst, period;
	int64_t realtime_runtime;
	uint64_t realtime_period;
	int64_t idle;
	char *cpus, *mems;
};

struct oci_pids {
	bool has_limit;
	int64_t limit;
};

struct oci_weight_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
};

struct oci_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct oci_block_io {
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
	struct oci_weight_device *weight_device;
	size_t weight_device_len;
	struct oci_throttle_device *throttle_read_bps_device, *throttle_write_bps_device,
	    *throttle_read_iops_device, *throttle_write_iops_device;
	size_t throttle_read_bps_device_len, throttle_write_bps_device_len,
	    throttle_read_iops_device_len, throttle_write_iops_device_len;
};

struct oci_hugepage_limit {
	char *page_size;
	uint64_t limit;
};

struct oci_network_priority {
	char *name;
	uint32_t priority;
};

struct oci_network {
	bool has_class_id;
	uint32_t class_id;
	struct oci_network_priority *priorities;
	size_t priorities_len;
};

struct oci_rdma {
	char *device; /* the map key */
	bool has_hca_handles, has_hca_objects;
	uint32_t hca_handles, hca_objects;
};

struct oci_resources {
	struct oci_device_cgroup *devices;
	size_t devices_len;
	struct oci_memory *memory;
	struct oci_cpu *cpu;
	struct oci_pids *pids;
	struct oci_block_io *block_io;
	struct oci_hugepage_limit *hugepage_limits;
	size_t hugepage_limits_len;
	struct oci_network *network;
	struct oci_rdma *rdma;
	size_t rdma_len;
	struct oci_map unified;
};

struct oci_seccomp_arg {
	uint32_t index;
	uint64_t value, value_two;
	char *op; /* SCMP_CMP_NE ... */
};

struct oci_seccomp_syscall {
	char **names;
	char *action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct oci_seccomp_arg *args;
	size_t args_len;
};

struct oci_seccomp {
	char *default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures;
	char **flags;
	char *listener_path;
	char *listener_metadata;
	struct oci_seccomp_syscall *syscalls;
	size_t syscalls_len;
};

struct oci_intel_rdt {
	char *clos_id, *l3_cache_schema, *mem_bw_schema;
	bool enable_cmt, enable_mbm; /* up to 1.2.1; replaced by enableMonitoring */
	bool enable_monitoring;
	char **schemata; /* whole lines for resctrl's schemata file */
};

struct oci_personality {
	char *domain; /* LINUX | LINUX32 */
	char **flags;
};

struct oci_net_device {
	char *host_name; /* the map key */
	char *name;
};

struct oci_memory_policy {
	char *mode; /* MPOL_* */
	char *nodes;
	char **flags;
};

struct oci_linux {
	struct oci_namespace *namespaces;
	size_t namespaces_len;
	struct oci_id_mapping *uid_mappings;
	size_t uid_mappings_len;
	struct oci_id_mapping *gid_mappings;
	size_t gid_mappings_len;
	struct oci_time_offsets *time_offsets;
	struct oci_device *devices;
	size_t devices_len;
	char *cgroups_path;
	struct oci_resources *resources;
	char *rootfs_propagation;
	struct oci_seccomp *seccomp;
	struct oci_map sysctl;
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	struct oci_intel_rdt *intel_rdt;
	struct oci_personality *personality;
	struct oci_net_device *net_devices;
	size_t net_devices_len;
	struct oci_memory_policy *memory_policy;
};

struct oci_config {
	char *oci_version;
	struct oci_process *process;
	struct oci_root *root;
	char *hostname;
	char *domainname;
	struct oci_mount *mounts;
	size_t mounts_len;
	struct oci_hooks *hooks;
	struct oci_map annotations;
	struct oci_linux *linux_;
};

/* ---- state.json (the spec's state, as `skiff state` prints it) ---- */

struct oci_state {
	char *oci_version;
	char *id;
	char *status; /* creating created running stopped paused */
	bool has_pid;
	int32_t pid;
	char *bundle;
	struct oci_map annotations;
};

/* ---- features (runtime-spec features.md, as `skiff features` prints it) ---- */

/* For features that are just on/off; has_enabled false = unknown. */
struct oci_features_enabled {
	bool has_enabled, enabled;
};

struct oci_features_cgroup {
	bool has_v1, has_v2, has_systemd, has_systemd_user, has_rdma;
	bool v1, v2, systemd, systemd_user, rdma;
};

struct oci_features_seccomp {
	bool has_enabled, enabled;
	char **actions, **operators, **archs, **known_flags, **supported_flags;
};

struct oci_features_mount_extensions {
	struct oci_features_enabled *idmap;
};

/* features-linux.md 1.3.0: intelRdt says which of its fields the runtime supports. */
struct oci_features_intel_rdt {
	bool has_enabled, enabled;
	bool has_schemata, schemata;
	bool has_monitoring, monitoring;
};

struct oci_features_memory_policy {
	char **modes, **flags;
};

struct oci_features_linux {
	char **namespaces, **capabilities;
	struct oci_features_cgroup *cgroup;
	struct oci_features_seccomp *seccomp;
	struct oci_features_enabled *apparmor, *selinux, *net_devices;
	struct oci_features_intel_rdt *intel_rdt;
	struct oci_features_mount_extensions *mount_extensions;
	struct oci_features_memory_policy *memory_policy;
};

struct oci_features {
	char *oci_version_min, *oci_version_max; /* required */
	char **hooks, **mount_options;
	struct oci_map annotations;
	char **potentially_unsafe_config_annotations;
	struct oci_features_linux *linux_;
};

/*
 * Parsing.  `name` prefixes every error ("config.json").  On failure the
 * functions return NULL and set *err to a malloc'd one-line message.
 */
struct oci_config *oci_config_parse_file(const char *path, const char *name, char **err);
struct oci_config *oci_config_parse_data(const char *data, size_t len, const char *name,
                                         char **err);
/* A lone `process` object, as `exec --process FILE` passes it. */
struct oci_process *oci_process_parse_data(const char *data, size_t len, const char *name,
                                           char **err);
/* A lone `linux.resources` object, as `update --resources` passes it. */
struct oci_resources *oci_resources_parse_data(const char *data, size_t len, const char *name,
                                               char **err);
struct oci_state *oci_state_parse_data(const char *data, size_t len, const char *name, char **err);

struct oci_features *oci_features_parse_data(const char *data, size_t len, const char *name,
                                             char **err);

/*
 * Generation: pretty-printed JSON (2-space indent, trailing newline),
 * malloc'd, NUL-terminated; NULL with *err on failure (a string that is not
 * valid UTF-8, a NULL map key).  Absent optional fields are left out.
 */
char *oci_config_generate(const struct oci_config *c, char **err);
char *oci_process_generate(const struct oci_process *p, char **err);
char *oci_resources_generate(const struct oci_resources *r, char **err);
char *oci_state_generate(const struct oci_state *s, char **err);
char *oci_features_generate(const struct oci_features *f, char **err);

/* Free everything the struct owns, then the struct; NULL is fine. */
void oci_config_free(struct oci_config *c);
void oci_process_free(struct oci_process *p);
void oci_resources_free(struct oci_resources *r);
void oci_state_free(struct oci_state *s);
void oci_features_free(struct oci_features *f);

/* Deep equality (every field, absent vs. empty distinguished); NULLs compare equal. */
bool oci_config_equal(const struct oci_config *a, const struct oci_config *b);

/* Map helper: the value for key, or NULL. */
const char *oci_map_get(const struct oci_map *m, const char *key);

#endif
