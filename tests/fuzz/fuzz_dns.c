/*
 * fuzz_dns.c - libFuzzer target for DNS answer parsing (mt_dns_parse): the
 * first byte picks the query type, the rest is the response message.
 */
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {MT_DNS_TXT, MT_DNS_A,     MT_DNS_AAAA, MT_DNS_MX,
                                MT_DNS_PTR, MT_DNS_CNAME, MT_DNS_SPF};
    if (size < 1)
        return 0;
    int t = types[data[0] % 7];
    mt_dns_answer a = {0};
    mt_dns_parse(data + 1, (int)(size - 1 > 65535 ? 65535 : size - 1), t, &a);
    for (size_t k = 0; k < a.n; k++)
        (void)a.rr[k].data[a.rr[k].len];
    mt_dns_answer_clear(&a);
    return 0;
}
