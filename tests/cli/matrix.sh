# matrix.sh - `mailtriage matrix`: Test A-E from a production message
# (multipart/mixed: text + HTML with tracked links and a tracking pixel, a
# PDF and a ZIP), each variant checked by reading it back (check-message
# and Python's email parser); then --interpret over all 32 outcomes.
source "$(dirname "$0")/lib.sh"
MK="python3 $(dirname "$0")/mkmsg.py"
$MK production "$T/prod.eml"
"$MT" matrix "$T/prod.eml" --out "$T/m" --mail-from bounce@mail.example.com >/dev/null
expect_eq "matrix exits 0" $? 0
for t in A B C D E; do [ -s "$T/m/$t.eml" ] && ok "$t.eml written" || notok "$t.eml written"; done
J="$T/m/matrix.json"
v() { json "$J" "[x for x in d['variants'] if x['test']=='$1'][0]['$2']"; }
expect_eq "envelope recorded" "$(json "$J" "d['envelope']['mail_from']")" bounce@mail.example.com
expect_eq "recipient domains only (no local parts)" "$(json "$J" "d['envelope']['rcpt_domains']")" "['163.com']"
grep -q someone "$J" && notok "matrix.json holds a recipient's local part" || ok "matrix.json holds no local part"
cmp -s "$T/prod.eml" "$T/m/E.eml" && ok "E is the production message byte for byte" || notok "E differs"
# figures in matrix.json, checked against an independent parser
py() { python3 - "$@" <<'PY'
import sys, email, re
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
att = [p for p in m.walk() if p.get_content_disposition() == 'attachment']
texts = [p for p in m.walk() if p.get_content_maintype() == 'text' and p.get_content_disposition() != 'attachment']
body = ''.join(p.get_content() for p in texts)
kinds = sorted(p.get_content_type() for p in texts)
print(len(att), ','.join(kinds), len(re.findall(r'https?://', body)), 'esp-track' in body, m['From'], m['To'])
PY
}
read -r att kinds urls track from <<<"$(py "$T/m/A.eml")"
expect_eq "A: no attachments" "$att" 0; expect_eq "A: plain text only" "$kinds" text/plain
expect_eq "A: no URLs" "$urls" 0
read -r att kinds urls track _ <<<"$(py "$T/m/B.eml")"
expect_eq "B: plain text only" "$kinds" text/plain; expect_eq "B: no attachments" "$att" 0
expect_eq "B: the production links (2 in the text + 1 only in the HTML)" "$urls" 3
expect_eq "B: tracked links kept" "$track" True
read -r att kinds urls track _ <<<"$(py "$T/m/C.eml")"
expect_eq "C: text and HTML" "$kinds" text/html,text/plain; expect_eq "C: no attachments" "$att" 0
expect_eq "C: no tracking host left" "$track" False
grep -q 'https://www.example.com/sale?id=7' "$T/m/C.eml" && ok "C: the tracked link resolved to its target" || notok "C: target"
grep -q '<a>Your account</a>' "$T/m/C.eml" && ok "C: the link without a target left out, text kept" || notok "C: opaque link"
read -r att kinds urls track _ <<<"$(py "$T/m/D.eml")"
expect_eq "D: text and HTML" "$kinds" text/html,text/plain; expect_eq "D: no attachments" "$att" 0
expect_eq "D: tracking kept" "$track" True
read -r att _ <<<"$(py "$T/m/E.eml")"; expect_eq "E: both attachments" "$att" 2
expect_eq "matrix.json: A links" "$(v A links)" 0
expect_eq "matrix.json: C tracking links" "$(v C tracking_links)" 0
expect_eq "matrix.json: D tracking links (2 HTML + 1 text)" "$(v D tracking_links)" 3
expect_eq "matrix.json: E attachments" "$(v E attachments)" 2
expect_eq "matrix.json: E bytes" "$(v E bytes)" "$(stat -c %s "$T/prod.eml")"
expect_eq "matrix.json: sizes grow A<B<C<D<E" "$(json "$J" "all(a['bytes'] < b['bytes'] for a, b in zip(d['variants'], d['variants'][1:]))")" True
for t in A B C D; do
    "$MT" check-message --offline --json "$T/m/$t.eml" >"$T/c.json"
    expect_eq "$t: same From as production" "$(json "$T/c.json" "[c['why'] for c in d['checks'] if c['id']=='headers-from'][0]")" "one mailbox, domain example.com"
    expect_eq "$t: no structure failures" "$(json "$T/c.json" "[c['id'] for c in d['checks'] if c['family']=='structure' and c['status']=='fail']")" "[]"
    expect_eq "$t: own Message-ID" "$(grep -c '^Message-ID: <mt-matrix-'"$t" "$T/m/$t.eml")" 1
    expect_eq "$t: one MIME-Version" "$(grep -ci '^MIME-Version:' <(sed '/^$/q' "$T/m/$t.eml"))" 1
done
# a message without HTML or attachments still gives five valid messages
$MK ok-simple "$T/simple.eml"
"$MT" matrix "$T/simple.eml" --out "$T/s" >/dev/null; expect_eq "plain message: exit 0" $? 0
expect_eq "plain message: C says there is no HTML" "$(json "$T/s/matrix.json" "any('no HTML' in n for n in d['variants'][2]['notes'])")" True

# --interpret: every combination of accepted/deferred
declare -A want=(
    [ppppp]="every test that ran was accepted" [ppppf]="D passes and E fails: only the production message fails; look at the attachments or the final size"
    [pppff]="C passes and D fails: look at link tracking, redirect domains, URL count and HTML transformations"
    [ppfff]="B passes and C fails: look at the HTML construction" [pffff]="A passes and B fails: look at the links themselves"
    [fffff]="Test A fails: look at the envelope, route, DNS")
n=0 good=0
for a in p f; do for b in p f; do for c in p f; do for d in p f; do for e in p f; do
    key=$a$b$c$d$e; i=0; : >"$T/r"
    for x in $a $b $c $d $e; do
        L=(A B C D E); [ "$x" = p ] && w=accepted || w="deferred 451 4.3.2 Internal server error"
        echo "${L[$i]} $w" >>"$T/r"; i=$((i + 1))
    done
    out=$("$MT" matrix --interpret "$T/r" --json) || { notok "interpret $key exits 0"; continue; }
    n=$((n + 1))
    first=$(echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['first_failure'], d['consistent'])")
    exp_first=$(python3 -c "k='$key'; i=k.find('f'); print('ABCDE'[i] if i>=0 else None, 'p' not in k[i:] if i>=0 else True)")
    [ "$first" = "$exp_first" ] && good=$((good + 1)) || notok "interpret $key: got $first, want $exp_first"
    if [ -n "${want[$key]:-}" ]; then
        concl=$(echo "$out" | python3 -c "import json,sys; print(json.load(sys.stdin)['conclusion'])")
        case $concl in "${want[$key]}"*) ok "interpret $key: $concl" ;; *) notok "interpret $key: '$concl'" ;; esac
    fi
done; done; done; done; done
expect_eq "all 32 combinations: first failure and consistency" "$good/$n" "32/32"
printf 'A accepted\nB deferred\nC accepted\nD deferred\nE deferred\n' >"$T/r"
"$MT" matrix --interpret "$T/r" | grep -q "Inconsistent: C passed" && ok "inconsistent results said so" || notok "inconsistent"
printf 'A 250 ok\nD 451 4.3.2\n' >"$T/r"
"$MT" matrix --interpret "$T/r" | grep -q "A passes, D fails (between them not run)" && ok "missing tests widen the candidates" || notok "partial: $("$MT" matrix --interpret "$T/r")"
echo '{"results":[{"test":"A","outcome":"accepted"},{"test":"E","outcome":"deferred"}]}' >"$T/r.json"
"$MT" matrix --interpret "$T/r.json" --json | grep -q '"first_failure":"E"' && ok "probe-style JSON results" || notok "json results"
printf 'A accepted\nQ maybe\n' >"$T/r"
"$MT" matrix --interpret "$T/r" >/dev/null 2>"$T/e"; expect_eq "bad results exit 1" $? 1
grep -q "line 2" "$T/e" && ok "bad results: line named" || notok "bad results: $(cat "$T/e")"
"$MT" matrix "$T/prod.eml" >/dev/null 2>&1; expect_eq "matrix without --out exits 2" $? 2
finish
