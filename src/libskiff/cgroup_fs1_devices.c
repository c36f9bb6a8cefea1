/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources.devices on cgroup v1: the same rules, with the same
 * meaning, as the eBPF filter cgroup_devices.c builds for v2 (later rules
 * win; nothing matching is denied; skiff's defaults come last).
 *
 * The v1 controller holds a default (allow or deny everything) and a list
 * of exceptions of the other kind.  The rules are replayed here against
 * that model: a rule for every device sets the default and clears the
 * list; a rule of the default's kind takes its access out of the
 * exceptions it covers; any other rule becomes an exception.  A rule v1
 * cannot express (one that would cut a hole in a broader exception, or an
 * "a" rule that is not for every device and every access) is an error
 * naming it, never an approximation.  The result is written as "a" to
 * devices.allow or devices.deny, then the exceptions to the other file.
 */
#include <config.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "utils.h"

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

struct model {
	bool allow; /* the default */
	struct cgroup_dev_rule *ex;
	size_t n;
};

static bool is_everything(const struct cgroup_dev_rule *r)
{
	return r->type == 'a' && r->major == -1 && r->minor == -1 && r->access == ACC_ALL;
}

/* Whether a matches every device b names. */
static bool covers(const struct cgroup_dev_rule *a, const struct cgroup_dev_rule *b)
{
	return a->type == b->type && (a->major == -1 || a->major == b->major) &&
	       (a->minor == -1 || a->minor == b->minor);
}

static bool overlaps(const struct cgroup_dev_rule *a, const struct cgroup_dev_rule *b)
{
	return a->type == b->type && (a->major == -1 || b->major == -1 || a->major == b->major) &&
	       (a->minor == -1 || b->minor == -1 || a->minor == b->minor);
}

static void add_exception(struct model *m, const struct cgroup_dev_rule *r)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->ex[i].type == r->type && m->ex[i].major == r->major &&
		    m->ex[i].minor == r->minor) {
			m->ex[i].access |= r->access;
			return;
		}
	}
	m->ex = xrealloc(m->ex, (m->n + 1) * sizeof(*m->ex));
	m->ex[m->n++] = *r;
}

/* A rule of the default's kind: takes its access out of what it covers. */
static int narrow(struct model *m, const struct cgroup_dev_rule *r, size_t index, size_t nconfig,
                  struct skiff_error **err)
{
	for (size_t i = 0; i < m->n; i++) {
		struct cgroup_dev_rule *e = &m->ex[i];

		if (!(e->access & r->access) || !overlaps(e, r))
			continue;
		if (covers(r, e))
			e->access &= ~r->access;
		else if (index >= nconfig)
			return error_msg(err,
			                 "linux.resources.devices: cgroup v1 cannot allow skiff's "
			                 "default devices inside an earlier, broader deny rule");
		else
			return error_msg(
			    err,
			    "linux.resources.devices[%zu]: cgroup v1 cannot %s part of "
			    "an earlier, broader rule",
			    index, r->allow ? "allow" : "deny");
	}
	return 0;
}

static void rule_text(const struct cgroup_dev_rule *r, char *buf, size_t size)
{
	char major[24] = "*", minor[24] = "*";

	if (r->major != -1)
		snprintf(major, sizeof(major), "%" PRId64, r->major);
	if (r->minor != -1)
		snprintf(minor, sizeof(minor), "%" PRId64, r->minor);
	snprintf(buf, size, "%c %s:%s %s%s%s", r->type, major, minor,
	         r->access & BPF_DEVCG_ACC_READ ? "r" : "",
	         r->access & BPF_DEVCG_ACC_WRITE ? "w" : "",
	         r->access & BPF_DEVCG_ACC_MKNOD ? "m" : "");
}

static int replay(struct model *m, const struct cgroup_dev_rule *all, size_t total, size_t nconfig,
                  struct skiff_error **err)
{
	for (size_t i = 0; i < total; i++) {
		const struct cgroup_dev_rule *r = &all[i];

		if (is_everything(r)) {
			m->allow = r->allow;
			m->n = 0;
		} else if (r->type == 'a') {
			return error_msg(err,
			                 "linux.resources.devices[%zu]: cgroup v1 has no rule for "
			                 "every device type with a major, minor or access subset",
			                 i);
		} else if (r->allow == m->allow) {
			if (narrow(m, r, i, nconfig, err) < 0)
				return -1;
		} else {
			add_exception(m, r);
		}
	}
	return 0;
}

int fs1_devices_plan(const struct oci_device_cgroup *rules, size_t n, struct cgroup_plan *out,
                     struct skiff_error **err)
{
	cleanup_free struct cgroup_dev_rule *all = NULL;
	struct model m = {.allow = false};
	size_t total;
	int ret;

	memset(out, 0, sizeof(*out));
	if (cgroup_devices_rules(rules, n, true, &all, &total, err) < 0)
		return -1;
	ret = replay(&m, all, total, n, err);
	if (ret == 0) {
		const char *def = m.allow ? "devices.allow" : "devices.deny";
		const char *other = m.allow ? "devices.deny" : "devices.allow";

		cgroup_plan_add(out, def, 0, "linux.resources.devices", "a");
		for (size_t i = 0; i < m.n; i++) {
			char text[64];

			if (m.ex[i].access == 0)
				continue;
			rule_text(&m.ex[i], text, sizeof(text));
			cgroup_plan_add(out, other, 0, "linux.resources.devices", "%s", text);
		}
	}
	free(m.ex);
	return ret;
}
