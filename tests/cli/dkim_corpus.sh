#!/bin/bash
# dkim_corpus.sh - the DKIM key records of the public corpus (Mail::DKIM's
# FAKE_DNS, dkimpy's RFC 8463 keys) served by the local Knot DNS and
# classified by `check-domain --only dkim`, compared with what Mail::DKIM
# said about each key (tests/dns/dkim_corpus.py).  Needs the corpus.
source "$(dirname "$0")/lib.sh"
AUTH=${MAILTRIAGE_CORPUS:-$ROOT/../shared/corpus}/auth
[ -f "$AUTH/mail-dkim/FAKE_DNS.zone.yml" ] || { echo "skip: corpus absent ($AUTH)"; exit 77; }
command -v knotd >/dev/null || { echo "skip: knotd absent (scripts/install-deps.sh installs knot)"; exit 77; }
out=$(/usr/bin/python3 "$ROOT/tests/dns/dkim_corpus.py" "$MT" "$AUTH" 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
last=$(echo "$out" | tail -1)
n=$(echo "$last" | sed -n 's/^\([0-9]*\)\/[0-9]* agree$/\1/p')
expect_eq "every corpus key classified as Mail::DKIM saw it ($last)" "$rc" 0
[ "${n:-0}" -ge 19 ] && ok "at least 19 keys checked" || notok "only ${n:-0} keys checked"
finish
