/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The systemd manager's D-Bus API, as far as the systemd cgroup driver needs
 * it: transient units started, changed and stopped, each job waited for.
 *
 * libsystemd is loaded on first use: linking it would make every skiff
 * command load it and its dependencies (about 1 ms each run, measured),
 * and only containers made with the systemd driver need it.
 */
#include <config.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sdbus.h"
#include "utils.h"

#define SD_DEST    "org.freedesktop.systemd1"
#define SD_PATH    "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* How long a job may take (runc waits as long). */
#define JOB_TIMEOUT_USEC (30ULL * 1000000ULL)

/* The libsystemd functions used, resolved by name. */
#define SD_FUNCS(X)                                                                                \
	X(sd_bus_open_system)                                                                      \
	X(sd_bus_open_user)                                                                        \
	X(sd_bus_new)                                                                              \
	X(sd_bus_set_address)                                                                      \
	X(sd_bus_start)                                                                            \
	X(sd_bus_flush_close_unref)                                                                \
	X(sd_bus_message_new_method_call)                                                          \
	X(sd_bus_message_append)                                                                   \
	X(sd_bus_message_append_basic)                                                             \
	X(sd_bus_message_open_container)                                                           \
	X(sd_bus_message_close_container)                                                          \
	X(sd_bus_message_read)                                                                     \
	X(sd_bus_message_unref)                                                                    \
	X(sd_bus_call)                                                                             \
	X(sd_bus_call_method)                                                                      \
	X(sd_bus_get_property_string)                                                              \
	X(sd_bus_match_signal)                                                                     \
	X(sd_bus_slot_unref)                                                                       \
	X(sd_bus_process)                                                                          \
	X(sd_bus_wait)                                                                             \
	X(sd_bus_error_free)                                                                       \
	X(sd_bus_error_has_name)

static struct {
#define X(name) __typeof__(name) *name;
	SD_FUNCS(X)
#undef X
} sd;

static sd_bus *bus;
static enum sd_bus_kind bus_kind;
/* A direct connection to the manager (its private socket): no bus daemon, no sender names. */
static bool bus_direct;

static int load_libsystemd(struct skiff_error **err)
{
#define X(name) #name "\0"
	static const char names[] = SD_FUNCS(X);
#undef X
#define X(name) +1
	_Static_assert(sizeof(sd) == (0 SD_FUNCS(X)) * sizeof(void *),
	               "sd: function pointers only");
#undef X
	static void *handle;
	const char *missing;

	if (handle)
		return 0;
	handle = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		return error_msg(err, "systemd cgroup driver: cannot load libsystemd.so.0: %s",
		                 dlerror());
	missing = dl_resolve(handle, names, &sd);
	if (missing)
		return error_msg(err, "systemd cgroup driver: libsystemd.so.0 lacks %s", missing);
	return 0;
}

/* The bus error's text, or strerror: what systemd said. */
static const char *bus_reason(const sd_bus_error *e, int r)
{
	if (e && e->message)
		return e->message;
	if (e && e->name)
		return e->name;
	return strerror(r < 0 ? -r : r);
}

/* The manager's private socket: there without a D-Bus daemon (root, or the user's own manager). */
static int open_private(const char *path, sd_bus **out)
{
	cleanup_free char *addr = xasprintf("unix:path=%s", path);
	sd_bus *b = NULL;
	int r = sd.sd_bus_new(&b);

	if (r >= 0)
		r = sd.sd_bus_set_address(b, addr);
	if (r >= 0)
		r = sd.sd_bus_start(b);
	if (r < 0) {
		if (b)
			sd.sd_bus_flush_close_unref(b);
		return r;
	}
	*out = b;
	return 0;
}

int sdbus_connect(enum sd_bus_kind kind, struct skiff_error **err)
{
	const char *what = kind == SD_SYSTEM ? "the system bus" : "the user bus";
	cleanup_free char *priv = NULL;
	int r;

	if (bus)
		return 0;
	if (load_libsystemd(err) < 0)
		return -1;
	bus_kind = kind;
	/*
	 * Root talks to PID 1 on its private socket, as systemctl does: no
	 * Hello, no AddMatch, no hop through dbus-daemon for each call and
	 * signal.  The bus is the fallback (and the way for everyone else).
	 */
	if (kind == SD_SYSTEM && geteuid() == 0)
		priv = xstrdup("/run/systemd/private");
	if (priv && open_private(priv, &bus) == 0) {
		log_debug("systemd: talking to systemd on %s", priv);
		bus_direct = true;
		return 0;
	}
	bus = NULL;
	r = kind == SD_SYSTEM ? sd.sd_bus_open_system(&bus) : sd.sd_bus_open_user(&bus);
	if (r >= 0)
		return 0;
	bus = NULL;
	free(priv);
	priv = kind == SD_USER && getenv("XDG_RUNTIME_DIR")
	           ? xasprintf("%s/systemd/private", getenv("XDG_RUNTIME_DIR"))
	           : NULL;
	if (priv && open_private(priv, &bus) == 0) {
		log_debug("systemd: no user bus, talking to systemd on %s", priv);
		bus_direct = true;
		return 0;
	}
	bus = NULL;
	return error_msg(err, "systemd cgroup driver: cannot connect to %s: %s", what,
	                 strerror(-r));
}

/* Appends one value of its own signature. */
static int append_value(sd_bus_message *m, const struct sd_value *v)
{
	char c = v->sig[0];
	int r;

	if (c == 'a' || c == '(') {
		cleanup_free char *inner =
		    c == 'a' ? xstrdup(v->sig + 1) : strndup(v->sig + 1, strlen(v->sig) - 2);
		r = sd.sd_bus_message_open_container(m, c == 'a' ? 'a' : 'r', inner);
		for (size_t i = 0; r >= 0 && i < v->n; i++)
			r = append_value(m, &v->items[i]);
		return r < 0 ? r : sd.sd_bus_message_close_container(m);
	}
	switch (c) {
	case 'b': {
		int b = v->b;
		return sd.sd_bus_message_append_basic(m, c, &b);
	}
	case 'y': {
		uint8_t x = (uint8_t)v->u;
		return sd.sd_bus_message_append_basic(m, c, &x);
	}
	case 'n': {
		int16_t x = (int16_t)v->i;
		return sd.sd_bus_message_append_basic(m, c, &x);
	}
	case 'q': {
		uint16_t x = (uint16_t)v->u;
		return sd.sd_bus_message_append_basic(m, c, &x);
	}
	case 'i': {
		int32_t x = (int32_t)v->i;
		return sd.sd_bus_message_append_basic(m, c, &x);
	}
	case 'u': {
		uint32_t x = (uint32_t)v->u;
		return sd.sd_bus_message_append_basic(m, c, &x);
	}
	case 'x':
		return sd.sd_bus_message_append_basic(m, c, &v->i);
	case 't':
		return sd.sd_bus_message_append_basic(m, c, &v->u);
	case 'd':
		return sd.sd_bus_message_append_basic(m, c, &v->d);
	case 's':
	case 'o':
	case 'g':
		return sd.sd_bus_message_append_basic(m, c, v->s);
	}
	return -EINVAL;
}

/* The a(sv) of unit properties. */
static int append_props(sd_bus_message *m, const struct sd_props *ps)
{
	int r = sd.sd_bus_message_open_container(m, 'a', "(sv)");

	for (size_t i = 0; r >= 0 && i < ps->n; i++) {
		r = sd.sd_bus_message_open_container(m, 'r', "sv");
		if (r >= 0)
			r = sd.sd_bus_message_append_basic(m, 's', ps->p[i].name);
		if (r >= 0)
			r = sd.sd_bus_message_open_container(m, 'v', ps->p[i].v.sig);
		if (r >= 0)
			r = append_value(m, &ps->p[i].v);
		if (r >= 0)
			r = sd.sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd.sd_bus_message_close_container(m);
	}
	return r < 0 ? r : sd.sd_bus_message_close_container(m);
}

struct job_wait {
	const char *path; /* the job's object path */
	char *result;     /* "done", "failed", ... once removed */
};

/* JobRemoved(u id, o job, s unit, s result). */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct job_wait *w = userdata;
	const char *path = NULL, *unit = NULL, *result = NULL;
	uint32_t id;

	if (sd.sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path && path && strcmp(path, w->path) == 0 && w->result == NULL)
		w->result = xstrdup(result ? result : "");
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* Processes the bus until the job is removed; its result in w->result. */
static int wait_job(struct job_wait *w, const char *what, const char *unit,
                    struct skiff_error **err)
{
	uint64_t deadline = now_usec() + JOB_TIMEOUT_USEC;

	while (w->result == NULL) {
		int r = sd.sd_bus_process(bus, NULL);
		uint64_t now;

		if (r < 0)
			return error_set(err, -r,
			                 "systemd cgroup driver: %s `%s`: wait for the job", what,
			                 unit);
		if (r > 0)
			continue;
		now = now_usec();
		if (now >= deadline)
			return error_set(err, ETIMEDOUT,
			                 "systemd cgroup driver: %s `%s`: the job did not finish",
			                 what, unit);
		r = sd.sd_bus_wait(bus, deadline - now);
		if (r < 0)
			return error_set(err, -r,
			                 "systemd cgroup driver: %s `%s`: wait for the job", what,
			                 unit);
	}
	return 0;
}

static void reset_failed(const char *unit)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;

	sd.sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", &e, NULL, "s",
	                      unit);
	sd.sd_bus_error_free(&e);
}

/*
 * Calls a method that queues a job and waits for the job: the signal is
 * subscribed to before the call, so it cannot be missed.  -1: the call
 * failed (e says why); -2: *err is set.
 */
static int call_job(sd_bus_message *call, const char *what, const char *unit, char **result,
                    sd_bus_error *e, struct skiff_error **err)
{
	struct job_wait w = {0};
	sd_bus_slot *slot = NULL;
	sd_bus_message *reply = NULL;
	const char *job = NULL;
	int r;

	*result = NULL;
	r = sd.sd_bus_match_signal(bus, &slot, bus_direct ? NULL : SD_DEST, SD_PATH, SD_MANAGER,
	                           "JobRemoved", on_job_removed, &w);
	if (r < 0) {
		error_set(err, -r, "systemd cgroup driver: %s `%s`: subscribe to JobRemoved", what,
		          unit);
		return -2;
	}
	r = sd.sd_bus_call(bus, call, JOB_TIMEOUT_USEC, e, &reply);
	if (r >= 0)
		r = sd.sd_bus_message_read(reply, "o", &job);
	if (r >= 0) {
		w.path = job;
		r = wait_job(&w, what, unit, err) < 0 ? -2 : 0;
	} else {
		r = -1;
	}
	*result = w.result;
	if (reply)
		sd.sd_bus_message_unref(reply);
	sd.sd_bus_slot_unref(slot);
	return r;
}

static int new_call(const char *member, sd_bus_message **m, struct skiff_error **err)
{
	int r = sd.sd_bus_message_new_method_call(bus, m, SD_DEST, SD_PATH, SD_MANAGER, member);

	if (r < 0)
		return error_set(err, -r, "systemd cgroup driver: %s", member);
	return 0;
}

static int start_once(const char *unit, const struct sd_props *props, char **result,
                      sd_bus_error *e, struct skiff_error **err)
{
	sd_bus_message *m = NULL;
	int r;

	if (new_call("StartTransientUnit", &m, err) < 0)
		return -2;
	r = sd.sd_bus_message_append(m, "ss", unit, "replace");
	if (r >= 0)
		r = append_props(m, props);
	/* No auxiliary units. */
	if (r >= 0)
		r = sd.sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r < 0) {
		sd.sd_bus_message_unref(m);
		error_set(err, -r, "systemd cgroup driver: start `%s`: build the call", unit);
		return -2;
	}
	r = call_job(m, "start", unit, result, e, err);
	sd.sd_bus_message_unref(m);
	return r;
}

int sdbus_start_unit(const char *unit, const struct sd_props *props, struct skiff_error **err)
{
	for (int attempt = 0;; attempt++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;
		cleanup_free char *result = NULL;
		int r = start_once(unit, props, &result, &e, err);

		if (r == -2) {
			sd.sd_bus_error_free(&e);
			return -1;
		}
		if (r < 0 && attempt == 0 &&
		    sd.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
			/* A failed unit of that name, left over: gone once reset. */
			sd.sd_bus_error_free(&e);
			reset_failed(unit);
			continue;
		}
		if (r < 0 && sd.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
			sd.sd_bus_error_free(&e);
			return error_msg(err,
			                 "systemd cgroup driver: unit `%s` already exists (another "
			                 "container has this linux.cgroupsPath)",
			                 unit);
		}
		if (r < 0) {
			error_msg(err, "systemd cgroup driver: start unit `%s`: %s", unit,
			          bus_reason(&e, r));
			sd.sd_bus_error_free(&e);
			return -1;
		}
		if (strcmp(result, "done") != 0) {
			reset_failed(unit);
			return error_msg(err,
			                 "systemd cgroup driver: start unit `%s`: the job ended "
			                 "\"%s\" (see `journalctl -u %s`)",
			                 unit, result, unit);
		}
		return 0;
	}
}

int sdbus_set_properties(const char *unit, const struct sd_props *props, struct skiff_error **err)
{
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	if (props->n == 0)
		return 0;
	if (new_call("SetUnitProperties", &m, err) < 0)
		return -1;
	r = sd.sd_bus_message_append(m, "sb", unit, 1);
	if (r >= 0)
		r = append_props(m, props);
	if (r >= 0)
		r = sd.sd_bus_call(bus, m, JOB_TIMEOUT_USEC, &e, &reply);
	if (r < 0)
		error_msg(err, "systemd cgroup driver: set the properties of unit `%s`: %s", unit,
		          bus_reason(&e, r));
	sd.sd_bus_error_free(&e);
	if (reply)
		sd.sd_bus_message_unref(reply);
	sd.sd_bus_message_unref(m);
	return r < 0 ? -1 : 0;
}

int sdbus_stop_unit(const char *unit, struct skiff_error **err)
{
	sd_bus_message *m = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	cleanup_free char *result = NULL;
	int r;

	if (new_call("StopUnit", &m, err) < 0)
		return -1;
	r = sd.sd_bus_message_append(m, "ss", unit, "replace");
	if (r < 0) {
		sd.sd_bus_message_unref(m);
		return error_set(err, -r, "systemd cgroup driver: stop `%s`: build the call", unit);
	}
	r = call_job(m, "stop", unit, &result, &e, err);
	sd.sd_bus_message_unref(m);
	if (r == -1 && !sd.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
		error_msg(err, "systemd cgroup driver: stop unit `%s`: %s", unit,
		          bus_reason(&e, r));
		sd.sd_bus_error_free(&e);
		return -1;
	}
	sd.sd_bus_error_free(&e);
	if (r == -2)
		return -1;
	/* A unit that failed stays loaded until reset. */
	if (result && strcmp(result, "done") != 0) {
		log_warning("systemd cgroup driver: stop unit `%s`: the job ended \"%s\"", unit,
		            result);
		reset_failed(unit);
	}
	return 0;
}

bool sdbus_unit_loaded(const char *unit)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r = sd.sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &e, &reply, "s",
	                              unit);

	sd.sd_bus_error_free(&e);
	if (reply)
		sd.sd_bus_message_unref(reply);
	return r >= 0;
}

static int manager_string(const char *name, char **out, struct skiff_error **err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = sd.sd_bus_get_property_string(bus, SD_DEST, SD_PATH, SD_MANAGER, name, &e, out);

	if (r < 0) {
		error_msg(err, "systemd cgroup driver: read the manager's %s: %s", name,
		          bus_reason(&e, r));
		sd.sd_bus_error_free(&e);
		return -1;
	}
	return 0;
}

int sdbus_systemd_version(void)
{
	static int version = -1;
	struct skiff_error *ignored = NULL;
	cleanup_free char *text = NULL;

	if (version >= 0)
		return version;
	version = 0;
	if (manager_string("Version", &text, &ignored) == 0)
		version = atoi(text + strspn(text, "v\""));
	error_free(&ignored);
	log_debug("systemd: version %d", version);
	return version;
}

const char *sdbus_endpoint(void)
{
	if (bus_direct)
		return bus_kind == SD_SYSTEM ? "/run/systemd/private"
		                             : "$XDG_RUNTIME_DIR/systemd/private";
	return bus_kind == SD_SYSTEM ? "the system bus" : "the user bus";
}

int sdbus_manager_cgroup(char **out, struct skiff_error **err)
{
	return manager_string("ControlGroup", out, err);
}
