/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compiled-filter cache: compiling a docker-sized profile is the largest single cost of
 * starting a container, so the BPF is kept under the state root, keyed by the profile. */
#include <config.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>

#include "log.h"
#include "seccomp.h"
#include "utils.h"

#ifdef HAVE_SECCOMP

#include <seccomp.h>

/* ---- the compiled-filter cache ----
 *
 * <cache_dir>/seccomp-<key hash>.bpf:
 *   struct cache_header | canonical key (key_len bytes) | insn_count struct sock_filter
 * in host byte order (the native arch is part of the key).  The whole key is
 * stored and compared, so a hash collision (even a crafted one: FNV is no
 * cryptographic hash) can only cost a recompile, never serve another
 * profile's filter.  The checksum catches torn and corrupted files; files are
 * not fsynced, since a lost entry only costs one compile.
 */

#define CACHE_MAGIC       "SKIFFBPF"
#define CACHE_VERSION     1
#define CACHE_MAX_ENTRIES 64
#define CACHE_MAX_KEY     (4u << 20)
#define CACHE_TMP_MAX_AGE 600 /* seconds before a leftover temp file is removed */

struct cache_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t key_hash;
	uint32_t key_len;
	uint32_t insn_count;
	uint32_t flags;
	uint32_t needs_notify;
	uint64_t skipped_syscalls;
	uint64_t checksum; /* FNV-1a 64 of header (this field 0) + key + insns */
};
_Static_assert(sizeof(struct cache_header) == 56, "cache header layout");

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

struct buf {
	unsigned char *data;
	size_t len, cap;
};

static void buf_freep(struct buf *b)
{
	free(b->data);
}

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	put(b, &v, sizeof(v));
}

static void put_u64(struct buf *b, uint64_t v)
{
	put(b, &v, sizeof(v));
}

/* Length-prefixed, so field boundaries are unambiguous; NULL differs from "". */
static void put_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		put_u32(b, UINT32_MAX);
		return;
	}
	put_u32(b, (uint32_t)strlen(s));
	put(b, s, strlen(s));
}

static void put_strv(struct buf *b, char **v)
{
	if (v == NULL) {
		put_u32(b, UINT32_MAX);
		return;
	}
	put_u32(b, (uint32_t)strv_len(v));
	for (size_t i = 0; v[i]; i++)
		put_str(b, v[i]);
}

/* Everything the result (or its validation) depends on, including the
 * compiler: the libseccomp version decides which syscall names are known. */
static void cache_key(const struct oci_seccomp *s, struct buf *b)
{
	const struct scmp_version *v = seccomp_version();

	/* 2: programs start with the ENOSYS prefix (seccomp_enosys.c). */
	put_str(b, "skiff seccomp key 2");
	put_u32(b, v->major);
	put_u32(b, v->minor);
	put_u32(b, v->micro);
	put_u32(b, seccomp_arch_native());
	/* The API level reflects what the running kernel supports (libseccomp
	 * refuses e.g. SCMP_ACT_KILL_PROCESS below level 3): a cache that
	 * outlives a kernel change must not serve a filter built for another. */
	put_u32(b, seccomp_api_get());
	put_str(b, s->default_action);
	put_u32(b, s->has_default_errno_ret);
	put_u32(b, s->default_errno_ret);
	put_strv(b, s->architectures);
	put_strv(b, s->flags);
	put_str(b, s->listener_path);
	put_str(b, s->listener_metadata);
	put_u64(b, s->syscalls_len);
	for (size_t i = 0; i < s->syscalls_len; i++) {
		const struct oci_seccomp_syscall *sc = &s->syscalls[i];
		put_strv(b, sc->names);
		put_str(b, sc->action);
		put_u32(b, sc->has_errno_ret);
		put_u32(b, sc->errno_ret);
		put_u64(b, sc->args_len);
		for (size_t j = 0; j < sc->args_len; j++) {
			put_u32(b, sc->args[j].index);
			put_u64(b, sc->args[j].value);
			put_u64(b, sc->args[j].value_two);
			put_str(b, sc->args[j].op);
		}
	}
}

static uint64_t cache_checksum(const struct cache_header *h, const void *key, const void *insns)
{
	struct cache_header copy = *h;
	uint64_t sum;

	copy.checksum = 0;
	sum = fnv1a(FNV_OFFSET, &copy, sizeof(copy));
	sum = fnv1a(sum, key, h->key_len);
	return fnv1a(sum, insns, (size_t)h->insn_count * sizeof(struct sock_filter));
}

/* A cache we do not own alone could hand us someone else's filter. */
static int check_private(int fd, const char *what, struct skiff_error **err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat %s", what);
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return error_msg(err, "`%s` is not private to uid %u", what, (unsigned)geteuid());
	return 0;
}

static int cache_open_dir(const char *dir, struct skiff_error **err)
{
	cleanup_close int fd = -1;

	if (mkdir_p(dir, 0700, err) < 0)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open `%s`", dir);
	if (check_private(fd, dir, err) < 0)
		return -1;
	return steal_fd(&fd);
}

static int cache_read(int dirfd, const char *name, const struct buf *key, uint64_t key_hash,
                      struct seccomp_program **out, struct skiff_error **err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	cleanup_free char *data = NULL;
	struct cache_header h;
	struct seccomp_program *p;
	struct stat st;
	size_t len;

	if (fd < 0)
		return error_errno(err, "open `%s`", name);
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat `%s`", name);
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(h) ||
	    st.st_size > (off_t)(sizeof(h) + CACHE_MAX_KEY + BPF_MAXINSNS * 8))
		return error_msg(err, "`%s`: not a cache file", name);
	if (check_private(fd, name, err) < 0)
		return -1;
	if (read_fd_all(fd, &data, &len, err) < 0)
		return error_wrap(err, "`%s`", name);
	if (len < sizeof(h))
		return error_msg(err, "`%s`: truncated header", name);
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.version != CACHE_VERSION ||
	    h.header_size != sizeof(h))
		return error_msg(err, "`%s`: bad magic or version", name);
	if (h.key_hash != key_hash || h.key_len != key->len)
		return error_msg(err, "`%s`: different key", name);
	if (h.insn_count == 0 || h.insn_count > BPF_MAXINSNS ||
	    len != sizeof(h) + h.key_len + (size_t)h.insn_count * sizeof(struct sock_filter))
		return error_msg(err, "`%s`: size %zu does not match its header", name, len);
	if (cache_checksum(&h, data + sizeof(h), data + sizeof(h) + h.key_len) != h.checksum)
		return error_msg(err, "`%s`: checksum mismatch", name);
	if (memcmp(data + sizeof(h), key->data, key->len) != 0)
		return error_msg(err, "`%s`: different key (hash collision)", name);

	p = xcalloc(1, sizeof(*p));
	p->len = h.insn_count;
	p->insns = xmalloc(p->len * sizeof(struct sock_filter));
	memcpy(p->insns, data + sizeof(h) + h.key_len, p->len * sizeof(struct sock_filter));
	p->flags = h.flags;
	p->needs_notify = h.needs_notify != 0;
	p->skipped_syscalls = h.skipped_syscalls;
	/* mtime tracks last use, for eviction. */
	futimens(fd, NULL);
	*out = p;
	return 0;
}

static int cache_write(int dirfd, const char *name, const struct buf *key, uint64_t key_hash,
                       const struct seccomp_program *p, struct skiff_error **err)
{
	__attribute__((cleanup(buf_freep))) struct buf file = {0};
	cleanup_free char *tmp = xasprintf(".%s.%d.tmp", name, (int)getpid());
	cleanup_close int fd = -1;
	struct cache_header h = {
	    .version = CACHE_VERSION,
	    .header_size = sizeof(h),
	    .key_hash = key_hash,
	    .key_len = (uint32_t)key->len,
	    .insn_count = (uint32_t)p->len,
	    .flags = p->flags,
	    .needs_notify = p->needs_notify,
	    .skipped_syscalls = p->skipped_syscalls,
	};

	if (key->len > CACHE_MAX_KEY)
		return error_msg(err, "profile too large to cache (%zu bytes)", key->len);
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	h.checksum = cache_checksum(&h, key->data, p->insns);
	put(&file, &h, sizeof(h));
	put(&file, key->data, key->len);
	put(&file, p->insns, p->len * sizeof(struct sock_filter));

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) { /* left by a dead process with our pid */
		unlinkat(dirfd, tmp, 0);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0)
		return error_errno(err, "create `%s`", tmp);
	if (write_all(fd, file.data, file.len) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		error_errno(err, "write `%s`", name);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

struct cache_entry {
	char *name;
	struct timespec mtime;
};

static int entry_older(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Keeps the newest CACHE_MAX_ENTRIES filters (and never `keep`), and drops
 * temp files that crashed writers left behind. */
static void cache_evict(int dirfd, const char *keep)
{
	struct cache_entry *entries = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = dup(dirfd);
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (str_has_prefix(de->d_name, ".seccomp-") && str_has_suffix(de->d_name, ".tmp")) {
			if (st.st_mtime + CACHE_TMP_MAX_AGE < time(NULL))
				unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		if (!str_has_prefix(de->d_name, "seccomp-") || !str_has_suffix(de->d_name, ".bpf"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			entries = xrealloc(entries, cap * sizeof(*entries));
		}
		entries[n].name = xstrdup(de->d_name);
		entries[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	if (n > CACHE_MAX_ENTRIES) {
		size_t excess = n - CACHE_MAX_ENTRIES;
		qsort(entries, n, sizeof(*entries), entry_older);
		for (size_t i = 0; i < n && excess > 0; i++) {
			if (strcmp(entries[i].name, keep) == 0)
				continue;
			if (unlinkat(dirfd, entries[i].name, 0) == 0 || errno == ENOENT)
				excess--;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(entries[i].name);
	free(entries);
}

int seccomp_compile_cached(const struct oci_seccomp *s, const char *cache_dir,
                           struct seccomp_program **out, struct skiff_error **err)
{
	__attribute__((cleanup(buf_freep))) struct buf key = {0};
	struct skiff_error *cerr = NULL;
	cleanup_close int dirfd = -1;
	char name[64];
	uint64_t hash;

	if (cache_dir == NULL)
		return seccomp_compile(s, out, err);
	cache_key(s, &key);
	hash = fnv1a(FNV_OFFSET, key.data, key.len);
	snprintf(name, sizeof(name), "seccomp-%016llx.bpf", (unsigned long long)hash);

	dirfd = cache_open_dir(cache_dir, &cerr);
	if (dirfd >= 0 && cache_read(dirfd, name, &key, hash, out, &cerr) == 0) {
		log_debug("seccomp: cache hit %s/%s", cache_dir, name);
		return 0;
	}
	if (cerr) {
		log_debug("seccomp: cache miss: %s%s%s", cerr->msg, cerr->errnum ? ": " : "",
		          cerr->errnum ? strerror(cerr->errnum) : "");
		error_free(&cerr);
	}
	if (seccomp_compile(s, out, err) < 0)
		return -1;
	if (dirfd < 0)
		return 0;
	if (cache_write(dirfd, name, &key, hash, *out, &cerr) < 0) {
		log_debug("seccomp: cache not written: %s%s%s", cerr->msg, cerr->errnum ? ": " : "",
		          cerr->errnum ? strerror(cerr->errnum) : "");
		error_free(&cerr);
		return 0;
	}
	cache_evict(dirfd, name);
	return 0;
}

#else /* !HAVE_SECCOMP */

int seccomp_compile_cached(const struct oci_seccomp *s, const char *cache_dir,
                           struct seccomp_program **out, struct skiff_error **err)
{
	(void)cache_dir;
	return seccomp_compile(s, out, err);
}

#endif
