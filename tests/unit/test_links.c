/*
 * test_links.c - URLs found in HTML and text, hosts, IP literals,
 * shorteners, tracking redirects and the targets they carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "links.h"
#include "orgdomain.h"

static void test_html(void **state)
{
    (void)state;
    const char *h =
        "<p><a class=x href=\"https://a.example.com/p?x=1&amp;y=2\">Go <b>there</b></a>"
        "<A HREF='http://b.example.net/'>b</A><img src=\"https://img.example.org/i.png\" width=\"1\">"
        "<!-- <a href=\"https://hidden.example/\">no</a> --><a href=\"mailto:x@example.com\">m</a>"
        "<td background=\"https://bg.example.com/b.gif\"></td><a data-href=\"https://not.example/\">n</a>";
    mt_links l = {0};
    mt_links_from_html(h, strlen(h), &l);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].url, "https://a.example.com/p?x=1&y=2");
    assert_string_equal(l.v[0].text, "Go there");
    assert_int_equal(l.v[0].kind, MT_LINK_HREF);
    assert_memory_equal(h + l.v[0].off, "https://a.example.com/p?x=1&amp;y=2", l.v[0].len);
    assert_string_equal(l.v[1].url, "http://b.example.net/");
    assert_int_equal(l.v[2].kind, MT_LINK_IMG);
    assert_string_equal(l.v[3].url, "https://bg.example.com/b.gif");
    mt_links_free(&l);
}

static void test_text(void **state)
{
    (void)state;
    const char *t =
        "See https://www.example.com/a, and (http://x.example.net/b). Not ftp://f/ nor x=https://q/";
    mt_links l = {0};
    mt_links_from_text(t, strlen(t), &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].url, "https://www.example.com/a");
    assert_string_equal(l.v[1].url, "http://x.example.net/b");
    mt_links_free(&l);
}

static void test_hosts(void **state)
{
    (void)state;
    char h[256];
    assert_int_equal(mt_url_host("https://User:pw@WWW.Example.COM.:8443/x?y#z", h, sizeof h), 0);
    assert_string_equal(h, "www.example.com");
    assert_int_equal(mt_url_host("http://[2001:db8::1]:80/", h, sizeof h), 0);
    assert_string_equal(h, "2001:db8::1");
    assert_true(mt_host_is_ip(h));
    assert_true(mt_host_is_ip("192.0.2.7"));
    assert_false(mt_host_is_ip("192.0.2.example"));
    assert_int_equal(mt_url_host("mailto:x@example.com", h, sizeof h), -1);
    assert_true(mt_host_is_shortener("bit.ly"));
    assert_true(mt_host_is_shortener("t.cn"));
    assert_false(mt_host_is_shortener("bit.ly.example.com"));
}

static void test_tracking(void **state)
{
    (void)state;
    char *t =
        mt_url_unwrap("https://click.esp.net/c?upn=1&url=https%3A%2F%2Fshop.example.com%2Fa%3Fb%3D1&z=2");
    assert_non_null(t);
    assert_string_equal(t, "https://shop.example.com/a?b=1");
    free(t);
    assert_null(mt_url_unwrap("https://click.esp.net/c?upn=1&url=not-a-url"));
    assert_null(mt_url_unwrap("https://www.example.com/?q=https"));
    assert_true(mt_url_is_tracking("https://x.example.com/r?redirect=https://y.example.org/"));
    assert_true(mt_url_is_tracking("https://u123.ct.sendgrid.net/ls/click?upn=abc"));
    assert_true(mt_url_is_tracking("https://click.example.com/abc"));
    assert_true(mt_url_is_tracking("https://www.example.com/track/click/123"));
    assert_false(mt_url_is_tracking("https://www.example.com/products/42"));
}

static void test_orgdomain(void **state)
{
    (void)state;
    mt_orgdomain *o = mt_orgdomain_open();
    char out[256];
    assert_true(mt_orgdomain_has_list(o));
    assert_string_equal(mt_orgdomain_of(o, "Mail.News.Example.CO.UK.", out, sizeof out), "example.co.uk");
    assert_string_equal(mt_orgdomain_of(o, "edm.163.com", out, sizeof out), "163.com");
    assert_string_equal(mt_orgdomain_of(o, "vip.163.com", out, sizeof out), "163.com");
    assert_string_equal(mt_orgdomain_of(o, "www.gov.cn", out, sizeof out), "www.gov.cn");
    assert_true(mt_orgdomain_same(o, "click.example.com", "example.com"));
    assert_false(mt_orgdomain_same(o, "example.com", "example.net"));
    assert_true(mt_orgdomain_known_tld(o, "www.paypal.com"));
    assert_true(mt_orgdomain_known_tld(o, "example.cn"));
    assert_false(mt_orgdomain_known_tld(o, "report.pdf"));
    mt_orgdomain_close(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html),     cmocka_unit_test(test_text),      cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_tracking), cmocka_unit_test(test_orgdomain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
