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
 *   argv = ["", STATUS, PATH, ARGV0, ...]  ->  execve(PATH, [ARGV0, ...], envp)
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
static long status_fd(const char *s)
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

__attribute__((noreturn, used)) void trampoline_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	long fd, r;
	int errnum;

	if (argc < 4 || argv[0] == 0 || argv[0][0] != '\0')
		refuse();
	fd = status_fd(argv[1]);
	/* Never left open to the program: a successful exec must close it. */
	if (fd == -2 || (fd >= 0 && sys3(__NR_fcntl, fd, F_SETFD, FD_CLOEXEC) < 0))
		refuse();
	r = sys3(__NR_execve, (long)argv[2], (long)(argv + 3), (long)envp);
	errnum = (int)-r;
	if (fd >= 0 && sys3(__NR_write, fd, (long)&errnum, sizeof(errnum)) == sizeof(errnum))
		leave(127);
	/* The same line skiff prints when its own execve fails (log_error). */
	put("skiff: exec \"");
	put(argv[3]);
	put("\": ");
	put(error_text(errnum));
	put("\n");
	leave(127);
}
