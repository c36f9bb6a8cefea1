/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "utils.h"

/*
 * An error is printed as one line, and messages quote what callers gave
 * (config strings, file contents): control characters become \n, \t or \xNN.
 */
static char *one_line(char *msg)
{
	size_t extra = 0;
	char *out, *o;

	for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			extra += 3;
	if (extra == 0)
		return msg;
	o = out = xcalloc(1, strlen(msg) + extra + 1);
	for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
		if (*c == '\n')
			o += sprintf(o, "\\n");
		else if (*c == '\t')
			o += sprintf(o, "\\t");
		else if (*c < 0x20 || *c == 0x7f)
			o += sprintf(o, "\\x%02x", *c);
		else
			*o++ = (char)*c;
	}
	free(msg);
	return out;
}

static int error_vset(struct skiff_error **err, int errnum, const char *fmt, va_list ap)
{
	if (err == NULL || *err != NULL)
		return -1;
	*err = xcalloc(1, sizeof(**err));
	(*err)->errnum = errnum;
	if (vasprintf(&(*err)->msg, fmt, ap) < 0)
		oom();
	(*err)->msg = one_line((*err)->msg);
	return -1;
}

int error_set(struct skiff_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int error_msg(struct skiff_error **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int error_set_errno(struct skiff_error **err, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int error_wrap(struct skiff_error **err, const char *fmt, ...)
{
	cleanup_free char *prefix = NULL;
	char *msg;
	va_list ap;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		oom();
	va_end(ap);
	prefix = one_line(prefix);
	msg = xasprintf("%s: %s", prefix, (*err)->msg);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

char *error_text(const struct skiff_error *err)
{
	if (err->errnum)
		return xasprintf("%s: %s", err->msg, strerror(err->errnum));
	return xstrdup(err->msg);
}

void error_free(struct skiff_error **err)
{
	if (*err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}
