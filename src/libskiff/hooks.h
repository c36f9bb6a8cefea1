/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_HOOKS_H
#define SKIFF_HOOKS_H

#include "error.h"
#include "libocispec/runtime_spec.h"

/*
 * Runs each hook of a list in order: path, args and env as given, the
 * container's state JSON on stdin, killed after `timeout` seconds.  The
 * first failing hook stops the list; `which` names it in the error.
 */
int hooks_run(const struct oci_hook_list *list, const char *which, const char *state_json,
              struct skiff_error **err);

/*
 * Runs every hook of a list (poststop): a failing one is logged as a warning
 * and the rest still run (runtime-spec, lifecycle step 13).
 */
void hooks_run_warn(const struct oci_hook_list *list, const char *which, const char *state_json);

#endif
