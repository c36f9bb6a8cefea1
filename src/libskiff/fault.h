/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_FAULT_H
#define SKIFF_FAULT_H

/*
 * Crash points for tests: with SKIFF_DEBUG_CRASH_AT=STEP in the
 * environment, skiff sends itself SIGKILL when it reaches fault_point(STEP);
 * with SKIFF_DEBUG_CRASH_AT=caller:STEP it kills its parent (the caller, a
 * shim) there instead and carries on.  The tests use them to show that a
 * crash at any step leaves a state that `state` reports truthfully and
 * `delete --force` removes.  The variable is read once; without it a point
 * costs one comparison.
 */
void fault_point(const char *step);

#endif
