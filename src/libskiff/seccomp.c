/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- the vocabulary of linux.seccomp ---- */

struct action_def {
	const char *name;
	uint32_t value;   /* with 0 in the data bits */
	bool takes_errno; /* errnoRet goes in the data bits */
	unsigned int api; /* libseccomp API level (kernel support) it needs */
};

static const struct action_def action_defs[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false, 1},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false, 3},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false, 1},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false, 1},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true, 1},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true, 1},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false, 1},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false, 3},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false, 5},
};

struct op_def {
	const char *name;
	enum scmp_compare op;
};

static const struct op_def op_defs[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* The spec's names; libseccomp knows each as the lower-case suffix. */
static const char *const arch_names[] = {
    "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",     "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",   "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",         "SCMP_ARCH_PPC64",  "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",     "SCMP_ARCH_SH",          "SCMP_ARCH_SHEB",
};

struct flag_def {
	const char *name;
	unsigned int value;
};

static const struct flag_def flag_defs[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

#define ERRNO_RET_MAX 0xffff /* the data bits of a seccomp return value */

static int resolve_action(const char *name, bool has_errno, uint32_t errno_ret,
                          const char *action_field, const char *errno_field, uint32_t *out,
                          struct skiff_error **err)
{
	const struct action_def *def = NULL;

	if (name == NULL)
		return error_set(err, 0, "%s: missing", action_field);
	for (size_t i = 0; i < ARRAY_SIZE(action_defs) && def == NULL; i++)
		if (strcmp(action_defs[i].name, name) == 0)
			def = &action_defs[i];
	if (def == NULL)
		return error_set(err, 0, "%s: unknown action \"%s\"", action_field, name);
	/* libseccomp would refuse it with a bare EINVAL. */
	if (seccomp_api_get() < def->api)
		return error_set(err, 0,
		                 "%s: \"%s\" is not supported by this kernel (libseccomp API "
		                 "level %u, needs %u)",
		                 action_field, name, seccomp_api_get(), def->api);
	if (has_errno && !def->takes_errno)
		return error_set(err, 0, "%s: not allowed with action \"%s\"", errno_field, name);
	if (has_errno && errno_ret > ERRNO_RET_MAX)
		return error_set(err, 0, "%s: %u is out of range (0-%u)", errno_field, errno_ret,
		                 ERRNO_RET_MAX);
	*out = def->value;
	if (def->takes_errno)
		*out |= has_errno ? errno_ret : EPERM;
	return 0;
}

static uint32_t resolve_arch(const char *name)
{
	char lower[32];
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(arch_names); i++)
		if (strcmp(arch_names[i], name) == 0)
			break;
	if (i == ARRAY_SIZE(arch_names))
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
		size_t j;
		for (j = 0; j < ARRAY_SIZE(flag_defs); j++)
			if (strcmp(flag_defs[j].name, flags[i]) == 0)
				break;
		if (j == ARRAY_SIZE(flag_defs))
			return error_set(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
			                 flags[i]);
		*out |= flag_defs[j].value;
	}
	return 0;
}

static int add_archs(scmp_filter_ctx ctx, char **archs, struct skiff_error **err)
{
	for (size_t i = 0; archs && archs[i]; i++) {
		uint32_t token = resolve_arch(archs[i]);
		int rc;

		if (token == 0) {
			const struct scmp_version *v = seccomp_version();
			return error_set(err, 0,
			                 "linux.seccomp.architectures[%zu]: unknown architecture "
			                 "\"%s\" (libseccomp %u.%u.%u)",
			                 i, archs[i], v->major, v->minor, v->micro);
		}
		rc = seccomp_arch_add(ctx, token);
		if (rc < 0 && rc != -EEXIST) /* the native arch is already there */
			return error_set(err, -rc, "linux.seccomp.architectures[%zu]: add \"%s\"",
			                 i, archs[i]);
	}
	return 0;
}

/* ---- compiling ---- */

struct compile_state {
	scmp_filter_ctx ctx;
	uint32_t default_action;
	bool needs_notify;
	size_t skipped, named;
	char skipped_names[256]; /* the first few, for the debug line */
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
		size_t k;

		if (a->index > 5)
			return error_set(err, 0, "%s.args[%zu].index: %u is out of range (0-5)",
			                 path, j, a->index);
		if (a->op == NULL)
			return error_set(err, 0, "%s.args[%zu].op: missing", path, j);
		for (k = 0; k < ARRAY_SIZE(op_defs); k++)
			if (strcmp(op_defs[k].name, a->op) == 0)
				break;
		if (k == ARRAY_SIZE(op_defs))
			return error_set(err, 0, "%s.args[%zu].op: unknown operator \"%s\"", path,
			                 j, a->op);
		if (seen & (1u << a->index))
			*same_index = true;
		seen |= 1u << a->index;
		cmps[j] = (struct scmp_arg_cmp){
		    .arg = a->index,
		    .op = op_defs[k].op,
		    .datum_a = a->value,
		    .datum_b = op_defs[k].op == SCMP_CMP_MASKED_EQ ? a->value_two : 0,
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
		return error_set(err, 0, "%s.names: empty", path);
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
		int nr = seccomp_syscall_resolve_name(sc->names[n]);
		int rc;

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
	size_t len;
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
		return error_set(err, 0, "seccomp: libseccomp exported %zu bytes of BPF", len);
	if (len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return error_set(err, 0,
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

int seccomp_compile(const struct oci_seccomp *s, struct seccomp_program **out,
                    struct skiff_error **err)
{
	__attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = NULL;
	struct compile_state st = {0};
	__attribute__((cleanup(program_freep))) struct seccomp_program *p = xcalloc(1, sizeof(*p));
	int rc;

	if (resolve_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
	                   "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet",
	                   &st.default_action, err) < 0)
		return -1;
	if (st.default_action == SCMP_ACT_NOTIFY)
		return error_set(err, 0,
		                 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
		                 "default action");
	if (parse_flags(s->flags, &p->flags, err) < 0)
		return -1;
	ctx = seccomp_init(st.default_action);
	if (ctx == NULL)
		return error_set(err, ENOMEM, "seccomp: seccomp_init");
	/* skiff sets no_new_privs itself, from process.noNewPrivileges. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: clear SCMP_FLTATR_CTL_NNP");
	if (add_archs(ctx, s->architectures, err) < 0)
		return -1;
	st.ctx = ctx;
	for (size_t i = 0; i < s->syscalls_len; i++)
		if (add_syscall(&st, &s->syscalls[i], i, err) < 0)
			return -1;
	if (st.needs_notify && (s->listener_path == NULL || *s->listener_path == '\0'))
		return error_set(
		    err, 0, "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
	if (st.skipped) {
		const struct scmp_version *v = seccomp_version();
		log_debug(
		    "seccomp: skipped %zu syscall name(s) unknown to libseccomp %u.%u.%u: %s%s",
		    st.skipped, v->major, v->minor, v->micro, st.skipped_names,
		    st.named < st.skipped ? ", ..." : "");
	}
	if (export_bpf(ctx, p, err) < 0)
		return -1;
	p->needs_notify = st.needs_notify;
	p->skipped_syscalls = st.skipped;
	*out = steal_ptr(&p);
	return 0;
}

/* ---- the compiled-filter cache ----
 *
 * <cache_dir>/seccomp-<key hash>.bpf:
 *   struct cache_header | canonical key (key_len bytes) | insn_count struct sock_filter
 * in host byte order (the native arch is part of the key).  The whole key is
 * stored and compared, so a hash collision (even a crafted one: FNV is no
 * cryptographic hash) can only cost a recompile, never serve another
 * profile's filter.  The checksum catches torn and corrupted files; files are
 * not fsynced, since a lost entry only costs one compile.
 */

#define CACHE_MAGIC       "SKIFFBPF"
#define CACHE_VERSION     1
#define CACHE_MAX_ENTRIES 64
#define CACHE_MAX_KEY     (4u << 20)
#define CACHE_TMP_MAX_AGE 600 /* seconds before a leftover temp file is removed */

struct cache_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t key_hash;
	uint32_t key_len;
	uint32_t insn_count;
	uint32_t flags;
	uint32_t needs_notify;
	uint64_t skipped_syscalls;
	uint64_t checksum; /* FNV-1a 64 of header (this field 0) + key + insns */
};
_Static_assert(sizeof(struct cache_header) == 56, "cache header layout");

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

struct buf {
	unsigned char *data;
	size_t len, cap;
};

static void buf_freep(struct buf *b)
{
	free(b->data);
}

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	put(b, &v, sizeof(v));
}

static void put_u64(struct buf *b, uint64_t v)
{
	put(b, &v, sizeof(v));
}

/* Length-prefixed, so field boundaries are unambiguous; NULL differs from "". */
static void put_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		put_u32(b, UINT32_MAX);
		return;
	}
	put_u32(b, (uint32_t)strlen(s));
	put(b, s, strlen(s));
}

static void put_strv(struct buf *b, char **v)
{
	if (v == NULL) {
		put_u32(b, UINT32_MAX);
		return;
	}
	put_u32(b, (uint32_t)strv_len(v));
	for (size_t i = 0; v[i]; i++)
		put_str(b, v[i]);
}

/* Everything the result (or its validation) depends on, including the
 * compiler: the libseccomp version decides which syscall names are known. */
static void cache_key(const struct oci_seccomp *s, struct buf *b)
{
	const struct scmp_version *v = seccomp_version();

	put_str(b, "skiff seccomp key 1");
	put_u32(b, v->major);
	put_u32(b, v->minor);
	put_u32(b, v->micro);
	put_u32(b, seccomp_arch_native());
	/* The API level reflects what the running kernel supports (libseccomp
	 * refuses e.g. SCMP_ACT_KILL_PROCESS below level 3): a cache that
	 * outlives a kernel change must not serve a filter built for another. */
	put_u32(b, seccomp_api_get());
	put_str(b, s->default_action);
	put_u32(b, s->has_default_errno_ret);
	put_u32(b, s->default_errno_ret);
	put_strv(b, s->architectures);
	put_strv(b, s->flags);
	put_str(b, s->listener_path);
	put_str(b, s->listener_metadata);
	put_u64(b, s->syscalls_len);
	for (size_t i = 0; i < s->syscalls_len; i++) {
		const struct oci_seccomp_syscall *sc = &s->syscalls[i];
		put_strv(b, sc->names);
		put_str(b, sc->action);
		put_u32(b, sc->has_errno_ret);
		put_u32(b, sc->errno_ret);
		put_u64(b, sc->args_len);
		for (size_t j = 0; j < sc->args_len; j++) {
			put_u32(b, sc->args[j].index);
			put_u64(b, sc->args[j].value);
			put_u64(b, sc->args[j].value_two);
			put_str(b, sc->args[j].op);
		}
	}
}

static uint64_t cache_checksum(const struct cache_header *h, const void *key, const void *insns)
{
	struct cache_header copy = *h;
	uint64_t sum;

	copy.checksum = 0;
	sum = fnv1a(FNV_OFFSET, &copy, sizeof(copy));
	sum = fnv1a(sum, key, h->key_len);
	return fnv1a(sum, insns, (size_t)h->insn_count * sizeof(struct sock_filter));
}

/* A cache we do not own alone could hand us someone else's filter. */
static int check_private(int fd, const char *what, struct skiff_error **err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat %s", what);
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return error_set(err, 0, "`%s` is not private to uid %u", what,
		                 (unsigned)geteuid());
	return 0;
}

static int cache_open_dir(const char *dir, struct skiff_error **err)
{
	cleanup_close int fd = -1;

	if (mkdir_p(dir, 0700, err) < 0)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open `%s`", dir);
	if (check_private(fd, dir, err) < 0)
		return -1;
	return steal_fd(&fd);
}

static int cache_read(int dirfd, const char *name, const struct buf *key, uint64_t key_hash,
                      struct seccomp_program **out, struct skiff_error **err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	cleanup_free char *data = NULL;
	struct cache_header h;
	struct seccomp_program *p;
	struct stat st;
	size_t len;

	if (fd < 0)
		return error_errno(err, "open `%s`", name);
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat `%s`", name);
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(h) ||
	    st.st_size > (off_t)(sizeof(h) + CACHE_MAX_KEY + BPF_MAXINSNS * 8))
		return error_set(err, 0, "`%s`: not a cache file", name);
	if (check_private(fd, name, err) < 0)
		return -1;
	if (read_fd_all(fd, &data, &len, err) < 0)
		return error_wrap(err, "`%s`", name);
	if (len < sizeof(h))
		return error_set(err, 0, "`%s`: truncated header", name);
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.version != CACHE_VERSION ||
	    h.header_size != sizeof(h))
		return error_set(err, 0, "`%s`: bad magic or version", name);
	if (h.key_hash != key_hash || h.key_len != key->len)
		return error_set(err, 0, "`%s`: different key", name);
	if (h.insn_count == 0 || h.insn_count > BPF_MAXINSNS ||
	    len != sizeof(h) + h.key_len + (size_t)h.insn_count * sizeof(struct sock_filter))
		return error_set(err, 0, "`%s`: size %zu does not match its header", name, len);
	if (cache_checksum(&h, data + sizeof(h), data + sizeof(h) + h.key_len) != h.checksum)
		return error_set(err, 0, "`%s`: checksum mismatch", name);
	if (memcmp(data + sizeof(h), key->data, key->len) != 0)
		return error_set(err, 0, "`%s`: different key (hash collision)", name);

	p = xcalloc(1, sizeof(*p));
	p->len = h.insn_count;
	p->insns = xmalloc(p->len * sizeof(struct sock_filter));
	memcpy(p->insns, data + sizeof(h) + h.key_len, p->len * sizeof(struct sock_filter));
	p->flags = h.flags;
	p->needs_notify = h.needs_notify != 0;
	p->skipped_syscalls = h.skipped_syscalls;
	/* mtime tracks last use, for eviction. */
	futimens(fd, NULL);
	*out = p;
	return 0;
}

static int cache_write(int dirfd, const char *name, const struct buf *key, uint64_t key_hash,
                       const struct seccomp_program *p, struct skiff_error **err)
{
	__attribute__((cleanup(buf_freep))) struct buf file = {0};
	cleanup_free char *tmp = xasprintf(".%s.%d.tmp", name, (int)getpid());
	cleanup_close int fd = -1;
	struct cache_header h = {
	    .version = CACHE_VERSION,
	    .header_size = sizeof(h),
	    .key_hash = key_hash,
	    .key_len = (uint32_t)key->len,
	    .insn_count = (uint32_t)p->len,
	    .flags = p->flags,
	    .needs_notify = p->needs_notify,
	    .skipped_syscalls = p->skipped_syscalls,
	};

	if (key->len > CACHE_MAX_KEY)
		return error_set(err, 0, "profile too large to cache (%zu bytes)", key->len);
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	h.checksum = cache_checksum(&h, key->data, p->insns);
	put(&file, &h, sizeof(h));
	put(&file, key->data, key->len);
	put(&file, p->insns, p->len * sizeof(struct sock_filter));

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) { /* left by a dead process with our pid */
		unlinkat(dirfd, tmp, 0);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0)
		return error_errno(err, "create `%s`", tmp);
	if (write_all(fd, file.data, file.len) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		error_errno(err, "write `%s`", name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

struct cache_entry {
	char *name;
	struct timespec mtime;
};

static int entry_older(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Keeps the newest CACHE_MAX_ENTRIES filters (and never `keep`), and drops
 * temp files that crashed writers left behind. */
static void cache_evict(int dirfd, const char *keep)
{
	struct cache_entry *entries = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = dup(dirfd);
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (str_has_prefix(de->d_name, ".seccomp-") && str_has_suffix(de->d_name, ".tmp")) {
			if (st.st_mtime + CACHE_TMP_MAX_AGE < time(NULL))
				unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		if (!str_has_prefix(de->d_name, "seccomp-") || !str_has_suffix(de->d_name, ".bpf"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			entries = xrealloc(entries, cap * sizeof(*entries));
		}
		entries[n].name = xstrdup(de->d_name);
		entries[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	if (n > CACHE_MAX_ENTRIES) {
		size_t excess = n - CACHE_MAX_ENTRIES;
		qsort(entries, n, sizeof(*entries), entry_older);
		for (size_t i = 0; i < n && excess > 0; i++) {
			if (strcmp(entries[i].name, keep) == 0)
				continue;
			if (unlinkat(dirfd, entries[i].name, 0) == 0 || errno == ENOENT)
				excess--;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(entries[i].name);
	free(entries);
}

int seccomp_compile_cached(const struct oci_seccomp *s, const char *cache_dir,
                           struct seccomp_program **out, struct skiff_error **err)
{
	__attribute__((cleanup(buf_freep))) struct buf key = {0};
	struct skiff_error *cerr = NULL;
	cleanup_close int dirfd = -1;
	char name[64];
	uint64_t hash;

	if (cache_dir == NULL)
		return seccomp_compile(s, out, err);
	cache_key(s, &key);
	hash = fnv1a(FNV_OFFSET, key.data, key.len);
	snprintf(name, sizeof(name), "seccomp-%016llx.bpf", (unsigned long long)hash);

	dirfd = cache_open_dir(cache_dir, &cerr);
	if (dirfd >= 0 && cache_read(dirfd, name, &key, hash, out, &cerr) == 0) {
		log_debug("seccomp: cache hit %s/%s", cache_dir, name);
		return 0;
	}
	if (cerr) {
		log_debug("seccomp: cache miss: %s%s%s", cerr->msg, cerr->errnum ? ": " : "",
		          cerr->errnum ? strerror(cerr->errnum) : "");
		error_free(&cerr);
	}
	if (seccomp_compile(s, out, err) < 0)
		return -1;
	if (dirfd < 0)
		return 0;
	if (cache_write(dirfd, name, &key, hash, *out, &cerr) < 0) {
		log_debug("seccomp: cache not written: %s%s%s", cerr->msg, cerr->errnum ? ": " : "",
		          cerr->errnum ? strerror(cerr->errnum) : "");
		error_free(&cerr);
		return 0;
	}
	cache_evict(dirfd, name);
	return 0;
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
	(void)err; /* probing cannot fail: a missing feature is just not listed */
	features_init(f, true);
	for (size_t i = 0; i < ARRAY_SIZE(action_defs); i++)
		if (kernel_has_action(action_defs[i].value))
			strv_push(&f->actions, action_defs[i].name);
	for (size_t i = 0; i < ARRAY_SIZE(op_defs); i++)
		strv_push(&f->operators, op_defs[i].name);
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
		if (resolve_arch(arch_names[i]) != 0)
			strv_push(&f->archs, arch_names[i]);
	for (size_t i = 0; i < ARRAY_SIZE(flag_defs); i++) {
		strv_push(&f->known_flags, flag_defs[i].name);
		if (kernel_accepts_flag(flag_defs[i].value))
			strv_push(&f->supported_flags, flag_defs[i].name);
	}
	return 0;
}

#else /* !HAVE_SECCOMP */

#define NO_SECCOMP "seccomp requested but skiff was built without seccomp support"

int seccomp_compile(const struct oci_seccomp *s, struct seccomp_program **out,
                    struct skiff_error **err)
{
	(void)s, (void)out;
	return error_set(err, 0, NO_SECCOMP);
}

int seccomp_compile_cached(const struct oci_seccomp *s, const char *cache_dir,
                           struct seccomp_program **out, struct skiff_error **err)
{
	(void)s, (void)cache_dir, (void)out;
	return error_set(err, 0, NO_SECCOMP);
}

int seccomp_get_features(struct oci_features_seccomp *f, struct skiff_error **err)
{
	(void)err;
	features_init(f, false);
	return 0;
}

#endif
