/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole documents: the checks yajl's tree parser does not make, the tree
 * parse itself (with its message folded to one line), the walk into C
 * structs, and reading a file.
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "json_walk.h"

#define MAX_FILE_SIZE (64u << 20)

/*
 * Length of the well-formed UTF-8 sequence at s, or 0.  yajl's own check
 * only looks at the byte pattern, so it lets through overlong forms
 * ("\xc0\xaf" for "/", the classic path-check bypass), UTF-16 surrogates
 * and code points above U+10FFFF; RFC 3629 forbids all three.
 */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The value of the 4 hex digits at s, or -1. */
static long hex4(const char *s, size_t avail)
{
	long v = 0;
	size_t i;

	if (avail < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		int c = (unsigned char)s[i], lower = c | 0x20;

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (lower >= 'a' && lower <= 'f')
			v = v * 16 + (lower - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/*
 * A \u escape at s (just after the backslash, s[0] == 'u'): how many bytes
 * it spans, or 0 with *problem set.  yajl turns an unpaired surrogate into
 * "?" and stores "\u0000" as a string terminator, silently changing the
 * value ("/a\u0000/b" would read as "/a"); both are refused.  Malformed hex
 * is left for yajl to report.
 */
static size_t check_u_escape(const char *s, size_t avail, const char **problem)
{
	long hi = hex4(s + 1, avail - 1), lo;

	if (hi < 0)
		return 1;
	if (hi == 0) {
		*problem = "\\u0000 (NUL) in a string";
		return 0;
	}
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		*problem = "unpaired UTF-16 surrogate in a \\u escape";
		return 0;
	}
	if (hi < 0xd800 || hi > 0xdbff)
		return 5;
	lo = avail >= 7 && s[5] == '\\' && s[6] == 'u' ? hex4(s + 7, avail - 7) : -1;
	if (lo < 0xdc00 || lo > 0xdfff) {
		*problem = "unpaired UTF-16 surrogate in a \\u escape";
		return 0;
	}
	return 11;
}

/*
 * A pass over the raw text before yajl sees it, for what yajl's tree does
 * not guard against:
 *  - nesting depth: yajl_tree_free() recurses once per level, so a
 *    document of 100000 `[` would exhaust the stack when freed;
 *  - a NUL byte: yajl_tree_parse() takes a C string and would silently
 *    stop reading there;
 *  - UTF-8 that is not well-formed, and \u escapes yajl would alter.
 * It tracks strings and the comments yajl_tree_parse() accepts so that a
 * bracket inside either is not counted.  Any other syntax error is left to
 * yajl.
 */
static const char *prescan(const char *s, size_t len, size_t *at)
{
	const char *problem = NULL;
	size_t i, n, depth = 0;
	bool in_string = false;

	for (i = 0; i < len; i++) {
		char c = s[i];

		*at = i;
		if (c == '\0')
			return "NUL byte";
		if ((unsigned char)c >= 0x80) {
			n = utf8_len((const unsigned char *)s + i, len - i);
			if (n == 0)
				return "invalid UTF-8";
			i += n - 1;
			continue;
		}
		if (in_string) {
			if (c == '"') {
				in_string = false;
			} else if (c == '\\' && i + 1 < len && s[i + 1] == 'u') {
				n = check_u_escape(s + i + 1, len - i - 1, &problem);
				if (n == 0)
					return problem;
				i += n;
			} else if (c == '\\') {
				i++;
			}
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > JW_MAX_DEPTH)
				return "nested deeper than " JW_STR(JW_MAX_DEPTH) " levels";
		} else if (c == ']' || c == '}') {
			if (depth > 0)
				depth--;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			const char *end = memmem(s + i + 2, len - i - 2, "*/", 2);

			i = end ? (size_t)(end - s) + 1 : len;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '/') {
			const char *end = memchr(s + i, '\n', len - i);

			i = end ? (size_t)(end - s) : len;
		}
	}
	return NULL;
}

static bool blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* Where yajl stopped: re-run a validating parse, which (unlike the tree API) reports it. */
static size_t yajl_error_offset(const char *text, size_t len)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	size_t off = len;

	if (h == NULL)
		return len;
	yajl_config(h, yajl_allow_comments, 1); /* as yajl_tree_parse() does */
	if (yajl_parse(h, (const unsigned char *)text, len) != yajl_status_ok)
		off = yajl_get_bytes_consumed(h);
	yajl_free(h);
	return off > len ? len : off;
}

/* "at line 3, column 14", counting bytes from 1, for a human with an editor */
static void locate(const char *text, size_t off, size_t *line, size_t *col)
{
	size_t i, last_nl = 0;

	*line = 1;
	for (i = 0; i < off; i++)
		if (text[i] == '\n') {
			(*line)++;
			last_nl = i + 1;
		}
	*col = off - last_nl + 1;
}

/*
 * yajl's verbose message is three lines: the error, ~30 bytes of text and
 * an arrow.  Keep the first line and replace the rest by a line and column:
 * "parse error: premature EOF at line 1, column 25".
 */
static int fail_syntax(struct jw_ctx *ctx, const char *msg, const char *text, size_t off)
{
	size_t n = strcspn(msg, "\n"), line, col;

	while (n > 0 && (msg[n - 1] == '.' || msg[n - 1] == ' '))
		n--;
	locate(text, off, &line, &col);
	return jw_fail(ctx, "invalid JSON: %.*s at line %zu, column %zu", (int)n, msg, line, col);
}

static yajl_val parse_tree(struct jw_ctx *ctx, const char *data, size_t len)
{
	char errbuf[1024] = "";
	const char *problem;
	yajl_val tree;
	size_t at = 0;
	char *text;

	if (blank(data, len)) {
		jw_fail(ctx, "invalid JSON: empty document");
		return NULL;
	}
	problem = prescan(data, len, &at);
	if (problem) {
		fail_syntax(ctx, problem, data, at);
		return NULL;
	}
	text = malloc(len + 1);
	if (text == NULL) {
		jw_fail(ctx, "out of memory");
		return NULL;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	/* yajl validates UTF-8 in strings by default (yajl_dont_validate_strings is off) */
	tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (tree == NULL)
		fail_syntax(ctx, errbuf[0] ? errbuf : "unknown error", text,
		            yajl_error_offset(text, len));
	free(text);
	return tree;
}

static const char *type_name(yajl_val v)
{
	if (YAJL_IS_ARRAY(v))
		return "an array";
	if (YAJL_IS_STRING(v))
		return "a string";
	if (YAJL_IS_NUMBER(v))
		return "a number";
	if (YAJL_IS_NULL(v))
		return "null";
	return "a boolean";
}

void *jw_parse_document(const struct jw_struct *st, const char *data, size_t len, const char *name,
                        char **err)
{
	struct jw_ctx ctx = {.name = name ? name : "document"};
	yajl_val tree;
	void *out = NULL;

	*err = NULL;
	tree = data ? parse_tree(&ctx, data, len) : NULL;
	if (data == NULL)
		jw_fail(&ctx, "invalid JSON: empty document");
	if (tree && !YAJL_IS_OBJECT(tree)) {
		jw_fail(&ctx, "expected a JSON object at the top level, got %s", type_name(tree));
	} else if (tree) {
		out = calloc(1, st->size);
		if (out == NULL) {
			jw_fail(&ctx, "out of memory");
		} else if (jw_parse_struct(&ctx, st, tree, out) < 0) {
			jw_free_document(st, out);
			out = NULL;
		}
	}
	yajl_tree_free(tree);
	free(ctx.path);
	*err = ctx.err;
	return out;
}

char *jw_read_file(const char *path, const char *name, size_t *len, char **err)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	int fd, saved;

	*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		if (asprintf(err, "%s: open %s: %s", name, path, strerror(saved)) < 0)
			*err = NULL;
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap || buf == NULL) {
			char *p = n + 1 >= cap ? realloc(buf, cap *= 2) : malloc(cap);

			if (p == NULL) {
				saved = ENOMEM;
				goto fail;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			saved = errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > MAX_FILE_SIZE) {
			saved = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	if (asprintf(err, "%s: read %s: %s", name, path, strerror(saved)) < 0)
		*err = NULL;
	return NULL;
}
