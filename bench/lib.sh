# shellcheck shell=bash
# bench/lib.sh - what the timing scripts (run.sh, run-exim.sh) share.  Sourced
# after they set TIME (GNU time), GENLOG, GENLOG_ARGS and SIZE_MB.
#
# run_timed NAME BYTES RUNS CMD...  run CMD RUNS times under GNU time; the
#     fastest run counts: SECS[NAME] (s), RSS[NAME] (peak KB), BYTES[NAME]
#     (the input size, for MB/s), STATUS[NAME] ("ok" or why it failed).
#     Called again for the same NAME, it adds runs: the fastest of all of
#     them counts (run_alternating uses that).
# run_alternating RUNS NAME1 BYTES1 CMD1 NAME2 BYTES2 CMD2  time two commands
#     (each one string, split on spaces: no quoting inside) in turn, RUNS
#     rounds: both see the same phases of a machine whose speed drifts, so
#     their ratio is not skewed by the minutes between two blocks of runs.
# gen FILE EXTRA-ARGS...  generate FILE (SIZE_MB MB) with genlog unless it
#     exists; genlog's summary goes to FILE.summary.
# ok NAME                 the run NAME was timed and succeeded.
# verdict X GOAL [ge|le]  MET when X >= GOAL (or <= with le), else NOT MET.
# print_table WIDTH NAME...  seconds, MB/s and peak RSS of each timed run.

declare -A SECS RSS STATUS BYTES

run_timed() {
    local name=$1 bytes=$2 runs=$3; shift 3
    local best="" maxrss=0 i out rc tf
    if [ "${STATUS[$name]:-}" = ok ]; then best=${SECS[$name]}; maxrss=${RSS[$name]}; fi
    BYTES[$name]=$bytes
    tf=$(mktemp)
    for ((i = 0; i < runs; i++)); do
        "$TIME" -o "$tf" -f '%e %M' "$@" > /dev/null 2> "$tf.err"
        rc=$?
        out=$(tail -n 1 "$tf")
        if [ $rc -ne 0 ]; then
            STATUS[$name]="FAILED (exit $rc): $(head -c 300 "$tf.err" | tr '\n' ' ')"
            rm -f "$tf" "$tf.err"
            return
        fi
        local s=${out% *} m=${out#* }
        if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$s; fi
        [ "$m" -gt "$maxrss" ] && maxrss=$m
    done
    rm -f "$tf" "$tf.err"
    SECS[$name]=$best; RSS[$name]=$maxrss; STATUS[$name]=ok
}

run_alternating() {
    local runs=$1 i
    shift
    for ((i = 0; i < runs; i++)); do
        # shellcheck disable=SC2086
        run_timed "$1" "$2" 1 $3
        ok "$1" || return
        # shellcheck disable=SC2086
        run_timed "$4" "$5" 1 $6
        ok "$4" || return
    done
}

gen() {
    local f=$1; shift
    [ -s "$f" ] && return 0
    [ -x "$GENLOG" ] || { echo "missing: $GENLOG" >&2; exit 1; }
    echo "generating $f ($SIZE_MB MB) with $GENLOG $GENLOG_ARGS${*:+ $*} ..." >&2
    # shellcheck disable=SC2086
    "$GENLOG" --size "$SIZE_MB" $GENLOG_ARGS "$@" > "$f.tmp" 2> "$f.summary" ||
        { echo "genlog failed:" >&2; cat "$f.summary" >&2; rm -f "$f.tmp"; exit 1; }
    mv "$f.tmp" "$f"
}

ok() { [ "${STATUS[$1]:-}" = ok ]; }

verdict() {
    awk -v x="$1" -v g="$2" -v dir="${3:-ge}" 'BEGIN{ m = dir == "le" ? (x + 0 <= g + 0) : (x + 0 >= g + 0); print m ? "MET" : "NOT MET" }'
}

print_table() {
    local w=$1 t dash
    shift
    dash=$(printf '%*s' "$w" '' | tr ' ' -)
    printf "%-${w}s %9s %10s %12s\n" tool seconds MB/s "peak RSS MB"
    printf "%-${w}s %9s %10s %12s\n" "$dash" --------- ---------- ------------
    for t in "$@"; do
        [ -n "${STATUS[$t]:-}" ] || continue
        if [ "${STATUS[$t]}" != ok ]; then printf "%-${w}s %s\n" "$t" "${STATUS[$t]}"; continue; fi
        awk -v t="$t" -v w="$w" -v s="${SECS[$t]}" -v m="${RSS[$t]}" -v b="${BYTES[$t]}" 'BEGIN{
            mbs = (s > 0) ? sprintf("%.0f", b / 1e6 / s) : "inf";
            printf "%-" w "s %9.2f %10s %12.1f\n", t, s, mbs, m / 1024 }'
    done
}
