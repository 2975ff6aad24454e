"""Detection engine throughput: nocsoc's streaming engine vs pySigma's SQLite backend (Zircolite-style).

Same events, same rules, same run: SigmaHQ's linux, web and network rules that nocsoc ingests plus
the built-in pack. The reference loads the events into one SQLite table (a column per field, as
Zircolite does) and runs every converted rule's query over it. Rules the backend cannot convert
(keyword rules) and correlations it cannot run in bounded time (temporal_ordered) are counted, not
timed. Events/s per core: both run on one thread.

Run: `python -m bench` (all benches) or `python bench/bench_detections.py [--events N]`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.sigma_sqlite import load_events

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NOCSOC_SHARED_DIR") or ROOT.parent / "shared")
SIGMAHQ = SHARED / "sigmahq" / "rules"
QUERY_BUDGET_S = 20.0  # a reference query running longer is abandoned and reported
N_EVENTS = 60_000


USERS = ["noc", "deploy", "backup", "lan", "minh", "hoa"]
PATHS = ["/", "/dichvucong/thu-tuc", "/tra-cuu?ma_ho_so=000.00.12.H10-261125-{}", "/static/css/main.css",
         "/api/status", "/dang-nhap", "/tin-tuc/{}"]
ATTACKS = ["/../../../../etc/passwd", "/tra-cuu?id=1%27%20or%20%271%27=%271", "/index.php?x=${{jndi:ldap://a/b}}",
           "/.git/config", "/wp-login.php"]
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
          "Zabbix", "curl/8.4.0"]
COMMANDS = ['"ls" "-la" "/var/www"', '"systemctl" "status" "nginx"', '"crontab" "-l"', '"bash" "-c" "id"',
            '"chmod" "+x" "/tmp/x"', '"cat" "/etc/hostname"']
CISCO = [
    "%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: {user}] [Source: 203.0.113.{n}] [localport: 22] "
    "[Reason: Login Authentication Failed] at 01:02:03 ICT Wed Nov 25 2026",
    "%LINK-3-UPDOWN: Interface GigabitEthernet0/{n}, changed state to {state}",
    "%SYS-5-CONFIG_I: Configured from console by {user} on vty0 (10.0.0.10)",
    "%PARSER-5-CFGLOG_LOGGEDCMD: User:noc  logged command:{cmd}",
]


def make_lines(n: int, seed: int = 7) -> list[str]:
    """A day at the provincial data center: mostly benign, with brute force, scans, web attacks.
    Mix: 30% sshd, 30% web access, 15% auditd, 15% iptables, 10% Cisco."""
    rnd = random.Random(seed)
    out: list[str] = []
    t = 0
    serial = 1000
    for i in range(n):
        t += rnd.randint(0, 2)
        hh, mm, ss = (t // 3600) % 24, (t // 60) % 60, t % 60
        stamp = f"Nov 25 {hh:02d}:{mm:02d}:{ss:02d}"
        r = rnd.random()
        if r < 0.30:
            src = (f"203.0.113.{rnd.randint(1, 40)}" if rnd.random() < 0.5
                   else f"10.20.{rnd.randint(0, 9)}.{rnd.randint(2, 250)}")
            u = rnd.choice([*USERS, "root", "admin", "oracle"])
            port = rnd.randint(30000, 65000)
            msg = (f"Failed password for {u} from {src} port {port} ssh2" if rnd.random() < 0.7
                   else f"Accepted publickey for {u} from {src} port {port} ssh2: ED25519 SHA256:x")
            out.append(f"{stamp} portal-web{rnd.randint(1, 3)} sshd[{rnd.randint(100, 9999)}]: {msg}")
        elif r < 0.60:
            ip = f"198.51.100.{rnd.randint(1, 200)}"
            p = rnd.choice(ATTACKS) if rnd.random() < 0.05 else rnd.choice(PATHS).format(rnd.randint(1, 999))
            ua = "sqlmap/1.7" if rnd.random() < 0.01 else rnd.choice(AGENTS)
            out.append(f'{ip} - - [25/Nov/2026:{hh:02d}:{mm:02d}:{ss:02d} +0700] "GET {p} HTTP/1.1" '
                       f'{rnd.choice([200, 200, 200, 304, 404])} {rnd.randint(0, 20000)} "-" "{ua}"')
        elif r < 0.75:
            serial += 1
            ts = f"{1795568400 + t}.{rnd.randint(0, 999):03d}:{serial}"
            if rnd.random() < 0.5:
                out.append(f"type=SYSCALL msg=audit({ts}): arch=c000003e syscall=59 success=yes exit=0 "
                           f"ppid=1 pid={rnd.randint(100, 9999)} auid=1000 uid=0 comm=\"bash\" "
                           f"exe=\"/usr/bin/bash\" key=\"exec\"")
            else:
                c = rnd.choice(COMMANDS)
                args = " ".join(f"a{k}={v}" for k, v in enumerate(c.split(" ")))
                out.append(f"type=EXECVE msg=audit({ts}): argc={c.count(chr(34)) // 2} {args}")
        elif r < 0.90:
            src = f"203.0.113.{rnd.randint(1, 60)}"
            act = "NOCSOC-DROP" if rnd.random() < 0.8 else "NOCSOC-ACCEPT"
            dpt = rnd.choice([22, 23, 80, 443, 3306, 8080, rnd.randint(1, 65535)])
            out.append(f"{stamp} fw-dc1 kernel: [{t}.000] {act} IN=eth0 OUT=eth1 SRC={src} "
                       f"DST=10.10.0.{rnd.randint(1, 20)} LEN=44 TOS=0x00 PREC=0x00 TTL=49 "
                       f"ID={rnd.randint(1, 65000)} PROTO=TCP SPT={rnd.randint(1024, 65000)} DPT={dpt} "
                       "WINDOW=1024 RES=0x00 SYN URGP=0")
        else:
            dev = rnd.choice(["core-dx1", "core-dx2", "dist-bl1", "dist-pl1", "dist-dp1"])
            k = rnd.random()
            tmpl = CISCO[0 if k < 0.4 else 1 if k < 0.7 else 2 if k < 0.85 else 3]
            cmd = rnd.choice(["show running-config", "no logging console", "interface Gi0/1"])
            body = tmpl.format(user=rnd.choice(USERS), n=rnd.randint(1, 9), state=rnd.choice(["down", "up"]),
                               cmd=cmd)
            out.append(f"<189>{i}: {dev}: {stamp}.001 ICT: {body}")
    return out


# SEKOIA's samples (../shared/log-samples) of the formats the logs issue added, and the program a
# syslog relay puts in front of the header-less bodies (None: complete lines as they are; "":
# the body carries its own `program[pid]: ` tag). The same reading as tests/collectors/logs.
SAMPLE_FORMATS: dict[str, str | None] = {
    "fortigate": None, "cisco-secure-firewall": None, "cisco-ios": None, "cisco-nx-os": None,
    "juniper-ngfw": "", "juniper-switches": "", "paloalto-ngfw": None, "sophos-firewall": None,
    "checkpoint": None, "openbsd-packet-filter": "filterlog", "netfilter": "kernel",
    "openssh": "sshd", "apache": None, "nginx": None, "microsoft-iis": None,
}
_HEADER = re.compile(r"^(?:<\d+>)?[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d \S+ [\w()./-]+(?:\[\d+\])?: ")


def sample_lines(n: int) -> list[str]:
    """The real lines of every new format's samples, in turn, until there are `n`: the mix
    with the new formats (empty when ../shared/log-samples is absent)."""
    import json

    base: list[str] = []
    for fmt, prog in SAMPLE_FORMATS.items():
        for f in sorted((SHARED / "log-samples" / "sekoia" / fmt).glob("*.json")):
            inp = json.loads(f.read_text(encoding="utf-8"))["input"]
            msg = str(inp["message"]).strip()
            log = inp.get("log")
            app = inp.get("log.syslog.appname") or (
                (log.get("syslog") or {}).get("appname") if isinstance(log, dict) else None)
            if app:
                msg = f"<38>Nov 25 01:02:03 host1 {app}: {msg}"
            elif prog == "":
                msg = f"<38>Nov 25 01:02:03 host1 {msg}"
            elif prog is not None and not _HEADER.match(msg):
                msg = f"<38>Nov 25 01:02:03 host1 {prog}[42]: {msg}"
            if "\n" not in msg:
                base.append(msg)
    return [base[i % len(base)] for i in range(n)] if base else []


def _rule_paths() -> list[Path]:
    return [SIGMAHQ / d for d in ("linux", "web", "network")]


ROUNDS = 5
# `python -m bench --quick`: the same code paths at sizes that take seconds (figures meaningless)
QUICK = {"N_EVENTS": 3_000, "ROUNDS": 1, "QUERY_BUDGET_S": 2.0}


def _engine_time(rs: Any, events: list[Any]) -> tuple[float, int]:
    """Median of 5 CPU-second runs of the streaming engine over the events (the machine is shared:
    the median is steadier than the best or the mean), and its detections. The runs' engines share
    the rule set's routes (`RuleSet.routes`), built in the first run."""
    from nocsoc.detections.engine import Engine

    times = []
    dets = 0
    for _ in range(ROUNDS):
        for ev in events:
            ev._low = None  # drop the per-event lowercase cache of the previous round
        engine = Engine(rs)
        t0 = time.process_time()
        process = engine.process
        n = 0
        for ev in events:
            n += len(process(ev))
        times.append(time.process_time() - t0)
        dets = n
    return statistics.median(times), dets


def _one_pass_time(rs: Any, lines: list[str]) -> tuple[float, int]:
    """Median CPU seconds of parsing each line and handing its events to the engine at once, in one
    pass, as `nocsoc detect` and the service do (no list of the whole run's events kept: kept, the
    cyclic collector walks them again and again), and the detections of the last run."""
    from nocsoc.collectors.logs.ruletest import parse_lines
    from nocsoc.detections.engine import Engine

    times = []
    dets = 0
    for _ in range(ROUNDS):
        engine = Engine(rs)
        process = engine.process
        t0 = time.process_time()
        n = 0
        for ev in parse_lines(lines):
            n += len(process(ev))
        times.append(time.process_time() - t0)
        dets = n
    return statistics.median(times), dets


def _per_parser(lines: list[str], events: list[Any]) -> str:
    """Where parsing goes: CPU us a line by the parser that took it (lines of one parser parsed
    alone, best of ROUNDS), the heaviest first, and each one's share of the mix's parse time."""
    from nocsoc.collectors.logs.parsers import LineParser
    from nocsoc.collectors.logs.ruletest import parse_lines

    by: dict[str, list[str]] = {}
    for line, ev in zip(lines, events, strict=False):
        by.setdefault(ev.parser, []).append(line)
    cost = {}
    for name, group in by.items():
        # one LineParser for the group's rounds, as a service keeps one: making one (~0.5 ms)
        # would be most of a small group's figure
        parser = LineParser(default_host="localhost")
        best = min(_cpu(lambda g=group, lp=parser: list(parse_lines(g, lp))) for _ in range(ROUNDS))
        cost[name] = best / len(group) * 1e6
    total = sum(cost[k] * len(v) for k, v in by.items())
    top = sorted(by, key=lambda k: -cost[k] * len(by[k]))
    return ", ".join(f"{k} {cost[k]:.1f} ({cost[k] * len(by[k]) / total:.0%})" for k in top[:9])


def _cpu(fn: Any) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def _nocsoc(lines: list[str]) -> dict[str, Any]:
    from nocsoc.collectors.logs.ruletest import parse_lines
    from nocsoc.detections.loader import load_rules

    rs = load_rules(_rule_paths(), include_builtin=True)
    parse_times = []
    events: list[Any] = []
    for _ in range(ROUNDS):
        # the last round's events freed first, as `detect` streams them: kept, the collector
        # walks them again in every full collection of this round (~1 us a line)
        events = []
        t0 = time.process_time()
        events = list(parse_lines(lines))
        parse_times.append(time.process_time() - t0)
    parse_s = statistics.median(parse_times)
    engine_s, dets = _engine_time(rs, events)
    one_pass_s, one_pass_dets = _one_pass_time(rs, lines)
    if one_pass_dets != dets:  # the same events in the same order: the same detections
        raise RuntimeError(f"one pass gave {one_pass_dets} detections, the stages {dets}")
    # one event a line here (no `message repeated`): the parser of each line is its event's
    per_parser = _per_parser(lines, events) if len(events) == len(lines) else ""
    return {"rules": len(rs.rules), "correlations": len(rs.correlations), "events": len(events),
            "parse_s": parse_s, "engine_s": engine_s, "one_pass_s": one_pass_s, "detections": dets,
            "ruleset": rs, "parsed": events,
            "per_parser": per_parser}


def _sqlite_reference(events: list[Any], ruleset: Any) -> dict[str, Any]:
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType

    db, insert_s = load_events(events, timestamp=True)
    backend = sqliteBackend()
    queries: list[tuple[str, str]] = []
    skipped: dict[str, int] = {}
    not_run: set[int] = set()  # pySigma objects the backend could not run
    rules = [r.rule for r in ruleset.rules] + list(ruleset.correlations)
    slow = "temporal_ordered (did not finish on 60k events in 10 min)"
    for r in rules:
        if isinstance(r, SigmaCorrelationRule) and r.type is SigmaCorrelationType.TEMPORAL_ORDERED:
            skipped[slow] = skipped.get(slow, 0) + 1
            not_run.add(id(r))
            continue
        try:
            if isinstance(r, SigmaCorrelationRule):
                col = SigmaCollection([*(ref.rule for ref in r.rules or []), r])
                col.resolve_rule_references()
                qs = backend.convert(col)
                q = qs[-1] if qs else None
            else:
                qs = backend.convert(SigmaCollection([r]))
                q = qs[0] if qs else None
        except Exception as exc:
            text = str(exc).lower()
            key = type(exc).__name__ + (": keywords" if "keyword" in text or "value-only" in text else "")
            skipped[key] = skipped.get(key, 0) + 1
            not_run.add(id(r))
            continue
        if q:
            queries.append((r.title, q))
    # columns the rules name but no event has: add them (NULL) so every query runs, as Zircolite
    # would on a log source that simply lacks the field
    for _title, q in queries:
        for _ in range(50):
            try:
                db.execute("EXPLAIN " + q)
                break
            except sqlite3.OperationalError as exc:
                m = re.match(r"no such column: (.+)", str(exc))
                if not m:
                    break
                db.execute(f'ALTER TABLE logs ADD COLUMN "{m[1].strip("`")}" TEXT COLLATE NOCASE')
    matches = 0
    abandoned = 0
    t0 = time.process_time()
    for _title, q in queries:
        deadline = time.perf_counter() + QUERY_BUDGET_S
        def over(d: float = deadline) -> int:
            return 1 if time.perf_counter() > d else 0

        db.set_progress_handler(over, 100000)
        try:
            matches += len(db.execute(q).fetchall())
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                abandoned += 1
            else:
                skipped["query error"] = skipped.get("query error", 0) + 1
        finally:
            db.set_progress_handler(None, 0)
    query_s = time.process_time() - t0
    db.close()
    return {"not_run": not_run, "queries": len(queries), "skipped": skipped, "abandoned": abandoned,
            "insert_s": insert_s,
            "query_s": query_s, "matches": matches}


def run(n_events: int | None = None) -> dict[str, Any]:
    from bench import Skipped

    if not SIGMAHQ.is_dir():
        raise Skipped(f"{SIGMAHQ} not present (set NOCSOC_SHARED_DIR)")
    from nocsoc.detections.loader import RuleSet

    lines = make_lines(n_events or N_EVENTS)
    ours = _nocsoc(lines)
    ref = _sqlite_reference(ours["parsed"], ours["ruleset"])
    n = ours["events"]
    full = ours["ruleset"]
    # apples to apples: our engine with only the rules the SQLite backend could run
    same = RuleSet([r for r in full.rules if id(r.rule) not in ref["not_run"]],
                   [c for c in full.correlations if id(c) not in ref["not_run"]])
    same_s, _ = _engine_time(same, ours["parsed"])
    sqlite_eps = n / (ref["insert_s"] + ref["query_s"])
    sqlite_q_eps = n / ref["query_s"]
    # the mix with the new formats: SEKOIA's real samples of each, repeated
    new_lines = sample_lines(n_events or N_EVENTS)
    mix2 = _nocsoc(new_lines) if new_lines else None
    ref2 = _sqlite_reference(mix2["parsed"], mix2["ruleset"]) if mix2 else None

    def row(what: str, rules: int, eps: float, goal: int = 100_000) -> dict[str, Any]:
        met = eps >= goal and eps / sqlite_eps >= 10
        return {"engine": what, "rules": rules, "events/s per core": round(eps),
                "x SQLite (load + query)": round(eps / sqlite_eps, 1),
                "x SQLite (query only)": round(eps / sqlite_q_eps, 1),
                "goal": f">= {goal // 1000}k/s, >= 10x: {'met' if met else 'not met'}"}

    all_rules = ours["rules"] + ours["correlations"]
    rows = [
        row("nocsoc streaming engine, all rules", all_rules, n / ours["engine_s"]),
        row("nocsoc streaming engine, the rules SQLite can run", len(same.rules) + len(same.correlations),
            n / same_s),
        row("nocsoc parse + engine, all rules (the stages' sum)", all_rules,
            n / (ours["engine_s"] + ours["parse_s"]), 150_000),
        row("nocsoc parse + engine, all rules, in one pass (as detect and the service run)", all_rules,
            n / ours["one_pass_s"], 150_000),
        {"engine": "pySigma SQLite backend, load + query (reference)", "rules": ref["queries"],
         "events/s per core": round(sqlite_eps), "x SQLite (load + query)": 1.0,
         "x SQLite (query only)": round(sqlite_eps / sqlite_q_eps, 2), "goal": ""},
        {"engine": "pySigma SQLite backend, query only", "rules": ref["queries"],
         "events/s per core": round(sqlite_q_eps),
         "x SQLite (load + query)": round(sqlite_q_eps / sqlite_eps, 2),
         "x SQLite (query only)": 1.0, "goal": ""},
    ]
    if mix2 is not None and ref2 is not None:
        n2 = mix2["events"]
        sq2 = n2 / (ref2["insert_s"] + ref2["query_s"])
        for how, secs in (("the stages' sum", mix2["engine_s"] + mix2["parse_s"]),
                          ("in one pass", mix2["one_pass_s"])):
            eps2 = n2 / secs
            met2 = eps2 >= 150_000 and eps2 / sq2 >= 10
            rows.append({"engine": f"mix of the new formats: nocsoc parse + engine, all rules ({how})",
                         "rules": all_rules, "events/s per core": round(eps2),
                         "x SQLite (load + query)": round(eps2 / sq2, 1),
                         "x SQLite (query only)": round(eps2 * ref2["query_s"] / n2, 1),
                         "goal": f">= 150k/s, >= 10x: {'met' if met2 else 'not met'}"})
        rows.append({"engine": "mix of the new formats: pySigma SQLite backend, load + query",
                     "rules": ref2["queries"], "events/s per core": round(sq2),
                     "x SQLite (load + query)": 1.0,
                     "x SQLite (query only)": round(ref2["query_s"] / (ref2["insert_s"] + ref2["query_s"]),
                                                    2),
                     "goal": ""})
    skipped = ", ".join(f"{v} {k}" for k, v in ref["skipped"].items())
    from nocsoc.detections.loader import builtin_rules_dir
    builtin = sum(1 for r in full.rules if r.path.startswith(str(builtin_rules_dir())))
    return {
        "title": "Detections: streaming Sigma engine vs pySigma's SQLite backend (Zircolite-style)",
        "description": (__doc__ or "").split("\n\n")[1],
        "rows": rows,
        "notes": [
            f"{n:,} synthetic events (30% sshd, 30% web access, 15% auditd, 15% iptables, 10% Cisco) made "
            f"by `make_lines`; rules: {ours['rules']} detection rules ({ours['rules'] - builtin} SigmaHQ "
            f"linux/web/network rules whose logsource nocsoc ingests + {builtin} built-in) and "
            f"{ours['correlations']} built-in correlations.",
            f"Engine: {ours['detections']:,} detections; parsing alone {round(n / ours['parse_s']):,} "
            f"events/s. CPU time of one thread (time.process_time), median of {ROUNDS} runs for the "
            "engine, for parsing and for the one pass. The stages' sum parses the whole run into a "
            "list, then runs the engine over it; the one pass hands each line's events to the engine "
            "as it is parsed, as `nocsoc detect` and the service do (the same detections, checked). "
            "Each run is a new engine; the engines of one rule set share "
            "its routes (the rules an event's logsource meets and their gates), as a service's "
            "engines do: the first run builds them.",
            f"Parse CPU us a line by parser (share of the mix's parse time): {ours['per_parser']}; "
            f"new-formats mix: {mix2['per_parser'] if mix2 else 'not run'}. The RFC 3164 header, the "
            "common access-log line, the key=value, CEF extension and netfilter/auditd splits run "
            "in C where the extension is built (nocsoc/collectors/logs/_logfast.c; the regexes "
            "stay the reference and the fallback).",
            f"SQLite: {ref['queries']} queries run, {ref['matches']:,} rows returned; not run: {skipped}; "
            f"{ref['abandoned']} abandoned after {QUERY_BUDGET_S:.0f} s. Load = building the table of "
            f"{n:,} rows ({ref['insert_s']:.2f} s), query = running every query ({ref['query_s']:.2f} s).",
            *([f"Mix of the new formats: {mix2['events']:,} events, the {len(set(new_lines))} real lines of "
               f"SEKOIA's samples of {', '.join(SAMPLE_FORMATS)} (../shared/log-samples; a syslog header "
               "added where the sample is a bare body, as the golden tests do) in turn; parsing alone "
               f"{round(mix2['events'] / mix2['parse_s']):,} events/s, engine alone "
               f"{round(mix2['events'] / mix2['engine_s']):,} events/s, {mix2['detections']:,} detections; "
               f"SQLite: {ref2['queries']} queries, {ref2['matches']:,} rows."]
              if mix2 is not None and ref2 is not None else []),
            "Keyword rules (54 SigmaHQ linux/network rules search the raw line), which the SQLite "
            "backend cannot run at all, cost the engine little: every rule of a logsource is gated by "
            "ONE Aho-Corasick scan (ahocorasick_rs) per event over the needles of all of them "
            "(keywords and field values), and only the rules one of whose needles occurs run.",
        ],
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench import print_result

    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=N_EVENTS)
    a = ap.parse_args()
    result = run(a.events)
    print_result(result)
