/* SPDX-License-Identifier: GPL-2.0 */
/*
 * leases.h - dnsmasq's DHCP lease file: host names for devices, and the
 * leased IPv4 address bound to the leaseholder's MAC (anti-spoofing) while
 * the lease lasts. Pure: no kernel access, unit-tested as is.
 *
 * dnsmasq writes one lease a line, "EXPIRY MAC IP HOSTNAME CLIENT-ID"
 * (EXPIRY in seconds since the epoch, 0: never; HOSTNAME "*" when unknown);
 * after a "duid ..." line come its DHCPv6 leases, "EXPIRY IAID IPV6
 * HOSTNAME CLIENT-ID", which name no MAC and are skipped.
 */
#ifndef BH_LEASES_H
#define BH_LEASES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "policy.h"

#define BH_LEASES_FILE		"leases"	/* state dir: the leases in force */
#define BH_LEASE_HOST_MAX	63		/* longer names are cut */
#define BH_LEASE_LINE_MAX	1024		/* longer lines are bad lines */
#define BH_LEASES_MAX		8192		/* leases read from one file */
#define BH_LEASES_FILE_MAX	(4u << 20)	/* bytes read from one file */

struct bh_lease {
	__u8 mac[6];
	__u8 ip[4];
	__u64 expiry;			/* CLOCK_REALTIME seconds; 0: never */
	char host[BH_LEASE_HOST_MAX + 1];	/* printable ASCII only; "": none */
	unsigned int line;		/* in the file read */
};

struct bh_leases {
	struct bh_lease *v;
	size_t n;
	size_t n_v6;			/* DHCPv6 lines skipped */
	size_t n_bad;			/* bad lines skipped (diagnostics: the first 16) */
};

/*
 * Parse @len bytes of a lease file called @name. Bad lines are skipped and
 * reported in @d as "name:line: what"; so are the lines past BH_LEASES_MAX.
 * 0 or -ENOMEM. Free with bh_leases_free().
 */
int bh_leases_parse(const char *name, const char *buf, size_t len,
		    struct bh_leases *out, struct bh_diag *d);
/* Read and parse @path (at most BH_LEASES_FILE_MAX bytes). 0 or -errno. */
int bh_leases_read(const char *path, struct bh_leases *out, struct bh_diag *d);
void bh_leases_free(struct bh_leases *l);

/*
 * Keep the leases that last past @now (0: keep every one), sorted by MAC
 * then address, without repeats of a (MAC, address) pair (the longest
 * lease stays).
 */
void bh_leases_live(struct bh_leases *l, __u64 now);
/*
 * Now, in seconds of CLOCK_REALTIME read precisely: time() reads the
 * coarse clock, a tick behind a timerfd that fired at a lease's end.
 */
__u64 bh_leases_now(void);
/* The next end of a lease after @now, 0: none. */
__u64 bh_leases_next_expiry(const struct bh_leases *l, __u64 now);
/* Whether two live lease sets hold the same (MAC, address) pairs. */
bool bh_leases_same_bindings(const struct bh_leases *a, const struct bh_leases *b);
/* A live set's host name for @mac, NULL when none (binary search). */
const char *bh_leases_host(const struct bh_leases *l, const __u8 mac[6]);
/* A live set in dnsmasq's format (malloc'd, NUL-terminated), for the state dir. */
char *bh_leases_format(const struct bh_leases *l, size_t *len);

/*
 * Bind each lease of the live set @l into @p: the leased address is added
 * to the member of that MAC when it has no fixed IPv4 address, or to a new
 * member of the unknown group when the MAC is in no group. Skipped with a
 * warning in @d: an address that is another member's fixed binding (fixed
 * wins), an address leased to two MACs (the first MAC keeps it), and what
 * would overflow the maps. Returns the number of addresses bound, or
 * -ENOMEM (then @p may hold some of them; free it).
 */
int bh_leases_bind(struct bh_policy *p, const struct bh_leases *l, struct bh_diag *d);

/* The leases saved in @state_dir with the applied policy, as a live set
 * (none when there is no such file). 0 or -errno. */
int bh_leases_saved(const char *state_dir, struct bh_leases *l);

/* Copy @s into @out (@len bytes) with every byte outside 0x21-0x7e as '?'. */
void bh_leases_sanitize(const char *s, size_t n, char *out, size_t len);

#endif /* BH_LEASES_H */
