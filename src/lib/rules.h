/*
 * rules.h - the reply rules and provider vocabularies, loaded from the
 * rules data file (data/rules.tsv) once and compiled once (PCRE2 JIT).
 *
 * File format, one tab-separated rule a line, '#' comments:
 *   provider NAME domains DOMAIN…          recipient domains (and subdomains)
 *   provider NAME mx      REGEX            MX host names
 *   reply    PROVIDER|*  CATEGORY ACTION FLAGS REGEX MEANING
 * Reply rules are tried in file order; the first whose provider matches
 * (or is '*') and whose regex matches "CODE ENH TEXT" wins.
 */
#ifndef MT_RULES_H
#define MT_RULES_H

#include <stddef.h>

#include "record.h"
#include "util.h"

typedef struct mt_rules mt_rules;

typedef struct mt_rule_hit {
    mt_category category;
    const char *action;  /* retry|backoff|nextday|fix|drop */
    const char *meaning; /* owned by the rules */
    unsigned flags;      /* MT_RULE_* */
    int line;            /* line in the rules file, for --explain */
} mt_rule_hit;

/* mt_rules_load - read and compile the rules file at path.  Returns NULL
 * and a message naming the file and line in err on any error: a broken
 * rules file is a configuration error, never silently half-loaded. */
mt_rules *mt_rules_load(const char *path, mt_buf *err);
void mt_rules_free(mt_rules *r);

/* mt_rules_provider - the provider of a recipient domain (exact or parent
 * domain listed), else of the MX host (mx regexes), else "other".  The
 * returned name is owned by the rules.  Inputs need not be lower case. */
const char *mt_rules_provider(const mt_rules *r, const char *domain, size_t dn, const char *mx, size_t mxn);

/* mt_rules_match - the index of the first reply rule for provider that
 * matches reply[0..n), or -1.  md is scratch space from
 * mt_rules_match_data_new (one per thread). */
int mt_rules_match(const mt_rules *r, const char *provider, const char *reply, size_t n, void *md);

/* mt_rules_hit - describe rule number idx (from mt_rules_match). */
void mt_rules_hit(const mt_rules *r, int idx, mt_rule_hit *hit);

/* mt_rules_match_data_new/free - PCRE2 match data sized for these rules. */
void *mt_rules_match_data_new(const mt_rules *r);
void mt_rules_match_data_free(void *md);

/* mt_rules_default_path - where the rules file is looked for when the user
 * names none: $MAILTRIAGE_RULES, then next to the executable
 * (../data/rules.tsv, ../share/mailtriage/rules.tsv), then the install
 * path.  Writes the first that exists into out; returns 0 if none. */
int mt_rules_default_path(const char *argv0, char *out, size_t outlen);

#endif
