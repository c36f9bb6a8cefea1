/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "intelrdt.h"
#include "log.h"
#include "utils.h"

#define FIELD "linux.intelRdt"

#ifndef RDTGROUP_SUPER_MAGIC
#define RDTGROUP_SUPER_MAGIC 0x7655821
#endif

/* ---- validation ---- */

static int check_line(const char *value, const char *what, struct skiff_error **err)
{
	if (value && strchr(value, '\n'))
		return error_msg(err, FIELD ".%s: must not contain a newline", what);
	return 0;
}

int intelrdt_validate(const struct oci_intel_rdt *r, struct skiff_error **err)
{
	struct statfs sfs;

	if (r == NULL)
		return 0;
	if (check_line(r->l3_cache_schema, "l3CacheSchema", err) < 0 ||
	    check_line(r->mem_bw_schema, "memBwSchema", err) < 0)
		return -1;
	if (r->mem_bw_schema && *r->mem_bw_schema && strncmp(r->mem_bw_schema, "MB:", 3) != 0)
		return error_msg(err, FIELD ".memBwSchema: \"%s\" does not start with \"MB:\"",
		                 r->mem_bw_schema);
	for (size_t i = 0; r->schemata && r->schemata[i]; i++)
		if (strchr(r->schemata[i], '\n'))
			return error_msg(err, FIELD ".schemata[%zu]: must not contain a newline",
			                 i);
	/* One directory below the root, or the root itself ("/"). */
	if (r->clos_id && strcmp(r->clos_id, "/") != 0 &&
	    (*r->clos_id == '\0' || strchr(r->clos_id, '/') ||
	     name_in(".\0..\0info\0mon_groups\0mon_data", r->clos_id) >= 0))
		return error_msg(err, FIELD ".closID: \"%s\" is not a resctrl group name",
		                 r->clos_id);
	if (statfs(RESCTRL_MOUNT, &sfs) < 0 || sfs.f_type != RDTGROUP_SUPER_MAGIC)
		return error_msg(err, FIELD
		                 ": no resctrl filesystem is mounted at " RESCTRL_MOUNT
		                 " (the CPU or kernel lacks RDT, or it needs `mount -t resctrl "
		                 "resctrl " RESCTRL_MOUNT "`)");
	return 0;
}

/* ---- comparing schemata ---- */

/* Copies s without blanks. */
static char *squeeze(const char *s)
{
	char *out = xstrdup(s), *o = out;

	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			*o++ = *s;
	*o = '\0';
	return out;
}

/* The value of domain `id` in a squeezed "RES:id=v;id=v" line, or NULL. */
static const char *domain_value(const char *line, const char *id, size_t id_len)
{
	const char *p = strchr(line, ':');

	while (p) {
		p++;
		if (strncmp(p, id, id_len) == 0 && p[id_len] == '=')
			return p + id_len + 1;
		p = strchr(p, ';');
	}
	return NULL;
}

/* Cache masks are hex; bandwidth (MB, SMBA) is decimal. */
static bool same_value(const char *res, size_t res_len, const char *a, const char *b)
{
	int base = (res_len >= 2 && strncmp(res, "MB", 2) == 0) ||
	                   (res_len >= 4 && strncmp(res, "SMBA", 4) == 0)
	               ? 10
	               : 16;
	char *ea, *eb;
	unsigned long long va = strtoull(a, &ea, base), vb = strtoull(b, &eb, base);

	return ea != a && eb != b && (*ea == ';' || *ea == '\0') && (*eb == ';' || *eb == '\0') &&
	       va == vb;
}

static const char *find_resource(char *const *lines, const char *res, size_t res_len)
{
	for (size_t i = 0; lines[i]; i++)
		if (strncmp(lines[i], res, res_len) == 0 && lines[i][res_len] == ':')
			return lines[i];
	return NULL;
}

bool intelrdt_schema_matches(const char *want, const char *file)
{
	cleanup_free char *w = squeeze(want);
	cleanup_strv char **lines = NULL;
	cleanup_free char *copy = xstrdup(file);
	const char *colon = strchr(w, ':'), *have, *p;
	char *save = NULL;
	size_t n = 0, res_len;

	if (colon == NULL)
		return false;
	res_len = (size_t)(colon - w);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines = xrealloc(lines, (n + 2) * sizeof(char *));
		lines[n++] = squeeze(l);
		lines[n] = NULL;
	}
	have = lines ? find_resource(lines, w, res_len) : NULL;
	if (have == NULL)
		return false;
	for (p = colon + 1; *p;) {
		const char *eq = strchr(p, '='), *end = strchr(p, ';'), *got;
		if (eq == NULL || (end && end < eq))
			return false;
		got = domain_value(have, p, (size_t)(eq - p));
		if (got == NULL || !same_value(w, res_len, eq + 1, got))
			return false;
		p = end ? end + 1 : eq + strlen(eq);
	}
	return true;
}

/* ---- groups ---- */

/* Writes text to dir/file; resctrl explains a refusal in info/last_cmd_status. */
static int write_resctrl(const char *dir, const char *file, const char *text,
                         struct skiff_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file), *why = NULL;
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0 && write_all(fd, text, strlen(text)) == 0)
		return 0;
	int saved = errno;
	if (read_file(RESCTRL_MOUNT "/info/last_cmd_status", &why, NULL, NULL) == 0)
		why[strcspn(why, "\n")] = '\0';
	errno = saved;
	return error_errno(err, FIELD ": write \"%.*s\" to %s%s%s%s", (int)strcspn(text, "\n"),
	                   text, path, why ? " (resctrl: " : "", why ? why : "", why ? ")" : "");
}

static int mkdir_new(const char *path, struct skiff_error **err)
{
	if (mkdir(path, 0755) < 0)
		return error_errno(err, FIELD ": make resctrl group %s", path);
	return 0;
}

/* l3CacheSchema and memBwSchema must agree with a group that was there before. */
static int compare_existing(const struct oci_intel_rdt *r, const char *dir,
                            struct skiff_error **err)
{
	const char *want[] = {r->l3_cache_schema, r->mem_bw_schema};
	cleanup_free char *path = xasprintf("%s/schemata", dir), *have = NULL;

	if (read_file(path, &have, NULL, err) < 0)
		return error_wrap(err, FIELD);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (want[i] && *want[i] && !intelrdt_schema_matches(want[i], have))
			return error_msg(err, FIELD ".%s: \"%s\" does not match %s",
			                 i ? "memBwSchema" : "l3CacheSchema", want[i], path);
	return 0;
}

/* What goes to the schemata file, in the spec's order; NULL when nothing. */
static char *schemata_text(const struct oci_intel_rdt *r, bool with_legacy)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		oom();
	if (with_legacy && r->l3_cache_schema && *r->l3_cache_schema)
		fprintf(f, "%s\n", r->l3_cache_schema);
	if (with_legacy && r->mem_bw_schema && *r->mem_bw_schema)
		fprintf(f, "%s\n", r->mem_bw_schema);
	for (size_t i = 0; r->schemata && r->schemata[i]; i++)
		fprintf(f, "%s\n", r->schemata[i]);
	fclose(f);
	if (len == 0) {
		free(text);
		return NULL;
	}
	return text;
}

static bool has_schemas(const struct oci_intel_rdt *r)
{
	return (r->l3_cache_schema && *r->l3_cache_schema) ||
	       (r->mem_bw_schema && *r->mem_bw_schema) || (r->schemata && r->schemata[0]);
}

/* The CTRL_MON group: made, or (closID) checked and reused. */
static int place_group(const struct oci_intel_rdt *r, const char *id, struct container_status *st,
                       struct skiff_error **err)
{
	const char *name = r->clos_id ? r->clos_id : id;
	bool root = strcmp(name, "/") == 0;
	cleanup_free char *text = NULL;

	st->rdt_group = root ? xstrdup(RESCTRL_MOUNT) : xasprintf(RESCTRL_MOUNT "/%s", name);
	if (r->clos_id && access(st->rdt_group, F_OK) == 0) {
		if (compare_existing(r, st->rdt_group, err) < 0)
			return -1;
		text = schemata_text(r, false);
	} else if (r->clos_id && !has_schemas(r)) {
		return error_msg(err,
		                 FIELD ".closID: resctrl group %s does not exist (without schemas "
		                       "it must be made beforehand)",
		                 st->rdt_group);
	} else {
		/* A group already there is not the container's to take over. */
		if (mkdir_new(st->rdt_group, err) < 0)
			return -1;
		/* The spec: a group named by closID stays after delete, even one skiff made. */
		st->rdt_group_owned = r->clos_id == NULL;
		text = schemata_text(r, true);
	}
	return text ? write_resctrl(st->rdt_group, "schemata", text, err) : 0;
}

int intelrdt_setup(const struct oci_intel_rdt *r, const char *id, pid_t pid,
                   struct container_status *st, struct skiff_error **err)
{
	char pidtext[32];

	if (r == NULL)
		return 0;
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	if (place_group(r, id, st, err) < 0 ||
	    write_resctrl(st->rdt_group, "tasks", pidtext, err) < 0)
		return -1;
	if (r->enable_monitoring) {
		cleanup_free char *mon = xasprintf("%s/mon_groups/%s", st->rdt_group, id);
		if (mkdir_new(mon, err) < 0)
			return -1;
		st->rdt_mon = steal_ptr(&mon);
		if (write_resctrl(st->rdt_mon, "tasks", pidtext, err) < 0)
			return -1;
	}
	log_debug(FIELD ": pid %d in %s%s%s", (int)pid, st->rdt_group, st->rdt_mon ? ", " : "",
	          st->rdt_mon ? st->rdt_mon : "");
	return 0;
}

int intelrdt_join_self(const struct container_status *st, struct skiff_error **err)
{
	/* A MON group takes only tasks of its CTRL_MON group: that one first. "0" is the writer. */
	if (st->rdt_group && write_resctrl(st->rdt_group, "tasks", "0", err) < 0)
		return -1;
	if (st->rdt_mon && write_resctrl(st->rdt_mon, "tasks", "0", err) < 0)
		return -1;
	return 0;
}

void intelrdt_remove(const struct container_status *st)
{
	/* Removing a CTRL_MON group removes its MON groups with it. */
	const char *dir = st->rdt_group_owned ? st->rdt_group : st->rdt_mon;

	if (dir && rmdir(dir) < 0 && errno != ENOENT)
		log_warning(FIELD ": remove resctrl group %s: %s", dir, strerror(errno));
}
