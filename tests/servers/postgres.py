"""A real PostgreSQL server for tests: a fresh cluster in a temporary directory on a free
loopback port, with password (SCRAM) authentication, stopped and removed afterwards.

PostgreSQL refuses to run as root, so when the tests run as root (CI) the cluster belongs to
the `postgres` system user that Debian's package creates, and its commands run through runuser.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.base import LOOPBACK, ServerProcess, free_port, in_ci, wait_until


def pg_bindir() -> Path:
    """Debian's server binaries (/usr/lib/postgresql/<major>/bin), or skip (fail under CI)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        reason = "PostgreSQL server not installed (apt-get install postgresql)"
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    return Path(found[-1]).parent


@dataclass
class Postgres:
    port: int
    user: str
    password: str
    dbname: str

    @property
    def dsn(self) -> str:
        """The connection string without the password (which nocsoc takes as a secret)."""
        return f"postgresql://{self.user}@{LOOPBACK}:{self.port}/{self.dbname}"


def _accepts(pg: Postgres) -> bool:
    """A session can start (the port opens while the server is still "starting up")."""
    import psycopg

    try:
        with psycopg.connect(pg.dsn, password=pg.password, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def postgres_server(password: str = "s3cret-pg") -> Iterator[Postgres]:
    bindir = pg_bindir()
    root = Path(tempfile.mkdtemp(prefix="nocsoc-pg-"))
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    data = root / "data"
    pwfile = root / "pw"
    pwfile.write_text(password)
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    server = None
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "nocsoc",
                        "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"],
                       check=True, capture_output=True)
        server = ServerProcess("postgres", [*prefix, str(bindir / "postgres"), "-D", str(data),
                                            "-h", LOOPBACK, "-p", str(port), "-k", str(root),
                                            "-c", "fsync=off"], root / "log.txt")
        pg = Postgres(port, "nocsoc", password, "postgres")
        wait_until(lambda: _accepts(pg) or not server.alive(), 60, what="postgres to accept connections")
        if not server.alive():
            raise RuntimeError(f"postgres exited: {server.log_tail()}")
        yield pg
    finally:
        if server is not None:  # fast shutdown: SIGTERM would wait for every client to leave
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast",
                            "-w", "-t", "30"], capture_output=True)
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def create_database(pg: Postgres, name: str) -> str:
    """A new empty database on `pg`; its connection string (without the password)."""
    import psycopg

    with psycopg.connect(pg.dsn, password=pg.password, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://{pg.user}@{LOOPBACK}:{pg.port}/{name}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Postgres]:
    """One PostgreSQL server for the whole test session (each test makes its own database)."""
    with postgres_server() as pg:
        yield pg
