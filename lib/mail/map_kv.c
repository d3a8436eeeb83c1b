/*
 * map_kv - an in-memory table of folded keys; see map_int.h.
 *
 * Chained hashing (FNV-1a) that doubles when the load passes one, so a
 * large texthash: file loads in linear time.
 */
#include <stdint.h>
#include <string.h>

#include "map_int.h"
#include "strutil.h"
#include "xalloc.h"

struct kv_entry {
	char *key;
	char *value;
	struct kv_entry *next;
};

struct map_kv {
	struct kv_entry **slots;
	size_t size; /* a power of two */
	size_t count;
};

static size_t
kv_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

struct map_kv *
map_kv_new(void)
{
	struct map_kv *kv = xcalloc(1, sizeof(*kv));

	kv->size = 16;
	kv->slots = xcalloc(kv->size, sizeof(*kv->slots));
	return kv;
}

static struct kv_entry *
kv_find(const struct map_kv *kv, const char *key)
{
	struct kv_entry *e = kv->slots[kv_hash(key) & (kv->size - 1)];

	while (e && strcmp(e->key, key) != 0)
		e = e->next;
	return e;
}

static void
kv_grow(struct map_kv *kv)
{
	size_t size = kv->size * 2;
	struct kv_entry **slots = xcalloc(size, sizeof(*slots));

	for (size_t i = 0; i < kv->size; i++) {
		struct kv_entry *e = kv->slots[i], *next;
		for (; e; e = next) {
			size_t h = kv_hash(e->key) & (size - 1);
			next = e->next;
			e->next = slots[h];
			slots[h] = e;
		}
	}
	xfree(kv->slots);
	kv->slots = slots;
	kv->size = size;
}

int
map_kv_add(struct map_kv *kv, const char *key, const char *value)
{
	struct kv_entry *e;
	char *folded = xstrdup(key);
	size_t h;

	str_lower(folded);
	if (kv_find(kv, folded)) {
		xfree(folded);
		return 1;
	}
	if (kv->count >= kv->size)
		kv_grow(kv);
	e = xcalloc(1, sizeof(*e));
	e->key = folded;
	e->value = xstrdup(value);
	h = kv_hash(folded) & (kv->size - 1);
	e->next = kv->slots[h];
	kv->slots[h] = e;
	kv->count++;
	return 0;
}

int
map_kv_lookup(struct map *m, const char *key, struct buf *value,
	      struct buf *err)
{
	struct kv_entry *e = kv_find(m->data, key);

	(void)err;
	if (e == NULL)
		return 0;
	buf_set(value, e->value);
	return 1;
}

void
map_kv_close(struct map *m)
{
	struct map_kv *kv = m->data;

	if (kv == NULL)
		return;
	for (size_t i = 0; i < kv->size; i++) {
		struct kv_entry *e = kv->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			xfree(e->key);
			xfree(e->value);
			xfree(e);
		}
	}
	xfree(kv->slots);
	xfree(kv);
}
