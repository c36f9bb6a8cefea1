/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include "commands.h"
#include "libskiff/container.h"

enum { O_FORCE = 1 };

static const struct cli_option options[] = {
    CLI_OPT("force", 'f', false, O_FORCE, "kill a running container first"),
    CLI_HELP_OPTION,
    {0},
};

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	return cli_bool(value, data, "force", err);
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	bool force = false;
	int npos;
	int r =
	    cli_command_parse(&cmd_delete, CLI_PERMUTE, argc, argv, on_option, &force, &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_delete, npos, 1, 1, err) < 0)
		return -1;
	return container_delete(ctx, argv[0], force, err);
}

const struct cli_command cmd_delete = {
    .name = "delete",
    .usage = "[--force] ID",
    .summary = "remove a stopped (or, with --force, any) container and everything it holds",
    .options = options,
    .run = run,
};
