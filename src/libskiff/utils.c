/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "utils.h"

void cleanup_freep(void *p)
{
	free(*(void **)p);
}

void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void cleanup_strvp(char ***v)
{
	strv_free(*v);
}

void oom(void)
{
	fputs("skiff: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *r = strdup(s);
	if (r == NULL)
		oom();
	return r;
}

void utc_date(time_t t, struct tm *out)
{
	/* Days since 1970-01-01 to a proleptic Gregorian date, counted in
	 * 400-year eras that start on 1 March (the leap day last). */
	long long days = t / 86400, secs = t % 86400;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	days += 719468; /* 0000-03-01 to 1970-01-01 */
	long long era = (days >= 0 ? days : days - 146096) / 146097;
	long long doe = days - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long month = mp < 10 ? mp + 3 : mp - 9;

	memset(out, 0, sizeof(*out));
	out->tm_year = (int)(yoe + era * 400 + (month <= 2) - 1900);
	out->tm_mon = (int)month - 1;
	out->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	out->tm_hour = (int)(secs / 3600);
	out->tm_min = (int)(secs / 60 % 60);
	out->tm_sec = (int)(secs % 60);
}

void rfc3339_utc_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	utc_date(ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

char *xasprintf(const char *fmt, ...)
{
	char *r;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0)
		oom();
	va_end(ap);
	return r;
}

void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool dot_or_dotdot(const char *s)
{
	return s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'));
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_fd_all(int fd, char **out, size_t *len, struct skiff_error **err)
{
	size_t cap = 4096, used = 0;
	cleanup_free char *buf = xmalloc(cap);

	for (;;) {
		ssize_t n;
		if (used + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_errno(err, "read");
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = steal_ptr(&buf);
	return 0;
}

int read_file(const char *path, char **out, size_t *len, struct skiff_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open `%s`", path);
	if (read_fd_all(fd, out, len, err) < 0)
		return error_wrap(err, "`%s`", path);
	return 0;
}

static int replace_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                        bool durable, struct skiff_error **err)
{
	cleanup_free char *tmp = xasprintf(".%s.tmp", name);
	cleanup_close int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return error_errno(err, "create `%s`", tmp);
	if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		error_errno(err, "write `%s`", tmp);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		error_errno(err, "rename `%s` to `%s`", tmp, name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                      struct skiff_error **err)
{
	return replace_file(dirfd, name, data, len, mode, true, err);
}

int write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       struct skiff_error **err)
{
	return replace_file(dirfd, name, data, len, mode, false, err);
}

int write_file_at(int dirfd, const char *path, const char *data, struct skiff_error **err)
{
	cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(data);
	ssize_t n;

	if (fd < 0)
		return error_errno(err, "open `%s`", path);
	n = write(fd, data, len);
	if (n < 0)
		return error_errno(err, "write `%s` to `%s`", data, path);
	if ((size_t)n != len)
		return error_set(err, EIO, "short write of `%s` to `%s`", data, path);
	return 0;
}

int mkdir_p(const char *path, mode_t mode, struct skiff_error **err)
{
	cleanup_free char *copy = xstrdup(path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return error_errno(err, "mkdir `%s`", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return error_errno(err, "mkdir `%s`", copy);
	return 0;
}

int parse_int64(const char *s, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int send_with_fd(int sock, const void *data, size_t len, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int sys_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

char *find_program(const char *name)
{
	const char *env = getenv("PATH");
	cleanup_free char *path =
	    xasprintf("%s:/usr/local/sbin:/usr/sbin:/sbin", env ? env : "/usr/bin:/bin");
	char *save = NULL;

	for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", d, name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

int wait_pid(pid_t pid, int *status)
{
	int r;

	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	return r;
}

int name_index(const char *names, const char *name)
{
	for (int i = 0; name && *names; names += strlen(names) + 1, i++)
		if (strcmp(names, name) == 0)
			return i;
	return -1;
}

const char *name_at(const char *names, int i)
{
	for (; *names; names += strlen(names) + 1)
		if (i-- == 0)
			return names;
	return NULL;
}

const char *dl_resolve(void *handle, const char *names, void *fns)
{
	for (char *slot = fns; *names; names += strlen(names) + 1, slot += sizeof(void *)) {
		void *f = dlsym(handle, names);

		if (f == NULL)
			return names;
		memcpy(slot, &f, sizeof(f));
	}
	return NULL;
}
