/*
 * fuzz_dmarc.c - libFuzzer target for the tag-list record parsers of
 * check-domain: the input is checked as a DMARC record and as a DKIM key
 * record (base64 decoding, OpenSSL key parsing).
 */
#include <stddef.h>
#include <stdint.h>

#include "domaincheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char sum[400], p[16];
    int bits;
    (void)mt_dmarc_record_check((const char *)data, size, sum, sizeof sum, p, sizeof p);
    (void)mt_dkim_key_check((const char *)data, size, sum, sizeof sum, &bits);
    return 0;
}
