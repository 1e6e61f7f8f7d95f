/*
 * reader_transcript.h - SMTP transcripts into attempts: swaks output
 * (" -> " client, "<-  " / "<** " server, "=== Trying host:port"),
 * `openssl s_client` dumps (CONNECTED(…), then bare replies and the typed
 * commands), and plain "C: " / "S: " or "-> " / "<- " dialogues.
 *
 * Each reply's stage comes from the command it answers: commands wait in
 * order (pipelining) and every final reply line ("250 …", not "250-…")
 * answers the oldest.  A failed greeting, HELO, STARTTLS or MAIL is an
 * attempt without a recipient; a failed RCPT is an attempt for that
 * recipient; the replies to DATA and to the end of the data apply to every
 * recipient accepted in the transaction.  A session is one message (queue
 * id "sN" with N counting sessions from 1); message header lines sent
 * after DATA give its Message-ID and header From.  Transcripts carry no
 * times: timestamps are unknown (0).
 *
 * The reader keeps state from line to line (an input is read in order by
 * one thread); the lines it hands out point into the fed line or into the
 * reader's own buffers and are valid until the next call.
 */
#ifndef MT_READER_TRANSCRIPT_H
#define MT_READER_TRANSCRIPT_H

#include "reader_postfix.h"

typedef struct mt_ts mt_ts;

typedef void (*mt_ts_emit_fn)(const mt_pf_line *l, void *arg);

/* mt_ts_new - a reader for one input; tag (a short name, unique per input
 * of the run) keeps its sessions apart from other inputs'. */
mt_ts *mt_ts_new(const char *tag);
void mt_ts_free(mt_ts *t);

/* mt_ts_line - feed one line (no newline); parsed lines for the joiner go
 * to fn(arg).  Returns 1 when the line is part of the dialogue, 0 when it
 * is other text (certificates, banners). */
int mt_ts_line(mt_ts *t, const char *line, size_t n, mt_ts_emit_fn fn, void *arg);

/* mt_ts_finish - the input ended: close the session (its recipients
 * without a final reply were cut off: deferred at the pending stage). */
void mt_ts_finish(mt_ts *t, mt_ts_emit_fn fn, void *arg);

#endif
