/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CRIU requests through libcriu (criu.h). */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "criu.h"
#include "log.h"
#include "utils.h"

#ifdef HAVE_CRIU
#include <criu/criu.h>
#include <dlfcn.h>
#endif

static const char *const cg_modes[] = {"soft", "full", "strict", "ignore"};

/* CRIU's form: apparmor:PROFILE, selinux:LABEL, or none: (no profile). */
static bool lsm_profile_ok(const char *p)
{
	if (str_has_prefix(p, "none:"))
		return true;
	return (str_has_prefix(p, "apparmor:") || str_has_prefix(p, "selinux:")) &&
	       strchr(p, ':')[1] != '\0';
}

int criu_options_validate(const struct criu_options *o, bool restore, struct skiff_error **err)
{
	bool mode_ok = o->manage_cgroups_mode == NULL;

	for (size_t i = 0; !mode_ok && i < ARRAY_SIZE(cg_modes); i++)
		mode_ok = strcmp(o->manage_cgroups_mode, cg_modes[i]) == 0;
	if (!mode_ok)
		return error_msg(err,
		                 "--manage-cgroups-mode: `%s`: expected soft, full, strict "
		                 "or ignore",
		                 o->manage_cgroups_mode);
	if (o->empty_ns && strcmp(o->empty_ns, "network") != 0)
		return error_msg(err, "--empty-ns: `%s`: only network is supported", o->empty_ns);
	if (o->lsm_profile && !lsm_profile_ok(o->lsm_profile))
		return error_msg(err,
		                 "--lsm-profile: `%s`: expected apparmor:PROFILE, "
		                 "selinux:LABEL or none:",
		                 o->lsm_profile);
	if (o->lsm_mount_context && o->lsm_mount_context[0] == '\0')
		return error_msg(err, "--lsm-mount-context: empty");
	/* runc looks at the status fd only for lazy pages, where criu says it is serving. */
	if (o->lazy_pages && o->status_fd_set) {
		int fl = fcntl(o->status_fd, F_GETFL);
		if (fl < 0)
			return error_errno(err, "--status-fd: %d", o->status_fd);
		/* runc's test, which refuses a read-write fd too */
		if ((fl & O_ACCMODE) != O_WRONLY)
			return error_msg(err, "--status-fd: %d is not open write-only",
			                 o->status_fd);
	}
	if (o->page_server) {
		const char *colon = strrchr(o->page_server, ':');
		long long port;
		if (colon == NULL || colon == o->page_server || parse_int64(colon + 1, &port) < 0 ||
		    port <= 0 || port > 65535)
			return error_msg(err, "--page-server: `%s`: expected ADDRESS:PORT",
			                 o->page_server);
	}
	if (o->parent_path && o->parent_path[0] == '/')
		return error_msg(err, "--parent-path: `%s`: must be relative to --image-path",
		                 o->parent_path);
	if (restore && o->pre_dump)
		return error_msg(err, "--pre-dump: only for checkpoint");
	return 0;
}

#ifdef HAVE_CRIU

/*
 * libcriu is loaded when checkpoint or restore needs it: every other
 * command starts without mapping it and libprotobuf-c.  A missing library
 * is then one clear line.
 */
#define LIBCRIU_SONAME "libcriu.so.2"
#define LIBCRIU_FUNCS(X)                                                                           \
	X(criu_opts__descriptor)                                                                   \
	X(criu_get_orphan_pts_master_fd)                                                           \
	X(criu_local_add_cg_root)                                                                  \
	X(criu_local_add_ext_mount)                                                                \
	X(criu_local_add_external)                                                                 \
	X(criu_local_add_inherit_fd)                                                               \
	X(criu_local_check)                                                                        \
	X(criu_local_dump)                                                                         \
	X(criu_local_feature_check)                                                                \
	X(criu_local_free_opts)                                                                    \
	X(criu_local_get_version)                                                                  \
	X(criu_local_init_opts)                                                                    \
	X(criu_local_join_ns_add)                                                                  \
	X(criu_local_pre_dump)                                                                     \
	X(criu_local_restore_child)                                                                \
	X(criu_local_set_auto_dedup)                                                               \
	X(criu_local_set_evasive_devices)                                                          \
	X(criu_local_set_ext_unix_sk)                                                              \
	X(criu_local_set_file_locks)                                                               \
	X(criu_local_set_freeze_cgroup)                                                            \
	X(criu_local_set_images_dir_fd)                                                            \
	X(criu_local_set_leave_running)                                                            \
	X(criu_local_set_link_remap)                                                               \
	X(criu_local_set_log_file)                                                                 \
	X(criu_local_set_log_level)                                                                \
	X(criu_local_set_manage_cgroups)                                                           \
	X(criu_local_set_manage_cgroups_mode)                                                      \
	X(criu_local_set_notify_cb)                                                                \
	X(criu_local_set_orphan_pts_master)                                                        \
	X(criu_local_set_page_server_address_port)                                                 \
	X(criu_local_set_parent_images)                                                            \
	X(criu_local_set_pid)                                                                      \
	X(criu_local_set_root)                                                                     \
	X(criu_local_set_service_binary)                                                           \
	X(criu_local_set_shell_job)                                                                \
	X(criu_local_set_tcp_established)                                                          \
	X(criu_local_set_tcp_skip_in_flight)                                                       \
	X(criu_local_set_track_mem)                                                                \
	X(criu_local_set_work_dir_fd)                                                              \
	X(criu_notify_pid)

static struct {
#define LIBCRIU_PTR(f) __typeof__(f) *f;
	LIBCRIU_FUNCS(LIBCRIU_PTR)
} lib;

static int libcriu_load(struct skiff_error **err)
{
#define LIBCRIU_NAME(f) #f "\0"
	static const char names[] = LIBCRIU_FUNCS(LIBCRIU_NAME);
#define LIBCRIU_ONE(f) +1
	_Static_assert(sizeof(lib) == (0 LIBCRIU_FUNCS(LIBCRIU_ONE)) * sizeof(void *),
	               "lib: function pointers only");
	static void *handle;
	const char *missing;
	void *h;

	if (handle)
		return 0;
	h = dlopen(LIBCRIU_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return error_msg(err, "%s cannot be loaded (install criu): %s", LIBCRIU_SONAME,
		                 dlerror());
	missing = dl_resolve(h, names, &lib);
	if (missing) {
		dlclose(h);
		return error_msg(err, "%s has no %s: criu too old", LIBCRIU_SONAME, missing);
	}
	handle = h;
	return 0;
}

static char *log_first_error(int dirfd, const char *name);

struct criu_req {
	criu_opts *opts;
	char *binary;
	int version;
	int work_fd;
	char *log;
	bool pre_dump, lazy_pages;
	int status_fd; /* told when the lazy-pages server is up; -1: none */
};

static enum criu_cg_mode cg_mode(const char *name)
{
	static const enum criu_cg_mode modes[] = {CRIU_CG_MODE_SOFT, CRIU_CG_MODE_FULL,
	                                          CRIU_CG_MODE_STRICT, CRIU_CG_MODE_IGNORE};

	for (size_t i = 0; name && i < ARRAY_SIZE(cg_modes); i++)
		if (strcmp(name, cg_modes[i]) == 0)
			return modes[i];
	return CRIU_CG_MODE_DEFAULT;
}

/*
 * Request fields libcriu 3.17 has no setter for (lazy_pages, empty_ns) go
 * straight into the CriuOpts message (rpc.pb-c.h) that libcriu sends.
 * criu_opts is opaque, but since libcriu's first release its first member
 * has been that message: its descriptor, which libcriu exports, proves it
 * before anything is written, and a field is found by name in the
 * descriptor (protobuf-c's reflection), at the offset the loaded libcriu
 * uses.  Returns -1 when this libcriu's message cannot be reached or lacks
 * the field.
 */
static int set_rpc_field(struct criu_req *r, const char *name, ProtobufCType type,
                         const void *value, size_t size)
{
	ProtobufCMessage *m = *(ProtobufCMessage **)r->opts;
	const ProtobufCMessageDescriptor *d = lib.criu_opts__descriptor;

	if (m == NULL || m->descriptor != d)
		return -1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->type != type || f->label != PROTOBUF_C_LABEL_OPTIONAL)
			return -1;
		memcpy((char *)m + f->offset, value, size);
		if (f->quantifier_offset) /* scalars have a has_ flag, strings none */
			*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
		return 0;
	}
	return -1;
}

static int set_rpc_bool(struct criu_req *r, const char *name, bool v)
{
	protobuf_c_boolean b = v;
	return set_rpc_field(r, name, PROTOBUF_C_TYPE_BOOL, &b, sizeof(b));
}

static int set_rpc_uint32(struct criu_req *r, const char *name, uint32_t v)
{
	return set_rpc_field(r, name, PROTOBUF_C_TYPE_UINT32, &v, sizeof(v));
}

static int set_rpc_int32(struct criu_req *r, const char *name, int32_t v)
{
	return set_rpc_field(r, name, PROTOBUF_C_TYPE_INT32, &v, sizeof(v));
}

static int set_rpc_string(struct criu_req *r, const char *name, const char *v)
{
	char *copy = xstrdup(v); /* libcriu may free the message's strings */

	if (set_rpc_field(r, name, PROTOBUF_C_TYPE_STRING, &copy, sizeof(copy)) == 0)
		return 0;
	free(copy);
	return -1;
}

static int rpc_refused(const char *option, const char *field, struct skiff_error **err)
{
	return error_msg(err,
	                 "%s: this libcriu does not let skiff set criu's `%s` request "
	                 "field",
	                 option, field);
}

/* LSM settings on restore; criu before 3.16 ignores them (runc's rule). */
static int apply_lsm(struct criu_req *r, const struct criu_options *o, struct skiff_error **err)
{
	if ((o->lsm_profile || o->lsm_mount_context) && r->version < 31600)
		return error_msg(err, "%s: needs criu 3.16 or later (this is %d.%d)",
		                 o->lsm_profile ? "--lsm-profile" : "--lsm-mount-context",
		                 r->version / 10000, r->version / 100 % 100);
	if (o->lsm_profile && set_rpc_string(r, "lsm_profile", o->lsm_profile) < 0)
		return rpc_refused("--lsm-profile", "lsm_profile", err);
	if (o->lsm_mount_context &&
	    set_rpc_string(r, "lsm_mount_context", o->lsm_mount_context) < 0)
		return rpc_refused("--lsm-mount-context", "lsm_mount_context", err);
	return 0;
}

static int apply_options(struct criu_req *r, const struct criu_options *o, struct skiff_error **err)
{
	criu_opts *c = r->opts;

	lib.criu_local_set_leave_running(c, o->leave_running);
	lib.criu_local_set_tcp_established(c, o->tcp_established);
	lib.criu_local_set_tcp_skip_in_flight(c, o->tcp_skip_in_flight);
	lib.criu_local_set_link_remap(c, o->link_remap);
	lib.criu_local_set_ext_unix_sk(c, o->ext_unix_sk);
	lib.criu_local_set_shell_job(c, o->shell_job);
	lib.criu_local_set_file_locks(c, o->file_locks);
	lib.criu_local_set_auto_dedup(c, o->auto_dedup);
	lib.criu_local_set_manage_cgroups(c, true);
	lib.criu_local_set_manage_cgroups_mode(c, cg_mode(o->manage_cgroups_mode));
	/* A terminal's slave whose master is outside: CRIU makes a new pair on restore. */
	lib.criu_local_set_orphan_pts_master(c, true);
	/*
	 * runc always leaves the network namespace to its creator (CNI, podman's
	 * namespace by path): criu dumps none of its links, addresses, routes or
	 * firewall and restores it empty; --empty-ns network asks the same.
	 */
	if (set_rpc_uint32(r, "empty_ns", CLONE_NEWNET) < 0 && o->empty_ns)
		return rpc_refused("--empty-ns", "empty_ns", err);
	if (o->lazy_pages && set_rpc_bool(r, "lazy_pages", true) < 0)
		return rpc_refused("--lazy-pages", "lazy_pages", err);
	r->lazy_pages = o->lazy_pages;
	r->status_fd = o->lazy_pages && o->status_fd_set ? o->status_fd : -1;
	/* criu 3.15 and later say it in a notification; older ones write to the fd. */
	if (r->status_fd >= 0 && r->version < 31500 &&
	    set_rpc_int32(r, "status_fd", r->status_fd) < 0)
		return rpc_refused("--status-fd", "status_fd", err);
	if (apply_lsm(r, o, err) < 0)
		return -1;
	if (o->parent_path) {
		lib.criu_local_set_parent_images(c, o->parent_path);
		lib.criu_local_set_track_mem(c, true);
	}
	if (o->pre_dump)
		lib.criu_local_set_track_mem(c, true);
	if (o->page_server) {
		cleanup_free char *addr = xstrdup(o->page_server);
		char *colon = strrchr(addr, ':');
		*colon = '\0';
		lib.criu_local_set_page_server_address_port(c, addr, atoi(colon + 1));
	}
	r->pre_dump = o->pre_dump;
	return 0;
}

int criu_req_new(const struct criu_options *o, int images_fd, int work_fd, const char *log,
                 struct criu_req **out, struct skiff_error **err)
{
	struct criu_req *r = xcalloc(1, sizeof(*r));

	*out = NULL;
	r->status_fd = -1;
	if (libcriu_load(err) < 0) {
		free(r);
		return -1;
	}
	r->work_fd = work_fd;
	r->log = xstrdup(log);
	r->binary = find_program("criu");
	if (r->binary == NULL) {
		criu_req_free(r);
		return error_msg(err, "criu is not installed (skiff checkpoints through it)");
	}
	if (lib.criu_local_init_opts(&r->opts) < 0) {
		r->opts = NULL;
		criu_req_free(r);
		return error_set(err, ENOMEM, "libcriu: init options");
	}
	/* An absolute path: libcriu's execlp would print its own error for a missing one. */
	lib.criu_local_set_service_binary(r->opts, r->binary);
	r->version = lib.criu_local_get_version(r->opts);
	if (r->version < 0) {
		error_msg(err, "%s does not answer libcriu's version request", r->binary);
		criu_req_free(r);
		return -1;
	}
	if (r->version < 30000) {
		int v = r->version;
		criu_req_free(r);
		return error_msg(err, "criu %d.%d is too old: skiff needs criu 3.0 or later",
		                 v / 10000, v / 100 % 100);
	}
	lib.criu_local_set_images_dir_fd(r->opts, images_fd);
	lib.criu_local_set_work_dir_fd(r->opts, work_fd);
	lib.criu_local_set_log_file(r->opts, log);
	lib.criu_local_set_log_level(r->opts, CRIU_LOG_DEBUG);
	if (apply_options(r, o, err) < 0) {
		criu_req_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int criu_service_version(void)
{
	struct criu_options none = {0};
	struct criu_req *r;
	struct skiff_error *err = NULL;
	int v;

	if (criu_req_new(&none, -1, -1, "check.log", &r, &err) < 0) {
		error_free(&err);
		return -1;
	}
	v = r->version;
	criu_req_free(r);
	return v;
}

void criu_req_free(struct criu_req *r)
{
	if (r == NULL)
		return;
	if (r->opts)
		lib.criu_local_free_opts(r->opts);
	free(r->binary);
	free(r->log);
	free(r);
}

int criu_req_version(const struct criu_req *r)
{
	return r->version;
}

void criu_req_ext_mount(struct criu_req *r, const char *key, const char *val)
{
	log_debug("criu: external mount %s -> %s", key, val);
	if (lib.criu_local_add_ext_mount(r->opts, key, val) < 0)
		oom();
}

void criu_req_external(struct criu_req *r, const char *key)
{
	log_debug("criu: external %s", key);
	if (lib.criu_local_add_external(r->opts, key) < 0)
		oom();
}

void criu_req_inherit_fd(struct criu_req *r, int fd, const char *key)
{
	log_debug("criu: inherit fd %d as %s", fd, key);
	if (lib.criu_local_add_inherit_fd(r->opts, fd, key) < 0)
		oom();
}

void criu_req_cgroup_root(struct criu_req *r, const char *path)
{
	if (lib.criu_local_add_cg_root(r->opts, NULL, path) < 0)
		oom();
}

void criu_req_join_ns(struct criu_req *r, const char *ns, const char *file)
{
	if (lib.criu_local_join_ns_add(r->opts, ns, file, NULL) < 0)
		oom();
}

/* libcriu's notify callback takes no argument: the request in progress. */
static struct criu_req *notifying;
static const struct criu_restore_calls *restore_calls;
static struct skiff_error *restore_error;

static int on_notify(char *action, criu_notify_arg_t na);

int criu_req_dump(struct criu_req *r, pid_t pid, const char *root, const char *freezer,
                  struct skiff_error **err)
{
	int ret;

	lib.criu_local_set_pid(r->opts, pid);
	if (lib.criu_local_set_root(r->opts, root) < 0 ||
	    (freezer && lib.criu_local_set_freeze_cgroup(r->opts, freezer) < 0))
		oom();
	/* One feature request for what the options need; a criu that cannot answer goes on. */
	struct criu_feature_check f = {.mem_track = r->pre_dump, .lazy_pages = r->lazy_pages};
	if ((r->pre_dump || r->lazy_pages) &&
	    lib.criu_local_feature_check(r->opts, &f, sizeof(f)) == 0) {
		if (r->pre_dump && !f.mem_track)
			return error_msg(err, "--pre-dump: criu or the kernel cannot track memory "
			                      "changes (soft-dirty bits)");
		if (r->lazy_pages && !f.lazy_pages)
			return error_msg(err,
			                 "--lazy-pages: criu or the kernel cannot restore memory "
			                 "lazily (userfaultfd)");
	}
	if (r->status_fd >= 0 && r->version >= 31500)
		lib.criu_local_set_notify_cb(r->opts, on_notify);
	notifying = r;
	ret = r->pre_dump ? lib.criu_local_pre_dump(r->opts) : lib.criu_local_dump(r->opts);
	notifying = NULL;
	if (ret < 0) {
		cleanup_free char *why = criu_req_explain(r);
		return error_msg(err, "criu %s failed: %s", r->pre_dump ? "pre-dump" : "dump", why);
	}
	return 0;
}

/* The lazy-pages server is up: runc's status fd gets one \0 byte and is closed. */
static void status_ready(struct criu_req *r)
{
	if (r == NULL || r->status_fd < 0)
		return;
	if (write(r->status_fd, "", 1) != 1)
		log_warning("--status-fd %d: write: %s", r->status_fd, strerror(errno));
	close(r->status_fd);
	r->status_fd = -1;
}

static int on_notify(char *action, criu_notify_arg_t na)
{
	const struct criu_restore_calls *c = restore_calls;

	log_debug("criu: notify %s", action);
	if (strcmp(action, "status-ready") == 0)
		status_ready(notifying);
	if (c == NULL || restore_error)
		return 0;
	if (strcmp(action, "setup-namespaces") == 0 && c->namespaces_ready)
		return c->namespaces_ready(c->data, lib.criu_notify_pid(na), &restore_error);
	if (strcmp(action, "orphan-pts-master") == 0 && c->pty_master) {
		int fd = lib.criu_get_orphan_pts_master_fd();
		if (fd < 0)
			return error_msg(&restore_error, "criu sent no pty master");
		return c->pty_master(c->data, fd, &restore_error);
	}
	return 0;
}

int criu_req_restore(struct criu_req *r, const char *root, const struct criu_restore_calls *calls,
                     pid_t *pid, struct skiff_error **err)
{
	sigset_t chld, old;
	int ret;

	if (lib.criu_local_set_root(r->opts, root) < 0)
		oom();
	lib.criu_local_set_evasive_devices(r->opts, true);
	lib.criu_local_set_notify_cb(r->opts, on_notify);
	restore_calls = calls;
	restore_error = NULL;
	notifying = r;
	/* libcriu wants SIGCHLD blocked while the restored tree may already exit. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	ret = lib.criu_local_restore_child(r->opts);
	sigprocmask(SIG_SETMASK, &old, NULL);
	restore_calls = NULL;
	notifying = NULL;
	if (restore_error) {
		if (err)
			*err = restore_error;
		else
			error_free(&restore_error);
		restore_error = NULL;
		return -1;
	}
	if (ret <= 0) {
		cleanup_free char *why = criu_req_explain(r);
		return error_msg(err, "criu restore failed: %s", why);
	}
	*pid = ret;
	return 0;
}

static char *log_first_error(int dirfd, const char *name)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	cleanup_free char *text = NULL;
	size_t len;

	if (fd < 0 || read_fd_all(fd, &text, &len, NULL) < 0 || strstr(text, "Error") == NULL)
		return NULL;
	return criu_first_error(text);
}

char *criu_req_explain(struct criu_req *r)
{
	const char *refusal = NULL;
	char *why;

	/* CRIU's own kernel check, over RPC: a kernel it cannot work on fails it. */
	lib.criu_local_set_log_file(r->opts, "check.log");
	if (lib.criu_local_check(r->opts) < 0) {
		refusal = criu_kernel_refusal(r->version);
		why = refusal ? xstrdup(refusal) : log_first_error(r->work_fd, "check.log");
		unlinkat(r->work_fd, "check.log", 0);
		if (why) {
			char *line = xasprintf("criu %d.%d.%d cannot work on this kernel: %s",
			                       r->version / 10000, r->version / 100 % 100,
			                       r->version % 100, why);
			free(why);
			return line;
		}
	}
	unlinkat(r->work_fd, "check.log", 0);
	lib.criu_local_set_log_file(r->opts, r->log);
	why = log_first_error(r->work_fd, r->log);
	return why ? why : xasprintf("see %s", r->log);
}

#else /* !HAVE_CRIU */

struct criu_req {
	int unused;
};

int criu_req_new(const struct criu_options *o, int images_fd, int work_fd, const char *log,
                 struct criu_req **out, struct skiff_error **err)
{
	*out = NULL;
	return error_msg(err, "skiff was built without checkpoint/restore (--disable-criu or "
	                      "no libcriu at build time)");
}

int criu_service_version(void)
{
	return -1;
}
void criu_req_free(struct criu_req *r)
{
}
int criu_req_version(const struct criu_req *r)
{
	return 0;
}
void criu_req_ext_mount(struct criu_req *r, const char *key, const char *val)
{
}
void criu_req_external(struct criu_req *r, const char *key)
{
}
void criu_req_inherit_fd(struct criu_req *r, int fd, const char *key)
{
}
void criu_req_cgroup_root(struct criu_req *r, const char *path)
{
}
void criu_req_join_ns(struct criu_req *r, const char *ns, const char *file)
{
}
int criu_req_dump(struct criu_req *r, pid_t pid, const char *root, const char *freezer,
                  struct skiff_error **err)
{
	return error_set(err, ENOSYS, "no checkpoint support");
}
int criu_req_restore(struct criu_req *r, const char *root, const struct criu_restore_calls *calls,
                     pid_t *pid, struct skiff_error **err)
{
	return error_set(err, ENOSYS, "no checkpoint support");
}
char *criu_req_explain(struct criu_req *r)
{
	return xstrdup("no checkpoint support");
}

#endif
