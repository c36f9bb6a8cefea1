/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generic walker: parses a yajl tree into C structs by following a
 * descriptor table, frees them, and compares them.  Errors name the JSON
 * path of the offending value.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "json_walk.h"

#define AT(p, off)  ((void *)((char *)(p) + (off)))
#define CAT(p, off) ((const void *)((const char *)(p) + (off)))

/* ---- errors and paths ---- */

int jw_fail(struct jw_ctx *ctx, const char *fmt, ...)
{
	char *msg = NULL, *full = NULL;
	va_list ap;
	int r;

	if (ctx->err != NULL)
		return -1; /* keep the first, most precise error */
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		msg = NULL;
	if (ctx->path_len > 0)
		r = asprintf(&full, "%s: %s: %s", ctx->name, ctx->path,
		             msg ? msg : "out of memory");
	else
		r = asprintf(&full, "%s: %s", ctx->name, msg ? msg : "out of memory");
	free(msg);
	ctx->err = r < 0 ? strdup("out of memory") : full;
	return -1;
}

static int path_append(struct jw_ctx *ctx, const char *s, size_t n)
{
	if (ctx->path_len + n + 1 > ctx->path_cap) {
		size_t cap = (ctx->path_len + n + 1) * 2;
		char *p = realloc(ctx->path, cap);

		if (p == NULL)
			return -1;
		ctx->path = p;
		ctx->path_cap = cap;
	}
	memcpy(ctx->path + ctx->path_len, s, n);
	ctx->path_len += n;
	ctx->path[ctx->path_len] = '\0';
	return 0;
}

static bool is_identifier(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/*
 * Table keys are plain identifiers and read as `.key`; a map key may hold
 * dots or anything else (annotations, unified), so it reads as `["key"]`
 * unless it is a plain identifier too.
 */
int jw_path_push_key(struct jw_ctx *ctx, const char *key, bool is_map_key)
{
	int old = (int)ctx->path_len;
	int r;

	if (!is_map_key || is_identifier(key)) {
		r = ctx->path_len > 0 ? path_append(ctx, ".", 1) : 0;
		if (r == 0)
			r = path_append(ctx, key, strlen(key));
	} else {
		char *q = jw_quote(key, 256);

		r = q ? path_append(ctx, "[", 1) : -1;
		if (r == 0)
			r = path_append(ctx, q, strlen(q));
		if (r == 0)
			r = path_append(ctx, "]", 1);
		free(q);
	}
	return r < 0 ? -1 : old;
}

int jw_path_push_index(struct jw_ctx *ctx, size_t index)
{
	int old = (int)ctx->path_len;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%zu]", index);

	return path_append(ctx, buf, (size_t)n) < 0 ? -1 : old;
}

void jw_path_pop(struct jw_ctx *ctx, int old_len)
{
	if (old_len < 0 || ctx->path == NULL)
		return;
	ctx->path_len = (size_t)old_len;
	ctx->path[old_len] = '\0';
}

char *jw_quote(const char *s, size_t max)
{
	size_t n = strlen(s), i, o = 0;
	bool cut = n > max;
	char *q;

	if (cut)
		n = max;
	q = malloc(n * 4 + 6);
	if (q == NULL)
		return NULL;
	q[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			q[o++] = '\\';
			q[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(q + o, "\\x%02x", c);
		} else {
			q[o++] = (char)c;
		}
	}
	if (cut) {
		memcpy(q + o, "...", 3);
		o += 3;
	}
	q[o++] = '"';
	q[o] = '\0';
	return q;
}

/* ---- numbers ---- */

/* A long number in an error message is cut; the path says where it is anyway. */
static const char *num_text(const char *raw, char *buf, size_t size)
{
	if (strlen(raw) < size)
		return raw;
	snprintf(buf, size, "%.*s...", (int)(size - 4), raw);
	return buf;
}

static bool is_integer_text(const char *raw)
{
	const char *s = raw + (*raw == '-');

	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int parse_unsigned(struct jw_ctx *ctx, yajl_val v, uint64_t max, int bits, uint64_t *out)
{
	const char *raw = YAJL_IS_NUMBER(v) ? v->u.number.r : NULL;
	unsigned long long n;
	char buf[48];

	if (raw == NULL || !is_integer_text(raw))
		return jw_fail(ctx, "expected an unsigned integer");
	errno = 0;
	n = strtoull(raw + (*raw == '-'), NULL, 10);
	/* "-0" is zero; any other negative number cannot fit */
	if (errno == ERANGE || n > max || (*raw == '-' && n != 0))
		return jw_fail(ctx, "%s out of range for a %d-bit unsigned integer",
		               num_text(raw, buf, sizeof(buf)), bits);
	*out = n;
	return 0;
}

static int parse_signed(struct jw_ctx *ctx, yajl_val v, int64_t min, int64_t max, int bits,
                        int64_t *out)
{
	const char *raw = YAJL_IS_NUMBER(v) ? v->u.number.r : NULL;
	long long n;
	char buf[48];

	if (raw == NULL || !is_integer_text(raw))
		return jw_fail(ctx, "expected an integer");
	errno = 0;
	n = strtoll(raw, NULL, 10);
	if (errno == ERANGE || n < min || n > max)
		return jw_fail(ctx, "%s out of range for a %d-bit integer",
		               num_text(raw, buf, sizeof(buf)), bits);
	*out = n;
	return 0;
}

/* ---- values ---- */

static int parse_string(struct jw_ctx *ctx, yajl_val v, char **out)
{
	if (!YAJL_IS_STRING(v))
		return jw_fail(ctx, "expected a string");
	*out = strdup(v->u.string);
	return *out ? 0 : jw_fail(ctx, "out of memory");
}

static int parse_string_array(struct jw_ctx *ctx, yajl_val v, char ***out)
{
	size_t i, n;
	char **a;

	if (!YAJL_IS_ARRAY(v))
		return jw_fail(ctx, "expected an array of strings");
	n = v->u.array.len;
	a = calloc(n + 1, sizeof(*a));
	if (a == NULL)
		return jw_fail(ctx, "out of memory");
	*out = a;
	for (i = 0; i < n; i++) {
		int old = jw_path_push_index(ctx, i);
		int r = parse_string(ctx, v->u.array.values[i], &a[i]);

		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int parse_uint32_array(struct jw_ctx *ctx, yajl_val v, uint32_t **out, size_t *len)
{
	size_t i, n;

	if (!YAJL_IS_ARRAY(v))
		return jw_fail(ctx, "expected an array of unsigned integers");
	n = v->u.array.len;
	/* one spare element so that an empty array is still non-NULL (present) */
	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return jw_fail(ctx, "out of memory");
	*len = n;
	for (i = 0; i < n; i++) {
		int old = jw_path_push_index(ctx, i);
		uint64_t x = 0;
		int r = parse_unsigned(ctx, v->u.array.values[i], UINT32_MAX, 32, &x);

		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
		(*out)[i] = (uint32_t)x;
	}
	return 0;
}

struct key_ref {
	const char *key;
	size_t index;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * yajl's tree keeps every copy of a repeated key, and JSON parsers disagree
 * on which one wins; a config whose meaning depends on the parser is
 * refused.  The error names the first key (in document order) that repeats
 * an earlier one.  Sorting keeps this O(n log n) on hostile input.
 */
static int check_duplicates(struct jw_ctx *ctx, yajl_val obj)
{
	size_t n = obj->u.object.len, i, dup = SIZE_MAX;
	struct key_ref *refs;

	if (n < 2)
		return 0;
	refs = malloc(n * sizeof(*refs));
	if (refs == NULL)
		return jw_fail(ctx, "out of memory");
	for (i = 0; i < n; i++) {
		refs[i].key = obj->u.object.keys[i];
		refs[i].index = i;
	}
	qsort(refs, n, sizeof(*refs), key_ref_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(refs[i - 1].key, refs[i].key) == 0 && refs[i].index < dup)
			dup = refs[i].index;
	free(refs);
	if (dup != SIZE_MAX) {
		char *q = jw_quote(obj->u.object.keys[dup], 256);
		int r = jw_fail(ctx, "duplicate key %s", q ? q : "?");

		free(q);
		return r;
	}
	return 0;
}

static int parse_string_map(struct jw_ctx *ctx, yajl_val v, struct oci_map *m)
{
	size_t i, n;

	if (!YAJL_IS_OBJECT(v))
		return jw_fail(ctx, "expected an object of strings");
	if (check_duplicates(ctx, v) < 0)
		return -1;
	n = v->u.object.len;
	m->keys = calloc(n + 1, sizeof(char *));
	m->values = calloc(n + 1, sizeof(char *));
	if (m->keys == NULL || m->values == NULL)
		return jw_fail(ctx, "out of memory");
	m->len = n;
	for (i = 0; i < n; i++) {
		int old = jw_path_push_key(ctx, v->u.object.keys[i], true);
		int r = parse_string(ctx, v->u.object.values[i], &m->values[i]);

		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
		m->keys[i] = strdup(v->u.object.keys[i]);
		if (m->keys[i] == NULL)
			return jw_fail(ctx, "out of memory");
	}
	return 0;
}

static int parse_struct_array(struct jw_ctx *ctx, const struct jw_field *f, yajl_val v, void **out,
                              size_t *len)
{
	size_t i, n, size = f->sub->size;
	char *a;

	if (!YAJL_IS_ARRAY(v))
		return jw_fail(ctx, "expected an array");
	n = v->u.array.len;
	a = calloc(n + 1, size);
	if (a == NULL)
		return jw_fail(ctx, "out of memory");
	*out = a;
	*len = n; /* zeroed elements are safe to free if parsing stops early */
	for (i = 0; i < n; i++) {
		int old = jw_path_push_index(ctx, i);
		int r = jw_parse_struct(ctx, f->sub, v->u.array.values[i], a + i * size);

		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int parse_struct_map(struct jw_ctx *ctx, const struct jw_field *f, yajl_val v, void **out,
                            size_t *len)
{
	size_t i, n, size = f->sub->size;
	char *a;

	if (!YAJL_IS_OBJECT(v))
		return jw_fail(ctx, "expected an object");
	if (check_duplicates(ctx, v) < 0)
		return -1;
	n = v->u.object.len;
	a = calloc(n + 1, size);
	if (a == NULL)
		return jw_fail(ctx, "out of memory");
	*out = a;
	*len = n;
	for (i = 0; i < n; i++) {
		char *elem = a + i * size;
		int old = jw_path_push_key(ctx, v->u.object.keys[i], true);
		int r = jw_parse_struct(ctx, f->sub, v->u.object.values[i], elem);

		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
		*(char **)AT(elem, f->sub->key_off) = strdup(v->u.object.keys[i]);
		if (*(char **)AT(elem, f->sub->key_off) == NULL)
			return jw_fail(ctx, "out of memory");
	}
	return 0;
}

static int parse_field(struct jw_ctx *ctx, const struct jw_field *f, yajl_val v, void *parent)
{
	void *p = AT(parent, f->off);
	uint64_t u = 0;
	int64_t s = 0;
	int r = 0;

	switch (f->kind) {
	case JW_STRING:
		return parse_string(ctx, v, p);
	case JW_BOOL:
		if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
			return jw_fail(ctx, "expected a boolean");
		*(bool *)p = YAJL_IS_TRUE(v);
		return 0;
	case JW_INT32:
		r = parse_signed(ctx, v, INT32_MIN, INT32_MAX, 32, &s);
		*(int32_t *)p = (int32_t)s;
		return r;
	case JW_INT64:
		r = parse_signed(ctx, v, INT64_MIN, INT64_MAX, 64, &s);
		*(int64_t *)p = s;
		return r;
	case JW_UINT16:
		r = parse_unsigned(ctx, v, UINT16_MAX, 16, &u);
		*(uint16_t *)p = (uint16_t)u;
		return r;
	case JW_UINT32:
		r = parse_unsigned(ctx, v, UINT32_MAX, 32, &u);
		*(uint32_t *)p = (uint32_t)u;
		return r;
	case JW_UINT64:
		r = parse_unsigned(ctx, v, UINT64_MAX, 64, &u);
		*(uint64_t *)p = u;
		return r;
	case JW_STRING_ARRAY:
		return parse_string_array(ctx, v, p);
	case JW_UINT32_ARRAY:
		return parse_uint32_array(ctx, v, p, AT(parent, f->len_off));
	case JW_STRING_MAP:
		return parse_string_map(ctx, v, p);
	case JW_STRUCT:
		if (!YAJL_IS_OBJECT(v))
			return jw_fail(ctx, "expected an object");
		*(void **)p = calloc(1, f->sub->size);
		if (*(void **)p == NULL)
			return jw_fail(ctx, "out of memory");
		return jw_parse_struct(ctx, f->sub, v, *(void **)p);
	case JW_INLINE:
		return jw_parse_struct(ctx, f->sub, v, p);
	case JW_STRUCT_ARRAY:
		return parse_struct_array(ctx, f, v, p, AT(parent, f->len_off));
	case JW_STRUCT_MAP:
		return parse_struct_map(ctx, f, v, p, AT(parent, f->len_off));
	}
	return jw_fail(ctx, "internal error: unknown field kind %d", (int)f->kind);
}

static yajl_val object_get(yajl_val obj, const char *key)
{
	size_t i;

	for (i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

int jw_parse_struct(struct jw_ctx *ctx, const struct jw_struct *st, const void *value, void *out)
{
	yajl_val obj = (yajl_val)value;
	const struct jw_field *f;

	if (!YAJL_IS_OBJECT(obj))
		return jw_fail(ctx, "expected an object");
	if (check_duplicates(ctx, obj) < 0)
		return -1;
	for (f = st->fields; f < st->fields + st->nfields; f++) {
		/* null reads as absent, as Go's encoding/json (runc) reads it */
		yajl_val v = object_get(obj, f->name);
		int old, r = 0;

		if (YAJL_IS_NULL(v))
			v = NULL;
		if (v == NULL && !(f->flags & JW_REQUIRED))
			continue;
		old = jw_path_push_key(ctx, f->name, false);
		if (v == NULL)
			r = jw_fail(ctx, "missing required field");
		if (r == 0)
			r = parse_field(ctx, f, v, out);
		if (r == 0 && f->has_off)
			*(bool *)AT(out, f->has_off - 1) = true;
		if (r == 0 && !JW_HAS_SUB(f->kind) && f->check)
			r = f->check(ctx, CAT(out, f->off));
		jw_path_pop(ctx, old);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- freeing ---- */

static void free_string_array(char **a)
{
	char **s;

	if (a == NULL)
		return;
	for (s = a; *s; s++)
		free(*s);
	free(a);
}

static void free_field(const struct jw_field *f, void *parent)
{
	void *p = AT(parent, f->off);
	size_t i, len;
	char *a;

	switch (f->kind) {
	case JW_STRING:
		free(*(char **)p);
		break;
	case JW_STRING_ARRAY:
		free_string_array(*(char ***)p);
		break;
	case JW_UINT32_ARRAY:
		free(*(void **)p);
		break;
	case JW_STRING_MAP: {
		struct oci_map *m = p;

		for (i = 0; i < m->len; i++) {
			free(m->keys ? m->keys[i] : NULL);
			free(m->values ? m->values[i] : NULL);
		}
		free(m->keys);
		free(m->values);
		break;
	}
	case JW_STRUCT:
		if (*(void **)p) {
			jw_free_struct(f->sub, *(void **)p);
			free(*(void **)p);
		}
		break;
	case JW_INLINE:
		jw_free_struct(f->sub, p);
		break;
	case JW_STRUCT_ARRAY:
	case JW_STRUCT_MAP:
		a = *(char **)p;
		len = *(size_t *)AT(parent, f->len_off);
		for (i = 0; a && i < len; i++) {
			if (f->kind == JW_STRUCT_MAP)
				free(*(char **)(a + i * f->sub->size + f->sub->key_off));
			jw_free_struct(f->sub, a + i * f->sub->size);
		}
		free(a);
		break;
	default:
		break;
	}
}

void jw_free_struct(const struct jw_struct *st, void *p)
{
	const struct jw_field *f;

	for (f = st->fields; f < st->fields + st->nfields; f++)
		free_field(f, p);
}

void jw_free_document(const struct jw_struct *st, void *p)
{
	if (p == NULL)
		return;
	jw_free_struct(st, p);
	free(p);
}
