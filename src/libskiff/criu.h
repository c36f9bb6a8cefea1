/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CRIU_H
#define SKIFF_CRIU_H

/*
 * CRIU through libcriu: every request goes to a `criu swrk` child over
 * CRIU's RPC socket, and success or failure comes back in its reply; CRIU's
 * text output is never read for a result.  Its log (dump.log, restore.log
 * in the work directory) is quoted, first error line only, to explain a
 * failure in one line.  Built without libcriu (--disable-criu), every
 * entry point refuses in one line.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* runc's checkpoint and restore options (restore uses a subset). */
struct criu_options {
	const char *image_path;          /* default: ./checkpoint, as runc */
	const char *work_path;           /* logs and work files; default: image_path */
	const char *parent_path;         /* pre-dump images, relative to image_path */
	const char *page_server;         /* ADDRESS:PORT */
	const char *manage_cgroups_mode; /* soft|full|strict|ignore */
	const char *empty_ns;            /* "network" */
	const char *lsm_profile;         /* TYPE:NAME, restore */
	const char *lsm_mount_context;   /* restore */
	int status_fd;                   /* --status-fd, with status_fd_set */
	bool status_fd_set;
	bool leave_running, tcp_established, tcp_skip_in_flight, link_remap, ext_unix_sk, shell_job,
	    file_locks, pre_dump, auto_dedup, lazy_pages;
};

/* Option checks that need nothing on the host; errors name the option. */
int criu_options_validate(const struct criu_options *o, bool restore, struct skiff_error **err);

/* A built request; one at a time per process (libcriu's notify callback has no argument). */
struct criu_req;

/*
 * Starts a request: finds criu, checks it is at least 3.0 (the version
 * RPC), and applies o.  images_fd and work_fd are directories the request
 * borrows; log is the log file's name in the work directory.
 */
int criu_req_new(const struct criu_options *o, int images_fd, int work_fd, const char *log,
                 struct criu_req **out, struct skiff_error **err);
void criu_req_free(struct criu_req *r);
/* CRIU's version as major*10000+minor*100+sublevel. */
int criu_req_version(const struct criu_req *r);

void criu_req_ext_mount(struct criu_req *r, const char *key, const char *val);
void criu_req_external(struct criu_req *r, const char *key);
void criu_req_inherit_fd(struct criu_req *r, int fd, const char *key);
void criu_req_cgroup_root(struct criu_req *r, const char *path);
void criu_req_join_ns(struct criu_req *r, const char *ns, const char *file);

/* Dumps (or pre-dumps) the tree of pid, whose root directory is root. */
int criu_req_dump(struct criu_req *r, pid_t pid, const char *root, const char *freezer,
                  struct skiff_error **err);

/*
 * What restore asks of the caller while CRIU works: hooks once the
 * namespaces exist (pid is the restored init's), the pty master of a
 * terminal container.  Each returns 0, or -1 with *err to abort.
 */
struct criu_restore_calls {
	void *data;
	int (*namespaces_ready)(void *data, pid_t pid, struct skiff_error **err);
	int (*pty_master)(void *data, int fd, struct skiff_error **err);
};

/*
 * Restores the images into root (a mount point); the restored init is
 * our child (CRIU's rst_sibling).  *pid gets its pid.
 */
int criu_req_restore(struct criu_req *r, const char *root, const struct criu_restore_calls *calls,
                     pid_t *pid, struct skiff_error **err);

/*
 * After a failure: one line saying why, from CRIU's own kernel check
 * (a kernel CRIU cannot work on is named as such) or the log's first
 * error line.
 */
char *criu_req_explain(struct criu_req *r);

/* criu's version through libcriu (its RPC), or -1 when criu does not answer. */
int criu_service_version(void);

/*
 * criu's first error line in text, without its source location
 * (hostcheck_state.c): quoted for the user, never used to decide anything.
 */
char *criu_first_error(const char *text);
/* Why a criu of this version cannot work on this kernel, when skiff knows; else NULL. */
const char *criu_kernel_refusal(int version);

#endif
