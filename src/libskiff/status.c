/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cgroup.h"
#include "fault.h"
#include "status.h"
#include "utils.h"

#define MAX_ID_LEN 1024

/* The id as it may appear in a one-line message: printable, at most 64 bytes. */
static void id_for_message(const char *id, char *out, size_t size)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)id; *p && o + 5 < size; p++) {
		if (p - (const unsigned char *)id >= 64) {
			o += (size_t)snprintf(out + o, size - o, "...");
			break;
		}
		if (*p >= 0x20 && *p < 0x7f)
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", *p);
	}
	out[o] = '\0';
}

int status_validate_id(const char *id, struct skiff_error **err)
{
	size_t len = strlen(id);
	char shown[128];

	if (len == 0)
		return error_msg(err, "container id must not be empty");
	id_for_message(id, shown, sizeof(shown));
	if (len > MAX_ID_LEN)
		return error_msg(err, "container id `%s` is %zu bytes long (at most %d)", shown,
		                 len, MAX_ID_LEN);
	/* runc's charset (letters, digits, _ + - .); a leading dot would hide it from `list`. */
	for (const char *p = id; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-' || c == '.'))
			return error_msg(err,
			                 "invalid container id `%s`: only letters, digits and "
			                 "_ + - . are allowed",
			                 shown);
	}
	if (id[0] == '.')
		return error_msg(err, "invalid container id `%s`: must not start with a dot",
		                 shown);
	return 0;
}

int status_open_root(const char *root, bool create, int *rootfd, struct skiff_error **err)
{
	struct stat sb;
	int fd;

	if (create) {
		if (mkdir(root, 0700) < 0 && errno != EEXIST && mkdir_p(root, 0700, err) < 0)
			return error_wrap(err, "state root");
	}
	/* O_NOFOLLOW: a --root planted as a symlink is refused, not followed. */
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return 1;
		if (errno == ENOENT)
			return error_msg(err, "state root `%s` does not exist", root);
		return error_errno(err, "open state root `%s`", root);
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) && sb.st_uid == geteuid() && create)
		fchmod(fd, 0700);
	*rootfd = fd;
	return 0;
}

static int lock_dir(int dirfd, const char *id, struct skiff_error **err)
{
	while (flock(dirfd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return error_errno(err, "lock container `%s`", id);
	}
	return 0;
}

int status_create(int rootfd, const char *id, int *dirfd, struct skiff_error **err)
{
	struct stat sb;
	int fd;

	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return error_msg(err, "container `%s` already exists", id);
		return error_errno(err, "create state directory for `%s`", id);
	}
	fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		error_errno(err, "open state directory for `%s`", id);
		unlinkat(rootfd, id, AT_REMOVEDIR);
		return -1;
	}
	if (lock_dir(fd, id, err) < 0) {
		close(fd);
		unlinkat(rootfd, id, AT_REMOVEDIR);
		return -1;
	}
	/*
	 * Between mkdir and flock a `delete` may have locked the still empty
	 * directory, taken it for a dead create's and removed it.
	 */
	if (fstat(fd, &sb) < 0 || sb.st_nlink == 0) {
		close(fd);
		return error_msg(err, "container `%s` was deleted while being created", id);
	}
	*dirfd = fd;
	return 0;
}

/* ---- state.json ---- */

static const char *tree_str(yajl_val root, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

static long long tree_int(yajl_val root, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int status_parse(const char *id, const char *data, struct container_status *st,
                 struct skiff_error **err)
{
	char ebuf[256];
	yajl_val root = yajl_tree_parse(data, ebuf, sizeof(ebuf));
	const char *ann_path[] = {"annotations", NULL};
	yajl_val ann;

	if (root == NULL || !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		return error_msg(
		    err, "container `%s`: " STATUS_CORRUPT " (`delete --force` removes it)", id);
	}
	memset(st, 0, sizeof(*st));
	st->id = xstrdup(id);
	st->bundle = dup_or_null(tree_str(root, "bundle"));
	st->rootfs = dup_or_null(tree_str(root, "rootfs"));
	st->created = dup_or_null(tree_str(root, "created"));
	st->cgroup_path = dup_or_null(tree_str(root, "cgroupPath"));
	st->cgroup_mount = dup_or_null(tree_str(root, "cgroupMount"));
	st->cgroup_manager = dup_or_null(tree_str(root, "cgroupManager"));
	st->pid = (pid_t)tree_int(root, "pid");
	st->pid_start = (unsigned long long)tree_int(root, "pidStart");
	st->pid_ino = (unsigned long long)tree_int(root, "pidInode");
	st->has_new_pidns = tree_int(root, "newPidNamespace") != 0;
	st->no_keyring = tree_int(root, "noNewKeyring") != 0;
	st->has_poststart = tree_int(root, "poststartHooks") != 0;
	st->has_poststop = tree_int(root, "poststopHooks") != 0;
	st->creating = tree_int(root, "creating") != 0;
	st->rdt_group = dup_or_null(tree_str(root, "intelRdtGroup"));
	st->rdt_mon = dup_or_null(tree_str(root, "intelRdtMonGroup"));
	st->rdt_group_owned = tree_int(root, "intelRdtGroupOwned") != 0;
	ann = yajl_tree_get(root, ann_path, yajl_t_object);
	if (ann) {
		size_t n = YAJL_GET_OBJECT(ann)->len;
		st->annotations.keys = xcalloc(n + 1, sizeof(char *));
		st->annotations.values = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			yajl_val v = YAJL_GET_OBJECT(ann)->values[i];
			/* A key twice (a hand-edited file) would make `state` print it twice. */
			if (!YAJL_IS_STRING(v) ||
			    oci_map_get(&st->annotations, YAJL_GET_OBJECT(ann)->keys[i]))
				continue;
			st->annotations.keys[st->annotations.len] =
			    xstrdup(YAJL_GET_OBJECT(ann)->keys[i]);
			st->annotations.values[st->annotations.len++] = xstrdup(YAJL_GET_STRING(v));
		}
	}
	yajl_tree_free(root);
	/* Every state skiff writes has one; without it `state` would print an invalid state. */
	if (st->bundle == NULL) {
		status_free(st);
		memset(st, 0, sizeof(*st));
		return error_msg(err,
		                 "container `%s`: " STATUS_CORRUPT
		                 " (no bundle; `delete --force` removes it)",
		                 id);
	}
	return 0;
}

static int open_state(int rootfd, const char *id, bool lock, int *dirfd,
                      struct container_status *st, struct skiff_error **err)
{
	cleanup_close int fd = -1, sfd = -1;
	cleanup_free char *data = NULL;

	if (status_validate_id(id, err) < 0)
		return -1;
	fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return error_msg(err, "container `%s` does not exist", id);
		return error_errno(err, "open state of `%s`", id);
	}
	if (lock && lock_dir(fd, id, err) < 0)
		return -1;
	/* Read after locking: a create that failed meanwhile has removed the file. */
	sfd = openat(fd, STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (sfd < 0) {
		if (errno == ENOENT)
			return error_msg(err, "container `%s` does not exist", id);
		return error_errno(err, "open state of `%s`", id);
	}
	if (read_fd_all(sfd, &data, NULL, err) < 0)
		return error_wrap(err, "container `%s`", id);
	if (status_parse(id, data, st, err) < 0)
		return -1;
	*dirfd = steal_fd(&fd);
	return 0;
}

int status_open(int rootfd, const char *id, int *dirfd, struct container_status *st,
                struct skiff_error **err)
{
	return open_state(rootfd, id, true, dirfd, st, err);
}

int status_peek(int rootfd, const char *id, int *dirfd, struct container_status *st,
                struct skiff_error **err)
{
	/* state.json is replaced by rename: an unlocked read sees a whole one or none. */
	if (open_state(rootfd, id, false, dirfd, st, err) == 0)
		return 0;
	if (faccessat(rootfd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0 && (*err)->errnum == 0 &&
	    strstr((*err)->msg, "does not exist")) {
		error_free(err);
		return 1;
	}
	return -1;
}

static void gen_str(yajl_gen g, const char *key, const char *value)
{
	if (value == NULL)
		return;
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_string(g, (const unsigned char *)value, strlen(value));
}

static void gen_int(yajl_gen g, const char *key, long long value)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_integer(g, value);
}

static void gen_annotations(yajl_gen g, const struct oci_map *m)
{
	if (m->len == 0)
		return;
	yajl_gen_string(g, (const unsigned char *)"annotations", 11);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < m->len; i++)
		gen_str(g, m->keys[i], m->values[i]);
	yajl_gen_map_close(g);
}

static char *gen_finish(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	char *out;

	yajl_gen_get_buf(g, &buf, &len);
	out = xmalloc(len + 2);
	memcpy(out, buf, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	yajl_gen_free(g);
	return out;
}

int status_write(int dirfd, const struct container_status *st, struct skiff_error **err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	cleanup_free char *json = NULL;

	if (g == NULL)
		oom();
	yajl_gen_map_open(g);
	gen_str(g, "ociVersion", OCI_SPEC_VERSION);
	gen_str(g, "id", st->id);
	gen_int(g, "pid", st->pid);
	gen_int(g, "pidStart", (long long)st->pid_start);
	if (st->pid_ino)
		gen_int(g, "pidInode", (long long)st->pid_ino);
	gen_str(g, "bundle", st->bundle);
	gen_str(g, "rootfs", st->rootfs);
	gen_str(g, "created", st->created);
	gen_str(g, "cgroupPath", st->cgroup_path);
	gen_str(g, "cgroupMount", st->cgroup_mount);
	gen_str(g, "cgroupManager", st->cgroup_manager);
	gen_int(g, "newPidNamespace", st->has_new_pidns);
	if (st->no_keyring)
		gen_int(g, "noNewKeyring", 1);
	gen_int(g, "poststartHooks", st->has_poststart);
	gen_int(g, "poststopHooks", st->has_poststop);
	if (st->creating)
		gen_int(g, "creating", 1);
	gen_str(g, "intelRdtGroup", st->rdt_group);
	gen_str(g, "intelRdtMonGroup", st->rdt_mon);
	if (st->rdt_group_owned)
		gen_int(g, "intelRdtGroupOwned", 1);
	gen_annotations(g, &st->annotations);
	yajl_gen_map_close(g);
	json = gen_finish(g);
	if (write_file_replace(dirfd, STATE_FILE, json, strlen(json), 0600, err) < 0)
		return error_wrap(err, "container `%s`: write state", st->id);
	return 0;
}

char *status_spec_json(const struct container_status *st, enum container_state s, bool pretty,
                       struct skiff_error **err)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		oom();
	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "  ");
	}
	yajl_gen_map_open(g);
	gen_str(g, "ociVersion", OCI_SPEC_VERSION);
	gen_str(g, "id", st->id);
	gen_str(g, "status", status_name(s));
	/* The spec: pid is required while the process exists. */
	if (s != STATE_STOPPED || pretty)
		gen_int(g, "pid", s == STATE_STOPPED ? 0 : st->pid);
	gen_str(g, "bundle", st->bundle);
	gen_str(g, "rootfs", st->rootfs);
	gen_str(g, "created", st->created);
	gen_annotations(g, &st->annotations);
	yajl_gen_map_close(g);
	return gen_finish(g);
}

/* ---- removal and listing ---- */

/*
 * Through the locked directory fd: no fd is needed (create undoes itself
 * here when it ran out of them), and the lock is kept until the directory
 * is gone (rmdir works with it open).
 */
int status_remove(int rootfd, int *dir_fd, const char *id, struct skiff_error **err)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	/* First: a removal cut short leaves a directory `delete` knows how to finish. */
	if (unlinkat(*dir_fd, STATE_FILE, 0) < 0 && errno != ENOENT)
		return error_errno(err, "remove the state of `%s`", id);
	fault_point("delete.unrecorded");
	d = fdopendir(*dir_fd);
	if (d == NULL)
		return error_errno(err, "read state of `%s`", id);
	*dir_fd = -1;
	/* Only files live here; a directory would be a bug, and unlinkat says so. */
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (dot_or_dotdot(de->d_name))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			r = error_errno(err, "remove `%s` of `%s`", de->d_name, id);
	}
	if (r == 0 && unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = error_errno(err, "remove state directory of `%s`", id);
	closedir(d);
	return r;
}

int status_lock(int rootfd, const char *id, int *dirfd, struct skiff_error **err)
{
	struct stat sb;
	cleanup_close int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 0 : error_errno(err, "open state of `%s`", id);
	if (lock_dir(fd, id, err) < 0)
		return -1;
	/* Another `delete` removed it while we waited: a directory there now is not this one. */
	if (fstat(fd, &sb) < 0 || sb.st_nlink == 0)
		return 0;
	*dirfd = steal_fd(&fd);
	return 1;
}

int status_remove_unrecorded(int rootfd, const char *id, struct skiff_error **err)
{
	cleanup_close int fd = -1;
	int r;

	/* A create still running holds the lock, and has recorded its state once it lets go. */
	r = status_lock(rootfd, id, &fd, err);
	if (r <= 0)
		return r;
	if (faccessat(fd, STATE_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0;
	if (status_remove(rootfd, &fd, id, err) < 0)
		return -1;
	return 1;
}

bool status_creator_alive(int dirfd)
{
	cleanup_close int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* A fresh open file: a lock on it never converts one this process holds. */
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0)
		return false;
	return errno == EWOULDBLOCK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int status_list(int rootfd, char ***ids, struct skiff_error **err)
{
	int fd = dup(rootfd);
	size_t n = 0, cap = 8;
	char **v;
	DIR *d;
	struct dirent *de;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "read state root");
	}
	rewinddir(d);
	v = xcalloc(cap, sizeof(char *));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (n + 1 >= cap)
			v = xrealloc(v, (cap *= 2) * sizeof(char *));
		v[n++] = xstrdup(de->d_name);
	}
	v[n] = NULL;
	closedir(d);
	qsort(v, n, sizeof(char *), cmp_str);
	*ids = v;
	return 0;
}

void status_free(struct container_status *st)
{
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->cgroup_path);
	free(st->cgroup_mount);
	free(st->cgroup_manager);
	free(st->rdt_group);
	free(st->rdt_mon);
	for (size_t i = 0; i < st->annotations.len; i++) {
		free(st->annotations.keys[i]);
		free(st->annotations.values[i]);
	}
	free(st->annotations.keys);
	free(st->annotations.values);
	memset(st, 0, sizeof(*st));
}

/* ---- liveness ---- */

int pid_start_time(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024], state;
	cleanup_close int fd = -1;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parens: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%c", &state) != 1)
		return -1;
	if (state == 'Z' || state == 'X')
		return -1;
	/* starttime is field 22: the space after ')' opens field 3, the 20th one field 22. */
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -1;
	}
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

bool pid_is_same(pid_t pid, unsigned long long start)
{
	unsigned long long now;

	/* 0: a state written before pidStart was read right (no init starts at tick 0). */
	return pid > 0 && pid_start_time(pid, &now) == 0 && (now == start || start == 0);
}

#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC 0x50494446
#endif

static unsigned long long inode_of(int pidfd)
{
	struct stat sb;
	return fstat(pidfd, &sb) == 0 ? (unsigned long long)sb.st_ino : 0;
}

unsigned long long pidfd_inode(int pidfd, pid_t pid)
{
	struct statfs fs;
	unsigned long long ino;
	cleanup_close int again = -1;

	if (pidfd < 0 || fstatfs(pidfd, &fs) < 0 || fs.f_type != PID_FS_MAGIC)
		return 0;
	ino = inode_of(pidfd);
	/* Only where every pidfd of one process shows the same inode is it a name for it. */
	again = sys_pidfd_open(pid);
	if (ino == 0 || again < 0 || inode_of(again) != ino)
		return 0;
	return ino;
}

bool pidfd_exited(int pidfd)
{
	struct pollfd pf = {.fd = pidfd, .events = POLLIN};

	return poll(&pf, 1, 0) != 0;
}

bool status_pidfd_is_init(const struct container_status *st, int pidfd)
{
	if (st->pid_ino == 0)
		return pid_is_same(st->pid, st->pid_start);
	return inode_of(pidfd) == st->pid_ino && !pidfd_exited(pidfd);
}

bool status_init_alive(const struct container_status *st)
{
	cleanup_close int fd = -1;

	if (st->pid_ino == 0)
		return pid_is_same(st->pid, st->pid_start);
	/* A pidfd and its inode: no path walk and no /proc text, unlike /proc/PID/stat. */
	fd = st->pid > 0 ? sys_pidfd_open(st->pid) : -1;
	return fd >= 0 && status_pidfd_is_init(st, fd);
}

int status_cgroup(const struct container_status *st, struct cgroup_manager *m,
                  struct skiff_error **err)
{
	if (st->cgroup_path == NULL)
		return 0;
	if (cgroup_manager_load(st->cgroup_manager, st->cgroup_path, m, err) < 0)
		return -1;
	return 1;
}

enum container_state status_derive(const struct container_status *st, int dirfd)
{
	struct cgroup_manager cg;
	struct stat sb;
	bool frozen;

	if (st->creating)
		return STATE_CREATING;
	if (!status_init_alive(st))
		return STATE_STOPPED;
	if (fstatat(dirfd, EXEC_FIFO, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return STATE_CREATED;
	if (status_cgroup(st, &cg, NULL) > 0 && cgroup_is_frozen(&cg, &frozen, NULL) == 0 && frozen)
		return STATE_PAUSED;
	return STATE_RUNNING;
}

const char *status_name(enum container_state s)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};
	return names[s];
}
