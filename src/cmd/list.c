/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "commands.h"
#include "libskiff/container.h"
#include "libskiff/utils.h"
#include "libocispec/runtime_spec.h"

enum { O_FORMAT = 1, O_QUIET };

static const struct cli_option options[] = {
    CLI_OPT("format", 'f', true, O_FORMAT, "table or json"),
    CLI_OPT("quiet", 'q', false, O_QUIET, "print only the ids"),
    CLI_HELP_OPTION,
    {0},
};

struct list_args {
	const char *format;
	bool quiet;
};

static int on_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct list_args *a = data;
	if (id == O_QUIET)
		return cli_bool(value, &a->quiet, "quiet", err);
	if (strcmp(value, "table") != 0 && strcmp(value, "json") != 0)
		return error_msg(err, "list: --format: unknown format `%s` (table or json)", value);
	a->format = value;
	return 0;
}

static void gen_kv(yajl_gen g, const char *k, const char *v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static void print_json(const struct listed_container *v, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		const struct container_status *st = &v[i].st;
		yajl_gen_map_open(g);
		gen_kv(g, "ociVersion", OCI_SPEC_VERSION);
		gen_kv(g, "id", st->id);
		yajl_gen_string(g, (const unsigned char *)"pid", 3);
		yajl_gen_integer(g, st->pid);
		gen_kv(g, "status", status_name(v[i].status));
		gen_kv(g, "bundle", or_empty(st->bundle));
		gen_kv(g, "rootfs", or_empty(st->rootfs));
		gen_kv(g, "created", or_empty(st->created));
		if (st->annotations.len) {
			yajl_gen_string(g, (const unsigned char *)"annotations", 11);
			yajl_gen_map_open(g);
			for (size_t a = 0; a < st->annotations.len; a++)
				gen_kv(g, st->annotations.keys[a], st->annotations.values[a]);
			yajl_gen_map_close(g);
		}
		gen_kv(g, "owner", v[i].owner);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	printf("%.*s\n", (int)len, buf);
	yajl_gen_free(g);
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct list_args a = {.format = "table"};
	struct listed_container *v;
	size_t n;
	int npos,
	    r = cli_command_parse(&cmd_list, CLI_PERMUTE, argc, argv, on_option, &a, &npos, err);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (cli_want_args(&cmd_list, npos, 0, 0, err) < 0)
		return -1;
	if (a.quiet) {
		cleanup_strv char **ids = NULL;

		if (container_list_ids(ctx, &ids, err) < 0)
			return -1;
		for (size_t i = 0; ids[i]; i++)
			printf("%s\n", ids[i]);
		return 0;
	}
	if (container_list(ctx, &v, &n, err) < 0)
		return -1;
	if (strcmp(a.format, "json") == 0)
		print_json(v, n);
	else {
		printf("%-20s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
		for (size_t i = 0; i < n; i++)
			printf("%-20s %-8d %-10s %-40s %-31s %s\n", v[i].st.id, v[i].st.pid,
			       status_name(v[i].status), or_empty(v[i].st.bundle),
			       or_empty(v[i].st.created), v[i].owner);
	}
	container_list_free(v, n);
	return 0;
}

const struct cli_command cmd_list = {
    .name = "list",
    .usage = "[--format table|json] [-q]",
    .summary = "list the containers under the state root",
    .options = options,
    .run = run,
};
