/*
 * matrix.h - the seed's minimal reproduction matrix.  From one production
 * message, five messages with the same envelope and From:
 *   A plain text, no links, no attachments
 *   B plain text with the production links, no attachments
 *   C HTML without tracking rewrites (tracking links resolved back to the
 *     target they carry, else left out; tracking pixels dropped)
 *   D the production HTML with its tracking, no attachments
 *   E the production message as it is
 * and the reading of their results (accepted / deferred per test).
 */
#ifndef MT_MATRIX_H
#define MT_MATRIX_H

#include <stddef.h>

#include "message.h"
#include "util.h"

#define MT_MATRIX_TESTS 5

/* mt_matrix_write - write A.eml ... E.eml and matrix.json into dir
 * (created if missing) from m.  source names the input in matrix.json;
 * mail_from (the envelope sender, may be NULL: then Return-Path or From)
 * is recorded there.  Returns 0, or -1 with a reason in err. */
int mt_matrix_write(const mt_message *m, const char *source, const char *mail_from, const char *dir,
                    char *err, size_t errlen);

/* Outcome of one test. */
typedef enum mt_matrix_outcome {
    MT_OUTCOME_UNKNOWN, /* not run / not given */
    MT_OUTCOME_PASS,    /* accepted */
    MT_OUTCOME_FAIL,    /* deferred or refused */
} mt_matrix_outcome;

/* mt_matrix_parse_results - read results text: one test a line, "A
 * accepted", "B: deferred 451 4.3.2 ...", "C=pass", "# comments"; or a
 * JSON object {"A": "accepted", ...} / {"results": [{"test": "A",
 * "outcome": "deferred"}, ...]}.  Words: accepted, delivered, pass, ok,
 * sent, 2xx -> pass; deferred, refused, rejected, bounced, fail, failed,
 * 4xx, 5xx -> fail; not-run, skip, unknown -> unknown.  Returns the number
 * of tests given, -1 with a reason in err (naming the line). */
int mt_matrix_parse_results(const char *text, size_t n, mt_matrix_outcome out[MT_MATRIX_TESTS], char *err,
                            size_t errlen);

/* mt_matrix_interpret - the seed's conclusion for these outcomes: text
 * (human) or JSON {"results":{...},"first_failure":…,"last_pass":…,
 * "consistent":bool,"candidates":[…],"conclusion":…}, appended to out. */
void mt_matrix_interpret(const mt_matrix_outcome r[MT_MATRIX_TESTS], int json, mt_buf *out);

#endif
