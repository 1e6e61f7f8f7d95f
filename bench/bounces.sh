#!/usr/bin/env bash
# bench/bounces.sh -- time `mailtriage bounces` against Sisimai on the public bounce corpus.
#
# Two inputs, each a flat Maildir-like folder of hard links (Sisimai reads one folder, not a tree):
#   1x   every message of $MAILTRIAGE_CORPUS/sisimai/maildir/*  (bsd, dos, mac, err, not, tmp)
#   100x the same, 100 times over (BENCH_TIMES to change)
# Both tools parse every message into per-recipient records in the same run:
#   mailtriage bounces --ndjson DIR > /dev/null
#   perl -MSisimai -e 'Sisimai->make(DIR)'       (Debian libsisimai-perl; Sisimai 4.x there)
# The fastest of BENCH_REPEAT runs counts for each (default 3; Sisimai on 100x runs once).
# Prints messages/s and the ratio.  Expects build/mailtriage (MAILTRIAGE= to override).
# Beside them, when built (build/gmime-alone, GMIME_ALONE= to override): GMime alone building and
# freeing the MIME tree of every message whole, on the same inputs, and the ratio that time alone
# would give against Sisimai (mailtriage gives GMime less than whole messages: see bench/gmime-alone.c).
set -u
cd "$(dirname "$0")/.." || exit 1

MAILTRIAGE=${MAILTRIAGE:-build/mailtriage}
GMIME_ALONE=${GMIME_ALONE:-build/gmime-alone}
CORPUS=${MAILTRIAGE_CORPUS:-../shared/corpus}
BENCH_DIR=${BENCH_DIR:-/tmp/mailtriage-bench-bounces}
TIMES=${BENCH_TIMES:-100}
REPEAT=${BENCH_REPEAT:-3}

if [ ! -d "$CORPUS/sisimai/maildir" ]; then echo "skip: corpus absent ($CORPUS/sisimai)"; exit 77; fi
if [ ! -x "$MAILTRIAGE" ]; then echo "missing: $MAILTRIAGE (build first: meson setup build && ninja -C build)" >&2; exit 1; fi
if ! perl -MSisimai -e 1 2>/dev/null; then
    echo "installing libsisimai-perl (Debian) for the comparison" >&2
    if [ "$(id -u)" = 0 ]; then flock /tmp/mt-apt.lock apt-get install -y --no-install-recommends libsisimai-perl >&2
    else sudo flock /tmp/mt-apt.lock apt-get install -y --no-install-recommends libsisimai-perl >&2; fi || {
        echo "missing: Sisimai (apt-get install libsisimai-perl)" >&2; exit 1; }
fi
SISIMAI_VERSION=$(perl -MSisimai -e 'print $Sisimai::VERSION')

# --- inputs: hard links, flat ------------------------------------------------------------------
mkdir -p "$BENCH_DIR"
make_set() { # make_set DIR COPIES
    local dir=$1 copies=$2
    [ -f "$dir/.complete" ] && return 0
    rm -rf "$dir"; mkdir -p "$dir"
    perl -e '
        my ($dir, $copies, @src) = @ARGV;
        for my $k (1 .. $copies) {
            for my $f (@src) {
                (my $n = $f) =~ s{.*/maildir/}{}; $n =~ s{/}{-}g;
                link($f, sprintf("%s/%03d-%s", $dir, $k, $n)) or die "link $f: $!";
            }
        }' "$dir" "$copies" "$CORPUS"/sisimai/maildir/*/*
    touch "$dir/.complete"
}
ONE=$BENCH_DIR/x1
MANY=$BENCH_DIR/x$TIMES
make_set "$ONE" 1
make_set "$MANY" "$TIMES"
n1=$(find "$ONE" -type f ! -name .complete | wc -l)
nm=$(find "$MANY" -type f ! -name .complete | wc -l)

# bash's own clock (bash >= 5): a `date` process on each side of a run added ~2 ms to every
# time, the same for both tools (a thirtieth of our run on 1x)
best() { # best REPEAT CMD... : fastest wall time in seconds
    local r=$1; shift
    local b=""
    for _ in $(seq "$r"); do
        local t0 t1 d
        t0=${EPOCHREALTIME:-$(date +%s.%N)}; "$@" >/dev/null 2>&1; t1=${EPOCHREALTIME:-$(date +%s.%N)}
        t0=${t0/,/.} t1=${t1/,/.}
        d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        if [ -z "$b" ] || awk -v d="$d" -v b="$b" 'BEGIN { exit !(d < b) }'; then b=$d; fi
    done
    printf '%.3f' "$b"
}
mt()  { "$MAILTRAIGE_BIN" bounces --ndjson --rules data/rules.tsv --reasons data/bounce-reasons.tsv "$1"; }
sis() { perl -MSisimai -e 'my $v = Sisimai->make($ARGV[0]); printf "%d\n", scalar(@{ $v // [] });' "$1"; }
MAILTRAIGE_BIN=$MAILTRIAGE

echo "records: mailtriage $(mt "$ONE" 2>/dev/null | wc -l), Sisimai $SISIMAI_VERSION $(sis "$ONE" 2>/dev/null) (1x)"
m1=$(best "$REPEAT" mt "$ONE");  s1=$(best "$REPEAT" sis "$ONE")
mm=$(best "$REPEAT" mt "$MANY"); sm=$(best 1 sis "$MANY")

rate() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
printf '\n| input | messages | mailtriage s | msg/s | Sisimai %s s | msg/s | ratio |\n|---|---:|---:|---:|---:|---:|---:|\n' "$SISIMAI_VERSION"
for row in "1x $n1 $m1 $s1" "${TIMES}x $nm $mm $sm"; do
    set -- $row
    printf '| %s | %s | %s | %s | %s | %s | **%.1f×** |\n' "$1" "$2" "$3" "$(rate "$2" "$3")" "$4" "$(rate "$2" "$4")" \
        "$(awk -v a="$4" -v b="$3" 'BEGIN { print a / b }')"
done
if [ -x "$GMIME_ALONE" ]; then
    g1=$(best "$REPEAT" "$GMIME_ALONE" "$ONE"); gm=$(best "$REPEAT" "$GMIME_ALONE" "$MANY")
    printf '\nGMime alone (%s: every message parsed whole and freed, nothing else):\n' "$GMIME_ALONE"
    printf '| input | messages | GMime alone s | msg/s | Sisimai s / GMime alone s |\n|---|---:|---:|---:|---:|\n'
    for row in "1x $n1 $g1 $s1" "${TIMES}x $nm $gm $sm"; do
        set -- $row
        printf '| %s | %s | %s | %s | %.1f× |\n' "$1" "$2" "$3" "$(rate "$2" "$3")" "$(awk -v a="$4" -v b="$3" 'BEGIN { print a / b }')"
    done
fi
echo
echo "goal: mailtriage >= 20x Sisimai's throughput (issue 5)"
