/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for `skiff update --resources FILE`: the resources JSON is
 * parsed as update parses it, then turned into the cgroup v2 writes and the
 * device program, as create and update do; each step refuses in one line.
 * Built and run by tests/fuzz/run.sh.
 */
#include <config.h>

#include "fuzz.h"
#include "libocispec/runtime_spec.h"
#include "src/libskiff/cgroup_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skiff_error *err = NULL;
	struct cgroup_plan plan;
	struct cgroup_bpf_prog prog;
	struct oci_resources *r;
	char *perr = NULL;

	r = oci_resources_parse_data((const char *)data, size, "", &perr);
	if (r == NULL) {
		fuzz_check_message(perr);
		free(perr);
		return 0;
	}
	if (cgroup_plan_resources(r, &plan, &err) < 0)
		fuzz_check_error(&err);
	else
		cgroup_plan_free(&plan);
	if (cgroup_devices_compile(r->devices, r->devices_len, true, &prog, &err) < 0)
		fuzz_check_error(&err);
	else
		cgroup_bpf_prog_free(&prog);
	oci_resources_free(r);
	return 0;
}
