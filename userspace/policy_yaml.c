// SPDX-License-Identifier: GPL-2.0
/*
 * policy_yaml.c - the YAML side of loading a policy: the document built by
 * one pass over libyaml's events, the helpers that walk it (lists,
 * mappings with their allowed keys, the type a node must have), and the
 * "file:line:col: what" diagnostics, kept in file order. policy.c gives
 * the document its meaning.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy_yaml.h"
#include "detect.h"

void bh_diag_add(struct bh_diag *d, const char *file, struct bh_pos pos,
		 const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (d->n >= BH_DIAG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pos.line)
		snprintf(d->msg[d->n], sizeof(d->msg[d->n]), "%s:%u:%u: %s", file,
			 pos.line, pos.col, msg);
	else
		snprintf(d->msg[d->n], sizeof(d->msg[d->n]), "%s: %s", file, msg);
	d->pos[d->n] = pos;
	d->n++;
}

/* Errors in file order (insertion sort: stable, and there are few). */
void bh_diag_sort(struct bh_diag *d)
{
	for (size_t i = 1; i < d->n; i++) {
		for (size_t j = i; j > 0; j--) {
			struct bh_pos a = d->pos[j - 1], b = d->pos[j];
			char tmp[512];

			if (a.line < b.line || (a.line == b.line && a.col <= b.col))
				break;
			memcpy(tmp, d->msg[j - 1], sizeof(tmp));
			memcpy(d->msg[j - 1], d->msg[j], sizeof(tmp));
			memcpy(d->msg[j], tmp, sizeof(tmp));
			d->pos[j - 1] = b;
			d->pos[j] = a;
		}
	}
}

void bh_diag_print(const struct bh_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->msg[i]);
}
/* ---- walking the document ---------------------------------------------------- */

struct bh_pos ydoc_pos(struct ynode *n)
{
	struct bh_pos pos = { 0, 0 };

	if (n) {
		pos.line = n->line + 1;
		pos.col = n->col + 1;
	}
	return pos;
}


/* Item @i of a list; key and value of pair @i of a mapping. */
struct ynode *ydoc_item(struct ld *l, struct ynode *seq, size_t i)
{
	return &l->doc.nodes[l->doc.kids[seq->first + i]];
}

struct ynode *ydoc_key(struct ld *l, struct ynode *map, size_t i)
{
	return &l->doc.nodes[l->doc.kids[map->first + 2 * i]];
}

struct ynode *ydoc_val(struct ld *l, struct ynode *map, size_t i)
{
	return &l->doc.nodes[l->doc.kids[map->first + 2 * i + 1]];
}

const char *ydoc_scalar(struct ynode *n)
{
	return n && n->type == YAML_SCALAR_NODE ? n->s : NULL;
}

static const char *type_name(struct ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

bool ydoc_want(struct ld *l, struct ynode *n, yaml_node_type_t t, const char *what)
{
	const char *tn = t == YAML_SCALAR_NODE ? "a scalar" :
			 t == YAML_SEQUENCE_NODE ? "a list" : "a mapping";

	if (n && n->type == t)
		return true;
	ERR(l, n, "%s must be %s, not %s", what, tn, type_name(n));
	return false;
}

bool ydoc_bool(struct ld *l, struct ynode *v, const char *what, bool *out)
{
	const char *s = ydoc_scalar(v);

	if (!ydoc_want(l, v, YAML_SCALAR_NODE, what))
		return false;
	if (strcmp(s, "true") && strcmp(s, "false")) {
		ERR(l, v, "%s must be true or false, not '%s'", what, s);
		return false;
	}
	*out = !strcmp(s, "true");
	return true;
}

/*
 * Walk a mapping: check keys against @allowed (NULL-terminated), report
 * unknown and duplicate keys, call @fn for each known key.
 */

void ydoc_walk_map(struct ld *l, struct ynode *m, const char *where,
		   const char *const *allowed, key_fn fn, void *arg)
{
	for (size_t i = 0; i < m->n; i++) {
		struct ynode *k = ydoc_key(l, m, i), *v = ydoc_val(l, m, i);
		const char *ks = ydoc_scalar(k);
		bool known = false;

		if (!ks) {
			ERR(l, k, "keys in %s must be scalars", where);
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const char *qs = ydoc_scalar(ydoc_key(l, m, j));

			if (qs && qs[0] == ks[0] && !strcmp(qs, ks)) {
				ERR(l, k, "duplicate key '%s' in %s (first at line %u)", ks,
				    where, ydoc_key(l, m, j)->line + 1);
				ks = NULL;
				break;
			}
		}
		if (!ks)
			continue;
		for (const char *const *a = allowed; *a && !known; a++)
			known = (*a)[0] == ks[0] && !strcmp(*a, ks);
		if (!known) {
			char list[256];
			size_t off = 0;

			list[0] = '\0';
			for (const char *const *a = allowed; *a; a++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							a == allowed ? "" : ", ", *a);
			ERR(l, k, "unknown key '%s' in %s (expected: %s)", ks, where, list);
			continue;
		}
		fn(l, ks, k, v, arg);
	}
}
/* ---- the document as a bh_yview (detect.c's parser reads it) ------------------ */

static int yv_type(void *ctx, const void *n)
{
	(void)ctx;
	return n ? ((const struct ynode *)n)->type : 0;
}

static size_t yv_len(void *ctx, const void *n)
{
	(void)ctx;
	return n ? ((const struct ynode *)n)->n : 0;
}

static const void *yv_item(void *ctx, const void *n, size_t i)
{
	return ydoc_item(ctx, (struct ynode *)n, i);
}

static const void *yv_key(void *ctx, const void *n, size_t i)
{
	return ydoc_key(ctx, (struct ynode *)n, i);
}

static const void *yv_val(void *ctx, const void *n, size_t i)
{
	return ydoc_val(ctx, (struct ynode *)n, i);
}

static const char *yv_scalar(void *ctx, const void *n)
{
	(void)ctx;
	return ydoc_scalar((struct ynode *)n);
}

static struct bh_pos yv_pos(void *ctx, const void *n)
{
	(void)ctx;
	return ydoc_pos((struct ynode *)n);
}

void ydoc_view(struct ld *l, struct bh_yview *y)
{
	*y = (struct bh_yview){
		.ctx = l, .type = yv_type, .len = yv_len, .item = yv_item, .key = yv_key,
		.val = yv_val, .scalar = yv_scalar, .pos = yv_pos,
	};
}

/* ---- the document: one pass over libyaml's events ---------------------------- */

/* line @line (0-based) of @buf starts with whitespace that holds a tab */
static bool tab_indent(const char *buf, size_t len, size_t line)
{
	size_t i = 0;

	for (size_t l = 0; l < line && i < len; i++)
		if (buf[i] == '\n')
			l++;
	for (; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++)
		if (buf[i] == '\t')
			return true;
	return false;
}

static void *xgrow(void *arr, size_t *cap, size_t size)
{
	size_t n = *cap ? 2 * *cap : 1024;
	void *r = realloc(arr, n * size);

	if (!r) {
		fprintf(stderr, "bulkhead: out of memory\n");
		abort();
	}
	*cap = n;
	return r;
}

/* A copy of @len bytes of @s, NUL-terminated, that lives as long as @doc. */
static const char *doc_strdup(struct ydoc *doc, const unsigned char *s, size_t len)
{
	struct strblock *b = doc->strs;
	char *r;

	if (!b || b->size - b->used < len + 1) {
		size_t size = len + 1 > 65536 ? len + 1 : 65536;

		b = malloc(sizeof(*b) + size);
		if (!b) {
			fprintf(stderr, "bulkhead: out of memory\n");
			abort();
		}
		b->next = doc->strs;
		b->used = 0;
		b->size = size;
		doc->strs = b;
	}
	r = b->buf + b->used;
	memcpy(r, s, len);
	r[len] = '\0';
	b->used += len + 1;
	return r;
}

void ydoc_free(struct ydoc *doc)
{
	while (doc->strs) {
		struct strblock *next = doc->strs->next;

		free(doc->strs);
		doc->strs = next;
	}
	free(doc->nodes);
	free(doc->kids);
	memset(doc, 0, sizeof(*doc));
}

/* Lists and mappings open while their children are read. */
struct open_stack {
	struct { unsigned int node; size_t base; } *open;
	size_t n_open, cap_open;
	unsigned int *pending;	/* children read so far, of every open node */
	size_t n_pending, cap_pending;
};

/* A new node of @ev's kind; a child of the innermost open node, or the root. */
static unsigned int doc_add(struct ydoc *doc, struct open_stack *st,
			    const yaml_event_t *ev, unsigned char type)
{
	unsigned int idx = (unsigned int)doc->n_nodes;
	struct ynode *n;

	if (doc->n_nodes == doc->cap_nodes)
		doc->nodes = xgrow(doc->nodes, &doc->cap_nodes, sizeof(*doc->nodes));
	n = &doc->nodes[doc->n_nodes++];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (unsigned int)ev->start_mark.line;
	n->col = (unsigned int)ev->start_mark.column;
	if (type == YAML_SCALAR_NODE) {
		n->s = doc_strdup(doc, ev->data.scalar.value, ev->data.scalar.length);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	}
	if (!st->n_open) {
		doc->has_root = true;	/* a second document is refused */
	} else {
		if (st->n_pending == st->cap_pending)
			st->pending = xgrow(st->pending, &st->cap_pending, sizeof(*st->pending));
		st->pending[st->n_pending++] = idx;
	}
	return idx;
}

static void doc_open(struct ydoc *doc, struct open_stack *st,
		     const yaml_event_t *ev, unsigned char type)
{
	unsigned int idx = doc_add(doc, st, ev, type);

	if (st->n_open == st->cap_open)
		st->open = xgrow(st->open, &st->cap_open, sizeof(*st->open));
	st->open[st->n_open].node = idx;
	st->open[st->n_open].base = st->n_pending;
	st->n_open++;
}

/* The innermost open node is complete: its children move to doc->kids. */
static void doc_close(struct ydoc *doc, struct open_stack *st)
{
	size_t base = st->open[--st->n_open].base;
	struct ynode *n = &doc->nodes[st->open[st->n_open].node];
	size_t cnt = st->n_pending - base;

	while (doc->cap_kids - doc->n_kids < cnt)
		doc->kids = xgrow(doc->kids, &doc->cap_kids, sizeof(*doc->kids));
	if (cnt)	/* an empty list or mapping may have no arrays yet */
		memcpy(doc->kids + doc->n_kids, st->pending + base, cnt * sizeof(*doc->kids));
	n->first = (unsigned int)doc->n_kids;
	n->n = (unsigned int)(n->type == YAML_MAPPING_NODE ? cnt / 2 : cnt);
	doc->n_kids += cnt;
	st->n_pending = base;
}

static struct bh_pos ev_pos(const yaml_mark_t *m)
{
	return (struct bh_pos){ (unsigned int)m->line + 1, (unsigned int)m->column + 1 };
}

/*
 * Parse @buf into l->doc, in one pass over the events. Anchors and aliases
 * are refused (alias bombs stop here), so is a second document.
 */
int ydoc_load(struct ld *l, const char *buf, size_t len)
{
	struct open_stack st = {};
	yaml_parser_t parser;
	yaml_event_t ev;
	int ret = 0, docs = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			bh_diag_add(l->d, l->file, ev_pos(&parser.problem_mark),
				    "YAML syntax error: %s%s%s%s",
				    parser.problem ? parser.problem : "invalid",
				    parser.context ? " " : "",
				    parser.context ? parser.context : "",
				    tab_indent(buf, len, parser.problem_mark.line) ?
				    " (a tab in the indentation of this line: YAML indents with spaces only)" : "");
			ret = -EINVAL;
			break;
		}
		if (ev.type == YAML_ALIAS_EVENT ||
		    (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
		    (ev.type == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
		    (ev.type == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor)) {
			bh_diag_add(l->d, l->file, ev_pos(&ev.start_mark),
				    "YAML anchors and aliases are not allowed in a policy");
			ret = -EINVAL;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			bh_diag_add(l->d, l->file, ev_pos(&ev.start_mark),
				    "a policy file holds one YAML document");
			ret = -EINVAL;
		}
		if (!ret) {
			switch (ev.type) {
			case YAML_SCALAR_EVENT:
				doc_add(&l->doc, &st, &ev, YAML_SCALAR_NODE);
				break;
			case YAML_SEQUENCE_START_EVENT:
				doc_open(&l->doc, &st, &ev, YAML_SEQUENCE_NODE);
				break;
			case YAML_MAPPING_START_EVENT:
				doc_open(&l->doc, &st, &ev, YAML_MAPPING_NODE);
				break;
			case YAML_SEQUENCE_END_EVENT:
			case YAML_MAPPING_END_EVENT:
				doc_close(&l->doc, &st);
				break;
			default:
				break;
			}
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
		if (ret)
			break;
	}
	yaml_parser_delete(&parser);
	free(st.open);
	free(st.pending);
	return ret;
}
