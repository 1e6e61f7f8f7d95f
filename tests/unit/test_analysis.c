/*
 * test_analysis.c - aggregation: totals, per-provider/domain counts,
 * stage splits, sender bands, reply normalisation and redaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "analysis.h"

static mt_attempt mk(uint64_t serial, unsigned rcpt, int retry, int last, mt_status st, mt_final fin,
                     const char *dom, const char *prov, int64_t t)
{
    mt_attempt a;
    memset(&a, 0, sizeof a);
    a.message_serial = serial;
    a.rcpt_index = rcpt;
    a.retry_count = retry;
    a.last_for_rcpt = last;
    a.status = st;
    a.final_status = fin;
    a.recipient_domain = dom;
    a.provider = prov;
    a.time = t;
    a.route = "postfix-cn/smtp";
    a.mail_from_domain = "sender.example";
    a.stage = st == MT_STATUS_SENT ? MT_STAGE_DATA_END : MT_STAGE_DATA_END;
    a.category = st == MT_STATUS_SENT ? MT_CAT_NONE : MT_CAT_RECEIVER_INTERNAL;
    a.reply_text = st == MT_STATUS_SENT ? "250 ok" : "451 4.3.2 Internal server error";
    a.reply_code = st == MT_STATUS_SENT ? 250 : 451;
    return a;
}

static void t_counts_and_bands(void **state)
{
    (void)state;
    mt_diag *d = mt_diag_new(0);
    int64_t t0 = 1795210551;
    /* message 1: 163.com deferred twice then delivered; qq.com delivered */
    mt_attempt a[] = {
        mk(1, 0, 0, 0, MT_STATUS_DEFERRED, MT_FINAL_DELIVERED, "163.com", "netease", t0),
        mk(1, 0, 1, 0, MT_STATUS_DEFERRED, MT_FINAL_DELIVERED, "163.com", "netease", t0 + 300),
        mk(1, 0, 2, 1, MT_STATUS_SENT, MT_FINAL_DELIVERED, "163.com", "netease", t0 + 900),
        mk(1, 1, 0, 1, MT_STATUS_SENT, MT_FINAL_DELIVERED, "qq.com", "tencent", t0),
        /* message 2: 126.com expired after 3 tries */
        mk(2, 0, 0, 0, MT_STATUS_DEFERRED, MT_FINAL_EXPIRED, "126.com", "netease", t0 + 10),
        mk(2, 0, 1, 0, MT_STATUS_DEFERRED, MT_FINAL_EXPIRED, "126.com", "netease", t0 + 4000),
        mk(2, 0, 2, 1, MT_STATUS_DEFERRED, MT_FINAL_EXPIRED, "126.com", "netease", t0 + 8000),
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        mt_diag_add(&a[i], d);
    const mt_diag_result *r = mt_diag_finish(d);
    assert_int_equal(r->messages, 2);
    assert_int_equal(r->totals.attempts, 7);
    assert_int_equal(r->totals.accepted, 2);
    assert_int_equal(r->totals.deferred, 5);
    assert_int_equal(r->totals.recipients, 3);
    assert_int_equal(r->totals.delivered, 2);
    assert_int_equal(r->totals.rcpt_expired, 1);
    assert_int_equal(r->nproviders, 2);
    const mt_provider_stat *ne = r->providers[0];
    assert_string_equal(ne->name, "netease");
    assert_int_equal(ne->c.attempts, 6);
    assert_int_equal(ne->c.accepted, 1);
    assert_int_equal(ne->ndomains, 2);
    assert_int_equal(ne->deferred_by_stage[MT_STAGE_DATA_END], 5);
    assert_int_equal(ne->nreplies, 1);
    assert_int_equal(ne->replies[0]->count, 5);
    assert_int_equal(r->stages[MT_STAGE_DATA_END].c.attempts, 7);
    /* one cohort per provider: netease intermittent (one accepted), tencent clean */
    assert_int_equal(r->nsenders, 2);
    assert_string_equal(r->senders[0]->provider, "netease");
    assert_string_equal(r->senders[0]->pattern, "intermittent");
    assert_string_equal(r->senders[0]->band, "warning");
    assert_string_equal(r->senders[1]->pattern, "none");
    assert_string_equal(r->senders[1]->band, "low");
    mt_diag_free(d);
}

static void t_persistent(void **state)
{
    (void)state;
    mt_diag *d = mt_diag_new(0);
    int64_t t0 = 1795210551;
    for (int i = 0; i < 4; i++) {
        mt_attempt a =
            mk(1, 0, i, i == 3, MT_STATUS_DEFERRED, MT_FINAL_DEFERRED, "163.com", "netease", t0 + i * 1800);
        mt_diag_add(&a, d);
    }
    const mt_diag_result *r = mt_diag_finish(d);
    assert_string_equal(r->senders[0]->pattern, "persistent");
    assert_string_equal(r->senders[0]->band, "critical");
    assert_int_equal(r->totals.pending, 1);
    mt_diag_free(d);
}

static void t_normalise(void **state)
{
    (void)state;
    mt_buf b, scratch;
    mt_buf_init(&b);
    mt_buf_init(&scratch);
    mt_reply_shape("451 DT:SPM 163 smtp14,EsCowAA3bOuw6l5e7xwbAg--.1585812 please retry", &b, &scratch);
    assert_string_equal(b.data, "451 DT:SPM 163 #,#.# please retry");
    mt_reply_shape("421 HL:ICC 163mx21,cWcDHESTKEqVoYCDpevzxv4E too many connections from 203.0.113.10", &b,
                   &scratch);
    assert_string_equal(b.data, "421 HL:ICC #,# too many connections from 203.0.113.10");
    mt_reply_shape("421 4.7.0 [TSS04] Messages from 192.0.2.1 deferred", &b, &scratch);
    assert_string_equal(b.data, "421 4.7.0 [TSS04] Messages from 192.0.2.1 deferred");
    mt_reply_shape("550 5.1.1 <alice.smith@163.com>: User not found", &b, &scratch);
    assert_string_equal(b.data, "550 5.1.1 <\xe2\x80\xa6@163.com>: User not found");
    mt_redact_text("to alice@x.example and bob@y.example", &b);
    assert_string_equal(b.data, "to \xe2\x80\xa6@x.example and \xe2\x80\xa6@y.example");
    mt_buf_free(&b);
    mt_buf_free(&scratch);
}

/* the shaping rule written plainly, one byte and one test at a time: the
 * library's version counts a token's classes with one addition a byte and
 * must give the same answer */
static int ref_token(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+/=?^_`{|}~-:", c) != NULL);
}

static size_t ref_shape(const char *p, size_t n, char *o)
{
    size_t k = 0, i = 0;
    while (i < n) {
        size_t j = i, digits = 0, lower = 0;
        while (j < n && ref_token((unsigned char)p[j])) {
            digits += p[j] >= '0' && p[j] <= '9';
            lower += p[j] >= 'a' && p[j] <= 'z';
            j++;
        }
        if (j == i) {
            o[k++] = p[i++];
            continue;
        }
        size_t len = j - i;
        if ((len >= 12 && digits >= 1 && lower >= 1) || (len >= 6 && digits >= 2 && lower >= 1) ||
            (len >= 4 && digits >= 2 && lower >= 2) || (digits >= 6 && len == digits)) {
            o[k++] = '#';
        } else {
            memcpy(o + k, p + i, len);
            k += len;
        }
        i = j;
    }
    return k;
}

static void t_shape_random(void **state)
{
    (void)state;
    static const char alphabet[] = "abcxyzABCXYZ0123456789 .:,;<>[]()@-_=/+#\"\t\x80\xe2";
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    char text[300], want[300];
    mt_buf b;
    mt_buf_init(&b);
    for (int round = 0; round < 50000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = (size_t)(x % 260);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            text[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        size_t k = ref_shape(text, n, want);
        mt_reply_shape_masked(text, n, &b);
        assert_int_equal(b.len, k);
        assert_memory_equal(b.data, want, k);
        assert_int_equal(b.data[k], '\0');
    }
    mt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_counts_and_bands),
        cmocka_unit_test(t_persistent),
        cmocka_unit_test(t_normalise),
        cmocka_unit_test(t_shape_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
