# lib.sh - helpers for the command-line tests: `check NAME CMD...` and
# `expect_eq NAME GOT WANT`; `finish` prints "N passed, M failed".
# Each test script is run as: bash tests/cli/X.sh /path/to/mailtriage
MT=${1:?usage: $0 /path/to/mailtriage}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export MAILTRIAGE_RULES=${MAILTRIAGE_RULES:-$ROOT/data/rules.tsv}
T=$(mktemp -d /tmp/mt-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
npass=0 nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
notok() { nfail=$((nfail + 1)); echo "not ok - $*"; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1: got '$2', want '$3'"; fi; }
# jq-free JSON reads: python3 is a test dependency
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
finish() { echo "$npass passed, $nfail failed"; [ "$nfail" -eq 0 ]; }
# dns_serve PORT ZONE FAULTS - start tests/dns/serve.py (Knot behind the
# fault-injecting front) on 127.0.0.1:PORT with ZONE and FAULTS, stopped at
# exit; bails out "not ok" if it does not come up.
dns_serve() {
    mkfifo "$T/ctl"
    "${PY:-python3}" "$ROOT/tests/dns/serve.py" "$1" "$2" "$3" <"$T/ctl" >"$T/ready" 2>"$T/serve.err" &
    DNS_SERVER=$!
    exec 3>"$T/ctl"
    trap 'exec 3>&-; kill $DNS_SERVER 2>/dev/null; wait $DNS_SERVER 2>/dev/null; rm -rf "$T"' EXIT
    for _ in $(seq 100); do grep -q ready "$T/ready" && break; sleep 0.1; done
    grep -q ready "$T/ready" || { echo "not ok - DNS server did not start:"; cat "$T/serve.err"; exit 1; }
}
