"""dkim_corpus.py MAILTRIAGE CORPUS_AUTH_DIR [--port P]

Serve the DKIM key zones of the public corpus (mail-dkim/FAKE_DNS.zone.yml,
dkimpy/KEYS.zone.yml) from the local Knot DNS and classify every key that
Mail::DKIM 1.20230212 looked up (mail-dkim/results.Mail-DKIM-*.tsv) with
`mailtriage check-domain D --selector S --only dkim`.  Checks against what
Mail::DKIM said about the same key:
  - a signature Mail::DKIM verified: we must parse the key (RSA bits or
    ed25519), whatever we think of its size;
  - a key Mail::DKIM refused (revoked, unsupported version, syntax error,
    unsupported key type, not for email, not available): we must fail it,
    for that reason (not for its size);
  - a key behind a DNS timeout: we must say error.
The two RFC 8463 keys of dkimpy/KEYS.zone.yml (ed25519 and RSA) must parse.
Prints one line per key and "N/M agree"; exits 1 on any disagreement.
"""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yaml  # noqa: E402
from localdns import LocalDNS, zone_from_zonedata  # noqa: E402

REFUSED = {
    "revoked": "revoked",
    "unsupported version": "v= is not DKIM1",
    "syntax error": "malformed tag",
    "unsupported key type": "unknown key type",
    "does not support email": "s= does not include email",
    "not available": "no key published",
}


def main():
    mt, auth = sys.argv[1], sys.argv[2]
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 2668
    zd = {}
    keys = {}
    for f in ("mail-dkim/FAKE_DNS.zone.yml", "dkimpy/KEYS.zone.yml"):
        for doc in yaml.safe_load_all(open(os.path.join(auth, f), "rb")):
            if doc and doc.get("zonedata"):
                zd.update(doc["zonedata"])
                if f.startswith("dkimpy"):  # RFC 8463 A.2 keys, verified by python3-dkim
                    for name in doc["zonedata"]:
                        sel, _, dom = name.partition("._domainkey.")
                        keys[(dom, sel)] = "parse"
    zone, faults = zone_from_zonedata(zd)
    tsv = sorted(glob.glob(os.path.join(auth, "mail-dkim/results.Mail-DKIM-*.tsv")))[0]
    for line in open(tsv):
        if line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) < 7 or not f[2] or not f[3]:
            continue
        d, s, res, detail = f[2], f[3], f[5], f[6]
        exp = None
        if res == "pass":
            exp = "parse"
        elif "DNS error" in detail:
            exp = "error"
        else:
            for k, why in REFUSED.items():
                if "public key: " + k in detail:
                    exp = ("fail", why)
        if exp and (d, s) not in keys:
            keys[(d, s)] = exp
    dns = LocalDNS(port)
    dns.start()
    agree = n = 0
    try:
        dns.load(zone, faults)
        for (d, s), exp in sorted(keys.items()):
            r = subprocess.run([mt, "check-domain", d, "--selector", s, "--only", "dkim", "--json",
                                "--resolver", "127.0.0.1:%d" % port, "--timeout", "300"],
                               capture_output=True, text=True, timeout=60)
            c = json.loads(r.stdout)["checks"][0]
            st, summ = c["status"], c["summary"]
            if exp == "parse":
                good = summ.startswith("RSA key of") or summ.startswith("ed25519 key")
            elif exp == "error":
                good = st == "error"
            else:
                good = st == "fail" and exp[1] in summ
            n += 1
            agree += good
            print("%s %s._domainkey.%s: ours %s (%s); Mail::DKIM: %s" % (
                "ok  " if good else "DIFF", s, d, st, summ, exp if isinstance(exp, str) else "refused: " + exp[1]))
    finally:
        dns.stop()
    print("%d/%d agree" % (agree, n))
    return 0 if agree == n and n > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
