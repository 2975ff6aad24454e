"""FortiGate and Check Point CEF lines read by the reader in one walk (_logfast_fw.c
fw_fortigate_cef_span, fw_checkpoint_cef_span: the extension's pairs mapped into the fields
without the extension's dict) give exactly the events the pure-Python path gives: SEKOIA's
samples of both, generated lines with their keys all distinct and with keys twice (the dict keeps
the first place and the last value), quoted values, escapes (`\\=`, `\\n` at a value's end, a
lone backslash), `=` inside values and keys glued to other characters (no key there), more pairs
than the walk holds (the dict's path), prefixed keys new to the name cache, with and without the
`CEF:` label, then mutations of all of them. And Check Point's quoted fw1 export file lines, which
the reader reads by checkpoint_fw1."""

from __future__ import annotations

import random

import pytest

from nocsoc.collectors.logs.parsers import LineParser, fortigate
from tests.collectors.logs import test_logfast_fw as tf
from tests.collectors.logs.test_logfast_reader import compare, compare_parse_lines
from tests.scale import cases

pytest.importorskip("nocsoc.collectors.logs._logfast", reason="C accelerator not built")

FG_KEYS = [*tf.FG_CEF_KEYS, "FTNTFGTsrcip", "FTNTFGTdstip", "FTNTFGTaction", "FortinetFortiGatelogid",
           "ad.srcport", "FTNTFGTproto", "a[0]", "x-y", "k.v", "cs1Label", "rt"]
CP_KEYS = [*tf.checkpoint_cef_keys(), "ifname", "rule_name", "user_agent", "loguid", "origin", "product",
           "layer_name", "cs4", "cs4Label", "smartdefense_profile", "a[0]", "x-y", "k.v"]
VALUES = ["1.2.3.4", "10.0.0.1", "443", "6", "tcp", "accept", "deny", "Accept", "Drop", "traffic:forward",
          "utm:webfilter", '"quoted value"', '""', '"', '"a\\"', "a b c", "a=b", "q?x=1&y=2", "k=", "=v",
          "a\\|b\\nc\\rd\\\\e", "\\", "x\\=y z=w", "  ", "", "v\\n", "\\r", "jdoe (John Doe)", "N/A",
          "1741260033527521837", "+0100", "2024-01-02", "01:02:03"]
HEADS = {"fg": ["CEF:0|Fortinet|Fortigate|v6.0.3|{sig}|{name}|3|",
                "0|Fortinet|Fortigate|v7.2.10|{sig}|{name}|2|",
                "CEF: 0|Fortinet|FortiGate|7.2|{sig}|{name}|4|"],
         "cp": ["CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|{sig}|{name}|Unknown|",
                "0|Check Point|SmartDefense|Check Point|{sig}|{name}|Medium|",
                "CEF: 0|Check Point|HTTPS Inspection|Check Point|{sig}|{name}|Unknown|",
                "CEF:0||Check Point|URL Filtering|R81|{sig}|{name}|5|"]}


def _line(rnd: random.Random, vendor: str, distinct: bool, n: int) -> str:
    pool = FG_KEYS if vendor == "fg" else CP_KEYS
    if distinct:
        pool = pool + [f"FTNTFGTnew{rnd.randint(0, 10**6)}" for _ in range(n)]
        keys = rnd.sample(pool, min(n, len(pool)))
    else:
        keys = [rnd.choice(pool) for _ in range(n)]
    sep = [rnd.choice([" "] * 30 + ["  ", "x", '"', "/"]) for _ in keys]
    vals = [rnd.choice(VALUES) if rnd.random() > 0.005 else rnd.choice(["é", "a\tb", "\t"]) for _ in keys]
    ext = "".join(f"{k}={v}{s}" for k, v, s in zip(keys, vals, sep, strict=True))
    sig = rnd.choice(["00013", "0100032001", "Log", "IPS", "13"])
    name = rnd.choice(["traffic:forward close", "utm:virus infected", "Log", "https", "noColon", "a:b:c d"])
    head = rnd.choice(HEADS[vendor]).format(sig=sig, name=name)
    return (head + ext).rstrip()


def _lines(rnd: random.Random, n: int) -> list[str]:
    return [_line(rnd, rnd.choice(["fg", "cp"]), rnd.random() < 0.6, rnd.randint(0, 40)) for _ in range(n)]


def test_samples_read_the_same_and_are_taken() -> None:
    samples = [m.strip() for fmt in ("fortigate", "checkpoint") for m in tf._samples(fmt)
               if "|Fortinet|" in m[:40] or "|Check Point|" in m[:40]]
    assert len(samples) >= 45  # (32 FortiGate, 16 Check Point)
    assert compare(samples) >= 40  # (as file lines: the reader reads network messages elsewhere)
    compare_parse_lines(samples)


def test_distinct_and_repeated_keys_read_the_same() -> None:
    rnd = random.Random(73)
    lines = _lines(rnd, cases(2_000))
    assert compare(lines) > cases(700)  # (the rest: values or types the twins leave to Python)
    compare_parse_lines(lines[:500])


def test_mutated_lines_read_the_same() -> None:
    rnd = random.Random(79)
    lines = _lines(rnd, cases(300))
    muts = [tf.mutate(rnd, rnd.choice(lines)) for _ in range(cases(1_500))]
    compare(muts)
    compare_parse_lines(muts)


def test_many_pairs_read_the_same() -> None:
    """Past the walk's 512 distinct keys the dict's path reads the line: the same event either way."""
    pairs = "src=10.0.0.1 dst=10.0.0.2 act=deny "
    heads = ["CEF:0|Fortinet|Fortigate|v6.0.3|00013|traffic:forward close|3|" + pairs,
             "CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|Log|Unknown|" + pairs]
    lines = []
    for head in heads:
        for n in (0, 1, 508, 509, 510, 600):  # (with the head's 3: around 512)
            lines.append((head + " ".join(f"FTNTFGTx{i}=v{i % 7}" for i in range(n))).rstrip())
        # (keys twice: 300 distinct ones)
        lines.append(head + " ".join(f"FTNTFGTx{i % 300}=v{i}" for i in range(900)))
    assert compare(lines) >= len(lines) - 2


def test_a_repeated_key_keeps_its_first_place_and_last_value() -> None:
    line = ("CEF:0|Fortinet|Fortigate|v6.0.3|00013|traffic:forward close|3|src=10.0.0.1 "
            "FTNTFGTsrcip=10.0.0.9 act=accept src=10.0.0.2 dst=10.0.0.3 act=deny")
    assert compare([line]) == 1
    got = fortigate.parse_fortigate(line)
    assert got is not None
    assert got.fields["srcip"] == got.fields["src_ip"] == "10.0.0.2"
    assert got.fields["action"] == "deny" and got.fields["blocked"] == "true"


def test_checkpoint_fw1_file_lines_read_the_same() -> None:
    """Check Point's quoted fw1 export file lines (`"num" "date" ... "Log" ...`: its parser first
    for `"`) read by checkpoint_fw1 in the reader: the samples, the twin test's generated lines,
    near misses (`Log` past 120 characters, fewer columns, a space first) and mutations."""
    rnd = random.Random(83)
    samples = [m.strip() for m in tf._samples("checkpoint") if m.strip()[:1] == '"']
    lines = samples + [tf._cp_fw1_line(rnd) for _ in range(cases(1_500))]
    near = ['"x" ' * 40 + '"Log" "Accept"', '"1" "2" "3" "eth0" "o" "Log" "Drop"', " " + lines[0],
            lines[0] + ' origin:"1.2.3.4" action:"Accept"', lines[0].replace('"Log"', '"Log" "')]
    assert compare(lines + near) > cases(400)  # (the rest: text the twin leaves to Python)
    compare_parse_lines(lines + near)
    muts = [tf.mutate(rnd, rnd.choice(lines)) for _ in range(cases(1_500))]
    compare(muts)
    compare_parse_lines(muts)
    read = LineParser(default_host="h").fast()
    assert read is not None and len(samples) == 3
    assert all(read(line, "", "file", False) is not None for line in samples)
