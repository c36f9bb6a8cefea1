/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "libskiff/utils.h"

static const struct cli_option *find_long(const struct cli_option *opts, const char *name,
                                          size_t len)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts, char c)
{
	for (; opts && opts->name; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

/* Handles one argument that starts with '-'; *i may advance past a value. */
static int parse_one(const char *cmd, const struct cli_option *opts, int argc, char **argv, int *i,
                     cli_option_fn fn, void *data, struct skiff_error **err)
{
	const char *arg = argv[*i];
	const char *name = arg + 1, *eq, *value = NULL;
	const struct cli_option *opt;
	size_t len;

	if (*name == '-')
		name++;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	opt = find_long(opts, name, len);
	if (opt == NULL && len == 1 && arg[1] != '-')
		opt = find_short(opts, name[0]);
	if (opt == NULL)
		return error_msg(err, "%s: unknown option `%.*s` (see `skiff %s --help`)", cmd,
		                 (int)(len + (size_t)(name - arg)), arg, cmd);
	if (eq)
		value = eq + 1;
	else if (opt->has_arg) {
		if (*i + 1 >= argc)
			return error_msg(err, "%s: option `--%s` needs a value", cmd, opt->name);
		value = argv[++*i];
	}
	if (opt->id == CLI_HELP_ID)
		return 1;
	return fn(data, opt->id, value, err);
}

int cli_parse(const char *cmd, const struct cli_option *opts, enum cli_mode mode, int argc,
              char **argv, cli_option_fn fn, void *data, int *npos, struct skiff_error **err)
{
	int n = 0, i;

	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			argv[n++] = argv[i];
			if (mode == CLI_STOP_AT_FIRST || (mode == CLI_STOP_AFTER_FIRST && n == 1)) {
				i++;
				break;
			}
			continue;
		}
		int r = parse_one(cmd, opts, argc, argv, &i, fn, data, err);
		if (r != 0)
			return r;
	}
	for (; i < argc; i++)
		argv[n++] = argv[i];
	*npos = n;
	return 0;
}

int cli_bool(const char *value, bool *out, const char *name, struct skiff_error **err)
{
	/* The words for true at 0 and 1, for false after them. */
	static const char words[] = "true\0"
	                            "1\0"
	                            "false\0"
	                            "0";
	int i = value ? name_index(words, value) : 0;

	if (i < 0)
		return error_msg(err, "--%s: expected true or false, got `%s`", name, value);
	*out = i < 2; /* true or 1 */
	return 0;
}

int cli_uint(const char *value, unsigned long long *out, const char *name, struct skiff_error **err)
{
	char *end;

	errno = 0;
	if (value == NULL || *value == '\0' || *value == '-')
		goto bad;
	*out = strtoull(value, &end, 10);
	if (errno == 0 && *end == '\0')
		return 0;
bad:
	return error_msg(err, "--%s: expected an unsigned integer, got `%s`", name,
	                 value ? value : "");
}

int cli_preserve_fds(const char *value, unsigned int *out, struct skiff_error **err)
{
	unsigned long long n;

	if (cli_uint(value, &n, "preserve-fds", err) < 0)
		return -1;
	if (n > 4096)
		return error_msg(err, "--preserve-fds: %llu is too many", n);
	*out = (unsigned int)n;
	return 0;
}

void cli_print_help(const struct cli_command *cmd)
{
	printf("usage: skiff %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->options && cmd->options->name)
		printf("\noptions:\n");
	cli_print_options(cmd->options);
}

const char *cli_option_help(const struct cli_option *o)
{
	return o->name + strlen(o->name) + 1;
}

void cli_print_options(const struct cli_option *opts)
{
	for (const struct cli_option *o = opts; o && o->name; o++) {
		char left[64];
		const char *value = o->has_arg ? " VALUE" : "";

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s", o->short_name, o->name, value);
		else
			snprintf(left, sizeof(left), "    --%s%s", o->name, value);
		printf("  %-32s %s\n", left, cli_option_help(o));
	}
}

int cli_want_args(const struct cli_command *cmd, int npos, int min, int max,
                  struct skiff_error **err)
{
	if (npos < min)
		return error_msg(err, "%s: missing argument (usage: skiff %s %s)", cmd->name,
		                 cmd->name, cmd->usage);
	if (max >= 0 && npos > max)
		return error_msg(err, "%s: too many arguments (usage: skiff %s %s)", cmd->name,
		                 cmd->name, cmd->usage);
	return 0;
}

int cli_command_parse(const struct cli_command *cmd, enum cli_mode mode, int argc, char **argv,
                      cli_option_fn fn, void *data, int *npos, struct skiff_error **err)
{
	int r = cli_parse(cmd->name, cmd->options, mode, argc, argv, fn, data, npos, err);
	if (r == 1)
		cli_print_help(cmd);
	return r;
}

int cli_no_option(void *data, int id, const char *value, struct skiff_error **err)
{
	return 0;
}
