/*
 * bounce.c - one bounce mail into attempt records.
 *
 * GMime parses the MIME tree and converts every text to UTF-8.  We then
 * look, in this order, for an ARF feedback-report part (a complaint), an
 * RFC 3834 auto-reply (headers), an RFC 3464 delivery-status part (one
 * block per recipient), and else read the human-readable notice with
 * bounce_lhost.c.  Each recipient's status, reply code and command come
 * from its fields and diagnostic text; its reason from bounce_reason.c.
 */
#include "bounce.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_json.h"
#include "bounce_lhost.h"
#include "mailbox.h"
#include "strmap.h"

#define REASON_TEXT_MAX     4096
#define REASON_CACHE_LIMIT  65536
#define CHARSET_PINS        16
#define COMMAND_CACHE_LIMIT 16384 /* texts of up to REASON_TEXT_MAX bytes: 64 MB at worst */

/* The top-level header fields the parse reads. */
enum {
    TOP_SUBJECT,
    TOP_FROM,
    TOP_TO,
    TOP_DATE,
    TOP_AUTO_SUBMITTED,
    TOP_PRECEDENCE,
    TOP_X_FAILED,
    TOP_X_AUTOREPLY,
    TOP_X_AUTORESPOND,
    TOP_X_AUTORESPONDER,
    TOP_COUNT
};
static const char *const top_names[TOP_COUNT] = {
    "Subject",
    "From",
    "To",
    "Date",
    "Auto-Submitted",
    "Precedence",
    "X-Failed-Recipients",
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoresponder",
};

struct mt_bounce_parser {
    const mt_bounce_reasons *reasons;
    mt_classifier *cls;
    mt_buf norm;   /* the message with LF line ends */
    mt_buf notice; /* the human-readable text (UTF-8) */
    mt_buf dsn;    /* the delivery-status part */
    mt_buf arf;    /* the feedback-report part */
    mt_buf orig;   /* the returned message's header (text) */
    mt_buf fold;   /* scratch: folded diagnostic */
    mt_buf rkey;   /* scratch: a reason_cache key */
    /* the facts of a diagnostic -> its reason (a static string): the same
     * folded reply (addresses are folded away) comes back for many
     * recipients of one provider, and its phrases need matching once */
    mt_strmap *reason_cache;
    /* a diagnostic's text -> the SMTP command it names (a static string):
     * the same for every recipient a provider answers alike */
    mt_strmap *command_cache;
    mt_buf tmp;
    mt_bounce_rcpts rcpts;
    /* the top-level fields the parse reads, taken from the header before
     * GMime sees it (GMime would build an object for each and decode its
     * value on every lookup): raw values in top_raw, values on demand */
    mt_buf top_raw;
    size_t top_off[TOP_COUNT], top_len[TOP_COUNT];
    unsigned char top_seen[TOP_COUNT], top_done[TOP_COUNT];
    char *top_val[TOP_COUNT];
    GMimeObject *top_obj; /* the parsed message: fields after a line that is no field */
    /* GMime's objects, made once and reused for every message: the
     * message's bytes (not owned by the stream), the stream over them and
     * the parser; a part's decoded content and the stream it is written to */
    GByteArray *in_bytes;
    GMimeStream *in_stream;
    GMimeParser *gparser;
    GByteArray *out_bytes;
    GMimeStream *out_stream;
    /* a conversion to UTF-8 held open for each charset met: while one is
     * open, glibc keeps the charset's module loaded, so the conversions
     * GMime opens and closes for each text do not load and unload it
     * (dlopen, mmap, relocations) every time */
    iconv_t pins[CHARSET_PINS];
    char pin_names[CHARSET_PINS][32];
    int npins;
    int have_orig;
    uint64_t serial; /* messages parsed: the records' message_serial */
    int nested;      /* parsing a bounce attached to a forwarding message */
    int lhost;       /* who wrote the bounce: mt_bounce_reasons_scope of its header */
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

mt_bounce_parser *mt_bounce_parser_new(const mt_bounce_reasons *reasons, mt_classifier *cls)
{
    pthread_once(&gmime_once, gmime_start);
    mt_bounce_parser *p = mt_xcalloc(1, sizeof *p);
    p->reasons = reasons;
    p->cls = cls;
    mt_buf_init(&p->norm);
    mt_buf_init(&p->notice);
    mt_buf_init(&p->dsn);
    mt_buf_init(&p->arf);
    mt_buf_init(&p->orig);
    mt_buf_init(&p->fold);
    mt_buf_init(&p->rkey);
    mt_buf_init(&p->tmp);
    mt_buf_init(&p->top_raw);
    mt_buf_reserve(&p->top_raw, 256); /* never NULL: top_get writes a NUL into it */
    p->in_bytes = g_byte_array_new();
    p->in_stream = g_mime_stream_mem_new();
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(p->in_stream), p->in_bytes); /* not its owner */
    p->gparser = g_mime_parser_new();
    p->out_bytes = g_byte_array_new();
    p->out_stream = g_mime_stream_mem_new();
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(p->out_stream), p->out_bytes);
    p->reason_cache = mt_strmap_new(REASON_CACHE_LIMIT);
    p->command_cache = mt_strmap_new(COMMAND_CACHE_LIMIT);
    return p;
}

void mt_bounce_parser_free(mt_bounce_parser *p)
{
    if (p == NULL)
        return;
    mt_buf_free(&p->norm);
    mt_buf_free(&p->notice);
    mt_buf_free(&p->dsn);
    mt_buf_free(&p->arf);
    mt_buf_free(&p->orig);
    mt_buf_free(&p->fold);
    mt_buf_free(&p->rkey);
    mt_strmap_free(p->reason_cache);
    mt_strmap_free(p->command_cache);
    mt_buf_free(&p->tmp);
    for (int i = 0; i < TOP_COUNT; i++)
        g_free(p->top_val[i]);
    mt_buf_free(&p->top_raw);
    g_object_unref(p->gparser);
    g_object_unref(p->in_stream);
    g_byte_array_free(p->in_bytes, TRUE);
    g_object_unref(p->out_stream);
    g_byte_array_free(p->out_bytes, TRUE);
    for (int i = 0; i < p->npins; i++)
        if (p->pins[i] != (iconv_t)-1)
            iconv_close(p->pins[i]);
    mt_bounce_rcpts_free(&p->rcpts);
    free(p);
}

/* ---- sniffing ---- */

int mt_bounce_sniff(const char *b, size_t n)
{
    if (n >= 5 && memcmp(b, "From ", 5) == 0)
        return 1;
    /* the fields that make it mail (To: and X- fields alone do not) */
    static const char *const names[] = {
        "received:",     "from:",         "date:", "return-path:", "message-id:", "subject:",
        "mime-version:", "delivered-to:", NULL};
    int fields = 0, known = 0;
    size_t i = 0;
    while (i < n && fields < 8) {
        const char *line = b + i;
        const char *nl = memchr(line, '\n', n - i);
        size_t ln = nl ? (size_t)(nl - line) : n - i;
        if (ln && line[ln - 1] == '\r')
            ln--;
        if (ln == 0)
            break;
        if (line[0] == ' ' || line[0] == '\t') {
            if (fields == 0)
                return 0;
        } else {
            size_t k = 0;
            while (k < ln && line[k] > ' ' && line[k] < 127 && line[k] != ':')
                k++;
            if (k == 0 || k >= ln || line[k] != ':')
                return 0;
            fields++;
            int c0 = line[0] >= 'A' && line[0] <= 'Z' ? line[0] + 32 : line[0];
            for (int j = 0; !known && names[j]; j++)
                if (names[j][0] == c0 && strncasecmp(line, names[j], strlen(names[j])) == 0)
                    known = 1;
        }
        if (!nl)
            break;
        i = (size_t)(nl - b) + 1;
    }
    return fields >= 2 && known;
}

/* ---- reading the MIME tree ---- */

/* copy_lf - b[0..n) into o with CR and CRLF line ends made LF and NUL
 * bytes made spaces; returns the bytes written (at most n).  Runs without
 * either are copied whole. */
static size_t copy_lf(char *o, const char *b, size_t n)
{
    size_t i = 0, k = 0;
    const char *cr = memchr(b, '\r', n), *nul = memchr(b, '\0', n);
    while (i < n) {
        const char *stop = cr && (!nul || cr < nul) ? cr : nul;
        size_t run = stop ? (size_t)(stop - b) - i : n - i;
        memcpy(o + k, b + i, run);
        k += run;
        i += run;
        if (i >= n)
            break;
        if (b[i] == '\r') {
            o[k++] = '\n';
            if (i + 1 < n && b[i + 1] == '\n')
                i++;
            i++;
            cr = i < n ? memchr(b + i, '\r', n - i) : NULL;
        } else {
            o[k++] = ' ';
            i++;
            nul = i < n ? memchr(b + i, '\0', n - i) : NULL;
        }
    }
    return k;
}

static void normalise(mt_buf *out, const char *b, size_t n)
{
    mt_buf_reset(out);
    mt_buf_reserve(out, n + 1);
    size_t i = 0;
    if (n >= 5 && memcmp(b, "From ", 5) == 0) {
        const char *nl = memchr(b, '\n', n);
        const char *cr = memchr(b, '\r', n);
        const char *e = nl && (!cr || nl < cr) ? nl : cr;
        i = e ? (size_t)(e - b) + 1 : n;
        if (e && *e == '\r' && i < n && b[i] == '\n')
            i++;
    }
    char *o = out->data;
    size_t k = copy_lf(o, b + i, n - i);
    o[k] = '\0';
    out->len = k;
    /* A returned message is read for its header only: keep GMime from
     * parsing it as a whole message (half the work) by renaming its type,
     * in place and at the same length, on Content-Type lines. */
    for (size_t j = 0; j + 27 < k;) {
        const char *nl = memchr(o + j, '\n', k - j);
        size_t e = nl ? (size_t)(nl - o) : k;
        if ((o[j] == 'C' || o[j] == 'c') && strncasecmp(o + j, "content-type:", 13) == 0) {
            for (size_t q = j + 13; q + 14 <= e; q++)
                if ((o[q] == 'm' || o[q] == 'M') && strncasecmp(o + q, "message/", 8) == 0) {
                    if (strncasecmp(o + q + 8, "rfc822", 6) == 0 && (q + 14 == e || o[q + 14] != '-'))
                        memcpy(o + q + 8, "x-mt-r", 6);
                    else if (strncasecmp(o + q + 8, "global", 6) == 0 && (q + 14 == e || o[q + 14] != '-'))
                        memcpy(o + q + 8, "x-mt-g", 6);
                    break;
                }
        }
        j = e + 1;
    }
}

/* part_content - a leaf part's content with its transfer encoding undone,
 * as g_mime_data_wrapper_write_to_stream gives it: *n bytes, or NULL when
 * the part has none.  Content in no encoding that needs undoing (7bit,
 * 8bit, binary, none) is GMime's own slice of the parsed message (the
 * bounds of the stream GMime made for the part over p->in_bytes), so no
 * stream and filter are made to copy it; other content is written into
 * p->out_bytes (valid until its next use). */
static const char *part_content(mt_bounce_parser *p, GMimeObject *part, size_t *n)
{
    *n = 0;
    GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
    if (w == NULL)
        return NULL;
    GMimeStream *src = g_mime_data_wrapper_get_stream(w);
    GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
    if (src != NULL && GMIME_IS_STREAM_MEM(src) &&
        g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(src)) == p->in_bytes &&
        enc != GMIME_CONTENT_ENCODING_BASE64 && enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
        enc != GMIME_CONTENT_ENCODING_UUENCODE && src->bound_start >= 0 &&
        src->bound_end >= src->bound_start && (guint64)src->bound_end <= p->in_bytes->len) {
        *n = (size_t)(src->bound_end - src->bound_start);
        return (const char *)p->in_bytes->data + src->bound_start;
    }
    GMimeStream *s = p->out_stream;
    g_byte_array_set_size(p->out_bytes, 0);
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(s), p->out_bytes); /* back to the start */
    g_mime_data_wrapper_write_to_stream(w, s);
    *n = p->out_bytes->len;
    return (const char *)p->out_bytes->data;
}

static void stream_to_buf(mt_bounce_parser *p, GMimeObject *part, mt_buf *out)
{
    size_t n;
    const char *b = part_content(p, part, &n);
    if (b != NULL && n) {
        if (out->len && out->data[out->len - 1] != '\n')
            mt_buf_putc(out, '\n');
        mt_buf_reserve(out, n + 1);
        out->len += copy_lf(out->data + out->len, b, n);
        out->data[out->len] = '\0';
    }
}

/* PowerMTA's bounce categories (its X-PowerMTA-BounceCategory field), in
 * reasons; "" for one we do not know. */
static const char *powermta_category(const char *c)
{
    static const char *const map[][2] = {
        {"bad-domain", "hostunknown"},           {"bad-mailbox", "userunknown"},
        {"inactive-mailbox", "suspend"},         {"message-expired", "expired"},
        {"no-answer-from-host", "networkerror"}, {"policy-related", "policyviolation"},
        {"quota-issues", "mailboxfull"},         {"routing-errors", "systemerror"},
        {"spam-related", "spamdetected"},
    };
    while (*c == ' ')
        c++;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t l = strlen(map[i][0]);
        if (strncasecmp(c, map[i][0], l) == 0 && (c[l] == '\0' || c[l] == ' ' || c[l] == ';'))
            return map[i][1];
    }
    return "";
}

/* pin_charset - hold a conversion from charset cs (a name as a message
 * gives it) to UTF-8 open for the parser's life, once per charset, at
 * most CHARSET_PINS of them (then nothing is held: only slower) */
static void pin_charset(mt_bounce_parser *p, const char *cs, size_t n)
{
    char name[32];
    if (n == 0 || n >= sizeof name || p->npins >= CHARSET_PINS)
        return;
    memcpy(name, cs, n);
    name[n] = '\0';
    for (int i = 0; i < p->npins; i++)
        if (strcasecmp(p->pin_names[i], name) == 0)
            return;
    iconv_t cd = iconv_open("UTF-8", g_mime_charset_iconv_name(name));
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8", name);
    /* remembered even when it cannot be opened: not tried again */
    p->pins[p->npins] = cd;
    memcpy(p->pin_names[p->npins], name, n + 1);
    p->npins++;
}

/* pin_words - pin the charsets of the encoded words ("=?cs?...") in s */
static void pin_words(mt_bounce_parser *p, const char *s)
{
    for (const char *w = strstr(s, "=?"); w; w = strstr(w + 2, "=?")) {
        const char *cs = w + 2;
        size_t n = strcspn(cs, "?* \t");
        if (cs[n] == '?' || cs[n] == '*')
            pin_charset(p, cs, n);
    }
}

/* Unlabelled Japanese: ISO-2022-JP escapes in out[at..], converted to
 * UTF-8 in place (left as they are when they do not convert). */
static void iso2022_to_utf8(mt_bounce_parser *p, mt_buf *out, size_t at)
{
    if (out->len <= at)
        return;
    const char *e = out->data + at, *end = out->data + out->len;
    while ((e = memchr(e, '\x1b', (size_t)(end - e))) != NULL &&
           !(end - e >= 3 && e[1] == '$' && e[2] == 'B'))
        e++;
    if (e == NULL) /* no "ESC $ B" (memchr: the escape byte is rare, memmem's search is slow) */
        return;
    pin_charset(p, "ISO-2022-JP", 11);
    gsize wr = 0;
    gchar *u = g_convert(out->data + at, (gssize)(out->len - at), "UTF-8", "ISO-2022-JP", NULL, &wr, NULL);
    if (u) {
        out->len = at;
        mt_buf_append(out, u, wr);
        g_free(u);
    }
}

static void headers_to_buf(GMimeObject *o, mt_buf *out)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(o);
    int n = hl ? g_mime_header_list_get_count(hl) : 0;
    for (int i = 0; i < n; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h);
        const char *val = g_mime_header_get_value(h);
        mt_buf_printf(out, "%s: %s\n", name ? name : "", val ? val : "");
    }
}

/* append_text_n - s[0..n) on a line of its own in out, CR made LF */
static void append_text_n(mt_buf *out, const char *s, size_t n)
{
    if (out->len && out->data[out->len - 1] != '\n')
        mt_buf_putc(out, '\n');
    size_t at = out->len;
    mt_buf_append(out, s, n);
    for (char *c = out->data + at; c < out->data + at + n; c++)
        if (*c == '\r')
            *c = '\n';
}

static void append_text(mt_buf *out, const char *s)
{
    if (s != NULL)
        append_text_n(out, s, strlen(s));
}

/* ascii_charset - a charset in which text of ASCII bytes without escape
 * or shift bytes is the same text in UTF-8 */
static int ascii_charset(const char *cs)
{
    return strncasecmp(cs, "iso-8859-", 9) == 0 || strncasecmp(cs, "windows-125", 11) == 0 ||
           strcasecmp(cs, "iso-2022-jp") == 0 || strcasecmp(cs, "us-ascii") == 0 ||
           strcasecmp(cs, "ascii") == 0;
}

/* utf8_valid - g_utf8_validate_len(b, n): the runs of ASCII (no NUL)
 * are skipped a word at a time and only the runs of other bytes between
 * them are handed to it (an ASCII byte is never inside a UTF-8 sequence,
 * so the whole is valid when each run is) */
static int utf8_valid(const unsigned char *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, b + i, 8);
            /* a byte >= 0x80, or a NUL, in the word */
            if ((v & 0x8080808080808080ULL) || ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL))
                break;
            i += 8;
        }
        while (i < n && b[i] != 0 && b[i] < 0x80)
            i++;
        if (i >= n)
            break;
        if (b[i] == 0)
            return 0;
        size_t j = i;
        while (j < n && b[j] >= 0x80)
            j++;
        if (!g_utf8_validate_len((const char *)b + i, j - i, NULL))
            return 0;
        i = j;
    }
    return 1;
}

/* same_text - the text of a part in charset cs (ascii_charset, or UTF-8)
 * when its content (transfer encoding undone by GMime) would come out of
 * g_mime_text_part_get_text unchanged: plain ASCII, or valid UTF-8 for
 * UTF-8.  The string (up to its first NUL, as get_text's is read) is in
 * p->out_bytes until the next use; NULL when the content needs the
 * conversion. */
static const char *same_text(mt_bounce_parser *p, GMimeObject *part, const char *cs)
{
    int utf8 = strcasecmp(cs, "utf-8") == 0;
    if (!utf8 && !ascii_charset(cs))
        return NULL;
    size_t n;
    const unsigned char *b = (const unsigned char *)part_content(p, part, &n);
    if (b == NULL)
        return NULL;
    if (utf8) {
        if (n && !utf8_valid(b, n)) /* a NUL fails it too */
            return NULL;
    } else {
        for (size_t k = 0; k < n && b[k] != 0; k++)
            if (b[k] >= 0x80 || b[k] == 0x1b || b[k] == 0x0e || b[k] == 0x0f)
                return NULL;
    }
    if (b != p->out_bytes->data) { /* GMime's slice of the message: copied, to end it */
        g_byte_array_set_size(p->out_bytes, 0);
        g_byte_array_append(p->out_bytes, b, (guint)n);
    }
    g_byte_array_append(p->out_bytes, (const guint8 *)"", 1);
    return (const char *)p->out_bytes->data;
}

static void strip_html(mt_buf *out, const char *s)
{
    int tag = 0;
    if (out->len && out->data[out->len - 1] != '\n')
        mt_buf_putc(out, '\n');
    for (const char *c = s; *c; c++) {
        if (tag && *c != '<' && *c != '>') {
            c = strpbrk(c, "<>"); /* inside a tag only these count */
            if (c == NULL)
                break;
        }
        if (*c == '<') {
            tag = 1;
            if (c[1] != '\0' && strchr("bBpPtTdD/", c[1]) != NULL &&
                (strncasecmp(c, "<br", 3) == 0 || strncasecmp(c, "<p", 2) == 0 ||
                 strncasecmp(c, "<tr", 3) == 0 || strncasecmp(c, "<div", 4) == 0 ||
                 strncasecmp(c, "</p", 3) == 0))
                mt_buf_putc(out, '\n');
        } else if (*c == '>' && tag)
            tag = 0;
        else if (!tag) {
            if (*c != '&') {
                /* a run of plain text at once */
                size_t run = strcspn(c, "<>&\r");
                if (run == 0) /* '>' outside a tag, or CR */
                    mt_buf_putc(out, *c == '\r' ? '\n' : *c);
                else {
                    mt_buf_append(out, c, run);
                    c += run - 1;
                }
            } else if (strncmp(c, "&lt;", 4) == 0) {
                mt_buf_putc(out, '<');
                c += 3;
            } else if (strncmp(c, "&gt;", 4) == 0) {
                mt_buf_putc(out, '>');
                c += 3;
            } else if (strncmp(c, "&nbsp;", 6) == 0) {
                mt_buf_putc(out, ' ');
                c += 5;
            } else if (strncmp(c, "&amp;", 5) == 0) {
                mt_buf_putc(out, '&');
                c += 4;
            } else
                mt_buf_putc(out, *c == '\r' ? '\n' : *c);
        }
    }
}

typedef struct walk_state {
    mt_bounce_parser *p;
    int texts;     /* text/plain parts taken */
    int html_only; /* saw text/html, no text/plain yet */
    mt_buf html;
} walk_state;

static void walk(walk_state *w, GMimeObject *o, int depth)
{
    if (o == NULL || depth > 32)
        return;
    mt_bounce_parser *p = w->p;
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    const char *type = ct ? g_mime_content_type_get_media_type(ct) : "text";
    const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : "plain";
    if (type == NULL)
        type = "text";
    if (sub == NULL)
        sub = "plain";
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (m && !p->have_orig) {
            headers_to_buf(GMIME_OBJECT(m), &p->orig);
            p->have_orig = 1;
        }
        return;
    }
    if (!GMIME_IS_PART(o))
        return;
    if (strcasecmp(type, "message") == 0 &&
        (strcasecmp(sub, "delivery-status") == 0 || strcasecmp(sub, "global-delivery-status") == 0)) {
        size_t at = p->dsn.len;
        stream_to_buf(p, o, &p->dsn);
        iso2022_to_utf8(p, &p->dsn, at); /* fields in raw 8-bit or 7-bit Japanese */
        return;
    }
    if (strcasecmp(type, "text") == 0 && strcasecmp(sub, "delivery-status") == 0) {
        stream_to_buf(p, o, &p->dsn);
        return;
    }
    if (strcasecmp(type, "message") == 0 && strcasecmp(sub, "feedback-report") == 0) {
        stream_to_buf(p, o, &p->arf);
        return;
    }
    if ((strcasecmp(type, "text") == 0 && strcasecmp(sub, "rfc822-headers") == 0) ||
        (strcasecmp(type, "message") == 0 &&
         (strcasecmp(sub, "rfc822-headers") == 0 || strcasecmp(sub, "global-headers") == 0 ||
          strcasecmp(sub, "rfc822") == 0 || strcasecmp(sub, "global") == 0 ||
          strcasecmp(sub, "x-mt-r") == 0 || strcasecmp(sub, "x-mt-g") == 0))) {
        if (!p->have_orig) {
            stream_to_buf(p, o, &p->orig);
            p->have_orig = 1;
        }
        return;
    }
    if (strcasecmp(type, "text") == 0 && GMIME_IS_TEXT_PART(o)) {
        if (p->have_orig && w->texts)
            return; /* the returned message's own text */
        const char *cs = g_mime_object_get_content_type_parameter(o, "charset");
        if (strcasecmp(sub, "html") != 0 && (cs == NULL || strcasecmp(cs, "us-ascii") == 0 ||
                                             strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "ascii") == 0)) {
            /* already UTF-8: no charset conversion to set up */
            size_t at = p->notice.len;
            stream_to_buf(p, o, &p->notice);
            w->texts++;
            if (cs == NULL)
                iso2022_to_utf8(p, &p->notice, at);
            return;
        }
        int html = strcasecmp(sub, "html") == 0;
        if (html && w->texts)
            return; /* a text part came first: the HTML is not read */
        const char *same = cs ? same_text(p, o, cs) : NULL;
        if (same) { /* what get_text gives, without the conversion */
            if (html)
                strip_html(&w->html, same); /* no text part before it */
            else {
                append_text(&p->notice, same);
                w->texts++;
            }
            return;
        }
        if (cs)
            pin_charset(p, cs, strlen(cs));
        char *s = g_mime_text_part_get_text(GMIME_TEXT_PART(o));
        if (s) {
            if (html) {
                if (!w->texts)
                    strip_html(&w->html, s);
            } else {
                append_text(&p->notice, s);
                w->texts++;
            }
            g_free(s);
        }
    }
}

/* ---- header fields in plain text ("Name: value" with folding) ---- */

/* field - the value of the first "name:" line in t[0..n) (unfolded, into
 * out); its offset or -1. */
static long field(const char *t, size_t n, const char *name, mt_buf *out)
{
    size_t nl = strlen(name);
    mt_buf_reset(out);
    for (size_t i = 0; i < n;) {
        const char *line = t + i;
        const char *e = memchr(line, '\n', n - i);
        size_t ln = e ? (size_t)(e - line) : n - i;
        if (ln > nl && (line[0] | 0x20) == (name[0] | 0x20) && strncasecmp(line, name, nl) == 0 &&
            line[nl] == ':') {
            size_t v = nl + 1;
            while (v < ln && (line[v] == ' ' || line[v] == '\t'))
                v++;
            mt_buf_append(out, line + v, ln - v);
            size_t j = i + ln + 1;
            while (j < n && (t[j] == ' ' || t[j] == '\t')) {
                const char *e2 = memchr(t + j, '\n', n - j);
                size_t l2 = e2 ? (size_t)(e2 - (t + j)) : n - j;
                size_t s = 0;
                while (s < l2 && (t[j + s] == ' ' || t[j + s] == '\t'))
                    s++;
                mt_buf_putc(out, ' ');
                mt_buf_append(out, t + j + s, l2 - s);
                j += l2 + 1;
            }
            while (out->len && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
                out->data[--out->len] = '\0';
            return (long)i;
        }
        if (!e)
            break;
        i += ln + 1;
    }
    return -1;
}

static void copy_addr(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o, l;
    dst[0] = '\0';
    if (mt_bounce_find_addr(s, n, &o, &l) && l < cap) {
        memcpy(dst, s + o, l);
        dst[l] = '\0';
    }
}

static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t l = strlen(s);
    if (l >= cap)
        l = cap - 1;
    memcpy(dst, s, l);
    dst[l] = '\0';
}

static int64_t parse_date(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    GDateTime *dt = g_mime_utils_header_decode_date(s);
    if (dt == NULL)
        return 0;
    int64_t t = g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return t;
}

/* ---- RFC 3464 ---- */

static void parse_dsn(mt_bounce_parser *p, int64_t *msg_time)
{
    const char *t = p->dsn.data;
    size_t n = p->dsn.len;
    mt_buf v;
    mt_buf_init(&v);
    /* blocks separated by blank lines; the first is per-message */
    size_t i = 0;
    int block = 0;
    while (i < n) {
        while (i < n && (t[i] == '\n' || t[i] == ' ' || t[i] == '\t'))
            i++;
        size_t s = i;
        int finals = strncasecmp(t + i, "final-recipient:", 16) == 0;
        while (i < n) {
            const char *e = memchr(t + i, '\n', n - i);
            if (!e) {
                i = n;
                break;
            }
            i = (size_t)(e - t) + 1;
            size_t k = i;
            while (k < n && (t[k] == ' ' || t[k] == '\t'))
                k++;
            if (k >= n || t[k] == '\n')
                break;
            /* recipients' fields with no blank line between them */
            if (k == i && n - i >= 16 && strncasecmp(t + i, "final-recipient:", 16) == 0 && finals++)
                break;
        }
        const char *bt = t + s;
        size_t bn = i - s;
        if (bn == 0)
            break;
        block++;
        if (field(bt, bn, "Final-Recipient", &v) < 0 && field(bt, bn, "Original-Recipient", &v) < 0) {
            if (field(bt, bn, "Arrival-Date", &v) >= 0)
                *msg_time = parse_date(v.data);
            continue;
        }
        mt_bounce_rcpt *r = mt_bounce_rcpts_add(&p->rcpts);
        copy_addr(r->addr, sizeof r->addr, v.data, v.len);
        if (r->addr[0] == '\0' && field(bt, bn, "Original-Recipient", &v) >= 0)
            copy_addr(r->addr, sizeof r->addr, v.data, v.len);
        if (field(bt, bn, "Action", &v) >= 0) {
            mt_lower_ascii(v.data, v.len);
            size_t l = strcspn(v.data, " (;");
            v.data[l] = '\0';
            copy_str(r->action, sizeof r->action, v.data);
        }
        if (field(bt, bn, "Status", &v) >= 0) {
            char st[16];
            if (mt_bounce_find_status(v.data, v.len, st) >= 0)
                copy_str(r->status, sizeof r->status, st);
        }
        if (field(bt, bn, "Remote-MTA", &v) >= 0) {
            const char *x = strchr(v.data, ';');
            x = x ? x + 1 : v.data;
            while (*x == ' ')
                x++;
            copy_str(r->remote_mta, sizeof r->remote_mta, x);
            size_t l = strcspn(r->remote_mta, " [(");
            r->remote_mta[l] = '\0';
        }
        if (field(bt, bn, "Diagnostic-Code", &v) >= 0) {
            const char *x = strchr(v.data, ';');
            if (x && (size_t)(x - v.data) < 24) {
                size_t l = (size_t)(x - v.data);
                while (l && v.data[l - 1] == ' ')
                    l--;
                memcpy(r->dtype, v.data, l);
                r->dtype[l] = '\0';
                x++;
                while (*x == ' ')
                    x++;
            } else
                x = v.data;
            mt_buf_puts(&r->diag, x);
        }
        if (field(bt, bn, "Last-Attempt-Date", &v) >= 0)
            r->time = parse_date(v.data);
        if (field(bt, bn, "X-PowerMTA-BounceCategory", &v) >= 0)
            copy_str(r->preset, sizeof r->preset, powermta_category(v.data));
    }
    (void)block;
    mt_buf_free(&v);
}

/* ---- records ---- */

static const char *domain_of(const char *a)
{
    const char *at = a ? strrchr(a, '@') : NULL;
    return at && at[1] ? at + 1 : NULL;
}

mt_category mt_bounce_reason_category(const char *r)
{
    static const struct {
        const char *r;
        mt_category c;
    } map[] = {
        {"userunknown", MT_CAT_USER_UNKNOWN},
        {"mailboxfull", MT_CAT_MAILBOX_FULL},
        {"suspend", MT_CAT_MAILBOX_DISABLED},
        {"hasmoved", MT_CAT_USER_UNKNOWN},
        {"hostunknown", MT_CAT_DNS},
        {"notaccept", MT_CAT_DNS},
        {"expired", MT_CAT_EXPIRED},
        {"mesgtoobig", MT_CAT_SIZE},
        {"exceedlimit", MT_CAT_SIZE},
        {"norelaying", MT_CAT_RELAY_DENIED},
        {"spamdetected", MT_CAT_CONTENT},
        {"contenterror", MT_CAT_CONTENT},
        {"virusdetected", MT_CAT_CONTENT},
        {"filtered", MT_CAT_CONTENT},
        {"notcompliantrfc", MT_CAT_CONTENT},
        {"blocked", MT_CAT_REPUTATION},
        {"badreputation", MT_CAT_REPUTATION},
        {"requireptr", MT_CAT_DNS},
        {"authfailure", MT_CAT_AUTHENTICATION},
        {"securityerror", MT_CAT_AUTHENTICATION},
        {"speeding", MT_CAT_RATE_LIMIT},
        {"toomanyconn", MT_CAT_RATE_LIMIT},
        {"networkerror", MT_CAT_NETWORK},
        {"failedstarttls", MT_CAT_TLS},
        {"systemerror", MT_CAT_RECEIVER_INTERNAL},
        {"systemfull", MT_CAT_RECEIVER_INTERNAL},
        {"mailererror", MT_CAT_RECEIVER_INTERNAL},
        {"policyviolation", MT_CAT_POLICY},
        {"rejected", MT_CAT_POLICY},
        {"syntaxerror", MT_CAT_OTHER},
        {"suppressed", MT_CAT_POLICY},
        {"delivered", MT_CAT_NONE},
    };
    for (size_t i = 0; r && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].r, r) == 0)
            return map[i].c;
    return MT_CAT_OTHER;
}

static mt_stage stage_of(const char *cmd)
{
    if (strcmp(cmd, "RCPT") == 0)
        return MT_STAGE_RCPT;
    if (strcmp(cmd, "MAIL") == 0)
        return MT_STAGE_MAIL;
    if (strcmp(cmd, "DATA") == 0)
        return MT_STAGE_DATA_END;
    if (strcmp(cmd, "HELO") == 0 || strcmp(cmd, "EHLO") == 0)
        return MT_STAGE_HELO;
    if (strcmp(cmd, "STARTTLS") == 0)
        return MT_STAGE_STARTTLS;
    if (strcmp(cmd, "CONN") == 0)
        return MT_STAGE_CONNECT;
    return MT_STAGE_UNKNOWN;
}

typedef struct orig_fields {
    char message_id[256];
    char from_domain[256];
    char mail_from_domain[256];
    char to[256];
} orig_fields;

static void orig_read(mt_bounce_parser *p, const char *t, size_t n, orig_fields *o)
{
    memset(o, 0, sizeof *o);
    if (field(t, n, "Message-ID", &p->tmp) >= 0) {
        const char *s = p->tmp.data;
        const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (lt && gt)
            s = lt + 1, p->tmp.data[gt - p->tmp.data] = '\0';
        copy_str(o->message_id, sizeof o->message_id, s);
    }
    char a[256];
    if (field(t, n, "From", &p->tmp) >= 0) {
        copy_addr(a, sizeof a, p->tmp.data, p->tmp.len);
        const char *d = domain_of(a);
        if (d)
            copy_str(o->from_domain, sizeof o->from_domain, d);
    }
    if (field(t, n, "Return-Path", &p->tmp) >= 0) {
        copy_addr(a, sizeof a, p->tmp.data, p->tmp.len);
        const char *d = domain_of(a);
        if (d)
            copy_str(o->mail_from_domain, sizeof o->mail_from_domain, d);
    }
    if (field(t, n, "To", &p->tmp) >= 0)
        copy_addr(o->to, sizeof o->to, p->tmp.data, p->tmp.len);
}

/* Does a reply code of its class stand just before the status at d[at]? */
static int replied_at(const char *d, size_t at)
{
    size_t k = at;
    while (k > 0 && (d[k - 1] == ' ' || d[k - 1] == '-' || d[k - 1] == '\''))
        k--;
    return k >= 3 && k < at && d[k - 3] == d[at] && mt_bounce_find_code(d + k - 3, 3, d[at]) != 0;
}

/* A reply code consistent with the status, from the diagnostic. */
static int reply_code_of(const char *d, size_t n, const char *status)
{
    /* the code that states the status ("421 4.4.2"), else the first reply
     * code; none when its class contradicts the status */
    char ts[16];
    long at = status[0] ? mt_bounce_find_status_replied(d, n, ts, 0) : -1;
    if (at >= 0 && strcmp(ts, status) == 0) {
        size_t k = (size_t)at;
        while (k > 0 && (d[k - 1] == ' ' || d[k - 1] == '-' || d[k - 1] == '\''))
            k--;
        if (k >= 3 && k < (size_t)at) {
            int c = mt_bounce_find_code(d + k - 3, 3, status[0]);
            if (c)
                return c;
        }
    }
    int c = mt_bounce_find_code(d, n, 0);
    if (c && status[0] && status[0] - '0' != c / 100)
        return 0;
    return c;
}

static void key_str(mt_buf *k, const char *s)
{
    s = s ? s : "";
    mt_buf_append(k, s, strlen(s) + 1);
}

/* decide_cached - mt_bounce_reason_decide, once per distinct fact */
static const char *decide_cached(mt_bounce_parser *p, const mt_bounce_fact *f)
{
    mt_buf *k = &p->rkey;
    mt_buf_reset(k);
    key_str(k, f->status);
    key_str(k, f->dtype);
    key_str(k, f->action);
    key_str(k, f->command);
    key_str(k, f->preset);
    mt_buf_append(k, &f->reply_code, sizeof f->reply_code);
    mt_buf_append(k, &f->lhost, sizeof f->lhost);
    mt_buf_append(k, &f->rhost, sizeof f->rhost);
    mt_buf_append(k, f->diag, strlen(f->diag));
    const char *r = mt_strmap_get(p->reason_cache, k->data, k->len);
    if (r == NULL) {
        r = mt_bounce_reason_decide(p->reasons, f);
        mt_strmap_put(p->reason_cache, k->data, k->len, (void *)r);
    }
    return r;
}

/* command_of - mt_bounce_lhost_command, once per distinct text (texts of
 * at most REASON_TEXT_MAX bytes are remembered) */
static const char *command_of(mt_bounce_parser *p, const char *d, size_t n)
{
    if (n > REASON_TEXT_MAX)
        return mt_bounce_lhost_command(d, n);
    const char *c = mt_strmap_get(p->command_cache, d, n);
    if (c == NULL) {
        c = mt_bounce_lhost_command(d, n);
        mt_strmap_put(p->command_cache, d, n, (void *)c);
    }
    return c;
}

/* transcript_rcpt - does a session transcript in t[0..n) show
 * ">>> RCPT To:<addr>" for this address (the reply that follows it is
 * then the answer to RCPT)? */
static int transcript_rcpt(const char *t, size_t n, const char *addr)
{
    size_t al = addr ? strlen(addr) : 0;
    if (t == NULL || al == 0)
        return 0;
    for (const char *h = t; (h = memchr(h, '>', n - (size_t)(h - t))) != NULL; h++) {
        size_t left = n - (size_t)(h - t);
        if (left < 13 + al || strncmp(h, ">>> ", 4) != 0 || strncasecmp(h + 4, "rcpt to:", 8) != 0)
            continue;
        const char *a = h + 12;
        while (a < t + n && (*a == ' ' || *a == '<'))
            a++;
        if ((size_t)(t + n - a) >= al && strncasecmp(a, addr, al) == 0 &&
            (a + al == t + n || a[al] == '>' || a[al] == ' ' || a[al] == '\n'))
            return 1;
    }
    return 0;
}

/* keep_failed - when the MTA lists the failed recipients in a header
 * (Exim's X-Failed-Recipients) and some addresses read from the notice are
 * among them, drop the others (the sender's address quoted in "A message
 * sent by <a@b> could not be delivered"). */
static void keep_failed(mt_bounce_parser *p, const char *xf)
{
    if (xf == NULL || p->rcpts.n < 2)
        return;
    int listed = 0;
    for (int i = 0; i < p->rcpts.n; i++)
        listed += strcasestr(xf, p->rcpts.v[i].addr) != NULL;
    if (listed == 0 || listed == p->rcpts.n)
        return;
    int w = 0;
    for (int i = 0; i < p->rcpts.n; i++) {
        if (strcasestr(xf, p->rcpts.v[i].addr) == NULL)
            continue;
        if (w != i) {
            /* swap, so that every slot keeps its own buffers */
            mt_bounce_rcpt t = p->rcpts.v[w];
            p->rcpts.v[w] = p->rcpts.v[i];
            p->rcpts.v[i] = t;
        }
        w++;
    }
    p->rcpts.n = w;
}

#define DATE_UNREAD INT64_MIN /* msg_time: the Date field, not parsed yet */

static const char *top_get(mt_bounce_parser *p, int which);

static int emit(mt_bounce_parser *p, const char *source, const orig_fields *of, int64_t msg_time,
                const char *format, mt_bounce_kind forced, const char *feedback, mt_bounce_fn fn, void *arg)
{
    int count = 0;
    for (int i = 0; i < p->rcpts.n; i++) {
        mt_bounce_rcpt *r = &p->rcpts.v[i];
        if (r->addr[0] == '\0')
            continue;
        mt_attempt a;
        memset(&a, 0, sizeof a);
        if (r->time == 0 && msg_time == DATE_UNREAD) /* read only when needed */
            msg_time = parse_date(top_get(p, TOP_DATE));
        a.time = r->time ? r->time : msg_time;
        a.source_file = source;
        a.message_id = of->message_id[0] ? of->message_id : NULL;
        a.mail_from_domain = of->mail_from_domain[0] ? of->mail_from_domain : NULL;
        a.header_from_domain = of->from_domain[0] ? of->from_domain : NULL;
        mt_lower_ascii(r->addr, strlen(r->addr));
        a.recipient = r->addr;
        a.recipient_domain = domain_of(r->addr);
        a.mx_host = r->remote_mta[0] ? r->remote_mta : NULL;
        a.message_size = -1;
        a.delay_seconds = -1;
        mt_bounce_info info = {
            .kind = forced, .action = r->action, .feedback_type = feedback ? feedback : "", .format = format};
        const char *d = r->diag.data ? r->diag.data : "";
        size_t dn = r->diag.len;
        char st[16] = "";
        if (forced == MT_BOUNCE_FAILURE) {
            /* the status the diagnostic states is the more precise one
             * (a Status: field often carries a generic or stale code),
             * unless it is itself generic (x.0.0) or of another class */
            {
                char ts[16];
                long off = mt_bounce_find_status_replied(d, dn, ts, 0);
                if (off >= 0 &&
                    (r->status[0] == '\0' ||
                     (strcmp(ts + 1, ".0.0") != 0 && (ts[0] == r->status[0] || replied_at(d, (size_t)off)))))
                    copy_str(r->status, sizeof r->status, ts);
            }
            if ((r->status[0] == '\0' || strcmp(r->status + 1, ".0.0") == 0) && r->note.len) {
                /* what the notice says, when the DSN says nothing precise */
                char ts[16];
                long at = mt_bounce_find_status_replied(r->note.data, r->note.len, ts, 0);
                if (at >= 0 &&
                    (r->status[0] == '\0' || (ts[0] == r->status[0] && replied_at(r->note.data, (size_t)at))))
                    copy_str(r->status, sizeof r->status, ts);
            }
            copy_str(st, sizeof st, r->status);
            a.reply_code = reply_code_of(d, dn, st);
            if (a.reply_code == 0 && r->note.len)
                a.reply_code = reply_code_of(r->note.data, r->note.len, st);
            /* the reason reads the first REASON_TEXT_MAX bytes: what a
             * server said comes first, boilerplate after */
            mt_bounce_fold(d, dn > REASON_TEXT_MAX ? REASON_TEXT_MAX : dn, &p->fold);
            if (r->command[0] == '\0')
                copy_str(r->command, sizeof r->command,
                         command_of(p, p->fold.data ? p->fold.data : "", p->fold.len));
            if (r->command[0] == '\0' && transcript_rcpt(p->notice.data, p->notice.len, r->addr))
                copy_str(r->command, sizeof r->command, "RCPT");
            /* who answered: the remote host, else the recipient's domain */
            int rhost = mt_bounce_reasons_scope(p->reasons, 1, r->remote_mta, strlen(r->remote_mta));
            if (rhost == 0 && a.recipient_domain)
                rhost =
                    mt_bounce_reasons_scope(p->reasons, 1, a.recipient_domain, strlen(a.recipient_domain));
            mt_bounce_fact f = {.status = st,
                                .diag = p->fold.data ? p->fold.data : "",
                                .dtype = r->dtype,
                                .action = r->action,
                                .command = r->command,
                                .preset = r->preset[0] ? r->preset : NULL,
                                .reply_code = a.reply_code,
                                .lhost = p->lhost,
                                .rhost = rhost};
            info.reason = decide_cached(p, &f);
            if (strcmp(r->action, "delayed") == 0) {
                info.kind = MT_BOUNCE_DELAY;
            } else if (st[0] == '2' || strcmp(r->action, "delivered") == 0 ||
                       strcmp(r->action, "relayed") == 0 || strcmp(r->action, "expanded") == 0) {
                info.kind = MT_BOUNCE_DELIVERED;
                info.reason = "delivered";
            }
        } else
            info.reason = forced == MT_BOUNCE_AUTOREPLY ? "vacation" : "feedback";
        if (st[0])
            copy_str(a.enhanced, sizeof a.enhanced, st);
        a.stage = stage_of(r->command);
        /* the reply text: the diagnostic on one line */
        mt_buf_reset(&p->tmp);
        mt_buf_reserve(&p->tmp, 1000);
        {
            char *t = p->tmp.data;
            size_t tl = 0;
            for (size_t k = 0; k < dn && tl < 1000; k++) {
                char c = d[k] == '\n' || d[k] == '\t' ? ' ' : d[k];
                if (c == ' ' && tl && t[tl - 1] == ' ')
                    continue;
                t[tl++] = c;
            }
            t[tl] = '\0';
            p->tmp.len = tl;
        }
        a.reply_text = p->tmp.len ? p->tmp.data : NULL;
        switch (info.kind) {
        case MT_BOUNCE_DELAY:
            a.status = MT_STATUS_DEFERRED;
            a.final_status = MT_FINAL_DEFERRED;
            break;
        case MT_BOUNCE_DELIVERED:
            a.status = MT_STATUS_SENT;
            a.final_status = MT_FINAL_DELIVERED;
            break;
        default:
            a.status = MT_STATUS_BOUNCED;
            a.final_status = MT_FINAL_BOUNCED;
            break;
        }
        a.message_serial = p->serial;
        a.rcpt_index = (unsigned)count;
        a.last_for_rcpt = 1;
        a.rcpt_first_time = a.time;
        if (p->cls)
            mt_classify(p->cls, &a);
        if (info.kind == MT_BOUNCE_DELIVERED)
            a.category = MT_CAT_NONE;
        else if (info.kind == MT_BOUNCE_FAILURE || info.kind == MT_BOUNCE_DELAY) {
            if (a.category == MT_CAT_NONE || a.category == MT_CAT_OTHER)
                a.category = mt_bounce_reason_category(info.reason);
            if (strcmp(info.reason, "expired") == 0)
                a.category = MT_CAT_EXPIRED;
        } else
            a.category = MT_CAT_OTHER;
        fn(&a, &info, arg);
        count++;
    }
    return count;
}

/* the first "<address>" of a notice that is not its own addressee; returns
 * where the line that names it starts (0 when none) */
static size_t first_bracketed(const char *t, size_t n, const char *self, char *out, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i] != '<')
            continue;
        size_t o, l;
        if (!mt_bounce_find_addr(t + i + 1, n - i - 1, &o, &l) || o != 0 || i + 1 + l >= n ||
            t[i + 1 + l] != '>')
            continue;
        if (self && strlen(self) == l && strncasecmp(self, t + i + 1, l) == 0)
            continue;
        if (l < cap) {
            memcpy(out, t + i + 1, l);
            out[l] = '\0';
            size_t ls = i; /* the line that names it */
            while (ls > 0 && t[ls - 1] != '\n')
                ls--;
            return ls;
        }
    }
    return 0;
}

/* the first address of a notice that is not its own addressee nor a
 * daemon's; returns where the line that names it starts */
static size_t first_bare(const char *t, size_t n, const char *self, char *out, size_t cap)
{
    size_t i = 0, o, l;
    while (i < n && mt_bounce_find_addr(t + i, n - i, &o, &l)) {
        const char *a = t + i + o;
        int skip = (self && strlen(self) == l && strncasecmp(self, a, l) == 0) ||
                   (l > 14 && strncasecmp(a, "mailer-daemon@", 14) == 0) ||
                   (l > 11 && strncasecmp(a, "postmaster@", 11) == 0);
        if (!skip && l < cap) {
            memcpy(out, a, l);
            out[l] = '\0';
            size_t ls = (size_t)(a - t);
            while (ls > 0 && t[ls - 1] != '\n')
                ls--;
            return ls;
        }
        i += o + l;
    }
    return 0;
}

static int is_autoreply(mt_bounce_parser *p, const char *subject)
{
    const char *v = top_get(p, TOP_AUTO_SUBMITTED);
    if (v && strncasecmp(v, "auto-replied", 12) == 0)
        return 1;
    if (top_get(p, TOP_X_AUTOREPLY) || top_get(p, TOP_X_AUTORESPOND) || top_get(p, TOP_X_AUTORESPONDER))
        return 1;
    v = top_get(p, TOP_PRECEDENCE);
    if (v && strncasecmp(v, "auto_reply", 10) == 0)
        return 1;
    if (subject) {
        static const char *const pre[] = {
            "auto:",           "auto-reply",    "autoreply",         "auto reply",
            "automatic reply", "out of office", "out of the office", "away from",
            "vacation",        "自動応答",      "自動返信",          NULL};
        for (int i = 0; pre[i]; i++)
            if (strncasecmp(subject, pre[i], strlen(pre[i])) == 0)
                return 1;
    }
    return 0;
}

static int looks_like_bounce(const char *from, const char *subject, size_t dsn_len)
{
    if (dsn_len)
        return 1;
    static const char *const senders[] = {
        "mailer-daemon", "postmaster",   "post_master", "mail delivery", "mail administrator",
        "maildelivery",  "mailerdaemon", "bounce",      "noreply",       "no-reply",
        "mail-daemon",   "daemon",       NULL};
    static const char *const subjects[] = {
        "undeliver",  "undelivered", "delivery",      "failure",        "failed",
        "returned",   "rejected",    "bounce",        "not delivered",  "could not",
        "mail error", "error",       "warning",       "nondeliverable", "non-delivery",
        "problem",    "unable",      "notification",  "unzustellbar",   "返送",
        "不達",       "エラー",      "undeliverable", "delayed",        "nachricht",
        NULL};
    for (int i = 0; from && senders[i]; i++)
        if (strcasestr(from, senders[i]))
            return 1;
    for (int i = 0; subject && subjects[i]; i++)
        if (strcasestr(subject, subjects[i]))
            return 1;
    return 0;
}

/* The top-level header fields GMime needs to read the message as a MIME
 * part (MIME-Version is not one: GMime reads a part by its Content-Type
 * alone); the others (the ones the parse reads are taken out first, see
 * header_trim) are dropped before parsing, because GMime would build an
 * object for each. */
static int header_needed(const char *name, size_t n)
{
    static const char *const keep[] = {
        "content-type",
        "content-transfer-encoding",
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strlen(keep[i]) == n && strncasecmp(name, keep[i], n) == 0)
            return 1;
    return 0;
}

/* top_which - which of the fields the parse reads is name[0..n), or -1 */
static int top_which(const char *name, size_t n)
{
    for (int i = 0; i < TOP_COUNT; i++)
        if (strlen(top_names[i]) == n && strncasecmp(name, top_names[i], n) == 0)
            return i;
    return -1;
}

/* top_reset - forget the last message's top-level fields */
static void top_reset(mt_bounce_parser *p)
{
    for (int i = 0; i < TOP_COUNT; i++) {
        g_free(p->top_val[i]);
        p->top_val[i] = NULL;
        p->top_seen[i] = p->top_done[i] = 0;
    }
    mt_buf_reset(&p->top_raw);
    p->top_obj = NULL;
}

/* plain_text - is s ASCII without encoded words ("=?"): text that
 * g_mime_utils_header_decode_text gives back as it is */
static int plain_text(const char *s)
{
    if (strstr(s, "=?") != NULL)
        return 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c >= 0x80)
            return 0;
    return 1;
}

/* top_get - the value of a top-level field as GMime gives it
 * (g_mime_object_get_header: unfolded, encoded words decoded), or NULL.
 * A field that header_trim took out is unfolded and decoded here (GMime's
 * own functions); one it left in (after a line that is no field) is
 * GMime's. */
static const char *top_get(mt_bounce_parser *p, int which)
{
    if (!p->top_seen[which])
        return p->top_obj ? g_mime_object_get_header(p->top_obj, top_names[which]) : NULL;
    if (!p->top_done[which]) {
        p->top_done[which] = 1;
        const char *raw = p->top_raw.data + p->top_off[which];
        size_t len = p->top_len[which];
        char save = raw[len];
        p->top_raw.data[p->top_off[which] + len] = '\0';
        char *unfolded = g_mime_utils_header_unfold(raw);
        p->top_raw.data[p->top_off[which] + len] = save;
        if (plain_text(unfolded)) /* nothing to decode: the text as it is */
            p->top_val[which] = unfolded;
        else {
            pin_words(p, unfolded);
            p->top_val[which] = g_mime_utils_header_decode_text(NULL, unfolded);
            g_free(unfolded);
        }
    }
    return p->top_val[which];
}

/* header_trim - keep only the fields GMime needs (with their continuation
 * lines) of the header of b[0..*n), in place; the body is left as it is.
 * The raw values of the fields the parse reads go to p->top_raw (the
 * first of each name).  A line that is no field ends the trimming there
 * (GMime decides what it is).  Returns 1 when the whole header was read
 * (up to its blank line), else 0. */
static int header_trim(mt_bounce_parser *p, char *b, size_t *n)
{
    size_t i = 0, w = 0, len = *n;
    int keeping = 1, taking = -1, dropped = 0, whole = 0;
    while (i < len) {
        const char *nl = memchr(b + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - b) + 1 : len;
        if (b[i] == '\n') {
            whole = 1; /* the blank line: the body follows */
            break;
        }
        size_t from = i; /* what a taken field's value gets of this line */
        if (b[i] != ' ' && b[i] != '\t') {
            size_t k = i;
            while (k < e && b[k] > ' ' && b[k] < 127 && b[k] != ':')
                k++;
            size_t nameend = k;
            while (k < e && (b[k] == ' ' || b[k] == '\t'))
                k++;
            if (nameend == i || k >= e || b[k] != ':')
                break; /* no field */
            keeping = header_needed(b + i, nameend - i);
            taking = keeping ? -1 : top_which(b + i, nameend - i);
            if (taking >= 0 || (nameend - i == 12 && strncasecmp(b + i, "mime-version", 12) == 0))
                dropped = 1;
            if (taking >= 0 && p->top_seen[taking])
                taking = -1; /* GMime gives the first of a name */
            if (taking >= 0) {
                p->top_seen[taking] = 1;
                p->top_off[taking] = p->top_raw.len;
                p->top_len[taking] = 0;
            }
            from = k + 1;
        }
        if (taking >= 0) {
            mt_buf_append(&p->top_raw, b + from, e - from);
            p->top_len[taking] += e - from;
        }
        if (keeping) {
            if (w != i)
                memmove(b + w, b + i, e - i);
            w += e - i;
        }
        i = e;
    }
    if (!whole && w == 0 && dropped) {
        /* a line that is no field, or the end of the message, and no field
         * kept before it: GMime takes the line for junk, or the message for
         * a header alone, when a field came before, and the message for
         * broken when none did.  So that it sees what it saw when every
         * field the parse reads was handed to it, one stands in for them. */
        memcpy(b, "X:\n", 3);
        w = 3; /* the shortest dropped line ("To:\n") has room for it */
    }
    if (w == i)
        return whole;
    memmove(b + w, b + i, len - i);
    *n = w + (len - i);
    b[*n] = '\0';
    return whole;
}

/* header_len - the length of the header at t[0..n) (LF line ends): up to
 * the blank line, or all of it when none comes */
static size_t header_len(const char *t, size_t n)
{
    /* line by line (memchr): a header has few lines, and memmem's
     * two-byte search is slower than their count */
    for (const char *nl = memchr(t, '\n', n); nl; nl = memchr(nl + 1, '\n', n - (size_t)(nl + 1 - t)))
        if ((size_t)(nl + 1 - t) < n && nl[1] == '\n')
            return (size_t)(nl - t);
    return n;
}

/* line_field - strcasestr(t, "\n" name) for the t[0..n) of a buffer (a
 * NUL at t[n], none before it): the first line after the first that starts
 * with name (lower case), as a pointer to the newline before it */
static const char *line_field(const char *t, size_t n, const char *name)
{
    size_t k = strlen(name);
    for (const char *nl = memchr(t, '\n', n); nl; nl = memchr(nl + 1, '\n', n - (size_t)(nl + 1 - t)))
        if ((size_t)(t + n - (nl + 1)) >= k && strncasecmp(nl + 1, name, k) == 0)
            return nl;
    return NULL;
}

/* attached_report - is the attached message in b (its header, then its
 * body) itself a delivery report (multipart/report; delivery-status)? */
static int attached_report(const mt_buf *b)
{
    if (b->len == 0 || b->data == NULL)
        return 0;
    size_t hn = header_len(b->data, b->len);
    char save = b->data[hn];
    b->data[hn] = '\0';
    int yes =
        strcasestr(b->data, "multipart/report") != NULL && strcasestr(b->data, "delivery-status") != NULL;
    b->data[hn] = save;
    return yes;
}

int mt_bounce_parse(mt_bounce_parser *p, const char *buf, size_t n, const char *source, mt_bounce_fn fn,
                    void *arg)
{
    normalise(&p->norm, buf, n);
    mt_buf_reset(&p->notice);
    mt_buf_reset(&p->dsn);
    mt_buf_reset(&p->arf);
    mt_buf_reset(&p->orig);
    mt_bounce_rcpts_reset(&p->rcpts);
    p->have_orig = 0;
    p->serial++;
    top_reset(p);
    if (!mt_bounce_sniff(p->norm.data, p->norm.len))
        return -1;
    /* who wrote the bounce, from its own whole header (before the fields
     * GMime is not given are dropped) */
    size_t hn = header_len(p->norm.data, p->norm.len);
    p->lhost = mt_bounce_reasons_scope(p->reasons, 0, p->norm.data, hn > 32768 ? 32768 : hn);
    /* no MIME field in a header read to its end: a plain RFC 5322 message
     * whose body is its text (no structure to parse, no transfer encoding
     * to undo, no charset named) */
    int plain = header_trim(p, p->norm.data, &p->norm.len) && p->norm.data[0] == '\n';
    GMimeObject *mo = NULL;
    if (!plain) {
        g_byte_array_set_size(p->in_bytes, 0);
        g_byte_array_append(p->in_bytes, (const guint8 *)p->norm.data, (guint)p->norm.len);
        g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(p->in_stream), p->in_bytes); /* back to the start */
        g_mime_parser_init_with_stream(p->gparser, p->in_stream);
        /* the message read as a MIME part: a GMimeMessage would also build
         * (and free) an address list for each of its address fields */
        mo = g_mime_parser_construct_part(p->gparser, NULL);
        if (mo == NULL)
            return -1;
    }
    p->top_obj = mo;
    const char *subject_raw = top_get(p, TOP_SUBJECT);
    char *subject = subject_raw == NULL       ? NULL
                    : plain_text(subject_raw) ? g_strdup(subject_raw)
                                              : g_mime_utils_header_decode_text(NULL, subject_raw);
    const char *from_h = top_get(p, TOP_FROM);
    const char *to_h = top_get(p, TOP_TO);
    char self[256] = "";
    if (to_h)
        copy_addr(self, sizeof self, to_h, strlen(to_h));
    int64_t msg_time = DATE_UNREAD; /* the Date field's, or the DSN's Arrival-Date */

    walk_state w = {.p = p};
    mt_buf_init(&w.html);
    if (plain) {
        /* what GMime gives for it: one text/plain part, no charset */
        mt_buf_append(&p->notice, p->norm.data + 1, p->norm.len - 1);
        iso2022_to_utf8(p, &p->notice, 0);
    } else
        walk(&w, mo, 0);
    if (p->notice.len == 0 && w.html.len)
        mt_buf_append(&p->notice, w.html.data, w.html.len);
    mt_buf_free(&w.html);
    if (p->dsn.len == 0 && p->arf.len == 0 && !p->nested && attached_report(&p->orig)) {
        /* a notice that forwards a delivery report: the attached one is
         * the bounce (once: an attachment inside it is not looked into) */
        char *inner = mt_xmalloc(p->orig.len + 1);
        size_t in = p->orig.len;
        memcpy(inner, p->orig.data, in);
        inner[in] = '\0';
        g_free(subject);
        if (mo)
            g_object_unref(mo);
        top_reset(p);
        p->nested = 1;
        p->serial--; /* one message, one serial */
        int r = mt_bounce_parse(p, inner, in, source, fn, arg);
        p->nested = 0;
        free(inner);
        return r;
    }
    if (p->notice.len == 0 && p->dsn.len == 0 && p->arf.len == 0) {
        /* a broken MIME structure (a boundary that never comes): the raw
         * body is the notice */
        size_t hl = header_len(p->norm.data, p->norm.len);
        if (hl < p->norm.len)
            mt_buf_append(&p->notice, p->norm.data + hl + 2, p->norm.len - hl - 2);
    }
    if (p->dsn.len == 0 && p->notice.len) {
        /* delivery-status fields written into the text */
        const char *f = line_field(p->notice.data, p->notice.len, "final-recipient:");
        if (f) {
            const char *start = line_field(p->notice.data, p->notice.len, "reporting-mta:");
            if (start == NULL || start > f)
                start = f;
            const char *end = strstr(f, "\n--");
            size_t e = end ? (size_t)(end - p->notice.data) : p->notice.len;
            mt_buf_append(&p->dsn, start + 1, e - (size_t)(start + 1 - p->notice.data));
        }
    }

    /* the returned message inside the notice's text */
    size_t cut = mt_bounce_lhost_cut(p->notice.data ? p->notice.data : "", p->notice.len);
    if (!p->have_orig && cut < p->notice.len && p->notice.data) {
        const char *nl = memchr(p->notice.data + cut, '\n', p->notice.len - cut);
        size_t from = nl ? (size_t)(nl - p->notice.data) + 1 : p->notice.len;
        while (from < p->notice.len && p->notice.data[from] == '\n')
            from++;
        mt_buf_append(&p->orig, p->notice.data + from, p->notice.len - from);
        p->have_orig = 1;
    }
    orig_fields of;
    orig_read(p, p->orig.data ? p->orig.data : "", p->orig.len, &of);

    int count = 0;
    const char *format = "text";
    mt_bounce_kind kind = MT_BOUNCE_FAILURE;
    const char *feedback = NULL;
    char fbt[64] = "";
    if (p->arf.len) {
        format = "arf";
        kind = MT_BOUNCE_COMPLAINT;
        if (field(p->arf.data, p->arf.len, "Feedback-Type", &p->tmp) >= 0) {
            copy_str(fbt, sizeof fbt, p->tmp.data);
            mt_lower_ascii(fbt, strlen(fbt));
            feedback = fbt;
        }
        int64_t at = 0;
        if (field(p->arf.data, p->arf.len, "Arrival-Date", &p->tmp) >= 0 ||
            field(p->arf.data, p->arf.len, "Received-Date", &p->tmp) >= 0)
            at = parse_date(p->tmp.data);
        /* one record per Original-Rcpt-To (there may be several) */
        for (size_t off = 0; off < p->arf.len;) {
            long f = field(p->arf.data + off, p->arf.len - off, "Original-Rcpt-To", &p->tmp);
            if (f < 0)
                break;
            mt_bounce_rcpt *r = mt_bounce_rcpts_add(&p->rcpts);
            copy_addr(r->addr, sizeof r->addr, p->tmp.data, p->tmp.len);
            r->time = at;
            off += (size_t)f + 1;
        }
        if (p->rcpts.n == 0) {
            mt_bounce_rcpt *r = mt_bounce_rcpts_add(&p->rcpts);
            copy_str(r->addr, sizeof r->addr, of.to[0] ? of.to : self);
            r->time = at;
        }
    } else if (p->dsn.len == 0 && p->orig.len &&
               field(p->orig.data, p->orig.len, "X-HmXmrOriginalRecipient", &p->tmp) >= 0) {
        /* Microsoft's complaint reports (JMRP): the reported message, marked */
        format = "arf";
        kind = MT_BOUNCE_COMPLAINT;
        copy_str(fbt, sizeof fbt, "abuse");
        feedback = fbt;
        mt_bounce_rcpt *r = mt_bounce_rcpts_add(&p->rcpts);
        copy_addr(r->addr, sizeof r->addr, p->tmp.data, p->tmp.len);
    } else if (p->dsn.len == 0 && is_autoreply(p, subject) && !looks_like_bounce(from_h, subject, 0)) {
        format = "rfc3834";
        kind = MT_BOUNCE_AUTOREPLY;
        mt_bounce_rcpt *r = mt_bounce_rcpts_add(&p->rcpts);
        if (from_h)
            copy_addr(r->addr, sizeof r->addr, from_h, strlen(from_h));
        mt_buf_append(&r->diag, p->notice.data ? p->notice.data : "",
                      p->notice.len > 1000 ? 1000 : p->notice.len);
    } else {
        if (p->dsn.len) {
            format = "rfc3464";
            parse_dsn(p, &msg_time);
        }
        int jkind = 0;
        if (p->rcpts.n == 0 && p->notice.len &&
            mt_bounce_json_scan(p->notice.data, p->notice.len, &p->rcpts, &jkind) > 0) {
            format = "json";
            if (jkind == MT_BOUNCE_COMPLAINT)
                kind = MT_BOUNCE_COMPLAINT;
        }
        if (p->rcpts.n == 0 && looks_like_bounce(from_h, subject, p->dsn.len)) {
            format = "text";
            mt_bounce_lhost_scan(p->notice.data ? p->notice.data : "", cut, self[0] ? self : NULL, &p->rcpts);
            if (p->rcpts.n == 0 && self[0]) /* a bounce of mail one sent oneself */
                mt_bounce_lhost_scan(p->notice.data ? p->notice.data : "", cut, NULL, &p->rcpts);
            keep_failed(p, top_get(p, TOP_X_FAILED));
            if (p->rcpts.n == 0) {
                const char *xf = top_get(p, TOP_X_FAILED);
                mt_bounce_rcpt *r = mt_bounce_rcpts_add(&p->rcpts);
                if (xf)
                    copy_addr(r->addr, sizeof r->addr, xf, strlen(xf));
                size_t from = 0;
                if (r->addr[0] == '\0')
                    from = first_bracketed(p->notice.data ? p->notice.data : "", cut, self, r->addr,
                                           sizeof r->addr);
                if (r->addr[0] == '\0')
                    from =
                        first_bare(p->notice.data ? p->notice.data : "", cut, self, r->addr, sizeof r->addr);
                if (r->addr[0] == '\0')
                    copy_str(r->addr, sizeof r->addr, of.to);
                char ts[16];
                if (from && mt_bounce_find_status(p->notice.data + from, cut - from, ts) < 0 &&
                    mt_bounce_find_code(p->notice.data + from, cut - from, 0) == 0)
                    from = 0; /* nothing said after it: the whole notice */
                mt_buf_append(&r->diag, p->notice.data ? p->notice.data + from : "", cut - from);
            }
        } else if (p->rcpts.n) {
            /* DSN recipients without a diagnostic: the notice says it */
            mt_bounce_rcpts tmp = {0};
            mt_bounce_lhost_scan(p->notice.data ? p->notice.data : "", cut, self[0] ? self : NULL, &tmp);
            for (int i = 0; i < p->rcpts.n; i++) {
                mt_bounce_rcpt *r = &p->rcpts.v[i];
                if (r->addr[0] == '\0' && tmp.n == p->rcpts.n) /* a broken Final-Recipient */
                    copy_str(r->addr, sizeof r->addr, tmp.v[i].addr);
                if (r->addr[0] == '\0' && p->rcpts.n == 1) {
                    /* a file or program as Final-Recipient (Exim's "save to
                     * /path"): the address the header names */
                    const char *xf = top_get(p, TOP_X_FAILED);
                    if (xf)
                        copy_addr(r->addr, sizeof r->addr, xf, strlen(xf));
                }
                const mt_bounce_rcpt *said = NULL;
                for (int k = 0; k < tmp.n && !said; k++)
                    if (strcasecmp(tmp.v[k].addr, r->addr) == 0)
                        said = &tmp.v[k];
                if (said == NULL && tmp.n == 1 && p->rcpts.n == 1)
                    said = &tmp.v[0];
                if (r->diag.len == 0) {
                    if (said)
                        mt_buf_append(&r->diag, said->diag.data ? said->diag.data : "", said->diag.len);
                    else if (tmp.n == 0)
                        mt_buf_append(&r->diag, p->notice.data ? p->notice.data : "",
                                      cut > 2000 ? 2000 : cut);
                }
                if (said)
                    mt_buf_append(&r->note, said->diag.data ? said->diag.data : "", said->diag.len);
                else if (p->rcpts.n == 1) /* the notice is all about it */
                    mt_buf_append(&r->note, p->notice.data ? p->notice.data : "", cut);
                if (said && r->command[0] == '\0' &&
                    !command_of(p, r->diag.data ? r->diag.data : "", r->diag.len)[0])
                    copy_str(r->command, sizeof r->command,
                             command_of(p, said->diag.data ? said->diag.data : "", said->diag.len));
            }
            mt_bounce_rcpts_free(&tmp);
        }
    }
    if (p->rcpts.n)
        count = emit(p, source, &of, msg_time, format, kind, feedback, fn, arg);
    g_free(subject);
    if (mo)
        g_object_unref(mo);
    p->top_obj = NULL;
    return count;
}

/* ---- reading paths ---- */

typedef struct read_ctx {
    mt_bounce_parser *p;
    mt_bounce_fn fn;
    void *arg;
    mt_bounce_stats *st;
    uint64_t records;
} read_ctx;

static void count_record(const mt_attempt *a, const mt_bounce_info *info, void *arg)
{
    read_ctx *c = arg;
    c->records++;
    if ((unsigned)info->kind < 5)
        c->st->by_kind[info->kind]++;
    c->fn(a, info, c->arg);
}

static void on_message(const char *buf, size_t n, const char *name, void *arg)
{
    read_ctx *c = arg;
    c->records = 0;
    int r = mt_bounce_parse(c->p, buf, n, name, count_record, c);
    if (r < 0)
        c->st->not_mail++;
    else if (r == 0)
        c->st->not_bounce++;
    else
        c->st->bounces++;
    c->st->records += c->records;
}

int mt_bounce_read(mt_bounce_parser *p, const char *path, mt_bounce_fn fn, void *arg, mt_bounce_stats *st,
                   mt_buf *err)
{
    read_ctx c = {.p = p, .fn = fn, .arg = arg, .st = st};
    mt_mailbox_stats ms = {0};
    int rc = mt_mailbox_read(path, on_message, &c, &ms, err);
    st->files += ms.files;
    st->messages += ms.messages;
    st->unreadable += ms.unreadable;
    return rc;
}

typedef struct plain_ctx {
    void (*fn)(const mt_attempt *, void *);
    void *arg;
} plain_ctx;

static void plain(const mt_attempt *a, const mt_bounce_info *info, void *arg)
{
    plain_ctx *c = arg;
    if (info->kind == MT_BOUNCE_AUTOREPLY || info->kind == MT_BOUNCE_COMPLAINT)
        return; /* not delivery attempts */
    c->fn(a, c->arg);
}

int mt_bounce_attempts(mt_bounce_parser *p, const char *const *paths, int n,
                       void (*fn)(const mt_attempt *, void *), void *arg, mt_bounce_stats *st, mt_buf *err)
{
    plain_ctx c = {fn, arg};
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (mt_bounce_read(p, paths[i], plain, &c, st, err) < 0)
            bad++;
    return bad;
}
