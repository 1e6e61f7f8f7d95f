/*
 * findings.h - the diagnosis proper (SPEC §5, issue 3): from the figures
 * of analysis.c, rank the likely causes of a provider's deferrals and
 * refusals, with the cohort that carries them, the pattern, a risk band,
 * a calibrated confidence, the evidence and the next steps.
 *
 * The reasoning follows the seed article: stage first; a cohort (route,
 * sending IP, envelope or header domain, template, attachment profile,
 * size band, recipient domain) whose failure rate stands out with a sample
 * large enough to mean something points at the sender or the message; many
 * unrelated senders failing in one window with retries succeeding points
 * at the receiver; the reply's own words decide greylisting, throttling,
 * authentication, refusals and recipients.  Every number in a finding is
 * computed from the input.
 */
#ifndef MT_FINDINGS_H
#define MT_FINDINGS_H

#include "analysis.h"

typedef struct mt_finding {
    const char *cause;     /* SPEC §5 cause word */
    const char *provider;  /* owned by the diagnosis result */
    const char *scope_key; /* SPEC §3 field name, NULL: the whole provider */
    char *scope_value;
    const char *pattern; /* none | intermittent | persistent */
    const char *band;    /* low | warning | critical */
    double confidence;   /* 0..1 */
    double weight;       /* ordering: failures explained x confidence */
    const char *stage;   /* the SMTP stage most failures were at */
    char *reply;         /* the commonest failing reply of the cohort/provider */
    int generic_reply;   /* that reply is a generic front-end text */
    int64_t first_failure, last_failure;
    uint64_t attempts, failures; /* of the cohort (or provider) */
    char *retry_outcome;         /* one line: what became of the deferred recipients */
    char **evidence;
    int nevidence;
    char **next_steps;
    int nnext_steps;
} mt_finding;

typedef struct mt_findings {
    mt_finding *v;
    int n;
    char *queue_advice; /* Postfix and Exim settings to paste, or NULL */
    char **limits;      /* what the logs alone cannot tell, said when it matters */
    int nlimits;
} mt_findings;

/* mt_findings_build - diagnose the result.  The findings are sorted, most
 * important first.  The caller frees them with mt_findings_free. */
mt_findings *mt_findings_build(const mt_diag_result *r);
void mt_findings_free(mt_findings *f);

/* mt_findings_fold - add a finding made outside the log analysis (the DNS
 * checks of `diagnose --check-dns`) and re-sort.  f takes over nf's
 * allocations (scope_value, reply, retry_outcome, evidence, next_steps;
 * all malloc'd or NULL) and zeroes *nf; cause, provider, pattern, band and
 * stage must outlive f. */
void mt_findings_fold(mt_findings *f, mt_finding *nf);

/* mt_findings_dns_checked - drop the "authentication and DNS were not
 * checked" limit: they were. */
void mt_findings_dns_checked(mt_findings *f);

/* mt_cause_words - a cause in a postmaster's words ("a temporary fault on
 * the receiver's side"); the cause itself when it has none. */
const char *mt_cause_words(const char *cause);

/* mt_findings_band - a provider's risk band: the highest band of its
 * findings with confidence 0.5 or more, else "low". */
const char *mt_findings_band(const mt_findings *f, const char *provider);

#endif
