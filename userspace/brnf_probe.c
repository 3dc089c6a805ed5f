// SPDX-License-Identifier: GPL-2.0
/*
 * brnf_probe.c - whether bridged IP reaches an nftables inet table, seen
 * rather than read from a sysctl: --mode nft judges bridged IP in table
 * inet bulkhead, which meets it only when br_netfilter hands it over.
 *
 * A child process makes a scratch network namespace (unshare; without
 * CAP_SYS_ADMIN, as bulkhead.service runs, in a user namespace of its own
 * too), so the host's bridges and ruleset are never touched, and there
 * builds:
 *   - bridge bhprobe0 with nf_call_iptables / nf_call_ip6tables set by
 *     bh_nl_bridge_nf_call(), as up --mode nft sets them on the policy's
 *     bridges; the namespace's bridge-nf-call-ip{,6}tables sysctls (when
 *     br_netfilter has them) set to 0, so the bridge's options alone, what
 *     up relies on, carry the frames;
 *   - two veth pairs, bhprobe1 and bhprobe2 in the bridge, their peers
 *     bhprobe1o and bhprobe2o outside it; everything up;
 *   - table inet bulkhead_probe: on the prerouting hook, where table inet
 *     bulkhead judges, a rule counting the probe's IPv4/UDP frames
 *     entering through the bridge (iifname bhprobe0, as br_netfilter
 *     gives it) and one counting its IPv6/UDP frames;
 *   - table bridge bulkhead_probe: on the bridge prerouting hook after
 *     br_netfilter's (priority 0), the same two counting the frames
 *     entering the bridge through bhprobe1. br_netfilter runs the inet hooks in
 *     between, so a frame counted here has been through table inet if it
 *     ever will: these counters say when the inet ones are the answer.
 * One IPv4/UDP and one IPv6/UDP frame (valid headers and checksums:
 * br_netfilter checks IPv4's) to a unicast MAC nobody has, so the bridge
 * floods them to bhprobe2, are sent on bhprobe1o with an AF_PACKET socket,
 * again every few milliseconds until both entered the bridge (ports come
 * up asynchronously). The child answers through a pipe and exits; the
 * namespace, and all of it, goes with it. The parent waits a bounded time
 * and kills a child that does not answer. Only netlink (rtnetlink,
 * nftables) and /proc/sys are used: no program is run.
 */
#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_bridge.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <linux/udp.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "brnf_probe.h"
#include "nft_msg.h"
#include "nl.h"

#define PROBE_TABLE	"bulkhead_probe"	/* the scratch namespace's only tables */
#define PROBE_BRIDGE	"bhprobe0"
#define PROBE_PORT	"bhprobe1"		/* in the bridge; the frames enter here */
#define PROBE_SEND	"bhprobe1o"		/* its peer: the frames are sent on it */
#define PROBE_PORT2	"bhprobe2"		/* in the bridge; they are flooded here */
#define PROBE_PORT2_PEER "bhprobe2o"
#define PROBE_UDP	9			/* discard: the frames' UDP port */
#define PROBE_PRIO_INET	(-150)			/* table inet bulkhead's prerouting */
#define PROBE_PRIO_BR	100			/* after br_netfilter's hook (0) */

#define PROBE_SEND_MS		2000	/* frames sent until both entered the bridge */
#define PROBE_RESEND_MS		5

#define BRNF_SYSCTL	"/proc/sys/net/bridge/bridge-nf-call-"

/* the frames' addresses: locally administered MACs, documentation prefixes */
static const __u8 mac_src[ETH_ALEN] = { 0x02, 0x62, 0x68, 0x70, 0x00, 0x01 };
static const __u8 mac_dst[ETH_ALEN] = { 0x02, 0x62, 0x68, 0x70, 0x00, 0x02 };
static const __u8 ip4_src[4] = { 192, 0, 2, 1 }, ip4_dst[4] = { 192, 0, 2, 2 };
static const __u8 ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const __u8 ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const char payload[8] = "bh-probe";

/* The child's answer. */
struct probe_msg {
	int ret;
	struct bh_brnf_probe r;
	char err[256];
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* ---- the frames ------------------------------------------------------------ */

/* the one's complement sum of @len bytes, added to @sum */
static __u32 csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

static __be16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

/* UDP to PROBE_UDP with its checksum over @pseudo (the IP pseudo-header) */
static size_t put_udp(struct udphdr *udp, const void *pseudo, size_t plen)
{
	__u16 len = sizeof(*udp) + sizeof(payload);

	udp->source = htons(40000 + PROBE_UDP);
	udp->dest = htons(PROBE_UDP);
	udp->len = htons(len);
	udp->check = 0;
	memcpy(udp + 1, payload, sizeof(payload));
	udp->check = csum_fold(csum_add(csum_add(0, pseudo, plen), udp, len));
	if (!udp->check)
		udp->check = 0xffff;
	return len;
}

/*
 * The probe's frame of @family in @buf: an Ethernet header at @buf + 2, so
 * that the IP header is 4-byte aligned. Its length; it starts at @buf + 2.
 */
static size_t probe_frame(int family, __u8 *buf)
{
	struct ethhdr *eth = (struct ethhdr *)(buf + 2);
	size_t len = sizeof(*eth);

	memcpy(eth->h_dest, mac_dst, ETH_ALEN);
	memcpy(eth->h_source, mac_src, ETH_ALEN);
	if (family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)(eth + 1);
		struct { __u8 src[4], dst[4], zero, proto; __be16 len; } ph = {
			.proto = IPPROTO_UDP,
			.len = htons(sizeof(struct udphdr) + sizeof(payload)),
		};

		eth->h_proto = htons(ETH_P_IP);
		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = sizeof(*ip) / 4;
		ip->tot_len = htons(sizeof(*ip) + sizeof(struct udphdr) + sizeof(payload));
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		memcpy(&ip->saddr, ip4_src, 4);
		memcpy(&ip->daddr, ip4_dst, 4);
		ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
		memcpy(ph.src, ip4_src, 4);
		memcpy(ph.dst, ip4_dst, 4);
		len += sizeof(*ip) + put_udp((struct udphdr *)(ip + 1), &ph, sizeof(ph));
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(eth + 1);
		struct { __u8 src[16], dst[16]; __be32 len; __u8 zero[3], next; } ph = {
			.len = htonl(sizeof(struct udphdr) + sizeof(payload)),
			.next = IPPROTO_UDP,
		};

		eth->h_proto = htons(ETH_P_IPV6);
		memset(ip6, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->payload_len = htons(sizeof(struct udphdr) + sizeof(payload));
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, ip6_src, 16);
		memcpy(&ip6->daddr, ip6_dst, 16);
		memcpy(ph.src, ip6_src, 16);
		memcpy(ph.dst, ip6_dst, 16);
		len += sizeof(*ip6) + put_udp((struct udphdr *)(ip6 + 1), &ph, sizeof(ph));
	}
	return len;
}

static int send_frame(int fd, int ifindex, int family)
{
	__u8 buf[128] __attribute__((aligned(8))) = {};
	size_t len = probe_frame(family, buf);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_protocol = htons(family == AF_INET ? ETH_P_IP : ETH_P_IPV6),
		.sll_halen = ETH_ALEN,
	};

	memcpy(sll.sll_addr, mac_dst, ETH_ALEN);
	if (sendto(fd, buf + 2, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return errno == ENOBUFS || errno == EAGAIN ? 0 : -errno;	/* sent again */
	return 0;
}

/* ---- the scratch namespace's links ---------------------------------------------- */

/* RTM_NEWLINK setting @name up, creating it with NLM_F_CREATE in @flags */
static struct nlmsghdr *link_msg(char *buf, const char *name, __u16 flags)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);	/* attribute padding is sent too */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

static int link_up(const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return bh_nl_request(NETLINK_ROUTE, link_msg(buf, name, 0));
}

static int add_bridge(const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, name, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info;

	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	return bh_nl_request(NETLINK_ROUTE, nlh);
}

/*
 * A veth pair, @port up in bridge @master and @peer outside it, then
 * @peer up (not at its creation: a veth cannot open before its peer is
 * registered).
 */
static int add_port(const char *port, const char *peer, const char *master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, port, NLM_F_CREATE | NLM_F_EXCL);
	unsigned int m = if_nametoindex(master);
	int ret;

	if (!m)
		return -errno;
	mnl_attr_put_u32(nlh, IFLA_MASTER, m);
	bh_nl_put_veth(nlh, peer);
	ret = bh_nl_request(NETLINK_ROUTE, nlh);
	return ret ? ret : link_up(peer);
}

/*
 * The namespace's bridge-nf-call-iptables and -ip6tables to 0 (br_netfilter
 * registers them per namespace, 1 in a new one): true when both are 0.
 */
static bool sysctls_off(void)
{
	static const char *const names[] = { BRNF_SYSCTL "iptables", BRNF_SYSCTL "ip6tables" };
	bool off = true;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int fd = open(names[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0\n", 2) != 2)
			off = false;
		if (fd >= 0)
			close(fd);
	}
	return off;
}

/* ---- the scratch namespace's tables ------------------------------------------------ */

/* iifname @iif [inet: meta nfproto | bridge: meta protocol] @family udp dport
 * PROBE_UDP counter (an anonymous one: nft_objref, a module before Linux
 * 6.4, would have to be loaded first, seconds under an emulator) */
static void count_rule(struct nft_tbl *t, const char *iif, int family)
{
	struct nftnl_rule *r = nft_rule(t, "prerouting");
	__be16 dport = htons(PROBE_UDP);
	char name[IFNAMSIZ] = "";

	snprintf(name, sizeof(name), "%s", iif);
	expr_meta(r, NFT_META_IIFNAME, NFT_REG_1);
	expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, name, sizeof(name));
	if (t->family == NFPROTO_INET) {
		expr_meta(r, NFT_META_NFPROTO, NFT_REG_1);
		expr_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ,
			    family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
	} else {
		__be16 proto = htons(family == AF_INET ? ETH_P_IP : ETH_P_IPV6);

		expr_meta(r, NFT_META_PROTOCOL, NFT_REG_1);
		expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &proto, sizeof(proto));
	}
	expr_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	expr_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ, IPPROTO_UDP);
	expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, offsetof(struct udphdr, dest),
		     sizeof(dport), NFT_REG_1);
	expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &dport, sizeof(dport));
	nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
	nft_rule_commit(t, r);
}

/* tables inet and bridge bulkhead_probe, each with an IPv4 rule and an
 * IPv6 rule, in that order */
static int fill_tables(struct nft_batch *bt, void *arg)
{
	static const struct {
		int family, hook, prio;
		const char *iif;	/* inet: the bridge, as br_netfilter gives it */
	} tables[] = {
		{ NFPROTO_INET, NF_INET_PRE_ROUTING, PROBE_PRIO_INET, PROBE_BRIDGE },
		{ NFPROTO_BRIDGE, NF_BR_PRE_ROUTING, PROBE_PRIO_BR, PROBE_PORT },
	};
	struct nft_tbl *t = malloc(sizeof(*t));	/* too big for the stack */

	(void)arg;
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		memset(t, 0, sizeof(*t));
		t->bt = bt;
		t->name = PROBE_TABLE;
		t->family = tables[i].family;
		nft_named_table_msg(bt, t->family, PROBE_TABLE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		nft_chain(t, "prerouting", tables[i].hook, tables[i].prio);
		count_rule(t, tables[i].iif, AF_INET);
		count_rule(t, tables[i].iif, AF_INET6);
	}
	free(t);
	return 0;
}

/* The packets the rules of a probe table counted: [0] IPv4, [1] IPv6. */
struct rule_counts {
	__u64 pkts[2];
	unsigned int n;		/* rules seen, in their order */
};

static int counter_cb(struct nftnl_expr *e, void *data)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name && !strcmp(name, "counter"))
		*(__u64 *)data = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct rule_counts *rc = data;
	const char *table;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) >= 0 && rc->n < 2 &&
	    (table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) && !strcmp(table, PROBE_TABLE))
		nftnl_expr_foreach(r, counter_cb, &rc->pkts[rc->n++]);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* what the IPv4 and the IPv6 rule of table @family bulkhead_probe counted */
static int read_counters(struct mnl_socket *nl, int family, __u64 pkts[2])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct rule_counts rc = {};
	struct nlmsghdr *nlh;
	int ret;

	if (!r)
		return -ENOMEM;
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (__u16)family, NLM_F_DUMP | NLM_F_ACK,
				    (__u32)now_ms());
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PROBE_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "prerouting");
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = bh_mnl_dump(nl, nlh, rule_cb, &rc);
	if (!ret && rc.n != 2)
		ret = -ENOENT;	/* not the table it wrote */
	pkts[0] = rc.pkts[0];
	pkts[1] = rc.pkts[1];
	return ret;
}

/* ---- the child ----------------------------------------------------------------------- */

static int step_err(struct probe_msg *m, int ret, const char *what)
{
	snprintf(m->err, sizeof(m->err), "%s: %s", what, strerror(-ret));
	return ret;
}

/* the frames, sent until both entered the bridge; what table inet saw in m->r */
static int send_and_count(struct probe_msg *m)
{
	struct bh_brnf_probe *r = &m->r;
	__u64 deadline = now_ms() + PROBE_SEND_MS, br[2], in[2];
	int ifindex = (int)if_nametoindex(PROBE_SEND), fd, ret;
	struct mnl_socket *nl;

	if (!ifindex)
		return step_err(m, -errno, "the veth " PROBE_SEND);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);	/* protocol 0: sends only */
	if (fd < 0)
		return step_err(m, -errno, "a packet socket");
	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl) {
		ret = step_err(m, -errno, "an nftables socket");
		goto out_fd;
	}
	for (;;) {
		ret = r->bridged4 ? 0 : send_frame(fd, ifindex, AF_INET);
		if (!ret && !r->bridged6)
			ret = send_frame(fd, ifindex, AF_INET6);
		if (ret) {
			step_err(m, ret, "sending a frame on " PROBE_SEND);
			break;
		}
		/* table bridge first: what it counted has been through table inet */
		ret = read_counters(nl, NFPROTO_BRIDGE, br);
		if (!ret)
			ret = read_counters(nl, NFPROTO_INET, in);
		if (ret) {
			step_err(m, ret, "reading the probe's counters");
			break;
		}
		r->bridged4 = br[0];
		r->bridged6 = br[1];
		r->v4 = in[0];
		r->v6 = in[1];
		if (r->bridged4 && r->bridged6)
			break;
		if (now_ms() > deadline) {
			snprintf(m->err, sizeof(m->err),
				 "the %s frame sent on %s did not come through bridge %s's prerouting hook in %d ms",
				 r->bridged4 ? "IPv6" : r->bridged6 ? "IPv4" : "IPv4 and IPv6",
				 PROBE_SEND, PROBE_BRIDGE, PROBE_SEND_MS);
			ret = -ETIMEDOUT;
			break;
		}
		poll(NULL, 0, PROBE_RESEND_MS);
	}
	mnl_socket_close(nl);
out_fd:
	close(fd);
	return ret;
}

/*
 * A network namespace of its own: with CAP_SYS_ADMIN directly, else (as
 * bulkhead.service runs it) in a user namespace of its own too, which
 * gives it every capability over that network namespace and nothing else.
 */
static int scratch_netns(struct probe_msg *m)
{
	if (!unshare(CLONE_NEWNET))
		return 0;
	if (errno != EPERM)
		return step_err(m, -errno, "a network namespace (unshare)");
	if (!unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return 0;
	return step_err(m, -errno,
			"a network namespace (unshare, also with a user namespace of its own)");
}

static int child(bool nf_call, struct probe_msg *m)
{
	int ret;

	ret = scratch_netns(m);
	if (ret)
		return ret;
	ret = add_bridge(PROBE_BRIDGE);
	if (ret)
		return step_err(m, ret, "creating bridge " PROBE_BRIDGE);
	ret = bh_nl_bridge_nf_call(PROBE_BRIDGE, nf_call);
	if (ret)
		return step_err(m, ret, "setting nf_call_iptables on " PROBE_BRIDGE);
	ret = add_port(PROBE_PORT, PROBE_SEND, PROBE_BRIDGE);
	if (!ret)
		ret = add_port(PROBE_PORT2, PROBE_PORT2_PEER, PROBE_BRIDGE);
	if (ret)
		return step_err(m, ret, "creating a veth pair in " PROBE_BRIDGE);
	m->r.sysctls_off = sysctls_off();
	ret = nft_batch_send(64 * 1024, fill_tables, NULL);
	if (ret)
		return step_err(m, ret, "writing the tables " PROBE_TABLE);
	ret = send_and_count(m);
	if (ret)
		return ret;
	m->r.ran = true;
	return m->r.v4 && m->r.v6 ? 0 : -EOPNOTSUPP;
}

/* ---- the parent ----------------------------------------------------------------------- */

/* the child's answer from @fd, until @deadline: 0, -ETIMEDOUT or -EPIPE */
static int read_answer(int fd, struct probe_msg *m, __u64 deadline)
{
	size_t got = 0;

	while (got < sizeof(*m)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		__u64 now = now_ms();
		ssize_t n;
		int pr;

		if (now >= deadline)
			return -ETIMEDOUT;
		pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno != EINTR)
			return -errno;
		if (pr <= 0)
			continue;
		n = read(fd, (char *)m + got, sizeof(*m) - got);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (!n)
			return -EPIPE;	/* the child died without answering */
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

const char *bh_brnf_probe_families(const struct bh_brnf_probe *r)
{
	if (r->v4 && r->v6)
		return "ipv4 ipv6";
	return r->v4 ? "ipv4" : r->v6 ? "ipv6" : "none";
}

int bh_brnf_probe_run(bool nf_call, unsigned int timeout_ms, struct bh_brnf_probe *r,
		      char *err, size_t errlen)
{
	struct probe_msg m = {};
	__u64 start = now_ms();
	int fds[2], st, ret;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(fds, O_CLOEXEC)) {
		ret = step_err(&m, -errno, "a pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = step_err(&m, -errno, "a child process");
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	if (!pid) {
		close(fds[0]);
		m.ret = child(nf_call, &m);
		if (write(fds[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	ret = read_answer(fds[0], &m, start + timeout_ms);
	close(fds[0]);
	if (ret)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (ret == -ETIMEDOUT)
		snprintf(m.err, sizeof(m.err), "it did not answer in %u ms", timeout_ms);
	else if (ret)
		step_err(&m, ret, "its answer");
	else
		ret = m.ret;
	if (!ret || ret == -EOPNOTSUPP)
		*r = m.r;
out:
	r->ms = (unsigned int)(now_ms() - start);
	if (ret && !r->ran)
		snprintf(err, errlen,
			 "--mode nft needs bridged IP to reach table inet bulkhead, and the probe that checks it could not run (%s), so that is not known; use --mode tc, or let the probe run (it needs a network namespace of its own: CAP_SYS_ADMIN, or user and network namespaces allowed, as bulkhead.service allows them; AF_PACKET sockets; the bridge and veth drivers)",
			 m.err);
	else if (ret)
		snprintf(err, errlen,
			 "--mode nft needs bridged IP to reach table inet bulkhead, and here bridged %s: br_netfilter is loaded, but of the IPv4 and IPv6 frames a probe sent through a bridge with nf_call_iptables and nf_call_ip6tables set (in a scratch network namespace) table inet saw %s, so the policy would not be enforced on %s; use --mode tc (its BPF programs judge bridged frames themselves)",
			 !r->v4 && !r->v6 ? "IPv4 and IPv6 do not" : !r->v4 ? "IPv4 does not" : "IPv6 does not",
			 r->v4 ? "IPv4 only" : r->v6 ? "IPv6 only" : "neither",
			 !r->v4 && !r->v6 ? "bridged IP" : !r->v4 ? "bridged IPv4" : "bridged IPv6");
	return ret;
}

int bh_brnf_probe(struct bh_brnf_probe *r, char *err, size_t errlen)
{
	const char *off = getenv(BH_BRNF_TEST_OFF);
	bool test_off = off && *off && strcmp(off, "0");
	int ret;

	ret = bh_brnf_probe_run(!test_off, BH_BRNF_PROBE_TIMEOUT_MS, r, err, errlen);
	if (ret && test_off) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (%s is set: the probe left its bridge's nf_call options off)",
			 BH_BRNF_TEST_OFF);
	}
	return ret;
}
