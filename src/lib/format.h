/*
 * format.h - the input formats mailtriage reads, their names, and
 * detection from an input's first lines (`--format auto`).
 */
#ifndef MT_FORMAT_H
#define MT_FORMAT_H

#include <stddef.h>

typedef enum mt_format {
    MT_FORMAT_AUTO = 0, /* detect; also "none detected" */
    MT_FORMAT_POSTFIX,
    MT_FORMAT_EXIM,       /* Exim mainlog */
    MT_FORMAT_PMTA,       /* PowerMTA accounting CSV */
    MT_FORMAT_KUMO,       /* KumoMTA JSON log records */
    MT_FORMAT_CSV,        /* generic CSV export, SPEC §3 column names */
    MT_FORMAT_NDJSON,     /* generic NDJSON export, SPEC §3 keys */
    MT_FORMAT_TRANSCRIPT, /* SMTP transcripts: swaks, s_client, C:/S:, <-/-> */
    MT_FORMAT_OPENSMTPD,  /* OpenSMTPD's syslog lines ("mta delivery") */
    MT_FORMAT_HARAKA,     /* Haraka's log ("[NOTICE] [uuid] [outbound] …") */
    MT_FORMAT_COUNT
} mt_format;

/* mt_format_name - "postfix", "exim", "pmta", "kumo", "csv", "ndjson",
 * "transcript", "opensmtpd",
 * "haraka"; "auto" for MT_FORMAT_AUTO. */
const char *mt_format_name(mt_format f);

/* mt_format_from_name - the format spelled name, or -1. */
int mt_format_from_name(const char *name);

/* The list of names for help and error texts: "postfix, exim, …". */
extern const char mt_format_names[];

/* mt_format_detect - the format of an input from its first lines:
 * text[0..len) is the start of the input (whole lines).  Looks at up to
 * 50 non-empty lines; returns MT_FORMAT_AUTO when none matches. */
mt_format mt_format_detect(const char *text, size_t len);

#endif
