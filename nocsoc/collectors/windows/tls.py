"""TLS for the Winlogbeat (Lumberjack v2) input: Winlogbeat's `output.logstash` with `ssl.*` set.

The stdlib `ssl` module is the whole implementation: a server context with the certificate chain
and key, TLS 1.2 at least, and, when `client_ca` is set, a client certificate signed by that CA
required (mutual TLS: Winlogbeat's `ssl.certificate`/`ssl.key`). Paths are relative to
nocsoc.yaml. A missing or unreadable file is one `ConfigError` line naming the key and the
file, raised when the input is built (`nocsoc run` refuses to start the logs worker) and
reported by `nocsoc check` at the key's line.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nocsoc.errors import ConfigError

KEY = "logs.windows.winlogbeat_tls"


class LumberjackTlsConfig(BaseModel):
    """Server certificate and key (PEM); `client_ca` makes client certificates mandatory."""

    model_config = ConfigDict(extra="forbid")

    certificate: str = Field(description="PEM server certificate (with its chain), relative to nocsoc.yaml")
    key: str = Field(description="PEM private key of the certificate (unencrypted; mode 0600)")
    client_ca: str | None = Field(
        default=None, description="PEM CA bundle: when set, each Winlogbeat must present a certificate it "
                                  "signed (mutual TLS)")
    handshake_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="longest a client may take to finish the TLS handshake")


def file_problems(cfg: LumberjackTlsConfig, resolve: Callable[[str], Path]) -> list[tuple[str, str]]:
    """(field, message) for every file that is missing or unreadable."""
    out = []
    for name in ("certificate", "key", "client_ca"):
        value = getattr(cfg, name)
        if value is None:
            continue
        path = resolve(value)
        if not path.exists():
            out.append((name, f"{path}: no such file"))
        elif not path.is_file():
            out.append((name, f"{path}: not a file"))
        else:
            try:
                with path.open("rb"):
                    pass
            except OSError as exc:
                out.append((name, f"{path}: cannot read ({exc.strerror})"))
    return out


def server_context(cfg: LumberjackTlsConfig, resolve: Callable[[str], Path]) -> ssl.SSLContext:
    """The context every accepted connection is wrapped in; `ConfigError` (one line, naming
    the key and the file) when a file is missing, unreadable or not what it should be."""
    problems = file_problems(cfg, resolve)
    if problems:
        name, why = problems[0]
        raise ConfigError(why, key=f"{KEY}.{name}")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    cert, key = resolve(cfg.certificate), resolve(cfg.key)
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise ConfigError(f"{cert} and {key}: not a PEM certificate and its private key ({exc.reason})",
                          key=f"{KEY}.certificate") from None
    if cfg.client_ca is not None:
        ca = resolve(cfg.client_ca)
        try:
            ctx.load_verify_locations(cafile=ca)
        except ssl.SSLError as exc:
            raise ConfigError(f"{ca}: not a PEM CA certificate ({exc.reason})",
                              key=f"{KEY}.client_ca") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
