/*
 * pattern.h - a PCRE2 pattern of the data files (rules.tsv,
 * bounce-reasons.tsv), compiled once and matched many times, at less cost
 * than pcre2_match on every pattern:
 *
 *  - screened: when compiled, the pattern's syntax is read for the literal
 *    text every match must contain ("hl:rep" in \b421\b.*\bHL:REP\b; one
 *    of "full mailbox", "over" in full mailbox|over ?quota).  A subject is
 *    summed up once (mt_pattern_text: which byte pairs it holds, case
 *    folded, and its lower-case copy, where a literal whose pairs are all
 *    there is looked for itself); a pattern whose literals are not all
 *    there cannot match it and is not run.  The screen only ever skips patterns that cannot
 *    match: every answer is pcre2_match's own.
 *  - split: when only whether it matches is asked (MT_PATTERN_YESNO), an
 *    alternation is matched one branch at a time, and only the branches
 *    whose own literals are there are run (a reason's phrases are one
 *    alternation of some hundred branches, of which a text holds the
 *    literals of a few).
 *  - JIT compiled lazily: a pattern or branch is interpreted for its first
 *    few runs (or bytes of subject), then JIT compiled on a copy published
 *    atomically (patterns are shared by threads).  A small input does not
 *    pay for compiling what it runs once or never.  Which engine answers
 *    is a function of the subject alone, so a reply never changes its
 *    class with the order of the runs: PCRE2 10.42's interpreter and JIT
 *    disagree on some subjects with invalid UTF-8 under
 *    PCRE2_MATCH_INVALID_UTF (an assertion like \Z next to an invalid
 *    byte; found by fuzz_pattern), so a subject that is not valid UTF-8
 *    always gets the JIT's answer; a valid one gets the JIT's answer where
 *    the JIT gives one (else the interpreter's, the JIT having hit a
 *    limit), and the interpreter, which agrees there, may give it first.
 */
#ifndef MT_PATTERN_H
#define MT_PATTERN_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

/* mt_pattern_compile flag: only whether the pattern matches is asked,
 * not where nor what its groups hold.  A top-level alternation is then
 * matched a branch at a time, and only the branches whose literals the
 * subject holds are run (md then holds that branch's match). */
#define MT_PATTERN_YESNO 1u

typedef struct mt_pattern mt_pattern;
typedef struct mt_pattern_text mt_pattern_text;

/* mt_pattern_compile - pcre2_compile pat[0..n) with options opts (n may be
 * PCRE2_ZERO_TERMINATED) and flags (MT_PATTERN_*).  NULL on error, with
 * PCRE2's error code and offset in *errcode and *erroff (for
 * pcre2_get_error_message). */
mt_pattern *mt_pattern_compile(const char *pat, size_t n, uint32_t opts, unsigned flags, int *errcode,
                               size_t *erroff);
void mt_pattern_free(mt_pattern *p);

/* mt_pattern_match - pcre2_match(p, s[0..n), start, md) (its return
 * value: >= 0 a match, and md holds the match and any mark).  t is NULL
 * or the summary of exactly s[0..n) (mt_pattern_text_of): then a pattern
 * that cannot match s is not run and PCRE2_ERROR_NOMATCH is returned.  p
 * may be matched by several threads at once, each with its own md and
 * t. */
int mt_pattern_match(mt_pattern *p, const mt_pattern_text *t, const char *s, size_t n, size_t start,
                     pcre2_match_data *md);

/* mt_pattern_may_match - 0 when t's subject lacks a literal that every
 * match of p contains (p cannot match it); 1 otherwise. */
int mt_pattern_may_match(const mt_pattern *p, const mt_pattern_text *t);

/* mt_pattern_screened - 1 when p's screen can rule a subject out (each
 * branch has literals), 0 when every subject is run.  For tests. */
int mt_pattern_screened(const mt_pattern *p);

/* mt_pattern_branches - how many branches p is matched by (1: as a
 * whole).  For tests. */
int mt_pattern_branches(const mt_pattern *p);

/* mt_pattern_jitted - has p as a whole been JIT compiled (it is after a
 * few runs, or its first on a subject that is not valid UTF-8, where PCRE2
 * has a JIT)?  For tests. */
int mt_pattern_jitted(const mt_pattern *p);

/* mt_pattern_text_new/free - the summary of one subject at a time, owned
 * by one thread (8 KB). */
mt_pattern_text *mt_pattern_text_new(void);
void mt_pattern_text_free(mt_pattern_text *t);

/* mt_pattern_text_of - t made the summary of s[0..n) (kept as it is when
 * the previous subject had the same bytes); returns t. */
const mt_pattern_text *mt_pattern_text_of(mt_pattern_text *t, const char *s, size_t n);

#endif
