"""Which language the CLI speaks to a person, and its texts (`nocsoc.messages`).

`--lang vi|en` wins, then `NOCSOC_LANG`, then the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, the
first one set, as POSIX orders them): `vi_VN.UTF-8` gives Vietnamese, anything else English.
JSON output is never translated: its keys are an interface.

Covered: `nocsoc topology` (table and picture), `nocsoc top` and the demo's closing summary,
the tables of `nocsoc dashboards build | list | push`.
"""

from __future__ import annotations

import os

from nocsoc import messages
from nocsoc.cli import common


def current() -> str:
    if common.OPTIONS.lang in messages.LANGS:
        return common.OPTIONS.lang
    env = os.environ.get("NOCSOC_LANG", "")
    if env in messages.LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "vi" if value.lower().startswith("vi") else "en"
    return "en"


def t(key: str, **values: object) -> str:
    """The text for `key` in the current language."""
    return messages.text(current(), key, **values)
