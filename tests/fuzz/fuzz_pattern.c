/*
 * fuzz_pattern.c - libFuzzer target for mt_pattern's literal reader, its
 * branch splitting and its screen: the input's first line is a pattern
 * (its first byte picks the options), every further line a subject.  Any
 * answer other than pcre2_match's own on the whole pattern aborts, JIT
 * compiled as mt_pattern's are (PCRE2's interpreter and JIT disagree on
 * some invalid UTF-8; mt_pattern answers as the JIT does, as the code it
 * replaced did).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

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
    if (plain != NULL)
        (void)pcre2_jit_compile(plain, PCRE2_JIT_COMPLETE); /* none on some platforms: interpreted */
    mt_pattern *whole = mt_pattern_compile(pat, pl, opts, 0, &ec, &off);
    mt_pattern *split = mt_pattern_compile(pat, pl, opts, MT_PATTERN_YESNO, &ec, &off);
    if ((plain == NULL) != (whole == NULL) || (plain == NULL) != (split == NULL))
        abort(); /* compiles exactly when PCRE2 does */
    if (plain == NULL)
        return 0;
    pcre2_match_data *md = pcre2_match_data_create(8, NULL);
    mt_pattern_text *t = mt_pattern_text_new();
    const char *s = nl ? nl + 1 : NULL, *end = (const char *)data + size;
    while (s && s <= end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
        int want = pcre2_match(plain, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
        if (want >= 0 || want == PCRE2_ERROR_NOMATCH) { /* not a resource limit */
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
    pcre2_code_free(plain);
    return 0;
}
