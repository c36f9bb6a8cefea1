/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd cgroup driver's conversions, with no bus: cgroupsPath to the
 * scope and its cgroup, limits to unit properties (and what stays a file),
 * device rules to DevicePolicy/DeviceAllow, and org.systemd.property.*
 * annotations in GVariant text.  tests/integration/test_cgroup_systemd.py
 * checks the same against a real systemd in the VM.
 */
#include <config.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "libskiff/cgroup.h"
#include "libskiff/cgroup_internal.h"
#include "libskiff/utils.h"
#include "tap.h"

#ifdef HAVE_SYSTEMD
#include "libskiff/sdbus.h"

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

/* The path for a cgroupsPath, or "error: ..." */
static const char *resolve(const char *cp)
{
	static char out[1024];
	struct skiff_error *err = NULL;
	char *path = NULL;

	if (sd_resolve_path(cp, "c1", "system.slice", &path, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", errmsg(&err));
		return out;
	}
	snprintf(out, sizeof(out), "%s", path);
	free(path);
	return out;
}

static void test_paths(void)
{
	char *unit = NULL, *slice = NULL;

	ok_str(resolve(NULL), "/system.slice/skiff-c1.scope", "empty cgroupsPath: runc's default");
	ok_str(resolve(""), "/system.slice/skiff-c1.scope", "\"\" is empty too");
	ok_str(resolve("machine.slice:libpod:abc"), "/machine.slice/libpod-abc.scope",
	       "podman's form");
	ok_str(resolve(":cri-containerd:x1"), "/system.slice/cri-containerd-x1.scope",
	       "empty slice: system.slice");
	ok_str(resolve("kubepods-besteffort-pod12.slice:cri-containerd:x1"),
	       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/"
	       "cri-containerd-x1.scope",
	       "nested slices expand");
	ok_str(resolve("-.slice:p:n"), "/p-n.scope", "the root slice");
	ok(strstr(resolve("/a/b"), "linux.cgroupsPath") &&
	       strstr(resolve("/a/b"), "slice:prefix:name"),
	   "a path is not the systemd form: %s", resolve("/a/b"));
	ok(strstr(resolve("a:b:c:d"), "slice:prefix:name"), "four parts refused");
	ok(strstr(resolve("a:b"), "slice:prefix:name"), "two parts refused");
	ok(strstr(resolve("system:p:n"), "not a slice name"), "a slice without .slice");
	ok(strstr(resolve("a/b.slice:p:n"), "not a slice name"), "a slice with '/'");
	ok(strstr(resolve("a--b.slice:p:n"), "empty part"), "a slice with an empty part");
	ok(strstr(resolve("-a.slice:p:n"), "empty part"), "a slice starting with a dash");
	ok(strstr(resolve("system.slice:p:../x"), "linux.cgroupsPath"), "a name with '/'");
	ok(strstr(resolve("system.slice:p:"), "name is required"), "an empty name");
	ok(strstr(resolve("system.slice:p:x.slice"), "scope"), "a slice as the name");

	ok(sd_unit_of_path("/machine.slice/libpod-abc.scope", &unit, &slice) == 0 &&
	       strcmp(unit, "libpod-abc.scope") == 0 && strcmp(slice, "machine.slice") == 0,
	   "unit and slice from the path");
	free(unit);
	free(slice);
	ok(sd_unit_of_path("/p-n.scope", &unit, &slice) == 0 && strcmp(slice, "-.slice") == 0,
	   "the root slice from the path");
	free(unit);
	free(slice);
	ok(sd_unit_of_path("/a/b", &unit, NULL) < 0, "not a scope");
}

/* "Name=value;..." of the properties. */
static const char *props_str(const struct sd_props *ps)
{
	static char buf[4096];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ps->n && off < sizeof(buf); i++) {
		char *v = sd_value_text(&ps->p[i].v);
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s=%s", i ? ";" : "",
		                        ps->p[i].name, v);
		free(v);
	}
	return buf;
}

static const char *from_plan(const struct oci_resources *r, int version, char *file_out,
                             size_t size)
{
	static char out[4096];
	struct skiff_error *err = NULL;
	struct cgroup_plan plan;
	struct sd_props ps = {0};

	if (cgroup_plan_resources(r, &plan, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", errmsg(&err));
		return out;
	}
	sd_props_from_plan(&plan, version, &ps);
	snprintf(out, sizeof(out), "%s", props_str(&ps));
	if (file_out)
		snprintf(file_out, size, "%s",
		         cgroup_plan_get(&plan, "cpu.max") ? cgroup_plan_get(&plan, "cpu.max")
		                                           : "");
	sd_props_free(&ps);
	cgroup_plan_free(&plan);
	return out;
}

static void test_resources(void)
{
	struct oci_memory mem = {.has_limit = true,
	                         .limit = 1 << 26,
	                         .has_reservation = true,
	                         .reservation = 1 << 25,
	                         .has_swap = true,
	                         .swap = 1 << 27};
	struct oci_pids pids = {.has_limit = true, .limit = 50};
	struct oci_cpu cpu = {.has_shares = true,
	                      .shares = 1024,
	                      .has_quota = true,
	                      .quota = 50000,
	                      .has_period = true,
	                      .period = 100000,
	                      .cpus = "0-1,3",
	                      .mems = "0"};
	struct oci_resources r = {.memory = &mem, .pids = &pids, .cpu = &cpu};
	char cpumax[64];
	const char *got = from_plan(&r, 252, cpumax, sizeof(cpumax));

	ok(strstr(got, "MemoryMax=uint64 67108864"), "memory.limit -> MemoryMax: %s", got);
	ok(strstr(got, "MemoryLow=uint64 33554432"), "memory.reservation -> MemoryLow");
	ok(strstr(got, "MemorySwapMax=uint64 67108864"),
	   "memory.swap -> MemorySwapMax (swap only)");
	ok(strstr(got, "TasksMax=uint64 50"), "pids.limit -> TasksMax");
	ok(strstr(got, "CPUWeight=uint64 39"), "cpu.shares -> CPUWeight (as cpu.weight)");
	ok(strstr(got, "CPUQuotaPeriodUSec=uint64 100000") &&
	       strstr(got, "CPUQuotaPerSecUSec=uint64 500000"),
	   "cpu quota/period -> CPUQuotaPerSecUSec, CPUQuotaPeriodUSec");
	ok(strstr(got, "AllowedCPUs=[byte 11]"), "cpus 0-1,3 -> AllowedCPUs bitmask 0b1011");
	ok(strstr(got, "AllowedMemoryNodes=[byte 1]"), "mems -> AllowedMemoryNodes");
	ok_str(cpumax, "50000 100000", "a whole-percent quota is written as asked");

	got = from_plan(&r, 243, NULL, 0);
	ok(!strstr(got, "AllowedCPUs") && strstr(got, "CPUQuotaPeriodUSec="),
	   "systemd 243: no AllowedCPUs; period still (242 on)");
	got = from_plan(&r, 241, NULL, 0);
	ok(!strstr(got, "CPUQuotaPeriodUSec="), "systemd 241: no CPUQuotaPeriodUSec");

	/* 12345/100000 = 12.345% -> 13%: the file gets the rounded quota too (as runc). */
	cpu.quota = 12345;
	got = from_plan(&r, 252, cpumax, sizeof(cpumax));
	ok(strstr(got, "CPUQuotaPerSecUSec=uint64 130000"), "quota rounded up to a percent: %s",
	   got);
	ok_str(cpumax, "13000 100000", "and cpu.max matches the unit");

	/* Unlimited values are systemd's infinity. */
	mem.limit = -1;
	mem.swap = -1;
	pids.limit = -1;
	cpu.has_quota = false;
	cpu.quota = 0;
	got = from_plan(&r, 252, NULL, 0);
	ok(strstr(got, "MemoryMax=uint64 18446744073709551615") &&
	       strstr(got, "TasksMax=uint64 18446744073709551615"),
	   "-1 -> infinity: %s", got);
	ok(strstr(got, "CPUQuotaPerSecUSec=uint64 18446744073709551615"),
	   "a period alone: quota infinity");
	pids.limit = 0;
	got = from_plan(&r, 252, NULL, 0);
	ok(strstr(got, "TasksMax=uint64 1"), "pids.limit 0 -> TasksMax 1 (as runc)");
}

/* The v1 plan's properties, and the cpu.cfs_quota_us the file gets. */
static const char *from_plan_v1(const struct oci_resources *r, int version, char *quota_out,
                                size_t size)
{
	static char out[4096];
	struct skiff_error *err = NULL;
	struct cgroup_plan plan;
	struct sd_props ps = {0};
	const char *q;

	if (fs1_plan_resources(r, true, &plan, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", errmsg(&err));
		return out;
	}
	sd_props_from_plan_v1(&plan, version, &ps);
	snprintf(out, sizeof(out), "%s", props_str(&ps));
	q = cgroup_plan_get(&plan, "cpu.cfs_quota_us");
	if (quota_out)
		snprintf(quota_out, size, "%s", q ? q : "");
	sd_props_free(&ps);
	cgroup_plan_free(&plan);
	return out;
}

static void test_resources_v1(void)
{
	struct oci_memory mem = {
	    .has_limit = true, .limit = 1 << 26, .has_reservation = true, .reservation = 1 << 25};
	struct oci_pids pids = {.has_limit = true, .limit = 0};
	struct oci_cpu cpu = {.has_shares = true,
	                      .shares = 512,
	                      .has_quota = true,
	                      .quota = 12345,
	                      .has_period = true,
	                      .period = 100000,
	                      .cpus = "0"};
	struct oci_block_io bio = {.has_weight = true, .weight = 300};
	struct oci_resources r = {.memory = &mem, .pids = &pids, .cpu = &cpu, .block_io = &bio};
	char quota[64];
	const char *got = from_plan_v1(&r, 252, quota, sizeof(quota));

	ok_str(got,
	       "MemoryLimit=uint64 67108864;CPUShares=uint64 512;BlockIOWeight=uint64 300;"
	       "TasksMax=uint64 1;CPUQuotaPeriodUSec=uint64 100000;"
	       "CPUQuotaPerSecUSec=uint64 130000;AllowedCPUs=[byte 1]",
	       "v1 names, as runc sets them on v1 hosts; pids 0 -> TasksMax 1");
	ok_str(quota, "13000", "cpu.cfs_quota_us gets the rounded quota, as the unit");
	got = from_plan_v1(&r, 241, NULL, 0);
	ok(!strstr(got, "CPUQuotaPeriodUSec") && !strstr(got, "AllowedCPUs"),
	   "systemd 241: neither CPUQuotaPeriodUSec nor AllowedCPUs: %s", got);
	mem.limit = -1;
	pids.limit = -1;
	cpu.quota = -1;
	got = from_plan_v1(&r, 252, quota, sizeof(quota));
	ok(strstr(got, "MemoryLimit=uint64 18446744073709551615") &&
	       strstr(got, "TasksMax=uint64 18446744073709551615") &&
	       strstr(got, "CPUQuotaPerSecUSec=uint64 18446744073709551615"),
	   "-1 -> infinity: %s", got);
	ok_str(quota, "-1", "an unlimited quota is written as asked");
	cpu.has_quota = false;
	got = from_plan_v1(&r, 252, NULL, 0);
	ok(strstr(got, "CPUQuotaPeriodUSec=uint64 100000;CPUQuotaPerSecUSec=uint64 "
	               "18446744073709551615"),
	   "a period alone: quota infinity");
	ok(!strstr(got, "MemoryLow") && !strstr(got, "soft_limit"),
	   "the reservation is a file only on v1 (no property)");
}

static void test_unified(void)
{
	char *keys[] = {"memory.high",      "cpu.idle", "cpu.weight", "io.weight",
	                "memory.oom.group", "pids.max", NULL};
	char *values[] = {"1000000", "1", "50", "default 300", "1", "max", NULL};
	struct oci_resources r = {.unified = {.len = 6, .keys = keys, .values = values}};
	const char *got = from_plan(&r, 252, NULL, 0);

	ok(strstr(got, "MemoryHigh=uint64 1000000"), "unified memory.high -> MemoryHigh: %s", got);
	ok(strstr(got, "CPUWeight=uint64 0") && !strstr(got, "CPUWeight=uint64 50"),
	   "cpu.idle 1 -> CPUWeight 0, cpu.weight then left to the file");
	ok(strstr(got, "IOWeight=uint64 300"), "io.weight default N -> IOWeight");
	ok(strstr(got, "TasksMax=uint64 18446744073709551615"), "pids.max max -> infinity");
	ok(!strstr(got, "oom"), "memory.oom.group: files only");
	got = from_plan(&r, 251, NULL, 0);
	ok(strstr(got, "CPUWeight=uint64 50") && !strstr(got, "CPUWeight=uint64 0"),
	   "systemd 251: no CPUWeight=0 for idle");
}

static const char *devices_for(const char *const *spec, bool v1)
{
	static char out[4096];
	struct oci_device_cgroup d[16];
	struct cgroup_dev_rule *rules = NULL;
	struct skiff_error *err = NULL;
	struct sd_props ps = {0};
	size_t n = 0, nr = 0;

	/* "+c 1 3 rwm": allow/deny, type, major, minor (* for any), access */
	for (; spec[n]; n++) {
		char type[4], maj[16], min[16], acc[8];
		sscanf(spec[n] + 1, "%3s %15s %15s %7s", type, maj, min, acc);
		memset(&d[n], 0, sizeof(d[n]));
		d[n].allow = spec[n][0] == '+';
		d[n].type = strdup(type);
		d[n].has_major = strcmp(maj, "*") != 0;
		d[n].major = d[n].has_major ? atoll(maj) : -1;
		d[n].has_minor = strcmp(min, "*") != 0;
		d[n].minor = d[n].has_minor ? atoll(min) : -1;
		d[n].access = strdup(acc);
	}
	if (cgroup_devices_rules(d, n, false, &rules, &nr, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", errmsg(&err));
	} else {
		sd_props_devices(rules, nr, v1, &ps);
		snprintf(out, sizeof(out), "%s", props_str(&ps));
	}
	for (size_t i = 0; i < n; i++) {
		free(d[i].type);
		free(d[i].access);
	}
	free(rules);
	sd_props_free(&ps);
	return out;
}

static const char *devices(const char *const *spec)
{
	return devices_for(spec, false);
}

static void test_devices(void)
{
	const char *deny_then_allow[] = {"-a * * rwm", "+c 1 3 rwm", "+c 136 * rw", "+b * * m",
	                                 NULL};
	const char *allow_all[] = {"+a * * rwm", NULL};
	const char *allow_except[] = {"+a * * rwm", "-c 1 3 rwm", NULL};
	const char *narrowed[] = {"+c 1 3 rwm", "-c 1 3 w", NULL};
	const char *cut[] = {"+c 1 * rwm", "-c 1 3 rwm", NULL};
	const char *any_major[] = {"+c * 3 rwm", NULL};
	const char *type_all[] = {"+a 7 * r", NULL};

	ok_str(devices(deny_then_allow),
	       "DeviceAllow=[];DevicePolicy='strict';DeviceAllow=[('/dev/char/1:3', 'rwm'), "
	       "('char-136', 'rw'), ('block-*', 'm')]",
	       "deny all, then allows: strict with the list");
	ok_str(devices(allow_all), "DeviceAllow=[];DevicePolicy='auto'",
	       "allow all: no systemd filter");
	ok_str(devices(allow_except), "DeviceAllow=[];DevicePolicy='auto'",
	       "allow all but some: left to skiff's filter");
	ok_str(devices(narrowed),
	       "DeviceAllow=[];DevicePolicy='strict';DeviceAllow=[('/dev/char/1:3', 'rm')]",
	       "a later deny takes access away");
	ok_str(devices(cut), "DeviceAllow=[];DevicePolicy='auto'",
	       "a deny inside an allowed range: left to skiff's filter");
	ok_str(devices(any_major), "DeviceAllow=[];DevicePolicy='auto'",
	       "any major, one minor: systemd has no such entry");
	ok_str(devices(type_all),
	       "DeviceAllow=[];DevicePolicy='strict';DeviceAllow=[('char-7', 'r'), ('block-7', "
	       "'r')]",
	       "type a: a char and a block entry");

	/* cgroup v1: one devices list, which systemd rewrites on a reload. */
	ok_str(devices_for(deny_then_allow, true),
	       "DeviceAllow=[];DevicePolicy='strict';DeviceAllow=[('/dev/char/1:3', 'rwm'), "
	       "('char-136', 'rw'), ('block-*', 'm')]",
	       "v1: a list is the same list");
	ok_str(devices_for(allow_all, true), "DeviceAllow=[];DevicePolicy='auto'",
	       "v1: allow all is auto");
	ok_str(devices_for(allow_except, true), "DeviceAllow=[];DevicePolicy='strict'",
	       "v1: allow all but some is deny-all until skiff writes the rules (as runc)");
	ok_str(devices_for(any_major, true), "DeviceAllow=[];DevicePolicy='strict'",
	       "v1: what systemd cannot express is deny-all");
}

static const char *annotation(const char *key, const char *value)
{
	static char out[4096];
	char *keys[] = {(char *)key, NULL};
	char *values[] = {(char *)value, NULL};
	struct oci_map a = {.len = 1, .keys = keys, .values = values};
	struct skiff_error *err = NULL;
	struct sd_props ps = {0};

	if (sd_props_annotations(&a, &ps, &err) < 0)
		snprintf(out, sizeof(out), "error: %s", errmsg(&err));
	else
		snprintf(out, sizeof(out), "%s", props_str(&ps));
	sd_props_free(&ps);
	return out;
}

static void test_annotations(void)
{
	const char *P = "org.systemd.property.";
	char key[128];

#define K(name) (snprintf(key, sizeof(key), "%s%s", P, name), key)
	ok_str(annotation(K("TimeoutStopUSec"), "uint64 123456789"),
	       "TimeoutStopUSec=uint64 123456789", "typed uint64");
	ok_str(annotation(K("TimeoutStopSec"), "456"), "TimeoutStopUSec=uint64 456000000",
	       "NAMESec: seconds to USec");
	ok_str(annotation(K("TimeoutStopSec"), "byte 234"), "TimeoutStopUSec=uint64 234000000",
	       "a byte of seconds");
	ok_str(annotation(K("TimeoutStopSec"), "234.789"), "TimeoutStopUSec=uint64 234789000",
	       "a double of seconds");
	ok(strstr(annotation(K("TimeoutStopSec"), "false"), "not a number of seconds"),
	   "a boolean of seconds refused");
	ok(strstr(annotation(K("TimeoutStopSec"), "'covfefe'"), "error"),
	   "a string of seconds refused");
	ok_str(annotation(K("FOOSec"), "123"), "FOOSec=int32 123", "no lowercase before Sec: kept");
	ok_str(annotation(K("CollectMode"), "'inactive-or-failed'"),
	       "CollectMode='inactive-or-failed'", "a string");
	ok_str(annotation("some.other.annotation", "0"), "", "other annotations ignored");
	ok(strstr(annotation(K("Xo"), "1"), "letters only"), "too short a name");
	ok(strstr(annotation(K("Number1"), "1"), "letters only"), "a digit in the name");
	ok(strstr(annotation(K("ValidName"), "invalid-value"), "not a GVariant"),
	   "an unparsable value: %s", annotation(K("ValidName"), "invalid-value"));
	ok_str(annotation(K("Environment"), "['A=1', \"B='2'\"]"), "Environment=['A=1', 'B='2'']",
	       "an array of strings");
	ok_str(annotation(K("Wants"), "@as []"), "Wants=[]", "a typed empty array");
	ok(strstr(annotation(K("Wants"), "[]"), "needs its type"), "an untyped empty array");
	ok(strstr(annotation(K("Wants"), "['a', 1]"), "unexpected number"), "a mixed array");
	ok_str(annotation(K("IOReadBandwidthMax"), "[('/dev/sda', uint64 1000)]"),
	       "IOReadBandwidthMax=[('/dev/sda', uint64 1000)]", "an array of tuples");
	ok_str(annotation(K("CPUWeight"), "uint64 0x10"), "CPUWeight=uint64 16", "hex");
	ok(strstr(annotation(K("CPUWeight"), "byte 256"), "out of range"), "byte range");
	ok(strstr(annotation(K("CPUWeight"), "uint64 -1"), "negative"), "unsigned negative");
	ok(strstr(annotation(K("Delegate"), "true false"), "trailing"), "trailing text");
	ok(strstr(annotation(K("Description"), "'open"), "unterminated"), "unterminated string");
#undef K
}

static void test_cpuset_bits(void)
{
	struct sd_value v = {0};
	char *t;

	ok(sd_cpuset_bits("0-3,8,10-11", &v) == 0, "a cpuset list converts");
	t = sd_value_text(&v);
	ok_str(t, "[byte 15, byte 13]", "bits 0-3 in byte 0, 8,10,11 in byte 1");
	free(t);
	sd_value_free(&v);
	ok(sd_cpuset_bits("3-1", &v) < 0, "a backwards range refused");
	sd_value_free(&v);
	ok(sd_cpuset_bits("a", &v) < 0, "garbage refused");
	sd_value_free(&v);
}

int main(void)
{
	test_paths();
	test_resources();
	test_unified();
	test_resources_v1();
	test_devices();
	test_annotations();
	test_cpuset_bits();
	done_testing();
}
#else
int main(void)
{
	skip("configured with --disable-systemd", "the systemd cgroup driver");
	done_testing();
}
#endif
