/*
 * reader_postfix.c - one Postfix log line into its parts.
 *
 * Line shape:  STAMP HOST SYSLOGNAME/DAEMON[PID]: [QUEUEID: ]PAYLOAD
 * SYSLOGNAME is "postfix" or whatever syslog_name an instance or a
 * master.cf service sets ("postfix-out", "postfix/submission"); DAEMON
 * is the last path component.  Only known Postfix daemons are parsed;
 * other programs' lines are reported as foreign and counted by the caller.
 */
#include "reader_postfix.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Postfix daemons whose lines we recognise, and the few the parser treats
 * specially.  Lines of other "x/y" programs are foreign: never guessed at. */
enum {
    D_NONE = 0,
    D_OTHER, /* a Postfix daemon with nothing special */
    D_SMTP,  /* smtp, lmtp: delivery agents speaking SMTP */
    D_QMGR,
    D_CLEANUP,
    D_BOUNCE,
    D_SMTPD,
    D_PICKUP,
};

static const struct {
    const char *name;
    int id;
} daemons[] = {
    {"smtp", D_SMTP},
    {"lmtp", D_SMTP},
    {"error", D_OTHER},
    {"retry", D_OTHER},
    {"discard", D_OTHER},
    {"qmgr", D_QMGR},
    {"cleanup", D_CLEANUP},
    {"pickup", D_PICKUP},
    {"smtpd", D_SMTPD},
    {"bounce", D_BOUNCE},
    {"postscreen", D_OTHER},
    {"local", D_OTHER},
    {"virtual", D_OTHER},
    {"pipe", D_OTHER},
    {"anvil", D_OTHER},
    {"scache", D_OTHER},
    {"tlsmgr", D_OTHER},
    {"master", D_OTHER},
    {"postdrop", D_OTHER},
    {"sendmail", D_OTHER},
    {"postsuper", D_OTHER},
    {"trivial-rewrite", D_OTHER},
    {"dnsblog", D_OTHER},
    {"tlsproxy", D_OTHER},
    {"postlogd", D_OTHER},
    {"showq", D_OTHER},
    {"flush", D_OTHER},
    {"verify", D_OTHER},
    {"proxymap", D_OTHER},
    {"spawn", D_OTHER},
    {"oqmgr", D_QMGR},
    {"nqmgr", D_QMGR},
    {"postfix-script", D_OTHER},
    {"postqueue", D_OTHER},
    {"postmap", D_OTHER},
    {"postlog", D_OTHER},
    {"qmqpd", D_OTHER},
    {"lmtpd", D_OTHER},
    {"cleanup-dkim", D_OTHER},
    {"policy-spf", D_OTHER},
};

/* daemon_id - which daemon p[0..n) names, D_NONE if not a Postfix one.
 * The commonest names are tested first, the table only after. */
static int daemon_id(const char *p, size_t n)
{
    if (n == 4 && memcmp(p, "smtp", 4) == 0)
        return D_SMTP;
    if (n == 4 && memcmp(p, "qmgr", 4) == 0)
        return D_QMGR;
    if (n == 7 && memcmp(p, "cleanup", 7) == 0)
        return D_CLEANUP;
    if (n == 5 && memcmp(p, "smtpd", 5) == 0)
        return D_SMTPD;
    for (size_t i = 0; i < sizeof daemons / sizeof daemons[0]; i++)
        if (daemons[i].name[0] == p[0] && strlen(daemons[i].name) == n && memcmp(daemons[i].name, p, n) == 0)
            return daemons[i].id;
    return D_NONE;
}

/* comma_space - the first ", " in p[0..n), or NULL (memmem's setup cost
 * dominates for a two-byte needle on short fields). */
static const char *comma_space(const char *p, size_t n)
{
    const char *end = p + n;
    while ((p = memchr(p, ',', (size_t)(end - p))) != NULL) {
        if (p + 1 < end && p[1] == ' ')
            return p;
        p++;
    }
    return NULL;
}

/* is_queue_id - short ids are upper-case hex; long ids mix digits and
 * lower-case letters.  Words such as "warning" or "NOQUEUE" are neither. */
static int is_queue_id(const char *p, size_t n)
{
    /* character classes: 1 digit, 2 upper-case hex letter, 4 other
     * upper-case letter, 8 lower-case letter; 0 anything else */
    static const unsigned char cls[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
        ['9'] = 1, ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2, ['G'] = 4, ['H'] = 4,
        ['I'] = 4, ['J'] = 4, ['K'] = 4, ['L'] = 4, ['M'] = 4, ['N'] = 4, ['O'] = 4, ['P'] = 4, ['Q'] = 4,
        ['R'] = 4, ['S'] = 4, ['T'] = 4, ['U'] = 4, ['V'] = 4, ['W'] = 4, ['X'] = 4, ['Y'] = 4, ['Z'] = 4,
        ['a'] = 8, ['b'] = 8, ['c'] = 8, ['d'] = 8, ['e'] = 8, ['f'] = 8, ['g'] = 8, ['h'] = 8, ['i'] = 8,
        ['j'] = 8, ['k'] = 8, ['l'] = 8, ['m'] = 8, ['n'] = 8, ['o'] = 8, ['p'] = 8, ['q'] = 8, ['r'] = 8,
        ['s'] = 8, ['t'] = 8, ['u'] = 8, ['v'] = 8, ['w'] = 8, ['x'] = 8, ['y'] = 8, ['z'] = 8,
    };
    if (n < 5 || n > 24)
        return 0;
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = cls[(unsigned char)p[i]];
        if (c == 0)
            return 0;
        seen |= c;
    }
    /* short ids: digits and A-F only; long ids: digits and lower case */
    return (seen & ~3u) == 0 || ((seen & 1) && (seen & 8));
}

int mt_reply_code_enhanced(const char *s, size_t n, char enh[16])
{
    enh[0] = '\0';
    if (n < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
        (n > 3 && s[3] != ' ' && s[3] != '-'))
        return 0;
    int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    size_t k = 4;
    /* the usual "250 2.0.0 …": five bytes of one-digit parts, read
     * straight (the loops below give the same for it) */
    if (n >= 9 && (s[4] == '2' || s[4] == '4' || s[4] == '5') && s[5] == '.' && s[6] >= '0' && s[6] <= '9' &&
        s[7] == '.' && s[8] >= '0' && s[8] <= '9' && (n == 9 || s[9] == ' ' || s[9] == ',' || s[9] == ';')) {
        memcpy(enh, s + 4, 5);
        enh[5] = '\0';
        return code;
    }
    if (n > k && (s[k] == '2' || s[k] == '4' || s[k] == '5') && n > k + 1 && s[k + 1] == '.') {
        size_t e = k + 2, d1 = 0, d2 = 0;
        while (e < n && s[e] >= '0' && s[e] <= '9' && d1 < 3) {
            e++;
            d1++;
        }
        if (d1 && e < n && s[e] == '.') {
            e++;
            while (e < n && s[e] >= '0' && s[e] <= '9' && d2 < 3) {
                e++;
                d2++;
            }
            if (d2 && (e == n || s[e] == ' ' || s[e] == ',' || s[e] == ';') && e - k < 16) {
                memcpy(enh, s + k, e - k);
                enh[e - k] = '\0';
            }
        }
    }
    return code;
}

mt_stage mt_stage_from_command(const char *s, size_t n)
{
    /* s starts at the command words: "end of DATA command)", "RCPT TO
     * command)", or, after "while ", "sending RCPT TO", "receiving the
     * initial server greeting", "performing the EHLO handshake".  Leading
     * verbs are skipped, then the words are matched as a prefix: this runs
     * for every failed attempt, so no substring searches. */
    static const char *const lead[] = {"in reply to ",    "sending ",   "receiving the ",
                                       "performing the ", "receiving ", NULL};
    for (int i = 0; lead[i]; i++) {
        size_t l = strlen(lead[i]);
        if (n >= l && memcmp(s, lead[i], l) == 0) {
            s += l;
            n -= l;
        }
    }
    static const struct {
        const char *word;
        mt_stage stage;
    } map[] = {
        {"end of DATA", MT_STAGE_DATA_END},
        {"end of data", MT_STAGE_DATA_END},
        {"message body", MT_STAGE_DATA_END},
        {"BDAT", MT_STAGE_DATA_END},
        {"RCPT", MT_STAGE_RCPT},
        {"MAIL", MT_STAGE_MAIL},
        {"DATA", MT_STAGE_DATA},
        {"STARTTLS", MT_STAGE_STARTTLS},
        {"TLS", MT_STAGE_STARTTLS},
        {"EHLO", MT_STAGE_HELO},
        {"HELO", MT_STAGE_HELO},
        {"LHLO", MT_STAGE_HELO},
        {"XFORWARD", MT_STAGE_HELO},
        {"XCLIENT", MT_STAGE_HELO},
        {"AUTH", MT_STAGE_HELO},
        {"initial server greeting", MT_STAGE_GREETING},
        {"server greeting", MT_STAGE_GREETING},
        {"QUIT", MT_STAGE_QUIT},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t l = strlen(map[i].word);
        if (n >= l && memcmp(s, map[i].word, l) == 0)
            return map[i].stage;
    }
    return MT_STAGE_UNKNOWN;
}

/* last_in_reply - the last " (in reply to " in p[0..n), scanning back from
 * the end, where Postfix puts it. */
static const char *last_in_reply(const char *p, size_t n)
{
    static const char tag[] = " (in reply to ";
    const size_t tl = sizeof tag - 1;
    for (size_t i = n; i >= tl; i--) {
        if (p[i - tl + 1] == '(' && memcmp(p + i - tl, tag, tl) == 0)
            return p + i - tl;
    }
    return NULL;
}

/* host_ip - parse "HOST[IP]" at p; sets host and ip, returns the length
 * consumed or 0. */
static size_t host_ip(const char *p, size_t n, mt_slice *host, mt_slice *ip)
{
    const char *lb = memchr(p, '[', n);
    if (lb == NULL || lb == p)
        return 0;
    for (const char *q = p; q < lb; q++)
        if (*q == ' ' || *q == ',')
            return 0;
    const char *rb = memchr(lb, ']', n - (size_t)(lb - p));
    if (rb == NULL)
        return 0;
    *host = (mt_slice){p, (size_t)(lb - p)};
    *ip = (mt_slice){lb + 1, (size_t)(rb - lb - 1)};
    return (size_t)(rb - p) + 1;
}

void mt_pf_set_reply(mt_pf_line *o, const char *p, size_t n)
{
    while (n && (p[n - 1] == ' '))
        n--;
    o->reply = (mt_slice){p, n};
    char enh[16];
    o->reply_code = mt_reply_code_enhanced(p, n, enh);
    if (enh[0])
        memcpy(o->enhanced, enh, sizeof enh);
}

void mt_pf_parse_reason(mt_slice reason, mt_pf_line *o)
{
    const char *p = reason.p;
    size_t n = reason.len;
    o->reply = reason;
    o->reply_code = 0;
    o->stage = MT_STAGE_UNKNOWN;
    if (n == 0)
        return;

    /* a bare reply, as in status=sent (250 2.0.0 Ok: queued as X): the
     * commonest reason of all, so tested first */
    if (p[0] >= '2' && p[0] <= '5') {
        char enh[16];
        if (mt_reply_code_enhanced(p, n, enh)) {
            mt_pf_set_reply(o, p, n);
            if (o->reply_code >= 200 && o->reply_code < 300)
                o->stage = MT_STAGE_DATA_END;
            return;
        }
    }
    /* "delivery temporarily suspended: <the earlier reason>" */
    if (mt_starts(p, n, "delivery temporarily suspended: ")) {
        size_t k = strlen("delivery temporarily suspended: ");
        mt_pf_parse_reason((mt_slice){p + k, n - k}, o);
        o->reply = reason;
        return;
    }
    if (mt_starts(p, n, "host ")) {
        mt_slice h, ip;
        size_t k = 5;
        size_t used = host_ip(p + k, n - k, &h, &ip);
        if (used) {
            o->mx_host = h;
            o->mx_ip = ip;
            k += used;
            if (mt_starts(p + k, n - k, " said: ")) {
                k += 7;
                /* the last "(in reply to" names the command */
                const char *irt = last_in_reply(p + k, n - k);
                size_t end = irt ? (size_t)(irt - p) : n;
                mt_pf_set_reply(o, p + k, end - k);
                if (irt)
                    o->stage = mt_stage_from_command(irt + 2, n - (size_t)(irt + 2 - p));
                return;
            }
            if (mt_starts(p + k, n - k, " refused to talk to me: ")) {
                k += strlen(" refused to talk to me: ");
                mt_pf_set_reply(o, p + k, n - k);
                o->stage = MT_STAGE_GREETING;
                return;
            }
        }
        return;
    }
    if (mt_starts(p, n, "lost connection with ") || mt_starts(p, n, "conversation with ")) {
        size_t k = p[0] == 'l' ? strlen("lost connection with ") : strlen("conversation with ");
        mt_slice h, ip;
        size_t used = host_ip(p + k, n - k, &h, &ip);
        if (used) {
            o->mx_host = h;
            o->mx_ip = ip;
        }
        const char *w = mt_find(p, n, " while ");
        if (w) {
            const char *c = w + 7;
            o->stage = mt_stage_from_command(c, n - (size_t)(c - p));
        }
        return;
    }
    if (mt_starts(p, n, "connect to ")) {
        size_t k = strlen("connect to ");
        mt_slice h, ip;
        if (host_ip(p + k, n - k, &h, &ip)) {
            o->mx_host = h;
            o->mx_ip = ip;
        }
        o->stage = MT_STAGE_CONNECT;
        return;
    }
    if (mt_starts(p, n, "Host or domain name not found") || mt_starts(p, n, "Name service error") ||
        mt_find(p, n, "Network is unreachable") || mt_find(p, n, "No route to host")) {
        o->stage = MT_STAGE_CONNECT;
        return;
    }
    if (mt_find(p, n, "TLS is required") || mt_find(p, n, "Cannot start TLS") ||
        mt_find(p, n, "TLS handshake") || mt_find(p, n, "certificate verification failed") ||
        mt_find(p, n, "Server certificate not")) {
        mt_slice h, ip;
        const char *hp = mt_find(p, n, "host ");
        if (hp) {
            size_t k = (size_t)(hp - p) + 5;
            if (host_ip(p + k, n - k, &h, &ip)) {
                o->mx_host = h;
                o->mx_ip = ip;
            }
        }
        o->stage = MT_STAGE_STARTTLS;
        return;
    }
}

/* parse_double - Postfix's delay= values: digits, an optional fraction,
 * now and then an exponent ("4e+05"); strtod only for the odd ones. */
static double parse_double(const char *p, size_t n)
{
    double v = 0;
    size_t i = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        v = v * 10 + (p[i++] - '0');
    if (i < n && p[i] == '.') {
        double scale = 0.1;
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, scale /= 10)
            v += (p[i] - '0') * scale;
    }
    if (i == n && n > 0)
        return v;
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    v = strtod(tmp, &end);
    if (end == tmp || v < 0)
        return -1;
    return v;
}

static int64_t parse_int(const char *p, size_t n)
{
    int64_t v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* angle - at p (which starts with '<'), the address up to the '>' that is
 * followed by ',' or the end; returns bytes consumed, or 0. */
static size_t angle(const char *p, size_t n, mt_slice *out)
{
    if (n == 0 || p[0] != '<')
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (p[i] == '>' && (i + 1 == n || p[i + 1] == ',' || p[i + 1] == ' ')) {
            *out = (mt_slice){p + 1, i - 1};
            return i + 1;
        }
    }
    return 0;
}

static mt_status status_of(const char *p, size_t n, int *ok)
{
    *ok = 1;
    if (n == 4 && memcmp(p, "sent", 4) == 0)
        return MT_STATUS_SENT;
    if (n == 8 && memcmp(p, "deferred", 8) == 0)
        return MT_STATUS_DEFERRED;
    if (n == 7 && memcmp(p, "bounced", 7) == 0)
        return MT_STATUS_BOUNCED;
    if (n == 13 && memcmp(p, "undeliverable", 13) == 0)
        return MT_STATUS_BOUNCED;
    if (n == 7 && memcmp(p, "expired", 7) == 0)
        return MT_STATUS_EXPIRED;
    if (n == 11 && memcmp(p, "deliverable", 11) == 0)
        return MT_STATUS_SENT;
    *ok = 0;
    return MT_STATUS_DEFERRED;
}

static mt_pf_kind malformed(mt_pf_line *o, const char *why)
{
    o->why = why;
    return o->kind = MT_PF_MALFORMED;
}

static mt_pf_kind parse_delivery(const char *p, size_t n, mt_pf_line *o, int daemon)
{
    size_t k = 3; /* "to=" */
    size_t used = angle(p + k, n - k, &o->to);
    if (!used)
        return malformed(o, "delivery line: bad to=<address>");
    k += used;
    int have_status = 0;
    while (k < n) {
        if (!mt_starts(p + k, n - k, ", "))
            return malformed(o, "delivery line: expected ', '");
        k += 2;
        const char *f = p + k;
        size_t fn = n - k;
        if (mt_starts(f, fn, "orig_to=")) {
            used = angle(f + 8, fn - 8, &o->orig_to);
            if (!used)
                return malformed(o, "delivery line: bad orig_to=");
            k += 8 + used;
            continue;
        }
        if (mt_starts(f, fn, "status=")) {
            const char *w = f + 7;
            size_t wn = 0;
            while (7 + wn < fn && w[wn] != ' ' && w[wn] != ',')
                wn++;
            int ok;
            o->status = status_of(w, wn, &ok);
            if (!ok)
                return malformed(o, "delivery line: unknown status= word");
            have_status = 1;
            const char *r = w + wn;
            size_t rn = fn - 7 - wn;
            if (rn >= 2 && r[0] == ' ' && r[1] == '(') {
                size_t end = rn;
                while (end > 2 && r[end - 1] != ')')
                    end--;
                if (r[end - 1] == ')' && end > 2)
                    o->reason = (mt_slice){r + 2, end - 3};
                else
                    o->reason = (mt_slice){r + 2, rn - 2}; /* truncated line */
            }
            break;
        }
        const char *comma = comma_space(f, fn);
        size_t vlen = comma ? (size_t)(comma - f) : fn;
        const char *eq = memchr(f, '=', vlen);
        if (eq == NULL)
            return malformed(o, "delivery line: field without '='");
        size_t kl = (size_t)(eq - f);
        mt_slice v = {eq + 1, vlen - kl - 1};
        if (kl == 5 && memcmp(f, "relay", 5) == 0)
            o->relay = v;
        else if (kl == 5 && memcmp(f, "delay", 5) == 0)
            o->delay = mt_delay_checked(parse_double(v.p, v.len));
        else if (kl == 3 && memcmp(f, "dsn", 3) == 0)
            o->dsn = v;
        else if (kl == 3 && memcmp(f, "tls", 3) == 0)
            o->tls = v;
        /* delays=, conn_use=, and fields of later versions: ignored */
        k += vlen;
    }
    if (!have_status)
        return malformed(o, "delivery line: no status=");
    /* relay=host[ip]:port gives the MX when the reason does not */
    mt_pf_parse_reason(o->reason, o);
    if (o->mx_host.len == 0 && o->relay.len && !mt_slice_eq_cstr(o->relay, "none")) {
        mt_slice h, ip;
        if (host_ip(o->relay.p, o->relay.len, &h, &ip)) {
            o->mx_host = h;
            o->mx_ip = ip;
        } else {
            o->mx_host = o->relay; /* "local", "dovecot", a socket path */
        }
    }
    if (o->enhanced[0] == '\0' && o->dsn.len > 0 && o->dsn.len < sizeof o->enhanced) {
        memcpy(o->enhanced, o->dsn.p, o->dsn.len);
        o->enhanced[o->dsn.len] = '\0';
    }
    if (o->status == MT_STATUS_SENT && o->stage == MT_STAGE_UNKNOWN && daemon == D_SMTP)
        o->stage = MT_STAGE_DATA_END;
    return o->kind = MT_PF_DELIVERY;
}

static mt_pf_kind parse_qmgr_from(const char *p, size_t n, mt_pf_line *o)
{
    size_t k = 5; /* "from=" */
    size_t used = angle(p + k, n - k, &o->from);
    if (!used) {
        /* "from=<a@b>>" appears in the wild; take up to the last '>' before ',' */
        const char *c = mt_find(p + k, n - k, ", ");
        if (c == NULL || p[k] != '<')
            return malformed(o, "qmgr line: bad from=<address>");
        o->from = (mt_slice){p + k + 1, (size_t)(c - (p + k + 1))};
        while (o->from.len && o->from.p[o->from.len - 1] == '>')
            o->from.len--;
        used = (size_t)(c - (p + k));
    }
    k += used;
    const char *rest = p + k;
    size_t rn = n - k;
    if (mt_starts(rest, rn, ", status=expired"))
        return o->kind = MT_PF_QMGR_EXPIRED;
    const char *s = mt_starts(rest, rn, ", size=") ? rest + 2 : NULL;
    if (s) {
        size_t sl = 0;
        const char *v = s + 5;
        while (v + sl < p + n && v[sl] >= '0' && v[sl] <= '9')
            sl++;
        o->size = parse_int(v, sl);
        const char *r = v + sl;
        if (mt_starts(r, (size_t)(p + n - r), ", nrcpt=")) {
            size_t rl = 0;
            v = r + 8;
            while (v + rl < p + n && v[rl] >= '0' && v[rl] <= '9')
                rl++;
            o->nrcpt = (int)parse_int(v, rl);
        }
    }
    if (s == NULL)
        return o->kind = MT_PF_IGNORED; /* e.g. "status=…" variants we do not use */
    return o->kind = MT_PF_QMGR_FROM;
}

/* parse_header - "info: header NAME: VALUE from CLIENT; from=<…> to=<…> …" */
static mt_pf_kind parse_header(const char *p, size_t n, mt_pf_line *o)
{
    const char *h = n > 24 ? memchr(p, ':', 16) : NULL;
    if (h == NULL || memcmp(h, ": header ", 9) != 0)
        return o->kind = MT_PF_IGNORED; /* "info: body …" and others */
    const char *name = h + 9;
    const char *end = p + n;
    const char *colon = memchr(name, ':', (size_t)(end - name));
    if (colon == NULL)
        return malformed(o, "header_checks line: no header name");
    o->header_name = (mt_slice){name, (size_t)(colon - name)};
    const char *v = colon + 1;
    while (v < end && *v == ' ')
        v++;
    /* the value ends at " from CLIENT; from=<": scan back for the last
     * "; from=<", then back from there for " from " */
    const char *semi = NULL;
    for (const char *q = end; (q = memrchr(v, ';', (size_t)(q - v))) != NULL;) {
        if ((size_t)(end - q) >= 8 && memcmp(q, "; from=<", 8) == 0) {
            semi = q;
            break;
        }
    }
    const char *vend = end;
    if (semi) {
        vend = semi;
        for (const char *q = semi; (q = memrchr(v, ' ', (size_t)(q - v))) != NULL;) {
            if ((size_t)(semi - q) >= 6 && memcmp(q, " from ", 6) == 0) {
                vend = q;
                break;
            }
        }
    }
    o->header_value = (mt_slice){v, (size_t)(vend - v)};
    return o->kind = MT_PF_HEADER;
}

/* Eight bytes a step, where the byte order allows: a flag function marks
 * (in a byte's high bits) the bytes that stop a scan, without carries
 * across bytes, so the lowest flag is the first stop. */
typedef uint64_t (*stop_flags)(uint64_t w);

/* a byte equal to c is a zero byte of w ^ c, found by the classic borrow
 * test, whose lowest flag is always exact */
static uint64_t program_stops(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t a = w ^ (ones * '['), b = w ^ (ones * ':'), c = w ^ (ones * ' ');
    return (((a - ones) & ~a) | ((b - ones) & ~b) | ((c - ones) & ~c)) & 0x8080808080808080ULL;
}

/* a byte is a digit when its high nibble is 3 and its low nibble plus 6
 * does not carry into the high one */
static uint64_t non_digits(uint64_t w)
{
    const uint64_t highs = 0xf0f0f0f0f0f0f0f0ULL, lows = 0x0f0f0f0f0f0f0f0fULL;
    return ((w & highs) ^ 0x3030303030303030ULL) | (((w & lows) + 0x0606060606060606ULL) & highs);
}

/* words_end - the index of the first stop in the whole words of s[0..n),
 * else where they end: the caller finishes the scan from there */
static inline size_t words_end(const char *s, size_t n, stop_flags flags)
{
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t m = flags(w);
        if (m)
            return i + (size_t)(__builtin_ctzll(m) >> 3);
    }
#else
    (void)s;
    (void)n;
    (void)flags;
#endif
    return i;
}

/* program_end - the index of the first '[', ':' or ' ' in s[0..n), or n. */
static size_t program_end(const char *s, size_t n)
{
    size_t i = words_end(s, n, program_stops);
    for (; i < n; i++)
        if (s[i] == '[' || s[i] == ':' || s[i] == ' ')
            break;
    return i;
}

/* digits_end - the index of the first byte of s[0..n) that is not an ASCII
 * digit, or n. */
static size_t digits_end(const char *s, size_t n)
{
    size_t i = words_end(s, n, non_digits);
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

mt_pf_kind mt_pf_parse(const char *line, size_t n, mt_yearctx *yc, mt_pf_line *o)
{
    /* Only the common fields are set for every line; the rest is cleared
     * once the line is known to carry a queue id (most lines do not, and
     * clearing the whole struct per line showed up in profiles). */
    o->why = NULL;
    o->host = o->program = o->daemon = o->queue_id = MT_SLICE_NULL;
    size_t k = mt_time_parse(line, n, yc, &o->time, &o->usec);
    if (k == 0)
        return malformed(o, "no timestamp");
    if (k >= n || line[k] != ' ')
        return malformed(o, "nothing after the timestamp");
    k++;
    /* host */
    const char *hs = line + k;
    const char *sp = memchr(hs, ' ', n - k);
    if (sp == NULL || sp == hs)
        return malformed(o, "no host name");
    o->host = (mt_slice){hs, (size_t)(sp - hs)};
    k = (size_t)(sp - line) + 1;
    /* program[pid]: */
    const char *ps = line + k;
    size_t pn = program_end(ps, n - k);
    if (pn == 0 || k + pn >= n)
        return malformed(o, "no program name");
    o->program = (mt_slice){ps, pn};
    const char *slash = memrchr(ps, '/', pn);
    if (slash == NULL)
        return o->kind = MT_PF_FOREIGN;
    o->daemon = (mt_slice){slash + 1, (size_t)(ps + pn - slash - 1)};
    int did = daemon_id(o->daemon.p, o->daemon.len);
    if (did == D_NONE)
        return o->kind = MT_PF_FOREIGN;
    k += pn;
    if (line[k] == '[') {
        size_t j = k + 1 + digits_end(line + k + 1, n - k - 1);
        if (j == k + 1 || j >= n || line[j] != ']')
            return malformed(o, "bad [pid]");
        k = j + 1;
    }
    if (k + 1 >= n || line[k] != ':' || line[k + 1] != ' ')
        return malformed(o, "no ': ' after the program name");
    k += 2;
    const char *p = line + k;
    size_t rn = n - k;
    /* queue id */
    const char *c = memchr(p, ':', rn < 26 ? rn : 26);
    if (c == NULL || (size_t)(c - p) + 1 >= rn || c[1] != ' ' || !is_queue_id(p, (size_t)(c - p)))
        return o->kind = MT_PF_IGNORED; /* connect/disconnect, NOQUEUE, warnings, … */
    o->queue_id = (mt_slice){p, (size_t)(c - p)};
    p = c + 2;
    rn = n - (size_t)(p - line);
    /* clear the line's own group of fields (see mt_pf_line's layout) */
    if (mt_starts(p, rn, "to=<")) {
        memset(&o->to, 0, offsetof(mt_pf_line, from) - offsetof(mt_pf_line, to));
        o->delay = -1;
        return parse_delivery(p, rn, o, did);
    }
    memset(&o->from, 0, sizeof *o - offsetof(mt_pf_line, from));
    o->size = -1;
    o->nrcpt = -1;
    if (did == D_QMGR) {
        if (rn == 7 && memcmp(p, "removed", 7) == 0)
            return o->kind = MT_PF_REMOVED;
        if (mt_starts(p, rn, "from=<"))
            return parse_qmgr_from(p, rn, o);
        return o->kind = MT_PF_IGNORED;
    }
    if (did == D_CLEANUP) {
        if (mt_starts(p, rn, "message-id=")) {
            const char *v = p + 11;
            size_t vn = rn - 11;
            if (vn >= 2 && v[0] == '<' && v[vn - 1] == '>')
                o->message_id = (mt_slice){v + 1, vn - 2};
            else
                o->message_id = (mt_slice){v, vn};
            return o->kind = MT_PF_MESSAGE_ID;
        }
        return parse_header(p, rn, o);
    }
    if (did == D_BOUNCE) {
        const char *nt = mt_find(p, rn, "notification: ");
        if (nt) {
            const char *q = nt + 14;
            size_t qn = rn - (size_t)(q - p);
            if (is_queue_id(q, qn)) {
                o->new_queue_id = (mt_slice){q, qn};
                return o->kind = MT_PF_BOUNCE_NOTICE;
            }
        }
        return o->kind = MT_PF_IGNORED;
    }
    if (did == D_SMTPD && mt_starts(p, rn, "client="))
        return o->kind = MT_PF_CLIENT;
    if (did == D_PICKUP && mt_find(p, rn, "from=<"))
        return o->kind = MT_PF_CLIENT;
    return o->kind = MT_PF_IGNORED;
}
