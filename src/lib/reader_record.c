/*
 * reader_record.c - what the whole-attempt readers share: the arena, CSV
 * splitting, replies and times, the per-input context, and the generic
 * CSV / NDJSON export readers (SPEC §3 names).
 */
#include "reader_record.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reader_postfix.h"
#include "timeparse.h"

#define MAX_COLS 128

mt_slice mt_arena_put(mt_arena *a, const char *s, size_t n)
{
    if (a->cap - a->len < n + 1)
        return MT_SLICE_NULL;
    char *d = a->p + a->len;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    a->len += n + 1;
    return (mt_slice){d, n};
}

void mt_xrec_clear(mt_xrec *r)
{
    memset(r, 0, sizeof *r);
    r->size = -1;
    r->delay = -1;
    r->status = MT_STATUS_DEFERRED;
}

int mt_csv_split(const char *line, size_t n, mt_slice *out, int max, mt_arena *a)
{
    int nf = 0;
    size_t k = 0;
    for (;;) {
        if (nf == max)
            return nf;
        if (k < n && line[k] == '"') {
            /* quoted: decode "" into the arena */
            size_t start = a->len;
            if (a->cap - a->len < n - k + 1)
                return -1;
            k++;
            for (;;) {
                if (k >= n)
                    return -1; /* unclosed: a field with a newline, or a cut line */
                if (line[k] == '"') {
                    if (k + 1 < n && line[k + 1] == '"') {
                        a->p[a->len++] = '"';
                        k += 2;
                        continue;
                    }
                    k++;
                    break;
                }
                a->p[a->len++] = line[k++];
            }
            out[nf++] = (mt_slice){a->p + start, a->len - start};
            a->p[a->len++] = '\0';
            if (k < n && line[k] != ',')
                return -1;
        } else {
            size_t s = k;
            while (k < n && line[k] != ',')
                k++;
            out[nf++] = (mt_slice){line + s, k - s};
        }
        if (k >= n)
            return nf;
        k++; /* the comma */
    }
}

void mt_xrec_set_reply(mt_xrec *r, mt_slice text)
{
    while (text.len &&
           (text.p[text.len - 1] == ' ' || text.p[text.len - 1] == '\r' || text.p[text.len - 1] == '\n'))
        text.len--;
    r->reply = text;
    char enh[16];
    int code = mt_reply_code_enhanced(text.p, text.len, enh);
    if (code) {
        r->reply_code = code;
        if (enh[0])
            memcpy(r->enhanced, enh, sizeof enh);
    }
}

int mt_xrec_time(mt_slice s, int64_t *t, int32_t *usec)
{
    while (s.len && s.p[0] == ' ') {
        s.p++;
        s.len--;
    }
    if (s.len == 0)
        return 0;
    /* all digits (maybe a fraction): epoch seconds */
    size_t i = 0;
    int64_t v = 0;
    while (i < s.len && i < 18 && s.p[i] >= '0' && s.p[i] <= '9')
        v = v * 10 + (s.p[i++] - '0');
    if (i > 0 && (i == s.len || s.p[i] == '.') && i <= 12) {
        int32_t us = 0, scale = 100000;
        if (i < s.len)
            for (i++; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, scale /= 10)
                us += (s.p[i] - '0') * scale;
        if (i != s.len)
            return 0;
        *t = v;
        *usec = us;
        return 1;
    }
    mt_yearctx yc;
    memset(&yc, 0, sizeof yc);
    yc.year = 2000; /* only classic stamps read it; these are RFC 3339-like */
    return s.p[0] >= '0' && s.p[0] <= '9' && mt_time_parse(s.p, s.len, &yc, t, usec) > 0;
}

/* --- generic exports ---------------------------------------------------- */

enum {
    F_NONE = -1,
    F_TIMESTAMP = 0,
    F_SOURCE,
    F_QUEUE_ID,
    F_MESSAGE_ID,
    F_ROUTE,
    F_SENDING_IP,
    F_HELO,
    F_MAIL_FROM_DOMAIN,
    F_HEADER_FROM_DOMAIN,
    F_RECIPIENT,
    F_RECIPIENT_DOMAIN,
    F_PROVIDER,
    F_MX_HOST,
    F_MX_IP,
    F_STAGE,
    F_CODE,
    F_ENHANCED,
    F_REPLY,
    F_CATEGORY,
    F_TEMPLATE,
    F_SIZE,
    F_ATTACHMENTS,
    F_RETRY,
    F_DELAY,
    F_FINAL,
    F_COUNT
};

int mt_export_field(const char *name, size_t n, const mt_rec_map *map, int nmap)
{
    for (int i = 0; i < nmap; i++)
        if (map[i].from_len == n && strncasecmp(map[i].from, name, n) == 0) {
            name = map[i].to;
            n = strlen(name);
            break;
        }
    for (int i = 0; i < mt_record_nfields && i < F_COUNT; i++)
        if (strlen(mt_record_fields[i]) == n && strncasecmp(mt_record_fields[i], name, n) == 0)
            return i;
    return F_NONE;
}

static int64_t to_int(mt_slice v, int *ok)
{
    int64_t x = 0;
    size_t i = 0;
    *ok = 0;
    while (i < v.len && v.p[i] == ' ')
        i++;
    size_t s = i;
    while (i < v.len && i - s < 18 && v.p[i] >= '0' && v.p[i] <= '9')
        x = x * 10 + (v.p[i++] - '0');
    if (i == s)
        return 0;
    if (i < v.len && v.p[i] == '.') /* "12.0": whole part */
        for (i++; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++)
            ;
    *ok = i == v.len;
    return x;
}

int mt_export_set(mt_xrec *r, int field, mt_slice v, mt_arena *a, const char **why)
{
    (void)a;
    if (v.len == 0)
        return 0;
    int ok;
    switch (field) {
    case F_TIMESTAMP:
        if (!mt_xrec_time(v, &r->time, &r->usec)) {
            *why = "export: timestamp is neither RFC 3339 nor epoch seconds";
            return -1;
        }
        break;
    case F_QUEUE_ID:
        r->queue_id = v;
        break;
    case F_MESSAGE_ID:
        if (v.len >= 2 && v.p[0] == '<' && v.p[v.len - 1] == '>') {
            v.p++;
            v.len -= 2;
        }
        r->message_id = v;
        break;
    case F_ROUTE:
        r->route = v;
        break;
    case F_SENDING_IP:
        r->sending_ip = v;
        break;
    case F_HELO:
        r->helo_name = v;
        break;
    case F_MAIL_FROM_DOMAIN: {
        /* the joiner reads an address: "@domain" says the domain only */
        mt_slice at = mt_arena_put(a, "@", 1);
        if (at.p) {
            a->len--;
            if (mt_arena_put(a, v.p, v.len).p)
                r->mail_from = (mt_slice){at.p, v.len + 1};
        }
        break;
    }
    case F_HEADER_FROM_DOMAIN:
        r->header_from_domain = v;
        break;
    case F_RECIPIENT:
        r->recipient = v;
        break;
    case F_RECIPIENT_DOMAIN:
        if (r->recipient.len == 0) {
            /* only the domain: "@domain" keeps the domain, says no more */
            mt_slice at = mt_arena_put(a, "@", 1);
            if (at.p == NULL)
                return 0;
            a->len--; /* drop the NUL: the domain follows */
            mt_slice d = mt_arena_put(a, v.p, v.len);
            if (d.p)
                r->recipient = (mt_slice){at.p, v.len + 1};
        }
        break;
    case F_MX_HOST:
        r->mx_host = v;
        break;
    case F_MX_IP:
        r->mx_ip = v;
        break;
    case F_STAGE: {
        int s = mt_stage_from_name(v.p, v.len);
        if (s < 0) {
            *why = "export: unknown smtp_stage";
            return -1;
        }
        r->stage = (mt_stage)s;
        break;
    }
    case F_CODE: {
        int64_t c = to_int(v, &ok);
        if (!ok || c < 200 || c > 599) {
            *why = "export: smtp_reply_code is not a reply code";
            return -1;
        }
        r->reply_code = (int)c;
        break;
    }
    case F_ENHANCED:
        if (v.len < sizeof r->enhanced) {
            memcpy(r->enhanced, v.p, v.len);
            r->enhanced[v.len] = '\0';
        }
        break;
    case F_REPLY:
        r->reply = v;
        break;
    case F_TEMPLATE:
        r->template_id = v;
        break;
    case F_SIZE: {
        int64_t s = to_int(v, &ok);
        if (!ok) {
            *why = "export: message_size_bytes is not a number";
            return -1;
        }
        r->size = s;
        break;
    }
    case F_ATTACHMENTS:
        r->attachment_types = v;
        break;
    case F_DELAY: {
        char tmp[32];
        if (v.len >= sizeof tmp) {
            *why = "export: delay_seconds is not a number";
            return -1;
        }
        memcpy(tmp, v.p, v.len);
        tmp[v.len] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        if (*end || mt_delay_checked(d) < 0) {
            *why = "export: delay_seconds is not a number";
            return -1;
        }
        r->delay = d;
        break;
    }
    case F_CATEGORY:
        /* "none": the attempt was accepted; says so when no code does */
        r->category_none = mt_slice_eq_cstr(v, "none") ? 1 : 2;
        break;
    case F_FINAL:
        if (mt_slice_eq_cstr(v, "expired"))
            r->expired = 1;
        else if (mt_slice_eq_cstr(v, "bounced"))
            r->final_bounced = 1;
        else if (!mt_slice_eq_cstr(v, "delivered") && !mt_slice_eq_cstr(v, "bounced") &&
                 !mt_slice_eq_cstr(v, "deferred")) {
            *why = "export: unknown final_queue_status";
            return -1;
        }
        break;
    default:
        /* source, provider, category, retry_count: ours to compute */
        break;
    }
    return 0;
}

void mt_export_finish(mt_xrec *r)
{
    /* the attempt's outcome from its reply code; a reply text alone may
     * still carry one */
    if (r->reply_code == 0 && r->reply.len) {
        char enh[16];
        int code = mt_reply_code_enhanced(r->reply.p, r->reply.len, enh);
        if (code) {
            r->reply_code = code;
            if (r->enhanced[0] == '\0' && enh[0])
                memcpy(r->enhanced, enh, sizeof enh);
        }
    }
    /* no code (local deliveries, connection failures): the category says
     * whether it was accepted, the final status whether a failure ended it */
    int sent = r->reply_code ? r->reply_code < 400 : r->category_none == 1;
    int failed = r->reply_code ? r->reply_code >= 500 : r->final_bounced;
    r->status = sent ? MT_STATUS_SENT : failed ? MT_STATUS_BOUNCED : MT_STATUS_DEFERRED;
}

/* --- the context ----------------------------------------------------------- */

struct mt_rec_ctx {
    mt_format format;
    int ncols;
    int field[MAX_COLS]; /* csv: the field of each column */
    mt_pmta_cols pmta;
    const mt_rec_map *map;
    int nmap;
};

static void note_unknown(mt_buf *unknown, const char *p, size_t n)
{
    if (unknown == NULL || unknown->len > 400)
        return;
    if (unknown->len)
        mt_buf_puts(unknown, ",");
    mt_buf_append(unknown, p, n);
}

mt_rec_ctx *mt_rec_ctx_new(mt_format f, const char *first, size_t n, const mt_rec_map *map, int nmap,
                           mt_buf *unknown, mt_buf *err)
{
    mt_rec_ctx *c = mt_xcalloc(1, sizeof *c);
    c->format = f;
    c->map = map;
    c->nmap = nmap;
    if (f == MT_FORMAT_CSV || f == MT_FORMAT_PMTA) {
        char *buf = mt_xmalloc(n + 1);
        mt_arena a = {buf, 0, n + 1};
        mt_slice cols[MAX_COLS];
        int nc = mt_csv_split(first, n, cols, MAX_COLS, &a);
        int have_rcpt = 0;
        if (nc > 0 && f == MT_FORMAT_PMTA) {
            have_rcpt = mt_pmta_header(cols, nc, &c->pmta, unknown);
        } else if (nc > 0) {
            c->ncols = nc;
            for (int i = 0; i < nc; i++) {
                mt_slice s = cols[i];
                while (s.len && s.p[0] == ' ') {
                    s.p++;
                    s.len--;
                }
                c->field[i] = mt_export_field(s.p, s.len, map, nmap);
                if (c->field[i] == F_NONE)
                    note_unknown(unknown, s.p, s.len);
                have_rcpt |= c->field[i] == F_RECIPIENT || c->field[i] == F_RECIPIENT_DOMAIN;
            }
        }
        free(buf);
        if (nc <= 0 || !have_rcpt) {
            mt_buf_printf(err, "the header row has no %s column (it has: %.*s)",
                          f == MT_FORMAT_PMTA ? "rcpt" : "recipient", (int)(n < 200 ? n : 200), first);
            free(c);
            return NULL;
        }
    } else if (f == MT_FORMAT_NDJSON) {
        json_error_t je;
        json_t *o = json_loadb(first, n, 0, &je);
        if (json_is_object(o)) {
            const char *key;
            json_t *v;
            json_object_foreach(o, key, v)
            {
                (void)v;
                if (mt_export_field(key, strlen(key), map, nmap) == F_NONE)
                    note_unknown(unknown, key, strlen(key));
            }
        }
        json_decref(o);
    }
    return c;
}

void mt_rec_ctx_free(mt_rec_ctx *c)
{
    free(c);
}

static int parse_ndjson(const mt_rec_ctx *c, const char *line, size_t n, mt_arena *a, mt_xrec *r,
                        const char **why)
{
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        *why = "ndjson: not a JSON object";
        return -1;
    }
    const char *key;
    json_t *v;
    int rc = 1;
    json_object_foreach(o, key, v)
    {
        int f = mt_export_field(key, strlen(key), c->map, c->nmap);
        if (f == F_NONE || json_is_null(v))
            continue;
        mt_slice s;
        char num[40];
        if (json_is_string(v)) {
            s = mt_arena_put(a, json_string_value(v), json_string_length(v));
        } else if (json_is_integer(v)) {
            int k = snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = mt_arena_put(a, num, (size_t)k);
        } else if (json_is_real(v)) {
            /* 1e300 would print 300 digits: no field takes such a number
             * (and num holds 39) */
            int k = snprintf(num, sizeof num, "%.6f", json_real_value(v));
            if (k < 0 || (size_t)k >= sizeof num) {
                *why = "ndjson: a number too large for its field";
                rc = -1;
                break;
            }
            s = mt_arena_put(a, num, (size_t)k);
        } else {
            continue;
        }
        if (s.p == NULL) {
            *why = "ndjson: record too large";
            rc = -1;
            break;
        }
        if (mt_export_set(r, f, s, a, why) < 0) {
            rc = -1;
            break;
        }
    }
    json_decref(o);
    if (rc > 0 && r->recipient.len == 0) {
        *why = "ndjson: no recipient";
        return -1;
    }
    return rc;
}

static int parse_csv(const mt_rec_ctx *c, const char *line, size_t n, mt_arena *a, mt_xrec *r,
                     const char **why)
{
    mt_slice f[MAX_COLS];
    int nf = mt_csv_split(line, n, f, MAX_COLS, a);
    if (nf < 0) {
        *why = "csv: unbalanced quotes";
        return -1;
    }
    /* the header again (files concatenated): nothing for the record */
    if (nf == c->ncols && nf > 0 && c->field[0] != F_NONE &&
        mt_export_field(f[0].p, f[0].len, c->map, c->nmap) == c->field[0] &&
        (c->ncols < 2 || mt_export_field(f[1].p, f[1].len, c->map, c->nmap) == c->field[1]))
        return 0;
    if (nf != c->ncols) {
        *why = "csv: number of fields differs from the header";
        return -1;
    }
    for (int i = 0; i < nf; i++)
        if (c->field[i] != F_NONE && mt_export_set(r, c->field[i], f[i], a, why) < 0)
            return -1;
    if (r->recipient.len == 0) {
        *why = "csv: no recipient";
        return -1;
    }
    return 1;
}

int mt_rec_parse(const mt_rec_ctx *c, const char *line, size_t n, mt_arena *a, mt_xrec *r, const char **why)
{
    mt_xrec_clear(r);
    *why = NULL;
    int rc;
    switch (c->format) {
    case MT_FORMAT_KUMO:
        return mt_kumo_parse(line, n, a, r, why);
    case MT_FORMAT_PMTA: {
        mt_slice f[MAX_COLS];
        int nf = mt_csv_split(line, n, f, MAX_COLS, a);
        if (nf < 0) {
            *why = "pmta: unbalanced quotes";
            return -1;
        }
        return mt_pmta_parse(&c->pmta, f, nf, a, r, why);
    }
    case MT_FORMAT_CSV:
        rc = parse_csv(c, line, n, a, r, why);
        break;
    case MT_FORMAT_NDJSON:
        rc = parse_ndjson(c, line, n, a, r, why);
        break;
    default:
        *why = "not a record format";
        return -1;
    }
    if (rc > 0)
        mt_export_finish(r);
    return rc;
}
