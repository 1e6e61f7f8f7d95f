#!/usr/bin/env bash
# bench/run.sh [SIZE_MB] -- time mailtriage against the reference tools on one generated Postfix log.
#
# Builds nothing.  Expects build/genlog and build/mailtriage (meson build dir "build" at the repo root);
# override with GENLOG=/path/to/genlog, MAILTRIAGE=/path/to/mailtriage.
# Environment:
#   BENCH_DIR     where the log is kept (default /tmp/mailtriage-bench); reused when present
#   GENLOG_ARGS   extra genlog options used when the log is generated (default "--seed 1")
#   BENCH_REPEAT  runs of wc -l and mailtriage; the fastest counts (default 3); pflogsumm runs once
#   MAILTRIAGE_ARGS  extra options put after the mailtriage subcommand (e.g. "--rules data/rules.tsv")
set -u

cd "$(dirname "$0")/.." || exit 1

SIZE_MB=${1:-1100}
case $SIZE_MB in ''|*[!0-9]*) echo "usage: bench/run.sh [SIZE_MB]" >&2; exit 2 ;; esac
BENCH_DIR=${BENCH_DIR:-/tmp/mailtriage-bench}
GENLOG=${GENLOG:-build/genlog}
MAILTRIAGE=${MAILTRIAGE:-build/mailtriage}
GENLOG_ARGS=${GENLOG_ARGS:---seed 1}
REPEAT=${BENCH_REPEAT:-3}
MT_ARGS=${MAILTRIAGE_ARGS:-}
SLUG=$(printf %s "$GENLOG_ARGS" | tr -c "A-Za-z0-9" _)
LOG=$BENCH_DIR/postfix-$SIZE_MB$SLUG.log
TIME=/usr/bin/time
. bench/lib.sh

# --- what is missing ---------------------------------------------------------------------------
missing=0
if [ ! -x "$TIME" ]; then
    echo "missing: GNU time at $TIME (Debian package 'time': apt-get install -y time)" >&2
    missing=1
fi
have_pflogsumm=1
if ! command -v pflogsumm >/dev/null 2>&1; then
    echo "missing: pflogsumm (Debian package 'pflogsumm'); it will not be timed" >&2
    have_pflogsumm=0
fi
have_mt=1
if [ ! -x "$MAILTRIAGE" ]; then
    echo "missing: $MAILTRIAGE does not exist yet (meson setup build && ninja -C build); timing the reference tools only" >&2
    have_mt=0
fi
if [ ! -s "$LOG" ] && [ ! -x "$GENLOG" ]; then
    echo "missing: $GENLOG (needed to generate $LOG); build it or set GENLOG=/path/to/genlog" >&2
    missing=1
fi
[ $missing = 0 ] || exit 1

# --- the log -----------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR" || exit 1
gen "$LOG"
LOG_BYTES=$(stat -c %s "$LOG")
LINES_HINT=""
[ -s "$LOG.summary" ] && LINES_HINT=$(grep -o 'lines=[0-9]*' "$LOG.summary" | head -1)
echo "log: $LOG  $LOG_BYTES bytes  $LINES_HINT"
[ -s "$LOG.summary" ] && sed 's/^/  /' "$LOG.summary" | grep -E 'seed=|messages=|elapsed' 

echo "warming the page cache ..." >&2
cat "$LOG" > /dev/null

# --- timing ------------------------------------------------------------------------------------
echo "timing wc -l ..." >&2
run_timed "wc -l" "$LOG_BYTES" "$REPEAT" wc -l "$LOG"
if [ $have_mt = 1 ]; then
    echo "timing mailtriage events ..." >&2
    # shellcheck disable=SC2086
    run_timed "mailtriage events" "$LOG_BYTES" "$REPEAT" "$MAILTRIAGE" events $MT_ARGS "$LOG"
    echo "timing mailtriage diagnose --json ..." >&2
    # shellcheck disable=SC2086
    run_timed "mailtriage diagnose" "$LOG_BYTES" "$REPEAT" "$MAILTRIAGE" diagnose --json $MT_ARGS "$LOG"
fi
if [ $have_pflogsumm = 1 ]; then
    echo "timing pflogsumm (takes a while) ..." >&2
    run_timed "pflogsumm" "$LOG_BYTES" 1 pflogsumm "$LOG"
fi

# --- report ------------------------------------------------------------------------------------
echo
print_table 22 "wc -l" "mailtriage events" "mailtriage diagnose" "pflogsumm"

echo
echo "ratios and goals:"
# ratio A B: how many times faster A is than B (same input, so the throughput ratio)
ratio() { awk -v a="${SECS[$1]}" -v b="${SECS[$2]}" 'BEGIN{ if (a <= 0) a = 0.005; printf "%.2f", b / a }'; }
if ok "mailtriage diagnose" && ok pflogsumm; then
    r=$(ratio "mailtriage diagnose" pflogsumm)
    printf '  diagnose vs pflogsumm throughput: %8sx   goal >= 50x     %s\n' "$r" "$(verdict "$r" 50)"
else
    echo "  diagnose vs pflogsumm throughput: n/a (needs both timings)"
fi
if ok "mailtriage diagnose" && ok "wc -l"; then
    r=$(ratio "mailtriage diagnose" "wc -l")
    printf '  diagnose vs wc -l throughput:     %8sx   goal >= 0.125x  %s\n' "$r" "$(verdict "$r" 0.125)"
else
    echo "  diagnose vs wc -l throughput:     n/a"
fi
if ok "mailtriage events" && ok "wc -l"; then
    r=$(ratio "mailtriage events" "wc -l")
    printf '  events vs wc -l throughput:       %8sx\n' "$r"
else
    echo "  events vs wc -l throughput:       n/a"
fi
if ok "mailtriage diagnose"; then
    mb=$(awk -v m="${RSS[mailtriage diagnose]}" 'BEGIN{printf "%.1f", m / 1024}')
    printf '  diagnose peak RSS:                %8s MB  goal < 200 MB   %s\n' "$mb" \
        "$(awk -v m="$mb" 'BEGIN{ print (m < 200) ? "MET" : "NOT MET" }')"
else
    echo "  diagnose peak RSS:                n/a"
fi
if ok "pflogsumm"; then
    need=$(awk -v p="${SECS[pflogsumm]}" 'BEGIN{printf "%.2f", p / 50}')
    echo "  (50x pflogsumm means diagnose in <= ${need}s on this log)"
fi
if ok "wc -l"; then
    need=$(awk -v w="${SECS[wc -l]}" 'BEGIN{printf "%.2f", w * 8}')
    echo "  (1/8 of wc -l means diagnose in <= ${need}s on this log)"
fi
