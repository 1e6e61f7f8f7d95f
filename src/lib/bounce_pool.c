/*
 * bounce_pool.c - bounce mails parsed on several threads, records handed
 * to the caller in input order on the calling thread.
 *
 * The inputs are listed first (one job per file; stdin is one job of bytes).
 * Workers take jobs in order, parse them with their own parser, classifier
 * and reason phrases, and store each record, strings included, in the
 * job's arena.  The caller's thread replays the jobs in order and frees
 * them; workers stay at most WINDOW jobs ahead, so memory is bounded by
 * the window, not by the input.  When every input is a file and there are
 * FORK_MIN_JOBS of them or more, the workers are processes instead (see
 * read_forked): the same jobs and arenas, through a pipe each.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bounce.h"
#include "mailbox.h"

#define WINDOW 256
#define BATCH  16
#define REPLAY 64 /* jobs the caller's thread waits for at once (< WINDOW) */
#define NO_JOB ((size_t)-1)

enum {
    S_SOURCE,
    S_QUEUE,
    S_MSGID,
    S_ROUTE,
    S_IP,
    S_HELO,
    S_MFROM,
    S_HFROM,
    S_RCPT,
    S_RDOM,
    S_PROVIDER,
    S_MX,
    S_MXIP,
    S_TEXT,
    S_TEMPLATE,
    S_ATTACH,
    S_MEANING,
    S_REASON,
    S_ACTION,
    S_FBTYPE,
    S_FORMAT,
    S_COUNT
};

typedef struct stored {
    mt_attempt a; /* string members NULL; see off */
    mt_bounce_kind kind;
    /* 1 + offset of each string from the record's start, 0 for NULL:
     * relative, so that a job (a whole mbox) may hold more than 4 GB of
     * records; one record's strings come from one message */
    uint32_t off[S_COUNT];
} stored;

typedef struct job {
    char *path; /* NULL: data holds the bytes (stdin) */
    mt_buf data;
    mt_buf arena;
    size_t nrec;
    mt_bounce_stats st;
    char *err;
    int done;
} job;

typedef struct pool {
    job *jobs;
    size_t njobs, cap;
    size_t next, replayed;
    int waiting; /* workers waiting for the window */
    int nworkers;
    size_t main_wait; /* the job the caller's thread waits for, or NO_JOB */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* workers wait here for the window to move */
    pthread_cond_t cv_main; /* the caller's thread waits here for its job */
    /* replayed jobs' arenas, handed to the next jobs: memory a worker
     * allocated is not freed by the caller's thread (a free into another
     * thread's malloc arena takes that arena's lock, against the worker) */
    mt_buf *spare;
    size_t nspare, capspare;
    const mt_bounce_reasons *reasons; /* shared with each worker (mt_bounce_reasons_share) */
    const mt_rules *rules;
    /* the listing (mt_bounce_inputs_list): inputs that could not be read,
     * the last one's error, and the counts */
    int list_bad;
    mt_buf list_err;
    mt_mailbox_stats list_st;
} pool;

struct mt_bounce_inputs {
    pool p;
};

static job *add_job(pool *p)
{
    if (p->njobs == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->jobs = mt_xrealloc(p->jobs, p->cap * sizeof *p->jobs);
    }
    job *j = &p->jobs[p->njobs++];
    memset(j, 0, sizeof *j);
    mt_buf_init(&j->data);
    mt_buf_init(&j->arena);
    return j;
}

static void list_file(const char *path, void *arg)
{
    add_job(arg)->path = mt_xstrdup(path);
}

/* put - append s (NUL included) to the arena of the record that starts
 * at at; returns 1 + its offset from at, 0 for NULL (and for the string
 * that would start 4 GB past its record: no message holds that much) */
static uint32_t put(mt_buf *arena, size_t at, const char *s)
{
    if (s == NULL || arena->len - at >= UINT32_MAX)
        return 0;
    uint32_t off = (uint32_t)(arena->len - at) + 1;
    mt_buf_append(arena, s, strlen(s) + 1);
    return off;
}

typedef struct work {
    job *j;
    mt_bounce_parser *parser;
    uint64_t records;
} work;

static void store(const mt_attempt *a, const mt_bounce_info *info, void *arg)
{
    work *w = arg;
    job *j = w->j;
    stored s;
    memset(&s, 0, sizeof s);
    s.a = *a;
    s.kind = info->kind;
    /* reserve the header, then the strings after it */
    size_t at = j->arena.len;
    mt_buf_append(&j->arena, &s, sizeof s);
    const char *strs[S_COUNT] = {a->source_file,
                                 a->queue_id,
                                 a->message_id,
                                 a->route,
                                 a->sending_ip,
                                 a->helo_name,
                                 a->mail_from_domain,
                                 a->header_from_domain,
                                 a->recipient,
                                 a->recipient_domain,
                                 a->provider,
                                 a->mx_host,
                                 a->mx_ip,
                                 a->reply_text,
                                 a->message_template_id,
                                 a->attachment_types,
                                 a->rule_meaning,
                                 info->reason,
                                 info->action,
                                 info->feedback_type,
                                 info->format};
    for (int i = 0; i < S_COUNT; i++)
        s.off[i] = put(&j->arena, at, strs[i]);
    memcpy(j->arena.data + at, &s, sizeof s);
    j->nrec++;
    w->records++;
    if ((unsigned)info->kind < 5)
        j->st.by_kind[info->kind]++;
}

static void on_message(const char *buf, size_t n, const char *name, void *arg)
{
    work *w = arg;
    w->records = 0;
    int r = mt_bounce_parse(w->parser, buf, n, name, store, w);
    if (r < 0)
        w->j->st.not_mail++;
    else if (r == 0)
        w->j->st.not_bounce++;
    else
        w->j->st.bounces++;
    w->j->st.records += w->records;
}

/* run_job - a job's messages through parser: its records into its arena,
 * its counts, its error */
static void run_job(job *j, mt_bounce_parser *parser, mt_buf *file, mt_buf *err)
{
    work w = {.j = j, .parser = parser};
    mt_mailbox_stats ms = {0};
    mt_buf_reset(err);
    if (j->path) {
        if (mt_mailbox_read_file_buf(j->path, file, on_message, &w, &ms, err) < 0)
            j->err = mt_xstrdup(err->data ? err->data : j->path);
    } else {
        ms.files++;
        if (j->data.len)
            mt_mailbox_split(j->data.data, j->data.len, "-", on_message, &w, &ms);
    }
    j->st.files += ms.files;
    j->st.messages += ms.messages;
    j->st.unreadable += ms.unreadable;
}

static void *worker(void *arg)
{
    pool *p = arg;
    mt_buf err, file;
    mt_buf_init(&err);
    mt_buf_init(&file); /* each file's bytes, reused */
    mt_bounce_reasons *reasons = mt_bounce_reasons_share(p->reasons);
    mt_classifier *cls = p->rules ? mt_classifier_new(p->rules) : NULL;
    mt_bounce_parser *parser = mt_bounce_parser_new(reasons, cls);
    pthread_mutex_lock(&p->mu);
    int wake_main = 0; /* the caller's thread waits for a job this worker has done */
    for (;;) {
        while (p->next < p->njobs && p->next >= p->replayed + WINDOW) {
            if (wake_main) { /* before waiting for it to replay */
                pthread_cond_signal(&p->cv_main);
                wake_main = 0;
            }
            p->waiting++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->waiting--;
        }
        if (p->next >= p->njobs)
            break;
        /* a few jobs at a time: one lock round and one wake-up for them */
        size_t first = p->next, k = p->njobs - first;
        if (k > BATCH)
            k = BATCH;
        /* near the end, smaller claims: the workers finish together */
        if (p->nworkers > 1 && k > 1 && k * 2 * (size_t)p->nworkers > p->njobs - first) {
            k = (p->njobs - first) / (2 * (size_t)p->nworkers);
            if (k < 1)
                k = 1;
        }
        if (k > p->replayed + WINDOW - first)
            k = p->replayed + WINDOW - first;
        p->next += k;
        for (size_t b = 0; b < k && p->nspare; b++)
            p->jobs[first + b].arena = p->spare[--p->nspare];
        pthread_mutex_unlock(&p->mu);
        if (wake_main) { /* after the unlock: it does not wake to a held lock */
            pthread_cond_signal(&p->cv_main);
            wake_main = 0;
        }
        for (size_t b = 0; b < k; b++)
            run_job(&p->jobs[first + b], parser, &file, &err);
        pthread_mutex_lock(&p->mu);
        for (size_t b = 0; b < k; b++)
            p->jobs[first + b].done = 1;
        /* wake the caller's thread only when it waits for one of these */
        if (p->main_wait != NO_JOB && p->main_wait >= first && p->main_wait < first + k)
            wake_main = 1;
    }
    pthread_mutex_unlock(&p->mu);
    if (wake_main)
        pthread_cond_signal(&p->cv_main);
    mt_bounce_parser_free(parser);
    mt_classifier_free(cls);
    mt_bounce_reasons_free(reasons);
    mt_buf_free(&err);
    mt_buf_free(&file);
    return NULL;
}

static void replay(job *j, mt_bounce_fn fn, void *arg)
{
    size_t at = 0;
    for (size_t k = 0; k < j->nrec; k++) {
        stored s;
        memcpy(&s, j->arena.data + at, sizeof s);
        const char *str[S_COUNT];
        size_t end = at + sizeof s;
        for (int i = 0; i < S_COUNT; i++) {
            str[i] = s.off[i] ? j->arena.data + at + s.off[i] - 1 : NULL;
            if (s.off[i]) {
                size_t e = at + s.off[i] - 1 + strlen(str[i]) + 1;
                if (e > end)
                    end = e;
            }
        }
        mt_attempt a = s.a;
        a.source_file = str[S_SOURCE];
        a.queue_id = str[S_QUEUE];
        a.message_id = str[S_MSGID];
        a.route = str[S_ROUTE];
        a.sending_ip = str[S_IP];
        a.helo_name = str[S_HELO];
        a.mail_from_domain = str[S_MFROM];
        a.header_from_domain = str[S_HFROM];
        a.recipient = str[S_RCPT];
        a.recipient_domain = str[S_RDOM];
        a.provider = str[S_PROVIDER];
        a.mx_host = str[S_MX];
        a.mx_ip = str[S_MXIP];
        a.reply_text = str[S_TEXT];
        a.message_template_id = str[S_TEMPLATE];
        a.attachment_types = str[S_ATTACH];
        a.rule_meaning = str[S_MEANING];
        mt_bounce_info info = {.kind = s.kind,
                               .reason = str[S_REASON] ? str[S_REASON] : "undefined",
                               .action = str[S_ACTION] ? str[S_ACTION] : "",
                               .feedback_type = str[S_FBTYPE] ? str[S_FBTYPE] : "",
                               .format = str[S_FORMAT] ? str[S_FORMAT] : ""};
        fn(&a, &info, arg);
        at = end;
    }
}

static void merge(mt_bounce_stats *to, const mt_bounce_stats *from)
{
    to->files += from->files;
    to->messages += from->messages;
    to->bounces += from->bounces;
    to->not_bounce += from->not_bounce;
    to->not_mail += from->not_mail;
    to->unreadable += from->unreadable;
    to->records += from->records;
    for (int i = 0; i < 5; i++)
        to->by_kind[i] += from->by_kind[i];
}

/* hand_out - a finished job to the caller: its records to fn, its counts
 * into st, its error (freed) into err; 1 when it had one */
static int hand_out(job *j, mt_bounce_fn fn, void *arg, mt_bounce_stats *st, mt_buf *err)
{
    replay(j, fn, arg);
    merge(st, &j->st);
    if (j->err == NULL)
        return 0;
    mt_buf_reset(err);
    mt_buf_puts(err, j->err);
    free(j->err);
    j->err = NULL;
    return 1;
}

/* pool_free - the jobs and locks of a pool whose jobs are all handed out */
static void pool_free(pool *p)
{
    for (size_t i = 0; i < p->njobs; i++) {
        free(p->jobs[i].path);
        mt_buf_free(&p->jobs[i].data);
        mt_buf_free(&p->jobs[i].arena);
    }
    free(p->jobs);
    for (size_t i = 0; i < p->nspare; i++)
        mt_buf_free(&p->spare[i]);
    free(p->spare);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->cv_main);
}

/* ---- worker processes ----
 *
 * With several workers on GLib, every GObject made and freed (GMime makes
 * some twenty per message) goes through GLib's global locks and shared
 * allocator state; two worker threads used 5-15% more CPU than two worker
 * processes over the same files (2-core VM, 2026-11-28), which share none.
 * But processes share nothing they make after the fork either: each JIT
 * compiles the patterns it runs, compiles the branches it needs and fills
 * its caches, which threads do once for all.  On a few thousand files
 * that costs more than the locks do (over 832 files threads were 5-20%
 * faster, over 8,320 processes were; FORK_MIN_JOBS), so processes are for
 * many files and threads for few.
 *
 * The jobs are cut in chunks of FORK_CHUNK; a worker claims the first
 * chunk no worker has claimed yet (a compare-and-swap on the chunk's owner
 * in memory the processes share, so chunks are claimed in order and a
 * worker that gets more of the cores takes more of them), parses it and
 * writes each of its jobs (its counts, its arena of records as the
 * threads store them, its error) to its pipe.  The caller reads the
 * chunks in input order, each from the pipe of the worker that claimed
 * it, so the records come out as they do from the threads. */

#define FORK_CHUNK    16
#define FORK_MIN_JOBS 2048 /* fewer files: threads (see above) */

typedef struct job_head {
    uint64_t nrec, arena_len, err_len;
    mt_bounce_stats st;
} job_head;

static int write_all(int fd, const void *b, size_t n)
{
    const char *c = b;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* the caller's end of a worker's pipe, read a block at a time */
typedef struct pipe_in {
    int fd;
    size_t pos, len;
    char buf[1 << 16];
} pipe_in;

static int read_all(pipe_in *in, void *b, size_t n)
{
    char *c = b;
    while (n) {
        if (in->pos == in->len) {
            ssize_t r = read(in->fd, in->buf, sizeof in->buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return -1;
            in->pos = 0;
            in->len = (size_t)r;
        }
        size_t k = in->len - in->pos < n ? in->len - in->pos : n;
        memcpy(c, in->buf + in->pos, k);
        in->pos += k;
        c += k;
        n -= k;
    }
    return 0;
}

/* a worker process, k of them (1-based in owner): never returns */
static void child_main(pool *p, int k, _Atomic unsigned char *owner, size_t nchunks, int fd)
{
    signal(SIGPIPE, SIG_IGN); /* a caller gone: write fails, the worker ends */
    mt_buf err, file, out;    /* out: a chunk's jobs, written at once */
    mt_buf_init(&err);
    mt_buf_init(&file);
    mt_buf_init(&out);
    mt_classifier *cls = p->rules ? mt_classifier_new(p->rules) : NULL;
    mt_bounce_parser *parser = mt_bounce_parser_new(p->reasons, cls);
    int rc = 0;
    for (size_t c = 0; c < nchunks && rc == 0; c++) {
        unsigned char none = 0;
        if (!atomic_compare_exchange_strong(&owner[c], &none, (unsigned char)(k + 1)))
            continue; /* another worker's */
        size_t end = (c + 1) * FORK_CHUNK < p->njobs ? (c + 1) * FORK_CHUNK : p->njobs;
        for (size_t i = c * FORK_CHUNK; i < end && rc == 0; i++) {
            job *j = &p->jobs[i];
            run_job(j, parser, &file, &err);
            job_head h;
            memset(&h, 0, sizeof h);
            h.nrec = j->nrec;
            h.arena_len = j->arena.len;
            h.err_len = j->err ? strlen(j->err) : 0;
            h.st = j->st;
            mt_buf_append(&out, &h, sizeof h);
            mt_buf_append(&out, j->arena.data ? j->arena.data : "", j->arena.len);
            mt_buf_append(&out, j->err ? j->err : "", (size_t)h.err_len);
            mt_buf_free(&j->arena);
            free(j->err);
            j->err = NULL;
        }
        if (write_all(fd, out.data, out.len) < 0)
            rc = 1;
        mt_buf_reset(&out);
    }
    close(fd);
    _exit(rc); /* not exit: the caller's stdio buffers are not this process's to flush */
}

/* wait_owner - the worker (0-based) that claimed chunk c, waiting for the
 * claim: every chunk before c has been read, so the pipes are empty until
 * some worker claims c or a later chunk (claims are in order: c first).
 * -1 when every worker that could claim it has ended. */
static int wait_owner(_Atomic unsigned char *owner, size_t c, const int *fds, int *dead, int nproc)
{
    for (;;) {
        unsigned char o = atomic_load(&owner[c]);
        if (o)
            return o - 1;
        struct pollfd pf[8];
        int np = 0, idx[8];
        for (int k = 0; k < nproc; k++)
            if (!dead[k]) {
                pf[np].fd = fds[k];
                pf[np].events = POLLIN;
                pf[np].revents = 0;
                idx[np++] = k;
            }
        if (np == 0)
            return -1;
        if (poll(pf, (nfds_t)np, -1) < 0 && errno != EINTR)
            return -1;
        if (atomic_load(&owner[c]))
            continue;
        for (int i = 0; i < np; i++) /* ended with nothing more to read */
            if ((pf[i].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pf[i].revents & POLLIN))
                dead[idx[i]] = 1;
    }
}

/* read_forked - the jobs through nproc worker processes; returns the
 * inputs that could not be read, or -1 when no worker could be started
 * (nothing read: the caller uses threads) */
static int read_forked(pool *p, int nproc, mt_bounce_fn fn, void *arg, mt_bounce_stats *st, mt_buf *err)
{
    int fds[8];
    pid_t pids[8];
    pipe_in *in[8];
    int started = 0;
    size_t nchunks = (p->njobs + FORK_CHUNK - 1) / FORK_CHUNK;
    /* each chunk's worker (1-based), 0 while unclaimed; shared with them */
    _Atomic unsigned char *owner =
        mmap(NULL, nchunks ? nchunks : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (owner == MAP_FAILED)
        return -1;
    fflush(NULL); /* nothing buffered is written twice */
    for (int k = 0; k < nproc; k++) {
        int pfd[2];
        if (pipe(pfd) < 0)
            break;
        (void)fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20); /* workers run ahead by up to this */
        pid_t pid = fork();
        if (pid < 0) {
            close(pfd[0]);
            close(pfd[1]);
            break;
        }
        if (pid == 0) {
            close(pfd[0]);
            for (int i = 0; i < started; i++)
                close(fds[i]);
            child_main(p, k, owner, nchunks, pfd[1]);
        }
        close(pfd[1]);
        fds[started] = pfd[0];
        pids[started] = pid;
        started++;
    }
    if (started < nproc) { /* all or none */
        for (int i = 0; i < started; i++) {
            close(fds[i]);
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
        munmap((void *)owner, nchunks ? nchunks : 1);
        return -1;
    }
    for (int i = 0; i < nproc; i++) {
        in[i] = mt_xcalloc(1, sizeof *in[i]);
        in[i]->fd = fds[i];
    }
    int bad = 0;
    int dead[8] = {0};
    job one;
    memset(&one, 0, sizeof one);
    mt_buf_init(&one.arena);
    int k = -1;
    for (size_t i = 0; i < p->njobs; i++) {
        if (i % FORK_CHUNK == 0)
            k = wait_owner(owner, i / FORK_CHUNK, fds, dead, nproc);
        job_head h;
        one.nrec = 0;
        memset(&one.st, 0, sizeof one.st);
        if (k >= 0 && !dead[k] && read_all(in[k], &h, sizeof h) == 0 && h.arena_len < ((uint64_t)1 << 40) &&
            h.err_len < ((uint64_t)1 << 20)) {
            mt_buf_reset(&one.arena);
            mt_buf_reserve(&one.arena, (size_t)h.arena_len);
            one.err = h.err_len ? mt_xmalloc((size_t)h.err_len + 1) : NULL;
            if (read_all(in[k], one.arena.data, (size_t)h.arena_len) < 0 ||
                (one.err && read_all(in[k], one.err, (size_t)h.err_len) < 0)) {
                free(one.err);
                one.err = NULL;
                dead[k] = 1;
            } else {
                one.arena.len = (size_t)h.arena_len;
                one.nrec = (size_t)h.nrec;
                one.st = h.st;
                if (one.err)
                    one.err[h.err_len] = '\0';
            }
        } else if (k >= 0)
            dead[k] = 1;
        if ((k < 0 || dead[k]) && one.err == NULL)
            one.err = mt_xstrdup("a worker process ended before its inputs were read");
        bad += hand_out(&one, fn, arg, st, err);
    }
    mt_buf_free(&one.arena);
    for (int i = 0; i < nproc; i++) {
        close(fds[i]);
        free(in[i]);
        waitpid(pids[i], NULL, 0);
    }
    munmap((void *)owner, nchunks ? nchunks : 1);
    return bad;
}

mt_bounce_inputs *mt_bounce_inputs_list(const char *const *paths, int n)
{
    mt_bounce_inputs *in = mt_xcalloc(1, sizeof *in);
    pool *p = &in->p;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->cv_main, NULL);
    p->main_wait = NO_JOB;
    mt_buf_init(&p->list_err);
    for (int i = 0; i < n; i++) {
        if (strcmp(paths[i], "-") == 0) {
            job *j = add_job(p);
            char tmp[65536];
            size_t r;
            while ((r = fread(tmp, 1, sizeof tmp, stdin)) > 0)
                mt_buf_append(&j->data, tmp, r);
            if (ferror(stdin)) {
                mt_buf_reset(&p->list_err);
                mt_buf_puts(&p->list_err, "standard input: read error");
                p->list_bad++;
            }
        } else if (mt_mailbox_list(paths[i], list_file, p, &p->list_st, &p->list_err) < 0)
            p->list_bad++;
    }
    return in;
}

void mt_bounce_inputs_free(mt_bounce_inputs *in)
{
    if (in == NULL)
        return;
    pool_free(&in->p);
    mt_buf_free(&in->p.list_err);
    free(in);
}

int mt_bounce_read_paths(const char *const *paths, int n, int nthreads, const mt_bounce_reasons *reasons,
                         const mt_rules *rules, mt_bounce_fn fn, void *arg, mt_bounce_stats *st, mt_buf *err)
{
    if (reasons == NULL) {
        mt_buf_puts(err, "no reason phrases");
        return -1;
    }
    return mt_bounce_inputs_read(mt_bounce_inputs_list(paths, n), nthreads, reasons, rules, fn, arg, st, err);
}

/* the pool's jobs read and handed out; the pool freed */
static int read_pool(pool *p, int nthreads, mt_bounce_fn fn, void *arg, mt_bounce_stats *st, mt_buf *err);

int mt_bounce_inputs_read(mt_bounce_inputs *in, int nthreads, const mt_bounce_reasons *reasons,
                          const mt_rules *rules, mt_bounce_fn fn, void *arg, mt_bounce_stats *st, mt_buf *err)
{
    if (reasons == NULL) {
        mt_bounce_inputs_free(in);
        mt_buf_puts(err, "no reason phrases");
        return -1;
    }
    pool *p = &in->p;
    p->reasons = reasons;
    p->rules = rules;
    int bad = p->list_bad;
    if (bad) {
        mt_buf_reset(err);
        mt_buf_puts(err, p->list_err.data);
    }
    st->unreadable += p->list_st.unreadable;
    mt_buf_free(&p->list_err);
    bad += read_pool(p, nthreads, fn, arg, st, err);
    free(in);
    return bad;
}

static int read_pool(pool *p, int nthreads, mt_bounce_fn fn, void *arg, mt_bounce_stats *st, mt_buf *err)
{
    int bad = 0;
    if (nthreads < 1)
        nthreads = 1;
    if ((size_t)nthreads > p->njobs)
        nthreads = p->njobs ? (int)p->njobs : 1;
    int files_only = 1;
    for (size_t i = 0; i < p->njobs && files_only; i++)
        files_only = p->jobs[i].path != NULL;
    if (nthreads > 1 && nthreads <= 8 && files_only && p->njobs >= FORK_MIN_JOBS) {
        int r = read_forked(p, nthreads, fn, arg, st, err);
        if (r >= 0) {
            pool_free(p);
            return bad + r;
        }
    }
    pthread_t *t = mt_xcalloc((size_t)nthreads, sizeof *t);
    p->nworkers = nthreads;
    for (int i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, worker, p);
    for (size_t i = 0; i < p->njobs;) {
        /* every job done from i on, in one lock round */
        size_t k = 0;
        /* wait for REPLAY jobs at once (fewer wake-ups of this thread,
         * which shares the cores with the workers) */
        size_t want = p->njobs - i < REPLAY ? p->njobs - i : REPLAY;
        pthread_mutex_lock(&p->mu);
        for (size_t w = i; w < i + want;) {
            if (p->jobs[w].done) {
                w++;
                continue;
            }
            p->main_wait = w;
            pthread_cond_wait(&p->cv_main, &p->mu);
        }
        p->main_wait = NO_JOB;
        while (i + k < p->njobs && p->jobs[i + k].done)
            k++;
        pthread_mutex_unlock(&p->mu);
        for (size_t b = 0; b < k; b++) {
            job *j = &p->jobs[i + b];
            bad += hand_out(j, fn, arg, st, err);
            free(j->path);
            j->path = NULL;
            mt_buf_free(&j->data);
        }
        pthread_mutex_lock(&p->mu);
        if (p->nspare + k > p->capspare) {
            p->capspare = (p->nspare + k) * 2;
            p->spare = mt_xrealloc(p->spare, p->capspare * sizeof *p->spare);
        }
        for (size_t b = 0; b < k; b++) {
            mt_buf *a = &p->jobs[i + b].arena;
            if (a->data == NULL)
                continue;
            mt_buf_reset(a);
            p->spare[p->nspare++] = *a;
            mt_buf_init(a);
        }
        i += k;
        p->replayed = i;
        if (p->waiting) /* a worker waits for the window to move */
            pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    free(t);
    pool_free(p);
    return bad;
}
