/*
 * msgcheck.h - the message checks of `mailtriage check-message`: a list of
 * numbered checks, each pass / warn / fail / n/a with one line of why,
 * and the score over them.  One file per family of checks
 * (msgcheck_<family>.c); this header declares the list, the options all
 * families share, and each family's entry point.
 *
 * Check ids are stable (tests and users key on them): "<family>-<what>",
 * per-item checks add a number ("dkim-signature-1", "attachment-2-type").
 */
#ifndef MT_MSGCHECK_H
#define MT_MSGCHECK_H

#include <stddef.h>
#include <time.h>

#include "dkim.h"
#include "message.h"
#include "orgdomain.h"
#include "util.h"

typedef enum mt_check_status {
    MT_CHECK_PASS,
    MT_CHECK_WARN,
    MT_CHECK_FAIL,
    MT_CHECK_NA,
} mt_check_status;

/* mt_check_status_name - "pass", "warn", "fail", "n/a". */
const char *mt_check_status_name(mt_check_status s);

typedef struct mt_check {
    char *family; /* "structure", "charset", "size", "attachments", "links", "headers", "dkim" */
    char *id;
    mt_check_status status;
    char *why;
} mt_check;

typedef struct mt_checklist mt_checklist;

mt_checklist *mt_checklist_new(void);
void mt_checklist_free(mt_checklist *l);
/* mt_checklist_add - append a check; the strings are copied. */
void mt_checklist_add(mt_checklist *l, const char *family, const char *id, mt_check_status st,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t mt_checklist_count(const mt_checklist *l);
const mt_check *mt_checklist_get(const mt_checklist *l, size_t i);
/* mt_checklist_find - the check with this id, or NULL. */
const mt_check *mt_checklist_find(const mt_checklist *l, const char *id);
/* mt_checklist_tally - counts per status (array of 4, by mt_check_status). */
void mt_checklist_tally(const mt_checklist *l, size_t counts[4]);
/* mt_checklist_score - 0..100: applicable checks, a pass counting 1, a
 * warn 1/2, a fail 0; 100 when nothing applies. */
int mt_checklist_score(const mt_checklist *l);

/* What every family may use.  Everything is borrowed. */
typedef struct mt_msgcheck_opts {
    const char *mail_from;   /* envelope sender (--mail-from) or NULL */
    mt_dkim_key_fn dkim_key; /* key lookup for DKIM, NULL: none available */
    void *dkim_key_arg;
    time_t now;              /* for DKIM x= / t= */
    const mt_orgdomain *org; /* organisational domains */
} mt_msgcheck_opts;

/* The families, in the order the report lists them.  Each appends its
 * checks to out; none fails (a message they cannot judge gets n/a). */
void mt_msgcheck_structure(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);
void mt_msgcheck_charset(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);
void mt_msgcheck_size(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);
void mt_msgcheck_attachments(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);
void mt_msgcheck_links(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);
void mt_msgcheck_headers(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);
void mt_msgcheck_dkim(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);

/* mt_rfc2047_problem - look at the encoded words (=?cs?B|Q?...?=) of a
 * header value: 0 when all are well formed and decode in their charset;
 * 1 (soft: an encoded word over 75 characters) or 2 (an unterminated
 * word, unknown charset or encoding, bad base64/Q data, bytes invalid in
 * the charset) with a reason in why. */
int mt_rfc2047_problem(const char *v, size_t n, char *why, size_t whylen);

/* mt_text_visible - the visible text of a UTF-8 text (HTML when html is
 * set: tags, comments, style and script dropped, entities kept) appended
 * to out. */
void mt_text_visible(const char *s, size_t n, int html, mt_buf *out);

/* mt_msgcheck_run - every family in order. */
void mt_msgcheck_run(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out);

/* mt_checklist_json - {"file":…,"score":N,"counts":{…},"checks":[{"n":1,"id":…,
 * "family":…,"status":…,"why":…},…]} and a newline. */
void mt_checklist_json(const mt_checklist *l, const char *file, mt_buf *out);
/* mt_checklist_text - numbered lines "  1. pass  id  why", then the score. */
void mt_checklist_text(const mt_checklist *l, const char *file, mt_buf *out);

#endif
