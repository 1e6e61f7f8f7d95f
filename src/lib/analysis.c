/*
 * analysis.c - counters keyed by strings, in strmaps.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define MAX_REPLIES_PER_PROVIDER 5000

typedef struct prov_acc {
    mt_provider_stat s;
    mt_strmap *domains; /* domain -> mt_domain_stat* */
    mt_strmap *replies; /* normalised text -> mt_reply_stat* */
    mt_strmap *raw;     /* reply as logged -> mt_reply_stat* (a bounded cache) */
} prov_acc;

typedef struct sender_acc {
    mt_sender_stat s;
    mt_strmap *domains; /* recipient domains seen */
} sender_acc;

struct mt_diag {
    int show_recipients;
    mt_diag_result r;
    mt_strmap *providers; /* name -> prov_acc* */
    mt_strmap *senders;   /* key -> sender_acc* */
    mt_strmap *strings;   /* interned strings for sender fields */
    uint64_t last_serial;
    int have_time;
    mt_buf key, norm, red, scratch;
    /* provider names come from the rules and are stable pointers: a small
     * pointer-keyed table avoids hashing the name for every attempt */
    const char *pcache_name[64];
    prov_acc *pcache_acc[64];
    int npcache;
};

mt_diag *mt_diag_new(int show_recipients)
{
    mt_diag *d = mt_xcalloc(1, sizeof *d);
    d->show_recipients = show_recipients;
    d->providers = mt_strmap_new(0);
    d->senders = mt_strmap_new(0);
    d->strings = mt_strmap_new(0);
    for (int i = 0; i < MT_STAGE_COUNT; i++)
        d->r.stages[i].stage = (mt_stage)i;
    mt_buf_init(&d->key);
    mt_buf_init(&d->norm);
    mt_buf_init(&d->red);
    mt_buf_init(&d->scratch);
    return d;
}

static const char *intern(mt_diag *d, const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    void *v = mt_strmap_get(d->strings, s, n);
    if (v)
        return v;
    /* the map's own key copy is the interned string */
    const char *k = mt_strmap_put(d->strings, s, n, (void *)1);
    mt_strmap_put(d->strings, s, n, (void *)k);
    return k;
}

static int is_local_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

void mt_redact_text(const char *s, mt_buf *out)
{
    mt_buf_reset(out);
    size_t n = strlen(s);
    size_t i = 0;
    while (i < n) {
        const char *at = memchr(s + i, '@', n - i);
        if (at == NULL) {
            mt_buf_append(out, s + i, n - i);
            break;
        }
        size_t a = (size_t)(at - s);
        size_t b = a;
        while (b > i && is_local_char(s[b - 1]))
            b--;
        mt_buf_append(out, s + i, b - i);
        if (b < a)
            mt_buf_puts(out, "\xe2\x80\xa6"); /* … */
        mt_buf_putc(out, '@');
        i = a + 1;
    }
}

static void normalise(const char *s, mt_buf *out, mt_buf *tmp);

void mt_reply_normalise(const char *s, mt_buf *out)
{
    mt_buf tmp;
    mt_buf_init(&tmp);
    normalise(s, out, &tmp);
    mt_buf_free(&tmp);
}

/* normalise - mt_reply_normalise with the caller's scratch buffer */
static void normalise(const char *s, mt_buf *out, mt_buf *tmpb)
{
    mt_buf_reset(out);
    mt_buf_reset(tmpb);
    mt_buf tmp = *tmpb;
    mt_redact_text(s, &tmp);
    const char *p = tmp.data ? tmp.data : "";
    size_t n = tmp.len;
    size_t i = 0;
    while (i < n) {
        /* a token: a run of alphanumerics (and . _ - + = /) */
        size_t j = i;
        int digits = 0, lower = 0;
        while (j < n && p[j] != '.' && (is_local_char(p[j]) || p[j] == ':')) {
            if (p[j] >= '0' && p[j] <= '9')
                digits++;
            else if (p[j] >= 'a' && p[j] <= 'z')
                lower++;
            j++;
        }
        if (j == i) {
            mt_buf_putc(out, p[i]);
            i++;
            continue;
        }
        size_t len = j - i;
        /* ids and per-server names vary between equal replies: long tokens
         * with digits, and lower-case names with a number ("163mx21",
         * "smtp14"); status codes, IPs and upper-case codes such as TSS04
         * or HL:ICC are kept because they carry meaning */
        if ((len >= 12 && digits >= 1 && lower >= 1) || (len >= 6 && digits >= 2 && lower >= 1) ||
            (digits >= 6 && len == (size_t)digits))
            mt_buf_puts(out, "#");
        else
            mt_buf_append(out, p + i, len);
        i = j;
    }
    *tmpb = tmp;
}

static void count(mt_counts *c, const mt_attempt *a)
{
    c->attempts++;
    switch (a->status) {
    case MT_STATUS_SENT:
        c->accepted++;
        break;
    case MT_STATUS_DEFERRED:
        c->deferred++;
        break;
    case MT_STATUS_BOUNCED:
        c->bounced++;
        break;
    default:
        c->expired++;
    }
    if (a->last_for_rcpt) {
        c->recipients++;
        switch (a->final_status) {
        case MT_FINAL_DELIVERED:
            c->delivered++;
            break;
        case MT_FINAL_BOUNCED:
            c->rcpt_bounced++;
            break;
        case MT_FINAL_EXPIRED:
            c->rcpt_expired++;
            break;
        default:
            c->pending++;
        }
    }
}

static prov_acc *provider_acc(mt_diag *d, const char *name)
{
    for (int i = 0; i < d->npcache; i++)
        if (d->pcache_name[i] == name)
            return d->pcache_acc[i];
    prov_acc *p = mt_strmap_get(d->providers, name, strlen(name));
    if (p == NULL) {
        p = mt_xcalloc(1, sizeof *p);
        p->s.name = mt_strmap_put(d->providers, name, strlen(name), p);
        p->domains = mt_strmap_new(0);
        p->replies = mt_strmap_new(0);
        p->raw = mt_strmap_new(20000);
    }
    if (d->npcache < 64) {
        d->pcache_name[d->npcache] = name;
        d->pcache_acc[d->npcache++] = p;
    }
    return p;
}

static void add_reply(mt_diag *d, prov_acc *p, const mt_attempt *a)
{
    const char *text = a->reply_text ? a->reply_text : "(no reply text)";
    size_t tn = strlen(text);
    mt_reply_stat *r = mt_strmap_get(p->raw, text, tn);
    if (r)
        goto counted;
    normalise(text, &d->norm, &d->scratch);
    r = mt_strmap_get(p->replies, d->norm.data, d->norm.len);
    if (r == NULL) {
        if (mt_strmap_count(p->replies) >= MAX_REPLIES_PER_PROVIDER) {
            p->s.replies_dropped++;
            return;
        }
        r = mt_xcalloc(1, sizeof *r);
        r->text = mt_xstrdup(d->norm.data);
        if (d->show_recipients) {
            r->example = mt_xstrdup(text);
        } else {
            mt_redact_text(text, &d->red);
            r->example = mt_xstrdup(d->red.data ? d->red.data : "");
        }
        r->stage = a->stage;
        r->category = a->category;
        r->code = a->reply_code;
        memcpy(r->enhanced, a->enhanced, sizeof r->enhanced);
        r->meaning = a->rule_meaning;
        r->flags = a->rule_flags;
        r->first = a->time;
        mt_strmap_put(p->replies, d->norm.data, d->norm.len, r);
    }
    mt_strmap_put(p->raw, text, tn, r);
counted:
    r->count++;
    if (a->time < r->first)
        r->first = a->time;
    if (a->time > r->last)
        r->last = a->time;
}

static void add_sender(mt_diag *d, const mt_attempt *a)
{
    mt_buf *k = &d->key;
    mt_buf_reset(k);
    const char *parts[4] = {a->route, a->sending_ip, a->mail_from_domain, a->provider};
    for (int i = 0; i < 4; i++) {
        if (parts[i])
            mt_buf_puts(k, parts[i]);
        mt_buf_putc(k, '\x1f');
    }
    sender_acc *s = mt_strmap_get(d->senders, k->data, k->len);
    if (s == NULL) {
        s = mt_xcalloc(1, sizeof *s);
        s->s.route = intern(d, a->route);
        s->s.sending_ip = intern(d, a->sending_ip);
        s->s.helo_name = intern(d, a->helo_name);
        s->s.mail_from_domain = intern(d, a->mail_from_domain);
        s->s.provider = intern(d, a->provider);
        s->s.first = a->time;
        s->domains = mt_strmap_new(0);
        mt_strmap_put(d->senders, k->data, k->len, s);
    }
    count(&s->s.c, a);
    if (a->time < s->s.first)
        s->s.first = a->time;
    if (a->time > s->s.last)
        s->s.last = a->time;
    if (a->status != MT_STATUS_SENT) {
        if (s->s.first_failure == 0 || a->time < s->s.first_failure)
            s->s.first_failure = a->time;
        if (a->time > s->s.last_failure)
            s->s.last_failure = a->time;
    }
    if (a->recipient_domain && !mt_strmap_get(s->domains, a->recipient_domain, strlen(a->recipient_domain)))
        mt_strmap_put(s->domains, a->recipient_domain, strlen(a->recipient_domain), (void *)1);
}

void mt_diag_add(const mt_attempt *a, void *arg)
{
    mt_diag *d = arg;
    if (a->message_serial != d->last_serial) {
        d->r.messages++;
        d->last_serial = a->message_serial;
    }
    count(&d->r.totals, a);
    if (!d->have_time || a->time < d->r.first)
        d->r.first = a->time;
    if (!d->have_time || a->time > d->r.last)
        d->r.last = a->time;
    d->have_time = 1;

    prov_acc *p = provider_acc(d, a->provider ? a->provider : "other");
    count(&p->s.c, a);
    const char *dom = a->recipient_domain ? a->recipient_domain : "(none)";
    mt_domain_stat *ds = mt_strmap_get(p->domains, dom, strlen(dom));
    if (ds == NULL) {
        ds = mt_xcalloc(1, sizeof *ds);
        ds->domain = mt_xstrdup(dom);
        mt_strmap_put(p->domains, dom, strlen(dom), ds);
    }
    count(&ds->c, a);
    mt_stage_stat *st = &d->r.stages[a->stage < MT_STAGE_COUNT ? a->stage : 0];
    count(&st->c, a);
    if (a->status != MT_STATUS_SENT) {
        p->s.failed_by_category[a->category]++;
        st->failed_by_category[a->category]++;
        if (a->status == MT_STATUS_DEFERRED)
            p->s.deferred_by_stage[a->stage]++;
        add_reply(d, p, a);
    }
    add_sender(d, a);
}

/* collectors for mt_strmap_each */
typedef struct vec {
    void **v;
    int n, cap;
} vec;

static void collect(const char *key, size_t n, void *value, void *arg)
{
    (void)key;
    (void)n;
    vec *v = arg;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = mt_xrealloc(v->v, (size_t)v->cap * sizeof *v->v);
    }
    v->v[v->n++] = value;
}

static int by_domain_attempts(const void *a, const void *b)
{
    const mt_domain_stat *x = *(mt_domain_stat *const *)a, *y = *(mt_domain_stat *const *)b;
    if (x->c.attempts != y->c.attempts)
        return x->c.attempts < y->c.attempts ? 1 : -1;
    return strcmp(x->domain, y->domain);
}

static int by_reply_count(const void *a, const void *b)
{
    const mt_reply_stat *x = *(mt_reply_stat *const *)a, *y = *(mt_reply_stat *const *)b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

static int by_provider_attempts(const void *a, const void *b)
{
    const mt_provider_stat *x = *(mt_provider_stat *const *)a, *y = *(mt_provider_stat *const *)b;
    if (x->c.attempts != y->c.attempts)
        return x->c.attempts < y->c.attempts ? 1 : -1;
    return strcmp(x->name, y->name);
}

static uint64_t failures(const mt_counts *c)
{
    return c->deferred + c->bounced + c->expired;
}

static int cmpstr(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int by_sender_failures(const void *a, const void *b)
{
    const mt_sender_stat *x = *(mt_sender_stat *const *)a, *y = *(mt_sender_stat *const *)b;
    uint64_t fx = failures(&x->c), fy = failures(&y->c);
    if (fx != fy)
        return fx < fy ? 1 : -1;
    if (x->c.attempts != y->c.attempts)
        return x->c.attempts < y->c.attempts ? 1 : -1;
    int c = cmpstr(x->route, y->route);
    if (c)
        return c;
    c = cmpstr(x->mail_from_domain, y->mail_from_domain);
    return c ? c : cmpstr(x->provider, y->provider);
}

/* band_sender - the SPEC §5 bands from the cohort's own figures:
 * persistent = it never got an attempt through to this provider while
 * failing for at least an hour (or on at least 10 attempts); critical when
 * persistent and recipients expired or stay queued; warning when deferrals
 * are intermittent and not rare (>= 5% of attempts). */
static void band_sender(mt_sender_stat *s)
{
    uint64_t f = s->c.deferred + s->c.expired;
    if (f == 0) {
        s->pattern = "none";
        s->band = "low";
        return;
    }
    int64_t span = s->last_failure - s->first_failure;
    if (s->c.accepted == 0 && (span >= 3600 || f >= 10)) {
        s->pattern = "persistent";
        s->band = (s->c.rcpt_expired + s->c.pending) > 0 ? "critical" : "warning";
        return;
    }
    s->pattern = "intermittent";
    s->band = (double)f / (double)s->c.attempts >= 0.05 ? "warning" : "low";
}

const mt_diag_result *mt_diag_finish(mt_diag *d)
{
    vec pv = {0};
    mt_strmap_each(d->providers, collect, &pv);
    d->r.providers = mt_xcalloc((size_t)pv.n + 1, sizeof *d->r.providers);
    for (int i = 0; i < pv.n; i++) {
        prov_acc *p = pv.v[i];
        vec dv = {0}, rv = {0};
        mt_strmap_each(p->domains, collect, &dv);
        mt_strmap_each(p->replies, collect, &rv);
        if (dv.n)
            qsort(dv.v, (size_t)dv.n, sizeof *dv.v, by_domain_attempts);
        if (rv.n)
            qsort(rv.v, (size_t)rv.n, sizeof *rv.v, by_reply_count);
        p->s.domains = (mt_domain_stat **)dv.v;
        p->s.ndomains = dv.n;
        p->s.replies = (mt_reply_stat **)rv.v;
        p->s.nreplies = rv.n;
        d->r.providers[i] = &p->s;
    }
    d->r.nproviders = pv.n;
    if (pv.n)
        qsort(d->r.providers, (size_t)pv.n, sizeof *d->r.providers, by_provider_attempts);
    free(pv.v);

    vec sv = {0};
    mt_strmap_each(d->senders, collect, &sv);
    d->r.senders = mt_xcalloc((size_t)sv.n + 1, sizeof *d->r.senders);
    for (int i = 0; i < sv.n; i++) {
        sender_acc *s = sv.v[i];
        s->s.ndomains = (int)mt_strmap_count(s->domains);
        band_sender(&s->s);
        d->r.senders[i] = &s->s;
    }
    d->r.nsenders = sv.n;
    if (sv.n)
        qsort(d->r.senders, (size_t)sv.n, sizeof *d->r.senders, by_sender_failures);
    free(sv.v);
    return &d->r;
}

static void free_domain(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    mt_domain_stat *ds = v;
    free(ds->domain);
    free(ds);
}

static void free_reply(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    mt_reply_stat *r = v;
    free(r->text);
    free(r->example);
    free(r);
}

static void free_provider(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    prov_acc *p = v;
    mt_strmap_each(p->domains, free_domain, NULL);
    mt_strmap_each(p->replies, free_reply, NULL);
    mt_strmap_free(p->domains);
    mt_strmap_free(p->replies);
    mt_strmap_free(p->raw);
    free(p->s.domains);
    free(p->s.replies);
    free(p);
}

static void free_sender(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    sender_acc *s = v;
    mt_strmap_free(s->domains);
    free(s);
}

void mt_diag_free(mt_diag *d)
{
    if (d == NULL)
        return;
    mt_strmap_each(d->providers, free_provider, NULL);
    mt_strmap_each(d->senders, free_sender, NULL);
    mt_strmap_free(d->providers);
    mt_strmap_free(d->senders);
    mt_strmap_free(d->strings);
    free(d->r.providers);
    free(d->r.senders);
    mt_buf_free(&d->key);
    mt_buf_free(&d->norm);
    mt_buf_free(&d->red);
    mt_buf_free(&d->scratch);
    free(d);
}
