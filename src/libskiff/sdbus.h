/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SKIFF_SDBUS_H
#define SKIFF_SDBUS_H

/*
 * What the systemd cgroup driver asks systemd, over sd-bus.
 *
 * Unit properties are built as plain data first (struct sd_props, no bus
 * needed, so the conversion is unit-tested), then sent.  libsystemd is
 * loaded on first use (dlopen): a skiff that never talks to systemd never
 * loads it.  One connection per process, opened on first use.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* A D-Bus value. */
struct sd_value {
	char *sig; /* its complete signature: "t", "s", "b", "ay", "au", "a(ss)" */
	union {
		uint64_t u; /* y q u t */
		int64_t i;  /* n i x */
		double d;
		bool b;
		char *s; /* s o g */
	};
	struct sd_value *items; /* an array's elements, a struct's fields */
	size_t n;
};

struct sd_prop {
	char *name;
	struct sd_value v;
};

struct sd_props {
	struct sd_prop *p;
	size_t n;
};

void sd_props_free(struct sd_props *ps);
/* Adds a property (a later one with the same name is sent after, and wins). */
struct sd_value *sd_props_add(struct sd_props *ps, const char *name, const char *sig);
void sd_props_add_u64(struct sd_props *ps, const char *name, uint64_t v);
void sd_props_add_bool(struct sd_props *ps, const char *name, bool v);
void sd_props_add_str(struct sd_props *ps, const char *name, const char *v);
/* The last property called name, or NULL. */
const struct sd_value *sd_props_get(const struct sd_props *ps, const char *name);
/* Appends an element (a struct, or a basic value of the array's type) to an array value. */
struct sd_value *sd_value_push(struct sd_value *array);
void sd_value_free(struct sd_value *v);
/* The value in D-Bus/GVariant text ("uint64 5", "'x'", "[byte 0x3]"), for logs and tests. */
char *sd_value_text(const struct sd_value *v);

/* The bus systemd answers on: the system manager's, or the caller's own (rootless). */
enum sd_bus_kind { SD_SYSTEM, SD_USER };

/*
 * Connects (once per process).  Errors: "systemd cgroup driver: cannot
 * connect to the system bus: REASON".
 */
int sdbus_connect(enum sd_bus_kind kind, struct skiff_error **err);

/* Where the connection goes ("/run/systemd/private", "the system bus"), for messages. */
const char *sdbus_endpoint(void);

/* The manager's Version as a number ("252.19-1~deb12u1" -> 252), or 0 when unknown. */
int sdbus_systemd_version(void);

/* The manager's ControlGroup ("/user.slice/user-1000.slice/user@1000.service"; "" for PID 1). */
int sdbus_manager_cgroup(char **out, struct skiff_error **err);

/*
 * StartTransientUnit(unit, "fail", props) and waits (up to 30 s) for its
 * job to finish.  A failed unit of the same name left over is reset and
 * the start tried once more; a unit that is active is an error naming it.
 */
int sdbus_start_unit(const char *unit, const struct sd_props *props, struct skiff_error **err);

/* SetUnitProperties(unit, runtime, props). */
int sdbus_set_properties(const char *unit, const struct sd_props *props, struct skiff_error **err);

/*
 * StopUnit(unit, "replace") and waits for the job; then ResetFailedUnit.
 * A unit that is not loaded is not an error.
 */
int sdbus_stop_unit(const char *unit, struct skiff_error **err);

/* Whether systemd has the unit loaded (active or not). */
bool sdbus_unit_loaded(const char *unit);

#endif
