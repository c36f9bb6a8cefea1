/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include "commands.h"
#include "criu_options.h"
#include "libskiff/checkpoint.h"

static const struct cli_option options[] = {
    CRIU_COMMON_OPTIONS,
    CLI_OPT("parent-path", 0, true, CO_PARENT_PATH,
            "previous pre-dump images, relative to --image-path"),
    CLI_OPT("leave-running", 0, false, CO_LEAVE_RUNNING,
            "leave the container running after the dump"),
    CLI_OPT("tcp-skip-in-flight", 0, false, CO_TCP_SKIP_IN_FLIGHT,
            "skip in-flight TCP connections"),
    CLI_OPT("link-remap", 0, false, CO_LINK_REMAP, "link unlinked open files back when possible"),
    CLI_OPT("page-server", 0, true, CO_PAGE_SERVER,
            "ADDRESS:PORT of a criu page server (with --lazy-pages: where to serve the pages)"),
    CLI_OPT("status-fd", 0, true, CO_STATUS_FD,
            "with --lazy-pages: write a zero byte to this fd once the pages are served"),
    CLI_OPT("pre-dump", 0, false, CO_PRE_DUMP,
            "dump only the memory and leave the container running (iterative migration)"),
    CLI_HELP_OPTION,
    {0},
};

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct criu_options o = {0};
	int npos, r = cli_command_parse(&cmd_checkpoint, CLI_PERMUTE, argc, argv, criu_option, &o,
	                                &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_checkpoint, npos, 1, 1, err) < 0)
		return -1;
	return container_checkpoint(ctx, argv[0], &o, err);
}

const struct cli_command cmd_checkpoint = {
    .name = "checkpoint",
    .usage = "[options] ID",
    .summary = "save a running container to disk with CRIU",
    .options = options,
    .run = run,
};
