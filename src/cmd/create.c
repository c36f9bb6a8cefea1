/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include "commands.h"
#include "lifecycle_options.h"

static const struct cli_option options[] = {
    LIFECYCLE_OPTIONS,
    CLI_HELP_OPTION,
    {0},
};

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct lifecycle_args a = {0};
	int npos, r;

	r = cli_command_parse(&cmd_create, CLI_PERMUTE, argc, argv, lifecycle_option, &a, &npos,
	                      err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_create, npos, 1, 1, err) < 0)
		return -1;
	a.o.id = argv[0];
	return container_create(ctx, &a.o, err);
}

const struct cli_command cmd_create = {
    .name = "create",
    .usage = "[options] ID",
    .summary = "create a container from a bundle; its process waits for `start`",
    .options = options,
    .run = run,
};
