/*
 * msgcheck_headers.c - header sanity: From, Date, Message-ID,
 * MIME-Version, Subject, List-Unsubscribe(-Post), Reply-To, envelope vs
 * header From, duplicated singleton fields.
 */
#include <gmime/gmime.h>
#include <string.h>
#include <strings.h>

#include "msgcheck.h"

/* the one-line whys are cut to their buffers on purpose */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAM "headers"

/* the field's value unfolded and trimmed into out */
static void value_of(const mt_hfield *f, char *out, size_t outlen)
{
    size_t j = 0;
    for (size_t i = 0; i < f->value.len && j + 1 < outlen; i++) {
        char c = f->value.p[i];
        if (c == '\r' || c == '\n')
            continue;
        out[j++] = c == '\t' ? ' ' : c;
    }
    out[j] = '\0';
    size_t s = 0;
    while (out[s] == ' ')
        s++;
    if (s)
        memmove(out, out + s, j - s + 1);
    j = strlen(out);
    while (j > 0 && out[j - 1] == ' ')
        out[--j] = '\0';
}

/* the one mailbox of an address header: 1 and its address, 0 none, -1
 * several, -2 unparseable */
static int one_mailbox(const char *value, char *addr, size_t addrlen)
{
    addr[0] = '\0';
    InternetAddressList *l = internet_address_list_parse(NULL, value);
    if (l == NULL)
        return -2;
    int n = internet_address_list_length(l), found = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_GROUP(a)) {
            InternetAddressList *g = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
            found += 2 + (g ? internet_address_list_length(g) : 0); /* a group is never "one mailbox" */
            continue;
        }
        const char *s = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
        if (found == 0 && s)
            snprintf(addr, addrlen, "%s", s);
        found++;
    }
    g_object_unref(l);
    if (found == 0)
        rc = n == 0 ? -2 : 0;
    else if (found > 1)
        rc = -1;
    else
        rc = 1;
    return rc;
}

static const char *domain_part(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

static int domain_ok(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 253 || strchr(d, '.') == NULL || d[0] == '.' || d[n - 1] == '.')
        return d[0] == '[' && d[n - 1] == ']'; /* an address literal */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (!(c == '-' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || c >= 0x80))
            return 0;
    }
    return 1;
}

static void check_from(const mt_message *m, mt_checklist *out)
{
    size_t n = mt_message_header_count(m, "From");
    if (n == 0) {
        mt_checklist_add(out, FAM, "headers-from", MT_CHECK_FAIL, "no From header (RFC 5322 requires one)");
        return;
    }
    char v[1024], addr[512];
    value_of(mt_message_header_first(m, "From"), v, sizeof v);
    int r = one_mailbox(v, addr, sizeof addr);
    if (n > 1)
        mt_checklist_add(out, FAM, "headers-from", MT_CHECK_FAIL,
                         "%zu From headers: receivers (and DMARC) refuse", n);
    else if (r == -1)
        mt_checklist_add(out, FAM, "headers-from", MT_CHECK_FAIL,
                         "From holds several mailboxes or a group: DMARC receivers refuse it");
    else if (r <= 0 || strchr(addr, '@') == NULL)
        mt_checklist_add(out, FAM, "headers-from", MT_CHECK_FAIL, "From \"%.100s\" is not a valid mailbox",
                         v);
    else if (!domain_ok(domain_part(addr)))
        mt_checklist_add(out, FAM, "headers-from", MT_CHECK_FAIL,
                         "From domain \"%.100s\" is not a valid domain", domain_part(addr));
    else
        mt_checklist_add(out, FAM, "headers-from", MT_CHECK_PASS, "one mailbox, domain %s",
                         domain_part(addr));
}

static void check_date(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    const mt_hfield *f = mt_message_header_first(m, "Date");
    if (f == NULL) {
        mt_checklist_add(out, FAM, "headers-date", MT_CHECK_FAIL, "no Date header (RFC 5322 requires one)");
        return;
    }
    char v[256];
    value_of(f, v, sizeof v);
    GDateTime *dt = g_mime_utils_header_decode_date(v);
    if (dt == NULL) {
        mt_checklist_add(out, FAM, "headers-date", MT_CHECK_FAIL,
                         "Date \"%.80s\" does not parse as an RFC 5322 date", v);
        return;
    }
    long long t = (long long)g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    if (o->now > 0 && t > (long long)o->now + 86400)
        mt_checklist_add(out, FAM, "headers-date", MT_CHECK_WARN,
                         "Date \"%.80s\" is %lld hour(s) in the future", v, (t - (long long)o->now) / 3600);
    else
        mt_checklist_add(out, FAM, "headers-date", MT_CHECK_PASS, "%.80s", v);
}

static void check_message_id(const mt_message *m, mt_checklist *out)
{
    const mt_hfield *f = mt_message_header_first(m, "Message-ID");
    if (f == NULL) {
        mt_checklist_add(out, FAM, "headers-message-id", MT_CHECK_FAIL,
                         "no Message-ID (Gmail and others defer or refuse such mail)");
        return;
    }
    char v[1024];
    value_of(f, v, sizeof v);
    size_t n = strlen(v);
    const char *at = strchr(v, '@');
    int ok = n >= 5 && v[0] == '<' && v[n - 1] == '>' && at && at > v + 1 && at < v + n - 2 &&
             strchr(at + 1, '@') == NULL && strpbrk(v, " \t<>") == v && strchr(v + 1, '<') == NULL &&
             strchr(v, ' ') == NULL && strchr(v, '>') == v + n - 1;
    if (!ok)
        mt_checklist_add(out, FAM, "headers-message-id", MT_CHECK_FAIL,
                         "Message-ID \"%.100s\" is not <left@right>", v);
    else
        mt_checklist_add(out, FAM, "headers-message-id", MT_CHECK_PASS, "%.120s", v);
}

static void check_mime_version(const mt_message *m, mt_checklist *out)
{
    const mt_hfield *f = mt_message_header_first(m, "MIME-Version");
    int mime =
        mt_message_header_count(m, "Content-Type") || mt_message_header_count(m, "Content-Transfer-Encoding");
    if (f == NULL) {
        if (mime)
            mt_checklist_add(
                out, FAM, "headers-mime-version", MT_CHECK_FAIL,
                "Content-Type given without MIME-Version: 1.0: receivers may read it as plain RFC 822");
        else
            mt_checklist_add(out, FAM, "headers-mime-version", MT_CHECK_NA, "not a MIME message");
        return;
    }
    char v[128];
    value_of(f, v, sizeof v);
    char *paren = strchr(v, '(');
    if (paren)
        *paren = '\0';
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == ' ')
        v[--n] = '\0';
    if (strcmp(v, "1.0") == 0)
        mt_checklist_add(out, FAM, "headers-mime-version", MT_CHECK_PASS, "MIME-Version: 1.0");
    else
        mt_checklist_add(out, FAM, "headers-mime-version", MT_CHECK_FAIL,
                         "MIME-Version \"%.40s\" (must be 1.0)", v);
}

static void check_subject(const mt_message *m, mt_checklist *out)
{
    const mt_hfield *f = mt_message_header_first(m, "Subject");
    if (f == NULL) {
        mt_checklist_add(out, FAM, "headers-subject", MT_CHECK_WARN, "no Subject (spam filters score this)");
        return;
    }
    size_t hi = 0;
    for (size_t i = 0; i < f->value.len; i++)
        hi += (unsigned char)f->value.p[i] >= 0x80;
    char why[256];
    char v[2048];
    value_of(f, v, sizeof v);
    if (v[0] == '\0')
        mt_checklist_add(out, FAM, "headers-subject", MT_CHECK_WARN, "empty Subject");
    else if (hi)
        mt_checklist_add(out, FAM, "headers-subject", MT_CHECK_FAIL,
                         "%zu raw 8-bit byte(s) in Subject: encode it with RFC 2047 (=?UTF-8?B?...?=)", hi);
    else if (mt_rfc2047_problem(v, strlen(v), why, sizeof why))
        mt_checklist_add(out, FAM, "headers-subject", MT_CHECK_FAIL, "Subject: %s", why);
    else
        mt_checklist_add(out, FAM, "headers-subject", MT_CHECK_PASS, "%s",
                         strstr(v, "=?") ? "RFC 2047 encoded words well formed" : "plain ASCII");
}

static int is_bulk(const mt_message *m)
{
    const mt_hfield *p = mt_message_header_first(m, "Precedence");
    if (p) {
        char v[64];
        value_of(p, v, sizeof v);
        if (!strcasecmp(v, "bulk") || !strcasecmp(v, "list") || !strcasecmp(v, "junk"))
            return 1;
    }
    return mt_message_header_count(m, "List-Id") > 0 || mt_message_header_count(m, "List-Unsubscribe") > 0 ||
           mt_message_header_count(m, "Feedback-ID") > 0;
}

static void check_list_unsubscribe(const mt_message *m, mt_checklist *out)
{
    const mt_hfield *lu = mt_message_header_first(m, "List-Unsubscribe");
    const mt_hfield *post = mt_message_header_first(m, "List-Unsubscribe-Post");
    if (lu == NULL) {
        if (is_bulk(m))
            mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_FAIL,
                             "bulk mail (Precedence/List-Id/Feedback-ID) without List-Unsubscribe");
        else if (post)
            mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_FAIL,
                             "List-Unsubscribe-Post without List-Unsubscribe");
        else
            mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_NA,
                             "no sign of bulk mail, no List-Unsubscribe");
        return;
    }
    char v[2048];
    value_of(lu, v, sizeof v);
    int https = 0, mailto = 0, other = 0, uris = 0;
    for (const char *p = v; (p = strchr(p, '<')) != NULL;) {
        const char *e = strchr(p, '>');
        if (e == NULL)
            break;
        uris++;
        if (!strncasecmp(p + 1, "https:", 6))
            https++;
        else if (!strncasecmp(p + 1, "mailto:", 7))
            mailto++;
        else
            other++;
        p = e + 1;
    }
    if (uris == 0) {
        mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_FAIL,
                         "List-Unsubscribe holds no <URI> (RFC 2369 wants angle brackets)");
        return;
    }
    if (post) {
        char pv[256];
        value_of(post, pv, sizeof pv);
        if (strcmp(pv, "List-Unsubscribe=One-Click") != 0)
            mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_FAIL,
                             "List-Unsubscribe-Post is \"%.60s\", RFC 8058 wants List-Unsubscribe=One-Click",
                             pv);
        else if (!https)
            mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_FAIL,
                             "one-click unsubscribe (RFC 8058) needs an https URI in List-Unsubscribe");
        else
            mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_PASS,
                             "one-click unsubscribe: %d https, %d mailto URI(s)", https, mailto);
        return;
    }
    if (other && !https && !mailto)
        mt_checklist_add(out, FAM, "headers-list-unsubscribe", MT_CHECK_FAIL,
                         "List-Unsubscribe has neither an https nor a mailto URI");
    else
        mt_checklist_add(
            out, FAM, "headers-list-unsubscribe", MT_CHECK_WARN,
            "List-Unsubscribe without List-Unsubscribe-Post: no one-click unsubscribe (RFC 8058), "
            "which Gmail and Yahoo require of bulk senders");
}

static void check_reply_to(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    const mt_hfield *f = mt_message_header_first(m, "Reply-To");
    if (f == NULL) {
        mt_checklist_add(out, FAM, "headers-reply-to", MT_CHECK_NA, "no Reply-To");
        return;
    }
    char v[1024], addr[512], from[256];
    value_of(f, v, sizeof v);
    InternetAddressList *l = internet_address_list_parse(NULL, v);
    int n = l ? internet_address_list_length(l) : 0;
    if (l)
        g_object_unref(l);
    int r = one_mailbox(v, addr, sizeof addr);
    if (n == 0 || r == -2 || (r == 1 && strchr(addr, '@') == NULL)) {
        mt_checklist_add(out, FAM, "headers-reply-to", MT_CHECK_FAIL,
                         "Reply-To \"%.100s\" is not a valid address", v);
        return;
    }
    mt_message_from_domain(m, from, sizeof from);
    const char *rd = domain_part(addr);
    if (from[0] && rd[0] && !mt_orgdomain_same(o->org, from, rd))
        mt_checklist_add(out, FAM, "headers-reply-to", MT_CHECK_WARN,
                         "replies go to %s, another organisation than the From domain %s", rd, from);
    else
        mt_checklist_add(out, FAM, "headers-reply-to", MT_CHECK_PASS,
                         "Reply-To in the From domain's organisation");
}

static void check_envelope(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    if (o->mail_from == NULL) {
        mt_checklist_add(out, FAM, "headers-envelope-from", MT_CHECK_NA,
                         "no envelope sender given (--mail-from)");
        return;
    }
    char from[256];
    mt_message_from_domain(m, from, sizeof from);
    const char *mf = o->mail_from;
    if (mf[0] == '\0' || strcmp(mf, "<>") == 0) {
        mt_checklist_add(out, FAM, "headers-envelope-from", MT_CHECK_PASS,
                         "null envelope sender: SPF is judged on the HELO name");
        return;
    }
    const char *ed = domain_part(mf);
    char edom[256];
    snprintf(edom, sizeof edom, "%s", ed);
    size_t n = strlen(edom);
    if (n && edom[n - 1] == '>')
        edom[n - 1] = '\0';
    if (edom[0] == '\0')
        mt_checklist_add(out, FAM, "headers-envelope-from", MT_CHECK_FAIL,
                         "envelope sender \"%.100s\" has no domain", mf);
    else if (from[0] == '\0')
        mt_checklist_add(out, FAM, "headers-envelope-from", MT_CHECK_NA, "no header From domain to compare");
    else if (mt_orgdomain_same(o->org, edom, from))
        mt_checklist_add(out, FAM, "headers-envelope-from", MT_CHECK_PASS,
                         "envelope %s and header From %s share an organisational domain (SPF can align)",
                         edom, from);
    else
        mt_checklist_add(out, FAM, "headers-envelope-from", MT_CHECK_WARN,
                         "envelope %s and header From %s differ: SPF cannot align for DMARC", edom, from);
}

static void check_duplicates(const mt_message *m, mt_checklist *out)
{
    static const char *const single[] = {"From",
                                         "Sender",
                                         "Reply-To",
                                         "To",
                                         "Cc",
                                         "Bcc",
                                         "Message-ID",
                                         "Date",
                                         "Subject",
                                         "In-Reply-To",
                                         "References",
                                         "MIME-Version",
                                         "Content-Type",
                                         "Content-Transfer-Encoding",
                                         "List-Unsubscribe",
                                         "List-Unsubscribe-Post"};
    char dup[512] = "";
    size_t ndup = 0;
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
        size_t c = mt_message_header_count(m, single[i]);
        if (c > 1) {
            size_t l = strlen(dup);
            snprintf(dup + l, sizeof dup - l, "%s%s x%zu", ndup ? ", " : "", single[i], c);
            ndup++;
        }
    }
    if (ndup)
        mt_checklist_add(out, FAM, "headers-duplicates", MT_CHECK_FAIL,
                         "fields that may appear once are repeated: %s", dup);
    else
        mt_checklist_add(out, FAM, "headers-duplicates", MT_CHECK_PASS, "no singleton field repeated");
}

void mt_msgcheck_headers(const mt_message *m, const mt_msgcheck_opts *o, mt_checklist *out)
{
    check_from(m, out);
    check_date(m, o, out);
    check_message_id(m, out);
    check_mime_version(m, out);
    check_subject(m, out);
    check_list_unsubscribe(m, out);
    check_reply_to(m, o, out);
    check_envelope(m, o, out);
    check_duplicates(m, out);
}
