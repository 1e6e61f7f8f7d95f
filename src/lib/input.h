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
