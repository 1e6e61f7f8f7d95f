/*
 * analysis.h - aggregate attempt records into the figures of a diagnosis
 * (SPEC §5): totals, per provider and recipient domain, per SMTP stage,
 * per sender cohort (route / sending IP / envelope domain / provider),
 * and the commonest replies.  Memory grows with the number of cohorts and
 * distinct replies (bounded), never with the number of attempts.
 *
 * The result is plain read-only data owned by the mt_diag; the report
 * writers (report_json.c, report_text.c) render it.
 */
#ifndef MT_ANALYSIS_H
#define MT_ANALYSIS_H

#include <stdint.h>
#include <stdio.h>

#include "record.h"

typedef struct mt_counts {
    uint64_t attempts, accepted, deferred, bounced, expired;
    /* recipients, counted on their last attempt in the input */
    uint64_t recipients, delivered, rcpt_bounced, rcpt_expired, pending;
} mt_counts;

typedef struct mt_reply_stat {
    char *text;    /* normalised: ids and local parts masked */
    char *example; /* one real reply, as logged (local part redacted) */
    mt_stage stage;
    mt_category category;
    int code;
    char enhanced[16];
    const char *meaning; /* from the rules; owned by the rules */
    unsigned flags;
    uint64_t count;
    int64_t first, last;
} mt_reply_stat;

typedef struct mt_domain_stat {
    const char *domain;
    mt_counts c;
} mt_domain_stat;

/* The dimensions a provider's attempts are split by to find the cohort
 * that stands out; their names are SPEC §3 field names. */
typedef enum mt_dim {
    MT_DIM_ROUTE = 0,
    MT_DIM_SENDING_IP,
    MT_DIM_HELO,
    MT_DIM_MAIL_FROM,
    MT_DIM_HEADER_FROM,
    MT_DIM_TEMPLATE,
    MT_DIM_ATTACHMENTS,
    MT_DIM_SIZE, /* a size band, e.g. "100KB-1MB" */
    MT_DIM_RECIPIENT_DOMAIN,
    MT_DIM_COUNT
} mt_dim;

const char *mt_dim_name(mt_dim d);

typedef struct mt_cohort_stat {
    mt_dim dim;
    char *value;
    mt_counts c;
    /* next to the counts: what every attempt updates is on two cache lines */
    int64_t first, last, first_failure, last_failure;
    uint64_t failed_by_stage[MT_STAGE_COUNT]; /* deferred or refused */
    uint64_t failed_by_category[MT_CAT_COUNT];
    uint64_t refused_by_category[MT_CAT_COUNT]; /* the permanent (5xx) part */
    uint64_t generic_failures;                  /* replies that are a generic front-end text */
    uint64_t fail_domain_bits;                  /* recipient domains of its failures, hashed into 64 bits */
} mt_cohort_stat;

/* One time bucket of a provider's attempts: an hour, or five minutes. */
#define MT_BUCKET_SENDERS 8
typedef struct mt_hour_stat {
    int64_t hour; /* start, epoch seconds */
    uint64_t attempts, accepted, deferred, bounced;
    /* first attempts only: how the receiver treated new mail in the bucket,
     * whatever the retry timers made of the old */
    uint64_t first_attempts, first_deferred;
    int64_t first_failure, last_failure; /* within the bucket */
    /* envelope domains deferred in the bucket: the first few exactly (as
     * hashes), all of them as bits of a 64-bit set */
    uint64_t senders[MT_BUCKET_SENDERS];
    int nsenders;
    uint64_t sender_bits;
    int failing_senders; /* exact up to MT_BUCKET_SENDERS, a floor above */
} mt_hour_stat;

#define MT_SLOT_SECONDS 300

#define MT_RETRY_BUCKETS 6
#define MT_DELAY_BUCKETS 7
#define MT_EXAMPLES      10

/* What became of recipients, especially those that were deferred. */
typedef struct mt_retry_stat {
    uint64_t recipients;
    uint64_t deferred_rcpts;        /* at least one deferral */
    uint64_t delivered_after_retry; /* ... then delivered */
    uint64_t expired, pending, bounced_after_deferral;
    uint64_t first_deferred;            /* their first attempt was deferred */
    uint64_t greylist_like;             /* ... at RCPT/greeting, and the next try,
                                           3 to 60 minutes later, was accepted */
    uint64_t retries[MT_RETRY_BUCKETS]; /* delivered after 1, 2, 3, 4-5, 6-10, >10 retries */
    uint64_t delays[MT_DELAY_BUCKETS];  /* first try to delivery: <5m, <15m, <1h, <4h, <24h, <3d, more */
    uint64_t keep;                      /* only ever 4xx: valid addresses, never suppress */
    uint64_t suppress;                  /* refused permanently as not existing */
    char *keep_examples[MT_EXAMPLES];
    char *suppress_examples[MT_EXAMPLES];
    int nkeep_examples, nsuppress_examples;
} mt_retry_stat;

extern const char *const mt_retry_bucket_names[MT_RETRY_BUCKETS];
extern const char *const mt_delay_bucket_names[MT_DELAY_BUCKETS];

typedef struct mt_provider_stat {
    const char *name;
    mt_counts c;
    mt_domain_stat **domains; /* sorted by attempts, descending */
    int ndomains;
    mt_reply_stat **replies; /* sorted by count, descending */
    int nreplies;
    uint64_t replies_dropped; /* failures beyond the distinct-reply cap */
    uint64_t deferred_by_stage[MT_STAGE_COUNT];
    uint64_t failed_by_stage[MT_STAGE_COUNT];
    uint64_t failed_by_category[MT_CAT_COUNT];
    uint64_t refused_by_category[MT_CAT_COUNT];
    uint64_t generic_failures;
    int64_t first_failure, last_failure;
    mt_cohort_stat **cohorts; /* every dimension's values, by dimension then attempts */
    int ncohorts;
    mt_hour_stat *hours; /* in time order, hours with attempts only */
    int nhours;
    mt_hour_stat *slots; /* the same in five-minute buckets */
    int nslots;
    mt_retry_stat retry;
} mt_provider_stat;

typedef struct mt_stage_stat {
    mt_stage stage;
    mt_counts c;
    uint64_t failed_by_category[MT_CAT_COUNT];
} mt_stage_stat;

typedef struct mt_sender_stat {
    const char *route, *sending_ip, *helo_name, *mail_from_domain, *provider;
    mt_counts c;
    int64_t first, last, first_failure, last_failure;
    const char *pattern; /* none | intermittent | persistent */
    const char *band;    /* low | warning | critical */
    int ndomains;        /* distinct recipient domains (up to hash collisions in 64 bits) */
} mt_sender_stat;

typedef struct mt_diag_result {
    mt_counts totals;
    uint64_t messages;
    int64_t first, last;          /* time span of the attempts */
    mt_provider_stat **providers; /* sorted by attempts, descending */
    int nproviders;
    mt_stage_stat stages[MT_STAGE_COUNT];
    mt_sender_stat **senders; /* sorted by failures, descending */
    int nsenders;
} mt_diag_result;

typedef struct mt_diag mt_diag;

/* mt_diag_new - an empty aggregation.  show_recipients: keep local parts
 * in example replies (otherwise they are masked). */
mt_diag *mt_diag_new(int show_recipients);
void mt_diag_free(mt_diag *d);

/* mt_diag_set_lists - write, as CSV rows, every recipient that only ever
 * saw temporary failures and is still queued or expired (keep: a valid
 * address, never to be suppressed) and every recipient refused as not
 * existing (suppress).  Files stay the caller's; NULL for none. */
void mt_diag_set_lists(mt_diag *d, FILE *keep, FILE *suppress);

/* mt_diag_add - count one attempt (an mt_attempt_fn). */
void mt_diag_add(const mt_attempt *a, void *diag);

/* mt_diag_finish - sort, band and return the result, owned by d. */
const mt_diag_result *mt_diag_finish(mt_diag *d);

#endif
