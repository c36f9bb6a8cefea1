/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for libocispec's config.json parser: parse, and when
 * that succeeds, generate, re-parse (which must succeed: generation only
 * writes what parsing accepts) and free.  Built and run by tests/fuzz/run.sh
 * (`tests/fuzz/run.sh 60 config` fuzzes only this target for 60 s).
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
