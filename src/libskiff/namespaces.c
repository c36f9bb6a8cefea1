/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "namespaces.h"
#include "procfs.h"
#include "rootless.h"
#include "utils.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *spec_name; /* linux.namespaces[].type */
	const char *proc_name; /* /proc/PID/ns/<name> */
	int flag;
} kinds[NS_COUNT] = {
    [NS_USER] = {"user", "user", CLONE_NEWUSER},
    [NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
    [NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [NS_NET] = {"network", "net", CLONE_NEWNET},
    [NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

const char *ns_name(enum ns_kind k)
{
	return kinds[k].spec_name;
}

int ns_flag(enum ns_kind k)
{
	return kinds[k].flag;
}

static int kind_of(const char *type)
{
	for (int k = 0; k < NS_COUNT; k++)
		if (strcmp(kinds[k].spec_name, type) == 0)
			return k;
	return -1;
}

static int open_join_path(const char *path, enum ns_kind k, size_t idx, int *out,
                          struct skiff_error **err)
{
	int fd, type;

	if (path[0] != '/')
		return error_msg(err, "linux.namespaces[%zu].path: `%s` is not absolute", idx,
		                 path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "linux.namespaces[%zu].path: open `%s`", idx, path);
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0 || type != kinds[k].flag) {
		close(fd);
		return error_msg(err, "linux.namespaces[%zu].path: `%s` is not a %s namespace", idx,
		                 path, kinds[k].spec_name);
	}
	*out = fd;
	return 0;
}

/* Whether fd is the namespace skiff itself is in (the host's, for a runtime on the host). */
static bool is_own_namespace(int fd, enum ns_kind k)
{
	cleanup_free char *own = xasprintf("/proc/self/ns/%s", kinds[k].proc_name);
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(own, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

bool ns_plan_shares_host(const struct ns_plan *plan, enum ns_kind k)
{
	return !plan->present[k] || plan->host[k];
}

int ns_plan_make(const struct oci_config *c, struct ns_plan *plan, struct skiff_error **err)
{
	const struct oci_linux *l = c->linux_;
	int new_flags = 0;

	memset(plan, 0, sizeof(*plan));
	for (int k = 0; k < NS_COUNT; k++)
		plan->join_fd[k] = -1;
	plan->saved_pid_fd = plan->saved_time_fd = -1;
	for (size_t i = 0; l && i < l->namespaces_len; i++) {
		const struct oci_namespace *ns = &l->namespaces[i];
		int k = kind_of(ns->type);

		if (k < 0)
			return error_msg(err, "linux.namespaces[%zu].type: unknown namespace `%s`",
			                 i, ns->type);
		if (plan->present[k]) {
			ns_plan_release(plan);
			return error_msg(err, "linux.namespaces[%zu]: `%s` is listed twice", i,
			                 ns->type);
		}
		plan->present[k] = true;
		if (ns->path && *ns->path) {
			if (open_join_path(ns->path, k, i, &plan->join_fd[k], err) < 0) {
				ns_plan_release(plan);
				return -1;
			}
			plan->host[k] = is_own_namespace(plan->join_fd[k], k);
		} else {
			new_flags |= kinds[k].flag;
		}
	}
	if (plan->present[NS_USER] && plan->join_fd[NS_USER] < 0 &&
	    (l->uid_mappings_len == 0 || l->gid_mappings_len == 0)) {
		ns_plan_release(plan);
		return error_msg(err,
		                 "linux.uidMappings: a new user namespace needs uidMappings and "
		                 "gidMappings");
	}
	/* Joining the host's uts namespace by path would rename the host. */
	if (ns_plan_shares_host(plan, NS_UTS) && (c->hostname || c->domainname)) {
		ns_plan_release(plan);
		return error_msg(err, "%s: setting it needs a uts namespace of its own",
		                 c->hostname ? "hostname" : "domainname");
	}
	if (l && l->time_offsets && !(plan->present[NS_TIME] && plan->join_fd[NS_TIME] < 0)) {
		ns_plan_release(plan);
		return error_msg(err, "linux.timeOffsets: needs a new time namespace");
	}
	/* The time namespace is made by the parent (offsets must be written first). */
	new_flags &= ~CLONE_NEWTIME;
	if (plan->present[NS_USER]) {
		/*
		 * The others are made by the init once it is root of its user
		 * namespace (after setns, or once the parent wrote the maps): what
		 * they create at birth then belongs to that root, not to the
		 * unmapped host root (e.g. the mqueue filesystem's root directory,
		 * which would otherwise show as nobody:nogroup).  The pid
		 * namespace must come with the clone so the init is its pid 1.
		 */
		plan->clone_flags = new_flags & (CLONE_NEWUSER | CLONE_NEWPID);
		plan->unshare_flags = new_flags & ~(CLONE_NEWUSER | CLONE_NEWPID);
	} else {
		plan->clone_flags = new_flags;
	}
	return 0;
}

void ns_plan_defer(struct ns_plan *plan, int flag)
{
	if (plan->clone_flags & flag) {
		plan->clone_flags &= ~flag;
		plan->unshare_flags |= flag;
	}
}

void ns_plan_release(struct ns_plan *plan)
{
	for (int k = 0; k < NS_COUNT; k++) {
		if (plan->join_fd[k] >= 0)
			close(plan->join_fd[k]);
		plan->join_fd[k] = -1;
	}
	if (plan->saved_pid_fd >= 0)
		close(plan->saved_pid_fd);
	if (plan->saved_time_fd >= 0)
		close(plan->saved_time_fd);
	plan->saved_pid_fd = plan->saved_time_fd = -1;
}

static int write_time_offsets(const struct oci_time_offsets *t, struct skiff_error **err)
{
	char buf[128];
	int n = 0;

	if (t->has_monotonic)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "monotonic %lld %u\n",
		              (long long)t->monotonic.secs, t->monotonic.nanosecs);
	if (t->has_boottime)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "boottime %lld %u\n",
		              (long long)t->boottime.secs, t->boottime.nanosecs);
	if (n == 0)
		return 0;
	/* One write per line: the kernel parses a single offset per write. */
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		if (procfs_write("self/timens_offsets", line) < 0)
			return error_errno(err,
			                   "linux.timeOffsets: write `%s` to "
			                   "/proc/self/timens_offsets",
			                   line);
	}
	return 0;
}

int ns_plan_before_clone(struct ns_plan *plan, const struct oci_linux *l, struct skiff_error **err)
{
	bool new_time = plan->present[NS_TIME] && plan->join_fd[NS_TIME] < 0;

	if (plan->join_fd[NS_PID] >= 0) {
		/* Without a way back, skiff's own later children (hooks) would be born in there. */
		plan->saved_pid_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (plan->saved_pid_fd < 0)
			return error_errno(err, "open /proc/self/ns/pid");
		if (setns(plan->join_fd[NS_PID], CLONE_NEWPID) < 0)
			return error_errno(err, "join pid namespace");
	}
	if (plan->join_fd[NS_TIME] >= 0 || new_time) {
		plan->saved_time_fd = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
		if (plan->saved_time_fd < 0)
			return error_errno(err, "open /proc/self/ns/time");
		if (plan->join_fd[NS_TIME] >= 0 && setns(plan->join_fd[NS_TIME], CLONE_NEWTIME) < 0)
			return error_errno(err, "join time namespace");
		if (new_time) {
			if (unshare(CLONE_NEWTIME) < 0)
				return error_errno(err, "create time namespace");
			if (l->time_offsets && write_time_offsets(l->time_offsets, err) < 0)
				return -1;
		}
	}
	return 0;
}

void ns_plan_after_clone(struct ns_plan *plan)
{
	if (plan->saved_pid_fd >= 0)
		setns(plan->saved_pid_fd, CLONE_NEWPID);
	if (plan->saved_time_fd >= 0)
		setns(plan->saved_time_fd, CLONE_NEWTIME);
}

int ns_plan_enter(const struct ns_plan *plan, struct skiff_error **err)
{
	/* User first: it grants the rights to join the others. */
	static const enum ns_kind order[] = {NS_USER, NS_IPC, NS_UTS, NS_NET, NS_CGROUP, NS_MOUNT};

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		enum ns_kind k = order[i];
		if (plan->join_fd[k] < 0)
			continue;
		if (setns(plan->join_fd[k], kinds[k].flag) < 0)
			return error_errno(err, "join %s namespace", kinds[k].spec_name);
		if (k == NS_USER && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
			return error_errno(err, "become root in the joined user namespace");
	}
	if (plan->unshare_flags && unshare(plan->unshare_flags) < 0)
		return error_errno(err, "create namespaces");
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                     struct skiff_error **err)
{
	cleanup_free char *path = xasprintf("/proc/%d/%s", pid, file);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (f == NULL)
		oom();
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
	fclose(f);
	/* The whole map must go in one write. */
	r = write_file_at(AT_FDCWD, path, buf, err);
	free(buf);
	if (r < 0)
		return error_wrap(err, "linux.%s",
		                  strcmp(file, "uid_map") == 0 ? "uidMappings" : "gidMappings");
	return 0;
}

/* The one map an unprivileged caller may write itself: its own id, once. */
static bool only_own_id(const struct oci_id_mapping *m, size_t n, unsigned id)
{
	return n == 1 && m[0].host_id == id && m[0].size == 1;
}

int ns_write_id_maps(pid_t pid, const struct oci_linux *l, bool unprivileged,
                     struct skiff_error **err)
{
	cleanup_free char *setgroups = xasprintf("/proc/%d/setgroups", pid);

	if (unprivileged && !only_own_id(l->uid_mappings, l->uid_mappings_len, geteuid())) {
		if (rootless_map_by_helper("newuidmap", "/etc/subuid", pid, l->uid_mappings,
		                           l->uid_mappings_len, "linux.uidMappings", err) < 0)
			return -1;
	} else if (write_map(pid, "uid_map", l->uid_mappings, l->uid_mappings_len, err) < 0) {
		return -1;
	}
	if (unprivileged && !only_own_id(l->gid_mappings, l->gid_mappings_len, getegid()))
		return rootless_map_by_helper("newgidmap", "/etc/subgid", pid, l->gid_mappings,
		                              l->gid_mappings_len, "linux.gidMappings", err);
	/* The kernel's price for a gid map written without CAP_SETGID. */
	if (unprivileged && write_file_at(AT_FDCWD, setgroups, "deny", err) < 0)
		return error_wrap(err, "linux.gidMappings: deny setgroups");
	return write_map(pid, "gid_map", l->gid_mappings, l->gid_mappings_len, err);
}
