/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Generation: the descriptor tables written back out with yajl_gen,
 * pretty-printed with a two-space indent.  Absent optional fields (NULL
 * pointers, has_x == false, NULL arrays, false bools without has_x) are
 * left out, so parse -> generate -> parse gives back the same structs.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "json_walk.h"

#define CAT(p, off) ((const void *)((const char *)(p) + (off)))

bool jw_field_present(const struct jw_field *f, const void *parent)
{
	const void *p = CAT(parent, f->off);

	if (f->has_off)
		return *(const bool *)CAT(parent, f->has_off - 1);
	switch (f->kind) {
	case JW_BOOL:
		return *(const bool *)p || (f->flags & JW_ALWAYS);
	case JW_STRING:
	case JW_STRING_ARRAY:
	case JW_UINT32_ARRAY:
	case JW_STRUCT:
		return *(void *const *)p != NULL;
	case JW_STRUCT_ARRAY:
	case JW_STRUCT_MAP:
		return *(void *const *)p != NULL || *(const size_t *)CAT(parent, f->len_off) > 0;
	case JW_STRING_MAP:
		return ((const struct oci_map *)p)->keys != NULL;
	default:
		return true; /* numbers and embedded structs without has_x */
	}
}

static int gen_check(struct jw_ctx *ctx, yajl_gen_status st)
{
	switch (st) {
	case yajl_gen_status_ok:
		return 0;
	case yajl_gen_invalid_string:
		return jw_fail(ctx, "string is not valid UTF-8");
	default:
		return jw_fail(ctx, "JSON generator error %d", (int)st);
	}
}

static int gen_str(struct jw_ctx *ctx, yajl_gen g, const char *s)
{
	return gen_check(ctx, yajl_gen_string(g, (const unsigned char *)s, strlen(s)));
}

static int gen_num(struct jw_ctx *ctx, yajl_gen g, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int gen_num(struct jw_ctx *ctx, yajl_gen g, const char *fmt, ...)
{
	char buf[32];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return gen_check(ctx, yajl_gen_number(g, buf, (size_t)n));
}

static int gen_struct(struct jw_ctx *ctx, yajl_gen g, const struct jw_struct *st, const void *p);

static int gen_string_array(struct jw_ctx *ctx, yajl_gen g, char *const *a)
{
	size_t i;

	if (gen_check(ctx, yajl_gen_array_open(g)) < 0)
		return -1;
	for (i = 0; a[i]; i++) {
		int old = jw_path_push_index(ctx, i);
		int r = gen_str(ctx, g, a[i]);

		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
	}
	return gen_check(ctx, yajl_gen_array_close(g));
}

static int gen_string_map(struct jw_ctx *ctx, yajl_gen g, const struct oci_map *m)
{
	size_t i;

	if (gen_check(ctx, yajl_gen_map_open(g)) < 0)
		return -1;
	for (i = 0; i < m->len; i++) {
		int old = jw_path_push_key(ctx, m->keys[i] ? m->keys[i] : "", true);
		int r =
		    m->keys[i] && m->values && m->values[i] ? 0 : jw_fail(ctx, "NULL key or value");

		if (r == 0)
			r = gen_str(ctx, g, m->keys[i]);
		if (r == 0)
			r = gen_str(ctx, g, m->values[i]);
		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
	}
	return gen_check(ctx, yajl_gen_map_close(g));
}

static int gen_struct_seq(struct jw_ctx *ctx, yajl_gen g, const struct jw_field *f, const char *a,
                          size_t len)
{
	bool map = f->kind == JW_STRUCT_MAP;
	size_t i;

	if (gen_check(ctx, map ? yajl_gen_map_open(g) : yajl_gen_array_open(g)) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		const char *elem = a + i * f->sub->size;
		const char *key = map ? *(char *const *)(elem + f->sub->key_off) : NULL;
		int old, r = 0;

		if (map) {
			old = jw_path_push_key(ctx, key ? key : "", true);
			r = key ? gen_str(ctx, g, key) : jw_fail(ctx, "NULL map key");
		} else {
			old = jw_path_push_index(ctx, i);
		}
		if (r == 0)
			r = gen_struct(ctx, g, f->sub, elem);
		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
	}
	return gen_check(ctx, map ? yajl_gen_map_close(g) : yajl_gen_array_close(g));
}

static int gen_value(struct jw_ctx *ctx, yajl_gen g, const struct jw_field *f, const void *parent)
{
	const void *p = CAT(parent, f->off);
	size_t i, len = f->len_off ? *(const size_t *)CAT(parent, f->len_off) : 0;

	switch (f->kind) {
	case JW_STRING:
		return gen_str(ctx, g, *(char *const *)p);
	case JW_BOOL:
		return gen_check(ctx, yajl_gen_bool(g, *(const bool *)p));
	case JW_INT32:
		return gen_num(ctx, g, "%" PRId32, *(const int32_t *)p);
	case JW_UINT32:
		return gen_num(ctx, g, "%" PRIu32, *(const uint32_t *)p);
	case JW_INT64:
		return gen_num(ctx, g, "%" PRId64, *(const int64_t *)p);
	case JW_UINT64:
		return gen_num(ctx, g, "%" PRIu64, *(const uint64_t *)p);
	case JW_UINT16:
		return gen_num(ctx, g, "%" PRIu16, *(const uint16_t *)p);
	case JW_STRING_ARRAY:
		return gen_string_array(ctx, g, *(char **const *)p);
	case JW_UINT32_ARRAY: {
		const uint32_t *a = *(uint32_t *const *)p;

		if (gen_check(ctx, yajl_gen_array_open(g)) < 0)
			return -1;
		for (i = 0; i < len; i++)
			if (gen_num(ctx, g, "%" PRIu32, a[i]) < 0)
				return -1;
		return gen_check(ctx, yajl_gen_array_close(g));
	}
	case JW_STRING_MAP:
		return gen_string_map(ctx, g, p);
	case JW_STRUCT:
		return gen_struct(ctx, g, f->sub, *(void *const *)p);
	case JW_INLINE:
		return gen_struct(ctx, g, f->sub, p);
	case JW_STRUCT_ARRAY:
	case JW_STRUCT_MAP:
		return gen_struct_seq(ctx, g, f, *(char *const *)p, len);
	}
	return jw_fail(ctx, "internal error: unknown field kind %d", (int)f->kind);
}

static int gen_struct(struct jw_ctx *ctx, yajl_gen g, const struct jw_struct *st, const void *p)
{
	const struct jw_field *f;

	if (gen_check(ctx, yajl_gen_map_open(g)) < 0)
		return -1;
	for (f = st->fields; f < st->fields + st->nfields; f++) {
		int old, r;

		if (!jw_field_present(f, p))
			continue;
		old = jw_path_push_key(ctx, f->name, false);
		r = gen_str(ctx, g, f->name);
		if (r == 0)
			r = gen_value(ctx, g, f, p);
		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
	}
	return gen_check(ctx, yajl_gen_map_close(g));
}

/*
 * yajl's beautifier writes an empty array or object over three lines
 * ("[\n\n  ]"); fold those to [] and {}.  Safe on the whole text because
 * yajl never puts a raw newline inside a string.
 */
static size_t fold_empty(char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		char c = s[i++];

		s[o++] = c;
		if ((c == '[' || c == '{') && i + 1 < len && s[i] == '\n' && s[i + 1] == '\n') {
			size_t j = i + 2;

			while (j < len && s[j] == ' ')
				j++;
			if (j < len && s[j] == (c == '[' ? ']' : '}')) {
				s[o++] = s[j];
				i = j + 1;
			}
		}
	}
	s[o] = '\0';
	return o;
}

char *jw_generate_document(const struct jw_struct *st, const void *p, const char *name, char **err)
{
	struct jw_ctx ctx = {.name = name ? name : "document"};
	const unsigned char *buf;
	char *out = NULL;
	size_t len;
	yajl_gen g;

	*err = NULL;
	g = yajl_gen_alloc(NULL);
	if (g == NULL) {
		*err = strdup("out of memory");
		return NULL;
	}
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	/* a hand-built struct may carry bytes that would make the output unparseable */
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	if (p == NULL)
		jw_fail(&ctx, "nothing to generate");
	else if (gen_struct(&ctx, g, st, p) == 0 &&
	         gen_check(&ctx, yajl_gen_get_buf(g, &buf, &len)) == 0) {
		out = malloc(len + 1);
		if (out == NULL) {
			jw_fail(&ctx, "out of memory");
		} else {
			memcpy(out, buf, len);
			out[len] = '\0';
			fold_empty(out, len);
		}
	}
	yajl_gen_free(g);
	free(ctx.path);
	*err = ctx.err;
	return out;
}
