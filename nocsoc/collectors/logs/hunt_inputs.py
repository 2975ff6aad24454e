"""Files for a hunt (`nocsoc detect`): arguments expanded (directories, globs) into regular files
in time order, and opened whatever their compression (.gz, .bz2, .xz), so rotated logs
(`auth.log.2.gz auth.log.1 auth.log`) are read oldest first, as correlations need.

Time order is the files' modification time; rotated copies sharing one (copied in the same
second) fall back to their rotation number, the higher the older."""

from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import lzma
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

_ROTATION = re.compile(r"\.(\d+)(?:\.(?:gz|bz2|xz))?$")
_OPENERS: dict[str, Callable[[Path, str], IO[bytes]]] = {
    ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open,  # type: ignore[dict-item]
}


class InputError(ValueError):
    """An argument that names no readable file (the message names it)."""


def _rotation(p: Path) -> int:
    m = _ROTATION.search(p.name)
    return int(m[1]) if m else 0


def expand(args: list[str | Path]) -> list[Path]:
    """Regular files named by `args` (a file, a directory's files, or a glob), oldest first,
    each once. Raises InputError naming the first argument that matches nothing."""
    found: dict[Path, None] = {}
    for arg in args:
        p = Path(arg).expanduser()
        if p.is_file():
            found[p] = None
        elif p.is_dir():  # its files; below it only .evtx (a collection: a folder per host or case)
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if f.is_file() and not any(part.startswith(".") for part in rel) and (
                        len(rel) == 1 or f.suffix.lower() == ".evtx"):
                    found[f] = None
        elif glob.has_magic(str(arg)):
            hits = [Path(h) for h in sorted(glob.glob(str(p))) if Path(h).is_file()]
            if not hits:
                raise InputError(f"{arg}: no file matches")
            for h in hits:
                found[h] = None
        else:
            raise InputError(f"{arg}: no such file or directory")
    return sorted(found, key=lambda f: (f.stat().st_mtime, -_rotation(f), f.name))


def open_lines(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed by its suffix."""
    opener = _OPENERS.get(path.suffix)
    if opener is None:
        return open(path, "rb")
    return opener(path, "rb")


def content_key(path: Path) -> str:
    """A key for the file's content (its decompressed bytes' SHA-256): `--store` records it and
    does not count a file it has already stored, whatever its name."""
    h = hashlib.sha256()
    with open_lines(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "detect:" + h.hexdigest()


def lines(path: Path) -> Iterator[bytes]:
    """The file's lines; a corrupt compressed file raises OSError/EOFError/lzma.LZMAError
    (the caller reports it with the file's name)."""
    with open_lines(path) as fh:
        yield from fh


__all__ = ["InputError", "content_key", "expand", "lines", "open_lines"]
