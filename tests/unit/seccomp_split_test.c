/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A large profile compiled in parts (seccomp_split.c) decides every syscall
 * as the same profile compiled whole: both programs are run, by a small
 * classic-BPF interpreter, on every architecture x syscall number x a set of
 * argument vectors built from the profile's own values.
 */
#include <config.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "libskiff/seccomp.h"
#include "libskiff/utils.h"
#include "tap.h"

#ifdef HAVE_SECCOMP
#include <seccomp.h>

#define BAD 0xdeadbeefu /* an instruction the interpreter does not know, or no return */

static uint32_t run(const struct sock_filter *f, size_t len, const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &f[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k > sizeof(*d) - 4 || i->k % 4)
				return BAD;
			memcpy(&a, (const char *)d + i->k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return BAD;
		}
	}
	return BAD;
}

#define MAX_VALUES 256

struct values {
	uint64_t v[MAX_VALUES];
	size_t n;
};

static void add_value(struct values *vs, uint64_t v)
{
	for (size_t i = 0; i < vs->n; i++)
		if (vs->v[i] == v)
			return;
	if (vs->n < MAX_VALUES)
		vs->v[vs->n++] = v;
}

/*
 * Every syscall name libseccomp knows on x86_64, mostly allowed, with the
 * kinds of rule real profiles have: errno and kill and trace actions,
 * argument comparisons of every operator, two actions on one syscall (prctl), and
 * names x86 multiplexes (socket and bind through socketcall, shmget and
 * msgget through ipc) under different actions.
 */
static struct oci_seccomp_syscall *big_profile(size_t *n)
{
	static char *allow[512], *deny[64];
	static struct oci_seccomp_arg pers[] = {{.index = 0, .op = "SCMP_CMP_EQ", .value = 0},
	                                        {.index = 0, .op = "SCMP_CMP_EQ", .value = 8}};
	static struct oci_seccomp_arg clone_args[] = {
	    {.index = 0, .op = "SCMP_CMP_MASKED_EQ", .value = 0x7e020000, .value_two = 0}};
	static struct oci_seccomp_arg sock[] = {{.index = 0, .op = "SCMP_CMP_EQ", .value = 22}};
	static struct oci_seccomp_arg sock_ne[] = {{.index = 0, .op = "SCMP_CMP_NE", .value = 22}};
	static struct oci_seccomp_arg ranges[] = {
	    {.index = 1, .op = "SCMP_CMP_GT", .value = 0x100000000ull},
	    {.index = 2, .op = "SCMP_CMP_LE", .value = 4096}};
	static struct oci_seccomp_arg ne[] = {{.index = 3, .op = "SCMP_CMP_NE", .value = 7},
	                                      {.index = 4, .op = "SCMP_CMP_LT", .value = 3},
	                                      {.index = 5, .op = "SCMP_CMP_GE", .value = 9}};
	static struct oci_seccomp_syscall sc[16];
	static char *n_personality[] = {"personality", NULL}, *n_clone[] = {"clone", NULL},
	            *n_socket[] = {"socket", NULL}, *n_bind[] = {"bind", NULL},
	            *n_prctl[] = {"prctl", NULL}, *n_socketcall[] = {"socketcall", NULL},
	            *n_shmget[] = {"shmget", NULL}, *n_mmap[] = {"mmap", NULL},
	            *n_ioctl[] = {"ioctl", NULL}, *n_kill[] = {"kill", NULL},
	            *n_clone3[] = {"clone3", NULL};
	static const char *const special[] = {
	    "personality", "clone", "socket", "bind",   "shmget", "msgget", "mmap",
	    "ioctl",       "kill",  "ptrace", "clone3", "reboot", "prctl",  "socketcall"};
	size_t na = 0, k = 0;

	for (int nr = 0; nr < 512 && na < ARRAY_SIZE(allow) - 1; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		bool skip = name == NULL;

		for (size_t s = 0; name && s < ARRAY_SIZE(special); s++)
			skip |= strcmp(name, special[s]) == 0;
		/* Every fifth name is left to the default action. */
		if (!skip && nr % 5 != 4)
			allow[na++] = name; /* leaked: the profile lives until exit */
		else
			free(name);
	}
	allow[na++] = "msgget";
	allow[na] = NULL;
	deny[0] = "reboot";
	deny[1] = "ptrace";
	deny[2] = NULL;
	sc[k++] = (struct oci_seccomp_syscall){.names = allow, .action = "SCMP_ACT_ALLOW"};
	sc[k++] = (struct oci_seccomp_syscall){
	    .names = n_personality, .action = "SCMP_ACT_ALLOW", .args = pers, .args_len = 2};
	sc[k++] = (struct oci_seccomp_syscall){
	    .names = n_clone, .action = "SCMP_ACT_ALLOW", .args = clone_args, .args_len = 1};
	sc[k++] = (struct oci_seccomp_syscall){.names = n_socket, .action = "SCMP_ACT_ALLOW"};
	/* x86 decides socket and bind through it: its rule and theirs must meet. */
	sc[k++] = (struct oci_seccomp_syscall){.names = n_socketcall, .action = "SCMP_ACT_LOG"};
	sc[k++] = (struct oci_seccomp_syscall){
	    .names = n_prctl, .action = "SCMP_ACT_ALLOW", .args = sock_ne, .args_len = 1};
	sc[k++] = (struct oci_seccomp_syscall){.names = n_prctl,
	                                       .action = "SCMP_ACT_ERRNO",
	                                       .has_errno_ret = true,
	                                       .errno_ret = EAFNOSUPPORT,
	                                       .args = sock,
	                                       .args_len = 1};
	sc[k++] = (struct oci_seccomp_syscall){.names = n_bind,
	                                       .action = "SCMP_ACT_ERRNO",
	                                       .has_errno_ret = true,
	                                       .errno_ret = EACCES};
	sc[k++] = (struct oci_seccomp_syscall){
	    .names = n_shmget, .action = "SCMP_ACT_TRACE", .has_errno_ret = true, .errno_ret = 5};
	sc[k++] = (struct oci_seccomp_syscall){
	    .names = n_mmap, .action = "SCMP_ACT_ALLOW", .args = ranges, .args_len = 2};
	sc[k++] = (struct oci_seccomp_syscall){
	    .names = n_ioctl, .action = "SCMP_ACT_LOG", .args = ne, .args_len = 3};
	sc[k++] = (struct oci_seccomp_syscall){.names = n_kill, .action = "SCMP_ACT_KILL_PROCESS"};
	sc[k++] = (struct oci_seccomp_syscall){.names = deny, .action = "SCMP_ACT_ERRNO"};
	sc[k++] = (struct oci_seccomp_syscall){.names = n_clone3,
	                                       .action = "SCMP_ACT_ERRNO",
	                                       .has_errno_ret = true,
	                                       .errno_ret = ENOSYS};
	*n = k;
	return sc;
}

static void collect_values(const struct oci_seccomp *s, struct values *vs)
{
	add_value(vs, 0);
	add_value(vs, UINT64_MAX);
	for (size_t i = 0; i < s->syscalls_len; i++)
		for (size_t j = 0; j < s->syscalls[i].args_len; j++) {
			uint64_t v = s->syscalls[i].args[j].value;
			add_value(vs, v);
			add_value(vs, v + 1);
			add_value(vs, v - 1);
			add_value(vs, v | 0xffffffff00000000ull);
		}
}

/* Runs both on every input; returns the number of inputs they disagree on. */
static size_t compare(const struct seccomp_program *a, const struct seccomp_program *b,
                      const struct values *vs, size_t *inputs, size_t *bad)
{
	static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64};
	size_t differ = 0;

	*inputs = *bad = 0;
	for (size_t ai = 0; ai < ARRAY_SIZE(arches); ai++)
		for (uint32_t n = 0; n < 2 * 600 + 1; n++) {
			/* 0..599, the same with the x32 bit, and -1 */
			uint32_t nr = n == 1200 ? UINT32_MAX : n < 600 ? n : 0x40000000u + n - 600;

			/* Each value in every argument, then the values rotated through them. */
			for (size_t v = 0; v < 2 * vs->n; v++) {
				struct seccomp_data d = {.nr = (int)nr, .arch = arches[ai]};
				uint32_t ra, rb;

				for (size_t k = 0; k < 6; k++)
					d.args[k] = vs->v[v < vs->n ? v : (v + 7 * k) % vs->n];
				ra = run(a->insns, a->len, &d);
				rb = run(b->insns, b->len, &d);
				(*inputs)++;
				*bad += ra == BAD || rb == BAD;
				if (ra != rb && differ++ < 5)
					printf(
					    "# arch %#x nr %#x arg0 %#llx: parts %#x, whole %#x\n",
					    arches[ai], nr, (unsigned long long)d.args[0], ra, rb);
			}
		}
	return differ;
}

static size_t count_code(const struct seccomp_program *p, uint16_t code, uint32_t k)
{
	size_t n = 0;

	for (size_t i = 0; i < p->len; i++)
		n += p->insns[i].code == code && p->insns[i].k == k;
	return n;
}

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_parts_decide_as_whole(void)
{
	size_t n, inputs, bad;
	struct oci_seccomp_syscall *sc = big_profile(&n);
	struct oci_seccomp s = {
	    .default_action = "SCMP_ACT_ERRNO",
	    .architectures = (char *[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL},
	    .syscalls = sc,
	    .syscalls_len = n};
	struct seccomp_program *parts = NULL, *whole = NULL;
	struct skiff_error *err = NULL;
	struct values vs = {0};
	double t0, t_parts, t_whole;
	uint16_t ld_abs = BPF_LD | BPF_W | BPF_ABS;
	uint32_t arch_off = offsetof(struct seccomp_data, arch);

	t0 = cpu_ms();
	ok(seccomp_compile(&s, &parts, &err) == 0, "the large profile compiles in parts%s%s",
	   err ? ": " : "", err ? err->msg : "");
	t_parts = cpu_ms() - t0;
	error_free(&err);
	t0 = cpu_ms();
	ok(seccomp_compile_whole(&s, &whole, &err) == 0, "... and whole%s%s", err ? ": " : "",
	   err ? err->msg : "");
	t_whole = cpu_ms() - t0;
	error_free(&err);
	if (parts == NULL || whole == NULL)
		return;
	ok(count_code(parts, ld_abs, arch_off) > 2 * count_code(whole, ld_abs, arch_off),
	   "it was split: %zu architecture loads against %zu", count_code(parts, ld_abs, arch_off),
	   count_code(whole, ld_abs, arch_off));
	printf("# compile CPU time: parts %.2f ms, whole %.2f ms; %zu and %zu instructions\n",
	       t_parts, t_whole, parts->len, whole->len);
	collect_values(&s, &vs);
	ok(compare(parts, whole, &vs, &inputs, &bad) == 0 && bad == 0,
	   "parts and whole decide alike on %zu inputs (%zu unreadable)", inputs, bad);
	ok(parts->flags == whole->flags && parts->needs_notify == whole->needs_notify &&
	       parts->skipped_syscalls == whole->skipped_syscalls,
	   "same flags, notify and skipped count");
	seccomp_program_free(parts);
	seccomp_program_free(whole);
}

/* A small profile is one filter, as before. */
static void test_small_profile_whole(void)
{
	struct oci_seccomp_syscall sc[] = {
	    {.names = (char *[]){"read", "write", NULL}, .action = "SCMP_ACT_ALLOW"}};
	struct oci_seccomp s = {
	    .default_action = "SCMP_ACT_ERRNO", .syscalls = sc, .syscalls_len = 1};
	struct seccomp_program *a = NULL, *b = NULL;
	struct skiff_error *err = NULL;

	ok(seccomp_compile(&s, &a, &err) == 0 && seccomp_compile_whole(&s, &b, &err) == 0 &&
	       a->len == b->len && memcmp(a->insns, b->insns, a->len * sizeof(*a->insns)) == 0,
	   "a small profile is compiled whole");
	error_free(&err);
	seccomp_program_free(a);
	seccomp_program_free(b);
}

int main(void)
{
	test_parts_decide_as_whole();
	test_small_profile_whole();
	done_testing();
}

#else
int main(void)
{
	skip("built without libseccomp", "parts decide as whole");
	done_testing();
}
#endif
