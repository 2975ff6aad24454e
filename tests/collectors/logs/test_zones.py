"""Zone names in device timestamps (issue 16): Cisco IOS `service timestamps log datetime msec
localtime show-timezone` and NX-OS write the zone after the time. Numeric offsets are read
exactly, unambiguous names through zones.ZONE_NAMES, ambiguous or unknown ones in the input's
configured zone (counted, logged once) unless the operator reads them in `logs.zone_names`.
Epochs below are literal (ISO form in the comment); the year-less ones resolve against NOW
(2026-11-25 12:00 UTC)."""

from __future__ import annotations

import json
import logging
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from nocsoc.collectors.logs import zones
from nocsoc.collectors.logs.config import LogsConfig
from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.collectors.logs.pipeline import LogPipeline
from nocsoc.collectors.logs.syslog import parse_syslog
from nocsoc.collectors.logs.zones import AMBIGUOUS, ZONE_NAMES, offset_minutes, parse_zone_names, zone
from nocsoc.detections.config import DetectionsConfig
from nocsoc.schema import LOG_COLLECTOR
from nocsoc.sinks.memory import MemorySink
from tests.collectors.logs.golden import NOW, cases
from tests.conftest import SHARED

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("+07", 420), ("+0700", 420), ("+07:00", 420), ("-0330", -210), ("-03:30", -210),
        ("UTC+7", 420), ("utc+7", 420), ("GMT+07:00", 420), ("UTC-3", -180), ("+14", 840),
        ("+15", None), ("+14:30", None), ("+07:60", None), ("ICT", None), ("+", None), ("7", None),
    ],
)
def test_numeric_offsets_read_exactly(text: str, minutes: int | None) -> None:
    assert offset_minutes(text) == minutes


def test_the_name_table_means_one_offset_and_agrees_with_the_tz_database() -> None:
    """Every listed name that the tz database writes for some zone since 2019 gives the listed
    offset there, and no ambiguous name is listed."""
    assert not AMBIGUOUS & set(ZONE_NAMES)
    seen: dict[str, set[int]] = {}
    for name in zoneinfo.available_timezones():
        tz = ZoneInfo(name)
        t = datetime(2019, 1, 1, tzinfo=UTC)
        while t.year < 2027:
            local = t.astimezone(tz)
            off = local.utcoffset()
            assert off is not None
            seen.setdefault(local.tzname() or "", set()).add(int(off.total_seconds() // 60))
            t += timedelta(days=30)
    if not seen:
        pytest.skip("no tz database on this machine")
    checked = 0
    for abbr, minutes in ZONE_NAMES.items():
        if abbr in seen:
            assert seen[abbr] == {minutes}, abbr
            checked += 1
    assert checked >= 30  # 40 with tzdata 2024a; later releases dropped MET/MEST (now CET/CEST)
    # the tz database itself shows these as several offsets
    several = {"CST", "CDT", "IST", "PST"}
    assert {n for n in several if len(seen.get(n, ())) > 1} == several


@pytest.mark.parametrize(
    ("line", "epoch", "host"),
    [
        # IOS, clock not authoritative (`*`), sequence number and PRI: 2026-03-01T18:46:11.123Z
        ("<189>123: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured from console by vty0",
         1772390771.123, ""),
        # Vietnam's Indochina Time, +07:00: 2026-01-10T03:10:10.123Z
        ("<189>45: core-dx1: Jan 10 10:10:10.123 ICT: %SYS-5-CONFIG_I: Configured from console by vty0",
         1768014610.123, "core-dx1"),
        ("Jan 10 10:10:10.123 +07: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to up",
         1768014610.123, ""),
        ("Jan 10 10:10:10.123 +0700: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to up",
         1768014610.123, ""),
        ("Jan 10 10:10:10.123 UTC+07:00: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to up",
         1768014610.123, ""),
        # NTP synchronisation lost (`.`), GMT+7 as written on devices: +07:00
        (".Jan 10 10:10:10.123 GMT+7: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to up",
         1768014610.123, ""),
        # with the year (`service timestamps ... year`), CEST: 2026-08-26T11:04:18.523Z
        ("Aug 26 2026 13:04:18.523 CEST: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: a] "
         "[Source: 192.0.2.1] [localport: 22] [Reason: Login Authentication Failed]", 1787742258.523, ""),
        # NX-OS, year first: 2026-11-25T05:00:04Z
        ("<190>n9k-1: 2026 Nov 25 12:00:04 ICT: %VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from vty by noc "
         "on 192.0.2.9@pts/0", 1795582804.0, "n9k-1"),
        ("2026 Nov 25 12:00:04 +07:00: %VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from vty by noc "
         "on 192.0.2.9@pts/0", 1795582804.0, ""),
    ],
)
def test_ios_and_nxos_zone_names_give_exact_epochs(line: str, epoch: float, host: str) -> None:
    parser = LineParser(tz=HCM, default_host="collector")
    (ev,) = parser.events(line, now=NOW)
    assert (round(ev.time, 3), ev.parser, parser.unknown_zones) == (epoch, "cisco", 0)
    sm = parse_syslog(line, now=NOW, tz=HCM)
    assert (round(sm.time, 3), sm.host, sm.zone_unknown, sm.msg[:1]) == (epoch, host, None, "%")


def test_ambiguous_and_unknown_names_are_read_in_the_configured_zone_counted_logged_once(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zones, "_LOGGED", set())  # names other tests logged before
    parser = LineParser(tz=HCM, default_host="collector")
    # CST is US Central, China and Cuba: read as the input's zone (+07:00): 2026-10-19T06:40:06.358Z
    line = "HOSTNAME: Oct 19 13:40:06.358 {}: %PARSER-5-CFGLOG_LOGGEDCMD: User:jdoe  logged command:!exec: x"
    lines = [line.format(z) for z in ("CST", "CST", "HANOI")]
    with caplog.at_level(logging.WARNING, logger="nocsoc.collectors.logs.zones"):
        times = [round(parser.events(ln, now=NOW)[0].time, 3) for ln in lines]
    assert times == [1792392006.358] * 3
    assert parser.unknown_zones == 3
    msgs = [r.getMessage() for r in caplog.records]
    assert [("'CST'" in m, "'HANOI'" in m, "ambiguous" in m) for m in msgs] == [
        (True, False, True), (False, True, False)]


def test_operator_zone_names_read_an_ambiguous_name() -> None:
    names = parse_zone_names({"cst": "-06:00", "CDT": "UTC-5"})
    assert names == {"CST": -360, "CDT": -300}
    parser = LineParser(default_host="collector", zone_names=names)
    (ev,) = parser.events("HOSTNAME: Oct 19 13:40:06.358 CST: %PARSER-5-CFGLOG_LOGGEDCMD: User:jdoe  "
                          "logged command:!exec: enable", now=NOW)
    assert (round(ev.time, 3), parser.unknown_zones) == (1792438806.358, 0)  # 2026-10-19T19:40:06.358Z
    assert zone("cst", names) == zone("-06:00")
    with pytest.raises(ValueError, match="'CST': 'Chicago' is not a UTC offset"):
        parse_zone_names({"CST": "Chicago"})
    with pytest.raises(ValidationError, match="is not a UTC offset"):
        LogsConfig(zone_names={"IST": "+5:30h"})
    assert LogsConfig(zone_names={"IST": "+05:30"}).zone_names == {"IST": "+05:30"}


@pytest.mark.parametrize(
    ("line", "host", "app", "time"),
    [
        # a host or a program after the time is no zone: header as before
        ("Nov 25 01:02:03 fw1 sshd[1]: Failed password", "fw1", "sshd", datetime(2026, 11, 25, 1, 2, 3)),
        ("Nov 25 01:02:03 FW sshd[1]: Failed password", "FW", "sshd", datetime(2026, 11, 25, 1, 2, 3)),
        ("Nov 25 01:02:03 sshd: Failed password", "collector", "sshd", datetime(2026, 11, 25, 1, 2, 3)),
        # a known zone name before the host is read (the zone, not the input's +07:00)
        ("Nov 25 01:02:03 UTC fw2 sshd[1]: x", "fw2", "sshd", datetime(2026, 11, 25, 8, 2, 3)),
    ],
)
def test_host_and_program_are_not_taken_for_zones(line: str, host: str, app: str, time: datetime) -> None:
    parser = LineParser(tz=HCM, default_host="collector")
    (ev,) = parser.events(line, now=NOW)
    assert (ev.host, ev.fields.get("program"), ev.time, parser.unknown_zones) == (
        host, app, time.replace(tzinfo=HCM).timestamp(), 0)


def _sekoia(fmt: str) -> tuple[Path, list]:
    root = SHARED / "log-samples"
    if not (root / "sekoia" / fmt).is_dir():
        pytest.skip(f"{root}/sekoia/{fmt} not present (shared material sits beside the project)")
    return root, cases(root, fmt)


@pytest.mark.parametrize("fmt", ["cisco-ios", "cisco-nx-os"])
def test_every_cisco_sample_time_is_sekoias_timestamp(fmt: str) -> None:
    """SEKOIA's expected @timestamp of every Cisco sample that has one, to the millisecond, once
    CST/CDT are read as SEKOIA reads them (US Central, by `zone_names`). Year-less dates: SEKOIA
    took its CI run's year, nocsoc the one the date is nearest before NOW; the year is left out."""
    root, got = _sekoia(fmt)
    parser = LineParser(default_host="collector", zone_names=parse_zone_names({"CST": "-06", "CDT": "-05"}))
    compared = 0
    for case in got:
        doc = json.loads((root / "sekoia" / fmt / f"{case.name}.json").read_text())
        exp = doc["expected"].get("@timestamp")
        if exp is None:
            continue
        (ev,) = parser.events(case.line, now=NOW)
        want = datetime.fromisoformat(exp.replace("Z", "+00:00"))
        ours = datetime.fromtimestamp(round(ev.time, 3), UTC)
        if not case.line[:40].count(str(want.year)):  # year-less
            ours = ours.replace(year=want.year)
        assert ours == want, case.name
        compared += 1
    assert (compared, parser.unknown_zones) == ({"cisco-ios": 51, "cisco-nx-os": 17}[fmt], 0)


def test_pipeline_counts_unknown_zones_as_a_declared_counter(tmp_path: Path) -> None:
    assert "unknown_zones" in {f.name for f in LOG_COLLECTOR.fields}
    logs = LogsConfig(syslog_udp=None, syslog_tcp=None, timezone="Asia/Ho_Chi_Minh",
                      zone_names={"CST": "+08:00"})
    p = LogPipeline(logs, DetectionsConfig(alerts_db=str(tmp_path / "a.db")), MemorySink(), base_dir=tmp_path)
    line = "<189>sw1: Oct 19 13:40:06.358 {}: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to up"
    evs = [p.parse(line.format(z), "192.0.2.1", "syslog")[0] for z in ("CST", "XYZT", "XYZT", "ICT")]
    # CST by zone_names (+08:00), XYZT unknown (the configured +07:00), ICT +07:00
    assert [datetime.fromtimestamp(ev.time, UTC).hour for ev in evs] == [5, 6, 6, 6]
    p.counter_sets()
    assert p.counters.get("unknown_zones") == 2


@pytest.mark.parametrize("stamp", ["1d04h", "2w3d", "1y2w", "00:02:58"])
def test_ios_uptime_stamps_are_no_host_and_no_time(stamp: str) -> None:
    """`service timestamps log uptime`: time since boot, so the sender and the receive time."""
    line = (f"<188>123: {stamp}: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: a] [Source: 192.0.2.10] "
            "[localport: 23] [Reason: Login Authentication Failed - BadPassword] "
            "at 19:35:53 UTC Sat Dec 2 2006")
    (ev,) = LineParser(default_host="collector").events(line, sender="198.51.100.1", network=True, now=NOW)
    assert (ev.host, ev.time, ev.parser, ev.fields.get("src_ip"), ev.fields.get("dst_port")) == (
        "198.51.100.1", NOW.timestamp(), "cisco", "192.0.2.10", 23)


@pytest.mark.parametrize(
    "line",
    ["Dec 31 9999 23:59:59 -14: %LINK-3-UPDOWN: x", "Jan  1 0001 00:00:00 +14: %LINK-3-UPDOWN: x",
     "9999 Dec 31 23:59:59 UTC-14: %LINK-3-UPDOWN: x"],
)
def test_a_date_a_zone_takes_past_the_calendar_gets_the_receive_time(line: str) -> None:
    (ev,) = LineParser(default_host="collector").events(line, now=NOW)
    assert ev.time == NOW.timestamp()
    datetime.fromtimestamp(ev.time, UTC)  # what later steps do with it
