// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - test_verdict: the verdict core (bpf/verdict.h) through
 * BPF_PROG_TEST_RUN, table-driven. The policy is written by hand into the
 * maps with the ABI structs of bulkhead_abi.h (no compiler involved), so a
 * failure here is the dataplane's. Every row is one named cmocka test: a
 * frame, the verdict and the reason it must get; it runs through native XDP
 * (bulkhead_xdp) and tc ingress (bulkhead_tc_in), each time asserting the
 * return code, that bh_stats[reason] rose by exactly one and no other
 * reason counter moved, and (where given) that the deciding rule's
 * bh_rulestats counter rose by one. Stateful rows (replies, later
 * fragments) first send their opening frames through the same program,
 * with bh_ct and bh_frag cleared before each program, so each entry point
 * proves the state it needs on its own.
 *
 * Each area of the verdict is a file of its own (see verdict.h); this one
 * runs them all as one cmocka group over one load of the objects, then the
 * verdict cache's group.
 *
 * Build: make build/selftests/test_verdict; run with
 * CMOCKA_MESSAGE_OUTPUT=TAP for TAP output. An argument is a name pattern
 * (cmocka's: * and ?): only the tests whose names match run.
 */
#include "verdict.h"

/* in the order they run; the table rows of every area first */
static const struct verdict_area *const areas[] = {
	&verdict_ct, &verdict_quarantine, &verdict_rules, &verdict_parse, &verdict_ipv6,
	&verdict_events, &verdict_claims, &verdict_flood, &verdict_detect, &verdict_pin,
};

int main(int argc, char **argv)
{
	struct CMUnitTest *tests;
	size_t n = 0, i, a;
	int ret;

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	for (a = 0; a < ARRAY_SIZE(areas); a++)
		n += areas[a]->n_rows + areas[a]->n_tests;
	tests = calloc(n, sizeof(*tests));
	if (!tests)
		return 1;
	n = 0;
	for (a = 0; a < ARRAY_SIZE(areas); a++) {
		for (i = 0; i < areas[a]->n_rows; i++, n++) {
			tests[n].name = areas[a]->rows[i].name;
			tests[n].test_func = row_test;
			tests[n].setup_func = row_setup;
			tests[n].teardown_func = row_teardown;
			tests[n].initial_state = (void *)&areas[a]->rows[i];
		}
	}
	for (a = 0; a < ARRAY_SIZE(areas); a++) {
		memcpy(tests + n, areas[a]->tests, areas[a]->n_tests * sizeof(*tests));
		n += areas[a]->n_tests;
	}
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	ret = _cmocka_run_group_tests("verdict", tests, n, group_setup, group_teardown);
	free(tests);
	ret = verdict_cache_tests() || ret;
	return verdict_flow_tests() || ret;
}
