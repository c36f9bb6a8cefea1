/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "libskiff/container_ops.h"

enum { O_STATS = 1, O_INTERVAL };

static const struct cli_option options[] = {
    CLI_OPT("stats", 0, false, O_STATS, "print the container's stats once, then exit"),
    CLI_OPT("interval", 0, true, O_INTERVAL,
            "time between stats records (default 5s; 500ms, 1m...)"),
    CLI_HELP_OPTION,
    {0},
};

/* Go's time.ParseDuration units, in milliseconds. */
static const struct {
	const char *name;
	double ms;
} units[] = {
    {"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
    {"s", 1e3},   {"m", 6e4},   {"h", 3.6e6},
};

/* "1h2m3.5s", "500ms": one or more number+unit pairs, as Go writes them. */
static int parse_duration(const char *s, long *ms, struct skiff_error **err)
{
	const char *p = s;
	double total = 0;

	if (*p == '\0')
		goto bad;
	while (*p) {
		char *end;
		size_t best = 0, idx = 0;
		double v;

		errno = 0;
		if (!(*p >= '0' && *p <= '9') && *p != '.')
			goto bad;
		v = strtod(p, &end);
		if (errno || end == p)
			goto bad;
		/* The longest unit that matches ("ms" before "m"). */
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);
			if (n > best && strncmp(end, units[i].name, n) == 0) {
				best = n;
				idx = i;
			}
		}
		if (best == 0)
			goto bad;
		total += v * units[idx].ms;
		p = end + best;
	}
	if (total < 1 || total > 1e12)
		return error_msg(err, "events: --interval: `%s` is out of range (1ms or more)", s);
	*ms = (long)total;
	return 0;
bad:
	return error_msg(err, "events: --interval: invalid duration `%s` (like 5s, 500ms, 1m)", s);
}

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct events_options *o = data;

	if (id == O_STATS)
		return cli_bool(value, &o->stats_only, "stats", err);
	return parse_duration(value, &o->interval_ms, err);
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct events_options o = {.interval_ms = 5000};
	int npos,
	    r = cli_command_parse(&cmd_events, CLI_PERMUTE, argc, argv, on_option, &o, &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_events, npos, 1, 1, err) < 0)
		return -1;
	return container_events(ctx, argv[0], &o, err);
}

const struct cli_command cmd_events = {
    .name = "events",
    .usage = "[--stats] [--interval DURATION] ID",
    .summary = "print the container's stats and OOM events as JSON records, one a line",
    .options = options,
    .run = run,
};
