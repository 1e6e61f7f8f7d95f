/*
 * msgcheck_charset.c - charsets and language: declared charset vs the
 * bytes (invalid UTF-8, GB2312/GBK/GB18030 declared vs used, missing
 * charset), raw 8-bit and badly RFC 2047-encoded headers, UTF-8 as the
 * seed advises, and the CJK share of the visible text.
 */
#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "msgcheck.h"

/* the one-line whys are cut to their buffers on purpose */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAM "charset"

/* 1 when the bytes convert from charset without a single error */
static int valid_in(const char *charset, const char *p, size_t n)
{
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return -1;
    char chunk[4096];
    char *ip = (char *)p;
    size_t ileft = n;
    int ok = 1;
    while (ileft > 0) {
        char *op = chunk;
        size_t oleft = sizeof chunk;
        if (iconv(cd, &ip, &ileft, &op, &oleft) == (size_t)-1 && errno != E2BIG) {
            ok = 0;
            break;
        }
    }
    iconv_close(cd);
    return ok;
}

static size_t count_8bit(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (unsigned char)p[i] >= 0x80;
    return c;
}

int mt_rfc2047_problem(const char *v, size_t n, char *why, size_t whylen)
{
    int soft = 0;
    why[0] = '\0';
    for (size_t i = 0; i + 1 < n; i++) {
        if (v[i] != '=' || v[i + 1] != '?')
            continue;
        size_t cs = i + 2, q1 = cs;
        while (q1 < n && v[q1] != '?' && v[q1] != ' ')
            q1++;
        if (q1 + 2 >= n || v[q1] != '?' || v[q1 + 2] != '?') {
            /* "=?" that is not an encoded word at all: only complain when
             * it looks like one that was cut */
            if (q1 < n && v[q1] == '?') {
                snprintf(why, whylen, "malformed encoded word at \"%.*s\"", (int)(n - i < 30 ? n - i : 30),
                         v + i);
                return 2;
            }
            continue;
        }
        char enc = v[q1 + 1];
        size_t ts = q1 + 3, te = ts;
        while (te + 1 < n && !(v[te] == '?' && v[te + 1] == '='))
            te++;
        if (te + 1 >= n) {
            snprintf(why, whylen, "unterminated encoded word \"%.*s\"", (int)(n - i < 30 ? n - i : 30),
                     v + i);
            return 2;
        }
        char charset[64];
        size_t cl = q1 - cs < sizeof charset - 1 ? q1 - cs : sizeof charset - 1;
        memcpy(charset, v + cs, cl);
        charset[cl] = '\0';
        char *star = strchr(charset, '*'); /* RFC 2231 language */
        if (star)
            *star = '\0';
        const char *ic = g_mime_charset_iconv_name(charset);
        mt_buf dec;
        mt_buf_init(&dec);
        int bad = 0;
        if (enc == 'B' || enc == 'b') {
            size_t chars = 0;
            for (size_t k = ts; k < te; k++) {
                char c = v[k];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/' || c == '=')) {
                    snprintf(why, whylen, "encoded word \"%.*s\": a character outside base64",
                             (int)(te + 2 - i < 40 ? te + 2 - i : 40), v + i);
                    bad = 1;
                    break;
                }
                chars++;
            }
            if (!bad && chars % 4 != 0) {
                snprintf(why, whylen, "encoded word \"%.*s\": base64 length not a multiple of 4",
                         (int)(te + 2 - i < 40 ? te + 2 - i : 40), v + i);
                bad = 1;
            }
            if (!bad) {
                char *tmp = mt_xstrndup(v + ts, te - ts);
                gsize outlen = 0;
                guchar *d = g_base64_decode(tmp, &outlen);
                if (d)
                    mt_buf_append(&dec, d, outlen);
                g_free(d);
                free(tmp);
            }
        } else if (enc == 'Q' || enc == 'q') {
            for (size_t k = ts; k < te && !bad; k++) {
                unsigned char c = (unsigned char)v[k];
                if (c == '_') {
                    mt_buf_putc(&dec, ' ');
                } else if (c == '=') {
                    int a = k + 2 < te + 1 ? mt_hex_value(v[k + 1]) : -1,
                        b = k + 2 < te + 1 ? mt_hex_value(v[k + 2]) : -1;
                    if (a < 0 || b < 0 || k + 2 >= te) {
                        snprintf(why, whylen, "encoded word \"%.*s\": '=' not followed by two hex digits",
                                 (int)(te + 2 - i < 40 ? te + 2 - i : 40), v + i);
                        bad = 1;
                        break;
                    }
                    mt_buf_putc(&dec, (char)(a * 16 + b));
                    k += 2;
                } else if (c <= ' ' || c >= 0x7f) {
                    snprintf(why, whylen, "encoded word \"%.*s\": space or 8-bit byte inside",
                             (int)(te + 2 - i < 40 ? te + 2 - i : 40), v + i);
                    bad = 1;
                } else {
                    mt_buf_putc(&dec, (char)c);
                }
            }
        } else {
            snprintf(why, whylen, "encoded word \"%.*s\": encoding '%c' is neither B nor Q",
                     (int)(te + 2 - i < 40 ? te + 2 - i : 40), v + i, enc);
            bad = 1;
        }
        if (!bad) {
            int ok = valid_in(ic ? ic : charset, dec.data ? dec.data : "", dec.len);
            if (ok < 0) {
                snprintf(why, whylen, "encoded word in unknown charset \"%.40s\"", charset);
                bad = 1;
            } else if (!ok) {
                snprintf(why, whylen, "encoded word \"%.*s\" decodes to bytes invalid in %s",
                         (int)(te + 2 - i < 40 ? te + 2 - i : 40), v + i, charset);
                bad = 1;
            }
        }
        mt_buf_free(&dec);
        if (bad)
            return 2;
        if (te + 2 - i > 75 && !soft) {
            soft = 1;
            snprintf(why, whylen, "an encoded word of %zu characters (RFC 2047: at most 75)", te + 2 - i);
        }
        i = te + 1;
    }
    return soft;
}

static int is_text_leaf(const mt_part *pt)
{
    return !pt->is_multipart && !pt->is_message && strncmp(pt->ctype, "text/", 5) == 0 && !pt->is_attachment;
}

static int cs_is(const char *cs, const char *name)
{
    return cs && strcasecmp(cs, name) == 0;
}

static void check_text_charsets(const mt_message *m, mt_checklist *out)
{
    size_t np = mt_message_nparts(m), ntext = 0, nonutf8 = 0;
    mt_check_status st = MT_CHECK_PASS;
    char why[512] = "", utf_why[256] = "";
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (!is_text_leaf(pt))
            continue;
        ntext++;
        const mt_buf *d = mt_message_part_decoded(m, i);
        const char *p = d && d->data ? d->data : "";
        size_t n = d ? d->len : 0;
        size_t hi = count_8bit(p, n);
        const char *cs = pt->charset;
        int utf8ok = g_utf8_validate(p, (gssize)n, NULL);
        if (cs && !cs_is(cs, "utf-8") && !cs_is(cs, "us-ascii") && !cs_is(cs, "utf8") && hi) {
            nonutf8++;
            if (!utf_why[0])
                snprintf(utf_why, sizeof utf_why, "part %s is in %s", pt->path, cs);
        }
        if (st == MT_CHECK_FAIL)
            continue;
        if (hi == 0)
            continue;
        if (cs == NULL) {
            snprintf(why, sizeof why,
                     "part %s (%s): %zu 8-bit byte(s) but no charset declared (read as US-ASCII)", pt->path,
                     pt->ctype, hi);
            st = MT_CHECK_FAIL;
            continue;
        }
        if (cs_is(cs, "us-ascii") || cs_is(cs, "ascii")) {
            snprintf(why, sizeof why, "part %s declares us-ascii but has %zu 8-bit byte(s)%s", pt->path, hi,
                     utf8ok ? " (they are UTF-8)" : "");
            st = MT_CHECK_FAIL;
            continue;
        }
        if (cs_is(cs, "utf-8") || cs_is(cs, "utf8")) {
            if (!utf8ok) {
                const char *end = NULL;
                g_utf8_validate(p, (gssize)n, &end);
                int gb = valid_in("GB18030", p, n) == 1;
                snprintf(why, sizeof why, "part %s declares UTF-8 but has invalid UTF-8 at byte %zu%s",
                         pt->path, end ? (size_t)(end - p) : 0, gb ? " (the bytes read as GB18030/GBK)" : "");
                st = MT_CHECK_FAIL;
            }
            continue;
        }
        int gbfam = cs_is(cs, "gb2312") || cs_is(cs, "gbk") || cs_is(cs, "gb18030") || cs_is(cs, "euc-cn") ||
                    cs_is(cs, "cp936");
        /* GMime maps GB2312 to a superset; judge the GB family by its own tables */
        const char *ic = gbfam ? (cs_is(cs, "gb2312") || cs_is(cs, "euc-cn") ? "GB2312"
                                  : cs_is(cs, "gb18030")                     ? "GB18030"
                                                                             : "GBK")
                               : g_mime_charset_iconv_name(cs);
        int ok = valid_in(ic ? ic : cs, p, n);
        if (ok < 0) {
            snprintf(why, sizeof why, "part %s declares charset \"%.40s\", unknown to iconv", pt->path, cs);
            st = MT_CHECK_FAIL;
            continue;
        }
        if (ok)
            continue;
        if (gbfam) {
            if (valid_in("GBK", p, n) == 1) {
                snprintf(
                    why, sizeof why,
                    "part %s declares %s but uses GBK characters outside it: strict decoders show garbage",
                    pt->path, cs);
                st = MT_CHECK_WARN;
            } else if (valid_in("GB18030", p, n) == 1) {
                snprintf(why, sizeof why, "part %s declares %s but uses GB18030 characters outside it",
                         pt->path, cs);
                st = MT_CHECK_WARN;
            } else if (utf8ok) {
                snprintf(why, sizeof why, "part %s declares %s but the bytes are UTF-8", pt->path, cs);
                st = MT_CHECK_FAIL;
            } else {
                snprintf(why, sizeof why, "part %s: bytes invalid in the declared %s", pt->path, cs);
                st = MT_CHECK_FAIL;
            }
            continue;
        }
        snprintf(why, sizeof why, "part %s: bytes invalid in the declared %s%s", pt->path, cs,
                 utf8ok ? " (they are UTF-8)" : "");
        st = MT_CHECK_FAIL;
    }
    if (ntext == 0)
        mt_checklist_add(out, FAM, "charset-text-parts", MT_CHECK_NA, "no text part");
    else if (st == MT_CHECK_PASS)
        mt_checklist_add(out, FAM, "charset-text-parts", MT_CHECK_PASS,
                         "%zu text part(s): the bytes match each declared charset", ntext);
    else
        mt_checklist_add(out, FAM, "charset-text-parts", st, "%s", why);
    if (ntext == 0)
        mt_checklist_add(out, FAM, "charset-utf8", MT_CHECK_NA, "no text part");
    else if (nonutf8)
        mt_checklist_add(out, FAM, "charset-utf8", MT_CHECK_WARN,
                         "%zu text part(s) not in UTF-8 (%s): the seed advises standardising on UTF-8",
                         nonutf8, utf_why);
    else
        mt_checklist_add(out, FAM, "charset-utf8", MT_CHECK_PASS, "text in UTF-8 (or plain ASCII)");
}

static void check_headers(const mt_message *m, mt_checklist *out)
{
    size_t nf = mt_message_nfields(m), raw8 = 0;
    char first8[64] = "";
    char why[256];
    int worst = 0;
    char wwhy[400] = "";
    for (size_t i = 0; i < nf; i++) {
        const mt_hfield *f = mt_message_field(m, i);
        size_t hi = count_8bit(f->field.p, f->field.len);
        if (hi) {
            raw8++;
            if (!first8[0])
                snprintf(first8, sizeof first8, "%.*s", (int)(f->name.len < 40 ? f->name.len : 40),
                         f->name.p);
        }
        /* DKIM-Signature and friends carry no encoded words */
        if (f->name.len >= 4 && strncasecmp(f->name.p, "DKIM", 4) == 0)
            continue;
        int r = mt_rfc2047_problem(f->value.p, f->value.len, why, sizeof why);
        if (r > worst) {
            worst = r;
            snprintf(wwhy, sizeof wwhy, "%.*s: %s", (int)(f->name.len < 40 ? f->name.len : 40), f->name.p,
                     why);
        }
    }
    if (worst == 2)
        mt_checklist_add(out, FAM, "charset-headers", MT_CHECK_FAIL, "%s", wwhy);
    else if (raw8)
        mt_checklist_add(
            out, FAM, "charset-headers", MT_CHECK_WARN,
            "%zu header field(s) with raw 8-bit bytes (first: %s); without SMTPUTF8 encode them (RFC 2047)",
            raw8, first8);
    else if (worst == 1)
        mt_checklist_add(out, FAM, "charset-headers", MT_CHECK_WARN, "%s", wwhy);
    else
        mt_checklist_add(out, FAM, "charset-headers", MT_CHECK_PASS,
                         "headers are ASCII; encoded words well formed and valid in their charsets");
}

void mt_text_visible(const char *s, size_t n, int html, mt_buf *out)
{
    if (!html) {
        mt_buf_append(out, s, n);
        return;
    }
    size_t i = 0;
    while (i < n) {
        if (s[i] == '<') {
            if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
                const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
                i = e ? (size_t)(e - s) + 3 : n;
                continue;
            }
            int skip = 0;
            const char *end_tag = NULL;
            if (n - i >= 6 && strncasecmp(s + i, "<style", 6) == 0) {
                skip = 1;
                end_tag = "</style";
            } else if (n - i >= 7 && strncasecmp(s + i, "<script", 7) == 0) {
                skip = 1;
                end_tag = "</script";
            }
            const char *gt = memchr(s + i, '>', n - i);
            i = gt ? (size_t)(gt - s) + 1 : n;
            if (skip) {
                size_t el = strlen(end_tag);
                while (i + el <= n && strncasecmp(s + i, end_tag, el) != 0)
                    i++;
            }
            mt_buf_putc(out, ' ');
            continue;
        }
        mt_buf_putc(out, s[i]);
        i++;
    }
}

static void check_language(const mt_message *m, mt_checklist *out)
{
    size_t np = mt_message_nparts(m);
    /* the text/plain parts when there are any, else the HTML */
    int want_html = 1;
    for (size_t i = 0; i < np; i++)
        if (is_text_leaf(mt_message_part(m, i)) && strcmp(mt_message_part(m, i)->ctype, "text/plain") == 0)
            want_html = 0;
    mt_buf vis;
    mt_buf_init(&vis);
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (!is_text_leaf(pt))
            continue;
        int html = strcmp(pt->ctype, "text/html") == 0;
        if (html != want_html)
            continue;
        const mt_buf *u = mt_message_part_text_utf8(m, i);
        if (u && u->len)
            mt_text_visible(u->data, u->len, html, &vis);
    }
    size_t han = 0, kana = 0, hangul = 0, latin = 0, other = 0;
    const char *p = vis.data ? vis.data : "", *e = p + vis.len;
    while (p < e) {
        gunichar c = g_utf8_get_char_validated(p, e - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            p++;
            continue;
        }
        p = g_utf8_next_char(p);
        if (!g_unichar_isalpha(c))
            continue;
        if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
            (c >= 0x20000 && c <= 0x2FFFF) || (c >= 0x2E80 && c <= 0x2FDF))
            han++;
        else if (c >= 0x3040 && c <= 0x30FF)
            kana++;
        else if (c >= 0xAC00 && c <= 0xD7AF)
            hangul++;
        else if (c < 0x250 || (c >= 0xFF21 && c <= 0xFF5A))
            latin++;
        else
            other++;
    }
    mt_buf_free(&vis);
    size_t cjk = han + kana + hangul, letters = cjk + latin + other;
    if (letters == 0) {
        mt_checklist_add(out, FAM, "charset-language", MT_CHECK_NA, "no visible letters in the text");
        return;
    }
    unsigned share = (unsigned)((cjk * 100 + letters / 2) / letters);
    const char *lang;
    if (share >= 80)
        lang = kana * 10 > cjk ? "Japanese" : hangul * 2 > cjk ? "Korean" : "Chinese";
    else if (share <= 5)
        lang = "Latin script (e.g. English)";
    else
        lang = "mixed CJK and Latin (bilingual)";
    mt_checklist_add(
        out, FAM, "charset-language", MT_CHECK_PASS,
        "%s: CJK %u%% of %zu letters (%zu Han, %zu Latin); test each language version separately", lang,
        share, letters, han, latin);
}

void mt_msgcheck_charset(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    (void)o;
    check_text_charsets(m, out);
    check_headers(m, out);
    check_language(m, out);
}
