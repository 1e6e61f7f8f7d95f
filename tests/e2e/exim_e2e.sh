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

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
START=$repo/scripts/start-exim-instance.sh
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || skip "must run as root (runs a private Exim)"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"

MAILTRIAGE=${MAILTRIAGE:-$repo/build/mailtriage}
SINK_HOST=127.0.0.1
TIMEOUT=${E2E_TIMEOUT:-120}

exim=$("$START" binary 2>/tmp/mt-exim-binary.$$.log) ||
    { cat /tmp/mt-exim-binary.$$.log; rm -f /tmp/mt-exim-binary.$$.log; skip "no Exim binary (apt-get download failed)"; }
rm -f /tmp/mt-exim-binary.$$.log

work=$(mktemp -d /tmp/mailtriage-exim-e2e.XXXXXX)
chmod 755 "$work"
sink_pid=
status=1

e2e_traps

# --- the sink: first free port of 2640-2649 ----------------------------------------
SINK_PORT=2640
while [ "$SINK_PORT" -le 2649 ] && (exec 3<>"/dev/tcp/$SINK_HOST/$SINK_PORT") 2>/dev/null; do
    SINK_PORT=$((SINK_PORT + 1))
done
[ "$SINK_PORT" -le 2649 ] || bail "a free port in 2640-2649 on $SINK_HOST"
e2e_start_sink "$SINK_HOST" "$SINK_PORT"

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
e2e_stop_sink
mainlog=$work/log/mainlog
if [ -n "${E2E_SAVE_MAINLOG:-}" ]; then
    cp "$mainlog" "$E2E_SAVE_MAINLOG"
    cp "$work/journal.ndjson" "$E2E_SAVE_MAINLOG.journal.ndjson"
fi

# --- checks ------------------------------------------------------------------------------
PYTHONPATH=$here python3 - "$work" "$MAILTRIAGE" "$drained" "$waited" "$SINK_HOST" <<'PY'
import collections, csv, io, json, os, re, sys
from e2e_journal import (CN_ROUTE, DOMAINS, Checks, attempt_mismatches, check_attempts, check_categories,
                         check_diagnose, domain, event_groups, figures, final_status, provider_figures, read_journal,
                         read_plan, runner)

work, mailtriage, drained, waited, sink_host = sys.argv[1:6]
mainlog = os.path.join(work, "log", "mainlog")
# CN_ROUTE (163.com, 126.com) goes via transport remote_cn
check = Checks()
run = runner(mailtriage)

check(drained == "1", "Exim queue drained within the timeout (%ss)" % waited)

plan, rcpt_mid, _ = read_plan(work, ("tag", "mid", "fault", "rcpts"))
journal, by_rcpt = read_journal(work, rcpt_mid)
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

final = final_status(by_rcpt, drained)
plan_expired = {m["mid"] for m in plan if m["fault"] == "data451"}
check({k[0] for k, v in final.items() if v == "expired"} == plan_expired,
      "journal: exactly the data451 messages expired (%d)" % len(plan_expired))


allfig = figures(journal, final)
sinkj = [j for j in journal if domain(j["recipient"]) in DOMAINS]
provfig = provider_figures(journal)
print("# journal, whole log (bounce notifications to sender.example included): %s" % json.dumps(allfig, sort_keys=True))


# --- mailtriage events --csv (format detected) --------------------------------
rc, out, err = run(["events", "--csv", mainlog])
check(rc == 0, "mailtriage events --csv exits 0", "rc=%d\n%s" % (rc, err))
check("could not be parsed" not in err, "events: no mainlog line left unparsed", err)
allrows = list(csv.DictReader(io.StringIO(out)))
check(len(allrows) == len(journal), "events: %d rows, one per journal line" % len(journal), "got %d" % len(allrows))
rows = [r for r in allrows if (r.get("recipient_domain") or "").lower() in DOMAINS]
check(len(rows) == len(sinkj), "events: %d attempt rows for 163.com/126.com/qq.com" % len(sinkj), "got %d" % len(rows))


groups, jgroups = event_groups(check, rows, by_rcpt)
mism = collections.defaultdict(list)
compared = 0
for key, (mid, rcpt, js) in jgroups.items():
    g = groups.get(key, [])
    if not g:
        continue
    compared += 1
    attempt_mismatches(mism, key, g, js, final[(mid, rcpt)], sink_host, enh_when_accepted=False)
    want_route = "remote_cn" if key[1] in CN_ROUTE else "remote_smtp"
    if any(r.get("route") != want_route for r in g):
        mism["route"].append((key, [r.get("route") for r in g], want_route))
    if any(r.get("queue_id") != mid_id.get(mid) for r in g):
        mism["queue_id"].append((key, [r.get("queue_id") for r in g], mid_id.get(mid)))
    if any(not (r.get("message_size_bytes") or "").isdigit() for r in g):
        mism["message_size_bytes"].append((key, [r.get("message_size_bytes") for r in g]))
have = compared > 0
check_attempts(check, have, mism)
check(have and not mism["route"], "events: route is the transport (remote_cn for 163/126, remote_smtp for qq)",
      mism["route"])
check(have and not mism["queue_id"], "events: queue_id is Exim's message id", mism["queue_id"])
for f in ("mail_from_domain", "mx_ip", "message_size_bytes"):
    check(have and not mism[f], "events: %s as logged" % f, mism[f])
check_categories(check, rows)
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
d = check_diagnose(check, out, allfig, provfig, domains=False)
check(d.get("input", {}).get("format") == "exim", "diagnose: input.format is exim (detected)", d.get("input"))
check.finish()
PY
status=$?
exit $status
