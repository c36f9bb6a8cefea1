/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for skiff's C unit tests (read by tests/runner.py). */
#ifndef SKIFF_TAP_H
#define SKIFF_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                              \
	do {                                                                                       \
		int _c = !!(cond);                                                                 \
		printf("%sok %d - ", _c ? "" : "not ", ++tap_n);                                   \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!_c) {                                                                         \
			tap_failed++;                                                              \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
		}                                                                                  \
	} while (0)

/* Compares two strings (either may be NULL) and shows both on failure. */
#define ok_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *_g = (got), *_w = (want);                                              \
		int _same = (_g == NULL && _w == NULL) || (_g && _w && strcmp(_g, _w) == 0);       \
		ok(_same, __VA_ARGS__);                                                            \
		if (!_same)                                                                        \
			printf("#   got:  %s\n#   want: %s\n", _g ? _g : "(null)",                 \
			       _w ? _w : "(null)");                                                \
	} while (0)

#define skip(reason, ...)                                                                          \
	do {                                                                                       \
		printf("ok %d - ", ++tap_n);                                                       \
		printf(__VA_ARGS__);                                                               \
		printf(" # SKIP %s\n", reason);                                                    \
	} while (0)

/* Ends the program: prints the plan, exits non-zero on any failure. */
#define done_testing()                                                                             \
	do {                                                                                       \
		printf("1..%d\n", tap_n);                                                          \
		return tap_failed ? 1 : 0;                                                         \
	} while (0)

#endif
