/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#ifdef HAVE_SELINUX
#endif

#include "label.h"
#include "procfs.h"
#include "log.h"
#include "utils.h"

struct label_ops {
	const char *name;
	/* The process field this backend honours (NULL: none). */
	const char *(*exec_label)(const struct oci_process *p);
	int (*set_exec)(const char *label, struct skiff_error **err);
	/* The mount option carrying linux.mountLabel, malloc'd (NULL: none). */
	char *(*mount_option)(const char *mount_label);
};

/*
 * Opens the LSM attribute at `path` (under /proc) on a procfs no container
 * can reach (procfs_open): a /proc that is a symlink (CVE-2023-28642), a volume or
 * tmpfs over /proc (CVE-2019-16884, CVE-2023-27561) or a file raced over the
 * attribute (CVE-2025-52881) would otherwise take the write and leave the
 * process unconfined.
 */
static int open_proc_attr(const char *path)
{
	return procfs_open(path + strlen("/proc/"), O_WRONLY, true);
}

/* One write(2), as the LSMs require. */
static int write_attr(int fd, const char *data)
{
	size_t len = strlen(data);

	return write(fd, data, len) == (ssize_t)len ? 0 : -1;
}

/* The error for a failed attribute write, naming `field` and `label`. */
static int attr_error(const char *field, const char *label, const char *path,
                      struct skiff_error **err)
{
	if (errno == EXDEV)
		return error_msg(err,
		                 "%s: set `%s` on exec: %s is not on a procfs skiff can trust (the "
		                 "container's /proc is a symlink, another filesystem or has a "
		                 "mount over it)",
		                 field, label, path);
	return error_errno(err, "%s: set `%s` on exec (%s)", field, label, path);
}

/* ---- SELinux ---- */

/*
 * SELinux is on when selinuxfs is mounted.  skiff needs nothing else from
 * libselinux (labels are plain writes to /proc attr files), so it does not
 * link it: that saves two shared objects and their start-up work on every
 * command.
 */
static bool selinux_on(void)
{
#ifdef HAVE_SELINUX
	struct statfs sfs;
	return statfs("/sys/fs/selinux", &sfs) == 0 && sfs.f_type == SELINUX_MAGIC;
#else
	return false;
#endif
}

static const char *selinux_exec_label(const struct oci_process *p)
{
	return p->selinux_label;
}

static int selinux_set_exec(const char *label, struct skiff_error **err)
{
	static const char path[] = "/proc/thread-self/attr/exec";
	cleanup_close int fd = open_proc_attr(path);

	if (fd < 0 || write_attr(fd, label) < 0)
		return attr_error("process.selinuxLabel", label, path, err);
	return 0;
}

static char *selinux_mount_option(const char *mount_label)
{
	return xasprintf("context=\"%s\"", mount_label);
}

static const struct label_ops selinux_ops = {
    .name = "selinux",
    .exec_label = selinux_exec_label,
    .set_exec = selinux_set_exec,
    .mount_option = selinux_mount_option,
};

/* ---- AppArmor ---- */

static bool apparmor_on(void)
{
	char *data = NULL;
	size_t len;
	bool on;

	/* Enabled in the kernel, and securityfs mounted so profiles can be loaded. */
	if (access("/sys/kernel/security/apparmor", F_OK) < 0)
		return false;
	if (read_file("/sys/module/apparmor/parameters/enabled", &data, &len, NULL) < 0)
		return false;
	on = len > 0 && data[0] == 'Y';
	free(data);
	return on;
}

static const char *apparmor_exec_label(const struct oci_process *p)
{
	return p->apparmor_profile;
}

static int apparmor_set_exec(const char *profile, struct skiff_error **err)
{
	cleanup_free char *cmd = xasprintf("exec %s", profile);
	const char *path = "/proc/thread-self/attr/apparmor/exec";
	cleanup_close int fd = open_proc_attr(path);

	/* Kernels before 5.8 have only the attr files shared by all LSMs. */
	if (fd < 0 && errno == ENOENT) {
		path = "/proc/self/attr/exec";
		fd = open_proc_attr(path);
	}
	if (fd < 0)
		return attr_error("process.apparmorProfile", profile, path, err);
	if (write_attr(fd, cmd) == 0)
		return 0;
	/* AppArmor answers ENOENT for a profile it does not have. */
	if (errno == ENOENT)
		return error_msg(err, "process.apparmorProfile: profile `%s` is not loaded",
		                 profile);
	return attr_error("process.apparmorProfile", profile, path, err);
}

static const struct label_ops apparmor_ops = {
    .name = "apparmor",
    .exec_label = apparmor_exec_label,
    .set_exec = apparmor_set_exec,
};

/* ---- neither ---- */

static const struct label_ops none_ops = {.name = "none"};

/* Chosen once; the init inherits the parent's choice made before pivot_root. */
static const struct label_ops *backend(void)
{
	static const struct label_ops *chosen;

	if (chosen == NULL)
		chosen = selinux_on() ? &selinux_ops : apparmor_on() ? &apparmor_ops : &none_ops;
	return chosen;
}

const char *label_backend_name(void)
{
	return backend()->name;
}

int label_validate(const struct oci_config *c, struct skiff_error **err)
{
	const char *profile = c->process ? c->process->apparmor_profile : NULL;

	if (profile && *profile && backend() != &apparmor_ops)
		return error_msg(err,
		                 "process.apparmorProfile: `%s` requested, but AppArmor is not "
		                 "enabled on this host",
		                 profile);
	return 0;
}

static bool takes_mount_label(const struct oci_mount *m)
{
	if (m->type == NULL || name_in("bind\0rbind\0proc\0sysfs\0cgroup\0cgroup2", m->type) >= 0)
		return false;
	for (char **o = m->options; o && *o; o++)
		if (name_in("bind\0rbind", *o) >= 0 || str_has_prefix(*o, "context="))
			return false;
	return true;
}

void label_mount_context(struct oci_config *c)
{
	const char *label = c->linux_ ? c->linux_->mount_label : NULL;
	const struct label_ops *ops = backend();

	if (label == NULL || *label == '\0')
		return;
	if (ops->mount_option == NULL) {
		log_debug("linux.mountLabel: ignored (%s is not SELinux)", ops->name);
		return;
	}
	for (size_t i = 0; i < c->mounts_len; i++) {
		struct oci_mount *m = &c->mounts[i];
		size_t n = strv_len(m->options);

		if (!takes_mount_label(m))
			continue;
		m->options = xrealloc(m->options, (n + 2) * sizeof(char *));
		m->options[n] = ops->mount_option(label);
		m->options[n + 1] = NULL;
	}
}

int label_apply_exec(const struct oci_process *p, struct skiff_error **err)
{
	const struct label_ops *ops = backend();
	const char *label = ops->exec_label ? ops->exec_label(p) : NULL;

	if (p->selinux_label && *p->selinux_label && ops != &selinux_ops)
		log_debug("process.selinuxLabel: ignored (SELinux is not enabled)");
	if (label == NULL || *label == '\0')
		return 0;
	return ops->set_exec(label, err);
}
