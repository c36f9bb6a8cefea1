/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include "commands.h"
#include "libskiff/container.h"

static const struct cli_option options[] = {
    CLI_HELP_OPTION,
    {0},
};

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	char *json = NULL;
	int npos, r = cli_command_parse(&cmd_state, CLI_PERMUTE, argc, argv, cli_no_option, NULL,
	                                &npos, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_state, npos, 1, 1, err) < 0)
		return -1;
	if (container_state(ctx, argv[0], &json, err) < 0)
		return -1;
	fputs(json, stdout);
	free(json);
	return 0;
}

const struct cli_command cmd_state = {
    .name = "state",
    .usage = "ID",
    .summary = "print the container's state as the runtime-spec defines it (JSON)",
    .options = options,
    .run = run,
};
