"""Credentials and TLS for the NATS connection (`bus.auth`, `bus.tls`): the keyword arguments
nats-py's `connect()` takes, built from nocsoc.yaml once, when a transport is made.

Secrets are references resolved here (`nocsoc.secrets`: never literals, registered with the log
redaction filter, never in an error message); NKey seeds and `.creds` files are passed to
nats-py as their content (`nkeys_seed_str`, `RawCredentials`), so `env:` works for them too and
every secret file gets the same 0600 check. TLS is the stdlib's `ssl` context: TLS 1.2 at least,
the server's certificate checked against `ca_file` (else the system's CAs) and its name
(`server_name`, else the host in bus.url), a client certificate when `cert_file` is set.

Every problem is one `BusError` line naming the key and the file or variable
(`bus.tls.ca_file: /etc/nocsoc/ca.pem: no such file`), raised before any connection is tried:
`nocsoc run` refuses to start the role with that line, and `nocsoc check` reports it at the key.
"""

from __future__ import annotations

import ssl
import stat
from pathlib import Path
from typing import Any

from nocsoc.bus.config import BusConfig, NatsTlsConfig
from nocsoc.bus.transport import BusError
from nocsoc.errors import NocsocError
from nocsoc.paths import resolve_path
from nocsoc.secrets import resolve_secret


class BusSecurityError(BusError):
    """`bus.auth` or `bus.tls` cannot be used as written: one line, key and file. `field` is the
    dotted key, `detail` the message without it (for `nocsoc check`, which places it itself)."""

    def __init__(self, detail: str, field: str, file: Path | None = None) -> None:
        super().__init__(detail, file=file, key=field)
        self.field = field
        self.detail = f"{file}: {detail}" if file is not None else detail


def problems(config: BusConfig) -> list[tuple[str, str]]:
    """(key, message) for every secret that does not resolve and every TLS file that is missing,
    unreadable or unsafe; empty when the connection options can be built."""
    out: list[tuple[str, str]] = []
    try:
        connect_options(config)
    except BusSecurityError as exc:
        out.append((exc.field, exc.detail))
    return out


def connect_options(config: BusConfig) -> dict[str, Any]:
    """nats-py `connect()` keyword arguments for `bus.auth` and `bus.tls` (empty: anonymous,
    plain TCP). Raises BusSecurityError naming the key at fault."""
    base = config.base_dir
    opts: dict[str, Any] = {}
    auth = config.auth
    if auth is not None:
        if auth.user is not None and auth.password is not None:
            opts["user"] = auth.user
            opts["password"] = _secret(auth.password, base, "bus.auth.password")
        elif auth.token is not None:
            opts["token"] = _secret(auth.token, base, "bus.auth.token")
        elif auth.nkey_seed is not None:
            seed = _secret(auth.nkey_seed, base, "bus.auth.nkey_seed").strip()
            _check_seed(seed, "bus.auth.nkey_seed", auth.nkey_seed)
            opts["nkeys_seed_str"] = seed
        elif auth.credentials is not None:
            from nats.aio.client import RawCredentials

            creds = _secret(auth.credentials, base, "bus.auth.credentials")
            _check_creds(creds, auth.credentials)
            opts["user_credentials"] = RawCredentials(creds)
    if config.tls is not None:
        opts["tls"] = tls_context(config.tls, base)
        if config.tls.server_name:
            opts["tls_hostname"] = config.tls.server_name
    return opts


def _secret(ref: str, base: Path | None, key: str) -> str:
    try:
        return resolve_secret(ref, base, what=key)
    except NocsocError as exc:  # SecretError: names the reference and the file, never the value
        file = exc.first.file
        raise BusSecurityError(f"{ref}: {exc.first.message}" if file is None else exc.first.message, key,
                               Path(file) if file is not None else None) from None


def _check_seed(seed: str, key: str, ref: str) -> None:
    import nkeys

    # nats-py would fail deep inside the connect with a bare nkeys error: check it here, once
    try:
        kp = nkeys.from_seed(bytearray(seed.encode()))
        if not kp.public_key.startswith(b"U"):
            raise ValueError("not a user seed")
    except Exception as exc:  # nkeys raises its own types and binascii/ValueError on bad base32
        why = exc.__class__.__name__ if not str(exc) else str(exc)
        raise BusSecurityError(f"{ref}: not an NKey user seed (SU...): {why}", key) from None


def _check_creds(text: str, ref: str) -> None:
    for marker in ("BEGIN NATS USER JWT", "BEGIN USER NKEY SEED"):
        if marker not in text:
            raise BusSecurityError(f"{ref}: not a NATS .creds file (no {marker!r} block)",
                                   "bus.auth.credentials")


def _file(value: str, base: Path | None, key: str, secret: bool = False) -> Path:
    path = resolve_path(base, value)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise BusSecurityError(f"{path}: no such file", key) from None
    except OSError as exc:
        raise BusSecurityError(f"{path}: cannot read ({exc.strerror})", key) from None
    if not stat.S_ISREG(st.st_mode):
        raise BusSecurityError(f"{path}: not a file", key)
    if secret and stat.S_IMODE(st.st_mode) & 0o077:
        raise BusSecurityError(f"{path}: mode {stat.S_IMODE(st.st_mode):04o}; others could read the key: "
                               f"run `chmod 600 {path}`", key)
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise BusSecurityError(f"{path}: cannot read ({exc.strerror})", key) from None
    return path


def tls_context(cfg: NatsTlsConfig, base: Path | None) -> ssl.SSLContext:
    """The client context: the files checked first, each problem one line under its key."""
    ca = _file(cfg.ca_file, base, "bus.tls.ca_file") if cfg.ca_file else None
    cert = _file(cfg.cert_file, base, "bus.tls.cert_file") if cfg.cert_file else None
    key = _file(cfg.key_file, base, "bus.tls.key_file", secret=True) if cfg.key_file else None
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca is not None:
        try:
            ctx.load_verify_locations(cafile=ca)
        except ssl.SSLError as exc:
            raise BusSecurityError(f"{ca}: not a PEM CA certificate ({exc.reason})", "bus.tls.ca_file") \
                from None
    if cert is not None and key is not None:
        try:
            ctx.load_cert_chain(cert, key)
        except ssl.SSLError as exc:
            raise BusSecurityError(f"{cert} and {key}: not a PEM certificate and its private key "
                                   f"({exc.reason})", "bus.tls.cert_file") from None
    return ctx
