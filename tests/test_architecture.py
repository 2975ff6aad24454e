"""The shape of the code: no two packages import each other, every counter is declared, and the
points that grow are registries (adding a sink touches only its own file)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

from nocsoc.component import Counters
from nocsoc.schema import FLOW_PIPELINE, LOG_COLLECTOR, SINK, SNMP_POLLER
from nocsoc.schema.selfmetrics import MEASUREMENTS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nocsoc"


def _unit(module: str) -> str:
    """The unit a module belongs to: a subpackage (`collectors.flows`, `detections`), or a
    top-level module on its own (`config`, `context`)."""
    parts = module.split(".")[1:]
    if not parts:
        return "nocsoc"
    if parts[0] == "collectors" and len(parts) > 1 and (PACKAGE / "collectors" / parts[1]).is_dir():
        return f"collectors.{parts[1]}"
    return parts[0] if (PACKAGE / parts[0]).is_dir() else f"{parts[0]}.py"


def import_graph() -> dict[str, dict[str, set[str]]]:
    """unit -> unit it imports -> the files that do."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for f in PACKAGE.rglob("*.py"):
        module = ".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        src = _unit(module)
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name == "nocsoc" or name.startswith("nocsoc."):
                    dst = _unit(name)
                    if dst != src:
                        graph[src][dst].add(str(f.relative_to(ROOT)))
    return graph


def test_no_two_packages_import_each_other() -> None:
    graph = import_graph()
    cycles = sorted(
        f"{a} <-> {b}: {sorted(graph[a][b])[0]} / {sorted(graph[b][a])[0]}"
        for a in graph for b in graph[a] if a < b and a in graph.get(b, {})
    )
    assert cycles == []


def test_the_graph_sees_a_cycle() -> None:
    """The check above can fail: the graph of the real tree has the edges it should."""
    graph = import_graph()
    assert "config.py" in graph["context.py"] and "collectors.flows" in graph["config.py"]
    assert "events.py" in graph["detections"] and "detections" in graph["collectors.logs"]


def test_an_undeclared_counter_is_an_error() -> None:
    c = Counters(FLOW_PIPELINE)
    c.add("late_records", 2)
    with pytest.raises(KeyError, match="'late_record' is not declared for flow_pipeline"):
        c.add("late_record")
    with pytest.raises(KeyError, match="not declared in log_collector"):
        Counters(LOG_COLLECTOR, only=("received", "recieved"))
    # every declared name is in the point from the start, counted or not
    assert c.point(1).fields == {"kernel_drops": 0, "app_drops": 0, "points": 0, "late_records": 2}


def test_every_self_metric_field_says_what_it_counts() -> None:
    undocumented = [f"{m.name}.{f.name}" for m in MEASUREMENTS for f in m.fields if not f.description]
    assert undocumented == []
    assert {"cycles", "polls_ok", "polls_failed", "auth_errors", "config_errors", "reboots",
            "counter_wraps", "counter_resets", "implausible_rates"} <= set(SNMP_POLLER.field_names)
    assert {"store_errors", "store_dropped", "deferred", "rotations", "truncations"} <= set(
        LOG_COLLECTOR.field_names)
    assert "errors" in SINK.field_names


PLUGIN = '''
"""`type: null`: discards points (a worked example of a sink plugin)."""

from __future__ import annotations

from typing import Literal

from nocsoc.paths import Resolver
from nocsoc.sinks.base import Sink
from nocsoc.sinks.memory import DiscardSink
from nocsoc.sinks.settings import SinkConfigBase, register_sink


@register_sink
class NullSinkConfig(SinkConfigBase):
    type: Literal["null"] = "null"
    note: str = ""

    def build(self, resolver: Resolver) -> Sink:
        return DiscardSink(self.sink_name)
'''

PROBE = '''
import sys
from pathlib import Path
from nocsoc.config import load_config
from nocsoc.context import Context
from nocsoc.sinks.settings import sink_types

cfg = Path(sys.argv[1])
ctx = Context(load_config(cfg), cfg)
sink = ctx.build_sink()
print(type(sink).__name__, sink.name, sorted(sink_types()))
'''


def test_a_new_sink_is_one_file(tmp_path: Path) -> None:
    """Drop a module into nocsoc/sinks/plugins of a copy of the tree: nocsoc.yaml accepts its
    type and the one builder builds it; nothing else was edited."""
    tree = tmp_path / "tree"
    tree.mkdir()
    subprocess.run(["cp", "-r", str(PACKAGE), str(tree / "nocsoc")], check=True)
    (tree / "nocsoc" / "sinks" / "plugins" / "null.py").write_text(textwrap.dedent(PLUGIN))
    cfg = tmp_path / "nocsoc.yaml"
    cfg.write_text("sinks:\n  - type: 'null'\n    name: nowhere\n    note: a worked example\n")
    out = subprocess.run([sys.executable, "-c", PROBE, str(cfg)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tree)}, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(" ", 2) == ["DiscardSink", "nowhere",
                                        "['influxdb', 'influxdb1', 'null', 'sqlite', 'stdout']\n"]
    # the unmodified tree refuses the type, naming the registered ones
    out = subprocess.run([sys.executable, "-c", PROBE, str(cfg)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, cwd=tmp_path)
    assert out.returncode == 1 and "unknown type 'null'" in out.stderr


PARSER = '''
"""ExampleFW firewall lines (a worked example of a log parser plugin)."""

from __future__ import annotations

from nocsoc.collectors.logs.parsers.base import Parsed, kv_pairs
from nocsoc.collectors.logs.parsers.registry import ParserSpec
from nocsoc.logsources import LogSource


def parse_examplefw(msg: str, app: str = "", state: object = None) -> Parsed | None:
    if not msg.startswith("EXAMPLEFW "):
        return None
    kv = kv_pairs(msg)
    return Parsed("examplefw", {"src_ip": kv.get("src"), "action": kv.get("action")}, "examplefw",
                  (), ("firewall",))


PARSERS = [ParserSpec("examplefw", parse_examplefw, (LogSource("examplefw", (), ("firewall",)),),
                      prefixes=("EXAMPLEFW ",), order=10, description="ExampleFW")]
'''

PARSER_PROBE = '''
from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.detections.loader import logsource_reason

LINE = "<134>Dec  6 10:00:00 fw1 EXAMPLEFW src=203.0.113.9 action=deny"
(ev,) = LineParser(default_host="fw1").events(LINE)
print(ev.parser, ev.fields.get("src_ip"), ev.fields.get("action"), ev.product, ev.categories,
      logsource_reason("examplefw", "firewall", None))
'''


def test_a_new_log_parser_is_one_file(tmp_path: Path) -> None:
    """Drop a parser module into nocsoc/collectors/logs/parsers of a copy of the tree: lines of
    its format are parsed into its fields, and rules of its logsource load; nothing else edited."""
    tree = tmp_path / "tree"
    tree.mkdir()
    subprocess.run(["cp", "-r", str(PACKAGE), str(tree / "nocsoc")], check=True)
    (tree / "nocsoc" / "collectors" / "logs" / "parsers" / "examplefw.py").write_text(textwrap.dedent(PARSER))
    out = subprocess.run([sys.executable, "-c", PARSER_PROBE], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tree)}, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["examplefw", "203.0.113.9", "deny", "examplefw", "('firewall',)", "None"]
    # the unmodified tree: the line is generic syslog, and the logsource is not ingested
    out = subprocess.run([sys.executable, "-c", PARSER_PROBE], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] != "examplefw" and "not ingested" in out.stdout
