/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync.h"
#include "utils.h"

#define SYNC_MAX_TEXT 4096

struct sync_hdr {
	uint32_t type;
	int32_t errnum;
};

int sync_send(int sock, enum sync_type type, int errnum, const char *text, int pass_fd)
{
	char buf[sizeof(struct sync_hdr) + SYNC_MAX_TEXT];
	struct sync_hdr h = {.type = type, .errnum = errnum};
	size_t tlen = text ? strnlen(text, SYNC_MAX_TEXT) : 0;

	memcpy(buf, &h, sizeof(h));
	if (tlen)
		memcpy(buf + sizeof(h), text, tlen);
	return send_with_fd(sock, buf, sizeof(h) + tlen, pass_fd);
}

int sync_recv(int sock, enum sync_type *type, int *errnum, char **text, int *fd,
              struct skiff_error **err)
{
	char buf[sizeof(struct sync_hdr) + SYNC_MAX_TEXT + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct sync_hdr h;
	ssize_t n;

	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	if (fd)
		*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_errno(err, "read from container init");
	if (n == 0) {
		*type = 0;
		return 0;
	}
	if ((size_t)n < sizeof(h))
		return error_msg(err, "short message from container init");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (fd)
				*fd = got;
			else
				close(got);
		}
	}
	memcpy(&h, buf, sizeof(h));
	buf[n] = '\0';
	*type = h.type;
	if (errnum)
		*errnum = h.errnum;
	if (text)
		*text = xstrdup(buf + sizeof(h));
	return 0;
}

int sync_expect(int sock, enum sync_type want, int *fd, struct skiff_error **err)
{
	enum sync_type type;
	int errnum = 0;
	cleanup_free char *text = NULL;

	if (sync_recv(sock, &type, &errnum, &text, fd, err) < 0)
		return -1;
	if (type == want)
		return 0;
	if (type == SYNC_ERROR)
		return error_set(err, errnum, "%s", text);
	if (type == 0)
		return error_msg(err, "container init exited before it was ready");
	return error_msg(err, "unexpected message %d from container init (wanted %d)", type, want);
}

void sync_send_error(int sock, const struct skiff_error *err)
{
	sync_send(sock, SYNC_ERROR, err ? err->errnum : 0, err ? err->msg : "unknown error", -1);
}
