"""Console users, sessions and API tokens, in one SQLite file (`web.users_db`).

Passwords are argon2id hashes (argon2-cffi). Session ids and API tokens are 256-bit random
strings: only their SHA-256 is stored, so a copy of the database opens nothing (a slow hash adds
nothing for a value with 256 bits of entropy). Failed logins are counted per account; the
`lockout_failures`-th in a row locks it for `lockout_s`. Rate limits are token buckets in memory
(a restart forgets them; the lockout, which matters, is on disk).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "analyst", "admin")
# what each role may do; an API token carries scopes from the same vocabulary
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read:alerts", "read:kpi", "read:inventory"}),
    "analyst": frozenset({"read:alerts", "read:kpi", "read:inventory", "write:triage"}),
    "admin": frozenset({"read:alerts", "read:kpi", "read:inventory", "write:triage", "admin"}),
}
SCOPES = ("read:alerts", "read:kpi", "read:inventory", "write:triage")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created_at REAL NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL, created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL, created_by TEXT NOT NULL, created_at REAL NOT NULL, revoked_at REAL,
    last_used REAL
);
"""


class AuthError(ValueError):
    """A user or token operation that cannot be done (named)."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: float
    failures: int
    locked_until: float

    @property
    def scopes(self) -> frozenset[str]:
        return ROLE_SCOPES[self.role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    scopes: tuple[str, ...]
    created_by: str
    created_at: float
    revoked_at: float | None
    last_used: float | None


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str  # ok | bad | locked
    session_id: str = ""
    locked_now: bool = False


class RateLimiter:
    """Token bucket per key: `per_minute` calls, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            level, at = self._buckets.get(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            if level < 1.0:
                self._buckets[key] = (level, now)
                return False
            self._buckets[key] = (level - 1.0, now)
            if len(self._buckets) > 100_000:  # bound memory against address spraying
                self._buckets.clear()
            return True


class AuthStore:
    def __init__(
        self,
        path: Path,
        *,
        lockout_failures: int = 10,
        lockout_s: float = 900.0,
        session_ttl_s: float = 8 * 3600.0,
        idle_timeout_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lockout_failures = lockout_failures
        self.lockout_s = lockout_s
        self.session_ttl_s = session_ttl_s
        self.idle_timeout_s = idle_timeout_s
        self.clock = clock
        self._hasher = PasswordHasher()
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._lock:
            self._db.executescript(_SCHEMA)
        path.chmod(0o600)
        # a hash to verify against for unknown names, so their timing matches a known one's
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuthStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- users -------------------------------------------------------------------------------

    @staticmethod
    def check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AuthError(f"password too short: at least {MIN_PASSWORD} characters")

    def add_user(self, name: str, role: str, password: str) -> User:
        if not NAME_RE.match(name):
            raise AuthError(f"user name {name!r}: letters, digits and . _ @ - (at most 64)")
        if role not in ROLES:
            raise AuthError(f"role {role!r}: one of {', '.join(ROLES)}")
        self.check_password(password)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users (name, role, hash, created_at) VALUES (?,?,?,?)",
                    (name, role, self._hasher.hash(password), self.clock()),
                )
            except sqlite3.IntegrityError:
                raise AuthError(f"user {name} exists already") from None
        return self.user(name)  # type: ignore[return-value]

    def user(self, name: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, role, created_at, failures, locked_until FROM users WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else User(**dict(row))

    def users(self) -> list[User]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, role, created_at, failures, locked_until FROM users ORDER BY name"
            ).fetchall()
        return [User(**dict(r)) for r in rows]

    def remove_user(self, name: str) -> None:
        with self._lock:
            if self._db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise AuthError(f"no user {name}")
            self._db.execute("DELETE FROM sessions WHERE user = ?", (name,))

    def set_password(self, name: str, password: str) -> None:
        self.check_password(password)
        with self._lock:
            cur = self._db.execute(
                "UPDATE users SET hash = ?, failures = 0, locked_until = 0 WHERE name = ?",
                (self._hasher.hash(password), name),
            )
            if cur.rowcount == 0:
                raise AuthError(f"no user {name}")
            self._db.execute("DELETE FROM sessions WHERE user = ?", (name,))

    def login(self, name: str, password: str) -> LoginResult:
        """Check a password; count the failure, lock after `lockout_failures` in a row."""
        now = self.clock()
        with self._lock:
            row = self._db.execute(
                "SELECT hash, failures, locked_until FROM users WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                with contextlib.suppress(VerificationError, InvalidHashError):
                    self._hasher.verify(self._dummy, password)
                return LoginResult(False, "bad")
            if row["locked_until"] > now:
                return LoginResult(False, "locked")
            try:
                self._hasher.verify(row["hash"], password)
            except (VerificationError, InvalidHashError):
                failures = int(row["failures"]) + 1
                locked = failures >= self.lockout_failures
                self._db.execute(
                    "UPDATE users SET failures = ?, locked_until = ? WHERE name = ?",
                    (0 if locked else failures, now + self.lockout_s if locked else 0, name),
                )
                return LoginResult(False, "locked" if locked else "bad", locked_now=locked)
            self._db.execute("UPDATE users SET failures = 0, locked_until = 0 WHERE name = ?", (name,))
            sid = secrets.token_urlsafe(32)
            self._db.execute(
                "INSERT INTO sessions (id, user, csrf, created_at, last_seen) VALUES (?,?,?,?,?)",
                (_digest(sid), name, secrets.token_urlsafe(32), now, now),
            )
            self._db.execute(
                "DELETE FROM sessions WHERE created_at < ? OR last_seen < ?",
                (now - self.session_ttl_s, now - self.idle_timeout_s),
            )
        return LoginResult(True, "ok", sid)

    def session(self, sid: str) -> Session | None:
        if not sid:
            return None
        now = self.clock()
        key = _digest(sid)
        with self._lock:
            row = self._db.execute(
                "SELECT user, csrf, created_at, last_seen FROM sessions WHERE id = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            if row["created_at"] < now - self.session_ttl_s or row["last_seen"] < now - self.idle_timeout_s:
                self._db.execute("DELETE FROM sessions WHERE id = ?", (key,))
                return None
            if now - row["last_seen"] > 30:
                self._db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, key))
        user = self.user(row["user"])
        return None if user is None else Session(user, row["csrf"])

    def session_for_user(self, name: str) -> Session | None:
        """A proxy-authenticated user's session: made on first sight, reused after."""
        user = self.user(name)
        if user is None:
            return None
        key, now = _digest("proxy:" + name), self.clock()
        with self._lock:
            row = self._db.execute("SELECT csrf FROM sessions WHERE id = ?", (key,)).fetchone()
            if row is None:
                csrf = secrets.token_urlsafe(32)
                self._db.execute(
                    "INSERT INTO sessions (id, user, csrf, created_at, last_seen) VALUES (?,?,?,?,?)",
                    (key, name, csrf, now, now),
                )
            else:
                csrf = row["csrf"]
                self._db.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, key))
        return Session(user, csrf)

    def logout(self, sid: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (_digest(sid),))

    # --- API tokens --------------------------------------------------------------------------

    def create_token(self, name: str, scopes: list[str], created_by: str) -> tuple[Token, str]:
        """A new token: (record, the secret, shown once and never stored)."""
        bad = [s for s in scopes if s not in SCOPES]
        if bad or not scopes:
            raise AuthError(f"scope(s) {', '.join(bad) or '(none)'}: choose from {', '.join(SCOPES)}")
        secret = "nst_" + secrets.token_urlsafe(32)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO tokens (name, hash, scopes, created_by, created_at) VALUES (?,?,?,?,?)",
                (name, _digest(secret), " ".join(sorted(set(scopes))), created_by, self.clock()),
            )
        return self.token(int(cur.lastrowid or 0)), secret  # type: ignore[return-value]

    def token(self, tid: int) -> Token | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, scopes, created_by, created_at, revoked_at, last_used "
                "FROM tokens WHERE id = ?",
                (tid,),
            ).fetchone()
        if row is None:
            return None
        d = dict(row)
        d["scopes"] = tuple(d["scopes"].split())
        return Token(**d)

    def tokens(self) -> list[Token]:
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM tokens ORDER BY id")]
        return [t for t in (self.token(i) for i in ids) if t is not None]

    def revoke_token(self, tid: int) -> None:
        with self._lock:
            cur = self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (self.clock(), tid)
            )
        if cur.rowcount == 0:
            raise AuthError(f"no active token {tid}")

    def check_token(self, secret: str) -> Token | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM tokens WHERE hash = ? AND revoked_at IS NULL", (_digest(secret),)
            ).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (self.clock(), row[0]))
        return self.token(int(row[0]))
