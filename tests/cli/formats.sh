# formats.sh - format detection and the Exim reader from the command line:
# each input's format detected from its first lines, mixed inputs in one
# run, gzip/zstd/stdin, skipped lines counted and shown, clear errors.
# Expected figures are counted from the logs written here, not typed in.
source "$(dirname "$0")/lib.sh"

cat >"$T/mainlog" <<'EOF'
2026-11-20 21:35:00 exim 4.96 daemon started: pid=4242, -q30m, listening for SMTP on [127.0.0.1]:25
2026-11-20 21:35:51 1vKp0a-0004Rg-1x <= news@sender.example H=app.sender.example [192.0.2.7] P=esmtp S=18342 id=a1@sender.example
2026-11-20 21:35:52 1vKp0a-0004Rg-1x == alice@163.com R=dnslookup T=remote_smtp defer (-46) H=163mx01.mxmail.netease.com [220.181.14.141]: SMTP error from remote mail server after end of data: 451 4.3.2 Internal server error
2026-11-20 21:35:52 1vKp0a-0004Rg-1x => bob@qq.com R=dnslookup T=remote_smtp H=mx3.qq.com [203.205.219.57] I=[198.51.100.20]:40000 C="250 OK: queued as 1"
2026-11-20 21:40:00 1vKp0a-0004Rg-1x == alice@163.com R=dnslookup T=remote_smtp defer (-54): retry time not reached for any host for '163.com'
2026-11-20 21:45:52 1vKp0a-0004Rg-1x => alice@163.com R=dnslookup T=remote_smtp H=163mx01.mxmail.netease.com [220.181.14.141] I=[198.51.100.20]:40001 C="250 Mail OK"
2026-11-20 21:45:52 1vKp0a-0004Rg-1x Completed
2026-11-20 21:50:00 1vKp0b-0004Rh-2y <= news@sender.example H=app.sender.example [192.0.2.7] P=esmtp S=1200 id=a2@sender.example
2026-11-20 21:50:01 1vKp0b-0004Rh-2y ** nobody@126.com R=dnslookup T=remote_smtp H=126mx01.mxmail.netease.com [220.181.15.161] I=[198.51.100.20]:40002 : SMTP error from remote mail server after RCPT TO:<nobody@126.com>: 550 User not found: nobody@126.com
2026-11-20 21:50:01 1vKp0b-0004Rh-2y Completed
this line is garbage in the middle of a mainlog
2026-11-20 21:50:02 1vKp0c-0004Ri-3z => x@example.org R=x C="250 never closed
EOF
# attempts: delivery/deferral/failure lines, minus "retry time not reached"
# (Exim did not try) and the malformed one
want_attempts=$(grep -E ' (=>|->|==|\*\*) ' "$T/mainlog" | grep -v 'retry time not reached' | grep -vc 'never closed')
want_bad=$(grep -cE '^this line|never closed' "$T/mainlog")

"$MT" diagnose --json "$T/mainlog" >"$T/d.json" 2>"$T/err"; expect_eq "exim log: exit 0" $? 0
expect_eq "exim log: format detected" "$(json "$T/d.json" "d['input']['format']")" exim
expect_eq "exim log: attempts" "$(json "$T/d.json" "d['totals']['attempts']")" "$want_attempts"
expect_eq "exim log: unparsed lines counted" "$(json "$T/d.json" "d['input']['unparsed_lines']")" "$want_bad"
expect_eq "exim log: bounced" "$(json "$T/d.json" "d['totals']['bounced']")" \
    "$(grep -c ' \*\* ' "$T/mainlog")"

"$MT" events --csv "$T/mainlog" >"$T/e.csv" 2>"$T/err"
expect_eq "events: one row per attempt" "$(($(wc -l <"$T/e.csv") - 1))" "$want_attempts"
grep -q '^2026-11-20T21:35:52Z,.*,1vKp0a-0004Rg-1x,a1@sender.example,remote_smtp,,.*,data_end,451,4.3.2,' "$T/e.csv" &&
    ok "events: the 451 after end of data with its stage, code, route" || notok "451 row: $(grep 451 "$T/e.csv")"
grep -q ',198.51.100.20,.*,1,' "$T/e.csv" && ok "events: sending IP from I= (+outgoing_interface)" ||
    notok "sending ip: $(cat "$T/e.csv")"
grep -q 'rcpt,550,,' "$T/e.csv" && grep -q ',bounced$' "$T/e.csv" && ok "events: the 550 at RCPT, bounced" ||
    notok "550 row: $(grep 550 "$T/e.csv")"
grep -q 'looked like their input' "$T/err" && ok "events: unparsed lines reported on stderr" ||
    notok "stderr: $(cat "$T/err")"

"$MT" events --show-skipped 5 "$T/mainlog" >/dev/null 2>"$T/err"
expect_eq "--show-skipped: each bad line shown" "$(grep -c '^mailtriage: skipped ' "$T/err")" "$want_bad"
grep -q "mainlog:$(grep -n '^this line' "$T/mainlog" | cut -d: -f1): .*garbage" "$T/err" &&
    ok "--show-skipped: file:line and text" || notok "--show-skipped: $(cat "$T/err")"

# the same log compressed, and on stdin
gzip -c "$T/mainlog" >"$T/mainlog.1.gz"
"$MT" diagnose --json "$T/mainlog.1.gz" >"$T/g.json" 2>/dev/null
expect_eq "gzip exim log: attempts" "$(json "$T/g.json" "d['totals']['attempts']")" "$want_attempts"
if command -v zstd >/dev/null; then
    zstd -q -c "$T/mainlog" >"$T/mainlog.zst"
    "$MT" diagnose --json "$T/mainlog.zst" >"$T/z.json" 2>/dev/null
    expect_eq "zstd exim log: attempts" "$(json "$T/z.json" "d['totals']['attempts']")" "$want_attempts"
fi
"$MT" diagnose --json - <"$T/mainlog" >"$T/s.json" 2>/dev/null
expect_eq "exim log on stdin: attempts" "$(json "$T/s.json" "d['totals']['attempts']")" "$want_attempts"

# mixed: a Postfix log from another host in the same run
cat >"$T/mail.log" <<'EOF'
Nov 20 21:35:50 mx2 postfix/qmgr[11]: 4BnSsd2Hm2z9vq: from=<news@sender.example>, size=1000, nrcpt=1 (queue active)
Nov 20 21:35:51 mx2 postfix/smtp[12]: 4BnSsd2Hm2z9vq: to=<carol@163.com>, relay=163mx01.mxmail.netease.com[220.181.14.141]:25, delay=1, delays=0/0/0/1, dsn=4.3.2, status=deferred (host 163mx01.mxmail.netease.com[220.181.14.141] said: 451 4.3.2 Internal server error (in reply to end of DATA command))
EOF
"$MT" diagnose --json --year 2026 "$T/mail.log" "$T/mainlog" >"$T/m.json" 2>"$T/err"
expect_eq "postfix + exim: exit 0" $? 0
expect_eq "postfix + exim: format mixed" "$(json "$T/m.json" "d['input']['format']")" mixed
expect_eq "postfix + exim: attempts add up" "$(json "$T/m.json" "d['totals']['attempts']")" "$((want_attempts + 1))"

# a named format that does not fit, and a file of no format
"$MT" diagnose --format exim "$T/mail.log" >/dev/null 2>"$T/err"; expect_eq "--format exim on postfix: exit 1" $? 1
grep -q "no exim lines found" "$T/err" && ok "--format exim on postfix: said so" || notok "err: $(cat "$T/err")"
printf 'date;amount;payee\n2026-01-01;3;x\n' >"$T/ledger.txt"
"$MT" events "$T/mainlog" "$T/ledger.txt" >/dev/null 2>"$T/err"; expect_eq "unknown format among inputs: exit 1" $? 1
grep -q "ledger.txt: not a format" "$T/err" && grep -q 'date;amount;payee' "$T/err" &&
    ok "unknown format: file named, first line shown" || notok "err: $(cat "$T/err")"
"$MT" events --format nope "$T/mainlog" >/dev/null 2>&1; expect_eq "--format nope: exit 2" $? 2
"$MT" events --map nope "$T/mainlog" >/dev/null 2>&1; expect_eq "--map without '=': exit 2" $? 2
"$MT" events --show-skipped x "$T/mainlog" >/dev/null 2>&1; expect_eq "--show-skipped x: exit 2" $? 2
# the generator's Exim mainlog: the same mail flow as its Postfix log, so the
# same diagnosis (Postfix's per-message expiry notice has no Exim line, so
# expired recipients stay queued: the totals are compared without them;
# the scope's dimension may differ: Exim logs the sending IP (I=), so a
# route's problem can be named by its IP)
GENLOG=${GENLOG:-$(dirname "$MT")/genlog}
if [ -x "$GENLOG" ]; then
    for sc in netease-receiver-window route-fails-netease greylisting; do
        "$GENLOG" --messages 3000 --seed 5 --scenario $sc >"$T/g.pf" 2>/dev/null
        "$GENLOG" --messages 3000 --seed 5 --scenario $sc --format exim >"$T/g.ex" 2>/dev/null
        "$MT" diagnose --json "$T/g.pf" >"$T/g.pf.json" 2>/dev/null
        "$MT" diagnose --json "$T/g.ex" >"$T/g.ex.json" 2>/dev/null
        q="(d['input']['format'], d['input']['unparsed_lines'], d['totals']['attempts'], d['totals']['delivered'], d['totals']['deferred_attempts'], d['totals']['bounced'], d['totals']['expired'] + d['totals']['pending'], d['stages'], d['findings'][0]['cause'], d['findings'][0]['provider'], sorted(d['findings'][0]['scope']).__len__())"
        expect_eq "genlog --format exim, $sc: same figures and first finding as its Postfix log" \
            "$(json "$T/g.ex.json" "$q" | sed 's/^(.exim./(X/')" "$(json "$T/g.pf.json" "$q" | sed 's/^(.postfix./(X/')"
    done
else
    notok "genlog not found next to mailtriage ($GENLOG)"
fi
finish
