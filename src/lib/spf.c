/*
 * spf.c - RFC 7208 check_host(), written from the RFC.
 *
 * A record is parsed completely before any term is evaluated (§4.6: a
 * syntax error anywhere is a permerror), into a term list that points into
 * a private copy of the record.  Evaluation walks the terms left to right;
 * include and redirect recurse.  Counters live in the evaluation (ev) and
 * are shared by the whole recursion, which is what makes the 10-term
 * limit count across includes and redirects.
 */
#include "spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SPF_MAX_TERMS            10 /* DNS mechanisms/modifiers (§4.6.4) */
#define SPF_MAX_VOID             2
#define SPF_MAX_NAMES            10 /* mx hosts, ptr names */
#define SPF_MAX_TERMS_PER_RECORD 512

enum { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS, M_REDIRECT, M_EXP, M_UNKNOWN_MOD };

/* Evaluation outcomes of a mechanism, beside MATCH/NOMATCH. */
enum { NOMATCH = 0, MATCH = 1, ERR_TEMP = -1, ERR_PERM = -2 };

typedef struct term {
    char qual;
    int kind;
    const char *spec; /* domain-spec / modifier value / address text; NULL if absent */
    size_t speclen;
    int cidr4, cidr6; /* -1: absent */
    unsigned char addr[16];
    const char *text;
    size_t textlen;
} term;

typedef struct record {
    char *copy;
    term *terms;
    size_t n;
    const term *redirect, *exp;
} record;

typedef struct ev {
    mt_dns *d;
    unsigned char ip[16];
    int v6;
    char ipstr[64];
    const char *local;
    size_t locallen;
    const char *sdomain; /* sender domain (%{o}) */
    char *sender;        /* local@domain (%{s}) */
    const char *helo;
    const char *receiver;
    int lookups, voids;
    char *pname; /* %{p} once computed */
    mt_spf_outcome *out;
    const char *stack[16];
    int nstack;
} ev;

const char *mt_spf_result_name(mt_spf_result r)
{
    static const char *const n[] = {"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"};
    return (unsigned)r < 7 ? n[r] : "permerror";
}

static void set_problem(ev *e, const char *fmt, const char *arg, size_t arglen)
{
    if (e->out->problem)
        return;
    char tmp[512];
    char a[300];
    size_t n = arglen < sizeof a - 1 ? arglen : sizeof a - 1;
    memcpy(a, arg ? arg : "", arg ? n : 0);
    a[arg ? n : 0] = '\0';
    snprintf(tmp, sizeof tmp, fmt, a);
    e->out->problem = mt_xstrdup(tmp);
}

/* ---------------------------------------------------------------- syntax */

static int is_delim(int c)
{
    return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

/* Check the macro-string s[0..n): 0, or -1 with a message. explain: the
 * exp text grammar (SP allowed, c/r/t allowed). */
static int macro_syntax(const char *s, size_t n, int explain, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 1 >= n) {
                snprintf(err, errlen, "a '%%' at the end of a macro-string");
                return -1;
            }
            char x = s[i + 1];
            if (x == '%' || x == '_' || x == '-') {
                i++;
                continue;
            }
            if (x != '{') {
                snprintf(err, errlen, "'%%%c' is not a macro", x);
                return -1;
            }
            size_t j = i + 2;
            if (j >= n) {
                snprintf(err, errlen, "an unterminated macro");
                return -1;
            }
            char L = (char)tolower((unsigned char)s[j]);
            if (!strchr("slodiphcrtv", L) || !s[j]) {
                snprintf(err, errlen, "'%c' is not a macro letter", s[j]);
                return -1;
            }
            if (!explain && strchr("crt", L)) {
                snprintf(err, errlen, "macro letter '%c' is only allowed in exp text", s[j]);
                return -1;
            }
            j++;
            while (j < n && isdigit((unsigned char)s[j]))
                j++;
            if (j < n && (s[j] == 'r' || s[j] == 'R'))
                j++;
            while (j < n && is_delim(s[j]))
                j++;
            if (j >= n || s[j] != '}') {
                snprintf(err, errlen, "a malformed macro '%.*s'", (int)(j - i + (j < n)), s + i);
                return -1;
            }
            i = j;
            continue;
        }
        if (c == ' ' && explain)
            continue;
        if (c < 0x21 || c > 0x7e) {
            snprintf(err, errlen, "character 0x%02x in a macro-string", c);
            return -1;
        }
    }
    return 0;
}

static int valid_toplabel(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    int alpha = 0, dash = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalpha(c))
            alpha = 1;
        else if (c == '-')
            dash = 1;
        else if (!isdigit(c))
            return 0;
    }
    if (dash)
        return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
    return alpha;
}

/* domain-spec = macro-string domain-end; domain-end = ("." toplabel ["."]) / macro-expand */
static int domain_spec_syntax(const char *s, size_t n, char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "an empty domain-spec");
        return -1;
    }
    if (macro_syntax(s, n, 0, err, errlen) < 0)
        return -1;
    if (s[n - 1] == '}')
        return 0; /* ends with a macro-expand (syntax checked above) */
    if (n >= 2 && s[n - 2] == '%' && (s[n - 1] == '%' || s[n - 1] == '_' || s[n - 1] == '-')) {
        size_t k = 0; /* count the run of '%' before: odd means a real %x */
        for (size_t i = n - 1; i-- > 0 && s[i] == '%';)
            k++;
        if (k % 2 == 1)
            return 0;
    }
    size_t m = n;
    if (s[m - 1] == '.')
        m--;
    size_t dot = m;
    while (dot > 0 && s[dot - 1] != '.')
        dot--;
    if (dot == 0 || !valid_toplabel(s + dot, m - dot)) {
        snprintf(err, errlen, "domain-spec '%.*s' does not end in a valid top label",
                 (int)(n > 100 ? 100 : n), s);
        return -1;
    }
    return 0;
}

static int parse_cidr(const char *s, size_t n, int max)
{
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

static int parse_ip4(const char *s, size_t n, unsigned char *out)
{
    int part = 0;
    size_t i = 0;
    while (part < 4) {
        size_t st = i;
        int v = 0;
        while (i < n && isdigit((unsigned char)s[i]) && i - st < 3)
            v = v * 10 + (s[i++] - '0');
        if (i == st || v > 255 || (i - st > 1 && s[st] == '0'))
            return -1;
        out[part++] = (unsigned char)v;
        if (part < 4) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
    }
    return i == n ? 0 : -1;
}

static const struct {
    const char *name;
    int kind;
} mechs[] = {{"all", M_ALL}, {"include", M_INCLUDE}, {"a", M_A},     {"mx", M_MX},
             {"ptr", M_PTR}, {"ip4", M_IP4},         {"ip6", M_IP6}, {"exists", M_EXISTS}};

/* Parse one term t[0..n) into *tm: 0 or -1 with err. */
static int parse_term(const char *t, size_t n, term *tm, char *err, size_t errlen)
{
    memset(tm, 0, sizeof *tm);
    tm->text = t;
    tm->textlen = n;
    tm->cidr4 = tm->cidr6 = -1;
    size_t i = 0;
    tm->qual = '+';
    int explicit_qual = 0;
    if (t[0] == '+' || t[0] == '-' || t[0] == '~' || t[0] == '?') {
        tm->qual = t[0];
        explicit_qual = 1;
        i = 1;
    }
    size_t ns = i;
    while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '-' || t[i] == '_' || t[i] == '.'))
        i++;
    size_t nl = i - ns;
    if (nl == 0) {
        snprintf(err, errlen, "term '%.*s' has no name", (int)(n > 60 ? 60 : n), t);
        return -1;
    }
    if (i < n && t[i] == '=') {
        if (explicit_qual || !isalpha((unsigned char)t[ns])) {
            snprintf(err, errlen, "bad modifier '%.*s'", (int)(n > 60 ? 60 : n), t);
            return -1;
        }
        tm->spec = t + i + 1;
        tm->speclen = n - i - 1;
        if (nl == 8 && strncasecmp(t + ns, "redirect", 8) == 0)
            tm->kind = M_REDIRECT;
        else if (nl == 3 && strncasecmp(t + ns, "exp", 3) == 0)
            tm->kind = M_EXP;
        else
            tm->kind = M_UNKNOWN_MOD;
        if (tm->kind == M_UNKNOWN_MOD)
            return macro_syntax(tm->spec, tm->speclen, 0, err, errlen);
        return domain_spec_syntax(tm->spec, tm->speclen, err, errlen);
    }
    int kind = -1;
    for (size_t k = 0; k < sizeof mechs / sizeof mechs[0]; k++)
        if (strlen(mechs[k].name) == nl && strncasecmp(t + ns, mechs[k].name, nl) == 0)
            kind = mechs[k].kind;
    if (kind < 0) {
        snprintf(err, errlen, "unknown mechanism '%.*s'", (int)(n > 60 ? 60 : n), t);
        return -1;
    }
    tm->kind = kind;
    const char *rest = t + i;
    size_t rl = n - i;
    switch (kind) {
    case M_ALL:
        if (rl) {
            snprintf(err, errlen, "'all' takes no argument: '%.*s'", (int)(n > 60 ? 60 : n), t);
            return -1;
        }
        return 0;
    case M_INCLUDE:
    case M_EXISTS:
        if (rl < 1 || rest[0] != ':') {
            snprintf(err, errlen, "'%.*s' needs ':domain'", (int)nl, t + ns);
            return -1;
        }
        tm->spec = rest + 1;
        tm->speclen = rl - 1;
        return domain_spec_syntax(tm->spec, tm->speclen, err, errlen);
    case M_IP4:
    case M_IP6: {
        if (rl < 2 || rest[0] != ':') {
            snprintf(err, errlen, "'%.*s' needs ':address'", (int)nl, t + ns);
            return -1;
        }
        const char *a = rest + 1;
        size_t al = rl - 1;
        const char *slash = memchr(a, '/', al);
        size_t addrlen = slash ? (size_t)(slash - a) : al;
        if (slash) {
            int c = parse_cidr(slash + 1, al - addrlen - 1, kind == M_IP4 ? 32 : 128);
            if (c < 0) {
                snprintf(err, errlen, "bad CIDR length in '%.*s'", (int)(n > 60 ? 60 : n), t);
                return -1;
            }
            if (kind == M_IP4)
                tm->cidr4 = c;
            else
                tm->cidr6 = c;
        }
        tm->spec = a;
        tm->speclen = addrlen;
        char buf[64];
        int ok;
        if (kind == M_IP4)
            ok = parse_ip4(a, addrlen, tm->addr) == 0;
        else {
            ok = addrlen < sizeof buf && addrlen > 0;
            if (ok) {
                memcpy(buf, a, addrlen);
                buf[addrlen] = '\0';
                ok = inet_pton(AF_INET6, buf, tm->addr) == 1;
            }
        }
        if (!ok) {
            snprintf(err, errlen, "bad address in '%.*s'", (int)(n > 60 ? 60 : n), t);
            return -1;
        }
        return 0;
    }
    default: /* a, mx, ptr: [":" domain-spec] [dual-cidr] (ptr: no cidr) */
        break;
    }
    /* peel a dual-cidr off the end: [ "/" ip4 ] [ "//" ip6 ] */
    size_t end = rl;
    if (kind != M_PTR) {
        size_t k = end;
        while (k > 0 && isdigit((unsigned char)rest[k - 1]))
            k--;
        if (k < end && k >= 2 && rest[k - 1] == '/' && rest[k - 2] == '/') {
            tm->cidr6 = parse_cidr(rest + k, end - k, 128);
            if (tm->cidr6 < 0) {
                snprintf(err, errlen, "bad IPv6 CIDR length in '%.*s'", (int)(n > 60 ? 60 : n), t);
                return -1;
            }
            end = k - 2;
            k = end;
            while (k > 0 && isdigit((unsigned char)rest[k - 1]))
                k--;
        }
        if (k < end && k >= 1 && rest[k - 1] == '/' && !(k >= 2 && rest[k - 2] == '/')) {
            tm->cidr4 = parse_cidr(rest + k, end - k, 32);
            if (tm->cidr4 < 0) {
                snprintf(err, errlen, "bad IPv4 CIDR length in '%.*s'", (int)(n > 60 ? 60 : n), t);
                return -1;
            }
            end = k - 1;
        } else if (end > 0 && rest[end - 1] == '/') {
            snprintf(err, errlen, "bad CIDR in '%.*s'", (int)(n > 60 ? 60 : n), t);
            return -1;
        }
    }
    if (end == 0)
        return 0;
    if (rest[0] != ':') {
        snprintf(err, errlen, "bad mechanism '%.*s'", (int)(n > 60 ? 60 : n), t);
        return -1;
    }
    tm->spec = rest + 1;
    tm->speclen = end - 1;
    return domain_spec_syntax(tm->spec, tm->speclen, err, errlen);
}

/* Is rec[0..len) an SPF version 1 record? (§4.5) */
static int is_spf1(const char *rec, size_t len)
{
    return len >= 6 && strncasecmp(rec, "v=spf1", 6) == 0 && (len == 6 || rec[6] == ' ');
}

static void record_free(record *r)
{
    free(r->copy);
    free(r->terms);
}

static int record_parse(const char *rec, size_t len, record *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->copy = mt_xstrndup(rec, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)rec[i];
        if (c != ' ' && (c < 0x21 || c > 0x7e)) {
            snprintf(err, errlen, "character 0x%02x in the record", c);
            return -1;
        }
    }
    if (!is_spf1(rec, len)) {
        snprintf(err, errlen, "not an SPF version 1 record");
        return -1;
    }
    size_t cap = 0;
    const char *p = r->copy + 6, *end = r->copy + len;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        if (p >= end)
            break;
        const char *q = p;
        while (q < end && *q != ' ')
            q++;
        if (r->n == SPF_MAX_TERMS_PER_RECORD) {
            snprintf(err, errlen, "more than %d terms", SPF_MAX_TERMS_PER_RECORD);
            return -1;
        }
        if (r->n == cap) {
            cap = cap ? cap * 2 : 8;
            r->terms = mt_xrealloc(r->terms, cap * sizeof *r->terms);
        }
        term *t = &r->terms[r->n];
        if (parse_term(p, (size_t)(q - p), t, err, errlen) < 0)
            return -1;
        r->n++;
        if (t->kind == M_REDIRECT) {
            if (r->redirect) {
                snprintf(err, errlen, "more than one redirect=");
                return -1;
            }
            r->redirect = t;
        } else if (t->kind == M_EXP) {
            if (r->exp) {
                snprintf(err, errlen, "more than one exp=");
                return -1;
            }
            r->exp = t;
        }
        p = q;
    }
    return 0;
}

/* ---------------------------------------------------------------- macros */

static void url_escape(mt_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            mt_buf_putc(b, (char)c);
        else {
            mt_buf_putc(b, '%');
            mt_buf_putc(b, hex[c >> 4]);
            mt_buf_putc(b, hex[c & 15]);
        }
    }
}

static const char *pname(ev *e);

/* The value of one macro letter into v. */
static void macro_value(ev *e, char L, const char *domain, mt_buf *v)
{
    switch (L) {
    case 's':
        mt_buf_puts(v, e->sender);
        break;
    case 'l':
        mt_buf_append(v, e->local, e->locallen);
        break;
    case 'o':
        mt_buf_puts(v, e->sdomain);
        break;
    case 'd':
        mt_buf_puts(v, domain);
        break;
    case 'i':
        if (!e->v6)
            mt_buf_printf(v, "%u.%u.%u.%u", e->ip[0], e->ip[1], e->ip[2], e->ip[3]);
        else
            for (int k = 0; k < 16; k++)
                mt_buf_printf(v, "%s%X.%X", k ? "." : "", e->ip[k] >> 4, e->ip[k] & 15);
        break;
    case 'p':
        mt_buf_puts(v, pname(e));
        break;
    case 'v':
        mt_buf_puts(v, e->v6 ? "ip6" : "in-addr");
        break;
    case 'h':
        mt_buf_puts(v, e->helo && *e->helo ? e->helo : "unknown");
        break;
    case 'c':
        mt_buf_puts(v, e->ipstr);
        break;
    case 'r':
        mt_buf_puts(v, e->receiver && *e->receiver ? e->receiver : "unknown");
        break;
    case 't':
        mt_buf_printf(v, "%lld", (long long)time(NULL));
        break;
    default:
        break;
    }
}

/* Expand a (syntax-checked) macro-string into out. */
static int expand(ev *e, const char *s, size_t n, const char *domain, int explain, mt_buf *out)
{
    char err[160];
    if (macro_syntax(s, n, explain, err, sizeof err) < 0)
        return -1;
    mt_buf v, parts;
    mt_buf_init(&v);
    mt_buf_init(&parts);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            mt_buf_putc(out, s[i]);
            continue;
        }
        char x = s[++i];
        if (x == '%') {
            mt_buf_putc(out, '%');
            continue;
        }
        if (x == '_') {
            mt_buf_putc(out, ' ');
            continue;
        }
        if (x == '-') {
            mt_buf_puts(out, "%20");
            continue;
        }
        size_t j = i + 1; /* the letter */
        char letter = s[j];
        int upper = isupper((unsigned char)letter);
        char L = (char)tolower((unsigned char)letter);
        j++;
        long digits = -1;
        if (j < n && isdigit((unsigned char)s[j])) {
            digits = 0;
            while (j < n && isdigit((unsigned char)s[j])) {
                if (digits < 100000)
                    digits = digits * 10 + (s[j] - '0');
                j++;
            }
        }
        int rev = 0;
        if (j < n && (s[j] == 'r' || s[j] == 'R')) {
            rev = 1;
            j++;
        }
        const char *delims = s + j;
        size_t nd = 0;
        while (j < n && s[j] != '}') {
            j++;
            nd++;
        }
        i = j; /* at '}' */
        if (digits == 0) {
            mt_buf_free(&v);
            mt_buf_free(&parts);
            return -1;
        }
        mt_buf_reset(&v);
        macro_value(e, L, domain, &v);
        /* split on the delimiters (default "."), reverse, keep the right-most */
        const char *starts[256];
        size_t lens[256];
        size_t np = 0;
        size_t st = 0;
        for (size_t k = 0; k <= v.len; k++) {
            int isd = k < v.len && (nd ? memchr(delims, v.data[k], nd) != NULL : v.data[k] == '.');
            if (k == v.len || isd) {
                if (np < 256) {
                    starts[np] = v.data + st;
                    lens[np] = k - st;
                    np++;
                }
                st = k + 1;
            }
        }
        if (v.len == 0)
            np = 0, starts[0] = "", lens[0] = 0;
        if (rev)
            for (size_t a = 0, b = np ? np - 1 : 0; a < b; a++, b--) {
                const char *ts = starts[a];
                size_t tl = lens[a];
                starts[a] = starts[b];
                lens[a] = lens[b];
                starts[b] = ts;
                lens[b] = tl;
            }
        size_t from = (digits > 0 && (size_t)digits < np) ? np - (size_t)digits : 0;
        mt_buf_reset(&parts);
        for (size_t k = from; k < np; k++) {
            if (k > from)
                mt_buf_putc(&parts, '.');
            mt_buf_append(&parts, starts[k], lens[k]);
        }
        if (upper)
            url_escape(out, parts.data ? parts.data : "", parts.len);
        else
            mt_buf_append(out, parts.data ? parts.data : "", parts.len);
    }
    mt_buf_free(&v);
    mt_buf_free(&parts);
    return 0;
}

/* A domain-spec expanded to a name for a query: over 253 bytes, labels
 * come off the left (§7.3). */
static int expand_domain(ev *e, const term *t, const char *domain, mt_buf *out)
{
    mt_buf_reset(out);
    if (!t->spec || t->speclen == 0) {
        mt_buf_puts(out, domain);
        return 0;
    }
    if (expand(e, t->spec, t->speclen, domain, 0, out) < 0)
        return -1;
    size_t len = out->len;
    if (len && out->data[len - 1] == '.')
        out->data[--out->len] = '\0';
    while (out->len > 253) {
        char *dot = memchr(out->data, '.', out->len);
        if (!dot) {
            break;
        }
        size_t cut = (size_t)(dot - out->data) + 1;
        memmove(out->data, out->data + cut, out->len - cut + 1);
        out->len -= cut;
    }
    return 0;
}

/* ---------------------------------------------------------------- DNS */

static int temp_status(mt_dns_status s)
{
    return s == MT_DNS_TIMEOUT || s == MT_DNS_SERVFAIL || s == MT_DNS_REFUSED || s == MT_DNS_MALFORMED ||
           s == MT_DNS_ERROR;
}

static mt_dns_answer *query(ev *e, const char *name, int type)
{
    e->out->dns_queries++;
    return mt_dns_query(e->d, name, type);
}

/* Count a void lookup; ERR_PERM past the limit. */
static int note_void(ev *e, const char *name)
{
    if (++e->voids > SPF_MAX_VOID) {
        set_problem(e, "more than 2 void lookups (the last: %s)", name, strlen(name));
        return ERR_PERM;
    }
    return NOMATCH;
}

static int count_term(ev *e, const term *t)
{
    if (++e->lookups > SPF_MAX_TERMS) {
        set_problem(e, "more than 10 DNS mechanisms/modifiers (at '%s')", t->text, t->textlen);
        return ERR_PERM;
    }
    return 0;
}

static int in_cidr(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char m = (unsigned char)(0xFF << (8 - rest));
        return (a[full] & m) == (b[full] & m);
    }
    return 1;
}

static int addr_matches(ev *e, const mt_dns_answer *a, int c4, int c6)
{
    for (size_t k = 0; k < a->n; k++) {
        if (a->rr[k].type == MT_DNS_A && !e->v6 && in_cidr(a->rr[k].addr, e->ip, c4 < 0 ? 32 : c4))
            return 1;
        if (a->rr[k].type == MT_DNS_AAAA && e->v6 && in_cidr(a->rr[k].addr, e->ip, c6 < 0 ? 128 : c6))
            return 1;
    }
    return 0;
}

/* Callback state for looking up several hosts at once. */
typedef struct multi {
    mt_dns_answer **ans;
    size_t i;
} multi_slot;

static void multi_cb(void *arg, const mt_dns_answer *a)
{
    mt_dns_answer **slot = arg;
    mt_dns_answer *c = mt_xcalloc(1, sizeof *c);
    c->status = a->status;
    c->type = a->type;
    c->name = mt_xstrdup(a->name);
    c->n = a->n;
    c->rr = mt_xcalloc(a->n ? a->n : 1, sizeof *c->rr);
    for (size_t k = 0; k < a->n; k++) {
        c->rr[k] = a->rr[k];
        c->rr[k].data = mt_xstrndup(a->rr[k].data, a->rr[k].len);
    }
    *slot = c;
}

/* Address lookups for names[0..n) at once; answers[k] owned by the caller. */
static void lookup_many(ev *e, char **names, size_t n, mt_dns_answer **answers)
{
    int type = e->v6 ? MT_DNS_AAAA : MT_DNS_A;
    for (size_t k = 0; k < n; k++) {
        answers[k] = NULL;
        e->out->dns_queries++;
        mt_dns_submit(e->d, names[k], type, multi_cb, &answers[k]);
    }
    mt_dns_wait(e->d);
}

/* The validated names of the client IP (§5.5): PTR names whose address
 * records include the IP; up to 10 names looked at.  Fills names (owned
 * by the caller) and returns how many, or -1 on a PTR lookup error. */
static int validated_names(ev *e, char **out, size_t max, int *was_void)
{
    char rev[96];
    mt_dns_reverse_name(e->ipstr, rev, sizeof rev);
    mt_dns_answer *a = query(e, rev, MT_DNS_PTR);
    *was_void = a->status == MT_DNS_NXDOMAIN || a->status == MT_DNS_NODATA;
    if (a->status != MT_DNS_OK) {
        mt_dns_answer_free(a);
        return -1;
    }
    size_t n = a->n < SPF_MAX_NAMES ? a->n : SPF_MAX_NAMES;
    char *names[SPF_MAX_NAMES];
    mt_dns_answer *ans[SPF_MAX_NAMES];
    for (size_t k = 0; k < n; k++)
        names[k] = a->rr[k].data;
    lookup_many(e, names, n, ans);
    size_t got = 0;
    for (size_t k = 0; k < n; k++) {
        if (ans[k] && ans[k]->status == MT_DNS_OK && addr_matches(e, ans[k], -1, -1) && got < max)
            out[got++] = mt_xstrdup(names[k]);
        mt_dns_answer_free(ans[k]);
    }
    mt_dns_answer_free(a);
    return (int)got;
}

static int name_under(const char *name, const char *domain)
{
    size_t ln = strlen(name), ld = strlen(domain);
    while (ln && name[ln - 1] == '.')
        ln--;
    while (ld && domain[ld - 1] == '.')
        ld--;
    if (ln == ld)
        return strncasecmp(name, domain, ln) == 0;
    return ln > ld && name[ln - ld - 1] == '.' && strncasecmp(name + ln - ld, domain, ld) == 0;
}

static const char *pname(ev *e)
{
    if (e->pname)
        return e->pname;
    char *names[SPF_MAX_NAMES];
    int was_void;
    int n = validated_names(e, names, SPF_MAX_NAMES, &was_void);
    const char *pick = NULL;
    /* prefer the domain itself or a subdomain of the sender domain */
    for (int k = 0; k < n && !pick; k++)
        if (name_under(names[k], e->sdomain))
            pick = names[k];
    if (!pick && n > 0)
        pick = names[0];
    e->pname = mt_xstrdup(pick ? pick : "unknown");
    for (int k = 0; k < n; k++)
        free(names[k]);
    return e->pname;
}

/* ---------------------------------------------------------------- check_host */

static mt_spf_node *node_new(const char *via, size_t vialen, const char *domain)
{
    mt_spf_node *n = mt_xcalloc(1, sizeof *n);
    if (via)
        n->via = mt_xstrndup(via, vialen);
    n->domain = mt_xstrdup(domain);
    return n;
}

static void node_add(mt_spf_node *p, mt_spf_node *k)
{
    p->kids = mt_xrealloc(p->kids, (p->nkids + 1) * sizeof *p->kids);
    p->kids[p->nkids++] = k;
}

/* §4.3: a name check_host() can look at: multi-label, labels 1..63, <= 253. */
static int domain_ok(const char *d)
{
    size_t len = strlen(d);
    if (len && d[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || d[0] == '[')
        return 0;
    size_t lab = 0;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (d[i] == '.') {
            if (lab == 0)
                return 0;
            lab = 0;
            dots++;
        } else if (++lab > 63)
            return 0;
    }
    return dots > 0 && lab > 0;
}

typedef struct exp_info {
    char *spec;   /* the exp= domain-spec of the record that decided a fail */
    char *domain; /* that record's domain */
} exp_info;

static mt_spf_result check_host(ev *e, const char *domain, mt_spf_node *node, exp_info *xi);

static mt_spf_result qual_result(char q)
{
    switch (q) {
    case '-':
        return MT_SPF_FAIL;
    case '~':
        return MT_SPF_SOFTFAIL;
    case '?':
        return MT_SPF_NEUTRAL;
    default:
        return MT_SPF_PASS;
    }
}

static int eval_mech(ev *e, const term *t, const char *domain, mt_spf_node *node, mt_buf *target)
{
    int r;
    switch (t->kind) {
    case M_ALL:
        return MATCH;
    case M_IP4:
        return !e->v6 && in_cidr(t->addr, e->ip, t->cidr4 < 0 ? 32 : t->cidr4) ? MATCH : NOMATCH;
    case M_IP6:
        return e->v6 && in_cidr(t->addr, e->ip, t->cidr6 < 0 ? 128 : t->cidr6) ? MATCH : NOMATCH;
    default:
        break;
    }
    if ((r = count_term(e, t)) < 0)
        return r;
    node->own_lookups++;
    if (expand_domain(e, t, domain, target) < 0) {
        set_problem(e, "macro error in '%s'", t->text, t->textlen);
        return ERR_PERM;
    }
    const char *name = target->data;
    switch (t->kind) {
    case M_INCLUDE: {
        for (int k = 0; k < e->nstack; k++)
            if (strcasecmp(e->stack[k], name) == 0) {
                set_problem(e, "include loop at '%s'", t->text, t->textlen);
                return ERR_PERM;
            }
        mt_spf_node *kid = node_new(t->text, t->textlen, name);
        node_add(node, kid);
        exp_info xi = {0};
        mt_spf_result res = check_host(e, name, kid, &xi);
        free(xi.spec);
        free(xi.domain);
        switch (res) {
        case MT_SPF_PASS:
            return MATCH;
        case MT_SPF_FAIL:
        case MT_SPF_SOFTFAIL:
        case MT_SPF_NEUTRAL:
            return NOMATCH;
        case MT_SPF_TEMPERROR:
            return ERR_TEMP;
        case MT_SPF_NONE:
            set_problem(e, "'%s' names a domain without an SPF record", t->text, t->textlen);
            return ERR_PERM;
        default:
            return ERR_PERM;
        }
    }
    case M_A:
    case M_EXISTS: {
        int type = t->kind == M_EXISTS ? MT_DNS_A : (e->v6 ? MT_DNS_AAAA : MT_DNS_A);
        if (!domain_ok(name))
            return note_void(e, name);
        mt_dns_answer *a = query(e, name, type);
        if (temp_status(a->status)) {
            set_problem(e, "DNS error looking up '%s'", name, strlen(name));
            mt_dns_answer_free(a);
            return ERR_TEMP;
        }
        if (a->status != MT_DNS_OK) {
            mt_dns_answer_free(a);
            return note_void(e, name);
        }
        r = t->kind == M_EXISTS ? MATCH : (addr_matches(e, a, t->cidr4, t->cidr6) ? MATCH : NOMATCH);
        mt_dns_answer_free(a);
        return r;
    }
    case M_MX: {
        if (!domain_ok(name))
            return note_void(e, name);
        mt_dns_answer *a = query(e, name, MT_DNS_MX);
        if (temp_status(a->status)) {
            mt_dns_answer_free(a);
            set_problem(e, "DNS error looking up the MX of '%s'", name, strlen(name));
            return ERR_TEMP;
        }
        if (a->status != MT_DNS_OK) {
            mt_dns_answer_free(a);
            return note_void(e, name);
        }
        if (a->n > SPF_MAX_NAMES) {
            mt_dns_answer_free(a);
            set_problem(e, "more than 10 MX names for '%s'", name, strlen(name));
            return ERR_PERM;
        }
        char *names[SPF_MAX_NAMES];
        mt_dns_answer *ans[SPF_MAX_NAMES];
        size_t n = 0;
        for (size_t k = 0; k < a->n; k++)
            if (a->rr[k].len > 0)
                names[n++] = a->rr[k].data;
        lookup_many(e, names, n, ans);
        r = NOMATCH;
        for (size_t k = 0; k < n; k++) {
            if (ans[k] && r == NOMATCH && ans[k]->status == MT_DNS_OK &&
                addr_matches(e, ans[k], t->cidr4, t->cidr6))
                r = MATCH;
            mt_dns_answer_free(ans[k]);
        }
        mt_dns_answer_free(a);
        return r;
    }
    case M_PTR: {
        char *names[SPF_MAX_NAMES];
        int was_void = 0;
        int n = validated_names(e, names, SPF_MAX_NAMES, &was_void);
        if (n < 0)
            return was_void ? note_void(e, name) : NOMATCH;
        r = NOMATCH;
        for (int k = 0; k < n; k++) {
            if (name_under(names[k], name))
                r = MATCH;
            free(names[k]);
        }
        return r;
    }
    default:
        return ERR_PERM;
    }
}

static mt_spf_result check_host(ev *e, const char *domain, mt_spf_node *node, exp_info *xi)
{
    mt_spf_result res;
    if (!domain_ok(domain)) {
        node->note = mt_xstrdup("not a valid domain name");
        set_problem(e, "'%s' is not a valid domain name", domain, strlen(domain));
        return node->result = MT_SPF_NONE;
    }
    mt_dns_answer *a = query(e, domain, MT_DNS_TXT);
    if (temp_status(a->status)) {
        char m[128];
        snprintf(m, sizeof m, "DNS %s looking up TXT", mt_dns_status_name(a->status));
        node->note = mt_xstrdup(m);
        set_problem(e, "DNS error looking up the SPF record of '%s'", domain, strlen(domain));
        mt_dns_answer_free(a);
        return node->result = MT_SPF_TEMPERROR;
    }
    const mt_dns_rr *found = NULL;
    int nfound = 0;
    for (size_t k = 0; a->status == MT_DNS_OK && k < a->n; k++)
        if (is_spf1(a->rr[k].data, a->rr[k].len)) {
            found = &a->rr[k];
            nfound++;
        }
    if (nfound == 0) {
        node->note = mt_xstrdup("no SPF record");
        set_problem(e, "no SPF record at '%s'", domain, strlen(domain));
        mt_dns_answer_free(a);
        return node->result = MT_SPF_NONE;
    }
    if (nfound > 1) {
        node->note = mt_xstrdup("more than one SPF record");
        set_problem(e, "more than one SPF record at '%s'", domain, strlen(domain));
        mt_dns_answer_free(a);
        return node->result = MT_SPF_PERMERROR;
    }
    node->record = mt_xstrndup(found->data, found->len);
    record rec;
    char err[200];
    int prc = record_parse(found->data, found->len, &rec, err, sizeof err);
    mt_dns_answer_free(a);
    if (prc < 0) {
        node->note = mt_xstrdup(err);
        set_problem(e, "%s", err, strlen(err));
        record_free(&rec);
        return node->result = MT_SPF_PERMERROR;
    }
    if (e->nstack < (int)(sizeof e->stack / sizeof e->stack[0]))
        e->stack[e->nstack++] = node->domain;
    mt_buf target;
    mt_buf_init(&target);
    res = MT_SPF_NEUTRAL;
    int decided = 0;
    for (size_t k = 0; k < rec.n; k++) {
        const term *t = &rec.terms[k];
        if (t->kind >= M_REDIRECT)
            continue;
        int r = eval_mech(e, t, domain, node, &target);
        if (r == MATCH) {
            res = qual_result(t->qual);
            node->note = mt_xstrndup(t->text, t->textlen);
            if (!e->out->mechanism && node == e->out->tree)
                e->out->mechanism = mt_xstrndup(t->text, t->textlen);
            decided = 1;
            break;
        }
        if (r == ERR_TEMP || r == ERR_PERM) {
            res = r == ERR_TEMP ? MT_SPF_TEMPERROR : MT_SPF_PERMERROR;
            node->note = mt_xstrndup(t->text, t->textlen);
            decided = 2;
            break;
        }
    }
    if (!decided && rec.redirect) {
        const term *t = rec.redirect;
        if (count_term(e, t) < 0) {
            res = MT_SPF_PERMERROR;
        } else {
            node->own_lookups++;
            if (expand_domain(e, t, domain, &target) < 0) {
                res = MT_SPF_PERMERROR;
            } else {
                mt_spf_node *kid = node_new(t->text, t->textlen, target.data);
                node_add(node, kid);
                int loop = 0;
                for (int k = 0; k < e->nstack; k++)
                    if (strcasecmp(e->stack[k], target.data) == 0)
                        loop = 1;
                if (loop) {
                    set_problem(e, "redirect loop at '%s'", t->text, t->textlen);
                    res = MT_SPF_PERMERROR;
                } else {
                    res = check_host(e, target.data, kid, xi);
                    if (res == MT_SPF_NONE) {
                        set_problem(e, "'%s' names a domain without an SPF record", t->text, t->textlen);
                        res = MT_SPF_PERMERROR;
                    }
                }
            }
        }
        node->note = mt_xstrndup(t->text, t->textlen);
        decided = 3;
    }
    if (decided != 3 && res == MT_SPF_FAIL && rec.exp && xi) {
        xi->spec = mt_xstrndup(rec.exp->spec, rec.exp->speclen);
        xi->domain = mt_xstrdup(domain);
    }
    mt_buf_free(&target);
    record_free(&rec);
    if (e->nstack > 0)
        e->nstack--;
    node->total_lookups = node->own_lookups;
    for (size_t k = 0; k < node->nkids; k++)
        node->total_lookups += node->kids[k]->total_lookups;
    return node->result = res;
}

/* §6.2: fetch and expand the explanation; NULL on any problem. */
static char *explanation(ev *e, const exp_info *xi)
{
    term t;
    memset(&t, 0, sizeof t);
    t.spec = xi->spec;
    t.speclen = strlen(xi->spec);
    mt_buf name, out;
    mt_buf_init(&name);
    mt_buf_init(&out);
    char *res = NULL;
    if (expand_domain(e, &t, xi->domain, &name) == 0 && domain_ok(name.data)) {
        mt_dns_answer *a = query(e, name.data, MT_DNS_TXT);
        if (a->status == MT_DNS_OK && a->n == 1) {
            const mt_dns_rr *r = &a->rr[0];
            int ascii = 1;
            for (size_t k = 0; k < r->len; k++)
                if ((unsigned char)r->data[k] > 0x7e || (unsigned char)r->data[k] < 0x20)
                    ascii = 0;
            if (ascii && expand(e, r->data, r->len, xi->domain, 1, &out) == 0)
                res = mt_xstrndup(out.data ? out.data : "", out.len);
        }
        mt_dns_answer_free(a);
    }
    mt_buf_free(&name);
    mt_buf_free(&out);
    return res;
}

int mt_spf_check(mt_dns *d, const mt_spf_request *req, mt_spf_outcome *out)
{
    memset(out, 0, sizeof *out);
    ev e;
    memset(&e, 0, sizeof e);
    e.d = d;
    e.out = out;
    e.helo = req->helo;
    e.receiver = req->receiver;
    const char *ip = req->ip ? req->ip : "";
    if (inet_pton(AF_INET, ip, e.ip) == 1) {
        e.v6 = 0;
    } else if (inet_pton(AF_INET6, ip, e.ip) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(e.ip, mapped, 12) == 0)
            memmove(e.ip, e.ip + 12, 4);
        else
            e.v6 = 1;
    } else {
        out->result = MT_SPF_PERMERROR;
        out->problem = mt_xstrdup("the client address is not an IPv4 or IPv6 address");
        out->identity = "mailfrom";
        out->domain = mt_xstrdup("");
        return -1;
    }
    inet_ntop(e.v6 ? AF_INET6 : AF_INET, e.ip, e.ipstr, sizeof e.ipstr);
    const char *sender = req->sender ? req->sender : "";
    const char *dom;
    mt_buf sb;
    mt_buf_init(&sb);
    if (*sender) {
        out->identity = "mailfrom";
        const char *at = strrchr(sender, '@');
        if (at) {
            dom = at + 1;
            e.local = sender;
            e.locallen = (size_t)(at - sender);
        } else {
            dom = sender;
        }
    } else {
        out->identity = "helo";
        dom = req->helo ? req->helo : "";
    }
    if (e.locallen == 0) {
        e.local = "postmaster";
        e.locallen = 10;
    }
    mt_buf_append(&sb, e.local, e.locallen);
    mt_buf_putc(&sb, '@');
    mt_buf_puts(&sb, dom);
    e.sender = sb.data;
    e.sdomain = dom;
    out->domain = mt_xstrdup(dom);
    out->tree = node_new(NULL, 0, dom);
    exp_info xi = {0};
    out->result = check_host(&e, dom, out->tree, &xi);
    if (out->result == MT_SPF_FAIL && xi.spec)
        out->explanation = explanation(&e, &xi);
    if (out->result != MT_SPF_PERMERROR && out->result != MT_SPF_TEMPERROR && out->result != MT_SPF_NONE) {
        free(out->problem);
        out->problem = NULL;
    }
    out->dns_lookups = e.lookups;
    out->void_lookups = e.voids;
    free(xi.spec);
    free(xi.domain);
    free(e.pname);
    mt_buf_free(&sb);
    return 0;
}

static void node_free(mt_spf_node *n)
{
    if (!n)
        return;
    for (size_t k = 0; k < n->nkids; k++)
        node_free(n->kids[k]);
    free(n->kids);
    free(n->via);
    free(n->domain);
    free(n->record);
    free(n->note);
    free(n);
}

void mt_spf_outcome_free(mt_spf_outcome *o)
{
    free(o->mechanism);
    free(o->problem);
    free(o->explanation);
    free(o->domain);
    node_free(o->tree);
    memset(o, 0, sizeof *o);
}

void mt_spf_tree_text(const mt_spf_node *n, mt_buf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        mt_buf_puts(b, "  ");
    if (n->via)
        mt_buf_printf(b, "%s -> ", n->via);
    mt_buf_printf(b, "%s: %s, %d lookup(s) (%d here)", n->domain, mt_spf_result_name(n->result),
                  n->total_lookups, n->own_lookups);
    if (n->note)
        mt_buf_printf(b, " [%s]", n->note);
    mt_buf_putc(b, '\n');
    if (n->record) {
        for (int i = 0; i < depth; i++)
            mt_buf_puts(b, "  ");
        mt_buf_puts(b, "    \"");
        for (const char *p = n->record; *p; p++)
            mt_buf_putc(b, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
        mt_buf_puts(b, "\"\n");
    }
    for (size_t k = 0; k < n->nkids; k++)
        mt_spf_tree_text(n->kids[k], b, depth + 1);
}

void mt_spf_tree_json(const mt_spf_node *n, mt_buf *b)
{
    mt_buf_puts(b, "{\"domain\":");
    mt_buf_put_json_str(b, n->domain, strlen(n->domain));
    if (n->via) {
        mt_buf_puts(b, ",\"via\":");
        mt_buf_put_json_str(b, n->via, strlen(n->via));
    }
    mt_buf_puts(b, ",\"record\":");
    if (n->record)
        mt_buf_put_json_str(b, n->record, strlen(n->record));
    else
        mt_buf_puts(b, "null");
    mt_buf_printf(b, ",\"result\":\"%s\",\"lookups\":%d,\"own_lookups\":%d", mt_spf_result_name(n->result),
                  n->total_lookups, n->own_lookups);
    if (n->note) {
        mt_buf_puts(b, ",\"note\":");
        mt_buf_put_json_str(b, n->note, strlen(n->note));
    }
    mt_buf_puts(b, ",\"children\":[");
    for (size_t k = 0; k < n->nkids; k++) {
        if (k)
            mt_buf_putc(b, ',');
        mt_spf_tree_json(n->kids[k], b);
    }
    mt_buf_puts(b, "]}");
}

void mt_spf_parse_check(const char *rec, size_t len, mt_spf_syntax *s)
{
    memset(s, 0, sizeof *s);
    record r;
    if (record_parse(rec, len, &r, s->error, sizeof s->error) < 0) {
        record_free(&r);
        return;
    }
    s->ok = 1;
    for (size_t k = 0; k < r.n; k++) {
        const term *t = &r.terms[k];
        switch (t->kind) {
        case M_ALL:
            s->has_all = 1;
            s->all_qualifier = t->qual;
            break;
        case M_PTR:
            s->has_ptr = 1;
            s->dns_terms++;
            break;
        case M_REDIRECT:
            s->has_redirect = 1;
            s->dns_terms++;
            break;
        case M_INCLUDE:
            for (size_t j = 0; j < k; j++)
                if (r.terms[j].kind == M_INCLUDE && r.terms[j].speclen == t->speclen &&
                    strncasecmp(r.terms[j].spec, t->spec, t->speclen) == 0) {
                    s->duplicate_includes++;
                    break;
                }
            s->dns_terms++;
            break;
        case M_A:
        case M_MX:
        case M_EXISTS:
            s->dns_terms++;
            break;
        default:
            break;
        }
    }
    record_free(&r);
}

int mt_spf_expand_test(const char *s, size_t len, int exp, mt_buf *out)
{
    ev e;
    memset(&e, 0, sizeof e);
    mt_spf_outcome o;
    memset(&o, 0, sizeof o);
    e.out = &o;
    e.ip[0] = 192, e.ip[1] = 0, e.ip[2] = 2, e.ip[3] = 3;
    strcpy(e.ipstr, "192.0.2.3");
    e.local = "strong-bad";
    e.locallen = 10;
    e.sdomain = "email.example.com";
    e.sender = "strong-bad@email.example.com";
    e.helo = "mx.example.org";
    e.pname = mt_xstrdup("unknown");
    int r = expand(&e, s, len, "email.example.com", exp, out);
    free(e.pname);
    free(o.problem);
    return r;
}
