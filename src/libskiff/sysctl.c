/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "sysctl.h"
#include "utils.h"

/* /proc/self/ns/<name> for a linux.namespaces type. */
static const char *proc_ns_name(const char *type)
{
	return strcmp(type, "network") == 0 ? "net" : type;
}

/*
 * True when the container gets a namespace of `type` that is not skiff's
 * own: a new one, or one joined by a path that is some other namespace
 * (joining the host's by path would write the host's sysctls).
 */
static bool owns_namespace(const struct oci_config *c, const char *type)
{
	for (size_t i = 0; i < c->linux_->namespaces_len; i++) {
		const struct oci_namespace *ns = &c->linux_->namespaces[i];
		cleanup_free char *own = NULL;
		struct stat a, b;

		if (strcmp(ns->type, type) != 0)
			continue;
		if (ns->path == NULL || *ns->path == '\0')
			return true;
		own = xasprintf("/proc/self/ns/%s", proc_ns_name(type));
		if (stat(ns->path, &a) < 0 || stat(own, &b) < 0)
			return true; /* ns_plan_make reports a bad path */
		return a.st_dev != b.st_dev || a.st_ino != b.st_ino;
	}
	return false;
}

/* Which namespace owns a key; NULL when the key is not namespaced. */
static const char *owner_of(const char *key)
{
	static const char *const ipc_keys[] = {
	    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};

	for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
		if (strcmp(key, ipc_keys[i]) == 0)
			return "ipc";
	if (str_has_prefix(key, "fs.mqueue."))
		return "ipc";
	if (str_has_prefix(key, "net."))
		return "network";
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return "uts";
	return NULL;
}

int sysctl_validate(const struct oci_config *c, struct skiff_error **err)
{
	const struct oci_map *m = &c->linux_->sysctl;

	for (size_t i = 0; i < m->len; i++) {
		const char *key = m->keys[i], *owner = owner_of(key);

		if (strstr(key, "..") || strchr(key, '/'))
			return error_msg(err, "linux.sysctl: invalid key `%s`", key);
		if (owner == NULL)
			return error_msg(err,
			                 "linux.sysctl: `%s` is not namespaced: setting it would "
			                 "change the host",
			                 key);
		if (!owns_namespace(c, owner))
			return error_msg(
			    err,
			    "linux.sysctl: `%s` needs a new %s namespace (the container "
			    "shares the host's)",
			    key, owner);
	}
	return 0;
}

/*
 * Opens /proc/sys/<key> for writing on the container's procfs, through no
 * symlink and across no mount (procfs_open): an image whose /proc is a
 * symlink or a plain directory, or a mount raced over the file, must not
 * receive (or silently swallow) the write.
 */
static int open_sysctl(const char *key, struct skiff_error **err)
{
	cleanup_free char *path = xasprintf("sys/%s", key);
	int fd;

	for (char *p = path + strlen("sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	fd = procfs_open(path, O_WRONLY, false);
	if (fd < 0 && errno == EXDEV)
		return error_msg(err, "linux.sysctl: %s: /proc/%s is not on the container's procfs",
		                 key, path);
	if (fd < 0)
		return error_errno(err, "linux.sysctl: %s: open /proc/%s", key, path);
	return fd;
}

int sysctl_apply(const struct oci_config *c, struct skiff_error **err)
{
	const struct oci_map *m = &c->linux_->sysctl;

	for (size_t i = 0; i < m->len; i++) {
		cleanup_close int fd = open_sysctl(m->keys[i], err);
		size_t len = strlen(m->values[i]);

		if (fd < 0)
			return -1;
		if (write(fd, m->values[i], len) != (ssize_t)len)
			return error_errno(err, "linux.sysctl: %s: write `%s`", m->keys[i],
			                   m->values[i]);
	}
	return 0;
}
