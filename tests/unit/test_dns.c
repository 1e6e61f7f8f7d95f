/*
 * test_dns.c - DNS answers reduced to result states and records
 * (mt_dns_parse) from hand-built messages: rcodes, multi-string TXT
 * joined, type 99, MX, PTR, answers that lie about their length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"

/* A message for "a.test" of qtype with rcode and the given answer RRs
 * (each: type, rdata, rdlen), names compressed to the question. */
typedef struct rr_in {
    int type;
    const char *rdata;
    size_t rdlen;
} rr_in;

static size_t build(unsigned char *m, int qtype, int rcode, const rr_in *rr, int n)
{
    static const unsigned char q[] = {1, 'a', 4, 't', 'e', 's', 't', 0};
    size_t p = 0;
    m[p++] = 0x12, m[p++] = 0x34;
    m[p++] = 0x81, m[p++] = (unsigned char)(0x80 | rcode);
    m[p++] = 0, m[p++] = 1, m[p++] = 0, m[p++] = (unsigned char)n;
    m[p++] = 0, m[p++] = 0, m[p++] = 0, m[p++] = 0;
    memcpy(m + p, q, sizeof q);
    p += sizeof q;
    m[p++] = (unsigned char)(qtype >> 8), m[p++] = (unsigned char)qtype, m[p++] = 0, m[p++] = 1;
    for (int i = 0; i < n; i++) {
        m[p++] = 0xC0, m[p++] = 12; /* the question's name */
        m[p++] = (unsigned char)(rr[i].type >> 8), m[p++] = (unsigned char)rr[i].type;
        m[p++] = 0, m[p++] = 1, m[p++] = 0, m[p++] = 0, m[p++] = 0, m[p++] = 60;
        m[p++] = (unsigned char)(rr[i].rdlen >> 8), m[p++] = (unsigned char)rr[i].rdlen;
        memcpy(m + p, rr[i].rdata, rr[i].rdlen);
        p += rr[i].rdlen;
    }
    return p;
}

static mt_dns_answer parse(const unsigned char *m, size_t len, int qtype)
{
    mt_dns_answer a;
    memset(&a, 0, sizeof a);
    mt_dns_parse(m, (int)len, qtype, &a);
    return a;
}

static void test_rcodes(void **state)
{
    (void)state;
    unsigned char m[512];
    static const int rc[] = {3, 2, 5, 4};
    static const mt_dns_status want[] = {MT_DNS_NXDOMAIN, MT_DNS_SERVFAIL, MT_DNS_REFUSED, MT_DNS_ERROR};
    for (int i = 0; i < 4; i++) {
        size_t n = build(m, MT_DNS_TXT, rc[i], NULL, 0);
        mt_dns_answer a = parse(m, n, MT_DNS_TXT);
        assert_int_equal(a.status, want[i]);
        mt_dns_answer_clear(&a);
    }
    size_t n = build(m, MT_DNS_TXT, 0, NULL, 0);
    mt_dns_answer a = parse(m, n, MT_DNS_TXT);
    assert_int_equal(a.status, MT_DNS_NODATA);
    assert_string_equal(mt_dns_status_name(a.status), "nodata");
    mt_dns_answer_clear(&a);
    a = parse(m, 7, MT_DNS_TXT); /* shorter than a header */
    assert_int_equal(a.status, MT_DNS_MALFORMED);
}

static void test_txt(void **state)
{
    (void)state;
    unsigned char m[512];
    rr_in rr[] = {{MT_DNS_TXT,
                   "\x0bv=spf1 ip4:\x0f"
                   "192.0.2.5 -all",
                   28},
                  {MT_DNS_TXT, "\x03one", 4}};
    size_t n = build(m, MT_DNS_TXT, 0, rr, 2);
    mt_dns_answer a = parse(m, n, MT_DNS_TXT);
    assert_int_equal(a.status, MT_DNS_OK);
    assert_int_equal(a.n, 2);
    assert_string_equal(a.rr[0].data, "v=spf1 ip4:192.0.2.5 -all");
    assert_int_equal(a.rr[0].nstrings, 2);
    assert_string_equal(a.rr[1].data, "one");
    mt_dns_answer_clear(&a);
    /* type 99, read by our own walk */
    rr[0].type = MT_DNS_SPF;
    n = build(m, MT_DNS_SPF, 0, rr, 1);
    a = parse(m, n, MT_DNS_SPF);
    assert_int_equal(a.status, MT_DNS_OK);
    assert_string_equal(a.rr[0].data, "v=spf1 ip4:192.0.2.5 -all");
    mt_dns_answer_clear(&a);
    /* a character-string longer than its RR */
    rr_in bad[] = {{MT_DNS_SPF, "\x20short", 6}};
    n = build(m, MT_DNS_SPF, 0, bad, 1);
    a = parse(m, n, MT_DNS_SPF);
    assert_int_equal(a.status, MT_DNS_MALFORMED);
    assert_int_equal(a.n, 0);
    /* an RR claiming more data than the message holds */
    n = build(m, MT_DNS_TXT, 0, rr, 1);
    a = parse(m, n - 10, MT_DNS_TXT);
    assert_int_equal(a.status, MT_DNS_MALFORMED);
    mt_dns_answer_clear(&a);
}

static void test_mx_ptr_a(void **state)
{
    (void)state;
    unsigned char m[512];
    rr_in mx[] = {{MT_DNS_MX, "\x00\x0a\x02mx\xc0\x0c", 7}};
    size_t n = build(m, MT_DNS_MX, 0, mx, 1);
    mt_dns_answer a = parse(m, n, MT_DNS_MX);
    assert_int_equal(a.status, MT_DNS_OK);
    assert_int_equal(a.rr[0].pref, 10);
    assert_string_equal(a.rr[0].data, "mx.a.test");
    mt_dns_answer_clear(&a);
    rr_in ptr[] = {{MT_DNS_PTR, "\x04mail\xc0\x0c", 7}, {MT_DNS_PTR, "\x01x\xc0\x0c", 4}};
    n = build(m, MT_DNS_PTR, 0, ptr, 2);
    a = parse(m, n, MT_DNS_PTR);
    assert_int_equal(a.n, 2);
    assert_string_equal(a.rr[0].data, "mail.a.test");
    assert_string_equal(a.rr[1].data, "x.a.test");
    mt_dns_answer_clear(&a);
    rr_in ptrloop[] = {{MT_DNS_PTR, "\xc0\x24", 2}}; /* offset 36: a pointer to itself */
    n = build(m, MT_DNS_PTR, 0, ptrloop, 1);
    a = parse(m, n, MT_DNS_PTR);
    assert_int_equal(a.status, MT_DNS_MALFORMED);
    rr_in addr[] = {{MT_DNS_A, "\xc0\x00\x02\x0a", 4}};
    n = build(m, MT_DNS_A, 0, addr, 1);
    a = parse(m, n, MT_DNS_A);
    assert_int_equal(a.status, MT_DNS_OK);
    assert_string_equal(a.rr[0].data, "192.0.2.10");
    assert_memory_equal(a.rr[0].addr, "\xc0\x00\x02\x0a", 4);
    mt_dns_answer_clear(&a);
}

static void test_reverse(void **state)
{
    (void)state;
    char b[100];
    assert_int_equal(mt_dns_reverse_name("192.0.2.10", b, sizeof b), 0);
    assert_string_equal(b, "10.2.0.192.in-addr.arpa");
    assert_int_equal(mt_dns_reverse_name("2001:db8::1", b, sizeof b), 0);
    assert_string_equal(b, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_int_equal(mt_dns_reverse_name("example.com", b, sizeof b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rcodes),
        cmocka_unit_test(test_txt),
        cmocka_unit_test(test_mx_ptr_a),
        cmocka_unit_test(test_reverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
