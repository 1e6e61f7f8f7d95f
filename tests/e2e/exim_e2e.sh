#!/usr/bin/env bash
# exim_e2e.sh — end-to-end test of mailtriage against a mainlog written by a
# REAL Exim (Debian's exim4-daemon-light, run from a private directory by
# scripts/start-exim-instance.sh, so the system's Postfix stays installed).
#
# Exim delivers a known set of messages to tests/e2e/smtp_sink.py on
# 127.0.0.1 (first free port of 2640-2649), which injects faults (451 4.3.2
# after DATA, 550 5.1.1 / 450 greylisting / 421 at RCPT) and journals what it
# answered.  The test drives Exim's queue runs every second; the retry rule
# is F,40s,4s, so retries, bounces and expiries happen during the test.
# The expected figures are computed from the sink's journal (what really
# happened on the wire), cross-checked against the mainlog, and compared
# with `mailtriage events --csv` and `mailtriage diagnose --json`, which are
# not told the format (detection).
#
# Output: `ok - ...` / `not ok - ...` per check, then `N passed, M failed`.
# Exit 0 all passed, 1 a check failed, 77 skipped (not root / no python3 /
# no apt-get to fetch Exim).
#
# Environment:
#   MAILTRIAGE          binary under test (default: <repo>/build/mailtriage)
#   E2E_TIMEOUT         seconds to wait for the queue to drain (default 120)
#   E2E_KEEP=1          keep the work directory (it is kept on failure anyway)
#   E2E_SAVE_MAINLOG=F  copy the produced mainlog to F (and the journal to F.journal.ndjson)
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "must run as root (runs a private Exim)"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
MAILTRIAGE=${MAILTRIAGE:-$repo/build/mailtriage}
START=$repo/scripts/start-exim-instance.sh
SINK_HOST=127.0.0.1
TIMEOUT=${E2E_TIMEOUT:-120}

exim=$("$START" binary 2>/tmp/mt-exim-binary.$$.log) ||
    { cat /tmp/mt-exim-binary.$$.log; rm -f /tmp/mt-exim-binary.$$.log; skip "no Exim binary (apt-get download failed)"; }
rm -f /tmp/mt-exim-binary.$$.log

work=$(mktemp -d /tmp/mailtriage-exim-e2e.XXXXXX)
chmod 755 "$work"
sink_pid=
status=1

cleanup() {
    "$START" stop "$work" >/dev/null 2>&1
    if [ -n "$sink_pid" ] && kill -0 "$sink_pid" 2>/dev/null; then
        kill "$sink_pid" 2>/dev/null
        wait "$sink_pid" 2>/dev/null
    fi
    if [ "${E2E_KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then
        echo "# work directory kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bail() { echo "not ok - $*"; echo "0 passed, 1 failed"; exit 1; }

# --- the sink: first free port of 2640-2649 ----------------------------------------
SINK_PORT=2640
while [ "$SINK_PORT" -le 2649 ] && (exec 3<>"/dev/tcp/$SINK_HOST/$SINK_PORT") 2>/dev/null; do
    SINK_PORT=$((SINK_PORT + 1))
done
[ "$SINK_PORT" -le 2649 ] || bail "a free port in 2640-2649 on $SINK_HOST"
python3 "$here/smtp_sink.py" --listen "$SINK_HOST:$SINK_PORT" \
    --journal "$work/journal.ndjson" --pidfile "$work/sink.pid" 2>"$work/sink.log" &
sink_pid=$!
for _ in $(seq 50); do [ -s "$work/sink.pid" ] && break; sleep 0.1; done
[ -s "$work/sink.pid" ] && kill -0 "$sink_pid" 2>/dev/null ||
    bail "smtp_sink.py started ($(tr '\n' ' ' < "$work/sink.log"))"

# --- Exim ---------------------------------------------------------------------------
"$START" start "$work" "$SINK_HOST:$SINK_PORT" >"$work/exim-start.log" 2>&1 ||
    bail "private Exim instance configured ($(tr '\n' ' ' < "$work/exim-start.log"))"

# --- the messages ---------------------------------------------------------------------
# tag | X-Test-Fault | recipients; every (message, recipient domain) pair is unique
run_id=$(date +%s).$$
plan=$work/plan.tsv
: > "$plan"
submit() {
    local tag=$1 fault=$2; shift 2
    local mid="<e2e.$tag.$run_id@sender.example>"
    local msg=$work/msg.$tag.eml
    {
        echo "From: E2E Sender <sender@sender.example>"
        echo "To: $(echo "$@" | sed 's/ /, /g')"
        echo "Subject: mailtriage exim e2e $tag"
        echo "Date: $(LC_ALL=C date -R)"
        echo "Message-ID: $mid"
        [ -n "$fault" ] && echo "X-Test-Fault: $fault"
        echo "MIME-Version: 1.0"
        echo "Content-Type: text/plain; charset=us-ascii"
        echo
        echo "Test message $tag of run $run_id."
    } > "$msg"
    "$START" run "$work" -odi -oi -f sender@sender.example -- "$@" < "$msg" 2>>"$work/submit.log" ||
        bail "exim accepted message $tag"
    printf '%s\t%s\t%s\t%s\n' "$tag" "$mid" "$fault" "$*" >> "$plan"
}
submit clean01  ""          c01@163.com
submit clean02  ""          c02@126.com
submit clean03  ""          c03@qq.com
submit clean04  ""          c04@163.com
submit retry01  data451x2   r01@163.com
submit retry02  data451x2   r02@126.com
submit retry03  data451x2   r03@qq.com
submit expire01 data451     e01@163.com
submit expire02 data451     e02@qq.com
submit bounce01 ""          nouser01@126.com
submit grey01   ""          grey01@qq.com
submit limit01  ""          hl421x1@163.com
# two recipients on one route and host: one SMTP transaction (=> then ->)
submit multi01  data451x1   m01a@163.com m01b@126.com

# --- drive queue runs until the queue is empty ---------------------------------------
start_wait=$(date +%s)
drained=0
while :; do
    n=$("$START" run "$work" -bpc 2>/dev/null || echo err)
    if [ "$n" = 0 ]; then drained=1; break; fi
    [ $(( $(date +%s) - start_wait )) -ge "$TIMEOUT" ] && break
    "$START" run "$work" -q >/dev/null 2>&1
    sleep 1
done
waited=$(( $(date +%s) - start_wait ))
[ $drained = 1 ] || "$START" run "$work" -bp > "$work/queue-at-timeout.txt" 2>&1
"$START" stop "$work" >/dev/null 2>&1
kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; sink_pid=
mainlog=$work/log/mainlog
if [ -n "${E2E_SAVE_MAINLOG:-}" ]; then
    cp "$mainlog" "$E2E_SAVE_MAINLOG"
    cp "$work/journal.ndjson" "$E2E_SAVE_MAINLOG.journal.ndjson"
fi

# --- checks ------------------------------------------------------------------------------
python3 - "$work" "$MAILTRIAGE" "$drained" "$waited" "$SINK_HOST" <<'PY'
import collections, csv, io, json, os, re, subprocess, sys

work, mailtriage, drained, waited, sink_host = sys.argv[1:6]
mainlog = os.path.join(work, "log", "mainlog")
DOMAINS = ("163.com", "126.com", "qq.com")
PROVIDER = {"163.com": "netease", "126.com": "netease", "qq.com": "tencent"}
CN_ROUTE = ("163.com", "126.com")          # via transport remote_cn
passed = failed = 0


def check(cond, desc, detail=None):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + desc)
    else:
        failed += 1
        print("not ok - " + desc)
        if detail is not None:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)
    return cond


def domain(addr):
    return addr.rsplit("@", 1)[-1].lower()


check(drained == "1", "Exim queue drained within the timeout (%ss)" % waited)

plan = []
rcpt_mid = {}
for row in open(os.path.join(work, "plan.tsv"), encoding="utf-8"):
    tag, mid, fault, rcpts = row.rstrip("\n").split("\t")
    m = {"tag": tag, "mid": mid, "fault": fault, "rcpts": rcpts.split()}
    plan.append(m)
    for r in m["rcpts"]:
        rcpt_mid[r.lower()] = mid
plan_by_mid = {m["mid"]: m for m in plan}

journal = []
for line in open(os.path.join(work, "journal.ndjson"), encoding="utf-8"):
    if line.strip():
        journal.append(json.loads(line))
for j in journal:
    if j["message_id"] is None:        # refused at RCPT, no message was sent
        j["message_id"] = rcpt_mid.get(j["recipient"].lower())
journal.sort(key=lambda j: j["time"])
by_rcpt = collections.OrderedDict()
for j in journal:
    by_rcpt.setdefault((j["message_id"], j["recipient"].lower()), []).append(j)
check(journal and all(j["outcome"] != "aborted" for j in journal), "sink saw transactions, none aborted",
      [j for j in journal if j["outcome"] == "aborted"])

# --- the mainlog, read independently of mailtriage -------------------------
STAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) "
ID = r"([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})"
log_lines = open(mainlog, encoding="utf-8", errors="replace").read().splitlines()
arr = re.compile(STAMP + ID + r" <= (\S+) (?:.*? id=(\S+))?")
dl = re.compile(STAMP + ID + r" (=>|->|==|\*\*) (\S+) .*")
id_mid, attempts, bad = {}, [], []
for n, raw in enumerate(log_lines, 1):
    if not re.match(STAMP, raw):
        bad.append(raw)
        continue
    m = arr.match(raw)
    if m:
        # Exim's own bounces are logged without id=; it writes their
        # Message-ID as E<message id>@<primary_hostname>
        id_mid[m.group(2)] = "<%s>" % (m.group(4) or "E%s@exim-e2e.test.invalid" % m.group(2))
        continue
    m = dl.match(raw)
    if m and "retry time not reached" not in raw and not re.search(r"\*\* .*retry timeout exceeded$", raw):
        code = re.search(r"(?:: |C=\")([2-5]\d\d)[ -]", raw)
        flag = m.group(3)
        status = {"=>": "sent", "->": "sent", "==": "deferred", "**": "bounced"}[flag]
        if flag == "**" and code and code.group(1)[0] == "4":
            status = "deferred"     # the attempt got a 4xx; Exim gave up on it (expiry)
        attempts.append({"line": n, "id": m.group(2), "rcpt": m.group(4).lower(), "flag": flag,
                         "status": status, "code": int(code.group(1)) if code else None})
check(not bad, "every mainlog line starts with an Exim timestamp", "\n".join(bad[:5]))
for a in attempts:
    a["mid"] = id_mid.get(a["id"])
mid_id = {v: k for k, v in id_mid.items()}
missing = [m["tag"] for m in plan if m["mid"] not in mid_id]
check(not missing, "Exim logged the Message-ID (id=) of all %d submitted messages" % len(plan), missing)
OUT = {"accepted": "sent", "deferred": "deferred", "bounced": "bounced"}
jm = collections.Counter((j["message_id"], j["recipient"].lower(), OUT.get(j["outcome"]), j["code"]) for j in journal)
lm = collections.Counter((a["mid"], a["rcpt"], a["status"], a["code"]) for a in attempts)
check(len(attempts) == len(journal), "mainlog has one delivery/deferral/failure line per journal line (%d)"
      % len(journal), "mainlog %d, journal %d" % (len(attempts), len(journal)))
check(jm == lm, "mainlog outcomes and codes match the sink's replies one to one",
      "journal only: %s\nmainlog only: %s" % (dict(jm - lm), dict(lm - jm)))

final = {}
for key, js in by_rcpt.items():
    last = js[-1]["outcome"]
    if last == "accepted":
        final[key] = "delivered"
    elif any(j["outcome"] == "bounced" for j in js):
        final[key] = "bounced"
    elif drained == "1":
        final[key] = "expired"
    else:
        final[key] = "deferred"
plan_expired = {m["mid"] for m in plan if m["fault"] == "data451"}
check({k[0] for k, v in final.items() if v == "expired"} == plan_expired,
      "journal: exactly the data451 messages expired (%d)" % len(plan_expired))


def figures(lines, finals):
    stages = collections.OrderedDict()
    for j in lines:
        st = stages.setdefault(j["stage"], {"attempts": 0, "deferred": 0})
        st["attempts"] += 1
        st["deferred"] += j["outcome"] == "deferred"
    c = collections.Counter(finals.values())
    return {"messages": len({k[0] for k in finals}), "recipients": len(finals), "attempts": len(lines),
            "deferred_attempts": sum(j["outcome"] == "deferred" for j in lines),
            "delivered": c["delivered"], "bounced": c["bounced"], "expired": c["expired"],
            "pending": c["deferred"], "stages": dict(stages)}


allfig = figures(journal, final)
sinkj = [j for j in journal if domain(j["recipient"]) in DOMAINS]
provfig = {}
for p in ("netease", "tencent"):
    pj = [j for j in journal if PROVIDER.get(domain(j["recipient"])) == p]
    provfig[p] = {"attempted": len(pj), "accepted": sum(j["outcome"] == "accepted" for j in pj)}
print("# journal, whole log (bounce notifications to sender.example included): %s" % json.dumps(allfig, sort_keys=True))


def run(args):
    p = subprocess.run([mailtriage] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# --- mailtriage events --csv (format detected) --------------------------------
rc, out, err = run(["events", "--csv", mainlog])
check(rc == 0, "mailtriage events --csv exits 0", "rc=%d\n%s" % (rc, err))
check("could not be parsed" not in err, "events: no mainlog line left unparsed", err)
allrows = list(csv.DictReader(io.StringIO(out)))
check(len(allrows) == len(journal), "events: %d rows, one per journal line" % len(journal), "got %d" % len(allrows))
rows = [r for r in allrows if (r.get("recipient_domain") or "").lower() in DOMAINS]
check(len(rows) == len(sinkj), "events: %d attempt rows for 163.com/126.com/qq.com" % len(sinkj), "got %d" % len(rows))


def bare(mid):
    mid = (mid or "").strip()
    return mid[1:-1] if mid.startswith("<") and mid.endswith(">") else mid


groups = collections.defaultdict(list)
for r in rows:
    groups[(bare(r.get("message_id")), r["recipient_domain"].lower())].append(r)


def rc_int(r):
    try:
        return int(r.get("retry_count"))
    except (TypeError, ValueError):
        return -1


for g in groups.values():
    g.sort(key=rc_int)
jgroups = {(bare(mid), domain(rcpt)): (mid, rcpt, js) for (mid, rcpt), js in by_rcpt.items() if domain(rcpt) in DOMAINS}
check(set(groups) == set(jgroups), "events: one row group per journal (message, recipient)",
      "extra %s\nmissing %s" % (set(groups) - set(jgroups), set(jgroups) - set(groups)))
mism = collections.defaultdict(list)
compared = 0
for key, (mid, rcpt, js) in jgroups.items():
    g = groups.get(key, [])
    if not g:
        continue
    compared += 1
    fin = final[(mid, rcpt)]
    if [rc_int(r) for r in g] != list(range(len(js))):
        mism["retry_count"].append((key, [r.get("retry_count") for r in g], len(js)))
    for r, j in zip(g, js):
        if r.get("smtp_stage") != j["stage"]:
            mism["smtp_stage"].append((key, r.get("retry_count"), r.get("smtp_stage"), j["stage"]))
        if r.get("smtp_reply_code") != str(j["code"]):
            mism["smtp_reply_code"].append((key, r.get("retry_count"), r.get("smtp_reply_code"), j["code"]))
        if (r.get("enhanced_status") or None) != j["enhanced_status"] and j["code"] != 250:
            mism["enhanced_status"].append((key, r.get("retry_count"), r.get("enhanced_status"), j["enhanced_status"]))
    if any(r.get("final_queue_status") != fin for r in g):
        mism["final_queue_status"].append((key, [r.get("final_queue_status") for r in g], fin))
    if any(r.get("provider") != PROVIDER[key[1]] for r in g):
        mism["provider"].append((key, [r.get("provider") for r in g]))
    want_route = "remote_cn" if key[1] in CN_ROUTE else "remote_smtp"
    if any(r.get("route") != want_route for r in g):
        mism["route"].append((key, [r.get("route") for r in g], want_route))
    if any(r.get("queue_id") != mid_id.get(mid) for r in g):
        mism["queue_id"].append((key, [r.get("queue_id") for r in g], mid_id.get(mid)))
    if any((r.get("mail_from_domain") or "").lower() != "sender.example" for r in g):
        mism["mail_from_domain"].append((key, [r.get("mail_from_domain") for r in g]))
    if any(r.get("mx_ip") != sink_host for r in g):
        mism["mx_ip"].append((key, [r.get("mx_ip") for r in g]))
    if any(not (r.get("message_size_bytes") or "").isdigit() for r in g):
        mism["message_size_bytes"].append((key, [r.get("message_size_bytes") for r in g]))
have = compared > 0
check(have and not mism["retry_count"], "events: retry_count runs 0..n-1 per recipient, n = journal attempts",
      mism["retry_count"])
for f in ("smtp_stage", "smtp_reply_code", "enhanced_status"):
    check(have and not mism[f], "events: %s of every attempt matches the sink's reply" % f, mism[f])
check(have and not mism["final_queue_status"], "events: final_queue_status (delivered/bounced/expired) per recipient",
      mism["final_queue_status"])
check(have and not mism["provider"], "events: provider netease for 163.com/126.com, tencent for qq.com", mism["provider"])
check(have and not mism["route"], "events: route is the transport (remote_cn for 163/126, remote_smtp for qq)",
      mism["route"])
check(have and not mism["queue_id"], "events: queue_id is Exim's message id", mism["queue_id"])
for f in ("mail_from_domain", "mx_ip", "message_size_bytes"):
    check(have and not mism[f], "events: %s as logged" % f, mism[f])
r4 = [r for r in rows if r.get("enhanced_status") == "4.3.2"]
check(r4 and all(r.get("category") == "receiver_internal" for r in r4),
      "events: category receiver_internal for all %d '451 4.3.2' attempts" % len(r4),
      collections.Counter(r.get("category") for r in r4))
for code, cat in (("550", "user_unknown"), ("450", "greylisting"), ("421", "rate_limit")):
    rr = [r for r in rows if r.get("smtp_reply_code") == code]
    check(rr and all(r.get("category") == cat for r in rr), "events: category %s for the %s attempts" % (cat, code),
          [r.get("category") for r in rr])
badsrc = []
for r in allrows:
    f, _, ln = (r.get("source") or "").rpartition(":")
    ok = ln.isdigit() and os.path.basename(f) == "mainlog" and 1 <= int(ln) <= len(log_lines)
    if ok:
        ok = (r.get("queue_id") or "?") in log_lines[int(ln) - 1]
    if not ok:
        badsrc.append(r.get("source"))
check(allrows and not badsrc, "events: source file:line points at the mainlog line", badsrc[:5])
# +outgoing_interface: Exim 4.96 writes I=[ip] on some lines only; where the
# line has it, it is the sending IP, and where it has not, nothing is made up
badip = []
for r in allrows:
    f, _, ln = (r.get("source") or "").rpartition(":")
    if ln.isdigit() and 1 <= int(ln) <= len(log_lines):
        m = re.search(r" I=\[([^\]]+)\]", log_lines[int(ln) - 1])
        if (r.get("sending_ip") or "") != (m.group(1) if m else ""):
            badip.append((r.get("source"), r.get("sending_ip")))
check(allrows and not badip, "events: sending_ip is the line's I=[ip], empty where Exim did not log one", badip[:5])

# --- mailtriage diagnose --json ----------------------------------------------------
rc, out, err = run(["diagnose", "--json", mainlog])
check(rc == 0, "mailtriage diagnose --json exits 0", "rc=%d\n%s" % (rc, err))
try:
    d = json.loads(out)
except ValueError as e:
    d = {}
    check(False, "diagnose output is JSON", e)
check(d.get("input", {}).get("format") == "exim", "diagnose: input.format is exim (detected)", d.get("input"))
tot = d.get("totals", {})
for k in ("messages", "recipients", "attempts", "delivered", "deferred_attempts", "bounced", "expired", "pending"):
    check(tot.get(k) == allfig[k], "diagnose: totals.%s == %d" % (k, allfig[k]), "got %r" % tot.get(k))
stages = {s.get("stage"): s for s in d.get("stages", []) if isinstance(s, dict)}
for st, f in allfig["stages"].items():
    got = stages.get(st, {})
    check(got.get("attempts") == f["attempts"] and got.get("deferred") == f["deferred"],
          "diagnose: stage %s attempts=%d deferred=%d" % (st, f["attempts"], f["deferred"]), "got %r" % got)
provs = {p.get("provider"): p for p in d.get("providers", []) if isinstance(p, dict)}
for p, f in provfig.items():
    got = provs.get(p, {})
    check(got.get("attempted") == f["attempted"] and got.get("accepted") == f["accepted"],
          "diagnose: provider %s attempted=%d accepted=%d" % (p, f["attempted"], f["accepted"]),
          "got attempted=%r accepted=%r" % (got.get("attempted"), got.get("accepted")))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
status=$?
exit $status
