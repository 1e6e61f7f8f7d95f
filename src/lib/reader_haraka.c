/*
 * reader_haraka.c - Haraka's outbound delivery lines, the ones that carry
 * the remote reply.  Every format below is taken from Haraka's own source
 * (haraka/Haraka on GitHub) and checked against logs people posted.
 *
 * The line (logger.js, log_if_level): "[LEVEL] [UUID] [ORIGIN] MESSAGE",
 * ORIGIN "outbound" and UUID the message's todo.uuid (the receiving
 * transaction's uuid plus ".N" per destination domain; it is kept in the
 * queue file, so every retry and every recipient split of one message at
 * one domain logs the same UUID: it is the key that joins retries).  In
 * front of it may stand an ISO stamp (log.ini timestamps=true:
 * "2020-12-01T22:15:18.000Z [NOTICE] …", Cloudron), a "YYYY-MM-DD
 * hh:mm:ss.fffffffff  " stamp (poste.io's s6 logger), or a syslog prefix
 * ("Feb 17 21:53:28 mxbt1 haraka[48106]: [NOTICE] …", haraka-plugin-syslog;
 * Haraka issue #848).  Without any stamp the time is unknown (0).
 *
 * Attempt lines (outbound/hmail.js, HMailItem; outbound.js in older 2.x):
 *
 *   [NOTICE] delivered file=F domain=D host=MX ip=IP port=P mode=SMTP
 *       tls=Y auth=N response="TEXT" delay=S fails=N rcpts=OK/TEMP/PERM
 *     delivered(): the reply to the end of data (its text only: Haraka
 *     logs the lines after the code).  domain= and host= were quoted in
 *     2.x ('domain="' + this.todo.domain + '"'), bare key=value since the
 *     logger formats the object hmail.js hands it (logs of 2020 on); the
 *     oldest 2.x lacks port..auth and rcpts.
 *   [NOTICE] recipient <A> deferred: CODE EXT TEXT
 *   [NOTICE] recipient <A> rejected: CODE EXT TEXT
 *     the RCPT (or LMTP end-of-data) reply for one recipient.
 *   [INFO] Temp failing FILE for N seconds: ERR
 *     deferred_respond(): the message (this split of it) is requeued; ERR
 *     is "Upstream error: CODE EXT TEXT" (a 4xx to greeting, EHLO, MAIL,
 *     DATA or end of data), "Some recipients temp failed: <A>, …" (already
 *     logged per recipient above), "Tried all MXs", "DNS lookup failure: …".
 *   [INFO] bouncing mail: ERR          ("Bouncing mail:" in 3.x)
 *     bounce(): ERR is "CODE EXT TEXT" (a 5xx), "Some recipients failed:
 *     <A>, …" (logged per recipient above), "Too many failures (ERR2)"
 *     (temp_fail() past the last retry interval: the message expires; ERR2
 *     is the last deferral, not logged otherwise), or a local reason
 *     ("No Such Domain: D", "Domain D sends and receives no email (NULL MX)").
 *
 * Context lines (per UUID, remembered in mt_haraka_ctx, one per chunk):
 *   [INFO] Looking up A records for: MX          (try_deliver, 2.8-3.0)
 *   [INFO] Attempting to deliver to: IP:PORT (n) (m)   (try_deliver_host)
 *   [INFO] Attempting delivery for mx: IP              (3.x)
 *   [ERROR] Ongoing connection failed to IP:PORT : ERR (socket errors;
 *     "socket timeout waiting on rcpt" names the stage)
 *   [PROTOCOL] C: COMMAND    (loglevel PROTOCOL: the command a reply answers)
 * They give the MX host and IP of message-level failures, the stage when
 * the protocol is logged, and the cause behind "Tried all MXs".
 *
 * Recipients: Haraka's unit is the message at one domain (one uuid);
 * its message-level lines (delivered, Temp failing, bouncing) name no
 * recipient, and a message deferred as a whole, then refused at RCPT, then
 * delivered must stay one unit whatever lines fall between.  So every
 * record is keyed by the uuid alone (an empty recipient): the recipients
 * of a message at one domain count as one, and the recipient domain is
 * the one a line names (delivered's domain=, a refused address), handed
 * to the joiner as rcpt_domain for every attempt of the unit.  Recipients
 * refused in one session make one attempt (the first one's reply); a
 * deferral of the whole message in that session adds none, a bounce does.  The keys depend
 * on each line alone, so retries join across chunks and rotated files; the
 * context only adds MX, IP, stage and cause, and losing it (a chunk
 * boundary, a slot taken by another message) loses those, not figures.
 * The retry count comes from the joined attempts (fails= agrees when the
 * log holds the message's whole life).
 */
#include <string.h>
#include <strings.h>

#include "reader_record.h"

static int starts_nocase(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && strncasecmp(p, s, k) == 0;
}

static const char *const levels[] = {"DATA", "PROTOCOL", "DEBUG", "INFO",  "NOTICE",
                                     "WARN", "ERROR",    "CRIT",  "ALERT", "EMERG"};

/* bracket - "[x]" at p[0..n): x as a slice, *used the bytes taken */
static int bracket(const char *p, size_t n, mt_slice *x, size_t *used)
{
    if (n < 2 || p[0] != '[')
        return 0;
    const char *e = memchr(p + 1, ']', n - 1);
    if (e == NULL)
        return 0;
    *x = (mt_slice){p + 1, (size_t)(e - p - 1)};
    *used = (size_t)(e - p) + 1;
    return 1;
}

static int is_level(mt_slice s)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (mt_slice_eq_cstr(s, levels[i]))
            return 1;
    return 0;
}

/* prefix - the offset of "[LEVEL]" after an optional stamp and syslog
 * "host haraka[pid]: " part; 0 with *other set when the line is not a
 * Haraka line.  Sets r->time when there is a stamp. */
static size_t prefix(const char *line, size_t n, mt_yearctx *yc, mt_xrec *r, int *other)
{
    *other = 0;
    if (n && line[0] == '[')
        return 0;
    size_t k = mt_time_parse(line, n, yc, &r->time, &r->usec);
    if (k == 0) {
        *other = 1;
        return 0;
    }
    /* sub-microsecond digits of a longer fraction (poste.io: 9 digits) */
    while (k < n && line[k] >= '0' && line[k] <= '9')
        k++;
    if (k < n && line[k] == 'Z')
        k++;
    while (k < n && line[k] == ' ')
        k++;
    if (k < n && line[k] == '[')
        return k;
    /* syslog: "host prog[pid]: " or "prog[pid]: " */
    size_t lim = n - k < 120 ? n - k : 120;
    const char *colon = mt_find(line + k, lim, ": ");
    if (colon == NULL) {
        *other = 1;
        return 0;
    }
    const char *prog = colon;
    while (prog > line + k && prog[-1] != ' ')
        prog--;
    if (!starts_nocase(prog, (size_t)(colon - prog), "haraka")) {
        *other = 1;
        return 0;
    }
    k = (size_t)(colon - line) + 2;
    while (k < n && line[k] == ' ')
        k++;
    if (k < n && line[k] == '[')
        return k;
    *other = 1;
    return 0;
}

int mt_haraka_probe(const char *line, size_t n)
{
    mt_yearctx yc;
    mt_yearctx_init(&yc, 2000, 0);
    mt_xrec r;
    int other;
    size_t k = prefix(line, n, &yc, &r, &other);
    mt_slice lv, uuid, origin;
    size_t u;
    if (other || !bracket(line + k, n - k, &lv, &u) || !is_level(lv))
        return 0;
    k += u;
    if (k >= n || line[k] != ' ' || !bracket(line + k + 1, n - k - 1, &uuid, &u))
        return 0;
    k += 1 + u;
    return k < n && line[k] == ' ' && bracket(line + k + 1, n - k - 1, &origin, &u);
}

void mt_haraka_ctx_init(mt_haraka_ctx *c)
{
    memset(c, 0, sizeof *c);
}

/* slot - the context kept for uuid (a slot taken over when another uuid
 * held it: the table remembers the recent messages, not all) */
static mt_haraka_slot *slot(mt_haraka_ctx *c, mt_slice uuid)
{
    uint64_t h = mt_hash(uuid.p, uuid.len);
    mt_haraka_slot *s = &c->slot[h % MT_HARAKA_SLOTS];
    if (s->hash != h || s->uuid.len != uuid.len || memcmp(s->uuid.p, uuid.p, uuid.len) != 0) {
        memset(s, 0, sizeof *s);
        s->hash = h;
        s->uuid = uuid;
    }
    return s;
}

static mt_stage command_stage(const char *p, size_t n)
{
    static const struct {
        const char *word;
        mt_stage stage;
    } cmds[] = {{"EHLO", MT_STAGE_HELO},         {"HELO", MT_STAGE_HELO},        {"LHLO", MT_STAGE_HELO},
                {"STARTTLS", MT_STAGE_STARTTLS}, {"MAIL", MT_STAGE_MAIL},        {"RCPT", MT_STAGE_RCPT},
                {"DATA", MT_STAGE_DATA},         {".", MT_STAGE_DATA_END},       {"dot", MT_STAGE_DATA_END},
                {"dot_lmtp", MT_STAGE_DATA_END}, {"connect", MT_STAGE_CONNECT},  {"rcpt", MT_STAGE_RCPT},
                {"mail", MT_STAGE_MAIL},         {"data", MT_STAGE_DATA},        {"ehlo", MT_STAGE_HELO},
                {"helo", MT_STAGE_HELO},         {"starttls", MT_STAGE_STARTTLS}};
    size_t w = 0;
    while (w < n && p[w] != ' ')
        w++;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strlen(cmds[i].word) == w && memcmp(cmds[i].word, p, w) == 0)
            return cmds[i].stage;
    return MT_STAGE_UNKNOWN;
}

/* kv - the value of " KEY=" in p[0..n): "…" quoted (up to the closing
 * quote before the next " key=", or the last quote) or up to a space.
 * *found: 1, 0 absent, -1 an unclosed quote. */
static mt_slice kv(const char *p, size_t n, const char *key, int *found)
{
    const char *k = mt_find(p, n, key);
    *found = k != NULL;
    if (k == NULL)
        return MT_SLICE_NULL;
    const char *v = k + strlen(key), *end = p + n;
    if (v < end && *v == '"') {
        /* response="…" may itself hold quotes: end at the quote that a
         * known next key or the end of the line follows */
        const char *e = NULL;
        for (const char *q = v + 1; q < end; q++) {
            if (*q != '"')
                continue;
            if (q + 1 == end || mt_starts(q + 1, (size_t)(end - q - 1), " delay=") ||
                mt_starts(q + 1, (size_t)(end - q - 1), " host=") ||
                mt_starts(q + 1, (size_t)(end - q - 1), " ip=")) {
                e = q;
                break;
            }
        }
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

static int looks_ip(mt_slice s)
{
    if (s.len == 0 || s.len > 45)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
              c == ':'))
            return 0;
    }
    return 1;
}

/* rcpts - "OK/TEMP/PERM" */
static int rcpts(mt_slice s, long v[3])
{
    size_t i = 0;
    for (int f = 0; f < 3; f++) {
        if (i >= s.len || s.p[i] < '0' || s.p[i] > '9')
            return 0;
        v[f] = 0;
        while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9' && v[f] < 1000000)
            v[f] = v[f] * 10 + (s.p[i++] - '0');
        if (f < 2 && (i >= s.len || s.p[i++] != '/'))
            return 0;
    }
    return i == s.len;
}

static double seconds(mt_slice s)
{
    double v = 0, scale = 0;
    int have = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c >= '0' && c <= '9') {
            if (scale > 0) {
                v += (c - '0') * scale;
                scale /= 10;
            } else {
                v = v * 10 + (c - '0');
            }
            have = 1;
        } else if (c == '.' && scale == 0) {
            scale = 0.1;
        } else {
            return -1;
        }
    }
    return have && v < 1e9 ? v : -1;
}

static void use_slot(mt_xrec *r, const mt_haraka_slot *s)
{
    if (r->mx_host.len == 0)
        r->mx_host = s->mx_host;
    if (r->mx_ip.len == 0)
        r->mx_ip = s->mx_ip;
    if (r->stage == MT_STAGE_UNKNOWN)
        r->stage = s->stage;
}

static int delivered(mt_haraka_slot *s, const char *p, size_t n, mt_xrec *r, const char **why)
{
    int f;
    mt_slice file = kv(p, n, " file=", &f);
    if (f <= 0 || file.len == 0) {
        *why = "haraka: delivered without file=";
        return -1;
    }
    mt_slice host = kv(p, n, " host=", &f);
    if (f < 0) {
        *why = "haraka: unclosed host=\"";
        return -1;
    }
    mt_slice ip = kv(p, n, " ip=", &f);
    mt_slice response = kv(p, n, " response=", &f);
    if (f < 0) {
        *why = "haraka: unclosed response=\"";
        return -1;
    }
    mt_slice delay = kv(p, n, " delay=", &f);
    mt_slice counts = kv(p, n, " rcpts=", &f);
    long c[3] = {-1, 0, 0};
    if (f > 0 && !rcpts(counts, c)) {
        *why = "haraka: rcpts= is not OK/TEMP/PERM";
        return -1;
    }
    r->mx_host = host;
    if (looks_ip(ip))
        r->mx_ip = ip;
    if (response.len)
        mt_xrec_set_reply(r, response);
    r->delay = delay.len ? mt_delay_checked(seconds(delay)) : -1;
    r->status = MT_STATUS_SENT;
    r->stage = MT_STAGE_DATA_END;
    mt_slice domain = kv(p, n, " domain=", &f);
    if (f > 0)
        r->rcpt_domain = domain;
    /* TEMP > 0: a split of this message stays queued under the uuid */
    r->final = c[1] <= 0;
    s->named = 0;
    s->stage = MT_STAGE_UNKNOWN;
    s->last_err = MT_SLICE_NULL;
    return 1;
}

/* failure - a message-level deferral or bounce reason */
static int failure(mt_haraka_slot *s, mt_slice err, int bounce, mt_xrec *r)
{
    int named = s->named;
    s->named = 0;
    if (mt_starts(err.p, err.len, "Some recipients temp failed:") ||
        mt_starts(err.p, err.len, "Some recipients failed:"))
        return 0; /* the session's "recipient <…>" line said it */
    int expired = 0;
    if (bounce && mt_starts(err.p, err.len, "Too many failures (")) {
        err.p += 19;
        err.len -= 19;
        if (err.len && err.p[err.len - 1] == ')')
            err.len--;
        expired = 1;
        if (mt_starts(err.p, err.len, "Some recipients temp failed:") || named) {
            r->kind = MT_XREC_EXPIRED;
            r->expired = 1;
            r->final = 1;
            return 1;
        }
    }
    /* a deferral whose session already made its attempt (a recipient
     * refused, then the message) adds no attempt; a bounce does */
    if (named && !bounce)
        return 0;
    if (mt_starts(err.p, err.len, "Upstream error: ")) {
        err.p += 16;
        err.len -= 16;
    }
    if (mt_starts(err.p, err.len, "Tried all MXs") && s->last_err.len)
        err = s->last_err; /* what went wrong with the last one */
    mt_xrec_set_reply(r, err);
    use_slot(r, s);
    s->stage = MT_STAGE_UNKNOWN;
    s->last_err = MT_SLICE_NULL;
    if (expired) {
        r->status = MT_STATUS_DEFERRED;
        r->expired = 1;
        r->final = 1;
    } else if (bounce) {
        r->status = MT_STATUS_BOUNCED;
        r->final = 1;
    } else {
        r->status = MT_STATUS_DEFERRED;
    }
    return 1;
}

int mt_haraka_parse(mt_haraka_ctx *c, const char *line, size_t n, mt_yearctx *yc, mt_xrec *r,
                    const char **why)
{
    mt_xrec_clear(r);
    int other;
    size_t k = prefix(line, n, yc, r, &other);
    if (other)
        return 2;
    mt_slice lv, uuid, origin;
    size_t u;
    if (!bracket(line + k, n - k, &lv, &u) || !is_level(lv))
        return 2;
    k += u;
    if (k >= n || line[k] != ' ' || !bracket(line + k + 1, n - k - 1, &uuid, &u)) {
        *why = "haraka: no [uuid] after the level";
        return -1;
    }
    k += 1 + u;
    if (k >= n || line[k] != ' ' || !bracket(line + k + 1, n - k - 1, &origin, &u)) {
        *why = "haraka: no [origin] after the uuid";
        return -1;
    }
    k += 1 + u;
    if (!mt_slice_eq_cstr(origin, "outbound"))
        return 0; /* the receiving side, plugins, core */
    while (k < n && line[k] == ' ')
        k++;
    const char *m = line + k;
    size_t mn = n - k;
    int has_uuid = uuid.len && !mt_slice_eq_cstr(uuid, "-");
    int attempt = mt_starts(m, mn, "delivered ") || mt_starts(m, mn, "recipient <") ||
                  mt_starts(m, mn, "Temp failing ") || starts_nocase(m, mn, "bouncing mail: ");
    if (!has_uuid) {
        if (attempt) {
            *why = "haraka: delivery line without a message uuid";
            return -1;
        }
        return 0;
    }
    mt_haraka_slot *s = slot(c, uuid);
    r->queue_id = uuid;
    r->recipient = (mt_slice){"", 0}; /* none named (not NULL: the joiner copies it) */
    if (mt_slice_eq_cstr(lv, "PROTOCOL")) {
        if (mt_starts(m, mn, "C: ")) {
            /* QUIT and RSET follow the failing reply, AUTH data is no
             * command: they leave the stage where it was */
            mt_stage st = command_stage(m + 3, mn - 3);
            if (st != MT_STAGE_UNKNOWN)
                s->stage = st;
        }
        return 0;
    }
    if (mt_starts(m, mn, "Looking up A records for: ") || mt_starts(m, mn, "Looking up AAAA records for: ")) {
        const char *h = memchr(m, ':', mn) + 2;
        s->mx_host = (mt_slice){h, (size_t)(m + mn - h)};
        s->mx_ip = MT_SLICE_NULL;
        return 0;
    }
    if (mt_starts(m, mn, "Attempting to deliver to: ") || mt_starts(m, mn, "Attempting delivery for mx: ")) {
        const char *h = memchr(m, ':', mn) + 2;
        const char *e = m + mn;
        const char *sp = memchr(h, ' ', (size_t)(e - h));
        if (sp)
            e = sp;
        /* "IP:PORT" (IPv6 has more than one colon: leave it whole) */
        const char *c1 = memchr(h, ':', (size_t)(e - h));
        if (c1 && memchr(c1 + 1, ':', (size_t)(e - c1 - 1)) == NULL)
            e = c1;
        s->mx_ip = (mt_slice){h, (size_t)(e - h)};
        s->stage = MT_STAGE_UNKNOWN;
        s->last_err = MT_SLICE_NULL;
        s->named = 0;
        return 0;
    }
    if (mt_starts(m, mn, "Ongoing connection failed to ")) {
        const char *e = mt_find(m, mn, " : ");
        if (e) {
            s->last_err = (mt_slice){e + 3, (size_t)(m + mn - e - 3)};
            const char *w = mt_find(s->last_err.p, s->last_err.len, "waiting on ");
            if (w)
                s->stage = command_stage(w + 11, (size_t)(m + mn - w - 11));
        }
        return 0;
    }
    if (!attempt)
        return 0;
    if (mt_starts(m, mn, "delivered "))
        return delivered(s, m - 1, mn + 1, r, why);
    if (mt_starts(m, mn, "recipient <")) {
        const char *a = m + 11, *end = m + mn;
        const char *gt = memchr(a, '>', (size_t)(end - a));
        if (gt == NULL) {
            *why = "haraka: recipient without <address>";
            return -1;
        }
        mt_slice addr = {a, (size_t)(gt - a)};
        const char *rest = gt + 1;
        size_t rn = (size_t)(end - rest);
        int bounce;
        if (mt_starts(rest, rn, " deferred: "))
            bounce = 0;
        else if (mt_starts(rest, rn, " rejected: "))
            bounce = 1;
        else
            return 0;
        mt_slice reply = {rest + 11, rn - 11};
        if (addr.len == 0) {
            *why = "haraka: recipient <> is empty";
            return -1;
        }
        mt_xrec_set_reply(r, reply);
        if (r->reply_code == 0) {
            *why = "haraka: recipient reply without a code";
            return -1;
        }
        /* one attempt per session: a second recipient refused in the same
         * session is the same attempt of the same unit */
        if (s->named)
            return 0;
        s->named = 1;
        r->rcpt_domain = mt_domain_of(addr.p, addr.len);
        use_slot(r, s);
        /* the reply to RCPT TO (LMTP's per-recipient answers to the end of
         * data log the same words; mailtriage reads remote deliveries) */
        r->stage = MT_STAGE_RCPT;
        r->status = bounce ? MT_STATUS_BOUNCED : MT_STATUS_DEFERRED;
        return 1;
    }
    if (mt_starts(m, mn, "Temp failing ")) {
        const char *e = mt_find(m, mn, " seconds: ");
        if (e == NULL) {
            *why = "haraka: Temp failing without \"seconds: reason\"";
            return -1;
        }
        mt_slice err = {e + 10, (size_t)(m + mn - e - 10)};
        return failure(s, err, 0, r);
    }
    /* bouncing mail: / Bouncing mail: */
    mt_slice err = {m + 15, mn - 15};
    if (err.len == 0) {
        *why = "haraka: bouncing mail without a reason";
        return -1;
    }
    return failure(s, err, 1, r);
}
