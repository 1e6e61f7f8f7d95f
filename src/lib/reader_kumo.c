/*
 * reader_kumo.c - KumoMTA JSON log records, one object per line (jansson).
 *
 *   {"type":"TransientFailure","id":"…","sender":"…","recipient":"…",
 *    "queue":"163.com","site":"…","size":1047,
 *    "response":{"code":451,"enhanced_code":{"class":4,"subject":3,"detail":2},
 *                "content":"Internal server error","command":".\r\n"},
 *    "peer_address":{"name":"mx.163.com.","addr":"220.181.14.141"},
 *    "timestamp":1795210551,"num_attempts":1,"egress_pool":"cn",
 *    "egress_source":"cn-ip1","source_address":{"address":"198.51.100.20:0"},
 *    "headers":{"Message-ID":"<…>"},"meta":{"template":"…"}}
 *
 * Types: Reception (arrival), Delivery (sent), TransientFailure
 * (deferred), Bounce and AdminBounce (bounced), Expiration (the message
 * expired: no attempt), Rejection and Feedback (no attempt).  KumoMTA
 * messages have one recipient, so a message id is a recipient's key.
 * The route is egress_source (else egress_pool); the stage is the command
 * the response answered (response.command), a Delivery's is the end of
 * data, a failure with no command and no code is a connection failure.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reader_record.h"

static mt_slice str(json_t *o, const char *key, mt_arena *a)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return MT_SLICE_NULL;
    return mt_arena_put(a, json_string_value(v), json_string_length(v));
}

static mt_stage stage_of(const char *cmd)
{
    while (*cmd == ' ' || *cmd == '\r' || *cmd == '\n')
        cmd++;
    static const struct {
        const char *word;
        mt_stage stage;
    } map[] = {
        {"MAIL", MT_STAGE_MAIL},     {"RCPT", MT_STAGE_RCPT},         {"DATA", MT_STAGE_DATA},
        {"BDAT", MT_STAGE_DATA_END}, {"EHLO", MT_STAGE_HELO},         {"HELO", MT_STAGE_HELO},
        {"LHLO", MT_STAGE_HELO},     {"STARTTLS", MT_STAGE_STARTTLS}, {"AUTH", MT_STAGE_HELO},
        {"QUIT", MT_STAGE_QUIT},     {".", MT_STAGE_DATA_END},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncasecmp(cmd, map[i].word, strlen(map[i].word)) == 0)
            return map[i].stage;
    return MT_STAGE_UNKNOWN;
}

int mt_kumo_parse(const char *line, size_t n, mt_arena *a, mt_xrec *r, const char **why)
{
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    int rc = 1;
    if (!json_is_object(o)) {
        *why = "kumo: not a JSON object";
        rc = -1;
        goto out;
    }
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type == NULL) {
        *why = "kumo: no \"type\"";
        rc = -1;
        goto out;
    }
    if (strcmp(type, "Delivery") == 0) {
        r->status = MT_STATUS_SENT;
        r->final = 1;
    } else if (strcmp(type, "TransientFailure") == 0) {
        r->status = MT_STATUS_DEFERRED;
    } else if (strcmp(type, "Bounce") == 0 || strcmp(type, "AdminBounce") == 0) {
        r->status = MT_STATUS_BOUNCED;
        r->final = 1;
    } else if (strcmp(type, "Expiration") == 0) {
        r->kind = MT_XREC_EXPIRED;
        r->final = 1;
    } else if (strcmp(type, "Reception") == 0) {
        r->kind = MT_XREC_ARRIVAL;
    } else if (strcmp(type, "Rejection") == 0 || strcmp(type, "Feedback") == 0 ||
               strcmp(type, "DelayedDelivery") == 0 || strcmp(type, "OOB") == 0) {
        rc = 0;
        goto out;
    } else {
        *why = "kumo: unknown record type";
        rc = -1;
        goto out;
    }
    json_t *ts = json_object_get(o, "timestamp");
    if (json_is_number(ts)) {
        /* epoch seconds, from 1970 to the end of year 9999 as the other
         * forms: 1e300 would not fit the time (and converting it is
         * undefined) */
        double t = json_number_value(ts);
        if (!(t >= 0 && t < 253402300800.0)) {
            *why = "kumo: timestamp is not a time";
            rc = -1;
            goto out;
        }
        r->time = (int64_t)t;
        if (json_is_real(ts))
            r->usec = (int32_t)((t - (double)r->time) * 1e6);
    } else if (json_is_string(ts)) {
        if (!mt_xrec_time((mt_slice){json_string_value(ts), json_string_length(ts)}, &r->time, &r->usec)) {
            *why = "kumo: timestamp is not a time";
            rc = -1;
            goto out;
        }
    }
    json_t *created = json_object_get(o, "created");
    if (json_is_integer(created) && r->time >= json_integer_value(created))
        /* in doubles: a created of -2^63 would overflow the subtraction */
        r->delay = mt_delay_checked((double)r->time - (double)json_integer_value(created));
    r->queue_id = str(o, "id", a);
    r->id_unique = 1;
    r->mail_from = str(o, "sender", a);
    r->recipient = str(o, "recipient", a);
    if (r->queue_id.len == 0 || r->recipient.len == 0) {
        *why = "kumo: no id or recipient";
        rc = -1;
        goto out;
    }
    r->route = str(o, "egress_source", a);
    if (r->route.len == 0)
        r->route = str(o, "egress_pool", a);
    json_t *size = json_object_get(o, "size");
    if (json_is_integer(size))
        r->size = (int64_t)json_integer_value(size);
    json_t *peer = json_object_get(o, "peer_address");
    if (json_is_object(peer)) {
        r->mx_host = str(peer, "name", a);
        while (r->mx_host.len && r->mx_host.p[r->mx_host.len - 1] == '.')
            r->mx_host.len--;
        r->mx_ip = str(peer, "addr", a);
    }
    json_t *src = json_object_get(o, "source_address");
    if (json_is_object(src)) {
        mt_slice ip = str(src, "address", a);
        /* "198.51.100.20:0" or "[2001:db8::1]:0" */
        if (ip.len && ip.p[0] == '[') {
            const char *rb = memchr(ip.p, ']', ip.len);
            if (rb)
                ip = (mt_slice){ip.p + 1, (size_t)(rb - ip.p - 1)};
        } else if (ip.len && memchr(ip.p, ':', ip.len) == memrchr(ip.p, ':', ip.len)) {
            const char *c = memchr(ip.p, ':', ip.len);
            if (c)
                ip.len = (size_t)(c - ip.p);
        }
        r->sending_ip = ip;
    }
    json_t *hdr = json_object_get(o, "headers");
    if (json_is_object(hdr)) {
        const char *k;
        json_t *v;
        json_object_foreach(hdr, k, v)
        {
            if (strcasecmp(k, "Message-ID") == 0 && json_is_string(v)) {
                mt_slice m = mt_arena_put(a, json_string_value(v), json_string_length(v));
                if (m.len >= 2 && m.p[0] == '<' && m.p[m.len - 1] == '>') {
                    m.p++;
                    m.len -= 2;
                }
                r->message_id = m;
            }
        }
    }
    json_t *meta = json_object_get(o, "meta");
    if (json_is_object(meta)) {
        r->template_id = str(meta, "template", a);
        if (r->template_id.len == 0)
            r->template_id = str(meta, "message_template_id", a);
    }
    if (r->kind != MT_XREC_ATTEMPT)
        goto out;
    json_t *resp = json_object_get(o, "response");
    int code = 0;
    const char *content = "";
    const char *command = NULL;
    char enh[16] = "";
    if (json_is_object(resp)) {
        json_t *c = json_object_get(resp, "code");
        if (json_is_integer(c))
            code = (int)json_integer_value(c);
        json_t *t = json_object_get(resp, "content");
        if (json_is_string(t))
            content = json_string_value(t);
        json_t *cmd = json_object_get(resp, "command");
        if (json_is_string(cmd))
            command = json_string_value(cmd);
        json_t *e = json_object_get(resp, "enhanced_code");
        if (json_is_object(e)) {
            json_t *cl = json_object_get(e, "class"), *su = json_object_get(e, "subject"),
                   *de = json_object_get(e, "detail");
            if (json_is_integer(cl) && json_is_integer(su) && json_is_integer(de))
                snprintf(enh, sizeof enh, "%d.%d.%d", (int)json_integer_value(cl) % 10,
                         (int)json_integer_value(su) % 1000, (int)json_integer_value(de) % 1000);
        }
    }
    /* the reply as a remote MTA spells it: "451 4.3.2 content" */
    char head[32] = "";
    if (code >= 200 && code <= 599)
        snprintf(head, sizeof head, "%d %s%s", code, enh, enh[0] ? " " : "");
    size_t hl = strlen(head), cl = strlen(content);
    mt_slice reply = mt_arena_put(a, head, hl);
    if (reply.p) {
        a->len--; /* the content follows the head */
        if (mt_arena_put(a, content, cl).p)
            reply.len = hl + cl;
    }
    if (reply.p && reply.len)
        mt_xrec_set_reply(r, reply);
    if (code >= 200 && code <= 599)
        r->reply_code = code;
    if (enh[0])
        memcpy(r->enhanced, enh, sizeof r->enhanced);
    if (command)
        r->stage = stage_of(command);
    else if (r->status == MT_STATUS_SENT)
        r->stage = MT_STAGE_DATA_END;
    else if (code == 0 || strstr(content, "failed to connect") || strstr(content, "failed to resolve") ||
             strstr(content, "Connection refused") || strstr(content, "timed out"))
        r->stage = MT_STAGE_CONNECT;
out:
    json_decref(o);
    return rc;
}
