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
 *   argv = ["", PATH, ARGV0, ARGV1, ...]  ->  execve(PATH, [ARGV0, ...], envp)
 *
 * The empty argv[0] is the marker: the kernel makes a script's
 * interpreter argv[0] its (non-empty) path, so `#!/proc/self/exe` reaches
 * the refusal below, never a second exec.
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

__attribute__((noreturn, used)) void trampoline_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	long r;

	if (argc < 3 || argv[0] == 0 || argv[0][0] != '\0') {
		put("skiff-trampoline: refusing to run: not started by skiff\n");
		leave(126);
	}
	r = sys3(__NR_execve, (long)argv[1], (long)(argv + 2), (long)envp);
	/* The same line skiff prints when its own execve fails (log_error). */
	put("skiff: exec \"");
	put(argv[2]);
	put("\": ");
	put(error_text(-r));
	put("\n");
	leave(127);
}
