// SPDX-License-Identifier: GPL-2.0
/*
 * test_diff.c - differential test: random policies and random frames
 * (tags, fragments, extension headers, ARP, ND, broadcast, spoofed and
 * truncated frames), each judged by the BPF programs through
 * BPF_PROG_TEST_RUN (XDP and tc) and by the reference evaluator
 * (userspace/eval.c). Any disagreement fails and prints a reproducer.
 *
 * The flow verdict cache (per CPU) is in the way of every judgement: the
 * process stays on one CPU, each frame runs through XDP, tc and XDP again
 * (the repeat meets the slot its first run filled), and after each new
 * policy and quarantine the previous policy's last REPLAY frames are judged
 * again first, so a verdict cached under the old state shows as a mismatch.
 *
 *   test_diff [--seed N] [--count FRAMES_PER_POLICY] [--policies N]
 * Prints "ok 1 - ..." / "not ok 1 - ..." (TAP) and the counts.
 *
 * make check (selftests/run.sh) runs it twice: >= 100,000 (frame, entry
 * point) pairs, and the same through apply's path for kernels without
 * BPF_MAP_*_BATCH (maps written one entry per syscall):
 * bh: args --policies 56 --count 1000
 * bh: args --no-batch --policies 16 --count 500
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "eval.h"
#include "fixture.h"
#include "leases.h"
#include "frames.h"

static unsigned long long rng;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

#define PICK(a) (a[rnd(sizeof(a) / sizeof(a[0]))])

static const char *const dev_mac[] = {
	"02:00:00:00:00:11", "02:00:00:00:00:21", "02:00:00:00:00:31",
	"02:00:00:00:00:41", "02:00:00:00:00:51", "02:00:00:00:00:61",
};
static const char *const dev_ip4[] = {
	"192.168.50.11", "192.168.50.21", "192.168.50.31",
	"192.168.50.41", "192.168.50.51", "192.168.50.61",
};
static const char *const dev_ip6[] = {
	"fd00:50::11", "fd00:50::21", "fd00:50::31", "fd00:50::41", "fd00:50::51", "fd00:50::61",
};
static const char *const cidrs[] = {
	"203.0.113.0/24", "203.0.113.128/25", "198.51.100.0/24", "10.0.0.0/8",
	"2001:db8::/32", "2001:db8:1::/48",
};
static const char *const other_ip4[] = {
	"192.168.50.1", "192.168.50.99", "203.0.113.9", "203.0.113.200", "198.51.100.7",
	"10.1.2.3", "8.8.8.8", "0.0.0.0", "255.255.255.255", "224.0.0.251",
};
static const char *const other_ip6[] = {
	"fd00:50::1", "fd00:50::99", "2001:db8::5", "2001:db8:1::9", "2001:4860::8888",
	"fe80::1234", "::", "ff02::1", "ff02::1:ff00:11",
};
static const char *const other_mac[] = {
	"02:00:00:00:00:01", "02:00:00:00:99:99", "ff:ff:ff:ff:ff:ff",
	"01:00:5e:00:00:fb", "33:33:00:00:00:01", "01:80:c2:00:00:03",
};
static const __u16 ports[] = { 22, 23, 53, 67, 68, 80, 123, 443, 546, 547, 554, 5353, 8000, 8080 };
static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6", "any" };

/*
 * Random DHCP leases (dnsmasq's format) of devices listed or not, and of a
 * MAC no device has, for addresses bound or not: bound into the policy
 * that both the BPF programs and the evaluator judge by.
 */
static void gen_leases(char *y, size_t cap)
{
	static const char *const macs[] = {
		"02:00:00:00:00:11", "02:00:00:00:00:41", "02:00:00:00:00:51",
		"02:00:00:00:00:61", "02:00:00:00:99:99",
	};
	static const char *const ips[] = {
		"192.168.50.11", "192.168.50.51", "192.168.50.61", "192.168.50.99",
	};
	size_t off = 0;

	y[0] = '\0';
	for (unsigned int i = 0, n = rnd(4); i < n; i++)
		off += (size_t)snprintf(y + off, cap - off, "0 %s %s h%u *\n", PICK(macs), PICK(ips), i);
}

/* @yaml with the leases @ltext bound: into *p and the maps; 0 or -errno */
static int apply_with_leases(struct bh_maps *maps, const char *yaml, const char *ltext,
			     struct bh_policy **p)
{
	struct bh_leases l;
	struct bh_compiled c;
	struct bh_diag d = {};
	char err[256] = "";
	int ret;

	ret = bh_policy_load_buf("diff.yaml", yaml, strlen(yaml), p, &d);
	if (!ret)
		ret = bh_leases_parse("leases", ltext, strlen(ltext), &l, &d);
	if (ret) {
		bh_diag_print(&d);
		return ret;
	}
	bh_leases_live(&l, 0);
	ret = bh_leases_bind(*p, &l, NULL);
	bh_leases_free(&l);
	if (ret >= 0)
		ret = bh_compile(*p, &c, &d);
	if (ret) {
		bh_diag_print(&d);
		return ret;
	}
	ret = bh_dp_apply(maps, &c, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "apply: %s\n", err);
	bh_compiled_free(&c);
	return ret < 0 ? ret : 0;
}

/* a random policy over the six devices; some devices unlisted */
static void gen_policy(char *y, size_t cap, int *nmembers)
{
	static const char *const acts[] = { "allow", "deny" };
	int ng = 2 + (int)rnd(3), nr = (int)rnd(9);
	size_t off = 0;

#define P(...) (off += (size_t)snprintf(y + off, cap - off, __VA_ARGS__))
	P("version: 1\ninterfaces: [br-lan]\n");
	P("defaults: {east_west: %s, internet: %s, gateway: %s%s}\n", PICK(acts), PICK(acts),
	  rnd(4) ? "deny" : "allow", rnd(8) ? "" : ", mode: audit");
	P("groups:\n");
	*nmembers = 0;
	for (int g = 0; g < ng; g++) {
		P("  g%d:\n", g);
		if (rnd(3) == 0)
			P("    internet: %s\n", PICK(acts));
		if (rnd(5) == 0)
			P("    audit: true\n");	/* staged: its drops pass_audit */
		P("    members:\n");
		for (int d = g; d < 6; d += ng) {
			if (d == 5 && rnd(2))
				continue;	/* sometimes unlisted: the unknown group */
			P("      - {mac: \"%s\"", dev_mac[d]);
			if (rnd(4))
				P(", ip: [%s, \"%s\"]", dev_ip4[d], dev_ip6[d]);
			P("}\n");
			(*nmembers)++;
		}
	}
	P("  unknown: {}\n");
	P("rules:%s\n", nr ? "" : " []");
	for (int r = 0; r < nr; r++) {
		int pi = (int)rnd(5);
		char to[64];

		switch (rnd(7)) {
		case 0: strcpy(to, "any"); break;
		case 1: strcpy(to, "gateway"); break;
		case 2: strcpy(to, "internet"); break;
		case 3: strcpy(to, "multicast"); break;
		case 4: snprintf(to, sizeof(to), "\"%s\"", PICK(cidrs)); break;
		case 5: strcpy(to, "unknown"); break;
		default: snprintf(to, sizeof(to), "g%u", rnd((unsigned int)ng));
		}
		P("  - {from: %s, to: %s, proto: %s", rnd(4) ? (rnd(2) ? "g0" : "g1") : "any", to,
		  protos[pi]);
		if (pi < 2 && rnd(2))
			P(", ports: [%u, \"%u-%u\"]", PICK(ports), 8000 + rnd(3), 8080 + rnd(3));
		P("%s}\n", rnd(4) ? "" : ", action: deny");
	}
	P("quarantine: {allow: [dhcp%s]}\n", rnd(2) ? ", dns" : "");
#undef P
}

static const char *any_ip(int v6)
{
	if (v6)
		return rnd(2) ? PICK(dev_ip6) : PICK(other_ip6);
	return rnd(2) ? PICK(dev_ip4) : PICK(other_ip4);
}

static const char *any_mac(void)
{
	return rnd(3) ? PICK(dev_mac) : PICK(other_mac);
}

/* What an IP frame was made of, so that answers to it can be made too. */
struct fparams {
	const char *smac, *dmac, *src, *dst;
	int v6;
	uint8_t l4, flags, icmp;
	uint16_t sport, dport, id;
	int frag;		/* 0 none, 1 first, 2 later */
	int ext;		/* IPv6 destination-options headers before L4 */
	int vlan;		/* 0 none, 1 VID 0, 2 VID 7, 3 two tags */
};

static struct fparams recent[64];
static unsigned int n_recent;

static void build_ip(struct frame *f, const struct fparams *fp)
{
	eth(f, fp->dmac, fp->smac, fp->v6 ? 0x86dd : 0x0800);
	if (fp->v6) {
		uint8_t first = fp->ext ? 60 : fp->frag ? 44 : fp->l4;

		ipv6(f, fp->src, fp->dst, first);
		for (int i = 0; i < fp->ext; i++)
			ext8(f, i == fp->ext - 1 ? (fp->frag ? 44 : fp->l4) : 60, 0);
		if (fp->frag)
			frag6(f, fp->l4, fp->frag == 2 ? 2 : 0, 1, fp->id);
	} else {
		ipv4(f, fp->src, fp->dst, fp->l4,
		     (uint16_t)(fp->frag == 1 ? 0x2000 : fp->frag == 2 ? 2 + fp->id % 3 : 0),
		     fp->id, fp->ext ? 2 : 0);
	}
	if (fp->frag == 2) {
		payload(f, 16);
	} else if (fp->l4 == 6) {
		tcp(f, fp->sport, fp->dport, fp->flags);
	} else if (fp->l4 == 17) {
		udp(f, fp->sport, fp->dport);
	} else if (fp->l4 == 1 || (fp->l4 == 58 && (fp->icmp == 128 || fp->icmp == 129 ||
						     fp->icmp < 5 || fp->icmp == 133 ||
						     fp->icmp == 134 || fp->icmp == 143))) {
		icmp(f, fp->icmp, 0, fp->sport);
	} else if (fp->l4 == 58) {
		nd(f, fp->icmp, fp->id & 1 ? fp->src : fp->dst);
	} else {
		payload(f, 8);
	}
	fin(f);
	if (fp->vlan) {		/* insert tags after the MAC addresses */
		int n = fp->vlan == 3 ? 2 : 1;

		memmove(f->b + 12 + 4 * n, f->b + 12, f->len - 12);
		f->len += (size_t)(4 * n);
		for (int i = 0; i < n; i++) {
			uint8_t *t = f->b + 12 + 4 * i;

			t[0] = i == 0 && n == 2 ? 0x88 : 0x81;
			t[1] = i == 0 && n == 2 ? 0xa8 : 0x00;
			t[2] = 0;
			t[3] = fp->vlan == 2 ? 7 : 0;
		}
	}
}

/* the answer to an earlier frame: the other way, as a reply would be */
static void answer(struct fparams *fp)
{
	const char *t;
	uint16_t p;

	t = fp->smac; fp->smac = fp->dmac; fp->dmac = t;
	t = fp->src; fp->src = fp->dst; fp->dst = t;
	p = fp->sport; fp->sport = fp->dport; fp->dport = p;
	if (fp->l4 == 6)
		fp->flags = rnd(4) ? (rnd(2) ? 0x12 : 0x10) : 0x02;
	if (fp->l4 == 1)
		fp->icmp = rnd(4) ? 0 : 8;
	if (fp->l4 == 58)
		fp->icmp = rnd(4) ? 129 : 128;
	if (fp->frag == 1)
		fp->frag = 0;
}

/* a random frame: mostly plausible, sometimes awkward */
static void gen_frame(struct frame *f, int *truncated)
{
	unsigned int sd = rnd(6), kind = rnd(100);
	const char *smac = rnd(25) ? dev_mac[sd] : any_mac();
	const char *dmac = any_mac();
	struct fparams fp = {};

	*truncated = 0;
	if (kind < 20 && n_recent) {		/* answers and later fragments */
		fp = recent[rnd(n_recent < 64 ? n_recent : 64)];
		if (fp.frag == 1 && rnd(2))
			fp.frag = 2;
		else
			answer(&fp);
		build_ip(f, &fp);
		return;
	}
	if (kind >= 80 && kind < 92) {		/* ARP */
		const char *spa = rnd(5) ? dev_ip4[sd] : any_ip(0);

		eth(f, rnd(2) ? "ff:ff:ff:ff:ff:ff" : dmac, smac, 0x0806);
		arp(f, (uint16_t)(1 + rnd(2)), rnd(12) ? smac : any_mac(), spa,
		    "00:00:00:00:00:00", rnd(6) ? any_ip(0) : spa);
		fin(f);
		return;
	}
	if (kind >= 92) {			/* other ethertypes */
		static const uint16_t types[] = { 0x88cc, 0x8864, 0x888e, 0x0030, 0x9000 };

		eth(f, dmac, smac, PICK(types));
		payload(f, 46);
		return;
	}
	fp.smac = smac;
	fp.dmac = dmac;
	fp.v6 = rnd(3) == 0;
	fp.src = rnd(8) ? (fp.v6 ? dev_ip6[sd] : dev_ip4[sd]) : any_ip(fp.v6);
	fp.dst = any_ip(fp.v6);
	switch (rnd(6)) {
	case 0: fp.l4 = 17; break;
	case 1: case 2: fp.l4 = (uint8_t)(fp.v6 ? 58 : 1); break;
	case 3: fp.l4 = 47; break;
	default: fp.l4 = 6;
	}
	fp.sport = rnd(2) ? PICK(ports) : (uint16_t)(40000 + rnd(4));
	fp.dport = PICK(ports);
	fp.flags = rnd(3) ? 0x02 : 0x10;
	if (fp.l4 == 1)
		fp.icmp = rnd(4) ? 8 : (uint8_t)rnd(14);
	if (fp.l4 == 58) {
		static const uint8_t t[] = { 128, 128, 129, 133, 134, 135, 136, 137, 143, 1 };

		fp.icmp = PICK(t);
	}
	fp.id = (uint16_t)(100 + rnd(50));
	fp.frag = rnd(10) == 0 ? 1 : rnd(30) == 0 ? 2 : 0;
	fp.ext = fp.v6 && rnd(5) == 0 ? (int)rnd(10) : (!fp.v6 && rnd(8) == 0);
	fp.vlan = rnd(25) == 0 ? 1 + (int)rnd(3) : 0;
	build_ip(f, &fp);
	if (!fp.vlan)
		recent[n_recent++ % 64] = fp;
	if (rnd(20) == 0) {			/* truncate somewhere */
		f->len = 15 + rnd((unsigned int)(f->len - 15));
		*truncated = 1;
	}
}

static int run(int fd, struct frame *f, bool tc, int *pass)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*pass = tc ? o.retval == (__u32)TC_ACT_UNSPEC : o.retval == XDP_PASS;
	return 0;
}

/* which reason counter moved: the BPF side's reason */
static int moved(const struct bh_maps *m, const __u64 *before)
{
	for (int r = 0; r < BH_R_MAX; r++) {
		struct bh_counter c;

		bh_dp_counter(m->stats, (__u32)r, &c);
		if (c.packets != before[r])
			return r;
	}
	return -1;
}

static void snapshot(const struct bh_maps *m, __u64 *out)
{
	for (int r = 0; r < BH_R_MAX; r++) {
		struct bh_counter c;

		bh_dp_counter(m->stats, (__u32)r, &c);
		out[r] = c.packets;
	}
}

#define REPLAY		256
#define N_RUNS		3	/* xdp, tc, xdp again */

struct judged {
	const struct bh_maps *m;
	struct bulkhead_bpf *skel;
	unsigned long long seed;
	const char *leases;		/* the leases bound with the policy */
	long pairs, mismatches, tc_refused, hits;
	long by_reason[BH_R_MAX];
};

/* the CPU the test stays on */
static int this_cpu;

/*
 * Judge @f through the three runs against @want. 0, or -1 on a
 * BPF_PROG_TEST_RUN failure. Mismatches are printed and counted.
 */
static int judge(struct judged *j, struct frame *f, const struct bh_eval_result *want,
		 long pi, long fi, const char *yaml, const struct bh_env *env)
{
	for (int run_i = 0; run_i < N_RUNS; run_i++) {
		bool tc = run_i == 1;
		int fd = bpf_program__fd(tc ? j->skel->progs.bulkhead_tc_in :
					      j->skel->progs.bulkhead_xdp);
		__u64 before[BH_R_MAX];
		int pass = 0, reason, ret;

		snapshot(j->m, before);
		ret = run(fd, f, tc, &pass);
		if (ret == -EINVAL && tc) {
			j->tc_refused++;	/* the skb test runner refuses short IP */
			continue;
		}
		if (ret) {
			printf("not ok 1 - differential: BPF_PROG_TEST_RUN: %s\n", strerror(-ret));
			return -1;
		}
		reason = moved(j->m, before);
		j->pairs++;
		if (want->reason >= 0 && want->reason < BH_R_MAX)
			j->by_reason[want->reason]++;
		if (pass == want->pass && reason == want->reason)
			continue;
		j->mismatches++;
		printf("# MISMATCH (%s%s) policy %ld frame %ld: bpf %s/%d, evaluator %s/%d (%s)\n",
		       tc ? "tc" : "xdp", run_i == 2 ? ", repeated" : "", pi, fi,
		       pass ? "pass" : "drop", reason, want->pass ? "pass" : "drop",
		       want->reason, want->why);
		printf("#   reproduce: test_diff --seed %llu; quarantined %zu; frame:", j->seed,
		       env->n_quarantined);
		for (size_t b = 0; b < f->len; b++)
			printf("%s%02x", b % 32 ? "" : "\n#     ", f->b[b]);
		printf("\n#   leases:\n%s#   policy:\n%s", j->leases, yaml);
	}
	return 0;
}

/* valid slots of this CPU's bh_vcache: the cache is really in use */
static long cache_filled(const struct bh_maps *m)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_vc_slot *v = calloc((size_t)ncpu, sizeof(*v));
	struct bh_active act = {};
	__u32 zero = 0, ve = 0;
	long n = 0;

	if (!v)
		return 0;
	bpf_map_lookup_elem(m->active, &zero, &act);
	bpf_map_lookup_elem(m->vepoch, &zero, &ve);
	for (__u32 i = 0; i < BH_VCACHE_SLOTS; i++)
		if (!bpf_map_lookup_elem(m->vcache, &i, v) && v[this_cpu].val.kind &&
		    v[this_cpu].val.epoch == act.epoch && v[this_cpu].val.vepoch == ve)
			n++;
	free(v);
	return n;
}

static void clear_map(int fd, size_t key_size)
{
	char k[64];

	while (!bpf_map_get_next_key(fd, NULL, k))
		if (bpf_map_delete_elem(fd, k))
			break;
	(void)key_size;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "policies", required_argument, NULL, 'p' },
		{ "no-batch", no_argument, NULL, 'B' },
		{}
	};
	unsigned long long seed = (unsigned long long)time(NULL);
	long count = 1000, npol = 50, filled = 0;
	struct judged j = { .m = NULL };
	struct bulkhead_bpf *skel;
	struct bh_maps maps;
	static char yaml[1 << 16];
	static char leases[1024];
	static struct frame replay[REPLAY];
	long n_replay = 0;
	__u8 gwm[1][6] = { { 0x02, 0, 0, 0, 0, 0x01 } };
	struct bh_gw_addr ga[2] = {};
	__u8 q[2][6], ql[2][6];
	struct bh_env env = { .gw_macs = gwm, .n_gw_macs = 1, .gw_addrs = ga, .n_gw_addrs = 2,
			      .quarantined = q, .quarantined_lan = ql };
	struct bh_eval_state *st = NULL;
	cpu_set_t cpus;
	int opt, nmem;

	while ((opt = getopt_long(argc, argv, "s:c:p:", opts, NULL)) != -1) {
		if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (opt == 'c')
			count = strtol(optarg, NULL, 0);
		else if (opt == 'p')
			npol = strtol(optarg, NULL, 0);
		else if (opt == 'B')
			bh_dp_batch = false;	/* apply one map entry per syscall */
		else
			return 2;
	}
	printf("# differential test: seed %llu, %ld policies x %ld frames (--seed to repeat)%s\n",
	       seed, npol, count, bh_dp_batch ? "" : ", maps written one entry per syscall");
	this_cpu = sched_getcpu();
	CPU_ZERO(&cpus);
	CPU_SET(this_cpu, &cpus);
	if (this_cpu < 0 || sched_setaffinity(0, sizeof(cpus), &cpus)) {
		printf("not ok 1 - differential: cannot stay on one CPU: %s\n", strerror(errno));
		return 1;
	}
	rng = seed | 1;
	gen_policy(yaml, sizeof(yaml), &nmem);
	skel = fixture_open(&maps, yaml);
	if (!skel) {
		printf("not ok 1 - differential: cannot load the BPF objects\n");
		return 1;
	}
	j.m = &maps;
	j.skel = skel;
	j.seed = seed;
	j.leases = leases;
	bh_parse_addr("192.168.50.1", &ga[0].addr);
	ga[0].plen = 24;
	bh_parse_addr("fd00:50::1", &ga[1].addr);
	ga[1].plen = 64;
	for (long pi = 0; pi < npol && j.mismatches < 10; pi++) {
		struct bh_policy *p = NULL;

		gen_policy(yaml, sizeof(yaml), &nmem);
		gen_leases(leases, sizeof(leases));
		if (apply_with_leases(&maps, yaml, leases, &p)) {
			printf("not ok 1 - differential: a random policy did not load\n%s%s", yaml, leases);
			return 1;
		}
		/* the previous policy's last frames, judged by the new one right
		 * after the flip (same flows, same quarantine): their verdicts are
		 * cached under the old epoch */
		for (long ri = 0; st && ri < n_replay && j.mismatches < 10; ri++) {
			struct bh_eval_result want;

			bh_eval_frame(p, &env, st, replay[ri].b, replay[ri].len, &want);
			if (judge(&j, &replay[ri], &want, pi, -1 - ri, yaml, &env))
				return 1;
		}
		n_replay = 0;
		/* a fresh start; as the controller does: writes, then the verdict
		 * cache invalidated */
		bh_eval_state_free(st);
		st = bh_eval_state_new();
		clear_map(maps.ct, sizeof(struct bh_ct_key));
		clear_map(maps.frag, sizeof(struct bh_frag_key));
		clear_map(maps.quarantine, sizeof(struct bh_mac_key));
		clear_map(maps.claim, sizeof(struct bh_addr_key));
		bh_dp_invalidate(&maps);
		env.n_quarantined = 0;
		env.n_quarantined_lan = 0;
		for (unsigned int i = 0, n = rnd(3); i < n; i++) {
			bool lan = rnd(2);
			__u8 m[6];

			/* each at one level: full, or lan (the internet kept) */
			mac_of(PICK(dev_mac), m);
			if ((env.n_quarantined && !memcmp(q[0], m, 6)) ||
			    (env.n_quarantined_lan && !memcmp(ql[0], m, 6)))
				continue;
			bh_dp_isolate(&maps, m, 1, 0, lan ? BH_QLVL_LAN : BH_QLVL_FULL);
			memcpy(lan ? ql[env.n_quarantined_lan++] : q[env.n_quarantined++], m, 6);
		}

		for (long fi = 0; fi < count && j.mismatches < 10; fi++) {
			struct bh_eval_result want;
			struct frame f;
			int trunc;

			gen_frame(&f, &trunc);
			bh_eval_frame(p, &env, st, f.b, f.len, &want);
			if (judge(&j, &f, &want, pi, fi, yaml, &env))
				return 1;
			if (count - fi <= REPLAY)
				replay[n_replay++] = f;
		}
		if (pi == npol - 1)
			filled = cache_filled(&maps);
		bh_policy_free(p);
	}
	bh_eval_state_free(st);
	printf("# %ld verdict pairs compared (BPF vs evaluator; each frame xdp, tc, xdp again), "
	       "%ld mismatches, %ld tc runs refused by the kernel's test runner (short IP headers)\n",
	       j.pairs, j.mismatches, j.tc_refused);
	printf("# verdict cache: %ld slots of CPU %d valid after the last policy\n", filled,
	       this_cpu);
	printf("# verdicts by reason:");
	for (int r = 0; r < BH_R_MAX; r++)
		printf(" %d:%ld", r, j.by_reason[r]);
	printf("\n");
	bulkhead_bpf__destroy(skel);
	if (j.mismatches) {
		printf("not ok 1 - differential: BPF and the reference evaluator disagree\n");
		return 1;
	}
	if (!filled) {
		printf("not ok 1 - differential: the verdict cache was never filled\n");
		return 1;
	}
	printf("ok 1 - differential: BPF (xdp and tc) and the reference evaluator agree on %ld pairs%s\n",
	       j.pairs, bh_dp_batch ? "" : " (maps written one entry per syscall)");
	return 0;
}
