# shellcheck shell=bash disable=SC2154  # work, status, START are the sourcing script's
# lib.sh - what the real-MTA e2e scripts (exim_e2e.sh, postfix_e2e.sh) share.
# Sourced after they set START (the instance script); the work directory
# ($work), the sink's pid ($sink_pid) and the exit status ($status) are the
# caller's variables, read by the cleanup.

skip() { echo "SKIP: $*"; exit 77; }
bail() { echo "not ok - $*"; echo "0 passed, 1 failed"; exit 1; }

# e2e_cleanup - stop the MTA instance and the sink; remove $work unless
# E2E_KEEP=1 or the run failed.  Installed by e2e_traps.
e2e_cleanup() {
    "$START" stop "$work" >/dev/null 2>&1
    e2e_stop_sink
    if [ "${E2E_KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then
        echo "# work directory kept: $work"
    else
        rm -rf "$work"
    fi
}

e2e_traps() {
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# e2e_start_sink HOST PORT - start tests/e2e/smtp_sink.py there, journalling
# to $work/journal.ndjson; sets sink_pid, bails when it did not come up.
e2e_start_sink() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/smtp_sink.py" --listen "$1:$2" \
        --journal "$work/journal.ndjson" --pidfile "$work/sink.pid" 2>"$work/sink.log" &
    sink_pid=$!
    for _ in $(seq 50); do [ -s "$work/sink.pid" ] && break; sleep 0.1; done
    [ -s "$work/sink.pid" ] && kill -0 "$sink_pid" 2>/dev/null ||
        bail "smtp_sink.py started ($(tr '\n' ' ' < "$work/sink.log"))"
}

e2e_stop_sink() {
    if [ -n "$sink_pid" ] && kill -0 "$sink_pid" 2>/dev/null; then
        kill "$sink_pid" 2>/dev/null
        wait "$sink_pid" 2>/dev/null
    fi
    sink_pid=
}
