"""spf_corpus_seeds.py CORPUS OUTDIR - write every TXT/SPF record of the
public OpenSPF suites (RFC 7208, RFC 4408, pyspf's) into OUTDIR, one file
each, as extra seeds for fuzz_spf (scripts/check.sh runs this when the
corpus is present; the records are not kept in the project)."""
import hashlib
import os
import sys

import yaml

corpus, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
n = 0
for f in ("auth/openspf-rfc7208/rfc7208-tests.yml", "auth/openspf-rfc7208/rfc4408-tests.yml",
          "auth/pyspf-tests/test.yml"):
    p = os.path.join(corpus, f)
    if not os.path.exists(p):
        continue
    for doc in yaml.safe_load_all(open(p, "rb")):
        for recs in ((doc or {}).get("zonedata") or {}).values():
            for r in recs:
                if not isinstance(r, dict):
                    continue
                for k, v in r.items():
                    if k in ("SPF", "TXT") and v != "NONE":
                        parts = v if isinstance(v, list) else [v]
                        b = b"".join(x.encode("latin-1") if all(ord(c) < 256 for c in x) else x.encode()
                                     for x in parts)
                        open(os.path.join(out, hashlib.sha1(b).hexdigest()[:12]), "wb").write(b)
                        n += 1
print("%d records" % n)
