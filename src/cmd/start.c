/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include "commands.h"
#include "libskiff/container.h"

static const struct cli_option options[] = {
    CLI_HELP_OPTION,
    {0},
};

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	int npos, r = cli_command_parse(&cmd_start, CLI_PERMUTE, argc, argv, cli_no_option, NULL,
	                                &npos, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_start, npos, 1, 1, err) < 0)
		return -1;
	return container_start(ctx, argv[0], err);
}

const struct cli_command cmd_start = {
    .name = "start",
    .usage = "ID",
    .summary = "start the process of a created container",
    .options = options,
    .run = run,
};
