/*
 * dkim_keys.h - DKIM key records given offline (`--dkim-key
 * selector._domainkey.domain=FILE`), with an optional fallback lookup
 * (the DNS layer) for names not given.  Its lookup function is an
 * mt_dkim_key_fn, so the verifier does not know where keys come from.
 */
#ifndef MT_DKIM_KEYS_H
#define MT_DKIM_KEYS_H

#include "dkim.h"

typedef struct mt_dkim_keys mt_dkim_keys;

mt_dkim_keys *mt_dkim_keys_new(void);
void mt_dkim_keys_free(mt_dkim_keys *k);

/* mt_dkim_keys_add_text - name's record is txt (copied).  A zone-file
 * style value ("v=DKIM1; " "p=...") has its quoted strings joined. */
void mt_dkim_keys_add_text(mt_dkim_keys *k, const char *name, const char *txt);

/* mt_dkim_keys_add_spec - "NAME=FILE": read FILE (the TXT record's
 * text).  Returns 0, or -1 with a reason in err. */
int mt_dkim_keys_add_spec(mt_dkim_keys *k, const char *spec, char *err, size_t errlen);

/* mt_dkim_keys_set_fallback - names not given are looked up with fn(arg)
 * (e.g. the DNS layer); without a fallback they are "unavailable". */
void mt_dkim_keys_set_fallback(mt_dkim_keys *k, mt_dkim_key_fn fn, void *arg);

/* mt_dkim_keys_lookup - an mt_dkim_key_fn; arg is the mt_dkim_keys. */
mt_dkim_key_status mt_dkim_keys_lookup(const char *name, mt_buf *txt, char *why, size_t whylen, void *arg);

#endif
