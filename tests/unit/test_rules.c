/*
 * test_rules.c - the shipped rules file (data/rules.tsv): it loads, and
 * classifies the replies the issue names as the issue says; broken rules
 * files are refused with the line named.
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
#include "rules.h"

static mt_rules *R;
static mt_classifier *C;

static int setup(void **state)
{
    (void)state;
    const char *p = getenv("MAILTRIAGE_RULES");
    if (p == NULL)
        p = "data/rules.tsv";
    mt_buf err;
    mt_buf_init(&err);
    R = mt_rules_load(p, &err);
    if (R == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", p, err.data);
        return -1;
    }
    mt_buf_free(&err);
    C = mt_classifier_new(R);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mt_classifier_free(C);
    mt_rules_free(R);
    return 0;
}

static mt_category cat(const char *provider, const char *reply, unsigned *flags)
{
    mt_rule_hit hit;
    int idx = mt_classify_reply(C, provider, reply, &hit);
    if (idx < 0)
        return MT_CAT_OTHER;
    if (flags)
        *flags = hit.flags;
    return hit.category;
}

static void t_providers(void **state)
{
    (void)state;
    assert_string_equal(mt_rules_provider(R, "163.com", 7, "", 0), "netease");
    assert_string_equal(mt_rules_provider(R, "126.com", 7, "", 0), "netease");
    assert_string_equal(mt_rules_provider(R, "yeah.net", 8, "", 0), "netease");
    assert_string_equal(mt_rules_provider(R, "VIP.163.com", 11, "", 0), "netease");
    assert_string_equal(mt_rules_provider(R, "qq.com", 6, "", 0), "tencent");
    assert_string_equal(mt_rules_provider(R, "foxmail.com", 11, "", 0), "tencent");
    assert_string_equal(mt_rules_provider(R, "gmail.com", 9, "", 0), "google");
    assert_string_equal(mt_rules_provider(R, "outlook.com", 11, "", 0), "microsoft");
    assert_string_equal(mt_rules_provider(R, "yahoo.com", 9, "", 0), "yahoo");
    assert_string_equal(mt_rules_provider(R, "sina.com", 8, "", 0), "sina");
    assert_string_equal(mt_rules_provider(R, "sohu.com", 8, "", 0), "sohu");
    /* a company domain hosted by a provider: by the MX host */
    const char *mx = "aspmx.l.google.com";
    assert_string_equal(mt_rules_provider(R, "acme.example", 12, mx, strlen(mx)), "google");
    mx = "acme-example.mail.protection.outlook.com";
    assert_string_equal(mt_rules_provider(R, "acme.example", 12, mx, strlen(mx)), "microsoft");
    mx = "mx.acme.example";
    assert_string_equal(mt_rules_provider(R, "acme.example", 12, mx, strlen(mx)), "other");
    /* not fooled by look-alikes */
    assert_string_equal(mt_rules_provider(R, "not163.com", 10, "", 0), "other");
}

/* mt_classify_provider, on (domain, MX) as logged, in any case, answers
 * what mt_classify gives the record with them in lower case: over domains
 * and hosts that each map to a different provider, in mixed case, with
 * empty ones, in an order that makes its cache ways collide and refill
 * (a cache keyed on too little, or on the lowered bytes, fails here) */
/* mixcase - src into dst (of cap bytes) with the letters whose bit of
 * bits is set in upper case; returns the length */
static size_t mixcase(const char *src, char *dst, size_t cap, unsigned bits)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        dst[i] = ((bits >> (i % 24)) & 1) && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    dst[n] = '\0';
    return n;
}

static void t_provider_raw(void **state)
{
    (void)state;
    static const char *const doms[] = {"163.com",
                                       "126.com",
                                       "qq.com",
                                       "gmail.com",
                                       "acme.example",
                                       "acme.exampl",
                                       "cme.example",
                                       "",
                                       "VIP.163.com",
                                       "not163.com",
                                       "a-very-long-company-domain-name-beyond-the-cache.example"};
    static const char *const mxs[] = {"",
                                      "aspmx.l.google.com",
                                      "aspmx.l.google.con",
                                      "mx.acme.example",
                                      "acme-example.mail.protection.outlook.com",
                                      "163mx01.mxmail.netease.com",
                                      "mx1.qq.com"};
    mt_classifier *fresh = mt_classifier_new(R);
    unsigned x = 12345;
    int checked = 0;
    for (int round = 0; round < 4000; round++) {
        x = x * 1103515245u + 12345u;
        const char *d0 = doms[(x >> 8) % (sizeof doms / sizeof doms[0])];
        const char *m0 = mxs[(x >> 16) % (sizeof mxs / sizeof mxs[0])];
        char d[96], m[96];
        size_t dn = mixcase(d0, d, sizeof d, x), mn = mixcase(m0, m, sizeof m, x >> 7);
        mt_attempt a;
        memset(&a, 0, sizeof a);
        a.recipient_domain = dn ? d0 : NULL;
        a.mx_host = mn ? m0 : NULL;
        a.status = MT_STATUS_SENT;
        mt_classify(fresh, &a);
        const char *got = mt_classify_provider(C, dn ? d : NULL, dn, mn ? m : NULL, mn);
        assert_non_null(a.provider);
        assert_non_null(got);
        if (strcmp(a.provider, got) != 0)
            fail_msg("(%s, %s): mt_classify says %s, mt_classify_provider %s", d, m, a.provider, got);
        checked++;
    }
    assert_int_equal(checked, 4000);
    /* the answers are the rules' own: a domain of the shipped list */
    assert_string_equal(mt_classify_provider(C, "VIP.163.COM", 11, NULL, 0), "netease");
    assert_string_equal(mt_classify_provider(C, "Acme.Example", 12, "ASPMX.L.GOOGLE.COM", 18), "google");
    assert_string_equal(mt_classify_provider(C, "acme.example", 12, "aspmx.l.google.con", 18), "other");
    mt_classifier_free(fresh);
}

/* a classifier's caches give the answer a fresh one gives: replies that
 * differ only in the quoted recipient, or in ids, asked in turn */
static void t_cached_replies(void **state)
{
    (void)state;
    static const char *const replies[] = {
        "550 User not found: alice@163.com",
        "550 User not found: bob.smith@163.com",
        "451 4.3.2 Internal server error",
        "550 5.1.1 <carol@qq.com>: Recipient address rejected: User unknown",
        "550 5.1.1 <dave@qq.com>: Recipient address rejected: User unknown",
        "421 HL:ICC connection limit, mx14 id abc123def456",
        "421 HL:ICC connection limit, mx15 id zz9988yy77",
        "554 DT:SPM 163 smtp14,EsCowAD3 spam",
        "452 4.2.2 mailbox full <erin@163.com>",
        "no reply at all"};
    static const char *const providers[] = {"netease", "tencent", "other"};
    mt_classifier *shared = mt_classifier_new(R);
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++)
            for (size_t k = 0; k < sizeof providers / sizeof providers[0]; k++) {
                mt_classifier *fresh = mt_classifier_new(R);
                mt_rule_hit a, b;
                memset(&a, 0, sizeof a);
                memset(&b, 0, sizeof b);
                int ia = mt_classify_reply(fresh, providers[k], replies[i], &a);
                int ib = mt_classify_reply(shared, providers[k], replies[i], &b);
                assert_int_equal(ia, ib);
                if (ia >= 0)
                    assert_int_equal(a.category, b.category);
                mt_classifier_free(fresh);
            }
    mt_classifier_free(shared);
}

static void t_netease(void **state)
{
    (void)state;
    unsigned flags = 0;
    assert_int_equal(cat("netease", "451 4.3.2 Internal server error", &flags), MT_CAT_RECEIVER_INTERNAL);
    assert_true(flags & MT_RULE_GENERIC_FRONTEND);
    assert_int_equal(cat("netease", "451 DT:SPM 163 smtp14,EsCowAA3bOuw,1585812 please try again", NULL),
                     MT_CAT_CONTENT);
    assert_int_equal(cat("netease", "554 DT:SPM 126 smtp7,DcmowAB, Mail rejected", NULL), MT_CAT_CONTENT);
    assert_int_equal(cat("netease", "421 HL:ICC 163 mta1 connection limit", NULL), MT_CAT_RATE_LIMIT);
    assert_int_equal(cat("netease", "421 HL:IFC 163 mta1 too many mails", NULL), MT_CAT_RATE_LIMIT);
    assert_int_equal(cat("netease", "451 MI:DMC 163 smtp3 too many messages in one connection", NULL),
                     MT_CAT_RATE_LIMIT);
    assert_int_equal(cat("netease", "554 HL:IPB 163 mta2 not allowed", NULL), MT_CAT_REPUTATION);
    assert_int_equal(cat("netease", "550 MI:SPF 163 smtp9 SPF check failed", NULL), MT_CAT_AUTHENTICATION);
    assert_int_equal(cat("netease", "450 RP:DRC 163 too many recipients", NULL), MT_CAT_RATE_LIMIT);
}

static void t_others(void **state)
{
    (void)state;
    unsigned flags = 0;
    assert_int_equal(cat("tencent", "550 Mailbox not found or access denied", NULL), MT_CAT_USER_UNKNOWN);
    assert_int_equal(cat("tencent", "550 Ip frequency limited [ABC]", NULL), MT_CAT_RATE_LIMIT);
    assert_int_equal(cat("google", "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail", NULL),
                     MT_CAT_REPUTATION);
    assert_int_equal(
        cat("microsoft",
            "451 4.7.650 The mail server [1.2.3.4] has been temporarily rate limited due to IP reputation",
            NULL),
        MT_CAT_REPUTATION);
    assert_int_equal(cat("yahoo", "421 4.7.0 [TSS04] Messages from 1.2.3.4 temporarily deferred", NULL),
                     MT_CAT_REPUTATION);
    assert_int_equal(
        cat("other", "450 4.2.0 <a@b>: Recipient address rejected: Greylisted, see http://postgrey", NULL),
        MT_CAT_GREYLISTING);
    assert_int_equal(cat("other", "452 4.2.2 The email account that you tried to reach is over quota", NULL),
                     MT_CAT_MAILBOX_FULL);
    flags = 0;
    assert_int_equal(cat("other",
                         "550 5.1.1 <a@b>: Recipient address rejected: User unknown in virtual mailbox table",
                         &flags),
                     MT_CAT_USER_UNKNOWN);
    assert_true(flags & MT_RULE_PERMANENT_RECIPIENT);
    assert_int_equal(cat("other", "connect to mx.example.com[192.0.2.1]:25: Connection timed out", NULL),
                     MT_CAT_NETWORK);
    assert_int_equal(cat("other",
                         "Host or domain name not found. Name service error for name=example.invalid "
                         "type=MX: Host not found, try again",
                         NULL),
                     MT_CAT_DNS);
    flags = 0;
    assert_int_equal(cat("other", "451 4.3.2 Internal server error", &flags), MT_CAT_RECEIVER_INTERNAL);
    assert_true(flags & MT_RULE_GENERIC_FRONTEND);
}

static void bad(const char *text, const char *want)
{
    char path[] = "/tmp/mt-test-badrules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    mt_buf err;
    mt_buf_init(&err);
    assert_null(mt_rules_load(path, &err));
    if (strstr(err.data, want) == NULL)
        fail_msg("error '%s' does not say '%s'", err.data, want);
    mt_buf_free(&err);
    unlink(path);
}

static void t_broken_files(void **state)
{
    (void)state;
    bad("reply\t*\tcontent\tretry\t-\t(unclosed\tx\n", ":1: bad regex");
    bad("# c\nreply\t*\tnot_a_category\tretry\t-\tx\tx\n", ":2: unknown category");
    bad("reply\tnosuch\tcontent\tretry\t-\tx\tx\n", "not defined");
    bad("reply\t*\tcontent\tretry\n", "7 tab-separated fields");
    bad("reply\t*\tcontent\tsometimes\t-\tx\tx\n", "unknown action");
    bad("# only comments\n", "no reply rules");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_providers), cmocka_unit_test(t_provider_raw), cmocka_unit_test(t_netease),
        cmocka_unit_test(t_others),    cmocka_unit_test(t_broken_files), cmocka_unit_test(t_cached_replies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
