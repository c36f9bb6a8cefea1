/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_NAMESPACES_H
#define SKIFF_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

enum ns_kind { NS_USER, NS_MOUNT, NS_PID, NS_NET, NS_IPC, NS_UTS, NS_CGROUP, NS_TIME, NS_COUNT };

/*
 * The namespace plan, made by the parent before the init exists: which
 * namespaces are new (clone flags) and which are joined (fds opened and
 * checked up front, so a wrong path fails before anything is created).
 */
struct ns_plan {
	int clone_flags;       /* new namespaces the init is cloned into */
	int unshare_flags;     /* new ones the init makes after joining the user ns */
	int join_fd[NS_COUNT]; /* -1 when not joined */
	bool present[NS_COUNT];
	bool host[NS_COUNT];             /* joined by a path that is skiff's own namespace */
	int saved_pid_fd, saved_time_fd; /* the parent's own, to restore after clone */
};

int ns_plan_make(const struct oci_config *c, struct ns_plan *plan, struct skiff_error **err);
/* Makes a new namespace of kind flag in the init (after GO) rather than at its clone. */
void ns_plan_defer(struct ns_plan *plan, int flag);
void ns_plan_release(struct ns_plan *plan);
/* Parent, right before clone: pid/time namespaces act on children only. */
int ns_plan_before_clone(struct ns_plan *plan, const struct oci_linux *l, struct skiff_error **err);
/* Parent, right after clone: back to its own pid/time namespace for children. */
void ns_plan_after_clone(struct ns_plan *plan);
/* Init: join the namespaces given by path (user first) and make the rest. */
int ns_plan_enter(const struct ns_plan *plan, struct skiff_error **err);
/*
 * Parent: uid_map/gid_map of the init's new user namespace.  Unprivileged (no CAP_SETGID): a map
 * beyond the caller's own id goes through newuidmap/newgidmap; the caller's own gid alone gets
 * setgroups denied first, as the kernel asks.
 */
int ns_write_id_maps(pid_t pid, const struct oci_linux *l, bool unprivileged,
                     struct skiff_error **err);
/* True when the container does not get a namespace of its own of kind k. */
bool ns_plan_shares_host(const struct ns_plan *plan, enum ns_kind k);
const char *ns_name(enum ns_kind k);
int ns_flag(enum ns_kind k);

#endif
