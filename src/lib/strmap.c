/*
 * strmap.c - open addressing with linear probing; keys live in one slab
 * per map so a lookup touches two cache lines and an emptying is O(1)
 * allocations.
 */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct slot {
    uint64_t hash;
    char *key; /* NULL: empty */
    size_t len;
    void *value;
} slot;

/* Key storage: a list of blocks so that keys never move. */
typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block;

struct mt_strmap {
    slot *slots;
    size_t nslots; /* power of two */
    size_t count;
    size_t limit;
    block *blocks;
};

static void blocks_free(block *b)
{
    while (b) {
        block *n = b->next;
        free(b);
        b = n;
    }
}

mt_strmap *mt_strmap_new(size_t limit)
{
    mt_strmap *m = mt_xcalloc(1, sizeof *m);
    m->nslots = 64;
    m->slots = mt_xcalloc(m->nslots, sizeof *m->slots);
    m->limit = limit;
    return m;
}

void mt_strmap_free(mt_strmap *m)
{
    if (m == NULL)
        return;
    blocks_free(m->blocks);
    free(m->slots);
    free(m);
}

static char *store_key(mt_strmap *m, const void *key, size_t n)
{
    block *b = m->blocks;
    if (b == NULL || b->cap - b->used < n + 1) {
        /* blocks double from 512 bytes to 64 KiB: many maps stay small
         * (a cohort's few domains), and a big first block per map cost
         * more in page faults than the whole lookup work */
        size_t cap = b ? b->cap * 2 : 512;
        if (cap > 65536)
            cap = 65536;
        if (cap < n + 1)
            cap = n + 1;
        block *nb = mt_xmalloc(sizeof *nb + cap);
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        m->blocks = nb;
        b = nb;
    }
    char *k = b->data + b->used;
    memcpy(k, key, n);
    k[n] = '\0';
    b->used += n + 1;
    return k;
}

static slot *find_slot(const mt_strmap *m, uint64_t h, const void *key, size_t n)
{
    size_t mask = m->nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        slot *s = &m->slots[i];
        if (s->key == NULL)
            return s;
        if (s->hash == h && s->len == n && memcmp(s->key, key, n) == 0)
            return s;
    }
}

void *mt_strmap_get(const mt_strmap *m, const void *key, size_t n)
{
    slot *s = find_slot(m, mt_hash(key, n), key, n);
    return s->key ? s->value : NULL;
}

static void grow(mt_strmap *m)
{
    size_t old_n = m->nslots;
    slot *old = m->slots;
    m->nslots *= 2;
    m->slots = mt_xcalloc(m->nslots, sizeof *m->slots);
    for (size_t i = 0; i < old_n; i++) {
        if (old[i].key == NULL)
            continue;
        slot *s = find_slot(m, old[i].hash, old[i].key, old[i].len);
        *s = old[i];
    }
    free(old);
}

static void empty(mt_strmap *m)
{
    memset(m->slots, 0, m->nslots * sizeof *m->slots);
    blocks_free(m->blocks);
    m->blocks = NULL;
    m->count = 0;
}

const char *mt_strmap_put(mt_strmap *m, const void *key, size_t n, void *value)
{
    uint64_t h = mt_hash(key, n);
    slot *s = find_slot(m, h, key, n);
    if (s->key) {
        s->value = value;
        return s->key;
    }
    if (m->limit && m->count >= m->limit) {
        empty(m);
        s = find_slot(m, h, key, n);
    }
    if ((m->count + 1) * 10 > m->nslots * 7) {
        grow(m);
        s = find_slot(m, h, key, n);
    }
    s->hash = h;
    s->key = store_key(m, key, n);
    s->len = n;
    s->value = value;
    m->count++;
    return s->key;
}

size_t mt_strmap_count(const mt_strmap *m)
{
    return m->count;
}

void mt_strmap_each(const mt_strmap *m, void (*fn)(const char *key, size_t n, void *value, void *arg),
                    void *arg)
{
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].key)
            fn(m->slots[i].key, m->slots[i].len, m->slots[i].value, arg);
}
