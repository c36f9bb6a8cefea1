/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd cgroup driver on a legacy or hybrid host (cgroup v1), as
 * runc's --systemd-cgroup works there.
 *
 * As on a unified host, create makes nothing and adopt asks systemd for a
 * transient scope around the waiting init, with Delegate=yes and the limits
 * systemd has cgroup v1 properties for (MemoryLimit, CPUShares,
 * CPUQuotaPerSecUSec, BlockIOWeight, TasksMax, the device list), so a
 * daemon-reload keeps them.  systemd makes the scope's cgroup in the
 * hierarchies it manages (name=systemd, cpu,cpuacct, blkio, memory,
 * devices, pids, and the cgroup2 one on a hybrid host) and moves the init
 * there.  The other hierarchies (cpuset, freezer, net_cls, perf_event,
 * hugetlb, rdma, misc) are skiff's: the same path is made in them and the
 * init moved in, and every limit is written to the files as the fs1 driver
 * writes them, systemd's included, so the files hold what was asked
 * (device rules systemd cannot express, for one).  From then on the scope
 * is driven as any fs1 cgroup (cgroup_fs1.c holds the table): pause
 * through the freezer hierarchy, exec, ps, kill, stats, OOM events.
 * delete stops the unit, then removes the scope's directory from the
 * hierarchies systemd does not manage.  As with runc, the slice's own
 * directories there (freezer/system.slice) stay: every scope shares them.
 */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "log.h"
#include "sdbus.h"
#include "utils.h"

/* Properties only newer systemds have: its version is asked only for these. */
static const char *const gated[] = {"cpu.cfs_period_us", "cpuset.cpus", "cpuset.mems", NULL};

/*
 * Root's scopes only: systemd delegates v1 hierarchies to no one else, and
 * runc refuses the same.  Said before any bus is asked for.
 */
char *sd1_resolve(const char *cgroups_path, const char *id, struct skiff_error **err)
{
	if (geteuid() != 0) {
		error_msg(err,
		          "systemd cgroup driver: rootless on a cgroup v1 host is not supported "
		          "(systemd delegates v1 hierarchies to root only; use --cgroup-manager "
		          "cgroupfs, or a cgroup v2 host)");
		return NULL;
	}
	return sd_resolve(cgroups_path, id, err);
}

/* Nothing can be made before the init exists: check what can be checked, and the bus. */
int sd1_create(const char *path, const struct oci_resources *r, struct cgroup_created *out,
               struct skiff_error **err)
{
	const struct fs1_host *h;
	struct fs1_plan p;
	cleanup_free char *unit = NULL;
	const char *slash;
	int ret;

	/* No systemd, no driver: said first, whatever else the host lacks. */
	if (sd_connect(err) < 0)
		return -1;
	if (sd_unit_of(path, &unit, NULL, err) < 0 || (h = fs1_host_get(err)) == NULL)
		return -1;
	ret = fs1_plan_all(h, r, true, &p, err);
	fs1_plan_free(&p);
	if (ret < 0 || sd_unit_unused(&cgroup_fs1_driver, path, unit, err) < 0)
		return -1;
	slash = strrchr(h->v1[0].mnt, '/');
	out->mount = xasprintf("%.*s", (int)(slash - h->v1[0].mnt), h->v1[0].mnt);
	return 0;
}

int sd1_adopt(const char *path, const struct cgroup_adoptee *a, struct skiff_error **err)
{
	cleanup_free char *unit = NULL, *slice = NULL;
	const struct fs1_host *h;
	struct fs1_plan p = {0};
	struct sd_props ps = {0};
	int ret = -1;

	if (sd_unit_of(path, &unit, &slice, err) < 0 || sd_connect(err) < 0 ||
	    (h = fs1_host_get(err)) == NULL)
		return -1;
	if (fs1_plan_all(h, a->r, true, &p, err) < 0)
		goto out;
	sd_props_scope(slice, a, true, &ps);
	sd_props_from_plan_v1(&p.res, sd_version_for(&p.res, gated), &ps);
	if (sd_props_rules(a->r, true, &ps, err) < 0)
		goto out;
	/* Last: an annotation overrides what skiff would set. */
	if (a->annotations && sd_props_annotations(a->annotations, &ps, err) < 0)
		goto out;
	sd_log_props("start", unit, &ps);
	if (sdbus_start_unit(unit, &ps, err) < 0)
		goto out;
	log_debug("systemd: unit %s started around pid %d", unit, (int)a->pid);
	/* The hierarchies systemd left alone, and every file (Delegate=yes: ours to write). */
	if (fs1_join(path, &p, a->pid, err) < 0)
		goto out;
	ret = 0;
out:
	sd_props_free(&ps);
	fs1_plan_free(&p);
	return ret;
}

/*
 * systemd gives a v1 cgroup a new device list by denying everything
 * first: the container is frozen meanwhile, so it never sees the gap (as
 * runc).  *thaw says whether to thaw after; without a freezer it goes on.
 */
static void freeze_for_devices(const char *path, bool *thaw)
{
	struct skiff_error *err = NULL;
	bool frozen = false;

	*thaw = false;
	if (cgroup_fs1_driver.is_frozen(path, &frozen, &err) == 0 && !frozen &&
	    cgroup_fs1_driver.freeze(path, true, &err) == 0)
		*thaw = true;
	if (err) {
		cleanup_free char *text = error_text(err);
		log_debug("systemd: new device rules without freezing: %s", text);
		error_free(&err);
	}
}

int sd1_update(const char *path, const struct oci_resources *r, struct skiff_error **err)
{
	cleanup_free char *unit = NULL;
	const struct fs1_host *h;
	struct fs1_plan p = {0};
	struct sd_props ps = {0};
	bool devices = r && r->devices_len > 0, thaw = false;
	int ret = -1;

	if (sd_unit_of(path, &unit, NULL, err) < 0 || (h = fs1_host_get(err)) == NULL)
		return -1;
	if (fs1_plan_all(h, r, devices, &p, err) < 0)
		goto out;
	/* Before systemd sets a limit below what is used, and the kernel kills the container. */
	if (fs1_check_memory_usage(path, r, err) < 0 || sd_connect(err) < 0)
		goto out;
	sd_props_from_plan_v1(&p.res, sd_version_for(&p.res, gated), &ps);
	if (devices && sd_props_rules(r, true, &ps, err) < 0)
		goto out;
	sd_log_props("update", unit, &ps);
	if (devices)
		freeze_for_devices(path, &thaw);
	ret = sdbus_set_properties(unit, &ps, err);
	if (ret == 0)
		ret = fs1_apply(path, &p, err);
	if (thaw) {
		struct skiff_error *e = NULL;

		if (cgroup_fs1_driver.freeze(path, false, ret == 0 ? err : &e) < 0)
			ret = -1;
		error_free(&e);
	}
out:
	sd_props_free(&ps);
	fs1_plan_free(&p);
	return ret;
}

int sd1_destroy(const char *path, bool kill, struct skiff_error **err)
{
	return sd_destroy_with(&cgroup_fs1_driver, path, kill, err);
}

void sd1_unmake(const char *path, char **made)
{
	sd_unmake_with(&cgroup_fs1_driver, path, made);
}
