/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
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
		error_set(err, 0,
		          "state root: XDG_RUNTIME_DIR is not set; an unprivileged caller (uid %u) "
		          "keeps state in $XDG_RUNTIME_DIR/skiff: set it or pass --root",
		          (unsigned)geteuid());
		return NULL;
	}
	if (xdg[0] != '/') {
		error_set(err, 0, "state root: XDG_RUNTIME_DIR `%s` is not an absolute path", xdg);
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
