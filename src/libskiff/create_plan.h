/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CREATE_PLAN_H
#define SKIFF_CREATE_PLAN_H

/*
 * What `create` decides before the init exists and what both sides of the
 * create protocol (sync.h) use: container.c is the parent's side, init.c
 * the cloned child's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "container.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp.h"
#include "status.h"

/* Everything create decides and holds; released by create_plan_free. */
struct create_plan {
	const struct skiff_context *ctx;
	const struct create_options *o;
	const struct restore_options *restore; /* `restore`: CRIU brings the init back */
	struct oci_config *config;
	const char *config_name; /* errors name it: config.json or --config's FILE */
	char *config_data;
	size_t config_len;
	char *bundle;
	char *rootfs;
	struct ns_plan ns;
	struct seccomp_program *seccomp;
	struct container_status st;
	int rootfd, dirfd, fifo_fd, console_fd;
	int fd_dir;                     /* the init's /proc/self/fd, to reopen fifo_fd (procfs.h) */
	int cgroup_fd;                  /* the cgroup2 directory the init is cloned into, or -1 */
	struct cgroup_self cgroup_self; /* the v1 hierarchies the init moves itself into */
	struct cgroup_manager cgroup;   /* valid when has_cgroup */
	bool has_cgroup;
	bool unprivileged; /* no CAP_SYS_ADMIN where skiff runs: rootless (rootless.h) */
	int listener_fd;   /* linux.seccomp.listenerPath, connected by the parent */
	int *bind_fds;     /* with a user namespace: bind sources opened by the parent, or NULL */
	int *dev_fds;      /* with a new user namespace: linux.devices nodes made by the parent */
	int sync[2];
	char **cgroup_made;      /* what create made (cgroup.h's cgroup_created.made) */
	bool run_tty;            /* `run` proxies the terminal itself */
	unsigned int listen_fds; /* socket activation: fds 3.. passed before --preserve-fds */
	pid_t pid;
	int pidfd;
	int pty_master;
	pid_t holder;  /* restore: the child that keeps a systemd scope alive until CRIU is done */
	int holder_fd; /* its pipe: closed, it exits */
	struct process_launch launch;  /* the init's program, resolved before `create` returns */
	struct process_caps held_caps; /* kept back for the seccomp load (no no_new_privs) */
};

/*
 * Whether the parent has work between the init's mounts and its pivot_root
 * (prestart and createRuntime hooks, linux.netDevices to move): without
 * any, GO carries the state and the RUNTIME_HOOKS/HOOKS_DONE round trip is
 * left out (sync.h).
 */
static inline bool create_plan_has_runtime_step(const struct oci_config *c)
{
	return (c->hooks && (c->hooks->prestart.len || c->hooks->create_runtime.len)) ||
	       c->linux_->net_devices_len > 0;
}

/* The cloned child: sets the container up, reports READY, waits for start, execs. */
__attribute__((noreturn)) void container_init(struct create_plan *p);

#endif
