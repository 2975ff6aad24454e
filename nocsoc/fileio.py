"""File writes every part of nocsoc shares: atomic replacement (inventory, state, provisioning)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data` (text is written as UTF-8) so that readers see the old or the
    new file, never a mix.

    Temp file in the same directory (rename is atomic only within a filesystem), fsync before the
    rename so the data is on disk before the name points at it, fsync of the directory so the
    rename itself survives a crash. The file keeps its mode; a new file gets 0666 minus the umask,
    applied by the kernel as for any new file (reading the umask means setting it, process-wide:
    a file another thread created meanwhile would get umask 0).
    """
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new `.<name>.<random>.tmp` beside `path`, created 0666 minus the umask. Hand-written
    because tempfile.mkstemp always creates 0600 (its mode cannot be asked for)."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
