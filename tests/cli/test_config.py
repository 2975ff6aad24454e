"""nocsoc.yaml loading: every mistake is one message naming file, line and key; the CLI exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nocsoc.cli.app import app
from nocsoc.config import Config, config_relative, inventory_path, load_config
from nocsoc.errors import ConfigError
from nocsoc.inventory.sample import SAMPLE_CONFIG
from nocsoc.sinks.plugins.influxdb import InfluxDBSinkConfig
from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "nocsoc.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _error(tmp_path: Path, text: str) -> str:
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    return str(exc.value).replace(str(p), "nocsoc.yaml")


def test_starter_config_is_valid_and_equals_defaults_where_set() -> None:
    cfg = load_config(SAMPLE_CONFIG)
    assert cfg.inventory == "inventory.yaml"
    assert cfg.sinks == [SqliteSinkConfig(path="./var/nocsoc.db", retention_days=30)]
    assert cfg.snmp.interval_s == 60 and cfg.flows.bind == "127.0.0.1:2055"
    assert cfg.dashboards.locale == "vi" and cfg.run.state_dir == "./var"


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, "# nothing yet\n")) == Config()


def test_full_sink_section(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, (
        "sinks:\n"
        "  - type: influxdb\n"
        "    url: http://127.0.0.1:8086\n"
        "    bucket: nocsoc\n"
        "    token: env:NOCSOC_INFLUX_TOKEN\n"
    )))
    assert cfg.sinks == [InfluxDBSinkConfig(url="http://127.0.0.1:8086", bucket="nocsoc",
                                            token="env:NOCSOC_INFLUX_TOKEN")]


def test_unknown_key(tmp_path: Path) -> None:
    assert _error(tmp_path, "inventory: inv.yaml\nsnmp:\n  enabled: true\n  intervl_s: 30\n") == (
        "nocsoc.yaml:4: snmp.intervl_s: unknown key (did you mean `interval_s`?); allowed: "
        + ", ".join(Config.model_fields["snmp"].annotation.model_fields)  # type: ignore[union-attr]
    )


def test_unknown_section(tmp_path: Path) -> None:
    assert _error(tmp_path, "inventory: inv.yaml\nsnmpp: {}\n") == (
        "nocsoc.yaml:2: snmpp: unknown key (did you mean `snmp`?); allowed: "
        + ", ".join(Config.model_fields)
    )


def test_wrong_type(tmp_path: Path) -> None:
    assert _error(tmp_path, "snmp:\n  interval_s: fast\n") == (
        "nocsoc.yaml:2: snmp.interval_s: Input should be a valid number, unable to parse string as a "
        "number (got 'fast')"
    )
    assert _error(tmp_path, "flows:\n  top_n: 0\n") == (
        "nocsoc.yaml:2: flows.top_n: Input should be greater than or equal to 1 (got 0)"
    )


def test_sink_errors_name_the_list_item(tmp_path: Path) -> None:
    text = (
        "sinks:\n"
        "  - type: sqlite\n"
        "  - type: influxdb\n"
        "    url: http://127.0.0.1:8086\n"
        "    buckt: nocsoc\n"
    )
    msg = _error(tmp_path, text).splitlines()
    assert msg[0] == "nocsoc.yaml:3: sinks[1].bucket: missing required key"
    assert msg[1].startswith("nocsoc.yaml:5: sinks[1].buckt: unknown key (did you mean `bucket`?); allowed: ")
    assert len(msg) == 2
    assert _error(tmp_path, "sinks:\n  - type: mongodb\n") == (
        "nocsoc.yaml:2: sinks[0].type: unknown type 'mongodb'; expected one of: "
        "'influxdb', 'influxdb1', 'sqlite', 'stdout'"
    )


def test_not_a_mapping_and_syntax_and_duplicates(tmp_path: Path) -> None:
    assert _error(tmp_path, "- snmp\n") == (
        "nocsoc.yaml:1: expected a mapping of sections (inventory, sinks, snmp, ...), found list"
    )
    assert _error(tmp_path, "snmp:\n  interval_s: [60\n") == (
        "nocsoc.yaml:3: invalid YAML: did not find expected ',' or ']'"
    )
    assert _error(tmp_path, "snmp: {}\nflows: {}\nsnmp: {}\n") == (
        "nocsoc.yaml:3: snmp: duplicate key (first defined on line 1)"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "nope.yaml")
    assert str(exc.value) == (
        f"{tmp_path / 'nope.yaml'}: config file not found; write a starter with `nocsoc init`, "
        "or point --config or NOCSOC_CONFIG at an existing one"
    )


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    cfg_file = tmp_path / "etc" / "nocsoc.yaml"
    assert config_relative(cfg_file, "./var/x.db") == tmp_path / "etc" / "var" / "x.db"
    assert config_relative(cfg_file, "/abs/x.db") == Path("/abs/x.db")
    assert config_relative(cfg_file, "~/x.db") == Path.home() / "x.db"
    assert inventory_path(Config(inventory="inv/i.yaml"), cfg_file) == tmp_path / "etc" / "inv" / "i.yaml"


# --- through the CLI: one clean message on stderr, exit 2, no traceback ------------------------


def test_cli_bad_config_exits_2_with_file_line_key(tmp_path: Path) -> None:
    p = _write(tmp_path, "snmp:\n  interval_s: -5\n")
    result = CliRunner().invoke(app, ["--config", str(p), "inventory", "list"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {p}:2: snmp.interval_s: Input should be greater than 0 (got -5)\n"
    )


def test_cli_missing_config_via_env(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = CliRunner().invoke(app, ["inventory", "list"], env={"NOCSOC_CONFIG": str(missing)})
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {missing}: config file not found; write a starter with `nocsoc init`, or point "
        "--config or NOCSOC_CONFIG at an existing one\n"
    )
