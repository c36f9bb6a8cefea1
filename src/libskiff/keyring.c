/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "keyring.h"
#include "utils.h"

/* <linux/keyctl.h> names; the header is not always installed. */
enum {
	KEYCTL_SETPERM_ = 5,
	KEYCTL_DESCRIBE_ = 6,
	KEYCTL_JOIN_SESSION_KEYRING_ = 1,
};
#define KEY_USR_SEARCH_ 0x00080000u
#define KEY_OTH_SEARCH_ 0x00000008u

/* The keyring's serial, 0 when the kernel has none to give, or -1. */
static long join(const char *id, struct skiff_error **err)
{
	cleanup_free char *name = xasprintf("_ses.%s", id);
	long serial = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING_, name, 0, 0, 0);

	if (serial >= 0)
		return serial;
	if (errno == ENOSYS || errno == EPERM)
		return 0;
	return error_errno(err, "join the session keyring %s", name);
}

int keyring_join_session(const char *id, struct skiff_error **err)
{
	return join(id, err) < 0 ? -1 : 0;
}

/* "type;uid;gid;perm;description": perm is hex. */
static int permissions(long serial, unsigned *perm, struct skiff_error **err)
{
	char buf[512];
	const char *p = buf;
	char *end;
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE_, serial, buf, sizeof(buf), 0);

	if (n < 0)
		return error_errno(err, "describe the session keyring");
	buf[sizeof(buf) - 1] = '\0';
	for (int field = 0; field < 3 && p; field++)
		if ((p = strchr(p, ';')) != NULL)
			p++;
	if (p == NULL)
		return error_msg(err, "session keyring: unexpected description `%s`", buf);
	errno = 0;
	*perm = (unsigned)strtoul(p, &end, 16);
	if (errno || *end != ';')
		return error_msg(err, "session keyring: unexpected description `%s`", buf);
	return 0;
}

int keyring_make_session(const char *id, bool user_ns, struct skiff_error **err)
{
	long serial = join(id, err);
	unsigned perm = 0;

	if (serial <= 0)
		return (int)serial;
	/* Without it `exec` could not join: a keyring with loose permissions is worse. */
	if (permissions(serial, &perm, err) < 0)
		return -1;
	perm |= user_ns ? KEY_OTH_SEARCH_ : KEY_USR_SEARCH_;
	if (syscall(SYS_keyctl, KEYCTL_SETPERM_, serial, perm, 0, 0) < 0)
		return error_errno(err, "make the session keyring searchable");
	return 0;
}
