/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_STATUS_H
#define SKIFF_STATUS_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "libocispec/runtime_spec.h"

/*
 * The state store: <root>/<id>/ holds state.json (written atomically) and,
 * until `start`, the exec fifo.  The container directory itself is the
 * lock: every command on an id holds flock(LOCK_EX) on it, so two
 * commands on one container serialize.
 */
struct container_status {
	char *id;
	char *bundle;
	char *rootfs;
	pid_t pid;
	/* /proc/PID/stat starttime: a reused pid has another one. */
	unsigned long long pid_start;
	/* The init's pidfs inode (Linux 6.9+, unique for the boot), or 0: see status_init_alive. */
	unsigned long long pid_ino;
	char *created;        /* RFC 3339 */
	char *cgroup_path;    /* relative to each hierarchy's root; NULL without cgroups */
	char *cgroup_manager; /* the driver that made it (cgroup.h); NULL: fs2 */
	char *cgroup_mount;
	bool has_new_pidns;
	/* Made with --no-new-keyring: `exec` keeps its caller's session keyring too. */
	bool no_keyring;
	/* Whether start/delete must read the saved config for hooks at all. */
	bool has_poststart, has_poststop;
	/*
	 * Set while `create` runs: it records the container before each side
	 * effect (cgroup, init) so that a create killed halfway leaves a state
	 * `delete` can clean.  Seen by a command holding the lock, it means the
	 * create died.
	 */
	bool creating;
	struct oci_map annotations;
	/* linux.intelRdt: the resctrl groups the container's processes join (intelrdt.h). */
	char *rdt_group, *rdt_mon;
	bool rdt_group_owned; /* removed by delete */
};

#define EXEC_FIFO "exec.fifo"
/* In the error of a state.json that cannot be parsed: `delete --force` looks for it. */
#define STATUS_CORRUPT "state file is corrupt"
#define STATE_FILE     "state.json"
/* The config as create read it: later steps need its hooks, seccomp and resources. */
#define SAVED_CONFIG "config.json"

/* Refuses ids that are empty, too long, or could escape the root. */
int status_validate_id(const char *id, struct skiff_error **err);
/*
 * Opens (creating it 0700 when `create`) the state root.  Without
 * `create`, a missing root returns 1 and sets no error: it holds no container.
 */
int status_open_root(const char *root, bool create, int *rootfd, struct skiff_error **err);
/* Makes and locks <root>/<id>; fails if the id is taken or a `delete` removed it meanwhile. */
int status_create(int rootfd, const char *id, int *dirfd, struct skiff_error **err);
/* Opens and locks <root>/<id> and reads its state. */
int status_open(int rootfd, const char *id, int *dirfd, struct container_status *st,
                struct skiff_error **err);
/*
 * Reads the state without taking the lock (for `list`, which must not wait
 * on a create running its hooks).  Returns 1 when the container is still
 * being created (no state yet), 0 with *st filled, <0 on error.
 */
int status_peek(int rootfd, const char *id, int *dirfd, struct container_status *st,
                struct skiff_error **err);
int status_write(int dirfd, const struct container_status *st, struct skiff_error **err);
/* Fills *st from the text of a state.json; a file that is no JSON object is corrupt. */
int status_parse(const char *id, const char *data, struct container_status *st,
                 struct skiff_error **err);
/* Removes <root>/<id> (locked as *dirfd, which it takes) and everything in it, state.json first. */
int status_remove(int rootfd, int *dirfd, const char *id, struct skiff_error **err);
/* Opens and locks <root>/<id> without reading it: 1, or 0 when it is gone. */
int status_lock(int rootfd, const char *id, int *dirfd, struct skiff_error **err);
/*
 * Removes <root>/<id> when it has no state.json once locked: what a create
 * killed before it recorded anything leaves.  Returns 1 when it removed
 * it, 0 when there was nothing such to remove.
 */
int status_remove_unrecorded(int rootfd, const char *id, struct skiff_error **err);
/* Whether the create that set `creating` still runs (holds the lock of dirfd). */
bool status_creator_alive(int dirfd);
/* Sorted ids under the root (NULL-terminated). */
int status_list(int rootfd, char ***ids, struct skiff_error **err);
void status_free(struct container_status *st);

enum container_state {
	STATE_CREATING,
	STATE_CREATED,
	STATE_RUNNING,
	STATE_PAUSED,
	STATE_STOPPED,
};
/* The container's cgroup: 1 and *m set, 0 when it has none, -1 with *err. */
int status_cgroup(const struct container_status *st, struct cgroup_manager *m,
                  struct skiff_error **err);
/*
 * The live state: from the process (pid + pidfs inode or start time), the fifo and the
 * freezer; STATE_CREATING while the state has `creating` set.
 */
enum container_state status_derive(const struct container_status *st, int dirfd);
const char *status_name(enum container_state s);
/*
 * The spec's state JSON: pretty is what `state` prints (pid 0 once stopped, as
 * runc's), compact what hooks and agents read on stdin (no pid once stopped:
 * the spec makes it optional, and a hook that signals "$pid" must not signal
 * 0, its own process group).
 */
char *status_spec_json(const struct container_status *st, enum container_state s, bool pretty,
                       struct skiff_error **err);

/* Reads starttime from /proc/PID/stat; fails if the pid is gone or a zombie. */
int pid_start_time(pid_t pid, unsigned long long *out);
/* True when pid is alive and still the process recorded with `start`. */
bool pid_is_same(pid_t pid, unsigned long long start);
/*
 * The pidfs inode of a pidfd of pid (no other process of this boot has it),
 * or 0 where pidfds have no such inode (before Linux 6.9).
 */
unsigned long long pidfd_inode(int pidfd, pid_t pid);
/* Whether pidfd's process has exited (a zombie, or reaped). */
bool pidfd_exited(int pidfd);
/*
 * Whether pidfd (of st->pid) is the recorded init, alive (not exited, not a
 * zombie): by its pidfs inode when the state has one, else by start time.
 */
bool status_pidfd_is_init(const struct container_status *st, int pidfd);
/* Whether the recorded init is alive; the pidfs way costs no /proc read. */
bool status_init_alive(const struct container_status *st);

#endif
