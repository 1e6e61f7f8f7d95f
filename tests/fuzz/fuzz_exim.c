/*
 * fuzz_exim.c - libFuzzer target for the Exim reader, format detection and
 * the joiner: the input is a log, one line per '\n'; every line is parsed
 * and fed to a joiner whose records go through classification and the
 * analysis, so the whole path from bytes to figures is exercised.
 */
#include "fuzz_common.h"
#include "reader_exim.h"

static mt_rules *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rules = fuzz_rules(FUZZ_RULES, "fuzz_exim");
    return 0;
}

static int parse(const char *line, size_t n, mt_pf_line *l, void *arg)
{
    return mt_exim_parse(line, n, arg, l); /* every other input with a minute cache */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_detect(data, size);
    mt_yearctx yc;
    mt_yearctx_init(&yc, 0, 0);
    fuzz_log(data, size, rules, parse, size & 1 ? &yc : NULL);
    return 0;
}
