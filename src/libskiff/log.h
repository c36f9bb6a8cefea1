/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

#include <stdbool.h>
#include "error.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/*
 * containerd and conmon read the --log file to build the error their
 * users see, so with --log-format json every error and warning becomes a
 * record {"level":..,"msg":..,"time":..} there, and stderr gets the plain
 * line as well; without --log, stderr gets the plain line (text) or the
 * JSON record (json), as runc's.
 *
 * With --debug each step adds a debug record (text: time=.. level=debug
 * msg=..; or JSON) to the --log file, or to stderr without one.
 */
int log_init(const char *path, const char *format, bool debug, struct skiff_error **err);
/* Off (the default), a debug record costs one test: its arguments are not evaluated. */
extern bool log_debug_enabled;
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_debug_enabled)                                                             \
			log_debug_msg(__VA_ARGS__);                                                \
	} while (0)
/* One function a level: ~70 callers each spared passing it. */
void log_debug_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a failed command: one line on stderr, one record in the log. */
void log_error(const struct skiff_error *err);
/*
 * Ends debug records in a process that outlives skiff's command (the init
 * once create has returned): it must not hold the caller's stderr open.
 */
void log_debug_stop(void);

#endif
