"""The sample deployment shipped as package data: the former Bình Phước backbone, now in Đồng Nai.

`nocsoc init` copies the starter nocsoc.yaml and the sample inventory into a directory; the SNMP
simulator and tests read `SAMPLE_INVENTORY` directly. Its addresses are all in 127.10.0.0/16.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nocsoc.errors import NocsocError, Problem

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
SAMPLE_INVENTORY = SAMPLE_DIR / "inventory.yaml"
SAMPLE_CONFIG = SAMPLE_DIR / "nocsoc.yaml"


def init_project(directory: Path, force: bool = False) -> list[Path]:
    """Write `nocsoc.yaml` and `inventory.yaml` into `directory` (created if needed).

    Refuses (NocsocError, exit 2) when either file exists, unless `force`: an init must never
    silently replace an inventory someone has been editing. Returns the files written.
    """
    targets = [(SAMPLE_CONFIG, directory / "nocsoc.yaml"), (SAMPLE_INVENTORY, directory / "inventory.yaml")]
    if directory.exists() and not directory.is_dir():
        raise NocsocError("not a directory", file=directory)
    existing = [dst for _, dst in targets if dst.exists()]
    if existing and not force:
        raise NocsocError(
            problems=[Problem("already exists; pass --force to overwrite it", file=p) for p in existing]
        )
    directory.mkdir(parents=True, exist_ok=True)
    for src, dst in targets:
        shutil.copyfile(src, dst)
    return [dst for _, dst in targets]
