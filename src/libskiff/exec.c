/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `exec`: another process in a running container.  Like the init, it is
 * cloned straight from skiff (no re-exec) and walks a short protocol over a
 * SOCK_SEQPACKET socketpair (sync.h's messages):
 *
 *   skiff exec (on the host)              the new process
 *   locks the container, checks it runs;
 *   pidfd of the init (checked against the
 *   recorded start time), /proc/<init>/root,
 *   the cgroup's fd
 *   PR_SET_DUMPABLE 0
 *   setns(init, CLONE_NEWPID)
 *   clone3(CLONE_INTO_CGROUP) ──────────▶ born in the container's pid ns + cgroup
 *   setns back (pid ns for children)      setns(init pidfd, every other ns at once)
 *                                         chroot to the init's root
 *                       ◀──────────────── PTY (--tty without --console-socket)
 *                                         rlimits, attributes, seccomp, user,
 *                                         caps, umask, cwd, fds
 *                       ◀──────────────── READY
 *                                         execve of the trampoline (the socket
 *                                         is close-on-exec; see process.h)
 *   EOF: exec'd, or ◀─────────────────── ERROR
 *                                         execve of the program
 *   status pipe: EOF, or ◀────────────── its errno
 *
 * The pid namespace is joined by the parent: setns(CLONE_NEWPID) only
 * decides where the caller's future children go, so the process has to be
 * cloned by someone who already did it.  Doing it in skiff (and undoing it
 * right after the clone) keeps the process skiff's direct child, which it
 * waits for, with no intermediate process.
 *
 * Rootless (or as root of a user namespace) skiff may not join the pid
 * namespace, or not come back: the child joins the container's user
 * namespace, then the pid namespace, clones the process with CLONE_PARENT
 * and hands skiff its pid and pidfd (SYNC_PROCESS) before the process
 * speaks; skiff reaps the child and goes on as above.
 *
 * A paused container (--ignore-paused) would freeze a process born in its
 * cgroup before it could report anything: there the process is moved into
 * the cgroup after READY and then told GO; it runs once the container is
 * resumed.  A cgroup that cannot be cloned into (v1 hierarchies) the
 * process enters itself, first thing, through `tasks` files skiff opened
 * (cgroup.h's cgroup_self: no global lock, no RCU grace period), born in
 * the cgroup2 part of a hybrid host; where those cannot be opened it is
 * moved like a paused container's, before GO, so the program never runs
 * outside it.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "exec.h"
#include "fault.h"
#include "foreground.h"
#include "home.h"
#include "intelrdt.h"
#include "keyring.h"
#include "log.h"
#include "signals.h"
#include "label.h"
#include "launch.h"
#include "process.h"
#include "rootless.h"
#include "seccomp.h"
#include "seccomp_notify.h"
#include "status.h"
#include "sync.h"
#include "terminal.h"
#include "utils.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct exec_plan {
	const struct skiff_context *ctx;
	const struct exec_options *o;
	struct opened c;
	bool opened;
	struct oci_config *cfg;
	struct oci_process *proc; /* owned */
	struct seccomp_program *seccomp;
	int init_pidfd;               /* the container's init */
	int root_fd;                  /* /proc/<init>/root */
	struct cgroup_manager cgroup; /* valid when has_cgroup */
	bool has_cgroup;
	int cgroup_fd; /* where the process is born (or moved, when paused), or -1 */
	struct cgroup_self cgroup_self; /* v1 hierarchies the process moves itself into first */
	int own_pidns_fd;               /* skiff's pid namespace, restored after the clone */
	int join_flags;                 /* CLONE_NEW* the process joins itself */
	bool join_pidns;                /* the parent joins the pid namespace for it */
	bool pidns_by_child;            /* rootless: the child joins it, then clones the process */
	bool paused;
	bool enter_late; /* paused, or no cgroup fd to be born in: moved, then GO */
	int console_fd;
	int listener_fd;  /* linux.seccomp.listenerPath, for SCMP_ACT_NOTIFY */
	char *state_text; /* what the seccomp agent is told */
	int sync[2];
	int status[2]; /* how the program's own execve went (process_exec's status_fd) */
	pid_t pid;     /* the exec'd process */
	int pidfd;
	int pty_master;
	struct process_launch launch;  /* the program, resolved before READY */
	struct process_caps held_caps; /* kept back for the seccomp load (no no_new_privs) */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **out = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void strv_append(char ***v, const char *s)
{
	size_t n = strv_len(*v);

	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

static void replace_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* ---- the process: --process FILE or the config's, then the flags ---- */

static int load_process_file(const char *path, struct oci_process **out, struct skiff_error **err)
{
	cleanup_free char *data = NULL;
	char *perr = NULL;
	size_t len;

	if (read_file(path, &data, &len, err) < 0)
		return error_wrap(err, "--process");
	*out = oci_process_parse_data(data, len, "process", &perr);
	if (*out == NULL) {
		error_msg(err, "--process `%s`: %s", path, perr ? perr : "cannot parse");
		free(perr);
		return -1;
	}
	return 0;
}

static int base_process(struct exec_plan *p, struct skiff_error **err)
{
	const struct exec_options *o = p->o;

	if (o->process_file) {
		if (load_process_file(o->process_file, &p->proc, err) < 0)
			return -1;
		/* As runc: the config's execCPUAffinity unless the process brings its own. */
		if (p->proc->exec_cpu_affinity == NULL && p->cfg->process)
			p->proc->exec_cpu_affinity = steal_ptr(&p->cfg->process->exec_cpu_affinity);
		return 0;
	}
	if (p->cfg->process == NULL)
		return error_msg(err, "the saved config.json has no process: use --process");
	p->proc = steal_ptr(&p->cfg->process);
	strv_free(p->proc->args);
	p->proc->args = strv_dup(o->args);
	/* runc: the config's terminal setting is the init's, not exec's. */
	p->proc->terminal = false;
	return 0;
}

static int parse_id(const char *s, const char *flag, uint32_t *out, struct skiff_error **err)
{
	long long v;

	if (parse_int64(s, &v) < 0 || v < 0 || v >= UINT32_MAX)
		return error_msg(err, "%s: `%s` is not a numeric id", flag, s);
	*out = (uint32_t)v;
	return 0;
}

static int set_user(struct oci_user *u, const char *spec, struct skiff_error **err)
{
	cleanup_free char *copy = xstrdup(spec);
	char *colon = strchr(copy, ':');

	if (colon) {
		*colon = '\0';
		if (parse_id(colon + 1, "--user", &u->gid, err) < 0)
			return -1;
	}
	return parse_id(copy, "--user", &u->uid, err);
}

static int set_additional_gids(struct oci_user *u, char *const *gids, struct skiff_error **err)
{
	size_t n = strv_len(gids);
	uint32_t *v = xcalloc(n + 1, sizeof(uint32_t));

	for (size_t i = 0; i < n; i++) {
		if (parse_id(gids[i], "--additional-gids", &v[i], err) < 0) {
			free(v);
			return -1;
		}
	}
	free(u->additional_gids);
	u->additional_gids = v;
	u->additional_gids_len = n;
	return 0;
}

/* KEY=VALUE replaces an entry with the same key: getenv(3) would see the first one. */
static int set_env(struct oci_process *proc, const char *kv, struct skiff_error **err)
{
	const char *eq = strchr(kv, '=');
	size_t klen;

	if (eq == NULL || eq == kv)
		return error_msg(err, "--env: `%s` is not KEY=VALUE", kv);
	klen = (size_t)(eq - kv) + 1;
	for (size_t i = 0; proc->env && proc->env[i]; i++) {
		if (strncmp(proc->env[i], kv, klen) == 0) {
			replace_str(&proc->env[i], kv);
			return 0;
		}
	}
	strv_append(&proc->env, kv);
	return 0;
}

static void add_cap(char ***set, const char *cap)
{
	for (size_t i = 0; *set && (*set)[i]; i++)
		if (strcmp((*set)[i], cap) == 0)
			return;
	strv_append(set, cap);
}

static void add_caps(struct oci_process *proc, char *const *caps)
{
	if (caps == NULL || caps[0] == NULL)
		return;
	if (proc->capabilities == NULL)
		proc->capabilities = xcalloc(1, sizeof(*proc->capabilities));
	for (size_t i = 0; caps[i]; i++) {
		add_cap(&proc->capabilities->bounding, caps[i]);
		add_cap(&proc->capabilities->effective, caps[i]);
		add_cap(&proc->capabilities->permitted, caps[i]);
	}
}

static int apply_flags(struct exec_plan *p, struct skiff_error **err)
{
	const struct exec_options *o = p->o;
	struct oci_process *proc = p->proc;

	if (o->tty >= 0)
		proc->terminal = o->tty != 0;
	if (o->cwd)
		replace_str(&proc->cwd, o->cwd);
	for (size_t i = 0; o->env && o->env[i]; i++)
		if (set_env(proc, o->env[i], err) < 0)
			return -1;
	if (o->user && set_user(&proc->user, o->user, err) < 0)
		return -1;
	if (o->additional_gids && set_additional_gids(&proc->user, o->additional_gids, err) < 0)
		return -1;
	add_caps(proc, o->caps);
	if (o->no_new_privs)
		proc->no_new_privileges = true;
	if (o->apparmor)
		replace_str(&proc->apparmor_profile, o->apparmor);
	if (o->process_label)
		replace_str(&proc->selinux_label, o->process_label);
	return 0;
}

static int check_terminal(const struct exec_plan *p, struct skiff_error **err)
{
	const struct exec_options *o = p->o;

	if (p->proc->terminal && o->detach && o->console_socket == NULL)
		return error_msg(
		    err, "--tty with --detach needs --console-socket (nobody would hold the "
		         "terminal)");
	if (!p->proc->terminal && o->console_socket)
		return error_msg(err,
		                 "--console-socket needs a terminal (--tty, or process.terminal)");
	return 0;
}

static int build_process(struct exec_plan *p, struct skiff_error **err)
{
	if (base_process(p, err) < 0 || apply_flags(p, err) < 0)
		return -1;
	if (process_validate(p->proc, err) < 0)
		return -1;
	{
		struct oci_config labels = {.process = p->proc};
		if (label_validate(&labels, err) < 0)
			return -1;
	}
	return check_terminal(p, err);
}

static int prepare_seccomp(struct exec_plan *p, struct skiff_error **err)
{
	const struct oci_seccomp *s = p->cfg->linux_ ? p->cfg->linux_->seccomp : NULL;
	cleanup_free char *cache = NULL;

	if (s == NULL)
		return 0;
	cache = xasprintf("%s/.seccomp-cache", p->ctx->root);
	if (seccomp_compile_cached(s, cache, &p->seccomp, err) < 0)
		return error_wrap(err, "saved config.json");
	if (!p->seccomp->needs_notify)
		return 0;
	p->state_text = status_spec_json(&p->c.st, STATE_RUNNING, false, err);
	if (p->state_text == NULL)
		return -1;
	return seccomp_notify_connect(s, &p->listener_fd, err);
}

/* ---- the container's init, its namespaces and cgroup ---- */

static const struct {
	const char *name;
	int flag;
} ns_files[] = {
    {"user", CLONE_NEWUSER},     {"mnt", CLONE_NEWNS},    {"pid", CLONE_NEWPID},
    {"net", CLONE_NEWNET},       {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

/*
 * Every namespace in which the init differs from skiff.  Only those:
 * setns refuses to re-enter one's own user namespace (it would grant
 * capabilities), and a kernel without some kind has no file for it.
 */
static int namespaces_to_join(pid_t pid, int *flags, struct skiff_error **err)
{
	*flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ns_files); i++) {
		char path[64], own[64];
		struct stat a, b;

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, ns_files[i].name);
		snprintf(own, sizeof(own), "/proc/self/ns/%s", ns_files[i].name);
		if (stat(path, &a) < 0) {
			if (errno == ENOENT && stat(own, &b) < 0)
				continue;
			return error_errno(err, "stat %s", path);
		}
		if (stat(own, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			*flags |= ns_files[i].flag;
	}
	return 0;
}

static int open_init(struct exec_plan *p, struct skiff_error **err)
{
	const struct container_status *st = &p->c.st;
	char path[64];
	int flags;

	p->init_pidfd = sys_pidfd_open(st->pid);
	if (p->init_pidfd < 0 || !pid_is_same(st->pid, st->pid_start))
		return error_msg(err, "the container's init (pid %d) has exited", st->pid);
	snprintf(path, sizeof(path), "/proc/%d/root", st->pid);
	p->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->root_fd < 0)
		return error_errno(err, "open %s", path);
	if (namespaces_to_join(st->pid, &flags, err) < 0)
		return -1;
	/* What was read under /proc/PID is the init's only if PID still is the init. */
	if (!pid_is_same(st->pid, st->pid_start))
		return error_msg(err, "the container's init (pid %d) has exited", st->pid);
	p->join_pidns = (flags & CLONE_NEWPID) != 0;
	p->join_flags = flags & ~CLONE_NEWPID;
	/*
	 * setns(CLONE_NEWPID) needs CAP_SYS_ADMIN where skiff runs, and going
	 * back needs it over skiff's own pid namespace: rootless, or as root of
	 * a user namespace (rootless podman runs the runtime in one), the child
	 * joins it instead.
	 */
	if (p->join_pidns && (rootless_has_cap(CAP_SYS_ADMIN) ? rootless_in_userns()
	                                                      : (flags & CLONE_NEWUSER) != 0)) {
		p->join_pidns = false;
		p->pidns_by_child = true;
	}
	if (p->join_pidns) {
		p->own_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (p->own_pidns_fd < 0)
			return error_errno(err, "open /proc/self/ns/pid");
	}
	return 0;
}

static int open_cgroup(struct exec_plan *p, struct skiff_error **err)
{
	int has = status_cgroup(&p->c.st, &p->cgroup, err);

	if (has <= 0)
		return has;
	p->has_cgroup = true;
	if (cgroup_exec_target(&p->cgroup, p->c.st.pid, p->o->cgroups, &p->cgroup_fd, err) < 0)
		return -1;
	/* A paused container's process is moved after READY: moved, it freezes. */
	if (!p->paused && p->cgroup_fd < 0 &&
	    cgroup_exec_self(&p->cgroup, p->o->cgroups, &p->cgroup_fd, &p->cgroup_self, err) < 0)
		return -1;
	p->enter_late = p->paused || (p->cgroup_fd < 0 && p->cgroup_self.n == 0);
	return 0;
}

/* ---- the new process (the cloned child) ---- */

/* setns(CLONE_NEWNS) puts us at the namespace's root, not the init's (chroot, --no-pivot). */
static int enter_root(struct exec_plan *p, struct skiff_error **err)
{
	if (fchdir(p->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return error_errno(err, "enter the container's root");
	close_fd(&p->root_fd);
	return 0;
}

static int setup_tty(struct exec_plan *p, struct skiff_error **err)
{
	int master, r = 0;

	/* After the mount namespace: the pty comes from the container's devpts. */
	if (terminal_setup_exec(p->proc, &master, err) < 0)
		return -1;
	if (p->console_fd >= 0) {
		r = terminal_send_master(p->console_fd, master, err);
		close_fd(&p->console_fd);
	} else if (sync_send(p->sync[1], SYNC_PTY, 0, NULL, master) < 0) {
		r = error_errno(err, "send the pty to skiff");
	}
	close(master);
	return r;
}

/*
 * Rootless: skiff may not join the container's pid namespace, but the child,
 * now in the container's user namespace, may.  It does, clones the process
 * as skiff's own child (CLONE_PARENT), hands skiff its pid and pidfd, and
 * exits; the process goes on with the setup.
 */
static int clone_into_pidns(struct exec_plan *p, struct skiff_error **err)
{
	int pidfd = -1, sent[2];
	char c;
	struct clone_args args = {
	    .flags = CLONE_PARENT | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	};
	long pid;

	if (setns(p->init_pidfd, CLONE_NEWPID) < 0)
		return error_errno(err, "join the pid namespace of the container's init");
	if (pipe2(sent, O_CLOEXEC) < 0)
		return error_errno(err, "pipe");
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return error_errno(err, "clone the process in the container's pid namespace");
	if (pid == 0) {
		/* skiff must learn our pid before any message of ours: wait for the hand-over. */
		close(sent[1]);
		while (read(sent[0], &c, 1) < 0 && errno == EINTR)
			;
		close(sent[0]);
		return 0;
	}
	_exit(sync_send(p->sync[1], SYNC_PROCESS, (int)pid, NULL, pidfd) < 0 ? 127 : 0);
}

static int child_setup(struct exec_plan *p, struct skiff_error **err)
{
	const struct oci_process *proc = p->proc;
	const struct oci_linux *l = p->cfg->linux_;

	signals_reset_for_exec();
	/* The state directory's fd shares skiff's flock; none of skiff's fds stays open. */
	close_fd(&p->sync[0]);
	close_fd(&p->status[0]);
	close_fd(&p->c.dirfd);
	close_fd(&p->c.rootfd);
	close_fd(&p->cgroup_fd);
	close_fd(&p->own_pidns_fd);
	/* Before anything of the container's is joined: nothing runs outside its limits. */
	if (p->cgroup_self.n > 0 && cgroup_enter_self(&p->cgroup_self, err) < 0)
		return -1;
	/* One call, user namespace first: the kernel commits all or nothing. */
	if (p->join_flags && setns(p->init_pidfd, p->join_flags) < 0)
		return error_errno(err, "join the namespaces of the container's init");
	/* In its user namespace, where the init's keyring is named (runc's rule). */
	if (!p->c.st.no_keyring && keyring_join_session(p->c.st.id, err) < 0)
		return -1;
	if (p->pidns_by_child && clone_into_pidns(p, err) < 0)
		return -1;
	close_fd(&p->init_pidfd);
	if (enter_root(p, err) < 0)
		return -1;
	home_set_default(p->proc);
	if (proc->terminal && setup_tty(p, err) < 0)
		return -1;
	if (process_apply_rlimits(proc, err) < 0 || process_apply_attributes(proc, err) < 0)
		return -1;
	if (l && l->personality && process_apply_personality(l->personality, err) < 0)
		return -1;
	if (proc->exec_cpu_affinity &&
	    process_set_cpu_affinity(0, proc->exec_cpu_affinity->final,
	                             "process.execCPUAffinity.final", err) < 0)
		return -1;
	/* Privileged, and before the filter, which might refuse the write. */
	if (label_apply_exec(proc, err) < 0)
		return -1;
	/* Without no_new_privs only CAP_SYS_ADMIN may load a filter: keep it until then. */
	if (p->seccomp && !proc->no_new_privileges
	        ? process_apply_identity_holding_admin(proc, &p->held_caps, err) < 0
	        : process_apply_identity(proc, err) < 0)
		return -1;
	if (process_apply_final(proc, err) < 0)
		return -1;
	if (process_launch_resolve(proc, &p->launch, err) < 0)
		return -1;
	/* Nothing of skiff's may reach the container (CVE-2024-21626, CVE-2016-9962). */
	if (process_cloexec_fds(3 + (int)p->o->preserve_fds, NULL, 0) < 0)
		return error_errno(err, "close inherited fds");
	return 0;
}

__attribute__((noreturn)) static void exec_child(struct exec_plan *p)
{
	struct skiff_error *err = NULL;
	int sock = p->sync[1];

	if (child_setup(p, &err) < 0)
		goto fail;
	if (sync_send(sock, SYNC_READY, 0, NULL, -1) < 0)
		_exit(127);
	if (p->enter_late && sync_expect(sock, SYNC_GO, NULL, &err) < 0)
		goto fail;
	{
		const struct launch_seccomp s = {
		    .filter = p->seccomp,
		    .held = &p->held_caps,
		    .listener_fd = p->listener_fd,
		    .state_text = p->state_text,
		    .metadata = p->seccomp ? p->cfg->linux_->seccomp->listener_metadata : NULL,
		};
		launch_program(&p->launch, p->status[1], &s, &err);
	}
fail:
	sync_send_error(sock, err);
	if (p->paused)
		log_error(err); /* skiff no longer listens */
	_exit(127);
}

/* ---- skiff's side ---- */

/* The trampoline's mark on a status that is its filter load's errno (trampoline.c). */
#define TRAMPOLINE_STAGE_SECCOMP 0x10000

/* Rootless: the child that cloned the process is reaped; the process is skiff's child. */
static int adopt_process(struct exec_plan *p, struct skiff_error **err)
{
	cleanup_free char *text = NULL;
	enum sync_type type = 0;
	int pid = 0, fd = -1, r;

	close_fd(&p->sync[1]); /* its EOF, should the child die without a word */
	r = sync_recv(p->sync[0], &type, &pid, &text, &fd, err);
	wait_pid(p->pid, NULL);
	close_fd(&p->pidfd);
	p->pid = 0;
	if (r < 0)
		return -1;
	if (type == SYNC_PROCESS && pid > 0 && fd >= 0) {
		p->pid = pid;
		p->pidfd = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	if (type == SYNC_ERROR)
		return error_set(err, pid, "%s", text);
	return error_msg(err, "the process exited before it was cloned (message %d)", type);
}

/*
 * CVE-2019-5736: until its execve, the new process is skiff's image, and
 * it is visible in the container's pid namespace from birth.  Non-dumpable
 * (inherited through clone, and kept across the uid change), neither it
 * nor skiff can be ptraced by the container, and their /proc/PID/exe (the
 * host's skiff binary) cannot be opened; execve then replaces the image
 * and /proc/PID/exe becomes the container's binary.
 */
static int clone_process(struct exec_plan *p, struct skiff_error **err)
{
	struct clone_args args = {
	    .flags = CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&p->pidfd,
	    .exit_signal = SIGCHLD,
	};
	long pid;

	if (p->cgroup_fd >= 0 && !p->paused) {
		/* Born in the container's cgroup: it never runs outside its limits. */
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)p->cgroup_fd;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error_errno(err, "prctl PR_SET_DUMPABLE 0");
	/* The exec trampoline, inherited: /proc/PID/exe never becomes skiff's after execve. */
	process_exec_prepare();
	if (p->join_pidns && setns(p->init_pidfd, CLONE_NEWPID) < 0)
		return error_errno(err, "join the pid namespace of the container's init");
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		exec_child(p);
	if (p->join_pidns && setns(p->own_pidns_fd, CLONE_NEWPID) < 0)
		log_warning("restore skiff's pid namespace: %s", strerror(errno));
	if (pid < 0)
		return error_errno(err, "clone the process%s",
		                   args.flags & CLONE_INTO_CGROUP ? " into the container's cgroup"
		                                                  : "");
	p->pid = (pid_t)pid;
	return p->pidns_by_child ? adopt_process(p, err) : 0;
}

/* want 0 is EOF: the process exec'd (or died without a word). */
static int expect(int sock, enum sync_type want, int *fd, struct skiff_error **err)
{
	cleanup_free char *text = NULL;
	enum sync_type type;
	int errnum = 0;

	if (sync_recv(sock, &type, &errnum, &text, fd, err) < 0)
		return -1;
	if (type == want)
		return 0;
	if (fd)
		close_fd(fd);
	if (type == SYNC_ERROR)
		return error_set(err, errnum, "%s", text);
	if (type == 0)
		return error_msg(err, "the process exited before it was started");
	return error_msg(err, "unexpected message %d from the process (wanted %d)", type, want);
}

/*
 * The trampoline executes the program after the socket closed: EOF on the
 * status pipe means it runs, an errno that its execve failed (a script's
 * interpreter missing, a bad binary format).
 */
static int expect_program(struct exec_plan *p, struct skiff_error **err)
{
	int errnum;
	ssize_t n;

	do
		n = read(p->status[0], &errnum, sizeof(errnum));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n < 0)
		return error_errno(err, "read the process's exec status");
	if (n != sizeof(errnum))
		return error_msg(err, "short exec status from the process");
	if (errnum & TRAMPOLINE_STAGE_SECCOMP) {
		errno = errnum & ~TRAMPOLINE_STAGE_SECCOMP;
		return error_errno(err, "load seccomp filter");
	}
	errno = errnum;
	return error_errno(err, "exec \"%s\"", p->proc->args[0]);
}

static int talk_to_process(struct exec_plan *p, struct skiff_error **err)
{
	int sock = p->sync[0];

	if (p->proc->terminal && p->o->console_socket == NULL) {
		if (expect(sock, SYNC_PTY, &p->pty_master, err) < 0)
			return -1;
		terminal_copy_window_size(p->pty_master);
	}
	if (expect(sock, SYNC_READY, NULL, err) < 0)
		return -1;
	fault_point("exec.ready");
	if (p->enter_late) {
		if (p->has_cgroup &&
		    cgroup_enter(&p->cgroup, p->cgroup_fd, p->o->cgroups, p->pid, err) < 0)
			return -1;
		if (sync_send(sock, SYNC_GO, 0, NULL, -1) < 0)
			return error_errno(err, "sync with the process");
		if (p->paused)
			return 0;
	}
	if (expect(sock, 0, NULL, err) < 0)
		return -1;
	return expect_program(p, err);
}

static int exec_steps(struct exec_plan *p, struct skiff_error **err)
{
	p->cfg = container_saved_config(&p->c, err);
	if (p->cfg == NULL)
		return -1;
	if (build_process(p, err) < 0 || prepare_seccomp(p, err) < 0)
		return -1;
	process_keep_original_groups(&p->cfg->annotations);
	if (open_init(p, err) < 0 || open_cgroup(p, err) < 0)
		return -1;
	if (p->proc->exec_cpu_affinity &&
	    process_set_cpu_affinity(0, p->proc->exec_cpu_affinity->initial,
	                             "process.execCPUAffinity.initial", err) < 0)
		return -1;
	if (p->o->console_socket && terminal_connect(p->o->console_socket, &p->console_fd, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p->sync) < 0)
		return error_errno(err, "socketpair");
	/* Paused, the process runs its execve only once resumed: nobody waits for that. */
	if (!p->paused && pipe2(p->status, O_CLOEXEC) < 0)
		return error_errno(err, "pipe");
	/* The process inherits skiff's resctrl group: no window outside the container's. */
	if (intelrdt_join_self(&p->c.st, err) < 0)
		return -1;
	if (clone_process(p, err) < 0)
		return -1;
	log_debug("exec in `%s`: process cloned, pid %d", p->o->id, (int)p->pid);
	/*
	 * Killed from here on, a process born in the container's cgroup runs
	 * its program all the same (as after a killed `runc exec`), where
	 * `delete` finds it; one waiting for GO (entered late) reads EOF and exits.
	 */
	fault_point("exec.cloned");
	close_fd(&p->sync[1]);
	close_fd(&p->status[1]);
	close_fd(&p->console_fd);
	close_fd(&p->listener_fd);
	cgroup_self_free(&p->cgroup_self);
	return talk_to_process(p, err);
}

static int check_state(struct exec_plan *p, struct skiff_error **err)
{
	const char *id = p->o->id;

	switch (p->c.state) {
	case STATE_RUNNING:
	/* runc allows it: the init waits on the exec fifo inside its namespaces already. */
	case STATE_CREATED:
		return 0;
	case STATE_PAUSED:
		if (!p->o->ignore_paused)
			return error_msg(
			    err, "container `%s` is paused: resume it or use --ignore-paused", id);
		p->paused = true;
		return 0;
	default:
		return error_msg(err, "container `%s` is %s, not running", id,
		                 status_name(p->c.state));
	}
}

static void kill_process(struct exec_plan *p)
{
	if (p->pid <= 0)
		return;
	if (p->pidfd >= 0)
		sys_pidfd_signal(p->pidfd, SIGKILL);
	else
		kill(p->pid, SIGKILL);
	wait_pid(p->pid, NULL);
	p->pid = 0;
}

static void plan_init(struct exec_plan *p, const struct skiff_context *ctx,
                      const struct exec_options *o)
{
	memset(p, 0, sizeof(*p));
	p->ctx = ctx;
	p->o = o;
	p->c.rootfd = p->c.dirfd = -1;
	p->init_pidfd = p->root_fd = p->cgroup_fd = p->own_pidns_fd = -1;
	p->console_fd = p->listener_fd = p->pidfd = p->pty_master = -1;
	p->sync[0] = p->sync[1] = -1;
	p->status[0] = p->status[1] = -1;
}

static void plan_free(struct exec_plan *p)
{
	close_fd(&p->init_pidfd);
	close_fd(&p->root_fd);
	close_fd(&p->cgroup_fd);
	cgroup_self_free(&p->cgroup_self);
	close_fd(&p->own_pidns_fd);
	close_fd(&p->console_fd);
	close_fd(&p->listener_fd);
	close_fd(&p->sync[0]);
	close_fd(&p->sync[1]);
	close_fd(&p->status[0]);
	close_fd(&p->status[1]);
	close_fd(&p->pidfd);
	close_fd(&p->pty_master);
	if (p->opened)
		container_close(&p->c);
	if (p->seccomp)
		seccomp_program_free(p->seccomp);
	free(p->state_text);
	oci_process_free(p->proc);
	oci_config_free(p->cfg);
}

/* Opens, checks and starts; on failure nothing is left running. */
static int start_process(struct exec_plan *p, struct skiff_error **err)
{
	const struct exec_options *o = p->o;

	if (o->process_file == NULL && (o->args == NULL || o->args[0] == NULL))
		return error_msg(err, "exec: no COMMAND given (and no --process)");
	if (o->process_file && o->args && o->args[0])
		return error_msg(err,
		                 "exec: give either --process or a COMMAND (the command belongs "
		                 "in the process's args)");
	if (container_open(p->ctx, o->id, &p->c, err) < 0)
		return -1;
	p->opened = true;
	fault_point("exec.locked");
	if (check_state(p, err) < 0)
		return -1;
	log_debug("exec in `%s` (%s): init pid %d", o->id, status_name(p->c.state),
	          (int)p->c.st.pid);
	if (exec_steps(p, err) < 0) {
		kill_process(p);
		return error_wrap(err, "exec in `%s`", o->id);
	}
	/* The lock: `kill`, `pause` or `delete` may act on the container meanwhile. */
	container_close(&p->c);
	p->opened = false;
	if (o->pid_file && container_write_pid_file(o->pid_file, p->pid, err) < 0) {
		kill_process(p);
		return error_wrap(err, "exec in `%s`", o->id);
	}
	return 0;
}

int container_exec(const struct skiff_context *ctx, const struct exec_options *o, int *exit_status,
                   struct skiff_error **err)
{
	struct exec_plan p;
	struct foreground fg;
	int r;

	*exit_status = 0;
	plan_init(&p, ctx, o);
	foreground_block(&fg);
	r = start_process(&p, err);
	if (r == 0)
		fault_point("exec.started");
	if (r == 0 && !o->detach &&
	    foreground_wait(&fg, p.pid, p.pidfd, p.pty_master, exit_status, err) < 0) {
		r = error_wrap(err, "exec in `%s`", o->id);
		kill_process(&p);
	}
	/* Detached, the process is left to the caller's subreaper when skiff exits. */
	foreground_restore(&fg);
	plan_free(&p);
	return r;
}
