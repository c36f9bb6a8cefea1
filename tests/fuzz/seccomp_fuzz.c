/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for seccomp profile translation: the input is a
 * linux.seccomp object, parsed as part of a config and compiled to BPF with
 * libseccomp as create does (nothing is loaded); a bad profile is refused in
 * one line.  Built and run by tests/fuzz/run.sh.
 */
#include <config.h>

#include "fuzz.h"
#include "libocispec/runtime_spec.h"
#include "src/libskiff/seccomp.h"

static const char head[] = "{\"ociVersion\":\"1.2.0\",\"linux\":{\"seccomp\":";
static const char tail[] = "}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skiff_error *err = NULL;
	struct seccomp_program *prog = NULL;
	struct oci_config *c;
	char *text, *perr = NULL;
	size_t len = sizeof(head) - 1 + size + sizeof(tail) - 1;

	text = malloc(len);
	if (text == NULL)
		return 0;
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + sizeof(head) - 1, data, size);
	memcpy(text + sizeof(head) - 1 + size, tail, sizeof(tail) - 1);
	c = oci_config_parse_data(text, len, "config.json", &perr);
	free(text);
	if (c == NULL) {
		fuzz_check_message(perr);
		free(perr);
		return 0;
	}
	if (c->linux_ && c->linux_->seccomp) {
		if (seccomp_compile(c->linux_->seccomp, &prog, &err) < 0)
			fuzz_check_error(&err);
		else
			seccomp_program_free(prog);
	}
	oci_config_free(c);
	return 0;
}
