#!/usr/bin/env python3
"""Traffic and checks for tests/e2e/postfix_scenarios.sh (one scenario per call).

    postfix_scenarios.py plan   SCENARIO WORK        write WORK/plan.json (sink rules)
                                                     and WORK/timing.json
    postfix_scenarios.py submit SCENARIO WORK CONF   submit the scenario's messages
                                                     with `sendmail -C CONF`, on schedule;
                                                     WORK/messages.tsv lists them
    postfix_scenarios.py check  SCENARIO WORK MAILTRIAGE DRAINED WAITED
                                                     ok/not ok lines, then
                                                     "N passed, M failed"; exit 1 on failure

Scenarios (every one uses the same traffic shape, only the injected fault
differs; see postfix_scenarios.sh for the expected diagnosis):

  window    the sink answers 451 4.3.2 after DATA to every Netease message
            (163.com, 126.com) for WINDOW seconds, then accepts; clean traffic
            before and after, and the window is placed inside one of
            mailtriage's five-minute buckets, so that buckets outside it exist
  template  messages with X-Template-Id: tpl-bad (15% of every block of 40
            messages, so every sender and both routes have some) get 451 4.3.2
            after DATA at Netease on every attempt, until they expire
  route     the smtp-cn transport (HELO cn-pool.mta.test.invalid) gets 451
            4.3.2 at MAIL FROM on every attempt, until its mail expires; the
            plain smtp transport carries the same senders' Netease mail fine

Traffic: envelope senders news@senderN.example (routed by the instance to
smtp-cn, syslog name postfix-cn) and info@senderN.example (plain smtp, syslog
name postfix), N = 1..5; header From = envelope sender; recipients 40%
163.com, 40% 126.com, 20% qq.com (always via smtp); four templates.  Each
block of 40 messages is balanced exactly on every one of these attributes
(independent shuffles), so no cohort correlates with time or with another.

Environment: E2E_SEED (1), E2E_WINDOW_RATE (messages/s, 1.5), E2E_WINDOW_PRE
(min. clean seconds before the window, 45), E2E_WINDOW_SECONDS (75),
E2E_WINDOW_POST (clean seconds after the window's bucket ends, 60),
E2E_BURST_MESSAGES (240), E2E_BURST_SECONDS (30).
"""

import collections
import datetime
import json
import math
import os
import random
import re
import subprocess
import sys
import time

from e2e_journal import Checks

SENDER_DOMAINS = ["sender%d.example" % i for i in range(1, 6)]
ROUTES = {"news": "postfix-cn/smtp", "info": "postfix/smtp"}   # local part -> Netease route
TEMPLATES = ["tpl-welcome", "tpl-invoice", "tpl-news", "tpl-digest"]
BAD_TEMPLATE = "tpl-bad"
CN_HELO = "cn-pool.mta.test.invalid"
NETEASE = ("163.com", "126.com")
PROVIDER = {"163.com": "netease", "126.com": "netease", "qq.com": "tencent"}
REPLY_451 = "451 4.3.2 Internal server error"
SLOT = 300          # mailtriage's time bucket for logs under 12 hours
BLOCK = 40


def env_num(name, default):
    v = os.environ.get(name)
    return type(default)(v) if v else default


SEED = env_num("E2E_SEED", 1)
WINDOW_RATE = env_num("E2E_WINDOW_RATE", 1.5)
WINDOW_PRE = env_num("E2E_WINDOW_PRE", 45)
WINDOW_SECONDS = env_num("E2E_WINDOW_SECONDS", 75)
WINDOW_POST = env_num("E2E_WINDOW_POST", 60)
WINDOW_MARGIN = 10
BURST_MESSAGES = env_num("E2E_BURST_MESSAGES", 240)
BURST_SECONDS = env_num("E2E_BURST_SECONDS", 30)


def utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%H:%M:%S")


# ---------------------------------------------------------------- plan
def cmd_plan(scenario, work):
    now = time.time()
    timing = {"planned_at": now, "start": now + 3}
    if scenario == "window":
        # The window ends WINDOW_MARGIN s before a bucket boundary B, so the
        # whole window is in bucket [B-300, B) and the traffic after B (for
        # WINDOW_POST s) is a bucket of clean mail outside it.
        b = math.ceil((timing["start"] + WINDOW_PRE + WINDOW_SECONDS + WINDOW_MARGIN) / SLOT) * SLOT
        timing["fault_until"] = b - WINDOW_MARGIN
        timing["fault_from"] = timing["fault_until"] - WINDOW_SECONDS
        timing["bucket"] = b - SLOT
        timing["end"] = b + WINDOW_POST
        rules = [{"stage": "data_end", "recipient_domain": list(NETEASE),
                  "active_from": timing["fault_from"], "active_until": timing["fault_until"],
                  "reply": REPLY_451}]
    elif scenario == "template":
        timing["end"] = timing["start"] + BURST_SECONDS
        rules = [{"stage": "data_end", "header": "X-Template-Id: " + BAD_TEMPLATE,
                  "recipient_domain": list(NETEASE), "reply": REPLY_451}]
    elif scenario == "route":
        timing["end"] = timing["start"] + BURST_SECONDS
        rules = [{"stage": "mail", "helo": CN_HELO, "reply": REPLY_451}]
    else:
        sys.exit("unknown scenario %r" % scenario)
    with open(os.path.join(work, "plan.json"), "w") as f:
        json.dump({"rules": rules}, f, indent=1)
    with open(os.path.join(work, "timing.json"), "w") as f:
        json.dump(timing, f, indent=1)
    if scenario == "window":
        print("# window: traffic %s-%s UTC, 451 window %s-%s UTC, inside bucket %s-%s"
              % (utc(timing["start"]), utc(timing["end"]), utc(timing["fault_from"]),
                 utc(timing["fault_until"]), utc(timing["bucket"]), utc(timing["bucket"] + SLOT)))


# ---------------------------------------------------------------- traffic
def blocks(rng, scenario):
    """Endless balanced blocks of BLOCK message attribute sets."""
    while True:
        n = BLOCK
        doms = ["163.com"] * (n * 2 // 5) + ["126.com"] * (n * 2 // 5)
        doms += ["qq.com"] * (n - len(doms))
        senders = [SENDER_DOMAINS[i % len(SENDER_DOMAINS)] for i in range(n)]
        locals_ = [("news", "info")[i % 2] for i in range(n)]
        if scenario == "template":
            nbad = round(n * 0.15)
            tpls = [BAD_TEMPLATE] * nbad + [TEMPLATES[i % len(TEMPLATES)] for i in range(n - nbad)]
        else:
            tpls = [TEMPLATES[i % len(TEMPLATES)] for i in range(n)]
        for v in (doms, senders, locals_, tpls):
            rng.shuffle(v)
        for i in range(n):
            yield {"domain": doms[i], "sender_domain": senders[i], "local": locals_[i],
                   "template": tpls[i]}


def cmd_submit(scenario, work, conf):
    timing = json.load(open(os.path.join(work, "timing.json")))
    rng = random.Random("%s-%d" % (scenario, SEED))
    gen = blocks(rng, scenario)
    run = "%d.%d" % (int(timing["planned_at"]), os.getpid())
    if scenario == "window":
        interval = 1.0 / WINDOW_RATE
        count = None
    else:
        interval = BURST_SECONDS / float(BURST_MESSAGES)
        count = BURST_MESSAGES
    out = open(os.path.join(work, "messages.tsv"), "w")
    while time.time() < timing["start"]:
        time.sleep(0.05)
    t_next = time.time()
    i = 0
    late = 0.0
    while (count is None and time.time() < timing["end"]) or (count is not None and i < count):
        now = time.time()
        if now < t_next:
            time.sleep(t_next - now)
        late = max(late, time.time() - t_next)
        a = next(gen)
        i += 1
        sender = "%s@%s" % (a["local"], a["sender_domain"])
        rcpt = "u%04d@%s" % (i, a["domain"])
        mid = "<%s.%04d.%s@%s>" % (scenario, i, run, a["sender_domain"])
        body = ("Hello,\n\nthis is message %d of the mailtriage %s scenario (template %s).\n"
                % (i, scenario, a["template"])) * 3
        msg = ("From: %s\nTo: %s\nSubject: %s %d\nDate: %s\nMessage-ID: %s\nX-Template-Id: %s\n"
               "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n%s"
               % (sender, rcpt, a["template"], i,
                  time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), mid,
                  a["template"], body))
        sent_at = time.time()
        p = subprocess.run(["sendmail", "-C", conf, "-f", sender, "-i", "--", rcpt],
                           input=msg.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            sys.exit("sendmail failed for message %d: %s" % (i, p.stdout.decode(errors="replace")))
        out.write("\t".join([str(i), mid, sender, rcpt, a["template"], "%.3f" % sent_at]) + "\n")
        out.flush()
        t_next += interval
    out.close()
    print("# %s: submitted %d messages in %.0f s (worst lag behind schedule %.2f s)"
          % (scenario, i, time.time() - timing["start"], late))


# ---------------------------------------------------------------- checks
LINE = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?) (\S+) ([\w.-]+)/([\w.-]+)\[(\d+)\]: (.*)$")
STATUS = re.compile(r"^([0-9A-Za-z]+): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+), "
                    r"(?:conn_use=\d+, )?delay=[\d.]+, delays=[\d./]+, dsn=(\d\.\d+\.\d+), "
                    r"status=(\w+) \((.*)\)$")


Checker = Checks  # ok / not ok lines and the counts (e2e_journal.py)


def jtime(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def cmd_check(scenario, work, mailtriage, drained, waited):
    check = Checker()
    name = scenario
    timing = json.load(open(os.path.join(work, "timing.json")))
    msgs = []
    for row in open(os.path.join(work, "messages.tsv")):
        i, mid, sender, rcpt, tpl, at = row.rstrip("\n").split("\t")
        dom = rcpt.split("@")[1]
        msgs.append({"i": int(i), "mid": mid, "sender": sender, "rcpt": rcpt, "domain": dom,
                     "local": sender.split("@")[0], "sender_domain": sender.split("@")[1],
                     "template": tpl, "at": float(at), "netease": dom in NETEASE})
    by_rcpt = {m["rcpt"]: m for m in msgs}
    by_mid = {m["mid"]: m for m in msgs}
    check(drained == "1", "%s: Postfix queue drained within the timeout (%ss after the last message)"
          % (name, waited))

    # --- what the sink answered ----------------------------------------
    journal = [json.loads(l) for l in open(os.path.join(work, "journal.ndjson")) if l.strip()]
    for j in journal:
        j["t"] = jtime(j["time"])
    journal.sort(key=lambda j: j["t"])
    check(all(j["outcome"] != "aborted" for j in journal), "%s: sink saw no aborted transactions" % name,
          [j for j in journal if j["outcome"] == "aborted"][:3])
    per_msg = collections.defaultdict(list)       # data_end / rcpt replies per test message
    mail_refusals = [j for j in journal if j["stage"] == "mail"]
    for j in journal:
        if j["stage"] != "mail" and j["message_id"] in by_mid:
            per_msg[j["message_id"]].append(j)

    # --- the maillog -----------------------------------------------------
    log_lines = open(os.path.join(work, "maillog"), encoding="utf-8", errors="replace").read().splitlines()
    # every Message-ID cleanup logged: a short queue id can come back
    # minutes later for another message, so qid_mid alone may lose one
    problems, qid_mid, statuses, expired, seen_mids = [], {}, [], set(), set()
    for raw in log_lines:
        m = LINE.match(raw)
        if not m:
            problems.append("unparsed: " + raw)
            continue
        tag, prog, text = m.group(3), m.group(4), m.group(6)
        if re.match(r"^(warning|fatal|panic|error):", text):
            problems.append(raw)
        mm = re.match(r"^([0-9A-Za-z]+): message-id=(<[^>]*>)", text)
        if mm and prog == "cleanup":
            qid_mid[mm.group(1)] = mm.group(2)
            seen_mids.add(mm.group(2))
        ms = STATUS.match(text)
        if ms:
            statuses.append({"route": "%s/%s" % (tag, prog), "qid": ms.group(1), "rcpt": ms.group(2).lower(),
                             "relay": ms.group(3), "dsn": ms.group(4), "status": ms.group(5),
                             "text": ms.group(6)})
        me = re.match(r"^([0-9A-Za-z]+): from=<[^>]*>, status=expired, returned to sender$", text)
        if me:  # the message the queue id names now, before it can be reused
            expired.add(qid_mid.get(me.group(1)))
    check(not problems, "%s: every maillog line parses and none is a warning/fatal/panic" % name,
          "\n".join(problems[:5]))
    mids = seen_mids
    missing = [m["i"] for m in msgs if m["mid"] not in mids]
    check(not missing, "%s: Postfix accepted all %d submitted messages (cleanup logged each Message-ID)"
          % (name, len(msgs)), missing[:10])
    test_st = [s for s in statuses if s["rcpt"] in by_rcpt]
    for s in test_st:
        s["msg"] = by_rcpt[s["rcpt"]]
    want_route = lambda m: ROUTES[m["local"]] if m["netease"] else "postfix/smtp"
    bad = [(s["rcpt"], s["msg"]["sender"], s["route"]) for s in test_st if s["route"] != want_route(s["msg"])]
    check(test_st and not bad, "%s: Netease mail of news@ senders is logged by postfix-cn/smtp, of info@ "
          "senders by postfix/smtp (both routes carry every sender domain); qq.com by postfix/smtp" % name,
          bad[:5])
    routes_used = collections.Counter((s["msg"]["sender_domain"], s["route"]) for s in test_st
                                      if s["msg"]["netease"])
    check(all(routes_used[(d, r)] > 0 for d in SENDER_DOMAINS for r in ROUTES.values()),
          "%s: every sender domain has Netease attempts on both routes" % name, dict(routes_used))
    # One status line per sink verdict: data_end/rcpt lines per recipient, mail
    # refusals per transaction (one recipient per message here).
    sink_n = sum(1 for j in journal if j["stage"] != "mail" and j["recipient"] and j["recipient"].lower()
                 in by_rcpt) + sum(1 for j in mail_refusals if j["mail_from"] in {m["sender"] for m in msgs})
    check(len(test_st) == sink_n, "%s: one maillog status line per sink verdict (%d)" % (name, sink_n),
          "maillog %d, sink %d" % (len(test_st), sink_n))
    nfinal = collections.Counter()
    for s in test_st:
        nfinal[s["rcpt"]] += s["status"] == "sent"
    expired_mids = expired

    def attempts(m):
        return [s for s in test_st if s["rcpt"] == m["rcpt"]]

    net = [m for m in msgs if m["netease"]]
    qq = [m for m in msgs if not m["netease"]]
    ok_first = lambda m: [x["status"] for x in attempts(m)] == ["sent"]
    check(all(ok_first(m) for m in qq), "%s: every qq.com message (%d) was accepted on the first attempt"
          % (name, len(qq)), [m["rcpt"] for m in qq if not ok_first(m)][:5])

    # --- the injected fault, as the sink and the maillog saw it ---------
    if scenario == "window":
        f0, f1 = timing["fault_from"], timing["fault_until"]
        net_data = [j for j in journal if j["stage"] == "data_end" and j["recipient"]
                    and j["recipient"].split("@")[1] in NETEASE and j["recipient"].lower() in by_rcpt]
        # (the journal's time is taken just after the sink's decision: ignore
        # the half second around each edge)
        wrong = [(j["time"], j["code"]) for j in net_data if (f0 <= j["t"] < f1) != (j["code"] == 451)
                 and abs(j["t"] - f0) > 0.5 and abs(j["t"] - f1) > 0.5]
        check(net_data and not wrong, "%s: sink answered 451 4.3.2 after DATA to every Netease attempt "
              "between %s and %s UTC, 250 to every other" % (name, utc(f0), utc(f1)), wrong[:5])
        hit = {j["message_id"] for j in net_data if j["code"] == 451}
        senders = {by_mid[x]["sender_domain"] for x in hit if x in by_mid}
        tpls = {by_mid[x]["template"] for x in hit if x in by_mid}
        check(len(hit) >= 20 and len(senders) == len(SENDER_DOMAINS) and len(tpls) == len(TEMPLATES),
              "%s: %d Netease messages deferred in the window, from %d sender domains and %d templates"
              % (name, len(hit), len(senders), len(tpls)))
        undelivered = [m["rcpt"] for m in net if nfinal[m["rcpt"]] != 1]
        check(not undelivered and not expired, "%s: every Netease recipient was delivered in the end "
              "(the retries got through), none expired" % name, undelivered[:5])
        nd = [s for s in test_st if s["status"] == "deferred"]
        check(nd and all(s["dsn"] == "4.3.2" and s["text"].endswith("(in reply to end of DATA command)")
                         for s in nd),
              "%s: %d deferrals, all logged as 4.3.2 'in reply to end of DATA command'" % (name, len(nd)))
        b = timing["bucket"]
        outside = [j for j in net_data if not b <= j["t"] < b + SLOT]
        check(len(outside) >= 20 and all(j["code"] == 250 for j in outside),
              "%s: %d clean Netease attempts outside the window's five-minute bucket %s-%s UTC"
              % (name, len(outside), utc(b), utc(b + SLOT)))
    elif scenario == "template":
        bad_net = [m for m in net if m["template"] == BAD_TEMPLATE]
        dist = collections.Counter((m["sender_domain"], ROUTES[m["local"]]) for m in bad_net)
        check(len(bad_net) >= 15 and len({d for d, _ in dist}) == len(SENDER_DOMAINS)
              and len({r for _, r in dist}) == 2,
              "%s: %d of %d Netease messages carry %s, spread over %d sender domains and both routes"
              % (name, len(bad_net), len(net), BAD_TEMPLATE, len({d for d, _ in dist})), dict(dist))
        wrong = []
        for m in net:
            codes = [j["code"] for j in per_msg.get(m["mid"], [])]
            want_bad = m["template"] == BAD_TEMPLATE
            if (want_bad and (len(codes) < 3 or set(codes) != {451})) or (not want_bad and codes != [250]):
                wrong.append((m["i"], m["template"], codes))
        check(not wrong, "%s: sink answered 451 4.3.2 after DATA to every attempt of every Netease %s "
              "message, 250 to the first attempt of every other" % (name, BAD_TEMPLATE), wrong[:5])
        exp_missing = [m["i"] for m in bad_net if m["mid"] not in expired_mids]
        check(not exp_missing, "%s: every Netease %s message expired after retrying" % (name, BAD_TEMPLATE),
              exp_missing[:10])
        qbad = [m for m in qq if m["template"] == BAD_TEMPLATE]
        check(qbad, "%s: %d qq.com %s messages were accepted (the fault is Netease's)"
              % (name, len(qbad), BAD_TEMPLATE))
    elif scenario == "route":
        cn = [m for m in net if m["local"] == "news"]
        plain = [m for m in net if m["local"] == "info"]
        helos = collections.Counter((j["helo"], j["stage"], j["code"]) for j in journal
                                    if j["mail_from"] in {m["sender"] for m in msgs})
        check(helos and all((h == CN_HELO) == (st == "mail" and c == 451) for (h, st, c) in helos),
              "%s: sink refused MAIL FROM with 451 4.3.2 in every session that said HELO %s, and only there"
              % (name, CN_HELO), dict(helos))
        cn_st = [s for s in test_st if s["route"] == "postfix-cn/smtp"]
        check(cn_st and all(s["status"] == "deferred" and s["dsn"] == "4.3.2" and
                            s["text"].endswith("(in reply to MAIL FROM command)") for s in cn_st),
              "%s: all %d postfix-cn/smtp attempts were deferred 4.3.2 'in reply to MAIL FROM command'"
              % (name, len(cn_st)))
        exp_missing = [m["i"] for m in cn if m["mid"] not in expired_mids]
        check(cn and not exp_missing, "%s: all %d Netease messages on the smtp-cn route expired"
              % (name, len(cn)), exp_missing[:10])
        check(all(ok_first(m) for m in plain), "%s: all %d Netease messages on the plain smtp route were "
              "accepted on the first attempt" % (name, len(plain)),
              [m["rcpt"] for m in plain if not ok_first(m)][:5])

    # --- mailtriage --------------------------------------------------------
    try:
        p = subprocess.run([mailtriage, "diagnose", "--json", os.path.join(work, "maillog")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        rc, out, err = p.returncode, p.stdout, p.stderr.decode(errors="replace")
    except OSError as e:
        rc, out, err = -1, b"", str(e)
    with open(os.path.join(work, "diagnose.json"), "wb") as f:
        f.write(out)
    check(rc == 0, "%s: mailtriage diagnose --json exits 0" % name, "rc=%d %s" % (rc, err))
    try:
        d = json.loads(out)
    except ValueError as e:
        d = {}
        check(False, "%s: diagnose output is JSON" % name, e)
    findings = d.get("findings") or []
    for k, x in enumerate(findings[:4]):
        print("# %s: findings[%d]: cause=%s provider=%s scope=%s pattern=%s band=%s confidence=%s"
              % (name, k, x.get("cause"), x.get("provider"), json.dumps(x.get("scope"), sort_keys=True),
                 x.get("pattern"), x.get("band"), x.get("confidence")))
    if not findings:
        print("# %s: no findings" % name)
    f = findings[0] if findings else {}
    want = {"window": ("receiver_transient", "netease", {}),
            "template": ("content", "netease", {"message_template_id": BAD_TEMPLATE}),
            "route": ("sender_reputation", "netease", {"route": "postfix-cn/smtp"})}[scenario]
    got = (f.get("cause"), f.get("provider"), f.get("scope"))
    check(got == want, "%s: findings[0] is cause=%s provider=%s scope=%s"
          % (name, want[0], want[1], json.dumps(want[2])),
          "got cause=%s provider=%s scope=%s" % (got[0], got[1], json.dumps(got[2])))
    if scenario == "window":
        ev = " ".join(f.get("evidence") or [])
        check("window " in ev and "no cohort stands out" in ev,
              "%s: findings[0] was found as a time window (not as failures 'spread thin')" % name,
              "\n".join(f.get("evidence") or []))
    if scenario == "route":
        check(f.get("pattern") == "persistent", "%s: findings[0].pattern is persistent" % name,
              "got %r" % f.get("pattern"))
    print("%d passed, %d failed" % (check.passed, check.failed))
    return 1 if check.failed else 0


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, scenario, work = argv[0], argv[1], argv[2]
    if cmd == "plan":
        cmd_plan(scenario, work)
    elif cmd == "submit":
        cmd_submit(scenario, work, argv[3])
    elif cmd == "check":
        return cmd_check(scenario, work, argv[3], argv[4], argv[5])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
