/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for `skiff exec --process FILE`: the process JSON is
 * parsed as exec parses it, then validated as every process is; both refuse
 * in one line.  What parses must generate and parse back.  Built and run by
 * tests/fuzz/run.sh.
 */
#include <config.h>

#include "fuzz.h"
#include "libocispec/runtime_spec.h"
#include "src/libskiff/process.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skiff_error *err = NULL;
	struct oci_process *p, *again;
	char *perr = NULL, *json;

	p = oci_process_parse_data((const char *)data, size, "process", &perr);
	if (p == NULL) {
		fuzz_check_message(perr);
		free(perr);
		return 0;
	}
	if (process_validate(p, &err) < 0)
		fuzz_check_error(&err);
	json = oci_process_generate(p, &perr);
	if (json == NULL)
		abort();
	again = oci_process_parse_data(json, strlen(json), "process", &perr);
	if (again == NULL)
		abort();
	oci_process_free(again);
	free(json);
	oci_process_free(p);
	return 0;
}
