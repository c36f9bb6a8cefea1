/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runtime-spec `features` document (features.md, features-linux.md). */
#include <config.h>

#include "config_tables.h"
#include "runtime_spec.h"

#define DESC(name, type, ...)                                                                      \
	static const struct jw_struct name##_desc = {.fields = name##_fields,                      \
	                                             .nfields = JW_COUNT(name##_fields),           \
	                                             .size = sizeof(type),                         \
	                                             __VA_ARGS__}

#define JW_T struct oci_features_enabled
static const struct jw_field enabled_fields[] = {
    JW_OPT("enabled", JW_BOOL, enabled),
};
#undef JW_T
DESC(enabled, struct oci_features_enabled);

#define JW_T struct oci_features_intel_rdt
static const struct jw_field intel_rdt_fields[] = {
    JW_OPT("enabled", JW_BOOL, enabled),
    JW_OPT("schemata", JW_BOOL, schemata),
    JW_OPT("monitoring", JW_BOOL, monitoring),
};
#undef JW_T
DESC(intel_rdt, struct oci_features_intel_rdt);

#define JW_T struct oci_features_cgroup
static const struct jw_field cgroup_fields[] = {
    JW_OPT("v1", JW_BOOL, v1),           JW_OPT("v2", JW_BOOL, v2),
    JW_OPT("systemd", JW_BOOL, systemd), JW_OPT("systemdUser", JW_BOOL, systemd_user),
    JW_OPT("rdma", JW_BOOL, rdma),
};
#undef JW_T
DESC(cgroup, struct oci_features_cgroup);

#define JW_T struct oci_features_seccomp
static const struct jw_field seccomp_fields[] = {
    JW_OPT("enabled", JW_BOOL, enabled),
    JW_F("actions", JW_STRING_ARRAY, actions),
    JW_F("operators", JW_STRING_ARRAY, operators),
    JW_F("archs", JW_STRING_ARRAY, archs),
    JW_F("knownFlags", JW_STRING_ARRAY, known_flags),
    JW_F("supportedFlags", JW_STRING_ARRAY, supported_flags),
};
#undef JW_T
DESC(seccomp, struct oci_features_seccomp);

#define JW_T struct oci_features_mount_extensions
static const struct jw_field mount_extensions_fields[] = {
    JW_F("idmap", JW_STRUCT, idmap, .sub = &enabled_desc),
};
#undef JW_T
DESC(mount_extensions, struct oci_features_mount_extensions);

#define JW_T struct oci_features_memory_policy
static const struct jw_field memory_policy_fields[] = {
    JW_F("modes", JW_STRING_ARRAY, modes),
    JW_F("flags", JW_STRING_ARRAY, flags),
};
#undef JW_T
DESC(memory_policy, struct oci_features_memory_policy);

#define JW_T struct oci_features_linux
static const struct jw_field linux_fields[] = {
    JW_F("namespaces", JW_STRING_ARRAY, namespaces),
    JW_F("capabilities", JW_STRING_ARRAY, capabilities),
    JW_F("cgroup", JW_STRUCT, cgroup, .sub = &cgroup_desc),
    JW_F("seccomp", JW_STRUCT, seccomp, .sub = &seccomp_desc),
    JW_F("apparmor", JW_STRUCT, apparmor, .sub = &enabled_desc),
    JW_F("selinux", JW_STRUCT, selinux, .sub = &enabled_desc),
    JW_F("intelRdt", JW_STRUCT, intel_rdt, .sub = &intel_rdt_desc),
    JW_F("mountExtensions", JW_STRUCT, mount_extensions, .sub = &mount_extensions_desc),
    JW_F("netDevices", JW_STRUCT, net_devices, .sub = &enabled_desc),
    JW_F("memoryPolicy", JW_STRUCT, memory_policy, .sub = &memory_policy_desc),
};
#undef JW_T
DESC(linux, struct oci_features_linux);

#define JW_T struct oci_features
static const struct jw_field features_fields[] = {
    JW_F("ociVersionMin", JW_STRING, oci_version_min, .flags = JW_REQUIRED),
    JW_F("ociVersionMax", JW_STRING, oci_version_max, .flags = JW_REQUIRED),
    JW_F("hooks", JW_STRING_ARRAY, hooks),
    JW_F("mountOptions", JW_STRING_ARRAY, mount_options),
    JW_F("annotations", JW_STRING_MAP, annotations),
    JW_F("potentiallyUnsafeConfigAnnotations", JW_STRING_ARRAY,
         potentially_unsafe_config_annotations),
    JW_F("linux", JW_STRUCT, linux_, .sub = &linux_desc),
};
#undef JW_T
const struct jw_struct oci_features_desc = {.fields = features_fields,
                                            .nfields = JW_COUNT(features_fields),
                                            .size = sizeof(struct oci_features)};

struct oci_features *oci_features_parse_data(const char *data, size_t len, const char *name,
                                             char **err)
{
	return jw_parse_document(&oci_features_desc, data, len, name, err);
}

char *oci_features_generate(const struct oci_features *f, char **err)
{
	return jw_generate_document(&oci_features_desc, f, "features", err);
}

void oci_features_free(struct oci_features *f)
{
	jw_free_document(&oci_features_desc, f);
}
