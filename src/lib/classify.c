/*
 * classify.c - provider and category for each attempt, through two
 * bounded caches: (domain, mx) -> provider and (provider, reply) -> rule.
 */
#include "classify.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define CACHE_LIMIT 65536
/* the masked replies: most of those that come again are a few kinds; the
 * rest carry ids and would only fill memory (a full cache starts over) */
#define MASKED_LIMIT 8192

/* the raw cache of mt_classify_provider: (domain, MX host) as logged, in
 * any case, to provider.  A log names a few hundred domains and a few
 * thousand MX hosts, and the lines of one domain come in runs. */
#define RAW_WAYS 1024 /* a power of two */
#define RAW_MAX  94   /* longest domain + MX host kept */
typedef struct raw_way {
    unsigned char dn, mn; /* lengths */
    char bytes[RAW_MAX];  /* domain then MX host */
    const char *provider; /* NULL: the way is empty */
} raw_way;

struct mt_classifier {
    const mt_rules *rules;
    void *md;
    mt_strmap *providers; /* "domain\0mx" -> provider name */
    mt_strmap *replies;   /* "provider\0reply" -> rule index + 2 (1: none) */
    mt_strmap *masked;    /* the same by the reply with local parts masked */
    mt_buf key;
    mt_buf raw_key; /* rule_of's key into masked */
    mt_buf red;     /* work: names in lower case, a masked reply, its shape */
    mt_buf reply;   /* mt_classify_logged's reply as a string */
    raw_way raw[RAW_WAYS];
};

mt_classifier *mt_classifier_new(const mt_rules *rules)
{
    mt_classifier *c = mt_xcalloc(1, sizeof *c);
    c->rules = rules;
    c->md = mt_rules_match_data_new(rules);
    c->providers = mt_strmap_new(CACHE_LIMIT);
    c->replies = mt_strmap_new(CACHE_LIMIT);
    c->masked = mt_strmap_new(MASKED_LIMIT);
    mt_buf_init(&c->key);
    mt_buf_init(&c->raw_key);
    mt_buf_init(&c->red);
    mt_buf_init(&c->reply);
    return c;
}

void mt_classifier_free(mt_classifier *c)
{
    if (c == NULL)
        return;
    mt_rules_match_data_free(c->md);
    mt_strmap_free(c->providers);
    mt_strmap_free(c->replies);
    mt_strmap_free(c->masked);
    mt_buf_free(&c->key);
    mt_buf_free(&c->raw_key);
    mt_buf_free(&c->red);
    mt_buf_free(&c->reply);
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

/* raw_slot - the way of the raw cache for (dom, mx): from the lengths, the
 * domain's last eight bytes and the host's first eight ("mx1.", "mx2."
 * share their ends), which tell apart the domains and hosts of a log (a
 * miss only costs a trip through provider_of) */
static unsigned raw_slot(const char *dom, size_t dn, const char *mx, size_t mn)
{
    uint64_t a = 0, b = 0;
    memcpy(&a, dn >= 8 ? dom + dn - 8 : dom, dn >= 8 ? 8 : dn);
    memcpy(&b, mx, mn >= 8 ? 8 : mn);
    uint64_t h =
        (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL) ^ ((dn << 8 | mn) * 0x165667b19e3779f9ULL);
    return (unsigned)(h >> 40) & (RAW_WAYS - 1);
}

const char *mt_classify_provider(mt_classifier *c, const char *dom, size_t dn, const char *mx, size_t mn)
{
    if (dn == 0)
        dom = "";
    if (mn == 0)
        mx = "";
    int keep = dn + mn <= RAW_MAX;
    raw_way *w = &c->raw[keep ? raw_slot(dom, dn, mx, mn) : 0];
    if (keep && w->provider && w->dn == dn && w->mn == mn && memcmp(w->bytes, dom, dn) == 0 &&
        memcmp(w->bytes + dn, mx, mn) == 0)
        return w->provider;
    /* as mt_classify would have them: in lower case, NULL for none */
    mt_buf_reset(&c->red);
    mt_buf_reserve(&c->red, dn + mn + 2);
    char *d = c->red.data, *m = d + dn + 1;
    mt_copy_lower(d, dom, dn);
    d[dn] = '\0';
    mt_copy_lower(m, mx, mn);
    m[mn] = '\0';
    const char *p = provider_of(c, dn ? d : NULL, mn ? m : NULL);
    if (keep) {
        w->dn = (unsigned char)dn;
        w->mn = (unsigned char)mn;
        memcpy(w->bytes, dom, dn);
        memcpy(w->bytes + dn, mx, mn);
        w->provider = p;
    }
    return p;
}

static int rule_of_shape(mt_classifier *c, const char *provider, size_t pn, const char *masked, size_t n);

/* rule_of - the rule for a reply.  Rules see the reply's shape
 * (mt_reply_shape: local parts, ids and long numbers masked): servers
 * quote the recipient and add per-message ids (Gmail's "…si123 - gsmtp"),
 * no rule depends on them, and the cache then holds one entry per kind of
 * reply rather than one per message. */
static int rule_of(mt_classifier *c, const char *provider, const char *reply)
{
    size_t pn = strlen(provider);
    /* first by the reply with its local parts masked, which is what the
     * shape is made from (so the same answer) for a tenth of the work:
     * servers quote the recipient, so the text as logged seldom repeats */
    mt_redact_text(reply, &c->red);
    mt_buf *rk = &c->raw_key;
    mt_buf_reset(rk);
    mt_buf_append(rk, provider, pn);
    mt_buf_putc(rk, '\0');
    mt_buf_append(rk, c->red.data ? c->red.data : "", c->red.len);
    void *seen = mt_strmap_get(c->masked, rk->data, rk->len);
    if (seen)
        return (int)((intptr_t)seen - 2);
    int idx = rule_of_shape(c, provider, pn, rk->data + pn + 1, rk->len - pn - 1);
    mt_strmap_put(c->masked, rk->data, rk->len, (void *)(intptr_t)(idx + 2));
    return idx;
}

/* rule_of_shape - rule_of through the shape of the reply masked[0..n),
 * its local parts already masked */
static int rule_of_shape(mt_classifier *c, const char *provider, size_t pn, const char *masked, size_t n)
{
    mt_reply_shape_masked(masked, n, &c->red);
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

/* outcome - a's category, rule meaning and flags: from the reply (may be
 * NULL) for provider when the attempt failed */
static void outcome(mt_classifier *c, const char *provider, mt_status status, const char *reply,
                    mt_attempt *a)
{
    a->rule_meaning = NULL;
    a->rule_flags = 0;
    if (status == MT_STATUS_SENT) {
        a->category = MT_CAT_NONE;
        return;
    }
    int idx = reply ? rule_of(c, provider, reply) : -1;
    if (idx < 0) {
        a->category = status == MT_STATUS_EXPIRED ? MT_CAT_EXPIRED : MT_CAT_OTHER;
        return;
    }
    mt_rule_hit hit;
    mt_rules_hit(c->rules, idx, &hit);
    a->category = hit.category;
    a->rule_meaning = hit.meaning;
    a->rule_flags = hit.flags;
}

void mt_classify(mt_classifier *c, mt_attempt *a)
{
    a->provider = provider_of(c, a->recipient_domain, a->mx_host);
    outcome(c, a->provider, a->status, a->reply_text, a);
}

void mt_classify_logged(mt_classifier *c, const char *dom, size_t dn, const char *mx, size_t mn,
                        mt_status status, const char *reply, size_t rn, mt_attempt *a)
{
    a->provider = mt_classify_provider(c, dom, dn, mx, mn);
    const char *text = NULL;
    if (status != MT_STATUS_SENT && rn) { /* a string, as a record holds it */
        mt_buf_reset(&c->reply);
        mt_buf_append(&c->reply, reply, rn);
        text = c->reply.data;
    }
    outcome(c, a->provider, status, text, a);
}
