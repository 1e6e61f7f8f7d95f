/*
 * fuzz_msgmeta.c - libFuzzer target for the --messages CSV parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "msgmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_buf err;
    mt_buf_init(&err);
    const char *ignored;
    mt_msgmeta *m = mt_msgmeta_parse((const char *)data, size, "fuzz", &err, &ignored);
    if (m) {
        /* look up what the input might contain */
        (void)mt_msgmeta_find(m, "m1@app.example", "AAAA111111");
        (void)mt_msgmeta_count(m);
    }
    mt_msgmeta_free(m);
    mt_buf_free(&err);
    return 0;
}
