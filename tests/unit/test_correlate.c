/*
 * test_correlate.c - joining lines into messages: retries, final status,
 * expiry, bounces, queue id reuse, header_checks hints, routes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "classify.h"
#include "correlate.h"
#include "reader_postfix.h"

#define MAXREC 64

typedef struct rec {
    char qid[32], rcpt[64], route[64], from_dom[64], hfrom[64], tmpl[64], atypes[64], msgid[64], ip[32],
        helo[64], reply[96], mx_ip[32], mx_host[64];
    int retry;
    mt_status status;
    mt_final final;
    mt_stage stage;
    mt_category category;
    int last;
    int64_t size;
    char provider[32];
    char meaning[96];
    unsigned flags;
} rec;

static rec recs[MAXREC];
static int nrec;

static void cp(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "(null)");
}

static void on_attempt(const mt_attempt *a, void *arg)
{
    (void)arg;
    assert_true(nrec < MAXREC);
    rec *r = &recs[nrec++];
    memset(r, 0, sizeof *r);
    cp(r->qid, sizeof r->qid, a->queue_id);
    cp(r->rcpt, sizeof r->rcpt, a->recipient);
    cp(r->route, sizeof r->route, a->route);
    cp(r->from_dom, sizeof r->from_dom, a->mail_from_domain);
    cp(r->hfrom, sizeof r->hfrom, a->header_from_domain);
    cp(r->tmpl, sizeof r->tmpl, a->message_template_id);
    cp(r->atypes, sizeof r->atypes, a->attachment_types);
    cp(r->msgid, sizeof r->msgid, a->message_id);
    cp(r->ip, sizeof r->ip, a->sending_ip);
    cp(r->helo, sizeof r->helo, a->helo_name);
    cp(r->reply, sizeof r->reply, a->reply_text);
    cp(r->mx_ip, sizeof r->mx_ip, a->mx_ip);
    cp(r->mx_host, sizeof r->mx_host, a->mx_host);
    r->retry = a->retry_count;
    r->status = a->status;
    r->final = a->final_status;
    r->stage = a->stage;
    r->category = a->category;
    r->last = a->last_for_rcpt;
    r->size = a->message_size;
    cp(r->provider, sizeof r->provider, a->provider);
    cp(r->meaning, sizeof r->meaning, a->rule_meaning);
    r->flags = a->rule_flags;
}

static char rules_path[] = "/tmp/mt-test-rules-XXXXXX";
static char routes_path[] = "/tmp/mt-test-routes-XXXXXX";

static void write_file(char *tmpl, const char *text)
{
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void run(const char *const *lines, const char *routes_text)
{
    nrec = 0;
    mt_buf err;
    mt_buf_init(&err);
    mt_rules *rules = mt_rules_load(rules_path, &err);
    if (rules == NULL)
        fail_msg("%s", err.data);
    mt_routes *routes = NULL;
    if (routes_text) {
        strcpy(routes_path, "/tmp/mt-test-routes-XXXXXX");
        write_file(routes_path, routes_text);
        routes = mt_routes_load(routes_path, &err);
        assert_non_null(routes);
        unlink(routes_path);
    }
    /* three times: classified by the joiner, then ahead of the join as the
     * parsing threads do (another classifier), then so with counts only
     * (what diagnose asks for); the records must agree, but for the MX host
     * and IP, the ids and the accepted attempts' reply, which counts only
     * leaves out */
    static rec first[MAXREC];
    int nfirst = 0;
    for (int pass = 0; pass < 3; pass++) {
        nrec = 0;
        mt_classifier *cls = mt_classifier_new(rules), *ahead = mt_classifier_new(rules);
        mt_join *j = mt_join_new(cls, routes, NULL, on_attempt, NULL);
        mt_join_set_counts_only(j, pass == 2);
        mt_yearctx yc;
        mt_yearctx_init(&yc, 2026, 0);
        for (int i = 0; lines[i]; i++) {
            mt_pf_line l;
            mt_pf_kind k = mt_pf_parse(lines[i], strlen(lines[i]), &yc, &l);
            if (k == MT_PF_MALFORMED)
                fail_msg("line %d malformed (%s): %s", i, l.why, lines[i]);
            if (pass == 0) {
                mt_join_line(j, &l, "test.log", (uint64_t)i + 1);
            } else {
                mt_join_class pre;
                mt_join_classify_ahead(ahead, &l, &pre);
                assert_int_equal(pre.set, k == MT_PF_DELIVERY);
                mt_join_line_hashed(j, &l, mt_join_key_hash(&l), &pre, "test.log", (uint64_t)i + 1);
            }
        }
        mt_join_finish(j);
        mt_join_free(j);
        mt_classifier_free(cls);
        mt_classifier_free(ahead);
        if (pass == 0) {
            nfirst = nrec;
            memcpy(first, recs, sizeof first);
            continue;
        }
        assert_int_equal(nrec, nfirst);
        for (int i = 0; i < nrec; i++) {
            if (pass == 2) { /* classified ahead: no MX host or IP, no ids */
                assert_string_equal(recs[i].mx_ip, "(null)");
                assert_string_equal(recs[i].mx_host, "(null)");
                assert_string_equal(recs[i].qid, "(null)");
                assert_string_equal(recs[i].msgid, "(null)");
                memcpy(recs[i].mx_ip, first[i].mx_ip, sizeof recs[i].mx_ip);
                memcpy(recs[i].mx_host, first[i].mx_host, sizeof recs[i].mx_host);
                memcpy(recs[i].qid, first[i].qid, sizeof recs[i].qid);
                memcpy(recs[i].msgid, first[i].msgid, sizeof recs[i].msgid);
            }
            if (pass == 2 && recs[i].status == MT_STATUS_SENT) {
                assert_string_equal(recs[i].reply, "(null)");
                memcpy(recs[i].reply, first[i].reply, sizeof recs[i].reply);
            }
            assert_string_equal(recs[i].provider, first[i].provider);
            assert_string_equal(recs[i].meaning, first[i].meaning);
            assert_int_equal(recs[i].category, first[i].category);
            assert_memory_equal(&recs[i], &first[i], sizeof recs[i]);
        }
    }
    mt_rules_free(rules);
    mt_routes_free(routes);
    mt_buf_free(&err);
}

#define D451                                                                                                 \
    "status=deferred (host 163mx01.mxmail.netease.com[1.2.3.4] said: 451 4.3.2 Internal server error (in "   \
    "reply to end of DATA command))"

static void t_retries_then_delivered(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "Nov 20 10:00:00 mx postfix/cleanup[1]: AB12CD34EF: message-id=<m1@sender.example>",
        "Nov 20 10:00:00 mx postfix/cleanup[1]: AB12CD34EF: info: header X-Template-Id: tpl-9 from local; "
        "from=<b@sender.example> to=<a@163.com>",
        "Nov 20 10:00:00 mx postfix/cleanup[1]: AB12CD34EF: info: header From: \"Shop\" <News@Brand.Example> "
        "from local; from=<b@sender.example> to=<a@163.com>",
        "Nov 20 10:00:00 mx postfix/cleanup[1]: AB12CD34EF: info: header Content-Type: application/pdf; "
        "name=\"a.pdf\" from local; from=<b@sender.example> to=<a@163.com>",
        "Nov 20 10:00:00 mx postfix/qmgr[2]: AB12CD34EF: from=<b@Sender.Example>, size=74000, nrcpt=2 (queue "
        "active)",
        "Nov 20 10:00:03 mx postfix-cn/smtp[3]: AB12CD34EF: to=<a@163.com>, "
        "relay=163mx01.mxmail.netease.com[1.2.3.4]:25, delay=3, delays=0/0/1/2, dsn=4.3.2, " D451,
        "Nov 20 10:00:03 mx postfix-cn/smtp[3]: AB12CD34EF: to=<c@qq.com>, relay=mx3.qq.com[5.6.7.8]:25, "
        "delay=3, delays=0/0/1/2, dsn=2.0.0, status=sent (250 OK)",
        "Nov 20 10:05:00 mx postfix/qmgr[2]: AB12CD34EF: from=<b@sender.example>, size=74000, nrcpt=2 (queue "
        "active)",
        "Nov 20 10:05:03 mx postfix-cn/smtp[3]: AB12CD34EF: to=<a@163.com>, "
        "relay=163mx01.mxmail.netease.com[1.2.3.4]:25, delay=303, delays=300/0/1/2, dsn=4.3.2, " D451,
        "Nov 20 10:15:03 mx postfix-cn/smtp[3]: AB12CD34EF: to=<a@163.com>, "
        "relay=163mx01.mxmail.netease.com[1.2.3.4]:25, delay=903, delays=900/0/1/2, dsn=2.0.0, status=sent "
        "(250 Mail OK queued as x)",
        "Nov 20 10:15:03 mx postfix/qmgr[2]: AB12CD34EF: removed",
        NULL,
    };
    run(lines, "postfix-cn 203.0.113.5 mail.sender.example\n");
    assert_int_equal(nrec, 4);
    /* a@163.com: 0, 1 deferred, 2 sent; c@qq.com: 0 sent */
    int a = 0, c = 0;
    for (int i = 0; i < nrec; i++) {
        rec *r = &recs[i];
        assert_string_equal(r->qid, "AB12CD34EF");
        assert_string_equal(r->msgid, "m1@sender.example");
        assert_string_equal(r->from_dom, "sender.example");
        assert_string_equal(r->hfrom, "brand.example");
        assert_string_equal(r->tmpl, "tpl-9");
        assert_string_equal(r->atypes, "application/pdf");
        assert_string_equal(r->route, "postfix-cn/smtp");
        assert_string_equal(r->ip, "203.0.113.5");
        assert_string_equal(r->helo, "mail.sender.example");
        assert_int_equal(r->size, 74000);
        assert_int_equal(r->final, MT_FINAL_DELIVERED);
        if (strcmp(r->rcpt, "a@163.com") == 0) {
            assert_int_equal(r->retry, a);
            assert_string_equal(r->provider, "netease");
            assert_int_equal(r->status, a < 2 ? MT_STATUS_DEFERRED : MT_STATUS_SENT);
            assert_int_equal(r->category, a < 2 ? MT_CAT_RECEIVER_INTERNAL : MT_CAT_NONE);
            /* the accepted attempt's reply and MX IP are there (run()
             * checked that counts only leaves them out) */
            assert_string_equal(r->reply,
                                a < 2 ? "451 4.3.2 Internal server error" : "250 Mail OK queued as x");
            assert_string_equal(r->mx_ip, "1.2.3.4");
            assert_string_equal(r->mx_host, "163mx01.mxmail.netease.com");
            assert_int_equal(r->stage, MT_STAGE_DATA_END);
            assert_int_equal(r->last, a == 2);
            a++;
        } else {
            assert_string_equal(r->rcpt, "c@qq.com");
            assert_string_equal(r->provider, "tencent");
            assert_int_equal(r->retry, 0);
            assert_true(r->last);
            c++;
        }
    }
    assert_int_equal(a, 3);
    assert_int_equal(c, 1);
}

static void t_expired_bounced_pending(void **state)
{
    (void)state;
    static const char *const lines[] = {
        /* expires */
        "Nov 20 10:00:00 mx postfix/qmgr[2]: 1111111111: from=<b@s.example>, size=10, nrcpt=1 (queue active)",
        "Nov 20 10:00:01 mx postfix/smtp[3]: 1111111111: to=<x@126.com>, "
        "relay=126mx00.mxmail.netease.com[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=4.3.2, " D451,
        "Nov 25 10:00:01 mx postfix/smtp[3]: 1111111111: to=<x@126.com>, "
        "relay=126mx00.mxmail.netease.com[1.2.3.4]:25, delay=432001, delays=0/0/0/1, dsn=4.3.2, " D451,
        "Nov 25 10:00:01 mx postfix/qmgr[2]: 1111111111: from=<b@s.example>, status=expired, returned to "
        "sender",
        "Nov 25 10:00:01 mx postfix/bounce[4]: 1111111111: sender non-delivery notification: 2222222222",
        "Nov 25 10:00:01 mx postfix/qmgr[2]: 1111111111: removed",
        /* bounces at RCPT */
        "Nov 20 11:00:00 mx postfix/qmgr[2]: 3333333333: from=<b@s.example>, size=10, nrcpt=1 (queue active)",
        "Nov 20 11:00:01 mx postfix/smtp[3]: 3333333333: to=<nouser@163.com>, "
        "relay=163mx01.mxmail.netease.com[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced "
        "(host 163mx01.mxmail.netease.com[1.2.3.4] said: 550 5.1.1 User not found (in reply to RCPT TO "
        "command))",
        "Nov 20 11:00:01 mx postfix/qmgr[2]: 3333333333: removed",
        /* still queued at the end of the input */
        "Nov 25 12:00:00 mx postfix/qmgr[2]: 4444444444: from=<b@s.example>, size=10, nrcpt=1 (queue active)",
        "Nov 25 12:00:01 mx postfix/smtp[3]: 4444444444: to=<y@yeah.net>, relay=yeah.net[1.2.3.4]:25, "
        "delay=1, delays=0/0/0/1, dsn=4.3.2, " D451,
        NULL,
    };
    run(lines, NULL);
    assert_int_equal(nrec, 4);
    int seen = 0;
    for (int i = 0; i < nrec; i++) {
        rec *r = &recs[i];
        if (strcmp(r->qid, "1111111111") == 0) {
            assert_int_equal(r->final, MT_FINAL_EXPIRED);
            seen |= 1;
        } else if (strcmp(r->qid, "3333333333") == 0) {
            assert_int_equal(r->final, MT_FINAL_BOUNCED);
            assert_int_equal(r->stage, MT_STAGE_RCPT);
            assert_int_equal(r->category, MT_CAT_USER_UNKNOWN);
            seen |= 2;
        } else {
            assert_string_equal(r->qid, "4444444444");
            assert_int_equal(r->final, MT_FINAL_DEFERRED);
            assert_string_equal(r->ip, "(null)"); /* no --routes: unknown, not guessed */
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
}

static void t_queue_id_reuse(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "Nov 20 10:00:00 mx postfix/cleanup[1]: 5555555555: message-id=<first@s.example>",
        "Nov 20 10:00:01 mx postfix/smtp[3]: 5555555555: to=<a@qq.com>, relay=mx3.qq.com[5.6.7.8]:25, "
        "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 OK)",
        "Nov 20 10:00:01 mx postfix/qmgr[2]: 5555555555: removed",
        "Nov 20 10:10:00 mx postfix/cleanup[1]: 5555555555: message-id=<second@s.example>",
        "Nov 20 10:10:01 mx postfix/smtp[3]: 5555555555: to=<a@qq.com>, relay=mx3.qq.com[5.6.7.8]:25, "
        "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 OK)",
        /* "removed" lost: the next message-id under the id closes it */
        "Nov 20 10:20:00 mx postfix/cleanup[1]: 5555555555: message-id=<third@s.example>",
        "Nov 20 10:20:01 mx postfix/smtp[3]: 5555555555: to=<a@qq.com>, relay=mx3.qq.com[5.6.7.8]:25, "
        "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 OK)",
        "Nov 20 10:20:01 mx postfix/qmgr[2]: 5555555555: removed",
        /* same id on another host is another message */
        "Nov 20 10:20:01 mx2 postfix/smtp[3]: 5555555555: to=<a@qq.com>, relay=mx3.qq.com[5.6.7.8]:25, "
        "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 OK)",
        NULL,
    };
    run(lines, NULL);
    assert_int_equal(nrec, 4);
    for (int i = 0; i < nrec; i++)
        assert_int_equal(recs[i].retry, 0); /* every one a first attempt of its own message */
    assert_string_equal(recs[0].msgid, "first@s.example");
    assert_string_equal(recs[1].msgid, "second@s.example");
    assert_string_equal(recs[2].msgid, "third@s.example");
}

static int setup(void **state)
{
    (void)state;
    write_file(rules_path,
               "# test rules\n"
               "provider\tnetease\tdomains\t163.com 126.com yeah.net\n"
               "provider\ttencent\tdomains\tqq.com\n"
               "reply\tnetease\tuser_unknown\tdrop\tpermanent_recipient\t^550.*User not found\tno such user\n"
               "reply\t*\treceiver_internal\tretry\tgeneric_frontend\t^451 4\\.3\\.2 Internal server "
               "error\tgeneric\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(rules_path);
    return 0;
}

/* mt_domain_of - what follows the last '@' (a recipient is filed under
 * its domain by it), over addresses with none, one or several */
static void t_domain_of(void **state)
{
    (void)state;
    static const struct {
        const char *addr, *dom;
    } cases[] = {{"alice@163.com", "163.com"},
                 {"\"a@b\"@qq.com", "qq.com"},
                 {"local", ""},
                 {"@x.cn", "x.cn"},
                 {"x@", ""},
                 {"", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mt_slice d = mt_domain_of(cases[i].addr, strlen(cases[i].addr));
        assert_int_equal(d.len, strlen(cases[i].dom));
        assert_memory_equal(d.p, cases[i].dom, d.len);
        assert_ptr_equal(d.p + d.len, cases[i].addr + strlen(cases[i].addr)); /* the address's tail */
    }
    assert_null(mt_domain_of(NULL, 0).p);
    /* a '@' past n is not seen */
    mt_slice d = mt_domain_of("a@b@c", 3);
    assert_int_equal(d.len, 1);
    assert_memory_equal(d.p, "b", 1);
}

/* mt_lower_ascii, mt_copy_lower - every length up to 40 (the word steps, the overlapping
 * last word and the byte loop), every kind of byte, against a byte loop */
static void t_lower_ascii(void **state)
{
    (void)state;
    unsigned x = 7;
    for (int round = 0; round < 20000; round++) {
        char s[48], want[48];
        size_t n = (size_t)round % 41;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            static const char kinds[] = "AZaz@[`{09-.\x80\xc1\xda\xff";
            s[i] = (x >> 12) & 1 ? (char)(x >> 16) : kinds[(x >> 16) % (sizeof kinds - 1)];
            want[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
        }
        s[n] = want[n] = '#'; /* not touched past n */
        char d[48], orig[48];
        memcpy(orig, s, n + 1);
        memset(d, '#', sizeof d);
        mt_copy_lower(d, s, n); /* into another buffer: the source stays */
        assert_memory_equal(d, want, n + 1);
        assert_memory_equal(s, orig, n + 1);
        mt_lower_ascii(s, n);
        assert_memory_equal(s, want, n + 1);
    }
}

/* mt_find - the first place of a needle, against memmem, over haystacks and
 * needles of a four-letter alphabet (so that false starts, overlaps,
 * needles at either end and needles longer than the text all occur) */
static void t_find(void **state)
{
    (void)state;
    unsigned x = 11;
    for (int round = 0; round < 50000; round++) {
        char hay[64], needle[12];
        x = x * 1103515245u + 12345u;
        size_t n = (x >> 8) % 40, m = (x >> 20) % 8;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            hay[i] = "abca"[(x >> 16) % 4];
        }
        for (size_t i = 0; i < m; i++) {
            x = x * 1103515245u + 12345u;
            needle[i] = "abc"[(x >> 16) % 3];
        }
        needle[m] = '\0';
        hay[n] = 'a'; /* past the end: must not be matched */
        const char *want = memmem(hay, n, needle, m);
        assert_ptr_equal(mt_find(hay, n, needle), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_retries_then_delivered),
        cmocka_unit_test(t_expired_bounced_pending),
        cmocka_unit_test(t_queue_id_reuse),
        cmocka_unit_test(t_domain_of),
        cmocka_unit_test(t_lower_ascii),
        cmocka_unit_test(t_find),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
