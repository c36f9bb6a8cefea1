/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SECCOMP_ENOSYS_H
#define SKIFF_SECCOMP_ENOSYS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "libocispec/runtime_spec.h"
#include "seccomp.h"

/*
 * Prepends to p (libseccomp's program for profile) the test that returns
 * ENOSYS for a syscall newer than every syscall the profile names, per
 * architecture in archs (SCMP_ARCH_* tokens: the native one and the
 * profile's).  Nothing when default_action is permissive (see the .c file).
 */
int seccomp_enosys_prefix(const struct oci_seccomp *profile, uint32_t default_action,
                          const uint32_t *archs, size_t narchs, struct seccomp_program *p,
                          struct skiff_error **err);

#endif
