/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blocklist.h - the C&C blocklist file (detect.blocklist in the policy):
 * addresses and CIDRs, one a line, loaded into the dataplane's LPM trie
 * bh_block, where bh_block_hit() finds them (bpf/lib/detect.h).
 *
 * The format of the common IP blocklists: FireHOL's netsets ("1.2.3.0/24"),
 * Spamhaus DROP/EDROP ("1.2.3.0/24 ; SBL123", header lines starting with
 * ';'), plain address lists. '#' and ';' start a comment anywhere on a line;
 * blank lines are skipped; IPv4 and IPv6; a bare address is a /32 or /128.
 * Duplicates and overlapping prefixes are fine (the trie's longest match).
 */
#ifndef BH_BLOCKLIST_H
#define BH_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "policy.h"
#include "../bpf/bulkhead_abi.h"

#define BH_BLOCKLIST_LINE_MAX	1024		/* longer lines are bad lines */
#define BH_BLOCKLIST_FILE_MAX	(16u << 20)	/* bytes read from one file */
#define BH_BLOCKLIST_MIN_V4	8		/* shorter prefixes are refused: */
#define BH_BLOCKLIST_MIN_V6	16		/* a typo must not block the internet */

struct bh_block_ent {
	struct bh_cidr cidr;	/* host bits cleared */
	unsigned int line;	/* in the file read (the bh_block value) */
};

struct bh_blocklist {
	struct bh_block_ent *v;	/* sorted by address then prefix length, no repeats */
	size_t n;
	size_t n_bad;		/* bad lines skipped (diagnostics: the first 16) */
	size_t n_dup;		/* entries given more than once, kept once */
};

/*
 * Parse @len bytes of a blocklist called @name. A bad line is skipped and
 * reported in @d as "name:line: what" (n_bad counts them all); an entry
 * with host bits set is used without them, with a warning. At most
 * BH_MAX_BLOCK entries: the lines past it are bad lines. 0 or -ENOMEM.
 * Free with bh_blocklist_free().
 */
int bh_blocklist_parse(const char *name, const char *buf, size_t len,
		       struct bh_blocklist *out, struct bh_diag *d);
/* Read and parse @path (at most BH_BLOCKLIST_FILE_MAX bytes). 0 or -errno. */
int bh_blocklist_read(const char *path, struct bh_blocklist *out, struct bh_diag *d);
void bh_blocklist_free(struct bh_blocklist *b);

/* The entry @a falls in (the longest prefix), or NULL: what bh_block_hit() finds. */
const struct bh_block_ent *bh_blocklist_match(const struct bh_blocklist *b,
					      const struct bh_addr *a);
/* The entry as a bh_block key. */
void bh_blocklist_key(const struct bh_block_ent *e, struct bh_block_key *k);

/*
 * Make the LPM map @fd (bh_block) hold @b, where it held @old (NULL: it is
 * empty): every entry of @b written first, then the entries of @old that
 * @b lacks deleted, so an address listed before and after is never
 * unlisted in between. The caller bumps bh_vepoch afterwards (a cached
 * verdict of a now-listed flow must not outlive the load). 0 or -errno
 * (the map then holds @b's entries written so far and all of @old's).
 */
int bh_blocklist_sync(int fd, const struct bh_blocklist *b, const struct bh_blocklist *old);

#endif /* BH_BLOCKLIST_H */
