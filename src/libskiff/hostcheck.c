/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `skiff check`: the report, its helpers, and the kernel's basics
 * (procfs, the syscalls skiff cannot work without, pidfds, namespaces).
 * hostcheck_cgroup.c, hostcheck_security.c and hostcheck_state.c probe
 * the rest; every probe only reads (see hostcheck.h).
 */
#define _GNU_SOURCE
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostcheck_internal.h"
#include "utils.h"

/* ---- the report ---- */

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

struct hostcheck_row *hc_add(struct hostcheck_report *r, const char *name, enum hostcheck_status s,
                             const char *fmt, ...)
{
	struct hostcheck_row *row;
	va_list ap;

	r->rows = xrealloc(r->rows, (r->n + 1) * sizeof(*r->rows));
	row = &r->rows[r->n++];
	row->name = xstrdup(name);
	row->status = s;
	va_start(ap, fmt);
	row->detail = vformat(fmt, ap);
	va_end(ap);
	row->advice = xcalloc(1, sizeof(char *));
	return row;
}

void hc_advise(struct hostcheck_row *row, const char *fmt, ...)
{
	size_t n = strv_len(row->advice);
	va_list ap;

	row->advice = xrealloc(row->advice, (n + 2) * sizeof(char *));
	va_start(ap, fmt);
	row->advice[n] = vformat(fmt, ap);
	va_end(ap);
	row->advice[n + 1] = NULL;
}

void hostcheck_report_free(struct hostcheck_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->rows[i].name);
		free(r->rows[i].detail);
		strv_free(r->rows[i].advice);
	}
	free(r->rows);
	r->rows = NULL;
	r->n = 0;
}

bool hostcheck_runnable(const struct hostcheck_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].status == HOSTCHECK_FATAL)
			return false;
	return true;
}

const char *hostcheck_status_name(enum hostcheck_status s)
{
	static const char *const names[] = {"ok", "limited", "no", "FATAL"};
	return names[s];
}

void hostcheck_run(const char *state_root, const char *no_root, struct hostcheck_report *r)
{
	hostcheck_kernel(r);
	hostcheck_syscalls(r);
	hostcheck_pidfd(r);
	hostcheck_clone_into_cgroup(r);
	hostcheck_namespaces(r);
	hostcheck_privileges(r);
	hostcheck_userns(r);
	hostcheck_cgroup(r);
	hostcheck_cgroup_delegation(r);
	hostcheck_systemd(r);
	hostcheck_seccomp(r);
	hostcheck_idmap(r, state_root ? state_root : "/");
	hostcheck_lsm(r);
	hostcheck_trampoline(r);
	hostcheck_state_root(r, state_root, no_root);
	hostcheck_criu(r);
}

/* ---- helpers ---- */

char *hc_read_line(const char *path)
{
	char *data = NULL;
	size_t len;

	if (read_file(path, &data, &len, NULL) < 0)
		return NULL;
	data[strcspn(data, "\n")] = '\0';
	return data;
}

bool hc_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *hc_proc_status(const char *key)
{
	cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
	cleanup_free char *line = NULL;
	size_t cap = 0, klen = strlen(key);

	if (f == NULL)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			return xstrdup(v);
		}
	}
	return NULL;
}

int hc_in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (wait_pid(pid, &status) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int write_text(const char *path, const char *text)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	return fd >= 0 && write(fd, text, len) == (ssize_t)len ? 0 : -1;
}

/* Child of hc_userns_fd: a user namespace mapping root to our own ids, then wait. */
static void userns_holder(int ready, int hold, uid_t uid, gid_t gid)
{
	char map[64];
	char c = 0;

	if (unshare(CLONE_NEWUSER) < 0) {
		c = (char)errno;
		goto report;
	}
	/* One ID each, the only maps a process may write for itself without privilege. */
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_text("/proc/self/uid_map", map) < 0 ||
	    write_text("/proc/self/setgroups", "deny") < 0) {
		c = (char)errno;
		goto report;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (write_text("/proc/self/gid_map", map) < 0)
		c = (char)errno;
report:
	if (write(ready, &c, 1) != 1 || c != 0)
		_exit(1);
	/* Keeps the namespace alive until the parent has opened it and closes `hold`. */
	while (read(hold, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int hc_userns_fd(void)
{
	int ready[2], hold[2], fd = -1, saved = 0;
	char c = 0, path[64];
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		saved = errno;
		goto close_ready;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		userns_holder(ready[1], hold[0], geteuid(), getegid());
	}
	saved = pid < 0 ? errno : 0;
	close(ready[1]);
	close(hold[0]);
	if (pid > 0 && read(ready[0], &c, 1) != 1)
		c = (char)EIO;
	if (pid > 0 && c == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		saved = fd < 0 ? errno : 0;
	} else if (pid > 0)
		saved = c;
	close(hold[1]);
	if (pid > 0)
		wait_pid(pid, NULL);
	close(ready[0]);
	errno = saved;
	return fd;
close_ready:
	close(ready[0]);
	close(ready[1]);
	errno = saved;
	return -1;
}

/* ---- kernel basics ---- */

void hostcheck_kernel(struct hostcheck_report *r)
{
	struct utsname u;
	struct statfs st;
	struct hostcheck_row *row;

	uname(&u);
	if (statfs("/proc", &st) < 0 || st.f_type != PROC_SUPER_MAGIC) {
		row = hc_add(r, "kernel", HOSTCHECK_FATAL, "Linux %s %s, but /proc is not a procfs",
		             u.release, u.machine);
		hc_advise(row, "skiff reads and writes the kernel's state through /proc: mount "
		               "proc on /proc");
		return;
	}
	hc_add(r, "kernel", HOSTCHECK_OK, "Linux %s %s", u.release, u.machine);
}

struct required_syscall {
	const char *name;
	long nr;
	const char *since;
	const char *use;
};

/*
 * Called with arguments every kernel refuses before doing anything
 * (a zero size, a NULL path, invalid flags): ENOSYS means the kernel (or a
 * seccomp filter around skiff) does not have it; any other error that it does.
 */
static bool kernel_has(long nr)
{
	return syscall(nr, -1L, 0L, -1L, 0L, 0L) >= 0 || errno != ENOSYS;
}

void hostcheck_syscalls(struct hostcheck_report *r)
{
	static const struct required_syscall need[] = {
	    {"clone3", SYS_clone3, "5.3", "creates the container's init"},
	    {"pidfd_open", SYS_pidfd_open, "5.3", "follows the init without pid reuse races"},
	    {"openat2", SYS_openat2, "5.6", "resolves paths inside the rootfs"},
	    {"fsopen", SYS_fsopen, "5.2", "builds every mount detached"},
	    {"fsmount", SYS_fsmount, "5.2", "builds every mount detached"},
	    {"open_tree", SYS_open_tree, "5.2", "builds bind mounts detached"},
	    {"move_mount", SYS_move_mount, "5.2", "attaches mounts through fds"},
	    {"mount_setattr", SYS_mount_setattr, "5.12", "sets mount attributes and idmaps"},
	};
	struct hostcheck_row *row;
	size_t missing = 0;

	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		missing += !kernel_has(need[i].nr);
	if (missing == 0) {
		hc_add(r, "syscalls", HOSTCHECK_OK,
		       "clone3, pidfd_open, openat2, the mount API (fsopen, fsmount, open_tree, "
		       "move_mount) and mount_setattr are all there");
		return;
	}
	row = hc_add(r, "syscalls", HOSTCHECK_FATAL, "%zu syscall(s) skiff needs return ENOSYS",
	             missing);
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!kernel_has(need[i].nr))
			hc_advise(row, "%s (Linux %s) is missing: skiff %s with it", need[i].name,
			          need[i].since, need[i].use);
	hc_advise(row, "a seccomp filter around skiff (e.g. a container's default profile) can "
	               "also hide a syscall with ENOSYS");
}

/*
 * setns() on a pidfd (5.8), as exec joins the init's namespaces: joining
 * our own uts namespace changes nothing, and runs in a child anyway.
 */
static int setns_pidfd_child(void *unused)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0)
		return 2;
	if (setns(fd, CLONE_NEWUTS) == 0)
		return 0;
	return errno == EPERM ? 3 : 1;
}

void hostcheck_pidfd(struct hostcheck_report *r)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0), rc;
	struct hostcheck_row *row;

	if (fd < 0) {
		hc_add(r, "pidfd", HOSTCHECK_UNAVAILABLE, "pidfd_open: %s", strerror(errno));
		return;
	}
	rc = syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0 ? 0 : errno;
	close(fd);
	if (rc != 0) {
		hc_add(r, "pidfd", HOSTCHECK_UNAVAILABLE, "pidfd_send_signal: %s", strerror(rc));
		return;
	}
	rc = hc_in_child(setns_pidfd_child, NULL);
	if (rc == 0) {
		hc_add(r, "pidfd", HOSTCHECK_OK,
		       "pidfd_open, pidfd_send_signal and setns on a pidfd work");
		return;
	}
	row = hc_add(r, "pidfd", rc == 3 ? HOSTCHECK_LIMITED : HOSTCHECK_UNAVAILABLE,
	             "setns on a pidfd %s",
	             rc == 3 ? "needs CAP_SYS_ADMIN" : "is not supported (Linux 5.8)");
	hc_advise(row, "`skiff exec` joins the container's namespaces with one setns on its "
	               "init's pidfd");
}

/* CLONE_INTO_CGROUP (5.7) with a directory that is no cgroup: EBADF if known, EINVAL/E2BIG if not.
 */
static int clone_into_cgroup_errno(void)
{
	struct clone_args args = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD};
	cleanup_close int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long pid;

	if (dir < 0)
		return errno;
	args.cgroup = (uint64_t)dir;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		_exit(0); /* a kernel that took "/" as a cgroup: nothing to do here */
	if (pid > 0) {
		waitpid((pid_t)pid, NULL, 0);
		return 0;
	}
	return errno;
}

void hostcheck_clone_into_cgroup(struct hostcheck_report *r)
{
	int e = clone_into_cgroup_errno();
	struct hostcheck_row *row;

	if (e == EBADF) {
		hc_add(r, "clone-into-cgroup", HOSTCHECK_OK,
		       "clone3 with CLONE_INTO_CGROUP: the init is born in its cgroup");
		return;
	}
	row = hc_add(r, "clone-into-cgroup", HOSTCHECK_UNAVAILABLE,
	             "clone3 with CLONE_INTO_CGROUP: %s", strerror(e));
	hc_advise(row, "needs Linux 5.7; without it `create` cannot place the init in its "
	               "cgroup (use --cgroup-manager disabled)");
}

void hostcheck_namespaces(struct hostcheck_report *r)
{
	static const char *const kinds[] = {"mnt", "pid",  "net",    "ipc",
	                                    "uts", "user", "cgroup", "time"};
	char missing[128] = "", path[64];
	struct hostcheck_row *row;

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[i]);
		if (!hc_exists(path)) {
			strcat(missing, " ");
			strcat(missing, kinds[i]);
		}
	}
	if (missing[0] == '\0') {
		hc_add(r, "namespaces", HOSTCHECK_OK,
		       "mount, pid, network, ipc, uts, user, cgroup and time");
		return;
	}
	row = hc_add(r, "namespaces", strstr(missing, " mnt") ? HOSTCHECK_FATAL : HOSTCHECK_LIMITED,
	             "not in this kernel:%s", missing);
	hc_advise(row, "a config that asks for a missing namespace fails `create`; without "
	               "mount namespaces only configs that share skiff's can run");
}
