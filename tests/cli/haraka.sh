# haraka.sh - Haraka's log from the command line: detection, `events` and
# `diagnose` on a small log written here (lines in the layout of Haraka's
# outbound/hmail.js), retries joined by the message uuid, the recipient of
# a split, expiry, other programs' lines and a malformed line counted.
# Expected figures are counted from the log itself.
source "$(dirname "$0")/lib.sh"

cat >"$T/haraka.log" <<'EOF'
2026-11-20T21:35:01.000Z [NOTICE] [A1B2C3D4-0000-4000-8000-000000000001] [core] connect ip=198.51.100.7 port=51514 local_ip=:: local_port=587
2026-11-20T21:35:02.000Z [NOTICE] [A1B2C3D4-0000-4000-8000-000000000001.1] [core] queue code=OK msg="Message Queued (A1B2C3D4-0000-4000-8000-000000000001.1)"
2026-11-20T21:35:02.000Z [INFO] [-] [core] [outbound] Processing delivery for domain: 163.com
2026-11-20T21:35:02.000Z [INFO] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound] Looking up A records for: 163mx01.mxmail.netease.com
2026-11-20T21:35:02.000Z [INFO] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound] Attempting to deliver to: 220.181.14.141:25 (0) (0)
2026-11-20T21:35:03.000Z [PROTOCOL] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound] C: .
2026-11-20T21:35:03.000Z [PROTOCOL] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound] S: 451 4.3.2 Internal server error
2026-11-20T21:35:03.000Z [INFO] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound] Temp failing 1795210502000_1795210502000_0_4242_aBcDeF_1_relay.sender.example for 64 seconds: Upstream error: 451 4.3.2 Internal server error
2026-11-20T21:36:07.000Z [INFO] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound] Looking up A records for: 163mx01.mxmail.netease.com
2026-11-20T21:36:07.000Z [INFO] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound] Attempting to deliver to: 220.181.14.141:25 (0) (0)
2026-11-20T21:36:08.000Z [NOTICE] [A1B2C3D4-0000-4000-8000-000000000001.1.1] [outbound]  delivered file=1795210502000_1795210567000_1_4242_aBcDeF_1_relay.sender.example domain=163.com host=163mx01.mxmail.netease.com ip=220.181.14.141 port=25 mode=SMTP tls=Y auth=N response="Mail OK queued as smtp1,xyz" delay=66.2 fails=1 rcpts=1/0/0
2026-11-20T21:37:00.000Z [NOTICE] [B1B2C3D4-0000-4000-8000-000000000002.1.1] [outbound] recipient <bob@qq.com> deferred: 451 4.7.0 Mail is rejected by recipients
2026-11-20T21:37:00.000Z [INFO] [B1B2C3D4-0000-4000-8000-000000000002.1.1] [outbound] Temp failing 1795210620000_1795210620000_0_4242_gHiJkL_2_relay.sender.example for 64 seconds: Some recipients temp failed: <bob@qq.com>
2026-11-20T21:38:10.000Z [NOTICE] [B1B2C3D4-0000-4000-8000-000000000002.1.1] [outbound]  delivered file=1795210620000_1795210684000_1_4242_gHiJkL_2_relay.sender.example domain=qq.com host=mx3.qq.com ip=203.205.219.57 port=25 mode=SMTP tls=Y auth=N response="Ok: queued as" delay=70 fails=1 rcpts=1/0/0
2026-11-20T21:39:00.000Z [NOTICE] [C1B2C3D4-0000-4000-8000-000000000003.1.1] [outbound] recipient <carol@gmail.com> rejected: 550 5.1.1 The email account that you tried to reach does not exist.
2026-11-20T21:39:00.000Z [INFO] [C1B2C3D4-0000-4000-8000-000000000003.1.1] [outbound] bouncing mail: Some recipients failed: <carol@gmail.com>
2026-11-20T21:40:00.000Z [INFO] [D1B2C3D4-0000-4000-8000-000000000004.1.1] [outbound] Temp failing 1795210800000_1795210800000_0_4242_mNoPqR_3_relay.sender.example for 64 seconds: Upstream error: 421 4.7.0 too many connections from your IP
2026-11-20T21:41:04.000Z [INFO] [D1B2C3D4-0000-4000-8000-000000000004.1.1] [outbound] bouncing mail: Too many failures (Upstream error: 421 4.7.0 too many connections from your IP)
2026-11-20T21:42:00.000Z [NOTICE] [E1B2C3D4-0000-4000-8000-000000000005.1.1] [outbound] delivered domain=126.com rcpts=1/0/0
2026-11-20T21:42:01.000Z [INFO] [-] [dkim_sign] signed for sender.example
EOF
L=$T/haraka.log
# attempt records: deliveries, per-recipient replies, message-level
# deferrals and the last try of an expired message (the "Some recipients"
# lines repeat what the recipient lines said)
want_att=$(grep -cE '\] \[outbound\] +(delivered file=|recipient <[^>]*> (deferred|rejected):|Temp failing .* seconds: Upstream|bouncing mail: Too many failures \(Upstream)' "$L")
"$MT" diagnose --json "$L" >"$T/d.json" 2>"$T/err"; expect_eq "diagnose --json: exit 0" $? 0
expect_eq "format detected" "$(json "$T/d.json" "d['input']['format']")" haraka
expect_eq "attempts" "$(json "$T/d.json" "d['totals']['attempts']")" "$want_att"
expect_eq "delivered (delivered lines with rcpts=1/0/0)" "$(json "$T/d.json" "d['totals']['delivered']")" \
    "$(grep -c 'delivered file=.* rcpts=1/0/0' "$L")"
expect_eq "bounced (rejected recipients)" "$(json "$T/d.json" "d['totals']['bounced']")" "$(grep -c '> rejected: ' "$L")"
expect_eq "expired (Too many failures)" "$(json "$T/d.json" "d['totals']['expired']")" "$(grep -c 'Too many failures' "$L")"
expect_eq "messages (uuids with an attempt)" "$(json "$T/d.json" "d['totals']['messages']")" \
    "$(grep -E 'delivered file=|> (deferred|rejected): |seconds: Upstream' "$L" | grep -oE '\[[0-9A-F-]{36}\.1\.1\]' | sort -u | wc -l)"
expect_eq "the delivered line without file= counted unparsed" "$(json "$T/d.json" "d['input']['unparsed_lines']")" 1
expect_eq "its reason" "$(json "$T/d.json" "d['input']['unparsed_by_reason'][0]['reason']")" "haraka: delivered without file="
"$MT" diagnose "$L" >"$T/d.txt" 2>&1; expect_eq "diagnose (text): exit 0" $? 0

"$MT" events --csv "$L" >"$T/e.csv" 2>/dev/null; expect_eq "events --csv: exit 0" $? 0
expect_eq "events: one row per attempt" "$(($(wc -l <"$T/e.csv") - 1))" "$want_att"
grep -q '^2026-11-20T21:35:03Z,.*,A1B2C3D4-0000-4000-8000-000000000001\.1\.1,.*,163mx01\.mxmail\.netease\.com,220\.181\.14\.141,data_end,451,4\.3\.2,451 4\.3\.2 Internal server error,.*,0,,delivered$' "$T/e.csv" &&
    ok "the 451: MX and IP from the lines before it, stage from C: ., retry 0, finally delivered" ||
    notok "451 row: $(grep ',451,' "$T/e.csv")"
grep -q ',A1B2C3D4-0000-4000-8000-000000000001\.1\.1,.*,data_end,,,"Mail OK queued as smtp1,xyz",.*,1,66\.2,delivered$' "$T/e.csv" &&
    ok "the delivery joined by uuid: retry 1, delay=" || notok "delivery row: $(grep 'Mail OK' "$T/e.csv")"
expect_eq "the message is one unit at qq.com (no address: Haraka's delivered line names none)" \
    "$(grep -c ',B1B2C3D4-0000-4000-8000-000000000002\.1\.1,,,,,,,,qq\.com,tencent,' "$T/e.csv")" 2
expect_eq "the 451 at data end gets its domain from the later delivered line" \
    "$(grep -c ',A1B2C3D4-0000-4000-8000-000000000001\.1\.1,,,,,,,,163\.com,netease,' "$T/e.csv")" 2
grep -q ',B1B2C3D4-0000-4000-8000-000000000002\.1\.1,.*,Ok: queued as,.*,1,70,delivered$' "$T/e.csv" &&
    ok "bob's delivery is his retry 1" || notok "bob rows: $(grep B1B2 "$T/e.csv")"
grep -q ',D1B2C3D4-0000-4000-8000-000000000004\.1\.1,.*,421,4\.7\.0,.*,1,,expired$' "$T/e.csv" &&
    ok "the expired message's last try is retry 1" || notok "expiry rows: $(grep D1B2 "$T/e.csv")"

# a retry more than a parsing chunk (1 MiB) after the first try: the uuid
# alone joins them, whatever the reader remembered in between
{
    echo '2026-11-20T08:00:00.000Z [NOTICE] [F1B2C3D4-0000-4000-8000-000000000006.1.1] [outbound] recipient <erin@126.com> deferred: 451 4.7.1 Try again later'
    echo '2026-11-20T08:00:00.000Z [INFO] [F1B2C3D4-0000-4000-8000-000000000006.1.1] [outbound] Temp failing 1_2_0_7_x_1_h for 64 seconds: Some recipients temp failed: <erin@126.com>'
    for i in $(seq 1 12000); do
        echo "2026-11-20T08:01:00.000Z [INFO] [-] [core] [outbound] Processing delivery for domain: example$i.org, padding to the next chunk of the file"
    done
    echo '2026-11-20T09:00:00.000Z [INFO] [F1B2C3D4-0000-4000-8000-000000000006.1.1] [outbound] Temp failing 1_2_1_7_x_1_h for 128 seconds: Upstream error: 421 4.7.0 too busy'
    for i in $(seq 1 12000); do
        echo "2026-11-20T09:01:00.000Z [INFO] [-] [core] [outbound] Processing delivery for domain: example$i.org, padding to the next chunk of the file"
    done
    echo '2026-11-20T10:00:00.000Z [NOTICE] [F1B2C3D4-0000-4000-8000-000000000006.1.1] [outbound] delivered file=1_3_2_7_x_1_h domain=126.com host=126mx01.mxmail.netease.com ip=220.181.15.161 port=25 mode=SMTP tls=Y auth=N response="Mail OK" delay=7200 fails=2 rcpts=1/0/0'
} >"$T/big.log"
[ "$(wc -c <"$T/big.log")" -gt 2200000 ] && ok "the long log spans three chunks" || notok "long log too short"
"$MT" events --csv "$T/big.log" >"$T/b.csv" 2>/dev/null
expect_eq "across chunks: three attempts of one unit" "$(grep -c ',F1B2C3D4-0000-4000-8000-000000000006\.1\.1,' "$T/b.csv")" 3
expect_eq "across chunks: retries 0, 1, 2, all delivered at 126.com" \
    "$(grep -oE ',126\.com,netease,.*,[0-9],[0-9.]*,delivered$' "$T/b.csv" | grep -oE ',[0-9],[0-9.]*,delivered$' | cut -d, -f2 | tr -d '\n')" 012

# syslog prefix, another program in the same file, --format haraka on stdin
cat >"$T/sys.log" <<'EOF'
Nov 20 21:53:28 mx1 haraka[48106]: [NOTICE] [930E3B02-4254-4499-8294-70044A00835D.1.1] [outbound] recipient <hanna@hotmail.com> rejected: 550 5.7.1 Service unavailable; Client host [107.6.51.128] blocked using FBLW15
Nov 20 21:53:29 mx1 postfix/smtp[999]: 1234ABCD: to=<x@y.example>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to y.example[192.0.2.1]:25: Connection timed out)
EOF
"$MT" diagnose --json --year 2026 --format haraka - <"$T/sys.log" >"$T/s.json" 2>"$T/err"; expect_eq "syslog, stdin: exit 0" $? 0
expect_eq "syslog: the haraka line is an attempt" "$(json "$T/s.json" "d['totals']['attempts']")" "$(grep -c 'haraka\[' "$T/sys.log")"
expect_eq "syslog: the postfix line is another program's" "$(json "$T/s.json" "d['input']['other_program_lines']")" \
    "$(grep -c 'postfix/' "$T/sys.log")"
"$MT" events --year 2026 "$T/sys.log" >"$T/s.ndjson" 2>/dev/null
grep -q '"recipient":null,"recipient_domain":"hotmail.com","provider":"microsoft"' "$T/s.ndjson" &&
    ok "no address kept, the refused recipient's domain and provider are" || notok "rcpt: $(cat "$T/s.ndjson")"
finish
