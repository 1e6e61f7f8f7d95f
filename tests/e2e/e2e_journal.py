"""e2e_journal.py - what the real-MTA e2e checkers (exim_e2e.sh,
postfix_e2e.sh) share: the check counter, the plan and the sink's journal
read back, the expected figures computed from the journal, the
events-vs-journal attempt comparison and the diagnose-vs-figures checks.
Imported by their inline checkers (PYTHONPATH=tests/e2e)."""
import collections
import json
import os
import subprocess
import sys

DOMAINS = ("163.com", "126.com", "qq.com")
PROVIDER = {"163.com": "netease", "126.com": "netease", "qq.com": "tencent"}
CN_ROUTE = ("163.com", "126.com")


class Checks:
    """check(cond, desc, detail): prints ok/not ok, counts; finish() ends the run."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, desc, detail=None):
        if cond:
            self.passed += 1
            print("ok - " + desc)
        else:
            self.failed += 1
            print("not ok - " + desc)
            if detail is not None:
                for line in str(detail).splitlines()[:20]:
                    print("#   " + line)
        return cond

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def domain(addr):
    return addr.rsplit("@", 1)[-1].lower()


def bare(mid):
    """Message-IDs compare without their angle brackets (either form is fine)."""
    mid = (mid or "").strip()
    return mid[1:-1] if mid.startswith("<") and mid.endswith(">") else mid


def rc_int(r):
    try:
        return int(r.get("retry_count"))
    except (TypeError, ValueError):
        return -1


def read_plan(work, fields):
    """plan.tsv rows as dicts named by fields (the last, "rcpts", split);
    returns plan, recipient -> Message-ID, Message-ID -> plan row."""
    plan, rcpt_mid = [], {}
    for row in open(os.path.join(work, "plan.tsv"), encoding="utf-8"):
        m = dict(zip(fields, row.rstrip("\n").split("\t")))
        m["rcpts"] = m["rcpts"].split()
        plan.append(m)
        for r in m["rcpts"]:
            rcpt_mid[r.lower()] = m["mid"]
    return plan, rcpt_mid, {m["mid"]: m for m in plan}


def read_journal(work, rcpt_mid):
    """The sink's journal in time order (refusals at RCPT get the planned
    Message-ID) and its lines per (Message-ID, recipient)."""
    journal = []
    for line in open(os.path.join(work, "journal.ndjson"), encoding="utf-8"):
        if line.strip():
            journal.append(json.loads(line))
    for j in journal:
        if j["message_id"] is None:  # refused at RCPT, no message was sent
            j["message_id"] = rcpt_mid.get(j["recipient"].lower())
    journal.sort(key=lambda j: j["time"])
    by_rcpt = collections.OrderedDict()
    for j in journal:
        by_rcpt.setdefault((j["message_id"], j["recipient"].lower()), []).append(j)
    return journal, by_rcpt


def final_status(by_rcpt, drained):
    """Each recipient's end: delivered, bounced, expired (the queue drained
    with a 4xx last: the MTA gave up) or still deferred."""
    final = {}
    for key, js in by_rcpt.items():
        if js[-1]["outcome"] == "accepted":
            final[key] = "delivered"
        elif any(j["outcome"] == "bounced" for j in js):
            final[key] = "bounced"
        elif drained == "1":
            final[key] = "expired"
        else:
            final[key] = "deferred"
    return final


def figures(lines, finals):
    stages = collections.OrderedDict()
    for j in lines:
        st = stages.setdefault(j["stage"], {"attempts": 0, "deferred": 0})
        st["attempts"] += 1
        st["deferred"] += j["outcome"] == "deferred"
    c = collections.Counter(finals.values())
    return {"messages": len({k[0] for k in finals}), "recipients": len(finals), "attempts": len(lines),
            "deferred_attempts": sum(j["outcome"] == "deferred" for j in lines),
            "delivered": c["delivered"], "bounced": c["bounced"], "expired": c["expired"],
            "pending": c["deferred"], "stages": dict(stages)}


def provider_figures(journal):
    provfig = {}
    for p in ("netease", "tencent"):
        pj = [j for j in journal if PROVIDER.get(domain(j["recipient"])) == p]
        provfig[p] = {"attempted": len(pj), "accepted": sum(j["outcome"] == "accepted" for j in pj),
                      "domains": {d: {"attempted": sum(domain(j["recipient"]) == d for j in pj),
                                      "accepted": sum(domain(j["recipient"]) == d and j["outcome"] == "accepted"
                                                      for j in pj)}
                                  for d in DOMAINS if PROVIDER[d] == p}}
    return provfig


def runner(mailtriage):
    def run(args):
        p = subprocess.run([mailtriage] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    return run


def event_groups(check, rows, by_rcpt):
    """events rows grouped per (bare Message-ID, recipient domain), in
    retry_count order, beside the journal's groups; checks they match."""
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(bare(r.get("message_id")), r["recipient_domain"].lower())].append(r)
    for g in groups.values():
        g.sort(key=rc_int)
    jgroups = {(bare(mid), domain(rcpt)): (mid, rcpt, js) for (mid, rcpt), js in by_rcpt.items()
               if domain(rcpt) in DOMAINS}
    check(set(groups) == set(jgroups), "events: one row group per journal (message, recipient)",
          "extra %s\nmissing %s" % (set(groups) - set(jgroups), set(jgroups) - set(groups)))
    return groups, jgroups


def attempt_mismatches(mism, key, g, js, fin, sink_host, enh_when_accepted=True):
    """Compare one recipient's rows g with its journal lines js: retry_count
    0..n-1, stage, reply code and enhanced status per attempt (not for a
    250 unless enh_when_accepted), final status, provider, MAIL FROM
    domain, MX IP.  Differences are appended to mism[field]."""
    if [rc_int(r) for r in g] != list(range(len(js))):
        mism["retry_count"].append((key, [r.get("retry_count") for r in g], len(js)))
    for r, j in zip(g, js):
        if r.get("smtp_stage") != j["stage"]:
            mism["smtp_stage"].append((key, r.get("retry_count"), r.get("smtp_stage"), j["stage"]))
        if r.get("smtp_reply_code") != str(j["code"]):
            mism["smtp_reply_code"].append((key, r.get("retry_count"), r.get("smtp_reply_code"), j["code"]))
        if (r.get("enhanced_status") != j["enhanced_status"] if enh_when_accepted else
                (r.get("enhanced_status") or None) != j["enhanced_status"] and j["code"] != 250):
            mism["enhanced_status"].append((key, r.get("retry_count"), r.get("enhanced_status"),
                                            j["enhanced_status"]))
    if any(r.get("final_queue_status") != fin for r in g):
        mism["final_queue_status"].append((key, [r.get("final_queue_status") for r in g], fin))
    if any(r.get("provider") != PROVIDER[key[1]] for r in g):
        mism["provider"].append((key, [r.get("provider") for r in g]))
    if any((r.get("mail_from_domain") or "").lower() != "sender.example" for r in g):
        mism["mail_from_domain"].append((key, [r.get("mail_from_domain") for r in g]))
    if any(r.get("mx_ip") != sink_host for r in g):
        mism["mx_ip"].append((key, [r.get("mx_ip") for r in g]))


def check_attempts(check, have, mism):
    """The checks over attempt_mismatches' findings (have: any group compared)."""
    check(have and not mism["retry_count"], "events: retry_count runs 0..n-1 per recipient, n = journal attempts",
          mism["retry_count"])
    for f in ("smtp_stage", "smtp_reply_code", "enhanced_status"):
        check(have and not mism[f], "events: %s of every attempt matches the sink's reply" % f, mism[f])
    check(have and not mism["final_queue_status"],
          "events: final_queue_status (delivered/bounced/expired) per recipient", mism["final_queue_status"])
    check(have and not mism["provider"], "events: provider netease for 163.com/126.com, tencent for qq.com",
          mism["provider"])


def check_categories(check, rows):
    r4 = [r for r in rows if r.get("enhanced_status") == "4.3.2"]
    check(r4 and all(r.get("category") == "receiver_internal" for r in r4),
          "events: category receiver_internal for all %d '451 4.3.2' attempts" % len(r4),
          collections.Counter(r.get("category") for r in r4))
    for code, cat in (("550", "user_unknown"), ("450", "greylisting"), ("421", "rate_limit")):
        rr = [r for r in rows if r.get("smtp_reply_code") == code]
        check(rr and all(r.get("category") == cat for r in rr), "events: category %s for the %s attempts" % (cat, code),
              [r.get("category") for r in rr])


def check_diagnose(check, out, allfig, provfig, domains=True):
    """diagnose --json output against the journal's figures: totals,
    stages, providers (and per-domain figures when domains).  Returns the
    parsed document."""
    try:
        d = json.loads(out)
    except ValueError as e:
        d = {}
        check(False, "diagnose output is JSON", e)
    if not isinstance(d, dict):
        d = {}
    tot = d.get("totals", {})
    for k in ("messages", "recipients", "attempts", "delivered", "deferred_attempts", "bounced", "expired",
              "pending"):
        check(tot.get(k) == allfig[k], "diagnose: totals.%s == %d" % (k, allfig[k]), "got %r" % tot.get(k))
    stages = {s.get("stage"): s for s in d.get("stages", []) if isinstance(s, dict)}
    for st, f in allfig["stages"].items():
        got = stages.get(st, {})
        check(got.get("attempts") == f["attempts"] and got.get("deferred") == f["deferred"],
              "diagnose: stage %s attempts=%d deferred=%d" % (st, f["attempts"], f["deferred"]), "got %r" % got)
    provs = {p.get("provider"): p for p in d.get("providers", []) if isinstance(p, dict)}
    for p, f in provfig.items():
        got = provs.get(p, {})
        check(got.get("attempted") == f["attempted"] and got.get("accepted") == f["accepted"],
              "diagnose: provider %s attempted=%d accepted=%d" % (p, f["attempted"], f["accepted"]),
              "got attempted=%r accepted=%r" % (got.get("attempted"), got.get("accepted")))
        if not domains:
            continue
        doms = got.get("domains") or {}
        check(all(dm in doms for dm in f["domains"]),
              "diagnose: provider %s lists domains %s" % (p, ", ".join(f["domains"])), list(doms))
        for dm, df in f["domains"].items():
            dd = doms.get(dm)
            if isinstance(dd, dict) and "attempted" in dd:
                check(dd.get("attempted") == df["attempted"] and dd.get("accepted") == df["accepted"],
                      "diagnose: %s attempted=%d accepted=%d" % (dm, df["attempted"], df["accepted"]),
                      "got %r" % dd)
    return d
