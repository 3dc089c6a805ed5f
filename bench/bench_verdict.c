// SPDX-License-Identifier: GPL-2.0
/*
 * bench_verdict.c - the cost of one verdict, per path, through both entry
 * points, measured with BPF_PROG_TEST_RUN (the kernel times `repeat` runs
 * of the program on one frame and reports the mean), next to an empty
 * program returning the same action: the floor. Median of RUNS runs.
 * Repeats of one frame meet the flow verdict cache its first run filled;
 * a second table has the same paths through a copy loaded with the cache
 * off (bh_bench_no_vcache): each judged in full, the lookups' own cost.
 * The last two rows of the first are single runs of one allowed frame, a syscall before
 * each: with the cache invalidated by it (a miss: a flow's first frame, or
 * any frame after a policy change or isolate), and with a plain map read
 * instead (a hit in the same cold conditions), next to the floor measured
 * the same way.
 *
 * A third table is the flow records' cost (lib/flow.h): each path through
 * the object as the controller loads it, next to a copy built with
 * recording off (bh_bench_no_flows), with the verdict cache on (a hit: one
 * bh_flow lookup and the adds) and off (the frame classified every time).
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
#include "paths.h"

/*
 * Median over @n single runs of @f, before each the verdict cache
 * invalidated (@miss) or bh_vepoch only read: one syscall either way. -1
 * on error.
 */
static double measure_single(int prog_fd, struct frame *f, const struct bh_maps *m,
			     bool miss, int n, __u32 *retval)
{
	__u32 *d = calloc((size_t)n, sizeof(*d)), zero = 0, v;
	double med;

	if (!d)
		return -1;
	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
			    .data_size_in = (__u32)f->len, .repeat = 1);

		if (miss)
			bh_dp_invalidate(m);
		else
			bpf_map_lookup_elem(m->vepoch, &zero, &v);
		if (bpf_prog_test_run_opts(prog_fd, &o)) {
			free(d);
			return -1;
		}
		d[i] = o.duration;
		*retval = o.retval;
	}
	qsort(d, (size_t)n, sizeof(d[0]), cmp_u32);
	med = d[n / 2];
	free(d);
	return med;
}

/* One row per path through both entry points, each with its floor; 0 or -1. */
static int path_rows(struct bulkhead_bpf *skel, struct empty_bpf *empty, __u32 repeat,
		     int runs)
{
	for (size_t i = 0; i < N_PATHS; i++) {
		const struct path *p = &paths[i];
		struct pair_ns x, t;
		struct frame f;
		__u32 rv;

		p->build(&f);
		if (measure_pair(bpf_program__fd(skel->progs.bulkhead_xdp),
				 bpf_program__fd(p->pass ? empty->progs.empty_xdp_pass :
							 empty->progs.empty_xdp_drop),
				 &f, repeat, runs, &rv, &x))
			return -1;
		if (rv != (p->pass ? XDP_PASS : XDP_DROP))
			fprintf(stderr, "bench: %s: unexpected XDP verdict %u\n", p->name, rv);
		if (measure_pair(bpf_program__fd(skel->progs.bulkhead_tc_in),
				 bpf_program__fd(p->pass ? empty->progs.empty_tc_pass :
							 empty->progs.empty_tc_drop),
				 &f, repeat, runs, &rv, &t))
			return -1;
		if (rv != (__u32)(p->pass ? TC_ACT_UNSPEC : TC_ACT_SHOT))
			fprintf(stderr, "bench: %s: unexpected tc verdict %d\n", p->name, (int)rv);
		printf("| %s | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | %.2f | %.2f |\n", p->name,
		       x.ns, x.floor, ratio_of(x.ns, x.floor), ratio_of(x.ns_best, x.floor_best),
		       t.ns, t.floor, ratio_of(t.ns, t.floor), ratio_of(t.ns_best, t.floor_best));
	}
	return 0;
}

/*
 * What flow recording adds: @skel (recording on) timed against @noflows
 * (the same object with bh_bench_no_flows) on each ingress path. 0 or -1.
 */
static int flow_rows(const char *cache, struct bulkhead_bpf *skel,
		     struct bulkhead_bpf *noflows, __u32 repeat, int runs)
{
	for (size_t i = 0; i < N_PATHS; i++) {
		const struct path *p = &paths[i];
		struct pair_ns x, t;
		struct frame f;
		__u32 rv;

		p->build(&f);
		if (measure_pair(bpf_program__fd(skel->progs.bulkhead_xdp),
				 bpf_program__fd(noflows->progs.bulkhead_xdp),
				 &f, repeat, runs, &rv, &x) ||
		    measure_pair(bpf_program__fd(skel->progs.bulkhead_tc_in),
				 bpf_program__fd(noflows->progs.bulkhead_tc_in),
				 &f, repeat, runs, &rv, &t))
			return -1;
		printf("| %s, cache %s | %.0f | %.0f | %+.0f | %.0f | %.0f | %+.0f |\n", p->name,
		       cache, x.ns, x.floor, x.ns - x.floor, t.ns, t.floor, t.ns - t.floor);
	}
	return 0;
}

int main(int argc, char **argv)
{
	__u32 repeat = argc > 1 ? (__u32)strtoul(argv[1], NULL, 0) : 1000000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct bulkhead_bpf *skel, *full, *nf, *nffull;
	struct bh_maps maps, fmaps, nfmaps, nffmaps;
	struct empty_bpf *empty;
	int ret = 2;

	if (runs < 1 || runs > 16)
		runs = 5;
	skel = fixture_open(&maps, bench_policy);
	full = fixture_open_opts(&fmaps, bench_policy, true);
	nf = fixture_open_knobs(&nfmaps, bench_policy, false, true);
	nffull = fixture_open_knobs(&nffmaps, bench_policy, true, true);
	empty = empty_bpf__open_and_load();
	if (!skel || !full || !nf || !nffull || !empty || bench_prepare(skel, &maps) ||
	    bench_prepare(full, &fmaps) || bench_prepare(nf, &nfmaps) ||
	    bench_prepare(nffull, &nffmaps)) {
		fprintf(stderr, "bench: cannot load the BPF objects (root?)\n");
		return 2;
	}

	printf("| path (one frame repeated) | XDP ns | XDP floor ns | XDP ratio | XDP best ratio "
	       "| tc ns | tc floor ns | tc ratio | tc best ratio |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	if (path_rows(skel, empty, repeat, runs))
		goto fail;
	/* the egress program never drops: its floor is the empty pass */
	for (size_t i = 0; i < N_EG_PATHS; i++) {
		const struct path *p = &eg_paths[i];
		struct pair_ns t;
		struct frame f;
		__u32 rv;

		p->build(&f);
		if (measure_pair(bpf_program__fd(skel->progs.bulkhead_tc_eg),
				 bpf_program__fd(empty->progs.empty_tc_pass),
				 &f, repeat, runs, &rv, &t))
			goto fail;
		printf("| %s | - | - | - | - | %.0f | %.0f | %.2f | %.2f |\n", p->name, t.ns, t.floor,
		       ratio_of(t.ns, t.floor), ratio_of(t.ns_best, t.floor_best));
	}
	for (int miss = 0; miss < 2; miss++) {
		/* a miss: the full verdict, then the slot filled */
		int n = 4001;
		struct frame f;
		__u32 rv;
		double x, xf, t, tf;

		p_allowed(&f);
		x = measure_single(bpf_program__fd(skel->progs.bulkhead_xdp), &f, &maps, miss,
				   n, &rv);
		xf = measure_single(bpf_program__fd(empty->progs.empty_xdp_pass), &f, &maps,
				    false, n, &rv);
		t = measure_single(bpf_program__fd(skel->progs.bulkhead_tc_in), &f, &maps, miss,
				   n, &rv);
		tf = measure_single(bpf_program__fd(empty->progs.empty_tc_pass), &f, &maps,
				    false, n, &rv);
		if (x < 0 || xf < 0 || t < 0 || tf < 0)
			goto fail;
		printf("| allowed, verdict cache %s (single runs, %d, floor alike) "
		       "| %.0f | %.0f | %.2f | - | %.0f | %.0f | %.2f | - |\n",
		       miss ? "miss: a flow's first frame" : "hit, cold", n, x, xf,
		       ratio_of(x, xf), t, tf, ratio_of(t, tf));
	}
	/* the same paths judged in full every time: the lookups' own cost */
	printf("\n| path, judged in full (verdict cache off) | XDP ns | XDP floor ns | XDP ratio "
	       "| XDP best ratio | tc ns | tc floor ns | tc ratio | tc best ratio |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	if (path_rows(full, empty, repeat, runs))
		goto fail;
	/* what recording the flows adds, on a cache hit and judged in full */
	printf("\n| path, flow records | XDP ns | XDP ns, no records | XDP added ns "
	       "| tc ns | tc ns, no records | tc added ns |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	if (flow_rows("hit", skel, nf, repeat, runs) || flow_rows("off", full, nffull, repeat, runs))
		goto fail;
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "bench: BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
out:
	empty_bpf__destroy(empty);
	bulkhead_bpf__destroy(nffull);
	bulkhead_bpf__destroy(nf);
	bulkhead_bpf__destroy(full);
	bulkhead_bpf__destroy(skel);
	return ret;
}
