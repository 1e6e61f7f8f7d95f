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



def simple(extra_headers="", body="Hello.\n", ctype="text/plain; charset=utf-8", cte=None, mime=True):
    h = ("From: Shop <news@example.com>\nTo: someone@163.com\nSubject: Test\n"
         "Date: Sat, 28 Nov 2026 01:00:00 +0000\nMessage-ID: <t1@example.com>\n")
    if mime:
        h += "MIME-Version: 1.0\nContent-Type: " + ctype + "\n"
    if cte:
        h += "Content-Transfer-Encoding: " + cte + "\n"
    return (h + extra_headers + "\n").encode() + (body if isinstance(body, bytes) else body.encode())


def with_attachment(name, ctype, data):
    m = base_headers(MIMEMultipart("mixed"))
    m.attach(MIMEText("See the attachment.\n", "plain", "utf-8"))
    maintype, sub = ctype.split("/")
    a = MIMEApplication(data, sub)
    a.replace_header("Content-Type", ctype)
    a.set_param("name", name)
    a.add_header("Content-Disposition", "attachment", filename=name)
    m.attach(a)
    return m.as_bytes()


def html_only_alt():
    m = base_headers(MIMEMultipart("alternative"))
    m.attach(MIMEText("<p>only html</p>", "html", "utf-8"))
    m.attach(MIMEText("<p>still only html</p>", "html", "utf-8"))
    return m.as_bytes()


def html_msg(html):
    m = base_headers(MIMEMultipart("alternative"))
    m.attach(MIMEText("text version\n", "plain", "utf-8"))
    m.attach(MIMEText(html, "html", "utf-8"))
    return m.as_bytes()


def big(mb):
    m = base_headers(MIMEMultipart("mixed"))
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText(text_body(), "plain", "utf-8"))
    alt.attach(MIMEText(html_body(), "html", "utf-8"))
    m.attach(alt)
    import random
    r = random.Random(7)
    for i, n in enumerate([mb * 1024 * 1024 * 6 // 10, mb * 1024 * 1024 * 15 // 100]):
        data = b"%PDF-1.7\n" + bytes(r.getrandbits(8) for _ in range(1024)) * (n // 1024)
        a = MIMEApplication(data, "pdf", Name=f"scan{i}.pdf")
        a.add_header("Content-Disposition", "attachment", filename=f"scan{i}.pdf")
        m.attach(a)
    return m.as_bytes()


def ooxml(macro):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<doc/>")
        if macro:
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    return b.getvalue()


KINDS.update({
    "ok-simple": lambda: simple(),
    "no-colon": lambda: simple(extra_headers="This line has no colon\n"),
    "bare-cr": lambda: simple(body="Hello.\rWorld.\n"),
    "multipart-no-boundary": lambda: simple(ctype="multipart/mixed", body="--x\nContent-Type: text/plain\n\nhi\n--x--\n"),
    "unclosed": lambda: simple(ctype='multipart/mixed; boundary="b1"',
                                body="--b1\nContent-Type: text/plain\n\nhi\n--b1\nContent-Type: text/plain\n\nthere\n"),
    "collision": lambda: simple(ctype='multipart/mixed; boundary="abc"',
                                 body='--abc\nContent-Type: multipart/alternative; boundary="abc-1"\n\n'
                                      "--abc-1\nContent-Type: text/plain\n\nhi\n--abc-1--\n--abc--\n"),
    "html-only-alt": html_only_alt,
    "8bit-in-7bit": lambda: simple(body="caf\xc3\xa9\n".encode("latin-1"), cte="7bit"),
    "long-line": lambda: simple(body="x" * 1200 + "\n"),
    "bad-base64": lambda: simple(body="SGVsbG8@@@=\n", cte="base64"),
    "truncated-base64": lambda: simple(body="SGVsbG8gd29ybGQ\n", cte="base64"),
    "good-qp": lambda: simple(body="caf=C3=A9 =\nsoft\n", cte="quoted-printable"),
    "bad-qp": lambda: simple(body="caf=ZZ\n", cte="quoted-printable"),
    "two-from": lambda: simple().replace(b"From: Shop <news@example.com>", b"From: a@example.com, b@example.com"),
    "bad-date": lambda: simple().replace(b"Date: Sat, 28 Nov 2026 01:00:00 +0000", b"Date: yesterday at noon"),
    "no-msgid": lambda: simple().replace(b"Message-ID: <t1@example.com>\n", b""),
    "no-mime-version": lambda: simple().replace(b"MIME-Version: 1.0\n", b""),
    "8bit-subject": lambda: simple().replace(b"Subject: Test", "Subject: 本周优惠".encode()),
    "bulk-no-unsub": lambda: simple(extra_headers="Precedence: bulk\n"),
    "unsub-no-post": lambda: simple(extra_headers="List-Unsubscribe: <https://www.example.com/u>\n"),
    "unsub-oneclick": lambda: simple(extra_headers="List-Unsubscribe: <https://www.example.com/u>\n"
                                                   "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"),
    "replyto-same": lambda: simple(extra_headers="Reply-To: help@support.example.com\n"),
    "replyto-other": lambda: simple(extra_headers="Reply-To: help@other-company.net\n"),
    "dup-subject": lambda: simple(extra_headers="Subject: again\n"),
    "utf8-declared-gbk-bytes": lambda: simple(body="您好，本周优惠活动开始了。\n".encode("gbk"), cte="8bit"),
    "gb2312-with-gbk-char": lambda: simple(ctype="text/plain; charset=gb2312", cte="8bit",
                                           body="您好，镕基。\n".encode("gbk")),
    "gbk-ok": lambda: simple(ctype="text/plain; charset=gbk", cte="8bit", body="您好，本周优惠活动开始了。\n".encode("gbk")),
    "no-charset-8bit": lambda: simple(ctype="text/plain", cte="8bit", body="café\n"),
    "bad-encoded-word": lambda: simple().replace(b"Subject: Test", b"Subject: =?UTF-8?B?@@@@?="),
    "raw-8bit-to": lambda: simple().replace(b"To: someone@163.com", "To: 张三 <someone@163.com>".encode()),
    "mixed-lang": lambda: simple(body="Hello dear customer, welcome to our shop. 欢迎光临本店，祝您购物愉快。\n", cte="8bit"),
    "exe-as-pdf": lambda: with_attachment("invoice.pdf", "application/pdf", b"MZ\x90\x00" + b"\x00" * 500),
    "double-ext": lambda: with_attachment("invoice.pdf.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 500),
    "zip-exe": lambda: with_attachment("docs.zip", "application/zip", zip_bytes("invoice.pdf.exe", b"MZ\x90\x00" + b"\x00" * 100)),
    "docm": lambda: with_attachment("report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ooxml(True)),
    "docx": lambda: with_attachment("report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ooxml(False)),
    "pdf": lambda: with_attachment("invoice.pdf", "application/pdf", pdf_bytes()),
    "shortener": lambda: html_msg('<a href="https://bit.ly/3abc">offer</a>'),
    "ip-link": lambda: html_msg('<a href="https://192.0.2.10/login">log in</a>'),
    "http-link": lambda: html_msg('<a href="http://www.example.com/a">a</a>'),
    "text-mismatch": lambda: html_msg('<a href="https://evil.example.net/x">www.paypal.com</a>'),
    "filename-text": lambda: html_msg('<a href="https://files.example.com/r/1">report.pdf</a> '
                                      '<a href="https://www.example.com/">example.com</a>'),
    "many-links": lambda: html_msg("".join(f'<a href="https://www.example.com/p{i}">p{i}</a> ' for i in range(45))),
    "own-images": lambda: html_msg('<p>hi</p><img src="https://img.example.com/a.png"><img src="https://cdn.example.com/b.png">'),
    "mixed-crlf": lambda: simple().replace(b"Subject: Test\n", b"Subject: Test\r\n"),
    "many-multiparts": lambda: simple(ctype='multipart/mixed; boundary="outer"', body="".join(
        f'--outer\nContent-Type: multipart/mixed; boundary="{i:05d}z"\n\n--{i:05d}z\nContent-Type: text/plain\n\n'
        f'hi {i}\n--{i:05d}z--\n' for i in range(5000)) + "--outer--\n"),
    "deep-nesting": lambda: simple(ctype='multipart/mixed; boundary="d0"', body="".join(
        f'--d{i}\nContent-Type: multipart/mixed; boundary="d{i + 1}"\n\n' for i in range(2000)) + "--d2000\n\nx\n"),
    "big10": lambda: big(10),
    "big12": lambda: big(12),
})


if __name__ == "__main__":
    if sys.argv[1] == "list":
        print(" ".join(KINDS))
        sys.exit(0)
    open(sys.argv[2], "wb").write(KINDS[sys.argv[1]]())
