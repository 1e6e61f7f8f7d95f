/*
 * fuzz_pattern.c - libFuzzer target for mt_pattern's literal reader, its
 * branch splitting, its screen and its choice of engine: the input's first
 * line is a pattern (its first byte picks the options), every further line
 * a subject.  Each subject is matched several times by the same
 * mt_patterns (so by the interpreter on their first runs and by the JIT
 * after, where mt_pattern interprets); any answer other than the one
 * pcre2_match gives on the whole pattern by mt_pattern's contract
 * (pattern.c, lazy_match) aborts:
 *  - a subject that is not valid UTF-8 (PCRE2's own check says so): the
 *    JIT's answer, on every run (PCRE2 10.42's interpreter and JIT
 *    disagree on some invalid UTF-8: "a\Z" on "a\xff");
 *  - a valid one: the JIT's answer where it gives one, else the
 *    interpreter's; and where both give one they must be the same (what
 *    lets mt_pattern interpret first), else this aborts too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

#define RUNS 6 /* runs of each subject: past mt_pattern's interpreted runs */

static int is_answer(int rc)
{
    return rc >= 0 || rc == PCRE2_ERROR_NOMATCH;
}

static const uint32_t option_sets[] = {
    0,
    PCRE2_CASELESS,
    PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
    PCRE2_CASELESS | PCRE2_MULTILINE,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t opts = option_sets[data[0] % 4];
    const char *pat = (const char *)data + 1;
    const char *nl = memchr(pat, '\n', size - 1);
    size_t pl = nl ? (size_t)(nl - pat) : size - 1;
    int ec;
    size_t off;
    PCRE2_SIZE poff;
    pcre2_code *plain = pcre2_compile((PCRE2_SPTR)pat, pl, opts, &ec, &poff, NULL);
    pcre2_code *jit = plain ? pcre2_code_copy(plain) : NULL;
    if (jit != NULL)
        (void)pcre2_jit_compile(jit, PCRE2_JIT_COMPLETE); /* none on some platforms: interpreted */
    mt_pattern *whole = mt_pattern_compile(pat, pl, opts, 0, &ec, &off);
    mt_pattern *split = mt_pattern_compile(pat, pl, opts, MT_PATTERN_YESNO, &ec, &off);
    if ((plain == NULL) != (whole == NULL) || (plain == NULL) != (split == NULL))
        abort(); /* compiles exactly when PCRE2 does */
    if (plain == NULL)
        return 0;
    if (jit == NULL)
        abort();
    /* PCRE2's check of UTF-8: the empty pattern in UTF mode without
     * PCRE2_MATCH_INVALID_UTF fails on a subject that is not valid */
    pcre2_code *utf = pcre2_compile((PCRE2_SPTR) "", 0, PCRE2_UTF, &ec, &poff, NULL);
    if (utf == NULL)
        abort();
    pcre2_match_data *md = pcre2_match_data_create(8, NULL);
    mt_pattern_text *t = mt_pattern_text_new();
    const char *s = nl ? nl + 1 : NULL, *end = (const char *)data + size;
    while (s && s <= end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
        int valid = pcre2_match(utf, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
        int by_jit = pcre2_match(jit, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
        int by_interp = pcre2_match(plain, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
        if (valid && is_answer(by_jit) && is_answer(by_interp) && (by_jit >= 0) != (by_interp >= 0))
            abort(); /* the engines disagree on valid UTF-8 */
        int want = !valid || is_answer(by_jit) ? by_jit : by_interp;
        for (int r = 0; r < RUNS && is_answer(want); r++) { /* not a resource limit */
            const mt_pattern_text *tt = mt_pattern_text_of(t, s, n);
            int a = mt_pattern_match(whole, tt, s, n, 0, md) >= 0;
            int b = mt_pattern_match(split, tt, s, n, 0, md) >= 0;
            int c = mt_pattern_match(split, NULL, s, n, 0, md) >= 0;
            if (a != (want >= 0) || b != (want >= 0) || c != (want >= 0))
                abort();
            if (want >= 0 && (!mt_pattern_may_match(whole, tt) || !mt_pattern_may_match(split, tt)))
                abort();
        }
        s = e ? e + 1 : NULL;
    }
    mt_pattern_text_free(t);
    pcre2_match_data_free(md);
    mt_pattern_free(whole);
    mt_pattern_free(split);
    pcre2_code_free(utf);
    pcre2_code_free(jit);
    pcre2_code_free(plain);
    return 0;
}
