# corpus_logs.sh - real Postfix logs from public test suites (the shared
# corpus): every delivery status line becomes exactly one attempt record,
# nothing crashes, and what cannot be parsed is counted.  The expected
# counts are computed here from the same files by an independent regular
# expression, not written down.
source "$(dirname "$0")/lib.sh"
C=${MAILTRIAGE_CORPUS:-$ROOT/../shared/corpus}
if [ ! -d "$C/mta-logs" ]; then
    echo "SKIP: the shared corpus is not at $C (set MAILTRIAGE_CORPUS)"
    exit 77
fi

count_deliveries() { # independent count of Postfix delivery status lines
    python3 - "$@" <<'PY'
import re, sys, gzip
pat = re.compile(r'^\S.{13,40}? \S+ [^\s\[]+/(smtp|lmtp|local|virtual|pipe|error|retry|discard)\[\d+\]: '
                 r'[0-9A-Za-z]{5,24}: to=<[^>]*>, .*status=(sent|deferred|bounced|expired|undeliverable)\b')
n = 0
for f in sys.argv[1:]:
    op = gzip.open if f.endswith('.gz') else open
    with op(f, 'rt', errors='replace') as fh:
        n += sum(1 for l in fh if pat.search(l))
print(n)
PY
}

for f in "$C"/mta-logs/lightmeter/individual_files/*.log "$C"/mta-logs/sergeymakinen-postfix_exporter/mail.log; do
    name=$(basename "$f")
    "$MT" diagnose --json --year 2021 "$f" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -ne 0 ]; then notok "$name: exit $rc: $(head -c 300 "$T/err")"; continue; fi
    want=$(count_deliveries "$f")
    got=$(json "$T/out" "d['totals']['attempts']")
    expect_eq "$name: attempts = delivery lines" "$got" "$want"
    n=$("$MT" events --csv --year 2021 "$f" 2>/dev/null | python3 -c 'import csv,sys; print(sum(1 for _ in csv.DictReader(sys.stdin)))')
    expect_eq "$name: events rows = attempts" "$n" "$want"
done

# a real rotated set from one server, read as given (gzip included)
mkdir -p "$T/set" && tar -xzf "$C/mta-logs/lightmeter/complete.tar.gz" -C "$T/set"
set_files=$(find "$T/set" -type f -name 'mail.log*' | sort)
"$MT" diagnose --json $set_files >"$T/out" 2>"$T/err"; expect_eq "rotated set: exit 0" $? 0
want=$(count_deliveries $set_files)
expect_eq "rotated set: attempts = delivery lines" "$(json "$T/out" "d['totals']['attempts']")" "$want"
expect_eq "rotated set: nothing unparsed" "$(json "$T/out" "d['input']['unparsed_lines']")" 0
# reading order: the rotated file first, then the live one
first=$(json "$T/out" "d['input']['first_attempt']")
last=$(json "$T/out" "d['input']['last_attempt']")
[[ "$first" < "$last" ]] && ok "rotated set: time runs forward ($first .. $last)" || notok "rotated set order: $first .. $last"
finish
