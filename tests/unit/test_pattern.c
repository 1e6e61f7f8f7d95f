/*
 * test_pattern.c - mt_pattern (src/lib/pattern.c): screened, split and
 * lazily JIT compiled patterns answer exactly as pcre2_match does, on
 * patterns chosen to trip the literal reader (optional and repeated atoms,
 * groups, lookarounds, classes, escapes, option settings, UTF case
 * folding) and on many subjects made from each pattern's own bytes, each
 * run several times (interpreted first, JIT compiled after); the screen
 * does rule subjects out; JIT compilation waits for a few runs, but a
 * subject that is not valid UTF-8 always gets the JIT's answer (PCRE2
 * 10.42's interpreter answers otherwise on some); threads share patterns.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pattern.h"

#define UTF_CASELESS (PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)

typedef struct tcase {
    const char *pat;
    uint32_t opts;
} tcase;

static const tcase cases[] = {
    {"ab?c", 0},
    {"abc*d", 0},
    {"a+bc", 0},
    {"x{2}yz", 0},
    {"ab{1}c", 0},
    {"ab{2,}c", 0},
    {"ab{0,1}c", 0},
    {"abc{0}d", 0},
    {"a{,3}b", 0},
    {"a++b", 0},
    {"a?+bc", 0},
    {"(?>ab)c", 0},
    {"(?:foo|bar)baz", 0},
    {"(foo)?bar", 0},
    {"(?:x|y){0,2}z", 0},
    {"(?:a|)bc", 0},
    {"foo(?=bar)", 0},
    {"foo(?!bar)", 0},
    {"(?<!no )way", 0},
    {"(?<=ab)cd", 0},
    {"colou?r", PCRE2_CASELESS},
    {"[abc]def", 0},
    {"gr[ae]y", 0},
    {"[]a]bc", 0},
    {"[^]x]yz", 0},
    {"[[:alpha:]]+ok", 0},
    {"\\p{L}ok", UTF_CASELESS},
    {"\\bHL:REP\\b", UTF_CASELESS},
    {"\\b421\\b.*\\bHL:(?:MEP|REP)\\b", UTF_CASELESS},
    {"a|b|c", 0},
    {"(?:ab|cd)|(?:ef)", 0},
    {"(?:(?:ab|cd)|ef)|gh", 0},
    {"a(?i)b|c", 0},
    {"(?i)kelvin", UTF_CASELESS},
    {"kelvin|ask", UTF_CASELESS},
    {"(?-i)Sk", UTF_CASELESS},
    {"\\x41bc", 0},
    {"a\\.b", 0},
    {"a\\Qb.c\\Ed", 0},
    {"(?#comment)abc", 0},
    {"(?<name>foo)bar", 0},
    {"(?P<n>ab)\\1", 0},
    {"(?|(a)|(b))c", 0},
    {"caf(?:\xc3\xa9|e)s", UTF_CASELESS},
    {"\xc3\xa9t\xc3\xa9", UTF_CASELESS},
    {"(?m)^abc$", 0},
    {"(?s)a.b", 0},
    {"foo\\Kbar", 0},
    {"\\Nfoo", 0},
    {"\\d\\d\\d error", PCRE2_CASELESS},
    {"x\\sy|z\\w", 0},
    {"\xe3\x83\x87\xe3\x82\xa3|\xe3\x83\xaa", 0},
    {"(a(b(c)))d|e", 0},
    {"ab(*SKIP)c", 0},
    {"a#b c", 0},
    {"a}b]c", 0},
    /* "[." that is not "[.x.]" is a member ('[' then '.'): the class ends
     * at the first ']' and the empty branch after it matches anything */
    {"(?:m[x[.y]ab||]z.]q])", 0},
    {"[[:ab]c|d", 0},
};

/* the bytes subjects are made of: the pattern's own and some more */
static const char *const extras[] = {"A", "K",  "S", "\xe2\x84\xaa", "\xc5\xbf",
                                     " ", "\n", "1", "\xc3\xa9",     "\xff"};

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void make_subject(const char *pat, uint32_t *seed, char *out, size_t cap, size_t *n)
{
    size_t pl = strlen(pat), len = rnd(seed) % 14, o = 0;
    for (size_t i = 0; i < len; i++) {
        const char *tok;
        size_t tl;
        char one;
        if (rnd(seed) % 4 == 0) {
            tok = extras[rnd(seed) % (sizeof extras / sizeof extras[0])];
            tl = strlen(tok);
        } else if (rnd(seed) % 3 == 0 && pl > 2) {
            size_t a = rnd(seed) % pl; /* a slice of the pattern itself */
            tok = pat + a;
            tl = 1 + rnd(seed) % 4;
            if (a + tl > pl)
                tl = pl - a;
        } else {
            one = pat[rnd(seed) % pl];
            if (rnd(seed) % 2 && one >= 'a' && one <= 'z')
                one = (char)(one - 32);
            tok = &one;
            tl = 1;
        }
        if (o + tl >= cap)
            break;
        memcpy(out + o, tok, tl);
        o += tl;
    }
    *n = o;
}

/* PCRE2's own answer to "is s[0..n) valid UTF-8?": the empty pattern in
 * UTF mode without PCRE2_MATCH_INVALID_UTF fails on one that is not */
static int utf8_valid(const char *s, size_t n, pcre2_match_data *md)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *u = pcre2_compile((PCRE2_SPTR) "", 0, PCRE2_UTF, &ec, &off, NULL);
    assert_non_null(u);
    int ok = pcre2_match(u, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
    pcre2_code_free(u);
    return ok;
}

/* what mt_pattern must answer (pattern.c, lazy_match): the JIT's answer
 * on a subject that is not valid UTF-8; on a valid one, the JIT's and the
 * interpreter's, which must agree */
static int expected(const char *pat, pcre2_code *plain, pcre2_code *jit, const char *s, size_t n,
                    pcre2_match_data *md)
{
    int by_jit = pcre2_match(jit, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
    if (!utf8_valid(s, n, md))
        return by_jit;
    int by_interp = pcre2_match(plain, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
    if (by_jit != by_interp)
        fail_msg("%s on valid \"%.*s\": the interpreter says %d, the JIT %d", pat, (int)n, s, by_interp,
                 by_jit);
    return by_jit;
}

static void check_case(const tcase *c, unsigned flags, int *screened_any)
{
    int ec;
    size_t off;
    PCRE2_SIZE poff;
    mt_pattern *p = mt_pattern_compile(c->pat, PCRE2_ZERO_TERMINATED, c->opts, flags, &ec, &off);
    pcre2_code *plain = pcre2_compile((PCRE2_SPTR)c->pat, PCRE2_ZERO_TERMINATED, c->opts, &ec, &poff, NULL);
    assert_non_null(plain);
    assert_non_null(p);
    pcre2_code *jit = pcre2_code_copy(plain);
    assert_non_null(jit);
    (void)pcre2_jit_compile(jit, PCRE2_JIT_COMPLETE); /* none on some platforms: interpreted */
    *screened_any |= mt_pattern_screened(p);
    pcre2_match_data *md = pcre2_match_data_create(8, NULL);
    mt_pattern_text *t = mt_pattern_text_new();
    uint32_t seed = 2463534242u;
    char s[64];
    size_t n;
    for (int k = 0; k < 4000; k++) {
        make_subject(c->pat, &seed, s, sizeof s, &n);
        int want = expected(c->pat, plain, jit, s, n, md);
        const mt_pattern_text *tt = mt_pattern_text_of(t, s, n);
        if (want && !mt_pattern_may_match(p, tt))
            fail_msg("%s: the screen rules out \"%.*s\", which matches", c->pat, (int)n, s);
        for (int r = 0; r < 3; r++) { /* the same answer from either engine */
            int got = mt_pattern_match(p, tt, s, n, 0, md) >= 0;
            int whole = mt_pattern_match(p, NULL, s, n, 0, md) >= 0;
            if (got != want || whole != want)
                fail_msg("%s on \"%.*s\" (run %d): pcre2 %d, screened %d, whole %d", c->pat, (int)n, s, r,
                         want, got, whole);
        }
    }
    mt_pattern_text_free(t);
    pcre2_match_data_free(md);
    pcre2_code_free(jit);
    pcre2_code_free(plain);
    mt_pattern_free(p);
}

static void t_same_answers(void **state)
{
    (void)state;
    int screened = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_case(&cases[i], 0, &screened);
        check_case(&cases[i], MT_PATTERN_YESNO, &screened);
    }
    assert_true(screened);
}

/* the screen rules subjects out, and what it does not understand is run */
static void t_screen(void **state)
{
    (void)state;
    int ec;
    size_t off;
    mt_pattern *p =
        mt_pattern_compile("\\b421\\b.*\\bHL:REP\\b", PCRE2_ZERO_TERMINATED, UTF_CASELESS, 0, &ec, &off);
    assert_non_null(p);
    assert_int_equal(mt_pattern_screened(p), 1);
    mt_pattern_text *t = mt_pattern_text_new();
    const char *no = "421 4.7.0 try again later", *yes = "421 HL:REP too many";
    assert_int_equal(mt_pattern_may_match(p, mt_pattern_text_of(t, no, strlen(no))), 0);
    assert_int_equal(mt_pattern_may_match(p, mt_pattern_text_of(t, yes, strlen(yes))), 1);
    /* caseless UTF: the KELVIN SIGN is a k */
    mt_pattern *k = mt_pattern_compile("kelvin", PCRE2_ZERO_TERMINATED, UTF_CASELESS, 0, &ec, &off);
    const char *kel = "\xe2\x84\xaa"
                      "ELVIN";
    assert_int_equal(mt_pattern_may_match(k, mt_pattern_text_of(t, kel, strlen(kel))), 1);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    assert_true(mt_pattern_match(k, mt_pattern_text_of(t, kel, strlen(kel)), kel, strlen(kel), 0, md) >= 0);
    /* not understood: no screen */
    mt_pattern *q = mt_pattern_compile("a\\Qbc\\E", PCRE2_ZERO_TERMINATED, 0, 0, &ec, &off);
    assert_int_equal(mt_pattern_screened(q), 0);
    /* an alternation asked yes or no: by branches */
    mt_pattern *alt = mt_pattern_compile("(?:mailbox (is )?full|over ?quota)|(?:disk full)",
                                         PCRE2_ZERO_TERMINATED, 0, MT_PATTERN_YESNO, &ec, &off);
    assert_int_equal(mt_pattern_branches(alt), 3);
    mt_pattern *opt = mt_pattern_compile("a(?i)b|c", PCRE2_ZERO_TERMINATED, 0, MT_PATTERN_YESNO, &ec, &off);
    assert_int_equal(mt_pattern_branches(opt), 1);
    /* a broken pattern: PCRE2's error */
    assert_null(mt_pattern_compile("a(b", PCRE2_ZERO_TERMINATED, 0, 0, &ec, &off));
    assert_int_equal(off, 3);
    mt_pattern_free(p);
    mt_pattern_free(k);
    mt_pattern_free(q);
    mt_pattern_free(alt);
    mt_pattern_free(opt);
    pcre2_match_data_free(md);
    mt_pattern_text_free(t);
}

/* JIT compilation waits for a few runs, or for a long subject */
static void t_lazy_jit(void **state)
{
    (void)state;
    uint32_t jit = 0;
    (void)pcre2_config(PCRE2_CONFIG_JIT, &jit);
    int ec;
    size_t off;
    mt_pattern *p = mt_pattern_compile("user unknown", PCRE2_ZERO_TERMINATED, 0, 0, &ec, &off);
    assert_int_equal(mt_pattern_jitted(p), 0);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    mt_pattern_text *t = mt_pattern_text_new();
    const char *s = "550 5.1.1 mailbox full";
    /* ruled out by the screen: not run, not compiled */
    assert_true(mt_pattern_match(p, mt_pattern_text_of(t, s, strlen(s)), s, strlen(s), 0, md) < 0);
    assert_int_equal(mt_pattern_jitted(p), 0);
    /* run: interpreted, not compiled yet */
    assert_true(mt_pattern_match(p, NULL, s, strlen(s), 0, md) < 0);
    assert_int_equal(mt_pattern_jitted(p), 0);
    const char *u = "550 user unknown";
    int runs = 1;
    while (!mt_pattern_jitted(p) && runs < 100) {
        assert_true(mt_pattern_match(p, NULL, u, strlen(u), 0, md) >= 0);
        runs++;
    }
    /* compiled after a few runs (where PCRE2 has a JIT), answering the same */
    assert_int_equal(mt_pattern_jitted(p), jit ? 1 : 0);
    if (jit)
        assert_true(runs > 2 && runs < 10);
    assert_true(mt_pattern_match(p, NULL, u, strlen(u), 0, md) >= 0);
    assert_true(mt_pattern_match(p, NULL, s, strlen(s), 0, md) < 0);
    mt_pattern_free(p);
    /* a long subject: compiled after its first run */
    char big[2048];
    memset(big, 'x', sizeof big);
    memcpy(big + sizeof big - 12, "user unknown", 12);
    p = mt_pattern_compile("user unknown", PCRE2_ZERO_TERMINATED, 0, 0, &ec, &off);
    assert_true(mt_pattern_match(p, NULL, big, sizeof big, 0, md) >= 0);
    assert_int_equal(mt_pattern_jitted(p), 0);
    assert_true(mt_pattern_match(p, NULL, big, sizeof big, 0, md) >= 0);
    assert_int_equal(mt_pattern_jitted(p), jit ? 1 : 0);
    mt_pattern_free(p);
    pcre2_match_data_free(md);
    mt_pattern_text_free(t);
}

/* the engine is chosen by the subject, not by how many runs came before:
 * PCRE2 10.42's interpreter finds "a\Z" in "a\xff" under
 * PCRE2_MATCH_INVALID_UTF and its JIT does not, so a subject that is not
 * valid UTF-8 gets the JIT's answer from the first run on; a valid one
 * gets the same answer interpreted and compiled */
static void t_engine(void **state)
{
    (void)state;
    uint32_t jit = 0;
    (void)pcre2_config(PCRE2_CONFIG_JIT, &jit);
    int ec;
    size_t off;
    PCRE2_SIZE poff;
    const char *pat = "a\\Z";
    pcre2_code *interp =
        pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, UTF_CASELESS, &ec, &poff, NULL);
    pcre2_code *jitted = pcre2_code_copy(interp);
    int have_jit = jit && pcre2_jit_compile(jitted, PCRE2_JIT_COMPLETE) == 0;
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    const char *bad = "a\xff", *good = "xa";
    int jit_says = pcre2_match(jitted, (PCRE2_SPTR)bad, 2, 0, 0, md, NULL) >= 0;
    if (have_jit) /* the disagreement this guards against (gone in a later PCRE2: still the JIT's answer) */
        print_message("a\\Z on a\\xff: interpreter %d, JIT %d\n",
                      pcre2_match(interp, (PCRE2_SPTR)bad, 2, 0, 0, md, NULL) >= 0, jit_says);
    mt_pattern *p = mt_pattern_compile(pat, PCRE2_ZERO_TERMINATED, UTF_CASELESS, MT_PATTERN_YESNO, &ec, &off);
    mt_pattern_text *t = mt_pattern_text_new();
    for (int r = 0; r < 12; r++) {
        assert_int_equal(mt_pattern_match(p, NULL, bad, 2, 0, md) >= 0, jit_says);
        assert_int_equal(mt_pattern_match(p, mt_pattern_text_of(t, bad, 2), bad, 2, 0, md) >= 0, jit_says);
        assert_true(mt_pattern_match(p, NULL, good, 2, 0, md) >= 0);
    }
    mt_pattern_free(p);
    /* a branch starting with .* is tried at every place, as in the whole:
     * PCRE2 tries ".*L" alone only at line starts, and "." does not cross
     * the invalid byte, so alone it misses "c\xf0HL" (found by fuzz_pattern) */
    const char *dot = "c\xf0HL";
    p = mt_pattern_compile("kin|.*L", PCRE2_ZERO_TERMINATED, UTF_CASELESS, MT_PATTERN_YESNO, &ec, &off);
    assert_int_equal(mt_pattern_branches(p), 2);
    pcre2_code *whole =
        pcre2_compile((PCRE2_SPTR) "kin|.*L", PCRE2_ZERO_TERMINATED, UTF_CASELESS, &ec, &poff, NULL);
    int want = pcre2_match(whole, (PCRE2_SPTR)dot, 4, 0, 0, md, NULL) >= 0;
    assert_true(want);
    for (int r = 0; r < 12; r++)
        assert_int_equal(mt_pattern_match(p, mt_pattern_text_of(t, dot, 4), dot, 4, 0, md) >= 0, want);
    pcre2_code_free(whole);
    mt_pattern_free(p);
    /* every branch starting with .*: PCRE2 tries the whole only at line
     * starts, so it is matched whole, not split */
    p = mt_pattern_compile(".*kin|.*L", PCRE2_ZERO_TERMINATED, UTF_CASELESS, MT_PATTERN_YESNO, &ec, &off);
    assert_int_equal(mt_pattern_branches(p), 1);
    mt_pattern_free(p);
    /* the first run already on an invalid subject: compiled for it */
    p = mt_pattern_compile(pat, PCRE2_ZERO_TERMINATED, UTF_CASELESS, 0, &ec, &off);
    assert_int_equal(mt_pattern_match(p, NULL, bad, 2, 0, md) >= 0, jit_says);
    assert_int_equal(mt_pattern_jitted(p), have_jit);
    mt_pattern_free(p);
    mt_pattern_text_free(t);
    pcre2_match_data_free(md);
    pcre2_code_free(jitted);
    pcre2_code_free(interp);
}

/* threads share the patterns (JIT compiled by whichever runs first) */
typedef struct job {
    mt_pattern *p;
    int hits;
} job;

static void *run(void *arg)
{
    job *j = arg;
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    mt_pattern_text *t = mt_pattern_text_new();
    char s[64];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(s, sizeof s, i % 3 ? "550 %d over quota" : "550 %d no such user", i);
        j->hits += mt_pattern_match(j->p, mt_pattern_text_of(t, s, (size_t)n), s, (size_t)n, 0, md) >= 0;
    }
    mt_pattern_text_free(t);
    pcre2_match_data_free(md);
    return NULL;
}

static void t_threads(void **state)
{
    (void)state;
    int ec;
    size_t off;
    mt_pattern *p = mt_pattern_compile("(?:no such (user|mailbox))|(?:unknown user)", PCRE2_ZERO_TERMINATED,
                                       PCRE2_CASELESS, MT_PATTERN_YESNO, &ec, &off);
    job j[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        j[i].p = p;
        j[i].hits = 0;
        assert_int_equal(pthread_create(&t[i], NULL, run, &j[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(j[i].hits, 667); /* i % 3 == 0 for 0..1999 */
    }
    mt_pattern_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_same_answers), cmocka_unit_test(t_screen),  cmocka_unit_test(t_lazy_jit),
        cmocka_unit_test(t_engine),       cmocka_unit_test(t_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
