// SPDX-License-Identifier: GPL-2.0
/*
 * bench_verdict.c - the cost of one verdict, per path, through both entry
 * points, measured with BPF_PROG_TEST_RUN (the kernel times `repeat` runs
 * of the program on one frame and reports the mean), next to an empty
 * program returning the same action: the floor. Median of RUNS runs.
 *
 * Output: a Markdown table on stdout (bench/run.sh puts it into
 * docs/benchmarks.md). Figures are ratios measured in one run; the machine
 * is shared, so the absolute ns move from run to run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "empty.skel.h"
#include "fixture.h"
#include "frames.h"

#define CAM	"02:00:00:00:00:11"
#define NVR	"02:00:00:00:00:21"
#define FRIDGE	"02:00:00:00:00:31"
#define LAPTOP	"02:00:00:00:00:41"
#define GWMAC	"02:00:00:00:00:01"

static const char policy[] =
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

static void p_allowed(struct frame *f)
{
	eth(f, CAM, NVR, 0x0800);
	ipv4(f, "192.168.50.21", "192.168.50.11", 6, 0, 1, 0);
	tcp(f, 40000, 554, 0x10);
	fin(f);
}

static void p_reply(struct frame *f)
{
	eth(f, NVR, CAM, 0x0800);
	ipv4(f, "192.168.50.11", "192.168.50.21", 6, 0, 1, 0);
	tcp(f, 554, 40000, 0x10);
	fin(f);
}

static void p_denied(struct frame *f)
{
	eth(f, CAM, FRIDGE, 0x0800);
	ipv4(f, "192.168.50.31", "192.168.50.11", 6, 0, 1, 0);
	tcp(f, 40000, 554, 0x02);
	fin(f);
}

static void p_quarantined(struct frame *f)
{
	eth(f, NVR, LAPTOP, 0x0800);
	ipv4(f, "192.168.50.41", "192.168.50.21", 1, 0, 1, 0);
	icmp(f, 8, 0, 9);
	fin(f);
}

static void p_inet_allowed(struct frame *f)
{
	eth(f, GWMAC, CAM, 0x0800);
	ipv4(f, "192.168.50.11", "203.0.113.9", 6, 0, 1, 0);
	tcp(f, 40000, 443, 0x10);
	fin(f);
}

static void p_inet_default(struct frame *f)
{
	eth(f, GWMAC, FRIDGE, 0x0800);
	ipv4(f, "192.168.50.31", "198.51.100.7", 6, 0, 1, 0);
	tcp(f, 40000, 443, 0x10);
	fin(f);
}

static void p_inet_denied(struct frame *f)
{
	eth(f, GWMAC, CAM, 0x0800);
	ipv4(f, "192.168.50.11", "198.51.100.7", 6, 0, 1, 0);
	tcp(f, 40000, 80, 0x02);
	fin(f);
}

static void p_arp(struct frame *f)
{
	eth(f, "ff:ff:ff:ff:ff:ff", NVR, 0x0806);
	arp(f, 1, NVR, "192.168.50.21", "00:00:00:00:00:00", "192.168.50.11");
	fin(f);
}

static void p_ipv6(struct frame *f)
{
	eth(f, CAM, NVR, 0x86dd);
	ipv6(f, "fd00:50::21", "fd00:50::11", 6);
	tcp(f, 40000, 554, 0x10);
	fin(f);
}

static void p_ipv6_ext(struct frame *f)
{
	eth(f, CAM, NVR, 0x86dd);
	ipv6(f, "fd00:50::21", "fd00:50::11", 0);
	ext8(f, 60, 0);
	ext8(f, 6, 0);
	tcp(f, 40000, 554, 0x10);
	fin(f);
}

static const struct path paths[] = {
	{ "allowed, established (tcp/554 rule)", 1, p_allowed },
	{ "reply (conntrack)", 1, p_reply },
	{ "denied east-west (default)", 0, p_denied },
	{ "quarantined source", 0, p_quarantined },
	{ "internet allowed (CIDR rule)", 1, p_inet_allowed },
	{ "internet allowed (default)", 1, p_inet_default },
	{ "internet denied (group default)", 0, p_inet_denied },
	{ "ARP between groups that talk", 1, p_arp },
	{ "IPv6 allowed", 1, p_ipv6 },
	{ "IPv6, 2 extension headers", 1, p_ipv6_ext },
};

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median over @runs of the kernel's mean ns per run; -1 on error. */
static double measure(int prog_fd, struct frame *f, __u32 repeat, int runs, __u32 *retval)
{
	__u32 d[16];

	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
			    .data_size_in = (__u32)f->len, .repeat = repeat);

		if (bpf_prog_test_run_opts(prog_fd, &o))
			return -1;
		d[i] = o.duration;
		*retval = o.retval;
	}
	qsort(d, (size_t)runs, sizeof(d[0]), cmp_u32);
	return d[runs / 2];
}

int main(int argc, char **argv)
{
	__u32 repeat = argc > 1 ? (__u32)strtoul(argv[1], NULL, 0) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct bulkhead_bpf *skel;
	struct empty_bpf *empty;
	struct bh_maps maps;
	__u8 lap[6];

	if (runs < 1 || runs > 16)
		runs = 5;
	skel = fixture_open(&maps, policy);
	empty = empty_bpf__open_and_load();
	if (!skel || !empty) {
		fprintf(stderr, "bench: cannot load the BPF objects (root?)\n");
		return 2;
	}
	mac_of(LAPTOP, lap);
	bh_dp_isolate(&maps, lap, 1, 0);

	/* warm the conntrack entries the reply path needs */
	{
		struct frame f;
		__u32 rv;

		p_allowed(&f);
		f.b[14 + 20 + 13] = 0x02;	/* as a SYN: creates the flow */
		measure(bpf_program__fd(skel->progs.bulkhead_xdp), &f, 1, 1, &rv);
	}

	printf("| path | XDP ns | XDP floor ns | XDP ratio | tc ns | tc floor ns | tc ratio |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct path *p = &paths[i];
		struct frame f;
		__u32 rv;
		double x, xf, t, tf;

		p->build(&f);
		x = measure(bpf_program__fd(skel->progs.bulkhead_xdp), &f, repeat, runs, &rv);
		if (rv != (p->pass ? XDP_PASS : XDP_DROP))
			fprintf(stderr, "bench: %s: unexpected XDP verdict %u\n", p->name, rv);
		xf = measure(bpf_program__fd(p->pass ? empty->progs.empty_xdp_pass :
						       empty->progs.empty_xdp_drop),
			     &f, repeat, runs, &rv);
		t = measure(bpf_program__fd(skel->progs.bulkhead_tc_in), &f, repeat, runs, &rv);
		if (rv != (__u32)(p->pass ? TC_ACT_UNSPEC : TC_ACT_SHOT))
			fprintf(stderr, "bench: %s: unexpected tc verdict %d\n", p->name, (int)rv);
		tf = measure(bpf_program__fd(p->pass ? empty->progs.empty_tc_pass :
						       empty->progs.empty_tc_drop),
			     &f, repeat, runs, &rv);
		if (x < 0 || xf < 0 || t < 0 || tf < 0) {
			fprintf(stderr, "bench: BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
			return 2;
		}
		printf("| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", p->name,
		       x, xf, xf > 0 ? x / xf : 0, t, tf, tf > 0 ? t / tf : 0);
	}
	empty_bpf__destroy(empty);
	bulkhead_bpf__destroy(skel);
	return 0;
}
