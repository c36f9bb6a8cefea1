/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdlib.h>
#include "commands.h"
#include "criu_options.h"
#include "lifecycle_options.h"
#include "libskiff/checkpoint.h"

static const struct cli_option options[] = {
    CRIU_COMMON_OPTIONS,
    CLI_OPT("bundle", 'b', true, LO_BUNDLE, "bundle directory (default: the current directory)"),
    CLI_OPT("pid-file", 0, true, LO_PID_FILE, "write the restored init's pid to this file"),
    CLI_OPT("console-socket", 0, true, LO_CONSOLE_SOCKET,
            "unix socket that receives the new pty master (a terminal container)"),
    CLI_OPT("no-pivot", 0, false, LO_NO_PIVOT,
            "accepted for runc compatibility (criu makes the root)"),
    CLI_OPT("detach", 'd', false, LO_DETACH, "return once the container is restored"),
    CLI_OPT("no-subreaper", 0, false, LO_NO_SUBREAPER, "accepted for runc compatibility"),
    CLI_OPT("lsm-profile", 0, true, CO_LSM_PROFILE,
            "restore the processes under this LSM profile (apparmor:NAME or selinux:LABEL)"),
    CLI_OPT("lsm-mount-context", 0, true, CO_LSM_MOUNT_CONTEXT,
            "replace the SELinux context= of the restored mounts"),
    CLI_HELP_OPTION,
    {0},
};

struct restore_args {
	struct lifecycle_args a; /* the options restore shares with create and run */
	struct criu_options c;
};

static int option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct restore_args *r = data;

	if (id >= LO_BUNDLE && id <= LO_CONFIG)
		return lifecycle_option(&r->a, id, value, err);
	return criu_option(&r->c, id, value, err);
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct restore_args args = {0};
	struct restore_options r;
	int npos, status = 0;
	int ret =
	    cli_command_parse(&cmd_restore, CLI_PERMUTE, argc, argv, option, &args, &npos, err);

	if (ret != 0)
		return ret < 0 ? -1 : 0;
	if (cli_want_args(&cmd_restore, npos, 1, 1, err) < 0)
		return -1;
	args.a.o.id = argv[0];
	r = (struct restore_options){.o = args.a.o, .c = args.c, .detach = args.a.detach};
	if (container_restore(ctx, &r, &status, err) < 0)
		return -1;
	/* In the foreground the container's exit status is skiff's, as with run. */
	if (status != 0)
		exit(status);
	return 0;
}

const struct cli_command cmd_restore = {
    .name = "restore",
    .usage = "[options] ID",
    .summary = "restore a container from a checkpoint (CRIU images)",
    .options = options,
    .run = run,
};
