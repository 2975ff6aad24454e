"""Secret references: env:/file:, 0600 files only, literals refused, values never in messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from nocsoc.errors import SecretError
from nocsoc.inventory.model import SnmpProfile
from nocsoc.secrets import is_reference, resolve_secret

SECRET = "Tr0ub4dor&3-nocsoc"


def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOCSOC_TEST_SECRET", SECRET)
    assert resolve_secret("env:NOCSOC_TEST_SECRET") == SECRET


def test_env_unset_and_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOCSOC_TEST_SECRET", raising=False)
    with pytest.raises(SecretError) as exc:
        resolve_secret("env:NOCSOC_TEST_SECRET", what="community")
    assert str(exc.value) == (
        "community (env:NOCSOC_TEST_SECRET): environment variable NOCSOC_TEST_SECRET is not set"
    )
    monkeypatch.setenv("NOCSOC_TEST_SECRET", "")
    with pytest.raises(SecretError) as exc:
        resolve_secret("env:NOCSOC_TEST_SECRET")
    assert str(exc.value) == (
        "secret (env:NOCSOC_TEST_SECRET): environment variable NOCSOC_TEST_SECRET is empty"
    )


def test_file_reference_0600_and_final_newline_stripped(tmp_path: Path) -> None:
    p = tmp_path / "community"
    p.write_text(SECRET + "\n")
    os.chmod(p, 0o600)
    assert resolve_secret(f"file:{p}") == SECRET
    os.chmod(p, 0o400)
    assert resolve_secret("file:community", base_dir=tmp_path) == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    p = tmp_path / "community"
    p.write_text(SECRET)
    os.chmod(p, mode)
    with pytest.raises(SecretError) as exc:
        resolve_secret(f"file:{p}", what="auth_password")
    assert str(exc.value) == (
        f"{p}: auth_password (file:{p}): secret file has mode {mode:04o}; others could read it: "
        f"run `chmod 600 {p}`"
    )
    assert SECRET not in str(exc.value)


def test_file_missing_empty_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as exc:
        resolve_secret("file:nope", base_dir=tmp_path)
    assert str(exc.value) == f"{tmp_path / 'nope'}: secret (file:nope): secret file not found"
    empty = tmp_path / "empty"
    empty.write_text("\n")
    os.chmod(empty, 0o600)
    with pytest.raises(SecretError, match="secret file is empty"):
        resolve_secret(f"file:{empty}")
    with pytest.raises(SecretError, match="not a regular file"):
        resolve_secret(f"file:{tmp_path}")


@pytest.mark.parametrize("literal", [SECRET, "public", "env:", "file:", "ENV:X"])
def test_literal_is_refused_with_how_to_reference(literal: str) -> None:
    assert not is_reference(literal)
    with pytest.raises(SecretError) as exc:
        resolve_secret(literal, what="community")
    assert str(exc.value) == (
        "community: a literal secret is not allowed: write `env:NAME` (the secret is in environment variable "
        "NAME) or `file:PATH` (the secret is the content of PATH, a file of mode 0600)"
    )


def test_model_refuses_literal_secrets_without_echoing_them() -> None:
    with pytest.raises(ValidationError) as exc:
        SnmpProfile(name="p", version="3", user="u", auth_protocol="SHA-256", auth_password=SECRET)
    errors = exc.value.errors(include_url=False)
    assert [e["loc"] for e in errors] == [("auth_password",)]
    assert SECRET not in errors[0]["msg"]
    assert errors[0]["msg"].endswith(
        "must be a secret reference, not a literal: write `env:NAME` (an environment variable) or "
        "`file:PATH` (a file readable only by its owner, mode 0600)"
    )
