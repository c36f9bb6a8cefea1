/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "tap.h"
#include "libskiff/capabilities.h"
#include "libskiff/process.h"
#include "libskiff/utils.h"

#define CAP_BIT_FOR_TEST(c) (UINT64_C(1) << (c))

static char *args_true[] = {"/bin/true", NULL};

static int int_cmp_for_test(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static struct oci_process base_process(void)
{
	struct oci_process p = {0};

	p.args = args_true;
	p.cwd = "/";
	return p;
}

/* The full error text of a failed call, or NULL when it succeeded; caller frees. */
static char *validate_text(const struct oci_process *p)
{
	struct skiff_error *err = NULL;
	char *text;

	if (process_validate(p, &err) == 0)
		return NULL;
	text = error_text(err);
	error_free(&err);
	return text;
}

static void check_invalid(const struct oci_process *p, const char *want, const char *what)
{
	cleanup_free char *got = validate_text(p);
	ok_str(got, want, "validate: %s", what);
}

static void test_validate_basics(void)
{
	struct oci_process p = base_process();
	char *no_args[] = {NULL};
	char *empty_arg[] = {"", NULL};

	ok(validate_text(&p) == NULL, "validate: minimal process is valid");
	p.args = NULL;
	check_invalid(&p, "process.args: must not be empty", "args absent");
	p.args = no_args;
	check_invalid(&p, "process.args: must not be empty", "args empty");
	p.args = empty_arg;
	check_invalid(&p, "process.args[0]: must not be empty", "args[0] empty");
	p = base_process();
	p.cwd = "tmp";
	check_invalid(&p, "process.cwd: \"tmp\" is not an absolute path", "cwd relative");
	p.cwd = NULL;
	check_invalid(&p, "process.cwd: must be set", "cwd absent");
	p = base_process();
	p.user.has_umask = true;
	p.user.umask = 01000;
	check_invalid(&p, "process.user.umask: 01000 is out of range 0..0777", "umask");
	p.user.umask = 0777;
	ok(validate_text(&p) == NULL, "validate: umask 0777 is valid");
	p = base_process();
	p.has_oom_score_adj = true;
	p.oom_score_adj = 1001;
	check_invalid(&p, "process.oomScoreAdj: 1001 is out of range -1000..1000", "oom high");
	p.oom_score_adj = -1000;
	ok(validate_text(&p) == NULL, "validate: oomScoreAdj -1000 is valid");
}

static void test_validate_capabilities(void)
{
	struct oci_process p = base_process();
	struct oci_capabilities caps = {0};
	char *good[] = {"CAP_KILL", "CAP_CHOWN", "CAP_CHECKPOINT_RESTORE", NULL};
	char *bad[] = {"CAP_KILL", "CAP_FOO", NULL};
	char *lower[] = {"cap_kill", NULL};
	char *bare[] = {"KILL", NULL};

	p.capabilities = &caps;
	caps.bounding = caps.effective = caps.permitted = caps.inheritable = caps.ambient = good;
	ok(validate_text(&p) == NULL, "validate: known capabilities are valid");
	/* Unknown names are a warning, not an error (config.md), and left out of the mask. */
	caps.bounding = bad;
	caps.ambient = lower;
	caps.inheritable = bare;
	ok(validate_text(&p) == NULL, "validate: unknown capabilities are only a warning");
	uint64_t mask = 1;
	ok(capability_mask(bad, "f", &mask, NULL) == 0 && mask == UINT64_C(1) << CAP_KILL,
	   "caps: an unknown name is left out of the mask");
}

static void test_validate_rlimits(void)
{
	static const char *const all[] = {
	    "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
	    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
	    "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
	    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
	};
	struct oci_rlimit rl[ARRAY_SIZE(all)];
	struct oci_process p = base_process();

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		rl[i] = (struct oci_rlimit){(char *)all[i], 5, 10};
	p.rlimits = rl;
	p.rlimits_len = ARRAY_SIZE(all);
	ok(validate_text(&p) == NULL, "validate: every rlimit type is known");
	rl[0].soft = 10;
	rl[0].hard = 5;
	check_invalid(&p, "process.rlimits[0]: soft limit 10 exceeds hard limit 5", "soft > hard");
	rl[0].soft = 5;
	rl[0].hard = 10;
	rl[3].type = "RLIMIT_FOO";
	check_invalid(&p, "process.rlimits[3]: unknown type \"RLIMIT_FOO\"", "unknown type");
	rl[3].type = "RLIMIT_NOFILE";
	check_invalid(&p,
	              "process.rlimits[9]: duplicate type \"RLIMIT_NOFILE\" (also in "
	              "process.rlimits[3])",
	              "duplicate type");
}

static void test_validate_scheduler(void)
{
	static const char *const policies[] = {"SCHED_OTHER", "SCHED_BATCH", "SCHED_ISO",
	                                       "SCHED_IDLE"};
	char *flags[] = {"SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
	                 "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
	                 "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
	                 "SCHED_FLAG_UTIL_CLAMP_MAX", NULL};
	char *bad_flags[] = {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_NOPE", NULL};
	struct oci_process p = base_process();
	struct oci_scheduler s = {0};
	bool all_ok = true;

	p.scheduler = &s;
	check_invalid(&p, "process.scheduler.policy: must be set", "policy absent");
	for (size_t i = 0; i < ARRAY_SIZE(policies); i++) {
		s.policy = (char *)policies[i];
		all_ok &= validate_text(&p) == NULL;
	}
	ok(all_ok, "validate: non-RT policies are valid");
	s.policy = "SCHED_NOPE";
	check_invalid(&p, "process.scheduler.policy: unknown policy \"SCHED_NOPE\"",
	              "unknown policy");
	s.policy = "SCHED_OTHER";
	s.flags = flags;
	ok(validate_text(&p) == NULL, "validate: every scheduler flag is known");
	s.flags = bad_flags;
	check_invalid(&p, "process.scheduler.flags[1]: unknown flag \"SCHED_FLAG_NOPE\"",
	              "unknown flag");
	s.flags = NULL;
	s.has_nice = true;
	s.nice = 20;
	check_invalid(&p, "process.scheduler.nice: 20 is out of range -20..19", "nice");
	s.nice = -20;
	ok(validate_text(&p) == NULL, "validate: nice -20 is valid");
	s.priority = 5;
	check_invalid(&p,
	              "process.scheduler.priority: must be 0 for SCHED_OTHER (only SCHED_FIFO "
	              "and SCHED_RR take a priority)",
	              "priority with SCHED_OTHER");
	s.policy = "SCHED_FIFO";
	ok(validate_text(&p) == NULL, "validate: SCHED_FIFO priority 5 is valid");
	s.priority = 0;
	check_invalid(&p, "process.scheduler.priority: must be 1..99 for SCHED_FIFO",
	              "SCHED_FIFO priority 0");
	s.policy = "SCHED_RR";
	s.priority = 100;
	check_invalid(&p, "process.scheduler.priority: must be 1..99 for SCHED_RR",
	              "SCHED_RR priority 100");
	s.priority = 0;
	s.policy = "SCHED_BATCH";
	s.runtime = 1000;
	check_invalid(&p,
	              "process.scheduler: runtime, deadline and period are only valid with "
	              "SCHED_DEADLINE, not SCHED_BATCH",
	              "runtime without SCHED_DEADLINE");
	s.policy = "SCHED_DEADLINE";
	check_invalid(&p, "process.scheduler.deadline: must be set for SCHED_DEADLINE",
	              "deadline missing");
	s.runtime = 42000;
	s.deadline = 1000;
	check_invalid(&p, "process.scheduler.runtime: 42000 exceeds deadline 1000",
	              "runtime > deadline");
	s.deadline = 1000000;
	s.period = 500000;
	check_invalid(&p, "process.scheduler.deadline: 1000000 exceeds period 500000",
	              "deadline > period");
	s.period = 1000000;
	ok(validate_text(&p) == NULL, "validate: SCHED_DEADLINE 42000/1000000/1000000 is valid");
}

static void test_validate_io_and_affinity(void)
{
	struct oci_process p = base_process();
	struct oci_io_priority io = {"IOPRIO_CLASS_BE", 7};
	struct oci_exec_cpu_affinity aff = {"0-3,7", "1"};
	static const char *const bad_lists[] = {"a",  "3-1", "1,,2", "1,",
	                                        "-1", "1-",  "0 1",  "70000"};
	bool all_bad = true;

	p.io_priority = &io;
	ok(validate_text(&p) == NULL, "validate: IOPRIO_CLASS_BE 7 is valid");
	io.class = "IOPRIO_CLASS_RT";
	io.priority = 8;
	check_invalid(&p, "process.ioPriority.priority: 8 is out of range 0..7", "io priority");
	io.priority = 0;
	io.class = "IOPRIO_CLASS_NONE";
	check_invalid(&p, "process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\"",
	              "io class");
	io.class = "IOPRIO_CLASS_IDLE";
	p.exec_cpu_affinity = &aff;
	ok(validate_text(&p) == NULL, "validate: CPU lists \"0-3,7\" and \"1\" are valid");
	aff.final = "";
	ok(validate_text(&p) == NULL, "validate: an empty CPU list is valid (unset)");
	for (size_t i = 0; i < ARRAY_SIZE(bad_lists); i++) {
		cleanup_free char *got = NULL;
		cleanup_free char *want = NULL;
		aff.initial = (char *)bad_lists[i];
		got = validate_text(&p);
		want = xasprintf("process.execCPUAffinity.initial: invalid CPU list \"%s\"",
		                 bad_lists[i]);
		if (got == NULL || strcmp(got, want) != 0) {
			printf("#   list \"%s\": got %s\n", bad_lists[i], got ? got : "(valid)");
			all_bad = false;
		}
	}
	ok(all_bad, "validate: malformed CPU lists are rejected");
}

static void test_validate_personality(void)
{
	struct oci_personality pers = {"LINUX32", NULL};
	char *flags[] = {"SOMETHING", NULL};
	struct skiff_error *err = NULL;

	ok(process_validate_personality(NULL, &err) == 0, "personality: absent is valid");
	ok(process_validate_personality(&pers, &err) == 0, "personality: LINUX32 is valid");
	pers.domain = "LINUX";
	ok(process_validate_personality(&pers, &err) == 0, "personality: LINUX is valid");
	pers.domain = "BSD";
	ok(process_validate_personality(&pers, &err) < 0 && err != NULL, "personality: BSD fails");
	ok_str(err ? err->msg : NULL,
	       "linux.personality.domain: unknown domain \"BSD\" (expected LINUX or LINUX32)",
	       "personality: message for an unknown domain");
	error_free(&err);
	pers.domain = "LINUX";
	pers.flags = flags;
	process_validate_personality(&pers, &err);
	ok_str(err ? err->msg : NULL, "linux.personality.flags[0]: unsupported flag \"SOMETHING\"",
	       "personality: flags are rejected");
	error_free(&err);
}

/* The prctl search gives what the kernel publishes. */
static void test_last_cap_as_proc(void)
{
	cleanup_free char *text = NULL;

	if (read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) < 0) {
		skip("no /proc/sys/kernel/cap_last_cap", "caps: last cap as /proc says");
		return;
	}
	ok(capability_last_cap() == atoi(text), "caps: last cap %d, /proc says %d",
	   capability_last_cap(), atoi(text));
}

/* utc_date against glibc's gmtime_r, over 1900-2400 and the days around leap days. */
static void test_utc_date(void)
{
	bool same = true;
	long checked = 0;

	for (long long t = -2208988800LL; t < 13569465600LL && same; t += 86399 + t % 7) {
		for (int d = -1; d <= 1; d++) {
			time_t x = (time_t)(t + d);
			struct tm a, b;

			utc_date(x, &a);
			gmtime_r(&x, &b);
			checked++;
			if (a.tm_year != b.tm_year || a.tm_mon != b.tm_mon ||
			    a.tm_mday != b.tm_mday || a.tm_hour != b.tm_hour ||
			    a.tm_min != b.tm_min || a.tm_sec != b.tm_sec) {
				printf("#   %lld: %d-%d-%d %d:%d:%d, gmtime_r %d-%d-%d %d:%d:%d\n",
				       (long long)x, a.tm_year, a.tm_mon, a.tm_mday, a.tm_hour,
				       a.tm_min, a.tm_sec, b.tm_year, b.tm_mon, b.tm_mday,
				       b.tm_hour, b.tm_min, b.tm_sec);
				same = false;
			}
		}
	}
	ok(same && checked > 500000, "utc_date: as gmtime_r for %ld times from 1900 to 2400",
	   checked);
}

static void test_cap_table(void)
{
	int last = capability_table_last();
	bool round_trip = true;

	ok(last >= CAP_CHECKPOINT_RESTORE, "caps: table reaches CAP_CHECKPOINT_RESTORE (%d)", last);
	for (int c = 0; c <= last; c++) {
		const char *name = capability_to_name(c);
		if (name == NULL || capability_from_name(name) != c) {
			printf("#   cap %d: %s\n", c, name ? name : "(no name)");
			round_trip = false;
		}
	}
	ok(round_trip, "caps: every number 0..%d round-trips through its name", last);
	ok(capability_from_name("CAP_SYS_ADMIN") == CAP_SYS_ADMIN, "caps: CAP_SYS_ADMIN");
	ok(capability_from_name("CAP_FOO") == -1, "caps: unknown name gives -1");
	ok(capability_from_name("cap_kill") == -1, "caps: lower case is unknown");
	ok(capability_from_name("KILL") == -1, "caps: the CAP_ prefix is required");
	ok(capability_from_name(NULL) == -1, "caps: NULL gives -1");
	ok(capability_to_name(-1) == NULL && capability_to_name(last + 1) == NULL,
	   "caps: numbers outside the table have no name");
	ok(capability_last_cap() >= CAP_CHOWN && capability_last_cap() <= 63,
	   "caps: running kernel's last cap is %d", capability_last_cap());
	test_last_cap_as_proc();
}

/* ---- behaviour: each case runs in a forked child and reports over a pipe ---- */

typedef void (*child_fn)(int out, void *arg);

/* Runs fn in a child; returns its output (caller frees) and exit status. */
static char *run_child(child_fn fn, void *arg, int *status)
{
	int pfd[2];
	char *out = NULL;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		fn(pfd[1], arg);
		_exit(0);
	}
	close(pfd[1]);
	if (read_fd_all(pfd[0], &out, NULL, NULL) < 0)
		out = NULL;
	close(pfd[0]);
	waitpid(pid, status, 0);
	return out;
}

static void report(int out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int out, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		write_all(out, s, strlen(s));
	va_end(ap);
	free(s);
}

static void report_error(int out, struct skiff_error *err)
{
	cleanup_free char *text = error_text(err);
	report(out, "ERR %s\n", text);
}

/* The value of "Name:\t..." in a /proc status dump, trailing blanks dropped. */
static char *status_field(const char *dump, const char *name)
{
	cleanup_free char *key = xasprintf("\n%s:\t", name);
	const char *s = dump ? strstr(dump, key) : NULL;
	size_t len;

	if (s == NULL && dump && str_has_prefix(dump, key + 1))
		s = dump - 1;
	if (s == NULL)
		return NULL;
	s += strlen(key);
	len = strcspn(s, "\n");
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return xasprintf("%.*s", (int)len, s);
}

static void dump_status(int out)
{
	cleanup_free char *text = NULL;

	if (read_file("/proc/self/status", &text, NULL, NULL) == 0)
		write_all(out, text, strlen(text));
}

static void child_identity(int out, void *arg)
{
	struct oci_process *p = arg;
	struct skiff_error *err = NULL;

	if (process_apply_identity(p, &err) < 0) {
		report_error(out, err);
		return;
	}
	dump_status(out);
}

static void check_status(const char *dump, const char *name, const char *want, const char *what)
{
	cleanup_free char *got = status_field(dump, name);
	ok_str(got, want, "%s: %s", what, name);
}

static uint64_t status_mask(const char *dump, const char *name)
{
	cleanup_free char *v = status_field(dump, name);
	return v ? strtoull(v, NULL, 16) : 0;
}

static void test_identity(void)
{
	char *bounding[] = {"CAP_KILL", "CAP_CHOWN", NULL};
	char *kill_only[] = {"CAP_KILL", NULL};
	uint32_t gids[] = {5, 6};
	struct oci_capabilities caps = {
	    .bounding = bounding, .effective = kill_only, .permitted = kill_only};
	struct oci_process p = base_process();
	cleanup_free char *dump = NULL;
	int status;

	p.user.uid = 1000;
	p.user.gid = 1000;
	p.user.additional_gids = gids;
	p.user.additional_gids_len = 2;
	p.capabilities = &caps;
	dump = run_child(child_identity, &p, &status);
	ok(dump && !str_has_prefix(dump, "ERR"), "identity: applied (%s)",
	   dump && str_has_prefix(dump, "ERR") ? dump : "ok");
	check_status(dump, "CapBnd", "0000000000000021", "identity");
	check_status(dump, "CapEff", "0000000000000020", "identity");
	check_status(dump, "CapPrm", "0000000000000020", "identity");
	check_status(dump, "CapInh", "0000000000000000", "identity");
	check_status(dump, "CapAmb", "0000000000000000", "identity");
	check_status(dump, "Uid", "1000\t1000\t1000\t1000", "identity");
	check_status(dump, "Gid", "1000\t1000\t1000\t1000", "identity");
	check_status(dump, "Groups", "5 6", "identity");
}

static void test_identity_no_caps(void)
{
	struct oci_process p = base_process();
	cleanup_free char *dump = NULL;
	int status;

	/* Root with no capabilities object: every set empty, groups cleared. */
	dump = run_child(child_identity, &p, &status);
	check_status(dump, "CapBnd", "0000000000000000", "no capabilities object");
	check_status(dump, "CapEff", "0000000000000000", "no capabilities object");
	check_status(dump, "CapPrm", "0000000000000000", "no capabilities object");
	check_status(dump, "CapInh", "0000000000000000", "no capabilities object");
	check_status(dump, "Uid", "0\t0\t0\t0", "no capabilities object");
	check_status(dump, "Groups", "", "no capabilities object");
}

static void test_identity_ungrantable(void)
{
	char *bounding[] = {"CAP_KILL", "CAP_SYS_RESOURCE", NULL};
	char *want[] = {"CAP_KILL", "CAP_SYS_RESOURCE", NULL};
	char *ambient[] = {"CAP_KILL", NULL};
	struct oci_capabilities caps = {
	    .bounding = bounding, .effective = want, .permitted = want, .ambient = ambient};
	struct oci_process p = base_process();
	cleanup_free char *dump = NULL;
	uint64_t expect = CAP_BIT_FOR_TEST(CAP_KILL);
	int status;

	/* CAP_SYS_RESOURCE is granted only when the test runs with it. */
	if (prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 1)
		expect |= CAP_BIT_FOR_TEST(CAP_SYS_RESOURCE);
	p.user.uid = 1000;
	p.user.gid = 1000;
	p.capabilities = &caps;
	dump = run_child(child_identity, &p, &status);
	ok(dump && !str_has_prefix(dump, "ERR"), "ungrantable caps: not an error (%s)",
	   dump && str_has_prefix(dump, "ERR") ? dump : "ok");
	ok(status_mask(dump, "CapPrm") == expect, "ungrantable caps: CapPrm %llx",
	   (unsigned long long)expect);
	ok(status_mask(dump, "CapEff") == expect, "ungrantable caps: CapEff %llx",
	   (unsigned long long)expect);
	ok(status_mask(dump, "CapAmb") == 0,
	   "ungrantable caps: ambient CAP_KILL not in inheritable is skipped");
}

static void child_identity_exec(int out, void *arg)
{
	struct oci_process *p = arg;
	struct skiff_error *err = NULL;

	if (process_apply_identity(p, &err) < 0) {
		report_error(out, err);
		return;
	}
	if (dup2(out, STDOUT_FILENO) < 0)
		return;
	process_exec(p, -1, &err);
	report_error(out, err);
}

static void test_ambient_across_exec(void)
{
	char *bounding[] = {"CAP_KILL", "CAP_CHOWN", NULL};
	char *kill_only[] = {"CAP_KILL", NULL};
	char *cat[] = {"cat", "/proc/self/status", NULL};
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct oci_capabilities caps = {.bounding = bounding,
	                                .effective = kill_only,
	                                .permitted = kill_only,
	                                .inheritable = kill_only,
	                                .ambient = kill_only};
	struct oci_process p = base_process();
	cleanup_free char *dump = NULL;
	int status;

	p.user.uid = 1000;
	p.user.gid = 1000;
	p.capabilities = &caps;
	p.args = cat;
	p.env = env;
	dump = run_child(child_identity_exec, &p, &status);
	ok(dump && !str_has_prefix(dump, "ERR"), "ambient: exec as uid 1000 (%s)",
	   dump && str_has_prefix(dump, "ERR") ? dump : "ok");
	check_status(dump, "CapAmb", "0000000000000020", "ambient after exec");
	check_status(dump, "CapEff", "0000000000000020", "ambient after exec");
	check_status(dump, "CapPrm", "0000000000000020", "ambient after exec");
	check_status(dump, "CapInh", "0000000000000020", "ambient after exec");
	check_status(dump, "CapBnd", "0000000000000021", "ambient after exec");
	check_status(dump, "Uid", "1000\t1000\t1000\t1000", "ambient after exec");
}

struct userns_case {
	uint32_t *gids;
	size_t n;
};

static void child_userns(int out, void *arg)
{
	struct userns_case *c = arg;
	struct oci_process p = base_process();
	struct skiff_error *err = NULL;
	cleanup_free char *groups = NULL;

	if (unshare(CLONE_NEWUSER) < 0) {
		report(out, "SKIP unshare(CLONE_NEWUSER): %s\n", strerror(errno));
		return;
	}
	if (write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny", &err) < 0 ||
	    write_file_at(AT_FDCWD, "/proc/self/uid_map", "0 0 1", &err) < 0 ||
	    write_file_at(AT_FDCWD, "/proc/self/gid_map", "0 0 1", &err) < 0) {
		cleanup_free char *text = error_text(err);
		report(out, "SKIP user namespace set-up: %s\n", text);
		return;
	}
	p.user.additional_gids = c->gids;
	p.user.additional_gids_len = c->n;
	if (process_apply_identity(&p, &err) < 0) {
		report_error(out, err);
		return;
	}
	report(out, "OK\n");
}

static void test_identity_userns(void)
{
	uint32_t gids[] = {5};
	struct userns_case none = {NULL, 0}, some = {gids, 1};
	cleanup_free char *a = NULL;
	cleanup_free char *b = NULL;
	int status;

	a = run_child(child_userns, &none, &status);
	if (a && str_has_prefix(a, "SKIP")) {
		skip(a + 5, "userns: setgroups deny with no additionalGids");
		skip(a + 5, "userns: setgroups deny with additionalGids");
		return;
	}
	ok_str(a, "OK\n", "userns: setgroups \"deny\" and no additionalGids: setgroups skipped");
	b = run_child(child_userns, &some, &status);
	ok_str(b,
	       "ERR process.user.additionalGids: setgroups is denied in this user namespace "
	       "(/proc/self/setgroups)\n",
	       "userns: setgroups \"deny\" with additionalGids is an error");
}

static void child_rlimits(int out, void *arg)
{
	struct oci_process *p = arg;
	struct skiff_error *err = NULL;
	struct rlimit nofile, core;

	if (process_apply_rlimits(p, &err) < 0) {
		report_error(out, err);
		return;
	}
	getrlimit(RLIMIT_NOFILE, &nofile);
	getrlimit(RLIMIT_CORE, &core);
	report(out, "%llu %llu %llu %llu", (unsigned long long)nofile.rlim_cur,
	       (unsigned long long)nofile.rlim_max, (unsigned long long)core.rlim_cur,
	       (unsigned long long)core.rlim_max);
}

static void test_rlimits(void)
{
	struct oci_rlimit rl[] = {{"RLIMIT_CORE", 0, 4096}, {"RLIMIT_NOFILE", 100, 200}};
	struct oci_process p = base_process();
	cleanup_free char *got = NULL;
	cleanup_free char *raised = NULL;
	cleanup_free char *want = NULL;
	struct rlimit cur;
	int status;

	p.rlimits = rl;
	p.rlimits_len = 2;
	got = run_child(child_rlimits, &p, &status);
	ok_str(got, "100 200 0 4096", "rlimits: NOFILE 100/200 and CORE 0/4096 applied");

	getrlimit(RLIMIT_NOFILE, &cur);
	if (prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 1 ||
	    cur.rlim_max == RLIM_INFINITY) {
		skip("the test holds CAP_SYS_RESOURCE (or NOFILE is unlimited)",
		     "rlimits: raising a hard limit fails without CAP_SYS_RESOURCE");
		return;
	}
	rl[1].soft = rl[1].hard = (uint64_t)cur.rlim_max + 1;
	raised = run_child(child_rlimits, &p, &status);
	want = xasprintf("ERR process.rlimits[1]: setrlimit RLIMIT_NOFILE: hard %llu is above the "
	                 "caller's hard limit %llu: Operation not permitted\n",
	                 (unsigned long long)cur.rlim_max + 1, (unsigned long long)cur.rlim_max);
	ok_str(raised, want,
	       "rlimits: raising a hard limit without CAP_SYS_RESOURCE names the entry");
}

static void child_final(int out, void *arg)
{
	struct oci_process *p = arg;
	struct skiff_error *err = NULL;
	char cwd[256];
	mode_t mask;

	umask(0);
	/* identity enters the cwd (as root, then as the user if that was refused); final checks it.
	 */
	if (process_apply_identity(p, &err) < 0 || process_apply_final(p, &err) < 0) {
		report_error(out, err);
		return;
	}
	mask = umask(0);
	report(out, "umask=%04o cwd=%s nnp=%d", (unsigned)mask,
	       getcwd(cwd, sizeof(cwd)) ? cwd : "?", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
}

static void test_final(void)
{
	struct oci_process p = base_process();
	cleanup_free char *a = NULL;
	cleanup_free char *b = NULL;
	cleanup_free char *c = NULL;
	int status;

	p.cwd = "/tmp";
	a = run_child(child_final, &p, &status);
	ok_str(a, "umask=0022 cwd=/tmp nnp=0", "final: default umask 0022, chdir, no NNP");
	p.user.has_umask = true;
	p.user.umask = 077;
	p.no_new_privileges = true;
	p.cwd = "/";
	b = run_child(child_final, &p, &status);
	ok_str(b, "umask=0077 cwd=/ nnp=1", "final: umask 077, noNewPrivileges");
	p.cwd = "/nonexistent-skiff-dir";
	c = run_child(child_final, &p, &status);
	ok_str(c, "ERR process.cwd: chdir \"/nonexistent-skiff-dir\": No such file or directory\n",
	       "final: chdir failure names the field");
}

struct attr_case {
	struct oci_process *p;
	struct oci_personality *pers;
};

static void child_attributes(int out, void *arg)
{
	struct attr_case *c = arg;
	struct skiff_error *err = NULL;
	cleanup_free char *oom = NULL;

	if (process_apply_attributes(c->p, &err) < 0 ||
	    process_apply_personality(c->pers, &err) < 0) {
		report_error(out, err);
		return;
	}
	if (read_file("/proc/self/oom_score_adj", &oom, NULL, NULL) < 0)
		return;
	oom[strcspn(oom, "\n")] = '\0';
	errno = 0;
	report(out, "oom=%s policy=%d nice=%d ioprio=%ld pers=%#x", oom, sched_getscheduler(0),
	       getpriority(PRIO_PROCESS, 0), syscall(SYS_ioprio_get, 1, 0),
	       (unsigned)personality(0xffffffff) & PER_MASK);
}

static void test_attributes(void)
{
	struct oci_process p = base_process();
	struct oci_scheduler s = {.policy = "SCHED_BATCH", .has_nice = true, .nice = 7};
	struct oci_io_priority io = {"IOPRIO_CLASS_BE", 6};
	struct oci_personality pers = {"LINUX32", NULL};
	struct attr_case c = {&p, &pers};
	cleanup_free char *got = NULL;
	cleanup_free char *want = NULL;
	cleanup_free char *idle = NULL;
	int status;

	p.has_oom_score_adj = true;
	p.oom_score_adj = 500;
	p.scheduler = &s;
	p.io_priority = &io;
	got = run_child(child_attributes, &c, &status);
	want = xasprintf("oom=500 policy=%d nice=7 ioprio=%d pers=%#x", SCHED_BATCH, (2 << 13) | 6,
	                 PER_LINUX32);
	ok_str(got, want, "attributes: oomScoreAdj, SCHED_BATCH nice 7, BE/6, LINUX32");

	s.policy = "SCHED_OTHER";
	s.nice = 3;
	io.class = "IOPRIO_CLASS_IDLE";
	io.priority = 0;
	pers.domain = "LINUX";
	p.has_oom_score_adj = false;
	free(want);
	want = xasprintf("oom=0 policy=%d nice=3 ioprio=%d pers=0", SCHED_OTHER, 3 << 13);
	idle = run_child(child_attributes, &c, &status);
	ok_str(idle, want, "attributes: SCHED_OTHER nice 3, IDLE, LINUX; oom untouched");
}

static void child_affinity(int out, void *arg)
{
	struct skiff_error *err = NULL;
	cpu_set_t set;

	if (process_set_cpu_affinity(0, "0", "process.execCPUAffinity.initial", &err) < 0) {
		report_error(out, err);
		return;
	}
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	report(out, "count=%d cpu0=%d", CPU_COUNT(&set), CPU_ISSET(0, &set) ? 1 : 0);
}

static void test_affinity(void)
{
	cleanup_free char *got = NULL;
	struct skiff_error *err = NULL;
	int status;

	got = run_child(child_affinity, NULL, &status);
	ok_str(got, "count=1 cpu0=1", "affinity: \"0\" pins to CPU 0");
	ok(process_set_cpu_affinity(0, "", "x", &err) == 0, "affinity: empty list does nothing");
	process_set_cpu_affinity(0, "1-0", "process.execCPUAffinity.final", &err);
	ok_str(err ? err->msg : NULL, "process.execCPUAffinity.final: invalid CPU list \"1-0\"",
	       "affinity: bad list");
	error_free(&err);
}

static void list_fds(int out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fds[64], n = 0;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 64) {
		long long fd;
		if (parse_int64(de->d_name, &fd) == 0 && fd != dirfd(d))
			fds[n++] = (int)fd;
	}
	closedir(d);
	qsort(fds, (size_t)n, sizeof(int), int_cmp_for_test);
	for (int i = 0; i < n; i++)
		report(out, "%s%d", i ? " " : "", fds[i]);
}

static void open_extra_fds(void)
{
	int targets[] = {10, 11, 12, 20, 21, 40};

	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		dup2(STDERR_FILENO, targets[i]);
}

static void child_close_fds(int out, void *arg)
{
	/* out is the pipe; move it to 30 so the expected list is fixed. */
	int keep[] = {30, 11, 20, 20, 2};

	open_extra_fds();
	if (dup2(out, 30) < 0)
		return;
	close(out);
	if (process_close_fds(3, keep, ARRAY_SIZE(keep)) < 0) {
		report(30, "ERR %s", strerror(errno));
		return;
	}
	list_fds(30);
}

static void child_cloexec_fds(int out, void *arg)
{
	int keep[] = {30, 12};
	int cloexec[] = {10, 12, 40, 30};

	open_extra_fds();
	if (dup2(out, 30) < 0)
		return;
	close(out);
	if (process_cloexec_fds(3, keep, ARRAY_SIZE(keep)) < 0) {
		report(30, "ERR %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cloexec); i++)
		report(30, "%s%d:%d", i ? " " : "", cloexec[i],
		       (fcntl(cloexec[i], F_GETFD) & FD_CLOEXEC) ? 1 : 0);
}

static void test_fds(void)
{
	cleanup_free char *closed = NULL;
	cleanup_free char *marked = NULL;
	int status;

	closed = run_child(child_close_fds, NULL, &status);
	ok_str(closed, "0 1 2 11 20 30", "close_fds: only 0-2 and the kept fds remain");
	marked = run_child(child_cloexec_fds, NULL, &status);
	ok_str(marked, "10:1 12:0 40:1 30:0", "cloexec_fds: others marked, kept ones not");
}

static void child_exec(int out, void *arg)
{
	struct oci_process *p = arg;
	struct skiff_error *err = NULL;

	if (dup2(out, STDOUT_FILENO) < 0)
		return;
	process_exec(p, -1, &err);
	report_error(out, err);
	_exit(127);
}

static void test_exec(void)
{
	char dir[] = "/tmp/skiff-process-test-XXXXXX";
	cleanup_free char *script = NULL;
	cleanup_free char *path_env = NULL;
	cleanup_free char *a = NULL;
	cleanup_free char *b = NULL;
	cleanup_free char *c = NULL;
	cleanup_free char *d = NULL;
	char *hello[] = {"skiff-hello", "arg1", NULL};
	char *missing[] = {"skiff-no-such-command", NULL};
	char *abs_missing[] = {"/nonexistent/skiff", NULL};
	char *true_args[] = {"true", NULL};
	char *env[] = {NULL, "FOO=bar", NULL};
	char *no_path_env[] = {"FOO=bar", NULL};
	struct oci_process p = base_process();
	int status, fd;

	if (mkdtemp(dir) == NULL) {
		skip(strerror(errno), "exec: PATH from the container's env");
		return;
	}
	script = xasprintf("%s/skiff-hello", dir);
	fd = open(script, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	static const char text[] = "#!/bin/sh\necho \"hello $1 $FOO\"\n";
	write_all(fd, text, strlen(text));
	close(fd);
	path_env = xasprintf("PATH=/nonexistent:%s", dir);
	env[0] = path_env;

	p.args = hello;
	p.env = env;
	a = run_child(child_exec, &p, &status);
	ok_str(a, "hello arg1 bar\n", "exec: found through the env's PATH, env passed as is");
	p.args = missing;
	b = run_child(child_exec, &p, &status);
	ok_str(b, "ERR exec \"skiff-no-such-command\": executable file not found in $PATH\n",
	       "exec: PATH search failure");
	p.args = abs_missing;
	c = run_child(child_exec, &p, &status);
	ok_str(c, "ERR exec \"/nonexistent/skiff\": No such file or directory\n",
	       "exec: a missing path");
	p.args = true_args;
	p.env = no_path_env;
	d = run_child(child_exec, &p, &status);
	ok(d && *d == '\0' && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "exec: \"true\" found through the default PATH when env has none");
	{
		struct skiff_error *err = NULL;
		char *tmp_args[] = {"/tmp", NULL};
		cleanup_free char *plain = xasprintf("%s/plain", dir);
		char *plain_args[] = {plain, NULL};

		p.env = env;
		p.args = hello;
		ok(process_resolve_executable(&p, &err) == 0,
		   "resolve: skiff-hello found through the env's PATH");
		p.args = missing;
		process_resolve_executable(&p, &err);
		ok_str(err ? err->msg : NULL,
		       "exec \"skiff-no-such-command\": executable file not found in $PATH",
		       "resolve: PATH search failure");
		error_free(&err);
		p.args = tmp_args;
		ok(process_resolve_executable(&p, &err) < 0 && err && err->errnum == EISDIR,
		   "resolve: a directory is not executable");
		error_free(&err);
		close(open(plain, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
		p.args = plain_args;
		ok(process_resolve_executable(&p, &err) < 0 && err && err->errnum == EACCES,
		   "resolve: a file without x bits is not executable");
		error_free(&err);
		unlink(plain);
	}
	unlink(script);
	rmdir(dir);
}

/* ---- the trampoline's report of the program's execve ---- */

extern const size_t trampoline_blob_size;

struct exec_status_case {
	struct oci_process *p;
	int status_fd;
};

static void child_exec_status(int out, void *arg)
{
	struct exec_status_case *c = arg;
	struct skiff_error *err = NULL;

	if (dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
		return;
	process_exec(c->p, c->status_fd, &err);
	report_error(out, err);
	_exit(126);
}

/* Runs p through process_exec with a status pipe on fd 50; *got: -1 for EOF, else the errno. */
static char *exec_with_status(struct oci_process *p, bool with_fd, int *status, int *got)
{
	struct exec_status_case c = {.p = p, .status_fd = -1};
	int pfd[2], errnum;
	char *out;
	ssize_t n;

	*got = -2;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return NULL;
	if (with_fd)
		c.status_fd = dup3(pfd[1], 50, O_CLOEXEC);
	close(pfd[1]);
	out = run_child(child_exec_status, &c, status);
	if (c.status_fd >= 0)
		close(c.status_fd);
	n = read(pfd[0], &errnum, sizeof(errnum));
	if (n == 0)
		*got = -1;
	else if (n == sizeof(errnum))
		*got = errnum;
	close(pfd[0]);
	return out;
}

static void write_script(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	write_all(fd, text, strlen(text));
	close(fd);
}

static void test_exec_status(void)
{
	char dir[] = "/tmp/skiff-status-test-XXXXXX";
	cleanup_free char *noint = NULL, *good = NULL;
	cleanup_free char *a = NULL, *b = NULL, *c = NULL;
	char *noint_args[] = {NULL, NULL}, *good_args[] = {NULL, NULL};
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct oci_process p = base_process();
	cleanup_free char *want = NULL;
	int status, got;

	if (trampoline_blob_size == 0 || process_exec_prepare() < 0 || mkdtemp(dir) == NULL) {
		skip("no exec trampoline", "exec status: reported through the trampoline");
		return;
	}
	noint = xasprintf("%s/noint", dir);
	good = xasprintf("%s/good", dir);
	write_script(noint, "#!/nonexistent/sh\necho ran\n");
	/* The status fd must not reach the program: the trampoline marks it close-on-exec. */
	write_script(good, "#!/bin/sh\n[ -e /proc/self/fd/50 ] && echo leaked || echo closed\n");
	noint_args[0] = noint;
	good_args[0] = good;
	p.env = env;

	p.args = noint_args;
	a = exec_with_status(&p, true, &status, &got);
	ok(got == ENOENT, "exec status: a missing interpreter reported as ENOENT (%d)", got);
	ok_str(a, "", "exec status: the trampoline prints nothing when it can report");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 127, "exec status: exit 127");

	p.args = good_args;
	b = exec_with_status(&p, true, &status, &got);
	ok(got == -1, "exec status: EOF when the program runs (%d)", got);
	ok_str(b, "closed\n", "exec status: the fd is closed in the program");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec status: program's exit status");

	p.args = noint_args;
	c = exec_with_status(&p, false, &status, &got);
	want = xasprintf("skiff: exec \"%s\": No such file or directory\n", noint);
	ok_str(c, want, "exec status: without a status fd the trampoline prints the error");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 127, "exec status: exit 127 without fd");

	unlink(noint);
	unlink(good);
	rmdir(dir);
}

int main(void)
{
	test_validate_basics();
	test_validate_capabilities();
	test_validate_rlimits();
	test_validate_scheduler();
	test_validate_io_and_affinity();
	test_validate_personality();
	test_cap_table();
	test_utc_date();
	if (geteuid() != 0) {
		skip("needs root", "process behaviour tests");
		done_testing();
	}
	test_identity();
	test_identity_no_caps();
	test_identity_ungrantable();
	test_ambient_across_exec();
	test_identity_userns();
	test_rlimits();
	test_final();
	test_attributes();
	test_affinity();
	test_fds();
	test_exec();
	test_exec_status();
	done_testing();
}
