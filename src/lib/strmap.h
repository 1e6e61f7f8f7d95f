/*
 * strmap.h - a hash map from byte strings to a pointer-sized value.
 *
 * Keys are copied into the map.  With a limit, the map is a cache: when
 * it holds `limit` keys it is emptied before the next insertion, which
 * bounds memory on inputs with endless distinct keys (reply texts that
 * carry queue ids, for instance) at the cost of recomputing.
 */
#ifndef MT_STRMAP_H
#define MT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_strmap mt_strmap;

/* mt_strmap_new - an empty map; limit 0 means unbounded. */
mt_strmap *mt_strmap_new(size_t limit);
void mt_strmap_free(mt_strmap *m);

/* mt_strmap_get - the value stored for key, or NULL.  Values are never
 * NULL, so NULL always means "absent". */
void *mt_strmap_get(const mt_strmap *m, const void *key, size_t n);

/* mt_strmap_put - store value (non-NULL) for key, replacing any old one.
 * Returns the map's own copy of the key (NUL-terminated), valid until the
 * map is emptied or freed. */
const char *mt_strmap_put(mt_strmap *m, const void *key, size_t n, void *value);

/* mt_strmap_count - how many keys the map holds. */
size_t mt_strmap_count(const mt_strmap *m);

/* mt_strmap_each - call fn for every key/value, in no particular order. */
void mt_strmap_each(const mt_strmap *m, void (*fn)(const char *key, size_t n, void *value, void *arg),
                    void *arg);

#endif
