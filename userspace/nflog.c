// SPDX-License-Identifier: GPL-2.0
/*
 * nflog.c - the deny events of --mode nft, read from NFLOG group
 * BH_NFLOG_GROUP over nfnetlink_log (libmnl). The kernel rate-limits them
 * (nft_policy.c: set ev_limit per source MAC, limit object ev_cap per
 * table); each message carries the prefix "bulkhead <reason>[ <rule id>]",
 * the link-layer header (NFULA_HWHEADER: destination, source, ethertype)
 * and the first BH_NFLOG_COPY_RANGE bytes from the network header
 * (NFULA_PAYLOAD, in the bridge and the inet family alike). Everything in
 * a message comes from a device and is parsed with every length checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>

#include "eval.h"
#include "nflog.h"
#include "nft.h"
#include "nl.h"

#define NFLOG_BUF		(128 * 1024)	/* one datagram: NFULA_CFG_NLBUFSIZ at most */
#define NFLOG_NLBUFSIZ		65536		/* the kernel batches up to this */
#define NFLOG_QTHRESH		64		/* ... or this many packets */
#define NFLOG_TIMEOUT		10		/* ... or 1/100 s */
#define NFLOG_READS		64		/* datagrams per bh_nflog_read */
#define IPV6_EXT_MAX		8		/* extension headers walked */

/*
 * The drops of a source MAC (set dev_drops of the event's table) at its
 * last event: an event stands for the drops counted since, itself
 * included, so events + suppressed = drops as in the BPF modes. An open
 * addressing table, emptied when it is 3/4 full (the next event of each
 * MAC then stands for itself only).
 */
#define LAST_SLOTS		16384	/* a power of 2 */

struct last_drops {
	__u8 used;
	__u8 inet;		/* table inet, else table bridge */
	__u8 mac[6];
	__u64 drops;
};

struct bh_nflog {
	struct mnl_socket *nl;
	struct mnl_socket *q;		/* asks for the drop counters */
	__u16 group;
	__u64 lost;
	size_t n_last;
	struct last_drops last[LAST_SLOTS];
	struct last_drops read;		/* the counter read for this datagram */
	void (*on_event)(void *data, const struct bh_event *e);
	void *on_data;
	char buf[NFLOG_BUF];
};

/* ---- parsing ------------------------------------------------------------------- */

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type > 0 && type <= NFULA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/*
 * "bulkhead [would_drop ]<reason>[ <rule id>]": a drop reason and the rule
 * (would_drop: audit passed it, BH_EVF_WOULD_DROP), or -EINVAL
 */
static int parse_prefix(const struct nlattr *a, struct bh_event *e)
{
	const char *s = mnl_attr_get_payload(a), *p;
	size_t len = mnl_attr_get_payload_len(a), n, k = sizeof(BH_NFLOG_PREFIX);
	unsigned long rule = 0;

	if (!memchr(s, '\0', len) || strncmp(s, BH_NFLOG_PREFIX " ", k))
		return -EINVAL;
	s += k;
	e->flags = 0;
	if (!strncmp(s, BH_NFLOG_WOULD " ", sizeof(BH_NFLOG_WOULD))) {
		e->flags = BH_EVF_WOULD_DROP;
		s += sizeof(BH_NFLOG_WOULD);
	}
	n = strcspn(s, " ");
	e->reason = BH_R_MAX;
	for (unsigned int r = BH_R_PASS_MAX; r < BH_R_MAX; r++)
		if (strlen(bh_reason_names[r]) == n && !strncmp(s, bh_reason_names[r], n))
			e->reason = (__u16)r;
	if (e->reason == BH_R_MAX)
		return -EINVAL;
	e->rule_id = BH_RULE_DEFAULT;
	if (!s[n])
		return 0;
	p = s + n + 1;
	if (!strcmp(p, "pin")) {
		e->rule_id = BH_RULE_PIN;
		return 0;
	}
	n = strspn(p, "0123456789");
	if (!n || n > 6 || p[n])
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		rule = rule * 10 + (unsigned long)(p[i] - '0');
	if (rule >= BH_MAX_RULES)
		return -EINVAL;
	e->rule_id = (__u32)rule;
	return 0;
}

/* the L4 header at @p (@len bytes): ports, or an echo's identifier */
static void parse_l4(struct bh_event *e, const __u8 *p, size_t len)
{
	switch (e->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (len >= 4) {
			e->sport = bh_be16(p);
			e->dport = bh_be16(p + 2);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len >= 8 && (e->proto == IPPROTO_ICMP ? p[0] == 0 || p[0] == 8 :
				 p[0] == 128 || p[0] == 129))
			e->sport = e->dport = bh_be16(p + 4);
		break;
	}
}

static void parse_ipv4(struct bh_event *e, const __u8 *p, size_t len)
{
	size_t hl;

	if (len < 20 || p[0] >> 4 != 4)
		return;
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < 20 || hl > len)
		return;
	e->is_v4 = 1;
	e->proto = p[9];
	bh_v4mapped(e->saddr, p + 12);
	bh_v4mapped(e->daddr, p + 16);
	if (!(bh_be16(p + 6) & 0x1fff))		/* not a later fragment */
		parse_l4(e, p + hl, len - hl);
}

static void parse_ipv6(struct bh_event *e, const __u8 *p, size_t len)
{
	size_t off = 40;
	__u8 nh;

	if (len < 40 || p[0] >> 4 != 6)
		return;
	memcpy(e->saddr, p + 8, 16);
	memcpy(e->daddr, p + 24, 16);
	nh = p[6];
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		size_t hl;

		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			break;
		if (off + 8 > len) {
			e->proto = nh;
			return;
		}
		if (nh == 44) {			/* fragment: a later one has no L4 */
			hl = 8;
			if (bh_be16(p + off + 2) & 0xfff8) {
				e->proto = p[off];
				return;
			}
		} else if (nh == 51) {
			hl = ((size_t)p[off + 1] + 2) * 4;
		} else {
			hl = ((size_t)p[off + 1] + 1) * 8;
		}
		nh = p[off];
		off += hl;
	}
	e->proto = nh;
	if (off <= len)
		parse_l4(e, p + off, len - off);
}

static void parse_arp(struct bh_event *e, const __u8 *p, size_t len)
{
	/* Ethernet / IPv4 ARP: sender address at 14, target at 24 */
	if (len < 28 || p[4] != 6 || p[5] != 4)
		return;
	e->is_v4 = 1;
	bh_v4mapped(e->saddr, p + 14);
	bh_v4mapped(e->daddr, p + 24);
}

/* The attributes of one NFULNL_MSG_PACKET message, every length checked. */
static int msg_attrs(const struct nlmsghdr *nlh, size_t len, const struct nlattr **tb)
{
	if (len < sizeof(*nlh) || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)) ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0)
		return -EINVAL;
	return 0;
}

/* The frame of a message: its MACs, ethertype, addresses and ports. */
static void parse_frame(const struct nlattr **tb, struct bh_event *e)
{
	const __u8 *pl;
	size_t plen;

	if (tb[NFULA_PACKET_HDR] &&
	    mnl_attr_get_payload_len(tb[NFULA_PACKET_HDR]) >= sizeof(struct nfulnl_msg_packet_hdr))
		e->eth_proto = bh_be16(mnl_attr_get_payload(tb[NFULA_PACKET_HDR]));
	if (tb[NFULA_HWHEADER] && mnl_attr_get_payload_len(tb[NFULA_HWHEADER]) >= 14) {
		pl = mnl_attr_get_payload(tb[NFULA_HWHEADER]);
		memcpy(e->dmac, pl, 6);
		memcpy(e->smac, pl + 6, 6);
		e->eth_proto = bh_be16(pl + 12);
	} else if (tb[NFULA_HWADDR] &&
		   mnl_attr_get_payload_len(tb[NFULA_HWADDR]) >= sizeof(struct nfulnl_msg_packet_hw)) {
		const struct nfulnl_msg_packet_hw *hw = mnl_attr_get_payload(tb[NFULA_HWADDR]);

		if (ntohs(hw->hw_addrlen) == 6)
			memcpy(e->smac, hw->hw_addr, 6);
	}
	if (tb[NFULA_VLAN]) {
		/* a tag the kernel took off the frame: the frame's ethertype */
		const struct nlattr *v;

		mnl_attr_for_each_nested(v, tb[NFULA_VLAN])
			if (mnl_attr_get_type(v) == NFULA_VLAN_PROTO &&
			    mnl_attr_get_payload_len(v) >= 2)
				e->eth_proto = bh_be16(mnl_attr_get_payload(v));
	}
	if (!tb[NFULA_PAYLOAD])
		return;
	pl = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
	plen = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);
	switch (e->eth_proto) {
	case 0x0800:
		parse_ipv4(e, pl, plen);
		break;
	case 0x86dd:
		parse_ipv6(e, pl, plen);
		break;
	case 0x0806:
		parse_arp(e, pl, plen);
		break;
	}
}

int bh_nflog_parse(const struct nlmsghdr *nlh, size_t len, struct bh_event *e)
{
	const struct nlattr *tb[NFULA_MAX + 1] = {};

	memset(e, 0, sizeof(*e));
	if (msg_attrs(nlh, len, tb))
		return -EINVAL;
	if (!tb[NFULA_PREFIX] || parse_prefix(tb[NFULA_PREFIX], e))
		return -EINVAL;
	parse_frame(tb, e);
	return 0;
}

/* "bulkhead detect <what>" (nft_spec.h) -> its BH_DETN_* flags, or 0 */
static __u32 det_prefix(const struct nlattr *a)
{
	static const struct {
		const char *what;
		__u32 flags;
	} whats[] = {
		{ "deny", BH_DETN_NEW | BH_DETN_DENIED },
		{ "deny_inet", BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_INTERNET },
		{ "new", BH_DETN_NEW },
		{ "block", BH_DETN_NEW | BH_DETN_BLOCK | BH_DETN_INTERNET },
		{ "refused", BH_DETN_NEW | BH_DETN_REFUSED },
		{ "arp", BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_V4 },
	};
	const char *s = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a), k = sizeof(BH_NFLOG_DET_PREFIX);

	if (!memchr(s, '\0', len) || strncmp(s, BH_NFLOG_DET_PREFIX " ", k))
		return 0;
	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (!strcmp(s + k, whats[i].what))
			return whats[i].flags;
	return 0;
}

/*
 * A refusal (a TCP RST, an ICMP or ICMPv6 unreachable) on its way to a
 * flow's opener: a failed attempt of the opener (the frame's destination
 * MAC) to the refuser (its source address) on the port it tried, the RST's
 * source port or the quoted destination port (det_mark_refused() in
 * bpf/lib/decide.h). 0 or -EINVAL.
 */
static int det_refused(const struct nlattr **tb, const struct bh_event *e, __u32 flags,
		       struct bh_nflog_det *d)
{
	__u8 proto = e->proto;
	__u16 port = 0;

	if ((e->eth_proto != 0x0800 && e->eth_proto != 0x86dd) ||
	    !memcmp(e->dmac, "\0\0\0\0\0\0", 6) || (e->dmac[0] & 1))
		return -EINVAL;
	if (proto == IPPROTO_TCP) {
		port = e->sport;
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		const __u8 *pl = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
		size_t plen = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), off;
		struct bh_event q = {};

		/* the outer header parsed (e->proto set), so plen covers it */
		off = (e->is_v4 ? (size_t)(pl[0] & 0x0f) * 4 : 40) + 8;
		if (off >= plen || pl[off - 8] != (e->is_v4 ? 3 : 1))	/* unreachable */
			return -EINVAL;
		if (e->is_v4)
			parse_ipv4(&q, pl + off, plen - off);
		else
			parse_ipv6(&q, pl + off, plen - off);
		proto = q.proto;
		if (!proto)
			return -EINVAL;
		if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
			port = q.dport;
	} else {
		return -EINVAL;
	}
	if (e->is_v4)
		flags |= BH_DETN_V4;
	memcpy(d->mac, e->dmac, 6);
	memcpy(d->daddr, e->saddr, 16);
	d->what = BH_DETN_WHAT(proto, port, flags);
	return 0;
}

int bh_nflog_det_parse(const struct nlmsghdr *nlh, size_t len, struct bh_nflog_det *d)
{
	const struct nlattr *tb[NFULA_MAX + 1] = {};
	struct bh_event e = {};
	__u32 flags;
	__u16 port = 0;

	memset(d, 0, sizeof(*d));
	if (msg_attrs(nlh, len, tb) || !tb[NFULA_PREFIX])
		return -EINVAL;
	flags = det_prefix(tb[NFULA_PREFIX]);
	if (!flags)
		return -EINVAL;
	parse_frame(tb, &e);
	if (flags & BH_DETN_REFUSED)
		return det_refused(tb, &e, flags, d);
	/* an ARP frame to a device it may not talk to: its target, no port */
	if (e.eth_proto == 0x0806) {
		if (!(flags & BH_DETN_V4) || !e.is_v4 || !memcmp(e.smac, "\0\0\0\0\0\0", 6))
			return -EINVAL;
		memcpy(d->mac, e.smac, 6);
		memcpy(d->daddr, e.daddr, 16);
		d->what = BH_DETN_WHAT(0, 0, flags);
		return 0;
	}
	/* an attempt of a device over IP, its source MAC known */
	if ((e.eth_proto != 0x0800 && e.eth_proto != 0x86dd) || !e.proto ||
	    !memcmp(e.smac, "\0\0\0\0\0\0", 6))
		return -EINVAL;
	if (e.proto == IPPROTO_TCP || e.proto == IPPROTO_UDP)
		port = e.dport;
	if (e.is_v4)
		flags |= BH_DETN_V4;
	memcpy(d->mac, e.smac, 6);
	memcpy(d->daddr, e.daddr, 16);
	d->what = BH_DETN_WHAT(e.proto, port, flags);
	return 0;
}

/* ---- the socket ------------------------------------------------------------------ */

static int nflog_cfg(struct bh_nflog *nf, __u8 cmd, bool mode, __u32 seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = bh_nfnl_hdr(buf, sizeof(buf),
					   (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG,
					   NLM_F_REQUEST | NLM_F_ACK, seq, nf->group);
	ssize_t len;
	int ret;

	if (mode) {
		struct nfulnl_msg_config_mode m = {
			.copy_range = htonl(BH_NFLOG_COPY_RANGE),
			.copy_mode = NFULNL_COPY_PACKET,
		};

		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
		mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(NFLOG_NLBUFSIZ));
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(NFLOG_QTHRESH));
		mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(NFLOG_TIMEOUT));
	} else {
		struct nfulnl_msg_config_cmd c = { .command = cmd };

		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	}
	if (mnl_socket_sendto(nf->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* until the acknowledgement (packets may come first: not ours to read) */
	do {
		len = mnl_socket_recvfrom(nf->nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)len, seq, mnl_socket_get_portid(nf->nl), NULL, NULL);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

int bh_nflog_open(struct bh_nflog **out, __u16 group)
{
	struct bh_nflog *nf = calloc(1, sizeof(*nf));
	int rcvbuf = BH_NFLOG_RCVBUF, fd, ret;
	__u32 seq = (__u32)time(NULL);

	*out = NULL;
	if (!nf)
		return -ENOMEM;
	nf->group = group;
	nf->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nf->nl) {
		ret = -errno;
		goto err;
	}
	if (mnl_socket_bind(nf->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err;
	}
	nf->q = bh_mnl_open(NETLINK_NETFILTER);
	if (!nf->q) {
		ret = -errno;
		goto err;
	}
	fd = mnl_socket_get_fd(nf->nl);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	ret = nflog_cfg(nf, NFULNL_CFG_CMD_BIND, false, seq);
	if (!ret)
		ret = nflog_cfg(nf, 0, true, seq + 1);
	if (ret)
		goto err;
	/* from now on read from the poll loop only */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		ret = -errno;
		goto err;
	}
	*out = nf;
	return 0;
err:
	bh_nflog_close(nf);
	return ret;
}

void bh_nflog_close(struct bh_nflog *nf)
{
	if (!nf)
		return;
	if (nf->nl)
		mnl_socket_close(nf->nl);	/* the kernel unbinds the group */
	if (nf->q)
		mnl_socket_close(nf->q);
	free(nf);
}

int bh_nflog_fd(const struct bh_nflog *nf)
{
	return nf ? mnl_socket_get_fd(nf->nl) : -1;
}

__u64 bh_nflog_lost(const struct bh_nflog *nf)
{
	return nf ? nf->lost : 0;
}

void bh_nflog_on_event(struct bh_nflog *nf, void (*cb)(void *data, const struct bh_event *e),
		       void *data)
{
	if (!nf)
		return;
	nf->on_event = cb;
	nf->on_data = data;
}

static struct last_drops *last_of(struct bh_nflog *nf, bool inet, const __u8 mac[6])
{
	unsigned int h = inet;

	for (int i = 0; i < 6; i++)
		h = h * 31 + mac[i];
	for (unsigned int i = 0; i < LAST_SLOTS; i++) {
		struct last_drops *l = &nf->last[(h + i) & (LAST_SLOTS - 1)];

		if (!l->used || (l->inet == inet && !memcmp(l->mac, mac, 6)))
			return l;
	}
	return NULL;	/* never: the table is emptied before it fills */
}

/* the frames event @e stands for: the drops of its source since its last event */
static __u64 frames_of(struct bh_nflog *nf, int pf, const struct bh_event *e)
{
	bool inet = pf != NFPROTO_BRIDGE;
	struct last_drops *l;
	__u64 drops, n;

	/* once a datagram per MAC: a flood's batch costs one request */
	if (nf->read.used && nf->read.inet == inet && !memcmp(nf->read.mac, e->smac, 6)) {
		drops = nf->read.drops;
	} else if (bh_nft_drops_of(nf->q, inet ? NFPROTO_INET : NFPROTO_BRIDGE, e->smac,
				   &drops)) {
		return 1;	/* not counted (the set is full): the event alone */
	} else {
		nf->read = (struct last_drops){ .used = 1, .inet = inet, .drops = drops };
		memcpy(nf->read.mac, e->smac, 6);
	}
	if (nf->n_last >= LAST_SLOTS / 4 * 3) {
		memset(nf->last, 0, sizeof(nf->last));
		nf->n_last = 0;
	}
	l = last_of(nf, inet, e->smac);
	if (!l)
		return 1;
	if (!l->used) {
		l->used = 1;
		l->inet = inet;
		memcpy(l->mac, e->smac, 6);
		nf->n_last++;
		n = 1;
	} else {
		/* 0: counted already by an earlier event read late; a counter
		 * lower than before: the tables were made anew */
		n = drops >= l->drops ? drops - l->drops : 1;
	}
	l->drops = drops;
	return n;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * Read at most NFLOG_READS datagrams and call @msg for each message in
 * them (@left: the bytes from it to the datagram's end). The messages
 * read, or -errno.
 */
struct read_arg {
	struct bh_nflog *nf;
	int (*msg)(struct bh_nflog *nf, const struct nlmsghdr *nlh, size_t left, void *arg);
	void *arg;
};

static int read_msg(const struct nlmsghdr *nlh, size_t left, void *data)
{
	struct read_arg *r = data;

	return r->msg(r->nf, nlh, left, r->arg);
}

/* a datagram's counter read is its own */
static void read_datagram(void *data)
{
	((struct read_arg *)data)->nf->read.used = 0;
}

static int read_loop(struct bh_nflog *nf,
		     int (*msg)(struct bh_nflog *nf, const struct nlmsghdr *nlh, size_t left,
				void *arg), void *arg)
{
	struct read_arg r = { nf, msg, arg };

	if (!nf)
		return 0;
	return bh_nl_recv_each(nf->nl, nf->buf, sizeof(nf->buf), NFLOG_READS, read_msg,
			       read_datagram, &r, &nf->lost);
}

/* a deny event into the events (struct bh_events *@arg) */
static int deny_msg(struct bh_nflog *nf, const struct nlmsghdr *nlh, size_t left, void *arg)
{
	const struct nfgenmsg *g;
	struct bh_event e;
	__u64 frames;

	if (bh_nflog_parse(nlh, left, &e))
		return 0;
	g = mnl_nlmsg_get_payload(nlh);
	frames = frames_of(nf, g->nfgen_family, &e);
	e.suppressed = frames > 1 ? (__u32)(frames - 1) : 0;
	e.time_ns = mono_ns();	/* logged just now */
	bh_events_add(arg, &e, frames);
	if (nf->on_event)
		nf->on_event(nf->on_data, &e);
	return 1;
}

int bh_nflog_read(struct bh_nflog *nf, struct bh_events *ev)
{
	return read_loop(nf, deny_msg, ev);
}

struct det_arg {
	void (*fn)(void *arg, const struct bh_nflog_det *d);
	void *arg;
};

static int det_msg(struct bh_nflog *nf, const struct nlmsghdr *nlh, size_t left, void *arg)
{
	const struct det_arg *a = arg;
	struct bh_nflog_det d;

	(void)nf;
	if (bh_nflog_det_parse(nlh, left, &d))
		return 0;
	a->fn(a->arg, &d);
	return 1;
}

int bh_nflog_read_det(struct bh_nflog *nf,
		      void (*fn)(void *arg, const struct bh_nflog_det *d), void *arg)
{
	struct det_arg a = { fn, arg };

	return read_loop(nf, det_msg, &a);
}
