/*
 * fuzz_transcript.c - libFuzzer target for the SMTP transcript reader:
 * the input is a transcript, one line per '\n', each fed in a buffer of
 * exactly its length (AddressSanitizer catches reads past the end); the
 * parsed lines are handed to a joiner, as scan.c does.
 */
#include "correlate.h"
#include "fuzz_common.h"
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

typedef struct ts_ctx {
    mt_ts *t;
    mt_join *j;
} ts_ctx;

static void one_line(const char *line, size_t n, void *arg)
{
    ts_ctx *c = arg;
    (void)mt_ts_line(c->t, line, n, emit, c->j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mt_rules *rules;
    if (rules == NULL)
        rules = fuzz_rules(FUZZ_RULES, "fuzz_transcript");
    mt_classifier *cls = mt_classifier_new(rules);
    mt_join *j = mt_join_new(cls, NULL, NULL, drop, NULL);
    ts_ctx c = {mt_ts_new("fuzz"), j};
    fuzz_lines(data, size, 0, one_line, &c);
    mt_ts_finish(c.t, emit, j);
    mt_ts_free(c.t);
    mt_join_finish(j);
    mt_join_free(j);
    mt_classifier_free(cls);
    return 0;
}
