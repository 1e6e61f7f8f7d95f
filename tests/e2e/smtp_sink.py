#!/usr/bin/env python3
"""Fault-injecting SMTP receiver for mailtriage's end-to-end tests.

    python3 smtp_sink.py --listen 127.0.0.2:2525 --journal FILE [--plan FILE]
                         [--pidfile FILE] [--hostname NAME]

Standard library only.  Listens on a loopback address (refuses anything else
unless --allow-non-loopback is given), speaks enough ESMTP for Postfix's SMTP
client (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, HELP, QUIT; advertises
PIPELINING, 8BITMIME, SIZE, ENHANCEDSTATUSCODES) and answers each transaction
according to fault rules, so that a test knows exactly what the MTA was told.

Built-in rules (always active, checked after any --plan rules):

  header  X-Test-Fault: data451      451 4.3.2 Internal server error after the
                                     end of DATA, on every attempt
  header  X-Test-Fault: data451xN    the same on the first N end-of-DATA
                                     attempts of that Message-ID (counted per
                                     recipient, so a message split over several
                                     deliveries defers N times for each), then 250
  header  X-Test-Fault: data554      554 5.6.0 after DATA (permanent content
                                     rejection), every attempt
  rcpt    local part nouser*         550 5.1.1 <addr>: Recipient address
                                     rejected: User unknown
  rcpt    local part grey*           450 4.2.0 Greylisted, try again later on
                                     the first attempt for that recipient
  rcpt    local part hl421*          421 4.7.0 HL:ICC connection limit at RCPT,
                                     then the connection is closed (every
                                     attempt; RCPT-time decisions cannot see
                                     the headers, so this one is keyed on the
                                     recipient, not on X-Test-Fault)
  rcpt    local part hl421xN*        the same on the first N attempts

A --plan file (JSON) adds rules that are checked first:

  {"rules": [
     {"stage": "rcpt",     "recipient_prefix": "slow", "reply": "451 4.7.1 Try later", "times": 3},
     {"stage": "rcpt",     "recipient": "a@b.c",       "reply": "550 5.7.1 Nope"},
     {"stage": "data_end", "message_id": "<x@y>",      "reply": "451 4.3.2 Internal server error", "times": 1},
     {"stage": "data_end", "fault": "spam",            "reply": "554 5.7.1 DT:SPM spam"},
     {"stage": "data_end", "header": "X-Template-Id: tpl-bad",
                           "recipient_domain": ["163.com", "126.com"],
                           "reply": "451 4.3.2 Internal server error"},
     {"stage": "data_end", "recipient_domain": "163.com",
                           "active_from": 1700000000, "active_until": 1700000090,
                           "reply": "451 4.3.2 Internal server error"},
     {"stage": "mail",     "helo": "cn.mta.test.invalid",
                           "reply": "451 4.3.2 Internal server error"}
  ]}

Selectors (a rule fires when ALL the selectors it has match; a rule without
any selector is refused):
  helo              EHLO/HELO name of the session (any stage; how a test
                    tells one of the MTA's routes from another)
  sender            envelope sender (MAIL FROM address), exact   (any stage)
  active_from/until epoch seconds: only in [from, until)           (any stage)
  recipient, recipient_prefix (of the local part), recipient_domain (a
                    string or a list)   (rcpt and data_end; at data_end any
                    recipient of the transaction may match)
  message_id, fault (an X-Test-Fault word), header ("Name: value", exact
                    value, name case-insensitive)            (data_end only)

Stages: "mail" answers the MAIL FROM command (the transaction then has no
sender, so the RCPT and DATA commands pipelined after it get 503), "rcpt"
each RCPT TO, "data_end" the end of DATA.

"times" = number of attempts the rule fires on (counted per recipient for rcpt
rules, per Message-ID and recipient for data_end rules, per envelope sender
for mail rules); absent or null = always.  A reply
starting with 421 closes the connection after it is sent.

Journal: NDJSON, one line per recipient per transaction, flushed after each
write:

  {"time": "...Z", "session": 3, "transaction": 1, "client": "127.0.0.1",
   "helo": "...", "mail_from": "...", "message_id": "<...>" | null,
   "recipient": "..." | null, "stage": "mail" | "rcpt" | "data_end" | "data",
   "code": 451, "enhanced_status": "4.3.2",
   "reply": "451 4.3.2 Internal server error",
   "outcome": "accepted" | "deferred" | "bounced" | "aborted",
   "attempt": 1, "size": 1234}

A transaction refused at MAIL FROM gets one "mail" line with recipient and
message_id null (the recipients pipelined after it are not known to have
been meant for it).  A recipient refused at RCPT gets one "rcpt" line; one accepted at RCPT gets one
"data_end" line carrying the reply to the end of DATA (or one "data" line with
outcome "aborted" if the client went away before finishing the message).
RCPT-stage lines are written when the transaction ends so that they carry the
Message-ID when the message was sent; when every recipient was refused no
message is sent and message_id is null.  "attempt" counts RCPT commands for
that recipient ("rcpt" lines) or end-of-DATA replies for that Message-ID and
recipient ("data_end" lines).  Lines of concurrent sessions interleave and a
transaction's RCPT-stage lines are written at its end: order by "time".

SIGTERM / SIGINT stop the server cleanly (listener closed, journal flushed).
"""

import argparse
import datetime
import ipaddress
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time

MAX_SIZE = 50 * 1024 * 1024
MAX_LINE = 8192


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def split_reply(reply):
    """'451 4.3.2 text' -> (451, '4.3.2')."""
    m = re.match(r"^([2-5]\d\d)(?:[ -]([2-5]\.\d{1,3}\.\d{1,3}))?", reply)
    if not m:
        raise ValueError("bad reply: %r" % reply)
    return int(m.group(1)), m.group(2)


def outcome_of(code):
    if 200 <= code < 400:
        return "accepted"
    if 400 <= code < 500:
        return "deferred"
    return "bounced"


class Rule(object):
    STAGES = ("mail", "rcpt", "data_end")
    MESSAGE_SELECTORS = ("message_id", "fault", "header")

    def __init__(self, d):
        self.stage = d.get("stage", "data_end")
        if self.stage not in self.STAGES:
            raise ValueError("rule stage must be mail, rcpt or data_end: %r" % d)
        self.recipient = (d.get("recipient") or "").lower() or None
        self.recipient_prefix = (d.get("recipient_prefix") or "").lower() or None
        doms = d.get("recipient_domain")
        if isinstance(doms, str):
            doms = [doms]
        self.recipient_domains = {x.lower() for x in doms} if doms else None
        self.message_id = d.get("message_id")
        self.fault = (d.get("fault") or "").lower() or None
        self.header = None
        if d.get("header"):
            name, sep, value = d["header"].partition(":")
            if not sep or not name.strip():
                raise ValueError("rule header must be 'Name: value': %r" % d)
            self.header = (name.strip().lower(), value.strip())
        self.helo = (d.get("helo") or "").lower() or None
        self.sender = d.get("sender")
        self.active_from = d.get("active_from")
        self.active_until = d.get("active_until")
        self.reply = d["reply"]
        split_reply(self.reply)
        self.times = d.get("times")
        selectors = [self.recipient, self.recipient_prefix, self.recipient_domains,
                     self.message_id, self.fault, self.header, self.helo, self.sender,
                     self.active_from, self.active_until]
        if all(x is None for x in selectors):
            raise ValueError("rule has no selector (it would match everything): %r" % d)
        if self.stage != "data_end" and any(d.get(k) for k in self.MESSAGE_SELECTORS):
            raise ValueError("message_id/fault/header rules must be data_end rules: %r" % d)
        if self.stage == "mail" and (self.recipient or self.recipient_prefix or self.recipient_domains):
            raise ValueError("mail rules cannot select on recipients: %r" % d)

    def _session_ok(self, helo, sender):
        if self.helo is not None and (helo or "").lower() != self.helo:
            return False
        if self.sender is not None and (sender or "") != self.sender:
            return False
        now = time.time()
        if self.active_from is not None and now < float(self.active_from):
            return False
        if self.active_until is not None and now >= float(self.active_until):
            return False
        return True

    def _rcpt_ok(self, rcpt):
        rcpt = rcpt.lower()
        local, _, dom = rcpt.partition("@")
        if self.recipient and self.recipient != rcpt:
            return False
        if self.recipient_prefix and not local.startswith(self.recipient_prefix):
            return False
        if self.recipient_domains is not None and dom not in self.recipient_domains:
            return False
        return True

    def matches_mail(self, helo, sender):
        return self._session_ok(helo, sender)

    def matches_rcpt(self, rcpt, helo=None, sender=None):
        return self._session_ok(helo, sender) and self._rcpt_ok(rcpt)

    def matches_message(self, message_id, faults, headers=(), recipients=(), helo=None, sender=None):
        if not self._session_ok(helo, sender):
            return False
        if (self.recipient or self.recipient_prefix or self.recipient_domains is not None) and \
                not any(self._rcpt_ok(r) for r in recipients):
            return False
        if self.message_id and self.message_id != message_id:
            return False
        if self.fault and self.fault not in faults:
            return False
        if self.header and self.header not in [(n, v) for n, v in headers]:
            return False
        return True


class State(object):
    """Shared between connection threads."""

    def __init__(self, journal_path, rules, hostname):
        self.lock = threading.Lock()
        self.journal = open(journal_path, "a", encoding="utf-8")
        self.rules = rules
        self.hostname = hostname
        self.rcpt_attempts = {}   # recipient (lower) -> RCPT commands seen
        self.msg_attempts = {}    # (Message-ID, recipient) -> end-of-DATA seen
        self.mail_attempts = {}   # envelope sender -> MAIL commands seen
        self.session_seq = 0

    def next_session(self):
        with self.lock:
            self.session_seq += 1
            return self.session_seq

    def count_rcpt(self, rcpt):
        with self.lock:
            k = rcpt.lower()
            self.rcpt_attempts[k] = self.rcpt_attempts.get(k, 0) + 1
            return self.rcpt_attempts[k]

    def count_mail(self, sender):
        with self.lock:
            self.mail_attempts[sender] = self.mail_attempts.get(sender, 0) + 1
            return self.mail_attempts[sender]

    def count_message(self, message_id, recipients):
        """Count one end-of-DATA for each (Message-ID, recipient); return
        {recipient: its count}.  Counting per recipient keeps xN faults
        predictable when the MTA splits one message over several
        deliveries (different next hops, greylisted recipients, ...)."""
        out = {}
        with self.lock:
            for r in recipients:
                k = (message_id, r.lower())
                self.msg_attempts[k] = self.msg_attempts.get(k, 0) + 1
                out[r] = self.msg_attempts[k]
        return out

    def write(self, records):
        with self.lock:
            for r in records:
                self.journal.write(json.dumps(r, sort_keys=False) + "\n")
            self.journal.flush()
            try:
                os.fsync(self.journal.fileno())
            except OSError:
                pass

    def close(self):
        with self.lock:
            try:
                self.journal.flush()
                self.journal.close()
            except (OSError, ValueError):
                pass


def builtin_rcpt_reply(rcpt, attempt):
    local = rcpt.split("@", 1)[0].lower()
    if local.startswith("nouser"):
        return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % rcpt
    if local.startswith("grey"):
        if attempt == 1:
            return "450 4.2.0 Greylisted, try again later"
        return None
    m = re.match(r"^hl421(?:x(\d+))?", local)
    if m:
        n = m.group(1)
        if n is None or attempt <= int(n):
            return "421 4.7.0 HL:ICC connection limit"
    return None


def builtin_data_reply(faults, attempt):
    for f in faults:
        if f == "data451":
            return "451 4.3.2 Internal server error"
        m = re.match(r"^data451x(\d+)$", f)
        if m:
            if attempt <= int(m.group(1)):
                return "451 4.3.2 Internal server error"
            return None
        if f == "data554":
            return "554 5.6.0 Message content rejected"
    return None


class Handler(socketserver.StreamRequestHandler):
    timeout = 300

    def setup(self):
        socketserver.StreamRequestHandler.setup(self)
        self.st = self.server.state
        self.session = self.st.next_session()
        self.client = self.client_address[0]
        self.helo = None
        self.transaction = 0
        self.reset()

    def reset(self):
        self.mail_from = None
        self.accepted = []      # [(rcpt, attempt)]
        self.rcpt_records = []  # refused at RCPT, written at end of transaction

    # -- I/O ---------------------------------------------------------------
    def send(self, line):
        self.wfile.write((line + "\r\n").encode("utf-8", "replace"))
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(MAX_LINE + 2)
        if not line:
            return None
        return line.decode("utf-8", "replace").rstrip("\r\n")

    # -- journal -----------------------------------------------------------
    def base(self):
        return {"time": now_rfc3339(), "session": self.session,
                "transaction": self.transaction, "client": self.client,
                "helo": self.helo, "mail_from": self.mail_from}

    def flush_transaction(self, message_id=None, size=None, aborted=False):
        recs = []
        for r in self.rcpt_records:
            r["message_id"] = message_id
            recs.append(r)
        if aborted:
            for rcpt, attempt in self.accepted:
                rec = self.base()
                rec.update({"message_id": message_id, "recipient": rcpt,
                            "stage": "data", "code": None,
                            "enhanced_status": None, "reply": None,
                            "outcome": "aborted", "attempt": attempt,
                            "size": size})
                recs.append(rec)
        if recs:
            self.st.write(recs)
        self.reset()

    # -- protocol ----------------------------------------------------------
    def handle(self):
        try:
            self.send("220 %s ESMTP mailtriage-sink" % self.st.hostname)
            while True:
                line = self.readline()
                if line is None:
                    break
                if not self.command(line):
                    break
        except (ConnectionError, socket.timeout, OSError):
            pass
        finally:
            if self.mail_from is not None and (self.rcpt_records or self.accepted):
                self.flush_transaction(aborted=True)

    def command(self, line):
        verb, _, arg = line.partition(" ")
        verb = verb.upper()
        arg = arg.strip()
        if verb == "EHLO":
            self.helo = arg
            self.flush_transaction(aborted=True)
            self.send("250-%s" % self.st.hostname)
            self.send("250-PIPELINING")
            self.send("250-SIZE %d" % MAX_SIZE)
            self.send("250-8BITMIME")
            self.send("250 ENHANCEDSTATUSCODES")
        elif verb == "HELO":
            self.helo = arg
            self.flush_transaction(aborted=True)
            self.send("250 %s" % self.st.hostname)
        elif verb == "MAIL":
            m = re.match(r"(?i)^FROM:\s*<([^>]*)>", arg)
            if self.helo is None:
                self.send("503 5.5.1 Error: send HELO/EHLO first")
            elif self.mail_from is not None:
                self.send("503 5.5.1 Error: nested MAIL command")
            elif not m:
                self.send("501 5.5.4 Syntax: MAIL FROM:<address>")
            else:
                return self.mail(m.group(1))
        elif verb == "RCPT":
            return self.rcpt(arg)
        elif verb == "DATA":
            return self.data()
        elif verb == "RSET":
            self.flush_transaction(aborted=True)
            self.send("250 2.0.0 Ok")
        elif verb == "NOOP":
            self.send("250 2.0.0 Ok")
        elif verb == "VRFY":
            self.send("252 2.0.0 Cannot VRFY user")
        elif verb == "HELP":
            self.send("214 2.0.0 See RFC 5321")
        elif verb == "QUIT":
            self.flush_transaction(aborted=True)
            self.send("221 2.0.0 Bye")
            return False
        elif verb in ("STARTTLS", "AUTH", "BDAT", "ETRN", "XCLIENT"):
            self.send("502 5.5.1 Error: command not implemented")
        else:
            self.send("500 5.5.2 Error: command not recognized")
        return True

    def mail(self, sender):
        self.transaction += 1
        attempt = self.st.count_mail(sender)
        reply = None
        for rule in self.st.rules:
            if rule.stage == "mail" and rule.matches_mail(self.helo, sender):
                if rule.times is None or attempt <= int(rule.times):
                    reply = rule.reply
                break
        if reply is None:
            self.mail_from = sender
            self.send("250 2.1.0 Ok")
            return True
        code, enh = split_reply(reply)
        rec = self.base()
        rec.update({"mail_from": sender, "message_id": None, "recipient": None,
                    "stage": "mail", "code": code, "enhanced_status": enh,
                    "reply": reply, "outcome": outcome_of(code),
                    "attempt": attempt, "size": None})
        self.st.write([rec])
        self.send(reply)
        return code != 421

    def rcpt(self, arg):
        m = re.match(r"(?i)^TO:\s*<([^>]*)>", arg)
        if self.mail_from is None:
            self.send("503 5.5.1 Error: need MAIL command")
            return True
        if not m or "@" not in m.group(1):
            self.send("501 5.1.3 Bad recipient address syntax")
            return True
        rcpt = m.group(1)
        attempt = self.st.count_rcpt(rcpt)
        reply = None
        for rule in self.st.rules:
            if rule.stage == "rcpt" and rule.matches_rcpt(rcpt, self.helo, self.mail_from):
                if rule.times is None or attempt <= int(rule.times):
                    reply = rule.reply
                break
        else:
            reply = builtin_rcpt_reply(rcpt, attempt)
        if reply is None:
            self.accepted.append((rcpt, attempt))
            self.send("250 2.1.5 Ok")
            return True
        code, enh = split_reply(reply)
        rec = self.base()
        rec.update({"message_id": None, "recipient": rcpt, "stage": "rcpt",
                    "code": code, "enhanced_status": enh, "reply": reply,
                    "outcome": outcome_of(code), "attempt": attempt,
                    "size": None})
        self.rcpt_records.append(rec)
        self.send(reply)
        if code == 421:
            # The session ends here; accepted recipients never got a message.
            self.flush_transaction(aborted=True)
            return False
        return True

    def data(self):
        if self.mail_from is None:
            self.send("503 5.5.1 Error: need MAIL command")
            return True
        if not self.accepted:
            self.send("554 5.5.1 Error: no valid recipients")
            return True
        self.send("354 End data with <CR><LF>.<CR><LF>")
        chunks = []
        size = 0
        too_big = False
        in_headers = True
        while True:
            raw = self.rfile.readline(MAX_LINE * 128)
            if not raw:
                # Connection lost in the middle of the message.
                self.flush_transaction(message_id=self.header_message_id(chunks),
                                       size=size, aborted=True)
                return False
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b"."):
                raw = raw[1:]
            size += len(raw)
            if size > MAX_SIZE:
                too_big = True
            if in_headers:
                # Only the header section is kept; the body is counted.
                if raw in (b"\r\n", b"\n"):
                    in_headers = False
                chunks.append(raw)
        message_id = self.header_message_id(chunks)
        faults = self.header_faults(chunks)
        counts = self.st.count_message(message_id or "",
                                       [r for r, _a in self.accepted])
        attempt = max(counts.values())
        reply = None
        if too_big:
            reply = "552 5.3.4 Message size exceeds fixed limit"
        else:
            for rule in self.st.rules:
                if rule.stage == "data_end" and rule.matches_message(
                        message_id, faults, self.headers(chunks),
                        [r for r, _a in self.accepted], self.helo, self.mail_from):
                    if rule.times is None or attempt <= int(rule.times):
                        reply = rule.reply
                    break
            else:
                reply = builtin_data_reply(faults, attempt)
        if reply is None:
            reply = "250 2.0.0 Ok: queued as S%d.%d" % (self.session, self.transaction)
        code, enh = split_reply(reply)
        recs = []
        for rcpt, _rattempt in self.accepted:
            rec = self.base()
            rec.update({"message_id": message_id, "recipient": rcpt,
                        "stage": "data_end", "code": code,
                        "enhanced_status": enh, "reply": reply,
                        "outcome": outcome_of(code), "attempt": counts[rcpt],
                        "size": size})
            recs.append(rec)
        self.accepted = []
        self.flush_transaction(message_id=message_id)  # rcpt-stage refusals
        self.st.write(recs)
        self.send(reply)
        return code != 421

    # -- header helpers ----------------------------------------------------
    @staticmethod
    def headers(chunks):
        out = []
        for raw in chunks:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line == "":
                break
            if line[:1] in (" ", "\t") and out:
                out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
            else:
                name, sep, value = line.partition(":")
                if sep:
                    out.append((name.strip().lower(), value.strip()))
        return out

    def header_message_id(self, chunks):
        for name, value in self.headers(chunks):
            if name == "message-id":
                return value
        return None

    def header_faults(self, chunks):
        faults = []
        for name, value in self.headers(chunks):
            if name == "x-test-fault":
                faults.extend(v.strip().lower() for v in re.split(r"[,\s]+", value) if v.strip())
        return faults


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64


def load_plan(path):
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        plan = json.load(f)
    rules = plan.get("rules", []) if isinstance(plan, dict) else plan
    return [Rule(r) for r in rules]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, help="ADDR:PORT, e.g. 127.0.0.2:2525")
    ap.add_argument("--journal", required=True, help="NDJSON journal (appended)")
    ap.add_argument("--plan", help="JSON file with extra fault rules")
    ap.add_argument("--pidfile", help="write the process id here once listening")
    ap.add_argument("--hostname", default="sink.test.invalid")
    ap.add_argument("--allow-non-loopback", action="store_true",
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        ap.error("--listen wants ADDR:PORT")
    host = host.strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ap.error("--listen address must be a literal IP address")
    if not ip.is_loopback and not args.allow_non_loopback:
        ap.error("refusing to listen on non-loopback address %s" % host)
    try:
        rules = load_plan(args.plan)
    except (OSError, ValueError, KeyError) as e:
        ap.error("bad --plan: %s" % e)

    state = State(args.journal, rules, args.hostname)
    if ip.version == 6:
        Server.address_family = socket.AF_INET6
    server = Server((host, int(port)), Handler)
    server.state = state

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True)
    t.start()
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.pidfile + ".tmp", args.pidfile)
    sys.stderr.write("smtp_sink: listening on %s:%s, journal %s\n"
                     % (host, port, args.journal))
    sys.stderr.flush()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
