# scenarios.sh - the diagnosis reaches the expert's conclusion: for every
# cause, our generator writes a realistic log (healthy background of other
# senders and providers, retries, expiries, noise) with one fault injected
# and says which cause and cohort it injected (its "expect" line); the
# first finding must name that cause and scope.  Healthy logs must produce
# no finding at confidence 0.5 or above.
source "$(dirname "$0")/lib.sh"
GENLOG=${GENLOG:-$(dirname "$MT")/genlog}
[ -x "$GENLOG" ] || GENLOG=$ROOT/build/genlog
[ -x "$GENLOG" ] || { echo "SKIP: no genlog binary"; exit 77; }

check_scenario() { # check_scenario NAME SEED
    "$GENLOG" --messages 6000 --seed "$2" --scenario "$1" >"$T/s.log" 2>"$T/s.sum"
    local exp; exp=$(grep '^genlog: expect cause=' "$T/s.sum" | sed 's/^genlog: expect //')
    "$MT" diagnose --json "$T/s.log" >"$T/s.json" 2>"$T/err" || { notok "$1/$2: diagnose failed: $(cat "$T/err")"; return; }
    python3 - "$T/s.json" "$exp" "$1/$2" <<'PY' >>"$T/results"
import json, sys
d = json.load(open(sys.argv[1]))
exp = dict(kv.split("=", 1) for kv in sys.argv[2].split())
name = sys.argv[3]
f = d["findings"]
def show(x):
    sc = ",".join("%s:%s" % kv for kv in x["scope"].items()) or "-"
    return "%s %s %s %.2f" % (x["cause"], x["provider"], sc, x["confidence"])
if exp["cause"] == "none":
    worst = max([x["confidence"] for x in f] or [0])
    if worst < 0.5:
        print("ok - %s: no confident finding (highest %.2f)" % (name, worst))
    else:
        print("not ok - %s: confident finding in a healthy log: %s" % (name, show([x for x in f if x["confidence"] >= 0.5][0])))
    sys.exit(0)
if not f:
    print("not ok - %s: no finding, expected %s" % (name, sys.argv[2])); sys.exit(0)
x = f[0]
scope = ",".join("%s:%s" % kv for kv in x["scope"].items()) or "-"
good = x["cause"] == exp["cause"] and scope == exp["scope"] and exp["provider"] in ("-", x["provider"])
print("%s - %s: findings[0] = %s (expected %s)" % ("ok" if good else "not ok", name, show(x), sys.argv[2]))
# every finding carries evidence and next steps, and a confidence in [0, 1]
bad = [y for y in f if not y["evidence"] or not y["next_steps"] or not 0 <= y["confidence"] <= 1]
print("%s - %s: every finding has evidence and next steps" % ("not ok" if bad else "ok", name))
PY
}

: >"$T/results"
for sc in $("$GENLOG" --list-scenarios | awk '{print $1}'); do
    for seed in 3 8; do check_scenario "$sc" "$seed"; done
done
for seed in 5 13 21; do check_scenario healthy "$seed"; done
cat "$T/results"
npass=$((npass + $(grep -c '^ok' "$T/results"))); nfail=$((nfail + $(grep -c '^not ok' "$T/results")))

# the evidence bundle: one per critical finding, with the seed's fields
"$GENLOG" --messages 6000 --seed 3 --scenario route-fails-netease >"$T/r.log" 2>/dev/null
"$MT" diagnose --markdown --routes /dev/stdin "$T/r.log" >"$T/r.md" 2>"$T/err" <<'ROUTES'
mx2:postfix-cn 203.0.113.21 cn.mx2.example.net
ROUTES
expect_eq "markdown exits 0" $? 0
for field in "Sender domain:" "Sending IP: 203.0.113.21" "HELO: cn.mx2.example.net" "Recipient domains:" "Failure window:" \
    "SMTP stage: mail" "Reply: 451 4.3.2 Internal server error" "Retry outcome:" "Message size:" "Attachment types:" \
    "Authentication status:"; do
    grep -qF "$field" "$T/r.md" && ok "bundle has '$field'" || notok "bundle lacks '$field'"
done
# with --routes the IP is named, not the route
"$MT" diagnose --json --routes /dev/stdin "$T/r.log" >"$T/r.json" 2>/dev/null <<'ROUTES'
mx2:postfix-cn 203.0.113.21 cn.mx2.example.net
ROUTES
expect_eq "with --routes the scope is the sending IP" "$(json "$T/r.json" "d['findings'][0]['scope']")" "{'sending_ip': '203.0.113.21'}"
expect_eq "the route failing every attempt is critical" "$(json "$T/r.json" "d['findings'][0]['band']")" critical
expect_eq "... and persistent" "$(json "$T/r.json" "d['findings'][0]['pattern']")" persistent
expect_eq "its sender cohort is critical too" "$(json "$T/r.json" "[s['band'] for s in d['senders'] if s['sending_ip']=='203.0.113.21' and s['provider']=='netease'][0]")" critical
# a 4xx-only recipient is never listed as suppressible
python3 - "$T/r.json" <<'PY' && ok "4xx-deferred recipients are kept, not suppressed" || notok "4xx recipients listed as suppressible"
import json, sys
d = json.load(open(sys.argv[1]))
p = [x for x in d["providers"] if x["provider"] == "netease"][0]["retry_outcome"]
assert p["keep_only_4xx"]["count"] > 0, p
assert all("…@" in e for e in p["keep_only_4xx"]["examples"]), p   # redacted by default
PY
# the full keep and suppress lists: every 4xx-only recipient still queued
# or expired, every recipient refused as not existing, and nobody in both
"$MT" diagnose --show-recipients --keep-list "$T/keep.csv" --suppress-list "$T/sup.csv" --json "$T/r.log" >"$T/r2.json" 2>/dev/null
expect_eq "lists: exit 0" $? 0
python3 - "$T/r2.json" "$T/keep.csv" "$T/sup.csv" <<'PY' && ok "keep/suppress lists match the counts, 4xx and 5xx apart" || notok "keep/suppress lists"
import csv, json, sys
d = json.load(open(sys.argv[1]))
keep = list(csv.DictReader(open(sys.argv[2])))
sup = list(csv.DictReader(open(sys.argv[3])))
want_keep = sum(p["retry_outcome"]["keep_only_4xx"]["count"] for p in d["providers"])
want_sup = sum(p["retry_outcome"]["suppressible_5xx"]["count"] for p in d["providers"])
assert len(keep) == want_keep and len(sup) == want_sup, (len(keep), want_keep, len(sup), want_sup)
assert all(r["final_queue_status"] in ("deferred", "expired") and (r["smtp_reply_code"] == "" or r["smtp_reply_code"].startswith("4")) for r in keep)  # "": no reply at all (a timeout)
assert all(r["final_queue_status"] == "bounced" and r["smtp_reply_code"].startswith("5") for r in sup)
assert not {r["recipient"] for r in keep} & {r["recipient"] for r in sup}
assert all("@" in r["recipient"] and "…" not in r["recipient"] for r in keep)
PY
"$MT" diagnose --keep-list "$T/k.csv" "$T/r.log" >/dev/null 2>&1
expect_eq "lists need --show-recipients" $? 2

# queue settings are derived from the accepted volume
grep -q "destination_rate_delay" "$T/r.md" && notok "markdown carries no config" || ok "markdown is the bundle only"
"$MT" diagnose "$T/r.log" >"$T/r.txt" 2>/dev/null
grep -q "throttle_netease_destination_rate_delay = " "$T/r.txt" && ok "text report has Postfix queue settings" || notok "no Postfix queue settings"
grep -q "max_parallel" "$T/r.txt" && ok "text report has the Exim equivalent" || notok "no Exim settings"
head -3 "$T/r.txt" | grep -q . && sed -n '1,4p' "$T/r.txt" | grep -q "Diagnosis" && ok "text report starts with the diagnosis" || notok "text report order"
finish
