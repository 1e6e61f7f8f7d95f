/*
 * dns.c - c-ares behind a small interface: a FIFO of queries, at most
 * max_inflight on the wire, answers reduced to mt_dns_answer.
 *
 * Parsing: TXT, A, AAAA and MX go through c-ares's own parsers; PTR,
 * CNAME and the RFC 4408 type 99 (which c-ares does not parse) are read by
 * a short walk over the answer section that uses ares_expand_name for
 * every name, bounds-checked against the message.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <ares.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

typedef struct mt_dns_job {
    struct mt_dns_job *next;
    struct mt_dns *d;
    char *name;
    int type;
    mt_dns_cb cb;
    void *arg;
    mt_dns_answer **slot; /* mt_dns_query: the answer is handed over here */
} mt_dns_job;

struct mt_dns {
    ares_channel ch;
    int max_inflight;
    int inflight;
    int destroying;
    int dispatching; /* inside dispatch(): completions must not re-enter it */
    uint64_t sent;
    mt_dns_job *head, *tail; /* queued, not yet sent */
};

const char *mt_dns_status_name(mt_dns_status s)
{
    static const char *const names[] = {"ok",      "nodata",    "nxdomain", "servfail", "refused",
                                        "timeout", "malformed", "badname",  "error"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "error";
}

void mt_dns_answer_clear(mt_dns_answer *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->rr[i].data);
    free(a->rr);
    free(a->cname);
    a->rr = NULL;
    a->cname = NULL;
    a->n = 0;
}

void mt_dns_answer_free(mt_dns_answer *a)
{
    if (!a)
        return;
    mt_dns_answer_clear(a);
    free(a->name);
    free(a);
}

static mt_dns_rr *rr_add(mt_dns_answer *a, int type)
{
    a->rr = mt_xrealloc(a->rr, (a->n + 1) * sizeof *a->rr);
    mt_dns_rr *r = &a->rr[a->n++];
    memset(r, 0, sizeof *r);
    r->type = type;
    return r;
}

static void rr_set_data(mt_dns_rr *r, const char *p, size_t n)
{
    r->data = mt_xmalloc(n + 1);
    if (n)
        memcpy(r->data, p, n);
    r->data[n] = '\0';
    r->len = n;
}

static int name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '.')
        la--;
    while (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static void parse_txt(const unsigned char *abuf, int alen, mt_dns_answer *out, int *st)
{
    struct ares_txt_ext *txt = NULL;
    int rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
    if (rc != ARES_SUCCESS) {
        *st = rc;
        return;
    }
    mt_buf b;
    mt_buf_init(&b);
    mt_dns_rr *cur = NULL;
    for (struct ares_txt_ext *t = txt; t; t = t->next) {
        if (t->record_start || !cur) {
            if (cur)
                rr_set_data(cur, b.data ? b.data : "", b.len);
            cur = rr_add(out, MT_DNS_TXT);
            mt_buf_reset(&b);
        }
        mt_buf_append(&b, t->txt, t->length);
        cur->nstrings++;
    }
    if (cur)
        rr_set_data(cur, b.data ? b.data : "", b.len);
    mt_buf_free(&b);
    ares_free_data(txt);
    *st = out->n ? ARES_SUCCESS : ARES_ENODATA;
}

static void parse_addr(const unsigned char *abuf, int alen, int qtype, mt_dns_answer *out, int *st)
{
    struct hostent *h = NULL;
    int rc = qtype == MT_DNS_A ? ares_parse_a_reply(abuf, alen, &h, NULL, NULL)
                               : ares_parse_aaaa_reply(abuf, alen, &h, NULL, NULL);
    if (rc != ARES_SUCCESS) {
        *st = rc;
        return;
    }
    int fam = qtype == MT_DNS_A ? AF_INET : AF_INET6;
    size_t alen_b = qtype == MT_DNS_A ? 4 : 16;
    for (char **p = h->h_addr_list; p && *p; p++) {
        mt_dns_rr *r = rr_add(out, qtype);
        memcpy(r->addr, *p, alen_b);
        char txt[INET6_ADDRSTRLEN];
        inet_ntop(fam, r->addr, txt, sizeof txt);
        rr_set_data(r, txt, strlen(txt));
    }
    if (h->h_name && out->name && !name_eq(h->h_name, out->name))
        out->cname = mt_xstrdup(h->h_name);
    ares_free_hostent(h);
    *st = out->n ? ARES_SUCCESS : ARES_ENODATA;
}

static void parse_mx(const unsigned char *abuf, int alen, mt_dns_answer *out, int *st)
{
    struct ares_mx_reply *mx = NULL;
    int rc = ares_parse_mx_reply(abuf, alen, &mx);
    if (rc != ARES_SUCCESS) {
        *st = rc;
        return;
    }
    for (struct ares_mx_reply *m = mx; m; m = m->next) {
        mt_dns_rr *r = rr_add(out, MT_DNS_MX);
        r->pref = m->priority;
        rr_set_data(r, m->host, strlen(m->host));
    }
    ares_free_data(mx);
    *st = out->n ? ARES_SUCCESS : ARES_ENODATA;
}

/* The answer-section walk for PTR, CNAME and SPF (type 99). */
/* skip the (possibly compressed) name at *pp; -1 when it is bad or fewer
 * than fixed bytes follow it in the message */
static int skip_name(const unsigned char **pp, const unsigned char *abuf, int alen, size_t fixed)
{
    char *nm = NULL;
    long enc = 0;
    if (ares_expand_name(*pp, abuf, alen, &nm, &enc) != ARES_SUCCESS)
        return -1;
    ares_free_string(nm);
    *pp += enc;
    return *pp > abuf + alen || (size_t)(abuf + alen - *pp) < fixed ? -1 : 0;
}

static void parse_walk(const unsigned char *abuf, int alen, int qtype, mt_dns_answer *out, int *st)
{
    unsigned qd = (unsigned)abuf[4] << 8 | abuf[5], an = (unsigned)abuf[6] << 8 | abuf[7];
    const unsigned char *p = abuf + 12, *end = abuf + alen;
    for (unsigned i = 0; i < qd; i++) {
        if (skip_name(&p, abuf, alen, 4) < 0) {
            *st = ARES_EBADRESP;
            return;
        }
        p += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        if (skip_name(&p, abuf, alen, 10) < 0) {
            *st = ARES_EBADRESP;
            return;
        }
        int type = p[0] << 8 | p[1], cls = p[2] << 8 | p[3];
        size_t rdlen = (size_t)p[8] << 8 | p[9];
        p += 10;
        if ((size_t)(end - p) < rdlen) {
            *st = ARES_EBADRESP;
            return;
        }
        const unsigned char *rd = p;
        p += rdlen;
        if (cls != 1)
            continue;
        if (type == qtype && (type == MT_DNS_PTR || type == MT_DNS_CNAME)) {
            char *target = NULL;
            long enc = 0;
            if (ares_expand_name(rd, abuf, alen, &target, &enc) != ARES_SUCCESS || (size_t)enc > rdlen) {
                if (target)
                    ares_free_string(target);
                *st = ARES_EBADRESP;
                return;
            }
            mt_dns_rr *r = rr_add(out, type);
            rr_set_data(r, target, strlen(target));
            ares_free_string(target);
        } else if (type == qtype && type == MT_DNS_SPF) {
            mt_dns_rr *r = rr_add(out, type);
            mt_buf b;
            mt_buf_init(&b);
            size_t k = 0;
            while (k < rdlen) {
                size_t sl = rd[k++];
                if (sl > rdlen - k) {
                    mt_buf_free(&b);
                    *st = ARES_EBADRESP;
                    return;
                }
                mt_buf_append(&b, rd + k, sl);
                k += sl;
                r->nstrings++;
            }
            rr_set_data(r, b.data ? b.data : "", b.len);
            mt_buf_free(&b);
        }
    }
    *st = out->n ? ARES_SUCCESS : ARES_ENODATA;
}

void mt_dns_parse(const unsigned char *abuf, int alen, int qtype, mt_dns_answer *out)
{
    char *name = out->name;
    memset(out, 0, sizeof *out);
    out->name = name;
    out->type = qtype;
    if (!abuf || alen < 12) {
        out->status = MT_DNS_MALFORMED;
        return;
    }
    switch (abuf[3] & 0x0F) {
    case 0:
        break;
    case 2:
        out->status = MT_DNS_SERVFAIL;
        return;
    case 3:
        out->status = MT_DNS_NXDOMAIN;
        return;
    case 5:
        out->status = MT_DNS_REFUSED;
        return;
    default:
        out->status = MT_DNS_ERROR;
        return;
    }
    int st = ARES_EBADRESP;
    switch (qtype) {
    case MT_DNS_TXT:
        parse_txt(abuf, alen, out, &st);
        break;
    case MT_DNS_A:
    case MT_DNS_AAAA:
        parse_addr(abuf, alen, qtype, out, &st);
        break;
    case MT_DNS_MX:
        parse_mx(abuf, alen, out, &st);
        break;
    default:
        parse_walk(abuf, alen, qtype, out, &st);
        break;
    }
    if (st == ARES_SUCCESS)
        out->status = MT_DNS_OK;
    else if (st == ARES_ENODATA)
        out->status = MT_DNS_NODATA;
    else {
        mt_dns_answer_clear(out);
        out->status = MT_DNS_MALFORMED;
    }
}

static void dispatch(mt_dns *d);

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    mt_dns_job *j = arg;
    mt_dns *d = j->d;
    d->inflight--;
    if (status == ARES_EDESTRUCTION || d->destroying) {
        free(j->name);
        free(j);
        return;
    }
    mt_dns_answer *a = mt_xcalloc(1, sizeof *a);
    a->name = j->name;
    j->name = NULL;
    if (abuf && alen >= 12)
        mt_dns_parse(abuf, alen, j->type, a);
    else {
        a->type = j->type;
        switch (status) {
        case ARES_ETIMEOUT:
            a->status = MT_DNS_TIMEOUT;
            break;
        case ARES_ENOTFOUND:
            a->status = MT_DNS_NXDOMAIN;
            break;
        case ARES_ENODATA:
            a->status = MT_DNS_NODATA;
            break;
        case ARES_ESERVFAIL:
            a->status = MT_DNS_SERVFAIL;
            break;
        case ARES_EREFUSED:
            a->status = MT_DNS_REFUSED;
            break;
        case ARES_EBADNAME:
            a->status = MT_DNS_BADNAME;
            break;
        case ARES_EBADRESP:
        case ARES_EFORMERR:
            a->status = MT_DNS_MALFORMED;
            break;
        default:
            a->status = MT_DNS_ERROR;
            break;
        }
    }
    if (j->slot)
        *j->slot = a;
    else {
        j->cb(j->arg, a);
        mt_dns_answer_free(a);
    }
    free(j);
    if (!d->dispatching)
        dispatch(d);
}

/* A name we must not send: empty labels, labels over 63, over 253 bytes. */
static int bad_name(const char *n)
{
    size_t len = strlen(n);
    if (len && n[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return 1;
    size_t lab = 0;
    for (size_t i = 0; i < len; i++) {
        if (n[i] == '.') {
            if (lab == 0)
                return 1;
            lab = 0;
        } else if (++lab > 63)
            return 1;
    }
    return 0;
}

static void dispatch(mt_dns *d)
{
    if (d->dispatching)
        return; /* the running loop below takes what was queued */
    d->dispatching = 1;
    while (d->head && d->inflight < d->max_inflight) {
        mt_dns_job *j = d->head;
        d->head = j->next;
        if (!d->head)
            d->tail = NULL;
        d->inflight++;
        if (bad_name(j->name)) {
            on_answer(j, ARES_EBADNAME, 0, NULL, 0);
            continue;
        }
        d->sent++;
        ares_query(d->ch, j->name, 1 /* IN */, j->type, on_answer, j);
    }
    d->dispatching = 0;
}

static void enqueue(mt_dns *d, const char *name, int type, mt_dns_cb cb, void *arg, mt_dns_answer **slot)
{
    mt_dns_job *j = mt_xcalloc(1, sizeof *j);
    j->d = d;
    j->name = mt_xstrdup(name);
    j->type = type;
    j->cb = cb;
    j->arg = arg;
    j->slot = slot;
    if (d->tail)
        d->tail->next = j;
    else
        d->head = j;
    d->tail = j;
    dispatch(d);
}

void mt_dns_submit(mt_dns *d, const char *name, int type, mt_dns_cb cb, void *arg)
{
    enqueue(d, name, type, cb, arg, NULL);
}

/* One round: wait for socket activity or the next timeout, process it. */
static void step(mt_dns *d)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    /* ARES_GETSOCK_WRITABLE shifts a signed 1 by up to 31: test the bits unsigned */
    unsigned bits = (unsigned)ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
    struct pollfd pfd[ARES_GETSOCK_MAXNUM];
    int n = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
        short ev = 0;
        if (bits & (1u << i))
            ev |= POLLIN;
        if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
            ev |= POLLOUT;
        if (!ev)
            continue;
        pfd[n].fd = socks[i];
        pfd[n].events = ev;
        pfd[n].revents = 0;
        n++;
    }
    struct timeval tv, *tvp = ares_timeout(d->ch, NULL, &tv);
    int ms = tvp ? (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000) : 100;
    int r = poll(pfd, (nfds_t)n, ms);
    if (r <= 0) {
        ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        return;
    }
    for (int i = 0; i < n; i++) {
        ares_socket_t rs = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD;
        ares_socket_t ws = (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD;
        if (rs != ARES_SOCKET_BAD || ws != ARES_SOCKET_BAD)
            ares_process_fd(d->ch, rs, ws);
    }
}

void mt_dns_wait(mt_dns *d)
{
    while (d->inflight > 0 || d->head)
        step(d);
}

mt_dns_answer *mt_dns_query(mt_dns *d, const char *name, int type)
{
    mt_dns_answer *a = NULL;
    enqueue(d, name, type, NULL, NULL, &a);
    while (!a)
        step(d);
    return a;
}

mt_dns_answer *mt_dns_txt(mt_dns *d, const char *name)
{
    return mt_dns_query(d, name, MT_DNS_TXT);
}

uint64_t mt_dns_queries(const mt_dns *d)
{
    return d->sent;
}

mt_dns *mt_dns_new(const mt_dns_opts *o, char *err, size_t errlen)
{
    mt_dns_opts def = {0};
    if (!o)
        o = &def;
    struct ares_options opt;
    memset(&opt, 0, sizeof opt);
    opt.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_EDNS;
    opt.timeout = o->timeout_ms > 0 ? o->timeout_ms : 2000;
    opt.tries = o->tries > 0 ? o->tries : 2;
    opt.ednspsz = 1232;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_EDNSPSZ;
    mt_dns *d = mt_xcalloc(1, sizeof *d);
    int rc = ares_init_options(&d->ch, &opt, mask);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "cannot start the DNS resolver: %s", ares_strerror(rc));
        free(d);
        return NULL;
    }
    if (o->resolver && *o->resolver) {
        rc = ares_set_servers_ports_csv(d->ch, o->resolver);
        if (rc != ARES_SUCCESS) {
            snprintf(err, errlen, "bad resolver address '%s' (want IP or IP:PORT, [IPv6]:PORT): %s",
                     o->resolver, ares_strerror(rc));
            ares_destroy(d->ch);
            free(d);
            return NULL;
        }
    }
    d->max_inflight = o->max_inflight > 0 ? o->max_inflight : 128;
    return d;
}

void mt_dns_free(mt_dns *d)
{
    if (!d)
        return;
    d->destroying = 1;
    ares_destroy(d->ch);
    for (mt_dns_job *j = d->head, *n; j; j = n) {
        n = j->next;
        free(j->name);
        free(j);
    }
    free(d);
}

int mt_dns_reverse_name(const char *ip, char *buf, size_t len)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1) {
        snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, a) == 1) {
        static const char hex[] = "0123456789abcdef";
        if (len < 74)
            return -1;
        char *p = buf;
        for (int i = 15; i >= 0; i--) {
            *p++ = hex[a[i] & 0xF];
            *p++ = '.';
            *p++ = hex[a[i] >> 4];
            *p++ = '.';
        }
        memcpy(p, "ip6.arpa", 9);
        return 0;
    }
    return -1;
}
