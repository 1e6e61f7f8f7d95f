/*
 * test_bounce.c - the bounce helpers: status and reply code in free text,
 * the folded reason text, the reason decision, whole messages, mbox
 * splitting, sniffing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bounce.h"
#include "mailbox.h"

static void test_find_status(void **state)
{
    (void)state;
    char st[16];
    const char *t = "host 192.0.2.1 said: 550 5.1.1 <a@b.example>: User unknown";
    assert_true(mt_bounce_find_status(t, strlen(t), st) > 0);
    assert_string_equal(st, "5.1.1");
    t = "connect to 192.0.2.4[192.0.2.4]:25: timed out";
    assert_int_equal(mt_bounce_find_status(t, strlen(t), st), -1);
    t = "version 4.2.10 of the program";
    assert_int_equal(mt_bounce_find_status(t, strlen(t), st), -1 + (int)(strstr(t, "4.2.10") - t) + 1);
    assert_string_equal(st, "4.2.10");
    t = "550 5.1.0 - Unknown address error 550-'5.7.1 <x@y.example>... Access denied'";
    assert_true(mt_bounce_find_status_replied(t, strlen(t), st, 0) >= 0);
    assert_string_equal(st, "5.1.0"); /* follows "550 " too: the first such */
    t = "5.1.0 - Unknown address error 550-'5.7.1 Access denied'";
    assert_true(mt_bounce_find_status_replied(t, strlen(t), st, 0) > 0);
    assert_string_equal(st, "5.7.1");
    t = "(#5.5.0)";
    assert_true(mt_bounce_find_status(t, strlen(t), st) >= 0);
    assert_string_equal(st, "5.5.0");
}

static void test_find_code(void **state)
{
    (void)state;
    const char *t = "SIZE=1543: host mx [192.0.2.20]: 550 5.7.0 Please use the smtp server";
    assert_int_equal(mt_bounce_find_code(t, strlen(t), 0), 550);
    t = "Remote host said: 550: : User unknown";
    assert_int_equal(mt_bounce_find_code(t, strlen(t), 0), 550);
    t = "queue id 4412 after 999 tries"; /* not reply codes */
    assert_int_equal(mt_bounce_find_code(t, strlen(t), 0), 0);
    t = "554 <a@b.example>... 550 Host unknown";
    assert_int_equal(mt_bounce_find_code(t, strlen(t), 0), 550);
    t = "220-greeting 421 4.2.1 Service refused";
    assert_int_equal(mt_bounce_find_code(t, strlen(t), '4'), 421);
}

static void test_fold(void **state)
{
    (void)state;
    mt_buf b;
    mt_buf_init(&b);
    const char *t =
        "550-5.7.1 Messages with multiple\n550-5.7.1 addresses in From: header\n550 5.7.1 are not "
        "accepted <no-such-user@example.com>";
    mt_bounce_fold(t, strlen(t), &b);
    assert_string_equal(b.data, "messages with multiple addresses in from: header are not accepted @");
    mt_bounce_fold("", 0, &b);
    assert_string_equal(b.data, "");
    /* typographic apostrophes read as ASCII ones; other UTF-8 is kept */
    const char *u = "The address wasn\xe2\x80\x99t found \xe2\x80\x94 \xc3\xa9t\xc3\xa9";
    mt_bounce_fold(u, strlen(u), &b);
    assert_string_equal(b.data, "the address wasn't found \xe2\x80\x94 \xc3\xa9t\xc3\xa9");
    mt_buf_free(&b);
}

static mt_bounce_reasons *load_reasons(void)
{
    const char *root = getenv("MT_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/bounce-reasons.tsv", root ? root : ".");
    mt_buf err;
    mt_buf_init(&err);
    mt_bounce_reasons *r = mt_bounce_reasons_load(path, &err);
    if (r == NULL)
        fail_msg("%s", err.data);
    mt_buf_free(&err);
    return r;
}

static const char *decide(const mt_bounce_reasons *r, const char *status, const char *text, const char *cmd)
{
    static mt_buf b;
    mt_bounce_fold(text, strlen(text), &b);
    mt_bounce_fact f = {
        .status = status, .diag = b.data, .dtype = "SMTP", .action = "failed", .command = cmd};
    return mt_bounce_reason_decide(r, &f);
}

/* the same, for a bounce whose own header is header and whose remote host
 * is rhost (either may be "") */
static const char *decide_from(const mt_bounce_reasons *r, const char *header, const char *rhost,
                               const char *status, const char *text, const char *cmd)
{
    static mt_buf b;
    mt_bounce_fold(text, strlen(text), &b);
    mt_bounce_fact f = {.status = status,
                        .diag = b.data,
                        .dtype = "SMTP",
                        .action = "failed",
                        .command = cmd,
                        .lhost = mt_bounce_reasons_scope(r, 0, header, strlen(header)),
                        .rhost = mt_bounce_reasons_scope(r, 1, rhost, strlen(rhost))};
    return mt_bounce_reason_decide(r, &f);
}

static void test_reasons(void **state)
{
    (void)state;
    mt_bounce_reasons *r = load_reasons();
    assert_string_equal(decide(r, "5.1.1", "550 5.1.1 User unknown", "RCPT"), "userunknown");
    assert_string_equal(decide(r, "5.2.2", "552 5.2.2 Mailbox full", "RCPT"), "mailboxfull");
    assert_string_equal(decide(r, "5.0.0", "550 Mailbox quota exceeded for this user", ""), "mailboxfull");
    assert_string_equal(
        decide(r, "5.7.1", "554 5.7.1 Client host rejected: listed in zen.spamhaus.org", "RCPT"), "blocked");
    assert_string_equal(
        decide(r, "5.7.26", "550 5.7.26 Unauthenticated email is not accepted due to DMARC", "DATA"),
        "authfailure");
    assert_string_equal(decide(r, "5.7.25", "550 5.7.25 The IP address has no PTR record", "RCPT"),
                        "requireptr");
    assert_string_equal(decide(r, "4.4.7", "", ""), "expired");
    assert_string_equal(decide(r, "2.0.0", "250 OK", "DATA"), "delivered");
    assert_string_equal(decide(r, "", "", ""), "undefined");
    assert_string_equal(decide(r, "", "something nobody knows", ""), "onhold");
    /* the address is no phrase: a local part "user-unknown" proves nothing */
    assert_string_equal(decide(r, "5.3.0", "554 5.3.0 <user-unknown@example.com> rejected", "DATA"),
                        "systemerror");
    /* a provider's own code (an '=' line) decides before the status */
    assert_string_equal(
        decide(r, "5.1.1", "550 5.1.1 <a@example.com> - has sent too many this hour. IB607", "RCPT"),
        "speeding");
    assert_string_equal(decide(r, "5.2.0", "550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]", "DATA"),
                        "spamdetected");
    /* gave up: expired, whatever trouble it names on the way ... */
    const char *gaveup = "Sorry, I wasn't able to establish an SMTP connection. I'm not going to try again; "
                         "this message has been in the queue too long.";
    assert_string_equal(decide(r, "", gaveup, ""), "expired");
    assert_string_equal(decide(r, "4.4.1", gaveup, ""), "expired");
    /* ... unless the MTA that wrote it, known by its own header, states
     * the reason of those words (qmail: a network error) */
    const char *qmail = "Received: (qmail 2222 invoked for bounce); 29 Apr 2017 23:34:45 +0900\n"
                        "From: MAILER-DAEMON@example.jp\nSubject: failure notice\n";
    assert_int_not_equal(mt_bounce_reasons_scope(r, 0, qmail, strlen(qmail)), 0);
    assert_string_equal(decide_from(r, qmail, "", "4.4.1", gaveup, ""), "networkerror");
    assert_int_equal(mt_bounce_reasons_scope(r, 0, "Subject: Failure Notice\n", 24), 0);
    /* "user unknown" with no RCPT and no MTA that states it: filtered
     * (Sisimai's general rule); stated by the MTA: userunknown */
    assert_string_equal(decide(r, "", "Recipient not found", ""), "filtered");
    const char *notes = "From: postmaster@example.jp\nSubject: Undeliverable message\n";
    assert_string_equal(decide_from(r, notes, "", "", "User not listed in public Name & Address Book", ""),
                        "userunknown");
    /* the remote host's words: au (KDDI) says "550 : User unknown" for
     * its filter and "550 <addr>: User unknown" for a missing mailbox */
    assert_string_equal(decide_from(r, "", "msmx.au.com", "5.0.0", "550 : User unknown", ""), "filtered");
    assert_string_equal(
        decide_from(r, "", "lsean.ezweb.ne.jp", "5.0.0", "550 <a@ezweb.ne.jp>: User unknown", ""),
        "userunknown");
    assert_string_equal(decide_from(r, "", "mx.example.net", "5.0.0", "550 : User unknown", ""), "filtered");
    /* NTT docomo: the status and the command decide */
    assert_string_equal(
        decide_from(r, "", "mfsmax.docomo.ne.jp", "5.0.0", "550 Unknown user a@docomo.ne.jp", "DATA"),
        "rejected");
    assert_string_equal(
        decide_from(r, "", "mfsmax.docomo.ne.jp", "5.0.0", "550 Unknown user a@docomo.ne.jp", "RCPT"),
        "userunknown");
    /* the same digits without the provider's prefix are no code */
    assert_string_equal(decide(r, "5.1.1", "550 5.1.1 User unknown 607", "RCPT"), "userunknown");
    mt_bounce_reasons_free(r);
}

/* whole messages: what the parser reads from each */
typedef struct recs {
    int n;
    char reason[8][24];
    char rcpt[8][64];
    int stage[8];
} recs;

static void on_record(const mt_attempt *a, const mt_bounce_info *info, void *arg)
{
    recs *s = arg;
    if (s->n >= 8)
        return;
    snprintf(s->reason[s->n], sizeof s->reason[0], "%s", info->reason);
    snprintf(s->rcpt[s->n], sizeof s->rcpt[0], "%s", a->recipient ? a->recipient : "");
    s->stage[s->n] = (int)a->stage;
    s->n++;
}

static void test_messages(void **state)
{
    (void)state;
    mt_bounce_reasons *r = load_reasons();
    mt_bounce_parser *p = mt_bounce_parser_new(r, NULL);
    /* PowerMTA states its bounce category; status 5.2.1 alone would say
     * "filtered".  Many header fields before Subject and Content-Type:
     * the parse still finds the ones it reads. */
    mt_buf m;
    mt_buf_init(&m);
    mt_buf_puts(&m, "From: Mail Delivery <postmaster@mta.example.net>\n");
    for (int i = 0; i < 30; i++)
        mt_buf_printf(
            &m,
            "Received: from relay%d.example.net by mta.example.net;\n\tMon, 1 Jan 2024 00:00:%02d +0000\n", i,
            i);
    mt_buf_puts(&m, "X-Noise: a field the parse does not read\nSubject: Delivery report\n"
                    "To: sender@example.org\nMIME-Version: 1.0\n"
                    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n"
                    "--b1\nContent-Type: text/plain\n\nA message could not be delivered.\n\n"
                    "--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mta.example.net\n\n"
                    "Final-Recipient: rfc822; someone@example.jp\nAction: failed\nStatus: 5.2.1\n"
                    "Diagnostic-Code: smtp; 550 5.2.1 <someone@example.jp>... User Unknown\n"
                    "X-PowerMTA-BounceCategory: bad-mailbox\n\n--b1--\n");
    recs s = {0};
    assert_int_equal(mt_bounce_parse(p, m.data, m.len, "t", on_record, &s), 1);
    assert_string_equal(s.rcpt[0], "someone@example.jp");
    assert_string_equal(s.reason[0], "userunknown");
    /* the same without the category: the status decides */
    mt_buf_reset(&m);
    mt_buf_puts(&m, "From: postmaster@mta.example.net\nSubject: Delivery report\nTo: sender@example.org\n"
                    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n"
                    "--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mta.example.net\n\n"
                    "Final-Recipient: rfc822; someone@example.jp\nAction: failed\nStatus: 5.2.1\n"
                    "Diagnostic-Code: smtp; 550 5.2.1 <someone@example.jp>... User Unknown\n\n--b1--\n");
    memset(&s, 0, sizeof s);
    assert_int_equal(mt_bounce_parse(p, m.data, m.len, "t", on_record, &s), 1);
    assert_string_equal(s.reason[0], "filtered");
    /* two recipients' fields with no blank line between them */
    mt_buf_reset(&m);
    mt_buf_puts(&m, "From: postmaster@mta.example.net\nSubject: Delivery report\nTo: sender@example.org\n"
                    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n"
                    "--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mta.example.net\n\n"
                    "Final-Recipient: rfc822; one@example.jp\nAction: failed\nStatus: 5.2.2\n"
                    "Diagnostic-Code: smtp; 550 5.2.2 <one@example.jp>... Mailbox Full\n"
                    "Final-Recipient: rfc822; two@example.jp\nAction: failed\nStatus: 5.1.1\n"
                    "Diagnostic-Code: smtp; 550 5.1.1 <two@example.jp>... User Unknown\n\n--b1--\n");
    memset(&s, 0, sizeof s);
    assert_int_equal(mt_bounce_parse(p, m.data, m.len, "t", on_record, &s), 2);
    assert_string_equal(s.rcpt[0], "one@example.jp");
    assert_string_equal(s.reason[0], "mailboxfull");
    assert_string_equal(s.rcpt[1], "two@example.jp");
    assert_string_equal(s.reason[1], "userunknown");
    /* a notice that forwards a delivery report as an attachment */
    mt_buf_reset(&m);
    mt_buf_puts(&m, "From: gateway@example.net\nSubject: Returned mail\nTo: sender@example.org\n"
                    "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
                    "--outer\nContent-Type: text/plain\n\nThe following addresses had errors\n\n"
                    "--outer\nContent-Type: message/rfc822\n\n"
                    "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nTo: sender@example.org\n"
                    "Subject: Returned mail: User unknown\n"
                    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"inner\"\n\n"
                    "--inner\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
                    "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n"
                    "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--inner--\n\n--outer--\n");
    memset(&s, 0, sizeof s);
    assert_int_equal(mt_bounce_parse(p, m.data, m.len, "t", on_record, &s), 1);
    assert_string_equal(s.rcpt[0], "gone@example.org");
    assert_string_equal(s.reason[0], "userunknown");
    /* a Sendmail transcript: ">>> RCPT To:<addr>" says which command the
     * unknown-user reply answered */
    static const char transcript[] =
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>\nTo: sender@example.org\n"
        "Subject: Returned mail: User unknown\n\n"
        "   ----- Transcript of session follows -----\nWhile talking to mx.example.org:\n"
        ">>> RCPT To:<nobody@example.org>\n<<< 550 <nobody@example.org>, User Unknown\n"
        "550 <nobody@example.org>... User unknown\n\n   ----- Unsent message follows -----\n"
        "From: sender@example.org\nTo: nobody@example.org\nSubject: hello\n\nhello\n";
    memset(&s, 0, sizeof s);
    assert_int_equal(mt_bounce_parse(p, transcript, sizeof transcript - 1, "t", on_record, &s), 1);
    assert_string_equal(s.rcpt[0], "nobody@example.org");
    assert_string_equal(s.reason[0], "userunknown");
    assert_int_equal(s.stage[0], MT_STAGE_RCPT);
    mt_buf_free(&m);
    mt_bounce_parser_free(p);
    mt_bounce_reasons_free(r);
}

static void test_reasons_file_errors(void **state)
{
    (void)state;
    char path[] = "/tmp/mt-reasons-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    mt_buf err;
    mt_buf_init(&err);
    /* each broken file, and what its message must name (the line, or the
     * reason whose phrases do not compile) */
    const char *broken[][2] = {
        {"# comment\nnosuchreason\tfoo\n", ":2:"},
        {"blocked\t(unclosed\n", "blocked"},
        /* decisive lines: an unknown reason, a bad pattern */
        {"blocked\tfoo\n=nosuchreason\tbar\n", ":2:"},
        {"blocked\tfoo\n\n=blocked\t(unclosed\n", ":3:"},
        /* sender and host lines: a rule for a name no @lhost/@rhost line
         * defined, a bad scope kind, a bad condition */
        {"@lhost\tx\t^subject: x\nnosuch:blocked\tfoo\n", ":2:"},
        {"@lhost\tx\t^subject: x\nx:nosuchreason\tfoo\n", ":2:"},
        {"blocked\tfoo\n@mhost\tx\tfoo\n", ":2:"},
        {"@rhost\tx\t(unclosed\n", ":1:"},
        {"@lhost\tx\tfoo\nx:blocked\tfoo\tstatus=(unclosed\n", ":2:"},
        {"@lhost\tx\tfoo\nx:blocked\tfoo\tcolour=red\n", ":2:"},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(broken[i][0], fp);
        fclose(fp);
        mt_buf_reset(&err);
        assert_null(mt_bounce_reasons_load(path, &err));
        assert_non_null(strstr(err.data, broken[i][1]));
    }
    unlink(path);
    mt_buf_free(&err);
}

/* @lhost lines are tried in file order: the first that matches anywhere
 * in the header wins, even when a later one matches further up (all of
 * them are also run as one alternation first, which finds the leftmost). */
static void test_lhost_order(void **state)
{
    (void)state;
    char path[] = "/tmp/mt-reasons-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "@lhost\tfirst\t(?m)^x-late-marker:\n"
                        "@rhost\thost\texample\\.net$\n"
                        "@lhost\tsecond\t(?m)^subject: early\n"
                        "@lhost\tthird\t(?ms)^from: a.*?^to: b|^to: b.*?^from: a\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    mt_buf err;
    mt_buf_init(&err);
    mt_bounce_reasons *r = mt_bounce_reasons_load(path, &err);
    assert_non_null(r);
    const char *both = "Subject: early\nX-Late-Marker: 1\n";
    const char *second = "Received: x\nSubject: early\n";
    const char *third = "To: b\nSubject: late\nFrom: a\n";
    const char *none = "Subject: other\nX-Example: example.net\n";
    assert_int_equal(mt_bounce_reasons_scope(r, 0, both, strlen(both)), 1);
    assert_int_equal(mt_bounce_reasons_scope(r, 0, second, strlen(second)), 3);
    assert_int_equal(mt_bounce_reasons_scope(r, 0, third, strlen(third)), 4);
    assert_int_equal(mt_bounce_reasons_scope(r, 0, none, strlen(none)), 0);
    /* the remote host's lines are not header lines */
    assert_int_equal(mt_bounce_reasons_scope(r, 1, "mx.example.net", 14), 2);
    assert_int_equal(mt_bounce_reasons_scope(r, 1, "subject: early", 14), 0);
    mt_bounce_reasons_free(r);
    mt_buf_free(&err);
    unlink(path);
}

/* The top-level fields the parse reads are taken out of the header before
 * GMime parses the message: folded and encoded values still read as GMime
 * gives them, the first of a name counts, and one after a line that is no
 * field is still found (GMime's own header there). */
static void test_header_fields(void **state)
{
    (void)state;
    mt_bounce_reasons *r = load_reasons();
    mt_bounce_parser *p = mt_bounce_parser_new(r, NULL);
    recs s = {0};
    /* an auto-reply known only by its encoded Subject ("Out of Office: gone") */
    const char *m = "From: Someone <someone@example.jp>\nTo: sender@example.org\n"
                    "Subject: =?UTF-8?B?T3V0IG9mIE9mZmljZTogZ29uZQ==?=\n\nI am away.\n";
    assert_int_equal(mt_bounce_parse(p, m, strlen(m), "t", on_record, &s), 1);
    assert_string_equal(s.reason[0], "vacation");
    assert_string_equal(s.rcpt[0], "someone@example.jp");
    /* a folded Auto-Submitted field, and a second From that does not count */
    memset(&s, 0, sizeof s);
    m = "From: Someone\n <someone@example.jp>\nAuto-Submitted:\n\tauto-replied\n"
        "From: other@example.jp\nTo: sender@example.org\nSubject: Re: hello\n\nAway.\n";
    assert_int_equal(mt_bounce_parse(p, m, strlen(m), "t", on_record, &s), 1);
    assert_string_equal(s.reason[0], "vacation");
    assert_string_equal(s.rcpt[0], "someone@example.jp");
    /* Auto-Submitted after a line that is no field: GMime reads that part
     * of the header */
    memset(&s, 0, sizeof s);
    m = "From: someone@example.jp\nTo: sender@example.org\nSubject: Re: hello\n"
        "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@example.jp>\nX-A: 1\nX-B: 2\nX-C: 3\n"
        "this line is no field\nAuto-Submitted: auto-replied\n\nAway.\n";
    assert_int_equal(mt_bounce_parse(p, m, strlen(m), "t", on_record, &s), 1);
    assert_string_equal(s.reason[0], "vacation");
    /* neither: a plain message is no bounce */
    memset(&s, 0, sizeof s);
    m = "From: someone@example.jp\nTo: sender@example.org\nSubject: Re: hello\n\nThanks.\n";
    assert_int_equal(mt_bounce_parse(p, m, strlen(m), "t", on_record, &s), 0);
    /* a header alone (no blank line, no body) is mail all the same */
    m = "From: someone@example.jp\nTo: sender@example.org\nSubject: Re: hello\n";
    assert_int_equal(mt_bounce_parse(p, m, strlen(m), "t", on_record, &s), 0);
    /* a notice without MIME fields: its body is the text read */
    memset(&s, 0, sizeof s);
    m = "From: MAILER-DAEMON@mta.example.net\nTo: sender@example.org\nSubject: Undelivered Mail\n\n"
        "<someone@example.jp>: host mx.example.jp said: 550 5.1.1 <someone@example.jp>: "
        "Recipient address rejected: User unknown (in reply to RCPT TO command)";
    assert_int_equal(mt_bounce_parse(p, m, strlen(m), "t", on_record, &s), 1);
    assert_string_equal(s.rcpt[0], "someone@example.jp");
    assert_string_equal(s.reason[0], "userunknown");
    assert_int_equal(s.stage[0], MT_STAGE_RCPT);
    /* the notice only in HTML (UTF-8, quoted-printable), then in a
     * Latin-1 text part: both read as GMime converts them */
    const char *kinds[][2] = {
        {"text/html; charset=utf-8", "<p>Delivery to <b>someone@example.jp</b> failed:</p><p>550 5.1.1 "
                                     "User unknown =C3=A9t=C3=A9</p>"},
        {"text/plain; charset=iso-8859-1", "Delivery to someone@example.jp failed:\n550 5.1.1 User unknown"},
        {"text/plain; charset=iso-8859-1",
         "Delivery to someone@example.jp failed:\n550 5.1.1 User unknown =E9t=E9"},
    };
    mt_buf mb;
    mt_buf_init(&mb);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        mt_buf_reset(&mb);
        mt_buf_printf(&mb,
                      "From: MAILER-DAEMON@mta.example.net\nTo: sender@example.org\nSubject: Undeliverable\n"
                      "MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b2\"\n\n--b2\n"
                      "Content-Type: %s\nContent-Transfer-Encoding: quoted-printable\n\n%s\n--b2--\n",
                      kinds[k][0], kinds[k][1]);
        memset(&s, 0, sizeof s);
        assert_int_equal(mt_bounce_parse(p, mb.data, mb.len, "t", on_record, &s), 1);
        assert_string_equal(s.rcpt[0], "someone@example.jp");
        assert_string_equal(s.reason[0], "userunknown");
    }
    mt_buf_free(&mb);
    mt_bounce_parser_free(p);
    mt_bounce_reasons_free(r);
}

typedef struct seen {
    int n;
    size_t len[4];
    char name[4][64];
} seen;

static void count_msg(const char *buf, size_t n, const char *name, void *arg)
{
    (void)buf;
    seen *s = arg;
    if (s->n < 4) {
        s->len[s->n] = n;
        snprintf(s->name[s->n], sizeof s->name[s->n], "%s", name);
    }
    s->n++;
}

static void test_mbox_split(void **state)
{
    (void)state;
    const char box[] = "From a@b Thu Jan  1 00:00:00 2026\nSubject: one\n\nbody\nFrom here on, body text\n\n"
                       "From c@d Thu Jan  1 00:00:01 2026\nSubject: two\n\nbody\n";
    seen s = {0};
    mt_mailbox_stats st = {0};
    mt_mailbox_split(box, sizeof box - 1, "box", count_msg, &s, &st);
    assert_int_equal(s.n, 2); /* "From here on" follows no blank line */
    assert_string_equal(s.name[0], "box:1");
    assert_string_equal(s.name[1], "box:2");
    assert_int_equal(s.len[0] + s.len[1], sizeof box - 1);
    seen one = {0};
    mt_mailbox_split("Subject: x\n\nbody\n", 17, "f.eml", count_msg, &one, &st);
    assert_int_equal(one.n, 1);
    assert_string_equal(one.name[0], "f.eml");
    /* CR and CRLF line ends; "From " right at the end of the buffer */
    const char cr[] = "From a@b x\rSubject: one\r\rbody\rFrom here\r\rFrom c@d y\rSubject: two\r\rFrom ";
    seen c = {0};
    mt_mailbox_split(cr, sizeof cr - 1, "cr", count_msg, &c, &st);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.len[0], strlen("From a@b x\rSubject: one\r\rbody\rFrom here\r\r"));
    assert_int_equal(c.len[2], 5);
    const char crlf[] = "From a@b x\r\nSubject: one\r\n\r\nbody\r\n\r\nFrom c@d y\r\nSubject: two\r\n";
    seen d = {0};
    mt_mailbox_split(crlf, sizeof crlf - 1, "crlf", count_msg, &d, &st);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.len[0], strlen("From a@b x\r\nSubject: one\r\n\r\nbody\r\n\r\n"));
}

/* mt_mailbox_read_file_buf reads each file whole into the one buffer it
 * is given, and names an unreadable file. */
static void test_read_file_buf(void **state)
{
    (void)state;
    char path[] = "/tmp/mt-mbox-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    mt_buf big;
    mt_buf_init(&big);
    mt_buf_puts(&big, "From a@b x\nSubject: one\n\n");
    for (int i = 0; i < 20000; i++) /* larger than any first read */
        mt_buf_puts(&big, "line of body text\n");
    mt_buf_puts(&big, "\nFrom c@d y\nSubject: two\n\nbody\n");
    assert_int_equal(write(fd, big.data, big.len), (ssize_t)big.len);
    close(fd);
    mt_buf scratch, err;
    mt_buf_init(&scratch);
    mt_buf_init(&err);
    mt_mailbox_stats st = {0};
    seen s = {0};
    assert_int_equal(mt_mailbox_read_file_buf(path, &scratch, count_msg, &s, &st, &err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.len[0] + s.len[1], big.len);
    assert_int_equal(st.bytes, big.len);
    /* a small file after it, into the same buffer */
    FILE *fp = fopen(path, "w");
    fputs("Subject: x\n\nbody\n", fp);
    fclose(fp);
    seen t = {0};
    assert_int_equal(mt_mailbox_read_file_buf(path, &scratch, count_msg, &t, &st, &err), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.len[0], strlen("Subject: x\n\nbody\n"));
    assert_int_equal(st.files, 2);
    unlink(path);
    assert_int_equal(mt_mailbox_read_file_buf(path, &scratch, count_msg, &t, &st, &err), -1);
    assert_int_equal(st.unreadable, 1);
    assert_non_null(strstr(err.data, path));
    mt_buf_free(&big);
    mt_buf_free(&scratch);
    mt_buf_free(&err);
}

static void test_sniff(void **state)
{
    (void)state;
    const char *m = "Received: from x\n\tby y\nFrom: a@b\nSubject: s\n\nbody";
    assert_true(mt_bounce_sniff(m, strlen(m)));
    m = "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n";
    assert_true(mt_bounce_sniff(m, strlen(m)));
    m = "Nov 20 21:35:51 mx postfix/smtp[123]: 4ABC: to=<a@b>, status=sent";
    assert_false(mt_bounce_sniff(m, strlen(m)));
    m = "{\"json\": true}";
    assert_false(mt_bounce_sniff(m, strlen(m)));
    assert_false(mt_bounce_sniff("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_status),
        cmocka_unit_test(test_find_code),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_reasons_file_errors),
        cmocka_unit_test(test_lhost_order),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_mbox_split),
        cmocka_unit_test(test_read_file_buf),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_sniff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
