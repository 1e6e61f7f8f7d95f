/*
 * reader_postfix.h - parse one Postfix log line into its parts.
 *
 * The parser is pure: it allocates nothing and points into the caller's
 * line, so it runs once per line on the hot path and is what the fuzz
 * target drives.  Joining lines into messages is correlate.c's job.
 */
#ifndef MT_READER_POSTFIX_H
#define MT_READER_POSTFIX_H

#include <stdint.h>

#include "record.h"
#include "timeparse.h"
#include "util.h"

typedef enum mt_pf_kind {
    MT_PF_MALFORMED = 0, /* looks like Postfix but cannot be parsed */
    MT_PF_FOREIGN,       /* a line of another program: skipped, counted */
    MT_PF_IGNORED,       /* a Postfix line with nothing for the record */
    MT_PF_DELIVERY,      /* to=<…>, relay=…, status=… */
    MT_PF_QMGR_FROM,     /* from=<…>, size=…, nrcpt=… */
    MT_PF_QMGR_EXPIRED,  /* from=<…>, status=expired, returned to sender */
    MT_PF_REMOVED,       /* removed */
    MT_PF_MESSAGE_ID,    /* cleanup: message-id=<…> */
    MT_PF_HEADER,        /* cleanup: info|warning|…: header NAME: VALUE … */
    MT_PF_BOUNCE_NOTICE, /* bounce: sender non-delivery notification: QID */
    MT_PF_CLIENT,        /* smtpd: client=…, or pickup: uid=… from=<…> */
    MT_PF_KIND_COUNT
} mt_pf_kind;

/* Layout matters: the struct is large, this runs for every line, and the
 * joiner reads it on the other core.  The fields before `to` are set for
 * every line; a line with a queue id clears only its own group: a delivery
 * the fields from `to` to `from`, any other line those from `from` on. */
typedef struct mt_pf_line {
    mt_pf_kind kind;
    const char *why; /* MT_PF_MALFORMED: a short reason, static string */
    int64_t time;
    int32_t usec;
    mt_slice host;
    mt_slice program; /* syslog name + daemon, e.g. "postfix-out/smtp" */
    mt_slice daemon;  /* "smtp" */
    mt_slice queue_id;
    /* MT_PF_DELIVERY */
    mt_slice to, orig_to, relay, dsn, tls;
    mt_slice reason;  /* text inside status=…( ) */
    mt_slice mx_host; /* from the reason, else from relay= */
    mt_slice mx_ip;
    mt_slice reply; /* the remote reply, or the local reason */
    /* the sending IP and HELO, set by the readers whose input says them
     * (Exim, record formats, transcripts); Postfix leaves them empty */
    mt_slice sending_ip, helo_name;
    mt_stage stage;
    mt_status status;
    double delay;      /* -1 when absent */
    int reply_code;    /* 0 when no SMTP reply */
    char enhanced[16]; /* from the reply, else dsn= */
    /* MT_PF_QMGR_FROM / MT_PF_QMGR_EXPIRED / MT_PF_CLIENT */
    mt_slice from;
    int64_t size;
    int nrcpt;
    /* MT_PF_MESSAGE_ID */
    mt_slice message_id;
    /* MT_PF_HEADER */
    mt_slice header_name, header_value;
    /* MT_PF_BOUNCE_NOTICE */
    mt_slice new_queue_id;
    /* MT_PF_QMGR_FROM from the other readers whose input says them: the
     * message's header From domain, template id and attachment types
     * (comma list); the Postfix reader leaves them empty */
    mt_slice header_from, template_id, attachment_types;
} mt_pf_line;

/* mt_pf_parse - parse line[0..n) (no trailing newline).  Returns the kind,
 * also stored in out->kind.  yc carries the year inference state between
 * lines of one file. */
mt_pf_kind mt_pf_parse(const char *line, size_t n, mt_yearctx *yc, mt_pf_line *out);

/* mt_pf_parse_reason - split a delivery reason ("host X[ip] said: 451 …
 * (in reply to end of DATA command)", "connect to …", "lost connection
 * with … while sending RCPT TO", …) into mx host/ip, reply, stage, code and
 * enhanced status.  Exposed for the transcript and bounce readers. */
void mt_pf_parse_reason(mt_slice reason, mt_pf_line *out);

/* mt_pf_set_reply - set out's reply to p[0..n) without trailing spaces,
 * with its code and enhanced status.  Shared by the readers that fill an
 * mt_pf_line (Postfix, Exim). */
void mt_pf_set_reply(mt_pf_line *out, const char *p, size_t n);

/* mt_reply_code_enhanced - read "451 4.3.2 …" / "451-4.3.2 …": returns the
 * 3-digit code (0 if none) and copies the enhanced status, if any, into
 * enh (16 bytes). */
int mt_reply_code_enhanced(const char *s, size_t n, char enh[16]);

/* mt_stage_from_command - the stage a reply to the named command belongs
 * to ("RCPT TO", "end of DATA", "MAIL FROM", …); MT_STAGE_UNKNOWN if none. */
mt_stage mt_stage_from_command(const char *s, size_t n);

#endif
