/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `events`: runc-shaped stats records, and a stream of them with OOM
 * kills.  It drops the container's lock before it starts streaming, so
 * kill and delete are never blocked by a watcher.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cgroup.h"
#include "container.h"
#include "container_ops.h"
#include "log.h"
#include "status.h"
#include "utils.h"

/* How often `events` checks the init without a pidfd to wait on. */
#define LIVENESS_POLL_MS 250

/* ---- events: records ---- */

static void gen_key(yajl_gen g, const char *key)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

/* uint64 values ("max" is UINT64_MAX) do not fit yajl_gen_integer. */
static void gen_u64(yajl_gen g, const char *key, uint64_t v)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	gen_key(g, key);
	yajl_gen_number(g, buf, (size_t)len);
}

static void gen_str(yajl_gen g, const char *key, const char *v)
{
	gen_key(g, key);
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void gen_cpu(yajl_gen g, const struct cgroup_stats *s)
{
	gen_key(g, "cpu");
	yajl_gen_map_open(g);
	gen_key(g, "usage");
	yajl_gen_map_open(g);
	/* runc's units are nanoseconds; cpu.stat counts microseconds. */
	gen_u64(g, "total", s->cpu_usage_usec * 1000);
	gen_u64(g, "kernel", s->cpu_system_usec * 1000);
	gen_u64(g, "user", s->cpu_user_usec * 1000);
	yajl_gen_map_close(g);
	gen_key(g, "throttling");
	yajl_gen_map_open(g);
	gen_u64(g, "periods", s->cpu_nr_periods);
	gen_u64(g, "throttledPeriods", s->cpu_nr_throttled);
	gen_u64(g, "throttledTime", s->cpu_throttled_usec * 1000);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static void gen_entry(yajl_gen g, const char *key, uint64_t limit, uint64_t usage, uint64_t max,
                      uint64_t failcnt)
{
	gen_key(g, key);
	yajl_gen_map_open(g);
	gen_u64(g, "limit", limit);
	gen_u64(g, "usage", usage);
	gen_u64(g, "max", max);
	gen_u64(g, "failcnt", failcnt);
	yajl_gen_map_close(g);
}

static void gen_memory(yajl_gen g, const struct cgroup_stats *s)
{
	gen_key(g, "memory");
	yajl_gen_map_open(g);
	if (s->has_memory) {
		gen_u64(g, "cache", s->memory_cache);
		gen_entry(g, "usage", s->memory_max, s->memory_current, s->memory_peak,
		          s->memory_events_max);
		/* runc keeps v1's meaning: swap is memory+swap. */
		if (s->has_swap)
			gen_entry(g, "swap",
			          s->swap_max == CGROUP_MAX ? CGROUP_MAX
			                                    : sat_add(s->swap_max, s->memory_max),
			          s->swap_current + s->memory_current, 0, 0);
		gen_key(g, "raw");
		yajl_gen_map_open(g);
		for (size_t i = 0; i < s->memory_stat_len; i++)
			gen_u64(g, s->memory_stat[i].key, s->memory_stat[i].value);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

/* Without the pids controller runc counts cgroup.procs; so do we. */
static void gen_pids(yajl_gen g, const struct cgroup_stats *s, const struct cgroup_manager *cg)
{
	uint64_t current = s->pids_current, limit = s->has_pids ? s->pids_max : 0;

	if (!s->has_pids) {
		cleanup_free pid_t *pids = NULL;
		size_t n = 0;
		if (cgroup_pids(cg, &pids, &n, NULL) == 0)
			current = n;
	}
	gen_key(g, "pids");
	yajl_gen_map_open(g);
	gen_u64(g, "current", current);
	gen_u64(g, "limit", limit);
	yajl_gen_map_close(g);
}

static void gen_blkio_list(yajl_gen g, const char *key, const struct cgroup_stats *s, bool ios)
{
	gen_key(g, key);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < s->io_len; i++) {
		const struct cgroup_io_stat *io = &s->io[i];
		const char *ops[] = {"Read", "Write"};
		uint64_t v[] = {ios ? io->rios : io->rbytes, ios ? io->wios : io->wbytes};

		for (size_t k = 0; k < 2; k++) {
			yajl_gen_map_open(g);
			gen_u64(g, "major", io->major);
			gen_u64(g, "minor", io->minor);
			gen_str(g, "op", ops[k]);
			gen_u64(g, "value", v[k]);
			yajl_gen_map_close(g);
		}
	}
	yajl_gen_array_close(g);
}

static void gen_blkio_hugetlb(yajl_gen g, const struct cgroup_stats *s)
{
	gen_key(g, "blkio");
	yajl_gen_map_open(g);
	if (s->io_len) {
		gen_blkio_list(g, "ioServiceBytesRecursive", s, false);
		gen_blkio_list(g, "ioServicedRecursive", s, true);
	}
	yajl_gen_map_close(g);
	gen_key(g, "hugetlb");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < s->hugetlb_len; i++) {
		gen_key(g, s->hugetlb[i].page_size);
		yajl_gen_map_open(g);
		gen_u64(g, "usage", s->hugetlb[i].current);
		gen_u64(g, "max", s->hugetlb[i].max);
		gen_u64(g, "failcnt", s->hugetlb[i].failcnt);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

/* One record as a line: {"type":TYPE,"id":ID[,"data":{...}]}. */
static char *record(const char *type, const char *id, const struct cgroup_stats *s,
                    const struct cgroup_manager *cg)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	char *out;

	if (g == NULL)
		oom();
	yajl_gen_map_open(g);
	gen_str(g, "type", type);
	gen_str(g, "id", id);
	if (s) {
		gen_key(g, "data");
		yajl_gen_map_open(g);
		gen_cpu(g, s);
		gen_memory(g, s);
		gen_pids(g, s, cg);
		gen_blkio_hugetlb(g, s);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xasprintf("%.*s\n", (int)len, (const char *)buf);
	yajl_gen_free(g);
	return out;
}

static int print_record(char *line, struct skiff_error **err)
{
	cleanup_free char *l = line;

	if (write_all(STDOUT_FILENO, l, strlen(l)) < 0)
		return error_errno(err, "events: write to stdout");
	return 0;
}

static int print_stats(const struct container_status *st, const struct cgroup_manager *cg,
                       struct skiff_error **err)
{
	struct cgroup_stats s;
	int ret;

	if (cgroup_stats(cg, &s, err) < 0)
		return -1;
	ret = print_record(record("stats", st->id, &s, cg), err);
	cgroup_stats_free(&s);
	return ret;
}

/* ---- events: the stream ---- */

struct watch {
	const struct container_status *st;
	const struct cgroup_manager *cg;
	int pidfd;
	int oom_fd; /* readable when the OOM count may have moved, or -1 */
	uint64_t oom_kills;
};

/* runc sends one "oom" record each time the count goes up. */
static int check_oom(struct watch *w, struct skiff_error **err)
{
	uint64_t now = cgroup_oom_kills(w->cg);

	if (now <= w->oom_kills)
		return 0;
	w->oom_kills = now;
	return print_record(record("oom", w->st->id, NULL, NULL), err);
}

static int watch_init(struct watch *w, const struct container_status *st,
                      const struct cgroup_manager *cg, struct skiff_error **err)
{
	w->st = st;
	w->cg = cg;
	w->oom_kills = cgroup_oom_kills(cg);
	/* Without pidfds (ENOSYS), liveness is polled instead. */
	w->pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (w->pidfd < 0 && errno != ESRCH && errno != ENOSYS)
		return error_errno(err, "events: container `%s`: pidfd_open", st->id);
	/* Without a notifier the count is still read at every tick. */
	w->oom_fd = cgroup_oom_watch(cg);
	return 0;
}

static void watch_free(struct watch *w)
{
	if (w->pidfd >= 0)
		close(w->pidfd);
	if (w->oom_fd >= 0)
		close(w->oom_fd);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stopped(const struct watch *w)
{
	return !pid_is_same(w->st->pid, w->st->pid_start);
}

static int stream(struct watch *w, long interval_ms, struct skiff_error **err)
{
	long next = now_ms() + interval_ms;

	while (!stopped(w)) {
		struct pollfd pf[2] = {{.fd = w->pidfd, .events = POLLIN},
		                       {.fd = w->oom_fd, .events = POLLIN}};
		long wait = next - now_ms();
		int r;

		if (wait < 0)
			wait = 0;
		if (w->pidfd < 0 && wait > LIVENESS_POLL_MS)
			wait = LIVENESS_POLL_MS;
		r = poll(pf, 2, (int)wait);

		if (r < 0 && errno != EINTR)
			return error_errno(err, "events: poll");
		if (r > 0 && (pf[1].revents & POLLIN)) {
			char buf[4096];
			while (read(w->oom_fd, buf, sizeof(buf)) > 0)
				;
		}
		if (check_oom(w, err) < 0)
			return -1;
		if (r > 0 && (pf[0].revents & POLLIN))
			break;
		if (now_ms() >= next) {
			next += interval_ms;
			/* A cgroup removed under us means the container is gone. */
			if (print_stats(w->st, w->cg, NULL) < 0)
				break;
		}
	}
	return check_oom(w, err);
}

int container_events(const struct skiff_context *ctx, const char *id,
                     const struct events_options *o, struct skiff_error **err)
{
	struct container_status st;
	struct watch w = {.pidfd = -1, .oom_fd = -1};
	struct cgroup_manager cg;
	struct opened c;
	int ret;

	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	if (c.state == STATE_STOPPED)
		ret = error_msg(err, "container `%s` is not running", id);
	else
		ret = container_need_cgroup(&c, "events", &cg, err);
	if (ret < 0) {
		container_close(&c);
		return -1;
	}
	/* Keep the state (cg borrows its path), drop the lock: a watcher must not block kill or
	 * delete. */
	st = c.st;
	memset(&c.st, 0, sizeof(c.st));
	container_close(&c);
	if (o->stats_only)
		ret = print_stats(&st, &cg, err);
	else if ((ret = watch_init(&w, &st, &cg, err)) == 0)
		ret = stream(&w, o->interval_ms, err);
	watch_free(&w);
	status_free(&st);
	return ret;
}
