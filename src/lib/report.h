/*
 * report.h - render a diagnosis: the SPEC §5 JSON contract and the
 * readable terminal report.  Both read only the mt_diag_result and the
 * input statistics; neither computes a figure of its own.
 */
#ifndef MT_REPORT_H
#define MT_REPORT_H

#include <stdio.h>

#include "analysis.h"
#include "correlate.h"
#include "findings.h"
#include "scan.h"

typedef struct mt_report_ctx {
    const char *const *files;
    int nfiles;
    const char *format; /* "postfix", "exim", …, "mixed" */
    const mt_scan_stats *scan;
    const mt_join_stats *join;
    const mt_diag_result *diag;
    const mt_findings *findings;
    int show_recipients;
    const char *rules_path;
    int color;
    int top; /* replies shown per provider */
} mt_report_ctx;

/* mt_report_json - the diagnosis as one JSON document on fp.
 * Returns -1 when writing fails. */
int mt_report_json(const mt_report_ctx *ctx, FILE *fp);

/* mt_report_text - the terminal report on fp: the diagnosis first, one
 * paragraph per finding, then the supporting tables. */
int mt_report_text(const mt_report_ctx *ctx, FILE *fp);

/* mt_report_markdown - the escalation evidence bundle (the seed's fields)
 * for each critical finding, or the leading findings when none is. */
int mt_report_markdown(const mt_report_ctx *ctx, FILE *fp);

/* mt_report_html - the diagnosis as one self-contained HTML page on fp:
 * the findings, queue settings and limits, inline SVG charts (deferral
 * rate per provider per hour, SMTP stages, the scoped cohort against the
 * rest, retry outcomes) and the supporting tables.  The page references
 * nothing outside itself; every string from the logs is HTML-escaped.
 * Returns -1 when writing fails. */
int mt_report_html(const mt_report_ctx *ctx, FILE *fp);

#endif
