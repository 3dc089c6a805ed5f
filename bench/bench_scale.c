// SPDX-License-Identifier: GPL-2.0
/*
 * bench_scale.c - the verdict paths of bench_verdict as the policy grows:
 * one loaded instance of the programs per policy (YAML written by
 * bench/genpolicy.py, loaded and compiled by the controller's own code),
 * each path timed with BPF_PROG_TEST_RUN through both entry points. The
 * instances are measured in turn, round after round, so that the noise of
 * a shared machine falls on every size alike, and the fastest round
 * counts (noise only ever adds time; the minimum is the steadiest figure).
 *
 *   bench_scale REPEAT RUNS DATAFILE DIM:SIZE:POLICY...
 *
 * DIM is a free word naming the axis (rules, devices); the dimension "ct"
 * loads POLICY and then fills the connection-tracking table with SIZE
 * flows (0: left as the paths leave it). A DIM ending in "-full" (rules-full)
 * loads its instance with the verdict cache off (bh_bench_no_vcache): every
 * frame judged in full, so the lookups themselves meet the grown maps. Output: one Markdown table per
 * dimension and entry point on stdout, cells "ns (ratio to the smallest
 * size of that dimension)"; DATAFILE gets "dim size xdp_ns tc_ns path"
 * lines (tab-separated) for gnuplot.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "paths.h"

#define MAX_CONF	32
#define MAX_RUNS	16

struct conf {
	char dim[16];
	unsigned long size;
	const char *file;
	struct bulkhead_bpf *skel;
	struct bh_maps maps;
	unsigned long ct_flows;		/* counted after the fill */
	__u32 ns[N_PATHS][2][MAX_RUNS];	/* [path][xdp, tc][run] */
	double best[N_PATHS][2];
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc((size_t)n + 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

/* Fill bh_ct with @n flows (udp, 10.x -> 172.16.x) seen now. */
static int fill_ct(struct conf *c, unsigned long n)
{
	struct bh_ct_key k = { .proto = 17 };
	struct bh_ct_val v = { .smac = { 2, 0x20 }, .dmac = { 2, 0x30 } };
	struct timespec ts;
	unsigned long i;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);	/* bh_ct's clock */
	v.last_seen = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	k.saddr[10] = k.saddr[11] = 0xff;
	k.daddr[10] = k.daddr[11] = 0xff;
	k.saddr[12] = 10;
	k.daddr[12] = 172;
	k.daddr[13] = 16;
	for (i = 0; i < n; i++) {
		k.saddr[13] = (__u8)(i >> 16);
		k.saddr[14] = (__u8)(i >> 8);
		k.saddr[15] = (__u8)i;
		k.sport = htons((__u16)(1024 + (i & 0x7fff)));
		k.dport = htons(53);
		if (bpf_map_update_elem(c->maps.ct, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

static unsigned long count_keys(int fd)
{
	struct bh_ct_key cur, next;
	unsigned long n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		n++;
		cur = next;
		prev = &cur;
	}
	return n;
}

/* the instance judges every frame in full: its dimension ends in "-full" */
static bool dim_full(const char *dim)
{
	size_t n = strlen(dim);

	return n > 5 && !strcmp(dim + n - 5, "-full");
}

/* @dim is @base, or @base-full */
static bool dim_is(const char *dim, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(dim, base, n) && (!dim[n] || !strcmp(dim + n, "-full"));
}

static int conf_load(struct conf *c)
{
	size_t len = 0;
	char *yaml = read_file(c->file, &len);
	int ret = 0;

	if (!yaml) {
		fprintf(stderr, "bench_scale: %s: %s\n", c->file, strerror(errno));
		return -errno;
	}
	c->skel = fixture_open_opts(&c->maps, yaml, dim_full(c->dim));
	free(yaml);
	if (!c->skel) {
		fprintf(stderr, "bench_scale: cannot load %s\n", c->file);
		return -EINVAL;
	}
	if (dim_is(c->dim, "ct") && c->size) {
		ret = fill_ct(c, c->size);
		if (ret) {
			fprintf(stderr, "bench_scale: filling bh_ct: %s\n", strerror(-ret));
			return ret;
		}
	}
	ret = bench_prepare(c->skel, &c->maps);
	c->ct_flows = count_keys(c->maps.ct);
	return ret;
}

/* One round: every path of @c once through each entry point. */
static int conf_round(struct conf *c, __u32 repeat, int run)
{
	for (size_t i = 0; i < N_PATHS; i++) {
		const struct path *p = &paths[i];
		int fd[2] = { bpf_program__fd(c->skel->progs.bulkhead_xdp),
			      bpf_program__fd(c->skel->progs.bulkhead_tc_in) };
		__u32 want[2] = { p->pass ? XDP_PASS : XDP_DROP,
				  (__u32)(p->pass ? TC_ACT_UNSPEC : TC_ACT_SHOT) };
		struct frame f;
		__u32 rv;

		p->build(&f);
		for (int e = 0; e < 2; e++) {
			double ns = measure(fd[e], &f, repeat, 1, &rv);

			if (ns < 0)
				return -errno;
			if (rv != want[e])
				fprintf(stderr, "bench_scale: %s %s, %s: unexpected verdict %d\n",
					c->dim, c->file, p->name, (int)rv);
			c->ns[i][e][run] = (__u32)ns;
		}
	}
	return 0;
}

static const char *human(unsigned long n, char *buf, size_t len)
{
	if (n >= 1000 && n % 1024 == 0)
		snprintf(buf, len, "%luk", n / 1024);
	else if (n >= 1000 && n % 1000 == 0)
		snprintf(buf, len, "%luk", n / 1000);
	else
		snprintf(buf, len, "%lu", n);
	return buf;
}

static void table(struct conf *cf, int n, const char *dim, int e)
{
	static const char * const ep[] = { "XDP", "tc" };
	struct conf *base = NULL;
	double worst = 0;
	char b[32];
	int i, ax;

	for (i = 0; i < n; i++)
		if (!strcmp(cf[i].dim, dim) && (!base || cf[i].size < base->size))
			base = &cf[i];
	if (!base)
		return;
	/* the axis is the dimension without its "-full" */
	ax = (int)(dim_full(dim) ? strlen(dim) - 5 : strlen(dim));
	printf("\n%s, by %.*s%s: ns/packet, best of the rounds (ratio to %s %.*s)\n\n| path |",
	       ep[e], ax, dim, dim_full(dim) ? ", judged in full (verdict cache off)" : "",
	       human(base->size, b, sizeof(b)), ax, dim);
	for (i = 0; i < n; i++)
		if (!strcmp(cf[i].dim, dim))
			printf(" %s %.*s |", human(cf[i].size, b, sizeof(b)), ax, dim);
	printf("\n|---|");
	for (i = 0; i < n; i++)
		if (!strcmp(cf[i].dim, dim))
			printf("---:|");
	printf("\n");
	for (size_t p = 0; p < N_PATHS; p++) {
		printf("| %s |", paths[p].name);
		for (i = 0; i < n; i++) {
			double r;

			if (strcmp(cf[i].dim, dim))
				continue;
			r = base->best[p][e] > 0 ? cf[i].best[p][e] / base->best[p][e] : 0;
			if (r > worst)
				worst = r;
			printf(" %.0f (%.2f) |", cf[i].best[p][e], r);
		}
		printf("\n");
	}
	printf("\nLargest ratio, %s by %s: %.2f\n", ep[e], dim, worst);
}

/*
 * The noise floor: instances that loaded the same policy file (and no ct
 * fill), judging alike (both with the cache or both without), differ only
 * by the machine's noise; the largest ratio between them, over every path
 * and entry point.
 */
static void noise(struct conf *cf, int n, bool full)
{
	double worst = 1;
	int same = 0;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			if (i == j || strcmp(cf[i].file, cf[j].file) ||
			    dim_full(cf[i].dim) != full || dim_full(cf[j].dim) != full ||
			    (dim_is(cf[i].dim, "ct") && cf[i].size) ||
			    (dim_is(cf[j].dim, "ct") && cf[j].size))
				continue;
			same = 1;
			for (size_t p = 0; p < N_PATHS; p++)
				for (int e = 0; e < 2; e++)
					if (cf[j].best[p][e] > 0 &&
					    cf[i].best[p][e] / cf[j].best[p][e] > worst)
						worst = cf[i].best[p][e] / cf[j].best[p][e];
		}
	if (same)
		printf("\nNoise%s: instances loaded with the same policy differ by up to %.2f\n",
		       full ? ", judged in full" : "", worst);
}

int main(int argc, char **argv)
{
	static struct conf cf[MAX_CONF];
	__u32 repeat;
	FILE *data;
	int runs, n = 0, ret = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_scale REPEAT RUNS DATAFILE DIM:SIZE:POLICY...\n");
		return 1;
	}
	repeat = (__u32)strtoul(argv[1], NULL, 0);
	if (argc - 4 > MAX_CONF) {
		fprintf(stderr, "bench_scale: at most %d DIM:SIZE:POLICY\n", MAX_CONF);
		return 1;
	}
	runs = atoi(argv[2]);
	if (runs < 1 || runs > MAX_RUNS)
		runs = 5;
	for (int a = 4; a < argc && n < MAX_CONF; a++, n++) {
		char *s = argv[a], *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2 || (size_t)(c1 - s) >= sizeof(cf[n].dim)) {
			fprintf(stderr, "bench_scale: '%s' is not DIM:SIZE:POLICY\n", s);
			return 1;
		}
		memcpy(cf[n].dim, s, (size_t)(c1 - s));
		cf[n].size = strtoul(c1 + 1, NULL, 0);
		cf[n].file = c2 + 1;
		fprintf(stderr, "  LOAD     %s %lu (%s)\n", cf[n].dim, cf[n].size, cf[n].file);
		if (conf_load(&cf[n]))
			return 2;
	}

	for (int r = 0; r < runs; r++)
		for (int i = 0; i < n; i++)
			if (conf_round(&cf[i], repeat, r)) {
				fprintf(stderr, "bench_scale: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
				return 2;
			}
	for (int i = 0; i < n; i++)
		for (size_t p = 0; p < N_PATHS; p++)
			for (int e = 0; e < 2; e++) {
				qsort(cf[i].ns[p][e], (size_t)runs, sizeof(__u32), cmp_u32);
				cf[i].best[p][e] = cf[i].ns[p][e][0];
			}

	data = fopen(argv[3], "w");
	if (!data) {
		fprintf(stderr, "bench_scale: %s: %s\n", argv[3], strerror(errno));
		ret = 2;
		goto out;
	}
	for (int i = 0; i < n; i++)
		for (size_t p = 0; p < N_PATHS; p++)
			fprintf(data, "%s\t%lu\t%.0f\t%.0f\t%s\n", cf[i].dim, cf[i].size,
				cf[i].best[p][0], cf[i].best[p][1], paths[p].name);
	fclose(data);

	for (int i = 0; i < n; i++) {
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen |= !strcmp(cf[j].dim, cf[i].dim);
		if (seen)
			continue;
		table(cf, n, cf[i].dim, 0);
		table(cf, n, cf[i].dim, 1);
	}
	noise(cf, n, false);
	noise(cf, n, true);
	for (int i = 0; i < n; i++)
		if (dim_is(cf[i].dim, "ct"))
			printf("\n%s %lu: %lu flows in bh_ct when measured\n", cf[i].dim, cf[i].size,
			       cf[i].ct_flows);
out:
	for (int i = 0; i < n; i++)
		bulkhead_bpf__destroy(cf[i].skel);
	return ret;
}
