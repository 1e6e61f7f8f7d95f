/*
 * bounce_corpus.c - the bounce parser against the public Sisimai corpus.
 *
 * For every row of sisimai/upstream-expected.tsv (the corpus maintainers'
 * own expectations: file, recipient index, deliverystatus, replycode,
 * reason) parse the file and compare our record number `index` field by
 * field.  Prints the agreement per field and per sample family beside the
 * goals of issue 5: deliverystatus (rows whose expected value is one of
 * Sisimai's pseudo-codes x.0.9xx left out) and replycode >= 98%, reason
 * >= 95%.  Fails when any of the three is below its goal.  Then parses
 * every other file of the corpus (CRLF and CR-only copies, mboxes,
 * non-bounces, 0-3 byte files) to prove that no sample crashes or hangs
 * the parser, and checks that the CRLF and CR copies give the records
 * their LF originals give.
 *
 * Nothing here knows a sample: expected values come from the TSV, answers
 * from the parser.  MT_CORPUS_VERBOSE=1 lists every disagreement.
 *
 * Disagreements we accept, by kind (no sample is named here; the verbose
 * list shows each):
 *  - The two upstream suites (go-sisimai, p5-sisimai) expect different
 *    values for the same recipient of the same file on some rows; we can
 *    match only one of them.  Counted and printed below.
 *  - Who wrote the bounce and who answered: like Sisimai, we read the
 *    reason an MTA's own notice states (the @lhost lines of
 *    bounce-reasons.tsv, recognised from the bounce's own header) and a
 *    provider's replies (the @rhost lines, from the remote host's name or
 *    the recipient's domain); a "user unknown" that no MTA states and no
 *    RCPT names is "filtered", as Sisimai's general rule has it.  Not
 *    every module is mirrored (Microsoft's and Google's long remote-host
 *    tables, Sendmail's and V5sendmail's transcripts, EZweb's notice
 *    text): those rows differ.
 *  - Upstream values we hold wrong: a Gmail notice whose "(state N)." is
 *    split by a quoted-printable soft line break before the final '.':
 *    Sisimai's reader keeps the break and misses its own Gmail state
 *    table, falling back to the status; we decode the part as RFC 2045
 *    says and apply that table.  A DSN whose Diagnostic-Code names one
 *    reason while the human-readable part names another: we read the
 *    delivery-status field the recipient's record carries.
 *  - Sisimai's pseudo-codes x.0.9xx are its own, not RFC 3463: left out of
 *    the deliverystatus figure (the issue says so); we report the status
 *    the bounce states, or none.
 * Exit 0 pass, 1 fail, 77 skip (corpus absent).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce.h"
#include "mailbox.h"
#include "strmap.h"

#define GOAL_STATUS  98.0
#define GOAL_CODE    98.0
#define GOAL_REASON  95.0
#define SLOW_SECONDS 2.0

typedef struct got {
    char status[16];
    int code;
    char reason[24];
    char rcpt[256];
} got;

typedef struct gotlist {
    got *v;
    int n, cap;
} gotlist;

static void collect(const mt_attempt *a, const mt_bounce_info *info, void *arg)
{
    gotlist *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, (size_t)l->cap * sizeof *l->v);
    }
    got *g = &l->v[l->n++];
    snprintf(g->status, sizeof g->status, "%s", a->enhanced);
    g->code = a->reply_code;
    snprintf(g->reason, sizeof g->reason, "%s", info->reason);
    snprintf(g->rcpt, sizeof g->rcpt, "%s", a->recipient ? a->recipient : "");
}

typedef struct run_ctx {
    mt_bounce_parser *p;
    gotlist *l;
    double slowest;
    char slowest_name[512];
} run_ctx;

static void on_message(const char *buf, size_t n, const char *name, void *arg)
{
    run_ctx *c = arg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mt_bounce_parse(c->p, buf, n, name, collect, c->l);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (s > c->slowest) {
        c->slowest = s;
        snprintf(c->slowest_name, sizeof c->slowest_name, "%s", name);
    }
}

static int parse_path(run_ctx *c, const char *path, gotlist *l)
{
    mt_mailbox_stats st = {0};
    mt_buf err;
    mt_buf_init(&err);
    l->n = 0;
    c->l = l;
    int rc = mt_mailbox_read(path, on_message, c, &st, &err);
    mt_buf_free(&err);
    return rc;
}

static int is_pseudo(const char *s)
{
    /* x.0.9xx: Sisimai's own codes for "no status in the bounce" */
    return strlen(s) == 7 && s[1] == '.' && s[2] == '0' && s[3] == '.' && s[4] == '9';
}

typedef struct fam {
    char name[64];
    int rows, st_rows, st_ok, code_ok, reason_ok;
} fam;

static fam fams[256];
static int nfams;

static fam *family(const char *file)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    char name[64];
    size_t l = strcspn(b, "0123456789");
    while (l && b[l - 1] == '-')
        l--;
    if (l >= sizeof name)
        l = sizeof name - 1;
    memcpy(name, b, l);
    name[l] = '\0';
    for (int i = 0; i < nfams; i++)
        if (strcmp(fams[i].name, name) == 0)
            return &fams[i];
    if (nfams == 256)
        return &fams[255];
    snprintf(fams[nfams].name, sizeof fams[nfams].name, "%s", name);
    return &fams[nfams++];
}

/* split a TSV line in place */
static int split(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

static int walk_all(run_ctx *c, const char *dir, int *files)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    gotlist l = {0};
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        parse_path(c, path, &l);
        (*files)++;
    }
    free(l.v);
    closedir(d);
    return 1;
}

static void free_value(const char *k, size_t n, void *v, void *arg)
{
    (void)k;
    (void)n;
    (void)arg;
    free(v);
}

int main(void)
{
    const char *root = getenv("MAILTRIAGE_CORPUS");
    char base[4096], tsv[4200], rpath[4200];
    snprintf(base, sizeof base, "%s/sisimai", root ? root : "../shared/corpus");
    snprintf(tsv, sizeof tsv, "%s/upstream-expected.tsv", base);
    FILE *fp = fopen(tsv, "r");
    if (fp == NULL) {
        printf("skip: corpus absent (%s)\n", tsv);
        return 77;
    }
    const char *src = getenv("MT_SOURCE_ROOT");
    snprintf(rpath, sizeof rpath, "%s/data/bounce-reasons.tsv", src ? src : ".");
    mt_buf err;
    mt_buf_init(&err);
    mt_bounce_reasons *reasons = mt_bounce_reasons_load(rpath, &err);
    if (reasons == NULL) {
        printf("FAIL: %s\n", err.data);
        return 1;
    }
    run_ctx c = {.p = mt_bounce_parser_new(reasons, NULL)};
    int verbose = getenv("MT_CORPUS_VERBOSE") != NULL;

    char *line = NULL;
    size_t cap = 0;
    char cur[4096] = "";
    /* rows where the two upstream suites disagree: same file and index,
     * different reason or status */
    int suites_disagree = 0;
    mt_strmap *seen_rows = mt_strmap_new(0);
    gotlist l = {0};
    int rows = 0, st_rows = 0, st_ok = 0, code_ok = 0, reason_ok = 0, missing = 0;
    while (getline(&line, &cap, fp) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        char *f[12];
        if (split(line, f, 12) < 10 || strcmp(f[0], "file") == 0 || f[0][0] == '\0')
            continue;
        /* columns: file source engine index deliverystatus replycode reason ... */
        if (strcmp(cur, f[0]) != 0) {
            snprintf(cur, sizeof cur, "%s", f[0]);
            char path[8300];
            snprintf(path, sizeof path, "%s/%s", base, f[0]);
            parse_path(&c, path, &l);
        }
        int idx = (int)strtol(f[3], NULL, 10);
        {
            char key[4200], val[128];
            snprintf(key, sizeof key, "%s#%s", f[0], f[3]);
            snprintf(val, sizeof val, "%s|%s|%s", f[4], f[5], f[6]);
            const char *old = mt_strmap_get(seen_rows, key, strlen(key));
            if (old == NULL)
                mt_strmap_put(seen_rows, key, strlen(key), mt_xstrdup(val));
            else if (strcmp(old, val) != 0)
                suites_disagree++;
        }
        const char *est = f[4], *ecode = f[5], *ereason = f[6];
        got none = {"", 0, "(none)", ""};
        const got *g = idx >= 1 && idx <= l.n ? &l.v[idx - 1] : &none;
        if (g == &none)
            missing++;
        fam *fm = family(f[0]);
        rows++;
        fm->rows++;
        char gcode[8] = "";
        if (g->code)
            snprintf(gcode, sizeof gcode, "%d", g->code);
        int okc = strcmp(gcode, ecode) == 0;
        int okr =
            strcmp(g->reason, ereason) == 0 || (ereason[0] == '\0' && strcmp(g->reason, "feedback") == 0);
        int oks = 1;
        if (!is_pseudo(est)) {
            st_rows++;
            fm->st_rows++;
            oks = strcmp(g->status, est) == 0;
            st_ok += oks;
            fm->st_ok += oks;
        }
        code_ok += okc;
        fm->code_ok += okc;
        reason_ok += okr;
        fm->reason_ok += okr;
        if (verbose && (!oks || !okc || !okr))
            printf("  differ %s #%d: status %s/%s code %s/%s reason %s/%s\n", f[0], idx, g->status, est,
                   gcode, ecode, g->reason, ereason);
    }
    free(line);
    fclose(fp);

    printf("%-22s %5s %9s %9s %9s\n", "family", "rows", "status%", "code%", "reason%");
    for (int i = 0; i < nfams; i++) {
        fam *fm = &fams[i];
        printf("%-22s %5d %9.1f %9.1f %9.1f\n", fm->name, fm->rows,
               fm->st_rows ? 100.0 * fm->st_ok / fm->st_rows : 100.0, 100.0 * fm->code_ok / fm->rows,
               100.0 * fm->reason_ok / fm->rows);
    }
    double ps = st_rows ? 100.0 * st_ok / st_rows : 0, pc = rows ? 100.0 * code_ok / rows : 0,
           pr = rows ? 100.0 * reason_ok / rows : 0;
    printf(
        "rows %d (no record for %d); the two upstream suites disagree with each other on %d recipient(s)\n",
        rows, missing, suites_disagree);
    printf("deliverystatus %d/%d = %.1f%% (goal %.0f%%; %d rows with pseudo-codes left out)\n", st_ok,
           st_rows, ps, GOAL_STATUS, rows - st_rows);
    printf("replycode      %d/%d = %.1f%% (goal %.0f%%)\n", code_ok, rows, pc, GOAL_CODE);
    printf("reason         %d/%d = %.1f%% (goal %.0f%%)\n", reason_ok, rows, pr, GOAL_REASON);

    /* every other sample: no crash, no hang */
    static const char *const dirs[] = {
        "maildir/bsd", "maildir/dos", "maildir/mac", "maildir/err",
        "maildir/not", "maildir/tmp", "mailbox",     "to-be-debugged-because/something-is-wrong"};
    int files = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char d[4400];
        snprintf(d, sizeof d, "%s/%s", base, dirs[i]);
        walk_all(&c, d, &files);
    }
    printf("parsed %d files; slowest message %.3f s (%s)\n", files, c.slowest, c.slowest_name);
    int fail = 0;
    if (c.slowest > SLOW_SECONDS) {
        printf("FAIL: a message took over %.0f s\n", SLOW_SECONDS);
        fail = 1;
    }

    /* CRLF and CR copies read like their LF originals */
    int same = 0, differ = 0;
    static const char *const copies[] = {"maildir/dos", "maildir/mac"};
    for (size_t i = 0; i < 2; i++) {
        char d[4400];
        snprintf(d, sizeof d, "%s/%s", base, copies[i]);
        DIR *dp = opendir(d);
        struct dirent *e;
        gotlist a = {0}, b = {0};
        while (dp && (e = readdir(dp)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p1[4700], p2[4700];
            snprintf(p1, sizeof p1, "%s/%s", d, e->d_name);
            snprintf(p2, sizeof p2, "%s/maildir/bsd/%s", base, e->d_name);
            FILE *t = fopen(p2, "r");
            if (!t)
                continue;
            fclose(t);
            parse_path(&c, p1, &a);
            parse_path(&c, p2, &b);
            int eq = a.n == b.n;
            for (int k = 0; eq && k < a.n; k++)
                eq = strcmp(a.v[k].rcpt, b.v[k].rcpt) == 0 && strcmp(a.v[k].status, b.v[k].status) == 0 &&
                     a.v[k].code == b.v[k].code && strcmp(a.v[k].reason, b.v[k].reason) == 0;
            if (eq)
                same++;
            else {
                differ++;
                if (verbose)
                    printf("  line ends change the result: %s\n", p1);
            }
        }
        if (dp)
            closedir(dp);
        free(a.v);
        free(b.v);
    }
    printf(
        "CRLF/CR copies with an LF original: %d read alike, %d differ (the copies are not all byte-identical "
        "otherwise)\n",
        same, differ);

    if (ps < GOAL_STATUS) {
        printf("FAIL: deliverystatus %.1f%% is below its goal %.0f%%\n", ps, GOAL_STATUS);
        fail = 1;
    }
    if (pc < GOAL_CODE) {
        printf("FAIL: replycode %.1f%% is below its goal %.0f%%\n", pc, GOAL_CODE);
        fail = 1;
    }
    if (pr < GOAL_REASON) {
        printf("FAIL: reason %.1f%% is below its goal %.0f%%\n", pr, GOAL_REASON);
        fail = 1;
    } else
        printf("reason: goal %.0f%% met (%.1f%%)\n", GOAL_REASON, pr);
    mt_strmap_each(seen_rows, free_value, NULL);
    mt_strmap_free(seen_rows);
    free(l.v);
    mt_bounce_parser_free(c.p);
    mt_bounce_reasons_free(reasons);
    mt_buf_free(&err);
    printf("%s\n", fail ? "FAIL" : "PASS");
    return fail;
}
