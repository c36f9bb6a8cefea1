/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources.devices on cgroup v2: there is no devices.allow file, the
 * kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup
 * instead.  We assemble that program by hand (no libbpf, no clang): one
 * block per rule, checked from the last rule to the first, the first
 * matching block returning 1 (allow) or 0 (deny).
 */
#include <config.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "utils.h"

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

/* What every container needs to work: the set runc allows (/dev/console is the pty, 136:N). */
static const struct cgroup_dev_rule default_rules[] = {
    {true, 'c', -1, -1, BPF_DEVCG_ACC_MKNOD}, /* mknod of any char device */
    {true, 'b', -1, -1, BPF_DEVCG_ACC_MKNOD}, /* and any block device */
    {true, 'c', 1, 3, ACC_ALL},               /* /dev/null */
    {true, 'c', 1, 5, ACC_ALL},               /* /dev/zero */
    {true, 'c', 1, 7, ACC_ALL},               /* /dev/full */
    {true, 'c', 1, 8, ACC_ALL},               /* /dev/random */
    {true, 'c', 1, 9, ACC_ALL},               /* /dev/urandom */
    {true, 'c', 5, 0, ACC_ALL},               /* /dev/tty */
    {true, 'c', 5, 2, ACC_ALL},               /* /dev/ptmx */
    {true, 'c', 136, -1, ACC_ALL},            /* /dev/pts/N */
    {true, 'c', 10, 200, ACC_ALL},            /* /dev/net/tun */
};

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off)   INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define MOV32_REG(dst, src)    INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV32_IMM(dst, imm)    INSN(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND32_IMM(dst, imm)    INSN(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH32_IMM(dst, imm)    INSN(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JEQ_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm)
#define JNE_REG(dst, src, off) INSN(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0)
#define EXIT()                 INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers after the prologue. */
enum { R_TMP = 1, R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5 };

static void emit(struct cgroup_bpf_prog *p, struct bpf_insn insn)
{
	p->insns = xrealloc(p->insns, (p->len + 1) * sizeof(*p->insns));
	p->insns[p->len++] = insn;
}

void cgroup_bpf_prog_free(struct cgroup_bpf_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}

static int convert_rule(const struct oci_device_cgroup *d, size_t i, struct cgroup_dev_rule *out,
                        struct skiff_error **err)
{
	const char *type = d->type && *d->type ? d->type : "a";

	if (strlen(type) != 1 || !strchr("acb", type[0]))
		return error_msg(err,
		                 "linux.resources.devices[%zu].type: invalid type \"%s\" (expected "
		                 "a, c or b)",
		                 i, type);
	out->allow = d->allow;
	out->type = type[0];
	out->major = d->has_major ? d->major : -1;
	out->minor = d->has_minor ? d->minor : -1;
	if (out->major < -1 || out->major > INT32_MAX)
		return error_msg(err, "linux.resources.devices[%zu].major: invalid value %" PRId64,
		                 i, out->major);
	if (out->minor < -1 || out->minor > INT32_MAX)
		return error_msg(err, "linux.resources.devices[%zu].minor: invalid value %" PRId64,
		                 i, out->minor);
	out->access = 0;
	if (d->access == NULL || *d->access == '\0')
		out->access = ACC_ALL;
	for (const char *a = d->access; a && *a; a++) {
		if (*a == 'r')
			out->access |= BPF_DEVCG_ACC_READ;
		else if (*a == 'w')
			out->access |= BPF_DEVCG_ACC_WRITE;
		else if (*a == 'm')
			out->access |= BPF_DEVCG_ACC_MKNOD;
		else
			return error_msg(err,
			                 "linux.resources.devices[%zu].access: invalid access "
			                 "\"%s\" (expected a subset of rwm)",
			                 i, d->access);
	}
	return 0;
}

/*
 * One rule: each check jumps to the next block when it fails.  An allow
 * rule matches when it grants every access requested; a deny rule when it
 * covers any of them (denying "w" must also stop an O_RDWR open).
 * Returns true when the rule matches everything, which ends the program.
 */
static bool emit_rule(struct cgroup_bpf_prog *p, const struct cgroup_dev_rule *r)
{
	struct bpf_insn checks[6];
	size_t n = 0;

	if (r->type != 'a')
		checks[n++] =
		    JNE_IMM(R_TYPE, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0);
	if (r->access != ACC_ALL) {
		checks[n++] = MOV32_REG(R_TMP, R_ACCESS);
		checks[n++] = AND32_IMM(R_TMP, (int32_t)r->access);
		checks[n++] = r->allow ? JNE_REG(R_TMP, R_ACCESS, 0) : JEQ_IMM(R_TMP, 0, 0);
	}
	if (r->major != -1)
		checks[n++] = JNE_IMM(R_MAJOR, (int32_t)r->major, 0);
	if (r->minor != -1)
		checks[n++] = JNE_IMM(R_MINOR, (int32_t)r->minor, 0);
	for (size_t i = 0; i < n; i++) {
		if (BPF_CLASS(checks[i].code) == BPF_JMP)
			checks[i].off = (int16_t)(n - i - 1 + 2); /* past the rest and the return */
		emit(p, checks[i]);
	}
	emit(p, MOV32_IMM(0, r->allow ? 1 : 0));
	emit(p, EXIT());
	return n == 0;
}

int cgroup_devices_rules(const struct oci_device_cgroup *rules, size_t n, bool with_defaults,
                         struct cgroup_dev_rule **out, size_t *len, struct skiff_error **err)
{
	size_t total = n + (with_defaults ? ARRAY_SIZE(default_rules) : 0);
	cleanup_free struct cgroup_dev_rule *all = xcalloc(total + 1, sizeof(*all));

	for (size_t i = 0; i < n; i++)
		if (convert_rule(&rules[i], i, &all[i], err) < 0)
			return -1;
	for (size_t i = n; i < total; i++)
		all[i] = default_rules[i - n];
	*out = steal_ptr(&all);
	*len = total;
	return 0;
}

int cgroup_devices_compile(const struct oci_device_cgroup *rules, size_t n, bool with_defaults,
                           struct cgroup_bpf_prog *out, struct skiff_error **err)
{
	cleanup_free struct cgroup_dev_rule *all = NULL;
	struct cgroup_bpf_prog p = {0};
	bool ended = false;
	size_t total;

	if (cgroup_devices_rules(rules, n, with_defaults, &all, &total, err) < 0)
		return -1;

	emit(&p, LDX_W(R_TYPE, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	emit(&p, AND32_IMM(R_TYPE, 0xffff));
	emit(&p, LDX_W(R_ACCESS, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	emit(&p, RSH32_IMM(R_ACCESS, 16));
	emit(&p, LDX_W(R_MAJOR, 1, offsetof(struct bpf_cgroup_dev_ctx, major)));
	emit(&p, LDX_W(R_MINOR, 1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
	/* The verifier refuses unreachable code: stop after a rule that matches all. */
	for (size_t i = total; i-- > 0 && !ended;)
		ended = emit_rule(&p, &all[i]);
	if (!ended) {
		emit(&p, MOV32_IMM(0, 0));
		emit(&p, EXIT());
	}
	*out = p;
	return 0;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

#define PROG_NAME "skiff_devices"

static int load_prog(const struct cgroup_bpf_prog *prog, struct skiff_error **err)
{
	static char log[16384];
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)prog->insns;
	attr.insn_cnt = (uint32_t)prog->len;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	/* Named, so that an update replaces skiff's filter and no one else's (systemd's). */
	memcpy(attr.prog_name, PROG_NAME, sizeof(PROG_NAME));
	fd = bpf_call(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	if (errno != EINVAL && errno != EACCES)
		return error_errno(err, "cgroup: load the device filter (bpf BPF_PROG_LOAD)");
	/* Load again with the verifier's log, which says what it disliked. */
	log[0] = '\0';
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	fd = bpf_call(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	log[strcspn(log, "\n")] = '\0';
	return error_errno(err, "cgroup: load the device filter (bpf BPF_PROG_LOAD; verifier: %s)",
	                   log);
}

/* Ids of the device programs attached to this very cgroup. */
static int query_progs(int dirfd, uint32_t *ids, uint32_t *n, struct skiff_error **err)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)dirfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = *n;
	if (bpf_call(BPF_PROG_QUERY, &attr) < 0)
		return error_errno(err, "cgroup: list the device filters (bpf BPF_PROG_QUERY)");
	*n = attr.query.prog_cnt < *n ? attr.query.prog_cnt : *n;
	return 0;
}

static bool is_ours(int fd)
{
	struct bpf_prog_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (bpf_call(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
		return true;
	return info.name[0] == '\0' || strcmp(info.name, PROG_NAME) == 0;
}

static int detach_prog(int dirfd, uint32_t id, struct skiff_error **err)
{
	union bpf_attr attr;
	cleanup_close int fd = -1;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_errno(err, "cgroup: get the old device filter %" PRIu32, id);
	}
	/* Unnamed: one an older skiff attached.  systemd's (DevicePolicy) stays. */
	if (!is_ours(fd))
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dirfd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	if (bpf_call(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
		return error_errno(err, "cgroup: detach the old device filter %" PRIu32, id);
	return 0;
}

int cgroup_devices_install(int dirfd, const struct cgroup_bpf_prog *prog, struct skiff_error **err)
{
	uint32_t old[64];
	uint32_t nold = ARRAY_SIZE(old);
	cleanup_close int fd = -1;
	union bpf_attr attr;

	if (query_progs(dirfd, old, &nold, err) < 0)
		return -1;
	fd = load_prog(prog, err);
	if (fd < 0)
		return -1;
	/*
	 * Attach the new program before detaching the old ones: in between
	 * both apply (each must allow), which is never more than either grants.
	 */
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dirfd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (bpf_call(BPF_PROG_ATTACH, &attr) < 0)
		return error_errno(err, "cgroup: attach the device filter (bpf BPF_PROG_ATTACH)");
	for (uint32_t i = 0; i < nold; i++)
		if (detach_prog(dirfd, old[i], err) < 0)
			return -1;
	return 0;
}
