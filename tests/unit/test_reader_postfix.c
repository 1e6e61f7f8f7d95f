/*
 * test_reader_postfix.c - every Postfix line shape the reader promises,
 * real lines from installations and from our own Postfix runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reader_postfix.h"

static mt_pf_line L;
static mt_yearctx Y;

static mt_pf_kind parse(const char *s)
{
    mt_yearctx_init(&Y, 2026, 0);
    return mt_pf_parse(s, strlen(s), &Y, &L);
}

static void assert_slice(mt_slice s, const char *want)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)s.len, s.p ? s.p : "");
    assert_string_equal(buf, want);
}

static void t_netease_451_after_data(void **state)
{
    (void)state;
    assert_int_equal(parse("Nov 20 21:35:51 mx1 postfix-cn/smtp[4242]: 4BnSsd2Hm2z9vq: to=<alice@163.com>, "
                           "relay=163mx01.mxmail.netease.com[220.181.14.141]:25, delay=3.2, "
                           "delays=0.1/0/1.1/2, dsn=4.3.2, status=deferred (host "
                           "163mx01.mxmail.netease.com[220.181.14.141] said: 451 4.3.2 Internal server "
                           "error (in reply to end of DATA command))"),
                     MT_PF_DELIVERY);
    assert_slice(L.program, "postfix-cn/smtp");
    assert_slice(L.daemon, "smtp");
    assert_slice(L.queue_id, "4BnSsd2Hm2z9vq");
    assert_slice(L.to, "alice@163.com");
    assert_slice(L.mx_host, "163mx01.mxmail.netease.com");
    assert_slice(L.mx_ip, "220.181.14.141");
    assert_slice(L.reply, "451 4.3.2 Internal server error");
    assert_int_equal(L.reply_code, 451);
    assert_string_equal(L.enhanced, "4.3.2");
    assert_int_equal(L.stage, MT_STAGE_DATA_END);
    assert_int_equal(L.status, MT_STATUS_DEFERRED);
    assert_true(L.delay > 3.19 && L.delay < 3.21);
    /* classic syslog stamp with the fixed year, taken as UTC */
    assert_int_equal(L.time, 1795210551);
}

/* a delay= that is no delay (too many digits, an exponent too large, not
 * a number) is read as none, the line still a delivery (the fuzzer found
 * 1e999 reaching `events` as infinity) */
static void t_absurd_delay(void **state)
{
    (void)state;
    static const char *const bad[] = {"1e999", "nan", "inf", "-1", "1e13", "9999999999999"};
    char digits[420], line[700];
    memset(digits, '9', sizeof digits - 1);
    digits[sizeof digits - 1] = '\0';
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        snprintf(
            line, sizeof line,
            "Nov 20 21:35:51 mx1 postfix/smtp[1]: 3F1A2B3C4D: to=<a@example.com>, relay=none, delay=%s, "
            "delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to x[1.2.3.4]:25: Connection timed out)",
            i < sizeof bad / sizeof bad[0] ? bad[i] : digits);
        assert_int_equal(parse(line), MT_PF_DELIVERY);
        assert_true(L.delay == -1);
        assert_int_equal(L.status, MT_STATUS_DEFERRED);
    }
    /* the longest kept, and an exponent Postfix does write */
    assert_int_equal(parse("Nov 20 21:35:51 mx1 postfix/smtp[1]: 3F1A2B3C4D: to=<a@example.com>, relay=none, "
                           "delay=4e+05, delays=0/0/1/0, dsn=4.4.1, status=deferred (x)"),
                     MT_PF_DELIVERY);
    assert_true(L.delay > 399999 && L.delay < 400001);
    assert_int_equal(parse("Nov 20 21:35:51 mx1 postfix/smtp[1]: 3F1A2B3C4D: to=<a@example.com>, relay=none, "
                           "delay=1000000000000, delays=0/0/1/0, dsn=4.4.1, status=deferred (x)"),
                     MT_PF_DELIVERY);
    assert_true(L.delay == 1e12);
}

static void t_stages(void **state)
{
    (void)state;
    static const struct {
        const char *reason;
        mt_stage stage;
        int code;
    } cases[] = {
        {"host mx[1.2.3.4] said: 550 5.1.1 <a@b>: Recipient address rejected (in reply to RCPT TO command)",
         MT_STAGE_RCPT, 550},
        {"host mx[1.2.3.4] said: 553 sorry (in reply to MAIL FROM command)", MT_STAGE_MAIL, 553},
        {"host mx[1.2.3.4] said: 554 no valid recipients (in reply to DATA command)", MT_STAGE_DATA, 554},
        {"host mx[1.2.3.4] said: 501 bad helo (in reply to EHLO command)", MT_STAGE_HELO, 501},
        {"host mx[1.2.3.4] said: 454 4.7.0 TLS not available (in reply to STARTTLS command)",
         MT_STAGE_STARTTLS, 454},
        {"host mx[1.2.3.4] refused to talk to me: 421 4.7.0 HL:ICC too many connections", MT_STAGE_GREETING,
         421},
        {"lost connection with mx[1.2.3.4] while sending RCPT TO", MT_STAGE_RCPT, 0},
        {"lost connection with mx[1.2.3.4] while receiving the initial server greeting", MT_STAGE_GREETING,
         0},
        {"lost connection with mx[1.2.3.4] while performing the EHLO handshake", MT_STAGE_HELO, 0},
        {"lost connection with mx[1.2.3.4] while sending message body", MT_STAGE_DATA_END, 0},
        {"conversation with mx[1.2.3.4] timed out while sending end of data -- message may be sent more than "
         "once",
         MT_STAGE_DATA_END, 0},
        {"conversation with mx[1.2.3.4] timed out while sending MAIL FROM", MT_STAGE_MAIL, 0},
        {"connect to mx[1.2.3.4]:25: Connection timed out", MT_STAGE_CONNECT, 0},
        {"connect to mx[1.2.3.4]:25: Connection refused", MT_STAGE_CONNECT, 0},
        {"connect to mx[2001:db8::1]:25: Network is unreachable", MT_STAGE_CONNECT, 0},
        {"Host or domain name not found. Name service error for name=nx.example type=MX: Host not found, try "
         "again",
         MT_STAGE_CONNECT, 0},
        {"delivery temporarily suspended: connect to mx[1.2.3.4]:25: Connection timed out", MT_STAGE_CONNECT,
         0},
        {"Cannot start TLS: handshake failure", MT_STAGE_STARTTLS, 0},
        {"TLS is required, but host mx[1.2.3.4] refused to start TLS: 454 4.7.0 no", MT_STAGE_STARTTLS, 0},
        {"mail for example.com loops back to myself", MT_STAGE_UNKNOWN, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[1024];
        snprintf(line, sizeof line,
                 "Nov 20 21:35:51 mx1 postfix/smtp[1]: 3F1A2B3C4D: to=<a@example.com>, relay=none, delay=1, "
                 "delays=0/0/1/0, dsn=4.4.1, status=deferred (%s)",
                 cases[i].reason);
        assert_int_equal(parse(line), MT_PF_DELIVERY);
        if (L.stage != cases[i].stage)
            fail_msg("case %zu (%s): stage %d, want %d", i, cases[i].reason, L.stage, cases[i].stage);
        assert_int_equal(L.reply_code, cases[i].code);
    }
}

static void t_fields(void **state)
{
    (void)state;
    /* orig_to, conn_use, Postfix 3.11 tls= field, RFC 3339 stamp with offset */
    assert_int_equal(
        parse("2026-11-20T21:35:51.123456+08:00 mx1 postfix/smtp[77]: 5E6F7A8B9C: to=<b@qq.com>, "
              "orig_to=<b@old.example>, relay=mx3.qq.com[203.205.219.57]:25, conn_use=2, "
              "delay=0.5, delays=0/0/0.2/0.3, dsn=2.0.0, tls=TLSv1.3:TLS_AES_256_GCM_SHA384, "
              "status=sent (250 OK: queued as ABC)"),
        MT_PF_DELIVERY);
    assert_slice(L.orig_to, "b@old.example");
    assert_slice(L.tls, "TLSv1.3:TLS_AES_256_GCM_SHA384");
    assert_int_equal(L.status, MT_STATUS_SENT);
    assert_int_equal(L.stage, MT_STAGE_DATA_END);
    assert_int_equal(L.reply_code, 250);
    assert_string_equal(L.enhanced, "2.0.0"); /* from dsn= when the reply has none */
    assert_int_equal(L.time, 1795181751);     /* 13:35:51Z */
    assert_int_equal(L.usec, 123456);
    assert_slice(L.mx_host, "mx3.qq.com");
}

static void t_multiline_reply(void **state)
{
    (void)state;
    assert_int_equal(
        parse("Dec  7 13:28:02 mail postfix/smtp[18832]: A17F830001CA: to=<r@recipient.example>, "
              "relay=mx6.example[141.30.67.69]:25, delay=0.75, delays=0/0.03/0.66/0.06, dsn=4.0.0, "
              "status=deferred (host mx6.example[141.30.67.69] said: 451-You have been greylisted. "
              "451-Try again later 451 this mail (in reply to RCPT TO command))"),
        MT_PF_DELIVERY);
    assert_int_equal(L.reply_code, 451);
    assert_string_equal(L.enhanced, "4.0.0");
    assert_int_equal(L.stage, MT_STAGE_RCPT);
    assert_slice(L.reply, "451-You have been greylisted. 451-Try again later 451 this mail");
}

static void t_other_statuses(void **state)
{
    (void)state;
    assert_int_equal(
        parse("Jan 1 00:00:00 h postfix/smtp[1]: 1A2B3C4D5E: to=<u@e.example>, relay=e[1.2.3.4]:25, "
              "delay=1.23, delays=1/1/1/1, dsn=5.1.1, status=bounced (host e[1.2.3.4] said: 550 "
              "5.1.1 no such user (in reply to RCPT TO command))"),
        MT_PF_DELIVERY);
    assert_int_equal(L.status, MT_STATUS_BOUNCED);
    assert_int_equal(parse("Jan 1 00:00:00 h postfix/error[1]: 1A2B3C4D5E: to=<u@e.example>, relay=none, "
                           "delay=400000, delays=4e5/0/0/0, dsn=4.4.1, status=expired, returned to sender"),
                     MT_PF_DELIVERY);
    assert_int_equal(L.status, MT_STATUS_EXPIRED);
    assert_int_equal(parse("Jan 1 00:00:00 h postfix/local[1]: 1A2B3C4D5E: to=<u@e.example>, relay=local, "
                           "delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=undeliverable (unknown user)"),
                     MT_PF_DELIVERY);
    assert_int_equal(L.status, MT_STATUS_BOUNCED);
    assert_slice(L.mx_host, "local");
    assert_int_equal(parse("Jan 1 00:00:00 h postfix/smtp[1]: 1A2B3C4D5E: to=<u@e.example>, relay=x, "
                           "status=weird (x)"),
                     MT_PF_MALFORMED);
}

static void t_queue_lines(void **state)
{
    (void)state;
    assert_int_equal(parse("Sep 25 18:26:34 n16 postfix-239.58.50.50/qmgr[31214]: 23EBE3D5C0: "
                           "from=<s@sender.example>, size=312343, nrcpt=1 (queue active)"),
                     MT_PF_QMGR_FROM);
    assert_slice(L.from, "s@sender.example");
    assert_int_equal(L.size, 312343);
    assert_int_equal(L.nrcpt, 1);
    assert_int_equal(parse("Sep 30 20:46:08 n16 postfix/qmgr[31214]: 23EBE3D5C0: from=<s@sender.example>, "
                           "status=expired, returned to sender"),
                     MT_PF_QMGR_EXPIRED);
    assert_int_equal(parse("Sep 30 20:46:08 n16 postfix/qmgr[31214]: 23EBE3D5C0: removed"), MT_PF_REMOVED);
    assert_int_equal(
        parse("Sep 30 20:46:08 n16 postfix/cleanup[23568]: A7E673C067: message-id=<x@y.example>"),
        MT_PF_MESSAGE_ID);
    assert_slice(L.message_id, "x@y.example");
    assert_int_equal(parse("Sep 30 20:46:08 n16 postfix/bounce[23567]: 23EBE3D5C0: sender non-delivery "
                           "notification: A7E673C067"),
                     MT_PF_BOUNCE_NOTICE);
    assert_slice(L.new_queue_id, "A7E673C067");
    assert_int_equal(parse("Sep 30 20:46:08 n16 postfix/smtpd[1]: 23EBE3D5C0: client=a.example[192.0.2.1]"),
                     MT_PF_CLIENT);
    assert_int_equal(parse("Sep 30 20:46:08 n16 postfix/pickup[1]: 23EBE3D5C0: uid=0 from=<root>"),
                     MT_PF_CLIENT);
}

static void t_header_checks(void **state)
{
    (void)state;
    assert_int_equal(parse("Nov 20 21:35:50 mx1 postfix/cleanup[9]: 3F1A2B3C4D: info: header X-Template-Id: "
                           "tpl-welcome-7 from local; from=<s@sender.example> to=<a@163.com>"),
                     MT_PF_HEADER);
    assert_slice(L.header_name, "X-Template-Id");
    assert_slice(L.header_value, "tpl-welcome-7");
    assert_int_equal(parse("Nov 20 21:35:50 mx1 postfix/cleanup[9]: 3F1A2B3C4D: info: header From: Shop "
                           "<news@brand.example> from app.example[192.0.2.7]; from=<b@bounce.example> "
                           "to=<a@163.com> proto=ESMTP helo=<app.example>"),
                     MT_PF_HEADER);
    assert_slice(L.header_value, "Shop <news@brand.example>");
    assert_int_equal(
        parse("Nov 20 21:35:50 mx1 postfix/cleanup[9]: 3F1A2B3C4D: warning: header Content-Type: "
              "multipart/mixed; boundary=\"b1\" from local; from=<s@x> to=<a@163.com>"),
        MT_PF_HEADER);
    assert_slice(L.header_value, "multipart/mixed; boundary=\"b1\"");
}

static void t_skipped(void **state)
{
    (void)state;
    /* other programs: foreign, never parsed */
    assert_int_equal(parse("Dec  7 13:28:01 mail amavis[25465]: (25465-19) Passed CLEAN"), MT_PF_FOREIGN);
    assert_int_equal(parse("Dec  7 13:28:01 mail dovecot: lmtp(1): msgid=<x>: saved"), MT_PF_FOREIGN);
    assert_int_equal(parse("Jan 1 00:00:00 hostname postfix/unknown[12345]: foo"), MT_PF_FOREIGN);
    /* Postfix lines with nothing for the record */
    assert_int_equal(parse("Jan 1 00:00:00 h postfix/smtpd[1]: connect from x[1.2.3.4]"), MT_PF_IGNORED);
    assert_int_equal(
        parse("Jan 1 00:00:00 h postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[1.2.3.4]: 554 no"),
        MT_PF_IGNORED);
    assert_int_equal(parse("Jan 1 00:00:00 h postfix/smtp[1]: warning: TLS library problem"), MT_PF_IGNORED);
    assert_int_equal(
        parse("Jan 1 00:00:00 h postfix/postscreen[1]: CONNECT from [1.2.3.4]:5 to [5.6.7.8]:25"),
        MT_PF_IGNORED);
    /* broken */
    assert_int_equal(parse("Jan: 1 00:00:00 hostname postfix/postscreen[12345]: foo"), MT_PF_MALFORMED);
    assert_int_equal(parse("Jan 1 00:00:00 hostname postfix/postscreen[abcde]: foo"), MT_PF_MALFORMED);
    assert_int_equal(parse("Jan 1 00:00:00 hostname postfix/postscreen[12345"), MT_PF_MALFORMED);
    assert_int_equal(parse("Jan 1 00:00:00"), MT_PF_MALFORMED);
    assert_int_equal(parse(""), MT_PF_MALFORMED);
    assert_int_equal(parse("Jan 1 00:00:00 h postfix/smtp[1]: 1A2B3C4D5E: to=<unterminated, relay=x"),
                     MT_PF_MALFORMED);
}

/* the [pid] is read eight bytes a step: every length, and a stray byte at
 * every position of it, inside and after the first eight */
static void t_pid(void **state)
{
    (void)state;
    char line[128];
    assert_int_equal(parse("Jan 1 00:00:00 h postfix/smtpd[]: connect from x[1.2.3.4]"), MT_PF_MALFORMED);
    for (int len = 1; len <= 20; len++) {
        char pid[32];
        for (int i = 0; i < len; i++)
            pid[i] = (char)('0' + (i * 7 + 3) % 10);
        pid[len] = '\0';
        snprintf(line, sizeof line, "Jan 1 00:00:00 h postfix/smtpd[%s]: connect from x[1.2.3.4]", pid);
        assert_int_equal(parse(line), MT_PF_IGNORED);
        for (int bad = 0; bad < len; bad++) {
            static const char strays[] = {'a', '/', ':', ' ', '@', (char)0xb3};
            for (size_t k = 0; k < sizeof strays; k++) {
                char b[32];
                memcpy(b, pid, (size_t)len + 1);
                b[bad] = strays[k];
                snprintf(line, sizeof line, "Jan 1 00:00:00 h postfix/smtpd[%s]: connect from x[1.2.3.4]", b);
                assert_int_equal(parse(line), MT_PF_MALFORMED);
            }
        }
    }
    /* a line that ends inside the pid, at every length */
    for (int len = 1; len <= 12; len++) {
        snprintf(line, sizeof line, "Jan 1 00:00:00 h postfix/smtpd[%.*s", len, "123456789012");
        assert_int_equal(parse(line), MT_PF_MALFORMED);
    }
}

static void t_year_rollover(void **state)
{
    (void)state;
    mt_yearctx yc;
    int64_t t;
    int32_t us;
    mt_yearctx_init(&yc, 2025, 0);
    assert_true(mt_time_parse("Dec 31 23:59:59", 15, &yc, &t, &us) > 0);
    assert_int_equal(t, 1767225599); /* 2025-12-31T23:59:59Z */
    assert_true(mt_time_parse("Jan  1 00:00:01", 15, &yc, &t, &us) > 0);
    assert_int_equal(t, 1767225601); /* 2026-01-01T00:00:01Z */
    /* mtime in early January: a December first line is last year's */
    mt_yearctx_init(&yc, 0, 1767312000); /* 2026-01-02 */
    assert_true(mt_time_parse("Dec 30 10:00:00", 15, &yc, &t, &us) > 0);
    assert_int_equal(t, 1767088800); /* 2025-12-30T10:00:00Z */
    assert_true(mt_time_parse("Jan  2 10:00:00", 15, &yc, &t, &us) > 0);
    assert_int_equal(t, 1767348000); /* 2026-01-02T10:00:00Z */
}

static void t_reply_codes(void **state)
{
    (void)state;
    char enh[16];
    assert_int_equal(mt_reply_code_enhanced("451 4.3.2 Internal server error", 31, enh), 451);
    assert_string_equal(enh, "4.3.2");
    assert_int_equal(mt_reply_code_enhanced("550-5.7.1 [1.2.3.4] blocked", 27, enh), 550);
    assert_string_equal(enh, "5.7.1");
    assert_int_equal(mt_reply_code_enhanced("451 DT:SPM 163 smtp14", 21, enh), 451);
    assert_string_equal(enh, "");
    assert_int_equal(mt_reply_code_enhanced("123 #1.2.3 x", 12, enh), 0);
    assert_int_equal(mt_reply_code_enhanced("45", 2, enh), 0);
}

/* the enhanced status read plainly, one part at a time: the library reads
 * the usual one-digit form straight and must agree with this */
static int ref_code_enhanced(const char *s, size_t n, char enh[16])
{
    enh[0] = '\0';
    if (n < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
        (n > 3 && s[3] != ' ' && s[3] != '-'))
        return 0;
    size_t e = 4, d1 = 0, d2 = 0;
    if (n > 5 && (s[4] == '2' || s[4] == '4' || s[4] == '5') && s[5] == '.') {
        for (e = 6; e < n && s[e] >= '0' && s[e] <= '9' && d1 < 3; e++)
            d1++;
        if (d1 && e < n && s[e] == '.') {
            for (e++; e < n && s[e] >= '0' && s[e] <= '9' && d2 < 3; e++)
                d2++;
            if (d2 && (e == n || s[e] == ' ' || s[e] == ',' || s[e] == ';')) {
                memcpy(enh, s + 4, e - 4);
                enh[e - 4] = '\0';
            }
        }
    }
    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

static void t_code_enhanced_random(void **state)
{
    (void)state;
    static const char alphabet[] = "2450791.. ,;-x";
    uint64_t x = 0x853c49e6748fea9bULL;
    for (int round = 0; round < 200000; round++) {
        char s[16], want[16], got[16];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = 3 + (size_t)(x % 12);
        memcpy(s, round & 1 ? "250 " : "451-", 4); /* a valid code, then anything */
        for (size_t i = 4; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        int a = ref_code_enhanced(s, n, want), b = mt_reply_code_enhanced(s, n, got);
        assert_int_equal(a, b);
        assert_string_equal(want, got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_netease_451_after_data),
        cmocka_unit_test(t_code_enhanced_random),
        cmocka_unit_test(t_stages),
        cmocka_unit_test(t_fields),
        cmocka_unit_test(t_multiline_reply),
        cmocka_unit_test(t_other_statuses),
        cmocka_unit_test(t_queue_lines),
        cmocka_unit_test(t_header_checks),
        cmocka_unit_test(t_skipped),
        cmocka_unit_test(t_pid),
        cmocka_unit_test(t_year_rollover),
        cmocka_unit_test(t_reply_codes),
        cmocka_unit_test(t_absurd_delay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
