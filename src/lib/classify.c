/*
 * classify.c - provider and category for each attempt, through two
 * bounded caches: (domain, mx) -> provider and (provider, reply) -> rule.
 */
#include "classify.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define CACHE_LIMIT 65536

struct mt_classifier {
    const mt_rules *rules;
    void *md;
    mt_strmap *providers; /* "domain\0mx" -> provider name */
    mt_strmap *replies;   /* "provider\0reply" -> rule index + 2 (1: none) */
    mt_buf key;
    mt_buf red;     /* the reply's shape */
    mt_buf scratch; /* for mt_reply_shape */
};

mt_classifier *mt_classifier_new(const mt_rules *rules)
{
    mt_classifier *c = mt_xcalloc(1, sizeof *c);
    c->rules = rules;
    c->md = mt_rules_match_data_new(rules);
    c->providers = mt_strmap_new(CACHE_LIMIT);
    c->replies = mt_strmap_new(CACHE_LIMIT);
    mt_buf_init(&c->key);
    mt_buf_init(&c->red);
    mt_buf_init(&c->scratch);
    return c;
}

void mt_classifier_free(mt_classifier *c)
{
    if (c == NULL)
        return;
    mt_rules_match_data_free(c->md);
    mt_strmap_free(c->providers);
    mt_strmap_free(c->replies);
    mt_buf_free(&c->key);
    mt_buf_free(&c->red);
    mt_buf_free(&c->scratch);
    free(c);
}

static const char *provider_of(mt_classifier *c, const char *dom, const char *mx)
{
    size_t dn = dom ? strlen(dom) : 0, mn = mx ? strlen(mx) : 0;
    mt_buf_reset(&c->key);
    mt_buf_append(&c->key, dom ? dom : "", dn);
    mt_buf_putc(&c->key, '\0');
    mt_buf_append(&c->key, mx ? mx : "", mn);
    const char *p = mt_strmap_get(c->providers, c->key.data, c->key.len);
    if (p)
        return p;
    p = mt_rules_provider(c->rules, dom ? dom : "", dn, mx ? mx : "", mn);
    mt_strmap_put(c->providers, c->key.data, c->key.len, (void *)p);
    return p;
}

/* rule_of - the rule for a reply.  Rules see the reply's shape
 * (mt_reply_shape: local parts, ids and long numbers masked): servers
 * quote the recipient and add per-message ids (Gmail's "…si123 - gsmtp"),
 * no rule depends on them, and the cache then holds one entry per kind of
 * reply rather than one per message. */
static int rule_of(mt_classifier *c, const char *provider, const char *reply)
{
    size_t pn = strlen(provider);
    mt_reply_shape(reply, &c->red, &c->scratch);
    const char *text = c->red.data ? c->red.data : "";
    size_t rn = c->red.len;
    mt_buf_reset(&c->key);
    mt_buf_append(&c->key, provider, pn);
    mt_buf_putc(&c->key, '\0');
    mt_buf_append(&c->key, text, rn);
    void *v = mt_strmap_get(c->replies, c->key.data, c->key.len);
    if (v)
        return (int)((intptr_t)v - 2);
    int idx = mt_rules_match(c->rules, provider, text, rn, c->md);
    mt_strmap_put(c->replies, c->key.data, c->key.len, (void *)(intptr_t)(idx + 2));
    return idx;
}

int mt_classify_reply(mt_classifier *c, const char *provider, const char *reply, mt_rule_hit *hit)
{
    int idx = rule_of(c, provider ? provider : "other", reply);
    if (idx >= 0)
        mt_rules_hit(c->rules, idx, hit);
    return idx;
}

void mt_classify(mt_classifier *c, mt_attempt *a)
{
    a->provider = provider_of(c, a->recipient_domain, a->mx_host);
    a->rule_meaning = NULL;
    a->rule_flags = 0;
    if (a->status == MT_STATUS_SENT) {
        a->category = MT_CAT_NONE;
        return;
    }
    int idx = a->reply_text ? rule_of(c, a->provider, a->reply_text) : -1;
    if (idx < 0) {
        a->category = a->status == MT_STATUS_EXPIRED ? MT_CAT_EXPIRED : MT_CAT_OTHER;
        return;
    }
    mt_rule_hit hit;
    mt_rules_hit(c->rules, idx, &hit);
    a->category = hit.category;
    a->rule_meaning = hit.meaning;
    a->rule_flags = hit.flags;
}
