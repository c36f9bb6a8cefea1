/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd cgroup driver (--systemd-cgroup, --cgroup-manager systemd):
 * the container's cgroup is a transient scope unit, made by systemd around
 * the container's init, with Delegate=yes.
 *
 * A scope must be started with a process in it, so create makes nothing:
 * it checks the request and that systemd answers.  The init is then cloned
 * outside any container cgroup and waits (container.c); adopt asks systemd
 * for the scope with PIDs=[init] and the limits as unit properties, waits
 * for the job, and writes what systemd has no property for into the
 * scope's cgroup, which is an ordinary cgroup v2 directory from then on.
 * Only then is the init let go, so nothing of the container runs outside
 * its scope.  Everything that reads or signals the cgroup (pause, ps,
 * kill --all, stats, exec) is the fs2 driver's, on the scope's directory.
 * On a legacy or hybrid host the scope's cgroups are v1 hierarchies
 * instead (cgroup_systemd_v1.c, which shares the steps exported here).
 *
 * The system manager is asked as root; the caller's own manager (the user
 * bus) otherwise.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "log.h"
#include "sdbus.h"
#include "utils.h"

static enum sd_bus_kind bus_kind(void)
{
	return geteuid() == 0 ? SD_SYSTEM : SD_USER;
}

int sd_connect(struct skiff_error **err)
{
	return sdbus_connect(bus_kind(), err);
}

/*
 * The user manager's units live under its own cgroup
 * ("/user.slice/user-1000.slice/user@1000.service"), the system manager's
 * at the root.
 */
char *sd_resolve(const char *cgroups_path, const char *id, struct skiff_error **err)
{
	cleanup_free char *rel = NULL, *root = NULL;
	bool user = bus_kind() == SD_USER;

	if (sd_resolve_path(cgroups_path, id, user ? "user.slice" : "system.slice", &rel, err) < 0)
		return NULL;
	if (!user)
		return steal_ptr(&rel);
	if (sd_connect(err) < 0 || sdbus_manager_cgroup(&root, err) < 0)
		return NULL;
	return xasprintf("%s%s", strcmp(root, "/") == 0 ? "" : root, rel);
}

int sd_unit_of(const char *path, char **unit, char **slice, struct skiff_error **err)
{
	if (path == NULL || sd_unit_of_path(path, unit, slice) < 0)
		return error_msg(err, "systemd cgroup driver: \"%s\" is not a scope's cgroup",
		                 path ? path : "");
	/* The user manager's root slice: its cgroup's parent is user@UID.service. */
	if (slice && (strlen(*slice) < 6 || strcmp(*slice + strlen(*slice) - 6, ".slice") != 0)) {
		free(*slice);
		*slice = xstrdup("-.slice");
	}
	return 0;
}

/*
 * A scope is one unit: a container cannot share another's, as it could a
 * cgroupfs directory.  Said before the init exists; a loaded unit with no
 * process left (failed, stopping) is reset and replaced by the start.
 */
int sd_unit_unused(const struct cgroup_driver *fs, const char *path, const char *unit,
                   struct skiff_error **err)
{
	pid_t *pids = NULL;
	size_t n = 0;
	struct skiff_error *ignored = NULL;

	if (!sdbus_unit_loaded(unit))
		return 0;
	if (fs->pids(path, &pids, &n, &ignored) < 0)
		n = 0;
	free(pids);
	error_free(&ignored);
	if (n == 0)
		return 0;
	return error_msg(err,
	                 "systemd cgroup driver: unit `%s` already exists (another container has "
	                 "this linux.cgroupsPath)",
	                 unit);
}

/* Nothing can be made before the init exists: check what can be checked, and the bus. */
static int sd_create(const char *path, const struct oci_resources *r, struct cgroup_created *out,
                     struct skiff_error **err)
{
	struct cgroup_plan plan;
	struct cgroup_dev_rule *rules = NULL;
	size_t nrules = 0;
	const char *mnt;
	cleanup_free char *unit = NULL;

	/* No systemd, no driver: said first, whatever else the host lacks. */
	if (sd_connect(err) < 0)
		return -1;
	if (sd_unit_of(path, &unit, NULL, err) < 0 || cgroup_mountpoint(&mnt, err) < 0)
		return -1;
	if (cgroup_plan_resources(r, &plan, err) < 0)
		return -1;
	cgroup_plan_free(&plan);
	if (cgroup_devices_rules(r ? r->devices : NULL, r ? r->devices_len : 0, true, &rules,
	                         &nrules, err) < 0)
		return -1;
	free(rules);
	if (sd_unit_unused(&cgroup_fs2_driver, path, unit, err) < 0)
		return -1;
	out->mount = xstrdup(mnt);
	return 0;
}

int sd_version_for(const struct cgroup_plan *plan, const char *const *gated)
{
	for (; *gated; gated++)
		if (cgroup_plan_get(plan, *gated))
			return sdbus_systemd_version();
	return 0;
}

static int version_for(const struct cgroup_plan *plan)
{
	static const char *const gated[] = {"cpu.max", "cpu.idle", "cpuset.cpus", "cpuset.mems",
	                                    NULL};
	return sd_version_for(plan, gated);
}

void sd_props_scope(const char *slice, const struct cgroup_adoptee *a, bool v1, struct sd_props *ps)
{
	/* v1 counts block I/O as BlockIOAccounting (the blkio controller), as runc asks there. */
	const char *const accounting[] = {"MemoryAccounting", "CPUAccounting",
	                                  v1 ? "BlockIOAccounting" : "IOAccounting",
	                                  "TasksAccounting"};
	cleanup_free char *desc = xasprintf("skiff container %s", a->id);
	struct sd_value *pids;

	sd_props_add_str(ps, "Description", desc);
	sd_props_add_str(ps, "Slice", slice);
	sd_props_add_bool(ps, "Delegate", true);
	pids = sd_props_add(ps, "PIDs", "au");
	sd_value_push(pids)->u = (uint32_t)a->pid;
	/* Accounting on for every controller, as runc: the counters and files are there. */
	for (size_t i = 0; i < ARRAY_SIZE(accounting); i++)
		sd_props_add_bool(ps, accounting[i], true);
	sd_props_add_bool(ps, "DefaultDependencies", false);
}

int sd_props_rules(const struct oci_resources *r, bool v1, struct sd_props *ps,
                   struct skiff_error **err)
{
	struct cgroup_dev_rule *rules = NULL;
	size_t n = 0;

	/* Rootless: no device filter is loaded (the user namespace limits devices). */
	if (geteuid() != 0)
		return 0;
	if (cgroup_devices_rules(r ? r->devices : NULL, r ? r->devices_len : 0, true, &rules, &n,
	                         err) < 0)
		return -1;
	sd_props_devices(rules, n, v1, ps);
	free(rules);
	return 0;
}

/* What the scope is started with: its place, Delegate, the init, accounting, the limits. */
static int start_props(const char *slice, const struct cgroup_adoptee *a, struct cgroup_plan *plan,
                       struct sd_props *ps, struct skiff_error **err)
{
	sd_props_scope(slice, a, false, ps);
	sd_props_from_plan(plan, version_for(plan), ps);
	if (sd_props_rules(a->r, false, ps, err) < 0)
		return -1;
	/* Last: an annotation overrides what skiff would set. */
	if (a->annotations && sd_props_annotations(a->annotations, ps, err) < 0)
		return -1;
	return 0;
}

void sd_log_props(const char *what, const char *unit, const struct sd_props *ps)
{
	if (!log_debug_enabled)
		return;
	for (size_t i = 0; i < ps->n; i++) {
		cleanup_free char *v = sd_value_text(&ps->p[i].v);
		log_debug("systemd: %s %s: %s=%s", what, unit, ps->p[i].name, v);
	}
}

static int sd_adopt(const char *path, const struct cgroup_adoptee *a, struct skiff_error **err)
{
	cleanup_free char *unit = NULL, *slice = NULL;
	struct cgroup_plan plan;
	struct sd_props ps = {0};
	int fd = -1, ret = -1;

	if (sd_unit_of(path, &unit, &slice, err) < 0 || sd_connect(err) < 0)
		return -1;
	if (cgroup_plan_resources(a->r, &plan, err) < 0)
		return -1;
	if (start_props(slice, a, &plan, &ps, err) < 0)
		goto out;
	sd_log_props("start", unit, &ps);
	if (sdbus_start_unit(unit, &ps, err) < 0)
		goto out;
	log_debug("systemd: unit %s started around pid %d", unit, (int)a->pid);
	/* The scope's cgroup is ours (Delegate=yes): the rest goes to its files. */
	if (fs2_create_planned(path, &plan, a->r, geteuid() == 0, true, &fd, err) < 0)
		goto out;
	close(fd);
	ret = 0;
out:
	sd_props_free(&ps);
	cgroup_plan_free(&plan);
	return ret;
}

static int sd_update(const char *path, const struct oci_resources *r, struct skiff_error **err)
{
	cleanup_free char *unit = NULL, *dir = NULL;
	cleanup_close int dfd = -1;
	struct cgroup_plan plan;
	struct sd_props ps = {0};
	int ret = -1;

	if (sd_unit_of(path, &unit, NULL, err) < 0)
		return -1;
	dir = cgroup_dir(path, err);
	if (dir == NULL)
		return -1;
	dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return error_errno(err, "cgroup: open %s", dir);
	if (cgroup_plan_resources(r, &plan, err) < 0)
		return -1;
	/* Before systemd sets a limit below what is used, and the kernel kills the container. */
	if (fs2_check_memory_usage(dfd, r, err) < 0 || sd_connect(err) < 0)
		goto out;
	sd_props_from_plan(&plan, version_for(&plan), &ps);
	if (r && r->devices_len > 0 && sd_props_rules(r, false, &ps, err) < 0)
		goto out;
	sd_log_props("update", unit, &ps);
	if (sdbus_set_properties(unit, &ps, err) < 0 || fs2_enable_controllers(path, r, err) < 0 ||
	    fs2_apply_plan(dfd, &plan, r, err) < 0)
		goto out;
	ret = 0;
out:
	sd_props_free(&ps);
	cgroup_plan_free(&plan);
	return ret;
}

/*
 * StopUnit kills what is left with the unit's KillSignal and waits up to
 * its stop timeout: killing first (kill) makes the stop immediate.  The
 * scope's cgroup and its children go with the unit; what a container made
 * that systemd left (older systemds keep sub-cgroups, and on v1 the
 * hierarchies systemd does not manage) is removed after.
 */
int sd_destroy_with(const struct cgroup_driver *fs, const char *path, bool kill,
                    struct skiff_error **err)
{
	cleanup_free char *unit = NULL;

	if (sd_unit_of(path, &unit, NULL, err) < 0)
		return -1;
	if (kill && fs->kill_all(path, SIGKILL, err) < 0) {
		if ((*err)->errnum != ENOENT)
			return -1;
		error_free(err);
	}
	if (sd_connect(err) < 0 || sdbus_stop_unit(unit, err) < 0)
		return -1;
	log_debug("systemd: unit %s stopped", unit);
	return fs->destroy(path, kill, err);
}

static int sd_destroy(const char *path, bool kill, struct skiff_error **err)
{
	return sd_destroy_with(&cgroup_fs2_driver, path, kill, err);
}

void sd_unmake_with(const struct cgroup_driver *fs, const char *path, char **made)
{
	cleanup_free char *unit = NULL;
	struct skiff_error *err = NULL;
	pid_t *pids = NULL;
	size_t n = 0;

	strv_free(made);
	if (sd_unit_of(path, &unit, NULL, &err) < 0 || sd_connect(&err) < 0) {
		error_free(&err);
		return;
	}
	/* A unit of that name with processes is another container's, never ours to stop. */
	if (fs->pids(path, &pids, &n, &err) == 0 && n > 0) {
		free(pids);
		return;
	}
	free(pids);
	error_free(&err);
	if (sdbus_unit_loaded(unit) && sdbus_stop_unit(unit, &err) < 0) {
		cleanup_free char *text = error_text(err);
		log_warning("cgroup: after a failed create: %s", text);
		error_free(&err);
		return;
	}
	/* What systemd does not manage (v1 hierarchies), made around the init. */
	if (fs->destroy(path, false, &err) < 0) {
		cleanup_free char *text = error_text(err);
		log_warning("cgroup: after a failed create: %s", text);
		error_free(&err);
	}
}

/* After a failed create: the init is dead, and the scope goes if adopt started it. */
static void sd_unmake(const char *path, char **made)
{
	sd_unmake_with(&cgroup_fs2_driver, path, made);
}

/* ---- the rest is the scope's cgroup, driven as cgroup v2 ---- */

static int sd_enter(const char *path, cgroup_subs subs, pid_t pid, struct skiff_error **err)
{
	return cgroup_fs2_driver.enter(path, subs, pid, err);
}

static int sd_exec_target(const char *path, pid_t init, cgroup_subs subs, int *fd,
                          struct skiff_error **err)
{
	return cgroup_fs2_driver.exec_target(path, init, subs, fd, err);
}

static int sd_delegate(const char *path, pid_t pid, uint32_t uid, struct skiff_error **err)
{
	return cgroup_fs2_driver.delegate(path, pid, uid, err);
}

static uint64_t sd_oom_kills(const char *path)
{
	return cgroup_fs2_driver.oom_kills(path);
}

static int sd_oom_watch(const char *path)
{
	return cgroup_fs2_driver.oom_watch(path);
}

const struct cgroup_driver cgroup_systemd_driver = {
    .name = "systemd",
    .resolve = sd_resolve,
    .create = sd_create,
    .enter = sd_enter,
    .adopt = sd_adopt,
    .unmake = sd_unmake,
    .exec_target = sd_exec_target,
    .delegate = sd_delegate,
    .update = sd_update,
    .freeze = fs2_freeze,
    .is_frozen = fs2_is_frozen,
    .freezer_dir = cgroup_dir,
    .kill_all = fs2_kill_all,
    .pids = fs2_pids,
    .stats = fs2_stats,
    .oom_kills = sd_oom_kills,
    .oom_watch = sd_oom_watch,
    .destroy = sd_destroy,
};
