/*
 * reader_exim.h - parse one line of Exim's mainlog into the parsed-line
 * form the joiner reads (mt_pf_line), so that correlate.c joins Exim
 * messages exactly as it joins Postfix ones.
 *
 * Line shape:  STAMP [ZONE] [[PID]] MSGID FLAG ADDRESS [<ORIG>] FIELDS[: MESSAGE]
 * with STAMP "2026-11-20 21:35:51" (".mmm" with +millisec), ZONE "+0800"
 * (log_timezone), MSGID "1vKp0a-0004Rg-1x" (or the 4.97 "…-000000005vi-0000"
 * form), FLAG one of  <= (arrival)  => (delivery)  -> (another address of
 * the same delivery)  >> (cutthrough)  == (deferral)  ** (failure)
 * *> (suppressed, -N).  "MSGID Completed" ends a message.
 *
 * Mapping: <= gives MT_PF_QMGR_FROM (sender, S= size, id= Message-ID);
 * =>, ->, >>, ==, ** give MT_PF_DELIVERY (status sent, deferred, bounced
 * or expired); Completed gives MT_PF_REMOVED.  The route is the transport
 * (T=), else the router (R=); with +outgoing_interface the sending IP is
 * I=[ip]; the MX is H=host [ip]; C="…" (+smtp_confirmation) is the reply
 * of a delivery; "SMTP error from remote mail server after COMMAND: REPLY"
 * gives the stage from COMMAND.  "retry time not reached" lines are no
 * attempt (Exim did not connect): MT_PF_IGNORED.
 *
 * Pure: allocates nothing, every slice points into the caller's line.
 */
#ifndef MT_READER_EXIM_H
#define MT_READER_EXIM_H

#include "reader_postfix.h"
#include "timeparse.h"

/* mt_exim_parse - parse line[0..n) (no newline) into out.  Returns the
 * kind (also out->kind): MT_PF_MALFORMED with out->why for a line that is
 * not Exim's, MT_PF_IGNORED for an Exim line with nothing for the record
 * (daemon start, queue runs, rejections, frozen…).  yc, when not NULL,
 * remembers the last stamp's minute between the lines of one file (one
 * per thread); the answers are the same without it. */
mt_pf_kind mt_exim_parse(const char *line, size_t n, mt_yearctx *yc, mt_pf_line *out);

/* mt_exim_probe - for format detection: 1 when line[0..n) is an Exim
 * mainlog line: an Exim stamp, then a message id or one of the lines Exim
 * writes without one (SMTP connections, rejections, authenticator
 * failures, queue runs, the daemon's start). */
int mt_exim_probe(const char *line, size_t n);

/* mt_exim_is_msgid - true when p[0..n) is an Exim message id. */
int mt_exim_is_msgid(const char *p, size_t n);

#endif
