/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_NETDEV_H
#define SKIFF_NETDEV_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

/*
 * linux.netDevices (spec 1.3.0): interfaces of skiff's own network
 * namespace moved into the container's, renamed as asked ("eth%d" lets the
 * kernel pick), with their permanent global addresses, and set up.  Nothing
 * moves them back: when the container's namespace dies the kernel returns
 * physical devices to the initial namespace and destroys virtual ones.
 */

/* Before anything exists: names valid, each interface present, a network namespace of its own. */
int netdev_validate(const struct oci_linux *l, bool own_netns, struct skiff_error **err);
/* Parent, once the init (pid) is in its namespaces and before the runtime hooks. */
int netdev_move(pid_t pid, const struct oci_linux *l, struct skiff_error **err);

#endif
