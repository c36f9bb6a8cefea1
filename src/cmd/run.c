/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdlib.h>
#include "commands.h"
#include "lifecycle_options.h"

static const struct cli_option options[] = {
    LIFECYCLE_OPTIONS,
    CLI_OPT("detach", 'd', false, LO_DETACH, "return once the container has started"),
    CLI_OPT("no-subreaper", 0, false, LO_NO_SUBREAPER, "accepted for runc compatibility"),
    CLI_OPT("keep", 0, false, LO_KEEP, "leave the exited container (state, cgroup) for `delete`"),
    CLI_HELP_OPTION,
    {0},
};

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct lifecycle_args a = {0};
	int npos, r, status = 0;

	r = cli_command_parse(&cmd_run, CLI_PERMUTE, argc, argv, lifecycle_option, &a, &npos, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_run, npos, 1, 1, err) < 0)
		return -1;
	a.o.id = argv[0];
	if (container_run(ctx, &a.o, a.detach, &status, err) < 0)
		return -1;
	/* The container's own exit status is skiff's. */
	if (status != 0)
		exit(status);
	return 0;
}

const struct cli_command cmd_run = {
    .name = "run",
    .usage = "[options] ID",
    .summary = "create and start a container; in the foreground, wait and exit with its status",
    .options = options,
    .run = run,
};
