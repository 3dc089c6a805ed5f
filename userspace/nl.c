// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - read the topology from rtnetlink with libmnl: which ports to
 * protect (a bridge expands to its ports) and the gateway's own MACs and
 * addresses. Everything is read from the current network namespace with
 * one RTM_GETLINK and one RTM_GETADDR dump.
 *
 * Also the netlink socket helpers the nftables, ctnetlink and NFLOG code
 * share: a bound socket, a netfilter request header, one dump run, one
 * request and its acknowledgement (a veth pair's link info for the
 * br_netfilter probe's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>

#include "nl.h"
#include "state.h"

#ifndef MNL_SOCKET_DUMP_SIZE
#define MNL_SOCKET_DUMP_SIZE	32768
#endif

#define DUMP_RETRIES	5	/* NLM_F_DUMP_INTR: the tables changed mid-dump */

struct nl_link {
	int ifindex;
	char name[IF_NAMESIZE];
	__u8 mac[6];
	int master;
	bool bridge;
	bool up;
};

struct nl_addr {
	int ifindex;
	struct bh_addr addr;
	__u8 plen;
};

struct nl_dump {
	struct nl_link *links;
	size_t n_links, cap_links;
	struct nl_addr *addrs;
	size_t n_addrs, cap_addrs;
	const __u8 *neigh_mac;		/* RTM_GETNEIGH: keep this MAC's entries */
	int neigh_family;		/* RTM_GETNEIGH's ndm_family: AF_UNSPEC or AF_BRIDGE */
	struct bh_neigh *neigh;		/* bh_nl_neighbours(): every entry */
	size_t n_neigh, cap_neigh;
	bool intr;
	int err;
};


/* ---- dump plumbing -------------------------------------------------------- */

static int attr_cb(const struct nlattr *attr, void *data, int max)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, max) < 0)
		return MNL_CB_OK;	/* newer kernel attribute: ignore */
	tb[type] = attr;
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	return attr_cb(attr, data, IFLA_MAX);
}

static int info_attr_cb(const struct nlattr *attr, void *data)
{
	return attr_cb(attr, data, IFLA_INFO_MAX);
}

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	return attr_cb(attr, data, IFA_MAX);
}

static int neigh_attr_cb(const struct nlattr *attr, void *data)
{
	return attr_cb(attr, data, NDA_MAX);
}

static bool is_bridge_kind(const struct nlattr *linkinfo)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = {};
	const char *kind;
	size_t len;

	if (mnl_attr_parse_nested(linkinfo, info_attr_cb, tb) < 0 ||
	    !tb[IFLA_INFO_KIND])
		return false;
	kind = mnl_attr_get_payload(tb[IFLA_INFO_KIND]);
	len = mnl_attr_get_payload_len(tb[IFLA_INFO_KIND]);
	return strnlen(kind, len) == strlen("bridge") &&
	       !strncmp(kind, "bridge", strlen("bridge"));
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	struct nl_dump *d = data;
	const struct ifinfomsg *ifi;
	struct nl_link *l;
	const char *name;
	size_t len;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (!tb[IFLA_IFNAME])
		return MNL_CB_OK;
	if (bh_grow((void **)&d->links, &d->cap_links, d->n_links + 1,
		 sizeof(*d->links), 16)) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	l = &d->links[d->n_links];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	name = mnl_attr_get_payload(tb[IFLA_IFNAME]);
	len = strnlen(name, mnl_attr_get_payload_len(tb[IFLA_IFNAME]));
	if (len >= sizeof(l->name))
		len = sizeof(l->name) - 1;
	memcpy(l->name, name, len);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_MASTER] &&
	    mnl_attr_get_payload_len(tb[IFLA_MASTER]) >= sizeof(__u32))
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINKINFO])
		l->bridge = is_bridge_kind(tb[IFLA_LINKINFO]);
	d->n_links++;
	return MNL_CB_OK;
}

/* Append address attribute @a of @family (checked: 4 or 16 bytes) to d->addrs */
static int add_nl_addr(struct nl_dump *d, int family, const struct nlattr *a,
		       int ifindex, __u8 plen)
{
	size_t alen = family == AF_INET ? 4 : 16;
	struct nl_addr *e;

	if (mnl_attr_get_payload_len(a) != alen)
		return MNL_CB_OK;
	if (bh_grow((void **)&d->addrs, &d->cap_addrs, d->n_addrs + 1,
		 sizeof(*d->addrs), 16)) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	e = &d->addrs[d->n_addrs];
	memset(e, 0, sizeof(*e));
	e->ifindex = ifindex;
	e->plen = plen;
	if (family == AF_INET) {
		e->addr.a[10] = 0xff;
		e->addr.a[11] = 0xff;
		memcpy(&e->addr.a[12], mnl_attr_get_payload(a), 4);
		e->addr.v4 = true;
	} else {
		memcpy(e->addr.a, mnl_attr_get_payload(a), 16);
	}
	d->n_addrs++;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct nl_dump *d = data;
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return MNL_CB_OK;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return MNL_CB_OK;
	return add_nl_addr(d, ifa->ifa_family, a, (int)ifa->ifa_index,
			   ifa->ifa_prefixlen);
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NDA_MAX + 1] = {};
	struct nl_dump *d = data;
	const struct ndmsg *ndm;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return MNL_CB_OK;
	ndm = mnl_nlmsg_get_payload(nlh);
	if ((ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) ||
	    (ndm->ndm_state & (NUD_FAILED | NUD_INCOMPLETE)))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, tb) < 0 ||
	    !tb[NDA_DST] || !tb[NDA_LLADDR] ||
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6 ||
	    memcmp(mnl_attr_get_payload(tb[NDA_LLADDR]), d->neigh_mac, 6))
		return MNL_CB_OK;
	return add_nl_addr(d, ndm->ndm_family, tb[NDA_DST], ndm->ndm_ifindex,
			   ndm->ndm_family == AF_INET ? 32 : 128);
}

int bh_nl_neigh_parse(const struct nlmsghdr *nlh, struct bh_neigh *e)
{
	const struct nlattr *tb[NDA_MAX + 1] = {};
	const struct ndmsg *ndm;

	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return -EINVAL;
	ndm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, tb) < 0 || !tb[NDA_LLADDR] ||
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->family = ndm->ndm_family;
	e->ifindex = ndm->ndm_ifindex;
	e->state = ndm->ndm_state;
	e->flags = ndm->ndm_flags;
	if (tb[NDA_MASTER] && mnl_attr_get_payload_len(tb[NDA_MASTER]) == 4)
		e->master = (int)mnl_attr_get_u32(tb[NDA_MASTER]);
	memcpy(e->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
	if (tb[NDA_DST] && ndm->ndm_family == AF_INET &&
	    mnl_attr_get_payload_len(tb[NDA_DST]) == 4) {
		e->addr.v4 = true;
		e->addr.a[10] = e->addr.a[11] = 0xff;
		memcpy(e->addr.a + 12, mnl_attr_get_payload(tb[NDA_DST]), 4);
		e->has_addr = true;
	} else if (tb[NDA_DST] && ndm->ndm_family == AF_INET6 &&
		   mnl_attr_get_payload_len(tb[NDA_DST]) == 16) {
		memcpy(e->addr.a, mnl_attr_get_payload(tb[NDA_DST]), 16);
		e->has_addr = true;
	}
	return 0;
}

/* every usable entry: an address's MAC (ARP, ND) or a MAC's port (FDB) */
static int neigh_all_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_dump *d = data;
	struct bh_neigh e;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (nlh->nlmsg_type != RTM_NEWNEIGH || bh_nl_neigh_parse(nlh, &e) ||
	    (e.state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP)))
		return MNL_CB_OK;
	if (bh_grow((void **)&d->neigh, &d->cap_neigh, d->n_neigh + 1, sizeof(*d->neigh), 16)) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	d->neigh[d->n_neigh++] = e;
	return MNL_CB_OK;
}

/*
 * One dump request of @type, every part fed to @cb until NLMSG_DONE.
 * 0 or -errno (-EAGAIN when the kernel flagged the dump as interrupted).
 */
static int nl_dump(struct mnl_socket *nl, __u16 type, mnl_cb_t cb,
		   struct nl_dump *d)
{
	char *buf;
	struct nlmsghdr *nlh;
	unsigned int seq, portid;
	ssize_t n;
	int ret;

	buf = malloc(MNL_SOCKET_DUMP_SIZE);
	if (!buf)
		return -ENOMEM;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq = (unsigned int)time(NULL) ^ type;
	if (type == RTM_GETLINK) {
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		ifi->ifi_family = AF_UNSPEC;
	} else if (type == RTM_GETNEIGH) {
		struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

		ndm->ndm_family = (__u8)d->neigh_family;
	} else {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = AF_UNSPEC;
	}
	portid = mnl_socket_get_portid(nl);
	d->intr = false;
	d->err = 0;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_DUMP_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0) {
			ret = -EIO;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, d);
		if (ret == MNL_CB_ERROR) {
			ret = d->err ? d->err : (errno ? -errno : -EIO);
			goto out;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
	ret = d->intr ? -EAGAIN : 0;
out:
	free(buf);
	return ret;
}

static void dump_reset(struct nl_dump *d)
{
	free(d->links);
	free(d->addrs);
	free(d->neigh);
	memset(d, 0, sizeof(*d));
}

struct mnl_socket *bh_mnl_open(int bus)
{
	struct mnl_socket *nl = mnl_socket_open(bus);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	return nl;
}

int bh_nl_recv_each(struct mnl_socket *nl, void *buf, size_t len, int max,
		    bh_nl_msg_fn msg, void (*datagram)(void *arg), void *arg, __u64 *lost)
{
	int n = 0;

	for (int i = 0; i < max; i++) {
		ssize_t got = recv(mnl_socket_get_fd(nl), buf, len, 0);
		const struct nlmsghdr *nlh;
		int left;

		if (got < 0 && errno == ENOBUFS) {
			(*lost)++;	/* the socket overflowed: some are gone */
			continue;
		}
		if (got < 0)
			return errno == EAGAIN || errno == EINTR ? n : -errno;
		left = (int)got;
		if (datagram)
			datagram(arg);
		for (nlh = buf; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			n += msg(nlh, (size_t)left, arg);
	}
	return n;
}

struct nlmsghdr *bh_nfnl_hdr(char *buf, size_t len, __u16 type, __u16 flags, __u32 seq,
			     __u16 res_id)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, len));
	struct nfgenmsg *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return nlh;
}

int bh_mnl_dump(struct mnl_socket *nl, struct nlmsghdr *nlh, bh_mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	__u32 seq = nlh->nlmsg_seq;
	ssize_t len;
	int ret = 0;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)len, seq, mnl_socket_get_portid(nl), cb, data);
		if (ret <= 0)
			break;
	}
	if (len < 0)
		return -errno;
	return ret < 0 && errno != ENOENT ? -errno : 0;
}

static int nl_read_all(struct nl_dump *d)
{
	struct mnl_socket *nl = bh_mnl_open(NETLINK_ROUTE);
	int ret = -EAGAIN, i;

	if (!nl)
		return -errno;
	for (i = 0; i < DUMP_RETRIES && ret == -EAGAIN; i++) {
		dump_reset(d);
		ret = nl_dump(nl, RTM_GETLINK, link_cb, d);
		if (!ret)
			ret = nl_dump(nl, RTM_GETADDR, addr_cb, d);
	}
	mnl_socket_close(nl);
	return ret;
}

/*
 * One RTM_GETNEIGH dump into @d (its neigh_mac and neigh_family kept across
 * the retries of an interrupted dump), every entry fed to @cb. 0 or -errno.
 */
static int neigh_dump(struct nl_dump *d, mnl_cb_t cb)
{
	struct mnl_socket *nl = bh_mnl_open(NETLINK_ROUTE);
	const __u8 *mac = d->neigh_mac;
	int family = d->neigh_family, ret = -EAGAIN;

	if (!nl)
		return -errno;
	for (int i = 0; i < DUMP_RETRIES && ret == -EAGAIN; i++) {
		dump_reset(d);
		d->neigh_mac = mac;
		d->neigh_family = family;
		ret = nl_dump(nl, RTM_GETNEIGH, cb, d);
	}
	mnl_socket_close(nl);
	return ret;
}

int bh_nl_neigh_addrs(const __u8 mac[6], struct bh_addr **out, size_t *n)
{
	struct nl_dump d = { .neigh_mac = mac };
	int ret;

	*out = NULL;
	*n = 0;
	ret = neigh_dump(&d, neigh_cb);
	if (!ret && d.n_addrs) {
		*out = calloc(d.n_addrs, sizeof(**out));
		if (!*out)
			ret = -ENOMEM;
		for (size_t j = 0; *out && j < d.n_addrs; j++)
			(*out)[(*n)++] = d.addrs[j].addr;
	}
	dump_reset(&d);
	return ret;
}

int bh_nl_neighbours(int family, struct bh_neigh **out, size_t *n)
{
	struct nl_dump d = { .neigh_family = family };
	int ret;

	*out = NULL;
	*n = 0;
	ret = neigh_dump(&d, neigh_all_cb);
	if (!ret) {
		*out = d.neigh;
		*n = d.n_neigh;
		d.neigh = NULL;
	}
	dump_reset(&d);
	return ret;
}

/* ---- topology ------------------------------------------------------------ */

static const struct nl_link *find_name(const struct nl_dump *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_links; i++)
		if (!strncmp(d->links[i].name, name, sizeof(d->links[i].name)) &&
		    strlen(name) < sizeof(d->links[i].name))
			return &d->links[i];
	return NULL;
}

static int add_mac(struct bh_topology *t, size_t *cap, const __u8 mac[6])
{
	static const __u8 zero[6];
	size_t i;

	if (!memcmp(mac, zero, 6))
		return 0;
	for (i = 0; i < t->n_macs; i++)
		if (!memcmp(t->macs[i], mac, 6))
			return 0;
	if (bh_grow((void **)&t->macs, cap, t->n_macs + 1, sizeof(*t->macs), 16))
		return -ENOMEM;
	memcpy(t->macs[t->n_macs++], mac, 6);
	return 0;
}

static int add_port(struct bh_topology *t, size_t *cap, const struct nl_link *l,
		    const char *bridge)
{
	struct bh_port *p;
	size_t i;

	for (i = 0; i < t->n_ports; i++)
		if (t->ports[i].ifindex == l->ifindex)
			return 0;
	if (bh_grow((void **)&t->ports, cap, t->n_ports + 1, sizeof(*t->ports), 16))
		return -ENOMEM;
	p = &t->ports[t->n_ports++];
	memset(p, 0, sizeof(*p));
	p->ifindex = l->ifindex;
	memcpy(p->name, l->name, sizeof(p->name));
	if (bridge)
		snprintf(p->bridge, sizeof(p->bridge), "%s", bridge);
	memcpy(p->mac, l->mac, 6);
	p->up = l->up;
	return 0;
}

/* The addresses of @ifindex, once per interface. */
static int add_addrs(struct bh_topology *t, size_t *cap, const struct nl_dump *d,
		     int ifindex)
{
	struct bh_gw_addr *g;
	size_t i;

	for (i = 0; i < t->n_addrs; i++)
		if (t->addrs[i].ifindex == ifindex)
			return 0;
	for (i = 0; i < d->n_addrs; i++) {
		if (d->addrs[i].ifindex != ifindex)
			continue;
		if (bh_grow((void **)&t->addrs, cap, t->n_addrs + 1, sizeof(*t->addrs), 16))
			return -ENOMEM;
		g = &t->addrs[t->n_addrs++];
		memset(g, 0, sizeof(*g));
		g->addr = d->addrs[i].addr;
		g->plen = d->addrs[i].plen;
		g->ifindex = ifindex;
	}
	return 0;
}

static int port_cmp(const void *a, const void *b)
{
	const struct bh_port *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static void set_err(char *err, size_t errlen, const char *fmt, const char *s)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, s);
}

int bh_nl_topology(char *const *names, size_t n, struct bh_topology *out,
		   char *err, size_t errlen)
{
	size_t cap_ports = 0, cap_macs = 0, cap_addrs = 0, i, j;
	struct nl_dump d = {};
	struct bh_topology t = {};
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!out || (n && !names))
		return -EINVAL;
	memset(out, 0, sizeof(*out));

	ret = nl_read_all(&d);
	if (ret) {
		set_err(err, errlen, "rtnetlink: %s", strerror(-ret));
		goto out;
	}

	for (i = 0; i < n; i++) {
		const struct nl_link *l = names[i] ? find_name(&d, names[i]) : NULL;

		if (!l) {
			set_err(err, errlen, "interface %s: not found",
				names[i] ? names[i] : "(null)");
			ret = -ENODEV;
			goto out;
		}
		ret = add_mac(&t, &cap_macs, l->mac);
		if (!ret)
			ret = add_addrs(&t, &cap_addrs, &d, l->ifindex);
		if (ret)
			goto nomem;
		if (!l->bridge) {
			ret = add_port(&t, &cap_ports, l, NULL);
			if (ret)
				goto nomem;
			continue;
		}
		for (j = 0; j < d.n_links; j++) {
			const struct nl_link *p = &d.links[j];

			if (p->master != l->ifindex || p->ifindex == l->ifindex)
				continue;
			ret = add_port(&t, &cap_ports, p, l->name);
			if (!ret)
				ret = add_mac(&t, &cap_macs, p->mac);
			if (ret)
				goto nomem;
		}
	}
	/* Directly listed ports' MACs are in already; sort, done. */
	if (t.n_ports)
		qsort(t.ports, t.n_ports, sizeof(*t.ports), port_cmp);
	*out = t;
	memset(&t, 0, sizeof(t));
	ret = 0;
	goto out;
nomem:
	set_err(err, errlen, "%s", strerror(-ret));
out:
	bh_topology_free(&t);
	dump_reset(&d);
	return ret;
}

void bh_topology_free(struct bh_topology *t)
{
	if (!t)
		return;
	free(t->ports);
	free(t->macs);
	free(t->addrs);
	memset(t, 0, sizeof(*t));
}

int bh_nl_request(int bus, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	ssize_t len;
	int ret;

	nl = bh_mnl_open(bus);
	if (!nl)
		return -errno;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (__u32)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)len, nlh->nlmsg_seq, mnl_socket_get_portid(nl),
				 NULL, NULL);
	} while (ret > MNL_CB_STOP);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

void bh_nl_put_veth(struct nlmsghdr *nlh, const char *peer)
{
	struct nlattr *info, *data, *pn;
	struct ifinfomsg *pifi;

	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pn = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, pn);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
}

/*
 * --mode nft: bridged IP must reach the inet hooks (and conntrack), so the
 * bridge's own nf_call_iptables / nf_call_ip6tables options (br_netfilter,
 * per bridge, nothing global) are set through RTM_NEWLINK.
 */
int bh_nl_bridge_nf_call(const char *bridge, bool on)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;

	memset(buf, 0, sizeof(buf));	/* attribute padding is sent too */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, bridge);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_BR_NF_CALL_IPTABLES, on);
	mnl_attr_put_u8(nlh, IFLA_BR_NF_CALL_IP6TABLES, on);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return bh_nl_request(NETLINK_ROUTE, nlh);
}
