/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `checkpoint`, and the CRIU half of `restore` (checkpoint.h). */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cgroup.h"
#include "checkpoint.h"
#include "log.h"
#include "mounts.h"
#include "status.h"
#include "utils.h"

#define DUMP_LOG    "dump.log"
#define RESTORE_LOG "restore.log"

/* The devices every container gets (devices.c), bound from the host in a user namespace. */
static const char *const default_devices[] = {"/dev/null",   "/dev/zero",    "/dev/full",
                                              "/dev/random", "/dev/urandom", "/dev/tty"};

/* ---- what the container is made of ---- */

static bool has_new_ns(const struct oci_config *cfg, const char *type)
{
	const struct oci_linux *l = cfg->linux_;

	for (size_t i = 0; l && i < l->namespaces_len; i++)
		if (strcmp(l->namespaces[i].type, type) == 0 && l->namespaces[i].path == NULL)
			return true;
	return false;
}

/*
 * A cgroup mount without a cgroup namespace is a bind of the container's
 * own cgroup (architecture.md): outside the container's mounts, so external.
 */
static bool is_cgroup_bind(const struct oci_config *cfg, const struct oci_mount *m)
{
	return m->type && strcmp(m->type, "cgroup") == 0 && !has_new_ns(cfg, "cgroup");
}

/* The host path a bind mount's source names (relative sources are the bundle's). */
static char *bind_source(const struct oci_mount *m, const char *bundle)
{
	if (m->source == NULL)
		return xstrdup("");
	if (m->source[0] == '/' || bundle == NULL)
		return xstrdup(m->source);
	return xasprintf("%s/%s", bundle, m->source);
}

/*
 * Every mount CRIU cannot see the source of is named by its destination
 * in the images; on restore the name maps to the new host path.
 */
static int describe_mounts(struct criu_req *r, const struct oci_config *cfg, const char *bundle,
                           const char *cgroup_dir, bool restore, struct skiff_error **err)
{
	for (size_t i = 0; i < cfg->mounts_len; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		cleanup_free char *field = xasprintf("mounts[%zu]", i), *dest = NULL, *src = NULL;
		struct mount_spec s;

		dest = path_clean(m->destination);
		if (is_cgroup_bind(cfg, m)) {
			if (cgroup_dir)
				criu_req_ext_mount(r, dest, restore ? cgroup_dir : dest);
			continue;
		}
		if (mount_spec_parse(m, field, &s, err) < 0)
			return -1;
		if (s.bind || s.rbind) {
			src = bind_source(m, bundle);
			criu_req_ext_mount(r, dest, restore ? src : dest);
		}
		mount_spec_free(&s);
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		criu_req_ext_mount(r, default_devices[i], default_devices[i]);
	for (size_t i = 0; cfg->linux_ && i < cfg->linux_->devices_len; i++)
		criu_req_ext_mount(r, cfg->linux_->devices[i].path, cfg->linux_->devices[i].path);
	return 0;
}

/* Masked files are binds of /dev/null: named "/dev/null" in the images. */
static void describe_masked_files(struct criu_req *r, const struct oci_config *cfg, pid_t pid)
{
	char **paths = cfg->linux_ ? cfg->linux_->masked_paths : NULL;

	for (size_t i = 0; paths && paths[i]; i++) {
		cleanup_free char *at = xasprintf("/proc/%d/root%s", (int)pid, paths[i]);
		struct stat st;
		if (stat(at, &st) == 0 && !S_ISDIR(st.st_mode))
			criu_req_ext_mount(r, paths[i], "/dev/null");
	}
}

/* Namespaces joined by path stay outside the images: CRIU names them by inode. */
static const struct {
	const char *type, *criu, *key;
} external_ns[] = {
    {"network", "net", "extRootNetNS"},
    {"pid", "pid", "extRootPidNS"},
};

static int describe_external_ns(struct criu_req *r, const struct oci_config *cfg,
                                struct skiff_error **err)
{
	const struct oci_linux *l = cfg->linux_;

	for (size_t i = 0; l && i < l->namespaces_len; i++) {
		const struct oci_namespace *ns = &l->namespaces[i];
		struct stat st;

		if (ns->path == NULL)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(external_ns); k++) {
			if (strcmp(ns->type, external_ns[k].type) != 0)
				continue;
			if (stat(ns->path, &st) < 0)
				return error_errno(err, "linux.namespaces: %s: `%s`", ns->type,
				                   ns->path);
			cleanup_free char *key =
			    xasprintf("%s[%llu]:%s", external_ns[k].criu,
			              (unsigned long long)st.st_ino, external_ns[k].key);
			criu_req_external(r, key);
		}
	}
	return 0;
}

/* ---- skiff's files beside the images ---- */

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* The marker: which runtime made the images, and where the init's stdio went. */
static int write_mark(int images_fd, const struct container_status *st, struct skiff_error **err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	int r;

	yajl_gen_map_open(g);
	gen_str(g, "runtime");
	gen_str(g, "skiff");
	gen_str(g, "version");
	gen_str(g, PACKAGE_VERSION);
	gen_str(g, "id");
	gen_str(g, st->id);
	gen_str(g, "stdio");
	yajl_gen_array_open(g);
	for (int fd = 0; fd < 3; fd++) {
		char link[64], target[PATH_MAX];
		ssize_t n;
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)st->pid, fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		gen_str(g, target);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	r = write_file_atomic(images_fd, CHECKPOINT_MARK, buf, len, 0600, err);
	yajl_gen_free(g);
	return r;
}

static int save_config(int images_fd, int state_dirfd, struct skiff_error **err)
{
	cleanup_close int fd = openat(state_dirfd, SAVED_CONFIG, O_RDONLY | O_CLOEXEC);
	cleanup_free char *data = NULL;
	size_t len;

	if (fd < 0)
		return error_errno(err, "read the container's config");
	if (read_fd_all(fd, &data, &len, err) < 0)
		return -1;
	return write_file_atomic(images_fd, CHECKPOINT_CONFIG, data, len, 0600, err);
}

/* Reads the marker; a missing one means the images are not skiff's. */
static yajl_val read_mark(const char *image_path, struct skiff_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", image_path, CHECKPOINT_MARK), *data = NULL;
	char ebuf[256];
	size_t len;
	yajl_val v;
	struct stat st;

	if (stat(image_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error_set(err, errno ? errno : ENOTDIR, "--image-path: `%s`", image_path);
		return NULL;
	}
	if (access(path, F_OK) < 0) {
		error_msg(err,
		          "--image-path: `%s` holds no %s: not a checkpoint skiff made (another "
		          "runtime's images, or none)",
		          image_path, CHECKPOINT_MARK);
		return NULL;
	}
	if (read_file(path, &data, &len, err) < 0)
		return NULL;
	v = yajl_tree_parse(data, ebuf, sizeof(ebuf));
	if (v == NULL || !YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		error_msg(err, "--image-path: %s: not a JSON object", path);
		return NULL;
	}
	return v;
}

int checkpoint_image_check(const char *image_path, struct skiff_error **err)
{
	yajl_val v = read_mark(image_path, err);
	const char *rt_path[] = {"runtime", NULL};
	const char *rt;

	if (v == NULL)
		return -1;
	rt = YAJL_GET_STRING(yajl_tree_get(v, rt_path, yajl_t_string));
	if (rt == NULL || strcmp(rt, "skiff") != 0) {
		yajl_tree_free(v);
		return error_msg(err, "--image-path: `%s`: not a checkpoint skiff made",
		                 image_path);
	}
	yajl_tree_free(v);
	return 0;
}

/* ---- directories ---- */

/* Removes dir and the files in it (CRIU's images, logs and skiff's files are all files). */
static void remove_flat_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (!dot_or_dotdot(de->d_name))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

struct dirs {
	char *images, *work;
	bool made_images, made_work;
	int images_fd, work_fd;
};

static int open_dir(const char *path, const char *opt, bool create, bool *made, int *fd,
                    struct skiff_error **err)
{
	struct stat st;

	*made = false;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !create)
			return error_errno(err, "%s: `%s`", opt, path);
		if (mkdir_p(path, 0700, err) < 0)
			return error_wrap(err, "%s", opt);
		*made = true;
	}
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return error_errno(err, "%s: `%s`", opt, path);
	return 0;
}

static int dirs_open(struct dirs *d, const struct criu_options *o, bool create,
                     struct skiff_error **err)
{
	memset(d, 0, sizeof(*d));
	d->images_fd = d->work_fd = -1;
	d->images = xstrdup(o->image_path ? o->image_path : "checkpoint");
	if (open_dir(d->images, "--image-path", create, &d->made_images, &d->images_fd, err) < 0)
		return -1;
	if (o->parent_path) {
		struct stat st;
		if (fstatat(d->images_fd, o->parent_path, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			return error_set(err, errno ? errno : ENOTDIR, "--parent-path: `%s/%s`",
			                 d->images, o->parent_path);
	}
	if (o->work_path == NULL) {
		d->work_fd = dup(d->images_fd);
		return d->work_fd < 0 ? error_errno(err, "dup") : 0;
	}
	d->work = xstrdup(o->work_path);
	return open_dir(d->work, "--work-path", true, &d->made_work, &d->work_fd, err);
}

/* Closes; after a failure, removes what was made. */
static void dirs_close(struct dirs *d, bool failed)
{
	if (d->images_fd >= 0)
		close(d->images_fd);
	if (d->work_fd >= 0)
		close(d->work_fd);
	if (failed && d->made_images)
		remove_flat_dir(d->images);
	if (failed && d->made_work)
		remove_flat_dir(d->work);
	free(d->images);
	free(d->work);
}

/* ---- checkpoint ---- */

static int dump(struct opened *c, const struct criu_options *o, struct dirs *d,
                struct skiff_error **err)
{
	struct oci_config *cfg = NULL;
	struct criu_req *req = NULL;
	struct cgroup_manager cg;
	cleanup_free char *freezer = NULL, *cgdir = NULL;
	int has, r = -1;

	if (c->state != STATE_RUNNING && c->state != STATE_PAUSED)
		return error_msg(err,
		                 "the container is %s: only a running or paused one can be "
		                 "checkpointed",
		                 status_name(c->state));
	has = status_cgroup(&c->st, &cg, err);
	if (has < 0 || (cfg = container_saved_config(c, err)) == NULL)
		return -1;
	if (has && (freezer = cgroup_freezer_dir(&cg, err)) == NULL)
		goto out;
	if (dirs_open(d, o, true, err) < 0 ||
	    criu_req_new(o, d->images_fd, d->work_fd, DUMP_LOG, &req, err) < 0)
		goto out;
	/* A pre-dump only saves memory: the final dump describes the rest. */
	if (!o->pre_dump) {
		if (has && cgroup_manager_is_unified())
			cgdir = xstrdup(freezer);
		if (describe_mounts(req, cfg, c->st.bundle, cgdir, false, err) < 0 ||
		    describe_external_ns(req, cfg, err) < 0)
			goto out;
		describe_masked_files(req, cfg, c->st.pid);
		if (write_mark(d->images_fd, &c->st, err) < 0 ||
		    save_config(d->images_fd, c->dirfd, err) < 0)
			goto out;
	}
	log_debug("checkpoint `%s`: criu %d, pid %d, images %s", c->st.id, criu_req_version(req),
	          (int)c->st.pid, d->images);
	if (criu_req_dump(req, c->st.pid, c->st.rootfs, freezer, err) < 0) {
		if (!d->made_images && !o->pre_dump) {
			unlinkat(d->images_fd, CHECKPOINT_MARK, 0);
			unlinkat(d->images_fd, CHECKPOINT_CONFIG, 0);
		}
		goto out;
	}
	r = 0;
out:
	criu_req_free(req);
	oci_config_free(cfg);
	return r;
}

int container_checkpoint(const struct skiff_context *ctx, const char *id,
                         const struct criu_options *o, struct skiff_error **err)
{
	struct opened c;
	struct dirs d = {.images_fd = -1, .work_fd = -1};
	int r;

	if (criu_options_validate(o, false, err) < 0)
		return -1;
	if (container_open(ctx, id, &c, err) < 0)
		return error_wrap(err, "checkpoint `%s`", id);
	r = dump(&c, o, &d, err);
	dirs_close(&d, r < 0);
	container_close(&c);
	/* runc's: the dumped container is gone unless asked to stay. */
	if (r == 0 && !o->leave_running && !o->pre_dump)
		r = container_delete(ctx, id, true, err);
	return r < 0 ? error_wrap(err, "checkpoint `%s`", id) : 0;
}

/* ---- restore ---- */

/* The init's stdio pipes at the dump become the ones restore was given (runc's rule). */
static int inherit_stdio(struct criu_req *req, const char *image_path, struct skiff_error **err)
{
	yajl_val v = read_mark(image_path, err), stdio;
	const char *stdio_path[] = {"stdio", NULL};

	if (v == NULL)
		return -1;
	stdio = yajl_tree_get(v, stdio_path, yajl_t_array);
	for (size_t i = 0; stdio && i < YAJL_GET_ARRAY(stdio)->len && i < 3; i++) {
		const char *t = YAJL_GET_STRING(YAJL_GET_ARRAY(stdio)->values[i]);
		if (t && str_has_prefix(t, "pipe:"))
			criu_req_inherit_fd(req, (int)i, t);
	}
	yajl_tree_free(v);
	return 0;
}

static int join_external_ns(struct criu_req *req, const struct oci_config *cfg, int **fds,
                            size_t *nfds, struct skiff_error **err)
{
	const struct oci_linux *l = cfg->linux_;

	for (size_t i = 0; l && i < l->namespaces_len; i++) {
		const struct oci_namespace *ns = &l->namespaces[i];
		bool external = false;

		if (ns->path == NULL)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(external_ns); k++) {
			if (strcmp(ns->type, external_ns[k].type) != 0)
				continue;
			int fd = open(ns->path, O_RDONLY); /* inherited by criu: no O_CLOEXEC */
			if (fd < 0)
				return error_errno(err, "linux.namespaces: %s: `%s`", ns->type,
				                   ns->path);
			*fds = xrealloc(*fds, (*nfds + 1) * sizeof(int));
			(*fds)[(*nfds)++] = fd;
			criu_req_inherit_fd(req, fd, external_ns[k].key);
			external = true;
		}
		if (external)
			continue;
		if (strcmp(ns->type, "cgroup") == 0)
			return error_msg(err, "linux.namespaces: criu cannot join a cgroup "
			                      "namespace by path");
		criu_req_join_ns(req, strcmp(ns->type, "mount") == 0 ? "mnt" : ns->type, ns->path);
	}
	return 0;
}

/*
 * CRIU's root must be a mount point whose parent is not overmounted: a bind
 * of the rootfs.  Its propagation stays the rootfs's: where the host's /
 * is shared (systemd makes it so) the dumped root was a slave of it, and
 * CRIU copies that from this mount (MOVE_MOUNT_SET_GROUP), which a private
 * one refuses (EINVAL).  runc leaves it as bound, too.
 */
static char *mount_criu_root(const char *state_dir, const char *rootfs, struct skiff_error **err)
{
	char *root = xasprintf("%s/criu-root", state_dir);

	if (mkdir(root, 0755) < 0) {
		error_errno(err, "mkdir %s", root);
		free(root);
		return NULL;
	}
	if (mount(rootfs, root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		error_errno(err, "bind %s on %s", rootfs, root);
		umount2(root, MNT_DETACH);
		rmdir(root);
		free(root);
		return NULL;
	}
	return root;
}

/* Mount points the images need and a fresh rootfs may lack (not under a tmpfs: CRIU fills those).
 */
static int make_mountpoints(const struct oci_config *cfg, const char *rootfs, const char *bundle,
                            struct skiff_error **err)
{
	cleanup_close int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return error_errno(err, "open rootfs %s", rootfs);
	for (size_t i = 0; i < cfg->mounts_len; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		bool on_tmpfs = false, file = false;
		struct stat st;
		int fd;

		for (size_t k = 0; k < cfg->mounts_len; k++) {
			const struct oci_mount *t = &cfg->mounts[k];
			size_t n = strlen(t->destination);
			if (k != i && t->type && strcmp(t->type, "tmpfs") == 0 &&
			    strncmp(m->destination, t->destination, n) == 0 &&
			    m->destination[n] == '/')
				on_tmpfs = true;
		}
		if (on_tmpfs || (m->type && strcmp(m->type, "cgroup") == 0))
			continue;
		if (m->source && m->type && strcmp(m->type, "bind") == 0) {
			cleanup_free char *src = bind_source(m, bundle);
			file = stat(src, &st) == 0 && !S_ISDIR(st.st_mode);
		}
		fd = mkpath_in_root(rootfd, m->destination, file, 0, "restore mount point", err);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}

int checkpoint_restore_run(const struct checkpoint_restore *rq, pid_t *pid,
                           struct skiff_error **err)
{
	struct dirs d;
	struct criu_req *req = NULL;
	cleanup_free char *root = NULL;
	int *ns_fds = NULL, r = -1;
	size_t n_ns = 0;

	if (dirs_open(&d, rq->c, false, err) < 0)
		goto out;
	if (criu_req_new(rq->c, d.images_fd, d.work_fd, RESTORE_LOG, &req, err) < 0 ||
	    inherit_stdio(req, d.images, err) < 0 ||
	    describe_mounts(req, rq->config, rq->bundle, rq->cgroup_dir, true, err) < 0 ||
	    join_external_ns(req, rq->config, &ns_fds, &n_ns, err) < 0)
		goto out;
	if (rq->config->linux_ && rq->config->linux_->masked_paths)
		criu_req_ext_mount(req, "/dev/null", "/dev/null");
	if (rq->cgroup_path)
		criu_req_cgroup_root(req, rq->cgroup_path);
	if (make_mountpoints(rq->config, rq->rootfs, rq->bundle, err) < 0)
		goto out;
	root = mount_criu_root(rq->state_dir, rq->rootfs, err);
	if (root == NULL)
		goto out;
	log_debug("restore: criu %d, images %s, root %s", criu_req_version(req), d.images, root);
	r = criu_req_restore(req, root, &rq->calls, pid, err);
	umount2(root, MNT_DETACH);
	rmdir(root);
out:
	for (size_t i = 0; i < n_ns; i++)
		close(ns_fds[i]);
	free(ns_fds);
	criu_req_free(req);
	dirs_close(&d, false);
	return r;
}
