/*
 * gmime-alone -- what GMime alone costs on a folder of mails: a reference
 * for bench/bounces.sh, not part of mailtriage.
 *
 *   gmime-alone DIR [THREADS]
 *
 * Reads every file of DIR (not its subfolders) and has GMime build the MIME
 * tree of each, whole, then frees it, on THREADS threads (default 2): the
 * same GMime calls as src/lib/bounce.c (one parser and one memory stream
 * per thread, g_mime_parser_construct_part), and nothing else but
 * dropping an mbox "From " line.  mailtriage
 * gives GMime less than this (a message without MIME header fields is not
 * given to it at all, and header fields it does not need are dropped), so
 * this is not a floor of our time; it shows what the library alone costs
 * on the same input in the same run as the tools compared.  Prints the
 * files and MIME parts seen; time it from outside.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct work {
    char **files;
    size_t nfiles, next;
    unsigned long parts, unread, unparsed;
    pthread_mutex_t mu;
} work;

/* count_part - g_mime_multipart_foreach's callback: one more part */
static void count_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
    (void)parent;
    (void)part;
    (*(unsigned long *)data)++;
}

/* read_file - path's bytes into bytes (resized); 0, or -1 with errno */
static int read_file(const char *path, GByteArray *bytes)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > (off_t)G_MAXUINT) {
        close(fd);
        return -1;
    }
    g_byte_array_set_size(bytes, (guint)st.st_size);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, bytes->data + got, (size_t)st.st_size - got);
        if (r <= 0) {
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    return 0;
}

/* worker - take files in turn, parse each whole, free the tree */
static void *worker(void *arg)
{
    work *w = arg;
    unsigned long parts = 0, unread = 0, unparsed = 0;
    GByteArray *bytes = g_byte_array_new();
    GMimeStream *stream = g_mime_stream_mem_new();
    GMimeParser *parser = g_mime_parser_new();
    for (;;) {
        pthread_mutex_lock(&w->mu);
        size_t i = w->next++;
        pthread_mutex_unlock(&w->mu);
        if (i >= w->nfiles)
            break;
        if (read_file(w->files[i], bytes) < 0) {
            unread++;
            continue;
        }
        /* an mbox "From " line first (as in some of the corpus's files):
         * dropped, as mailtriage's reader does, or GMime parses nothing */
        if (bytes->len > 5 && memcmp(bytes->data, "From ", 5) == 0) {
            guint8 *nl = memchr(bytes->data, '\n', bytes->len);
            g_byte_array_remove_range(bytes, 0, nl ? (guint)(nl - bytes->data) + 1 : bytes->len);
        }
        /* not its owner; set again: back to the start */
        g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream), bytes);
        g_mime_parser_init_with_stream(parser, stream);
        GMimeObject *o = g_mime_parser_construct_part(parser, NULL);
        if (o == NULL) {
            unparsed++;
            continue;
        }
        parts++;
        if (GMIME_IS_MULTIPART(o))
            g_mime_multipart_foreach(GMIME_MULTIPART(o), count_part, &parts);
        g_object_unref(o);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    g_byte_array_free(bytes, TRUE);
    pthread_mutex_lock(&w->mu);
    w->parts += parts;
    w->unread += unread;
    w->unparsed += unparsed;
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
    DIR *dir = opendir(argv[1]);
    if (dir == NULL) {
        fprintf(stderr, "gmime-alone: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    work w = {.mu = PTHREAD_MUTEX_INITIALIZER};
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.' || de->d_type == DT_DIR)
            continue;
        if (w.nfiles == cap) {
            cap = cap ? cap * 2 : 1024;
            w.files = realloc(w.files, cap * sizeof *w.files);
            if (w.files == NULL) {
                fprintf(stderr, "gmime-alone: out of memory\n");
                return 1;
            }
        }
        w.files[w.nfiles++] = g_strdup_printf("%s/%s", argv[1], de->d_name);
    }
    closedir(dir);
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
    free(w.files);
    g_mime_shutdown();
    return w.unread > 0 ? 1 : 0;
}
