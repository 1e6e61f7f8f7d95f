/*
 * fuzz_records.c - libFuzzer target for the whole-attempt readers
 * (PowerMTA CSV, KumoMTA JSON, generic CSV / NDJSON exports) and format
 * detection.  The first byte picks the format; the first line of the rest
 * is the input's first line (the CSV header), every line after it is
 * parsed in a buffer of exactly its length, so AddressSanitizer catches a
 * read past the end.
 */
#include "fuzz_common.h"
#include "reader_record.h"

static void smtpd_line(const char *line, size_t n, void *arg)
{
    mt_xrec r;
    const char *why;
    if (mt_opensmtpd_parse(line, n, arg, &r, &why) == 1 &&
        (r.recipient.p < line || r.recipient.p + r.recipient.len > line + n))
        abort();
}

static void rec_line(const char *line, size_t n, void *arg)
{
    size_t cap = n * 3 + 256;
    char *mem = malloc(cap);
    mt_arena a = {mem, 0, cap};
    mt_xrec r;
    const char *why;
    if (mt_rec_parse(arg, line, n, &a, &r, &why) > 0) {
        /* every slice must lie in the line or the arena */
        const mt_slice *s[] = {&r.queue_id,  &r.message_id,  &r.route,     &r.sending_ip,
                               &r.mail_from, &r.recipient,   &r.mx_host,   &r.mx_ip,
                               &r.reply,     &r.template_id, &r.helo_name, &r.attachment_types};
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++) {
            if (s[k]->len == 0)
                continue;
            int in_line = s[k]->p >= line && s[k]->p + s[k]->len <= line + n;
            int in_arena = s[k]->p >= mem && s[k]->p + s[k]->len <= mem + a.len;
            if (!in_line && !in_arena)
                abort();
        }
    }
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const mt_format fmts[] = {MT_FORMAT_PMTA, MT_FORMAT_KUMO, MT_FORMAT_CSV, MT_FORMAT_NDJSON,
                                     MT_FORMAT_OPENSMTPD};
    mt_format f = fmts[data[0] % 5];
    static const mt_rec_map map[] = {{"email", 5, "recipient"}, {"when", 4, "timestamp"}};
    data++;
    size--;
    fuzz_detect(data, size);
    if (f == MT_FORMAT_OPENSMTPD) {
        /* syslog lines: no header, year inference across lines */
        mt_yearctx yc;
        mt_yearctx_init(&yc, 2026, 1);
        fuzz_lines(data, size, 0, smtpd_line, &yc);
        return 0;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hn = nl ? (size_t)(nl - data) : size;
    char *header = malloc(hn ? hn : 1);
    memcpy(header, data, hn);
    mt_buf unknown, err;
    mt_buf_init(&unknown);
    mt_buf_init(&err);
    mt_rec_ctx *c = mt_rec_ctx_new(f, header, hn, map, 2, &unknown, &err);
    free(header);
    mt_buf_free(&unknown);
    mt_buf_free(&err);
    if (c == NULL)
        return 0;
    fuzz_lines(data, size, nl ? hn + 1 : size, rec_line, c);
    mt_rec_ctx_free(c);
    return 0;
}
