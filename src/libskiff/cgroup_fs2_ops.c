/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v2 driver's table: the operations cgroup.h promises, built on
 * cgroup_fs2.c (create), cgroup_fs2_control.c (freeze, kill, remove) and
 * cgroup_fs2_stats.c (counters).
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "utils.h"

/* Where an exec'd process goes when the container's cgroup has children with controllers. */
#define EXEC_SUBCGROUP "skiff-exec"

static int open_cgroup_dir(const char *path, char **dir, struct skiff_error **err)
{
	int fd;

	*dir = cgroup_dir(path, err);
	if (*dir == NULL)
		return -1;
	fd = open(*dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "cgroup: open %s", *dir);
	return fd;
}

static int fs2_create_op(const char *path, const struct oci_resources *r,
                         struct cgroup_created *out, struct skiff_error **err)
{
	const char *mnt;
	cleanup_free char *dir = NULL;
	bool existed;

	if (cgroup_mountpoint(&mnt, err) < 0)
		return -1;
	/* A cgroup that was there before is not ours to remove if create fails. */
	dir = xasprintf("%s%s", mnt, path);
	existed = access(dir, F_OK) == 0;
	if (fs2_create(path, r, &out->clone_fd, err) < 0)
		return -1;
	out->mount = xstrdup(mnt);
	out->fresh = !existed;
	if (!existed) {
		out->made = xcalloc(2, sizeof(char *));
		out->made[0] = steal_ptr(&dir);
	}
	return 0;
}

/* exec --cgroup on v2: one PATH, no controller (v2 has one hierarchy). */
static int open_sub(const char *path, cgroup_subs subs, int *fd, struct skiff_error **err)
{
	cleanup_free char *dir = NULL, *full = NULL;
	const char *sub;

	for (char *const *s = subs; *s; s++)
		if (strchr(*s, ':') || s != subs)
			return error_msg(err,
			                 "--cgroup \"%s\": cgroup v2 takes one PATH, without a "
			                 "controller",
			                 *s);
	if (cgroup_sub_for(subs, "", &sub, err) < 0)
		return -1;
	dir = cgroup_dir(path, err);
	if (dir == NULL)
		return -1;
	full = xasprintf("%s/%s", dir, sub);
	*fd = open(full, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return error_errno(err, "--cgroup: %s", full);
	return 0;
}

static int fs2_enter_op(const char *path, cgroup_subs subs, pid_t pid, struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = -1;

	if (subs && *subs) {
		if (open_sub(path, subs, &dfd, err) < 0)
			return -1;
	} else {
		dfd = open_cgroup_dir(path, &dir, err);
		if (dfd < 0)
			return -1;
	}
	return fs2_enter(dfd, pid, err);
}

/* The init's cgroup-v2 path (relative to the mount), from /proc/PID/cgroup's "0::" line. */
static char *init_cgroup(pid_t pid)
{
	cleanup_free char *path = xasprintf("/proc/%d/cgroup", pid);
	cleanup_free char *text = NULL;

	if (read_file(path, &text, NULL, NULL) < 0)
		return NULL;
	for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (str_has_prefix(line, "0::/"))
			return xstrdup(line + 3);
	}
	return NULL;
}

static bool has_subtree_controllers(int dirfd)
{
	cleanup_free char *text = NULL;

	if (cgroup_read_at(dirfd, "cgroup.subtree_control", &text) < 0)
		return false;
	return strspn(text, " \n") != strlen(text);
}

/*
 * cgroup v2's no-internal-process rule: a cgroup that enables controllers
 * for its children takes no process itself.  Then the process goes where
 * the init is (if it moved below), else into a sub-cgroup of skiff's.
 */
static int open_leaf(const char *path, const char *dir, pid_t init, int *fd,
                     struct skiff_error **err)
{
	const char *mnt;
	cleanup_free char *init_cg = init_cgroup(init), *leaf = NULL;
	size_t n = strlen(path);

	if (cgroup_mountpoint(&mnt, err) < 0)
		return -1;
	if (init_cg && strncmp(init_cg, path, n) == 0 && init_cg[n] == '/') {
		leaf = xasprintf("%s%s", mnt, init_cg);
	} else {
		leaf = xasprintf("%s/" EXEC_SUBCGROUP, dir);
		if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
			return error_errno(err, "make cgroup `%s`", leaf);
	}
	*fd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return error_errno(err, "open cgroup `%s`", leaf);
	return 0;
}

static int fs2_exec_target(const char *path, pid_t init, cgroup_subs subs, int *fd,
                           struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = -1;

	if (subs && *subs)
		return open_sub(path, subs, fd, err);
	dfd = open_cgroup_dir(path, &dir, err);

	if (dfd < 0)
		return error_wrap(err, "the container's cgroup");
	if (has_subtree_controllers(dfd))
		return open_leaf(path, dir, init, fd, err);
	*fd = steal_fd(&dfd);
	return 0;
}

static int fs2_delegate_op(const char *path, pid_t pid, uint32_t uid, struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = open_cgroup_dir(path, &dir, err);

	if (dfd < 0)
		return -1;
	return fs2_delegate(dfd, pid, uid, err);
}

static int fs2_update(const char *path, const struct oci_resources *r, struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = open_cgroup_dir(path, &dir, err);

	if (dfd < 0)
		return -1;
	/*
	 * cgroup v2 only has a controller's files where the parent enabled it:
	 * enabling first makes a refused update leave the limits as they were
	 * (a missing file would fail halfway through).
	 */
	if (fs2_enable_controllers(path, r, err) < 0)
		return error_wrap(err, "cgroup %s", dir);
	return fs2_apply_resources(dfd, r, err);
}

static char *memory_events(const char *path)
{
	const char *mnt;
	struct skiff_error *ignored = NULL;

	if (cgroup_mountpoint(&mnt, &ignored) < 0) {
		error_free(&ignored);
		return NULL;
	}
	return xasprintf("%s%s/memory.events", mnt, path);
}

/* memory.events' oom_kill (the processes the kernel killed), or 0 without it. */
static uint64_t fs2_oom_kills(const char *path)
{
	cleanup_free char *file = memory_events(path), *data = NULL;
	unsigned long long v = 0;

	if (file == NULL || read_file(file, &data, NULL, NULL) < 0)
		return 0;
	return cgroup_keyed_value(data, "oom_kill", &v) ? v : 0;
}

/* memory.events is modified (inotify) whenever a counter in it moves. */
static int fs2_oom_watch(const char *path)
{
	cleanup_free char *file = memory_events(path);
	int fd;

	if (file == NULL)
		return -1;
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd >= 0 && inotify_add_watch(fd, file, IN_MODIFY) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Not born in its cgroup: moved in before it may go on. */
static int fs2_adopt(const char *path, const struct cgroup_adoptee *a, struct skiff_error **err)
{
	return fs2_enter_op(path, NULL, a->pid, err);
}

const struct cgroup_driver cgroup_fs2_driver = {
    .name = "fs2",
    .resolve = cgroup_resolve_path,
    .create = fs2_create_op,
    .enter = fs2_enter_op,
    .adopt = fs2_adopt,
    .unmake = cgroup_unmake_dirs,
    .exec_target = fs2_exec_target,
    .delegate = fs2_delegate_op,
    .update = fs2_update,
    .freeze = fs2_freeze,
    .is_frozen = fs2_is_frozen,
    .freezer_dir = cgroup_dir,
    .kill_all = fs2_kill_all,
    .pids = fs2_pids,
    .stats = fs2_stats,
    .oom_kills = fs2_oom_kills,
    .oom_watch = fs2_oom_watch,
    .destroy = fs2_destroy,
};
