// SPDX-License-Identifier: GPL-2.0
/*
 * flowkey.c - flow record keys for --mode nft (flowkey.h): a conntrack
 * message or a deny event into the struct bh_flow_key the BPF programs
 * would have made for the flow's opening frame (bpf/lib/flow.h).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>

#include "flowkey.h"

/* ---- ctnetlink ------------------------------------------------------------ */

static int ct_ip(const struct nlattr *ip, struct bh_ctflow *f)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, ip) {
		int t = mnl_attr_get_type(a);
		__u8 *d = t == CTA_IP_V4_SRC || t == CTA_IP_V6_SRC ? f->saddr : f->daddr;

		switch (t) {
		case CTA_IP_V4_SRC:
		case CTA_IP_V4_DST:
			if (mnl_attr_get_payload_len(a) != 4)
				return -EINVAL;
			memset(d, 0, 10);
			d[10] = d[11] = 0xff;
			memcpy(d + 12, mnl_attr_get_payload(a), 4);
			f->v4 = true;
			break;
		case CTA_IP_V6_SRC:
		case CTA_IP_V6_DST:
			if (mnl_attr_get_payload_len(a) != 16)
				return -EINVAL;
			memcpy(d, mnl_attr_get_payload(a), 16);
			break;
		}
	}
	return 0;
}

static int ct_proto(const struct nlattr *pr, struct bh_ctflow *f)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, pr) {
		int t = mnl_attr_get_type(a);

		switch (t) {
		case CTA_PROTO_NUM:
		case CTA_PROTO_ICMP_TYPE:
		case CTA_PROTO_ICMPV6_TYPE:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				return -EINVAL;
			if (t == CTA_PROTO_NUM)
				f->proto = mnl_attr_get_u8(a);
			else
				f->icmp_type = mnl_attr_get_u8(a);
			break;
		case CTA_PROTO_SRC_PORT:
		case CTA_PROTO_DST_PORT:
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
				return -EINVAL;
			if (t == CTA_PROTO_SRC_PORT)
				f->sport = ntohs(mnl_attr_get_u16(a));
			else
				f->dport = ntohs(mnl_attr_get_u16(a));
			break;
		}
	}
	return 0;
}

static int ct_counters(const struct nlattr *c, struct bh_ctflow *f)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, c) {
		int t = mnl_attr_get_type(a);
		__u64 v;

		if (t != CTA_COUNTERS_PACKETS && t != CTA_COUNTERS_BYTES)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			return -EINVAL;
		v = be64toh(mnl_attr_get_u64(a));
		if (t == CTA_COUNTERS_PACKETS)
			f->packets += v;
		else
			f->bytes += v;
		f->has_counters = true;
	}
	return 0;
}

int bh_ctflow_parse(const struct nlmsghdr *nlh, size_t len, struct bh_ctflow *f)
{
	const struct nlattr *a, *b;
	bool orig = false;
	__u16 type;

	memset(f, 0, sizeof(*f));
	if (len < sizeof(*nlh) || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
		return -EINVAL;
	type = nlh->nlmsg_type;
	if ((type >> 8) != NFNL_SUBSYS_CTNETLINK)
		return -EINVAL;
	if ((type & 0xff) != IPCTNL_MSG_CT_NEW && (type & 0xff) != IPCTNL_MSG_CT_DELETE)
		return -EINVAL;
	f->destroy = (type & 0xff) == IPCTNL_MSG_CT_DELETE;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_ORIG:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
				return -EINVAL;
			mnl_attr_for_each_nested(b, a) {
				int ret = 0;

				if (mnl_attr_get_type(b) == CTA_TUPLE_IP)
					ret = ct_ip(b, f);
				else if (mnl_attr_get_type(b) == CTA_TUPLE_PROTO)
					ret = ct_proto(b, f);
				if (ret)
					return ret;
			}
			orig = true;
			break;
		case CTA_COUNTERS_ORIG:
		case CTA_COUNTERS_REPLY:
			if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0 || ct_counters(a, f))
				return -EINVAL;
			break;
		case CTA_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return -EINVAL;
			f->id = ntohl(mnl_attr_get_u32(a));
			break;
		}
	}
	return orig ? 0 : -EINVAL;
}

/* ---- the record's key ---------------------------------------------------- */

static bool addr_multicast(const __u8 a[16], bool v4)
{
	return v4 ? (a[12] & 0xf0) == 0xe0 : a[0] == 0xff;
}

/* flow_routed_kind(): the kind of a routed destination @a */
static __u8 routed_kind(const struct bh_flow_env *env, const __u8 a[16], __u8 mac[6])
{
	if (env->gw_ip(env->data, a))
		return BH_FK_GATEWAY;
	if (env->owner(env->data, a, mac))
		return BH_FK_DEVICE;
	return env->lan(env->data, a) ? BH_FK_LAN : BH_FK_INTERNET;
}

void bh_flow_dest(const struct bh_flow_env *env, const __u8 *dmac, const __u8 daddr[16],
		  bool v4, struct bh_flow_key *k)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 bcast4[16] = { [10] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	__u8 mac[6] = { 0 };

	memset(k->dmac, 0, sizeof(k->dmac));
	memcpy(k->daddr, daddr, 16);
	k->plen = 0;
	if (dmac && (dmac[0] & 1))
		k->kind = memcmp(dmac, bcast, 6) ? BH_FK_MULTICAST : BH_FK_BROADCAST;
	else if (dmac && !env->gw_mac(env->data, dmac))
		k->kind = BH_FK_DEVICE, memcpy(mac, dmac, 6);
	else if (!dmac && addr_multicast(daddr, v4))
		k->kind = BH_FK_MULTICAST;
	else if (!dmac && v4 && !memcmp(daddr, bcast4, 16))
		k->kind = BH_FK_BROADCAST;
	else
		k->kind = routed_kind(env, daddr, mac);
	if (k->kind == BH_FK_DEVICE)
		memcpy(k->dmac, mac, 6);
	if (k->kind == BH_FK_INTERNET) {
		if (v4) {
			k->daddr[15] = 0;
			k->plen = BH_FLOW_V4_PLEN;
		} else {
			memset(k->daddr + BH_FLOW_V6_PLEN / 8, 0, 16 - BH_FLOW_V6_PLEN / 8);
			k->plen = BH_FLOW_V6_PLEN;
		}
	}
}

/* proto and port as flow_key() keeps them for an opening frame */
static void proto_port(struct bh_flow_key *k, __u8 proto, __u16 dport, __u8 icmp_type)
{
	k->proto = proto;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		k->port = dport;
	else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		k->port = icmp_type;
	else
		k->port = 0;
}

int bh_flow_key_ct(const struct bh_flow_env *env, const struct bh_ctflow *f, __u8 verdict,
		   struct bh_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	if (!env->owner(env->data, f->saddr, k->smac))
		return -ENOENT;
	bh_flow_dest(env, NULL, f->daddr, f->v4, k);
	proto_port(k, f->proto, f->dport, f->icmp_type);
	k->verdict = verdict;
	if (f->v4)
		k->flags |= BH_FLOW_F_V4;
	return 0;
}

int bh_flow_key_event(const struct bh_flow_env *env, const struct bh_event *e,
		      struct bh_flow_key *k)
{
	static const __u8 zero[6];

	memset(k, 0, sizeof(*k));
	if ((e->smac[0] & 1) || !memcmp(e->smac, zero, 6))
		return -ENOENT;
	memcpy(k->smac, e->smac, 6);
	bh_flow_dest(env, e->dmac, e->daddr, e->is_v4, k);
	if (e->eth_proto == ETH_P_ARP) {
		k->flags |= BH_FLOW_F_ARP;
	} else if (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) {
		/* the event keeps no ICMP type: a denied echo request */
		proto_port(k, e->proto, 0, e->proto == IPPROTO_ICMP ? 8 : 128);
	} else {
		proto_port(k, e->proto, e->dport, 0);
	}
	if (e->is_v4)
		k->flags |= BH_FLOW_F_V4;
	k->verdict = (e->flags & BH_EVF_WOULD_DROP) ? BH_FV_WOULD_DROP : BH_FV_DROP;
	return 0;
}
