/*
 * cmd_bounces.c - `mailtriage bounces PATH…`: bounce mails into attempt
 * records (NDJSON or CSV), or a summary on a terminal.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/bounce.h"
#include "../lib/output_events.h"
#include "../lib/strmap.h"
#include "cli.h"

static const char usage[] =
    "usage: mailtriage bounces [--ndjson|--json|--csv|--summary] [options] PATH...\n"
    "\n"
    "Read bounce mails and print one attempt record per recipient, in the order each\n"
    "bounce lists them.  PATH is a message file (.eml), an mbox, a Maildir (cur/, new/),\n"
    "a folder of them, or - for standard input; LF, CRLF and CR line ends.\n"
    "Understood: RFC 3464 delivery status notifications (failures; delay warnings are\n"
    "final_queue_status \"deferred\"), RFC 3834 auto-replies and ARF feedback reports\n"
    "(reported as such, kind autoreply / complaint), and the prose notices of MTAs\n"
    "and providers that send no delivery-status part (Exim, qmail, Sendmail, Gmail...).\n"
    "\n"
    "Records carry the SPEC section 3 fields (as `mailtriage events`) and three more:\n"
    "reason (Sisimai's vocabulary: userunknown, mailboxfull, blocked, ...), kind\n"
    "(failure, delay, delivered, autoreply, complaint) and feedback_type (ARF).\n"
    "\n"
    "  --ndjson, --json        one JSON object a line (default when not a terminal)\n"
    "  --csv                   CSV with a header row\n"
    "  --summary               counts by kind, reason and domain (default on a terminal)\n"
    "  --show-recipients       do not redact recipients' local parts\n"
    "  --rules FILE            provider and reply rules (default: the shipped rules.tsv)\n"
    "  --reasons FILE          bounce reason phrases (default: bounce-reasons.tsv beside\n"
    "                          the rules)\n"
    "  --threads N             parse on N threads (default: the number of cores, at\n"
    "                          most 8); records still come out in input order\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 success, 1 a path could not be read or nothing in it was mail,\n"
    "2 usage error.  Skipped messages (not mail, not a bounce) are counted on stderr.\n";

static const char *const kind_names[] = {"failure", "delay", "delivered", "autoreply", "complaint"};
static const char *const extra_fields[] = {"reason", "kind", "feedback_type"};

typedef struct counter {
    mt_strmap *reasons;
    mt_strmap *domains;
} counter;

typedef struct out_ctx {
    mt_events_out *ev;
    counter cnt;
    int summary;
} out_ctx;

/* the reason phrases, compiled on a thread of their own while the rules
 * are (both are mostly PCRE2 JIT compilation, a tenth of a run over a
 * small input) */
typedef struct reasons_job {
    const char *path;
    mt_buf err;
    mt_bounce_reasons *reasons;
} reasons_job;

static void *load_reasons(void *arg)
{
    reasons_job *j = arg;
    j->reasons = mt_bounce_reasons_load(j->path, &j->err);
    return NULL;
}

static void bump(mt_strmap *m, const char *k)
{
    if (k == NULL)
        k = "(none)";
    uintptr_t v = (uintptr_t)mt_strmap_get(m, k, strlen(k));
    mt_strmap_put(m, k, strlen(k), (void *)(v + 1));
}

static void on_record(const mt_attempt *a, const mt_bounce_info *info, void *arg)
{
    out_ctx *o = arg;
    if (o->summary) {
        bump(o->cnt.reasons, info->reason);
        bump(o->cnt.domains, a->recipient_domain);
        return;
    }
    const char *vals[3] = {info->reason, kind_names[info->kind],
                           info->feedback_type && info->feedback_type[0] ? info->feedback_type : NULL};
    mt_events_write_extra(a, vals, o->ev);
}

typedef struct kv {
    const char *k;
    uintptr_t v;
} kv;

static kv *items;
static int nitems, capitems;

static void collect(const char *k, size_t kl, void *val, void *arg)
{
    (void)kl;
    (void)arg;
    if (nitems == capitems) {
        capitems = capitems ? capitems * 2 : 64;
        items = mt_xrealloc(items, (size_t)capitems * sizeof *items);
    }
    items[nitems].k = k;
    items[nitems].v = (uintptr_t)val;
    nitems++;
}

static int by_count(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return strcmp(x->k, y->k);
}

static void print_top(const char *title, mt_strmap *m, int top)
{
    nitems = 0;
    mt_strmap_each(m, collect, NULL);
    qsort(items, (size_t)nitems, sizeof *items, by_count);
    printf("%s:\n", title);
    for (int i = 0; i < nitems && i < top; i++)
        printf("  %8lu  %s\n", (unsigned long)items[i].v, items[i].k);
    if (nitems > top)
        printf("  (%d more)\n", nitems - top);
}

int cmd_bounces(int argc, char **argv)
{
    static const struct option opts[] = {
        {"csv", no_argument, NULL, 'c'},
        {"ndjson", no_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'n'},
        {"summary", no_argument, NULL, 's'},
        {"show-recipients", no_argument, NULL, 'S'},
        {"rules", required_argument, NULL, 'r'},
        {"reasons", required_argument, NULL, 'R'},
        {"threads", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int fmt = -1, show = 0, threads = 0, c;
    const char *rules_path = NULL, *reasons_path = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            fmt = MT_EVENTS_CSV;
            break;
        case 'n':
            fmt = MT_EVENTS_NDJSON;
            break;
        case 's':
            fmt = 99;
            break;
        case 'S':
            show = 1;
            break;
        case 'r':
            rules_path = optarg;
            break;
        case 'R':
            reasons_path = optarg;
            break;
        case 'T':
            if (cli_int_option("--threads", optarg, 1, 64, &threads) < 0)
                return EXIT_USAGE;
            break;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        default:
            fputs(usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "mailtriage bounces: name at least one PATH (- for standard input)\n\n");
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (fmt < 0)
        fmt = isatty(1) ? 99 : MT_EVENTS_NDJSON;

    mt_buf err;
    mt_buf_init(&err);
    char rpath[4096];
    if (reasons_path == NULL && mt_bounce_reasons_default_path(argv[0], rpath, sizeof rpath))
        reasons_path = rpath;
    reasons_job rj = {.path = reasons_path};
    mt_buf_init(&rj.err);
    pthread_t rt;
    int rt_started = reasons_path != NULL && pthread_create(&rt, NULL, load_reasons, &rj) == 0;
    /* the inputs listed while the phrases load (the rules take less
     * time); not standard input, which could keep a bad rules file from
     * being reported until it ends */
    int from_stdin = 0;
    for (int i = optind; i < argc; i++)
        from_stdin |= strcmp(argv[i], "-") == 0;
    mt_bounce_inputs *inputs =
        from_stdin ? NULL : mt_bounce_inputs_list((const char *const *)argv + optind, argc - optind);
    char path[4096];
    mt_rules *rules = NULL;
    int rules_file = rules_path || mt_rules_default_path(argv[0], path, sizeof path);
    if (rules_file)
        rules = mt_rules_load(rules_path ? rules_path : path, &err);
    else
        fprintf(stderr, "mailtriage: no rules file found: providers will be \"unknown\"\n");
    if (rt_started)
        pthread_join(rt, NULL);
    else if (reasons_path != NULL) /* no thread to be had: here */
        load_reasons(&rj);
    if (rules_file && rules == NULL) {
        fprintf(stderr, "mailtriage: %s\n", err.data);
        mt_bounce_reasons_free(rj.reasons);
        mt_buf_free(&rj.err);
        mt_buf_free(&err);
        mt_bounce_inputs_free(inputs);
        return EXIT_INPUT;
    }
    if (reasons_path == NULL) {
        fprintf(stderr, "mailtriage: cannot find bounce-reasons.tsv; name it with --reasons FILE\n");
        mt_rules_free(rules);
        mt_buf_free(&rj.err);
        mt_buf_free(&err);
        mt_bounce_inputs_free(inputs);
        return EXIT_INPUT;
    }
    mt_bounce_reasons *reasons = rj.reasons;
    if (reasons == NULL) {
        fprintf(stderr, "mailtriage: %s\n", rj.err.data);
        mt_rules_free(rules);
        mt_buf_free(&rj.err);
        mt_buf_free(&err);
        mt_bounce_inputs_free(inputs);
        return EXIT_INPUT;
    }
    mt_buf_free(&rj.err);
    out_ctx o = {.summary = fmt == 99};
    if (o.summary) {
        o.cnt.reasons = mt_strmap_new(0);
        o.cnt.domains = mt_strmap_new(0);
    } else
        o.ev = mt_events_out_new_extra(stdout, (mt_events_format)fmt, show, extra_fields, 3);
    mt_bounce_stats st;
    memset(&st, 0, sizeof st);
    if (threads <= 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
    }
    mt_buf_reset(&err);
    if (inputs == NULL)
        inputs = mt_bounce_inputs_list((const char *const *)argv + optind, argc - optind);
    int bad = mt_bounce_inputs_read(inputs, threads, reasons, rules, on_record, &o, &st, &err);
    mt_bounce_reasons_free(reasons);
    if (bad)
        fprintf(stderr, "mailtriage: %s\n", err.data);
    int rc = bad ? EXIT_INPUT : EXIT_OK;
    if (o.summary) {
        printf("%llu message(s) in %llu file(s): %llu bounce(s) with %llu record(s)\n",
               (unsigned long long)st.messages, (unsigned long long)st.files, (unsigned long long)st.bounces,
               (unsigned long long)st.records);
        for (int k = 0; k < 5; k++)
            if (st.by_kind[k])
                printf("  %-10s %llu\n", kind_names[k], (unsigned long long)st.by_kind[k]);
        print_top("reasons", o.cnt.reasons, 20);
        print_top("recipient domains", o.cnt.domains, 10);
        free(items);
        items = NULL;
        nitems = capitems = 0;
        mt_strmap_free(o.cnt.reasons);
        mt_strmap_free(o.cnt.domains);
    } else if (mt_events_out_close(o.ev) < 0) {
        fprintf(stderr, "mailtriage: error writing the records to standard output\n");
        rc = EXIT_INPUT;
    }
    if (st.not_mail || st.not_bounce)
        fprintf(
            stderr,
            "mailtriage: skipped %llu input(s) that are not mail and %llu message(s) that are not bounces\n",
            (unsigned long long)st.not_mail, (unsigned long long)st.not_bounce);
    if (st.messages && st.not_mail == st.messages)
        rc = EXIT_INPUT;
    mt_rules_free(rules);
    mt_buf_free(&err);
    return rc;
}

int cli_run_bounces(const cli_input *in, const char *argv0, mt_attempt_fn fn, void *arg, mt_scan_stats *scan,
                    mt_rules **rules_out, char *rules_path, size_t rules_len)
{
    *rules_out = NULL;
    mt_buf err;
    mt_buf_init(&err);
    if (in->rules_path)
        snprintf(rules_path, rules_len, "%s", in->rules_path);
    else if (!mt_rules_default_path(argv0, rules_path, rules_len)) {
        fprintf(stderr, "mailtriage: cannot find the rules file; name it with --rules FILE\n");
        return EXIT_INPUT;
    }
    mt_rules *rules = mt_rules_load(rules_path, &err);
    char rpath[4096];
    mt_bounce_reasons *reasons = NULL;
    if (rules && mt_bounce_reasons_default_path(argv0, rpath, sizeof rpath))
        reasons = mt_bounce_reasons_load(rpath, &err);
    if (rules == NULL || reasons == NULL) {
        fprintf(stderr, "mailtriage: %s\n", err.len ? err.data : "cannot find bounce-reasons.tsv");
        mt_rules_free(rules);
        mt_buf_free(&err);
        return EXIT_INPUT;
    }
    mt_classifier *cls = mt_classifier_new(rules);
    mt_bounce_parser *p = mt_bounce_parser_new(reasons, cls);
    mt_bounce_stats st;
    memset(&st, 0, sizeof st);
    static const char *const stdin_only[] = {"-"};
    int bad = mt_bounce_attempts(p, in->nfiles ? in->files : stdin_only, in->nfiles ? in->nfiles : 1, fn, arg,
                                 &st, &err);
    if (bad)
        fprintf(stderr, "mailtriage: %s\n", err.data);
    scan->files = st.files;
    scan->lines = st.messages; /* the report's "lines" are messages here */
    scan->deliveries = st.records;
    scan->foreign = st.not_bounce + st.not_mail;
    if (st.not_mail || st.not_bounce)
        fprintf(
            stderr,
            "mailtriage: skipped %llu input(s) that are not mail and %llu message(s) that are not bounces\n",
            (unsigned long long)st.not_mail, (unsigned long long)st.not_bounce);
    mt_bounce_parser_free(p);
    mt_classifier_free(cls);
    mt_bounce_reasons_free(reasons);
    mt_buf_free(&err);
    *rules_out = rules;
    return bad == (in->nfiles ? in->nfiles : 1) ? EXIT_INPUT : EXIT_OK;
}
