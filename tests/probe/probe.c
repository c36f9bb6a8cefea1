/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe: a static helper copied into test containers as /bin/probe.  It
 * reports, as JSON on stdout, what the process sees from inside (ids,
 * capabilities, namespaces, mounts, limits...) and performs small actions
 * (open, write, mknod, syscalls, fork/memory pressure) so integration tests
 * assert on real behaviour.  Run `probe` without arguments for the list.
 *
 * Reports exit 0 even when the probed operation failed (the JSON says how);
 * exit 2 means bad usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <netinet/in.h>

extern char **environ;

/* ---- JSON writer: tracks whether a comma is due at each nesting level. ---- */

#define MAX_DEPTH 32
static int depth;
static int has_item[MAX_DEPTH];
static int after_key;

static void j_sep(void)
{
	if (after_key) {
		after_key = 0;
		return;
	}
	if (depth > 0 && has_item[depth])
		putchar(',');
	has_item[depth] = 1;
}

/* Length of a valid UTF-8 sequence at s, or 0 if the bytes are not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Writes a JSON string; bytes that are not UTF-8 come out as \u00XX. */
static void j_raw_str(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		size_t len;

		if (c == '"' || c == '\\') {
			putchar('\\');
			putchar(c);
		} else if (c == '\n') {
			fputs("\\n", stdout);
		} else if (c == '\t') {
			fputs("\\t", stdout);
		} else if (c == '\r') {
			fputs("\\r", stdout);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else if (c < 0x80) {
			putchar(c);
		} else if ((len = utf8_len(s + i, n - i)) > 0) {
			fwrite(s + i, 1, len, stdout);
			i += len - 1;
		} else {
			printf("\\u%04x", c);
		}
	}
	putchar('"');
}

static void j_key(const char *k)
{
	j_sep();
	j_raw_str(k, strlen(k));
	putchar(':');
	after_key = 1;
}

static void j_open(char c)
{
	j_sep();
	putchar(c);
	if (depth < MAX_DEPTH - 1)
		depth++;
	has_item[depth] = 0;
}

static void j_close(char c)
{
	depth--;
	putchar(c);
	if (depth == 0)
		putchar('\n');
}

#define j_obj()  j_open('{')
#define j_end()  j_close('}')
#define j_arr()  j_open('[')
#define j_aend() j_close(']')

static void j_strn(const char *s, size_t n)
{
	j_sep();
	j_raw_str(s, n);
}
static void j_null(void)
{
	j_sep();
	fputs("null", stdout);
}
static void j_str(const char *s)
{
	if (s)
		j_strn(s, strlen(s));
	else
		j_null();
}
static void j_int(long long v)
{
	j_sep();
	printf("%lld", v);
}
static void j_uint(unsigned long long v)
{
	j_sep();
	printf("%llu", v);
}
static void j_bool(int v)
{
	j_sep();
	fputs(v ? "true" : "false", stdout);
}

/* "ok", "errno" and "error" for an operation that set errno on failure. */
static void j_result(int ok, int err)
{
	j_key("ok");
	j_bool(ok);
	j_key("errno");
	j_int(ok ? 0 : err);
	j_key("error");
	j_str(ok ? NULL : strerror(err));
}

/* ---- small helpers ---- */

/* Reads a whole file (up to 64 MiB), NUL-terminated; NULL with errno set. */
static char *read_all(const char *path, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		ssize_t r;

		if (len + 1 >= cap) {
			char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (r == 0)
			break;
		len += r;
	}
	err = errno;
	close(fd);
	errno = err;
	if (buf) {
		buf[len] = '\0';
		if (lenp)
			*lenp = len;
	}
	return buf;
}

/* The value of "Key:" in /proc/self/status, malloc'd, or NULL. */
static char *status_field(const char *key)
{
	char *buf = read_all("/proc/self/status", NULL), *line, *val = NULL;
	size_t klen = strlen(key);

	for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1, *end;

			v += strspn(v, " \t");
			end = strchr(v, '\n');
			val = end ? strndup(v, end - v) : strdup(v);
			break;
		}
	}
	free(buf);
	return val;
}

static void j_status_int(const char *key)
{
	char *v = status_field(key);

	if (v)
		j_int(strtoll(v, NULL, 10));
	else
		j_null();
	free(v);
}

/* A file's content with trailing newlines and NULs dropped, or null. */
static void j_file_trimmed(const char *path)
{
	size_t len;
	char *buf = read_all(path, &len);

	if (!buf) {
		j_null();
		return;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		len--;
	j_strn(buf, len);
	free(buf);
}

static int parse_int(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 0);
	return errno == 0 && end != s && *end == '\0';
}

/* ---- capabilities ---- */

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define N_CAP_NAMES (int)(sizeof(cap_names) / sizeof(cap_names[0]))

static void s_caps(void)
{
	static const char *const sets[][2] = {
	    {"bounding", "CapBnd"},  {"effective", "CapEff"}, {"inheritable", "CapInh"},
	    {"permitted", "CapPrm"}, {"ambient", "CapAmb"},
	};

	j_obj();
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		char *hex = status_field(sets[i][1]);
		unsigned long long mask;

		j_key(sets[i][0]);
		if (!hex) {
			j_null();
			continue;
		}
		mask = strtoull(hex, NULL, 16);
		j_obj();
		j_key("hex");
		j_str(hex);
		j_key("names");
		j_arr();
		for (int bit = 0; bit < 64; bit++) {
			char name[16];

			if (!(mask & (1ULL << bit)))
				continue;
			if (bit < N_CAP_NAMES) {
				j_str(cap_names[bit]);
			} else {
				snprintf(name, sizeof(name), "CAP_%d", bit);
				j_str(name);
			}
		}
		j_aend();
		j_end();
		free(hex);
	}
	j_end();
}

/* ---- sections of `probe all`; each writes one JSON value ---- */

static void s_pid(void)
{
	j_int(getpid());
}
static void s_ppid(void)
{
	j_int(getppid());
}
static void s_uid(void)
{
	j_int(getuid());
}
static void s_gid(void)
{
	j_int(getgid());
}
static void s_euid(void)
{
	j_int(geteuid());
}
static void s_egid(void)
{
	j_int(getegid());
}

static void s_suid(void)
{
	uid_t r, e, s;

	if (getresuid(&r, &e, &s) == 0)
		j_int(s);
	else
		j_null();
}

static void s_sgid(void)
{
	gid_t r, e, s;

	if (getresgid(&r, &e, &s) == 0)
		j_int(s);
	else
		j_null();
}

static void s_groups(void)
{
	int n = getgroups(0, NULL);
	gid_t *g = malloc(sizeof(gid_t) * (n > 0 ? n : 1));

	j_arr();
	if (g && n > 0)
		n = getgroups(n, g);
	for (int i = 0; g && i < n; i++)
		j_int(g[i]);
	j_aend();
	free(g);
}

static void s_no_new_privs(void)
{
	int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	if (r < 0)
		j_null();
	else
		j_bool(r);
}

static void s_seccomp(void)
{
	j_status_int("Seccomp");
}
static void s_seccomp_filters(void)
{
	j_status_int("Seccomp_filters");
}

static void s_rlimits(void)
{
	static const struct {
		const char *name;
		int res;
	} lim[] = {
	    {"RLIMIT_AS", RLIMIT_AS},
	    {"RLIMIT_CORE", RLIMIT_CORE},
	    {"RLIMIT_CPU", RLIMIT_CPU},
	    {"RLIMIT_DATA", RLIMIT_DATA},
	    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
	    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	    {"RLIMIT_NICE", RLIMIT_NICE},
	    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	    {"RLIMIT_NPROC", RLIMIT_NPROC},
	    {"RLIMIT_RSS", RLIMIT_RSS},
	    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	    {"RLIMIT_STACK", RLIMIT_STACK},
	};

	j_obj();
	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		struct rlimit rl;

		j_key(lim[i].name);
		if (getrlimit(lim[i].res, &rl) < 0) {
			j_null();
			continue;
		}
		j_obj();
		j_key("soft");
		if (rl.rlim_cur == RLIM_INFINITY)
			j_int(-1);
		else
			j_uint(rl.rlim_cur);
		j_key("hard");
		if (rl.rlim_max == RLIM_INFINITY)
			j_int(-1);
		else
			j_uint(rl.rlim_max);
		j_end();
	}
	j_end();
}

static void s_cwd(void)
{
	char buf[PATH_MAX + 1];

	j_str(getcwd(buf, sizeof(buf)));
}

static void s_env(void)
{
	j_arr();
	for (char **e = environ; e && *e; e++)
		j_str(*e);
	j_aend();
}

static void s_umask(void)
{
	char *v = status_field("Umask");
	char buf[8];

	if (!v) { /* kernels before 4.7: read it by setting it */
		mode_t m = umask(0);

		umask(m);
		snprintf(buf, sizeof(buf), "%04o", (unsigned)m);
		j_str(buf);
		return;
	}
	j_str(v);
	free(v);
}

static void s_hostname(void)
{
	struct utsname u;

	j_str(uname(&u) == 0 ? u.nodename : NULL);
}

static void s_domainname(void)
{
	struct utsname u;

	j_str(uname(&u) == 0 ? u.domainname : NULL);
}

static void s_oom_score_adj(void)
{
	char *v = read_all("/proc/self/oom_score_adj", NULL);

	if (v)
		j_int(strtoll(v, NULL, 10));
	else
		j_null();
	free(v);
}

/* The session keyring: KEYCTL_DESCRIBE of @s ("type;uid;gid;perm;name"), null without one. */
static void s_keyring(void)
{
	char buf[512];
	long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, -3 /* @s */, buf, sizeof(buf), 0);

	if (n < 0) {
		j_null();
		return;
	}
	buf[sizeof(buf) - 1] = '\0';
	j_str(buf);
}

/* Every open fd -> its target, except the directory used to list them. */
static void s_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	j_obj();
	while (d && (de = readdir(d))) {
		char target[PATH_MAX + 1];
		ssize_t n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		j_key(de->d_name);
		if (n < 0)
			j_null();
		else
			j_strn(target, n);
	}
	if (d)
		closedir(d);
	j_end();
}

static void s_tty(void)
{
	struct winsize ws;
	int fd;

	j_obj();
	j_key("stdin");
	j_bool(isatty(0));
	j_key("stdout");
	j_bool(isatty(1));
	j_key("stderr");
	j_bool(isatty(2));
	j_key("ttyname");
	j_str(ttyname(0));
	/* /dev/tty opens only with a controlling terminal */
	fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	j_key("controlling");
	j_bool(fd >= 0);
	if (fd >= 0)
		close(fd);
	j_key("size");
	if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
		j_obj();
		j_key("rows");
		j_int(ws.ws_row);
		j_key("cols");
		j_int(ws.ws_col);
		j_end();
	} else {
		j_null();
	}
	j_end();
}

/* The kernel's struct sched_attr (glibc before 2.41 lacks it). */
struct probe_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

static const char *policy_name(int p)
{
	static const char *const names[] = {
	    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
	    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
	};

	return p >= 0 && p < 7 ? names[p] : "unknown";
}

static void s_sched(void)
{
	struct probe_sched_attr a;
	struct sched_param sp;
	int pol;

	j_obj();
	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) == 0) {
		j_key("policy");
		j_str(policy_name(a.policy));
		j_key("nice");
		j_int(a.nice);
		j_key("priority");
		j_int(a.priority);
		j_key("flags");
		j_uint(a.flags);
		j_key("runtime");
		j_uint(a.runtime);
		j_key("deadline");
		j_uint(a.deadline);
		j_key("period");
		j_uint(a.period);
	} else { /* old kernel: the classic calls */
		pol = sched_getscheduler(0);
		j_key("policy");
		j_str(pol < 0 ? NULL : policy_name(pol & ~SCHED_RESET_ON_FORK));
		errno = 0;
		j_key("nice");
		j_int(getpriority(PRIO_PROCESS, 0));
		j_key("priority");
		if (sched_getparam(0, &sp) == 0)
			j_int(sp.sched_priority);
		else
			j_null();
	}
	j_end();
}

static void s_ioprio(void)
{
	static const char *const classes[] = {
	    "IOPRIO_CLASS_NONE",
	    "IOPRIO_CLASS_RT",
	    "IOPRIO_CLASS_BE",
	    "IOPRIO_CLASS_IDLE",
	};
	long r = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);

	if (r < 0) {
		j_null();
		return;
	}
	j_obj();
	j_key("raw");
	j_int(r);
	j_key("class");
	j_int(r >> 13);
	j_key("class_name");
	j_str((r >> 13) < 4 ? classes[r >> 13] : "unknown");
	j_key("level");
	j_int(r & 0x1fff);
	j_end();
}

static void s_personality(void)
{
	j_int(personality(0xffffffff));
}

static void s_cpus_allowed(void)
{
	cpu_set_t set;
	char buf[4096] = "";
	size_t len = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		j_null();
		return;
	}
	/* ranges like "0-3,6" */
	for (int c = 0; c < CPU_SETSIZE && len < sizeof(buf) - 32; c++) {
		int end = c;

		if (!CPU_ISSET(c, &set))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, &set))
			end++;
		len += snprintf(buf + len, sizeof(buf) - len, len ? ",%d" : "%d", c);
		if (end > c)
			len += snprintf(buf + len, sizeof(buf) - len, "-%d", end);
		c = end;
	}
	j_str(buf);
}

static void s_mems_allowed(void)
{
	char *v = status_field("Mems_allowed_list");

	j_str(v);
	free(v);
}

static void s_ns(void)
{
	static const char *const names[] = {
	    "pid",
	    "net",
	    "mnt",
	    "ipc",
	    "uts",
	    "user",
	    "cgroup",
	    "time",
	    "pid_for_children",
	    "time_for_children",
	};

	j_obj();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64];
		struct stat st;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
		j_key(names[i]);
		if (stat(path, &st) == 0)
			j_uint(st.st_ino);
		else
			j_null();
	}
	j_end();
}

static void s_cgroup(void)
{
	char *v = read_all("/proc/self/cgroup", NULL);

	j_str(v);
	free(v);
}

static void s_label(void)
{
	j_file_trimmed("/proc/self/attr/current");
}
static void s_apparmor(void)
{
	j_file_trimmed("/proc/self/attr/apparmor/current");
}

/* Unescapes mountinfo's \NNN octal escapes in place. */
static char *unoctal(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

static void s_mountinfo(void)
{
	char *buf = read_all("/proc/self/mountinfo", NULL), *save = NULL, *line;

	if (!buf) {
		j_null();
		return;
	}
	j_arr();
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[64], *sp = NULL, *tok;
		int n = 0, dash = -1;
		unsigned maj = 0, min = 0;

		for (tok = strtok_r(line, " ", &sp); tok && n < 64;
		     tok = strtok_r(NULL, " ", &sp)) {
			if (dash < 0 && n >= 6 && strcmp(tok, "-") == 0)
				dash = n;
			f[n++] = tok;
		}
		/* id parent maj:min root mount_point options [optional...] - type source super */
		if (dash < 0 || n < dash + 3)
			continue;
		sscanf(f[2], "%u:%u", &maj, &min);
		j_obj();
		j_key("id");
		j_int(atoll(f[0]));
		j_key("parent");
		j_int(atoll(f[1]));
		j_key("major");
		j_int(maj);
		j_key("minor");
		j_int(min);
		j_key("root");
		j_str(unoctal(f[3]));
		j_key("mount_point");
		j_str(unoctal(f[4]));
		j_key("options");
		j_str(f[5]);
		j_key("propagation");
		j_arr();
		for (int i = 6; i < dash; i++)
			j_str(f[i]);
		j_aend();
		j_key("fs_type");
		j_str(f[dash + 1]);
		j_key("source");
		j_str(unoctal(f[dash + 2]));
		j_key("super_options");
		j_str(n > dash + 3 ? f[dash + 3] : "");
		j_end();
	}
	j_aend();
	free(buf);
}

struct section {
	const char *name;
	void (*emit)(void);
	int in_all;
};

static const struct section sections[] = {
    {"pid", s_pid, 1},
    {"ppid", s_ppid, 1},
    {"uid", s_uid, 1},
    {"gid", s_gid, 1},
    {"euid", s_euid, 1},
    {"egid", s_egid, 1},
    {"suid", s_suid, 1},
    {"sgid", s_sgid, 1},
    {"groups", s_groups, 1},
    {"caps", s_caps, 1},
    {"no_new_privs", s_no_new_privs, 1},
    {"seccomp", s_seccomp, 1},
    {"seccomp_filters", s_seccomp_filters, 1},
    {"rlimits", s_rlimits, 1},
    {"cwd", s_cwd, 1},
    {"env", s_env, 1},
    {"umask", s_umask, 1},
    {"hostname", s_hostname, 1},
    {"domainname", s_domainname, 1},
    {"oom_score_adj", s_oom_score_adj, 1},
    {"fds", s_fds, 1},
    {"tty", s_tty, 1},
    {"sched", s_sched, 1},
    {"ioprio", s_ioprio, 1},
    {"personality", s_personality, 1},
    {"cpus_allowed", s_cpus_allowed, 1},
    {"mems_allowed", s_mems_allowed, 1},
    {"ns", s_ns, 1},
    {"cgroup", s_cgroup, 1},
    {"label", s_label, 1},
    {"apparmor", s_apparmor, 1},
    {"keyring", s_keyring, 0},     /* names the container id: not in `all` */
    {"mountinfo", s_mountinfo, 0}, /* large: only on its own */
};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

/* Groups of sections reported together under one subcommand. */
static const struct {
	const char *name;
	const char *members[8];
} groups[] = {
    {"ids", {"uid", "gid", "euid", "egid", "suid", "sgid", "groups", NULL}},
};

static const struct section *find_section(const char *name)
{
	for (size_t i = 0; i < N_SECTIONS; i++)
		if (strcmp(sections[i].name, name) == 0)
			return &sections[i];
	return NULL;
}

static void emit_section(const struct section *s)
{
	j_key(s->name);
	s->emit();
}

/* ---- action subcommands; each gets the arguments after its name ---- */

static int c_open(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "r";
	int flags, fd;

	if (strcmp(mode, "r") == 0)
		flags = O_RDONLY;
	else if (strcmp(mode, "w") == 0)
		flags = O_WRONLY;
	else if (strcmp(mode, "rw") == 0)
		flags = O_RDWR;
	else
		return 2;
	fd = open(argv[0], flags | O_NOCTTY | O_CLOEXEC);
	j_obj();
	j_key("path");
	j_str(argv[0]);
	j_key("mode");
	j_str(mode);
	j_result(fd >= 0, errno);
	j_end();
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Creates or truncates PATH and writes DATA to it. */
static int c_write(int argc, char **argv)
{
	size_t len = strlen(argv[1]);
	ssize_t n = -1;
	int fd, err;

	(void)argc;
	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd >= 0)
		n = write(fd, argv[1], len);
	err = errno;
	if (fd >= 0 && close(fd) < 0 && n >= 0) {
		n = -1;
		err = errno;
	}
	j_obj();
	j_key("path");
	j_str(argv[0]);
	j_result(n >= 0, err);
	j_key("written");
	j_int(n >= 0 ? n : 0);
	j_end();
	return 0;
}

static int c_read(int argc, char **argv)
{
	size_t len = 0;
	char *buf = read_all(argv[0], &len);

	(void)argc;
	j_obj();
	j_key("path");
	j_str(argv[0]);
	j_result(buf != NULL, errno);
	j_key("content");
	if (buf)
		j_strn(buf, len);
	else
		j_null();
	j_end();
	free(buf);
	return 0;
}

static const char *file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "char";
	case S_IFBLK:
		return "block";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	}
	return "unknown";
}

static int do_stat(const char *path, int follow)
{
	struct stat st;
	int r = follow ? stat(path, &st) : lstat(path, &st);
	char mode[8];

	j_obj();
	j_key("path");
	j_str(path);
	j_result(r == 0, errno);
	if (r == 0) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
		j_key("type");
		j_str(file_type(st.st_mode));
		j_key("mode");
		j_str(mode);
		j_key("uid");
		j_int(st.st_uid);
		j_key("gid");
		j_int(st.st_gid);
		j_key("size");
		j_int(st.st_size);
		j_key("ino");
		j_uint(st.st_ino);
		j_key("nlink");
		j_uint(st.st_nlink);
		/* the device a node stands for; 0:0 for other files */
		j_key("major");
		j_uint(major(st.st_rdev));
		j_key("minor");
		j_uint(minor(st.st_rdev));
	}
	j_end();
	return 0;
}

static int c_stat(int argc, char **argv)
{
	(void)argc;
	return do_stat(argv[0], 1);
}
static int c_lstat(int argc, char **argv)
{
	(void)argc;
	return do_stat(argv[0], 0);
}

static int c_mknod(int argc, char **argv)
{
	int r = mknod(argv[0], S_IFCHR | 0666, makedev(1, 3));

	(void)argc;
	j_obj();
	j_key("path");
	j_str(argv[0]);
	j_result(r == 0, errno);
	j_end();
	return 0;
}

static int c_readlink(int argc, char **argv)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlink(argv[0], buf, sizeof(buf) - 1);

	(void)argc;
	j_obj();
	j_key("path");
	j_str(argv[0]);
	j_result(n >= 0, errno);
	j_key("target");
	if (n >= 0)
		j_strn(buf, n);
	else
		j_null();
	j_end();
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int c_ls(int argc, char **argv)
{
	DIR *d = opendir(argv[0]);
	int err = errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	(void)argc;
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, sizeof(*names) * (cap = cap ? cap * 2 : 64));

			if (!nn)
				break;
			names = nn;
		}
		names[n++] = strdup(de->d_name);
	}
	qsort(names, n, sizeof(*names), cmp_str);
	j_obj();
	j_key("path");
	j_str(argv[0]);
	j_result(d != NULL, err);
	j_key("entries");
	if (d) {
		j_arr();
		for (size_t i = 0; i < n; i++)
			j_str(names[i]);
		j_aend();
		closedir(d);
	} else {
		j_null();
	}
	j_end();
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

static int c_exit(int argc, char **argv)
{
	long long n;

	(void)argc;
	if (!parse_int(argv[0], &n))
		return 2;
	fflush(stdout);
	exit((int)n);
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

/* A signal given as a number, "TERM" or "SIGTERM"; -1 if unknown. */
static int parse_signal(const char *s)
{
	long long n;

	if (parse_int(s, &n))
		return n > 0 && n < NSIG ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].sig;
	return -1;
}

/*
 * Sends SIG to itself.  A container's init ignores signals it has no handler
 * for, so SEGV falls back to a real fault, which the kernel always delivers.
 * If the probe survives, it says so and exits 0.
 */
static int c_kill_self(int argc, char **argv)
{
	int sig = parse_signal(argv[0]);

	(void)argc;
	if (sig < 0)
		return 2;
	fflush(stdout);
	kill(getpid(), sig);
	if (sig == SIGSEGV) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)(uintptr_t)0 = 0;
	}
	j_obj();
	j_key("pid");
	j_int(getpid());
	j_key("signal");
	j_int(sig);
	j_key("survived");
	j_bool(1);
	j_end();
	return 0;
}

/* As pid 1, SIGTERM/SIGINT without a handler are ignored: exit like a shell would. */
static void on_term(int sig)
{
	_exit(128 + sig);
}

static void handle_term(void)
{
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
}

static void sleep_for(double secs)
{
	struct timespec ts;

	if (isinf(secs) || secs < 0) {
		for (;;)
			pause();
	}
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Prints {"pid":N}, then sleeps SECONDS ("inf" or negative: forever). */
static int c_sleep(int argc, char **argv)
{
	char *end;
	double secs = strtod(argv[0], &end);

	(void)argc;
	if (end == argv[0] || *end)
		return 2;
	handle_term();
	j_obj();
	j_key("pid");
	j_int(getpid());
	j_end();
	fflush(stdout);
	sleep_for(secs);
	return 0;
}

/*
 * The racer of the mount-race escapes (CVE-2024-45310, CVE-2019-19921): exchanges
 * A and B (a directory and a symlink) with renameat2(RENAME_EXCHANGE) for SECONDS,
 * then prints how many swaps it made.
 */
static int c_swap(int argc, char **argv)
{
	char *end;
	double secs = strtod(argv[2], &end);
	struct timespec t0, now;
	long long swaps = 0;

	(void)argc;
	if (end == argv[2] || *end)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 256; i++, swaps++)
			if (syscall(SYS_renameat2, AT_FDCWD, argv[0], AT_FDCWD, argv[1],
			            RENAME_EXCHANGE) < 0) {
				int e = errno;
				j_obj();
				j_result(0, e);
				j_key("swaps");
				j_int(swaps);
				j_end();
				return 1;
			}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	j_obj();
	j_result(1, 0);
	j_key("swaps");
	j_int(swaps);
	j_end();
	return 0;
}

/* Prints 1, 2, 3... one a line every 100 ms (up to MAX if given). */
static int c_count(int argc, char **argv)
{
	long long max = -1;

	if (argc > 0 && !parse_int(argv[0], &max))
		return 2;
	handle_term();
	for (long long i = 1; max < 0 || i <= max; i++) {
		printf("%lld\n", i);
		fflush(stdout);
		sleep_for(0.1);
	}
	return 0;
}

/* Maps and touches MB mebibytes one at a time, a line of progress each. */
static int c_memhog(int argc, char **argv)
{
	long long mb;

	(void)argc;
	if (!parse_int(argv[0], &mb) || mb < 0)
		return 2;
	for (long long i = 1; i <= mb; i++) {
		char *p =
		    mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			j_obj();
			j_key("mb");
			j_int(i - 1);
			j_key("done");
			j_bool(0);
			j_result(0, errno);
			j_end();
			return 1;
		}
		memset(p, 0x5a, 1 << 20);
		j_obj();
		j_key("mb");
		j_int(i);
		j_end();
		fflush(stdout);
	}
	j_obj();
	j_key("mb");
	j_int(mb);
	j_key("done");
	j_bool(1);
	j_end();
	return 0;
}

static sigjmp_buf hugetlb_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(hugetlb_jmp, 1);
}

/*
 * Maps N 2 MB huge pages and touches them in order; prints how many it could
 * touch.  A hugetlb cgroup limit shows as SIGBUS at the first page over it.
 */
static int c_hugetlb(int argc, char **argv)
{
	const size_t page = 2 << 20;
	volatile long long touched = 0;
	long long n;
	char *p;

	(void)argc;
	if (!parse_int(argv[0], &n) || n < 1)
		return 2;
	p = mmap(NULL, (size_t)n * page, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, 0);
	j_obj();
	j_key("mapped");
	j_bool(p != MAP_FAILED);
	if (p == MAP_FAILED) {
		j_result(0, errno);
		j_end();
		return 1;
	}
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(hugetlb_jmp, 1) == 0) {
		for (; touched < n; touched++)
			p[touched * (long long)page] = 1;
	}
	j_key("touched");
	j_int(touched);
	j_key("sigbus");
	j_bool(touched < n);
	j_end();
	return 0;
}

/* Forks up to N sleeping children, reports how many it got, then reaps them. */
static int c_forkbomb(int argc, char **argv)
{
	long long want, got = 0;
	int first_err = 0;
	pid_t *kids;

	(void)argc;
	if (!parse_int(argv[0], &want) || want < 0 || want > 1000000)
		return 2;
	kids = calloc(want ? want : 1, sizeof(pid_t));
	if (!kids)
		return 1;
	fflush(stdout);
	for (long long i = 0; i < want; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			first_err = errno;
			break;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		kids[got++] = pid;
	}
	for (long long i = 0; i < got; i++)
		kill(kids[i], SIGKILL);
	for (long long i = 0; i < got; i++)
		while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(kids);
	j_obj();
	j_key("requested");
	j_int(want);
	j_key("forked");
	j_int(got);
	j_key("errno");
	j_int(first_err);
	j_key("error");
	j_str(first_err ? strerror(first_err) : NULL);
	j_end();
	return 0;
}

/* PTRACE_ATTACH to pid; on success waits for the stop and detaches. */
static int ptrace_attach(pid_t pid, int *err)
{
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);

	*err = errno;
	if (r == 0) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return r == 0;
}

static int c_ptrace(int argc, char **argv)
{
	long long pid;
	int ok, err;

	(void)argc;
	if (!parse_int(argv[0], &pid))
		return 2;
	ok = ptrace_attach((pid_t)pid, &err);
	j_obj();
	j_key("pid");
	j_int(pid);
	j_result(ok, err);
	j_end();
	return 0;
}

static const struct {
	const char *name;
	int flag;
} ns_flags[] = {
    {"mnt", CLONE_NEWNS},        {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC},       {"net", CLONE_NEWNET},
    {"pid", CLONE_NEWPID},       {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", 0x80 /* CLONE_NEWTIME */},
};

/* "uts,net" -> CLONE_NEWUTS|CLONE_NEWNET; a number is taken as is. */
static int parse_ns_flags(const char *s, long long *out)
{
	char *copy, *tok, *save = NULL;

	if (parse_int(s, out))
		return 1;
	*out = 0;
	copy = strdup(s);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
			if (strcmp(tok, ns_flags[i].name) == 0)
				break;
		if (i == sizeof(ns_flags) / sizeof(ns_flags[0])) {
			free(copy);
			return 0;
		}
		*out |= ns_flags[i].flag;
	}
	free(copy);
	return 1;
}

/*
 * Makes one syscall, directly (not through a libc wrapper that might pick a
 * different syscall), for seccomp tests.  An optional ARG overrides the
 * default target.  Side effects are undone when the call succeeds.
 */
static int c_syscall(int argc, char **argv)
{
	const char *name = argv[0], *arg = argc > 1 ? argv[1] : NULL;
	char path[64];
	long ret;
	int err;

	errno = 0;
	if (strcmp(name, "getpid") == 0) {
		ret = syscall(SYS_getpid);
	} else if (strcmp(name, "getppid") == 0) {
		ret = syscall(SYS_getppid);
	} else if (strcmp(name, "mkdir") == 0) {
		snprintf(path, sizeof(path), "/tmp/probe-mkdir-%d", (int)getpid());
		arg = arg ? arg : path;
#ifdef SYS_mkdir
		ret = syscall(SYS_mkdir, arg, 0755);
#else
		ret = syscall(SYS_mkdirat, AT_FDCWD, arg, 0755);
#endif
		err = errno;
		if (ret == 0)
			rmdir(arg);
		errno = err;
	} else if (strcmp(name, "chmod") == 0) {
		struct stat st;

		arg = arg ? arg : "/tmp";
		/* re-applies the current mode, so success changes nothing */
		st.st_mode = 01777;
		stat(arg, &st);
		errno = 0;
#ifdef SYS_chmod
		ret = syscall(SYS_chmod, arg, st.st_mode & 07777);
#else
		ret = syscall(SYS_fchmodat, AT_FDCWD, arg, st.st_mode & 07777);
#endif
	} else if (strcmp(name, "personality") == 0) {
		long long v = 0xffffffff;

		if (arg && !parse_int(arg, &v))
			return 2;
		ret = syscall(SYS_personality, (unsigned long)v);
	} else if (strcmp(name, "unshare") == 0) {
		long long flags = CLONE_NEWUTS;

		if (arg && !parse_ns_flags(arg, &flags))
			return 2;
		ret = syscall(SYS_unshare, (unsigned long)flags);
	} else if (strcmp(name, "mount") == 0) {
		arg = arg ? arg : "/tmp";
		ret = syscall(SYS_mount, "none", arg, "tmpfs", 0UL, NULL);
		err = errno;
		if (ret == 0)
			umount2(arg, MNT_DETACH);
		errno = err;
	} else if (strcmp(name, "ptrace") == 0) {
		long long pid = getppid();

		if (arg && !parse_int(arg, &pid))
			return 2;
		ret = ptrace_attach((pid_t)pid, &err) ? 0 : -1;
		errno = err;
	} else if (strcmp(name, "nr") == 0) {
		long long nr;

		/* A bare number, zero args: for numbers the profile cannot name. */
		if (arg == NULL || !parse_int(arg, &nr))
			return 2;
		ret = syscall((long)nr, 0L, 0L, 0L, 0L, 0L, 0L);
	} else if (strcmp(name, "socket") == 0) {
		ret = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		err = errno;
		if (ret >= 0)
			close((int)ret);
		errno = err;
	} else {
		return 2;
	}
	err = ret < 0 ? errno : 0;
	j_obj();
	j_key("syscall");
	j_str(name);
	if (arg) {
		j_key("arg");
		j_str(arg);
	}
	j_key("ret");
	j_int(ret);
	j_key("errno");
	j_int(err);
	j_key("error");
	j_str(err ? strerror(err) : NULL);
	j_end();
	return 0;
}

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	int min_args, max_args;
	const char *usage;
};

static const struct command commands[] = {
    {"open", c_open, 1, 2, "PATH [r|w|rw]"},
    {"write", c_write, 2, 2, "PATH DATA"},
    {"read", c_read, 1, 1, "PATH"},
    {"stat", c_stat, 1, 1, "PATH"},
    {"lstat", c_lstat, 1, 1, "PATH"},
    {"mknod", c_mknod, 1, 1, "PATH  (char device 1:3)"},
    {"readlink", c_readlink, 1, 1, "PATH"},
    {"ls", c_ls, 1, 1, "DIR"},
    {"exit", c_exit, 1, 1, "N"},
    {"kill-self", c_kill_self, 1, 1, "SIG"},
    {"sleep", c_sleep, 1, 1, "SECONDS|inf"},
    {"count", c_count, 0, 1, "[MAX]"},
    {"swap", c_swap, 3, 3, "A B SECONDS  (renameat2 RENAME_EXCHANGE in a loop)"},
    {"memhog", c_memhog, 1, 1, "MB"},
    {"hugetlb", c_hugetlb, 1, 1, "N  (2 MB pages)"},
    {"forkbomb", c_forkbomb, 1, 1, "N"},
    {"ptrace", c_ptrace, 1, 1, "PID"},
    {"syscall", c_syscall, 1, 2,
     "getpid|getppid|mkdir|chmod|personality|unshare|mount|ptrace|socket [ARG] | nr NUMBER"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int usage(void)
{
	fputs("usage: probe COMMAND [ARGS]\n  all\n ", stderr);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		fprintf(stderr, " %s", groups[i].name);
	for (size_t i = 0; i < N_SECTIONS; i++)
		fprintf(stderr, " %s", sections[i].name);
	fputc('\n', stderr);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(stderr, "  %s %s\n", commands[i].name, commands[i].usage);
	return 2;
}

int main(int argc, char **argv)
{
	const struct section *s;
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "all") == 0 && argc == 2) {
		j_obj();
		for (size_t i = 0; i < N_SECTIONS; i++)
			if (sections[i].in_all)
				emit_section(&sections[i]);
		j_end();
		return fflush(stdout) == 0 ? 0 : 1;
	}
	for (size_t i = 0; argc == 2 && i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (strcmp(cmd, groups[i].name) != 0)
			continue;
		j_obj();
		for (int m = 0; groups[i].members[m]; m++)
			emit_section(find_section(groups[i].members[m]));
		j_end();
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc == 2 && (s = find_section(cmd))) {
		j_obj();
		emit_section(s);
		j_end();
		return fflush(stdout) == 0 ? 0 : 1;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		int n = argc - 2, r;

		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (n < commands[i].min_args || n > commands[i].max_args) {
			fprintf(stderr, "usage: probe %s %s\n", cmd, commands[i].usage);
			return 2;
		}
		r = commands[i].run(n, argv + 2);
		if (r == 2) {
			fprintf(stderr, "usage: probe %s %s\n", cmd, commands[i].usage);
			return 2;
		}
		if (fflush(stdout) != 0)
			return 1;
		return r;
	}
	if (*cmd)
		fprintf(stderr, "probe: unknown command `%s`\n", cmd);
	return usage();
}
