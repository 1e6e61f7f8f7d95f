"""spf_suite.py MAILTRIAGE SUITE.yml [--min N] [--port P] [-v] [--pyspf]

Run an OpenSPF YAML test suite (RFC 7208, RFC 4408, pyspf's) through
`mailtriage spf`, each scenario's zonedata served by a real Knot DNS on
127.0.0.1 (tests/dns/localdns.py; TIMEOUT names are dropped by its
fault-injecting front).  Prints "N/M passed" per scenario and a total;
alternative results in the YAML (a list) count as a pass; an expected
explanation is compared too ("DEFAULT" = none from exp=).  Exits 1 when
fewer than --min tests pass (default: all of them).  --pyspf also runs
Debian's pyspf (python3-spf) over the same server in the same run and
prints its count beside ours (for comparison only; it does not decide the
exit status).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yaml  # noqa: E402
from localdns import LocalDNS, zone_from_zonedata  # noqa: E402


def run_one(mt, port, t):
    cmd = [mt, "spf", "--ip", str(t["host"]), "--mail-from", str(t.get("mailfrom", "")),
           "--resolver", "127.0.0.1:%d" % port, "--timeout", "300", "--receiver", "receiver.example.com"]
    if t.get("helo") is not None:
        cmd += ["--helo", str(t["helo"])]
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    lines = out.splitlines()
    word = lines[0] if lines else "(no output: %s)" % r.stderr.decode("utf-8", "replace").strip()
    expl = "DEFAULT"
    for l in lines[1:]:
        if l.startswith("explanation: "):
            expl = l[len("explanation: "):]
    return word, expl, out


def pyspf_one(spf, t):
    try:
        q = spf.query(i=str(t["host"]), s=str(t.get("mailfrom", "")), h=str(t.get("helo", "")), timeout=2)
        return q.check()[0]
    except Exception as e:  # a crash is a wrong answer, not a harness failure
        return "exception:" + type(e).__name__


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    use_pyspf = "--pyspf" in args
    args = [a for a in args if a not in ("-v", "--pyspf")]
    minimum = None
    port = 2660
    if "--min" in args:
        i = args.index("--min")
        minimum = int(args[i + 1])
        del args[i:i + 2]
    if "--port" in args:
        i = args.index("--port")
        port = int(args[i + 1])
        del args[i:i + 2]
    mt, suite = args
    docs = [d for d in yaml.safe_load_all(open(suite, "rb")) if d]
    dns = LocalDNS(port)
    dns.start()
    total = passed = expl_bad = py_passed = 0
    spf = None
    if use_pyspf:
        import dns.resolver as dr
        import spf
        res = dr.Resolver(configure=False)
        res.nameservers = ["127.0.0.1"]
        res.port = port
        dr.default_resolver = res
    try:
        for doc in docs:
            zone, faults = zone_from_zonedata(doc.get("zonedata"))
            dns.load(zone, faults)
            n = ok = 0
            for name, t in doc["tests"].items():
                want = t["result"]
                want = want if isinstance(want, list) else [want]
                word, expl, out = run_one(mt, port, t)
                n += 1
                good = word in want
                if good and "explanation" in t and word == "fail" and expl != t["explanation"]:
                    expl_bad += 1
                    print("  explanation %s: got %r want %r" % (name, expl, t["explanation"]))
                if spf is not None:
                    pw = pyspf_one(spf, t)
                    py_passed += pw in want
                    if verbose and pw not in want:
                        print("  pyspf FAIL %s: got %s want %s" % (name, pw, "|".join(want)))
                if good:
                    ok += 1
                else:
                    print("  FAIL %s: got %s want %s  (%s)" % (name, word, "|".join(want),
                                                             t.get("description", "").strip()[:70]))
                    if verbose:
                        print("    " + out.replace("\n", "\n    "))
            print("%s: %d/%d passed" % (doc.get("description", "(scenario)"), ok, n))
            total += n
            passed += ok
    finally:
        dns.stop()
    print("TOTAL %d/%d passed (%d explanation mismatches)" % (passed, total, expl_bad))
    if spf is not None:
        print("pyspf %s, same server, same run: %d/%d passed" % (spf.__version__, py_passed, total))
    need = total if minimum is None else minimum
    return 0 if passed >= need else 1


if __name__ == "__main__":
    sys.exit(main())
