/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "log.h"
#include "netdev.h"
#include "utils.h"

#define FIELD "linux.netDevices"

/* ---- a few rtnetlink requests, no library ---- */

struct nl_msg {
	union {
		struct nlmsghdr h;
		char raw[1024]; /* one header, one body, a few short attributes */
	} u;
};

static void *nl_start(struct nl_msg *m, uint16_t type, uint16_t flags, size_t body)
{
	memset(m, 0, sizeof(*m));
	m->u.h.nlmsg_len = NLMSG_LENGTH(body);
	m->u.h.nlmsg_type = type;
	m->u.h.nlmsg_flags = NLM_F_REQUEST | flags;
	return NLMSG_DATA(&m->u.h);
}

static void nl_put(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->u.raw + NLMSG_ALIGN(m->u.h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	m->u.h.nlmsg_len = NLMSG_ALIGN(m->u.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

typedef void (*nl_reply_fn)(const struct nlmsghdr *h, void *data);

/*
 * Sends the request and reads its replies, each handed to fn, up to the
 * ack or the end of a dump.  0, or -1 with errno (the kernel's answer).
 */
static int nl_talk(int fd, struct nl_msg *m, nl_reply_fn fn, void *data)
{
	static uint32_t seq;
	union {
		struct nlmsghdr h;
		char raw[32768];
	} buf;

	m->u.h.nlmsg_seq = ++seq;
	if (send(fd, &m->u, m->u.h.nlmsg_len, 0) < 0)
		return -1;
	for (;;) {
		int len = (int)recv(fd, &buf, sizeof(buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return -1;
		for (struct nlmsghdr *h = &buf.h; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				errno = -e->error;
				return e->error ? -1 : 0;
			}
			if (fn)
				fn(h, data);
		}
	}
}

static int nl_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

/* A socket bound to the container's namespace; skiff itself stays in its own. */
static int nl_socket_in(int ns_fd, int *out, struct skiff_error **err)
{
	cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int saved;

	if (self < 0)
		return error_errno(err, FIELD ": open /proc/self/ns/net");
	if (setns(ns_fd, CLONE_NEWNET) < 0)
		return error_errno(err, FIELD ": enter the container's network namespace");
	*out = nl_socket();
	saved = errno;
	/* The runtime hooks that follow run in skiff's namespace: coming back is not optional. */
	if (setns(self, CLONE_NEWNET) < 0)
		return error_errno(err, FIELD ": return to skiff's network namespace");
	errno = saved;
	if (*out < 0)
		return error_errno(err, FIELD ": netlink socket in the container's namespace");
	return 0;
}

/* ---- addresses: the permanent, global ones go along ---- */

struct saved_addr {
	struct ifaddrmsg ifa;
	uint8_t local[16], address[16], broadcast[16];
	size_t local_len, address_len, broadcast_len;
};

struct addr_list {
	int ifindex;
	struct saved_addr *v;
	size_t n;
};

static void keep(uint8_t *dst, size_t *dst_len, const struct rtattr *rta)
{
	size_t n = RTA_PAYLOAD(rta);

	if (n <= 16) {
		memcpy(dst, RTA_DATA(rta), n);
		*dst_len = n;
	}
}

static void collect_addr(const struct nlmsghdr *h, void *data)
{
	struct addr_list *l = data;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct saved_addr a = {.ifa = *ifa};
	uint32_t flags = ifa->ifa_flags;
	int len = (int)IFA_PAYLOAD(h);

	if (h->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != l->ifindex ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return;
	for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) == sizeof(flags))
			memcpy(&flags, RTA_DATA(rta), sizeof(flags));
		else if (rta->rta_type == IFA_LOCAL)
			keep(a.local, &a.local_len, rta);
		else if (rta->rta_type == IFA_ADDRESS)
			keep(a.address, &a.address_len, rta);
		else if (rta->rta_type == IFA_BROADCAST)
			keep(a.broadcast, &a.broadcast_len, rta);
	}
	if (!(flags & IFA_F_PERMANENT))
		return;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = a;
}

static int dump_addrs(int fd, struct addr_list *l, const char *dev, struct skiff_error **err)
{
	struct nl_msg m;
	struct ifaddrmsg *ifa = nl_start(&m, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));

	ifa->ifa_family = AF_UNSPEC;
	if (nl_talk(fd, &m, collect_addr, l) < 0)
		return error_errno(err, FIELD ": `%s`: list its addresses", dev);
	return 0;
}

static int add_addr(int fd, int ifindex, const struct saved_addr *a, const char *dev,
                    struct skiff_error **err)
{
	struct nl_msg m;
	struct ifaddrmsg *ifa =
	    nl_start(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, sizeof(*ifa));

	*ifa = a->ifa;
	ifa->ifa_index = (unsigned int)ifindex;
	if (a->local_len)
		nl_put(&m, IFA_LOCAL, a->local, a->local_len);
	if (a->address_len)
		nl_put(&m, IFA_ADDRESS, a->address, a->address_len);
	if (a->broadcast_len)
		nl_put(&m, IFA_BROADCAST, a->broadcast, a->broadcast_len);
	if (nl_talk(fd, &m, NULL, NULL) < 0)
		return error_errno(err, FIELD ": `%s`: restore an address in the container", dev);
	return 0;
}

/* ---- links ---- */

struct found_link {
	int index;
	char name[IFNAMSIZ];
};

static void collect_link(const struct nlmsghdr *h, void *data)
{
	struct found_link *f = data;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)IFLA_PAYLOAD(h);

	if (h->nlmsg_type != RTM_NEWLINK)
		return;
	f->index = ifi->ifi_index;
	for (const struct rtattr *rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_IFNAME && RTA_PAYLOAD(rta) <= IFNAMSIZ)
			snprintf(f->name, sizeof(f->name), "%.*s", (int)RTA_PAYLOAD(rta),
			         (const char *)RTA_DATA(rta));
}

/*
 * The device in the container's namespace: by its name, or, for a "%d"
 * template whose result the kernel chose, by its index, which a move keeps
 * unless the namespace already uses it.
 */
static int find_link(int fd, const char *name, int old_index, struct found_link *f,
                     struct skiff_error **err)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_start(&m, RTM_GETLINK, NLM_F_ACK, sizeof(*ifi));
	bool by_index = strchr(name, '%') != NULL;

	ifi->ifi_family = AF_UNSPEC;
	if (by_index)
		ifi->ifi_index = old_index;
	else
		nl_put(&m, IFLA_IFNAME, name, strlen(name) + 1);
	*f = (struct found_link){0};
	if (nl_talk(fd, &m, collect_link, f) < 0 || f->index <= 0)
		return error_errno(err, FIELD ": `%s`: not found in the container after the move",
		                   name);
	return 0;
}

static int move_link(int fd, int index, int ns_fd, const char *from, const char *to,
                     struct skiff_error **err)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_start(&m, RTM_NEWLINK, NLM_F_ACK, sizeof(*ifi));
	uint32_t nsfd = (uint32_t)ns_fd;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	nl_put(&m, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
	nl_put(&m, IFLA_IFNAME, to, strlen(to) + 1);
	if (nl_talk(fd, &m, NULL, NULL) == 0)
		return 0;
	if (errno == EEXIST)
		return error_errno(err,
		                   FIELD ": `%s`: the container already has a device `%s` (a name "
		                         "ending in %%d lets the kernel pick a free one)",
		                   from, to);
	return error_errno(err, FIELD ": move `%s` into the container as `%s`", from, to);
}

static int set_up(int fd, int index, const char *name, struct skiff_error **err)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_start(&m, RTM_NEWLINK, NLM_F_ACK, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (nl_talk(fd, &m, NULL, NULL) < 0)
		return error_errno(err, FIELD ": `%s`: set it up in the container", name);
	return 0;
}

static const char *target_name(const struct oci_net_device *d)
{
	return d->name && *d->name ? d->name : d->host_name;
}

static int move_one(int host_fd, int ctr_fd, int ns_fd, const struct oci_net_device *d,
                    struct skiff_error **err)
{
	const char *to = target_name(d);
	struct addr_list addrs = {.ifindex = (int)if_nametoindex(d->host_name)};
	cleanup_free struct saved_addr *owned = NULL;
	struct found_link moved;
	int r = 0;

	if (addrs.ifindex == 0)
		return error_errno(err, FIELD ": `%s`", d->host_name);
	r = dump_addrs(host_fd, &addrs, d->host_name, err);
	owned = addrs.v;
	if (r < 0 || move_link(host_fd, addrs.ifindex, ns_fd, d->host_name, to, err) < 0)
		return -1;
	if (find_link(ctr_fd, to, addrs.ifindex, &moved, err) < 0)
		return -1;
	for (size_t i = 0; i < addrs.n; i++)
		if (add_addr(ctr_fd, moved.index, &addrs.v[i], moved.name, err) < 0)
			return -1;
	if (set_up(ctr_fd, moved.index, moved.name, err) < 0)
		return -1;
	log_debug(FIELD ": `%s` moved into the container as `%s` (%zu addresses), up", d->host_name,
	          moved.name, addrs.n);
	return 0;
}

int netdev_move(pid_t pid, const struct oci_linux *l, struct skiff_error **err)
{
	char path[64];
	cleanup_close int ns_fd = -1, host_fd = -1, ctr_fd = -1;

	if (l->net_devices_len == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return error_errno(err, FIELD ": open %s", path);
	host_fd = nl_socket();
	if (host_fd < 0)
		return error_errno(err, FIELD ": netlink socket");
	if (nl_socket_in(ns_fd, &ctr_fd, err) < 0)
		return -1;
	for (size_t i = 0; i < l->net_devices_len; i++)
		if (move_one(host_fd, ctr_fd, ns_fd, &l->net_devices[i], err) < 0)
			return -1;
	return 0;
}

/* ---- validation ---- */

/* The kernel's rule (dev_valid_name): 1..15 bytes, not . or .., no '/', ':' or space. */
static bool valid_ifname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= IFNAMSIZ || dot_or_dotdot(s))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

int netdev_validate(const struct oci_linux *l, bool own_netns, struct skiff_error **err)
{
	if (l->net_devices_len == 0)
		return 0;
	if (!own_netns)
		return error_msg(err, FIELD ": needs a network namespace of the container's own "
		                            "(linux.namespaces)");
	for (size_t i = 0; i < l->net_devices_len; i++) {
		const struct oci_net_device *d = &l->net_devices[i];
		const char *to = target_name(d);

		if (!valid_ifname(d->host_name))
			return error_msg(err, FIELD ": `%s` is not an interface name",
			                 d->host_name ? d->host_name : "");
		if (!valid_ifname(to))
			return error_msg(err, FIELD ".%s.name: `%s` is not an interface name",
			                 d->host_name, to);
		if (if_nametoindex(d->host_name) == 0)
			return error_errno(err,
			                   FIELD ": `%s`: no such interface in skiff's network "
			                         "namespace",
			                   d->host_name);
		for (size_t j = 0; j < i; j++)
			if (strchr(to, '%') == NULL &&
			    strcmp(target_name(&l->net_devices[j]), to) == 0)
				return error_msg(err, FIELD ": two devices are named `%s`", to);
	}
	return 0;
}
