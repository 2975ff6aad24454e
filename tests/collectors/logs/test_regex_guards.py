"""The literal guards in front of unanchored regex searches (Junos, PAM, Cisco ASA) are exact: a
text lacking the literal is not searched because no match of the pattern could lack it. Checked
on every match the patterns find in SEKOIA's samples of those formats, the fuzz seeds, lines
built to hold the guarded words, and mutations of them all (the guards save ~1-3 us a line: an
unanchored search with no literal prefix tries every position)."""

from __future__ import annotations

import contextlib
import random
import re

import pytest

from nocsoc.collectors.logs.parsers import cisco_asa, juniper, linux_auth
from nocsoc.collectors.logs.parsers.base import GUARDED
from tests.collectors.logs.test_fuzz import ALL_SEEDS
from tests.collectors.logs.test_logfast_fw import _samples, mutate

# (pattern, what every match holds: one of the texts)
# every guard the parser modules made (importing cisco_asa, juniper and linux_auth made six)
_PARSERS = (cisco_asa, juniper, linux_auth)
_GUARDS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [(g.rx, g.needs) for g in GUARDED]
_BUILT = [
    "UI_LOGIN_EVENT: User 'root' login, class 'j-super-user' [3], ssh-connection '1.2.3.4 22 5.6.7.8 22'",
    "Login failed for user 'x' from host '10.0.0.1'",
    "session created 1.2.3.4/1->5.6.7.8/2 0x0 x 1.2.3.4/1->5.6.7.8/2",
    "for user x", "user=root rhost=1.2.3.4", "TunnelGroup <a> GroupPolicy <b> User <c> IP <1.2.3.4> x",
    "from 1.2.3.4", "for 'jdoe'", "User <u> IP <1.1.1.1>", "Group <g> User <u> IP <::1>",
]


def _texts() -> list[str]:
    out = list(ALL_SEEDS) + _BUILT
    for fmt in ("juniper-ngfw", "juniper-switches", "cisco-secure-firewall", "openssh"):
        with contextlib.suppress(pytest.skip.Exception):  # (samples absent: the rest still counts)
            out += _samples(fmt)
    rnd = random.Random(61)
    return out + [mutate(rnd, rnd.choice(out)) for _ in range(5_000)]


def test_every_match_holds_its_literal() -> None:
    assert len(_GUARDS) >= 6
    found = [0] * len(_GUARDS)
    for text in _texts():
        for k, (rx, needs) in enumerate(_GUARDS):
            for m in rx.finditer(text):
                found[k] += 1
                assert any(w in m[0] for w in needs), (rx.pattern, text)
    assert min(found) > 10, found  # each pattern met often enough to mean something
