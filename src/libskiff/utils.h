/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_UTILS_H
#define SKIFF_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"

/* Scope-bound resources: early returns cannot leak. */
void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);
void cleanup_strvp(char ***v);
#define cleanup_free   __attribute__((cleanup(cleanup_freep)))
#define cleanup_close  __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv   __attribute__((cleanup(cleanup_strvp)))

/* Hands ownership on: returns the value and clears the variable. */
static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define steal_ptr(pp)                                                                              \
	({                                                                                         \
		__typeof__(*(pp)) _p = *(pp);                                                      \
		*(pp) = NULL;                                                                      \
		_p;                                                                                \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((noreturn)) void oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The time now as RFC 3339 in UTC with nanoseconds ("2026-11-30T02:40:00.123456789Z"),
 * runc's "created" format.  gmtime_r would read /etc/localtime on its first call.
 */
void rfc3339_utc_now(char *buf, size_t size);
/* The UTC calendar date and time of t (the fields of struct tm that gmtime_r fills but
 * tm_wday, tm_yday and tm_isdst). */
void utc_date(time_t t, struct tm *out);
void strv_free(char **v);
size_t strv_len(char *const *v);

bool str_has_prefix(const char *s, const char *prefix);
/* "." or "..": a directory entry to skip, a name that is no name. */
bool dot_or_dotdot(const char *s);

/*
 * Name lists packed in one string, "A\0" "B\0" ..., ended by an empty
 * name: no pointer per entry to relocate and keep.  name_index gives the
 * position of name (-1 when it is absent or NULL), name_at the name at a
 * position (NULL past the end).
 */
int name_index(const char *names, const char *name);
const char *name_at(const char *names, int i);
/* A literal list "A\0B" ends with one NUL, the end of B only: name_in adds the empty name. */
#define name_in(literal, name) name_index(literal "\0", name)
/*
 * For an X-macro list of constants, LIST(X) = X(A) X(B) ...:
 * `static const char names[] = LIST(NAME_STR);` packs their names,
 * `{LIST(NAME_VALUE)}` makes an array of their values, NAMES_COUNT(LIST)
 * counts them, and NAMES_NUMBERED(LIST, first) checks at build time that
 * they are numbered first, first + 1, ... in the list's order.
 */
#define NAME_STR(n)       #n "\0"
#define NAME_VALUE(n)     n,
#define NAME_ONE_(n)      +1
#define NAME_POS_(n)      n##_pos_,
#define NAME_AT_POS_(n)   &&(int)(n) == (int)n##_pos_
#define NAMES_COUNT(list) (0 list(NAME_ONE_))
#define NAMES_NUMBERED(list, first)                                                                \
	enum { list##_before_ = (first)-1, list(NAME_POS_) };                                      \
	_Static_assert(1 list(NAME_AT_POS_), #list ": each name at its number")
/* Walks a packed name list: `for (NAME_EACH(n, names)) ...`. */
#define NAME_EACH(n, names)                                                                        \
	const char *n = (names);                                                                   \
	*n;                                                                                        \
	n += strlen(n) + 1

/* Writes all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Reads a whole file (or fd) into a NUL-terminated buffer. */
int read_file(const char *path, char **out, size_t *len, struct skiff_error **err);
int read_fd_all(int fd, char **out, size_t *len, struct skiff_error **err);
/* Writes a file atomically: temp file in the same dir, fsync, rename. */
int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                      struct skiff_error **err);
/*
 * The same without the fsync: readers still see the old file or the new
 * one, but a power loss may lose it.  For records of live processes, which
 * do not outlive a power loss either (each fsync costs milliseconds on a
 * disk-backed state root).
 */
int write_file_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       struct skiff_error **err);
/* Writes a short string to an existing file (sysfs, procfs, cgroupfs). */
int write_file_at(int dirfd, const char *path, const char *data, struct skiff_error **err);
/* waitpid(pid, status, 0), again after EINTR. */
int wait_pid(pid_t pid, int *status);
/* pidfd_open(2) and pidfd_send_signal(2), which glibc 2.36 does not wrap. */
int sys_pidfd_open(pid_t pid);
int sys_pidfd_signal(int pidfd, int sig);
/* Sends data with one fd attached (SCM_RIGHTS) in a single message. */
int send_with_fd(int sock, const void *data, size_t len, int fd);
/* mkdir -p with the given mode. */
int mkdir_p(const char *path, mode_t mode, struct skiff_error **err);
/* Parses a base-10 integer that must take the whole string. */
int parse_int64(const char *s, long long *out);
/* name's full path from PATH, then /usr/local/sbin, /usr/sbin, /sbin; NULL when missing. */
char *find_program(const char *name);
/*
 * Resolves each name of `names` ("a\0" "b\0" ..., ended by an empty name)
 * in the dlopen'd `handle`, storing the addresses one after the other at
 * `fns` (a struct of function pointers in the same order).  Returns NULL,
 * or the first name the library lacks.  One loop rather than a dlsym call
 * and a check per function: about 30 bytes of code less for each.
 */
const char *dl_resolve(void *handle, const char *names, void *fns);

#endif
