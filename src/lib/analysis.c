/*
 * analysis.c - counters keyed by strings, in strmaps.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define MAX_REPLIES_PER_PROVIDER 5000

typedef struct hour_acc {
    mt_hour_stat s;
} hour_acc;

#define COHORT_WAY_BITS 6 /* a provider's cohort cache per dimension: 64 ways */
#define COHORT_WAYS     (1u << COHORT_WAY_BITS)
#define SLOT_WAYS       64 /* a provider's cache of time slots (a power of two) */

/* a way of that cache: the value's length, first and last eight bytes
 * (which are the whole value up to 16 bytes, as most routes, IPs and
 * domains are) beside its cohort, so that a hit reads this entry and the
 * cohort's counts, not the cohort's value too */
typedef struct cohort_way {
    uint64_t head, tail;
    size_t len;
    struct cohort_acc *c; /* NULL: empty */
} cohort_way;

typedef struct prov_acc {
    mt_provider_stat s;
    mt_strmap *cohorts[MT_DIM_COUNT]; /* per dimension: value -> mt_cohort_stat* */
    mt_strmap *hours;                 /* 8-byte five-minute slot start -> hour_acc* */
    mt_domain_stat *domain_store;     /* built at the end from the recipient_domain cohorts */
    /* the slots found lately, by slot number: attempts come roughly in
     * time order, but a message's come when it ends, hours later for mail
     * that was deferred */
    hour_acc *recent_slots[SLOT_WAYS];
    mt_strmap *replies; /* normalised text -> mt_reply_stat* */
    mt_strmap *raw;     /* reply as logged -> mt_reply_stat* (a bounded cache) */
    /* per dimension, the cohorts found lately, filed by a fingerprint of
     * the value (way_key()): most dimensions have a few dozen values at
     * most (routes, IPs, envelope domains, size bands), so one compare
     * here saves hashing the whole value for the map */
    struct cohort_way ways[MT_DIM_COUNT][COHORT_WAYS];
} prov_acc;

typedef struct sender_acc {
    mt_sender_stat s;
    uint64_t domain_bits; /* recipient domains seen, hashed into 64 bits */
} sender_acc;

/* a cohort as the maps hold it.  An envelope domain's cohort (per
 * provider) also remembers the first senders seen with it: a sender is a
 * route, IP, envelope domain and provider, so within the cohort only route
 * and IP are left to compare, which saves building and hashing the
 * sender's key for nearly every attempt. */
#define COHORT_SENDERS 4
typedef struct sender_slot {
    sender_acc *s;
    /* the attempt's provider and its route's and IP's cohorts when the
     * sender was filed: the same three pointers are the same sender,
     * found without comparing its strings */
    const char *provider;
    const struct cohort_acc *route, *ip;
} sender_slot;
typedef struct cohort_acc {
    mt_cohort_stat s;    /* first: the maps' values are mt_cohort_stat pointers */
    uint64_t domain_bit; /* a recipient domain's cohort: the value hashed to one of 64 bits */
    sender_slot senders[COHORT_SENDERS];
} cohort_acc;

/* what is known of one recipient of the message being counted: a
 * message's attempts arrive together, in the order they were made */
typedef struct rstate {
    int deferrals;
    int saw_5xx;
    mt_status first_status;
    mt_stage first_stage;
    int first_code;
    int64_t first_time;
    int second_seen;
    mt_status second_status;
    int64_t second_time;
} rstate;

/* the cohort last found for a dimension: the attempts of one message come
 * together and share most of their values (same strings, same pointers) */
typedef struct cohort_memo {
    uint64_t serial;
    const void *provider;
    const char *value;
    mt_cohort_stat *c;
} cohort_memo;

struct mt_diag {
    int show_recipients;
    FILE *keep_list, *suppress_list; /* full address lists, when asked for */
    mt_buf row;
    cohort_memo memo[MT_DIM_COUNT];
    rstate *rs;
    size_t nrs;
    mt_diag_result r;
    mt_strmap *providers; /* name -> prov_acc* */
    mt_strmap *senders;   /* key -> sender_acc* */
    mt_strmap *strings;   /* interned strings for sender fields */
    uint64_t last_serial;
    uint64_t domain_bit; /* the attempt's recipient domain, hashed to one of 64 bits (0: none) */
    mt_counts step;      /* what the attempt adds to every count it is in (counts_of()) */
    int have_time;
    mt_buf key, norm, red;
    /* provider names come from the rules and are stable pointers: a small
     * table filed by the pointer (one way each; a clash costs a trip to the
     * map) avoids hashing the name for every attempt */
    const char *pcache_name[64];
    prov_acc *pcache_acc[64];
    struct sender_acc *recent_senders[4]; /* found last, tried before the map */
    int recent_sender_next;
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

static const char *const dim_names[MT_DIM_COUNT] = {
    "route",
    "sending_ip",
    "helo_name",
    "mail_from_domain",
    "header_from_domain",
    "message_template_id",
    "attachment_types",
    "message_size_bytes",
    "recipient_domain",
};

const char *mt_dim_name(mt_dim d)
{
    return (unsigned)d < MT_DIM_COUNT ? dim_names[d] : "?";
}

const char *const mt_retry_bucket_names[MT_RETRY_BUCKETS] = {"1", "2", "3", "4-5", "6-10", ">10"};
const char *const mt_delay_bucket_names[MT_DELAY_BUCKETS] = {"<5m",   "5-15m", "15-60m", "1-4h",
                                                             "4-24h", "1-3d",  ">3d"};

static const char *size_band(int64_t size)
{
    if (size < 0)
        return NULL;
    if (size < 20000)
        return "<20KB";
    if (size < 100000)
        return "20-100KB";
    if (size < 1000000)
        return "100KB-1MB";
    if (size < 10000000)
        return "1-10MB";
    return ">10MB";
}

/* add_counts - c += k, field by field (the compiler makes it a few vector
 * adds) */
static inline void add_counts(mt_counts *c, const mt_counts *k)
{
    c->attempts += k->attempts;
    c->accepted += k->accepted;
    c->deferred += k->deferred;
    c->bounced += k->bounced;
    c->expired += k->expired;
    c->recipients += k->recipients;
    c->delivered += k->delivered;
    c->rcpt_bounced += k->rcpt_bounced;
    c->rcpt_expired += k->rcpt_expired;
    c->pending += k->pending;
}

/* way_key - the head, tail and way of value s of length n (no NULs) for
 * the cohort cache: head holds the first eight bytes (zero padded) and
 * tail the last eight (zero below eight bytes), so that up to 16 bytes
 * (len, head, tail) is the value; the way mixes the three (a collision
 * only costs a trip to the map) */
static unsigned way_key(const char *s, size_t n, uint64_t *head, uint64_t *tail)
{
    uint64_t h8 = 0, t8 = 0;
    if (n >= 8) {
        memcpy(&h8, s, 8);
        memcpy(&t8, s + n - 8, 8);
    } else {
        for (size_t i = 0; i < n; i++) /* a loop: a memcpy of a variable length is a call */
            h8 |= (uint64_t)(unsigned char)s[i] << (8 * i);
    }
    *head = h8;
    *tail = t8;
    uint64_t h = (h8 * 0x9e3779b97f4a7c15ULL) ^ (t8 * 0xc2b2ae3d27d4eb4fULL) ^ (n * 0x165667b19e3779f9ULL);
    return (unsigned)(h >> (64 - COHORT_WAY_BITS)); /* the top bits, the best mixed */
}

/* cohort_miss - the cohort of p's dimension dim whose value is value (n
 * bytes), from the map (made if new), filed in way (head and tail are
 * value's way_key): out of line, so that the hits the callers inline stay
 * small */
__attribute__((noinline)) static mt_cohort_stat *cohort_miss(prov_acc *p, mt_dim dim, const char *value,
                                                             size_t n, uint64_t head, uint64_t tail,
                                                             cohort_way *way, const mt_attempt *a)
{
    mt_cohort_stat *c = mt_strmap_get(p->cohorts[dim], value, n);
    if (c == NULL) {
        cohort_acc *ca = mt_xcalloc(1, sizeof *ca);
        c = &ca->s;
        c->dim = dim;
        c->value = mt_xstrdup(value);
        c->first = a->time;
        if (dim == MT_DIM_RECIPIENT_DOMAIN)
            ca->domain_bit = 1ull << (mt_hash(value, n) & 63);
        mt_strmap_put(p->cohorts[dim], value, n, c);
    }
    way->head = head;
    way->tail = tail;
    way->len = n;
    way->c = (cohort_acc *)c;
    return c;
}

/* find_cohort - the cohort of p's dimension dim whose value is value,
 * made if new; NULL when the value is unknown */
static inline cohort_acc *find_cohort(mt_diag *d, prov_acc *p, mt_dim dim, const char *value,
                                      const mt_attempt *a)
{
    if (value == NULL || *value == '\0')
        return NULL; /* unknown is not a cohort */
    cohort_memo *m = &d->memo[dim];
    mt_cohort_stat *c = NULL;
    if (m->serial == a->message_serial && m->provider == p && m->value == value)
        c = m->c; /* same message, same string: same cohort */
    if (c == NULL) {
        size_t n = strlen(value);
        uint64_t head, tail;
        cohort_way *way = &p->ways[dim][way_key(value, n, &head, &tail)];
        if (way->c != NULL && way->len == n && way->head == head && way->tail == tail &&
            (n <= 16 || memcmp(way->c->s.value + 8, value + 8, n - 16) == 0))
            c = &way->c->s;
        else /* the map, and remember what it gave */
            c = cohort_miss(p, dim, value, n, head, tail, way, a);
    }
    m->serial = a->message_serial;
    m->provider = p;
    m->value = value;
    m->c = c;
    return (cohort_acc *)c;
}

/* count_cohort - count a in cohort ca */
static inline void count_cohort(const mt_diag *d, cohort_acc *ca, const mt_attempt *a)
{
    mt_cohort_stat *c = &ca->s;
    add_counts(&c->c, &d->step);
    if (a->time < c->first)
        c->first = a->time;
    if (a->time > c->last)
        c->last = a->time;
    if (a->status != MT_STATUS_SENT) {
        c->failed_by_stage[a->stage]++;
        c->failed_by_category[a->category]++;
        if (a->status == MT_STATUS_BOUNCED)
            c->refused_by_category[a->category]++;
        if (a->rule_flags & MT_RULE_GENERIC_FRONTEND)
            c->generic_failures++;
        c->fail_domain_bits |= d->domain_bit;
        if (c->first_failure == 0 || a->time < c->first_failure)
            c->first_failure = a->time;
        if (a->time > c->last_failure)
            c->last_failure = a->time;
    }
}

/* add_cohort - count a in the cohort of p's dimension dim whose value is
 * value; returns the cohort, NULL when the value is unknown */
static inline cohort_acc *add_known(mt_diag *d, prov_acc *p, mt_dim dim, const char *value,
                                    const mt_attempt *a)
{
    cohort_acc *ca = find_cohort(d, p, dim, value, a);
    if (ca)
        count_cohort(d, ca, a);
    return ca;
}

/* (the unknown values, half of them in some logs, cost no call) */
static inline cohort_acc *add_cohort(mt_diag *d, prov_acc *p, mt_dim dim, const char *value,
                                     const mt_attempt *a)
{
    return value == NULL || *value == '\0' ? NULL : add_known(d, p, dim, value, a);
}

/* add_cohorts - count a in every dimension's cohort; sets d->domain_bit
 * and returns in *from, *route and *ip a's cohorts of those dimensions
 * (NULL: unknown) */
static void add_cohorts(mt_diag *d, prov_acc *p, const mt_attempt *a, cohort_acc **from, cohort_acc **route,
                        cohort_acc **ip)
{
    /* the recipient domain first: its failures mark their domain's bit in
     * every other cohort; the bit is hashed once per cohort */
    cohort_acc *rd = find_cohort(d, p, MT_DIM_RECIPIENT_DOMAIN, a->recipient_domain, a);
    if (rd == NULL)
        d->domain_bit = a->recipient_domain
                            ? 1ull << (mt_hash(a->recipient_domain, strlen(a->recipient_domain)) & 63)
                            : 0;
    else
        d->domain_bit = rd->domain_bit;
    if (rd)
        count_cohort(d, rd, a);
    *route = add_cohort(d, p, MT_DIM_ROUTE, a->route, a);
    *ip = add_cohort(d, p, MT_DIM_SENDING_IP, a->sending_ip, a);
    add_cohort(d, p, MT_DIM_HELO, a->helo_name, a);
    *from = add_cohort(d, p, MT_DIM_MAIL_FROM, a->mail_from_domain, a);
    add_cohort(d, p, MT_DIM_HEADER_FROM, a->header_from_domain, a);
    add_cohort(d, p, MT_DIM_TEMPLATE, a->message_template_id, a);
    add_cohort(d, p, MT_DIM_ATTACHMENTS, a->attachment_types, a);
    add_cohort(d, p, MT_DIM_SIZE, size_band(a->message_size), a);
}

static void add_sender_hash(mt_hour_stat *b, uint64_t h)
{
    b->sender_bits |= 1ull << (h & 63);
    for (int i = 0; i < b->nsenders; i++)
        if (b->senders[i] == h)
            return;
    if (b->nsenders < MT_BUCKET_SENDERS)
        b->senders[b->nsenders++] = h;
}

static int bits(uint64_t x);

/* distinct_senders - exact while few, the 64-bit set's count beyond */
static int distinct_senders(const mt_hour_stat *b)
{
    int n = bits(b->sender_bits);
    return b->nsenders < MT_BUCKET_SENDERS ? b->nsenders : (n > b->nsenders ? n : b->nsenders);
}

static void add_hour(prov_acc *p, const mt_attempt *a)
{
    int64_t h = a->time - ((a->time % MT_SLOT_SECONDS) + MT_SLOT_SECONDS) % MT_SLOT_SECONDS;
    hour_acc **way = &p->recent_slots[(uint64_t)(h / MT_SLOT_SECONDS) & (SLOT_WAYS - 1)];
    hour_acc *ha = *way && (*way)->s.hour == h ? *way : mt_strmap_get(p->hours, &h, sizeof h);
    if (ha == NULL) {
        ha = mt_xcalloc(1, sizeof *ha);
        ha->s.hour = h;
        mt_strmap_put(p->hours, &h, sizeof h, ha);
    }
    *way = ha;
    mt_hour_stat *b = &ha->s;
    b->attempts++;
    if (a->retry_count == 0)
        b->first_attempts++;
    if (a->status == MT_STATUS_SENT)
        b->accepted++;
    else if (a->status == MT_STATUS_DEFERRED)
        b->deferred++;
    else
        b->bounced++;
    if (a->status != MT_STATUS_SENT) {
        if (b->first_failure == 0 || a->time < b->first_failure)
            b->first_failure = a->time;
        if (a->time > b->last_failure)
            b->last_failure = a->time;
    }
    if (a->status == MT_STATUS_DEFERRED) {
        if (a->retry_count == 0)
            b->first_deferred++;
        if (a->mail_from_domain)
            add_sender_hash(b, mt_hash(a->mail_from_domain, strlen(a->mail_from_domain)));
    }
}

/* popcount of the hashed sender set: distinct senders, give or take the
 * collisions of 64 bits (none matter for "three or more") */
static int bits(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static void example(mt_diag *d, char **slots, int *n, const char *addr)
{
    if (*n >= MT_EXAMPLES || addr == NULL)
        return;
    if (d->show_recipients) {
        slots[(*n)++] = mt_xstrdup(addr);
    } else {
        mt_redact_text(addr, &d->red);
        slots[(*n)++] = mt_xstrdup(d->red.data ? d->red.data : "");
    }
}

/* list_row - one CSV row of a keep or suppress list */
static void list_row(mt_diag *d, FILE *fp, const mt_attempt *a)
{
    if (fp == NULL || a->recipient == NULL)
        return;
    char code[8] = "";
    if (a->reply_code)
        snprintf(code, sizeof code, "%d", a->reply_code);
    mt_buf *b = &d->row;
    mt_buf_reset(b);
    const char *f[] = {a->recipient, a->provider ? a->provider : "", mt_final_name(a->final_status), code,
                       a->reply_text ? a->reply_text : ""};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (i)
            mt_buf_putc(b, ',');
        mt_buf_put_csv_field(b, f[i], strlen(f[i]));
    }
    mt_buf_putc(b, '\n');
    fwrite(b->data, 1, b->len, fp);
}

void mt_diag_set_lists(mt_diag *d, FILE *keep, FILE *suppress)
{
    static const char header[] = "recipient,provider,final_queue_status,smtp_reply_code,smtp_reply_text\n";
    d->keep_list = keep;
    d->suppress_list = suppress;
    if (keep)
        fputs(header, keep);
    if (suppress)
        fputs(header, suppress);
}

static int delay_bucket(int64_t s)
{
    static const int64_t lim[] = {300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 86400};
    for (int i = 0; i < 6; i++)
        if (s < lim[i])
            return i;
    return 6;
}

static int retry_bucket(int r)
{
    return r <= 3 ? r - 1 : r <= 5 ? 3 : r <= 10 ? 4 : 5;
}

/* track_rcpt - follow a recipient through its attempts; on its last one,
 * count what became of it */
static void track_rcpt(mt_diag *d, prov_acc *p, const mt_attempt *a)
{
    size_t i = a->rcpt_index;
    if (i >= d->nrs) {
        size_t n = d->nrs ? d->nrs : 16;
        while (n <= i)
            n *= 2;
        d->rs = mt_xrealloc(d->rs, n * sizeof *d->rs);
        d->nrs = n;
    }
    rstate *r = &d->rs[i];
    if (a->retry_count == 0) {
        memset(r, 0, sizeof *r);
        r->first_status = a->status;
        r->first_stage = a->stage;
        r->first_code = a->reply_code;
        r->first_time = a->time;
    } else if (a->retry_count == 1) {
        r->second_seen = 1;
        r->second_status = a->status;
        r->second_time = a->time;
    }
    if (a->status == MT_STATUS_DEFERRED)
        r->deferrals++;
    if (a->reply_code >= 500)
        r->saw_5xx = 1;
    if (!a->last_for_rcpt)
        return;
    mt_retry_stat *rt = &p->s.retry;
    rt->recipients++;
    if (r->first_status == MT_STATUS_DEFERRED) {
        rt->first_deferred++;
        int64_t gap = r->second_time - r->first_time;
        if (r->second_seen && r->second_status == MT_STATUS_SENT && gap >= 180 && gap <= 3600 &&
            r->first_code >= 400 && r->first_code < 500 &&
            (r->first_stage == MT_STAGE_RCPT || r->first_stage == MT_STAGE_GREETING ||
             r->first_stage == MT_STAGE_MAIL))
            rt->greylist_like++;
    }
    if (r->deferrals > 0) {
        rt->deferred_rcpts++;
        switch (a->final_status) {
        case MT_FINAL_DELIVERED:
            rt->delivered_after_retry++;
            if (a->retry_count > 0) {
                rt->retries[retry_bucket(a->retry_count)]++;
                rt->delays[delay_bucket(a->time - a->rcpt_first_time)]++;
            }
            break;
        case MT_FINAL_EXPIRED:
            rt->expired++;
            break;
        case MT_FINAL_BOUNCED:
            rt->bounced_after_deferral++;
            break;
        default:
            rt->pending++;
        }
    }
    if ((a->final_status == MT_FINAL_DEFERRED || a->final_status == MT_FINAL_EXPIRED) && !r->saw_5xx &&
        r->deferrals > 0) {
        rt->keep++;
        example(d, rt->keep_examples, &rt->nkeep_examples, a->recipient);
        list_row(d, d->keep_list, a);
    }
    if (a->final_status == MT_FINAL_BOUNCED && (a->rule_flags & MT_RULE_PERMANENT_RECIPIENT)) {
        rt->suppress++;
        example(d, rt->suppress_examples, &rt->nsuppress_examples, a->recipient);
        list_row(d, d->suppress_list, a);
    }
}

/* counts_of - what attempt a adds to a count: one attempt of its status
 * and, on its recipient's last attempt, one recipient of its final
 * status.  Made once per attempt; add_counts adds it to each of the dozen
 * counts the attempt is in, without a branch. */
static void counts_of(mt_counts *k, const mt_attempt *a)
{
    memset(k, 0, sizeof *k);
    k->attempts = 1;
    switch (a->status) {
    case MT_STATUS_SENT:
        k->accepted = 1;
        break;
    case MT_STATUS_DEFERRED:
        k->deferred = 1;
        break;
    case MT_STATUS_BOUNCED:
        k->bounced = 1;
        break;
    default:
        k->expired = 1;
    }
    if (a->last_for_rcpt) {
        k->recipients = 1;
        switch (a->final_status) {
        case MT_FINAL_DELIVERED:
            k->delivered = 1;
            break;
        case MT_FINAL_BOUNCED:
            k->rcpt_bounced = 1;
            break;
        case MT_FINAL_EXPIRED:
            k->rcpt_expired = 1;
            break;
        default:
            k->pending = 1;
        }
    }
}

static prov_acc *provider_acc(mt_diag *d, const char *name)
{
    unsigned w = (unsigned)(((uintptr_t)name * 0x9e3779b97f4a7c15ULL) >> 58); /* 0..63 */
    if (d->pcache_name[w] == name)
        return d->pcache_acc[w];
    prov_acc *p = mt_strmap_get(d->providers, name, strlen(name));
    if (p == NULL) {
        p = mt_xcalloc(1, sizeof *p);
        p->s.name = mt_strmap_put(d->providers, name, strlen(name), p);
        p->replies = mt_strmap_new(0);
        p->raw = mt_strmap_new(20000);
        for (int k = 0; k < MT_DIM_COUNT; k++)
            p->cohorts[k] = mt_strmap_new(0);
        p->hours = mt_strmap_new(0);
    }
    d->pcache_name[w] = name;
    d->pcache_acc[w] = p;
    return p;
}

/* add_reply - count a failing reply.  Replies are grouped by their
 * normalised text and their stage: the same words after MAIL FROM and
 * after DATA tell different stories.  A bounded cache of the texts as
 * logged saves normalising the same text again. */
static void add_reply(mt_diag *d, prov_acc *p, const mt_attempt *a)
{
    const char *text = a->reply_text ? a->reply_text : "(no reply text)";
    mt_buf *k = &d->key;
    /* keyed on the text without local parts: servers quote the recipient,
     * and one entry per address would defeat the cache */
    mt_redact_text(text, &d->red);
    mt_buf_reset(k);
    mt_buf_putc(k, (char)('A' + a->stage));
    mt_buf_append(k, d->red.data ? d->red.data : "", d->red.len);
    mt_reply_stat *r = mt_strmap_get(p->raw, k->data, k->len);
    if (r == NULL) {
        mt_reply_shape_masked(d->red.data ? d->red.data : "", d->red.len, &d->norm); /* d->red: masked */
        mt_buf_putc(&d->norm, (char)('A' + a->stage));
        r = mt_strmap_get(p->replies, d->norm.data, d->norm.len);
        if (r == NULL) {
            if (mt_strmap_count(p->replies) >= MAX_REPLIES_PER_PROVIDER) {
                p->s.replies_dropped++;
                return;
            }
            r = mt_xcalloc(1, sizeof *r);
            r->text = mt_xstrndup(d->norm.data, d->norm.len - 1);
            r->example = mt_xstrdup(d->show_recipients ? text : d->red.data ? d->red.data : "");
            r->stage = a->stage;
            r->category = a->category;
            r->code = a->reply_code;
            memcpy(r->enhanced, a->enhanced, sizeof r->enhanced);
            r->meaning = a->rule_meaning;
            r->flags = a->rule_flags;
            r->first = a->time;
            mt_strmap_put(p->replies, d->norm.data, d->norm.len, r);
        }
        mt_strmap_put(p->raw, k->data, k->len, r);
    }
    r->count++;
    if (a->time < r->first)
        r->first = a->time;
    if (a->time > r->last)
        r->last = a->time;
}

/* same_str - equal strings, NULL equal only to NULL */
static int same_str(const char *a, const char *b)
{
    if (a == b)
        return 1;
    return a && b && a[0] == b[0] && strcmp(a, b) == 0;
}

/* sender_in_map - sender_of without a cohort to ask */
static sender_acc *sender_in_map(mt_diag *d, const mt_attempt *a)
{
    for (int i = 0; i < 4; i++) {
        sender_acc *r = d->recent_senders[i];
        if (r && same_str(r->s.provider, a->provider) &&
            same_str(r->s.mail_from_domain, a->mail_from_domain) && same_str(r->s.route, a->route) &&
            same_str(r->s.sending_ip, a->sending_ip))
            return r;
    }
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
        mt_strmap_put(d->senders, k->data, k->len, s);
    }
    d->recent_senders[d->recent_sender_next] = s;
    d->recent_sender_next = (d->recent_sender_next + 1) % 4;
    return s;
}

/* sender_of - the sender (route, IP, envelope domain, provider) of a:
 * among those its envelope domain's cohort from (may be NULL) knows, then
 * the few found last, then the map.  route and ip are a's cohorts of
 * those dimensions (NULL: none). */
static sender_acc *sender_of(mt_diag *d, const mt_attempt *a, cohort_acc *from, const cohort_acc *route,
                             const cohort_acc *ip)
{
    int slot = -1;
    for (int i = 0; from != NULL && i < COHORT_SENDERS; i++) {
        sender_slot *sl = &from->senders[i];
        sender_acc *r = sl->s;
        if (r == NULL) {
            slot = i;
            break;
        }
        if (route && ip && sl->route == route && sl->ip == ip && sl->provider == a->provider)
            return r;
        if (same_str(r->s.route, a->route) && same_str(r->s.sending_ip, a->sending_ip) &&
            same_str(r->s.provider, a->provider))
            return r;
    }
    sender_acc *s = sender_in_map(d, a);
    if (slot >= 0)
        from->senders[slot] = (sender_slot){s, a->provider, route, ip};
    return s;
}

static void add_sender(mt_diag *d, const mt_attempt *a, cohort_acc *from, const cohort_acc *route,
                       const cohort_acc *ip)
{
    sender_acc *s = sender_of(d, a, from, route, ip);
    add_counts(&s->s.c, &d->step);
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
    s->domain_bits |= d->domain_bit;
}

void mt_diag_add(const mt_attempt *a, void *arg)
{
    mt_diag *d = arg;
    if (a->message_serial != d->last_serial) {
        d->r.messages++;
        d->last_serial = a->message_serial;
    }
    counts_of(&d->step, a);
    add_counts(&d->r.totals, &d->step);
    if (!d->have_time || a->time < d->r.first)
        d->r.first = a->time;
    if (!d->have_time || a->time > d->r.last)
        d->r.last = a->time;
    d->have_time = 1;

    prov_acc *p = provider_acc(d, a->provider ? a->provider : "other");
    add_counts(&p->s.c, &d->step);
    mt_stage_stat *st = &d->r.stages[a->stage < MT_STAGE_COUNT ? a->stage : 0];
    add_counts(&st->c, &d->step);
    if (a->status != MT_STATUS_SENT) {
        p->s.failed_by_category[a->category]++;
        st->failed_by_category[a->category]++;
        if (a->status == MT_STATUS_DEFERRED)
            p->s.deferred_by_stage[a->stage]++;
        if (a->rule_flags & MT_RULE_GENERIC_FRONTEND)
            p->s.generic_failures++;
        p->s.failed_by_stage[a->stage]++;
        if (a->status == MT_STATUS_BOUNCED)
            p->s.refused_by_category[a->category]++;
        if (p->s.first_failure == 0 || a->time < p->s.first_failure)
            p->s.first_failure = a->time;
        if (a->time > p->s.last_failure)
            p->s.last_failure = a->time;
        add_reply(d, p, a);
    }
    cohort_acc *from, *route, *ip;
    add_cohorts(d, p, a, &from, &route, &ip);
    add_sender(d, a, from, route, ip);
    add_hour(p, a);
    track_rcpt(d, p, a);
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

static int by_cohort(const void *a, const void *b)
{
    const mt_cohort_stat *x = *(mt_cohort_stat *const *)a, *y = *(mt_cohort_stat *const *)b;
    if (x->dim != y->dim)
        return x->dim < y->dim ? -1 : 1;
    if (x->c.attempts != y->c.attempts)
        return x->c.attempts < y->c.attempts ? 1 : -1;
    return strcmp(x->value, y->value);
}

static int by_hour(const void *a, const void *b)
{
    const mt_hour_stat *x = a, *y = b;
    return x->hour < y->hour ? -1 : x->hour > y->hour;
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
        mt_strmap_each(p->replies, collect, &rv);
        if (rv.n)
            qsort(rv.v, (size_t)rv.n, sizeof *rv.v, by_reply_count);
        vec cv = {0}, hv = {0};
        for (int k = 0; k < MT_DIM_COUNT; k++)
            mt_strmap_each(p->cohorts[k], collect, &cv);
        mt_strmap_each(p->hours, collect, &hv);
        if (cv.n)
            qsort(cv.v, (size_t)cv.n, sizeof *cv.v, by_cohort);
        p->s.cohorts = (mt_cohort_stat **)cv.v;
        p->s.ncohorts = cv.n;
        /* recipient domains: the counts of their cohorts */
        int nd = 0;
        for (int k = 0; k < cv.n; k++)
            nd += p->s.cohorts[k]->dim == MT_DIM_RECIPIENT_DOMAIN;
        p->domain_store = mt_xcalloc((size_t)nd + 1, sizeof *p->domain_store);
        dv.v = mt_xcalloc((size_t)nd + 1, sizeof *dv.v);
        for (int k = 0; k < cv.n; k++) {
            const mt_cohort_stat *c = p->s.cohorts[k];
            if (c->dim != MT_DIM_RECIPIENT_DOMAIN)
                continue;
            mt_domain_stat *ds = &p->domain_store[dv.n];
            ds->domain = c->value; /* owned by the cohort */
            ds->c = c->c;
            dv.v[dv.n++] = ds;
        }
        if (dv.n)
            qsort(dv.v, (size_t)dv.n, sizeof *dv.v, by_domain_attempts);
        p->s.slots = mt_xcalloc((size_t)hv.n + 1, sizeof *p->s.slots);
        for (int k = 0; k < hv.n; k++)
            p->s.slots[k] = ((hour_acc *)hv.v[k])->s;
        p->s.nslots = hv.n;
        if (hv.n)
            qsort(p->s.slots, (size_t)hv.n, sizeof *p->s.slots, by_hour);
        free(hv.v);
        /* hours: the slots summed */
        p->s.hours = mt_xcalloc((size_t)hv.n + 1, sizeof *p->s.hours);
        int nh = 0;
        for (int k = 0; k < p->s.nslots; k++) {
            mt_hour_stat *sl = &p->s.slots[k];
            sl->failing_senders = distinct_senders(sl);
            int64_t h = sl->hour - ((sl->hour % 3600) + 3600) % 3600;
            if (nh == 0 || p->s.hours[nh - 1].hour != h) {
                memset(&p->s.hours[nh], 0, sizeof p->s.hours[nh]);
                p->s.hours[nh++].hour = h;
            }
            mt_hour_stat *hs = &p->s.hours[nh - 1];
            hs->attempts += sl->attempts;
            hs->accepted += sl->accepted;
            hs->deferred += sl->deferred;
            hs->bounced += sl->bounced;
            hs->first_attempts += sl->first_attempts;
            hs->first_deferred += sl->first_deferred;
            if (sl->first_failure && (hs->first_failure == 0 || sl->first_failure < hs->first_failure))
                hs->first_failure = sl->first_failure;
            if (sl->last_failure > hs->last_failure)
                hs->last_failure = sl->last_failure;
            for (int q = 0; q < sl->nsenders; q++)
                add_sender_hash(hs, sl->senders[q]);
            hs->sender_bits |= sl->sender_bits;
            hs->failing_senders = distinct_senders(hs);
        }
        p->s.nhours = nh;
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
        s->s.ndomains = bits(s->domain_bits);
        band_sender(&s->s);
        d->r.senders[i] = &s->s;
    }
    d->r.nsenders = sv.n;
    if (sv.n)
        qsort(d->r.senders, (size_t)sv.n, sizeof *d->r.senders, by_sender_failures);
    free(sv.v);
    return &d->r;
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

static void free_cohort(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    mt_cohort_stat *c = v;
    free(c->value);
    free(c);
}

static void free_hour(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    hour_acc *h = v;
    free(h);
}

static void free_provider(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    prov_acc *p = v;
    for (int k = 0; k < MT_DIM_COUNT; k++) {
        mt_strmap_each(p->cohorts[k], free_cohort, NULL);
        mt_strmap_free(p->cohorts[k]);
    }
    mt_strmap_each(p->hours, free_hour, NULL);
    mt_strmap_free(p->hours);
    free(p->s.cohorts);
    free(p->s.hours);
    free(p->s.slots);
    for (int i = 0; i < p->s.retry.nkeep_examples; i++)
        free(p->s.retry.keep_examples[i]);
    for (int i = 0; i < p->s.retry.nsuppress_examples; i++)
        free(p->s.retry.suppress_examples[i]);
    mt_strmap_each(p->replies, free_reply, NULL);
    mt_strmap_free(p->replies);
    mt_strmap_free(p->raw);
    free(p->s.domains);
    free(p->domain_store);
    free(p->s.replies);
    free(p);
}

static void free_sender(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    sender_acc *s = v;
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
    mt_buf_free(&d->row);
    free(d->rs);
    free(d);
}
