/*
 * util.c - checked allocation, byte buffers, hashing.
 */
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t n)
{
    fprintf(stderr, "mailtriage: out of memory (asked for %zu bytes)\n", n);
    exit(1);
}

void *mt_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        die_oom(n);
    return p;
}

void *mt_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        die_oom(nmemb * size);
    return p;
}

void *mt_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        die_oom(n);
    return q;
}

char *mt_xstrdup(const char *s)
{
    return mt_xstrndup(s, strlen(s));
}

char *mt_xstrndup(const char *s, size_t n)
{
    char *d = mt_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

int mt_slice_eq_cstr(mt_slice s, const char *c)
{
    size_t n = strlen(c);
    return s.len == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

void mt_buf_init(mt_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void mt_buf_free(mt_buf *b)
{
    free(b->data);
    mt_buf_init(b);
}

void mt_buf_reset(mt_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void mt_buf_grow(mt_buf *b, size_t need)
{
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = mt_xrealloc(b->data, cap);
    b->cap = cap;
}

void mt_buf_append(mt_buf *b, const void *p, size_t n)
{
    mt_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void mt_buf_puts(mt_buf *b, const char *s)
{
    mt_buf_append(b, s, strlen(s));
}

void mt_buf_putc(mt_buf *b, char c)
{
    mt_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void mt_buf_printf(mt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* clang-analyzer 14 misreads va_start here (a known false positive) */
    int n = vsnprintf(NULL, 0, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    if (n < 0)
        return;
    mt_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* utf8_len - length of the valid UTF-8 sequence at s (at most n bytes),
 * or 0 when the bytes there are not valid UTF-8. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    unsigned cp = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void mt_buf_put_json_str(mt_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    mt_buf_reserve(b, n + 2);
    mt_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        /* copy runs of plain printable ASCII in one go */
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' && u[run] != '\\')
            run++;
        if (run > i) {
            mt_buf_append(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned c = u[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            mt_buf_append(b, e, 2);
            i++;
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (c == '\n')
                mt_buf_append(b, "\\n", 2);
            else if (c == '\t')
                mt_buf_append(b, "\\t", 2);
            else if (c == '\r')
                mt_buf_append(b, "\\r", 2);
            else
                mt_buf_append(b, e, 6);
            i++;
        } else {
            size_t l = utf8_len(u + i, n - i);
            if (l == 0) {
                mt_buf_append(b, "\xef\xbf\xbd", 3);
                i++;
            } else {
                mt_buf_append(b, s + i, l);
                i += l;
            }
        }
    }
    mt_buf_putc(b, '"');
}

void mt_buf_put_csv_field(mt_buf *b, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') {
            quote = 1;
            break;
        }
    }
    if (!quote) {
        mt_buf_append(b, s, n);
        return;
    }
    mt_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            mt_buf_putc(b, '"');
        mt_buf_putc(b, s[i]);
    }
    mt_buf_putc(b, '"');
}

int mt_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint64_t mt_hash(const void *p, size_t n)
{
    /* eight bytes a step, each mixed by a multiply; enough for hash tables */
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ (w * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) /* the tail: a loop is cheaper than a memcpy call */
        w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ (w * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

const char *mt_grouped(uint64_t v, char *buf)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

/* bytes of replies and addresses, as a table: reply shaping tests every
 * byte.  CL_L: RFC 5322 atext and the dot (a local part's); CL_T: part of a
 * shaping token (atext and ':', not the dot); CL_D: a digit; CL_W: lower
 * case.  CL_D and CL_W are the low bits of two counters, so that shaping
 * adds a token's classes up with one addition a byte (its digits in bits
 * 0-31, its lower-case letters from bit 32); CL_L and CL_T sit above them,
 * where their own sums overflow harmlessly. */
#define CL_D ((uint64_t)1)
#define CL_W ((uint64_t)1 << 32)
#define CL_L ((uint64_t)1 << 62)
#define CL_T ((uint64_t)1 << 63)
static const uint64_t char_class[256] = {
    ['a'] = CL_L | CL_T | CL_W,
    ['b'] = CL_L | CL_T | CL_W,
    ['c'] = CL_L | CL_T | CL_W,
    ['d'] = CL_L | CL_T | CL_W,
    ['e'] = CL_L | CL_T | CL_W,
    ['f'] = CL_L | CL_T | CL_W,
    ['g'] = CL_L | CL_T | CL_W,
    ['h'] = CL_L | CL_T | CL_W,
    ['i'] = CL_L | CL_T | CL_W,
    ['j'] = CL_L | CL_T | CL_W,
    ['k'] = CL_L | CL_T | CL_W,
    ['l'] = CL_L | CL_T | CL_W,
    ['m'] = CL_L | CL_T | CL_W,
    ['n'] = CL_L | CL_T | CL_W,
    ['o'] = CL_L | CL_T | CL_W,
    ['p'] = CL_L | CL_T | CL_W,
    ['q'] = CL_L | CL_T | CL_W,
    ['r'] = CL_L | CL_T | CL_W,
    ['s'] = CL_L | CL_T | CL_W,
    ['t'] = CL_L | CL_T | CL_W,
    ['u'] = CL_L | CL_T | CL_W,
    ['v'] = CL_L | CL_T | CL_W,
    ['w'] = CL_L | CL_T | CL_W,
    ['x'] = CL_L | CL_T | CL_W,
    ['y'] = CL_L | CL_T | CL_W,
    ['z'] = CL_L | CL_T | CL_W,
    ['A'] = CL_L | CL_T,
    ['B'] = CL_L | CL_T,
    ['C'] = CL_L | CL_T,
    ['D'] = CL_L | CL_T,
    ['E'] = CL_L | CL_T,
    ['F'] = CL_L | CL_T,
    ['G'] = CL_L | CL_T,
    ['H'] = CL_L | CL_T,
    ['I'] = CL_L | CL_T,
    ['J'] = CL_L | CL_T,
    ['K'] = CL_L | CL_T,
    ['L'] = CL_L | CL_T,
    ['M'] = CL_L | CL_T,
    ['N'] = CL_L | CL_T,
    ['O'] = CL_L | CL_T,
    ['P'] = CL_L | CL_T,
    ['Q'] = CL_L | CL_T,
    ['R'] = CL_L | CL_T,
    ['S'] = CL_L | CL_T,
    ['T'] = CL_L | CL_T,
    ['U'] = CL_L | CL_T,
    ['V'] = CL_L | CL_T,
    ['W'] = CL_L | CL_T,
    ['X'] = CL_L | CL_T,
    ['Y'] = CL_L | CL_T,
    ['Z'] = CL_L | CL_T,
    ['0'] = CL_L | CL_T | CL_D,
    ['1'] = CL_L | CL_T | CL_D,
    ['2'] = CL_L | CL_T | CL_D,
    ['3'] = CL_L | CL_T | CL_D,
    ['4'] = CL_L | CL_T | CL_D,
    ['5'] = CL_L | CL_T | CL_D,
    ['6'] = CL_L | CL_T | CL_D,
    ['7'] = CL_L | CL_T | CL_D,
    ['8'] = CL_L | CL_T | CL_D,
    ['9'] = CL_L | CL_T | CL_D,
    ['.'] = CL_L,
    ['!'] = CL_L | CL_T,
    ['#'] = CL_L | CL_T,
    ['$'] = CL_L | CL_T,
    ['%'] = CL_L | CL_T,
    ['&'] = CL_L | CL_T,
    ['\''] = CL_L | CL_T,
    ['*'] = CL_L | CL_T,
    ['+'] = CL_L | CL_T,
    ['/'] = CL_L | CL_T,
    ['='] = CL_L | CL_T,
    ['?'] = CL_L | CL_T,
    ['^'] = CL_L | CL_T,
    ['_'] = CL_L | CL_T,
    ['`'] = CL_L | CL_T,
    ['{'] = CL_L | CL_T,
    ['|'] = CL_L | CL_T,
    ['}'] = CL_L | CL_T,
    ['~'] = CL_L | CL_T,
    ['-'] = CL_L | CL_T,
    [':'] = CL_T,
};

int mt_is_local_char(char c)
{
    return (char_class[(unsigned char)c] & CL_L) != 0;
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
        while (b > i && mt_is_local_char(s[b - 1]))
            b--;
        mt_buf_append(out, s + i, b - i);
        if (b < a)
            mt_buf_puts(out, "\xe2\x80\xa6"); /* … */
        mt_buf_putc(out, '@');
        i = a + 1;
    }
}

void mt_reply_shape(const char *s, mt_buf *out, mt_buf *tmpb)
{
    mt_redact_text(s, tmpb);
    mt_reply_shape_masked(tmpb->data ? tmpb->data : "", tmpb->len, out);
}

void mt_reply_shape_masked(const char *p, size_t n, mt_buf *out)
{
    mt_buf_reset(out);
    mt_buf_reserve(out, n); /* the shape is never longer than the text */
    char *o = out->data;
    if (o == NULL) /* not after a reserve; says so to the analyzer */
        return;
    size_t i = 0;
    while (i < n) {
        /* a token: a run of alphanumerics (and . _ - + = /), copied as it
         * is read and taken back if it is masked */
        uint64_t c = char_class[(unsigned char)p[i]];
        if (!(c & CL_T)) {
            *o++ = p[i++];
            continue;
        }
        /* the counters hold 2^30 - 1: a longer run (no reply has one) is
         * shaped as several tokens */
        size_t j = i, end = n - i > (1u << 30) - 1 ? i + (1u << 30) - 1 : n;
        uint64_t sum = 0;
        do {
            sum += c;
            o[j - i] = p[j];
            j++;
        } while (j < end && ((c = char_class[(unsigned char)p[j]]) & CL_T));
        size_t len = j - i;
        size_t digits = (size_t)(sum & 0xffffffffu), lower = (size_t)((sum >> 32) & 0x3fffffffu);
        /* ids and per-server names vary between equal replies: long tokens
         * with digits, and lower-case names with a number ("163mx21",
         * "smtp14", "mta99"); status codes, IPs and upper-case codes such
         * as TSS04 or HL:ICC are kept because they carry meaning */
        if ((len >= 12 && digits >= 1 && lower >= 1) || (len >= 6 && digits >= 2 && lower >= 1) ||
            (len >= 4 && digits >= 2 && lower >= 2) || (digits >= 6 && len == digits))
            *o++ = '#';
        else
            o += len;
        i = j;
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
}

/* lower8 - w with its ASCII upper-case letters lowered: a byte is one
 * when it is ASCII, at least 'A' and not above 'Z'; its 0x80 flag,
 * shifted to 0x20, is the bit that lowers it */
static inline uint64_t lower8(uint64_t w)
{
    uint64_t low7 = w & 0x7f7f7f7f7f7f7f7fULL;
    uint64_t ge_a = low7 + 0x3f3f3f3f3f3f3f3fULL; /* 0x80 set from 'A' */
    uint64_t gt_z = low7 + 0x2525252525252525ULL; /* 0x80 set above 'Z' */
    return w | ((~w & (ge_a ^ gt_z) & 0x8080808080808080ULL) >> 2);
}

void mt_copy_lower(char *dst, const char *src, size_t n)
{
    if (n < 8) {
        if (n >= 4) { /* two overlapping halves of a word, both read first */
            uint32_t a, b;
            memcpy(&a, src, 4);
            memcpy(&b, src + n - 4, 4);
            a = (uint32_t)lower8(a);
            b = (uint32_t)lower8(b);
            memcpy(dst, &a, 4);
            memcpy(dst + n - 4, &b, 4);
            return;
        }
        for (size_t i = 0; i < n; i++)
            dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
        return;
    }
    /* eight bytes a step; the last step ends at n, over bytes already
     * done when n is not a multiple of 8 (lowering twice changes nothing,
     * and the source's bytes are read before that word is stored) */
    size_t i = 0;
    uint64_t w;
    for (; i + 8 < n; i += 8) {
        memcpy(&w, src + i, 8);
        w = lower8(w);
        memcpy(dst + i, &w, 8);
    }
    memcpy(&w, src + n - 8, 8);
    w = lower8(w);
    memcpy(dst + n - 8, &w, 8);
}

void mt_lower_ascii(char *s, size_t n)
{
    mt_copy_lower(s, s, n);
}

mt_slice mt_domain_of(const char *addr, size_t n)
{
    if (addr == NULL)
        return (mt_slice){NULL, 0};
    const char *at = n ? memrchr(addr, '@', n) : NULL; /* the last '@' */
    if (at)
        return (mt_slice){at + 1, n - (size_t)(at + 1 - addr)};
    return (mt_slice){addr + n, 0};
}
