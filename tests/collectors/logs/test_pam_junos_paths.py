"""The cheaper Python paths of the PAM and Junos bodies give what their plain forms give: each
checked against the plain expression (the reference) on every sample of the formats, the fuzz
seeds, lines built for the edge cases (underscores at the ends, runs of punctuation, non-ASCII
words) and mutations of them all."""

from __future__ import annotations

import random
import re

from nocsoc.collectors.logs.parsers import linux_auth
from tests.collectors.logs.test_logfast_fw import mutate
from tests.collectors.logs.test_regex_guards import _texts

_NON_WORD = re.compile(r"\W+")
_BUILT = [
    "", "_", "__", "a", "_a_", "__init__ failed", "  lead and trail  ", "x;;y", "a\tb\nc\x0bd\x1ce",
    "tab\there", "Über fail", "naïve_user denied", "日本 語", "a²b", "ª", "x" * 200, "-_-" * 30,
    "consecutive login failures for user jdoe account temporarily locked",
    "unable to dlopen(pam_cracklib.so): /lib/security/pam_cracklib.so: cannot open shared object",
]


def _reference_event_name(low: str) -> str:
    return _NON_WORD.sub("_", low).strip("_")[:48]


def test_pam_event_name_equals_the_regex_form() -> None:
    texts = _texts() + _BUILT
    rnd = random.Random(7)
    texts += [mutate(rnd, rnd.choice(_BUILT)) for _ in range(3_000)]
    texts += ["".join(rnd.choice(" _-a1;:.Zé\t") for _ in range(rnd.randint(0, 80))) for _ in range(3_000)]
    ascii_seen = 0
    for text in texts:
        for low in (text, text.lower(), text.split(";", 1)[0].strip().lower()):
            assert linux_auth.event_name(low) == _reference_event_name(low), repr(low)
            ascii_seen += low.isascii()
    assert ascii_seen > 1_000  # (the fast path met often enough to mean something)
