/* SPDX-License-Identifier: GPL-2.0 */
/*
 * paths.h - what the verdict benchmarks measure: the devices and small
 * policy of the path frames, one frame per verdict path, and the timing
 * of one frame through a program with BPF_PROG_TEST_RUN. Shared by
 * bench_verdict (cost per path) and bench_scale (the same paths as the
 * policy and the device count grow).
 */
#ifndef BH_BENCH_PATHS_H
#define BH_BENCH_PATHS_H

#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixture.h"
#include "frames.h"

#define CAM	"02:00:00:00:00:11"
#define NVR	"02:00:00:00:00:21"
#define FRIDGE	"02:00:00:00:00:31"
#define LAPTOP	"02:00:00:00:00:41"
#define GWMAC	"02:00:00:00:00:01"

/* the groups and rules every path frame is judged by (bench/genpolicy.py
 * writes the same ones at the head of its scaled policies) */
static const char bench_policy[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"groups:\n"
	"  cameras: {internet: deny, members: [{mac: \"" CAM "\", ip: [192.168.50.11, \"fd00:50::11\"]}]}\n"
	"  nvr: {members: [{mac: \"" NVR "\", ip: [192.168.50.21, \"fd00:50::21\"]}]}\n"
	"  fridge: {members: [{mac: \"" FRIDGE "\", ip: [192.168.50.31]}]}\n"
	"  laptop: {members: [{mac: \"" LAPTOP "\", ip: [192.168.50.41]}]}\n"
	"rules:\n"
	"  - {from: nvr, to: cameras, proto: tcp, ports: [554, \"8000-8010\"]}\n"
	"  - {from: cameras, to: 203.0.113.0/24, proto: tcp, ports: [443]}\n"
	"  - {from: laptop, to: any, proto: icmp}\n";

struct path {
	const char *name;
	int pass;		/* expected verdict: which floor applies */
	void (*build)(struct frame *f);
};

static inline void p_allowed(struct frame *f)
{
	eth(f, CAM, NVR, 0x0800);
	ipv4(f, "192.168.50.21", "192.168.50.11", 6, 0, 1, 0);
	tcp(f, 40000, 554, 0x10);
	fin(f);
}

static inline void p_reply(struct frame *f)
{
	eth(f, NVR, CAM, 0x0800);
	ipv4(f, "192.168.50.11", "192.168.50.21", 6, 0, 1, 0);
	tcp(f, 554, 40000, 0x10);
	fin(f);
}

static inline void p_denied(struct frame *f)
{
	eth(f, CAM, FRIDGE, 0x0800);
	ipv4(f, "192.168.50.31", "192.168.50.11", 6, 0, 1, 0);
	tcp(f, 40000, 554, 0x02);
	fin(f);
}

static inline void p_quarantined(struct frame *f)
{
	eth(f, NVR, LAPTOP, 0x0800);
	ipv4(f, "192.168.50.41", "192.168.50.21", 1, 0, 1, 0);
	icmp(f, 8, 0, 9);
	fin(f);
}

static inline void p_inet_allowed(struct frame *f)
{
	eth(f, GWMAC, CAM, 0x0800);
	ipv4(f, "192.168.50.11", "203.0.113.9", 6, 0, 1, 0);
	tcp(f, 40000, 443, 0x10);
	fin(f);
}

static inline void p_inet_default(struct frame *f)
{
	eth(f, GWMAC, FRIDGE, 0x0800);
	ipv4(f, "192.168.50.31", "198.51.100.7", 6, 0, 1, 0);
	tcp(f, 40000, 443, 0x10);
	fin(f);
}

static inline void p_inet_denied(struct frame *f)
{
	eth(f, GWMAC, CAM, 0x0800);
	ipv4(f, "192.168.50.11", "198.51.100.7", 6, 0, 1, 0);
	tcp(f, 40000, 80, 0x02);
	fin(f);
}

static inline void p_arp(struct frame *f)
{
	eth(f, "ff:ff:ff:ff:ff:ff", NVR, 0x0806);
	arp(f, 1, NVR, "192.168.50.21", "00:00:00:00:00:00", "192.168.50.11");
	fin(f);
}

static inline void p_ipv6(struct frame *f)
{
	eth(f, CAM, NVR, 0x86dd);
	ipv6(f, "fd00:50::21", "fd00:50::11", 6);
	tcp(f, 40000, 554, 0x10);
	fin(f);
}

static inline void p_ipv6_ext(struct frame *f)
{
	eth(f, CAM, NVR, 0x86dd);
	ipv6(f, "fd00:50::21", "fd00:50::11", 0);
	ext8(f, 60, 0);
	ext8(f, 6, 0);
	tcp(f, 40000, 554, 0x10);
	fin(f);
}

/* egress: frames leaving a device port. One the bridge forwards from
 * another device (the program's early exit), and the gateway's own frame
 * of a flow it opened (the conntrack refresh) */
static inline void p_eg_bridged(struct frame *f)
{
	p_allowed(f);
}

static inline void p_eg_gateway(struct frame *f)
{
	eth(f, CAM, GWMAC, 0x0800);
	ipv4(f, "192.168.50.1", "192.168.50.11", 6, 0, 1, 0);
	tcp(f, 40001, 80, 0x10);
	fin(f);
}

static const struct path paths[] = {
	{ "allowed, established (tcp/554 rule)", 1, p_allowed },
	{ "reply (conntrack)", 1, p_reply },
	{ "denied east-west (default)", 0, p_denied },
	{ "quarantined source (ICMP echo)", 0, p_quarantined },
	{ "internet allowed (CIDR rule)", 1, p_inet_allowed },
	{ "internet allowed (default)", 1, p_inet_default },
	{ "internet denied (group default)", 0, p_inet_denied },
	{ "ARP between groups that talk", 1, p_arp },
	{ "IPv6 allowed", 1, p_ipv6 },
	{ "IPv6, 2 extension headers", 1, p_ipv6_ext },
};

static const struct path eg_paths[] = {
	{ "egress: a frame bridged from another device", 1, p_eg_bridged },
	{ "egress: the gateway's own frame, tracked flow", 1, p_eg_gateway },
};
#define N_EG_PATHS	(sizeof(eg_paths) / sizeof(eg_paths[0]))

static inline int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* One BPF_PROG_TEST_RUN of @repeat runs: the kernel's mean ns per run. */
static inline int run_once(int prog_fd, struct frame *f, __u32 repeat, __u32 *ns, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = (__u32)f->len, .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	*ns = o.duration;
	*retval = o.retval;
	return 0;
}

/* Median over @runs of the kernel's mean ns per run; -1 on error. */
static inline double measure(int prog_fd, struct frame *f, __u32 repeat, int runs, __u32 *retval)
{
	__u32 d[16];

	*retval = 0;
	for (int i = 0; i < runs; i++)
		if (run_once(prog_fd, f, repeat, &d[i], retval))
			return -1;
	qsort(d, (size_t)runs, sizeof(d[0]), cmp_u32);
	return d[runs / 2];
}

/* A program's and its floor's ns per run: median and best of the runs */
struct pair_ns {
	double ns, floor;		/* medians */
	double ns_best, floor_best;	/* fastest runs: noise only adds time */
};

/*
 * @prog and its @floor in turn, @runs times each, so that both meet the
 * same moments of a noisy machine (@retval: @prog's).
 */
static inline int measure_pair(int prog, int floor, struct frame *f, __u32 repeat, int runs,
			       __u32 *retval, struct pair_ns *r)
{
	__u32 d[16], e[16], rv;

	*retval = 0;
	for (int i = 0; i < runs; i++)
		if (run_once(prog, f, repeat, &d[i], retval) ||
		    run_once(floor, f, repeat, &e[i], &rv))
			return -1;
	qsort(d, (size_t)runs, sizeof(d[0]), cmp_u32);
	qsort(e, (size_t)runs, sizeof(e[0]), cmp_u32);
	r->ns = d[runs / 2];
	r->floor = e[runs / 2];
	r->ns_best = d[0];
	r->floor_best = e[0];
	return 0;
}

static inline double ratio_of(double a, double b)
{
	return b > 0 ? a / b : 0;
}

#define N_PATHS	(sizeof(paths) / sizeof(paths[0]))

/*
 * What every path needs besides the policy: the laptop quarantined, and
 * the flow the reply path answers opened by a SYN through XDP, and the
 * gateway's flow of the egress row opened by its SYN through egress.
 */
static inline int bench_prepare(struct bulkhead_bpf *skel, struct bh_maps *maps)
{
	struct frame f;
	__u8 lap[6];
	__u32 rv;

	mac_of(LAPTOP, lap);
	if (bh_dp_isolate(maps, lap, 1, 0, BH_QLVL_FULL))
		return -EIO;
	p_allowed(&f);
	f.b[14 + 20 + 13] = 0x02;	/* as a SYN: creates the flow */
	if (measure(bpf_program__fd(skel->progs.bulkhead_xdp), &f, 1, 1, &rv) < 0)
		return -errno;
	p_eg_gateway(&f);
	f.b[14 + 20 + 13] = 0x02;	/* the gateway's SYN: its flow tracked */
	if (measure(bpf_program__fd(skel->progs.bulkhead_tc_eg), &f, 1, 1, &rv) < 0)
		return -errno;
	return 0;
}

#endif /* BH_BENCH_PATHS_H */
