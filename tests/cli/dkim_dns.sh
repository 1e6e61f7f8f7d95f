# dkim_dns.sh - check-message fetching DKIM keys through the DNS layer:
# keys made now with openssl, served by a real Knot DNS on 127.0.0.1:2671
# behind the fault-injecting front on :2670 (tests/dns/serve.py); messages
# signed by dkimpy.  A key found, a selector that does not exist, SERVFAIL
# and a timeout; --dkim-key before DNS; --offline.  Nothing leaves the machine.
source "$(dirname "$0")/lib.sh"
command -v knotd >/dev/null || { echo "skip: knotd absent (scripts/install-deps.sh installs knot)"; exit 77; }
PY=/usr/bin/python3
"$PY" -c 'import dkim' 2>/dev/null || { echo "skip: python3-dkim not installed"; exit 77; }
PORT=2670
R=127.0.0.1:$PORT

openssl genrsa -out "$T/k.pem" 2048 2>/dev/null
P=$(openssl rsa -in "$T/k.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
openssl genrsa -out "$T/other.pem" 2048 2>/dev/null
printf 'v=DKIM1; k=rsa; p=%s\n' "$(openssl rsa -in "$T/other.pem" -pubout -outform DER 2>/dev/null | base64 -w0)" >"$T/other.txt"
cat >"$T/zone" <<ZONE
s1._domainkey.example.com. TXT "v=DKIM1; k=rsa; " "p=${P:0:200}" "${P:200}"
s1._domainkey.example.com. TXT "unrelated text at the same name"
revoked._domainkey.example.com. TXT "v=DKIM1; k=rsa; p="
ZONE
printf 'sf._domainkey.example.com servfail\nslow._domainkey.example.com timeout\n' >"$T/faults"
dns_serve $PORT "$T/zone" "$T/faults"

printf 'From: Shop <news@example.com>\nTo: someone@163.com\nSubject: hello\nDate: Sat, 28 Nov 2026 01:00:00 +0000\nMessage-ID: <d1@example.com>\n\nHello.\n' >"$T/plain.eml"
sign() { # sign SELECTOR OUT
    "$PY" - "$T/plain.eml" "$2" "$T/k.pem" "$1" <<'PY'
import sys, dkim
src, out, key, sel = sys.argv[1:5]
msg = open(src, 'rb').read()
sig = dkim.sign(msg, sel.encode(), b'example.com', open(key, 'rb').read(), include_headers=[b'from', b'subject', b'date'])
open(out, 'wb').write(sig + msg)
PY
}
for s in s1 nosuch revoked sf slow; do sign $s "$T/$s.eml"; done
st() { # st FILE [options]: status and why of dkim-signature-1
    local f=$1; shift
    "$MT" check-message --json --resolver "$R" --timeout 300 "$@" "$f" >"$T/o.json" 2>"$T/e" || { echo "exit $?"; return; }
    json "$T/o.json" "[c['status'] + ' ' + c['why'] for c in d['checks'] if c['id']=='dkim-signature-1'][0]"
}
case $(st "$T/s1.eml") in "pass d=example.com s=s1 a=rsa-sha256"*) ok "key from DNS (split strings, a second TXT at the name): pass" ;; *) notok "s1: $(st "$T/s1.eml")" ;; esac
expect_eq "aligned with From" "$(json "$T/o.json" "[c['status'] for c in d['checks'] if c['id']=='dkim-alignment'][0]")" pass
case $(st "$T/nosuch.eml") in "fail"*"permerror: no key record at nosuch._domainkey.example.com: DNS nxdomain"*) ok "no such selector: permerror, NXDOMAIN said" ;; *) notok "nosuch: $(st "$T/nosuch.eml")" ;; esac
case $(st "$T/revoked.eml") in "fail"*"key revoked"*) ok "revoked key (empty p=): fail" ;; *) notok "revoked: $(st "$T/revoked.eml")" ;; esac
case $(st "$T/sf.eml") in "warn"*"temperror"*"DNS servfail"*) ok "SERVFAIL: temperror, not a failure of the message" ;; *) notok "sf: $(st "$T/sf.eml")" ;; esac
case $(st "$T/slow.eml") in "warn"*"temperror"*"DNS timeout"*) ok "timeout: temperror" ;; *) notok "slow: $(st "$T/slow.eml")" ;; esac
case $(st "$T/s1.eml" --dkim-key "s1._domainkey.example.com=$T/other.txt") in "fail"*"does not verify"*) ok "--dkim-key answers before DNS" ;; *) notok "override: $(st "$T/s1.eml" --dkim-key "s1._domainkey.example.com=$T/other.txt")" ;; esac
case $(st "$T/s1.eml" --offline) in "warn"*"not verified (neutral)"*) ok "--offline: not verified" ;; *) notok "offline: $(st "$T/s1.eml" --offline)" ;; esac
"$MT" check-message --resolver not-an-address "$T/s1.eml" >/dev/null 2>"$T/e"; expect_eq "bad --resolver exits 2" $? 2
grep -q "DNS" "$T/e" && ok "bad --resolver said" || notok "bad resolver: $(cat "$T/e")"
finish
