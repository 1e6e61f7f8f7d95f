/*
 * cli_util.c - small helpers the subcommands share (see cli.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_int_option(const char *opt, const char *arg, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "mailtriage: %s wants a number from %d to %d, not '%s'\n", opt, lo, hi, arg);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_write_stdout(const mt_buf *b)
{
    if ((b->len && fwrite(b->data, 1, b->len, stdout) != b->len) || fflush(stdout) != 0) {
        fprintf(stderr, "mailtriage: error writing to standard output\n");
        return -1;
    }
    return 0;
}
