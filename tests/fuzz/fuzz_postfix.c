/*
 * fuzz_postfix.c - libFuzzer target for the Postfix reader and the joiner:
 * the input is a log, one line per '\n'; every line is parsed (with year
 * inference) and fed to a joiner whose records go through classification
 * and the analysis, so the whole path from bytes to figures is exercised.
 */
#include "fuzz_common.h"
#include "reader_postfix.h"

static mt_rules *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rules = fuzz_rules(FUZZ_RULES, "fuzz_postfix");
    return 0;
}

static int parse(const char *line, size_t n, mt_pf_line *l, void *arg)
{
    return mt_pf_parse(line, n, arg, l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_yearctx yc;
    mt_yearctx_init(&yc, 2026, 1);
    fuzz_log(data, size, rules, parse, &yc);
    return 0;
}
