/*
 * classify.h - complete an attempt record: provider from the recipient
 * domain and MX host, category and rule meaning from the reply (SPEC §4).
 * Stage, code and enhanced status come from the readers, which know the
 * dialogue their log describes.
 *
 * A classifier caches its answers (bounded) so that the regexes run once
 * per distinct reply text, not once per line.  One classifier per thread.
 */
#ifndef MT_CLASSIFY_H
#define MT_CLASSIFY_H

#include "record.h"
#include "rules.h"

typedef struct mt_classifier mt_classifier;

/* mt_classifier_new - a classifier over rules, which the caller keeps
 * alive for the classifier's lifetime. */
mt_classifier *mt_classifier_new(const mt_rules *rules);
void mt_classifier_free(mt_classifier *c);

/* mt_classify - set a->provider, a->category, a->rule_meaning and
 * a->rule_flags.  Reads recipient_domain, mx_host, reply_text, status.
 * Returned strings are owned by the rules or the classifier and outlive
 * the record's callback. */
void mt_classify(mt_classifier *c, mt_attempt *a);

/* mt_classify_provider - the provider mt_classify would give an attempt
 * to the recipient domain dom[0..dn) through the MX host mx[0..mn) (either
 * may be empty), as they are logged, in any case.  Through a small cache
 * of the bytes as given, so that a run of lines to one domain costs a
 * compare each.  The string belongs to the rules. */
const char *mt_classify_provider(mt_classifier *c, const char *dom, size_t dn, const char *mx, size_t mn);

/* mt_classify_logged - mt_classify for an attempt known by what its line
 * logs: the recipient domain dom[0..dn) and MX host mx[0..mn) in any case
 * (either may be empty), its status, and its reply reply[0..rn) (read only
 * when the attempt failed).  Sets a->provider, a->category,
 * a->rule_meaning and a->rule_flags; reads nothing of a. */
void mt_classify_logged(mt_classifier *c, const char *dom, size_t dn, const char *mx, size_t mn,
                        mt_status status, const char *reply, size_t rn, mt_attempt *a);

/* mt_classify_reply - classify a bare reply for a provider (used by
 * tests and `mailtriage classify`).  Returns the rule index or -1. */
int mt_classify_reply(mt_classifier *c, const char *provider, const char *reply, mt_rule_hit *hit);

#endif
