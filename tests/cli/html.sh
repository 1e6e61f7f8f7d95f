# html.sh - `diagnose --html FILE`: the page is written, self-contained (it
# references nothing outside itself), has every chart, says the finding,
# escapes hostile log text, and renders in headless Chromium without a
# console message.  The screenshot is kept as a test artifact.  Without
# Chromium the rendering part is skipped (exit 77) once the rest passed.
source "$(dirname "$0")/lib.sh"

GENLOG=$(dirname "$MT")/genlog
[ -x "$GENLOG" ] || GENLOG=$ROOT/build/genlog
# the artifact sits in the build directory the binary came from
if [ -f "$(dirname "$MT")/build.ninja" ]; then ART=$(cd "$(dirname "$MT")" && pwd)/test-artifacts; else ART=$ROOT/build/test-artifacts; fi

# selfcontained FILE - print every reference to something outside the page:
# src/href-like attributes that are not "#fragment" or data:, elements that
# load or run things, and CSS url()/@import; nothing printed means none
selfcontained() {
    python3 - "$1" <<'EOF'
import re, sys
from html.parser import HTMLParser
LOADS = {"script", "link", "iframe", "frame", "object", "embed", "img", "image", "video", "audio", "source",
         "use", "feimage", "base", "form", "meta-refresh"}
ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "background", "srcset", "data",
         "codebase", "cite", "manifest", "ping"}
bad = []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        if tag in LOADS:
            bad.append("<%s> element" % tag)
        for k, v in attrs:
            v = (v or "").strip()
            if k in ATTRS and not (v.startswith("#") or v.startswith("data:")):
                bad.append('%s="%s" on <%s>' % (k, v, tag))
            if k == "style" and re.search(r"url\s*\(|@import", v, re.I):
                bad.append("style url(): %s" % v)
            if k.startswith("on"):
                bad.append("event handler %s on <%s>" % (k, tag))
    def handle_data(self, data):
        pass
text = open(sys.argv[1], encoding="utf-8").read()
p = P(); p.feed(text)
for css in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S | re.I):
    if re.search(r"url\s*\(|@import", css, re.I):
        bad.append("url() or @import in <style>")
for b in bad:
    print(b)
EOF
}

[ -x "$GENLOG" ] || { notok "genlog not found next to $MT or in $ROOT/build"; finish; exit; }
"$GENLOG" --messages 3000 --seed 7 --scenario netease-receiver-window >"$T/mail.log" 2>/dev/null
expect_eq "genlog wrote a log" $? 0

"$MT" diagnose --html "$T/report.html" "$T/mail.log" >"$T/out.txt" 2>"$T/err"
expect_eq "diagnose --html exits 0" $? 0
[ -s "$T/report.html" ] && ok "the HTML file is written" || notok "the HTML file is written: $(cat "$T/err")"
grep -q "^Diagnosis" "$T/out.txt" && ok "the text report still goes to stdout" || notok "text report on stdout"
head -c 15 "$T/report.html" | grep -qi "<!DOCTYPE html>" && ok "starts with a doctype" || notok "doctype"

# self-contained: nothing from the network, nor from anywhere else
if grep -Eiq "(src|href)[[:space:]]*=[[:space:]]*[\"']?[[:space:]]*https?://" "$T/report.html"; then
    notok "no http(s) in src/href: $(grep -Eio "(src|href)[[:space:]]*=[[:space:]]*[\"']?[[:space:]]*https?://[^\"' >]*" "$T/report.html" | head -3)"
else
    ok "no http(s) in src/href"
fi
refs=$(selfcontained "$T/report.html")
[ -z "$refs" ] && ok "references nothing outside the page" || notok "external references: $(echo "$refs" | head -5)"

# one SVG per chart, and the finding in words
nsvg=$(grep -o "<svg" "$T/report.html" | wc -l)
[ "$nsvg" -ge 4 ] && ok "inline SVG charts ($nsvg)" || notok "inline SVG charts: $nsvg"
for chart in "Deferral rate over time, per provider" "Outcome of the attempts at each SMTP stage" \
    "Failure rate of the finding" "Retry outcome of deferred recipients"; do
    grep -q "<svg[^>]*aria-label=\"$chart" "$T/report.html" && ok "chart: $chart" || notok "chart missing: $chart"
done
"$MT" diagnose --json "$T/mail.log" >"$T/d.json" 2>/dev/null
cause=$(json "$T/d.json" "d['findings'][0]['cause']")
provider=$(json "$T/d.json" "d['findings'][0]['provider']")
expect_eq "the scenario's finding" "$cause $provider" "receiver_transient netease"
grep -q "cause: $cause" "$T/report.html" && ok "the page names the cause ($cause)" || notok "cause $cause not in the page"
grep -q "temporary fault on the receiver" "$T/report.html" && ok "the cause in plain words" || notok "the cause in plain words"
grep -q "Queue settings" "$T/report.html" && grep -q "<pre>" "$T/report.html" && ok "queue settings in a <pre>" ||
    notok "queue settings"

# hostile log text is escaped, never markup
E='Nov 20 10:00:03 mx postfix/smtp[3]: AB12CD34EF: to=<a@163.com>, relay=mx[1.2.3.4]:25, delay=3, delays=0/0/1/2, dsn=4.3.2, status=deferred (host mx[1.2.3.4] said: 451 4.3.2 <script>alert(1)</script> "'"'"'><img src=http://evil.invalid/x onerror=alert(2)> & (in reply to end of DATA command))'
{ echo "$E"; echo "${E/10:00:03/11:00:03}"
  echo 'Nov 20 12:00:03 mx postfix/smtp[3]: AB12CD34EF: to=<a@163.com>, relay=mx[1.2.3.4]:25, delay=3, delays=0/0/1/2, dsn=2.0.0, status=sent (250 ok)'
  echo 'Nov 20 12:00:04 mx postfix/qmgr[3]: AB12CD34EF: removed'; } >"$T/evil.log"
"$MT" diagnose --html "$T/evil.html" "$T/evil.log" >/dev/null 2>&1; expect_eq "hostile log: exits 0" $? 0
grep -Eiq "<script|<img" "$T/evil.html" && notok "hostile log text became markup" || ok "hostile log text is not markup"
grep -q "&lt;script&gt;alert(1)&lt;/script&gt; &quot;&#39;&gt;&lt;img" "$T/evil.html" && ok "hostile log text is shown escaped" ||
    notok "hostile text escaped: $(grep -o "451 4.3.2 [^<]*" "$T/evil.html" | head -1)"
refs=$(selfcontained "$T/evil.html")
[ -z "$refs" ] && ok "hostile log: still self-contained" || notok "hostile log: $(echo "$refs" | head -3)"

# errors: an unwritable FILE is named and exits 1, before reading the input;
# a failing input leaves no empty page behind; "-" is standard output
"$MT" diagnose --html /nonexistent-dir/r.html "$T/mail.log" >/dev/null 2>"$T/err"; expect_eq "unwritable --html exits 1" $? 1
grep -q "/nonexistent-dir/r.html" "$T/err" && ok "unwritable --html: file named" || notok "unwritable: $(cat "$T/err")"
"$MT" diagnose --html "$T/never.html" /nonexistent/mail.log >/dev/null 2>&1; expect_eq "missing input with --html exits 1" $? 1
[ -e "$T/never.html" ] && notok "no page left after a failed input" || ok "no page left after a failed input"
"$MT" diagnose --html - "$T/evil.log" 2>/dev/null | head -c 15 | grep -qi "<!DOCTYPE html>" && ok "--html - writes the page to stdout" ||
    notok "--html -"
"$MT" diagnose --html >/dev/null 2>&1; expect_eq "--html without FILE exits 2" $? 2
"$MT" diagnose --help | grep -q -- "--html FILE" && ok "--help documents --html" || notok "--help documents --html"

# render it: a screenshot (kept), the DOM as Chromium parsed it, and no
# console message (the page has no script; a blocked fetch would log one)
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    if [ "$nfail" -eq 0 ]; then
        finish
        echo "SKIP: chromium not installed"
        exit 77
    fi
    finish
    exit
fi
chrome() {
    local prof
    prof=$(mktemp -d "$T/chromium.XXXXXX")
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$prof" \
        --enable-logging=stderr --v=0 "$@"
}
mkdir -p "$ART"
rm -f "$ART/report.png"
chrome --screenshot="$ART/report.png" --window-size=1280,2400 "file://$T/report.html" >/dev/null 2>"$T/chromium.err"
expect_eq "chromium renders the page" $? 0
if [ -s "$ART/report.png" ]; then
    size=$(python3 -c "import struct,sys; b=open(sys.argv[1],'rb').read(24); print('%dx%d' % struct.unpack('>II', b[16:24]) if b[:8]==b'\x89PNG\r\n\x1a\n' else 'not a PNG')" "$ART/report.png")
    expect_eq "screenshot is a 1280x2400 PNG" "$size" "1280x2400"
    [ "$(wc -c <"$ART/report.png")" -gt 50000 ] && ok "screenshot is not blank" || notok "screenshot is nearly empty"
    echo "# screenshot: $ART/report.png"
else
    notok "screenshot written to $ART/report.png"
fi
chrome --dump-dom "file://$T/report.html" >"$T/dom.html" 2>>"$T/chromium.err"
expect_eq "chromium dumps the DOM" $? 0
expect_eq "every SVG survives parsing" "$(grep -o "<svg" "$T/dom.html" | wc -l)" "$nsvg"
grep -q "Mail delivery diagnosis" "$T/dom.html" && ok "the DOM has the report" || notok "the DOM has the report"
chrome --dump-dom "file://$T/evil.html" >"$T/evil-dom.html" 2>>"$T/chromium.err"
grep -Eiq "<script|<img" "$T/evil-dom.html" && notok "hostile page: no script or img in the DOM" ||
    ok "hostile page: no script or img in the DOM"
msgs=$(grep -E "CONSOLE|Uncaught" "$T/chromium.err")
[ -z "$msgs" ] && ok "no console messages or errors" || notok "console: $(echo "$msgs" | head -5)"
finish
