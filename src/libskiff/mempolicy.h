/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_MEMPOLICY_H
#define SKIFF_MEMPOLICY_H

#include "error.h"
#include "libocispec/runtime_spec.h"

/* linux.memoryPolicy: checked by the parent, applied by the init with set_mempolicy(2). */
int mempolicy_validate(const struct oci_memory_policy *m, struct skiff_error **err);
int mempolicy_apply(const struct oci_memory_policy *m, struct skiff_error **err);
/* Names for the features document (NULL-terminated). */
const char *const *mempolicy_mode_names(void);
const char *const *mempolicy_flag_names(void);

#endif
