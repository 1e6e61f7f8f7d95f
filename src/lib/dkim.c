/*
 * dkim.c - DKIM verification (RFC 6376, RFC 8301, RFC 8463) over OpenSSL 3.
 *
 * The message is read with CRLF line ends (bare LF counts as CRLF, as an
 * MTA sends it).  Bodies are canonicalised line by line straight into the
 * digest: a 10 MB body is never copied twice.
 */
#include "dkim.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TAGS 64

const char *mt_dkim_result_name(mt_dkim_result r)
{
    switch (r) {
    case MT_DKIM_PASS:
        return "pass";
    case MT_DKIM_FAIL:
        return "fail";
    case MT_DKIM_PERMERROR:
        return "permerror";
    case MT_DKIM_TEMPERROR:
        return "temperror";
    case MT_DKIM_NEUTRAL:
        return "neutral";
    }
    return "neutral";
}

static int is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum_(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

static mt_slice trim(const char *p, const char *e)
{
    while (p < e && is_fws(*p))
        p++;
    while (e > p && is_fws(e[-1]))
        e--;
    return (mt_slice){p, (size_t)(e - p)};
}

int mt_dkim_tags_parse(const char *s, size_t n, mt_dkim_tag *tags, int max, char *why, size_t whylen)
{
    int nt = 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *se = semi ? semi : end;
        mt_slice spec = trim(p, se);
        p = semi ? semi + 1 : end;
        if (spec.len == 0)
            continue; /* a trailing ';' (or an empty spec) */
        const char *eq = memchr(spec.p, '=', spec.len);
        if (eq == NULL) {
            snprintf(why, whylen, "tag without '=': \"%.*s\"", (int)(spec.len > 30 ? 30 : spec.len), spec.p);
            return -1;
        }
        mt_slice name = trim(spec.p, eq);
        mt_slice value = trim(eq + 1, spec.p + spec.len);
        if (name.len == 0 || !is_alpha(name.p[0])) {
            snprintf(why, whylen, "bad tag name \"%.*s\"", (int)(name.len > 30 ? 30 : name.len), name.p);
            return -1;
        }
        for (size_t i = 1; i < name.len; i++)
            if (!is_alnum_(name.p[i])) {
                snprintf(why, whylen, "bad tag name \"%.*s\"", (int)(name.len > 30 ? 30 : name.len), name.p);
                return -1;
            }
        for (int i = 0; i < nt; i++)
            if (tags[i].name.len == name.len && memcmp(tags[i].name.p, name.p, name.len) == 0) {
                snprintf(why, whylen, "tag %.*s= given twice", (int)(name.len > 30 ? 30 : name.len), name.p);
                return -1;
            }
        if (nt >= max) {
            snprintf(why, whylen, "more than %d tags", max);
            return -1;
        }
        tags[nt].name = name;
        tags[nt].value = value;
        nt++;
    }
    return nt;
}

static const mt_dkim_tag *tag(const mt_dkim_tag *t, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (mt_slice_eq_cstr(t[i].name, name))
            return &t[i];
    return NULL;
}

static void copy_slice(char *dst, size_t cap, mt_slice s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

/* base64 with FWS anywhere (b=, bh=, p=); returns a malloc'd buffer or NULL */
static unsigned char *b64_decode(mt_slice s, size_t *outlen)
{
    char *clean = mt_xmalloc(s.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++)
        if (!is_fws(s.p[i]))
            clean[n++] = s.p[i];
    clean[n] = '\0';
    if (n == 0 || n % 4 != 0) {
        free(clean);
        return NULL;
    }
    unsigned char *out = mt_xmalloc(n / 4 * 3 + 1);
    int r = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)n);
    if (r < 0) {
        free(clean);
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes */
    size_t len = (size_t)r;
    if (n >= 1 && clean[n - 1] == '=')
        len--;
    if (n >= 2 && clean[n - 2] == '=')
        len--;
    free(clean);
    *outlen = len;
    return out;
}

/* ---- the message as CRLF header fields and a body ---- */

typedef struct field {
    mt_slice name;
    mt_slice field; /* including its CRLF */
    int used;       /* picked for h= already */
} field;

typedef struct msgview {
    const char *p;
    size_t len;
    char *owned; /* the header block with CRLF line ends */
    field *f;
    size_t nf;
    const char *bodyp; /* the body, in the caller's bytes */
    size_t bodylen;
} msgview;

static void view_open(msgview *v, const char *msg, size_t len)
{
    memset(v, 0, sizeof *v);
    /* the header block: up to and including the empty line */
    size_t hend = len;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(msg + pos, '\n', len - pos);
        size_t le = nl ? (size_t)(nl - msg) : len;
        size_t lt = le;
        if (lt > pos && msg[lt - 1] == '\r')
            lt--;
        if (lt == pos) {
            hend = nl ? le + 1 : len;
            break;
        }
        pos = nl ? le + 1 : len;
    }
    /* the body is canonicalised in place (bare LF reads as CRLF there);
     * only the header is copied, with CRLF line ends, for its fields */
    v->bodyp = msg + hend;
    v->bodylen = len - hend;
    size_t bare = 0;
    for (const char *q = memchr(msg, '\n', hend); q; q = memchr(q + 1, '\n', hend - (size_t)(q + 1 - msg)))
        if (q == msg || q[-1] != '\r')
            bare++;
    v->owned = mt_xmalloc(hend + bare + 1);
    size_t j = 0;
    for (size_t i = 0; i < hend; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            v->owned[j++] = '\r';
        v->owned[j++] = msg[i];
    }
    v->p = v->owned;
    v->len = j;
    size_t cap = 0, pos = 0;
    while (pos < v->len) {
        const char *nl = memchr(v->p + pos, '\n', v->len - pos);
        size_t next = nl ? (size_t)(nl - v->p) + 1 : v->len;
        size_t le = nl ? (size_t)(nl - v->p) : v->len;
        if (le > pos && v->p[le - 1] == '\r')
            le--;
        if (le == pos)
            return;
        if ((v->p[pos] == ' ' || v->p[pos] == '\t') && v->nf > 0) {
            field *f = &v->f[v->nf - 1];
            f->field.len = next - (size_t)(f->field.p - v->p);
        } else {
            const char *colon = memchr(v->p + pos, ':', le - pos);
            if (colon) {
                if (v->nf == cap) {
                    cap = cap ? cap * 2 : 32;
                    v->f = mt_xrealloc(v->f, cap * sizeof *v->f);
                }
                field *f = &v->f[v->nf++];
                f->name = trim(v->p + pos, colon);
                f->field = (mt_slice){v->p + pos, next - pos};
                f->used = 0;
            }
        }
        pos = next;
    }
}

static void view_close(msgview *v)
{
    free(v->owned);
    free(v->f);
}

/* ---- canonicalisation ---- */

/* relaxed header: lowercase name, unfold, WSP runs to one SP, trimmed */
static void canon_header_relaxed(mt_slice fieldtext, mt_buf *out, int crlf)
{
    const char *p = fieldtext.p, *e = p + fieldtext.len;
    const char *colon = memchr(p, ':', fieldtext.len);
    if (colon == NULL)
        return;
    mt_slice name = trim(p, colon);
    for (size_t i = 0; i < name.len; i++) {
        char c = name.p[i];
        mt_buf_putc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
    }
    mt_buf_putc(out, ':');
    const char *v = colon + 1;
    int pending_sp = 0, started = 0;
    for (; v < e; v++) {
        char c = *v;
        if (c == '\r' || c == '\n')
            continue;
        if (c == ' ' || c == '\t') {
            pending_sp = started;
            continue;
        }
        if (pending_sp)
            mt_buf_putc(out, ' ');
        pending_sp = 0;
        started = 1;
        mt_buf_putc(out, c);
    }
    if (crlf)
        mt_buf_puts(out, "\r\n");
}

static void canon_header(mt_slice fieldtext, int relaxed, mt_buf *out, int crlf)
{
    if (relaxed) {
        canon_header_relaxed(fieldtext, out, crlf);
        return;
    }
    size_t n = fieldtext.len;
    if (!crlf) {
        while (n > 0 && (fieldtext.p[n - 1] == '\n' || fieldtext.p[n - 1] == '\r'))
            n--;
    }
    mt_buf_append(out, fieldtext.p, n);
}

typedef struct bodyhash {
    EVP_MD_CTX *ctx;
    long long limit; /* -1: all */
    size_t total;    /* canonical length seen */
    size_t hashed;
    size_t staged; /* bytes in stage, not yet in the digest */
    char stage[65536];
} bodyhash;

static void flush(bodyhash *h)
{
    if (h->staged)
        EVP_DigestUpdate(h->ctx, h->stage, h->staged);
    h->staged = 0;
}

static void emit(bodyhash *h, const char *p, size_t n)
{
    h->total += n;
    if (h->limit >= 0) {
        if (h->hashed >= (size_t)h->limit)
            return;
        if (h->hashed + n > (size_t)h->limit)
            n = (size_t)h->limit - h->hashed;
    }
    h->hashed += n;
    if (h->staged + n > sizeof h->stage) {
        flush(h);
        if (n > sizeof h->stage) {
            EVP_DigestUpdate(h->ctx, p, n);
            return;
        }
    }
    memcpy(h->stage + h->staged, p, n);
    h->staged += n;
}

static void canon_body(const char *p, size_t len, int relaxed, bodyhash *h)
{
    size_t pos = 0, pending = 0;
    int any = 0;
    char small[512];
    mt_buf big;
    mt_buf_init(&big);
    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        size_t le = nl ? (size_t)(nl - p) : len;
        size_t next = nl ? le + 1 : len;
        if (nl && le > pos && p[le - 1] == '\r')
            le--;
        const char *line = p + pos;
        size_t ll = le - pos;
        if (relaxed && (memchr(line, ' ', ll) || memchr(line, '\t', ll))) {
            /* WSP runs to one SP, none at the end */
            char *dst = ll + 1 <= sizeof small ? small : NULL;
            if (dst == NULL) {
                mt_buf_reset(&big);
                mt_buf_reserve(&big, ll + 1);
                dst = big.data;
            }
            size_t k = 0;
            int sp = 0;
            for (size_t i = 0; i < ll; i++) {
                char c = line[i];
                if (c == ' ' || c == '\t') {
                    sp = 1;
                    continue;
                }
                if (sp)
                    dst[k++] = ' ';
                sp = 0;
                dst[k++] = c;
            }
            line = dst;
            ll = k;
        }
        if (ll == 0) {
            pending++;
        } else {
            for (; pending > 0; pending--)
                emit(h, "\r\n", 2);
            emit(h, line, ll);
            emit(h, "\r\n", 2);
            any = 1;
        }
        pos = next;
    }
    if (!any && !relaxed)
        emit(h, "\r\n", 2);
    mt_buf_free(&big);
}

/* the DKIM-Signature field with the value of b= emptied */
static void strip_b(mt_slice fieldtext, mt_buf *out)
{
    const char *p = fieldtext.p, *e = p + fieldtext.len;
    const char *colon = memchr(p, ':', fieldtext.len);
    if (colon == NULL) {
        mt_buf_append(out, p, fieldtext.len);
        return;
    }
    const char *spec = colon + 1;
    mt_buf_append(out, p, (size_t)(spec - p));
    while (spec < e) {
        const char *semi = memchr(spec, ';', (size_t)(e - spec));
        const char *se = semi ? semi : e;
        const char *eq = memchr(spec, '=', (size_t)(se - spec));
        mt_slice name = eq ? trim(spec, eq) : (mt_slice){NULL, 0};
        if (eq && name.len == 1 && name.p[0] == 'b') {
            mt_buf_append(out, spec, (size_t)(eq + 1 - spec));
            /* keep the line break that ends the field */
            if (!semi) {
                const char *t = se;
                while (t > eq + 1 && (t[-1] == '\r' || t[-1] == '\n'))
                    t--;
                mt_buf_append(out, t, (size_t)(se - t));
            }
        } else {
            mt_buf_append(out, spec, (size_t)(se - spec));
        }
        if (semi)
            mt_buf_putc(out, ';');
        spec = semi ? semi + 1 : e;
    }
}

/* ---- keys ---- */

/* 1 when the colon-separated list val names one of a or b (b may be NULL) */
static int list_has(mt_slice val, const char *a, const char *b)
{
    const char *p = val.p, *e = p + val.len;
    while (p < e) {
        const char *c = memchr(p, ':', (size_t)(e - p));
        mt_slice one = trim(p, c ? c : e);
        if (mt_slice_eq_cstr(one, a) || (b && mt_slice_eq_cstr(one, b)))
            return 1;
        p = c ? c + 1 : e;
    }
    return 0;
}

int mt_dkim_key_parse(const char *rec, size_t len, mt_dkim_key *key, char *why, size_t whylen)
{
    memset(key, 0, sizeof *key);
    key->sha1_ok = key->sha256_ok = 1;
    mt_dkim_tag t[MAX_TAGS];
    char tw[160];
    int nt = mt_dkim_tags_parse(rec, len, t, MAX_TAGS, tw, sizeof tw);
    if (nt < 0) {
        snprintf(why, whylen, "malformed tag list: %s", tw);
        return -1;
    }
    const mt_dkim_tag *v = tag(t, nt, "v");
    if (v && (!mt_slice_eq_cstr(v->value, "DKIM1") || v != &t[0])) {
        snprintf(why, whylen, "v= is not DKIM1 (or not the first tag)");
        return -1;
    }
    const mt_dkim_tag *h = tag(t, nt, "h"), *sv = tag(t, nt, "s");
    for (int i = 0; i < 2; i++) {
        const mt_dkim_tag *r = i ? sv : h;
        size_t u = strlen(key->restr);
        if (r)
            snprintf(key->restr + u, sizeof key->restr - u, "%s%s=%.*s", u ? ", " : "", i ? "s" : "h",
                     (int)(r->value.len > 40 ? 40 : r->value.len), r->value.p);
    }
    if (h) {
        key->sha1_ok = list_has(h->value, "sha1", NULL);
        key->sha256_ok = list_has(h->value, "sha256", NULL);
    }
    const mt_dkim_tag *tf = tag(t, nt, "t");
    if (tf) {
        key->testing = list_has(tf->value, "y", NULL);
        key->strict = list_has(tf->value, "s", NULL);
    }
    const mt_dkim_tag *pk = tag(t, nt, "p");
    if (pk == NULL) {
        snprintf(why, whylen, "no p= tag: not a DKIM key record");
        return -1;
    }
    if (sv && !list_has(sv->value, "email", "*")) {
        snprintf(why, whylen, "s= does not include email: the key may not sign mail (%s)", key->restr);
        return -1;
    }
    if (pk->value.len == 0) {
        snprintf(why, whylen, "key revoked (empty p=)");
        return -1;
    }
    const mt_dkim_tag *k = tag(t, nt, "k");
    if (k && !mt_slice_eq_cstr(k->value, "rsa") && !mt_slice_eq_cstr(k->value, "ed25519")) {
        snprintf(why, whylen, "unknown key type k=%.*s", (int)(k->value.len > 20 ? 20 : k->value.len),
                 k->value.p);
        return -1;
    }
    key->ed25519 = k && mt_slice_eq_cstr(k->value, "ed25519");
    size_t dl = 0;
    unsigned char *der = b64_decode(pk->value, &dl);
    if (der == NULL) {
        snprintf(why, whylen, "p= is not valid base64");
        return -1;
    }
    EVP_PKEY *pkey = NULL;
    if (key->ed25519) {
        if (dl == 32)
            pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, dl);
        if (pkey == NULL)
            snprintf(why, whylen, "Ed25519 key of %zu bytes (want 32)", dl);
        else
            key->bits = 256;
    } else {
        const unsigned char *q = der;
        pkey = d2i_PUBKEY(NULL, &q, (long)dl);
        if (pkey == NULL) {
            q = der;
            pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)dl); /* bare PKCS#1 */
        }
        if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
            snprintf(why, whylen, "p= does not hold an RSA public key");
            EVP_PKEY_free(pkey);
            pkey = NULL;
        } else {
            key->bits = EVP_PKEY_get_bits(pkey);
            if (key->bits < 1024) {
                snprintf(why, whylen, "RSA key of %d bits (under 1024: receivers ignore it, RFC 8301)",
                         key->bits);
                EVP_PKEY_free(pkey);
                pkey = NULL;
            }
        }
    }
    free(der);
    key->pkey = pkey;
    return pkey ? 0 : -1;
}

void mt_dkim_key_free(mt_dkim_key *key)
{
    EVP_PKEY_free(key->pkey);
    key->pkey = NULL;
}

static EVP_PKEY *load_key(const char *rec, const char *alg_k, const char *hashname, const char *d,
                          const char *i_dom, mt_dkim_sig *s)
{
    mt_dkim_key key;
    if (mt_dkim_key_parse(rec, strlen(rec), &key, s->reason, sizeof s->reason) < 0) {
        s->key_bits = key.bits;
        return NULL;
    }
    const char *kt = key.ed25519 ? "ed25519" : "rsa";
    if (strcmp(kt, alg_k) != 0)
        snprintf(s->reason, sizeof s->reason, "key is k=%s but the signature is a=%s", kt, s->a);
    else if (!(strcmp(hashname, "sha1") == 0 ? key.sha1_ok : key.sha256_ok))
        snprintf(s->reason, sizeof s->reason, "key record h= does not allow %s", hashname);
    else if (key.strict && i_dom && strcasecmp(i_dom, d) != 0)
        snprintf(s->reason, sizeof s->reason, "key t=s forbids i= subdomain %s of %s", i_dom, d);
    else {
        s->key_bits = key.bits;
        s->testing = key.testing;
        return key.pkey; /* the caller owns it now */
    }
    mt_dkim_key_free(&key);
    return NULL;
}

static long long num(mt_slice v, int *ok)
{
    *ok = v.len > 0 && v.len <= 18;
    long long r = 0;
    for (size_t i = 0; i < v.len && *ok; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            *ok = 0;
        else
            r = r * 10 + (v.p[i] - '0');
    }
    return r;
}

static void verify_one(msgview *v, size_t fi, mt_dkim_key_fn fn, void *arg, time_t now, mt_dkim_sig *s)
{
    memset(s, 0, sizeof *s);
    s->t = s->x = s->l = -1;
    s->result = MT_DKIM_PERMERROR;
    mt_slice ft = v->f[fi].field;
    const char *colon = memchr(ft.p, ':', ft.len);
    mt_dkim_tag t[MAX_TAGS];
    char why[160];
    int nt = mt_dkim_tags_parse(colon + 1, ft.len - (size_t)(colon + 1 - ft.p), t, MAX_TAGS, why, sizeof why);
    if (nt < 0) {
        snprintf(s->reason, sizeof s->reason, "signature syntax error: %s", why);
        return;
    }
    static const char *const req[] = {"v", "a", "b", "bh", "d", "h", "s"};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (tag(t, nt, req[i]) == NULL) {
            const mt_dkim_tag *d = tag(t, nt, "d");
            if (d)
                copy_slice(s->d, sizeof s->d, d->value);
            snprintf(s->reason, sizeof s->reason, "required tag %s= missing", req[i]);
            return;
        }
    copy_slice(s->d, sizeof s->d, tag(t, nt, "d")->value);
    mt_lower_ascii(s->d, strlen(s->d));
    copy_slice(s->s, sizeof s->s, tag(t, nt, "s")->value);
    copy_slice(s->a, sizeof s->a, tag(t, nt, "a")->value);
    if (!mt_slice_eq_cstr(tag(t, nt, "v")->value, "1")) {
        snprintf(s->reason, sizeof s->reason, "v=%.*s (must be 1)",
                 (int)(tag(t, nt, "v")->value.len > 20 ? 20 : tag(t, nt, "v")->value.len),
                 tag(t, nt, "v")->value.p);
        return;
    }
    const EVP_MD *md;
    const char *alg_k, *hashname;
    int ed = 0;
    if (strcmp(s->a, "rsa-sha256") == 0) {
        md = EVP_sha256();
        alg_k = "rsa";
        hashname = "sha256";
    } else if (strcmp(s->a, "ed25519-sha256") == 0) {
        md = EVP_sha256();
        alg_k = "ed25519";
        hashname = "sha256";
        ed = 1;
    } else if (strcmp(s->a, "rsa-sha1") == 0) {
        md = EVP_sha1();
        alg_k = "rsa";
        hashname = "sha1";
    } else {
        snprintf(s->reason, sizeof s->reason, "algorithm a=%s unsupported", s->a);
        return;
    }
    int hrelaxed = 0, brelaxed = 0;
    const mt_dkim_tag *c = tag(t, nt, "c");
    snprintf(s->c, sizeof s->c, "simple/simple");
    if (c) {
        char cv[32];
        copy_slice(cv, sizeof cv, c->value);
        char *slash = strchr(cv, '/');
        const char *hc = cv, *bc = slash ? slash + 1 : "simple";
        if (slash)
            *slash = '\0';
        if ((strcmp(hc, "simple") != 0 && strcmp(hc, "relaxed") != 0) ||
            (strcmp(bc, "simple") != 0 && strcmp(bc, "relaxed") != 0)) {
            snprintf(s->reason, sizeof s->reason, "canonicalisation c=%.*s unknown",
                     (int)(c->value.len > 30 ? 30 : c->value.len), c->value.p);
            return;
        }
        hrelaxed = strcmp(hc, "relaxed") == 0;
        brelaxed = strcmp(bc, "relaxed") == 0;
        snprintf(s->c, sizeof s->c, "%.7s/%.7s", hc, bc);
    }
    const mt_dkim_tag *q = tag(t, nt, "q");
    if (q && !(q->value.len >= 7 && !strncmp(q->value.p, "dns/txt", 7))) {
        snprintf(s->reason, sizeof s->reason, "query method q=%.*s unsupported",
                 (int)(q->value.len > 30 ? 30 : q->value.len), q->value.p);
        return;
    }
    const char *i_dom = NULL;
    const mt_dkim_tag *it = tag(t, nt, "i");
    if (it) {
        copy_slice(s->i, sizeof s->i, it->value);
        const char *at = strrchr(s->i, '@');
        if (at == NULL) {
            snprintf(s->reason, sizeof s->reason, "i=%.200s has no @", s->i);
            return;
        }
        i_dom = at + 1;
        size_t il = strlen(i_dom), dl = strlen(s->d);
        if (!(strcasecmp(i_dom, s->d) == 0 ||
              (il > dl && i_dom[il - dl - 1] == '.' && strcasecmp(i_dom + il - dl, s->d) == 0))) {
            snprintf(s->reason, sizeof s->reason, "i= domain %.100s is not d=%.100s or below it", i_dom,
                     s->d);
            return;
        }
    }
    int ok;
    const mt_dkim_tag *tt = tag(t, nt, "t");
    if (tt) {
        s->t = num(tt->value, &ok);
        if (!ok) {
            snprintf(s->reason, sizeof s->reason, "t= is not a number");
            return;
        }
    }
    const mt_dkim_tag *xt = tag(t, nt, "x");
    if (xt) {
        s->x = num(xt->value, &ok);
        if (!ok) {
            snprintf(s->reason, sizeof s->reason, "x= is not a number");
            return;
        }
        if (s->t >= 0 && s->x < s->t) {
            snprintf(s->reason, sizeof s->reason, "x=%lld is before t=%lld", s->x, s->t);
            return;
        }
    }
    const mt_dkim_tag *lt = tag(t, nt, "l");
    if (lt) {
        s->l = num(lt->value, &ok);
        if (!ok) {
            snprintf(s->reason, sizeof s->reason, "l= is not a number");
            return;
        }
    }
    /* h= must name From */
    const mt_dkim_tag *h = tag(t, nt, "h");
    {
        const char *p = h->value.p, *e = p + h->value.len;
        while (p < e) {
            const char *cc = memchr(p, ':', (size_t)(e - p));
            mt_slice one = trim(p, cc ? cc : e);
            if (one.len == 4 && strncasecmp(one.p, "from", 4) == 0)
                s->has_from = 1;
            p = cc ? cc + 1 : e;
        }
    }
    {
        size_t names = 1;
        for (size_t i = 0; i < h->value.len; i++)
            names += h->value.p[i] == ':';
        if (names > 512) {
            snprintf(s->reason, sizeof s->reason, "h= names %zu header fields (more than 512)", names);
            return;
        }
    }
    if (!s->has_from) {
        snprintf(s->reason, sizeof s->reason, "h= does not sign From");
        return;
    }
    if (s->x >= 0 && (long long)now > s->x) {
        snprintf(s->reason, sizeof s->reason, "signature expired (x=%lld, %lld s ago)", s->x,
                 (long long)now - s->x);
        return;
    }
    size_t bhl = 0, bl = 0;
    unsigned char *bh = b64_decode(tag(t, nt, "bh")->value, &bhl);
    unsigned char *b = b64_decode(tag(t, nt, "b")->value, &bl);
    if (bh == NULL || b == NULL) {
        snprintf(s->reason, sizeof s->reason, "%s= is not valid base64", bh == NULL ? "bh" : "b");
        free(bh);
        free(b);
        return;
    }

    /* the key */
    char name[512];
    snprintf(name, sizeof name, "%s._domainkey.%s", s->s, s->d);
    mt_buf rec;
    mt_buf_init(&rec);
    char kwhy[200] = "";
    mt_dkim_key_status ks = fn ? fn(name, &rec, kwhy, sizeof kwhy, arg) : MT_DKIM_KEY_UNAVAILABLE;
    EVP_PKEY *key = NULL;
    if (ks == MT_DKIM_KEY_FOUND) {
        key = load_key(rec.data ? rec.data : "", alg_k, hashname, s->d, i_dom, s);
        if (key == NULL)
            s->result = MT_DKIM_PERMERROR;
    } else if (ks == MT_DKIM_KEY_NONE) {
        snprintf(s->reason, sizeof s->reason, "no key record at %.150s%s%.80s", name, kwhy[0] ? ": " : "",
                 kwhy);
        s->result = MT_DKIM_PERMERROR;
    } else if (ks == MT_DKIM_KEY_TEMPERROR) {
        snprintf(s->reason, sizeof s->reason, "key lookup failed for now: %.200s", kwhy[0] ? kwhy : name);
        s->result = MT_DKIM_TEMPERROR;
    } else {
        snprintf(s->reason, sizeof s->reason, "%.200s", kwhy[0] ? kwhy : "no key available");
        s->result = MT_DKIM_NEUTRAL;
    }
    mt_buf_free(&rec);

    /* the body hash is computed even without a key: it tells whether the
     * body changed */
    EVP_MD_CTX *bctx = EVP_MD_CTX_new();
    bodyhash bhs; /* the 64 KB stage is not cleared: only staged bytes are read */
    bhs.ctx = bctx;
    bhs.limit = s->l;
    bhs.total = bhs.hashed = bhs.staged = 0;
    EVP_DigestInit_ex(bctx, md, NULL);
    canon_body(v->bodyp, v->bodylen, brelaxed, &bhs);
    flush(&bhs);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(bctx, dig, &dlen);
    EVP_MD_CTX_free(bctx);
    s->body_len = bhs.total;
    int body_ok = dlen == bhl && memcmp(dig, bh, dlen) == 0;
    if (s->l >= 0 && (size_t)s->l > bhs.total) {
        if (key) {
            snprintf(s->reason, sizeof s->reason, "l=%lld is longer than the body (%zu canonical bytes)",
                     s->l, bhs.total);
            s->result = MT_DKIM_FAIL;
        }
        goto done;
    }
    if (key == NULL) {
        if (s->result == MT_DKIM_NEUTRAL || s->result == MT_DKIM_TEMPERROR) {
            size_t rl = strlen(s->reason);
            snprintf(s->reason + rl, sizeof s->reason - rl, "; body hash %s",
                     body_ok ? "matches" : "does NOT match");
        }
        goto done;
    }
    if (!body_ok) {
        s->result = MT_DKIM_FAIL;
        snprintf(s->reason, sizeof s->reason,
                 "body hash mismatch: the body changed after signing (%s body, %zu bytes)",
                 brelaxed ? "relaxed" : "simple", bhs.total);
        goto done;
    }

    /* the header hash input */
    mt_buf data;
    mt_buf_init(&data);
    for (size_t i = 0; i < v->nf; i++)
        v->f[i].used = 0;
    {
        const char *p = h->value.p, *e = p + h->value.len;
        while (p < e) {
            const char *cc = memchr(p, ':', (size_t)(e - p));
            mt_slice one = trim(p, cc ? cc : e);
            p = cc ? cc + 1 : e;
            if (one.len == 0)
                continue;
            /* the last unused instance, bottom up */
            for (size_t k = v->nf; k-- > 0;) {
                field *f = &v->f[k];
                if (f->used || f->name.len != one.len || strncasecmp(f->name.p, one.p, one.len) != 0)
                    continue;
                f->used = 1;
                canon_header(f->field, hrelaxed, &data, 1);
                break;
            }
        }
    }
    mt_buf self;
    mt_buf_init(&self);
    strip_b(ft, &self);
    canon_header((mt_slice){self.data, self.len}, hrelaxed, &data, 0);
    mt_buf_free(&self);

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int vr;
    if (ed) {
        unsigned char hh[32];
        unsigned int hl = 0;
        EVP_Digest(data.data, data.len, hh, &hl, EVP_sha256(), NULL);
        vr = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, b, bl, hh, hl) == 1;
    } else {
        vr = EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, b, bl, (const unsigned char *)data.data, data.len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    mt_buf_free(&data);
    if (vr) {
        s->result = MT_DKIM_PASS;
        s->reason[0] = '\0';
        if (s->t > (long long)now + 3600)
            snprintf(s->reason, sizeof s->reason, "t= is %lld s in the future (the signer's clock?)",
                     s->t - (long long)now);
    } else {
        s->result = MT_DKIM_FAIL;
        snprintf(s->reason, sizeof s->reason,
                 "signature does not verify: a signed header changed after signing, or the key is not the "
                 "signer's");
    }
done:
    EVP_PKEY_free(key);
    free(bh);
    free(b);
}

size_t mt_dkim_verify(const char *msg, size_t len, mt_dkim_key_fn fn, void *arg, time_t now,
                      mt_dkim_sig *sigs, size_t max)
{
    /* most messages checked carry no signature: look before copying */
    int any = 0;
    for (const char *q = msg, *e = msg + len; q && q < e && !any;) {
        if ((size_t)(e - q) >= 15 && strncasecmp(q, "DKIM-Signature", 14) == 0)
            any = 1;
        if (q < e && (*q == '\n' || (*q == '\r' && q + 1 < e && q[1] == '\n')))
            break; /* the empty line: end of the header */
        const char *nl = memchr(q, '\n', (size_t)(e - q));
        q = nl ? nl + 1 : NULL;
    }
    if (!any)
        return 0;
    msgview v;
    view_open(&v, msg, len);
    size_t n = 0;
    for (size_t i = 0; i < v.nf; i++) {
        if (!(v.f[i].name.len == 14 && strncasecmp(v.f[i].name.p, "DKIM-Signature", 14) == 0))
            continue;
        if (n < max)
            verify_one(&v, i, fn, arg, now, &sigs[n]);
        n++;
    }
    view_close(&v);
    return n;
}
