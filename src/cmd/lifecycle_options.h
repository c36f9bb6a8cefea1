/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_LIFECYCLE_OPTIONS_H
#define SKIFF_LIFECYCLE_OPTIONS_H

#include "../cli.h"
#include "libskiff/container.h"

/* The options create and run share (runc's), and their parser. */
enum {
	LO_BUNDLE = 100,
	LO_PID_FILE,
	LO_CONSOLE_SOCKET,
	LO_PRESERVE_FDS,
	LO_NO_PIVOT,
	LO_NO_NEW_KEYRING,
	LO_DETACH,
	LO_NO_SUBREAPER,
	LO_KEEP,
	LO_CONFIG, /* the last: restore.c passes LO_BUNDLE..LO_CONFIG on */
};

#define LIFECYCLE_OPTIONS                                                                          \
	CLI_OPT("bundle", 'b', true, LO_BUNDLE,                                                    \
	        "bundle directory (default: the current directory)"),                              \
	    CLI_OPT("pid-file", 0, true, LO_PID_FILE, "write the init's pid to this file"),        \
	    CLI_OPT("console-socket", 0, true, LO_CONSOLE_SOCKET,                                  \
	            "unix socket that receives the pty master (process.terminal)"),                \
	    CLI_OPT("preserve-fds", 0, true, LO_PRESERVE_FDS,                                      \
	            "pass fds 3..3+N-1 to the container"),                                         \
	    CLI_OPT("no-pivot", 0, false, LO_NO_PIVOT,                                             \
	            "use chroot instead of pivot_root (ramfs)"),                                   \
	    CLI_OPT("config", 'f', true, LO_CONFIG,                                                \
	            "read FILE instead of the bundle's config.json"),                              \
	    CLI_OPT("no-new-keyring", 0, false, LO_NO_NEW_KEYRING,                                 \
	            "keep the caller's session keyring")

struct lifecycle_args {
	struct create_options o;
	bool detach;
};

int lifecycle_option(void *data, int id, const char *value, struct skiff_error **err);

#endif
