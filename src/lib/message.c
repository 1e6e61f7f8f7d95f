/*
 * message.c - load a message: raw header fields by hand (DKIM needs the
 * bytes exactly as written), everything MIME through GMime 3.
 */
#include "message.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_PARTS 20000

struct mt_message {
    GByteArray *bytes; /* owned by stream */
    GMimeStream *stream;
    GMimeMessage *msg;
    const char *raw;
    size_t len;
    size_t body_off;
    int sep_found;
    mt_hfield *fields;
    size_t nfields, capfields;
    size_t bad_lines;
    mt_parse_warning *warns;
    size_t nwarns, capwarns;
    mt_part *parts;
    size_t nparts, capparts;
    mt_buf *decoded;
    unsigned char *decoded_done;
    mt_buf *utf8;
    unsigned char *utf8_done;
    size_t mbox_messages;
};

void mt_gmime_init(void)
{
    /* g_mime_init counts its callers and initialises once */
    g_mime_init();
}

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer arg)
{
    mt_message *m = arg;
    if (m->nwarns >= 1000)
        return;
    if (m->nwarns == m->capwarns) {
        m->capwarns = m->capwarns ? m->capwarns * 2 : 16;
        m->warns = mt_xrealloc(m->warns, m->capwarns * sizeof *m->warns);
    }
    mt_parse_warning *w = &m->warns[m->nwarns++];
    w->code = (int)code;
    w->critical = code == GMIME_CRIT_INVALID_HEADER_NAME || code == GMIME_CRIT_CONFLICTING_HEADER ||
                  code == GMIME_CRIT_CONFLICTING_PARAMETER || code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY ||
                  code == GMIME_CRIT_NESTING_OVERFLOW || code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT;
    w->offset = (long long)offset;
    w->what = mt_xstrdup(item ? item : "");
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static void split_header(mt_message *m)
{
    const char *p = m->raw;
    size_t len = m->len, pos = 0;
    m->body_off = len;
    m->sep_found = 0;
    mt_hfield *cur = NULL;
    while (pos < len) {
        const char *nl = memchr(p + pos, '\n', len - pos);
        size_t e = nl ? (size_t)(nl - p) : len; /* index of '\n' or len */
        size_t next = nl ? e + 1 : len;
        size_t le = e;
        if (le > pos && p[le - 1] == '\r')
            le--;
        if (le == pos) { /* the empty line */
            m->body_off = next;
            m->sep_found = 1;
            return;
        }
        if (is_wsp(p[pos])) {
            if (cur) {
                cur->field.len = next - (size_t)(cur->field.p - p);
                cur->value.len = le - (size_t)(cur->value.p - p);
            } else {
                m->bad_lines++;
            }
            pos = next;
            continue;
        }
        const char *colon = memchr(p + pos, ':', le - pos);
        size_t nend = colon ? (size_t)(colon - p) : pos;
        while (nend > pos && is_wsp(p[nend - 1]))
            nend--;
        int good = colon != NULL && nend > pos;
        for (size_t i = pos; good && i < nend; i++)
            if ((unsigned char)p[i] < 33 || (unsigned char)p[i] > 126)
                good = 0;
        if (!good) {
            m->bad_lines++;
            cur = NULL;
            pos = next;
            continue;
        }
        if (m->nfields == m->capfields) {
            m->capfields = m->capfields ? m->capfields * 2 : 32;
            m->fields = mt_xrealloc(m->fields, m->capfields * sizeof *m->fields);
        }
        cur = &m->fields[m->nfields++];
        cur->name = (mt_slice){p + pos, nend - pos};
        cur->value = (mt_slice){colon + 1, le - (size_t)(colon + 1 - p)};
        cur->field = (mt_slice){p + pos, next - pos};
        pos = next;
    }
}

static void lower_into(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] + 32 : src[i]);
    dst[i] = '\0';
}

int mt_gmime_is_attachment(const void *gmime_object)
{
    GMimeObject *obj = (GMimeObject *)gmime_object;
    if (obj == NULL || !GMIME_IS_PART(obj))
        return 0;
    GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
    if (disp && g_mime_content_disposition_is_attachment(disp))
        return 1;
    const char *d = disp ? g_mime_content_disposition_get_disposition(disp) : NULL;
    if (d && strcasecmp(d, "inline") == 0)
        return 0;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
    return g_mime_part_get_filename(GMIME_PART(obj)) != NULL && !(type && strcasecmp(type, "text") == 0);
}

static mt_part *new_part(mt_message *m)
{
    if (m->nparts == m->capparts) {
        m->capparts = m->capparts ? m->capparts * 2 : 16;
        m->parts = mt_xrealloc(m->parts, m->capparts * sizeof *m->parts);
    }
    mt_part *pt = &m->parts[m->nparts];
    memset(pt, 0, sizeof *pt);
    pt->index = (int)m->nparts++;
    return pt;
}

static void walk(mt_message *m, GMimeObject *obj, int depth, int parent, const char *path)
{
    if (obj == NULL || m->nparts >= MAX_PARTS || depth > 64)
        return;
    mt_part *pt = new_part(m);
    int me = pt->index;
    pt->depth = depth;
    pt->parent = parent;
    pt->obj = obj;
    snprintf(pt->path, sizeof pt->path, "%s", path);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s/%s",
             ct && g_mime_content_type_get_media_type(ct) ? g_mime_content_type_get_media_type(ct) : "text",
             ct && g_mime_content_type_get_media_subtype(ct) ? g_mime_content_type_get_media_subtype(ct)
                                                             : "plain");
    lower_into(pt->ctype, sizeof pt->ctype, tmp);
    const char *cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
    pt->charset = cs ? mt_xstrdup(cs) : NULL;
    const char *cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding");
    if (cte) {
        while (is_wsp(*cte))
            cte++;
        lower_into(pt->cte, sizeof pt->cte, cte);
        size_t n = strlen(pt->cte);
        while (n > 0 && (is_wsp(pt->cte[n - 1]) || pt->cte[n - 1] == '\r' || pt->cte[n - 1] == '\n'))
            pt->cte[--n] = '\0';
    }
    GMimeContentDisposition *disp = g_mime_object_get_content_disposition(obj);
    if (disp) {
        pt->is_attachment = g_mime_content_disposition_is_attachment(disp) ? 1 : 0;
        const char *d = g_mime_content_disposition_get_disposition(disp);
        pt->is_inline_disp = d && strcasecmp(d, "inline") == 0;
    }

    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        pt->is_multipart = 1;
        /* the declared boundary: GMime invents one when it is missing */
        const char *b = ct ? g_mime_content_type_get_parameter(ct, "boundary") : NULL;
        pt->boundary = b ? mt_xstrdup(b) : NULL;
        int n = g_mime_multipart_get_count(mp);
        m->parts[me].nchildren = n;
        for (int i = 0; i < n; i++) {
            char sub[64];
            if (depth == 0)
                snprintf(sub, sizeof sub, "%d", i + 1);
            else
                snprintf(sub, sizeof sub, "%.40s.%d", path, i + 1);
            walk(m, g_mime_multipart_get_part(mp, i), depth + 1, me, sub);
        }
        return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        pt->is_message = 1;
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        m->parts[me].nchildren = inner ? 1 : 0;
        if (inner) {
            char sub[64];
            snprintf(sub, sizeof sub, "%.50s.1", depth == 0 ? "1" : path);
            walk(m, g_mime_message_get_mime_part(inner), depth + 1, me, sub);
        }
        return;
    }
    if (GMIME_IS_PART(obj)) {
        GMimePart *part = GMIME_PART(obj);
        const char *fn = g_mime_part_get_filename(part);
        pt->filename = fn ? mt_xstrdup(fn) : NULL;
        pt->is_attachment = mt_gmime_is_attachment(obj);
        GMimeDataWrapper *w = g_mime_part_get_content(part);
        GMimeStream *s = w ? g_mime_data_wrapper_get_stream(w) : NULL;
        if (s) {
            gint64 st = s->bound_start, en = s->bound_end;
            if (st < 0)
                st = 0;
            if (en < 0 || (size_t)en > m->len)
                en = (gint64)m->len;
            if (st > en)
                st = en;
            pt->enc_off = (size_t)st;
            pt->enc_len = (size_t)(en - st);
        }
    }
}

static mt_message *parse_bytes(GByteArray *arr)
{
    mt_gmime_init();
    mt_message *m = mt_xcalloc(1, sizeof *m);
    /* an mbox "From " line before the header is not part of the message;
     * in an mbox of several, the first message is the one checked */
    m->mbox_messages = 1;
    if (arr->len >= 5 && memcmp(arr->data, "From ", 5) == 0) {
        guint8 *nl = memchr(arr->data, '\n', arr->len);
        if (nl)
            g_byte_array_remove_range(arr, 0, (guint)(nl - arr->data + 1));
        size_t cut = 0;
        const char *d = (const char *)arr->data;
        size_t n = arr->len;
        for (const char *q = memmem(d, n, "\nFrom ", 6); q;
             q = memmem(q + 1, n - (size_t)(q + 1 - d), "\nFrom ", 6)) {
            /* a separator follows an empty line */
            int blank = (q - d >= 1 && q[-1] == '\n') || (q - d >= 2 && q[-1] == '\r' && q[-2] == '\n');
            if (!blank)
                continue;
            if (cut == 0)
                cut = (size_t)(q - d) + 1;
            m->mbox_messages++;
        }
        if (cut)
            g_byte_array_set_size(arr, (guint)cut);
    }
    m->bytes = arr;
    m->stream = g_mime_stream_mem_new_with_byte_array(arr); /* takes arr */
    m->raw = (const char *)arr->data;
    m->len = arr->len;
    split_header(m);

    GMimeParserOptions *po = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(po, on_warning, m);
    GMimeParser *parser = g_mime_parser_new_with_stream(m->stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    g_mime_parser_set_persist_stream(parser, TRUE);
    m->msg = g_mime_parser_construct_message(parser, po);
    g_object_unref(parser);
    g_mime_parser_options_free(po);
    if (m->msg)
        walk(m, g_mime_message_get_mime_part(m->msg), 0, -1, "0");
    if (m->nparts > 0 && !m->parts[0].is_multipart && !m->parts[0].is_message)
        snprintf(m->parts[0].path, sizeof m->parts[0].path, "1"); /* a single-part body is part 1 */
    m->decoded = mt_xcalloc(m->nparts + 1, sizeof *m->decoded);
    m->decoded_done = mt_xcalloc(m->nparts + 1, 1);
    m->utf8 = mt_xcalloc(m->nparts + 1, sizeof *m->utf8);
    m->utf8_done = mt_xcalloc(m->nparts + 1, 1);
    return m;
}

mt_message *mt_message_parse(const char *data, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "the message is empty");
        return NULL;
    }
    GByteArray *arr = g_byte_array_sized_new((guint)len);
    g_byte_array_append(arr, (const guint8 *)data, (guint)len);
    return parse_bytes(arr);
}

mt_message *mt_message_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    GByteArray *arr = g_byte_array_sized_new(
        fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < INT32_MAX ? (guint)st.st_size + 1
                                                                                    : 65536);
    size_t n;
    for (;;) {
        /* read straight into the array: no second copy of a 10 MB message */
        guint have = arr->len;
        if ((size_t)have + 65536 > (size_t)UINT32_MAX / 2) {
            snprintf(err, errlen, "%s: larger than 2 GB, not a message", path);
            g_byte_array_unref(arr);
            if (f != stdin)
                fclose(f);
            return NULL;
        }
        g_byte_array_set_size(arr, have + 65536);
        n = fread(arr->data + have, 1, 65536, f);
        g_byte_array_set_size(arr, have + (guint)n);
        if (n == 0)
            break;
    }
    int rerr = ferror(f);
    if (f != stdin)
        fclose(f);
    if (rerr) {
        snprintf(err, errlen, "%s: read error", path);
        g_byte_array_unref(arr);
        return NULL;
    }
    if (arr->len == 0) {
        snprintf(err, errlen, "%s: the message is empty", strcmp(path, "-") == 0 ? "stdin" : path);
        g_byte_array_unref(arr);
        return NULL;
    }
    return parse_bytes(arr);
}

void mt_message_free(mt_message *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nwarns; i++)
        free(m->warns[i].what);
    free(m->warns);
    for (size_t i = 0; i < m->nparts; i++) {
        free(m->parts[i].charset);
        free(m->parts[i].filename);
        free(m->parts[i].boundary);
        mt_buf_free(&m->decoded[i]);
        mt_buf_free(&m->utf8[i]);
    }
    free(m->parts);
    free(m->decoded);
    free(m->decoded_done);
    free(m->utf8);
    free(m->utf8_done);
    free(m->fields);
    if (m->msg)
        g_object_unref(m->msg);
    g_object_unref(m->stream);
    free(m);
}

const char *mt_message_raw(const mt_message *m, size_t *len)
{
    *len = m->len;
    return m->raw;
}

size_t mt_message_body_offset(const mt_message *m, int *sep_found)
{
    if (sep_found)
        *sep_found = m->sep_found;
    return m->body_off;
}

size_t mt_message_mbox_messages(const mt_message *m)
{
    return m->mbox_messages;
}

size_t mt_message_nfields(const mt_message *m)
{
    return m->nfields;
}

const mt_hfield *mt_message_field(const mt_message *m, size_t i)
{
    return i < m->nfields ? &m->fields[i] : NULL;
}

size_t mt_message_bad_header_lines(const mt_message *m)
{
    return m->bad_lines;
}

static int name_is(mt_slice s, const char *name)
{
    size_t n = strlen(name);
    return s.len == n && strncasecmp(s.p, name, n) == 0;
}

size_t mt_message_header_count(const mt_message *m, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (name_is(m->fields[i].name, name))
            c++;
    return c;
}

const mt_hfield *mt_message_header_first(const mt_message *m, const char *name)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (name_is(m->fields[i].name, name))
            return &m->fields[i];
    return NULL;
}

void *mt_message_gmime(const mt_message *m)
{
    return m->msg;
}

int mt_message_tree_ok(const mt_message *m)
{
    return m->msg != NULL && m->nparts > 0;
}

size_t mt_message_nwarnings(const mt_message *m)
{
    return m->nwarns;
}

const mt_parse_warning *mt_message_warning(const mt_message *m, size_t i)
{
    return i < m->nwarns ? &m->warns[i] : NULL;
}

size_t mt_message_nparts(const mt_message *m)
{
    return m->nparts;
}

const mt_part *mt_message_part(const mt_message *m, size_t i)
{
    return i < m->nparts ? &m->parts[i] : NULL;
}

const mt_buf *mt_message_part_decoded(const mt_message *m, size_t i)
{
    if (i >= m->nparts || !GMIME_IS_PART(m->parts[i].obj))
        return NULL;
    mt_message *mm = (mt_message *)m; /* the cache is not part of the value */
    if (!mm->decoded_done[i]) {
        mm->decoded_done[i] = 1;
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(m->parts[i].obj));
        if (w) {
            GMimeStream *out = g_mime_stream_mem_new();
            g_mime_data_wrapper_write_to_stream(w, out);
            GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
            if (ba && ba->len && mm->decoded[i].len == 0) {
                /* take GMime's bytes rather than copy them (glib allocates with malloc) */
                g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
                guint8 nul = 0;
                g_byte_array_append(ba, &nul, 1);
                size_t blen = ba->len - 1;
                free(mm->decoded[i].data);
                mm->decoded[i].data = (char *)g_byte_array_free(ba, FALSE);
                mm->decoded[i].len = blen;
                mm->decoded[i].cap = blen + 1;
            }
            g_object_unref(out);
        }
    }
    return &m->decoded[i];
}

/* mt_charset_to_utf8-like conversion with U+FFFD for what does not fit */
static void convert_utf8(const char *charset, const char *in, size_t n, mt_buf *out)
{
    const char *cs = charset ? g_mime_charset_iconv_name(charset) : "UTF-8";
    if (cs == NULL || strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0)
        cs = "UTF-8"; /* 8-bit bytes in "ASCII" text are most often UTF-8 */
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8", "UTF-8");
    if (cd == (iconv_t)-1) {
        mt_buf_append(out, in, n);
        return;
    }
    char chunk[8192];
    char *ip = (char *)in;
    size_t ileft = n;
    while (ileft > 0) {
        char *op = chunk;
        size_t oleft = sizeof chunk;
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        mt_buf_append(out, chunk, sizeof chunk - oleft);
        if (r == (size_t)-1) {
            if (errno == E2BIG)
                continue;
            /* EILSEQ or EINVAL: skip one byte, mark it */
            mt_buf_puts(out, "\xEF\xBF\xBD");
            ip++;
            ileft--;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    iconv_close(cd);
}

const mt_buf *mt_message_part_text_utf8(const mt_message *m, size_t i)
{
    if (i >= m->nparts || strncmp(m->parts[i].ctype, "text/", 5) != 0)
        return NULL;
    const mt_buf *dec = mt_message_part_decoded(m, i);
    if (dec == NULL)
        return NULL;
    mt_message *mm = (mt_message *)m;
    if (!mm->utf8_done[i]) {
        mm->utf8_done[i] = 1;
        mt_buf_reserve(&mm->utf8[i], dec->len + 1);
        convert_utf8(m->parts[i].charset, dec->data ? dec->data : "", dec->len, &mm->utf8[i]);
    }
    return &m->utf8[i];
}

const char *mt_message_from_domain(const mt_message *m, char *out, size_t outlen)
{
    out[0] = '\0';
    if (m->msg == NULL)
        return out;
    InternetAddressList *l = g_mime_message_get_from(m->msg);
    int n = l ? internet_address_list_length(l) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        if (!INTERNET_ADDRESS_IS_MAILBOX(a))
            continue;
        const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
        const char *at = addr ? strrchr(addr, '@') : NULL;
        if (at && at[1]) {
            lower_into(out, outlen, at + 1);
            return out;
        }
    }
    return out;
}
