/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container lifecycle.  This is the only file that knows the order of
 * the steps; each step lives in the module of its concern.  The create
 * protocol between skiff and the container's init is drawn in sync.h.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "checkpoint.h"
#include "container.h"
#include "create_plan.h"
#include "hooks.h"
#include "intelrdt.h"
#include "label.h"
#include "mempolicy.h"
#include "log.h"
#include "devices.h"
#include "fault.h"
#include "foreground.h"
#include "mounts.h"
#include "rootfs.h"
#include "rootless.h"
#include "namespaces.h"
#include "netdev.h"
#include "process.h"
#include "seccomp.h"
#include "seccomp_notify.h"
#include "status.h"
#include "sync.h"
#include "sysctl.h"
#include "terminal.h"
#include "utils.h"

/* ---- small helpers ---- */

static char *rfc3339_now(void)
{
	char buf[64];

	rfc3339_utc_now(buf, sizeof(buf));
	return xstrdup(buf);
}

static char *state_json_for(const struct container_status *st, enum container_state s)
{
	/* Hooks read one line: compact JSON. */
	return status_spec_json(st, s, false, NULL);
}

/* ---- loading the bundle ---- */

static int load_bundle(struct create_plan *p, struct skiff_error **err)
{
	const char *bundle = p->o->bundle ? p->o->bundle : ".";
	char resolved[PATH_MAX];
	cleanup_free char *path = NULL;
	char *perr = NULL;

	if (realpath(bundle, resolved) == NULL)
		return error_errno(err, "--bundle: `%s`", bundle);
	p->bundle = xstrdup(resolved);
	/* --config is relative to the caller's directory, as crun's; the rootfs stays the bundle's.
	 */
	p->config_name = p->o->config ? p->o->config : "config.json";
	path = p->o->config ? xstrdup(p->o->config) : xasprintf("%s/config.json", p->bundle);
	if (read_file(path, &p->config_data, &p->config_len, err) < 0)
		return p->o->config ? error_wrap(err, "--config") : -1;
	p->config = oci_config_parse_data(p->config_data, p->config_len, p->config_name, &perr);
	if (p->config == NULL) {
		error_msg(err, "%s%s", perr ? perr : p->config_name, perr ? "" : ": cannot parse");
		free(perr);
		return -1;
	}
	if (p->config->process == NULL)
		return error_msg(err, "%s: process: missing (needed to create a container)",
		                 p->config_name);
	if (p->config->root == NULL || p->config->root->path == NULL)
		return error_msg(err, "%s: root.path: missing", p->config_name);
	if (p->config->linux_ == NULL)
		return error_msg(err, "%s: linux: missing (skiff runs Linux containers)",
		                 p->config_name);
	if (p->config->root->path[0] == '/')
		p->rootfs = xstrdup(p->config->root->path);
	else
		p->rootfs = xasprintf("%s/%s", p->bundle, p->config->root->path);
	if (realpath(p->rootfs, resolved) == NULL)
		return error_errno(err, "%s: root.path: `%s`", p->config_name, p->rootfs);
	free(p->rootfs);
	p->rootfs = xstrdup(resolved);
	return 0;
}

/*
 * Socket activation, as runc does it: when systemd handed skiff LISTEN_FDS
 * fds (LISTEN_PID is our pid), they go to the container as fds 3.. and
 * its process is told so with LISTEN_FDS=N and LISTEN_PID=1.
 */
static void take_listen_fds(struct create_plan *p)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	struct oci_process *proc = p->config->process;
	long long n, owner;
	size_t len;

	if (fds == NULL || pid == NULL || parse_int64(fds, &n) < 0 || parse_int64(pid, &owner) < 0)
		return;
	if (owner != getpid() || n <= 0 || n > 4096)
		return;
	p->listen_fds = (unsigned int)n;
	len = strv_len(proc->env);
	proc->env = xrealloc(proc->env, (len + 3) * sizeof(char *));
	proc->env[len] = xasprintf("LISTEN_FDS=%lld", n);
	proc->env[len + 1] = xstrdup("LISTEN_PID=1");
	proc->env[len + 2] = NULL;
}

/* Every check that needs no side effect, so bad input leaves nothing behind. */
static int validate_config(struct create_plan *p, struct skiff_error **err)
{
	const struct oci_config *c = p->config;

	if (process_validate(c->process, err) < 0 || mounts_validate(c, err) < 0 ||
	    process_validate_personality(c->linux_->personality, err) < 0 ||
	    sysctl_validate(c, err) < 0 || label_validate(c, err) < 0 ||
	    mempolicy_validate(c->linux_->memory_policy, err) < 0)
		return error_wrap(err, "%s", p->config_name);
	if (intelrdt_validate(c->linux_->intel_rdt, err) < 0)
		return error_wrap(err, "%s", p->config_name);
	if (ns_plan_make(c, &p->ns, err) < 0 ||
	    netdev_validate(c->linux_, !ns_plan_shares_host(&p->ns, NS_NET), err) < 0)
		return error_wrap(err, "%s", p->config_name);
	if (c->process->terminal && p->o->console_socket == NULL && !p->run_tty)
		return error_msg(err,
		                 "process.terminal is true: --console-socket is required (or use "
		                 "`run` in the foreground)");
	return 0;
}

/* ---- create, parent side ---- */

static int clone_init(struct create_plan *p, struct skiff_error **err)
{
	struct clone_args args = {
	    .pidfd = (uint64_t)(uintptr_t)&p->pidfd,
	    .exit_signal = SIGCHLD,
	};
	long pid;

	if (p->cgroup_fd >= 0) {
		/* Born in its cgroup: no window in which the init runs outside it. */
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)p->cgroup_fd;
	}
	if (p->has_cgroup && (p->cgroup_fd < 0 || p->cgroup_self.n > 0)) {
		/*
		 * Moved in after its birth (v1): a cgroup namespace made now would
		 * be rooted at skiff's cgroup; the init makes it once moved (GO).
		 */
		ns_plan_defer(&p->ns, CLONE_NEWCGROUP);
	}
	/* After the defer: a cgroup namespace made here too would be one more, unused. */
	args.flags |= (uint64_t)p->ns.clone_flags | CLONE_PIDFD;
	/* Before the clone: the init inherits it, and memfd_create runs under no filter. */
	process_exec_prepare();
	if (ns_plan_before_clone(&p->ns, p->config->linux_, err) < 0) {
		ns_plan_after_clone(&p->ns);
		return -1;
	}
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		container_init(p);
	ns_plan_after_clone(&p->ns);
	if (pid < 0)
		return error_errno(err, "clone the container init");
	p->pid = (pid_t)pid;
	return 0;
}

static int run_runtime_hooks(struct create_plan *p, struct skiff_error **err)
{
	const struct oci_hooks *h = p->config->hooks;
	/*
	 * "created": the runtime environment exists (the spec's state: "after step 2
	 * in the lifecycle"); runtime-tools' hooks_stdin and crun say the same.
	 */
	cleanup_free char *state = state_json_for(&p->st, STATE_CREATED);

	if (h && (hooks_run(&h->prestart, "prestart", state, err) < 0 ||
	          hooks_run(&h->create_runtime, "createRuntime", state, err) < 0)) {
		sync_send(p->sync[0], SYNC_ERROR, 0, "hook failed", -1);
		return -1;
	}
	fault_point("create.hooks");
	if (sync_send(p->sync[0], SYNC_HOOKS_DONE, 0, state, -1) < 0)
		return error_errno(err, "sync with container init");
	return 0;
}

/* Binds idmapped on the init's own user namespace: only its maps make them possible. */
static int send_idmapped_sources(struct create_plan *p, struct skiff_error **err)
{
	int *fds = NULL, r = 0;

	if (rootfs_open_idmapped_sources(p->config, p->bundle, p->pid, &fds, err) < 0)
		r = -1;
	for (size_t i = 0; r == 0 && i < p->config->mounts_len; i++)
		if (fds[i] >= 0 && sync_send(p->sync[0], SYNC_MOUNT_FD, (int)i, NULL, fds[i]) < 0)
			r = error_errno(err, "sync with container init");
	rootfs_close_bind_sources(&fds, p->config->mounts_len);
	return r;
}

static int adopt_init(struct create_plan *p, struct skiff_error **err)
{
	struct cgroup_adoptee a = {
	    .pid = p->pid,
	    .id = p->o->id,
	    .r = p->config->linux_->resources,
	    .annotations = &p->config->annotations,
	};

	return cgroup_adopt(&p->cgroup, &a, err);
}

static int talk_to_init(struct create_plan *p, struct skiff_error **err)
{
	const struct oci_linux *l = p->config->linux_;

	if (p->ns.present[NS_USER] && p->ns.join_fd[NS_USER] < 0) {
		if (ns_write_id_maps(p->pid, l, !rootless_has_cap(CAP_SETGID), err) < 0)
			return -1;
		log_debug("create `%s`: user namespace maps written", p->o->id);
	}
	if (p->ns.present[NS_USER] && send_idmapped_sources(p, err) < 0)
		return -1;
	/*
	 * Not born in its cgroup (v1 hierarchies, a systemd scope made around
	 * it): moved in before it may go on, unless it moves itself first
	 * thing after GO (cgroup_self).
	 */
	if (p->has_cgroup && p->cgroup_fd < 0 && p->cgroup_self.n == 0 && adopt_init(p, err) < 0)
		return -1;
	/* Cgroup ownership: only with a cgroup namespace of its own (runtime-spec). */
	if (p->has_cgroup && p->ns.present[NS_USER] && p->ns.present[NS_CGROUP] &&
	    p->ns.join_fd[NS_CGROUP] < 0 && cgroup_wants_delegation(p->config) &&
	    cgroup_delegate(&p->cgroup, p->pid, p->config->process->user.uid, err) < 0)
		return -1;
	if (!create_plan_has_runtime_step(p->config)) {
		cleanup_free char *state = state_json_for(&p->st, STATE_CREATED);

		if (sync_send(p->sync[0], SYNC_GO, 0, state, -1) < 0)
			return error_errno(err, "sync with container init");
		fault_point("create.hooks");
	} else {
		if (sync_send(p->sync[0], SYNC_GO, 0, NULL, -1) < 0)
			return error_errno(err, "sync with container init");
		if (sync_expect(p->sync[0], SYNC_RUNTIME_HOOKS, NULL, err) < 0)
			return -1;
		/* The init is in its namespaces now, new or joined: the devices go there. */
		if (netdev_move(p->pid, p->config->linux_, err) < 0)
			return -1;
		if (run_runtime_hooks(p, err) < 0)
			return -1;
	}
	if (p->run_tty && p->config->process->terminal) {
		if (sync_expect(p->sync[0], SYNC_PTY, &p->pty_master, err) < 0)
			return -1;
		terminal_copy_window_size(p->pty_master);
	}
	return sync_expect(p->sync[0], SYNC_READY, NULL, err);
}

/* Where the cgroup goes, known (and recorded) before it is made. */
static int plan_cgroup(struct create_plan *p, struct skiff_error **err)
{
	const char *name;

	if (cgroup_manager_choose(p->ctx->cgroup_manager, p->ctx->systemd_cgroup, &name, err) < 0)
		return -1;
	if (name == NULL)
		return 0;
	if (cgroup_manager_load(name, NULL, &p->cgroup, err) < 0)
		return -1;
	p->st.cgroup_path =
	    cgroup_manager_resolve(&p->cgroup, p->config->linux_->cgroups_path, p->o->id, err);
	if (p->st.cgroup_path == NULL)
		return -1;
	p->st.cgroup_manager = xstrdup(name);
	p->cgroup.path = p->st.cgroup_path;
	return 0;
}

/* Rootless without a writable cgroup: the state stops naming the one it planned. */
static int drop_cgroup(struct create_plan *p, struct skiff_error **err)
{
	log_debug("create `%s`: no writable cgroup for uid %u, going on without one", p->o->id,
	          (unsigned)geteuid());
	free(p->st.cgroup_path);
	free(p->st.cgroup_manager);
	p->st.cgroup_path = p->st.cgroup_manager = NULL;
	p->cgroup.path = NULL;
	return status_write(p->dirfd, &p->st, err);
}

static int make_cgroup(struct create_plan *p, struct skiff_error **err)
{
	const struct oci_linux *l = p->config->linux_;
	struct cgroup_created made;
	cleanup_free pid_t *pids = NULL;
	size_t npids = 0;
	bool frozen;
	int ret;

	if (p->st.cgroup_path == NULL)
		return 0;
	/*
	 * Shared with a paused container: the init would be born frozen, create
	 * would wait for it forever, and the init would hold the caller's stdio
	 * and this container's lock until that container is resumed.
	 */
	if (cgroup_is_frozen(&p->cgroup, &frozen, NULL) == 0 && frozen)
		return error_msg(
		    err, "cgroup %s is frozen (a paused container uses it): resume it first",
		    p->st.cgroup_path);
	ret = cgroup_create(&p->cgroup, l->cgroups_path, p->o->id, l->resources, &made, err);
	/*
	 * As runc 1.1 (1.2 refuses): the other container's processes share the
	 * limits.  Once create accepted it: a driver that cannot share (a
	 * systemd scope is one unit) has said so instead.
	 */
	if (ret == 0 && !made.fresh && cgroup_pids(&p->cgroup, &pids, &npids, NULL) == 0 &&
	    npids > 0)
		log_warning("cgroup %s is not empty: %zu process(es) found (another container "
		            "uses it?)",
		            p->st.cgroup_path, npids);
	if (ret == 0) {
		p->st.cgroup_mount = steal_ptr(&made.mount);
		p->cgroup_fd = steal_fd(&made.clone_fd);
		p->cgroup_self = made.self;
		memset(&made.self, 0, sizeof(made.self));
		p->cgroup_made = steal_ptr(&made.made);
		p->has_cgroup = true;
	}
	/* made.path is the one plan_cgroup resolved: the state's copy stays the manager's. */
	p->cgroup.path = p->st.cgroup_path;
	cgroup_created_free(&made);
	if (ret < 0 && rootless_cgroup_skip(p->ctx->rootless, l->resources, err) == 0)
		return drop_cgroup(p, err);
	return ret;
}

static int make_exec_fifo(struct create_plan *p, struct skiff_error **err)
{
	if (mkfifoat(p->dirfd, EXEC_FIFO, 0600) < 0)
		return error_errno(err, "make exec fifo");
	/* Others may write: the init may run as any user by then. */
	if (fchmodat(p->dirfd, EXEC_FIFO, 0622, 0) < 0)
		return error_errno(err, "chmod exec fifo");
	p->fifo_fd = openat(p->dirfd, EXEC_FIFO, O_PATH | O_CLOEXEC);
	if (p->fifo_fd < 0)
		return error_errno(err, "open exec fifo");
	return 0;
}

int container_write_pid_file(const char *path, pid_t pid, struct skiff_error **err)
{
	char buf[32];
	cleanup_free char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	cleanup_close int dirfd = -1;

	snprintf(buf, sizeof(buf), "%d", pid);
	if (slash == NULL)
		dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (slash == copy)
		dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		*slash = '\0';
		dirfd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0)
		return error_errno(err, "--pid-file: open directory of `%s`", path);
	if (write_file_atomic(dirfd, slash ? slash + 1 : copy, buf, strlen(buf), 0644, err) < 0)
		return error_wrap(err, "--pid-file");
	return 0;
}

static void plan_init(struct create_plan *p, const struct skiff_context *ctx,
                      const struct create_options *o)
{
	memset(p, 0, sizeof(*p));
	p->ctx = ctx;
	p->o = o;
	p->rootfd = p->dirfd = p->fifo_fd = p->console_fd = p->cgroup_fd = p->fd_dir = -1;
	p->listener_fd = -1;
	p->sync[0] = p->sync[1] = -1;
	p->pidfd = p->pty_master = p->holder_fd = -1;
	for (int k = 0; k < NS_COUNT; k++)
		p->ns.join_fd[k] = -1;
	p->ns.saved_pid_fd = p->ns.saved_time_fd = -1;
	p->unprivileged = !rootless_has_cap(CAP_SYS_ADMIN);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Restore's cgroup holder (restore_hold_cgroup): told to leave, and reaped. */
static void restore_release_cgroup(struct create_plan *p)
{
	close_fd(&p->holder_fd);
	if (p->holder > 0)
		wait_pid(p->holder, NULL);
	p->holder = 0;
}

/* Every fd but the state's (rootfd, dirfd: the lock). */
static void plan_close_fds(struct create_plan *p)
{
	close_fd(&p->fifo_fd);
	close_fd(&p->console_fd);
	close_fd(&p->listener_fd);
	close_fd(&p->cgroup_fd);
	cgroup_self_free(&p->cgroup_self);
	close_fd(&p->sync[0]);
	close_fd(&p->sync[1]);
	close_fd(&p->pidfd);
	close_fd(&p->pty_master);
	rootfs_close_bind_sources(&p->bind_fds, p->config ? p->config->mounts_len : 0);
	rootfs_close_bind_sources(
	    &p->dev_fds, p->config && p->config->linux_ ? p->config->linux_->devices_len : 0);
	ns_plan_release(&p->ns);
}

static void plan_free(struct create_plan *p)
{
	close_fd(&p->rootfd);
	close_fd(&p->dirfd);
	plan_close_fds(p);
	if (p->seccomp)
		seccomp_program_free(p->seccomp);
	oci_config_free(p->config);
	free(p->config_data);
	free(p->bundle);
	free(p->rootfs);
	status_free(&p->st);
	strv_free(p->cgroup_made);
}

/* The spec's last lifecycle step, after the container is destroyed: failures only warn. */
static void run_poststop(const struct oci_config *cfg, const struct container_status *st)
{
	if (cfg->hooks && cfg->hooks->poststop.len) {
		cleanup_free char *state = state_json_for(st, STATE_STOPPED);
		hooks_run_warn(&cfg->hooks->poststop, "poststop", state);
	}
}

/*
 * A failed create leaves nothing: no process, cgroup, fifo or state directory.
 * Once the init exists the container's environment was (partly) made: like a
 * failing create hook, any failure then continues the lifecycle at its
 * destruction, poststop hooks included (runtime-spec lifecycle steps 3-5, 12, 13).
 */
static void undo_create(struct create_plan *p)
{
	struct skiff_error *ignored = NULL;
	bool made = p->pid > 0;

	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		wait_pid(p->pid, NULL);
		p->pid = 0;
	}
	restore_release_cgroup(p);
	/* Out of fds (EMFILE) is a reason to be here: removing takes a few. */
	plan_close_fds(p);
	cgroup_unmake(&p->cgroup, steal_ptr(&p->cgroup_made));
	error_free(&ignored);
	intelrdt_remove(&p->st);
	if (p->dirfd >= 0)
		status_remove(p->rootfd, &p->dirfd, p->o->id, &ignored);
	error_free(&ignored);
	if (made)
		run_poststop(p->config, &p->st);
}

static int fill_status(struct create_plan *p)
{
	const struct oci_map *a = &p->config->annotations;

	p->st.id = xstrdup(p->o->id);
	p->st.bundle = xstrdup(p->bundle);
	p->st.rootfs = xstrdup(p->rootfs);
	p->st.created = rfc3339_now();
	p->st.creating = true;
	p->st.has_new_pidns = p->ns.present[NS_PID];
	p->st.no_keyring = p->o->no_new_keyring;
	p->st.has_poststart = p->config->hooks && p->config->hooks->poststart.len;
	p->st.has_poststop = p->config->hooks && p->config->hooks->poststop.len;
	p->st.annotations.len = a->len;
	p->st.annotations.keys = xcalloc(a->len + 1, sizeof(char *));
	p->st.annotations.values = xcalloc(a->len + 1, sizeof(char *));
	for (size_t i = 0; i < a->len; i++) {
		p->st.annotations.keys[i] = xstrdup(a->keys[i]);
		p->st.annotations.values[i] = xstrdup(a->values[i]);
	}
	return 0;
}

static int seccomp_prepare(struct create_plan *p, struct skiff_error **err)
{
	const struct oci_seccomp *s = p->config->linux_->seccomp;
	cleanup_free char *cache = NULL;

	if (s == NULL)
		return 0;
	cache = xasprintf("%s/.seccomp-cache", p->ctx->root);
	if (seccomp_compile_cached(s, cache, &p->seccomp, err) < 0)
		return error_wrap(err, "%s", p->config_name);
	return 0;
}

/*
 * The state is written before each step that leaves something behind
 * (the cgroup, the init), so that a create killed at any point leaves what
 * `delete` needs to remove it; it is marked `creating` until the init is
 * ready.
 */
static int create_steps(struct create_plan *p, struct skiff_error **err)
{
	const struct create_options *o = p->o;

	if (load_bundle(p, err) < 0 || validate_config(p, err) < 0 || seccomp_prepare(p, err) < 0)
		return -1;
	log_debug("create `%s`: bundle %s, config %s, rootfs %s", o->id, p->bundle, p->config_name,
	          p->rootfs);
	take_listen_fds(p);
	process_keep_original_groups(&p->config->annotations);
	if (status_open_root(p->ctx->root, true, &p->rootfd, err) < 0)
		return -1;
	if (status_create(p->rootfd, o->id, &p->dirfd, err) < 0)
		return -1;
	fault_point("create.dir");
	fill_status(p);
	if (write_file_replace(p->dirfd, SAVED_CONFIG, p->config_data, p->config_len, 0600, err) <
	    0)
		return -1;
	if (plan_cgroup(p, err) < 0 || status_write(p->dirfd, &p->st, err) < 0)
		return -1;
	fault_point("create.recorded");
	if (make_exec_fifo(p, err) < 0 || make_cgroup(p, err) < 0)
		return -1;
	log_debug("create `%s`: state in %s/%s, cgroup %s", o->id, p->ctx->root, o->id,
	          p->st.cgroup_path ? p->st.cgroup_path : "none");
	fault_point("create.cgroup");
	if (o->console_socket && terminal_connect(o->console_socket, &p->console_fd, err) < 0)
		return -1;
	/* The agent's socket is a host path: connect here, the init only sends on it. */
	if (p->seccomp && p->seccomp->needs_notify &&
	    seccomp_notify_connect(p->config->linux_->seccomp, &p->listener_fd, err) < 0)
		return -1;
	/*
	 * The mapped root may not reach a source the runtime can: open them
	 * here, unless the runtime may not mount (rootless: then its mapped
	 * root reaches what the caller does).
	 */
	if (rootfs_open_bind_sources(p->config, p->bundle,
	                             p->ns.present[NS_USER] && !p->unprivileged, &p->bind_fds,
	                             err) < 0)
		return -1;
	/*
	 * Its mappings are in the config only for a new user namespace.
	 * Rootless, no node can be made anywhere: the host's are bound, as runc.
	 */
	if (p->ns.present[NS_USER] && p->ns.join_fd[NS_USER] < 0 && !p->unprivileged &&
	    devices_make_nodes(p->config, &p->dev_fds, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->sync) < 0)
		return error_errno(err, "socketpair");
	if (clone_init(p, err) < 0)
		return -1;
	rootfs_close_bind_sources(&p->bind_fds, p->config->mounts_len);
	rootfs_close_bind_sources(&p->dev_fds, p->config->linux_->devices_len);
	log_debug("create `%s`: init cloned, pid %d, clone flags %#x", o->id, (int)p->pid,
	          (unsigned int)p->ns.clone_flags);
	/* Killed here, the init reads EOF on its socket and exits. */
	fault_point("create.cloned");
	/* Before the init is released: whatever it starts is born in the group. */
	if (intelrdt_setup(p->config->linux_->intel_rdt, o->id, p->pid, &p->st, err) < 0)
		return -1;
	close_fd(&p->sync[1]);
	close_fd(&p->console_fd);
	close_fd(&p->listener_fd);
	p->st.pid = p->pid;
	if (pid_start_time(p->pid, &p->st.pid_start) < 0)
		return error_msg(err, "container init exited during create");
	p->st.pid_ino = pidfd_inode(p->pidfd, p->pid);
	if (status_write(p->dirfd, &p->st, err) < 0)
		return -1;
	fault_point("create.pid");
	if (talk_to_init(p, err) < 0)
		return -1;
	log_debug("create `%s`: init ready, waiting for start", o->id);
	fault_point("create.ready");
	/* Our child: its pidfd says it as /proc/PID/stat would, without a /proc lookup. */
	if (p->pidfd >= 0 ? pidfd_exited(p->pidfd) : !pid_is_same(p->pid, p->st.pid_start))
		return error_msg(err, "container init exited during create");
	p->st.creating = false;
	if (status_write(p->dirfd, &p->st, err) < 0)
		return -1;
	fault_point("create.done");
	if (o->pid_file && container_write_pid_file(o->pid_file, p->pid, err) < 0)
		return -1;
	return 0;
}

static int create_with_plan(struct create_plan *p, struct skiff_error **err)
{
	if (status_validate_id(p->o->id, err) < 0)
		return -1;
	if (create_steps(p, err) < 0) {
		undo_create(p);
		return error_wrap(err, "create `%s`", p->o->id);
	}
	return 0;
}

int container_create(const struct skiff_context *ctx, const struct create_options *o,
                     struct skiff_error **err)
{
	struct create_plan p;
	int r;

	plan_init(&p, ctx, o);
	r = create_with_plan(&p, err);
	plan_free(&p);
	return r;
}

static int remove_after_run(const struct skiff_context *ctx, const char *id,
                            struct skiff_error **err);

/* ---- restore: the init comes back from CRIU's images instead of a clone ---- */

/*
 * CRIU made the namespaces; the restored init has forked nothing yet.  It
 * goes into the container's cgroup now, so whatever it forks is born there
 * whatever --manage-cgroups-mode says (runc gets the same by running criu
 * itself in that cgroup; libcriu forks criu, in ours).  Then the runtime's
 * hooks run, as at create.
 */
static int restore_namespaces_ready(void *data, pid_t pid, struct skiff_error **err)
{
	struct create_plan *p = data;
	const struct oci_hooks *h = p->config->hooks;
	cleanup_free char *state = NULL;

	if (p->has_cgroup &&
	    cgroup_enter(&p->cgroup, p->cgroup_self.n ? -1 : p->cgroup_fd, NULL, pid, err) < 0)
		return -1;
	if (h == NULL || (h->prestart.len == 0 && h->create_runtime.len == 0))
		return 0;
	p->st.pid = pid;
	state = state_json_for(&p->st, STATE_CREATED);
	p->st.pid = 0;
	if (hooks_run(&h->prestart, "prestart", state, err) < 0 ||
	    hooks_run(&h->create_runtime, "createRuntime", state, err) < 0)
		return -1;
	return 0;
}

static int restore_pty_master(void *data, int fd, struct skiff_error **err)
{
	struct create_plan *p = data;
	int r = 0;

	if (p->console_fd < 0)
		r = error_msg(err, "the checkpointed process has a terminal: --console-socket "
		                   "is required");
	else if (terminal_send_master(p->console_fd, fd, err) < 0)
		r = -1;
	close(fd);
	return r;
}

/*
 * A cgroup the driver makes only around a process (a systemd scope) is
 * made around a holder, a child that waits: CRIU needs the cgroup before
 * it forks the restored tree (runc starts the scope around criu itself).
 * The holder leaves once CRIU has put the restored processes in.
 */
static int restore_hold_cgroup(struct create_plan *p, struct skiff_error **err)
{
	struct cgroup_adoptee a = {
	    .id = p->o->id,
	    .r = p->config->linux_->resources,
	    .annotations = &p->config->annotations,
	};
	int fds[2];
	char c;

	if (!p->has_cgroup || p->cgroup_fd >= 0 || p->cgroup_self.n > 0)
		return 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_errno(err, "pipe");
	p->holder = fork();
	if (p->holder == 0) {
		close(fds[1]);
		/* EOF once restore is done, or gone. */
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	if (p->holder < 0) {
		p->holder = 0;
		close(fds[1]);
		return error_errno(err, "fork the cgroup's first process");
	}
	p->holder_fd = fds[1];
	a.pid = p->holder;
	return cgroup_adopt(&p->cgroup, &a, err);
}

static int restore_steps(struct create_plan *p, struct skiff_error **err)
{
	const struct create_options *o = p->o;
	cleanup_free char *state_dir = NULL, *cgroup_dir = NULL;
	struct checkpoint_restore rq;

	if (load_bundle(p, err) < 0 || validate_config(p, err) < 0)
		return -1;
	if (status_open_root(p->ctx->root, true, &p->rootfd, err) < 0 ||
	    status_create(p->rootfd, o->id, &p->dirfd, err) < 0)
		return -1;
	fill_status(p);
	if (write_file_replace(p->dirfd, SAVED_CONFIG, p->config_data, p->config_len, 0600, err) <
	        0 ||
	    plan_cgroup(p, err) < 0 || status_write(p->dirfd, &p->st, err) < 0 ||
	    make_cgroup(p, err) < 0 || restore_hold_cgroup(p, err) < 0)
		return -1;
	if (o->console_socket && terminal_connect(o->console_socket, &p->console_fd, err) < 0)
		return -1;
	state_dir = xasprintf("%s/%s", p->ctx->root, o->id);
	if (p->has_cgroup && cgroup_manager_is_unified())
		cgroup_dir = cgroup_freezer_dir(&p->cgroup, NULL);
	rq = (struct checkpoint_restore){
	    .c = &p->restore->c,
	    .config = p->config,
	    .bundle = p->bundle,
	    .rootfs = p->rootfs,
	    .state_dir = state_dir,
	    .cgroup_path = p->has_cgroup ? p->st.cgroup_path : NULL,
	    .cgroup_dir = cgroup_dir,
	    .calls = {.data = p,
	              .namespaces_ready = restore_namespaces_ready,
	              .pty_master = restore_pty_master},
	};
	if (checkpoint_restore_run(&rq, &p->pid, err) < 0)
		return -1;
	restore_release_cgroup(p);
	close_fd(&p->console_fd);
	p->pidfd = sys_pidfd_open(p->pid);
	p->st.pid = p->pid;
	if (pid_start_time(p->pid, &p->st.pid_start) < 0)
		return error_msg(err, "the restored init (pid %d) exited", (int)p->pid);
	free(p->st.created);
	p->st.created = rfc3339_now();
	p->st.creating = false;
	if (status_write(p->dirfd, &p->st, err) < 0)
		return -1;
	log_debug("restore `%s`: init pid %d", o->id, (int)p->pid);
	if (o->pid_file && container_write_pid_file(o->pid_file, p->pid, err) < 0)
		return -1;
	return 0;
}

int container_restore(const struct skiff_context *ctx, const struct restore_options *r,
                      int *exit_status, struct skiff_error **err)
{
	struct create_plan p;
	struct foreground fg;
	int ret;

	*exit_status = 0;
	if (criu_options_validate(&r->c, true, err) < 0 || status_validate_id(r->o.id, err) < 0)
		return -1;
	if (checkpoint_image_check(r->c.image_path ? r->c.image_path : "checkpoint", err) < 0)
		return error_wrap(err, "restore `%s`", r->o.id);
	plan_init(&p, ctx, &r->o);
	p.restore = r;
	foreground_block(&fg);
	ret = restore_steps(&p, err);
	if (ret < 0) {
		restore_release_cgroup(&p);
		undo_create(&p);
		error_wrap(err, "restore `%s`", r->o.id);
	}
	close_fd(&p.dirfd); /* the lock: the container is there for other commands now */
	if (ret == 0 && !r->detach) {
		ret = foreground_wait(&fg, p.pid, p.pidfd, -1, exit_status, err);
		if (ret < 0) {
			struct skiff_error *ignored = NULL;
			error_wrap(err, "wait for container `%s`", r->o.id);
			remove_after_run(ctx, r->o.id, &ignored);
			error_free(&ignored);
		} else {
			ret = remove_after_run(ctx, r->o.id, err);
		}
	}
	foreground_restore(&fg);
	plan_free(&p);
	return ret;
}

/* ---- the other steps ---- */

int container_open(const struct skiff_context *ctx, const char *id, struct opened *c,
                   struct skiff_error **err)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->rootfd = c->dirfd = -1;
	if (status_validate_id(id, err) < 0)
		return -1;
	r = status_open_root(ctx->root, false, &c->rootfd, err);
	if (r != 0)
		return r < 0 ? -1 : error_msg(err, "container `%s` does not exist", id);
	if (status_open(c->rootfd, id, &c->dirfd, &c->st, err) < 0) {
		close(c->rootfd);
		return -1;
	}
	c->state = status_derive(&c->st, c->dirfd);
	/*
	 * We hold the lock, so a create that marked the state `creating` was
	 * killed: the container never runs.  Its init, if any, exits as it
	 * reads EOF, or, killed between READY and the last write, waits at the
	 * fifo for a `start` that refuses it, until `delete` kills it.
	 */
	if (c->state == STATE_CREATING)
		c->state = STATE_STOPPED;
	log_debug("container `%s`: %s, init pid %d", id, status_name(c->state), (int)c->st.pid);
	return 0;
}

void container_close(struct opened *c)
{
	close_fd(&c->rootfd);
	close_fd(&c->dirfd);
	status_free(&c->st);
}

struct oci_config *container_saved_config(const struct opened *c, struct skiff_error **err)
{
	cleanup_close int fd = openat(c->dirfd, SAVED_CONFIG, O_RDONLY | O_CLOEXEC);
	cleanup_free char *data = NULL;
	size_t len;
	char *perr = NULL;
	struct oci_config *cfg;

	if (fd < 0) {
		error_errno(err, "container `%s`: read saved config", c->st.id);
		return NULL;
	}
	if (read_fd_all(fd, &data, &len, err) < 0)
		return NULL;
	cfg = oci_config_parse_data(data, len, "config.json", &perr);
	if (cfg == NULL) {
		error_msg(err, "%s", perr);
		free(perr);
	}
	return cfg;
}

/* Opens a pidfd for the container's init, checked against the recorded process. */
static int init_pidfd(const struct container_status *st)
{
	int fd = sys_pidfd_open(st->pid);
	if (fd >= 0 && !status_pidfd_is_init(st, fd)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/*
 * After its "0" the init keeps the fifo's write end open until execve closes
 * it: EOF means the process runs; "1" and a message mean the init failed first
 * (a startContainer hook, say) and start fails with that message, before any
 * poststart hook (runtime-spec lifecycle steps 7 to 9).
 */
static int wait_for_exec(const struct opened *c, int fifo, struct skiff_error **err)
{
	char msg[1024];
	size_t len = 0;

	for (;;) {
		struct pollfd pf = {.fd = fifo, .events = POLLIN};
		ssize_t n;

		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			return error_errno(err, "wait on exec fifo");
		n = read(fifo, msg + len, sizeof(msg) - 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(msg) - 1)
			break;
	}
	msg[len] = '\0';
	if (len > 0 && msg[0] == '1')
		return error_msg(err, "container `%s`: %s", c->st.id,
		                 len > 1 ? msg + 1 : "the process failed before it ran");
	return 0;
}

/*
 * The fifo goes before the init's byte is read: the init is released as
 * soon as a reader opens it, so a `start` killed after that must not
 * leave the container looking created.  (Killed between the open and the
 * unlink, the init either dies of SIGPIPE or runs with the fifo still
 * there: that one syscall's window remains.)
 */
static int release_fifo(struct opened *c, struct skiff_error **err)
{
	cleanup_close int fifo = openat(c->dirfd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cleanup_close int pidfd = init_pidfd(&c->st);
	char b;

	if (fifo < 0)
		return error_errno(err, "open exec fifo");
	if (unlinkat(c->dirfd, EXEC_FIFO, 0) < 0)
		return error_errno(err, "remove exec fifo");
	fault_point("start.released");
	for (;;) {
		struct pollfd pf[2] = {{.fd = fifo, .events = POLLIN},
		                       {.fd = pidfd, .events = POLLIN}};
		int r = poll(pf, pidfd >= 0 ? 2 : 1, 100);
		if (r < 0 && errno != EINTR)
			return error_errno(err, "wait on exec fifo");
		if (r > 0 && (pf[0].revents & POLLIN) && read(fifo, &b, 1) == 1)
			break;
		if ((r > 0 && (pf[1].revents & POLLIN)) || !pid_is_same(c->st.pid, c->st.pid_start))
			return error_msg(err, "the container init exited before start");
	}
	log_debug("start `%s`: init (pid %d) released", c->st.id, (int)c->st.pid);
	fault_point("start.done");
	return wait_for_exec(c, fifo, err);
}

static int signal_init(const struct container_status *st, int sig, struct skiff_error **err);

static int start_opened(struct opened *c, struct skiff_error **err)
{
	struct oci_config *cfg;
	int r = 0;

	if (c->state != STATE_CREATED)
		return error_msg(err, "container `%s` is %s, not created", c->st.id,
		                 status_name(c->state));
	if (!c->st.has_poststart)
		return release_fifo(c, err);
	cfg = container_saved_config(c, err);
	if (cfg == NULL)
		return -1;
	if (release_fifo(c, err) < 0)
		r = -1;
	else if (cfg->hooks && cfg->hooks->poststart.len) {
		cleanup_free char *state = state_json_for(&c->st, STATE_RUNNING);
		if (hooks_run(&cfg->hooks->poststart, "poststart", state, err) < 0) {
			/* Through the pidfd: the init may be gone and its pid reused. */
			signal_init(&c->st, SIGKILL, NULL);
			r = -1;
		}
	}
	oci_config_free(cfg);
	return r;
}

int container_start(const struct skiff_context *ctx, const char *id, struct skiff_error **err)
{
	struct opened c;
	int r;

	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	fault_point("start.locked");
	r = start_opened(&c, err);
	container_close(&c);
	return r;
}

int container_state(const struct skiff_context *ctx, const char *id, char **json,
                    struct skiff_error **err)
{
	struct opened c;

	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	*json = status_spec_json(&c.st, c.state, true, err);
	container_close(&c);
	return *json ? 0 : -1;
}

static int signal_init(const struct container_status *st, int sig, struct skiff_error **err)
{
	cleanup_close int pidfd = init_pidfd(st);

	if (pidfd < 0)
		return errno == ESRCH ? 0 : error_errno(err, "container `%s`: pidfd", st->id);
	if (sys_pidfd_signal(pidfd, sig) < 0 && errno != ESRCH)
		return error_errno(err, "container `%s`: send signal %d", st->id, sig);
	return 0;
}

static int kill_all(const struct container_status *st, int sig, struct skiff_error **err)
{
	struct cgroup_manager cg;
	int has = status_cgroup(st, &cg, err);

	if (has < 0)
		return -1;
	if (has)
		return cgroup_kill_all(&cg, sig, err);
	return signal_init(st, sig, err);
}

int container_kill(const struct skiff_context *ctx, const char *id, int sig, bool all,
                   struct skiff_error **err)
{
	struct opened c;
	int r;

	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	log_debug("kill `%s` (%s): signal %d to %s", id, status_name(c.state), sig,
	          all ? "every process" : "the init");
	/* runc's words: containerd's shim treats an error saying "container not running"
	 * as "already exited" (the init may exit between its check and this kill). */
	if (c.state == STATE_STOPPED && !all)
		r = error_msg(err, "container `%s`: container not running", id);
	else if (all)
		r = kill_all(&c.st, sig, err);
	else
		r = signal_init(&c.st, sig, err);
	container_close(&c);
	return r;
}

/* The cgroup may be gone already: another container sharing it was deleted first. */
static int kill_cgroup(const struct cgroup_manager *cg, struct skiff_error **err)
{
	if (cgroup_kill_all(cg, SIGKILL, err) == 0)
		return 0;
	if (err == NULL || *err == NULL || (*err)->errnum != ENOENT)
		return -1;
	error_free(err);
	return 0;
}

/* Kills whatever is left and waits until the init is gone. */
static int stop_container(struct opened *c, struct skiff_error **err)
{
	cleanup_close int pidfd = init_pidfd(&c->st);
	struct cgroup_manager cg;
	int has = status_cgroup(&c->st, &cg, err);

	if (has < 0 || (has && kill_cgroup(&cg, err) < 0))
		return -1;
	if (pidfd < 0)
		return 0;
	sys_pidfd_signal(pidfd, SIGKILL);
	/* A pidfd polls readable once the process has exited (zombie or reaped). */
	struct pollfd pf = {.fd = pidfd, .events = POLLIN};
	while (poll(&pf, 1, 10000) < 0 && errno == EINTR)
		;
	return 0;
}

/*
 * A stopped container with a pid namespace of its own: the kernel killed all
 * of its processes with its init, so what still runs in its cgroup is another
 * container's (one that shares the cgroup, as runc 1.1 allows).  That stays,
 * and so does the cgroup, as with runc.  *empty: the cgroup was listed and
 * held no process, so there is nothing to kill before removing it.
 */
static bool cgroup_left_to_others(const struct opened *c, const struct cgroup_manager *cg,
                                  bool *empty)
{
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;

	*empty = false;
	if (c->state != STATE_STOPPED || !c->st.has_new_pidns || c->st.creating ||
	    cgroup_pids(cg, &pids, &n, NULL) < 0)
		return false;
	*empty = n == 0;
	if (n == 0)
		return false;
	log_warning("cgroup %s still holds %zu process(es) of another container: left in place",
	            c->st.cgroup_path, n);
	return true;
}

static int delete_opened(struct opened *c, bool force, struct skiff_error **err)
{
	struct oci_config *cfg;
	struct cgroup_manager cg;
	int has = status_cgroup(&c->st, &cg, err);
	bool empty = false;

	if (has < 0)
		return -1;
	if (has && cgroup_left_to_others(c, &cg, &empty))
		has = 0;
	if ((c->state == STATE_RUNNING || c->state == STATE_PAUSED) && !force)
		return error_msg(err, "container `%s` is %s: stop it first or use `delete --force`",
		                 c->st.id, status_name(c->state));
	log_debug("delete `%s` (%s)", c->st.id, status_name(c->state));
	/* A dead create's init may not have seen its EOF yet. */
	if (c->state != STATE_STOPPED || (has && !empty) || c->st.creating) {
		if (c->state == STATE_PAUSED && has)
			cgroup_freeze(&cg, false, NULL);
		if (stop_container(c, err) < 0)
			return -1;
	}
	fault_point("delete.killed");
	if (has && cgroup_destroy(&cg, !empty, err) < 0)
		return -1;
	fault_point("delete.cgroup");
	intelrdt_remove(&c->st);
	cfg = c->st.has_poststop ? container_saved_config(c, NULL) : NULL;
	if (cfg)
		run_poststop(cfg, &c->st);
	oci_config_free(cfg);
	return status_remove(c->rootfd, &c->dirfd, c->st.id, err);
}

/*
 * A state.json that cannot be read (truncated, garbage): the saved config
 * still says where the cgroup is, and what runs in it dies with it.
 */
static int delete_unreadable(const struct skiff_context *ctx, const char *id,
                             struct skiff_error **err)
{
	struct opened c = {.rootfd = -1, .dirfd = -1, .st.id = xstrdup(id)};
	struct oci_config *cfg = NULL;
	struct cgroup_manager m;
	cleanup_free char *path = NULL;
	const char *name = NULL;
	int r;

	error_free(err);
	r = status_open_root(ctx->root, false, &c.rootfd, err);
	if (r == 0)
		r = status_lock(c.rootfd, id, &c.dirfd, err);
	/* Not locked: an error, or gone meanwhile (another delete) and nothing is left. */
	if (r != 1)
		goto out;
	r = -1;
	cfg = container_saved_config(&c, NULL);
	if (cfg && cfg->linux_ &&
	    cgroup_manager_choose(ctx->cgroup_manager, ctx->systemd_cgroup, &name, NULL) == 0 &&
	    name && cgroup_manager_load(name, NULL, &m, NULL) == 0 &&
	    (path = cgroup_manager_resolve(&m, cfg->linux_->cgroups_path, id, NULL)) &&
	    (m.path = path, cgroup_destroy(&m, true, err) < 0))
		goto out;
	r = status_remove(c.rootfd, &c.dirfd, id, err);
out:
	oci_config_free(cfg);
	container_close(&c);
	return r < 0 ? -1 : 0;
}

static int remove_unrecorded(const struct skiff_context *ctx, const char *id,
                             struct skiff_error **err)
{
	struct skiff_error *rm_err = NULL;
	cleanup_close int rootfd = -1;

	if (status_open_root(ctx->root, false, &rootfd, &rm_err) != 0 ||
	    status_remove_unrecorded(rootfd, id, &rm_err) >= 0) {
		error_free(&rm_err);
		return 0;
	}
	error_free(err);
	*err = rm_err;
	return -1;
}

int container_delete(const struct skiff_context *ctx, const char *id, bool force,
                     struct skiff_error **err)
{
	struct opened c;
	int r;

	if (container_open(ctx, id, &c, err) < 0) {
		if (force && *err && strstr((*err)->msg, STATUS_CORRUPT))
			return delete_unreadable(ctx, id, err);
		if (status_validate_id(id, NULL) < 0 || *err == NULL ||
		    !strstr((*err)->msg, "does not exist"))
			return -1;
		/* runc: a create killed before it wrote a state leaves a directory; it goes. */
		if (remove_unrecorded(ctx, id, err) < 0)
			return -1;
		/* runc: deleting a missing container with --force is not an error. */
		if (force)
			error_free(err);
		return force ? 0 : -1;
	}
	fault_point("delete.locked");
	r = delete_opened(&c, force, err);
	container_close(&c);
	return r;
}

/* ---- run ---- */

/* After the init's exit: what it left (cgroup, state) goes, as with `delete --force`. */
static int remove_after_run(const struct skiff_context *ctx, const char *id,
                            struct skiff_error **err)
{
	struct skiff_error *gone = NULL;
	struct opened c;
	int r;

	/* Already deleted meanwhile (`skiff delete`): nothing is left to remove. */
	if (container_open(ctx, id, &c, &gone) < 0) {
		error_free(&gone);
		return 0;
	}
	r = delete_opened(&c, true, err);
	container_close(&c);
	return r;
}

/*
 * `run` in the foreground without poststart hooks: `start` without its wait.
 * The init is released, and what it writes on the fifo ("0", then "1" and a
 * message if it failed before its program ran) is read once it has exited
 * (start_result): the two wakeups `start` spends waiting for those bytes
 * and for the execve are saved; nothing runs between them and the exit wait.
 */
static int release_nowait(const struct skiff_context *ctx, const char *id, int *fifo,
                          struct skiff_error **err)
{
	struct opened c;
	int r = 0;

	if (container_open(ctx, id, &c, err) < 0)
		return -1;
	if (c.state != STATE_CREATED)
		r = error_msg(err, "container `%s` is %s, not created", id, status_name(c.state));
	else if ((*fifo = openat(c.dirfd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		r = error_errno(err, "open exec fifo");
	else if (unlinkat(c.dirfd, EXEC_FIFO, 0) < 0)
		r = error_errno(err, "remove exec fifo");
	else
		log_debug("start `%s`: init (pid %d) released", id, (int)c.st.pid);
	container_close(&c);
	return r;
}

static int start_result(int fifo, const char *id, struct skiff_error **err)
{
	char msg[1024];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(msg) - 1 && (n = read(fifo, msg + len, sizeof(msg) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	msg[len] = '\0';
	if (len == 0 || msg[0] != '0')
		return error_msg(err, "the container init exited before start");
	if (len > 1 && msg[1] == '1')
		return error_msg(err, "container `%s`: %s", id,
		                 len > 2 ? msg + 2 : "the process failed before it ran");
	return 0;
}

int container_run(const struct skiff_context *ctx, const struct create_options *o, bool detach,
                  int *exit_status, struct skiff_error **err)
{
	struct create_plan p;
	struct foreground fg;
	cleanup_close int fifo = -1;
	bool nowait;
	int r;

	*exit_status = 0;
	plan_init(&p, ctx, o);
	p.run_tty = !detach && o->console_socket == NULL;
	foreground_block(&fg);
	r = create_with_plan(&p, err);
	nowait = !detach && !p.st.has_poststart;
	if (r == 0) {
		close_fd(&p.dirfd); /* the lock: start takes it again */
		r = nowait ? release_nowait(ctx, o->id, &fifo, err)
		           : container_start(ctx, o->id, err);
		if (r < 0) {
			struct skiff_error *ignored = NULL;
			container_delete(ctx, o->id, true, &ignored);
			error_free(&ignored);
			p.pid = 0;
		}
	}
	if (r == 0 && !detach) {
		log_debug("run `%s`: waiting for the init (pid %d)", o->id, (int)p.pid);
		r = foreground_wait(&fg, p.pid, p.pidfd, p.pty_master, exit_status, err);
		if (r < 0) {
			struct skiff_error *ignored = NULL;
			error_wrap(err, "wait for container `%s`", o->id);
			remove_after_run(ctx, o->id, &ignored);
			error_free(&ignored);
		} else if (nowait && start_result(fifo, o->id, err) < 0) {
			/* As when `start` fails: the container goes, --keep or not. */
			struct skiff_error *ignored = NULL;
			remove_after_run(ctx, o->id, &ignored);
			error_free(&ignored);
			r = -1;
		} else if (!o->keep) {
			r = remove_after_run(ctx, o->id, err);
		}
	}
	foreground_restore(&fg);
	plan_free(&p);
	return r;
}

/* ---- list ---- */

/* The state directory's owner, as runc's `list` shows it. */
static char *owner_of(int dirfd)
{
	/* One user owns them all, usually: the passwd lookup (a file read) is done once. */
	static uid_t last_uid = (uid_t)-1;
	static char *last_name;
	struct stat sb;
	struct passwd pw, *found = NULL;
	char buf[1024];

	if (fstat(dirfd, &sb) < 0)
		return xstrdup("");
	if (last_name == NULL || sb.st_uid != last_uid) {
		free(last_name);
		if (getpwuid_r(sb.st_uid, &pw, buf, sizeof(buf), &found) == 0 && found)
			last_name = xstrdup(found->pw_name);
		else
			last_name = xasprintf("#%u", (unsigned int)sb.st_uid);
		last_uid = sb.st_uid;
	}
	return xstrdup(last_name);
}

static bool creator_alive_at(int rootfd, const char *id)
{
	cleanup_close int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	return fd >= 0 && status_creator_alive(fd);
}

int container_list(const struct skiff_context *ctx, struct listed_container **out, size_t *n,
                   struct skiff_error **err)
{
	cleanup_close int rootfd = -1;
	cleanup_strv char **ids = NULL;
	size_t count = 0;
	int opened;

	*out = NULL;
	*n = 0;
	opened = status_open_root(ctx->root, false, &rootfd, err);
	if (opened != 0)
		return opened < 0 ? -1 : 0; /* no root, no container */
	if (status_list(rootfd, &ids, err) < 0)
		return -1;
	*out = xcalloc(strv_len(ids) + 1, sizeof(**out));
	for (size_t i = 0; ids[i]; i++) {
		struct listed_container *e = &(*out)[count];
		struct skiff_error *skip = NULL;
		int dirfd = -1, r;

		/* Without the lock: a create running slow hooks must not hold up `list`. */
		r = status_peek(rootfd, ids[i], &dirfd, &e->st, &skip);
		if (r < 0) {
			error_free(&skip);
			continue;
		}
		/* No state and no create at work: a create killed early left it (runc skips it
		 * too). */
		if (r == 1 && !creator_alive_at(rootfd, ids[i]))
			continue;
		count++;
		if (r == 1) {
			memset(&e->st, 0, sizeof(e->st));
			e->st.id = xstrdup(ids[i]);
			e->status = STATE_CREATING;
			e->owner = xstrdup("");
			continue;
		}
		e->status = status_derive(&e->st, dirfd);
		if (e->status == STATE_CREATING && !status_creator_alive(dirfd))
			e->status = STATE_STOPPED; /* as container_open says */
		e->owner = owner_of(dirfd);
		if (e->status == STATE_STOPPED)
			e->st.pid = 0;
		close(dirfd);
	}
	*n = count;
	return 0;
}

int container_list_ids(const struct skiff_context *ctx, char ***ids, struct skiff_error **err)
{
	cleanup_close int rootfd = -1;
	int opened = status_open_root(ctx->root, false, &rootfd, err);
	size_t kept = 0;

	*ids = NULL;
	if (opened != 0) {
		*ids = xcalloc(1, sizeof(char *));
		return opened < 0 ? -1 : 0;
	}
	if (status_list(rootfd, ids, err) < 0)
		return -1;
	for (size_t i = 0; (*ids)[i]; i++) {
		cleanup_free char *state = xasprintf("%s/%s", (*ids)[i], STATE_FILE);

		if (faccessat(rootfd, state, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
		    creator_alive_at(rootfd, (*ids)[i]))
			(*ids)[kept++] = (*ids)[i];
		else
			free((*ids)[i]);
	}
	(*ids)[kept] = NULL;
	return 0;
}

void container_list_free(struct listed_container *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		status_free(&v[i].st);
		free(v[i].owner);
	}
	free(v);
}
