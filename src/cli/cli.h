/*
 * cli.h - what the subcommands share: the common input options and the
 * read -> join -> classify pipeline they all start with.
 */
#ifndef MT_CLI_H
#define MT_CLI_H

#include "../lib/classify.h"
#include "../lib/correlate.h"
#include "../lib/routes.h"
#include "../lib/rules.h"
#include "../lib/scan.h"

/* Exit statuses (SPEC §2). */
#define EXIT_OK    0
#define EXIT_INPUT 1
#define EXIT_USAGE 2

#define CLI_MAX_MAP 32

typedef struct cli_input {
    const char **files; /* in reading order; "-" for stdin */
    int nfiles;
    int year;
    const char *routes_path;
    const char *rules_path;
    const char *template_header;
    const char *messages_path;
    int show_recipients;
    int progress; /* -1: decide by isatty(stderr) */
    int threads;  /* 0: decide by the number of cores */
    int format;   /* mt_format; 0: auto */
    int show_skipped;
    mt_scan_map map[CLI_MAX_MAP]; /* --map OLD=NEW */
    int nmap;
    int counts_only; /* the consumer never reads an accepted attempt's reply
                        or MX IP (mt_join_set_counts_only) */
} cli_input;

/* cli_input_option - handle one of the shared long options (returns 1),
 * or 0 if opt is not one of them; -1 after printing a usage error. */
int cli_input_option(cli_input *in, int opt, const char *arg);

/* The shared options for getopt_long tables, and their help text. */
/* clang-format off */
#define CLI_INPUT_OPTIONS                                           \
    {"year", required_argument, NULL, 1001},                        \
    {"routes", required_argument, NULL, 1002},                      \
    {"rules", required_argument, NULL, 1003},                       \
    {"template-header", required_argument, NULL, 1004},             \
    {"show-recipients", no_argument, NULL, 1005},                   \
    {"progress", no_argument, NULL, 1006},                          \
    {"no-progress", no_argument, NULL, 1007},                       \
    {"format", required_argument, NULL, 1008},                      \
    {"threads", required_argument, NULL, 1009},                     \
    {"messages", required_argument, NULL, 1010},                    \
    {"map", required_argument, NULL, 1011},                         \
    {"show-skipped", required_argument, NULL, 1012}
/* clang-format on */

extern const char cli_input_help[];

/* cli_int_option - read the value of a numeric option: arg must be a
 * whole decimal number from lo to hi.  0 with the number in *out, or -1
 * after printing "mailtriage: OPT wants a number from LO to HI, not 'ARG'"
 * (the caller exits EXIT_USAGE).  opt names the option ("--jobs"). */
int cli_int_option(const char *opt, const char *arg, int lo, int hi, int *out);

/* cli_write_stdout - write b's bytes to standard output and flush.  0, or
 * -1 after printing "mailtriage: error writing to standard output" (a full
 * disk, a closed pipe): the caller exits EXIT_INPUT. */
int cli_write_stdout(const mt_buf *b);

/* cli_run_inputs - load rules and routes, read every input into fn(arg).
 * On failure prints the error and returns EXIT_INPUT; EXIT_OK otherwise.
 * scan, join stats and the rules path are handed back for reports.  The
 * rules are handed back too (*rules, NULL on failure): records and
 * analysis results point at rule meanings and provider names, so the
 * caller frees them with mt_rules_free only after its last report. */
int cli_run_inputs(const cli_input *in, const char *argv0, mt_attempt_fn fn, void *arg, mt_scan_stats *scan,
                   mt_join_stats *join, char *rules_path, size_t rules_len, mt_rules **rules);

int cmd_events(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_check_message(int argc, char **argv);
int cmd_matrix(int argc, char **argv);
int cmd_spf(int argc, char **argv);
int cmd_check_domain(int argc, char **argv);

/* cli_check_dns - `diagnose --check-dns` (check_dns.c): run the sender
 * DNS checks for the envelope domains and IPs of r and fold the failing
 * ones into f.  0, or -1 (message printed) when DNS cannot be used. */
struct mt_diag_result;
struct mt_findings;
struct mt_dns_opts;
int cli_check_dns(const struct mt_diag_result *r, struct mt_findings *f, const struct mt_dns_opts *dopts);
int cmd_bounces(int argc, char **argv);

/* cli_run_bounces - `diagnose --bounces`: read the inputs as bounce mails
 * (cmd_bounces.c) and hand their attempt records to fn(arg); files,
 * messages (as lines) and records (as deliveries) into scan.  Rules
 * handed back as by cli_run_inputs. */
int cli_run_bounces(const cli_input *in, const char *argv0, mt_attempt_fn fn, void *arg, mt_scan_stats *scan,
                    mt_rules **rules, char *rules_path, size_t rules_len);

#endif
