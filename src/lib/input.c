/*
 * input.c - buffered line reading over plain, gzip and zstd streams.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK (1u << 20)

typedef enum { COMP_NONE, COMP_GZIP, COMP_ZSTD } comp;

struct mt_input {
    char *name;
    int fd;
    comp comp;
    /* decompressed text */
    char *buf;
    size_t cap, start, end;
    int eof;
    /* compressed bytes */
    unsigned char *zbuf;
    size_t zcap, zstart, zend;
    int zeof;
    z_stream gz;
    int gz_live;
    ZSTD_DStream *zs;
    size_t zs_last; /* last ZSTD_decompressStream return: 0 at a frame end */
    char err[256];
    uint64_t bytes, raw, size, long_lines;
    int64_t mtime;
};

static ssize_t read_some(mt_input *in, void *p, size_t n)
{
    for (;;) {
        ssize_t got = read(in->fd, p, n);
        if (got >= 0) {
            in->raw += (uint64_t)got;
            return got;
        }
        if (errno != EINTR) {
            snprintf(in->err, sizeof in->err, "%s: read error: %s", in->name, strerror(errno));
            return -1;
        }
    }
}

mt_input *mt_input_open(const char *path, mt_buf *err)
{
    mt_input *in = mt_xcalloc(1, sizeof *in);
    in->name = mt_xstrdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
    if (strcmp(path, "-") == 0) {
        in->fd = 0;
    } else {
        in->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            mt_buf_printf(err, "%s: cannot open: %s", path, strerror(errno));
            free(in->name);
            free(in);
            return NULL;
        }
        struct stat st;
        if (fstat(in->fd, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                mt_buf_printf(err, "%s: is a directory (give the log files inside it)", path);
                close(in->fd);
                free(in->name);
                free(in);
                return NULL;
            }
            in->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
            in->mtime = (int64_t)st.st_mtime;
        }
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    in->zcap = CHUNK;
    in->zbuf = mt_xmalloc(in->zcap);
    /* sniff the compression from the first bytes */
    while (in->zend < 4) {
        ssize_t got = read_some(in, in->zbuf + in->zend, in->zcap - in->zend);
        if (got < 0) {
            mt_buf_puts(err, in->err);
            mt_input_close(in);
            return NULL;
        }
        if (got == 0) {
            in->zeof = 1;
            break;
        }
        in->zend += (size_t)got;
    }
    const unsigned char *m = in->zbuf;
    if (in->zend >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        in->comp = COMP_GZIP;
        if (inflateInit2(&in->gz, 15 + 32) != Z_OK) {
            mt_buf_printf(err, "%s: cannot start gzip decompression", in->name);
            mt_input_close(in);
            return NULL;
        }
        in->gz_live = 1;
    } else if (in->zend >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        in->comp = COMP_ZSTD;
        in->zs = ZSTD_createDStream();
        if (in->zs == NULL || ZSTD_isError(ZSTD_initDStream(in->zs))) {
            mt_buf_printf(err, "%s: cannot start zstd decompression", in->name);
            mt_input_close(in);
            return NULL;
        }
    }
    in->cap = 4 * CHUNK;
    in->buf = mt_xmalloc(in->cap + 1);
    return in;
}

const char *mt_chunk_next(const char *block, size_t blen, size_t *pos, size_t *len, int *cut)
{
    if (*pos >= blen)
        return NULL;
    const char *s = block + *pos;
    size_t avail = blen - *pos;
    const char *nl = memchr(s, '\n', avail);
    size_t n = nl ? (size_t)(nl - s) : avail;
    *pos += nl ? n + 1 : n;
    return mt_line_end(s, n, len, cut);
}

/* refill_z - make sure some compressed input is buffered; 0 at EOF. */
static int refill_z(mt_input *in)
{
    if (in->zstart < in->zend)
        return 1;
    if (in->zeof)
        return 0;
    in->zstart = in->zend = 0;
    ssize_t got = read_some(in, in->zbuf, in->zcap);
    if (got < 0)
        return -1;
    if (got == 0) {
        in->zeof = 1;
        return 0;
    }
    in->zend = (size_t)got;
    return 1;
}

/* fill - append decompressed text to buf[end..cap); returns bytes added,
 * 0 at the end, -1 on error. */
static ssize_t fill(mt_input *in)
{
    char *dst = in->buf + in->end;
    size_t room = in->cap - in->end;
    if (in->comp == COMP_NONE) {
        if (in->zstart < in->zend) { /* the sniffed bytes */
            size_t n = in->zend - in->zstart;
            if (n > room)
                n = room;
            memcpy(dst, in->zbuf + in->zstart, n);
            in->zstart += n;
            return (ssize_t)n;
        }
        if (in->zeof)
            return 0;
        ssize_t got = read_some(in, dst, room);
        if (got == 0)
            in->zeof = 1;
        return got;
    }
    for (;;) {
        int r = refill_z(in);
        if (r < 0)
            return -1;
        if (in->comp == COMP_GZIP) {
            if (r == 0) {
                if (in->gz_live == 2 || in->raw == 0)
                    return 0; /* clean end after a complete member */
                snprintf(in->err, sizeof in->err, "%s: gzip data truncated", in->name);
                return -1;
            }
            if (in->gz_live == 2) { /* another member follows */
                inflateReset(&in->gz);
                in->gz_live = 1;
            }
            in->gz.next_in = in->zbuf + in->zstart;
            in->gz.avail_in = (uInt)(in->zend - in->zstart);
            in->gz.next_out = (Bytef *)dst;
            in->gz.avail_out = (uInt)room;
            int zr = inflate(&in->gz, Z_NO_FLUSH);
            in->zstart = in->zend - in->gz.avail_in;
            size_t made = room - in->gz.avail_out;
            if (zr == Z_STREAM_END) {
                in->gz_live = 2;
            } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
                snprintf(in->err, sizeof in->err, "%s: gzip data corrupt: %s", in->name,
                         in->gz.msg ? in->gz.msg : "error");
                return -1;
            }
            if (made)
                return (ssize_t)made;
        } else {
            if (r == 0) {
                if (in->zs_last == 0)
                    return 0;
                snprintf(in->err, sizeof in->err, "%s: zstd data truncated", in->name);
                return -1;
            }
            ZSTD_inBuffer ib = {in->zbuf + in->zstart, in->zend - in->zstart, 0};
            ZSTD_outBuffer ob = {dst, room, 0};
            size_t zr = ZSTD_decompressStream(in->zs, &ob, &ib);
            in->zstart += ib.pos;
            if (ZSTD_isError(zr)) {
                snprintf(in->err, sizeof in->err, "%s: zstd data corrupt: %s", in->name,
                         ZSTD_getErrorName(zr));
                return -1;
            }
            in->zs_last = zr;
            if (ob.pos)
                return (ssize_t)ob.pos;
        }
    }
}

/* more - make room and read more text into the buffer.  Returns 1 when
 * something may have been added, 0 when nothing more will come (end or
 * error), -1 when the buffer is full of one absurdly long line. */
static int more(mt_input *in)
{
    if (in->eof || in->err[0])
        return 0;
    size_t avail = in->end - in->start;
    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, avail);
        in->start = 0;
        in->end = avail;
    }
    if (in->end == in->cap) {
        if (in->cap >= 2 * MT_INPUT_MAX_LINE + 8 * CHUNK)
            return -1;
        in->cap *= 2;
        in->buf = mt_xrealloc(in->buf, in->cap + 1);
    }
    ssize_t got = fill(in);
    if (got <= 0) {
        in->eof = 1; /* on error the message stays in in->err */
        return 1;    /* one more look: hand out what is buffered */
    }
    in->end += (size_t)got;
    return 1;
}

/* chunk_direct - the plain-file path of mt_input_chunk: read straight into
 * out, after the partial line left from the last chunk, and put back only
 * what follows the last line end.  Saves copying every byte once more.
 * Returns the bytes handed out, or 0 to let the general path decide (end
 * of input, an error, or no line end in the whole read). */
static size_t chunk_direct(mt_input *in, mt_buf *out, size_t want)
{
    size_t base = out->len, left = in->end - in->start;
    mt_buf_reserve(out, want + 1);
    memcpy(out->data + base, in->buf + in->start, left);
    ssize_t got = read_some(in, out->data + base + left, want - left);
    if (got <= 0) {
        if (got == 0)
            in->eof = 1;
        return 0; /* the partial line is still in in->buf */
    }
    char *s = out->data + base;
    size_t n = left + (size_t)got;
    const char *nl = memrchr(s, '\n', n);
    if (nl == NULL) { /* one long line: back to the buffer, the general path cuts it */
        in->start = 0;
        in->end = n;
        memcpy(in->buf, s, n);
        return 0;
    }
    size_t take = (size_t)(nl - s) + 1;
    memcpy(in->buf, s + take, n - take);
    in->start = 0;
    in->end = n - take;
    out->len = base + take;
    out->data[out->len] = '\0';
    in->bytes += take;
    return take;
}

size_t mt_input_chunk(mt_input *in, mt_buf *out, size_t want)
{
    if (in->comp == COMP_NONE && !in->eof && !in->err[0] && in->zstart >= in->zend && want <= in->cap &&
        in->end - in->start < want / 2) {
        size_t took = chunk_direct(in, out, want);
        if (took)
            return took;
    }
    for (;;) {
        char *s = in->buf + in->start;
        size_t avail = in->end - in->start;
        size_t take = 0;
        if (avail) {
            /* whole lines up to `want`, else through the first line end */
            const char *nl = memrchr(s, '\n', avail < want ? avail : want);
            if (nl == NULL && avail > want)
                nl = memchr(s + want, '\n', avail - want);
            if (nl)
                take = (size_t)(nl - s) + 1;
            else if (in->eof)
                take = avail; /* a last line without its LF */
        }
        if (take == 0) {
            int r = more(in);
            if (r > 0)
                continue;
            if (r == 0)
                return 0;
            /* no line end in the whole (grown) buffer: hand it out */
            s = in->buf + in->start;
            take = in->end - in->start;
            in->long_lines++;
        }
        mt_buf_append(out, s, take);
        in->start += take;
        in->bytes += take;
        return take;
    }
}

const char *mt_input_error(const mt_input *in)
{
    return in->err[0] ? in->err : NULL;
}

uint64_t mt_input_bytes(const mt_input *in)
{
    return in->bytes;
}

uint64_t mt_input_raw_bytes(const mt_input *in)
{
    return in->raw;
}

uint64_t mt_input_size(const mt_input *in)
{
    return in->size;
}

int64_t mt_input_mtime(const mt_input *in)
{
    return in->mtime;
}

void mt_input_close(mt_input *in)
{
    if (in == NULL)
        return;
    if (in->fd > 0)
        close(in->fd);
    if (in->gz_live)
        inflateEnd(&in->gz);
    if (in->zs)
        ZSTD_freeDStream(in->zs);
    free(in->zbuf);
    free(in->buf);
    free(in->name);
    free(in);
}

/* rotation key: base name without compression suffix and rotation number;
 * rank: larger is newer */
typedef struct rot {
    const char *path;
    char base[512];
    long long rank;
    int pos;
} rot;

static void rot_key(rot *r)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", r->path);
    size_t n = strlen(tmp);
    static const char *const exts[] = {".gz", ".zst", ".zstd", NULL};
    for (int i = 0; exts[i]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcmp(tmp + n - e, exts[i]) == 0) {
            tmp[n - e] = '\0';
            n -= e;
            break;
        }
    }
    r->rank = 0x7fffffffffffffffLL; /* the live file is newest */
    /* mail.log.N: N counts back in time */
    size_t k = n;
    while (k > 0 && tmp[k - 1] >= '0' && tmp[k - 1] <= '9')
        k--;
    if (k < n && k > 0 && (tmp[k - 1] == '.' || tmp[k - 1] == '-')) {
        long long v = strtoll(tmp + k, NULL, 10);
        if (tmp[k - 1] == '-' && n - k >= 8)
            r->rank = v; /* mail.log-YYYYMMDD: dates count forward */
        else
            r->rank = 0x7fffffffffffffffLL - 1 - v;
        tmp[k - 1] = '\0';
    }
    snprintf(r->base, sizeof r->base, "%s", tmp);
}

static int rot_cmp(const void *a, const void *b)
{
    const rot *x = a, *y = b;
    int c = strcmp(x->base, y->base);
    if (c != 0) {
        /* different logs: keep the order the user gave, by first appearance */
        return x->pos - y->pos;
    }
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->pos - y->pos;
}

void mt_input_order(const char **paths, int n)
{
    if (n < 2)
        return;
    rot *r = mt_xcalloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++) {
        r[i].path = paths[i];
        rot_key(&r[i]);
    }
    /* group each log's files at the position of its first file */
    for (int i = 0; i < n; i++) {
        r[i].pos = i;
        for (int j = 0; j < i; j++)
            if (strcmp(r[j].base, r[i].base) == 0) {
                r[i].pos = r[j].pos;
                break;
            }
    }
    qsort(r, (size_t)n, sizeof *r, rot_cmp);
    for (int i = 0; i < n; i++)
        paths[i] = r[i].path;
    free(r);
}
