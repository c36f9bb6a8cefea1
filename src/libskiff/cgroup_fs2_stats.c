/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The counters `events --stats` reports, read from a cgroup v2 directory.
 * A file that is missing because its controller is not enabled leaves the
 * matching has_* flag false; it is not an error.
 */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "utils.h"

static char *read_small(int dfd, const char *file)
{
	cleanup_close int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
	struct skiff_error *e = NULL;
	char *data = NULL;

	if (fd < 0)
		return NULL;
	if (read_fd_all(fd, &data, NULL, &e) < 0) {
		error_free(&e);
		return NULL;
	}
	return data;
}

static uint64_t parse_value(const char *s)
{
	if (strncmp(s, "max", 3) == 0)
		return CGROUP_MAX;
	return strtoull(s, NULL, 10);
}

/* A single-value file ("123\n" or "max\n"). */
static bool read_value(int dfd, const char *file, uint64_t *out)
{
	cleanup_free char *data = read_small(dfd, file);

	if (data == NULL)
		return false;
	*out = parse_value(data);
	return true;
}

/* Calls fn for each "key value" line of a flat-keyed file. */
static bool read_keyed(int dfd, const char *file, void (*fn)(void *, const char *, uint64_t),
                       void *arg)
{
	cleanup_free char *data = read_small(dfd, file);
	char *save = NULL;

	if (data == NULL)
		return false;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		fn(arg, line, parse_value(sp + 1));
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
}

static void set_memory_event(void *arg, const char *key, uint64_t v)
{
	struct cgroup_stats *s = arg;

	if (strcmp(key, "low") == 0)
		s->memory_events_low = v;
	else if (strcmp(key, "high") == 0)
		s->memory_events_high = v;
	else if (strcmp(key, "max") == 0)
		s->memory_events_max = v;
	else if (strcmp(key, "oom") == 0)
		s->memory_events_oom = v;
	else if (strcmp(key, "oom_kill") == 0)
		s->memory_events_oom_kill = v;
}

static void set_cpu_stat(void *arg, const char *key, uint64_t v)
{
	struct cgroup_stats *s = arg;

	if (strcmp(key, "usage_usec") == 0)
		s->cpu_usage_usec = v;
	else if (strcmp(key, "user_usec") == 0)
		s->cpu_user_usec = v;
	else if (strcmp(key, "system_usec") == 0)
		s->cpu_system_usec = v;
	else if (strcmp(key, "nr_periods") == 0)
		s->cpu_nr_periods = v;
	else if (strcmp(key, "nr_throttled") == 0)
		s->cpu_nr_throttled = v;
	else if (strcmp(key, "throttled_usec") == 0)
		s->cpu_throttled_usec = v;
}

static void read_memory(int dfd, struct cgroup_stats *s)
{
	s->has_memory = read_value(dfd, "memory.current", &s->memory_current);
	if (!s->has_memory)
		return;
	read_value(dfd, "memory.max", &s->memory_max);
	read_value(dfd, "memory.peak", &s->memory_peak);
	s->has_swap = read_value(dfd, "memory.swap.current", &s->swap_current) &&
	              read_value(dfd, "memory.swap.max", &s->swap_max);
	read_keyed(dfd, "memory.stat", add_memory_stat, s);
	for (size_t i = 0; i < s->memory_stat_len; i++)
		if (strcmp(s->memory_stat[i].key, "file") == 0)
			s->memory_cache = s->memory_stat[i].value;
	s->has_memory_events = read_keyed(dfd, "memory.events", set_memory_event, s);
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per line. */
static void read_io(int dfd, struct cgroup_stats *s)
{
	cleanup_free char *data = read_small(dfd, "io.stat");
	char *save = NULL;

	if (data == NULL)
		return;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cgroup_io_stat io = {0};
		char *f, *fsave = NULL;

		if (sscanf(line, "%u:%u", &io.major, &io.minor) != 2)
			continue;
		strtok_r(line, " ", &fsave);
		while ((f = strtok_r(NULL, " ", &fsave))) {
			static const struct {
				const char *key;
				size_t off;
			} keys[] = {
			    {"rbytes=", offsetof(struct cgroup_io_stat, rbytes)},
			    {"wbytes=", offsetof(struct cgroup_io_stat, wbytes)},
			    {"rios=", offsetof(struct cgroup_io_stat, rios)},
			    {"wios=", offsetof(struct cgroup_io_stat, wios)},
			    {"dbytes=", offsetof(struct cgroup_io_stat, dbytes)},
			    {"dios=", offsetof(struct cgroup_io_stat, dios)},
			};
			for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
				if (str_has_prefix(f, keys[k].key))
					*(uint64_t *)((char *)&io + keys[k].off) =
					    strtoull(f + strlen(keys[k].key), NULL, 10);
		}
		s->io = xrealloc(s->io, (s->io_len + 1) * sizeof(*s->io));
		s->io[s->io_len++] = io;
	}
}

static void set_failcnt(void *arg, const char *key, uint64_t v)
{
	if (strcmp(key, "max") == 0)
		*(uint64_t *)arg = v;
}

/* One entry per hugetlb.<size>.current file. */
static void read_hugetlb(int dfd, struct cgroup_stats *s)
{
	int fd = openat(dfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		const char *name = e->d_name, *suffix = ".current";
		size_t len = strlen(name);
		struct cgroup_hugetlb_stat h = {0};
		cleanup_free char *max = NULL, *events = NULL;

		if (!str_has_prefix(name, "hugetlb.") ||
		    len <= strlen("hugetlb.") + strlen(suffix) ||
		    strcmp(name + len - strlen(suffix), suffix) != 0 || strstr(name, ".rsvd."))
			continue;
		h.page_size =
		    strndup(name + strlen("hugetlb."), len - strlen("hugetlb.") - strlen(suffix));
		if (h.page_size == NULL)
			oom();
		read_value(dfd, name, &h.current);
		max = xasprintf("hugetlb.%s.max", h.page_size);
		events = xasprintf("hugetlb.%s.events", h.page_size);
		read_value(dfd, max, &h.max);
		read_keyed(dfd, events, set_failcnt, &h.failcnt);
		s->hugetlb = xrealloc(s->hugetlb, (s->hugetlb_len + 1) * sizeof(*s->hugetlb));
		s->hugetlb[s->hugetlb_len++] = h;
	}
	closedir(d);
}

int fs2_stats(const char *path, struct cgroup_stats *out, struct skiff_error **err)
{
	const char *mnt;
	cleanup_free char *dir = NULL;
	cleanup_close int dfd = -1;

	memset(out, 0, sizeof(*out));
	if (cgroup_mountpoint(&mnt, err) < 0)
		return -1;
	if (path == NULL || path[0] != '/' || strstr(path, "/.."))
		return error_msg(err, "cgroup: invalid cgroup path \"%s\"", path ? path : "");
	dir = xasprintf("%s%s", mnt, path);
	dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return error_errno(err, "cgroup: open %s", dir);
	read_memory(dfd, out);
	out->has_pids = read_value(dfd, "pids.current", &out->pids_current) &&
	                read_value(dfd, "pids.max", &out->pids_max);
	out->has_cpu = read_keyed(dfd, "cpu.stat", set_cpu_stat, out);
	read_io(dfd, out);
	read_hugetlb(dfd, out);
	return 0;
}

void cgroup_stats_free(struct cgroup_stats *s)
{
	for (size_t i = 0; i < s->memory_stat_len; i++)
		free(s->memory_stat[i].key);
	free(s->memory_stat);
	free(s->io);
	for (size_t i = 0; i < s->hugetlb_len; i++)
		free(s->hugetlb[i].page_size);
	free(s->hugetlb);
	memset(s, 0, sizeof(*s));
}
