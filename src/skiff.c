/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd/commands.h"
#include "completion.h"
#include "libskiff/log.h"
#include "libskiff/rootless.h"
#include "libskiff/utils.h"
#include "libocispec/runtime_spec.h"

/* Sorted by name; --help lists them in this order. */
static const struct cli_command *const commands[] = {
    &cmd_check, &cmd_checkpoint, &cmd_create, &cmd_delete, &cmd_events,  &cmd_exec,   &cmd_features,
    &cmd_kill,  &cmd_list,       &cmd_pause,  &cmd_ps,     &cmd_restore, &cmd_resume, &cmd_run,
    &cmd_spec,  &cmd_start,      &cmd_state,  &cmd_update, NULL,
};

enum {
	G_ROOT = 1,
	G_LOG,
	G_LOG_FORMAT,
	G_DEBUG,
	G_SYSTEMD_CGROUP,
	G_ROOTLESS,
	G_CGROUP_MANAGER,
	G_VERSION,
	G_HELP,
};

static const struct cli_option global_options[] = {
    CLI_OPT("root", 0, true, G_ROOT,
            "state directory (default " SKIFF_DEFAULT_ROOT ", rootless $XDG_RUNTIME_DIR/skiff)"),
    CLI_OPT("log", 'l', true, G_LOG, "write log records to FILE"),
    CLI_OPT("log-format", 0, true, G_LOG_FORMAT, "text or json"),
    CLI_OPT("debug", 0, false, G_DEBUG, "add debug records to the log"),
    CLI_OPT("systemd-cgroup", 0, false, G_SYSTEMD_CGROUP, "use the systemd cgroup driver"),
    CLI_OPT("rootless", 0, true, G_ROOTLESS, "true, false or auto"),
    CLI_OPT("cgroup-manager", 0, true, G_CGROUP_MANAGER, "cgroupfs, systemd or disabled"),
    CLI_OPT("version", 'v', false, G_VERSION, "print the version"),
    CLI_OPT("help", 'h', false, G_HELP, "show this help"),
    {0},
};

struct global_state {
	struct skiff_context ctx;
	bool version, help;
};

static int global_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct global_state *g = data;

	switch (id) {
	case G_ROOT:
		g->ctx.root = value;
		return 0;
	case G_LOG:
		g->ctx.log = value;
		return 0;
	case G_LOG_FORMAT:
		g->ctx.log_format = value;
		return 0;
	case G_DEBUG:
		return cli_bool(value, &g->ctx.debug, "debug", err);
	case G_SYSTEMD_CGROUP:
		return cli_bool(value, &g->ctx.systemd_cgroup, "systemd-cgroup", err);
	case G_ROOTLESS:
		g->ctx.rootless = value;
		return 0;
	case G_CGROUP_MANAGER:
		if (strcmp(value, "cgroupfs") != 0 && strcmp(value, "systemd") != 0 &&
		    strcmp(value, "disabled") != 0)
			return error_msg(err,
			                 "--cgroup-manager: unknown manager `%s` (expected "
			                 "cgroupfs, systemd or disabled)",
			                 value);
		g->ctx.cgroup_manager = value;
		return 0;
	case G_VERSION:
		g->version = true;
		return 0;
	default:
		g->help = true;
		return 0;
	}
}

static void print_version(void)
{
	/* runc's shape: podman and containerd parse these lines. */
	printf("skiff version %s\ncommit: %s\nspec: %s\n", PACKAGE_VERSION, GIT_COMMIT,
	       OCI_SPEC_VERSION);
}

static void print_usage(void)
{
	printf("usage: skiff [global options] COMMAND [options] [arguments]\n\n"
	       "skiff runs OCI containers; its command line is runc's.\n\ncommands:\n");
	for (size_t i = 0; commands[i]; i++)
		printf("  %-10s %s\n", commands[i]->name, commands[i]->summary);
	printf("\nglobal options:\n");
	cli_print_options(global_options);
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; commands[i]; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int run_main(struct global_state *g, int argc, char **argv, struct skiff_error **err)
{
	const struct cli_command *cmd;
	int npos = 0;

	if (cli_parse("skiff", global_options, CLI_STOP_AT_FIRST, argc - 1, argv + 1, global_option,
	              g, &npos, err) < 0)
		return -1;
	if (log_init(g->ctx.log, g->ctx.log_format, g->ctx.debug, err) < 0)
		return -1;
	if (g->version) {
		print_version();
		return 0;
	}
	if (npos == 0) {
		print_usage();
		if (g->help)
			return 0;
		return error_msg(err, "no command given");
	}
	/* Hidden: completion scripts from the tables above (the build installs them). */
	if (strcmp(argv[1], "__completion") == 0)
		return completion_print(npos > 1 ? argv[2] : NULL, commands, global_options, err);
	cmd = find_command(argv[1]);
	if (cmd == NULL)
		return error_msg(err, "unknown command `%s` (see `skiff --help`)", argv[1]);
	if (g->ctx.root == NULL && !cmd->stateless &&
	    (g->ctx.root = rootless_state_root(err)) == NULL)
		return -1;
	log_debug("skiff %s (spec %s): %s, state root %s", PACKAGE_VERSION, OCI_SPEC_VERSION,
	          cmd->name, g->ctx.root ? g->ctx.root : "unused");
	/* The command sees its own arguments: argv[2..]. */
	return cmd->run(&g->ctx, npos - 1, argv + 2, err);
}

int main(int argc, char **argv)
{
	struct global_state g = {.ctx = {.log_format = "text", .failure_status = 1}};
	struct skiff_error *err = NULL;

	if (run_main(&g, argc, argv, &err) < 0) {
		if (err == NULL)
			error_msg(&err, "failed");
		log_error(err);
		error_free(&err);
		return g.ctx.failure_status;
	}
	return 0;
}
