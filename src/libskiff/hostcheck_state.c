/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `skiff check`: the state root (where it is, what filesystem, whether the
 * caller can use it) and checkpoint/restore (CRIU).
 */
#define _GNU_SOURCE
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criu.h"
#include "hostcheck_internal.h"
#include "utils.h"

/* ---- filesystems ---- */

/* Field n (0-based, space-separated) of a mountinfo line, in place. */
static char *field(char *line, int n)
{
	char *save = NULL, *f = strtok_r(line, " ", &save);

	while (f && n-- > 0)
		f = strtok_r(NULL, " ", &save);
	return f;
}

/* True when mount point m contains path p. */
static bool covers(const char *m, const char *p)
{
	size_t n = strlen(m);

	if (strcmp(m, "/") == 0)
		return true;
	return strncmp(m, p, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

char *hc_fs_type(const char *path)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	cleanup_free char *line = NULL, *real = realpath(path, NULL);
	char *best = xstrdup("unknown");
	size_t cap = 0, best_len = 0;

	while (f && real && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - "), *mnt, *type;
		if (sep == NULL)
			continue;
		*sep = '\0';
		type = field(sep + 3, 0);
		mnt = field(line, 4);
		/* The last of equal mount points is the one on top. */
		if (mnt && type && covers(mnt, real) && strlen(mnt) >= best_len) {
			best_len = strlen(mnt);
			free(best);
			best = xstrdup(type);
		}
	}
	return best;
}

/* ---- the state root ---- */

static bool is_network_fs(const char *type)
{
	static const char *const net[] = {"nfs", "nfs4", "cifs", "smb3", "9p", "fuse", "ceph"};

	for (size_t i = 0; i < ARRAY_SIZE(net); i++)
		if (strcmp(type, net[i]) == 0 || str_has_prefix(type, "fuse."))
			return true;
	return false;
}

static void advise_fs(struct hostcheck_row *row, const char *type)
{
	if (is_network_fs(type))
		hc_advise(row,
		          "%s may not honour the locks that keep concurrent commands on one "
		          "container apart: prefer a local tmpfs such as /run",
		          type);
	else if (strcmp(type, "tmpfs") != 0)
		hc_advise(row,
		          "on %s the state outlives a reboot: `list` then shows stopped "
		          "containers until they are deleted (a tmpfs such as /run starts empty)",
		          type);
}

static void missing_root(struct hostcheck_report *r, const char *root)
{
	char *anc = xstrdup(root), *slash;
	cleanup_free char *type = NULL;
	struct hostcheck_row *row;

	do {
		slash = strrchr(anc, '/');
		if (slash == NULL || slash == anc)
			strcpy(anc, "/");
		else
			*slash = '\0';
	} while (!hc_exists(anc));
	type = hc_fs_type(anc);
	if (access(anc, W_OK | X_OK) < 0) {
		row = hc_add(r, "state-root", HOSTCHECK_FATAL,
		             "%s does not exist and %s is not writable for uid %u", root, anc,
		             (unsigned)geteuid());
		hc_advise(row, "pass --root with a directory the caller may create");
	} else {
		row = hc_add(r, "state-root", HOSTCHECK_OK,
		             "%s does not exist yet; it will be made (0700) on %s", root, type);
		advise_fs(row, type);
	}
	free(anc);
}

void hostcheck_state_root(struct hostcheck_report *r, const char *root, const char *no_root)
{
	cleanup_free char *type = NULL;
	struct hostcheck_row *row;
	struct stat st;

	if (root == NULL) {
		row = hc_add(r, "state-root", HOSTCHECK_FATAL, "none: %s", no_root);
		hc_advise(row, "every command but spec, features and check needs one");
		return;
	}

	if (lstat(root, &st) < 0) {
		if (errno == ENOENT)
			return missing_root(r, root);
		hc_add(r, "state-root", HOSTCHECK_FATAL, "%s: %s", root, strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		row = hc_add(r, "state-root", HOSTCHECK_FATAL, "%s is %s", root,
		             S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
		hc_advise(row, "skiff refuses a --root that is a symlink or not a directory");
		return;
	}
	if (access(root, W_OK | X_OK) < 0) {
		row = hc_add(r, "state-root", HOSTCHECK_FATAL, "%s is not writable for uid %u",
		             root, (unsigned)geteuid());
		hc_advise(row, "pass --root with a directory the caller owns");
		return;
	}
	type = hc_fs_type(root);
	row = hc_add(r, "state-root", HOSTCHECK_OK, "%s on %s, mode %04o, owner uid %u", root, type,
	             (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	if (st.st_mode & 077)
		hc_advise(row, "other users can read it; skiff makes a new root 0700");
	advise_fs(row, type);
}

/* ---- CRIU ---- */

/* Runs argv with stdout and stderr captured (at most 10 s); returns its exit status. */
static int capture(char *const argv[], char **out)
{
	int pipefd[2], status = -1;
	pid_t pid;
	size_t len;

	*out = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		alarm(10); /* survives execve: a hung criu is killed */
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid > 0 && read_fd_all(pipefd[0], out, &len, NULL) < 0)
		*out = NULL;
	close(pipefd[0]);
	if (pid > 0)
		wait_pid(pid, &status);
	if (*out == NULL)
		*out = xstrdup("");
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * criu's first error line, without its source location ("Error
 * (criu/vdso.c:381): vdso: ..."); a helper's "exited, status=N" says nothing.
 */
char *criu_first_error(const char *text)
{
	const char *e = text, *end, *close_paren;

	while ((e = strstr(e, "Error")) != NULL) {
		end = e + strcspn(e, "\n");
		/* Not the cause: a helper's exit, kerndat's probe for a missing /dev/net/tun. */
		if (memmem(e, (size_t)(end - e), "exited, status=", 15) == NULL &&
		    memmem(e, (size_t)(end - e), "Unable to create tun", 20) == NULL)
			break;
		e = end;
	}
	if (e == NULL)
		e = text;
	end = e + strcspn(e, "\n");
	close_paren = memchr(e, ')', (size_t)(end - e));
	if (close_paren && close_paren[1] == ':')
		e = close_paren + 2;
	e += strspn(e, " ");
	return xasprintf("%.*s", (int)(end - e), e);
}

static bool maps_have(const char *what)
{
	cleanup_free char *maps = NULL;
	size_t len;

	return read_file("/proc/self/maps", &maps, &len, NULL) == 0 && strstr(maps, what);
}

const char *criu_kernel_refusal(int version)
{
	if (maps_have("[vvar_vclock]") && version < 40100)
		return "this kernel splits the vDSO's data into [vvar] and [vvar_vclock], a layout "
		       "criu before 4.1 refuses (criu 4.1 or later handles it)";
	return NULL;
}

/* Why criu fails here, from what skiff knows (never from criu's words). */
static void explain_criu(struct hostcheck_row *row, int version)
{
	if (version > 0 && criu_kernel_refusal(version))
		hc_advise(row,
		          "this kernel splits the vDSO's data into two mappings, [vvar] and "
		          "[vvar_vclock], so [vvar] no longer borders [vdso]; criu before 4.1 "
		          "refuses that layout and cannot start its kernel feature detection, so "
		          "every dump and restore fails: criu 4.1 or later handles it");
	else if (geteuid() != 0)
		hc_advise(row, "`criu check` needs root");
}

void hostcheck_criu(struct hostcheck_report *r)
{
	cleanup_free char *criu = find_program("criu"), *ver = NULL, *out = NULL;
	cleanup_free char *why = NULL;
	struct hostcheck_row *row;
	int version;

#ifndef HAVE_CRIU
	hc_add(r, "checkpoint", HOSTCHECK_UNAVAILABLE,
	       "skiff was built without libcriu: no checkpoint/restore");
	return;
#endif
	if (criu == NULL) {
		hc_add(r, "checkpoint", HOSTCHECK_UNAVAILABLE,
		       "no checkpoint/restore: criu is not installed");
		return;
	}
	/* libcriu's version request, not `criu --version`'s text. */
	version = criu_service_version();
	ver = version > 0
	          ? xasprintf("%d.%d.%d", version / 10000, version / 100 % 100, version % 100)
	          : xstrdup("(version unknown)");
	/* Its exit status is the verdict: a passing check may still log an error (no tun). */
	if (capture((char *const[]){criu, (char *)"check", NULL}, &out) == 0) {
		hc_add(r, "checkpoint", HOSTCHECK_OK,
		       "checkpoint and restore through libcriu; criu %s (%s) passes `criu check`",
		       ver, criu);
		return;
	}
	why = criu_first_error(out);
	row = hc_add(r, "checkpoint", HOSTCHECK_UNAVAILABLE,
	             "no checkpoint/restore: criu %s (%s) fails `criu check`: %s", ver, criu, why);
	explain_criu(row, version);
}
