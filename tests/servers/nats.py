"""A real nats-server JetStream cluster (Debian nats-server 2.9.10) on 127.0.0.1 for tests.

Three nodes by default, each with its own client port, cluster (route) port, monitoring port
and JetStream store dir inside a temp dir; every node routes to the other two. The fixture
waits until the cluster has a JetStream meta leader (from each node's `/jsz` monitoring
endpoint), so a test can create replicated streams and key-value buckets at once.

`kill(i)` / `restart(i)` stop and start one node with the same ports and store dir, for
fault tests ("kill one NATS node -> nothing lost"). A missing nats-server skips the test with
the reason, and fails under CI=true (see base.require_binary).

Use it as a pytest fixture:

    from tests.servers.nats import nats_cluster  # noqa: F401  (re-exported fixture)

    def test_x(nats_cluster):
        url = nats_cluster.url          # "nats://127.0.0.1:p1,nats://127.0.0.1:p2,..."

or directly: `with NatsCluster(tmp_path) as cluster: ...`.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.servers.base import LOOPBACK, ServerProcess, free_port, require_binary, tcp_open, wait_until

CLUSTER_NAME = "nocsoc-test"

NODE_CONFIG = """\
server_name: {name}
listen: {loopback}:{port}
http: {loopback}:{http_port}
jetstream {{
  store_dir: "{store}"
  max_memory_store: 64MB
  max_file_store: 1GB
}}
cluster {{
  name: {cluster}
  listen: {loopback}:{cluster_port}
  routes: [
{routes}
  ]
}}
"""


def _jsz(http_port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{http_port}/jsz", timeout=2) as resp:
        data: dict[str, Any] = json.loads(resp.read())
        return data


def _serving(node: NatsNode) -> bool:
    """The node's own monitoring endpoint answers (so the client port is not someone else's)."""
    try:
        return _jsz(node.http_port).get("server_id") is not None
    except OSError:
        return False


class _PortTaken(TimeoutError):
    """A node exited at start-up because one of its ports was taken."""


def _await_listening(node: NatsNode, timeout: float) -> None:
    """Wait until `node` accepts clients; fail at once (with its log) if it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not node.alive():  # first: another process may be the one listening on its port
            tail = node.server.log_tail(1500) if node.server else ""
            kind = _PortTaken if "address already in use" in tail.lower() else TimeoutError
            raise kind(f"nats {node.name} exited before listening on {node.port}:\n{tail}")
        if node.listening() and _serving(node):
            return
        time.sleep(0.05)
    tail = node.server.log_tail(1500) if node.server else ""
    raise TimeoutError(f"timed out after {timeout}s waiting for nats {node.name} client port "
                       f"{node.port}:\n{tail}")


class NatsNode:
    """One node's addresses, config and (when running) process."""

    def __init__(self, binary: str, root: Path, index: int) -> None:
        self.binary = binary
        self.name = f"n{index + 1}"
        self.root = root / self.name
        self.root.mkdir(parents=True, exist_ok=True)
        self.server: ServerProcess | None = None
        self.new_ports()

    def new_ports(self) -> None:
        self.port = free_port()
        self.cluster_port = free_port()
        self.http_port = free_port()

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    def write_config(self, peers: list[NatsNode]) -> Path:
        routes = "\n".join(f"    nats-route://{LOOPBACK}:{p.cluster_port}" for p in peers if p is not self)
        conf = self.root / "nats.conf"
        conf.write_text(NODE_CONFIG.format(
            name=self.name, loopback=LOOPBACK, port=self.port, http_port=self.http_port,
            store=self.root / "js", cluster=CLUSTER_NAME, cluster_port=self.cluster_port,
            routes=routes,
        ))
        return conf

    def start(self) -> None:
        conf = self.root / "nats.conf"
        self.server = ServerProcess(f"nats-server {self.name}", [self.binary, "-c", str(conf)],
                                    self.root / "server.log")

    def alive(self) -> bool:
        return self.server is not None and self.server.alive()

    def listening(self) -> bool:
        return tcp_open(self.port)

    def stop(self, hard: bool = False) -> None:
        if self.server is None:
            return
        if hard and self.server.alive():
            self.server.proc.kill()
            self.server.proc.wait(10)
        self.server.stop()
        self.server = None

    def meta_leader(self) -> str | None:
        """The cluster's JetStream meta leader as this node sees it, or None."""
        meta = _jsz(self.http_port).get("meta_cluster") or {}
        leader = meta.get("leader")
        return str(leader) if leader else None


class NatsCluster:
    """A running N-node JetStream cluster on loopback; stop() never leaves a node running."""

    def __init__(self, root: Path, nodes: int = 3, binary: str | None = None) -> None:
        self.binary = binary or require_binary("nats-server", "nats-server")
        self.root = root
        self.nodes = [NatsNode(self.binary, root, i) for i in range(nodes)]
        self.write_configs()

    def write_configs(self) -> None:
        for node in self.nodes:
            node.write_config(self.nodes)

    @property
    def url(self) -> str:
        """Every node's client URL, comma separated (nats-py and `bus.url` accept this form)."""
        return ",".join(n.url for n in self.nodes)

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def start(self, timeout: float = 30.0, attempts: int = 3) -> NatsCluster:
        """Start every node; a node that exits at start-up because a port was taken meanwhile
        (another process bound it between free_port and nats-server) gets fresh ports."""
        for attempt in range(attempts):
            for node in self.nodes:
                node.start()
            try:
                self.wait_ready(timeout)
                return self
            except _PortTaken:
                self.stop()
                if attempt == attempts - 1:
                    raise
                for node in self.nodes:
                    node.new_ports()
                self.write_configs()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until every running node listens and agrees on a JetStream meta leader."""
        running = [n for n in self.nodes if n.alive()]
        for node in running:
            _await_listening(node, timeout)

        def agreed() -> bool:
            leaders = {n.meta_leader() for n in running}
            return len(leaders) == 1 and None not in leaders
        try:
            wait_until(agreed, timeout, interval=0.1, what="JetStream meta leader")
        except TimeoutError as exc:
            tails = "\n".join(f"--- {n.name}\n{n.server.log_tail(1500) if n.server else ''}" for n in running)
            raise TimeoutError(f"{exc}\n{tails}") from None

    def kill(self, index: int) -> None:
        """SIGKILL one node (a crash, not a clean shutdown); its store dir and ports are kept."""
        self.nodes[index].stop(hard=True)

    def restart(self, index: int, timeout: float = 30.0) -> None:
        node = self.nodes[index]
        node.stop()
        node.start()
        self.wait_ready(timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {n.name}\n{n.server.log_tail() if n.server else '(stopped)'}"
                         for n in self.nodes)

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class NatsSingle(NatsCluster):
    """One JetStream node without a cluster block (fast; for tests that need no replication)."""

    extra_config = ""

    def __init__(self, root: Path, binary: str | None = None) -> None:
        super().__init__(root, nodes=1, binary=binary)

    def write_configs(self) -> None:
        node = self.nodes[0]
        (node.root / "nats.conf").write_text(
            f"server_name: {node.name}\nlisten: {LOOPBACK}:{node.port}\nhttp: {LOOPBACK}:{node.http_port}\n"
            f'jetstream {{\n  store_dir: "{node.root / "js"}"\n  max_memory_store: 64MB\n'
            f"  max_file_store: 1GB\n}}\n" + self.extra_config
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        node = self.nodes[0]
        _await_listening(node, timeout)
        wait_until(lambda: bool(_jsz(node.http_port).get("config")), timeout, what="JetStream enabled")


@contextmanager
def _running(server: NatsCluster) -> Iterator[NatsCluster]:
    """`server` started, and stopped whatever the test does (kills included)."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """A fresh 3-node JetStream cluster per test (fault tests kill nodes, so never shared)."""
    with _running(NatsCluster(tmp_path_factory.mktemp("nats-cluster"))) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def nats_cluster_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """One 3-node cluster shared by a module's tests (they must not kill nodes)."""
    with _running(NatsCluster(tmp_path_factory.mktemp("nats-cluster"))) as cluster:
        yield cluster


@pytest.fixture
def nats_single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """One JetStream node (no replication) per test."""
    with _running(NatsSingle(tmp_path_factory.mktemp("nats-single"))) as server:
        yield server


class NatsConfigured(NatsSingle):
    """One JetStream node with extra config blocks appended (authorization, tls, ...)."""

    def __init__(self, root: Path, block: str) -> None:
        self.extra_config = block
        super().__init__(root)
