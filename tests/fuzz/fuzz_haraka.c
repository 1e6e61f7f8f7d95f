/*
 * fuzz_haraka.c - libFuzzer target for Haraka's log reader
 * (reader_haraka.c) and format detection.  Every line is parsed from a
 * malloc'd buffer of exactly its length; the buffers are kept until the
 * input ends because the reader's per-uuid context points into earlier
 * lines (as scan.c's chunks do), so AddressSanitizer catches a read past
 * a line's end or through a slice the context should not have kept.
 * Every slice of a record must lie in one of the lines read so far.
 */
#include "fuzz_common.h"
#include "reader_record.h"

typedef struct held {
    char **line;
    size_t *len;
    size_t n, cap;
} held;

static int in_some_line(const held *h, mt_slice s)
{
    if (s.len == 0)
        return 1;
    for (size_t i = 0; i < h->n; i++)
        if (s.p >= h->line[i] && s.p + s.len <= h->line[i] + h->len[i])
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_detect(data, size);
    mt_haraka_ctx *c = malloc(sizeof *c);
    mt_haraka_ctx_init(c);
    mt_yearctx yc;
    mt_yearctx_init(&yc, 2026, 1);
    held h = {NULL, NULL, 0, 0};
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        size_t n = i - start;
        char *line = malloc(n ? n : 1);
        memcpy(line, data + start, n);
        start = i + 1;
        if (h.n == h.cap) {
            h.cap = h.cap ? h.cap * 2 : 16;
            h.line = realloc(h.line, h.cap * sizeof *h.line);
            h.len = realloc(h.len, h.cap * sizeof *h.len);
        }
        h.line[h.n] = line;
        h.len[h.n++] = n;
        (void)mt_haraka_probe(line, n);
        mt_xrec r;
        const char *why = NULL;
        int rc = mt_haraka_parse(c, line, n, &yc, &r, &why);
        if (rc < 0 && why == NULL)
            abort(); /* a malformed line always has its reason */
        if (rc == 1) {
            const mt_slice *s[] = {&r.queue_id, &r.recipient, &r.mx_host, &r.mx_ip, &r.reply, &r.rcpt_domain};
            for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
                if (!in_some_line(&h, *s[k]))
                    abort();
            if (r.status != MT_STATUS_SENT && r.status != MT_STATUS_DEFERRED && r.status != MT_STATUS_BOUNCED)
                abort();
        }
    }
    for (size_t i = 0; i < h.n; i++)
        free(h.line[i]);
    free(h.line);
    free(h.len);
    free(c);
    return 0;
}
