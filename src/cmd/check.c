/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "commands.h"
#include "libskiff/hostcheck.h"
#include "libskiff/rootless.h"
#include "libskiff/utils.h"

enum { O_FORMAT = 1 };

static const struct cli_option options[] = {
    CLI_OPT("format", 'f', true, O_FORMAT, "table or json"),
    CLI_HELP_OPTION,
    {0},
};

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	const char **format = data;

	if (strcmp(value, "table") != 0 && strcmp(value, "json") != 0)
		return error_msg(err, "check: --format: unknown format `%s` (table or json)",
		                 value);
	*format = value;
	return 0;
}

/* Table columns; text past the last one wraps at word boundaries. */
#define NAME_W   18
#define STATUS_W 8
#define TEXT_W   72

/*
 * Prints text from the DETAIL column on, at most TEXT_W wide, after
 * `first` on the first line; later lines are indented `hang` more.
 */
static void print_wrapped(const char *first, const char *text, int hang)
{
	int indent = NAME_W + STATUS_W + 2, width = TEXT_W;
	bool start = true;

	while (*text) {
		size_t n = strlen(text);
		if (n > (size_t)width) {
			n = (size_t)width;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0)
				n = strcspn(text, " ");
		}
		printf("%-*s%.*s\n", indent, start ? first : "", (int)n, text);
		text += n;
		text += strspn(text, " ");
		if (start) {
			indent += hang;
			width -= hang;
		}
		start = false;
	}
}

static void print_table(const struct hostcheck_report *r)
{
	char head[64];

	printf("%-*s %-*s %s\n", NAME_W, "FEATURE", STATUS_W, "STATUS", "DETAIL");
	for (size_t i = 0; i < r->n; i++) {
		const struct hostcheck_row *row = &r->rows[i];
		snprintf(head, sizeof(head), "%-*s %-*s ", NAME_W, row->name, STATUS_W,
		         hostcheck_status_name(row->status));
		print_wrapped(head, row->detail, 0);
		for (char **a = row->advice; *a; a++) {
			char *line = xasprintf("- %s", *a);
			print_wrapped("", line, 2);
			free(line);
		}
	}
}

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void print_json(const struct hostcheck_report *r)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	yajl_gen_map_open(g);
	gen_str(g, "runnable");
	yajl_gen_bool(g, hostcheck_runnable(r));
	gen_str(g, "checks");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->n; i++) {
		yajl_gen_map_open(g);
		gen_str(g, "name");
		gen_str(g, r->rows[i].name);
		gen_str(g, "status");
		gen_str(g, hostcheck_status_name(r->rows[i].status));
		gen_str(g, "detail");
		gen_str(g, r->rows[i].detail);
		gen_str(g, "advice");
		yajl_gen_array_open(g);
		for (char **a = r->rows[i].advice; *a; a++)
			gen_str(g, *a);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	printf("%.*s\n", (int)len, buf);
	yajl_gen_free(g);
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct hostcheck_report r = {0};
	struct skiff_error *no_root = NULL;
	const char *format = "table", *root;
	int npos, rc = cli_command_parse(&cmd_check, CLI_PERMUTE, argc, argv, on_option, &format,
	                                 &npos, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (cli_want_args(&cmd_check, npos, 0, 0, err) < 0)
		return -1;
	/* Stateless: a caller with no state root gets the report, and the reason, anyway. */
	root = ctx->root ? ctx->root : rootless_state_root(&no_root);
	hostcheck_run(root, no_root ? no_root->msg : NULL, &r);
	error_free(&no_root);
	if (strcmp(format, "json") == 0)
		print_json(&r);
	else
		print_table(&r);
	fflush(stdout);
	rc = hostcheck_runnable(&r) ? 0 : error_msg(err, "check: skiff cannot run on this host");
	hostcheck_report_free(&r);
	return rc;
}

const struct cli_command cmd_check = {
    .name = "check",
    .usage = "[--format table|json]",
    .summary = "say what works on this host, feature by feature, and why not",
    .options = options,
    .run = run,
    .stateless = true,
};
