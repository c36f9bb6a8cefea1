/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v2 filesystem driver: where the hierarchy is, where a
 * container's cgroup goes, and creating it with its limits.
 * cgroup_resources.c turns the config into file writes, cgroup_devices.c
 * builds the device filter, cgroup_control.c pauses, kills and removes,
 * and cgroup_stats.c reads the counters.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "log.h"
#include "utils.h"

/* How long cgroup_wait_events() waits for the kernel to catch up. */
#define SETTLE_TIMEOUT_MS 10000

static bool is_cgroup2(const char *path)
{
	struct statfs st;
	return statfs(path, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_mountpoint(const char **out, struct skiff_error **err)
{
	static const char *const candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};

	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
		if (is_cgroup2(candidates[i])) {
			*out = candidates[i];
			return 0;
		}
	}
	return error_msg(err, "cgroup: no cgroup v2 hierarchy mounted at /sys/fs/cgroup or "
	                      "/sys/fs/cgroup/unified");
}

/* ---- paths ---- */

/* Appends the components of p to buf ("/a/b"), refusing "..". */
static int append_clean(char **buf, const char *p, const char *what, struct skiff_error **err)
{
	cleanup_free char *copy = xstrdup(p);
	char *save = NULL;

	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		char *next;

		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return error_msg(err, "%s: \"..\" is not allowed in \"%s\"", what, p);
		next = xasprintf("%s/%s", *buf, c);
		free(*buf);
		*buf = next;
	}
	return 0;
}

char *cgroup_resolve_path_from(const char *cgroups_path, const char *id, const char *own,
                               struct skiff_error **err)
{
	cleanup_free char *out = xstrdup("");
	cleanup_free char *name = NULL;
	const char *rel = cgroups_path;

	if (cgroups_path == NULL || *cgroups_path == '\0') {
		if (id == NULL || *id == '\0' || strchr(id, '/') || strcmp(id, "..") == 0) {
			error_msg(err, "cgroup: invalid container id \"%s\"", id ? id : "");
			return NULL;
		}
		rel = name = xasprintf("skiff-%s", id);
	}
	if (rel[0] != '/') {
		char *slash;

		if (append_clean(&out, own, "cgroup: own cgroup", err) < 0)
			return NULL;
		/* The parent of our own cgroup: ours has processes in it. */
		slash = strrchr(out, '/');
		if (slash)
			*slash = '\0';
	}
	if (append_clean(&out, rel, "linux.cgroupsPath", err) < 0)
		return NULL;
	if (*out == '\0') {
		error_msg(err, "linux.cgroupsPath: \"%s\" is the root cgroup", rel);
		return NULL;
	}
	return steal_ptr(&out);
}

int cgroup_own_path(char **out, struct skiff_error **err)
{
	cleanup_free char *data = NULL;
	char *line, *save = NULL;

	if (read_file("/proc/self/cgroup", &data, NULL, err) < 0)
		return error_wrap(err, "cgroup");
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (str_has_prefix(line, "0::")) {
			*out = xstrdup(line + 3);
			return 0;
		}
	}
	*out = xstrdup("/");
	return 0;
}

char *cgroup_resolve_path(const char *cgroups_path, const char *id, struct skiff_error **err)
{
	cleanup_free char *own = NULL;

	if (cgroups_path && cgroups_path[0] == '/')
		return cgroup_resolve_path_from(cgroups_path, id, "/", err);
	if (cgroup_own_path(&own, err) < 0)
		return NULL;
	return cgroup_resolve_path_from(cgroups_path, id, own, err);
}

/* A path as cgroup_resolve_path() makes them: absolute, no ".." component. */
static bool path_ok(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n > 0 && path[0] == '/' && strstr(path, "/../") == NULL &&
	       !(n >= 3 && strcmp(path + n - 3, "/..") == 0);
}

char *cgroup_dir(const char *path, struct skiff_error **err)
{
	const char *mnt;

	if (cgroup_mountpoint(&mnt, err) < 0)
		return NULL;
	if (!path_ok(path)) {
		error_msg(err, "cgroup: invalid cgroup path \"%s\"", path ? path : "");
		return NULL;
	}
	return xasprintf("%s%s", mnt, path);
}

/* ---- small file helpers ---- */

int cgroup_read_at(int dirfd, const char *file, char **out)
{
	cleanup_close int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	struct skiff_error *e = NULL;

	if (fd < 0)
		return -1;
	if (read_fd_all(fd, out, NULL, &e) < 0) {
		int saved = e->errnum;
		error_free(&e);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Whether a space-separated list (cgroup.controllers) holds word. */
bool cgroup_has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
		bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
		if (start && end)
			return true;
	}
	return false;
}

/* The value after "key " in a flat-keyed file (cgroup.events, memory.events). */
bool cgroup_keyed_value(const char *data, const char *key, unsigned long long *out)
{
	size_t n = strlen(key);

	for (const char *p = data; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, n) == 0 && p[n] == ' ') {
			*out = strtoull(p + n + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

void cgroup_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

long cgroup_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int cgroup_wait_events(int dirfd, const char *key, unsigned long long want)
{
	long deadline = cgroup_now_ms() + SETTLE_TIMEOUT_MS, delay = 1;

	for (;;) {
		cleanup_free char *data = NULL;
		unsigned long long v;

		if (cgroup_read_at(dirfd, "cgroup.events", &data) < 0)
			return -1;
		if (cgroup_keyed_value(data, key, &v) && v == want)
			return 0;
		if (cgroup_now_ms() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		cgroup_sleep_ms(delay);
		delay = delay < 50 ? delay * 2 : 50;
	}
}

/* ---- resources ---- */

/*
 * Loading a device program needs CAP_SYS_ADMIN (CAP_BPF) in the initial
 * user namespace.  Without it (rootless) the container's devices are
 * limited by the user namespace instead: nodes cannot be made and bind
 * mounted ones keep their owners, so the filter is left out, as runc does.
 */
static bool skip_device_filter(void)
{
	if (geteuid() == 0)
		return false;
	log_debug("cgroup: not root: no device filter (the user namespace limits devices)");
	return true;
}

static int write_one(int dirfd, const struct cgroup_write *w, struct skiff_error **err)
{
	cleanup_close int fd = openat(dirfd, w->file, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(w->value);
	ssize_t n;

	if (fd < 0 && errno == ENOENT && (w->flags & CGW_UNIFIED))
		return error_msg(err,
		                 "cgroup: linux.resources.unified: \"%s\" does not exist in the "
		                 "cgroup",
		                 w->file);
	if (fd < 0 && errno == ENOENT && (w->flags & CGW_IF_EXISTS))
		return 0;
	if (fd >= 0) {
		log_debug("cgroup: %s = %s", w->file, w->value);
		n = write(fd, w->value, len);
		if (n >= 0 && (size_t)n == len)
			return 0;
		if (n >= 0)
			errno = EIO;
	}
	if (w->flags & CGW_TRY)
		return 0;
	return error_errno(err, "cgroup: write \"%s\" to %s", w->value, w->file);
}

/* A CGW_BFQ write goes to io.bfq.weight when the cgroup has it, as runc's. */
static bool skip_write(const struct cgroup_write *w, int bfq)
{
	return (w->flags & CGW_BFQ) && (strcmp(w->file, "io.bfq.weight") == 0) != bfq;
}

static int write_plan(int dirfd, const struct cgroup_plan *plan, struct skiff_error **err)
{
	int bfq = -1; /* looked up at the first CGW_BFQ write */

	for (char **w = plan->warnings; w && *w; w++)
		log_warning("cgroup: %s", *w);
	for (size_t i = 0; i < plan->len; i++) {
		if ((plan->w[i].flags & CGW_BFQ) && bfq < 0)
			bfq = faccessat(dirfd, "io.bfq.weight", F_OK, 0) == 0;
		if (skip_write(&plan->w[i], bfq))
			continue;
		if (write_one(dirfd, &plan->w[i], err) < 0)
			return -1;
	}
	return 0;
}

/* checkBeforeUpdate: refuse a memory limit below what the cgroup already uses. */
static int check_memory_usage(int dirfd, const struct oci_memory *m, struct skiff_error **err)
{
	cleanup_free char *data = NULL;
	unsigned long long current;

	if (!m || !m->has_check_before_update || !m->check_before_update || !m->has_limit ||
	    m->limit <= 0)
		return 0;
	if (cgroup_read_at(dirfd, "memory.current", &data) < 0)
		return error_errno(err, "cgroup: read memory.current");
	current = strtoull(data, NULL, 10);
	if (current > (unsigned long long)m->limit)
		return error_msg(err,
		                 "cgroup: linux.resources.memory.limit %lld is below the current "
		                 "usage %llu (checkBeforeUpdate is set)",
		                 (long long)m->limit, current);
	return 0;
}

static int install_devices(int dirfd, const struct oci_resources *r, struct skiff_error **err)
{
	struct cgroup_bpf_prog prog = {0};
	int ret;

	if (skip_device_filter())
		return 0;
	if (cgroup_devices_compile(r ? r->devices : NULL, r ? r->devices_len : 0, true, &prog,
	                           err) < 0)
		return -1;
	ret = cgroup_devices_install(dirfd, &prog, err);
	cgroup_bpf_prog_free(&prog);
	return ret;
}

int fs2_check_memory_usage(int dirfd, const struct oci_resources *r, struct skiff_error **err)
{
	return check_memory_usage(dirfd, r ? r->memory : NULL, err);
}

int fs2_apply_plan(int dirfd, const struct cgroup_plan *plan, const struct oci_resources *r,
                   struct skiff_error **err)
{
	int ret = check_memory_usage(dirfd, r ? r->memory : NULL, err);

	if (ret == 0)
		ret = write_plan(dirfd, plan, err);
	if (ret == 0 && r && r->devices_len > 0)
		ret = install_devices(dirfd, r, err);
	return ret;
}

int fs2_apply_resources(int dirfd, const struct oci_resources *r, struct skiff_error **err)
{
	struct cgroup_plan plan;
	int ret;

	if (cgroup_plan_resources(r, &plan, err) < 0)
		return -1;
	ret = fs2_apply_plan(dirfd, &plan, r, err);
	cgroup_plan_free(&plan);
	return ret;
}

int fs2_enter(int dirfd, pid_t pid, struct skiff_error **err)
{
	char buf[32];
	cleanup_close int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (fd < 0 || write_all(fd, buf, strlen(buf)) < 0)
		return error_errno(err, "cgroup: write \"%s\" to cgroup.procs", buf);
	return 0;
}

/* ---- create ---- */

struct needed {
	char name[32];
	const char *what; /* the first request that needs it */
};

/* The controllers the plan's files belong to, each once. */
static size_t needed_controllers(const struct cgroup_plan *plan, struct needed *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->len; i++) {
		char name[32];
		bool seen = false;

		if (!cgroup_file_controller(plan->w[i].file, name, sizeof(name)))
			continue;
		for (size_t j = 0; j < n; j++)
			seen = seen || strcmp(out[j].name, name) == 0;
		if (seen || n == max)
			continue;
		strcpy(out[n].name, name);
		out[n++].what = plan->w[i].what;
	}
	return n;
}

static int check_available(const char *mnt, const struct needed *need, size_t n,
                           struct skiff_error **err)
{
	cleanup_free char *path = xasprintf("%s/cgroup.controllers", mnt);
	cleanup_free char *list = NULL;

	if (n == 0)
		return 0;
	if (read_file(path, &list, NULL, err) < 0)
		return error_wrap(err, "cgroup");
	for (size_t i = 0; i < n; i++)
		if (!cgroup_has_word(list, need[i].name))
			return error_msg(err,
			                 "cgroup: %s requested but the %s controller is not "
			                 "enabled in the cgroup v2 hierarchy at %s",
			                 need[i].what, need[i].name, mnt);
	return 0;
}

static int write_subtree(int dfd, const char *buf)
{
	cleanup_close int fd = openat(dfd, "cgroup.subtree_control", O_WRONLY | O_CLOEXEC);

	return fd < 0 ? -1 : write_all(fd, buf, strlen(buf));
}

/*
 * Every controller anc has that its children lack, as "+a +b" (empty when
 * none is missing).
 */
static char *missing_controllers(const char *have, const char *avail)
{
	cleanup_free char *copy = xstrdup(avail);
	char *name, *save = NULL, *out = xstrdup("");

	for (name = strtok_r(copy, " \n", &save); name; name = strtok_r(NULL, " \n", &save)) {
		char *more;

		if (cgroup_has_word(have, name))
			continue;
		more = xasprintf("%s%s+%s", out, *out ? " " : "", name);
		free(out);
		out = more;
	}
	return out;
}

/*
 * Makes the controllers available to anc's children via its
 * cgroup.subtree_control.  With all, every controller anc has is enabled, as
 * runc does (a container gets them all, whatever its limits: nested systemd or
 * a runtime inside the container expects them); one the kernel refuses (anc
 * holds processes, or we do not own it) is left out unless need names it.
 */
static int enable_in(int mntfd, const char *mnt, const char *anc, const struct needed *need,
                     size_t n, bool all, struct skiff_error **err)
{
	cleanup_close int dfd = -1;
	cleanup_free char *have = NULL, *avail = NULL, *every = NULL;

	if (n == 0 && !all)
		return 0;
	dfd = openat(mntfd, *anc ? anc : ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return error_errno(err, "cgroup: open %s/%s", mnt, anc);
	if (cgroup_read_at(dfd, "cgroup.subtree_control", &have) < 0 ||
	    cgroup_read_at(dfd, "cgroup.controllers", &avail) < 0)
		return error_errno(err, "cgroup: read the controllers of %s/%s", mnt, anc);
	/* One write for all of them; one at a time only when the kernel refuses one. */
	if (all) {
		char *save = NULL;

		every = missing_controllers(have, avail);
		if (*every == '\0' || write_subtree(dfd, every) == 0)
			return 0;
		log_debug("cgroup: write \"%s\" to %s/%s: %s; one at a time", every, mnt, anc,
		          strerror(errno));
		for (char *c = strtok_r(every, " ", &save); c; c = strtok_r(NULL, " ", &save))
			if (write_subtree(dfd, c) < 0)
				log_debug("cgroup: %s/%s: %s not enabled: %s", mnt, anc, c + 1,
				          strerror(errno));
		free(have);
		have = NULL;
		if (cgroup_read_at(dfd, "cgroup.subtree_control", &have) < 0)
			return error_errno(err, "cgroup: read %s/%s cgroup.subtree_control", mnt,
			                   anc);
	}
	for (size_t i = 0; i < n; i++) {
		char buf[40];

		if (cgroup_has_word(have, need[i].name))
			continue;
		if (!cgroup_has_word(avail, need[i].name))
			return error_msg(err,
			                 "cgroup: %s requested but the %s controller is not "
			                 "available in %s/%s",
			                 need[i].what, need[i].name, mnt, anc);
		snprintf(buf, sizeof(buf), "+%s", need[i].name);
		if (write_subtree(dfd, buf) < 0)
			return error_errno(err,
			                   "cgroup: write \"%s\" to %s/%s%scgroup.subtree_control",
			                   buf, mnt, anc, *anc ? "/" : "");
	}
	return 0;
}

struct made_dirs {
	char **v; /* relative to the mount, shallowest first */
	size_t n;
};

static void undo_mkdirs(int mntfd, struct made_dirs *m)
{
	while (m->n > 0) {
		char *d = m->v[--m->n];
		if (unlinkat(mntfd, d, AT_REMOVEDIR) < 0)
			log_warning("cgroup: remove %s after a failed create: %s", d,
			            strerror(errno));
		free(d);
	}
	free(m->v);
	m->v = NULL;
}

/* Enables the controllers in the root and in every ancestor of rel (not in rel itself). */
static int enable_along(int mntfd, const char *mnt, const char *rel, const struct needed *need,
                        size_t n, bool all, struct skiff_error **err)
{
	cleanup_free char *prefix = xstrdup(rel);

	if (enable_in(mntfd, mnt, "", need, n, all, err) < 0)
		return -1;
	for (char *p = prefix; (p = strchr(p, '/')) != NULL; *p++ = '/') {
		*p = '\0';
		if (enable_in(mntfd, mnt, prefix, need, n, all, err) < 0)
			return -1;
	}
	return 0;
}

/* mkdir -p below the mount, noting each directory it made. */
static int make_dirs(int mntfd, const char *mnt, const char *rel, struct made_dirs *made,
                     struct skiff_error **err)
{
	cleanup_free char *prefix = xstrdup(rel);

	for (char *p = prefix;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdirat(mntfd, prefix, 0755) == 0) {
			made->v = xrealloc(made->v, (made->n + 1) * sizeof(char *));
			made->v[made->n++] = xstrdup(prefix);
		} else if (errno != EEXIST) {
			return error_errno(err, "cgroup: mkdir %s/%s", mnt, prefix);
		}
		if (last)
			return 0;
		*p = '/';
	}
}

/* path checked and cleaned ("/a/b"), and the mount opened. */
static int open_mount(const char *path, const char **mnt, char **clean, int *mntfd,
                      struct skiff_error **err)
{
	if (cgroup_mountpoint(mnt, err) < 0)
		return -1;
	*clean = xstrdup("");
	if (!path_ok(path) || append_clean(clean, path, "cgroup", err) < 0)
		return error_msg(err, "cgroup: invalid cgroup path \"%s\"", path ? path : "");
	if (**clean == '\0')
		return error_msg(err, "cgroup: refusing to use the root cgroup");
	*mntfd = open(*mnt, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (*mntfd < 0)
		return error_errno(err, "cgroup: open %s", *mnt);
	return 0;
}

int fs2_enable_controllers(const char *path, const struct oci_resources *r,
                           struct skiff_error **err)
{
	const char *mnt;
	cleanup_free char *clean = NULL;
	cleanup_close int mntfd = -1;
	struct cgroup_plan plan;
	struct needed need[16];
	size_t nneed;
	int ret;

	if (open_mount(path, &mnt, &clean, &mntfd, err) < 0)
		return -1;
	if (cgroup_plan_resources(r, &plan, err) < 0)
		return -1;
	nneed = needed_controllers(&plan, need, ARRAY_SIZE(need));
	ret = check_available(mnt, need, nneed, err);
	if (ret == 0)
		ret = enable_along(mntfd, mnt, clean + 1, need, nneed, false, err);
	cgroup_plan_free(&plan);
	return ret;
}

static int create(const char *path, const struct oci_resources *r, bool devices, bool all,
                  int *dirfd_out, struct skiff_error **err)
{
	struct cgroup_plan plan = {0};
	int ret;

	/* Everything that can be checked before touching the hierarchy is. */
	if (cgroup_plan_resources(r, &plan, err) < 0)
		return -1;
	ret = fs2_create_planned(path, &plan, r, devices, all, dirfd_out, err);
	cgroup_plan_free(&plan);
	return ret;
}

int fs2_create_planned(const char *path, const struct cgroup_plan *plan,
                       const struct oci_resources *r, bool devices, bool all, int *dirfd_out,
                       struct skiff_error **err)
{
	const char *mnt;
	struct cgroup_bpf_prog prog = {0};
	struct made_dirs made = {0};
	struct needed need[16];
	size_t nneed;
	cleanup_close int mntfd = -1, dfd = -1;
	cleanup_free char *clean = NULL;
	int ret = -1;

	if (open_mount(path, &mnt, &clean, &mntfd, err) < 0)
		return -1;
	if (devices && cgroup_devices_compile(r ? r->devices : NULL, r ? r->devices_len : 0, true,
	                                      &prog, err) < 0)
		goto out;
	nneed = needed_controllers(plan, need, ARRAY_SIZE(need));
	if (check_available(mnt, need, nneed, err) < 0 ||
	    make_dirs(mntfd, mnt, clean + 1, &made, err) < 0 ||
	    enable_along(mntfd, mnt, clean + 1, need, nneed, all, err) < 0)
		goto out;
	dfd = openat(mntfd, clean + 1, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0) {
		error_errno(err, "cgroup: open %s%s", mnt, clean);
		goto out;
	}
	if (write_plan(dfd, plan, err) < 0 ||
	    (devices && !skip_device_filter() && cgroup_devices_install(dfd, &prog, err) < 0))
		goto out;
	*dirfd_out = steal_fd(&dfd);
	ret = 0;
out:
	if (ret < 0)
		undo_mkdirs(mntfd, &made);
	for (size_t i = 0; i < made.n; i++)
		free(made.v[i]);
	free(made.v);
	cgroup_bpf_prog_free(&prog);
	return ret;
}

int fs2_create(const char *path, const struct oci_resources *r, int *dirfd_out,
               struct skiff_error **err)
{
	return create(path, r, true, true, dirfd_out, err);
}

/* The v2 part of a hybrid host gets only what r needs: its root is the host's. */
int fs2_create_part(const char *path, const struct oci_resources *r, bool devices, int *dirfd_out,
                    struct skiff_error **err)
{
	return create(path, r, devices, false, dirfd_out, err);
}

/* ---- delegation ---- */

bool cgroup_wants_delegation(const struct oci_config *c)
{
	for (size_t i = 0; i < c->mounts_len; i++) {
		const struct oci_mount *m = &c->mounts[i];
		bool cgroup = (m->source && strcmp(m->source, "cgroup") == 0) ||
		              (m->type &&
		               (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0));
		bool ro = false;

		if (!cgroup || m->destination == NULL ||
		    strcmp(m->destination, "/sys/fs/cgroup") != 0)
			continue;
		for (char **o = m->options; o && *o; o++)
			ro = ro || strcmp(*o, "ro") == 0;
		if (!ro)
			return true;
	}
	return false;
}

/* The host uid that uid maps to in pid's user namespace. */
static int host_uid(pid_t pid, uint32_t uid, uid_t *out, struct skiff_error **err)
{
	char path[64];
	cleanup_free char *data = NULL;
	char *line, *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (read_file(path, &data, NULL, err) < 0)
		return error_wrap(err, "cgroup: delegate");
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long inside, outside, count;

		if (sscanf(line, "%llu %llu %llu", &inside, &outside, &count) == 3 &&
		    uid >= inside && uid - inside < count) {
			*out = (uid_t)(outside + (uid - inside));
			return 0;
		}
	}
	return error_msg(err,
	                 "cgroup: delegate: process.user.uid %u is not mapped in the user "
	                 "namespace",
	                 uid);
}

int fs2_delegate(int dirfd, pid_t pid, uint32_t uid, struct skiff_error **err)
{
	static const char fallback[] = "cgroup.procs\ncgroup.subtree_control\ncgroup.threads\n";
	cleanup_free char *list = NULL;
	struct skiff_error *ignored = NULL;
	char *name, *save = NULL;
	uid_t host = 0;

	if (host_uid(pid, uid, &host, err) < 0)
		return -1;
	/* The kernel's list of the files a delegatee may own (cgroups(7)). */
	if (read_file("/sys/kernel/cgroup/delegate", &list, NULL, &ignored) < 0)
		list = xstrdup(fallback);
	error_free(&ignored);
	if (fchownat(dirfd, "", host, (gid_t)-1, AT_EMPTY_PATH) < 0)
		return error_errno(err, "cgroup: delegate: chown the cgroup to uid %u",
		                   (unsigned)host);
	for (name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
		/* Not every listed file exists in every cgroup. */
		if (fchownat(dirfd, name, host, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != ENOENT)
			return error_errno(err, "cgroup: delegate: chown %s to uid %u", name,
			                   (unsigned)host);
	}
	return 0;
}
