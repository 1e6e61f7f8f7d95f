/*
 * msgcheck.c - the check list, its score and its two renderings.
 */
#include "msgcheck.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct mt_checklist {
    mt_check *v;
    size_t n, cap;
};

const char *mt_check_status_name(mt_check_status s)
{
    switch (s) {
    case MT_CHECK_PASS:
        return "pass";
    case MT_CHECK_WARN:
        return "warn";
    case MT_CHECK_FAIL:
        return "fail";
    case MT_CHECK_NA:
        return "n/a";
    }
    return "n/a";
}

mt_checklist *mt_checklist_new(void)
{
    return mt_xcalloc(1, sizeof(mt_checklist));
}

void mt_checklist_free(mt_checklist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].family);
        free(l->v[i].id);
        free(l->v[i].why);
    }
    free(l->v);
    free(l);
}

void mt_checklist_add(mt_checklist *l, const char *family, const char *id, mt_check_status st,
                      const char *fmt, ...)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = mt_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    mt_check *c = &l->v[l->n++];
    c->family = mt_xstrdup(family);
    c->id = mt_xstrdup(id);
    c->status = st;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): analyzer 14 bug
    va_end(ap);
    /* one line of why: no line breaks or control characters */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 32)
            *p = ' ';
    c->why = mt_xstrdup(buf);
}

size_t mt_checklist_count(const mt_checklist *l)
{
    return l->n;
}

const mt_check *mt_checklist_get(const mt_checklist *l, size_t i)
{
    return i < l->n ? &l->v[i] : NULL;
}

const mt_check *mt_checklist_find(const mt_checklist *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0)
            return &l->v[i];
    return NULL;
}

void mt_checklist_tally(const mt_checklist *l, size_t counts[4])
{
    counts[0] = counts[1] = counts[2] = counts[3] = 0;
    for (size_t i = 0; i < l->n; i++)
        counts[l->v[i].status]++;
}

int mt_checklist_score(const mt_checklist *l)
{
    size_t c[4];
    mt_checklist_tally(l, c);
    size_t applicable = c[MT_CHECK_PASS] + c[MT_CHECK_WARN] + c[MT_CHECK_FAIL];
    if (applicable == 0)
        return 100;
    /* twice the points to keep a warn's half in integers */
    size_t points = 2 * c[MT_CHECK_PASS] + c[MT_CHECK_WARN];
    return (int)((points * 100 + applicable) / (2 * applicable));
}

void mt_msgcheck_run(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    mt_msgcheck_structure(m, o, out);
    mt_msgcheck_headers(m, o, out);
    mt_msgcheck_charset(m, o, out);
    mt_msgcheck_size(m, o, out);
    mt_msgcheck_attachments(m, o, out);
    mt_msgcheck_links(m, o, out);
    mt_msgcheck_dkim(m, o, out);
}

void mt_checklist_json(const mt_checklist *l, const char *file, mt_buf *out)
{
    size_t c[4];
    mt_checklist_tally(l, c);
    mt_buf_puts(out, "{\"file\":");
    mt_buf_put_json_str(out, file, strlen(file));
    mt_buf_printf(
        out, ",\"score\":%d,\"counts\":{\"pass\":%zu,\"warn\":%zu,\"fail\":%zu,\"n/a\":%zu},\"checks\":[",
        mt_checklist_score(l), c[0], c[1], c[2], c[3]);
    for (size_t i = 0; i < l->n; i++) {
        const mt_check *k = &l->v[i];
        mt_buf_printf(out, "%s{\"n\":%zu,\"id\":", i ? "," : "", i + 1);
        mt_buf_put_json_str(out, k->id, strlen(k->id));
        mt_buf_puts(out, ",\"family\":");
        mt_buf_put_json_str(out, k->family, strlen(k->family));
        mt_buf_printf(out, ",\"status\":\"%s\",\"why\":", mt_check_status_name(k->status));
        mt_buf_put_json_str(out, k->why, strlen(k->why));
        mt_buf_putc(out, '}');
    }
    mt_buf_puts(out, "]}\n");
}

void mt_checklist_text(const mt_checklist *l, const char *file, mt_buf *out)
{
    size_t c[4];
    mt_checklist_tally(l, c);
    mt_buf_printf(out, "%s\n", file);
    const char *fam = "";
    for (size_t i = 0; i < l->n; i++) {
        const mt_check *k = &l->v[i];
        if (strcmp(fam, k->family) != 0) {
            mt_buf_printf(out, "\n%s\n", k->family);
            fam = k->family;
        }
        mt_buf_printf(out, "%4zu. %-4s  %-28s %s\n", i + 1, mt_check_status_name(k->status), k->id, k->why);
    }
    mt_buf_printf(out, "\nscore %d/100: %zu pass, %zu warn, %zu fail, %zu n/a\n", mt_checklist_score(l), c[0],
                  c[1], c[2], c[3]);
}
