/*
 * fuzz_message.c - libFuzzer target for the message path: GMime loading,
 * every check family (MIME tree, encodings, charsets, RFC 2047 words,
 * attachments' magic, link extraction), the DKIM-Signature tag parser and
 * verifier (with a fixed key record for every selector, so the canonical
 * forms and the crypto calls run), and the matrix results parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dkim.h"
#include "matrix.h"
#include "message.h"
#include "msgcheck.h"

static mt_dkim_key_status fixed_key(const char *name, mt_buf *txt, char *why, size_t whylen, void *arg)
{
    (void)why;
    (void)whylen;
    (void)arg;
    /* RFC 8463 A.2's Ed25519 key for one selector, an RSA-less record else */
    if (strncmp(name, "brisbane.", 9) == 0)
        mt_buf_puts(txt, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    else
        mt_buf_puts(
            txt, "v=DKIM1; k=rsa; t=y:s; h=sha256; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALgSoqXVSEmfcIsOzw7oRu"
                 "CCOwsmtX/SJnTWxYyj2leFxfS/AVJ+dYfY+hXqMsT7l+MZvvh/R1WzN4MO/kI/7XsCAwEAAQ==");
    return MT_DKIM_KEY_FOUND;
}

static mt_orgdomain *org;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (org == NULL)
        org = mt_orgdomain_open();
    const char *p = (const char *)data;
    mt_dkim_tag tags[32];
    char why[128];
    (void)mt_dkim_tags_parse(p, size, tags, 32, why, sizeof why);
    (void)mt_rfc2047_problem(p, size, why, sizeof why);
    mt_matrix_outcome r[MT_MATRIX_TESTS];
    char err[256];
    (void)mt_matrix_parse_results(p, size, r, err, sizeof err);

    mt_message *m = mt_message_parse(p, size, err, sizeof err);
    if (m == NULL)
        return 0;
    mt_msgcheck_opts o = {
        .mail_from = "bounce@example.com", .dkim_key = fixed_key, .now = 1700000000, .org = org};
    mt_checklist *l = mt_checklist_new();
    mt_msgcheck_run(m, &o, l);
    mt_buf out;
    mt_buf_init(&out);
    mt_checklist_json(l, "fuzz", &out);
    mt_buf_free(&out);
    mt_checklist_free(l);
    mt_message_free(m);
    return 0;
}
