# check_message.sh - `mailtriage check-message`: for every check a message
# that passes it and one that does not, built by tests/cli/mkmsg.py
# (Python's email package, an independent MIME writer) or by hand; the
# JSON contract (numbered, stable unique ids, statuses, score); errors.
source "$(dirname "$0")/lib.sh"
MK="python3 $(dirname "$0")/mkmsg.py"

for k in $($MK list); do
    case $k in big*) continue ;; esac
    $MK "$k" "$T/$k.eml" || { notok "mkmsg $k"; }
done
# st KIND ID [options...]: the status of check ID
st() {
    local k=$1 id=$2; shift 2
    "$MT" check-message --offline --json "$@" "$T/$k.eml" >"$T/o.json" 2>"$T/e" || { echo "exit $?"; return; }
    json "$T/o.json" "([c['status'] for c in d['checks'] if c['id']=='$id'] or ['missing'])[0]"
}
why() { json "$T/o.json" "[c['why'] for c in d['checks'] if c['id']=='$1'][0]"; }
# case: KIND ID WANT [options]
c() { local k=$1 id=$2 want=$3; shift 3; expect_eq "$k: $id $want" "$(st "$k" "$id" "$@")" "$want"; }

# structure
c clean structure-rfc5322 pass;              c no-colon structure-rfc5322 fail
c clean structure-line-endings pass;         c bare-cr structure-line-endings fail
c production structure-mime-tree pass;       c multipart-no-boundary structure-mime-tree fail
c production structure-boundaries pass;      c unclosed structure-boundaries fail
c collision structure-boundaries fail;       c multipart-no-boundary structure-boundaries fail
c ok-simple structure-boundaries n/a
c many-multiparts structure-boundaries pass; why structure-boundaries | grep -q "^5001 multipart" && ok "5001 multiparts counted" || notok "many: $(why structure-boundaries)"
c deep-nesting structure-mime-tree fail;    why structure-mime-tree | grep -q "nesting too deep" && ok "deep nesting said" || notok "deep: $(why structure-mime-tree)"
c production structure-alternative pass;     c html-only-alt structure-alternative fail
c ok-simple structure-transfer-encoding pass; c 8bit-in-7bit structure-transfer-encoding fail
c production structure-line-length pass;     c long-line structure-line-length fail
c production structure-base64 pass;          c bad-base64 structure-base64 fail
c truncated-base64 structure-base64 fail
c good-qp structure-quoted-printable pass;    c bad-qp structure-quoted-printable fail
# headers
c clean headers-from pass;                   c two-from headers-from fail
c clean headers-date pass;                   c bad-date headers-date fail
c clean headers-message-id pass;             c no-msgid headers-message-id fail
c clean headers-mime-version pass;           c no-mime-version headers-mime-version fail
c clean headers-subject pass;                c 8bit-subject headers-subject fail
c bad-encoded-word headers-subject fail;     c chinese headers-subject pass
c unsub-oneclick headers-list-unsubscribe pass; c bulk-no-unsub headers-list-unsubscribe fail
c unsub-no-post headers-list-unsubscribe warn;  c clean headers-list-unsubscribe n/a
c replyto-same headers-reply-to pass;        c replyto-other headers-reply-to warn
c clean headers-envelope-from n/a
c clean headers-envelope-from pass --mail-from bounces@mail.example.com
c clean headers-envelope-from warn --mail-from bounces@esp-mailer.net
c clean headers-duplicates pass;             c dup-subject headers-duplicates fail
# charset and language
c chinese charset-text-parts pass;           c utf8-declared-gbk-bytes charset-text-parts fail
why charset-text-parts | grep -q "GB18030/GBK" && ok "GBK bytes under a UTF-8 label are named" || notok "gbk named: $(why charset-text-parts)"
c gbk-ok charset-text-parts pass;            c gb2312-with-gbk-char charset-text-parts warn
c no-charset-8bit charset-text-parts fail
c chinese charset-utf8 pass;                 c gbk-ok charset-utf8 warn
c chinese charset-headers pass;              c bad-encoded-word charset-headers fail
c raw-8bit-to charset-headers warn
st chinese charset-language >/dev/null; why charset-language | grep -q "^Chinese: CJK 100%" && ok "Chinese text: Chinese, CJK 100%" || notok "chinese: $(why charset-language)"
st clean charset-language >/dev/null; why charset-language | grep -q "^Latin script.*CJK 0%" && ok "English text: Latin, CJK 0%" || notok "english: $(why charset-language)"
st mixed-lang charset-language >/dev/null; why charset-language | grep -q "^mixed" && ok "bilingual text: mixed" || notok "mixed: $(why charset-language)"
# size
c clean size-raw pass;                       c clean size-attachments n/a
st production size-attachments >/dev/null
raw=$(stat -c %s "$T/production.eml")
why size-attachments | grep -q "% of the message" && ok "attachments' share given" || notok "share: $(why size-attachments)"
expect_eq "raw size is the file's size" "$(st production size-raw >/dev/null; why size-raw | grep -o '([0-9]* bytes' | tr -dc 0-9)" "$raw"
$MK big12 "$T/big12.eml"
c big12 size-raw warn;                       c big12 size-parts pass
why size-raw | grep -q "over 10 MB" && ok "12 MB: over 10 MB said" || notok "12 MB: $(why size-raw)"
rm -f "$T/big12.eml"
st production size-parts >/dev/null
why size-parts | grep -q "^4 part(s).*invoice.pdf 2.7 KB/2.0 KB; 3 report.zip" && ok "every part's encoded/decoded size" || notok "parts: $(why size-parts)"
# attachments
c pdf attachments-type-match pass;           c exe-as-pdf attachments-type-match fail
c pdf attachments-executables pass;          c exe-as-pdf attachments-executables fail
c zip-exe attachments-executables fail;      why attachments-executables | grep -q "docs.zip (holds invoice.pdf.exe)" && ok "executable inside a zip named" || notok "zip-exe: $(why attachments-executables)"
c production attachments-executables pass
c docx attachments-macros pass;              c docm attachments-macros fail
c pdf attachments-archives pass;             c production attachments-archives warn
c pdf attachments-double-extension pass;     c double-ext attachments-double-extension fail
c clean attachments-inventory n/a
# links
c clean links-domains pass;                  c production links-domains warn
c clean links-tracking pass;                 c production links-tracking warn
c clean links-shorteners pass;               c shortener links-shorteners fail
c clean links-ip-literal pass;               c ip-link links-ip-literal fail
c clean links-https pass;                    c http-link links-https warn
c clean links-text-mismatch pass;            c text-mismatch links-text-mismatch fail
c filename-text links-text-mismatch pass
c clean links-count pass;                    c many-links links-count warn
c ok-simple links-count n/a
c own-images links-images pass;              c production links-images warn
c mixed-crlf structure-line-endings warn
# dkim without a signature
c clean dkim-signed fail;                    c clean dkim-alignment n/a

# the JSON contract
"$MT" check-message --offline --json "$T/production.eml" >"$T/p.json"
expect_eq "ids unique" "$(json "$T/p.json" "len(set(c['id'] for c in d['checks'])) == len(d['checks'])")" True
expect_eq "numbered 1..N" "$(json "$T/p.json" "[c['n'] for c in d['checks']] == list(range(1, len(d['checks'])+1))")" True
expect_eq "statuses from the four words" "$(json "$T/p.json" "set(c['status'] for c in d['checks']) <= {'pass','warn','fail','n/a'}")" True
expect_eq "dkim ids start with dkim" "$(json "$T/p.json" "all(c['id'].startswith('dkim') for c in d['checks'] if c['family']=='dkim')")" True
expect_eq "counts add up" "$(json "$T/p.json" "sum(d['counts'].values()) == len(d['checks'])")" True
expect_eq "score from the counts" "$(json "$T/p.json" "d['score'] == round(100*(d['counts']['pass']+d['counts']['warn']/2)/(d['counts']['pass']+d['counts']['warn']+d['counts']['fail']))")" True
"$MT" check-message --offline --json "$T/clean.eml" >"$T/c.json"
expect_eq "same ids for every message" "$(python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print([c['id'] for c in a['checks'] if c['family']!='dkim'] == [c['id'] for c in b['checks'] if c['family']!='dkim'])" "$T/p.json" "$T/c.json")" True
"$MT" check-message --offline "$T/production.eml" >"$T/p.txt"
grep -qE '^ +1\. pass  structure-rfc5322' "$T/p.txt" && ok "text: numbered lines" || notok "text form: $(head -5 "$T/p.txt")"
grep -qE '^score [0-9]+/100: [0-9]+ pass, [0-9]+ warn, [0-9]+ fail, [0-9]+ n/a$' "$T/p.txt" && ok "text: score line" || notok "score line"
"$MT" check-message --offline --json - <"$T/production.eml" >"$T/s.json"
expect_eq "stdin gives the same checks" "$(json "$T/s.json" "len(d['checks'])")" "$(json "$T/p.json" "len(d['checks'])")"

# errors
"$MT" check-message /nonexistent.eml >/dev/null 2>"$T/e"; expect_eq "missing file exits 1" $? 1
grep -q nonexistent.eml "$T/e" && ok "missing file named" || notok "missing file: $(cat "$T/e")"
: >"$T/empty.eml"; "$MT" check-message "$T/empty.eml" >/dev/null 2>"$T/e"; expect_eq "empty file exits 1" $? 1
"$MT" check-message >/dev/null 2>&1; expect_eq "no file exits 2" $? 2
"$MT" check-message --help | grep -q -- "--dkim-key" && ok "--help documents --dkim-key" || notok "--help"
# hostile input: garbage still gets the full list, no crash
head -c 20000 /dev/urandom >"$T/junk.eml"
"$MT" check-message --offline --json "$T/junk.eml" >"$T/j.json"; expect_eq "random bytes: exit 0" $? 0
expect_eq "random bytes: every check listed" "$(json "$T/j.json" "len(d['checks'])")" "$(json "$T/p.json" "len(d['checks'])")"
finish
