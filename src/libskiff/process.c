/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "capabilities.h"
#include "label.h"
#include "log.h"
#include "process.h"
#include "procfs.h"
#include "utils.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The kernel ABI values (uapi linux/sched.h, linux/ioprio.h); glibc lacks most. */
#ifndef SCHED_ISO
#define SCHED_ISO 4
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#define SKIFF_SCHED_FLAG_RESET_ON_FORK  0x01
#define SKIFF_SCHED_FLAG_RECLAIM        0x02
#define SKIFF_SCHED_FLAG_DL_OVERRUN     0x04
#define SKIFF_SCHED_FLAG_KEEP_POLICY    0x08
#define SKIFF_SCHED_FLAG_KEEP_PARAMS    0x10
#define SKIFF_SCHED_FLAG_UTIL_CLAMP_MIN 0x20
#define SKIFF_SCHED_FLAG_UTIL_CLAMP_MAX 0x40
#define SKIFF_IOPRIO_CLASS_SHIFT        13
#define SKIFF_IOPRIO_WHO_PROCESS        1

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* sched_setattr(2)'s struct, SCHED_ATTR_SIZE_VER1 (util clamps zero). */
struct skiff_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "additionalGids is passed to setgroups as is");

/* ---- name tables ---- */

/* clang-format off */
#define RLIMITS(X) \
	X(RLIMIT_CPU) X(RLIMIT_FSIZE) X(RLIMIT_DATA) X(RLIMIT_STACK) X(RLIMIT_CORE) \
	X(RLIMIT_RSS) X(RLIMIT_NPROC) X(RLIMIT_NOFILE) X(RLIMIT_MEMLOCK) X(RLIMIT_AS) \
	X(RLIMIT_LOCKS) X(RLIMIT_SIGPENDING) X(RLIMIT_MSGQUEUE) X(RLIMIT_NICE) \
	X(RLIMIT_RTPRIO) X(RLIMIT_RTTIME)
#define SCHED_POLICIES(X) \
	X(SCHED_OTHER) X(SCHED_FIFO) X(SCHED_RR) X(SCHED_BATCH) X(SCHED_ISO) X(SCHED_IDLE) \
	X(SCHED_DEADLINE)
/* Bit i of sched_attr's flags is the i-th. */
#define SCHED_FLAGS(X) \
	X(SCHED_FLAG_RESET_ON_FORK) X(SCHED_FLAG_RECLAIM) X(SCHED_FLAG_DL_OVERRUN) \
	X(SCHED_FLAG_KEEP_POLICY) X(SCHED_FLAG_KEEP_PARAMS) X(SCHED_FLAG_UTIL_CLAMP_MIN) \
	X(SCHED_FLAG_UTIL_CLAMP_MAX)
/* clang-format on */

static const char rlimit_names[] = RLIMITS(NAME_STR);
NAMES_NUMBERED(RLIMITS, 0);
static const char sched_policy_names[] = SCHED_POLICIES(NAME_STR);
NAMES_NUMBERED(SCHED_POLICIES, 0);
static const char sched_flag_names[] = SCHED_FLAGS(NAME_STR);
#define SCHED_FLAG_POS(n)    n##_pos_,
#define SCHED_FLAG_AT_BIT(n) &&SKIFF_##n == 1 << n##_pos_
enum { SCHED_FLAGS(SCHED_FLAG_POS) };
_Static_assert(1 SCHED_FLAGS(SCHED_FLAG_AT_BIT), "sched_flag_names: each name at its bit");
/* The class is the position + 1 (IOPRIO_CLASS_NONE, 0, is not a class to ask for).
 * Hand-written lists end with "\0": the literal's own NUL ends only the last name. */
static const char ioprio_class_names[] = "IOPRIO_CLASS_RT\0IOPRIO_CLASS_BE\0IOPRIO_CLASS_IDLE\0";
/* PER_LINUX and PER_LINUX32. */
static const char personality_names[] = "LINUX\0LINUX32\0";

/* ---- CPU lists: "0-3,7" ---- */

#define CPU_LIST_MAX 65536

/*
 * Walks a CPU list; with set == NULL it only checks the syntax and finds
 * the highest CPU.
 */
static int cpu_list_walk(const char *s, cpu_set_t *set, size_t setsize, unsigned long *max)
{
	*max = 0;
	while (*s) {
		unsigned long lo, hi;
		char *end;

		if (*s < '0' || *s > '9')
			return -1;
		lo = hi = strtoul(s, &end, 10);
		s = end;
		if (*s == '-') {
			if (s[1] < '0' || s[1] > '9')
				return -1;
			hi = strtoul(s + 1, &end, 10);
			s = end;
		}
		if (lo > hi || hi >= CPU_LIST_MAX)
			return -1;
		if (*s == ',') {
			if (s[1] == '\0')
				return -1;
			s++;
		} else if (*s != '\0') {
			return -1;
		}
		if (hi > *max)
			*max = hi;
		for (unsigned long c = lo; set && c <= hi; c++)
			CPU_SET_S(c, setsize, set);
	}
	return 0;
}

static int validate_cpu_list(const char *cpus, const char *field, struct skiff_error **err)
{
	unsigned long max;

	if (cpus && cpu_list_walk(cpus, NULL, 0, &max) < 0)
		return error_msg(err, "%s: invalid CPU list \"%s\"", field, cpus);
	return 0;
}

int process_set_cpu_affinity(pid_t pid, const char *cpus, const char *field,
                             struct skiff_error **err)
{
	unsigned long max;
	cpu_set_t *set;
	size_t size;
	int r;

	if (cpus == NULL || *cpus == '\0')
		return 0;
	if (cpu_list_walk(cpus, NULL, 0, &max) < 0)
		return error_msg(err, "%s: invalid CPU list \"%s\"", field, cpus);
	set = CPU_ALLOC(max + 1);
	if (set == NULL)
		oom();
	size = CPU_ALLOC_SIZE(max + 1);
	CPU_ZERO_S(size, set);
	cpu_list_walk(cpus, set, size, &max);
	r = sched_setaffinity(pid, size, set);
	CPU_FREE(set);
	if (r < 0)
		return error_errno(err, "%s: sched_setaffinity \"%s\"", field, cpus);
	return 0;
}

/* ---- validation ---- */

/*
 * The spec (config.md, capabilities): a name that cannot be mapped MUST be
 * logged as a warning and SHOULD NOT fail the container.  One line names
 * every such name once; capability_mask() then leaves them out.
 */
static bool named_before(char *const *const *sets, size_t s, size_t i, const char *name)
{
	for (size_t t = 0; t <= s; t++)
		for (size_t j = 0; sets[t] && sets[t][j] && (t < s || j < i); j++)
			if (strcmp(sets[t][j], name) == 0)
				return true;
	return false;
}

static void warn_unknown_capabilities(const struct oci_capabilities *c)
{
	char *const *sets[] = {c->bounding, c->effective, c->inheritable, c->permitted, c->ambient};
	cleanup_free char *list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);

	if (f == NULL)
		oom();
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++)
		for (size_t i = 0; sets[s] && sets[s][i]; i++)
			if (capability_from_name(sets[s][i]) < 0 &&
			    !named_before(sets, s, i, sets[s][i]))
				fprintf(f, "%s%s", ftell(f) ? " " : "", sets[s][i]);
	fclose(f);
	if (len)
		log_warning("process.capabilities: ignoring unknown capabilities: %s", list);
}

static int validate_rlimits(const struct oci_process *p, struct skiff_error **err)
{
	for (size_t i = 0; i < p->rlimits_len; i++) {
		const struct oci_rlimit *r = &p->rlimits[i];

		if (name_index(rlimit_names, r->type) < 0)
			return error_msg(err, "process.rlimits[%zu]: unknown type \"%s\"", i,
			                 r->type ? r->type : "");
		if (r->soft > r->hard)
			return error_msg(
			    err, "process.rlimits[%zu]: soft limit %llu exceeds hard limit %llu", i,
			    (unsigned long long)r->soft, (unsigned long long)r->hard);
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->rlimits[j].type, r->type) == 0)
				return error_msg(
				    err,
				    "process.rlimits[%zu]: duplicate type \"%s\" (also in "
				    "process.rlimits[%zu])",
				    i, r->type, j);
	}
	return 0;
}

static int sched_flags_mask(const struct oci_scheduler *s, uint64_t *mask, struct skiff_error **err)
{
	*mask = 0;
	for (size_t i = 0; s->flags && s->flags[i]; i++) {
		int bit = name_index(sched_flag_names, s->flags[i]);
		if (bit < 0)
			return error_msg(err, "process.scheduler.flags[%zu]: unknown flag \"%s\"",
			                 i, s->flags[i]);
		*mask |= UINT64_C(1) << bit;
	}
	return 0;
}

static int validate_deadline(const struct oci_scheduler *s, struct skiff_error **err)
{
	if (s->deadline == 0)
		return error_msg(err, "process.scheduler.deadline: must be set for SCHED_DEADLINE");
	if (s->runtime > s->deadline)
		return error_msg(err, "process.scheduler.runtime: %llu exceeds deadline %llu",
		                 (unsigned long long)s->runtime, (unsigned long long)s->deadline);
	if (s->period != 0 && s->deadline > s->period)
		return error_msg(err, "process.scheduler.deadline: %llu exceeds period %llu",
		                 (unsigned long long)s->deadline, (unsigned long long)s->period);
	return 0;
}

static int validate_scheduler(const struct oci_scheduler *s, struct skiff_error **err)
{
	int pol;
	uint64_t flags;
	bool rt;

	if (s->policy == NULL)
		return error_msg(err, "process.scheduler.policy: must be set");
	pol = name_index(sched_policy_names, s->policy);
	if (pol < 0)
		return error_msg(err, "process.scheduler.policy: unknown policy \"%s\"", s->policy);
	if (sched_flags_mask(s, &flags, err) < 0)
		return -1;
	if (s->has_nice && (s->nice < -20 || s->nice > 19))
		return error_msg(err, "process.scheduler.nice: %d is out of range -20..19",
		                 (int)s->nice);
	rt = pol == SCHED_FIFO || pol == SCHED_RR;
	if (!(flags & SKIFF_SCHED_FLAG_KEEP_PARAMS)) {
		if (rt && (s->priority < 1 || s->priority > 99))
			return error_msg(err, "process.scheduler.priority: must be 1..99 for %s",
			                 s->policy);
		if (!rt && s->priority != 0)
			return error_msg(err,
			                 "process.scheduler.priority: must be 0 for %s (only "
			                 "SCHED_FIFO and SCHED_RR take a priority)",
			                 s->policy);
	}
	if (pol == SCHED_DEADLINE)
		return validate_deadline(s, err);
	if (s->runtime || s->deadline || s->period)
		return error_msg(
		    err,
		    "process.scheduler: runtime, deadline and period are only valid with "
		    "SCHED_DEADLINE, not %s",
		    s->policy);
	return 0;
}

static int validate_io_priority(const struct oci_io_priority *io, struct skiff_error **err)
{
	if (io->class == NULL)
		return error_msg(err, "process.ioPriority.class: must be set");
	if (name_index(ioprio_class_names, io->class) < 0)
		return error_msg(err, "process.ioPriority.class: unknown class \"%s\"", io->class);
	if (io->priority < 0 || io->priority > 7)
		return error_msg(err, "process.ioPriority.priority: %d is out of range 0..7",
		                 (int)io->priority);
	return 0;
}

static int validate_basics(const struct oci_process *p, struct skiff_error **err)
{
	if (p->args == NULL || p->args[0] == NULL)
		return error_msg(err, "process.args: must not be empty");
	if (p->args[0][0] == '\0')
		return error_msg(err, "process.args[0]: must not be empty");
	if (p->cwd == NULL || p->cwd[0] == '\0')
		return error_msg(err, "process.cwd: must be set");
	if (p->cwd[0] != '/')
		return error_msg(err, "process.cwd: \"%s\" is not an absolute path", p->cwd);
	if (p->user.has_umask && p->user.umask > 0777)
		return error_msg(err, "process.user.umask: %#o is out of range 0..0777",
		                 (unsigned)p->user.umask);
	if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
		return error_msg(err, "process.oomScoreAdj: %d is out of range -1000..1000",
		                 (int)p->oom_score_adj);
	return 0;
}

int process_validate(const struct oci_process *p, struct skiff_error **err)
{
	if (p == NULL)
		return error_msg(err, "process: must be set");
	if (validate_basics(p, err) < 0)
		return -1;
	if (p->capabilities)
		warn_unknown_capabilities(p->capabilities);
	if (validate_rlimits(p, err) < 0)
		return -1;
	if (p->scheduler && validate_scheduler(p->scheduler, err) < 0)
		return -1;
	if (p->io_priority && validate_io_priority(p->io_priority, err) < 0)
		return -1;
	if (p->exec_cpu_affinity) {
		if (validate_cpu_list(p->exec_cpu_affinity->initial,
		                      "process.execCPUAffinity.initial", err) < 0 ||
		    validate_cpu_list(p->exec_cpu_affinity->final, "process.execCPUAffinity.final",
		                      err) < 0)
			return -1;
	}
	return 0;
}

int process_validate_personality(const struct oci_personality *pers, struct skiff_error **err)
{
	if (pers == NULL)
		return 0;
	if (pers->domain == NULL)
		return error_msg(err, "linux.personality.domain: must be set");
	if (name_index(personality_names, pers->domain) < 0)
		return error_msg(
		    err,
		    "linux.personality.domain: unknown domain \"%s\" (expected LINUX or "
		    "LINUX32)",
		    pers->domain);
	/* The spec defines no flag values yet. */
	if (pers->flags && pers->flags[0])
		return error_msg(err, "linux.personality.flags[0]: unsupported flag \"%s\"",
		                 pers->flags[0]);
	return 0;
}

/* ---- rlimits, attributes, personality ---- */

/*
 * Raising a hard limit takes CAP_SYS_RESOURCE over the host, which root in
 * a user namespace (rootless) never has: say which limit was the ceiling.
 */
static int rlimit_error(size_t i, const struct oci_rlimit *r, int resource,
                        struct skiff_error **err)
{
	int e = errno;
	struct rlimit now;

	if (e == EPERM && getrlimit(resource, &now) == 0 && r->hard > now.rlim_max &&
	    now.rlim_max != RLIM_INFINITY)
		return error_set(err, e,
		                 "process.rlimits[%zu]: setrlimit %s: hard %llu is above the "
		                 "caller's hard limit %llu",
		                 i, r->type, (unsigned long long)r->hard,
		                 (unsigned long long)now.rlim_max);
	return error_set(err, e, "process.rlimits[%zu]: setrlimit %s", i, r->type);
}

int process_apply_rlimits(const struct oci_process *p, struct skiff_error **err)
{
	for (size_t i = 0; i < p->rlimits_len; i++) {
		const struct oci_rlimit *r = &p->rlimits[i];
		int type = name_index(rlimit_names, r->type);
		struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};

		if (type < 0)
			return error_msg(err, "process.rlimits[%zu]: unknown type \"%s\"", i,
			                 r->type ? r->type : "");
		if (setrlimit(type, &rl) < 0)
			return rlimit_error(i, r, type, err);
	}
	return 0;
}

static int apply_oom_score_adj(const struct oci_process *p, struct skiff_error **err)
{
	char buf[16];

	if (!p->has_oom_score_adj)
		return 0;
	snprintf(buf, sizeof(buf), "%d", (int)p->oom_score_adj);
	/* On skiff's own procfs: the container's /proc may be missing or planted. */
	if (procfs_write("self/oom_score_adj", buf) < 0)
		return error_errno(err, "process.oomScoreAdj: write %s to /proc/self/oom_score_adj",
		                   buf);
	return 0;
}

static int apply_scheduler(const struct oci_scheduler *s, struct skiff_error **err)
{
	int pol = name_index(sched_policy_names, s->policy);
	struct skiff_sched_attr attr = {.size = sizeof(attr)};
	uint64_t flags;

	if (pol < 0)
		return error_msg(err, "process.scheduler.policy: unknown policy \"%s\"",
		                 s->policy ? s->policy : "");
	if (sched_flags_mask(s, &flags, err) < 0)
		return -1;
	attr.sched_policy = (uint32_t)pol;
	attr.sched_flags = flags;
	attr.sched_nice = s->nice;
	attr.sched_priority = (uint32_t)s->priority;
	attr.sched_runtime = s->runtime;
	attr.sched_deadline = s->deadline;
	attr.sched_period = s->period;
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return error_errno(err, "process.scheduler: sched_setattr %s", s->policy);
	return 0;
}

static int apply_io_priority(const struct oci_io_priority *io, struct skiff_error **err)
{
	int class = name_index(ioprio_class_names, io->class);
	long value;

	if (class < 0)
		return error_msg(err, "process.ioPriority.class: unknown class \"%s\"",
		                 io->class ? io->class : "");
	value = ((long)(class + 1) << SKIFF_IOPRIO_CLASS_SHIFT) | io->priority;
	if (syscall(SYS_ioprio_set, SKIFF_IOPRIO_WHO_PROCESS, 0, value) < 0)
		return error_errno(err, "process.ioPriority: ioprio_set %s %d", io->class,
		                   (int)io->priority);
	return 0;
}

int process_apply_attributes(const struct oci_process *p, struct skiff_error **err)
{
	if (apply_oom_score_adj(p, err) < 0)
		return -1;
	if (p->scheduler && apply_scheduler(p->scheduler, err) < 0)
		return -1;
	if (p->io_priority && apply_io_priority(p->io_priority, err) < 0)
		return -1;
	return 0;
}

int process_apply_personality(const struct oci_personality *pers, struct skiff_error **err)
{
	int d;

	if (pers == NULL)
		return 0;
	d = name_index(personality_names, pers->domain);
	if (d < 0)
		return error_msg(err, "linux.personality.domain: unknown domain \"%s\"",
		                 pers->domain ? pers->domain : "");
	if (personality(d ? PER_LINUX32 : PER_LINUX) < 0)
		return error_errno(err, "linux.personality: personality %s", pers->domain);
	return 0;
}

/* ---- identity: bounding set, groups, uid/gid, capability sets ---- */

struct cap_sets {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

#define CAP_BIT(c) (UINT64_C(1) << (c))

static int caps_get(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &hdr, d) < 0)
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
	    {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
	    {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)},
	};

	return (int)syscall(SYS_capset, &hdr, d);
}

static int caps_from_config(const struct oci_capabilities *c, struct cap_sets *s,
                            struct skiff_error **err)
{
	*s = (struct cap_sets){0};
	if (c == NULL)
		return 0;
	if (capability_mask(c->bounding, "process.capabilities.bounding", &s->bounding, err) < 0 ||
	    capability_mask(c->effective, "process.capabilities.effective", &s->effective, err) <
	        0 ||
	    capability_mask(c->permitted, "process.capabilities.permitted", &s->permitted, err) <
	        0 ||
	    capability_mask(c->inheritable, "process.capabilities.inheritable", &s->inheritable,
	                    err) < 0 ||
	    capability_mask(c->ambient, "process.capabilities.ambient", &s->ambient, err) < 0)
		return -1;
	return 0;
}

/*
 * The spec asks runtimes not to fail on capabilities they cannot grant
 * (a runtime running with a reduced set): leave them out, and say so.
 */
static uint64_t caps_grantable(uint64_t want, uint64_t allowed, const char *field, const char *why)
{
	uint64_t missing = want & ~allowed;

	for (int c = 0; c < 64; c++)
		if (missing & CAP_BIT(c))
			log_warning("%s: cannot grant %s: %s", field,
			            capability_to_name(c) ? capability_to_name(c) : "?", why);
	return want & allowed;
}

/* *bnd gets the bounding set left, which nothing later in the init changes. */
static int drop_bounding(uint64_t keep, uint64_t *bnd, struct skiff_error **err)
{
	int last = capability_last_cap();

	*bnd = 0;
	for (int c = 0; c <= last; c++) {
		/* Skipping caps already gone lets exec work without CAP_SETPCAP. */
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) != 1)
			continue;
		if (keep & CAP_BIT(c)) {
			*bnd |= CAP_BIT(c);
			continue;
		}
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0)
			return error_errno(
			    err, "process.capabilities.bounding: prctl PR_CAPBSET_DROP %s",
			    capability_to_name(c) ? capability_to_name(c) : "?");
	}
	return 0;
}

/* In a user namespace whose setgroups is "deny", setgroups(2) always fails. */
static bool setgroups_denied(void)
{
	cleanup_free char *text = NULL;

	if (read_file("/proc/self/setgroups", &text, NULL, NULL) < 0)
		return false;
	return str_has_prefix(text, "deny");
}

/* Set in skiff before the clone; the child inherits it (see process.h). */
static bool keep_original_groups;

void process_keep_original_groups(const struct oci_map *annotations)
{
	keep_original_groups = false;
	for (size_t i = 0; annotations && i < annotations->len; i++)
		if (strcmp(annotations->keys[i], ANNOTATION_KEEP_ORIGINAL_GROUPS) == 0)
			keep_original_groups = true;
}

static int apply_groups(const struct oci_user *u, struct skiff_error **err)
{
	int saved;

	if (keep_original_groups)
		return 0;
	if (setgroups(u->additional_gids_len, (const gid_t *)u->additional_gids) == 0)
		return 0;
	/* A /proc read costs more than the call: made only once it failed. */
	saved = errno;
	if (saved == EPERM && setgroups_denied()) {
		if (u->additional_gids_len == 0)
			return 0;
		return error_msg(err,
		                 "process.user.additionalGids: setgroups is denied in this user "
		                 "namespace (/proc/self/setgroups)");
	}
	errno = saved;
	return error_errno(err, "process.user.additionalGids: setgroups");
}

/* ---- cwd ---- */

static int change_dir(const char *cwd, struct skiff_error **err)
{
	if (cwd == NULL)
		return error_msg(err, "process.cwd: must be set");
	if (chdir(cwd) < 0)
		return error_errno(err, "process.cwd: chdir \"%s\"", cwd);
	return 0;
}

/*
 * The cwd as the runtime, before the uid changes: the container's user may
 * work in a directory it could not enter itself (runc does the same).
 * 1 entered, 0 refused for lack of permission (the caller tries again as
 * the user, who may have rights the runtime lacks), <0 any other failure.
 */
static int enter_cwd_privileged(const char *cwd, struct skiff_error **err)
{
	if (cwd != NULL && chdir(cwd) == 0)
		return 1;
	if (cwd != NULL && (errno == EACCES || errno == EPERM))
		return 0;
	return change_dir(cwd, err);
}

/*
 * A directory fd leaked from the host would put cwd outside the root;
 * getcwd then fails with ENOENT or yields "(unreachable)/..."
 * (CVE-2024-21626).
 */
static int check_cwd_inside_root(const char *cwd, struct skiff_error **err)
{
	char buf[PATH_MAX];

	if (getcwd(buf, sizeof(buf)) == NULL) {
		if (errno == ENOENT)
			return error_msg(err, "process.cwd: \"%s\" is outside the container's root",
			                 cwd);
	} else if (buf[0] != '/') {
		return error_msg(err, "process.cwd: \"%s\" is outside the container's root", cwd);
	}
	return 0;
}

static int switch_user(const struct oci_user *u, struct skiff_error **err)
{
	/* Keep the permitted set across the uid change; capset trims it after. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return error_errno(err, "process.user: prctl PR_SET_KEEPCAPS 1");
	if (apply_groups(u, err) < 0)
		return -1;
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return error_errno(err, "process.user.gid: setresgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return error_errno(err, "process.user.uid: setresuid %u", (unsigned)u->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return error_errno(err, "process.user: prctl PR_SET_KEEPCAPS 0");
	return 0;
}

static void raise_ambient(uint64_t ambient, uint64_t prm, uint64_t inh)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		/* Kernels before 4.3 have no ambient set: nothing to clear. */
		if (ambient)
			log_debug("process.capabilities.ambient: not supported by the kernel: %s",
			          strerror(errno));
		return;
	}
	for (int c = 0; c < 64; c++) {
		const char *name = capability_to_name(c);

		if (!(ambient & CAP_BIT(c)))
			continue;
		if (!(prm & inh & CAP_BIT(c))) {
			log_debug(
			    "process.capabilities.ambient: skipping %s: not in both permitted "
			    "and inheritable",
			    name ? name : "?");
			continue;
		}
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0, 0) < 0)
			log_debug("process.capabilities.ambient: skipping %s: %s",
			          name ? name : "?", strerror(errno));
	}
}

/*
 * held NULL: the configured sets now.  Otherwise CAP_SYS_ADMIN stays the one
 * effective capability (the permitted set still holds what the runtime had)
 * and *held gets the configured sets for process_release_admin(): a seccomp
 * filter loaded without no_new_privs needs it, and loading it last keeps our
 * own syscalls out of it.  Ambient capabilities are raised now either way
 * (they need the cap in permitted and inheritable, which the final capset keeps).
 */
static int apply_identity(const struct oci_process *p, struct process_caps *held,
                          struct skiff_error **err)
{
	struct cap_sets want;
	uint64_t eff, prm, inh, bnd;
	int entered;

	if (caps_from_config(p->capabilities, &want, err) < 0)
		return -1;
	/* PR_CAPBSET_DROP needs CAP_SETPCAP, which the uid change may take away. */
	if (drop_bounding(want.bounding, &bnd, err) < 0)
		return -1;
	entered = enter_cwd_privileged(p->cwd, err);
	if (entered < 0)
		return -1;
	if (switch_user(&p->user, err) < 0)
		return -1;
	if (!entered && change_dir(p->cwd, err) < 0)
		return -1;
	if (caps_get(&eff, &prm, &inh) < 0)
		return error_errno(err, "process.capabilities: capget");
	want.effective = caps_grantable(want.effective, want.permitted,
	                                "process.capabilities.effective", "not in permitted");
	want.permitted = caps_grantable(want.permitted, prm, "process.capabilities.permitted",
	                                "not held by the runtime");
	want.effective &= want.permitted;
	/* capset(2): a new inheritable cap must be in the bounding set and, without
	 * CAP_SETPCAP, in the old permitted set. */
	want.inheritable = caps_grantable(
	    want.inheritable, (inh | bnd) & ((eff & CAP_BIT(CAP_SETPCAP)) ? ~0ULL : inh | prm),
	    "process.capabilities.inheritable", "not in the bounding and permitted sets");
	if (held) {
		*held =
		    (struct process_caps){want.effective, want.permitted, want.inheritable, true};
		want.effective = prm & CAP_BIT(CAP_SYS_ADMIN);
		want.permitted = prm;
	}
	/* Exactly the configured sets: an inheritable set left as inherited from
	 * the runtime would reach the container (CVE-2022-29162). */
	if (caps_set(want.effective, want.permitted, want.inheritable) < 0)
		return error_errno(err, "process.capabilities: capset");
	raise_ambient(want.ambient, held ? held->permitted : want.permitted, want.inheritable);
	return 0;
}

int process_apply_identity(const struct oci_process *p, struct skiff_error **err)
{
	return apply_identity(p, NULL, err);
}

int process_apply_identity_holding_admin(const struct oci_process *p, struct process_caps *held,
                                         struct skiff_error **err)
{
	return apply_identity(p, held, err);
}

int process_release_admin(const struct process_caps *held, struct skiff_error **err)
{
	if (!held->held)
		return 0;
	if (caps_set(held->effective, held->permitted, held->inheritable) < 0)
		return error_errno(err, "process.capabilities: capset");
	return 0;
}

int process_apply_final(const struct oci_process *p, struct skiff_error **err)
{
	umask(p->user.has_umask ? (mode_t)p->user.umask : 0022);
	if (check_cwd_inside_root(p->cwd, err) < 0)
		return -1;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_errno(err, "process.noNewPrivileges: prctl PR_SET_NO_NEW_PRIVS");
	return 0;
}

/* ---- file descriptors ---- */

static bool fd_kept(int fd, int keep_below, const int *keep, size_t n)
{
	if (fd < keep_below)
		return true;
	for (size_t i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

static void fd_sweep_one(int fd, bool cloexec)
{
	if (!cloexec) {
		close(fd);
		return;
	}
	int flags = fcntl(fd, F_GETFD);
	if (flags >= 0 && !(flags & FD_CLOEXEC))
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* Without close_range(2): walk /proc/self/fd, or every possible fd without /proc. */
static int fd_sweep_slow(int keep_below, const int *keep, size_t n, bool cloexec)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	struct rlimit rl;

	if (d == NULL) {
		int max = 65536;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < (1 << 20))
			max = (int)rl.rlim_max > max ? (int)rl.rlim_max : max;
		for (int fd = keep_below; fd < max; fd++)
			if (!fd_kept(fd, keep_below, keep, n))
				fd_sweep_one(fd, cloexec);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		long long fd;
		if (parse_int64(de->d_name, &fd) < 0 || fd == dirfd(d))
			continue;
		if (!fd_kept((int)fd, keep_below, keep, n))
			fd_sweep_one((int)fd, cloexec);
	}
	closedir(d);
	return 0;
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* One range with close_range(2); 1 when the kernel lacks it (or the flag). */
static int fd_sweep_range(unsigned int lo, unsigned int hi, bool cloexec)
{
	if (close_range(lo, hi, cloexec ? CLOSE_RANGE_CLOEXEC : 0) == 0)
		return 0;
	/* ENOSYS before 5.9, EINVAL for CLOSE_RANGE_CLOEXEC before 5.11. */
	return errno == ENOSYS || errno == EINVAL ? 1 : -1;
}

static int fd_sweep(int keep_below, const int *extra_keep, size_t n_extra, bool cloexec)
{
	cleanup_free int *keep = NULL;
	long lo;
	int r;

	if (keep_below < 0)
		keep_below = 0;
	keep = xcalloc(n_extra + 1, sizeof(int));
	if (n_extra)
		memcpy(keep, extra_keep, n_extra * sizeof(int));
	qsort(keep, n_extra, sizeof(int), int_cmp);
	lo = keep_below;
	for (size_t i = 0; i < n_extra; i++) {
		if (keep[i] < lo) /* below keep_below, or a duplicate */
			continue;
		if (keep[i] > lo) {
			r = fd_sweep_range((unsigned int)lo, (unsigned int)keep[i] - 1, cloexec);
			if (r != 0)
				goto slow;
		}
		lo = (long)keep[i] + 1;
	}
	r = fd_sweep_range((unsigned int)lo, ~0U, cloexec);
	if (r == 0)
		return 0;
slow:
	if (r < 0)
		return -1;
	return fd_sweep_slow(keep_below, extra_keep, n_extra, cloexec);
}

int process_close_fds(int keep_below, const int *extra_keep, size_t n_extra)
{
	return fd_sweep(keep_below, extra_keep, n_extra, false);
}

int process_cloexec_fds(int keep_below, const int *extra_keep, size_t n_extra)
{
	return fd_sweep(keep_below, extra_keep, n_extra, true);
}

/* ---- exec ---- */

/* The last PATH= wins, as it does when the entries are set one by one. */
static const char *env_path(char *const *env)
{
	const char *path = NULL;

	for (size_t i = 0; env && env[i]; i++)
		if (str_has_prefix(env[i], "PATH="))
			path = env[i] + 5;
	return path ? path : DEFAULT_PATH;
}

static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

/* The container's PATH, not the runtime's: execvpe(3) would use ours. */
static char *look_path(const char *file, const char *path)
{
	while (path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		char *candidate;

		/* An empty entry means the current directory (POSIX). */
		if (len == 0)
			candidate = xasprintf("./%s", file);
		else
			candidate = xasprintf("%.*s/%s", (int)len, path, file);
		if (is_executable_file(candidate))
			return candidate;
		free(candidate);
		path = colon ? colon + 1 : NULL;
	}
	return NULL;
}

static char *const empty_env[] = {NULL};

/* args[0] itself when it has a '/', else its match in the env's PATH. */
static int resolve_executable(const struct oci_process *p, char **out, struct skiff_error **err)
{
	const char *file;

	*out = NULL;
	if (p->args == NULL || p->args[0] == NULL || p->args[0][0] == '\0')
		return error_msg(err, "process.args: must not be empty");
	file = p->args[0];
	if (strchr(file, '/')) {
		*out = xstrdup(file);
		return 0;
	}
	*out = look_path(file, env_path(p->env ? p->env : empty_env));
	if (*out == NULL)
		return error_msg(err, "exec \"%s\": executable file not found in $PATH", file);
	return 0;
}

/* Resolved as execve will see it, so a bad command fails `create`, not `start`. */
int process_launch_resolve(const struct oci_process *p, struct process_launch *l,
                           struct skiff_error **err)
{
	struct stat st;

	*l = (struct process_launch){.proc = p, .status_fd = -1, .filter_fd = -1};
	if (resolve_executable(p, &l->path, err) < 0)
		return -1;
	if (stat(l->path, &st) < 0)
		return error_errno(err, "exec \"%s\"", p->args[0]);
	if (!S_ISREG(st.st_mode))
		return error_set(err, S_ISDIR(st.st_mode) ? EISDIR : EACCES, "exec \"%s\"",
		                 p->args[0]);
	if (faccessat(AT_FDCWD, l->path, X_OK, AT_EACCESS) < 0)
		return error_errno(err, "exec \"%s\"", p->args[0]);
	return 0;
}

int process_resolve_executable(const struct oci_process *p, struct skiff_error **err)
{
	struct process_launch l;
	int r = process_launch_resolve(p, &l, err);

	process_launch_clear(&l);
	return r;
}

/* ---- the exec trampoline (CVE-2019-5736) ---- */

/* Generated from src/libskiff/trampoline.c by mk/trampoline.am; empty where unsupported. */
extern const unsigned char trampoline_blob[];
extern const size_t trampoline_blob_size;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* Inherited by the clone; close-on-exec, which execveat of an ELF file allows. */
static int trampoline_fd = -1;

static int trampoline_memfd(void)
{
	const unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd = memfd_create("skiff-trampoline", flags | MFD_EXEC);

	/* MFD_EXEC is new in 6.3; without it older kernels make memfds executable anyway. */
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("skiff-trampoline", flags);
	return fd;
}

int process_exec_prepare(void)
{
	const unsigned int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	int fd;

	if (trampoline_fd >= 0 || trampoline_blob_size == 0)
		return 0;
	fd = trampoline_memfd();
	if (fd < 0)
		goto fail;
	/* Sealed: nobody, the container included, can ever change what it runs. */
	if (write_all(fd, trampoline_blob, trampoline_blob_size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, seals) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	trampoline_fd = fd;
	return 0;
fail:
	log_warning("exec trampoline: %s; the container's program will be executed directly",
	            strerror(errno));
	return -1;
}

/*
 * A selinuxLabel takes effect at the next execve, which would be the
 * trampoline's: the memfd is no entry point of the container's domain.
 * SELinux policy itself keeps container domains from writing the
 * runtime's executable, so there the program is executed directly.
 */
static bool trampoline_usable(const struct oci_process *p)
{
	if (trampoline_fd < 0)
		return false;
	return !(p->selinux_label && *p->selinux_label &&
	         strcmp(label_backend_name(), "selinux") == 0);
}

int process_launch_prepare(struct process_launch *l, int status_fd,
                           const struct seccomp_program *filter, struct skiff_error **err)
{
	size_t n = strv_len(l->proc->args);

	l->status_fd = status_fd;
	l->trampoline = trampoline_usable(l->proc);
	if (!l->trampoline)
		return 0;
	/* With no_new_privs the trampoline can load the filter itself, after its
	 * own syscalls; a listener fd would have to reach the agent from skiff. */
	if (filter && l->proc->no_new_privileges && !filter->needs_notify) {
		l->filter_fd = seccomp_program_memfd(filter, err);
		if (l->filter_fd < 0)
			return -1;
		snprintf(l->filter, sizeof(l->filter), "%d", l->filter_fd);
	} else {
		strcpy(l->filter, "-");
	}
	strcpy(l->status, "-");
	/* Open across the trampoline's exec only: the trampoline marks it close-on-exec. */
	if (status_fd >= 0 && fcntl(status_fd, F_SETFD, 0) == 0)
		snprintf(l->status, sizeof(l->status), "%d", status_fd);
	snprintf(l->fdpath, sizeof(l->fdpath), "/proc/self/fd/%d", trampoline_fd);
	l->argv = xcalloc(n + 5, sizeof(char *));
	l->argv[0] = (char *)"";
	l->argv[1] = l->status;
	l->argv[2] = l->filter;
	l->argv[3] = l->path;
	memcpy(l->argv + 4, l->proc->args, n * sizeof(char *));
	return 0;
}

bool process_launch_loads_filter(const struct process_launch *l)
{
	return l->filter_fd >= 0;
}

int process_launch_exec(struct process_launch *l, const struct seccomp_program *filter,
                        struct skiff_error **err)
{
	char *const *env = l->proc->env ? l->proc->env : empty_env;

	if (l->trampoline) {
		syscall(SYS_execveat, trampoline_fd, "", l->argv, env, AT_EMPTY_PATH);
		/* A profile may allow execve but not execveat (an ELF's fd may be cloexec). */
		if (errno == EPERM || errno == ENOSYS || errno == EACCES)
			execve(l->fdpath, l->argv, env);
		/* The program is now executed directly: it must get neither fd, nor run
		 * without the filter the trampoline would have loaded. */
		if (l->status_fd >= 0)
			fcntl(l->status_fd, F_SETFD, FD_CLOEXEC);
		if (l->filter_fd >= 0) {
			close(l->filter_fd);
			l->filter_fd = -1;
			if (seccomp_program_load(filter, NULL, err) < 0)
				return -1;
		}
	}
	execve(l->path, l->proc->args, env);
	return error_errno(err, "exec \"%s\"", l->proc->args[0]);
}

void process_launch_clear(struct process_launch *l)
{
	free(l->path);
	free(l->argv);
	if (l->filter_fd >= 0)
		close(l->filter_fd);
	l->filter_fd = -1;
	l->path = NULL;
	l->argv = NULL;
}

int process_exec(const struct oci_process *p, int status_fd, struct skiff_error **err)
{
	struct process_launch l;

	/*
	 * Until this execve the process is skiff's image: a script whose
	 * interpreter is /proc/self/exe would run the host's skiff binary in
	 * the container, open to being rewritten through /proc/PID/exe.  The
	 * trampoline makes /proc/self/exe a sealed memfd first.  Without /proc
	 * in the container neither the script nor the attack can name it.
	 */
	if (process_launch_resolve(p, &l, err) == 0 &&
	    process_launch_prepare(&l, status_fd, NULL, err) == 0)
		process_launch_exec(&l, NULL, err);
	process_launch_clear(&l);
	return -1;
}
