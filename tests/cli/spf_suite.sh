#!/bin/bash
# spf_suite.sh - the OpenSPF RFC 7208 test suite (all 203 tests) and the
# RFC 4408 suite through `mailtriage spf`, each scenario's zone served by a
# real Knot DNS on 127.0.0.1:2661 behind the fault-injecting front on :2660
# (tests/dns/localdns.py; the front only drops the queries the suite marks
# TIMEOUT).  Needs the public corpus.
source "$(dirname "$0")/lib.sh"
CORPUS=${MAILTRIAGE_CORPUS:-$ROOT/../shared/corpus}
SUITES=$CORPUS/auth/openspf-rfc7208
[ -f "$SUITES/rfc7208-tests.yml" ] || { echo "skip: corpus absent ($SUITES)"; exit 77; }
command -v knotd >/dev/null || { echo "skip: knotd absent (scripts/install-deps.sh installs knot)"; exit 77; }
PY=/usr/bin/python3
# pyspf (python3-spf), when installed, runs beside ours on the RFC 7208 suite for comparison
py=()
$PY -c 'import spf, dns.resolver' 2>/dev/null && py=(--pyspf)
for s in rfc7208:203 rfc4408:191; do
    name=${s%%:*} want=${s##*:}
    [ "$name" = rfc4408 ] && py=()
    out=$($PY "$ROOT/tests/dns/spf_suite.py" "$MT" "$SUITES/$name-tests.yml" --min "$want" "${py[@]}" 2>&1)
    rc=$?
    echo "$out" | sed 's/^/    /'
    total=$(echo "$out" | sed -n 's/^TOTAL \([0-9]*\/[0-9]*\) passed.*/\1/p')
    expect_eq "$name suite through the local DNS server (exit $rc)" "$total" "$want/$want"
done
finish
