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

struct cap_name {
	const char *name;
	int value;
};

/* clang-format off */
#define CAP(c) {#c, c}
/* clang-format on */

/* Sorted by name (strcmp) for bsearch; the unit test checks the order. */
static const struct cap_name cap_names[] = {
    CAP(CAP_AUDIT_CONTROL),   CAP(CAP_AUDIT_READ),   CAP(CAP_AUDIT_WRITE),
    CAP(CAP_BLOCK_SUSPEND),   CAP(CAP_BPF),          CAP(CAP_CHECKPOINT_RESTORE),
    CAP(CAP_CHOWN),           CAP(CAP_DAC_OVERRIDE), CAP(CAP_DAC_READ_SEARCH),
    CAP(CAP_FOWNER),          CAP(CAP_FSETID),       CAP(CAP_IPC_LOCK),
    CAP(CAP_IPC_OWNER),       CAP(CAP_KILL),         CAP(CAP_LEASE),
    CAP(CAP_LINUX_IMMUTABLE), CAP(CAP_MAC_ADMIN),    CAP(CAP_MAC_OVERRIDE),
    CAP(CAP_MKNOD),           CAP(CAP_NET_ADMIN),    CAP(CAP_NET_BIND_SERVICE),
    CAP(CAP_NET_BROADCAST),   CAP(CAP_NET_RAW),      CAP(CAP_PERFMON),
    CAP(CAP_SETFCAP),         CAP(CAP_SETGID),       CAP(CAP_SETPCAP),
    CAP(CAP_SETUID),          CAP(CAP_SYSLOG),       CAP(CAP_SYS_ADMIN),
    CAP(CAP_SYS_BOOT),        CAP(CAP_SYS_CHROOT),   CAP(CAP_SYS_MODULE),
    CAP(CAP_SYS_NICE),        CAP(CAP_SYS_PACCT),    CAP(CAP_SYS_PTRACE),
    CAP(CAP_SYS_RAWIO),       CAP(CAP_SYS_RESOURCE), CAP(CAP_SYS_TIME),
    CAP(CAP_SYS_TTY_CONFIG),  CAP(CAP_WAKE_ALARM),
};

static int cap_name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cap_name *)elem)->name);
}

int capability_from_name(const char *name)
{
	const struct cap_name *c;

	if (name == NULL)
		return -1;
	c = bsearch(name, cap_names, ARRAY_SIZE(cap_names), sizeof(cap_names[0]), cap_name_cmp);
	return c ? c->value : -1;
}

const char *capability_to_name(int cap)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (cap_names[i].value == cap)
			return cap_names[i].name;
	return NULL;
}

int capability_table_last(void)
{
	int last = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (cap_names[i].value > last)
			last = cap_names[i].value;
	return last;
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
