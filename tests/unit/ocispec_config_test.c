/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json: every field kind read from a config that sets every field
 * the tables know, a full parse -> generate -> parse round trip, generation
 * leaving absent fields out, unknown fields ignored, and the lone process
 * and resources documents.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libocispec/config_tables.h"
#include "libocispec/runtime_spec.h"
#include "tap.h"

#define FULL_CONFIG OCISPEC_SRCDIR "/tests/unit/ocispec_full_config.json"

static struct oci_config *parse(const char *json, char **err)
{
	*err = NULL;
	return oci_config_parse_data(json, strlen(json), "config.json", err);
}

/*
 * Every field of every table must be set somewhere in the full config, so
 * the round trip below covers them all: a new table line without a
 * matching value in the JSON fails here.  mark() records which fields were
 * seen anywhere (any element of any array); report() walks the tables.
 */
#define MAX_FIELDS 512
static const struct jw_field *seen[MAX_FIELDS];
static size_t n_seen;

static void mark(const struct jw_struct *st, const void *p)
{
	const struct jw_field *f;
	size_t i, j;

	for (f = st->fields; f < st->fields + st->nfields; f++) {
		const char *fp = (const char *)p + f->off;

		if (!jw_field_present(f, p))
			continue;
		for (j = 0; j < n_seen && seen[j] != f; j++)
			;
		if (j == n_seen && n_seen < MAX_FIELDS)
			seen[n_seen++] = f;
		if (f->kind == JW_STRUCT)
			mark(f->sub, *(void *const *)fp);
		else if (f->kind == JW_INLINE)
			mark(f->sub, fp);
		else if (f->kind == JW_STRUCT_ARRAY || f->kind == JW_STRUCT_MAP)
			for (i = 0; i < *(const size_t *)((const char *)p + f->len_off); i++)
				mark(f->sub, *(char *const *)fp + i * f->sub->size);
	}
}

static int report(const struct jw_struct *st, const char *path, int depth)
{
	const struct jw_field *f;
	int missing = 0;
	size_t j;

	for (f = st->fields; f < st->fields + st->nfields && depth < 10; f++) {
		char sub[512];

		snprintf(sub, sizeof(sub), "%s.%s", path, f->name);
		for (j = 0; j < n_seen && seen[j] != f; j++)
			;
		if (j == n_seen) {
			printf("#   full config never sets %s\n", sub);
			missing++;
		}
		if (JW_HAS_SUB(f->kind))
			missing += report(f->sub, sub, depth + 1);
	}
	return missing;
}

static void field_kinds(const struct oci_config *c)
{
	const struct oci_process *p = c->process;
	const struct oci_linux *l = c->linux_;
	const struct oci_resources *r = l->resources;

	/* strings, with escapes and \u escapes (a surrogate pair) decoded to UTF-8 */
	ok_str(c->oci_version, "1.2.0", "string: ociVersion");
	ok_str(p->args[2], "echo \"hi\" \\ \xc3\xa9\xf0\x9f\x98\x80", "string: escapes decoded");
	ok_str(p->user.username, "web", "string: user.username");
	/* bools */
	ok(p->terminal && p->no_new_privileges && c->root->readonly, "bool: true values");
	ok(r->memory->has_disable_oom_killer && !r->memory->disable_oom_killer,
	   "bool with has_: false kept as present");
	ok(!r->devices[0].allow && r->devices[1].allow, "bool: device cgroup allow");
	/* int32 */
	ok(p->has_oom_score_adj && p->oom_score_adj == -1000, "int32: oomScoreAdj -1000");
	ok(p->scheduler->has_priority && p->scheduler->priority == 2147483647, "int32: INT32_MAX");
	ok(p->scheduler->has_nice && p->scheduler->nice == -20, "int32: nice -20");
	/* uint32 */
	ok(p->user.uid == 4294967295u && p->user.gid == 100, "uint32: UINT32_MAX uid");
	ok(p->user.has_umask && p->user.umask == 18, "uint32: umask");
	ok(r->network->has_class_id && r->network->class_id == 1048577, "uint32: classID");
	/* int64 */
	ok(l->time_offsets->boottime.secs == INT64_MIN, "int64: INT64_MIN");
	ok(r->memory->has_swap && r->memory->swap == -1, "int64: swap -1");
	ok(c->hooks->create_runtime.hooks[1].timeout == INT64_MAX, "int64: INT64_MAX timeout");
	/* uint64 */
	ok(p->rlimits[0].hard == UINT64_MAX && p->rlimits[0].soft == 1024, "uint64: UINT64_MAX");
	ok(l->seccomp->syscalls[1].args[0].value_two == UINT64_MAX, "uint64: valueTwo");
	ok(p->console_size->height == 25 && p->console_size->width == 80, "uint64: consoleSize");
	/* uint16 */
	ok(r->block_io->has_weight && r->block_io->weight == 500, "uint16: weight");
	ok(r->block_io->has_leaf_weight && r->block_io->leaf_weight == 65535, "uint16: UINT16_MAX");
	ok(r->block_io->weight_device_len == 2 && !r->block_io->weight_device[1].has_weight,
	   "uint16: absent weight has has_weight false");
	/* string arrays: NULL-terminated, empty array is non-NULL */
	ok(p->args && p->args[3] == NULL && strcmp(p->args[0], "/bin/sh") == 0,
	   "string array: args");
	ok(p->capabilities->inheritable && p->capabilities->inheritable[0] == NULL,
	   "string array: [] is present and empty");
	ok(c->mounts[0].options == NULL, "string array: absent is NULL");
	/* uint32 array */
	ok(p->user.additional_gids_len == 3 && p->user.additional_gids[2] == 4294967295u,
	   "uint32 array: additionalGids");
	/* string maps, in document order */
	ok(c->annotations.len == 2 && strcmp(c->annotations.keys[0], "org.example.key") == 0,
	   "string map: order kept");
	ok_str(oci_map_get(&c->annotations, "org.example.key"), "value", "oci_map_get hit");
	ok_str(oci_map_get(&c->annotations, "b"), "", "oci_map_get empty value");
	ok(oci_map_get(&c->annotations, "nope") == NULL, "oci_map_get miss");
	ok_str(oci_map_get(&r->unified, "io.weight"), "default 100", "string map: unified");
	ok_str(oci_map_get(&l->sysctl, "net.ipv4.ip_forward"), "1", "string map: sysctl");
	/* nested struct pointer, inline struct */
	ok(p->exec_cpu_affinity && strcmp(p->exec_cpu_affinity->final, "2") == 0,
	   "struct pointer: execCPUAffinity");
	ok(l->time_offsets->has_boottime && l->time_offsets->has_monotonic &&
	       l->time_offsets->monotonic.secs == 172800 &&
	       l->time_offsets->boottime.nanosecs == 999999999,
	   "inline struct with has_: timeOffsets");
	/* arrays of structs */
	ok(c->mounts_len == 2 && strcmp(c->mounts[1].destination, "/data") == 0,
	   "struct array: mounts");
	ok(c->mounts[1].uid_mappings_len == 1 && c->mounts[1].uid_mappings[0].host_id == 100000,
	   "struct array: mount uidMappings");
	ok(l->namespaces_len == 8 && strcmp(l->namespaces[7].type, "time") == 0,
	   "struct array: all 8 namespace types");
	ok(l->devices[0].has_file_mode && l->devices[0].file_mode == 438 &&
	       !l->devices[1].has_major,
	   "struct array: devices");
	/* map of structs, key kept in a field */
	ok(r->rdma_len == 2 && strcmp(r->rdma[0].device, "mlx5_1") == 0 &&
	       r->rdma[0].hca_handles == 3 && !r->rdma[1].has_hca_handles &&
	       r->rdma[1].hca_objects == 1000,
	   "struct map: rdma");
	ok(l->net_devices_len == 2 && strcmp(l->net_devices[0].host_name, "eth1") == 0 &&
	       strcmp(l->net_devices[0].name, "net1") == 0 && l->net_devices[1].name == NULL,
	   "struct map: netDevices");
	/* the six hook lists */
	ok(c->hooks->prestart.len == 1 && c->hooks->prestart.hooks[0].has_timeout &&
	       c->hooks->prestart.hooks[0].timeout == 5,
	   "hooks: prestart");
	ok(c->hooks->create_runtime.len == 2 && c->hooks->create_container.len == 1 &&
	       c->hooks->start_container.len == 1 && c->hooks->poststart.len == 1,
	   "hooks: createRuntime createContainer startContainer poststart");
	ok(c->hooks->poststop.hooks != NULL && c->hooks->poststop.len == 0,
	   "hooks: poststop [] is present and empty");
}

static void full_config(void)
{
	struct oci_config *c, *c2 = NULL, *c3;
	char *err = NULL, *gen = NULL, *gen2 = NULL;
	int missing;

	c = oci_config_parse_file(FULL_CONFIG, "config.json", &err);
	ok(c != NULL, "full config parses");
	ok_str(err, NULL, "full config: no error");
	if (c == NULL)
		return;
	mark(&oci_config_desc, c);
	missing = report(&oci_config_desc, "config", 0);
	ok(missing == 0, "full config sets every field of every table (%d missing)", missing);
	field_kinds(c);

	gen = oci_config_generate(c, &err);
	ok(gen != NULL && err == NULL, "full config generates");
	if (gen)
		c2 = parse(gen, &err);
	ok(c2 != NULL, "generated config parses again");
	ok_str(err, NULL, "generated config: no error");
	ok(oci_config_equal(c, c2), "round trip: parse -> generate -> parse gives equal structs");
	gen2 = c2 ? oci_config_generate(c2, &err) : NULL;
	ok_str(gen2, gen, "round trip: generating again gives the same text");

	/* and equality notices a difference */
	if (c2) {
		c2->process->rlimits[1].soft = 1;
		ok(!oci_config_equal(c, c2), "equality sees a changed rlimit");
		c2->process->rlimits[1].soft = 0;
		c2->linux_->resources->block_io->has_leaf_weight = false;
		ok(!oci_config_equal(c, c2), "equality sees a cleared has_ flag");
	}

	/* the file read path and its errors */
	c3 = oci_config_parse_file("/nonexistent/config.json", "config.json", &err);
	ok(c3 == NULL, "missing file fails");
	ok_str(err, "config.json: open /nonexistent/config.json: No such file or directory",
	       "missing file: error text");
	free(err);
	c3 = oci_config_parse_file("/", "config.json", &err);
	ok_str(err, "config.json: read /: Is a directory", "directory: error text");
	free(err);

	oci_config_free(c);
	oci_config_free(c2);
	free(gen);
	free(gen2);
}

static void generation(void)
{
	struct oci_config c = {0};
	struct oci_process p = {0};
	char *err = NULL, *gen;
	char *args[] = {"sh", NULL};
	char *bad[] = {"ok", "caf\xe9", NULL};
	struct oci_config *back;

	gen = oci_config_generate(NULL, &err);
	ok(gen == NULL && err != NULL, "generate(NULL) fails");
	free(err);

	c.oci_version = "1.0.0";
	gen = oci_config_generate(&c, &err);
	ok_str(gen, "{\n  \"ociVersion\": \"1.0.0\"\n}\n", "absent fields are left out");
	free(gen);

	/* a process: user always, false bools and has_ == false left out, [] kept */
	p.args = args;
	p.env = args + 1;
	p.user.uid = 1000;
	c.process = &p;
	c.hostname = "h";
	gen = oci_config_generate(&c, &err);
	ok_str(
	    gen,
	    "{\n  \"ociVersion\": \"1.0.0\",\n  \"process\": {\n    \"user\": {\n      \"uid\": "
	    "1000,\n      \"gid\": 0\n    },\n    \"args\": [\n      \"sh\"\n    ],\n    \"env\": "
	    "[]\n  },\n  \"hostname\": \"h\"\n}\n",
	    "pretty-printed with 2 spaces, only present fields");
	back = gen ? parse(gen, &err) : NULL;
	ok(back && back->process->env && back->process->env[0] == NULL && !back->process->terminal,
	   "empty env survives the round trip");
	oci_config_free(back);
	free(gen);

	/* a hand-built struct with bytes that are not UTF-8 cannot be generated */
	p.args = bad;
	gen = oci_config_generate(&c, &err);
	ok(gen == NULL, "invalid UTF-8 is refused");
	ok_str(err, "config.json: process.args[1]: string is not valid UTF-8",
	       "invalid UTF-8: error names the path");
	free(err);
}

static void unknown_and_null(void)
{
	const char *doc =
	    "{\"ociVersion\": \"1.1.0-rc.1\", \"vm\": {\"hypervisor\": {\"path\": 1}},"
	    " \"x-big\": 1e400, \"x-huge\": 99999999999999999999999, \"x-neg\": -1,"
	    " \"process\": {\"future\": [1, {\"a\": null}], \"user\": {\"uid\": 1, \"gid\": 2,"
	    " \"extra\": \"x\"}, \"cwd\": \"/\", \"args\": [\"a\"]},"
	    " \"linux\": {\"namespaces\": [{\"type\": \"pid\", \"flags\": 7}], \"new\": {}},"
	    " \"hostname\": null, \"mounts\": null, \"annotations\": null, \"root\": null}";
	char *err = NULL;
	struct oci_config *c = parse(doc, &err);

	ok(c != NULL, "unknown fields at every level are ignored");
	ok_str(err, NULL, "unknown fields: no error");
	if (c) {
		ok(c->process->user.uid == 1 && c->process->user.gid == 2 &&
		       strcmp(c->linux_->namespaces[0].type, "pid") == 0,
		   "known fields next to unknown ones are read");
		ok(c->hostname == NULL && c->mounts == NULL && c->annotations.keys == NULL &&
		       c->root == NULL,
		   "null reads as absent");
		ok_str(c->oci_version, "1.1.0-rc.1", "any 1.x version is accepted");
	}
	oci_config_free(c);

	/* comments (yajl_tree_parse allows them) */
	c = parse("/* c */ {\"ociVersion\": \"1.0.0\" // x\n}", &err);
	ok(c != NULL && err == NULL, "comments are accepted");
	oci_config_free(c);
}

static void lone_documents(void)
{
	const char *proc =
	    "{\"args\": [\"/bin/ls\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": "
	    "0, \"additionalGids\": []}, \"env\": [\"A=b\"], \"rlimits\": []}";
	const char *res = "{\"memory\": {\"limit\": -1, \"swap\": 1024}, \"pids\": {\"limit\": 10},"
	                  " \"cpu\": {\"cpus\": \"1\"}, \"unified\": {}}";
	struct oci_process *p, *p2;
	struct oci_resources *r, *r2;
	char *err = NULL, *gen;

	p = oci_process_parse_data(proc, strlen(proc), "process.json", &err);
	ok(p && err == NULL && strcmp(p->args[0], "/bin/ls") == 0, "lone process parses");
	ok(p && p->user.additional_gids != NULL && p->user.additional_gids_len == 0 &&
	       p->rlimits != NULL && p->rlimits_len == 0,
	   "empty uint32 and struct arrays are present");
	gen = p ? oci_process_generate(p, &err) : NULL;
	p2 = gen ? oci_process_parse_data(gen, strlen(gen), "process.json", &err) : NULL;
	ok(p2 && jw_equal(&oci_process_desc, p, p2), "lone process round trip");
	free(gen);
	oci_process_free(p);
	oci_process_free(p2);

	p = oci_process_parse_data("{\"user\": {\"uid\": \"root\"}}", 25, "process.json", &err);
	ok(p == NULL, "bad lone process fails");
	ok_str(err, "process.json: user.uid: expected an unsigned integer",
	       "lone process: path is relative to the process object");
	free(err);

	r = oci_resources_parse_data(res, strlen(res), "resources.json", &err);
	ok(r && err == NULL && r->memory->has_limit && r->memory->limit == -1 &&
	       !r->memory->has_reservation && r->pids->limit == 10,
	   "lone resources parses");
	ok(r && r->unified.keys != NULL && r->unified.len == 0, "empty map is present");
	gen = r ? oci_resources_generate(r, &err) : NULL;
	r2 = gen ? oci_resources_parse_data(gen, strlen(gen), "resources.json", &err) : NULL;
	ok(r2 && jw_equal(&oci_resources_desc, r, r2), "lone resources round trip");
	free(gen);
	oci_resources_free(r);
	oci_resources_free(r2);

	r = oci_resources_parse_data("{\"memory\": {\"limit\": \"1G\"}}", 27, "resources.json",
	                             &err);
	ok(r == NULL, "bad lone resources fails");
	ok_str(err, "resources.json: memory.limit: expected an integer",
	       "lone resources: path is relative to the resources object");
	free(err);

	oci_config_free(NULL);
	oci_process_free(NULL);
	oci_resources_free(NULL);
	ok(oci_map_get(NULL, "a") == NULL, "oci_map_get(NULL) is NULL");
}

int main(void)
{
	full_config();
	generation();
	unknown_and_null();
	lone_documents();
	done_testing();
}
