/*
 * scan.c - the input loop.
 */
#include "scan.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input.h"
#include "reader_exim.h"
#include "reader_record.h"
#include "reader_transcript.h"

/*
 * The input is cut into chunks of whole lines, read in order by whichever
 * thread is free.  A chunk is parsed by the thread that read it, in
 * parallel with the other thread, and its parsed lines point into the
 * chunk's own text (no copies).  Joining must see lines in input order, so
 * chunks are joined strictly by sequence number, by whichever thread finds
 * the next one ready and nobody joining.  Both cores parse; one at a time
 * joins; the queue of chunks in flight is bounded.
 *
 * Year inference for classic stamps needs the order too: each chunk is
 * parsed with its file's base year, recording its first and last month and
 * the rollovers inside it; the joiner adds the years of the rollovers that
 * came before the chunk (rare: once a year) to its lines' times.
 */

#define CHUNK_BYTES     (1u << 20)
#define MAX_OUTSTANDING 8
#define RING            16

typedef struct chunk {
    struct chunk *next; /* free list */
    uint64_t seq;
    int file;
    int first_of_file;
    mt_format fmt;          /* the file's format; AUTO: none detected */
    const mt_rec_ctx *rctx; /* record formats: the file's header etc. */
    int ctx_failed;         /* err holds why the file's context failed */
    char unknown[256];      /* first chunk: columns no field takes */
    mt_buf arena;           /* record formats: decoded strings */
    int end_of_file;        /* a marker: the file is done (no text) */
    mt_buf text;            /* the block of whole lines */
    const char *data;       /* text.data */
    size_t len;
    mt_pf_line *lines;
    uint64_t *khash;    /* the joiner's key hash of each line (mt_join_key_hash) */
    mt_join_class *pre; /* each line classified ahead (mt_join_classify_ahead) */
    mt_classifier *cls; /* while parsing: the parsing thread's classifier, or NULL */
    uint32_t *idx;      /* line number within the chunk, from 0 */
    size_t n, cap;
    uint64_t nlines, recognised, foreign, malformed, deliveries, long_lines;
    int nreasons;
    mt_scan_reason reasons[MT_SCAN_MAX_REASONS];
    uint32_t reason_idx[MT_SCAN_MAX_REASONS];
    int nex; /* skipped lines kept for --show-skipped */
    mt_scan_example ex[MT_SCAN_MAX_EXAMPLES];
    uint32_t ex_idx[MT_SCAN_MAX_EXAMPLES];
    int first_month, last_month, rollovers;
    char first[200]; /* first non-empty line, in a file's first chunk */
    /* end_of_file only */
    char err[512];
    uint64_t bytes, raw_bytes, size;
    int open_failed;
} chunk;

typedef struct par {
    pthread_mutex_t mu; /* everything below but the reading state */
    pthread_cond_t cv;
    chunk *ring[RING];
    uint64_t next_join;
    uint64_t nseq; /* chunks handed out so far */
    int joining;
    int outstanding; /* chunks read and not yet joined */
    int reading_done;
    int stop; /* an error: stop reading */
    chunk *free_list;
    /* reading state, under read_mu */
    pthread_mutex_t read_mu;
    int cur_file;
    mt_input *in;
    int base_year;
    mt_format *fmts;    /* per file, set when its first chunk is read */
    mt_rec_ctx **rctxs; /* per file, record formats */
    /* fixed inputs */
    const char *const *paths;
    int npaths;
    const mt_scan_opts *opts;
    /* joining state, only touched by the joiner of the moment */
    mt_join *j;
    mt_scan_stats *st;
    mt_buf *err;
    int rc;
    uint64_t file_line_base, file_recognised, file_lines;
    mt_ts *ts; /* the transcript being joined, if any */
    int carry_years, prev_last_month;
    char file_first[200];
    double start, last_progress;
    uint64_t joined_bytes;
} par;

static chunk *chunk_get(par *p)
{
    chunk *c = p->free_list;
    if (c) {
        p->free_list = c->next;
    } else {
        c = mt_xcalloc(1, sizeof *c);
        mt_buf_init(&c->text);
        mt_buf_init(&c->arena);
    }
    mt_buf_reset(&c->text);
    c->data = NULL;
    c->len = 0;
    c->n = 0;
    c->nlines = c->recognised = c->foreign = c->malformed = c->deliveries = c->long_lines = 0;
    c->nreasons = 0;
    c->nex = 0;
    c->fmt = MT_FORMAT_AUTO;
    c->rctx = NULL;
    c->ctx_failed = 0;
    c->unknown[0] = '\0';
    c->first_month = c->last_month = c->rollovers = 0;
    c->first[0] = c->err[0] = '\0';
    c->first_of_file = c->end_of_file = c->open_failed = 0;
    c->bytes = c->raw_bytes = c->size = 0;
    return c;
}

static void chunk_free(chunk *c)
{
    mt_buf_free(&c->text);
    mt_buf_free(&c->arena);
    free(c->lines);
    free(c->khash);
    free(c->pre);
    free(c->idx);
    free(c);
}

/* base_year - the year of a file's first classic stamp, inferred as the
 * one-thread reader would (the user's --year, else bounded by mtime). */
static int base_year(const char *text, size_t len, const mt_scan_opts *opts, int64_t mtime)
{
    mt_yearctx yc;
    mt_yearctx_init(&yc, opts->year, mtime);
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        int64_t t;
        int32_t us;
        if (n && mt_time_parse(text + pos, n, &yc, &t, &us))
            return yc.year;
        pos += n + 1;
    }
    return yc.year;
}

/* read_chunk - the next chunk of input or end-of-file marker; NULL when
 * every file is done.  Called with read_mu held. */
static chunk *read_chunk(par *p, chunk *c)
{
    if (p->in == NULL) {
        if (p->cur_file >= p->npaths)
            return NULL;
        mt_buf e;
        mt_buf_init(&e);
        p->in = mt_input_open(p->paths[p->cur_file], &e);
        if (p->in == NULL) {
            c->file = p->cur_file++;
            c->end_of_file = 1;
            c->open_failed = 1;
            snprintf(c->err, sizeof c->err, "%s", e.data ? e.data : "cannot open");
            mt_buf_free(&e);
            return c;
        }
        mt_buf_free(&e);
        c->first_of_file = 1;
        p->base_year = 0;
    }
    c->file = p->cur_file;
    size_t got = mt_input_chunk(p->in, &c->text, CHUNK_BYTES);
    c->data = c->text.data;
    c->len = got;
    if (got == 0) {
        c->end_of_file = 1;
        const char *e = mt_input_error(p->in);
        if (e)
            snprintf(c->err, sizeof c->err, "%s", e);
        c->bytes = mt_input_bytes(p->in);
        c->raw_bytes = mt_input_raw_bytes(p->in);
        c->long_lines = 0;
        mt_input_close(p->in);
        p->in = NULL;
        p->cur_file++;
        return c;
    }
    c->size = mt_input_size(p->in);
    if (c->first_of_file)
        p->fmts[c->file] =
            p->opts->format != MT_FORMAT_AUTO ? p->opts->format : mt_format_detect(c->data, c->len);
    c->fmt = p->fmts[c->file];
    if (c->first_of_file && (c->fmt == MT_FORMAT_PMTA || c->fmt == MT_FORMAT_KUMO ||
                             c->fmt == MT_FORMAT_CSV || c->fmt == MT_FORMAT_NDJSON)) {
        /* the first non-empty line: the header of the CSV formats */
        size_t pos = 0, len;
        int cut;
        const char *line;
        while ((line = mt_chunk_next(c->data, c->len, &pos, &len, &cut)) != NULL && len == 0)
            ;
        mt_buf unknown, e;
        mt_buf_init(&unknown);
        mt_buf_init(&e);
        p->rctxs[c->file] = mt_rec_ctx_new(c->fmt, line ? line : "", line ? len : 0,
                                           (const mt_rec_map *)p->opts->map, p->opts->nmap, &unknown, &e);
        if (p->rctxs[c->file] == NULL) {
            c->ctx_failed = 1;
            snprintf(c->err, sizeof c->err, "%s", e.data ? e.data : "bad header");
        }
        if (unknown.len)
            snprintf(c->unknown, sizeof c->unknown, "%s", unknown.data);
        mt_buf_free(&unknown);
        mt_buf_free(&e);
    }
    c->rctx = p->rctxs[c->file];
    if (p->base_year == 0)
        p->base_year = base_year(c->data, c->len, p->opts, mt_input_mtime(p->in));
    return c;
}

static void chunk_note_skip(chunk *c, const char *why, const char *line, size_t n, uint32_t idx, int keep)
{
    if (c->nex < keep) {
        mt_scan_example *e = &c->ex[c->nex];
        c->ex_idx[c->nex++] = idx;
        e->why = why;
        snprintf(e->text, sizeof e->text, "%.*s", (int)(n < 190 ? n : 190), line);
    }
    for (int i = 0; i < c->nreasons; i++)
        if (c->reasons[i].why == why) {
            c->reasons[i].count++;
            return;
        }
    if (c->nreasons == MT_SCAN_MAX_REASONS)
        return;
    mt_scan_reason *r = &c->reasons[c->nreasons];
    c->reason_idx[c->nreasons++] = idx;
    r->why = why;
    r->count = 1;
    snprintf(r->example, sizeof r->example, "%.*s", (int)(n < 190 ? n : 190), line);
}

/* store - keep the parsed line at c->lines[c->n] for the joiner */
static mt_pf_line *slot(chunk *c)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->lines = mt_xrealloc(c->lines, c->cap * sizeof *c->lines);
        c->khash = mt_xrealloc(c->khash, c->cap * sizeof *c->khash);
        c->pre = mt_xrealloc(c->pre, c->cap * sizeof *c->pre);
        c->idx = mt_xrealloc(c->idx, c->cap * sizeof *c->idx);
    }
    return &c->lines[c->n];
}

/* keep_line - keep the line parsed into the next slot, with its key hash
 * and, for a delivery, its classification (both made here, on a parsing
 * thread, rather than by the joiner) */
static void keep_line(chunk *c, uint32_t my)
{
    c->khash[c->n] = mt_join_key_hash(&c->lines[c->n]);
    c->pre[c->n].set = 0;
    if (c->cls)
        mt_join_classify_ahead(c->cls, &c->lines[c->n], &c->pre[c->n]);
    c->idx[c->n++] = my;
}

/* line_postfix, line_exim - parse one line into the next slot; what the
 * parser says decides whether it is kept, counted or skipped. */
static void keep_kind(chunk *c, mt_pf_kind k, const char *why, const char *line, size_t len, uint32_t my,
                      int keep)
{
    switch (k) {
    case MT_PF_FOREIGN:
        c->foreign++;
        break;
    case MT_PF_MALFORMED:
        c->malformed++;
        chunk_note_skip(c, why, line, len, my, keep);
        break;
    case MT_PF_IGNORED:
    case MT_PF_BOUNCE_NOTICE:
        c->recognised++;
        break;
    default:
        c->recognised++;
        if (k == MT_PF_DELIVERY)
            c->deliveries++;
        keep_line(c, my);
    }
}

/* record_lines - a whole-attempt record as the joiner's parsed lines: the
 * message's fields, the attempt, its expiry, the end of the recipient. */
static void record_lines(chunk *c, const mt_xrec *r, uint32_t my, uint64_t seq, mt_arena *a)
{
    /* the joiner's key is "host queue_id", both cut short: the host part
     * becomes a hash of what tells messages apart beyond the queue id
     * (the Message-ID; the recipient for per-recipient records), so long
     * or host-local ids cannot merge two messages */
    mt_slice host = {"", 0}, qid = r->queue_id.len ? r->queue_id : r->message_id;
    mt_slice mid = r->id_unique ? MT_SLICE_NULL : r->message_id;
    if (r->per_rcpt || mid.len || qid.len > 30) {
        uint64_t h = mt_hash(mid.p ? mid.p : "", mid.len);
        if (r->per_rcpt)
            h ^= mt_hash(r->recipient.p, r->recipient.len) * 31;
        if (qid.len > 30)
            h ^= mt_hash(qid.p, qid.len) * 17;
        char hex[20];
        int k = snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
        mt_slice hs = mt_arena_put(a, hex, (size_t)k);
        if (hs.p)
            host = hs;
    }
    if (qid.len == 0) {
        /* no id at all: the row is its own message */
        char id[48];
        int k = snprintf(id, sizeof id, "#%llu.%u", (unsigned long long)seq, my);
        qid = mt_arena_put(a, id, (size_t)k);
        if (qid.p == NULL)
            qid = (mt_slice){"#", 1};
    }
    int msg_fields = r->kind == MT_XREC_ARRIVAL || r->mail_from.len || r->size >= 0 || r->message_id.len ||
                     r->header_from_domain.len || r->template_id.len || r->attachment_types.len;
    int n = 0;
    mt_pf_kind kinds[4];
    if (msg_fields)
        kinds[n++] = MT_PF_QMGR_FROM;
    if (r->kind == MT_XREC_ATTEMPT)
        kinds[n++] = MT_PF_DELIVERY;
    if (r->kind == MT_XREC_EXPIRED || (r->expired && r->status == MT_STATUS_DEFERRED))
        kinds[n++] = MT_PF_QMGR_EXPIRED;
    if (r->final)
        kinds[n++] = MT_PF_REMOVED;
    for (int i = 0; i < n; i++) {
        mt_pf_line *l = slot(c);
        memset(l, 0, sizeof *l);
        l->kind = kinds[i];
        l->time = r->time;
        l->usec = r->usec;
        l->host = host;
        l->queue_id = qid;
        l->delay = -1;
        l->size = -1;
        l->nrcpt = -1;
        if (kinds[i] == MT_PF_QMGR_FROM) {
            l->from = r->mail_from.len ? r->mail_from : MT_SLICE_NULL;
            l->size = r->size;
            l->message_id = r->message_id;
            l->header_from = r->header_from_domain;
            l->template_id = r->template_id;
            l->attachment_types = r->attachment_types;
        } else if (kinds[i] == MT_PF_DELIVERY) {
            l->to = r->recipient;
            l->orig_to = r->rcpt_domain; /* the domain of a recipient the key does not name */
            l->program = r->route;
            l->relay = r->route;
            l->mx_host = r->mx_host;
            l->mx_ip = r->mx_ip;
            l->reply = r->reply;
            l->reply_code = r->reply_code;
            memcpy(l->enhanced, r->enhanced, sizeof l->enhanced);
            l->stage = r->stage;
            l->status = r->status;
            l->delay = r->delay;
            l->sending_ip = r->sending_ip;
            l->helo_name = r->helo_name;
            c->deliveries++;
        }
        keep_line(c, my);
    }
}

/* keep_record - what a whole-attempt reader said of one line: -1 cannot be
 * parsed (why), 2 another program's line, 0 its own line without an
 * attempt, 1 the attempt in r, kept for the joiner. */
static void keep_record(chunk *c, int rc, const mt_xrec *r, const char *why, const char *line, size_t len,
                        uint32_t my, int keep, mt_arena *arena)
{
    if (rc < 0) {
        c->malformed++;
        chunk_note_skip(c, why, line, len, my, keep);
    } else if (rc == 2) {
        c->foreign++;
    } else {
        c->recognised++;
        if (rc == 1)
            record_lines(c, r, my, c->seq, arena);
    }
}

static void parse_chunk(chunk *c, int year, const mt_scan_opts *opts)
{
    mt_yearctx yc;
    mt_yearctx_init(&yc, year, 0);
    size_t len;
    int cut;
    const char *line;
    uint32_t idx = 0;
    int keep = opts->show_skipped < MT_SCAN_MAX_EXAMPLES ? opts->show_skipped : MT_SCAN_MAX_EXAMPLES;
    mt_arena arena = {NULL, 0, 0};
    /* Haraka's context lines (MX, stage, deferred recipient) are joined to
     * the delivery lines of the same chunk */
    mt_haraka_ctx hk;
    if (c->fmt == MT_FORMAT_HARAKA)
        mt_haraka_ctx_init(&hk);
    if (c->rctx || c->fmt == MT_FORMAT_OPENSMTPD || c->fmt == MT_FORMAT_HARAKA) {
        /* decoded strings never outgrow their text; the slack covers what
         * readers add (reply heads, synthetic ids) */
        mt_buf_reset(&c->arena);
        mt_buf_reserve(&c->arena, c->len * 3 + 65536);
        arena = (mt_arena){c->arena.data, 0, c->arena.cap - 1};
    }
    mt_lines it;
    mt_lines_init(&it, c->data, c->len);
    while ((line = mt_lines_next(&it, &len, &cut)) != NULL) {
        uint32_t my = idx++;
        if (cut)
            c->long_lines++;
        if (len == 0)
            continue;
        if (c->first_of_file && c->first[0] == '\0')
            snprintf(c->first, sizeof c->first, "%.*s", (int)(len < 190 ? len : 190), line);
        mt_pf_line *pl = slot(c);
        mt_pf_kind k;
        switch (c->fmt) {
        case MT_FORMAT_POSTFIX:
            k = mt_pf_parse(line, len, &yc, pl);
            keep_kind(c, k, pl->why, line, len, my, keep);
            break;
        case MT_FORMAT_EXIM:
            k = mt_exim_parse(line, len, &yc, pl);
            keep_kind(c, k, pl->why, line, len, my, keep);
            break;
        case MT_FORMAT_OPENSMTPD: {
            mt_xrec r;
            const char *why = "opensmtpd: cannot be parsed";
            int rc = mt_opensmtpd_parse(line, len, &yc, &r, &why);
            keep_record(c, rc, &r, why, line, len, my, keep, &arena);
            break;
        }
        case MT_FORMAT_HARAKA: {
            mt_xrec r;
            const char *why = "haraka: cannot be parsed";
            int rc = mt_haraka_parse(&hk, line, len, &yc, &r, &why);
            keep_record(c, rc, &r, why, line, len, my, keep, &arena);
            break;
        }
        case MT_FORMAT_PMTA:
        case MT_FORMAT_KUMO:
        case MT_FORMAT_CSV:
        case MT_FORMAT_NDJSON: {
            if (c->rctx == NULL)
                break;
            mt_xrec r;
            const char *why = NULL;
            int rc = mt_rec_parse(c->rctx, line, len, &arena, &r, &why);
            keep_record(c, rc, &r, why ? why : "record: cannot be parsed", line, len, my, keep, &arena);
            break;
        }
        default:
            break; /* no format: join_chunk reports the file */
        }
    }
    c->nlines = idx;
    c->first_month = yc.first_month;
    c->last_month = yc.last_month;
    c->rollovers = yc.rollovers;
}

typedef struct ts_emit_arg {
    par *p;
    const char *path;
    uint64_t lineno;
} ts_emit_arg;

static void ts_emit(const mt_pf_line *l, void *arg)
{
    ts_emit_arg *e = arg;
    mt_join_line(e->p->j, l, e->path, e->lineno);
}

/* join_transcript - transcripts carry state from line to line: they are
 * read here, in order, rather than on the parsing threads. */
static void join_transcript(par *p, chunk *c, const char *path)
{
    if (p->ts == NULL) {
        char tag[32];
        snprintf(tag, sizeof tag, "transcript%d", c->file);
        p->ts = mt_ts_new(tag);
    }
    ts_emit_arg e = {p, path, 0};
    size_t pos = 0, len;
    int cut;
    const char *line;
    uint32_t idx = 0;
    while ((line = mt_chunk_next(c->data, c->len, &pos, &len, &cut)) != NULL) {
        e.lineno = p->file_line_base + ++idx;
        if (len == 0)
            continue;
        if (mt_ts_line(p->ts, line, len, ts_emit, &e))
            c->recognised++;
        else
            c->foreign++;
    }
}

/* join_chunk - feed one chunk to the joiner, in order; called by the one
 * thread that holds the joining role. */
static void join_chunk(par *p, chunk *c)
{
    mt_scan_stats *st = p->st;
    const char *path = c->file < p->npaths ? p->paths[c->file] : "";
    if (p->rc < 0)
        return; /* an earlier file failed: the rest is drained unread */
    if (c->first_of_file) {
        p->file_line_base = p->file_recognised = p->file_lines = 0;
        p->carry_years = p->prev_last_month = 0;
        p->file_first[0] = '\0';
        st->files++;
    }
    if (c->end_of_file && p->ts) {
        ts_emit_arg e = {p, path, p->file_line_base};
        mt_ts_finish(p->ts, ts_emit, &e);
        mt_ts_free(p->ts);
        p->ts = NULL;
    }
    if (c->end_of_file) {
        if (c->open_failed) {
            mt_buf_puts(p->err, c->err);
            p->rc = -1;
            return;
        }
        st->bytes += c->bytes;
        st->raw_bytes += c->raw_bytes;
        st->lines += p->file_lines;
        if (c->err[0]) {
            mt_buf_puts(p->err, c->err);
            p->rc = -1;
        } else if (p->file_recognised == 0 && p->file_first[0] != '\0') {
            mt_buf_printf(p->err, "%s: no %s lines found in %llu lines; the first line is:\n  %s", path,
                          mt_format_name(p->fmts[c->file]), (unsigned long long)p->file_lines, p->file_first);
            p->rc = -1;
        }
        return;
    }
    if (c->first_of_file && c->ctx_failed) {
        mt_buf_printf(p->err, "%s: %s", path, c->err);
        p->rc = -1;
        return;
    }
    if (c->first_of_file && c->unknown[0]) {
        size_t ul = strlen(st->unknown_columns);
        snprintf(st->unknown_columns + ul, sizeof st->unknown_columns - ul, "%s%s: %s", ul ? "; " : "", path,
                 c->unknown);
    }
    if (c->first_of_file && c->fmt == MT_FORMAT_AUTO) {
        if (c->first[0] == '\0')
            return; /* blank lines only: nothing to say */
        mt_buf_printf(p->err,
                      "%s: not a format mailtriage reads (%s; --format names one); the first line is:\n  %s",
                      path, mt_format_names, c->first);
        p->rc = -1;
        return;
    }
    if (c->first_of_file) {
        const char *name = mt_format_name(c->fmt);
        if (st->format[0] == '\0')
            snprintf(st->format, sizeof st->format, "%s", name);
        else if (strcmp(st->format, name) != 0)
            snprintf(st->format, sizeof st->format, "mixed");
    }
    if (c->first_of_file)
        snprintf(p->file_first, sizeof p->file_first, "%s", c->first);
    if (p->file_first[0] == '\0' && c->first[0])
        snprintf(p->file_first, sizeof p->file_first, "%s", c->first);
    if (c->fmt == MT_FORMAT_TRANSCRIPT)
        join_transcript(p, c, path);
    /* a Dec -> Jan turn between the previous chunk and this one */
    if (p->prev_last_month && c->first_month && c->first_month < p->prev_last_month &&
        p->prev_last_month - c->first_month >= 6)
        p->carry_years++;
    /* with two threads the parsed lines were written on the other core:
     * ask for the ones just ahead (their fields, then the text they point
     * at), or the join waits for each in turn */
    size_t ahead = p->opts->threads > 1 ? c->n : 0;
    for (size_t i = 0; i < c->n; i++) {
        mt_pf_line *l = &c->lines[i];
        if (i + 8 < ahead) {
            const char *q = (const char *)&c->lines[i + 8];
            for (size_t k = 0; k < sizeof *l; k += 64)
                __builtin_prefetch(q + k);
            __builtin_prefetch(&c->pre[i + 8]);
        }
        if (i + 2 < ahead)
            __builtin_prefetch(c->lines[i + 2].queue_id.p);
        if (p->carry_years && l->time)
            l->time = mt_time_add_years(l->time, p->carry_years);
        mt_join_line_hashed(p->j, l, c->khash[i], &c->pre[i], path, p->file_line_base + c->idx[i] + 1);
    }
    p->carry_years += c->rollovers;
    if (c->last_month)
        p->prev_last_month = c->last_month;
    st->foreign += c->foreign;
    st->malformed += c->malformed;
    st->recognised += c->recognised;
    st->deliveries += c->deliveries;
    st->long_lines += c->long_lines;
    for (int i = 0; i < c->nreasons; i++) {
        int k;
        for (k = 0; k < st->nreasons; k++)
            if (st->reasons[k].why == c->reasons[i].why)
                break;
        if (k < st->nreasons) {
            st->reasons[k].count += c->reasons[i].count;
        } else if (st->nreasons < MT_SCAN_MAX_REASONS) {
            st->reasons[st->nreasons] = c->reasons[i];
            snprintf(st->reasons[st->nreasons].where, sizeof st->reasons[0].where, "%s:%llu", path,
                     (unsigned long long)p->file_line_base + c->reason_idx[i] + 1);
            st->nreasons++;
        }
    }
    for (int i = 0;
         i < c->nex && st->nexamples < p->opts->show_skipped && st->nexamples < MT_SCAN_MAX_EXAMPLES; i++) {
        mt_scan_example *e = &st->examples[st->nexamples++];
        *e = c->ex[i];
        snprintf(e->where, sizeof e->where, "%s:%llu", path,
                 (unsigned long long)p->file_line_base + c->ex_idx[i] + 1);
    }
    p->file_recognised += c->recognised;
    p->file_lines += c->nlines;
    p->file_line_base += c->nlines;
    p->joined_bytes += c->len;
    if (p->opts->progress) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if (now - p->last_progress >= 0.5) {
            p->last_progress = now;
            double mb = (double)p->joined_bytes / 1e6;
            fprintf(stderr, "\r%s: %.0f MB read (%.0f MB/s)   ", path, mb, mb / (now - p->start + 1e-9));
        }
    }
}

static void *worker(void *arg)
{
    par *p = arg;
    /* each thread classifies the lines it parses with its own classifier
     * (its caches are not shared) */
    mt_classifier *cls = p->opts->rules ? mt_classifier_new(p->opts->rules) : NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        chunk *next = p->ring[p->next_join % RING];
        if (!p->joining && next && next->seq == p->next_join) {
            p->joining = 1;
            p->ring[p->next_join % RING] = NULL;
            pthread_mutex_unlock(&p->mu);
            join_chunk(p, next);
            pthread_mutex_lock(&p->mu);
            if (p->rc < 0)
                p->stop = 1;
            next->next = p->free_list;
            p->free_list = next;
            p->next_join++;
            p->outstanding--;
            p->joining = 0;
            pthread_cond_broadcast(&p->cv);
            continue;
        }
        if (!p->reading_done && !p->stop && p->outstanding < MAX_OUTSTANDING) {
            chunk *c = chunk_get(p);
            p->outstanding++;
            pthread_mutex_unlock(&p->mu);
            pthread_mutex_lock(&p->read_mu);
            chunk *got = read_chunk(p, c);
            int year = p->base_year;
            pthread_mutex_lock(&p->mu);
            if (got)
                got->seq = p->nseq++;
            else
                p->reading_done = 1;
            pthread_mutex_unlock(&p->mu);
            pthread_mutex_unlock(&p->read_mu);
            if (got && !got->end_of_file) {
                int ahead = got->fmt == MT_FORMAT_POSTFIX || got->fmt == MT_FORMAT_EXIM;
                got->cls = ahead ? cls : NULL;
                parse_chunk(got, year, p->opts);
                got->cls = NULL;
            }
            pthread_mutex_lock(&p->mu);
            if (got) {
                p->ring[got->seq % RING] = got;
            } else {
                c->next = p->free_list;
                p->free_list = c;
                p->outstanding--;
            }
            pthread_cond_broadcast(&p->cv);
            continue;
        }
        if ((p->reading_done || p->stop) && !p->joining && p->next_join == p->nseq)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    mt_classifier_free(cls);
    return NULL;
}

int mt_scan_files(const char *const *paths, int n, const mt_scan_opts *opts, mt_join *j, mt_scan_stats *st,
                  mt_buf *err)
{
    par p;
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.mu, NULL);
    pthread_mutex_init(&p.read_mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    p.paths = paths;
    p.npaths = n;
    p.opts = opts;
    p.j = j;
    p.st = st;
    p.err = err;
    p.fmts = mt_xcalloc(n > 0 ? (size_t)n : 1, sizeof *p.fmts);
    p.rctxs = mt_xcalloc(n > 0 ? (size_t)n : 1, sizeof *p.rctxs);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    p.start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    /* one thread runs the same loop alone: read, parse, join, in turn */
    pthread_t th;
    int helper = opts->threads > 1 && pthread_create(&th, NULL, worker, &p) == 0;
    worker(&p);
    if (helper)
        pthread_join(th, NULL);
    if (opts->progress)
        fprintf(stderr, "\r%*s\r", 70, "");
    /* after a stop, chunks read but not joined are still in the ring */
    for (int i = 0; i < RING; i++)
        if (p.ring[i])
            chunk_free(p.ring[i]);
    while (p.free_list) {
        chunk *c = p.free_list;
        p.free_list = c->next;
        chunk_free(c);
    }
    if (p.in)
        mt_input_close(p.in);
    mt_ts_free(p.ts);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.read_mu);
    pthread_mutex_destroy(&p.mu);
    free(p.fmts);
    for (int i = 0; i < n; i++)
        mt_rec_ctx_free(p.rctxs[i]);
    free(p.rctxs);
    return p.rc;
}
