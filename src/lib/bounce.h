/*
 * bounce.h - bounce mails into attempt records (SPEC §3): RFC 3464
 * delivery status notifications, RFC 3834 auto-replies, ARF feedback
 * reports and the non-standard notices of real MTAs.  One record per
 * recipient, in the order the bounce lists them.  MIME and charsets are
 * GMime's; what is specific to bounces is ours (bounce_lhost.c for the MTAs'
 * own texts, bounce_reason.c for status, reply code and reason).
 */
#ifndef MT_BOUNCE_H
#define MT_BOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "bounce_reason.h"
#include "classify.h"
#include "record.h"

typedef enum mt_bounce_kind {
    MT_BOUNCE_FAILURE = 0, /* bounced: the recipient was refused */
    MT_BOUNCE_DELAY,       /* a delay warning (Action: delayed) */
    MT_BOUNCE_DELIVERED,   /* a success notice (Action: delivered/relayed/expanded) */
    MT_BOUNCE_AUTOREPLY,   /* RFC 3834 auto-reply (vacation) */
    MT_BOUNCE_COMPLAINT,   /* ARF feedback report */
} mt_bounce_kind;

/* What a bounce says besides the SPEC §3 record.  Strings are valid only
 * during the callback. */
typedef struct mt_bounce_info {
    mt_bounce_kind kind;
    const char *reason;        /* Sisimai v5 vocabulary: "userunknown", … */
    const char *action;        /* DSN Action ("failed", "delayed", …) or "" */
    const char *feedback_type; /* ARF Feedback-Type, or "" */
    const char *format;        /* what decided: "rfc3464", "arf", "rfc3834", "text" */
} mt_bounce_info;

/* mt_bounce_fn - receives each recipient's record. */
typedef void (*mt_bounce_fn)(const mt_attempt *a, const mt_bounce_info *info, void *arg);

typedef struct mt_bounce_parser mt_bounce_parser;

/* mt_bounce_parser_new - a parser that decides reasons with reasons (may
 * be NULL: status codes only) and completes records with cls (may be
 * NULL: no provider).  Both stay owned by the caller and must outlive the
 * parser.  One parser per thread. */
mt_bounce_parser *mt_bounce_parser_new(const mt_bounce_reasons *reasons, mt_classifier *cls);
void mt_bounce_parser_free(mt_bounce_parser *p);

/* mt_bounce_parse - one message in buf[0..n) (LF, CRLF or CR line ends;
 * an mbox "From " line first is skipped).  Calls fn for each recipient.
 * Returns the number of records, 0 when the message is not a bounce (or
 * names no recipient), -1 when it is not a mail message at all.  source
 * names the message in the records (file, or file:offset in an mbox). */
int mt_bounce_parse(mt_bounce_parser *p, const char *buf, size_t n, const char *source, mt_bounce_fn fn,
                    void *arg);

/* mt_bounce_sniff - cheap: does buf[0..n) (the start of an input) look like
 * a mail message or an mbox?  True when it starts with an mbox "From "
 * line or with RFC 5322 header fields among which a Received, From, Date,
 * Return-Path, Message-ID, Subject or MIME-Version field. */
int mt_bounce_sniff(const char *buf, size_t n);

/* mt_bounce_reason_category - our category (SPEC §4) for a bounce reason. */
mt_category mt_bounce_reason_category(const char *reason);

/* What mt_bounce_read saw. */
typedef struct mt_bounce_stats {
    uint64_t files;      /* files read */
    uint64_t messages;   /* messages found (an mbox holds many) */
    uint64_t bounces;    /* messages that gave records */
    uint64_t not_bounce; /* mail messages that are no bounce */
    uint64_t not_mail;   /* inputs that are not mail messages at all */
    uint64_t unreadable; /* files or directories that could not be read */
    uint64_t records;
    uint64_t by_kind[5]; /* records per mt_bounce_kind */
} mt_bounce_stats;

/* mt_bounce_read - every message under path (mailbox.h: a file, an mbox,
 * a Maildir or folder, "-" for stdin) through p into fn; counts in st
 * (accumulated, the caller zeroes it once).  Returns 0, or -1 with a
 * message in err when path cannot be read. */
int mt_bounce_read(mt_bounce_parser *p, const char *path, mt_bounce_fn fn, void *arg, mt_bounce_stats *st,
                   mt_buf *err);

/* mt_bounce_read_paths - every message under paths[0..n) ("-": stdin)
 * parsed by nthreads workers (processes when every input is a file and
 * there are a few thousand of them, else threads), each with its own
 * parser, classifier over
 * rules (may be NULL) and share of the reason phrases (loaded once by the
 * caller, who keeps them until this returns); fn gets the records in input
 * order, on the calling thread.  Counts into st (accumulated).  Returns
 * how many inputs could not be read (the last error in err), or -1 when
 * reasons is NULL. */
int mt_bounce_read_paths(const char *const *paths, int n, int nthreads, const mt_bounce_reasons *reasons,
                         const mt_rules *rules, mt_bounce_fn fn, void *arg, mt_bounce_stats *st, mt_buf *err);

/* The same in two steps, so that the inputs are listed (and standard
 * input read) while the caller still loads the rules and phrases:
 * mt_bounce_inputs_list lists paths[0..n) (never fails: what cannot be
 * read is counted, and reported by mt_bounce_inputs_read as
 * mt_bounce_read_paths would); mt_bounce_inputs_read reads them as
 * mt_bounce_read_paths does and frees in; mt_bounce_inputs_free frees
 * inputs that are not to be read. */
typedef struct mt_bounce_inputs mt_bounce_inputs;
mt_bounce_inputs *mt_bounce_inputs_list(const char *const *paths, int n);
int mt_bounce_inputs_read(mt_bounce_inputs *in, int nthreads, const mt_bounce_reasons *reasons,
                          const mt_rules *rules, mt_bounce_fn fn, void *arg, mt_bounce_stats *st,
                          mt_buf *err);
void mt_bounce_inputs_free(mt_bounce_inputs *in);

/* mt_bounce_attempts - the same for a list of paths, handing plain
 * attempt records to fn (for `diagnose --bounces`: the records of the
 * bounces feed the diagnosis like log records).  Returns the number of
 * paths that could not be read. */
int mt_bounce_attempts(mt_bounce_parser *p, const char *const *paths, int n,
                       void (*fn)(const mt_attempt *, void *), void *arg, mt_bounce_stats *st, mt_buf *err);
#endif
