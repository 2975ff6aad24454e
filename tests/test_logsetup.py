"""Service logs: JSON lines, one per problem, and never a resolved secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from nocsoc.logsetup import configure_logging
from nocsoc.secrets import resolve_secret


def test_a_resolved_secret_is_masked_in_every_log_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOCSOC_TEST_COMMUNITY", "s3cr3t-community-xyz")
    secret = resolve_secret("env:NOCSOC_TEST_COMMUNITY")
    stream = io.StringIO()
    configure_logging(1, "json", stream)
    log = logging.getLogger("nocsoc.test")
    log.warning("device core-01 refused community %s", secret)
    try:
        raise RuntimeError(f"agent echoed {secret}")
    except RuntimeError:
        log.exception("poll failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [d["msg"] for d in lines] == ["device core-01 refused community ***", "poll failed"]
    assert lines[1]["exc"].endswith("RuntimeError: agent echoed ***")
    assert {d["level"] for d in lines} == {"warning", "error"}
    assert "s3cr3t-community-xyz" not in stream.getvalue()
    logging.getLogger().handlers.clear()
