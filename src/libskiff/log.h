/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

#include <stdbool.h>
#include "error.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/*
 * containerd and conmon read the --log file to build the error their
 * users see, so with --log-format json every error and warning becomes a
 * record {"level":..,"msg":..,"time":..} there.  stderr always gets the
 * plain line as well.
 */
int log_init(const char *path, const char *format, bool debug, struct skiff_error **err);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...)   log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
/* Reports a failed command: one line on stderr, one record in the log. */
void log_error(const struct skiff_error *err);
/* Closes the log fd (children that exec must not inherit it). */
int log_fd(void);

#endif
