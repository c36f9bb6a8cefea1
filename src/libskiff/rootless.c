/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "context.h"
#include "rootless.h"
#include "utils.h"

bool rootless_has_cap(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{0}};

	if (syscall(SYS_capget, &h, d) < 0)
		return geteuid() == 0;
	return d[cap / 32].effective & (1U << (cap % 32));
}

bool rootless_in_userns(void)
{
	cleanup_free char *map = NULL;
	unsigned long inside, outside, count;
	size_t len;

	/* The host's namespace maps every id to itself, in one line. */
	if (read_file("/proc/self/uid_map", &map, &len, NULL) < 0)
		return false;
	if (sscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3)
		return true;
	return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

bool rootless_caller(const char *option)
{
	if (option && strcmp(option, "true") == 0)
		return true;
	if (option && strcmp(option, "false") == 0)
		return false;
	return geteuid() != 0 || rootless_in_userns();
}

/*
 * Root inside a user namespace keeps runc's compromise: XDG_RUNTIME_DIR
 * when it is set for a user other than root, else the usual /run path
 * (a container's own /run is often writable there).
 */
static bool use_xdg(const char *xdg)
{
	const char *user = getenv("USER");

	if (geteuid() != 0)
		return true;
	if (xdg == NULL || *xdg == '\0' || !rootless_in_userns())
		return false;
	return user == NULL || strcmp(user, "root") != 0;
}

const char *rootless_state_root(struct skiff_error **err)
{
	static char *root;
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (root)
		return root;
	if (!use_xdg(xdg))
		return root = xstrdup(SKIFF_DEFAULT_ROOT);
	if (xdg == NULL || *xdg == '\0') {
		error_msg(err,
		          "state root: XDG_RUNTIME_DIR is not set; an unprivileged caller (uid %u) "
		          "keeps state in $XDG_RUNTIME_DIR/skiff: set it or pass --root",
		          (unsigned)geteuid());
		return NULL;
	}
	if (xdg[0] != '/') {
		error_msg(err, "state root: XDG_RUNTIME_DIR `%s` is not an absolute path", xdg);
		return NULL;
	}
	return root = xasprintf("%s/skiff", xdg);
}

/* The first limit in r that needs a cgroup, as its controller names it; NULL for none. */
static const char *limit_asked(const struct oci_resources *r)
{
	if (r == NULL)
		return NULL;
	if (r->memory)
		return "memory";
	if (r->cpu)
		return "cpu";
	if (r->pids)
		return "pids";
	if (r->block_io)
		return "blkio";
	if (r->hugepage_limits_len)
		return "hugetlb";
	if (r->network)
		return "net_cls/net_prio";
	if (r->rdma_len)
		return "rdma";
	return r->unified.len ? "unified" : NULL;
}

int rootless_cgroup_skip(const char *option, const struct oci_resources *r,
                         struct skiff_error **err)
{
	const char *limit = limit_asked(r);
	int e = *err ? (*err)->errnum : 0;

	if (!rootless_caller(option) || (e != EACCES && e != EPERM && e != EROFS))
		return -1;
	if (limit)
		return error_wrap(err,
		                  "linux.resources: cannot set the %s limit: a rootless caller "
		                  "without a writable cgroup gets no limits",
		                  limit);
	error_free(err);
	return 0;
}

static char **helper_argv(const char *helper, pid_t pid, const struct oci_id_mapping *m, size_t n)
{
	char **argv = xcalloc(3 * n + 3, sizeof(char *));
	size_t k = 0;

	argv[k++] = xstrdup(helper);
	argv[k++] = xasprintf("%d", (int)pid);
	for (size_t i = 0; i < n; i++) {
		argv[k++] = xasprintf("%u", m[i].container_id);
		argv[k++] = xasprintf("%u", m[i].host_id);
		argv[k++] = xasprintf("%u", m[i].size);
	}
	return argv;
}

/* Runs argv with stdout and stderr into *out (trimmed); returns its wait status. */
static int run_helper(char **argv, char *out, size_t size)
{
	int fds[2], status = -1;
	size_t len = 0;
	ssize_t got;
	pid_t child;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	child = fork();
	if (child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while (child > 0 && len + 1 < size &&
	       ((got = read(fds[0], out + len, size - 1 - len)) > 0 || (got < 0 && errno == EINTR)))
		len += got > 0 ? (size_t)got : 0;
	close(fds[0]);
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		len--;
	out[len] = '\0';
	if (child > 0)
		wait_pid(child, &status);
	return child < 0 ? -1 : status;
}

int rootless_map_by_helper(const char *helper, const char *subid_file, pid_t pid,
                           const struct oci_id_mapping *m, size_t n, const char *field,
                           struct skiff_error **err)
{
	char **argv = helper_argv(helper, pid, m, n);
	char out[512] = "";
	int status = run_helper(argv, out, sizeof(out));

	strv_free(argv);
	if (status < 0)
		return error_errno(err, "%s: run %s", field, helper);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return error_msg(err,
	                 "%s: %s refused the ranges (an unprivileged caller gets those %s "
	                 "grants it; %s is in Debian's uidmap): %s",
	                 field, helper, subid_file, helper, *out ? out : "no message");
}
