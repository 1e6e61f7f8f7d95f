"""spf_bench.py MAILTRIAGE [--evals N] [--domains N] [--jobs J] [--port P]

SPF evaluations per second, ours beside pyspf (Debian python3-spf), in
the same run, against the same real DNS server: Knot DNS on 127.0.0.1
(P+1, asked directly, not through the test front) serving generated
zones.  Then `check-domain --file` over the same domains.

Zones: D domains dN.bench, each "v=spf1 ip4:<own> include:_spfK.prov.bench
a mx -all" with an A and an MX (host with an A); 50 provider records.
The evaluations cycle through four paths: the first ip4 term (1 query),
the include (2), the mx term (5 queries) and a fail (-all after all of
them).  Both evaluators get the same (ip, sender) list; the results are
compared one by one and the number that agree is printed.
"""
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "dns"))
from localdns import LocalDNS  # noqa: E402


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    mt = sys.argv[1]
    n_evals, n_dom, jobs, port = arg("--evals", 10000), arg("--domains", 10000), arg("--jobs", 8), arg("--port", 2666)
    lines = []
    for k in range(50):
        lines.append('_spf%d.prov.bench. TXT "v=spf1 ip4:203.0.%d.0/24 ip6:2001:db8:%x::/48 -all"' % (k, k, k))
    for i in range(n_dom):
        a, b = divmod(i, 250)
        own = "198.18.%d.%d" % (a % 256, b + 1)
        lines.append('d%d.bench. TXT "v=spf1 ip4:%s include:_spf%d.prov.bench a mx -all"' % (i, own, i % 50))
        lines.append("d%d.bench. A 198.19.%d.%d" % (i, a % 256, b + 1))
        lines.append("d%d.bench. MX 10 mx.d%d.bench." % (i, i))
        lines.append("mx.d%d.bench. A 198.20.%d.%d" % (i, a % 256, b + 1))
    rnd = random.Random(7)
    evals = []
    for e in range(n_evals):
        i = rnd.randrange(n_dom)
        a, b = divmod(i, 250)
        ip = ["198.18.%d.%d" % (a % 256, b + 1), "203.0.%d.9" % (i % 50), "198.20.%d.%d" % (a % 256, b + 1),
              "192.0.2.77"][e % 4]
        evals.append((ip, "bounce@d%d.bench" % i))
    server = LocalDNS(port, workers=2)
    server.start()
    try:
        server.load("\n".join(lines) + "\n")
        kport = server.kport
        with open(os.path.join(server.dir, "evals"), "w") as f:
            for ip, s in evals:
                f.write("%s %s helo.bench\n" % (ip, s))
        # ours: one evaluation at a time, then --jobs at once
        def ours_run(j):
            t0 = time.perf_counter()
            r = subprocess.run([mt, "spf", "--batch", os.path.join(server.dir, "evals"), "--jobs", str(j),
                                "--resolver", "127.0.0.1:%d" % kport], capture_output=True, text=True, check=True)
            return time.perf_counter() - t0, [l.split()[0] for l in r.stdout.splitlines()]
        t_one, ours1 = ours_run(1)
        t_ours, ours = ours_run(jobs)
        # pyspf over the same server
        import dns.resolver
        import spf
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = ["127.0.0.1"]
        res.port = kport
        dns.resolver.default_resolver = res
        t0 = time.perf_counter()
        theirs = [spf.check2(i=ip, s=s, h="helo.bench")[0] for ip, s in evals]
        t_py = time.perf_counter() - t0
        agree = sum(1 for a, b in zip(ours, theirs) if a == b)
        assert ours == ours1, "--jobs changed results"
        print("spf evaluations: %d (%d domains, paths ip4/include/mx/fail), local Knot DNS on 127.0.0.1:%d"
              % (n_evals, n_dom, kport))
        print("  mailtriage spf --batch --jobs 1: %.2f s, %.0f evaluations/s "
              % (t_one, n_evals / t_one))
        print("  mailtriage spf --batch --jobs %d: %.2f s, %.0f evaluations/s" % (jobs, t_ours, n_evals / t_ours))
        print("  pyspf %s (spf.check2):        %.2f s, %.0f evaluations/s" % (spf.__version__, t_py, n_evals / t_py))
        print("  ratio: %.1fx pyspf with --jobs 1, %.1fx with --jobs %d" % (t_py / t_one, t_py / t_ours, jobs))
        print("  results agreeing with pyspf: %d/%d" % (agree, n_evals))
        # check-domain --file over the same domains
        with open(os.path.join(server.dir, "domains"), "w") as f:
            for i in range(n_dom):
                f.write("d%d.bench\n" % i)
        outs = {}
        for j in (1, jobs):
            t0 = time.perf_counter()
            r = subprocess.run([mt, "check-domain", "--file", os.path.join(server.dir, "domains"), "--json",
                                "--jobs", str(j), "--resolver", "127.0.0.1:%d" % kport],
                               capture_output=True, text=True, check=True)
            t_cd = time.perf_counter() - t0
            outs[j] = r.stdout
            print("check-domain --file --jobs %d: %d domains in %.2f s, %.0f domains/s (%d JSON lines)"
                  % (j, n_dom, t_cd, n_dom / t_cd, len(r.stdout.splitlines())))
        print("  same reports with --jobs %d as with --jobs 1: %s" % (jobs, "yes" if outs[1] == outs[jobs] else "NO"))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
