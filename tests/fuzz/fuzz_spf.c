/*
 * fuzz_spf.c - libFuzzer target for the SPF record parser and the macro
 * expander: the input is checked as a record, expanded as a domain-spec
 * and as exp text.
 */
#include <stddef.h>
#include <stdint.h>

#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_spf_syntax s;
    mt_spf_parse_check((const char *)data, size, &s);
    mt_buf b;
    mt_buf_init(&b);
    (void)mt_spf_expand_test((const char *)data, size, 0, &b);
    mt_buf_reset(&b);
    (void)mt_spf_expand_test((const char *)data, size, 1, &b);
    mt_buf_free(&b);
    return 0;
}
