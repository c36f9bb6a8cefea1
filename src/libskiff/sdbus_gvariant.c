/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GVariant text (docs.gtk.org, "GVariant Text Format"), the form of the
 * org.systemd.property.* annotations' values: booleans, numbers with an
 * optional type keyword (a bare integer is int32, a bare decimal a
 * double), quoted strings, arrays ([...], @TYPE [] when empty) and tuples.
 * Maybes, dictionaries and variants are refused (no unit property takes one).
 */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "sdbus.h"
#include "utils.h"

struct gv {
	const char *p;
	const char *err; /* what was wrong, NULL while fine */
};

static void skip_ws(struct gv *g)
{
	while (isspace((unsigned char)*g->p))
		g->p++;
}

static const struct {
	const char *word;
	char sig;
	double min, max;
} number_types[] = {
    {"byte", 'y', 0, 255},
    {"int16", 'n', INT16_MIN, INT16_MAX},
    {"uint16", 'q', 0, UINT16_MAX},
    {"int32", 'i', INT32_MIN, INT32_MAX},
    {"uint32", 'u', 0, UINT32_MAX},
    {"int64", 'x', (double)INT64_MIN, (double)INT64_MAX},
    {"uint64", 't', 0, (double)UINT64_MAX},
    {"double", 'd', -HUGE_VAL, HUGE_VAL},
};

static int fail(struct gv *g, const char *why)
{
	if (g->err == NULL)
		g->err = why;
	return -1;
}

static size_t word_len(const char *p)
{
	size_t n = 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	return n;
}

/* A number of type sig ('\0': int32 unless it has a fraction or exponent). */
static int parse_number(struct gv *g, char sig, struct sd_value *out)
{
	const char *start = g->p;
	bool neg = *start == '-';
	bool frac = false;
	char *end = NULL;

	if (*g->p == '-' || *g->p == '+')
		g->p++;
	if (!isdigit((unsigned char)*g->p) && *g->p != '.')
		return fail(g, "expected a value");
	if (g->p[0] == '0' && (g->p[1] == 'x' || g->p[1] == 'X')) {
		g->p += 2;
		while (isxdigit((unsigned char)*g->p))
			g->p++;
	} else {
		for (char c = *g->p; c; c = *++g->p) {
			bool exp_sign =
			    (c == '+' || c == '-') && (g->p[-1] == 'e' || g->p[-1] == 'E');
			if (c == '.' || c == 'e' || c == 'E')
				frac = true;
			else if (!isdigit((unsigned char)c) && !exp_sign)
				break;
		}
	}
	if (sig == '\0')
		sig = frac ? 'd' : 'i';
	out->sig = xasprintf("%c", sig);
	errno = 0;
	if (sig == 'd') {
		cleanup_free char *text = strndup(start, (size_t)(g->p - start));
		out->d = strtod(text, &end);
		return *end || errno ? fail(g, "not a number") : 0;
	}
	if (frac)
		return fail(g, "an integer type takes no fraction");
	for (size_t i = 0; i < ARRAY_SIZE(number_types); i++) {
		if (number_types[i].sig != sig)
			continue;
		if (strchr("yqut", sig)) {
			if (neg)
				return fail(g, "a negative value for an unsigned type");
			out->u = strtoull(start, &end, 0);
			if (errno || (double)out->u > number_types[i].max)
				return fail(g, "out of range for its type");
		} else {
			out->i = strtoll(start, &end, 0);
			if (errno || (double)out->i > number_types[i].max ||
			    (double)out->i < number_types[i].min)
				return fail(g, "out of range for its type");
		}
	}
	return end == g->p ? 0 : fail(g, "not a number");
}

static int parse_string(struct gv *g, char sig, struct sd_value *out)
{
	char quote = *g->p++;
	char *buf = xmalloc(strlen(g->p) + 1);
	size_t n = 0;

	while (*g->p && *g->p != quote) {
		char c = *g->p++;
		if (c == '\\') {
			c = *g->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'f':
				c = '\f';
				break;
			case 'b':
				c = '\b';
				break;
			case 'v':
				c = '\v';
				break;
			case '\0':
				free(buf);
				return fail(g, "unterminated string");
			default:
				break; /* \\ \' \" stand for themselves */
			}
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (*g->p != quote) {
		free(buf);
		return fail(g, "unterminated string");
	}
	g->p++;
	out->sig = xasprintf("%c", sig ? sig : 's');
	out->s = buf;
	return 0;
}

static int parse_value(struct gv *g, const char *want, struct sd_value *out);

/* want: the array's type ("as"), or NULL to take it from the first element. */
static int parse_array(struct gv *g, const char *want, struct sd_value *out)
{
	g->p++;
	out->sig = want ? xstrdup(want) : NULL;
	for (skip_ws(g); *g->p != ']'; skip_ws(g)) {
		struct sd_value item = {0};

		if (out->n && *g->p++ != ',')
			return fail(g, "expected ',' or ']' in an array");
		if (parse_value(g, out->sig ? out->sig + 1 : NULL, &item) < 0) {
			sd_value_free(&item);
			return -1;
		}
		if (out->sig == NULL)
			out->sig = xasprintf("a%s", item.sig);
		if (strcmp(out->sig + 1, item.sig) != 0) {
			sd_value_free(&item);
			return fail(g, "array elements of different types");
		}
		out->items = xrealloc(out->items, (out->n + 1) * sizeof(item));
		out->items[out->n++] = item;
		skip_ws(g);
	}
	g->p++;
	if (out->sig == NULL)
		return fail(g, "an empty array needs its type (@as [])");
	return 0;
}

static int parse_tuple(struct gv *g, struct sd_value *out)
{
	char *sig = xstrdup("(");

	g->p++;
	for (skip_ws(g); *g->p != ')'; skip_ws(g)) {
		struct sd_value item = {0};
		char *next;

		if (out->n && *g->p++ != ',')
			goto bad;
		if (parse_value(g, NULL, &item) < 0) {
			sd_value_free(&item);
			free(sig);
			return -1;
		}
		next = xasprintf("%s%s", sig, item.sig);
		free(sig);
		sig = next;
		out->items = xrealloc(out->items, (out->n + 1) * sizeof(item));
		out->items[out->n++] = item;
		skip_ws(g);
	}
	g->p++;
	out->sig = xasprintf("%s)", sig);
	free(sig);
	return 0;
bad:
	free(sig);
	return fail(g, "expected ',' or ')' in a tuple");
}

/* A type annotation after '@': one complete basic or array type. */
static int parse_type(struct gv *g, char **out)
{
	size_t n = 0;

	while (g->p[n] == 'a')
		n++;
	if (!strchr("ybnqiuxtdsog", g->p[n]) || g->p[n] == '\0')
		return fail(g, "unsupported type annotation");
	*out = strndup(g->p, n + 1);
	g->p += n + 1;
	return 0;
}

static int parse_value(struct gv *g, const char *want, struct sd_value *out)
{
	size_t n;

	skip_ws(g);
	if (*g->p == '@') {
		cleanup_free char *type = NULL;
		g->p++;
		if (parse_type(g, &type) < 0)
			return -1;
		if (want && strcmp(want, type) != 0)
			return fail(g, "type annotation differs from the array's");
		return parse_value(g, type, out);
	}
	if (*g->p == '[')
		return want && want[0] != 'a' ? fail(g, "unexpected array")
		                              : parse_array(g, want, out);
	if (*g->p == '(')
		return want ? fail(g, "unexpected tuple") : parse_tuple(g, out);
	if (*g->p == '\'' || *g->p == '"') {
		if (want && !strchr("sog", want[0]))
			return fail(g, "unexpected string");
		return parse_string(g, want ? want[0] : 's', out);
	}
	n = word_len(g->p);
	if ((n == 4 && strncmp(g->p, "true", 4) == 0) ||
	    (n == 5 && strncmp(g->p, "false", 5) == 0)) {
		if (want && want[0] != 'b')
			return fail(g, "unexpected boolean");
		out->sig = xstrdup("b");
		out->b = n == 4;
		g->p += n;
		return 0;
	}
	if (n == 10 && strncmp(g->p, "objectpath", 10) == 0) {
		g->p += n;
		skip_ws(g);
		if (*g->p != '\'' && *g->p != '"')
			return fail(g, "objectpath takes a quoted path");
		return parse_string(g, 'o', out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(number_types); i++) {
		if (n == strlen(number_types[i].word) &&
		    strncmp(g->p, number_types[i].word, n) == 0) {
			g->p += n;
			skip_ws(g);
			if (want && want[0] != number_types[i].sig)
				return fail(g, "type keyword differs from the array's");
			return parse_number(g, number_types[i].sig, out);
		}
	}
	if (want && !strchr("ynqiuxtd", want[0]))
		return fail(g, "unexpected number");
	return parse_number(g, want ? want[0] : '\0', out);
}

int sd_gvariant_parse(const char *text, struct sd_value *out, const char **why)
{
	struct gv g = {text, NULL};

	memset(out, 0, sizeof(*out));
	if (parse_value(&g, NULL, out) == 0) {
		skip_ws(&g);
		if (*g.p == '\0')
			return 0;
		fail(&g, "trailing text after the value");
	}
	sd_value_free(out);
	*why = g.err ? g.err : "not a GVariant value";
	return -1;
}
