// SPDX-License-Identifier: GPL-2.0
/*
 * test_flows.c - unit tests of the flow history and its views (cmocka;
 * also built with ASan+UBSan): the record lines both ways, bad and torn
 * lines skipped with "file:line: what", deltas across drains with entries
 * evicted and made again (never counted twice, never lost), a restart and
 * a reboot, the day and byte bounds, --since and --device, the table, the
 * matrix and the JSON of `bulkhead flows`.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "flowlog.h"
#include "flows.h"
#include "leases.h"
#include "policy.h"

#define DAY	86400ULL
#define T0	(20000 * DAY)		/* 2024-10-04 00:00 UTC */
#define NS	1000000000ULL

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bh-flows.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct bh_flow_key key(const char *smac, __u8 kind, const char *dmac,
			      const char *daddr, __u8 proto, __u16 port, __u8 verdict)
{
	struct bh_flow_key k = { .kind = kind, .proto = proto, .port = port, .verdict = verdict };
	struct bh_cidr c;

	assert_int_equal(bh_parse_mac(smac, k.smac), 0);
	if (dmac)
		assert_int_equal(bh_parse_mac(dmac, k.dmac), 0);
	assert_int_equal(bh_parse_cidr(daddr, &c), 0);
	memcpy(k.daddr, c.addr.a, 16);
	if (c.addr.v4)
		k.flags |= BH_FLOW_F_V4;
	if (kind == BH_FK_INTERNET)
		k.plen = c.plen;
	return k;
}

static const char *A = "02:00:00:00:00:0a", *B = "02:00:00:00:00:0b", *C = "02:00:00:00:00:0c";

/* ---- lines ---------------------------------------------------------------- */

static void test_line_roundtrip(void **state)
{
	struct bh_flow_rec in[4] = {
		{ key(A, BH_FK_DEVICE, B, "192.168.1.11", IPPROTO_TCP, 554, BH_FV_PASS), 0, 100, 200, 7, 900 },
		{ key(A, BH_FK_INTERNET, NULL, "2001:db8:1::/48", IPPROTO_UDP, 443, BH_FV_WOULD_DROP),
		  0, 5, 5, 1, 1 },
		{ key(B, BH_FK_MULTICAST, NULL, "224.0.0.251", IPPROTO_UDP, 5353, BH_FV_DROP), 0, 0, 0, 0, 0 },
		{ key(B, BH_FK_GATEWAY, NULL, "192.168.1.1", 47, 0, BH_FV_PASS), 0, 1, 2,
		  UINT64_MAX, UINT64_MAX },
	};
	char line[BH_FLOWS_LINE_MAX];
	struct bh_flow_rec out;
	const char *why;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		int n = bh_flow_line_format(&in[i], line, sizeof(line));

		assert_true(n > 0);
		assert_int_equal(bh_flow_line_parse(line, (size_t)n, &out, &why), 0);
		assert_memory_equal(&out, &in[i], sizeof(out));
	}
	bh_flow_line_format(&in[1], line, sizeof(line));
	assert_string_equal(line, "5\t5\t02:00:00:00:00:0a\tinternet\t-\t2001:db8:1::/48\tudp\t443\twould_drop\t1\t1");
	/* ARP: proto and port 0, the flag */
	snprintf(line, sizeof(line), "1\t2\t%s\tdevice\t%s\t10.0.0.2\tarp\t0\tdrop\t3\t180", A, B);
	assert_int_equal(bh_flow_line_parse(line, strlen(line), &out, &why), 0);
	assert_true(out.key.flags & BH_FLOW_F_ARP);
	assert_int_equal(out.key.proto, 0);
	assert_int_equal(bh_flow_line_format(&out, line, 10), -ENOSPC);
}

static void test_bad_lines(void **state)
{
	static const struct { const char *line, *why; } bad[] = {
		{ "1\t2\t3", "expected 11 tab-separated fields" },
		{ "1\t2\t02:00:00:00:00:0a\tdevice\t02:00:00:00:00:0b\t10.0.0.2\ttcp\t80\tpass\t1\t1\textra",
		  "expected 11 tab-separated fields" },
		{ "2\t1\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.1\ttcp\t80\tpass\t1\t1", "bad first or last seen time" },
		{ "-1\t1\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.1\ttcp\t80\tpass\t1\t1", "bad first or last seen time" },
		{ "1\t2\t01:00:5e:00:00:fb\tgateway\t-\t10.0.0.1\ttcp\t80\tpass\t1\t1", "bad source MAC" },
		{ "1\t2\t02:00:00:00:00:0a\tplanet\t-\t10.0.0.1\ttcp\t80\tpass\t1\t1", "unknown destination kind" },
		{ "1\t2\t02:00:00:00:00:0a\tgateway\t02:00:00:00:00:0b\t10.0.0.1\ttcp\t80\tpass\t1\t1",
		  "bad destination MAC (a device's, else '-')" },
		{ "1\t2\t02:00:00:00:00:0a\tinternet\t-\t203.0.113.7/24\ttcp\t80\tpass\t1\t1",
		  "an internet destination must be a CIDR with its host bits zero" },
		{ "1\t2\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.300\ttcp\t80\tpass\t1\t1", "bad destination address" },
		{ "1\t2\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.1\t6\t80\tpass\t1\t1", "bad protocol" },
		{ "1\t2\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.1\ttcp\t65536\tpass\t1\t1", "bad port or ICMP type" },
		{ "1\t2\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.1\ticmp\t300\tpass\t1\t1", "bad port or ICMP type" },
		{ "1\t2\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.1\ttcp\t80\tmaybe\t1\t1", "unknown verdict" },
		{ "1\t2\t02:00:00:00:00:0a\tgateway\t-\t10.0.0.1\ttcp\t80\tpass\t1\t99999999999999999999",
		  "bad packet or byte count" },
	};
	struct bh_flow_rec r;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(bh_flow_line_parse(bad[i].line, strlen(bad[i].line), &r, &why), -EINVAL);
		assert_string_equal(why, bad[i].why);
	}
	assert_int_equal(bh_flow_line_parse("1\t2\0x", 5, &r, &why), -EINVAL);
	assert_string_equal(why, "a NUL byte in the line");
}

/* ---- the store ---------------------------------------------------------------- */

static struct bh_flow_entry ent(struct bh_flow_key k, __u64 first_s, __u64 last_s,
				__u64 packets, __u64 bytes)
{
	return (struct bh_flow_entry){ k, { first_s * NS, last_s * NS, packets, bytes } };
}

/* the one record of key @k read back from the history, all of it */
static struct bh_flow_rec read_one(const struct bh_flow_key *k, size_t *n_bad)
{
	struct bh_flow_set s = { 0 };
	const struct bh_flow_rec *r;
	struct bh_flow_rec out = { 0 };

	assert_int_equal(bh_flowlog_read(dir, 0, NULL, &s, NULL), 0);
	r = bh_flow_set_find(&s, k);
	if (r)
		out = *r;
	if (n_bad)
		*n_bad = s.n_bad;
	bh_flow_set_free(&s);
	return out;
}

/* time is "monotonic seconds since boot"; the offset puts boot at T0 */
#define OFF	((__s64)(T0 * NS))

static void test_drain_deltas(void **state)
{
	struct bh_flow_key k = key(A, BH_FK_DEVICE, B, "192.168.1.11", IPPROTO_TCP, 554, BH_FV_PASS);
	struct bh_flow_key k2 = key(B, BH_FK_GATEWAY, NULL, "192.168.1.1", IPPROTO_UDP, 53, BH_FV_PASS);
	struct bh_flow_ctr ctr = { .created = 5, .failed = 1 };
	struct bh_flowlog *fl;
	struct bh_flow_entry e[2];
	struct bh_flow_rec r;

	(void)state;
	assert_int_equal(bh_flowlog_open(dir, NULL, "boot-1", &fl), 0);
	e[0] = ent(k, 100, 110, 10, 1000);
	e[1] = ent(k2, 100, 100, 1, 60);
	assert_int_equal(bh_flowlog_drain(fl, e, 2, &ctr, OFF, T0 + 120), 0);
	/* the same entries, grown: only the growth is new */
	e[0] = ent(k, 100, 170, 15, 1500);
	assert_int_equal(bh_flowlog_drain(fl, e, 2, NULL, OFF, T0 + 180), 0);
	r = read_one(&k, NULL);
	assert_int_equal(r.packets, 15);
	assert_int_equal(r.bytes, 1500);
	assert_int_equal(r.first, T0 + 100);
	assert_int_equal(r.last, T0 + 170);
	assert_int_equal(read_one(&k2, NULL).packets, 1);	/* unchanged: no line */
	/* evicted and made again with fewer counts: all 3 are new */
	e[0] = ent(k, 200, 210, 3, 300);
	assert_int_equal(bh_flowlog_drain(fl, e, 1, NULL, OFF, T0 + 240), 0);
	assert_int_equal(read_one(&k, NULL).packets, 18);
	/* made again with more counts than before: all 20 are new, not 17 */
	e[0] = ent(k, 260, 290, 20, 2000);
	assert_int_equal(bh_flowlog_drain(fl, e, 1, NULL, OFF, T0 + 300), 0);
	r = read_one(&k, NULL);
	assert_int_equal(r.packets, 38);
	assert_int_equal(r.bytes, 3800);
	assert_int_equal(r.last, T0 + 290);
	assert_int_equal(bh_flowlog_stats(fl)->recreated, 2);
	assert_int_equal(bh_flowlog_stats(fl)->evicted, 3);	/* 5 made, 2 present */
	assert_int_equal(bh_flowlog_stats(fl)->failed, 1);
	bh_flowlog_close(fl);

	/* a restart: the cursor remembers, nothing is counted twice */
	assert_int_equal(bh_flowlog_open(dir, NULL, "boot-1", &fl), 0);
	assert_int_equal(bh_flowlog_stats(fl)->recreated, 2);
	e[0] = ent(k, 260, 350, 21, 2100);
	assert_int_equal(bh_flowlog_drain(fl, e, 1, NULL, OFF, T0 + 360), 0);
	assert_int_equal(read_one(&k, NULL).packets, 39);
	bh_flowlog_close(fl);

	/* a reboot: a new map whose entries are all new, even at equal times */
	assert_int_equal(bh_flowlog_open(dir, NULL, "boot-2", &fl), 0);
	e[0] = ent(k, 260, 350, 21, 2100);
	assert_int_equal(bh_flowlog_drain(fl, e, 1, NULL, OFF + 1000 * (__s64)NS, T0 + 1400), 0);
	assert_int_equal(read_one(&k, NULL).packets, 60);
	bh_flowlog_close(fl);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/flows/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_corrupt_and_torn(void **state)
{
	struct bh_flow_key k = key(A, BH_FK_GATEWAY, NULL, "192.168.1.1", IPPROTO_UDP, 53, BH_FV_PASS);
	struct bh_flowlog *fl;
	struct bh_flow_entry e = ent(k, 10, 20, 4, 400);
	struct bh_flow_set s = { 0 };
	struct bh_diag d = { 0 };
	char name[16], path[160];
	size_t n_bad;
	FILE *f;

	(void)state;
	assert_int_equal(bh_flowlog_open(dir, NULL, NULL, &fl), 0);
	assert_int_equal(bh_flowlog_drain(fl, &e, 1, NULL, OFF, T0 + 30), 0);
	/* a crash in the middle of the next append */
	snprintf(name, sizeof(name), "2024-10-04");
	snprintf(path, sizeof(path), "%s/flows/%s", dir, name);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("garbage line\n\n# a comment\n40\t50\t02:00:00:00:00:0a\tgateway\t-\t192.168.1.1\tudp\t53\tpass\t1\t1", f);
	fclose(f);
	/* and a file of another format, and one of no day */
	write_file("2024-10-03", "# bulkhead flows 9\n1\t2\t3\n");
	write_file("notes", "not read\n");

	assert_int_equal(bh_flowlog_read(dir, 0, NULL, &s, &d), 0);
	assert_int_equal(s.n_bad, 3);
	assert_int_equal(d.n, 3);
	assert_non_null(strstr(d.msg[0], "/flows/2024-10-03:1: not a flow file of this version "
				   "(expected '# bulkhead flows 1'), skipped"));
	assert_non_null(strstr(d.msg[1], "/flows/2024-10-04:3: expected 11 tab-separated fields"));
	assert_non_null(strstr(d.msg[2], "/flows/2024-10-04:6: truncated line (no newline)"));
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].packets, 4);	/* the torn line is not counted */
	bh_flow_set_free(&s);

	/* the next drain cuts the torn line off and appends after it */
	e = ent(k, 10, 60, 9, 900);
	assert_int_equal(bh_flowlog_drain(fl, &e, 1, NULL, OFF, T0 + 70), 0);
	assert_int_equal(read_one(&k, &n_bad).packets, 9);
	assert_int_equal(n_bad, 2);
	bh_flowlog_close(fl);
}

static size_t count_files(size_t *bytes)
{
	char path[128];
	struct stat st;
	size_t n = 0;

	*bytes = 0;
	for (__u64 day = 19990; day < 20010; day++)
		for (unsigned int part = 0; part < 64; part++) {
			time_t t = (time_t)(day * DAY);
			struct tm tm;
			char d[16];

			gmtime_r(&t, &tm);
			strftime(d, sizeof(d), "%Y-%m-%d", &tm);
			if (part)
				snprintf(path, sizeof(path), "%s/flows/%s.%u", dir, d, part);
			else
				snprintf(path, sizeof(path), "%s/flows/%s", dir, d);
			if (!stat(path, &st)) {
				n++;
				*bytes += (size_t)st.st_size;
			}
		}
	return n;
}

static void test_bound_days(void **state)
{
	struct bh_flowlog_cfg cfg = { .keep_days = 3 };
	struct bh_flow_key k = key(A, BH_FK_DEVICE, C, "10.0.0.12", IPPROTO_TCP, 80, BH_FV_PASS);
	struct bh_flowlog *fl;
	struct bh_flow_entry e;
	size_t bytes;

	(void)state;
	assert_int_equal(bh_flowlog_open(dir, &cfg, NULL, &fl), 0);
	for (__u64 day = 0; day < 5; day++) {
		e = ent(k, 10, 10 + day * DAY, day + 1, 100 * (day + 1));
		assert_int_equal(bh_flowlog_drain(fl, &e, 1, NULL, OFF, T0 + day * DAY + 100), 0);
	}
	assert_int_equal(count_files(&bytes), 3);	/* days 2, 3, 4 */
	assert_int_equal(bh_flowlog_stats(fl)->files_dropped, 2);
	assert_int_equal(read_one(&k, NULL).packets, 5 - 2);	/* 1 a day, the first two dropped */
	bh_flowlog_close(fl);
}

static void test_bound_bytes(void **state)
{
	struct bh_flowlog_cfg cfg = { .keep_days = 30, .max_bytes = 16384 };
	struct bh_flowlog *fl;
	struct bh_flow_entry e[40];
	struct bh_flow_set s = { 0 };
	size_t bytes, files;
	char mac[18];

	(void)state;
	assert_int_equal(bh_flowlog_open(dir, &cfg, NULL, &fl), 0);
	for (int round = 1; round <= 60; round++) {
		for (int i = 0; i < 40; i++) {
			snprintf(mac, sizeof(mac), "02:00:00:00:01:%02x", i);
			e[i] = ent(key(mac, BH_FK_INTERNET, NULL, "198.51.100.0/24", IPPROTO_TCP, 443,
				       BH_FV_PASS), 1, (__u64)round * 10, (__u64)round, (__u64)round * 100);
		}
		assert_int_equal(bh_flowlog_drain(fl, e, 40, NULL, OFF, T0 + DAY / 2 + round * 10), 0);
	}
	files = count_files(&bytes);
	assert_true(bytes <= cfg.max_bytes);
	assert_true(files >= 2);		/* parts of one day */
	assert_true(bh_flowlog_stats(fl)->files_dropped > 0);
	/* the newest drain is all there */
	assert_int_equal(bh_flowlog_read(dir, T0 + 600, NULL, &s, NULL), 0);
	assert_int_equal(s.n, 40);
	assert_int_equal(s.v[0].last, T0 + 600);
	bh_flow_set_free(&s);
	bh_flowlog_close(fl);
}

static void test_since_and_device(void **state)
{
	struct bh_flow_key ka = key(A, BH_FK_DEVICE, B, "10.0.0.11", IPPROTO_TCP, 22, BH_FV_DROP);
	struct bh_flow_key kc = key(C, BH_FK_GATEWAY, NULL, "10.0.0.1", IPPROTO_UDP, 123, BH_FV_PASS);
	struct bh_flowlog *fl;
	struct bh_flow_entry e[2];
	struct bh_flow_set s = { 0 };
	__u8 mac[6];

	(void)state;
	assert_int_equal(bh_flowlog_open(dir, NULL, NULL, &fl), 0);
	e[0] = ent(ka, 10, 20, 1, 60);
	e[1] = ent(kc, 10, 20, 1, 60);
	assert_int_equal(bh_flowlog_drain(fl, e, 2, NULL, OFF, T0 + 30), 0);
	e[1] = ent(kc, 10, 2 * DAY, 2, 120);
	assert_int_equal(bh_flowlog_drain(fl, e, 2, NULL, OFF, T0 + 2 * DAY + 10), 0);
	bh_flowlog_close(fl);

	/* since a day ago: only C's second line */
	assert_int_equal(bh_flowlog_read(dir, T0 + DAY, NULL, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(&s.v[0].key, &kc, sizeof(kc));
	assert_int_equal(s.v[0].packets, 1);
	bh_flow_set_free(&s);
	/* device B: A's flow to B (B as destination) */
	assert_int_equal(bh_parse_mac(B, mac), 0);
	assert_int_equal(bh_flowlog_read(dir, 0, mac, &s, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_memory_equal(&s.v[0].key, &ka, sizeof(ka));
	bh_flow_set_free(&s);
}

/* ---- the views -------------------------------------------------------------------- */

static const char views_policy[] =
	"version: 1\n"
	"interfaces: [br-lan]\n"
	"groups:\n"
	"  cameras:\n"
	"    members: [{mac: \"02:00:00:00:00:0a\", name: porch-cam}]\n"
	"  nvr:\n"
	"    members: [{mac: \"02:00:00:00:00:0b\"}]\n";

static char *print(const struct bh_flow_set *s, const struct bh_flow_names *nm,
		   enum bh_flows_view v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(bh_flows_print(f, s, nm, v), 0);
	fclose(f);
	if (getenv("BH_SHOW"))
		fputs(buf, stderr);
	return buf;
}

static void test_views(void **state)
{
	static const char leases[] = "0 02:00:00:00:00:0c 192.168.1.12 living-tv *\n";
	struct bh_flow_rec r[] = {
		{ key(A, BH_FK_DEVICE, B, "192.168.1.11", IPPROTO_TCP, 554, BH_FV_PASS), 0,
		  T0 - 7200, T0 - 300, 10, 1200 },
		{ key(C, BH_FK_MULTICAST, NULL, "224.0.0.251", IPPROTO_UDP, 5353, BH_FV_WOULD_DROP), 0,
		  T0 - 60, T0, 4, 400 },
		{ key(C, BH_FK_DEVICE, A, "192.168.1.10", IPPROTO_TCP, 80, BH_FV_DROP), 0,
		  T0 - 90000, T0 - 90000, 3, 180 },
		{ key(C, BH_FK_INTERNET, NULL, "203.0.113.0/24", IPPROTO_TCP, 443, BH_FV_PASS), 0,
		  T0 - 10, T0 - 10, 1, 60 },
	};
	struct bh_flow_set s = { 0 };
	struct bh_flow_names nm = { .now = T0 };
	struct bh_policy *p = NULL;
	struct bh_leases l;
	struct bh_diag d = { 0 };
	__u8 mac[6];
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		assert_int_equal(bh_flow_set_add(&s, &r[i]), 0);
	assert_int_equal(bh_policy_load_buf("p.yaml", views_policy, sizeof(views_policy) - 1, &p, &d), 0);
	assert_int_equal(bh_leases_parse("L", leases, sizeof(leases) - 1, &l, &d), 0);
	bh_leases_live(&l, 0);
	nm.policy = p;
	nm.leases = &l;

	out = print(&s, &nm, BH_FLOWS_TABLE);
	assert_string_equal(out,
		"SOURCE     DESTINATION              PROTO/PORT   VERDICT       PACKETS        BYTES  FIRST        LAST\n"
		"living-tv  internet 203.0.113.0/24  tcp/443      pass                1           60  10s ago      10s ago\n"
		"living-tv  multicast 224.0.0.251    udp/5353     would-drop          4          400  1m ago       now\n"
		"living-tv  porch-cam                tcp/80       DENIED              3          180  1d1h ago     1d1h ago\n"
		"porch-cam  02:00:00:00:00:0b        tcp/554      pass               10         1200  2h ago       5m ago\n");
	free(out);

	out = print(&s, &nm, BH_FLOWS_MATRIX);
	assert_non_null(strstr(out, "                        1   2   3 gw inet mcast lan\n"
				    "  1 02:00:00:00:00:0b   .   .   .  .    .     .   .\n"
				    "  2 living-tv           .   .   x  .    +     !   .\n"
				    "  3 porch-cam           +   .   .  .    .     .   .\n"));
	free(out);

	out = print(&s, &nm, BH_FLOWS_JSON);
	assert_true(!strncmp(out, "{\"flows\":[{\"src\":", 17));
	assert_non_null(strstr(out, "{\"src\":{\"mac\":\"02:00:00:00:00:0c\",\"name\":\"living-tv\","
				    "\"group\":\"unknown\"},\"dst\":{\"kind\":\"multicast\",\"addr\":\"224.0.0.251\"},"
				    "\"proto\":\"udp\",\"port\":5353,\"verdict\":\"would_drop\""));
	assert_non_null(strstr(out, "\"dst\":{\"kind\":\"device\",\"mac\":\"02:00:00:00:00:0a\",\"name\":\"porch-cam\","
				    "\"group\":\"cameras\",\"addr\":\"192.168.1.10\"}"));
	assert_non_null(strstr(out, "],\"bad_lines\":0}\n"));
	free(out);

	/* --device by MAC, member name, host name */
	assert_int_equal(bh_flows_find_device(&nm, "porch-cam", mac), 0);
	assert_memory_equal(mac, "\x02\0\0\0\0\x0a", 6);
	assert_int_equal(bh_flows_find_device(&nm, "living-tv", mac), 0);
	assert_memory_equal(mac, "\x02\0\0\0\0\x0c", 6);
	assert_int_equal(bh_flows_find_device(&nm, "02-00-00-00-00-99", mac), 0);
	assert_int_equal(bh_flows_find_device(&nm, "fridge", mac), -ENOENT);

	/* empty */
	bh_flow_set_free(&s);
	out = print(&s, &nm, BH_FLOWS_TABLE);
	assert_non_null(strstr(out, "no flows recorded\n"));
	free(out);
	bh_leases_free(&l);
	bh_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_roundtrip),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test_setup_teardown(test_drain_deltas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_and_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_days, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since_and_device, setup, teardown),
		cmocka_unit_test(test_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
