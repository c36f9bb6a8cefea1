/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources -> the cgroup v2 files and values to write.  Pure: it
 * validates and converts, cgroup.c does the writing.  Every error names the
 * config field, because that is what the user has to change.
 */
#include <config.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "utils.h"

#define CPU_DEFAULT_PERIOD 100000

#define plan_add cgroup_plan_add

void cgroup_plan_add(struct cgroup_plan *p, const char *file, int flags, const char *what,
                     const char *fmt, ...)
{
	struct cgroup_write *w;
	va_list ap;

	p->w = xrealloc(p->w, (p->len + 1) * sizeof(*p->w));
	w = &p->w[p->len++];
	w->file = xstrdup(file);
	w->what = xstrdup(what);
	w->flags = flags;
	va_start(ap, fmt);
	if (vasprintf(&w->value, fmt, ap) < 0)
		oom();
	va_end(ap);
}

static void plan_warn(struct cgroup_plan *p, const char *field)
{
	size_t n = strv_len(p->warnings);

	p->warnings = xrealloc(p->warnings, (n + 2) * sizeof(char *));
	p->warnings[n] = xasprintf("%s is not supported on cgroup v2 and is ignored", field);
	p->warnings[n + 1] = NULL;
}

void cgroup_plan_free(struct cgroup_plan *p)
{
	for (size_t i = 0; i < p->len; i++) {
		free(p->w[i].file);
		free(p->w[i].value);
		free(p->w[i].what);
	}
	free(p->w);
	strv_free(p->warnings);
	p->w = NULL;
	p->warnings = NULL;
	p->len = 0;
}

const char *cgroup_plan_get(const struct cgroup_plan *p, const char *file)
{
	for (size_t i = p->len; i-- > 0;)
		if (strcmp(p->w[i].file, file) == 0)
			return p->w[i].value;
	return NULL;
}

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
	/* v1 shares span [2, 262144], v2 weights [1, 10000]. */
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight)
{
	/* blkio weights span [10, 1000], io.weight [1, 10000]. */
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + (weight - 10) * 9999 / 990;
}

/* The controllers with interface files (cgroup.* files are the core's). */
static const char *const controllers[] = {"cpu",     "cpuset", "io",   "memory",
                                          "hugetlb", "pids",   "rdma", "misc"};

bool cgroup_file_controller(const char *file, char *buf, size_t size)
{
	const char *dot = strchr(file, '.');
	size_t n;

	if (dot == NULL || dot == file)
		return false;
	n = (size_t)(dot - file);
	if (n + 1 > size)
		return false;
	/* PSI files and cpu.stat are core files, present without a controller. */
	if (strlen(file) > strlen(".pressure") &&
	    strcmp(file + strlen(file) - strlen(".pressure"), ".pressure") == 0)
		return false;
	if (strcmp(file, "cpu.stat") == 0 || strcmp(file, "cpu.stat.local") == 0)
		return false;
	memcpy(buf, file, n);
	buf[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
		if (strcmp(buf, controllers[i]) == 0)
			return true;
	return false;
}

bool cgroup_unified_key_valid(const char *key)
{
	return key && *key && strchr(key, '/') == NULL && !dot_or_dotdot(key);
}

/* -1 is "max"; other negatives are invalid. */
static int limit_value(int64_t v, const char *field, char *buf, size_t size,
                       struct skiff_error **err)
{
	if (v == -1)
		snprintf(buf, size, "max");
	else if (v < 0)
		return error_msg(err, "%s: invalid value %" PRId64 " (expected -1 or >= 0)", field,
		                 v);
	else
		snprintf(buf, size, "%" PRId64, v);
	return 0;
}

/*
 * The spec's swap is memory+swap (v1's memsw); v2's memory.swap.max is
 * swap alone, so the value written is swap - limit.
 */
static int plan_swap(const struct oci_memory *m, struct cgroup_plan *p, struct skiff_error **err)
{
	int64_t limit = m->has_limit ? m->limit : 0;

	if (m->swap == -1) {
		/* Without swap accounting the file is missing, and "max" is what we'd get. */
		plan_add(p, "memory.swap.max", CGW_IF_EXISTS, "memory swap limit", "max");
		return 0;
	}
	if (m->swap == 0)
		return 0;
	if (m->swap < -1)
		return error_msg(err,
		                 "linux.resources.memory.swap: invalid value %" PRId64
		                 " (expected -1 or >= 0)",
		                 m->swap);
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
	plan_add(p, "memory.swap.max", 0, "memory swap limit", "%" PRId64, m->swap - limit);
	return 0;
}

static int plan_memory(const struct oci_memory *m, struct cgroup_plan *p, struct skiff_error **err)
{
	char v[32];

	/* 0 means unset, as in runc: a 0-byte limit would only kill the container. */
	if (m->has_limit && m->limit != 0) {
		if (limit_value(m->limit, "linux.resources.memory.limit", v, sizeof(v), err) < 0)
			return -1;
		plan_add(p, "memory.max", 0, "memory limit", "%s", v);
	}
	if (m->has_reservation && m->reservation != 0) {
		if (limit_value(m->reservation, "linux.resources.memory.reservation", v, sizeof(v),
		                err) < 0)
			return -1;
		plan_add(p, "memory.low", 0, "memory reservation", "%s", v);
	}
	if (m->has_swap && plan_swap(m, p, err) < 0)
		return -1;
	if (m->has_kernel && m->kernel != 0)
		plan_warn(p, "linux.resources.memory.kernel");
	if (m->has_kernel_tcp && m->kernel_tcp != 0)
		plan_warn(p, "linux.resources.memory.kernelTCP");
	if (m->has_swappiness)
		plan_warn(p, "linux.resources.memory.swappiness");
	if (m->has_disable_oom_killer && m->disable_oom_killer)
		plan_warn(p, "linux.resources.memory.disableOOMKiller");
	return 0;
}

static void plan_cpu_max(const struct oci_cpu *c, struct cgroup_plan *p)
{
	bool quota = c->has_quota && c->quota != 0, period = c->has_period && c->period != 0;
	uint64_t per = period ? c->period : CPU_DEFAULT_PERIOD;

	/*
	 * The kernel refuses a burst above the quota, so a burst set together
	 * with a smaller quota is tried first (for a shrinking burst) and
	 * written again after cpu.max (for a growing one).
	 */
	if (c->has_burst && (quota || period))
		plan_add(p, "cpu.max.burst", CGW_TRY, "cpu burst", "%" PRIu64, c->burst);
	if (quota && c->quota > 0)
		plan_add(p, "cpu.max", 0, "cpu quota", "%" PRId64 " %" PRIu64, c->quota, per);
	else if (quota || period)
		plan_add(p, "cpu.max", 0, "cpu quota", "max %" PRIu64, per);
	if (c->has_burst)
		plan_add(p, "cpu.max.burst", 0, "cpu burst", "%" PRIu64, c->burst);
}

static int plan_cpu(const struct oci_cpu *c, struct cgroup_plan *p, struct skiff_error **err)
{
	if ((c->has_realtime_runtime && c->realtime_runtime != 0) ||
	    (c->has_realtime_period && c->realtime_period != 0))
		return error_msg(err,
		                 "linux.resources.cpu.realtimeRuntime/realtimePeriod: real-time "
		                 "CPU limits are not supported on cgroup v2");
	if (c->has_shares && c->shares != 0)
		plan_add(p, "cpu.weight", 0, "cpu shares", "%" PRIu64,
		         cgroup_shares_to_weight(c->shares));
	plan_cpu_max(c, p);
	if (c->has_idle)
		plan_add(p, "cpu.idle", 0, "cpu idle", "%" PRId64, c->idle);
	if (c->cpus && *c->cpus)
		plan_add(p, "cpuset.cpus", 0, "cpuset cpus", "%s", c->cpus);
	if (c->mems && *c->mems)
		plan_add(p, "cpuset.mems", 0, "cpuset mems", "%s", c->mems);
	return 0;
}

static int check_blkio_weight(uint64_t w, const char *field, struct skiff_error **err)
{
	if (w < 10 || w > 1000)
		return error_msg(err, "%s: %" PRIu64 " is out of range (10-1000)", field, w);
	return 0;
}

static int check_dev(int64_t major, int64_t minor, const char *field, struct skiff_error **err)
{
	if (major < 0 || major > UINT32_MAX || minor < 0 || minor > UINT32_MAX)
		return error_msg(err, "%s: invalid device %" PRId64 ":%" PRId64, field, major,
		                 minor);
	return 0;
}

static int plan_throttle(const struct oci_throttle_device *d, size_t n, const char *key,
                         const char *name, struct cgroup_plan *p, struct skiff_error **err)
{
	for (size_t i = 0; i < n; i++) {
		char field[96];

		snprintf(field, sizeof(field), "linux.resources.blockIO.%s[%zu]", name, i);
		if (check_dev(d[i].major, d[i].minor, field, err) < 0)
			return -1;
		/* v1 used rate 0 to remove a limit; v2 spells that "max". */
		if (d[i].rate == 0)
			plan_add(p, "io.max", 0, "blockIO throttle",
			         "%" PRId64 ":%" PRId64 " %s=max", d[i].major, d[i].minor, key);
		else
			plan_add(p, "io.max", 0, "blockIO throttle",
			         "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d[i].major, d[i].minor, key,
			         d[i].rate);
	}
	return 0;
}

static int plan_blkio(const struct oci_block_io *b, struct cgroup_plan *p, struct skiff_error **err)
{
	if (b->has_weight && b->weight != 0) {
		if (check_blkio_weight(b->weight, "linux.resources.blockIO.weight", err) < 0)
			return -1;
		/* BFQ takes blkio's own scale; io.weight (iocost) its 1-10000 one. */
		plan_add(p, "io.bfq.weight", CGW_BFQ, "blockIO weight", "%" PRIu64,
		         (uint64_t)b->weight);
		plan_add(p, "io.weight", CGW_BFQ, "blockIO weight", "default %" PRIu64,
		         cgroup_blkio_weight_to_io_weight(b->weight));
	}
	if (b->has_leaf_weight)
		plan_warn(p, "linux.resources.blockIO.leafWeight");
	for (size_t i = 0; i < b->weight_device_len; i++) {
		const struct oci_weight_device *d = &b->weight_device[i];
		char field[96];

		snprintf(field, sizeof(field), "linux.resources.blockIO.weightDevice[%zu]", i);
		if (check_dev(d->major, d->minor, field, err) < 0)
			return -1;
		if (d->has_leaf_weight)
			plan_warn(p, "linux.resources.blockIO.weightDevice[].leafWeight");
		if (!d->has_weight)
			continue;
		snprintf(field, sizeof(field), "linux.resources.blockIO.weightDevice[%zu].weight",
		         i);
		if (check_blkio_weight(d->weight, field, err) < 0)
			return -1;
		plan_add(p, "io.bfq.weight", CGW_BFQ, "blockIO weightDevice",
		         "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
		         (uint64_t)d->weight);
		plan_add(p, "io.weight", CGW_BFQ, "blockIO weightDevice",
		         "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
		         cgroup_blkio_weight_to_io_weight(d->weight));
	}
	if (plan_throttle(b->throttle_read_bps_device, b->throttle_read_bps_device_len, "rbps",
	                  "throttleReadBpsDevice", p, err) < 0 ||
	    plan_throttle(b->throttle_write_bps_device, b->throttle_write_bps_device_len, "wbps",
	                  "throttleWriteBpsDevice", p, err) < 0 ||
	    plan_throttle(b->throttle_read_iops_device, b->throttle_read_iops_device_len, "riops",
	                  "throttleReadIOPSDevice", p, err) < 0 ||
	    plan_throttle(b->throttle_write_iops_device, b->throttle_write_iops_device_len, "wiops",
	                  "throttleWriteIOPSDevice", p, err) < 0)
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
		char file[128];

		if (!name_ok(h[i].page_size) || strlen(h[i].page_size) > 32)
			return error_msg(err,
			                 "linux.resources.hugepageLimits[%zu].pageSize: invalid "
			                 "page size \"%s\"",
			                 i, h[i].page_size ? h[i].page_size : "");
		snprintf(file, sizeof(file), "hugetlb.%s.max", h[i].page_size);
		plan_add(p, file, 0, "hugepage limit", "%" PRIu64, h[i].limit);
		/* Newer kernels also limit reservations; keep both in step. */
		snprintf(file, sizeof(file), "hugetlb.%s.rsvd.max", h[i].page_size);
		plan_add(p, file, CGW_IF_EXISTS, "hugepage limit", "%" PRIu64, h[i].limit);
	}
	return 0;
}

/* rdma.max reads the same in v1 and v2: both drivers plan it here. */
int cgroup_plan_rdma(const struct oci_rdma *r, size_t n, struct cgroup_plan *p,
                     struct skiff_error **err)
{
	for (size_t i = 0; i < n; i++) {
		char handles[48] = "", objects[48] = "";

		if (!name_ok(r[i].device))
			return error_msg(err, "linux.resources.rdma: invalid device name \"%s\"",
			                 r[i].device ? r[i].device : "");
		if (!r[i].has_hca_handles && !r[i].has_hca_objects)
			continue;
		if (r[i].has_hca_handles)
			snprintf(handles, sizeof(handles), " hca_handle=%" PRIu32,
			         r[i].hca_handles);
		if (r[i].has_hca_objects)
			snprintf(objects, sizeof(objects), " hca_object=%" PRIu32,
			         r[i].hca_objects);
		plan_add(p, "rdma.max", 0, "rdma limit", "%s%s%s", r[i].device, handles, objects);
	}
	return 0;
}

static int plan_unified(const struct oci_map *u, struct cgroup_plan *p, struct skiff_error **err)
{
	for (size_t i = 0; i < u->len; i++) {
		cleanup_free char *what = NULL;

		if (!cgroup_unified_key_valid(u->keys[i]))
			return error_msg(err, "linux.resources.unified: invalid key \"%s\"",
			                 u->keys[i] ? u->keys[i] : "");
		what = xasprintf("linux.resources.unified \"%s\"", u->keys[i]);
		plan_add(p, u->keys[i], CGW_UNIFIED, what, "%s", u->values[i] ? u->values[i] : "");
	}
	return 0;
}

int cgroup_plan_resources(const struct oci_resources *r, struct cgroup_plan *out,
                          struct skiff_error **err)
{
	struct cgroup_plan p = {0};
	int ret = 0;

	if (r == NULL) {
		*out = p;
		return 0;
	}
	if (r->memory)
		ret = plan_memory(r->memory, &p, err);
	if (ret == 0 && r->cpu)
		ret = plan_cpu(r->cpu, &p, err);
	if (ret == 0 && r->pids && r->pids->has_limit) {
		if (cgroup_pids_max(r->pids->limit) > 0)
			plan_add(&p, "pids.max", 0, "pids limit", "%" PRId64,
			         cgroup_pids_max(r->pids->limit));
		else
			plan_add(&p, "pids.max", 0, "pids limit", "max");
	}
	if (ret == 0 && r->block_io)
		ret = plan_blkio(r->block_io, &p, err);
	if (ret == 0)
		ret = plan_hugetlb(r->hugepage_limits, r->hugepage_limits_len, &p, err);
	if (ret == 0)
		ret = cgroup_plan_rdma(r->rdma, r->rdma_len, &p, err);
	if (ret == 0 && r->network && (r->network->has_class_id || r->network->priorities_len))
		plan_warn(&p, "linux.resources.network");
	/* Last, so a unified value overrides the structured one it duplicates. */
	if (ret == 0)
		ret = plan_unified(&r->unified, &p, err);
	if (ret < 0) {
		cgroup_plan_free(&p);
		return -1;
	}
	*out = p;
	return 0;
}
