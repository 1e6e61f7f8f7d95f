"""serve.py PORT ZONEFILE [FAULTS]

Serve ZONEFILE (zone-file text for the root zone, without SOA/NS: they are
added) from a real Knot DNS behind the fault-injecting front on
127.0.0.1:PORT (knotd itself on PORT+1), until stdin closes or SIGTERM.
FAULTS: lines "NAME timeout|servfail|refused|malformed".
Prints "ready" on stdout once the server answers.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localdns import LocalDNS  # noqa: E402


def main():
    port, zonefile = int(sys.argv[1]), sys.argv[2]
    faults = {}
    if len(sys.argv) > 3:
        for line in open(sys.argv[3]):
            parts = line.split()
            if len(parts) == 2:
                faults[parts[0].lower().rstrip(".")] = parts[1]
    dns = LocalDNS(port)
    signal.signal(signal.SIGTERM, lambda *a: (dns.stop(), sys.exit(0)))
    dns.start()
    try:
        dns.load(open(zonefile).read(), faults)
        print("ready", flush=True)
        sys.stdin.read()
    finally:
        dns.stop()


if __name__ == "__main__":
    main()
