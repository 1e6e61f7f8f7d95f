# generated.sh - logs written by our generator (bench/genlog.c), whose own
# account of what it generated (its stderr summary) is the ground truth:
# totals, per-provider and per-stage figures must match it exactly, and the
# same log read gzip'd, zstd'd, split into a rotated set, in RFC 3339
# stamps or from stdin must give the same figures.
source "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-$(dirname "$MT")/genlog}
[ -x "$GENLOG" ] || GENLOG=$ROOT/build/genlog
[ -x "$GENLOG" ] || { echo "SKIP: no genlog binary"; exit 77; }

summary() { # summary FILE KEY -> value from genlog's key=value lines
    python3 - "$1" "$2" <<'PY'
import sys, re
want = sys.argv[2]
for line in open(sys.argv[1]):
    if line.startswith('genlog: provider=') or 'pflogsumm' in line or 'expect' in line:
        continue
    for k, v in re.findall(r'(\w+)=(\S+)', line):
        if k == want:
            print(v); sys.exit(0)
print("missing")
PY
}

check_totals() { # check_totals LABEL JSON GENLOG_STDERR
    local j=$2 g=$3 dsn; dsn=$(summary "$g" dsn_sent)
    expect_eq "$1: attempts" "$(json "$j" "d['totals']['attempts']")" $(( $(summary "$g" attempts) + dsn ))
    expect_eq "$1: delivered" "$(json "$j" "d['totals']['delivered']")" $(( $(summary "$g" sent) + dsn ))
    expect_eq "$1: deferred attempts" "$(json "$j" "d['totals']['deferred_attempts']")" "$(summary "$g" deferrals)"
    expect_eq "$1: bounced" "$(json "$j" "d['totals']['bounced']")" "$(summary "$g" bounced)"
    expect_eq "$1: expired" "$(json "$j" "d['totals']['expired']")" "$(summary "$g" expired_recipients)"
    expect_eq "$1: unparsed" "$(json "$j" "d['input']['unparsed_lines']")" 0
    expect_eq "$1: lines" "$(json "$j" "d['input']['lines']")" "$(summary "$g" lines)"
}

# 1. a drained queue: every message and recipient accounted for
"$GENLOG" --messages 4000 --seed 11 --scenario netease-receiver-window >"$T/a.log" 2>"$T/a.sum"
"$MT" diagnose --json "$T/a.log" >"$T/a.json" 2>/dev/null
check_totals "drained" "$T/a.json" "$T/a.sum"
dsn=$(summary "$T/a.sum" dsn_sent)
expect_eq "drained: messages" "$(json "$T/a.json" "d['totals']['messages']")" $(( $(summary "$T/a.sum" messages) + dsn ))
expect_eq "drained: recipients" "$(json "$T/a.json" "d['totals']['recipients']")" $(( $(summary "$T/a.sum" recipients) + dsn ))
expect_eq "drained: pending" "$(json "$T/a.json" "d['totals']['pending']")" 0
# per provider, for the providers the generator names
grep '^genlog: provider=' "$T/a.sum" | grep -v 'provider=other' | while read -r line; do
    p=$(echo "$line" | sed 's/.*provider=\([a-z]*\).*/\1/')
    for k in attempts:attempted deferrals:deferred bounced:bounced; do
        g=${k%%:*} m=${k##*:}
        want=$(echo "$line" | sed "s/.* $g=\([0-9]*\).*/\1/")
        got=$(json "$T/a.json" "[x['$m'] for x in d['providers'] if x['provider']=='$p'][0]")
        [ "$got" = "$want" ] && echo "ok - drained: $p $m" || echo "not ok - drained: $p $m: got $got want $want"
    done
done >"$T/prov"
npass=$((npass + $(grep -c '^ok' "$T/prov"))); nfail=$((nfail + $(grep -c '^not ok' "$T/prov"))); cat "$T/prov"
# per stage: the generator counts lost connections apart
st() { summary "$T/a.sum" "$1"; }
expect_eq "drained: rcpt deferrals" "$(json "$T/a.json" "[s['deferred'] for s in d['stages'] if s['stage']=='rcpt'][0]")" $(( $(st rcpt) + $(st lost_rcpt) ))
expect_eq "drained: data_end deferrals" "$(json "$T/a.json" "[s['deferred'] for s in d['stages'] if s['stage']=='data_end'][0]")" $(( $(st data_end) + $(st lost_data) ))
expect_eq "drained: connect deferrals" "$(json "$T/a.json" "sum(s['deferred'] for s in d['stages'] if s['stage']=='connect')")" "$(st connect)"
# the window's 451 4.3.2 replies are the receiver's generic text
expect_eq "drained: 451 4.3.2 flagged generic" "$(json "$T/a.json" "[r['generic_frontend'] for p in d['providers'] if p['provider']=='netease' for r in p['top_replies'] if r['reply'].startswith('451 4.3.2')][0]")" True

# 2. the same log, compressed, rotated, restamped, piped: same figures
gzip -c "$T/a.log" >"$T/a.log.gz"; zstd -q -c "$T/a.log" >"$T/a.log.zst"
"$MT" diagnose --json "$T/a.log.gz" >"$T/gz.json" 2>/dev/null
"$MT" diagnose --json "$T/a.log.zst" >"$T/zst.json" 2>/dev/null
"$MT" diagnose --json - <"$T/a.log" >"$T/stdin.json" 2>/dev/null
total=$(wc -l <"$T/a.log"); third=$((total / 3))
mkdir -p "$T/rot"
head -n $third "$T/a.log" | gzip >"$T/rot/mail.log.2.gz"
sed -n "$((third + 1)),$((2 * third))p" "$T/a.log" >"$T/rot/mail.log.1"
tail -n +$((2 * third + 1)) "$T/a.log" | zstd -q >"$T/rot/mail.log"
# given in the wrong order on purpose: the tool sorts the set
"$MT" diagnose --json "$T/rot/mail.log" "$T/rot/mail.log.1" "$T/rot/mail.log.2.gz" >"$T/rot.json" 2>/dev/null
for v in gz zst stdin rot; do
    expect_eq "$v: same totals as plain" "$(json "$T/$v.json" "d['totals']")" "$(json "$T/a.json" "d['totals']")"
done

# 3. RFC 3339 stamps, Postfix 3.11 tls= fields, log cut mid-flight
"$GENLOG" --size 8 --seed 3 --format rfc3339 --tls-field >"$T/b.log" 2>"$T/b.sum"
"$MT" diagnose --json "$T/b.log" >"$T/b.json" 2>/dev/null
check_totals "rfc3339+tls=, cut" "$T/b.json" "$T/b.sum"
# recipients still queued when the log ends: those with an attempt
pend=$(json "$T/b.json" "d['totals']['pending']")
[ "$pend" -gt 0 ] && [ "$pend" -le "$(summary "$T/b.sum" pending_recipients)" ] && ok "cut log: $pend recipients still queued" || notok "cut log pending $pend"

# 4. one thread or two: the same answer, also across a Dec -> Jan turn
#    that falls between the chunks the two threads parse
"$GENLOG" --size 6 --rate 150 --seed 9 --start 2026-12-31T12:00:00Z >"$T/c.log" 2>"$T/c.sum"
touch -d 2027-01-02 "$T/c.log"
for t in 1 2; do "$MT" diagnose --json --threads $t "$T/c.log" >"$T/c$t.json" 2>/dev/null; done
cmp -s "$T/c1.json" "$T/c2.json" && ok "threads 1 and 2 agree (year turn)" || notok "threads 1 and 2 differ"
expect_eq "year turn: first attempt in 2026" "$(json "$T/c2.json" "d['input']['first_attempt'][:4]")" 2026
expect_eq "year turn: last attempt in 2027" "$(json "$T/c2.json" "d['input']['last_attempt'][:4]")" 2027
for t in 1 2; do "$MT" events --csv --show-recipients --threads $t "$T/c.log" 2>/dev/null | sort >"$T/e$t.csv"; done
cmp -s "$T/e1.csv" "$T/e2.csv" && ok "events: threads 1 and 2 agree" || notok "events: threads 1 and 2 differ"
for t in 1 2; do "$MT" diagnose --json --threads $t "$T/a.log" >"$T/a$t.json" 2>/dev/null; done
cmp -s "$T/a1.json" "$T/a2.json" && ok "threads 1 and 2 agree (drained log)" || notok "threads 1 and 2 differ (drained)"

# 5. events: one row per attempt, header exactly the SPEC fields
"$MT" events --csv "$T/a.log" >"$T/a.csv" 2>/dev/null
expect_eq "events csv header" "$(head -1 "$T/a.csv")" "timestamp,source,queue_id,message_id,route,sending_ip,helo_name,mail_from_domain,header_from_domain,recipient,recipient_domain,provider,mx_host,mx_ip,smtp_stage,smtp_reply_code,enhanced_status,smtp_reply_text,category,message_template_id,message_size_bytes,attachment_types,retry_count,delay_seconds,final_queue_status"
rows=$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1]))))' "$T/a.csv")
expect_eq "events rows = attempts" "$rows" "$(json "$T/a.json" "d['totals']['attempts']")"
"$MT" events "$T/a.log" 2>/dev/null | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    r = json.loads(line); n += 1
    assert r["final_queue_status"] in ("delivered", "deferred", "bounced", "expired"), r
    assert r["retry_count"] >= 0
    if r["smtp_reply_code"] is not None and 400 <= r["smtp_reply_code"] < 500:
        assert r["category"] not in ("none",), r
print(n)' >"$T/n" 2>"$T/err" && ok "events ndjson: every record valid ($(cat "$T/n"))" || notok "events ndjson: $(tail -3 "$T/err")"
# retry discipline: a recipient that only ever saw 4xx is never "bounced"
python3 - "$T/a.csv" <<'PY' && ok "4xx-only recipients never marked bounced" || notok "4xx-only recipients marked bounced"
import csv, sys, collections
codes = collections.defaultdict(list); final = {}
for r in csv.DictReader(open(sys.argv[1])):
    k = (r["queue_id"], r["recipient"]); codes[k].append(r["smtp_reply_code"]); final[k] = r["final_queue_status"]
bad = [k for k, c in codes.items() if final[k] == "bounced" and not any(x.startswith("5") for x in c if x)]
sys.exit(1 if bad else 0)
PY
finish
