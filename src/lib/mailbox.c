/*
 * mailbox.c - messages from files, mboxes, Maildirs and stdin.
 */
#include "mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_all(FILE *fp, mt_buf *out)
{
    char tmp[65536];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, fp)) > 0)
        mt_buf_append(out, tmp, r);
    return ferror(fp) ? -1 : 0;
}

/* mbox_boundary - does a message of the mbox buf[0..n) start at i (a
 * "From " line after a blank line)?  buf[i..i+5) is "From ", i > 0. */
static int mbox_boundary(const char *buf, size_t i)
{
    if (buf[i - 1] != '\n' && buf[i - 1] != '\r')
        return 0;
    size_t k = i - 1;
    if (buf[k] == '\n' && k > 0 && buf[k - 1] == '\r')
        k--;
    return k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r');
}

void mt_mailbox_split(const char *buf, size_t n, const char *name, mt_mailbox_fn fn, void *arg,
                      mt_mailbox_stats *st)
{
    st->bytes += n;
    if (n < 5 || memcmp(buf, "From ", 5) != 0) {
        st->messages++;
        fn(buf, n, name, arg);
        return;
    }
    char label[4096];
    size_t start = 0, at = 1;
    unsigned idx = 0;
    for (;;) {
        /* the next "From " after a blank line, found with memmem */
        size_t next = n;
        while (at + 5 <= n) {
            const char *f = memmem(buf + at, n - at, "From ", 5);
            if (f == NULL)
                break;
            size_t i = (size_t)(f - buf);
            if (mbox_boundary(buf, i)) {
                next = i;
                break;
            }
            at = i + 1;
        }
        idx++;
        snprintf(label, sizeof label, "%s:%u", name, idx);
        st->messages++;
        fn(buf + start, next - start, label, arg);
        if (next >= n)
            break;
        start = next;
        at = next + 1;
    }
}

/* read_fd - the whole of fd into out (reset first); one read for a
 * regular file whose size fstat gives. */
static int read_fd(int fd, mt_buf *out)
{
    struct stat sb;
    mt_buf_reset(out);
    size_t want = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 ? (size_t)sb.st_size : 0;
    mt_buf_reserve(out, want ? want : 65536);
    for (;;) {
        if (out->cap - out->len < 4096 + 1)
            mt_buf_reserve(out, out->cap);
        ssize_t r = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        if (want && out->len == want)
            break; /* the size fstat gave: no read for the end */
    }
    out->data[out->len] = '\0';
    return 0;
}

int mt_mailbox_read_file_buf(const char *path, mt_buf *scratch, mt_mailbox_fn fn, void *arg,
                             mt_mailbox_stats *st, mt_buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mt_buf_reset(err);
        mt_buf_printf(err, "%s: %s", path, strerror(errno));
        st->unreadable++;
        return -1;
    }
    int rc = read_fd(fd, scratch);
    close(fd);
    if (rc < 0) {
        mt_buf_reset(err);
        mt_buf_printf(err, "%s: read error", path);
        st->unreadable++;
    } else {
        st->files++;
        if (scratch->len)
            mt_mailbox_split(scratch->data, scratch->len, path, fn, arg, st);
    }
    return rc;
}

int mt_mailbox_read_file(const char *path, mt_mailbox_fn fn, void *arg, mt_mailbox_stats *st, mt_buf *err)
{
    mt_buf b;
    mt_buf_init(&b);
    int rc = mt_mailbox_read_file_buf(path, &b, fn, arg, st, err);
    mt_buf_free(&b);
    return rc;
}

static int walk(const char *path, void (*file)(const char *path, void *arg), void *arg, mt_mailbox_stats *st,
                mt_buf *err, int depth)
{
    struct stat sb;
    if (stat(path, &sb) < 0) {
        mt_buf_reset(err);
        mt_buf_printf(err, "%s: %s", path, strerror(errno));
        st->unreadable++;
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        file(path, arg);
        return 0;
    }
    if (depth > 16)
        return 0;
    struct dirent **list;
    int k = scandir(path, &list, NULL, alphasort);
    if (k < 0) {
        mt_buf_reset(err);
        mt_buf_printf(err, "%s: %s", path, strerror(errno));
        st->unreadable++;
        return -1;
    }
    for (int i = 0; i < k; i++) {
        const char *nm = list[i]->d_name;
        if (nm[0] != '.' && strcmp(nm, "tmp") != 0) {
            size_t pl = strlen(path) + strlen(nm) + 2;
            char *sub = mt_xmalloc(pl);
            snprintf(sub, pl, "%s/%s", path, nm);
            if (list[i]->d_type == DT_REG)
                file(sub, arg); /* no stat: the directory says it is a file */
            else
                walk(sub, file, arg, st, err, depth + 1);
            free(sub);
        }
        free(list[i]);
    }
    free(list);
    return 0;
}

int mt_mailbox_list(const char *path, void (*file)(const char *path, void *arg), void *arg,
                    mt_mailbox_stats *st, mt_buf *err)
{
    return walk(path, file, arg, st, err, 0);
}

typedef struct read_ctx {
    mt_mailbox_fn fn;
    void *arg;
    mt_mailbox_stats *st;
    mt_buf *err;
} read_ctx;

static void read_one(const char *path, void *arg)
{
    read_ctx *c = arg;
    mt_mailbox_read_file(path, c->fn, c->arg, c->st, c->err);
}

int mt_mailbox_read(const char *path, mt_mailbox_fn fn, void *arg, mt_mailbox_stats *st, mt_buf *err)
{
    if (strcmp(path, "-") == 0) {
        mt_buf b;
        mt_buf_init(&b);
        int rc = read_all(stdin, &b);
        if (rc < 0) {
            mt_buf_reset(err);
            mt_buf_puts(err, "standard input: read error");
            st->unreadable++;
        } else {
            st->files++;
            if (b.len)
                mt_mailbox_split(b.data, b.len, "-", fn, arg, st);
        }
        mt_buf_free(&b);
        return rc;
    }
    read_ctx c = {fn, arg, st, err};
    return walk(path, read_one, &c, st, err, 0);
}
