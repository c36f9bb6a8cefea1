/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v1 driver's pure parts, on any host: linux.resources -> the
 * v1 files and values, and the device rules replayed against v1's
 * default+exceptions model (the integration tests check them against
 * runc and the kernel where the host has v1 hierarchies).
 */
#include <config.h>
#include <stdint.h>
#include <string.h>

#include "libskiff/cgroup.h"
#include "libskiff/cgroup_internal.h"
#include "libskiff/utils.h"
#include "tap.h"

static char *errmsg(struct skiff_error **err)
{
	static char buf[1024];
	char *t;

	if (*err == NULL)
		return NULL;
	t = error_text(*err);
	snprintf(buf, sizeof(buf), "%s", t);
	free(t);
	error_free(err);
	return buf;
}

/* "file=value;..." of a plan. */
static const char *str(const struct cgroup_plan *p)
{
	static char buf[4096];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->len && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s=%s", i ? ";" : "",
		                        p->w[i].file, p->w[i].value);
	return buf;
}

/* The plan for r as a string, or "error: ..." */
static const char *plan(const struct oci_resources *r, bool hugetlb)
{
	static char out[4096];
	struct skiff_error *err = NULL;
	struct cgroup_plan p;

	if (fs1_plan_resources(r, hugetlb, &p, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", errmsg(&err));
		return out;
	}
	snprintf(out, sizeof(out), "%s", str(&p));
	cgroup_plan_free(&p);
	return out;
}

static void test_memory_cpu_pids(void)
{
	struct oci_memory m = {.has_limit = true,
	                       .limit = 100,
	                       .has_swap = true,
	                       .swap = 200,
	                       .has_swappiness = true,
	                       .swappiness = 10};
	struct oci_cpu c = {.has_shares = true,
	                    .shares = 512,
	                    .has_quota = true,
	                    .quota = 5000,
	                    .has_period = true,
	                    .period = 10000};
	struct oci_pids pids = {.has_limit = true, .limit = 7};
	struct oci_resources r = {.memory = &m, .cpu = &c, .pids = &pids};

	/* memsw is tried before the limit (growing) and written after it (shrinking). */
	ok_str(plan(&r, true),
	       "memory.memsw.limit_in_bytes=200;memory.limit_in_bytes=100;"
	       "memory.memsw.limit_in_bytes=200;memory.swappiness=10;cpu.shares=512;"
	       "cpu.cfs_period_us=10000;cpu.cfs_quota_us=5000;pids.max=7",
	       "memory, cpu and pids map to the v1 files, period before quota");
	m.swap = 50;
	ok(strstr(plan(&r, true), "error: linux.resources.memory.swap: 50 is less than") != NULL,
	   "swap below the limit names the field");
	m.swap = 200;
	m.swappiness = 101;
	ok(strstr(plan(&r, true), "linux.resources.memory.swappiness: 101") != NULL,
	   "swappiness over 100 names the field");
}

static void test_v2_only_and_missing(void)
{
	char *keys[] = {"memory.high", NULL}, *vals[] = {"1M", NULL};
	struct oci_resources r = {.unified = {.keys = keys, .values = vals, .len = 1}};
	struct oci_hugepage_limit h = {.page_size = "2MB", .limit = 4096};
	struct oci_resources rh = {.hugepage_limits = &h, .hugepage_limits_len = 1};

	ok(strstr(plan(&r, true), "error: linux.resources.unified: \"memory.high\"") != NULL,
	   "a unified key fails naming it");
	ok_str(plan(&rh, true),
	       "hugetlb.2MB.limit_in_bytes=4096;hugetlb.2MB.rsvd.limit_in_bytes=4096",
	       "hugetlb in v1");
	ok_str(plan(&rh, false), "", "hugetlb left to the cgroup2 part when v1 has none");
}

static void test_blkio_network(void)
{
	struct oci_throttle_device t = {.major = 8, .minor = 0, .rate = 100};
	struct oci_block_io b = {.has_weight = true,
	                         .weight = 300,
	                         .throttle_read_bps_device = &t,
	                         .throttle_read_bps_device_len = 1};
	struct oci_network n = {.has_class_id = true, .class_id = 0x100001};
	struct oci_resources r = {.block_io = &b, .network = &n};
	struct cgroup_plan p;
	struct skiff_error *err = NULL;

	ok_str(plan(&r, true),
	       "blkio.weight=300;blkio.throttle.read_bps_device=8:0 100;net_cls.classid=1048577",
	       "blkio and net_cls");
	ok(fs1_plan_resources(&r, true, &p, &err) == 0 && (p.w[0].flags & CGW_BFQ),
	   "blkio.weight falls back to BFQ's file");
	cgroup_plan_free(&p);
	b.weight = 5;
	ok(strstr(plan(&r, true), "linux.resources.blockIO.weight: 5 is out of range") != NULL,
	   "a weight out of range names the field");
}

/* The device writes for rules, or "error: ...". */
static const char *devices(const struct oci_device_cgroup *rules, size_t n)
{
	static char out[4096];
	struct skiff_error *err = NULL;
	struct cgroup_plan p;

	if (fs1_devices_plan(rules, n, &p, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", errmsg(&err));
		return out;
	}
	snprintf(out, sizeof(out), "%s", str(&p));
	cgroup_plan_free(&p);
	return out;
}

#define DEFAULTS                                                                                   \
	"devices.allow=c *:* m;devices.allow=b *:* m;devices.allow=c 1:3 rwm;"                     \
	"devices.allow=c 1:5 rwm;devices.allow=c 1:7 rwm;devices.allow=c 1:8 rwm;"                 \
	"devices.allow=c 1:9 rwm;devices.allow=c 5:0 rwm;devices.allow=c 5:2 rwm;"                 \
	"devices.allow=c 136:* rwm;devices.allow=c 10:200 rwm"

static void test_devices(void)
{
	struct oci_device_cgroup deny_all = {.allow = false, .access = "rwm"};
	struct oci_device_cgroup allow_loop = {.allow = true,
	                                       .type = "b",
	                                       .has_major = true,
	                                       .major = 7,
	                                       .has_minor = true,
	                                       .minor = 0,
	                                       .access = "rw"};
	struct oci_device_cgroup deny_loop_w = allow_loop;
	struct oci_device_cgroup allow_all = {.allow = true, .access = "rwm"};
	struct oci_device_cgroup allow_c = {.allow = true, .type = "c", .access = "rwm"};
	struct oci_device_cgroup deny_null = {.allow = false,
	                                      .type = "c",
	                                      .has_major = true,
	                                      .major = 1,
	                                      .has_minor = true,
	                                      .minor = 3,
	                                      .access = "rwm"};

	deny_loop_w.allow = false;
	deny_loop_w.access = "w";
	ok_str(devices(NULL, 0), "devices.deny=a;" DEFAULTS,
	       "nothing configured: deny all but the defaults (as the eBPF filter)");
	ok_str(devices((struct oci_device_cgroup[]){deny_all, allow_loop, deny_loop_w}, 3),
	       "devices.deny=a;devices.allow=b 7:0 r;" DEFAULTS,
	       "a later deny takes its access out of an earlier allow");
	ok_str(devices((struct oci_device_cgroup[]){allow_all, deny_null}, 2), "devices.allow=a",
	       "allow all: the defaults re-allow /dev/null, leaving no exception");
	ok(strstr(devices((struct oci_device_cgroup[]){deny_all, allow_c, deny_null}, 3),
	          "error: linux.resources.devices[2]: cgroup v1 cannot deny part of") != NULL,
	   "a hole in a broader allow is refused, naming the rule");
}

int main(void)
{
	test_memory_cpu_pids();
	test_v2_only_and_missing();
	test_blkio_network();
	test_devices();
	done_testing();
}
