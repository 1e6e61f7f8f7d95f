/*
 * fuzz_transcript.c - libFuzzer target for the SMTP transcript reader:
 * the input is a transcript, one line per '\n', each fed in a buffer of
 * exactly its length (AddressSanitizer catches reads past the end); the
 * parsed lines are handed to a joiner, as scan.c does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "correlate.h"
#include "reader_transcript.h"

static void drop(const mt_attempt *a, void *arg)
{
    (void)arg;
    if (a->recipient && strlen(a->recipient) > (1u << 20))
        abort();
}

static void emit(const mt_pf_line *l, void *arg)
{
    mt_join_line(arg, l, "fuzz", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mt_rules *rules;
    if (rules == NULL) {
        static const char text[] =
            "provider\tnetease\tdomains\t163.com 126.com\n"
            "reply\t*\treceiver_internal\tretry\tgeneric_frontend\t^451 4\\.3\\.2\tx\n";
        char path[] = "/tmp/mt-fuzz-ts-rules-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
            abort();
        close(fd);
        mt_buf err;
        mt_buf_init(&err);
        rules = mt_rules_load(path, &err);
        unlink(path);
        mt_buf_free(&err);
        if (rules == NULL)
            abort();
    }
    mt_classifier *cls = mt_classifier_new(rules);
    mt_join *j = mt_join_new(cls, NULL, NULL, drop, NULL);
    mt_ts *t = mt_ts_new("fuzz");
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            size_t n = i - start;
            char *line = malloc(n ? n : 1);
            memcpy(line, data + start, n);
            (void)mt_ts_line(t, line, n, emit, j);
            free(line);
            start = i + 1;
        }
    }
    mt_ts_finish(t, emit, j);
    mt_ts_free(t);
    mt_join_finish(j);
    mt_join_free(j);
    mt_classifier_free(cls);
    return 0;
}
