/*
 * reader_transcript.c - SMTP dialogues into attempts (see the header).
 */
#include "reader_transcript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QMAX 64

enum { C_OTHER = 0, C_GREETING, C_HELO, C_STARTTLS, C_MAIL, C_RCPT, C_DATA, C_DATA_END, C_RSET, C_QUIT };

typedef struct pending {
    int cmd;
    uint32_t off, len; /* RCPT: the address in args */
} pending;

struct mt_ts {
    char tag[32]; /* the host part of the joiner's key: one per input */
    int in_session, sclient, data_mode, in_headers;
    uint64_t session;
    char qid[32];
    mt_buf mx, helo, from, msgid, hfrom;
    mt_buf args;     /* addresses of RCPT commands of the session */
    mt_buf accepted; /* accepted recipients of the transaction, NUL-separated */
    mt_buf reply;    /* the reply being read (multi-line: the last line) */
    pending q[QMAX];
    int qh, qn;
};

mt_ts *mt_ts_new(const char *tag)
{
    mt_ts *t = mt_xcalloc(1, sizeof *t);
    snprintf(t->tag, sizeof t->tag, "%s", tag);
    mt_buf *b[] = {&t->mx, &t->helo, &t->from, &t->msgid, &t->hfrom, &t->args, &t->accepted, &t->reply};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        mt_buf_init(b[i]);
    return t;
}

void mt_ts_free(mt_ts *t)
{
    if (t == NULL)
        return;
    mt_buf *b[] = {&t->mx, &t->helo, &t->from, &t->msgid, &t->hfrom, &t->args, &t->accepted, &t->reply};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        mt_buf_free(b[i]);
    free(t);
}

static mt_slice sl(const mt_buf *b)
{
    return b->len ? (mt_slice){b->data, b->len} : MT_SLICE_NULL;
}

static void set(mt_buf *b, const char *p, size_t n)
{
    mt_buf_reset(b);
    mt_buf_append(b, p, n);
}

static void base_line(const mt_ts *t, mt_pf_line *l, mt_pf_kind k)
{
    memset(l, 0, sizeof *l);
    l->kind = k;
    l->host = (mt_slice){t->tag, strlen(t->tag)};
    l->queue_id = (mt_slice){t->qid, strlen(t->qid)};
    l->delay = -1;
    l->size = -1;
    l->nrcpt = -1;
}

static void emit_message(mt_ts *t, mt_ts_emit_fn fn, void *arg)
{
    mt_pf_line l;
    base_line(t, &l, MT_PF_QMGR_FROM);
    l.from = t->from.len ? sl(&t->from) : MT_SLICE_NULL;
    l.message_id = sl(&t->msgid);
    l.header_from = sl(&t->hfrom);
    fn(&l, arg);
}

static void attempt(mt_ts *t, mt_slice rcpt, mt_stage stage, mt_slice reply, int lost, mt_ts_emit_fn fn,
                    void *arg)
{
    emit_message(t, fn, arg);
    mt_pf_line l;
    base_line(t, &l, MT_PF_DELIVERY);
    l.to = rcpt.p ? rcpt : (mt_slice){"", 0};
    l.program = (mt_slice){"transcript", 10};
    l.mx_host = sl(&t->mx);
    l.helo_name = sl(&t->helo);
    l.stage = stage;
    l.reply = reply;
    char enh[16];
    l.reply_code = lost ? 0 : mt_reply_code_enhanced(reply.p, reply.len, enh);
    if (l.reply_code)
        memcpy(l.enhanced, enh, sizeof enh);
    l.status = lost || (l.reply_code >= 400 && l.reply_code < 500) ? MT_STATUS_DEFERRED
               : l.reply_code >= 500                               ? MT_STATUS_BOUNCED
                                                                   : MT_STATUS_SENT;
    fn(&l, arg);
}

/* each accepted recipient of the transaction gets the reply */
static void all_accepted(mt_ts *t, mt_stage stage, mt_slice reply, int lost, mt_ts_emit_fn fn, void *arg)
{
    size_t k = 0;
    while (k < t->accepted.len) {
        size_t n = strlen(t->accepted.data + k);
        attempt(t, (mt_slice){t->accepted.data + k, n}, stage, reply, lost, fn, arg);
        k += n + 1;
    }
    mt_buf_reset(&t->accepted);
}

static void push(mt_ts *t, int cmd, const char *a, size_t n)
{
    if (t->qn == QMAX)
        return; /* a runaway pipeline: later replies answer what is queued */
    pending *p = &t->q[(t->qh + t->qn++) % QMAX];
    p->cmd = cmd;
    p->off = (uint32_t)t->args.len;
    p->len = (uint32_t)n;
    mt_buf_append(&t->args, a, n);
}

static mt_stage stage_of(int cmd)
{
    switch (cmd) {
    case C_GREETING:
        return MT_STAGE_GREETING;
    case C_HELO:
        return MT_STAGE_HELO;
    case C_STARTTLS:
        return MT_STAGE_STARTTLS;
    case C_MAIL:
        return MT_STAGE_MAIL;
    case C_RCPT:
        return MT_STAGE_RCPT;
    case C_DATA:
        return MT_STAGE_DATA;
    case C_DATA_END:
        return MT_STAGE_DATA_END;
    case C_QUIT:
        return MT_STAGE_QUIT;
    default:
        return MT_STAGE_UNKNOWN;
    }
}

/* end_session - what is still waiting for a reply was cut off */
static void end_session(mt_ts *t, mt_slice why, mt_ts_emit_fn fn, void *arg)
{
    if (!t->in_session)
        return;
    for (; t->qn; t->qn--, t->qh = (t->qh + 1) % QMAX) {
        pending *p = &t->q[t->qh];
        if (p->cmd == C_RCPT)
            attempt(t, (mt_slice){t->args.data + p->off, p->len}, MT_STAGE_RCPT, why, 1, fn, arg);
        else if (p->cmd == C_DATA || p->cmd == C_DATA_END)
            all_accepted(t, stage_of(p->cmd), why, 1, fn, arg);
        else if (p->cmd == C_GREETING || p->cmd == C_HELO || p->cmd == C_STARTTLS || p->cmd == C_MAIL)
            attempt(t, MT_SLICE_NULL, stage_of(p->cmd), why, 1, fn, arg);
    }
    if (t->accepted.len) /* accepted, but the data never went */
        all_accepted(t, MT_STAGE_DATA, why, 1, fn, arg);
    mt_pf_line l;
    base_line(t, &l, MT_PF_REMOVED);
    fn(&l, arg);
    t->in_session = 0;
}

static void start_session(mt_ts *t, mt_ts_emit_fn fn, void *arg)
{
    end_session(t, (mt_slice){"connection closed", 17}, fn, arg);
    t->in_session = 1;
    t->session++;
    snprintf(t->qid, sizeof t->qid, "s%llu", (unsigned long long)t->session);
    t->data_mode = t->in_headers = 0;
    t->qh = t->qn = 0;
    mt_buf *b[] = {&t->mx, &t->helo, &t->from, &t->msgid, &t->hfrom, &t->args, &t->accepted};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        mt_buf_reset(b[i]);
    push(t, C_GREETING, "", 0);
}

static int starts_ci(const char *p, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && strncasecmp(p, w, k) == 0;
}

/* angle_arg - the address in "<…>" after a MAIL/RCPT verb */
static mt_slice angle_arg(const char *p, size_t n)
{
    const char *lt = memchr(p, '<', n);
    if (lt == NULL) {
        const char *c = memchr(p, ':', n);
        if (c == NULL)
            return MT_SLICE_NULL;
        c++;
        while (c < p + n && *c == ' ')
            c++;
        const char *e = c;
        while (e < p + n && *e != ' ')
            e++;
        return (mt_slice){c, (size_t)(e - c)};
    }
    const char *gt = memchr(lt, '>', n - (size_t)(lt - p));
    if (gt == NULL)
        return MT_SLICE_NULL;
    return (mt_slice){lt + 1, (size_t)(gt - lt - 1)};
}

static int verb(const char *p, size_t n)
{
    if (starts_ci(p, n, "EHLO") || starts_ci(p, n, "HELO") || starts_ci(p, n, "LHLO") ||
        starts_ci(p, n, "AUTH"))
        return C_HELO;
    if (starts_ci(p, n, "STARTTLS"))
        return C_STARTTLS;
    if (starts_ci(p, n, "MAIL FROM"))
        return C_MAIL;
    if (starts_ci(p, n, "RCPT TO"))
        return C_RCPT;
    if (starts_ci(p, n, "BDAT"))
        return C_DATA_END;
    if (n == 4 && starts_ci(p, n, "DATA"))
        return C_DATA;
    if (starts_ci(p, n, "RSET"))
        return C_RSET;
    if (starts_ci(p, n, "QUIT"))
        return C_QUIT;
    if (starts_ci(p, n, "NOOP") || starts_ci(p, n, "VRFY") || starts_ci(p, n, "EXPN") ||
        starts_ci(p, n, "HELP"))
        return C_OTHER;
    return -1;
}

static void client_line(mt_ts *t, const char *p, size_t n, mt_ts_emit_fn fn, void *arg)
{
    if (t->data_mode) {
        if (n == 1 && p[0] == '.') {
            t->data_mode = 0;
            push(t, C_DATA_END, "", 0);
            return;
        }
        if (n == 0)
            t->in_headers = 0;
        else if (t->in_headers && starts_ci(p, n, "Message-ID:")) {
            mt_slice v = angle_arg(p, n);
            if (v.len)
                set(&t->msgid, v.p, v.len);
        } else if (t->in_headers && starts_ci(p, n, "From:")) {
            const char *lt = memchr(p, '<', n);
            mt_slice v = lt ? angle_arg(p, n) : (mt_slice){p + 5, n - 5};
            mt_slice d = mt_domain_of(v.p, v.len);
            while (d.len && (d.p[d.len - 1] == ' ' || d.p[d.len - 1] == '>'))
                d.len--;
            if (d.len) {
                set(&t->hfrom, d.p, d.len);
                mt_lower_ascii(t->hfrom.data, t->hfrom.len);
            }
        }
        return;
    }
    int v = verb(p, n);
    if (v < 0)
        return;
    mt_slice a = MT_SLICE_NULL;
    if (v == C_HELO && n > 5 && (starts_ci(p, n, "EHLO ") || starts_ci(p, n, "HELO "))) {
        set(&t->helo, p + 5, n - 5);
    } else if (v == C_MAIL) {
        a = angle_arg(p, n);
        if (a.p)
            set(&t->from, a.p, a.len);
        mt_buf_reset(&t->accepted);
    } else if (v == C_RCPT) {
        a = angle_arg(p, n);
    } else if (v == C_QUIT) {
        (void)fn;
        (void)arg;
    }
    push(t, v, a.p ? a.p : "", a.len);
}

static void server_line(mt_ts *t, const char *p, size_t n, mt_ts_emit_fn fn, void *arg)
{
    char enh[16];
    int code = mt_reply_code_enhanced(p, n, enh);
    if (code == 0)
        return;
    if (n > 3 && p[3] == '-')
        return; /* a continuation: the last line decides */
    set(&t->reply, p, n);
    mt_slice reply = sl(&t->reply);
    int cmd = C_OTHER;
    uint32_t off = 0, len = 0;
    if (t->qn) {
        pending *q = &t->q[t->qh];
        cmd = q->cmd;
        off = q->off;
        len = q->len;
        t->qh = (t->qh + 1) % QMAX;
        t->qn--;
    }
    int fail = code >= 400;
    switch (cmd) {
    case C_GREETING:
    case C_HELO:
    case C_STARTTLS:
    case C_MAIL:
        if (fail)
            attempt(t, MT_SLICE_NULL, stage_of(cmd), reply, 0, fn, arg);
        break;
    case C_RCPT: {
        mt_slice r = {t->args.data + off, len};
        if (fail) {
            attempt(t, r, MT_STAGE_RCPT, reply, 0, fn, arg);
        } else {
            mt_buf_append(&t->accepted, r.p, r.len);
            mt_buf_putc(&t->accepted, '\0');
        }
        break;
    }
    case C_DATA:
        if (code == 354) {
            t->data_mode = 1;
            t->in_headers = 1;
        } else if (fail) {
            all_accepted(t, MT_STAGE_DATA, reply, 0, fn, arg);
        }
        break;
    case C_DATA_END:
        all_accepted(t, MT_STAGE_DATA_END, reply, 0, fn, arg);
        break;
    case C_RSET:
        mt_buf_reset(&t->accepted);
        break;
    default:
        break;
    }
}

int mt_ts_line(mt_ts *t, const char *line, size_t n, mt_ts_emit_fn fn, void *arg)
{
    static const struct {
        const char *prefix;
        char role; /* C client, S server */
    } marks[] = {
        {"C: ", 'C'},  {"S: ", 'S'}, {" -> ", 'C'}, {"-> ", 'C'},  {" ~> ", 'C'}, {"~> ", 'C'},
        {"<-  ", 'S'}, {"<- ", 'S'}, {"<** ", 'S'}, {"<~  ", 'S'}, {"<~ ", 'S'},  {"<~* ", 'S'},
    };
    if (starts_ci(line, n, "=== Trying ")) {
        start_session(t, fn, arg);
        const char *h = line + 11;
        size_t hn = n - 11;
        size_t k = 0;
        while (k < hn && h[k] != ':' && h[k] != ' ' && h[k] != '.')
            k++;
        /* "mx.163.com:25...": up to the port */
        const char *colon = memchr(h, ':', hn);
        if (colon)
            set(&t->mx, h, (size_t)(colon - h));
        (void)k;
        return 1;
    }
    if (starts_ci(line, n, "CONNECTED(")) {
        start_session(t, fn, arg);
        t->sclient = 1;
        return 1;
    }
    if (starts_ci(line, n, "=== ")) {
        if (!t->in_session)
            start_session(t, fn, arg);
        return 1;
    }
    if (starts_ci(line, n, "*** ")) {
        end_session(t, (mt_slice){line + 4, n - 4}, fn, arg);
        return 1;
    }
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        size_t k = strlen(marks[i].prefix);
        if (n >= k && memcmp(line, marks[i].prefix, k) == 0) {
            if (!t->in_session)
                start_session(t, fn, arg);
            const char *p = line + k;
            size_t pn = n - k;
            while (pn && p[pn - 1] == '\r')
                pn--;
            if (marks[i].role == 'C')
                client_line(t, p, pn, fn, arg);
            else
                server_line(t, p, pn, fn, arg);
            return 1;
        }
    }
    if (t->sclient && t->in_session) {
        /* s_client: bare replies and the commands typed */
        char enh[16];
        if (!t->data_mode && mt_reply_code_enhanced(line, n, enh)) {
            server_line(t, line, n, fn, arg);
            return 1;
        }
        if (t->data_mode || verb(line, n) >= 0) {
            client_line(t, line, n, fn, arg);
            return 1;
        }
    }
    return 0;
}

void mt_ts_finish(mt_ts *t, mt_ts_emit_fn fn, void *arg)
{
    end_session(t, (mt_slice){"transcript ended", 16}, fn, arg);
}
