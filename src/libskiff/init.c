/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container's init: the child create clones.  It walks its side of the
 * protocol in sync.h in the order the runtime-spec gives (namespaces,
 * mounts, createContainer hooks, pivot_root, process attributes, READY),
 * then waits on the exec fifo for `start` and execs the process.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "create_plan.h"
#include "devices.h"
#include "home.h"
#include "hooks.h"
#include "keyring.h"
#include "label.h"
#include "launch.h"
#include "log.h"
#include "signals.h"
#include "mempolicy.h"
#include "mounts.h"
#include "process.h"
#include "procfs.h"
#include "rootfs.h"
#include "sync.h"
#include "sysctl.h"
#include "terminal.h"
#include "utils.h"

static int send_console(struct create_plan *p, int master, struct skiff_error **err)
{
	if (p->console_fd >= 0) {
		if (terminal_send_master(p->console_fd, master, err) < 0)
			return -1;
		close(p->console_fd);
		p->console_fd = -1;
		return 0;
	}
	if (sync_send(p->sync[1], SYNC_PTY, 0, NULL, master) < 0)
		return error_errno(err, "send the pty to skiff");
	return 0;
}

/*
 * Blocks until `start` opens the fifo for reading, then says "0".  Returns the
 * fifo's write end, left open: execve closes it (close-on-exec), which tells
 * `start` the process runs; fail_start() reports a failure before that.
 */
static int wait_for_start(int fd_dir, int fifo_fd, struct skiff_error **err)
{
	int fd = procfs_reopen(fd_dir, fifo_fd, O_WRONLY);

	if (fd < 0)
		return error_errno(err, "open exec fifo");
	if (write_all(fd, "0", 1) < 0) {
		close(fd);
		return error_errno(err, "write exec fifo");
	}
	close(fifo_fd);
	return fd;
}

/* Hands the error to `start`, which fails with it: "1" then the message. */
static void fail_start(int fifo, struct skiff_error **err)
{
	cleanup_free char *text = error_text(*err);
	cleanup_free char *msg = xasprintf("1%s", text);

	if (write_all(fifo, msg, strlen(msg)) == 0)
		error_free(err);
}

/* Hooks in the container's namespaces read the pid as the container sees it (runtime-spec). */
static int run_container_hooks(const struct create_plan *p, const struct oci_hook_list *list,
                               const char *which, enum container_state s, struct skiff_error **err)
{
	struct container_status st = p->st;
	cleanup_free char *state = NULL;

	if (list->len == 0)
		return 0;
	st.pid = getpid();
	state = status_spec_json(&st, s, false, err);
	if (state == NULL)
		return -1;
	return hooks_run(list, which, state, err);
}

/*
 * GO, after the binds skiff idmapped on our user namespace (SYNC_MOUNT_FD,
 * see sync.h); it carries the state when there is no runtime step.
 */
static int wait_for_go(struct create_plan *p, char **state_text, struct skiff_error **err)
{
	for (;;) {
		enum sync_type type;
		int index = 0, fd = -1;

		free(*state_text);
		*state_text = NULL;
		if (sync_recv(p->sync[1], &type, &index, state_text, &fd, err) < 0)
			return -1;
		/* Privileged, the init is non-dumpable from its first instruction already. */
		if (type == SYNC_GO)
			return p->unprivileged && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0
			           ? error_errno(err, "prctl PR_SET_DUMPABLE 0")
			           : 0;
		if (type != SYNC_MOUNT_FD || fd < 0 || index < 0 ||
		    (size_t)index >= p->config->mounts_len || p->bind_fds == NULL) {
			if (fd >= 0)
				close(fd);
			return error_msg(err, "unexpected message %d from skiff (wanted GO)", type);
		}
		if (p->bind_fds[index] >= 0)
			close(p->bind_fds[index]);
		p->bind_fds[index] = fd;
	}
}

static int init_setup(struct create_plan *p, char **state_text, struct skiff_error **err)
{
	const struct oci_config *c = p->config;
	const struct oci_process *proc = c->process;
	bool new_userns = p->ns.present[NS_USER] && p->ns.join_fd[NS_USER] < 0;
	int master = -1, *deferred_ro = NULL;

	signals_reset_for_exec();
	if (wait_for_go(p, state_text, err) < 0)
		return -1;
	if (new_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return error_errno(err, "become root in the new user namespace");
	/* Before the deferred cgroup namespace, which is rooted where we are. */
	if (p->cgroup_self.n > 0 && cgroup_enter_self(&p->cgroup_self, err) < 0)
		return -1;
	if (ns_plan_enter(&p->ns, err) < 0)
		return -1;
	log_debug("init: namespaces entered");
	if (p->ns.present[NS_UTS]) {
		if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
			return error_errno(err, "hostname: set `%s`", c->hostname);
		if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
			return error_errno(err, "domainname: set `%s`", c->domainname);
	}
	if (!p->o->no_new_keyring &&
	    keyring_make_session(p->o->id, p->ns.present[NS_USER], err) < 0)
		return -1;
	label_mount_context(p->config);
	if (rootfs_prepare(c, p->rootfs, p->bundle, p->bind_fds,
	                   (ns_plan_shares_host(&p->ns, NS_NET) ? 0 : ROOTFS_NEW_NETNS) |
	                       (ns_plan_shares_host(&p->ns, NS_CGROUP) ? 0 : ROOTFS_NEW_CGROUPNS) |
	                       (p->ns.present[NS_MOUNT] ? 0 : ROOTFS_SHARED_MNTNS),
	                   &deferred_ro, err) < 0)
		return -1;
	if (devices_setup(c, p->rootfs, p->ns.present[NS_USER], p->dev_fds, err) < 0)
		return -1;
	if (rootfs_seal_readonly(&deferred_ro, err) < 0)
		return -1;
	log_debug("init: mounts and devices set up in %s", p->rootfs);
	if (create_plan_has_runtime_step(c)) {
		enum sync_type type;
		int errnum;

		if (sync_send(p->sync[1], SYNC_RUNTIME_HOOKS, 0, NULL, -1) < 0)
			return error_errno(err, "sync with skiff");
		free(*state_text);
		*state_text = NULL;
		if (sync_recv(p->sync[1], &type, &errnum, state_text, NULL, err) < 0)
			return -1;
		if (type != SYNC_HOOKS_DONE)
			return error_msg(err, "createRuntime hooks failed");
	}
	if (c->hooks && run_container_hooks(p, &c->hooks->create_container, "createContainer",
	                                    STATE_CREATED, err) < 0)
		return -1;
	if (rootfs_pivot(p->rootfs, p->o->no_pivot,
	                 p->ns.present[NS_MOUNT] ? 0 : ROOTFS_SHARED_MNTNS, err) < 0)
		return -1;
	home_set_default(p->config->process);
	if (sysctl_apply(c, err) < 0)
		return -1;
	if (rootfs_finalize(c, err) < 0 || devices_reopen_null(c, err) < 0)
		return -1;
	log_debug("init: root is %s (%s), sysctls applied", p->rootfs,
	          p->o->no_pivot ? "chroot" : "pivot_root");
	if (proc->terminal) {
		if (terminal_setup(proc, &master, err) < 0)
			return -1;
		if (send_console(p, master, err) < 0) {
			close(master);
			return -1;
		}
		close(master);
	} else if (setsid() < 0 && errno != EPERM) {
		/*
		 * A session of its own, as runc's init: the caller's session
		 * leader is outside the container, which CRIU cannot dump.
		 */
		return error_errno(err, "setsid");
	}
	if (process_apply_rlimits(proc, err) < 0 || process_apply_attributes(proc, err) < 0)
		return -1;
	if (mempolicy_apply(c->linux_->memory_policy, err) < 0)
		return -1;
	if (c->linux_->personality && process_apply_personality(c->linux_->personality, err) < 0)
		return -1;
	/* Privileged, and before the filter, which might refuse the write. */
	if (label_apply_exec(proc, err) < 0)
		return -1;
	/* The fifo is reopened after privileges are gone, on a procfs chosen now (procfs.h). */
	p->fd_dir = procfs_open("self/fd", O_PATH | O_DIRECTORY, true);
	if (p->fd_dir < 0)
		return error_errno(err, "open /proc/self/fd (for the exec fifo)");
	/* Without no_new_privs only CAP_SYS_ADMIN may load a filter: keep it until then. */
	if (p->seccomp && !proc->no_new_privileges
	        ? process_apply_identity_holding_admin(proc, &p->held_caps, err) < 0
	        : process_apply_identity(proc, err) < 0)
		return -1;
	if (process_apply_final(proc, err) < 0)
		return -1;
	if (process_launch_resolve(proc, &p->launch, err) < 0)
		return -1;
	/* Nothing of skiff's may reach the container (CVE-2024-21626). */
	if (process_cloexec_fds(3 + (int)(p->listen_fds + p->o->preserve_fds), NULL, 0) < 0)
		return error_errno(err, "close inherited fds");
	return 0;
}

void container_init(struct create_plan *p)
{
	struct skiff_error *err = NULL;
	cleanup_free char *state_text = NULL;
	const struct oci_config *c = p->config;
	int started;

	/*
	 * The init is a clone of skiff: until execve its /proc/PID/exe is the skiff binary on
	 * the host, and its fds are skiff's.  Non-dumpable, no container process (it has no
	 * CAP_SYS_PTRACE) can open /proc/1/exe to overwrite the runtime (CVE-2019-5736), nor
	 * ptrace the init or reach its fds through /proc (CVE-2016-9962).  execve of the
	 * container's program makes the process dumpable again.  Rootless, the
	 * caller may only write our id maps while we are dumpable: wait_for_go
	 * makes us non-dumpable once they are written, before any container code.
	 */
	if (!p->unprivileged)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close(p->sync[0]);
	/* The state directory's fd carries create's flock: holding it would block `start`. */
	close(p->dirfd);
	close(p->rootfd);
	if (p->cgroup_fd >= 0)
		close(p->cgroup_fd);
	if (init_setup(p, &state_text, &err) < 0) {
		sync_send_error(p->sync[1], err);
		_exit(1);
	}
	log_debug("init: ready");
	log_debug_stop(); /* create returns now: the caller's stderr is not ours to hold */
	if (sync_send(p->sync[1], SYNC_READY, 0, NULL, -1) < 0)
		_exit(1);
	close(p->sync[1]);
	/* From here on skiff create has returned: errors go to the process's stderr. */
	started = wait_for_start(p->fd_dir, p->fifo_fd, &err);
	close(p->fd_dir);
	if (started < 0)
		goto fail;
	if (c->hooks && run_container_hooks(p, &c->hooks->start_container, "startContainer",
	                                    STATE_CREATED, &err) < 0) {
		fail_start(started, &err);
		goto fail;
	}
	/* Past the filter a write may be refused or sent to an agent: start sees EOF only. */
	{
		const struct launch_seccomp s = {
		    .filter = p->seccomp,
		    .held = &p->held_caps,
		    .listener_fd = p->listener_fd,
		    .state_text = state_text,
		    .metadata = p->seccomp ? c->linux_->seccomp->listener_metadata : NULL,
		};
		launch_program(&p->launch, -1, &s, &err);
	}
fail:
	if (err) /* not when start took it */
		log_error(err);
	_exit(127);
}
