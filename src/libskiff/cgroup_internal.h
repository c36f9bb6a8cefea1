/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_CGROUP_INTERNAL_H
#define SKIFF_CGROUP_INTERNAL_H

/*
 * Pieces shared by the cgroup*.c files, and
 * tested directly by tests/unit/cgroup_test.c.  Nothing here touches the
 * system except the helpers cgroup.c shares and cgroup_devices_install().
 */

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "libocispec/runtime_spec.h"

/* ---- resources -> files (cgroup_resources.c) ---- */

enum {
	CGW_IF_EXISTS = 1 << 0, /* skip quietly when the file does not exist */
	CGW_TRY = 1 << 1,       /* ignore a failed write (a later write repeats it) */
	CGW_UNIFIED = 1 << 2, /* from linux.resources.unified: a missing file is the key's fault */
};

struct cgroup_write {
	char *file;  /* "memory.max" */
	char *value; /* "max" */
	char *what;  /* "memory limit": names the request in errors */
	int flags;
};

/* The files to write, in order. */
struct cgroup_plan {
	struct cgroup_write *w;
	size_t len;
	char **warnings; /* settings cgroup v2 cannot express, ignored; NULL-terminated */
};

/* Validates and converts r (may be NULL) into a plan; errors name the config field. */
int cgroup_plan_resources(const struct oci_resources *r, struct cgroup_plan *out,
                          struct skiff_error **err);
void cgroup_plan_free(struct cgroup_plan *p);
/* The value planned for file (the last one), or NULL. */
const char *cgroup_plan_get(const struct cgroup_plan *p, const char *file);

/*
 * The controller that owns a cgroup file ("memory.max" -> "memory"), or
 * false for core files (cgroup.*, *.pressure, cpu.stat) that need none.
 */
bool cgroup_file_controller(const char *file, char *buf, size_t size);

/* A linux.resources.unified key names one file in the cgroup directory. */
bool cgroup_unified_key_valid(const char *key);

/* cgroup_resolve_path() with the caller's own cgroup given (for tests). */
char *cgroup_resolve_path_from(const char *cgroups_path, const char *id, const char *own,
                               struct skiff_error **err);

/* The conversions, exposed for tests. */
uint64_t cgroup_shares_to_weight(uint64_t shares);
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight);

/* ---- shared by cgroup.c and cgroup_control.c ---- */

/* The cgroup's directory: mountpoint + path (checked: absolute, no ".."). */
char *cgroup_dir(const char *path, struct skiff_error **err);
/* Reads a cgroup file; -1 with errno set (ENOENT when missing), no error object. */
int cgroup_read_at(int dirfd, const char *file, char **out);
/* Waits (up to 10 s) until "key" in cgroup.events equals want; -1 with errno. */
int cgroup_wait_events(int dirfd, const char *key, unsigned long long want);
void cgroup_sleep_ms(long ms);
long cgroup_now_ms(void);

/* ---- device filter (cgroup_devices.c) ---- */

struct cgroup_bpf_prog {
	struct bpf_insn *insns;
	size_t len;
};

/*
 * Compiles rules into a BPF_PROG_TYPE_CGROUP_DEVICE program.  Rules are
 * checked last to first and the first match decides, so later rules win;
 * skiff's default devices are appended after the config's rules when
 * with_defaults is set, so a config's "deny all" cannot take /dev/null
 * away.  Nothing matching means deny.
 */
int cgroup_devices_compile(const struct oci_device_cgroup *rules, size_t n, bool with_defaults,
                           struct cgroup_bpf_prog *out, struct skiff_error **err);
void cgroup_bpf_prog_free(struct cgroup_bpf_prog *p);

/* Loads prog and attaches it to the cgroup, replacing the programs skiff attached before. */
int cgroup_devices_install(int dirfd, const struct cgroup_bpf_prog *prog, struct skiff_error **err);

#endif
