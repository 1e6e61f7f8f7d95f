/*
 * reader_pmta.c - PowerMTA accounting CSV: a header row naming the
 * columns (any order; PowerMTA writes the record fields the <acct-file>
 * configuration asks for), then one record per line.
 *
 * Record types: d (delivered) and b (bounced) end a recipient; t
 * (transient failure, when the configuration logs them) and tq (queue-level
 * transient) are deferrals; r (receipt) carries the message's arrival; f,
 * rb, rs (feedback, remote bounces and statuses) are no attempt.
 * Columns read: type, timeLogged, timeQueued (delay), orig (envelope
 * sender), rcpt, dsnAction, dsnStatus (enhanced status), dsnDiag
 * ("smtp;451 4.3.2 …": the reply), dsnMta ("mx.example (192.0.2.1)"),
 * dlvSourceIp (sending IP), dlvDestinationIp, dlvSize, vmta (the route),
 * jobId / envId (queue id), header_Message-Id.  PowerMTA does not say which
 * command a failure answered: the stage is unknown, except for
 * deliveries (accepted at the end of data).  Without a message id the
 * records of a recipient are joined by recipient and envelope id.
 */
#include <string.h>
#include <strings.h>

#include "reader_record.h"

static int col(const mt_slice *cols, int n, const char *name)
{
    size_t l = strlen(name);
    for (int i = 0; i < n; i++)
        if (cols[i].len == l && strncasecmp(cols[i].p, name, l) == 0)
            return i;
    return -1;
}

int mt_pmta_header(const mt_slice *cols, int n, mt_pmta_cols *pc, mt_buf *unknown)
{
    (void)unknown; /* PowerMTA has many columns we do not need: not worth a warning */
    pc->ncols = n;
    pc->type = col(cols, n, "type");
    pc->time_logged = col(cols, n, "timeLogged");
    pc->time_queued = col(cols, n, "timeQueued");
    pc->orig = col(cols, n, "orig");
    pc->rcpt = col(cols, n, "rcpt");
    pc->dsn_action = col(cols, n, "dsnAction");
    pc->dsn_status = col(cols, n, "dsnStatus");
    pc->dsn_diag = col(cols, n, "dsnDiag");
    pc->dsn_mta = col(cols, n, "dsnMta");
    pc->dlv_source_ip = col(cols, n, "dlvSourceIp");
    pc->dlv_dest_ip = col(cols, n, "dlvDestinationIp");
    pc->dlv_size = col(cols, n, "dlvSize");
    pc->vmta = col(cols, n, "vmta");
    pc->job_id = col(cols, n, "jobId");
    pc->env_id = col(cols, n, "envId");
    pc->message_id = col(cols, n, "header_Message-Id");
    return pc->rcpt >= 0 && pc->type >= 0;
}

static mt_slice get(const mt_slice *f, int n, int i)
{
    if (i < 0 || i >= n)
        return MT_SLICE_NULL;
    mt_slice s = f[i];
    while (s.len && s.p[0] == ' ') {
        s.p++;
        s.len--;
    }
    while (s.len && s.p[s.len - 1] == ' ')
        s.len--;
    return s;
}

int mt_pmta_parse(const mt_pmta_cols *pc, const mt_slice *f, int n, mt_arena *a, mt_xrec *r, const char **why)
{
    (void)a;
    mt_slice type = get(f, n, pc->type);
    if (n == pc->ncols && mt_slice_eq_cstr(type, "type"))
        return 0; /* the header row again */
    if (n != pc->ncols) {
        *why = "pmta: number of fields differs from the header";
        return -1;
    }
    r->per_rcpt = 1;
    if (mt_slice_eq_cstr(type, "d")) {
        r->status = MT_STATUS_SENT;
        r->final = 1;
        r->stage = MT_STAGE_DATA_END;
    } else if (mt_slice_eq_cstr(type, "b")) {
        r->status = MT_STATUS_BOUNCED;
        r->final = 1;
    } else if (mt_slice_eq_cstr(type, "t") || mt_slice_eq_cstr(type, "tq")) {
        r->status = MT_STATUS_DEFERRED;
    } else if (mt_slice_eq_cstr(type, "r")) {
        r->kind = MT_XREC_ARRIVAL;
    } else if (mt_slice_eq_cstr(type, "f") || mt_slice_eq_cstr(type, "rb") || mt_slice_eq_cstr(type, "rs")) {
        return 0;
    } else {
        *why = "pmta: unknown record type";
        return -1;
    }
    mt_slice tl = get(f, n, pc->time_logged);
    if (tl.len && !mt_xrec_time(tl, &r->time, &r->usec)) {
        *why = "pmta: timeLogged is not a time";
        return -1;
    }
    int64_t tq;
    int32_t uq;
    mt_slice q = get(f, n, pc->time_queued);
    if (q.len && tl.len && mt_xrec_time(q, &tq, &uq) && r->time >= tq)
        r->delay = mt_delay_checked((double)(r->time - tq));
    r->mail_from = get(f, n, pc->orig);
    r->recipient = get(f, n, pc->rcpt);
    if (r->recipient.len == 0) {
        *why = "pmta: empty rcpt";
        return -1;
    }
    r->route = get(f, n, pc->vmta);
    r->sending_ip = get(f, n, pc->dlv_source_ip);
    r->mx_ip = get(f, n, pc->dlv_dest_ip);
    mt_slice mid = get(f, n, pc->message_id);
    if (mid.len >= 2 && mid.p[0] == '<' && mid.p[mid.len - 1] == '>') {
        mid.p++;
        mid.len -= 2;
    }
    r->message_id = mid;
    r->queue_id = get(f, n, pc->env_id);
    if (r->queue_id.len == 0)
        r->queue_id = get(f, n, pc->job_id);
    mt_slice sz = get(f, n, pc->dlv_size);
    if (sz.len) {
        int64_t v = 0;
        size_t i = 0;
        for (; i < sz.len && i < 18 && sz.p[i] >= '0' && sz.p[i] <= '9'; i++)
            v = v * 10 + (sz.p[i] - '0');
        if (i == sz.len)
            r->size = v;
    }
    /* "mx.example.com (192.0.2.1)" */
    mt_slice mta = get(f, n, pc->dsn_mta);
    if (mta.len) {
        const char *lp = memchr(mta.p, '(', mta.len);
        if (lp) {
            const char *rp = memchr(lp, ')', mta.len - (size_t)(lp - mta.p));
            if (rp && r->mx_ip.len == 0)
                r->mx_ip = (mt_slice){lp + 1, (size_t)(rp - lp - 1)};
            size_t hl = (size_t)(lp - mta.p);
            while (hl && mta.p[hl - 1] == ' ')
                hl--;
            r->mx_host = (mt_slice){mta.p, hl};
        } else {
            r->mx_host = mta;
        }
        while (r->mx_host.len && r->mx_host.p[r->mx_host.len - 1] == '.')
            r->mx_host.len--;
    }
    /* "smtp;451 4.3.2 Internal server error" */
    mt_slice diag = get(f, n, pc->dsn_diag);
    if (diag.len > 5 && strncasecmp(diag.p, "smtp;", 5) == 0) {
        diag.p += 5;
        diag.len -= 5;
    }
    if (diag.len)
        mt_xrec_set_reply(r, diag);
    mt_slice st = get(f, n, pc->dsn_status);
    if (r->enhanced[0] == '\0' && st.len) {
        size_t k = 0;
        while (k < st.len && st.p[k] != ' ')
            k++;
        if (k < sizeof r->enhanced && k >= 5 && st.p[1] == '.') {
            memcpy(r->enhanced, st.p, k);
            r->enhanced[k] = '\0';
        }
    }
    return 1;
}
