/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for libocispec's config.json parser: parse, and when
 * that succeeds, generate, re-parse (which must succeed: generation only
 * writes what parsing accepts) and free.  Not part of the autotools build.
 *
 * Build and run, from a configured tree (for config.h):
 *
 *   cd /work/main && ./configure && \
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DHAVE_CONFIG_H -I. \
 *       tests/fuzz/config_fuzz.c libocispec/json_walk.c libocispec/json_gen.c \
 *       libocispec/json_equal.c \
 *       libocispec/json_doc.c libocispec/config_tables.c libocispec/config.c \
 *       libocispec/state.c libocispec/features.c $(pkg-config --cflags --libs yajl) \
 *       -o /tmp/config_fuzz
 *   cp -r tests/unit/corpus /tmp/fuzz-corpus && rm /tmp/fuzz-corpus/EXPECTED && \
 *   cp tests/unit/ocispec_full_config.json /tmp/fuzz-corpus/
 *   /tmp/config_fuzz -max_len=65536 -timeout=10 /tmp/fuzz-corpus
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libocispec/runtime_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_config *c, *again;
	char *err = NULL, *json;

	c = oci_config_parse_data((const char *)data, size, "config.json", &err);
	if (c == NULL) {
		/* every failure must explain itself in one line */
		if (err == NULL || strchr(err, '\n') != NULL)
			abort();
		free(err);
		return 0;
	}
	json = oci_config_generate(c, &err);
	if (json == NULL)
		abort();
	again = oci_config_parse_data(json, strlen(json), "config.json", &err);
	if (again == NULL || !oci_config_equal(c, again))
		abort();
	oci_config_free(again);
	free(json);
	oci_config_free(c);
	return 0;
}
