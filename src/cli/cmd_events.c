/*
 * cmd_events.c - `mailtriage events`: the attempt records, NDJSON or CSV.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../lib/input.h"
#include "../lib/output_events.h"
#include "cli.h"

static const char usage[] = "usage: mailtriage events [--csv|--ndjson] [options] [FILE...]\n"
                            "\n"
                            "Print one record per delivery attempt per recipient (SPEC section 3 fields):\n"
                            "timestamp, source, queue_id, message_id, route, sending_ip, helo_name,\n"
                            "mail_from_domain, header_from_domain, recipient, recipient_domain, provider,\n"
                            "mx_host, mx_ip, smtp_stage, smtp_reply_code, enhanced_status, smtp_reply_text,\n"
                            "category, message_template_id, message_size_bytes, attachment_types,\n"
                            "retry_count, delay_seconds, final_queue_status.\n"
                            "\n"
                            "Records of a message are written when the message leaves the queue (or at\n"
                            "the end of the input), because only then is each recipient's final status\n"
                            "known; retry_count is 0 for a recipient's first attempt in the input.\n"
                            "\n"
                            "  --ndjson                one JSON object a line (default)\n"
                            "  --csv                   CSV with a header row of the field names\n"
                            "  -h, --help              this help\n"
                            "\n";

int cmd_events(int argc, char **argv)
{
    static const struct option opts[] = {
        {"csv", no_argument, NULL, 'c'},
        {"ndjson", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        CLI_INPUT_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cli_input in = {.progress = -1};
    mt_events_format fmt = MT_EVENTS_NDJSON;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = cli_input_option(&in, c, optarg);
        if (r < 0)
            return EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case 'c':
            fmt = MT_EVENTS_CSV;
            break;
        case 'n':
            fmt = MT_EVENTS_NDJSON;
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
    mt_events_out *out = mt_events_out_new(stdout, fmt, in.show_recipients);
    mt_scan_stats scan;
    mt_join_stats join;
    memset(&scan, 0, sizeof scan);
    char rules[4096];
    mt_rules *rules_loaded;
    int rc =
        cli_run_inputs(&in, argv[0], mt_events_write, out, &scan, &join, rules, sizeof rules, &rules_loaded);
    mt_rules_free(rules_loaded);
    if (mt_events_out_close(out) < 0) {
        fprintf(stderr, "mailtriage: error writing the records to standard output\n");
        return EXIT_INPUT;
    }
    if (scan.malformed)
        fprintf(stderr,
                "mailtriage: %llu line(s) looked like their input's format but could not be parsed; "
                "`mailtriage diagnose` lists the reasons, --show-skipped N shows them\n",
                (unsigned long long)scan.malformed);
    return rc;
}
