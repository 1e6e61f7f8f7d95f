/*
 * report_html.c - the diagnosis as one self-contained HTML page: the
 * findings, the queue settings, inline SVG charts drawn here (deferral
 * rate over time per provider, SMTP stages, the cohort that stands out,
 * what became of deferred recipients) and the supporting tables.
 *
 * The page fetches nothing: no scripts, fonts, style sheets or images from
 * anywhere; the CSS is inline and the charts are SVG.  Every string that
 * came from a log (domains, routes, replies, file names) is hostile input
 * and goes through put_esc; numbers and our own constant words are the
 * only things written unescaped.  Like the other reports it reads only
 * the mt_report_ctx and computes no figure of its own beyond ratios and
 * chart geometry.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

#ifndef MT_VERSION
#define MT_VERSION "?"
#endif

/* Chart geometry: every SVG is drawn in a 1000-unit wide viewBox and
 * scaled to the page width by CSS. */
#define SVG_W 1000

/* Colours: bands, outcomes, and one colour per charted provider. */
#define C_ACCEPTED "#4c9a5b"
#define C_DEFERRED "#e3a21a"
#define C_REFUSED  "#c62828"
#define C_OTHER    "#9ca3af"
#define C_COHORT   "#c62828"
#define C_REST     "#9ca3af"
#define C_AXIS     "#6b7280"
#define C_GRID     "#e5e7eb"

static const char *const palette[] = {"#4e79a7", "#f28e2b", "#76b7b2", "#b07aa1", "#59a14f", "#9c755f"};
#define NPALETTE ((int)(sizeof palette / sizeof palette[0]))

/* ---- escaping ---------------------------------------------------------- */

/* utf8_len - the length of the valid UTF-8 sequence at s (1 to 4), or 0
 * when the bytes there are not one (stray continuation byte, overlong
 * form, surrogate, beyond U+10FFFF, or cut short by the terminator). */
static int utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* put_esc_n - write s to fp as HTML text or as the inside of a quoted
 * attribute value: & < > " ' become character references, control
 * characters other than tab and newline and invalid UTF-8 become U+FFFD,
 * so nothing in s can open markup or end an attribute.  At most max code
 * points are written (0: no limit); a longer s is cut and ends in "…".
 * NULL writes nothing. */
static void put_esc_n(FILE *fp, const char *s, size_t max)
{
    if (s == NULL)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t total = 0;
    if (max) {
        for (const unsigned char *q = p; *q;) {
            int n = utf8_len(q);
            q += n ? n : 1;
            total++;
        }
        if (total <= max)
            max = 0;
    }
    size_t cps = 0;
    while (*p) {
        if (max && cps + 1 >= max) {
            fputs("\xE2\x80\xA6", fp);
            return;
        }
        int n = utf8_len(p);
        cps++;
        if (n == 0) {
            fputs("\xEF\xBF\xBD", fp);
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, (size_t)n, fp);
            p += n;
            continue;
        }
        switch (*p) {
        case '&':
            fputs("&amp;", fp);
            break;
        case '<':
            fputs("&lt;", fp);
            break;
        case '>':
            fputs("&gt;", fp);
            break;
        case '"':
            fputs("&quot;", fp);
            break;
        case '\'':
            fputs("&#39;", fp);
            break;
        default:
            if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7F)
                fputs("\xEF\xBF\xBD", fp);
            else
                fputc(*p, fp);
        }
        p++;
    }
}

/* put_esc - put_esc_n without a length limit. */
static void put_esc(FILE *fp, const char *s)
{
    put_esc_n(fp, s, 0);
}

/* ---- numbers and words ------------------------------------------------- */

/* ratio - part / whole, 0 when whole is 0. */
static double ratio(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

/* failures - attempts that were not accepted: deferred, refused, expired. */
static uint64_t failures(const mt_counts *c)
{
    return c->deferred + c->bounced + c->expired;
}

/* band_class - the CSS class of a risk band: only our three words ever
 * reach the markup, whatever the string says. */
static const char *band_class(const char *band)
{
    if (band && strcmp(band, "critical") == 0)
        return "critical";
    if (band && strcmp(band, "warning") == 0)
        return "warning";
    return "low";
}

/* nshown - how many of the leading findings the report presents: the
 * first always, then up to six while their confidence is at least 0.2
 * (the rule of the text report). */
static int nshown(const mt_findings *f)
{
    int n = 0;
    for (int i = 0; f && i < f->n && n < 6; i++) {
        if (f->v[i].confidence < 0.2 && n > 0)
            break;
        n++;
    }
    return n;
}

/* provider_named - the provider stat whose name is name, or NULL. */
static const mt_provider_stat *provider_named(const mt_diag_result *d, const char *name)
{
    for (int i = 0; name && i < d->nproviders; i++)
        if (d->providers[i]->name == name || strcmp(d->providers[i]->name, name) == 0)
            return d->providers[i];
    return NULL;
}

/* ---- page frame -------------------------------------------------------- */

static const char css[] =
    ":root{--crit:#c62828;--warn:#b26a00;--low:#6b7280;--ink:#1f2937;--mute:#6b7280;--line:#e5e7eb}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#f3f4f6;color:var(--ink);font:14px/1.5 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'Helvetica Neue',Arial,'Noto Sans','Liberation Sans',sans-serif}\n"
    "main{max-width:1080px;margin:0 auto;padding:24px 20px 48px}\n"
    "header h1{font-size:26px;margin:0 0 4px}\n"
    "header p{margin:2px 0;color:var(--mute)}\n"
    "h2{font-size:19px;margin:0 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}\n"
    "h3{font-size:15px;margin:16px 0 6px}\n"
    "section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin:18px "
    "0}\n"
    ".tiles{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:16px 0 0}\n"
    ".tile{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px}\n"
    ".tile b{display:block;font-size:20px}\n"
    ".tile span{color:var(--mute);font-size:12px}\n"
    ".finding{border:1px solid var(--line);border-left:6px solid var(--low);border-radius:6px;padding:12px "
    "16px;margin:12px 0}\n"
    ".finding.critical{border-left-color:var(--crit)}\n"
    ".finding.warning{border-left-color:var(--warn)}\n"
    ".finding h3{margin:0 0 6px;font-size:16px}\n"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;"
    "color:#fff;background:var(--low);margin-right:6px}\n"
    ".badge.critical{background:var(--crit)}\n"
    ".badge.warning{background:var(--warn)}\n"
    ".badge.low{background:#e5e7eb;color:#4b5563}\n"
    ".badge.plain{background:#eef2f7;color:var(--ink);font-weight:500}\n"
    "dl.facts{display:grid;grid-template-columns:150px 1fr;gap:2px 12px;margin:10px 0}\n"
    "dl.facts dt{color:var(--mute)}\n"
    "dl.facts dd{margin:0;overflow-wrap:anywhere}\n"
    ".finding ul,.finding ol{margin:4px 0 8px;padding-left:22px}\n"
    "pre{background:#f8fafc;border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;"
    "max-height:340px;"
    "font:12px/1.45 ui-monospace,'SFMono-Regular',Menlo,Consolas,'DejaVu Sans Mono',monospace}\n"
    "table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}\n"
    "table.replies{table-layout:fixed}\n"
    "th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}\n"
    "th{background:#f8fafc;font-weight:600;color:#374151}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "td.reply{overflow-wrap:anywhere;font-size:12px}\n"
    "td.reply small{display:block;color:var(--mute)}\n"
    ".bar{display:inline-block;height:10px;background:" C_DEFERRED
    ";border-radius:2px;vertical-align:middle}\n"
    ".barbox{display:inline-block;width:90px;height:10px;background:#f1f5f9;border-radius:2px;"
    "margin-right:6px;vertical-align:middle}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:4px 0 6px;font-size:13px}\n"
    ".legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;"
    "vertical-align:-1px}\n"
    ".legend i.line{height:3px;vertical-align:3px;width:18px}\n"
    ".caption{color:var(--mute);font-size:12.5px;margin:2px 0 10px}\n"
    ".chart{margin:6px 0 14px}\n"
    "svg.c{display:block;width:100%;height:auto}\n"
    "svg.c text{font-family:inherit;font-size:12px;fill:#374151}\n"
    "svg.c text.t{font-size:13px;font-weight:600;fill:#1f2937}\n"
    "svg.c .m{fill:#6b7280;font-size:11px}\n"
    ".muted{color:var(--mute)}\n"
    "nav a{color:#2563eb;text-decoration:none;margin-right:14px}\n"
    "footer{color:var(--mute);font-size:12px;text-align:center}\n"
    "@media "
    "print{body{background:#fff}section{border:none}pre{max-height:none}.chart,tr{break-inside:avoid}}\n";

/* open_svg - start one chart: an SVG of height h in the 1000-wide viewBox,
 * labelled for screen readers with title (a constant of ours). */
static void open_svg(FILE *fp, int h, const char *title)
{
    fprintf(fp,
            "<svg class=\"c\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-label=\"%s\">\n",
            SVG_W, h, title);
}

/* ---- header, totals, findings ------------------------------------------ */

static void put_header(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    const mt_counts *t = &d->totals;
    char a[32], b[32], c[32], w1[24], w2[24];
    mt_time_minutes(d->first, w1, sizeof w1);
    mt_time_minutes(d->last, w2, sizeof w2);
    fprintf(fp, "<header>\n<h1>Mail delivery diagnosis</h1>\n<p>");
    fprintf(fp, "%d file%s: ", x->nfiles, x->nfiles == 1 ? "" : "s");
    for (int i = 0; i < x->nfiles && i < 20; i++) {
        fputs(i ? ", <code>" : "<code>", fp);
        put_esc(fp, x->files[i]);
        fputs("</code>", fp);
    }
    if (x->nfiles > 20)
        fprintf(fp, " and %d more", x->nfiles - 20);
    fprintf(fp, "</p>\n<p>%s lines (%.1f MB), ", mt_grouped(x->scan->lines, a), (double)x->scan->bytes / 1e6);
    put_esc(fp, x->format);
    fprintf(fp, " format; attempts from %s to %s UTC; recipients' local parts %s.</p>\n", w1, w2,
            x->show_recipients ? "shown" : "redacted");
    fprintf(fp, "<nav><a href=\"#diagnosis\">Diagnosis</a><a href=\"#queue\">Queue settings</a>"
                "<a href=\"#charts\">Charts</a><a href=\"#providers\">Providers</a>"
                "<a href=\"#senders\">Senders</a><a href=\"#input\">Input</a></nav>\n");
    fprintf(fp, "<div class=\"tiles\">\n");
    fprintf(fp, "<div class=\"tile\"><b>%s</b><span>messages</span></div>\n", mt_grouped(d->messages, a));
    fprintf(fp, "<div class=\"tile\"><b>%s</b><span>recipients</span></div>\n", mt_grouped(t->recipients, a));
    fprintf(fp, "<div class=\"tile\"><b>%s</b><span>delivery attempts</span></div>\n",
            mt_grouped(t->attempts, a));
    fprintf(fp, "<div class=\"tile\"><b>%.1f%%</b><span>attempts deferred (%s)</span></div>\n",
            100 * ratio(t->deferred, t->attempts), mt_grouped(t->deferred, b));
    fprintf(fp, "<div class=\"tile\"><b>%s</b><span>recipients delivered</span></div>\n",
            mt_grouped(t->delivered, a));
    fprintf(fp,
            "<div class=\"tile\"><b>%s / %s / %s</b><span>bounced / expired / still queued</span></div>\n",
            mt_grouped(t->rcpt_bounced, a), mt_grouped(t->rcpt_expired, b), mt_grouped(t->pending, c));
    fprintf(fp, "</div>\n</header>\n");
}

/* put_finding - one finding as a card: cause in words, where, the figures,
 * the evidence and the next steps. */
static void put_finding(const mt_finding *g, int num, FILE *fp)
{
    char a[32], b[32], w1[24], w2[24];
    const char *band = band_class(g->band);
    fprintf(fp, "<div class=\"finding %s\">\n<h3>%d. ", band, num);
    put_esc(fp, g->provider);
    fputs(": ", fp);
    put_esc(fp, mt_cause_words(g->cause));
    fprintf(fp, "</h3>\n<div><span class=\"badge %s\">", band);
    put_esc(fp, g->band);
    fputs("</span><span class=\"badge plain\">cause: ", fp);
    put_esc(fp, g->cause);
    fputs("</span><span class=\"badge plain\">pattern: ", fp);
    put_esc(fp, g->pattern);
    fprintf(fp, "</span><span class=\"badge plain\">confidence %.2f</span></div>\n", g->confidence);
    fputs("<dl class=\"facts\">\n<dt>Where</dt><dd>", fp);
    if (g->scope_key) {
        fputs("<code>", fp);
        put_esc(fp, g->scope_key);
        fputs("</code> = <code>", fp);
        put_esc(fp, g->scope_value);
        fputs("</code>", fp);
    } else {
        fputs("all of ", fp);
        put_esc(fp, g->provider);
        fputs("'s mail (no single cohort stands out)", fp);
    }
    fputs("</dd>\n", fp);
    fprintf(fp, "<dt>Failures</dt><dd>%s of %s attempts (%.1f%%)</dd>\n", mt_grouped(g->failures, a),
            mt_grouped(g->attempts, b), 100 * ratio(g->failures, g->attempts));
    mt_time_minutes(g->first_failure, w1, sizeof w1);
    mt_time_minutes(g->last_failure, w2, sizeof w2);
    fprintf(fp, "<dt>Failure window</dt><dd>%s to %s UTC</dd>\n", w1, w2);
    if (g->stage) {
        fputs("<dt>SMTP stage</dt><dd>", fp);
        put_esc(fp, g->stage);
        fputs("</dd>\n", fp);
    }
    if (g->reply) {
        fputs("<dt>Commonest reply</dt><dd><code>", fp);
        put_esc(fp, g->reply);
        fprintf(fp, "</code>%s</dd>\n",
                g->generic_reply ? " <span class=\"muted\">(a generic front-end text)</span>" : "");
    }
    if (g->retry_outcome) {
        fputs("<dt>Retry outcome</dt><dd>", fp);
        put_esc(fp, g->retry_outcome);
        fputs("</dd>\n", fp);
    }
    fputs("</dl>\n", fp);
    if (g->nevidence) {
        fputs("<b>Evidence</b>\n<ul>\n", fp);
        for (int k = 0; k < g->nevidence; k++) {
            fputs("<li>", fp);
            put_esc(fp, g->evidence[k]);
            fputs("</li>\n", fp);
        }
        fputs("</ul>\n", fp);
    }
    if (g->nnext_steps) {
        fputs("<b>Next steps</b>\n<ol>\n", fp);
        for (int k = 0; k < g->nnext_steps; k++) {
            fputs("<li>", fp);
            put_esc(fp, g->next_steps[k]);
            fputs("</li>\n", fp);
        }
        fputs("</ol>\n", fp);
    }
    fputs("</div>\n", fp);
}

static void put_findings(const mt_report_ctx *x, FILE *fp)
{
    const mt_findings *f = x->findings;
    int n = nshown(f);
    fputs("<section id=\"diagnosis\">\n<h2>Diagnosis</h2>\n", fp);
    if (n == 0)
        fputs("<p>Nothing stands out: no provider has a pattern of failures worth acting on.</p>\n", fp);
    for (int i = 0; i < n; i++)
        put_finding(&f->v[i], i + 1, fp);
    if (f && f->n > n)
        fprintf(fp,
                "<p class=\"caption\">%d further finding%s of low confidence not shown (<code>--json</code> "
                "lists every finding).</p>\n",
                f->n - n, f->n - n == 1 ? "" : "s");
    fputs("</section>\n", fp);

    fputs("<section id=\"queue\">\n<h2>Queue settings and limits</h2>\n", fp);
    if (f && f->queue_advice) {
        fputs(
            "<p>Settings to paste: they pace the affected providers, derived from the accepted volume.</p>\n"
            "<pre>",
            fp);
        put_esc(fp, f->queue_advice);
        fputs("</pre>\n", fp);
    } else {
        fputs("<p>No queue change is suggested.</p>\n", fp);
    }
    if (f && f->nlimits) {
        fputs("<h3>What the logs cannot tell</h3>\n<ul>\n", fp);
        for (int i = 0; i < f->nlimits; i++) {
            fputs("<li>", fp);
            put_esc(fp, f->limits[i]);
            fputs("</li>\n", fp);
        }
        fputs("</ul>\n", fp);
    }
    fputs("</section>\n", fp);
}

/* ---- chart (a): deferral rate over time per provider ------------------- */

typedef struct hour_sum {
    int64_t hour;
    uint64_t attempts, deferred;
} hour_sum;

static int cmp_hour(const void *a, const void *b)
{
    const hour_sum *x = a, *y = b;
    return x->hour < y->hour ? -1 : x->hour > y->hour;
}

/* charted - up to max providers with deferrals, most deferrals first, into
 * out; returns how many.  Beyond the first, only providers with at least
 * five deferrals are charted. */
static int charted(const mt_diag_result *d, const mt_provider_stat **out, int max)
{
    int n = 0;
    for (int i = 0; i < d->nproviders; i++) {
        const mt_provider_stat *p = d->providers[i];
        if (p->c.deferred == 0 || p->nhours == 0)
            continue;
        int k = n < max ? n++ : max;
        if (k == max) {
            if (p->c.deferred <= out[max - 1]->c.deferred)
                continue;
            k = max - 1;
        }
        while (k > 0 && out[k - 1]->c.deferred < p->c.deferred) {
            out[k] = out[k - 1];
            k--;
        }
        out[k] = p;
    }
    /* a provider with a handful of deferrals only draws a line along 0% */
    while (n > 1 && out[n - 1]->c.deferred < 5)
        n--;
    return n;
}

/* tick_step - seconds between time-axis ticks so that a span of seconds
 * gets at most about ten labels, on round minutes, hours or days. */
static int64_t tick_step(int64_t span)
{
    static const int minutes[] = {5,   10,   15,   30,   60,    120,   180,  360,
                                  720, 1440, 2880, 4320, 10080, 20160, 43200};
    for (size_t i = 0; i < sizeof minutes / sizeof minutes[0]; i++)
        if (span / (60 * (int64_t)minutes[i]) <= 10)
            return 60 * (int64_t)minutes[i];
    return (span / 10 / 2592000 + 1) * 2592000;
}

/* time_axis - the ticks, grid lines and UTC labels of [lo, hi) under a plot
 * whose area is x0..x0+w wide and whose bottom edge is at y. */
static void time_axis(FILE *fp, int64_t lo, int64_t hi, double x0, double w, double ytop, double y)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t step = tick_step(hi - lo);
    /* ticks on multiples of the step counted from UTC midnight */
    int64_t t = lo - (lo % 86400 + 86400) % 86400;
    while (t < lo)
        t += step;
    int last_day = -1;
    for (; t <= hi; t += step) {
        double px = x0 + w * (double)(t - lo) / (double)(hi - lo);
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>\n", px,
                ytop, px, y);
        fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_AXIS "\"/>\n", px, y,
                px, y + 4);
        if (step < 86400)
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%02d:%02d</text>\n", px, y + 17,
                    tm.tm_hour, tm.tm_min);
        if (tm.tm_yday != last_day || step >= 86400) {
            fprintf(fp, "<text class=\"m\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s %d</text>\n", px,
                    y + (step < 86400 ? 31 : 17), mon[tm.tm_mon], tm.tm_mday);
            last_day = tm.tm_yday;
        }
    }
}

/* busy_span - the hours [*lo, *hi] to draw out of the sorted sums: from the
 * first to the last hour whose attempts reach 5% of the busiest hour (at
 * least 3), so a long thin tail of retries does not squeeze the arrivals
 * into a corner.  Returns the index range through *ilo, *ihi. */
static void busy_span(const hour_sum *h, int n, int *ilo, int *ihi)
{
    uint64_t peak = 0;
    for (int i = 0; i < n; i++)
        if (h[i].attempts > peak)
            peak = h[i].attempts;
    uint64_t floor = peak / 20 > 3 ? peak / 20 : 3;
    if (floor > peak)
        floor = peak;
    int a = 0, b = n - 1;
    while (a < b && h[a].attempts < floor)
        a++;
    while (b > a && h[b].attempts < floor)
        b--;
    *ilo = a;
    *ihi = b;
}

/* series - a provider's hourly series, or its five-minute one; its length
 * in *n. */
static const mt_hour_stat *series(const mt_provider_stat *p, int slots, int *n)
{
    *n = slots ? p->nslots : p->nhours;
    return slots ? p->slots : p->hours;
}

/* merged - the buckets of the providers ps[0..np) summed per start time, in
 * time order; their number in *m.  The caller frees the array. */
static hour_sum *merged(const mt_provider_stat *const *ps, int np, int slots, int *m)
{
    int total = 0, n;
    for (int i = 0; i < np; i++) {
        series(ps[i], slots, &n);
        total += n;
    }
    hour_sum *hs = mt_xcalloc((size_t)total + 1, sizeof *hs);
    int nh = 0;
    for (int i = 0; i < np; i++) {
        const mt_hour_stat *h = series(ps[i], slots, &n);
        for (int k = 0; k < n; k++)
            hs[nh++] = (hour_sum){h[k].hour, h[k].attempts, h[k].deferred};
    }
    qsort(hs, (size_t)nh, sizeof *hs, cmp_hour);
    int o = 0;
    for (int i = 0; i < nh; i++) {
        if (o && hs[o - 1].hour == hs[i].hour) {
            hs[o - 1].attempts += hs[i].attempts;
            hs[o - 1].deferred += hs[i].deferred;
        } else
            hs[o++] = hs[i];
    }
    *m = o;
    return hs;
}

/* finding_windows - shade the failure window of each shown finding that
 * is narrower than half the drawn span [lo, hi) (a wider one says nothing
 * a glance at the lines does not), numbered as in the diagnosis. */
static void finding_windows(const mt_report_ctx *x, FILE *fp, int64_t lo, int64_t hi, double L, double PW,
                            double T, double PH)
{
    int n = nshown(x->findings);
    for (int i = 0; i < n; i++) {
        const mt_finding *g = &x->findings->v[i];
        int64_t a = g->first_failure, b = g->last_failure;
        if (a == 0 || b <= a || b - a > (hi - lo) / 2 || b <= lo || a >= hi)
            continue;
        a = a < lo ? lo : a;
        b = b > hi ? hi : b;
        double x0 = L + PW * (double)(a - lo) / (double)(hi - lo);
        double w = PW * (double)(b - a) / (double)(hi - lo);
        char w1[24], w2[24];
        mt_time_minutes(g->first_failure, w1, sizeof w1);
        mt_time_minutes(g->last_failure, w2, sizeof w2);
        fprintf(fp,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c62828\" "
                "fill-opacity=\"0.07\"><title>finding %d (",
                x0, T, w < 2 ? 2 : w, PH, i + 1);
        put_esc(fp, g->provider);
        fprintf(fp, "): failures from %s to %s UTC</title></rect>\n", w1, w2);
        fprintf(fp, "<text class=\"m\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">finding %d</text>\n",
                x0 + w / 2, T - 3, i + 1);
    }
}

static void chart_rate(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    const mt_provider_stat *ps[NPALETTE];
    int np = charted(d, ps, NPALETTE);
    fputs("<h3>Deferral rate over time, per provider</h3>\n", fp);
    if (np == 0) {
        fputs("<p>No provider deferred any attempt.</p>\n", fp);
        return;
    }
    /* hours, or five-minute slots when the busy span is a few hours */
    int slots = 0, m, ilo, ihi;
    hour_sum *hs = merged(ps, np, 0, &m);
    busy_span(hs, m, &ilo, &ihi);
    if (hs[ihi].hour - hs[ilo].hour < 6 * 3600) {
        free(hs);
        slots = 1;
        hs = merged(ps, np, 1, &m);
        busy_span(hs, m, &ilo, &ihi);
    }
    const int64_t B = slots ? MT_SLOT_SECONDS : 3600;
    int64_t lo = hs[ilo].hour, hi = hs[ihi].hour + B;
    uint64_t left_att = 0, left_def = 0, peak = 1;
    for (int i = 0; i < m; i++) {
        if (i < ilo || i > ihi) {
            left_att += hs[i].attempts;
            left_def += hs[i].deferred;
        } else if (hs[i].attempts > peak)
            peak = hs[i].attempts;
    }

    fputs("<div class=\"legend\">", fp);
    for (int i = 0; i < np; i++) {
        char a[32], b[32];
        fprintf(fp, "<span><i class=\"line\" style=\"background:%s\"></i>", palette[i]);
        put_esc(fp, ps[i]->name);
        fprintf(fp, " <span class=\"muted\">(%s of %s attempts deferred)</span></span>",
                mt_grouped(ps[i]->c.deferred, a), mt_grouped(ps[i]->c.attempts, b));
    }
    fputs("</div>\n", fp);

    const char *unit = slots ? "five minutes" : "hour";
    /* upper panel: rate lines; lower panel: attempts per bucket */
    const double L = 56, R = 34, T = 18, PH = 250, GAP = 64, VH = 70;
    const double PW = SVG_W - L - R, VY = T + PH + GAP;
    const int H = (int)(VY + VH + 40);
    open_svg(fp, H, "Deferral rate over time, per provider");
    for (int pct = 0; pct <= 100; pct += 20) {
        double y = T + PH * (1 - pct / 100.0);
        fprintf(fp, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\"/>\n", L, y, L + PW,
                y, pct ? C_GRID : C_AXIS);
        fprintf(fp, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n", L - 8, y + 4, pct);
    }
    fprintf(
        fp,
        "<text class=\"m\" transform=\"translate(14 %.0f) rotate(-90)\" text-anchor=\"middle\">deferred / "
        "attempted</text>\n",
        T + PH / 2);
    time_axis(fp, lo, hi, L, PW, T, T + PH);
    finding_windows(x, fp, lo, hi, L, PW, T, PH);

    for (int i = 0; i < np; i++) {
        const mt_provider_stat *p = ps[i];
        int open = 0, nb;
        int64_t prev = 0;
        const mt_hour_stat *hv = series(p, slots, &nb);
        /* lines join consecutive buckets; a gap (no attempts) breaks them */
        for (int k = 0; k < nb; k++) {
            const mt_hour_stat *h = &hv[k];
            if (h->hour < lo || h->hour >= hi || h->attempts == 0)
                continue;
            double px = L + PW * ((double)(h->hour - lo) + (double)B / 2) / (double)(hi - lo);
            double py = T + PH * (1 - ratio(h->deferred, h->attempts));
            if (open && h->hour != prev + B) {
                fputs("\"/>\n", fp);
                open = 0;
            }
            if (!open) {
                fprintf(fp,
                        "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\" "
                        "points=\"",
                        palette[i]);
                open = 1;
            }
            fprintf(fp, "%.1f,%.1f ", px, py);
            prev = h->hour;
        }
        if (open)
            fputs("\"/>\n", fp);
        for (int k = 0; k < nb; k++) {
            const mt_hour_stat *h = &hv[k];
            if (h->hour < lo || h->hour >= hi || h->attempts == 0)
                continue;
            double px = L + PW * ((double)(h->hour - lo) + (double)B / 2) / (double)(hi - lo);
            double py = T + PH * (1 - ratio(h->deferred, h->attempts));
            char w[24], a[32], b[32];
            mt_time_minutes(h->hour, w, sizeof w);
            int thin = h->attempts < 5;
            fprintf(
                fp,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\">",
                px, py, thin ? "2.5" : "2.2", thin ? "#fff" : palette[i], palette[i]);
            fputs("<title>", fp);
            put_esc(fp, p->name);
            fprintf(fp, " %s UTC: %s of %s attempts deferred</title></circle>\n", w,
                    mt_grouped(h->deferred, a), mt_grouped(h->attempts, b));
        }
    }

    /* the volume under it, all charted providers together */
    fprintf(fp,
            "<text class=\"m\" x=\"%.0f\" y=\"%.0f\">attempts per %s, charted providers together "
            "(<tspan style=\"fill:#b26a00\">deferred</tspan> in amber); the busiest %s had %llu</text>\n",
            L, VY - 8, unit, unit, (unsigned long long)peak);
    fprintf(fp, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"" C_AXIS "\"/>\n", L, VY + VH,
            L + PW, VY + VH);
    double bw = PW * (double)B / (double)(hi - lo);
    for (int i = ilo; i <= ihi; i++) {
        double px = L + PW * (double)(hs[i].hour - lo) / (double)(hi - lo);
        double ha = VH * ratio(hs[i].attempts, peak), hd = VH * ratio(hs[i].deferred, peak);
        double gap = bw > 4 ? 1 : 0;
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#cbd5e1\"/>\n",
                px + gap / 2, VY + VH - ha, bw - gap, ha);
        if (hd > 0)
            fprintf(fp,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"" C_DEFERRED "\"/>\n",
                    px + gap / 2, VY + VH - hd, bw - gap, hd);
    }
    time_axis(fp, lo, hi, L, PW, VY + VH, VY + VH);
    fputs("</svg>\n", fp);
    char w1[24], w2[24], a[32], b[32];
    mt_time_minutes(lo, w1, sizeof w1);
    mt_time_minutes(hi, w2, sizeof w2);
    fprintf(fp,
            "<p class=\"caption\">Each point is one %s (UTC) of one provider's attempts: deferred divided "
            "by attempted; hollow points have fewer than 5 attempts, where the rate means little; a shaded "
            "band is the "
            "failure window of a finding above. "
            "Drawn: %s to %s UTC.",
            slots ? "five-minute bucket" : "hour", w1, w2);
    if (left_att)
        fprintf(fp,
                " Not drawn: %s attempts (%s deferred) in the quieter %ss before or after this span, "
                "mostly retries of queued recipients.",
                mt_grouped(left_att, a), mt_grouped(left_def, b), slots ? "bucket" : "hour");
    fputs(" The series over time exist per provider, not per recipient domain; each domain's totals are in "
          "the table below.</p>\n",
          fp);
    free(hs);

    /* the recipient-domain split of the charted providers */
    fputs("<table>\n<tr><th>provider</th><th>recipient domain</th><th class=\"n\">attempted</th>"
          "<th class=\"n\">accepted</th><th class=\"n\">deferred</th><th class=\"n\">refused</th>"
          "<th>deferral rate</th></tr>\n",
          fp);
    for (int i = 0; i < np; i++) {
        const mt_provider_stat *p = ps[i];
        int nd = p->ndomains < 5 ? p->ndomains : 5;
        for (int k = 0; k < nd; k++) {
            const mt_domain_stat *ds = p->domains[k];
            char c1[32], c2[32], c3[32], c4[32];
            double r = ratio(ds->c.deferred, ds->c.attempts);
            fputs("<tr><td>", fp);
            if (k == 0) {
                fprintf(fp,
                        "<i style=\"display:inline-block;width:10px;height:10px;border-radius:2px;"
                        "background:%s;margin-right:6px\"></i>",
                        palette[i]);
                put_esc(fp, p->name);
            }
            fputs("</td><td>", fp);
            put_esc_n(fp, ds->domain, 60);
            fprintf(
                fp,
                "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td "
                "class=\"n\">%s</td><td><span class=\"barbox\"><span class=\"bar\" style=\"width:%.0f%%\">"
                "</span></span>%.1f%%</td></tr>\n",
                mt_grouped(ds->c.attempts, c1), mt_grouped(ds->c.accepted, c2),
                mt_grouped(ds->c.deferred, c3), mt_grouped(ds->c.bounced, c4), 100 * r, 100 * r);
        }
        if (p->ndomains > nd)
            fprintf(fp, "<tr><td></td><td class=\"muted\" colspan=\"6\">and %d more domains</td></tr>\n",
                    p->ndomains - nd);
    }
    fputs("</table>\n", fp);
}

/* ---- chart (b): SMTP stages --------------------------------------------- */

/* seg - one segment of a horizontal stacked bar, with its count inside
 * when it is wide enough and a tooltip either way. */
static void seg(FILE *fp, double *px, double y, double w, double h, const char *fill, uint64_t v,
                const char *what, const char *stage)
{
    if (v == 0 || w <= 0)
        return;
    char a[32];
    fprintf(fp,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s %s</title>"
            "</rect>\n",
            *px, y, w, h, fill, stage, mt_grouped(v, a), what);
    if (w >= 8.0 * (double)strlen(a) + 8)
        fprintf(fp,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#fff\" style=\"fill:#fff\">%s"
                "</text>\n",
                *px + w / 2, y + h / 2 + 4, a);
    *px += w;
}

static void chart_stages(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    int n = 0;
    for (int s = 0; s < MT_STAGE_COUNT; s++)
        if (d->stages[s].c.attempts)
            n++;
    fputs("<h3>Outcome by SMTP stage</h3>\n", fp);
    if (n == 0) {
        fputs("<p>No delivery attempts.</p>\n", fp);
        return;
    }
    fputs("<div class=\"legend\"><span><i style=\"background:" C_ACCEPTED "\"></i>accepted</span>"
          "<span><i style=\"background:" C_DEFERRED "\"></i>deferred (4xx)</span>"
          "<span><i style=\"background:" C_REFUSED "\"></i>refused (5xx)</span>"
          "<span><i style=\"background:" C_OTHER "\"></i>expired or other</span></div>\n",
          fp);
    const double L = 110, RW = 230, RH = 26, GAP = 12, T = 22;
    const double BW = SVG_W - L - RW;
    int H = (int)(T + n * (RH + GAP) + 22);
    open_svg(fp, H, "Outcome of the attempts at each SMTP stage");
    fprintf(fp,
            "<text class=\"m\" x=\"%.0f\" y=\"12\">share of the attempts that ended at this stage</text>\n",
            L);
    fprintf(fp, "<text class=\"m\" x=\"%.0f\" y=\"12\">attempts, and deferred</text>\n", L + BW + 14);
    int row = 0;
    for (int s = 0; s < MT_STAGE_COUNT; s++) {
        const mt_stage_stat *st = &d->stages[s];
        if (st->c.attempts == 0)
            continue;
        const char *name = mt_stage_name(st->stage);
        double y = T + row * (RH + GAP);
        double tot = (double)st->c.attempts, px = L;
        uint64_t other = st->c.attempts > st->c.accepted + st->c.deferred + st->c.bounced
                             ? st->c.attempts - st->c.accepted - st->c.deferred - st->c.bounced
                             : 0;
        fprintf(fp, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 10, y + RH / 2 + 4,
                name);
        fprintf(fp, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"#f1f5f9\"/>\n", L, y,
                BW, RH);
        seg(fp, &px, y, BW * (double)st->c.accepted / tot, RH, C_ACCEPTED, st->c.accepted, "accepted", name);
        seg(fp, &px, y, BW * (double)st->c.deferred / tot, RH, C_DEFERRED, st->c.deferred, "deferred", name);
        seg(fp, &px, y, BW * (double)st->c.bounced / tot, RH, C_REFUSED, st->c.bounced, "refused", name);
        seg(fp, &px, y, BW * (double)other / tot, RH, C_OTHER, other, "expired or other", name);
        char a[32];
        fprintf(fp,
                "<text x=\"%.0f\" y=\"%.1f\">%s <tspan class=\"m\">attempts,</tspan> %.1f%% <tspan "
                "class=\"m\">deferred</tspan></text>\n",
                L + BW + 14, y + RH / 2 + 4, mt_grouped(st->c.attempts, a),
                100 * ratio(st->c.deferred, st->c.attempts));
        row++;
    }
    fputs("</svg>\n", fp);
    fputs("<p class=\"caption\">The stage is the SMTP step the last reply answered: connect and greeting "
          "failures "
          "point at the network or connection limits, MAIL and RCPT at the sender or the recipient, "
          "<code>data_end</code> (after the body was sent) at the message or a generic receiver fault.</p>\n",
          fp);
}

/* ---- chart (c): the cohort that stands out ------------------------------ */

/* cohort_of - the provider's cohort a finding's scope names, or NULL. */
static const mt_cohort_stat *cohort_of(const mt_provider_stat *p, const mt_finding *f)
{
    if (p == NULL || f->scope_key == NULL || f->scope_value == NULL)
        return NULL;
    for (int i = 0; i < p->ncohorts; i++) {
        const mt_cohort_stat *c = p->cohorts[i];
        if (strcmp(mt_dim_name(c->dim), f->scope_key) == 0 && strcmp(c->value, f->scope_value) == 0)
            return c;
    }
    return NULL;
}

/* rate_row - one bar of a cohort comparison: label, failure rate bar on a
 * 0-100% scale, and the counts. */
static void rate_row(FILE *fp, double y, const char *label1, const char *label2, uint64_t fail, uint64_t att,
                     const char *fill)
{
    const double L = 300, BW = 440, RH = 24;
    char a[32], b[32];
    double r = ratio(fail, att);
    fprintf(fp, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", L - 10, y + RH / 2 + 4);
    put_esc(fp, label1);
    put_esc_n(fp, label2, 34);
    fputs("</text>\n", fp);
    fprintf(fp, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"#f1f5f9\"/>\n", L, y, BW,
            RH);
    fprintf(fp, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n", L, y, BW * r,
            RH, fill);
    fprintf(
        fp,
        "<text x=\"%.0f\" y=\"%.1f\"><tspan font-weight=\"600\">%.1f%%</tspan> <tspan class=\"m\">%s of %s "
        "attempts failed</tspan></text>\n",
        L + BW + 10, y + RH / 2 + 4, 100 * r, mt_grouped(fail, a), mt_grouped(att, b));
}

static void chart_cohorts(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    const mt_findings *f = x->findings;
    int n = nshown(f), drawn = 0;
    fputs("<h3>The cohort that stands out</h3>\n", fp);
    for (int i = 0; i < n && drawn < 4; i++) {
        const mt_finding *g = &f->v[i];
        const mt_provider_stat *p = provider_named(d, g->provider);
        if (p == NULL || failures(&p->c) == 0)
            continue;
        const mt_cohort_stat *c = cohort_of(p, g);
        uint64_t catt, cfail;
        if (c) {
            catt = c->c.attempts;
            cfail = failures(&c->c);
        } else if (g->scope_key) {
            catt = g->attempts; /* the cohort is not among the provider's: use the finding's own counts */
            cfail = g->failures;
        } else {
            catt = p->c.attempts;
            cfail = failures(&p->c);
        }
        uint64_t ratt, rfail;
        if (g->scope_key) {
            ratt = p->c.attempts > catt ? p->c.attempts - catt : 0;
            rfail = failures(&p->c) > cfail ? failures(&p->c) - cfail : 0;
        } else {
            ratt = d->totals.attempts > catt ? d->totals.attempts - catt : 0;
            rfail = failures(&d->totals) > cfail ? failures(&d->totals) - cfail : 0;
        }
        fprintf(fp, "<div class=\"chart\">\n");
        open_svg(fp, 96, "Failure rate of the finding's cohort against the rest");
        fprintf(fp, "<text class=\"t\" x=\"0\" y=\"16\">%d. ", i + 1);
        put_esc(fp, g->provider);
        fputs(" \xE2\x80\x94 ", fp);
        put_esc(fp, g->cause);
        if (g->scope_key) {
            fputs(": ", fp);
            put_esc(fp, g->scope_key);
            fputs(" = ", fp);
            put_esc_n(fp, g->scope_value, 60);
            fputs(" against the provider's other mail", fp);
        } else {
            fputs(": the whole provider against every other provider", fp);
        }
        fputs("</text>\n", fp);
        if (g->scope_key) {
            rate_row(fp, 30, "", g->scope_value, cfail, catt, C_COHORT);
            rate_row(fp, 64, "rest of ", p->name, rfail, ratt, C_REST);
        } else {
            rate_row(fp, 30, "all of ", p->name, cfail, catt, C_COHORT);
            rate_row(fp, 64, "", "all other providers", rfail, ratt, C_REST);
        }
        fputs("</svg>\n</div>\n", fp);
        drawn++;
    }
    if (drawn == 0)
        fputs("<p>No finding with failures to compare.</p>\n", fp);
    else
        fputs(
            "<p class=\"caption\">Failed: deferred, refused or expired attempts, out of all attempts of the "
            "cohort. A cohort far above the rest of the provider's mail points at the sender or the message; "
            "a "
            "whole provider failing while others do not points at the receiver or at the sender's standing "
            "there.</p>\n",
            fp);
}

/* ---- chart (d): retry outcomes ----------------------------------------- */

/* histogram - vertical bars of counts v[0..n) labelled names, in a panel at
 * x0 of width w between y0 (top) and y0+h (the baseline). */
static void histogram(FILE *fp, double x0, double y0, double w, double h, const char *title,
                      const uint64_t *v, const char *const *names, int n)
{
    uint64_t max = 1;
    for (int i = 0; i < n; i++)
        if (v[i] > max)
            max = v[i];
    fprintf(fp, "<text class=\"t\" x=\"%.0f\" y=\"%.0f\">%s</text>\n", x0, y0 - 22, title);
    double slot = w / n, bw = slot * 0.7;
    fprintf(fp, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"" C_AXIS "\"/>\n", x0, y0 + h,
            x0 + w, y0 + h);
    for (int i = 0; i < n; i++) {
        double bh = h * (double)v[i] / (double)max;
        double bx = x0 + i * slot + (slot - bw) / 2;
        char a[32];
        if (v[i])
            fprintf(fp,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"" C_ACCEPTED "\"/>\n",
                    bx, y0 + h - bh, bw, bh);
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", bx + bw / 2,
                y0 + h - bh - 5, mt_grouped(v[i], a));
        fprintf(fp, "<text class=\"m\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", bx + bw / 2,
                y0 + h + 15);
        put_esc(fp, names[i]);
        fputs("</text>\n", fp);
    }
}

static void chart_retry(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    fputs("<h3>What became of deferred recipients</h3>\n", fp);
    /* the providers with the most deferred recipients, at most four */
    const mt_provider_stat *ps[4];
    int np = 0;
    for (int i = 0; i < d->nproviders; i++) {
        const mt_provider_stat *p = d->providers[i];
        if (p->retry.deferred_rcpts == 0)
            continue;
        int k = np < 4 ? np++ : 4;
        if (k == 4) {
            if (p->retry.deferred_rcpts <= ps[3]->retry.deferred_rcpts)
                continue;
            k = 3;
        }
        while (k > 0 && ps[k - 1]->retry.deferred_rcpts < p->retry.deferred_rcpts) {
            ps[k] = ps[k - 1];
            k--;
        }
        ps[k] = p;
    }
    if (np == 0) {
        fputs("<p>No recipient was deferred.</p>\n", fp);
        return;
    }
    fputs("<div class=\"legend\"><span><i style=\"background:" C_DEFERRED
          "\"></i>deferred at least once</span>"
          "<span><i style=\"background:" C_ACCEPTED "\"></i>delivered after retrying</span>"
          "<span><i style=\"background:" C_REFUSED "\"></i>expired or refused later</span>"
          "<span><i style=\"background:" C_OTHER "\"></i>still queued at the end of the log</span></div>\n",
          fp);
    for (int i = 0; i < np; i++) {
        const mt_retry_stat *r = &ps[i]->retry;
        char a[32], b[32];
        fputs("<div class=\"chart\">\n", fp);
        open_svg(fp, 200, "Retry outcome of deferred recipients");
        fputs("<text class=\"t\" x=\"0\" y=\"16\">", fp);
        put_esc(fp, ps[i]->name);
        fprintf(fp, ": %s deferred recipients</text>\n", mt_grouped(r->deferred_rcpts, a));
        /* the funnel */
        struct {
            const char *label;
            uint64_t v;
            const char *fill;
        } rows[] = {
            {"deferred", r->deferred_rcpts, C_DEFERRED},
            {"delivered after retry", r->delivered_after_retry, C_ACCEPTED},
            {"expired", r->expired, C_REFUSED},
            {"still queued", r->pending, C_OTHER},
            {"refused later", r->bounced_after_deferral, C_REFUSED},
        };
        const double FL = 150, FW = 150, FY = 42, FH = 20, FG = 9;
        for (int k = 0; k < 5; k++) {
            double y = FY + k * (FH + FG);
            double w = FW * ratio(rows[k].v, r->deferred_rcpts);
            fprintf(fp, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\"%s>%s</text>\n", FL - 8,
                    y + FH / 2 + 4, k ? "" : " font-weight=\"600\"", rows[k].label);
            fprintf(fp, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"#f1f5f9\"/>\n", FL,
                    y, FW, FH);
            if (w > 0)
                fprintf(fp, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n", FL,
                        y, w, FH, rows[k].fill);
            fprintf(fp, "<text x=\"%.0f\" y=\"%.1f\">%s", FL + FW + 8, y + FH / 2 + 4,
                    mt_grouped(rows[k].v, b));
            if (k)
                fprintf(fp, " <tspan class=\"m\">%.0f%%</tspan>", 100 * ratio(rows[k].v, r->deferred_rcpts));
            fputs("</text>\n", fp);
        }
        histogram(fp, 400, 62, 252, 100, "delivered after N retries", r->retries, mt_retry_bucket_names,
                  MT_RETRY_BUCKETS);
        histogram(fp, 685, 62, 315, 100, "time from first try to delivery", r->delays, mt_delay_bucket_names,
                  MT_DELAY_BUCKETS);
        fputs("</svg>\n", fp);
        fprintf(fp,
                "<p class=\"caption\">First attempt deferred: %s; greylisting-like (deferred at RCPT or the "
                "greeting, accepted 3 to 60 minutes later): %s. ",
                mt_grouped(r->first_deferred, a), mt_grouped(r->greylist_like, b));
        fprintf(fp, "Only ever 4xx (keep, never suppress): %s; ", mt_grouped(r->keep, a));
        fprintf(fp, "refused permanently as not existing (may be suppressed): %s.</p>\n",
                mt_grouped(r->suppress, b));
        fputs("</div>\n", fp);
    }
}

/* ---- tables ------------------------------------------------------------ */

static void table_providers(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    char a[32], b[32], c[32], e[32], g[32], h[32], pend[32];
    fputs("<section id=\"providers\">\n<h2>Providers</h2>\n", fp);
    fputs("<table>\n<tr><th>provider</th><th>band</th><th class=\"n\">attempted</th><th "
          "class=\"n\">accepted</th>"
          "<th class=\"n\">deferred</th><th class=\"n\">refused</th><th>deferral rate</th>"
          "<th class=\"n\">recipients delivered</th><th class=\"n\">expired</th><th class=\"n\">still "
          "queued</th>"
          "</tr>\n",
          fp);
    for (int i = 0; i < d->nproviders; i++) {
        const mt_provider_stat *p = d->providers[i];
        double r = ratio(p->c.deferred, p->c.attempts);
        const char *band = mt_findings_band(x->findings, p->name);
        fputs("<tr><td>", fp);
        put_esc(fp, p->name);
        fprintf(fp, "</td><td><span class=\"badge %s\">", band_class(band));
        put_esc(fp, band);
        fprintf(
            fp,
            "</span></td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td "
            "class=\"n\">%s</td>"
            "<td><span class=\"barbox\"><span class=\"bar\" style=\"width:%.0f%%\"></span></span>%.1f%%</td>"
            "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
            mt_grouped(p->c.attempts, a), mt_grouped(p->c.accepted, b), mt_grouped(p->c.deferred, c),
            mt_grouped(p->c.bounced, e), 100 * r, 100 * r, mt_grouped(p->c.delivered, g),
            mt_grouped(p->c.rcpt_expired, h), mt_grouped(p->c.pending, pend));
    }
    fputs("</table>\n", fp);

    for (int i = 0; i < d->nproviders; i++) {
        const mt_provider_stat *p = d->providers[i];
        if (failures(&p->c) == 0 || p->nreplies == 0 || x->top == 0)
            continue;
        fputs("<h3>", fp);
        put_esc(fp, p->name);
        fputs(": commonest failing replies</h3>\n", fp);
        fputs("<table class=\"replies\">\n<colgroup><col style=\"width:70px\"><col style=\"width:90px\">"
              "<col style=\"width:140px\"><col></colgroup>\n<tr><th "
              "class=\"n\">count</th><th>stage</th><th>category</th><th>reply (an example, as "
              "logged)</th></tr>\n",
              fp);
        for (int k = 0; k < p->nreplies && k < x->top; k++) {
            const mt_reply_stat *r = p->replies[k];
            fprintf(fp, "<tr><td class=\"n\">%s</td><td>%s</td><td>%s</td><td class=\"reply\"><code>",
                    mt_grouped(r->count, a), mt_stage_name(r->stage), mt_category_name(r->category));
            put_esc_n(fp, r->example, 240);
            fputs("</code>", fp);
            if (r->flags & MT_RULE_GENERIC_FRONTEND)
                fputs(
                    "<small>A generic front-end text: the receiver's real reason is hidden behind it; stage, "
                    "timing and cohort must decide.</small>",
                    fp);
            else if (r->meaning) {
                fputs("<small>", fp);
                put_esc(fp, r->meaning);
                fputs("</small>", fp);
            }
            fputs("</td></tr>\n", fp);
        }
        if (p->nreplies > x->top)
            fprintf(fp, "<tr><td></td><td colspan=\"3\" class=\"muted\">%d more distinct replies</td></tr>\n",
                    p->nreplies - x->top);
        fputs("</table>\n", fp);
    }
    fputs("</section>\n", fp);
}

static void table_senders(const mt_report_ctx *x, FILE *fp)
{
    const mt_diag_result *d = x->diag;
    char a[32], b[32];
    fputs("<section id=\"senders\">\n<h2>Senders</h2>\n<p class=\"caption\">Route, sending IP and envelope "
          "domain towards each provider; most failures first.</p>\n",
          fp);
    fputs(
        "<table>\n<tr><th>band</th><th>route</th><th>sending IP</th><th>envelope domain</th><th>provider</th>"
        "<th class=\"n\">attempts</th><th class=\"n\">deferred</th><th>deferral "
        "rate</th><th>pattern</th></tr>\n",
        fp);
    int ns = 0;
    for (int i = 0; i < d->nsenders && ns < 25; i++) {
        const mt_sender_stat *s = d->senders[i];
        if (failures(&s->c) == 0 && ns >= 5)
            break;
        ns++;
        double r = ratio(s->c.deferred, s->c.attempts);
        fprintf(fp, "<tr><td><span class=\"badge %s\">", band_class(s->band));
        put_esc(fp, s->band);
        fputs("</span></td><td>", fp);
        put_esc_n(fp, s->route ? s->route : "-", 40);
        fputs("</td><td>", fp);
        put_esc_n(fp, s->sending_ip ? s->sending_ip : "(unknown)", 40);
        fputs("</td><td>", fp);
        put_esc_n(fp,
                  !s->mail_from_domain   ? "(unknown)"
                  : *s->mail_from_domain ? s->mail_from_domain
                                         : "<>",
                  60);
        fputs("</td><td>", fp);
        put_esc(fp, s->provider ? s->provider : "-");
        fprintf(fp,
                "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td><span class=\"barbox\"><span "
                "class=\"bar\" style=\"width:%.0f%%\"></span></span>%.1f%%</td><td>",
                mt_grouped(s->c.attempts, a), mt_grouped(s->c.deferred, b), 100 * r, 100 * r);
        put_esc(fp, s->pattern);
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
    if (d->nsenders > ns)
        fprintf(fp, "<p class=\"caption\">%d more cohorts; <code>--json</code> lists all.</p>\n",
                d->nsenders - ns);
    fputs("</section>\n", fp);
}

static void table_input(const mt_report_ctx *x, FILE *fp)
{
    char a[32], b[32], c[32], e[32];
    fputs("<section id=\"input\">\n<h2>Input</h2>\n", fp);
    fprintf(fp, "<p>%s lines read (%s bytes); %s of other programs skipped; %s unparsed",
            mt_grouped(x->scan->lines, a), mt_grouped(x->scan->bytes, b), mt_grouped(x->scan->foreign, c),
            mt_grouped(x->scan->malformed, e));
    if (x->scan->long_lines)
        fprintf(fp, "; %s over-long lines cut", mt_grouped(x->scan->long_lines, a));
    fputs(".</p>\n", fp);
    if (x->scan->nreasons) {
        fputs("<table>\n<tr><th class=\"n\">lines</th><th>why unparsed</th><th>first at</th></tr>\n", fp);
        for (int i = 0; i < x->scan->nreasons; i++) {
            const mt_scan_reason *r = &x->scan->reasons[i];
            fprintf(fp, "<tr><td class=\"n\">%s</td><td>", mt_grouped(r->count, a));
            put_esc(fp, r->why);
            fputs("</td><td>", fp);
            put_esc(fp, r->where);
            fputs("</td></tr>\n", fp);
        }
        fputs("</table>\n", fp);
    }
    if (x->rules_path && *x->rules_path) {
        fputs("<p class=\"caption\">Rules: <code>", fp);
        put_esc(fp, x->rules_path);
        fputs("</code></p>\n", fp);
    }
    fputs("</section>\n", fp);
}

int mt_report_html(const mt_report_ctx *x, FILE *fp)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
          "'unsafe-inline'; "
          "img-src data:\">\n"
          "<title>mailtriage diagnosis</title>\n<style>\n",
          fp);
    fputs(css, fp);
    fputs("</style>\n</head>\n<body>\n<main>\n", fp);
    put_header(x, fp);
    put_findings(x, fp);
    fputs("<section id=\"charts\">\n<h2>Charts</h2>\n", fp);
    chart_rate(x, fp);
    chart_stages(x, fp);
    chart_cohorts(x, fp);
    chart_retry(x, fp);
    fputs("</section>\n", fp);
    table_providers(x, fp);
    table_senders(x, fp);
    table_input(x, fp);
    fputs("<footer>Generated by mailtriage " MT_VERSION
          " from the logs alone; nothing on this page is fetched "
          "from the network.</footer>\n</main>\n</body>\n</html>\n",
          fp);
    return ferror(fp) ? -1 : 0;
}
