/*
 * record.h - the attempt record (SPEC §3): one delivery attempt to one
 * recipient, whatever log or bounce it came from.  Readers fill it,
 * classification completes it, analysis and outputs read it.
 *
 * The record is a plain value: its string members point into memory owned
 * by whoever produced the record (the correlator's per-message arena) and
 * are valid only for the duration of the callback that receives it.
 * NULL string members mean "the input does not say".
 */
#ifndef MT_RECORD_H
#define MT_RECORD_H

#include <stdint.h>

#include "util.h"

typedef enum mt_stage {
    MT_STAGE_UNKNOWN = 0,
    MT_STAGE_CONNECT,
    MT_STAGE_GREETING,
    MT_STAGE_HELO,
    MT_STAGE_STARTTLS,
    MT_STAGE_MAIL,
    MT_STAGE_RCPT,
    MT_STAGE_DATA,
    MT_STAGE_DATA_END,
    MT_STAGE_QUIT,
    MT_STAGE_COUNT
} mt_stage;

typedef enum mt_category {
    MT_CAT_NONE = 0, /* accepted: no failure to classify */
    MT_CAT_GREYLISTING,
    MT_CAT_RATE_LIMIT,
    MT_CAT_REPUTATION,
    MT_CAT_CONTENT,
    MT_CAT_AUTHENTICATION,
    MT_CAT_DNS,
    MT_CAT_POLICY,
    MT_CAT_RECEIVER_INTERNAL,
    MT_CAT_MAILBOX_FULL,
    MT_CAT_USER_UNKNOWN,
    MT_CAT_MAILBOX_DISABLED,
    MT_CAT_NETWORK,
    MT_CAT_TLS,
    MT_CAT_SIZE,
    MT_CAT_RELAY_DENIED,
    MT_CAT_EXPIRED,
    MT_CAT_OTHER,
    MT_CAT_COUNT
} mt_category;

/* What this one attempt ended with. */
typedef enum mt_status {
    MT_STATUS_SENT = 0,
    MT_STATUS_DEFERRED,
    MT_STATUS_BOUNCED,
    MT_STATUS_EXPIRED,
    MT_STATUS_COUNT
} mt_status;

/* What became of the recipient by the end of the input (SPEC §3). */
typedef enum mt_final {
    MT_FINAL_DELIVERED = 0,
    MT_FINAL_DEFERRED, /* still queued when the input ended */
    MT_FINAL_BOUNCED,
    MT_FINAL_EXPIRED,
    MT_FINAL_COUNT
} mt_final;

typedef struct mt_attempt {
    int64_t time;            /* seconds since the epoch, UTC */
    int32_t time_usec;       /* sub-second part when the log has it */
    const char *source_file; /* file name as given by the user */
    uint64_t source_line;
    const char *queue_id;
    const char *message_id;
    const char *route;
    const char *sending_ip;
    const char *helo_name;
    const char *mail_from_domain;
    const char *header_from_domain;
    const char *recipient;
    const char *recipient_domain;
    const char *provider; /* filled by classification */
    const char *mx_host;
    const char *mx_ip;
    const char *reply_text; /* the whole reply or local reason */
    const char *message_template_id;
    const char *attachment_types;
    const char *rule_meaning; /* classification: the matched rule's meaning */
    unsigned rule_flags;      /* classification: MT_RULE_* flags */
    int64_t message_size;     /* -1: unknown */
    double delay_seconds;     /* -1: unknown */
    int retry_count;
    int reply_code;    /* 0: none (local reason, no SMTP reply) */
    char enhanced[16]; /* "4.3.2" or "" */
    mt_stage stage;
    mt_category category;
    mt_status status;
    mt_final final_status;
    /* Correlation bookkeeping, not part of the SPEC §3 output: which
     * message and recipient this is, and whether it is the recipient's
     * last attempt in the input (its outcome). */
    uint64_t message_serial;
    unsigned rcpt_index;
    int last_for_rcpt;
    int64_t rcpt_first_time; /* time of the recipient's first attempt */
} mt_attempt;

/* Flags a reply rule may carry (rules file, FLAGS column). */
#define MT_RULE_GENERIC_FRONTEND    0x1u /* a front end's generic text hides the reason */
#define MT_RULE_PERMANENT_RECIPIENT 0x2u /* the address itself is invalid */

/* Name tables: the exact words of SPEC §3/§4, used in every output. */
const char *mt_stage_name(mt_stage s);
const char *mt_category_name(mt_category c);
const char *mt_status_name(mt_status s);
const char *mt_final_name(mt_final f);

/* mt_category_from_name - the category spelled by name[0..n), or -1. */
int mt_category_from_name(const char *name, size_t n);
/* mt_stage_from_name - the stage spelled by name[0..n), or -1. */
int mt_stage_from_name(const char *name, size_t n);

/* The fixed record fields, in output order: CSV header and NDJSON keys. */
extern const char *const mt_record_fields[];
extern const int mt_record_nfields;

/* mt_time_format - write t as RFC 3339 UTC ("2026-11-20T21:35:51Z", with
 * ".uuuuuu" when usec is non-zero) into out, which holds at least 32 bytes. */
void mt_time_format(int64_t t, int32_t usec, char *out);

/* mt_time_minutes - t as "2026-11-20 21:35" (UTC) into out (n >= 20
 * bytes), "-" for 0: the reports' short form. */
void mt_time_minutes(int64_t t, char *out, size_t n);

#endif
