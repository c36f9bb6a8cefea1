/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Descriptor tables for config.json (runtime-spec config.md and
 * config-linux.md): one table per struct of runtime_spec.h, listed leaves
 * first because each table points at its children.  A new spec field is
 * one line here.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_tables.h"

#define DESC(name, type, ...)                                                                      \
	static const struct jw_struct name##_desc = {.fields = name##_fields,                      \
	                                             .nfields = JW_COUNT(name##_fields),           \
	                                             .size = sizeof(type),                         \
	                                             __VA_ARGS__}

/* ---- value checks ---- */

int oci_check_version(struct jw_ctx *ctx, const void *field)
{
	const char *v = *(char *const *)field;
	char *q;
	int r;

	/* any 1.x: minor versions only add fields, which we ignore when unknown */
	if (strncmp(v, "1.", 2) == 0)
		return 0;
	q = jw_quote(v, 64);
	r = jw_fail(ctx, "unsupported version %s (skiff supports 1.x)", q ? q : "?");
	free(q);
	return r;
}

static int check_namespace_type(struct jw_ctx *ctx, const void *field)
{
	static const char *const types[] = {"pid", "network", "mount",  "ipc",
	                                    "uts", "user",    "cgroup", "time"};
	const char *t = *(char *const *)field;
	char *q;
	size_t i;
	int r;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return 0;
	q = jw_quote(t, 64);
	r = jw_fail(ctx,
	            "unknown namespace type %s (expected pid, network, mount, ipc, uts, user, "
	            "cgroup or time)",
	            q ? q : "?");
	free(q);
	return r;
}

static int check_hook_timeout(struct jw_ctx *ctx, const void *field)
{
	long long t = *(const int64_t *)field;

	return t > 0 ? 0 : jw_fail(ctx, "must be a positive number of seconds, got %lld", t);
}

/* ---- process ---- */

#define JW_T struct oci_box
static const struct jw_field box_fields[] = {
    JW_F("height", JW_UINT64, height),
    JW_F("width", JW_UINT64, width),
};
#undef JW_T
DESC(box, struct oci_box);

#define JW_T struct oci_user
static const struct jw_field user_fields[] = {
    JW_F("uid", JW_UINT32, uid),
    JW_F("gid", JW_UINT32, gid),
    JW_OPT("umask", JW_UINT32, umask),
    JW_ARR("additionalGids", JW_UINT32_ARRAY, additional_gids),
    JW_F("username", JW_STRING, username),
};
#undef JW_T
DESC(user, struct oci_user);

#define JW_T struct oci_capabilities
static const struct jw_field capabilities_fields[] = {
    JW_F("bounding", JW_STRING_ARRAY, bounding),
    JW_F("effective", JW_STRING_ARRAY, effective),
    JW_F("inheritable", JW_STRING_ARRAY, inheritable),
    JW_F("permitted", JW_STRING_ARRAY, permitted),
    JW_F("ambient", JW_STRING_ARRAY, ambient),
};
#undef JW_T
DESC(capabilities, struct oci_capabilities);

#define JW_T struct oci_rlimit
static const struct jw_field rlimit_fields[] = {
    JW_F("type", JW_STRING, type, .flags = JW_REQUIRED),
    JW_F("soft", JW_UINT64, soft, .flags = JW_REQUIRED),
    JW_F("hard", JW_UINT64, hard, .flags = JW_REQUIRED),
};
#undef JW_T
DESC(rlimit, struct oci_rlimit);

#define JW_T struct oci_scheduler
static const struct jw_field scheduler_fields[] = {
    JW_F("policy", JW_STRING, policy),      JW_OPT("nice", JW_INT32, nice),
    JW_OPT("priority", JW_INT32, priority), JW_F("flags", JW_STRING_ARRAY, flags),
    JW_OPT("runtime", JW_UINT64, runtime),  JW_OPT("deadline", JW_UINT64, deadline),
    JW_OPT("period", JW_UINT64, period),
};
#undef JW_T
DESC(scheduler, struct oci_scheduler);

#define JW_T struct oci_io_priority
static const struct jw_field io_priority_fields[] = {
    JW_F("class", JW_STRING, class),
    JW_F("priority", JW_INT32, priority),
};
#undef JW_T
DESC(io_priority, struct oci_io_priority);

#define JW_T struct oci_exec_cpu_affinity
static const struct jw_field exec_cpu_affinity_fields[] = {
    JW_F("initial", JW_STRING, initial),
    JW_F("final", JW_STRING, final),
};
#undef JW_T
DESC(exec_cpu_affinity, struct oci_exec_cpu_affinity);

#define JW_T struct oci_process
static const struct jw_field process_fields[] = {
    JW_F("terminal", JW_BOOL, terminal),
    JW_F("consoleSize", JW_STRUCT, console_size, .sub = &box_desc),
    JW_F("user", JW_INLINE, user, .sub = &user_desc),
    JW_F("args", JW_STRING_ARRAY, args),
    JW_F("commandLine", JW_STRING, command_line),
    JW_F("env", JW_STRING_ARRAY, env),
    JW_F("cwd", JW_STRING, cwd),
    JW_F("capabilities", JW_STRUCT, capabilities, .sub = &capabilities_desc),
    JW_ARR("rlimits", JW_STRUCT_ARRAY, rlimits, .sub = &rlimit_desc),
    JW_F("noNewPrivileges", JW_BOOL, no_new_privileges),
    JW_F("apparmorProfile", JW_STRING, apparmor_profile),
    JW_OPT("oomScoreAdj", JW_INT32, oom_score_adj),
    JW_F("scheduler", JW_STRUCT, scheduler, .sub = &scheduler_desc),
    JW_F("selinuxLabel", JW_STRING, selinux_label),
    JW_F("ioPriority", JW_STRUCT, io_priority, .sub = &io_priority_desc),
    JW_F("execCPUAffinity", JW_STRUCT, exec_cpu_affinity, .sub = &exec_cpu_affinity_desc),
};
#undef JW_T
const struct jw_struct oci_process_desc = {.fields = process_fields,
                                           .nfields = JW_COUNT(process_fields),
                                           .size = sizeof(struct oci_process)};

/* ---- root, mounts, hooks ---- */

#define JW_T struct oci_root
static const struct jw_field root_fields[] = {
    JW_F("path", JW_STRING, path, .flags = JW_REQUIRED),
    JW_F("readonly", JW_BOOL, readonly),
};
#undef JW_T
DESC(root, struct oci_root);

#define JW_T struct oci_id_mapping
static const struct jw_field id_mapping_fields[] = {
    JW_F("containerID", JW_UINT32, container_id, .flags = JW_REQUIRED),
    JW_F("hostID", JW_UINT32, host_id, .flags = JW_REQUIRED),
    JW_F("size", JW_UINT32, size, .flags = JW_REQUIRED),
};
#undef JW_T
DESC(id_mapping, struct oci_id_mapping);

#define JW_T struct oci_mount
static const struct jw_field mount_fields[] = {
    JW_F("destination", JW_STRING, destination, .flags = JW_REQUIRED),
    JW_F("type", JW_STRING, type),
    JW_F("source", JW_STRING, source),
    JW_F("options", JW_STRING_ARRAY, options),
    JW_ARR("uidMappings", JW_STRUCT_ARRAY, uid_mappings, .sub = &id_mapping_desc),
    JW_ARR("gidMappings", JW_STRUCT_ARRAY, gid_mappings, .sub = &id_mapping_desc),
};
#undef JW_T
DESC(mount, struct oci_mount);

#define JW_T struct oci_hook
static const struct jw_field hook_fields[] = {
    JW_F("path", JW_STRING, path, .flags = JW_REQUIRED),
    JW_F("args", JW_STRING_ARRAY, args),
    JW_F("env", JW_STRING_ARRAY, env),
    JW_OPT("timeout", JW_INT64, timeout, .check = check_hook_timeout),
};
#undef JW_T
DESC(hook, struct oci_hook);

#define JW_T struct oci_hooks
#define HOOKS(json, m)                                                                             \
	JW_F(json, JW_STRUCT_ARRAY, m.hooks, .len_off = JW_OFF16(offsetof(JW_T, m.len)),           \
	     .sub = &hook_desc)
static const struct jw_field hooks_fields[] = {
    HOOKS("prestart", prestart),
    HOOKS("createRuntime", create_runtime),
    HOOKS("createContainer", create_container),
    HOOKS("startContainer", start_container),
    HOOKS("poststart", poststart),
    HOOKS("poststop", poststop),
};
#undef HOOKS
#undef JW_T
DESC(hooks, struct oci_hooks);

/* ---- linux.resources ---- */

#define JW_T struct oci_device_cgroup
static const struct jw_field device_cgroup_fields[] = {
    JW_F("allow", JW_BOOL, allow, .flags = JW_ALWAYS),
    JW_F("type", JW_STRING, type),
    JW_OPT("major", JW_INT64, major),
    JW_OPT("minor", JW_INT64, minor),
    JW_F("access", JW_STRING, access),
};
#undef JW_T
DESC(device_cgroup, struct oci_device_cgroup);

#define JW_T struct oci_memory
static const struct jw_field memory_fields[] = {
    JW_OPT("limit", JW_INT64, limit),
    JW_OPT("reservation", JW_INT64, reservation),
    JW_OPT("swap", JW_INT64, swap),
    JW_OPT("kernel", JW_INT64, kernel),
    JW_OPT("kernelTCP", JW_INT64, kernel_tcp),
    JW_OPT("swappiness", JW_UINT64, swappiness),
    JW_OPT("disableOOMKiller", JW_BOOL, disable_oom_killer),
    JW_OPT("useHierarchy", JW_BOOL, use_hierarchy),
    JW_OPT("checkBeforeUpdate", JW_BOOL, check_before_update),
};
#undef JW_T
DESC(memory, struct oci_memory);

#define JW_T struct oci_cpu
static const struct jw_field cpu_fields[] = {
    JW_OPT("shares", JW_UINT64, shares),
    JW_OPT("quota", JW_INT64, quota),
    JW_OPT("burst", JW_UINT64, burst),
    JW_OPT("period", JW_UINT64, period),
    JW_OPT("realtimeRuntime", JW_INT64, realtime_runtime),
    JW_OPT("realtimePeriod", JW_UINT64, realtime_period),
    JW_F("cpus", JW_STRING, cpus),
    JW_F("mems", JW_STRING, mems),
    JW_OPT("idle", JW_INT64, idle),
};
#undef JW_T
DESC(cpu, struct oci_cpu);

#define JW_T struct oci_pids
static const struct jw_field pids_fields[] = {
    JW_OPT("limit", JW_INT64, limit),
};
#undef JW_T
DESC(pids, struct oci_pids);

#define JW_T struct oci_weight_device
static const struct jw_field weight_device_fields[] = {
    JW_F("major", JW_INT64, major),
    JW_F("minor", JW_INT64, minor),
    JW_OPT("weight", JW_UINT16, weight),
    JW_OPT("leafWeight", JW_UINT16, leaf_weight),
};
#undef JW_T
DESC(weight_device, struct oci_weight_device);

#define JW_T struct oci_throttle_device
static const struct jw_field throttle_device_fields[] = {
    JW_F("major", JW_INT64, major),
    JW_F("minor", JW_INT64, minor),
    JW_F("rate", JW_UINT64, rate),
};
#undef JW_T
DESC(throttle_device, struct oci_throttle_device);

#define JW_T              struct oci_block_io
#define THROTTLE(json, m) JW_ARR(json, JW_STRUCT_ARRAY, m, .sub = &throttle_device_desc)
static const struct jw_field block_io_fields[] = {
    JW_OPT("weight", JW_UINT16, weight),
    JW_OPT("leafWeight", JW_UINT16, leaf_weight),
    JW_ARR("weightDevice", JW_STRUCT_ARRAY, weight_device, .sub = &weight_device_desc),
    THROTTLE("throttleReadBpsDevice", throttle_read_bps_device),
    THROTTLE("throttleWriteBpsDevice", throttle_write_bps_device),
    THROTTLE("throttleReadIOPSDevice", throttle_read_iops_device),
    THROTTLE("throttleWriteIOPSDevice", throttle_write_iops_device),
};
#undef THROTTLE
#undef JW_T
DESC(block_io, struct oci_block_io);

#define JW_T struct oci_hugepage_limit
static const struct jw_field hugepage_limit_fields[] = {
    JW_F("pageSize", JW_STRING, page_size),
    JW_F("limit", JW_UINT64, limit),
};
#undef JW_T
DESC(hugepage_limit, struct oci_hugepage_limit);

#define JW_T struct oci_network_priority
static const struct jw_field network_priority_fields[] = {
    JW_F("name", JW_STRING, name),
    JW_F("priority", JW_UINT32, priority),
};
#undef JW_T
DESC(network_priority, struct oci_network_priority);

#define JW_T struct oci_network
static const struct jw_field network_fields[] = {
    JW_OPT("classID", JW_UINT32, class_id),
    JW_ARR("priorities", JW_STRUCT_ARRAY, priorities, .sub = &network_priority_desc),
};
#undef JW_T
DESC(network, struct oci_network);

/* the device name is the map key, kept in oci_rdma.device */
#define JW_T struct oci_rdma
static const struct jw_field rdma_fields[] = {
    JW_OPT("hcaHandles", JW_UINT32, hca_handles),
    JW_OPT("hcaObjects", JW_UINT32, hca_objects),
};
#undef JW_T
DESC(rdma, struct oci_rdma, .key_off = JW_OFF16(offsetof(struct oci_rdma, device)));

#define JW_T struct oci_resources
static const struct jw_field resources_fields[] = {
    JW_ARR("devices", JW_STRUCT_ARRAY, devices, .sub = &device_cgroup_desc),
    JW_F("memory", JW_STRUCT, memory, .sub = &memory_desc),
    JW_F("cpu", JW_STRUCT, cpu, .sub = &cpu_desc),
    JW_F("pids", JW_STRUCT, pids, .sub = &pids_desc),
    JW_F("blockIO", JW_STRUCT, block_io, .sub = &block_io_desc),
    JW_ARR("hugepageLimits", JW_STRUCT_ARRAY, hugepage_limits, .sub = &hugepage_limit_desc),
    JW_F("network", JW_STRUCT, network, .sub = &network_desc),
    JW_ARR("rdma", JW_STRUCT_MAP, rdma, .sub = &rdma_desc),
    JW_F("unified", JW_STRING_MAP, unified),
};
#undef JW_T
const struct jw_struct oci_resources_desc = {.fields = resources_fields,
                                             .nfields = JW_COUNT(resources_fields),
                                             .size = sizeof(struct oci_resources)};

/* ---- linux ---- */

#define JW_T struct oci_namespace
static const struct jw_field namespace_fields[] = {
    JW_F("type", JW_STRING, type, .flags = JW_REQUIRED, .check = check_namespace_type),
    JW_F("path", JW_STRING, path),
};
#undef JW_T
DESC(namespace, struct oci_namespace);

#define JW_T struct oci_time_offset
static const struct jw_field time_offset_fields[] = {
    JW_F("secs", JW_INT64, secs),
    JW_F("nanosecs", JW_UINT32, nanosecs),
};
#undef JW_T
DESC(time_offset, struct oci_time_offset);

#define JW_T struct oci_time_offsets
static const struct jw_field time_offsets_fields[] = {
    JW_OPT("boottime", JW_INLINE, boottime, .sub = &time_offset_desc),
    JW_OPT("monotonic", JW_INLINE, monotonic, .sub = &time_offset_desc),
};
#undef JW_T
DESC(time_offsets, struct oci_time_offsets);

#define JW_T struct oci_device
static const struct jw_field device_fields[] = {
    JW_F("type", JW_STRING, type, .flags = JW_REQUIRED),
    JW_F("path", JW_STRING, path, .flags = JW_REQUIRED),
    JW_OPT("major", JW_INT64, major),
    JW_OPT("minor", JW_INT64, minor),
    JW_OPT("fileMode", JW_UINT32, file_mode),
    JW_OPT("uid", JW_UINT32, uid),
    JW_OPT("gid", JW_UINT32, gid),
};
#undef JW_T
DESC(device, struct oci_device);

#define JW_T struct oci_seccomp_arg
static const struct jw_field seccomp_arg_fields[] = {
    JW_F("index", JW_UINT32, index),
    JW_F("value", JW_UINT64, value),
    JW_F("valueTwo", JW_UINT64, value_two),
    JW_F("op", JW_STRING, op),
};
#undef JW_T
DESC(seccomp_arg, struct oci_seccomp_arg);

#define JW_T struct oci_seccomp_syscall
static const struct jw_field seccomp_syscall_fields[] = {
    JW_F("names", JW_STRING_ARRAY, names, .flags = JW_REQUIRED),
    JW_F("action", JW_STRING, action, .flags = JW_REQUIRED),
    JW_OPT("errnoRet", JW_UINT32, errno_ret),
    JW_ARR("args", JW_STRUCT_ARRAY, args, .sub = &seccomp_arg_desc),
};
#undef JW_T
DESC(seccomp_syscall, struct oci_seccomp_syscall);

#define JW_T struct oci_seccomp
static const struct jw_field seccomp_fields[] = {
    JW_F("defaultAction", JW_STRING, default_action),
    JW_OPT("defaultErrnoRet", JW_UINT32, default_errno_ret),
    JW_F("architectures", JW_STRING_ARRAY, architectures),
    JW_F("flags", JW_STRING_ARRAY, flags),
    JW_F("listenerPath", JW_STRING, listener_path),
    JW_F("listenerMetadata", JW_STRING, listener_metadata),
    JW_ARR("syscalls", JW_STRUCT_ARRAY, syscalls, .sub = &seccomp_syscall_desc),
};
#undef JW_T
DESC(seccomp, struct oci_seccomp);

#define JW_T struct oci_intel_rdt
static const struct jw_field intel_rdt_fields[] = {
    JW_F("closID", JW_STRING, clos_id),
    JW_F("l3CacheSchema", JW_STRING, l3_cache_schema),
    JW_F("memBwSchema", JW_STRING, mem_bw_schema),
    JW_F("schemata", JW_STRING_ARRAY, schemata),
    JW_F("enableCMT", JW_BOOL, enable_cmt),
    JW_F("enableMBM", JW_BOOL, enable_mbm),
    JW_F("enableMonitoring", JW_BOOL, enable_monitoring),
};
#undef JW_T
DESC(intel_rdt, struct oci_intel_rdt);

#define JW_T struct oci_personality
static const struct jw_field personality_fields[] = {
    JW_F("domain", JW_STRING, domain),
    JW_F("flags", JW_STRING_ARRAY, flags),
};
#undef JW_T
DESC(personality, struct oci_personality);

/* the host interface name is the map key, kept in oci_net_device.host_name */
#define JW_T struct oci_net_device
static const struct jw_field net_device_fields[] = {
    JW_F("name", JW_STRING, name),
};
#undef JW_T
DESC(net_device, struct oci_net_device,
     .key_off = JW_OFF16(offsetof(struct oci_net_device, host_name)));

#define JW_T struct oci_memory_policy
static const struct jw_field memory_policy_fields[] = {
    JW_F("mode", JW_STRING, mode),
    JW_F("nodes", JW_STRING, nodes),
    JW_F("flags", JW_STRING_ARRAY, flags),
};
#undef JW_T
DESC(memory_policy, struct oci_memory_policy);

#define JW_T struct oci_linux
static const struct jw_field linux_fields[] = {
    JW_ARR("namespaces", JW_STRUCT_ARRAY, namespaces, .sub = &namespace_desc),
    JW_ARR("uidMappings", JW_STRUCT_ARRAY, uid_mappings, .sub = &id_mapping_desc),
    JW_ARR("gidMappings", JW_STRUCT_ARRAY, gid_mappings, .sub = &id_mapping_desc),
    JW_F("timeOffsets", JW_STRUCT, time_offsets, .sub = &time_offsets_desc),
    JW_ARR("devices", JW_STRUCT_ARRAY, devices, .sub = &device_desc),
    JW_F("cgroupsPath", JW_STRING, cgroups_path),
    JW_F("resources", JW_STRUCT, resources, .sub = &oci_resources_desc),
    JW_F("rootfsPropagation", JW_STRING, rootfs_propagation),
    JW_F("seccomp", JW_STRUCT, seccomp, .sub = &seccomp_desc),
    JW_F("sysctl", JW_STRING_MAP, sysctl),
    JW_F("maskedPaths", JW_STRING_ARRAY, masked_paths),
    JW_F("readonlyPaths", JW_STRING_ARRAY, readonly_paths),
    JW_F("mountLabel", JW_STRING, mount_label),
    JW_F("intelRdt", JW_STRUCT, intel_rdt, .sub = &intel_rdt_desc),
    JW_F("personality", JW_STRUCT, personality, .sub = &personality_desc),
    JW_ARR("netDevices", JW_STRUCT_MAP, net_devices, .sub = &net_device_desc),
    JW_F("memoryPolicy", JW_STRUCT, memory_policy, .sub = &memory_policy_desc),
};
#undef JW_T
DESC(linux, struct oci_linux);

/* ---- config ---- */

#define JW_T struct oci_config
static const struct jw_field config_fields[] = {
    JW_F("ociVersion", JW_STRING, oci_version, .flags = JW_REQUIRED, .check = oci_check_version),
    JW_F("process", JW_STRUCT, process, .sub = &oci_process_desc),
    JW_F("root", JW_STRUCT, root, .sub = &root_desc),
    JW_F("hostname", JW_STRING, hostname),
    JW_F("domainname", JW_STRING, domainname),
    JW_ARR("mounts", JW_STRUCT_ARRAY, mounts, .sub = &mount_desc),
    JW_F("hooks", JW_STRUCT, hooks, .sub = &hooks_desc),
    JW_F("annotations", JW_STRING_MAP, annotations),
    JW_F("linux", JW_STRUCT, linux_, .sub = &linux_desc),
};
#undef JW_T
const struct jw_struct oci_config_desc = {
    .fields = config_fields, .nfields = JW_COUNT(config_fields), .size = sizeof(struct oci_config)};
