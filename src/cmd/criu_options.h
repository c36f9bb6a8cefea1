/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CRIU_OPTIONS_H
#define SKIFF_CRIU_OPTIONS_H

#include "../cli.h"
#include "libskiff/criu.h"

/* The options checkpoint and restore share (runc's), and their parser. */
enum {
	CO_IMAGE_PATH = 200,
	CO_WORK_PATH,
	CO_PARENT_PATH,
	CO_PAGE_SERVER,
	CO_MANAGE_CGROUPS_MODE,
	CO_EMPTY_NS,
	CO_LEAVE_RUNNING,
	CO_TCP_ESTABLISHED,
	CO_TCP_SKIP_IN_FLIGHT,
	CO_LINK_REMAP,
	CO_EXT_UNIX_SK,
	CO_SHELL_JOB,
	CO_FILE_LOCKS,
	CO_PRE_DUMP,
	CO_AUTO_DEDUP,
	CO_LAZY_PAGES,
	CO_STATUS_FD,
	CO_LSM_PROFILE,
	CO_LSM_MOUNT_CONTEXT,
};

#define CRIU_COMMON_OPTIONS                                                                        \
	CLI_OPT("image-path", 0, true, CO_IMAGE_PATH,                                              \
	        "criu image directory (default: ./checkpoint)"),                                   \
	    CLI_OPT("work-path", 0, true, CO_WORK_PATH,                                            \
	            "criu work files and logs (default: image path)"),                             \
	    CLI_OPT("tcp-established", 0, false, CO_TCP_ESTABLISHED,                               \
	            "allow open TCP connections"),                                                 \
	    CLI_OPT("ext-unix-sk", 0, false, CO_EXT_UNIX_SK, "allow external unix sockets"),       \
	    CLI_OPT("shell-job", 0, false, CO_SHELL_JOB,                                           \
	            "allow shell jobs (a terminal from outside)"),                                 \
	    CLI_OPT("file-locks", 0, false, CO_FILE_LOCKS, "handle file locks"),                   \
	    CLI_OPT("manage-cgroups-mode", 0, true, CO_MANAGE_CGROUPS_MODE,                        \
	            "soft, full, strict or ignore (default: soft)"),                               \
	    CLI_OPT("empty-ns", 0, true, CO_EMPTY_NS,                                              \
	            "network: make the namespace, restore none of its contents"),                  \
	    CLI_OPT("auto-dedup", 0, false, CO_AUTO_DEDUP, "deduplicate memory images"),           \
	    CLI_OPT("lazy-pages", 0, false, CO_LAZY_PAGES,                                         \
	            "memory pages move lazily, through userfaultfd and a page server")

int criu_option(void *data, int id, const char *value, struct skiff_error **err);

#endif
