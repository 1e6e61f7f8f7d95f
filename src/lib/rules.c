/*
 * rules.c - load, compile and match the rules data file.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pattern.h"
#include "strmap.h"

#ifndef MT_DATADIR
#define MT_DATADIR "/usr/local/share/mailtriage"
#endif

typedef struct provider {
    char *name;
    char **domains; /* NULL-terminated */
    int ndomains;
    pcre2_code *mx; /* may be NULL */
} provider;

typedef struct rule {
    int provider; /* -1: any */
    mt_category category;
    char action[16];
    unsigned flags;
    mt_pattern *re; /* screened by its literals, JIT compiled once used */
    char *meaning;
    int line;
} rule;

struct mt_rules {
    provider *providers;
    int nproviders;
    rule *rules;
    int nrules;
    mt_strmap *domains; /* domain -> provider index + 1 */
    uint32_t max_ovector;
};

static const char *const actions[] = {"retry", "backoff", "nextday", "fix", "drop", NULL};

static int provider_index(mt_rules *r, const char *name, size_t n, int create)
{
    for (int i = 0; i < r->nproviders; i++)
        if (strlen(r->providers[i].name) == n && memcmp(r->providers[i].name, name, n) == 0)
            return i;
    if (!create)
        return -1;
    r->providers = mt_xrealloc(r->providers, (size_t)(r->nproviders + 1) * sizeof *r->providers);
    provider *p = &r->providers[r->nproviders];
    memset(p, 0, sizeof *p);
    p->name = mt_xstrndup(name, n);
    p->domains = mt_xcalloc(1, sizeof *p->domains);
    return r->nproviders++;
}

static const uint32_t re_opts = PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;

static void compile_error(int ec, size_t off, mt_buf *err, const char *path, int line)
{
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(ec, msg, sizeof msg);
    mt_buf_printf(err, "%s:%d: bad regex at offset %zu: %s", path, line, off, (char *)msg);
}

/* an MX pattern: tried on every new MX host name, JIT compiled now */
static pcre2_code *compile(const char *pat, size_t n, mt_buf *err, const char *path, int line)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, re_opts, &ec, &off, NULL);
    if (re == NULL) {
        compile_error(ec, (size_t)off, err, path, line);
        return NULL;
    }
    /* JIT is an optimisation: without it (some platforms) matching still works */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* a reply pattern: most replies are screened off it by its literals, and
 * it is JIT compiled only once it is first run (pattern.h) */
static mt_pattern *compile_reply(const char *pat, size_t n, mt_buf *err, const char *path, int line)
{
    int ec = 0;
    size_t off = 0;
    mt_pattern *re = mt_pattern_compile(pat, n, re_opts, MT_PATTERN_YESNO, &ec, &off);
    if (re == NULL)
        compile_error(ec, off, err, path, line);
    return re;
}

/* split - cut line into at most max tab-separated fields; returns count */
static int split(char *line, char **f, size_t *fl, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *t = strchr(p, '\t');
        f[n] = p;
        fl[n] = t ? (size_t)(t - p) : strlen(p);
        n++;
        if (t == NULL)
            break;
        p = t + 1;
    }
    return n;
}

static int load_line(mt_rules *r, char *line, const char *path, int ln, mt_buf *err)
{
    char *f[8];
    size_t fl[8];
    int nf = split(line, f, fl, 8);
    if (fl[0] == 8 && memcmp(f[0], "provider", 8) == 0) {
        if (nf != 4) {
            mt_buf_printf(err, "%s:%d: a provider line has 4 tab-separated fields, this one %d", path, ln,
                          nf);
            return -1;
        }
        int pi = provider_index(r, f[1], fl[1], 1);
        provider *p = &r->providers[pi];
        if (fl[2] == 7 && memcmp(f[2], "domains", 7) == 0) {
            char *save = NULL;
            f[3][fl[3]] = '\0';
            for (char *d = strtok_r(f[3], " ,", &save); d; d = strtok_r(NULL, " ,", &save)) {
                mt_lower_ascii(d, strlen(d));
                p->domains = mt_xrealloc(p->domains, (size_t)(p->ndomains + 2) * sizeof *p->domains);
                p->domains[p->ndomains++] = mt_xstrdup(d);
                p->domains[p->ndomains] = NULL;
                mt_strmap_put(r->domains, d, strlen(d), (void *)(intptr_t)(pi + 1));
            }
            return 0;
        }
        if (fl[2] == 2 && memcmp(f[2], "mx", 2) == 0) {
            if (p->mx) {
                mt_buf_printf(err, "%s:%d: provider %s has a second mx line; join them with |", path, ln,
                              p->name);
                return -1;
            }
            p->mx = compile(f[3], fl[3], err, path, ln);
            return p->mx ? 0 : -1;
        }
        mt_buf_printf(err, "%s:%d: provider lines say 'domains' or 'mx', not '%.*s'", path, ln, (int)fl[2],
                      f[2]);
        return -1;
    }
    if (fl[0] == 5 && memcmp(f[0], "reply", 5) == 0) {
        if (nf != 7) {
            mt_buf_printf(err, "%s:%d: a reply line has 7 tab-separated fields, this one %d", path, ln, nf);
            return -1;
        }
        rule ru;
        memset(&ru, 0, sizeof ru);
        ru.line = ln;
        if (fl[1] == 1 && f[1][0] == '*') {
            ru.provider = -1;
        } else {
            ru.provider = provider_index(r, f[1], fl[1], 0);
            if (ru.provider < 0) {
                mt_buf_printf(err, "%s:%d: provider '%.*s' is not defined by a provider line above", path, ln,
                              (int)fl[1], f[1]);
                return -1;
            }
        }
        int cat = mt_category_from_name(f[2], fl[2]);
        if (cat <= 0) {
            mt_buf_printf(err, "%s:%d: unknown category '%.*s'", path, ln, (int)fl[2], f[2]);
            return -1;
        }
        ru.category = (mt_category)cat;
        int ai;
        for (ai = 0; actions[ai]; ai++)
            if (strlen(actions[ai]) == fl[3] && memcmp(actions[ai], f[3], fl[3]) == 0)
                break;
        if (actions[ai] == NULL) {
            mt_buf_printf(err, "%s:%d: unknown action '%.*s'", path, ln, (int)fl[3], f[3]);
            return -1;
        }
        memcpy(ru.action, actions[ai], strlen(actions[ai]) + 1);
        f[4][fl[4]] = '\0';
        if (strcmp(f[4], "-") != 0) {
            char *save = NULL;
            for (char *fg = strtok_r(f[4], ",", &save); fg; fg = strtok_r(NULL, ",", &save)) {
                if (strcmp(fg, "generic_frontend") == 0) {
                    ru.flags |= MT_RULE_GENERIC_FRONTEND;
                } else if (strcmp(fg, "permanent_recipient") == 0) {
                    ru.flags |= MT_RULE_PERMANENT_RECIPIENT;
                } else {
                    mt_buf_printf(err, "%s:%d: unknown flag '%s'", path, ln, fg);
                    return -1;
                }
            }
        }
        ru.re = compile_reply(f[5], fl[5], err, path, ln);
        if (ru.re == NULL)
            return -1;
        ru.meaning = mt_xstrndup(f[6], fl[6]);
        r->rules = mt_xrealloc(r->rules, (size_t)(r->nrules + 1) * sizeof *r->rules);
        r->rules[r->nrules++] = ru;
        return 0;
    }
    mt_buf_printf(err, "%s:%d: a line starts with 'provider' or 'reply', not '%.*s'", path, ln, (int)fl[0],
                  f[0]);
    return -1;
}

mt_rules *mt_rules_load(const char *path, mt_buf *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        mt_buf_printf(err, "cannot open rules file %s: %m", path);
        return NULL;
    }
    mt_rules *r = mt_xcalloc(1, sizeof *r);
    r->domains = mt_strmap_new(0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int ln = 0, bad = 0;
    while ((got = getline(&line, &cap, fp)) >= 0) {
        ln++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0 || line[0] == '#')
            continue;
        if (load_line(r, line, path, ln, err) < 0) {
            bad = 1;
            break;
        }
    }
    free(line);
    fclose(fp);
    if (!bad && r->nrules == 0) {
        mt_buf_printf(err, "%s: no reply rules in the file", path);
        bad = 1;
    }
    if (bad) {
        mt_rules_free(r);
        return NULL;
    }
    return r;
}

void mt_rules_free(mt_rules *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->nproviders; i++) {
        for (int j = 0; j < r->providers[i].ndomains; j++)
            free(r->providers[i].domains[j]);
        free(r->providers[i].domains);
        free(r->providers[i].name);
        pcre2_code_free(r->providers[i].mx);
    }
    for (int i = 0; i < r->nrules; i++) {
        mt_pattern_free(r->rules[i].re);
        free(r->rules[i].meaning);
    }
    free(r->providers);
    free(r->rules);
    mt_strmap_free(r->domains);
    free(r);
}

const char *mt_rules_provider(const mt_rules *r, const char *domain, size_t dn, const char *mx, size_t mxn)
{
    char low[256];
    if (dn > 0 && dn < sizeof low) {
        memcpy(low, domain, dn);
        mt_lower_ascii(low, dn);
        /* the domain, then each parent domain */
        for (size_t k = 0; k < dn;) {
            void *v = mt_strmap_get(r->domains, low + k, dn - k);
            if (v)
                return r->providers[(intptr_t)v - 1].name;
            const char *dot = memchr(low + k, '.', dn - k);
            if (dot == NULL)
                break;
            k = (size_t)(dot - low) + 1;
        }
    }
    if (mxn > 0) {
        pcre2_match_data *md = NULL;
        for (int i = 0; i < r->nproviders; i++) {
            if (r->providers[i].mx == NULL)
                continue;
            if (md == NULL)
                md = pcre2_match_data_create(4, NULL);
            if (pcre2_match(r->providers[i].mx, (PCRE2_SPTR)mx, mxn, 0, 0, md, NULL) >= 0) {
                pcre2_match_data_free(md);
                return r->providers[i].name;
            }
        }
        pcre2_match_data_free(md);
    }
    return "other";
}

/* a thread's matching state: PCRE2's match data and the summary of the
 * reply being matched */
typedef struct match_state {
    pcre2_match_data *md;
    mt_pattern_text *text;
} match_state;

void *mt_rules_match_data_new(const mt_rules *r)
{
    (void)r;
    match_state *m = mt_xmalloc(sizeof *m);
    m->md = pcre2_match_data_create(16, NULL);
    m->text = mt_pattern_text_new();
    return m;
}

void mt_rules_match_data_free(void *md)
{
    match_state *m = md;
    if (m == NULL)
        return;
    pcre2_match_data_free(m->md);
    mt_pattern_text_free(m->text);
    free(m);
}

int mt_rules_match(const mt_rules *r, const char *provider, const char *reply, size_t n, void *md)
{
    match_state *m = md;
    int pi = provider ? provider_index((mt_rules *)r, provider, strlen(provider), 0) : -1;
    const mt_pattern_text *t = NULL;
    for (int i = 0; i < r->nrules; i++) {
        const rule *ru = &r->rules[i];
        if (ru->provider >= 0 && ru->provider != pi)
            continue;
        if (t == NULL)
            t = mt_pattern_text_of(m->text, reply, n);
        if (mt_pattern_match(ru->re, t, reply, n, 0, m->md) >= 0)
            return i;
    }
    return -1;
}

void mt_rules_hit(const mt_rules *r, int idx, mt_rule_hit *hit)
{
    const rule *ru = &r->rules[idx];
    hit->category = ru->category;
    hit->action = ru->action;
    hit->meaning = ru->meaning;
    hit->flags = ru->flags;
    hit->line = ru->line;
}

static int exists(const char *p)
{
    return access(p, R_OK) == 0;
}

int mt_rules_default_path(const char *argv0, char *out, size_t outlen)
{
    const char *env = getenv("MAILTRIAGE_RULES");
    if (env && *env) {
        snprintf(out, outlen, "%s", env);
        return 1;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 && argv0) {
        snprintf(exe, sizeof exe, "%s", argv0);
        n = (ssize_t)strlen(exe);
    }
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            static const char *const rel[] = {"/../data/rules.tsv", "/../share/mailtriage/rules.tsv",
                                              "/data/rules.tsv", NULL};
            for (int i = 0; rel[i]; i++) {
                snprintf(out, outlen, "%s%s", exe, rel[i]);
                if (exists(out))
                    return 1;
            }
        }
    }
    snprintf(out, outlen, "%s/rules.tsv", MT_DATADIR);
    return exists(out);
}
