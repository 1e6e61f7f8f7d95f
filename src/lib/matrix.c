/*
 * matrix.c - build Test A-E from a production message (GMime for every
 * MIME entity written) and interpret their results as the seed does.
 */
#include "matrix.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "links.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static const char *const test_names[MT_MATRIX_TESTS] = {"A", "B", "C", "D", "E"};
static const char *const test_desc[MT_MATRIX_TESTS] = {
    "plain text, no links, no attachments",
    "plain text, production links, no attachments",
    "HTML, no tracking rewrite, no attachments",
    "HTML, production tracking, no attachments",
    "HTML, production tracking, production attachments (the production message)",
};

/* header fields not carried into A-D: MIME fields (the entity brings its
 * own), trace and authentication fields (no longer true), the id */
static int dropped_field(mt_slice name)
{
    static const char *const drop[] = {"Content-Type",
                                       "Content-Transfer-Encoding",
                                       "Content-Disposition",
                                       "Content-ID",
                                       "Content-Description",
                                       "Content-Length",
                                       "MIME-Version",
                                       "Message-ID",
                                       "DKIM-Signature",
                                       "DomainKey-Signature",
                                       "ARC-Seal",
                                       "ARC-Message-Signature",
                                       "ARC-Authentication-Results",
                                       "Authentication-Results",
                                       "Received",
                                       "Received-SPF",
                                       "Return-Path",
                                       "Delivered-To",
                                       "X-Received",
                                       "X-Mailtriage-Matrix",
                                       "Lines",
                                       "Status"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (name.len == strlen(drop[i]) && strncasecmp(name.p, drop[i], name.len) == 0)
            return 1;
    return 0;
}

static void put_lf(mt_buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
            mt_buf_putc(b, p[i]);
}

static void write_header(const mt_message *m, int test, const char *from_dom, mt_buf *out)
{
    for (size_t i = 0; i < mt_message_nfields(m); i++) {
        const mt_hfield *f = mt_message_field(m, i);
        if (dropped_field(f->name))
            continue;
        put_lf(out, f->field.p, f->field.len);
        if (out->len && out->data[out->len - 1] != '\n')
            mt_buf_putc(out, '\n');
    }
    size_t len;
    const char *raw = mt_message_raw(m, &len);
    mt_buf_printf(out, "Message-ID: <mt-matrix-%s.%016llx@%s>\n", test_names[test],
                  (unsigned long long)mt_hash(raw, len), from_dom[0] ? from_dom : "matrix.invalid");
    mt_buf_printf(out, "X-Mailtriage-Matrix: %s (%s)\n", test_names[test], test_desc[test]);
    mt_buf_puts(out, "MIME-Version: 1.0\n");
}

static void write_entity(GMimeObject *obj, mt_buf *out)
{
    char *s = g_mime_object_to_string(obj, NULL);
    if (s) {
        put_lf(out, s, strlen(s));
        g_free(s);
    }
}

/* ---- text ---- */

static int first_leaf(const mt_message *m, const char *ctype)
{
    for (size_t i = 0; i < mt_message_nparts(m); i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (!pt->is_multipart && !pt->is_message && !pt->is_attachment && strcmp(pt->ctype, ctype) == 0)
            return (int)i;
    }
    return -1;
}

/* HTML to readable text: block tags end lines, style/script dropped, the
 * common entities decoded, blank runs collapsed */
static void html_to_text(const char *s, size_t n, mt_buf *out)
{
    size_t i = 0;
    int blank_lines = 0, sp = 0;
    while (i < n) {
        char c = s[i];
        if (c == '<') {
            const char *gt = memchr(s + i, '>', n - i);
            size_t e = gt ? (size_t)(gt - s) : n;
            const char *t = s + i + 1;
            if (*t == '/')
                t++;
            size_t tl = 0;
            while (t + tl < s + e && ((t[tl] >= 'a' && t[tl] <= 'z') || (t[tl] >= 'A' && t[tl] <= 'Z') ||
                                      (t[tl] >= '0' && t[tl] <= '9')))
                tl++;
            static const char *const blocks[] = {"br", "p",  "div", "tr", "li",
                                                 "h1", "h2", "h3",  "h4", "table"};
            int block = 0;
            for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++)
                if (tl == strlen(blocks[k]) && strncasecmp(t, blocks[k], tl) == 0)
                    block = 1;
            int skip = (tl == 5 && strncasecmp(t, "style", 5) == 0 && s[i + 1] != '/') ||
                       (tl == 6 && strncasecmp(t, "script", 6) == 0 && s[i + 1] != '/');
            i = e + 1;
            if (skip) {
                const char *endtag = tl == 5 ? "</style" : "</script";
                while (i < n && !(n - i >= strlen(endtag) && strncasecmp(s + i, endtag, strlen(endtag)) == 0))
                    i++;
            }
            if (block) {
                if (blank_lines < 2)
                    mt_buf_putc(out, '\n');
                blank_lines++;
                sp = 0;
            } else {
                sp = 1;
            }
            continue;
        }
        if (c == '&') {
            static const struct {
                const char *e;
                const char *r;
            } ents[] = {{"&nbsp;", " "}, {"&amp;", "&"},   {"&lt;", "<"},
                        {"&gt;", ">"},   {"&quot;", "\""}, {"&#39;", "'"}};
            int done = 0;
            for (size_t k = 0; k < sizeof ents / sizeof ents[0] && !done; k++) {
                size_t el = strlen(ents[k].e);
                if (n - i >= el && strncasecmp(s + i, ents[k].e, el) == 0) {
                    if (ents[k].r[0] == ' ')
                        sp = 1;
                    else {
                        if (sp && blank_lines == 0)
                            mt_buf_putc(out, ' ');
                        sp = 0;
                        blank_lines = 0;
                        mt_buf_puts(out, ents[k].r);
                    }
                    i += el;
                    done = 1;
                }
            }
            if (done)
                continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            sp = 1;
            i++;
            continue;
        }
        if (sp && blank_lines == 0 && out->len && out->data[out->len - 1] != '\n')
            mt_buf_putc(out, ' ');
        sp = 0;
        blank_lines = 0;
        mt_buf_putc(out, c);
        i++;
    }
    mt_buf_putc(out, '\n');
}

static void production_text(const mt_message *m, mt_buf *text, int *from_html)
{
    int t = first_leaf(m, "text/plain");
    *from_html = 0;
    if (t >= 0) {
        const mt_buf *u = mt_message_part_text_utf8(m, (size_t)t);
        if (u && u->len)
            mt_buf_append(text, u->data, u->len);
        return;
    }
    int h = first_leaf(m, "text/html");
    if (h >= 0) {
        const mt_buf *u = mt_message_part_text_utf8(m, (size_t)h);
        if (u && u->len)
            html_to_text(u->data, u->len, text);
        *from_html = 1;
    }
}

static GMimeObject *text_part(const char *utf8)
{
    GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");
    g_mime_text_part_set_text(tp, utf8);
    g_mime_text_part_set_charset(tp, "utf-8");
    g_mime_part_set_content_encoding(GMIME_PART(tp), g_mime_part_get_best_content_encoding(
                                                         GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
    return GMIME_OBJECT(tp);
}

/* ---- attachments out, tracking out ---- */

static int strip_attachments(GMimeObject *obj)
{
    if (!GMIME_IS_MULTIPART(obj))
        return 0;
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    int removed = 0;
    for (int i = g_mime_multipart_get_count(mp) - 1; i >= 0; i--) {
        GMimeObject *c = g_mime_multipart_get_part(mp, i);
        if (mt_gmime_is_attachment(c) || GMIME_IS_MESSAGE_PART(c)) {
            GMimeObject *gone = g_mime_multipart_remove_at(mp, i);
            if (gone)
                g_object_unref(gone);
            removed++;
        } else {
            removed += strip_attachments(c);
        }
    }
    return removed;
}

static void put_url_attr(mt_buf *out, const char *u)
{
    for (; *u; u++) {
        if (*u == '&')
            mt_buf_puts(out, "&amp;");
        else if (*u == '"')
            mt_buf_puts(out, "%22");
        else
            mt_buf_putc(out, *u);
    }
}

typedef struct untrack_stats {
    int resolved, dropped, pixels;
} untrack_stats;

static int tag_is_pixel(const char *s, size_t a, size_t b)
{
    char tag[512];
    size_t n = b - a < sizeof tag - 1 ? b - a : sizeof tag - 1;
    memcpy(tag, s + a, n);
    tag[n] = '\0';
    mt_lower_ascii(tag, n);
    return strstr(tag, "width=\"1\"") || strstr(tag, "height=\"1\"") || strstr(tag, "width=1 ") ||
           strstr(tag, "height=1 ") || strstr(tag, "width:1px") || strstr(tag, "height:1px");
}

static void untrack_html(const char *s, size_t n, mt_buf *out, untrack_stats *st)
{
    mt_links l = {0};
    mt_links_from_html(s, n, &l);
    size_t pos = 0;
    for (size_t i = 0; i < l.n; i++) {
        const mt_link *k = &l.v[i];
        if (k->off < pos)
            continue;
        int tracking = mt_url_is_tracking(k->url);
        size_t ts = k->off, te = k->off + k->len;
        while (ts > pos && s[ts] != '<')
            ts--;
        const char *gt = memchr(s + te, '>', n - te);
        te = gt ? (size_t)(gt - s) + 1 : n;
        if (k->kind == MT_LINK_IMG && (tracking || (s[ts] == '<' && tag_is_pixel(s, ts, te)))) {
            if (s[ts] != '<')
                continue;
            mt_buf_append(out, s + pos, ts - pos);
            pos = te;
            st->pixels++;
            continue;
        }
        if (k->kind != MT_LINK_HREF || !tracking)
            continue;
        char *target = mt_url_unwrap(k->url);
        if (target) {
            mt_buf_append(out, s + pos, k->off - pos);
            put_url_attr(out, target);
            pos = k->off + k->len;
            st->resolved++;
            free(target);
        } else if (s[ts] == '<') {
            /* no target to go back to: the link is left out, its text stays */
            mt_buf_append(out, s + pos, ts - pos);
            mt_buf_puts(out, "<a>");
            pos = te;
            st->dropped++;
        }
    }
    mt_buf_append(out, s + pos, n - pos);
    mt_links_free(&l);
}

static void untrack_text(const char *s, size_t n, mt_buf *out, untrack_stats *st)
{
    mt_links l = {0};
    mt_links_from_text(s, n, &l);
    size_t pos = 0;
    for (size_t i = 0; i < l.n; i++) {
        const mt_link *k = &l.v[i];
        if (k->off < pos || !mt_url_is_tracking(k->url))
            continue;
        char *target = mt_url_unwrap(k->url);
        mt_buf_append(out, s + pos, k->off - pos);
        if (target) {
            mt_buf_puts(out, target);
            st->resolved++;
        } else {
            st->dropped++;
        }
        free(target);
        pos = k->off + k->len;
    }
    mt_buf_append(out, s + pos, n - pos);
    mt_links_free(&l);
}

/* rewrite every text leaf under obj; returns leaves rewritten */
static void untrack_tree(GMimeObject *obj, untrack_stats *st)
{
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            untrack_tree(g_mime_multipart_get_part(mp, i), st);
        return;
    }
    if (!GMIME_IS_TEXT_PART(obj) || mt_gmime_is_attachment(obj))
        return;
    GMimeTextPart *tp = GMIME_TEXT_PART(obj);
    char *text = g_mime_text_part_get_text(tp); /* UTF-8 */
    if (text == NULL)
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    int html = ct && g_mime_content_type_is_type(ct, "text", "html");
    mt_buf nb;
    mt_buf_init(&nb);
    untrack_stats before = *st;
    if (html)
        untrack_html(text, strlen(text), &nb, st);
    else
        untrack_text(text, strlen(text), &nb, st);
    if (memcmp(&before, st, sizeof before) != 0) {
        g_mime_text_part_set_text(tp, nb.data ? nb.data : "");
        g_mime_text_part_set_charset(tp, "utf-8");
        g_mime_part_set_content_encoding(GMIME_PART(tp), g_mime_part_get_best_content_encoding(
                                                             GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
    }
    mt_buf_free(&nb);
    g_free(text);
}

/* ---- figures of a written variant, computed from its bytes ---- */

typedef struct variant_stats {
    size_t bytes, parts, attachments, links, images, tracking;
    int html;
} variant_stats;

static void measure(const char *p, size_t n, variant_stats *vs)
{
    memset(vs, 0, sizeof *vs);
    vs->bytes = n;
    char err[128];
    mt_message *m = mt_message_parse(p, n, err, sizeof err);
    if (m == NULL)
        return;
    for (size_t i = 0; i < mt_message_nparts(m); i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (pt->is_multipart || pt->is_message)
            continue;
        vs->parts++;
        if (pt->is_attachment) {
            vs->attachments++;
            continue;
        }
        if (strncmp(pt->ctype, "text/", 5) != 0)
            continue;
        int html = strcmp(pt->ctype, "text/html") == 0;
        vs->html |= html;
        const mt_buf *u = mt_message_part_text_utf8(m, i);
        if (u == NULL || u->len == 0)
            continue;
        mt_links l = {0};
        if (html)
            mt_links_from_html(u->data, u->len, &l);
        else
            mt_links_from_text(u->data, u->len, &l);
        for (size_t k = 0; k < l.n; k++) {
            if (l.v[k].kind == MT_LINK_IMG)
                vs->images++;
            else
                vs->links++;
            if (mt_url_is_tracking(l.v[k].url))
                vs->tracking++;
        }
        mt_links_free(&l);
    }
    mt_message_free(m);
}

static int write_file(const char *dir, const char *name, const mt_buf *b, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t w = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = w != b->len;
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "%s: write error", path);
        return -1;
    }
    return 0;
}

static void json_note(mt_buf *j, int *first, const char *note)
{
    mt_buf_puts(j, *first ? "" : ",");
    mt_buf_put_json_str(j, note, strlen(note));
    *first = 0;
}

int mt_matrix_write(const mt_message *m, const char *source, const char *mail_from, const char *dir,
                    char *err, size_t errlen)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    size_t rawlen;
    const char *raw = mt_message_raw(m, &rawlen);
    char from_dom[256];
    mt_message_from_domain(m, from_dom, sizeof from_dom);
    char envelope[512] = "";
    if (mail_from)
        snprintf(envelope, sizeof envelope, "%s", mail_from);
    else {
        const mt_hfield *rp = mt_message_header_first(m, "Return-Path");
        const mt_hfield *fr = mt_message_header_first(m, "From");
        const mt_hfield *f = rp ? rp : fr;
        if (f) {
            const char *lt = memchr(f->value.p, '<', f->value.len);
            const char *gt = lt ? memchr(lt, '>', f->value.len - (size_t)(lt - f->value.p)) : NULL;
            if (lt && gt)
                snprintf(envelope, sizeof envelope, "%.*s", (int)(gt - lt - 1), lt + 1);
            else
                snprintf(envelope, sizeof envelope, "%.*s", (int)(f->value.len > 300 ? 300 : f->value.len),
                         f->value.p);
            size_t el = strlen(envelope), s = 0;
            while (envelope[s] == ' ')
                s++;
            memmove(envelope, envelope + s, el - s + 1);
        }
    }

    mt_buf prod;
    mt_buf_init(&prod);
    int from_html = 0;
    production_text(m, &prod, &from_html);
    int has_html = first_leaf(m, "text/html") >= 0;
    int has_text = first_leaf(m, "text/plain") >= 0;

    mt_buf files[MT_MATRIX_TESTS];
    char notes[MT_MATRIX_TESTS][3][200];
    memset(notes, 0, sizeof notes);
    for (int t = 0; t < MT_MATRIX_TESTS; t++)
        mt_buf_init(&files[t]);

    /* A: the production text without its URLs */
    {
        mt_links l = {0};
        mt_links_from_text(prod.data ? prod.data : "", prod.len, &l);
        mt_buf a;
        mt_buf_init(&a);
        size_t pos = 0;
        for (size_t i = 0; i < l.n; i++) {
            if (l.v[i].off < pos)
                continue;
            mt_buf_append(&a, prod.data + pos, l.v[i].off - pos);
            pos = l.v[i].off + l.v[i].len;
        }
        if (prod.len > pos)
            mt_buf_append(&a, prod.data + pos, prod.len - pos);
        if (a.len == 0)
            mt_buf_puts(&a, "Test message.\n");
        write_header(m, 0, from_dom, &files[0]);
        GMimeObject *tp = text_part(a.data);
        write_entity(tp, &files[0]);
        g_object_unref(tp);
        snprintf(notes[0][0], sizeof notes[0][0], "%zu URL(s) removed from the %s", l.n,
                 from_html  ? "text of the HTML part"
                 : has_text ? "text/plain part"
                            : "(empty) text");
        mt_links_free(&l);
        mt_buf_free(&a);
    }
    /* B: the production text with its links; HTML links it lacks appended */
    {
        mt_buf b;
        mt_buf_init(&b);
        mt_buf_append(&b, prod.data ? prod.data : "", prod.len);
        int hi = first_leaf(m, "text/html");
        size_t added = 0;
        if (hi >= 0) {
            const mt_buf *u = mt_message_part_text_utf8(m, (size_t)hi);
            mt_links l = {0};
            if (u && u->len)
                mt_links_from_html(u->data, u->len, &l);
            for (size_t i = 0; i < l.n; i++) {
                if (l.v[i].kind != MT_LINK_HREF || (b.data && strstr(b.data, l.v[i].url)))
                    continue;
                if (added++ == 0)
                    mt_buf_puts(&b, "\nLinks:\n");
                mt_buf_printf(&b, "%s\n", l.v[i].url);
            }
            mt_links_free(&l);
        }
        if (b.len == 0)
            mt_buf_puts(&b, "Test message.\n");
        write_header(m, 1, from_dom, &files[1]);
        GMimeObject *tp = text_part(b.data);
        write_entity(tp, &files[1]);
        g_object_unref(tp);
        if (added)
            snprintf(notes[1][0], sizeof notes[1][0], "%zu link(s) of the HTML part appended to the text",
                     added);
        mt_buf_free(&b);
    }
    /* C and D: the production tree without attachments; C untracked */
    for (int t = 2; t <= 3; t++) {
        char e2[128];
        mt_message *copy = mt_message_parse(raw, rawlen, e2, sizeof e2);
        GMimeMessage *gm = copy ? mt_message_gmime(copy) : NULL;
        GMimeObject *top = gm ? g_mime_message_get_mime_part(gm) : NULL;
        write_header(m, t, from_dom, &files[t]);
        if (top == NULL || mt_gmime_is_attachment(top) || GMIME_IS_MESSAGE_PART(top)) {
            GMimeObject *tp = text_part(prod.data ? prod.data : "Test message.\n");
            write_entity(tp, &files[t]);
            g_object_unref(tp);
            snprintf(notes[t][0], sizeof notes[t][0],
                     "the production body is itself an attachment: text only");
        } else {
            int removed = strip_attachments(top);
            untrack_stats st = {0, 0, 0};
            if (t == 2)
                untrack_tree(top, &st);
            write_entity(top, &files[t]);
            if (removed)
                snprintf(notes[t][0], sizeof notes[t][0], "%d attachment(s) removed", removed);
            if (t == 2)
                snprintf(
                    notes[t][1], sizeof notes[t][1],
                    "%d tracking link(s) resolved to their target, %d left out (no target in the URL), %d "
                    "tracking pixel(s) dropped",
                    st.resolved, st.dropped, st.pixels);
            if (!has_html)
                snprintf(notes[t][2], sizeof notes[t][2], "the production message has no HTML part");
        }
        mt_message_free(copy);
    }
    /* E: as it is */
    mt_buf_append(&files[4], raw, rawlen);

    mt_buf j;
    mt_buf_init(&j);
    mt_buf_puts(&j, "{\"source\":");
    mt_buf_put_json_str(&j, source, strlen(source));
    mt_buf_puts(&j, ",\"envelope\":{\"mail_from\":");
    mt_buf_put_json_str(&j, envelope, strlen(envelope));
    /* recipients are personal data: their domains only */
    mt_buf_puts(&j, ",\"rcpt_domains\":[");
    {
        int nd = 0;
        char seen[512] = "";
        static const char *const rh[] = {"To", "Cc"};
        for (size_t h = 0; h < 2; h++) {
            for (size_t i = 0; i < mt_message_nfields(m); i++) {
                const mt_hfield *f = mt_message_field(m, i);
                if (f->name.len != strlen(rh[h]) || strncasecmp(f->name.p, rh[h], f->name.len) != 0)
                    continue;
                char *v = mt_xstrndup(f->value.p, f->value.len);
                InternetAddressList *l = internet_address_list_parse(NULL, v);
                free(v);
                for (int k = 0; l && k < internet_address_list_length(l); k++) {
                    InternetAddress *a = internet_address_list_get_address(l, k);
                    if (!INTERNET_ADDRESS_IS_MAILBOX(a))
                        continue;
                    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
                    const char *at = addr ? strrchr(addr, '@') : NULL;
                    if (at == NULL || strlen(at + 1) > 200)
                        continue;
                    char dom[256];
                    snprintf(dom, sizeof dom, " %s ", at + 1);
                    mt_lower_ascii(dom, strlen(dom));
                    if (strstr(seen, dom) || strlen(seen) + strlen(dom) >= sizeof seen)
                        continue;
                    strcat(seen, dom);
                    mt_buf_puts(&j, nd++ ? "," : "");
                    mt_buf_put_json_str(&j, dom + 1, strlen(dom) - 2);
                }
                if (l)
                    g_object_unref(l);
            }
        }
    }
    mt_buf_puts(&j, "]},\"header_from_domain\":");
    mt_buf_put_json_str(&j, from_dom, strlen(from_dom));
    mt_buf_puts(&j, ",\"variants\":[");
    int rc = 0;
    for (int t = 0; t < MT_MATRIX_TESTS; t++) {
        char name[16];
        snprintf(name, sizeof name, "%s.eml", test_names[t]);
        if (rc == 0 && write_file(dir, name, &files[t], err, errlen) < 0)
            rc = -1;
        variant_stats vs;
        measure(files[t].data, files[t].len, &vs);
        mt_buf_printf(&j, "%s{\"test\":\"%s\",\"file\":\"%s\",\"description\":", t ? "," : "", test_names[t],
                      name);
        mt_buf_put_json_str(&j, test_desc[t], strlen(test_desc[t]));
        mt_buf_printf(&j,
                      ",\"bytes\":%zu,\"parts\":%zu,\"attachments\":%zu,\"links\":%zu,\"images\":%zu,"
                      "\"tracking_links\":%zu,\"html\":%s,\"notes\":[",
                      vs.bytes, vs.parts, vs.attachments, vs.links, vs.images, vs.tracking,
                      vs.html ? "true" : "false");
        int first = 1;
        for (int k = 0; k < 3; k++)
            if (notes[t][k][0])
                json_note(&j, &first, notes[t][k]);
        if (t < 4)
            json_note(&j, &first, "trace and DKIM-Signature fields dropped: sign again before sending");
        mt_buf_puts(&j, "]}");
    }
    mt_buf_puts(
        &j, "],\"send\":\"each file with the same envelope (MAIL FROM and RCPT TO) and route as production\","
            "\"interpret\":\"mailtriage matrix --interpret RESULTS (lines such as 'A accepted', 'D "
            "deferred')\"}\n");
    if (rc == 0 && write_file(dir, "matrix.json", &j, err, errlen) < 0)
        rc = -1;
    mt_buf_free(&j);
    for (int t = 0; t < MT_MATRIX_TESTS; t++)
        mt_buf_free(&files[t]);
    mt_buf_free(&prod);
    return rc;
}

/* ---- results ---- */

static int test_index(const char *s, size_t n)
{
    if (n >= 5 && strncasecmp(s, "test ", 5) == 0) {
        s += 5;
        n -= 5;
    } else if (n >= 4 && strncasecmp(s, "test", 4) == 0) {
        s += 4;
        n -= 4;
    }
    if (n == 1 || (n == 5 && strncasecmp(s + 1, ".eml", 4) == 0)) {
        char c = (char)(s[0] >= 'a' && s[0] <= 'z' ? s[0] - 32 : s[0]);
        if (c >= 'A' && c <= 'E')
            return c - 'A';
    }
    return -1;
}

static int outcome_word(const char *w, mt_matrix_outcome *o)
{
    static const char *const pass[] = {"accepted", "accept", "delivered", "pass",
                                       "passed",   "ok",     "sent",      "success"};
    static const char *const fail[] = {"deferred", "defer", "refused", "rejected", "reject",   "bounced",
                                       "bounce",   "fail",  "failed",  "error",    "tempfail", "permfail"};
    static const char *const unk[] = {"not-run", "notrun", "skip", "skipped", "unknown", "-"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
        if (!strcasecmp(w, pass[i]))
            return *o = MT_OUTCOME_PASS, 1;
    for (size_t i = 0; i < sizeof fail / sizeof fail[0]; i++)
        if (!strcasecmp(w, fail[i]))
            return *o = MT_OUTCOME_FAIL, 1;
    for (size_t i = 0; i < sizeof unk / sizeof unk[0]; i++)
        if (!strcasecmp(w, unk[i]))
            return *o = MT_OUTCOME_UNKNOWN, 1;
    if (strlen(w) >= 3 && w[1] >= '0' && w[1] <= '9' && w[2] >= '0' && w[2] <= '9') {
        if (w[0] == '2')
            return *o = MT_OUTCOME_PASS, 1;
        if (w[0] == '4' || w[0] == '5')
            return *o = MT_OUTCOME_FAIL, 1;
    }
    return 0;
}

static int parse_json_results(const char *text, size_t n, mt_matrix_outcome out[MT_MATRIX_TESTS], char *err,
                              size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, n, 0, &je);
    if (root == NULL) {
        snprintf(err, errlen, "line %d: %s", je.line, je.text);
        return -1;
    }
    int given = 0, rc = 0;
    json_t *arr = json_object_get(root, "results");
    if (json_is_array(arr)) {
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            const char *t = json_string_value(json_object_get(v, "test"));
            const char *o = json_string_value(json_object_get(v, "outcome"));
            int x = t ? test_index(t, strlen(t)) : -1;
            mt_matrix_outcome oc;
            if (x < 0 || o == NULL || !outcome_word(o, &oc)) {
                snprintf(err, errlen,
                         "results[%zu]: want {\"test\": \"A\"..\"E\", \"outcome\": \"accepted|deferred\"}",
                         i);
                rc = -1;
                break;
            }
            out[x] = oc;
            given++;
        }
    } else if (json_is_object(root)) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v)
        {
            int x = test_index(k, strlen(k));
            mt_matrix_outcome oc;
            if (x < 0 || !json_is_string(v) || !outcome_word(json_string_value(v), &oc)) {
                snprintf(err, errlen, "\"%s\": want \"A\"..\"E\" mapped to accepted|deferred", k);
                rc = -1;
                break;
            }
            out[x] = oc;
            given++;
        }
    } else {
        snprintf(err, errlen, "want a JSON object");
        rc = -1;
    }
    json_decref(root);
    return rc < 0 ? -1 : given;
}

int mt_matrix_parse_results(const char *text, size_t n, mt_matrix_outcome out[MT_MATRIX_TESTS], char *err,
                            size_t errlen)
{
    for (int t = 0; t < MT_MATRIX_TESTS; t++)
        out[t] = MT_OUTCOME_UNKNOWN;
    size_t s = 0;
    while (s < n && (text[s] == ' ' || text[s] == '\n' || text[s] == '\r' || text[s] == '\t'))
        s++;
    if (s < n && text[s] == '{')
        return parse_json_results(text, n, out, err, errlen);
    int given = 0, lineno = 0;
    size_t pos = 0;
    while (pos < n) {
        const char *nl = memchr(text + pos, '\n', n - pos);
        size_t e = nl ? (size_t)(nl - text) : n;
        lineno++;
        char line[512];
        size_t ll = e - pos < sizeof line - 1 ? e - pos : sizeof line - 1;
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos = nl ? e + 1 : n;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        for (char *p = line; *p; p++)
            if (*p == ':' || *p == '=' || *p == '\t' || *p == ',' || *p == '\r')
                *p = ' ';
        char a[64], b[64];
        int k = sscanf(line, "%63s %63s", a, b);
        if (k <= 0)
            continue;
        int x = test_index(a, strlen(a));
        mt_matrix_outcome o;
        if (x < 0 || k < 2 || !outcome_word(b, &o)) {
            snprintf(
                err, errlen,
                "line %d: want 'TEST OUTCOME' (A..E, accepted|deferred|refused|2xx|4xx|5xx), got '%.80s'",
                lineno, line);
            return -1;
        }
        out[x] = o;
        given++;
    }
    return given;
}

static const char *const step_cause[MT_MATRIX_TESTS] = {
    "the envelope, route, DNS, authentication or sender reputation rather than the body (plain fails too)",
    "the links themselves: the production link domains and their reputation, the URL count",
    "the HTML construction: MIME alternative, markup, size, images (C adds HTML without tracking)",
    "link tracking, redirect domains, URL count and HTML transformations",
    "the attachments or the final size",
};

void mt_matrix_interpret(const mt_matrix_outcome r[MT_MATRIX_TESTS], int json, mt_buf *out)
{
    int first_fail = -1, last_pass_before = -1, known = 0;
    for (int t = 0; t < MT_MATRIX_TESTS; t++) {
        if (r[t] != MT_OUTCOME_UNKNOWN)
            known++;
        if (r[t] == MT_OUTCOME_FAIL && first_fail < 0)
            first_fail = t;
    }
    for (int t = 0; t < (first_fail < 0 ? MT_MATRIX_TESTS : first_fail); t++)
        if (r[t] == MT_OUTCOME_PASS)
            last_pass_before = t;
    /* consistent: every test from the first failure on (each contains the
     * earlier ones' content) fails too */
    int consistent = 1;
    char passed_after[32] = "";
    if (first_fail >= 0)
        for (int t = first_fail + 1; t < MT_MATRIX_TESTS; t++)
            if (r[t] == MT_OUTCOME_PASS) {
                consistent = 0;
                size_t l = strlen(passed_after);
                snprintf(passed_after + l, sizeof passed_after - l, "%s%s", l ? ", " : "", test_names[t]);
            }
    /* the candidate steps: those after the last pass, up to the first failure */
    int cand_from = first_fail < 0 ? -1 : last_pass_before + 1, cand_to = first_fail;
    mt_buf concl;
    mt_buf_init(&concl);
    if (known == 0) {
        mt_buf_puts(&concl, "no results given: run the tests and list each as accepted or deferred");
    } else if (first_fail < 0) {
        mt_buf_puts(&concl,
                    "every test that ran was accepted: the message content does not reproduce the failure. "
                    "Suspect the receiver side (a transient internal failure), rate limits at volume or "
                    "reputation; compare with the failing time window and volume");
        int missing = 0;
        for (int t = 0; t < MT_MATRIX_TESTS; t++)
            if (r[t] == MT_OUTCOME_UNKNOWN) {
                mt_buf_printf(&concl, "%s%s", missing ? ", " : " (not run: ", test_names[t]);
                missing = 1;
            }
        if (missing)
            mt_buf_puts(&concl, ")");
    } else {
        if (first_fail == 0)
            mt_buf_puts(&concl, "Test A fails: ");
        else if (cand_from == first_fail)
            mt_buf_printf(&concl, "%s passes and %s fails: ", test_names[first_fail - 1],
                          test_names[first_fail]);
        else if (last_pass_before >= 0)
            mt_buf_printf(&concl,
                          "%s passes, %s fails (between them not run): ", test_names[last_pass_before],
                          test_names[first_fail]);
        else
            mt_buf_printf(&concl, "%s fails and nothing before it passed: ", test_names[first_fail]);
        if (first_fail == 4 && cand_from == 4)
            mt_buf_puts(&concl, "only the production message fails; ");
        mt_buf_puts(&concl, "look at ");
        for (int t = cand_from; t <= cand_to; t++)
            mt_buf_printf(&concl, "%s%s", t > cand_from ? "; or " : "", step_cause[t]);
        if (!consistent)
            mt_buf_printf(&concl,
                          ". Inconsistent: %s passed although it carries everything %s has; an intermittent "
                          "receiver-side failure or a rate limit is likely, repeat each test",
                          passed_after, test_names[first_fail]);
    }
    if (json) {
        mt_buf_puts(out, "{\"results\":{");
        for (int t = 0; t < MT_MATRIX_TESTS; t++)
            mt_buf_printf(out, "%s\"%s\":\"%s\"", t ? "," : "", test_names[t],
                          r[t] == MT_OUTCOME_PASS   ? "accepted"
                          : r[t] == MT_OUTCOME_FAIL ? "failed"
                                                    : "not run");
        mt_buf_puts(out, "},\"first_failure\":");
        if (first_fail >= 0)
            mt_buf_printf(out, "\"%s\"", test_names[first_fail]);
        else
            mt_buf_puts(out, "null");
        mt_buf_puts(out, ",\"last_pass\":");
        if (last_pass_before >= 0)
            mt_buf_printf(out, "\"%s\"", test_names[last_pass_before]);
        else
            mt_buf_puts(out, "null");
        mt_buf_printf(out, ",\"consistent\":%s,\"candidates\":[", consistent ? "true" : "false");
        for (int t = cand_from; first_fail >= 0 && t <= cand_to; t++) {
            mt_buf_printf(out, "%s{\"step\":\"%s\",\"cause\":", t > cand_from ? "," : "", test_names[t]);
            mt_buf_put_json_str(out, step_cause[t], strlen(step_cause[t]));
            mt_buf_putc(out, '}');
        }
        mt_buf_puts(out, "],\"conclusion\":");
        mt_buf_put_json_str(out, concl.data, concl.len);
        mt_buf_puts(out, "}\n");
    } else {
        for (int t = 0; t < MT_MATRIX_TESTS; t++)
            mt_buf_printf(out, "Test %s  %-8s  %s\n", test_names[t],
                          r[t] == MT_OUTCOME_PASS   ? "accepted"
                          : r[t] == MT_OUTCOME_FAIL ? "FAILED"
                                                    : "not run",
                          test_desc[t]);
        mt_buf_printf(out, "\n%s.\n", concl.data);
    }
    mt_buf_free(&concl);
}
