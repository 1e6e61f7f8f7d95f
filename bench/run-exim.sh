#!/usr/bin/env bash
# bench/run-exim.sh [SIZE_MB] -- time mailtriage on a generated Exim mainlog beside eximstats (the
# reference tool, from Debian's exim4-base) and beside mailtriage's own Postfix reader on a Postfix log
# of the same size from the same generator, in one run.
#
# Goals (issue 4): diagnose on the Exim log within 1.5x of the Postfix reader's MB/s, and >= 50x
# eximstats on the same file.
#
# Builds nothing.  Expects build/genlog and build/mailtriage; eximstats is taken from PATH, else from
# the private Exim tree of scripts/start-exim-instance.sh (fetched there when missing, as root).
# Environment:
#   BENCH_DIR     where the logs are kept (default /tmp/mailtriage-bench); reused when present
#   GENLOG_ARGS   extra genlog options (default "--seed 1"); the Exim log adds --format exim
#   BENCH_REPEAT  runs of wc -l and mailtriage; the fastest counts (default 3); the Exim and Postfix
#                 runs alternate; eximstats runs once
#   SAME_MAIL_MESSAGES  messages of the "same mail, two formats" comparison (default 500000; 0 skips it)
#
# MB/s depends on how much mail a megabyte holds: the generator's Exim log carries about 3.8 times the
# delivery attempts per MB of its Postfix log (Exim writes one line per attempt and none for the
# smtpd/cleanup/qmgr steps or other programs), so the script also prints attempts per second and times
# both readers on the same simulated mail written in each format.
set -u

cd "$(dirname "$0")/.." || exit 1

SIZE_MB=${1:-1100}
case $SIZE_MB in ''|*[!0-9]*) echo "usage: bench/run-exim.sh [SIZE_MB]" >&2; exit 2 ;; esac
BENCH_DIR=${BENCH_DIR:-/tmp/mailtriage-bench}
GENLOG=${GENLOG:-build/genlog}
MAILTRIAGE=${MAILTRIAGE:-build/mailtriage}
GENLOG_ARGS=${GENLOG_ARGS:---seed 1}
REPEAT=${BENCH_REPEAT:-3}
SLUG=$(printf %s "$GENLOG_ARGS" | tr -c "A-Za-z0-9" _)
EXLOG=$BENCH_DIR/exim-$SIZE_MB$SLUG.log
PFLOG=$BENCH_DIR/postfix-$SIZE_MB$SLUG.log   # the same file bench/run.sh uses
TIME=/usr/bin/time
. bench/lib.sh

[ -x "$TIME" ] || { echo "missing: GNU time at $TIME (apt-get install -y time)" >&2; exit 1; }
[ -x "$MAILTRIAGE" ] || { echo "missing: $MAILTRIAGE (meson setup build && ninja -C build)" >&2; exit 1; }
EXIMSTATS=$(command -v eximstats 2>/dev/null || true)
if [ -z "$EXIMSTATS" ]; then
    root=${MT_EXIM_ROOT:-/var/tmp/mailtriage-exim}
    if [ ! -x "$root/usr/sbin/eximstats" ] && [ "$(id -u)" = 0 ]; then
        scripts/start-exim-instance.sh binary >/dev/null || true
    fi
    [ -x "$root/usr/sbin/eximstats" ] && EXIMSTATS=$root/usr/sbin/eximstats
fi
[ -n "$EXIMSTATS" ] || echo "missing: eximstats (Debian exim4-base; scripts/start-exim-instance.sh binary fetches it); it will not be timed" >&2

mkdir -p "$BENCH_DIR" || exit 1
gen "$EXLOG" --format exim
gen "$PFLOG"
SAME=${SAME_MAIL_MESSAGES:-500000}
if [ "$SAME" -gt 0 ]; then
    SAME_EX=$BENCH_DIR/exim-m$SAME$SLUG.log
    SAME_PF=$BENCH_DIR/postfix-m$SAME$SLUG.log
    for f in "$SAME_EX" "$SAME_PF"; do
        [ -s "$f" ] && continue
        echo "generating $f ($SAME messages) ..." >&2
        fmt=syslog
        [ "$f" = "$SAME_EX" ] && fmt=exim
        # shellcheck disable=SC2086
        "$GENLOG" --messages "$SAME" $GENLOG_ARGS --format $fmt > "$f.tmp" 2> "$f.summary" && mv "$f.tmp" "$f" ||
            { echo "genlog failed" >&2; exit 1; }
    done
fi
EXBYTES=$(stat -c %s "$EXLOG")
PFBYTES=$(stat -c %s "$PFLOG")
echo "exim log:    $EXLOG  $EXBYTES bytes  $(grep -o 'lines=[0-9]*' "$EXLOG.summary" 2>/dev/null | head -1)"
echo "postfix log: $PFLOG  $PFBYTES bytes  $(grep -o 'lines=[0-9]*' "$PFLOG.summary" 2>/dev/null | head -1)"

echo "warming the page cache ..." >&2
cat "$EXLOG" "$PFLOG" > /dev/null
echo "timing wc -l, mailtriage diagnose (exim, postfix) ..." >&2
run_timed "wc -l (exim log)" "$EXBYTES" "$REPEAT" wc -l "$EXLOG"
# the two readers in turn (exim, postfix, exim, ...): the VM's speed drifts by minutes, and the
# ratio is only fair when both see the same minutes
run_alternating "$REPEAT" "diagnose exim" "$EXBYTES" "$MAILTRIAGE diagnose --json $EXLOG" \
    "diagnose postfix" "$PFBYTES" "$MAILTRIAGE diagnose --json $PFLOG"
if [ "$SAME" -gt 0 ]; then
    cat "$SAME_EX" "$SAME_PF" > /dev/null
    run_alternating "$REPEAT" "same mail: exim" "$(stat -c %s "$SAME_EX")" "$MAILTRIAGE diagnose --json $SAME_EX" \
        "same mail: postfix" "$(stat -c %s "$SAME_PF")" "$MAILTRIAGE diagnose --json $SAME_PF"
fi
# attempts in each log (an untimed run)
declare -A ATT
attempts() { "$MAILTRIAGE" diagnose --json "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["attempts"])' 2>/dev/null || echo 0; }
ATT["diagnose exim"]=$(attempts "$EXLOG")
ATT["diagnose postfix"]=$(attempts "$PFLOG")
if [ -n "$EXIMSTATS" ]; then
    echo "timing eximstats (takes a while) ..." >&2
    run_timed "eximstats" "$EXBYTES" 1 "$EXIMSTATS" "$EXLOG"
fi

echo
print_table 20 "wc -l (exim log)" "diagnose exim" "diagnose postfix" "eximstats" "same mail: exim" "same mail: postfix"

mbs() { awk -v s="${SECS[$1]}" -v b="${BYTES[$1]}" 'BEGIN{ if (s <= 0) s = 0.005; printf "%.1f", b / 1e6 / s }'; }
echo
echo "ratios and goals (same run):"
if ok "diagnose exim" && ok eximstats; then
    r=$(awk -v a="${SECS[diagnose exim]}" -v b="${SECS[eximstats]}" 'BEGIN{ if (a <= 0) a = 0.005; printf "%.1f", b / a }')
    printf '  diagnose vs eximstats (same file):        %8sx   goal >= 50x    %s\n' "$r" "$(verdict "$r" 50 ge)"
else
    echo "  diagnose vs eximstats: n/a (needs both timings)"
fi
if ok "diagnose exim" && ok "diagnose postfix"; then
    r=$(awk -v e="$(mbs "diagnose exim")" -v p="$(mbs "diagnose postfix")" 'BEGIN{ printf "%.2f", p / e }')
    printf '  Postfix reader MB/s / Exim reader MB/s:   %8sx   goal <= 1.5x   %s\n' "$r" "$(verdict "$r" 1.5 le)"
fi
for t in "diagnose exim" "diagnose postfix"; do
    ok "$t" && awk -v t="$t" -v a="${ATT[$t]}" -v s="${SECS[$t]}" -v b="${BYTES[$t]}" 'BEGIN{
        printf "  %-17s %9d attempts, %6.0f per MB, %8.0f attempts/s\n", t ":", a, a / (b / 1e6), (s > 0 ? a / s : 0) }'
done
if ok "same mail: exim" && ok "same mail: postfix"; then
    r=$(awk -v e="${SECS[same mail: exim]}" -v p="${SECS[same mail: postfix]}" 'BEGIN{ if (p <= 0) p = 0.005; printf "%.2f", e / p }')
    printf '  same %s messages: Exim log diagnosed in %sx the Postfix log'"'"'s time (%s MB vs %s MB)\n' "$SAME" "$r" \
        "$(awk -v b="${BYTES[same mail: exim]}" 'BEGIN{printf "%.0f", b/1e6}')" \
        "$(awk -v b="${BYTES[same mail: postfix]}" 'BEGIN{printf "%.0f", b/1e6}')"
fi
