#!/usr/bin/env bash
# postfix_e2e.sh — end-to-end test of mailtriage against logs written by a REAL Postfix.
#
# A private, loopback-only Postfix instance (scripts/start-postfix-instance.sh)
# delivers a known set of messages to tests/e2e/smtp_sink.py on 127.0.0.2:2525,
# which injects faults (451 4.3.2 after DATA, 550 5.1.1 and 450 greylisting at
# RCPT) and journals what it answered.  Retry timers are seconds and the queue
# lifetime 40 s, so retries, bounces and expiries all happen during the test.
# The expected figures are computed from the sink's journal (what really
# happened on the wire), cross-checked against the maillog, and then compared
# with `mailtriage events --csv` and `mailtriage diagnose --json`.
#
# Output: `ok - ...` / `not ok - ...` per check, then `N passed, M failed`.
# Exit 0 all passed, 1 a check failed, 77 skipped (not root / no Postfix).
#
# Environment:
#   MAILTRIAGE          binary under test (default: <repo>/build/mailtriage)
#   E2E_POSTFIX_ONLY=1  only the Postfix/sink half (no mailtriage checks)
#   E2E_SINK_HOST/PORT  sink address (default 127.0.0.2 / 2525)
#   E2E_TIMEOUT         seconds to wait for the queue to drain (default 120)
#   E2E_KEEP=1          keep the work directory (it is kept on failure anyway)
#   E2E_SAVE_MAILLOG=F  copy the produced maillog to F (and the journal to F.journal.ndjson)
#
# Postfix pitfalls handled here: root may use `postfix -c DIR` / `sendmail -C
# DIR` without alternate_config_directories in /etc/postfix/main.cf (which is
# neither read nor created); maillog_file must lie under maillog_file_prefixes;
# Postfix logs expiry once per message (qmgr: "status=expired, returned to
# sender") after the last deferred attempt, never per recipient.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
START=$repo/scripts/start-postfix-instance.sh
. "$here/lib.sh"
[ "$(id -u)" = 0 ] || skip "must run as root (starts a private Postfix instance)"
for c in postfix sendmail postqueue python3; do
    command -v "$c" >/dev/null 2>&1 || skip "$c not found (apt-get install postfix python3)"
done

MAILTRIAGE=${MAILTRIAGE:-$repo/build/mailtriage}
SINK_HOST=${E2E_SINK_HOST:-127.0.0.2}
SINK_PORT=${E2E_SINK_PORT:-2525}
TIMEOUT=${E2E_TIMEOUT:-120}
case $SINK_HOST in 127.*) ;; *) echo "E2E_SINK_HOST must be a 127.x address" >&2; exit 2 ;; esac

work=$(mktemp -d /tmp/mailtriage-e2e.XXXXXX)
conf=$work/conf
sink_pid=
status=1

e2e_traps

# --- the sink -----------------------------------------------------------------
# unless a port was asked for, take the first free one from 2525 up, so a
# leftover listener (another run, another test) cannot fail this one
if [ -z "${E2E_SINK_PORT:-}" ]; then
    while [ "$SINK_PORT" -lt 2600 ] && (exec 3<>"/dev/tcp/$SINK_HOST/$SINK_PORT") 2>/dev/null; do
        SINK_PORT=$((SINK_PORT + 1))
    done
fi
if (exec 3<>"/dev/tcp/$SINK_HOST/$SINK_PORT") 2>/dev/null; then
    bail "sink address $SINK_HOST:$SINK_PORT is not free (something already listens there)"
fi
e2e_start_sink "$SINK_HOST" "$SINK_PORT"

# --- Postfix --------------------------------------------------------------------
"$START" start "$work" "$SINK_HOST:$SINK_PORT" >"$work/postfix-start.log" 2>&1 ||
    bail "private Postfix instance started ($(tr '\n' ' ' < "$work/postfix-start.log"))"

# --- the messages -----------------------------------------------------------------
# tag | X-Test-Fault | X-Template-Id | recipients (space separated)
# Every (message, recipient domain) pair is unique, so the checker can match
# mailtriage's (possibly redacted) rows on message_id + recipient_domain.
run_id=$(date +%s).$$
plan=$work/plan.tsv
: > "$plan"
submit() {
    local tag=$1 fault=$2 template=$3; shift 3
    local mid="<e2e.$tag.$run_id@sender.example>"
    local msg=$work/msg.$tag.eml
    {
        echo "From: E2E Sender <sender@sender.example>"
        echo "To: $(echo "$@" | sed 's/ /, /g')"
        echo "Subject: mailtriage e2e $tag"
        echo "Date: $(LC_ALL=C date -R)"
        echo "Message-ID: $mid"
        echo "X-Template-Id: $template"
        [ -n "$fault" ] && echo "X-Test-Fault: $fault"
        echo "MIME-Version: 1.0"
        echo "Content-Type: text/plain; charset=us-ascii"
        echo
        echo "Test message $tag of run $run_id."
    } > "$msg"
    sendmail -C "$conf" -f sender@sender.example -i -- "$@" < "$msg" ||
        bail "sendmail accepted message $tag"
    printf '%s\t%s\t%s\t%s\t%s\n' "$tag" "$mid" "$fault" "$template" "$*" >> "$plan"
}
submit clean01  ""          welcome    c01@163.com
submit clean02  ""          welcome    c02@126.com
submit clean03  ""          welcome    c03@qq.com
submit clean04  ""          welcome    c04@163.com
submit clean05  ""          welcome    c05@126.com
submit clean06  ""          welcome    c06@qq.com
submit retry01  data451x2   invoice    r01@163.com
submit retry02  data451x2   invoice    r02@126.com
submit retry03  data451x2   invoice    r03@qq.com
submit expire01 data451     newsletter e01@163.com
submit expire02 data451     newsletter e02@qq.com
submit bounce01 ""          welcome    nouser01@126.com
submit grey01   ""          welcome    grey01@qq.com
# 421 at RCPT once (Netease-style connection limit); Postfix 3.7 defers just this
# message, it does not throttle the next hop.
submit limit01  ""          welcome    hl421x1@163.com
# Two recipients on the same next hop (smtp-cn:[sink]) -> one SMTP transaction.
submit multi01  data451x1   digest     m01a@163.com m01b@126.com

# --- wait for the queue to drain (deliveries, retries, expiries, bounces) -------
start_wait=$(date +%s)
drained=0
while :; do
    if postqueue -c "$conf" -p 2>&1 | grep -q "Mail queue is empty"; then
        drained=1; break
    fi
    [ $(( $(date +%s) - start_wait )) -ge "$TIMEOUT" ] && break
    sleep 1
done
waited=$(( $(date +%s) - start_wait ))
[ $drained = 1 ] || postqueue -c "$conf" -p > "$work/queue-at-timeout.txt" 2>&1
sleep 1   # let postlogd write the last datagrams
"$START" stop "$work" >/dev/null 2>&1
e2e_stop_sink
if [ -n "${E2E_SAVE_MAILLOG:-}" ]; then
    cp "$work/maillog" "$E2E_SAVE_MAILLOG"
    cp "$work/journal.ndjson" "$E2E_SAVE_MAILLOG.journal.ndjson"
fi

# --- checks -------------------------------------------------------------------------
PYTHONPATH=$here python3 - "$work" "$MAILTRIAGE" "${E2E_POSTFIX_ONLY:-0}" "$drained" "$waited" "$SINK_HOST" <<'PY'
import collections, csv, io, json, os, re, sys
from e2e_journal import (CN_ROUTE, DOMAINS, Checks, attempt_mismatches, bare, check_attempts,
                         check_categories, check_diagnose, domain, event_groups, figures, final_status,
                         provider_figures, read_journal, read_plan, runner)

work, mailtriage, postfix_only, drained, waited, sink_host = sys.argv[1:7]
postfix_only = postfix_only == "1"
maillog = os.path.join(work, "maillog")
# CN_ROUTE (163.com, 126.com) goes via smtp-cn, syslog_name=postfix-cn
check = Checks()
run = runner(mailtriage)

check(drained == "1", "Postfix queue drained within the timeout (%ss)" % waited)

plan, rcpt_mid, plan_by_mid = read_plan(work, ("tag", "mid", "fault", "template", "rcpts"))
journal, by_rcpt = read_journal(work, rcpt_mid)

check(all(j["outcome"] != "aborted" for j in journal),
      "sink saw no aborted transactions",
      [j for j in journal if j["outcome"] == "aborted"])

# --- maillog ------------------------------------------------------------
LINE = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?) (\S+) ([\w.-]+)/([\w.-]+)\[(\d+)\]: (.*)$")
STATUS = re.compile(r"^([0-9A-Za-z]+): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+), "
                    r"(?:conn_use=\d+, )?delay=[\d.]+, delays=[\d./]+, dsn=(\d\.\d+\.\d+), "
                    r"status=(\w+) \((.*)\)$")
log_lines = open(maillog, encoding="utf-8", errors="replace").read().splitlines()
unmatched, qid_mid, statuses, expired_qids, notices, problems = [], {}, [], set(), {}, []
for n, raw in enumerate(log_lines, 1):
    m = LINE.match(raw)
    if not m:
        unmatched.append(raw)
        continue
    tag, prog, msg = m.group(3), m.group(4), m.group(6)
    if re.match(r"^(warning|fatal|panic|error):", msg):
        problems.append(raw)
    mm = re.match(r"^([0-9A-Za-z]+): message-id=(<[^>]*>)", msg)
    if mm and prog == "cleanup":
        qid_mid[mm.group(1)] = mm.group(2)
    ms = STATUS.match(msg)
    if ms:
        statuses.append({"line": n, "syslog_name": tag, "prog": prog, "qid": ms.group(1),
                         "rcpt": ms.group(2).lower(), "relay": ms.group(3),
                         "dsn": ms.group(4), "status": ms.group(5), "text": ms.group(6)})
    me = re.match(r"^([0-9A-Za-z]+): from=<[^>]*>, status=expired, returned to sender$", msg)
    if me:
        expired_qids.add(me.group(1))
    mn = re.match(r"^([0-9A-Za-z]+): sender non-delivery notification: ([0-9A-Za-z]+)$", msg)
    if mn:
        notices[mn.group(2)] = mn.group(1)
mid_qid = {v: k for k, v in qid_mid.items()}

check(not unmatched, "every maillog line has the syslog shape", "\n".join(unmatched[:5]))
check(not problems, "maillog has no warning/fatal/panic lines", "\n".join(problems[:5]))
missing = [m["tag"] for m in plan if m["mid"] not in mid_qid]
check(not missing, "cleanup logged the Message-ID of all %d submitted messages" % len(plan), missing)
for s in statuses:
    s["mid"] = qid_mid.get(s["qid"])

# Each journal line (one recipient, one transaction) <-> one smtp status line.
OUT2STATUS = {"accepted": "sent", "deferred": "deferred", "bounced": "bounced"}
jm = collections.Counter((j["message_id"], j["recipient"].lower(), OUT2STATUS.get(j["outcome"]),
                          j["enhanced_status"]) for j in journal)
lm = collections.Counter((s["mid"], s["rcpt"], s["status"], s["dsn"]) for s in statuses)
check(len(statuses) == len(journal),
      "maillog has one delivery status line per journal line (%d)" % len(journal),
      "maillog %d, journal %d" % (len(statuses), len(journal)))
check(jm == lm, "maillog statuses/dsn match the sink's replies one to one",
      "journal only: %s\nmaillog only: %s" % (dict(jm - lm), dict(lm - jm)))
check(all(s["relay"].startswith("%s[%s]:" % (sink_host, sink_host)) for s in statuses),
      "every delivery went to the sink %s" % sink_host,
      [s["relay"] for s in statuses if not s["relay"].startswith(sink_host)][:5])
bad = [(s["rcpt"], s["syslog_name"]) for s in statuses
       if s["syslog_name"] != ("postfix-cn" if domain(s["rcpt"]) in CN_ROUTE else "postfix")
       or s["prog"] != "smtp"]
check(not bad, "163.com/126.com logged as postfix-cn/smtp, the others as postfix/smtp", bad[:5])
texts = {s["text"] for s in statuses if s["dsn"] == "4.3.2"}
check(texts and all(t.endswith("(in reply to end of DATA command)") and "451 4.3.2 Internal server error" in t
                    for t in texts), "451 4.3.2 is logged 'in reply to end of DATA command'", texts)

# --- plan vs journal (the sink did what the plan says) -------------------
def seq(mid, rcpt):
    return [(j["stage"], j["code"], j["outcome"]) for j in by_rcpt.get((mid, rcpt.lower()), [])]

for m in plan:
    for r in m["rcpts"]:
        s = seq(m["mid"], r)
        if m["fault"] == "" and r.startswith("nouser"):
            ok = s == [("rcpt", 550, "bounced")]
            what = "refused once at RCPT with 550"
        elif m["fault"] == "" and r.startswith("hl421x1"):
            ok = s == [("rcpt", 421, "deferred"), ("data_end", 250, "accepted")]
            what = "421 at RCPT once, then accepted"
        elif m["fault"] == "" and r.startswith("grey"):
            ok = s == [("rcpt", 450, "deferred"), ("data_end", 250, "accepted")]
            what = "greylisted once at RCPT (450), then accepted"
        elif m["fault"] == "":
            ok = s == [("data_end", 250, "accepted")]
            what = "accepted on the first attempt"
        elif m["fault"].startswith("data451x"):
            n = int(m["fault"][8:])
            ok = s == [("data_end", 451, "deferred")] * n + [("data_end", 250, "accepted")]
            what = "451 after DATA %d times, then accepted" % n
        else:
            ok = len(s) >= 2 and all(x == ("data_end", 451, "deferred") for x in s)
            what = "451 after DATA on every attempt (%d attempts) until expiry" % len(s)
        check(ok, "journal: %s %s %s" % (m["tag"], r, what), s)

multi = [m for m in plan if len(m["rcpts"]) > 1]
for m in multi:
    tx = [[(j["session"], j["transaction"]) for j in by_rcpt.get((m["mid"], r.lower()), [])]
          for r in m["rcpts"]]
    check(all(t == tx[0] for t in tx) and tx[0],
          "journal: %s's %d recipients shared every SMTP transaction" % (m["tag"], len(m["rcpts"])), tx)

# --- expected figures, from the journal ----------------------------------
expired_mids = {qid_mid.get(q) for q in expired_qids}
notif_mids = {qid_mid.get(q) for q in notices}
final = final_status(by_rcpt, drained)

journal_expired = {k[0] for k, v in final.items() if v == "expired"}
plan_expired = {m["mid"] for m in plan if m["fault"] == "data451"}
check(journal_expired == plan_expired == expired_mids,
      "expired messages: journal == plan == maillog 'status=expired' (%d)" % len(plan_expired),
      "journal %s\nplan %s\nmaillog %s" % (journal_expired, plan_expired, expired_mids))
notif_j = {j["message_id"] for j in journal if j["mail_from"] == ""}
bounced_or_expired = {k[0] for k, v in final.items() if v in ("bounced", "expired")}
check(notif_j == notif_mids and len(notices) == len(bounced_or_expired)
      and set(notices.values()) == {mid_qid.get(x) for x in bounced_or_expired},
      "one sender non-delivery notification per bounced/expired message, delivered to the sink (%d)"
      % len(notices), "journal %s\nmaillog %s" % (notif_j, notices))


allfig = figures(journal, final)
sinkj = [j for j in journal if domain(j["recipient"]) in DOMAINS]
sinkfig = figures(sinkj, {k: v for k, v in final.items() if domain(k[1]) in DOMAINS})
provfig = provider_figures(journal)
print("# journal, whole log (incl. %d bounce notifications to sender.example): %s"
      % (len(notices), json.dumps(allfig, sort_keys=True)))
print("# journal, 163.com/126.com/qq.com only: %s" % json.dumps(sinkfig, sort_keys=True))
print("# journal, per provider: %s" % json.dumps(provfig, sort_keys=True))

if postfix_only:
    print("# E2E_POSTFIX_ONLY=1: mailtriage checks skipped")
    check.finish()

# --- mailtriage events --csv ----------------------------------------------
if not check(os.access(mailtriage, os.X_OK), "mailtriage binary is executable (%s)" % mailtriage):
    check.finish()


COLUMNS = ("timestamp,source,queue_id,message_id,route,sending_ip,helo_name,mail_from_domain,"
           "header_from_domain,recipient,recipient_domain,provider,mx_host,mx_ip,smtp_stage,"
           "smtp_reply_code,enhanced_status,smtp_reply_text,category,message_template_id,"
           "message_size_bytes,attachment_types,retry_count,delay_seconds,final_queue_status").split(",")
rc, out, err = run(["events", "--csv", maillog])
check(rc == 0, "mailtriage events --csv exits 0", "rc=%d\n%s" % (rc, err))
rows = list(csv.DictReader(io.StringIO(out)))
header = next(csv.reader(io.StringIO(out)), [])
check(all(c in header for c in COLUMNS), "events CSV header has all record fields",
      [c for c in COLUMNS if c not in header])
rows = [r for r in rows if (r.get("recipient_domain") or "").lower() in DOMAINS]
check(len(rows) == len(sinkj), "events: %d attempt rows for 163.com/126.com/qq.com" % len(sinkj),
      "got %d" % len(rows))

groups, jgroups = event_groups(check, rows, by_rcpt)

mism = collections.defaultdict(list)
compared = 0
for key, (mid, rcpt, js) in jgroups.items():
    g = groups.get(key, [])
    if not g:
        continue                    # reported by the row-group check above
    compared += 1
    attempt_mismatches(mism, key, g, js, final[(mid, rcpt)], sink_host)
    if any(("postfix-cn" in (r.get("route") or "")) != (key[1] in CN_ROUTE) for r in g):
        mism["route"].append((key, [r.get("route") for r in g]))
    if mid in plan_by_mid:
        want_qid = mid_qid.get(mid)
        if any(r.get("queue_id") != want_qid for r in g):
            mism["queue_id"].append((key, [r.get("queue_id") for r in g], want_qid))
        tpl = plan_by_mid[mid]["template"]
        if any(r.get("message_template_id") != tpl for r in g):
            mism["message_template_id"].append((key, [r.get("message_template_id") for r in g], tpl))
    if any((r.get("header_from_domain") or "").lower() != "sender.example" for r in g):
        mism["header_from_domain"].append((key, [r.get("header_from_domain") for r in g]))

have = compared > 0   # missing/extra groups are reported by the check above
check_attempts(check, have, mism)
check(have and not mism["route"], "events: route names postfix-cn exactly for the smtp-cn (163/126) rows", mism["route"])
check(have and not mism["queue_id"], "events: queue_id is the Postfix queue id of the message", mism["queue_id"])
for f in ("mail_from_domain", "header_from_domain", "message_template_id", "mx_ip"):
    check(have and not mism[f], "events: %s as sent/logged" % f, mism[f])

retry_mids = [m["mid"] for m in plan if m["fault"] == "data451x2"]
seqs = {mid: [r.get("retry_count") for r in groups.get((bare(mid), domain(plan_by_mid[mid]["rcpts"][0])), [])]
        for mid in retry_mids}
check(all(s == ["0", "1", "2"] for s in seqs.values()),
      "events: retry_count 0,1,2 for the %d data451x2 messages" % len(retry_mids), seqs)
check_categories(check, rows)
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
check(rows and all(TS.match(r.get("timestamp") or "") for r in rows), "events: timestamps are RFC 3339",
      [r.get("timestamp") for r in rows if not TS.match(r.get("timestamp") or "")][:5])
badsrc = []
for r in rows:
    f, _, ln = (r.get("source") or "").rpartition(":")
    ok = ln.isdigit() and os.path.basename(f) == "maillog" and 1 <= int(ln) <= len(log_lines)
    if ok:
        text = log_lines[int(ln) - 1]
        ok = (r.get("queue_id") or "?") in text and "to=<" in text
    if not ok:
        badsrc.append(r.get("source"))
check(rows and not badsrc, "events: source file:line points at the maillog status line", badsrc[:5])

# --- mailtriage diagnose --json --------------------------------------------
rc, out, err = run(["diagnose", "--json", maillog])
check(rc == 0, "mailtriage diagnose --json exits 0", "rc=%d\n%s" % (rc, err))
d = check_diagnose(check, out, allfig, provfig)
stages = {s.get("stage"): s for s in d.get("stages", []) if isinstance(s, dict)}
extra = [s for s, v in stages.items() if s not in allfig["stages"] and v.get("attempts")]
check(stages and not extra, "diagnose: no attempts in stages the sink never answered at", extra)
check.finish()
PY
status=$?
exit $status
