/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utils.h"

static int log_file = -1;
static bool log_json;
/* Where debug records go: the --log file, or a copy of the caller's stderr. */
static int debug_fd = -1;
bool log_debug_enabled;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int log_init(const char *path, const char *format, bool debug, struct skiff_error **err)
{
	if (format == NULL || strcmp(format, "text") == 0)
		log_json = false;
	else if (strcmp(format, "json") == 0)
		log_json = true;
	else
		return error_msg(err, "--log-format: unknown format `%s` (expected text or json)",
		                 format);
	if (path && *path) {
		log_file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_file < 0)
			return error_errno(err, "--log: open `%s`", path);
	}
	if (debug) {
		/*
		 * A copy, so that records still reach the caller when the init has
		 * put the container's pty on fd 2; CLOEXEC, so no container process
		 * inherits it.
		 */
		debug_fd = log_file >= 0 ? log_file : fcntl(2, F_DUPFD_CLOEXEC, 3);
		log_debug_enabled = debug_fd >= 0;
	}
	return 0;
}

void log_debug_stop(void)
{
	if (debug_fd >= 0 && debug_fd != log_file)
		close(debug_fd);
	debug_fd = -1;
	log_debug_enabled = false;
}

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void write_record(int fd, enum log_level level, const char *msg)
{
	char stamp[64];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	rfc3339_utc_now(stamp, sizeof(stamp));
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return;
	if (log_json) {
		fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level_names[level]);
		json_escape(f, msg);
		fprintf(f, "\",\"time\":\"%s\"}\n", stamp);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=\"", stamp, level_names[level]);
		json_escape(f, msg);
		fputs("\"\n", f);
	}
	fclose(f);
	/* One write per record: O_APPEND keeps concurrent writers' records whole. */
	if (write_all(fd, buf, len) < 0) {
		/* nothing better to do than drop it */
	}
	free(buf);
}

/*
 * A record in the --log file and a plain line on stderr for people; without
 * --log, JSON records go to stderr instead of the line (runc does the same),
 * so a caller that asked for JSON can parse what it reads.
 */
static void emit(enum log_level level, const char *msg)
{
	if (log_file >= 0) {
		write_record(log_file, level, msg);
	} else if (log_json) {
		write_record(2, level, msg);
		return;
	}
	if (log_file < 0 || level <= LOG_LEVEL_WARNING)
		fprintf(stderr, "skiff: %s%s\n", level == LOG_LEVEL_WARNING ? "warning: " : "",
		        msg);
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	cleanup_free char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		oom();
	if (level == LOG_LEVEL_DEBUG)
		write_record(debug_fd, level, msg);
	else
		emit(level, msg);
}

void log_debug_msg(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_enabled)
		return;
	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void log_error(const struct skiff_error *err)
{
	cleanup_free char *text = error_text(err);

	emit(LOG_LEVEL_ERROR, text);
}
