/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compiling a large profile in parts.
 *
 * libseccomp's BPF generator takes time quadratic in the size of the filter
 * it writes: podman's profile for x86_64, x86 and x32 (about 1,100
 * instructions) takes it 14 ms, where the x86_64 third alone takes 1.7 ms.
 * That is the first container of every new profile on a node (the cache in
 * seccomp_cache.c serves the others).  So a large profile is compiled as a
 * few small filters, each holding the rules of some of its syscall names,
 * and these are chained: a part's default action is a sentinel that no rule
 * uses, rewritten into a jump to the next part; the last part's is the
 * profile's default action.
 *
 * That gives the same decision for every (architecture, syscall number,
 * arguments) as the single filter, provided no number is decided by rules in
 * two parts: libseccomp decides each number on its own rules alone.  So names
 * that may reach one number on any of the filter's architectures go to the
 * same part: a name's number per architecture, and the one libseccomp
 * rewrites it to (socket to socketcall on x86, shmget to ipc), are the keys,
 * and names sharing a key are grouped (union-find).  A name libseccomp does
 * not know has no key and is a group of its own.
 *
 * Every part starts by loading the architecture (libseccomp's programs do),
 * so what a previous part left in the accumulator does not matter; a part
 * that does not start so, or uses scratch memory, makes the caller compile
 * the profile whole (seccomp_split_join fails).
 */
#include <config.h>

#ifdef HAVE_SECCOMP

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "seccomp_split.h"
#include "utils.h"

struct key {
	uint64_t key; /* architecture index << 32 | syscall number */
	size_t name;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static size_t find(size_t *up, size_t i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

/* The profile's distinct names, sorted. */
static void collect_names(const struct oci_seccomp *s, struct seccomp_split *sp)
{
	size_t total = 0, n = 0;

	for (size_t i = 0; i < s->syscalls_len; i++)
		total += strv_len(s->syscalls[i].names);
	sp->names = xcalloc(total + 1, sizeof(char *));
	for (size_t i = 0; i < s->syscalls_len; i++)
		for (char **nm = s->syscalls[i].names; nm && *nm; nm++)
			sp->names[n++] = *nm;
	qsort(sp->names, n, sizeof(char *), cmp_str);
	sp->n = 0;
	for (size_t i = 0; i < n; i++)
		if (sp->n == 0 || strcmp(sp->names[sp->n - 1], sp->names[i]) != 0)
			sp->names[sp->n++] = sp->names[i];
}

static void add_key(struct key *keys, size_t *nkeys, size_t arch, int nr, size_t name)
{
	if (nr == __NR_SCMP_ERROR)
		return;
	keys[(*nkeys)++] = (struct key){((uint64_t)arch << 32) | (uint32_t)nr, name};
}

/* Names that may reach one syscall number share a group. */
static size_t *group_names(const struct seccomp_split *sp, const uint32_t *archs, size_t narchs)
{
	size_t *up = xcalloc(sp->n, sizeof(size_t)), nkeys = 0;
	struct key *keys = xcalloc(sp->n * narchs * 2 + 1, sizeof(struct key));

	for (size_t i = 0; i < sp->n; i++) {
		up[i] = i;
		for (size_t a = 0; a < narchs; a++) {
			add_key(keys, &nkeys, a,
			        seccomp_syscall_resolve_name_arch(archs[a], sp->names[i]), i);
			add_key(keys, &nkeys, a,
			        seccomp_syscall_resolve_name_rewrite(archs[a], sp->names[i]), i);
		}
	}
	qsort(keys, nkeys, sizeof(*keys), cmp_key);
	for (size_t k = 1; k < nkeys; k++)
		if (keys[k].key == keys[k - 1].key)
			up[find(up, keys[k].name)] = find(up, keys[k - 1].name);
	free(keys);
	return up;
}

int seccomp_split_plan(const struct oci_seccomp *s, const uint32_t *archs, size_t narchs,
                       size_t per_part, struct seccomp_split *sp)
{
	size_t *up, *size, *part_of_group;

	memset(sp, 0, sizeof(*sp));
	collect_names(s, sp);
	up = group_names(sp, archs, narchs);
	size = xcalloc(sp->n + 1, sizeof(size_t));
	for (size_t i = 0; i < sp->n; i++)
		size[find(up, i)]++;
	part_of_group = xcalloc(sp->n + 1, sizeof(size_t));
	sp->part = xcalloc(sp->n + 1, sizeof(int));
	/* Whole groups, first come first placed, until a part holds per_part names. */
	{
		size_t fill = 0;

		sp->parts = 0;
		for (size_t i = 0; i < sp->n; i++) {
			size_t g = find(up, i);

			if (part_of_group[g] == 0) {
				if (sp->parts == 0 || fill + size[g] > per_part) {
					sp->parts++;
					fill = 0;
				}
				part_of_group[g] = (size_t)sp->parts;
				fill += size[g];
			}
			sp->part[i] = (int)part_of_group[g] - 1;
		}
	}
	free(part_of_group);
	free(size);
	free(up);
	return sp->parts;
}

int seccomp_split_part_of(const struct seccomp_split *sp, const char *name)
{
	char **hit = bsearch(&name, sp->names, sp->n, sizeof(char *), cmp_str);

	return hit ? sp->part[hit - sp->names] : -1;
}

void seccomp_split_free(struct seccomp_split *sp)
{
	free(sp->names); /* the strings are the profile's */
	free(sp->part);
	memset(sp, 0, sizeof(*sp));
}

/* Starts with "load the architecture" and keeps nothing in scratch memory. */
static bool self_contained(const struct sock_filter *f, size_t len)
{
	if (len == 0 || f[0].code != (BPF_LD | BPF_W | BPF_ABS) ||
	    f[0].k != offsetof(struct seccomp_data, arch))
		return false;
	for (size_t i = 0; i < len; i++) {
		uint16_t cls = BPF_CLASS(f[i].code);

		if (cls == BPF_ST || cls == BPF_STX ||
		    ((cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(f[i].code) == BPF_MEM))
			return false;
	}
	return true;
}

int seccomp_split_join(struct sock_filter **prog, size_t *len, const struct sock_filter *part,
                       size_t part_len, uint32_t sentinel, bool last, uint32_t final_action)
{
	struct sock_filter *out;

	if (!self_contained(part, part_len))
		return -1;
	out = xrealloc(*prog, (*len + part_len) * sizeof(*out));
	for (size_t i = 0; i < part_len; i++) {
		struct sock_filter f = part[i];

		if (f.code == (BPF_RET | BPF_K) && f.k == sentinel) {
			if (last)
				f.k = final_action;
			else /* to the next part, the first instruction after this one */
				f = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA,
				                                 (uint32_t)(part_len - i - 1));
		}
		out[*len + i] = f;
	}
	*prog = out;
	*len += part_len;
	return 0;
}

#endif
