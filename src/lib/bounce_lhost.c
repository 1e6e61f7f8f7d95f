/*
 * bounce_lhost.c - recipients and diagnostics from bounce notices in prose.
 *
 * MTAs that send no machine-readable delivery-status part still lay their
 * notices out alike: a line naming the failed address ("<a@b>:", "  a@b",
 * "<a@b>... User unknown", "Final-Recipient: rfc822; a@b") followed by what
 * the remote server or the MTA said, up to the next such line; then a
 * marker line and a copy of the returned message.  We read that layout
 * rather than one template per MTA; bounce.c falls back on the headers
 * (X-Failed-Recipients, the returned message's To) when no line names one.
 */
#include "bounce_lhost.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_reason.h"

#define DIAG_MAX 8192

mt_bounce_rcpt *mt_bounce_rcpts_add(mt_bounce_rcpts *l)
{
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 8;
        l->v = mt_xrealloc(l->v, (size_t)nc * sizeof *l->v);
        for (int i = l->cap; i < nc; i++) {
            mt_buf_init(&l->v[i].diag);
            mt_buf_init(&l->v[i].note);
        }
        l->cap = nc;
    }
    mt_bounce_rcpt *r = &l->v[l->n++];
    mt_buf d = r->diag, nt = r->note;
    memset(r, 0, sizeof *r);
    r->diag = d;
    r->note = nt;
    mt_buf_reset(&r->diag);
    mt_buf_reset(&r->note);
    return r;
}

void mt_bounce_rcpts_reset(mt_bounce_rcpts *l)
{
    l->n = 0;
}

void mt_bounce_rcpts_free(mt_bounce_rcpts *l)
{
    for (int i = 0; i < l->cap; i++) {
        mt_buf_free(&l->v[i].diag);
        mt_buf_free(&l->v[i].note);
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int local_char(unsigned char c)
{
    return isalnum(c) || c >= 0x80 || strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int domain_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-' || c == '_';
}

int mt_bounce_find_addr(const char *s, size_t n, size_t *off, size_t *len)
{
    for (size_t i = 1; i + 1 < n; i++) {
        const char *at = memchr(s + i, '@', n - 1 - i); /* the next '@' before the last byte */
        if (at == NULL)
            break;
        i = (size_t)(at - s);
        size_t a = i;
        while (a > 0 && local_char((unsigned char)s[a - 1]) && (unsigned char)s[a - 1] < 0x80)
            a--;
        while (a < i && s[a] == '.')
            a++;
        size_t b = i + 1;
        while (b < n && domain_char((unsigned char)s[b]))
            b++;
        while (b > i + 1 && (s[b - 1] == '.' || s[b - 1] == '-'))
            b--;
        if (a == i || b == i + 1)
            continue;
        if (memchr(s + i + 1, '.', b - i - 1) == NULL)
            continue;
        if (b - a >= 255)
            continue;
        *off = a;
        *len = b - a;
        return 1;
    }
    return 0;
}

/* marker lines that start the copy of the returned message */
static const char *const cut_markers[] = {
    "------ this is a copy of the message",
    "--- below this line is a copy of the message",
    "----- original message -----",
    "------ original message ------",
    "-----original message-----",
    "original message follows",
    "------ the header of the original message",
    "--- the header of the original message",
    "----- the following is a copy",
    "------ the following is a copy",
    "----- unsent message follows -----",
    "----- original message headers -----",
    "------ original message headers ------",
    "--------original message headers--------",
    "original message headers:",
    "the original message headers",
    "------ the message that was not delivered",
    "---- the header of the message",
    "----- message header follows",
    "--- message header follows",
    "included is a copy of the message header",
    "received-headers of the original message",
    "------ failed message header",
    "------ message headers",
    "content-type: message/rfc822",
    "content-type: text/rfc822-headers",
    "--- original message ---",
    "original message:",
    "-------- original message --------",
    "------------------- message header ----",
    "---------- original message ----------",
    "the original message was received at",
    "message headers follow",
    "------- returned message --------",
    "----- original message -----",
    "---------- forwarded message ----------",
    NULL,
};

static int line_starts_ci(const char *p, const char *end, const char *w)
{
    size_t wl = strlen(w);
    return (size_t)(end - p) >= wl && strncasecmp(p, w, wl) == 0;
}

size_t mt_bounce_lhost_cut(const char *t, size_t n)
{
    const char *end = t + n;
    for (const char *p = t; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t'))
            q++;
        if (p > t + 1 && p[-1] == '\n' && p[-2] == '\n' &&
            (line_starts_ci(p, le, "received:") || line_starts_ci(p, le, "return-path:")))
            return (size_t)(p - t); /* the returned header, unannounced */
        int c0 = q < le ? tolower((unsigned char)*q) : 0;
        if (c0 != '-' && c0 != 'o' && c0 != 't' && c0 != 'c' && c0 != 'i' && c0 != 'r' && c0 != 'm')
            goto next;
        for (int i = 0; cut_markers[i]; i++) {
            if (cut_markers[i][0] != c0)
                continue;
            /* "the original message was received at" is Sendmail's first
             * line, not a marker: the rest of the notice follows it */
            if (strcmp(cut_markers[i], "the original message was received at") == 0)
                continue;
            if (line_starts_ci(q, le, cut_markers[i]))
                return (size_t)(p - t);
        }
    next:
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

static int is_ignored_addr(const char *a, size_t n, const char *self)
{
    if (self && strlen(self) == n && strncasecmp(a, self, n) == 0)
        return 1;
    if (n > 14 && strncasecmp(a, "mailer-daemon@", 14) == 0)
        return 1;
    if (n > 11 && strncasecmp(a, "postmaster@", 11) == 0)
        return 1;
    return 0;
}

/* A line that names a failed recipient: the address it names in *ao and *al
 * (offsets in the line) and where the rest of the line begins (*rest). */
static int rcpt_line(const char *p, size_t n, size_t *ao, size_t *al, size_t *rest)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '*' || p[i] == '-' || p[i] == '>'))
        i++;
    /* Sendmail's "554 <a@b>... 550 Host unknown" */
    if (i + 5 < n && isdigit((unsigned char)p[i]) && isdigit((unsigned char)p[i + 1]) &&
        isdigit((unsigned char)p[i + 2]) && p[i + 3] == ' ' && p[i + 4] == '<')
        i += 4;
    if (i >= n)
        return 0;
    static const char *const labels[] = {"final-recipient:",
                                         "original-recipient:",
                                         "failed recipient:",
                                         "failed recipients:",
                                         "recipient address:",
                                         "recipient:",
                                         "unknown recipient:",
                                         "invalid recipient:",
                                         "to:",
                                         NULL};
    int c0 = p[i] | 0x20; /* each label starts with a lower-case letter */
    for (int k = 0; labels[k]; k++) {
        if (labels[k][0] != c0)
            continue;
        size_t l = strlen(labels[k]);
        if (n - i > l && strncasecmp(p + i, labels[k], l) == 0) {
            if (strcmp(labels[k], "to:") == 0)
                return 0; /* a header line of a copied message */
            size_t o, len;
            if (!mt_bounce_find_addr(p + i + l, n - i - l, &o, &len))
                return 0;
            *ao = i + l + o;
            *al = len;
            *rest = n;
            return 1;
        }
    }
    size_t o, len;
    if (p[i] == '<' || p[i] == '"' || p[i] == '\'') {
        if (!mt_bounce_find_addr(p + i + 1, n - i - 1, &o, &len) || o != 0)
            return 0;
        size_t j = i + 1 + len;
        if (j < n && (p[j] == '>' || p[j] == '"' || p[j] == '\''))
            j++;
        else
            return 0;
        *ao = i + 1;
        *al = len;
        *rest = j;
        return 1;
    }
    if (!mt_bounce_find_addr(p + i, n - i, &o, &len) || o != 0)
        return 0;
    size_t j = i + len;
    while (j < n && (p[j] == ' ' || p[j] == '\t'))
        j++;
    if (j == n || p[j] == ':' || p[j] == '(' || p[j] == '<' || p[j] == '[' ||
        (j + 1 < n && p[j] == '.' && p[j + 1] == '.')) {
        *ao = i;
        *al = len;
        *rest = j;
        return 1;
    }
    /* "a@b Invalid Address, ..." (a line that begins with the address) */
    if (j > i + len && n - j > 2 && isalpha((unsigned char)p[j]) &&
        !(n - j > 3 && strncmp(p + j, "on ", 3) == 0)) {
        *ao = i;
        *al = len;
        *rest = j;
        return 1;
    }
    /* "a@b on Thu, 29 Apr 2010 ..." (Exchange) */
    if (n - j > 4 && strncmp(p + j, "on ", 3) == 0 &&
        (isdigit((unsigned char)p[j + 3]) || isupper((unsigned char)p[j + 3]))) {
        *ao = i;
        *al = len;
        *rest = n;
        return 1;
    }
    /* "a@b 様" (a greeting) is not */
    return 0;
}

/* does the line p[0..n) open a Sendmail session transcript? */
static int session_start(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '.'))
        i++;
    return n - i >= 16 && strncasecmp(p + i, "while talking to", 16) == 0;
}

/* does t[0..n) carry an SMTP reply code or an enhanced status? */
static int says_code(const char *t, size_t n, char st[16])
{
    return n && (mt_bounce_find_status(t, n, st) >= 0 || mt_bounce_find_code(t, n, 0) != 0);
}

int mt_bounce_lhost_scan(const char *t, size_t n, const char *self, mt_bounce_rcpts *out)
{
    const char *end = t + n;
    int added = 0;
    mt_bounce_rcpt *cur = NULL;
    int first = out->n;
    /* for each new recipient: where the text before its line begins (after
     * the previous recipient's line) and where its line begins */
    size_t *pre = NULL, npre = 0;
    const char *after_prev = t;
    for (const char *p = t; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ln = (size_t)(le - p), ao, al, rest;
        if (rcpt_line(p, ln, &ao, &al, &rest) && !is_ignored_addr(p + ao, al, self)) {
            cur = NULL;
            for (int i = first; i < out->n; i++)
                if (strlen(out->v[i].addr) == al && strncasecmp(out->v[i].addr, p + ao, al) == 0)
                    cur = &out->v[i];
            if (cur == NULL) {
                cur = mt_bounce_rcpts_add(out);
                memcpy(cur->addr, p + ao, al);
                cur->addr[al] = '\0';
                added++;
                pre = mt_xrealloc(pre, (npre + 1) * 2 * sizeof *pre);
                pre[2 * npre] = (size_t)(after_prev - t);
                pre[2 * npre + 1] = (size_t)(p - t);
                npre++;
            } else if (cur->diag.len)
                mt_buf_putc(&cur->diag, '\n');
            size_t r = rest;
            while (r < ln && (p[r] == ':' || p[r] == ' ' || p[r] == '\t'))
                r++;
            /* "550 <a@b>: ..." keeps its reply code */
            size_t c = 0;
            while (c < ao && (p[c] == ' ' || p[c] == '\t'))
                c++;
            int inner = r + 7 <= ln && memcmp(p + r, "... ", 4) == 0 && isdigit((unsigned char)p[r + 4]) &&
                        isdigit((unsigned char)p[r + 5]) && isdigit((unsigned char)p[r + 6]);
            if (!inner && c + 4 <= ao && isdigit((unsigned char)p[c]) && isdigit((unsigned char)p[c + 1]) &&
                isdigit((unsigned char)p[c + 2]) && p[c + 3] == ' ')
                mt_buf_append(&cur->diag, p + c, 4);
            if (r < ln)
                mt_buf_append(&cur->diag, p + r, ln - r);
            after_prev = nl ? nl + 1 : end;
        } else if (cur && session_start(p, ln)) {
            /* Sendmail's "While talking to host:": another session's
             * transcript, not said of the recipient before it */
            cur = NULL;
        } else if (cur && cur->diag.len < DIAG_MAX) {
            if (cur->diag.len)
                mt_buf_putc(&cur->diag, '\n');
            mt_buf_append(&cur->diag, p, ln);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    /* a recipient nothing is said after (Lotus Notes puts the reason
     * first), or only words with no reply code or status while the text
     * before its line has one (MailMarshal: "Could not be delivered
     * because of 550 5.1.1 User unknown. The following recipients were
     * affected: ..."): the text before its line */
    for (size_t k = 0; k < npre; k++) {
        mt_bounce_rcpt *r = &out->v[first + (int)k];
        int blank = 1;
        for (size_t i = 0; i < r->diag.len && blank; i++)
            blank = r->diag.data[i] == ' ' || r->diag.data[i] == '\n' || r->diag.data[i] == '\t';
        const char *b = t + pre[2 * k];
        size_t bn = pre[2 * k + 1] - pre[2 * k];
        char st[16];
        if (!blank && bn && !says_code(r->diag.data, r->diag.len, st) && says_code(b, bn, st))
            blank = 1;
        if (blank && pre[2 * k + 1] > pre[2 * k]) {
            mt_buf_reset(&r->diag);
            mt_buf_append(&r->diag, t + pre[2 * k], pre[2 * k + 1] - pre[2 * k]);
        }
    }
    free(pre);
    return added;
}

static const char *memmem_ci(const char *h, size_t hn, const char *n)
{
    size_t nn = strlen(n);
    if (nn == 0 || hn < nn)
        return NULL;
    /* n is lower case: compare ASCII letters folded, inline */
    unsigned char n0 = (unsigned char)n[0];
    for (size_t i = 0; i + nn <= hn; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c != n0 && !(c >= 'A' && c <= 'Z' && c + 32 == n0))
            continue;
        size_t j = 1;
        for (; j < nn; j++) {
            unsigned char a = (unsigned char)h[i + j];
            if (a >= 'A' && a <= 'Z')
                a += 32;
            if (a != (unsigned char)n[j])
                break;
        }
        if (j == nn)
            return h + i;
    }
    return NULL;
}

static const char *cmd_word(const char *p, size_t n)
{
    static const struct {
        const char *w;
        const char *cmd;
    } words[] = {
        {"end of data", "DATA"}, {"data", "DATA"},     {"rcpt", "RCPT"},    {"mail from", "MAIL"},
        {"mail", "MAIL"},        {"ehlo", "EHLO"},     {"helo", "HELO"},    {"starttls", "STARTTLS"},
        {"connect", "CONN"},     {"greeting", "CONN"}, {"initial", "CONN"},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t l = strlen(words[i].w);
        if (n >= l && strncasecmp(p, words[i].w, l) == 0 && (n == l || !isalpha((unsigned char)p[l])))
            return words[i].cmd;
    }
    return NULL;
}

const char *mt_bounce_lhost_command(const char *d, size_t n)
{
#define LEAD(s)                                                                                              \
    {                                                                                                        \
        s, sizeof(s) - 1                                                                                     \
    }
    static const struct {
        const char *s;
        size_t len;
    } lead[] = {LEAD("in reply to "),   LEAD("after "),        LEAD("most progress was "),
                LEAD("while sending "), LEAD("smtp command "), LEAD("did not like our "),
                LEAD("smtp:"),          LEAD("during "),       LEAD("for ")};
#undef LEAD
    enum { NLEAD = sizeof lead / sizeof lead[0] };
    /* one pass: the leads are tried in their order (the first lead that
     * names a command wins, wherever it is), so a position need only be
     * checked for leads before the best found so far */
    const char *cmd = NULL;
    int best = NLEAD;
    unsigned short first[256] = {0}; /* leads (bits) that start with a byte */
    for (int k = 0; k < NLEAD; k++) {
        unsigned char c = (unsigned char)lead[k].s[0];
        first[c] |= (unsigned short)(1u << k);
        if (c >= 'a' && c <= 'z')
            first[c - 32] |= (unsigned short)(1u << k);
    }
    for (size_t i = 0; i < n && best > 0; i++) {
        unsigned m = first[(unsigned char)d[i]];
        if (m == 0)
            continue;
        for (unsigned mm = m & ((1u << best) - 1); mm; mm &= mm - 1) { /* the leads in order */
            int k = __builtin_ctz(mm);
            size_t ll = lead[k].len;
            if (n - i < ll || ((unsigned char)d[i + 1] | 0x20) != (unsigned char)lead[k].s[1] ||
                memmem_ci(d + i, ll, lead[k].s) == NULL)
                continue;
            size_t off = i + ll;
            while (off < n && (d[off] == ' ' || d[off] == '"'))
                off++;
            const char *w = cmd_word(d + off, n - off);
            if (w && (k < 7 || memmem_ci(d + off, n - off > 40 ? 40 : n - off, "response"))) {
                cmd = w;
                best = k;
                break;
            }
        }
    }
    if (cmd)
        return cmd;
    /* Then, in this order: qmail's "does not like recipient" or Yahoo's
     * "[RCPT_TO]" anywhere; "[MAIL_FROM]"; a transcript's last command
     * (">>> RCPT TO:…"); "rcpt to"; "mail from".  One pass finds them all,
     * looking closer only at the bytes they start with. */
    int rcpt_said = 0, mail_said = 0, rcpt_to = 0, mail_from = 0;
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i] | 0x20; /* letters folded; '[' and '>' kept apart */
        const char *h = d + i;
        size_t left = n - i;
        if (c == 'd') {
            if (!rcpt_said && left >= 23 && memmem_ci(h, 23, "does not like recipient"))
                rcpt_said = 1;
        } else if (c == '{' && *h == '[') { /* '[' | 0x20 */
            if (!rcpt_said && left >= 9 && memmem_ci(h, 9, "[rcpt_to]"))
                rcpt_said = 1;
            else if (!mail_said && left >= 11 && memmem_ci(h, 11, "[mail_from]"))
                mail_said = 1;
        } else if (c == '>' && *h == '>') {
            if (left >= 4 && memcmp(h, ">>> ", 4) == 0) {
                const char *w = cmd_word(h + 4, left - 4);
                if (w)
                    last = w;
                i += 3;
            }
        } else if (c == 'r') {
            if (!rcpt_to && left >= 7 && memmem_ci(h, 7, "rcpt to"))
                rcpt_to = 1;
        } else if (c == 'm') {
            if (!mail_from && left >= 9 && memmem_ci(h, 9, "mail from"))
                mail_from = 1;
        }
        if (rcpt_said)
            break; /* the first answer: nothing after it counts */
    }
    if (rcpt_said)
        return "RCPT";
    if (mail_said)
        return "MAIL";
    if (last)
        return last;
    if (rcpt_to)
        return "RCPT";
    if (mail_from)
        return "MAIL";
    return "";
}
