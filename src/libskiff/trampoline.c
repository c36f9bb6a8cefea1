/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * skiff-trampoline: the first program a container process executes.
 *
 * The container's init (and an exec'd process) is a clone of skiff, so a
 * direct execve of a script whose interpreter is `/proc/self/exe` would
 * run the host's skiff binary inside the container, where another process
 * could reopen it for writing through /proc/PID/exe (CVE-2019-5736).
 * skiff instead executes this program from a sealed memfd; from then on
 * /proc/self/exe is that memfd, and this program only execs the real one:
 *
 *   argv = ["", STATUS, FILTER, PATH, ARGV0, ...]  ->  execve(PATH, [ARGV0, ...], envp)
 *
 * The empty argv[0] is the marker: the kernel makes a script's
 * interpreter argv[0] its (non-empty) path, so `#!/proc/self/exe` reaches
 * the refusal below, never a second exec.
 *
 * STATUS is "-" or the number of an fd skiff left open for this exec
 * (process_exec's status_fd): it is made close-on-exec, so the program's
 * successful execve closes it (skiff reads EOF), and a failed one is
 * reported on it as the errno (an int) for skiff to print; only without
 * such an fd does the trampoline print the error itself.
 *
 * FILTER is "-" or the number of a memfd holding a seccomp filter
 * (seccomp_program_memfd: flags, count, instructions) that skiff could not
 * load itself without running its own last syscalls under it: the
 * trampoline reads it, closes it, loads it (no_new_privs is already set)
 * and makes no other syscall before its execve.  A failed load is reported
 * like a failed execve, with STAGE_SECCOMP or'ed into the errno.
 *
 * Built freestanding (no libc, raw syscalls) so it is a few hundred bytes
 * and costs almost nothing to exec; see mk/trampoline.am.
 */
#include <asm/unistd.h>

#define EPERM   1
#define ENOENT  2
#define E2BIG   7
#define ENOEXEC 8
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define ENOTDIR 20
#define EISDIR  21
#define EINVAL  22
#define ETXTBSY 26
#define ELOOP   40

#define F_SETFD    2
#define FD_CLOEXEC 1

#define SECCOMP_SET_MODE_FILTER 1
#define BPF_MAXINSNS            4096
#define STAGE_SECCOMP           0x10000 /* keep in sync with exec.c */

#if defined(__x86_64__)
static long sys3(long n, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(n), "D"(a), "S"(b), "d"(c)
	                 : "rcx", "r11", "memory");
	return ret;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "	xor %rbp, %rbp\n"
        "	mov %rsp, %rdi\n"
        "	and $-16, %rsp\n"
        "	call trampoline_main\n"
        "	hlt\n");
#elif defined(__aarch64__)
static long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "	mov x29, #0\n"
        "	mov x30, #0\n"
        "	mov x0, sp\n"
        "	bl trampoline_main\n"
        "	b .\n");
#else
#error "unsupported architecture: mk/trampoline.am builds this on x86_64 and aarch64 only"
#endif

static unsigned long str_len(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static void put(const char *s)
{
	sys3(__NR_write, 2, (long)s, (long)str_len(s));
}

/* The strerror(3) texts skiff itself would print for a failed execve. */
static const struct {
	long errnum;
	const char *text;
} error_texts[] = {
    {EPERM, "Operation not permitted"},
    {ENOENT, "No such file or directory"},
    {E2BIG, "Argument list too long"},
    {ENOEXEC, "Exec format error"},
    {ENOMEM, "Cannot allocate memory"},
    {EACCES, "Permission denied"},
    {EFAULT, "Bad address"},
    {ENOTDIR, "Not a directory"},
    {EISDIR, "Is a directory"},
    {EINVAL, "Invalid argument"},
    {ETXTBSY, "Text file busy"},
    {ELOOP, "Too many levels of symbolic links"},
};

static const char *error_text(long errnum)
{
	for (unsigned long i = 0; i < sizeof(error_texts) / sizeof(error_texts[0]); i++)
		if (error_texts[i].errnum == errnum)
			return error_texts[i].text;
	return "exec failed";
}

__attribute__((noreturn)) static void leave(int status)
{
	for (;;)
		sys3(__NR_exit_group, status, 0, 0);
}

__attribute__((noreturn)) static void refuse(void)
{
	put("skiff-trampoline: refusing to run: not started by skiff\n");
	leave(126);
}

/* "-": none; a decimal fd number; anything else: -2 (refused). */
static long fd_arg(const char *s)
{
	long fd = 0;

	if (s[0] == '-' && s[1] == '\0')
		return -1;
	if (s[0] == '\0')
		return -2;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || fd > 100000000)
			return -2;
		fd = fd * 10 + (*s - '0');
	}
	return fd;
}

struct bpf_insn {
	unsigned short code;
	unsigned char jt, jf;
	unsigned int k;
};

struct bpf_prog {
	unsigned short len;
	struct bpf_insn *filter;
};

/* The filter in memfd fd, loaded; 0 or -errno. */
static long load_filter(long fd)
{
	struct {
		unsigned int flags, count;
		struct bpf_insn insns[BPF_MAXINSNS];
	} buf;
	struct bpf_prog prog;
	unsigned long got = 0;
	long r;

	for (;;) {
		r = sys3(__NR_read, fd, (long)((char *)&buf + got), (long)(sizeof(buf) - got));
		if (r <= 0)
			break;
		got += (unsigned long)r;
	}
	sys3(__NR_close, fd, 0, 0);
	if (r < 0)
		return r;
	if (got < 8 || buf.count == 0 || buf.count > BPF_MAXINSNS ||
	    got != 8 + buf.count * sizeof(struct bpf_insn))
		return -EINVAL;
	prog.len = (unsigned short)buf.count;
	prog.filter = buf.insns;
	r = sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, buf.flags, (long)&prog);
	return r < 0 ? r : 0;
}

/* errnum on the status fd for skiff, else the line skiff would print. */
__attribute__((noreturn)) static void fail(long fd, int errnum, const char *what, const char *name)
{
	if (fd >= 0 && sys3(__NR_write, fd, (long)&errnum, sizeof(errnum)) == sizeof(errnum))
		leave(127);
	/* The same line skiff prints when its own execve fails (log_error). */
	put("skiff: ");
	put(what);
	if (name) {
		put(" \"");
		put(name);
		put("\"");
	}
	put(": ");
	put(error_text(errnum & ~STAGE_SECCOMP));
	put("\n");
	leave(127);
}

__attribute__((noreturn, used)) void trampoline_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	long fd, filter, r;

	if (argc < 5 || argv[0] == 0 || argv[0][0] != '\0')
		refuse();
	fd = fd_arg(argv[1]);
	filter = fd_arg(argv[2]);
	/* Never left open to the program: a successful exec must close it. */
	if (fd == -2 || filter == -2 || (fd >= 0 && sys3(__NR_fcntl, fd, F_SETFD, FD_CLOEXEC) < 0))
		refuse();
	/* From here on, nothing but the execve. */
	if (filter >= 0 && (r = load_filter(filter)) < 0)
		fail(fd, (int)-r | STAGE_SECCOMP, "load seccomp filter", 0);
	r = sys3(__NR_execve, (long)argv[3], (long)(argv + 4), (long)envp);
	fail(fd, (int)-r, "exec", argv[4]);
}
