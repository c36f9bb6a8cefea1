/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit properties as plain data (sdbus.h): built and checked without a bus. */
#include <config.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdbus.h"
#include "utils.h"

void sd_value_free(struct sd_value *v)
{
	if (v->sig && strchr("sog", v->sig[0]))
		free(v->s);
	for (size_t i = 0; i < v->n; i++)
		sd_value_free(&v->items[i]);
	free(v->items);
	free(v->sig);
	memset(v, 0, sizeof(*v));
}

void sd_props_free(struct sd_props *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->p[i].name);
		sd_value_free(&ps->p[i].v);
	}
	free(ps->p);
	ps->p = NULL;
	ps->n = 0;
}

struct sd_value *sd_props_add(struct sd_props *ps, const char *name, const char *sig)
{
	struct sd_prop *p;

	ps->p = xrealloc(ps->p, (ps->n + 1) * sizeof(*ps->p));
	p = &ps->p[ps->n++];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->v.sig = xstrdup(sig);
	return &p->v;
}

void sd_props_add_u64(struct sd_props *ps, const char *name, uint64_t v)
{
	sd_props_add(ps, name, "t")->u = v;
}

void sd_props_add_bool(struct sd_props *ps, const char *name, bool v)
{
	sd_props_add(ps, name, "b")->b = v;
}

void sd_props_add_str(struct sd_props *ps, const char *name, const char *v)
{
	sd_props_add(ps, name, "s")->s = xstrdup(v);
}

const struct sd_value *sd_props_get(const struct sd_props *ps, const char *name)
{
	for (size_t i = ps->n; i-- > 0;)
		if (strcmp(ps->p[i].name, name) == 0)
			return &ps->p[i].v;
	return NULL;
}

/* The length of the first complete type in sig ("a(ss)t" -> 5). */
static size_t first_type_len(const char *sig)
{
	size_t n = 0;
	int depth = 0;

	do {
		if (sig[n] == '(' || sig[n] == '{')
			depth++;
		else if (sig[n] == ')' || sig[n] == '}')
			depth--;
		else if (sig[n] == '\0')
			return n;
		n++;
	} while (depth > 0 || sig[n - 1] == 'a');
	return n;
}

struct sd_value *sd_value_push(struct sd_value *array)
{
	struct sd_value *v;

	array->items = xrealloc(array->items, (array->n + 1) * sizeof(*v));
	v = &array->items[array->n++];
	memset(v, 0, sizeof(*v));
	v->sig = strndup(array->sig + 1, first_type_len(array->sig + 1));
	if (v->sig == NULL)
		abort();
	/* A struct gets its fields here, each with its own type. */
	if (v->sig[0] == '(') {
		const char *f = v->sig + 1;
		while (*f && *f != ')') {
			size_t len = first_type_len(f);
			struct sd_value *field;

			v->items = xrealloc(v->items, (v->n + 1) * sizeof(*field));
			field = &v->items[v->n++];
			memset(field, 0, sizeof(*field));
			field->sig = strndup(f, len);
			f += len;
		}
	}
	return v;
}

static void text_append(char **buf, const char *fmt, const char *s)
{
	char *next = xasprintf(fmt, *buf, s);
	free(*buf);
	*buf = next;
}

char *sd_value_text(const struct sd_value *v)
{
	static const struct {
		char sig;
		const char *name;
	} kinds[] = {{'y', "byte"},   {'n', "int16"}, {'q', "uint16"}, {'i', "int32"},
	             {'u', "uint32"}, {'x', "int64"}, {'t', "uint64"}, {'d', "double"}};
	char *out;

	if (v->sig[0] == 'a' || v->sig[0] == '(') {
		bool array = v->sig[0] == 'a';
		out = xstrdup(array ? "[" : "(");
		for (size_t i = 0; i < v->n; i++) {
			cleanup_free char *item = sd_value_text(&v->items[i]);
			text_append(&out, i ? "%s, %s" : "%s%s", item);
		}
		text_append(&out, "%s%s", array ? "]" : ")");
		return out;
	}
	if (v->sig[0] == 'b')
		return xstrdup(v->b ? "true" : "false");
	if (strchr("sog", v->sig[0]))
		return xasprintf("'%s'", v->s);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (kinds[i].sig != v->sig[0])
			continue;
		if (v->sig[0] == 'd')
			return xasprintf("double %g", v->d);
		if (strchr("nix", v->sig[0]))
			return xasprintf("%s %" PRId64, kinds[i].name, v->i);
		return xasprintf("%s %" PRIu64, kinds[i].name, v->u);
	}
	return xasprintf("<%s>", v->sig);
}
