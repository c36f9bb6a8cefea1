/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "seccomp.h"
#include "utils.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/*
 * Loading needs nothing but the kernel, so it is the same with or without
 * libseccomp; it runs in the container's init right before execve.
 */
int seccomp_program_load(const struct seccomp_program *p, int *notify_fd, struct skiff_error **err)
{
	struct sock_fprog prog;
	unsigned long flags = p->flags;
	long r;

	if (notify_fd)
		*notify_fd = -1;
	if (p->len == 0 || p->len > BPF_MAXINSNS)
		return error_set(err, EINVAL, "load seccomp filter: %zu instructions", p->len);
	if (p->needs_notify) {
		if (notify_fd == NULL)
			return error_set(
			    err, EINVAL,
			    "load seccomp filter: SCMP_ACT_NOTIFY needs a listener fd");
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* TSYNC reports a failing thread by its tid, which would be
		 * indistinguishable from a listener fd: ESRCH instead. */
		if (flags & SECCOMP_FILTER_FLAG_TSYNC)
			flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	} else {
		/* The kernel rejects it without a listener, where it means nothing. */
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	}
	prog.len = (unsigned short)p->len;
	prog.filter = p->insns;
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0) {
		if (errno == EACCES)
			return error_errno(err, "load seccomp filter: no_new_privs is not set and "
			                        "CAP_SYS_ADMIN is missing");
		return error_errno(
		    err, "load seccomp filter: seccomp(SECCOMP_SET_MODE_FILTER, 0x%lx)", flags);
	}
	if (p->needs_notify)
		*notify_fd = (int)r;
	return 0;
}

int seccomp_program_memfd(const struct seccomp_program *p, struct skiff_error **err)
{
	/* No listener here: the kernel would refuse the flag that needs one. */
	uint32_t head[2] = {p->flags & ~(uint32_t)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
	                    (uint32_t)p->len};
	int fd = memfd_create("skiff-seccomp-filter", 0);

	if (fd < 0)
		return error_errno(err, "seccomp: memfd_create");
	if (write_all(fd, head, sizeof(head)) < 0 ||
	    write_all(fd, p->insns, p->len * sizeof(*p->insns)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		error_errno(err, "seccomp: write the filter for the trampoline");
		close(fd);
		return -1;
	}
	return fd;
}

void seccomp_program_free(struct seccomp_program *p)
{
	if (p == NULL)
		return;
	free(p->insns);
	free(p);
}

static void features_init(struct oci_features_seccomp *f, bool enabled)
{
	memset(f, 0, sizeof(*f));
	f->has_enabled = true;
	f->enabled = enabled;
	f->actions = xcalloc(1, sizeof(char *));
	f->operators = xcalloc(1, sizeof(char *));
	f->archs = xcalloc(1, sizeof(char *));
	f->known_flags = xcalloc(1, sizeof(char *));
	f->supported_flags = xcalloc(1, sizeof(char *));
}

void seccomp_features_clear(struct oci_features_seccomp *f)
{
	strv_free(f->actions);
	strv_free(f->operators);
	strv_free(f->archs);
	strv_free(f->known_flags);
	strv_free(f->supported_flags);
	memset(f, 0, sizeof(*f));
}

#ifdef HAVE_SECCOMP

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <seccomp.h>

#include "log.h"
#include "seccomp_enosys.h"
#include "seccomp_split.h"

/* ---- the vocabulary of linux.seccomp ---- */

/* clang-format off */
/* X(name, value with 0 in the data bits, errnoRet goes in the data bits, libseccomp API level) */
#define ACTIONS(X) \
	X(SCMP_ACT_KILL, SCMP_ACT_KILL, false, 1) \
	X(SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_PROCESS, false, 3) \
	X(SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_THREAD, false, 1) \
	X(SCMP_ACT_TRAP, SCMP_ACT_TRAP, false, 1) \
	X(SCMP_ACT_ERRNO, SCMP_ACT_ERRNO(0), true, 1) \
	X(SCMP_ACT_TRACE, SCMP_ACT_TRACE(0), true, 1) \
	X(SCMP_ACT_ALLOW, SCMP_ACT_ALLOW, false, 1) \
	X(SCMP_ACT_LOG, SCMP_ACT_LOG, false, 3) \
	X(SCMP_ACT_NOTIFY, SCMP_ACT_NOTIFY, false, 5)
#define OPS(X) \
	X(SCMP_CMP_NE) X(SCMP_CMP_LT) X(SCMP_CMP_LE) X(SCMP_CMP_EQ) X(SCMP_CMP_GE) \
	X(SCMP_CMP_GT) X(SCMP_CMP_MASKED_EQ)
/* The spec's names; libseccomp knows each as the lower-case suffix. */
#define ARCHS(X) \
	X(SCMP_ARCH_X86) X(SCMP_ARCH_X86_64) X(SCMP_ARCH_X32) X(SCMP_ARCH_ARM) \
	X(SCMP_ARCH_AARCH64) X(SCMP_ARCH_LOONGARCH64) X(SCMP_ARCH_M68K) X(SCMP_ARCH_MIPS) \
	X(SCMP_ARCH_MIPS64) X(SCMP_ARCH_MIPS64N32) X(SCMP_ARCH_MIPSEL) X(SCMP_ARCH_MIPSEL64) \
	X(SCMP_ARCH_MIPSEL64N32) X(SCMP_ARCH_PPC) X(SCMP_ARCH_PPC64) X(SCMP_ARCH_PPC64LE) \
	X(SCMP_ARCH_S390) X(SCMP_ARCH_S390X) X(SCMP_ARCH_PARISC) X(SCMP_ARCH_PARISC64) \
	X(SCMP_ARCH_RISCV64) X(SCMP_ARCH_SH) X(SCMP_ARCH_SHEB)
#define FLAGS(X) \
	X(SECCOMP_FILTER_FLAG_TSYNC) X(SECCOMP_FILTER_FLAG_LOG) X(SECCOMP_FILTER_FLAG_SPEC_ALLOW) \
	X(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
/* clang-format on */

#define ACTION_NAME(name, value, takes_errno, api) #name "\0"
#define ACTION_DEF(name, value, takes_errno, api)  {value, takes_errno, api},
static const char action_names[] = ACTIONS(ACTION_NAME);
static const struct action_def {
	uint32_t value;
	bool takes_errno;
	unsigned char api;
} action_defs[] = {ACTIONS(ACTION_DEF)};
/* Each operator's enum scmp_compare is its position + 1. */
static const char op_names[] = OPS(NAME_STR);
NAMES_NUMBERED(OPS, 1);
static const char arch_names[] = ARCHS(NAME_STR);
static const char flag_names[] = FLAGS(NAME_STR);
static const unsigned char flag_values[] = {FLAGS(NAME_VALUE)};

#define ERRNO_RET_MAX 0xffff             /* the data bits of a seccomp return value */
#define MAX_ARCHS     NAMES_COUNT(ARCHS) /* the native one is among them */

static int resolve_action(const char *name, bool has_errno, uint32_t errno_ret,
                          const char *action_field, const char *errno_field, uint32_t *out,
                          struct skiff_error **err)
{
	const struct action_def *def;
	int i;

	if (name == NULL)
		return error_msg(err, "%s: missing", action_field);
	i = name_index(action_names, name);
	if (i < 0)
		return error_msg(err, "%s: unknown action \"%s\"", action_field, name);
	def = &action_defs[i];
	/* libseccomp would refuse it with a bare EINVAL. */
	if (seccomp_api_get() < def->api)
		return error_msg(err,
		                 "%s: \"%s\" is not supported by this kernel (libseccomp API "
		                 "level %u, needs %u)",
		                 action_field, name, seccomp_api_get(), def->api);
	if (has_errno && !def->takes_errno)
		return error_msg(err, "%s: not allowed with action \"%s\"", errno_field, name);
	if (has_errno && errno_ret > ERRNO_RET_MAX)
		return error_msg(err, "%s: %u is out of range (0-%u)", errno_field, errno_ret,
		                 ERRNO_RET_MAX);
	*out = def->value;
	if (def->takes_errno)
		*out |= has_errno ? errno_ret : EPERM;
	return 0;
}

static uint32_t resolve_arch(const char *name)
{
	char lower[32];
	size_t n;

	if (name_index(arch_names, name) < 0)
		return 0;
	name += strlen("SCMP_ARCH_");
	for (n = 0; name[n] && n < sizeof(lower) - 1; n++)
		lower[n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ? name[n] - 'A' + 'a' : name[n]);
	lower[n] = '\0';
	return seccomp_arch_resolve_name(lower);
}

static int parse_flags(char **flags, unsigned int *out, struct skiff_error **err)
{
	*out = 0;
	for (size_t i = 0; flags && flags[i]; i++) {
		int j = name_index(flag_names, flags[i]);
		if (j < 0)
			return error_msg(err, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
			                 flags[i]);
		*out |= flag_values[j];
	}
	return 0;
}

/* Adds the profile's architectures; tokens gets the native one and them (no duplicates). */
static int add_archs(scmp_filter_ctx ctx, char **archs, uint32_t *tokens, size_t *ntokens,
                     struct skiff_error **err)
{
	tokens[0] = seccomp_arch_native();
	*ntokens = 1;
	for (size_t i = 0; archs && archs[i]; i++) {
		uint32_t token = resolve_arch(archs[i]);
		int rc;

		if (token == 0) {
			const struct scmp_version *v = seccomp_version();
			return error_msg(err,
			                 "linux.seccomp.architectures[%zu]: unknown architecture "
			                 "\"%s\" (libseccomp %u.%u.%u)",
			                 i, archs[i], v->major, v->minor, v->micro);
		}
		rc = seccomp_arch_add(ctx, token);
		if (rc == -EEXIST) /* the native arch, or listed twice */
			continue;
		if (rc < 0)
			return error_set(err, -rc, "linux.seccomp.architectures[%zu]: add \"%s\"",
			                 i, archs[i]);
		if (*ntokens < MAX_ARCHS)
			tokens[(*ntokens)++] = token;
	}
	return 0;
}

/* ---- compiling ---- */

struct compile_state {
	scmp_filter_ctx ctx;
	uint32_t default_action;
	bool needs_notify;
	size_t skipped, named;
	char skipped_names[256];           /* the first few, for the debug line */
	const struct seccomp_split *split; /* compiling in parts: only this part's names */
	int part;
};

static void note_skipped(struct compile_state *st, const char *name)
{
	size_t used = strlen(st->skipped_names);

	st->skipped++;
	if (used + strlen(name) + 3 >= sizeof(st->skipped_names))
		return;
	snprintf(st->skipped_names + used, sizeof(st->skipped_names) - used, "%s%s",
	         used ? ", " : "", name);
	st->named++;
}

static int parse_args(const struct oci_seccomp_syscall *sc, const char *path,
                      struct scmp_arg_cmp *cmps, bool *same_index, struct skiff_error **err)
{
	unsigned int seen = 0;

	*same_index = false;
	for (size_t j = 0; j < sc->args_len; j++) {
		const struct oci_seccomp_arg *a = &sc->args[j];
		int op;

		if (a->index > 5)
			return error_msg(err, "%s.args[%zu].index: %u is out of range (0-5)", path,
			                 j, a->index);
		if (a->op == NULL)
			return error_msg(err, "%s.args[%zu].op: missing", path, j);
		op = name_index(op_names, a->op) + 1;
		if (op == 0)
			return error_msg(err, "%s.args[%zu].op: unknown operator \"%s\"", path, j,
			                 a->op);
		if (seen & (1u << a->index))
			*same_index = true;
		seen |= 1u << a->index;
		cmps[j] = (struct scmp_arg_cmp){
		    .arg = a->index,
		    .op = (enum scmp_compare)op,
		    .datum_a = a->value,
		    .datum_b = op == SCMP_CMP_MASKED_EQ ? a->value_two : 0,
		};
	}
	return 0;
}

static int add_rule(struct compile_state *st, uint32_t action, int nr,
                    const struct oci_seccomp_syscall *sc, const struct scmp_arg_cmp *cmps,
                    bool same_index)
{
	int rc;

	if (!same_index)
		return seccomp_rule_add_array(st->ctx, action, nr, (unsigned int)sc->args_len,
		                              cmps);
	/* One rule per arg: the args are ORed (see seccomp.h). */
	for (size_t j = 0; j < sc->args_len; j++) {
		rc = seccomp_rule_add_array(st->ctx, action, nr, 1, &cmps[j]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_syscall(struct compile_state *st, const struct oci_seccomp_syscall *sc, size_t i,
                       struct skiff_error **err)
{
	cleanup_free struct scmp_arg_cmp *cmps = xcalloc(sc->args_len, sizeof(*cmps));
	char path[64], action_field[80], errno_field[80];
	bool same_index;
	uint32_t action;

	snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", i);
	snprintf(action_field, sizeof(action_field), "%s.action", path);
	snprintf(errno_field, sizeof(errno_field), "%s.errnoRet", path);
	if (sc->names == NULL || sc->names[0] == NULL)
		return error_msg(err, "%s.names: empty", path);
	if (resolve_action(sc->action, sc->has_errno_ret, sc->errno_ret, action_field, errno_field,
	                   &action, err) < 0)
		return -1;
	if (parse_args(sc, path, cmps, &same_index, err) < 0)
		return -1;
	if (action == SCMP_ACT_NOTIFY)
		st->needs_notify = true;
	if (action == st->default_action)
		return 0;
	for (size_t n = 0; sc->names[n]; n++) {
		int nr, rc;

		if (st->split && seccomp_split_part_of(st->split, sc->names[n]) != st->part)
			continue;
		nr = seccomp_syscall_resolve_name(sc->names[n]);
		if (nr == __NR_SCMP_ERROR) {
			note_skipped(st, sc->names[n]);
			continue;
		}
		rc = add_rule(st, action, nr, sc, cmps, same_index);
		if (rc < 0)
			return error_set(err, -rc, "%s: add rule for \"%s\"", path, sc->names[n]);
	}
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct seccomp_program *p, struct skiff_error **err)
{
	cleanup_close int fd = memfd_create("skiff-seccomp", MFD_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	int rc;

	if (fd < 0)
		return error_errno(err, "seccomp: memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: export BPF");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return error_errno(err, "seccomp: rewind BPF");
	if (read_fd_all(fd, &buf, &len, err) < 0)
		return error_wrap(err, "seccomp: read BPF");
	if (len == 0 || len % sizeof(struct sock_filter) != 0)
		return error_msg(err, "seccomp: libseccomp exported %zu bytes of BPF", len);
	if (len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return error_msg(err,
		                 "linux.seccomp: the filter has %zu instructions, more than the "
		                 "kernel's limit of %d",
		                 len / sizeof(struct sock_filter), BPF_MAXINSNS);
	p->len = len / sizeof(struct sock_filter);
	p->insns = (struct sock_filter *)steal_ptr(&buf);
	return 0;
}

static void program_freep(struct seccomp_program **p)
{
	seccomp_program_free(*p);
}

static void release_ctx(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* One libseccomp filter of the profile's rules (of st->split's part st->part, if set). */
static int compile_filter(const struct oci_seccomp *s, struct compile_state *st,
                          uint32_t filter_default, uint32_t *archs, size_t *narchs,
                          struct seccomp_program *p, struct skiff_error **err)
{
	__attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(filter_default);
	int rc;

	if (ctx == NULL)
		return error_set(err, ENOMEM, "seccomp: seccomp_init");
	/* skiff sets no_new_privs itself, from process.noNewPrivileges. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: clear SCMP_FLTATR_CTL_NNP");
	if (add_archs(ctx, s->architectures, archs, narchs, err) < 0)
		return -1;
	st->ctx = ctx;
	for (size_t i = 0; i < s->syscalls_len; i++)
		if (add_syscall(st, &s->syscalls[i], i, err) < 0)
			return -1;
	st->ctx = NULL;
	return export_bpf(ctx, p, err);
}

/* Names per part, and the smallest profile worth splitting (seccomp_split.c). */
#define SPLIT_PER_PART 48
#define SPLIT_ABOVE    96

/* A return value no rule of the profile uses: a part's "not mine". */
static uint32_t pick_sentinel(const struct oci_seccomp *s, uint32_t default_action)
{
	for (uint32_t data = 0xfffe;; data--) {
		uint32_t cand = SCMP_ACT_TRACE(data), a;
		bool used = cand == default_action;

		for (size_t i = 0; i < s->syscalls_len && !used; i++) {
			const struct oci_seccomp_syscall *sc = &s->syscalls[i];
			used = resolve_action(sc->action, sc->has_errno_ret, sc->errno_ret, "", "",
			                      &a, NULL) == 0 &&
			       a == cand;
		}
		if (!used)
			return cand;
	}
}

/*
 * The profile in parts, chained.  1 when it does not split (too small, or a
 * part cannot be chained): the caller compiles it whole.
 */
static int compile_split(const struct oci_seccomp *s, struct compile_state *st, uint32_t *archs,
                         size_t *narchs, struct seccomp_program *p, struct skiff_error **err)
{
	__attribute__((cleanup(release_ctx))) scmp_filter_ctx probe = seccomp_init(SCMP_ACT_ALLOW);
	struct seccomp_split sp;
	struct sock_filter *prog = NULL;
	size_t names = 0, len = 0;
	uint32_t sentinel;
	int r = 0;

	for (size_t i = 0; i < s->syscalls_len; i++)
		names += strv_len(s->syscalls[i].names);
	if (names < SPLIT_ABOVE)
		return 1;
	if (probe == NULL)
		return error_set(err, ENOMEM, "seccomp: seccomp_init");
	if (add_archs(probe, s->architectures, archs, narchs, err) < 0)
		return -1;
	if (seccomp_split_plan(s, archs, *narchs, SPLIT_PER_PART, &sp) < 2) {
		seccomp_split_free(&sp);
		return 1;
	}
	sentinel = pick_sentinel(s, st->default_action);
	st->split = &sp;
	for (int part = 0; part < sp.parts && r == 0; part++) {
		struct seccomp_program one = {0};

		st->part = part;
		if (compile_filter(s, st, sentinel, archs, narchs, &one, err) < 0)
			r = -1;
		else if (seccomp_split_join(&prog, &len, one.insns, one.len, sentinel,
		                            part == sp.parts - 1, st->default_action) < 0)
			r = 1;
		free(one.insns);
	}
	st->split = NULL;
	seccomp_split_free(&sp);
	if (r == 0 && len > BPF_MAXINSNS)
		r = 1;
	if (r != 0) {
		free(prog);
		/* Compiled again whole: counted again. */
		st->skipped = st->named = 0;
		st->skipped_names[0] = '\0';
		return r;
	}
	p->insns = prog;
	p->len = len;
	return 0;
}

static int compile(const struct oci_seccomp *s, bool split, struct seccomp_program **out,
                   struct skiff_error **err)
{
	struct compile_state st = {0};
	uint32_t archs[MAX_ARCHS];
	size_t narchs = 0;
	__attribute__((cleanup(program_freep))) struct seccomp_program *p = xcalloc(1, sizeof(*p));
	int rc;

	if (resolve_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
	                   "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet",
	                   &st.default_action, err) < 0)
		return -1;
	if (st.default_action == SCMP_ACT_NOTIFY)
		return error_msg(err, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
		                      "default action");
	if (parse_flags(s->flags, &p->flags, err) < 0)
		return -1;
	rc = split ? compile_split(s, &st, archs, &narchs, p, err) : 1;
	if (rc < 0)
		return -1;
	if (rc > 0 && compile_filter(s, &st, st.default_action, archs, &narchs, p, err) < 0)
		return -1;
	if (st.needs_notify && (s->listener_path == NULL || *s->listener_path == '\0'))
		return error_msg(
		    err, "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
	if (st.skipped) {
		const struct scmp_version *v = seccomp_version();
		log_debug(
		    "seccomp: skipped %zu syscall name(s) unknown to libseccomp %u.%u.%u: %s%s",
		    st.skipped, v->major, v->minor, v->micro, st.skipped_names,
		    st.named < st.skipped ? ", ..." : "");
	}
	if (seccomp_enosys_prefix(s, st.default_action, archs, narchs, p, err) < 0)
		return -1;
	p->needs_notify = st.needs_notify;
	p->skipped_syscalls = st.skipped;
	*out = steal_ptr(&p);
	return 0;
}

int seccomp_compile(const struct oci_seccomp *s, struct seccomp_program **out,
                    struct skiff_error **err)
{
	return compile(s, true, out, err);
}

int seccomp_compile_whole(const struct oci_seccomp *s, struct seccomp_program **out,
                          struct skiff_error **err)
{
	return compile(s, false, out, err);
}

/* ---- features ---- */

/* Appends to a NULL-terminated list that starts as an empty one. */
static void strv_push(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

/* With a NULL program, the kernel validates the flags before it reads the
 * program: EFAULT means the flags passed, EINVAL that it does not know one. */
static bool kernel_accepts_flag(unsigned long flag)
{
	if (flag & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

static bool kernel_has_action(uint32_t action)
{
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
		return true;
	/* Kernels before 4.14 cannot tell; list what the spec defines. */
	return errno != EOPNOTSUPP;
}

int seccomp_get_features(struct oci_features_seccomp *f, struct skiff_error **err)
{
	const struct action_def *a = action_defs;
	const unsigned char *flag = flag_values;

	(void)err; /* probing cannot fail: a missing feature is just not listed */
	features_init(f, true);
	for (NAME_EACH(n, action_names))
		if (kernel_has_action((a++)->value))
			strv_push(&f->actions, n);
	for (NAME_EACH(n, op_names))
		strv_push(&f->operators, n);
	for (NAME_EACH(n, arch_names))
		if (resolve_arch(n) != 0)
			strv_push(&f->archs, n);
	for (NAME_EACH(n, flag_names)) {
		strv_push(&f->known_flags, n);
		if (kernel_accepts_flag(*flag++))
			strv_push(&f->supported_flags, n);
	}
	return 0;
}

#else /* !HAVE_SECCOMP */

#define NO_SECCOMP "seccomp requested but skiff was built without seccomp support"

int seccomp_compile(const struct oci_seccomp *s, struct seccomp_program **out,
                    struct skiff_error **err)
{
	(void)s, (void)out;
	return error_msg(err, NO_SECCOMP);
}

int seccomp_compile_whole(const struct oci_seccomp *s, struct seccomp_program **out,
                          struct skiff_error **err)
{
	return seccomp_compile(s, out, err);
}

int seccomp_get_features(struct oci_features_seccomp *f, struct skiff_error **err)
{
	(void)err;
	features_init(f, false);
	return 0;
}

#endif
