/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What runc's pause, resume, update and ps do to a live container: each
 * opens (and locks) the container, checks its state, and acts on its
 * cgroup through cgroup.h.  `events` is in events.c.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>

#include "cgroup.h"
#include "container.h"
#include "container_ops.h"
#include "log.h"
#include "rootless.h"
#include "status.h"
#include "utils.h"

/* ---- pause / resume ---- */

int container_need_cgroup(const struct opened *c, const char *what, struct cgroup_manager *m,
                          struct skiff_error **err)
{
	int has = status_cgroup(&c->st, m, err);

	/* Rootless, create goes on without a cgroup where the user may make none. */
	if (has == 0 && !rootless_has_cap(CAP_SYS_ADMIN))
		return error_msg(err,
		                 "container `%s` has no cgroup: %s needs one, and a rootless "
		                 "container gets one only in a cgroup v2 subtree delegated to its "
		                 "user (writable, as systemd's Delegate=yes makes it), with "
		                 "linux.cgroupsPath inside it",
		                 c->st.id, what);
	if (has == 0)
		return error_msg(err, "container `%s` has no cgroup: %s needs one", c->st.id, what);
	return has < 0 ? -1 : 0;
}

static int set_frozen(const struct skiff_context *ctx, const char *id, bool frozen,
                      struct skiff_error **err)
{
	enum container_state want = frozen ? STATE_RUNNING : STATE_PAUSED;
	const char *what = frozen ? "pause" : "resume";
	struct cgroup_manager cg;
	struct opened c;
	int r;

	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	if (c.state != want)
		r = error_msg(err, "container `%s` is %s, not %s", id, status_name(c.state),
		              status_name(want));
	else if ((r = container_need_cgroup(&c, what, &cg, err)) == 0 &&
	         (r = cgroup_freeze(&cg, frozen, err)) < 0)
		error_wrap(err, "%s: container `%s`", what, id);
	container_close(&c);
	return r;
}

int container_pause(const struct skiff_context *ctx, const char *id, struct skiff_error **err)
{
	return set_frozen(ctx, id, true, err);
}

int container_resume(const struct skiff_context *ctx, const char *id, struct skiff_error **err)
{
	return set_frozen(ctx, id, false, err);
}

/* ---- update ---- */

/*
 * A value that only makes sense next to another one (swap next to the
 * memory limit, a CPU quota next to its period) gets the other from the
 * saved config when the update leaves it out, as runc does.
 */
struct filled {
	struct oci_resources r;
	struct oci_memory mem;
	struct oci_cpu cpu;
};

static void fill_companions(const struct oci_resources *r, const struct oci_resources *saved,
                            struct filled *f)
{
	f->r = *r;
	if (saved == NULL)
		return;
	if (r->memory && r->memory->has_swap && !r->memory->has_limit && saved->memory &&
	    saved->memory->has_limit) {
		f->mem = *r->memory;
		f->mem.has_limit = true;
		f->mem.limit = saved->memory->limit;
		f->r.memory = &f->mem;
	}
	if (r->cpu && r->cpu->has_quota != r->cpu->has_period && saved->cpu) {
		f->cpu = *r->cpu;
		if (!f->cpu.has_quota && saved->cpu->has_quota) {
			f->cpu.has_quota = true;
			f->cpu.quota = saved->cpu->quota;
		} else if (!f->cpu.has_period && saved->cpu->has_period) {
			f->cpu.has_period = true;
			f->cpu.period = saved->cpu->period;
		}
		f->r.cpu = &f->cpu;
	}
}

#define MERGE(dst, src, field)                                                                     \
	do {                                                                                       \
		if ((src)->has_##field) {                                                          \
			(dst)->has_##field = true;                                                 \
			(dst)->field = (src)->field;                                               \
		}                                                                                  \
	} while (0)

static void merge_memory(struct oci_memory *d, const struct oci_memory *s)
{
	MERGE(d, s, limit);
	MERGE(d, s, reservation);
	MERGE(d, s, swap);
	MERGE(d, s, kernel);
	MERGE(d, s, kernel_tcp);
	MERGE(d, s, swappiness);
	MERGE(d, s, disable_oom_killer);
	MERGE(d, s, use_hierarchy);
	MERGE(d, s, check_before_update);
}

static void replace_str(char **dst, const char *src)
{
	if (src == NULL)
		return;
	free(*dst);
	*dst = xstrdup(src);
}

static void merge_cpu(struct oci_cpu *d, const struct oci_cpu *s)
{
	MERGE(d, s, shares);
	MERGE(d, s, quota);
	MERGE(d, s, burst);
	MERGE(d, s, period);
	MERGE(d, s, realtime_runtime);
	MERGE(d, s, realtime_period);
	MERGE(d, s, idle);
	replace_str(&d->cpus, s->cpus);
	replace_str(&d->mems, s->mems);
}

static void merge_unified(struct oci_map *d, const struct oci_map *s)
{
	for (size_t i = 0; i < s->len; i++) {
		size_t j = 0;

		while (j < d->len && strcmp(d->keys[j], s->keys[i]) != 0)
			j++;
		if (j == d->len) {
			d->keys = xrealloc(d->keys, (d->len + 1) * sizeof(char *));
			d->values = xrealloc(d->values, (d->len + 1) * sizeof(char *));
			d->keys[d->len] = xstrdup(s->keys[i]);
			d->values[d->len++] = NULL;
		}
		replace_str(&d->values[j], s->values[i] ? s->values[i] : "");
	}
}

/*
 * The scalar limits and unified keys are merged into the saved config, so
 * a later update (and `state`'s readers) see the values in force; lists
 * (devices, hugepages, device throttles) are applied but not recorded.
 */
static void merge_resources(struct oci_resources *d, const struct oci_resources *s)
{
	if (s->memory) {
		if (d->memory == NULL)
			d->memory = xcalloc(1, sizeof(*d->memory));
		merge_memory(d->memory, s->memory);
	}
	if (s->cpu) {
		if (d->cpu == NULL)
			d->cpu = xcalloc(1, sizeof(*d->cpu));
		merge_cpu(d->cpu, s->cpu);
	}
	if (s->pids) {
		if (d->pids == NULL)
			d->pids = xcalloc(1, sizeof(*d->pids));
		MERGE(d->pids, s->pids, limit);
	}
	if (s->block_io) {
		if (d->block_io == NULL)
			d->block_io = xcalloc(1, sizeof(*d->block_io));
		MERGE(d->block_io, s->block_io, weight);
	}
	merge_unified(&d->unified, &s->unified);
}

static struct oci_resources *saved_resources(struct oci_config *cfg)
{
	if (cfg == NULL || cfg->linux_ == NULL)
		return NULL;
	return cfg->linux_->resources;
}

static void record_update(const struct opened *c, struct oci_config *cfg,
                          const struct oci_resources *r)
{
	cleanup_free char *json = NULL, *gerr = NULL;
	struct skiff_error *err = NULL;

	if (cfg == NULL || cfg->linux_ == NULL)
		return;
	if (cfg->linux_->resources == NULL)
		cfg->linux_->resources = xcalloc(1, sizeof(struct oci_resources));
	merge_resources(cfg->linux_->resources, r);
	json = oci_config_generate(cfg, &gerr);
	if (json == NULL ||
	    write_file_atomic(c->dirfd, SAVED_CONFIG, json, strlen(json), 0600, &err) < 0) {
		cleanup_free char *text = err ? error_text(err) : xstrdup(gerr ? gerr : "");
		log_warning("update: container `%s`: the update is applied but not recorded: %s",
		            c->st.id, text);
		error_free(&err);
	}
}

static int update_opened(const struct opened *c, const struct cgroup_manager *cg,
                         const struct oci_resources *r, struct skiff_error **err)
{
	struct oci_config *cfg = container_saved_config(c, NULL);
	struct filled f = {0};
	int ret;

	fill_companions(r, saved_resources(cfg), &f);
	ret = cgroup_update(cg, &f.r, err);
	if (ret == 0)
		record_update(c, cfg, r);
	oci_config_free(cfg);
	return ret;
}

int container_update(const struct skiff_context *ctx, const char *id, const struct oci_resources *r,
                     struct skiff_error **err)
{
	struct cgroup_manager cg;
	struct opened c;
	int ret;

	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	if (c.state == STATE_STOPPED || c.state == STATE_CREATING)
		ret = error_msg(err, "container `%s` is %s", id, status_name(c.state));
	else if ((ret = container_need_cgroup(&c, "update", &cg, err)) == 0 &&
	         (ret = update_opened(&c, &cg, r, err)) < 0)
		error_wrap(err, "update: container `%s`", id);
	container_close(&c);
	return ret;
}

/* ---- ps ---- */

int container_pids(const struct skiff_context *ctx, const char *id, pid_t **pids, size_t *n,
                   struct skiff_error **err)
{
	struct cgroup_manager cg;
	struct opened c;
	int ret = 0, has;

	*pids = NULL;
	*n = 0;
	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	has = status_cgroup(&c.st, &cg, err);
	if (has != 0) {
		ret = has < 0 ? -1 : cgroup_pids(&cg, pids, n, err);
	} else if (c.state != STATE_STOPPED) {
		*pids = xmalloc(sizeof(pid_t));
		(*pids)[(*n)++] = c.st.pid;
	}
	container_close(&c);
	return ret;
}
