/*
 * findings.c - rank the causes of each provider's failures.
 *
 * For every provider with enough failures, the failures are grouped by
 * what their replies say (the rules' categories).  Groups whose words name
 * the cause (throttling, greylisting, authentication, refusals, unknown
 * recipients, network) become findings of that cause.  The rest, replies
 * that hide the reason (Netease's "451 4.3.2 Internal server error" and
 * other generic texts), are decided by where they fall: a cohort whose
 * failure rate stands out (two-proportion z-test, minimum samples) names
 * the sender or the message; a window in which many unrelated senders fail
 * and retries get through names the receiver.
 *
 * Confidence is the product of four factors in [0, 1], each computed from
 * the input: sample (how many failures back it), strength (how clearly the
 * data points there), severity (the failure rate where it applies) and
 * impact (its share of all attempts).  A healthy log's background of
 * greylisting, full mailboxes and dead domains stays below 0.5.
 */
#include "findings.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MIN_COHORT_ATTEMPTS 20
#define MIN_COHORT_FAILURES 10
#define MIN_Z               4.0
#define MIN_LIFT            0.15
#define MIN_COVERAGE        0.3

#define D(x)         (1u << (x))
#define SENDER_DIMS  (D(MT_DIM_SENDING_IP) | D(MT_DIM_ROUTE) | D(MT_DIM_HELO))
#define DOMAIN_DIMS  (D(MT_DIM_MAIL_FROM) | D(MT_DIM_HEADER_FROM))
#define MESSAGE_DIMS (D(MT_DIM_TEMPLATE) | D(MT_DIM_ATTACHMENTS) | D(MT_DIM_SIZE))
#define ALL_DIMS     ((1u << MT_DIM_COUNT) - 1)

typedef struct group {
    const char *cause;
    mt_category cats[6];
    int ncats;
    int permanent_only; /* only the 5xx part of the categories */
    int temporary_only; /* only the 4xx part */
    unsigned dims;      /* the dimensions that can carry this cause */
} group;

/* The reply-word groups, in the order they are considered. */
static const group groups[] = {
    {"rate_limit", {MT_CAT_RATE_LIMIT}, 1, 0, 0, SENDER_DIMS | DOMAIN_DIMS | D(MT_DIM_RECIPIENT_DOMAIN)},
    {"greylisting", {MT_CAT_GREYLISTING}, 1, 0, 0, SENDER_DIMS | D(MT_DIM_RECIPIENT_DOMAIN)},
    {"authentication", {MT_CAT_AUTHENTICATION, MT_CAT_DNS}, 2, 0, 0, SENDER_DIMS | DOMAIN_DIMS},
    {"network", {MT_CAT_NETWORK, MT_CAT_TLS}, 2, 0, 0, SENDER_DIMS | D(MT_DIM_RECIPIENT_DOMAIN)},
    {"recipient",
     {MT_CAT_USER_UNKNOWN, MT_CAT_MAILBOX_DISABLED},
     2,
     1,
     0,
     DOMAIN_DIMS | D(MT_DIM_TEMPLATE) | D(MT_DIM_RECIPIENT_DOMAIN)},
    {"policy_block",
     {MT_CAT_CONTENT, MT_CAT_POLICY, MT_CAT_RELAY_DENIED, MT_CAT_SIZE},
     4,
     1,
     0,
     SENDER_DIMS | DOMAIN_DIMS | MESSAGE_DIMS},
    {"sender_reputation", {MT_CAT_REPUTATION}, 1, 0, 0, SENDER_DIMS | DOMAIN_DIMS},
    {"content", {MT_CAT_CONTENT, MT_CAT_SIZE, MT_CAT_POLICY}, 3, 0, 1, DOMAIN_DIMS | MESSAGE_DIMS},
    /* last: replies that do not say why; decided by cohort and time */
    {NULL, {MT_CAT_RECEIVER_INTERNAL, MT_CAT_OTHER, MT_CAT_EXPIRED}, 3, 0, 0, ALL_DIMS},
};

/* Dimension preference when two cohorts explain the same failures (a
 * route and its IP): the most concrete first, as the issue asks. */
static const mt_dim dim_order[] = {MT_DIM_SENDING_IP,  MT_DIM_ROUTE,       MT_DIM_HELO,
                                   MT_DIM_MAIL_FROM,   MT_DIM_HEADER_FROM, MT_DIM_TEMPLATE,
                                   MT_DIM_ATTACHMENTS, MT_DIM_SIZE,        MT_DIM_RECIPIENT_DOMAIN};

static int dim_rank(mt_dim d)
{
    for (int i = 0; i < MT_DIM_COUNT; i++)
        if (dim_order[i] == d)
            return i;
    return MT_DIM_COUNT;
}

static uint64_t group_count(const group *g, const uint64_t *failed, const uint64_t *refused)
{
    uint64_t n = 0;
    for (int i = 0; i < g->ncats; i++) {
        mt_category c = g->cats[i];
        if (g->permanent_only)
            n += refused[c];
        else if (g->temporary_only)
            n += failed[c] - refused[c];
        else
            n += failed[c];
    }
    return n;
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

static double sample_factor(uint64_t f)
{
    return 1.0 - exp(-(double)f / 15.0);
}

/* z - two-proportion z statistic for f1/n1 against f2/n2 */
static double z_score(uint64_t f1, uint64_t n1, uint64_t f2, uint64_t n2)
{
    if (n1 == 0 || n2 == 0)
        return 0;
    double p1 = (double)f1 / (double)n1, p2 = (double)f2 / (double)n2;
    double p = (double)(f1 + f2) / (double)(n1 + n2);
    double se = sqrt(p * (1 - p) * (1.0 / (double)n1 + 1.0 / (double)n2));
    return se > 0 ? (p1 - p2) / se : 0;
}

typedef struct standout {
    const mt_cohort_stat *c;
    uint64_t f;  /* the group's failures in the cohort */
    double rate; /* cohort failure rate for the group */
    double rest; /* rate in the provider's other mail */
    double z, coverage;
} standout;

/* best_cohort - the cohort of p whose rate of the group's failures stands
 * out most, or found=0 */
static int best_cohort(const mt_provider_stat *p, const group *g, uint64_t gtotal, standout *out)
{
    int found = 0;
    double best = 0;
    for (int i = 0; i < p->ncohorts; i++) {
        const mt_cohort_stat *c = p->cohorts[i];
        uint64_t n = c->c.attempts;
        if (n < MIN_COHORT_ATTEMPTS || !(g->dims & D(c->dim)))
            continue;
        uint64_t f = group_count(g, c->failed_by_category, c->refused_by_category);
        if (f < MIN_COHORT_FAILURES)
            continue;
        uint64_t nr = p->c.attempts - n, fr = gtotal - f;
        if (nr < MIN_COHORT_ATTEMPTS)
            continue; /* the cohort is (nearly) all of the provider: no contrast */
        double rate = (double)f / (double)n, rest = (double)fr / (double)nr;
        double z = z_score(f, n, fr, nr);
        double coverage = gtotal ? (double)f / (double)gtotal : 0;
        if (z < MIN_Z || rate - rest < MIN_LIFT || coverage < MIN_COVERAGE)
            continue;
        double score = coverage * (rate - rest);
        if (!found || score > best + 1e-9 ||
            (fabs(score - best) <= 1e-9 && dim_rank(c->dim) < dim_rank(out->c->dim))) {
            found = 1;
            best = score;
            out->c = c;
            out->f = f;
            out->rate = rate;
            out->rest = rest;
            out->z = z;
            out->coverage = coverage;
        }
    }
    return found;
}

/* A window of hours in which the provider failed far above its usual rate,
 * across several senders. */
typedef struct window {
    int64_t start, end;                  /* [start, end) of the buckets */
    int64_t first_failure, last_failure; /* the failures inside them */
    uint64_t attempts, deferred;
    int senders;
    double rate, outside_rate;
} window;

/* hot_hour - a bucket in which the receiver turned mail away across
 * several senders.  The deferral rate is taken over all attempts and over
 * first attempts, whichever is higher: retries inflate the first when the
 * sender retries fast, a window shorter than the bucket dilutes both, and
 * first attempts measure what happened to new mail whatever the timers. */
static int hot_hour(const mt_hour_stat *h)
{
    double all = h->attempts >= 5 ? (double)h->deferred / (double)h->attempts : 0;
    double first = h->first_attempts >= 5 ? (double)h->first_deferred / (double)h->first_attempts : 0;
    return (all >= 0.3 || first >= 0.3) && h->failing_senders >= 3;
}

/* find_window - the largest run of consecutive hot buckets: hours for a
 * log of days, five-minute slots for a log of a few hours */
static int find_window(const mt_provider_stat *p, window *w)
{
    const mt_hour_stat *b = p->hours;
    int nb = p->nhours;
    int64_t width = 3600;
    if (p->nslots && p->slots[p->nslots - 1].hour - p->slots[0].hour <= 12 * 3600) {
        b = p->slots;
        nb = p->nslots;
        width = MT_SLOT_SECONDS;
    }
    window cur;
    int in = 0, found = 0;
    memset(w, 0, sizeof *w);
    memset(&cur, 0, sizeof cur);
    for (int i = 0; i <= nb; i++) {
        const mt_hour_stat *h = i < nb ? &b[i] : NULL;
        int hot = h && hot_hour(h);
        if (hot && in && h->hour == cur.end) {
            cur.end += width;
        } else {
            if (in && (!found || cur.deferred > w->deferred)) {
                *w = cur;
                found = 1;
            }
            in = hot;
            if (hot) {
                memset(&cur, 0, sizeof cur);
                cur.start = h->hour;
                cur.end = h->hour + width;
            }
        }
        if (hot) {
            if (h->first_failure && (cur.first_failure == 0 || h->first_failure < cur.first_failure))
                cur.first_failure = h->first_failure;
            if (h->last_failure > cur.last_failure)
                cur.last_failure = h->last_failure;
            cur.attempts += h->attempts;
            cur.deferred += h->deferred;
            if (h->failing_senders > cur.senders)
                cur.senders = h->failing_senders;
        }
    }
    if (!found)
        return 0;
    w->rate = w->attempts ? (double)w->deferred / (double)w->attempts : 0;
    uint64_t oa = p->c.attempts - w->attempts, od = p->c.deferred - w->deferred;
    w->outside_rate = oa ? (double)od / (double)oa : 0;
    /* a window must stand out from the rest of the log */
    return w->rate >= 3 * w->outside_rate && w->rate - w->outside_rate >= 0.25;
}

/* Deferral rate against volume, hour by hour. */
typedef struct vcorr {
    double r;                     /* Pearson correlation */
    int n;                        /* hours used */
    double busy_rate, quiet_rate; /* deferral rate in the busiest and quietest third */
} vcorr;

/* greylist_pattern - most of the provider's deferred recipients were
 * deferred on their first attempt at RCPT (or before) and accepted on the
 * next one, 3 to 60 minutes later: greylisting, whatever the words. */
static int greylist_pattern(const mt_provider_stat *p, uint64_t gfail)
{
    const mt_retry_stat *r = &p->retry;
    uint64_t early = p->failed_by_stage[MT_STAGE_RCPT] + p->failed_by_stage[MT_STAGE_GREETING] +
                     p->failed_by_stage[MT_STAGE_MAIL];
    return r->first_deferred >= 10 && r->greylist_like * 10 >= r->first_deferred * 7 &&
           r->greylist_like * 10 >= r->deferred_rcpts * 6 && early * 10 >= gfail * 6;
}

/* volume_corr - does the provider's hourly deferral rate follow its hourly
 * volume?  Needs 8 hours with 5 or more attempts and a correlation of
 * 0.6 or more, and the busy hours deferred at least twice as often. */
static int volume_corr(const mt_provider_stat *p, vcorr *v)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    int n = 0;
    for (int i = 0; i < p->nhours; i++) {
        const mt_hour_stat *h = &p->hours[i];
        if (h->attempts < 5)
            continue;
        double x = (double)h->attempts, y = (double)h->deferred / (double)h->attempts;
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
        n++;
    }
    if (n < 8)
        return 0;
    double cov = sxy - sx * sy / n, vx = sxx - sx * sx / n, vy = syy - sy * sy / n;
    if (vx <= 0 || vy <= 0)
        return 0;
    v->r = cov / sqrt(vx * vy);
    v->n = n;
    /* busiest and quietest thirds, by volume */
    uint64_t lo_cut = 0, hi_cut = 0;
    {
        uint64_t *vol = mt_xmalloc((size_t)n * sizeof *vol);
        int k = 0;
        for (int i = 0; i < p->nhours; i++)
            if (p->hours[i].attempts >= 5)
                vol[k++] = p->hours[i].attempts;
        for (int a = 1; a < k; a++) /* insertion sort: a few hundred hours at most */
            for (int b = a; b > 0 && vol[b - 1] > vol[b]; b--) {
                uint64_t t = vol[b];
                vol[b] = vol[b - 1];
                vol[b - 1] = t;
            }
        lo_cut = vol[k / 3];
        hi_cut = vol[(2 * k) / 3];
        free(vol);
    }
    uint64_t ba = 0, bd = 0, qa = 0, qd = 0;
    for (int i = 0; i < p->nhours; i++) {
        const mt_hour_stat *h = &p->hours[i];
        if (h->attempts < 5)
            continue;
        if (h->attempts >= hi_cut) {
            ba += h->attempts;
            bd += h->deferred;
        } else if (h->attempts <= lo_cut) {
            qa += h->attempts;
            qd += h->deferred;
        }
    }
    v->busy_rate = ba ? (double)bd / (double)ba : 0;
    v->quiet_rate = qa ? (double)qd / (double)qa : 0;
    return v->r >= 0.6 && v->busy_rate >= 2 * v->quiet_rate && v->busy_rate >= 0.05;
}

/* ---- building findings ---- */

static void addf(char ***v, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void addf(char ***v, int *n, const char *fmt, ...)
{
    mt_buf b;
    mt_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    char tmp[2048];
    vsnprintf(tmp, sizeof tmp, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): analyzer 14 bug
    va_end(ap);
    mt_buf_puts(&b, tmp);
    *v = mt_xrealloc(*v, (size_t)(*n + 1) * sizeof **v);
    (*v)[(*n)++] = b.data ? b.data : mt_xstrdup("");
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0;
}

static const char *stage_of(const uint64_t *by_stage)
{
    int best = 0;
    for (int s = 1; s < MT_STAGE_COUNT; s++)
        if (by_stage[s] > by_stage[best])
            best = s;
    return mt_stage_name((mt_stage)best);
}

/* top_reply - the provider's commonest failing reply in the group */
static const mt_reply_stat *top_reply(const mt_provider_stat *p, const group *g)
{
    for (int i = 0; i < p->nreplies; i++) {
        for (int k = 0; k < g->ncats; k++)
            if (p->replies[i]->category == g->cats[k])
                return p->replies[i];
    }
    return p->nreplies ? p->replies[0] : NULL;
}

static void retry_line(mt_finding *f, const mt_retry_stat *r)
{
    char buf[512];
    if (r->deferred_rcpts == 0) {
        snprintf(buf, sizeof buf, "no recipient was deferred");
    } else {
        /* median retries among those delivered after retrying */
        uint64_t half = (r->delivered_after_retry + 1) / 2, acc = 0;
        const char *median = "-";
        for (int i = 0; i < MT_RETRY_BUCKETS; i++) {
            acc += r->retries[i];
            if (acc >= half && r->delivered_after_retry) {
                median = mt_retry_bucket_names[i];
                break;
            }
        }
        acc = 0;
        const char *median_delay = "-";
        for (int i = 0; i < MT_DELAY_BUCKETS; i++) {
            acc += r->delays[i];
            if (acc >= half && r->delivered_after_retry) {
                median_delay = mt_delay_bucket_names[i];
                break;
            }
        }
        snprintf(buf, sizeof buf,
                 "of %llu deferred recipients, %llu delivered after retrying (median %s retries, %s), "
                 "%llu expired, %llu still queued, %llu refused later",
                 (unsigned long long)r->deferred_rcpts, (unsigned long long)r->delivered_after_retry, median,
                 median_delay, (unsigned long long)r->expired, (unsigned long long)r->pending,
                 (unsigned long long)r->bounced_after_deferral);
    }
    f->retry_outcome = mt_xstrdup(buf);
}

static const char *band_of(const char *pattern, double rate, const mt_retry_stat *r, int receiver_side)
{
    /* critical is a sender's band: mail that defers until it expires */
    if (!receiver_side && strcmp(pattern, "persistent") == 0 && r->expired + r->pending > 0)
        return "critical";
    if (strcmp(pattern, "persistent") == 0 || rate >= 0.05)
        return "warning";
    return "low";
}

static void steps_for(mt_finding *f, const mt_provider_stat *p, const char *scope)
{
    char ***v = &f->next_steps;
    int *n = &f->nnext_steps;
    const char *c = f->cause;
    if (strcmp(c, "receiver_transient") == 0) {
        addf(v, n,
             "Keep retrying within your normal queue lifetime: these are temporary failures; do not "
             "suppress any of these recipients.");
        addf(
            v, n,
            "Check that retries go out steadily (no bursts after the window); see the queue settings below.");
        addf(v, n,
             "If it recurs, escalate to %s with the evidence bundle (`mailtriage diagnose --markdown`).",
             p->name);
    } else if (strcmp(c, "content") == 0) {
        addf(v, n, "Freeze the other variables (route, sender, DNS) while you test the message %s.", scope);
        addf(v, n,
             "Build the minimal reproduction matrix from one failing message (Test A plain text ... "
             "Test E production with attachments) and send each to a few consenting %s recipients.",
             p->name);
        addf(v, n,
             "Standardise on UTF-8 with clean MIME boundaries and text+HTML alternatives; remove "
             "attachments and reintroduce them one type at a time; compare tracked and untracked links.");
    } else if (strcmp(c, "sender_reputation") == 0) {
        addf(v, n,
             "Freeze variables: stop rotating IPs, templates and envelope domains during the test window.");
        addf(v, n,
             "Confirm authentication before anything else: SPF, DKIM, DMARC alignment, reverse DNS and "
             "HELO of %s.",
             scope);
        addf(v, n, "Send minimal probes (plain text, then simple HTML) to a few consenting %s recipients.",
             p->name);
        addf(v, n,
             "Review list quality: suppress only permanently refused addresses; keep 4xx-deferred ones.");
        addf(v, n,
             "Throttle to a low steady rate (see the queue settings below) and measure accepted volume, "
             "not attempted.");
        addf(v, n, "Escalate to %s with the evidence bundle (`mailtriage diagnose --markdown`).", p->name);
    } else if (strcmp(c, "authentication") == 0) {
        addf(v, n,
             "Fix the sender's authentication %s: SPF must authorise the sending IP, DKIM must sign with "
             "a key that verifies, DMARC must align with the header From domain.",
             scope);
        addf(v, n,
             "Re-check the DNS records, then send a probe and look at the receiver's authentication "
             "result headers.");
    } else if (strcmp(c, "rate_limit") == 0) {
        addf(v, n,
             "Slow down your mail to %s: fewer parallel connections and a delay between deliveries (settings "
             "below), spread over the day.",
             p->name);
        addf(v, n, "Do not add IPs to get around the limit: it resets on the same reputation.");
    } else if (strcmp(c, "greylisting") == 0) {
        addf(v, n,
             "Nothing to fix: the receiver accepts the retry. Keep minimal_backoff_time at 5-15 minutes "
             "and never resend as a new message (that restarts greylisting).");
    } else if (strcmp(c, "network") == 0) {
        addf(v, n,
             "Check the path %s: egress firewall and NAT, the source address, DNS of the MX hosts; "
             "compare with a route that gets through.",
             scope);
    } else if (strcmp(c, "recipient") == 0) {
        addf(v, n,
             "Suppress the permanently refused addresses (5xx 'does not exist'); keep every address that "
             "only saw 4xx replies.");
        addf(v, n,
             "Review how the list %s is collected (confirmed opt-in, typo checks, expiry of stale "
             "addresses).",
             scope);
    } else if (strcmp(c, "policy_block") == 0) {
        addf(v, n,
             "The receiver refused the mail %s on policy or content grounds: review the content and "
             "links, the sender's complaint rate and list source before sending more.",
             scope);
        addf(v, n, "Ask %s for the reason with the evidence bundle if the refusal continues.", p->name);
    }
}

typedef struct fvec {
    mt_finding *v;
    int n, cap;
} fvec;

static mt_finding *new_finding(fvec *fv, const char *cause, const mt_provider_stat *p)
{
    if (fv->n == fv->cap) {
        fv->cap = fv->cap ? fv->cap * 2 : 8;
        fv->v = mt_xrealloc(fv->v, (size_t)fv->cap * sizeof *fv->v);
    }
    mt_finding *f = &fv->v[fv->n++];
    memset(f, 0, sizeof *f);
    f->cause = cause;
    f->provider = p->name;
    f->pattern = "intermittent";
    f->band = "low";
    return f;
}

/* fill_common - reply, stage, times and evidence lines shared by findings */
static void fill_common(mt_finding *f, const mt_provider_stat *p, const group *g, const standout *so,
                        uint64_t gfail)
{
    const mt_reply_stat *r = top_reply(p, g);
    char a[24], b[24];
    if (r) {
        f->reply = mt_xstrdup(r->example);
        f->generic_reply = (r->flags & MT_RULE_GENERIC_FRONTEND) != 0;
    }
    if (so) {
        f->stage = stage_of(so->c->failed_by_stage);
        f->first_failure = so->c->first_failure;
        f->last_failure = so->c->last_failure;
        f->attempts = so->c->c.attempts;
        f->failures = so->f;
    } else {
        f->stage = stage_of(p->failed_by_stage);
        f->first_failure = p->first_failure;
        f->last_failure = p->last_failure;
        f->attempts = p->c.attempts;
        f->failures = gfail;
    }
    mt_time_minutes(f->first_failure, a, sizeof a);
    mt_time_minutes(f->last_failure, b, sizeof b);
    addf(&f->evidence, &f->nevidence,
         "%s: %llu of %llu attempts failed, for any reason (%.1f%%), between %s and %s UTC", p->name,
         (unsigned long long)p->c.deferred + p->c.bounced, (unsigned long long)p->c.attempts,
         pct(p->c.deferred + p->c.bounced, p->c.attempts), a, b);
    if (so) {
        addf(&f->evidence, &f->nevidence,
             "cohort %s=%s: %llu of %llu attempts failed (%.1f%%) against %.1f%% for the provider's other "
             "mail "
             "(z=%.1f); it carries %.0f%% of these failures",
             mt_dim_name(so->c->dim), so->c->value, (unsigned long long)so->f,
             (unsigned long long)so->c->c.attempts, 100 * so->rate, 100 * so->rest, so->z,
             100 * so->coverage);
        int nd = 0;
        for (uint64_t x = so->c->fail_domain_bits; x; x &= x - 1)
            nd++;
        if (so->c->dim != MT_DIM_RECIPIENT_DOMAIN && nd > 1)
            addf(&f->evidence, &f->nevidence,
                 "its failures span about %d of %s's recipient domains, not one pool", nd, p->name);
    }
    addf(&f->evidence, &f->nevidence, "stage: most failures at %s%s", f->stage,
         strcmp(f->stage, "data_end") == 0 ? " (after DATA: the message body was the last thing sent)" : "");
    if (r) {
        addf(&f->evidence, &f->nevidence, "commonest reply: \"%s\" (%llu times, at %s, category %s)",
             r->example, (unsigned long long)r->count, mt_stage_name(r->stage),
             mt_category_name(r->category));
        if (r->flags & MT_RULE_GENERIC_FRONTEND)
            addf(&f->evidence, &f->nevidence,
                 "that reply is a generic front-end text: it hides the receiver's real reason, so stage, "
                 "timing and cohort decide (rules: %s)",
                 r->meaning ? r->meaning : "a generic text");
        else if (r->meaning)
            addf(&f->evidence, &f->nevidence, "the reply means: %s", r->meaning);
    }
    retry_line(f, &p->retry);
    addf(&f->evidence, &f->nevidence, "retry outcome (%s): %s", p->name, f->retry_outcome);
}

static void scope_from(mt_finding *f, const standout *so)
{
    if (so) {
        f->scope_key = mt_dim_name(so->c->dim);
        f->scope_value = mt_xstrdup(so->c->value);
    }
}

static const char *persistence(const mt_cohort_stat *c)
{
    int64_t span = c->last_failure - c->first_failure;
    double acc = c->c.attempts ? (double)c->c.accepted / (double)c->c.attempts : 0;
    if (acc < 0.05 && (span >= 3600 || c->c.deferred + c->c.bounced >= 10))
        return "persistent";
    return "intermittent";
}

/* totals the confidence is measured against */
typedef struct base {
    uint64_t attempts, recipients;
} base;

/* finish_finding - confidence and ordering weight.  Impact counts both
 * the failures explained (against 2% of all attempts) and the recipients
 * behind them (against 2% of all recipients): retries multiply failures,
 * so ten recipients of a dead domain retried for days are not a big
 * problem however many lines they fill. */
static void finish_finding(mt_finding *f, double strength, double rate, uint64_t explained,
                           uint64_t recipients, const base *all, int benign)
{
    double by_failures = all->attempts ? (double)explained / (0.02 * (double)all->attempts) : 0;
    double by_recipients = all->recipients ? (double)recipients / (0.02 * (double)all->recipients) : 0;
    double impact = clamp01(fmin(by_failures, by_recipients));
    double conf = sample_factor(explained) * clamp01(strength) * clamp01(rate / 0.2) * impact;
    if (benign && conf > 0.45)
        conf = 0.45; /* a benign pattern is reported, never as a confident problem */
    f->confidence = floor(conf * 100 + 0.5) / 100;
    int band = strcmp(f->band, "critical") == 0 ? 3 : strcmp(f->band, "warning") == 0 ? 2 : 1;
    f->weight = (double)explained * (0.2 + f->confidence) * band;
}

static void diagnose_provider(fvec *fv, const mt_provider_stat *p, const base *all)
{
    uint64_t relevant =
        p->c.deferred + p->c.bounced + p->c.expired - p->failed_by_category[MT_CAT_MAILBOX_FULL];
    if (p->c.attempts < MIN_COHORT_ATTEMPTS || relevant < 5)
        return;
    for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
        const group *g = &groups[gi];
        uint64_t gfail = group_count(g, p->failed_by_category, p->refused_by_category);
        if (gfail < 5)
            continue;
        double share = (double)gfail / (double)relevant;
        standout so;
        int have = best_cohort(p, g, gfail, &so);
        if (g->cause != NULL) {
            /* the reply words name the cause */
            if (share < 0.2 && gfail < 50)
                continue;
            mt_finding *f = new_finding(fv, g->cause, p);
            scope_from(f, have ? &so : NULL);
            fill_common(f, p, g, have ? &so : NULL, gfail);
            double rate = have ? so.rate : (double)gfail / (double)p->c.attempts;
            if (have)
                f->pattern = persistence(so.c);
            int benign = strcmp(g->cause, "greylisting") == 0 &&
                         p->retry.delivered_after_retry >= p->retry.deferred_rcpts * 8 / 10;
            if (strcmp(g->cause, "greylisting") == 0 && p->retry.first_deferred)
                addf(&f->evidence, &f->nevidence,
                     "%llu of %llu recipients deferred on the first attempt were accepted on the next, 3 to "
                     "60 "
                     "minutes later",
                     (unsigned long long)p->retry.greylist_like, (unsigned long long)p->retry.first_deferred);
            f->band =
                benign ? "low"
                       : band_of(f->pattern, rate, &p->retry, have && so.c->dim == MT_DIM_RECIPIENT_DOMAIN);
            steps_for(f, p, f->scope_key ? f->scope_value : "");
            finish_finding(f, have ? fmin(1.0, so.z / 10.0) * (0.5 + 0.5 * share) : share, rate,
                           have ? so.f : gfail, have ? so.c->c.recipients : p->c.recipients, all, benign);
            continue;
        }
        /* replies that do not say why: decide by cohort, then by time */
        if (share < 0.2 && gfail < 50)
            continue;
        vcorr vc;
        memset(&vc, 0, sizeof vc);
        window w;
        /* a window counts all deferrals; it is this group's only when the
         * group's failures can account for it */
        int have_window = !have && find_window(p, &w) && (double)w.deferred <= 1.3 * (double)gfail;
        const char *cause;
        double strength, rate;
        uint64_t explained;
        if (have) {
            mt_dim d = so.c->dim;
            if (d == MT_DIM_TEMPLATE || d == MT_DIM_ATTACHMENTS || d == MT_DIM_SIZE)
                cause = "content";
            else if (d == MT_DIM_RECIPIENT_DOMAIN)
                cause = "receiver_transient";
            else
                cause = "sender_reputation";
            strength = fmin(1.0, so.z / 10.0) * (0.5 + 0.5 * so.coverage);
            rate = so.rate;
            explained = so.f;
        } else if (have_window) {
            cause = "receiver_transient";
            strength = clamp01((double)w.deferred / (double)(p->c.deferred ? p->c.deferred : 1));
            rate = w.rate;
            explained = w.deferred;
        } else if (greylist_pattern(p, gfail)) {
            /* first attempts deferred, the next accepted minutes later */
            cause = "greylisting";
            strength = (double)p->retry.greylist_like / (double)p->retry.first_deferred;
            rate = (double)gfail / (double)p->c.attempts;
            explained = gfail;
        } else if (volume_corr(p, &vc)) {
            /* deferrals that rise and fall with the volume: a rate limit,
             * whatever the reply says */
            cause = "rate_limit";
            strength = vc.r;
            rate = (double)gfail / (double)p->c.attempts;
            explained = gfail;
        } else {
            /* no cohort, no window: spread thin over time and senders */
            cause = "receiver_transient";
            strength = 0.4;
            rate = (double)gfail / (double)p->c.attempts;
            explained = gfail;
        }
        mt_finding *f = new_finding(fv, cause, p);
        scope_from(f, have ? &so : NULL);
        fill_common(f, p, g, have ? &so : NULL, gfail);
        if (have) {
            f->pattern = persistence(so.c);
            if (strcmp(cause, "content") == 0)
                addf(&f->evidence, &f->nevidence,
                     "the same senders' other mail to %s passes: only %.1f%% of it failed this way", p->name,
                     100 * so.rest);
        } else if (strcmp(cause, "greylisting") == 0) {
            addf(&f->evidence, &f->nevidence,
                 "%llu of %llu recipients deferred on the first attempt were accepted on the next, 3 to 60 "
                 "minutes later; the reply has no greylisting words, the pattern does",
                 (unsigned long long)p->retry.greylist_like, (unsigned long long)p->retry.first_deferred);
        } else if (strcmp(cause, "rate_limit") == 0) {
            addf(&f->evidence, &f->nevidence,
                 "the deferral rate rises and falls with the hourly volume (correlation %.2f over %d hours): "
                 "%.0f%% deferred in the busiest hours, %.0f%% in the quietest; the reply has no throttling "
                 "words, the pattern does",
                 vc.r, vc.n, 100 * vc.busy_rate, 100 * vc.quiet_rate);
        } else if (have_window) {
            char a[24], b[24];
            mt_time_minutes(w.first_failure ? w.first_failure : w.start, a, sizeof a);
            mt_time_minutes(w.last_failure ? w.last_failure : w.end, b, sizeof b);
            f->first_failure = w.first_failure ? w.first_failure : w.start;
            f->last_failure = w.last_failure ? w.last_failure : w.end;
            addf(&f->evidence, &f->nevidence,
                 "window %s to %s UTC: %.0f%% of %llu attempts deferred, against %.1f%% outside it; up to %d "
                 "different sender domains failing at the same time, and no cohort stands out",
                 a, b, 100 * w.rate, (unsigned long long)w.attempts, 100 * w.outside_rate, w.senders);
        } else {
            addf(&f->evidence, &f->nevidence,
                 "no route, sender, template, attachment profile or recipient domain stands out, and no "
                 "time window: the failures are spread thin");
        }
        int benign = strcmp(cause, "greylisting") == 0;
        f->band =
            benign ? "low" : band_of(f->pattern, rate, &p->retry, strcmp(cause, "receiver_transient") == 0);
        steps_for(f, p, f->scope_key ? f->scope_value : "");
        finish_finding(f, strength, rate, explained, have ? so.c->c.recipients : p->c.recipients, all,
                       benign);
    }
}

static int band_rank(const char *band)
{
    return strcmp(band, "critical") == 0 ? 3 : strcmp(band, "warning") == 0 ? 2 : 1;
}

/* by_weight - most important first: the band, then failures explained
 * weighted by confidence */
static int by_weight(const void *a, const void *b)
{
    const mt_finding *x = a, *y = b;
    int bx = band_rank(x->band), by = band_rank(y->band);
    if (bx != by)
        return bx < by ? 1 : -1;
    if (x->weight != y->weight)
        return x->weight < y->weight ? 1 : -1;
    return strcmp(x->provider, y->provider);
}

/* queue_advice - Postfix and Exim settings for the providers with
 * throttling, reputation or receiver-side findings, from the accepted
 * volume seen: the busiest hour's accepted count is what the receiver
 * took, so the rate is set a little under it. */
static char *queue_advice(const mt_diag_result *r, const fvec *fv)
{
    mt_buf b;
    mt_buf_init(&b);
    for (int i = 0; i < r->nproviders; i++) {
        const mt_provider_stat *p = r->providers[i];
        if (strcmp(p->name, "other") == 0)
            continue;
        int wanted = 0;
        for (int k = 0; k < fv->n; k++)
            if (fv->v[k].provider == p->name && fv->v[k].confidence >= 0.3 &&
                (strcmp(fv->v[k].cause, "rate_limit") == 0 ||
                 strcmp(fv->v[k].cause, "sender_reputation") == 0 ||
                 strcmp(fv->v[k].cause, "receiver_transient") == 0))
                wanted = 1;
        if (!wanted)
            continue;
        uint64_t peak = 0;
        for (int h = 0; h < p->nhours; h++)
            if (p->hours[h].accepted > peak)
                peak = p->hours[h].accepted;
        if (peak == 0)
            peak = 60;
        uint64_t per_hour = peak * 8 / 10 > 0 ? peak * 8 / 10 : 1;
        unsigned delay = (unsigned)(3600 / per_hour);
        if (delay < 1)
            delay = 1;
        unsigned conc = per_hour > 3000 ? 5 : per_hour > 600 ? 3 : 2;
        char tr[64];
        snprintf(tr, sizeof tr, "throttle_%s", p->name);
        mt_buf_printf(&b, "# %s: the busiest hour accepted %llu messages; pace at about %llu/hour\n", p->name,
                      (unsigned long long)peak, (unsigned long long)per_hour);
        mt_buf_printf(&b, "# Postfix, master.cf:\n%s unix - - n - %u smtp\n    -o syslog_name=postfix-%s\n",
                      tr, conc, p->name);
        mt_buf_printf(&b, "# (a non-zero rate delay sends one message at a time per destination)\n");
        mt_buf_printf(
            &b,
            "# Postfix, main.cf:\n%s_destination_concurrency_limit = %u\n%s_destination_rate_delay = %us\n"
            "%s_destination_recipient_limit = 20\ntransport_maps = hash:/etc/postfix/transport\n",
            tr, conc, tr, delay, tr);
        mt_buf_printf(&b, "# Postfix, /etc/postfix/transport (then: postmap /etc/postfix/transport):\n");
        int nd = 0;
        for (int k = 0; k < p->ndomains && nd < 12; k++, nd++)
            mt_buf_printf(&b, "%s %s:\n", p->domains[k]->domain, tr);
        mt_buf_printf(&b, "# Exim, routers (before dnslookup):\n%s:\n  driver = dnslookup\n  domains = ", tr);
        for (int k = 0; k < p->ndomains && k < 12; k++)
            mt_buf_printf(&b, "%s%s", k ? " : " : "", p->domains[k]->domain);
        mt_buf_printf(&b, "\n  transport = %s_smtp\n  no_more\n", tr);
        mt_buf_printf(&b,
                      "# Exim, transports:\n%s_smtp:\n  driver = smtp\n  max_parallel = %u\n"
                      "  connection_max_messages = 20\n",
                      tr, conc);
        mt_buf_printf(&b, "# Exim, retry rules for these domains: keep retrying, never give up early\n");
        for (int k = 0; k < p->ndomains && k < 12; k++)
            mt_buf_printf(&b, "%s  *  F,2h,10m; G,24h,1h,1.5; F,5d,6h\n", p->domains[k]->domain);
        mt_buf_putc(&b, '\n');
    }
    return b.data; /* NULL when nothing was written */
}

static void free_one(mt_finding *x)
{
    free(x->scope_value);
    free(x->reply);
    free(x->retry_outcome);
    for (int k = 0; k < x->nevidence; k++)
        free(x->evidence[k]);
    for (int k = 0; k < x->nnext_steps; k++)
        free(x->next_steps[k]);
    free(x->evidence);
    free(x->next_steps);
}

/* merge - one sender-side cohort failing at several providers (a route
 * whose connections time out everywhere, a domain whose DMARC fails
 * everywhere) is one finding: keep the largest, fold the others in. */
static void merge(fvec *fv)
{
    for (int i = 0; i < fv->n; i++) {
        mt_finding *a = &fv->v[i];
        if (a->scope_key == NULL || strcmp(a->scope_key, "recipient_domain") == 0)
            continue;
        for (int k = i + 1; k < fv->n; k++) {
            mt_finding *b = &fv->v[k];
            if (b->scope_key == NULL || strcmp(a->cause, b->cause) != 0 ||
                strcmp(a->scope_key, b->scope_key) != 0 || strcmp(a->scope_value, b->scope_value) != 0)
                continue;
            mt_finding *big = a->failures >= b->failures ? a : b, *small = big == a ? b : a;
            addf(&big->evidence, &big->nevidence, "the same cohort fails at %s too: %llu of %llu attempts",
                 small->provider, (unsigned long long)small->failures, (unsigned long long)small->attempts);
            big->weight += small->weight;
            if (small->confidence > big->confidence)
                big->confidence = small->confidence;
            if (small->first_failure &&
                (big->first_failure == 0 || small->first_failure < big->first_failure))
                big->first_failure = small->first_failure;
            if (small->last_failure > big->last_failure)
                big->last_failure = small->last_failure;
            if (big != a) { /* keep the survivor at i */
                mt_finding tmp = *a;
                *a = *b;
                *b = tmp;
            }
            free_one(b);
            fv->v[k] = fv->v[--fv->n];
            k--;
        }
    }
}

mt_findings *mt_findings_build(const mt_diag_result *r)
{
    fvec fv = {0};
    base all = {r->totals.attempts, r->totals.recipients};
    for (int i = 0; i < r->nproviders; i++)
        diagnose_provider(&fv, r->providers[i], &all);
    merge(&fv);
    /* findings nobody should act on are noise in a report */
    int kept = 0;
    for (int i = 0; i < fv.n; i++) {
        if (fv.v[i].confidence >= 0.05)
            fv.v[kept++] = fv.v[i];
        else
            free_one(&fv.v[i]);
    }
    fv.n = kept;
    if (fv.n)
        qsort(fv.v, (size_t)fv.n, sizeof *fv.v, by_weight);
    mt_findings *out = mt_xcalloc(1, sizeof *out);
    out->v = fv.v;
    out->n = fv.n;
    out->queue_advice = queue_advice(r, &fv);
    int need_auth = 0, have_ip = 0;
    for (int i = 0; i < fv.n; i++)
        if (strcmp(fv.v[i].cause, "sender_reputation") == 0 || strcmp(fv.v[i].cause, "authentication") == 0)
            need_auth = 1;
    for (int i = 0; i < r->nsenders; i++)
        if (r->senders[i]->sending_ip)
            have_ip = 1;
    if (need_auth)
        addf(&out->limits, &out->nlimits,
             "authentication and DNS were not checked: the logs do not show SPF, DKIM, DMARC or reverse DNS "
             "results; check them before blaming reputation");
    if (!have_ip && r->totals.attempts)
        addf(&out->limits, &out->nlimits,
             "sending IPs and HELO names are unknown: these logs do not carry them (Postfix never logs them, "
             "Exim only with +outgoing_interface); map routes with --routes FILE");
    addf(&out->limits, &out->nlimits,
         "complaints, engagement and spam-folder placement are not in MTA logs; accepted does not mean "
         "inboxed");
    return out;
}

void mt_findings_free(mt_findings *f)
{
    if (f == NULL)
        return;
    for (int i = 0; i < f->n; i++)
        free_one(&f->v[i]);
    for (int i = 0; i < f->nlimits; i++)
        free(f->limits[i]);
    free(f->limits);
    free(f->v);
    free(f->queue_advice);
    free(f);
}

void mt_findings_fold(mt_findings *f, mt_finding *nf)
{
    f->v = mt_xrealloc(f->v, (size_t)(f->n + 1) * sizeof *f->v);
    f->v[f->n++] = *nf;
    memset(nf, 0, sizeof *nf);
    qsort(f->v, (size_t)f->n, sizeof *f->v, by_weight);
}

void mt_findings_dns_checked(mt_findings *f)
{
    int kept = 0;
    for (int i = 0; i < f->nlimits; i++) {
        if (strncmp(f->limits[i], "authentication and DNS were not checked", 39) == 0)
            free(f->limits[i]);
        else
            f->limits[kept++] = f->limits[i];
    }
    f->nlimits = kept;
}

const char *mt_findings_band(const mt_findings *f, const char *provider)
{
    const char *best = "low";
    for (int i = 0; f && i < f->n; i++)
        if (strcmp(f->v[i].provider, provider) == 0 && f->v[i].confidence >= 0.5 &&
            band_rank(f->v[i].band) > band_rank(best))
            best = f->v[i].band;
    return best;
}

const char *mt_cause_words(const char *cause)
{
    static const struct {
        const char *cause, *words;
    } w[] = {
        {"receiver_transient", "a temporary fault on the receiver's side"},
        {"content", "the message itself (content, MIME, attachments or size) after DATA"},
        {"sender_reputation", "the sender's reputation or identity with the receiver"},
        {"authentication", "the sender's authentication or DNS"},
        {"rate_limit", "the receiver's rate limits"},
        {"greylisting", "greylisting (first attempts deferred, retries accepted)"},
        {"recipient", "recipient addresses that do not exist"},
        {"network", "the network path to the receiver"},
        {"policy_block", "an explicit refusal on spam or policy grounds"},
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (strcmp(w[i].cause, cause) == 0)
            return w[i].words;
    return cause;
}
