/*
 * util.h - the tiny utility library: checked allocation, growable byte
 * buffers, string slices and hashing.  Everything else in libmailtriage
 * builds on these; none of it knows about mail.
 */
#ifndef MT_UTIL_H
#define MT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* mt_xmalloc, mt_xcalloc, mt_xrealloc, mt_xstrdup - allocate or die.
 * On exhaustion they print one line to stderr and exit(1): a diagnosis
 * tool that runs out of memory has nothing useful left to say. */
void *mt_xmalloc(size_t n);
void *mt_xcalloc(size_t nmemb, size_t size);
void *mt_xrealloc(void *p, size_t n);
char *mt_xstrdup(const char *s);
char *mt_xstrndup(const char *s, size_t n);

/* A byte slice into memory owned by someone else.  Never NUL-terminated. */
typedef struct mt_slice {
    const char *p;
    size_t len;
} mt_slice;

#define MT_SLICE_NULL ((mt_slice){NULL, 0})

/* MT_DELAY_MAX - the longest delay kept, in seconds (about 31,700 years):
 * a logged delay beyond it, negative or not a number (a field of 400
 * digits, "1e999", "nan") is garbage.  It also keeps delay * 100, the
 * hundredths `events` prints, well inside a uint64_t. */
#define MT_DELAY_MAX 1e12

/* mt_delay_checked - d when it is a delay to keep, else -1 (none) */
static inline double mt_delay_checked(double d)
{
    return d >= 0 && d <= MT_DELAY_MAX ? d : -1; /* NaN compares false */
}

/* mt_starts - whether p[0..n) begins with the C string prefix.  Always
 * inlined: with a literal prefix the length folds and the compare becomes
 * a load or two (the readers call it on every line). */
static inline __attribute__((always_inline)) int mt_starts(const char *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(p, prefix, k) == 0;
}

/* mt_find - the first place of the C string needle in p[0..n), or NULL.
 * The texts searched are log lines and headers, a few hundred bytes: a
 * memchr for the needle's first byte and a compare where it is beats
 * memmem, whose setup for a long needle costs more than such a search. */
static inline const char *mt_find(const char *p, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0)
        return p;
    if (m > n)
        return NULL;
    const char *q = p, *last = p + (n - m); /* the last place it can start */
    while (q <= last && (q = memchr(q, needle[0], (size_t)(last - q) + 1)) != NULL) {
        /* the last byte first: a cheap test that most false starts fail */
        if (q[m - 1] == needle[m - 1] && memcmp(q + 1, needle + 1, m - 1) == 0)
            return q;
        q++;
    }
    return NULL;
}

/* mt_hex_value - the value of one hex digit, -1 for any other byte. */
int mt_hex_value(int c);

/* mt_slice_eq_cstr - true when the slice spells exactly the C string. */
int mt_slice_eq_cstr(mt_slice s, const char *c);

/* A growable byte buffer.  The owner calls mt_buf_free.  data is kept
 * NUL-terminated after every append so it can be used as a C string. */
typedef struct mt_buf {
    char *data;
    size_t len;
    size_t cap;
} mt_buf;

void mt_buf_init(mt_buf *b);
void mt_buf_free(mt_buf *b);
void mt_buf_reset(mt_buf *b);
/* mt_buf_grow - make room for `need` bytes in all (the slow path of
 * mt_buf_reserve). */
void mt_buf_grow(mt_buf *b, size_t need);

/* mt_buf_reserve - room for `extra` more bytes and the NUL.  Inline: the
 * buffers of the hot paths almost never grow. */
static inline void mt_buf_reserve(mt_buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap)
        mt_buf_grow(b, b->len + extra + 1);
}

void mt_buf_append(mt_buf *b, const void *p, size_t n);
void mt_buf_puts(mt_buf *b, const char *s);
void mt_buf_putc(mt_buf *b, char c);
void mt_buf_printf(mt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* mt_buf_put_json_str - append s[0..n) as a JSON string literal, quotes
 * included; invalid UTF-8 bytes become U+FFFD so the output always parses. */
void mt_buf_put_json_str(mt_buf *b, const char *s, size_t n);
/* mt_buf_put_csv_field - append s[0..n) as one RFC 4180 CSV field. */
void mt_buf_put_csv_field(mt_buf *b, const char *s, size_t n);

/* mt_hash - a 64-bit hash of p[0..n): eight bytes a step, each mixed in
 * by a multiply, then a final mix; fast enough for keys of a few dozen
 * bytes, which is all we hash (queue ids, domains, reply texts).  Its
 * values must not change lightly: maps hand out their entries in hash
 * order, and the joiner's last messages come out in it. */
uint64_t mt_hash(const void *p, size_t n);

/* mt_grouped - v with thousands separators ("1,234,567") written into buf,
 * which holds at least 32 bytes; returns buf. */
const char *mt_grouped(uint64_t v, char *buf);

/* mt_is_local_char - whether c may appear in an address's local part
 * (RFC 5322 atext and the dot). */
int mt_is_local_char(char c);

/* mt_redact_text - "alice@163.com" -> "…@163.com": every local part in
 * the NUL-terminated s masked, the result written to out (reset first). */
void mt_redact_text(const char *s, mt_buf *out);

/* mt_reply_shape - what stays of a reply when what varies between
 * otherwise equal replies is masked: addresses' local parts, queue ids,
 * per-server names with numbers, long numbers ("#").  Written to out;
 * scratch is the caller's work buffer (both reset first). */
void mt_reply_shape(const char *s, mt_buf *out, mt_buf *scratch);

/* mt_reply_shape_masked - mt_reply_shape of a reply whose local parts
 * mt_redact_text has already masked: p[0..n), not in out. */
void mt_reply_shape_masked(const char *p, size_t n, mt_buf *out);

/* mt_lower_ascii - lowercase ASCII letters of s[0..n) in place. */
void mt_lower_ascii(char *s, size_t n);

/* mt_copy_lower - dst[0..n) = src[0..n) with ASCII letters lowercased, in
 * one pass.  dst and src are the same or do not overlap. */
void mt_copy_lower(char *dst, const char *src, size_t n);

/* mt_domain_of - the part after the last '@' of an address, or an empty
 * slice when there is none. */
mt_slice mt_domain_of(const char *addr, size_t n);

#endif
