/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mounts/rootfs/devices: validation messages, then real containers' views
 * built in forked children, each in its own mount namespace (their mounts
 * vanish with them).  A child reports its checks over a pipe as lines
 * "1 what" / "0 what"; the parent turns them into TAP.
 */
#define _GNU_SOURCE
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libskiff/devices.h"
#include "libskiff/mounts.h"
#include "libskiff/procfs.h"
#include "libskiff/rootfs.h"
#include "libskiff/utils.h"
#include "tap.h"

#define STRV(...) ((char *[]){__VA_ARGS__, NULL})

static struct oci_mount mnt(const char *dest, const char *type, const char *src, char **opts)
{
	return (struct oci_mount){.destination = (char *)dest,
	                          .type = (char *)type,
	                          .source = (char *)src,
	                          .options = opts};
}

/* ---- validation ---- */

static char *validate_msg(const struct oci_config *c)
{
	struct skiff_error *err = NULL;
	char *text;

	if (mounts_validate(c, &err) == 0)
		return NULL;
	text = err ? error_text(err) : xstrdup("(no error set)");
	error_free(&err);
	return text;
}

static void check_validate_msg(struct oci_config *c, const char *want, const char *what)
{
	cleanup_free char *got = validate_msg(c);
	ok_str(got, want, "validate: %s", what);
}

static void test_validate(void)
{
	struct oci_mount mounts[4] = {
	    mnt("/proc", "proc", "proc", NULL),
	    mnt("/dev", "tmpfs", "tmpfs", STRV("nosuid", "mode=755", "size=65536k")),
	    mnt("/dev/pts", "devpts", "devpts", STRV("newinstance", "ptmxmode=0666")),
	    mnt("/data", "bind", "/srv", STRV("rbind", "ro", "rprivate", "tmpcopyup")),
	};
	struct oci_device devs[2] = {
	    {.type = "c",
	     .path = "/dev/fuse",
	     .has_major = true,
	     .has_minor = true,
	     .major = 10,
	     .minor = 229},
	    {.type = "p", .path = "/dev/fifo"},
	};
	struct oci_namespace ns = {.type = "mount"};
	struct oci_linux l = {.namespaces = &ns,
	                      .namespaces_len = 1,
	                      .devices = devs,
	                      .devices_len = 2,
	                      .rootfs_propagation = "rslave",
	                      .masked_paths = STRV("/proc/kcore"),
	                      .readonly_paths = STRV("/proc/sys")};
	struct oci_config c = {.mounts = mounts, .mounts_len = 4, .linux_ = &l};
	char *all[80];
	size_t n = 0;

	check_validate_msg(&c, NULL, "a typical config passes");

	mounts[1].destination = "dev";
	check_validate_msg(&c, "mounts[1].destination: must be an absolute path, got \"dev\"",
	                   "relative destination");
	mounts[1].destination = "/dev";

	mounts[3].options = STRV("rbind", "foo", "ro");
	check_validate_msg(&c, NULL, "data on a bind mount is ignored, as mount(2) does");
	mounts[3].options = STRV("bind", "ro");
	mounts[3].type = "none";
	check_validate_msg(&c, NULL, "type none with the bind option is a bind");
	mounts[3].source = NULL;
	check_validate_msg(&c, "mounts[3].source: a bind mount needs a source",
	                   "bind without source");
	mounts[3].source = "/srv";

	/* Every name of the table is found (none is taken for filesystem data). */
	const char *names[] = {"ro",           "rw",
	                       "nosuid",       "suid",
	                       "nodev",        "dev",
	                       "noexec",       "exec",
	                       "sync",         "async",
	                       "dirsync",      "remount",
	                       "mand",         "nomand",
	                       "atime",        "noatime",
	                       "diratime",     "nodiratime",
	                       "relatime",     "norelatime",
	                       "strictatime",  "nostrictatime",
	                       "bind",         "rbind",
	                       "private",      "rprivate",
	                       "shared",       "rshared",
	                       "slave",        "rslave",
	                       "unbindable",   "runbindable",
	                       "rro",          "rrw",
	                       "rnosuid",      "rsuid",
	                       "rnodev",       "rdev",
	                       "rnoexec",      "rexec",
	                       "rnodiratime",  "rdiratime",
	                       "rrelatime",    "rnorelatime",
	                       "ratime",       "rnoatime",
	                       "rstrictatime", "rnostrictatime",
	                       "tmpcopyup",    "defaults",
	                       "lazytime",     "nolazytime",
	                       "nosymfollow",  "symfollow",
	                       "rnosymfollow", "rsymfollow",
	                       "silent",       "loud",
	                       "iversion",     "noiversion"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		all[n++] = (char *)names[i];
	all[n] = NULL;
	mounts[3].options = all;
	check_validate_msg(&c, NULL, "all known option names are accepted");
	mounts[3].options = STRV("bind");

	mounts[0].type = NULL;
	check_validate_msg(&c, "mounts[0].type: required for a non-bind mount", "missing type");
	mounts[0].type = "proc";

	mounts[2].options = STRV("idmap");
	check_validate_msg(&c, "mounts[2].options: \"idmap\" requires a bind mount",
	                   "idmap on devpts");
	mounts[2].options = NULL;
	struct oci_id_mapping map = {0, 1000, 1};
	mounts[3].uid_mappings = &map;
	mounts[3].uid_mappings_len = 1;
	check_validate_msg(&c,
	                   "mounts[3]: uidMappings/gidMappings require the \"idmap\" or "
	                   "\"ridmap\" option",
	                   "mappings without idmap");
	mounts[3].options = STRV("rbind", "ridmap");
	check_validate_msg(&c, NULL, "mappings with ridmap");
	mounts[3].uid_mappings_len = 0;

	l.namespaces_len = 0;
	check_validate_msg(&c,
	                   "linux.maskedPaths: needs a \"mount\" namespace (in the runtime's, "
	                   "masking would change the host's own mounts)",
	                   "no mount namespace, yet masked paths");
	l.namespaces_len = 1;

	l.rootfs_propagation = "bogus";
	check_validate_msg(&c,
	                   "linux.rootfsPropagation: unknown value \"bogus\" (want shared, slave, "
	                   "private or unbindable, optionally with an r prefix)",
	                   "unknown rootfsPropagation");
	l.rootfs_propagation = "shared";
	check_validate_msg(&c, NULL, "rootfsPropagation shared");

	devs[1].type = "x";
	check_validate_msg(&c, "linux.devices[1].type: unknown type \"x\" (want c, b, u or p)",
	                   "device type x");
	devs[1].type = "u";
	check_validate_msg(&c, "linux.devices[1]: major and minor are required for type \"u\"",
	                   "device u without numbers");
	devs[1].type = "p";
	devs[0].path = "dev/fuse";
	check_validate_msg(&c, "linux.devices[0].path: must be an absolute path, got \"dev/fuse\"",
	                   "relative device path");
	devs[0].path = "/dev/fuse";

	l.masked_paths = STRV("/proc/kcore", "proc/keys");
	check_validate_msg(&c, "linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\"",
	                   "relative masked path");
	l.masked_paths = NULL;
	l.readonly_paths = STRV("sys");
	check_validate_msg(&c, "linux.readonlyPaths[0]: must be an absolute path, got \"sys\"",
	                   "relative readonly path");
}

static void test_parse_and_clean(void)
{
	struct oci_mount m =
	    mnt("/x", "tmpfs", "tmpfs",
	        STRV("nosuid", "mode=755", "ro", "size=64k", "noatime", "rshared", "newinstance"));
	struct mount_spec s;
	struct skiff_error *err = NULL;
	static const char *const cases[][2] = {
	    {"/", "/"},     {"//a//b/", "/a/b"}, {"/a/./b/../c", "/a/c"}, {"/../../etc", "/etc"},
	    {"/a/..", "/"}, {"rel/x", "/rel/x"},
	};

	ok(mount_spec_parse(&m, "mounts[0]", &s, &err) == 0, "parse tmpfs options");
	ok_str(s.data, "mode=755,size=64k,newinstance", "unknown options become fs data");
	ok(s.sb_rdonly && (s.attr_set & MOUNT_ATTR_RDONLY), "ro: superblock and mount");
	ok((s.attr_set & MOUNT_ATTR_NOSUID) && (s.attr_clr & MOUNT_ATTR__ATIME) &&
	       (s.attr_set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_NOATIME,
	   "nosuid, noatime as mount attributes");
	ok(s.propagation == MS_SHARED && s.propagation_rec, "rshared");
	mount_spec_free(&s);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_free char *got = path_clean(cases[i][0]);
		ok_str(got, cases[i][1], "path_clean(\"%s\")", cases[i][0]);
	}
}

/* ---- child plumbing ---- */

static int report_fd = -1;

__attribute__((format(printf, 2, 3))) static void check(bool cond, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%d ", cond ? 1 : 0);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write_all(report_fd, buf, (size_t)n) < 0)
		_exit(3);
}

/* Checks a call that fills a skiff_error; returns its result. */
static int check_call(int r, struct skiff_error **err, const char *what)
{
	cleanup_free char *text = *err ? error_text(*err) : NULL;

	check(r == 0, "%s%s%s", what, text ? ": " : "", text ? text : "");
	error_free(err);
	return r;
}

static void run_child(const char *name, void (*fn)(void *), void *arg)
{
	int pipefd[2], status = 0;
	char line[1024];
	FILE *in;
	pid_t pid;

	fflush(stdout);
	if (pipe(pipefd) < 0) {
		ok(0, "%s: pipe", name);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		report_fd = pipefd[1];
		if (unshare(CLONE_NEWNS) < 0) {
			check(false, "unshare(CLONE_NEWNS): %s", strerror(errno));
			_exit(2);
		}
		fn(arg);
		_exit(0);
	}
	close(pipefd[1]);
	in = fdopen(pipefd[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		ok(line[0] == '1', "%s: %s", name, line + 2);
	}
	if (in)
		fclose(in);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child exited cleanly (status %d)",
	   name, status);
}

struct mountinfo {
	char mountpoint[512], opts[256], optional[256], fstype[64];
	bool found;
};

/* The topmost mount on `mountpoint` (the last line for it). */
static struct mountinfo find_mount(const char *mountpoint)
{
	struct mountinfo mi = {0};
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[2048];

	while (f && fgets(line, sizeof(line), f)) {
		char mp[512], opts[256], rest[1024], *dash;
		if (sscanf(line, "%*d %*d %*s %*s %511s %255s %1023[^\n]", mp, opts, rest) != 3 ||
		    strcmp(mp, mountpoint) != 0)
			continue;
		dash = strstr(rest, "- ");
		if (dash == NULL)
			continue;
		mi.found = true;
		snprintf(mi.mountpoint, sizeof(mi.mountpoint), "%s", mp);
		snprintf(mi.opts, sizeof(mi.opts), "%s", opts);
		snprintf(mi.optional, sizeof(mi.optional), "%.*s", (int)(dash - rest), rest);
		sscanf(dash + 2, "%63s", mi.fstype);
	}
	return mi;
}

static bool has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = opts; (p = strstr(p, opt)) != NULL; p += n)
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* Counts mounts whose mount point is `prefix` or below it. */
static int count_mounts_under(const char *prefix)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[2048], mp[512];
	size_t n = strlen(prefix);
	int count = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d %*d %*s %*s %511s", mp) == 1 && strncmp(mp, prefix, n) == 0 &&
		    (mp[n] == '\0' || mp[n] == '/'))
			count++;
	return count;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len;
	if (read_file(path, &data, &len, NULL) < 0)
		return NULL;
	return data;
}

/* ---- the full flow ---- */

struct env {
	char tmp[64], rootfs[96], host[96], hostfile[128];
};

/* Read before the flows run: inside them /sys/fs/cgroup is the container's. */
static bool host_cgroup_unified;

static void full_flow(void *arg)
{
	struct env *e = arg;
	struct oci_id_mapping uidmap = {0, 1000, 1}, gidmap = {0, 2000, 1};
	struct oci_mount mounts[] = {
	    mnt("/proc", "proc", "proc", STRV("nosuid", "noexec", "nodev")),
	    mnt("/dev", "tmpfs", "tmpfs", STRV("nosuid", "strictatime", "mode=755", "size=65536k")),
	    mnt("/dev/pts", "devpts", "devpts",
	        STRV("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")),
	    mnt("/dev/mqueue", "mqueue", "mqueue", STRV("nosuid", "noexec", "nodev")),
	    mnt("/sys", "sysfs", "sysfs", STRV("nosuid", "noexec", "nodev")),
	    mnt("/sys/fs/cgroup", "cgroup", "cgroup", STRV("nosuid", "noexec", "nodev", "ro")),
	    mnt("/data", "bind", "host", STRV("rbind", "ro", "nosuid")),
	    mnt("/tmp", "tmpfs", "tmpfs", STRV("size=65536k", "mode=1777")),
	    mnt("/etc/hostname", "bind", e->hostfile, STRV("bind", "ro")),
	    mnt("/idm", "bind", e->host, STRV("bind", "idmap")),
	};
	mounts[9].uid_mappings = &uidmap;
	mounts[9].uid_mappings_len = 1;
	mounts[9].gid_mappings = &gidmap;
	mounts[9].gid_mappings_len = 1;
	struct oci_device devs[] = {
	    {.type = "p", .path = "/dev/myfifo", .has_file_mode = true, .file_mode = 0600},
	    {.type = "c",
	     .path = "/dev/full",
	     .has_major = true,
	     .has_minor = true,
	     .major = 1,
	     .minor = 7,
	     .has_file_mode = true,
	     .file_mode = 0620,
	     .has_uid = true,
	     .uid = 1000,
	     .has_gid = true,
	     .gid = 1001},
	    {.type = "c",
	     .path = "/dev/net/tun",
	     .has_major = true,
	     .has_minor = true,
	     .major = 10,
	     .minor = 200},
	};
	struct oci_linux l = {.devices = devs,
	                      .devices_len = ARRAY_SIZE(devs),
	                      .masked_paths =
	                          STRV("/proc/kcore", "/secret", "/secret-file", "/nonexistent"),
	                      .readonly_paths = STRV("/proc/sys", "/nope")};
	struct oci_root root = {.path = "rootfs", .readonly = true};
	struct oci_config c = {
	    .root = &root, .mounts = mounts, .mounts_len = ARRAY_SIZE(mounts), .linux_ = &l};
	struct skiff_error *err = NULL;
	int *ro = NULL;
	struct mountinfo mi;
	struct stat st;
	struct statfs sfs;
	char buf[256];
	int fd;

	if (check_call(rootfs_prepare(&c, e->rootfs, e->tmp, NULL, 0, &ro, &err), &err,
	               "rootfs_prepare") ||
	    check_call(devices_setup(&c, e->rootfs, false, NULL, &err), &err, "devices_setup") ||
	    check_call(rootfs_seal_readonly(&ro, &err), &err, "rootfs_seal_readonly") ||
	    check_call(rootfs_pivot(e->rootfs, false, 0, &err), &err, "rootfs_pivot") ||
	    check_call(rootfs_finalize(&c, &err), &err, "rootfs_finalize"))
		return;

	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/") == 0, "cwd is / after pivot");
	check(stat(e->tmp, &st) < 0 && errno == ENOENT, "the host's %s is out of reach", e->tmp);
	check(stat("/marker", &st) == 0, "the rootfs is /");

	mi = find_mount("/");
	check(has_opt(mi.opts, "ro"), "root.readonly: / is ro (%s)", mi.opts);
	check(strstr(mi.optional, "shared:") == NULL, "/ is not shared (%s)", mi.optional);
	check(mkdir("/newdir", 0755) < 0 && errno == EROFS, "mkdir / -> EROFS");

	mi = find_mount("/proc");
	check(strcmp(mi.fstype, "proc") == 0 && has_opt(mi.opts, "nosuid"), "/proc: %s %s",
	      mi.fstype, mi.opts);
	check(statfs("/proc", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC, "/proc is procfs");

	mi = find_mount("/dev");
	check(strcmp(mi.fstype, "tmpfs") == 0, "/dev is tmpfs");
	check(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) &&
	          (st.st_mode & 0777) == 0666,
	      "/dev/null is char 1:3 mode 0666");
	check(stat("/dev/tty", &st) == 0 && st.st_rdev == makedev(5, 0), "/dev/tty is 5:0");
	check(stat("/dev/full", &st) == 0 && (st.st_mode & 0777) == 0620 && st.st_uid == 1000 &&
	          st.st_gid == 1001,
	      "linux.devices replaces /dev/full: mode 0620 owner 1000:1001");
	check(stat("/dev/myfifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0600,
	      "fifo /dev/myfifo mode 0600");
	check(stat("/dev/net/tun", &st) == 0 && st.st_rdev == makedev(10, 200),
	      "/dev/net/tun created with its parent");
	ssize_t n = readlink("/dev/fd", buf, sizeof(buf) - 1);
	check(n > 0 && (buf[n] = '\0', strcmp(buf, "/proc/self/fd") == 0), "/dev/fd symlink");
	n = readlink("/dev/ptmx", buf, sizeof(buf) - 1);
	check(n > 0 && (buf[n] = '\0', strcmp(buf, "pts/ptmx") == 0), "/dev/ptmx -> pts/ptmx");
	n = readlink("/dev/stderr", buf, sizeof(buf) - 1);
	check(n > 0 && (buf[n] = '\0', strcmp(buf, "/proc/self/fd/2") == 0), "/dev/stderr symlink");
	check(lstat("/dev/core", &st) < 0, "no /dev/core");
	check(strcmp(find_mount("/dev/pts").fstype, "devpts") == 0, "/dev/pts is devpts");
	check(strcmp(find_mount("/dev/mqueue").fstype, "mqueue") == 0, "/dev/mqueue is mqueue");

	mi = find_mount("/sys");
	check(strcmp(mi.fstype, "sysfs") == 0 && has_opt(mi.opts, "ro"),
	      "sysfs is read-only without a new netns (%s)", mi.opts);
	/*
	 * Without a cgroup namespace skiff shows what runc shows: the container's
	 * cgroup2 directory on a unified host, else a tmpfs of read-only v1 binds.
	 */
	mi = find_mount("/sys/fs/cgroup");
	if (host_cgroup_unified)
		check(strcmp(mi.fstype, "cgroup2") == 0 && has_opt(mi.opts, "ro"),
		      "type cgroup mounts cgroup2, ro (%s %s)", mi.fstype, mi.opts);
	else
		check(strcmp(mi.fstype, "tmpfs") == 0 &&
		          strcmp(find_mount("/sys/fs/cgroup/pids").fstype, "cgroup") == 0 &&
		          has_opt(find_mount("/sys/fs/cgroup/pids").opts, "ro"),
		      "type cgroup on a v1 host mounts a tmpfs of ro v1 binds (%s %s)", mi.fstype,
		      mi.opts);

	mi = find_mount("/data");
	check(has_opt(mi.opts, "ro") && has_opt(mi.opts, "nosuid"), "/data bind is ro,nosuid (%s)",
	      mi.opts);
	cleanup_free char *hello = slurp("/data/hello");
	check(hello && strcmp(hello, "hi\n") == 0, "relative bind source read through /data");
	fd = open("/data/new", O_CREAT | O_WRONLY, 0644);
	check(fd < 0 && errno == EROFS, "create in /data -> EROFS");
	memset(&st, 0, sizeof(st));
	stat("/idm/hello", &st);
	check(st.st_uid == 1000 && st.st_gid == 2000, "idmapped bind: on-disk 0:0 shows as %d:%d",
	      (int)st.st_uid, (int)st.st_gid);
	cleanup_free char *hn = slurp("/etc/hostname");
	check(hn && strcmp(hn, "host-file\n") == 0, "file bind mount onto a created file");

	check(statfs("/tmp", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC &&
	          (unsigned long long)sfs.f_blocks * sfs.f_bsize == 65536ULL * 1024,
	      "/tmp tmpfs size=65536k");
	fd = open("/tmp/w", O_CREAT | O_WRONLY, 0644);
	check(fd >= 0, "/tmp is writable under a read-only root");
	if (fd >= 0)
		close(fd);

	if (access("/proc/kcore", F_OK) == 0) {
		check(stat("/proc/kcore", &st) == 0 && S_ISCHR(st.st_mode) &&
		          st.st_rdev == makedev(1, 3),
		      "masked /proc/kcore is /dev/null");
		fd = open("/proc/kcore", O_RDONLY);
		check(fd >= 0 && read(fd, buf, sizeof(buf)) == 0, "masked /proc/kcore reads empty");
		if (fd >= 0)
			close(fd);
	}
	check(stat("/secret-file", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
	      "masked file /secret-file is /dev/null");
	cleanup_free char *masked = slurp("/secret-file");
	check(masked && masked[0] == '\0', "masked file reads empty");
	check(access("/secret/key", F_OK) < 0 && errno == ENOENT, "masked dir /secret is empty");
	check(mkdir("/secret/x", 0755) < 0 && errno == EROFS, "masked dir is read-only");
	/* Opening for write must fail at open: nothing is ever written to the host's sysctl. */
	fd = open("/proc/sys/kernel/domainname", O_WRONLY);
	check(fd < 0 && errno == EROFS, "readonlyPaths: /proc/sys -> EROFS");
	if (fd >= 0)
		close(fd);
	mi = find_mount("/proc/sys");
	check(has_opt(mi.opts, "ro") && has_opt(mi.opts, "nosuid") && has_opt(mi.opts, "noexec"),
	      "/proc/sys ro,nosuid,noexec (%s)", mi.opts);
}

/* ---- propagation, no_pivot, userns-style devices ---- */

static void shared_flow(void *arg)
{
	struct env *e = arg;
	struct oci_mount mounts[] = {mnt("/proc", "proc", "proc", NULL),
	                             mnt("/dev", "tmpfs", "tmpfs", NULL)};
	struct oci_linux l = {.rootfs_propagation = "rshared"};
	struct oci_config c = {.mounts = mounts, .mounts_len = 2, .linux_ = &l};
	struct skiff_error *err = NULL;
	int *ro = NULL;
	struct mountinfo mi;
	struct stat st;

	if (check_call(rootfs_prepare(&c, e->rootfs, e->tmp, NULL, ROOTFS_NEW_NETNS, &ro, &err),
	               &err, "rootfs_prepare (rshared)") ||
	    check_call(devices_setup(&c, e->rootfs, true, NULL, &err), &err,
	               "devices_setup in userns mode") ||
	    check_call(rootfs_seal_readonly(&ro, &err), &err, "rootfs_seal_readonly") ||
	    check_call(rootfs_pivot(e->rootfs, false, 0, &err), &err, "rootfs_pivot") ||
	    check_call(rootfs_finalize(&c, &err), &err, "rootfs_finalize"))
		return;
	mi = find_mount("/");
	check(strstr(mi.optional, "shared:") != NULL, "rshared: / is shared after finalize (%s)",
	      mi.optional);
	mi = find_mount("/dev/null");
	check(mi.found && strcmp(mi.fstype, "devtmpfs") == 0,
	      "userns mode: /dev/null is a bind of the host node (%s)", mi.fstype);
	check(stat("/dev/null", &st) == 0 && st.st_rdev == makedev(1, 3), "and it is 1:3");
}

static void no_pivot_flow(void *arg)
{
	struct env *e = arg;
	struct oci_mount mounts[] = {mnt("/proc", "proc", "proc", NULL)};
	struct oci_config c = {.mounts = mounts, .mounts_len = 1};
	struct skiff_error *err = NULL;
	int *ro = NULL;
	struct stat st;
	char buf[64];

	if (check_call(rootfs_prepare(&c, e->rootfs, NULL, NULL, 0, &ro, &err), &err,
	               "rootfs_prepare") ||
	    check_call(rootfs_seal_readonly(&ro, &err), &err, "rootfs_seal_readonly") ||
	    check_call(rootfs_pivot(e->rootfs, true, 0, &err), &err, "rootfs_pivot(no_pivot)"))
		return;
	check(stat("/marker", &st) == 0, "no_pivot: the rootfs is /");
	check(getcwd(buf, sizeof(buf)) && strcmp(buf, "/") == 0, "no_pivot: cwd is /");
}

/* ---- hostile rootfs ---- */

struct hostile {
	struct env *e;
	const char *link, *target; /* a symlink planted in the rootfs */
	struct oci_mount *mounts;
	size_t mounts_len;
	const char *want_at;    /* the new mount's expected mount point below the rootfs */
	const char *want_error; /* or: a substring of the expected error */
};

static void hostile_flow(void *arg)
{
	struct hostile *h = arg;
	struct oci_config c = {.mounts = h->mounts, .mounts_len = h->mounts_len};
	struct skiff_error *err = NULL;
	int before = count_mounts_under("/etc") + count_mounts_under("/proc/sys");
	int *ro = NULL;
	int r = rootfs_prepare(&c, h->e->rootfs, NULL, NULL, 0, &ro, &err);
	cleanup_free char *text = err ? error_text(err) : NULL;

	error_free(&err);
	if (h->want_error) {
		check(r < 0 && text && strstr(text, h->want_error), "%s -> %s: refused (%s)",
		      h->link, h->target, text ? text : "succeeded");
	} else {
		char at[256];
		snprintf(at, sizeof(at), "%s%s", h->e->rootfs, h->want_at);
		struct mountinfo mi = find_mount(at);
		check(r == 0 && mi.found && strcmp(mi.fstype, "tmpfs") == 0,
		      "%s -> %s: the mount lands on %s (%s)", h->link, h->target, at,
		      text ? text : mi.fstype);
	}
	check(count_mounts_under("/etc") + count_mounts_under("/proc/sys") == before,
	      "%s -> %s: no mount on the host's /etc or /proc/sys", h->link, h->target);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static bool make_env(struct env *e)
{
	snprintf(e->tmp, sizeof(e->tmp), "/tmp/skiff-mounts-XXXXXX");
	if (mkdtemp(e->tmp) == NULL)
		return false;
	snprintf(e->rootfs, sizeof(e->rootfs), "%s/rootfs", e->tmp);
	snprintf(e->host, sizeof(e->host), "%s/host", e->tmp);
	snprintf(e->hostfile, sizeof(e->hostfile), "%s/hostname", e->tmp);
	mkdir(e->rootfs, 0755);
	mkdir(e->host, 0755);
	write_file(e->hostfile, "host-file\n");
	{
		char p[160];
		snprintf(p, sizeof(p), "%s/hello", e->host);
		write_file(p, "hi\n");
		snprintf(p, sizeof(p), "%s/marker", e->rootfs);
		write_file(p, "");
		snprintf(p, sizeof(p), "%s/secret", e->rootfs);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/secret/key", e->rootfs);
		write_file(p, "k\n");
		snprintf(p, sizeof(p), "%s/secret-file", e->rootfs);
		write_file(p, "s3cret\n");
		snprintf(p, sizeof(p), "%s/etc", e->rootfs);
		mkdir(p, 0755);
	}
	return true;
}

static void drop_env(struct env *e)
{
	nftw(e->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void run_hostile(const char *link, const char *target, struct oci_mount *mounts, size_t len,
                        const char *want_at, const char *want_error)
{
	struct env e;
	struct hostile h = {&e, link, target, mounts, len, want_at, want_error};
	char path[160];

	if (!make_env(&e)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s%s", e.rootfs, link);
	if (symlink(target, path) < 0)
		ok(0, "symlink %s", path);
	run_child("hostile", hostile_flow, &h);
	drop_env(&e);
}

static void test_hostile(void)
{
	struct oci_mount tmpfs_evil[] = {mnt("/evil", "tmpfs", "tmpfs", NULL)};
	struct oci_mount tmpfs_evil_sub[] = {mnt("/evil/sub", "tmpfs", "tmpfs", NULL)};
	struct oci_mount proc_then_evil[] = {mnt("/proc", "proc", "proc", NULL),
	                                     mnt("/evil", "tmpfs", "tmpfs", NULL)};
	struct oci_mount proc_only[] = {mnt("/proc", "proc", "proc", NULL)};
	struct oci_mount evil_sys[] = {mnt("/proc", "proc", "proc", NULL),
	                               mnt("/evil/sys", "tmpfs", "tmpfs", NULL)};

	run_hostile("/evil", "/etc", tmpfs_evil, 1, "/etc", NULL);
	run_hostile("/evil", "../../..", tmpfs_evil_sub, 1, "/sub", NULL);
	/* The missing target is made inside the rootfs (no procfs there yet: plain directories). */
	run_hostile("/evil", "/proc/self/root/..", tmpfs_evil, 1, "/proc/self", NULL);
	run_hostile("/evil", "/proc/self/root/..", proc_then_evil, 2, NULL, "refusing a symlink");
	run_hostile("/evil", "/proc/self/root/proc", evil_sys, 2, NULL, "refusing a symlink");
	run_hostile("/proc", "/etc", proc_only, 1, NULL, "refusing a symlink");
}

/* /dev/null swapped for a symlink after devices_setup: masking must refuse it. */
static void fake_null_flow(void *arg)
{
	struct env *e = arg;
	struct oci_mount mounts[] = {mnt("/proc", "proc", "proc", NULL),
	                             mnt("/dev", "tmpfs", "tmpfs", NULL)};
	struct oci_linux l = {.masked_paths = STRV("/proc/kcore", "/marker")};
	struct oci_config c = {.mounts = mounts, .mounts_len = 2, .linux_ = &l};
	struct skiff_error *err = NULL;
	int *ro = NULL;
	char path[160];

	if (check_call(rootfs_prepare(&c, e->rootfs, NULL, NULL, 0, &ro, &err), &err,
	               "rootfs_prepare") ||
	    check_call(devices_setup(&c, e->rootfs, false, NULL, &err), &err, "devices_setup") ||
	    check_call(rootfs_seal_readonly(&ro, &err), &err, "rootfs_seal_readonly"))
		return;
	snprintf(path, sizeof(path), "%s/dev/null", e->rootfs);
	unlink(path);
	if (symlink("/proc/sys/kernel/core_pattern", path) < 0)
		check(false, "plant the /dev/null symlink");
	if (check_call(rootfs_pivot(e->rootfs, false, 0, &err), &err, "rootfs_pivot"))
		return;
	int r = rootfs_finalize(&c, &err);
	cleanup_free char *text = err ? error_text(err) : NULL;
	error_free(&err);
	check(r < 0 && text && strstr(text, "not the null device"),
	      "masking refuses a /dev/null symlink (%s)", text ? text : "succeeded");
}

static bool can_unshare(void)
{
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return false;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWNS) == 0 ? 0 : 1);
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void with_env(const char *name, void (*fn)(void *))
{
	struct env e;

	if (!make_env(&e)) {
		ok(0, "%s: mkdtemp", name);
		return;
	}
	run_child(name, fn, &e);
	drop_env(&e);
	ok(access(e.tmp, F_OK) < 0, "%s: temp dir removed", name);
}

/* The first line of what `fd` reads ("" on error); closes fd. */
static void read_fd_line(int fd, char *buf, size_t size)
{
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

/*
 * procfs_open (CVE-2025-52881): in a private mount namespace, one procfs file
 * bound over another passes the old fstatfs check, yet must not be opened
 * for skiff's write: the file under the mount is reached on a private procfs
 * instead.  Hostname and domainname (in a UTS namespace of the child's own)
 * tell the two files apart.
 */
static void procfs_overmount_flow(void *arg)
{
	const char *over = "/proc/sys/kernel/domainname";
	char text[64];
	struct statfs sfs;
	int fd;

	(void)arg;
	if (unshare(CLONE_NEWUTS) < 0 || sethostname("skiff-host", 10) < 0 ||
	    setdomainname("skiff-domain", 12) < 0) {
		check(false, "a UTS namespace of our own: %s", strerror(errno));
		return;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("/proc/sys/kernel/hostname", over, NULL, MS_BIND, NULL) < 0) {
		check(false, "bind hostname over domainname: %s", strerror(errno));
		return;
	}
	fd = open(over, O_RDONLY | O_CLOEXEC);
	check(fd >= 0 && fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC,
	      "the bound file is on procfs (fstatfs alone would accept it)");
	read_fd_line(fd, text, sizeof(text));
	check(strcmp(text, "skiff-host") == 0, "the plain path reads the bound file (%s)", text);
	read_fd_line(procfs_open("sys/kernel/domainname", O_RDONLY, false), text, sizeof(text));
	check(strcmp(text, "skiff-domain") == 0,
	      "procfs_open reaches the file under the mount, not the bound one (%s)", text);
	read_fd_line(procfs_open("sys/kernel/hostname", O_RDONLY, false), text, sizeof(text));
	check(strcmp(text, "skiff-host") == 0, "procfs_open opens a file nothing covers (%s)",
	      text);
	fd = procfs_open("thread-self/attr/current", O_RDONLY, true);
	check(fd >= 0 || errno != EXDEV, "procfs_open follows thread-self (errno %d)",
	      fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	if (mount("/proc/sys", "/proc", NULL, MS_BIND, NULL) == 0) {
		fd = procfs_open("kernel/hostname", O_RDONLY, false);
		check(fd < 0, "a procfs directory bound on /proc is not taken for procfs's root");
		if (fd >= 0)
			close(fd);
		read_fd_line(procfs_open("sys/kernel/domainname", O_RDONLY, false), text,
		             sizeof(text));
		check(strcmp(text, "skiff-domain") == 0,
		      "under a procfs directory bound on /proc, the real file is reached (%s)",
		      text);
	}
}

/*
 * The host's mount points, minus those under directories where other test runs
 * (podman, containerd, another suite) mount and unmount meanwhile; this
 * program's own directories there (/tmp/skiff-mounts-*) are kept.
 */
static char *host_mounts(void)
{
	static const char *const busy[] = {"/tmp/", "/run/", "/var/run/", "/var/lib/containers/",
	                                   "/var/lib/containerd/"};
	cleanup_free char *table = slurp("/proc/self/mountinfo");
	char *out, *line, *save = NULL;
	size_t len = 0;

	if (table == NULL || (out = calloc(1, strlen(table) + 1)) == NULL)
		return NULL;
	for (line = strtok_r(table, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char point[4096];
		bool skip_it = false;

		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
			if (strncmp(point, busy[i], strlen(busy[i])) == 0)
				skip_it = true;
		if (skip_it && strncmp(point, "/tmp/skiff-mounts-", 18) != 0)
			continue;
		len += (size_t)sprintf(out + len, "%s\n", point);
	}
	return out;
}

int main(void)
{
	struct statfs cg;

	host_cgroup_unified = statfs("/sys/fs/cgroup", &cg) == 0 &&
	                      cg.f_type == (typeof(cg.f_type))CGROUP2_SUPER_MAGIC;

	cleanup_free char *before = host_mounts(), *after = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_validate();
	test_parse_and_clean();
	if (!can_unshare()) {
		skip("needs root and unshare(CLONE_NEWNS)", "mount behaviour tests");
		done_testing();
	}
	with_env("full flow", full_flow);
	with_env("rshared + userns devices", shared_flow);
	with_env("no_pivot", no_pivot_flow);
	with_env("fake /dev/null", fake_null_flow);
	test_hostile();
	run_child("procfs overmount", procfs_overmount_flow, NULL);

	after = host_mounts();
	ok(before && after && strcmp(before, after) == 0,
	   "the host mount table is unchanged by the whole program");
	done_testing();
}
