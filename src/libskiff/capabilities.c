/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/capability.h>

#include "capabilities.h"
#include "log.h"
#include "utils.h"

/* In the kernel's order (CAP_CHOWN is 0): a name's position is its number. */
/* clang-format off */
#define CAPS(X) \
	X(CAP_CHOWN) X(CAP_DAC_OVERRIDE) X(CAP_DAC_READ_SEARCH) X(CAP_FOWNER) \
	X(CAP_FSETID) X(CAP_KILL) X(CAP_SETGID) X(CAP_SETUID) X(CAP_SETPCAP) \
	X(CAP_LINUX_IMMUTABLE) X(CAP_NET_BIND_SERVICE) X(CAP_NET_BROADCAST) \
	X(CAP_NET_ADMIN) X(CAP_NET_RAW) X(CAP_IPC_LOCK) X(CAP_IPC_OWNER) \
	X(CAP_SYS_MODULE) X(CAP_SYS_RAWIO) X(CAP_SYS_CHROOT) X(CAP_SYS_PTRACE) \
	X(CAP_SYS_PACCT) X(CAP_SYS_ADMIN) X(CAP_SYS_BOOT) X(CAP_SYS_NICE) \
	X(CAP_SYS_RESOURCE) X(CAP_SYS_TIME) X(CAP_SYS_TTY_CONFIG) X(CAP_MKNOD) \
	X(CAP_LEASE) X(CAP_AUDIT_WRITE) X(CAP_AUDIT_CONTROL) X(CAP_SETFCAP) \
	X(CAP_MAC_OVERRIDE) X(CAP_MAC_ADMIN) X(CAP_SYSLOG) X(CAP_WAKE_ALARM) \
	X(CAP_BLOCK_SUSPEND) X(CAP_AUDIT_READ) X(CAP_PERFMON) X(CAP_BPF) \
	X(CAP_CHECKPOINT_RESTORE)
/* clang-format on */

static const char cap_names[] = CAPS(NAME_STR);
NAMES_NUMBERED(CAPS, 0);

int capability_from_name(const char *name)
{
	return name_index(cap_names, name);
}

const char *capability_to_name(int cap)
{
	return name_at(cap_names, cap);
}

int capability_table_last(void)
{
	int last = 0;

	while (name_at(cap_names, last + 1))
		last++;
	return last;
}

/*
 * PR_CAPBSET_READ fails with EINVAL past the kernel's last capability: a
 * binary search takes six calls, less than a read of
 * /proc/sys/kernel/cap_last_cap.  -1 when the call fails otherwise.
 */
static int search_last_cap(void)
{
	int lo = 0, hi = 63;

	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;

		if (prctl(PR_CAPBSET_READ, (unsigned long)mid, 0, 0, 0) >= 0)
			lo = mid;
		else if (errno == EINVAL)
			hi = mid - 1;
		else
			return -1;
	}
	return lo;
}

static int probe_last_cap(void)
{
	int cap = 0;

	/* PR_CAPBSET_READ fails with EINVAL past the kernel's last capability. */
	while (cap < 63 && prctl(PR_CAPBSET_READ, (unsigned long)cap + 1, 0, 0, 0) >= 0)
		cap++;
	return cap;
}

int capability_last_cap(void)
{
	static int last = -1;
	cleanup_free char *text = NULL;
	long long v;

	if (last >= 0)
		return last;
	last = search_last_cap();
	if (last >= 0)
		return last;
	if (read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) == 0) {
		text[strcspn(text, "\n")] = '\0';
		if (parse_int64(text, &v) == 0 && v >= 0 && v <= 63)
			last = (int)v;
	}
	if (last < 0)
		last = probe_last_cap();
	return last;
}

int capability_mask(char *const *names, const char *field, uint64_t *mask, struct skiff_error **err)
{
	int last = capability_last_cap();

	*mask = 0;
	for (size_t i = 0; names && names[i]; i++) {
		int cap = capability_from_name(names[i]);
		if (cap < 0)
			continue; /* process_validate() warned about it */
		if (cap > last) {
			log_debug("%s: skipping %s: unknown to the running kernel", field,
			          names[i]);
			continue;
		}
		*mask |= UINT64_C(1) << cap;
	}
	return 0;
}
