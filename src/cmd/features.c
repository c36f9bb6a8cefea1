/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "libocispec/runtime_spec.h"
#include "libskiff/capabilities.h"
#include "libskiff/mempolicy.h"
#include "libskiff/mounts.h"
#include "libskiff/process.h"
#include "libskiff/seccomp.h"
#include "libskiff/utils.h"

static const struct cli_option options[] = {
    CLI_HELP_OPTION,
    {0},
};

static char **strv_of(const char *const *names)
{
	size_t n = 0;
	char **v;

	while (names[n])
		n++;
	v = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(names[i]);
	return v;
}

static char **capability_names(void)
{
	int last = capability_table_last();
	char **v = xcalloc((size_t)last + 2, sizeof(char *));
	size_t n = 0;

	/* Every name skiff recognizes, "including capabilities that might not be supported by the
	 * host". */
	for (int c = 0; c <= last; c++)
		if (capability_to_name(c))
			v[n++] = xstrdup(capability_to_name(c));
	return v;
}

static struct oci_features_enabled *enabled(bool on)
{
	struct oci_features_enabled *e = xcalloc(1, sizeof(*e));
	e->has_enabled = true;
	e->enabled = on;
	return e;
}

static int build(struct oci_features *f, struct skiff_error **err)
{
	static const char *const hooks[] = {"prestart",
	                                    "createRuntime",
	                                    "createContainer",
	                                    "startContainer",
	                                    "poststart",
	                                    "poststop",
	                                    NULL};
	static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network", "pid",
	                                         "user",   "uts", "time",  NULL};
	static const char *const unsafe_annotations[] = {ANNOTATION_KEEP_ORIGINAL_GROUPS, NULL};
	struct oci_features_linux *l = xcalloc(1, sizeof(*l));

	f->oci_version_min = xstrdup("1.0.0");
	f->oci_version_max = xstrdup(OCI_SPEC_VERSION);
	f->hooks = strv_of(hooks);
	f->mount_options = strv_of(mount_option_names());
	/* The config annotations that change what skiff does (features.md). */
	f->potentially_unsafe_config_annotations = strv_of(unsafe_annotations);
	/* As runc's and crun's annotations: whether this build checkpoints (libcriu). */
	f->annotations.len = 1;
	f->annotations.keys = strv_of((const char *const[]){"org.skiff.checkpoint.enabled", NULL});
#ifdef HAVE_CRIU
	f->annotations.values = strv_of((const char *const[]){"true", NULL});
#else
	f->annotations.values = strv_of((const char *const[]){"false", NULL});
#endif
	f->linux_ = l;
	l->namespaces = strv_of(namespaces);
	l->capabilities = capability_names();
	l->cgroup = xcalloc(1, sizeof(*l->cgroup));
	l->cgroup->has_v1 = l->cgroup->has_v2 = l->cgroup->has_systemd = true;
	l->cgroup->has_systemd_user = l->cgroup->has_rdma = true;
#ifdef HAVE_SYSTEMD
	/* The systemd driver: the system manager as root, the caller's own rootless. */
	l->cgroup->systemd = l->cgroup->systemd_user = true;
#endif
	l->cgroup->v1 = l->cgroup->v2 = true; /* the fs1 and fs2 drivers */
	l->cgroup->rdma = true;
	l->seccomp = xcalloc(1, sizeof(*l->seccomp));
#ifdef HAVE_SECCOMP
	if (seccomp_get_features(l->seccomp, err) < 0)
		return -1;
#else
	l->seccomp->has_enabled = true;
#endif
	/*
	 * Implementation status, "irrelevant to the availability ... on the host"
	 * (features-linux.md): the label code is always built, resctrl and idmapped
	 * mounts are implemented, whatever this kernel offers.  `skiff check` says
	 * what the host has.
	 */
	l->apparmor = enabled(true);
	l->selinux = enabled(true);
	l->memory_policy = xcalloc(1, sizeof(*l->memory_policy));
	l->memory_policy->modes = strv_of(mempolicy_mode_names());
	l->memory_policy->flags = strv_of(mempolicy_flag_names());
	l->intel_rdt = xcalloc(1, sizeof(*l->intel_rdt));
	l->intel_rdt->has_enabled = l->intel_rdt->has_schemata = true;
	l->intel_rdt->has_monitoring = true;
	l->intel_rdt->enabled = l->intel_rdt->schemata = l->intel_rdt->monitoring = true;
	l->net_devices = enabled(true);
	l->mount_extensions = xcalloc(1, sizeof(*l->mount_extensions));
	l->mount_extensions->idmap = enabled(true);
	return 0;
}

static int run(struct skiff_context *ctx, int argc, char **argv, struct skiff_error **err)
{
	struct oci_features *f = xcalloc(1, sizeof(*f));
	char *json = NULL, *gerr = NULL;
	int npos, r = cli_command_parse(&cmd_features, CLI_PERMUTE, argc, argv, cli_no_option, NULL,
	                                &npos, err);

	if (r != 0) {
		oci_features_free(f);
		return r < 0 ? -1 : 0;
	}
	if (cli_want_args(&cmd_features, npos, 0, 0, err) < 0 || build(f, err) < 0) {
		oci_features_free(f);
		return -1;
	}
	json = oci_features_generate(f, &gerr);
	oci_features_free(f);
	if (json == NULL) {
		error_msg(err, "features: %s", gerr);
		free(gerr);
		return -1;
	}
	fputs(json, stdout);
	free(json);
	return 0;
}

const struct cli_command cmd_features = {
    .name = "features",
    .usage = "",
    .stateless = true,
    .summary = "print the runtime-spec features document for this build and host",
    .options = options,
    .run = run,
};
