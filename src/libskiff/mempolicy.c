/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mempolicy.h"
#include "utils.h"

/* The kernel's numbering (include/uapi/linux/mempolicy.h). */
static const char *const modes[] = {
    "MPOL_DEFAULT",        "MPOL_PREFERRED",           "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL",
    "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE", NULL};
static const struct {
	const char *name;
	unsigned int bit;
} flags[] = {
    {"MPOL_F_NUMA_BALANCING", 1u << 13},
    {"MPOL_F_RELATIVE_NODES", 1u << 14},
    {"MPOL_F_STATIC_NODES", 1u << 15},
};

#define MAX_NODES 1024
#define WORD_BITS (8 * sizeof(unsigned long))

const char *const *mempolicy_mode_names(void)
{
	return modes;
}

const char *const *mempolicy_flag_names(void)
{
	static const char *names[ARRAY_SIZE(flags) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		names[i] = flags[i].name;
	return names;
}

static int mode_of(const char *name)
{
	for (int i = 0; modes[i]; i++)
		if (strcmp(modes[i], name) == 0)
			return i;
	return -1;
}

/* "0-3,7" into a node mask; -1 on a malformed list or a node past MAX_NODES. */
static int parse_nodes(const char *list, unsigned long *mask)
{
	const char *p = list;

	memset(mask, 0, MAX_NODES / 8);
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		if (end == p)
			return -1;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo)
				return -1;
		}
		if (hi >= MAX_NODES)
			return -1;
		for (unsigned long n = lo; n <= hi; n++)
			mask[n / WORD_BITS] |= 1UL << (n % WORD_BITS);
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return -1;
		p = end;
	}
	return 0;
}

static int decode(const struct oci_memory_policy *m, int *mode, unsigned long *mask,
                  struct skiff_error **err)
{
	if (m->mode == NULL || (*mode = mode_of(m->mode)) < 0)
		return error_msg(err, "linux.memoryPolicy.mode: unknown mode `%s`",
		                 m->mode ? m->mode : "");
	for (char **f = m->flags; f && *f; f++) {
		size_t i = 0;
		while (i < ARRAY_SIZE(flags) && strcmp(flags[i].name, *f) != 0)
			i++;
		if (i == ARRAY_SIZE(flags))
			return error_msg(err, "linux.memoryPolicy.flags: unknown flag `%s`", *f);
		*mode |= (int)flags[i].bit;
	}
	if (parse_nodes(m->nodes ? m->nodes : "", mask) < 0)
		return error_msg(err, "linux.memoryPolicy.nodes: `%s` is not a node list",
		                 m->nodes);
	return 0;
}

int mempolicy_validate(const struct oci_memory_policy *m, struct skiff_error **err)
{
	unsigned long mask[MAX_NODES / WORD_BITS];
	int mode;

	return m == NULL ? 0 : decode(m, &mode, mask, err);
}

int mempolicy_apply(const struct oci_memory_policy *m, struct skiff_error **err)
{
	unsigned long mask[MAX_NODES / WORD_BITS];
	bool any = false;
	int mode;

	if (m == NULL)
		return 0;
	if (decode(m, &mode, mask, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(mask); i++)
		any = any || mask[i];
	if (syscall(SYS_set_mempolicy, mode, any ? mask : NULL, any ? MAX_NODES + 1 : 0) < 0)
		return error_errno(err, "linux.memoryPolicy: set_mempolicy %s nodes `%s`", m->mode,
		                   m->nodes ? m->nodes : "");
	return 0;
}
