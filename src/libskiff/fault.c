/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "utils.h"

#define CRASH_ENV     "SKIFF_DEBUG_CRASH_AT"
#define CALLER_PREFIX "caller:"

void fault_point(const char *step)
{
	static const char *want;
	static bool read_env;
	bool caller;

	if (!read_env) {
		want = getenv(CRASH_ENV);
		read_env = true;
	}
	if (want == NULL)
		return;
	caller = str_has_prefix(want, CALLER_PREFIX);
	if (strcmp(caller ? want + strlen(CALLER_PREFIX) : want, step) != 0)
		return;
	kill(caller ? getppid() : getpid(), SIGKILL);
}
