/*
 * report_text.c - the readable report: what is failing where, in a
 * postmaster's words, then the supporting tables.
 */
#include "report.h"

#include <string.h>

static const char *c_bold(const mt_report_ctx *x)
{
    return x->color ? "\033[1m" : "";
}
static const char *c_red(const mt_report_ctx *x)
{
    return x->color ? "\033[31m" : "";
}
static const char *c_yel(const mt_report_ctx *x)
{
    return x->color ? "\033[33m" : "";
}
static const char *c_off(const mt_report_ctx *x)
{
    return x->color ? "\033[0m" : "";
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_findings(const mt_report_ctx *x, FILE *fp)
{
    const mt_findings *f = x->findings;
    fprintf(fp, "%sDiagnosis%s\n", c_bold(x), c_off(x));
    int shown = 0;
    for (int i = 0; f && i < f->n && shown < 6; i++) {
        const mt_finding *g = &f->v[i];
        if (g->confidence < 0.2 && shown > 0)
            break;
        shown++;
        const char *col = strcmp(g->band, "critical") == 0  ? c_red(x)
                          : strcmp(g->band, "warning") == 0 ? c_yel(x)
                                                            : "";
        fprintf(fp, "\n%s%d. %s: %s%s  [%s, %s, confidence %.2f]\n", col, shown, g->provider,
                mt_cause_words(g->cause), c_off(x), g->band, g->pattern, g->confidence);
        if (g->scope_key)
            fprintf(fp, "   Where: %s = %s\n", g->scope_key, g->scope_value);
        else
            fprintf(fp, "   Where: all of %s's mail (no single cohort stands out)\n", g->provider);
        for (int k = 0; k < g->nevidence; k++)
            fprintf(fp, "   - %s\n", g->evidence[k]);
        fprintf(fp, "   Next:\n");
        for (int k = 0; k < g->nnext_steps; k++)
            fprintf(fp, "   * %s\n", g->next_steps[k]);
    }
    if (shown == 0)
        fprintf(fp, "\n   Nothing stands out: no provider has a pattern of failures worth acting on.\n");
    if (f && f->queue_advice) {
        fprintf(fp,
                "\n%sQueue settings to paste%s (pace the affected providers; derived from the accepted "
                "volume)\n%s",
                c_bold(x), c_off(x), f->queue_advice);
    }
    for (int i = 0; f && i < f->nlimits; i++)
        fprintf(fp, "%s%s\n", i == 0 ? "\nWhat the logs cannot tell: " : "                           ",
                f->limits[i]);
    fprintf(fp, "\n");
}

int mt_report_text(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    const mt_counts *t = &d->totals;
    char a[32], b[32], c[32], e[32], w1[24], w2[24];

    mt_time_minutes(d->first, w1, sizeof w1);
    mt_time_minutes(d->last, w2, sizeof w2);
    fprintf(fp,
            "%smailtriage diagnose%s: %d file%s, %s lines (%.1f MB), %s format, attempts %s to %s UTC\n\n",
            c_bold(x), c_off(x), x->nfiles, x->nfiles == 1 ? "" : "s", mt_grouped(x->scan->lines, a),
            (double)x->scan->bytes / 1e6, x->format, w1, w2);

    print_findings(x, fp);

    fprintf(fp, "%sTotals%s\n", c_bold(x), c_off(x));
    fprintf(fp, "  %s messages, %s recipients, %s delivery attempts\n", mt_grouped(d->messages, a),
            mt_grouped(t->recipients, b), mt_grouped(t->attempts, c));
    fprintf(fp, "  recipients: %s delivered, %s bounced, %s expired, %s still queued\n",
            mt_grouped(t->delivered, a), mt_grouped(t->rcpt_bounced, b), mt_grouped(t->rcpt_expired, c),
            mt_grouped(t->pending, e));
    fprintf(fp, "  attempts: %s accepted, %s deferred (%.1f%%), %s refused\n\n", mt_grouped(t->accepted, a),
            mt_grouped(t->deferred, b), pct(t->deferred, t->attempts), mt_grouped(t->bounced, c));

    fprintf(fp,
            "%sWhat is failing where%s (per provider: accepted vs attempted, then the commonest replies)\n",
            c_bold(x), c_off(x));
    int shown = 0;
    for (int i = 0; i < d->nproviders; i++) {
        const mt_provider_stat *p = d->providers[i];
        uint64_t fails = p->c.deferred + p->c.bounced + p->c.expired;
        const char *col = fails == 0 ? "" : pct(fails, p->c.attempts) >= 20 ? c_red(x) : c_yel(x);
        fprintf(fp, "\n  %s%-10s%s attempted %s, accepted %s (%.1f%%), deferred %s, refused %s\n", col,
                p->name, c_off(x), mt_grouped(p->c.attempts, a), mt_grouped(p->c.accepted, b),
                pct(p->c.accepted, p->c.attempts), mt_grouped(p->c.deferred, c), mt_grouped(p->c.bounced, e));
        fprintf(fp, "             domains:");
        for (int k = 0; k < p->ndomains && k < 6; k++) {
            const mt_domain_stat *ds = p->domains[k];
            fprintf(fp, "%s %s %s/%s", k ? "," : "", ds->domain, mt_grouped(ds->c.accepted, a),
                    mt_grouped(ds->c.attempts, b));
        }
        if (p->ndomains > 6)
            fprintf(fp, ", and %d more", p->ndomains - 6);
        fprintf(fp, "\n");
        if (fails == 0)
            continue;
        shown++;
        fprintf(fp, "             deferrals by stage:");
        int first = 1;
        for (int s = 0; s < MT_STAGE_COUNT; s++)
            if (p->deferred_by_stage[s]) {
                fprintf(fp, "%s %s %s", first ? "" : ",", mt_stage_name((mt_stage)s),
                        mt_grouped(p->deferred_by_stage[s], a));
                first = 0;
            }
        fprintf(fp, "%s\n", first ? " none" : "");
        for (int k = 0; k < p->nreplies && k < x->top; k++) {
            const mt_reply_stat *r = p->replies[k];
            fprintf(fp, "      %8s  %-8s %-17s %.110s\n", mt_grouped(r->count, a), mt_stage_name(r->stage),
                    mt_category_name(r->category), r->example);
            if (r->flags & MT_RULE_GENERIC_FRONTEND)
                fprintf(fp,
                        "                %sgeneric front-end text: the receiver's real reason is hidden "
                        "behind it; stage, timing and cohort must decide%s\n",
                        c_yel(x), c_off(x));
            else if (r->meaning)
                fprintf(fp, "                %.120s\n", r->meaning);
        }
        if (p->nreplies > x->top)
            fprintf(fp, "                (%d more distinct replies)\n", p->nreplies - x->top);
    }
    if (shown == 0)
        fprintf(fp, "\n  No deferrals or refusals in the input.\n");

    fprintf(fp, "\n%sStages%s (the SMTP step each reply answered)\n", c_bold(x), c_off(x));
    fprintf(fp, "  %-10s %12s %12s %12s %12s\n", "stage", "attempts", "accepted", "deferred", "refused");
    for (int s = 0; s < MT_STAGE_COUNT; s++) {
        const mt_stage_stat *st = &d->stages[s];
        if (st->c.attempts == 0)
            continue;
        fprintf(fp, "  %-10s %12s %12s %12s %12s\n", mt_stage_name(st->stage), mt_grouped(st->c.attempts, a),
                mt_grouped(st->c.accepted, b), mt_grouped(st->c.deferred, c), mt_grouped(st->c.bounced, e));
    }

    fprintf(fp, "\n%sSenders%s (route, sending IP, envelope domain -> provider; most failures first)\n",
            c_bold(x), c_off(x));
    int ns = 0;
    for (int i = 0; i < d->nsenders && ns < 15; i++) {
        const mt_sender_stat *s = d->senders[i];
        if (s->c.deferred + s->c.bounced + s->c.expired == 0 && ns >= 5)
            break;
        ns++;
        const char *col = strcmp(s->band, "critical") == 0  ? c_red(x)
                          : strcmp(s->band, "warning") == 0 ? c_yel(x)
                                                            : "";
        fprintf(fp, "  %s%-8s%s %-22.22s %-15s %-22.22s -> %-10s %s attempts, %.1f%% deferred, %s\n", col,
                s->band, c_off(x), s->route ? s->route : "-", s->sending_ip ? s->sending_ip : "(ip unknown)",
                !s->mail_from_domain   ? "(sender unknown)"
                : *s->mail_from_domain ? s->mail_from_domain
                                       : "<>",
                s->provider ? s->provider : "-", mt_grouped(s->c.attempts, a),
                pct(s->c.deferred, s->c.attempts), s->pattern);
    }
    if (d->nsenders > ns)
        fprintf(fp, "  (%d more cohorts; --json lists all)\n", d->nsenders - ns);

    fprintf(fp, "\n%sInput%s: %s lines read; %s of other programs skipped; %s unparsed", c_bold(x), c_off(x),
            mt_grouped(x->scan->lines, a), mt_grouped(x->scan->foreign, b),
            mt_grouped(x->scan->malformed, c));
    if (x->scan->long_lines)
        fprintf(fp, "; %s over-long lines cut", mt_grouped(x->scan->long_lines, e));
    fprintf(fp, "\n");
    for (int i = 0; i < x->scan->nreasons; i++) {
        const mt_scan_reason *r = &x->scan->reasons[i];
        fprintf(fp, "  %s x %s (first at %s)\n", mt_grouped(r->count, a), r->why, r->where);
    }
    return ferror(fp) ? -1 : 0;
}
