/*
 * main.c - `mailtriage COMMAND …`: dispatch to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef MT_VERSION
#define MT_VERSION "0"
#endif

static const char usage[] =
    "usage: mailtriage COMMAND [options] [ARGS]\n"
    "\n"
    "Tell a postmaster why mail is being deferred or refused, from the MTA's own logs.\n"
    "\n"
    "Commands:\n"
    "  diagnose [FILE...]   read logs, classify every reply, report what fails where\n"
    "  events [FILE...]     the normalised delivery-attempt records (NDJSON or CSV)\n"
    "  check-message FILE   check a message: MIME, charsets, size, attachments, links,\n"
    "                       headers, DKIM (numbered pass/warn/fail, a score, --json)\n"
    "  matrix FILE --out DIR  write the seed's Test A-E from a production message;\n"
    "                       matrix --interpret RESULTS reads their outcomes\n"
    "  check-domain DOMAIN  SPF, DKIM keys, DMARC, reverse DNS, HELO, MX, blocklists\n"
    "  spf --ip IP ...      one SPF check_host() (RFC 7208): the result word first\n"
    "  bounces PATH...      bounce mails (eml, mbox, Maildir) into attempt records\n"
    "  help [COMMAND]       this text, or a command's help\n"
    "\n"
    "Run `mailtriage COMMAND --help` for a command's options; `man mailtriage` for more.\n"
    "Exit status: 0 success, 1 the input could not be processed, 2 usage error.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "diagnose") == 0)
        return cmd_diagnose(argc - 1, argv + 1);
    if (strcmp(cmd, "events") == 0)
        return cmd_events(argc - 1, argv + 1);
    if (strcmp(cmd, "check-message") == 0)
        return cmd_check_message(argc - 1, argv + 1);
    if (strcmp(cmd, "matrix") == 0)
        return cmd_matrix(argc - 1, argv + 1);
    if (strcmp(cmd, "check-domain") == 0)
        return cmd_check_domain(argc - 1, argv + 1);
    if (strcmp(cmd, "spf") == 0)
        return cmd_spf(argc - 1, argv + 1);
    if (strcmp(cmd, "bounces") == 0)
        return cmd_bounces(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2) {
            char *sub[] = {argv[2], "--help", NULL};
            if (strcmp(argv[2], "diagnose") == 0)
                return cmd_diagnose(2, sub);
            if (strcmp(argv[2], "events") == 0)
                return cmd_events(2, sub);
            if (strcmp(argv[2], "check-message") == 0)
                return cmd_check_message(2, sub);
            if (strcmp(argv[2], "matrix") == 0)
                return cmd_matrix(2, sub);
            if (strcmp(argv[2], "check-domain") == 0)
                return cmd_check_domain(2, sub);
            if (strcmp(argv[2], "spf") == 0)
                return cmd_spf(2, sub);
            if (strcmp(argv[2], "bounces") == 0)
                return cmd_bounces(2, sub);
        }
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("mailtriage %s\n", MT_VERSION);
        return EXIT_OK;
    }
    fprintf(stderr, "mailtriage: '%s' is not a command\n\n", cmd);
    fputs(usage, stderr);
    return EXIT_USAGE;
}
