/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ENOSYS prefix of a compiled filter.
 *
 * A profile names the syscalls its author knew.  A newer syscall it cannot
 * name would get the default action, typically EPERM, and EPERM tells glibc
 * "this exists and you may not" — so glibc does not fall back from clone3 to
 * clone or from faccessat2 to faccessat, and programs built on a newer libc
 * fail.  ENOSYS says "this kernel does not have it", which is the truth as far
 * as the profile's author could know.  So, per architecture, a syscall number
 * above the largest one the profile names (whatever that name's action) gets
 * ENOSYS; everything else goes to libseccomp's program unchanged.  Applied
 * only when the default action refuses (errno, kill, trap): under a
 * permissive default (allow, log) or a tracer's (trace) a new syscall is
 * handled as the profile asks.
 *
 * x86_64 and x32 share AUDIT_ARCH_X86_64: x32 numbers carry bit 30
 * (__X32_SYSCALL_BIT), and libseccomp's x32 numbers include it.
 */
#include <config.h>

#ifdef HAVE_SECCOMP

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "seccomp_enosys.h"
#include "utils.h"

#define X32_BIT   0x40000000u
#define MAX_ARCHS 24
#define MAX_INSNS (8 * MAX_ARCHS + 2)
#define OFF_NR    offsetof(struct seccomp_data, nr)
#define OFF_ARCH  offsetof(struct seccomp_data, arch)

/* Jump targets before they are resolved: the next instruction, the ENOSYS
 * return, the first instruction of libseccomp's program, the next
 * architecture's test; a positive target is an instruction's index. */
enum { TO_FALL = 0, TO_ENOSYS = -1, TO_PROG = -2, TO_NEXT = -3 };

struct stub {
	struct sock_filter ins[MAX_INSNS];
	int jt[MAX_INSNS], jf[MAX_INSNS]; /* targets, TO_* or absolute index */
	size_t n;
};

static void emit(struct stub *s, uint16_t code, uint32_t k, int jt, int jf)
{
	s->ins[s->n] = (struct sock_filter)BPF_STMT(code, k);
	s->jt[s->n] = jt;
	s->jf[s->n] = jf;
	s->n++;
}

/* nr > max → ENOSYS, else the program; no max: the program. */
static void emit_limit(struct stub *s, int64_t max)
{
	if (max < 0)
		emit(s, BPF_JMP | BPF_JA, 0, TO_PROG, TO_PROG);
	else
		emit(s, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max, TO_ENOSYS, TO_PROG);
}

/* The largest number any of the profile's names has on arch, -1 for none. */
static int64_t max_named(const struct oci_seccomp *s, uint32_t arch, bool x32)
{
	int64_t max = -1;

	for (size_t i = 0; i < s->syscalls_len; i++)
		for (size_t n = 0; s->syscalls[i].names && s->syscalls[i].names[n]; n++) {
			int nr = seccomp_syscall_resolve_name_arch(arch, s->syscalls[i].names[n]);
			/* Negative: unknown, or a multiplexed pseudo-syscall (socketcall). */
			if (nr < 0 || ((uint32_t)nr & X32_BIT) != (x32 ? X32_BIT : 0))
				continue;
			if (nr > max)
				max = nr;
		}
	return max;
}

static bool has_arch(const uint32_t *archs, size_t n, uint32_t a)
{
	for (size_t i = 0; i < n; i++)
		if (archs[i] == a)
			return true;
	return false;
}

/* One test per audit arch; x86_64 splits on the x32 bit. */
static void emit_arch(struct stub *s, const struct oci_seccomp *p, const uint32_t *archs, size_t n,
                      uint32_t a)
{
	bool native64 = has_arch(archs, n, SCMP_ARCH_X86_64);
	bool x32 = has_arch(archs, n, SCMP_ARCH_X32);

	if (a == SCMP_ARCH_X32 && native64)
		return; /* handled in x86_64's block */
	emit(s, BPF_JMP | BPF_JEQ | BPF_K, a == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : a, TO_FALL,
	     TO_NEXT);
	emit(s, BPF_LD | BPF_W | BPF_ABS, OFF_NR, TO_FALL, TO_FALL);
	if (a != SCMP_ARCH_X86_64 && a != SCMP_ARCH_X32) {
		emit_limit(s, max_named(p, a, false));
		return;
	}
	/* nr >= X32_BIT: an x32 syscall (skip the next instruction). */
	emit(s, BPF_JMP | BPF_JGE | BPF_K, X32_BIT, (int)s->n + 2, (int)s->n + 1);
	emit_limit(s, native64 ? max_named(p, SCMP_ARCH_X86_64, false) : -1);
	emit_limit(s, x32 ? max_named(p, SCMP_ARCH_X32, true) : -1);
}

/* A conditional jump's 8-bit offset from instruction i to target. */
static int resolve(size_t next, int target, size_t i, size_t enosys, uint8_t *out)
{
	size_t to = target == TO_FALL     ? i + 1
	            : target == TO_ENOSYS ? enosys
	            : target == TO_PROG   ? enosys + 1
	            : target == TO_NEXT   ? next
	                                  : (size_t)target;
	if (to <= i || to - i - 1 > 255)
		return -1;
	*out = (uint8_t)(to - i - 1);
	return 0;
}

static int link_stub(struct stub *s, const size_t *block_end, size_t nblocks)
{
	size_t enosys = s->n, b = 0;

	emit(s, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0);
	for (size_t i = 0; i < enosys; i++) {
		struct sock_filter *f = &s->ins[i];
		size_t next;

		while (b < nblocks && i >= block_end[b])
			b++;
		next = b < nblocks ? block_end[b] : enosys + 1;
		if (BPF_CLASS(f->code) != BPF_JMP)
			continue;
		if (BPF_OP(f->code) == BPF_JA) {
			f->k = (uint32_t)(enosys + 1 - i - 1);
			continue;
		}
		if (resolve(next, s->jt[i], i, enosys, &f->jt) < 0 ||
		    resolve(next, s->jf[i], i, enosys, &f->jf) < 0)
			return -1;
	}
	return 0;
}

int seccomp_enosys_prefix(const struct oci_seccomp *profile, uint32_t default_action,
                          const uint32_t *archs, size_t narchs, struct seccomp_program *p,
                          struct skiff_error **err)
{
	uint32_t kind = default_action & SECCOMP_RET_ACTION_FULL;
	struct stub s = {0};
	size_t block_end[MAX_ARCHS], nblocks = 0;
	struct sock_filter *insns;

	if (kind == SECCOMP_RET_ALLOW || kind == SECCOMP_RET_LOG || kind == SECCOMP_RET_TRACE)
		return 0;
	if (narchs > MAX_ARCHS)
		return error_msg(err, "linux.seccomp.architectures: more than %d", MAX_ARCHS);
	emit(&s, BPF_LD | BPF_W | BPF_ABS, OFF_ARCH, TO_FALL, TO_FALL);
	for (size_t i = 0; i < narchs; i++) {
		size_t before = s.n;
		emit_arch(&s, profile, archs, narchs, archs[i]);
		if (s.n != before)
			block_end[nblocks++] = s.n;
	}
	/* No architecture matched: libseccomp's own arch check decides. */
	emit(&s, BPF_JMP | BPF_JA, 0, TO_PROG, TO_PROG);
	if (link_stub(&s, block_end, nblocks) < 0)
		return error_msg(err, "linux.seccomp: ENOSYS prefix: jump out of range");
	if (p->len + s.n > BPF_MAXINSNS)
		return error_msg(err,
		                 "linux.seccomp: the filter has %zu instructions, more than the "
		                 "kernel's limit of %d",
		                 p->len + s.n, BPF_MAXINSNS);
	insns = xmalloc((p->len + s.n) * sizeof(*insns));
	memcpy(insns, s.ins, s.n * sizeof(*insns));
	memcpy(insns + s.n, p->insns, p->len * sizeof(*insns));
	free(p->insns);
	p->insns = insns;
	p->len += s.n;
	return 0;
}

#endif
