/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v2 driver: value conversions, path resolution and the device
 * filter (checked by a small interpreter here, and on the kernel when it
 * can be), then behaviour on this host's cgroup2 mount inside a test cgroup
 * this program creates and removes.  With an argument ("vm") it also runs
 * the checks that need real controllers (memory, pids, cpu, hugetlb), which
 * tests/integration/test_cgroup_vm.py does inside the test VM.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libskiff/cgroup.h"
#include "libskiff/cgroup_internal.h"
#include "libskiff/utils.h"
#include "tap.h"

static char *errmsg(struct skiff_error **err)
{
	static char buf[1024];

	if (*err == NULL)
		return NULL;
	char *t = error_text(*err);
	snprintf(buf, sizeof(buf), "%s", t);
	free(t);
	error_free(err);
	return buf;
}

/* Plans r and returns the error text, or NULL on success (plan left in *p). */
static const char *plan(const struct oci_resources *r, struct cgroup_plan *p)
{
	struct skiff_error *err = NULL;

	memset(p, 0, sizeof(*p));
	if (cgroup_plan_resources(r, p, &err) < 0)
		return errmsg(&err);
	return NULL;
}

/* The plan's files and values as "file=value;..." for compact comparisons. */
static const char *plan_str(const struct cgroup_plan *p)
{
	static char buf[2048];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->len; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s=%s", i ? ";" : "",
		                        p->w[i].file, p->w[i].value);
	return buf;
}

static void test_conversions(void)
{
	ok(cgroup_shares_to_weight(2) == 1, "shares 2 -> weight 1");
	ok(cgroup_shares_to_weight(1024) == 39, "shares 1024 -> weight 39 (got %llu)",
	   (unsigned long long)cgroup_shares_to_weight(1024));
	ok(cgroup_shares_to_weight(262144) == 10000, "shares 262144 -> weight 10000");
	ok(cgroup_shares_to_weight(1) == 1, "shares below 2 clamp to weight 1");
	ok(cgroup_blkio_weight_to_io_weight(10) == 1, "blkio 10 -> io 1");
	ok(cgroup_blkio_weight_to_io_weight(500) == 4950, "blkio 500 -> io 4950 (got %llu)",
	   (unsigned long long)cgroup_blkio_weight_to_io_weight(500));
	ok(cgroup_blkio_weight_to_io_weight(1000) == 10000, "blkio 1000 -> io 10000");
}

static void test_memory(void)
{
	struct oci_memory m = {0};
	struct oci_resources r = {.memory = &m};
	struct cgroup_plan p;
	const char *e;

	m.has_limit = true, m.limit = 1 << 20;
	m.has_reservation = true, m.reservation = 1 << 19;
	m.has_swap = true, m.swap = 3 << 20;
	ok(plan(&r, &p) == NULL, "memory plan");
	ok_str(plan_str(&p), "memory.max=1048576;memory.low=524288;memory.swap.max=2097152",
	       "memory: limit, reservation, swap = swap - limit");
	cgroup_plan_free(&p);

	m.limit = -1, m.swap = -1, m.has_reservation = false;
	plan(&r, &p);
	ok_str(plan_str(&p), "memory.max=max;memory.swap.max=max", "memory: -1 is max");
	ok(p.w[1].flags & CGW_IF_EXISTS, "swap max is skipped without swap accounting");
	cgroup_plan_free(&p);

	m.limit = 0, m.swap = 0;
	plan(&r, &p);
	ok_str(plan_str(&p), "", "memory: 0 means unset");
	cgroup_plan_free(&p);

	m.limit = 2 << 20, m.swap = 1 << 20;
	e = plan(&r, &p);
	ok_str(e,
	       "linux.resources.memory.swap: 1048576 is less than linux.resources.memory.limit "
	       "2097152 (swap is the memory+swap limit)",
	       "swap < limit is an error naming the field");

	m.has_limit = false, m.swap = 1 << 20;
	e = plan(&r, &p);
	ok(e && strstr(e, "linux.resources.memory.swap") && strstr(e, "needs a memory limit"),
	   "swap without a limit is an error: %s", e);

	m.has_limit = true, m.limit = -5, m.has_swap = false;
	e = plan(&r, &p);
	ok_str(e, "linux.resources.memory.limit: invalid value -5 (expected -1 or >= 0)",
	       "negative limit other than -1");

	memset(&m, 0, sizeof(m));
	m.has_kernel = true, m.kernel = 1 << 20;
	m.has_kernel_tcp = true, m.kernel_tcp = 1 << 20;
	m.has_swappiness = true, m.swappiness = 10;
	ok(plan(&r, &p) == NULL && p.len == 0, "kernel, kernelTCP, swappiness write nothing");
	ok(strv_len(p.warnings) == 3 &&
	       strstr(p.warnings[0], "linux.resources.memory.kernel is not"),
	   "... and are reported as ignored: %s", p.warnings ? p.warnings[0] : "(none)");
	cgroup_plan_free(&p);
}

static void test_cpu(void)
{
	struct oci_cpu c = {0};
	struct oci_resources r = {.cpu = &c};
	struct cgroup_plan p;
	const char *e;

	c.has_shares = true, c.shares = 1024;
	c.has_quota = true, c.quota = 50000;
	c.has_period = true, c.period = 200000;
	c.cpus = "0-1", c.mems = "0";
	ok(plan(&r, &p) == NULL, "cpu plan");
	ok_str(plan_str(&p), "cpu.weight=39;cpu.max=50000 200000;cpuset.cpus=0-1;cpuset.mems=0",
	       "cpu: weight, max, cpuset");
	cgroup_plan_free(&p);

	memset(&c, 0, sizeof(c));
	c.has_quota = true, c.quota = -1;
	plan(&r, &p);
	ok_str(plan_str(&p), "cpu.max=max 100000", "quota -1 -> max with the default period");
	cgroup_plan_free(&p);

	c.has_quota = false, c.has_period = true, c.period = 50000;
	plan(&r, &p);
	ok_str(plan_str(&p), "cpu.max=max 50000", "period alone -> max PERIOD");
	cgroup_plan_free(&p);

	memset(&c, 0, sizeof(c));
	c.has_quota = true, c.quota = 20000, c.has_burst = true, c.burst = 10000;
	plan(&r, &p);
	ok_str(plan_str(&p), "cpu.max.burst=10000;cpu.max=20000 100000;cpu.max.burst=10000",
	       "burst around cpu.max (the kernel wants burst <= quota)");
	ok(p.w[0].flags & CGW_TRY, "... the first burst write may fail");
	cgroup_plan_free(&p);

	memset(&c, 0, sizeof(c));
	c.has_shares = true, c.shares = 0, c.has_idle = true, c.idle = 1;
	plan(&r, &p);
	ok_str(plan_str(&p), "cpu.idle=1", "shares 0 is unset; idle -> cpu.idle");
	cgroup_plan_free(&p);

	c.has_realtime_runtime = true, c.realtime_runtime = 950000;
	e = plan(&r, &p);
	ok(e && strstr(e, "realtimeRuntime") && strstr(e, "not supported on cgroup v2"),
	   "realtime limits are refused: %s", e);
}

static void test_pids_blkio_misc(void)
{
	struct oci_pids pids = {.has_limit = true, .limit = 42};
	struct oci_weight_device wd[] = {
	    {.major = 8, .minor = 0, .has_weight = true, .weight = 10}};
	struct oci_throttle_device rbps[] = {{8, 0, 1048576}}, wiops[] = {{8, 16, 0}};
	struct oci_block_io b = {.has_weight = true,
	                         .weight = 1000,
	                         .weight_device = wd,
	                         .weight_device_len = 1,
	                         .throttle_read_bps_device = rbps,
	                         .throttle_read_bps_device_len = 1,
	                         .throttle_write_iops_device = wiops,
	                         .throttle_write_iops_device_len = 1};
	struct oci_hugepage_limit huge[] = {{"2MB", 4194304}};
	struct oci_rdma rdma[] = {{"mlx5_0", true, false, 3, 0}, {"mlx4_0", true, true, 2, 2000}};
	char *ukeys[] = {"memory.high", "memory.max"}, *uvals[] = {"1000000", "2000000"};
	struct oci_memory m = {.has_limit = true, .limit = 5};
	struct oci_resources r = {.pids = &pids};
	struct cgroup_plan p;
	const char *e;

	plan(&r, &p);
	ok_str(plan_str(&p), "pids.max=42", "pids.limit");
	cgroup_plan_free(&p);
	pids.limit = 0;
	plan(&r, &p);
	ok_str(plan_str(&p), "pids.max=1", "pids.limit 0 is a limit (spec 1.3.0): only the init");
	cgroup_plan_free(&p);
	pids.limit = -1;
	plan(&r, &p);
	ok_str(plan_str(&p), "pids.max=max", "pids.limit -1 -> max");
	cgroup_plan_free(&p);

	r = (struct oci_resources){.block_io = &b};
	plan(&r, &p);
	ok_str(plan_str(&p),
	       "io.bfq.weight=1000;io.weight=default 10000;io.bfq.weight=8:0 10;io.weight=8:0 1;"
	       "io.max=8:0 rbps=1048576;io.max=8:16 wiops=max",
	       "blockIO: weight, weightDevice (BFQ's and iocost's), throttles");
	cgroup_plan_free(&p);
	b.weight = 5;
	e = plan(&r, &p);
	ok_str(e, "linux.resources.blockIO.weight: 5 is out of range (10-1000)",
	       "blkio weight range");
	b.weight = 100, wd[0].weight = 2000;
	e = plan(&r, &p);
	ok_str(e, "linux.resources.blockIO.weightDevice[0].weight: 2000 is out of range (10-1000)",
	       "weightDevice range");

	r = (struct oci_resources){.hugepage_limits = huge, .hugepage_limits_len = 1};
	plan(&r, &p);
	ok_str(plan_str(&p), "hugetlb.2MB.max=4194304;hugetlb.2MB.rsvd.max=4194304",
	       "hugepageLimits");
	cgroup_plan_free(&p);
	huge[0].page_size = "../x";
	e = plan(&r, &p);
	ok(e && strstr(e, "hugepageLimits[0].pageSize"), "bad page size refused: %s", e);

	r = (struct oci_resources){.rdma = rdma, .rdma_len = 2};
	plan(&r, &p);
	ok_str(plan_str(&p),
	       "rdma.max=mlx5_0 hca_handle=3;rdma.max=mlx4_0 hca_handle=2 hca_object=2000", "rdma");
	cgroup_plan_free(&p);

	r = (struct oci_resources){.memory = &m, .unified = {2, ukeys, uvals}};
	plan(&r, &p);
	ok_str(plan_str(&p), "memory.max=5;memory.high=1000000;memory.max=2000000",
	       "unified is written last, verbatim");
	ok_str(cgroup_plan_get(&p, "memory.max"), "2000000", "... so it overrides");
	cgroup_plan_free(&p);
	ukeys[0] = "../cgroup.procs";
	e = plan(&r, &p);
	ok_str(e, "linux.resources.unified: invalid key \"../cgroup.procs\"", "unified key with /");
	ukeys[0] = "..";
	ok(plan(&r, &p) != NULL, "unified key ..");
	ukeys[0] = "";
	ok(plan(&r, &p) != NULL, "empty unified key");
	ok(plan(NULL, &p) == NULL && p.len == 0, "no resources, no writes");
}

static void test_file_controller(void)
{
	char b[32];

	ok(cgroup_file_controller("memory.max", b, sizeof(b)) && strcmp(b, "memory") == 0,
	   "memory.max -> memory");
	ok(cgroup_file_controller("hugetlb.2MB.max", b, sizeof(b)) && strcmp(b, "hugetlb") == 0,
	   "hugetlb.2MB.max -> hugetlb");
	ok(!cgroup_file_controller("cgroup.max.depth", b, sizeof(b)), "cgroup.* needs none");
	ok(!cgroup_file_controller("memory.pressure", b, sizeof(b)), "PSI files need none");
	ok(!cgroup_file_controller("cpu.stat", b, sizeof(b)), "cpu.stat needs none");
	ok(cgroup_file_controller("cpu.weight", b, sizeof(b)) && strcmp(b, "cpu") == 0,
	   "cpu.weight -> cpu");
	ok(!cgroup_file_controller("nosuch.file", b, sizeof(b)), "unknown prefixes need none");
}

static void check_resolve(const char *in, const char *own, const char *want, const char *name)
{
	struct skiff_error *err = NULL;
	char *got = cgroup_resolve_path_from(in, "c1", own, &err);

	ok_str(got ? got : errmsg(&err), want, "resolve: %s", name);
	free(got);
}

static void test_resolve(void)
{
	check_resolve("/machine/c1", "/user.slice/s.scope", "/machine/c1", "absolute is kept");
	check_resolve("//a/./b//", "/", "/a/b", "absolute is cleaned");
	check_resolve("pod/c1", "/system.slice/containerd.service", "/system.slice/pod/c1",
	              "relative goes under the parent of our cgroup");
	check_resolve(NULL, "/user.slice/session-1.scope", "/user.slice/skiff-c1",
	              "empty -> <parent>/skiff-<id>");
	check_resolve("", "/", "/skiff-c1", "empty in the root cgroup");
	check_resolve("/a/../../etc", "/",
	              "linux.cgroupsPath: \"..\" is not allowed in \"/a/../../etc\"",
	              ".. is refused");
	check_resolve("/", "/", "linux.cgroupsPath: \"/\" is the root cgroup",
	              "the root is refused");
}

/* ---- the device filter, run by a small interpreter of the opcodes we emit ---- */

static int run_prog(const struct cgroup_bpf_prog *p, int type, unsigned major, unsigned minor,
                    unsigned access)
{
	struct bpf_cgroup_dev_ctx ctx = {(uint32_t)(access << 16 | (unsigned)type), major, minor};
	uint64_t reg[11] = {0};
	size_t pc = 0;

	reg[1] = (uintptr_t)&ctx;
	while (pc < p->len) {
		struct bpf_insn in = p->insns[pc++];
		uint64_t src =
		    BPF_SRC(in.code) == BPF_X ? reg[in.src_reg] : (uint64_t)(int64_t)in.imm;

		switch (in.code) {
		case BPF_LDX | BPF_W | BPF_MEM:
			reg[in.dst_reg] =
			    *(uint32_t *)((char *)(uintptr_t)reg[in.src_reg] + in.off);
			break;
		case BPF_ALU | BPF_MOV | BPF_X:
		case BPF_ALU | BPF_MOV | BPF_K:
			reg[in.dst_reg] = (uint32_t)src;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			reg[in.dst_reg] = (uint32_t)(reg[in.dst_reg] & src);
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			reg[in.dst_reg] = (uint32_t)reg[in.dst_reg] >> src;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
		case BPF_JMP | BPF_JNE | BPF_X:
			if (reg[in.dst_reg] != src)
				pc += in.off;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			if (reg[in.dst_reg] == src)
				pc += in.off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)reg[0];
		default:
			return -1;
		}
	}
	return -2; /* fell off the end */
}

#define C  BPF_DEVCG_DEV_CHAR
#define B  BPF_DEVCG_DEV_BLOCK
#define R  BPF_DEVCG_ACC_READ
#define W  BPF_DEVCG_ACC_WRITE
#define MK BPF_DEVCG_ACC_MKNOD

static bool compile(struct oci_device_cgroup *rules, size_t n, bool defaults,
                    struct cgroup_bpf_prog *p)
{
	struct skiff_error *err = NULL;
	bool good = cgroup_devices_compile(rules, n, defaults, p, &err) == 0;

	if (!good)
		printf("# %s\n", errmsg(&err));
	return good;
}

static void test_device_program(void)
{
	struct oci_device_cgroup deny_all[] = {{.allow = false, .access = "rwm"}};
	struct oci_device_cgroup rules[] = {
	    {.allow = false, .access = "rwm"},
	    {.allow = true,
	     .type = "c",
	     .has_major = true,
	     .major = 1,
	     .has_minor = true,
	     .minor = 11,
	     .access = "r"},
	    {.allow = true,
	     .type = "b",
	     .has_major = true,
	     .major = 8,
	     .has_minor = true,
	     .minor = -1,
	     .access = "rw"},
	    {.allow = false,
	     .type = "b",
	     .has_major = true,
	     .major = 8,
	     .has_minor = true,
	     .minor = 16,
	     .access = "w"},
	};
	struct oci_device_cgroup allow_all[] = {{.allow = true, .access = "rwm"}};
	struct oci_device_cgroup bad_type[] = {{.allow = true, .type = "x"}};
	struct oci_device_cgroup bad_access[] = {{.allow = true, .type = "c", .access = "rx"}};
	struct cgroup_bpf_prog p = {0};
	struct skiff_error *err = NULL;

	ok(compile(NULL, 0, false, &p), "empty rule list compiles");
	ok(run_prog(&p, C, 1, 3, R) == 0, "no rules: deny");
	cgroup_bpf_prog_free(&p);

	ok(compile(deny_all, 1, true, &p), "deny all + defaults compiles");
	ok(run_prog(&p, C, 1, 3, R | W) == 1, "defaults beat a config deny-all: /dev/null rw");
	ok(run_prog(&p, C, 136, 7, R | W) == 1, "/dev/pts/7 (136:*)");
	ok(run_prog(&p, C, 10, 200, R | W) == 1, "/dev/net/tun");
	ok(run_prog(&p, C, 1, 1, R) == 0, "/dev/mem denied");
	ok(run_prog(&p, B, 8, 0, MK) == 1, "mknod of any block device allowed");
	ok(run_prog(&p, B, 8, 0, R) == 0, "reading a block device denied");
	cgroup_bpf_prog_free(&p);

	ok(compile(rules, ARRAY_SIZE(rules), false, &p), "mixed rules compile");
	ok(run_prog(&p, C, 1, 11, R) == 1, "allow c 1:11 r: read allowed");
	ok(run_prog(&p, C, 1, 11, R | W) == 0, "... read+write not covered -> deny");
	ok(run_prog(&p, B, 8, 0, R | W) == 1, "allow b 8:* rw");
	ok(run_prog(&p, B, 8, 16, R) == 1, "a later deny b 8:16 w leaves reads");
	ok(run_prog(&p, B, 8, 16, R | W) == 0, "... and stops read+write (later rule wins)");
	ok(run_prog(&p, C, 8, 0, R) == 0, "type is checked");
	cgroup_bpf_prog_free(&p);

	ok(compile(allow_all, 1, false, &p), "allow all compiles");
	ok(run_prog(&p, B, 259, 3, R | W | MK) == 1, "allow all allows anything");
	ok(p.len == 8, "allow all as the last rule ends the program (no dead code), len %zu",
	   p.len);
	cgroup_bpf_prog_free(&p);

	ok(cgroup_devices_compile(bad_type, 1, true, &p, &err) < 0, "bad type refused");
	ok_str(errmsg(&err),
	       "linux.resources.devices[0].type: invalid type \"x\" (expected a, c or b)",
	       "... with the field named");
	ok(cgroup_devices_compile(bad_access, 1, true, &p, &err) < 0, "bad access refused");
	ok_str(
	    errmsg(&err),
	    "linux.resources.devices[0].access: invalid access \"rx\" (expected a subset of rwm)",
	    "... with the field named");
}

/* ---- behaviour on this host, in a cgroup we create ---- */

static const char *mnt;
static char base[64]; /* our test cgroup, relative to mnt */

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", mnt, rel);
	return stat(p, &st) == 0;
}

static char *read_cg(const char *rel, const char *file)
{
	static char buf[4096];
	char p[512];
	char *data = NULL;
	struct skiff_error *err = NULL;

	snprintf(p, sizeof(p), "%s%s/%s", mnt, rel, file);
	if (read_file(p, &data, NULL, &err) < 0) {
		error_free(&err);
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", data);
	buf[strcspn(buf, "\n")] = '\0';
	free(data);
	return buf;
}

static bool has_controller(const char *name)
{
	char *c = read_cg("", "cgroup.controllers");
	char padded[512];
	char want[64];

	snprintf(padded, sizeof(padded), " %s ", c ? c : "");
	snprintf(want, sizeof(want), " %s ", name);
	return strstr(padded, want) != NULL;
}

/* A child that waits on a pipe, then reports a byte per check through another. */
struct child {
	pid_t pid;
	int go;      /* write end: release the child */
	int report;  /* read end */
	int hold_mb; /* a non-probe child touches this much memory, reports, then waits */
};

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static const char *tmpdir;

static void start_child(struct child *c, bool probe)
{
	int go[2], rep[2];

	if (pipe(go) < 0 || pipe(rep) < 0)
		abort();
	c->hold_mb = 0;
	c->pid = fork();
	if (c->pid == 0) {
		char b, path[256];
		int res[5];

		close(go[1]);
		close(rep[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		if (!probe) {
			if (read(go[0], &b, 1) == 1) {
				for (int i = 0; i < b; i++)
					memset(xmalloc(1 << 20), 1, 1 << 20);
				if (write(rep[1], "x", 1) != 1)
					_exit(1);
			}
			for (;;)
				pause();
		}
		res[0] = try_open("/dev/null", O_RDWR);
		snprintf(path, sizeof(path), "%s/kmsg", tmpdir);
		res[1] = try_open(path, O_RDONLY);
		res[2] = try_open(path, O_WRONLY);
		snprintf(path, sizeof(path), "%s/mem", tmpdir);
		res[3] = try_open(path, O_RDONLY);
		snprintf(path, sizeof(path), "%s/made", tmpdir);
		res[4] = mknod(path, S_IFCHR | 0600, makedev(1, 3)) < 0 ? errno : 0;
		if (write(rep[1], res, sizeof(res)) != sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(rep[1]);
	c->go = go[1];
	c->report = rep[0];
}

static void release(struct child *c)
{
	char mb = (char)c->hold_mb;

	if (write(c->go, "x", 1) != 1 || (mb && write(c->go, &mb, 1) != 1))
		abort();
}

static void reap(struct child *c)
{
	int st;

	close(c->go);
	close(c->report);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &st, 0);
	}
	c->pid = -1;
}

static void test_create_failures(void)
{
	struct oci_memory m = {.has_limit = true, .limit = 1 << 20};
	struct oci_resources r = {.memory = &m};
	char *ukeys[] = {"nosuch.file"}, *uvals[] = {"1"};
	struct oci_resources ru = {.unified = {1, ukeys, uvals}};
	struct skiff_error *err = NULL;
	char path[128], want[512];
	int fd = -1;

	snprintf(path, sizeof(path), "%s/a/b", base);
	if (has_controller("memory")) {
		skip("the memory controller is enabled here", "memory on a host without it");
	} else {
		ok(fs2_create(path, &r, &fd, &err) < 0,
		   "memory limit without the controller fails");
		snprintf(want, sizeof(want),
		         "cgroup: memory limit requested but the memory controller is not enabled "
		         "in the cgroup v2 hierarchy at %s",
		         mnt);
		ok_str(errmsg(&err), want, "... with a clear message");
		snprintf(path, sizeof(path), "%s/a", base);
		ok(!exists(path), "... and leaves no directory");
	}

	snprintf(path, sizeof(path), "%s/a/b", base);
	ok(fs2_create(path, &ru, &fd, &err) < 0, "a missing unified file fails");
	ok_str(errmsg(&err),
	       "cgroup: linux.resources.unified: \"nosuch.file\" does not exist in the cgroup",
	       "... naming the key");
	snprintf(path, sizeof(path), "%s/a", base);
	ok(!exists(path) && exists(base), "... removes the dirs it made, keeps the one it found");
}

static void test_devices_live(int dfd, const char *path)
{
	struct child c;
	int res[5] = {-1, -1, -1, -1, -1};
	struct skiff_error *err = NULL;
	char node[256];
	struct oci_device_cgroup deny_kmsg[] = {{.allow = false,
	                                         .type = "c",
	                                         .has_major = true,
	                                         .major = 1,
	                                         .has_minor = true,
	                                         .minor = 11,
	                                         .access = "r"}};
	struct oci_resources upd = {.devices = deny_kmsg, .devices_len = 1};

	snprintf(node, sizeof(node), "%s/kmsg", tmpdir);
	if (mknod(node, S_IFCHR | 0600, makedev(1, 11)) < 0) {
		skip("mknod failed", "device filter on the kernel");
		return;
	}
	snprintf(node, sizeof(node), "%s/mem", tmpdir);
	mknod(node, S_IFCHR | 0600, makedev(1, 1));

	start_child(&c, true);
	ok(fs2_enter(dfd, c.pid, &err) == 0, "cgroup_enter moves a child in: %s", errmsg(&err));
	release(&c);
	ok(read(c.report, res, sizeof(res)) == sizeof(res), "child reported");
	ok(res[0] == 0, "filter: /dev/null opens (default rule), errno %d", res[0]);
	ok(res[1] == 0, "filter: c 1:11 opens for reading (config allow r), errno %d", res[1]);
	ok(res[2] == EPERM, "filter: c 1:11 for writing gives EPERM, errno %d", res[2]);
	ok(res[3] == EPERM, "filter: c 1:1 gives EPERM (config deny all), errno %d", res[3]);
	ok(res[4] == 0, "filter: mknod c 1:3 allowed (default c *:* m), errno %d", res[4]);
	reap(&c);
	snprintf(node, sizeof(node), "%s/made", tmpdir);
	unlink(node);

	ok(fs2_apply_resources(dfd, &upd, &err) == 0, "update replaces the device filter: %s",
	   errmsg(&err));
	start_child(&c, true);
	fs2_enter(dfd, c.pid, &err);
	error_free(&err);
	release(&c);
	ok(read(c.report, res, sizeof(res)) == sizeof(res), "child reported");
	ok(res[0] == 0 && res[1] == EPERM && res[3] == EPERM,
	   "after update: null %d, kmsg read %d (EPERM), mem %d (EPERM)", res[0], res[1], res[3]);
	reap(&c);
	snprintf(node, sizeof(node), "%s/made", tmpdir);
	unlink(node);
	(void)path;
}

static void test_lifecycle(void)
{
	struct oci_device_cgroup devs[] = {
	    {.allow = false, .access = "rwm"},
	    {.allow = true,
	     .type = "c",
	     .has_major = true,
	     .major = 1,
	     .has_minor = true,
	     .minor = 11,
	     .access = "r"},
	};
	char *ukeys[] = {"cgroup.max.descendants"}, *uvals[] = {"7"};
	struct oci_resources r = {.devices = devs, .devices_len = 2, .unified = {1, ukeys, uvals}};
	struct skiff_error *err = NULL;
	char path[128], sub[160], subdir[512];
	struct child c1, c2;
	pid_t *pids = NULL;
	size_t n = 0;
	bool frozen = true;
	struct cgroup_stats st;
	int fd = -1, status;
	char *v;

	snprintf(path, sizeof(path), "%s/ctr", base);
	ok(fs2_create(path, &r, &fd, &err) == 0 && fd >= 0, "create with devices and unified: %s",
	   errmsg(&err));
	if (fd < 0)
		return;
	v = read_cg(path, "cgroup.max.descendants");
	ok_str(v, "7", "unified value written");
	test_devices_live(fd, path);

	start_child(&c1, false);
	fs2_enter(fd, c1.pid, &err);
	release(&c1);
	snprintf(sub, sizeof(sub), "%s/sub", path);
	snprintf(subdir, sizeof(subdir), "%s%s", mnt, sub);
	mkdir(subdir, 0755);
	start_child(&c2, false);
	{
		int sfd = open(subdir, O_DIRECTORY | O_RDONLY);
		fs2_enter(sfd, c2.pid, &err);
		close(sfd);
	}
	release(&c2);
	ok(fs2_pids(path, &pids, &n, &err) == 0 && n == 2, "pids are listed recursively (%zu)", n);
	free(pids);

	ok(fs2_freeze(path, true, &err) == 0, "freeze: %s", errmsg(&err));
	ok(fs2_is_frozen(path, &frozen, &err) == 0 && frozen, "is_frozen after freeze");
	ok(fs2_freeze(path, false, &err) == 0, "thaw: %s", errmsg(&err));
	ok(fs2_is_frozen(path, &frozen, &err) == 0 && !frozen, "not frozen after thaw");

	ok(fs2_stats(path, &st, &err) == 0, "stats: %s", errmsg(&err));
	ok(st.has_cpu, "stats: cpu.stat is read (usage %llu usec)",
	   (unsigned long long)st.cpu_usage_usec);
	ok(st.has_memory == (read_cg(path, "memory.current") != NULL),
	   "stats: memory only with the controller");
	cgroup_stats_free(&st);

	ok(fs2_freeze(path, true, &err) == 0, "freeze again before kill");
	ok(fs2_kill_all(path, SIGKILL, &err) == 0, "kill_all SIGKILL (frozen): %s", errmsg(&err));
	ok(waitpid(c1.pid, &status, 0) == c1.pid && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGKILL,
	   "child 1 was SIGKILLed");
	ok(waitpid(c2.pid, &status, 0) == c2.pid && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGKILL,
	   "child 2 (sub-cgroup) was SIGKILLed");
	c1.pid = c2.pid = -1;
	reap(&c1);
	reap(&c2);

	close(fd);
	ok(fs2_destroy(path, true, &err) == 0, "destroy: %s", errmsg(&err));
	ok(!exists(path), "destroy removed the cgroup and its children");
	ok(fs2_destroy(path, true, &err) == 0, "destroying a missing cgroup is fine");
}

/* ---- with real controllers (in the test VM: pure v2, all controllers) ---- */

static char *read_file_str(const char *path)
{
	static char buf[4096];
	char *data = NULL;
	struct skiff_error *err = NULL;

	if (read_file(path, &data, NULL, &err) < 0) {
		error_free(&err);
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", data);
	free(data);
	return buf;
}

/* A child in dfd's cgroup that allocates and touches mb megabytes, then exits 0. */
static int run_hog(int dfd, int mb)
{
	int go[2], st;
	pid_t pid;
	struct skiff_error *err = NULL;

	if (pipe(go) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char b;
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(2);
		for (int i = 0; i < mb; i++) {
			char *p = malloc(1 << 20);
			if (p == NULL)
				_exit(3);
			memset(p, 1, 1 << 20);
		}
		_exit(0);
	}
	close(go[0]);
	fs2_enter(dfd, pid, &err);
	error_free(&err);
	if (write(go[1], "x", 1) != 1)
		return -1;
	close(go[1]);
	waitpid(pid, &st, 0);
	return st;
}

/* Forks n children inside the cgroup; returns how many forks succeeded. */
static int fork_many(int dfd, int n)
{
	int go[2], rep[2], st, made = -1;
	pid_t pid;
	struct skiff_error *err = NULL;

	if (pipe(go) < 0 || pipe(rep) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char b;
		int count = 0;
		pid_t kids[64];
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(2);
		for (int i = 0; i < n && i < 64; i++) {
			kids[count] = fork();
			if (kids[count] == 0) {
				pause();
				_exit(0);
			}
			if (kids[count] > 0)
				count++;
		}
		if (write(rep[1], &count, sizeof(count)) != sizeof(count))
			_exit(1);
		for (int i = 0; i < count; i++)
			kill(kids[i], SIGKILL);
		while (wait(NULL) > 0)
			;
		_exit(0);
	}
	close(go[0]);
	close(rep[1]);
	fs2_enter(dfd, pid, &err);
	error_free(&err);
	if (write(go[1], "x", 1) == 1 && read(rep[0], &made, sizeof(made)) != sizeof(made))
		made = -1;
	close(go[1]);
	close(rep[0]);
	waitpid(pid, &st, 0);
	return made;
}

static void vm_test_values(void)
{
	struct oci_memory m = {.has_limit = true,
	                       .limit = 64 << 20,
	                       .has_reservation = true,
	                       .reservation = 16 << 20,
	                       .has_swap = true,
	                       .swap = 96 << 20};
	struct oci_cpu c = {.has_shares = true,
	                    .shares = 1024,
	                    .has_quota = true,
	                    .quota = 50000,
	                    .has_period = true,
	                    .period = 100000,
	                    .cpus = "0"};
	struct oci_pids pids = {.has_limit = true, .limit = 10};
	struct oci_resources r = {.memory = &m, .cpu = &c, .pids = &pids};
	struct skiff_error *err = NULL;
	char path[128], parent[128];
	char *v;
	int fd = -1, st, made;

	snprintf(path, sizeof(path), "%s/a/ctr", base);
	ok(fs2_create(path, &r, &fd, &err) == 0, "vm: create with memory, cpu, pids: %s",
	   errmsg(&err));
	if (fd < 0)
		return;
	snprintf(parent, sizeof(parent), "%s/a", base);
	v = read_cg(parent, "cgroup.subtree_control");
	ok(v && strstr(v, "memory") && strstr(v, "cpu") && strstr(v, "pids"),
	   "vm: controllers enabled in the parent: %s", v);
	ok_str(read_cg(path, "memory.max"), "67108864", "vm: memory.max");
	ok_str(read_cg(path, "memory.low"), "16777216", "vm: memory.low");
	if (exists(path) && read_cg(path, "memory.swap.max"))
		ok_str(read_cg(path, "memory.swap.max"), "33554432", "vm: memory.swap.max");
	else
		skip("no swap accounting", "vm: memory.swap.max");
	ok_str(read_cg(path, "cpu.weight"), "39", "vm: cpu.weight from shares 1024");
	ok_str(read_cg(path, "cpu.max"), "50000 100000", "vm: cpu.max");
	ok_str(read_cg(path, "cpuset.cpus"), "0", "vm: cpuset.cpus");
	ok_str(read_cg(path, "pids.max"), "10", "vm: pids.max");

	made = fork_many(fd, 20);
	ok(made >= 0 && made < 10, "vm: pids.max 10 stops forks (%d of 20 made)", made);

	/* memory.max 16M, no swap: a 64M hog is OOM-killed and memory.events says so. */
	{
		struct oci_memory m2 = {
		    .has_limit = true, .limit = 16 << 20, .has_swap = true, .swap = 16 << 20};
		struct oci_resources r2 = {.memory = &m2};
		struct cgroup_stats s;

		ok(fs2_apply_resources(fd, &r2, &err) == 0, "vm: update memory: %s", errmsg(&err));
		ok_str(read_cg(path, "memory.max"), "16777216", "vm: updated memory.max");
		st = run_hog(fd, 64);
		ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		   "vm: 64M hog OOM-killed (status %#x)", st);
		ok(fs2_stats(path, &s, &err) == 0 && s.has_memory && s.has_pids && s.has_cpu,
		   "vm: stats with memory, pids, cpu: %s", errmsg(&err));
		ok(s.memory_max == 16 << 20, "vm: stats memory_max");
		ok(s.memory_events_oom_kill >= 1, "vm: stats oom_kill %llu",
		   (unsigned long long)s.memory_events_oom_kill);
		ok(s.memory_stat_len > 10, "vm: memory.stat parsed (%zu keys)", s.memory_stat_len);
		ok(s.pids_max == 10, "vm: stats pids_max");
		cgroup_stats_free(&s);
	}

	/* checkBeforeUpdate: a limit below current usage is refused. */
	{
		struct oci_memory m3 = {.has_limit = true,
		                        .limit = 4096,
		                        .has_check_before_update = true,
		                        .check_before_update = true};
		struct oci_resources r3 = {.memory = &m3};
		struct child ch;
		int kfd;
		char kpath[512];

		char b;

		start_child(&ch, false);
		fs2_enter(fd, ch.pid, &err);
		error_free(&err);
		/* Charged to the cgroup: pages the child touches after it moved in. */
		ch.hold_mb = 8;
		release(&ch);
		ok(read(ch.report, &b, 1) == 1, "vm: child holds 8M");
		ok(fs2_apply_resources(fd, &r3, &err) < 0, "vm: checkBeforeUpdate refuses");
		v = errmsg(&err);
		ok(v && strstr(v, "below the current usage"), "... saying why: %s", v);
		reap(&ch);
		snprintf(kpath, sizeof(kpath), "%s%s/cgroup.kill", mnt, path);
		kfd = open(kpath, O_RDONLY);
		ok(kfd >= 0, "vm: cgroup.kill exists");
		if (kfd >= 0)
			close(kfd);
	}

	/* A value the kernel refuses names the file and the value. */
	{
		char *k[] = {"memory.max"}, *val[] = {"bogus"};
		struct oci_resources bad = {.unified = {1, k, val}};
		ok(fs2_apply_resources(fd, &bad, &err) < 0, "vm: kernel refuses a value");
		ok_str(errmsg(&err), "cgroup: write \"bogus\" to memory.max: Invalid argument",
		       "... error names file and value");
	}
	close(fd);
	ok(fs2_destroy(path, true, &err) == 0, "vm: destroy: %s", errmsg(&err));
	ok(fs2_destroy(parent, true, &err) == 0, "vm: destroy parent: %s", errmsg(&err));
}

static void vm_test_failures(void)
{
	char *k[] = {"pids.max"}, *val[] = {"-5"};
	struct oci_resources bad = {.unified = {1, k, val}};
	struct oci_hugepage_limit huge[] = {{"2MB", 4 << 20}};
	struct oci_resources rh = {.hugepage_limits = huge, .hugepage_limits_len = 1};
	struct oci_block_io b = {.has_weight = true, .weight = 500};
	struct oci_resources rb = {.block_io = &b};
	struct skiff_error *err = NULL;
	char path[128], parent[128];
	int fd = -1;

	snprintf(parent, sizeof(parent), "%s/f", base);
	snprintf(path, sizeof(path), "%s/f/ctr", base);
	ok(fs2_create(path, &bad, &fd, &err) < 0, "vm: a refused value fails create");
	ok_str(errmsg(&err), "cgroup: write \"-5\" to pids.max: Invalid argument",
	       "... naming file and value");
	ok(!exists(parent), "... and leaves no directory");

	if (read_file_str("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")) {
		ok(fs2_create(path, &rh, &fd, &err) == 0, "vm: hugetlb limit: %s", errmsg(&err));
		ok_str(read_cg(path, "hugetlb.2MB.max"), "4194304", "vm: hugetlb.2MB.max");
		if (fd >= 0)
			close(fd);
		fd = -1;
		fs2_destroy(path, true, &err);
		error_free(&err);
	} else {
		skip("no 2MB huge pages", "vm: hugetlb");
	}

	ok(fs2_create(path, &rb, &fd, &err) == 0 || strstr(errmsg(&err) ?: "", "io.weight"),
	   "vm: blockIO weight is written or refused by name");
	error_free(&err);
	if (fd >= 0) {
		ok_str(read_cg(path, "io.weight"), "default 4950", "vm: io.weight");
		close(fd);
	}
	fs2_destroy(parent, true, &err);
	error_free(&err);
	ok(!exists(parent), "vm: cleaned up");
}

static void vm_tests(void)
{
	struct skiff_error *err = NULL;
	char dir[512];

	if (!has_controller("memory") || !has_controller("pids")) {
		skip("no memory/pids controller", "vm tests");
		return;
	}
	snprintf(dir, sizeof(dir), "%s%s", mnt, base);
	if (mkdir(dir, 0755) < 0) {
		skip(strerror(errno), "vm tests: mkdir %s", dir);
		return;
	}
	vm_test_values();
	vm_test_failures();
	ok(fs2_destroy(base, true, &err) == 0 && !exists(base), "vm: test cgroup removed: %s",
	   errmsg(&err));
}

static void host_tests(bool vm)
{
	struct skiff_error *err = NULL;
	char dir[512], tmpl[] = "/tmp/skiff-cgtest-XXXXXX";
	struct statvfs vfs;

	if (geteuid() != 0) {
		skip("not root", "host cgroup tests");
		return;
	}
	if (cgroup_mountpoint(&mnt, &err) < 0) {
		skip(errmsg(&err), "host cgroup tests");
		return;
	}
	ok(1, "cgroup2 mounted at %s", mnt);
	tmpdir = mkdtemp(tmpl);
	/* Device nodes need a filesystem without nodev (the VM's /tmp has it). */
	if (tmpdir && statvfs(tmpdir, &vfs) == 0 && (vfs.f_flag & ST_NODEV)) {
		rmdir(tmpdir);
		strcpy(tmpl, "/dev/skiff-cgtest-XXXXXX");
		tmpdir = mkdtemp(tmpl);
	}
	snprintf(base, sizeof(base), "/skiff-test-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s%s", mnt, base);
	if (tmpdir == NULL || mkdir(dir, 0755) < 0) {
		skip(strerror(errno), "host cgroup tests: mkdir %s", dir);
		return;
	}
	test_create_failures();
	test_lifecycle();
	ok(fs2_destroy(base, true, &err) == 0 && !exists(base), "test cgroup removed: %s",
	   errmsg(&err));
	if (vm)
		vm_tests();
	snprintf(dir, sizeof(dir), "rm -rf %s", tmpdir);
	if (system(dir) != 0)
		printf("# could not remove %s\n", tmpdir);
}

int main(int argc, char **argv)
{
	/* Line by line, so a hang in the VM still shows how far it got. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_conversions();
	test_memory();
	test_cpu();
	test_pids_blkio_misc();
	test_file_controller();
	test_resolve();
	test_device_program();
	/* Real controllers are only touched where asked to: in the test VM. */
	host_tests((argc > 1 && strcmp(argv[1], "vm") == 0) ||
	           (getenv("SKIFF_IN_VM") && strcmp(getenv("SKIFF_IN_VM"), "1") == 0));
	done_testing();
}
