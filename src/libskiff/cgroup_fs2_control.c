/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Acting on a cgroup's processes: pause and resume (cgroup.freeze), signal
 * them all (cgroup.kill), list them, and remove the cgroup once empty.
 */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "utils.h"

/* How long kill and rmdir wait for the kernel to catch up. */
#define SETTLE_TIMEOUT_MS 10000

/* ---- freeze ---- */

/* Opens the container's cgroup directory; *dir gets its full path for messages. */
static int open_dir(const char *path, char **dir, struct skiff_error **err)
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

int fs2_freeze(const char *path, bool frozen, struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = open_dir(path, &dir, err);
	const char *v = frozen ? "1" : "0";

	if (dfd < 0)
		return -1;
	if (faccessat(dfd, "cgroup.freeze", F_OK, 0) < 0)
		return error_msg(err, "cgroup: %s has no cgroup.freeze (needs Linux 5.2)", dir);
	if (write_file_at(dfd, "cgroup.freeze", v, NULL) < 0)
		return error_errno(err, "cgroup: write \"%s\" to %s/cgroup.freeze", v, dir);
	if (cgroup_wait_events(dfd, "frozen", frozen) < 0) {
		int saved = errno;
		/* Don't leave a half-frozen container behind. */
		if (frozen)
			write_file_at(dfd, "cgroup.freeze", "0", NULL);
		return error_set(err, saved, "cgroup: wait for %s to %s", dir,
		                 frozen ? "freeze" : "thaw");
	}
	return 0;
}

int fs2_is_frozen(const char *path, bool *out, struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *data = NULL;
	cleanup_close int dfd = open_dir(path, &dir, err);

	if (dfd < 0)
		return -1;
	if (cgroup_read_at(dfd, "cgroup.freeze", &data) < 0) {
		if (errno != ENOENT)
			return error_errno(err, "cgroup: read %s/cgroup.freeze", dir);
		*out = false;
		return 0;
	}
	*out = data[0] == '1';
	return 0;
}

/* ---- processes ---- */

void cgroup_collect_pids(int dfd, pid_t **pids, size_t *n)
{
	cleanup_free char *data = NULL;
	DIR *d;
	struct dirent *e;
	int fd;

	if (cgroup_read_at(dfd, "cgroup.procs", &data) == 0) {
		for (char *p = data; *p;) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			*pids = xrealloc(*pids, (*n + 1) * sizeof(pid_t));
			(*pids)[(*n)++] = (pid_t)v;
			p = end + (*end == '\n');
		}
	}
	fd = openat(dfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		cleanup_close int sub = -1;
		if (e->d_type != DT_DIR || dot_or_dotdot(e->d_name))
			continue;
		sub = openat(dfd, e->d_name, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (sub >= 0)
			cgroup_collect_pids(sub, pids, n);
	}
	closedir(d);
}

int fs2_pids(const char *path, pid_t **pids, size_t *n, struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = -1;

	*pids = NULL;
	*n = 0;
	dfd = open_dir(path, &dir, err);
	if (dfd < 0)
		return -1;
	cgroup_collect_pids(dfd, pids, n);
	return 0;
}

static int signal_pids(const char *path, int sig, size_t *count, struct skiff_error **err)
{
	cleanup_free pid_t *pids = NULL;
	size_t n;

	if (fs2_pids(path, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return error_errno(err, "cgroup: send signal %d to pid %d", sig,
			                   (int)pids[i]);
	*count = n;
	return 0;
}

int fs2_kill_all(const char *path, int sig, struct skiff_error **err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = open_dir(path, &dir, err), kfd = -1;
	long deadline = cgroup_now_ms() + SETTLE_TIMEOUT_MS, delay = 1;
	size_t n = 0;

	if (dfd < 0)
		return -1;
	if (sig != SIGKILL)
		return signal_pids(path, sig, &n, err);
	kfd = openat(dfd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	if (kfd >= 0) {
		if (write_all(kfd, "1", 1) < 0)
			return error_errno(err, "cgroup: write \"1\" to %s/cgroup.kill", dir);
		if (cgroup_wait_events(dfd, "populated", 0) < 0)
			return error_errno(err, "cgroup: wait for %s to empty after cgroup.kill",
			                   dir);
		return 0;
	}
	if (errno != ENOENT)
		return error_errno(err, "cgroup: open %s/cgroup.kill", dir);
	/* Before Linux 5.14: signal until no one is left, as processes may still fork. */
	for (;;) {
		if (signal_pids(path, SIGKILL, &n, err) < 0)
			return -1;
		if (n == 0)
			return 0;
		if (cgroup_now_ms() > deadline)
			return error_set(err, ETIMEDOUT,
			                 "cgroup: %zu processes in %s survive SIGKILL", n, dir);
		cgroup_sleep_ms(delay);
		delay = delay < 10 ? delay * 2 : 10;
	}
}

/* ---- destroy ---- */

static int rmdir_retry(int parentfd, const char *name, const char *shown, struct skiff_error **err)
{
	long deadline = cgroup_now_ms() + SETTLE_TIMEOUT_MS / 2, delay = 1;

	/* Exiting processes leave the cgroup a moment after they are signalled. */
	while (unlinkat(parentfd, name, AT_REMOVEDIR) < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || cgroup_now_ms() > deadline)
			return error_errno(err, "cgroup: remove %s", shown);
		cgroup_sleep_ms(delay);
		delay = delay < 50 ? delay * 2 : 50;
	}
	return 0;
}

/* Removes dfd's child cgroups, deepest first. */
static int remove_children(int dfd, const char *shown, struct skiff_error **err)
{
	int fd = openat(dfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int ret = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "cgroup: list %s", shown);
	}
	while (ret == 0 && (e = readdir(d))) {
		cleanup_close int sub = -1;
		cleanup_free char *sub_shown = NULL;

		if (e->d_type != DT_DIR || dot_or_dotdot(e->d_name))
			continue;
		sub_shown = xasprintf("%s/%s", shown, e->d_name);
		sub = openat(dfd, e->d_name, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (sub < 0) {
			if (errno == ENOENT)
				continue;
			ret = error_errno(err, "cgroup: open %s", sub_shown);
			break;
		}
		ret = remove_children(sub, sub_shown, err);
		if (ret == 0)
			ret = rmdir_retry(dfd, e->d_name, sub_shown, err);
	}
	closedir(d);
	return ret;
}

int cgroup_remove_tree(const char *dir, struct skiff_error **err)
{
	cleanup_close int dfd = -1;

	/*
	 * Usually nothing is left below it and its processes are gone: one
	 * rmdir, not a listing first (a `run` removes one per hierarchy, ten
	 * on a hybrid host).  EBUSY (a child cgroup, a process still
	 * exiting) takes the way below.
	 */
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : error_errno(err, "cgroup: open %s", dir);
	if (remove_children(dfd, dir, err) < 0)
		return -1;
	return rmdir_retry(AT_FDCWD, dir, dir, err);
}

int fs2_destroy(const char *path, bool kill, struct skiff_error **err)
{
	cleanup_free char *dir = cgroup_dir(path, err);

	if (dir == NULL)
		return -1;
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (kill && fs2_kill_all(path, SIGKILL, err) < 0)
		return -1;
	return cgroup_remove_tree(dir, err);
}
