/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The config's `mounts`: option decoding (one X-macro table of names and entries),
 * validation, safe path resolution inside the rootfs, and mounting one
 * entry through file descriptors.
 *
 * Every mount is built detached (open_tree(OPEN_TREE_CLONE) for binds,
 * fsopen/fsconfig/fsmount for filesystems), given its attributes while
 * still detached (which is also the only moment MOUNT_ATTR_IDMAP may be
 * set), and attached with move_mount() onto an O_PATH fd of the
 * destination.  No path string is ever resolved twice, so nothing can be
 * swapped in between the check and the mount.
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "mounts.h"
#include "utils.h"

/* ---- the option table ---- */

enum opt_kind {
	OPT_ATTR,    /* MOUNT_ATTR_* on the top mount */
	OPT_RATTR,   /* MOUNT_ATTR_* on the whole tree */
	OPT_ATIME,   /* atime mode (MOUNT_ATTR__ATIME field) on the top mount */
	OPT_RATIME,  /* the same, recursive */
	OPT_RO,      /* ro/rw: mount attribute, and the superblock flag of a new fs */
	OPT_SB,      /* superblock flag (MS_*) of a new filesystem */
	OPT_PROP,    /* propagation (MS_*) */
	OPT_RPROP,   /* propagation, recursive */
	OPT_BIND,    /* bind */
	OPT_RBIND,   /* rbind */
	OPT_REMOUNT, /* change an existing mount */
	OPT_IDMAP,   /* idmap */
	OPT_RIDMAP,  /* ridmap */
	OPT_IGNORE,  /* accepted, no effect (tmpcopyup, defaults, ...) */
};

/* X(name, kind, clear, flag), in name order (as features lists them) */
/* clang-format off */
#define MOUNT_OPTIONS(X) \
	X(async, OPT_SB, true, MS_SYNCHRONOUS) \
	X(atime, OPT_ATIME, false, MOUNT_ATTR_RELATIME) \
	X(bind, OPT_BIND, false, 0) \
	X(defaults, OPT_IGNORE, false, 0) \
	X(dev, OPT_ATTR, true, MOUNT_ATTR_NODEV) \
	X(diratime, OPT_ATTR, true, MOUNT_ATTR_NODIRATIME) \
	X(dirsync, OPT_SB, false, MS_DIRSYNC) \
	X(exec, OPT_ATTR, true, MOUNT_ATTR_NOEXEC) \
	X(idmap, OPT_IDMAP, false, 0) \
	X(iversion, OPT_IGNORE, false, 0) \
	X(lazytime, OPT_SB, false, MS_LAZYTIME) \
	X(loud, OPT_IGNORE, false, 0) \
	X(mand, OPT_SB, false, MS_MANDLOCK) \
	X(noatime, OPT_ATIME, false, MOUNT_ATTR_NOATIME) \
	X(nodev, OPT_ATTR, false, MOUNT_ATTR_NODEV) \
	X(nodiratime, OPT_ATTR, false, MOUNT_ATTR_NODIRATIME) \
	X(noexec, OPT_ATTR, false, MOUNT_ATTR_NOEXEC) \
	X(noiversion, OPT_IGNORE, false, 0) \
	X(nolazytime, OPT_SB, true, MS_LAZYTIME) \
	X(nomand, OPT_SB, true, MS_MANDLOCK) \
	X(norelatime, OPT_ATIME, false, MOUNT_ATTR_STRICTATIME) \
	X(nostrictatime, OPT_ATIME, false, MOUNT_ATTR_RELATIME) \
	X(nosuid, OPT_ATTR, false, MOUNT_ATTR_NOSUID) \
	X(nosymfollow, OPT_ATTR, false, MOUNT_ATTR_NOSYMFOLLOW) \
	X(private, OPT_PROP, false, MS_PRIVATE) \
	X(ratime, OPT_RATIME, false, MOUNT_ATTR_RELATIME) \
	X(rbind, OPT_RBIND, false, 0) \
	X(rdev, OPT_RATTR, true, MOUNT_ATTR_NODEV) \
	X(rdiratime, OPT_RATTR, true, MOUNT_ATTR_NODIRATIME) \
	X(relatime, OPT_ATIME, false, MOUNT_ATTR_RELATIME) \
	X(remount, OPT_REMOUNT, false, 0) \
	X(rexec, OPT_RATTR, true, MOUNT_ATTR_NOEXEC) \
	X(ridmap, OPT_RIDMAP, false, 0) \
	X(rnoatime, OPT_RATIME, false, MOUNT_ATTR_NOATIME) \
	X(rnodev, OPT_RATTR, false, MOUNT_ATTR_NODEV) \
	X(rnodiratime, OPT_RATTR, false, MOUNT_ATTR_NODIRATIME) \
	X(rnoexec, OPT_RATTR, false, MOUNT_ATTR_NOEXEC) \
	X(rnorelatime, OPT_RATIME, false, MOUNT_ATTR_STRICTATIME) \
	X(rnostrictatime, OPT_RATIME, false, MOUNT_ATTR_RELATIME) \
	X(rnosuid, OPT_RATTR, false, MOUNT_ATTR_NOSUID) \
	X(rnosymfollow, OPT_RATTR, false, MOUNT_ATTR_NOSYMFOLLOW) \
	X(ro, OPT_RO, false, MOUNT_ATTR_RDONLY) \
	X(rprivate, OPT_RPROP, false, MS_PRIVATE) \
	X(rrelatime, OPT_RATIME, false, MOUNT_ATTR_RELATIME) \
	X(rro, OPT_RATTR, false, MOUNT_ATTR_RDONLY) \
	X(rrw, OPT_RATTR, true, MOUNT_ATTR_RDONLY) \
	X(rshared, OPT_RPROP, false, MS_SHARED) \
	X(rslave, OPT_RPROP, false, MS_SLAVE) \
	X(rstrictatime, OPT_RATIME, false, MOUNT_ATTR_STRICTATIME) \
	X(rsuid, OPT_RATTR, true, MOUNT_ATTR_NOSUID) \
	X(rsymfollow, OPT_RATTR, true, MOUNT_ATTR_NOSYMFOLLOW) \
	X(runbindable, OPT_RPROP, false, MS_UNBINDABLE) \
	X(rw, OPT_RO, true, MOUNT_ATTR_RDONLY) \
	X(shared, OPT_PROP, false, MS_SHARED) \
	X(silent, OPT_IGNORE, false, 0) \
	X(slave, OPT_PROP, false, MS_SLAVE) \
	X(strictatime, OPT_ATIME, false, MOUNT_ATTR_STRICTATIME) \
	X(suid, OPT_ATTR, true, MOUNT_ATTR_NOSUID) \
	X(symfollow, OPT_ATTR, true, MOUNT_ATTR_NOSYMFOLLOW) \
	X(sync, OPT_SB, false, MS_SYNCHRONOUS) \
	X(tmpcopyup, OPT_IGNORE, false, 0) \
	X(unbindable, OPT_PROP, false, MS_UNBINDABLE)
/* clang-format on */

#define OPTION_NAME(name, kind, clear, flag) #name "\0"
#define OPTION_DEF(name, kind, clear, flag)  {kind, clear, flag},
static const char option_names[] = MOUNT_OPTIONS(OPTION_NAME);
/*
 * 8 bytes an entry, at the position of its name (no pointer to relocate and
 * keep): every MS_* and MOUNT_ATTR_* value here fits in 32 bits.
 */
static const struct mount_option {
	enum opt_kind kind : 8;
	bool clear;
	uint32_t flag;
} mount_options[] = {MOUNT_OPTIONS(OPTION_DEF)};

static const struct mount_option *option_find(const char *name)
{
	int i = name_index(option_names, name);

	return i < 0 ? NULL : &mount_options[i];
}

static void set_bits(uint64_t *set, uint64_t *clr, uint64_t flag, bool clear)
{
	if (clear) {
		*set &= ~flag;
		*clr |= flag;
	} else {
		*set |= flag;
		*clr &= ~flag;
	}
}

static void set_atime(uint64_t *set, uint64_t *clr, uint64_t mode)
{
	*set = (*set & ~(uint64_t)MOUNT_ATTR__ATIME) | mode;
	*clr |= MOUNT_ATTR__ATIME;
}

static void apply_option(struct mount_spec *s, const struct mount_option *o)
{
	switch (o->kind) {
	case OPT_ATTR:
		set_bits(&s->attr_set, &s->attr_clr, o->flag, o->clear);
		break;
	case OPT_RATTR:
		set_bits(&s->rattr_set, &s->rattr_clr, o->flag, o->clear);
		break;
	case OPT_ATIME:
		set_atime(&s->attr_set, &s->attr_clr, o->flag);
		break;
	case OPT_RATIME:
		set_atime(&s->rattr_set, &s->rattr_clr, o->flag);
		break;
	case OPT_RO:
		set_bits(&s->attr_set, &s->attr_clr, o->flag, o->clear);
		s->sb_rdonly = !o->clear;
		break;
	case OPT_SB:
		if (o->clear)
			s->sb_flags &= ~(unsigned long)o->flag;
		else
			s->sb_flags |= o->flag;
		break;
	case OPT_PROP:
	case OPT_RPROP:
		s->propagation = o->flag;
		s->propagation_rec = o->kind == OPT_RPROP;
		break;
	case OPT_RBIND:
		s->rbind = true;
		/* fall through */
	case OPT_BIND:
		s->bind = true;
		break;
	case OPT_REMOUNT:
		s->remount = true;
		break;
	case OPT_RIDMAP:
		s->ridmap = true;
		/* fall through */
	case OPT_IDMAP:
		s->idmap = true;
		break;
	case OPT_IGNORE:
		break;
	}
}

static bool is_bind_type(const char *type)
{
	return name_in("bind\0rbind", type) >= 0;
}

int mount_spec_parse(const struct oci_mount *m, const char *field, struct mount_spec *out,
                     struct skiff_error **err)
{
	size_t data_len = 0;

	memset(out, 0, sizeof(*out));
	out->bind = is_bind_type(m->type);
	out->rbind = m->type != NULL && strcmp(m->type, "rbind") == 0;
	for (char **p = m->options; p && *p; p++) {
		const struct mount_option *o = option_find(*p);

		if (o != NULL) {
			apply_option(out, o);
			continue;
		}
		if (**p == '\0')
			continue;
		/*
		 * Anything else is filesystem data: "mode=755", "size=64k", "newinstance".
		 * A bind mount has no filesystem to hand it to: mount(2) ignores it there,
		 * and so does skiff (configs written for runc carry such options on binds).
		 */
		size_t n = strlen(*p);
		out->data = xrealloc(out->data, data_len + n + 2);
		if (data_len)
			out->data[data_len++] = ',';
		memcpy(out->data + data_len, *p, n + 1);
		data_len += n;
	}
	if (out->idmap && !out->bind) {
		mount_spec_free(out);
		return error_msg(err, "%s.options: \"%s\" requires a bind mount", field,
		                 out->ridmap ? "ridmap" : "idmap");
	}
	if ((m->uid_mappings_len || m->gid_mappings_len) && !out->idmap) {
		mount_spec_free(out);
		return error_msg(err,
		                 "%s: uidMappings/gidMappings require the \"idmap\" or "
		                 "\"ridmap\" option",
		                 field);
	}
	return 0;
}

void mount_spec_free(struct mount_spec *s)
{
	free(s->data);
	s->data = NULL;
}

long mounts_propagation_flags(const char *value)
{
	static const struct {
		const char *name;
		long flags;
	} table[] = {
	    {"private", MS_PRIVATE},
	    {"rprivate", MS_PRIVATE | MS_REC},
	    {"rshared", MS_SHARED | MS_REC},
	    {"rslave", MS_SLAVE | MS_REC},
	    {"runbindable", MS_UNBINDABLE | MS_REC},
	    {"shared", MS_SHARED},
	    {"slave", MS_SLAVE},
	    {"unbindable", MS_UNBINDABLE},
	};

	if (value == NULL || *value == '\0')
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcmp(value, table[i].name) == 0)
			return table[i].flags;
	return -1;
}

/* ---- validation ---- */

static int validate_mounts(const struct oci_config *c, struct skiff_error **err)
{
	for (size_t i = 0; i < c->mounts_len; i++) {
		const struct oci_mount *m = &c->mounts[i];
		char field[32];
		struct mount_spec s;

		snprintf(field, sizeof(field), "mounts[%zu]", i);
		if (m->destination == NULL || m->destination[0] != '/')
			return error_msg(err,
			                 "%s.destination: must be an absolute path, got \"%s\"",
			                 field, m->destination ? m->destination : "");
		if (mount_spec_parse(m, field, &s, err) < 0)
			return -1;
		mount_spec_free(&s);
		if (s.remount)
			continue;
		if (s.bind && (m->source == NULL || *m->source == '\0'))
			return error_msg(err, "%s.source: a bind mount needs a source", field);
		if (!s.bind && (m->type == NULL || *m->type == '\0'))
			return error_msg(err, "%s.type: required for a non-bind mount", field);
	}
	return 0;
}

static int validate_devices(const struct oci_linux *l, struct skiff_error **err)
{
	for (size_t i = 0; i < l->devices_len; i++) {
		const struct oci_device *d = &l->devices[i];
		const char *t = d->type ? d->type : "";

		if (d->path == NULL || d->path[0] != '/')
			return error_msg(err,
			                 "linux.devices[%zu].path: must be an absolute path, got "
			                 "\"%s\"",
			                 i, d->path ? d->path : "");
		if (name_in("c\0b\0u\0p", t) < 0)
			return error_msg(err,
			                 "linux.devices[%zu].type: unknown type \"%s\" (want c, b, "
			                 "u or p)",
			                 i, t);
		if (strcmp(t, "p") != 0 && (!d->has_major || !d->has_minor))
			return error_msg(
			    err,
			    "linux.devices[%zu]: major and minor are required for type "
			    "\"%s\"",
			    i, t);
		if (d->has_major && (d->major < 0 || d->major > 0xfff))
			return error_msg(err, "linux.devices[%zu].major: %lld out of range", i,
			                 (long long)d->major);
		if (d->has_minor && (d->minor < 0 || d->minor > 0xfffff))
			return error_msg(err, "linux.devices[%zu].minor: %lld out of range", i,
			                 (long long)d->minor);
	}
	return 0;
}

static int validate_paths(char **paths, const char *field, struct skiff_error **err)
{
	for (size_t i = 0; paths && paths[i]; i++)
		if (paths[i][0] != '/')
			return error_msg(err, "%s[%zu]: must be an absolute path, got \"%s\"",
			                 field, i, paths[i]);
	return 0;
}

static bool has_mount_namespace(const struct oci_linux *l)
{
	for (size_t i = 0; l && i < l->namespaces_len; i++)
		if (l->namespaces[i].type && strcmp(l->namespaces[i].type, "mount") == 0)
			return true;
	return false;
}

int mounts_validate(const struct oci_config *c, struct skiff_error **err)
{
	const struct oci_linux *l = c->linux_;

	if (validate_mounts(c, err) < 0)
		return -1;
	/*
	 * Without a mount namespace of its own the container shares the
	 * runtime's (as with runc): masking would change the host's view.
	 */
	if (!has_mount_namespace(l) && (l->masked_paths || l->readonly_paths))
		return error_msg(err,
		                 "linux.%s: needs a \"mount\" namespace (in the runtime's, "
		                 "masking would change the host's own mounts)",
		                 l->masked_paths ? "maskedPaths" : "readonlyPaths");
	if (mounts_propagation_flags(l->rootfs_propagation) < 0)
		return error_msg(err,
		                 "linux.rootfsPropagation: unknown value \"%s\" (want shared, "
		                 "slave, private or unbindable, optionally with an r prefix)",
		                 l->rootfs_propagation);
	if (validate_devices(l, err) < 0)
		return -1;
	if (validate_paths(l->masked_paths, "linux.maskedPaths", err) < 0)
		return -1;
	return validate_paths(l->readonly_paths, "linux.readonlyPaths", err);
}

/* ---- paths inside the rootfs ---- */

char *path_clean(const char *path)
{
	size_t n = strlen(path);
	char *out = xmalloc(n + 2);
	size_t len = 0;
	const char *p = path;

	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t seg = (size_t)(end - p);

		if (seg == 0 || (seg == 1 && p[0] == '.')) {
			/* nothing */
		} else if (seg == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--; /* the slash */
		} else {
			out[len++] = '/';
			memcpy(out + len, p, seg);
			len += seg;
		}
		p = end;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	if (flags & IN_ROOT_NO_SYMLINKS)
		how.resolve |= RESOLVE_NO_SYMLINKS;
	if (flags & IN_ROOT_NOFOLLOW)
		how.flags |= O_NOFOLLOW;
	/* EAGAIN: a rename raced with RESOLVE_IN_ROOT's ".." check; retry a few times. */
	for (int tries = 0; tries < 16; tries++) {
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd >= 0 ? fd : -errno;
}

static int create_component(int parentfd, const char *name, bool make_file)
{
	if (make_file) {
		int fd = openat(parentfd, name,
		                O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 0;
	}
	if (mkdirat(parentfd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Where an fd points, from /proc/self/fd (absolute; NULL when unknown). */
static char *fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0 || buf[0] != '/')
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * Component `name` of `parent` is a symlink whose target is missing.  runc
 * and crun create that target, inside the rootfs: this returns the path,
 * inside the root, that the link names, followed by `rest` (NULL: not a
 * symlink, or a parent found outside the root).
 */
static char *dangling_target(int rootfd, int parent, const char *name, const char *rest)
{
	cleanup_free char *root = NULL, *base = NULL;
	char target[PATH_MAX];
	ssize_t n = readlinkat(parent, name, target, sizeof(target) - 1);
	size_t len;

	if (n <= 0)
		return NULL;
	target[n] = '\0';
	if (target[0] == '/')
		return xasprintf("%s/%s", target, rest);
	root = fd_path(rootfd);
	base = fd_path(parent);
	if (root == NULL || base == NULL)
		return NULL;
	len = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(base, root, len) != 0 || (base[len] != '/' && base[len] != '\0'))
		return NULL;
	return xasprintf("%s/%s/%s", base + len, target, rest);
}

/* Symlinks followed by hand to their missing targets, at most (as the kernel's MAXSYMLINKS). */
#define DANGLING_MAX 40

static int mkpath_depth(int rootfd, const char *path, bool make_file, int flags, const char *what,
                        int depth, struct skiff_error **err);

int mkpath_in_root(int rootfd, const char *path, bool make_file, int flags, const char *what,
                   struct skiff_error **err)
{
	return mkpath_depth(rootfd, path, make_file, flags, what, 0, err);
}

/* It exists, yet does not resolve: a symlink to nowhere; its target is made in the rootfs. */
static int follow_dangling(int rootfd, int parent, char *clean, const char *name, char *slash,
                           bool make_file, int flags, const char *what, int depth,
                           struct skiff_error **err)
{
	cleanup_free char *next = NULL;

	next = depth < DANGLING_MAX ? dangling_target(rootfd, parent, name, slash ? slash + 1 : "")
	                            : NULL;
	if (next == NULL)
		return error_set(err, ENOENT,
		                 "%s: resolve %s inside the rootfs (a symlink to a missing target)",
		                 what, clean);
	return mkpath_depth(rootfd, next, make_file, flags, what, depth + 1, err);
}

static int mkpath_depth(int rootfd, const char *path, bool make_file, int flags, const char *what,
                        int depth, struct skiff_error **err)
{
	cleanup_free char *clean = path_clean(path);
	cleanup_close int parent = -1;
	int fd, last_flags = flags, mid_flags = flags & ~IN_ROOT_NOFOLLOW;
	char *p;

	fd = open_in_root(rootfd, clean, last_flags);
	if (fd >= 0 || fd != -ENOENT)
		goto done;

	/* Walk down from "/", creating each missing component in its resolved parent. */
	parent = open_in_root(rootfd, "/", 0);
	if (parent < 0)
		return error_set(err, -parent, "%s: open the rootfs", what);
	p = clean;
	for (;;) {
		char *name = p + 1;
		char *slash = strchr(name, '/');
		bool last = slash == NULL;

		if (slash)
			*slash = '\0';
		fd = open_in_root(rootfd, clean, last ? last_flags : mid_flags);
		if (fd == -ENOENT) {
			int r = create_component(parent, name, last && make_file);
			if (r < 0) {
				errno = -r;
				return error_errno(err, "%s: create %s", what, clean);
			}
			fd = open_in_root(rootfd, clean, last ? last_flags : mid_flags);
			if (fd == -ENOENT)
				return follow_dangling(rootfd, parent, clean, name, slash,
				                       make_file, flags, what, depth, err);
		}
		if (last || fd < 0)
			break;
		*slash = '/';
		close(parent);
		parent = fd;
		p = slash;
	}
done:
	if (fd < 0) {
		errno = -fd;
		if (fd == -ELOOP || fd == -EXDEV)
			return error_errno(err,
			                   "%s: resolve %s inside the rootfs (refusing a "
			                   "symlink)",
			                   what, clean);
		return error_errno(err, "%s: resolve %s inside the rootfs", what, clean);
	}
	return fd;
}

/* ---- mounting ---- */

static bool same_inode(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int mount_set_attr(int fd, bool recursive, uint64_t set, uint64_t clr, unsigned long propagation)
{
	struct mount_attr attr = {
	    .attr_set = set,
	    .attr_clr = clr,
	    .propagation = propagation,
	};

	if (set == 0 && clr == 0 && propagation == 0)
		return 0;
	return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
	                     sizeof(attr));
}

static char *map_text(const struct oci_id_mapping *map, size_t len)
{
	char *text = xstrdup("");

	for (size_t i = 0; i < len; i++) {
		char *next = xasprintf("%s%u %u %u\n", text, map[i].container_id, map[i].host_id,
		                       map[i].size);
		free(text);
		text = next;
	}
	return text;
}

static int write_map(pid_t pid, const char *file, const char *text)
{
	char path[64];
	cleanup_close int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	return 0;
}

/*
 * A user namespace holding the mount's mappings, for MOUNT_ATTR_IDMAP.
 * Without mappings the container's own user namespace is used (spec 1.2).
 * A throwaway child is cloned into a new user namespace, its maps are
 * written from here, and its namespace is kept through an fd.
 */
static int idmap_userns(const struct oci_mount *m, pid_t init, const char *what,
                        struct skiff_error **err)
{
	cleanup_free char *uid_text = NULL, *gid_text = NULL;
	int pipefd[2], nsfd = -1, saved = 0;
	char path[64];
	pid_t pid;

	if (m->uid_mappings_len == 0 && m->gid_mappings_len == 0) {
		if (init > 0)
			snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)init);
		else
			snprintf(path, sizeof(path), "/proc/self/ns/user");
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			return error_errno(err, "%s: open %s", what, path);
		return nsfd;
	}
	uid_text = map_text(m->uid_mappings, m->uid_mappings_len);
	gid_text = map_text(m->gid_mappings, m->gid_mappings_len);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return error_errno(err, "%s: pipe", what);
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		saved = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return error_set(err, saved, "%s: create a user namespace for idmap", what);
	}
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		/* Holds the namespace alive until the parent closes the pipe. */
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pipefd[0]);
	if (write_map(pid, "uid_map", uid_text) < 0 || write_map(pid, "gid_map", gid_text) < 0) {
		saved = errno;
	} else {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			saved = errno;
	}
	close(pipefd[1]);
	wait_pid(pid, NULL);
	if (nsfd < 0)
		return error_set(err, saved, "%s: write the idmap user namespace maps", what);
	return nsfd;
}

/* fsconfig() errors carry a message in the fs context ("tmpfs: Bad value for 'size'"). */
static int fs_error(int fsfd, struct skiff_error **err, int errnum, const char *what,
                    const char *step)
{
	char log[256];
	ssize_t n = fsfd >= 0 ? read(fsfd, log, sizeof(log) - 1) : -1;

	if (n > 2) {
		log[n] = '\0';
		log[strcspn(log, "\n")] = '\0';
		return error_set(err, errnum, "%s: %s (%s)", what, step, log + 2);
	}
	return error_set(err, errnum, "%s: %s", what, step);
}

/* Creates the configured superblock and a detached mount of it with attrs; the
 * fs context's own message names what failed (`step` when it has none). */
static int fs_mount_configured(int fsfd, uint64_t attrs, const char *what, const char *step,
                               struct skiff_error **err)
{
	int mfd;

	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fs_error(fsfd, err, errno, what, step);
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned int)attrs);
	if (mfd < 0)
		return fs_error(fsfd, err, errno, what, "fsmount");
	return mfd;
}

/*
 * Splits mount data at commas outside double quotes: an SELinux context
 * ("context=\"system_u:object_r:t:s0:c1,c2\"") holds commas of its own.
 * Returns the next option (quotes removed, so fsconfig gets the bare
 * value) and advances *cursor; NULL at the end.
 */
static char *next_data_option(char **cursor)
{
	char *start = *cursor, *out = start, *in = start;
	bool quoted = false;

	if (start == NULL || *start == '\0')
		return NULL;
	for (; *in && (quoted || *in != ','); in++) {
		if (*in == '"')
			quoted = !quoted;
		else
			*out++ = *in;
	}
	*cursor = *in ? in + 1 : NULL;
	*out = '\0';
	return start;
}

static int fs_set_data(int fsfd, const char *data, const char *what, struct skiff_error **err)
{
	cleanup_free char *copy = xstrdup(data);
	char *cursor = copy;

	for (char *opt; (opt = next_data_option(&cursor)) != NULL;) {
		char *eq = strchr(opt, '=');
		int r;

		if (*opt == '\0')
			continue;
		if (eq) {
			*eq = '\0';
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
			*eq = '=';
		} else {
			r = fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
		if (r < 0) {
			int saved = errno;
			cleanup_free char *step = xasprintf("option \"%s\"", opt);
			return fs_error(fsfd, err, saved, what, step);
		}
	}
	return 0;
}

static int fs_set_sb_flags(int fsfd, const struct mount_spec *s, const char *what,
                           struct skiff_error **err)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} sb[] = {
	    {MS_SYNCHRONOUS, "sync"},
	    {MS_DIRSYNC, "dirsync"},
	    {MS_MANDLOCK, "mand"},
	    {MS_LAZYTIME, "lazytime"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(sb); i++)
		if ((s->sb_flags & sb[i].flag) &&
		    fsconfig(fsfd, FSCONFIG_SET_FLAG, sb[i].name, NULL, 0) < 0)
			return fs_error(fsfd, err, errno, what, sb[i].name);
	if (s->sb_rdonly && fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
		return fs_error(fsfd, err, errno, what, "ro");
	return 0;
}

/* The mount attributes a fresh mount gets: recursive ones first, then the top-level ones. */
static uint64_t fresh_attrs(const struct mount_spec *s)
{
	uint64_t a = 0;

	a = (a & ~s->rattr_clr) | s->rattr_set;
	return (a & ~s->attr_clr) | s->attr_set;
}

/* A new, detached filesystem mount. */
static int fs_create(const struct oci_mount *m, const struct mount_spec *s, bool force_ro,
                     const char *what, struct skiff_error **err)
{
	cleanup_close int fsfd = -1;
	const char *type = m->type;
	uint64_t attrs = fresh_attrs(s);

	/* skiff drives cgroup v2 only: "cgroup" means the unified hierarchy, on v2 and hybrid
	 * hosts. */
	if (strcmp(type, "cgroup") == 0)
		type = "cgroup2";
	if (force_ro)
		attrs |= MOUNT_ATTR_RDONLY;
	fsfd = fsopen(type, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return error_errno(err, "%s: fsopen %s", what, type);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source",
	             m->source && *m->source ? m->source : type, 0) < 0)
		return fs_error(fsfd, err, errno, what, "source");
	if (s->data && fs_set_data(fsfd, s->data, what, err) < 0)
		return -1;
	if (fs_set_sb_flags(fsfd, s, what, err) < 0)
		return -1;
	return fs_mount_configured(fsfd, attrs, what, "create", err);
}

static char *bind_source(const char *source, const char *bundle)
{
	if (source[0] == '/' || bundle == NULL)
		return xstrdup(source);
	return xasprintf("%s/%s", bundle, source);
}

/* A detached copy of the host path, with the entry's attributes set. */
static int bind_create(const char *src, const struct mount_spec *s, const char *what,
                       struct skiff_error **err)
{
	cleanup_close int tree = -1;

	tree = open_tree(AT_FDCWD, src,
	                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (s->rbind ? AT_RECURSIVE : 0));
	if (tree < 0)
		return error_errno(err, "%s: open_tree %s", what, src);
	if (mount_set_attr(tree, true, s->rattr_set, s->rattr_clr, 0) < 0)
		return error_errno(err, "%s: set recursive attributes", what);
	if (mount_set_attr(tree, false, s->attr_set, s->attr_clr, 0) < 0)
		return error_errno(err, "%s: set attributes", what);
	return steal_fd(&tree);
}

/*
 * A cgroup mount without a cgroup namespace binds the container's own
 * cgroup directory.  A fresh cgroup2 mount would re-apply its mount
 * options (nsdelegate, memory_recursiveprot...) to the host's one shared
 * hierarchy, silently clearing the host's settings; it is also slow.
 */
static int cgroup_bind_create(const struct mount_spec *s, const char *what,
                              struct skiff_error **err)
{
	cleanup_free char *own = NULL, *src = NULL;
	const char *mnt = NULL;

	if (cgroup_mountpoint(&mnt, err) < 0 || cgroup_own_path(&own, err) < 0)
		return error_wrap(err, "%s", what);
	src = xasprintf("%s%s", mnt, strcmp(own, "/") == 0 ? "" : own);
	return bind_create(src, s, what, err);
}

/*
 * A cgroup mount on a legacy or hybrid host shows what runc shows there: a
 * tmpfs holding, read-only as the entry says, the container's cgroup in
 * each v1 hierarchy (a bind in the host's cgroup namespace, a fresh v1
 * mount in its own), named as on the host, with a symlink per co-mounted
 * controller ("cpu" -> "cpu,cpuacct").  Programs that size themselves from
 * memory.limit_in_bytes or cpu.cfs_quota_us (JVMs, Go's automaxprocs)
 * find the container's limits where they look.  Returns the tmpfs; the
 * hierarchies go in once it is attached (cgroup_v1_fill).
 */
static int cgroup_v1_tmpfs(const struct mount_spec *s, const char *what, struct skiff_error **err)
{
	cleanup_close int fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	uint64_t attrs = fresh_attrs(s) & ~(uint64_t)MOUNT_ATTR_RDONLY;

	if (fsfd < 0)
		return error_errno(err, "%s: fsopen tmpfs", what);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0)
		return fs_error(fsfd, err, errno, what, "source");
	/*
	 * 0555, as runc leaves it (it carries over the mode of the sysfs directory
	 * it covers): a container's root cannot add entries beside the hierarchies.
	 */
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", "555", 0) < 0)
		return fs_error(fsfd, err, errno, what, "mode");
	return fs_mount_configured(fsfd, attrs, what, "create", err);
}

/* The hierarchy's directory in the tmpfs, and a symlink per co-mounted controller. */
static int cgroup_v1_place(int top, int tree, const struct cgroup_v1_hierarchy *h, const char *what,
                           struct skiff_error **err)
{
	const char *name = strrchr(h->mnt, '/') ? strrchr(h->mnt, '/') + 1 : h->mnt;
	cleanup_free char *ctls = xstrdup(h->controllers);
	char *save = NULL;

	if (mkdirat(top, name, 0755) < 0)
		return error_errno(err, "%s: mkdir %s", what, name);
	if (move_mount(tree, "", top, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return error_errno(err, "%s: mount %s on %s", what, h->controllers, name);
	for (char *c = strtok_r(ctls, ",", &save); c; c = strtok_r(NULL, ",", &save))
		if (strcmp(c, name) != 0 && !str_has_prefix(c, "name=") &&
		    symlinkat(name, top, c) < 0 && errno != EEXIST)
			return error_errno(err, "%s: symlink %s", what, c);
	return 0;
}

/* In the host's cgroup namespace: a bind of the container's own cgroup. */
static int cgroup_v1_bind_create(const struct cgroup_v1_hierarchy *h, const struct mount_spec *s,
                                 const char *what, struct skiff_error **err)
{
	cleanup_free char *src =
	    xasprintf("%s%s", h->mnt, strcmp(h->path, "/") == 0 ? "" : h->path);

	return bind_create(src, s, what, err);
}

/*
 * In the container's cgroup namespace: a v1 mount of the same hierarchy
 * (same controllers, so the kernel reuses its superblock), rooted by the
 * namespace at the container's cgroup, as runc mounts it.
 */
static int cgroup_v1_fresh_create(const struct cgroup_v1_hierarchy *h, const struct mount_spec *s,
                                  const char *what, struct skiff_error **err)
{
	cleanup_close int fsfd = fsopen("cgroup", FSOPEN_CLOEXEC);
	cleanup_free char *ctls = xstrdup(h->controllers);
	char *save = NULL;

	if (fsfd < 0)
		return error_errno(err, "%s: fsopen cgroup", what);
	/* A named hierarchy shows its name as the source ("systemd"), as with runc. */
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source",
	             str_has_prefix(h->controllers, "name=") ? h->controllers + 5 : "cgroup",
	             0) < 0)
		return fs_error(fsfd, err, errno, what, "source");
	for (char *c = strtok_r(ctls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		int r = str_has_prefix(c, "name=")
		            ? fsconfig(fsfd, FSCONFIG_SET_STRING, "name", c + 5, 0)
		            : fsconfig(fsfd, FSCONFIG_SET_FLAG, c, NULL, 0);
		if (r < 0)
			return fs_error(fsfd, err, errno, what, c);
	}
	return fs_mount_configured(fsfd, fresh_attrs(s), what, h->controllers, err);
}

static int cgroup_v1_fill(int top, const struct cgroup_v1_hierarchy *h, size_t n,
                          const struct mount_spec *s, bool own_ns, const char *what,
                          struct skiff_error **err)
{
	for (size_t i = 0; i < n; i++) {
		cleanup_close int tree = own_ns ? cgroup_v1_fresh_create(&h[i], s, what, err)
		                                : cgroup_v1_bind_create(&h[i], s, what, err);

		if (tree < 0 || cgroup_v1_place(top, tree, &h[i], what, err) < 0)
			return -1;
	}
	return 0;
}

static int sysfs_bind_create(const struct mount_spec *s, const char *what, struct skiff_error **err)
{
	struct mount_spec ro = *s;
	int tree;

	error_free(err);
	ro.rbind = true;
	ro.rattr_set |=
	    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	tree = bind_create("/sys", &ro, what, err);
	return tree;
}

static int set_idmap(int tree, const struct oci_mount *m, const struct mount_spec *s, pid_t init,
                     const char *what, struct skiff_error **err)
{
	cleanup_close int nsfd = idmap_userns(m, init, what, err);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP};

	if (nsfd < 0)
		return -1;
	attr.userns_fd = (uint64_t)nsfd;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (s->ridmap ? AT_RECURSIVE : 0), &attr,
	                  sizeof(attr)) < 0)
		return error_errno(err, "%s: idmap", what);
	return 0;
}

/* "remount": change the attributes of what is already mounted at the destination. */
static int remount_entry(int rootfd, const struct oci_mount *m, const struct mount_spec *s,
                         const char *what, struct skiff_error **err)
{
	cleanup_close int fd = open_in_root(rootfd, m->destination, 0);

	if (fd < 0) {
		errno = -fd;
		return error_errno(err, "%s: resolve %s inside the rootfs", what, m->destination);
	}
	if (mount_set_attr(fd, true, s->rattr_set, s->rattr_clr, 0) < 0 ||
	    mount_set_attr(fd, false, s->attr_set, s->attr_clr, 0) < 0)
		return error_errno(err, "%s: remount", what);
	if (mount_set_attr(fd, s->propagation_rec, 0, 0, s->propagation) < 0)
		return error_errno(err, "%s: set propagation", what);
	return 0;
}

int mount_bind_source(const struct oci_mount *m, const struct mount_spec *s, const char *bundle,
                      unsigned long propagation, pid_t init, struct skiff_error **err)
{
	cleanup_free char *src = bind_source(m->source, bundle);
	cleanup_free char *what = xasprintf("mount %s on %s", src, m->destination);
	cleanup_close int tree = bind_create(src, s, what, err);

	if (tree < 0)
		return -1;
	/* A clone of a shared host mount is a peer of it: container mounts would reach the host. */
	if (mount_set_attr(tree, true, 0, 0, propagation) < 0)
		return error_errno(err, "%s: cut propagation to the host", what);
	if (s->idmap && set_idmap(tree, m, s, init, what, err) < 0)
		return -1;
	return steal_fd(&tree);
}

enum bind_maker mount_bind_maker(const struct oci_mount *m, const struct mount_spec *s, bool userns)
{
	bool mappings = m->uid_mappings_len || m->gid_mappings_len;

	if (!s->bind || s->remount)
		return BIND_BY_INIT;
	/* Without mappings an idmap uses the container's user namespace: once it exists. */
	if (s->idmap && !mappings)
		return userns ? BIND_BY_RUNTIME_AFTER_CLONE : BIND_BY_INIT;
	return s->idmap || userns ? BIND_BY_RUNTIME : BIND_BY_INIT;
}

/* The files under /proc that lxcfs emulates: the only mount destinations inside procfs. */
static const char *const proc_overmounts[] = {
    "/proc/cpuinfo",
    "/proc/diskstats",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/swaps",
    "/proc/uptime",
    "/proc/loadavg",
    "/proc/slabinfo",
    "/proc/sys/kernel/ns_last_pid",
    "/proc/sys/crypto/fips_enabled",
};

/* `dest` is one of lxcfs's files, named so by the config and reached without a symlink. */
static bool is_proc_overmount(int rootfd, int dest, const char *destination)
{
	cleanup_free char *clean = path_clean(destination);

	for (size_t i = 0; i < ARRAY_SIZE(proc_overmounts); i++) {
		if (strcmp(clean, proc_overmounts[i]) == 0) {
			cleanup_close int fd = open_in_root(rootfd, clean, IN_ROOT_NO_SYMLINKS);
			return fd >= 0 && same_inode(fd, dest);
		}
	}
	return false;
}

/*
 * A mount over /proc, or inside the container's procfs, would take the
 * writes meant for procfs (LSM attributes, sysctls) and hide what the
 * masked and read-only paths protect: only a procfs may cover /proc, and
 * only lxcfs's files may be covered inside it (runc's rules).  The check
 * is on the resolved destination, so a directory of a shared volume swapped
 * for a symlink into /proc while mounts are set up (CVE-2019-19921,
 * CVE-2025-52881) cannot move a mount there either.
 */
static int check_proc_destination(int rootfd, int dest, int tree, const char *destination,
                                  bool is_proc, const char *what, struct skiff_error **err)
{
	cleanup_close int proc = open_in_root(rootfd, "/proc", IN_ROOT_NO_SYMLINKS);
	struct statfs sfs;

	if (proc >= 0 && same_inode(proc, dest)) {
		if (is_proc || (fstatfs(tree, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC))
			return 0;
		return error_msg(err, "%s: only procfs may be mounted on /proc", what);
	}
	if (fstatfs(dest, &sfs) < 0)
		return error_errno(err, "%s: statfs the destination", what);
	if (sfs.f_type != PROC_SUPER_MAGIC || is_proc_overmount(rootfd, dest, destination))
		return 0;
	return error_msg(err,
	                 "%s: the destination is inside /proc, where only lxcfs's files may be "
	                 "mounted",
	                 what);
}

static int attach_entry(int rootfd, const struct oci_mount *m, const struct mount_spec *s,
                        const char *bundle, int src_tree, unsigned int flags,
                        const struct cgroup_v1_hierarchy *v1, size_t nv1, int *attached,
                        struct skiff_error **err)
{
	cleanup_free char *src = NULL, *what = NULL;
	cleanup_close int tree = src_tree, dest = -1;
	const char *type = m->type ? m->type : "";
	bool is_proc = strcmp(type, "proc") == 0, is_sysfs = strcmp(type, "sysfs") == 0;
	bool is_cgroup = strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0;
	bool make_file = false;
	struct stat st;

	if (s->bind && m->source) {
		src = bind_source(m->source, bundle);
		what = xasprintf("mount %s on %s", src, m->destination);
	} else {
		what = xasprintf("mount %s on %s", type, m->destination);
	}
	if (s->remount)
		return remount_entry(rootfd, m, s, what, err);
	if (s->bind ? m->source == NULL : *type == '\0')
		return error_msg(err, "%s: missing %s", what, s->bind ? "source" : "type");

	if (s->bind) {
		if (tree < 0)
			tree = bind_create(src, s, what, err);
		if (tree < 0)
			return -1;
		if (fstat(tree, &st) < 0)
			return error_errno(err, "%s: stat %s", what, src);
		make_file = !S_ISDIR(st.st_mode);
	} else if (is_cgroup && nv1) {
		tree = cgroup_v1_tmpfs(s, what, err);
	} else if (is_cgroup && (flags & MOUNT_HOST_CGROUPNS)) {
		tree = cgroup_bind_create(s, what, err);
	} else {
		tree = fs_create(m, s, is_sysfs && (flags & MOUNT_SYSFS_RO), what, err);
		/*
		 * A user namespace that shares the host's network namespace may not
		 * mount sysfs (the kernel ties it to the netns owner): bind the
		 * host's /sys read-only instead, as runc does.
		 */
		if (tree < 0 && is_sysfs && (*err)->errnum == EPERM)
			tree = sysfs_bind_create(s, what, err);
	}
	if (tree < 0)
		return -1;
	if (s->idmap && src_tree < 0 && set_idmap(tree, m, s, 0, what, err) < 0)
		return -1;

	/*
	 * procfs and sysfs are where the runtime later writes (attr, sysctls):
	 * their destination may not pass through any symlink (CVE-2019-16884).
	 */
	dest = mkpath_in_root(rootfd, m->destination, make_file,
	                      is_proc || is_sysfs ? IN_ROOT_NO_SYMLINKS : 0, what, err);
	if (dest < 0)
		return -1;
	/* A destination resolving to "/" (a symlink to ".." in the image) would hide the rootfs. */
	if (same_inode(dest, rootfd))
		return error_msg(err, "%s: the destination resolves to the rootfs itself", what);
	if (check_proc_destination(rootfd, dest, tree, m->destination, is_proc, what, err) < 0)
		return -1;
	if (is_proc) {
		struct statfs sfs;
		if (fstatfs(tree, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
			return error_msg(err, "%s: the new mount is not procfs", what);
	}
	if (move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return error_errno(err, "%s", what);
	if (nv1 && cgroup_v1_fill(tree, v1, nv1, s, !(flags & MOUNT_HOST_CGROUPNS), what, err) < 0)
		return -1;
	if (mount_set_attr(tree, s->propagation_rec, 0, 0, s->propagation) < 0)
		return error_errno(err, "%s: set propagation", what);
	if (attached)
		*attached = steal_fd(&tree);
	return 0;
}

int mount_entry(int rootfd, const struct oci_mount *m, const struct mount_spec *s,
                const char *bundle, int src_tree, unsigned int flags, int *attached,
                struct skiff_error **err)
{
	struct cgroup_v1_hierarchy *v1 = NULL;
	size_t nv1 = 0;
	int ret;

	/* "cgroup" (not "cgroup2"): v1's layout where the host has one, as runc shows it. */
	if (m->type && strcmp(m->type, "cgroup") == 0 && !s->bind && !s->remount &&
	    cgroup_v1_hierarchies(&v1, &nv1, err) < 0) {
		if (src_tree >= 0)
			close(src_tree);
		return error_wrap(err, "mount cgroup on %s", m->destination);
	}
	ret = attach_entry(rootfd, m, s, bundle, src_tree, flags, v1, nv1, attached, err);
	cgroup_v1_hierarchies_free(v1, nv1);
	return ret;
}

const char *const *mount_option_names(void)
{
	static const char *names[ARRAY_SIZE(mount_options) + 1];
	size_t n = 0;

	/*
	 * Accepted without their effect (tmpcopyup, iversion, loud...) is not
	 * supported: features lists only "defaults" of those, which means nothing.
	 */
	if (names[0] == NULL) {
		const struct mount_option *o = mount_options;
		for (NAME_EACH(name, option_names), o++)
			if (o->kind != OPT_IGNORE || strcmp(name, "defaults") == 0)
				names[n++] = name;
	}
	return names;
}
