/*
 * reader_record.h - readers whose lines are whole attempts: PowerMTA
 * accounting CSV (reader_pmta.c), KumoMTA JSON log records (reader_kumo.c)
 * and generic CSV / NDJSON exports with the SPEC §3 field names
 * (reader_export.c).  Each line becomes one mt_xrec; scan.c turns it into
 * the joiner's parsed lines so that retry counts and final statuses are
 * computed the same way for every format.
 *
 * A per-input context (mt_rec_ctx) holds what the first line says (the
 * CSV header: which column is which field, and the columns no field
 * takes); it is read-only afterwards, so lines of one input can be parsed
 * on several threads.  Strings that must be decoded (CSV quotes, JSON
 * escapes) are copied into an arena the caller provides; every other
 * slice points into the line.
 */
#ifndef MT_READER_RECORD_H
#define MT_READER_RECORD_H

#include <stdint.h>

#include "format.h"
#include "record.h"
#include "timeparse.h"
#include "util.h"

/* A bump allocator over memory the caller owns; it never grows, so the
 * slices handed out stay valid.  Size it at twice the text parsed plus a
 * little: decoding never makes a string longer than its encoding except
 * for the few bytes a reader adds (a reply code before a reply text). */
typedef struct mt_arena {
    char *p;
    size_t len, cap;
} mt_arena;

/* mt_arena_put - copy s[0..n) into a, returning the copy as a slice
 * (p NULL when a is full). */
mt_slice mt_arena_put(mt_arena *a, const char *s, size_t n);

typedef enum mt_xrec_kind {
    MT_XREC_ATTEMPT = 0, /* one delivery attempt to one recipient */
    MT_XREC_ARRIVAL,     /* the message was received: message fields only */
    MT_XREC_EXPIRED,     /* the message expired, no attempt (KumoMTA Expiration) */
} mt_xrec_kind;

typedef struct mt_xrec {
    mt_xrec_kind kind;
    int64_t time; /* 0: unknown */
    int32_t usec;
    mt_slice queue_id, message_id, route, sending_ip, helo_name;
    mt_slice mail_from, header_from_domain, recipient, mx_host, mx_ip, reply;
    mt_slice template_id, attachment_types;
    /* the recipient's domain when the line names it but the record's key
     * names no recipient (Haraka: the unit is the message at a domain) */
    mt_slice rcpt_domain;
    char enhanced[16];
    int reply_code; /* 0: none */
    mt_stage stage;
    mt_status status;
    int64_t size;      /* -1: unknown */
    double delay;      /* -1: unknown */
    int final;         /* the recipient's last word: the message is done with it */
    int expired;       /* the export says the recipient expired (final_queue_status) */
    int per_rcpt;      /* key by message and recipient (PowerMTA: no message id) */
    int id_unique;     /* the queue id alone names the message (KumoMTA ids) */
    int category_none; /* exports: category "none" (1), another (2), absent (0) */
    int final_bounced; /* exports: final_queue_status "bounced" */
} mt_xrec;

typedef struct mt_rec_ctx mt_rec_ctx;

/* A --map rename (same layout as scan.h's mt_scan_map). */
typedef struct mt_rec_map {
    const char *from;
    size_t from_len;
    const char *to;
} mt_rec_map;

/* mt_rec_ctx_new - the context for an input of format f (pmta, kumo, csv,
 * ndjson) whose first non-empty line is first[0..n).  For CSV formats the
 * first line is the header; renames from map apply to csv and ndjson
 * names.  Names that no field takes are appended, comma-separated, to
 * unknown (once per input).  Returns NULL with a message in err when the
 * header lacks what the format needs (a recipient column). */
mt_rec_ctx *mt_rec_ctx_new(mt_format f, const char *first, size_t n, const mt_rec_map *map, int nmap,
                           mt_buf *unknown, mt_buf *err);
void mt_rec_ctx_free(mt_rec_ctx *c);

/* mt_rec_parse - one line of the context's input into r.  Returns 1 for a
 * record, 0 for a line with nothing for the record (the header row, a
 * record type that is no attempt), -1 for a line that cannot be parsed
 * (*why: a short static reason). */
int mt_rec_parse(const mt_rec_ctx *c, const char *line, size_t n, mt_arena *a, mt_xrec *r, const char **why);

/* The format readers behind mt_rec_parse, and what they share. */
void mt_xrec_clear(mt_xrec *r);
/* mt_csv_split - split one CSV line into at most max fields (quotes
 * decoded into a); returns the number of fields, -1 on a bad quote. */
int mt_csv_split(const char *line, size_t n, mt_slice *out, int max, mt_arena *a);
/* mt_xrec_set_reply - reply text, code and enhanced status from text. */
void mt_xrec_set_reply(mt_xrec *r, mt_slice text);
/* mt_xrec_time - RFC 3339, "YYYY-MM-DD hh:mm:ss[±hhmm]" or epoch seconds. */
int mt_xrec_time(mt_slice s, int64_t *t, int32_t *usec);

/* PowerMTA: column indexes of the header, then one record line. */
typedef struct mt_pmta_cols {
    int type, time_logged, time_queued, orig, rcpt, dsn_action, dsn_status, dsn_diag, dsn_mta, dlv_source_ip,
        dlv_dest_ip, dlv_size, vmta, job_id, env_id, message_id, ncols;
} mt_pmta_cols;
int mt_pmta_header(const mt_slice *cols, int n, mt_pmta_cols *pc, mt_buf *unknown);
int mt_pmta_parse(const mt_pmta_cols *pc, const mt_slice *f, int n, mt_arena *a, mt_xrec *r,
                  const char **why);

/* OpenSMTPD: one syslog line (year inference through yc); returns 2 for
 * another program's line, 0 for an smtpd line without an attempt. */
int mt_opensmtpd_parse(const char *line, size_t n, mt_yearctx *yc, mt_xrec *r, const char **why);

/* Haraka: outbound delivery lines (reader_haraka.c).  Haraka names the
 * MX, the IP and the stage of a message's attempt on lines of their own;
 * the reader remembers them per message uuid in a small table (the recent
 * messages).  Slices in it point into earlier lines, which the
 * caller keeps as long as the context (scan.c: one context per chunk). */
#define MT_HARAKA_SLOTS 64
typedef struct mt_haraka_slot {
    uint64_t hash;
    mt_slice uuid, mx_host, mx_ip, last_err;
    int named; /* this session's recipient line made its attempt */
    mt_stage stage;
} mt_haraka_slot;
typedef struct mt_haraka_ctx {
    mt_haraka_slot slot[MT_HARAKA_SLOTS];
} mt_haraka_ctx;
void mt_haraka_ctx_init(mt_haraka_ctx *c);
/* mt_haraka_parse - one line (year inference through yc for syslog
 * stamps).  Returns 1 for a record, 0 for a Haraka line without an attempt
 * (receiving side, context lines, recipients already logged), 2 for a line
 * that is not Haraka's, -1 for a delivery line that cannot be parsed
 * (*why: a short static reason). */
int mt_haraka_parse(mt_haraka_ctx *c, const char *line, size_t n, mt_yearctx *yc, mt_xrec *r,
                    const char **why);
/* mt_haraka_probe - true when the line has Haraka's "[LEVEL] [uuid]
 * [origin]" shape (after an optional stamp or syslog prefix). */
int mt_haraka_probe(const char *line, size_t n);

/* KumoMTA: one JSON log record. */
int mt_kumo_parse(const char *line, size_t n, mt_arena *a, mt_xrec *r, const char **why);

/* Generic exports: field ids of the SPEC §3 names. */
int mt_export_field(const char *name, size_t n, const mt_rec_map *map, int nmap);
int mt_export_set(mt_xrec *r, int field, mt_slice v, mt_arena *a, const char **why);
void mt_export_finish(mt_xrec *r);

#endif
