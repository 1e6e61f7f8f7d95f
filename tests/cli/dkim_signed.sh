# dkim_signed.sh - DKIM verification against a real signer: keys made now
# with the openssl CLI, messages signed by dkimpy (Debian python3-dkim),
# verified by `check-message --dkim-key`, with tampered copies that must
# fail; dkimpy's own verifier is asked the same question as a cross-check.
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import dkim' 2>/dev/null; then echo "skip: python3-dkim not installed"; exit 77; fi
command -v openssl >/dev/null || { echo "skip: openssl CLI not installed"; exit 77; }

openssl genrsa -out "$T/rsa.pem" 2048 2>/dev/null
openssl genrsa -out "$T/other.pem" 2048 2>/dev/null
pub() { openssl rsa -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0; }
printf 'v=DKIM1; k=rsa; p=%s\n' "$(pub "$T/rsa.pem")" >"$T/rsa.txt"
# the same record as a zone file writes it: quoted strings
p=$(pub "$T/rsa.pem")
printf '"v=DKIM1; k=rsa; " "p=%s" "%s"\n' "${p:0:200}" "${p:200}" >"$T/rsa-quoted.txt"
printf 'v=DKIM1; k=rsa; p=%s\n' "$(pub "$T/other.pem")" >"$T/other.txt"
openssl genpkey -algorithm ed25519 -out "$T/ed.pem" 2>/dev/null
openssl pkey -in "$T/ed.pem" -outform DER 2>/dev/null | tail -c 32 | base64 -w0 >"$T/ed.seed"
printf 'v=DKIM1; k=ed25519; p=%s\n' "$(openssl pkey -in "$T/ed.pem" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)" >"$T/ed.txt"

cat >"$T/plain.eml" <<'MSG'
From: Shop News <news@example.com>
To: someone@163.com
Subject: =?UTF-8?B?5LuK5pel5LyY5oOg?=
Date: Sat, 28 Nov 2026 01:00:00 +0000
Message-ID: <m1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Hello,   this line has  runs of spaces   
and a trailing-space line above.

今日优惠 -- the Chinese line.


MSG

# sign IN OUT KEYFILE SELECTOR DOMAIN ALG CANON [length]
sign() {
    "$PY" - "$@" <<'PY'
import sys, dkim
src, out, keyf, sel, dom, alg, canon = sys.argv[1:8]
length = len(sys.argv) > 8
msg = open(src, 'rb').read()
key = open(keyf, 'rb').read().strip()
h, b = canon.split('/')
sig = dkim.sign(msg, sel.encode(), dom.encode(), key, canonicalize=(h.encode(), b.encode()),
                include_headers=[b'from', b'to', b'subject', b'date', b'message-id'],
                signature_algorithm=alg.encode(), length=length)
open(out, 'wb').write(sig + msg)
PY
}
# dkimpy's verdict with the same key record
theirs() {
    "$PY" - "$1" "$2" <<'PY'
import sys, dkim
rec = open(sys.argv[2], 'rb').read().strip()
d = dkim.DKIM(open(sys.argv[1], 'rb').read())
try:
    print("pass" if d.verify(dnsfunc=lambda name, timeout=5: rec) else "fail")
except dkim.ValidationError:
    print("fail")
PY
}
# ours FILE NAME=KEYFILE... : status and why of dkim-signature-1, and dkim-alignment
ours() {
    local f=$1; shift
    local args=()
    for k in "$@"; do args+=(--dkim-key "$k"); done
    "$MT" check-message --offline --json "${args[@]}" "$f" >"$T/out.json" 2>"$T/err" || { echo "exit $?"; return; }
    json "$T/out.json" "[c['status'] for c in d['checks'] if c['id']=='dkim-signature-1'][0]"
}
why1() { json "$T/out.json" "[c['why'] for c in d['checks'] if c['id']=='dkim-signature-1'][0]"; }
align() { json "$T/out.json" "[c['status'] for c in d['checks'] if c['id']=='dkim-alignment'][0]"; }

KEY=s1._domainkey.example.com
sign "$T/plain.eml" "$T/rr.eml" "$T/rsa.pem" s1 example.com rsa-sha256 relaxed/relaxed
expect_eq "dkimpy verifies its rsa relaxed/relaxed signature" "$(theirs "$T/rr.eml" "$T/rsa.txt")" pass
expect_eq "rsa-sha256 relaxed/relaxed: pass" "$(ours "$T/rr.eml" "$KEY=$T/rsa.txt")" pass
expect_eq "rsa-sha256 relaxed/relaxed: aligned with From" "$(align)" pass
expect_eq "key record as quoted zone strings: pass" "$(ours "$T/rr.eml" "$KEY=$T/rsa-quoted.txt")" pass
expect_eq "another key: fail" "$(ours "$T/rr.eml" "$KEY=$T/other.txt")" fail
why1 | grep -q "does not verify" && ok "another key: the reason says so" || notok "another key: $(why1)"
expect_eq "no key given: warn (not verified)" "$(ours "$T/rr.eml")" warn
why1 | grep -q "body hash matches" && ok "no key: the body hash is still checked" || notok "no key: $(why1)"

sign "$T/plain.eml" "$T/ss.eml" "$T/rsa.pem" s1 example.com rsa-sha256 simple/simple
expect_eq "rsa-sha256 simple/simple: pass" "$(ours "$T/ss.eml" "$KEY=$T/rsa.txt")" pass

# relaxed body survives whitespace changes; simple does not
sed 's/runs of spaces/runs   of spaces/' "$T/rr.eml" >"$T/rr-ws.eml"
sed 's/runs of spaces/runs   of spaces/' "$T/ss.eml" >"$T/ss-ws.eml"
expect_eq "relaxed body: extra spaces still pass" "$(ours "$T/rr-ws.eml" "$KEY=$T/rsa.txt")" pass
expect_eq "dkimpy agrees (relaxed, spaces)" "$(theirs "$T/rr-ws.eml" "$T/rsa.txt")" pass
expect_eq "simple body: extra spaces fail" "$(ours "$T/ss-ws.eml" "$KEY=$T/rsa.txt")" fail
expect_eq "dkimpy agrees (simple, spaces)" "$(theirs "$T/ss-ws.eml" "$T/rsa.txt")" fail

# tampering
sed 's/the Chinese line/the changed line/' "$T/rr.eml" >"$T/body.eml"
expect_eq "tampered body: fail" "$(ours "$T/body.eml" "$KEY=$T/rsa.txt")" fail
why1 | grep -q "body hash mismatch" && ok "tampered body: body hash named" || notok "tampered body: $(why1)"
expect_eq "dkimpy agrees (tampered body)" "$(theirs "$T/body.eml" "$T/rsa.txt")" fail
sed 's/^Subject: .*/Subject: changed/' "$T/rr.eml" >"$T/subj.eml"
expect_eq "tampered Subject: fail" "$(ours "$T/subj.eml" "$KEY=$T/rsa.txt")" fail
why1 | grep -q "signed header changed" && ok "tampered Subject: header named" || notok "tampered Subject: $(why1)"
expect_eq "dkimpy agrees (tampered Subject)" "$(theirs "$T/subj.eml" "$T/rsa.txt")" fail

# Ed25519 (RFC 8463)
if "$PY" -c 'import nacl' 2>/dev/null; then
    sign "$T/plain.eml" "$T/ed.eml" "$T/ed.seed" e1 example.com ed25519-sha256 relaxed/simple
    expect_eq "dkimpy verifies its ed25519 signature" "$(theirs "$T/ed.eml" "$T/ed.txt")" pass
    expect_eq "ed25519-sha256 relaxed/simple: pass" "$(ours "$T/ed.eml" "e1._domainkey.example.com=$T/ed.txt")" pass
    sed 's/Hello/Hullo/' "$T/ed.eml" >"$T/ed-bad.eml"
    expect_eq "ed25519 tampered: fail" "$(ours "$T/ed-bad.eml" "e1._domainkey.example.com=$T/ed.txt")" fail
    expect_eq "ed25519 with an RSA key record: fail" "$(ours "$T/ed.eml" "e1._domainkey.example.com=$T/rsa.txt")" fail
else
    echo "note: python3-nacl absent, dkimpy cannot sign Ed25519; those cases not run"
fi

# l=: content appended after signing still verifies, and we say so
sign "$T/plain.eml" "$T/len.eml" "$T/rsa.pem" s1 example.com rsa-sha256 relaxed/relaxed length
printf 'Appended after signing: http://evil.example.net/\n' >>"$T/len.eml"
expect_eq "l= with appended text: dkimpy passes" "$(theirs "$T/len.eml" "$T/rsa.txt")" pass
expect_eq "l= with appended text: warn" "$(ours "$T/len.eml" "$KEY=$T/rsa.txt")" warn
why1 | grep -q "l=.*signs only" && ok "l=: the reason names the unsigned tail" || notok "l=: $(why1)"

# d= of another organisation: verifies but does not align
sign "$T/plain.eml" "$T/esp.eml" "$T/rsa.pem" s1 esp-mailer.net rsa-sha256 relaxed/relaxed
expect_eq "ESP signature: pass" "$(ours "$T/esp.eml" "s1._domainkey.esp-mailer.net=$T/rsa.txt")" pass
expect_eq "ESP signature: not aligned with From" "$(align)" fail

# stdin and CRLF line ends
sed 's/$/\r/' "$T/rr.eml" >"$T/crlf.eml"
"$MT" check-message --offline --json --dkim-key "$KEY=$T/rsa.txt" - <"$T/crlf.eml" >"$T/out.json"
expect_eq "CRLF message on stdin: pass" "$(json "$T/out.json" "[c['status'] for c in d['checks'] if c['id']=='dkim-signature-1'][0]")" pass

# bad --dkim-key arguments are usage errors
"$MT" check-message --dkim-key nonsense "$T/rr.eml" >/dev/null 2>&1; expect_eq "--dkim-key without = exits 2" $? 2
"$MT" check-message --dkim-key "$KEY=/nonexistent" "$T/rr.eml" >/dev/null 2>&1; expect_eq "--dkim-key missing file exits 2" $? 2
finish
