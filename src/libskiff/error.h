/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_ERROR_H
#define SKIFF_ERROR_H

/*
 * One error shape for all of skiff: a function that can fail takes
 * `struct skiff_error **err`, returns a negative number, and leaves a
 * message that names the object and the failing call.  Callers add
 * context with error_wrap() as the error travels up.
 */
struct skiff_error {
	int errnum; /* errno of the failing call, 0 when none */
	char *msg;
};

/* Sets *err (if no error is set yet) and returns -1. */
int error_set(struct skiff_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with no errno: for ~300 callers, each spared passing a 0. */
int error_msg(struct skiff_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Same, with the errno of the moment of the call (read inside, so that the
 * ~300 callers do not each fetch it: a smaller binary).
 */
int error_set_errno(struct skiff_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define error_errno(err, ...) error_set_errno((err), __VA_ARGS__)
/* Prefixes "<context>: " to the message; returns -1. */
int error_wrap(struct skiff_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The full message: "<msg>: <strerror>" when errnum is set. Caller frees. */
char *error_text(const struct skiff_error *err);
void error_free(struct skiff_error **err);

#endif
