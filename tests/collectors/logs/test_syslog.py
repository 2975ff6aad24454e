"""Syslog header parsing (RFC 3164, RFC 5424, files) and TCP framing (octet counting, newline)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nocsoc.collectors.logs.syslog import OctetFramer, parse_syslog

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def test_rfc3164_header_and_tag() -> None:
    m = parse_syslog("<38>Nov 25 01:02:03 portal-web1 sshd[123]: Failed password for root", now=NOW)
    assert (m.facility, m.severity, m.format) == (4, 6, "3164")
    assert (m.host, m.app, m.pid, m.msg) == ("portal-web1", "sshd", "123", "Failed password for root")
    assert m.time == datetime(2026, 11, 25, 1, 2, 3, tzinfo=UTC).timestamp()


def test_yearless_date_from_last_december_resolves_to_previous_year() -> None:
    jan1 = datetime(2027, 1, 1, 0, 0, 30, tzinfo=UTC)
    m = parse_syslog("<13>Dec 31 23:59:58 dns1 cron[1]: job", now=jan1)
    assert datetime.fromtimestamp(m.time, UTC) == datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)
    # a clock a few hours ahead of ours stays in this year (not pushed back a year)
    m2 = parse_syslog("<13>Jan  1 03:00:00 dns1 cron[1]: job", now=jan1)
    assert datetime.fromtimestamp(m2.time, UTC).year == 2027


def test_yearless_date_in_configured_timezone() -> None:
    m = parse_syslog("Nov 25 08:00:00 h app: x", now=NOW, tz=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert datetime.fromtimestamp(m.time, UTC) == datetime(2026, 11, 25, 1, 0, 0, tzinfo=UTC)


def test_feb_29_in_a_non_leap_year_does_not_crash() -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    m = parse_syslog("<13>Feb 29 10:00:00 h app: x", now=now)
    assert m.time == now.timestamp()  # no year fits: the receive time stands in
    assert (m.host, m.msg) == ("h", "x")


def test_rfc5424_with_structured_data_and_bom() -> None:
    line = (
        "<165>1 2026-11-25T01:02:03.250+07:00 core-dx1 sshd 4242 ID47 "
        '[exampleSDID@32473 iut="3" eventSource="App\\"lication"][other x="]"] \ufeffhello world'
    )
    m = parse_syslog(line, now=NOW)
    assert (m.format, m.host, m.app, m.pid, m.msg) == ("5424", "core-dx1", "sshd", "4242", "hello world")
    assert m.structured == {
        "exampleSDID@32473": {"iut": "3", "eventSource": 'App"lication'},
        "other": {"x": "]"},
    }
    assert m.time == datetime(2026, 11, 24, 18, 2, 3, 250000, tzinfo=UTC).timestamp()


def test_rfc5424_nil_values() -> None:
    m = parse_syslog("<14>1 - - - - - - bare", sender="127.0.0.7", now=NOW)
    assert (m.host, m.app, m.pid, m.msg, m.time) == ("127.0.0.7", "", None, "bare", NOW.timestamp())


def test_cisco_sequence_prefix_without_rfc3164_header() -> None:
    m = parse_syslog(
        "<187>126: *Nov 25 01:02:04.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
        sender="127.0.0.9",
        now=NOW,
    )
    assert m.host == "127.0.0.9"
    assert m.msg.startswith("%LINK-3-UPDOWN")
    assert abs(m.time - datetime(2026, 11, 25, 1, 2, 4, 123000, tzinfo=UTC).timestamp()) < 1e-6


def test_garbage_keeps_the_message() -> None:
    m = parse_syslog("\x00\x01 not syslog at all", sender="127.0.0.2", now=NOW)
    assert m.msg == "\x00\x01 not syslog at all"
    assert m.host == "127.0.0.2" and m.time == NOW.timestamp()


def test_octet_counting_and_newline_framing_mixed_and_split() -> None:
    f = OctetFramer()
    a, b = "<13>Nov 25 01:00:00 h a: one", "<13>Nov 25 01:00:01 h a: two\nwith newline inside"
    stream = f"{len(a.encode())} {a}{len(b.encode())} {b}<13>Nov 25 01:00:02 h a: three\n".encode()
    out: list[bytes] = []
    for i in range(0, len(stream), 7):  # arbitrary TCP segmentation
        out += f.feed(stream[i : i + 7])
    assert [m.decode() for m in out] == [a, b, "<13>Nov 25 01:00:02 h a: three"]
    assert f.feed(b"<13>Nov 25 01:00:03 h a: last without newline") == []
    assert f.flush() == [b"<13>Nov 25 01:00:03 h a: last without newline"]
