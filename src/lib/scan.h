/*
 * scan.h - drive the readers over the user's inputs: open each file (or
 * stdin), split lines, parse them with the Postfix reader, count what was
 * skipped and why, and feed the joiner.  The one place that knows every
 * input format; the rest of the program sees attempt records.
 */
#ifndef MT_SCAN_H
#define MT_SCAN_H

#include <stdint.h>

#include "correlate.h"

#define MT_SCAN_MAX_REASONS 32

typedef struct mt_scan_reason {
    const char *why; /* static string from the reader */
    uint64_t count;
    char example[200]; /* the first line skipped for it, cut */
    char where[160];   /* file:line of the example */
} mt_scan_reason;

typedef struct mt_scan_stats {
    uint64_t files;
    uint64_t lines;
    uint64_t bytes;      /* log text, after decompression */
    uint64_t raw_bytes;  /* bytes read from the files */
    uint64_t postfix;    /* lines recognised as Postfix */
    uint64_t foreign;    /* lines of other programs: skipped */
    uint64_t malformed;  /* Postfix-looking lines that did not parse */
    uint64_t long_lines; /* lines cut at the length limit */
    uint64_t deliveries; /* delivery status lines */
    int nreasons;
    mt_scan_reason reasons[MT_SCAN_MAX_REASONS];
} mt_scan_stats;

typedef struct mt_scan_opts {
    int year;     /* --year, 0: infer from each file's mtime */
    int progress; /* print progress on stderr */
    int threads;  /* 2: parse on a second thread while this one joins */
} mt_scan_opts;

/* mt_scan_files - read paths (already in the order wanted) into j.
 * Returns 0, or -1 with a message in err when a file cannot be opened or
 * read, or holds lines but none of a known format (a silent empty report
 * would be a wrong answer).  stats is filled as far as reading got. */
int mt_scan_files(const char *const *paths, int n, const mt_scan_opts *opts, mt_join *j, mt_scan_stats *stats,
                  mt_buf *err);

#endif
