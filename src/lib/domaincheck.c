/*
 * domaincheck.c - the sender checks.  Independent lookups go out together
 * (DKIM selectors, DMARC candidates, blocklist zones, MX hosts, PTR
 * names) through mt_dns_submit and one mt_dns_wait; SPF evaluation uses
 * spf.c.  Every check records the lookups it made as evidence lines.
 */
#include "domaincheck.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim.h"
#include "spf.h"

const char *mt_chk_status_name(mt_chk_status s)
{
    static const char *const n[] = {"pass", "warn", "fail", "error"};
    return (unsigned)s < 4 ? n[s] : "error";
}

static mt_check *add(mt_domain_report *r, const char *area, const char *name, mt_chk_status st,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static mt_check *add(mt_domain_report *r, const char *area, const char *name, mt_chk_status st,
                     const char *fmt, ...)
{
    r->checks = mt_xrealloc(r->checks, (r->n + 1) * sizeof *r->checks);
    mt_check *c = &r->checks[r->n++];
    memset(c, 0, sizeof *c);
    c->area = mt_xstrdup(area);
    c->name = mt_xstrdup(name);
    c->status = st;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    /* clang-analyzer 14 misreads va_start here (a known false positive, as in util.c) */
    vsnprintf(buf, sizeof buf, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    c->summary = mt_xstrdup(buf);
    r->counts[st]++;
    return c;
}

static void ev(mt_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ev(mt_check *c, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    /* clang-analyzer 14 misreads va_start here (a known false positive, as in util.c) */
    vsnprintf(buf, sizeof buf, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
    c->evidence = mt_xrealloc(c->evidence, (c->nevidence + 1) * sizeof *c->evidence);
    c->evidence[c->nevidence++] = mt_xstrdup(buf);
}

/* Evidence line for one answer: "TXT name: status, N record(s)". */
static const char *tname(int t)
{
    switch (t) {
    case MT_DNS_A:
        return "A";
    case MT_DNS_AAAA:
        return "AAAA";
    case MT_DNS_MX:
        return "MX";
    case MT_DNS_TXT:
        return "TXT";
    case MT_DNS_PTR:
        return "PTR";
    case MT_DNS_CNAME:
        return "CNAME";
    case MT_DNS_SPF:
        return "SPF";
    default:
        return "?";
    }
}

static void ev_answer(mt_check *c, const mt_dns_answer *a)
{
    mt_buf b;
    mt_buf_init(&b);
    mt_buf_printf(&b, "%s %s: %s", tname(a->type), a->name, mt_dns_status_name(a->status));
    for (size_t k = 0; k < a->n && k < 12; k++) {
        const mt_dns_rr *r = &a->rr[k];
        if (a->type == MT_DNS_MX)
            mt_buf_printf(&b, "%s %u %s", k ? "," : " ->", r->pref, r->data);
        else if (a->type == MT_DNS_TXT || a->type == MT_DNS_SPF)
            mt_buf_printf(&b, "%s \"%.300s\"", k ? "," : " ->", r->data);
        else
            mt_buf_printf(&b, "%s %s", k ? "," : " ->", r->data);
    }
    if (a->n > 12)
        mt_buf_printf(&b, " (+%zu more)", a->n - 12);
    if (a->cname)
        mt_buf_printf(&b, " (via CNAME %s)", a->cname);
    ev(c, "%s", b.data);
    mt_buf_free(&b);
}

static int dns_temp(mt_dns_status s)
{
    return s == MT_DNS_TIMEOUT || s == MT_DNS_SERVFAIL || s == MT_DNS_REFUSED || s == MT_DNS_MALFORMED ||
           s == MT_DNS_ERROR;
}

/* --- parallel lookups: answers copied into slots */

static void copy_cb(void *arg, const mt_dns_answer *a)
{
    mt_dns_answer **slot = arg;
    mt_dns_answer *c = mt_xcalloc(1, sizeof *c);
    c->status = a->status;
    c->type = a->type;
    c->name = mt_xstrdup(a->name);
    c->cname = a->cname ? mt_xstrdup(a->cname) : NULL;
    c->n = a->n;
    c->rr = mt_xcalloc(a->n ? a->n : 1, sizeof *c->rr);
    for (size_t k = 0; k < a->n; k++) {
        c->rr[k] = a->rr[k];
        c->rr[k].data = mt_xmalloc(a->rr[k].len + 1);
        memcpy(c->rr[k].data, a->rr[k].data, a->rr[k].len + 1);
    }
    *slot = c;
}

/* ------------------------------------------------------------------ SPF */

static void check_spf(mt_dns *d, const char *domain, const mt_domaincheck_opts *o, mt_domain_report *r)
{
    const char *env = domain;
    if (o->mail_from) {
        const char *at = strrchr(o->mail_from, '@');
        env = at ? at + 1 : o->mail_from;
    }
    mt_dns_answer *a = mt_dns_txt(d, env);
    mt_dns_answer *a99 = mt_dns_query(d, env, MT_DNS_SPF);
    const mt_dns_rr *rec = NULL;
    int nspf = 0, senderid = 0;
    for (size_t k = 0; a->status == MT_DNS_OK && k < a->n; k++) {
        if (a->rr[k].len >= 6 && strncasecmp(a->rr[k].data, "v=spf1", 6) == 0 &&
            (a->rr[k].len == 6 || a->rr[k].data[6] == ' ')) {
            rec = &a->rr[k];
            nspf++;
        } else if (a->rr[k].len >= 7 && strncasecmp(a->rr[k].data, "spf2.0/", 7) == 0)
            senderid = 1;
    }
    mt_check *c;
    char nm[300];
    snprintf(nm, sizeof nm, "record %s", env);
    if (dns_temp(a->status)) {
        c = add(r, "spf", nm, MT_CHK_ERROR, "the TXT lookup failed (%s)", mt_dns_status_name(a->status));
        ev_answer(c, a);
    } else if (nspf == 0) {
        c = add(r, "spf", nm, MT_CHK_FAIL, "no SPF record (receivers see SPF none)");
        ev_answer(c, a);
    } else if (nspf > 1) {
        c = add(r, "spf", nm, MT_CHK_FAIL, "%d SPF records: check_host() gives permerror", nspf);
        ev_answer(c, a);
    } else {
        mt_spf_syntax s;
        mt_spf_parse_check(rec->data, rec->len, &s);
        if (!s.ok) {
            c = add(r, "spf", nm, MT_CHK_FAIL, "the record does not parse: %s", s.error);
        } else {
            mt_chk_status st = MT_CHK_PASS;
            mt_buf w;
            mt_buf_init(&w);
            if (s.has_ptr) {
                mt_buf_puts(&w, "; uses ptr (slow, discouraged by RFC 7208 5.5)");
                st = MT_CHK_WARN;
            }
            if (s.has_all && s.all_qualifier == '+') {
                mt_buf_puts(&w, "; +all lets every host on the Internet pass");
                st = MT_CHK_FAIL;
            } else if (s.has_all && s.all_qualifier == '?') {
                mt_buf_puts(&w, "; ?all is neutral: no protection");
                if (st < MT_CHK_WARN)
                    st = MT_CHK_WARN;
            } else if (!s.has_all && !s.has_redirect) {
                mt_buf_puts(&w, "; no all and no redirect: the default is neutral");
                if (st < MT_CHK_WARN)
                    st = MT_CHK_WARN;
            }
            if (s.duplicate_includes) {
                mt_buf_printf(&w, "; %d duplicate include(s)", s.duplicate_includes);
                if (st < MT_CHK_WARN)
                    st = MT_CHK_WARN;
            }
            if (rec->len > 450) {
                mt_buf_printf(&w, "; %zu bytes (RFC 7208 3.4: keep under 450)", rec->len);
                if (st < MT_CHK_WARN)
                    st = MT_CHK_WARN;
            }
            if (senderid) {
                mt_buf_puts(&w, "; a Sender ID (spf2.0) record is published too");
                if (st < MT_CHK_WARN)
                    st = MT_CHK_WARN;
            }
            c = add(r, "spf", nm, st, "record parses%s", w.len ? w.data : "");
            mt_buf_free(&w);
        }
        ev(c, "TXT %s -> \"%.600s\"", env, rec->data);
    }
    if (a99->status == MT_DNS_OK)
        ev(c, "type 99 (SPF) record present: obsolete since RFC 7208, only TXT is read");
    mt_dns_answer_free(a);
    mt_dns_answer_free(a99);
    if (nspf != 1)
        return;
    /* the whole tree: an address no record lists (TEST-NET-1) walks every term */
    const char *probe[] = {"192.0.2.1"};
    const char *const *ips = o->nips ? o->ips : probe;
    size_t nips = o->nips ? o->nips : 1;
    for (size_t i = 0; i < nips; i++) {
        mt_spf_request req = {.ip = ips[i], .sender = NULL, .helo = o->helo};
        char sender[512];
        snprintf(sender, sizeof sender, "postmaster@%s", env);
        req.sender = sender;
        mt_spf_outcome out;
        mt_spf_check(d, &req, &out);
        mt_chk_status st;
        if (!o->nips) {
            snprintf(nm, sizeof nm, "lookups %s", env);
            st = out.result == MT_SPF_PERMERROR                ? MT_CHK_FAIL
                 : out.result == MT_SPF_TEMPERROR              ? MT_CHK_ERROR
                 : out.dns_lookups > 8 || out.void_lookups > 1 ? MT_CHK_WARN
                                                               : MT_CHK_PASS;
            c = add(r, "spf", nm, st, "%d of 10 DNS lookups, %d of 2 void lookups%s%s", out.dns_lookups,
                    out.void_lookups, out.problem ? ": " : "", out.problem ? out.problem : "");
        } else {
            snprintf(nm, sizeof nm, "check_host %s", ips[i]);
            switch (out.result) {
            case MT_SPF_PASS:
                st = MT_CHK_PASS;
                break;
            case MT_SPF_SOFTFAIL:
            case MT_SPF_NEUTRAL:
            case MT_SPF_NONE:
                st = MT_CHK_WARN;
                break;
            case MT_SPF_TEMPERROR:
                st = MT_CHK_ERROR;
                break;
            default:
                st = MT_CHK_FAIL;
                break;
            }
            c = add(r, "spf", nm, st, "%s for %s (%d of 10 DNS lookups, %d void)%s%s",
                    mt_spf_result_name(out.result), ips[i], out.dns_lookups, out.void_lookups,
                    out.problem ? ": " : "", out.problem ? out.problem : "");
            if (out.mechanism)
                ev(c, "matched %s", out.mechanism);
        }
        mt_buf t;
        mt_buf_init(&t);
        mt_spf_tree_text(out.tree, &t, 0);
        for (char *line = t.data, *nl; line && *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl)
                break;
            *nl = '\0';
            ev(c, "%s", line);
        }
        mt_buf_reset(&t);
        mt_spf_tree_json(out.tree, &t);
        c->json_extra = mt_xstrdup(t.data);
        mt_buf_free(&t);
        mt_spf_outcome_free(&out);
    }
}

/* ----------------------------------------------------------------- DKIM */

/* Next tag=value of a tag-list; 0 at the end. */
static int next_tag(const char **pp, const char *end, const char **tag, size_t *tl, const char **val,
                    size_t *vl)
{
    const char *p = *pp;
    while (p < end && (*p == ';' || isspace((unsigned char)*p)))
        p++;
    if (p >= end)
        return 0;
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *te = semi ? semi : end;
    const char *eq = memchr(p, '=', (size_t)(te - p));
    *tag = p;
    const char *tend = eq ? eq : te;
    while (tend > p && isspace((unsigned char)tend[-1]))
        tend--;
    *tl = (size_t)(tend - p);
    if (eq) {
        const char *v = eq + 1;
        while (v < te && isspace((unsigned char)*v))
            v++;
        const char *ve = te;
        while (ve > v && isspace((unsigned char)ve[-1]))
            ve--;
        *val = v;
        *vl = (size_t)(ve - v);
    } else {
        *val = NULL;
        *vl = 0;
    }
    *pp = te;
    return 1;
}

static int tag_is(const char *t, size_t tl, const char *name)
{
    return tl == strlen(name) && strncasecmp(t, name, tl) == 0;
}

mt_chk_status mt_dkim_key_check(const char *rec, size_t len, char *sum, size_t sumlen, int *bits)
{
    mt_dkim_key key;
    if (mt_dkim_key_parse(rec, len, &key, sum, sumlen) < 0) {
        *bits = key.bits;
        return MT_CHK_FAIL;
    }
    *bits = key.bits;
    mt_dkim_key_free(&key);
    mt_chk_status st = MT_CHK_PASS;
    if (key.ed25519)
        snprintf(sum, sumlen, "ed25519 key");
    else if (key.bits < 2048) {
        snprintf(sum, sumlen, "RSA key of %d bits (2048 recommended)", key.bits);
        st = MT_CHK_WARN;
    } else
        snprintf(sum, sumlen, "RSA key of %d bits", key.bits);
    if (key.testing) {
        size_t u = strlen(sum);
        snprintf(sum + u, sumlen - u, "; t=y: testing mode, receivers may ignore failures");
        st = MT_CHK_WARN;
    }
    if (!key.sha256_ok) {
        size_t u = strlen(sum);
        snprintf(sum + u, sumlen - u, "; h= excludes sha256: rsa-sha256/ed25519-sha256 signatures fail");
        st = MT_CHK_WARN;
    } else if (key.restr[0]) {
        size_t u = strlen(sum);
        snprintf(sum + u, sumlen - u, "; restricted: %s", key.restr);
    }
    return st;
}

static void check_dkim(mt_dns *d, const char *domain, const mt_domaincheck_opts *o, mt_domain_report *r)
{
    static const char *const common[] = {"default", "dkim", "mail", "selector1", "selector2", "google",
                                         "k1",      "s1",   "s2",   "smtp",      "key1",      "mx"};
    const char *const *sel = o->nselectors ? o->selectors : common;
    size_t n = o->nselectors ? o->nselectors : sizeof common / sizeof common[0];
    mt_dns_answer **ans = mt_xcalloc(n, sizeof *ans);
    for (size_t i = 0; i < n; i++) {
        char name[600];
        snprintf(name, sizeof name, "%s._domainkey.%s", sel[i], domain);
        mt_dns_submit(d, name, MT_DNS_TXT, copy_cb, &ans[i]);
    }
    mt_dns_wait(d);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        mt_dns_answer *a = ans[i];
        char nm[300];
        snprintf(nm, sizeof nm, "key %s", sel[i]);
        if (a->status == MT_DNS_OK && a->n >= 1) {
            found++;
            char sum[400];
            int bits;
            mt_chk_status st = a->n > 1
                                   ? MT_CHK_FAIL
                                   : mt_dkim_key_check(a->rr[0].data, a->rr[0].len, sum, sizeof sum, &bits);
            if (a->n > 1)
                snprintf(sum, sizeof sum, "%zu TXT records at the key name (must be one)", a->n);
            mt_check *c = add(r, "dkim", nm, st, "%s", sum);
            ev_answer(c, a);
        } else if (o->nselectors) {
            mt_check *c = add(r, "dkim", nm, dns_temp(a->status) ? MT_CHK_ERROR : MT_CHK_FAIL,
                              "no key published (%s)", mt_dns_status_name(a->status));
            ev_answer(c, a);
        }
    }
    if (!o->nselectors && !found) {
        mt_check *c = add(r, "dkim", "keys", MT_CHK_WARN,
                          "no key under %zu common selectors (give --selector for the real one)", n);
        for (size_t i = 0; i < n; i++)
            ev_answer(c, ans[i]);
    }
    for (size_t i = 0; i < n; i++)
        mt_dns_answer_free(ans[i]);
    free(ans);
}

/* ---------------------------------------------------------------- DMARC */

mt_chk_status mt_dmarc_record_check(const char *rec, size_t len, char *sum, size_t sumlen, char *p_out,
                                    size_t p_len)
{
    static const char *const known[] = {"v",   "p",   "sp", "np", "adkim", "aspf", "pct",
                                        "rua", "ruf", "fo", "rf", "ri",    "t",    "psd"};
    const char *p = rec, *end = rec + len, *tag, *val;
    size_t tl, vl;
    int first = 1, seen[sizeof known / sizeof known[0]] = {0};
    mt_chk_status st = MT_CHK_PASS;
    char notes[512] = "";
    char pol[16] = "", sp[16] = "", np[16] = "";
    p_out[0] = '\0';
#define NOTE(...)                                                                                            \
    do {                                                                                                     \
        size_t u_ = strlen(notes);                                                                           \
        snprintf(notes + u_, sizeof notes - u_, __VA_ARGS__);                                                \
    } while (0)
    while (next_tag(&p, end, &tag, &tl, &val, &vl)) {
        if (first) {
            first = 0;
            if (!tag_is(tag, tl, "v") || !val || !(vl == 6 && strncmp(val, "DMARC1", 6) == 0)) {
                snprintf(sum, sumlen, "does not start with v=DMARC1");
                return MT_CHK_FAIL;
            }
        }
        if (!val) {
            snprintf(sum, sumlen, "malformed tag '%.*s'", (int)(tl > 40 ? 40 : tl), tag);
            return MT_CHK_FAIL;
        }
        int idx = -1;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (tag_is(tag, tl, known[k]))
                idx = (int)k;
        if (idx < 0) {
            NOTE("; unknown tag %.*s", (int)(tl > 20 ? 20 : tl), tag);
            if (st < MT_CHK_WARN)
                st = MT_CHK_WARN;
            continue;
        }
        if (seen[idx]++) {
            snprintf(sum, sumlen, "duplicate tag %s", known[idx]);
            return MT_CHK_FAIL;
        }
        char v[16];
        snprintf(v, sizeof v, "%.*s", (int)(vl > 15 ? 15 : vl), val);
        if (!strcmp(known[idx], "p") || !strcmp(known[idx], "sp") || !strcmp(known[idx], "np")) {
            if (strcasecmp(v, "none") != 0 && strcasecmp(v, "quarantine") != 0 &&
                strcasecmp(v, "reject") != 0) {
                snprintf(sum, sumlen, "%s=%s is not none, quarantine or reject", known[idx], v);
                return MT_CHK_FAIL;
            }
            for (char *q = v; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            strcpy(!strcmp(known[idx], "p") ? pol : !strcmp(known[idx], "sp") ? sp : np, v);
        } else if (!strcmp(known[idx], "adkim") || !strcmp(known[idx], "aspf")) {
            if (strcasecmp(v, "r") != 0 && strcasecmp(v, "s") != 0) {
                snprintf(sum, sumlen, "%s=%s is not r or s", known[idx], v);
                return MT_CHK_FAIL;
            }
            NOTE("; %s=%s", known[idx], v);
        } else if (!strcmp(known[idx], "pct")) {
            char *e2;
            long n = strtol(v, &e2, 10);
            if (*e2 || n < 0 || n > 100) {
                snprintf(sum, sumlen, "pct=%s is not 0..100", v);
                return MT_CHK_FAIL;
            }
            if (n < 100) {
                NOTE("; pct=%ld: the policy applies to part of the mail", n);
                if (st < MT_CHK_WARN)
                    st = MT_CHK_WARN;
            }
        } else if (!strcmp(known[idx], "rua") || !strcmp(known[idx], "ruf")) {
            if (vl < 7 || strncasecmp(val, "mailto:", 7) != 0) {
                NOTE("; %s does not hold mailto: URIs", known[idx]);
                if (st < MT_CHK_WARN)
                    st = MT_CHK_WARN;
            }
        }
    }
    if (first) {
        snprintf(sum, sumlen, "empty record");
        return MT_CHK_FAIL;
    }
    if (!pol[0]) {
        snprintf(sum, sumlen, "no p= policy");
        return MT_CHK_FAIL;
    }
    snprintf(p_out, p_len, "%s", pol);
    if (!strcmp(pol, "none")) {
        NOTE("; p=none: monitoring only, receivers act on their own");
        if (st < MT_CHK_WARN)
            st = MT_CHK_WARN;
    }
    static const char *const rank[] = {"none", "quarantine", "reject"};
    int pr = 0, sr = -1, nr = -1;
    for (int k = 0; k < 3; k++) {
        if (!strcmp(pol, rank[k]))
            pr = k;
        if (!strcmp(sp, rank[k]))
            sr = k;
        if (!strcmp(np, rank[k]))
            nr = k;
    }
    if (sr >= 0 && sr < pr) {
        NOTE("; sp=%s is weaker than p=%s", sp, pol);
        if (st < MT_CHK_WARN)
            st = MT_CHK_WARN;
    }
    if (nr >= 0 && nr < pr) {
        NOTE("; np=%s is weaker than p=%s", np, pol);
        if (st < MT_CHK_WARN)
            st = MT_CHK_WARN;
    }
    snprintf(sum, sumlen, "p=%s%s%s%s%s%s", pol, sp[0] ? " sp=" : "", sp, np[0] ? " np=" : "", np, notes);
#undef NOTE
    return st;
}

/* The first DMARC record among a TXT answer, or NULL; *count of them. */
static const mt_dns_rr *dmarc_in(const mt_dns_answer *a, int *count)
{
    const mt_dns_rr *found = NULL;
    *count = 0;
    for (size_t k = 0; a && a->status == MT_DNS_OK && k < a->n; k++)
        if (a->rr[k].len >= 8 && strncmp(a->rr[k].data, "v=DMARC1", 8) == 0) {
            found = found ? found : &a->rr[k];
            (*count)++;
        }
    return found;
}

static void check_dmarc(mt_dns *d, const mt_orgdomain *od, const char *domain, const mt_domaincheck_opts *o,
                        mt_domain_report *r)
{
    /* candidates: the RFC 9989 tree walk (the domain, then each parent, at
     * most 8 labels deep first) and the RFC 7489 organisational domain */
    const char *names[10];
    size_t nn = 0;
    const char *p = domain;
    int labels = 1;
    for (const char *q = domain; *q; q++)
        labels += *q == '.';
    names[nn++] = domain;
    if (labels > 8) { /* jump to the last 7 labels */
        int skip = labels - 7;
        while (skip-- > 0 && (p = strchr(p, '.')))
            p++;
        if (p && *p)
            names[nn++] = p;
    } else
        p = domain;
    /* every parent down to the top-level domain (where a public-suffix
     * operator may publish a psd=y record) */
    while (p && (p = strchr(p, '.')) && nn < 9 && p[1])
        names[nn++] = ++p;
    char orgbuf[256];
    const char *org = mt_orgdomain_of(od, domain, orgbuf, sizeof orgbuf);
    mt_dns_answer *ans[10] = {0};
    for (size_t i = 0; i < nn; i++) {
        char q[600];
        snprintf(q, sizeof q, "_dmarc.%s", names[i]);
        mt_dns_submit(d, q, MT_DNS_TXT, copy_cb, &ans[i]);
    }
    mt_dns_wait(d);
    int idx_walk = -1, idx_7489 = -1, temp = 0;
    for (size_t i = 0; i < nn; i++) {
        int cnt;
        if (dns_temp(ans[i]->status))
            temp = 1;
        if (dmarc_in(ans[i], &cnt) && idx_walk < 0)
            idx_walk = (int)i;
        if (i == 0 || strcasecmp(names[i], org) == 0) {
            if (idx_7489 < 0 && dmarc_in(ans[i], &cnt))
                idx_7489 = (int)i;
        }
    }
    mt_check *c;
    if (idx_walk < 0 && idx_7489 < 0) {
        c = add(r, "dmarc", "record", temp ? MT_CHK_ERROR : MT_CHK_FAIL,
                temp ? "DNS errors looking for a DMARC record"
                     : "no DMARC record (domain %s, organisational %s)",
                domain, org);
        for (size_t i = 0; i < nn; i++)
            ev_answer(c, ans[i]);
    } else {
        int use = idx_7489 >= 0 ? idx_7489 : idx_walk;
        int cnt;
        const mt_dns_rr *rec = dmarc_in(ans[use], &cnt);
        char sum[700], pol[16];
        mt_chk_status st = mt_dmarc_record_check(rec->data, rec->len, sum, sizeof sum, pol, sizeof pol);
        if (cnt > 1) {
            st = MT_CHK_FAIL;
            snprintf(sum, sizeof sum, "%d DMARC records at _dmarc.%s (must be one: receivers ignore them)",
                     cnt, names[use]);
        }
        c = add(r, "dmarc", "record", st, "%s", sum);
        ev(c, "RFC 7489 (organisational domain %s via the Public Suffix List): %s%s", org,
           idx_7489 >= 0 ? "_dmarc." : "not found", idx_7489 >= 0 ? names[idx_7489] : "");
        ev(c, "RFC 9989 (DNS tree walk): %s%s", idx_walk >= 0 ? "_dmarc." : "not found",
           idx_walk >= 0 ? names[idx_walk] : "");
        ev_answer(c, ans[use]);
        /* external report destinations must authorise us (RFC 7489 §7.1) */
        const char *pp = rec->data, *end = rec->data + rec->len, *tag, *val;
        size_t tl, vl;
        while (next_tag(&pp, end, &tag, &tl, &val, &vl)) {
            if (!val || !(tag_is(tag, tl, "rua") || tag_is(tag, tl, "ruf")))
                continue;
            char list[600];
            snprintf(list, sizeof list, "%.*s", (int)(vl > 599 ? 599 : vl), val);
            for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
                 tok = strtok_r(NULL, ",", &save)) {
                while (isspace((unsigned char)*tok))
                    tok++;
                char *at = strchr(tok, '@');
                if (strncasecmp(tok, "mailto:", 7) != 0 || !at)
                    continue;
                char rd[300];
                snprintf(rd, sizeof rd, "%s", at + 1);
                rd[strcspn(rd, "!; ")] = '\0';
                char nm[400];
                snprintf(nm, sizeof nm, "%.*s %s", (int)tl, tag, tok);
                if (mt_orgdomain_same(od, rd, names[use])) {
                    add(r, "dmarc", nm, MT_CHK_PASS, "report address inside the organisational domain");
                    continue;
                }
                char q[700];
                snprintf(q, sizeof q, "%s._report._dmarc.%s", names[use], rd);
                mt_dns_answer *a = mt_dns_txt(d, q);
                int ok = 0;
                for (size_t k = 0; a->status == MT_DNS_OK && k < a->n; k++)
                    if (a->rr[k].len >= 8 && strncmp(a->rr[k].data, "v=DMARC1", 8) == 0)
                        ok = 1;
                mt_check *cc =
                    add(r, "dmarc", nm,
                        ok                    ? MT_CHK_PASS
                        : dns_temp(a->status) ? MT_CHK_ERROR
                                              : MT_CHK_FAIL,
                        ok ? "external destination %s authorises the reports"
                           : "external destination %s does not authorise the reports: they are dropped",
                        rd);
                ev_answer(cc, a);
                mt_dns_answer_free(a);
            }
        }
        /* alignment of the envelope domain (SPF identity) and the DKIM domain */
        if (o->mail_from) {
            const char *at = strrchr(o->mail_from, '@');
            const char *mf = at ? at + 1 : o->mail_from;
            int strict = strstr(rec->data, "aspf=s") != NULL;
            int aligned = strict ? strcasecmp(mf, domain) == 0 : mt_orgdomain_same(od, mf, domain);
            add(r, "dmarc", "spf alignment", aligned ? MT_CHK_PASS : MT_CHK_WARN,
                aligned ? "MAIL FROM domain %s aligns with %s (%s)"
                        : "MAIL FROM domain %s does not align with %s (%s): DMARC then rests on DKIM alone",
                mf, domain, strict ? "strict" : "relaxed");
        }
        /* a usable key found under the domain: signatures made with it carry d=domain */
        size_t keys = 0;
        for (size_t i = 0; i < r->n; i++)
            if (strcmp(r->checks[i].area, "dkim") == 0 && strncmp(r->checks[i].name, "key ", 4) == 0 &&
                r->checks[i].status <= MT_CHK_WARN)
                keys++;
        if (o->nselectors)
            add(r, "dmarc", "dkim alignment", keys ? MT_CHK_PASS : MT_CHK_FAIL,
                keys ? "%zu usable DKIM key(s) under %s: signatures with d=%s align (%s)"
                     : "%zu usable DKIM keys under %s: no signature with d=%s can pass, DMARC rests on SPF "
                       "(%s)",
                keys, domain, domain, strstr(rec->data, "adkim=s") ? "strict" : "relaxed");
    }
    for (size_t i = 0; i < nn; i++)
        mt_dns_answer_free(ans[i]);
}

/* ------------------------------------------------------------------- MX */

static int looks_ip(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1 || s[0] == '[';
}

static void check_mx(mt_dns *d, const char *domain, mt_domain_report *r)
{
    mt_dns_answer *a = mt_dns_query(d, domain, MT_DNS_MX);
    mt_check *c;
    if (dns_temp(a->status)) {
        c = add(r, "mx", "records", MT_CHK_ERROR, "the MX lookup failed (%s)", mt_dns_status_name(a->status));
        ev_answer(c, a);
        mt_dns_answer_free(a);
        return;
    }
    if (a->status != MT_DNS_OK) {
        c = add(r, "mx", "records", MT_CHK_FAIL, "no MX record (%s): bounces and replies may not come back",
                mt_dns_status_name(a->status));
        ev_answer(c, a);
        mt_dns_answer_free(a);
        return;
    }
    if (a->n == 1 && a->rr[0].len == 0) {
        c = add(r, "mx", "records", MT_CHK_FAIL,
                "null MX (RFC 7505): the domain accepts no mail, bounces are lost");
        ev_answer(c, a);
        mt_dns_answer_free(a);
        return;
    }
    c = add(r, "mx", "records", MT_CHK_PASS, "%zu MX host(s)", a->n);
    ev_answer(c, a);
    size_t n = a->n < 20 ? a->n : 20;
    mt_dns_answer *h4[20] = {0}, *h6[20] = {0};
    for (size_t i = 0; i < n; i++) {
        if (looks_ip(a->rr[i].data))
            continue;
        mt_dns_submit(d, a->rr[i].data, MT_DNS_A, copy_cb, &h4[i]);
        mt_dns_submit(d, a->rr[i].data, MT_DNS_AAAA, copy_cb, &h6[i]);
    }
    mt_dns_wait(d);
    for (size_t i = 0; i < n; i++) {
        char nm[300];
        snprintf(nm, sizeof nm, "host %s", a->rr[i].data);
        if (looks_ip(a->rr[i].data)) {
            add(r, "mx", nm, MT_CHK_FAIL, "an IP address where a host name must be (RFC 5321 5.1)");
            continue;
        }
        int addrs = (h4[i]->status == MT_DNS_OK) + (h6[i]->status == MT_DNS_OK);
        const char *cname = h4[i]->cname ? h4[i]->cname : h6[i]->cname;
        mt_chk_status st = addrs == 0 ? (dns_temp(h4[i]->status) ? MT_CHK_ERROR : MT_CHK_FAIL)
                           : cname    ? MT_CHK_WARN
                                      : MT_CHK_PASS;
        c = add(r, "mx", nm, st,
                addrs == 0 ? "does not resolve"
                : cname    ? "is a CNAME (RFC 2181 10.3: must not be)"
                           : "resolves");
        ev_answer(c, h4[i]);
        ev_answer(c, h6[i]);
    }
    for (size_t i = 0; i < n; i++) {
        mt_dns_answer_free(h4[i]);
        mt_dns_answer_free(h6[i]);
    }
    mt_dns_answer_free(a);
}

/* ------------------------------------------------------ reverse DNS, HELO */

/* A PTR name that looks dynamically assigned: it carries the address's
 * digits or a provider's pool word. */
static int generic_name(const char *name, const char *ip)
{
    static const char *const words[] = {"dynamic", "dyn",        "dhcp",   "pool",      "ppp",      "dsl",
                                        "adsl",    "cable",      "dialup", "broadband", "customer", "client",
                                        "static",  "unassigned", "host-",  "ip-",       "user"};
    char low[300];
    snprintf(low, sizeof low, "%s", name);
    mt_lower_ascii(low, strlen(low));
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        const char *w = strstr(low, words[k]);
        if (w && (w == low || !isalpha((unsigned char)w[-1])))
            return 1;
    }
    unsigned char a[4];
    if (inet_pton(AF_INET, ip, a) == 1) {
        char f[4][32];
        snprintf(f[0], 32, "%u-%u-%u-%u", a[0], a[1], a[2], a[3]);
        snprintf(f[1], 32, "%u-%u-%u-%u", a[3], a[2], a[1], a[0]);
        snprintf(f[2], 32, "%u.%u.%u.%u", a[3], a[2], a[1], a[0]);
        snprintf(f[3], 32, "%02x%02x%02x%02x", a[0], a[1], a[2], a[3]);
        for (int k = 0; k < 4; k++)
            if (strstr(low, f[k]))
                return 1;
    }
    return 0;
}

static int answer_has_ip(const mt_dns_answer *a, const char *ip)
{
    unsigned char x[16];
    int v6 = inet_pton(AF_INET, ip, x) != 1;
    if (v6 && inet_pton(AF_INET6, ip, x) != 1)
        return 0;
    for (size_t k = 0; a && a->status == MT_DNS_OK && k < a->n; k++)
        if (memcmp(a->rr[k].addr, x, v6 ? 16 : 4) == 0)
            return 1;
    return 0;
}

static void check_ip(mt_dns *d, const char *ip, const char *helo, mt_domain_report *r)
{
    char rev[100], nm[200];
    snprintf(nm, sizeof nm, "ptr %s", ip);
    if (mt_dns_reverse_name(ip, rev, sizeof rev) < 0) {
        add(r, "rdns", nm, MT_CHK_ERROR, "'%s' is not an IP address", ip);
        return;
    }
    int v6 = strchr(ip, ':') != NULL;
    mt_dns_answer *p = mt_dns_query(d, rev, MT_DNS_PTR);
    mt_check *c;
    if (p->status != MT_DNS_OK) {
        c = add(r, "rdns", nm, dns_temp(p->status) ? MT_CHK_ERROR : MT_CHK_FAIL,
                "no PTR record (%s): many receivers refuse or defer such senders",
                mt_dns_status_name(p->status));
        ev_answer(c, p);
    } else {
        size_t n = p->n < 10 ? p->n : 10;
        mt_dns_answer *f[10] = {0};
        for (size_t i = 0; i < n; i++)
            mt_dns_submit(d, p->rr[i].data, v6 ? MT_DNS_AAAA : MT_DNS_A, copy_cb, &f[i]);
        mt_dns_wait(d);
        const char *confirmed = NULL;
        for (size_t i = 0; i < n; i++)
            if (!confirmed && answer_has_ip(f[i], ip))
                confirmed = p->rr[i].data;
        int generic = confirmed ? generic_name(confirmed, ip) : 0;
        mt_chk_status st = !confirmed ? MT_CHK_FAIL : generic ? MT_CHK_WARN : MT_CHK_PASS;
        c = add(r, "rdns", nm, st,
                !confirmed ? "PTR %s is not forward-confirmed (FCrDNS fails)"
                : generic  ? "PTR %s is forward-confirmed but looks generic (dynamic-pool style)"
                           : "PTR %s is forward-confirmed",
                confirmed ? confirmed : p->rr[0].data);
        if (p->n > 1)
            ev(c, "%zu PTR records (one is usual)", p->n);
        ev_answer(c, p);
        for (size_t i = 0; i < n; i++) {
            ev_answer(c, f[i]);
            mt_dns_answer_free(f[i]);
        }
        if (helo && confirmed && strcasecmp(helo, confirmed) != 0)
            ev(c, "HELO %s differs from the PTR name", helo);
    }
    mt_dns_answer_free(p);
    if (helo) {
        snprintf(nm, sizeof nm, "helo %s for %s", helo, ip);
        mt_dns_answer *h = mt_dns_query(d, helo, v6 ? MT_DNS_AAAA : MT_DNS_A);
        int match = answer_has_ip(h, ip);
        mt_chk_status st = h->status != MT_DNS_OK ? (dns_temp(h->status) ? MT_CHK_ERROR : MT_CHK_FAIL)
                           : match                ? MT_CHK_PASS
                                                  : MT_CHK_WARN;
        c = add(r, "helo", nm, st,
                h->status != MT_DNS_OK ? "the HELO name does not resolve (%s)"
                : match                ? "the HELO name resolves to the sending IP%s"
                                       : "the HELO name resolves, but not to the sending IP%s",
                h->status != MT_DNS_OK ? mt_dns_status_name(h->status) : "");
        ev_answer(c, h);
        mt_dns_answer_free(h);
    }
}

/* ------------------------------------------------------------- DNSBLs */

static const char *const default_ip_zones[] = {"zen.spamhaus.org", "bl.spamcop.net",
                                               "b.barracudacentral.org"};
static const char *const default_domain_zones[] = {"dbl.spamhaus.org"};

/* The meaning of a DNSBL answer address; *unknown set for the codes that
 * mean "your query was refused" rather than "listed". */
static const char *dnsbl_meaning(const unsigned char *a, int *unknown)
{
    *unknown = 0;
    if (a[0] != 127) {
        *unknown = 1;
        return "not a 127/8 answer (wildcarded or hijacked DNS)";
    }
    if (a[1] == 255 && a[2] == 255 && a[3] >= 252) {
        *unknown = 1;
        return a[3] == 254   ? "query refused: public/open resolver"
               : a[3] == 255 ? "query refused: excessive queries"
                             : "query refused: typing error in the zone";
    }
    if (a[1] == 0 && a[2] == 1 && a[3] == 255) {
        *unknown = 1;
        return "query refused: IP queries to a domain list";
    }
    if (a[1] == 0 && a[2] == 0) {
        switch (a[3]) {
        case 2:
            return "listed: SBL (spam source)";
        case 3:
            return "listed: CSS (snowshoe spam)";
        case 4:
        case 5:
        case 6:
        case 7:
            return "listed: XBL (exploited or infected host)";
        case 9:
            return "listed: DROP (hijacked netblock)";
        case 10:
        case 11:
            return "listed: PBL (end-user range, should not send directly)";
        default:
            return "listed";
        }
    }
    if (a[1] == 0 && a[2] == 1) {
        if (a[3] >= 102 && a[3] <= 106)
            return "listed: abused legitimate domain";
        switch (a[3]) {
        case 2:
            return "listed: spam domain";
        case 4:
            return "listed: phishing domain";
        case 5:
            return "listed: malware domain";
        case 6:
            return "listed: botnet C&C domain";
        default:
            return "listed";
        }
    }
    return "listed";
}

static void check_dnsbl(mt_dns *d, const char *domain, const mt_domaincheck_opts *o, mt_domain_report *r)
{
    const char *const *iz = o->ip_zones ? o->ip_zones : default_ip_zones;
    size_t niz = o->ip_zones ? o->nip_zones : sizeof default_ip_zones / sizeof default_ip_zones[0];
    const char *const *dz = o->domain_zones ? o->domain_zones : default_domain_zones;
    size_t ndz =
        o->domain_zones ? o->ndomain_zones : sizeof default_domain_zones / sizeof default_domain_zones[0];
    size_t total = o->nips * niz + ndz;
    if (!total)
        return;
    mt_dns_answer **ans = mt_xcalloc(total, sizeof *ans);
    char **qn = mt_xcalloc(total, sizeof *qn);
    size_t q = 0;
    for (size_t i = 0; i < o->nips; i++) {
        char rev[100];
        if (mt_dns_reverse_name(o->ips[i], rev, sizeof rev) < 0)
            rev[0] = '\0';
        char *dot = strstr(rev, ".in-addr.arpa");
        if (!dot)
            dot = strstr(rev, ".ip6.arpa");
        if (dot)
            *dot = '\0';
        for (size_t z = 0; z < niz; z++, q++) {
            char name[400];
            snprintf(name, sizeof name, "%s.%s", rev, iz[z]);
            qn[q] = mt_xstrdup(name);
            mt_dns_submit(d, name, MT_DNS_A, copy_cb, &ans[q]);
        }
    }
    for (size_t z = 0; z < ndz; z++, q++) {
        char name[600];
        snprintf(name, sizeof name, "%s.%s", domain, dz[z]);
        qn[q] = mt_xstrdup(name);
        mt_dns_submit(d, name, MT_DNS_A, copy_cb, &ans[q]);
    }
    mt_dns_wait(d);
    for (size_t k = 0; k < total; k++) {
        int is_ip = k < o->nips * niz;
        const char *what = is_ip ? o->ips[k / niz] : domain;
        const char *zone = is_ip ? iz[k % niz] : dz[k - o->nips * niz];
        char nm[400];
        snprintf(nm, sizeof nm, "%s in %s", what, zone);
        mt_dns_answer *a = ans[k];
        mt_check *c;
        if (a->status == MT_DNS_NXDOMAIN || a->status == MT_DNS_NODATA)
            c = add(r, "dnsbl", nm, MT_CHK_PASS, "not listed");
        else if (a->status != MT_DNS_OK)
            c = add(r, "dnsbl", nm, MT_CHK_ERROR, "unknown: the lookup failed (%s)",
                    mt_dns_status_name(a->status));
        else {
            int unknown = 0, listed = 0;
            mt_buf m;
            mt_buf_init(&m);
            for (size_t j = 0; j < a->n; j++) {
                int u;
                const char *mean = dnsbl_meaning(a->rr[j].addr, &u);
                if (u)
                    unknown = 1;
                else
                    listed = 1;
                mt_buf_printf(&m, "%s%s = %s", j ? "; " : "", a->rr[j].data, mean);
            }
            c = add(r, "dnsbl", nm,
                    listed    ? MT_CHK_FAIL
                    : unknown ? MT_CHK_ERROR
                              : MT_CHK_PASS,
                    "%s%s", listed ? "" : "unknown: ", m.data ? m.data : "");
            mt_buf_free(&m);
        }
        ev_answer(c, a);
        mt_dns_answer_free(a);
        free(qn[k]);
    }
    free(ans);
    free(qn);
}

/* --------------------------------------------------------------- the run */

static int want(const mt_domaincheck_opts *o, const char *area)
{
    if (!o->only)
        return 1;
    size_t n = strlen(area);
    for (const char *p = o->only; *p;) {
        size_t l = strcspn(p, ",");
        if (l == n && strncmp(p, area, n) == 0)
            return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

void mt_domaincheck_run(mt_dns *d, const char *domain, const mt_domaincheck_opts *o, mt_domain_report *out)
{
    memset(out, 0, sizeof *out);
    out->domain = mt_xstrdup(domain);
    mt_orgdomain *own = o->org ? NULL : mt_orgdomain_open();
    const mt_orgdomain *od = o->org ? o->org : own;
    if (want(o, "spf"))
        check_spf(d, domain, o, out);
    if (want(o, "dkim"))
        check_dkim(d, domain, o, out);
    if (want(o, "dmarc"))
        check_dmarc(d, od, domain, o, out);
    if (want(o, "mx"))
        check_mx(d, domain, out);
    for (size_t i = 0; i < o->nips && (want(o, "rdns") || want(o, "helo")); i++)
        check_ip(d, o->ips[i], o->helo, out);
    if (!o->nips && o->helo && want(o, "helo")) {
        mt_dns_answer *h = mt_dns_query(d, o->helo, MT_DNS_A);
        char nm[300];
        snprintf(nm, sizeof nm, "helo %s", o->helo);
        mt_check *c =
            add(out, "helo", nm, h->status == MT_DNS_OK ? MT_CHK_PASS : MT_CHK_FAIL,
                h->status == MT_DNS_OK ? "the HELO name resolves" : "the HELO name does not resolve");
        ev_answer(c, h);
        mt_dns_answer_free(h);
    }
    if (want(o, "dnsbl"))
        check_dnsbl(d, domain, o, out);
    mt_orgdomain_close(own);
}

void mt_domain_report_free(mt_domain_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        mt_check *c = &r->checks[i];
        free(c->area);
        free(c->name);
        free(c->summary);
        for (size_t k = 0; k < c->nevidence; k++)
            free(c->evidence[k]);
        free(c->evidence);
        free(c->json_extra);
    }
    free(r->checks);
    free(r->domain);
    memset(r, 0, sizeof *r);
}

void mt_domain_report_text(const mt_domain_report *r, mt_buf *b)
{
    mt_buf_printf(b, "%s: %d pass, %d warn, %d fail, %d error\n", r->domain, r->counts[0], r->counts[1],
                  r->counts[2], r->counts[3]);
    for (size_t i = 0; i < r->n; i++) {
        const mt_check *c = &r->checks[i];
        mt_buf_printf(b, "  %-5s %s %s: %s\n", mt_chk_status_name(c->status), c->area, c->name, c->summary);
        for (size_t k = 0; k < c->nevidence; k++)
            mt_buf_printf(b, "          %s\n", c->evidence[k]);
    }
}

void mt_domain_report_json(const mt_domain_report *r, mt_buf *b)
{
    mt_buf_puts(b, "{\"domain\":");
    mt_buf_put_json_str(b, r->domain, strlen(r->domain));
    mt_buf_printf(b, ",\"counts\":{\"pass\":%d,\"warn\":%d,\"fail\":%d,\"error\":%d},\"checks\":[",
                  r->counts[0], r->counts[1], r->counts[2], r->counts[3]);
    for (size_t i = 0; i < r->n; i++) {
        const mt_check *c = &r->checks[i];
        if (i)
            mt_buf_putc(b, ',');
        mt_buf_puts(b, "{\"area\":");
        mt_buf_put_json_str(b, c->area, strlen(c->area));
        mt_buf_puts(b, ",\"check\":");
        mt_buf_put_json_str(b, c->name, strlen(c->name));
        mt_buf_printf(b, ",\"status\":\"%s\",\"summary\":", mt_chk_status_name(c->status));
        mt_buf_put_json_str(b, c->summary, strlen(c->summary));
        mt_buf_puts(b, ",\"evidence\":[");
        for (size_t k = 0; k < c->nevidence; k++) {
            if (k)
                mt_buf_putc(b, ',');
            mt_buf_put_json_str(b, c->evidence[k], strlen(c->evidence[k]));
        }
        mt_buf_putc(b, ']');
        if (c->json_extra)
            mt_buf_printf(b, ",\"spf_tree\":%s", c->json_extra);
        mt_buf_putc(b, '}');
    }
    mt_buf_puts(b, "]}");
}
