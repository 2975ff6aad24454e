"""Parser findings from reviewing the fields rules count on (issue 16): each on the real SEKOIA
sample lines where ../shared/log-samples has one (the golden cases, same framing), else on lines
written as the vendor's documentation gives the message."""

from __future__ import annotations

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.events import LogEvent
from tests.collectors.logs.golden import NOW, cases
from tests.conftest import SHARED


def sample(fmt: str, name: str) -> str:
    """The golden case's line (as test_golden feeds it); skip where the shared samples are absent."""
    root = SHARED / "log-samples"
    if not (root / "sekoia" / fmt).is_dir():
        pytest.skip(f"{root}/sekoia/{fmt} not present (shared material sits beside the project)")
    (case,) = [c for c in cases(root, fmt) if c.name == name]
    return case.line


def parse(line: str) -> LogEvent:
    (ev,) = LineParser(default_host="collector").events(line, now=NOW)
    return ev


def pick(ev: LogEvent, *names: str) -> tuple[object, ...]:
    return tuple(ev.fields.get(n) for n in names)


# --- Cisco IOS: a login lockout is a failure, not a success ---------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # SEC_LOGIN-1-QUIET_MODE_ON: `login block-for` tripped by failed attempts (a lockout)
        ("test_login_quiet_mode_on", ("SEC_LOGIN-1-QUIET_MODE_ON", "jdoe", "1.2.3.4", "failure")),
        ("test_login_failed_2", ("SEC_LOGIN-4-LOGIN_FAILED", None, "1.2.3.4", "failure")),
        ("test_login", ("SEC_LOGIN-5-LOGIN_SUCCESS", "jdoe", "1.2.3.4", "success")),
        ("test_ssh_2", ("SSH-5-SSH2_USERAUTH", "jdoe", "1.2.3.4", "success")),  # `... Succeeded`
        ("test_auth_passed_2", ("SYS-5-PRIV_AUTH_PASS", "jdoe", "1.2.3.4", "success")),
        ("test_auth_failed_1", ("DMI-5-AUTHENTICATION_FAILED", None, "1.2.3.4", "failure")),
        ("test_ssh_1", ("SSH-5-SSH2_CLOSE", "jdoe", "1.2.3.4", None)),  # a session end: no result
    ],
)
def test_cisco_login_outcomes_on_real_lines(name: str, expected: tuple[object, ...]) -> None:
    ev = parse(sample("cisco-ios", name))
    assert pick(ev, "event_id", "user", "src_ip", "outcome") == expected


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        # Cisco IOS Security Configuration Guide, "Login Enhancements": the end of the block period
        ("%SEC_LOGIN-5-QUIET_MODE_OFF: Quiet Mode is OFF, because block period timed out at "
         "13:27:08 UTC Wed Nov 25 2026", None),
        # SSH2_USERAUTH ends with the result: `Succeeded` or `Failed`
        ("%SSH-5-SSH2_USERAUTH: User 'jdoe' authentication for SSH2 Session from 1.2.3.4 (tty = 0) "
         "using crypto cipher 'aes128-ctr', hmac 'hmac-sha2-256' Failed", "failure"),
    ],
)
def test_cisco_login_outcomes_documented_forms(body: str, outcome: str | None) -> None:
    ev = parse(f"<189>12: core1: Nov 25 12:10:01.001 ICT: {body}")
    assert (ev.parser, ev.fields.get("outcome")) == ("cisco", outcome)
