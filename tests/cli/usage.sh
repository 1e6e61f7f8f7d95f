# usage.sh - the command line's promises: help, exit statuses (0 ok, 1 bad
# input, 2 usage), clear errors that name the file, nothing silent.
source "$(dirname "$0")/lib.sh"

"$MT" --help >"$T/out" 2>&1; expect_eq "--help exits 0" $? 0
grep -q "diagnose" "$T/out" && ok "--help lists diagnose" || notok "--help lists diagnose"
for c in diagnose events; do
    "$MT" $c --help >"$T/out" 2>&1; expect_eq "$c --help exits 0" $? 0
    grep -q -- "--routes" "$T/out" && ok "$c --help documents --routes" || notok "$c --help documents --routes"
done
for c in check-message matrix; do
    "$MT" $c --help >"$T/out" 2>&1; expect_eq "$c --help exits 0" $? 0
    "$MT" help $c | grep -q "usage: mailtriage $c" && ok "help $c" || notok "help $c"
    "$MT" --help | grep -q "^  $c" && ok "--help lists $c" || notok "--help lists $c"
done
"$MT" frobnicate >/dev/null 2>&1; expect_eq "unknown command exits 2" $? 2
"$MT" >/dev/null 2>&1; expect_eq "no command exits 2" $? 2
"$MT" diagnose --no-such-option /dev/null >/dev/null 2>&1; expect_eq "unknown option exits 2" $? 2
"$MT" diagnose --year 19 /dev/null >/dev/null 2>&1; expect_eq "bad --year exits 2" $? 2

"$MT" diagnose /nonexistent/mail.log >/dev/null 2>"$T/err"; expect_eq "missing file exits 1" $? 1
grep -q "/nonexistent/mail.log" "$T/err" && ok "missing file is named" || notok "missing file is named: $(cat "$T/err")"

printf 'this is not a mail log\nat all\n' >"$T/notalog.txt"
"$MT" diagnose "$T/notalog.txt" >/dev/null 2>"$T/err"; expect_eq "a non-log file exits 1" $? 1
grep -q "this is not a mail log" "$T/err" && ok "a non-log file: first line shown" || notok "first line shown: $(cat "$T/err")"

: >"$T/empty.log"
"$MT" diagnose --json "$T/empty.log" >"$T/out" 2>"$T/err"; expect_eq "an empty log is fine" $? 0
expect_eq "empty log: 0 attempts" "$(json "$T/out" "d['totals']['attempts']")" 0

printf 'reply\t*\tcontent\tretry\t-\t(broken\tx\n' >"$T/bad.rules"
"$MT" diagnose --rules "$T/bad.rules" "$T/empty.log" >/dev/null 2>"$T/err"; expect_eq "broken rules exit 1" $? 1
grep -q "bad.rules:1" "$T/err" && ok "broken rules: file and line named" || notok "rules error: $(cat "$T/err")"

printf 'postfix-cn\n' >"$T/bad.routes"
"$MT" diagnose --routes "$T/bad.routes" "$T/empty.log" >/dev/null 2>"$T/err"; expect_eq "broken routes exit 1" $? 1

# a truncated gzip is an error, not a silent short report
L='Nov 20 10:00:03 mx postfix/smtp[3]: AB12CD34EF: to=<a@163.com>, relay=mx[1.2.3.4]:25, delay=3, delays=0/0/1/2, dsn=2.0.0, status=sent (250 ok)'
for i in $(seq 1 2000); do echo "$L"; done | gzip >"$T/full.gz"
head -c 300 "$T/full.gz" >"$T/trunc.gz"
"$MT" diagnose "$T/trunc.gz" >/dev/null 2>"$T/err"; expect_eq "truncated gzip exits 1" $? 1
grep -q "truncated" "$T/err" && ok "truncated gzip said so" || notok "truncated gzip: $(cat "$T/err")"

# malformed lines are counted per reason, not dropped silently
{ echo "$L"; echo "Nov 20 10:00:04 mx postfix/smtp[3]: AB12CD34EF: to=<broken, relay=x"; echo "garbage"; } >"$T/mixed.log"
"$MT" diagnose --json "$T/mixed.log" >"$T/out" 2>/dev/null; expect_eq "mixed log exits 0" $? 0
expect_eq "unparsed lines counted" "$(json "$T/out" "d['input']['unparsed_lines']")" 2
expect_eq "unparsed reasons listed" "$(json "$T/out" "len(d['input']['unparsed_by_reason'])")" 2
"$MT" events "$T/mixed.log" >/dev/null 2>"$T/err"
grep -q "2 line(s)" "$T/err" && ok "events warns about unparsed lines" || notok "events warning: $(cat "$T/err")"

# recipients are redacted unless asked
"$MT" events "$T/mixed.log" 2>/dev/null | grep -q '"recipient":"a@163.com"' && notok "recipient redacted by default" || ok "recipient redacted by default"
"$MT" events --show-recipients "$T/mixed.log" 2>/dev/null | grep -q '"recipient":"a@163.com"' && ok "--show-recipients shows it" || notok "--show-recipients shows it"
"$MT" diagnose "$T/mixed.log" 2>/dev/null | grep -q "a@163.com" && notok "text report hides local parts" || ok "text report hides local parts"

# stdin, and NO_COLOR
"$MT" diagnose --json - <"$T/mixed.log" >"$T/out" 2>/dev/null; expect_eq "stdin: attempts" "$(json "$T/out" "d['totals']['attempts']")" 1
NO_COLOR=1 "$MT" diagnose --color "$T/mixed.log" 2>/dev/null | grep -q $'\033' && ok "--color forces colour" || notok "--color forces colour"
NO_COLOR=1 "$MT" diagnose "$T/mixed.log" 2>/dev/null | grep -q $'\033' && notok "no colour off a terminal" || ok "no colour off a terminal"
finish
