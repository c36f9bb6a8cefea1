/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "default_spec.h"
#include "libocispec/runtime_spec.h"
#include "utils.h"

/* The same defaults runc and crun write: a shell in a busybox-sized rootfs. */
static const char template_json[] =
    "{\"ociVersion\":\"" OCI_SPEC_VERSION "\","
    "\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
    "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
    "\"TERM=xterm\"],\"cwd\":\"/\","
    "\"capabilities\":{"
    "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
    "\"noNewPrivileges\":true},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    "\"hostname\":\"skiff\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\","
    "\"gid=5\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
    "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
    "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
    "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
    "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
    "\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
    "\"/proc/sysrq-trigger\"]}}";

/* runc's rootless /sys: no new netns to own a sysfs, so the host's, bound read-only. */
static void bind_host_sys(struct oci_mount *m)
{
	static const char *const opts[] = {"rbind", "nosuid", "noexec", "nodev", "ro"};
	size_t n = sizeof(opts) / sizeof(opts[0]);

	free(m->type);
	free(m->source);
	strv_free(m->options);
	m->type = xstrdup("none");
	m->source = xstrdup("/sys");
	m->options = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		m->options[i] = xstrdup(opts[i]);
}

/* uid=/gid= name host ids the single mapping leaves unmapped (devpts' gid=5). */
static void drop_id_options(struct oci_mount *m)
{
	size_t n = 0;

	for (size_t i = 0; m->options && m->options[i]; i++) {
		if (strncmp(m->options[i], "uid=", 4) == 0 ||
		    strncmp(m->options[i], "gid=", 4) == 0)
			free(m->options[i]);
		else
			m->options[n++] = m->options[i];
	}
	if (m->options)
		m->options[n] = NULL;
}

static void map_caller(struct oci_linux *l)
{
	l->uid_mappings = xcalloc(1, sizeof(*l->uid_mappings));
	l->uid_mappings[0] = (struct oci_id_mapping){0, getuid(), 1};
	l->uid_mappings_len = 1;
	l->gid_mappings = xcalloc(1, sizeof(*l->gid_mappings));
	l->gid_mappings[0] = (struct oci_id_mapping){0, getgid(), 1};
	l->gid_mappings_len = 1;
}

/* Rootless: the caller's ids mapped to root, no new netns, host sysfs bound, no resources. */
static void make_rootless(struct oci_config *c)
{
	struct oci_linux *l = c->linux_;
	size_t n = 0;

	map_caller(l);
	for (size_t i = 0; i < l->namespaces_len; i++) {
		if (strcmp(l->namespaces[i].type, "network") == 0) {
			free(l->namespaces[i].type);
			free(l->namespaces[i].path);
			continue;
		}
		l->namespaces[n++] = l->namespaces[i];
	}
	l->namespaces[n].type = xstrdup("user");
	l->namespaces[n].path = NULL;
	l->namespaces_len = n + 1;
	oci_resources_free(l->resources);
	l->resources = NULL;
	for (size_t i = 0; i < c->mounts_len; i++) {
		if (strcmp(c->mounts[i].destination, "/sys") == 0)
			bind_host_sys(&c->mounts[i]);
		else
			drop_id_options(&c->mounts[i]);
	}
}

char *default_spec_json(bool rootless, struct skiff_error **err)
{
	char *perr = NULL, *out;
	struct oci_config *c =
	    oci_config_parse_data(template_json, strlen(template_json), "default spec", &perr);

	if (c == NULL) {
		error_msg(err, "%s", perr);
		free(perr);
		return NULL;
	}
	if (rootless)
		make_rootless(c);
	out = oci_config_generate(c, &perr);
	oci_config_free(c);
	if (out == NULL) {
		error_msg(err, "%s", perr);
		free(perr);
	}
	return out;
}
