/*
 * pattern.c - PCRE2 patterns screened by their literals and JIT compiled
 * lazily (see pattern.h).
 *
 * The screen: a small reader of PCRE2's syntax finds, for a pattern, a
 * conjunction of clauses, each a disjunction of literals (lower case,
 * in pieces of at most MAXLIT bytes), such that every match contains one literal
 * of each clause.  It is conservative: whatever it does not understand
 * (an escape it does not know, \Q, a conditional, a verb, (?x), …) makes
 * the pattern unscreened, and anything optional, repeated from zero, or
 * inside a lookaround contributes nothing.  A literal is looked for as
 * the set of its adjacent byte pairs, which the subject's summary holds
 * (case folded): a literal absent by that test is absent.
 *
 * Case: the literals and the subject are folded to ASCII lower case, so a
 * caseless pattern is screened right and a case-sensitive one only more
 * loosely.  In UTF mode two non-ASCII characters match ASCII letters
 * caselessly: U+212A KELVIN SIGN (k) and U+017F LONG S (s) (PCRE2's case
 * sets; no other, checked over every code point); a subject holding
 * either is summed up a second time with them read as k and s.  Without
 * UTF, PCRE2's default tables fold ASCII letters only and bytes >= 0x80
 * are literals, matched byte by byte.
 */
#include "pattern.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAXLIT    32  /* a longer literal is kept as pieces of MAXLIT bytes, each required */
#define MAXALT    160 /* literals in one clause; more: the clause is dropped */
#define MAXCLAUSE 6   /* clauses kept, the most selective */
#define MAXDEPTH  24  /* nested groups; deeper: unscreened */

typedef struct lit {
    unsigned char len;
    unsigned char b[MAXLIT];
} lit;

typedef struct clause {
    int n, cap;
    lit *v;
} clause;

typedef struct clauses {
    int n, cap;
    clause *v;
    /* a byte pair every subject that holds the clauses contains (a pair of
     * a clause's only literal, the one least likely in text), tested
     * before them; NOKEY: none */
    unsigned key;
} clauses;

#define NOKEY 0x10000u

/* compiled code, interpreted for its first runs on valid UTF-8 subjects
 * (JIT_AFTER_RUNS, JIT_AFTER_BYTES), then JIT compiled (a copy: the code,
 * which other threads may be reading, is never changed); see lazy_match
 * for which engine answers */
typedef struct lazy {
    _Atomic(pcre2_code *) re;  /* the interpreter's */
    _Atomic(pcre2_code *) jit; /* the JIT compiled copy */
    atomic_int no_jit;         /* JIT compiling failed: interpreted it stays */
    atomic_uint runs;          /* runs interpreted so far */
    atomic_size_t bytes;       /* and the subject bytes they were given */
} lazy;

/* A pattern or branch is interpreted (on valid UTF-8) until it has had
 * JIT_AFTER_RUNS runs or JIT_AFTER_BYTES bytes of subject, then JIT
 * compiled.  Compiling costs some 80,000 instructions (sljit) and memory
 * mapped for the code; a run interpreted, a few thousand on a diagnostic
 * but several times the JIT's on a long subject.  So what a small input
 * runs once or twice is cheaper never compiled, and what runs more, or
 * on much text, is compiled early.  (The 832 messages of the bounce
 * corpus on one thread, 2026-11-28: JIT compiling on first run, 743
 * compilations, 10.7-11.4 ms of CPU, 508.7 M instructions in all; with 4
 * runs / 512 bytes, 370 compilations, 6.7-7.9 ms, 496.6-497.6 M; 3 / 500:
 * 498.0 M, 2 / 1000: 498.4 M, 8 / 200: 500.0 M, 4 / 4096: 500.1 M.) */
#define JIT_AFTER_RUNS  4
#define JIT_AFTER_BYTES 512

/* one branch of an alternation, matched on its own */
typedef struct branch {
    char *src;
    size_t len;
    clauses screen;
    lazy code; /* compiled when first needed */
} branch;

struct mt_pattern {
    lazy code;
    uint32_t opts;
    clauses screen;
    branch *branches; /* MT_PATTERN_YESNO and a top-level alternation: its branches */
    unsigned *keys;   /* and their screens' keys, side by side (a few hundred tested a run) */
    int nbranches;
};

struct mt_pattern_text {
    uint64_t pairs[65536 / 64]; /* (lower(a) << 8 | lower(b)) for each adjacent pair a b */
    uint64_t one[4];            /* each byte, lower case */
    int valid;
    int utf8;    /* the subject is valid UTF-8 */
    mt_buf copy; /* the subject summed up */
    /* the subject in lower case (ASCII letters), where a literal's pairs
     * all being there is checked by finding the literal itself */
    mt_buf low;
    /* 0 when the subject holds KELVIN SIGN or LONG S (which match k and s
     * caselessly): low then cannot tell a literal is absent */
    int exact;
};

/* ---- clauses ---- */

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static void clause_free(clause *c)
{
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

static void clause_add(clause *c, const lit *l)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->v = mt_xrealloc(c->v, (size_t)c->cap * sizeof *c->v);
    }
    c->v[c->n++] = *l;
}

/* the shortest literal: how selective a clause is (longer is rarer) */
static int clause_score(const clause *c)
{
    int s = MAXLIT + 1;
    for (int i = 0; i < c->n; i++)
        if (c->v[i].len < s)
            s = c->v[i].len;
    return c->n ? s : 0;
}

static void clauses_free(clauses *cs)
{
    for (int i = 0; i < cs->n; i++)
        clause_free(&cs->v[i]);
    free(cs->v);
    cs->v = NULL;
    cs->n = cs->cap = 0;
}

/* take c (its literals move into cs) */
static void clauses_take(clauses *cs, clause *c)
{
    if (c->n == 0 || c->n > MAXALT) {
        clause_free(c);
        return;
    }
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 4;
        cs->v = mt_xrealloc(cs->v, (size_t)cs->cap * sizeof *cs->v);
    }
    cs->v[cs->n++] = *c;
    memset(c, 0, sizeof *c);
}

/* the index of cs's most selective clause, or -1 */
static int clauses_best(const clauses *cs)
{
    int best = -1, bs = 0;
    for (int i = 0; i < cs->n; i++) {
        int s = clause_score(&cs->v[i]);
        if (s > bs || (s == bs && best >= 0 && cs->v[i].n < cs->v[best].n)) {
            best = i;
            bs = s;
        }
    }
    return best;
}

/* ---- the reader of PCRE2 syntax ---- */

typedef struct reader {
    const unsigned char *p, *end;
    int utf;
    int bail;    /* something not understood: no screen at all */
    int top_opt; /* an option setting at top level: it holds for the branches after it */
} reader;

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* a quantifier at rd->p: consumed, its minimum in *min; 0 when there is
 * none.  Anything unclear (a brace that is not {n}, {n,} or {n,m}, a
 * quantifier after a quantifier) bails. */
static int quantifier(reader *rd, long *min)
{
    const unsigned char *p = rd->p;
    if (p >= rd->end)
        return 0;
    if (*p == '?' || *p == '*') {
        *min = 0;
        p++;
    } else if (*p == '+') {
        *min = 1;
        p++;
    } else if (*p == '{') {
        const unsigned char *q = p + 1;
        long v = 0;
        int digits = 0;
        while (q < rd->end && is_digit(*q) && digits < 6) {
            v = v * 10 + (*q - '0');
            q++;
            digits++;
        }
        if (digits == 0 || digits >= 6 || q >= rd->end) {
            rd->bail = 1; /* "{,m}" or a literal brace: read differently by PCRE2 versions */
            return 0;
        }
        if (*q == ',') {
            q++;
            int d2 = 0;
            while (q < rd->end && is_digit(*q) && d2 < 6) {
                q++;
                d2++;
            }
        }
        if (q >= rd->end || *q != '}') {
            rd->bail = 1;
            return 0;
        }
        *min = v;
        p = q + 1;
    } else {
        return 0;
    }
    if (p < rd->end && (*p == '?' || *p == '+'))
        p++; /* lazy, possessive */
    if (p < rd->end && (*p == '?' || *p == '*' || *p == '+' || *p == '{')) {
        rd->bail = 1;
        return 0;
    }
    rd->p = p;
    return 1;
}

/* skip a quantifier after an atom that is not a literal */
static void skip_quantifier(reader *rd)
{
    long min;
    (void)quantifier(rd, &min);
}

/* posix_end - PCRE2's own test (check_posix_syntax in pcre2_compile.c)
 * for "[:name:]" (or "[.x.]", "[=x=]") inside a class, k at the ':':
 * where its closing ":" is, or NULL when it is not one, and then its '['
 * is an ordinary member.  A ']' or another "[:" met first means it is not
 * one: reading it otherwise would end the class somewhere else than
 * PCRE2 does (found by fuzz_pattern). */
static const unsigned char *posix_end(const unsigned char *k, const unsigned char *end)
{
    unsigned char term = *k;
    for (const unsigned char *p = k + 1; end - p >= 2; p++) {
        if (*p == '\\' && (p[1] == ']' || p[1] == '\\'))
            p++;
        else if ((*p == '[' && p[1] == term) || *p == ']')
            return NULL;
        else if (*p == term && p[1] == ']')
            return p;
    }
    return NULL;
}

/* rd->p at '[': past the class's ']' */
static void skip_class(reader *rd)
{
    const unsigned char *p = rd->p + 1;
    if (p < rd->end && *p == '^')
        p++;
    if (p < rd->end && *p == ']')
        p++;
    for (;;) {
        if (p >= rd->end) {
            rd->bail = 1;
            return;
        }
        if (*p == ']') {
            rd->p = p + 1;
            return;
        }
        if (*p == '\\') {
            if (p + 1 >= rd->end || p[1] == 'Q' || p[1] == 'E') {
                rd->bail = 1;
                return;
            }
            p += 2;
            continue;
        }
        if (*p == '[' && p + 1 < rd->end && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            const unsigned char *q = posix_end(p + 1, rd->end);
            p = q ? q + 2 : p + 1; /* not "[:name:]": the '[' is one more member */
            continue;
        }
        p++;
    }
}

/* skip to and past the byte close ("(?<name>", "(?#…)") */
static void skip_past(reader *rd, unsigned char close)
{
    const unsigned char *q = memchr(rd->p, close, (size_t)(rd->end - rd->p));
    if (q == NULL)
        rd->bail = 1;
    else
        rd->p = q + 1;
}

static void alternation(reader *rd, int depth, clauses *out);

/* the run of literal bytes being read, into the sequence's candidates
 * (cand NULL: the syntax is only being read through) */
static void flush(lit *run, clauses *cand)
{
    if (run->len && cand) {
        clause c = {0, 0, NULL};
        clause_add(&c, run);
        clauses_take(cand, &c);
    }
    run->len = 0;
}

/* c appended to the run; a run of MAXLIT bytes is a literal of its own
 * first (each piece of a required literal is required) */
static void run_add(lit *run, clauses *cand, unsigned char c)
{
    if (run->len == MAXLIT)
        flush(run, cand);
    run->b[run->len++] = lower(c);
}

/* a literal byte c was read: with what quantifier follows */
static void literal(reader *rd, lit *run, clauses *cand, unsigned char c)
{
    long min = 1;
    if (quantifier(rd, &min)) {
        if (min > 0)
            run_add(run, cand, c);
        flush(run, cand);
        return;
    }
    run_add(run, cand, c);
}

/* a group at rd->p ('(' read): its requirement into cand */
static void group(reader *rd, int depth, lit *run, clauses *cand)
{
    flush(run, cand);
    const unsigned char *e = rd->end;
    int counts = 1; /* its content is required (not a lookaround) */
    if (rd->p < e && *rd->p == '*') {
        rd->bail = 1; /* a verb, (*UTF), … */
        return;
    }
    if (rd->p < e && *rd->p == '?') {
        rd->p++;
        if (rd->p >= e) {
            rd->bail = 1;
            return;
        }
        unsigned char k = *rd->p;
        if (k == ':' || k == '>' || k == '|') {
            rd->p++;
        } else if (k == '=' || k == '!') {
            rd->p++;
            counts = 0;
        } else if (k == '<' && rd->p + 1 < e && (rd->p[1] == '=' || rd->p[1] == '!')) {
            rd->p += 2;
            counts = 0;
        } else if (k == '<' || (k == 'P' && rd->p + 1 < e && rd->p[1] == '<')) {
            skip_past(rd, '>');
        } else if (k == '\'') {
            rd->p++;
            skip_past(rd, '\'');
        } else if (k == '#') {
            skip_past(rd, ')');
            return;
        } else {
            /* option letters: (?i) (?-i) (?^) or (?i:…) */
            const unsigned char *q = rd->p;
            while (q < e && strchr("imnsUJ-^", *q) != NULL && *q != '\0')
                q++;
            if (q >= e || (*q != ')' && *q != ':')) {
                rd->bail = 1; /* (?x), (?R), (?1), (?(, (?C, (?&, … */
                return;
            }
            rd->p = q + 1;
            if (*q == ')') {
                if (depth == 0)
                    rd->top_opt = 1;
                return; /* an option setting: matches no text */
            }
        }
        if (rd->bail)
            return;
    }
    clauses inner = {0, 0, NULL, NOKEY};
    alternation(rd, depth + 1, cand ? &inner : NULL);
    if (rd->bail || rd->p >= e || *rd->p != ')') {
        rd->bail = 1;
        clauses_free(&inner);
        return;
    }
    rd->p++;
    long min = 1;
    (void)quantifier(rd, &min);
    if (counts && min > 0 && cand)
        for (int i = 0; i < inner.n; i++)
            clauses_take(cand, &inner.v[i]);
    clauses_free(&inner);
}

/* one branch up to '|', ')' or the end: every requirement found in it */
static void sequence(reader *rd, int depth, clauses *cand)
{
    lit run = {0, {0}};
    while (!rd->bail && rd->p < rd->end && *rd->p != '|' && *rd->p != ')') {
        unsigned char c = *rd->p++;
        if (c == '\\') {
            if (rd->p >= rd->end) {
                rd->bail = 1;
                break;
            }
            unsigned char x = *rd->p++;
            if (x >= 0x80 && rd->utf) {
                while (rd->p < rd->end && (*rd->p & 0xC0) == 0x80)
                    rd->p++;
                flush(&run, cand);
                skip_quantifier(rd);
            } else if (!is_alnum(x)) {
                literal(rd, &run, cand, x);
            } else if (strchr("bBAzZGK", x) || strchr("dDsSwWhHvVRXnrtfea", x) ||
                       (x == 'N' && !(rd->p < rd->end && *rd->p == '{'))) {
                flush(&run, cand); /* an assertion, or one character of a kind: no literal */
                skip_quantifier(rd);
            } else if (x == 'p' || x == 'P') {
                if (rd->p < rd->end && *rd->p == '{')
                    skip_past(rd, '}');
                else if (rd->p < rd->end)
                    rd->p++;
                else
                    rd->bail = 1;
                flush(&run, cand);
                skip_quantifier(rd);
            } else {
                rd->bail = 1; /* \Q, \x, \1, \g, \k, \c, … */
            }
        } else if (c == '[') {
            rd->p--;
            skip_class(rd);
            flush(&run, cand);
            skip_quantifier(rd);
        } else if (c == '(') {
            if (depth >= MAXDEPTH)
                rd->bail = 1;
            else
                group(rd, depth, &run, cand);
        } else if (c == '.' || c == '^' || c == '$') {
            flush(&run, cand);
            skip_quantifier(rd);
        } else if (c == '{' || c == '*' || c == '+' || c == '?') {
            rd->bail = 1; /* not after an atom: read differently by PCRE2 versions, or an error */
        } else if (c >= 0x80 && rd->utf) {
            while (rd->p < rd->end && (*rd->p & 0xC0) == 0x80)
                rd->p++;
            flush(&run, cand);
            skip_quantifier(rd);
        } else {
            literal(rd, &run, cand, c);
        }
    }
    flush(&run, cand);
}

/* branches up to ')' or the end: one branch's requirements all hold; of
 * several, one of each branch's most selective clause (out NULL: the
 * syntax is only read through) */
static void alternation(reader *rd, int depth, clauses *out)
{
    if (out == NULL) {
        for (;;) {
            sequence(rd, depth, NULL);
            if (rd->bail || rd->p >= rd->end || *rd->p != '|')
                return;
            rd->p++;
        }
    }
    clauses first = {0, 0, NULL, NOKEY};
    sequence(rd, depth, &first);
    if (rd->bail || rd->p >= rd->end || *rd->p != '|') {
        *out = first;
        return;
    }
    clause any = {0, 0, NULL};
    int none = 0;
    clauses br = first;
    for (;;) {
        int b = clauses_best(&br);
        if (b < 0)
            none = 1;
        for (int i = 0; !none && b >= 0 && i < br.v[b].n && any.n <= MAXALT; i++)
            clause_add(&any, &br.v[b].v[i]);
        clauses_free(&br);
        if (rd->bail || rd->p >= rd->end || *rd->p != '|')
            break;
        rd->p++;
        sequence(rd, depth, &br);
    }
    if (none || rd->bail)
        clause_free(&any);
    clauses_take(out, &any);
}

static int by_score(const void *a, const void *b)
{
    int x = clause_score(a), y = clause_score(b);
    return x != y ? y - x : ((const clause *)a)->n - ((const clause *)b)->n;
}

/* how common byte c (lower case) is in the texts matched: English
 * letter frequencies, roughly; a space is everywhere */
static int commonness(unsigned char c)
{
    static const unsigned char letters[26] = {8, 1, 3, 4, 13, 2, 2, 6, 7, 0, 1, 4, 2,
                                              7, 8, 2, 0, 6,  6, 9, 3, 1, 2, 0, 2, 0};
    if (c >= 'a' && c <= 'z')
        return letters[c - 'a'];
    if (c == ' ')
        return 20;
    return is_digit(c) ? 3 : 1;
}

/* cs's key: of the pairs of its clauses of one literal (each required),
 * the least common */
static void set_key(clauses *cs)
{
    int best = 1000;
    cs->key = NOKEY;
    for (int i = 0; i < cs->n; i++) {
        const clause *c = &cs->v[i];
        if (c->n != 1)
            continue;
        for (int k = 0; k + 1 < c->v[0].len; k++) {
            int w = commonness(c->v[0].b[k]) + commonness(c->v[0].b[k + 1]);
            if (w < best) {
                best = w;
                cs->key = (unsigned)c->v[0].b[k] << 8 | c->v[0].b[k + 1];
            }
        }
    }
}

static void keep_best(clauses *cs)
{
    if (cs->n >= 2) {
        qsort(cs->v, (size_t)cs->n, sizeof *cs->v, by_score);
        while (cs->n > MAXCLAUSE)
            clause_free(&cs->v[--cs->n]);
    }
    set_key(cs);
}

typedef struct branches {
    int n, cap;
    branch *v;
} branches;

static void branches_free(branches *bs)
{
    for (int i = 0; i < bs->n; i++) {
        free(bs->v[i].src);
        clauses_free(&bs->v[i].screen);
    }
    free(bs->v);
    bs->v = NULL;
    bs->n = bs->cap = 0;
}

/* the top-level branches of [a, e) into out, a branch that is one
 * non-capturing group by its own branches in turn (an alternation matches
 * where one of its branches does).  0 when that cannot be said: not
 * understood, or an option set at top level (it holds for the branches
 * after it).  Each byte is read once at each level: a branch that starts
 * "(?:" is read through to its group's ')' (as the branch's own reading
 * would: the same depth and range); a branch that is not one group is read
 * for its literals. */
static int split_range(const unsigned char *a, const unsigned char *e, int utf, int depth, branches *out)
{
    if (depth > MAXDEPTH)
        return 0;
    reader rd = {a, e, utf, 0, 0};
    for (;;) {
        const unsigned char *start = rd.p, *end = NULL;
        if (e - start >= 4 && memcmp(start, "(?:", 3) == 0) {
            reader g = {start + 3, e, utf, 0, 0};
            alternation(&g, 1, NULL);
            if (!g.bail && g.p < e && *g.p == ')' && (g.p + 1 == e || g.p[1] == '|' || g.p[1] == ')')) {
                end = g.p + 1; /* the branch is that group and nothing else */
                rd.p = end;
                if (split_range(start + 3, end - 1, utf, depth + 1, out))
                    goto next;
            }
        }
        {
            clauses cs = {0, 0, NULL, NOKEY};
            if (end) {
                reader br = {start, end, utf, 0, 0}; /* the group as one branch */
                sequence(&br, 0, &cs);
            } else {
                sequence(&rd, 0, &cs);
                if (rd.bail || rd.top_opt) {
                    clauses_free(&cs);
                    return 0;
                }
                end = rd.p;
            }
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 8;
                out->v = mt_xrealloc(out->v, (size_t)out->cap * sizeof *out->v);
            }
            branch *b = &out->v[out->n++];
            memset(b, 0, sizeof *b);
            keep_best(&cs);
            b->screen = cs;
            b->src = mt_xstrndup((const char *)start, (size_t)(end - start));
            b->len = (size_t)(end - start);
            atomic_init(&b->code.re, NULL);
            atomic_init(&b->code.jit, NULL);
            atomic_init(&b->code.no_jit, 0);
            atomic_init(&b->code.runs, 0);
            atomic_init(&b->code.bytes, 0);
        }
    next:
        if (rd.p >= e)
            return 1;
        if (*rd.p != '|')
            return 0;
        rd.p++;
    }
}

/* the screen of pattern pat[0..n); with split, an alternation (at top
 * level, or in one group that is the whole pattern, …) becomes p's
 * branches */
static void read_screen(mt_pattern *p, const char *pat, size_t n, uint32_t opts, int split)
{
    const uint32_t understood = PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE |
                                PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK | PCRE2_UNGREEDY;
    if (opts & ~understood)
        return;
    const unsigned char *a = (const unsigned char *)pat;
    int utf = (opts & PCRE2_UTF) != 0;
    branches bs = {0, 0, NULL};
    if (split && split_range(a, a + n, utf, 0, &bs) && bs.n >= 2) {
        p->branches = bs.v;
        p->nbranches = bs.n;
        p->keys = mt_xmalloc((size_t)bs.n * sizeof *p->keys);
        for (int i = 0; i < bs.n; i++)
            p->keys[i] = bs.v[i].screen.key;
        return;
    }
    branches_free(&bs);
    reader rd = {a, a + n, utf, 0, 0};
    clauses cs = {0, 0, NULL, NOKEY};
    alternation(&rd, 0, &cs);
    if (rd.bail || rd.p != rd.end) {
        clauses_free(&cs);
        return;
    }
    keep_best(&cs);
    p->screen = cs;
}

/* ---- patterns ---- */

mt_pattern *mt_pattern_compile(const char *pat, size_t n, uint32_t opts, unsigned flags, int *errcode,
                               size_t *erroff)
{
    PCRE2_SIZE off = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, opts, errcode, &off, NULL);
    if (re == NULL) {
        *erroff = (size_t)off;
        return NULL;
    }
    mt_pattern *p = mt_xcalloc(1, sizeof *p);
    p->screen.key = NOKEY;
    atomic_init(&p->code.re, re);
    atomic_init(&p->code.jit, NULL);
    atomic_init(&p->code.no_jit, 0);
    atomic_init(&p->code.runs, 0);
    atomic_init(&p->code.bytes, 0);
    p->opts = opts;
    uint32_t all = 0, first = 0;
    (void)pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &all); /* (*UTF) at its start, … */
    (void)pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, &first);
    /* Split only a pattern PCRE2 tries at every place: one it anchors, or
     * tries only at the start and after newlines, by its content (every
     * branch starting with .*, ^, \A, …) is matched whole.  PCRE2 10.42
     * does so for .* even where a '.' cannot cross an invalid UTF-8 byte:
     * ".*L" alone does not match "c\xf0HL" but "a|.*L" does (found by
     * fuzz_pattern); so a branch is compiled without that (see
     * branch_ready) and matches where it would inside the whole. */
    int split = (flags & MT_PATTERN_YESNO) != 0 && first != 2 && !(all & PCRE2_ANCHORED);
    read_screen(p, pat, n == PCRE2_ZERO_TERMINATED ? strlen(pat) : n, opts | (all & PCRE2_UTF), split);
    return p;
}

void mt_pattern_free(mt_pattern *p)
{
    if (p == NULL)
        return;
    pcre2_code_free(atomic_load(&p->code.re));
    pcre2_code_free(atomic_load(&p->code.jit));
    clauses_free(&p->screen);
    for (int i = 0; i < p->nbranches; i++) {
        free(p->branches[i].src);
        clauses_free(&p->branches[i].screen);
        pcre2_code_free(atomic_load(&p->branches[i].code.re));
        pcre2_code_free(atomic_load(&p->branches[i].code.jit));
    }
    free(p->branches);
    free(p->keys);
    free(p);
}

static int present(const lit *l, const mt_pattern_text *t)
{
    if (l->len == 1)
        return (t->one[l->b[0] >> 6] >> (l->b[0] & 63)) & 1;
    for (int k = 0; k + 1 < l->len; k++) {
        unsigned v = (unsigned)l->b[k] << 8 | l->b[k + 1];
        if (!((t->pairs[v >> 6] >> (v & 63)) & 1))
            return 0;
    }
    /* every pair is there: is the literal? (a pair says it for 2 bytes) */
    return l->len == 2 || !t->exact || memmem(t->low.data, t->low.len, l->b, l->len) != NULL;
}

static int holds(const clauses *cs, const mt_pattern_text *t)
{
    if (cs->key != NOKEY && !((t->pairs[cs->key >> 6] >> (cs->key & 63)) & 1))
        return 0;
    for (int i = 0; i < cs->n; i++) {
        const clause *c = &cs->v[i];
        int any = 0;
        for (int j = 0; j < c->n && !any; j++)
            any = present(&c->v[j], t);
        if (!any)
            return 0;
    }
    return 1;
}

int mt_pattern_may_match(const mt_pattern *p, const mt_pattern_text *t)
{
    for (int i = 0; i < p->nbranches; i++)
        if (holds(&p->branches[i].screen, t))
            return 1;
    return p->nbranches ? 0 : holds(&p->screen, t);
}

int mt_pattern_screened(const mt_pattern *p)
{
    for (int i = 0; i < p->nbranches; i++)
        if (p->branches[i].screen.n == 0)
            return 0;
    return p->nbranches ? 1 : p->screen.n > 0;
}

int mt_pattern_branches(const mt_pattern *p)
{
    return p->nbranches ? p->nbranches : 1;
}

int mt_pattern_jitted(const mt_pattern *p)
{
    return atomic_load_explicit(&((mt_pattern *)p)->code.jit, memory_order_acquire) != NULL;
}

/* publish c in *slot unless another thread did first: the code in it */
static pcre2_code *publish(_Atomic(pcre2_code *) *slot, pcre2_code *c)
{
    pcre2_code *none = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &none, c, memory_order_acq_rel, memory_order_acquire))
        return c;
    pcre2_code_free(c);
    return none;
}

/* utf8_valid - is s[0..n) valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF; what PCRE2 accepts as UTF-8)? */
static int utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = 2;
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
        if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF)
            ;
        else if (c == 0xF0)
            k = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            k = 3;
        else if (c == 0xF4)
            k = 3, hi = 0x8F;
        else
            return 0;
        if (n - i - 1 < k || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* an answer, not a limit or an error */
static int is_answer(int rc)
{
    return rc >= 0 || rc == PCRE2_ERROR_NOMATCH;
}

/* z's JIT copy, made now if there is none yet (threads that race each
 * make one; the first published is used by all); NULL where PCRE2 cannot
 * JIT compile it */
static pcre2_code *jit_of(lazy *z)
{
    pcre2_code *j = atomic_load_explicit(&z->jit, memory_order_acquire);
    if (j != NULL || atomic_load_explicit(&z->no_jit, memory_order_relaxed))
        return j;
    pcre2_code *c = pcre2_code_copy(atomic_load_explicit(&z->re, memory_order_acquire));
    if (c && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0)
        return publish(&z->jit, c);
    pcre2_code_free(c);
    atomic_store_explicit(&z->no_jit, 1, memory_order_relaxed);
    return NULL;
}

/* lazy_match - pcre2_match of z on s[0..n) from start.  Which engine
 * answers is a function of the subject, never of the order of the runs:
 * PCRE2 10.42's interpreter and JIT disagree on some invalid UTF-8 under
 * PCRE2_MATCH_INVALID_UTF (found by fuzz_pattern), so
 *  - a subject that is not valid UTF-8 gets the JIT's answer, always;
 *  - a valid one gets the JIT's answer where the JIT gives one (a match
 *    or no match), else the interpreter's (the JIT hit a limit).  The two
 *    engines give the same answer on valid UTF-8 when both give one (PCRE2
 *    says so; fuzz_pattern checks it), so such a subject may be
 *    interpreted first: while z is below JIT_AFTER_RUNS and
 *    JIT_AFTER_BYTES, it is, and only an interpreter that gives no answer
 *    makes the JIT try.
 * Where PCRE2 has no JIT, the interpreter answers everything.  *utf8 is
 * -1 until s's validity is known (then 0 or 1), so a caller that runs
 * several codes on s checks it once. */
static int lazy_match(lazy *z, int *utf8, const char *s, size_t n, size_t start, pcre2_match_data *md)
{
    pcre2_code *re = atomic_load_explicit(&z->re, memory_order_acquire);
    pcre2_code *j = atomic_load_explicit(&z->jit, memory_order_acquire);
    if (j == NULL && atomic_load_explicit(&z->no_jit, memory_order_relaxed))
        return pcre2_match(re, (PCRE2_SPTR)s, n, start, 0, md, NULL);
    if (j == NULL && atomic_load_explicit(&z->runs, memory_order_relaxed) < JIT_AFTER_RUNS &&
        atomic_load_explicit(&z->bytes, memory_order_relaxed) < JIT_AFTER_BYTES) {
        if (*utf8 < 0)
            *utf8 = utf8_valid(s, n);
        if (*utf8) {
            atomic_fetch_add_explicit(&z->runs, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&z->bytes, n - start, memory_order_relaxed);
            int rc = pcre2_match(re, (PCRE2_SPTR)s, n, start, 0, md, NULL);
            if (is_answer(rc) || (j = jit_of(z)) == NULL)
                return rc;
            int rj = pcre2_match(j, (PCRE2_SPTR)s, n, start, 0, md, NULL);
            return is_answer(rj) ? rj : rc; /* neither answers: the interpreter's error */
        }
    }
    if (j == NULL && (j = jit_of(z)) == NULL)
        return pcre2_match(re, (PCRE2_SPTR)s, n, start, 0, md, NULL);
    int rc = pcre2_match(j, (PCRE2_SPTR)s, n, start, 0, md, NULL);
    if (is_answer(rc))
        return rc;
    if (*utf8 < 0)
        *utf8 = utf8_valid(s, n);
    return *utf8 ? pcre2_match(re, (PCRE2_SPTR)s, n, start, 0, md, NULL) : rc;
}

/* branch b's code compiled (once) */
static int branch_ready(const mt_pattern *p, branch *b)
{
    if (atomic_load_explicit(&b->code.re, memory_order_acquire))
        return 1;
    int ec;
    PCRE2_SIZE off;
    /* tried at every place, as inside the whole (see mt_pattern_compile) */
    pcre2_code *c =
        pcre2_compile((PCRE2_SPTR)b->src, b->len, p->opts | PCRE2_NO_DOTSTAR_ANCHOR, &ec, &off, NULL);
    if (c == NULL)
        return 0;
    publish(&b->code.re, c);
    return 1;
}

int mt_pattern_match(mt_pattern *p, const mt_pattern_text *t, const char *s, size_t n, size_t start,
                     pcre2_match_data *md)
{
    int utf8 = t ? t->utf8 : -1;
    if (t && p->nbranches) {
        /* the alternation matches where one of its branches does: only
         * the branches whose literals are all there are run */
        for (int i = 0; i < p->nbranches; i++) {
            unsigned key = p->keys[i];
            if (key != NOKEY && !((t->pairs[key >> 6] >> (key & 63)) & 1))
                continue; /* holds() would say so, at more cost */
            branch *b = &p->branches[i];
            if (!holds(&b->screen, t))
                continue;
            int rc = branch_ready(p, b) ? lazy_match(&b->code, &utf8, s, n, start, md) : PCRE2_ERROR_NOMEMORY;
            if (rc >= 0)
                return rc;
            if (rc != PCRE2_ERROR_NOMATCH) /* a limit or no memory: as the whole would be */
                return lazy_match(&p->code, &utf8, s, n, start, md);
        }
        return PCRE2_ERROR_NOMATCH;
    }
    if (t && !mt_pattern_may_match(p, t))
        return PCRE2_ERROR_NOMATCH;
    return lazy_match(&p->code, &utf8, s, n, start, md);
}

/* ---- subjects ---- */

mt_pattern_text *mt_pattern_text_new(void)
{
    mt_pattern_text *t = mt_xcalloc(1, sizeof *t);
    mt_buf_init(&t->copy);
    mt_buf_init(&t->low);
    return t;
}

void mt_pattern_text_free(mt_pattern_text *t)
{
    if (t == NULL)
        return;
    mt_buf_free(&t->copy);
    mt_buf_free(&t->low);
    free(t);
}

static void add(mt_pattern_text *t, unsigned prev, unsigned char c, int first)
{
    t->one[c >> 6] |= (uint64_t)1 << (c & 63);
    if (!first) {
        unsigned v = prev << 8 | c;
        t->pairs[v >> 6] |= (uint64_t)1 << (v & 63);
    }
}

const mt_pattern_text *mt_pattern_text_of(mt_pattern_text *t, const char *s, size_t n)
{
    if (t->valid && t->copy.len == n && (n == 0 || memcmp(t->copy.data, s, n) == 0))
        return t;
    memset(t->pairs, 0, sizeof t->pairs);
    memset(t->one, 0, sizeof t->one);
    const unsigned char *u = (const unsigned char *)s;
    unsigned char hi = 0, prev = 0;
    mt_buf_reset(&t->low);
    mt_buf_reserve(&t->low, n + 1);
    unsigned char *lo = (unsigned char *)t->low.data;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = lower(u[i]);
        hi |= u[i];
        add(t, prev, c, i == 0);
        lo[i] = c;
        prev = c;
    }
    t->low.len = n;
    t->exact = 1;
    if (hi >= 0x80 && (memmem(s, n, "\xe2\x84\xaa", 3) || memmem(s, n, "\xc5\xbf", 2))) {
        t->exact = 0; /* a literal's k or s may be one of them */
        /* KELVIN SIGN and LONG S as the letters they match caselessly */
        prev = 0;
        for (size_t i = 0; i < n;) {
            unsigned char c = lower(u[i]);
            size_t step = 1;
            if (i + 3 <= n && memcmp(u + i, "\xe2\x84\xaa", 3) == 0)
                c = 'k', step = 3;
            else if (i + 2 <= n && memcmp(u + i, "\xc5\xbf", 2) == 0)
                c = 's', step = 2;
            add(t, prev, c, i == 0);
            prev = c;
            i += step;
        }
    }
    t->utf8 = hi < 0x80 || utf8_valid(s, n);
    mt_buf_reset(&t->copy);
    mt_buf_append(&t->copy, s, n);
    t->valid = 1;
    return t;
}
