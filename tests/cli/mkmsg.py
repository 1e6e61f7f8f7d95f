"""mkmsg.py KIND OUT - write a test message of a given kind, built with
Python's email package (an independent MIME writer), for the
check-message and matrix tests.  `python3 mkmsg.py list` names the kinds."""
import base64, io, sys, zipfile
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.application import MIMEApplication
from email.header import Header

TRACK = "https://click.esp-track.net/ls/click?upn=abc123&url=https%3A%2F%2Fwww.example.com%2Fsale%3Fid%3D7"
TRACK_OPAQUE = "https://click.esp-track.net/ls/click?upn=zzz999"
PIXEL = "https://open.esp-track.net/o/p.gif?u=1"

def base_headers(m, subject="Weekly offers"):
    m["From"] = "Shop <news@example.com>"
    m["To"] = "someone@163.com"
    m["Subject"] = subject
    m["Date"] = "Sat, 28 Nov 2026 01:00:00 +0000"
    m["Message-ID"] = "<prod-1@example.com>"
    return m

def html_body():
    return ("<html><body><p>Hello, this week's offers.</p>"
            f'<p><a href="{TRACK}">See the sale</a></p>'
            f'<p><a href="{TRACK_OPAQUE}">Your account</a></p>'
            '<p><a href="https://www.example.com/about">About us</a></p>'
            '<p><img src="https://img.example.com/logo.png" alt="logo"></p>'
            f'<img src="{PIXEL}" width="1" height="1">'
            "</body></html>")

def text_body():
    return ("Hello, this week's offers.\n\nSee the sale: " + TRACK + "\n"
            "About us: https://www.example.com/about\n")

def pdf_bytes():
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 2000

def zip_bytes(name="report.txt", data=b"hello"):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(name, data)
    return b.getvalue()

def production():
    m = base_headers(MIMEMultipart("mixed"))
    m["List-Unsubscribe"] = "<https://www.example.com/unsub?u=1>, <mailto:unsub@example.com>"
    m["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(text_body(), "plain", "utf-8"))
    alt.attach(MIMEText(html_body(), "html", "utf-8"))
    m.attach(alt)
    m.attach(MIMEApplication(pdf_bytes(), "pdf", Name="invoice.pdf"))
    m.attach(MIMEApplication(zip_bytes(), "zip", Name="report.zip"))
    for p in m.get_payload()[1:]:
        p.add_header("Content-Disposition", "attachment", filename=p.get_param("name"))
    return m.as_bytes()

def clean():
    m = base_headers(MIMEMultipart("alternative"))
    m.attach(MIMEText("Hello,\nyour order 42 has shipped.\nhttps://www.example.com/orders/42\n", "plain", "utf-8"))
    m.attach(MIMEText('<p>Hello,</p><p>your order 42 has shipped. '
                      '<a href="https://www.example.com/orders/42">Track it</a></p>', "html", "utf-8"))
    return m.as_bytes()

def chinese():
    m = base_headers(EmailMessage(), subject=str(Header("本周优惠", "utf-8")))
    m.set_content("您好，本周优惠活动开始了。请查看我们的网站了解更多信息。谢谢！\n", charset="utf-8")
    return m.as_bytes()

def raw(s):
    return s.replace("\n", "\r\n").encode("latin-1") if isinstance(s, str) else s

KINDS = {"production": production, "clean": clean, "chinese": chinese}

if __name__ == "__main__":
    if sys.argv[1] == "list":
        print(" ".join(KINDS))
        sys.exit(0)
    open(sys.argv[2], "wb").write(KINDS[sys.argv[1]]())
