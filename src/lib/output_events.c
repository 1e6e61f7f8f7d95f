/*
 * output_events.c - NDJSON and CSV records.
 */
#include "output_events.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util.h"

#define FLUSH_AT (1u << 20)

struct mt_events_out {
    /* the last timestamp formatted: records of a message come in bursts */
    int64_t last_time;
    int32_t last_usec;
    char last_ts[40];
    FILE *fp;
    mt_events_format fmt;
    int show_recipients;
    uint64_t salt;
    int failed;
    mt_buf buf;
    const char *const *extra; /* extra field names after the SPEC ones */
    int nextra;
    /* JSON: each SPEC field's '{"name":' or ',"name":', made once */
    mt_buf keys;
    size_t *key_off;
};

static void flush(mt_events_out *o)
{
    if (o->buf.len && fwrite(o->buf.data, 1, o->buf.len, o->fp) != o->buf.len)
        o->failed = 1;
    mt_buf_reset(&o->buf);
}

mt_events_out *mt_events_out_new(FILE *fp, mt_events_format fmt, int show_recipients)
{
    return mt_events_out_new_extra(fp, fmt, show_recipients, NULL, 0);
}

mt_events_out *mt_events_out_new_extra(FILE *fp, mt_events_format fmt, int show_recipients,
                                       const char *const *extra, int nextra)
{
    mt_events_out *o = mt_xcalloc(1, sizeof *o);
    o->fp = fp;
    o->fmt = fmt;
    o->show_recipients = show_recipients;
    o->extra = extra;
    o->nextra = nextra;
    if (getrandom(&o->salt, sizeof o->salt, 0) != (ssize_t)sizeof o->salt)
        o->salt = (uint64_t)(uintptr_t)o ^ 0x9e3779b97f4a7c15ULL;
    mt_buf_init(&o->buf);
    mt_buf_reserve(&o->buf, FLUSH_AT + 65536);
    mt_buf_init(&o->keys);
    o->key_off = mt_xcalloc((size_t)mt_record_nfields + 1, sizeof *o->key_off);
    for (int i = 0; i < mt_record_nfields; i++) {
        o->key_off[i] = o->keys.len;
        mt_buf_puts(&o->keys, i ? ",\"" : "{\"");
        mt_buf_puts(&o->keys, mt_record_fields[i]);
        mt_buf_puts(&o->keys, "\":");
    }
    o->key_off[mt_record_nfields] = o->keys.len;
    if (fmt == MT_EVENTS_CSV) {
        for (int i = 0; i < mt_record_nfields; i++) {
            if (i)
                mt_buf_putc(&o->buf, ',');
            mt_buf_puts(&o->buf, mt_record_fields[i]);
        }
        for (int i = 0; i < nextra; i++) {
            mt_buf_putc(&o->buf, ',');
            mt_buf_puts(&o->buf, extra[i]);
        }
        mt_buf_putc(&o->buf, '\n');
    }
    return o;
}

void mt_recipient_redact(const char *addr, uint64_t salt, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    const char *at = strrchr(addr, '@');
    size_t ln = at ? (size_t)(at - addr) : strlen(addr);
    uint64_t h = mt_hash(addr, ln) ^ salt;
    h = mt_hash(&h, sizeof h);
    const char *dom = at ? at + 1 : "";
    size_t dl = strlen(dom);
    if (outlen < 12 + dl) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    out[0] = 'x';
    out[1] = '-';
    for (int i = 0; i < 8; i++)
        out[2 + i] = hex[(h >> (28 - 4 * i)) & 15];
    out[10] = '@';
    memcpy(out + 11, dom, dl + 1);
}

/* one field, by kind */
/* put_key - field i's JSON key with its lead-in ('{"name":' or ',"name":') */
static void put_key(mt_events_out *o, int i)
{
    mt_buf_append(&o->buf, o->keys.data + o->key_off[i], o->key_off[i + 1] - o->key_off[i]);
}

static void put_str(mt_events_out *o, int i, const char *s)
{
    mt_buf *b = &o->buf;
    if (o->fmt == MT_EVENTS_CSV) {
        if (i)
            mt_buf_putc(b, ',');
        if (s)
            mt_buf_put_csv_field(b, s, strlen(s));
        return;
    }
    put_key(o, i);
    if (s)
        mt_buf_put_json_str(b, s, strlen(s));
    else
        mt_buf_puts(b, "null");
}

static void put_num(mt_events_out *o, int i, const char *num)
{
    mt_buf *b = &o->buf;
    if (o->fmt == MT_EVENTS_CSV) {
        if (i)
            mt_buf_putc(b, ',');
        if (num)
            mt_buf_puts(b, num);
        return;
    }
    put_key(o, i);
    mt_buf_puts(b, num ? num : "null");
}

static void fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

static void write_fields(mt_events_out *o, const mt_attempt *a)
{
    char src[4200], rcpt[600], code[8], size[24], retry[16], delay[32];
    if (a->time != o->last_time || a->time_usec != o->last_usec || o->last_ts[0] == '\0') {
        mt_time_format(a->time, a->time_usec, o->last_ts);
        o->last_time = a->time;
        o->last_usec = a->time_usec;
    }
    const char *ts = a->time ? o->last_ts : NULL; /* 0: the input gives no time (transcripts) */
    const char *file = a->source_file ? a->source_file : "";
    size_t fl = strlen(file);
    if (fl > sizeof src - 32)
        fl = sizeof src - 32;
    memcpy(src, file, fl); // NOLINT(bugprone-not-null-terminated-result): ':' and a number follow
    src[fl] = ':';
    fmt_u64(src + fl + 1, a->source_line);
    const char *recipient = a->recipient;
    if (recipient && recipient[0] == '\0')
        recipient = NULL; /* the log names none (Haraka's message-level lines) */
    if (recipient && !o->show_recipients) {
        mt_recipient_redact(recipient, o->salt, rcpt, sizeof rcpt);
        recipient = rcpt;
    }
    int f = 0;
    put_str(o, f++, ts);
    put_str(o, f++, src);
    put_str(o, f++, a->queue_id);
    put_str(o, f++, a->message_id);
    put_str(o, f++, a->route);
    put_str(o, f++, a->sending_ip);
    put_str(o, f++, a->helo_name);
    put_str(o, f++, a->mail_from_domain);
    put_str(o, f++, a->header_from_domain);
    put_str(o, f++, recipient);
    put_str(o, f++, a->recipient_domain);
    put_str(o, f++, a->provider);
    put_str(o, f++, a->mx_host);
    put_str(o, f++, a->mx_ip);
    put_str(o, f++, mt_stage_name(a->stage));
    if (a->reply_code)
        fmt_u64(code, (uint64_t)a->reply_code);
    put_num(o, f++, a->reply_code ? code : NULL);
    put_str(o, f++, a->enhanced[0] ? a->enhanced : NULL);
    put_str(o, f++, a->reply_text);
    put_str(o, f++, mt_category_name(a->category));
    put_str(o, f++, a->message_template_id);
    if (a->message_size >= 0)
        fmt_u64(size, (uint64_t)a->message_size);
    put_num(o, f++, a->message_size >= 0 ? size : NULL);
    put_str(o, f++, a->attachment_types);
    fmt_u64(retry, (uint64_t)a->retry_count);
    put_num(o, f++, retry);
    int has_delay = mt_delay_checked(a->delay_seconds) >= 0; /* the readers keep no other */
    if (has_delay) {
        /* hundredths, as Postfix logs them, without trailing zeros */
        uint64_t c = (uint64_t)(a->delay_seconds * 100 + 0.5);
        fmt_u64(delay, c / 100);
        if (c % 100) {
            size_t dl = strlen(delay);
            delay[dl++] = '.';
            delay[dl++] = (char)('0' + c % 100 / 10);
            if (c % 10)
                delay[dl++] = (char)('0' + c % 10);
            delay[dl] = '\0';
        }
    }
    put_num(o, f++, has_delay ? delay : NULL);
    put_str(o, f++, mt_final_name(a->final_status));
}

void mt_events_write(const mt_attempt *a, void *arg)
{
    mt_events_write_extra(a, NULL, arg);
}

void mt_events_write_extra(const mt_attempt *a, const char *const *values, void *arg)
{
    mt_events_out *o = arg;
    write_fields(o, a);
    for (int i = 0; values && i < o->nextra; i++) {
        mt_buf *b = &o->buf;
        const char *v = values[i];
        if (o->fmt == MT_EVENTS_CSV) {
            mt_buf_putc(b, ',');
            if (v)
                mt_buf_put_csv_field(b, v, strlen(v));
            continue;
        }
        mt_buf_puts(b, ",\"");
        mt_buf_puts(b, o->extra[i]);
        mt_buf_puts(b, "\":");
        if (v)
            mt_buf_put_json_str(b, v, strlen(v));
        else
            mt_buf_puts(b, "null");
    }
    mt_buf_puts(&o->buf, o->fmt == MT_EVENTS_CSV ? "\n" : "}\n");
    if (o->buf.len >= FLUSH_AT)
        flush(o);
}

int mt_events_out_close(mt_events_out *o)
{
    flush(o);
    if (fflush(o->fp) != 0)
        o->failed = 1;
    int rc = o->failed ? -1 : 0;
    mt_buf_free(&o->buf);
    mt_buf_free(&o->keys);
    free(o->key_off);
    free(o);
    return rc;
}
