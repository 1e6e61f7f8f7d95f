/*
 * msgmeta.c - load the --messages CSV export.
 */
#include "msgmeta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

enum { C_MSGID, C_QID, C_TEMPLATE, C_HFROM, C_ATYPES, C_SIZE, C_MFROM, C_N };

static const char *const colnames[C_N] = {"message_id",         "queue_id",         "message_template_id",
                                          "header_from_domain", "attachment_types", "message_size_bytes",
                                          "mail_from_domain"};

typedef struct row {
    mt_msgmeta_row r;
    char *strings; /* the row's values, one allocation */
} row;

struct mt_msgmeta {
    mt_strmap *by_msgid, *by_qid;
    row **rows;
    size_t n, cap;
    mt_buf ignored;
};

/* csv_fields - split one CSV record (RFC 4180: quotes, doubled quotes,
 * commas and line ends inside quotes) starting at *pos in text; fields
 * are written NUL-terminated into out (same size as the record) and
 * pointed to by f.  Returns the number of fields, -1 on an unterminated
 * quote. */
static int csv_fields(const char *text, size_t len, size_t *pos, char *out, char **f, int max)
{
    size_t i = *pos, o = 0;
    int n = 0;
    f[n++] = out;
    int quoted = 0;
    for (;;) {
        if (i >= len) {
            if (quoted)
                return -1;
            break;
        }
        char c = text[i++];
        if (quoted) {
            if (c == '"') {
                if (i < len && text[i] == '"') {
                    out[o++] = '"';
                    i++;
                } else {
                    quoted = 0;
                }
            } else {
                out[o++] = c;
            }
            continue;
        }
        if (c == '"') {
            quoted = 1;
        } else if (c == ',') {
            out[o++] = '\0';
            if (n < max)
                f[n++] = out + o;
        } else if (c == '\n') {
            break;
        } else if (c == '\r' && i < len && text[i] == '\n') {
            i++;
            break;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    *pos = i;
    return n;
}

static char *strip_angle(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        s[n - 1] = '\0';
        return s + 1;
    }
    return s;
}

mt_msgmeta *mt_msgmeta_load(const char *path, mt_buf *err, const char **ignored)
{
    *ignored = NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        mt_buf_printf(err, "cannot open messages file %s: %s", path, strerror(errno));
        return NULL;
    }
    mt_buf text;
    mt_buf_init(&text);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        mt_buf_append(&text, chunk, got);
    int rerr = ferror(fp);
    fclose(fp);
    if (rerr) {
        mt_buf_printf(err, "%s: read error", path);
        mt_buf_free(&text);
        return NULL;
    }
    mt_msgmeta *m = mt_msgmeta_parse(text.data ? text.data : "", text.len, path, err, ignored);
    mt_buf_free(&text);
    return m;
}

mt_msgmeta *mt_msgmeta_parse(const char *data, size_t len, const char *path, mt_buf *err,
                             const char **ignored)
{
    *ignored = NULL;
    mt_msgmeta *m = mt_xcalloc(1, sizeof *m);
    m->by_msgid = mt_strmap_new(0);
    m->by_qid = mt_strmap_new(0);
    mt_buf_init(&m->ignored);
    size_t pos = 0;
    char *scratch = mt_xmalloc(len + 1);
    char *f[256];
    int map[256];
    int nf = len ? csv_fields(data, len, &pos, scratch, f, 256) : 0;
    int have_key = 0;
    for (int i = 0; i < nf; i++) {
        map[i] = -1;
        for (int c = 0; c < C_N; c++)
            if (strcmp(f[i], colnames[c]) == 0)
                map[i] = c;
        if (map[i] == C_MSGID || map[i] == C_QID)
            have_key = 1;
        if (map[i] < 0 && f[i][0]) {
            if (m->ignored.len)
                mt_buf_putc(&m->ignored, ',');
            mt_buf_puts(&m->ignored, f[i]);
        }
    }
    if (!have_key) {
        mt_buf_printf(err, "%s: the header row names neither message_id nor queue_id", path);
        goto fail;
    }
    int line = 1;
    while (pos < len) {
        line++;
        int n = csv_fields(data, len, &pos, scratch, f, 256);
        if (n < 0) {
            mt_buf_printf(err, "%s:%d: a quoted field is not closed", path, line);
            goto fail;
        }
        if (n == 1 && f[0][0] == '\0')
            continue; /* blank line */
        /* copy the values this row keeps into one allocation */
        size_t need = 0;
        for (int i = 0; i < n && i < nf; i++)
            if (map[i] >= 0)
                need += strlen(f[i]) + 1;
        row *r = mt_xcalloc(1, sizeof *r);
        r->strings = mt_xmalloc(need + 1);
        r->r.size = -1;
        char *w = r->strings;
        const char *msgid = NULL, *qid = NULL;
        for (int i = 0; i < n && i < nf; i++) {
            if (map[i] < 0 || f[i][0] == '\0')
                continue;
            char *v = w;
            strcpy(w, f[i]);
            w += strlen(f[i]) + 1;
            switch (map[i]) {
            case C_MSGID:
                msgid = strip_angle(v);
                break;
            case C_QID:
                qid = v;
                break;
            case C_TEMPLATE:
                r->r.template_id = v;
                break;
            case C_HFROM:
                mt_lower_ascii(v, strlen(v));
                r->r.header_from_domain = v;
                break;
            case C_ATYPES:
                r->r.attachment_types = v;
                break;
            case C_MFROM:
                mt_lower_ascii(v, strlen(v));
                r->r.mail_from_domain = v;
                break;
            case C_SIZE: {
                char *end;
                long long sz = strtoll(v, &end, 10);
                if (*end || sz < 0) {
                    mt_buf_printf(err, "%s:%d: message_size_bytes '%s' is not a number", path, line, v);
                    free(r->strings);
                    free(r);
                    goto fail;
                }
                r->r.size = sz;
                break;
            }
            default:
                break;
            }
        }
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 256;
            m->rows = mt_xrealloc(m->rows, m->cap * sizeof *m->rows);
        }
        m->rows[m->n++] = r;
        if (msgid)
            mt_strmap_put(m->by_msgid, msgid, strlen(msgid), r);
        if (qid)
            mt_strmap_put(m->by_qid, qid, strlen(qid), r);
    }
    free(scratch);
    *ignored = m->ignored.len ? m->ignored.data : NULL;
    return m;
fail:
    free(scratch);
    mt_msgmeta_free(m);
    return NULL;
}

void mt_msgmeta_free(mt_msgmeta *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->rows[i]->strings);
        free(m->rows[i]);
    }
    free(m->rows);
    mt_strmap_free(m->by_msgid);
    mt_strmap_free(m->by_qid);
    mt_buf_free(&m->ignored);
    free(m);
}

const mt_msgmeta_row *mt_msgmeta_find(const mt_msgmeta *m, const char *message_id, const char *queue_id)
{
    row *r = NULL;
    if (m == NULL)
        return NULL;
    if (message_id)
        r = mt_strmap_get(m->by_msgid, message_id, strlen(message_id));
    if (r == NULL && queue_id)
        r = mt_strmap_get(m->by_qid, queue_id, strlen(queue_id));
    return r ? &r->r : NULL;
}

size_t mt_msgmeta_count(const mt_msgmeta *m)
{
    return m ? m->n : 0;
}
