/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for a container's state.json as skiff reads it back
 * (status_parse): anything in the file, written by a crashed or older skiff
 * or by hand, must be refused in one line or give a state that `skiff state`
 * can print as runtime-spec state JSON.  skiff writes the file from strings
 * it parsed as valid UTF-8: for input that is not, only memory safety and the
 * one-line refusal are checked.  Built and run by tests/fuzz/run.sh.
 */
#include <config.h>

#include <stdbool.h>

#include "fuzz.h"
#include "libocispec/runtime_spec.h"
#include "src/libskiff/status.h"

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t len = c < 0x80             ? 1
		             : (c & 0xe0) == 0xc0 ? 2
		             : (c & 0xf0) == 0xe0 ? 3
		             : (c & 0xf8) == 0xf0 ? 4
		                                  : 0;
		uint32_t cp;

		if (len == 0 || i + len > n)
			return false;
		cp = len == 1 ? c : c & (0xff >> (len + 1));
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skiff_error *err = NULL;
	struct container_status st;
	struct oci_state *back;
	char *text = malloc(size + 1), *json, *perr = NULL;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (status_parse("fuzz", text, &st, &err) < 0) {
		fuzz_check_error(&err);
		free(text);
		return 0;
	}
	json = status_spec_json(&st, STATE_RUNNING, false, &err);
	if (json == NULL)
		abort();
	/* What `skiff state` prints parses as a runtime-spec state. */
	if (valid_utf8(data, size) && memchr(data, '\0', size) == NULL) {
		back = oci_state_parse_data(json, strlen(json), "state", &perr);
		if (back == NULL)
			abort();
		oci_state_free(back);
	}
	free(json);
	status_free(&st);
	free(text);
	return 0;
}
