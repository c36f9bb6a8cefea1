/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources -> the cgroup v1 files and values to write.  Pure, like
 * cgroup_fs2_resources.c: it validates and converts, cgroup_fs1.c writes.
 * The spec's fields are v1's own, so most map one to one; what v1 cannot
 * express (the unified map) is an error naming the field, never dropped.
 */
#include <config.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "utils.h"

#define add cgroup_plan_add

static int check_limit(int64_t v, const char *field, struct skiff_error **err)
{
	if (v < -1)
		return error_msg(err, "%s: invalid value %" PRId64 " (expected -1 or >= 0)", field,
		                 v);
	return 0;
}

/*
 * memory.memsw.limit_in_bytes (memory+swap, the spec's meaning) must stay
 * at or above memory.limit_in_bytes, so which goes first depends on the
 * values in force: it is tried before the limit (when growing) and written
 * for real after it (when shrinking).
 */
static int plan_swap(const struct oci_memory *m, struct cgroup_plan *p, struct skiff_error **err)
{
	int64_t limit = m->has_limit ? m->limit : 0;

	if (m->swap == 0)
		return 0;
	if (check_limit(m->swap, "linux.resources.memory.swap", err) < 0)
		return -1;
	if (m->swap == -1) {
		/* Without swap accounting there is no file, and no limit either. */
		add(p, "memory.memsw.limit_in_bytes", CGW_IF_EXISTS, "memory swap limit", "-1");
		return 0;
	}
	if (limit == 0 || limit == -1)
		return error_msg(err,
		                 "linux.resources.memory.swap: a memory+swap limit (%" PRId64
		                 ") needs a memory limit in linux.resources.memory.limit",
		                 m->swap);
	if (m->swap < limit)
		return error_msg(err,
		                 "linux.resources.memory.swap: %" PRId64
		                 " is less than linux.resources.memory.limit %" PRId64
		                 " (swap is the memory+swap limit)",
		                 m->swap, limit);
	add(p, "memory.memsw.limit_in_bytes", 0, "linux.resources.memory.swap", "%" PRId64,
	    m->swap);
	return 0;
}

static int plan_memory(const struct oci_memory *m, struct cgroup_plan *p, struct skiff_error **err)
{
	bool swap = m->has_swap && m->swap > 0;

	if (swap)
		add(p, "memory.memsw.limit_in_bytes", CGW_TRY, "memory swap limit", "%" PRId64,
		    m->swap);
	/* 0 means unset, as in runc: a 0-byte limit would only kill the container. */
	if (m->has_limit && m->limit != 0) {
		if (check_limit(m->limit, "linux.resources.memory.limit", err) < 0)
			return -1;
		add(p, "memory.limit_in_bytes", 0, "linux.resources.memory.limit", "%" PRId64,
		    m->limit);
	}
	if (m->has_swap && plan_swap(m, p, err) < 0)
		return -1;
	if (m->has_reservation && m->reservation != 0) {
		if (check_limit(m->reservation, "linux.resources.memory.reservation", err) < 0)
			return -1;
		add(p, "memory.soft_limit_in_bytes", 0, "linux.resources.memory.reservation",
		    "%" PRId64, m->reservation);
	}
	if (m->has_kernel && m->kernel != 0)
		add(p, "memory.kmem.limit_in_bytes", 0, "linux.resources.memory.kernel", "%" PRId64,
		    m->kernel);
	if (m->has_kernel_tcp && m->kernel_tcp != 0)
		add(p, "memory.kmem.tcp.limit_in_bytes", 0, "linux.resources.memory.kernelTCP",
		    "%" PRId64, m->kernel_tcp);
	if (m->has_swappiness) {
		if (m->swappiness > 100)
			return error_msg(err,
			                 "linux.resources.memory.swappiness: %" PRIu64
			                 " is out of range (0-100)",
			                 m->swappiness);
		add(p, "memory.swappiness", 0, "linux.resources.memory.swappiness", "%" PRIu64,
		    m->swappiness);
	}
	if (m->has_disable_oom_killer && m->disable_oom_killer)
		add(p, "memory.oom_control", 0, "linux.resources.memory.disableOOMKiller", "1");
	return 0;
}

static void plan_cpu_quota(const struct oci_cpu *c, struct cgroup_plan *p)
{
	bool quota = c->has_quota && c->quota != 0, period = c->has_period && c->period != 0;

	/* The kernel refuses a burst above the quota: tried before, written after. */
	if (c->has_burst && (quota || period))
		add(p, "cpu.cfs_burst_us", CGW_TRY, "linux.resources.cpu.burst", "%" PRIu64,
		    c->burst);
	if (period)
		add(p, "cpu.cfs_period_us", 0, "linux.resources.cpu.period", "%" PRIu64, c->period);
	if (quota)
		add(p, "cpu.cfs_quota_us", 0, "linux.resources.cpu.quota", "%" PRId64,
		    c->quota < 0 ? -1 : c->quota);
	if (c->has_burst)
		add(p, "cpu.cfs_burst_us", 0, "linux.resources.cpu.burst", "%" PRIu64, c->burst);
}

static void plan_cpu(const struct oci_cpu *c, struct cgroup_plan *p)
{
	if (c->has_shares && c->shares != 0)
		add(p, "cpu.shares", 0, "linux.resources.cpu.shares", "%" PRIu64, c->shares);
	plan_cpu_quota(c, p);
	/* The period bounds the runtime: it goes first. */
	if (c->has_realtime_period && c->realtime_period != 0)
		add(p, "cpu.rt_period_us", 0, "linux.resources.cpu.realtimePeriod", "%" PRIu64,
		    c->realtime_period);
	if (c->has_realtime_runtime && c->realtime_runtime != 0)
		add(p, "cpu.rt_runtime_us", 0, "linux.resources.cpu.realtimeRuntime", "%" PRId64,
		    c->realtime_runtime);
	/* SCHED_IDLE groups: a v2 feature some kernels also give v1 (a missing file fails). */
	if (c->has_idle)
		add(p, "cpu.idle", 0, "linux.resources.cpu.idle", "%" PRId64, c->idle);
	if (c->cpus && *c->cpus)
		add(p, "cpuset.cpus", 0, "linux.resources.cpu.cpus", "%s", c->cpus);
	if (c->mems && *c->mems)
		add(p, "cpuset.mems", 0, "linux.resources.cpu.mems", "%s", c->mems);
}

static int check_dev(int64_t major, int64_t minor, const char *field, struct skiff_error **err)
{
	if (major < 0 || major > UINT32_MAX || minor < 0 || minor > UINT32_MAX)
		return error_msg(err, "%s: invalid device %" PRId64 ":%" PRId64, field, major,
		                 minor);
	return 0;
}

static int check_weight(uint64_t w, const char *field, struct skiff_error **err)
{
	if (w < 10 || w > 1000)
		return error_msg(err, "%s: %" PRIu64 " is out of range (10-1000)", field, w);
	return 0;
}

static int plan_throttle(const struct oci_throttle_device *d, size_t n, const char *file,
                         const char *name, struct cgroup_plan *p, struct skiff_error **err)
{
	for (size_t i = 0; i < n; i++) {
		char field[96];

		snprintf(field, sizeof(field), "linux.resources.blockIO.%s[%zu]", name, i);
		if (check_dev(d[i].major, d[i].minor, field, err) < 0)
			return -1;
		/* Rate 0 removes the device's limit. */
		add(p, file, 0, field, "%" PRId64 ":%" PRId64 " %" PRIu64, d[i].major, d[i].minor,
		    d[i].rate);
	}
	return 0;
}

static int plan_weight_devices(const struct oci_block_io *b, struct cgroup_plan *p,
                               struct skiff_error **err)
{
	for (size_t i = 0; i < b->weight_device_len; i++) {
		const struct oci_weight_device *d = &b->weight_device[i];
		char field[96];

		snprintf(field, sizeof(field), "linux.resources.blockIO.weightDevice[%zu]", i);
		if (check_dev(d->major, d->minor, field, err) < 0)
			return -1;
		if (d->has_weight) {
			if (check_weight(d->weight, field, err) < 0)
				return -1;
			add(p, "blkio.weight_device", CGW_BFQ, field,
			    "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
			    (uint64_t)d->weight);
		}
		if (d->has_leaf_weight) {
			if (check_weight(d->leaf_weight, field, err) < 0)
				return -1;
			add(p, "blkio.leaf_weight_device", 0, field,
			    "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
			    (uint64_t)d->leaf_weight);
		}
	}
	return 0;
}

static int plan_blkio(const struct oci_block_io *b, struct cgroup_plan *p, struct skiff_error **err)
{
	if (b->has_weight && b->weight != 0) {
		if (check_weight(b->weight, "linux.resources.blockIO.weight", err) < 0)
			return -1;
		add(p, "blkio.weight", CGW_BFQ, "linux.resources.blockIO.weight", "%" PRIu64,
		    (uint64_t)b->weight);
	}
	if (b->has_leaf_weight && b->leaf_weight != 0) {
		if (check_weight(b->leaf_weight, "linux.resources.blockIO.leafWeight", err) < 0)
			return -1;
		add(p, "blkio.leaf_weight", 0, "linux.resources.blockIO.leafWeight", "%" PRIu64,
		    (uint64_t)b->leaf_weight);
	}
	if (plan_weight_devices(b, p, err) < 0 ||
	    plan_throttle(b->throttle_read_bps_device, b->throttle_read_bps_device_len,
	                  "blkio.throttle.read_bps_device", "throttleReadBpsDevice", p, err) < 0 ||
	    plan_throttle(b->throttle_write_bps_device, b->throttle_write_bps_device_len,
	                  "blkio.throttle.write_bps_device", "throttleWriteBpsDevice", p,
	                  err) < 0 ||
	    plan_throttle(b->throttle_read_iops_device, b->throttle_read_iops_device_len,
	                  "blkio.throttle.read_iops_device", "throttleReadIOPSDevice", p,
	                  err) < 0 ||
	    plan_throttle(b->throttle_write_iops_device, b->throttle_write_iops_device_len,
	                  "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice", p,
	                  err) < 0)
		return -1;
	return 0;
}

static bool name_ok(const char *s)
{
	return s && *s && strcspn(s, "/ \t\n") == strlen(s) && !dot_or_dotdot(s);
}

static int plan_hugetlb(const struct oci_hugepage_limit *h, size_t n, struct cgroup_plan *p,
                        struct skiff_error **err)
{
	for (size_t i = 0; i < n; i++) {
		char file[128], field[64];

		snprintf(field, sizeof(field), "linux.resources.hugepageLimits[%zu]", i);
		if (!name_ok(h[i].page_size) || strlen(h[i].page_size) > 32)
			return error_msg(err, "%s.pageSize: invalid page size \"%s\"", field,
			                 h[i].page_size ? h[i].page_size : "");
		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", h[i].page_size);
		add(p, file, 0, field, "%" PRIu64, h[i].limit);
		snprintf(file, sizeof(file), "hugetlb.%s.rsvd.limit_in_bytes", h[i].page_size);
		add(p, file, CGW_IF_EXISTS, field, "%" PRIu64, h[i].limit);
	}
	return 0;
}

static int plan_network(const struct oci_network *n, struct cgroup_plan *p,
                        struct skiff_error **err)
{
	if (n->has_class_id)
		add(p, "net_cls.classid", 0, "linux.resources.network.classID", "%" PRIu32,
		    n->class_id);
	for (size_t i = 0; i < n->priorities_len; i++) {
		char field[64];

		snprintf(field, sizeof(field), "linux.resources.network.priorities[%zu]", i);
		if (!name_ok(n->priorities[i].name))
			return error_msg(err, "%s.name: invalid interface name \"%s\"", field,
			                 n->priorities[i].name ? n->priorities[i].name : "");
		add(p, "net_prio.ifpriomap", 0, field, "%s %" PRIu32, n->priorities[i].name,
		    n->priorities[i].priority);
	}
	return 0;
}

int fs1_plan_resources(const struct oci_resources *r, bool hugetlb, struct cgroup_plan *out,
                       struct skiff_error **err)
{
	struct cgroup_plan p = {0};
	int ret = 0;

	*out = p;
	if (r == NULL)
		return 0;
	if (r->unified.len > 0)
		return error_msg(
		    err,
		    "linux.resources.unified: \"%s\" is a cgroup v2 file and this host "
		    "runs cgroup v1 (fs1 driver)",
		    r->unified.keys[0] ? r->unified.keys[0] : "");
	if (r->memory)
		ret = plan_memory(r->memory, &p, err);
	if (ret == 0 && r->cpu)
		plan_cpu(r->cpu, &p);
	if (ret == 0 && r->pids && r->pids->has_limit) {
		if (cgroup_pids_max(r->pids->limit) > 0)
			add(&p, "pids.max", 0, "linux.resources.pids.limit", "%" PRId64,
			    cgroup_pids_max(r->pids->limit));
		else
			add(&p, "pids.max", 0, "linux.resources.pids.limit", "max");
	}
	if (ret == 0 && r->block_io)
		ret = plan_blkio(r->block_io, &p, err);
	if (ret == 0 && hugetlb)
		ret = plan_hugetlb(r->hugepage_limits, r->hugepage_limits_len, &p, err);
	if (ret == 0 && r->network)
		ret = plan_network(r->network, &p, err);
	if (ret == 0)
		ret = cgroup_plan_rdma(r->rdma, r->rdma_len, &p, err);
	if (ret < 0) {
		cgroup_plan_free(&p);
		return -1;
	}
	*out = p;
	return 0;
}
