/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CONTAINER_H
#define SKIFF_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include "context.h"
#include "error.h"
#include "status.h"

/* The lifecycle, as the runtime-spec lists it; one entry point per subcommand. */

struct create_options {
	const char *id;
	const char *bundle; /* default: the current directory */
	const char *config; /* crun's --config: read this file, not the bundle's config.json */
	const char *pid_file;
	const char *console_socket;
	unsigned int preserve_fds;
	bool no_pivot;
	bool no_new_keyring;
	bool keep; /* run: leave the exited container (state, cgroup) for `delete` */
};

/*
 * An existing container, locked (flock on its state directory) until
 * container_close(); state is derived live when it is opened.
 */
struct opened {
	int rootfd, dirfd;
	struct container_status st;
	enum container_state state;
};

int container_open(const struct skiff_context *ctx, const char *id, struct opened *c,
                   struct skiff_error **err);
void container_close(struct opened *c);
/* The config.json saved in the state directory at create. */
struct oci_config *container_saved_config(const struct opened *c, struct skiff_error **err);
/* Writes pid to `path` atomically (--pid-file of create, run and exec). */
int container_write_pid_file(const char *path, pid_t pid, struct skiff_error **err);

int container_create(const struct skiff_context *ctx, const struct create_options *o,
                     struct skiff_error **err);
int container_start(const struct skiff_context *ctx, const char *id, struct skiff_error **err);
/* The spec's state JSON for `state`; caller frees. */
int container_state(const struct skiff_context *ctx, const char *id, char **json,
                    struct skiff_error **err);
int container_kill(const struct skiff_context *ctx, const char *id, int sig, bool all,
                   struct skiff_error **err);
int container_delete(const struct skiff_context *ctx, const char *id, bool force,
                     struct skiff_error **err);
/*
 * create + start; in the foreground also waits (forwarding signals),
 * deletes the container and sets *exit_status to the process's status
 * (128+N for a signal).
 */
int container_run(const struct skiff_context *ctx, const struct create_options *o, bool detach,
                  int *exit_status, struct skiff_error **err);

struct listed_container {
	struct container_status st; /* only st.id while it is being created */
	enum container_state status;
	char *owner; /* of the state directory */
};
/* Every container under the root with its live status; a missing root is an empty list. */
int container_list(const struct skiff_context *ctx, struct listed_container **out, size_t *n,
                   struct skiff_error **err);
void container_list_free(struct listed_container *v, size_t n);
/* Just the ids `container_list` would show (`list -q`): no state is read. */
int container_list_ids(const struct skiff_context *ctx, char ***ids, struct skiff_error **err);
#endif
