/*
 * gmime-alone -- what GMime alone costs on a folder of mails: a reference
 * for bench/bounces.sh, not part of mailtriage.
 *
 *   gmime-alone DIR [THREADS]
 *
 * Reads the messages under DIR as `mailtriage bounces` does (src/lib/mailbox:
 * the same files in the same order, an mbox split at its "From " lines)
 * and has GMime build the MIME tree of each, whole, then frees it, on
 * THREADS threads (default 2): the same GMime calls as src/lib/bounce.c
 * (one parser and one memory stream per thread,
 * g_mime_parser_construct_part), and nothing else but leaving out an mbox
 * "From " line.  mailtriage gives GMime less than this (a message without
 * MIME header fields is not given to it at all, and header fields it does
 * not need are dropped), so this is not a floor of our time; it shows what
 * the library alone costs on the same input in the same run as the tools
 * compared.  Prints the files and MIME parts seen; time it from outside.
 */
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox.h"

typedef struct work {
    char **files;
    size_t nfiles, cap, next;
    unsigned long parts, unread, unparsed;
    pthread_mutex_t mu;
} work;

/* one thread's GMime objects and counts */
typedef struct gm {
    GByteArray *bytes;
    GMimeStream *stream;
    GMimeParser *parser;
    unsigned long parts, unparsed;
} gm;

/* list_file - mt_mailbox_list's callback: one more file to read */
static void list_file(const char *path, void *arg)
{
    work *w = arg;
    if (w->nfiles == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 1024;
        w->files = g_realloc(w->files, w->cap * sizeof *w->files);
    }
    w->files[w->nfiles++] = g_strdup(path);
}

/* count_part - g_mime_multipart_foreach's callback: one more part */
static void count_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    (void)parent;
    (void)part;
    (*(unsigned long *)data)++;
}

/* parse_one - mt_mailbox_fn: GMime builds buf's tree whole and frees it */
static void parse_one(const char *buf, size_t n, const char *name, void *arg)
{
    (void)name;
    gm *g = arg;
    /* an mbox "From " line first: left out, as bounce.c's normalise()
     * does, or GMime parses nothing */
    if (n >= 5 && memcmp(buf, "From ", 5) == 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t skip = nl ? (size_t)(nl - buf) + 1 : n;
        buf += skip;
        n -= skip;
    }
    g_byte_array_set_size(g->bytes, 0);
    g_byte_array_append(g->bytes, (const guint8 *)buf, (guint)n);
    /* not its owner; set again: back to the start */
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(g->stream), g->bytes);
    g_mime_parser_init_with_stream(g->parser, g->stream);
    GMimeObject *o = g_mime_parser_construct_part(g->parser, NULL);
    if (o == NULL) {
        g->unparsed++;
        return;
    }
    g->parts++;
    if (GMIME_IS_MULTIPART(o))
        g_mime_multipart_foreach(GMIME_MULTIPART(o), count_part, &g->parts);
    g_object_unref(o);
}

/* worker - take files in turn, every message of each through parse_one */
static void *worker(void *arg)
{
    work *w = arg;
    gm g = {g_byte_array_new(), g_mime_stream_mem_new(), g_mime_parser_new(), 0, 0};
    unsigned long unread = 0;
    mt_buf scratch, err;
    mt_buf_init(&scratch);
    mt_buf_init(&err);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        size_t i = w->next++;
        pthread_mutex_unlock(&w->mu);
        if (i >= w->nfiles)
            break;
        mt_mailbox_stats st = {0};
        if (mt_mailbox_read_file_buf(w->files[i], &scratch, parse_one, &g, &st, &err) < 0 || st.unreadable)
            unread++;
    }
    mt_buf_free(&scratch);
    mt_buf_free(&err);
    g_object_unref(g.parser);
    g_object_unref(g.stream);
    g_byte_array_free(g.bytes, TRUE);
    pthread_mutex_lock(&w->mu);
    w->parts += g.parts;
    w->unread += unread;
    w->unparsed += g.unparsed;
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: gmime-alone DIR [THREADS]\n");
        return 2;
    }
    char *end = NULL;
    long nthreads = argc == 3 ? strtol(argv[2], &end, 10) : 2;
    if ((end && *end) || nthreads < 1 || nthreads > 64) {
        fprintf(stderr, "gmime-alone: THREADS is 1 to 64\n");
        return 2;
    }
    work w = {.mu = PTHREAD_MUTEX_INITIALIZER};
    mt_mailbox_stats st = {0};
    mt_buf err;
    mt_buf_init(&err);
    if (mt_mailbox_list(argv[1], list_file, &w, &st, &err) < 0) {
        fprintf(stderr, "gmime-alone: %s\n", err.data ? err.data : argv[1]);
        return 1;
    }
    mt_buf_free(&err);
    g_mime_init();
    pthread_t th[64];
    int started = 0;
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&th[started], NULL, worker, &w) == 0)
            started++;
    if (started == 0)
        worker(&w);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    printf("%zu files, %lu MIME parts, %lu files not read, %lu not parsed\n", w.nfiles, w.parts, w.unread,
           w.unparsed);
    for (size_t i = 0; i < w.nfiles; i++)
        g_free(w.files[i]);
    g_free(w.files);
    g_mime_shutdown();
    return w.unread > 0 ? 1 : 0;
}
