/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `skiff check`: privileges and capabilities, user namespaces, seccomp
 * (and its user notification), idmapped mounts, SELinux and AppArmor, and
 * the exec trampoline.
 */
#define _GNU_SOURCE
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "capabilities.h"
#include "hostcheck_internal.h"
#include "libocispec/runtime_spec.h"
#include "seccomp.h"
#include "utils.h"

/* ---- privileges ---- */

static uint64_t cap_mask(const char *key)
{
	cleanup_free char *hex = hc_proc_status(key);
	return hex ? strtoull(hex, NULL, 16) : 0;
}

/* Names of the capabilities in `set`, comma-separated. */
static char *cap_names(uint64_t set)
{
	char *out = xstrdup(""), *next;

	for (int c = 0; c < 64; c++) {
		if (!(set & (1ULL << c)))
			continue;
		next = xasprintf("%s%s%s", out, *out ? ", " : "",
		                 capability_to_name(c) ? capability_to_name(c) : "?");
		free(out);
		out = next;
	}
	return out;
}

void hostcheck_privileges(struct hostcheck_report *r)
{
	int last = capability_last_cap();
	uint64_t all = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
	uint64_t lacking = all & ~cap_mask("CapBnd");
	cleanup_free char *names = cap_names(lacking);
	struct hostcheck_row *row;

	if (geteuid() != 0) {
		row = hc_add(r, "privileges", HOSTCHECK_LIMITED, "uid %u, not root",
		             (unsigned)geteuid());
		hc_advise(row, "containers need a user namespace of their own mapping the "
		               "caller's ids (`skiff spec --rootless` writes such a config) and a "
		               "--root the caller owns");
		return;
	}
	if (lacking == 0) {
		hc_add(r, "privileges", HOSTCHECK_OK,
		       "root, with every capability in the bounding set");
		return;
	}
	row = hc_add(r, "privileges", HOSTCHECK_LIMITED, "root, but the bounding set lacks %s",
	             names);
	hc_advise(row, "a container cannot be given these: skiff drops them with a warning");
	if (lacking & (1ULL << CAP_SYS_RESOURCE))
		hc_advise(row,
		          "without CAP_SYS_RESOURCE a process.rlimits entry above the current "
		          "hard limit fails `create`; podman asks for nofile 1048576 and nproc "
		          "32768, so set default_ulimits in containers.conf");
	if (lacking & (1ULL << CAP_SYS_RESOURCE))
		hc_advise(row,
		          "without CAP_SYS_RESOURCE a process.oomScoreAdj below skiff's own "
		          "fails `create`; containerd's CRI plugin gives pod sandboxes -998, so "
		          "set restrict_oom_score_adj = true in its CRI configuration");
}

/* ---- user namespaces ---- */

/* "root 100000:65536" for the first /etc/subuid (or subgid) line of the caller. */
static char *subid_range(const char *file, const char *user, uid_t uid)
{
	cleanup_fclose FILE *f = fopen(file, "re");
	cleanup_free char *line = NULL;
	char idbuf[16];
	size_t cap = 0;

	snprintf(idbuf, sizeof(idbuf), "%u", (unsigned)uid);
	while (f && getline(&line, &cap, f) > 0) {
		size_t n = strcspn(line, ":");
		if ((user && strlen(user) == n && strncmp(line, user, n) == 0) ||
		    (strlen(idbuf) == n && strncmp(line, idbuf, n) == 0)) {
			line[strcspn(line, "\n")] = '\0';
			return xasprintf("%s", line);
		}
	}
	return NULL;
}

/* How newuidmap may write maps: "setuid", "file capabilities", or NULL (cannot). */
static const char *helper_power(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid == 0)
		return "setuid";
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return "file capabilities";
	return NULL;
}

static void advise_subids(struct hostcheck_row *row)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : NULL;
	cleanup_free char *subuid = subid_range("/etc/subuid", user, geteuid());
	cleanup_free char *subgid = subid_range("/etc/subgid", user, geteuid());
	const char *power = helper_power("/usr/bin/newuidmap");

	hc_advise(row, "/etc/subuid: %s; /etc/subgid: %s; newuidmap: %s", subuid ? subuid : "none",
	          subgid ? subgid : "none", power ? power : "missing or without privilege");
	if (geteuid() != 0)
		hc_advise(row, "skiff writes uidMappings/gidMappings itself: without root it can "
		               "map only the caller's own uid and gid (one ID each), whatever "
		               "/etc/subuid grants");
}

void hostcheck_userns(struct hostcheck_report *r)
{
	cleanup_free char *max = hc_read_line("/proc/sys/user/max_user_namespaces");
	cleanup_free char *unpriv = hc_read_line("/proc/sys/kernel/unprivileged_userns_clone");
	cleanup_free char *aa =
	    hc_read_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
	struct hostcheck_row *row;
	int fd = hc_userns_fd(), e = errno;

	if (fd >= 0) {
		close(fd);
		row = hc_add(r, "user-namespaces", HOSTCHECK_OK,
		             "a new user namespace works for uid %u (user.max_user_namespaces=%s)",
		             (unsigned)geteuid(), max ? max : "?");
		advise_subids(row);
		return;
	}
	row = hc_add(r, "user-namespaces", HOSTCHECK_UNAVAILABLE,
	             "unshare(CLONE_NEWUSER) as uid %u: %s", (unsigned)geteuid(), strerror(e));
	if (max && strcmp(max, "0") == 0)
		hc_advise(row, "user.max_user_namespaces is 0: raise it (sysctl)");
	if (unpriv && strcmp(unpriv, "0") == 0 && geteuid() != 0)
		hc_advise(row, "kernel.unprivileged_userns_clone is 0: only root may make one");
	if (aa && strcmp(aa, "1") == 0 && geteuid() != 0)
		hc_advise(row, "kernel.apparmor_restrict_unprivileged_userns is 1: AppArmor "
		               "restricts them for unprivileged callers");
	hc_advise(row, "a config with a user namespace (and idmapped mounts) fails `create`");
	advise_subids(row);
}

/* ---- seccomp ---- */

static bool strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static void seccomp_mode_advice(struct hostcheck_row *row)
{
	cleanup_free char *mode = hc_proc_status("Seccomp");

	if (mode && strcmp(mode, "0") != 0)
		hc_advise(row,
		          "skiff itself runs under a seccomp filter (mode %s): a container's "
		          "filter is stacked on it and cannot allow what it refuses",
		          mode);
}

void hostcheck_seccomp(struct hostcheck_report *r)
{
	struct oci_features_seccomp f = {0};
	cleanup_free char *avail = hc_read_line("/proc/sys/kernel/seccomp/actions_avail");
	cleanup_free char *mode = hc_proc_status("Seccomp");
	struct hostcheck_row *row;

#ifndef HAVE_SECCOMP
	row = hc_add(r, "seccomp", HOSTCHECK_UNAVAILABLE, "skiff was built without libseccomp");
	hc_advise(row, "a config with linux.seccomp fails `create`: build without "
	               "--disable-seccomp");
	hc_add(r, "seccomp-notify", HOSTCHECK_UNAVAILABLE, "needs seccomp");
	return;
#else
	const struct scmp_version *v = seccomp_version();

	if (mode == NULL) {
		row = hc_add(r, "seccomp", HOSTCHECK_UNAVAILABLE,
		             "the kernel has no seccomp (no Seccomp line in /proc/self/status)");
		hc_advise(row, "a config with linux.seccomp fails `create`");
		hc_add(r, "seccomp-notify", HOSTCHECK_UNAVAILABLE, "needs seccomp");
		return;
	}
	seccomp_get_features(&f, NULL);
	row = hc_add(r, "seccomp", HOSTCHECK_OK, "libseccomp %u.%u.%u; kernel actions: %s",
	             v->major, v->minor, v->micro, avail ? avail : "(not listed)");
	seccomp_mode_advice(row);
	if (strv_has(f.actions, "SCMP_ACT_NOTIFY") && (v->major > 2 || v->minor >= 5)) {
		hc_add(r, "seccomp-notify", HOSTCHECK_OK,
		       "SCMP_ACT_NOTIFY: the listener fd goes to linux.seccomp.listenerPath%s",
		       strv_has(f.supported_flags, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
		           ? " (with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)"
		           : "");
	} else {
		row = hc_add(r, "seccomp-notify", HOSTCHECK_UNAVAILABLE,
		             "SCMP_ACT_NOTIFY needs Linux 5.0 and libseccomp 2.5 (%s)",
		             strv_has(f.actions, "SCMP_ACT_NOTIFY") ? "libseccomp is older"
		                                                    : "the kernel lacks it");
		hc_advise(row, "a profile with SCMP_ACT_NOTIFY fails `create`");
	}
	seccomp_features_clear(&f);
#endif
}

/* ---- idmapped mounts ---- */

/* 0, or the errno of giving a detached copy of path's mount the user namespace nsfd. */
static int idmap_errno(const char *path, int nsfd)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)nsfd};
	/* Detached: the copy vanishes with the fd, so the host's mounts never change. */
	cleanup_close int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (tree < 0)
		return errno;
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return errno;
	return 0;
}

/* The directory itself or its nearest existing ancestor. */
static char *existing_dir(const char *path)
{
	char *p = xstrdup(path), *slash;

	while (!hc_exists(p) && (slash = strrchr(p, '/')) != NULL)
		slash == p ? (void)(p[1] = '\0') : (void)(*slash = '\0');
	return p;
}

void hostcheck_idmap(struct hostcheck_report *r, const char *state_root)
{
	cleanup_free char *state = existing_dir(state_root), *fs_root = hc_fs_type("/");
	cleanup_free char *fs_state = hc_fs_type(state);
	cleanup_close int nsfd = hc_userns_fd();
	int e_root, e_state;
	struct hostcheck_row *row;

	if (nsfd < 0) {
		hc_add(r, "idmapped-mounts", HOSTCHECK_UNAVAILABLE,
		       "no user namespace to map with (see user-namespaces)");
		return;
	}
	e_root = idmap_errno("/", nsfd);
	e_state = idmap_errno(state, nsfd);
	if (e_root == 0 && e_state == 0) {
		hc_add(r, "idmapped-mounts", HOSTCHECK_OK,
		       "bind mounts can be idmapped on / (%s) and %s (%s)", fs_root, state,
		       fs_state);
		return;
	}
	if (e_root == EPERM && e_state == EPERM) {
		row = hc_add(r, "idmapped-mounts", HOSTCHECK_UNAVAILABLE, "idmapping a mount: %s",
		             strerror(EPERM));
		hc_advise(row, "needs CAP_SYS_ADMIN in the initial user namespace: run as root");
		return;
	}
	row = hc_add(r, "idmapped-mounts",
	             e_root == 0 || e_state == 0 ? HOSTCHECK_LIMITED : HOSTCHECK_UNAVAILABLE,
	             "/ (%s): %s; %s (%s): %s", fs_root, e_root ? strerror(e_root) : "yes", state,
	             fs_state, e_state ? strerror(e_state) : "yes");
	hc_advise(row, "mounts with the idmap or ridmap option fail `create` where the "
	               "filesystem cannot be idmapped (EINVAL: the filesystem does not support "
	               "it; ENOSYS: Linux before 5.12)");
}

/* ---- SELinux, AppArmor ---- */

static void hostcheck_selinux(struct hostcheck_report *r)
{
	struct statfs st;
	bool on = statfs("/sys/fs/selinux", &st) == 0 && st.f_type == SELINUX_MAGIC;
	cleanup_free char *enforce = on ? hc_read_line("/sys/fs/selinux/enforce") : NULL;
	struct hostcheck_row *row;

	if (!on) {
		row = hc_add(r, "selinux", HOSTCHECK_UNAVAILABLE,
		             "not enabled (no selinuxfs at /sys/fs/selinux)");
		hc_advise(row, "process.selinuxLabel and linux.mountLabel are ignored (--debug "
		               "logs it), as runc does");
		return;
	}
#ifdef HAVE_SELINUX
	hc_add(r, "selinux", HOSTCHECK_OK, "enabled, %s",
	       enforce && strcmp(enforce, "1") == 0 ? "enforcing" : "permissive");
#else
	row = hc_add(r, "selinux", HOSTCHECK_LIMITED,
	             "enabled on the host, but skiff was built with --disable-selinux");
	hc_advise(row, "labels are ignored: rebuild with SELinux support");
#endif
}

static void hostcheck_apparmor(struct hostcheck_report *r)
{
	cleanup_free char *enabled = hc_read_line("/sys/module/apparmor/parameters/enabled");
	bool fs = hc_exists("/sys/kernel/security/apparmor");
	struct hostcheck_row *row;

	if (enabled && enabled[0] == 'Y' && fs) {
		hc_add(r, "apparmor", HOSTCHECK_OK,
		       "enabled; profiles in /sys/kernel/security/apparmor");
		return;
	}
	if (enabled && enabled[0] == 'Y') {
		row = hc_add(r, "apparmor", HOSTCHECK_LIMITED,
		             "enabled in the kernel, but securityfs is not mounted");
		hc_advise(row, "mount securityfs on /sys/kernel/security to load profiles; until "
		               "then process.apparmorProfile fails `create`");
		return;
	}
	row = hc_add(r, "apparmor", HOSTCHECK_UNAVAILABLE, "not enabled in this kernel");
	hc_advise(row, "a config with process.apparmorProfile fails `create`: the caller asked "
	               "for confinement skiff cannot give");
}

void hostcheck_lsm(struct hostcheck_report *r)
{
	hostcheck_selinux(r);
	hostcheck_apparmor(r);
}

/* ---- the exec trampoline ---- */

/* Generated from trampoline.c (mk/trampoline.am); empty where unsupported. */
extern const size_t trampoline_blob_size;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

void hostcheck_trampoline(struct hostcheck_report *r)
{
	const unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	cleanup_free char *noexec = hc_read_line("/proc/sys/vm/memfd_noexec");
	cleanup_close int fd = -1;
	struct hostcheck_row *row;

	if (trampoline_blob_size == 0) {
		row = hc_add(r, "exec-trampoline", HOSTCHECK_LIMITED,
		             "not built for this architecture");
		hc_advise(row, "the container's program is executed directly; the init stays "
		               "non-dumpable until then (CVE-2019-5736)");
		return;
	}
	fd = memfd_create("skiff-check", flags | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("skiff-check", flags);
	if (fd >= 0) {
		hc_add(r, "exec-trampoline", HOSTCHECK_OK,
		       "containers' programs start through a sealed executable memfd "
		       "(CVE-2019-5736)");
		return;
	}
	row = hc_add(r, "exec-trampoline", HOSTCHECK_LIMITED, "an executable memfd: %s%s%s",
	             strerror(errno), noexec ? "; vm.memfd_noexec=" : "", noexec ? noexec : "");
	hc_advise(row, "the container's program is executed directly (with a warning); the init "
	               "stays non-dumpable until then");
}
