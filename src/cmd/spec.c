/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "libskiff/default_spec.h"
#include "libskiff/utils.h"

enum { O_BUNDLE = 1, O_ROOTLESS };

static const struct cli_option options[] = {
    CLI_OPT("bundle", 'b', true, O_BUNDLE, "write config.json into this directory"),
    CLI_OPT("rootless", 0, false, O_ROOTLESS, "a config for an unprivileged user (user namespace)"),
    CLI_HELP_OPTION,
    {0},
};

struct spec_args {
	const char *bundle;
	bool rootless;
};

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct spec_args *a = data;
	if (id == O_BUNDLE) {
		a->bundle = value;
		return 0;
	}
	return cli_bool(value, &a->rootless, "rootless", err);
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct spec_args a = {.bundle = "."};
	cleanup_free char *json = NULL;
	cleanup_close int dirfd = -1, fd = -1;
	int npos,
	    r = cli_command_parse(&cmd_spec, CLI_PERMUTE, argc, argv, on_option, &a, &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_spec, npos, 0, 0, err) < 0)
		return -1;
	dirfd = open(a.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return error_errno(err, "spec: --bundle `%s`", a.bundle);
	json = default_spec_json(a.rootless, err);
	if (json == NULL)
		return -1;
	/* Like runc: never overwrite a config someone wrote. */
	fd = openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return error_msg(err, "spec: `%s/config.json` exists: remove it first",
			                 a.bundle);
		return error_errno(err, "spec: create `%s/config.json`", a.bundle);
	}
	if (write_all(fd, json, strlen(json)) < 0)
		return error_errno(err, "spec: write `%s/config.json`", a.bundle);
	return 0;
}

const struct cli_command cmd_spec = {
    .name = "spec",
    .usage = "[--bundle DIR] [--rootless]",
    .stateless = true,
    .summary = "write a default config.json",
    .options = options,
    .run = run,
};
