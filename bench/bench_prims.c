// SPDX-License-Identifier: GPL-2.0
/*
 * bench_prims.c - what the pieces of a verdict cost on this machine: each
 * program of prims.bpf.c timed with BPF_PROG_TEST_RUN on one frame, median
 * of RUNS runs of REPEAT, minus the empty program. With the count of each
 * piece on a path, this says where a verdict's time goes.
 *
 *   bench_prims REPEAT RUNS   (a Markdown table on stdout)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "prims.skel.h"
#include "paths.h"

static int fill(struct prims_bpf *s)
{
	struct bh_inet_key ik = { .prefixlen = BH_INET_KEY_HDR_BITS + 96 + 24 };
	struct bh_dev_stats ds[256] = {};
	struct bh_inet_val iv = { .dgroup = BH_GRP_CIDR_BASE };
	struct bh_dev_key dk = {};
	struct bh_dev_val dv = {};
	struct bh_ct_key ck = {};
	struct bh_ct_val cv = {};
	struct bh_mac_key mk = {};

	if (libbpf_num_possible_cpus() > 256)
		return -E2BIG;
	if (bpf_map_update_elem(bpf_map__fd(s->maps.pr_hash8), &dk, &dv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.pr_lru40), &ck, &cv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.pr_lpm), &ik, &iv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.pr_pcpu), &mk, ds, BPF_ANY))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	__u32 repeat = argc > 1 ? (__u32)strtoul(argv[1], NULL, 0) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct {
		const char *name;
		struct bpf_program *prog;
	} pr[9];
	struct prims_bpf *s;
	struct frame f;
	__u32 rv;
	int ret = 0;

	if (runs < 1 || runs > 16)
		runs = 5;
	s = prims_bpf__open_and_load();
	if (!s) {
		fprintf(stderr, "bench_prims: cannot load prims.bpf.o (root?)\n");
		return 2;
	}
	if (fill(s)) {
		fprintf(stderr, "bench_prims: cannot fill the maps: %s\n", strerror(errno));
		ret = 2;
		goto out;
	}
	pr[0].name = "array lookup (per-CPU counters: bh_stats, bh_rulestats, bh_devctr)";
	pr[0].prog = s->progs.prim_array;
	pr[1].name = "hash lookup, 8-byte key (bh_devices, bh_quarantine, bh_gw_mac, bh_policy, bh_talk)";
	pr[1].prog = s->progs.prim_hash8;
	pr[2].name = "LRU hash lookup, 40-byte key (bh_ct)";
	pr[2].prog = s->progs.prim_lru40;
	pr[3].name = "LRU per-CPU hash lookup, 8-byte key (bh_devstats: MACs not in the policy)";
	pr[3].prog = s->progs.prim_pcpu;
	pr[4].name = "LPM trie lookup, 24-byte key (bh_inet)";
	pr[4].prog = s->progs.prim_lpm;
	pr[5].name = "bpf_ktime_get_ns() (not used: the precise clock, for comparison)";
	pr[5].prog = s->progs.prim_ktime;
	pr[6].name = "bpf_ktime_get_coarse_ns() (bh_now(): once a tick per CPU)";
	pr[6].prog = s->progs.prim_ktime_coarse;
	pr[7].name = "call of a __noinline subprogram (a miss: bh_decide() and its steps; none on a hit)";
	pr[7].prog = s->progs.prim_call;
	pr[8].name = "bpf_jiffies64() (bh_now(): every frame; the verifier inlines it into a load)";
	pr[8].prog = s->progs.prim_jiffies;

	p_allowed(&f);
	printf("| piece | ns (median of %d x %u, minus the empty program's, run in turn with it) |\n"
	       "|---|---:|\n", runs, repeat);
	for (int i = 0; i < 9; i++) {
		struct pair_ns r;

		if (measure_pair(bpf_program__fd(pr[i].prog),
				 bpf_program__fd(s->progs.prim_empty), &f, repeat, runs, &rv,
				 &r) || rv != XDP_PASS) {
			fprintf(stderr, "bench_prims: %s failed (%s, verdict %u)\n", pr[i].name,
				strerror(errno), rv);
			ret = 2;
			goto out;
		}
		printf("| %s | %.1f |\n", pr[i].name, r.ns - r.floor);
	}
out:
	prims_bpf__destroy(s);
	return ret;
}
