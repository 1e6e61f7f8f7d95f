/*
 * reader_exim.c - one Exim mainlog line into its parts (see reader_exim.h
 * for the shapes and the mapping).
 */
#include "reader_exim.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "timeparse.h"

/* find_byte - the index of the first c in p[k..n), or n.  The bytes
 * looked for (a token's end, a quote, an IP's ']') are a dozen bytes away:
 * a call to memchr costs more than finding them here, 16 bytes at a time
 * where the line has them (never reading past n). */
static inline size_t find_byte(const char *p, size_t k, size_t n, char c)
{
#if defined(__SSE2__)
    const __m128i want = _mm_set1_epi8(c);
    for (; k + 16 <= n; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, want));
        if (m)
            return k + (size_t)__builtin_ctz(m);
    }
    if (k < n && n >= 16) {
        /* the last bytes: the line's last 16, those before k masked off,
         * rather than a byte at a time (the value at the end of a line,
         * a quote's end, are there) */
        size_t base = n - 16;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + base));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, want)) >> (k - base);
        return m ? k + (size_t)__builtin_ctz(m) : n;
    }
#endif
    while (k < n && p[k] != c)
        k++;
    return k;
}

/* zero_span - zero len bytes at b (len a constant where it is called): 16
 * bytes a store.  The compiler made the memset of a line's fields a
 * "rep stos", which costs as much as the rest of a Completed line. */
static inline __attribute__((always_inline)) void zero_span(void *b, size_t len)
{
    unsigned char *c = b;
#if defined(__SSE2__)
    /* unrolled: the loop's own counting cost as much as the stores */
#pragma GCC unroll 16
    for (size_t i = 0; i < len / 16; i++)
        _mm_storeu_si128((__m128i *)(void *)(c + 16 * i), _mm_setzero_si128());
    c += len / 16 * 16;
    len %= 16;
#endif
    memset(c, 0, len);
}

/* skip_to_space - the index of the first ' ' in p[k..n), or n: a token's
 * end */
static inline size_t skip_to_space(const char *p, size_t k, size_t n)
{
    return find_byte(p, k, n, ' ');
}

static inline int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned)(unsigned char)s[i] - '0';
        if (c > 9)
            return 0;
        v = v * 10 + (int)c;
    }
    *out = v;
    return 1;
}

/* base-62 characters (1) and '_' (2), which may also be in a key: a table
 * test per byte (this runs for every line) */
static const unsigned char b62[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
    ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['_'] = 2,
};

/* key_end - the end of the run of key characters (base 62 and '_') at
 * p[k..n): most keys are one or two letters (R=, T=, QT=, id=), checked
 * before the loop */
static inline size_t key_end(const char *p, size_t k, size_t n)
{
    if (k + 1 < n && p[k + 1] == '=' && b62[(unsigned char)p[k]])
        return k + 1;
    if (k + 2 < n && p[k + 2] == '=' && b62[(unsigned char)p[k]] && b62[(unsigned char)p[k + 1]])
        return k + 2;
    while (k < n && b62[(unsigned char)p[k]])
        k++;
    return k;
}

#if defined(__SSE2__)
/* b62_bits16 - bit i set when p[i] (of 16) is a base-62 character: a digit,
 * or a letter once 0x20 is set (bytes above 0x7f compare as negative) */
static inline unsigned b62_bits16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i digit =
        _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i l = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i letter =
        _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1)));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(digit, letter));
}
#endif

/* msgid16 - whether the 16 bytes at p are a classic id (6-6-2, dashes at 6
 * and 13): the shape of nearly every line's id, tested before the general
 * mt_exim_is_msgid and without its call */
static inline int msgid16(const char *p)
{
    if (p[6] != '-' || p[13] != '-')
        return 0;
#if defined(__SSE2__)
    return (b62_bits16(p) | (1u << 6) | (1u << 13)) == 0xffffu;
#else
    unsigned ok = 1;
    for (size_t i = 0; i < 16; i++)
        ok &= i == 6 || i == 13 || b62[(unsigned char)p[i]];
    return (int)ok;
#endif
}

int mt_exim_is_msgid(const char *p, size_t n)
{
    /* classic: 6-6-2 base62 ("1vKp0a-0004Rg-1x"); 4.97+: 6-11-4; the last
     * two parts each of either length: 16, 18, 21 or 23 bytes with the
     * dashes in their places (this runs for every line) */
    if (n == 16)
        return msgid16(p);
    if (n != 18 && n != 21 && n != 23)
        return 0;
    size_t dash = n < 21 ? 13 : 18;
    if (p[6] != '-' || p[dash] != '-')
        return 0;
#if defined(__SSE2__)
    /* the first 16 bytes and the last 16 (overlapping): every byte but the
     * dashes base 62 */
    uint32_t bits = b62_bits16(p) | (uint32_t)b62_bits16(p + n - 16) << (n - 16);
    uint32_t want = (((uint32_t)1 << n) - 1) & ~((uint32_t)1 << 6) & ~((uint32_t)1 << dash);
    return (bits & want) == want;
#else
    unsigned ok = 1;
    for (size_t i = 0; i < 6; i++)
        ok &= b62[(unsigned char)p[i]];
    for (size_t i = 7; i < dash; i++)
        ok &= b62[(unsigned char)p[i]];
    for (size_t i = dash + 1; i < n; i++)
        ok &= b62[(unsigned char)p[i]];
    return (int)ok;
#endif
}

/* stamp - "YYYY-MM-DD HH:MM:SS[.mmm]" then optionally " +hhmm"; returns
 * bytes consumed or 0.  Inlined: it runs for every line, and the call's
 * saving and restoring of registers cost as much as the same-minute path. */
static inline __attribute__((always_inline)) size_t stamp(const char *s, size_t n, mt_yearctx *yc, int64_t *t,
                                                          int32_t *usec)
{
    int y, mo, d, h, mi, sec;
    int64_t minute;
    if (n < 19)
        return 0;
    int same = 0;
    if (yc) { /* two words compared inline: a memcmp call cost more */
        uint64_t w[2], m[2];
        memcpy(w, s, 16);
        memcpy(m, yc->last_minute, 16);
        same = w[0] == m[0] && w[1] == m[1];
    }
    if (same) {
        /* the minute of the last stamp, which passed every test below */
        /* the two digits read straight: digits()'s loop cost more */
        unsigned s1 = (unsigned)(unsigned char)s[17] - '0', s0 = (unsigned)(unsigned char)s[18] - '0';
        if (s[16] != ':' || s1 > 9 || s0 > 9 || s1 * 10 + s0 > 60)
            return 0;
        sec = (int)(s1 * 10 + s0);
        minute = yc->last_minute_t;
    } else {
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || s[10] != ' ' || !digits(s + 11, 2, &h) || s[13] != ':' ||
            !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
            return 0;
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
            return 0;
        minute = mt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
        if (yc) {
            memcpy(yc->last_minute, s, 16);
            yc->last_minute_t = minute;
        }
    }
    /* the commonest: a space, then neither a zone's sign nor a fraction
     * (the id's first byte, '[' of a pid, any byte above '-'): the
     * tests below would answer the same */
    if (n > 20 && s[19] == ' ' && s[20] > '-') {
        *t = minute + sec;
        *usec = 0;
        return 19;
    }
    size_t k = 19;
    int32_t us = 0;
    if (k < n && s[k] == '.') {
        int32_t scale = 100000;
        for (k++; k < n && s[k] >= '0' && s[k] <= '9'; k++) {
            us += (s[k] - '0') * scale;
            scale /= 10;
        }
    }
    int off = 0, oh, om;
    if (k + 6 <= n && s[k] == ' ' && (s[k + 1] == '+' || s[k + 1] == '-') && digits(s + k + 2, 2, &oh) &&
        digits(s + k + 4, 2, &om) && (k + 6 == n || s[k + 6] == ' ')) {
        off = (oh * 3600 + om * 60) * (s[k + 1] == '-' ? -1 : 1);
        k += 6;
    }
    *t = minute + sec - off;
    *usec = us;
    return k;
}

static mt_pf_kind malformed(mt_pf_line *o, const char *why)
{
    o->why = why;
    return o->kind = MT_PF_MALFORMED;
}

/* exim_time - Exim's time spec ("1d2h3m4s", "0.123s", "5s"): seconds, or
 * -1 when it does not read as one. */
static double exim_time(const char *p, size_t n)
{
    /* the usual "1.3s", "0.94s" or "5s" first: the operations of the loop
     * below in the same order, so the same double, without its tests for
     * the other units; anything else goes on to the loop */
    if (n >= 2 && n <= 20 && p[n - 1] == 's') {
        double v = 0, frac = 0.1;
        size_t i = 0;
        unsigned d;
        while (i < n - 1 && (d = (unsigned)(unsigned char)p[i] - '0') <= 9) {
            v = v * 10 + (int)d;
            i++;
        }
        if (i > 0 && i < n - 1 && p[i] == '.')
            for (i++; i < n - 1 && (d = (unsigned)(unsigned char)p[i] - '0') <= 9; i++) {
                v += (int)d * frac;
                frac /= 10;
            }
        if (i > 0 && i == n - 1)
            return v; /* the loop's 0 + v * 1 */
    }
    double total = 0, v = 0, frac = 0;
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= '0' && c <= '9') {
            if (frac > 0) {
                v += (c - '0') * frac;
                frac /= 10;
            } else {
                v = v * 10 + (c - '0');
            }
            have = 1;
        } else if (c == '.' && have && frac == 0) {
            frac = 0.1;
        } else {
            double unit = c == 'w'   ? 604800
                          : c == 'd' ? 86400
                          : c == 'h' ? 3600
                          : c == 'm' ? 60
                          : c == 's' ? 1
                                     : 0;
            if (unit == 0 || !have)
                return -1;
            total += v * unit;
            v = 0;
            frac = 0;
            have = 0;
        }
    }
    return have ? -1 : total;
}

/* stage_after - the stage of the reply to Exim's "after COMMAND" words */
static mt_stage stage_after(const char *c, size_t n)
{
    if (mt_starts(c, n, "pipelined ")) {
        c += 10;
        n -= 10;
    }
    if (mt_starts(c, n, "initial connection"))
        return MT_STAGE_GREETING;
    if (mt_starts(c, n, "sending data block") || mt_starts(c, n, "end of data"))
        return MT_STAGE_DATA_END;
    return mt_stage_from_command(c, n);
}

/* host_ip - "NAME [IP]" or "[IP]" at p: returns bytes consumed up to and
 * including ']' or 0. */
static size_t host_ip(const char *p, size_t n, mt_slice *host, mt_slice *ip)
{
    const char *lb = memchr(p, '[', n);
    if (lb == NULL)
        return 0;
    for (const char *q = p; q + 1 < lb; q++)
        if (*q == ' ')
            return 0;
    const char *rb = memchr(lb, ']', n - (size_t)(lb - p));
    if (rb == NULL)
        return 0;
    size_t hl = (size_t)(lb - p);
    while (hl && p[hl - 1] == ' ')
        hl--;
    *host = (mt_slice){p, hl};
    *ip = (mt_slice){lb + 1, (size_t)(rb - lb - 1)};
    return (size_t)(rb - p) + 1;
}

/* closing_quote - the index of the '"' that closes a quoted value whose
 * text starts at k (a backslash escapes the next byte), n if none */
static inline size_t closing_quote(const char *p, size_t k, size_t n)
{
    while (k < n) {
        size_t i = find_byte(p, k, n, '"'), bs = 0;
        if (i >= n)
            return n;
        while (i - bs > k && p[i - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            return i;
        k = i + 1;
    }
    return n;
}

/* reply_start - in "COMMAND: 451 …", the reply: the first ": " followed
 * by a 3-digit code.  NULL if none. */
static const char *reply_start(const char *p, size_t n)
{
    for (size_t i = 0; i + 5 < n; i++) {
        if (p[i] == ':' && p[i + 1] == ' ' && p[i + 2] >= '2' && p[i + 2] <= '5' && p[i + 3] >= '0' &&
            p[i + 3] <= '9' && p[i + 4] >= '0' && p[i + 4] <= '9' &&
            (i + 5 == n || p[i + 5] == ' ' || p[i + 5] == '-'))
            return p + i + 2;
    }
    return NULL;
}

/* failure - the message p[0..n) of a == or ** line: MX, reply, stage.
 * smtp: the first "SMTP error" in it, or NULL: Exim's "SMTP error from
 * remote mail…" can only start there or later. */
static void failure(const char *p, size_t n, const char *smtp, mt_pf_line *o)
{
    o->reason = (mt_slice){p, n};
    o->reply = o->reason;
    /* "… H=host [ip]: rest" inside the message (timeouts) */
    const char *h = mt_find(p, n, "H=");
    if (h && (h == p || h[-1] == ' ') && o->mx_host.len == 0 && o->mx_ip.len == 0) {
        mt_slice hh, ip;
        if (host_ip(h + 2, n - (size_t)(h + 2 - p), &hh, &ip)) {
            o->mx_host = hh;
            o->mx_ip = ip;
        }
    }
    const char *e = NULL;
    size_t el = 0, sn = smtp ? n - (size_t)(smtp - p) : 0;
    if (smtp) {
        e = mt_find(smtp, sn, "SMTP error from remote mail server after ");
        el = strlen("SMTP error from remote mail server after ");
        if (e == NULL) {
            e = mt_find(smtp, sn, "SMTP error from remote mailer after ");
            el = strlen("SMTP error from remote mailer after ");
        }
    }
    if (e) {
        const char *c = e + el;
        size_t cn = n - (size_t)(c - p);
        const char *r = reply_start(c, cn);
        o->stage = stage_after(c, r ? (size_t)(r - c) : cn);
        if (r)
            mt_pf_set_reply(o, r, n - (size_t)(r - p));
        return;
    }
    const char *w;
    if ((w = mt_find(p, n, "timeout after ")) != NULL) {
        const char *c = w + strlen("timeout after ");
        o->stage = stage_after(c, n - (size_t)(c - p));
        return;
    }
    if ((w = mt_find(p, n, "closed connection in response to ")) != NULL) {
        const char *c = w + strlen("closed connection in response to ");
        o->stage = stage_after(c, n - (size_t)(c - p));
        return;
    }
    if (mt_find(p, n, "TLS session") || mt_find(p, n, "TLS error") || mt_find(p, n, "STARTTLS") ||
        mt_find(p, n, "TLS negotiation") || mt_find(p, n, "certificate"))
        o->stage = MT_STAGE_STARTTLS;
    else if (mt_starts(p, n, "Connection refused") || mt_starts(p, n, "Connection timed out") ||
             mt_find(p, n, "Network is unreachable") || mt_find(p, n, "No route to host") ||
             mt_starts(p, n, "Unrouteable address") ||
             mt_find(p, n, "all relevant MX records point to non-existent") ||
             mt_find(p, n, "lookup of host") || mt_find(p, n, "host lookup did not complete") ||
             mt_starts(p, n, "Network Error") || mt_find(p, n, "Connection reset"))
        o->stage = MT_STAGE_CONNECT;
}

/* bracketed_ip - the IP inside "[ip]…" (an I= value v, inside the line
 * p[0..n)): v's text up to its first ']'; keep when v is not so.  The ']'
 * is looked for in the line, whose 16-byte loads reach it where the value
 * alone (14 bytes for an IPv4 address) would be read a byte at a time. */
static inline mt_slice bracketed_ip(const char *p, size_t n, mt_slice v, mt_slice keep)
{
    if (v.len > 2 && v.p[0] == '[') {
        size_t vs = (size_t)(v.p - p), rb = find_byte(p, vs, n, ']');
        if (rb < vs + v.len)
            return (mt_slice){v.p + 1, rb - vs - 1};
    }
    return keep;
}

/* the fields of a delivery line that its loops keep before they go into
 * the mt_pf_line */
typedef struct exim_fields {
    mt_slice r_router, t_transport, confirm, qt;
} exim_fields;

/* delivery_usual - the fields of a delivery line from k (the end of the
 * address) when they have the usual shape: one space before each
 * KEY=VALUE token, a key of one or two key characters, no message (no
 * value ending in ':'), no <original> address, no unclosed quote.  Returns
 * 1 having filled f and o's MX and sending IP, else 0: the caller then reads
 * the line again with the general loop, which sets again each field this
 * one set (it reads the same tokens first, and cuts each token and matches
 * each key as this one does, so both give the same fields).  This one skips
 * that loop's tests for runs of spaces, messages, keys of any length and
 * tokens without a key, which a sent line (more than a third of a log's
 * lines) does not have, and its chain of key tests. */
static int delivery_usual(const char *p, size_t n, size_t k, exim_fields *f, mt_pf_line *o)
{
    while (k < n) {
        if (p[k] != ' ' || k + 2 >= n)
            return 0;
        k++;
        size_t ks = k, vs;
        if (p[k + 1] == '=' && b62[(unsigned char)p[k]])
            vs = k + 2;
        else if (k + 2 < n && p[k + 2] == '=' && b62[(unsigned char)p[k]] && b62[(unsigned char)p[k + 1]])
            vs = k + 3;
        else
            return 0;
        mt_slice v;
        if (vs < n && p[vs] == '"') {
            size_t ve = closing_quote(p, vs + 1, n);
            if (ve >= n)
                return 0;
            v = (mt_slice){p + vs + 1, ve - vs - 1};
            k = ve + 1;
        } else {
            size_t ve = skip_to_space(p, vs, n);
            if (ve > vs && p[ve - 1] == ':')
                return 0;
            v = (mt_slice){p + vs, ve - vs};
            k = ve;
        }
        if (vs - ks == 3) { /* a two-character key */
            if (p[ks] == 'Q' && p[ks + 1] == 'T')
                f->qt = v;
            continue;
        }
        /* tested in a line's order, not by a switch: its jump table cost
         * more than the two or three tests a token takes here */
        char key = p[ks];
        if (key == 'R') {
            f->r_router = v;
        } else if (key == 'T') {
            f->t_transport = v;
        } else if (key == 'H') { /* H=name [ip]:port* : the ip part is the next token */
            mt_slice host = v, ip = MT_SLICE_NULL;
            if (k + 1 < n && p[k] == ' ' && p[k + 1] == '[') {
                size_t rb = find_byte(p, k + 1, n, ']');
                if (rb >= n)
                    return 0;
                ip = (mt_slice){p + k + 2, rb - (k + 2)};
                /* a space after the ']' most often: no search */
                k = rb + 1 < n && p[rb + 1] == ' ' ? rb + 1 : skip_to_space(p, rb + 1, n);
                if (p[k - 1] == ':')
                    return 0;
            } else if (host.len && host.p[0] == '[') {
                size_t rb = find_byte(host.p, 0, host.len, ']');
                if (rb < host.len) {
                    ip = (mt_slice){host.p + 1, rb - 1};
                    host = MT_SLICE_NULL;
                }
            }
            o->mx_host = host;
            o->mx_ip = ip;
        } else if (key == 'I') {
            o->sending_ip = bracketed_ip(p, n, v, o->sending_ip);
        } else if (key == 'C') {
            f->confirm = v;
        }
    }
    return 1;
}

/* delivery - a =>, ->, >>, == or ** line from the address on */
static mt_pf_kind delivery(const char *p, size_t n, char flag0, char flag1, mt_pf_line *o)
{
    /* => -> >> sent; == deferred; ** failed */
    if (flag0 == '=' && flag1 == '=')
        o->status = MT_STATUS_DEFERRED;
    else if (flag0 == '*')
        o->status = MT_STATUS_BOUNCED;
    else
        o->status = MT_STATUS_SENT;
    size_t k = 0;
    k = skip_to_space(p, k, n);
    if (k == 0)
        return malformed(o, "exim delivery: no address");
    mt_slice addr = {p, k};
    mt_slice orig = MT_SLICE_NULL;
    const char *msg = NULL;
    size_t msgn = 0;
    if (k > 1 && p[k - 1] == ':') { /* "** a@b: retry timeout exceeded" */
        addr.len--;
        msg = k < n ? p + k + 1 : p + n;
        msgn = n - (size_t)(msg - p);
        k = n;
    }
    exim_fields f = {MT_SLICE_NULL, MT_SLICE_NULL, MT_SLICE_NULL, MT_SLICE_NULL};
    if (o->status == MT_STATUS_SENT && msg == NULL && delivery_usual(p, n, k, &f, o))
        k = n; /* the general loop has nothing left to read */
    int keyed = 0;
    while (k < n) {
        while (k < n && p[k] == ' ')
            k++;
        if (k >= n)
            break;
        if (p[k] == ':' && (k + 1 == n || p[k + 1] == ' ')) {
            msg = p + k + (k + 1 < n ? 2 : 1);
            msgn = n - (size_t)(msg - p);
            break;
        }
        /* the key, if the token is KEY=… */
        size_t ks = k, ke = key_end(p, k, n);
        int has_key = ke > ks && ke < n && p[ke] == '=';
        size_t vs = has_key ? ke + 1 : k, ve;
        int quoted = vs < n && p[vs] == '"';
        if (quoted) {
            ve = closing_quote(p, vs + 1, n);
            if (ve >= n)
                return malformed(o, "exim delivery: unclosed quote");
            k = ve + 1;
            vs++;
        } else {
            ve = vs;
            ve = skip_to_space(p, ve, n);
            k = ve;
        }
        mt_slice v = {p + vs, ve - vs};
        int ends_fields = !quoted && v.len && v.p[v.len - 1] == ':';
        if (ends_fields)
            v.len--;
        if (has_key) {
            keyed = 1;
            size_t kl = ke - ks;
            const char *key = p + ks;
            if (kl == 1 && key[0] == 'R') {
                f.r_router = v;
            } else if (kl == 1 && key[0] == 'T') {
                f.t_transport = v;
            } else if (kl == 1 && key[0] == 'C') {
                f.confirm = v;
            } else if (kl == 2 && key[0] == 'Q' && key[1] == 'T') {
                f.qt = v;
            } else if (kl == 1 && key[0] == 'H') {
                /* H=name [ip]:port* : the ip part is the next token */
                mt_slice host = v, ip = MT_SLICE_NULL;
                if (!ends_fields && k + 1 < n && p[k] == ' ' && p[k + 1] == '[') {
                    size_t rb = find_byte(p, k + 1, n, ']');
                    if (rb >= n)
                        return malformed(o, "exim delivery: H= without ']'");
                    ip = (mt_slice){p + k + 2, rb - (k + 2)};
                    k = rb + 1;
                    k = skip_to_space(p, k, n);
                    ends_fields = p[k - 1] == ':';
                } else if (host.len && host.p[0] == '[') {
                    const char *rb = memchr(host.p, ']', host.len);
                    if (rb) {
                        ip = (mt_slice){host.p + 1, (size_t)(rb - host.p - 1)};
                        host = MT_SLICE_NULL;
                    }
                }
                o->mx_host = host;
                o->mx_ip = ip;
            } else if (kl == 1 && key[0] == 'I') {
                o->sending_ip = bracketed_ip(p, n, v, o->sending_ip);
            }
        } else if (!keyed && v.len > 2 && v.p[0] == '<' && v.p[v.len - 1] == '>') {
            orig = (mt_slice){v.p + 1, v.len - 2};
        }
        if (ends_fields) {
            while (k < n && p[k] == ' ')
                k++;
            msg = p + k;
            msgn = n - k;
            break;
        }
    }
    /* the recipient: the final address, or the original when the final one
     * is a local part, a pipe or a file */
    o->to = addr;
    if (orig.len && (memchr(addr.p, '@', addr.len) == NULL || addr.p[0] == '|' || addr.p[0] == '/'))
        o->to = orig;
    if (orig.len)
        o->orig_to = orig;
    o->relay = f.t_transport.len ? f.t_transport : f.r_router;
    o->program = o->relay;
    if (f.qt.len)
        o->delay = mt_delay_checked(exim_time(f.qt.p, f.qt.len));
    if (o->status == MT_STATUS_SENT) {
        if (f.confirm.len)
            mt_pf_set_reply(o, f.confirm.p, f.confirm.len);
        if (o->mx_host.len || o->mx_ip.len)
            o->stage = MT_STAGE_DATA_END;
        return o->kind = MT_PF_DELIVERY;
    }
    if (msg == NULL) { /* "defer (-1)" and nothing more: Exim said no reason */
        msg = p + n;
        msgn = 0;
    }
    /* "SMTP error" looked for once, first: most failures say it, and then
     * neither "retry" search is needed */
    const char *smtp = mt_find(msg, msgn, "SMTP error");
    if (o->status == MT_STATUS_DEFERRED && !smtp && mt_find(msg, msgn, "retry time not reached"))
        return o->kind = MT_PF_IGNORED; /* Exim did not try: no attempt */
    if (o->status == MT_STATUS_BOUNCED && !smtp &&
        (mt_find(msg, msgn, "retry timeout exceeded") || mt_find(msg, msgn, "failing for a long time")))
        return o->kind = MT_PF_QMGR_EXPIRED; /* given up without trying again: no attempt */
    failure(msg, msgn, smtp, o);
    /* a temporary reply that ends the address: the retry time ran out */
    if (o->status == MT_STATUS_BOUNCED && o->reply_code >= 400 && o->reply_code < 500)
        o->status = MT_STATUS_EXPIRED;
    return o->kind = MT_PF_DELIVERY;
}

/* size_value - S='s value at p[vs..ve): its leading digits (at most 18:
 * no overflow), -1 when there are none */
static inline int64_t size_value(const char *p, size_t vs, size_t ve)
{
    int64_t v = 0;
    size_t i = vs, lim = ve - vs < 18 ? ve : vs + 18;
    for (; i < lim; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9)
            break;
        v = v * 10 + (int64_t)d;
    }
    return i > vs ? v : -1;
}

/* message_id_value - id='s value at p[vs..ve) without its <> */
static inline mt_slice message_id_value(const char *p, size_t vs, size_t ve)
{
    mt_slice id = {p + vs, ve - vs};
    if (id.len >= 2 && id.p[0] == '<' && id.p[id.len - 1] == '>') {
        id.p++;
        id.len -= 2;
    }
    return id;
}

/* find_eq_or_quote - the index of the first '=' or '"' in p[k..n), or n:
 * find_byte for two bytes */
static inline size_t find_eq_or_quote(const char *p, size_t k, size_t n)
{
#if defined(__SSE2__)
    const __m128i eq = _mm_set1_epi8('='), quote = _mm_set1_epi8('"');
    for (; k + 16 <= n; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, eq), _mm_cmpeq_epi8(v, quote)));
        if (m)
            return k + (size_t)__builtin_ctz(m);
    }
    if (k < n && n >= 16) { /* the line's last 16 bytes, as in find_byte */
        size_t base = n - 16;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + base));
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, eq), _mm_cmpeq_epi8(v, quote))) >>
            (k - base);
        return m ? k + (size_t)__builtin_ctz(m) : n;
    }
#endif
    while (k < n && p[k] != '=' && p[k] != '"')
        k++;
    return k;
}

/* arrival_plain - an arrival's S= and id= from k (the space after the
 * sender) when p[k..n) holds no quote; returns 0 at a quote, having set
 * nothing (the caller's token loop reads the line).  Without quotes the
 * tokens are the runs between spaces, and a token is S=… (id=…) exactly
 * when its first '=' has " S" (" id") before it: so the '=' signs are all
 * this one looks at, where the token loop tests every token for a key.
 * The last token of a key wins, as in the loop. */
static int arrival_plain(const char *p, size_t n, size_t k, mt_pf_line *o)
{
    size_t s_at = 0, id_at = 0; /* where the last S= and id= values start; 0: none */
    for (size_t j = find_eq_or_quote(p, k, n); j < n; j = find_eq_or_quote(p, j + 1, n)) {
        if (p[j] == '"')
            return 0;
        if (j >= k + 2 && p[j - 1] == 'S' && p[j - 2] == ' ')
            s_at = j + 1;
        else if (j >= k + 3 && p[j - 1] == 'd' && p[j - 2] == 'i' && p[j - 3] == ' ')
            id_at = j + 1;
    }
    if (s_at)
        o->size = size_value(p, s_at, n);
    if (id_at)
        o->message_id = message_id_value(p, id_at, skip_to_space(p, id_at, n));
    return 1;
}

/* arrival - "<= sender FIELDS" */
static mt_pf_kind arrival(const char *p, size_t n, mt_pf_line *o)
{
    size_t k = 0;
    k = skip_to_space(p, k, n);
    if (k == 0)
        return malformed(o, "exim arrival: no sender");
    o->from = (mt_slice){p, (k == 2 && p[0] == '<' && p[1] == '>') ? 0 : k};
    if (arrival_plain(p, n, k, o))
        return o->kind = MT_PF_QMGR_FROM;
    while (k < n) {
        while (k < n && p[k] == ' ')
            k++;
        if (k >= n)
            break;
        /* a key only where the token starts with a key character: the
         * others (an IP in brackets, a HELO in parentheses) skip key_end */
        size_t ks = k, ke = k, vs = k, ve;
        if (b62[(unsigned char)p[k]]) {
            size_t e = key_end(p, k, n);
            if (e < n && p[e] == '=') {
                ke = e;
                vs = e + 1;
            }
        }
        if (vs < n && p[vs] == '"') {
            ve = closing_quote(p, vs + 1, n);
            if (ve >= n)
                return malformed(o, "exim arrival: unclosed quote");
            k = ve + 1;
            continue;
        }
        ve = skip_to_space(p, vs, n);
        k = ve;
        size_t kl = ke - ks; /* 0: no key */
        if (kl == 1 && p[ks] == 'S')
            o->size = size_value(p, vs, ve);
        else if (kl == 2 && p[ks] == 'i' && p[ks + 1] == 'd')
            o->message_id = message_id_value(p, vs, ve);
    }
    return o->kind = MT_PF_QMGR_FROM;
}

int mt_exim_probe(const char *line, size_t n)
{
    int64_t t;
    int32_t us;
    size_t k = stamp(line, n, NULL, &t, &us);
    if (k == 0 || k >= n || line[k] != ' ')
        return 0;
    k++;
    if (k >= n)
        return 0;
    if (line[k] == '[') { /* +pid */
        size_t j = k + 1;
        while (j < n && line[j] >= '0' && line[j] <= '9')
            j++;
        if (j == k + 1 || j + 1 >= n || line[j] != ']' || line[j + 1] != ' ')
            return 0;
        k = j + 2;
    }
    const char *p = line + k;
    size_t rn = n - k;
    const char *sp = memchr(p, ' ', rn);
    if (mt_exim_is_msgid(p, sp ? (size_t)(sp - p) : rn))
        return 1;
    static const char *const known[] = {"SMTP connection from ",
                                        "SMTP protocol ",
                                        "SMTP command timeout ",
                                        "H=",
                                        "Start queue run",
                                        "End queue run",
                                        "exim ",
                                        "TLS error ",
                                        "no host name found for ",
                                        "rejected ",
                                        "unexpected disconnection "};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (mt_starts(p, rn, known[i]))
            return 1;
    return mt_find(p, rn, " authenticator failed for ") != NULL;
}

mt_pf_kind mt_exim_parse(const char *line, size_t n, mt_yearctx *yc, mt_pf_line *o)
{
    /* the fields before `to` are set for every line; a delivery clears its
     * own group and an arrival the rest (mt_pf_line's layout): the struct
     * is large, this runs for every line, and clearing it all was half the
     * time of this function */
    o->why = NULL;
    o->time = 0;
    o->usec = 0;
    o->host = o->program = o->daemon = o->queue_id = MT_SLICE_NULL;
    size_t k = stamp(line, n, yc, &o->time, &o->usec);
    if (k == 0)
        return malformed(o, "no Exim timestamp");
    if (k < n && line[k] == ' ' && k + 1 < n && line[k + 1] == '[') {
        size_t j = k + 2;
        while (j < n && line[j] >= '0' && line[j] <= '9')
            j++;
        if (j < n && line[j] == ']')
            k = j + 1;
    }
    if (k >= n || line[k] != ' ')
        return o->kind = MT_PF_IGNORED;
    k++;
    const char *id = line + k;
    size_t idend;
    if (k + 16 < n && line[k + 16] == ' ') {
        /* the classic id's length: a valid one has no space before its
         * end, and a shorter token is no id of any form, so msgid16 alone
         * answers */
        if (!msgid16(id))
            return o->kind = MT_PF_IGNORED;
        idend = k + 16;
    } else {
        idend = skip_to_space(line, k, n);
        if (!mt_exim_is_msgid(id, idend - k))
            return o->kind = MT_PF_IGNORED; /* daemon, queue runner, rejections, … */
    }
    const char *sp = idend < n ? line + idend : NULL;
    size_t idn = idend - k;
    o->queue_id = (mt_slice){id, idn};
    /* no host: empty, at the space before the id, where the joiner finds
     * its key " id" as the line stands */
    o->host = (mt_slice){id - 1, 0};
    if (sp == NULL)
        return o->kind = MT_PF_IGNORED;
    const char *p = sp + 1;
    size_t rn = n - (size_t)(p - line);
    /* "Completed" as 8 bytes and one: a compare of 8 bytes folds into one
     * load, where mt_starts's 9 made a call to memcmp */
    if (rn >= 9 && memcmp(p, "Complete", 8) == 0 && p[8] == 'd')
        return o->kind = MT_PF_REMOVED;
    if (rn >= 3 && p[2] == ' ') {
        char a = p[0], b = p[1];
        if (a == '<' && b == '=') {
            zero_span(&o->from, sizeof *o - offsetof(mt_pf_line, from));
            o->size = -1;
            o->nrcpt = -1;
            return arrival(p + 3, rn - 3, o);
        }
        if ((a == '=' && b == '>') || (a == '-' && b == '>') || (a == '>' && b == '>') ||
            (a == '=' && b == '=') || (a == '*' && b == '*')) {
            zero_span(&o->to, offsetof(mt_pf_line, from) - offsetof(mt_pf_line, to));
            o->delay = -1;
            return delivery(p + 3, rn - 3, a, b, o);
        }
    }
    return o->kind = MT_PF_IGNORED; /* *>, frozen, SMTP notes, … */
}
