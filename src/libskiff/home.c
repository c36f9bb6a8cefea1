/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HOME from the container's /etc/passwd (see home.h). */
#include <config.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "utils.h"

/* More than any real passwd file; a bigger one is an image's trick, not a user table. */
#define PASSWD_MAX (4 << 20)

static bool env_has(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			return true;
	return false;
}

/*
 * The image's file: O_NONBLOCK and a regular-file check, so a fifo or a
 * device planted there cannot block or feed the init.
 */
static char *read_passwd(void)
{
	cleanup_close int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char *text = NULL;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > PASSWD_MAX)
		return NULL;
	if (read_fd_all(fd, &text, NULL, NULL) < 0)
		return NULL;
	return text;
}

/* name:password:uid:gid:gecos:home:shell; the home of the first line with this uid. */
static char *home_of(char *text, uint32_t uid)
{
	for (char *line = text, *next; line && *line; line = next) {
		char *field[7] = {NULL};
		char *p = line;
		int n = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (; n < 7 && p; n++) {
			field[n] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		long long v;
		if (n < 6 || parse_int64(field[2], &v) < 0 || v != (long long)uid)
			continue;
		return *field[5] ? field[5] : NULL;
	}
	return NULL;
}

void home_set_default(struct oci_process *p)
{
	cleanup_free char *text = NULL;
	const char *home;
	size_t n;

	if (env_has(p->env, "HOME"))
		return;
	text = read_passwd();
	home = text ? home_of(text, p->user.uid) : NULL;
	n = strv_len(p->env);
	p->env = xrealloc(p->env, (n + 2) * sizeof(char *));
	p->env[n] = xasprintf("HOME=%s", home ? home : "/");
	p->env[n + 1] = NULL;
}
