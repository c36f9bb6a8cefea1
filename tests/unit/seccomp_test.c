/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linux.seccomp → BPF: translation, errors, the on-disk cache, and real loads in children. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "libskiff/log.h"
#include "libskiff/seccomp.h"
#include "libskiff/utils.h"
#include "tap.h"

#ifdef HAVE_SECCOMP
#include <seccomp.h>

#define ARG(i, o, v)                                                                               \
	{                                                                                          \
		.index = (i), .op = (o), .value = (v)                                              \
	}
#define ARG2(i, o, v, v2)                                                                          \
	{                                                                                          \
		.index = (i), .op = (o), .value = (v), .value_two = (v2)                           \
	}
#define NAMES(...) ((char *[]){__VA_ARGS__, NULL})
#define RULE(act, ...)                                                                             \
	{                                                                                          \
		.names = NAMES(__VA_ARGS__), .action = (act)                                       \
	}
#define RULE_ERRNO(e, ...)                                                                         \
	{                                                                                          \
		.names = NAMES(__VA_ARGS__), .action = "SCMP_ACT_ERRNO", .has_errno_ret = true,    \
		.errno_ret = (e)                                                                   \
	}

static struct oci_seccomp profile(const char *def, struct oci_seccomp_syscall *sc, size_t n)
{
	return (struct oci_seccomp){
	    .default_action = (char *)def, .syscalls = sc, .syscalls_len = n};
}

/* Compiles and returns the error message (valid until the next call), or NULL on success. */
static const char *compile_msg(const struct oci_seccomp *s)
{
	static char *msg;
	struct seccomp_program *p = NULL;
	struct skiff_error *err = NULL;

	free(msg);
	msg = NULL;
	if (seccomp_compile(s, &p, &err) == 0) {
		seccomp_program_free(p);
		return NULL;
	}
	msg = error_text(err);
	error_free(&err);
	return msg;
}

static bool same_program(const struct seccomp_program *a, const struct seccomp_program *b)
{
	return a && b && a->len == b->len && a->flags == b->flags &&
	       a->needs_notify == b->needs_notify &&
	       memcmp(a->insns, b->insns, a->len * sizeof(*a->insns)) == 0;
}

static void test_actions_and_operators(void)
{
	struct oci_seccomp_arg ops[] = {
	    ARG(0, "SCMP_CMP_NE", 1), ARG(1, "SCMP_CMP_LT", 2), ARG(2, "SCMP_CMP_LE", 3),
	    ARG(3, "SCMP_CMP_EQ", 4), ARG(4, "SCMP_CMP_GE", 5), ARG2(5, "SCMP_CMP_GT", 6, 0),
	};
	struct oci_seccomp_arg masked[] = {ARG2(0, "SCMP_CMP_MASKED_EQ", 0xff00, 0x0100)};
	struct oci_seccomp_syscall sc[] = {
	    RULE("SCMP_ACT_KILL", "getcwd"),
	    RULE("SCMP_ACT_KILL_PROCESS", "getppid"),
	    RULE("SCMP_ACT_KILL_THREAD", "getpgrp"),
	    RULE("SCMP_ACT_TRAP", "sync"),
	    RULE("SCMP_ACT_ERRNO", "chroot"),
	    RULE_ERRNO(ENOSYS, "pivot_root"),
	    {.names = NAMES("ptrace"),
	     .action = "SCMP_ACT_TRACE",
	     .has_errno_ret = true,
	     .errno_ret = 42},
	    RULE("SCMP_ACT_LOG", "uname"),
	    RULE("SCMP_ACT_NOTIFY", "mknod"),
	    {.names = NAMES("mmap"),
	     .action = "SCMP_ACT_ERRNO",
	     .args = ops,
	     .args_len = ARRAY_SIZE(ops)},
	    {.names = NAMES("clone"), .action = "SCMP_ACT_ERRNO", .args = masked, .args_len = 1},
	    RULE("SCMP_ACT_ALLOW", "read"), /* same as the default: skipped */
	};
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", sc, ARRAY_SIZE(sc));
	struct seccomp_program *p = NULL;
	struct skiff_error *err = NULL;

	s.listener_path = "/run/listener.sock";
	s.architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
	                        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
	s.flags = NAMES("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
	ok(seccomp_compile(&s, &p, &err) == 0, "every action, operator and flag compiles%s%s",
	   err ? ": " : "", err ? err->msg : "");
	ok(p && p->len > 20, "the program has instructions (%zu)", p ? p->len : 0);
	ok(p && p->needs_notify, "SCMP_ACT_NOTIFY asks for a listener");
	ok(p && p->flags == (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
	                     SECCOMP_FILTER_FLAG_SPEC_ALLOW | (1u << 5)),
	   "flags are the SECCOMP_FILTER_FLAG_* bits");
	seccomp_program_free(p);
	error_free(&err);

	s.default_action = "SCMP_ACT_ERRNO";
	s.has_default_errno_ret = true;
	s.default_errno_ret = ENOSYS;
	ok_str(compile_msg(&s), NULL, "defaultAction SCMP_ACT_ERRNO with defaultErrnoRet compiles");
}

static void test_errors(void)
{
	struct oci_seccomp_arg bad_op[] = {ARG(1, "SCMP_CMP_FOO", 0)};
	struct oci_seccomp_arg bad_index[] = {ARG(6, "SCMP_CMP_EQ", 0)};
	struct oci_seccomp_syscall sc[] = {
	    RULE("SCMP_ACT_ALLOW", "read"),
	    RULE("SCMP_ACT_ALLOW", "write"),
	    RULE("SCMP_ACT_ALLOW", "close"),
	    RULE("SCMP_ACT_FOO", "open"),
	};
	struct oci_seccomp s = profile("SCMP_ACT_ERRNO", sc, ARRAY_SIZE(sc));

	ok_str(compile_msg(&s), "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"",
	       "unknown action names its field");
	sc[3] = (struct oci_seccomp_syscall){
	    .names = NAMES("open"), .action = "SCMP_ACT_ALLOW", .args = bad_op, .args_len = 1};
	ok_str(compile_msg(&s),
	       "linux.seccomp.syscalls[3].args[0].op: unknown operator \"SCMP_CMP_FOO\"",
	       "unknown operator names its field");
	sc[3].args = bad_index;
	ok_str(compile_msg(&s), "linux.seccomp.syscalls[3].args[0].index: 6 is out of range (0-5)",
	       "arg index above 5 is rejected");
	sc[3] = (struct oci_seccomp_syscall){.names = NAMES("open"),
	                                     .action = "SCMP_ACT_ALLOW",
	                                     .has_errno_ret = true,
	                                     .errno_ret = 1};
	ok_str(compile_msg(&s),
	       "linux.seccomp.syscalls[3].errnoRet: not allowed with action \"SCMP_ACT_ALLOW\"",
	       "errnoRet with an action that takes none is rejected (the spec's MUST)");
	sc[3] = (struct oci_seccomp_syscall){.names = NULL, .action = "SCMP_ACT_ALLOW"};
	ok_str(compile_msg(&s), "linux.seccomp.syscalls[3].names: empty", "empty names rejected");
	sc[3] = (struct oci_seccomp_syscall)RULE("SCMP_ACT_NOTIFY", "open");
	ok_str(compile_msg(&s), "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used",
	       "SCMP_ACT_NOTIFY without listenerPath rejected");
	sc[3] = (struct oci_seccomp_syscall)RULE("SCMP_ACT_ALLOW", "open");
	ok_str(compile_msg(&s), NULL, "the fixed profile compiles");

	s.architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11");
	{
		const struct scmp_version *v = seccomp_version();
		cleanup_free char *want = xasprintf("linux.seccomp.architectures[1]: unknown "
		                                    "architecture \"SCMP_ARCH_PDP11\" (libseccomp "
		                                    "%u.%u.%u)",
		                                    v->major, v->minor, v->micro);
		ok_str(compile_msg(&s), want, "unknown architecture names its field");
	}
	s.architectures = NULL;
	s.flags = NAMES("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_BOGUS");
	ok_str(compile_msg(&s),
	       "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"",
	       "unknown flag names its field");
	s.flags = NULL;
	s.default_action = "SCMP_ACT_NOPE";
	ok_str(compile_msg(&s), "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"",
	       "unknown default action");
	s.default_action = NULL;
	ok_str(compile_msg(&s), "linux.seccomp.defaultAction: missing", "missing default action");
	s.default_action = "SCMP_ACT_NOTIFY";
	ok_str(compile_msg(&s),
	       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
	       "SCMP_ACT_NOTIFY as default rejected");
	s.default_action = "SCMP_ACT_KILL";
	s.has_default_errno_ret = true;
	ok_str(compile_msg(&s),
	       "linux.seccomp.defaultErrnoRet: not allowed with action \"SCMP_ACT_KILL\"",
	       "defaultErrnoRet with SCMP_ACT_KILL rejected");
	s.default_action = "SCMP_ACT_ERRNO";
	s.default_errno_ret = 70000;
	ok_str(compile_msg(&s), "linux.seccomp.defaultErrnoRet: 70000 is out of range (0-65535)",
	       "defaultErrnoRet above 16 bits rejected");
}

static void test_unknown_syscall_skipped(void)
{
	struct oci_seccomp_syscall sc[] = {
	    RULE_ERRNO(EPERM, "getcwd", "skiff_no_such_syscall", "another_fake_one"),
	};
	struct oci_seccomp_syscall known[] = {RULE_ERRNO(EPERM, "getcwd")};
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", sc, 1);
	struct oci_seccomp s2 = profile("SCMP_ACT_ALLOW", known, 1);
	struct seccomp_program *p = NULL, *p2 = NULL;
	struct skiff_error *err = NULL;

	ok(seccomp_compile(&s, &p, &err) == 0, "unknown syscall names do not fail the profile");
	ok(p && p->skipped_syscalls == 2, "both unknown names counted (%zu)",
	   p ? p->skipped_syscalls : 0);
	ok(seccomp_compile(&s2, &p2, &err) == 0 && same_program(p, p2),
	   "and they leave no trace in the program");
	seccomp_program_free(p);
	seccomp_program_free(p2);
	error_free(&err);
}

/* ---- the cache ---- */

static char *tmp_root;

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)) != NULL)
		if (str_has_prefix(de->d_name, "seccomp-"))
			n++;
	if (d)
		closedir(d);
	return n;
}

/* The one cache file's path (the test directories hold one at a time). */
static char *only_entry(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *path = NULL;

	while (d && (de = readdir(d)) != NULL)
		if (str_has_prefix(de->d_name, "seccomp-")) {
			free(path);
			path = xasprintf("%s/%s", dir, de->d_name);
		}
	if (d)
		closedir(d);
	return path;
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static struct seccomp_program *cached(const struct oci_seccomp *s, const char *dir)
{
	struct seccomp_program *p = NULL;
	struct skiff_error *err = NULL;

	if (seccomp_compile_cached(s, dir, &p, &err) < 0) {
		printf("# compile_cached: %s\n", err->msg);
		error_free(&err);
		return NULL;
	}
	return p;
}

static void corrupt(const char *path, off_t where, bool truncate_instead)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	unsigned char c;

	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	if (truncate_instead) {
		if (ftruncate(fd, st.st_size - 3) < 0)
			perror("ftruncate");
	} else {
		if (where < 0)
			where += st.st_size;
		if (pread(fd, &c, 1, where) == 1) {
			c ^= 0x40;
			if (pwrite(fd, &c, 1, where) != 1)
				perror("pwrite");
		}
	}
	close(fd);
}

/* Recomputes the header checksum (FNV-1a 64 of header with checksum 0, key, insns). */
static void fix_checksum(const char *path)
{
	cleanup_free char *data = NULL;
	uint64_t h = 0xcbf29ce484222325ULL, zero = 0;
	size_t len;
	int fd;

	if (read_file(path, &data, &len, NULL) < 0 || len < 56)
		return;
	memcpy(data + 48, &zero, 8);
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)data[i];
		h *= 0x100000001b3ULL;
	}
	fd = open(path, O_WRONLY);
	if (fd < 0 || pwrite(fd, &h, 8, 48) != 8)
		perror("fix_checksum");
	if (fd >= 0)
		close(fd);
}

static void test_cache(void)
{
	struct oci_seccomp_arg arg[] = {ARG(0, "SCMP_CMP_NE", 0xffffffff)};
	struct oci_seccomp_syscall sc[] = {
	    RULE_ERRNO(38, "getcwd"),
	    {.names = NAMES("personality"), .action = "SCMP_ACT_ERRNO", .args = arg, .args_len = 1},
	};
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", sc, ARRAY_SIZE(sc));
	cleanup_free char *dir = xasprintf("%s/cache/sub", tmp_root);
	cleanup_free char *file = NULL;
	struct seccomp_program *fresh = NULL, *p;
	struct skiff_error *err = NULL;
	struct stat st;
	ino_t ino;

	if (seccomp_compile(&s, &fresh, &err) < 0) {
		ok(0, "compile the cache test profile: %s", err->msg);
		return;
	}
	p = cached(&s, dir);
	ok(same_program(p, fresh), "miss: compiles the same program as seccomp_compile");
	seccomp_program_free(p);
	ok(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700, "cache dir created 0700 (%o)",
	   st.st_mode & 07777);
	file = only_entry(dir);
	ok(file && count_entries(dir) == 1, "miss: wrote one cache file (%s)", file);
	ok(file && stat(file, &st) == 0 && (st.st_mode & 07777) == 0600, "cache file is 0600");
	ok(file && st.st_size > (off_t)(56 + fresh->len * 8),
	   "file holds header, key and %zu insns", fresh->len);

	ino = inode_of(file);
	p = cached(&s, dir);
	ok(same_program(p, fresh), "hit: byte-identical program");
	ok(inode_of(file) == ino, "hit: served from the file (not rewritten)");
	seccomp_program_free(p);

	corrupt(file, -5, false); /* inside the last instruction */
	p = cached(&s, dir);
	ok(same_program(p, fresh), "flipped byte in the BPF: detected, recompiled correctly");
	ok(inode_of(file) != ino, "the bad entry was replaced");
	seccomp_program_free(p);

	ino = inode_of(file);
	corrupt(file, 70, false); /* inside the key */
	p = cached(&s, dir);
	ok(same_program(p, fresh) && inode_of(file) != ino, "flipped byte in the key: recompiled");
	seccomp_program_free(p);

	ino = inode_of(file);
	corrupt(file, 0, true);
	p = cached(&s, dir);
	ok(same_program(p, fresh) && inode_of(file) != ino, "truncated file: recompiled");
	seccomp_program_free(p);

	ino = inode_of(file);
	corrupt(file, 1, false); /* magic */
	p = cached(&s, dir);
	ok(same_program(p, fresh) && inode_of(file) != ino, "bad magic: recompiled");
	seccomp_program_free(p);

	/* A different key under the same name, with a valid checksum: what a
	 * hash collision looks like.  The stored key is compared in full. */
	ino = inode_of(file);
	corrupt(file, 70, false);
	fix_checksum(file);
	p = cached(&s, dir);
	ok(same_program(p, fresh) && inode_of(file) != ino,
	   "same hash, different key, valid checksum: recompiled");
	seccomp_program_free(p);

	ino = inode_of(file);
	chmod(file, 0666);
	p = cached(&s, dir);
	ok(same_program(p, fresh) && inode_of(file) != ino,
	   "a world-writable entry is not trusted");
	seccomp_program_free(p);

	sc[0].errno_ret = 39;
	p = cached(&s, dir);
	ok(p && !same_program(p, fresh), "a different profile gets a different program");
	ok(count_entries(dir) == 2, "... under a different key (%zu files)", count_entries(dir));
	seccomp_program_free(p);

	/* An invalid profile fails the same, cached or not. */
	sc[0].action = "SCMP_ACT_FOO";
	p = cached(&s, dir);
	ok(p == NULL, "an invalid profile is an error through the cache too");
	sc[0].action = "SCMP_ACT_ERRNO";

	/* Eviction keeps the cache bounded. */
	for (uint32_t e = 100; e < 100 + 70; e++) {
		sc[0].errno_ret = e;
		seccomp_program_free(cached(&s, dir));
	}
	ok(count_entries(dir) == 64, "eviction keeps 64 entries (%zu)", count_entries(dir));

	/* An unusable cache dir costs a compile, never the container. */
	{
		cleanup_free char *blocker = xasprintf("%s/not-a-dir", tmp_root);
		cleanup_free char *bad = xasprintf("%s/not-a-dir/cache", tmp_root);
		int fd = open(blocker, O_CREAT | O_WRONLY, 0600);
		if (fd >= 0)
			close(fd);
		sc[0].errno_ret = 38;
		p = cached(&s, bad);
		ok(same_program(p, fresh), "unusable cache dir: still compiles");
		seccomp_program_free(p);
	}
	seccomp_program_free(fresh);
}

/* ---- loading, in children ---- */

static int run_child(int (*fn)(void), int *status)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn());
	if (waitpid(pid, status, 0) != pid)
		return -1;
	return 0;
}

static int load_for_child(const struct oci_seccomp *s, int *notify_fd)
{
	struct seccomp_program *p = NULL;
	struct skiff_error *err = NULL;
	struct rlimit no_core = {0, 0};

	setrlimit(RLIMIT_CORE, &no_core);
	if (seccomp_compile(s, &p, &err) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	if (seccomp_program_load(p, notify_fd, &err) < 0) {
		fprintf(stderr, "# %s: %s\n", err->msg, strerror(err->errnum));
		return -1;
	}
	return 0;
}

enum {
	BAD_LOAD = 1 << 0,
	BAD_GETCWD = 1 << 1,
	BAD_PERSONALITY_QUERY = 1 << 2,
	BAD_PERSONALITY_SET = 1 << 3,
	BAD_SAME_INDEX = 1 << 4,
	BAD_AND = 1 << 5,
	BAD_OTHER = 1 << 6,
};

static int errno_child(void)
{
	struct oci_seccomp_arg pers[] = {ARG(0, "SCMP_CMP_NE", 0xffffffff)};
	struct oci_seccomp_arg prio[] = {ARG(0, "SCMP_CMP_EQ", PRIO_PROCESS),
	                                 ARG(0, "SCMP_CMP_EQ", PRIO_PGRP)};
	struct oci_seccomp_arg and[] = {ARG(0, "SCMP_CMP_EQ", PR_GET_DUMPABLE),
	                                ARG(1, "SCMP_CMP_EQ", 42)};
	struct oci_seccomp_syscall sc[] = {
	    RULE_ERRNO(38, "getcwd"),
	    {.names = NAMES("personality"),
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = 77,
	     .args = pers,
	     .args_len = 1},
	    {.names = NAMES("getpriority"),
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = 78,
	     .args = prio,
	     .args_len = 2},
	    {.names = NAMES("prctl"),
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = 79,
	     .args = and,
	     .args_len = 2},
	};
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", sc, ARRAY_SIZE(sc));
	char buf[256];
	int bad = 0;

	if (load_for_child(&s, NULL) < 0)
		return BAD_LOAD;
	errno = 0;
	if (syscall(SYS_getcwd, buf, sizeof(buf)) != -1 || errno != 38)
		bad |= BAD_GETCWD;
	errno = 0;
	if (syscall(SYS_personality, 0xffffffffUL) < 0)
		bad |= BAD_PERSONALITY_QUERY;
	errno = 0;
	if (syscall(SYS_personality, 0UL) != -1 || errno != 77)
		bad |= BAD_PERSONALITY_SET;
	/* Same index twice: ORed. */
	errno = 0;
	if (syscall(SYS_getpriority, PRIO_PROCESS, 0) != -1 || errno != 78)
		bad |= BAD_SAME_INDEX;
	errno = 0;
	if (syscall(SYS_getpriority, PRIO_PGRP, 0) != -1 || errno != 78)
		bad |= BAD_SAME_INDEX;
	errno = 0;
	if (syscall(SYS_getpriority, PRIO_USER, 0) < 0)
		bad |= BAD_SAME_INDEX;
	/* Distinct indexes: ANDed. */
	errno = 0;
	if (syscall(SYS_prctl, PR_GET_DUMPABLE, 42UL, 0UL, 0UL, 0UL) != -1 || errno != 79)
		bad |= BAD_AND;
	if (syscall(SYS_prctl, PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) < 0)
		bad |= BAD_AND;
	if (syscall(SYS_prctl, PR_GET_KEEPCAPS, 42UL, 0UL, 0UL, 0UL) < 0)
		bad |= BAD_AND;
	if (getpid() <= 0)
		bad |= BAD_OTHER;
	return bad;
}

static int kill_child(void)
{
	struct oci_seccomp_syscall sc[] = {RULE("SCMP_ACT_KILL_PROCESS", "getppid")};
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", sc, 1);

	if (load_for_child(&s, NULL) < 0)
		return 1;
	syscall(SYS_getppid);
	return 2; /* still alive */
}

static int notify_child(void)
{
	struct oci_seccomp_syscall sc[] = {RULE("SCMP_ACT_NOTIFY", "mknodat")};
	struct oci_seccomp s = profile("SCMP_ACT_ALLOW", sc, 1);
	int fd = -1;

	s.listener_path = "/unused";
	s.flags = NAMES("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
	if (load_for_child(&s, &fd) < 0)
		return 1;
	if (fd < 0)
		return 2;
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		return 3;
	return 0;
}

static void test_load(void)
{
	uint32_t allow = SECCOMP_RET_ALLOW;
	int status;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &allow) < 0 && errno == ENOSYS) {
		skip("the kernel has no seccomp(2) (or valgrind hides it)", "load filters");
		return;
	}

	if (run_child(errno_child, &status) < 0 || !WIFEXITED(status)) {
		ok(0, "errno child ran (status 0x%x)", status);
		return;
	}
	status = WEXITSTATUS(status);
	ok(!(status & BAD_LOAD), "child loaded the filter with no_new_privs");
	ok(!(status & BAD_GETCWD), "getcwd → SCMP_ACT_ERRNO errnoRet 38");
	ok(!(status & BAD_PERSONALITY_QUERY), "personality(0xffffffff) allowed (arg NE)");
	ok(!(status & BAD_PERSONALITY_SET), "personality(0) → errno 77");
	ok(!(status & BAD_SAME_INDEX), "two args on one index are ORed");
	ok(!(status & BAD_AND), "args on distinct indexes are ANDed");
	ok(!(status & BAD_OTHER), "other syscalls untouched");

	if (run_child(kill_child, &status) < 0)
		status = -1;
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	   "SCMP_ACT_KILL_PROCESS kills with SIGSYS (status 0x%x)", status);

	if (run_child(notify_child, &status) < 0)
		status = -1;
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "SCMP_ACT_NOTIFY + TSYNC + WAIT_KILLABLE_RECV returns a close-on-exec listener fd "
	   "(status 0x%x)",
	   status);
}

static void test_features(void)
{
	struct oci_features_seccomp f;
	struct skiff_error *err = NULL;
	bool allow = false, x86_64 = false, tsync = false;

	ok(seccomp_get_features(&f, &err) == 0 && f.has_enabled && f.enabled, "features: enabled");
	for (char **a = f.actions; a && *a; a++)
		allow |= strcmp(*a, "SCMP_ACT_ALLOW") == 0;
	for (char **a = f.archs; a && *a; a++)
		x86_64 |= strcmp(*a, "SCMP_ARCH_X86_64") == 0;
	for (char **a = f.supported_flags; a && *a; a++)
		tsync |= strcmp(*a, "SECCOMP_FILTER_FLAG_TSYNC") == 0;
	ok(allow && strv_len(f.actions) == 9, "features: all 9 actions on this kernel (%zu)",
	   strv_len(f.actions));
	ok(strv_len(f.operators) == 7, "features: 7 operators");
	ok(x86_64 || seccomp_arch_native() != SCMP_ARCH_X86_64, "features: archs has x86_64");
	ok(strv_len(f.known_flags) == 4, "features: 4 known flags");
	ok(tsync, "features: the kernel supports TSYNC (%zu supported)",
	   strv_len(f.supported_flags));
	errno = 0;
	ok(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 1UL << 20, NULL) < 0 && errno == EINVAL,
	   "the flag probe's premise: an unknown flag is EINVAL (a known one EFAULT)");
	printf("# supported flags:");
	for (char **a = f.supported_flags; a && *a; a++)
		printf(" %s", *a);
	printf("\n");
	seccomp_features_clear(&f);
}

/* ---- timing: a docker-sized profile ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void bench(void)
{
	enum { N = 300 };
	static struct oci_seccomp_syscall sc[N + 2];
	static char *names[N + 1][2];
	struct oci_seccomp_arg pers[] = {ARG(0, "SCMP_CMP_EQ", 0)};
	struct oci_seccomp_arg clone[] = {ARG2(0, "SCMP_CMP_MASKED_EQ", 0x7E020000, 0)};
	struct oci_seccomp s = profile("SCMP_ACT_ERRNO", sc, 0);
	cleanup_free char *dir = xasprintf("%s/bench", tmp_root);
	double compile[10], hit[50];
	size_t n = 0;
	int nr;

	/* The first N syscalls this arch has, each its own entry as docker's
	 * profile lists them. */
	for (nr = 0; n < N && nr < 1000; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (name == NULL)
			continue;
		if (strcmp(name, "personality") == 0 || strcmp(name, "clone") == 0) {
			free(name);
			continue;
		}
		names[n][0] = name;
		sc[n] = (struct oci_seccomp_syscall){.names = names[n], .action = "SCMP_ACT_ALLOW"};
		n++;
	}
	sc[n++] = (struct oci_seccomp_syscall){
	    .names = NAMES("personality"), .action = "SCMP_ACT_ALLOW", .args = pers, .args_len = 1};
	sc[n++] = (struct oci_seccomp_syscall){
	    .names = NAMES("clone"), .action = "SCMP_ACT_ALLOW", .args = clone, .args_len = 1};
	s.syscalls_len = n;
	s.architectures = NAMES("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");

	for (size_t i = 0; i < ARRAY_SIZE(compile); i++) {
		struct seccomp_program *p = NULL;
		double t = now_ms();
		if (seccomp_compile(&s, &p, NULL) < 0) {
			ok(0, "bench profile compiles");
			return;
		}
		compile[i] = now_ms() - t;
		if (i == 0)
			printf("# bench: %zu syscall entries, 3 archs → %zu instructions\n", n,
			       p->len);
		seccomp_program_free(p);
	}
	seccomp_program_free(cached(&s, dir)); /* fill */
	for (size_t i = 0; i < ARRAY_SIZE(hit); i++) {
		double t = now_ms();
		seccomp_program_free(cached(&s, dir));
		hit[i] = now_ms() - t;
	}
	qsort(compile, ARRAY_SIZE(compile), sizeof(double), cmp_double);
	qsort(hit, ARRAY_SIZE(hit), sizeof(double), cmp_double);
	printf("# bench: compile median %.2f ms (min %.2f), cache hit median %.3f ms (min %.3f)\n",
	       compile[ARRAY_SIZE(compile) / 2], compile[0], hit[ARRAY_SIZE(hit) / 2], hit[0]);
	for (size_t i = 0; i < n - 2; i++)
		free(names[i][0]);
}

static void cleanup_tmp(void)
{
	cleanup_free char *cmd = xasprintf("rm -rf '%s'", tmp_root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp_root);
}

int main(void)
{
	char tmpl[] = "/tmp/skiff-seccomp-test.XXXXXX";

	/* SKIFF_TEST_DEBUG=1 shows the cache's debug lines (hit, miss and why). */
	if (getenv("SKIFF_TEST_DEBUG"))
		log_init(NULL, "text", true, NULL);
	tmp_root = mkdtemp(tmpl);
	if (tmp_root == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_actions_and_operators();
	test_errors();
	test_unknown_syscall_skipped();
	test_cache();
	test_load();
	test_features();
	bench();
	cleanup_tmp();
	done_testing();
}

#else /* !HAVE_SECCOMP */

int main(void)
{
	struct oci_seccomp s = {.default_action = "SCMP_ACT_ALLOW"};
	struct seccomp_program *p = NULL;
	struct skiff_error *err = NULL;
	struct oci_features_seccomp f;

	ok(seccomp_compile(&s, &p, &err) < 0, "compile fails without libseccomp");
	ok_str(err ? err->msg : NULL,
	       "seccomp requested but skiff was built without seccomp support",
	       "with a clear message");
	error_free(&err);
	ok(seccomp_compile_cached(&s, "/tmp", &p, &err) < 0, "so does the cached compile");
	error_free(&err);
	ok(seccomp_get_features(&f, &err) == 0 && !f.enabled, "features: disabled");
	seccomp_features_clear(&f);
	done_testing();
}

#endif
