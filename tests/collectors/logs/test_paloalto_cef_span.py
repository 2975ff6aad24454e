"""Palo Alto CEF lines read by the reader in one walk (_logfast_fw.c fw_paloalto_cef_span: the
extension's pairs mapped into the fields without the extension's dict) give exactly the events
the pure-Python path gives: lines whose keys are all distinct (the one-walk path), lines with a
key twice (the dict's path: it keeps the last value at the first one's place), more pairs than
the walk holds, `=` inside values and keys glued to other characters (no key there), escapes,
THREAT url lines with and without a `request`, `PanOS*` keys new to the name cache."""

from __future__ import annotations

import random

import pytest

from nocsoc.collectors.logs.parsers import paloalto
from tests.collectors.logs import test_logfast_fw as tf
from tests.collectors.logs.test_logfast_reader import compare, compare_parse_lines
from tests.scale import cases

pytest.importorskip("nocsoc.collectors.logs._logfast", reason="C accelerator not built")

KEYS = [*paloalto._CEF_MAP, "PanOSSourceUUID", "PanOSDeviceSN", "PanOS", "request", "cat", "rt",
        "log_type", "panos.DeviceSN", "src_ip", "description", "misc", "cs1Label", "a[0]", "x-y", "k.v"]
VALUES = [*tf.PA_ANY, "a=b", "q?x=1&y=2", "k=", "=v", "a\\|b\\nc\\rd\\\\e", "\\", "x\\=y z=w", "  "]


def _line(rnd: random.Random, distinct: bool, n: int, odd: bool = True) -> str:
    sig = rnd.choice(["TRAFFIC", "THREAT", "SYSTEM", "CONFIG", "GLOBALPROTECT", "DNS", "Threat"])
    name = rnd.choice(["end", "url", "url", "file", "auth"])
    if distinct:
        pool = KEYS + [f"PanOSNew{rnd.randint(0, 10**6)}" for _ in range(n)]
        keys = rnd.sample(pool, min(n, len(pool)))
    else:
        keys = [rnd.choice(KEYS) for _ in range(n)]
    sep = [rnd.choice([" "] * 12 + ["  ", "\t", "x", "\"", "/"]) if odd else " " for _ in keys]
    ext = "".join(f"{k}={rnd.choice(VALUES)}{s}" for k, s in zip(keys, sep, strict=True))
    return f"CEF:0|Palo Alto Networks|LF|2.0|{sig}|{name}|3|{ext.rstrip()}"


def test_distinct_and_repeated_keys_read_the_same() -> None:
    rnd = random.Random(61)
    lines = [_line(rnd, rnd.random() < 0.6, rnd.randint(0, 40)) for _ in range(cases(2_000))]
    assert compare(lines) > cases(400)
    compare_parse_lines(lines[:500])


def test_many_pairs_read_the_same() -> None:
    """Past the walk's 512 pairs the dict's path reads the line: the same event either way."""
    head = "CEF:0|Palo Alto Networks|LF|2.0|TRAFFIC|end|3|src=10.0.0.1 dst=10.0.0.2 act=deny "
    counts = (0, 1, 509, 510, 511, 600)  # (with the head's 3: around 512)
    lines = [(head + " ".join(f"PanOSX{i}=v{i % 7}" for i in range(n))).rstrip() for n in counts]
    lines.append(head + " ".join(f"PanOSX{i % 300}=v{i}" for i in range(600)))  # and keys twice
    assert compare(lines) == len(lines)


def test_threat_url_request_is_the_uri() -> None:
    line = ("CEF:0|Palo Alto Networks|LF|2.0|THREAT|url|3|src=10.0.0.1 dst=10.0.0.2 "
            "request=http://a.example/x?y=1 act=alert")
    assert compare([line]) == 1
    got = paloalto.parse_paloalto(line)
    assert got is not None and got.fields["c-uri"] == "http://a.example/x?y=1"
