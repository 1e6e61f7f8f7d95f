/*
 * test_dkim.c - the DKIM verifier without the shared corpus: the tag-list
 * parser, and RFC 8463 Appendix A.3 (an Ed25519 and an RSA signature over
 * the same message, published in the RFC with their keys A.2) verified,
 * tampered, and with broken, revoked, mismatched or missing keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dkim.h"
#include "dkim_keys.h"

/* RFC 8463 A.3 */
static const char rfc8463[] = "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; \n"
                              " d=football.example.com; i=@football.example.com; \n"
                              " q=dns/txt; s=brisbane; t=1518460054; h=from : to : \n"
                              " subject : date : message-id : from : subject : date; \n"
                              " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \n"
                              " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB\n"
                              " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==\n"
                              "DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; \n"
                              " d=football.example.com; i=@football.example.com; \n"
                              " q=dns/txt; s=test; t=1527915362; h=from : to : subject : \n"
                              " date : message-id : from : subject : date; \n"
                              " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \n"
                              " b=icKcLSEZYXJ95flvWE8FT6hl5iqd8MC/LEKYH0QjsqYy6MO/4pgVNCZH\n"
                              " l/RAXAuADxE/40Fg7uTlxwwD1hjN2Ple6J//cJfslBdDOq6zTVbne1dqtl\n"
                              " NOat7iamJ1AfRqyG+ja7a2AZsrpUuJ7VA6O+0zRYPqpwMEkEFIzI9i/Xk=\n"
                              "From: Joe SixPack <joe@football.example.com>\n"
                              "To: Suzie Q <suzie@shopping.example.net>\n"
                              "Subject: Is dinner ready?\n"
                              "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
                              "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
                              "\n"
                              "Hi.\n"
                              "\n"
                              "We lost the game.  Are you hungry yet?\n"
                              "\n"
                              "Joe.\n"
                              "\n";

static const char ed_key[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rsa_key[] =
    "v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
    "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+"
    "2kryOTIKT+l/K4w3QIDAQAB";

#define NOW 1700000000

static size_t verify(const char *msg, mt_dkim_keys *k, mt_dkim_sig *sigs)
{
    return mt_dkim_verify(msg, strlen(msg), mt_dkim_keys_lookup, k, NOW, sigs, 4);
}

static mt_dkim_keys *both_keys(void)
{
    mt_dkim_keys *k = mt_dkim_keys_new();
    mt_dkim_keys_add_text(k, "brisbane._domainkey.football.example.com", ed_key);
    mt_dkim_keys_add_text(k, "test._domainkey.football.example.com.", rsa_key);
    return k;
}

static void test_tags(void **state)
{
    (void)state;
    mt_dkim_tag t[8];
    char why[128];
    const char *s = " v=1; a = rsa-sha256 ;\r\n\tb=ab cd\r\n ef; x_y=; ";
    int n = mt_dkim_tags_parse(s, strlen(s), t, 8, why, sizeof why);
    assert_int_equal(n, 4);
    assert_true(mt_slice_eq_cstr(t[1].name, "a"));
    assert_true(mt_slice_eq_cstr(t[1].value, "rsa-sha256"));
    assert_true(mt_slice_eq_cstr(t[2].value, "ab cd\r\n ef"));
    assert_true(mt_slice_eq_cstr(t[3].name, "x_y"));
    assert_int_equal(t[3].value.len, 0);
    assert_int_equal(mt_dkim_tags_parse("a=1; a=2", 8, t, 8, why, sizeof why), -1);
    assert_non_null(strstr(why, "twice"));
    assert_int_equal(mt_dkim_tags_parse("a=1; novalue", 12, t, 8, why, sizeof why), -1);
    assert_int_equal(mt_dkim_tags_parse("1a=1", 4, t, 8, why, sizeof why), -1);
    assert_int_equal(mt_dkim_tags_parse("a=1;b=2;c=3", 11, t, 2, why, sizeof why), -1);
    assert_int_equal(mt_dkim_tags_parse("", 0, t, 8, why, sizeof why), 0);
}

static void test_rfc8463_pass(void **state)
{
    (void)state;
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    assert_int_equal(verify(rfc8463, k, s), 2);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_string_equal(s[0].a, "ed25519-sha256");
    assert_string_equal(s[0].d, "football.example.com");
    assert_int_equal(s[0].key_bits, 256);
    assert_int_equal(s[1].result, MT_DKIM_PASS);
    assert_string_equal(s[1].a, "rsa-sha256");
    assert_int_equal(s[1].key_bits, 1024);
    mt_dkim_keys_free(k);
}

/* the same with CRLF line ends, as it crosses SMTP */
/* t= of the example is 2018: at a "now" before it, the pass carries a note */
static void test_future_t(void **state)
{
    (void)state;
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    assert_int_equal(mt_dkim_verify(rfc8463, strlen(rfc8463), mt_dkim_keys_lookup, k, 1500000000, s, 4), 2);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_int_equal(s[0].t, 1518460054);
    assert_non_null(strstr(s[0].reason, "in the future"));
    assert_int_equal(verify(rfc8463, k, s), 2);
    assert_string_equal(s[0].reason, "");
    mt_dkim_keys_free(k);
}

static void test_rfc8463_crlf(void **state)
{
    (void)state;
    mt_buf b;
    mt_buf_init(&b);
    for (const char *p = rfc8463; *p; p++) {
        if (*p == '\n')
            mt_buf_putc(&b, '\r');
        mt_buf_putc(&b, *p);
    }
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    assert_int_equal(mt_dkim_verify(b.data, b.len, mt_dkim_keys_lookup, k, NOW, s, 4), 2);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_int_equal(s[1].result, MT_DKIM_PASS);
    mt_dkim_keys_free(k);
    mt_buf_free(&b);
}

static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    assert_non_null(p);
    size_t n = strlen(s) - strlen(from) + strlen(to);
    char *r = malloc(n + 1);
    size_t a = (size_t)(p - s);
    memcpy(r, s, a);
    strcpy(r + a, to);
    strcat(r, p + strlen(from));
    return r;
}

static void test_tampered_body(void **state)
{
    (void)state;
    char *t = replace(rfc8463, "We lost the game.", "We won the game. ");
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    assert_int_equal(verify(t, k, s), 2);
    assert_int_equal(s[0].result, MT_DKIM_FAIL);
    assert_non_null(strstr(s[0].reason, "body hash mismatch"));
    assert_int_equal(s[1].result, MT_DKIM_FAIL);
    mt_dkim_keys_free(k);
    free(t);
}

static void test_tampered_header(void **state)
{
    (void)state;
    char *t = replace(rfc8463, "Subject: Is dinner ready?", "Subject: Is lunch ready?");
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    assert_int_equal(verify(t, k, s), 2);
    assert_int_equal(s[0].result, MT_DKIM_FAIL);
    assert_non_null(strstr(s[0].reason, "does not verify"));
    assert_int_equal(s[1].result, MT_DKIM_FAIL);
    mt_dkim_keys_free(k);
    free(t);
}

/* simple header canonicalisation: added whitespace in a signed header breaks it */
static void test_simple_is_strict(void **state)
{
    (void)state;
    char *t = replace(rfc8463, "To: Suzie Q", "To:  Suzie Q");
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    verify(t, k, s);
    assert_int_equal(s[0].result, MT_DKIM_FAIL);
    mt_dkim_keys_free(k);
    free(t);
}

/* an unsigned header added on top changes nothing; trailing empty lines neither */
static void test_unsigned_changes(void **state)
{
    (void)state;
    mt_buf b;
    mt_buf_init(&b);
    mt_buf_puts(&b, "Received: from somewhere by here; Mon, 1 Jan 2024 00:00:00 +0000\n");
    mt_buf_puts(&b, rfc8463);
    mt_buf_puts(&b, "\n\n\n");
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    assert_int_equal(mt_dkim_verify(b.data, b.len, mt_dkim_keys_lookup, k, NOW, s, 4), 2);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_int_equal(s[1].result, MT_DKIM_PASS);
    mt_dkim_keys_free(k);
    mt_buf_free(&b);
}

static void one_key_case(const char *rec, mt_dkim_result want, const char *reason_part)
{
    mt_dkim_keys *k = mt_dkim_keys_new();
    mt_dkim_keys_add_text(k, "brisbane._domainkey.football.example.com", rec);
    mt_dkim_sig s[4];
    assert_int_equal(verify(rfc8463, k, s), 2);
    assert_int_equal(s[0].result, want);
    if (reason_part && strstr(s[0].reason, reason_part) == NULL)
        fail_msg("reason '%s' lacks '%s'", s[0].reason, reason_part);
    /* the RSA signature had no key here */
    assert_int_equal(s[1].result, MT_DKIM_NEUTRAL);
    assert_non_null(strstr(s[1].reason, "body hash matches"));
    mt_dkim_keys_free(k);
}

static void test_key_records(void **state)
{
    (void)state;
    one_key_case("v=DKIM1; k=ed25519; p=", MT_DKIM_PERMERROR, "revoked");
    one_key_case("v=DKIM2; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", MT_DKIM_PERMERROR,
                 "v=");
    one_key_case(rsa_key, MT_DKIM_PERMERROR, "k=rsa");
    one_key_case("k=ed25519; h=sha1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", MT_DKIM_PERMERROR,
                 "h=");
    one_key_case("k=ed25519; s=chat; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", MT_DKIM_PERMERROR,
                 "s=");
    one_key_case("k=ed25519; p=AAAA", MT_DKIM_PERMERROR, "Ed25519 key of 3 bytes");
    one_key_case("k=ed25519; p=!!!", MT_DKIM_PERMERROR, "base64");
    one_key_case("k=ed25519; t=y; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", MT_DKIM_PASS, NULL);
    one_key_case("k=ed25519; p=12qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", MT_DKIM_FAIL,
                 "does not verify");
}

static mt_dkim_key_status nxdomain(const char *name, mt_buf *txt, char *why, size_t whylen, void *arg)
{
    (void)name;
    (void)txt;
    (void)arg;
    snprintf(why, whylen, "NXDOMAIN");
    return MT_DKIM_KEY_NONE;
}

static mt_dkim_key_status servfail(const char *name, mt_buf *txt, char *why, size_t whylen, void *arg)
{
    (void)name;
    (void)txt;
    (void)arg;
    snprintf(why, whylen, "SERVFAIL");
    return MT_DKIM_KEY_TEMPERROR;
}

/* the fallback (where the DNS layer plugs in) answers for names not given */
static void test_fallback(void **state)
{
    (void)state;
    mt_dkim_keys *k = mt_dkim_keys_new();
    mt_dkim_keys_add_text(k, "brisbane._domainkey.football.example.com", ed_key);
    mt_dkim_keys_set_fallback(k, nxdomain, NULL);
    mt_dkim_sig s[4];
    verify(rfc8463, k, s);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_int_equal(s[1].result, MT_DKIM_PERMERROR);
    assert_non_null(strstr(s[1].reason, "no key record"));
    mt_dkim_keys_set_fallback(k, servfail, NULL);
    verify(rfc8463, k, s);
    assert_int_equal(s[1].result, MT_DKIM_TEMPERROR);
    mt_dkim_keys_free(k);
}

static void test_signature_syntax(void **state)
{
    (void)state;
    mt_dkim_keys *k = both_keys();
    mt_dkim_sig s[4];
    char *t = replace(rfc8463, "a=ed25519-sha256", "a=ed448-sha256");
    verify(t, k, s);
    assert_int_equal(s[0].result, MT_DKIM_PERMERROR);
    assert_non_null(strstr(s[0].reason, "unsupported"));
    free(t);
    t = replace(rfc8463, "bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; \n b=9/ds", "b=9/ds");
    verify(t, k, s);
    assert_int_equal(s[0].result, MT_DKIM_PERMERROR);
    assert_non_null(strstr(s[0].reason, "bh="));
    free(t);
    t = replace(rfc8463, "i=@football.example.com; \n q=dns/txt; s=brisbane",
                "i=@example.org; \n q=dns/txt; s=brisbane");
    verify(t, k, s);
    assert_int_equal(s[0].result, MT_DKIM_PERMERROR);
    assert_non_null(strstr(s[0].reason, "i= domain"));
    free(t);
    mt_dkim_keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_rfc8463_pass),
        cmocka_unit_test(test_rfc8463_crlf),
        cmocka_unit_test(test_future_t),
        cmocka_unit_test(test_tampered_body),
        cmocka_unit_test(test_tampered_header),
        cmocka_unit_test(test_simple_is_strict),
        cmocka_unit_test(test_unsigned_changes),
        cmocka_unit_test(test_key_records),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_signature_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
