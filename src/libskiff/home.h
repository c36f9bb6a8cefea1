/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_HOME_H
#define SKIFF_HOME_H

#include "libocispec/runtime_spec.h"

/*
 * HOME for a process whose env has none, as runc sets it: the home of the
 * first entry of the container's /etc/passwd with the process's uid, "/"
 * when there is none.  Call it inside the container's root (after
 * pivot_root, or exec's chroot), before the uid changes.  NSS is never
 * used: its modules would be loaded from the container's image.
 */
void home_set_default(struct oci_process *p);

#endif
