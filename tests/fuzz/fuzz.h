/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every libFuzzer target in tests/fuzz checks besides memory safety:
 * a refusal explains itself in one line, as skiff prints it.
 */
#ifndef SKIFF_FUZZ_H
#define SKIFF_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/libskiff/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parser's message: set, and one line. */
static inline void fuzz_check_message(const char *msg)
{
	if (msg == NULL || *msg == '\0' || strchr(msg, '\n') != NULL)
		abort();
}

/* A skiff error: set, one line; then freed. */
static inline void fuzz_check_error(struct skiff_error **err)
{
	if (*err == NULL)
		abort();
	fuzz_check_message((*err)->msg);
	error_free(err);
}

#endif
