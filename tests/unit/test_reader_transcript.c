/*
 * test_reader_transcript.c - SMTP dialogues into attempts: a swaks run (the
 * layout of swaks's own output), a pipelined C:/S: transcript, an openssl
 * s_client session typed by hand, <-/-> arrows, and a connection lost in
 * the middle.  The stage of every reply is the command it answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reader_transcript.h"

typedef struct got {
    char rcpt[64], reply[128], from[64], msgid[64], helo[64], mx[64];
    mt_stage stage;
    mt_status status;
    int code;
    char enhanced[16];
} got;

static got G[32];
static int ng, nremoved;
static char last_msgid[64], last_from[64];

static void cp(char *dst, size_t n, mt_slice s)
{
    snprintf(dst, n, "%.*s", (int)s.len, s.p ? s.p : "");
}

static void collect(const mt_pf_line *l, void *arg)
{
    (void)arg;
    if (l->kind == MT_PF_QMGR_FROM) {
        cp(last_msgid, sizeof last_msgid, l->message_id);
        cp(last_from, sizeof last_from, l->from);
    } else if (l->kind == MT_PF_REMOVED) {
        nremoved++;
    } else if (l->kind == MT_PF_DELIVERY && ng < 32) {
        got *g = &G[ng++];
        cp(g->rcpt, sizeof g->rcpt, l->to);
        cp(g->reply, sizeof g->reply, l->reply);
        cp(g->helo, sizeof g->helo, l->helo_name);
        cp(g->mx, sizeof g->mx, l->mx_host);
        snprintf(g->msgid, sizeof g->msgid, "%s", last_msgid);
        snprintf(g->from, sizeof g->from, "%s", last_from);
        g->stage = l->stage;
        g->status = l->status;
        g->code = l->reply_code;
        snprintf(g->enhanced, sizeof g->enhanced, "%s", l->enhanced);
    }
}

static int feed(const char *text)
{
    ng = nremoved = 0;
    last_msgid[0] = last_from[0] = '\0';
    mt_ts *t = mt_ts_new("t0");
    int recognised = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        recognised += mt_ts_line(t, p, n, collect, NULL);
        p += n + (nl ? 1 : 0);
    }
    mt_ts_finish(t, collect, NULL);
    mt_ts_free(t);
    return recognised;
}

static void t_swaks(void **state)
{
    (void)state;
    feed("=== Trying 163mx01.mxmail.netease.com:25...\n"
         "=== Connected to 163mx01.mxmail.netease.com.\n"
         "<-  220 163.com Anti-spam GT for Coremail System (163com[20141201])\n"
         " -> EHLO mta1.sender.example\n"
         "<-  250-mail\n"
         "<-  250-PIPELINING\n"
         "<-  250 8BITMIME\n"
         " -> MAIL FROM:<news@sender.example>\n"
         "<-  250 Mail OK\n"
         " -> RCPT TO:<alice@163.com>\n"
         "<-  250 Mail OK\n"
         " -> RCPT TO:<nobody@163.com>\n"
         "<** 550 User not found: nobody@163.com\n"
         " -> DATA\n"
         "<-  354 End data with <CR><LF>.<CR><LF>\n"
         " -> From: News <news@sender.example>\n"
         " -> Message-Id: <20261120213551.1@sender.example>\n"
         " -> \n"
         " -> RCPT TO:<not-a-command@body.example>\n"
         " -> .\n"
         "<** 451 4.3.2 Internal server error\n"
         " -> QUIT\n"
         "<-  221 Bye\n"
         "=== Connection closed with remote host.\n");
    assert_int_equal(ng, 2);
    assert_string_equal(G[0].rcpt, "nobody@163.com");
    assert_int_equal(G[0].stage, MT_STAGE_RCPT);
    assert_int_equal(G[0].status, MT_STATUS_BOUNCED);
    assert_int_equal(G[0].code, 550);
    assert_string_equal(G[0].helo, "mta1.sender.example");
    assert_string_equal(G[0].mx, "163mx01.mxmail.netease.com");
    assert_string_equal(G[0].from, "news@sender.example");
    assert_string_equal(G[1].rcpt, "alice@163.com");
    assert_int_equal(G[1].stage, MT_STAGE_DATA_END);
    assert_int_equal(G[1].status, MT_STATUS_DEFERRED);
    assert_string_equal(G[1].reply, "451 4.3.2 Internal server error");
    assert_string_equal(G[1].enhanced, "4.3.2");
    assert_string_equal(G[1].msgid, "20261120213551.1@sender.example");
    assert_int_equal(nremoved, 1);
}

static void t_pipelined(void **state)
{
    (void)state;
    /* replies arrive after all the commands: each answers the oldest */
    feed("S: 220 mx3.qq.com ESMTP\n"
         "C: EHLO mta1.sender.example\n"
         "S: 250-mx3.qq.com\n"
         "S: 250 PIPELINING\n"
         "C: MAIL FROM:<news@sender.example>\n"
         "C: RCPT TO:<bob@qq.com>\n"
         "C: RCPT TO:<carol@qq.com>\n"
         "C: DATA\n"
         "S: 250 Ok\n"
         "S: 450 4.2.0 Greylisted, try again later\n"
         "S: 250 Ok\n"
         "S: 354 go ahead\n"
         "C: Subject: x\n"
         "C: \n"
         "C: hi\n"
         "C: .\n"
         "S: 250 2.0.0 Ok: queued as 1\n"
         "C: QUIT\n"
         "S: 221 Bye\n");
    assert_int_equal(ng, 2);
    assert_string_equal(G[0].rcpt, "bob@qq.com");
    assert_int_equal(G[0].stage, MT_STAGE_RCPT);
    assert_int_equal(G[0].status, MT_STATUS_DEFERRED);
    assert_string_equal(G[1].rcpt, "carol@qq.com");
    assert_int_equal(G[1].stage, MT_STAGE_DATA_END);
    assert_int_equal(G[1].status, MT_STATUS_SENT);
}

static void t_sclient_and_arrows(void **state)
{
    (void)state;
    int rec = feed("CONNECTED(00000003)\n"
                   "depth=2 C = US, O = DigiCert Inc, CN = DigiCert Global Root CA\n"
                   "---\n"
                   "220 smtp.example ESMTP\n"
                   "EHLO me.example\n"
                   "250-smtp.example\n"
                   "250 SIZE 1000\n"
                   "MAIL FROM:<a@me.example>\n"
                   "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred\n");
    assert_true(rec >= 6);
    assert_int_equal(ng, 1);
    assert_int_equal(G[0].stage, MT_STAGE_MAIL);
    assert_int_equal(G[0].code, 421);
    assert_string_equal(G[0].rcpt, "");
    feed("<- 554 5.7.1 Service unavailable; client host blocked\n");
    assert_int_equal(ng, 1);
    assert_int_equal(G[0].stage, MT_STAGE_GREETING);
    assert_int_equal(G[0].status, MT_STATUS_BOUNCED);
    /* a connection lost with a recipient accepted and the data unanswered */
    feed("=== Trying mx.example:25...\n"
         "<-  220 hi\n"
         " -> HELO me\n"
         "<-  250 hi\n"
         " -> MAIL FROM:<a@me.example>\n"
         "<-  250 ok\n"
         " -> RCPT TO:<b@x.example>\n"
         "<-  250 ok\n"
         " -> DATA\n"
         "<-  354 go\n"
         " -> .\n"
         "*** Remote host closed connection unexpectedly.\n");
    assert_int_equal(ng, 1);
    assert_string_equal(G[0].rcpt, "b@x.example");
    assert_int_equal(G[0].stage, MT_STAGE_DATA_END);
    assert_int_equal(G[0].status, MT_STATUS_DEFERRED);
    assert_int_equal(G[0].code, 0);
    assert_string_equal(G[0].reply, "Remote host closed connection unexpectedly.");
    /* text that is no dialogue */
    assert_int_equal(feed("hello\nworld\n"), 0);
    assert_int_equal(ng, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_swaks),
        cmocka_unit_test(t_pipelined),
        cmocka_unit_test(t_sclient_and_arrows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
