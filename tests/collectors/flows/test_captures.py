"""Golden tests on real exporters' captures: ../shared/flow-captures (see its README).

Each case is a pcap of the datagrams a real exporter sent and an expected.json with the values
another project's test suite requires of them: Logstash's NetFlow codec (per event) or pmacct's
nfacctd (per aggregate key). The tests iterate the folder (Telegraf's testcases style): a new
capture is a new `<case>.pcap` + `<case>.expected.json`, nothing here changes. Every case runs on
the C and numpy paths (conftest) and on the bulk and per-datagram decoders.

Records are compared as the source states them: Logstash's counts are raw as exported (nocsoc's
scaled count divided by the rate it applied), pmacct's raw or renormalized as its config says.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from nocsoc.collectors.flows.decoder import NetflowDecoder

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("NOCSOC_SHARED_DIR") or ROOT.parent / "shared")
CAPTURES = SHARED / "flow-captures"
CASES = sorted(CAPTURES.glob("*/*.expected.json")) if CAPTURES.is_dir() else []

# Cases nocsoc does not decode to the source's expectation, each with the reason. (None today.)
EXCEPTIONS: dict[str, str] = {}

KEYS = ("src", "dst", "sport", "dport", "proto", "in_if", "out_if")


def _case_id(p: Path) -> str:
    return f"{p.parent.name}/{p.name.removesuffix('.expected.json')}"


@cache
def _datagrams(pcap: Path) -> tuple[tuple[bytes, str, float], ...]:
    """UDP payloads with source address and time (scapy: Ethernet and Linux cooked framing)."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.utils import PcapReader

    out = []
    with PcapReader(str(pcap)) as reader:
        for pkt in reader:
            udp = pkt.getlayer(UDP)
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            out.append((bytes(udp.payload), str(ip.src), float(pkt.time)))
    return tuple(out)


def _decode(case: Path, vectorized: bool) -> tuple[list[dict[str, Any]], NetflowDecoder, dict[str, Any]]:
    expected = json.loads(case.read_text())
    dgs = list(_datagrams(case.parent / expected["capture"]["file"]))
    decoder = NetflowDecoder()
    decoder.vectorized = vectorized
    rows = [r for b in decoder.decode(dgs) for r in b.rows()]
    return rows, decoder, expected


def _malformed(expected: dict[str, Any]) -> bool:
    return expected.get("expectation") == "no_crash" and "malformed" in expected.get("exercises", "")


def _options_records(expected: dict[str, Any]) -> int | None:
    """Options data records in the capture, from its structural walk (None if some options
    template has variable-length fields: its records cannot be counted from set lengths)."""
    lengths: dict[int, int | None] = {}
    total = 0
    for d in expected["datagrams"]:
        s = d["structure"]
        for t in s.get("options_templates", []):
            fields = [*t.get("scope", []), *t.get("fields", [])]
            lengths[t["id"]] = None if any(f[1] == 0xFFFF for f in fields) else sum(f[1] for f in fields)
        for ds in s.get("data_sets", []):
            if ds["id"] in lengths:
                size = lengths[ds["id"]]
                if size is None:
                    return None
                total += (ds["length"] - 4) // size if size else 0
    return total


@pytest.mark.parametrize("vectorized", [True, False], ids=["bulk", "per-datagram"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_capture_decodes_to_expected_values(case: Path, vectorized: bool) -> None:
    if _case_id(case) in EXCEPTIONS:
        pytest.xfail(EXCEPTIONS[_case_id(case)])
    rows, decoder, expected = _decode(case, vectorized)
    stats = decoder.stats.snapshot()
    assert decoder.unexpected_errors == 0
    if not _malformed(expected):
        # (two Logstash captures hold messages back to back: trailing_data is right for them)
        for name in (
            "decode_errors",
            "template_errors",
            *(("trailing_data",) if case.parent.name == "pmacct" else ()),
        ):
            got = {k: v.get(name, 0) for k, v in stats.items() if v.get(name)}
            assert not got, f"{name}: {got}"
    if case.parent.name == "pmacct":
        _check_pmacct(rows, expected)
    else:
        _check_logstash(rows, decoder, expected)


def _check_logstash(rows: list[dict[str, Any]], decoder: NetflowDecoder, expected: dict[str, Any]) -> None:
    forward = [r for r in rows if not r.get("reverse")]
    expectation = expected["expectation"]
    if expectation == "no_records":
        assert rows == []
        assert decoder.stats.total("template_missing") > 0
        return
    if expectation != "events":
        return  # no_crash: decoding raised nothing and counted what it dropped (above)
    options = _options_records(expected)
    if expected["expected_event_count"] is not None and options is not None:
        assert len(forward) == expected["expected_event_count"] - options
    unmatched = list(forward)
    for rec in expected["records"]:
        if rec["kind"] != "flow":
            continue
        want = {k: rec[k] for k in (*KEYS, "bytes", "packets") if k in rec}
        hit = next((r for r in unmatched if _raw(r, want) == want), None)
        assert hit is not None, (
            f"event {rec['index']} {want} not among {[_raw(r, want) for r in unmatched][:5]}"
        )
        unmatched.remove(hit)
        sr = rec.get("sampling_rate")
        if sr is not None:
            assert hit["sampling_rate"] == max(sr, 1)


def _raw(row: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """The row's values for the keys `want` has, counts unscaled (as exported)."""
    out = {}
    for k in want:
        v = row[k]
        if k in ("bytes", "packets"):
            v //= row["sampling_rate"]
        out[k] = v
    return out


def _check_pmacct(rows: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    renormalized = expected["pmacct"]["renormalize"]
    got: dict[tuple, Counter] = {}
    rates: dict[tuple, set[int]] = {}
    for r in rows:
        key = (r["exporter"], *(r[k] for k in KEYS))
        c = got.setdefault(key, Counter())
        scale = 1 if renormalized else r["sampling_rate"]
        c["bytes"] += r["bytes"] // scale
        c["packets"] += r["packets"] // scale
        rates.setdefault(key, set()).add(r["sampling_rate"])
    want = {
        (a["exporter"], *(a[k] for k in KEYS)): Counter(bytes=a["bytes"], packets=a["packets"])
        for a in expected["aggregates"]
    }
    assert sorted(got) == sorted(want)
    assert got == want
    for a in expected["aggregates"]:
        if a.get("sampling_rate") is not None:
            assert rates[(a["exporter"], *(a[k] for k in KEYS))] == {a["sampling_rate"]}


def test_captures_present_or_skipped_with_reason() -> None:
    if not CASES:
        pytest.skip(f"{CAPTURES} not present (set NOCSOC_SHARED_DIR, or put shared/ beside the project)")
    assert len(CASES) >= 66
