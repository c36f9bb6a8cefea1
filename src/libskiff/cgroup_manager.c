/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which cgroup driver a container gets, and the one place that calls
 * through the driver table: callers see cgroup.h only.
 */
#include <config.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "log.h"
#include "utils.h"

static const struct cgroup_driver *const drivers[] = {
    &cgroup_fs2_driver,
    &cgroup_fs1_driver,
#ifdef HAVE_SYSTEMD
    &cgroup_systemd_driver,
#endif
};

bool cgroup_manager_is_unified(void)
{
	struct statfs st;
	return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_manager_choose(const char *manager, bool systemd, const char **name,
                          struct skiff_error **err)
{
	*name = NULL;
	if (manager && strcmp(manager, "disabled") == 0)
		return 0;
	if (systemd || (manager && strcmp(manager, "systemd") == 0)) {
#ifdef HAVE_SYSTEMD
		*name = cgroup_systemd_driver.name;
		return 0;
#else
		return error_msg(err,
		                 "%s: this skiff was built without the systemd cgroup driver "
		                 "(configure --disable-systemd)",
		                 systemd ? "--systemd-cgroup" : "--cgroup-manager systemd");
#endif
	}
	/* A unified host has cgroup2 at the top; a legacy or hybrid one a tmpfs of v1 mounts. */
	*name = cgroup_manager_is_unified() ? cgroup_fs2_driver.name : cgroup_fs1_driver.name;
	return 0;
}

int cgroup_manager_load(const char *name, const char *path, struct cgroup_manager *m,
                        struct skiff_error **err)
{
	if (name == NULL)
		name = cgroup_fs2_driver.name;
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
		if (strcmp(drivers[i]->name, name) == 0) {
			m->drv = drivers[i];
#ifdef HAVE_SYSTEMD
			/* The scope's cgroups are the host's: v1 hierarchies on a legacy or hybrid
			 * one. */
			if (m->drv == &cgroup_systemd_driver && !cgroup_manager_is_unified())
				m->drv = &cgroup_systemd_v1_driver;
#endif
			m->name = drivers[i]->name;
			m->path = path;
			return 0;
		}
	}
	return error_msg(err, "cgroup: unknown cgroup manager \"%s\" in the state", name);
}

char *cgroup_manager_resolve(const struct cgroup_manager *m, const char *cgroups_path,
                             const char *id, struct skiff_error **err)
{
	return m->drv->resolve(cgroups_path, id, err);
}

int cgroup_create(struct cgroup_manager *m, const char *cgroups_path, const char *id,
                  const struct oci_resources *r, struct cgroup_created *out,
                  struct skiff_error **err)
{
	memset(out, 0, sizeof(*out));
	out->clone_fd = -1;
	out->path = m->drv->resolve(cgroups_path, id, err);
	if (out->path == NULL)
		return -1;
	m->path = out->path;
	return m->drv->create(out->path, r, out, err);
}

void cgroup_created_free(struct cgroup_created *c)
{
	free(c->path);
	free(c->mount);
	strv_free(c->made);
	if (c->clone_fd >= 0)
		close(c->clone_fd);
	cgroup_self_free(&c->self);
	memset(c, 0, sizeof(*c));
	c->clone_fd = -1;
}

int cgroup_enter_self(struct cgroup_self *s, struct skiff_error **err)
{
	int ret = 0;

	for (size_t i = 0; i < s->n && ret == 0; i++)
		if (write_all(s->fds[i], "0", 1) < 0)
			ret = error_errno(err, "cgroup: move the init into %s", s->files[i]);
	cgroup_self_free(s);
	return ret;
}

void cgroup_self_free(struct cgroup_self *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	free(s->fds);
	strv_free(s->files);
	memset(s, 0, sizeof(*s));
}

void cgroup_unmake(const struct cgroup_manager *m, char **made)
{
	if (m->drv)
		m->drv->unmake(m->path, made);
	else
		strv_free(made);
}

void cgroup_unmake_dirs(const char *path, char **made)
{
	struct skiff_error *err = NULL;

	for (size_t i = strv_len(made); i-- > 0;) {
		/* The killed init may still be leaving; children left by hand go too. */
		if (cgroup_remove_tree(made[i], &err) < 0) {
			cleanup_free char *text = error_text(err);
			log_warning("cgroup: after a failed create: %s", text);
			error_free(&err);
		}
	}
	strv_free(made);
}

int cgroup_enter(const struct cgroup_manager *m, int fd, cgroup_subs subs, pid_t pid,
                 struct skiff_error **err)
{
	if (fd >= 0)
		return fs2_enter(fd, pid, err);
	return m->drv->enter(m->path, subs, pid, err);
}

int cgroup_adopt(const struct cgroup_manager *m, const struct cgroup_adoptee *a,
                 struct skiff_error **err)
{
	return m->drv->adopt(m->path, a, err);
}

int cgroup_exec_target(const struct cgroup_manager *m, pid_t init, cgroup_subs subs, int *fd,
                       struct skiff_error **err)
{
	*fd = -1;
	return m->drv->exec_target(m->path, init, subs, fd, err);
}

int cgroup_exec_self(const struct cgroup_manager *m, cgroup_subs subs, int *fd,
                     struct cgroup_self *self, struct skiff_error **err)
{
	memset(self, 0, sizeof(*self));
	return m->drv->exec_self ? m->drv->exec_self(m->path, subs, fd, self, err) : 0;
}

/* Whether the comma-separated list holds word. */
static bool in_list(const char *list, const char *word, size_t n)
{
	for (const char *p = list; p && *p; p = strchr(p, ','), p = p ? p + 1 : NULL)
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static bool sub_path_ok(const char *p)
{
	size_t n = strlen(p);

	return n > 0 && p[0] != '/' && strcmp(p, "..") != 0 && strncmp(p, "../", 3) != 0 &&
	       strstr(p, "/../") == NULL && !(n >= 3 && strcmp(p + n - 3, "/..") == 0);
}

int cgroup_sub_for(cgroup_subs subs, const char *controllers, const char **out,
                   struct skiff_error **err)
{
	*out = "";
	for (char *const *s = subs; s && *s; s++) {
		const char *colon = strchr(*s, ':');
		const char *path = colon ? colon + 1 : *s;

		if (!sub_path_ok(path))
			return error_msg(
			    err,
			    "--cgroup \"%s\": expected [CONTROLLER:]PATH, PATH relative "
			    "to the container's cgroup and without \"..\"",
			    *s);
		if (colon == NULL ||
		    (*controllers && in_list(controllers, *s, (size_t)(colon - *s))))
			*out = path;
	}
	return 0;
}

int cgroup_delegate(const struct cgroup_manager *m, pid_t pid, uint32_t uid,
                    struct skiff_error **err)
{
	return m->drv->delegate(m->path, pid, uid, err);
}

int cgroup_update(const struct cgroup_manager *m, const struct oci_resources *r,
                  struct skiff_error **err)
{
	return m->drv->update(m->path, r, err);
}

int cgroup_freeze(const struct cgroup_manager *m, bool frozen, struct skiff_error **err)
{
	return m->drv->freeze(m->path, frozen, err);
}

char *cgroup_freezer_dir(const struct cgroup_manager *m, struct skiff_error **err)
{
	return m->drv->freezer_dir(m->path, err);
}

int cgroup_is_frozen(const struct cgroup_manager *m, bool *out, struct skiff_error **err)
{
	return m->drv->is_frozen(m->path, out, err);
}

int cgroup_kill_all(const struct cgroup_manager *m, int sig, struct skiff_error **err)
{
	return m->drv->kill_all(m->path, sig, err);
}

int cgroup_pids(const struct cgroup_manager *m, pid_t **pids, size_t *n, struct skiff_error **err)
{
	return m->drv->pids(m->path, pids, n, err);
}

int cgroup_stats(const struct cgroup_manager *m, struct cgroup_stats *out, struct skiff_error **err)
{
	return m->drv->stats(m->path, out, err);
}

uint64_t cgroup_oom_kills(const struct cgroup_manager *m)
{
	return m->drv->oom_kills(m->path);
}

int cgroup_oom_watch(const struct cgroup_manager *m)
{
	return m->drv->oom_watch(m->path);
}

int cgroup_destroy(const struct cgroup_manager *m, bool kill, struct skiff_error **err)
{
	return m->drv->destroy(m->path, kill, err);
}
