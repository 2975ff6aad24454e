"""Secret references: `env:NAME` or `file:PATH`, resolved only at the moment of use.

Files (inventory, nocsoc.yaml) hold references, never secrets, so they can live in git and be
printed, exported and shown with `--json` without leaking anything. A `file:` secret must be
readable by its owner only (mode 0600 or 0400): a world-readable password file is refused,
as ssh does with private keys. No error message ever contains the secret itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from nocsoc.errors import SecretError
from nocsoc.logsetup import register_secret
from nocsoc.paths import resolve_path

ENV_PREFIX = "env:"
FILE_PREFIX = "file:"

HOW_TO_REFERENCE = (
    "write `env:NAME` (the secret is in environment variable NAME) or `file:PATH` "
    "(the secret is the content of PATH, a file of mode 0600)"
)


def is_reference(value: str) -> bool:
    """True for a well-formed `env:NAME` / `file:PATH` reference."""
    for prefix in (ENV_PREFIX, FILE_PREFIX):
        if value.startswith(prefix) and value[len(prefix) :].strip():
            return True
    return False


def resolve_secret(ref: str, base_dir: Path | None = None, what: str = "secret") -> str:
    """The secret a reference points at. `file:` paths are relative to `base_dir` (else the cwd).

    Raises `SecretError` for a literal, an unset variable, a missing file or a file others can
    read; the message names the reference (which is not secret) and never the value. Every
    value resolved is registered with the log redaction filter, so it is masked in any log line.
    """
    value = _resolve(ref, base_dir, what)
    register_secret(value)
    return value


def _resolve(ref: str, base_dir: Path | None, what: str) -> str:
    if ref.startswith(ENV_PREFIX) and ref[len(ENV_PREFIX) :].strip():
        name = ref[len(ENV_PREFIX) :]
        value = os.environ.get(name)
        if value is None:
            raise SecretError(f"environment variable {name} is not set", key=f"{what} ({ref})")
        if value == "":
            raise SecretError(f"environment variable {name} is empty", key=f"{what} ({ref})")
        return value
    if ref.startswith(FILE_PREFIX) and ref[len(FILE_PREFIX) :].strip():
        return _read_secret_file(ref, base_dir, what)
    raise SecretError(f"a literal secret is not allowed: {HOW_TO_REFERENCE}", key=what)


def _read_secret_file(ref: str, base_dir: Path | None, what: str) -> str:
    path = resolve_path(base_dir, ref[len(FILE_PREFIX) :])
    key = f"{what} ({ref})"
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SecretError("secret file not found", file=path, key=key) from None
    except OSError as exc:
        raise SecretError(f"cannot read secret file: {exc.strerror}", file=path, key=key) from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretError("secret file is not a regular file", file=path, key=key)
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise SecretError(
            f"secret file has mode {mode:04o}; others could read it: run `chmod 600 {path}`",
            file=path,
            key=key,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read secret file: {type(exc).__name__}", file=path, key=key) from None
    value = text.rstrip("\r\n")  # editors add a final newline; it is never part of the secret
    if not value:
        raise SecretError("secret file is empty", file=path, key=key)
    return value


class DirResolver:
    """Paths and `file:` secrets relative to one directory (a `Resolver` for callers that have
    no runtime context: tests, one-off tools)."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def path(self, value: str | Path) -> Path:
        return resolve_path(self.base_dir, value)

    def secret(self, ref: str, what: str) -> str:
        return resolve_secret(ref, self.base_dir, what=what)
