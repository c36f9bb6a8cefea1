/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The runc-compatible option parser: every form runc's callers use. */
#include <config.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

enum { O_BUNDLE = 1, O_DETACH, O_PID_FILE };

static const struct cli_option opts[] = {
    CLI_OPT("bundle", 'b', true, O_BUNDLE, ""),
    CLI_OPT("detach", 'd', false, O_DETACH, ""),
    CLI_OPT("pid-file", 0, true, O_PID_FILE, ""),
    {0},
};

struct seen {
	const char *bundle, *pid_file;
	int detach;
};

static int on_opt(void *data, int id, const char *value, struct skiff_error **err)
{
	struct seen *s = data;
	if (id == O_BUNDLE)
		s->bundle = value;
	else if (id == O_PID_FILE)
		s->pid_file = value;
	else if (id == O_DETACH)
		s->detach++;
	return 0;
}

static int parse(enum cli_mode mode, char **argv, int argc, struct seen *s, int *npos,
                 struct skiff_error **err)
{
	memset(s, 0, sizeof(*s));
	return cli_parse("create", opts, mode, argc, argv, on_opt, s, npos, err);
}

int main(void)
{
	struct skiff_error *err = NULL;
	struct seen s;
	int npos, r;

	{
		char *argv[] = {"--bundle", "/b", "--pid-file=/p", "-d", "web"};
		r = parse(CLI_PERMUTE, argv, 5, &s, &npos, &err);
		ok(r == 0 && npos == 1 && strcmp(argv[0], "web") == 0, "space and = forms");
		ok_str(s.bundle, "/b", "--bundle value");
		ok_str(s.pid_file, "/p", "--pid-file=value");
		ok(s.detach == 1, "short boolean");
	}
	{
		char *argv[] = {"web", "-bundle", "/b", "-b=/c"};
		r = parse(CLI_PERMUTE, argv, 4, &s, &npos, &err);
		ok(r == 0 && npos == 1, "options after the id, Go-style single dash");
		ok_str(s.bundle, "/c", "last value wins");
	}
	{
		char *argv[] = {"web", "sh", "-c", "--bundle"};
		r = parse(CLI_STOP_AFTER_FIRST, argv, 4, &s, &npos, &err);
		ok(r == 0 && npos == 4 && s.bundle == NULL,
		   "exec mode keeps the command's options");
		ok_str(argv[2], "-c", "command arguments in order");
	}
	{
		char *argv[] = {"--", "-x"};
		r = parse(CLI_PERMUTE, argv, 2, &s, &npos, &err);
		ok(r == 0 && npos == 1 && strcmp(argv[0], "-x") == 0, "-- ends the options");
	}
	{
		char *argv[] = {"--bogus", "web"};
		r = parse(CLI_PERMUTE, argv, 2, &s, &npos, &err);
		ok(r < 0 && err, "unknown option fails");
		ok_str(err ? err->msg : NULL,
		       "create: unknown option `--bogus` (see `skiff create --help`)",
		       "unknown option message names it");
		error_free(&err);
	}
	{
		char *argv[] = {"web", "--bundle"};
		r = parse(CLI_PERMUTE, argv, 2, &s, &npos, &err);
		ok_str(err ? err->msg : NULL, "create: option `--bundle` needs a value",
		       "missing value is named");
		error_free(&err);
	}
	{
		unsigned long long v = 0;
		ok(cli_uint("12", &v, "preserve-fds", &err) == 0 && v == 12, "cli_uint parses");
		ok(cli_uint("-1", &v, "preserve-fds", &err) < 0, "cli_uint refuses negatives");
		ok_str(err ? err->msg : NULL,
		       "--preserve-fds: expected an unsigned integer, got `-1`",
		       "cli_uint message");
		error_free(&err);
	}
	done_testing();
}
