/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <limits.h>
#include "criu_options.h"

int criu_option(void *data, int id, const char *value, struct skiff_error **err)
{
	struct criu_options *o = data;

	switch (id) {
	case CO_IMAGE_PATH:
		o->image_path = value;
		return 0;
	case CO_WORK_PATH:
		o->work_path = value;
		return 0;
	case CO_PARENT_PATH:
		o->parent_path = value;
		return 0;
	case CO_PAGE_SERVER:
		o->page_server = value;
		return 0;
	case CO_MANAGE_CGROUPS_MODE:
		o->manage_cgroups_mode = value;
		return 0;
	case CO_EMPTY_NS:
		o->empty_ns = value;
		return 0;
	case CO_LEAVE_RUNNING:
		return cli_bool(value, &o->leave_running, "leave-running", err);
	case CO_TCP_ESTABLISHED:
		return cli_bool(value, &o->tcp_established, "tcp-established", err);
	case CO_TCP_SKIP_IN_FLIGHT:
		return cli_bool(value, &o->tcp_skip_in_flight, "tcp-skip-in-flight", err);
	case CO_LINK_REMAP:
		return cli_bool(value, &o->link_remap, "link-remap", err);
	case CO_EXT_UNIX_SK:
		return cli_bool(value, &o->ext_unix_sk, "ext-unix-sk", err);
	case CO_SHELL_JOB:
		return cli_bool(value, &o->shell_job, "shell-job", err);
	case CO_FILE_LOCKS:
		return cli_bool(value, &o->file_locks, "file-locks", err);
	case CO_PRE_DUMP:
		return cli_bool(value, &o->pre_dump, "pre-dump", err);
	case CO_AUTO_DEDUP:
		return cli_bool(value, &o->auto_dedup, "auto-dedup", err);
	case CO_LAZY_PAGES:
		return cli_bool(value, &o->lazy_pages, "lazy-pages", err);
	case CO_STATUS_FD: {
		unsigned long long fd;
		if (cli_uint(value, &fd, "status-fd", err) < 0)
			return -1;
		if (fd > INT_MAX)
			return error_msg(err, "--status-fd: `%s`: not a file descriptor", value);
		o->status_fd = (int)fd;
		o->status_fd_set = true;
		return 0;
	}
	case CO_LSM_PROFILE:
		o->lsm_profile = value;
		return 0;
	case CO_LSM_MOUNT_CONTEXT:
		o->lsm_mount_context = value;
		return 0;
	}
	return 0;
}
