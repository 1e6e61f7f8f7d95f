# messages.sh - --messages FILE: a CSV export from the sending application
# supplies the template, header From, attachment types and size that the
# log does not carry; the log wins where it has a value.
source "$(dirname "$0")/lib.sh"
cat >"$T/mail.log" <<'LOG'
Nov 20 10:00:00 mx postfix/cleanup[1]: AAAA111111: message-id=<m1@app.example>
Nov 20 10:00:00 mx postfix/qmgr[2]: AAAA111111: from=<b@bounce.example>, size=1200, nrcpt=1 (queue active)
Nov 20 10:00:01 mx postfix/smtp[3]: AAAA111111: to=<a@163.com>, relay=mx[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Nov 20 10:00:01 mx postfix/qmgr[2]: AAAA111111: removed
Nov 20 10:01:00 mx postfix/cleanup[1]: BBBB222222: message-id=<m2@app.example>
Nov 20 10:01:00 mx postfix/cleanup[1]: BBBB222222: info: header X-Template-Id: from-log from local; from=<b@bounce.example> to=<c@qq.com>
Nov 20 10:01:00 mx postfix/qmgr[2]: BBBB222222: from=<b@bounce.example>, size=3400, nrcpt=1 (queue active)
Nov 20 10:01:01 mx postfix/smtp[3]: BBBB222222: to=<c@qq.com>, relay=mx[1.2.3.5]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Nov 20 10:01:01 mx postfix/qmgr[2]: BBBB222222: removed
Nov 20 10:02:01 mx postfix/smtp[3]: CCCC333333: to=<d@126.com>, relay=mx[1.2.3.6]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
LOG
cat >"$T/export.csv" <<'CSV'
message_id,campaign,message_template_id,header_from_domain,attachment_types,message_size_bytes
<m1@app.example>,spring,"tpl-welcome, v2",News.Brand.Example,application/pdf,74000
m2@app.example,spring,from-export,brand.example,none,99
CSV
printf 'queue_id,message_template_id\nCCCC333333,by-queue-id\n' >"$T/byqid.csv"
"$MT" events --csv --messages "$T/export.csv" "$T/mail.log" >"$T/out.csv" 2>"$T/err"
expect_eq "exit 0" $? 0
grep -q "columns ignored: campaign" "$T/err" && ok "unknown column reported once" || notok "unknown column: $(cat "$T/err")"
row() { python3 -c "
import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    if r['queue_id']==sys.argv[2]: print(r[sys.argv[3]]); break" "$T/out.csv" "$1" "$2"; }
expect_eq "template from the export (quoted comma kept)" "$(row AAAA111111 message_template_id)" "tpl-welcome, v2"
expect_eq "header From domain from the export, lower-cased" "$(row AAAA111111 header_from_domain)" "news.brand.example"
expect_eq "attachment types from the export" "$(row AAAA111111 attachment_types)" "application/pdf"
expect_eq "the log's size wins over the export's" "$(row AAAA111111 message_size_bytes)" "1200"
expect_eq "the log's template wins over the export's" "$(row BBBB222222 message_template_id)" "from-log"
expect_eq "a message the export lacks is untouched" "$(row CCCC333333 message_template_id)" ""
"$MT" events --csv --messages "$T/byqid.csv" "$T/mail.log" >"$T/out.csv" 2>/dev/null
expect_eq "joined by queue id" "$(row CCCC333333 message_template_id)" "by-queue-id"
printf 'campaign,x\n1,2\n' >"$T/nokey.csv"
"$MT" events --messages "$T/nokey.csv" "$T/mail.log" >/dev/null 2>"$T/err"
expect_eq "an export without a key column exits 1" $? 1
grep -q "neither message_id nor queue_id" "$T/err" && ok "and says why" || notok "nokey: $(cat "$T/err")"
printf 'message_id,message_size_bytes\nm1@app.example,big\n' >"$T/badsize.csv"
"$MT" events --messages "$T/badsize.csv" "$T/mail.log" >/dev/null 2>"$T/err"
expect_eq "a bad number exits 1" $? 1
grep -q "badsize.csv:2" "$T/err" && ok "and names the line" || notok "badsize: $(cat "$T/err")"
printf 'message_id,message_template_id\n"m1@app.example,tpl\n' >"$T/unclosed.csv"
"$MT" events --messages "$T/unclosed.csv" "$T/mail.log" >/dev/null 2>"$T/err"
expect_eq "an unclosed quote exits 1" $? 1
finish
