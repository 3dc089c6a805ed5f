// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_flowline.c - libFuzzer harness for the flow record line parser
 * (userspace/flowlog.c): any byte string is a record or a reason, without
 * a crash or undefined behaviour; a record writes back to a line that
 * parses to the same record, and an aggregating set of it stays whole.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bh_flow_rec r, back;
	struct bh_flow_set s = { 0 };
	char line[BH_FLOWS_LINE_MAX];
	const char *why = NULL;
	int n;

	if (bh_flow_line_parse((const char *)data, size, &r, &why)) {
		if (!why || !*why)
			abort();
		return 0;
	}
	n = bh_flow_line_format(&r, line, sizeof(line));
	if (n < 0 || bh_flow_line_parse(line, (size_t)n, &back, &why) ||
	    memcmp(&r, &back, sizeof(r)))
		abort();
	if (bh_flow_set_add(&s, &r) || bh_flow_set_add(&s, &back) || s.n != 1 ||
	    bh_flow_set_find(&s, &r.key) != &s.v[0] ||
	    s.v[0].packets != r.packets * 2)
		abort();
	bh_flow_set_free(&s);
	return 0;
}
