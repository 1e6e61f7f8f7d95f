/*
 * bounce_lhost.h - the bounce notices MTAs write in prose (Exim, qmail,
 * Sendmail and Postfix without a DSN part, Gmail, Yahoo, Exchange, …):
 * which recipients failed and what was said about each.  Internal to
 * bounce.c.
 */
#ifndef MT_BOUNCE_LHOST_H
#define MT_BOUNCE_LHOST_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* One recipient of one bounce as the parser collects it. */
typedef struct mt_bounce_rcpt {
    char addr[256];
    char action[24];
    char status[16];
    char dtype[24];
    char command[12];
    char remote_mta[256];
    char preset[24]; /* a reason the format states outright */
    mt_buf diag;     /* what was said about it (UTF-8) */
    mt_buf note;     /* what the human-readable part says about it (DSNs) */
    int64_t time;
} mt_bounce_rcpt;

typedef struct mt_bounce_rcpts {
    mt_bounce_rcpt *v;
    int n, cap;
} mt_bounce_rcpts;

/* mt_bounce_rcpts_add - a new, empty recipient at the end (owned by l). */
mt_bounce_rcpt *mt_bounce_rcpts_add(mt_bounce_rcpts *l);
/* mt_bounce_rcpts_reset - forget the recipients, keep the memory. */
void mt_bounce_rcpts_reset(mt_bounce_rcpts *l);
void mt_bounce_rcpts_free(mt_bounce_rcpts *l);

/* mt_bounce_lhost_cut - where the copy of the returned message starts in a
 * notice's text[0..n) (its marker line), or n when there is none. */
size_t mt_bounce_lhost_cut(const char *text, size_t n);

/* mt_bounce_lhost_scan - the recipients a notice's text[0..n) (the part
 * before the returned message) names, each with the text said about it,
 * appended to out.  self (may be NULL) is an address never taken as a
 * recipient (the bounce's own addressee, the original sender).  Returns
 * how many were added. */
int mt_bounce_lhost_scan(const char *text, size_t n, const char *self, mt_bounce_rcpts *out);

/* mt_bounce_lhost_command - the SMTP command a diagnostic names ("RCPT",
 * "MAIL", "DATA", "HELO", "EHLO", "STARTTLS", "CONN") or "". */
const char *mt_bounce_lhost_command(const char *diag, size_t n);

/* mt_bounce_find_addr - the first e-mail address in s[0..n): its offset
 * and length in *off and *len; 0 if none. */
int mt_bounce_find_addr(const char *s, size_t n, size_t *off, size_t *len);

#endif
