/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The counters `events --stats` reports, read from the v1 hierarchies and
 * put in cgroup.h's shape (v2's units: microseconds, swap apart from
 * memory), which events.c turns back into runc's record.  A controller
 * that is not mounted leaves its has_* flag false.
 */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "utils.h"

struct src {
	const char *mnt; /* the controller's hierarchy, or NULL */
	const char *path;
};

static bool value(const struct src *s, const char *file, uint64_t *out)
{
	cleanup_free char *data = NULL;

	if (s->mnt == NULL || fs1_read(s->mnt, s->path, file, &data) < 0)
		return false;
	*out = strncmp(data, "max", 3) == 0 ? CGROUP_MAX : strtoull(data, NULL, 10);
	return true;
}

/* Calls fn for each "key value" line. */
static bool keyed(const struct src *s, const char *file, void (*fn)(void *, const char *, uint64_t),
                  void *arg)
{
	cleanup_free char *data = NULL;
	char *save = NULL;

	if (s->mnt == NULL || fs1_read(s->mnt, s->path, file, &data) < 0)
		return false;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		fn(arg, line, strtoull(sp + 1, NULL, 10));
	}
	return true;
}

static void add_memory_stat(void *arg, const char *key, uint64_t v)
{
	struct cgroup_stats *s = arg;

	s->memory_stat =
	    xrealloc(s->memory_stat, (s->memory_stat_len + 1) * sizeof(struct cgroup_kv));
	s->memory_stat[s->memory_stat_len].key = xstrdup(key);
	s->memory_stat[s->memory_stat_len++].value = v;
	if (strcmp(key, "cache") == 0)
		s->memory_cache = v;
}

static void set_oom(void *arg, const char *key, uint64_t v)
{
	struct cgroup_stats *s = arg;

	if (strcmp(key, "oom_kill") == 0)
		s->memory_events_oom_kill = v;
}

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void read_memory(const struct src *m, struct cgroup_stats *s)
{
	uint64_t failcnt = 0, memsw_usage, memsw_limit;

	s->has_memory = value(m, "memory.usage_in_bytes", &s->memory_current);
	if (!s->has_memory)
		return;
	value(m, "memory.limit_in_bytes", &s->memory_max);
	value(m, "memory.max_usage_in_bytes", &s->memory_peak);
	/* events.c reports memory_events_max as the failcnt, as v2 counts limit hits. */
	if (value(m, "memory.failcnt", &failcnt))
		s->memory_events_max = failcnt;
	/* memsw is memory+swap: kept apart here, events.c adds memory back. */
	s->has_swap = value(m, "memory.memsw.usage_in_bytes", &memsw_usage) &&
	              value(m, "memory.memsw.limit_in_bytes", &memsw_limit);
	if (s->has_swap) {
		s->swap_current = minus(memsw_usage, s->memory_current);
		s->swap_max = minus(memsw_limit, s->memory_max);
	}
	keyed(m, "memory.stat", add_memory_stat, s);
	s->has_memory_events = keyed(m, "memory.oom_control", set_oom, s);
}

static void set_user_system(void *arg, const char *key, uint64_t ticks)
{
	struct cgroup_stats *s = arg;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t usec = ticks * (1000000 / (uint64_t)(hz > 0 ? hz : 100));

	if (strcmp(key, "user") == 0)
		s->cpu_user_usec = usec;
	else if (strcmp(key, "system") == 0)
		s->cpu_system_usec = usec;
}

static void set_throttling(void *arg, const char *key, uint64_t v)
{
	struct cgroup_stats *s = arg;

	if (strcmp(key, "nr_periods") == 0)
		s->cpu_nr_periods = v;
	else if (strcmp(key, "nr_throttled") == 0)
		s->cpu_nr_throttled = v;
	else if (strcmp(key, "throttled_time") == 0)
		s->cpu_throttled_usec = v / 1000;
}

static void read_cpu(const struct src *acct, const struct src *cpu, struct cgroup_stats *s)
{
	uint64_t ns;

	if (value(acct, "cpuacct.usage", &ns)) {
		s->has_cpu = true;
		s->cpu_usage_usec = ns / 1000;
	}
	keyed(acct, "cpuacct.stat", set_user_system, s);
	keyed(cpu, "cpu.stat", set_throttling, s);
}

static struct cgroup_io_stat *io_entry(struct cgroup_stats *s, uint32_t major, uint32_t minor)
{
	for (size_t i = 0; i < s->io_len; i++)
		if (s->io[i].major == major && s->io[i].minor == minor)
			return &s->io[i];
	s->io = xrealloc(s->io, (s->io_len + 1) * sizeof(*s->io));
	memset(&s->io[s->io_len], 0, sizeof(*s->io));
	s->io[s->io_len].major = major;
	s->io[s->io_len].minor = minor;
	return &s->io[s->io_len++];
}

/* "8:0 Read 4096" lines; bytes or ios by file. */
static void read_blkio_file(const struct src *b, const char *file, bool ios, struct cgroup_stats *s)
{
	cleanup_free char *data = NULL;
	char *save = NULL;

	if (b->mnt == NULL || fs1_read(b->mnt, b->path, file, &data) < 0)
		return;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned major, minor;
		unsigned long long v;
		char op[16];
		struct cgroup_io_stat *e;

		if (sscanf(line, "%u:%u %15s %llu", &major, &minor, op, &v) != 4)
			continue;
		e = io_entry(s, major, minor);
		if (strcmp(op, "Read") == 0)
			*(ios ? &e->rios : &e->rbytes) = v;
		else if (strcmp(op, "Write") == 0)
			*(ios ? &e->wios : &e->wbytes) = v;
		else if (strcmp(op, "Discard") == 0)
			*(ios ? &e->dios : &e->dbytes) = v;
	}
}

int fs1_stats(const char *path, struct cgroup_stats *out, struct skiff_error **err)
{
	const struct fs1_host *h;
	struct src memory, pids, acct, cpu, blkio;

	memset(out, 0, sizeof(*out));
	if ((h = fs1_host_get(err)) == NULL)
		return -1;
	memory = (struct src){fs1_mount_of(h, "memory"), path};
	pids = (struct src){fs1_mount_of(h, "pids"), path};
	acct = (struct src){fs1_mount_of(h, "cpuacct"), path};
	cpu = (struct src){fs1_mount_of(h, "cpu"), path};
	blkio = (struct src){fs1_mount_of(h, "blkio"), path};
	read_memory(&memory, out);
	out->has_pids = value(&pids, "pids.current", &out->pids_current) &&
	                value(&pids, "pids.max", &out->pids_max);
	read_cpu(&acct, &cpu, out);
	read_blkio_file(&blkio, "blkio.throttle.io_service_bytes_recursive", false, out);
	read_blkio_file(&blkio, "blkio.throttle.io_serviced_recursive", true, out);
	/* Hugepages: where the hugetlb controller lives here. */
	if (fs1_mount_of(h, "hugetlb") == NULL && h->v2) {
		struct cgroup_stats v2;
		if (fs2_stats(path, &v2, NULL) == 0) {
			out->hugetlb = steal_ptr(&v2.hugetlb);
			out->hugetlb_len = v2.hugetlb_len;
			v2.hugetlb_len = 0;
			cgroup_stats_free(&v2);
		}
	}
	return 0;
}
