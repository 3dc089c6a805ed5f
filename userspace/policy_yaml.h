/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy_yaml.h - what policy.c and policy_yaml.c share: the YAML document
 * (policy_yaml.c builds and walks it), the loader's state, and the
 * diagnostics macro. Not for other files: they see policy.h.
 */
#ifndef BH_POLICY_YAML_H
#define BH_POLICY_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "policy.h"

/*
 * The document, built by one pass over libyaml's events: nodes in one
 * array, the children of lists and mappings as indices in another (a
 * mapping's keys and values alternate), scalars in blocks of strings.
 */
struct ynode {
	unsigned char type;	/* YAML_SCALAR_NODE, _SEQUENCE_NODE, _MAPPING_NODE */
	bool plain;		/* a scalar in plain style */
	unsigned int line;	/* 0-based, as libyaml's marks */
	unsigned int col;
	unsigned int n;		/* items of a list, pairs of a mapping */
	union {
		const char *s;		/* a scalar's value */
		unsigned int first;	/* a list's or mapping's first child in kids */
	};
};

struct strblock {
	struct strblock *next;
	size_t used, size;
	char buf[];
};

struct ydoc {
	struct ynode *nodes;
	size_t n_nodes, cap_nodes;
	unsigned int *kids;
	size_t n_kids, cap_kids;
	struct strblock *strs;
	bool has_root;		/* the root is nodes[0] */
};

/* The loader's state (policy.c). */
struct ld {
	const char *file;
	struct ydoc doc;
	struct bh_diag *d;
	struct bh_policy *p;
	__u16 *byname;		/* group ids sorted by name, for rule targets */
	size_t n_byname;	/* groups in byname (rebuilt when that changes) */
};

/* Parse @buf into l->doc, in one pass over libyaml's events (anchors,
 * aliases and a second document refused). 0 or -errno, the problems in l->d. */
int ydoc_load(struct ld *l, const char *buf, size_t len);
void ydoc_free(struct ydoc *doc);

/* Where a node is (1-based; 0:0 for none), and an error there. */
struct bh_pos ydoc_pos(struct ynode *n);
#define ERR(l, node, ...) bh_diag_add((l)->d, (l)->file, ydoc_pos(node), __VA_ARGS__)
/* The errors in file order (a stable sort). */
void bh_diag_sort(struct bh_diag *d);

/* Item @i of a list; key and value of pair @i of a mapping. */
struct ynode *ydoc_item(struct ld *l, struct ynode *seq, size_t i);
struct ynode *ydoc_key(struct ld *l, struct ynode *map, size_t i);
struct ynode *ydoc_val(struct ld *l, struct ynode *map, size_t i);
/* A scalar's value, NULL for any other node. */
const char *ydoc_scalar(struct ynode *n);
/* @n is of type @t; else an error saying what @what must be. */
bool ydoc_want(struct ld *l, struct ynode *n, yaml_node_type_t t, const char *what);

/*
 * Walk a mapping: check keys against @allowed (NULL-terminated), report
 * unknown and duplicate keys, call @fn for each known key.
 */
typedef void (*key_fn)(struct ld *l, const char *key, struct ynode *k,
		       struct ynode *v, void *arg);

void ydoc_walk_map(struct ld *l, struct ynode *m, const char *where,
		   const char *const *allowed, key_fn fn, void *arg);

/* true or false into *@out; else an error saying what @what must be. */
bool ydoc_bool(struct ld *l, struct ynode *v, const char *what, bool *out);

/* The keys of flows: (policy_flows.c), a key_fn for ydoc_walk_map(). */
void policy_flows_key(struct ld *l, const char *key, struct ynode *k,
		      struct ynode *v, void *arg);
extern const char *const policy_flows_keys[];

/* The document as detect.c's struct bh_yview sees it (ctx: @l). */
struct bh_yview;
void ydoc_view(struct ld *l, struct bh_yview *y);

#endif /* BH_POLICY_YAML_H */
