/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef OCISPEC_JSON_WALK_H
#define OCISPEC_JSON_WALK_H

/*
 * The generic, table-driven half of libocispec.  Every C struct of the
 * data model is described once by a `struct jw_struct` (a list of fields:
 * JSON name, kind, offsetof, optional has_ flag ...) and the same tables
 * drive parsing (over yajl's tree), generation (yajl_gen) and freeing.
 * Adding a spec field is one line in a table.
 *
 * Private to libocispec (and its unit tests).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime_spec.h"

/* Documents nested deeper than this are refused before yajl sees them. */
#define JW_MAX_DEPTH 64
#define JW_STR_(x)   #x
#define JW_STR(x)    JW_STR_(x)

enum jw_kind {
	JW_STRING,       /* char * */
	JW_BOOL,         /* bool */
	JW_INT32,        /* int32_t */
	JW_UINT32,       /* uint32_t */
	JW_INT64,        /* int64_t */
	JW_UINT64,       /* uint64_t */
	JW_UINT16,       /* uint16_t */
	JW_STRING_ARRAY, /* NULL-terminated char ** */
	JW_UINT32_ARRAY, /* uint32_t * + size_t len (len_off) */
	JW_STRING_MAP,   /* struct oci_map */
	JW_STRUCT,       /* pointer to a struct (sub), NULL when absent */
	JW_INLINE,       /* struct (sub) embedded in its parent */
	JW_STRUCT_ARRAY, /* T * + size_t len (len_off) */
	JW_STRUCT_MAP,   /* JSON object key -> struct: T * + len; key kept in T at sub->key_off */
};
/* The kinds from JW_STRUCT on describe their value with `sub`; the others may have a `check`. */
#define JW_HAS_SUB(kind) ((kind) >= JW_STRUCT)

/* Field flags. */
#define JW_REQUIRED 0x1u /* absent (or null) is an error */
#define JW_ALWAYS   0x2u /* a bool without has_: emit even when false */

struct jw_ctx;
struct jw_struct;

/* A value check run after a field parsed; returns 0, or jw_fail()'s -1. */
typedef int (*jw_check_fn)(struct jw_ctx *ctx, const void *field);

/*
 * 24 bytes a field (there are about 260): offsets within one C struct fit
 * in 16 bits (JW_OFF16 refuses to compile otherwise), and a field has
 * either a sub-table or a value check, never both.
 */
struct jw_field {
	const char *name; /* JSON key */
	union {
		const struct jw_struct *sub; /* JW_HAS_SUB(kind) */
		jw_check_fn check;           /* otherwise; NULL when none */
	};
	uint16_t off;     /* offsetof the value in the parent struct */
	uint16_t has_off; /* offsetof(has_x) + 1, or 0 when the field has no has_ flag */
	uint16_t len_off; /* arrays and struct maps: offsetof the size_t length */
	enum jw_kind kind : 8;
	unsigned flags : 8;
};

/* A table has no end marker (24 bytes each): its length is nfields. */
struct jw_struct {
	const struct jw_field *fields;
	uint32_t size;    /* sizeof the C struct */
	uint16_t nfields; /* JW_COUNT(fields) */
	uint16_t key_off; /* element of a JW_STRUCT_MAP: offsetof the char * map key */
};

/*
 * Table-building helpers.  A table file defines JW_T as the C struct being
 * described, e.g. `#define JW_T struct oci_user`, then lists fields.
 * JW_OPT pairs member m with its `has_m` flag; JW_ARR with its `m_len`.
 */
#define JW_OFF16(x) ((x) + 0 * sizeof(char[(x) < 65536 ? 1 : -1]))
#define JW_HAS(m)   JW_OFF16(offsetof(JW_T, has_##m) + 1)
#define JW_F(json, k, m, ...)                                                                      \
	{                                                                                          \
		.name = json, .kind = k, .off = JW_OFF16(offsetof(JW_T, m)), __VA_ARGS__           \
	}
#define JW_OPT(json, k, m, ...) JW_F(json, k, m, .has_off = JW_HAS(m), __VA_ARGS__)
#define JW_ARR(json, k, m, ...)                                                                    \
	JW_F(json, k, m, .len_off = JW_OFF16(offsetof(JW_T, m##_len)), __VA_ARGS__)
#define JW_COUNT(a) JW_OFF16(sizeof(a) / sizeof((a)[0]))

/* ---- documents (json_doc.c) ---- */

/*
 * Parses `data` as one JSON object described by `st` into a new, zeroed
 * struct.  `name` prefixes every error ("config.json").  Returns NULL and
 * sets *err on failure.
 */
void *jw_parse_document(const struct jw_struct *st, const char *data, size_t len, const char *name,
                        char **err);
/* Reads a whole file into a malloc'd buffer; errors are "<name>: open <path>: ...". */
char *jw_read_file(const char *path, const char *name, size_t *len, char **err);
/* Pretty-printed JSON for the struct at p; NULL with *err on failure. */
char *jw_generate_document(const struct jw_struct *st, const void *p, const char *name, char **err);
/* Frees everything the struct owns and the struct itself (NULL is fine). */
void jw_free_document(const struct jw_struct *st, void *p);

/* ---- walker internals shared by json_walk.c, json_gen.c and json_equal.c ---- */

struct jw_ctx {
	const char *name; /* document name, first word of every error */
	char *path;       /* JSON path of the value being looked at */
	size_t path_len, path_cap;
	char *err; /* first error, malloc'd */
};

/* Records an error "<name>: <path>: <message>" (or "<name>: <message>"), returns -1. */
int jw_fail(struct jw_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Path steps; each returns the previous length for jw_path_pop (or -1 on ENOMEM). */
int jw_path_push_key(struct jw_ctx *ctx, const char *key, bool is_map_key);
int jw_path_push_index(struct jw_ctx *ctx, size_t index);
void jw_path_pop(struct jw_ctx *ctx, int old_len);
/* `"s"` with quotes, backslashes and control bytes escaped, cut at max bytes; malloc'd. */
char *jw_quote(const char *s, size_t max);

/* Parses the JSON object `v` (a yajl_val) into `out` (already zeroed). */
int jw_parse_struct(struct jw_ctx *ctx, const struct jw_struct *st, const void *v, void *out);
/* Frees what the struct at p owns (not p itself). */
void jw_free_struct(const struct jw_struct *st, void *p);
/* Whether generation emits this field of the struct at p. */
bool jw_field_present(const struct jw_field *f, const void *p);
/* Deep equality of two structs described by st. */
bool jw_equal(const struct jw_struct *st, const void *a, const void *b);

#endif
