/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verdict.h - what the areas of test_verdict share: the network of the
 * hand-written policy, the loaded objects and their map fds (fixture.c),
 * running a frame and checking its verdict and counters, the table's row
 * type, and the frames the table rows send (frames.c).
 *
 * test_verdict is one program; each area of the verdict has its own file
 * (parse.c, rules.c, ct.c, ipv6.c, quarantine.c, claims.c, flood.c,
 * events.c, vcache.c) exporting a struct verdict_area: its table rows and
 * its other tests. main.c runs them all as one cmocka group.
 */
#ifndef BH_TEST_VERDICT_H
#define BH_TEST_VERDICT_H

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "bulkhead_abi.h"
#include "bulkhead.skel.h"
#include "fixture.h"
#include "frames.h"

/* ---- the network ------------------------------------------------------------ */

#define GWMAC	"02:00:00:00:00:01"
#define CAM	"02:00:00:00:00:11"
#define NVR	"02:00:00:00:00:21"
#define FRIDGE	"02:00:00:00:00:31"
#define LAPTOP	"02:00:00:00:00:41"
#define STRANGER "02:00:00:00:00:99"	/* a MAC in no group: the unknown group */
#define BCAST	"ff:ff:ff:ff:ff:ff"
#define ZMAC	"00:00:00:00:00:00"

#define GW4	"192.168.50.1"
#define CAM4	"192.168.50.11"
#define NVR4	"192.168.50.21"
#define FRIDGE4	"192.168.50.31"
#define LAPTOP4	"192.168.50.41"
#define GW6	"fd00:50::1"
#define CAM6	"fd00:50::11"
#define NVR6	"fd00:50::21"
#define LAPTOP6	"fd00:50::41"

enum { G_CAMERAS, G_NVR, G_FRIDGE, G_LAPTOP, G_UNKNOWN, N_GROUPS };

/* rule ids of the hand-written policy (index into bh_rulestats) */
enum {
	RULE_NVR_CAM_RTSP,	/* 0: nvr -> cameras tcp/554 allow */
	RULE_LAPTOP_NVR_TCP,	/* 1: laptop -> nvr tcp allow */
	RULE_LAPTOP_CAM_TELNET,	/* 2: laptop -> cameras tcp/23 deny */
	RULE_LAPTOP_CAM_ANY,	/* 3: laptop -> cameras any allow */
	RULE_CAM_CLOUD,		/* 4: cameras -> 203.0.113.0/24 tcp/443 allow */
	RULE_DNS,		/* 5: any -> gateway udp+tcp/53 allow */
	RULE_DHCP,		/* 6: any -> gateway udp/67 allow */
	RULE_LAPTOP_MDNS,	/* 7: laptop -> multicast udp/5353 allow */
};

/* gen 1's own rule ids (the generation flip test) */
#define RULE1_FRIDGE_CAM_RTSP	0

struct verdict_fds {
	int active, config, groups, devices, ips, policy, inet, talk;
	int gw_mac, gw_ip, lan, quarantine, ct, frag, stats, rulestats, devstats, devctr;
	int events, evlimit, evcpu, vepoch, vcache, clock, evslot, port, macport, claim;
	int pin, pinned;
};
extern struct verdict_fds fd;

enum ep { EP_XDP, EP_TC, EP_N };

#define CHECK_FAIL(fmt, ...) fail_msg(fmt, __VA_ARGS__)

typedef void (*builder)(struct frame *f);

struct step {
	builder build;
	int pass;
	__u32 reason;
};

struct row {
	const char *name;
	builder build;
	int pass;		/* 1 pass, 0 drop */
	__u32 reason;		/* enum bh_reason */
	int rule;		/* RULE(n): the deciding rule's counter must rise; 0: unchecked */
	void (*pre)(void);	/* before the row (quarantine, config changes) */
	void (*post)(void);	/* after it, also when it failed; with mid, also
				 * before each program's run, to undo mid */
	struct step prelude[3];	/* frames sent first, through the same program */
	void (*mid)(void);	/* between the prelude and the frame */
};
#define RULE(n)	((n) + 1)

#define FIN	0x01
#define SYN	0x02
#define RST	0x04
#define ACK	0x10
#define SYNACK	(SYN | ACK)

static inline void tcp4(struct frame *f, const char *dmac, const char *smac, const char *src,
		 const char *dst, uint16_t sp, uint16_t dp, uint8_t flags)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_TCP, 0, 1, 0);
	tcp(f, sp, dp, flags);
	fin(f);
}

static inline void udp4(struct frame *f, const char *dmac, const char *smac, const char *src,
		 const char *dst, uint16_t sp, uint16_t dp)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_UDP, 0, 1, 0);
	udp(f, sp, dp);
	payload(f, 16);
	fin(f);
}

static inline void icmp4(struct frame *f, const char *dmac, const char *smac, const char *src,
		  const char *dst, uint8_t type, uint16_t id)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_ICMP, 0, 1, 0);
	icmp(f, type, 0, id);
	payload(f, 32);
	fin(f);
}

static inline void tcp6(struct frame *f, const char *dmac, const char *smac, const char *src,
		 const char *dst, uint16_t sp, uint16_t dp, uint8_t flags)
{
	eth(f, dmac, smac, 0x86dd);
	ipv6(f, src, dst, IPPROTO_TCP);
	tcp(f, sp, dp, flags);
	fin(f);
}

static inline void arp4(struct frame *f, const char *dmac, const char *smac, uint16_t op,
		 const char *sha, const char *spa, const char *tha, const char *tpa)
{
	eth(f, dmac, smac, 0x0806);
	arp(f, op, sha, spa, tha, tpa);
	fin(f);
}

/* an ICMP error from @smac/@src to @dst quoting a UDP datagram @qsrc:@qsp -> @qdst:@qdp */
static inline void icmp4_err(struct frame *f, const char *dmac, const char *smac, const char *src,
		      const char *dst, uint8_t type, uint8_t code, const char *qsrc,
		      const char *qdst, uint8_t qproto, uint16_t qsp, uint16_t qdp)
{
	eth(f, dmac, smac, 0x0800);
	ipv4(f, src, dst, IPPROTO_ICMP, 0, 2, 0);
	icmp(f, type, code, 0);
	ipv4_quoted(f, qsrc, qdst, qproto, 20 + 8 + 16);
	put16(f, qsp);
	put16(f, qdp);
	put16(f, 8 + 16);
	put16(f, 0);
	fin(f);
}

/* one-step preludes */
#define OPEN(b, r)	{ { b, 1, r } }
#define OPEN_DROP(b, r)	{ { b, 0, r } }

#define P 1
#define D 0

/* fixture.c */
extern struct bulkhead_bpf *skel;
extern int ncpu;
void addr16(const char *s, __u8 out[16]);
struct bh_mac_key mac_key(const char *s);
void invalidate(void);
void upd(int map, const void *k, const void *v);
void put_group(__u32 gen, __u16 g, __u8 internet);
void put_device(__u32 gen, const char *mac, __u16 group, __u16 flags, __u32 id);
void put_ip(__u32 gen, const char *addr, const char *mac, __u16 group);
void put_pol(__u32 gen, __u16 sg, __u16 dg, __u8 proto, __u16 port, __u8 action,
		    __u32 rule);
void put_talk(__u32 gen, __u16 a, __u16 b);
void put_config(__u32 gen, __u32 flags, __u32 epoch);
void set_active(__u32 gen, __u32 epoch);
void put_members(__u32 gen);
void write_policy_a(void);
void write_policy_b(void);
void write_gateway(void);
void clear_map_raw(int map);
void clear_map(int map, size_t key_size);
void clear_state(void);
void quarantine(const char *mac);
void release(const char *mac);
struct bh_counter percpu_counter(int map, __u32 key);
__u64 reason_count(__u32 reason);
__u64 rule_count(__u32 gen, __u32 rule);
void add_devstats(int map, const void *key, struct bh_dev_stats *sum);
__u32 dev_slot(int devices, const struct bh_mac_key *k);
struct bh_dev_stats slot_devstats(int devices, int devctr, const struct bh_mac_key *k);
struct bh_dev_stats sum_devstats(int devices, int devctr, int devstats,
					const struct bh_mac_key *k);
int ev_bucket(int devices, int evslot, int evlimit, const struct bh_mac_key *k,
		     struct bh_evlimit *b);
void clear_evslots(int evslot);
struct bh_dev_stats dev_stats(const char *mac);
struct bh_dev_stats lru_stats(const char *mac);
extern const char *const reason_name[BH_R_MAX];
extern const char *const ep_name[EP_N];
struct bpf_program *ep_prog(enum ep ep);
int run_prog(struct bpf_program *prog, bool tc, const struct frame *f);
int run_ep(enum ep ep, const struct frame *f);
void check_run(enum ep ep, const struct frame *f, int pass, __u32 reason,
		      int rule, const char *what);
extern struct frame F;
void run_row(const struct row *r);
int row_setup(void **state);
int row_teardown(void **state);
void row_test(void **state);
void set_cfg_flags(__u32 set, __u32 clear);
void ew_allow(void);
void ew_deny(void);
void gw_allow(void);
void gw_deny(void);
void laptop_group_invalid(void);
void laptop_group_valid(void);
void q_laptop(void);
void unq_laptop(void);
void q_nvr(void);
void unq_nvr(void);
void age_state(void);
void q_cam(void);
void unq_cam(void);
void q_release_cam(void);
void invalidate_policy(void);
void restore_policy(void);
int group_setup(void **state);
#define MAX_EVS	4096
extern struct bh_event evs[MAX_EVS];	/* what ev_drain_fd() read */
extern size_t n_evs;
size_t ev_drain_fd(int map);
int group_teardown(void **state);

/* frames.c: the frames of the table */
void f_nvr_cam_syn(struct frame *f);
void f_cam_nvr_synack(struct frame *f);
void f_cam_nvr_ack(struct frame *f);
void f_cam_nvr_syn_same_tuple(struct frame *f);
void f_cam_nvr_syn(struct frame *f);
void f_cam_nvr_ack_untracked(struct frame *f);
void f_nvr_cam_syn_80(struct frame *f);
void f_fridge_cam_syn(struct frame *f);
void f_laptop_nvr_ssh(struct frame *f);
void f_laptop_nvr_udp(struct frame *f);
void f_laptop_cam_echo(struct frame *f);
void f_cam_laptop_echoreply(struct frame *f);
void f_cam_laptop_echoreply_other(struct frame *f);
void f_cam_laptop_echo(struct frame *f);
void f_laptop_cam_udp(struct frame *f);
void f_cam_laptop_udp_reply(struct frame *f);
void f_cam_laptop_udp_otherport(struct frame *f);
void f_cam_laptop_port_unreach(struct frame *f);
void f_cam_laptop_port_unreach_untracked(struct frame *f);
void f_cam_laptop_port_unreach_forged(struct frame *f);
void f_fridge_laptop_port_unreach(struct frame *f);
void f_fridge_laptop_frag_needed(struct frame *f);
void f_cam_laptop_unreach_ihl6(struct frame *f);
void f_cam_laptop_rst(struct frame *f);
void f_cam_laptop_fin(struct frame *f);
void f_laptop_cam_echo6(struct frame *f);
void f_cam_laptop_echoreply6(struct frame *f);
void f_laptop_cam_udp6(struct frame *f);
void f_cam_laptop_unreach6(struct frame *f);
void f_laptop_gw_dns(struct frame *f);
void f_laptop_stranger(struct frame *f);
void f_stranger_as_nvr(struct frame *f);
void f_laptop_arp_unlisted(struct frame *f);
void f_fridge_arp_unlisted(struct frame *f);
void f_laptop_ns_unlisted(struct frame *f);
void f_fridge_ns_unlisted(struct frame *f);
void f_cam_synack_to_fridge(struct frame *f);
void f_nvr_arp_unicast_qcam(struct frame *f);
void f_laptop_mdns6(struct frame *f);
void f_fridge_mdns6(struct frame *f);
void f_laptop_cam_gre(struct frame *f);
void f_nvr_cam_gre(struct frame *f);
void f_udp_len4_padded(struct frame *f);
void f_tcp_totlen_short_padded(struct frame *f);
void f6_plen_short_tcp(struct frame *f);
void f6_plen_short_ext(struct frame *f);
void f6_plen_zero(struct frame *f);
void f6_ns_plen_short(struct frame *f);
void f4_udp_padded_ok(struct frame *f);
void f_laptop_cam_telnet(struct frame *f);
void f_laptop_bcast_to_fridge(struct frame *f);
void f_laptop_mcast_to_fridge(struct frame *f);
void f_fridge_bcast_udp67_to_cam(struct frame *f);
void f_cam_bcast_udp67_to_nvr(struct frame *f);
void f_cam_laptop_echoreply_frag1(struct frame *f);
void f_cam_laptop_echoreply_frag2(struct frame *f);
void f_cam_laptop_udp_reply_frag1(struct frame *f);
void f_cam_laptop_udp_reply_frag2(struct frame *f);
void f6_frag_dst_first(struct frame *f);
void f6_frag_dst_later(struct frame *f);
void f_laptop_cam_http(struct frame *f);
void f_laptop_cam_telnet_ack(struct frame *f);
void f_cam_laptop_telnet_synack(struct frame *f);
void f_cam_cloud_443(struct frame *f);
void f_cam_gw_dns(struct frame *f);
void f_cam_gw_dns_tcp(struct frame *f);
void f_cam_gw_ntp(struct frame *f);
void f_cam_gw_ping(struct frame *f);
void f_cam_dhcp_discover(struct frame *f);
void f_nvr_cam_via_gw(struct frame *f);
void f_cam_arp_gw(struct frame *f);
void f_cam_arp_nvr(struct frame *f);
void f_nvr_arp_cam(struct frame *f);
void f_cam_inet_80(struct frame *f);
void f_cam_cloud_80(struct frame *f);
void f_cam_cloud_443_outside(struct frame *f);
void f_laptop_inet_80(struct frame *f);
void f_laptop_cloud_443(struct frame *f);
void f_laptop_lan_unlisted(struct frame *f);
void f_laptop_nvr_via_gw(struct frame *f);
void f_fridge_gw_dns(struct frame *f);
void f_fridge_gw_dns_tcp(struct frame *f);
void f_fridge_gw_ssh(struct frame *f);
void f_fridge_dhcp_discover(struct frame *f);
void f_fridge_dhcp_request_unicast(struct frame *f);
void f_stranger_inet(struct frame *f);
void f_stranger_cam(struct frame *f);
void f_stranger_gw_dns(struct frame *f);
void f_laptop_arp_gw(struct frame *f);
void f_laptop_arp_nvr(struct frame *f);
void f_nvr_arp_reply_laptop(struct frame *f);
void f_fridge_arp_cam(struct frame *f);
void f_fridge_arp_as_cam(struct frame *f);
void f_fridge_arp_as_gw(struct frame *f);
void f_fridge_arp_sha_nvr(struct frame *f);
void f_fridge_arp_garp(struct frame *f);
void f_cam_arp_from_99(struct frame *f);
void f_fridge_arp_probe_cam(struct frame *f);
void f_fridge_arp_reply_gw(struct frame *f);
void f_cam_arp_reply_gw(struct frame *f);
void f_fridge_arp_reply_cam(struct frame *f);
void f_arp_truncated(struct frame *f);
void f_arp_rarp_op(struct frame *f);
void f_fridge_as_cam(struct frame *f);
void f_cam_from_99(struct frame *f);
void f_fridge_from_gw_ip(struct frame *f);
void f_src_gw_mac(struct frame *f);
void f_src_group_mac(struct frame *f);
void f_nvr6_as_cam6(struct frame *f);
void f_nvr6_from_unbound(struct frame *f);
void f_nvr6_from_linklocal(struct frame *f);
void f_vid5(struct frame *f);
void f_prio_tag_pass(struct frame *f);
void f_prio_tag_drop(struct frame *f);
void f_prio_tag_ad(struct frame *f);
void f_qinq(struct frame *f);
void f_qinq_vid(struct frame *f);
void f_prio_arp_spoof(struct frame *f);
void f_trunc_tag(struct frame *f);
void f_trunc_ipv4(struct frame *f);
void f_trunc_ipv4_short_xdp(struct frame *f);
void f_trunc_tcp(struct frame *f);
void f_trunc_udp(struct frame *f);
void f_tcp_doff4(struct frame *f);
void f_ihl4(struct frame *f);
void f_ihl15(struct frame *f);
void f_ipv4_version6(struct frame *f);
void f_ipv4_totlen_short(struct frame *f);
void f_ipv4_options(struct frame *f);
void f_ipv4_options_drop(struct frame *f);
void f_ipv6_trunc(struct frame *f);
void f_ipv6_trunc_tcp(struct frame *f);
void f_icmp_trunc(struct frame *f);
void f6_nvr_cam_syn(struct frame *f);
void f6_cam_nvr_synack(struct frame *f);
void f6_nvr_cam_80(struct frame *f);
void f6_hbh_dst_pass(struct frame *f);
void f6_hbh_dst_drop(struct frame *f);
void f6_dst9(struct frame *f);
void f6_dst8(struct frame *f);
void f6_rh0(struct frame *f);
void f6_hdr_too_long(struct frame *f);
void f6_ext_trunc(struct frame *f);
void f6_frag_first(struct frame *f);
void f6_frag_later(struct frame *f);
void f6_frag_later_other_id(struct frame *f);
void f6_frag_first_denied(struct frame *f);
void f6_frag_later_of_denied(struct frame *f);
void f6_atomic_frag(struct frame *f);
void f4_frag_first(struct frame *f);
void f4_frag_later(struct frame *f);
void f4_frag_later_other_id(struct frame *f);
void f4_frag_later_fridge(struct frame *f);
void f4_frag_first_short_tcp(struct frame *f);
void f4_frag_first_short_tcp_padded(struct frame *f);
void f4_frag_tiny_overlap(struct frame *f);
void f4_frag_udp_first(struct frame *f);
void f4_frag_udp_later(struct frame *f);
void f4_frag_first_denied(struct frame *f);
void f4_frag_later_of_denied(struct frame *f);
void f4_frag_later_spoofed(struct frame *f);
void f_fridge_ns_gw(struct frame *f);
void f_nvr_ns_cam(struct frame *f);
void f_fridge_ns_cam(struct frame *f);
void f_fridge_ns_dad(struct frame *f);
void f_cam_na_nvr(struct frame *f);
void f_cam_na_gw(struct frame *f);
void f_fridge_na_as_cam(struct frame *f);
void f_fridge_na_as_gw(struct frame *f);
void f_cam_na_unbound(struct frame *f);
void f_ns_no_target(struct frame *f);
void f_fridge_ra(struct frame *f);
void f_fridge_redirect(struct frame *f);
void f_fridge_rs(struct frame *f);
void f_fridge_mld_query(struct frame *f);
void f_fridge_mld_report(struct frame *f);
void f_fridge_dhcp_offer(struct frame *f);
void f_fridge_dhcp6_server(struct frame *f);
void f_laptop_dhcp6_solicit(struct frame *f);
void f_fridge_mdns(struct frame *f);
void f_laptop_mdns(struct frame *f);
void f_laptop_ssdp(struct frame *f);
void f_laptop_bcast_udp(struct frame *f);
void f_lldp(struct frame *f);
void f_pppoe(struct frame *f);
void f_pppoe_disc(struct frame *f);
void f_8023(struct frame *f);
void f_eapol_gw(struct frame *f);
void f_eapol_pae(struct frame *f);
void f_eapol_dev(struct frame *f);
void f_ipx(struct frame *f);

/* a test's own frame builders: B(name, calls...) */
#define B(fn, ...) static void fn(struct frame *f) { __VA_ARGS__; }

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* one area: its table rows (run through XDP and tc) and its other tests */
struct verdict_area {
	const char *name;
	const struct row *rows;
	size_t n_rows;
	const struct CMUnitTest *tests;
	size_t n_tests;
};
#define VERDICT_AREA(id, r, nr, t, nt) \
	const struct verdict_area verdict_##id = { #id, r, nr, t, nt }

extern const struct verdict_area verdict_parse, verdict_rules, verdict_ct, verdict_ipv6,
	verdict_quarantine, verdict_claims, verdict_flood, verdict_events, verdict_detect,
	verdict_pin;
/* vcache.c: the verdict cache through the controller's writers, its own group */
int verdict_cache_tests(void);
int verdict_flow_tests(void);	/* flows.c: bh_flow and audit mode */

#endif /* BH_TEST_VERDICT_H */
