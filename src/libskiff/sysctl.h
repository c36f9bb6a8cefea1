/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SYSCTL_H
#define SKIFF_SYSCTL_H

#include "error.h"
#include "libocispec/runtime_spec.h"

/*
 * linux.sysctl: only keys that belong to a namespace the container owns
 * are written; anything else would change the host, so it is refused.
 */
int sysctl_validate(const struct oci_config *c, struct skiff_error **err);
/* Init, after pivot_root and before /proc/sys is made read-only. */
int sysctl_apply(const struct oci_config *c, struct skiff_error **err);

#endif
