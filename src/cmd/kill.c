/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <signal.h>
#include "commands.h"
#include "libskiff/container.h"
#include "libskiff/signals.h"

enum { O_ALL = 1 };

static const struct cli_option options[] = {
    CLI_OPT("all", 'a', false, O_ALL, "signal every process in the container"),
    CLI_HELP_OPTION,
    {0},
};

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	return cli_bool(value, data, "all", err);
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	bool all = false;
	int sig = SIGTERM, npos;
	int r = cli_command_parse(&cmd_kill, CLI_PERMUTE, argc, argv, on_option, &all, &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_kill, npos, 1, 2, err) < 0)
		return -1;
	if (npos == 2 && (sig = signal_parse(argv[1])) < 0)
		return error_msg(err, "kill: unknown signal `%s`", argv[1]);
	return container_kill(ctx, argv[0], sig, all, err);
}

const struct cli_command cmd_kill = {
    .name = "kill",
    .usage = "[--all] ID [SIGNAL]",
    .summary = "send a signal (default SIGTERM) to the container's init",
    .options = options,
    .run = run,
};
