/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "libskiff/container_ops.h"
#include "libskiff/log.h"
#include "libskiff/utils.h"

enum {
	O_RESOURCES = 1,
	O_MEMORY,
	O_MEMORY_SWAP,
	O_MEMORY_RESERVATION,
	O_KERNEL_MEMORY,
	O_KERNEL_MEMORY_TCP,
	O_CPU_QUOTA,
	O_CPU_PERIOD,
	O_CPU_SHARE,
	O_CPU_RT_PERIOD,
	O_CPU_RT_RUNTIME,
	O_CPUSET_CPUS,
	O_CPUSET_MEMS,
	O_PIDS_LIMIT,
	O_BLKIO_WEIGHT,
	O_COUNT,
};

static const struct cli_option options[] = {
    CLI_OPT("resources", 'r', true, O_RESOURCES, "linux.resources JSON from FILE (\"-\": stdin)"),
    CLI_OPT("memory", 0, true, O_MEMORY, "memory limit (bytes, or 512m, 1g...; -1: unlimited)"),
    CLI_OPT("memory-swap", 0, true, O_MEMORY_SWAP, "memory+swap limit (-1: unlimited)"),
    CLI_OPT("memory-reservation", 0, true, O_MEMORY_RESERVATION, "memory soft limit"),
    CLI_OPT("kernel-memory", 0, true, O_KERNEL_MEMORY, "ignored (cgroup v2 has none)"),
    CLI_OPT("kernel-memory-tcp", 0, true, O_KERNEL_MEMORY_TCP, "ignored (cgroup v2 has none)"),
    CLI_OPT("cpu-quota", 0, true, O_CPU_QUOTA, "CPU time (us) per period (-1: unlimited)"),
    CLI_OPT("cpu-period", 0, true, O_CPU_PERIOD, "CPU CFS period (us)"),
    CLI_OPT("cpu-share", 0, true, O_CPU_SHARE, "CPU shares (relative weight)"),
    CLI_OPT("cpu-rt-period", 0, true, O_CPU_RT_PERIOD, "real-time period (us; cgroup v1 only)"),
    CLI_OPT("cpu-rt-runtime", 0, true, O_CPU_RT_RUNTIME, "real-time runtime (us; cgroup v1 only)"),
    CLI_OPT("cpuset-cpus", 0, true, O_CPUSET_CPUS, "CPUs to run on (0-3, 0,1)"),
    CLI_OPT("cpuset-mems", 0, true, O_CPUSET_MEMS, "memory nodes to use (0-3, 0,1)"),
    CLI_OPT("pids-limit", 0, true, O_PIDS_LIMIT, "maximum number of processes (-1: unlimited)"),
    CLI_OPT("blkio-weight", 0, true, O_BLKIO_WEIGHT, "block IO weight (10-1000)"),
    CLI_HELP_OPTION,
    {0},
};

/* The last value given for each option (runc's flags behave the same). */
struct flags {
	const char *v[O_COUNT];
	bool any;
};

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct flags *f = data;

	f->v[id] = value;
	f->any = true;
	return 0;
}

static const char *flag_name(int id)
{
	for (const struct cli_option *o = options; o->name; o++)
		if (o->id == id)
			return o->name;
	return "?";
}

/*
 * A size as runc's flags take it (docker's units): "1024", "512m",
 * "1.5g", "1GiB"; binary multiples, case-insensitive.  "-1" is unlimited.
 */
static int parse_size(int id, const char *s, int64_t *out, struct skiff_error **err)
{
	static const char units[] = "kmgtp";
	const char *u;
	char *end;
	double v, mult = 1;

	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	errno = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	v = strtod(s, &end);
	if (errno || end == s)
		goto bad;
	if (*end == ' ')
		end++;
	if (*end && (u = strchr(units, tolower((unsigned char)*end))) != NULL) {
		for (const char *k = units; k <= u; k++)
			mult *= 1024;
		end++;
		if (tolower((unsigned char)*end) == 'i')
			end++;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end != '\0' || v * mult >= 9.2e18)
		goto bad;
	*out = (int64_t)(v * mult);
	return 0;
bad:
	return error_msg(err, "update: --%s: invalid size `%s` (expected bytes, like 512m or 1g)",
	                 flag_name(id), s);
}

static int parse_i64(int id, const char *s, int64_t *out, struct skiff_error **err)
{
	long long v;

	if (parse_int64(s, &v) < 0)
		return error_msg(err, "update: --%s: expected an integer, got `%s`", flag_name(id),
		                 s);
	*out = v;
	return 0;
}

static int parse_u64(int id, const char *s, uint64_t *out, struct skiff_error **err)
{
	unsigned long long v;
	char name[40];

	snprintf(name, sizeof(name), "update: --%s", flag_name(id));
	if (cli_uint(s, &v, name, err) < 0)
		return -1;
	*out = v;
	return 0;
}

/*
 * The parser names fields from the document's top ("memory.limit"); the
 * config's name for them ("linux.resources.memory.limit") is the one
 * users and callers know.
 */
static char *resources_message(char *perr)
{
	char *msg = perr, *colon;

	msg += strspn(msg, ": ");
	colon = strstr(msg, ": ");
	if (colon && memchr(msg, ' ', (size_t)(colon - msg)) == NULL) {
		char *named = xasprintf("linux.resources.%s", msg);
		free(perr);
		return named;
	}
	if (msg != perr)
		memmove(perr, msg, strlen(msg) + 1);
	return perr;
}

static int load_resources(const char *file, struct oci_resources **out, struct skiff_error **err)
{
	cleanup_free char *data = NULL, *perr = NULL;
	size_t len;
	int r;

	if (strcmp(file, "-") == 0)
		r = read_fd_all(STDIN_FILENO, &data, &len, err);
	else
		r = read_file(file, &data, &len, err);
	if (r < 0)
		return error_wrap(err, "update: --resources");
	*out = oci_resources_parse_data(data, len, "", &perr);
	if (*out == NULL) {
		perr = resources_message(perr);
		return error_msg(err, "update: --resources: %s", perr);
	}
	return 0;
}

static int memory_flags(const struct flags *f, struct oci_memory *m, struct skiff_error **err)
{
	if (f->v[O_MEMORY] && parse_size(O_MEMORY, f->v[O_MEMORY], &m->limit, err) < 0)
		return -1;
	if (f->v[O_MEMORY_SWAP] &&
	    parse_size(O_MEMORY_SWAP, f->v[O_MEMORY_SWAP], &m->swap, err) < 0)
		return -1;
	if (f->v[O_MEMORY_RESERVATION] &&
	    parse_size(O_MEMORY_RESERVATION, f->v[O_MEMORY_RESERVATION], &m->reservation, err) < 0)
		return -1;
	m->has_limit |= f->v[O_MEMORY] != NULL;
	m->has_swap |= f->v[O_MEMORY_SWAP] != NULL;
	m->has_reservation |= f->v[O_MEMORY_RESERVATION] != NULL;
	if (f->v[O_KERNEL_MEMORY] || f->v[O_KERNEL_MEMORY_TCP])
		log_warning("update: --kernel-memory and --kernel-memory-tcp are ignored: cgroup "
		            "v2 has no kernel memory limit");
	return 0;
}

static int cpu_flags(const struct flags *f, struct oci_cpu *c, struct skiff_error **err)
{
	if ((f->v[O_CPU_QUOTA] && parse_i64(O_CPU_QUOTA, f->v[O_CPU_QUOTA], &c->quota, err) < 0) ||
	    (f->v[O_CPU_PERIOD] &&
	     parse_u64(O_CPU_PERIOD, f->v[O_CPU_PERIOD], &c->period, err) < 0) ||
	    (f->v[O_CPU_SHARE] && parse_u64(O_CPU_SHARE, f->v[O_CPU_SHARE], &c->shares, err) < 0) ||
	    (f->v[O_CPU_RT_PERIOD] &&
	     parse_u64(O_CPU_RT_PERIOD, f->v[O_CPU_RT_PERIOD], &c->realtime_period, err) < 0) ||
	    (f->v[O_CPU_RT_RUNTIME] &&
	     parse_i64(O_CPU_RT_RUNTIME, f->v[O_CPU_RT_RUNTIME], &c->realtime_runtime, err) < 0))
		return -1;
	c->has_quota |= f->v[O_CPU_QUOTA] != NULL;
	c->has_period |= f->v[O_CPU_PERIOD] != NULL;
	c->has_shares |= f->v[O_CPU_SHARE] != NULL;
	c->has_realtime_period |= f->v[O_CPU_RT_PERIOD] != NULL;
	c->has_realtime_runtime |= f->v[O_CPU_RT_RUNTIME] != NULL;
	if (f->v[O_CPUSET_CPUS]) {
		free(c->cpus);
		c->cpus = xstrdup(f->v[O_CPUSET_CPUS]);
	}
	if (f->v[O_CPUSET_MEMS]) {
		free(c->mems);
		c->mems = xstrdup(f->v[O_CPUSET_MEMS]);
	}
	return 0;
}

static bool any_of(const struct flags *f, int from, int to)
{
	for (int i = from; i <= to; i++)
		if (f->v[i])
			return true;
	return false;
}

/* The flags, on top of --resources when both are given. */
static int apply_flags(const struct flags *f, struct oci_resources *r, struct skiff_error **err)
{
	if (any_of(f, O_MEMORY, O_KERNEL_MEMORY_TCP)) {
		if (r->memory == NULL)
			r->memory = xcalloc(1, sizeof(*r->memory));
		if (memory_flags(f, r->memory, err) < 0)
			return -1;
	}
	if (any_of(f, O_CPU_QUOTA, O_CPUSET_MEMS)) {
		if (r->cpu == NULL)
			r->cpu = xcalloc(1, sizeof(*r->cpu));
		if (cpu_flags(f, r->cpu, err) < 0)
			return -1;
	}
	if (f->v[O_PIDS_LIMIT]) {
		if (r->pids == NULL)
			r->pids = xcalloc(1, sizeof(*r->pids));
		if (parse_i64(O_PIDS_LIMIT, f->v[O_PIDS_LIMIT], &r->pids->limit, err) < 0)
			return -1;
		r->pids->has_limit = true;
	}
	if (f->v[O_BLKIO_WEIGHT]) {
		uint64_t w;
		if (parse_u64(O_BLKIO_WEIGHT, f->v[O_BLKIO_WEIGHT], &w, err) < 0)
			return -1;
		if (w > UINT16_MAX)
			return error_msg(err,
			                 "update: --blkio-weight: %s is out of range (10-1000)",
			                 f->v[O_BLKIO_WEIGHT]);
		if (r->block_io == NULL)
			r->block_io = xcalloc(1, sizeof(*r->block_io));
		r->block_io->weight = (uint16_t)w;
		r->block_io->has_weight = true;
	}
	return 0;
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct flags f = {0};
	struct oci_resources *res = NULL;
	int npos, ret;

	ret = cli_command_parse(&cmd_update, CLI_PERMUTE, argc, argv, on_option, &f, &npos, err);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	if (cli_want_args(&cmd_update, npos, 1, 1, err) < 0)
		return -1;
	if (!f.any)
		return error_msg(err, "update: nothing to update (give --resources FILE or a limit "
		                      "option; see `skiff update --help`)");
	if (f.v[O_RESOURCES])
		ret = load_resources(f.v[O_RESOURCES], &res, err);
	else
		res = xcalloc(1, sizeof(*res));
	if (ret == 0)
		ret = apply_flags(&f, res, err);
	if (ret == 0)
		ret = container_update(ctx, argv[0], res, err);
	oci_resources_free(res);
	return ret;
}

const struct cli_command cmd_update = {
    .name = "update",
    .usage = "[options] ID",
    .summary = "change the resource limits of a created, running or paused container",
    .options = options,
    .run = run,
};
