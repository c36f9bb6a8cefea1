/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_KEYRING_H
#define SKIFF_KEYRING_H

#include <stdbool.h>
#include "error.h"

/*
 * The container's session keyring, `_ses.<id>` as runc names it: no key of
 * the caller's session is reachable from the container.  The init makes it
 * (searchable, below); a process `exec` starts joins it.  A kernel without
 * keyrings, or one that refuses the call (EPERM), leaves the caller's, as
 * runc does.
 */
int keyring_join_session(const char *id, struct skiff_error **err);

/*
 * The init's join: it also lets the keyring be found by name, which `exec`
 * needs: search for its owner, or for anyone with a user namespace (whose
 * processes `exec` joins may not map the owner), as runc sets it.
 */
int keyring_make_session(const char *id, bool user_ns, struct skiff_error **err);

#endif
