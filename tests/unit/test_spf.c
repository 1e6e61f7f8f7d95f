/*
 * test_spf.c - the SPF record grammar and macro expansion without DNS:
 * RFC 7208 §7.4's own examples, and syntax cases from §4.6 and §5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domaincheck.h"
#include "spf.h"

static void expect_expand(const char *macro, int exp, const char *want)
{
    mt_buf b;
    mt_buf_init(&b);
    int rc = mt_spf_expand_test(macro, strlen(macro), exp, &b);
    assert_int_equal(rc, 0);
    assert_string_equal(b.data ? b.data : "", want);
    mt_buf_free(&b);
}

static void test_rfc7208_examples(void **state)
{
    (void)state;
    expect_expand("%{s}", 0, "strong-bad@email.example.com");
    expect_expand("%{o}", 0, "email.example.com");
    expect_expand("%{d}", 0, "email.example.com");
    expect_expand("%{d4}", 0, "email.example.com");
    expect_expand("%{d3}", 0, "email.example.com");
    expect_expand("%{d2}", 0, "example.com");
    expect_expand("%{d1}", 0, "com");
    expect_expand("%{dr}", 0, "com.example.email");
    expect_expand("%{d2r}", 0, "example.email");
    expect_expand("%{l}", 0, "strong-bad");
    expect_expand("%{l-}", 0, "strong.bad");
    expect_expand("%{lr}", 0, "strong-bad");
    expect_expand("%{lr-}", 0, "bad.strong");
    expect_expand("%{l1r-}", 0, "strong");
    expect_expand("%{ir}.%{v}._spf.%{d2}", 0, "3.2.0.192.in-addr._spf.example.com");
    expect_expand("%{lr-}.lp._spf.%{d2}", 0, "bad.strong.lp._spf.example.com");
    expect_expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", 0, "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    expect_expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", 0, "3.2.0.192.in-addr.strong.lp._spf.example.com");
    expect_expand("%{d2}.trusted-domains.example.net", 0, "example.com.trusted-domains.example.net");
    expect_expand("%%%_%-", 0, "% %20");
    expect_expand("%{S}", 0, "strong-bad%40email.example.com");
    expect_expand("%{c} is not allowed", 1, "192.0.2.3 is not allowed");
}

static void test_macro_errors(void **state)
{
    (void)state;
    mt_buf b;
    mt_buf_init(&b);
    assert_int_equal(mt_spf_expand_test("%{c}", 4, 0, &b), -1); /* c only in exp */
    assert_int_equal(mt_spf_expand_test("%{x}", 4, 1, &b), -1);
    assert_int_equal(mt_spf_expand_test("%{d", 3, 0, &b), -1);
    assert_int_equal(mt_spf_expand_test("%x", 2, 0, &b), -1);
    assert_int_equal(mt_spf_expand_test("%{d0}", 5, 0, &b), -1);
    assert_int_equal(mt_spf_expand_test("a b", 3, 0, &b), -1); /* no space outside exp */
    mt_buf_free(&b);
}

static void syntax(const char *rec, mt_spf_syntax *s)
{
    mt_spf_parse_check(rec, strlen(rec), s);
}

static void test_syntax(void **state)
{
    (void)state;
    mt_spf_syntax s;
    syntax("v=spf1 -all", &s);
    assert_true(s.ok);
    assert_true(s.has_all);
    assert_int_equal(s.all_qualifier, '-');
    syntax("v=spf1 ptr include:a.example include:A.example a mx exists:%{i}.x.example redirect=b.example",
           &s);
    assert_true(s.ok);
    assert_true(s.has_ptr);
    assert_true(s.has_redirect);
    assert_int_equal(s.dns_terms, 7);
    assert_int_equal(s.duplicate_includes, 1);
    syntax("v=spf1 a:foo.example/24//64 ip6:2001:db8::/32 ip4:192.0.2.0/24 ?all", &s);
    assert_true(s.ok);
    assert_int_equal(s.all_qualifier, '?');
    const char *bad[] = {
        "v=spf1 a:museum",         /* no dot before the top label */
        "v=spf1 a:foo.123",        /* numeric top label */
        "v=spf1 ip4:192.0.2.1/33", /* CIDR too long */
        "v=spf1 ip4:192.0.2.01",   /* leading zero */
        "v=spf1 a/024",            /* leading zero in CIDR */
        "v=spf1 ip6:zz::1",        /* not an address */
        "v=spf1 foo:bar.example",  /* unknown mechanism */
        "v=spf1 redirect=a.example redirect=b.example",
        "v=spf1 exp=a.example exp=b.example",
        "v=spf1 -include",            /* include needs a domain */
        "v=spf1 all:x",               /* all takes nothing */
        "v=spf1 a:%{q}.example",      /* bad macro letter */
        "v=spf1 ip4:192.0.2.1\t-all", /* tab is not a separator */
        "v=spf1 -x=y",                /* qualifier on a modifier */
        "v=spf2 -all",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        syntax(bad[i], &s);
        if (s.ok)
            fail_msg("accepted: %s", bad[i]);
        assert_true(s.error[0] != '\0');
    }
    syntax("v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", &s); /* unknown modifier: ignored */
    assert_true(s.ok);
}

static void test_dmarc_record(void **state)
{
    (void)state;
    char sum[400], p[16];
    const char *r1 = "v=DMARC1; p=reject; rua=mailto:a@example.com";
    assert_int_equal(mt_dmarc_record_check(r1, strlen(r1), sum, sizeof sum, p, sizeof p), MT_CHK_PASS);
    assert_string_equal(p, "reject");
    const char *r2 = "v=DMARC1; p=quarantine; sp=none; pct=50";
    assert_int_equal(mt_dmarc_record_check(r2, strlen(r2), sum, sizeof sum, p, sizeof p), MT_CHK_WARN);
    assert_non_null(strstr(sum, "sp=none is weaker"));
    assert_non_null(strstr(sum, "pct=50"));
    const char *bad[] = {"p=reject; v=DMARC1",        "v=DMARC1; p=maybe", "v=DMARC1; p=none; p=reject",
                         "v=DMARC1; adkim=x; p=none", "v=DMARC1",          "v=DMARC1; p=none; pct=101"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mt_dmarc_record_check(bad[i], strlen(bad[i]), sum, sizeof sum, p, sizeof p),
                         MT_CHK_FAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7208_examples),
        cmocka_unit_test(test_macro_errors),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_dmarc_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
