#!/usr/bin/env bash
# bounces.sh - `mailtriage bounces` on bounce mails written here: an RFC 3464
# DSN with two recipients, an Exim-style prose notice, a delay warning, an
# ARF report and an auto-reply; as .eml, mbox, Maildir, stdin, CRLF and CR.
. "$(dirname "$0")/lib.sh"

dsn() { # dsn BOUNDARY
cat <<EOM
From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
Date: Tue, 03 Mar 2026 10:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="$1"

--$1
Content-Type: text/plain; charset=us-ascii

<alice@163.com>: host mx.163.com[192.0.2.1] said: 550 5.1.1 User unknown
    (in reply to RCPT TO command)
<bob@example.com>: host mx.example.com[192.0.2.2] said: 552 5.2.2 Mailbox
    full (in reply to end of DATA command)

--$1
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
Arrival-Date: Tue, 03 Mar 2026 09:59:58 +0000

Final-Recipient: rfc822; alice@163.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.163.com
Diagnostic-Code: smtp; 550 5.1.1 User unknown

Final-Recipient: rfc822; bob@example.com
Action: failed
Status: 5.2.2
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

--$1
Content-Type: text/rfc822-headers

Return-Path: <sender@bulk.example.org>
From: News <news@example.org>
To: alice@163.com
Message-ID: <m1@example.org>
Subject: hello

--$1--
EOM
}
exim() {
cat <<'EOM'
From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: sender@example.org
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: carol@example.jp

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  carol@example.jp
    SMTP error from remote mail server after RCPT TO:<carol@example.jp>:
    host mx.example.jp [192.0.2.3]: 550 5.7.1 Client host rejected: listed in zen.spamhaus.org

------ This is a copy of the message, including all the headers. ------

Message-Id: <m2@example.org>
From: sender@example.org
To: carol@example.jp
EOM
}
delay() {
cat <<'EOM'
From: MAILER-DAEMON@relay.example.net
To: sender@example.org
Subject: Delayed Mail (still being retried)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="D"

--D
Content-Type: text/plain

Your message could not be delivered yet.
--D
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; dave@126.com
Action: delayed
Status: 4.3.2
Diagnostic-Code: smtp; 451 4.3.2 Internal server error

--D--
EOM
}
arf() {
cat <<'EOM'
From: feedback@isp.example.net
To: fbl@example.org
Subject: complaint about message
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an abuse report.
--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: test/1.0
Version: 1
Original-Rcpt-To: erin@isp.example.net

--F--
EOM
}
vacation() {
cat <<'EOM'
From: Frank <frank@example.com>
To: sender@example.org
Subject: Out of Office: hello
Auto-Submitted: auto-replied

I am on vacation until Monday.
EOM
}

dsn B1 > "$T/dsn.eml"
exim > "$T/exim.eml"
"$MT" bounces --ndjson --show-recipients "$T/dsn.eml" > "$T/dsn.json"
expect_eq "DSN: one record per recipient" "$(wc -l < "$T/dsn.json")" 2
expect_eq "DSN: recipients in order" "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["recipient"] for l in open(sys.argv[1])))' "$T/dsn.json")" "alice@163.com bob@example.com"
first() { python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r[sys.argv[2]])' "$@"; }
nth() { python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])]); print(r[sys.argv[3]])' "$@"; }
expect_eq "DSN: status" "$(first "$T/dsn.json" enhanced_status)" 5.1.1
expect_eq "DSN: reply code" "$(first "$T/dsn.json" smtp_reply_code)" 550
expect_eq "DSN: reason" "$(first "$T/dsn.json" reason)" userunknown
expect_eq "DSN: category" "$(first "$T/dsn.json" category)" user_unknown
expect_eq "DSN: stage from the notice" "$(first "$T/dsn.json" smtp_stage)" rcpt
expect_eq "DSN: provider" "$(first "$T/dsn.json" provider)" netease
expect_eq "DSN: mx host" "$(first "$T/dsn.json" mx_host)" mx.163.com
expect_eq "DSN: message id of the returned message" "$(first "$T/dsn.json" message_id)" m1@example.org
expect_eq "DSN: mail from domain" "$(first "$T/dsn.json" mail_from_domain)" bulk.example.org
expect_eq "DSN: header from domain" "$(first "$T/dsn.json" header_from_domain)" example.org
expect_eq "DSN: final status" "$(first "$T/dsn.json" final_queue_status)" bounced
expect_eq "DSN: timestamp" "$(first "$T/dsn.json" timestamp)" 2026-03-03T09:59:58Z
expect_eq "DSN: second recipient mailbox full" "$(nth "$T/dsn.json" 1 reason)" mailboxfull
expect_eq "DSN: second recipient after DATA" "$(nth "$T/dsn.json" 1 smtp_stage)" data_end

"$MT" bounces --ndjson --show-recipients "$T/exim.eml" > "$T/exim.json"
expect_eq "Exim notice: recipient" "$(first "$T/exim.json" recipient)" carol@example.jp
expect_eq "Exim notice: status" "$(first "$T/exim.json" enhanced_status)" 5.7.1
expect_eq "Exim notice: stage" "$(first "$T/exim.json" smtp_stage)" rcpt
expect_eq "Exim notice: reason" "$(first "$T/exim.json" reason)" blocked
expect_eq "Exim notice: message id" "$(first "$T/exim.json" message_id)" m2@example.org

delay > "$T/delay.eml"
"$MT" bounces --ndjson "$T/delay.eml" > "$T/delay.json"
expect_eq "delay warning: deferred" "$(first "$T/delay.json" final_queue_status)" deferred
expect_eq "delay warning: kind" "$(first "$T/delay.json" kind)" delay
expect_eq "delay warning: recipient redacted by default" "$(first "$T/delay.json" recipient | sed 's/^x-[0-9a-f]*@/x-@/')" x-@126.com

arf > "$T/arf.eml"; vacation > "$T/vac.eml"
"$MT" bounces --ndjson "$T/arf.eml" "$T/vac.eml" > "$T/other.json"
expect_eq "ARF: a complaint" "$(nth "$T/other.json" 0 kind)/$(nth "$T/other.json" 0 feedback_type)" complaint/abuse
expect_eq "auto-reply: reported as such" "$(nth "$T/other.json" 1 kind)/$(nth "$T/other.json" 1 reason)" autoreply/vacation

# mbox, Maildir, stdin, CRLF and CR give the same records
{ echo "From MAILER-DAEMON Tue Mar  3 10:00:00 2026"; dsn B2; echo; echo "From MAILER-DAEMON Tue Mar  3 10:00:01 2026"; exim; } > "$T/box.mbox"
expect_eq "mbox: three records" "$("$MT" bounces --csv "$T/box.mbox" | tail -n +2 | wc -l)" 3
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"
cp "$T/dsn.eml" "$T/md/cur/1"; cp "$T/exim.eml" "$T/md/new/2"; echo "garbage" > "$T/md/tmp/3"
expect_eq "Maildir: cur and new, not tmp" "$("$MT" bounces --ndjson "$T/md" | wc -l)" 3
expect_eq "stdin" "$("$MT" bounces --ndjson - < "$T/dsn.eml" | wc -l)" 2
sed 's/$/\r/' "$T/dsn.eml" > "$T/crlf.eml"; tr '\n' '\r' < "$T/dsn.eml" > "$T/cr.eml"
cut_src() { python3 -c 'import json,sys; [print(json.dumps({k:v for k,v in json.loads(l).items() if k not in ("source","recipient")}, sort_keys=True)) for l in open(sys.argv[1])]' "$1"; }
"$MT" bounces --ndjson "$T/crlf.eml" > "$T/crlf.json"; "$MT" bounces --ndjson "$T/cr.eml" > "$T/cr.json"
expect_eq "CRLF reads like LF" "$(cut_src "$T/crlf.json")" "$(cut_src "$T/dsn.json")"
expect_eq "CR reads like LF" "$(cut_src "$T/cr.json")" "$(cut_src "$T/dsn.json")"

# bad input: counted, never a crash
printf 'not a mail at all\n' > "$T/junk.txt"; : > "$T/empty.eml"
head -c 700 "$T/dsn.eml" > "$T/truncated.eml"
"$MT" bounces --ndjson "$T/junk.txt" "$T/empty.eml" "$T/truncated.eml" > "$T/bad.json" 2> "$T/bad.err"
rc=$?
expect_eq "bad input: exit status 0 with something readable" "$rc" 0
expect_eq "bad input: skipped counted" "$(grep -c 'skipped' "$T/bad.err")" 1
"$MT" bounces --ndjson "$T/nonexistent" > /dev/null 2>&1
expect_eq "missing path: exit 1" "$?" 1
"$MT" bounces > /dev/null 2>&1
expect_eq "no path: usage error" "$?" 2
"$MT" bounces --help | grep -q "reason" && ok "help" || notok "help"
"$MT" bounces --summary "$T/md" > "$T/sum.txt"
grep -q "2 bounce(s) with 3 record(s)" "$T/sum.txt" && ok "summary counts" || notok "summary counts: $(head -1 "$T/sum.txt")"

# workers DIR FORMAT NAME - DIR's bounces with 1, 2 and 3 workers, into
# $T/NAME1.FORMAT … $T/NAME3.FORMAT (stderr: $T/NAME1.err …)
workers() {
    for w in 1 2 3; do
        "$MT" bounces --"$2" --show-recipients --threads "$w" "$1" > "$T/$3$w.$2" 2> "$T/$3$w.err"
    done
}

# in_order LABEL NAME FORMAT WHAT: the runs of 2 and 3 WHAT (workers,
# worker processes) wrote what the run of one did, in the same order
in_order() {
    for w in 2 3; do
        expect_eq "$1: $w $4, same records in order" "$(cmp -s "$T/${2}1.$3" "$T/$2$w.$3" && echo same)" same
    done
}

# many files: with several workers (threads for a few files) the records
# come out in input order, as with one, and the counts are the same
mkdir -p "$T/many"
for i in $(seq -w 1 150); do
    dsn "b$i" | sed "s/alice@163.com/user$i@163.com/g" > "$T/many/m$i.eml"
done
printf 'not a mail\n' > "$T/many/m075x.eml"
workers "$T/many" ndjson many
expect_eq "many files: records" "$(wc -l < "$T/many1.ndjson")" 300
in_order "many files" many ndjson workers
expect_eq "many files: 2 workers, same counts" "$(cat "$T/many2.err")" "$(cat "$T/many1.err")"
expect_eq "many files: first record" "$(head -1 "$T/many2.ndjson" | json /dev/stdin 'd["recipient"]')" user001@163.com
expect_eq "many files: last of them" "$(sed -n 299p "$T/many2.ndjson" | json /dev/stdin 'd["recipient"]')" user150@163.com

# a few thousand files: the workers are processes (bounce_pool.c,
# FORK_MIN_JOBS), which claim chunks of files as they come free; the
# records still come out in input order
mkdir -p "$T/lots"
tmpl=$(dsn lots)
for i in $(seq -w 1 2100); do
    printf '%s\n' "${tmpl//alice@163.com/user$i@163.com}" > "$T/lots/m$i.eml"
done
printf 'not a mail\n' > "$T/lots/m1050x.eml"
workers "$T/lots" csv lots
expect_eq "lots of files: records" "$(wc -l < "$T/lots1.csv")" 4201
in_order "lots of files" lots csv "worker processes"
expect_eq "lots of files: same counts" "$(cat "$T/lots3.err")" "$(cat "$T/lots1.err")"
expect_eq "lots of files: one not mail" "$(grep -c 'skipped 1 input(s) that are not mail' "$T/lots2.err")" 1
expect_eq "lots of files: the last file's first record" "$(sed -n 4200p "$T/lots2.csv" | grep -c 'user2100@163.com')" 1

# the records feed the diagnosis
"$MT" diagnose --bounces --json "$T/md" > "$T/diag.json"
expect_eq "diagnose --bounces: format" "$(json "$T/diag.json" 'd["input"]["format"]')" bounces
expect_eq "diagnose --bounces: attempts" "$(json "$T/diag.json" 'd["totals"]["attempts"]')" 3
expect_eq "diagnose --bounces: messages" "$(json "$T/diag.json" 'd["totals"]["messages"]')" 2
expect_eq "diagnose --bounces: bounced" "$(json "$T/diag.json" 'd["totals"]["bounced"]')" 3

finish
