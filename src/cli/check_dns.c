/*
 * check_dns.c - `diagnose --check-dns`: run the sender checks of
 * domaincheck.c for the envelope domains and sending IPs the logs show,
 * and fold every domain with failing checks into the findings as cause
 * `authentication`, the failing checks as its evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/dns.h"
#include "../lib/domaincheck.h"
#include "../lib/findings.h"
#include "cli.h"

#define MAX_DOMAINS 20
#define MAX_IPS     8

typedef struct dom {
    const char *name, *provider, *helo, *pattern;
    const char *ips[MAX_IPS];
    size_t nips;
    uint64_t attempts, failures;
} dom;

static void push_str(char ***v, int *n, const char *s)
{
    *v = mt_xrealloc(*v, (size_t)(*n + 1) * sizeof **v);
    (*v)[(*n)++] = mt_xstrdup(s);
}

int cli_check_dns(const mt_diag_result *r, mt_findings *f, const mt_dns_opts *dopts)
{
    dom doms[MAX_DOMAINS];
    size_t nd = 0, skipped = 0;
    for (int i = 0; i < r->nsenders; i++) {
        const mt_sender_stat *s = r->senders[i];
        if (!s->mail_from_domain || !*s->mail_from_domain)
            continue;
        dom *d = NULL;
        for (size_t k = 0; k < nd; k++)
            if (strcmp(doms[k].name, s->mail_from_domain) == 0)
                d = &doms[k];
        if (!d) {
            if (nd == MAX_DOMAINS) {
                skipped++;
                continue;
            }
            d = &doms[nd++];
            memset(d, 0, sizeof *d);
            d->name = s->mail_from_domain;
            d->provider = s->provider;
            d->pattern = s->pattern;
        }
        d->attempts += s->c.attempts;
        d->failures += s->c.deferred + s->c.bounced;
        if (!d->helo && s->helo_name)
            d->helo = s->helo_name;
        int seen = 0;
        for (size_t k = 0; s->sending_ip && k < d->nips; k++)
            seen |= strcmp(d->ips[k], s->sending_ip) == 0;
        if (s->sending_ip && *s->sending_ip && !seen && d->nips < MAX_IPS)
            d->ips[d->nips++] = s->sending_ip;
    }
    char err[256];
    mt_dns *dns = mt_dns_new(dopts, err, sizeof err);
    if (!dns) {
        fprintf(stderr, "mailtriage: --check-dns: %s\n", err);
        return -1;
    }
    int failing = 0;
    mt_orgdomain *org = mt_orgdomain_open();
    for (size_t k = 0; k < nd; k++) {
        dom *d = &doms[k];
        mt_domaincheck_opts o = {.ips = d->ips, .nips = d->nips, .helo = d->helo, .org = org};
        mt_domain_report rep;
        mt_domaincheck_run(dns, d->name, &o, &rep);
        if (rep.counts[MT_CHK_FAIL] > 0) {
            failing++;
            mt_finding nf;
            memset(&nf, 0, sizeof nf);
            nf.cause = "authentication";
            nf.provider = d->provider ? d->provider : "other";
            nf.scope_key = "mail_from_domain";
            nf.scope_value = mt_xstrdup(d->name);
            nf.pattern = d->pattern ? d->pattern : "persistent";
            nf.band = "warning";
            nf.confidence = 0.8;
            nf.attempts = d->attempts;
            nf.failures = d->failures;
            nf.weight = (double)(d->failures ? d->failures : 1) * nf.confidence;
            for (size_t i = 0; i < rep.n; i++) {
                const mt_check *c = &rep.checks[i];
                if (c->status != MT_CHK_FAIL)
                    continue;
                char line[1400];
                snprintf(line, sizeof line, "DNS check %s %s: fail: %s%s%s", c->area, c->name, c->summary,
                         c->nevidence ? " (" : "", c->nevidence ? c->evidence[0] : "");
                if (c->nevidence)
                    strcat(line, ")");
                push_str(&nf.evidence, &nf.nevidence, line);
            }
            char step[600];
            snprintf(step, sizeof step,
                     "Fix the failing DNS checks of %s before blaming the receiver; `mailtriage check-domain "
                     "%s%s%s` "
                     "shows every record read.",
                     d->name, d->name, d->nips ? " --ip " : "", d->nips ? d->ips[0] : "");
            push_str(&nf.next_steps, &nf.nnext_steps, step);
            mt_findings_fold(f, &nf);
        }
        mt_domain_report_free(&rep);
    }
    mt_orgdomain_close(org);
    mt_findings_dns_checked(f);
    fprintf(stderr, "mailtriage: --check-dns: %zu envelope domain(s) checked, %d with failing checks%s\n", nd,
            failing, skipped ? " (more domains than 20: the rest skipped)" : "");
    mt_dns_free(dns);
    return 0;
}
