/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>

#include "sysctl.h"
#include "utils.h"

static bool has_namespace(const struct oci_config *c, const char *type)
{
	for (size_t i = 0; i < c->linux_->namespaces_len; i++) {
		const struct oci_namespace *ns = &c->linux_->namespaces[i];
		if (strcmp(ns->type, type) == 0)
			return true;
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
			return error_set(err, 0, "linux.sysctl: invalid key `%s`", key);
		if (owner == NULL)
			return error_set(err, 0,
			                 "linux.sysctl: `%s` is not namespaced: setting it would "
			                 "change the host",
			                 key);
		if (!has_namespace(c, owner))
			return error_set(
			    err, 0,
			    "linux.sysctl: `%s` needs a new %s namespace (the container "
			    "shares the host's)",
			    key, owner);
	}
	return 0;
}

int sysctl_apply(const struct oci_config *c, struct skiff_error **err)
{
	const struct oci_map *m = &c->linux_->sysctl;

	for (size_t i = 0; i < m->len; i++) {
		cleanup_free char *path = xasprintf("/proc/sys/%s", m->keys[i]);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		if (write_file_at(AT_FDCWD, path, m->values[i], err) < 0)
			return error_wrap(err, "linux.sysctl: %s", m->keys[i]);
	}
	return 0;
}
