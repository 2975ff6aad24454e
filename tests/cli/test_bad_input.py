"""No traceback for a user's mistake: every command, run with bad arguments, prints one `error:`
line naming the bad thing and exits 2.

The commands are found by walking the typer app, so a new command is covered without editing
this file, and a new parameter whose mistakes matter (a path, an address, a URL, the name of an
environment variable) fails `test_every_risky_parameter_has_a_kind` until it is given a kind
below. Each kind brings its bad values: out-of-range and in-use ports, nonexistent paths,
files where directories are expected and the other way round, unwritable outputs (/proc), unset
environment variables, broken YAML. They run in-process (typer's CliRunner); one case of each
command that starts processes or servers, and the three cases the issue names, run as a user
runs them.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.inventory.sample import init_project

ROOT_COMMAND = typer.main.get_command(app)


def _walk(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(cmd, "commands", None)
    if subs is None:
        yield path, cmd
        return
    for name, sub in sorted(subs.items()):
        yield from _walk(sub, (*path, name))


COMMANDS: dict[tuple[str, ...], Any] = dict(_walk(ROOT_COMMAND))

# Arguments that make each command valid (apart from the one bad thing a case changes), and
# bound the long-running ones. A command with a required parameter must be listed.
VALID: dict[tuple[str, ...], list[str]] = {
    ("alerts", "ack"): ["1"],
    ("alerts", "assign"): ["1", "--to", "ana"],
    ("alerts", "close"): ["1", "--reason", "seen"],
    ("alerts", "reopen"): ["1"],
    ("alerts", "show"): ["1"],
    ("alerts", "suppress"): ["nocsoc_ssh_bruteforce", "--where", "src_ip=198.51.100.7", "--for", "7d"],
    ("alerts", "unsuppress"): ["1"],
    ("dashboards", "check"): ["--influx-url", "http://127.0.0.1:9"],
    ("dashboards", "push"): ["--url", "http://127.0.0.1:9", "--dry-run"],
    ("demo",): ["--duration", "10"],
    ("detect",): ["{log}", "--store"],
    ("discover",): ["127.0.0.1/32", "--profile", "servers-v2c"],
    ("flows", "decode"): ["{log}"],
    ("flows", "listen"): ["--duration", "1"],
    ("inventory", "add"): ["x-new-1", "--address", "127.0.0.99", "--role", "core", "--site",
                           "dongxoai", "--profile", "servers-v2c"],
    ("inventory", "import"): ["{workspace}/inventory.yaml", "--dry-run"],
    ("inventory", "remove"): ["dongxoai-core-01", "--yes"],
    ("inventory", "show"): ["dongxoai-core-01"],
    ("inventory", "update"): ["dongxoai-core-01", "--set", "vendor=Cisco"],
    ("logs", "listen"): ["--duration", "1"],
    ("poll",): ["--once"],
    ("rules", "test"): ["nocsoc_ssh_bruteforce", "{log}"],
    ("run",): ["--duration", "1"],
    ("simulate",): ["--duration", "1"],
    ("top",): ["--once"],
    ("profiles", "show"): ["cisco"],
    ("flows", "query"): ["--ip", "203.0.113.45"],
    ("profiles", "test"): ["{root}/walk.snmprec"],
    ("traps", "listen"): ["--duration", "1"],
    ("notify", "test"): ["soc"],
    ("tokens", "create"): ["--scope", "read:kpi"],
    ("tokens", "revoke"): ["1"],
    ("users", "add"): ["ana", "--role", "analyst", "--password-stdin"],
    ("users", "passwd"): ["ana", "--password-stdin"],
    ("users", "remove"): ["ana"],
}

# Commands that start servers, processes or agents: their first case also runs as a user runs
# it (a subprocess, bounded by a timeout); the rest in-process, like every other command.
SUBPROCESS = {("demo",), ("logs", "listen"), ("run",), ("simulate",)}

# Commands that never read nocsoc.yaml (so a broken one is no mistake for them).
NO_CONFIG = {("demo",), ("flows", "decode"), ("init",), ("rules", "check"), ("rules", "list"),
             ("rules", "test")}

# What each risky parameter is, by (command, parameter name); the kind picks the bad values.
KINDS: dict[tuple[tuple[str, ...], str], str] = {
    (("alerts", "ack"), "db"): "store",
    (("alerts", "assign"), "db"): "store",
    (("alerts", "assign"), "to"): "free",  # a user name
    (("alerts", "suppress"), "rules"): "in-path",
    (("alerts", "close"), "db"): "store",
    (("alerts", "list"), "db"): "store",
    (("alerts", "reopen"), "db"): "store",
    (("alerts", "show"), "db"): "store",
    (("alerts", "suppress"), "db"): "store",
    (("alerts", "suppressions"), "db"): "store",
    (("alerts", "unsuppress"), "db"): "store",
    (("dashboards", "build"), "out"): "out-dir",
    (("dashboards", "build"), "jsonschema_dir"): "in-dir",
    (("dashboards", "build"), "dashboards_path"): "free",  # a path inside Grafana, not here
    (("dashboards", "check"), "influx_url"): "url",
    (("dashboards", "push"), "url"): "url",
    (("dashboards", "push"), "token_env"): "env-name",
    (("demo",), "workdir"): "out-dir",
    (("detect",), "files"): "in-log",  # any bytes: a line it cannot parse is counted unparsed
    (("detect",), "rules"): "in-path",
    (("detect",), "db"): "store",
    (("flows", "decode"), "pcap"): "in-file",
    (("flows", "listen"), "bind"): "bind-udp",
    (("flows", "listen"), "sflow_bind"): "bind-udp",
    (("init",), "directory"): "out-dir",
    (("inventory", "export"), "output"): "out-file",
    (("inventory", "import"), "file"): "in-file",
    (("logs", "listen"), "bind"): "bind-udp-tcp",
    (("logs", "listen"), "file"): "log-file",
    (("logs", "listen"), "db"): "store",
    (("rules", "check"), "paths"): "in-path",
    (("rules", "list"), "rules"): "in-path",
    (("rules", "test"), "logfile"): "in-file",
    (("rules", "test"), "rules"): "in-path",
    (("simulate",), "inventory"): "in-file",
    (("simulate",), "script"): "in-yaml",
    (("simulate",), "manifest"): "out-file",
    (("simulate",), "flows_to"): "dest",
    (("simulate",), "syslog_to"): "dest",
    (("topology",), "out"): "out-file",
    (("profiles", "test"), "walk"): "in-file",
    (("traps", "listen"), "bind"): "bind-udp",
    (("web",), "bind"): "bind-tcp",
}

RISKY_NAME = re.compile(r"(^|_)(bind|url|env|to|path|paths|dir|directory|workdir|file|files|logfile|pcap|"
                        r"out|output|db|manifest|script|inventory|rules)$")


def _is_path(annotation: Any) -> bool:
    return annotation is Path or any(_is_path(a) for a in typing.get_args(annotation))


def _is_number(annotation: Any) -> bool:
    return annotation in (int, float) or any(_is_number(a) for a in typing.get_args(annotation))


# Numbers out of their range, where a command has one (every number also gets "abc").
OUT_OF_RANGE: list[tuple[tuple[str, ...], str, str]] = [
    (("dashboards", "check"), "--range", "-5"),
    (("discover",), "--port", "99999"),
    (("flows", "listen"), "--interval", "-5"),
    (("flows", "listen"), "--top-n", "0"),
    (("inventory", "add"), "--snmp-port", "99999"),
    (("inventory", "add"), "--poll-interval", "-1"),
    (("run",), "--duration", "-1"),
    (("simulate",), "--flow-sampling", "0"),
    (("simulate",), "--speed", "0"),
    (("top",), "--interval", "0"),
]


def _params(cmd: Any) -> dict[str, Any]:
    """Each parameter of a command: name -> its annotation (from the function typer wraps)."""
    fn = cmd.callback
    fn = getattr(fn, "__wrapped__", fn)
    hints = typing.get_type_hints(fn)
    return {p.name: hints.get(p.name) for p in cmd.params}


def _option(cmd: Any, name: str) -> str | None:
    """The first flag of parameter `name` (None for a positional argument)."""
    p = next(p for p in cmd.params if p.name == name)
    return None if p.param_type_name == "argument" else p.opts[0]


def test_every_command_is_found() -> None:
    assert {("inventory", "export"), ("flows", "listen"), ("dashboards", "build"), ("run",),
            ("simulate",), ("alerts", "ack")} <= set(COMMANDS)
    assert len(COMMANDS) >= 36


def test_every_command_with_required_parameters_has_valid_arguments() -> None:
    missing = [" ".join(path) for path, cmd in COMMANDS.items()
               if any(p.required for p in cmd.params) and path not in VALID]
    assert missing == [], f"add valid arguments to VALID for: {missing}"


def test_every_risky_parameter_has_a_kind() -> None:
    missing = [f"{' '.join(path)} {name}" for path, cmd in COMMANDS.items()
               for name, annotation in _params(cmd).items()
               if (_is_path(annotation) or RISKY_NAME.search(name)) and (path, name) not in KINDS
               and name != "json_out"]
    assert missing == [], f"say in KINDS what these parameters are: {missing}"
    stale = [k for k in KINDS if k[0] not in COMMANDS or k[1] not in _params(COMMANDS[k[0]])]
    assert stale == []


# --- the workspace every case runs in ----------------------------------------------------------


@dataclass
class Workspace:
    root: Path
    config: Path
    log: Path
    a_dir: Path
    a_text: Path
    a_binary: Path
    broken_yaml: Path
    busy_udp: int
    busy_tcp: int


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("bad-input")
    init_project(root)
    log = root / "auth.log"
    log.write_text("Dec  6 10:00:00 portal sshd[1]: Failed password for root from 198.51.100.7 port 22 "
                   "ssh2\n", encoding="utf-8")
    (root / "a-dir").mkdir()
    (root / "walk.snmprec").write_text("1.3.6.1.2.1.1.1.0|4|Linux lab 6.1\n"
                                       "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10\n", encoding="utf-8")
    text = root / "notes.txt"
    text.write_text("not a database, not a capture, not YAML: plain words that are long enough "
                    "to be more than one page header of any binary format anyone reads here.\n" * 8)
    binary = root / "capture.bin"  # not UTF-8, not a capture, not a database
    binary.write_bytes(bytes(range(256)) * 4)
    broken = root / "broken.yaml"
    broken.write_text("sinks: [\n  - type: sqlite\n", encoding="utf-8")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    try:
        yield Workspace(root, root / "nocsoc.yaml", log, root / "a-dir", text, binary, broken,
                        udp.getsockname()[1], tcp.getsockname()[1])
    finally:
        udp.close()
        tcp.close()


# --- cases ---------------------------------------------------------------------------------------


@dataclass
class Case:
    path: tuple[str, ...]
    args: list[str]  # with {placeholders} filled from the workspace
    names: str  # what the error line must name
    global_args: tuple[str, ...] = ()
    env: tuple[tuple[str, str | None], ...] = ()  # variables to set (None: unset)
    several: bool = False  # one `error:` line per problem (a file with several)

    @property
    def id(self) -> str:
        return " ".join([*self.global_args, *self.path, *self.args])


def _bad_values(kind: str) -> list[tuple[str, str]]:
    """(bad value, what the error must name) for a parameter kind."""
    return {
        "out-file": [("/nonexistent/x", "/nonexistent"), ("/proc/x", "/proc/x"), ("{a_dir}", "{a_dir}")],
        "out-dir": [("/proc/x", "/proc/x"), ("{a_text}", "{a_text}")],
        "in-file": [("/nonexistent/x.yaml", "/nonexistent/x.yaml"), ("{a_dir}", "{a_dir}"),
                    ("{a_binary}", "{a_binary}")],
        "in-log": [("/nonexistent/x.log", "/nonexistent/x.log"), ("{a_dir}", "{a_dir}")],
        "in-yaml": [("/nonexistent/x.yaml", "/nonexistent/x.yaml"), ("{a_dir}", "{a_dir}"),
                    ("{broken_yaml}", "broken.yaml"), ("{a_binary}", "{a_binary}")],
        "in-dir": [("/nonexistent/dir", "/nonexistent/dir"), ("{a_text}", "{a_text}")],
        "in-path": [("/nonexistent/rules", "/nonexistent/rules")],
        "log-file": [("{a_dir}", "{a_dir}")],
        "store": [("/proc/x/alerts.db", "/proc/x"), ("{a_dir}", "{a_dir}"), ("{a_text}", "{a_text}")],
        "bind-udp": [("127.0.0.1:99999", "127.0.0.1:99999"), ("nonsense", "nonsense"),
                     ("127.0.0.1:{busy_udp}", "127.0.0.1:{busy_udp}")],
        "bind-udp-tcp": [("127.0.0.1:99999", "127.0.0.1:99999"), ("nonsense", "nonsense"),
                         ("127.0.0.1:{busy_udp}", "127.0.0.1:{busy_udp}"),
                         ("127.0.0.1:{busy_tcp}", "127.0.0.1:{busy_tcp}")],
        "bind-tcp": [("127.0.0.1:99999", "127.0.0.1:99999"), ("nonsense", "nonsense"),
                     ("127.0.0.1:{busy_tcp}", "127.0.0.1:{busy_tcp}")],
        "dest": [("127.0.0.1:99999", "99999"), ("nonsense", "nonsense"), ("10.0.0.5:2055", "10.0.0.5")],
        "url": [("nonsense", "nonsense"), ("http://127.0.0.1:99999", "127.0.0.1:99999")],
        "env-name": [("NOCSOC_TEST_UNSET_TOKEN", "NOCSOC_TEST_UNSET_TOKEN")],
        "free": [],
    }[kind]


def _cases() -> list[Case]:
    cases: list[Case] = []
    for path, cmd in COMMANDS.items():
        valid = VALID.get(path, [])
        if path not in NO_CONFIG:  # a broken nocsoc.yaml: file and line named
            cases.append(Case(path, valid, "broken.yaml:", global_args=("-c", "{broken_yaml}")))
            cases.append(Case(path, valid, "/nonexistent/nocsoc.yaml",
                              global_args=("-c", "/nonexistent/nocsoc.yaml")))
            cases.append(Case(path, valid, "{a_dir}", global_args=("-c", "{a_dir}")))
            cases.append(Case(path, valid, "{a_binary}", global_args=("-c", "{a_binary}")))
        for name, annotation in _params(cmd).items():
            flag = _option(cmd, name)
            if _is_number(annotation) and flag is not None:  # not a number at all
                cases.append(Case(path, [*_without(valid, flag), flag, "abc"], flag))
            kind = KINDS.get((path, name))
            if kind is None:
                continue
            flag = _option(cmd, name)
            for value, names in _bad_values(kind):
                if flag is None:  # a positional argument: replace the valid one, or add it
                    args = [value if a == _positional_default(path, cmd, name) else a for a in valid]
                    if args == valid:
                        args = [*valid, value]
                else:
                    args = [*_without(valid, flag), flag, value]
                cases.append(Case(path, args, names))
    for path, flag, value in OUT_OF_RANGE:
        cases.append(Case(path, [*_without(VALID.get(path, []), flag), flag, value], flag))
    cases.append(Case(("simulate",), ["--duration", "1", "--flow-version", "7"], "--flow-version"))
    cases.append(Case(("simulate",), ["--duration", "1", "--start-time", "25:00"], "25:00"))
    cases.append(Case(("inventory", "add"), [*_without(VALID[("inventory", "add")], "--address"),
                                              "--address", "nonsense"], "nonsense"))
    # Unset secrets: the sample inventory's SNMP community, a sink's token.
    unset = (("NOCSOC_SNMP_COMMUNITY", None), ("NOCSOC_SNMP_AUTH", None), ("NOCSOC_SNMP_PRIV", None))
    cases.append(Case(("inventory", "validate"), ["--secrets"], "NOCSOC_SNMP_", env=unset, several=True))
    cases.append(Case(("simulate",), ["--duration", "1"], "NOCSOC_SNMP_", env=unset))
    for path in [("flows", "listen"), ("logs", "listen"), ("poll",), ("run",)]:
        cases.append(Case(path, VALID.get(path, []), "NOCSOC_TEST_UNSET_INFLUX_TOKEN",
                          global_args=("-c", "{root}/influx-sink.yaml"),
                          env=(("NOCSOC_TEST_UNSET_INFLUX_TOKEN", None),),
                          several=path == ("run",)))  # run lists every problem `nocsoc check` finds
    # `run --role`: an unknown role; a bus role without a bus; a bus url that is not one.
    cases.append(Case(("run",), ["--duration", "1", "--role", "bogus"], "--role"))
    cases.append(Case(("run",), ["--duration", "1", "--role", "decoder"], "bus.url"))
    cases.append(Case(("run",), ["--duration", "1", "--role", "receiver"], "bus-bad-url.yaml:3",
                      global_args=("-c", "{root}/bus-bad-url.yaml")))
    cases.append(Case(("run",), ["--duration", "1", "--role", "detector"], "compare-and-set",
                      global_args=("-c", "{root}/bus-kafka.yaml")))
    # A broken inventory named by the config.
    for path in [("inventory", "list"), ("poll",), ("flows", "listen")]:
        cases.append(Case(path, VALID.get(path, []), "inventory-broken.yaml:",
                          global_args=("-c", "{root}/broken-inventory.yaml")))
    return cases


def _positional_default(path: tuple[str, ...], cmd: Any, name: str) -> str | None:
    """The valid value VALID gives positional `name` (the n-th positional of the command)."""
    positionals = [p.name for p in cmd.params if p.param_type_name == "argument"]
    given = [a for a in VALID.get(path, []) if not a.startswith("-")]
    i = positionals.index(name)
    return given[i] if i < len(given) else None


def _without(args: list[str], flag: str) -> list[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == flag:
            skip = True
            continue
        out.append(a)
    return out


CASES = _cases()


def _fill(text: str, ws: Workspace) -> str:
    return text.format(root=ws.root, log=ws.log, a_dir=ws.a_dir, a_text=ws.a_text, a_binary=ws.a_binary,
                       workspace=ws.root,
                       broken_yaml=ws.broken_yaml, busy_udp=ws.busy_udp, busy_tcp=ws.busy_tcp)


def _extra_configs(ws: Workspace) -> None:
    (ws.root / "influx-sink.yaml").write_text(
        "inventory: inventory.yaml\nsinks:\n  - type: influxdb\n    url: http://127.0.0.1:9\n"
        "    org: o\n    bucket: b\n    token: env:NOCSOC_TEST_UNSET_INFLUX_TOKEN\n", encoding="utf-8")
    (ws.root / "inventory-broken.yaml").write_text("devices:\n  - name: [\n", encoding="utf-8")
    (ws.root / "broken-inventory.yaml").write_text("inventory: inventory-broken.yaml\n", encoding="utf-8")
    (ws.root / "bus-bad-url.yaml").write_text("inventory: inventory.yaml\nbus:\n  url: redis://127.0.0.1:6379\n",
                                             encoding="utf-8")
    (ws.root / "bus-kafka.yaml").write_text("inventory: inventory.yaml\nbus:\n  url: kafka://127.0.0.1:9\n",
                                           encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_gives_one_error_line_and_exit_2(case: Case, ws: Workspace,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _extra_configs(ws)
    args = [_fill(a, ws) for a in (*case.global_args, *case.path, *case.args)]
    names = _fill(case.names, ws)
    env = {"NOCSOC_SNMP_COMMUNITY": "c-bad-input", "NOCSOC_SNMP_AUTH": "a-bad-input-1",
           "NOCSOC_SNMP_PRIV": "p-bad-input-1", "COLUMNS": "200"}
    env.update({k: v for k, v in case.env if v is not None})
    unset = [k for k, v in case.env if v is None]
    for k in unset:
        env.pop(k, None)
    if case.path in SUBPROCESS and case is next(c for c in CASES if c.path == case.path):
        full = {k: v for k, v in os.environ.items() if k not in unset and k != "NOCSOC_CONFIG"}
        full.update(env)
        proc = subprocess.run([sys.executable, "-m", "nocsoc", *args], capture_output=True, text=True,
                              timeout=60, cwd=ws.root, env=full)
        code, output = proc.returncode, proc.stdout + proc.stderr
    else:
        monkeypatch.chdir(ws.root)
        # a handler an earlier in-process `run` configured writes to that run's closed stderr
        monkeypatch.setattr(logging.root, "handlers", [])
        monkeypatch.delenv("NOCSOC_CONFIG", raising=False)
        for k in unset:
            monkeypatch.delenv(k, raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        result = CliRunner().invoke(app, args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{' '.join(args)} raised {result.exception!r}") from result.exception
        code, output = result.exit_code, result.output
    _assert_one_error(args, code, output, names, case.several)


def _assert_one_error(args: list[str], code: int, output: str, names: str, several: bool = False) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    shown = f"`nocsoc {' '.join(args)}` gave exit {code}:\n{output[-2000:]}"
    assert "Traceback" not in output, shown
    assert code == 2, shown
    if several:  # a report: one line per problem (`file:line: ...`), warnings, an `error:` line
        problem = re.compile(r"\S+:\d+: ")
        assert lines and all(line.startswith(("error:", "warning:")) or problem.match(line)
                             for line in lines), shown
        assert any(names in line for line in lines), f"the error does not name {names!r}: " + shown
        return
    assert len(lines) == 1 and lines[0].startswith("error:"), shown
    assert names in lines[0], f"the error does not name {names!r}: " + shown


# --- as a user runs them: the cases the issue names ---------------------------------------------


@pytest.mark.parametrize("args, names", [
    (["flows", "listen", "--bind", "127.0.0.1:99999"], "127.0.0.1:99999"),
    (["inventory", "export", "-o", "/nonexistent/x"], "/nonexistent"),
    (["dashboards", "build", "--out", "/proc/x"], "/proc/x"),
])
def test_named_cases_from_the_shell(args: list[str], names: str, ws: Workspace) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NOCSOC_CONFIG"}
    proc = subprocess.run([sys.executable, "-m", "nocsoc", *args], capture_output=True, text=True,
                          timeout=60, cwd=ws.root, env=env)
    _assert_one_error(args, proc.returncode, proc.stdout + proc.stderr, names)
