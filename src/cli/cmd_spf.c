/*
 * cmd_spf.c - `mailtriage spf`: one RFC 7208 check_host(), the result word
 * first, then the explanation, the lookup counts and the lookup tree.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "../lib/dns.h"
#include "../lib/spf.h"
#include "cli.h"

static const char usage[] =
    "usage: mailtriage spf --ip IP --mail-from ADDR [--helo NAME] [--resolver HOST[:PORT]] [--json]\n"
    "\n"
    "Run one SPF check_host() (RFC 7208) for a client IP and an envelope sender and\n"
    "print the result word first: pass, fail, softfail, neutral, none, permerror or\n"
    "temperror.  Then the explanation (exp=), the term that matched or the problem,\n"
    "the DNS mechanism count (limit 10, counted across include and redirect), the\n"
    "void lookups (limit 2) and the lookup tree: which record cost how many lookups.\n"
    "An empty --mail-from is the null sender: the HELO identity is checked\n"
    "(postmaster@HELO, RFC 7208 sections 2.3 and 2.4).\n"
    "\n"
    "  --ip IP                 the SMTP client address (IPv4 or IPv6)\n"
    "  --mail-from ADDR        the MAIL FROM address (\"\" for the null sender)\n"
    "  --helo NAME             the HELO/EHLO name\n"
    "  --receiver NAME         the receiving host, for the %{r} macro\n"
    "  --resolver HOST[:PORT]  the DNS server to ask (an IP; default /etc/resolv.conf)\n"
    "  --timeout MS            per-try DNS timeout in milliseconds (default 2000, 2 tries)\n"
    "  --json                  one JSON object\n"
    "  --batch FILE            many checks: lines \"IP MAIL-FROM [HELO]\" (\"<>\" for the\n"
    "                          null sender; \"-\" reads standard input); prints one line\n"
    "                          each, in order: result, IP, MAIL-FROM, DNS lookups\n"
    "  --jobs N                with --batch: evaluations run at once (default 4)\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 when a result was computed (whatever it is), 2 on usage errors.\n";

typedef struct job {
    char *ip, *from, *helo;
    mt_spf_result result;
    int lookups;
} job;

typedef struct batch {
    job *v;
    size_t n;
    size_t next; /* the next job to take, under mu */
    pthread_mutex_t mu;
    const mt_dns_opts *dopts;
    const char *receiver;
    int failed;
} batch;

static void *worker(void *arg)
{
    batch *b = arg;
    char err[256];
    mt_dns *d = mt_dns_new(b->dopts, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mailtriage spf: %s\n", err);
        b->failed = 1;
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&b->mu);
        size_t i = b->next++;
        pthread_mutex_unlock(&b->mu);
        if (i >= b->n)
            break;
        job *j = &b->v[i];
        mt_spf_request req = {.ip = j->ip, .sender = j->from, .helo = j->helo, .receiver = b->receiver};
        mt_spf_outcome o;
        mt_spf_check(d, &req, &o);
        j->result = o.result;
        j->lookups = o.dns_lookups;
        mt_spf_outcome_free(&o);
    }
    mt_dns_free(d);
    return NULL;
}

/* run_batch - the --batch mode: read every line, evaluate on `jobs`
 * threads (one resolver handle each), print in input order. */
static int run_batch(const char *path, int jobs, const mt_dns_opts *dopts, const char *receiver)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        perror(path);
        return EXIT_INPUT;
    }
    batch b = {.dopts = dopts, .receiver = receiver};
    size_t cap = 0, bad = 0;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        char *save = NULL, *ip = strtok_r(line, " \t\r\n", &save);
        char *from = ip ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        char *helo = from ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if (!ip || *ip == '#')
            continue;
        if (!from) {
            bad++;
            continue;
        }
        if (b.n == cap) {
            cap = cap ? cap * 2 : 1024;
            b.v = mt_xrealloc(b.v, cap * sizeof *b.v);
        }
        job *j = &b.v[b.n++];
        j->ip = mt_xstrdup(ip);
        j->from = mt_xstrdup(strcmp(from, "<>") == 0 ? "" : from);
        j->helo = helo ? mt_xstrdup(helo) : NULL;
    }
    if (f != stdin)
        fclose(f);
    pthread_mutex_init(&b.mu, NULL);
    pthread_t th[64];
    int nth = jobs < 1 ? 1 : jobs > 64 ? 64 : jobs;
    for (int t = 0; t < nth; t++)
        pthread_create(&th[t], NULL, worker, &b);
    for (int t = 0; t < nth; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&b.mu);
    mt_buf out;
    mt_buf_init(&out);
    for (size_t i = 0; i < b.n; i++) {
        job *j = &b.v[i];
        if (!b.failed)
            mt_buf_printf(&out, "%s %s %s %d\n", mt_spf_result_name(j->result), j->ip,
                          *j->from ? j->from : "<>", j->lookups);
        free(j->ip);
        free(j->from);
        free(j->helo);
    }
    int wrc = cli_write_stdout(&out);
    mt_buf_free(&out);
    free(b.v);
    if (bad)
        fprintf(stderr, "mailtriage spf: %zu batch line(s) skipped (want \"IP MAIL-FROM [HELO]\")\n", bad);
    return b.failed ? EXIT_USAGE : wrc < 0 ? EXIT_INPUT : EXIT_OK;
}

int cmd_spf(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ip", required_argument, NULL, 'i'},
        {"mail-from", required_argument, NULL, 'm'},
        {"helo", required_argument, NULL, 'H'},
        {"receiver", required_argument, NULL, 'r'},
        {"resolver", required_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"batch", required_argument, NULL, 'b'},
        {"jobs", required_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mt_spf_request req = {0};
    mt_dns_opts dopts = {0};
    int json = 0, have_from = 0, c;
    const char *batch_path = NULL;
    int jobs = 4;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            req.ip = optarg;
            break;
        case 'm':
            req.sender = optarg;
            have_from = 1;
            break;
        case 'H':
            req.helo = optarg;
            break;
        case 'r':
            req.receiver = optarg;
            break;
        case 'R':
            dopts.resolver = optarg;
            break;
        case 't':
            if (cli_int_option("--timeout", optarg, 1, 600000, &dopts.timeout_ms) < 0)
                return EXIT_USAGE;
            break;
        case 'j':
            json = 1;
            break;
        case 'b':
            batch_path = optarg;
            break;
        case 'J':
            if (cli_int_option("--jobs", optarg, 1, 64, &jobs) < 0)
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
    if (batch_path && optind == argc)
        return run_batch(batch_path, jobs, &dopts, req.receiver);
    if (!req.ip || !have_from || optind != argc) {
        fprintf(stderr, "mailtriage spf: --ip and --mail-from are required%s\n\n",
                optind != argc ? " (and no other arguments)" : "");
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (!*req.sender && (!req.helo || !*req.helo)) {
        fprintf(stderr, "mailtriage spf: the null sender is checked through --helo, which is missing\n");
        return EXIT_USAGE;
    }
    char err[256];
    mt_dns *d = mt_dns_new(&dopts, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mailtriage spf: %s\n", err);
        return EXIT_USAGE;
    }
    mt_spf_outcome o;
    if (mt_spf_check(d, &req, &o) < 0) {
        fprintf(stderr, "mailtriage spf: '%s' is not an IPv4 or IPv6 address\n", req.ip);
        mt_spf_outcome_free(&o);
        mt_dns_free(d);
        return EXIT_USAGE;
    }
    mt_buf b;
    mt_buf_init(&b);
    if (json) {
        mt_buf_printf(&b, "{\"result\":\"%s\",\"identity\":\"%s\",\"domain\":", mt_spf_result_name(o.result),
                      o.identity);
        mt_buf_put_json_str(&b, o.domain, strlen(o.domain));
        const char *keys[] = {"mechanism", "problem", "explanation"};
        const char *vals[] = {o.mechanism, o.problem, o.explanation};
        for (int k = 0; k < 3; k++) {
            mt_buf_printf(&b, ",\"%s\":", keys[k]);
            if (vals[k])
                mt_buf_put_json_str(&b, vals[k], strlen(vals[k]));
            else
                mt_buf_puts(&b, "null");
        }
        mt_buf_printf(&b,
                      ",\"dns_lookups\":%d,\"void_lookups\":%d,\"dns_queries\":%d,\"tree\":", o.dns_lookups,
                      o.void_lookups, o.dns_queries);
        mt_spf_tree_json(o.tree, &b);
        mt_buf_puts(&b, "}\n");
    } else {
        mt_buf_printf(&b, "%s\n", mt_spf_result_name(o.result));
        if (o.explanation)
            mt_buf_printf(&b, "explanation: %s\n", o.explanation);
        if (o.mechanism)
            mt_buf_printf(&b, "matched: %s\n", o.mechanism);
        if (o.problem)
            mt_buf_printf(&b, "problem: %s\n", o.problem);
        mt_buf_printf(&b, "identity: %s %s\n", o.identity, o.domain);
        mt_buf_printf(&b, "dns lookups: %d of 10; void lookups: %d of 2; queries sent: %d\n", o.dns_lookups,
                      o.void_lookups, o.dns_queries);
        mt_buf_puts(&b, "lookup tree:\n");
        mt_spf_tree_text(o.tree, &b, 1);
    }
    int rc = cli_write_stdout(&b) < 0 ? EXIT_INPUT : EXIT_OK;
    mt_buf_free(&b);
    mt_spf_outcome_free(&o);
    mt_dns_free(d);
    return rc;
}
