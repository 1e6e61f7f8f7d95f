/*
 * pipeline.c - shared input options and the reading pipeline.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char cli_input_help[] =
    "Input options:\n"
    "  FILE...                 log files, plain, gzip or zstd (detected from content);\n"
    "                          '-' or no FILE reads standard input.  Rotated sets\n"
    "                          (mail.log.2.gz mail.log.1 mail.log) are read oldest first.\n"
    "  --format FORMAT         the input format: auto (default: detected from each\n"
    "                          input's first lines; inputs of different formats mix),\n"
    "                          postfix, exim (mainlog), pmta (PowerMTA accounting CSV),\n"
    "                          kumo (KumoMTA JSON log), csv or ndjson (exports with the\n"
    "                          field names of `mailtriage events`), transcript (SMTP\n"
    "                          dialogues: swaks, openssl s_client, C:/S:, <-/->),\n"
    "                          opensmtpd (syslog lines of OpenSMTPD's deliveries),\n"
    "                          haraka (Haraka's log: outbound delivered, deferred and\n"
    "                          bounced lines, plain, timestamped or through syslog)\n"
    "  --map OLD=NEW           csv/ndjson exports: read column or key OLD as field NEW\n"
    "                          (repeatable)\n"
    "  --show-skipped N        print up to N lines that could not be parsed (file:line,\n"
    "                          reason, text) on stderr\n"
    "  --year YYYY             year of the first line for classic syslog stamps, which\n"
    "                          carry none (default: inferred from the file's mtime;\n"
    "                          Dec -> Jan rolls over)\n"
    "  --routes FILE           map routes to sending IP and HELO: lines\n"
    "                          'ROUTE SENDING_IP [HELO]' ('#' comments; ROUTE is the\n"
    "                          syslog name/transport as logged, e.g. postfix-out/smtp,\n"
    "                          or just postfix-out, either one after 'HOST:' when\n"
    "                          several hosts log the same name, or * for the default)\n"
    "  --rules FILE            reply rules (default: the rules.tsv shipped with the\n"
    "                          program; $MAILTRIAGE_RULES overrides)\n"
    "  --template-header NAME  header whose header_checks INFO line carries the\n"
    "                          template id (default X-Template-Id)\n"
    "  --messages FILE         a CSV export keyed by message_id or queue_id with\n"
    "                          message_template_id, header_from_domain,\n"
    "                          attachment_types, message_size_bytes, mail_from_domain\n"
    "                          columns: fills what the log does not say\n"
    "  --show-recipients       print recipients' local parts (default: redacted)\n"
    "  --progress, --no-progress  progress on stderr (default: when stderr is a terminal)\n"
    "  --threads 1|2           parse on a second thread (default: 2 on a multi-core machine)\n";

int cli_input_option(cli_input *in, int opt, const char *arg)
{
    switch (opt) {
    case 1001: {
        char *end;
        long y = strtol(arg, &end, 10);
        if (*end || y < 1970 || y > 2200) {
            fprintf(stderr, "mailtriage: --year wants a year such as 2026, not '%s'\n", arg);
            return -1;
        }
        in->year = (int)y;
        return 1;
    }
    case 1002:
        in->routes_path = arg;
        return 1;
    case 1003:
        in->rules_path = arg;
        return 1;
    case 1004:
        in->template_header = arg;
        return 1;
    case 1005:
        in->show_recipients = 1;
        return 1;
    case 1006:
        in->progress = 1;
        return 1;
    case 1007:
        in->progress = 0;
        return 1;
    case 1009:
        return cli_int_option("--threads", arg, 1, 2, &in->threads) < 0 ? -1 : 1;
    case 1010:
        in->messages_path = arg;
        return 1;
    case 1008: {
        int f = mt_format_from_name(arg);
        if (f < 0) {
            fprintf(stderr, "mailtriage: --format '%s' is not one of auto, %s\n", arg, mt_format_names);
            return -1;
        }
        in->format = f;
        return 1;
    }
    case 1011: {
        const char *eq = strchr(arg, '=');
        if (eq == NULL || eq == arg || eq[1] == '\0') {
            fprintf(stderr, "mailtriage: --map wants OLD=NEW, not '%s'\n", arg);
            return -1;
        }
        if (in->nmap == CLI_MAX_MAP) {
            fprintf(stderr, "mailtriage: at most %d --map options\n", CLI_MAX_MAP);
            return -1;
        }
        in->map[in->nmap].from = arg;
        in->map[in->nmap].from_len = (size_t)(eq - arg);
        in->map[in->nmap].to = eq + 1;
        in->nmap++;
        return 1;
    }
    case 1012:
        return cli_int_option("--show-skipped", arg, 0, MT_SCAN_MAX_EXAMPLES, &in->show_skipped) < 0 ? -1 : 1;
    default:
        return 0;
    }
}

int cli_run_inputs(const cli_input *in, const char *argv0, mt_attempt_fn fn, void *arg, mt_scan_stats *scan,
                   mt_join_stats *join, char *rules_path, size_t rules_len, mt_rules **rules_out)
{
    *rules_out = NULL;
    mt_buf err;
    mt_buf_init(&err);
    if (in->rules_path)
        snprintf(rules_path, rules_len, "%s", in->rules_path);
    else if (!mt_rules_default_path(argv0, rules_path, rules_len)) {
        fprintf(stderr, "mailtriage: cannot find the rules file (looked next to the program and in "
                        "the install path); name it with --rules FILE\n");
        return EXIT_INPUT;
    }
    mt_rules *rules = mt_rules_load(rules_path, &err);
    if (rules == NULL) {
        fprintf(stderr, "mailtriage: %s\n", err.data);
        mt_buf_free(&err);
        return EXIT_INPUT;
    }
    mt_routes *routes = NULL;
    if (in->routes_path) {
        routes = mt_routes_load(in->routes_path, &err);
        if (routes == NULL) {
            fprintf(stderr, "mailtriage: %s\n", err.data);
            mt_buf_free(&err);
            mt_rules_free(rules);
            return EXIT_INPUT;
        }
    }
    mt_msgmeta *meta = NULL;
    if (in->messages_path) {
        const char *ignored;
        meta = mt_msgmeta_load(in->messages_path, &err, &ignored);
        if (meta == NULL) {
            fprintf(stderr, "mailtriage: %s\n", err.data);
            mt_buf_free(&err);
            mt_routes_free(routes);
            mt_rules_free(rules);
            return EXIT_INPUT;
        }
        if (ignored)
            fprintf(stderr, "mailtriage: %s: columns ignored: %s\n", in->messages_path, ignored);
    }
    mt_classifier *cls = mt_classifier_new(rules);
    mt_join *j = mt_join_new(cls, routes, in->template_header, fn, arg);
    mt_join_set_messages(j, meta);
    mt_join_set_counts_only(j, in->counts_only);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    mt_scan_opts so = {.rules = rules,
                       .year = in->year,
                       .progress = in->progress >= 0 ? in->progress : isatty(2),
                       .threads = in->threads > 0 ? in->threads
                                  : ncpu > 1      ? 2
                                                  : 1,
                       .format = (mt_format)in->format,
                       .show_skipped = in->show_skipped,
                       .map = in->map,
                       .nmap = in->nmap};
    static const char *const stdin_only[] = {"-"};
    const char *const *files = in->nfiles ? in->files : stdin_only;
    int nfiles = in->nfiles ? in->nfiles : 1;
    int rc = mt_scan_files(files, nfiles, &so, j, scan, &err);
    mt_join_finish(j);
    *join = *mt_join_get_stats(j);
    if (rc < 0)
        fprintf(stderr, "mailtriage: %s\n", err.data);
    if (scan->unknown_columns[0])
        fprintf(stderr, "mailtriage: columns ignored (not record fields; --map OLD=NEW renames): %s\n",
                scan->unknown_columns);
    for (int i = 0; i < scan->nexamples; i++)
        fprintf(stderr, "mailtriage: skipped %s: %s: %s\n", scan->examples[i].where, scan->examples[i].why,
                scan->examples[i].text);
    mt_join_free(j);
    mt_classifier_free(cls);
    mt_routes_free(routes);
    mt_msgmeta_free(meta);
    mt_buf_free(&err);
    *rules_out = rules;
    return rc < 0 ? EXIT_INPUT : EXIT_OK;
}
