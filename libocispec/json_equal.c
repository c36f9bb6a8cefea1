/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Deep equality of two structs, driven by the same descriptor tables. */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "json_walk.h"

#define CAT(p, off) ((const void *)((const char *)(p) + (off)))

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool string_array_eq(char **a, char **b)
{
	if (a == NULL || b == NULL)
		return a == b;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return *a == NULL && *b == NULL;
}

static bool field_eq(const struct jw_field *f, const void *pa, const void *pb)
{
	const void *a = CAT(pa, f->off), *b = CAT(pb, f->off);
	size_t i, la = 0, lb = 0;

	if (f->has_off &&
	    *(const bool *)CAT(pa, f->has_off - 1) != *(const bool *)CAT(pb, f->has_off - 1))
		return false;
	if (f->len_off) {
		la = *(const size_t *)CAT(pa, f->len_off);
		lb = *(const size_t *)CAT(pb, f->len_off);
		if (la != lb)
			return false;
	}
	switch (f->kind) {
	case JW_STRING:
		return str_eq(*(char *const *)a, *(char *const *)b);
	case JW_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case JW_INT32:
	case JW_UINT32:
		return *(const uint32_t *)a == *(const uint32_t *)b;
	case JW_INT64:
	case JW_UINT64:
		return *(const uint64_t *)a == *(const uint64_t *)b;
	case JW_UINT16:
		return *(const uint16_t *)a == *(const uint16_t *)b;
	case JW_STRING_ARRAY:
		return string_array_eq(*(char **const *)a, *(char **const *)b);
	case JW_UINT32_ARRAY:
		if ((*(void *const *)a == NULL) != (*(void *const *)b == NULL))
			return false;
		return la == 0 ||
		       memcmp(*(void *const *)a, *(void *const *)b, la * sizeof(uint32_t)) == 0;
	case JW_STRING_MAP: {
		const struct oci_map *x = a, *y = b;

		if (x->len != y->len || (x->keys == NULL) != (y->keys == NULL))
			return false;
		for (i = 0; i < x->len; i++)
			if (!str_eq(x->keys[i], y->keys[i]) || !str_eq(x->values[i], y->values[i]))
				return false;
		return true;
	}
	case JW_STRUCT:
		if (*(void *const *)a == NULL || *(void *const *)b == NULL)
			return *(void *const *)a == *(void *const *)b;
		return jw_equal(f->sub, *(void *const *)a, *(void *const *)b);
	case JW_INLINE:
		return jw_equal(f->sub, a, b);
	case JW_STRUCT_ARRAY:
	case JW_STRUCT_MAP: {
		const char *x = *(char *const *)a, *y = *(char *const *)b;

		if ((x == NULL) != (y == NULL))
			return false;
		for (i = 0; i < la; i++) {
			const char *ex = x + i * f->sub->size, *ey = y + i * f->sub->size;

			if (f->kind == JW_STRUCT_MAP &&
			    !str_eq(*(char *const *)(ex + f->sub->key_off),
			            *(char *const *)(ey + f->sub->key_off)))
				return false;
			if (!jw_equal(f->sub, ex, ey))
				return false;
		}
		return true;
	}
	}
	return false;
}

bool jw_equal(const struct jw_struct *st, const void *a, const void *b)
{
	const struct jw_field *f;

	for (f = st->fields; f < st->fields + st->nfields; f++)
		if (!field_eq(f, a, b))
			return false;
	return true;
}
