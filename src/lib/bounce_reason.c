/*
 * bounce_reason.c - status and reply code in free text; the bounce reason.
 *
 * The decision follows the order Sisimai documents for its reasons (so
 * that our answers speak its vocabulary the same way): a reason the bounce
 * format states wins unless it is one of the vague ones; then the reasons
 * that a status or a phrase proves, most specific first; then a second
 * list tried on the phrases only; then the status's class; then the
 * action and command.  The phrases are data (bounce-reasons.tsv).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "bounce_reason.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"
#include "rules.h"

static const char *const reason_names[] = {
    "authfailure",    "badreputation", "blocked",       "contenterror", "exceedlimit",     "expired",
    "failedstarttls", "filtered",      "hasmoved",      "hostunknown",  "mailboxfull",     "mailererror",
    "mesgtoobig",     "networkerror",  "norelaying",    "notaccept",    "notcompliantrfc", "policyviolation",
    "rejected",       "requireptr",    "securityerror", "spamdetected", "speeding",        "suppressed",
    "suspend",        "syntaxerror",   "systemerror",   "systemfull",   "toomanyconn",     "userunknown",
    "vacation",       "virusdetected", "onhold",        "undefined",    "delivered",       "feedback",
};
#define NREASONS ((int)(sizeof reason_names / sizeof reason_names[0]))

#define NDECISIVE 64
#define NSCOPES   48
#define NSCOPED   160

/* "@lhost"/"@rhost" lines: who wrote the bounce (its own header) or who
 * answered (the remote host's name) */
typedef struct scope {
    char name[32];
    int rhost; /* 0: matched on the bounce's header; 1: on the remote host */
    mt_pattern *re;
} scope;

/* "NAME:REASON" lines: what that sender or host means by its words */
typedef struct scoped_rule {
    int scope; /* index into scopes */
    int reason;
    mt_pattern *re;     /* on the diagnostic; NULL: any */
    mt_pattern *status; /* on the status; NULL: any */
    char command[40];   /* the SMTP commands it holds for; "": any */
} scoped_rule;

struct mt_bounce_reasons {
    /* every pattern is screened by its literals and JIT compiled when
     * first run (pattern.h) */
    mt_pattern *re[NREASONS];
    /* "=reason" lines: a provider's own codes, tried first, in file order */
    mt_pattern *dre[NDECISIVE];
    int dreason[NDECISIVE];
    int ndecisive;
    scope scopes[NSCOPES];
    int nscopes;
    /* every @lhost pattern in one alternation, each branch marked with its
     * scope's index: one pass over a header says whether any matches and
     * which does at the leftmost place (see mt_bounce_reasons_scope) */
    mt_pattern *lhost_any;
    scoped_rule scoped[NSCOPED];
    int nscoped;
    pcre2_match_data *md;  /* the owner thread's match state */
    mt_pattern_text *text; /* and its summary of the diagnostic being matched */
    int shared;            /* a share: the patterns are another set's */
};

static int reason_index(const char *name, size_t n)
{
    for (int i = 0; i < NREASONS; i++)
        if (n && reason_names[i][0] == name[0] && strlen(reason_names[i]) == n &&
            memcmp(reason_names[i], name, n) == 0)
            return i;
    return -1;
}

static mt_pattern *compile_one(const char *pat, size_t n, uint32_t opts, unsigned flags, const char *path,
                               int lineno, mt_buf *err)
{
    int ec = 0;
    size_t off = 0;
    mt_pattern *re = mt_pattern_compile(pat, n, opts, flags, &ec, &off);
    if (re == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        mt_buf_printf(err, "%s:%d: %s at offset %zu", path, lineno, (char *)msg, off);
    }
    return re;
}

/* "@lhost NAME REGEX" or "@rhost NAME REGEX" (tab-separated): 0 on error */
static int load_scope(mt_bounce_reasons *r, char *line, const char *path, int lineno, mt_buf *err,
                      mt_buf *any)
{
    char *t1 = strchr(line, '\t');
    char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    int rhost = strncmp(line, "@rhost\t", 7) == 0;
    if (t2 == NULL || (!rhost && strncmp(line, "@lhost\t", 7) != 0) || t2 - t1 - 1 <= 0 ||
        t2 - t1 - 1 >= (long)sizeof r->scopes[0].name || t2[1] == '\0' || r->nscopes >= NSCOPES) {
        mt_buf_printf(err, "%s:%d: expected @lhost|@rhost<TAB>NAME<TAB>REGEX (at most %d)", path, lineno,
                      NSCOPES);
        return 0;
    }
    scope *s = &r->scopes[r->nscopes];
    memcpy(s->name, t1 + 1, (size_t)(t2 - t1 - 1));
    s->name[t2 - t1 - 1] = '\0';
    s->rhost = rhost;
    s->re = compile_one(t2 + 1, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, MT_PATTERN_YESNO, path, lineno, err);
    if (s->re == NULL)
        return 0;
    if (!rhost)
        mt_buf_printf(any, "%s(?:(*MARK:%d)(?:%s))", any->len ? "|" : "", r->nscopes, t2 + 1);
    r->nscopes++;
    return 1;
}

/* "NAME:REASON REGEX [status=REGEX] [command=LIST]" (tab-separated): 0 on
 * error */
static int load_scoped(mt_bounce_reasons *r, char *line, char *colon, const char *path, int lineno,
                       mt_buf *err)
{
    char *tab = strchr(colon, '\t');
    int sc = -1;
    for (int i = 0; i < r->nscopes && sc < 0; i++)
        if (strlen(r->scopes[i].name) == (size_t)(colon - line) &&
            memcmp(r->scopes[i].name, line, (size_t)(colon - line)) == 0)
            sc = i;
    int idx = tab ? reason_index(colon + 1, (size_t)(tab - colon - 1)) : -1;
    if (sc < 0 || idx < 0 || r->nscoped >= NSCOPED) {
        mt_buf_printf(err,
                      "%s:%d: expected NAME:REASON<TAB>REGEX with a NAME of an @lhost/@rhost line above "
                      "and a known reason (at most %d)",
                      path, lineno, NSCOPED);
        return 0;
    }
    scoped_rule *q = &r->scoped[r->nscoped];
    memset(q, 0, sizeof *q);
    q->scope = sc;
    q->reason = idx;
    char *f = tab + 1;
    size_t had = err->len;
    for (int k = 0; f; k++) {
        char *next = strchr(f, '\t');
        size_t fl = next ? (size_t)(next - f) : strlen(f);
        if (k == 0) {
            if (fl && !(fl == 1 && f[0] == '*') &&
                (q->re = compile_one(f, fl, 0, MT_PATTERN_YESNO, path, lineno, err)) == NULL)
                return 0;
        } else if (fl > 7 && strncmp(f, "status=", 7) == 0) {
            if ((q->status = compile_one(f + 7, fl - 7, 0, MT_PATTERN_YESNO, path, lineno, err)) == NULL)
                break;
        } else if (fl > 8 && strncmp(f, "command=", 8) == 0 && fl - 8 < sizeof q->command) {
            memcpy(q->command, f + 8, fl - 8);
            q->command[fl - 8] = '\0';
        } else {
            mt_buf_printf(err, "%s:%d: expected status=REGEX or command=LIST", path, lineno);
            break;
        }
        f = next ? next + 1 : NULL;
    }
    if (err->len != had) {
        /* a field was wrong: what was compiled before it goes */
        mt_pattern_free(q->re);
        mt_pattern_free(q->status);
        return 0;
    }
    r->nscoped++;
    return 1;
}

mt_bounce_reasons *mt_bounce_reasons_load(const char *path, mt_buf *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        mt_buf_printf(err, "%s: cannot open the bounce reason phrases", path);
        return NULL;
    }
    mt_buf alt[NREASONS];
    for (int i = 0; i < NREASONS; i++)
        mt_buf_init(&alt[i]);
    mt_bounce_reasons *r = mt_xcalloc(1, sizeof *r);
    mt_buf any;
    mt_buf_init(&any);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, bad = 0;
    while (!bad && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (line[0] == '@') {
            if (!load_scope(r, line, path, lineno, err, &any))
                bad = 1;
            continue;
        }
        char *tab = strchr(line, '\t');
        char *colon = tab ? memchr(line, ':', (size_t)(tab - line)) : NULL;
        if (colon) {
            if (!load_scoped(r, line, colon, path, lineno, err))
                bad = 1;
            continue;
        }
        int decisive = line[0] == '=';
        const char *name = line + decisive;
        int idx = tab ? reason_index(name, (size_t)(tab - name)) : -1;
        if (idx < 0 || tab[1] == '\0') {
            mt_buf_printf(err, "%s:%d: expected REASON<TAB>REGEX with a known reason", path, lineno);
            bad = 1;
            break;
        }
        if (decisive) {
            int ec = 0;
            size_t off;
            mt_pattern *re = r->ndecisive < NDECISIVE ? mt_pattern_compile(tab + 1, PCRE2_ZERO_TERMINATED, 0,
                                                                           MT_PATTERN_YESNO, &ec, &off)
                                                      : NULL;
            if (re == NULL) {
                PCRE2_UCHAR msg[256] = "";
                if (r->ndecisive < NDECISIVE)
                    pcre2_get_error_message(ec, msg, sizeof msg);
                mt_buf_printf(err, "%s:%d: %s", path, lineno,
                              r->ndecisive < NDECISIVE ? (char *)msg : "too many '=' lines");
                bad = 1;
                break;
            }
            r->dre[r->ndecisive] = re;
            r->dreason[r->ndecisive++] = idx;
            continue;
        }
        if (alt[idx].len)
            mt_buf_putc(&alt[idx], '|');
        mt_buf_printf(&alt[idx], "(?:%s)", tab + 1);
    }
    free(line);
    fclose(fp);
    for (int i = 0; !bad && i < NREASONS; i++) {
        if (alt[i].len == 0)
            continue;
        int ec = 0;
        size_t off = 0;
        /* the texts are lower case (mt_bounce_fold): a pattern with no
         * upper-case letter needs no caseless matching, which is slower */
        int upper = 0;
        for (size_t k = 0; k < alt[i].len && !upper; k++)
            upper = alt[i].data[k] >= 'A' && alt[i].data[k] <= 'Z';
        r->re[i] = mt_pattern_compile(alt[i].data, alt[i].len, upper ? PCRE2_CASELESS : 0, MT_PATTERN_YESNO,
                                      &ec, &off);
        if (r->re[i] == NULL) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            mt_buf_printf(err, "%s: phrases of %s: %s at offset %zu", path, reason_names[i], (char *)msg,
                          off);
            bad = 1;
            break;
        }
    }
    for (int i = 0; i < NREASONS; i++)
        mt_buf_free(&alt[i]);
    if (!bad && any.len) {
        r->lhost_any = compile_one(any.data, any.len, PCRE2_CASELESS, 0, path, 0, err);
        bad = r->lhost_any == NULL;
    }
    mt_buf_free(&any);
    if (bad) {
        mt_bounce_reasons_free(r);
        return NULL;
    }
    r->md = pcre2_match_data_create(4, NULL);
    r->text = mt_pattern_text_new();
    return r;
}

mt_bounce_reasons *mt_bounce_reasons_share(const mt_bounce_reasons *base)
{
    mt_bounce_reasons *r = mt_xmalloc(sizeof *r);
    memcpy(r, base, sizeof *r);
    r->md = pcre2_match_data_create(4, NULL);
    r->text = mt_pattern_text_new();
    r->shared = 1;
    return r;
}

void mt_bounce_reasons_free(mt_bounce_reasons *r)
{
    if (r == NULL)
        return;
    if (r->shared) {
        pcre2_match_data_free(r->md);
        mt_pattern_text_free(r->text);
        free(r);
        return;
    }
    for (int i = 0; i < NREASONS; i++)
        mt_pattern_free(r->re[i]);
    for (int i = 0; i < r->ndecisive; i++)
        mt_pattern_free(r->dre[i]);
    for (int i = 0; i < r->nscopes; i++)
        mt_pattern_free(r->scopes[i].re);
    mt_pattern_free(r->lhost_any);
    for (int i = 0; i < r->nscoped; i++) {
        mt_pattern_free(r->scoped[i].re);
        mt_pattern_free(r->scoped[i].status);
    }
    pcre2_match_data_free(r->md);
    mt_pattern_text_free(r->text);
    free(r);
}

int mt_bounce_reasons_default_path(const char *argv0, char *out, size_t outlen)
{
    char rules[4096];
    if (!mt_rules_default_path(argv0, rules, sizeof rules))
        return 0;
    char *slash = strrchr(rules, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, outlen, "%s/bounce-reasons.tsv", slash ? rules : ".");
    return access(out, R_OK) == 0;
}

int mt_bounce_reasons_match(const mt_bounce_reasons *r, const char *reason, const char *text, size_t n)
{
    if (r == NULL || text == NULL || n == 0)
        return 0;
    int i = reason_index(reason, strlen(reason));
    if (i < 0 || r->re[i] == NULL)
        return 0;
    return mt_pattern_match(r->re[i], mt_pattern_text_of(r->text, text, n), text, n, 0, r->md) >= 0;
}

int mt_bounce_reasons_scope(const mt_bounce_reasons *r, int rhost, const char *text, size_t n)
{
    if (r == NULL || text == NULL || n == 0)
        return 0;
    if (!rhost && r->lhost_any) {
        /* At each place, the alternation's first branch that matches there
         * wins; so the least branch that wins anywhere is the first @lhost
         * line that matches at all.  The alternation is run again from
         * just after each match (one pass over the header in all) until no
         * more match, or the first line of the file does. */
        int best = r->nscopes;
        PCRE2_SIZE start = 0;
        while (start < n && mt_pattern_match(r->lhost_any, NULL, text, n, start, r->md) >= 0) {
            PCRE2_SPTR mark = pcre2_get_mark(r->md);
            int m = mark ? (int)strtol((const char *)mark, NULL, 10) : -1;
            if (m < 0 || m >= r->nscopes || r->scopes[m].rhost) {
                best = -1; /* not one of its marks (cannot happen): each line is tried */
                break;
            }
            if (m < best)
                best = m;
            if (best == 0)
                break;
            start = pcre2_get_ovector_pointer(r->md)[0] + 1;
        }
        if (best >= 0)
            return best < r->nscopes ? best + 1 : 0;
    }
    for (int i = 0; i < r->nscopes; i++)
        if (r->scopes[i].rhost == rhost && mt_pattern_match(r->scopes[i].re, NULL, text, n, 0, r->md) >= 0)
            return i + 1;
    return 0;
}

/* ---- status and reply code in text ---- */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

long mt_bounce_find_status(const char *t, size_t n, char out[16])
{
    out[0] = '\0';
    for (size_t i = 0; i + 5 <= n; i++) {
        /* a status starts one before a '.': from dot to dot (memchr) */
        const char *dot = memchr(t + i + 1, '.', n - 4 - i);
        if (dot == NULL)
            break;
        i = (size_t)(dot - t) - 1;
        char c = t[i];
        if (c != '2' && c != '4' && c != '5')
            continue;
        if (i > 0 &&
            (is_digit((unsigned char)t[i - 1]) || t[i - 1] == '.' || isalpha((unsigned char)t[i - 1])))
            continue;
        size_t j = i + 2, d1 = 0, d2 = 0;
        while (j < n && is_digit((unsigned char)t[j]) && d1 < 4)
            j++, d1++;
        if (d1 == 0 || d1 > 3 || j >= n || t[j] != '.')
            continue;
        j++;
        while (j < n && is_digit((unsigned char)t[j]) && d2 < 4)
            j++, d2++;
        if (d2 == 0 || d2 > 3)
            continue;
        if (j < n && (is_digit((unsigned char)t[j]) || isalpha((unsigned char)t[j]) ||
                      (t[j] == '.' && j + 1 < n && is_digit((unsigned char)t[j + 1]))))
            continue;
        size_t len = j - i;
        memcpy(out, t + i, len);
        out[len] = '\0';
        return (long)i;
    }
    return -1;
}

long mt_bounce_find_status_replied(const char *t, size_t n, char out[16], int last)
{
    char st[16];
    long found = -1, first = -1;
    out[0] = '\0';
    for (size_t i = 0; i < n;) {
        long o = mt_bounce_find_status(t + i, n - i, st);
        if (o < 0)
            break;
        size_t at = i + (size_t)o;
        if (first < 0) {
            first = (long)at;
            if (found < 0)
                memcpy(out, st, sizeof st);
        }
        /* "550 5.7.1", "550-5.7.1", "550-'5.7.1" */
        size_t k = at;
        while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '-' || t[k - 1] == '\''))
            k--;
        if (k >= 3 && k < at && is_digit((unsigned char)t[k - 1]) && is_digit((unsigned char)t[k - 2]) &&
            (t[k - 3] == '2' || t[k - 3] == '4' || t[k - 3] == '5') &&
            (k == 3 || !is_digit((unsigned char)t[k - 4])) && t[k - 3] == st[0]) {
            if (found < 0 || last) {
                found = (long)at;
                memcpy(out, st, sizeof st);
            }
            if (!last)
                break;
        }
        i = at + strlen(st);
    }
    return found >= 0 ? found : first;
}

/* The reply codes of RFC 5321 and its extensions (RFC 3207, 4954, 7504,
 * 3030): a number outside them is an ID, a size or a local exit code. */
static int known_code(int c)
{
    static const short codes[] = {211, 214, 220, 221, 235, 250, 251, 252, 253, 334, 354, 421, 422, 430, 432,
                                  450, 451, 452, 453, 454, 455, 458, 459, 500, 501, 502, 503, 504, 521, 523,
                                  524, 525, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556, 557};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == c)
            return 1;
    return 0;
}

int mt_bounce_find_code(const char *t, size_t n, char cls)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        char c = t[i];
        if (c != '2' && c != '4' && c != '5')
            continue;
        if (cls && c != cls)
            continue;
        if (!is_digit((unsigned char)t[i + 1]) || !is_digit((unsigned char)t[i + 2]))
            continue;
        if (t[i + 1] > '5')
            continue;
        if (i > 0) {
            unsigned char p = (unsigned char)t[i - 1];
            if (is_digit(p) || isalpha(p) || p == '.' || p == '-' || p == '#' || p == '/' || p == '=' ||
                p == '_' || p == '+')
                continue;
        }
        if (i + 3 < n) {
            char f = t[i + 3];
            if (f != ' ' && f != '-' && f != '\n' && f != '\t' && f != ')' && f != '"' && f != ':' &&
                f != ',')
                continue;
            if ((f == ':' || f == ',') && i + 4 < n && is_digit((unsigned char)t[i + 4]))
                continue;
            if (f == '-' && i + 4 < n && !isalpha((unsigned char)t[i + 4]) &&
                !is_digit((unsigned char)t[i + 4]) && t[i + 4] != ' ' && t[i + 4] != '\'')
                continue;
        }
        int code = (c - '0') * 100 + (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
        if (!known_code(code))
            continue;
        /* Sendmail's "554 <a@b>... 550 Host unknown": the remote's code */
        size_t j = i + 3;
        if (j + 1 < n && t[j] == ' ' && t[j + 1] == '<') {
            const char *dots = memchr(t + j, '>', n - j > 300 ? 300 : n - j);
            if (dots && (size_t)(dots - t) + 6 < n && memcmp(dots, ">... ", 5) == 0) {
                const char *q = dots + 5;
                size_t left = n - (size_t)(q - t);
                if (left >= 4 && (q[0] == '4' || q[0] == '5') && is_digit((unsigned char)q[1]) &&
                    is_digit((unsigned char)q[2]) && q[3] == ' ') {
                    int inner = (q[0] - '0') * 100 + (q[1] - '0') * 10 + (q[2] - '0');
                    if (known_code(inner) && (!cls || q[0] == cls))
                        return inner;
                }
            }
        }
        return code;
    }
    return 0;
}

/* "550-5.7.1 " (and the last line's "550 5.7.1 ") at the start of the
 * lines of a multi-line reply: the prefix, not the text */
static size_t reply_prefix(const char *t, size_t i, size_t n, int *multi, char rcode[4], char rstat[16])
{
    size_t j = i;
    while (j < n && (t[j] == ' ' || t[j] == '\t'))
        j++;
    if (j + 4 > n || !is_digit((unsigned char)t[j]) || !is_digit((unsigned char)t[j + 1]) ||
        !is_digit((unsigned char)t[j + 2]) || (t[j + 3] != '-' && !(t[j + 3] == ' ' && *multi)))
        return i;
    if (t[j + 3] == '-') {
        *multi = 1;
        memcpy(rcode, t + j, 3);
        rcode[3] = '\0';
    }
    j += 4;
    char st[16];
    long o = mt_bounce_find_status(t + j, n - j > 12 ? 12 : n - j, st);
    if (o == 0) {
        j += strlen(st);
        memcpy(rstat, st, sizeof st);
    }
    return j;
}

void mt_bounce_fold(const char *t, size_t n, mt_buf *out)
{
    mt_buf_reset(out);
    mt_buf_reserve(out, n + 1);
    out->data[0] = '\0';
    int space = 1, multi = 0;
    char rcode[4] = "", rstat[16] = ""; /* a multi-line reply's prefix, once seen */
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || t[i - 1] == '\n') {
            size_t k = reply_prefix(t, i, n, &multi, rcode, rstat);
            if (k != i) {
                i = k;
                space = 1;
                if (i >= n)
                    break;
            }
        }
        unsigned char c = (unsigned char)t[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = 1;
            continue;
        }
        /* typographic quotes (U+2018, U+2019) read as the ASCII one:
         * "wasn’t" is "wasn't" */
        if (c == 0xE2 && i + 2 < n && (unsigned char)t[i + 1] == 0x80 &&
            ((unsigned char)t[i + 2] == 0x98 || (unsigned char)t[i + 2] == 0x99)) {
            c = '\'';
            i += 2;
        }
        /* at most n + 1 bytes: reserved above */
        if (space && out->len)
            out->data[out->len++] = ' ';
        space = 0;
        out->data[out->len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out->data[out->len] = '\0';
    /* addresses and links are no phrases: "<no-such-user@example.com>",
     * "https://example.com/help#userunknown" say nothing */
    char *d = out->data;
    size_t w = 0;
    if (!multi)
        rstat[0] = '\0';
    for (size_t i = 0; i < out->len;) {
        if (d[i] != ' ') {
            size_t e = i;
            while (e < out->len && d[e] != ' ')
                e++;
            size_t tl = e - i;
            if (tl >= 4 && is_digit((unsigned char)d[i]) && is_digit((unsigned char)d[i + 1]) &&
                is_digit((unsigned char)d[i + 2]) && d[i + 3] == '-' &&
                (tl == 4 || (tl <= 4 + 11 && is_digit((unsigned char)d[i + 4]) && d[i + 5] == '.'))) {
                /* "550-5.7.1" inside unfolded text: a prefix, not words */
                memcpy(rcode, d + i, 3);
                rcode[3] = '\0';
                memcpy(rstat, d + i + 4, tl - 4);
                rstat[tl - 4] = '\0';
                i = e;
                continue;
            }
            if (rcode[0] && ((tl == 3 && memcmp(d + i, rcode, 3) == 0) ||
                             (rstat[0] && tl == strlen(rstat) && memcmp(d + i, rstat, tl) == 0))) {
                i = e;
                continue;
            }
            if (e - i > 7 && (strncmp(d + i, "http://", 7) == 0 || strncmp(d + i, "https://", 8) == 0)) {
                /* a link: its host says who wrote the notice, its path nothing */
                size_t h = i + (d[i + 4] == 's' ? 8 : 7), he = h;
                while (he < e && d[he] != '/' && d[he] != '?' && d[he] != '#')
                    he++;
                memmove(d + w, d + h, he - h);
                w += he - h;
                i = e;
                continue;
            }
            char *at = memchr(d + i, '@', e - i);
            if (at && at > d + i && at + 1 < d + e) {
                d[w++] = '@';
                i = e;
                continue;
            }
            memmove(d + w, d + i, e - i);
            w += e - i;
            i = e;
            continue;
        }
        d[w++] = d[i++];
    }
    /* what was dropped leaves runs of spaces: fold them again */
    size_t k = 0;
    for (size_t i = 0; i < w; i++) {
        if (d[i] == ' ' && (k == 0 || d[k - 1] == ' '))
            continue;
        d[k++] = d[i];
    }
    while (k > 0 && d[k - 1] == ' ')
        k--;
    d[k] = '\0';
    out->len = k;
}

/* ---- the status table: RFC 3463 and the IANA registry, in reasons ---- */

const char *mt_bounce_status_reason(const char *st)
{
    if (st == NULL || st[0] == '\0')
        return "";
    if (st[0] == '2')
        return "delivered";
    char *end;
    long sub = strtol(st + 2, &end, 10);
    if (end == st + 2 || *end != '.')
        return "";
    const char *dp = end + 1;
    long det = strtol(dp, &end, 10);
    if (end == dp)
        return "";
    int perm = st[0] == '5';
    switch (sub) {
    case 1:
        switch (det) {
        case 1:
        case 3:
            return "userunknown";
        case 2:
            return "hostunknown";
        case 4:
            return "filtered";
        case 6:
            return "hasmoved";
        case 7:
        case 8:
            return "rejected";
        case 9:
            return "systemerror";
        default:
            return det == 0 && perm ? "userunknown" : "";
        }
    case 2:
        switch (det) {
        case 0:
            return perm ? "filtered" : "";
        case 1:
            return perm ? "filtered" : "suspend";
        case 2:
            return "mailboxfull";
        case 3:
            return "exceedlimit";
        case 4:
            return "filtered";
        default:
            return "";
        }
    case 3:
        switch (det) {
        case 0:
            return perm ? "systemerror" : "";
        case 1:
            return "systemfull";
        case 2:
            return "notaccept";
        case 3:
        case 5:
            return "systemerror";
        case 4:
            return "mesgtoobig";
        default:
            return "";
        }
    case 4:
        switch (det) {
        case 0:
            return perm ? "networkerror" : "";
        case 1:
            return perm ? "" : "expired";
        case 2:
        case 6:
            return "networkerror";
        case 3:
            return "systemerror";
        case 4:
            return perm ? "hostunknown" : "networkerror";
        case 5:
            return "systemfull";
        case 7:
            return "expired";
        default:
            return "";
        }
    case 5:
        switch (det) {
        case 3:
            return perm ? "toomanyconn" : "systemerror";
        case 4:
        case 5:
            return "systemerror";
        case 6:
            return "securityerror";
        default:
            return "";
        }
    case 6:
        return det == 4 ? "" : "contenterror";
    case 7:
        switch (det) {
        case 0:
            return perm ? "securityerror" : "";
        case 1:
        case 2:
            return perm ? "securityerror" : "blocked";
        case 13:
            return "suspend";
        case 16:
            return "mesgtoobig";
        case 17:
        case 18:
            return "hasmoved";
        case 20:
        case 21:
        case 22:
        case 23:
        case 24:
        case 26:
            return "authfailure";
        case 25:
            return "requireptr";
        case 27:
            return "notaccept";
        default:
            return det >= 3 && det <= 19 ? "securityerror" : "";
        }
    default:
        return "";
    }
}

/* ---- the decision ---- */

static int retried(const char *r)
{
    static const char *const v[] = {"undefined", "onhold",       "systemerror", "securityerror",
                                    "expired",   "networkerror", "hostunknown", "userunknown"};
    if (r == NULL || r[0] == '\0')
        return 1;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(r, v[i]) == 0)
            return 1;
    return 0;
}

static int cmd_is(const mt_bounce_fact *f, const char *list)
{
    const char *c = f->command ? f->command : "";
    if (c[0] == '\0')
        return 0;
    size_t n = strlen(c);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, c, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* Each reason's phrases are matched against one text at most once: the
 * decision asks about some reasons several times. */
typedef struct memo {
    const mt_bounce_reasons *r;
    const char *d;
    size_t dn;
    signed char hit[NREASONS]; /* -1: not asked yet */
} memo;

static int memo_match(memo *m, const char *name)
{
    int i = reason_index(name, strlen(name));
    if (i < 0)
        return 0;
    if (m->hit[i] < 0)
        m->hit[i] = (signed char)mt_bounce_reasons_match(m->r, name, m->d, m->dn);
    return m->hit[i];
}

#define M(name) memo_match(mm, name)

/* Does the status or a phrase prove reason name (the first list)? */
static int probes(memo *mm, const char *name, const mt_bounce_fact *f, const char *sr)
{
    if (f->preset && strcmp(f->preset, name) == 0)
        return 1; /* the format states it: it wins when its turn comes */
    if (strcmp(name, "userunknown") == 0) {
        if (strcmp(sr, "suspend") == 0 || cmd_is(f, "MAIL"))
            return 0; /* at MAIL FROM an unknown address is the sender's */
        if (strcmp(sr, "userunknown") == 0)
            return !(M("norelaying") || M("blocked") || M("mailboxfull") || M("hasmoved") || M("rejected") ||
                     M("notaccept"));
        /* no command and no status of its own: the reason is the MTA's
         * to state (an @lhost line of the phrase file); a reply that
         * names no command is left to "filtered", as Sisimai does */
        if (cmd_is(f, "RCPT"))
            return M("userunknown");
        return 0;
    }
    if (strcmp(name, "filtered") == 0) {
        if (strcmp(sr, "suspend") == 0)
            return 0;
        if (strcmp(sr, "filtered") == 0)
            return M("userunknown") || M("filtered");
        if (cmd_is(f, "CONN EHLO HELO MAIL RCPT"))
            return 0;
        return M("filtered") ||
               ((cmd_is(f, "DATA") || f->command == NULL || f->command[0] == '\0') && M("userunknown"));
    }
    if (strcmp(name, "rejected") == 0) {
        if (strcmp(sr, "rejected") == 0)
            return 1;
        if (cmd_is(f, "MAIL"))
            return M("rejected") || M("userunknown") || M("hostunknown");
        if (cmd_is(f, "DATA"))
            return strcmp(sr, "userunknown") != 0 && M("rejected");
        if (sr[0] == '\0' || strcmp(sr, "onhold") == 0 || strcmp(sr, "securityerror") == 0 ||
            strcmp(sr, "systemerror") == 0)
            return M("rejected");
        return 0;
    }
    if (strcmp(name, "hostunknown") == 0) {
        if (cmd_is(f, "MAIL"))
            return 0;
        if ((f->status && f->status[0] == '4') || strstr(mm->d, "not found, try again"))
            return 0; /* a lookup that failed for now is a network error */
        if (strcmp(sr, "hostunknown") == 0)
            return !M("networkerror") && !M("notaccept");
        return M("hostunknown");
    }
    if (strcmp(name, "norelaying") == 0) {
        if (cmd_is(f, "CONN EHLO HELO"))
            return 0;
        return M("norelaying");
    }
    if (strcmp(name, "spamdetected") == 0) {
        if (strcmp(sr, "spamdetected") == 0)
            return 1;
        if (cmd_is(f, "CONN EHLO HELO MAIL RCPT"))
            return 0;
        return M("spamdetected");
    }
    if (strcmp(name, "mesgtoobig") == 0) {
        if (strcmp(sr, "mesgtoobig") == 0)
            return 1;
        if (strcmp(sr, "exceedlimit") == 0)
            return 0;
        return M("mesgtoobig");
    }
    if (strcmp(name, "contenterror") == 0)
        return M("contenterror"); /* x.6.x alone: decided after the other phrases */
    if (strcmp(name, "suspend") == 0)
        return strcmp(sr, "suspend") == 0 || M("suspend");
    return strcmp(sr, name) == 0 || M(name);
}

/* The first "NAME:REASON" line of scope sc (1-based) that holds for the
 * fact: its reason, or NULL. */
static const char *scoped_reason(const mt_bounce_reasons *r, int sc, const mt_bounce_fact *f, const char *d,
                                 size_t dn)
{
    const char *st = f->status ? f->status : "";
    for (int i = 0; r && sc > 0 && i < r->nscoped; i++) {
        const scoped_rule *q = &r->scoped[i];
        if (q->scope != sc - 1)
            continue;
        if (q->command[0] && !cmd_is(f, q->command))
            continue;
        if (q->status && mt_pattern_match(q->status, NULL, st, strlen(st), 0, r->md) < 0)
            continue;
        if (q->re && mt_pattern_match(q->re, mt_pattern_text_of(r->text, d, dn), d, dn, 0, r->md) < 0)
            continue;
        return reason_names[q->reason];
    }
    return NULL;
}

/* the static name of a stated reason (the result must outlive the fact) */
static const char *preset_name(const char *preset)
{
    int i = reason_index(preset, strlen(preset));
    return i >= 0 ? reason_names[i] : "undefined";
}

const char *mt_bounce_reason_decide(const mt_bounce_reasons *r, const mt_bounce_fact *f)
{
    static const char *const first[] = {
        "mailboxfull",     "mesgtoobig",    "exceedlimit",  "suspend",  "hasmoved",
        "norelaying",      "authfailure",   "userunknown",  "filtered", "requireptr",
        "notcompliantrfc", "badreputation", "contenterror", "rejected", "hostunknown",
        "spamdetected",    "speeding",      "toomanyconn",  "blocked",
    };
    static const char *const second[] = {
        "mailboxfull",    "authfailure",     "badreputation", "speeding",    "spamdetected",
        "virusdetected",  "policyviolation", "norelaying",    "systemerror", "networkerror",
        "suspend",        "contenterror",    "systemfull",    "notaccept",   "expired",
        "failedstarttls", "securityerror",   "suppressed",    "mailererror",
    };
    const char *st = f->status ? f->status : "";
    const char *d = f->diag ? f->diag : "";
    size_t dn = strlen(d);
    /* what the MTA that wrote the bounce means by its words: a reason it
     * states (as Sisimai's module for that MTA does) */
    mt_bounce_fact stated = *f;
    if ((f->preset == NULL || f->preset[0] == '\0') && f->lhost) {
        const char *lr = scoped_reason(r, f->lhost, f, d, dn);
        if (lr)
            stated.preset = lr;
    }
    f = &stated;
    memo memo_store = {.r = r, .d = d, .dn = dn};
    memset(memo_store.hit, -1, sizeof memo_store.hit);
    memo *mm = &memo_store;
    const char *dtype = f->dtype ? f->dtype : "";
    const char *action = f->action ? f->action : "";
    if (f->preset && f->preset[0] && !retried(f->preset))
        return preset_name(f->preset);
    if (st[0] == '2')
        return "delivered";
    /* what the remote host means by its reply (Sisimai's rhost rules) */
    if (f->rhost) {
        const char *rr = scoped_reason(r, f->rhost, f, d, dn);
        if (rr)
            return rr;
    }
    /* a provider's own code in the reply says it outright */
    for (int i = 0; r && i < r->ndecisive; i++)
        if (dn && mt_pattern_match(r->dre[i], mt_pattern_text_of(r->text, d, dn), d, dn, 0, r->md) >= 0)
            return reason_names[r->dreason[i]];
    const char *sr = mt_bounce_status_reason(st);
    /* a diagnostic of the local mailer (X-Unix) is no SMTP reply */
    int smtp = strncasecmp(dtype, "x-unix", 6) != 0;
    if (smtp)
        for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
            if (probes(mm, first[i], f, sr))
                return first[i];
    /* the other reasons */
    if (f->preset && f->preset[0] && strcmp(f->preset, "undefined") != 0 && strcmp(f->preset, "onhold") != 0)
        return preset_name(f->preset);
    if (retried(sr) || !smtp) {
        /* a notice that gave up ("in the queue too long") says expired
         * before the network or system trouble it also names, unless the
         * status itself is one of routing or the network (x.4.x) */
        if (strncmp(st[0] ? st + 1 : "", ".4.", 3) != 0 && M("expired") &&
            (M("networkerror") || M("systemerror")))
            return "expired";
        for (size_t i = 0; i < sizeof second / sizeof second[0]; i++)
            if (M(second[i]))
                return second[i];
        /* no phrase: the status's class, the local mailer, a syntax
         * reply say more than a vague status reason */
        if (strncmp(st, "5.6", 3) == 0 || strncmp(st, "4.6", 3) == 0)
            return "contenterror";
        if (strncmp(st, "5.7", 3) == 0 || strncmp(st, "4.7", 3) == 0)
            return "securityerror";
        if (strncasecmp(dtype, "x-unix", 6) == 0)
            return "mailererror";
        if ((f->reply_code >= 500 && f->reply_code <= 507) || (f->reply_code >= 400 && f->reply_code <= 407))
            return "syntaxerror";
        if (sr[0] == '\0') {
            if (strcmp(action, "delayed") == 0 || strcmp(action, "expired") == 0)
                return "expired";
            if (cmd_is(f, "EHLO HELO"))
                return "blocked";
        }
    }
    if (sr[0] && strcmp(sr, "undefined") != 0)
        return sr;
    if (strcmp(action, "delayed") == 0)
        return "expired";
    if (M("vacation"))
        return "vacation";
    /* a notice whose MTA says it has no report for the recipient (an
     * @lhost line stating "undefined") is no text to hold on */
    if (f->preset && strcmp(f->preset, "undefined") == 0)
        return "undefined";
    return dn ? "onhold" : "undefined";
}
