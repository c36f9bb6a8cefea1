/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Broken config.json documents must fail with one exact line naming the
 * JSON path.  Each case is a file in tests/unit/corpus/ and a line
 * "<file><TAB><expected error>" in tests/unit/corpus/EXPECTED.  A few
 * inputs too large or too odd for a file are built here in memory.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libocispec/runtime_spec.h"
#include "tap.h"

#define CORPUS OCISPEC_SRCDIR "/tests/unit/corpus/"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 > cap) {
			cap = (n + 4096) * 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void expect_error(const char *what, const char *data, size_t len, const char *want)
{
	char *err = NULL;
	struct oci_config *c = oci_config_parse_data(data, len, "config.json", &err);

	ok(c == NULL, "%s: rejected", what);
	ok_str(err, want, "%s: error text", what);
	oci_config_free(c);
	free(err);
}

static void run_corpus(void)
{
	char *list, *line, *save = NULL;
	size_t len, cases = 0;

	list = slurp(CORPUS "EXPECTED", &len);
	ok(list != NULL, "corpus list " CORPUS "EXPECTED readable");
	if (list == NULL)
		return;
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), path[4096], *data;

		if (line[0] == '#' || tab == NULL)
			continue;
		*tab = '\0';
		snprintf(path, sizeof(path), CORPUS "%s", line);
		data = slurp(path, &len);
		if (data == NULL) {
			ok(0, "%s: readable", line);
			continue;
		}
		expect_error(line, data, len, tab + 1);
		free(data);
		cases++;
	}
	ok(cases >= 60, "corpus has %zu cases", cases);
	free(list);
}

static char *repeat(const char *open, const char *middle, const char *close, size_t n, size_t *len)
{
	size_t lo = strlen(open), lm = strlen(middle), lc = strlen(close), i, o = 0;
	char *s = malloc(n * (lo + lc) + lm + 1);

	for (i = 0; i < n; i++, o += lo)
		memcpy(s + o, open, lo);
	memcpy(s + o, middle, lm);
	o += lm;
	for (i = 0; i < n; i++, o += lc)
		memcpy(s + o, close, lc);
	s[o] = '\0';
	*len = o;
	return s;
}

static void nesting(void)
{
	char *err = NULL, *s;
	struct oci_config *c;
	size_t len;

	/* 100000 levels of objects, well-formed: refused before yajl builds (and recursively frees)
	 * a tree */
	s = repeat("{\"a\":", "1", "}", 100000, &len);
	expect_error(
	    "100000 nested objects", s, len,
	    "config.json: invalid JSON: nested deeper than 64 levels at line 1, column 321");
	free(s);

	/* 1000000 unclosed arrays */
	s = repeat("[", "", "", 1000000, &len);
	expect_error(
	    "1000000 open arrays", s, len,
	    "config.json: invalid JSON: nested deeper than 64 levels at line 1, column 65");
	free(s);

	/* exactly the limit is fine (in an ignored field) */
	s = repeat("[", "", "]", 63, &len);
	{
		char *doc = NULL;

		if (asprintf(&doc, "{\"ociVersion\": \"1.0.0\", \"x\": %s}", s) < 0)
			abort();
		c = oci_config_parse_data(doc, strlen(doc), "config.json", &err);
		ok(c != NULL, "64 levels are accepted");
		ok_str(err, NULL, "64 levels: no error");
		oci_config_free(c);
		free(err);
		free(doc);
	}
	free(s);

	/* brackets in strings and comments do not count as nesting */
	s = repeat("[", "", "", 1000, &len);
	{
		char *doc = NULL;

		if (asprintf(
		        &doc,
		        "{\"ociVersion\": \"1.0.0\", /* [[[[{{{{\" */ \"hostname\": \"%s\\\"[\" "
		        "// {{{{[[[[\n}",
		        s) < 0)
			abort();
		err = NULL;
		c = oci_config_parse_data(doc, strlen(doc), "config.json", &err);
		ok(c != NULL, "brackets inside strings and comments are not nesting");
		ok_str(err, NULL, "brackets in strings: no error");
		ok(c && c->hostname && strlen(c->hostname) == 1002, "hostname kept whole");
		oci_config_free(c);
		free(err);
		free(doc);
	}
	free(s);
}

static void odd_inputs(void)
{
	static const char nul[] = "{\"ociVersion\": \"1.0.0\", \"hostname\": \"a\0b\"}";
	char *err = NULL;
	struct oci_config *c;

	expect_error("embedded NUL byte", nul, sizeof(nul) - 1,
	             "config.json: invalid JSON: NUL byte at line 1, column 39");
	expect_error("NULL data", NULL, 0, "config.json: invalid JSON: empty document");

	/* a document that stops right after a backslash in a string */
	expect_error(
	    "backslash at the end", "{\"a\": \"\\", 8,
	    "config.json: invalid JSON: lexical error: inside a string, '\\' occurs before a "
	    "character which it may not at line 1, column 9");

	/* data need not be NUL-terminated: only len bytes are read */
	c = oci_config_parse_data("{\"ociVersion\": \"1.0.0\"}garbage", 23, "config.json", &err);
	ok(c != NULL && err == NULL, "only len bytes are parsed");
	oci_config_free(c);
	free(err);
}

int main(void)
{
	run_corpus();
	nesting();
	odd_inputs();
	done_testing();
}
