/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SECCOMP_SPLIT_H
#define SKIFF_SECCOMP_SPLIT_H

/* A large profile compiled as a chain of small filters (see seccomp_split.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#include "libocispec/runtime_spec.h"

struct seccomp_split {
	char **names; /* the profile's distinct syscall names, sorted (borrowed strings) */
	int *part;    /* the part names[i] goes to */
	size_t n;
	int parts;
};

/*
 * Places the profile's names into parts of about per_part names, names that
 * may reach one syscall number on any of archs (SCMP_ARCH_* tokens) in the
 * same part.  Returns the number of parts.
 */
int seccomp_split_plan(const struct oci_seccomp *s, const uint32_t *archs, size_t narchs,
                       size_t per_part, struct seccomp_split *sp);
/* The part a name of the profile goes to. */
int seccomp_split_part_of(const struct seccomp_split *sp, const char *name);
void seccomp_split_free(struct seccomp_split *sp);

/*
 * Appends one part's program to *prog: its `ret sentinel` falls through to
 * the next part, or returns final_action in the last one.  -1 (nothing
 * appended) when the part does not start by loading the architecture or
 * uses scratch memory: then it cannot be chained.
 */
int seccomp_split_join(struct sock_filter **prog, size_t *len, const struct sock_filter *part,
                       size_t part_len, uint32_t sentinel, bool last, uint32_t final_action);

#endif
