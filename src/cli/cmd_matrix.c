/*
 * cmd_matrix.c - `mailtriage matrix FILE.eml --out DIR` writes the seed's
 * Test A-E; `mailtriage matrix --interpret RESULTS` reads their outcomes.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../lib/matrix.h"
#include "../lib/message.h"
#include "cli.h"

static const char usage[] = "usage: mailtriage matrix FILE.eml|- --out DIR [--mail-from ADDR]\n"
                            "       mailtriage matrix --interpret RESULTS|- [--json]\n"
                            "\n"
                            "Build the minimal reproduction matrix of the seed from a production message,\n"
                            "each a valid message with the same From and envelope:\n"
                            "  A.eml  plain text, no links, no attachments\n"
                            "  B.eml  plain text with the production links, no attachments\n"
                            "  C.eml  HTML without tracking rewrites (tracking links resolved back to the\n"
                            "         target they carry, else left out; tracking pixels dropped)\n"
                            "  D.eml  the production HTML with its tracking, no attachments\n"
                            "  E.eml  the production message as it is\n"
                            "and matrix.json describing each (size, parts, links, tracking links,\n"
                            "attachments, what was changed).  Trace and DKIM-Signature fields are not\n"
                            "carried into A-D: sign them again before sending.\n"
                            "\n"
                            "Send each with the same envelope and route, then give the outcomes to\n"
                            "--interpret, one test a line ('A accepted', 'D deferred 451 4.3.2 ...',\n"
                            "'E=refused'), or as JSON ({\"A\":\"accepted\",...}): it prints the seed's\n"
                            "conclusion (only E fails: attachments or size; D fails and C passes: link\n"
                            "tracking, redirect domains, URL count, HTML transformations; A fails: the\n"
                            "envelope, route, DNS or reputation rather than the body; and every other\n"
                            "combination, inconsistent ones included).\n"
                            "\n"
                            "  --out DIR              where to write A.eml ... E.eml and matrix.json\n"
                            "  --mail-from ADDR       the envelope sender to record (default: Return-Path\n"
                            "                         or From)\n"
                            "  --interpret RESULTS    read outcomes from RESULTS ('-' for stdin)\n"
                            "  --json                 the interpretation as JSON\n"
                            "  -h, --help             this help\n";

static int read_all(const char *path, mt_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return -1;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b->len < (1u << 20))
        mt_buf_append(b, chunk, n);
    if (f != stdin)
        fclose(f);
    if (b->data == NULL)
        mt_buf_puts(b, "");
    return 0;
}

int cmd_matrix(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"mail-from", required_argument, NULL, 'm'},
        {"interpret", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outdir = NULL, *mail_from = NULL, *results = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            outdir = optarg;
            break;
        case 'm':
            mail_from = optarg;
            break;
        case 'i':
            results = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            fputs(usage, stderr);
            return EXIT_USAGE;
        }
    }
    char err[512];
    if (results) {
        if (optind != argc || outdir) {
            fprintf(stderr, "mailtriage: matrix --interpret takes no FILE.eml or --out\n");
            return EXIT_USAGE;
        }
        mt_buf text;
        mt_buf_init(&text);
        if (read_all(results, &text) < 0) {
            perror(results);
            return EXIT_INPUT;
        }
        mt_matrix_outcome r[MT_MATRIX_TESTS];
        int n = mt_matrix_parse_results(text.data, text.len, r, err, sizeof err);
        mt_buf_free(&text);
        if (n < 0) {
            fprintf(stderr, "mailtriage: %s: %s\n", strcmp(results, "-") == 0 ? "stdin" : results, err);
            return EXIT_INPUT;
        }
        if (n == 0) {
            fprintf(stderr, "mailtriage: %s: no test outcomes (want lines such as 'A accepted')\n", results);
            return EXIT_INPUT;
        }
        mt_buf out;
        mt_buf_init(&out);
        mt_matrix_interpret(r, json, &out);
        int rc = cli_write_stdout(&out) < 0 ? EXIT_INPUT : EXIT_OK;
        mt_buf_free(&out);
        return rc;
    }
    if (argc - optind != 1 || outdir == NULL) {
        fprintf(stderr, "mailtriage: matrix wants FILE.eml and --out DIR (or --interpret RESULTS)\n\n");
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[optind];
    mt_message *m = mt_message_load_file(path, err, sizeof err);
    if (m == NULL) {
        fprintf(stderr, "mailtriage: %s\n", err);
        return EXIT_INPUT;
    }
    if (mt_message_mbox_messages(m) > 1)
        fprintf(stderr,
                "mailtriage: %s is an mbox of %zu messages: only the first is used (split it to see the "
                "others)\n",
                path, mt_message_mbox_messages(m));
    int rc = EXIT_OK;
    if (mt_matrix_write(m, strcmp(path, "-") == 0 ? "(stdin)" : path, mail_from, outdir, err, sizeof err) <
        0) {
        fprintf(stderr, "mailtriage: %s\n", err);
        rc = EXIT_INPUT;
    } else {
        printf("wrote %s/A.eml B.eml C.eml D.eml E.eml matrix.json\n", outdir);
    }
    mt_message_free(m);
    return rc;
}
