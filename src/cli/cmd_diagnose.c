/*
 * cmd_diagnose.c - `mailtriage diagnose`: read, normalise, classify,
 * aggregate, report.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/analysis.h"
#include "../lib/dns.h"
#include "../lib/findings.h"
#include "../lib/input.h"
#include "../lib/report.h"
#include "cli.h"

static const char usage[] =
    "usage: mailtriage diagnose [--json|--markdown] [--html FILE] [options] [FILE...]\n"
    "\n"
    "Read MTA logs, join each message's lines, classify every reply (SMTP stage,\n"
    "code, enhanced status, provider, category) and say why mail is deferred or\n"
    "refused: ranked findings (cause, provider, the cohort that carries it,\n"
    "pattern, risk band, confidence, evidence, next steps), queue settings paced\n"
    "to the accepted volume, then what is failing where: accepted vs attempted per\n"
    "provider and recipient domain, deferrals by SMTP stage, the commonest replies\n"
    "with what they mean, and every sender cohort with its deferral rate, pattern\n"
    "and band.\n"
    "\n"
    "  --bounces               the inputs are bounce mails (eml, mbox, Maildir), read as by\n"
    "                          `mailtriage bounces`; their records feed the diagnosis\n"
    "  --json                  the SPEC section 5 JSON document instead of text\n"
    "  --markdown              the escalation evidence bundle (one per critical finding)\n"
    "  --html FILE             also write the report as one self-contained HTML page\n"
    "                          (inline charts, nothing fetched) to FILE; \"-\" writes it\n"
    "                          to standard output instead of the text report\n"
    "  --keep-list FILE        CSV of every recipient that only saw temporary (4xx)\n"
    "                          failures and is still queued or expired: valid\n"
    "                          addresses, never to suppress (needs --show-recipients)\n"
    "  --suppress-list FILE    CSV of every recipient refused as not existing (5xx):\n"
    "                          the only ones to suppress (needs --show-recipients)\n"
    "  --top N                 replies listed per provider (default 5; JSON 10)\n"
    "  --check-dns             also check the envelope domains and sending IPs the logs\n"
    "                          show (SPF, DKIM, DMARC, rDNS, HELO, MX, blocklists, as\n"
    "                          `check-domain`); failing checks become `authentication`\n"
    "                          findings.  --resolver HOST[:PORT] picks the DNS server\n"
    "  --color, --no-color     colour the text report (default: on a terminal,\n"
    "                          never when NO_COLOR is set)\n"
    "  -h, --help              this help\n"
    "\n";

/* write_html - the HTML report into path ("-": standard output).  Prints
 * the error, naming the file, and returns -1 when it cannot be written. */
static int write_html(const mt_report_ctx *ctx, const char *path)
{
    if (strcmp(path, "-") == 0)
        return mt_report_html(ctx, stdout) < 0
                   ? (fprintf(stderr, "mailtriage: error writing the HTML report\n"), -1)
                   : 0;
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        fprintf(stderr, "mailtriage: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = mt_report_html(ctx, fp);
    int err = errno;
    if (fclose(fp) != 0) {
        err = errno;
        rc = -1;
    }
    if (rc < 0) {
        fprintf(stderr, "mailtriage: error writing %s: %s\n", path, strerror(err));
        return -1;
    }
    return 0;
}

/* probe_html - find out before reading any input (which may take minutes)
 * that the page can be written to path and is not one of the inputs.
 * Appending creates a missing file without clobbering an existing one;
 * *created says it did, so a failed run can remove it.  Prints the error,
 * naming the file, and returns -1 when the page cannot go there. */
static int probe_html(const char *path, const char **files, int nfiles, int *created)
{
    struct stat st, in;
    *created = stat(path, &st) != 0;
    for (int i = 0; !*created && i < nfiles; i++)
        if (strcmp(files[i], "-") != 0 && stat(files[i], &in) == 0 && in.st_dev == st.st_dev &&
            in.st_ino == st.st_ino && S_ISREG(st.st_mode)) {
            fprintf(stderr, "mailtriage: --html %s would overwrite an input file\n", path);
            return -1;
        }
    FILE *probe = fopen(path, "a");
    if (probe == NULL) {
        fprintf(stderr, "mailtriage: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fclose(probe);
    return 0;
}

int cmd_diagnose(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"markdown", no_argument, NULL, 'm'},
        {"html", required_argument, NULL, 'H'},
        {"keep-list", required_argument, NULL, 'K'},
        {"suppress-list", required_argument, NULL, 'S'},
        {"top", required_argument, NULL, 't'},
        {"color", no_argument, NULL, 'C'},
        {"no-color", no_argument, NULL, 'N'},
        {"check-dns", no_argument, NULL, 'D'},
        {"resolver", required_argument, NULL, 'R'},
        {"bounces", no_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        CLI_INPUT_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cli_input in = {.progress = -1, .counts_only = 1}; /* the analysis never shows an accepted reply */
    int json = 0, markdown = 0, top = -1, color = -1, check_dns = 0, bounces = 0;
    mt_dns_opts dopts = {0};
    const char *html = NULL, *keep_path = NULL, *suppress_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = cli_input_option(&in, c, optarg);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'm':
            markdown = 1;
            break;
        case 'H':
            if (*optarg == '\0') {
                fprintf(stderr, "mailtriage: --html wants a file name\n");
                return EXIT_USAGE;
            }
            html = optarg;
            break;
        case 'K':
            keep_path = optarg;
            break;
        case 'S':
            suppress_path = optarg;
            break;
        case 't':
            if (cli_int_option("--top", optarg, 0, 1000, &top) < 0)
                return EXIT_USAGE;
            break;
        case 'C':
            color = 1;
            break;
        case 'N':
            color = 0;
            break;
        case 'D':
            check_dns = 1;
            break;
        case 'R':
            dopts.resolver = optarg;
            break;
        case 'B': /* the inputs are bounce mails (cmd_bounces.c) */
            bounces = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            fputs(cli_input_help, stdout);
            return EXIT_OK;
        default:
            fputs(usage, stderr);
            return EXIT_USAGE;
        }
    }
    in.files = (const char **)argv + optind;
    in.nfiles = argc - optind;
    mt_input_order(in.files, in.nfiles);
    if (color < 0) {
        const char *nc = getenv("NO_COLOR");
        color = isatty(1) && !(nc && *nc);
    }
    if (html && strcmp(html, "-") == 0 && (json || markdown)) {
        fprintf(stderr, "mailtriage: --html - cannot share standard output with --%s\n",
                json ? "json" : "markdown");
        return EXIT_USAGE;
    }
    if ((keep_path || suppress_path) && !in.show_recipients) {
        fprintf(stderr, "mailtriage: --keep-list and --suppress-list write recipients' addresses; "
                        "add --show-recipients to say you mean it\n");
        return EXIT_USAGE;
    }
    FILE *keep = NULL, *suppress = NULL;
    if (keep_path && (keep = fopen(keep_path, "w")) == NULL) {
        fprintf(stderr, "mailtriage: cannot write %s: %s\n", keep_path, strerror(errno));
        return EXIT_INPUT;
    }
    if (suppress_path && (suppress = fopen(suppress_path, "w")) == NULL) {
        fprintf(stderr, "mailtriage: cannot write %s: %s\n", suppress_path, strerror(errno));
        if (keep)
            fclose(keep);
        return EXIT_INPUT;
    }
    int html_created = 0;
    if (html && strcmp(html, "-") != 0 && probe_html(html, in.files, in.nfiles, &html_created) < 0) {
        if (keep)
            fclose(keep);
        if (suppress)
            fclose(suppress);
        return EXIT_INPUT;
    }
    mt_diag *d = mt_diag_new(in.show_recipients);
    mt_diag_set_lists(d, keep, suppress);
    mt_scan_stats scan;
    mt_join_stats join;
    memset(&scan, 0, sizeof scan);
    char rules[4096];
    mt_rules *rules_loaded;
    memset(&join, 0, sizeof join);
    int rc =
        bounces
            ? cli_run_bounces(&in, argv[0], mt_diag_add, d, &scan, &rules_loaded, rules, sizeof rules)
            : cli_run_inputs(&in, argv[0], mt_diag_add, d, &scan, &join, rules, sizeof rules, &rules_loaded);
    /* the lists are complete once the input is: close them now */
    if (keep && fclose(keep) != 0) {
        fprintf(stderr, "mailtriage: error writing %s\n", keep_path);
        rc = EXIT_INPUT;
    }
    if (suppress && fclose(suppress) != 0) {
        fprintf(stderr, "mailtriage: error writing %s\n", suppress_path);
        rc = EXIT_INPUT;
    }
    if (rc != EXIT_OK) {
        if (html_created)
            unlink(html); /* the empty file the probe made */
        mt_diag_free(d);
        mt_rules_free(rules_loaded);
        return rc;
    }
    static const char *const stdin_only[] = {"-"};
    mt_report_ctx ctx = {
        .files = in.nfiles ? in.files : stdin_only,
        .nfiles = in.nfiles ? in.nfiles : 1,
        .format = bounces          ? "bounces"
                  : scan.format[0] ? scan.format
                                   : "postfix",
        .scan = &scan,
        .join = &join,
        .diag = NULL,
        .rules_path = rules,
        .color = color,
        .top = top >= 0 ? top
               : json   ? 10
                        : 5,
    };
    ctx.diag = mt_diag_finish(d);
    mt_findings *findings = mt_findings_build(ctx.diag);
    if (check_dns && cli_check_dns(ctx.diag, findings, &dopts) < 0) {
        mt_findings_free(findings);
        mt_diag_free(d);
        mt_rules_free(rules_loaded);
        return EXIT_USAGE;
    }
    ctx.findings = findings;
    ctx.show_recipients = in.show_recipients;
    int hr = html ? write_html(&ctx, html) : 0;
    int wr = html && strcmp(html, "-") == 0 ? 0 /* the page took standard output */
             : json                         ? mt_report_json(&ctx, stdout)
             : markdown                     ? mt_report_markdown(&ctx, stdout)
                                            : mt_report_text(&ctx, stdout);
    mt_findings_free(findings);
    if (fflush(stdout) != 0)
        wr = -1;
    mt_diag_free(d);
    mt_rules_free(rules_loaded);
    if (wr < 0) {
        fprintf(stderr, "mailtriage: error writing the report\n");
        return EXIT_INPUT;
    }
    return hr < 0 ? EXIT_INPUT : EXIT_OK;
}
