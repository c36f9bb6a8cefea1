/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdlib.h>
#include "commands.h"
#include "libskiff/exec.h"
#include "libskiff/utils.h"

enum {
	O_PROCESS = 1,
	O_TTY,
	O_CONSOLE_SOCKET,
	O_DETACH,
	O_PID_FILE,
	O_CWD,
	O_ENV,
	O_USER,
	O_ADDITIONAL_GIDS,
	O_CAP,
	O_NO_NEW_PRIVS,
	O_APPARMOR,
	O_PROCESS_LABEL,
	O_PRESERVE_FDS,
	O_IGNORE_PAUSED,
	O_CGROUP,
};

static const struct cli_option options[] = {
    CLI_OPT("process", 'p', true, O_PROCESS, "the process as runtime-spec JSON (replaces COMMAND)"),
    CLI_OPT("tty", 't', false, O_TTY, "allocate a pseudo-terminal"),
    CLI_OPT("console-socket", 0, true, O_CONSOLE_SOCKET,
            "unix socket that receives the pty master"),
    CLI_OPT("detach", 'd', false, O_DETACH, "return once the process has started"),
    CLI_OPT("pid-file", 0, true, O_PID_FILE, "write the process's pid to this file"),
    CLI_OPT("cwd", 0, true, O_CWD, "working directory in the container"),
    CLI_OPT("env", 'e', true, O_ENV, "set KEY=VALUE in the environment (repeatable)"),
    CLI_OPT("user", 'u', true, O_USER, "UID[:GID] to run as"),
    CLI_OPT("additional-gids", 'g', true, O_ADDITIONAL_GIDS, "supplementary group (repeatable)"),
    CLI_OPT("cap", 'c', true, O_CAP, "add a capability, e.g. CAP_KILL (repeatable)"),
    CLI_OPT("no-new-privs", 0, false, O_NO_NEW_PRIVS, "set no_new_privs"),
    CLI_OPT("apparmor", 0, true, O_APPARMOR, "AppArmor profile"),
    CLI_OPT("process-label", 0, true, O_PROCESS_LABEL, "SELinux label"),
    CLI_OPT("preserve-fds", 0, true, O_PRESERVE_FDS, "pass fds 3..3+N-1 to the process"),
    CLI_OPT("ignore-paused", 0, false, O_IGNORE_PAUSED, "exec even if the container is paused"),
    CLI_OPT("cgroup", 0, true, O_CGROUP,
            "run in an existing sub-cgroup: [CONTROLLER:]PATH (repeatable)"),
    CLI_HELP_OPTION,
    {0},
};

struct exec_args {
	struct exec_options o;
	char **env, **gids, **caps, **cgroups; /* owned lists; o points at them */
};

static void push(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct exec_args *a = data;
	bool b;

	switch (id) {
	case O_PROCESS:
		a->o.process_file = value;
		return 0;
	case O_TTY:
		if (cli_bool(value, &b, "tty", err) < 0)
			return -1;
		a->o.tty = b;
		return 0;
	case O_CONSOLE_SOCKET:
		a->o.console_socket = value;
		return 0;
	case O_DETACH:
		return cli_bool(value, &a->o.detach, "detach", err);
	case O_PID_FILE:
		a->o.pid_file = value;
		return 0;
	case O_CWD:
		a->o.cwd = value;
		return 0;
	case O_ENV:
		push(&a->env, value);
		return 0;
	case O_USER:
		a->o.user = value;
		return 0;
	case O_ADDITIONAL_GIDS:
		push(&a->gids, value);
		return 0;
	case O_CAP:
		push(&a->caps, value);
		return 0;
	case O_NO_NEW_PRIVS:
		return cli_bool(value, &a->o.no_new_privs, "no-new-privs", err);
	case O_APPARMOR:
		a->o.apparmor = value;
		return 0;
	case O_PROCESS_LABEL:
		a->o.process_label = value;
		return 0;
	case O_PRESERVE_FDS:
		return cli_preserve_fds(value, &a->o.preserve_fds, err);
	case O_IGNORE_PAUSED:
		return cli_bool(value, &a->o.ignore_paused, "ignore-paused", err);
	case O_CGROUP:
		push(&a->cgroups, value);
		return 0;
	}
	return 0;
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct exec_args a = {.o = {.tty = -1}};
	int npos, r, status = 0;

	r = cli_command_parse(&cmd_exec, CLI_STOP_AFTER_FIRST, argc, argv, on_option, &a, &npos,
	                      err);
	if (r == 0 && cli_want_args(&cmd_exec, npos, 1, -1, err) < 0)
		r = -1;
	if (r == 0) {
		/* From here on a failure is skiff's, not the process's (see context.h). */
		ctx->failure_status = 255;
		/* Everything after ID is the command line, options included. */
		argv[npos] = NULL;
		a.o.id = argv[0];
		a.o.args = argv + 1;
		a.o.env = a.env;
		a.o.additional_gids = a.gids;
		a.o.caps = a.caps;
		a.o.cgroups = a.cgroups;
		r = container_exec(ctx, &a.o, &status, err);
	}
	strv_free(a.env);
	strv_free(a.gids);
	strv_free(a.caps);
	strv_free(a.cgroups);
	if (r != 0)
		return r < 0 ? -1 : 0;
	/* The process's own exit status is skiff's. */
	if (status != 0)
		exit(status);
	return 0;
}

const struct cli_command cmd_exec = {
    .name = "exec",
    .usage = "[options] ID [COMMAND [ARG...]]",
    .summary = "run another process in a running container",
    .options = options,
    .run = run,
};
