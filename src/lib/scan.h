/*
 * scan.h - drive the readers over the user's inputs: open each file (or
 * stdin), detect its format (format.h) unless the user named one, split
 * lines, parse them with that format's reader, count what was skipped and
 * why, and feed the joiner.  The one place that knows every input format;
 * the rest of the program sees attempt records.
 */
#ifndef MT_SCAN_H
#define MT_SCAN_H

#include <stdint.h>

#include "correlate.h"
#include "format.h"

#define MT_SCAN_MAX_REASONS  32
#define MT_SCAN_MAX_EXAMPLES 100

typedef struct mt_scan_reason {
    const char *why; /* static string from the reader */
    uint64_t count;
    char example[200]; /* the first line skipped for it, cut */
    char where[160];   /* file:line of the example */
} mt_scan_reason;

/* A skipped line, for --show-skipped. */
typedef struct mt_scan_example {
    const char *why; /* static string from the reader */
    char where[160]; /* file:line */
    char text[200];  /* the line, cut */
} mt_scan_example;

typedef struct mt_scan_stats {
    char format[16]; /* the inputs' format name, "mixed" when they differ */
    uint64_t files;
    uint64_t lines;
    uint64_t bytes;      /* log text, after decompression */
    uint64_t raw_bytes;  /* bytes read from the files */
    uint64_t recognised; /* lines recognised as their input's format */
    uint64_t foreign;    /* lines of other programs: skipped */
    uint64_t malformed;  /* lines of the format that did not parse */
    uint64_t long_lines; /* lines cut at the length limit */
    uint64_t deliveries; /* delivery status lines */
    int nreasons;
    mt_scan_reason reasons[MT_SCAN_MAX_REASONS];
    int nexamples; /* the first opts->show_skipped malformed lines */
    mt_scan_example examples[MT_SCAN_MAX_EXAMPLES];
    char unknown_columns[512]; /* export columns ignored, comma list ("" none) */
} mt_scan_stats;

/* A --map rename: the input's column or key from[0..from_len) is read as
 * the field named by the C string `to`. */
typedef struct mt_scan_map {
    const char *from;
    size_t from_len;
    const char *to;
} mt_scan_map;

typedef struct mt_scan_opts {
    int year;               /* --year, 0: infer from each file's mtime */
    int progress;           /* print progress on stderr */
    int threads;            /* 2: parse on a second thread while this one joins */
    mt_format format;       /* MT_FORMAT_AUTO: detect per input */
    int show_skipped;       /* keep up to this many skipped lines (<= MT_SCAN_MAX_EXAMPLES) */
    const mt_scan_map *map; /* renames for csv/ndjson exports */
    int nmap;
    const mt_rules *rules; /* set: Postfix and Exim delivery lines are classified on the parsing threads */
} mt_scan_opts;

/* mt_scan_files - read paths (already in the order wanted) into j, each in
 * its own format (opts->format, or detected from its first lines: inputs of
 * different formats mix).  Returns 0, or -1 with a message in err when a
 * file cannot be opened or read, matches no format (the message names it
 * and shows its first line), or holds lines but none of its format (a
 * silent empty report would be a wrong answer).  stats is filled as far as
 * reading got. */
int mt_scan_files(const char *const *paths, int n, const mt_scan_opts *opts, mt_join *j, mt_scan_stats *stats,
                  mt_buf *err);

#endif
