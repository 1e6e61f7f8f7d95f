/*
 * test_input.c - blocks of whole lines over plain, CRLF, gzip, zstd,
 * truncated and multi-member inputs; long lines; rotated-set ordering;
 * plain files that grow or shrink while they are read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "input.h"

static const char text[] = "line one\nline two\r\n\nlast line without newline";

static char path[64];

static void write_bytes(const void *p, size_t n)
{
    strcpy(path, "/tmp/mt-test-input-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

/* take_lines - the lines of one block into lines[*n...] */
static void take_lines(const char *block, size_t blen, char lines[][64], int max, int *n, int *cuts)
{
    size_t pos = 0, len;
    int cut;
    const char *l;
    while ((l = mt_chunk_next(block, blen, &pos, &len, &cut)) != NULL) {
        if (*n < max)
            snprintf(lines[*n], 64, "%.*s", (int)len, l);
        (*n)++;
        *cuts += cut;
    }
}

/* next_block - the next block, as scan.c reads it */
static size_t next_block(mt_input *in, mt_buf *block, size_t want, const char **p)
{
    mt_buf_reset(block);
    size_t got = mt_input_chunk(in, block, want);
    *p = block->data;
    return got;
}

/* read_open - every line of an open input through blocks of `want`
 * bytes; returns the number of lines */
static int read_open(mt_input *in, size_t want, char lines[][64], int max, int *cuts)
{
    mt_buf block;
    mt_buf_init(&block);
    int n = 0;
    const char *p;
    size_t got;
    while ((got = next_block(in, &block, want, &p)) != 0)
        take_lines(p, got, lines, max, &n, cuts);
    mt_buf_free(&block);
    return n;
}

/* read_all - every line of the input at path, through blocks of `want`
 * bytes; returns the number of lines, *error set when the input said so */
static int read_all(size_t want, char lines[][64], int max, int *error, int *cuts)
{
    mt_buf err;
    mt_buf_init(&err);
    mt_input *in = mt_input_open(path, &err);
    assert_non_null(in);
    *cuts = 0;
    int n = read_open(in, want, lines, max, cuts);
    *error = mt_input_error(in) != NULL;
    mt_input_close(in);
    mt_buf_free(&err);
    unlink(path);
    return n;
}

/* what is appended after the open is read too: a live log */
static void t_appended(void **state)
{
    (void)state;
    write_bytes(text, strlen(text));
    mt_buf err;
    mt_buf_init(&err);
    mt_input *in = mt_input_open(path, &err);
    assert_non_null(in);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("\nappended\n", fp);
    fclose(fp);
    char got[8][64];
    int cuts = 0;
    assert_int_equal(read_open(in, 4, got, 8, &cuts), 5);
    assert_string_equal(got[1], "line two");
    assert_string_equal(got[3], "last line without newline");
    assert_string_equal(got[4], "appended");
    assert_int_equal(mt_input_bytes(in), strlen(text) + 10);
    assert_null(mt_input_error(in));
    mt_input_close(in);
    mt_buf_free(&err);
    unlink(path);
}

/* a file cut short after the open (copytruncate) ends where it was cut:
 * what was read before is handed out whole, nothing torn, no error */
static void t_truncated_while_read(void **state)
{
    (void)state;
    size_t n = 64 * 65536;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i += 16)
        memcpy(big + i, "sixteen bytes!!\n", 16);
    write_bytes(big, n);
    free(big);
    mt_buf err;
    mt_buf_init(&err);
    mt_input *in = mt_input_open(path, &err);
    assert_non_null(in);
    const char *p;
    mt_buf block;
    mt_buf_init(&block);
    size_t first = next_block(in, &block, 65536, &p);
    assert_int_equal(first, 65536);
    assert_int_equal(truncate(path, 65536 + 160), 0);
    int cuts = 0, lines = 0, whole = 0;
    char got[1][64];
    take_lines(p, first, got, 1, &lines, &cuts);
    while ((first = next_block(in, &block, 65536, &p)) != 0) {
        size_t pos = 0, len;
        int cut;
        const char *l;
        while ((l = mt_chunk_next(p, first, &pos, &len, &cut)) != NULL) {
            lines++;
            whole += len == 15 && memcmp(l, "sixteen bytes!!", 15) == 0;
        }
    }
    assert_true(lines >= (65536 + 160) / 16 && lines <= (int)(n / 16));
    assert_int_equal(whole, lines - 65536 / 16);
    assert_int_equal(mt_input_bytes(in), (uint64_t)lines * 16);
    assert_null(mt_input_error(in));
    mt_buf_free(&block);
    mt_input_close(in);
    mt_buf_free(&err);
    unlink(path);
}

static const char *const want[] = {"line one", "line two", "", "last line without newline"};

static void expect_text(size_t block)
{
    char got[8][64];
    int error, cuts;
    int n = read_all(block, got, 8, &error, &cuts);
    assert_int_equal(n, 4);
    assert_false(error);
    for (int i = 0; i < 4; i++)
        assert_string_equal(got[i], want[i]);
}

static void t_plain(void **state)
{
    (void)state;
    /* blocks bigger than the input, and smaller than one line */
    write_bytes(text, strlen(text));
    expect_text(1 << 20);
    write_bytes(text, strlen(text));
    expect_text(3);
}

static size_t gz(const char *src, size_t n, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return got;
}

static void t_gzip(void **state)
{
    (void)state;
    unsigned char buf[4096];
    size_t n = gz(text, strlen(text), buf, sizeof buf);
    write_bytes(buf, n);
    expect_text(1 << 20);
    /* two members, as `cat a.gz b.gz` makes */
    size_t n1 = gz("a\n", 2, buf, sizeof buf);
    size_t n2 = gz("b\n", 2, buf + n1, sizeof buf - n1);
    write_bytes(buf, n1 + n2);
    char got[4][64];
    int error, cuts;
    assert_int_equal(read_all(1 << 20, got, 4, &error, &cuts), 2);
    assert_string_equal(got[0], "a");
    assert_string_equal(got[1], "b");
    /* truncated: an error, not a silent end */
    n = gz(text, strlen(text), buf, sizeof buf);
    write_bytes(buf, n - 6);
    read_all(1 << 20, got, 4, &error, &cuts);
    assert_true(error);
}

static void t_zstd(void **state)
{
    (void)state;
    unsigned char buf[4096];
    size_t n = ZSTD_compress(buf, sizeof buf, text, strlen(text), 3);
    assert_false(ZSTD_isError(n));
    write_bytes(buf, n);
    expect_text(1 << 20);
    write_bytes(buf, n - 5);
    char got[4][64];
    int error, cuts;
    read_all(1 << 20, got, 4, &error, &cuts);
    assert_true(error);
}

static void t_long_lines(void **state)
{
    (void)state;
    size_t big = MT_INPUT_MAX_LINE + 100;
    char *p = malloc(big + 10);
    memset(p, 'x', big);
    memcpy(p + big, "\nok\n", 4);
    write_bytes(p, big + 4);
    free(p);
    char got[4][64];
    int error, cuts;
    assert_int_equal(read_all(1 << 20, got, 4, &error, &cuts), 2);
    assert_int_equal(cuts, 1);
    assert_string_equal(got[1], "ok");
    assert_false(error);
}

static void t_missing(void **state)
{
    (void)state;
    mt_buf err;
    mt_buf_init(&err);
    assert_null(mt_input_open("/nonexistent/mail.log", &err));
    assert_non_null(strstr(err.data, "/nonexistent/mail.log"));
    mt_buf_free(&err);
}

static void t_order(void **state)
{
    (void)state;
    const char *p[] = {"/v/mail.log", "/v/mail.log.1", "/w/other.log", "/v/mail.log.10.gz",
                       "/v/mail.log.2.gz"};
    mt_input_order(p, 5);
    assert_string_equal(p[0], "/v/mail.log.10.gz");
    assert_string_equal(p[1], "/v/mail.log.2.gz");
    assert_string_equal(p[2], "/v/mail.log.1");
    assert_string_equal(p[3], "/v/mail.log");
    assert_string_equal(p[4], "/w/other.log");
    const char *d[] = {"maillog", "maillog-20261121.zst", "maillog-20261120"};
    mt_input_order(d, 3);
    assert_string_equal(d[0], "maillog-20261120");
    assert_string_equal(d[1], "maillog-20261121.zst");
    assert_string_equal(d[2], "maillog");
}

/* mt_lines against mt_chunk_next: the same lines, lengths and cuts over
 * random blocks of short and long lines, CRs, empty lines, line ends at
 * and around every 64-byte boundary, with and without a last LF, and a
 * line past MT_INPUT_MAX_LINE */
static void t_lines_walk(void **state)
{
    (void)state;
    size_t cap = MT_INPUT_MAX_LINE + 4096;
    char *block = malloc(cap);
    assert_non_null(block);
    uint64_t x = 0x2545f4914f6cdd1dULL;
    for (int round = 0; round < 3000; round++) {
        size_t blen = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t want = round == 0 ? MT_INPUT_MAX_LINE + 3000 : (size_t)(x % 700);
        while (blen < want) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned r = (unsigned)(x >> 20) % 100;
            block[blen++] = r < 8 ? '\n' : r < 11 ? '\r' : (char)('a' + r % 26);
        }
        if (round == 0) /* one line past the limit, then a short one */
            memset(block, 'x', MT_INPUT_MAX_LINE + 100), block[MT_INPUT_MAX_LINE + 100] = '\n';
        mt_lines it;
        mt_lines_init(&it, block, blen);
        size_t pos = 0, len1, len2;
        int cut1, cut2, n = 0;
        for (;;) {
            const char *a = mt_chunk_next(block, blen, &pos, &len1, &cut1);
            const char *b = mt_lines_next(&it, &len2, &cut2);
            assert_ptr_equal(a, b);
            if (a == NULL)
                break;
            assert_int_equal(len1, len2);
            assert_int_equal(cut1, cut2);
            n++;
        }
        if (round == 0)
            assert_true(n >= 2);
    }
    free(block);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_lines_walk),
        cmocka_unit_test(t_plain),
        cmocka_unit_test(t_gzip),
        cmocka_unit_test(t_zstd),
        cmocka_unit_test(t_long_lines),
        cmocka_unit_test(t_missing),
        cmocka_unit_test(t_order),
        cmocka_unit_test(t_appended),
        cmocka_unit_test(t_truncated_while_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
