/*
 * fuzz_exim.c - libFuzzer target for the Exim reader, format detection and
 * the joiner:
 * the input is a log, one line per '\n'; every line is parsed and fed to a
 * joiner whose records go through classification and the analysis, so the
 * whole path from bytes to figures is exercised.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "classify.h"
#include "correlate.h"
#include "output_events.h"
#include "format.h"
#include "reader_exim.h"

static mt_rules *rules;

static void write_rules(char *path)
{
    static const char text[] = "provider\tnetease\tdomains\t163.com 126.com\n"
                               "provider\tgoogle\tmx\t(^|\\.)google\\.com$\n"
                               "reply\tnetease\tcontent\tretry\t-\tDT:SPM\tx\n"
                               "reply\t*\treceiver_internal\tretry\tgeneric_frontend\t^451 4\\.3\\.2\tx\n"
                               "reply\t*\tnetwork\tretry\t-\t(?i)timed out|refused\tx\n";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, sizeof text - 1) != (ssize_t)(sizeof text - 1))
        abort();
    close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *env = getenv("MAILTRIAGE_RULES");
    mt_buf err;
    mt_buf_init(&err);
    if (env) {
        rules = mt_rules_load(env, &err);
    } else {
        char path[] = "/tmp/mt-fuzz-rules-XXXXXX";
        write_rules(path);
        rules = mt_rules_load(path, &err);
        unlink(path);
    }
    if (rules == NULL) {
        fprintf(stderr, "fuzz_exim: %s\n", err.data);
        abort();
    }
    mt_buf_free(&err);
    return 0;
}

static void both(const mt_attempt *a, void *arg)
{
    void **pair = arg;
    mt_diag_add(a, pair[0]);
    mt_events_write(a, pair[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_classifier *cls = mt_classifier_new(rules);
    mt_diag *d = mt_diag_new(0);
    FILE *null = fopen("/dev/null", "w");
    mt_events_out *out = mt_events_out_new(null, MT_EVENTS_NDJSON, 0);
    void *pair[2] = {d, out};
    mt_join *j = mt_join_new(cls, NULL, NULL, both, pair);
    {
        char *copy = malloc(size ? size : 1);
        memcpy(copy, data, size);
        (void)mt_format_detect(copy, size);
        free(copy);
    }
    /* each line in a buffer of exactly its length, with no terminator:
     * the reader works on lengths (mapped files are not NUL-terminated),
     * and AddressSanitizer catches any read past the end */
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            size_t n = i - start;
            char *line = malloc(n ? n : 1);
            memcpy(line, data + start, n);
            mt_pf_line l;
            if (mt_exim_parse(line, n, &l) > MT_PF_IGNORED)
                mt_join_line(j, &l, "fuzz", 1);
            free(line);
            start = i + 1;
        }
    }
    mt_join_finish(j);
    (void)mt_diag_finish(d);
    mt_join_free(j);
    mt_events_out_close(out);
    fclose(null);
    mt_diag_free(d);
    mt_classifier_free(cls);
    return 0;
}
