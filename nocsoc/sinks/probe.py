"""Reachability probes for `nocsoc check` (one short attempt each; never raise)."""

from __future__ import annotations

import http.client
import os
import urllib.parse
from pathlib import Path


def http_reachable(url: str, path: str, timeout_s: float) -> str | None:
    """None when `url` answers HTTP at all (any status), else why not."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(parts.hostname, parts.port, timeout=min(timeout_s, 3.0))
    try:
        conn.request("GET", (parts.path.rstrip("/") or "") + path)
        conn.getresponse().read()
    except (OSError, http.client.HTTPException) as exc:
        return f"{url} does not answer ({exc.__class__.__name__}: {exc}); points will wait in the spool"
    finally:
        conn.close()
    return None


def writable_file(path: Path) -> str | None:
    """None when `path` can be created or written, else why not."""
    if path.is_dir():
        return f"{path} is a directory, not a file"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK):
        return f"{target} is not writable"
    return None
