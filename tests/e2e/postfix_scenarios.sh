#!/usr/bin/env bash
# postfix_scenarios.sh — diagnosis scenarios through a REAL Postfix.
#
# Each scenario starts its own private, loopback-only Postfix instance
# (scripts/start-postfix-instance.sh) and its own fault-injecting receiver
# (tests/e2e/smtp_sink.py on 127.0.0.2), submits a few hundred messages, lets
# Postfix deliver, retry and expire them, and then asks `mailtriage diagnose
# --json` for the cause: findings[0] must name it, so the diagnosis is checked
# against logs that the MTA wrote itself.  Traffic and checks are in
# tests/e2e/postfix_scenarios.py.
#
# Routing (PF_NETEASE_ROUTE=split): Netease mail (163.com, 126.com) of the
# envelope senders news@senderN.example goes via the smtp-cn transport (syslog
# name postfix-cn, HELO cn-pool.mta.test.invalid), that of info@senderN.example
# via plain smtp (syslog name postfix); qq.com always via smtp.  So both
# routes carry every sender domain, template and Netease domain.
#
#   window    for 75 s, every Netease message gets 451 4.3.2 after DATA, from
#             every sender; before and after, everything is accepted and the
#             retries get through.  The window is placed inside one of
#             mailtriage's five-minute buckets with clean traffic in the next
#             one, so this scenario takes 3.5 to 8.5 minutes (depending on
#             the clock).     Expect: receiver_transient, netease, scope {}
#             Also checked: it is found as a time window, not as failures
#             "spread thin" (which give the same cause and scope).  Note that
#             the instance retries every 2-4 s, so each message in the window
#             is deferred ~10 times and the bucket is ~75% deferred; with real
#             Postfix timers (300 s backoff: one deferral per message) it would
#             be 75 s / (traffic seconds in the bucket), under mailtriage's 30%
#             unless the bucket holds less than 250 s of traffic.
#   template  X-Template-Id: tpl-bad (15%, logged by a header_checks INFO rule)
#             gets 451 4.3.2 after DATA at Netease on every attempt, until it
#             expires (queue lifetime 40 s); about 1.5 minutes.
#                             Expect: content, netease, {"message_template_id": "tpl-bad"}
#   route     the smtp-cn transport gets 451 4.3.2 at MAIL FROM on every
#             attempt until its mail expires; the plain smtp route delivers
#             the same senders' Netease mail; about 1.5 minutes.
#                             Expect: sender_reputation, netease, {"route": "postfix-cn/smtp"}, persistent
#
# The scenarios run in parallel (each on its own instance and port), so the
# whole test takes as long as the window scenario.
#
# Output: `ok - ...` / `not ok - ...` per check, `# ...` notes (timings, the
# first findings, each scenario's count), then `N passed, M failed`.  Exit 0
# all passed, 1 a check failed, 77 skipped (not root / no Postfix).  Each
# scenario's maillog, sink journal and diagnose JSON are saved as
# build/test-artifacts/postfix-scenario-NAME.{maillog,journal.ndjson,diagnose.json}.
#
# Environment:
#   MAILTRIAGE          binary under test (default: <repo>/build/mailtriage)
#   E2E_SCENARIOS       which scenarios (default "window template route")
#   E2E_PARALLEL=0      run them one after the other
#   E2E_ARTIFACTS       where to save the logs (default <repo>/build/test-artifacts)
#   E2E_KEEP=1          keep the work directories (kept on failure anyway)
#   see postfix_scenarios.py for the traffic knobs (rates, window length)
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "must run as root (starts private Postfix instances)"
for c in postfix sendmail postqueue python3; do
    command -v "$c" >/dev/null 2>&1 || skip "$c not found (apt-get install postfix python3)"
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
MAILTRIAGE=${MAILTRIAGE:-$repo/build/mailtriage}
START=$repo/scripts/start-postfix-instance.sh
DRIVER=$here/postfix_scenarios.py
SINK_HOST=127.0.0.2
SCENARIOS=${E2E_SCENARIOS:-window template route}
ART=${E2E_ARTIFACTS:-$repo/build/test-artifacts}
CN_HELO=cn-pool.mta.test.invalid
SENDER_DOMAINS="sender1.example sender2.example sender3.example sender4.example sender5.example"

if [ ! -x "$MAILTRIAGE" ]; then
    echo "not ok - mailtriage binary $MAILTRIAGE exists (build it: ninja -C build)"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p "$ART" || { echo "not ok - create $ART"; echo "0 passed, 1 failed"; exit 1; }

# run_scenario NAME FIRST_PORT - one scenario in its own work directory with its
# own sink and Postfix; prints ok/not ok lines and "# NAME: N passed, M failed".  Run
# it in a subshell: it sets traps and exits.
run_scenario() {
    local name=$1 port=$2
    local work sink_pid= sub_pid= status=1 t_begin lifetime timeout
    t_begin=$(date +%s)
    work=$(mktemp -d "/tmp/mailtriage-pfscen-$name.XXXXXX")
    cleanup() {
        [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
        "$START" stop "$work" >/dev/null 2>&1
        if [ -n "$sink_pid" ] && kill -0 "$sink_pid" 2>/dev/null; then
            kill "$sink_pid" 2>/dev/null
            wait "$sink_pid" 2>/dev/null
        fi
        if [ "${E2E_KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then
            echo "# $name: work directory kept: $work"
        else
            rm -rf "$work"
        fi
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    fail() { echo "not ok - $name: $*"; echo "# $name: 0 passed, 1 failed"; exit 1; }

    # the first free port from FIRST_PORT up (20 tries)
    local last=$((port + 19))
    while [ "$port" -le "$last" ] && (exec 3<>"/dev/tcp/$SINK_HOST/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    [ "$port" -le "$last" ] || fail "no free sink port on $SINK_HOST between $2 and $last"

    python3 "$DRIVER" plan "$name" "$work" || fail "scenario plan written"
    python3 "$here/smtp_sink.py" --listen "$SINK_HOST:$port" --plan "$work/plan.json" \
        --journal "$work/journal.ndjson" --pidfile "$work/sink.pid" 2>"$work/sink.log" &
    sink_pid=$!
    for _ in $(seq 50); do [ -s "$work/sink.pid" ] && break; sleep 0.1; done
    [ -s "$work/sink.pid" ] && kill -0 "$sink_pid" 2>/dev/null ||
        fail "smtp_sink.py started on $SINK_HOST:$port ($(tr '\n' ' ' < "$work/sink.log"))"

    # window: no expiry, the retries must get through; the others expire in 40 s
    case $name in window) lifetime=600 ;; *) lifetime=40 ;; esac
    PF_QUEUE_LIFETIME=${lifetime}s PF_NETEASE_ROUTE=split PF_CN_HELO=$CN_HELO \
        PF_SINK_DOMAINS=$SENDER_DOMAINS \
        "$START" start "$work" "$SINK_HOST:$port" >"$work/postfix-start.log" 2>&1 ||
        fail "private Postfix instance started ($(tr '\n' ' ' < "$work/postfix-start.log"))"

    # in the background, so that a TERM is handled at once
    python3 "$DRIVER" submit "$name" "$work" "$work/conf" &
    sub_pid=$!
    wait "$sub_pid" || { sub_pid=; fail "all messages submitted"; }
    sub_pid=
    local t_sub drained=0 waited
    t_sub=$(date +%s)
    timeout=$((lifetime > 100 ? 120 : lifetime + 60))
    while :; do
        if postqueue -c "$work/conf" -p 2>&1 | grep -q "Mail queue is empty"; then
            drained=1; break
        fi
        [ $(( $(date +%s) - t_sub )) -ge "$timeout" ] && break
        sleep 1
    done
    waited=$(( $(date +%s) - t_sub ))
    [ $drained = 1 ] || postqueue -c "$work/conf" -p > "$work/queue-at-timeout.txt" 2>&1
    sleep 1   # let postlogd write the last datagrams
    "$START" stop "$work" >/dev/null 2>&1
    kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; sink_pid=
    cp "$work/maillog" "$ART/postfix-scenario-$name.maillog"
    cp "$work/journal.ndjson" "$ART/postfix-scenario-$name.journal.ndjson"

    python3 "$DRIVER" check "$name" "$work" "$MAILTRIAGE" "$drained" "$waited" > "$work/check.out" 2>&1
    status=$?
    [ -f "$work/diagnose.json" ] && cp "$work/diagnose.json" "$ART/postfix-scenario-$name.diagnose.json"
    echo "# $name: took $(( $(date +%s) - t_begin )) s (submitting $(( t_sub - t_begin )) s, queue" \
         "drained $waited s after the last message); logs in $ART/postfix-scenario-$name.*"
    # the checker's own "N passed, M failed" becomes this scenario's note
    sed -E "s/^([0-9]+ passed, [0-9]+ failed)\$/# $name: \1/" "$work/check.out"
    grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$work/check.out" || {
        status=1; echo "not ok - $name: the checker ran to the end"; echo "# $name: 0 passed, 1 failed"; }
    exit $status
}

for s in $SCENARIOS; do
    case $s in window|template|route) ;; *) echo "unknown scenario $s (window, template, route)" >&2; exit 2 ;; esac
done
out=$(mktemp -d /tmp/mailtriage-pfscen-out.XXXXXX)
pids=()
names=()
# on a signal: stop the scenarios (their traps stop Postfix and the sinks),
# then show what they printed (where their work directories were kept)
interrupted() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait
    [ "${E2E_PARALLEL:-1}" = 1 ] && cat "$out"/*.out 2>/dev/null
    rm -rf "$out"
    echo "not ok - interrupted"; echo "0 passed, 1 failed"
    exit "$1"
}
trap 'interrupted 143' TERM
trap 'interrupted 130' INT
port=2610
for s in $SCENARIOS; do
    names+=("$s")
    if [ "${E2E_PARALLEL:-1}" = 1 ]; then
        ( run_scenario "$s" "$port" ) > "$out/$s.out" 2>&1 &
        pids+=($!)
    else
        ( run_scenario "$s" "$port" ) 2>&1 | tee "$out/$s.out"
    fi
    port=$((port + 20))
done
if [ "${E2E_PARALLEL:-1}" = 1 ]; then
    echo "# running in parallel: ${names[*]} (window takes 3.5 to 8.5 minutes, the others 1.5)"
    for p in "${pids[@]}"; do wait "$p"; done
    for s in "${names[@]}"; do cat "$out/$s.out"; done
fi

npass=0 nfail=0
for s in "${names[@]}"; do
    line=$(grep -E "^# $s: [0-9]+ passed, [0-9]+ failed\$" "$out/$s.out" | tail -n 1)
    line=${line#"# $s: "}
    if [ -z "$line" ]; then
        nfail=$((nfail + 1))
        echo "not ok - $s: scenario ended without a result line"
        continue
    fi
    npass=$((npass + ${line%% passed*}))
    f=${line#*passed, }
    nfail=$((nfail + ${f%% failed}))
done
rm -rf "$out"
echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
