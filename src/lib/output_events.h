/*
 * output_events.h - write attempt records as NDJSON or CSV (SPEC §3 field
 * names, in mt_record_fields order).  Output is buffered and written in
 * large blocks; recipients' local parts are masked unless asked not to.
 */
#ifndef MT_OUTPUT_EVENTS_H
#define MT_OUTPUT_EVENTS_H

#include <stdio.h>

#include "record.h"

typedef enum mt_events_format { MT_EVENTS_NDJSON, MT_EVENTS_CSV } mt_events_format;

typedef struct mt_events_out mt_events_out;

/* mt_events_out_new - a writer to fp (not closed by us).  The CSV form
 * writes its header row at once. */
mt_events_out *mt_events_out_new(FILE *fp, mt_events_format fmt, int show_recipients);

/* mt_events_out_new_extra - the same, with nextra more fields after the
 * SPEC ones (names in extra, kept alive by the caller: CSV columns, NDJSON
 * keys), written by mt_events_write_extra. */
mt_events_out *mt_events_out_new_extra(FILE *fp, mt_events_format fmt, int show_recipients,
                                       const char *const *extra, int nextra);

/* mt_events_write_extra - one record and the values of the extra fields
 * (values[i] NULL: null / empty). */
void mt_events_write_extra(const mt_attempt *a, const char *const *values, void *out);

/* mt_events_write - an mt_attempt_fn: format and buffer one record. */
void mt_events_write(const mt_attempt *a, void *out);

/* mt_events_out_close - flush and free; returns -1 if a write failed
 * (a full disk or a closed pipe must not pass silently). */
int mt_events_out_close(mt_events_out *o);

/* mt_recipient_redact - "alice@163.com" -> "x-5f3a9c1e@163.com": the local
 * part replaced by a salted hash, so one recipient's attempts still match
 * within one run while the address itself is not disclosed. */
void mt_recipient_redact(const char *addr, uint64_t salt, char *out, size_t outlen);

#endif
