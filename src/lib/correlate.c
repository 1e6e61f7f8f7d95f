/*
 * correlate.c - messages keyed by "host queue_id", in a chained hash
 * table; each message keeps its strings in one arena buffer and its
 * pending attempts in an array, both reused after the message is done.
 *
 * Why host and not instance: a master.cf service with its own syslog_name
 * ("postfix-out/smtp") shares the queue of the qmgr and cleanup that log
 * as "postfix/…", so the instance name would split one message in two.
 * Short queue ids are reused only after "removed", which ends a message.
 */
#include "correlate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NONE UINT32_MAX

typedef struct rcpt {
    uint32_t addr, domain; /* arena offsets */
    uint32_t addr_len;
    int attempts;
    mt_status last;
    int64_t first_time; /* of the recipient's first attempt */
} rcpt;

typedef struct pend {
    int64_t time;
    int32_t usec;
    uint64_t line;
    const char *file;
    uint32_t rcpt;
    uint32_t route, mx_host, mx_ip, reply;
    uint32_t sending_ip, helo; /* from the log itself (Exim, records) */
    double delay;
    int code;
    int retry;
    mt_stage stage;
    mt_status status;
    char enhanced[16];
    mt_join_class cls; /* classified ahead, if set */
} pend;

typedef struct msg {
    struct msg *next;
    uint64_t hash;
    char key[80];
    size_t keylen;
    mt_buf arena;
    mt_buf atypes; /* comma-separated attachment types */
    uint32_t host, queue_id, from_domain, message_id, template_id, header_from;
    int64_t size;
    int expired;
    int saw_content_type;
    rcpt *rc;
    uint32_t nrc, caprc;
    pend *pd;
    uint32_t npd, cappd;
} msg;

struct mt_join {
    const mt_msgmeta *meta;
    mt_classifier *cls;
    const mt_routes *routes;
    char template_header[128];
    mt_attempt_fn fn;
    void *arg;
    msg **tab;
    size_t nbuckets, count;
    msg *free_list;
    uint64_t serial;
    int counts_only; /* accepted attempts keep no reply text or MX IP */
    mt_join_stats stats;
};

mt_join *mt_join_new(mt_classifier *cls, const mt_routes *routes, const char *template_header,
                     mt_attempt_fn fn, void *arg)
{
    mt_join *j = mt_xcalloc(1, sizeof *j);
    j->cls = cls;
    j->routes = routes;
    snprintf(j->template_header, sizeof j->template_header, "%s",
             template_header ? template_header : "X-Template-Id");
    j->fn = fn;
    j->arg = arg;
    j->nbuckets = 1024;
    j->tab = mt_xcalloc(j->nbuckets, sizeof *j->tab);
    return j;
}

/* put, put_lower - copy p[0..n) into the message's arena, NUL-terminated
 * (lowercased in the same pass); returns its offset */
static uint32_t put_as(msg *m, const char *p, size_t n, int lower)
{
    mt_buf *b = &m->arena;
    uint32_t off = (uint32_t)b->len;
    mt_buf_reserve(b, n + 1);
    if (lower)
        mt_copy_lower(b->data + b->len, p, n);
    else
        memcpy(b->data + b->len, p, n);
    b->data[b->len + n] = '\0';
    b->len += n + 1;
    return off;
}

static uint32_t put(msg *m, const char *p, size_t n)
{
    return put_as(m, p, n, 0);
}

static uint32_t put_lower(msg *m, const char *p, size_t n)
{
    return put_as(m, p, n, 1);
}

static const char *str(const msg *m, uint32_t off)
{
    return off == NONE ? NULL : m->arena.data + off;
}

static void make_key(mt_slice host, mt_slice qid, char *key, size_t *len);

/* key_of - the key l is filed under, "host queue_id" (host at most 40
 * bytes, queue id at most 30): where the line holds it as it stands (a
 * reader gave an empty host slice at the space before the queue id, as
 * the Exim reader does), a pointer into the line; else made in buf (80
 * bytes).  Hashing a copy just written stalls on the store buffer. */
static const char *key_of(const mt_pf_line *l, char *buf, size_t *len)
{
    mt_slice host = l->host, qid = l->queue_id;
    if (host.len == 0 && host.p != NULL && host.p + 1 == qid.p && host.p[0] == ' ' && qid.len <= 30) {
        *len = qid.len + 1;
        return host.p;
    }
    make_key(host, qid, buf, len);
    return buf;
}

static void make_key(mt_slice host, mt_slice qid, char *key, size_t *len)
{
    size_t hn = host.len > 40 ? 40 : host.len;
    size_t qn = qid.len > 30 ? 30 : qid.len;
    if (hn) /* an empty slice may be NULL */
        memcpy(key, host.p, hn);
    key[hn] = ' ';
    if (qn)
        memcpy(key + hn + 1, qid.p, qn);
    *len = hn + 1 + qn;
}

static msg *lookup(mt_join *j, const char *key, size_t keylen, uint64_t h, msg ***link)
{
    msg **pp = &j->tab[h & (j->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        msg *m = *pp;
        if (m->hash == h && m->keylen == keylen && memcmp(m->key, key, keylen) == 0) {
            if (link)
                *link = pp;
            return m;
        }
    }
    if (link)
        *link = pp;
    return NULL;
}

static void grow_table(mt_join *j)
{
    size_t nb = j->nbuckets * 2;
    msg **tab = mt_xcalloc(nb, sizeof *tab);
    for (size_t i = 0; i < j->nbuckets; i++) {
        msg *m = j->tab[i];
        while (m) {
            msg *next = m->next;
            m->next = tab[m->hash & (nb - 1)];
            tab[m->hash & (nb - 1)] = m;
            m = next;
        }
    }
    free(j->tab);
    j->tab = tab;
    j->nbuckets = nb;
}

/* keep_ids - whether messages keep their queue and message ids: not when
 * counting only, unless the --messages table is looked up by them */
static int keep_ids(const mt_join *j)
{
    return !j->counts_only || j->meta != NULL;
}

static msg *create(mt_join *j, const char *key, size_t keylen, uint64_t h, mt_slice qid)
{
    msg *m = j->free_list;
    if (m) {
        j->free_list = m->next;
        mt_buf_reset(&m->arena);
        mt_buf_reset(&m->atypes);
    } else {
        m = mt_xcalloc(1, sizeof *m);
        mt_buf_init(&m->arena);
        mt_buf_init(&m->atypes);
    }
    memcpy(m->key, key, keylen);
    m->keylen = keylen;
    m->hash = h;
    m->from_domain = m->message_id = m->template_id = m->header_from = NONE;
    m->size = -1;
    m->expired = 0;
    m->saw_content_type = 0;
    m->nrc = 0;
    m->npd = 0;
    m->host = put(m, key, (size_t)((const char *)memchr(key, ' ', keylen) - key));
    m->queue_id = keep_ids(j) ? put(m, qid.p, qid.len) : NONE;
    if (j->count + 1 > j->nbuckets)
        grow_table(j);
    msg **slot = &j->tab[h & (j->nbuckets - 1)];
    m->next = *slot;
    *slot = m;
    j->count++;
    if (j->count > j->stats.in_flight_peak)
        j->stats.in_flight_peak = j->count;
    return m;
}

/* emit - hand out the message's attempts, then recycle it. */
static void emit(mt_join *j, msg *m)
{
    if (m->npd)
        j->stats.messages++;
    uint64_t serial = ++j->serial;
    for (uint32_t i = 0; i < m->npd; i++) {
        const pend *p = &m->pd[i];
        const rcpt *r = &m->rc[p->rcpt];
        mt_attempt a;
        memset(&a, 0, sizeof a);
        a.time = p->time;
        a.time_usec = p->usec;
        a.source_file = p->file;
        a.source_line = p->line;
        a.queue_id = str(m, m->queue_id);
        a.message_id = str(m, m->message_id);
        a.route = str(m, p->route);
        if (a.route)
            mt_routes_find(j->routes, str(m, m->host), a.route, &a.sending_ip, &a.helo_name);
        if (!a.sending_ip)
            a.sending_ip = str(m, p->sending_ip);
        if (!a.helo_name)
            a.helo_name = str(m, p->helo);
        a.mail_from_domain = str(m, m->from_domain);
        a.header_from_domain = str(m, m->header_from);
        a.recipient = str(m, r->addr);
        a.recipient_domain = str(m, r->domain);
        a.mx_host = str(m, p->mx_host);
        a.mx_ip = str(m, p->mx_ip);
        a.reply_text = str(m, p->reply);
        a.message_template_id = str(m, m->template_id);
        a.attachment_types = m->atypes.len ? m->atypes.data : m->saw_content_type ? "none" : NULL;
        a.message_size = m->size;
        a.delay_seconds = p->delay;
        a.retry_count = p->retry;
        a.reply_code = p->code;
        memcpy(a.enhanced, p->enhanced, sizeof a.enhanced);
        a.stage = p->stage;
        a.status = p->status;
        switch (r->last) {
        case MT_STATUS_SENT:
            a.final_status = MT_FINAL_DELIVERED;
            break;
        case MT_STATUS_BOUNCED:
            a.final_status = MT_FINAL_BOUNCED;
            break;
        case MT_STATUS_EXPIRED:
            a.final_status = MT_FINAL_EXPIRED;
            break;
        default:
            a.final_status = m->expired ? MT_FINAL_EXPIRED : MT_FINAL_DEFERRED;
        }
        if (j->meta) {
            const mt_msgmeta_row *row = mt_msgmeta_find(j->meta, a.message_id, a.queue_id);
            if (row) {
                if (!a.message_template_id)
                    a.message_template_id = row->template_id;
                if (!a.header_from_domain)
                    a.header_from_domain = row->header_from_domain;
                if (!a.attachment_types)
                    a.attachment_types = row->attachment_types;
                if (!a.mail_from_domain)
                    a.mail_from_domain = row->mail_from_domain;
                if (a.message_size < 0)
                    a.message_size = row->size;
            }
        }
        a.message_serial = serial;
        a.rcpt_index = p->rcpt;
        a.last_for_rcpt = p->retry + 1 == r->attempts;
        a.rcpt_first_time = r->first_time;
        if (p->cls.set) {
            a.provider = p->cls.provider;
            a.category = p->cls.category;
            a.rule_meaning = p->cls.meaning;
            a.rule_flags = p->cls.flags;
        } else {
            mt_classify(j->cls, &a);
        }
        j->fn(&a, j->arg);
    }
}

static void drop(mt_join *j, msg **link)
{
    msg *m = *link;
    *link = m->next;
    j->count--;
    m->next = j->free_list;
    j->free_list = m;
}

/* find_rcpt - the recipient addr of m, added if new (*idx: its index);
 * pre, when not NULL and set, says where addr's domain starts */
static rcpt *find_rcpt(msg *m, mt_slice addr, const mt_join_class *pre, uint32_t *idx)
{
    for (uint32_t i = 0; i < m->nrc; i++) {
        const char *a = m->arena.data + m->rc[i].addr;
        if (m->rc[i].addr_len == addr.len && memcmp(a, addr.p, addr.len) == 0) {
            *idx = i;
            return &m->rc[i];
        }
    }
    if (m->nrc == m->caprc) {
        m->caprc = m->caprc ? m->caprc * 2 : 4;
        m->rc = mt_xrealloc(m->rc, m->caprc * sizeof *m->rc);
    }
    rcpt *r = &m->rc[m->nrc];
    r->addr = put(m, addr.p, addr.len);
    r->addr_len = (uint32_t)addr.len;
    mt_slice d = pre && pre->set && pre->domain_at <= addr.len
                     ? (mt_slice){addr.p + pre->domain_at, addr.len - pre->domain_at}
                     : mt_domain_of(addr.p, addr.len);
    r->domain = d.len ? put_lower(m, d.p, d.len) : NONE;
    r->attempts = 0;
    r->last = MT_STATUS_DEFERRED;
    *idx = m->nrc++;
    return r;
}

/* add_attempt - file delivery line l as an attempt of m (pre: l as
 * classified ahead, or NULL); with counts_only what mt_join_set_counts_only
 * says is not kept */
static void add_attempt(msg *m, const mt_pf_line *l, const mt_join_class *pre, const char *file,
                        uint64_t lineno, int counts_only)
{
    uint32_t ri;
    rcpt *r = find_rcpt(m, l->to, pre, &ri);
    /* a recipient keyed without an address (Haraka's message at one
     * domain): its domain from the first line that names one (orig_to, an
     * address or a bare domain) */
    if (r->domain == NONE && l->to.len == 0 && l->orig_to.len) {
        mt_slice d = mt_domain_of(l->orig_to.p, l->orig_to.len);
        if (d.len == 0)
            d = l->orig_to;
        r->domain = put_lower(m, d.p, d.len);
    }
    if (m->npd == m->cappd) {
        m->cappd = m->cappd ? m->cappd * 2 : 4;
        m->pd = mt_xrealloc(m->pd, m->cappd * sizeof *m->pd);
    }
    pend *p = &m->pd[m->npd++];
    p->time = l->time;
    p->usec = l->usec;
    p->line = lineno;
    p->file = file;
    p->rcpt = ri;
    p->route = l->program.len ? put(m, l->program.p, l->program.len) : NONE;
    /* counts only: no MX IP, no MX host once classified (the joiner's
     * classification alone reads it), no accepted reply */
    int classified = pre && pre->set;
    int keep_reply = !counts_only || l->status != MT_STATUS_SENT;
    p->mx_host =
        (!counts_only || !classified) && l->mx_host.len ? put_lower(m, l->mx_host.p, l->mx_host.len) : NONE;
    p->mx_ip = !counts_only && l->mx_ip.len ? put(m, l->mx_ip.p, l->mx_ip.len) : NONE;
    p->reply = keep_reply && l->reply.len ? put(m, l->reply.p, l->reply.len) : NONE;
    p->sending_ip = l->sending_ip.len ? put(m, l->sending_ip.p, l->sending_ip.len) : NONE;
    p->helo = l->helo_name.len ? put_lower(m, l->helo_name.p, l->helo_name.len) : NONE;
    p->delay = l->delay;
    p->code = l->reply_code;
    if (r->attempts == 0)
        r->first_time = l->time;
    p->retry = r->attempts++;
    p->stage = l->stage;
    p->status = l->status;
    memcpy(p->enhanced, l->enhanced, sizeof p->enhanced);
    p->cls.set = 0;
    if (pre)
        p->cls = *pre;
    r->last = l->status;
}

/* header_from_domain - the domain of the first address in a From value. */
static void set_header_from(msg *m, mt_slice v)
{
    const char *lt = memchr(v.p, '<', v.len);
    const char *p = v.p;
    size_t n = v.len;
    if (lt) {
        const char *gt = memchr(lt, '>', v.len - (size_t)(lt - v.p));
        if (gt) {
            p = lt + 1;
            n = (size_t)(gt - lt - 1);
        }
    }
    mt_slice d = mt_domain_of(p, n);
    while (d.len && (d.p[d.len - 1] == ' ' || d.p[d.len - 1] == '>' || d.p[d.len - 1] == ')'))
        d.len--;
    if (d.len)
        m->header_from = put_lower(m, d.p, d.len);
}

static void add_content_type(msg *m, mt_slice v)
{
    m->saw_content_type = 1;
    size_t n = 0;
    while (n < v.len && v.p[n] != ';' && v.p[n] != ' ')
        n++;
    char t[96];
    if (n == 0 || n >= sizeof t)
        return;
    mt_copy_lower(t, v.p, n);
    t[n] = '\0';
    if (strncmp(t, "multipart/", 10) == 0 || strcmp(t, "text/plain") == 0 || strcmp(t, "text/html") == 0)
        return;
    /* dedupe in the comma list */
    const char *s = m->atypes.data;
    while (s && *s) {
        const char *c = strchr(s, ',');
        size_t l = c ? (size_t)(c - s) : strlen(s);
        if (l == n && memcmp(s, t, n) == 0)
            return;
        s = c ? c + 1 : NULL;
    }
    if (m->atypes.len)
        mt_buf_putc(&m->atypes, ',');
    mt_buf_append(&m->atypes, t, n);
}

static int joined(const mt_pf_line *l)
{
    return l->queue_id.len != 0 && l->kind != MT_PF_IGNORED && l->kind != MT_PF_BOUNCE_NOTICE;
}

uint64_t mt_join_key_hash(const mt_pf_line *l)
{
    if (!joined(l))
        return 0;
    char buf[80];
    size_t keylen;
    const char *key = key_of(l, buf, &keylen);
    return mt_hash(key, keylen);
}

void mt_join_classify_ahead(mt_classifier *cls, const mt_pf_line *l, mt_join_class *out)
{
    out->set = 0;
    if (l->kind != MT_PF_DELIVERY || !joined(l) || l->to.len == 0)
        return;
    /* what add_attempt and find_rcpt keep: the domain of the address, the
     * MX host and the reply */
    mt_slice d = mt_domain_of(l->to.p, l->to.len);
    mt_attempt a;
    mt_classify_logged(cls, d.p, d.len, l->mx_host.p, l->mx_host.len, l->status, l->reply.p, l->reply.len,
                       &a);
    out->provider = a.provider;
    out->meaning = a.rule_meaning;
    out->flags = a.rule_flags;
    out->category = a.category;
    out->domain_at = (uint32_t)(d.p - l->to.p);
    out->set = 1;
}

void mt_join_line(mt_join *j, const mt_pf_line *l, const char *file, uint64_t lineno)
{
    mt_join_line_hashed(j, l, mt_join_key_hash(l), NULL, file, lineno);
}

void mt_join_line_hashed(mt_join *j, const mt_pf_line *l, uint64_t h, const mt_join_class *pre,
                         const char *file, uint64_t lineno)
{
    if (!joined(l))
        return;
    char buf[80];
    size_t keylen;
    const char *key = key_of(l, buf, &keylen);
    msg **link;
    msg *m = lookup(j, key, keylen, h, &link);
    switch (l->kind) {
    case MT_PF_DELIVERY:
        if (m == NULL)
            m = create(j, key, keylen, h, l->queue_id);
        add_attempt(m, l, pre, file, lineno, j->counts_only);
        break;
    case MT_PF_QMGR_FROM:
        if (m == NULL)
            m = create(j, key, keylen, h, l->queue_id);
        if (m->from_domain == NONE && l->from.p) { /* NULL: the input does not say */
            mt_slice d = mt_domain_of(l->from.p, l->from.len);
            m->from_domain = put_lower(m, d.p, d.len);
        }
        if (l->size >= 0)
            m->size = l->size;
        /* what the other readers know of the message (Postfix: empty) */
        if (l->message_id.len && m->message_id == NONE && keep_ids(j))
            m->message_id = put(m, l->message_id.p, l->message_id.len);
        if (l->header_from.len && m->header_from == NONE)
            m->header_from = put_lower(m, l->header_from.p, l->header_from.len);
        if (l->template_id.len && m->template_id == NONE)
            m->template_id = put(m, l->template_id.p, l->template_id.len);
        if (l->attachment_types.len && m->atypes.len == 0)
            mt_buf_append(&m->atypes, l->attachment_types.p, l->attachment_types.len);
        break;
    case MT_PF_QMGR_EXPIRED:
        if (m)
            m->expired = 1;
        break;
    case MT_PF_MESSAGE_ID:
    case MT_PF_CLIENT:
        /* a new message under a queue id we still hold: its "removed"
         * line is missing (log gap); close the old one first */
        if (m && m->npd) {
            j->stats.reused_ids++;
            emit(j, m);
            drop(j, link);
            m = NULL;
        }
        if (m == NULL)
            m = create(j, key, keylen, h, l->queue_id);
        if (l->kind == MT_PF_MESSAGE_ID && keep_ids(j))
            m->message_id = put(m, l->message_id.p, l->message_id.len);
        break;
    case MT_PF_HEADER:
        if (m == NULL)
            m = create(j, key, keylen, h, l->queue_id);
        if (l->header_name.len == strlen(j->template_header) &&
            strncasecmp(l->header_name.p, j->template_header, l->header_name.len) == 0) {
            if (m->template_id == NONE)
                m->template_id = put(m, l->header_value.p, l->header_value.len);
        } else if (l->header_name.len == 4 && strncasecmp(l->header_name.p, "From", 4) == 0) {
            if (m->header_from == NONE)
                set_header_from(m, l->header_value);
        } else if (l->header_name.len == 12 && strncasecmp(l->header_name.p, "Content-Type", 12) == 0) {
            add_content_type(m, l->header_value);
        }
        break;
    case MT_PF_REMOVED:
        if (m) {
            emit(j, m);
            drop(j, link);
        }
        break;
    default:
        break;
    }
}

void mt_join_finish(mt_join *j)
{
    /* emit in creation order is not tracked; emit bucket by bucket */
    for (size_t i = 0; i < j->nbuckets; i++) {
        while (j->tab[i]) {
            emit(j, j->tab[i]);
            drop(j, &j->tab[i]);
        }
    }
}

void mt_join_set_messages(mt_join *j, const mt_msgmeta *meta)
{
    j->meta = meta;
}

void mt_join_set_counts_only(mt_join *j, int on)
{
    j->counts_only = on;
}

const mt_join_stats *mt_join_get_stats(const mt_join *j)
{
    return &j->stats;
}

void mt_join_free(mt_join *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->nbuckets; i++) {
        msg *m = j->tab[i];
        while (m) {
            msg *n = m->next;
            m->next = j->free_list;
            j->free_list = m;
            m = n;
        }
    }
    msg *m = j->free_list;
    while (m) {
        msg *n = m->next;
        mt_buf_free(&m->arena);
        mt_buf_free(&m->atypes);
        free(m->rc);
        free(m->pd);
        free(m);
        m = n;
    }
    free(j->tab);
    free(j);
}
