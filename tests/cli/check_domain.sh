#!/bin/bash
# check_domain.sh - `mailtriage check-domain` and `mailtriage spf` against a
# real Knot DNS on 127.0.0.1:2665 behind the fault-injecting front on :2664
# (tests/dns/serve.py), serving zones written here: a good domain and
# domains broken in each way the checks look for.  DKIM keys are made here
# with openssl.  No corpus needed; nothing leaves the machine.
source "$(dirname "$0")/lib.sh"
command -v knotd >/dev/null || { echo "skip: knotd absent (scripts/install-deps.sh installs knot)"; exit 77; }
PY=/usr/bin/python3
PORT=2664
R=127.0.0.1:$PORT

b64key() { # b64key BITS -> base64 SubjectPublicKeyInfo of a new RSA key
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$1" 2>/dev/null | openssl pkey -pubout -outform DER | base64 -w0
}
txt() { # txt STRING -> zone-file character-strings of at most 200 bytes
    local s=$1 out=""
    while [ ${#s} -gt 200 ]; do out="$out\"${s:0:200}\" "; s=${s:200}; done
    echo "$out\"$s\""
}
K2048=$(b64key 2048) K1024=$(b64key 1024) K512=$(b64key 512)
KED=$(openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -outform DER | tail -c 32 | base64 -w0)

# an include chain of 11 DNS lookups for toomany.test
chain=""
for i in $(seq 1 10); do chain="${chain}inc$i.toomany.test. TXT \"v=spf1 include:inc$((i + 1)).toomany.test -all\"
"; done
chain="${chain}inc11.toomany.test. TXT \"v=spf1 -all\""

cat >"$T/zone" <<ZONE
good.test. TXT "v=spf1 ip4:192.0.2.10 include:_spf.good.test -all"
_spf.good.test. TXT "v=spf1 a:mail.good.test -all"
good.test. MX 10 mx.good.test.
mx.good.test. A 192.0.2.25
mail.good.test. A 192.0.2.10
10.2.0.192.in-addr.arpa. PTR mail.good.test.
s1._domainkey.good.test. TXT $(txt "v=DKIM1; k=rsa; p=$K2048")
ed._domainkey.good.test. TXT "v=DKIM1; k=ed25519; p=$KED"
_dmarc.good.test. TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
twospf.test. TXT "v=spf1 -all"
twospf.test. TXT "v=spf1 ip4:192.0.2.10 -all"
plusall.test. TXT "v=spf1 +all"
ptrspf.test. TXT "v=spf1 ptr include:_spf.good.test include:_spf.good.test ?all"
ptrspf.test. TYPE99 \# 12 0b763d73706631202d616c6c
syntax.test. TXT "v=spf1 ip4:300.1.1.1 -all"
toomany.test. TXT "v=spf1 include:inc1.toomany.test -all"
$chain
voids.test. TXT "v=spf1 a:n1.voids.test a:n2.voids.test a:n3.voids.test -all"
weak.test. TXT "v=spf1 -all"
k1024._domainkey.weak.test. TXT $(txt "v=DKIM1; p=$K1024")
k512._domainkey.weak.test. TXT "v=DKIM1; p=$K512"
revoked._domainkey.weak.test. TXT "v=DKIM1; p="
testing._domainkey.weak.test. TXT $(txt "v=DKIM1; t=y; p=$K2048")
garbage._domainkey.weak.test. TXT "v=DKIM1; k=rsa; p=bm90IGEga2V5"
sha1only._domainkey.weak.test. TXT $(txt "v=DKIM1; h=sha1; s=email; p=$K2048")
_dmarc.weak.test. TXT "v=DMARC1; p=none; sp=none; rua=mailto:reports@collector.test,mailto:x@authorised.test; foo=bar"
weak.test._report._dmarc.authorised.test. TXT "v=DMARC1"
_dmarc.dup.test. TXT "v=DMARC1; p=reject; p=none"
dup.test. TXT "v=spf1 -all"
org.test. TXT "v=spf1 -all"
_dmarc.org.test. TXT "v=DMARC1; p=quarantine"
a.b.org.test. TXT "v=spf1 -all"
nomx.test. TXT "v=spf1 -all"
nomx.test. A 192.0.2.99
mxip.test. MX 10 192.0.2.1.
mxcname.test. MX 10 alias.mxcname.test.
alias.mxcname.test. CNAME real.mxcname.test.
real.mxcname.test. A 192.0.2.26
20.2.0.192.in-addr.arpa. PTR unconfirmed.good.test.
unconfirmed.good.test. A 192.0.2.99
22.2.0.192.in-addr.arpa. PTR 192-0-2-22.dynamic.isp.test.
192-0-2-22.dynamic.isp.test. A 192.0.2.22
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR v6.good.test.
v6.good.test. AAAA 2001:db8::1
20.2.0.192.bl.test. A 127.0.0.2
22.2.0.192.bl.test. A 127.255.255.254
bad.test. TXT "v=spf1 -all"
long.test. TXT $(txt "v=spf1 $(for i in $(seq 1 120); do printf 'ip4:198.51.100.%d ' $i; done)-all")
bad.test.dbl.test. A 127.0.1.2
slow.test. MX 10 mx.good.test.
broken.test. MX 10 mx.good.test.
ZONE
printf 'slow.test timeout\nbroken.test malformed\nfail.test servfail\nnope.test refused\n' >"$T/faults"

dns_serve $PORT "$T/zone" "$T/faults"

cd_json() { "$MT" check-domain --resolver $R --timeout 300 --dnsbl bl.test --dbl dbl.test --json "$@" >"$T/out.json"; }
# st AREA CHECK-PREFIX: the status of the first matching check
st() { $PY -c "
import json,sys
d=json.load(open('$T/out.json'))
m=[c['status'] for c in d['checks'] if c['area']==sys.argv[1] and c['check'].startswith(sys.argv[2])]
print(m[0] if m else 'absent')" "$1" "$2"; }
summ() { $PY -c "
import json,sys
d=json.load(open('$T/out.json'))
m=[c['summary'] for c in d['checks'] if c['area']==sys.argv[1] and c['check'].startswith(sys.argv[2])]
print(m[0] if m else 'absent')" "$1" "$2"; }

# --- the good domain: everything passes
cd_json good.test --ip 192.0.2.10 --helo mail.good.test --selector s1 --selector ed --mail-from bounce@good.test
expect_eq "good: spf record" "$(st spf record)" pass
expect_eq "good: spf check_host" "$(st spf 'check_host 192.0.2.10')" pass
expect_eq "good: dkim 2048 rsa" "$(st dkim 'key s1')" pass
expect_eq "good: dkim ed25519" "$(st dkim 'key ed')" pass
expect_eq "good: dkim size from the key" "$(summ dkim 'key s1')" "RSA key of 2048 bits"
expect_eq "good: dmarc" "$(st dmarc record)" pass
expect_eq "good: spf alignment" "$(st dmarc 'spf alignment')" pass
expect_eq "good: dkim alignment (usable keys under the domain)" "$(st dmarc 'dkim alignment')" pass
expect_eq "good: rdns fcrdns" "$(st rdns 'ptr 192.0.2.10')" pass
expect_eq "good: helo" "$(st helo 'helo mail.good.test')" pass
expect_eq "good: mx" "$(st mx 'host mx.good.test')" pass
expect_eq "good: ip not listed" "$(st dnsbl '192.0.2.10 in bl.test')" pass
expect_eq "good: domain not listed" "$(st dnsbl 'good.test in dbl.test')" pass
expect_eq "good: no fail/warn/error" "$($PY -c "import json; d=json.load(open('$T/out.json')); print(d['counts']['fail']+d['counts']['warn']+d['counts']['error'])")" 0

# --- SPF breakage
cd_json twospf.test --no-dnsbl; expect_eq "two SPF records" "$(st spf record)" fail
cd_json plusall.test --no-dnsbl; expect_eq "+all" "$(st spf record)" fail
cd_json ptrspf.test --no-dnsbl
expect_eq "ptr + ?all + duplicate include: warn" "$(st spf record)" warn
s=$(summ spf record)
case "$s" in *ptr*'?all'*'duplicate include'*) ok "warnings named: $s" ;; *) notok "warnings: $s" ;; esac
grep -q 'type 99' "$T/out.json" && ok "type 99 record reported" || notok "type 99 record not reported"
cd_json syntax.test --no-dnsbl; expect_eq "syntax error" "$(st spf record)" fail
cd_json toomany.test --no-dnsbl
expect_eq "11 lookups: fail" "$(st spf lookups)" fail
case "$(summ spf lookups)" in "11 of 10 DNS lookups"*"more than 10"*) ok "lookup count 11 with reason" ;; *) notok "lookups: $(summ spf lookups)" ;; esac
depth=$($PY -c "
import json
d=json.load(open('$T/out.json'))
t=[c for c in d['checks'] if c['check'].startswith('lookups')][0]['spf_tree']
n=0
while t['children']: t=t['children'][0]; n+=1
print(n)")
expect_eq "lookup tree follows the include chain (10 includes read, the 11th refused)" "$depth" 10
cd_json voids.test --no-dnsbl; expect_eq "3 void lookups: fail" "$(st spf lookups)" fail

cd_json long.test --no-dnsbl --only spf
expect_eq "a 2 KB record (answer over UDP size: TCP through the front): read, warned for length" "$(st spf record)" warn
case "$(summ spf record)" in *"bytes (RFC 7208 3.4: keep under 450)"*) ok "length named" ;; *) notok "length: $(summ spf record)" ;; esac
# --- DKIM
cd_json weak.test --no-dnsbl --selector k1024 --selector k512 --selector revoked --selector testing --selector garbage --selector missing --selector sha1only
expect_eq "1024-bit key: warn" "$(st dkim 'key k1024')" warn
expect_eq "512-bit key: fail" "$(st dkim 'key k512')" fail
expect_eq "revoked key: fail" "$(st dkim 'key revoked')" fail
expect_eq "t=y: warn" "$(st dkim 'key testing')" warn
expect_eq "p= not a key: fail" "$(st dkim 'key garbage')" fail
expect_eq "h=sha1 only: warn" "$(st dkim 'key sha1only')" warn
expect_eq "missing selector: fail" "$(st dkim 'key missing')" fail
# --- DMARC
expect_eq "p=none: warn" "$(st dmarc record)" warn
expect_eq "dkim alignment: usable keys (1024-bit, t=y) found" "$(st dmarc 'dkim alignment')" pass
cd_json weak.test --no-dnsbl --selector k512 --selector revoked
expect_eq "dkim alignment: no usable key, fail" "$(st dmarc 'dkim alignment')" fail
cd_json weak.test --no-dnsbl --selector k1024 --selector k512 --selector revoked --selector testing --selector garbage --selector missing
expect_eq "external rua not authorised: fail" "$(st dmarc 'rua mailto:reports@collector.test')" fail
expect_eq "external rua authorised: pass" "$(st dmarc 'rua mailto:x@authorised.test')" pass
case "$(summ dmarc record)" in *"unknown tag foo"*) ok "unknown tag named" ;; *) notok "unknown tag: $(summ dmarc record)" ;; esac
cd_json dup.test --no-dnsbl; expect_eq "duplicate p=: fail" "$(st dmarc record)" fail
cd_json a.b.org.test --no-dnsbl --mail-from x@other.test
expect_eq "dmarc found at the organisational domain" "$(st dmarc record)" pass
grep -q 'RFC 7489 (organisational domain org.test via the Public Suffix List): _dmarc.org.test' "$T/out.json" && ok "RFC 7489 discovery evidence" || notok "RFC 7489 discovery evidence"
grep -q 'RFC 9989 (DNS tree walk): _dmarc.org.test' "$T/out.json" && ok "RFC 9989 tree walk evidence" || notok "RFC 9989 tree walk evidence"
expect_eq "unaligned MAIL FROM: warn" "$(st dmarc 'spf alignment')" warn
# --- MX
cd_json nomx.test --no-dnsbl; expect_eq "no MX: fail" "$(st mx records)" fail
cd_json mxip.test --no-dnsbl; expect_eq "MX is an IP literal: fail" "$(st mx 'host 192.0.2.1')" fail
cd_json mxcname.test --no-dnsbl; expect_eq "MX host is a CNAME: warn" "$(st mx 'host alias.mxcname.test')" warn
# --- reverse DNS, HELO, blocklists
cd_json good.test --ip 192.0.2.20 --ip 192.0.2.21 --ip 192.0.2.22 --ip 2001:db8::1 --helo nowhere.good.test
expect_eq "PTR not forward-confirmed: fail" "$(st rdns 'ptr 192.0.2.20')" fail
expect_eq "no PTR: fail" "$(st rdns 'ptr 192.0.2.21')" fail
expect_eq "generic PTR: warn" "$(st rdns 'ptr 192.0.2.22')" warn
expect_eq "IPv6 FCrDNS: pass" "$(st rdns 'ptr 2001:db8::1')" pass
expect_eq "HELO does not resolve: fail" "$(st helo 'helo nowhere.good.test for 192.0.2.20')" fail
expect_eq "listed IP: fail" "$(st dnsbl '192.0.2.20 in bl.test')" fail
expect_eq "open-resolver code: error (unknown)" "$(st dnsbl '192.0.2.22 in bl.test')" error
expect_eq "SPF fail for an unlisted IP" "$(st spf 'check_host 192.0.2.20')" fail
cd_json bad.test; expect_eq "listed domain: fail" "$(st dnsbl 'bad.test in dbl.test')" fail
# --- DNS faults: error, never pass or fail
cd_json slow.test --no-dnsbl; expect_eq "timeout: error" "$(st spf record)" error
cd_json broken.test --no-dnsbl; expect_eq "malformed answer: error" "$(st spf record)" error
cd_json fail.test --no-dnsbl; expect_eq "SERVFAIL: error" "$(st spf record)" error
cd_json nope.test --no-dnsbl; expect_eq "REFUSED: error" "$(st spf record)" error
case "$(summ spf record)" in *refused*) ok "REFUSED named" ;; *) notok "REFUSED: $(summ spf record)" ;; esac
# --- text form, --file
"$MT" check-domain --resolver $R --no-dnsbl good.test >"$T/out.txt"
head -1 "$T/out.txt" | grep -q '^good.test: [0-9]* pass' && ok "text summary line" || notok "text: $(head -1 "$T/out.txt")"
{ printf 'good.test\n# comment\nplusall.test\n\n'; head -c 3000 /dev/zero | tr '\0' a; printf '\ntwospf.test\n'; } >"$T/list"
"$MT" check-domain --resolver $R --no-dnsbl --json --file "$T/list" >"$T/many.json" 2>"$T/many.err"
expect_eq "--file: one JSON line per domain" "$(wc -l <"$T/many.json" | tr -d ' ')" 3
grep -q '1 line(s) skipped' "$T/many.err" && ok "--file: an over-long line is skipped and counted" || notok "stderr: $(cat "$T/many.err")"
for i in $(seq 1 30); do printf 'good.test\nplusall.test\nweak.test\nmxcname.test\norg.test\nbad.test\n'; done >"$T/list2"
"$MT" check-domain --resolver $R --dnsbl bl.test --dbl dbl.test --ip 192.0.2.22 --file "$T/list2" >"$T/seq.txt"
"$MT" check-domain --resolver $R --dnsbl bl.test --dbl dbl.test --ip 192.0.2.22 --file "$T/list2" --jobs 4 >"$T/par.txt"
cmp -s "$T/seq.txt" "$T/par.txt" || diff "$T/seq.txt" "$T/par.txt" | head -20 | sed 's/^/    /'
expect_eq "--jobs 4: the same reports in the same order as one at a time ($(grep -c '^[a-z]*\.test: ' "$T/seq.txt") domains)" "$(cmp -s "$T/seq.txt" "$T/par.txt" && echo same)" same

# --- mailtriage spf through the same server
expect_eq "spf: pass word first" "$("$MT" spf --resolver $R --ip 192.0.2.10 --mail-from x@good.test | head -1)" pass
out=$("$MT" spf --resolver $R --ip 192.0.2.77 --mail-from x@good.test)
expect_eq "spf: fail" "$(echo "$out" | head -1)" fail
echo "$out" | grep -q 'dns lookups: 2 of 10' && ok "spf: lookup count (include + a)" || notok "spf: $out"
expect_eq "spf: null sender via HELO" "$("$MT" spf --resolver $R --ip 192.0.2.10 --mail-from '' --helo good.test | head -1)" pass
expect_eq "spf: permerror over the limit" "$("$MT" spf --resolver $R --ip 192.0.2.10 --mail-from x@toomany.test | head -1)" permerror
expect_eq "spf: temperror on timeout" "$("$MT" spf --resolver $R --timeout 200 --ip 192.0.2.10 --mail-from x@slow.test | head -1)" temperror
expect_eq "spf: none" "$("$MT" spf --resolver $R --ip 192.0.2.10 --mail-from x@nothing.test | head -1)" none
"$MT" spf --ip nonsense --mail-from x@good.test --resolver $R >/dev/null 2>&1
expect_eq "spf: bad IP is a usage error" $? 2
# --- diagnose --check-dns: the log's envelope domains and route IPs checked,
# failing checks folded into the findings as cause authentication
gen_log() { # gen_log FILE: 12 messages; bounce@plusall.test deferred at 163.com, bounce@good.test delivered
    local i t q dom
    for i in $(seq 10 21); do
        t="Nov 20 01:$i:00"
        q="4AB${i}CD${i}EF"
        if [ $((i % 2)) = 0 ]; then dom=plusall.test; else dom=good.test; fi
        echo "$t mx1 postfix-out/cleanup[100]: $q: message-id=<m$i@$dom>"
        echo "$t mx1 postfix-out/qmgr[101]: $q: from=<bounce@$dom>, size=2000, nrcpt=1 (queue active)"
        if [ $dom = plusall.test ]; then
            echo "$t mx1 postfix-out/smtp[102]: $q: to=<user$i@163.com>, relay=163mx01.mxmail.netease.com[220.181.12.11]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=4.3.2, status=deferred (host 163mx01.mxmail.netease.com[220.181.12.11] said: 451 4.3.2 Internal server error (in reply to end of DATA command))"
        else
            echo "$t mx1 postfix-out/smtp[102]: $q: to=<user$i@163.com>, relay=163mx01.mxmail.netease.com[220.181.12.11]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 Mail OK queued as x)"
            echo "$t mx1 postfix-out/qmgr[101]: $q: removed"
        fi
    done >"$1"
}
gen_log "$T/mail.log"
echo "postfix-out 192.0.2.20 nowhere.good.test" >"$T/routes"
"$MT" diagnose --json --routes "$T/routes" "$T/mail.log" >"$T/plain.json"
"$MT" diagnose --json --check-dns --resolver $R --routes "$T/routes" "$T/mail.log" >"$T/dns.json" 2>"$T/dns.err"
expect_eq "diagnose without --check-dns: no authentication finding" "$($PY -c "
import json; d=json.load(open('$T/plain.json')); print(sum(f['cause']=='authentication' for f in d['findings']))")" 0
expect_eq "--check-dns: authentication findings for both domains (via the failing rDNS of 192.0.2.20)" "$($PY -c "
import json; d=json.load(open('$T/dns.json'))
print(sorted(f['scope'].get('mail_from_domain','') for f in d['findings'] if f['cause']=='authentication'))")" "['good.test', 'plusall.test']"
ev=$($PY -c "
import json; d=json.load(open('$T/dns.json'))
f=[f for f in d['findings'] if f['scope'].get('mail_from_domain')=='plusall.test'][0]
print(' | '.join(f['evidence']))")
case "$ev" in *"spf record plusall.test: fail: record parses; +all"*) ok "the failing SPF check is the evidence" ;; *) notok "evidence: $ev" ;; esac
case "$ev" in *"rdns ptr 192.0.2.20: fail"*) ok "the failing rDNS check is the evidence" ;; *) notok "evidence: $ev" ;; esac
grep -q '2 envelope domain(s) checked, 2 with failing checks' "$T/dns.err" && ok "--check-dns summary on stderr" || notok "stderr: $(cat "$T/dns.err")"
finish
