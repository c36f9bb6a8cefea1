/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "seccomp_notify.h"
#include "utils.h"

#define SECCOMP_FD_NAME "seccompFd"

int seccomp_notify_connect(const struct oci_seccomp *s, int *fd, struct skiff_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *path = s->listener_path;
	cleanup_close int sock = -1;

	if (strlen(path) >= sizeof(addr.sun_path))
		return error_msg(err, "linux.seccomp.listenerPath: `%s` is too long", path);
	strcpy(addr.sun_path, path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return error_errno(err, "linux.seccomp.listenerPath: socket");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return error_errno(err, "linux.seccomp.listenerPath: connect to `%s`", path);
	*fd = steal_fd(&sock);
	return 0;
}

static void gen_string(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

char *seccomp_notify_message(const char *state, const char *metadata, struct skiff_error **err)
{
	char *perr = NULL;
	struct oci_state *st = oci_state_parse_data(state, strlen(state), "state", &perr);
	yajl_gen g;
	const unsigned char *buf;
	size_t len;
	char *msg = NULL;

	if (st == NULL) {
		error_msg(err, "seccomp listener message: %s", perr ? perr : "bad state");
		free(perr);
		return NULL;
	}
	g = yajl_gen_alloc(NULL);
	if (g == NULL)
		oom();
	/* The state goes in verbatim: the agent sees exactly what hooks see. */
	yajl_gen_map_open(g);
	gen_string(g, "ociVersion");
	gen_string(g, st->oci_version ? st->oci_version : OCI_SPEC_VERSION);
	gen_string(g, "fds");
	yajl_gen_array_open(g);
	gen_string(g, SECCOMP_FD_NAME);
	yajl_gen_array_close(g);
	gen_string(g, "pid");
	yajl_gen_integer(g, st->has_pid ? st->pid : 0);
	if (metadata) {
		gen_string(g, "metadata");
		if (yajl_gen_string(g, (const unsigned char *)metadata, strlen(metadata)) !=
		    yajl_gen_status_ok) {
			error_msg(err, "linux.seccomp.listenerMetadata: not valid UTF-8");
			goto out;
		}
	}
	/* yajl cannot splice raw JSON: close the prefix by hand. */
	yajl_gen_get_buf(g, &buf, &len);
	msg = xasprintf("%.*s,\"state\":%s}", (int)len, (const char *)buf, state);
out:
	yajl_gen_free(g);
	oci_state_free(st);
	return msg;
}

int seccomp_notify_send(int sock, int notify_fd, const char *msg, struct skiff_error **err)
{
	if (send_with_fd(sock, msg, strlen(msg), notify_fd) < 0)
		return error_errno(err, "linux.seccomp.listenerPath: send the listener fd");
	return 0;
}
