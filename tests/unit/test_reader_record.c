/*
 * test_reader_record.c - the whole-attempt readers: PowerMTA accounting
 * CSV (the record fields of PowerMTA's <acct-file> documentation, in a
 * shuffled column order), KumoMTA log records (the example record of
 * KumoMTA's logging documentation, and the other record types), generic
 * CSV / NDJSON exports with --map renames, and format detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"
#include "reader_record.h"

static char arena_mem[1 << 16];
static mt_arena A;
static mt_xrec R;
static const char *why;

static void assert_slice(mt_slice s, const char *want)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)s.len, s.p ? s.p : "");
    assert_string_equal(buf, want);
}

static mt_rec_ctx *ctx(mt_format f, const char *first, const mt_rec_map *map, int nmap, mt_buf *unknown)
{
    mt_buf err;
    mt_buf_init(&err);
    mt_rec_ctx *c = mt_rec_ctx_new(f, first, strlen(first), map, nmap, unknown, &err);
    mt_buf_free(&err);
    return c;
}

static int parse(const mt_rec_ctx *c, const char *line)
{
    A = (mt_arena){arena_mem, 0, sizeof arena_mem};
    return mt_rec_parse(c, line, strlen(line), &A, &R, &why);
}

/* PowerMTA's default accounting fields, columns in another order */
static const char pmta_header[] =
    "type,timeLogged,rcpt,orig,dsnAction,dsnStatus,dsnDiag,dsnMta,vmta,timeQueued,"
    "dlvSourceIp,dlvDestinationIp,dlvSize,jobId,envId,header_Message-Id,bounceCat";

static void t_pmta(void **state)
{
    (void)state;
    mt_rec_ctx *c = ctx(MT_FORMAT_PMTA, pmta_header, NULL, 0, NULL);
    assert_non_null(c);
    assert_int_equal(parse(c, "t,2026-11-20 21:35:51+0800,alice@163.com,news@sender.example,delayed,"
                              "4.0.0 (undefined status),\"smtp;451 4.3.2 Internal server error\","
                              "163mx01.mxmail.netease.com (220.181.14.141),vmta-cn1,2026-11-20 21:35:01+0800,"
                              "198.51.100.20,220.181.14.141,18342,job7,env1,<a1@sender.example>,"),
                     1);
    assert_int_equal(R.kind, MT_XREC_ATTEMPT);
    assert_int_equal(R.status, MT_STATUS_DEFERRED);
    assert_int_equal(R.final, 0);
    assert_int_equal(R.time, 1795210551 - 8 * 3600);
    assert_true(R.delay > 49.9 && R.delay < 50.1);
    assert_slice(R.recipient, "alice@163.com");
    assert_slice(R.mail_from, "news@sender.example");
    assert_slice(R.route, "vmta-cn1");
    assert_slice(R.sending_ip, "198.51.100.20");
    assert_slice(R.mx_host, "163mx01.mxmail.netease.com");
    assert_slice(R.mx_ip, "220.181.14.141");
    assert_slice(R.reply, "451 4.3.2 Internal server error");
    assert_int_equal(R.reply_code, 451);
    assert_string_equal(R.enhanced, "4.3.2");
    assert_int_equal(R.stage, MT_STAGE_UNKNOWN); /* PowerMTA does not say */
    assert_slice(R.message_id, "a1@sender.example");
    assert_slice(R.queue_id, "env1");
    assert_int_equal(R.size, 18342);
    assert_true(R.per_rcpt);
    assert_int_equal(
        parse(c, "d,2026-11-20 21:45:51+0800,alice@163.com,news@sender.example,relayed,2.0.0 (success),"
                 "smtp;250 Mail OK queued as mx1,163mx01.mxmail.netease.com (220.181.14.141),vmta-cn1,"
                 "2026-11-20 21:35:01+0800,198.51.100.20,220.181.14.141,18342,job7,env1,,"),
        1);
    assert_int_equal(R.status, MT_STATUS_SENT);
    assert_int_equal(R.final, 1);
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_int_equal(parse(c,
                           "b,2026-11-20 21:45:51+0800,nobody@126.com,news@sender.example,failed,"
                           "5.1.1 (bad destination mailbox address),\"smtp;550 5.1.1 User unknown, sorry\","
                           "126mx01.mxmail.netease.com (220.181.15.161),vmta-cn1,,,,,,,,bad-mailbox"),
                     1);
    assert_int_equal(R.status, MT_STATUS_BOUNCED);
    assert_slice(R.reply, "550 5.1.1 User unknown, sorry");
    assert_int_equal(R.delay, -1);
    /* a connection failure: no reply, the enhanced status from dsnStatus */
    assert_int_equal(
        parse(c, "t,2026-11-20 21:45:51+0800,x@qq.com,n@s.example,delayed,4.4.1 (no answer from host),"
                 "No answer from host,,vmta2,,,,,,,,"),
        1);
    assert_string_equal(R.enhanced, "4.4.1");
    assert_int_equal(R.reply_code, 0);
    assert_int_equal(parse(c, "r,2026-11-20 21:35:01+0800,alice@163.com,news@sender.example,,,,,,,,,,,,,"),
                     1);
    assert_int_equal(R.kind, MT_XREC_ARRIVAL);
    assert_int_equal(parse(c, "f,2026-11-20 21:35:01+0800,alice@163.com,news@sender.example,,,,,,,,,,,,,"),
                     0);
    assert_int_equal(parse(c, pmta_header), 0); /* the header again */
    assert_int_equal(parse(c, "d,2026-11-20 21:45:51+0800,alice@163.com"), -1);
    assert_non_null(why);
    assert_int_equal(parse(c, "zz,2026-11-20 21:35:01+0800,alice@163.com,news@sender.example,,,,,,,,,,,,,"),
                     -1);
    assert_int_equal(parse(c, "d,2026-11-20 21:45:51+0800,\"alice@163.com,news@sender.example,,,,,,,,,,,,,"),
                     -1);
    mt_rec_ctx_free(c);
    /* a header without rcpt is refused */
    assert_null(ctx(MT_FORMAT_PMTA, "type,timeLogged,orig", NULL, 0, NULL));
}

/* KumoMTA's documented example record */
static const char kumo_delivery[] =
    "{\"type\":\"Delivery\",\"id\":\"1d98076abbbc11ed940250ebf67f93bd\",\"sender\":\"noreply@example.com\","
    "\"recipient\":\"recipient@example.com\",\"queue\":\"example.com\","
    "\"site\":\"source2->(alt1|alt2|alt3|alt4)?.gmail-smtp-in.l.google.com@smtp_client\",\"size\":1047,"
    "\"response\":{\"code\":250,\"enhanced_code\":{\"class\":2,\"subject\":0,\"detail\":0},"
    "\"content\":\"OK ids=8a5475ccbbc611edb8f350ebf67f93bd\",\"command\":null},"
    "\"peer_address\":{\"name\":\"gmail-smtp-in.l.google.com.\",\"addr\":\"142.251.2.27\"},"
    "\"timestamp\":1678069691,\"created\":1678069691,\"num_attempts\":0,\"bounce_classification\":"
    "\"Uncategorized\","
    "\"egress_pool\":\"pool0\",\"egress_source\":\"source2\",\"feedback_report\":null,\"meta\":{},"
    "\"headers\":{},"
    "\"delivery_protocol\":\"ESMTP\",\"reception_protocol\":\"ESMTP\","
    "\"nodeid\":\"557f3ad4-2c8c-11ee-976e-782d7e12e173\"}";

/* a numeric timestamp outside 1970-9999 is the record's error (1e300 used
 * to be converted to an int64_t: undefined) */
static void t_kumo_timestamp_range(void **state)
{
    (void)state;
    mt_rec_ctx *c = ctx(MT_FORMAT_KUMO, kumo_delivery, NULL, 0, NULL);
    assert_non_null(c);
    static const char *const bad[] = {"1e300", "-5", "-0.5", "253402300800", "9223372036854775807"};
    char line[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line,
                 "{\"type\":\"Delivery\",\"id\":\"x1\",\"recipient\":\"a@163.com\",\"timestamp\":%s,"
                 "\"response\":{\"code\":250,\"content\":\"ok\"}}",
                 bad[i]);
        assert_int_equal(parse(c, line), -1);
        assert_string_equal(why, "kumo: timestamp is not a time");
    }
    assert_int_equal(parse(c, "{\"type\":\"Delivery\",\"id\":\"x1\",\"recipient\":\"a@163.com\","
                              "\"timestamp\":1678069691.25,\"created\":-9223372036854775807,"
                              "\"response\":{\"code\":250,\"content\":\"ok\"}}"),
                     1);
    assert_int_equal(R.time, 1678069691);
    assert_int_equal(R.usec, 250000);
    assert_true(R.delay == -1); /* 9.2e18 s: no delay */
    mt_rec_ctx_free(c);
}

static void t_kumo(void **state)
{
    (void)state;
    mt_rec_ctx *c = ctx(MT_FORMAT_KUMO, kumo_delivery, NULL, 0, NULL);
    assert_non_null(c);
    assert_int_equal(parse(c, kumo_delivery), 1);
    assert_int_equal(R.status, MT_STATUS_SENT);
    assert_int_equal(R.final, 1);
    assert_int_equal(R.time, 1678069691);
    assert_slice(R.queue_id, "1d98076abbbc11ed940250ebf67f93bd");
    assert_slice(R.recipient, "recipient@example.com");
    assert_slice(R.mail_from, "noreply@example.com");
    assert_slice(R.route, "source2");
    assert_slice(R.mx_host, "gmail-smtp-in.l.google.com");
    assert_slice(R.mx_ip, "142.251.2.27");
    assert_slice(R.reply, "250 2.0.0 OK ids=8a5475ccbbc611edb8f350ebf67f93bd");
    assert_int_equal(R.reply_code, 250);
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_int_equal(R.size, 1047);
    assert_int_equal(
        parse(c, "{\"type\":\"TransientFailure\",\"id\":\"abc\",\"sender\":\"n@s.example\","
                 "\"recipient\":\"a@163.com\",\"response\":{\"code\":451,\"enhanced_code\":{\"class\":4,"
                 "\"subject\":7,\"detail\":1},\"content\":\"DT:SPM mx.163.com, please try again\","
                 "\"command\":\"RCPT TO:<a@163.com>\\r\\n\"},\"timestamp\":\"2026-11-20T21:35:51Z\","
                 "\"egress_pool\":\"cn\",\"source_address\":{\"address\":\"198.51.100.20:0\"},"
                 "\"headers\":{\"Message-ID\":\"<m1@s.example>\"},\"meta\":{\"template\":\"welcome\"}}"),
        1);
    assert_int_equal(R.status, MT_STATUS_DEFERRED);
    assert_int_equal(R.stage, MT_STAGE_RCPT);
    assert_slice(R.reply, "451 4.7.1 DT:SPM mx.163.com, please try again");
    assert_string_equal(R.enhanced, "4.7.1");
    assert_slice(R.route, "cn"); /* no egress_source: the pool */
    assert_slice(R.sending_ip, "198.51.100.20");
    assert_slice(R.message_id, "m1@s.example");
    assert_slice(R.template_id, "welcome");
    assert_int_equal(R.time, 1795210551);
    assert_int_equal(parse(c,
                           "{\"type\":\"TransientFailure\",\"id\":\"abc\",\"recipient\":\"a@163.com\","
                           "\"response\":{\"code\":451,\"content\":\"after data\",\"command\":\".\\r\\n\"}}"),
                     1);
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_int_equal(
        parse(c, "{\"type\":\"TransientFailure\",\"id\":\"abc\",\"recipient\":\"a@163.com\","
                 "\"response\":{\"code\":400,\"content\":\"KumoMTA internal: failed to connect to any "
                 "candidate hosts\",\"command\":null}}"),
        1);
    assert_int_equal(R.stage, MT_STAGE_CONNECT);
    assert_int_equal(
        parse(c, "{\"type\":\"Bounce\",\"id\":\"abc\",\"recipient\":\"a@163.com\","
                 "\"response\":{\"code\":550,\"content\":\"no such user\",\"command\":\"RCPT TO:<a>\"}}"),
        1);
    assert_int_equal(R.status, MT_STATUS_BOUNCED);
    assert_int_equal(R.final, 1);
    assert_int_equal(parse(c, "{\"type\":\"Expiration\",\"id\":\"abc\",\"recipient\":\"a@163.com\"}"), 1);
    assert_int_equal(R.kind, MT_XREC_EXPIRED);
    assert_int_equal(
        parse(c, "{\"type\":\"Reception\",\"id\":\"abc\",\"recipient\":\"a@163.com\",\"size\":9}"), 1);
    assert_int_equal(R.kind, MT_XREC_ARRIVAL);
    assert_int_equal(parse(c, "{\"type\":\"Rejection\",\"id\":\"abc\",\"recipient\":\"a@163.com\"}"), 0);
    assert_int_equal(parse(c, "{\"type\":\"Delivery\",\"id\":\"abc\""), -1);
    assert_int_equal(parse(c, "{\"type\":\"Teleport\",\"id\":\"abc\",\"recipient\":\"a@163.com\"}"), -1);
    assert_int_equal(parse(c, "{\"type\":\"Delivery\",\"recipient\":\"a@163.com\"}"), -1);
    mt_rec_ctx_free(c);
}

static void t_export_csv(void **state)
{
    (void)state;
    mt_buf unknown;
    mt_buf_init(&unknown);
    static const mt_rec_map map[] = {{"email", 5, "recipient"}, {"sent_at", 7, "timestamp"}};
    mt_rec_ctx *c =
        ctx(MT_FORMAT_CSV, "sent_at,email,smtp_reply_text,campaign,smtp_stage,message_id,final_queue_status",
            map, 2, &unknown);
    assert_non_null(c);
    assert_string_equal(unknown.data, "campaign");
    assert_int_equal(
        parse(c, "2026-11-20T21:35:51Z,a@163.com,\"451 4.3.2 Internal server error, try later\",spring,"
                 "data_end,<m1@x.example>,expired"),
        1);
    assert_slice(R.recipient, "a@163.com");
    assert_int_equal(R.reply_code, 451);
    assert_string_equal(R.enhanced, "4.3.2");
    assert_int_equal(R.status, MT_STATUS_DEFERRED);
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_slice(R.message_id, "m1@x.example");
    assert_true(R.expired);
    assert_int_equal(R.time, 1795210551);
    assert_int_equal(parse(c, "1795210551,b@qq.com,250 ok,x,data_end,,delivered"), 1);
    assert_int_equal(R.status, MT_STATUS_SENT);
    assert_int_equal(R.time, 1795210551);
    assert_int_equal(
        parse(c, "sent_at,email,smtp_reply_text,campaign,smtp_stage,message_id,final_queue_status"), 0);
    assert_int_equal(parse(c, "2026-11-20T21:35:51Z,a@163.com,x,y,nowhere,,"), -1);
    assert_string_equal(why, "export: unknown smtp_stage");
    assert_int_equal(parse(c, "yesterday,a@163.com,x,y,rcpt,,"), -1);
    assert_int_equal(parse(c, "2026-11-20T21:35:51Z,a@163.com"), -1);
    mt_rec_ctx_free(c);
    mt_buf_free(&unknown);
    assert_null(ctx(MT_FORMAT_CSV, "when,what", NULL, 0, NULL));
}

/* a delay_seconds that is no delay is the record's error, not infinity
 * in `events` */
static void t_export_absurd_delay(void **state)
{
    (void)state;
    mt_rec_ctx *c = ctx(MT_FORMAT_CSV, "recipient,delay_seconds", NULL, 0, NULL);
    assert_non_null(c);
    static const char *const bad[] = {"1e999", "nan", "inf", "-1", "1e13", "12x"};
    char line[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "a@163.com,%s", bad[i]);
        assert_int_equal(parse(c, line), -1);
        assert_string_equal(why, "export: delay_seconds is not a number");
    }
    assert_int_equal(parse(c, "a@163.com,1e12"), 1);
    assert_true(R.delay == 1e12);
    assert_int_equal(parse(c, "a@163.com,0.25"), 1);
    assert_true(R.delay == 0.25);
    mt_rec_ctx_free(c);
}

static void t_export_ndjson(void **state)
{
    (void)state;
    mt_buf unknown;
    mt_buf_init(&unknown);
    static const char first[] =
        "{\"timestamp\":\"2026-11-20T21:35:51Z\",\"recipient\":\"a@163.com\",\"smtp_reply_code\":"
        "550,\"enhanced_status\":\"5.1.1\",\"mail_from_domain\":\"sender.example\","
        "\"message_size_bytes\":1200,\"delay_seconds\":1.5,\"esp_tag\":\"x\"}";
    mt_rec_ctx *c = ctx(MT_FORMAT_NDJSON, first, NULL, 0, &unknown);
    assert_string_equal(unknown.data, "esp_tag");
    assert_int_equal(parse(c, first), 1);
    assert_int_equal(R.status, MT_STATUS_BOUNCED);
    assert_int_equal(R.reply_code, 550);
    assert_string_equal(R.enhanced, "5.1.1");
    assert_slice(R.mail_from, "@sender.example");
    assert_int_equal(R.size, 1200);
    assert_true(R.delay > 1.49 && R.delay < 1.51);
    assert_int_equal(parse(c, "{\"recipient_domain\":\"qq.com\",\"category\":\"none\"}"), 1);
    assert_slice(R.recipient, "@qq.com");
    assert_int_equal(R.status, MT_STATUS_SENT);
    assert_int_equal(parse(c, "[1,2]"), -1);
    assert_int_equal(parse(c, "{\"timestamp\":\"2026-11-20T21:35:51Z\"}"), -1);
    assert_int_equal(parse(c, "{\"recipient\":\"a@b\",\"smtp_reply_code\":\"abc\"}"), -1);
    /* a real of 300 digits: an error, not a read past the 40 bytes it was
     * printed into (AddressSanitizer caught that before) */
    assert_int_equal(parse(c, "{\"recipient\":\"a@b\",\"delay_seconds\":1e300}"), -1);
    assert_string_equal(why, "ndjson: a number too large for its field");
    assert_int_equal(parse(c, "{\"recipient\":\"a@b\",\"delay_seconds\":123456789012.5}"), 1);
    assert_true(R.delay == 123456789012.5);
    mt_rec_ctx_free(c);
    mt_buf_free(&unknown);
}

/* OpenSMTPD: lines in the layout of mta_log() (usr.sbin/smtpd/mta.c) */
static void t_opensmtpd(void **state)
{
    (void)state;
    mt_yearctx yc;
    mt_yearctx_init(&yc, 2026, 0);
    static const char defer[] =
        "Nov 20 21:35:51 mx4 smtpd[4242]: 3c8f1d2a4b5e6f70 mta delivery evpid=a1b2c3d4e5f60718 "
        "from=<news@sender.example> to=<alice@163.com> rcpt=<-> source=\"198.51.100.30\" "
        "relay=\"163mx01.mxmail.netease.com [220.181.14.141]\" delay=1m2s result=\"TempFail\" "
        "stat=\"451 4.3.2 Internal server error\"";
    assert_int_equal(mt_opensmtpd_parse(defer, strlen(defer), &yc, &R, &why), 1);
    assert_int_equal(R.time, 1795210551);
    assert_slice(R.queue_id, "a1b2c3d4");
    assert_true(R.per_rcpt);
    assert_slice(R.recipient, "alice@163.com");
    assert_slice(R.mail_from, "news@sender.example");
    assert_slice(R.sending_ip, "198.51.100.30");
    assert_slice(R.mx_host, "163mx01.mxmail.netease.com");
    assert_slice(R.mx_ip, "220.181.14.141");
    assert_int_equal(R.status, MT_STATUS_DEFERRED);
    assert_int_equal(R.reply_code, 451);
    assert_string_equal(R.enhanced, "4.3.2");
    assert_true(R.delay > 61.9 && R.delay < 62.1);
    assert_int_equal(R.final, 0);
    static const char ok[] =
        "Nov 20 21:45:51 mx4 smtpd[4242]: 3c8f1d2a4b5e6f71 mta delivery evpid=a1b2c3d4e5f60718 "
        "from=<news@sender.example> to=<alice@163.com> rcpt=<-> source=\"-\" "
        "relay=\"163mx01.mxmail.netease.com [220.181.14.141]\" delay=10m1s result=\"Ok\" "
        "stat=\"250 Mail OK queued as \"mx1\"\"";
    assert_int_equal(mt_opensmtpd_parse(ok, strlen(ok), &yc, &R, &why), 1);
    assert_int_equal(R.status, MT_STATUS_SENT);
    assert_int_equal(R.final, 1);
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_int_equal(R.sending_ip.len, 0);
    assert_slice(R.reply, "250 Mail OK queued as \"mx1\"");
    static const char session[] =
        "Nov 20 21:35:50 mx4 smtpd[4242]: 7d1b5c5e8e0f0a1b smtp connected address=local";
    assert_int_equal(mt_opensmtpd_parse(session, strlen(session), &yc, &R, &why), 0);
    static const char other[] = "Nov 20 21:35:50 mx4 kernel: something";
    assert_int_equal(mt_opensmtpd_parse(other, strlen(other), &yc, &R, &why), 2);
    static const char bad[] =
        "Nov 20 21:35:50 mx4 smtpd[4242]: 3c mta delivery evpid=a1 to=<x@y> result=\"Ok\"";
    assert_int_equal(mt_opensmtpd_parse(bad, strlen(bad), &yc, &R, &why), -1);
    assert_int_equal(mt_opensmtpd_parse("garbage", 7, &yc, &R, &why), -1);
    char buf[2048];
    snprintf(buf, sizeof buf, "%s\n%s\n", session, defer);
    assert_int_equal(mt_format_detect(buf, strlen(buf)), MT_FORMAT_OPENSMTPD);
}

static void t_csv_split(void **state)
{
    (void)state;
    mt_slice f[8];
    A = (mt_arena){arena_mem, 0, sizeof arena_mem};
    assert_int_equal(mt_csv_split("a,\"b,\"\"c\"\"\",,d", 14, f, 8, &A), 4);
    assert_slice(f[1], "b,\"c\"");
    assert_int_equal(f[2].len, 0);
    assert_slice(f[3], "d");
    assert_int_equal(mt_csv_split("\"open", 5, f, 8, &A), -1);
    assert_int_equal(mt_csv_split("\"a\"b", 4, f, 8, &A), -1);
}

static void t_detect(void **state)
{
    (void)state;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s\nd,2026-11-20 21:45:51+0800,a@b\n", pmta_header);
    assert_int_equal(mt_format_detect(buf, strlen(buf)), MT_FORMAT_PMTA);
    snprintf(buf, sizeof buf, "%s\n", kumo_delivery);
    assert_int_equal(mt_format_detect(buf, strlen(buf)), MT_FORMAT_KUMO);
    static const char csv[] = "timestamp,recipient,smtp_reply_text\n2026-11-20T21:35:51Z,a@163.com,250 ok\n";
    assert_int_equal(mt_format_detect(csv, sizeof csv - 1), MT_FORMAT_CSV);
    static const char nd[] = "{\"recipient\":\"a@163.com\",\"smtp_reply_code\":250}\n";
    assert_int_equal(mt_format_detect(nd, sizeof nd - 1), MT_FORMAT_NDJSON);
    static const char other[] = "{\"name\":\"x\"}\n";
    assert_int_equal(mt_format_detect(other, sizeof other - 1), MT_FORMAT_AUTO);
    static const char ledger[] = "date,amount,payee\n";
    assert_int_equal(mt_format_detect(ledger, sizeof ledger - 1), MT_FORMAT_AUTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_pmta),
        cmocka_unit_test(t_kumo),
        cmocka_unit_test(t_kumo_timestamp_range),
        cmocka_unit_test(t_export_csv),
        cmocka_unit_test(t_export_ndjson),
        cmocka_unit_test(t_export_absurd_delay),
        cmocka_unit_test(t_csv_split),
        cmocka_unit_test(t_detect),
        cmocka_unit_test(t_opensmtpd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
