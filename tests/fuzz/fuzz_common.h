/*
 * fuzz_common.h - what the log-reader fuzz targets share (header-only:
 * each target is one translation unit).
 *
 * fuzz_rules - a small rules table (written to a temporary file and loaded,
 * or $MAILTRIAGE_RULES when set); aborts when it cannot be loaded.
 * fuzz_lines - hand fn every '\n'-separated line of data from offset start,
 * each in a malloc'd buffer of exactly its length with no terminator: the
 * readers work on lengths (mapped files are not NUL-terminated), and
 * AddressSanitizer catches any read past the end.
 * fuzz_detect - run format detection over a private copy of data.
 * fuzz_walk - split a private copy of data (exactly its size) into lines
 * with mt_lines and with mt_chunk_next; aborts when they disagree, and
 * AddressSanitizer catches a read past the copy's end.
 * fuzz_log - the whole path from log bytes to figures: every line is
 * parsed by parse(arg) and fed to a joiner whose records go through
 * classification, the analysis and the events writer.
 */
#ifndef MT_FUZZ_COMMON_H
#define MT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "classify.h"
#include "correlate.h"
#include "format.h"
#include "input.h"
#include "output_events.h"
#include "rules.h"

/* the rules the log targets load: a provider by domain and by MX, and
 * replies of three classes */
#define FUZZ_RULES                                                                                           \
    "provider\tnetease\tdomains\t163.com 126.com\n"                                                          \
    "provider\tgoogle\tmx\t(^|\\.)google\\.com$\n"                                                           \
    "reply\tnetease\tcontent\tretry\t-\tDT:SPM\tx\n"                                                         \
    "reply\t*\treceiver_internal\tretry\tgeneric_frontend\t^451 4\\.3\\.2\tx\n"                              \
    "reply\t*\tnetwork\tretry\t-\t(?i)timed out|refused\tx\n"

static inline mt_rules *fuzz_rules(const char *text, const char *who)
{
    const char *env = getenv("MAILTRIAGE_RULES");
    char path[] = "/tmp/mt-fuzz-rules-XXXXXX";
    if (env == NULL) {
        size_t len = strlen(text);
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len)
            abort();
        close(fd);
    }
    mt_buf err;
    mt_buf_init(&err);
    mt_rules *r = mt_rules_load(env ? env : path, &err);
    if (env == NULL)
        unlink(path);
    if (r == NULL) {
        fprintf(stderr, "%s: %s\n", who, err.data ? err.data : "rules not loaded");
        abort();
    }
    mt_buf_free(&err);
    return r;
}

typedef void (*fuzz_line_fn)(const char *line, size_t n, void *arg);

static inline void fuzz_lines(const uint8_t *data, size_t size, size_t start, fuzz_line_fn fn, void *arg)
{
    for (size_t i = start; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            size_t n = i - start;
            char *line = malloc(n ? n : 1);
            memcpy(line, data + start, n);
            fn(line, n, arg);
            free(line);
            start = i + 1;
        }
    }
}

static inline void fuzz_detect(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    (void)mt_format_detect(copy, size);
    free(copy);
}

static inline void fuzz_walk(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    mt_lines it;
    mt_lines_init(&it, copy, size);
    size_t pos = 0, n1, n2;
    int cut1, cut2;
    for (;;) {
        const char *a = mt_chunk_next(copy, size, &pos, &n1, &cut1);
        const char *b = mt_lines_next(&it, &n2, &cut2);
        if (a != b || (a && (n1 != n2 || cut1 != cut2)))
            abort();
        if (a == NULL)
            break;
    }
    free(copy);
}

/* a log reader: one line into *l; > MT_PF_IGNORED when l is to be joined */
typedef int (*fuzz_parse_fn)(const char *line, size_t n, mt_pf_line *l, void *arg);

typedef struct fuzz_log_ctx {
    fuzz_parse_fn parse;
    void *arg;
    mt_join *join;
    mt_classifier *ahead; /* as a parsing thread classifies */
    unsigned nline;
} fuzz_log_ctx;

/* every other line is classified ahead, as the parsing threads do; the
 * rest by the joiner */
static inline void fuzz_log_line(const char *line, size_t n, void *arg)
{
    fuzz_log_ctx *c = arg;
    mt_pf_line l;
    if (c->parse(line, n, &l, c->arg) <= MT_PF_IGNORED)
        return;
    if (c->nline++ % 2 == 0) {
        mt_join_line(c->join, &l, "fuzz", 1);
        return;
    }
    mt_join_class pre;
    mt_join_classify_ahead(c->ahead, &l, &pre);
    mt_join_line_hashed(c->join, &l, mt_join_key_hash(&l), &pre, "fuzz", 1);
}

static inline void fuzz_log_both(const mt_attempt *a, void *arg)
{
    void **pair = arg;
    mt_diag_add(a, pair[0]);
    mt_events_write(a, pair[1]);
}

static inline void fuzz_log(const uint8_t *data, size_t size, const mt_rules *rules, fuzz_parse_fn parse,
                            void *arg)
{
    mt_classifier *cls = mt_classifier_new(rules);
    mt_diag *d = mt_diag_new(0);
    FILE *null = fopen("/dev/null", "w");
    mt_events_out *out = mt_events_out_new(null, MT_EVENTS_NDJSON, 0);
    void *pair[2] = {d, out};
    fuzz_log_ctx c = {parse, arg, mt_join_new(cls, NULL, NULL, fuzz_log_both, pair), mt_classifier_new(rules), 0};
    fuzz_walk(data, size);
    fuzz_lines(data, size, 0, fuzz_log_line, &c);
    mt_join_finish(c.join);
    (void)mt_diag_finish(d);
    mt_join_free(c.join);
    mt_classifier_free(c.ahead);
    mt_events_out_close(out);
    fclose(null);
    mt_diag_free(d);
    mt_classifier_free(cls);
}

#endif
