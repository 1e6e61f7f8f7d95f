/*
 * reader_opensmtpd.c - OpenSMTPD's delivery lines, the ones that carry the
 * remote reply (usr.sbin/smtpd/mta.c, mta_log()):
 *
 *   STAMP HOST smtpd[PID]: SESSION mta delivery evpid=EVPID from=<S> to=<R>
 *       rcpt=<O> source="SENDING IP" relay="MX [IP]" delay=2m3s
 *       result="Ok|TempFail|PermFail|Loop" stat="REPLY"
 *
 * EVPID is 16 hex digits, the first 8 the message id.  Each envelope (one
 * recipient) is keyed by itself, so retries join; Ok and PermFail end it.
 * OpenSMTPD does not log which command a failure answered: the stage is
 * unknown, except for deliveries (accepted at the end of data).  Other
 * smtpd lines (sessions, the receiving side) carry no attempt.
 */
#include <string.h>

#include "reader_record.h"

/* value - the value of KEY=<…> or KEY="…" or KEY=word in p[0..n) */
static mt_slice value(const char *p, size_t n, const char *key, int *found)
{
    const char *k = mt_find(p, n, key);
    *found = k != NULL;
    if (k == NULL)
        return MT_SLICE_NULL;
    const char *v = k + strlen(key), *end = p + n;
    if (v < end && (*v == '"' || *v == '<')) {
        char close = *v == '"' ? '"' : '>';
        /* the reply may hold quotes: stat="…" is the last field, up to the last quote */
        const char *e = close == '"' && strcmp(key, " stat=") == 0
                            ? memrchr(v + 1, '"', (size_t)(end - v - 1))
                            : memchr(v + 1, close, (size_t)(end - v - 1));
        if (e == NULL) {
            *found = -1;
            return MT_SLICE_NULL;
        }
        return (mt_slice){v + 1, (size_t)(e - v - 1)};
    }
    const char *e = v;
    while (e < end && *e != ' ')
        e++;
    return (mt_slice){v, (size_t)(e - v)};
}

static double duration(mt_slice s)
{
    double total = 0, v = 0;
    int have = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c >= '0' && c <= '9') {
            v = v * 10 + (c - '0');
            have = 1;
            continue;
        }
        double unit = c == 'd' ? 86400 : c == 'h' ? 3600 : c == 'm' ? 60 : c == 's' ? 1 : 0;
        if (unit == 0 || !have)
            return -1;
        total += v * unit;
        v = 0;
        have = 0;
    }
    return have ? -1 : total;
}

int mt_opensmtpd_parse(const char *line, size_t n, mt_yearctx *yc, mt_xrec *r, const char **why)
{
    mt_xrec_clear(r);
    size_t k = mt_time_parse(line, n, yc, &r->time, &r->usec);
    if (k == 0) {
        *why = "opensmtpd: no timestamp";
        return -1;
    }
    if (mt_find(line + k, n - k < 80 ? n - k : 80, " smtpd[") == NULL)
        return 2; /* another program's line */
    const char *d = mt_find(line + k, n - k, " mta delivery evpid=");
    if (d == NULL)
        return 0; /* sessions, the receiving side, …: no attempt */
    const char *p = d;
    size_t pn = n - (size_t)(d - line);
    int f;
    mt_slice evpid = value(p, pn, " evpid=", &f);
    mt_slice from = value(p, pn, " from=", &f);
    if (f < 0) {
        *why = "opensmtpd: unclosed from=<";
        return -1;
    }
    mt_slice to = value(p, pn, " to=", &f);
    if (f <= 0 || to.len == 0) {
        *why = "opensmtpd: no to=<recipient>";
        return -1;
    }
    mt_slice source = value(p, pn, " source=", &f);
    mt_slice relay = value(p, pn, " relay=", &f);
    mt_slice delay = value(p, pn, " delay=", &f);
    mt_slice result = value(p, pn, " result=", &f);
    if (f <= 0) {
        *why = "opensmtpd: no result=";
        return -1;
    }
    mt_slice stat = value(p, pn, " stat=", &f);
    if (f < 0) {
        *why = "opensmtpd: unclosed stat=\"";
        return -1;
    }
    if (evpid.len != 16) {
        *why = "opensmtpd: evpid is not 16 hex digits";
        return -1;
    }
    r->queue_id = (mt_slice){evpid.p, 8};
    r->per_rcpt = 1;
    r->mail_from = from;
    r->recipient = to;
    if (source.len && !mt_slice_eq_cstr(source, "-"))
        r->sending_ip = source;
    if (relay.len) {
        const char *lb = memchr(relay.p, '[', relay.len);
        const char *rb = lb ? memchr(lb, ']', relay.len - (size_t)(lb - relay.p)) : NULL;
        if (lb && rb) {
            size_t hl = (size_t)(lb - relay.p);
            while (hl && relay.p[hl - 1] == ' ')
                hl--;
            r->mx_host = (mt_slice){relay.p, hl};
            r->mx_ip = (mt_slice){lb + 1, (size_t)(rb - lb - 1)};
        } else {
            r->mx_host = relay;
        }
    }
    r->delay = mt_delay_checked(duration(delay));
    if (stat.len)
        mt_xrec_set_reply(r, stat);
    if (mt_slice_eq_cstr(result, "Ok")) {
        r->status = MT_STATUS_SENT;
        r->final = 1;
        r->stage = MT_STAGE_DATA_END;
    } else if (mt_slice_eq_cstr(result, "TempFail")) {
        r->status = MT_STATUS_DEFERRED;
    } else if (mt_slice_eq_cstr(result, "PermFail") || mt_slice_eq_cstr(result, "Loop")) {
        r->status = MT_STATUS_BOUNCED;
        r->final = 1;
    } else {
        *why = "opensmtpd: unknown result";
        return -1;
    }
    return 1;
}
