"""The C reader's FortiGate file lines (_logfast_reader.c, rd_fortigate) give exactly the events of
LineParser's Python path, which stays the reference: every slot (raw, host, time, parser,
logsource, route key, fields with their types and key order; lines without their own time at the
receive time both read from time.time), on the SEKOIA samples, on lines
made from FortiOS's documented keys (test_logfast_fw's generator), on lines starting with `t`
that auditd, tried first, may or may not claim (`msg=audit(`), and on mutations of them."""

from __future__ import annotations

import random
from typing import Any
from unittest import mock

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from tests.collectors.logs.test_logfast_fw import NOW, _fg_line, _samples, mutate
from tests.collectors.logs.test_logfast_lines import _events, _python_only, _same_minute

pytest.importorskip("nocsoc.collectors.logs._logfast",
                    reason="C accelerator not built (tests/test_speedups.py says so)")


def compare(lines: list[str]) -> int:
    """Assert C on and all C off give the same events for every file line, at one fixed receive
    clock; how many lines the reader took (those compared slot for slot, time included: the
    line's own or the receive time)."""
    with mock.patch("time.time", return_value=NOW):
        lp_c, lp_py = LineParser(default_host="h"), LineParser(default_host="h")
        read = lp_c.fast()
        assert read is not None
        taken = 0
        for line in lines:
            mine = read(line, "", "file", False) is not None
            taken += mine
            got = _events(lp_c, line, False)
            with _python_only():
                want = _events(lp_py, line, False)
            if mine:  # (a line it leaves: some parsers read datetime.now(), which the clock leaves)
                assert got == want, (line[:400], got, want)
            else:
                assert _same_minute(got, want), (line[:400], got, want)
    return taken


def _t_line(rnd: random.Random) -> str:
    """A `t` line: FortiGate's `time=`/`type=`/`timestamp=` first, some holding auditd's header
    text (auditd then reads, or refuses, it first)."""
    line = _fg_line(rnd)
    line = rnd.choice(["time=12:20:33 ", 'type="traffic" ', "timestamp=1741260033 ", 'tz="+0100" ']) + line
    if rnd.random() < 0.2:
        pos = rnd.randint(0, len(line))
        audit = rnd.choice([" msg=audit(1.0:1): ", "msg=audit(", " msg=audit(1741260033.1:7):"])
        line = line[:pos] + audit + line[pos:]
    return line


def test_samples_read_the_same() -> None:
    lines = _samples("fortigate")
    assert compare(lines) >= 55  # of 96 (CEF and the `<PRI>` ones: Python's)


def test_generated_lines_read_the_same() -> None:
    rnd = random.Random(31)
    lines = [_fg_line(rnd) for _ in range(1500)] + [_t_line(rnd) for _ in range(1000)]
    assert compare(lines) > 900


def test_mutated_lines_read_the_same() -> None:
    rnd = random.Random(32)
    base: list[Any] = [_fg_line(rnd) for _ in range(300)] + [_t_line(rnd) for _ in range(300)]
    base += _samples("fortigate")
    lines = [mutate(rnd, rnd.choice(base)) for _ in range(2000)]
    assert compare(lines) > 200


def test_a_line_auditd_reads_is_not_fortigates() -> None:
    lp = LineParser(default_host="h")
    read = lp.fast()
    assert read is not None
    fg = ('time=12:20:33 devname="fw1" devid="FG1" eventtime=1741260033527521837 tz="+0100" '
          'logid="0000000013" type="traffic" subtype="forward" srcip=10.0.0.1 dstip=10.0.0.2 action="deny"')
    ev = read(fg, "", "file", False)
    assert ev is not None and ev.parser == "fortigate" and ev.host == "fw1"
    assert read(fg + " msg=audit(1741260033.5:1):", "", "file", False) is None  # auditd's to try first
    compare([fg, fg + " msg=audit(1741260033.5:1):", "type=SYSCALL msg=audit(1741260033.5:1): " + fg[14:]])
