/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v1 driver, for legacy and hybrid hosts.
 *
 * The container gets the same path in every mounted v1 hierarchy and, on a
 * hybrid host, in the cgroup2 one too: that is the cgroup its "0::" line
 * shows (cgroup namespaces, delegation) and where controllers that only
 * cgroup2 has here (hugetlb, say) are driven, through the fs2 code.  A v1
 * cgroup cannot be cloned into: the init is cloned into the cgroup2 part
 * and moves itself into every v1 hierarchy once told to go on (sync.h's
 * GO), before it does anything else (cgroup.h's cgroup_self: no global
 * lock, no RCU grace period); exec's processes are moved by the parent
 * before GO.  No code of the container runs outside its limits.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "log.h"
#include "utils.h"

/* How long freeze and kill wait for the kernel to catch up. */
#define SETTLE_TIMEOUT_MS 10000

/* ---- planning ---- */

void fs1_plan_free(struct fs1_plan *p)
{
	cgroup_plan_free(&p->res);
	cgroup_plan_free(&p->dev);
}

static int check_mounted(const struct fs1_host *h, const struct cgroup_plan *p,
                         struct skiff_error **err)
{
	for (size_t i = 0; i < p->len; i++) {
		char ctl[32];

		if (fs1_mount_for_file(h, p->w[i].file, ctl, sizeof(ctl)) == NULL)
			return error_msg(
			    err,
			    "cgroup: %s requested but the %s controller is not mounted "
			    "(cgroup v1)",
			    p->w[i].what, ctl);
	}
	return 0;
}

/*
 * Rootless: loading device rules needs privilege; the user namespace
 * limits devices instead (as in runc and the fs2 driver).
 */
static bool skip_devices(void)
{
	return geteuid() != 0;
}

static int plan_devices(const struct fs1_host *h, const struct oci_resources *r, struct fs1_plan *p,
                        struct skiff_error **err)
{
	if (skip_devices())
		return 0;
	if (fs1_mount_of(h, "devices"))
		return fs1_devices_plan(r ? r->devices : NULL, r ? r->devices_len : 0, &p->dev,
		                        err);
	if (h->v2 == NULL)
		return error_msg(
		    err, "cgroup: linux.resources.devices: no devices controller is mounted");
	p->v2_devices = true;
	if (r) {
		p->v2.devices = r->devices;
		p->v2.devices_len = r->devices_len;
	}
	return 0;
}

int fs1_plan_all(const struct fs1_host *h, const struct oci_resources *r, bool devices,
                 struct fs1_plan *p, struct skiff_error **err)
{
	bool hugetlb_v1 = fs1_mount_of(h, "hugetlb") != NULL;

	memset(p, 0, sizeof(*p));
	if (fs1_plan_resources(r, hugetlb_v1, &p->res, err) < 0 ||
	    check_mounted(h, &p->res, err) < 0)
		return -1;
	if (!hugetlb_v1 && r && r->hugepage_limits_len) {
		if (h->v2 == NULL)
			return error_msg(err, "cgroup: linux.resources.hugepageLimits: no hugetlb "
			                      "controller is mounted");
		p->v2.hugepage_limits = r->hugepage_limits;
		p->v2.hugepage_limits_len = r->hugepage_limits_len;
	}
	if (devices && plan_devices(h, r, p, err) < 0)
		return -1;
	return 0;
}

static int write_plan(const struct fs1_host *h, const char *path, const struct cgroup_plan *p,
                      struct skiff_error **err)
{
	cleanup_close int fd = -1;

	for (char **w = p->warnings; w && *w; w++)
		log_warning("cgroup: %s", *w);
	for (size_t i = 0; i < p->len; i++) {
		char ctl[32];
		const char *mnt = fs1_mount_for_file(h, p->w[i].file, ctl, sizeof(ctl));
		cleanup_free char *dir = xasprintf("%s%s", mnt, path);

		/* One open for a run of writes to one file: devices.allow takes a
		 * rule a write, eleven for runc's default devices. */
		if (fd >= 0 && strcmp(p->w[i].file, p->w[i - 1].file) != 0) {
			close(fd);
			fd = -1;
		}
		if (fs1_write(dir, &p->w[i], &fd, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- create ---- */

struct made {
	char **v; /* full paths, in the order made */
	size_t n;
};

static void undo_made(struct made *m)
{
	while (m->n > 0) {
		char *d = m->v[--m->n];
		if (rmdir(d) < 0 && errno != ENOENT)
			log_warning("cgroup: remove %s after a failed create: %s", d,
			            strerror(errno));
		free(d);
	}
	free(m->v);
	m->v = NULL;
}

static void forget_made(struct made *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/*
 * Whether the root cpuset balances load over every CPU: then the kernel
 * builds one scheduling domain whatever the flag says below the root.
 */
static bool root_balances(const char *mnt)
{
	cleanup_free char *value = NULL;

	return fs1_read(mnt, "", "cpuset.sched_load_balance", &value) == 0 && value[0] == '1';
}

/*
 * A new cpuset has no cpus or mems, and takes no process: it starts with its
 * parent's.  Under a balancing root its sched_load_balance goes to 0 first
 * (it changes nothing there, see root_balances): giving a balancing cpuset
 * cpus, and removing it, each rebuild the scheduling domains, which walks
 * every cpuset on the host (8% of a `run`'s CPU time with ~1,000 containers).
 */
static int inherit_cpuset(const char *mnt, const char *dir, struct skiff_error **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	if (root_balances(mnt)) {
		cleanup_free char *flag = xasprintf("%s/cpuset.sched_load_balance", dir);
		struct skiff_error *ignored = NULL;

		if (write_file_at(AT_FDCWD, flag, "0", &ignored) < 0)
			error_free(&ignored); /* only slower: the domains get rebuilt */
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_free char *parent = xasprintf("%s/../%s", dir, files[i]), *value = NULL;
		cleanup_free char *mine = xasprintf("%s/%s", dir, files[i]);

		if (read_file(parent, &value, NULL, err) < 0)
			return error_wrap(err, "cgroup");
		value[strcspn(value, "\n")] = '\0';
		if (*value && write_file_at(AT_FDCWD, mine, value, err) < 0)
			return error_wrap(err, "cgroup");
	}
	return 0;
}

static int make_dirs(const char *mnt, const char *path, bool cpuset, struct made *m,
                     struct skiff_error **err)
{
	cleanup_free char *full = xasprintf("%s%s", mnt, path);

	for (char *p = full + strlen(mnt) + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(full, 0755) == 0) {
			m->v = xrealloc(m->v, (m->n + 1) * sizeof(char *));
			m->v[m->n++] = xstrdup(full);
			if (cpuset && inherit_cpuset(mnt, full, err) < 0)
				return -1;
		} else if (errno != EEXIST) {
			return error_errno(err, "cgroup: mkdir %s", full);
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static char *parent_dir(const char *dir)
{
	char *out = xstrdup(dir), *slash = strrchr(out, '/');

	if (slash && slash != out)
		*slash = '\0';
	return out;
}

static int make_all(const struct fs1_host *h, const char *path, const struct fs1_plan *p,
                    struct made *m, int *v2fd, struct skiff_error **err)
{
	for (size_t i = 0; i < h->n; i++)
		if (make_dirs(h->v1[i].mnt, path, strstr(h->v1[i].controllers, "cpuset") != NULL, m,
		              err) < 0)
			return -1;
	if (h->v2 && fs2_create_part(path, &p->v2, p->v2_devices, v2fd, err) < 0)
		return -1;
	if (write_plan(h, path, &p->res, err) < 0 || write_plan(h, path, &p->dev, err) < 0)
		return -1;
	return 0;
}

/*
 * The `tasks` file of every v1 hierarchy, for the init to move itself
 * (cgroup.h's cgroup_self).  -1 when one cannot be opened (a delegated
 * cgroup may give cgroup.procs only): the parent moves the init then.
 */
static int open_self(const struct fs1_host *h, const char *path, cgroup_subs subs,
                     struct cgroup_self *s)
{
	s->fds = xcalloc(h->n, sizeof(int));
	s->files = xcalloc(h->n + 1, sizeof(char *));
	for (size_t i = 0; i < h->n; i++) {
		struct skiff_error *ignored = NULL;
		const char *sub = "";

		/* Checked already (fs1_exec_target). */
		cgroup_sub_for(subs, h->v1[i].controllers, &sub, &ignored);
		error_free(&ignored);
		s->files[i] = xasprintf("%s%s%s%s/tasks", h->v1[i].mnt, path, *sub ? "/" : "", sub);
		s->fds[i] = open(s->files[i], O_WRONLY | O_CLOEXEC);
		s->n++;
		if (s->fds[i] < 0) {
			log_debug("cgroup: open %s: %s; the parent moves the init", s->files[i],
			          strerror(errno));
			cgroup_self_free(s);
			return -1;
		}
	}
	return 0;
}

static char *procs_dir(const struct fs1_host *h, const char *path);

/* Whether the hierarchy that lists the container's processes got its directory now. */
static bool made_procs_dir(const struct fs1_host *h, const char *path, const struct made *m)
{
	cleanup_free char *dir = procs_dir(h, path);

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i], dir) == 0)
			return true;
	return false;
}

static int fs1_create(const char *path, const struct oci_resources *r, struct cgroup_created *out,
                      struct skiff_error **err)
{
	const struct fs1_host *h;
	struct fs1_plan p = {0};
	struct made m = {0};
	cleanup_close int v2fd = -1;
	cleanup_free char *v2dir = NULL;
	bool v2_existed = false;
	int ret = -1;

	if ((h = fs1_host_get(err)) == NULL)
		goto out;
	/* Everything that can be checked before touching a hierarchy is. */
	if (fs1_plan_all(h, r, true, &p, err) < 0)
		goto out;
	if (h->v2) {
		v2dir = xasprintf("%s%s", h->v2, path);
		v2_existed = access(v2dir, F_OK) == 0;
	}
	if (make_all(h, path, &p, &m, &v2fd, err) < 0) {
		struct skiff_error *ignored = NULL;
		if (v2dir && !v2_existed)
			cgroup_remove_tree(v2dir, &ignored);
		error_free(&ignored);
		undo_made(&m);
		goto out;
	}
	out->mount = parent_dir(h->v1[0].mnt);
	out->fresh = h->v2 ? !v2_existed : made_procs_dir(h, path, &m);
	/* Born in the cgroup2 part (a hybrid host), it moves itself into the v1 ones. */
	if (open_self(h, path, NULL, &out->self) == 0)
		out->clone_fd = steal_fd(&v2fd);
	out->made = xcalloc(m.n + 2, sizeof(char *));
	for (size_t i = 0; i < m.n; i++)
		out->made[i] = steal_ptr(&m.v[i]);
	if (v2dir && !v2_existed)
		out->made[m.n] = steal_ptr(&v2dir);
	ret = 0;
out:
	forget_made(&m);
	fs1_plan_free(&p);
	return ret;
}

/* ---- moving processes in ---- */

/*
 * The directory pid goes to in one hierarchy (its sub-cgroup for exec
 * --cgroup); with pid 0 only checked to exist.
 */
static int enter_one(const char *mnt, const char *controllers, const char *path, cgroup_subs subs,
                     pid_t pid, struct skiff_error **err)
{
	const char *sub;
	cleanup_free char *dir = NULL, *file = NULL;
	char buf[32];

	if (cgroup_sub_for(subs, controllers, &sub, err) < 0)
		return -1;
	dir = xasprintf("%s%s%s%s", mnt, path, *sub ? "/" : "", sub);
	if (*sub && access(dir, F_OK) < 0)
		return error_errno(err, "--cgroup: %s", dir);
	if (pid == 0)
		return 0;
	file = xasprintf("%s/cgroup.procs", dir);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (write_file_at(AT_FDCWD, file, buf, err) < 0)
		return error_wrap(err, "cgroup: move pid %s in", buf);
	return 0;
}

/* Every hierarchy, the cgroup2 part of a hybrid host included. */
static int enter_all(const char *path, cgroup_subs subs, pid_t pid, struct skiff_error **err)
{
	const struct fs1_host *h;
	int ret = 0;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	for (size_t i = 0; i < h->n && ret == 0; i++)
		ret = enter_one(h->v1[i].mnt, h->v1[i].controllers, path, subs, pid, err);
	if (ret == 0 && h->v2)
		ret = enter_one(h->v2, "", path, subs, pid, err);
	return ret;
}

static int fs1_enter(const char *path, cgroup_subs subs, pid_t pid, struct skiff_error **err)
{
	return enter_all(path, subs, pid, err);
}

/*
 * No v1 cgroup can be cloned into: cgroup_enter moves the process before
 * it runs.  The --cgroup sub-cgroups are checked now, before the clone.
 */
static int fs1_exec_target(const char *path, pid_t init, cgroup_subs subs, int *fd,
                           struct skiff_error **err)
{
	(void)init;
	*fd = -1;
	return subs && *subs ? enter_all(path, subs, 0, err) : 0;
}

/*
 * An exec'd process moves itself into the v1 hierarchies (cgroup_self),
 * born in the cgroup2 part of a hybrid host (*fd).  Nothing is set when a
 * file cannot be opened: the parent moves the process then.
 */
static int fs1_exec_self(const char *path, cgroup_subs subs, int *fd, struct cgroup_self *self,
                         struct skiff_error **err)
{
	const struct fs1_host *h;
	const char *sub = "";
	cleanup_free char *dir = NULL;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	if (open_self(h, path, subs, self) < 0 || h->v2 == NULL)
		return 0;
	if (cgroup_sub_for(subs, "", &sub, err) < 0) {
		cgroup_self_free(self);
		return -1;
	}
	dir = xasprintf("%s%s%s%s", h->v2, path, *sub ? "/" : "", sub);
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		log_debug("cgroup: open %s: %s; the parent moves the process", dir,
		          strerror(errno));
		cgroup_self_free(self);
	}
	return 0;
}

/* Delegation is a cgroup2 notion: the hybrid host's cgroup2 part is the container's own. */
static int fs1_delegate(const char *path, pid_t pid, uint32_t uid, struct skiff_error **err)
{
	const struct fs1_host *h;
	int ret = 0;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	if (h->v2)
		ret = cgroup_fs2_driver.delegate(path, pid, uid, err);
	return ret;
}

/* ---- update ---- */

int fs1_check_memory_usage(const char *path, const struct oci_resources *r,
                           struct skiff_error **err)
{
	const struct oci_memory *m = r ? r->memory : NULL;
	const struct fs1_host *h;
	cleanup_free char *data = NULL;
	const char *mnt;
	unsigned long long current;

	if (!m || !m->has_check_before_update || !m->check_before_update || !m->has_limit ||
	    m->limit <= 0)
		return 0;
	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	if ((mnt = fs1_mount_of(h, "memory")) == NULL)
		return 0;
	if (fs1_read(mnt, path, "memory.usage_in_bytes", &data) < 0)
		return error_errno(err, "cgroup: read %s%s/memory.usage_in_bytes", mnt, path);
	current = strtoull(data, NULL, 10);
	if (current > (unsigned long long)m->limit)
		return error_msg(err,
		                 "cgroup: linux.resources.memory.limit %lld is below the current "
		                 "usage %llu (checkBeforeUpdate is set)",
		                 (long long)m->limit, current);
	return 0;
}

int fs1_apply(const char *path, const struct fs1_plan *p, struct skiff_error **err)
{
	const struct fs1_host *h;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	if (write_plan(h, path, &p->res, err) < 0 || write_plan(h, path, &p->dev, err) < 0)
		return -1;
	if (h->v2 && (p->v2.hugepage_limits_len || (p->v2_devices && p->v2.devices_len)))
		return cgroup_fs2_driver.update(path, &p->v2, err);
	return 0;
}

static int fs1_update(const char *path, const struct oci_resources *r, struct skiff_error **err)
{
	const struct fs1_host *h;
	struct fs1_plan p;
	int ret = -1;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	if (fs1_plan_all(h, r, r && r->devices_len > 0, &p, err) == 0 &&
	    fs1_check_memory_usage(path, r, err) == 0 && fs1_apply(path, &p, err) == 0)
		ret = 0;
	fs1_plan_free(&p);
	return ret;
}

/* ---- freezer ---- */

static bool freezer_is(const char *dir, const char *want)
{
	cleanup_free char *file = xasprintf("%s/freezer.state", dir);
	cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
	char word[16];
	ssize_t n;

	/* One word (THAWED, FREEZING, FROZEN), one read: `list` asks for every container. */
	if (fd < 0 || (n = read(fd, word, sizeof(word) - 1)) < 0)
		return false;
	word[n] = '\0';
	return str_has_prefix(word, want);
}

static int freeze_v1(const char *dir, bool frozen, struct skiff_error **err)
{
	cleanup_free char *file = xasprintf("%s/freezer.state", dir);
	const char *want = frozen ? "FROZEN" : "THAWED";
	long deadline = cgroup_now_ms() + SETTLE_TIMEOUT_MS;

	/* FREEZING until every task stopped; asking again nudges tasks that were busy. */
	for (;;) {
		if (write_file_at(AT_FDCWD, file, want, err) < 0)
			return error_wrap(err, "cgroup");
		if (freezer_is(dir, want))
			return 0;
		if (cgroup_now_ms() > deadline)
			break;
		cgroup_sleep_ms(10);
	}
	if (frozen)
		write_file_at(AT_FDCWD, file, "THAWED", NULL);
	return error_set(err, ETIMEDOUT, "cgroup: wait for %s to %s", dir,
	                 frozen ? "freeze" : "thaw");
}

static int fs1_freeze(const char *path, bool frozen, struct skiff_error **err)
{
	const struct fs1_host *h;
	const char *mnt;
	int ret;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	mnt = fs1_mount_of(h, "freezer");
	if (mnt) {
		cleanup_free char *dir = xasprintf("%s%s", mnt, path);
		ret = freeze_v1(dir, frozen, err);
	} else if (h->v2) {
		ret = fs2_freeze(path, frozen, err);
	} else {
		ret = error_msg(err, "cgroup: no freezer controller is mounted");
	}
	return ret;
}

static int fs1_is_frozen(const char *path, bool *out, struct skiff_error **err)
{
	const struct fs1_host *h;
	const char *mnt;
	int ret = 0;

	*out = false;
	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	mnt = fs1_mount_of(h, "freezer");
	if (mnt) {
		cleanup_free char *dir = xasprintf("%s%s", mnt, path);
		*out = freezer_is(dir, "FROZEN");
	} else if (h->v2) {
		ret = fs2_is_frozen(path, out, err);
	}
	return ret;
}

static char *fs1_freezer_dir(const char *path, struct skiff_error **err)
{
	const struct fs1_host *h;
	const char *mnt;

	if ((h = fs1_host_get(err)) == NULL)
		return NULL;
	mnt = fs1_mount_of(h, "freezer");
	if (mnt)
		return xasprintf("%s%s", mnt, path);
	if (h->v2)
		return cgroup_dir(path, err);
	error_msg(err, "cgroup: no freezer controller is mounted");
	return NULL;
}

/* ---- processes ---- */

/*
 * Where the container's processes are listed: the cgroup2 part on a
 * hybrid host (every process enters it), else the freezer's hierarchy.
 */
static char *procs_dir(const struct fs1_host *h, const char *path)
{
	const char *mnt = h->v2;

	if (mnt == NULL)
		mnt = fs1_mount_of(h, "freezer");
	if (mnt == NULL)
		mnt = fs1_mount_of(h, "pids");
	if (mnt == NULL)
		mnt = h->v1[0].mnt;
	return xasprintf("%s%s", mnt, path);
}

static int list_pids(const struct fs1_host *h, const char *path, pid_t **pids, size_t *n,
                     struct skiff_error **err)
{
	cleanup_free char *dir = procs_dir(h, path);
	cleanup_close int dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	*pids = NULL;
	*n = 0;
	if (dfd < 0)
		return error_errno(err, "cgroup: open %s", dir);
	cgroup_collect_pids(dfd, pids, n);
	return 0;
}

static int fs1_pids(const char *path, pid_t **pids, size_t *n, struct skiff_error **err)
{
	const struct fs1_host *h;
	int ret;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	ret = list_pids(h, path, pids, n, err);
	return ret;
}

static int signal_all(const struct fs1_host *h, const char *path, int sig, size_t *n,
                      struct skiff_error **err)
{
	cleanup_free pid_t *pids = NULL;

	if (list_pids(h, path, &pids, n, err) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return error_errno(err, "cgroup: send signal %d to pid %d", sig,
			                   (int)pids[i]);
	return 0;
}

/* v1 has no cgroup.kill: SIGKILL until no one is left, thawing so the signal lands. */
static int kill_everyone(const struct fs1_host *h, const char *path, struct skiff_error **err)
{
	const char *freezer = fs1_mount_of(h, "freezer");
	cleanup_free char *fdir = freezer ? xasprintf("%s%s", freezer, path) : NULL;
	long deadline = cgroup_now_ms() + SETTLE_TIMEOUT_MS, delay = 1;
	size_t n;

	for (;;) {
		if (signal_all(h, path, SIGKILL, &n, err) < 0)
			return -1;
		if (n == 0)
			return 0;
		if (fdir && !freezer_is(fdir, "THAWED"))
			freeze_v1(fdir, false, NULL);
		if (cgroup_now_ms() > deadline)
			return error_set(err, ETIMEDOUT,
			                 "cgroup: %zu processes in %s survive SIGKILL", n, path);
		/* A killed process is usually gone within a millisecond: every `delete
		 * --force` waits here, so the first waits are short. */
		cgroup_sleep_ms(delay);
		delay = delay < 10 ? delay * 2 : 10;
	}
}

static int fs1_kill_all(const char *path, int sig, struct skiff_error **err)
{
	const struct fs1_host *h;
	size_t n;
	int ret;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	ret = sig == SIGKILL ? kill_everyone(h, path, err) : signal_all(h, path, sig, &n, err);
	return ret;
}

/* ---- OOM ---- */

static uint64_t fs1_oom_kills(const char *path)
{
	const struct fs1_host *h;
	struct skiff_error *ignored = NULL;
	cleanup_free char *data = NULL;
	unsigned long long v = 0;
	const char *mnt;

	if ((h = fs1_host_get(&ignored)) == NULL) {
		error_free(&ignored);
		return 0;
	}
	mnt = fs1_mount_of(h, "memory");
	if (mnt && fs1_read(mnt, path, "memory.oom_control", &data) == 0)
		cgroup_keyed_value(data, "oom_kill", &v);
	return v;
}

/* memcg's notification: an eventfd registered on memory.oom_control fires on each OOM. */
static int fs1_oom_watch(const char *path)
{
	const struct fs1_host *h;
	struct skiff_error *ignored = NULL;
	cleanup_close int efd = -1, dfd = -1, ofd = -1, cfd = -1;
	cleanup_free char *dir = NULL;
	const char *mnt;
	char buf[64];

	if ((h = fs1_host_get(&ignored)) == NULL) {
		error_free(&ignored);
		return -1;
	}
	mnt = fs1_mount_of(h, "memory");
	dir = mnt ? xasprintf("%s%s", mnt, path) : NULL;
	if (dir == NULL)
		return -1;
	dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ofd = openat(dfd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
	cfd = openat(dfd, "cgroup.event_control", O_WRONLY | O_CLOEXEC);
	if (efd < 0 || ofd < 0 || cfd < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%d %d", efd, ofd);
	if (write_all(cfd, buf, strlen(buf)) < 0)
		return -1;
	return steal_fd(&efd);
}

/* ---- destroy ---- */

static int fs1_destroy(const char *path, bool kill, struct skiff_error **err)
{
	const struct fs1_host *h;
	int ret = 0;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	if (kill) {
		cleanup_free char *dir = procs_dir(h, path);
		if (access(dir, F_OK) == 0)
			ret = kill_everyone(h, path, err);
	}
	for (size_t i = 0; i < h->n && ret == 0; i++) {
		cleanup_free char *dir = xasprintf("%s%s", h->v1[i].mnt, path);
		ret = cgroup_remove_tree(dir, err);
	}
	if (ret == 0 && h->v2) {
		cleanup_free char *dir = xasprintf("%s%s", h->v2, path);
		ret = cgroup_remove_tree(dir, err);
	}
	return ret;
}

int fs1_join(const char *path, const struct fs1_plan *p, pid_t pid, struct skiff_error **err)
{
	const struct fs1_host *h;
	struct made m = {0};
	cleanup_close int v2fd = -1;

	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	if (make_all(h, path, p, &m, &v2fd, err) < 0 || enter_all(path, NULL, pid, err) < 0) {
		undo_made(&m);
		return -1;
	}
	forget_made(&m);
	return 0;
}

/* Not born in its cgroup: moved in before it may go on. */
static int fs1_adopt(const char *path, const struct cgroup_adoptee *a, struct skiff_error **err)
{
	return fs1_enter(path, NULL, a->pid, err);
}

const struct cgroup_driver cgroup_fs1_driver = {
    .name = "fs1",
    .resolve = cgroup_resolve_path,
    .create = fs1_create,
    .enter = fs1_enter,
    .adopt = fs1_adopt,
    .unmake = cgroup_unmake_dirs,
    .exec_target = fs1_exec_target,
    .exec_self = fs1_exec_self,
    .delegate = fs1_delegate,
    .update = fs1_update,
    .freeze = fs1_freeze,
    .is_frozen = fs1_is_frozen,
    .freezer_dir = fs1_freezer_dir,
    .kill_all = fs1_kill_all,
    .pids = fs1_pids,
    .stats = fs1_stats,
    .oom_kills = fs1_oom_kills,
    .oom_watch = fs1_oom_watch,
    .destroy = fs1_destroy,
};

#ifdef HAVE_SYSTEMD
/*
 * The systemd driver on a legacy or hybrid host: systemd makes and removes
 * the scope (cgroup_systemd_v1.c), and the scope is then a v1 cgroup like
 * any other, in every hierarchy.
 */
const struct cgroup_driver cgroup_systemd_v1_driver = {
    .name = "systemd",
    .resolve = sd1_resolve,
    .create = sd1_create,
    .enter = fs1_enter,
    .adopt = sd1_adopt,
    .unmake = sd1_unmake,
    .exec_target = fs1_exec_target,
    .exec_self = fs1_exec_self,
    .delegate = fs1_delegate,
    .update = sd1_update,
    .freeze = fs1_freeze,
    .is_frozen = fs1_is_frozen,
    .freezer_dir = fs1_freezer_dir,
    .kill_all = fs1_kill_all,
    .pids = fs1_pids,
    .stats = fs1_stats,
    .oom_kills = fs1_oom_kills,
    .oom_watch = fs1_oom_watch,
    .destroy = sd1_destroy,
};
#endif
