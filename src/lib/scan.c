/*
 * scan.c - the input loop.
 */
#include "scan.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "input.h"

static void note_skip(mt_scan_stats *st, const char *why, const char *line, size_t n, const char *file,
                      uint64_t lineno)
{
    for (int i = 0; i < st->nreasons; i++) {
        if (st->reasons[i].why == why) {
            st->reasons[i].count++;
            return;
        }
    }
    if (st->nreasons == MT_SCAN_MAX_REASONS)
        return; /* still counted in malformed */
    mt_scan_reason *r = &st->reasons[st->nreasons++];
    r->why = why;
    r->count = 1;
    snprintf(r->example, sizeof r->example, "%.*s", (int)(n < 190 ? n : 190), line);
    snprintf(r->where, sizeof r->where, "%s:%llu", file, (unsigned long long)lineno);
}

static void progress(const mt_input *in, double start, double *last)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (now - *last < 0.5)
        return;
    *last = now;
    uint64_t done = mt_input_raw_bytes(in), size = mt_input_size(in);
    double mb = (double)done / 1e6, rate = mb / (now - start + 1e-9);
    if (size)
        fprintf(stderr, "\r%s: %.0f%% (%.0f MB, %.0f MB/s)   ", mt_input_name(in),
                100.0 * (double)done / (double)size, mb, rate);
    else
        fprintf(stderr, "\r%s: %.0f MB (%.0f MB/s)   ", mt_input_name(in), mb, rate);
}

int mt_scan_files(const char *const *paths, int n, const mt_scan_opts *opts, mt_join *j, mt_scan_stats *st,
                  mt_buf *err)
{
    for (int f = 0; f < n; f++) {
        mt_input *in = mt_input_open(paths[f], err);
        if (in == NULL)
            return -1;
        st->files++;
        const char *name = paths[f];
        mt_yearctx yc;
        mt_yearctx_init(&yc, opts->year, mt_input_mtime(in));
        uint64_t postfix_here = 0, lines_here = 0;
        char first[200] = "";
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, last = start;
        const char *line;
        size_t len;
        mt_pf_line pl;
        while ((line = mt_input_line(in, &len)) != NULL) {
            uint64_t lineno = mt_input_lineno(in);
            lines_here++;
            if (len == 0)
                continue;
            if (first[0] == '\0')
                snprintf(first, sizeof first, "%.*s", (int)(len < 190 ? len : 190), line);
            mt_pf_kind k = mt_pf_parse(line, len, &yc, &pl);
            switch (k) {
            case MT_PF_FOREIGN:
                st->foreign++;
                break;
            case MT_PF_MALFORMED:
                st->malformed++;
                note_skip(st, pl.why, line, len, name, lineno);
                break;
            default:
                st->postfix++;
                postfix_here++;
                if (k == MT_PF_DELIVERY)
                    st->deliveries++;
                mt_join_line(j, &pl, name, lineno);
            }
            if (opts->progress && (lineno & 0xffff) == 0)
                progress(in, start, &last);
        }
        if (opts->progress)
            fprintf(stderr, "\r%*s\r", 70, "");
        st->lines += lines_here;
        st->bytes += mt_input_bytes(in);
        st->raw_bytes += mt_input_raw_bytes(in);
        st->long_lines += mt_input_long_lines(in);
        const char *e = mt_input_error(in);
        if (e) {
            mt_buf_puts(err, e);
            mt_input_close(in);
            return -1;
        }
        mt_input_close(in);
        if (postfix_here == 0 && first[0] != '\0') {
            mt_buf_printf(err, "%s: no Postfix log lines found in %llu lines; the first line is:\n  %s", name,
                          (unsigned long long)lines_here, first);
            return -1;
        }
    }
    return 0;
}
