/*
 * scan.c - the input loop.
 */
#include "scan.h"

#include <pthread.h>
#include <stdlib.h>

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

/*
 * The reading side hands each parsed Postfix line to a sink: directly to
 * the joiner (one thread), or into batches that a second thread joins, so
 * parsing and joining/classifying/aggregating run on two cores.
 */
typedef void (*line_sink)(void *arg, mt_pf_line *pl, const char *line, size_t len, const char *file,
                          uint64_t lineno);

static int scan_file(const char *path, const mt_scan_opts *opts, mt_scan_stats *st, mt_buf *err,
                     line_sink sink, void *arg)
{
    mt_input *in = mt_input_open(path, err);
    if (in == NULL)
        return -1;
    st->files++;
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
            note_skip(st, pl.why, line, len, path, lineno);
            break;
        case MT_PF_IGNORED:
        case MT_PF_BOUNCE_NOTICE:
            st->postfix++;
            postfix_here++;
            break;
        default:
            st->postfix++;
            postfix_here++;
            if (k == MT_PF_DELIVERY)
                st->deliveries++;
            sink(arg, &pl, line, len, path, lineno);
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
        mt_buf_printf(err, "%s: no Postfix log lines found in %llu lines; the first line is:\n  %s", path,
                      (unsigned long long)lines_here, first);
        return -1;
    }
    return 0;
}

static int scan_all(const char *const *paths, int n, const mt_scan_opts *opts, mt_scan_stats *st, mt_buf *err,
                    line_sink sink, void *arg)
{
    for (int f = 0; f < n; f++)
        if (scan_file(paths[f], opts, st, err, sink, arg) < 0)
            return -1;
    return 0;
}

static void join_sink(void *arg, mt_pf_line *pl, const char *line, size_t len, const char *file,
                      uint64_t lineno)
{
    (void)line;
    (void)len;
    mt_join_line(arg, pl, file, lineno);
}

/* ---- two threads: batches of parsed lines, with copies of their text ---- */

#define BATCH_BYTES (2u << 20)
#define BATCH_LINES 16384
#define QUEUE_DEPTH 4

typedef struct batch {
    struct batch *next;
    mt_pf_line *lines;
    uint64_t *linenos;
    const char **files;
    size_t n;
    char *text;
    size_t used, cap;
} batch;

typedef struct pipe_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *full_head, *full_tail; /* parsed, waiting to be joined */
    batch *free_list;
    int nfull;
    int done; /* the reader has finished (rc set) */
    int rc;
    batch *cur; /* the reader's batch being filled */
    /* reader's inputs */
    const char *const *paths;
    int npaths;
    const mt_scan_opts *opts;
    mt_scan_stats *st;
    mt_buf *err;
} pipe_state;

static batch *batch_new(void)
{
    batch *b = mt_xcalloc(1, sizeof *b);
    b->lines = mt_xmalloc(BATCH_LINES * sizeof *b->lines);
    b->linenos = mt_xmalloc(BATCH_LINES * sizeof *b->linenos);
    b->files = mt_xmalloc(BATCH_LINES * sizeof *b->files);
    b->cap = BATCH_BYTES;
    b->text = mt_xmalloc(b->cap);
    return b;
}

static void batch_free(batch *b)
{
    free(b->lines);
    free(b->linenos);
    free(b->files);
    free(b->text);
    free(b);
}

/* submit - hand the current batch to the joiner; wait while the queue is
 * full so memory stays bounded. */
static void submit(pipe_state *ps)
{
    batch *b = ps->cur;
    ps->cur = NULL;
    if (b == NULL || b->n == 0) {
        ps->cur = b;
        return;
    }
    pthread_mutex_lock(&ps->mu);
    while (ps->nfull >= QUEUE_DEPTH)
        pthread_cond_wait(&ps->cv, &ps->mu);
    b->next = NULL;
    if (ps->full_tail)
        ps->full_tail->next = b;
    else
        ps->full_head = b;
    ps->full_tail = b;
    ps->nfull++;
    pthread_cond_broadcast(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
}

static batch *take_free(pipe_state *ps)
{
    pthread_mutex_lock(&ps->mu);
    batch *b = ps->free_list;
    if (b)
        ps->free_list = b->next;
    pthread_mutex_unlock(&ps->mu);
    if (b == NULL)
        b = batch_new();
    b->n = 0;
    b->used = 0;
    return b;
}

static void batch_sink(void *arg, mt_pf_line *pl, const char *line, size_t len, const char *file,
                       uint64_t lineno)
{
    pipe_state *ps = arg;
    batch *b = ps->cur;
    if (b && (b->n == BATCH_LINES || b->cap - b->used < len + 1)) {
        submit(ps);
        b = NULL;
    }
    if (b == NULL)
        b = ps->cur = take_free(ps);
    if (b->cap - b->used < len + 1) { /* a line longer than a batch */
        b->cap = len + 1;
        b->text = mt_xrealloc(b->text, b->cap);
    }
    char *copy = b->text + b->used;
    memcpy(copy, line, len);
    copy[len] = '\0';
    b->used += len + 1;
    b->lines[b->n] = *pl;
    mt_pf_rebase(&b->lines[b->n], line, len, copy);
    b->linenos[b->n] = lineno;
    b->files[b->n] = file;
    b->n++;
}

static void *reader_main(void *arg)
{
    pipe_state *ps = arg;
    int rc = scan_all(ps->paths, ps->npaths, ps->opts, ps->st, ps->err, batch_sink, ps);
    submit(ps);
    pthread_mutex_lock(&ps->mu);
    ps->rc = rc;
    ps->done = 1;
    pthread_cond_broadcast(&ps->cv);
    pthread_mutex_unlock(&ps->mu);
    return NULL;
}

static int scan_threaded(const char *const *paths, int n, const mt_scan_opts *opts, mt_join *j,
                         mt_scan_stats *st, mt_buf *err)
{
    pipe_state ps;
    memset(&ps, 0, sizeof ps);
    pthread_mutex_init(&ps.mu, NULL);
    pthread_cond_init(&ps.cv, NULL);
    ps.paths = paths;
    ps.npaths = n;
    ps.opts = opts;
    ps.st = st;
    ps.err = err;
    pthread_t th;
    if (pthread_create(&th, NULL, reader_main, &ps) != 0) {
        pthread_cond_destroy(&ps.cv);
        pthread_mutex_destroy(&ps.mu);
        return scan_all(paths, n, opts, st, err, join_sink, j);
    }
    for (;;) {
        pthread_mutex_lock(&ps.mu);
        while (ps.full_head == NULL && !ps.done)
            pthread_cond_wait(&ps.cv, &ps.mu);
        batch *b = ps.full_head;
        if (b) {
            ps.full_head = b->next;
            if (ps.full_head == NULL)
                ps.full_tail = NULL;
            ps.nfull--;
            pthread_cond_broadcast(&ps.cv);
        }
        pthread_mutex_unlock(&ps.mu);
        if (b == NULL)
            break; /* done and drained */
        for (size_t i = 0; i < b->n; i++)
            mt_join_line(j, &b->lines[i], b->files[i], b->linenos[i]);
        pthread_mutex_lock(&ps.mu);
        b->next = ps.free_list;
        ps.free_list = b;
        pthread_mutex_unlock(&ps.mu);
    }
    pthread_join(th, NULL);
    if (ps.cur)
        batch_free(ps.cur);
    while (ps.free_list) {
        batch *b = ps.free_list;
        ps.free_list = b->next;
        batch_free(b);
    }
    pthread_cond_destroy(&ps.cv);
    pthread_mutex_destroy(&ps.mu);
    return ps.rc;
}

int mt_scan_files(const char *const *paths, int n, const mt_scan_opts *opts, mt_join *j, mt_scan_stats *st,
                  mt_buf *err)
{
    if (opts->threads > 1)
        return scan_threaded(paths, n, opts, j, st, err);
    return scan_all(paths, n, opts, st, err, join_sink, j);
}
