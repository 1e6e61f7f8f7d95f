/*
 * fuzz_bounce.c - libFuzzer target for the bounce parser: the input is a
 * mail file (one message or an mbox); every message goes through sniffing,
 * GMime, the DSN / ARF / prose readers and the reason decision.
 * Reason phrases: $MAILTRIAGE_BOUNCE_REASONS, else data/bounce-reasons.tsv
 * from the current directory (check.sh runs at the repository root), else
 * none (status codes only).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bounce.h"
#include "mailbox.h"

static mt_bounce_reasons *reasons;
static mt_bounce_parser *parser;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *env = getenv("MAILTRIAGE_BOUNCE_REASONS");
    mt_buf err;
    mt_buf_init(&err);
    reasons = mt_bounce_reasons_load(env ? env : "data/bounce-reasons.tsv", &err);
    mt_buf_free(&err);
    parser = mt_bounce_parser_new(reasons, NULL);
    return 0;
}

static void sink(const mt_attempt *a, const mt_bounce_info *info, void *arg)
{
    size_t *n = arg;
    *n += (a->recipient ? 1 : 0) + (info->reason ? 1 : 0);
}

static void one(const char *buf, size_t n, const char *name, void *arg)
{
    (void)mt_bounce_sniff(buf, n);
    mt_bounce_parse(parser, buf, n, name, sink, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    mt_mailbox_stats st = {0};
    mt_mailbox_split((const char *)data, size, "fuzz", one, &n, &st);
    return 0;
}
