# transcripts.sh - SMTP transcripts from the command line: detected, one
# attempt per recipient per reply, the stage from the command answered,
# no made-up timestamps, several transcripts kept apart.
source "$(dirname "$0")/lib.sh"
cat >"$T/swaks.txt" <<'TXT'
=== Trying 163mx01.mxmail.netease.com:25...
=== Connected to 163mx01.mxmail.netease.com.
<-  220 163.com Anti-spam GT for Coremail System
 -> EHLO mta1.sender.example
<-  250 8BITMIME
 -> MAIL FROM:<news@sender.example>
<-  250 Mail OK
 -> RCPT TO:<alice@163.com>
<-  250 Mail OK
 -> RCPT TO:<nobody@163.com>
<** 550 User not found: nobody@163.com
 -> DATA
<-  354 End data with <CR><LF>.<CR><LF>
 -> Message-Id: <t1@sender.example>
 -> 
 -> hello
 -> .
<** 451 4.3.2 Internal server error
 -> QUIT
<-  221 Bye
=== Connection closed with remote host.
TXT
cat >"$T/cs.txt" <<'TXT'
S: 220 mx3.qq.com ESMTP
C: EHLO mta1.sender.example
S: 250 PIPELINING
C: MAIL FROM:<news@sender.example>
C: RCPT TO:<bob@qq.com>
C: DATA
S: 250 Ok
S: 450 4.2.0 Greylisted, try again later
S: 554 5.5.1 Error: no valid recipients
TXT
"$MT" diagnose --json "$T/swaks.txt" "$T/cs.txt" >"$T/d.json" 2>"$T/err"; expect_eq "transcripts: exit 0" $? 0
expect_eq "transcripts: format detected" "$(json "$T/d.json" "d['input']['format']")" transcript
# failed replies: one attempt per refused recipient, one per recipient the data_end reply answered
want=$(( $(grep -c '^<\*\* 550' "$T/swaks.txt") + $(grep -c RCPT "$T/swaks.txt") - $(grep -c '^<\*\* 550' "$T/swaks.txt") + $(grep -c '^S: 450' "$T/cs.txt") ))
expect_eq "transcripts: attempts" "$(json "$T/d.json" "d['totals']['attempts']")" "$want"
expect_eq "transcripts: two sessions, two messages" "$(json "$T/d.json" "d['totals']['messages']")" 2
"$MT" events --csv --show-recipients "$T/swaks.txt" "$T/cs.txt" >"$T/e.csv" 2>/dev/null
grep -q '^,.*swaks.txt:11,s1,t1@sender.example,.*nobody@163.com,.*,rcpt,550,' "$T/e.csv" &&
    ok "transcripts: 550 answers the RCPT, no timestamp invented" || notok "$(cat "$T/e.csv")"
grep -q 'alice@163.com,.*,data_end,451,4.3.2,' "$T/e.csv" && ok "transcripts: 451 answers the end of data" ||
    notok "$(cat "$T/e.csv")"
grep -q 'bob@qq.com,.*,rcpt,450,4.2.0,.*greylisting' "$T/e.csv" && ok "transcripts: pipelined 450 answers the RCPT" ||
    notok "$(cat "$T/e.csv")"
finish
