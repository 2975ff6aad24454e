"""docs/glossary.md fixes the Vietnamese word of each operations term; the catalogues follow it:
wherever an English text uses a term, the Vietnamese text of the same key uses the term's word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from nocsoc import messages
from nocsoc.cli import lang
from nocsoc.cli.app import app
from nocsoc.dashboards.i18n import catalog

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.md"


def glossary() -> list[tuple[str, str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("English", "---") and not set(cells[0]) <= {"-"}:
            rows.append((cells[0], cells[1]))
    return rows


def catalogues() -> dict[str, tuple[str, str]]:
    """Every key of both catalogues: (English text, Vietnamese text); and the CLI's --help, whose
    English is the code's text (tests/cli/test_lang.py checks every command has its Vietnamese)."""
    out = {}
    for en, vi in ((catalog("en"), catalog("vi")), (messages.catalog("en"), messages.catalog("vi"))):
        assert en.keys() == vi.keys()
        out.update({k: (en[k], vi[k]) for k in en})
    vi_help = lang.help_texts("vi")
    for key, obj in lang.help_targets(typer.main.get_command(app)).items():
        # names typed as they are (HOST:PORT, write:triage, a CSV header) are not words
        out[f"help: {key}"] = (CODE.sub(" ", str(obj.help or "")), vi_help.get(key, ""))
    return out


CODE = re.compile(r"\S*[:,_]\S*")
PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{\w+\}")  # Grafana templates, {fields}: names, not words


def violations(terms: list[tuple[str, str]], texts: dict[str, tuple[str, str]]) -> list[str]:
    out = []
    for term, word in terms:
        pattern = re.compile(rf"\b{re.escape(term)}\b", re.IGNORECASE)
        for key, (en_text, vi) in sorted(texts.items()):
            en = PLACEHOLDER.sub(" ", en_text)
            if pattern.search(en) and word.lower() not in vi.lower():
                out.append(f"{key}: {term!r} is {word!r}, but vi says {vi!r}")
    return out


def test_glossary_has_the_terms_issue_18_asks_for() -> None:
    terms = dict(glossary())
    for term in ("polling", "utilization", "optics", "incident", "triage", "alert", "threshold", "retry"):
        assert term in terms
    assert len(terms) >= 40


def test_catalogues_use_the_glossary_words() -> None:
    assert violations(glossary(), catalogues()) == []


def test_the_check_catches_a_calque() -> None:
    """The wording issue 18 found: "ghi lại" (record) for retried."""
    texts = {
        "collector_health.sink_written": (
            "Points written, retried, rejected",
            "Điểm đã ghi, ghi lại, bị từ chối",
        )
    }
    assert violations(glossary(), texts) == [
        "collector_health.sink_written: 'retried' is 'thử lại', "
        "but vi says 'Điểm đã ghi, ghi lại, bị từ chối'"
    ]


@pytest.mark.parametrize("term", ["polling", "utilization", "triage"])
def test_glossary_words_appear_in_the_vietnamese_catalogue(term: str) -> None:
    word = dict(glossary())[term]
    assert any(word.lower() in vi.lower() for _, vi in catalogues().values())
