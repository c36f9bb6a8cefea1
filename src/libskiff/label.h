/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_LABEL_H
#define SKIFF_LABEL_H

/*
 * Security labels (process.selinuxLabel, process.apparmorProfile,
 * linux.mountLabel) behind one small interface.  The host's LSM is picked
 * once (SELinux, else AppArmor, else a no-op backend) and every call goes to
 * that backend:
 *
 *   selinuxLabel     SELinux: written to /proc/thread-self/attr/exec, so the
 *                    execve of the container process enters the domain.
 *                    Other hosts: ignored with a debug line (runc does the
 *                    same), so one config serves both kinds of host.
 *   apparmorProfile  AppArmor: "exec <profile>" written to
 *                    /proc/thread-self/attr/apparmor/exec (older kernels:
 *                    /proc/self/attr/exec).  Without AppArmor it is an
 *                    error: the caller asked for confinement skiff cannot give.
 *   mountLabel       SELinux only: `context="<label>"` added to the data of
 *                    every new filesystem mount that takes one.
 *
 * The attr files are opened in the container's /proc and checked to be on a
 * real procfs, so a fake file planted over them (CVE-2019-16884) cannot make
 * a label silently not apply.
 */

#include "error.h"
#include "libocispec/runtime_spec.h"

/* Parent, before anything exists: refuses a label this host cannot apply. */
int label_validate(const struct oci_config *c, struct skiff_error **err);

/* Init, before the config mounts: adds linux.mountLabel to the mounts' options. */
void label_mount_context(struct oci_config *c);

/*
 * Init, after pivot_root and before dropping privileges: sets the label the
 * next execve enters.  The init itself keeps running unconfined until then.
 */
int label_apply_exec(const struct oci_process *p, struct skiff_error **err);

/* The backend in use: "selinux", "apparmor" or "none". */
const char *label_backend_name(void);

#endif
