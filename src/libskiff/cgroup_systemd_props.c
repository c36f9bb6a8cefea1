/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd driver's conversions, with no bus and no system touched (so
 * tests/unit/cgroup_systemd_test.c checks them): linux.cgroupsPath in
 * runc's "slice:prefix:name" form to the unit and its cgroup, the planned
 * cgroup files to the unit properties systemd has for them, the device
 * rules to DevicePolicy/DeviceAllow, and org.systemd.property.*
 * annotations to properties.
 *
 * Why limits go to systemd at all: systemd writes a unit's cgroup files
 * from its properties again whenever it reloads, so a limit systemd has a
 * property for must be one, or a daemon-reload undoes it.  What systemd has
 * no property for is written to the files only (cgroup_systemd.c).
 */
#include <config.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "sdbus.h"
#include "utils.h"

#define USEC_INFINITY UINT64_MAX

static bool str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Characters systemd takes in a unit name, minus the escape character. */
static bool unit_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.@", *s))
			return false;
	return true;
}

int sd_expand_slice(const char *slice, char **out, struct skiff_error **err)
{
	static const char suffix[] = ".slice";
	size_t n = strlen(slice), sn = strlen(suffix);
	cleanup_free char *name = NULL, *path = xstrdup("");

	if (n <= sn || strcmp(slice + n - sn, suffix) != 0 || !unit_chars_ok(slice))
		return error_msg(err,
		                 "linux.cgroupsPath: \"%s\" is not a slice name (NAME.slice, "
		                 "without '/')",
		                 slice);
	name = strndup(slice, n - sn);
	if (strcmp(name, "-") == 0) {
		*out = xstrdup("");
		return 0;
	}
	/* a-b-c.slice lives in /a.slice/a-b.slice/a-b-c.slice. */
	for (char *dash = name;; dash++) {
		char *next;
		if (*dash != '-' && *dash != '\0')
			continue;
		if (dash == name || dash[-1] == '-' || (*dash == '\0' && dash[-1] == '-'))
			return error_msg(err,
			                 "linux.cgroupsPath: \"%s\" is not a slice name (an empty "
			                 "part between dashes)",
			                 slice);
		next = xasprintf("%s/%.*s.slice", path, (int)(dash - name), name);
		free(path);
		path = next;
		if (*dash == '\0')
			break;
	}
	*out = steal_ptr(&path);
	return 0;
}

int sd_resolve_path(const char *cgroups_path, const char *id, const char *default_slice, char **out,
                    struct skiff_error **err)
{
	cleanup_free char *copy = NULL, *slice_path = NULL;
	char *parts[3];
	const char *slice, *prefix, *name;

	if (cgroups_path == NULL || *cgroups_path == '\0') {
		/* runc's default, with skiff's prefix (crun's is "crun"). */
		slice = default_slice;
		prefix = "skiff";
		name = id;
	} else {
		copy = xstrdup(cgroups_path);
		parts[0] = copy;
		parts[1] = strchr(parts[0], ':');
		parts[2] = parts[1] ? strchr(parts[1] + 1, ':') : NULL;
		if (parts[2] == NULL || strchr(parts[2] + 1, ':'))
			return error_msg(err,
			                 "linux.cgroupsPath: \"%s\": the systemd cgroup driver "
			                 "expects \"slice:prefix:name\"",
			                 cgroups_path);
		*parts[1]++ = '\0';
		*parts[2]++ = '\0';
		slice = *parts[0] ? parts[0] : default_slice;
		prefix = parts[1];
		name = parts[2];
	}
	if (!unit_chars_ok(prefix) || !unit_chars_ok(name) || !*name)
		return error_msg(err,
		                 "linux.cgroupsPath: \"%s\": prefix and name may hold letters, "
		                 "digits and \"-_.@\" only, and name is required",
		                 cgroups_path ? cgroups_path : "");
	if (str_has_suffix(name, ".slice"))
		return error_msg(err,
		                 "linux.cgroupsPath: \"%s\": name is a slice; a container's unit "
		                 "is a scope",
		                 cgroups_path);
	if (sd_expand_slice(slice, &slice_path, err) < 0)
		return -1;
	*out = xasprintf("%s/%s-%s.scope", slice_path, prefix, name);
	return 0;
}

int sd_unit_of_path(const char *path, char **unit, char **slice)
{
	const char *base = strrchr(path, '/');
	const char *end = base;

	if (base == NULL || !str_has_suffix(base + 1, ".scope"))
		return -1;
	*unit = xstrdup(base + 1);
	if (slice) {
		const char *start = end;
		while (start > path && start[-1] != '/')
			start--;
		*slice = start == end ? xstrdup("-.slice") : strndup(start, (size_t)(end - start));
	}
	return 0;
}

/* "max" or a number; false when it is neither. */
static bool parse_max(const char *v, uint64_t *out)
{
	char *end;

	v += strspn(v, " \t\n");
	if (strncmp(v, "max", 3) == 0 && v[3 + strspn(v + 3, " \t\n")] == '\0') {
		*out = UINT64_MAX;
		return true;
	}
	if (!isdigit((unsigned char)*v))
		return false;
	*out = strtoull(v, &end, 10);
	return end[strspn(end, " \t\n")] == '\0';
}

/* A cpuset list ("0-3,8") as the bitmask systemd takes (byte 0 holds CPUs 0-7). */
int sd_cpuset_bits(const char *list, struct sd_value *out)
{
	uint8_t *bits = NULL;
	size_t n = 0;
	const char *p = list + strspn(list, " \t\n");

	while (*p && !isspace((unsigned char)*p)) {
		char *end;
		unsigned long lo, hi;

		if (!isdigit((unsigned char)*p))
			goto bad;
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			hi = strtoul(end + 1, &end, 10);
		}
		if (hi < lo || hi > 65535 ||
		    (*end != ',' && *end != '\0' && !isspace((unsigned char)*end)))
			goto bad;
		if (hi / 8 + 1 > n) {
			bits = xrealloc(bits, hi / 8 + 1);
			memset(bits + n, 0, hi / 8 + 1 - n);
			n = hi / 8 + 1;
		}
		for (unsigned long c = lo; c <= hi; c++)
			bits[c / 8] |= (uint8_t)(1u << (c % 8));
		p = *end == ',' ? end + 1 : end;
	}
	out->sig = xstrdup("ay");
	for (size_t i = 0; i < n; i++)
		sd_value_push(out)->u = bits[i];
	free(bits);
	return 0;
bad:
	free(bits);
	return -1;
}

static void add_cpuset(struct sd_props *ps, const char *prop, const char *list)
{
	struct sd_value v = {0};
	struct sd_value *d;

	if (sd_cpuset_bits(list, &v) < 0) {
		sd_value_free(&v);
		return;
	}
	d = sd_props_add(ps, prop, "ay");
	sd_value_free(d);
	*d = v;
}

static void add_max(struct sd_props *ps, const char *prop, const char *value)
{
	uint64_t v;

	if (parse_max(value, &v))
		sd_props_add_u64(ps, prop, v);
}

/*
 * A CPU quota (negative: none) per period: systemd keeps CPU time per
 * second, in whole percent, so a quota that is not a whole percent of the
 * period is rounded up.  Returns the quota the file gets (the rounded one,
 * as runc writes), so that the file and the unit agree.
 */
static int64_t add_cpu_quota(struct sd_props *ps, int64_t quota, uint64_t period, bool has_period,
                             int version)
{
	uint64_t per_sec;

	if (has_period && version >= 242)
		sd_props_add_u64(ps, "CPUQuotaPeriodUSec", period);
	if (period == 0)
		period = 100000;
	if (quota < 0) {
		sd_props_add_u64(ps, "CPUQuotaPerSecUSec", USEC_INFINITY);
		return quota;
	}
	per_sec = (uint64_t)quota * 1000000ULL / period;
	if (per_sec % 10000) {
		per_sec = (per_sec / 10000 + 1) * 10000;
		quota = (int64_t)(per_sec * period / 1000000ULL);
	}
	sd_props_add_u64(ps, "CPUQuotaPerSecUSec", per_sec);
	return quota;
}

/* cpu.max "QUOTA PERIOD" ("max" for none). */
static void add_cpu_max(struct sd_props *ps, struct cgroup_write *w, int version)
{
	char quota[32];
	unsigned long long period = 100000;
	int64_t q, rounded;
	int n = sscanf(w->value, "%31s %llu", quota, &period);

	if (n < 1 || period == 0)
		return;
	q = strcmp(quota, "max") == 0 ? -1 : (int64_t)strtoull(quota, NULL, 10);
	rounded = add_cpu_quota(ps, q, period, true, version);
	if (rounded != q) {
		free(w->value);
		w->value = xasprintf("%" PRId64 " %llu", rounded, period);
	}
}

static struct cgroup_write *plan_last(struct cgroup_plan *plan, const char *file)
{
	for (size_t i = plan->len; i-- > 0;)
		if (strcmp(plan->w[i].file, file) == 0)
			return &plan->w[i];
	return NULL;
}

/* A list the kernel will refuse is left to the file write, which says so. */
static void add_cpusets(struct cgroup_plan *plan, int version, struct sd_props *ps)
{
	struct cgroup_write *w;

	if (version < 244)
		return;
	if ((w = plan_last(plan, "cpuset.cpus")))
		add_cpuset(ps, "AllowedCPUs", w->value);
	if ((w = plan_last(plan, "cpuset.mems")))
		add_cpuset(ps, "AllowedMemoryNodes", w->value);
}

void sd_props_from_plan(struct cgroup_plan *plan, int version, struct sd_props *ps)
{
	static const struct {
		const char *file, *prop;
	} simple[] = {
	    {"memory.max", "MemoryMax"},          {"memory.low", "MemoryLow"},
	    {"memory.min", "MemoryMin"},          {"memory.high", "MemoryHigh"},
	    {"memory.swap.max", "MemorySwapMax"}, {"pids.max", "TasksMax"},
	};
	struct cgroup_write *w;
	bool idle = false;

	for (size_t i = 0; i < ARRAY_SIZE(simple); i++)
		if ((w = plan_last(plan, simple[i].file)))
			add_max(ps, simple[i].prop, w->value);
	/* CPUWeight=0 is how systemd (252 on) is told cpu.idle 1; cpu.weight then waits. */
	w = plan_last(plan, "cpu.idle");
	if (w && version >= 252 && strtol(w->value, NULL, 10) == 1 && !strchr(w->value, '.')) {
		sd_props_add_u64(ps, "CPUWeight", 0);
		idle = true;
	}
	if ((w = plan_last(plan, "cpu.weight")) && !idle)
		add_max(ps, "CPUWeight", w->value);
	if ((w = plan_last(plan, "cpu.max")))
		add_cpu_max(ps, w, version);
	add_cpusets(plan, version, ps);
	/* "default N" or "N"; per-device weights need a device path: files only. */
	if ((w = plan_last(plan, "io.weight"))) {
		const char *v = str_has_prefix(w->value, "default ") ? w->value + 8 : w->value;
		uint64_t weight;
		if (parse_max(v, &weight) && weight != UINT64_MAX)
			sd_props_add_u64(ps, "IOWeight", weight);
	}
}

/* A v1 value: -1 (or "max", pids.max) is systemd's infinity. */
static void add_v1(struct sd_props *ps, const char *prop, const char *value)
{
	if (strcmp(value, "-1") == 0)
		sd_props_add_u64(ps, prop, UINT64_MAX);
	else
		add_max(ps, prop, value);
}

void sd_props_from_plan_v1(struct cgroup_plan *plan, int version, struct sd_props *ps)
{
	/* systemd's cgroup v1 names (MemoryLimit, CPUShares...), as runc sets on v1 hosts. */
	static const struct {
		const char *file, *prop;
	} simple[] = {
	    {"memory.limit_in_bytes", "MemoryLimit"},
	    {"cpu.shares", "CPUShares"},
	    {"blkio.weight", "BlockIOWeight"},
	    {"pids.max", "TasksMax"},
	};
	struct cgroup_write *w, *quota = plan_last(plan, "cpu.cfs_quota_us");
	struct cgroup_write *period = plan_last(plan, "cpu.cfs_period_us");

	for (size_t i = 0; i < ARRAY_SIZE(simple); i++)
		if ((w = plan_last(plan, simple[i].file)))
			add_v1(ps, simple[i].prop, w->value);
	if (quota || period) {
		int64_t q = quota ? strtoll(quota->value, NULL, 10) : -1;
		uint64_t p = period ? strtoull(period->value, NULL, 10) : 0;
		int64_t rounded = add_cpu_quota(ps, q, p, period != NULL, version);

		if (quota && rounded != q) {
			free(quota->value);
			quota->value = xasprintf("%" PRId64, rounded);
		}
	}
	add_cpusets(plan, version, ps);
}

/* ---- devices ---- */

/* Whether a's devices include all of b's (types, majors, minors). */
static bool dev_covers(const struct cgroup_dev_rule *a, const struct cgroup_dev_rule *b)
{
	return (a->type == 'a' || a->type == b->type) && (a->major < 0 || a->major == b->major) &&
	       (a->minor < 0 || a->minor == b->minor);
}

static bool dev_overlaps(const struct cgroup_dev_rule *a, const struct cgroup_dev_rule *b)
{
	return (a->type == 'a' || b->type == 'a' || a->type == b->type) &&
	       (a->major < 0 || b->major < 0 || a->major == b->major) &&
	       (a->minor < 0 || b->minor < 0 || a->minor == b->minor);
}

static void add_allow(struct sd_value *list, char type, const struct cgroup_dev_rule *r)
{
	struct sd_value *e = sd_value_push(list);
	const char *group = type == 'c' ? "char" : "block";
	char acc[4];
	size_t n = 0;

	if (r->access & BPF_DEVCG_ACC_READ)
		acc[n++] = 'r';
	if (r->access & BPF_DEVCG_ACC_WRITE)
		acc[n++] = 'w';
	if (r->access & BPF_DEVCG_ACC_MKNOD)
		acc[n++] = 'm';
	acc[n] = '\0';
	if (r->major < 0)
		e->items[0].s = xasprintf("%s-*", group);
	else if (r->minor < 0)
		e->items[0].s = xasprintf("%s-%" PRId64, group, r->major);
	else
		e->items[0].s =
		    xasprintf("/dev/%s/%" PRId64 ":%" PRId64, group, r->major, r->minor);
	e->items[1].s = xstrdup(acc);
}

/*
 * The rules, last one winning and nothing matching denied, as systemd's
 * allow list: rules that end up as a list of allowed devices become
 * DevicePolicy=strict with DeviceAllow.  Allowing everything is
 * DevicePolicy=auto with no list.  Anything else (an "allow all" with
 * exceptions, a rule for "any major, minor N") systemd cannot express:
 * on cgroup v2 it is left to skiff's own device filter, with
 * DevicePolicy=auto and no list, since both filters apply and both must
 * allow.  On v1 a cgroup has one devices list, which systemd rewrites from
 * the unit whenever it realizes it again (a daemon-reload): there it is
 * DevicePolicy=strict with no list, deny-all until skiff writes the rules,
 * as runc does, so a reload can take devices away but never grant them.
 */
void sd_props_devices(const struct cgroup_dev_rule *rules, size_t n, bool v1, struct sd_props *ps)
{
	struct cgroup_dev_rule *allowed = xcalloc(n + 1, sizeof(*allowed));
	size_t na = 0;
	bool ok = true, allow_all = false;
	struct sd_value *list;

	for (size_t i = 0; i < n; i++) {
		const struct cgroup_dev_rule *r = &rules[i];
		bool all = r->type == 'a' && r->major < 0 && r->minor < 0;

		if (r->allow) {
			if (all && r->access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE |
			                         BPF_DEVCG_ACC_MKNOD))
				ok = false, allow_all = true;
			ok = ok && !(r->major < 0 && r->minor >= 0);
			allowed[na++] = *r;
			continue;
		}
		allow_all = false;
		/* A deny takes access away from the entries it covers, and may not cut one. */
		for (size_t j = 0; j < na && ok; j++) {
			if (dev_covers(r, &allowed[j]))
				allowed[j].access &= ~r->access;
			else if (dev_overlaps(r, &allowed[j]) && (allowed[j].access & r->access))
				ok = false;
		}
	}
	sd_props_add(ps, "DeviceAllow", "a(ss)");
	if (!ok) {
		sd_props_add_str(ps, "DevicePolicy", v1 && !allow_all ? "strict" : "auto");
		free(allowed);
		return;
	}
	sd_props_add_str(ps, "DevicePolicy", "strict");
	list = sd_props_add(ps, "DeviceAllow", "a(ss)");
	for (size_t j = 0; j < na; j++) {
		if (allowed[j].access == 0)
			continue;
		if (allowed[j].type != 'b')
			add_allow(list, 'c', &allowed[j]);
		if (allowed[j].type != 'c')
			add_allow(list, 'b', &allowed[j]);
	}
	free(allowed);
}

/* ---- annotations ---- */

#define PROPERTY_PREFIX "org.systemd.property."

/* Letters only, at least three (runc's rule). */
static bool property_name_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isalpha((unsigned char)s[n]) || !isascii((unsigned char)s[n]))
			return false;
	return n >= 3;
}

/* TimeoutStopSec=N is TimeoutStopUSec=N*1000000 on the bus (systemd's documented names). */
static int sec_to_usec(struct sd_value *v)
{
	uint64_t usec;

	if (v->sig[1] != '\0')
		return -1;
	switch (v->sig[0]) {
	case 'y':
	case 'q':
	case 'u':
	case 't':
		usec = v->u * 1000000ULL;
		break;
	case 'n':
	case 'i':
	case 'x':
		if (v->i < 0)
			return -1;
		usec = (uint64_t)v->i * 1000000ULL;
		break;
	case 'd':
		if (v->d < 0)
			return -1;
		usec = (uint64_t)(v->d * 1000000.0);
		break;
	default:
		return -1;
	}
	free(v->sig);
	v->sig = xstrdup("t");
	v->u = usec;
	return 0;
}

int sd_props_annotations(const struct oci_map *a, struct sd_props *ps, struct skiff_error **err)
{
	for (size_t i = 0; i < a->len; i++) {
		const char *key = a->keys[i], *value = a->values[i] ? a->values[i] : "";
		const char *name = key + strlen(PROPERTY_PREFIX), *why = NULL;
		cleanup_free char *prop = NULL;
		struct sd_value v;
		size_t n;

		if (!str_has_prefix(key, PROPERTY_PREFIX))
			continue;
		if (!property_name_ok(name))
			return error_msg(err,
			                 "annotations: \"%s\": a systemd property name is letters "
			                 "only, at least three",
			                 key);
		if (sd_gvariant_parse(value, &v, &why) < 0)
			return error_msg(err,
			                 "annotations: \"%s\": \"%s\" is not a GVariant text value "
			                 "(%s)",
			                 key, value, why);
		n = strlen(name);
		prop = xstrdup(name);
		if (n > 3 && strcmp(name + n - 3, "Sec") == 0 &&
		    islower((unsigned char)name[n - 4])) {
			free(prop);
			prop = xasprintf("%.*sUSec", (int)(n - 3), name);
			if (sec_to_usec(&v) < 0) {
				sd_value_free(&v);
				return error_msg(err,
				                 "annotations: \"%s\": \"%s\" is not a number of "
				                 "seconds",
				                 key, value);
			}
		}
		ps->p = xrealloc(ps->p, (ps->n + 1) * sizeof(*ps->p));
		ps->p[ps->n].name = steal_ptr(&prop);
		ps->p[ps->n++].v = v;
	}
	return 0;
}
