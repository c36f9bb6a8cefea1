/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CLI_H
#define SKIFF_CLI_H

#include <stdbool.h>
#include "libskiff/error.h"
#include "libskiff/context.h"

/*
 * runc's command line, parsed the way its callers use it: `--flag value`,
 * `--flag=value`, Go-style `-flag`, short `-f value`, and `--` to end the
 * options.
 */
struct cli_option {
	const char *name; /* the help text follows its NUL: one pointer an option */
	char short_name;  /* 0 when none */
	bool has_arg;
	int id;
};
#define CLI_OPT(name, short_name, has_arg, id, help)                                               \
	{                                                                                          \
		name "\0" help, short_name, has_arg, id                                            \
	}

const char *cli_option_help(const struct cli_option *o);

typedef int (*cli_option_fn)(void *data, int id, const char *value, struct skiff_error **err);

enum cli_mode {
	CLI_PERMUTE,          /* options may follow positionals (most commands) */
	CLI_STOP_AFTER_FIRST, /* everything after the first positional is a command line (exec) */
	CLI_STOP_AT_FIRST,    /* options end at the first positional (the global options) */
};

/*
 * Parses argv[0..argc) (argv[0] is the first argument, not a program
 * name).  Positionals are moved to the front of argv in order; their
 * count goes to *npos.  Returns 1 (without parsing further) on --help.
 */
int cli_parse(const char *cmd, const struct cli_option *opts, enum cli_mode mode, int argc,
              char **argv, cli_option_fn fn, void *data, int *npos, struct skiff_error **err);

/* The callback for commands whose only option is --help. */
int cli_no_option(void *data, int id, const char *value, struct skiff_error **err);
/* Parses a boolean option's optional `=value`. */
int cli_bool(const char *value, bool *out, const char *name, struct skiff_error **err);
int cli_uint(const char *value, unsigned long long *out, const char *name,
             struct skiff_error **err);
/* --preserve-fds N: an unsigned integer, at most 4096. */
int cli_preserve_fds(const char *value, unsigned int *out, struct skiff_error **err);

struct cli_command {
	const char *name;
	const char *usage;   /* after "skiff NAME " */
	const char *summary; /* one line */
	const struct cli_option *options;
	int (*run)(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err);
	bool stateless; /* never opens the state root (so needs no default one) */
};

void cli_print_help(const struct cli_command *cmd);
/* One line per option: "  -b, --bundle VALUE   help" (also for the global options). */
void cli_print_options(const struct cli_option *opts);
/* cli_parse with the command's own table; prints its help and returns 1 on --help. */
int cli_command_parse(const struct cli_command *cmd, enum cli_mode mode, int argc, char **argv,
                      cli_option_fn fn, void *data, int *npos, struct skiff_error **err);
/* Checks the positional count, with a clear message naming the command. */
int cli_want_args(const struct cli_command *cmd, int npos, int min, int max,
                  struct skiff_error **err);

#define CLI_HELP_ID     -1
#define CLI_HELP_OPTION CLI_OPT("help", 'h', false, CLI_HELP_ID, "show this help")

#endif
