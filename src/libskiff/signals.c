/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signals.h"
#include "utils.h"

/* 8 bytes an entry, the name inside: no pointer to relocate and keep. */
struct sig_name {
	char name[7];
	unsigned char num;
};

/* Sorted by name for bsearch. */
static const struct sig_name signals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

static int cmp_name(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct sig_name *)elem)->name);
}

static int parse_number(const char *s)
{
	long long v;
	if (parse_int64(s, &v) < 0 || v < 0 || v > SIGRTMAX)
		return -1;
	return (int)v;
}

int signal_parse(const char *s)
{
	const struct sig_name *found;

	if (*s >= '0' && *s <= '9')
		return parse_number(s);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool min = strncasecmp(s, "RTMIN", 5) == 0;
		int base = min ? SIGRTMIN : SIGRTMAX, off = 0;
		if (s[5] == '+' || s[5] == '-') {
			off = parse_number(s + 6);
			if (off < 0)
				return -1;
			off = s[5] == '-' ? -off : off;
		} else if (s[5] != '\0') {
			return -1;
		}
		return base + off >= SIGRTMIN && base + off <= SIGRTMAX ? base + off : -1;
	}
	found = bsearch(s, signals, ARRAY_SIZE(signals), sizeof(signals[0]), cmp_name);
	return found ? found->num : -1;
}

void signals_reset_for_exec(void)
{
	struct sigaction sa;
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
