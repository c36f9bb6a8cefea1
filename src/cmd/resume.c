/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include "commands.h"
#include "libskiff/container_ops.h"

static const struct cli_option options[] = {
    CLI_HELP_OPTION,
    {0},
};

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	int npos, r = cli_command_parse(&cmd_resume, CLI_PERMUTE, argc, argv, cli_no_option, NULL,
	                                &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_resume, npos, 1, 1, err) < 0)
		return -1;
	return container_resume(ctx, argv[0], err);
}

const struct cli_command cmd_resume = {
    .name = "resume",
    .usage = "ID",
    .summary = "resume every process of a paused container",
    .options = options,
    .run = run,
};
