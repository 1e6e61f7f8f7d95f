/*
 * msgcheck_size.c - sizes: the raw message (what crosses SMTP, after
 * transfer encoding), what it decodes to, per part, and the attachments'
 * share.
 */
#include <stdio.h>
#include <string.h>

#include "msgcheck.h"

/* the one-line whys are cut to their buffers on purpose */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAM "size"

static const char *human(size_t n, char *buf, size_t len)
{
    if (n >= 1024 * 1024)
        snprintf(buf, len, "%.1f MB", (double)n / (1024.0 * 1024.0));
    else if (n >= 1024)
        snprintf(buf, len, "%.1f KB", (double)n / 1024.0);
    else
        snprintf(buf, len, "%zu bytes", n);
    return buf;
}

void mt_msgcheck_size(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    (void)o;
    size_t len;
    (void)mt_message_raw(m, &len);
    size_t np = mt_message_nparts(m), decoded = 0, enc_total = 0, att = 0, natt = 0, leaves = 0;
    size_t big = 0, big_dec = 0;
    const mt_part *bigp = NULL;
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (pt->is_multipart || pt->is_message)
            continue;
        leaves++;
        const mt_buf *d = mt_message_part_decoded(m, i);
        size_t dl = d ? d->len : 0;
        decoded += dl;
        enc_total += pt->enc_len;
        if (pt->is_attachment) {
            att += pt->enc_len;
            natt++;
        }
        if (pt->enc_len > big || bigp == NULL) {
            big = pt->enc_len;
            big_dec = dl;
            bigp = pt;
        }
    }
    char a[32], b[32], c[32];
    mt_check_status st = MT_CHECK_PASS;
    const char *note = "";
    if (len > 25u * 1024 * 1024) {
        st = MT_CHECK_FAIL;
        note = ": over the 25 MB most large providers accept";
    } else if (len > 10u * 1024 * 1024) {
        st = MT_CHECK_WARN;
        note = ": over 10 MB, a common limit and a scanner's burden";
    }
    mt_checklist_add(out, FAM, "size-raw", st,
                     "%s as sent (%zu bytes, after transfer encoding); content decodes to %s%s",
                     human(len, a, sizeof a), len, human(decoded, b, sizeof b), note);
    if (bigp == NULL) {
        mt_checklist_add(out, FAM, "size-parts", MT_CHECK_NA, "no content parts");
    } else {
        /* every part (the first eight): path, name or type, encoded/decoded */
        char list[700] = "";
        size_t shown = 0;
        for (size_t i = 0; i < np && shown < 8; i++) {
            const mt_part *pt = mt_message_part(m, i);
            if (pt->is_multipart || pt->is_message)
                continue;
            const mt_buf *d = mt_message_part_decoded(m, i);
            char e1[32], d1[32];
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s %.40s %s/%s", shown ? "; " : "", pt->path,
                     pt->filename ? pt->filename : pt->ctype, human(pt->enc_len, e1, sizeof e1),
                     human(d ? d->len : 0, d1, sizeof d1));
            shown++;
        }
        st = big > 10u * 1024 * 1024 ? MT_CHECK_WARN : MT_CHECK_PASS;
        mt_checklist_add(out, FAM, "size-parts", st,
                         "%zu part(s), encoded/decoded: %s%s; largest %s, %s decoded%s", leaves, list,
                         leaves > shown ? "; ..." : "", human(big, a, sizeof a), human(big_dec, c, sizeof c),
                         st == MT_CHECK_WARN ? ": one part over 10 MB" : "");
    }
    if (natt == 0)
        mt_checklist_add(out, FAM, "size-attachments", MT_CHECK_NA, "no attachments");
    else
        mt_checklist_add(out, FAM, "size-attachments", MT_CHECK_PASS,
                         "%zu attachment(s), %s encoded: %u%% of the message", natt, human(att, a, sizeof a),
                         (unsigned)(len ? (att * 100 + len / 2) / len : 0));
    (void)enc_total;
}
