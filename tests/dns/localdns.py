"""localdns.py - a real authoritative DNS server (Knot DNS) on loopback,
serving test zones, behind a small fault-injecting front.

    knotd        127.0.0.1:<port+1>  the root zone "." holding every test record
    front        127.0.0.1:<port>    UDP and TCP; forwards to knotd, except for
                                     names given faults: "timeout" (never
                                     answers), "servfail", "refused",
                                     "malformed" (a truncated, unparsable reply)

The front exists only because an authoritative server cannot be told to
time out or to answer garbage for one name; every real answer comes from
knotd.  Zones come from OpenSPF "zonedata" (dict: name -> list of records,
see zone_from_zonedata) or from zone-file text.

Used by tests/dns/spf_suite.py, tests/cli/check_domain.sh (through
tests/dns/serve.py) and bench/spf_bench.py.  Test tooling: Debian's python3
with python3-yaml; no pip.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

SOA = ". 60 SOA ns.test. hostmaster.test. 1 3600 600 86400 60\n. 60 NS ns.test.\nns.test. 60 A 127.0.0.1\n"


def _esc_name(name):
    name = name.rstrip(".")
    if name == "":
        return "."
    out = []
    for ch in name.encode("utf-8", "surrogateescape"):
        c = chr(ch)
        if c.isalnum() and ch < 128 or c in "-_*.":
            out.append(c)
        else:
            out.append("\\%03d" % ch)
    return "".join(out) + "."


def _valid_name(name):
    labels = name.rstrip(".").split(".")
    return all(0 < len(l) <= 63 for l in labels) and len(name) <= 253


def _bytes(s):
    """YAML "\\xEF" escapes mean bytes: code points < 256 map to one byte."""
    if not isinstance(s, str):
        return bytes(s)
    if all(ord(c) < 256 for c in s):
        return s.encode("latin-1")
    return s.encode("utf-8", "surrogateescape")


def _esc_str(s):
    if isinstance(s, str):
        s = _bytes(s)
    out = []
    for ch in s:
        c = chr(ch)
        if 32 <= ch < 127 and c not in '"\\':
            out.append(c)
        else:
            out.append("\\%03d" % ch)
    return '"' + "".join(out) + '"'


def _txt_rdata(v):
    """A YAML TXT/SPF value (a string or a list of strings) as zone-file
    character-strings; strings over 255 bytes are split, as DNS needs."""
    parts = v if isinstance(v, list) else [v]
    chunks = []
    for p in parts:
        b = _bytes(p)
        if not b:
            chunks.append(b"")
        while b:
            chunks.append(b[:255])
            b = b[255:]
    if not chunks:
        chunks = [b""]  # a record with no string: the nearest a zone file allows
    return " ".join(_esc_str(c) for c in chunks)


def zone_from_zonedata(zonedata):
    """(zone text, {name: fault}) from OpenSPF zonedata.  SPF records are
    served as type 99 and, where the name has no TXT of its own, as TXT too
    (the suite's convention).  TIMEOUT names become "timeout" faults."""
    lines = [SOA]
    faults = {}
    for name, recs in (zonedata or {}).items():
        name = str(name)
        if not _valid_name(name):
            continue
        own = _esc_name(name)
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in recs)
        served = set()
        for r in recs:
            if isinstance(r, str):
                if r == "TIMEOUT":
                    # the suite's convention: types listed before TIMEOUT answer, the rest time out
                    faults[name.lower().rstrip(".")] = ("timeout", frozenset(served))
                continue
            for k, v in r.items():
                if v == "NONE":
                    continue
                served.add({"SPF": 99, "TXT": 16, "A": 1, "AAAA": 28, "MX": 15, "PTR": 12, "CNAME": 5}.get(k, 0))
                if k == "SPF" and not has_txt:
                    served.add(16)
                if k == "SPF":
                    lines.append("%s 60 TYPE99 %s" % (own, _txt_rdata(v)))
                    if not has_txt:
                        lines.append("%s 60 TXT %s" % (own, _txt_rdata(v)))
                elif k == "TXT":
                    lines.append("%s 60 TXT %s" % (own, _txt_rdata(v)))
                elif k in ("A", "AAAA"):
                    for a in v if isinstance(v, list) else [v]:
                        lines.append("%s 60 %s %s" % (own, k, a))
                elif k == "MX":
                    pref, host = v
                    lines.append("%s 60 MX %d %s" % (own, int(pref), _esc_name(str(host))))
                elif k in ("PTR", "CNAME"):
                    lines.append("%s 60 %s %s" % (own, k, _esc_name(str(v))))
    text = "\n".join(lines) + "\n"
    # knot wants TYPE99 rdata in generic form; SPF is its mnemonic
    text = text.replace(" TYPE99 ", " SPF ")
    return text, faults


def _qname(pkt):
    """(question name lowercased, qtype) of a DNS message, or (None, 0)."""
    try:
        p = 12
        labels = []
        while True:
            n = pkt[p]
            if n == 0:
                break
            if n & 0xC0:
                return None, 0
            labels.append(pkt[p + 1:p + 1 + n].decode("latin-1"))
            p += 1 + n
        qtype = struct.unpack("!H", pkt[p + 1:p + 3])[0]
        return ".".join(labels).lower(), qtype
    except (IndexError, struct.error):
        return None, 0


def _fault_reply(pkt, kind):
    if len(pkt) < 12:
        return None
    name, _ = _qname(pkt)
    if name is None:
        return None
    qend = 12 + sum(len(l) + 1 for l in name.split(".") if l) + 1 + 4
    pkt = pkt[:qend]  # the question only (drop the EDNS OPT record)
    flags = struct.unpack("!H", pkt[2:4])[0]
    rcode = {"servfail": 2, "refused": 5}.get(kind, 0)
    hdr = pkt[:2] + struct.pack("!H", 0x8000 | (flags & 0x0100) | 0x0080 | rcode)
    pkt = pkt[:4] + b"\x00\x01" + pkt[6:]
    if kind == "malformed":
        # claims one answer and carries half of one
        return hdr + pkt[4:6] + b"\x00\x01\x00\x00\x00\x00" + pkt[12:] + b"\xc0\x0c\x00"
    return hdr + pkt[4:6] + b"\x00\x00\x00\x00\x00\x00" + pkt[12:]


class LocalDNS:
    def __init__(self, port=2660, workers=1):
        self.workers = workers
        self.port = port
        self.kport = port + 1
        self.dir = tempfile.mkdtemp(prefix="mt-dns.")
        self.faults = {}
        self.knot = None
        self.stop_ev = threading.Event()
        self.threads = []
        self.usock = None
        self.tsock = None

    # ---- knotd
    def _conf(self):
        d = self.dir
        return """server:
    rundir: "%s"
    listen: 127.0.0.1@%d
    udp-workers: %d
    tcp-workers: 1
    background-workers: 1
control:
    listen: "%s/knot.sock"
database:
    storage: "%s"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "%s"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
zone:
  - domain: "."
    file: "root.zone"
""" % (d, self.kport, self.workers, d, d, d)

    def start(self, zone_text=None):
        for p, kind in ((self.port, socket.SOCK_DGRAM), (self.kport, socket.SOCK_DGRAM)):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                raise RuntimeError("127.0.0.1:%d is in use (a DNS server left running?)" % p)
            finally:
                s.close()
        with open(os.path.join(self.dir, "knot.conf"), "w") as f:
            f.write(self._conf())
        with open(os.path.join(self.dir, "root.zone"), "w") as f:
            f.write(zone_text or SOA)
        self.knotlog = open(os.path.join(self.dir, "knot.log"), "w")
        self.knot = subprocess.Popen(["knotd", "-c", os.path.join(self.dir, "knot.conf")],
                                     stdout=self.knotlog, stderr=subprocess.STDOUT)
        self._start_front()
        self._wait_ready()

    def _wait_ready(self, serial=None):
        q = b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x01"
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.knot.poll() is not None:
                raise RuntimeError("knotd exited: " + open(os.path.join(self.dir, "knot.log")).read())
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.2)
            try:
                s.sendto(q, ("127.0.0.1", self.kport))
                r, _ = s.recvfrom(4096)
                if len(r) > 12 and r[3] & 0x0F == 0 and (serial is None or serial in r):
                    return
            except OSError:
                pass
            finally:
                s.close()
            time.sleep(0.05)
        raise RuntimeError("knotd did not answer on port %d" % self.kport)

    def load(self, zone_text, faults=None):
        """Replace the served zone (blocking reload) and the fault table."""
        self.serial = getattr(self, "serial", 1) + 1
        zone_text = zone_text.replace(SOA, "")
        soa = SOA.replace(" 1 3600", " %d 3600" % self.serial)
        with open(os.path.join(self.dir, "root.zone"), "w") as f:
            f.write(soa + zone_text)
        sock = os.path.join(self.dir, "knot.sock")
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        r = subprocess.run(["knotc", "-c", os.path.join(self.dir, "knot.conf"), "-b", "zone-reload", "."],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("knotc zone-reload: " + r.stdout + r.stderr)
        self.faults = dict(faults or {})
        self._wait_ready(struct.pack("!I", self.serial))

    def stop(self):
        self.stop_ev.set()
        for s in (self.usock, self.tsock):
            if s:
                try:
                    s.close()
                except OSError:
                    pass
        if self.knot and self.knot.poll() is None:
            self.knot.send_signal(signal.SIGTERM)
            try:
                self.knot.wait(5)
            except subprocess.TimeoutExpired:
                self.knot.kill()
                self.knot.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- the front
    def _fault(self, pkt):
        name, qtype = _qname(pkt)
        if name is None:
            return None
        f = self.faults.get(name.rstrip("."))
        if isinstance(f, tuple):  # (kind, qtypes exempt)
            return None if qtype in f[1] else f[0]
        return f

    def _start_front(self):
        self.usock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.usock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.usock.bind(("127.0.0.1", self.port))
        self.tsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tsock.bind(("127.0.0.1", self.port))
        self.tsock.listen(64)
        for fn in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)

    def _udp_loop(self):
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.bind(("127.0.0.1", 0))
        pending = {}  # (upstream id) -> (client addr, client id)
        nextid = [0]
        import select
        while not self.stop_ev.is_set():
            try:
                r, _, _ = select.select([self.usock, up], [], [], 0.2)
            except (OSError, ValueError):
                return
            if self.usock in r:
                try:
                    pkt, addr = self.usock.recvfrom(65535)
                except OSError:
                    return
                kind = self._fault(pkt)
                if kind == "timeout":
                    continue
                if kind:
                    rep = _fault_reply(pkt, kind)
                    if rep:
                        self.usock.sendto(rep, addr)
                    continue
                if len(pkt) < 12:
                    continue
                nextid[0] = (nextid[0] + 1) & 0xFFFF
                uid = nextid[0]
                pending[uid] = (addr, pkt[:2])
                up.sendto(struct.pack("!H", uid) + pkt[2:], ("127.0.0.1", self.kport))
            if up in r:
                rep, _ = up.recvfrom(65535)
                if len(rep) < 12:
                    continue
                uid = struct.unpack("!H", rep[:2])[0]
                if uid in pending:
                    addr, cid = pending.pop(uid)
                    try:
                        self.usock.sendto(cid + rep[2:], addr)
                    except OSError:
                        pass

    def _tcp_loop(self):
        while not self.stop_ev.is_set():
            try:
                c, _ = self.tsock.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(c,), daemon=True).start()

    @staticmethod
    def _recvn(s, n):
        b = b""
        while len(b) < n:
            x = s.recv(n - len(b))
            if not x:
                return None
            b += x
        return b

    def _tcp_conn(self, c):
        try:
            while True:
                h = self._recvn(c, 2)
                if not h:
                    break
                pkt = self._recvn(c, struct.unpack("!H", h)[0])
                if pkt is None:
                    break
                kind = self._fault(pkt)
                if kind == "timeout":
                    time.sleep(30)
                    break
                if kind:
                    rep = _fault_reply(pkt, kind)
                else:
                    u = socket.create_connection(("127.0.0.1", self.kport), timeout=5)
                    u.sendall(h + pkt)
                    lh = self._recvn(u, 2)
                    rep = self._recvn(u, struct.unpack("!H", lh)[0]) if lh else None
                    u.close()
                if rep:
                    c.sendall(struct.pack("!H", len(rep)) + rep)
        except OSError:
            pass
        finally:
            c.close()
