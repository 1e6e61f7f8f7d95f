/*
 * msgcheck_structure.c - RFC 5322 form, the MIME tree and its boundaries,
 * alternatives, and whether each part's transfer encoding matches its
 * bytes (8-bit in 7bit, lines over 998, broken base64 / quoted-printable).
 */
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msgcheck.h"
#include "strmap.h"

/* the one-line whys are cut to their buffers on purpose */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAM "structure"

static const char *warn_name(int code)
{
    switch (code) {
    case GMIME_WARN_DUPLICATED_HEADER:
        return "duplicated header";
    case GMIME_WARN_DUPLICATED_PARAMETER:
        return "duplicated parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
        return "unencoded 8-bit header";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
        return "invalid Content-Type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
        return "invalid RFC 2047 header value";
    case GMIME_WARN_MALFORMED_MULTIPART:
        return "multipart without child parts";
    case GMIME_WARN_TRUNCATED_MESSAGE:
        return "message truncated";
    case GMIME_WARN_MALFORMED_MESSAGE:
        return "malformed message";
    case GMIME_CRIT_INVALID_HEADER_NAME:
        return "invalid header name";
    case GMIME_CRIT_CONFLICTING_HEADER:
        return "conflicting header";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
        return "conflicting parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
        return "multipart without boundary";
    case GMIME_WARN_INVALID_PARAMETER:
        return "invalid parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
        return "invalid address list";
    case GMIME_CRIT_NESTING_OVERFLOW:
        return "MIME nesting too deep";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
        return "part without content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        return "part without headers or content";
    default:
        return "parser warning";
    }
}

static void check_rfc5322(const mt_message *m, mt_checklist *out)
{
    size_t bad = mt_message_bad_header_lines(m);
    int sep;
    size_t len, body = mt_message_body_offset(m, &sep);
    (void)mt_message_raw(m, &len);
    size_t crit = 0;
    const char *first = NULL;
    for (size_t i = 0; i < mt_message_nwarnings(m); i++) {
        const mt_parse_warning *w = mt_message_warning(m, i);
        if (w->code == GMIME_CRIT_INVALID_HEADER_NAME || w->code == GMIME_WARN_MALFORMED_MESSAGE ||
            w->code == GMIME_WARN_TRUNCATED_MESSAGE) {
            crit++;
            if (!first)
                first = warn_name(w->code);
        }
    }
    if (mt_message_nfields(m) == 0)
        mt_checklist_add(out, FAM, "structure-rfc5322", MT_CHECK_FAIL,
                         "no header fields: not an RFC 5322 message");
    else if (bad)
        mt_checklist_add(out, FAM, "structure-rfc5322", MT_CHECK_FAIL,
                         "%zu header line(s) are neither a field (name:value) nor a continuation", bad);
    else if (!sep && body < len)
        mt_checklist_add(out, FAM, "structure-rfc5322", MT_CHECK_FAIL, "no empty line ends the header");
    else if (crit)
        mt_checklist_add(out, FAM, "structure-rfc5322", MT_CHECK_FAIL,
                         "the MIME parser reports %zu problem(s): %s", crit, first);
    else
        mt_checklist_add(out, FAM, "structure-rfc5322", MT_CHECK_PASS,
                         "%zu header fields, header and body separated", mt_message_nfields(m));
}

static void check_line_endings(const mt_message *m, mt_checklist *out)
{
    size_t len;
    const char *p = mt_message_raw(m, &len);
    size_t crlf = 0, lf = 0, cr = 0;
    /* memchr runs at memory speed; a 10 MB message has few line breaks per byte */
    for (const char *q = p, *e = p + len; q < e;) {
        const char *nl = memchr(q, '\n', (size_t)(e - q));
        const char *stop = nl ? nl : e;
        for (const char *r = memchr(q, '\r', (size_t)(stop - q)); r;
             r = memchr(r + 1, '\r', (size_t)(stop - r - 1)))
            if (!(nl && r == nl - 1))
                cr++; /* a CR that does not end the line */
        if (nl == NULL)
            break;
        if (nl > p && nl[-1] == '\r')
            crlf++;
        else
            lf++;
        q = nl + 1;
    }
    if (cr)
        mt_checklist_add(out, FAM, "structure-line-endings", MT_CHECK_FAIL,
                         "%zu bare CR byte(s): SMTP forbids CR outside CRLF", cr);
    else if (crlf && lf)
        mt_checklist_add(out, FAM, "structure-line-endings", MT_CHECK_WARN,
                         "mixed line ends: %zu CRLF and %zu bare LF", crlf, lf);
    else
        mt_checklist_add(out, FAM, "structure-line-endings", MT_CHECK_PASS, "consistent line ends (%s)",
                         crlf ? "CRLF" : "LF, converted to CRLF by the MTA");
}

static void check_tree(const mt_message *m, mt_checklist *out)
{
    if (!mt_message_tree_ok(m)) {
        mt_checklist_add(out, FAM, "structure-mime-tree", MT_CHECK_FAIL, "GMime could not build a MIME tree");
        return;
    }
    size_t nwarn = 0, ncrit = 0;
    const char *first = NULL;
    for (size_t i = 0; i < mt_message_nwarnings(m); i++) {
        const mt_parse_warning *w = mt_message_warning(m, i);
        switch (w->code) {
        case GMIME_WARN_MALFORMED_MULTIPART:
        case GMIME_WARN_PART_WITHOUT_CONTENT:
        case GMIME_WARN_INVALID_CONTENT_TYPE:
        case GMIME_WARN_INVALID_PARAMETER:
        case GMIME_WARN_DUPLICATED_PARAMETER:
        case GMIME_CRIT_CONFLICTING_PARAMETER:
        case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
        case GMIME_CRIT_NESTING_OVERFLOW:
        case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        case GMIME_WARN_TRUNCATED_MESSAGE:
            if (w->critical || w->code == GMIME_WARN_MALFORMED_MULTIPART ||
                w->code == GMIME_WARN_TRUNCATED_MESSAGE)
                ncrit++;
            else
                nwarn++;
            if (!first)
                first = warn_name(w->code);
            break;
        default:
            break;
        }
    }
    int maxdepth = 0;
    size_t leaves = 0, multis = 0;
    for (size_t i = 0; i < mt_message_nparts(m); i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (pt->depth > maxdepth)
            maxdepth = pt->depth;
        if (pt->is_multipart)
            multis++;
        else if (!pt->is_message)
            leaves++;
    }
    const mt_part *top = mt_message_part(m, 0);
    if (ncrit)
        mt_checklist_add(out, FAM, "structure-mime-tree", MT_CHECK_FAIL, "%zu MIME problem(s), first: %s",
                         ncrit + nwarn, first);
    else if (nwarn)
        mt_checklist_add(out, FAM, "structure-mime-tree", MT_CHECK_WARN, "%zu MIME problem(s), first: %s",
                         nwarn, first);
    else if (maxdepth > 8)
        mt_checklist_add(out, FAM, "structure-mime-tree", MT_CHECK_WARN,
                         "nesting depth %d: receivers' parsers may give up (usual mail is 3 or less)",
                         maxdepth);
    else
        mt_checklist_add(out, FAM, "structure-mime-tree", MT_CHECK_PASS,
                         "%s: %zu part(s), %zu multipart(s), depth %d", top->ctype, leaves, multis, maxdepth);
}

/* boundary characters of RFC 2046 bchars */
static int bchar_ok(const char *b)
{
    size_t n = strlen(b);
    if (n == 0 || n > 70 || b[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("'()+_,-./:=? ", c)))
            return 0;
    }
    return 1;
}

typedef struct bcount {
    size_t opens, closes;
    int first; /* the first multipart declaring it */
    int users; /* how many multiparts declare it */
} bcount;

static int cmp_bstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One pass over the lines whatever the number of multiparts: delimiter
 * lines are looked up in a map of the declared boundaries. */
static void check_boundaries(const mt_message *m, mt_checklist *out)
{
    size_t len;
    const char *raw = mt_message_raw(m, &len);
    size_t np = mt_message_nparts(m), nmulti = 0;
    char why[512] = "";
    mt_check_status st = MT_CHECK_PASS;
    mt_strmap *map = mt_strmap_new(0);
    bcount *cnt = mt_xcalloc(np + 1, sizeof *cnt);
    const char **names = mt_xcalloc(np + 1, sizeof *names);
    size_t nb = 0;
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (!pt->is_multipart)
            continue;
        nmulti++;
        if (pt->boundary == NULL || pt->boundary[0] == '\0') {
            if (st != MT_CHECK_FAIL)
                snprintf(why, sizeof why, "%s (part %s) declares no boundary", pt->ctype, pt->path);
            st = MT_CHECK_FAIL;
            continue;
        }
        void *v = mt_strmap_get(map, pt->boundary, strlen(pt->boundary));
        if (v) {
            bcount *c = &cnt[(uintptr_t)v - 1];
            c->users++;
            if (st != MT_CHECK_FAIL)
                snprintf(why, sizeof why, "boundary collision: \"%.60s\" declared by parts %s and %s",
                         pt->boundary, mt_message_part(m, (size_t)c->first)->path, pt->path);
            st = MT_CHECK_FAIL;
            continue;
        }
        cnt[nb].first = (int)i;
        cnt[nb].users = 1;
        names[nb] = mt_strmap_put(map, pt->boundary, strlen(pt->boundary), (void *)(uintptr_t)(nb + 1));
        nb++;
        if (!bchar_ok(pt->boundary) && st == MT_CHECK_PASS) {
            snprintf(why, sizeof why,
                     "boundary \"%.80s\" of part %s has characters or a length RFC 2046 forbids",
                     pt->boundary, pt->path);
            st = MT_CHECK_WARN;
        }
    }
    if (nb) {
        for (size_t pos = 0; pos < len;) {
            const char *nl = memchr(raw + pos, '\n', len - pos);
            size_t e = nl ? (size_t)(nl - raw) : len;
            if (e - pos > 2 && raw[pos] == '-' && raw[pos + 1] == '-') {
                size_t k = e;
                while (k > pos + 2 && (raw[k - 1] == ' ' || raw[k - 1] == '\t' || raw[k - 1] == '\r'))
                    k--;
                const char *b = raw + pos + 2;
                size_t bl = k - pos - 2;
                void *v = mt_strmap_get(map, b, bl);
                if (v) {
                    cnt[(uintptr_t)v - 1].opens++;
                } else if (bl > 2 && b[bl - 1] == '-' && b[bl - 2] == '-' &&
                           (v = mt_strmap_get(map, b, bl - 2)) != NULL) {
                    cnt[(uintptr_t)v - 1].closes++;
                }
            }
            pos = nl ? e + 1 : len;
        }
    }
    for (size_t j = 0; j < nb && st != MT_CHECK_FAIL; j++) {
        const mt_part *pt = mt_message_part(m, (size_t)cnt[j].first);
        const char *b = names[j];
        if (cnt[j].opens == 0) {
            snprintf(why, sizeof why,
                     "boundary \"%.80s\" (part %s) is declared but no delimiter line uses it", b, pt->path);
            st = MT_CHECK_FAIL;
        } else if (cnt[j].closes == 0) {
            snprintf(why, sizeof why,
                     "boundary \"%.80s\" (part %s) has %zu delimiter(s) but no closing --%.80s--", b,
                     pt->path, cnt[j].opens, b);
            st = MT_CHECK_FAIL;
        } else if ((int)cnt[j].opens != pt->nchildren && st == MT_CHECK_PASS) {
            snprintf(why, sizeof why, "boundary \"%.80s\" (part %s): %zu delimiter lines for %d parts", b,
                     pt->path, cnt[j].opens, pt->nchildren);
            st = MT_CHECK_WARN;
        }
    }
    /* a boundary that begins another one: a parser that matches prefixes,
     * as RFC 2046 allows, splits there.  Sorted, a prefix sits right
     * before a string it begins. */
    if (st != MT_CHECK_FAIL && nb > 1) {
        const char **sorted = mt_xcalloc(nb, sizeof *sorted);
        memcpy(sorted, names, nb * sizeof *sorted);
        qsort(sorted, nb, sizeof *sorted, cmp_bstr);
        for (size_t j = 0; j + 1 < nb; j++) {
            size_t l = strlen(sorted[j]);
            if (strncmp(sorted[j + 1], sorted[j], l) == 0) {
                snprintf(why, sizeof why, "boundary collision: \"%.60s\" begins with \"%.60s\"",
                         sorted[j + 1], sorted[j]);
                st = MT_CHECK_FAIL;
                break;
            }
        }
        free(sorted);
    }
    mt_strmap_free(map);
    free(cnt);
    free(names);
    if (nmulti == 0)
        mt_checklist_add(out, FAM, "structure-boundaries", MT_CHECK_NA, "no multipart in the message");
    else if (st == MT_CHECK_PASS)
        mt_checklist_add(out, FAM, "structure-boundaries", MT_CHECK_PASS,
                         "%zu multipart(s): every boundary declared, used and closed, no collisions", nmulti);
    else
        mt_checklist_add(out, FAM, "structure-boundaries", st, "%s", why);
}

static int subtree_has(const mt_message *m, size_t root, const char *ctype)
{
    for (size_t j = root + 1; j < mt_message_nparts(m); j++) {
        const mt_part *q = mt_message_part(m, j);
        /* is j inside root? walk its parents */
        int in = 0;
        for (int p = q->parent; p >= 0; p = mt_message_part(m, (size_t)p)->parent)
            if ((size_t)p == root) {
                in = 1;
                break;
            }
        if (!in)
            return 0; /* depth-first order: the subtree ended */
        if (strcmp(q->ctype, ctype) == 0 && !q->is_attachment)
            return 1;
    }
    return 0;
}

static void check_alternative(const mt_message *m, mt_checklist *out)
{
    size_t np = mt_message_nparts(m), nalt = 0, html = 0;
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (strcmp(pt->ctype, "text/html") == 0 && !pt->is_attachment)
            html++;
    }
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (strcmp(pt->ctype, "multipart/alternative") != 0)
            continue;
        nalt++;
        int has_html = subtree_has(m, i, "text/html");
        int has_text = subtree_has(m, i, "text/plain");
        if (has_html && !has_text) {
            mt_checklist_add(out, FAM, "structure-alternative", MT_CHECK_FAIL,
                             "multipart/alternative (part %s) has HTML but no text/plain part", pt->path);
            return;
        }
        if (pt->nchildren < 2) {
            mt_checklist_add(out, FAM, "structure-alternative", MT_CHECK_WARN,
                             "multipart/alternative (part %s) has %d part(s): nothing to choose between",
                             pt->path, pt->nchildren);
            return;
        }
    }
    if (nalt)
        mt_checklist_add(out, FAM, "structure-alternative", MT_CHECK_PASS,
                         "%zu multipart/alternative, each with a text/plain beside its HTML", nalt);
    else if (html)
        mt_checklist_add(out, FAM, "structure-alternative", MT_CHECK_WARN,
                         "HTML without a text/plain alternative (send multipart/alternative)");
    else
        mt_checklist_add(out, FAM, "structure-alternative", MT_CHECK_NA, "no HTML part");
}

static int is_b64(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int hexd(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* base64 byte classes: 0 alphabet, 1 '=', 2 line feed, 3 ignored, 4 bad */
static unsigned char b64class(unsigned char c)
{
    if (is_b64(c))
        return 0;
    if (c == '=')
        return 1;
    if (c == '\n')
        return 2;
    if (c == '\r' || c == ' ' || c == '\t')
        return 3;
    return 4;
}

/* validate base64 content: returns NULL or what is wrong */
static const char *base64_problem(const char *p, size_t n, size_t *longest)
{
    unsigned char cls[256];
    for (int c = 0; c < 256; c++)
        cls[c] = b64class((unsigned char)c);
    size_t chars = 0, pad = 0;
    *longest = 0;
    const unsigned char *u = (const unsigned char *)p;
    for (size_t start = 0; start < n;) {
        const unsigned char *nl = memchr(u + start, '\n', n - start);
        size_t e = nl ? (size_t)(nl - u) : n;
        size_t l = e - start;
        if (l > 0 && u[e - 1] == '\r')
            l--;
        if (l > *longest)
            *longest = l;
        /* the common line: only alphabet bytes, tested without branches */
        unsigned char acc = 0;
        for (size_t i = start; i < start + l; i++)
            acc |= cls[u[i]];
        if (acc == 0 && pad == 0) {
            chars += l;
        } else {
            for (size_t i = start; i < start + l; i++) {
                switch (cls[u[i]]) {
                case 0:
                    if (pad)
                        return "data after '=' padding";
                    chars++;
                    break;
                case 1:
                    pad++;
                    chars++;
                    break;
                case 3:
                    break;
                default:
                    return "a character outside the base64 alphabet";
                }
            }
        }
        start = e + 1;
    }
    if (pad > 2)
        return "more than two '=' padding characters";
    if (chars % 4 != 0)
        return "the base64 length is not a multiple of 4 (truncated?)";
    return NULL;
}

static const char *qp_problem(const char *p, size_t n, size_t *longest)
{
    size_t line = 0;
    *longest = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') {
            if (line > *longest)
                *longest = line;
            line = 0;
            continue;
        }
        if (c == '\r')
            continue;
        line++;
        if (c >= 0x80)
            return "unencoded 8-bit bytes";
        if (c == '=') {
            size_t k = i + 1;
            while (k < n && (p[k] == ' ' || p[k] == '\t'))
                k++;
            if (k >= n || p[k] == '\n' || (p[k] == '\r' && (k + 1 >= n || p[k + 1] == '\n')))
                continue; /* soft line break */
            if (i + 2 >= n || !hexd((unsigned char)p[i + 1]) || !hexd((unsigned char)p[i + 2]))
                return "'=' not followed by two hex digits";
        }
    }
    if (line > *longest)
        *longest = line;
    return NULL;
}

static void check_encodings(const mt_message *m, mt_checklist *out)
{
    size_t len;
    const char *raw = mt_message_raw(m, &len);
    size_t np = mt_message_nparts(m), leaves = 0;
    char cte_why[512] = "", b64_why[512] = "", qp_why[512] = "";
    mt_check_status cte_st = MT_CHECK_PASS, b64_st = MT_CHECK_NA, qp_st = MT_CHECK_NA;
    size_t nb64 = 0, nqp = 0;
    for (size_t i = 0; i < np; i++) {
        const mt_part *pt = mt_message_part(m, i);
        if (pt->is_multipart || pt->is_message) {
            if (pt->cte[0] && strcmp(pt->cte, "7bit") != 0 && strcmp(pt->cte, "8bit") != 0 &&
                strcmp(pt->cte, "binary") != 0 && cte_st != MT_CHECK_FAIL) {
                snprintf(cte_why, sizeof cte_why,
                         "%s (part %s) declares Content-Transfer-Encoding %s (RFC 2046: only "
                         "7bit, 8bit or binary)",
                         pt->ctype, pt->path, pt->cte);
                cte_st = MT_CHECK_FAIL;
            }
            continue;
        }
        leaves++;
        const char *p = raw + pt->enc_off;
        size_t n = pt->enc_len;
        const char *cte = pt->cte[0] ? pt->cte : "7bit";
        if (!strcmp(cte, "7bit") || !strcmp(cte, "8bit") || !strcmp(cte, "binary")) {
            size_t hi = 0, nul = 0;
            for (size_t k = 0; k < n; k++) {
                hi += (unsigned char)p[k] >= 0x80;
                nul += p[k] == '\0';
            }
            if (hi && !strcmp(cte, "7bit") && cte_st != MT_CHECK_FAIL) {
                snprintf(cte_why, sizeof cte_why, "part %s (%s) is declared %s but has %zu 8-bit byte(s)",
                         pt->path, pt->ctype, pt->cte[0] ? "7bit" : "7bit by default", hi);
                cte_st = MT_CHECK_FAIL;
            } else if (nul && strcmp(cte, "binary") != 0 && cte_st != MT_CHECK_FAIL) {
                snprintf(cte_why, sizeof cte_why, "part %s (%s) has %zu NUL byte(s) in %s content", pt->path,
                         pt->ctype, nul, cte);
                cte_st = MT_CHECK_FAIL;
            } else if (!strcmp(cte, "binary") && cte_st == MT_CHECK_PASS) {
                snprintf(cte_why, sizeof cte_why,
                         "part %s is binary: needs BINARYMIME, most receivers do not offer it", pt->path);
                cte_st = MT_CHECK_WARN;
            }
        } else if (!strcmp(cte, "base64")) {
            nb64++;
            size_t longest;
            const char *bad = base64_problem(p, n, &longest);
            if (bad && b64_st != MT_CHECK_FAIL) {
                snprintf(b64_why, sizeof b64_why, "part %s (%s): %s", pt->path, pt->ctype, bad);
                b64_st = MT_CHECK_FAIL;
            } else if (longest > 76 && b64_st != MT_CHECK_FAIL && b64_st != MT_CHECK_WARN) {
                snprintf(b64_why, sizeof b64_why,
                         "part %s: base64 lines of %zu characters (RFC 2045: at most 76)", pt->path, longest);
                b64_st = MT_CHECK_WARN;
            }
        } else if (!strcmp(cte, "quoted-printable")) {
            nqp++;
            size_t longest;
            const char *bad = qp_problem(p, n, &longest);
            if (bad && qp_st != MT_CHECK_FAIL) {
                snprintf(qp_why, sizeof qp_why, "part %s (%s): %s", pt->path, pt->ctype, bad);
                qp_st = MT_CHECK_FAIL;
            } else if (longest > 76 && qp_st != MT_CHECK_FAIL && qp_st != MT_CHECK_WARN) {
                snprintf(qp_why, sizeof qp_why,
                         "part %s: quoted-printable lines of %zu characters (RFC 2045: at most 76)", pt->path,
                         longest);
                qp_st = MT_CHECK_WARN;
            }
        } else if (cte_st != MT_CHECK_FAIL) {
            snprintf(cte_why, sizeof cte_why,
                     "part %s declares an unknown Content-Transfer-Encoding \"%.40s\"", pt->path, pt->cte);
            cte_st = MT_CHECK_FAIL;
        }
    }
    if (leaves == 0)
        mt_checklist_add(out, FAM, "structure-transfer-encoding", MT_CHECK_NA, "no content parts");
    else if (cte_st == MT_CHECK_PASS)
        mt_checklist_add(out, FAM, "structure-transfer-encoding", MT_CHECK_PASS,
                         "%zu part(s): every declared transfer encoding matches its bytes", leaves);
    else
        mt_checklist_add(out, FAM, "structure-transfer-encoding", cte_st, "%s", cte_why);

    /* line length over the whole message, header included */
    size_t longest = 0, at = 0, over = 0;
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(raw + start, '\n', len - start);
        size_t e = nl ? (size_t)(nl - raw) : len;
        size_t l = e - start;
        if (nl && l > 0 && raw[e - 1] == '\r')
            l--;
        if (l > 998)
            over++;
        if (l > longest) {
            longest = l;
            at = start;
        }
        start = e + 1;
    }
    if (over) {
        int sep;
        const char *where = at < mt_message_body_offset(m, &sep) ? "the header" : "the body";
        char pbuf[80] = "";
        for (size_t i = 0; i < np; i++) {
            const mt_part *pt = mt_message_part(m, i);
            if (!pt->is_multipart && at >= pt->enc_off && at < pt->enc_off + pt->enc_len)
                snprintf(pbuf, sizeof pbuf, "part %s", pt->path);
        }
        mt_checklist_add(
            out, FAM, "structure-line-length", MT_CHECK_FAIL,
            "%zu line(s) over 998 octets (longest %zu, in %s): SMTP limit, receivers cut or refuse", over,
            longest, pbuf[0] ? pbuf : where);
    } else {
        mt_checklist_add(out, FAM, "structure-line-length", MT_CHECK_PASS,
                         "longest line %zu octets (limit 998)", longest);
    }
    if (nb64 == 0)
        mt_checklist_add(out, FAM, "structure-base64", MT_CHECK_NA, "no base64 part");
    else if (b64_st == MT_CHECK_NA)
        mt_checklist_add(out, FAM, "structure-base64", MT_CHECK_PASS, "%zu base64 part(s), all well formed",
                         nb64);
    else
        mt_checklist_add(out, FAM, "structure-base64", b64_st, "%s", b64_why);
    if (nqp == 0)
        mt_checklist_add(out, FAM, "structure-quoted-printable", MT_CHECK_NA, "no quoted-printable part");
    else if (qp_st == MT_CHECK_NA)
        mt_checklist_add(out, FAM, "structure-quoted-printable", MT_CHECK_PASS,
                         "%zu quoted-printable part(s), all well formed", nqp);
    else
        mt_checklist_add(out, FAM, "structure-quoted-printable", qp_st, "%s", qp_why);
}

void mt_msgcheck_structure(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    (void)o;
    check_rfc5322(m, out);
    check_line_endings(m, out);
    check_tree(m, out);
    check_boundaries(m, out);
    check_alternative(m, out);
    check_encodings(m, out);
}
