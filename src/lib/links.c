/*
 * links.c - finding URLs in bodies and telling what kind they are.
 */
#include "links.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static void add(mt_links *l, mt_link_kind k, const char *url, size_t ulen, size_t off, const char *text,
                size_t tlen)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = mt_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    mt_link *x = &l->v[l->n++];
    x->kind = k;
    /* decode &amp; (the only entity that matters inside URLs) */
    char *u = mt_xmalloc(ulen + 1);
    size_t j = 0;
    for (size_t i = 0; i < ulen; i++) {
        if (url[i] == '&' && ulen - i >= 5 && strncasecmp(url + i, "&amp;", 5) == 0) {
            u[j++] = '&';
            i += 4;
        } else {
            u[j++] = url[i];
        }
    }
    u[j] = '\0';
    x->url = u;
    x->text = text ? mt_xstrndup(text, tlen) : NULL;
    x->off = off;
    x->len = ulen;
}

void mt_links_free(mt_links *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].url);
        free(l->v[i].text);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int is_web(const char *u, size_t n)
{
    return (n >= 7 && strncasecmp(u, "http://", 7) == 0) || (n >= 8 && strncasecmp(u, "https://", 8) == 0) ||
           (n >= 2 && u[0] == '/' && u[1] == '/');
}

/* the visible text between a tag's end and </a> */
static void anchor_text(const char *s, size_t n, size_t from, mt_buf *out)
{
    size_t i = from;
    int sp = 0;
    while (i < n) {
        if (s[i] == '<') {
            if (n - i >= 3 && strncasecmp(s + i, "</a", 3) == 0)
                break;
            const char *gt = memchr(s + i, '>', n - i);
            i = gt ? (size_t)(gt - s) + 1 : n;
            continue;
        }
        char c = s[i++];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            sp = out->len > 0;
            continue;
        }
        if (sp)
            mt_buf_putc(out, ' ');
        sp = 0;
        mt_buf_putc(out, c);
        if (out->len > 300)
            break;
    }
}

void mt_links_from_html(const char *s, size_t n, mt_links *out)
{
    size_t i = 0;
    mt_buf text;
    mt_buf_init(&text);
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        if (lt == NULL)
            break;
        size_t t = (size_t)(lt - s);
        if (n - t >= 4 && memcmp(s + t, "<!--", 4) == 0) {
            const char *e = memmem(s + t + 4, n - t - 4, "-->", 3);
            i = e ? (size_t)(e - s) + 3 : n;
            continue;
        }
        const char *gt = memchr(s + t, '>', n - t);
        size_t tend = gt ? (size_t)(gt - s) : n;
        int is_a = tend - t >= 2 && (s[t + 1] == 'a' || s[t + 1] == 'A') &&
                   (s[t + 2] == ' ' || s[t + 2] == '\t' || s[t + 2] == '\n' || s[t + 2] == '\r');
        /* attributes inside the tag */
        size_t k = t + 1;
        while (k < tend) {
            size_t an = 0;
            mt_link_kind kind = MT_LINK_HREF;
            if (tend - k >= 5 && strncasecmp(s + k, "href", 4) == 0)
                an = 4;
            else if (tend - k >= 4 && strncasecmp(s + k, "src", 3) == 0) {
                an = 3;
                kind = MT_LINK_IMG;
            } else if (tend - k >= 11 && strncasecmp(s + k, "background", 10) == 0) {
                an = 10;
                kind = MT_LINK_IMG;
            }
            int boundary =
                k > t && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n' || s[k - 1] == '\r');
            if (an == 0 || !boundary) {
                k++;
                continue;
            }
            size_t p = k + an;
            while (p < tend && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || s[p] == '\n'))
                p++;
            if (p >= tend || s[p] != '=') {
                k++;
                continue;
            }
            p++;
            while (p < tend && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || s[p] == '\n'))
                p++;
            char q = p < tend ? s[p] : 0;
            size_t vs, ve;
            if (q == '"' || q == '\'') {
                vs = p + 1;
                const char *e = memchr(s + vs, q, n - vs);
                ve = e ? (size_t)(e - s) : tend;
                if (ve > tend && e) { /* a '>' inside the quotes: the tag ends later */
                    const char *g2 = memchr(s + ve, '>', n - ve);
                    tend = g2 ? (size_t)(g2 - s) : n;
                }
            } else {
                vs = p;
                ve = p;
                while (ve < tend && s[ve] != ' ' && s[ve] != '\t' && s[ve] != '\n' && s[ve] != '\r')
                    ve++;
            }
            size_t a = vs, b = ve;
            while (a < b && (s[a] == ' ' || s[a] == '\n' || s[a] == '\r' || s[a] == '\t'))
                a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\n' || s[b - 1] == '\r' || s[b - 1] == '\t'))
                b--;
            if (is_web(s + a, b - a)) {
                mt_buf_reset(&text);
                if (kind == MT_LINK_HREF && is_a && tend < n)
                    anchor_text(s, n, tend + 1, &text);
                add(out, kind, s + a, b - a, a, kind == MT_LINK_HREF ? (text.data ? text.data : "") : NULL,
                    text.len);
            }
            k = ve + 1;
        }
        i = tend + 1;
    }
    mt_buf_free(&text);
}

void mt_links_from_text(const char *s, size_t n, mt_links *out)
{
    size_t i = 0;
    while (i + 7 < n) {
        const char *h = memmem(s + i, n - i, "http", 4);
        if (h == NULL)
            break;
        size_t p = (size_t)(h - s);
        size_t ls = p;
        if (!is_web(s + p, n - p) || (p > 0 && (s[p - 1] == '=' || s[p - 1] == '/' || s[p - 1] == '%'))) {
            i = p + 4;
            continue;
        }
        size_t e = p;
        while (e < n && (unsigned char)s[e] > ' ' && s[e] != '<' && s[e] != '>' && s[e] != '"' &&
               s[e] != '\'' && (unsigned char)s[e] < 0x80)
            e++;
        while (e > p && strchr(".,;:!?)]}", s[e - 1]))
            e--;
        add(out, MT_LINK_TEXT, s + ls, e - ls, ls, NULL, 0);
        i = e;
    }
}

int mt_url_host(const char *url, char *host, size_t hostlen)
{
    const char *p = strstr(url, "//");
    if (p == NULL)
        return -1;
    p += 2;
    const char *e = p;
    while (*e && *e != '/' && *e != '?' && *e != '#' && *e != '\\')
        e++;
    /* userinfo */
    for (const char *a = e; a > p; a--)
        if (a[-1] == '@') {
            p = a;
            break;
        }
    const char *hs = p, *he = e;
    if (*hs == '[') {
        const char *rb = memchr(hs, ']', (size_t)(he - hs));
        if (rb == NULL)
            return -1;
        hs++;
        he = rb;
    } else {
        const char *colon = memchr(hs, ':', (size_t)(he - hs));
        if (colon)
            he = colon;
    }
    while (he > hs && he[-1] == '.')
        he--;
    if (he == hs)
        return -1;
    size_t n = (size_t)(he - hs) < hostlen - 1 ? (size_t)(he - hs) : hostlen - 1;
    memcpy(host, hs, n);
    host[n] = '\0';
    mt_lower_ascii(host, n);
    return 0;
}

int mt_host_is_ip(const char *host)
{
    if (strchr(host, ':'))
        return 1; /* IPv6 */
    int digits = 1, hex = 0;
    for (const char *p = host; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            digits = 0;
    }
    if (!strncmp(host, "0x", 2))
        hex = 1;
    return (digits && host[0] != '\0') || hex;
}

int mt_host_is_shortener(const char *host)
{
    static const char *const s[] = {
        "bit.ly",     "bitly.com", "t.co",       "tinyurl.com", "goo.gl",  "ow.ly",   "is.gd",  "buff.ly",
        "rebrand.ly", "cutt.ly",   "t.ly",       "shorturl.at", "rb.gy",   "tiny.cc", "s.id",   "t.cn",
        "dwz.cn",     "url.cn",    "suo.im",     "w.url.cn",    "lnkd.in", "v.gd",    "qr.net", "clck.ru",
        "x.co",       "surl.li",   "tinyurl.cn", "u.nu",        "soo.gd",  "bl.ink"};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (strcmp(host, s[i]) == 0)
            return 1;
    return 0;
}

static char *pct_decode(const char *s, size_t n)
{
    char *o = mt_xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && mt_hex_value(s[i + 1]) >= 0 && mt_hex_value(s[i + 2]) >= 0) {
            o[j++] = (char)(mt_hex_value(s[i + 1]) * 16 + mt_hex_value(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            o[j++] = ' ';
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = '\0';
    return o;
}

char *mt_url_unwrap(const char *url)
{
    static const char *const names[] = {
        "url",          "u", "target", "dest", "destination", "redirect", "redirect_url",
        "redirect_uri", "r", "link",   "to",   "goto",        "href",     "l"};
    const char *q = strchr(url, '?');
    if (q == NULL)
        return NULL;
    const char *p = q + 1;
    while (*p) {
        const char *amp = strchr(p, '&');
        const char *e = amp ? amp : p + strlen(p);
        const char *hash = memchr(p, '#', (size_t)(e - p));
        if (hash)
            e = hash;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq) {
            size_t nl = (size_t)(eq - p);
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                if (strlen(names[i]) == nl && strncasecmp(p, names[i], nl) == 0) {
                    char *v = pct_decode(eq + 1, (size_t)(e - eq - 1));
                    if (is_web(v, strlen(v)) && strncmp(v, "//", 2) != 0)
                        return v;
                    free(v);
                }
            }
        }
        if (!amp || (hash && hash < amp))
            break;
        p = amp + 1;
    }
    return NULL;
}

int mt_url_is_tracking(const char *url)
{
    char *t = mt_url_unwrap(url);
    if (t) {
        free(t);
        return 1;
    }
    char host[256];
    if (mt_url_host(url, host, sizeof host) < 0)
        return 0;
    static const char *const hosts[] = {
        "sendgrid.net",      "list-manage.com",  "mailchi.mp",   "mandrillapp.com", "rs6.net",
        "mcsv.net",          "hubspotlinks.com", "exct.net",     "mailgun.org",     "createsend1.com",
        "cmail19.com",       "cmail20.com",      "mktoweb.com",  "mkt.com",         "awstrack.me",
        "sparkpostmail.com", "mjt.lu",           "klclick.com",  "klclick1.com",    "ct.sendgrid.net",
        "emltrk.com",        "edm.163.com",      "mailtrack.io", "postmarkapp.com"};
    size_t hl = strlen(host);
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t l = strlen(hosts[i]);
        if (hl >= l && strcmp(host + hl - l, hosts[i]) == 0 && (hl == l || host[hl - l - 1] == '.'))
            return 1;
    }
    static const char *const first[] = {
        "click.",    "clicks.", "track.",  "tracking.", "trk.", "links.", "link.", "email.", "em.", "url",
        "redirect.", "lnk.",    "ablink.", "ct.",       "go.",  "r.",     "t.",    "e.",     "l."};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
        if (strncmp(host, first[i], strlen(first[i])) == 0 && strchr(host + strlen(first[i]), '.'))
            return 1;
    static const char *const paths[] = {"/ls/click", "/track/click", "/wf/click", "/trk/", "/click/", "/c/"};
    const char *path = strstr(url, "//");
    path = path ? strchr(path + 2, '/') : NULL;
    for (size_t i = 0; path && i < sizeof paths / sizeof paths[0]; i++)
        if (strncmp(path, paths[i], strlen(paths[i])) == 0)
            return 1;
    return 0;
}
