/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "libskiff/container_ops.h"
#include "libskiff/utils.h"

enum { O_FORMAT = 1 };

static const struct cli_option options[] = {
    CLI_OPT("format", 'f', true, O_FORMAT, "table (the host's ps output, filtered) or json (pids)"),
    CLI_HELP_OPTION,
    {0},
};

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	if (strcmp(value, "table") != 0 && strcmp(value, "json") != 0)
		return error_msg(err, "ps: --format: unknown format `%s` (expected table or json)",
		                 value);
	*(const char **)data = value;
	return 0;
}

static void print_json(const pid_t *pids, size_t n)
{
	putchar('[');
	for (size_t i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", (int)pids[i]);
	printf("]\n");
}

/* Runs the host's ps with args; its output goes to *out. */
static int run_ps(char **args, int nargs, char **out, struct skiff_error **err)
{
	char **argv = xcalloc((size_t)nargs + 3, sizeof(char *));
	int fds[2], status;
	pid_t pid;
	int r;

	argv[0] = "ps";
	if (nargs == 0)
		argv[1] = "-ef";
	for (int i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	fflush(stdout);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(argv);
		return error_errno(err, "ps: pipe");
	}
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execvp("ps", argv);
		fprintf(stderr, "skiff: ps: exec ps: %s\n", strerror(errno));
		_exit(127);
	}
	free(argv);
	close(fds[1]);
	r = pid < 0 ? error_errno(err, "ps: fork") : read_fd_all(fds[0], out, NULL, err);
	close(fds[0]);
	if (pid < 0)
		return -1;
	wait_pid(pid, &status);
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		free(*out);
		*out = NULL;
		return error_msg(err, "ps: the host's ps failed (status %d)",
		                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	return r;
}

/* The index of the PID column in ps's header line, or -1. */
static int pid_column(const char *header)
{
	cleanup_free char *copy = xstrdup(header);
	char *save = NULL;
	int i = 0;

	for (char *f = strtok_r(copy, " \t", &save); f; f = strtok_r(NULL, " \t", &save), i++)
		if (strcmp(f, "PID") == 0)
			return i;
	return -1;
}

static bool row_in(const char *row, int col, const pid_t *pids, size_t n)
{
	cleanup_free char *copy = xstrdup(row);
	char *save = NULL, *f = strtok_r(copy, " \t", &save);
	long pid;

	for (int i = 0; f && i < col; i++)
		f = strtok_r(NULL, " \t", &save);
	if (f == NULL)
		return false;
	pid = strtol(f, NULL, 10);
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* runc's table: the header, then the rows whose PID is in the container. */
static int print_table(char **args, int nargs, const pid_t *pids, size_t n,
                       struct skiff_error **err)
{
	cleanup_free char *out = NULL;
	char *save = NULL, *line;
	int col;

	if (run_ps(args, nargs, &out, err) < 0)
		return -1;
	line = strtok_r(out, "\n", &save);
	if (line == NULL || (col = pid_column(line)) < 0)
		return error_msg(err, "ps: no PID column in the output of the host's ps");
	printf("%s\n", line);
	while ((line = strtok_r(NULL, "\n", &save)))
		if (row_in(line, col, pids, n))
			printf("%s\n", line);
	return 0;
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	const char *format = "table";
	cleanup_free pid_t *pids = NULL;
	char **args;
	size_t n;
	int nargs, npos,
	    r = cli_command_parse(&cmd_ps, CLI_STOP_AFTER_FIRST, argc, argv, on_option, &format,
	                          &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_ps, npos, 1, -1, err) < 0)
		return -1;
	args = argv + 1;
	nargs = npos - 1;
	/* `skiff ps ID -- -o pid,comm` passes "--" along: it is not a ps option. */
	if (nargs > 0 && strcmp(args[0], "--") == 0) {
		args++;
		nargs--;
	}
	if (strcmp(format, "json") == 0 && nargs > 0)
		return error_msg(err, "ps: ps options cannot be used with --format json");
	if (container_pids(ctx, argv[0], &pids, &n, err) < 0)
		return -1;
	if (strcmp(format, "json") == 0) {
		print_json(pids, n);
		return 0;
	}
	return print_table(args, nargs, pids, n, err);
}

const struct cli_command cmd_ps = {
    .name = "ps",
    .usage = "[--format table|json] ID [ps options]",
    .summary = "list the container's processes (default: the host's `ps -ef`, filtered)",
    .options = options,
    .run = run,
};
