/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include "lifecycle_options.h"

int lifecycle_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct lifecycle_args *a = data;

	switch (id) {
	case LO_BUNDLE:
		a->o.bundle = value;
		return 0;
	case LO_CONFIG:
		a->o.config = value;
		return 0;
	case LO_PID_FILE:
		a->o.pid_file = value;
		return 0;
	case LO_CONSOLE_SOCKET:
		a->o.console_socket = value;
		return 0;
	case LO_PRESERVE_FDS:
		return cli_preserve_fds(value, &a->o.preserve_fds, err);
	case LO_NO_PIVOT:
		return cli_bool(value, &a->o.no_pivot, "no-pivot", err);
	case LO_NO_NEW_KEYRING:
		return cli_bool(value, &a->o.no_new_keyring, "no-new-keyring", err);
	case LO_DETACH:
		return cli_bool(value, &a->detach, "detach", err);
	case LO_KEEP:
		return cli_bool(value, &a->o.keep, "keep", err);
	case LO_NO_SUBREAPER:
		return 0; /* accepted for runc compatibility; skiff's run reaps its own child */
	}
	return 0;
}
