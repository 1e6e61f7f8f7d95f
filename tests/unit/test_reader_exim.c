/*
 * test_reader_exim.c - the Exim mainlog shapes the reader promises: real
 * lines written by Exim's own test suite (Exim commit 13835a3c, test/log/,
 * GPL-2.0-or-later), lines in the forms of Exim's specification (chapter
 * "Log files": log_selector fields), and the whole public corpus when it is
 * present (every delivery, deferral, failure and arrival line must parse).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <dirent.h>

#include "format.h"
#include "reader_exim.h"

static mt_pf_line L;

static mt_pf_kind parse(const char *s)
{
    return mt_exim_parse(s, strlen(s), NULL, &L);
}

static void assert_slice(mt_slice s, const char *want)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)s.len, s.p ? s.p : "");
    assert_string_equal(buf, want);
}

static void t_arrival(void **state)
{
    (void)state;
    /* testsuite */
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= CALLER@test.ex U=CALLER P=scanned-ok "
              "S=sss id=E10HmaX-000000005vi-0000@the.local.host.name"),
        MT_PF_QMGR_FROM);
    assert_slice(L.queue_id, "10HmaY-000000005vi-0000");
    assert_slice(L.from, "CALLER@test.ex");
    assert_int_equal(L.size, -1); /* the test suite masks sizes as "sss" */
    assert_slice(L.message_id, "E10HmaX-000000005vi-0000@the.local.host.name");
    assert_int_equal(L.time, 920367873);
    /* spec form: remote arrival, +subject, millisecond stamps and a zone */
    assert_int_equal(
        parse("2026-11-20 21:35:51.123 +0800 1vKp0a-0004Rg-1x <= <> H=mx.example.net (helo.example.net) "
              "[192.0.2.7]:41234 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=18342 "
              "id=<abc.123@example.net> T=\"Your invoice: November\" for a@163.com"),
        MT_PF_QMGR_FROM);
    assert_int_equal(L.from.len, 0);
    assert_non_null(L.from.p);
    assert_int_equal(L.size, 18342);
    assert_slice(L.message_id, "abc.123@example.net");
    assert_int_equal(L.time, 1795210551 - 8 * 3600);
    assert_int_equal(L.usec, 123000);
}

static void t_delivery(void **state)
{
    (void)state;
    assert_int_equal(parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => userx@domain.com R=all T=smtp "
                           "H=127.0.0.1 [127.0.0.1]:PORT_S I=[127.0.0.1]:10001 C=\"250 OK\""),
                     MT_PF_DELIVERY);
    assert_slice(L.to, "userx@domain.com");
    assert_slice(L.program, "smtp"); /* the route: the transport */
    assert_slice(L.mx_host, "127.0.0.1");
    assert_slice(L.mx_ip, "127.0.0.1");
    assert_slice(L.sending_ip, "127.0.0.1"); /* +outgoing_interface */
    assert_slice(L.reply, "250 OK");
    assert_int_equal(L.reply_code, 250);
    assert_int_equal(L.status, MT_STATUS_SENT);
    assert_int_equal(L.stage, MT_STAGE_DATA_END);
    /* local delivery: local part, then the original address */
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => CALLER <CALLER@one.test.ex> R=localuser "
              "T=local_delivery"),
        MT_PF_DELIVERY);
    assert_slice(L.to, "CALLER@one.test.ex");
    assert_slice(L.program, "local_delivery");
    assert_int_equal(L.stage, MT_STAGE_UNKNOWN);
    /* spec form with every optional field and a confirmation holding ": " */
    assert_int_equal(
        parse("2026-11-20 21:36:02 1vKp0a-0004Rg-1x -> b@126.com F=<news@sender.example> "
              "R=dnslookup T=remote_smtp S=18500 H=126mx01.mxmail.netease.com [220.181.15.161]:25 "
              "I=[198.51.100.20]:52144 X=TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128 CV=yes "
              "DN=\"CN=*.mxmail.netease.com\" K C=\"250 Mail OK queued as: mx1,abc\" QT=1m2s DT=1.5s"),
        MT_PF_DELIVERY);
    assert_slice(L.to, "b@126.com");
    assert_slice(L.program, "remote_smtp");
    assert_slice(L.mx_host, "126mx01.mxmail.netease.com");
    assert_slice(L.mx_ip, "220.181.15.161");
    assert_slice(L.sending_ip, "198.51.100.20");
    assert_slice(L.reply, "250 Mail OK queued as: mx1,abc");
    assert_true(L.delay > 61.9 && L.delay < 62.1);
    /* an escaped quote inside the confirmation, and an escaped backslash before the closing one */
    assert_int_equal(parse("2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1] "
                           "C=\"250 ok \\\"id\\\" x\\\\\" QT=1s"),
                     MT_PF_DELIVERY);
    assert_slice(L.reply, "250 ok \\\"id\\\" x\\\\");
    assert_true(L.delay > 0.9 && L.delay < 1.1);
    /* cutthrough */
    assert_int_equal(parse("2026-11-20 21:36:02 1vKp0a-0004Rg-1x >> c@qq.com R=dnslookup T=remote_smtp "
                           "H=mx3.qq.com [203.205.219.57] C=\"250 Ok\""),
                     MT_PF_DELIVERY);
    assert_int_equal(L.status, MT_STATUS_SENT);
}

static void t_deferral(void **state)
{
    (void)state;
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@domain.com R=all T=smtp defer (-44) "
              "H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT "
              "TO:<userx@domain.com>: 452 Temporary error"),
        MT_PF_DELIVERY);
    assert_int_equal(L.status, MT_STATUS_DEFERRED);
    assert_int_equal(L.stage, MT_STAGE_RCPT);
    assert_int_equal(L.reply_code, 452);
    assert_slice(L.reply, "452 Temporary error");
    assert_slice(L.mx_ip, "127.0.0.1");
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaZ-000000005vi-0000 == userz@domain.com R=all T=smtp defer (-45) "
              "H=127.0.0.1 [127.0.0.1]:PORT_S I=[127.0.0.1]:10001: SMTP error from remote mail server "
              "after MAIL FROM:<>: 450 not right now, sorry"),
        MT_PF_DELIVERY);
    assert_int_equal(L.stage, MT_STAGE_MAIL);
    assert_slice(L.sending_ip, "127.0.0.1");
    assert_slice(L.reply, "450 not right now, sorry");
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@domain1 R=others T=smtp defer (0) "
              "H=localhost4.test.ex [127.0.0.1]: SMTP error from remote mail server after initial "
              "connection: 450 I'm busy"),
        MT_PF_DELIVERY);
    assert_int_equal(L.stage, MT_STAGE_GREETING);
    assert_slice(L.mx_host, "localhost4.test.ex");
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@domain1.com R=all T=smtp defer "
              "(dd): Connection timed out H=127.0.0.1 [127.0.0.1]: SMTP timeout after EHLO "
              "myhost.test.ex"),
        MT_PF_DELIVERY);
    assert_int_equal(L.stage, MT_STAGE_HELO);
    assert_slice(L.mx_ip, "127.0.0.1");
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@simple R=all T=smtp defer (dd): "
              "Connection refused"),
        MT_PF_DELIVERY);
    assert_int_equal(L.stage, MT_STAGE_CONNECT);
    assert_slice(L.reply, "Connection refused");
    assert_int_equal(L.reply_code, 0);
    /* the Netease case, after end of data, with an enhanced code */
    assert_int_equal(
        parse("2026-11-20 21:35:51 1vKp0a-0004Rg-1x == alice@163.com R=dnslookup T=remote_smtp defer "
              "(-46) H=163mx01.mxmail.netease.com [220.181.14.141]: SMTP error from remote mail "
              "server after pipelined end of data: 451 4.3.2 Internal server error"),
        MT_PF_DELIVERY);
    assert_int_equal(L.stage, MT_STAGE_DATA_END);
    assert_int_equal(L.reply_code, 451);
    assert_string_equal(L.enhanced, "4.3.2");
    assert_int_equal(
        parse("2026-11-20 05:53:01 4pc4HO-DDI59l-7O == manayan@sina.com R=dnslookup T=remote_smtp defer "
              "(-18) H=freemx1.sinamail.sina.com.cn [202.108.3.242]: Remote host closed connection in "
              "response to RCPT TO:<manayan@sina.com>"),
        MT_PF_DELIVERY);
    assert_int_equal(L.stage, MT_STAGE_RCPT);
    assert_slice(L.mx_host, "freemx1.sinamail.sina.com.cn");
    /* Exim did not try: not an attempt */
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@simple R=all T=smtp defer (-54): "
              "retry time not reached for any host for 'simple'"),
        MT_PF_IGNORED);
    /* a bare "defer (-1)": a deferral without a reason, not a bad line */
    assert_int_equal(parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == CALLER@test.ex R=caller "
                           "T=local_delivery defer (-1)"),
                     MT_PF_DELIVERY);
    assert_int_equal(L.reply.len, 0);
}

static void t_failure(void **state)
{
    (void)state;
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaZ-000000005vi-0000 ** userz@domain.com R=all T=smtp "
              "H=127.0.0.1 [127.0.0.1]:PORT_S I=[127.0.0.1]:10001 : SMTP error from remote mail server "
              "after RCPT TO:<userz@domain.com>: 550 Recipient refused"),
        MT_PF_DELIVERY);
    assert_int_equal(L.status, MT_STATUS_BOUNCED);
    assert_int_equal(L.stage, MT_STAGE_RCPT);
    assert_int_equal(L.reply_code, 550);
    assert_slice(L.reply, "550 Recipient refused");
    assert_int_equal(parse("1999-03-02 09:44:33 10HmaY-000000005vi-0000 ** userx@domain1 R=others T=smtp "
                           "H=127.0.0.1 [127.0.0.1]* : SMTP error from remote mail server after MAIL "
                           "FROM:<CALLER@test.ex>: 550 Don't like that sender"),
                     MT_PF_DELIVERY);
    assert_int_equal(L.stage, MT_STAGE_MAIL);
    assert_slice(L.mx_ip, "127.0.0.1");
    assert_int_equal(
        parse("1999-03-02 09:44:33 10HmaY-000000005vi-0000 ** userx@bad.ex : Unrouteable address"),
        MT_PF_DELIVERY);
    assert_slice(L.to, "userx@bad.ex");
    assert_slice(L.reply, "Unrouteable address");
    assert_int_equal(L.stage, MT_STAGE_CONNECT);
    /* expiry: Exim gives up after the retry rule's time, without trying
     * (no attempt, the message expired) or on an attempt answered 4xx */
    assert_int_equal(
        parse("2026-11-22 21:35:51 1vKp0a-0004Rg-1x ** e01@163.com R=dnslookup T=remote_smtp: retry "
              "timeout exceeded"),
        MT_PF_QMGR_EXPIRED);
    assert_slice(L.queue_id, "1vKp0a-0004Rg-1x");
    /* as Exim 4.96 writes it when no router or transport is named */
    assert_int_equal(parse("2026-11-28 02:00:57.475 1xX7jc-0004AB-1E ** e01@163.com: retry timeout exceeded"),
                     MT_PF_QMGR_EXPIRED);
    assert_int_equal(
        parse("2026-11-22 21:35:51 1vKp0a-0004Rg-1x ** e01@163.com R=cn T=remote_cn H=127.0.0.1 "
              "[127.0.0.1] I=[127.0.0.1]: SMTP error from remote mail server after end of data: 451 "
              "4.3.2 Internal server error"),
        MT_PF_DELIVERY);
    assert_int_equal(L.status, MT_STATUS_EXPIRED);
    assert_int_equal(L.stage, MT_STAGE_DATA_END);
    assert_slice(L.sending_ip, "127.0.0.1");
}

static void t_other_lines(void **state)
{
    (void)state;
    assert_int_equal(parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 Completed"), MT_PF_REMOVED);
    assert_slice(L.queue_id, "10HmaX-000000005vi-0000");
    assert_int_equal(parse("2026-11-20 21:35:51 [4242] 1vKp0a-0004Rg-1x Completed QT=5s"), MT_PF_REMOVED);
    assert_int_equal(parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 Message is frozen"), MT_PF_IGNORED);
    assert_int_equal(
        parse("1999-03-02 09:44:33 exim x.yz daemon started: pid=p1234, no queue runs, listening "
              "for SMTP on port 1225"),
        MT_PF_IGNORED);
    assert_int_equal(parse("1999-03-02 09:44:33 Start queue run: pid=p1235"), MT_PF_IGNORED);
    assert_int_equal(parse("******** SERVER ********"), MT_PF_MALFORMED);
    assert_non_null(L.why);
    assert_int_equal(parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => a@b R=x C=\"250 unclosed"),
                     MT_PF_MALFORMED);
    assert_int_equal(parse("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => a@b R=x H=h [1.2.3.4"),
                     MT_PF_MALFORMED);
    assert_int_equal(parse("Nov 20 21:35:51 mx1 postfix/smtp[1]: ABCDEF123: to=<a@b>"), MT_PF_MALFORMED);
    assert_true(mt_exim_is_msgid("1vKp0a-0004Rg-1x", 16));
    assert_true(mt_exim_is_msgid("10HmaX-000000005vi-0000", 23));
    assert_false(mt_exim_is_msgid("1vKp0a-0004Rg", 13));
    assert_false(mt_exim_is_msgid("warning:", 8));
}

/* t_stamp - every byte of the timestamp in turn: a digit where a digit
 * goes gives the time of that stamp (checked against the C library's
 * arithmetic), anything else in any place makes the line malformed */
/* msgid_by_parts - Exim's id read part by part (6 base-62 characters, a
 * dash, 6 or 11, a dash, 2 or 4): the rule mt_exim_is_msgid must keep */
static int msgid_by_parts(const char *p, size_t n)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t run[3], k = 0;
    for (int part = 0; part < 3; part++) {
        size_t start = k;
        while (k < n && p[k] != '\0' && strchr(b62, p[k]) != NULL)
            k++;
        run[part] = k - start;
        if (part < 2) {
            if (k >= n || p[k] != '-')
                return 0;
            k++;
        }
    }
    return k == n && run[0] == 6 && (run[1] == 6 || run[1] == 11) && (run[2] == 2 || run[2] == 4);
}

/* every shape of id, and near misses: a dash moved, a byte that is not
 * base 62 in each place, lengths around the valid ones */
static void t_msgid(void **state)
{
    (void)state;
    static const char pool[] = "0aZ9-_.: @\x80";
    unsigned x = 99;
    int valid = 0;
    for (int round = 0; round < 200000; round++) {
        char id[32];
        x = x * 1103515245u + 12345u;
        size_t n = 12 + (x >> 8) % 14;
        static const size_t shapes[4][2] = {{6, 6}, {6, 11}, {6, 6}, {6, 11}};
        size_t b = 7 + shapes[(x >> 20) % 4][1];
        for (size_t i = 0; i < n; i++)
            id[i] = "0aZ9"[(x >> (i % 16)) & 3];
        if (n > 6)
            id[6] = '-';
        if (b < n)
            id[b] = '-';
        x = x * 1103515245u + 12345u;
        if ((x >> 10) % 3 == 0) /* one byte replaced */
            id[(x >> 14) % n] = pool[(x >> 20) % (sizeof pool - 1)];
        id[n] = '\0';
        int want = msgid_by_parts(id, n);
        valid += want;
        if (mt_exim_is_msgid(id, n) != want)
            fail_msg("\"%s\" (%zu bytes): mt_exim_is_msgid says %d", id, n, !want);
    }
    assert_true(valid > 10000); /* the valid shapes were reached */
    assert_true(mt_exim_is_msgid("1vKp0a-0004Rg-1x2y", 18));
    assert_true(mt_exim_is_msgid("10HmaX-000000005vi-00", 21));
    assert_false(mt_exim_is_msgid("1vKp0a-0004Rg-1x-y", 18));
}

/* a QT= that is no time (hundreds of digits, a unit beyond reason) is read
 * as none; the line is still the delivery it is */
static void t_absurd_delay(void **state)
{
    (void)state;
    char digits[420], line[700];
    memset(digits, '9', sizeof digits - 1);
    digits[sizeof digits - 1] = '\0';
    static const char *const forms[] = {"%ss", "%sw", "1w%sd"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char qt[440];
        snprintf(qt, sizeof qt, forms[i], digits);
        snprintf(
            line, sizeof line,
            "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1] C=\"250 ok\" QT=%s",
            qt);
        assert_int_equal(parse(line), MT_PF_DELIVERY);
        assert_slice(L.to, "d@qq.com");
        assert_true(L.delay == -1);
    }
    assert_int_equal(parse("2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1] "
                           "C=\"250 ok\" QT=99999999999999s"),
                     MT_PF_DELIVERY);
    assert_true(L.delay == -1);
    assert_int_equal(parse("2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1] "
                           "C=\"250 ok\" QT=2w1d"),
                     MT_PF_DELIVERY);
    assert_true(L.delay == 2 * 604800 + 86400);
}

static void t_stamp(void **state)
{
    (void)state;
    static const char good[] = "2026-11-20 21:35:51 1vKp0a-0004Rg-1x Completed";
    static const char tries[] = "0159:- /aZ\x7f\xb0";
    char line[sizeof good];
    for (int i = 0; i < 19; i++) {
        for (const char *t = tries; *t; t++) {
            memcpy(line, good, sizeof good);
            line[i] = *t;
            int digit_place = i != 4 && i != 7 && i != 10 && i != 13 && i != 16;
            int ok = digit_place ? (*t >= '0' && *t <= '9') : *t == good[i];
            int y, mo, d, h, mi, sec;
            if (ok && sscanf(line, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) == 6)
                ok = mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && sec <= 60;
            mt_pf_kind k = mt_exim_parse(line, sizeof good - 1, NULL, &L);
            /* the same with a minute remembered: good's (so the changed
             * line meets the cache), or for the first try the line's own */
            mt_pf_line with;
            mt_yearctx yc;
            mt_yearctx_init(&yc, 0, 0);
            mt_exim_parse(t == tries ? line : good, sizeof good - 1, &yc, &with);
            assert_int_equal(mt_exim_parse(line, sizeof good - 1, &yc, &with), k);
            if (!ok) {
                assert_int_equal(k, MT_PF_MALFORMED);
                continue;
            }
            assert_int_equal(k, MT_PF_REMOVED);
            assert_int_equal(with.time, L.time);
            struct tm tm = {.tm_year = y - 1900,
                            .tm_mon = mo - 1,
                            .tm_mday = d,
                            .tm_hour = h,
                            .tm_min = mi,
                            .tm_sec = sec};
            assert_int_equal(L.time, (int64_t)timegm(&tm));
        }
    }
    /* one byte short of a stamp: nothing is read past the line */
    assert_int_equal(mt_exim_parse(good, 18, NULL, &L), MT_PF_MALFORMED);
}

static void t_detect(void **state)
{
    (void)state;
    static const char exim[] =
        "\n1999-03-02 09:44:33 exim x.yz daemon started\n"
        "1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.ex U=CALLER S=3\n";
    assert_int_equal(mt_format_detect(exim, sizeof exim - 1), MT_FORMAT_EXIM);
    static const char pf[] = "Nov 20 21:35:51 mx1 kernel: hello\n"
                             "Nov 20 21:35:51 mx1 postfix/qmgr[1]: 4BnSsd2Hm2z9vq: removed\n";
    assert_int_equal(mt_format_detect(pf, sizeof pf - 1), MT_FORMAT_POSTFIX);
    /* a log of rejections only: Exim's, without message ids (fail2ban's test lines) */
    static const char rej[] =
        "2013-06-12 03:57:58 login authenticator failed for (ylmf-pc) [120.196.140.45]: 535 "
        "Incorrect authentication data (set_id=admin)\n";
    assert_int_equal(mt_format_detect(rej, sizeof rej - 1), MT_FORMAT_EXIM);
    static const char pid[] =
        "2026-11-20 21:35:51 [4242] SMTP connection from [192.0.2.1]:4000 (TCP/IP connection count = 1)\n";
    assert_int_equal(mt_format_detect(pid, sizeof pid - 1), MT_FORMAT_EXIM);
    static const char notex[] = "2026-11-20 21:35:51 something else entirely\n";
    assert_int_equal(mt_format_detect(notex, sizeof notex - 1), MT_FORMAT_AUTO);
    static const char none[] = "hello world\nthis is not a log\n";
    assert_int_equal(mt_format_detect(none, sizeof none - 1), MT_FORMAT_AUTO);
    assert_int_equal(mt_format_from_name("exim"), MT_FORMAT_EXIM);
    assert_int_equal(mt_format_from_name("nope"), -1);
}

/* the public corpus: every line Exim's test suite wrote with a delivery
 * flag parses to a delivery, every arrival to an arrival */
static void t_corpus(void **state)
{
    (void)state;
    const char *root = getenv("MAILTRIAGE_CORPUS");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/mta-logs/exim-testsuite/log", root ? root : "../shared/corpus");
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "skip: corpus absent (%s)\n", dir);
        skip();
    }
    struct dirent *e;
    long flagged = 0, deliveries = 0, arrivals = 0, arrived = 0, files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "r");
        assert_non_null(fp);
        files++;
        char line[8192];
        mt_yearctx yc; /* as a file is read: the minute remembered */
        mt_yearctx_init(&yc, 0, 0);
        while (fgets(line, sizeof line, fp)) {
            size_t n = strcspn(line, "\n");
            char *sp = n > 44 ? strchr(line + 20, ' ') : NULL;
            if (sp == NULL || sp[3] != ' ')
                continue;
            mt_pf_kind k = mt_exim_parse(line, n, &yc, &L);
            if (memcmp(sp + 1, "<=", 2) == 0) {
                arrivals++;
                arrived += k == MT_PF_QMGR_FROM;
            } else if (memcmp(sp + 1, "=>", 2) == 0 || memcmp(sp + 1, "->", 2) == 0 ||
                       memcmp(sp + 1, "**", 2) == 0) {
                flagged++;
                /* or Exim gave up on it without trying: the message expired */
                if (k == MT_PF_DELIVERY ||
                    (k == MT_PF_QMGR_EXPIRED && sp[1] == '*' &&
                     (strstr(line, "for a long time") || strstr(line, "retry timeout exceeded"))))
                    deliveries++;
                else
                    fprintf(stderr, "not a delivery: %.*s\n", (int)n, line);
            }
        }
        fclose(fp);
    }
    closedir(d);
    fprintf(stderr, "corpus: %ld files, %ld/%ld deliveries and failures, %ld/%ld arrivals parsed\n", files,
            deliveries, flagged, arrived, arrivals);
    assert_true(files > 100);
    assert_true(flagged > 1000);
    assert_int_equal(deliveries, flagged);
    assert_int_equal(arrived, arrivals);
}

/* the fields of a parsed line as text, to compare two parses of lines that
 * differ only in the spaces between their fields */
static void describe(const char *line, char *out, size_t cap)
{
    mt_pf_line l;
    memset(&l, 0, sizeof l); /* the fields a line's kind leaves alone */
    mt_pf_kind k = mt_exim_parse(line, strlen(line), NULL, &l);
    const mt_slice *f[] = {&l.to,    &l.orig_to, &l.relay,      &l.program,  &l.reason,     &l.mx_host,
                           &l.mx_ip, &l.reply,   &l.sending_ip, &l.queue_id, &l.message_id, &l.from};
    size_t used =
        (size_t)snprintf(out, cap, "kind=%d status=%d stage=%d code=%d enh=%s delay=%.17g size=%lld", (int)k,
                         (int)l.status, (int)l.stage, l.reply_code, l.enhanced, l.delay, (long long)l.size);
    for (size_t i = 0; i < sizeof f / sizeof f[0] && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, " [%.*s]", (int)f[i]->len, f[i]->p ? f[i]->p : "");
}

/* A sent line in its usual shape (one space before each KEY=VALUE) is read
 * by a fast path; the same line with two spaces before each key is read by
 * the general loop.  Both must give the same fields, on the shapes the
 * fast path takes and on those it hands back (a message, a 3-letter key, an
 * <original> address, a host without its ']'). */
static void t_usual_shape(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "2026-11-20 00:00:02 CEEKfq-rtVtHR-Uc => luxiaoyu1978@163.com R=dnslookup T=postfix-out1 "
        "H=163mx02.mxmail.netease.com [220.181.12.12] I=[198.51.100.31] C=\"250 Mail OK queued as "
        "mx11,0KvANVDxINXCQeCyxEsuQDUYpL--.29781S2 1795132802\" QT=1.3s",
        "2026-11-20 00:00:02 mMePWl-ALtwJe-Bs => wkim37@me.com R=dnslookup T=postfix H=mx01.mail.icloud.com "
        "[17.57.155.34] I=[203.0.113.10] C=\"250 2.0.0 Ok: queued as B434A21697\" QT=0.94s",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x -> b@126.com F=<news@sender.example> R=dnslookup T=remote_smtp "
        "S=18500 H=126mx01.mxmail.netease.com [220.181.15.161]:25 I=[198.51.100.20]:52144 "
        "X=TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128 CV=yes DN=\"CN=*.mxmail.netease.com\" K "
        "C=\"250 Mail OK queued as: mx1,abc\" QT=1m2s DT=1.5s",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1] C=\"250 ok \\\"id\\\" "
        "x\\\\\" "
        "QT=1s",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=[192.0.2.9] I=198.51.100.1 C=\"250 ok\"",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=[192.0.2.9 I=[x C=250 QT=1d2h3m4.5s",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1 C=\"250 ok\"",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R= T= H= C=\"\" QT=",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1]: C=\"250 ok\"",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t: C=\"250 ok\"",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r TTT=t C=\"250 ok\" QT=2s",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t C=\"250 ok",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => local <d@qq.com> R=r T=t",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t H=h [192.0.2.1] C=\"250 ok\" ",
        "2026-11-20 21:36:02 1vKp0a-0004Rg-1x >> c@qq.com R=dnslookup T=remote_smtp H=mx3.qq.com "
        "[203.205.219.57] C=\"250 Ok\"",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        /* two spaces before each KEY= token (outside quotes) */
        char wide[1024], a[4096], b[4096];
        const char *s = lines[i];
        size_t w = 0;
        int quoted = 0;
        for (size_t j = 0; s[j] && w + 2 < sizeof wide; j++) {
            if (s[j] == '"' && (j == 0 || s[j - 1] != '\\'))
                quoted = !quoted;
            if (!quoted && s[j] == ' ' && j > 40 && s[j + 1] >= 'A' && s[j + 1] <= 'Z' &&
                (s[j + 2] == '=' || (s[j + 2] && s[j + 3] == '=')))
                wide[w++] = ' ';
            wide[w++] = s[j];
        }
        wide[w] = 0;
        assert_true(strlen(wide) > strlen(s)); /* the general loop reads it */
        describe(s, a, sizeof a);
        describe(wide, b, sizeof b);
        assert_string_equal(a, b);
    }
    /* and the fast path's answer itself, on the generator's shape */
    assert_int_equal(parse(lines[0]), MT_PF_DELIVERY);
    assert_slice(L.to, "luxiaoyu1978@163.com");
    assert_slice(L.program, "postfix-out1");
    assert_slice(L.mx_host, "163mx02.mxmail.netease.com");
    assert_slice(L.mx_ip, "220.181.12.12");
    assert_slice(L.sending_ip, "198.51.100.31");
    assert_slice(L.reply, "250 Mail OK queued as mx11,0KvANVDxINXCQeCyxEsuQDUYpL--.29781S2 1795132802");
    assert_int_equal(L.reply_code, 250);
    assert_true(L.delay > 1.29 && L.delay < 1.31);
    assert_int_equal(L.stage, MT_STAGE_DATA_END);
}

/* The usual QT= forms ("1.3s", "5s") are read by a fast path; the same
 * value after "0h" by the general loop (0 hours add 0): the same double,
 * bit for bit, and the malformed ones still -1 (no delay). */
static void t_time_forms(void **state)
{
    (void)state;
    static const char *const times[] = {
        "1.3s",   "0.94s", "5s",    "0.1s",  "123.456789s", "1.s",   "0.000001s", "99999999999999s",
        "1.2.3s", "1x",    "s5",    ".5s",   "9.99s",       "0.05s", "1.05s",     "0.07s",
        "7.7s",   "0.0s",  "1.x5s", "1.5xs", "12.3s",       "1.23s"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char a[256], b[256];
        snprintf(a, sizeof a, "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t QT=%s", times[i]);
        snprintf(b, sizeof b, "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t QT=0h%s", times[i]);
        assert_int_equal(parse(a), MT_PF_DELIVERY);
        double fast = L.delay;
        assert_int_equal(parse(b), MT_PF_DELIVERY);
        assert_memory_equal(&fast, &L.delay, sizeof fast);
    }
    /* every "D.Ds" and "D.DDs", the commonest shapes the fast path reads */
    for (int v = 0; v < 1100; v++) {
        char a[128], b[128], t[8];
        if (v < 100)
            snprintf(t, sizeof t, "%d.%ds", v / 10, v % 10);
        else
            snprintf(t, sizeof t, "%d.%02ds", (v - 100) / 100, (v - 100) % 100);
        snprintf(a, sizeof a, "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t QT=%s", t);
        snprintf(b, sizeof b, "2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t QT=0h%s", t);
        assert_int_equal(parse(a), MT_PF_DELIVERY);
        double fast = L.delay;
        assert_int_equal(parse(b), MT_PF_DELIVERY);
        assert_memory_equal(&fast, &L.delay, sizeof fast);
    }
    assert_int_equal(parse("2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t QT=0.25s"),
                     MT_PF_DELIVERY);
    assert_true(L.delay == 0.25);
    assert_int_equal(parse("2026-11-20 21:36:02 1vKp0a-0004Rg-1x => d@qq.com R=r T=t QT=1.2.3s"),
                     MT_PF_DELIVERY);
    assert_true(L.delay == -1);
}

/* An arrival without a quote after its sender is read by looking at its
 * '=' signs only; the same line with a quoted field added at its end (T=,
 * the subject: neither S= nor id=) by the token loop.  Both must give the
 * same size and Message-ID, the last of each key winning, the sender never
 * taken for a field. */
static void t_arrival_plain(void **state)
{
    (void)state;
    static const char *const tails[] = {
        "bounce@em.silk-shop.com.cn H=app.internal [10.10.0.11] P=esmtp S=16350 "
        "id=8013911.265.1795132800929.JavaMail.app@app6.internal",
        "<> R=1vKp0a-0004Rg-1x U=mail P=local S=2411 id=<x=y@z> for a@b",
        "S=7 H=h P=esmtp id=first",
        "a@b  S=9   id=<two>  S=10 id=three",
        "a@b xS=5 Sid=4 AS=3 S==5 id==6",
        "a@b S=5 AS=3 id=<m> xid=n",
        "a@b S=12abc id=",
        "a@b S= id=<>",
        "a@b S=1234567890123456789012 id=<a>b>",
        "a@b",
        "a@b ",
        "a@b P=esmtp S=5 id=<i@d> T=subject",
        "a@b S=5 id=x S=",
    };
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        char plain[512], quoted[600], a[4096], b[4096];
        snprintf(plain, sizeof plain, "2026-11-20 00:00:01 CEEKfq-rtVtHR-Uc <= %s", tails[i]);
        snprintf(quoted, sizeof quoted, "%s T=\"a quoted subject\"", plain);
        describe(plain, a, sizeof a);
        describe(quoted, b, sizeof b);
        assert_string_equal(a, b);
    }
    assert_int_equal(parse("2026-11-20 00:00:01 CEEKfq-rtVtHR-Uc <= a@b  S=9   id=<two>  S=10 id=three"),
                     MT_PF_QMGR_FROM);
    assert_int_equal(L.size, 10);
    assert_slice(L.message_id, "three");
    assert_int_equal(parse("2026-11-20 00:00:01 CEEKfq-rtVtHR-Uc <= S=7 H=h P=esmtp id=<first>"),
                     MT_PF_QMGR_FROM);
    assert_int_equal(L.size, -1); /* "S=7" is the sender */
    assert_slice(L.from, "S=7");
    assert_slice(L.message_id, "first");
    assert_int_equal(parse("2026-11-20 00:00:01 CEEKfq-rtVtHR-Uc <= a@b xS=5 Sid=4 AS=3 S==5 id==6"),
                     MT_PF_QMGR_FROM);
    assert_int_equal(L.size, -1); /* "S==5": no digit after the key's '=' */
    assert_slice(L.message_id, "=6");
    assert_int_equal(parse("2026-11-20 00:00:01 CEEKfq-rtVtHR-Uc <= a@b S=5 AS=3 id=<m> xid=n"),
                     MT_PF_QMGR_FROM);
    assert_int_equal(L.size, 5);
    assert_slice(L.message_id, "m");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_arrival),       cmocka_unit_test(t_delivery),    cmocka_unit_test(t_deferral),
        cmocka_unit_test(t_failure),       cmocka_unit_test(t_other_lines), cmocka_unit_test(t_detect),
        cmocka_unit_test(t_absurd_delay),  cmocka_unit_test(t_corpus),      cmocka_unit_test(t_stamp),
        cmocka_unit_test(t_msgid),         cmocka_unit_test(t_usual_shape), cmocka_unit_test(t_time_forms),
        cmocka_unit_test(t_arrival_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
