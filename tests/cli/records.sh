# records.sh - the whole-attempt formats from the command line: PowerMTA
# accounting CSV, KumoMTA JSON records, generic CSV/NDJSON exports (our own
# `events` output read back must give the same diagnosis), --map, columns
# ignored, bad records counted.  Expected figures are counted from the
# inputs written here.
source "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-$(dirname "$MT")/genlog}

# --- PowerMTA: columns in a non-default order, a transient then delivery,
# a bounce, a receipt (no attempt), a feedback record (no attempt), a bad row
cat >"$T/acct.csv" <<'EOF'
rcpt,type,timeLogged,timeQueued,orig,dsnAction,dsnStatus,dsnDiag,dsnMta,dlvSourceIp,dlvSize,vmta,envId
alice@163.com,r,2026-11-20 21:35:00+0000,,news@sender.example,,,,,,18342,,e1
alice@163.com,t,2026-11-20 21:35:51+0000,2026-11-20 21:35:00+0000,news@sender.example,delayed,4.3.2 (undefined),smtp;451 4.3.2 Internal server error,163mx01.mxmail.netease.com (220.181.14.141),198.51.100.20,18342,vmta-cn1,e1
alice@163.com,d,2026-11-20 21:45:51+0000,2026-11-20 21:35:00+0000,news@sender.example,relayed,2.0.0 (success),smtp;250 Mail OK,163mx01.mxmail.netease.com (220.181.14.141),198.51.100.20,18342,vmta-cn1,e1
bob@126.com,b,2026-11-20 21:36:10+0000,2026-11-20 21:35:00+0000,news@sender.example,failed,5.1.1 (bad destination mailbox address),"smtp;550 5.1.1 User unknown, sorry",126mx01.mxmail.netease.com (220.181.15.161),198.51.100.21,900,vmta-cn2,e2
carol@qq.com,f,2026-11-20 21:37:00+0000,,news@sender.example,,,,,,,,e3
dave@qq.com,d,2026-11-20 21:37:00+0000
EOF
want_pm=$(grep -cE '^[^,]+,(d|b|t),.*,e[0-9]$' "$T/acct.csv")
"$MT" diagnose --json "$T/acct.csv" >"$T/p.json" 2>"$T/err"; expect_eq "pmta: exit 0" $? 0
expect_eq "pmta: format detected" "$(json "$T/p.json" "d['input']['format']")" pmta
expect_eq "pmta: attempts (d, b, t records)" "$(json "$T/p.json" "d['totals']['attempts']")" "$want_pm"
expect_eq "pmta: the short row counted unparsed" "$(json "$T/p.json" "d['input']['unparsed_lines']")" 1
expect_eq "pmta: delivered" "$(json "$T/p.json" "d['totals']['delivered']")" "$(grep -c ',d,.*,e[0-9]$' "$T/acct.csv")"
expect_eq "pmta: bounced" "$(json "$T/p.json" "d['totals']['bounced']")" "$(grep -c ',b,' "$T/acct.csv")"
"$MT" events --csv "$T/acct.csv" >"$T/p.csv" 2>/dev/null
grep -q ',vmta-cn1,198.51.100.20,.*,163mx01.mxmail.netease.com,220.181.14.141,.*,451,4.3.2,.*,18342,,0,51,delivered$' \
    "$T/p.csv" && ok "pmta: the 451 row: route=vmta, sending IP, MX, size, delay from timeQueued, retry 0" ||
    notok "pmta row: $(grep 451 "$T/p.csv")"
grep -q ',250,.*,1,651,delivered$' "$T/p.csv" && ok "pmta: the delivery is retry 1" || notok "$(grep ',250,' "$T/p.csv")"

# --- KumoMTA
cat >"$T/kumo.log" <<'EOF'
{"type":"Reception","id":"k1","sender":"news@sender.example","recipient":"a@163.com","size":5000,"timestamp":1795210500,"created":1795210500,"headers":{"Message-ID":"<m1@sender.example>"}}
{"type":"TransientFailure","id":"k1","sender":"news@sender.example","recipient":"a@163.com","size":5000,"response":{"code":451,"enhanced_code":{"class":4,"subject":3,"detail":2},"content":"Internal server error","command":".\r\n"},"peer_address":{"name":"163mx01.mxmail.netease.com.","addr":"220.181.14.141"},"timestamp":1795210551,"created":1795210500,"egress_source":"cn-ip1","egress_pool":"cn","source_address":{"address":"198.51.100.20:0"}}
{"type":"Delivery","id":"k1","sender":"news@sender.example","recipient":"a@163.com","size":5000,"response":{"code":250,"content":"Mail OK","command":null},"peer_address":{"name":"163mx01.mxmail.netease.com.","addr":"220.181.14.141"},"timestamp":1795211151,"created":1795210500,"egress_source":"cn-ip1"}
{"type":"TransientFailure","id":"k2","sender":"news@sender.example","recipient":"b@qq.com","response":{"code":450,"enhanced_code":{"class":4,"subject":2,"detail":0},"content":"Greylisted","command":"RCPT TO:<b@qq.com>\r\n"},"timestamp":1795210600,"egress_source":"main-ip1"}
{"type":"Expiration","id":"k2","sender":"news@sender.example","recipient":"b@qq.com","timestamp":1795297000}
{"type":"Rejection","id":"k3","sender":"x@y","recipient":"c@z","timestamp":1795210600}
{"type":"Delivery","id":"k4"
EOF
"$MT" diagnose --json "$T/kumo.log" >"$T/k.json" 2>"$T/err"; expect_eq "kumo: exit 0" $? 0
expect_eq "kumo: format detected" "$(json "$T/k.json" "d['input']['format']")" kumo
expect_eq "kumo: attempts" "$(json "$T/k.json" "d['totals']['attempts']")" \
    "$(grep -cE '"type":"(Delivery|TransientFailure|Bounce)","id":"k[0-9]","sender' "$T/kumo.log")"
expect_eq "kumo: expired (Expiration record)" "$(json "$T/k.json" "d['totals']['expired']")" 1
expect_eq "kumo: truncated record unparsed" "$(json "$T/k.json" "d['input']['unparsed_lines']")" 1
"$MT" events --csv "$T/kumo.log" >"$T/k.csv" 2>/dev/null
grep -q '^2026-11-20T21:35:51Z,.*,k1,m1@sender.example,cn-ip1,198.51.100.20,.*,data_end,451,4.3.2,451 4.3.2 Internal server error,receiver_internal,,5000,,0,51,delivered$' "$T/k.csv" &&
    ok "kumo: the 451 row (route egress_source, sending IP, Message-ID, stage from the command, delay)" ||
    notok "kumo row: $(grep 451 "$T/k.csv")"
grep -q ',rcpt,450,4.2.0,.*greylisting,.*,expired$' "$T/k.csv" && ok "kumo: greylisted at RCPT, expired" ||
    notok "kumo 450: $(grep 450 "$T/k.csv")"

# --- OpenSMTPD: the delivery lines carry the reply; other smtpd lines and
# other programs' lines are skipped
cat >"$T/smtpd.log" <<'EOF'
Nov 20 21:35:50 mx4 smtpd[4242]: 7d1b5c5e8e0f0a1b smtp connected address=local host=mx4
Nov 20 21:35:50 mx4 kernel: [1234.5] eth0: link up
Nov 20 21:35:51 mx4 smtpd[4242]: 3c8f1d2a4b5e6f70 mta delivery evpid=a1b2c3d4e5f60718 from=<news@sender.example> to=<alice@163.com> rcpt=<-> source="198.51.100.30" relay="163mx01.mxmail.netease.com [220.181.14.141]" delay=1s result="TempFail" stat="451 4.3.2 Internal server error"
Nov 20 21:35:52 mx4 smtpd[4242]: 3c8f1d2a4b5e6f72 mta delivery evpid=a1b2c3d4e5f60719 from=<news@sender.example> to=<bob@qq.com> rcpt=<-> source="198.51.100.30" relay="mx3.qq.com [203.205.219.57]" delay=2s result="PermFail" stat="550 Mailbox not found"
Nov 20 21:45:51 mx4 smtpd[4242]: 3c8f1d2a4b5e6f71 mta delivery evpid=a1b2c3d4e5f60718 from=<news@sender.example> to=<alice@163.com> rcpt=<-> source="198.51.100.30" relay="163mx01.mxmail.netease.com [220.181.14.141]" delay=10m1s result="Ok" stat="250 Mail OK"
EOF
"$MT" diagnose --json --year 2026 "$T/smtpd.log" >"$T/o.json" 2>"$T/err"; expect_eq "opensmtpd: exit 0" $? 0
expect_eq "opensmtpd: format detected" "$(json "$T/o.json" "d['input']['format']")" opensmtpd
expect_eq "opensmtpd: attempts (mta delivery lines)" "$(json "$T/o.json" "d['totals']['attempts']")" \
    "$(grep -c ' mta delivery ' "$T/smtpd.log")"
expect_eq "opensmtpd: other programs' lines skipped" "$(json "$T/o.json" "d['input']['other_program_lines']")" 1
"$MT" events --csv --year 2026 "$T/smtpd.log" >"$T/o.csv" 2>/dev/null
grep -q ',a1b2c3d4,.*,198.51.100.30,.*,220.181.14.141,unknown,451,4.3.2,.*,0,1,delivered$' "$T/o.csv" &&
    grep -q ',250,.*,1,601,delivered$' "$T/o.csv" && ok "opensmtpd: the retry joined by envelope, sending IP from source=" ||
    notok "opensmtpd rows: $(cat "$T/o.csv")"

# --- generic exports: our own events read back give the same diagnosis
if [ -x "$GENLOG" ]; then
    "$GENLOG" --messages 1500 --seed 11 >"$T/gen.log" 2>/dev/null
    "$MT" events --csv --show-recipients "$T/gen.log" >"$T/gen.csv" 2>/dev/null
    "$MT" events --show-recipients "$T/gen.log" >"$T/gen.ndjson" 2>/dev/null
    for f in gen.log gen.csv gen.ndjson; do
        "$MT" diagnose --json "$T/$f" >"$T/$f.json" 2>/dev/null
    done
    want=$(json "$T/gen.log.json" "(d['totals'], d['stages'], [ (f['cause'], f['provider']) for f in d['findings']])")
    expect_eq "csv export of our events: same totals, stages, findings" \
        "$(json "$T/gen.csv.json" "(d['totals'], d['stages'], [ (f['cause'], f['provider']) for f in d['findings']])")" "$want"
    expect_eq "ndjson export of our events: same totals, stages, findings" \
        "$(json "$T/gen.ndjson.json" "(d['totals'], d['stages'], [ (f['cause'], f['provider']) for f in d['findings']])")" "$want"
    expect_eq "csv export: format detected" "$(json "$T/gen.csv.json" "d['input']['format']")" csv
    expect_eq "ndjson export: format detected" "$(json "$T/gen.ndjson.json" "d['input']['format']")" ndjson
else
    notok "genlog not found next to mailtriage ($GENLOG)"
fi

# --- an ESP export after a rename, with a column no field takes
cat >"$T/esp.csv" <<'EOF'
when,email,response,campaign
2026-11-20T21:35:51Z,a@163.com,451 4.3.2 Internal server error,spring
2026-11-20T21:36:51Z,b@qq.com,250 ok,spring
2026-11-20T21:37:51Z,c@qq.com,"550 5.1.1 no such user, sorry",spring
EOF
"$MT" events --csv "$T/esp.csv" >/dev/null 2>"$T/err"; expect_eq "esp export without --map: exit 1" $? 1
grep -q 'esp.csv: not a format' "$T/err" && ok "esp export without --map: not recognised, said so" ||
    notok "err: $(cat "$T/err")"
"$MT" diagnose --json --format csv --map email=recipient --map when=timestamp --map response=smtp_reply_text \
    "$T/esp.csv" >"$T/e.json" 2>"$T/err"
expect_eq "esp export with --map: attempts" "$(json "$T/e.json" "d['totals']['attempts']")" 3
expect_eq "esp export with --map: bounced" "$(json "$T/e.json" "d['totals']['bounced']")" 1
expect_eq "esp export: ignored column reported once" "$(grep -c 'columns ignored.*campaign' "$T/err")" 1
finish
