/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `skiff check`: the cgroup layout (unified, hybrid or legacy, and which
 * controllers live where), what the caller may do in the cgroup where
 * containers go by default, and whether systemd is there to ask for
 * cgroups.  Probed from the files alone, independently of the drivers, so
 * the report says what the host offers whichever driver is picked.
 */
#define _GNU_SOURCE
#include <config.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "hostcheck_internal.h"
#ifdef HAVE_SYSTEMD
#include "sdbus.h"
#endif
#include "utils.h"

enum layout { LAYOUT_NONE, LAYOUT_UNIFIED, LAYOUT_HYBRID, LAYOUT_LEGACY };

static bool fs_is(const char *path, long magic)
{
	struct statfs st;
	return statfs(path, &st) == 0 && st.f_type == magic;
}

static enum layout cgroup_layout(const char **v2_mount)
{
	*v2_mount = NULL;
	if (fs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
		*v2_mount = "/sys/fs/cgroup";
		return LAYOUT_UNIFIED;
	}
	if (fs_is("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)) {
		*v2_mount = "/sys/fs/cgroup/unified";
		return LAYOUT_HYBRID;
	}
	/* A tmpfs of v1 mounts, or (rarely) one v1 hierarchy mounted right there. */
	if (fs_is("/sys/fs/cgroup", TMPFS_MAGIC) || fs_is("/sys/fs/cgroup", CGROUP_SUPER_MAGIC))
		return LAYOUT_LEGACY;
	return LAYOUT_NONE;
}

/* The controllers of v1 hierarchies (/proc/cgroups rows with a hierarchy id), space-separated. */
static char *v1_controllers(void)
{
	cleanup_fclose FILE *f = fopen("/proc/cgroups", "re");
	cleanup_free char *line = NULL;
	char *out = xstrdup(""), *next;
	size_t cap = 0;

	if (f == NULL)
		return out;
	while (getline(&line, &cap, f) > 0) {
		char name[64];
		int hierarchy, enabled;
		unsigned long count;

		if (line[0] == '#' ||
		    sscanf(line, "%63s %d %lu %d", name, &hierarchy, &count, &enabled) != 4)
			continue;
		if (hierarchy == 0 || !enabled)
			continue;
		next = xasprintf("%s%s%s", out, *out ? " " : "", name);
		free(out);
		out = next;
	}
	return out;
}

/* The cgroup2 controllers in a cgroup.controllers-like file; "" when none. */
static char *v2_file(const char *mount, const char *dir, const char *file)
{
	cleanup_free char *path = xasprintf("%s%s/%s", mount, dir, file);
	char *s = hc_read_line(path);

	return s ? s : xstrdup("");
}

/* word in a list separated by spaces (cgroup.controllers) or commas (v1 hierarchies). */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	if (n == 0)
		return false;
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ','))
			return true;
	return false;
}

/* The spec's resources and the cgroup v2 controller each needs. */
static const char *const wanted_v2[] = {"cpu", "cpuset", "memory", "io", "pids", "hugetlb"};

static void missing_v2(const char *have, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(wanted_v2); i++)
		if (!has_word(have, wanted_v2[i])) {
			strncat(out, *out ? ", " : "", size - strlen(out) - 1);
			strncat(out, wanted_v2[i], size - strlen(out) - 1);
		}
}

void hostcheck_cgroup(struct hostcheck_report *r)
{
	const char *mount;
	enum layout l = cgroup_layout(&mount);
	cleanup_free char *v1 = v1_controllers();
	cleanup_free char *v2 = mount ? v2_file(mount, "", "cgroup.controllers") : xstrdup("");
	struct hostcheck_row *row;
	char missing[128];

	switch (l) {
	case LAYOUT_UNIFIED:
		missing_v2(v2, missing, sizeof(missing));
		row =
		    hc_add(r, "cgroup", *missing ? HOSTCHECK_LIMITED : HOSTCHECK_OK,
		           "unified: cgroup v2 at %s with %s", mount, *v2 ? v2 : "no controllers");
		if (*missing)
			hc_advise(row,
			          "not enabled at the root: %s; limits that need them fail "
			          "`create`",
			          missing);
		return;
	case LAYOUT_HYBRID:
		/* The fs1 driver: v1 controllers, the cgroup2 part for what only it has. */
		hc_add(r, "cgroup", HOSTCHECK_OK,
		       "hybrid: cgroup v2 at %s with %s; cgroup v1 holds %s (fs1 driver)", mount,
		       *v2 ? v2 : "no controllers", *v1 ? v1 : "nothing");
		return;
	case LAYOUT_LEGACY:
		hc_add(r, "cgroup", HOSTCHECK_OK,
		       "legacy: cgroup v1 only (%s), no cgroup v2 hierarchy (fs1 driver)",
		       *v1 ? v1 : "");
		return;
	case LAYOUT_NONE:
		row = hc_add(r, "cgroup", HOSTCHECK_UNAVAILABLE,
		             "no cgroup filesystem at /sys/fs/cgroup");
		hc_advise(row, "mount cgroup2 on /sys/fs/cgroup, or run with --cgroup-manager "
		               "disabled");
		return;
	}
}

/* Our cgroup in the v2 hierarchy (controller "") or the v1 hierarchy holding controller. */
static char *own_cgroup(const char *controller)
{
	cleanup_fclose FILE *f = fopen("/proc/self/cgroup", "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;

	if (f == NULL)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (b == NULL)
			continue;
		*b = '\0';
		if (strcmp(a + 1, controller) != 0 && !has_word(a + 1, controller))
			continue;
		b[1 + strcspn(b + 1, "\n")] = '\0';
		return xstrdup(b + 1);
	}
	return NULL;
}

static char *parent_of(const char *cg)
{
	char *p = xstrdup(cg), *slash = strrchr(p, '/');

	if (slash && slash != p)
		*slash = '\0';
	else
		strcpy(p, "/");
	return p;
}

/* v1 controllers whose cgroup is not the root: someone placed us (a service, a sandbox). */
static void advise_v1_placement(struct hostcheck_row *row)
{
	static const char *const controllers[] = {"cpu",     "cpuacct", "cpuset", "memory",
	                                          "devices", "freezer", "blkio",  "pids"};

	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
		cleanup_free char *cg = own_cgroup(controllers[i]);
		if (cg && strcmp(cg, "/") != 0)
			hc_advise(row, "cgroup v1 %s: skiff itself runs in %s", controllers[i], cg);
	}
}

void hostcheck_cgroup_delegation(struct hostcheck_report *r)
{
	const char *mount;
	enum layout l = cgroup_layout(&mount);
	cleanup_free char *own = NULL, *parent = NULL, *dir = NULL, *enabled = NULL;
	struct hostcheck_row *row;
	struct statvfs vfs;
	struct stat st;
	bool writable;

	if (l == LAYOUT_NONE || l == LAYOUT_LEGACY || (own = own_cgroup("")) == NULL) {
		hc_add(r, "cgroup-delegation", HOSTCHECK_UNAVAILABLE,
		       "skiff is in no cgroup v2 hierarchy");
		return;
	}
	parent = parent_of(own);
	dir = xasprintf("%s%s", mount, strcmp(parent, "/") == 0 ? "" : parent);
	enabled = v2_file(mount, strcmp(parent, "/") == 0 ? "" : parent, "cgroup.subtree_control");
	writable = statvfs(dir, &vfs) == 0 && !(vfs.f_flag & ST_RDONLY) && access(dir, W_OK) == 0 &&
	           stat(dir, &st) == 0;
	if (!writable) {
		row = hc_add(r, "cgroup-delegation", HOSTCHECK_UNAVAILABLE,
		             "skiff's cgroup is %s; containers go under %s, which it cannot write",
		             own, dir);
		hc_advise(row, "%s",
		          geteuid() == 0 ? "the cgroup filesystem is read-only here"
		                         : "ask systemd for a delegated cgroup "
		                           "(systemd-run --user -p Delegate=yes), or "
		                           "run as root");
		return;
	}
	row = hc_add(r, "cgroup-delegation",
	             geteuid() == 0 || st.st_uid == geteuid() ? HOSTCHECK_OK : HOSTCHECK_LIMITED,
	             "skiff's cgroup is %s; containers go under %s (writable; enabled for its "
	             "children: %s)",
	             own, dir, *enabled ? enabled : "none");
	if (geteuid() != 0 && st.st_uid != geteuid())
		hc_advise(row, "%s is not the caller's: controllers cannot be delegated further",
		          dir);
	if (l == LAYOUT_HYBRID)
		advise_v1_placement(row);
}

/* A unix stream socket that accepts a connection (a bus or systemd's private socket). */
static bool socket_answers(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

void hostcheck_systemd(struct hostcheck_report *r)
{
	cleanup_free char *init = hc_read_line("/proc/1/comm");
	bool booted = hc_exists("/run/systemd/system");
	bool bus = socket_answers("/run/dbus/system_bus_socket");
	bool priv = socket_answers("/run/systemd/private");
	struct hostcheck_row *row;

#ifndef HAVE_SYSTEMD
	if (booted && (bus || priv)) {
		row = hc_add(r, "systemd", HOSTCHECK_UNAVAILABLE,
		             "systemd is PID 1, but this skiff was built without the systemd "
		             "cgroup driver (configure --disable-systemd)");
		hc_advise(row, "build skiff with libsystemd-dev installed for --systemd-cgroup");
		return;
	}
#else
	if (booted && (bus || priv)) {
		struct skiff_error *err = NULL;
		enum sd_bus_kind kind = geteuid() == 0 ? SD_SYSTEM : SD_USER;

		/* Asked for real: what --systemd-cgroup would meet. */
		if (sdbus_connect(kind, &err) == 0) {
			hc_add(r, "systemd", HOSTCHECK_OK,
			       "systemd %d is PID 1 and answers on %s: --systemd-cgroup makes "
			       "transient scopes",
			       sdbus_systemd_version(), sdbus_endpoint());
			return;
		}
		row = hc_add(r, "systemd", HOSTCHECK_UNAVAILABLE, "%s", err->msg);
		error_free(&err);
		hc_advise(row, "--systemd-cgroup needs a bus systemd answers on; use the "
		               "cgroupfs manager here");
		return;
	}
#endif
	row = hc_add(r, "systemd", HOSTCHECK_UNAVAILABLE, "%s%s%s; %s", booted ? "" : "PID 1 is ",
	             booted ? "systemd is PID 1" : (init ? init : "unknown"),
	             booted ? "" : ", not systemd",
	             bus ? "a system bus answers" : "no system bus at /run/dbus/system_bus_socket");
	hc_advise(row, "--systemd-cgroup (the systemd cgroup driver, which containerd's "
	               "SystemdCgroup and podman's cgroup_manager=\"systemd\" ask for) needs "
	               "systemd as PID 1 on the bus; use the cgroupfs manager here");
}
