/*
 * mailbox.c - messages from files, mboxes, Maildirs and stdin.
 */
#include "mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int read_all(FILE *fp, mt_buf *out)
{
    char tmp[65536];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, fp)) > 0)
        mt_buf_append(out, tmp, r);
    return ferror(fp) ? -1 : 0;
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
    size_t start = 0;
    unsigned idx = 0;
    for (size_t i = 1; i <= n; i++) {
        int boundary = i == n;
        if (!boundary && i + 5 <= n && (buf[i - 1] == '\n' || buf[i - 1] == '\r') &&
            memcmp(buf + i, "From ", 5) == 0) {
            /* "From " after a blank line starts the next message */
            size_t k = i - 1;
            if (buf[k] == '\n' && k > 0 && buf[k - 1] == '\r')
                k--;
            boundary = k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r');
        }
        if (!boundary)
            continue;
        idx++;
        snprintf(label, sizeof label, "%s:%u", name, idx);
        st->messages++;
        fn(buf + start, i - start, label, arg);
        start = i;
    }
}

int mt_mailbox_read_file(const char *path, mt_mailbox_fn fn, void *arg, mt_mailbox_stats *st, mt_buf *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        mt_buf_reset(err);
        mt_buf_printf(err, "%s: %s", path, strerror(errno));
        st->unreadable++;
        return -1;
    }
    mt_buf b;
    mt_buf_init(&b);
    int rc = read_all(fp, &b);
    fclose(fp);
    if (rc < 0) {
        mt_buf_reset(err);
        mt_buf_printf(err, "%s: read error", path);
        st->unreadable++;
    } else {
        st->files++;
        if (b.len)
            mt_mailbox_split(b.data, b.len, path, fn, arg, st);
    }
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
