/*
 * test_reader_haraka.c - Haraka's outbound lines (reader_haraka.c).  The
 * real lines are quoted from logs people posted (where from is said above
 * each); the others are written in the layout of outbound/hmail.js.
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

static mt_haraka_ctx C;
static mt_yearctx Y;
static mt_xrec R;
static const char *why;

static void assert_slice(mt_slice s, const char *want)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)s.len, s.p ? s.p : "");
    assert_string_equal(buf, want);
}

static int parse(const char *line)
{
    why = NULL;
    return mt_haraka_parse(&C, line, strlen(line), &Y, &R, &why);
}

static int setup(void **state)
{
    (void)state;
    mt_haraka_ctx_init(&C);
    mt_yearctx_init(&Y, 2026, 0);
    return 0;
}

/* A Cloudron user's how-to (Haraka 2.8, log.ini timestamps=true),
 * 2020-12-01: a delivery, and a message whose connection timed out. */
static void t_cloudron(void **state)
{
    (void)state;
    static const char ok[] =
        "2020-12-01T22:15:18.000Z [NOTICE] [D33D6290-C923-4DAC-A4B4-D0E7B8FAF010.1.1] [outbound]  delivered "
        "file=1606860914133_1606860914133_0_90_adwUhC_83_b97d55d865ba domain=letterboxes.org "
        "host=in1-smtp.messagingengine.com ip=66.111.4.74 port=25 mode=SMTP tls=Y auth=N "
        "response=\"Queued as BA5AF7A207E\" delay=4.565 fails=0 rcpts=1/0/0";
    assert_int_equal(parse(ok), 1);
    assert_int_equal(R.time, 1606860918);
    assert_slice(R.queue_id, "D33D6290-C923-4DAC-A4B4-D0E7B8FAF010.1.1");
    assert_slice(R.mx_host, "in1-smtp.messagingengine.com");
    assert_slice(R.mx_ip, "66.111.4.74");
    assert_slice(R.reply, "Queued as BA5AF7A207E");
    assert_int_equal(R.recipient.len, 0); /* the line names none */
    assert_slice(R.rcpt_domain, "letterboxes.org");
    assert_int_equal(R.status, MT_STATUS_SENT);
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_true(R.delay > 4.56 && R.delay < 4.57);
    assert_int_equal(R.final, 1);

    /* the receiving side and the context lines carry no attempt */
    assert_int_equal(
        parse("2020-12-01T21:57:08.000Z [NOTICE] [30A11DAA-D11E-4C8A-AF6E-42BB9C4D05B1.1] [core] "
              "queue code=OK msg=\"Message Queued (30A11DAA-D11E-4C8A-AF6E-42BB9C4D05B1.1)\""),
        0);
    assert_int_equal(
        parse("2020-12-01T21:57:08.000Z [INFO] [30A11DAA-D11E-4C8A-AF6E-42BB9C4D05B1.1.1] [outbound] "
              "Looking up A records for: a.mx.example.com"),
        0);
    assert_int_equal(
        parse("2020-12-01T21:57:08.000Z [INFO] [30A11DAA-D11E-4C8A-AF6E-42BB9C4D05B1.1.1] [outbound] "
              "Attempting to deliver to: 4.3.2.1:25 (0) (0)"),
        0);
    assert_int_equal(parse("2020-12-01T21:57:08.000Z [INFO] [-] [core] [outbound] "
                           "[outbound::25:4.3.2.1:undefined:50] dispense() clients=1 available=0"),
                     0);
    assert_int_equal(
        parse("2020-12-01T21:57:44.000Z [ERROR] [30A11DAA-D11E-4C8A-AF6E-42BB9C4D05B1.1.1] "
              "[outbound] Ongoing connection failed to 4.3.2.1:25 : socket timeout waiting on rcpt"),
        0);
    static const char temp[] =
        "2020-12-01T21:57:44.000Z [INFO] [30A11DAA-D11E-4C8A-AF6E-42BB9C4D05B1.1.1] [outbound] Temp failing "
        "1606859828273_1606859828273_0_90_OQNQDT_80_b97d55d865ba for 64 seconds: Tried all MXs";
    assert_int_equal(parse(temp), 1);
    assert_int_equal(R.status, MT_STATUS_DEFERRED);
    assert_int_equal(R.final, 0);
    /* "Tried all MXs" says no more: the cause is the last connection's */
    assert_slice(R.reply, "socket timeout waiting on rcpt");
    assert_int_equal(R.stage, MT_STAGE_RCPT);
    assert_slice(R.mx_host, "a.mx.example.com");
    assert_slice(R.mx_ip, "4.3.2.1");
    assert_int_equal(R.reply_code, 0);
}

/* poste.io's log (s6 stamps with nine fraction digits, Haraka 3), 2026:
 * an LMTP delivery (ip= is a socket path, not an address) and a bounce. */
static void t_poste(void **state)
{
    (void)state;
    static const char ok[] =
        "2026-07-23 20:55:28.029305500  [NOTICE] [1B012E7A-4362-42CC-B2D5-27534802E482.1.1] [outbound]  "
        "delivered file=1784850927980_1784850927980_0_12878_Tynsoa_2_mail.sebarray.tech domain=sebarray.tech "
        "host=127.0.0.1 ip=/run/dovecot/lmtp port=24 mode=LMTP tls=N auth=N "
        "response=\"<admin@sebarray.tech> JDnQAPCpYmqpMgAAAijahw Saved\" delay=0.048 fails=0 rcpts=1/0/0";
    assert_int_equal(parse(ok), 1);
    assert_int_equal(R.time, 1784840128);
    assert_int_equal(R.usec, 29305);
    assert_slice(R.mx_host, "127.0.0.1");
    assert_int_equal(R.mx_ip.len, 0);
    assert_slice(R.reply, "<admin@sebarray.tech> JDnQAPCpYmqpMgAAAijahw Saved");
    static const char nullmx[] =
        "2026-07-23 19:44:30.610745500  [INFO] [69D20955-F582-46D8-BE03-1EF15F7F98B8.1.1] [outbound] "
        "bouncing mail: Domain example.com sends and receives no email (NULL MX)";
    assert_int_equal(parse(nullmx), 1);
    assert_int_equal(R.status, MT_STATUS_BOUNCED);
    assert_int_equal(R.final, 1);
    assert_slice(R.reply, "Domain example.com sends and receives no email (NULL MX)");
    assert_int_equal(R.reply_code, 0);
}

/* Haraka issue #848 (2015, through syslog): a recipient refused at RCPT,
 * then the bounce of the split that carried it (already counted). */
static void t_syslog_rejected(void **state)
{
    (void)state;
    static const char rej[] =
        "Feb 17 21:53:28 mxbt1 haraka[48106]: [NOTICE] [930E3B02-4254-4499-8294-70044A00835D.1.1] [outbound] "
        "recipient <hanna.cohen@hilleltoronto.org> rejected: 550 5.7.1 Service unavailable; Client host "
        "[107.6.51.128 <-- barontel.com] blocked using FBLW15; To request removal from this list please "
        "forward this message to delist@messaging.microsoft.com";
    assert_int_equal(parse(rej), 1);
    assert_int_equal(R.time, 1771365208); /* 2026-02-17T21:53:28Z: --year */
    /* keyed by the message uuid alone (see reader_haraka.c) */
    assert_int_equal(R.recipient.len, 0);
    assert_slice(R.queue_id, "930E3B02-4254-4499-8294-70044A00835D.1.1");
    assert_int_equal(R.reply_code, 550);
    assert_string_equal(R.enhanced, "5.7.1");
    assert_int_equal(R.stage, MT_STAGE_RCPT);
    assert_int_equal(R.status, MT_STATUS_BOUNCED);
    static const char split[] =
        "Feb 17 21:53:28 mxbt1 haraka[48106]: [INFO] [930E3B02-4254-4499-8294-70044A00835D.1.1] [outbound] "
        "bouncing mail: Some recipients failed: <hanna.cohen@hilleltoronto.org>";
    assert_int_equal(parse(split), 0);
    /* another program in the same syslog file */
    assert_int_equal(parse("Feb 17 21:53:29 mxbt1 postfix/smtp[1]: 1234: to=<a@b.c>, status=sent"), 2);
}

/* Haraka issue #2520 (2018; the poster removed the host name): a
 * message-level deferral, 4096 s = 2^(7+5), the seventh failure. */
static void t_issue_2520(void **state)
{
    (void)state;
    static const char l[] =
        "Oct 17 13:10:59  haraka[23821]: [INFO] [7B6260E0-240F-4AAD-9E52-1188B0D14DC5.1.1] "
        "[outbound] Temp failing "
        "1539758017236_1539762057544_6_23821_XrUdrN_11_subdomain.domain.com for 4096 "
        "seconds: Tried all MXs";
    assert_int_equal(parse(l), 1);
    assert_int_equal(R.status, MT_STATUS_DEFERRED);
    assert_slice(R.reply, "Tried all MXs");
    assert_int_equal(R.stage, MT_STAGE_UNKNOWN);
    assert_slice(R.queue_id, "7B6260E0-240F-4AAD-9E52-1188B0D14DC5.1.1");
}

/* A user's log in a Haraka discussion (2024, Haraka 3, loglevel
 * PROTOCOL): Gmail refuses the message at the end of data. */
static void t_protocol_stage(void **state)
{
    (void)state;
    assert_int_equal(
        parse("[INFO] [78407A3F-31FC-4937-80E7-A52CBDCAB1A4.1.1] [outbound] Attempting delivery for "
              "mx: 173.194.79.26"),
        0);
    assert_int_equal(parse("[PROTOCOL] [78407A3F-31FC-4937-80E7-A52CBDCAB1A4.1.1] [outbound] C: DATA"), 0);
    assert_int_equal(parse("[PROTOCOL] [78407A3F-31FC-4937-80E7-A52CBDCAB1A4.1.1] [outbound] C: ."), 0);
    assert_int_equal(parse("[PROTOCOL] [78407A3F-31FC-4937-80E7-A52CBDCAB1A4.1.1] [outbound] S: 550 5.7.26 "
                           "https://support.google.com/mail/answer/81126#authentication "
                           "a640c23a62f3a-a8d25d9970csi572004166b.1002 - gsmtp\\r\\n"),
                     0);
    assert_int_equal(parse("[PROTOCOL] [78407A3F-31FC-4937-80E7-A52CBDCAB1A4.1.1] [outbound] C: QUIT"), 0);
    static const char b[] = "[INFO] [78407A3F-31FC-4937-80E7-A52CBDCAB1A4.1.1] [outbound] Bouncing mail: 550 "
                            "5.7.26 Your email has "
                            "been blocked because the sender is unauthenticated. 5.7.26 Gmail requires all "
                            "senders to authenticate "
                            "with either SPF or DKIM.";
    assert_int_equal(parse(b), 1);
    assert_int_equal(R.time, 0); /* no stamp: unknown */
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_int_equal(R.reply_code, 550);
    assert_string_equal(R.enhanced, "5.7.26");
    assert_slice(R.mx_ip, "173.194.79.26");
    assert_int_equal(R.status, MT_STATUS_BOUNCED);
    assert_int_equal(
        parse("[INFO] [78407A3F-31FC-4937-80E7-A52CBDCAB1A4.1.1] [outbound] Bounce response from "
              "plugins: 900 undefined"),
        0);
}

/* Our own: a message deferred at RCPT for two recipients in one session
 * (one attempt of one unit), retried, delivered; every record is keyed by
 * the uuid alone, whatever line made it. */
static void t_one_unit(void **state)
{
    (void)state;
    static const char d1[] = "Nov 20 21:35:51 mx haraka[7]: [NOTICE] [AB.1.1] [outbound] recipient "
                             "<alice@163.com> deferred: 451 4.7.1 MI:SFQ Try again later";
    assert_int_equal(parse(d1), 1);
    assert_int_equal(R.recipient.len, 0);
    assert_slice(R.rcpt_domain, "163.com"); /* the joiner gives it to the unit */
    assert_slice(R.queue_id, "AB.1.1");
    assert_int_equal(R.status, MT_STATUS_DEFERRED);
    assert_int_equal(R.stage, MT_STAGE_RCPT);
    assert_int_equal(R.final, 0);
    assert_int_equal(
        parse("Nov 20 21:35:51 mx haraka[7]: [NOTICE] [AB.1.1] [outbound] recipient <bob@163.com> "
              "deferred: 451 4.7.1 MI:SFQ Try again later"),
        0);
    assert_int_equal(parse("Nov 20 21:35:51 mx haraka[7]: [INFO] [AB.1.1] [outbound] Temp failing "
                           "1_2_1_7_x_1_h for 64 seconds: Some recipients temp failed: <alice@163.com>, "
                           "<bob@163.com>"),
                     0);
    /* the next session names a recipient again: a new attempt */
    assert_int_equal(parse(d1), 1);
    static const char ok[] =
        "Nov 20 21:37:00 mx haraka[7]: [NOTICE] [AB.1.1] [outbound] delivered file=f "
        "domain=\"163.com\" host=\"163mx01.mxmail.netease.com\" ip=220.181.14.141 port=25 "
        "mode=SMTP tls=N auth=N response=\"Mail OK queued as \"smtp1\"\" delay=69 fails=1 "
        "rcpts=2/0/0";
    assert_int_equal(parse(ok), 1);
    assert_int_equal(R.recipient.len, 0);
    assert_slice(R.queue_id, "AB.1.1");
    assert_slice(R.mx_host, "163mx01.mxmail.netease.com"); /* 2.x quoted it */
    assert_slice(R.rcpt_domain, "163.com");
    assert_slice(R.reply, "Mail OK queued as \"smtp1\"");
    assert_int_equal(R.final, 1);

    /* some recipients temp-failed at delivery: the split stays queued */
    static const char part[] = "[NOTICE] [CD.1.1] [outbound] delivered file=f domain=qq.com host=mx1.qq.com "
                               "ip=1.2.3.4 response=\"OK\" delay=1 fails=0 rcpts=2/1/0";
    assert_int_equal(parse(part), 1);
    assert_int_equal(R.final, 0);

    /* a recipient refused, then the message at DATA in the same session:
     * a deferral adds no attempt, a bounce does */
    assert_int_equal(parse("[NOTICE] [XY.1.1] [outbound] recipient <a@qq.com> deferred: 450 4.2.0 busy"), 1);
    assert_int_equal(
        parse("[INFO] [XY.1.1] [outbound] Temp failing f for 64 seconds: Upstream error: 451 4.3.0 "
              "try later"),
        0);
    assert_int_equal(parse("[NOTICE] [XY.1.1] [outbound] recipient <a@qq.com> deferred: 450 4.2.0 busy"), 1);
    assert_int_equal(parse("[INFO] [XY.1.1] [outbound] bouncing mail: 554 5.7.1 spam"), 1);
    assert_int_equal(R.status, MT_STATUS_BOUNCED);
    assert_int_equal(R.final, 1);
}

/* Our own: the founding case at the end of data, then expiry. */
static void t_expiry(void **state)
{
    (void)state;
    assert_int_equal(parse("[INFO] [EF.1.1] [outbound] Looking up A records for: 163mx01.mxmail.netease.com"),
                     0);
    assert_int_equal(parse("[PROTOCOL] [EF.1.1] [outbound] C: ."), 0);
    static const char t[] = "[INFO] [EF.1.1] [outbound] Temp failing 1_2_0_7_x_1_h for 64 seconds: Upstream "
                            "error: 451 4.3.2 Internal server error";
    assert_int_equal(parse(t), 1);
    assert_int_equal(R.reply_code, 451);
    assert_string_equal(R.enhanced, "4.3.2");
    assert_slice(R.reply, "451 4.3.2 Internal server error");
    assert_int_equal(R.stage, MT_STAGE_DATA_END);
    assert_slice(R.mx_host, "163mx01.mxmail.netease.com");
    assert_int_equal(R.expired, 0);
    static const char x[] =
        "[INFO] [EF.1.1] [outbound] bouncing mail: Too many failures (Upstream error: 451 "
        "4.3.2 Internal server error)";
    assert_int_equal(parse(x), 1);
    assert_int_equal(R.status, MT_STATUS_DEFERRED); /* the last try, then expiry */
    assert_int_equal(R.expired, 1);
    assert_int_equal(R.final, 1);
    assert_slice(R.reply, "451 4.3.2 Internal server error");
    assert_int_equal(R.stage, MT_STAGE_UNKNOWN); /* not logged for this try */
    /* expiry of a split whose recipients were logged one by one */
    assert_int_equal(
        parse("[INFO] [GH.1.1] [outbound] bouncing mail: Too many failures (Some recipients temp "
              "failed: <a@163.com>)"),
        1);
    assert_int_equal(R.kind, MT_XREC_EXPIRED);
    assert_int_equal(R.final, 1);
}

static void t_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *line, *reason;
    } bad[] = {
        {"[NOTICE] [AB.1] [outbound] delivered domain=a.com rcpts=1/0/0", "haraka: delivered without file="},
        {"[NOTICE] [AB.1] [outbound] delivered file=x response=\"open", "haraka: unclosed response=\""},
        {"[NOTICE] [AB.1] [outbound] delivered file=x rcpts=1/x/0", "haraka: rcpts= is not OK/TEMP/PERM"},
        {"[NOTICE] [AB.1] [outbound] recipient <a@b deferred: 451 x", "haraka: recipient without <address>"},
        {"[NOTICE] [AB.1] [outbound] recipient <a@b> deferred: later",
         "haraka: recipient reply without a code"},
        {"[INFO] [AB.1] [outbound] Temp failing f for ever",
         "haraka: Temp failing without \"seconds: reason\""},
        {"[INFO] [-] [outbound] bouncing mail: 550 no", "haraka: delivery line without a message uuid"},
        {"[INFO] [AB.1] [outbound] bouncing mail: ", "haraka: bouncing mail without a reason"},
        {"[INFO] [AB.1]", "haraka: no [origin] after the uuid"},
        {"[INFO] x", "haraka: no [uuid] after the level"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i].line), -1);
        assert_string_equal(why, bad[i].reason);
    }
    assert_int_equal(parse("garbage"), 2);
    assert_int_equal(parse("[nonsense] [x] [y] z"), 2);
    assert_int_equal(parse(""), 2);
}

static void t_detect(void **state)
{
    (void)state;
    static const char plain[] = "[INFO] [-] [core] Loading plugin: relay\n"
                                "[NOTICE] [A.1.1] [outbound]  delivered file=f domain=d rcpts=1/0/0\n";
    assert_int_equal(mt_format_detect(plain, sizeof plain - 1), MT_FORMAT_HARAKA);
    static const char sys[] =
        "Feb 17 21:53:28 mxbt1 haraka[48106]: [NOTICE] [A.1.1] [outbound] recipient <a@b> "
        "rejected: 550 no\n";
    assert_int_equal(mt_format_detect(sys, sizeof sys - 1), MT_FORMAT_HARAKA);
    static const char pf[] =
        "Nov 20 21:35:51 mx postfix/smtp[1]: 1234ABCD: to=<a@163.com>, relay=none, delay=1, "
        "delays=1/0/0/0, dsn=4.4.1, status=deferred (connect to x[1.2.3.4]:25: Connection "
        "timed out)\n";
    assert_int_equal(mt_format_detect(pf, sizeof pf - 1), MT_FORMAT_POSTFIX);
    assert_int_equal(mt_format_from_name("haraka"), MT_FORMAT_HARAKA);
    assert_string_equal(mt_format_name(MT_FORMAT_HARAKA), "haraka");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(t_cloudron, setup),        cmocka_unit_test_setup(t_poste, setup),
        cmocka_unit_test_setup(t_syslog_rejected, setup), cmocka_unit_test_setup(t_issue_2520, setup),
        cmocka_unit_test_setup(t_protocol_stage, setup),  cmocka_unit_test_setup(t_one_unit, setup),
        cmocka_unit_test_setup(t_expiry, setup),          cmocka_unit_test_setup(t_malformed, setup),
        cmocka_unit_test_setup(t_detect, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
