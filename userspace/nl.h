/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl.h - what the controller reads from rtnetlink (libmnl): the ports to
 * protect and the gateway's own MACs, addresses and LAN prefixes; and the
 * netlink socket helpers nft, ctnl and nflog share.
 */
#ifndef BH_NL_H
#define BH_NL_H

#include <net/if.h>
#include "policy.h"

struct bh_port {
	int ifindex;
	char name[IF_NAMESIZE];
	char bridge[IF_NAMESIZE];	/* "" when listed directly */
	__u8 mac[6];
	bool up;			/* IFF_UP */
};

struct bh_gw_addr {
	struct bh_addr addr;
	__u8 plen;			/* prefix length of the address */
	int ifindex;
};

struct bh_topology {
	struct bh_port *ports;		/* device-facing ports, sorted by ifindex */
	size_t n_ports;
	__u8 (*macs)[6];		/* the gateway's own MACs: bridges, listed
					 * interfaces and their ports (the bridge
					 * delivers frames to port MACs locally) */
	size_t n_macs;
	struct bh_gw_addr *addrs;	/* addresses on the bridges / listed
					 * interfaces, IPv6 link-local included */
	size_t n_addrs;
};

/*
 * Resolve interface names in the current network namespace: a bridge
 * expands to its ports (links whose IFLA_MASTER is the bridge), any other
 * name is a port itself. 0, or -ENODEV with "interface NAME: not found" in
 * @err, or another -errno.
 */
int bh_nl_topology(char *const *names, size_t n, struct bh_topology *out,
		   char *err, size_t errlen);
void bh_topology_free(struct bh_topology *t);

/*
 * The addresses the current namespace's neighbour tables (ARP, ND) map to
 * @mac, in a new array (free it). 0 or -errno.
 */
int bh_nl_neigh_addrs(const __u8 mac[6], struct bh_addr **out, size_t *n);

/* A neighbour entry: an address's MAC (ARP, ND) or a MAC's bridge port (FDB). */
struct bh_neigh {
	int family;		/* AF_INET, AF_INET6 or AF_BRIDGE */
	int ifindex;		/* the device: the bridge (ARP, ND), the port (FDB) */
	int master;		/* FDB: the bridge (NDA_MASTER), 0 when not given */
	__u16 state;		/* NUD_* */
	__u8 flags;		/* NTF_* */
	__u8 mac[6];
	bool has_addr;		/* ARP, ND */
	struct bh_addr addr;
};

/*
 * Every usable entry (not failed, incomplete or noarp) of the current
 * namespace's neighbour tables (@family AF_UNSPEC) or bridge FDBs
 * (AF_BRIDGE), in a new array (free it). 0 or -errno.
 */
int bh_nl_neighbours(int family, struct bh_neigh **out, size_t *n);

/*
 * One RTM_NEWNEIGH or RTM_DELNEIGH message (a dump's part, or an event of
 * RTMGRP_NEIGH) into @e: 0, or -EINVAL when it is another message or has
 * no MAC.
 */
struct nlmsghdr;
int bh_nl_neigh_parse(const struct nlmsghdr *nlh, struct bh_neigh *e);

/* A netlink socket of @bus, bound (auto port id); NULL with errno set. */
struct mnl_socket *bh_mnl_open(int bus);

/*
 * Read what the non-blocking socket @nl holds, at most @max datagrams, each
 * into @buf (@len bytes): @datagram(@arg) (when given) before a datagram's
 * messages, @msg(nlh, bytes left, @arg) for each. A datagram lost because
 * the socket overflowed (ENOBUFS) counts in *@lost. Returns the sum of
 * @msg's returns, or -errno (nothing more to read is not an error).
 */
typedef int (*bh_nl_msg_fn)(const struct nlmsghdr *nlh, size_t left, void *arg);
struct mnl_socket;
int bh_nl_recv_each(struct mnl_socket *nl, void *buf, size_t len, int max,
		    bh_nl_msg_fn msg, void (*datagram)(void *arg), void *arg, __u64 *lost);

/* A netfilter netlink request in @buf (zeroed first): header and nfgenmsg
 * (AF_UNSPEC, res_id @res_id); attributes go after it. */
struct nlmsghdr;
struct nlmsghdr *bh_nfnl_hdr(char *buf, size_t len, __u16 type, __u16 flags, __u32 seq,
			     __u16 res_id);

/*
 * Send the dump request @nlh on @nl and run @cb over the answer, until its
 * end. A missing object (ENOENT: no such table or set) is an empty answer.
 * 0 or -errno.
 */
typedef int (*bh_mnl_cb_t)(const struct nlmsghdr *nlh, void *data);
int bh_mnl_dump(struct mnl_socket *nl, struct nlmsghdr *nlh, bh_mnl_cb_t cb, void *data);

/*
 * Send the request @nlh on a new socket of @bus (in the current network
 * namespace; NLM_F_REQUEST, NLM_F_ACK and its sequence number are set
 * here) and read the answer to its end. 0 or the kernel's -errno.
 */
int bh_nl_request(int bus, struct nlmsghdr *nlh);

/*
 * Into the RTM_NEWLINK request @nlh creating a link: its IFLA_LINKINFO, a
 * veth whose peer is named @peer.
 */
void bh_nl_put_veth(struct nlmsghdr *nlh, const char *peer);

/* Set (or clear) a bridge's nf_call_iptables and nf_call_ip6tables. 0 or -errno. */
int bh_nl_bridge_nf_call(const char *bridge, bool on);

#endif /* BH_NL_H */
