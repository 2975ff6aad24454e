"""Rule files are read with libyaml's parser (nocsoc.detections.loader.yaml_documents): the same
documents, value types included, as PyYAML's pure-Python safe loader gives, on SigmaHQ's rules
and nocsoc's own; a text libyaml refuses gets the pure loader's own message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nocsoc.detections.loader import builtin_rules_dir, yaml_documents


def _typed(x: Any) -> Any:
    """`x` with every value's type beside it (True == 1 and 1.0 == 1 would hide a change)."""
    if isinstance(x, dict):
        return {k: (type(v).__name__, _typed(v)) for k, v in x.items()}
    if isinstance(x, list):
        return [(type(v).__name__, _typed(v)) for v in x]
    return type(x).__name__, x


def test_documents_equal_the_pure_loaders(shared_dir: Path) -> None:
    files = sorted((shared_dir / "sigmahq" / "rules").rglob("*.yml"))[::2]
    files += sorted(builtin_rules_dir().rglob("*.yml"))
    assert len(files) > 1000
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert _typed(yaml_documents(text)) == _typed(list(yaml.safe_load_all(text))), f


@pytest.mark.parametrize("text", [
    "title: x\ndetection: [unclosed\n",
    "a: 1\n\tb: 2\n",
    "title: x\n---\n: :\n  - ]\n",
    "key: 'open quote\n",
])
def test_broken_yaml_gets_the_pure_loaders_message(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as pure:
        list(yaml.safe_load_all(text))
    with pytest.raises(yaml.YAMLError) as ours:
        yaml_documents(text)
    assert str(ours.value) == str(pure.value)


def test_odd_but_valid_yaml_reads_the_same() -> None:
    text = ("title: 'it''s'\nid: 0x1F\nn: 010\nf: 1e3\nb: yes\nnull_: ~\nd: 2024-01-02\n"
            "anchors: &a {x: [1, 2]}\nref: *a\nmerge:\n  <<: *a\n  y: é\nblock: |\n  a\n  b\n"
            "---\nsecond: 1\n")
    assert _typed(yaml_documents(text)) == _typed(list(yaml.safe_load_all(text)))
