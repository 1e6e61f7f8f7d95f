/*
 * report_json.c - the SPEC §5 document, built with jansson.
 */
#include "report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jtime(int64_t t)
{
    if (t == 0)
        return json_null();
    char buf[40];
    mt_time_format(t, 0, buf);
    return json_string(buf);
}

static double rate(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

static void put_counts(json_t *o, const mt_counts *c)
{
    json_object_set_new(o, "attempted", json_integer((json_int_t)c->attempts));
    json_object_set_new(o, "accepted", json_integer((json_int_t)c->accepted));
    json_object_set_new(o, "deferred", json_integer((json_int_t)c->deferred));
    json_object_set_new(o, "bounced", json_integer((json_int_t)c->bounced));
    json_object_set_new(o, "deferral_rate", json_real(rate(c->deferred, c->attempts)));
    json_object_set_new(o, "recipients", json_integer((json_int_t)c->recipients));
    json_object_set_new(o, "delivered", json_integer((json_int_t)c->delivered));
    json_object_set_new(o, "recipients_bounced", json_integer((json_int_t)c->rcpt_bounced));
    json_object_set_new(o, "expired", json_integer((json_int_t)c->rcpt_expired));
    json_object_set_new(o, "pending", json_integer((json_int_t)c->pending));
}

static json_t *reply_json(const mt_reply_stat *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "reply", json_string(r->text));
    json_object_set_new(o, "example", json_string(r->example));
    json_object_set_new(o, "count", json_integer((json_int_t)r->count));
    json_object_set_new(o, "stage", json_string(mt_stage_name(r->stage)));
    json_object_set_new(o, "category", json_string(mt_category_name(r->category)));
    json_object_set_new(o, "smtp_reply_code", r->code ? json_integer(r->code) : json_null());
    json_object_set_new(o, "enhanced_status", r->enhanced[0] ? json_string(r->enhanced) : json_null());
    json_object_set_new(o, "meaning", jstr(r->meaning));
    json_object_set_new(o, "generic_frontend", json_boolean(r->flags & MT_RULE_GENERIC_FRONTEND));
    json_object_set_new(o, "first_seen", jtime(r->first));
    json_object_set_new(o, "last_seen", jtime(r->last));
    return o;
}

static json_t *categories_json(const uint64_t *by)
{
    json_t *o = json_object();
    for (int c = 1; c < MT_CAT_COUNT; c++)
        if (by[c])
            json_object_set_new(o, mt_category_name((mt_category)c), json_integer((json_int_t)by[c]));
    return o;
}

static json_t *strings_json(char *const *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *finding_json(const mt_finding *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "cause", json_string(f->cause));
    json_object_set_new(o, "provider", json_string(f->provider));
    json_t *scope = json_object();
    if (f->scope_key)
        json_object_set_new(scope, f->scope_key, json_string(f->scope_value));
    json_object_set_new(o, "scope", scope);
    json_object_set_new(o, "pattern", json_string(f->pattern));
    json_object_set_new(o, "band", json_string(f->band));
    json_object_set_new(o, "confidence", json_real(f->confidence));
    json_object_set_new(o, "stage", jstr(f->stage));
    json_object_set_new(o, "reply", jstr(f->reply));
    json_object_set_new(o, "generic_reply", json_boolean(f->generic_reply));
    json_object_set_new(o, "attempts", json_integer((json_int_t)f->attempts));
    json_object_set_new(o, "failures", json_integer((json_int_t)f->failures));
    json_object_set_new(o, "first_failure", jtime(f->first_failure));
    json_object_set_new(o, "last_failure", jtime(f->last_failure));
    json_object_set_new(o, "retry_outcome", jstr(f->retry_outcome));
    json_object_set_new(o, "evidence", strings_json(f->evidence, f->nevidence));
    json_object_set_new(o, "next_steps", strings_json(f->next_steps, f->nnext_steps));
    return o;
}

static json_t *retry_json(const mt_retry_stat *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "recipients", json_integer((json_int_t)r->recipients));
    json_object_set_new(o, "deferred_recipients", json_integer((json_int_t)r->deferred_rcpts));
    json_object_set_new(o, "delivered_after_retry", json_integer((json_int_t)r->delivered_after_retry));
    json_object_set_new(o, "expired", json_integer((json_int_t)r->expired));
    json_object_set_new(o, "still_queued", json_integer((json_int_t)r->pending));
    json_object_set_new(o, "refused_after_deferral", json_integer((json_int_t)r->bounced_after_deferral));
    json_object_set_new(o, "first_attempt_deferred", json_integer((json_int_t)r->first_deferred));
    json_object_set_new(o, "greylisting_like", json_integer((json_int_t)r->greylist_like));
    json_t *rb = json_object(), *db = json_object();
    for (int i = 0; i < MT_RETRY_BUCKETS; i++)
        json_object_set_new(rb, mt_retry_bucket_names[i], json_integer((json_int_t)r->retries[i]));
    for (int i = 0; i < MT_DELAY_BUCKETS; i++)
        json_object_set_new(db, mt_delay_bucket_names[i], json_integer((json_int_t)r->delays[i]));
    json_object_set_new(o, "delivered_after_retries", rb);
    json_object_set_new(o, "time_to_delivery", db);
    json_t *keep = json_object(), *sup = json_object();
    json_object_set_new(keep, "count", json_integer((json_int_t)r->keep));
    json_object_set_new(keep, "examples", strings_json(r->keep_examples, r->nkeep_examples));
    json_object_set_new(sup, "count", json_integer((json_int_t)r->suppress));
    json_object_set_new(sup, "examples", strings_json(r->suppress_examples, r->nsuppress_examples));
    json_object_set_new(o, "keep_only_4xx", keep);
    json_object_set_new(o, "suppressible_5xx", sup);
    return o;
}

static json_t *build(const mt_report_ctx *x)
{
    const mt_diag_result *d = x->diag;
    json_t *root = json_object();

    json_t *in = json_object();
    json_t *files = json_array();
    for (int i = 0; i < x->nfiles; i++)
        json_array_append_new(files, json_string(x->files[i]));
    json_object_set_new(in, "files", files);
    json_object_set_new(in, "format", json_string(x->format));
    json_object_set_new(in, "lines", json_integer((json_int_t)x->scan->lines));
    json_object_set_new(in, "bytes", json_integer((json_int_t)x->scan->bytes));
    json_object_set_new(in, "unparsed_lines", json_integer((json_int_t)x->scan->malformed));
    json_object_set_new(in, "other_program_lines", json_integer((json_int_t)x->scan->foreign));
    json_object_set_new(in, "long_lines_cut", json_integer((json_int_t)x->scan->long_lines));
    json_t *why = json_array();
    for (int i = 0; i < x->scan->nreasons; i++) {
        const mt_scan_reason *r = &x->scan->reasons[i];
        json_t *o = json_object();
        json_object_set_new(o, "reason", json_string(r->why));
        json_object_set_new(o, "count", json_integer((json_int_t)r->count));
        json_object_set_new(o, "first", json_string(r->where));
        json_array_append_new(why, o);
    }
    json_object_set_new(in, "unparsed_by_reason", why);
    json_object_set_new(in, "first_attempt", jtime(d->first));
    json_object_set_new(in, "last_attempt", jtime(d->last));
    json_object_set_new(root, "input", in);

    const mt_counts *t = &d->totals;
    json_t *tot = json_object();
    json_object_set_new(tot, "messages", json_integer((json_int_t)d->messages));
    json_object_set_new(tot, "recipients", json_integer((json_int_t)t->recipients));
    json_object_set_new(tot, "attempts", json_integer((json_int_t)t->attempts));
    json_object_set_new(tot, "accepted_attempts", json_integer((json_int_t)t->accepted));
    json_object_set_new(tot, "delivered", json_integer((json_int_t)t->delivered));
    json_object_set_new(tot, "deferred_attempts", json_integer((json_int_t)t->deferred));
    json_object_set_new(tot, "bounced_attempts", json_integer((json_int_t)t->bounced));
    json_object_set_new(tot, "bounced", json_integer((json_int_t)t->rcpt_bounced));
    json_object_set_new(tot, "expired", json_integer((json_int_t)t->rcpt_expired));
    json_object_set_new(tot, "pending", json_integer((json_int_t)t->pending));
    json_object_set_new(root, "totals", tot);

    json_t *provs = json_array();
    for (int i = 0; i < d->nproviders; i++) {
        const mt_provider_stat *p = d->providers[i];
        json_t *o = json_object();
        json_object_set_new(o, "provider", json_string(p->name));
        json_object_set_new(o, "band", json_string(mt_findings_band(x->findings, p->name)));
        put_counts(o, &p->c);
        json_t *doms = json_object();
        for (int k = 0; k < p->ndomains; k++) {
            json_t *dd = json_object();
            put_counts(dd, &p->domains[k]->c);
            json_object_set_new(doms, p->domains[k]->domain, dd);
        }
        json_object_set_new(o, "domains", doms);
        json_t *bystage = json_object();
        for (int s = 0; s < MT_STAGE_COUNT; s++)
            if (p->deferred_by_stage[s])
                json_object_set_new(bystage, mt_stage_name((mt_stage)s),
                                    json_integer((json_int_t)p->deferred_by_stage[s]));
        json_object_set_new(o, "deferred_by_stage", bystage);
        json_object_set_new(o, "failures_by_category", categories_json(p->failed_by_category));
        json_t *reps = json_array();
        for (int k = 0; k < p->nreplies && k < x->top; k++)
            json_array_append_new(reps, reply_json(p->replies[k]));
        json_object_set_new(o, "top_replies", reps);
        json_object_set_new(o, "distinct_replies", json_integer(p->nreplies));
        json_object_set_new(o, "retry_outcome", retry_json(&p->retry));
        json_t *hours = json_array();
        for (int k = 0; k < p->nhours; k++) {
            const mt_hour_stat *h = &p->hours[k];
            json_t *ho = json_object();
            json_object_set_new(ho, "hour", jtime(h->hour));
            json_object_set_new(ho, "attempted", json_integer((json_int_t)h->attempts));
            json_object_set_new(ho, "accepted", json_integer((json_int_t)h->accepted));
            json_object_set_new(ho, "deferred", json_integer((json_int_t)h->deferred));
            json_object_set_new(ho, "refused", json_integer((json_int_t)h->bounced));
            json_array_append_new(hours, ho);
        }
        json_object_set_new(o, "hours", hours);
        json_array_append_new(provs, o);
    }
    json_object_set_new(root, "providers", provs);

    json_t *stages = json_array();
    for (int s = 0; s < MT_STAGE_COUNT; s++) {
        const mt_stage_stat *st = &d->stages[s];
        if (st->c.attempts == 0)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "stage", json_string(mt_stage_name(st->stage)));
        json_object_set_new(o, "attempts", json_integer((json_int_t)st->c.attempts));
        json_object_set_new(o, "accepted", json_integer((json_int_t)st->c.accepted));
        json_object_set_new(o, "deferred", json_integer((json_int_t)st->c.deferred));
        json_object_set_new(o, "bounced", json_integer((json_int_t)st->c.bounced));
        json_object_set_new(o, "failures_by_category", categories_json(st->failed_by_category));
        json_array_append_new(stages, o);
    }
    json_object_set_new(root, "stages", stages);

    json_t *senders = json_array();
    for (int i = 0; i < d->nsenders; i++) {
        const mt_sender_stat *s = d->senders[i];
        json_t *o = json_object();
        json_object_set_new(o, "route", jstr(s->route));
        json_object_set_new(o, "sending_ip", jstr(s->sending_ip));
        json_object_set_new(o, "helo_name", jstr(s->helo_name));
        json_object_set_new(o, "mail_from_domain", jstr(s->mail_from_domain));
        json_object_set_new(o, "provider", jstr(s->provider));
        put_counts(o, &s->c);
        json_object_set_new(o, "recipient_domains", json_integer(s->ndomains));
        json_object_set_new(o, "first_seen", jtime(s->first));
        json_object_set_new(o, "last_seen", jtime(s->last));
        json_object_set_new(o, "first_failure", jtime(s->first_failure));
        json_object_set_new(o, "last_failure", jtime(s->last_failure));
        json_object_set_new(o, "pattern", json_string(s->pattern));
        json_object_set_new(o, "band", json_string(s->band));
        json_array_append_new(senders, o);
    }
    json_object_set_new(root, "senders", senders);
    json_t *fa = json_array();
    for (int i = 0; x->findings && i < x->findings->n; i++)
        json_array_append_new(fa, finding_json(&x->findings->v[i]));
    json_object_set_new(root, "findings", fa);
    json_object_set_new(root, "queue_advice",
                        x->findings && x->findings->queue_advice ? json_string(x->findings->queue_advice)
                                                                 : json_null());
    json_t *lim = json_array();
    for (int i = 0; x->findings && i < x->findings->nlimits; i++)
        json_array_append_new(lim, json_string(x->findings->limits[i]));
    json_object_set_new(root, "limits", lim);
    return root;
}

int mt_report_json(const mt_report_ctx *ctx, FILE *fp)
{
    json_t *root = build(ctx);
    /* dumped whole, then written once: json_dumpf writes each token
     * through stdio, which costs more than building the text */
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(4));
    json_decref(root);
    if (text == NULL)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, fp) == n && fputc('\n', fp) != EOF ? 0 : -1;
    free(text);
    return rc;
}
