# check_message_corpus.sh - check-message and matrix on real mail: the
# bounces of the public Sisimai corpus ($MAILTRIAGE_CORPUS/sisimai, 900
# files from real MTAs, LF, CRLF and CR line ends) and the original
# messages they carry (message/rfc822 parts, extracted with Python's email
# package).  Every file must give the full check list and exit 0; the
# MIME leaf count must agree with Python's parser; the figures are printed.
source "$(dirname "$0")/lib.sh"
C=${MAILTRIAGE_CORPUS:-$ROOT/../shared/corpus}/sisimai
[ -d "$C/maildir" ] || { echo "skip: corpus absent ($C)"; exit 77; }

mkdir -p "$T/orig"
python3 - "$C/maildir" "$T/orig" <<'PY'
import email, os, sys
from email import policy
src, dst = sys.argv[1:3]
n = 0
for sub in sorted(os.listdir(src)):
    for f in sorted(os.listdir(os.path.join(src, sub))):
        m = email.message_from_binary_file(open(os.path.join(src, sub, f), 'rb'), policy=policy.compat32)
        for p in m.walk():
            if p.get_content_type() == 'message/rfc822' and p.is_multipart():
                inner = p.get_payload(0)
                data = inner.as_bytes()
                if data.strip():
                    open(os.path.join(dst, f'{sub}-{f}'), 'wb').write(data)
                    n += 1
                break
print(n, file=sys.stderr)
PY
files=$(find "$C/maildir" -type f | sort)
nb=$(echo "$files" | wc -l); no=$(ls "$T/orig" | wc -l)
bad=0
for f in $files "$T"/orig/*; do
    out="$T/json/$(echo "$f" | md5sum | cut -c1-12).json"
    mkdir -p "$T/json"
    if ! "$MT" check-message --offline --json "$f" >"$out" 2>"$T/err"; then
        # an empty file is an error by design; anything else must be checked
        [ -s "$f" ] && { bad=$((bad + 1)); echo "  exit $? on $f: $(head -c 200 "$T/err")"; }
        rm -f "$out"
    fi
done
expect_eq "check-message exits 0 on all $nb bounces and $no carried originals" "$bad" 0
python3 - "$T/json" <<'PY' >"$T/summary"
import json, os, sys, collections
d = sys.argv[1]
ids = None; n = 0; same = True; st = collections.Counter(); fails = collections.Counter()
for f in os.listdir(d):
    j = json.load(open(os.path.join(d, f)))
    n += 1
    these = [c['id'] for c in j['checks'] if c['family'] != 'dkim']
    if ids is None: ids = these
    same &= these == ids
    for c in j['checks']:
        st[c['status']] += 1
        if c['status'] == 'fail': fails[c['id']] += 1
print(n, same, ' '.join(f'{k}={v}' for k, v in sorted(st.items())))
print('most failed:', ', '.join(f'{k} {v}' for k, v in fails.most_common(8)))
PY
read -r n same counts <"$T/summary"
expect_eq "every output parses and lists the same checks" "$same" True
echo "  $n messages: $counts"; sed -n 2p "$T/summary" | sed 's/^/  /'

# an mbox: the first message is checked, and the count of the others said
mb="$C/mailbox/mbox-0"
if [ -f "$mb" ]; then
    want=$(python3 -c "import mailbox,sys; print(len(mailbox.mbox(sys.argv[1])))" "$mb")
    "$MT" check-message --offline "$mb" >/dev/null 2>"$T/err"
    grep -q "mbox of $want messages: only the first" "$T/err" && ok "mbox of $want messages said" || notok "mbox: $(cat "$T/err")"
fi

# leaf parts: GMime (ours) vs Python's email parser, on the originals
agree=$(python3 - "$T/orig" "$MT" <<'PY'
import email, json, os, subprocess, sys
from email import policy
d, mt = sys.argv[1:3]
ok = tot = 0
for f in sorted(os.listdir(d)):
    p = os.path.join(d, f)
    m = email.message_from_binary_file(open(p, 'rb'), policy=policy.compat32)
    if m.defects:  # Python's parser itself is unsure: not a yardstick
        continue
    # Python splits message/delivery-status into one sub-message per field
    # block; GMime keeps it one leaf, as RFC 3464 has it
    def leaves(x):
        if x.get_content_type() == 'message/delivery-status' or not x.is_multipart():
            return 1
        return sum(leaves(c) for c in x.get_payload())
    theirs = leaves(m)
    j = json.loads(subprocess.run([mt, 'check-message', '--offline', '--json', p], capture_output=True).stdout)
    why = [c['why'] for c in j['checks'] if c['id'] == 'structure-mime-tree'][0]
    ours = int(why.split(': ')[1].split(' ')[0]) if ': ' in why and 'part(s)' in why else -1
    tot += 1; ok += ours == theirs
print(f"{ok} {tot}")
PY
)
read -r ok tot <<<"$agree"
echo "  MIME leaf count agrees with Python on $ok of $tot well-formed originals"
[ "$tot" -gt 50 ] && [ "$ok" -eq "$tot" ] && ok "leaf counts agree with Python's parser" || notok "leaf counts: $ok of $tot"

# the matrix from every carried original: five files, E identical
mbad=0; i=0
for f in "$T"/orig/*; do
    i=$((i + 1)); [ $((i % 5)) -eq 0 ] || continue   # every fifth: keeps the test short
    rm -rf "$T/m"
    if ! "$MT" matrix "$f" --out "$T/m" >/dev/null 2>"$T/err" || ! cmp -s "$f" "$T/m/E.eml" ||
        [ "$(ls "$T/m" | wc -l)" -ne 6 ]; then
        mbad=$((mbad + 1)); echo "  matrix failed on $f: $(head -c 200 "$T/err")"
    fi
done
expect_eq "matrix on every fifth carried original" "$mbad" 0
finish
