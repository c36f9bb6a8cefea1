/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v1 hierarchies this host has mounted (/proc/self/mountinfo),
 * and the small file helpers the fs1 driver shares.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "log.h"
#include "utils.h"

/* What a v1 mount's super options may name (anything else is a flag). */
static const char *const v1_controllers[] = {
    "blkio",  "cpu",     "cpuacct",  "cpuset",     "devices", "freezer", "hugetlb",
    "memory", "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "misc",
};

static bool is_controller(const char *opt)
{
	if (str_has_prefix(opt, "name="))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++)
		if (strcmp(opt, v1_controllers[i]) == 0)
			return true;
	return false;
}

/* "rw,cpu,cpuacct" -> "cpu,cpuacct"; NULL when it names no controller. */
static char *controllers_of(const char *super)
{
	cleanup_free char *copy = xstrdup(super);
	char *out = NULL, *save = NULL;

	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *next;

		if (!is_controller(o))
			continue;
		next = out ? xasprintf("%s,%s", out, o) : xstrdup(o);
		free(out);
		out = next;
	}
	return out;
}

static void add_hier(struct fs1_host *h, const char *mnt, char *controllers)
{
	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->v1[i].controllers, controllers) == 0) {
			free(controllers); /* a second mount of the same hierarchy */
			return;
		}
	}
	h->v1 = xrealloc(h->v1, (h->n + 1) * sizeof(*h->v1));
	h->v1[h->n].mnt = xstrdup(mnt);
	h->v1[h->n++].controllers = controllers;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [tags] - type source super". */
static void parse_line(struct fs1_host *h, char *line)
{
	char *fields[6] = {0}, *save = NULL, *dash = strstr(line, " - ");
	char type[32], super[512];
	size_t n = 0;

	if (dash == NULL || sscanf(dash + 3, "%31s %*s %511s", type, super) != 2)
		return;
	*dash = '\0';
	for (char *f = strtok_r(line, " ", &save); f && n < ARRAY_SIZE(fields);
	     f = strtok_r(NULL, " ", &save))
		fields[n++] = f;
	if (n < 5)
		return;
	if (strcmp(type, "cgroup2") == 0 && h->v2 == NULL) {
		h->v2 = xstrdup(fields[4]);
	} else if (strcmp(type, "cgroup") == 0) {
		char *c = controllers_of(super);
		if (c)
			add_hier(h, fields[4], c);
	}
}

static int host_load(struct fs1_host *h, struct skiff_error **err)
{
	cleanup_free char *data = NULL;
	char *save = NULL;

	memset(h, 0, sizeof(*h));
	if (read_file("/proc/self/mountinfo", &data, NULL, err) < 0)
		return error_wrap(err, "cgroup");
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		parse_line(h, l);
	if (h->n == 0)
		return error_msg(err, "cgroup: no cgroup v1 hierarchy is mounted (fs1 driver)");
	return 0;
}

static void host_free(struct fs1_host *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v1[i].mnt);
		free(h->v1[i].controllers);
	}
	free(h->v1);
	free(h->v2);
	memset(h, 0, sizeof(*h));
}

/*
 * Parsed once per process: `list` asks for every container, and the table
 * (kernfs text, as long as the host has mounts) costs more than the rest of
 * a container's status.  Hierarchies are not remounted under a running
 * skiff, and no caller runs in another mount namespace.
 */
const struct fs1_host *fs1_host_get(struct skiff_error **err)
{
	static struct fs1_host cached;
	static bool loaded;

	if (!loaded) {
		if (host_load(&cached, err) < 0) {
			host_free(&cached);
			return NULL;
		}
		loaded = true;
	}
	return &cached;
}

const char *fs1_mount_of(const struct fs1_host *h, const char *controller)
{
	size_t n = strlen(controller);

	for (size_t i = 0; i < h->n; i++) {
		for (const char *p = h->v1[i].controllers; p; p = strchr(p, ',')) {
			p += *p == ',';
			if (strncmp(p, controller, n) == 0 && (p[n] == ',' || p[n] == '\0'))
				return h->v1[i].mnt;
		}
	}
	return NULL;
}

const char *fs1_mount_for_file(const struct fs1_host *h, const char *file, char *ctl, size_t size)
{
	size_t n = strcspn(file, ".");

	if (n + 1 > size)
		return NULL;
	memcpy(ctl, file, n);
	ctl[n] = '\0';
	return fs1_mount_of(h, ctl);
}

int fs1_write(const char *dir, const struct cgroup_write *w, int *fd, struct skiff_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, w->file);

	if (*fd < 0)
		*fd = open(path, O_WRONLY | O_CLOEXEC);
	/* Without CFQ the weights are BFQ's (blkio.bfq.weight), as in runc. */
	if (*fd < 0 && errno == ENOENT && (w->flags & CGW_BFQ)) {
		free(path);
		path = xasprintf("%s/blkio.bfq.%s", dir, w->file + strlen("blkio."));
		*fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (*fd < 0 && errno == ENOENT && (w->flags & CGW_IF_EXISTS))
		return 0;
	log_debug("cgroup: %s = %s", path, w->value);
	if (*fd < 0 && errno == ENOENT)
		return error_msg(err, "cgroup: %s: this kernel has no %s (cgroup v1)", w->what,
		                 path);
	if (*fd >= 0 && write_all(*fd, w->value, strlen(w->value)) == 0)
		return 0;
	if (w->flags & CGW_TRY)
		return 0;
	return error_errno(err, "cgroup: %s: write \"%s\" to %s", w->what, w->value, path);
}

int fs1_read(const char *mnt, const char *path, const char *file, char **out)
{
	cleanup_free char *full = xasprintf("%s%s/%s", mnt, path, file);
	struct skiff_error *e = NULL;

	if (read_file(full, out, NULL, &e) < 0) {
		int saved = e->errnum;
		error_free(&e);
		errno = saved;
		return -1;
	}
	return 0;
}

/* pid's path in the hierarchy whose /proc/PID/cgroup field is controllers ("/" if absent). */
static char *path_in(const char *proc_cgroup, const char *controllers)
{
	size_t n = strlen(controllers);

	for (const char *l = proc_cgroup; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *c = strchr(l, ':'), *p = c ? strchr(c + 1, ':') : NULL;
		if (p && (size_t)(p - c - 1) == n && strncmp(c + 1, controllers, n) == 0)
			return strndup(p + 1, strcspn(p + 1, "\n"));
	}
	return xstrdup("/");
}

int cgroup_v1_hierarchies(struct cgroup_v1_hierarchy **out, size_t *n, struct skiff_error **err)
{
	const struct fs1_host *h;
	struct skiff_error *none = NULL;
	cleanup_free char *self = NULL;

	*out = NULL;
	*n = 0;
	if (cgroup_manager_is_unified())
		return 0;
	/* No v1 hierarchy (only a cgroup2 one somewhere): none to show. */
	if ((h = fs1_host_get(&none)) == NULL) {
		error_free(&none);
		return 0;
	}
	if (read_file("/proc/self/cgroup", &self, NULL, err) < 0)
		return error_wrap(err, "cgroup");
	*out = xcalloc(h->n, sizeof(**out));
	for (size_t i = 0; i < h->n; i++) {
		(*out)[i].mnt = xstrdup(h->v1[i].mnt);
		(*out)[i].controllers = xstrdup(h->v1[i].controllers);
		(*out)[i].path = path_in(self, (*out)[i].controllers);
		if ((*out)[i].path == NULL)
			oom();
	}
	*n = h->n;
	return 0;
}

void cgroup_v1_hierarchies_free(struct cgroup_v1_hierarchy *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].mnt);
		free(h[i].controllers);
		free(h[i].path);
	}
	free(h);
}
