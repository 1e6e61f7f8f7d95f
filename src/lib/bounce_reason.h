/*
 * bounce_reason.h - what a bounce's diagnostic says: the RFC 3463 status
 * and SMTP reply code found in free text, and the bounce reason in
 * Sisimai's v5 vocabulary (userunknown, mailboxfull, blocked, …) decided
 * from the status, the SMTP command and the phrases of
 * data/bounce-reasons.tsv.
 */
#ifndef MT_BOUNCE_REASON_H
#define MT_BOUNCE_REASON_H

#include <stddef.h>

#include "util.h"

typedef struct mt_bounce_reasons mt_bounce_reasons;

/* mt_bounce_reasons_load - read and compile the phrase file at path
 * (format at its top).  NULL and a message naming file and line in err on
 * any error. */
mt_bounce_reasons *mt_bounce_reasons_load(const char *path, mt_buf *err);

/* mt_bounce_reasons_share - the compiled phrases of base for one more
 * thread: the patterns are base's (read-only once compiled), the match
 * state its own.  base must outlive it; free it with
 * mt_bounce_reasons_free, which then frees only what is its own.  A set is
 * used by one thread at a time: each thread loads or shares its own. */
mt_bounce_reasons *mt_bounce_reasons_share(const mt_bounce_reasons *base);
void mt_bounce_reasons_free(mt_bounce_reasons *r);

/* mt_bounce_reasons_default_path - bounce-reasons.tsv beside the rules
 * file mt_rules_default_path finds ($MAILTRIAGE_RULES's directory, next
 * to the program, the install path).  0 when none exists. */
int mt_bounce_reasons_default_path(const char *argv0, char *out, size_t outlen);

/* mt_bounce_reasons_match - does text[0..n) (lower case) carry a phrase of
 * reason (a name such as "userunknown")?  0 for unknown reasons. */
int mt_bounce_reasons_match(const mt_bounce_reasons *r, const char *reason, const char *text, size_t n);

/* mt_bounce_reasons_scope - which "@lhost" (rhost 0: text is the bounce's
 * own header) or "@rhost" (rhost 1: text is the remote host's name or the
 * recipient's domain) line of the phrase file matches text[0..n) first:
 * its number (1-based) for mt_bounce_fact's lhost/rhost, or 0. */
int mt_bounce_reasons_scope(const mt_bounce_reasons *r, int rhost, const char *text, size_t n);

/* What the reason is decided from: one recipient of one bounce. */
typedef struct mt_bounce_fact {
    const char *status;  /* "5.1.1" or "" */
    const char *diag;    /* diagnostic text, lower case, white space folded */
    const char *dtype;   /* "SMTP", "X-Postfix", "X-Unix", or "" */
    const char *action;  /* "failed", "delayed", … or "" */
    const char *command; /* "RCPT", "MAIL", "DATA", "HELO", "EHLO", "CONN" or "" */
    const char *preset;  /* reason the format itself states, or NULL */
    int reply_code;      /* 0: none */
    int lhost;           /* mt_bounce_reasons_scope of the bounce's header; 0: none */
    int rhost;           /* mt_bounce_reasons_scope of the remote host; 0: none */
} mt_bounce_fact;

/* mt_bounce_reason_decide - the reason for one recipient (a static
 * string); never NULL ("undefined" when nothing says). */
const char *mt_bounce_reason_decide(const mt_bounce_reasons *r, const mt_bounce_fact *f);

/* mt_bounce_status_reason - the reason an RFC 3463 status alone implies
 * ("" when the status is too general to say). */
const char *mt_bounce_status_reason(const char *status);

/* mt_bounce_find_status - the first RFC 3463 status ("5.1.1", class 2, 4
 * or 5) standing alone in text[0..n) into out (16 bytes); returns its
 * offset or -1. */
long mt_bounce_find_status(const char *text, size_t n, char out[16]);

/* mt_bounce_find_status_replied - the same, preferring a status that
 * follows a reply code of its class ("550 5.7.1", "550-'5.7.1"): the first
 * such, or the last when last is set; else the first status at all. */
long mt_bounce_find_status_replied(const char *text, size_t n, char out[16], int last);

/* mt_bounce_find_code - the first SMTP reply code (2xx, 4xx or 5xx
 * standing alone, followed by a space, '-' or the end) in text[0..n)
 * whose class is cls ('2', '4', '5'; 0 for any); 0 if none. */
int mt_bounce_find_code(const char *text, size_t n, char cls);

/* mt_bounce_fold - text[0..n) lower-cased (ASCII), runs of white space
 * folded to one space, trimmed, into out (replacing its content). */
void mt_bounce_fold(const char *text, size_t n, mt_buf *out);

#endif
