/*
 * input.h - read log files in blocks of whole lines: plain, gzip or zstd
 * (detected from the first bytes, not the name), or standard input ("-").
 *
 * Blocks are copied into a buffer the caller owns, so that a block can be
 * parsed on another thread while the next one is read; lines are split in
 * place (mt_chunk_next), no allocation per line.  Line ends LF or CRLF; a
 * final line without LF is still a line.  A line longer than
 * MT_INPUT_MAX_LINE is cut there.
 */
#ifndef MT_INPUT_H
#define MT_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util.h"

#define MT_INPUT_MAX_LINE (1u << 20)

typedef struct mt_input mt_input;

/* mt_input_open - open path ("-" for stdin).  NULL with a message in err
 * when it cannot be opened or its compression cannot be read. */
mt_input *mt_input_open(const char *path, mt_buf *err);

/* mt_input_chunk - the next block of whole lines, about `want` bytes (more
 * when one line is longer), appended to out (which the caller owns and
 * may hand to another thread).  Returns the block's length, 0 at the end
 * of the input or on error.  A final line without LF is a whole line.
 * Split the block with mt_chunk_next. */
size_t mt_input_chunk(mt_input *in, mt_buf *out, size_t want);

/* mt_chunk_next - the line at *pos in a block from mt_input_chunk, and its
 * length (a line end and a CR before it left out), with *pos moved past
 * it; NULL at the block's end.  The line is not NUL-terminated: the parsers
 * work on lengths (the fuzz target holds them to it).  *cut is set when the
 * line was longer than MT_INPUT_MAX_LINE and was cut there. */
const char *mt_chunk_next(const char *block, size_t blen, size_t *pos, size_t *len, int *cut);

/* mt_line_end - the line s of n bytes up to its LF as both walks hand it
 * out: a CR before the LF left out, *cut set and *len held to
 * MT_INPUT_MAX_LINE when it is longer; returns s. */
static inline const char *mt_line_end(const char *s, size_t n, size_t *len, int *cut)
{
    if (n && s[n - 1] == '\r')
        n--;
    *cut = n > MT_INPUT_MAX_LINE;
    *len = *cut ? MT_INPUT_MAX_LINE : n;
    return s;
}

/* mt_lines - mt_chunk_next's walk for the hot loop: the same lines, the
 * same lengths and cuts, but the block's line ends found 64 bytes at a
 * time and kept as the bits of a word, so that a line costs a few
 * instructions more than the bytes it spans, not a memchr call.  Owns
 * nothing; the block must outlive it. */
typedef struct mt_lines {
    const char *block;
    size_t blen;
    size_t pos;    /* where the next line starts */
    size_t scan;   /* bytes before it have been looked at for line ends */
    uint64_t ends; /* LFs in [scan - 64, scan) not yet handed out, as bits */
} mt_lines;

/* mt_lines_init - walk block[0..blen) from its start. */
static inline void mt_lines_init(mt_lines *it, const char *block, size_t blen)
{
    *it = (mt_lines){block, blen, 0, 0, 0};
}

/* mt_lines_mask64 - the LFs of p[0..64) as the bits of a word (bit i:
 * p[i]).  Reads exactly those 64 bytes. */
static inline uint64_t mt_lines_mask64(const char *p)
{
#if defined(__SSE2__)
    const __m128i lf = _mm_set1_epi8('\n');
    uint64_t m0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), lf));
    uint64_t m1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), lf));
    uint64_t m2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), lf));
    uint64_t m3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), lf));
    return m0 | m1 << 16 | m2 << 32 | m3 << 48;
#else
    uint64_t m = 0;
    for (int i = 0; i < 64; i++)
        m |= (uint64_t)(p[i] == '\n') << i;
    return m;
#endif
}

/* mt_lines_next - as mt_chunk_next: the next line and its length (a line
 * end and a CR before it left out), *cut set when it was longer than
 * MT_INPUT_MAX_LINE and was cut there; NULL at the block's end. */
static inline const char *mt_lines_next(mt_lines *it, size_t *len, int *cut)
{
    size_t start = it->pos;
    if (start >= it->blen)
        return NULL;
    size_t end; /* the LF's offset, or blen for a last line without one */
    for (;;) {
        if (it->ends) {
            end = it->scan - 64 + (size_t)__builtin_ctzll(it->ends);
            it->ends &= it->ends - 1;
            it->pos = end + 1;
            break;
        }
        if (it->scan >= it->blen) {
            end = it->blen;
            it->pos = end;
            break;
        }
        if (it->blen - it->scan >= 64) {
            it->ends = mt_lines_mask64(it->block + it->scan);
        } else { /* the block's last bytes: no read past its end */
            char tail[64] = {0};
            memcpy(tail, it->block + it->scan, it->blen - it->scan);
            it->ends = mt_lines_mask64(tail);
        }
        it->scan += 64;
    }
    return mt_line_end(it->block + start, end - start, len, cut);
}

/* mt_input_error - NULL, or a message for a read/decompression error. A
 * truncated gzip/zstd stream is an error, reported, not a silent end. */
const char *mt_input_error(const mt_input *in);

uint64_t mt_input_bytes(const mt_input *in);     /* bytes of log text so far */
uint64_t mt_input_raw_bytes(const mt_input *in); /* bytes read from the file */
uint64_t mt_input_size(const mt_input *in);      /* file size, 0 if unknown */
int64_t mt_input_mtime(const mt_input *in);      /* 0 if unknown */

void mt_input_close(mt_input *in);

/* mt_input_order - sort paths of one or more rotated sets oldest first:
 * "mail.log.2.gz", "mail.log.1", "mail.log"; date-suffixed rotations
 * ("mail.log-20261120") sort by date before the live file.  Paths of
 * different logs keep their relative order. */
void mt_input_order(const char **paths, int n);

#endif
