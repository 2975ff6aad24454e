"""Golden samples: every SEKOIA intake test of a format nocsoc parses (../shared/log-samples),
field by field against SEKOIA's expected event (mapping and scoring in golden.py), and the table
of docs/log-formats.md regenerated from the same run (NOCSOC_UPDATE_DOCS=1 rewrites it; otherwise
the test fails when the docs disagree with the parsers)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nocsoc.collectors.logs.parsers import registry
from tests.collectors.logs.golden import FORMATS, Score, disagreements, score, table
from tests.conftest import SHARED

DOCS = Path(__file__).resolve().parents[3] / "docs" / "log-formats.md"
GOAL = 0.95


@pytest.fixture(scope="module")
def samples() -> Path:
    root = SHARED / "log-samples"
    if not (root / "sekoia").is_dir():
        pytest.skip(f"{root}/sekoia not present (shared material sits beside the project)")
    return root


@pytest.fixture(scope="module")
def scores(samples: Path) -> dict[str, Score]:
    return {fmt: score(samples, fmt)[0] for fmt in FORMATS}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_format_fields(scores: dict[str, Score], fmt: str) -> None:
    sc = scores[fmt]
    assert sc.samples > 0
    assert sc.stale == [], "DISAGREE entries the parser now gets right: remove them"
    # the goal on the fields both sides read the same way; every miss is printed on failure
    assert sc.ratio_agreed >= GOAL, "\n".join(sc.misses)


def _parsers_table() -> str:
    rows = ["| parser | recognises | Sigma logsources (product / services / categories) |",
            "| --- | --- | --- |"]
    for s in registry.specs():
        how = []
        if s.programs:
            more = " ..." if len(s.programs) > 8 else ""
            how.append("programs " + ", ".join(f"`{p}`" for p in s.programs[:8]) + more)
        if s.markers or s.prefixes:
            how.append("shape " + ", ".join(f"`{m}`" for m in (*s.prefixes, *s.markers)))
        if s.line_starts:
            how.append(f"file lines starting `{s.line_starts}`")
        srcs = "; ".join(f"{ls.product or '-'} / {','.join(ls.services) or '-'} / "
                         f"{','.join(ls.categories) or '-'}" for ls in s.logsources)
        cells = (f"`{s.name}`: {s.description}", "; ".join(how) or "(fallback)", srcs)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _replace(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    a, b = text.index(start) + len(start), text.index(end)
    return text[:a] + body + text[b:]


def test_docs_tables_are_current(scores: dict[str, Score]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    new = _replace(text, "golden", table(list(scores.values())))
    new = _replace(new, "disagreements", disagreements())
    new = _replace(new, "parsers", _parsers_table())
    if os.environ.get("NOCSOC_UPDATE_DOCS"):
        DOCS.write_text(new, encoding="utf-8")
    assert new == text, f"{DOCS} is stale: run this test with NOCSOC_UPDATE_DOCS=1"
