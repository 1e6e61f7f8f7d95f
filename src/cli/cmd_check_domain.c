/*
 * cmd_check_domain.c - `mailtriage check-domain`: the sender checks of
 * domaincheck.c for one domain or a list, as text or JSON.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/dns.h"
#include "../lib/domaincheck.h"
#include "../lib/util.h"
#include "cli.h"

static const char usage[] =
    "usage: mailtriage check-domain DOMAIN [--ip IP...] [--helo NAME] [--selector S...]\n"
    "                               [--mail-from DOMAIN] [--file LIST] [--json] [--resolver HOST[:PORT]]\n"
    "\n"
    "Check that a sending domain's DNS is \"boring\": every check prints pass, warn,\n"
    "fail or error (the DNS could not tell) with its evidence, the records read.\n"
    "  spf    the record (none, several, syntax, ptr, +all/?all/no all, duplicate\n"
    "         includes, length, type 99, Sender ID), the DNS lookup count and tree,\n"
    "         and check_host() for each --ip\n"
    "  dkim   the keys of --selector (or of a few common selectors): present, k=,\n"
    "         revoked, key size (<1024 fail, <2048 warn), t=y, h=/s=\n"
    "  dmarc  discovery by RFC 7489 (organisational domain) and RFC 9989 (tree walk),\n"
    "         syntax, policy strength (p, sp, np), external rua/ruf authorisation,\n"
    "         alignment of --mail-from\n"
    "  rdns   for each --ip: PTR, forward-confirmed (FCrDNS), generic-looking names\n"
    "  helo   the --helo name resolves, to the sending IP\n"
    "  mx     present, hosts resolve, no IP literals, no CNAMEs\n"
    "  dnsbl  each --ip in the IP blocklists, the domain in the domain blocklists;\n"
    "         \"query refused\" codes are reported as error (unknown), not listed\n"
    "\n"
    "  --ip IP                 a sending IP (repeatable)\n"
    "  --helo NAME             the HELO name the MTA uses\n"
    "  --selector S            a DKIM selector (repeatable)\n"
    "  --mail-from DOMAIN      the envelope domain (default: DOMAIN)\n"
    "  --file LIST             check every domain in LIST (one a line, # comments)\n"
    "  --dnsbl ZONE            an IP blocklist zone (repeatable; replaces the defaults\n"
    "                          zen.spamhaus.org, bl.spamcop.net, b.barracudacentral.org)\n"
    "  --dbl ZONE              a domain blocklist zone (repeatable; default dbl.spamhaus.org)\n"
    "  --no-dnsbl              skip the blocklists\n"
    "  --jobs N                with --file: domains checked at once (default 1)\n"
    "  --only AREA[,AREA]      run only these areas (spf, dkim, dmarc, mx, rdns, helo, dnsbl)\n"
    "  --resolver HOST[:PORT]  the DNS server to ask (an IP; default /etc/resolv.conf)\n"
    "  --timeout MS            per-try DNS timeout in milliseconds (default 2000, 2 tries)\n"
    "  --json                  JSON: one object per domain, one a line\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 when every domain was checked, 1 when a list could not be read,\n"
    "2 on usage errors.  Failing checks are results, not errors.\n";

typedef struct strv {
    const char **v;
    size_t n;
} strv;

/* Each vector has room for argc entries (no option repeats more often). */
static void push(strv *s, const char *x)
{
    s->v[s->n++] = x;
}

/* render_one - check domain and render its report into b (reset first). */
static void render_one(mt_dns *d, const char *domain, const mt_domaincheck_opts *o, int json, mt_buf *b)
{
    mt_domain_report r;
    mt_domaincheck_run(d, domain, o, &r);
    mt_buf_reset(b);
    if (json) {
        mt_domain_report_json(&r, b);
        mt_buf_putc(b, '\n');
    } else
        mt_domain_report_text(&r, b);
    mt_domain_report_free(&r);
}

static void run_one(mt_dns *d, const char *domain, const mt_domaincheck_opts *o, int json, mt_buf *b)
{
    render_one(d, domain, o, json, b);
    fwrite(b->data, 1, b->len, stdout);
}

/* --file with --jobs: domains are read BATCH at a time, checked by the
 * workers (one resolver handle each) and printed in input order, so
 * memory stays bounded whatever the length of the list. */
#define BATCH 256

typedef struct pool {
    char *dom[BATCH];
    mt_buf out[BATCH];
    size_t n, next;
    pthread_mutex_t mu;
    const mt_domaincheck_opts *o;
    int json;
} pool;

typedef struct worker_arg {
    pool *p;
    mt_dns *d;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *w = arg;
    pool *p = w->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            return NULL;
        render_one(w->d, p->dom[i], p->o, p->json, &p->out[i]);
    }
}

static void flush_pool(pool *p, mt_dns **dns, int jobs)
{
    pthread_t th[64];
    worker_arg wa[64];
    p->next = 0;
    for (int t = 0; t < jobs; t++) {
        wa[t] = (worker_arg){p, dns[t]};
        pthread_create(&th[t], NULL, worker, &wa[t]);
    }
    for (int t = 0; t < jobs; t++)
        pthread_join(th[t], NULL);
    for (size_t i = 0; i < p->n; i++) {
        fwrite(p->out[i].data, 1, p->out[i].len, stdout);
        free(p->dom[i]);
    }
    p->n = 0;
}

int cmd_check_domain(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ip", required_argument, NULL, 'i'},
        {"helo", required_argument, NULL, 'H'},
        {"selector", required_argument, NULL, 's'},
        {"mail-from", required_argument, NULL, 'm'},
        {"file", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"resolver", required_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, 't'},
        {"dnsbl", required_argument, NULL, 'b'},
        {"dbl", required_argument, NULL, 'B'},
        {"no-dnsbl", no_argument, NULL, 'n'},
        {"jobs", required_argument, NULL, 'J'},
        {"only", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **room = mt_xcalloc(4 * (size_t)argc + 4, sizeof *room);
    strv ips = {room, 0}, sels = {room + argc + 1, 0}, ipz = {room + 2 * (argc + 1), 0},
         dz = {room + 3 * (argc + 1), 0};
    mt_domaincheck_opts o = {0};
    mt_dns_opts dopts = {0};
    const char *file = NULL;
    int json = 0, nobl = 0, c, rc = EXIT_OK, jobs = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            push(&ips, optarg);
            break;
        case 'H':
            o.helo = optarg;
            break;
        case 's':
            push(&sels, optarg);
            break;
        case 'm':
            o.mail_from = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'R':
            dopts.resolver = optarg;
            break;
        case 't':
            if (cli_int_option("--timeout", optarg, 1, 600000, &dopts.timeout_ms) < 0) {
                rc = EXIT_USAGE;
                goto done;
            }
            break;
        case 'b':
            push(&ipz, optarg);
            break;
        case 'B':
            push(&dz, optarg);
            break;
        case 'n':
            nobl = 1;
            break;
        case 'o':
            o.only = optarg;
            break;
        case 'J':
            if (cli_int_option("--jobs", optarg, 1, 64, &jobs) < 0) {
                rc = EXIT_USAGE;
                goto done;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            goto done;
        default:
            fputs(usage, stderr);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if ((optind == argc && !file) || argc - optind > 1) {
        fprintf(stderr, "mailtriage check-domain: give one DOMAIN or --file LIST\n\n");
        fputs(usage, stderr);
        rc = EXIT_USAGE;
        goto done;
    }
    o.ips = ips.v;
    o.nips = ips.n;
    o.selectors = sels.v;
    o.nselectors = sels.n;
    static const char *const none[1] = {NULL};
    if (nobl) {
        o.ip_zones = none;
        o.domain_zones = none;
    } else {
        if (ipz.n) {
            o.ip_zones = ipz.v;
            o.nip_zones = ipz.n;
        }
        if (dz.n) {
            o.domain_zones = dz.v;
            o.ndomain_zones = dz.n;
        }
    }
    char err[256];
    mt_dns *d = mt_dns_new(&dopts, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mailtriage check-domain: %s\n", err);
        rc = EXIT_USAGE;
        goto done;
    }
    mt_buf b;
    mt_buf_init(&b);
    mt_orgdomain *org = mt_orgdomain_open();
    o.org = org;
    if (optind < argc)
        run_one(d, argv[optind], &o, json, &b);
    if (file) {
        FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
        if (!f) {
            perror(file);
            rc = EXIT_INPUT;
        } else {
            char line[1024];
            unsigned long skipped = 0, done_n = 0;
            pool pl = {.o = &o, .json = json};
            mt_dns *dns[64] = {d};
            for (int t = 1; t < jobs; t++)
                if (!(dns[t] = mt_dns_new(&dopts, err, sizeof err)))
                    jobs = t; /* fewer workers, same results */
            pthread_mutex_init(&pl.mu, NULL);
            for (size_t i = 0; i < BATCH; i++)
                mt_buf_init(&pl.out[i]);
            int progress = isatty(2); /* SPEC §2: progress only on a terminal */
            while (fgets(line, sizeof line, f)) {
                size_t ll = strlen(line);
                if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
                    int ch; /* an over-long line: skip the rest of it */
                    while ((ch = fgetc(f)) != EOF && ch != '\n')
                        ;
                    skipped++;
                    continue;
                }
                char *p = line;
                while (*p == ' ' || *p == '\t')
                    p++;
                p[strcspn(p, " \t\r\n#")] = '\0';
                if (!*p)
                    continue;
                if (strlen(p) > 253) {
                    skipped++;
                    continue;
                }
                if (jobs > 1) {
                    pl.dom[pl.n++] = mt_xstrdup(p);
                    if (pl.n == BATCH)
                        flush_pool(&pl, dns, jobs);
                } else
                    run_one(d, p, &o, json, &b);
                if (progress && ++done_n % 100 == 0)
                    fprintf(stderr, "\rmailtriage check-domain: %lu domains checked", done_n);
            }
            if (jobs > 1 && pl.n)
                flush_pool(&pl, dns, jobs);
            if (progress && done_n >= 100)
                fprintf(stderr, "\rmailtriage check-domain: %lu domains checked\n", done_n);
            for (size_t i = 0; i < BATCH; i++)
                mt_buf_free(&pl.out[i]);
            pthread_mutex_destroy(&pl.mu);
            for (int t = 1; t < jobs; t++)
                mt_dns_free(dns[t]);
            if (f != stdin)
                fclose(f);
            if (skipped)
                fprintf(stderr, "mailtriage check-domain: %lu line(s) skipped (longer than a domain name)\n",
                        skipped);
        }
    }
    mt_buf_free(&b);
    mt_orgdomain_close(org);
    mt_dns_free(d);
done:
    free(room);
    return rc;
}
