/*
 * test_dkim_corpus.c - the DKIM verifier on the shared corpus
 * ($MAILTRIAGE_CORPUS/auth): RFC 8463 A.3 with the keys of KEYS.zone.yml,
 * the Exim Ed25519 example, and the 79 messages of Mail::DKIM's corpus
 * with their FAKE_DNS.dat keys, compared message by message with the
 * results dkimpy 1.1.4 (minkey 1024, RFC 8301 like us) gave for the same
 * files.  Exits 77 ("skip: corpus absent") when the corpus is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "dkim.h"
#include "dkim_keys.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static char corpus[1024];

static int read_file(const char *path, mt_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        mt_buf_append(b, chunk, n);
    fclose(f);
    if (b->data == NULL)
        mt_buf_puts(b, "");
    return 0;
}

/* FAKE_DNS.dat: "name  record", or NXDOMAIN / ~~SERVFAIL~~ / ~~Query timed out~~ */
typedef struct fake_dns {
    char names[64][128];
    char recs[64][1024];
    int n;
} fake_dns;

static mt_dkim_key_status fake_lookup(const char *name, mt_buf *txt, char *why, size_t whylen, void *arg)
{
    fake_dns *d = arg;
    for (int i = 0; i < d->n; i++) {
        if (strcasecmp(d->names[i], name) != 0)
            continue;
        const char *r = d->recs[i];
        if (strcmp(r, "NXDOMAIN") == 0)
            break;
        if (strncmp(r, "~~", 2) == 0) {
            snprintf(why, whylen, "%s", r);
            return MT_DKIM_KEY_TEMPERROR;
        }
        mt_buf_puts(txt, strcmp(r, "\"\"") == 0 ? "" : r);
        return MT_DKIM_KEY_FOUND;
    }
    snprintf(why, whylen, "NXDOMAIN");
    return MT_DKIM_KEY_NONE;
}

static void load_fake_dns(fake_dns *d)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/auth/mail-dkim/FAKE_DNS.dat", corpus);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    d->n = 0;
    while (fgets(line, sizeof line, f) && d->n < 64) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sp = strpbrk(line, " \t");
        if (sp == NULL)
            continue;
        *sp++ = '\0';
        while (*sp == ' ' || *sp == '\t')
            sp++;
        size_t l = strlen(sp);
        while (l > 0 && sp[l - 1] == ' ')
            sp[--l] = '\0';
        snprintf(d->names[d->n], sizeof d->names[0], "%s", line);
        snprintf(d->recs[d->n], sizeof d->recs[0], "%s", sp);
        d->n++;
    }
    fclose(f);
}

static void test_mail_dkim_vs_dkimpy(void **state)
{
    (void)state;
    fake_dns *dns = calloc(1, sizeof *dns);
    load_fake_dns(dns);
    char path[1200];
    snprintf(path, sizeof path, "%s/auth/mail-dkim/results.dkimpy-1.1.4.minkey1024.tsv", corpus);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int compared = 0, agree = 0, passes = 0, nosig = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char file[256], idx[16], d[256], s[256], a[64], result[2048];
        if (sscanf(line, "%255[^\t]\t%15[^\t]\t%255[^\t]\t%255[^\t]\t%63[^\t]\t%2047[^\n]", file, idx, d, s,
                   a, result) != 6)
            continue;
        mt_buf msg;
        mt_buf_init(&msg);
        snprintf(path, sizeof path, "%s/auth/mail-dkim/corpus/%s", corpus, file);
        assert_int_equal(read_file(path, &msg), 0);
        mt_dkim_sig sigs[8];
        /* the corpus is from 2007-2023: judge expiry at its own time */
        size_t n = mt_dkim_verify(msg.data, msg.len, fake_lookup, dns, 1700000000, sigs, 8);
        compared++;
        if (strcmp(result, "nosig") == 0) {
            nosig++;
            if (n == 0)
                agree++;
            else
                print_message("disagree %s: dkimpy no signature, we found %zu\n", file, n);
        } else {
            int i = atoi(idx);
            int theirs = strcmp(result, "pass") == 0;
            int ours = (size_t)i < n && sigs[i].result == MT_DKIM_PASS;
            passes += theirs;
            if (theirs == ours)
                agree++;
            else
                print_message("disagree %s sig %d: dkimpy '%s', we %s (%s)\n", file, i, result,
                              (size_t)i < n ? mt_dkim_result_name(sigs[i].result) : "-",
                              (size_t)i < n ? sigs[i].reason : "no such signature");
        }
        mt_buf_free(&msg);
    }
    fclose(f);
    print_message(
        "mail-dkim corpus: %d signatures/messages compared with dkimpy, %d agree (%d pass, %d unsigned)\n",
        compared, agree, passes, nosig);
    assert_true(compared >= 79);
    assert_true(passes >= 2);
    assert_int_equal(agree, compared);
    free(dns);
}

static void test_rfc8463_zone(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/auth/dkimpy/KEYS.zone.yml", corpus);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    mt_dkim_keys *k = mt_dkim_keys_new();
    char line[2048], name[256] = "";
    int keys = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, "\r\n");
        p[l] = '\0';
        if (strstr(p, "._domainkey.") && p[l - 1] == ':') {
            p[l - 1] = '\0';
            snprintf(name, sizeof name, "%s", p);
        } else if (strncmp(p, "- TXT: ", 7) == 0 && name[0]) {
            mt_dkim_keys_add_text(k, name, p + 7); /* quoted: joined by add_text */
            keys++;
        }
    }
    fclose(f);
    assert_int_equal(keys, 2);
    mt_buf msg;
    mt_buf_init(&msg);
    snprintf(path, sizeof path, "%s/auth/dkimpy/rfc6376.signed.msg", corpus);
    assert_int_equal(read_file(path, &msg), 0);
    mt_dkim_sig s[4];
    assert_int_equal(mt_dkim_verify(msg.data, msg.len, mt_dkim_keys_lookup, k, 1700000000, s, 4), 2);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_int_equal(s[1].result, MT_DKIM_PASS);
    /* one flipped byte in the body: both fail on the body hash */
    char *body = strstr(msg.data, "hungry");
    assert_non_null(body);
    body[0] = 'H';
    mt_dkim_verify(msg.data, msg.len, mt_dkim_keys_lookup, k, 1700000000, s, 4);
    assert_int_equal(s[0].result, MT_DKIM_FAIL);
    assert_int_equal(s[1].result, MT_DKIM_FAIL);
    assert_non_null(strstr(s[1].reason, "body hash"));
    mt_buf_free(&msg);
    mt_dkim_keys_free(k);
}

/* x=: ignore_7.txt expires at 1193229946; a second before it verifies
 * (rsa-sha1, a 1024-bit key), a second after it is expired */
static void test_expiry(void **state)
{
    (void)state;
    fake_dns *dns = calloc(1, sizeof *dns);
    load_fake_dns(dns);
    char path[1200];
    snprintf(path, sizeof path, "%s/auth/mail-dkim/corpus/ignore_7.txt", corpus);
    mt_buf msg;
    mt_buf_init(&msg);
    assert_int_equal(read_file(path, &msg), 0);
    mt_dkim_sig s[2];
    assert_int_equal(mt_dkim_verify(msg.data, msg.len, fake_lookup, dns, 1193229945, s, 2), 1);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_int_equal(s[0].x, 1193229946);
    mt_dkim_verify(msg.data, msg.len, fake_lookup, dns, 1193229947, s, 2);
    assert_int_equal(s[0].result, MT_DKIM_PERMERROR);
    assert_non_null(strstr(s[0].reason, "expired"));
    mt_buf_free(&msg);
    free(dns);
}

/* Exim's Ed25519 signature (dkimpy's ed25519test2.msg, key eximtest.dns) */
static void test_exim_ed25519(void **state)
{
    (void)state;
    char path[1200];
    mt_buf key, msg;
    mt_buf_init(&key);
    mt_buf_init(&msg);
    snprintf(path, sizeof path, "%s/auth/dkimpy/eximtest.dns", corpus);
    assert_int_equal(read_file(path, &key), 0);
    snprintf(path, sizeof path, "%s/auth/dkimpy/ed25519test2.msg", corpus);
    assert_int_equal(read_file(path, &msg), 0);
    mt_dkim_keys *k = mt_dkim_keys_new();
    mt_dkim_keys_add_text(k, "sed._domainkey.test.ex", key.data);
    mt_dkim_sig s[2];
    assert_int_equal(mt_dkim_verify(msg.data, msg.len, mt_dkim_keys_lookup, k, 1700000000, s, 2), 1);
    assert_int_equal(s[0].result, MT_DKIM_PASS);
    assert_string_equal(s[0].a, "ed25519-sha256");
    assert_string_equal(s[0].c, "relaxed/relaxed");
    mt_dkim_keys_free(k);
    mt_buf_free(&key);
    mt_buf_free(&msg);
}

int main(void)
{
    const char *c = getenv("MAILTRIAGE_CORPUS");
    snprintf(corpus, sizeof corpus, "%s", c && *c ? c : "../shared/corpus");
    char probe[1200];
    snprintf(probe, sizeof probe, "%s/auth/mail-dkim/FAKE_DNS.dat", corpus);
    FILE *f = fopen(probe, "r");
    if (f == NULL) {
        printf("skip: corpus absent (%s)\n", corpus);
        return 77;
    }
    fclose(f);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8463_zone),
        cmocka_unit_test(test_mail_dkim_vs_dkimpy),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_exim_ed25519),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
