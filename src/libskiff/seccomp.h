/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SECCOMP_H
#define SKIFF_SECCOMP_H

/*
 * linux.seccomp → a classic-BPF program, compiled with libseccomp in the
 * runtime (where errors can still be reported cleanly), optionally cached on
 * disk, and loaded in the container's init with the raw seccomp(2) syscall
 * right before execve (no libseccomp there).
 *
 * Translation semantics (runc-compatible):
 *  - syscall names this host's libseccomp does not know are skipped (a debug
 *    line counts them), so one profile serves old and new kernels;
 *  - a rule whose action equals the default action is skipped (it would be a
 *    no-op, and libseccomp rejects it);
 *  - args of one rule are ANDed when their indexes are distinct; when two args
 *    name the SAME index, libseccomp cannot AND them, so each arg becomes its
 *    own rule and the args are ORed (e.g. [arg0 == 1, arg0 == 2] matches either);
 *  - errnoRet defaults to EPERM for SCMP_ACT_ERRNO and is the tracer's message
 *    value for SCMP_ACT_TRACE (default EPERM too); any other action with
 *    errnoRet is an error, as the spec demands;
 *  - SCMP_ACT_NOTIFY needs listenerPath and cannot be the default action (the
 *    init's own syscalls after the load would wait on a listener nobody has).
 */

#include <stdbool.h>
#include <stddef.h>
#include <linux/filter.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

struct seccomp_program {
	struct sock_filter *insns;
	size_t len;
	unsigned int flags;      /* SECCOMP_FILTER_FLAG_* from linux.seccomp.flags */
	bool needs_notify;       /* some rule uses SCMP_ACT_NOTIFY */
	size_t skipped_syscalls; /* names unknown to libseccomp, left out */
};

/* Validates and compiles; errors name the field, e.g.
 * `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`. */
int seccomp_compile(const struct oci_seccomp *s, struct seccomp_program **out,
                    struct skiff_error **err);
/*
 * The same profile as one libseccomp filter: seccomp_compile splits a large
 * profile into parts (seccomp_split.c) that decide every syscall as this
 * does.  For the test that checks so.
 */
int seccomp_compile_whole(const struct oci_seccomp *s, struct seccomp_program **out,
                          struct skiff_error **err);

/*
 * Same result as seccomp_compile, served from <cache_dir>/seccomp-<hex>.bpf
 * when a verified entry exists (cache_dir is created 0700; NULL disables the
 * cache).  A cache problem is never an error: it is logged at debug level and
 * the profile is compiled; only a bad profile fails.
 */
int seccomp_compile_cached(const struct oci_seccomp *s, const char *cache_dir,
                           struct seccomp_program **out, struct skiff_error **err);

/*
 * Installs the filter on the calling thread (seccomp(SECCOMP_SET_MODE_FILTER)).
 * Needs no_new_privs or CAP_SYS_ADMIN.  When p->needs_notify, *notify_fd gets
 * the listener fd (close-on-exec), else -1.  notify_fd may be NULL only when
 * the program needs no listener.  Async-signal-safe except for the error path.
 */
int seccomp_program_load(const struct seccomp_program *p, int *notify_fd, struct skiff_error **err);

/*
 * The program for the exec trampoline to load (src/libskiff/trampoline.c):
 * a memfd, NOT close-on-exec, at offset 0, holding two uint32 (the filter
 * flags, the instruction count) then the instructions.  Only for programs
 * that need no listener.  Returns the fd, or -1 with *err.
 */
int seccomp_program_memfd(const struct seccomp_program *p, struct skiff_error **err);

void seccomp_program_free(struct seccomp_program *p);

/*
 * Fills what `skiff features` reports under linux.seccomp: enabled, the
 * SCMP_ACT_* skiff knows that this kernel has, the SCMP_CMP_* operators, the
 * SCMP_ARCH_* this libseccomp knows, the SECCOMP_FILTER_FLAG_* skiff accepts
 * (knownFlags) and the subset this kernel accepts (supportedFlags).  Lists are
 * NULL-terminated and empty (not NULL) when nothing applies.
 */
int seccomp_get_features(struct oci_features_seccomp *f, struct skiff_error **err);
/* Frees the lists seccomp_get_features filled. */
void seccomp_features_clear(struct oci_features_seccomp *f);

#endif
