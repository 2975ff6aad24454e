"""`nocsoc init` and `nocsoc inventory ...` end to end: exact output, exit codes, no secrets, no lost
edits (the last with real concurrent processes)."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from nocsoc.cli.app import app
from nocsoc.inventory.importexport import ExportFormat, export_inventory
from nocsoc.inventory.model import Inventory
from nocsoc.inventory.sample import SAMPLE_CONFIG, SAMPLE_INVENTORY
from nocsoc.inventory.store import load_inventory

SENTINELS = {
    "NOCSOC_SNMP_COMMUNITY": "community-SENTINEL-7f3a",
    "NOCSOC_SNMP_AUTH": "auth-SENTINEL-91c2",
    "NOCSOC_SNMP_PRIV": "priv-SENTINEL-0be4",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh `nocsoc init` directory; returns its nocsoc.yaml."""
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path / "nocsoc.yaml"


def run(cfg: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["--config", str(cfg), *args], input=input, env=env)


def inventory_of(cfg: Path) -> Inventory:
    return load_inventory(cfg.parent / "inventory.yaml")


# --- init ----------------------------------------------------------------------------------------


def test_init_writes_starter_files_and_refuses_to_overwrite(tmp_path: Path) -> None:
    d = tmp_path / "site"
    first = CliRunner().invoke(app, ["init", str(d)])
    assert first.exit_code == 0
    assert first.stdout == (
        f"wrote {d / 'nocsoc.yaml'}\nwrote {d / 'inventory.yaml'}\nnext: nocsoc --config {d / 'nocsoc.yaml'} "
        "inventory list\n"
    )
    assert (d / "nocsoc.yaml").read_bytes() == SAMPLE_CONFIG.read_bytes()
    assert (d / "inventory.yaml").read_bytes() == SAMPLE_INVENTORY.read_bytes()

    (d / "inventory.yaml").write_text("edited\n")
    again = CliRunner().invoke(app, ["init", str(d)])
    assert again.exit_code == 2
    assert again.stderr == (
        f"error: {d / 'nocsoc.yaml'}: already exists; pass --force to overwrite it\n"
        f"error: {d / 'inventory.yaml'}: already exists; pass --force to overwrite it\n"
    )
    assert (d / "inventory.yaml").read_text() == "edited\n"

    forced = CliRunner().invoke(app, ["init", str(d), "--force"])
    assert forced.exit_code == 0
    assert (d / "inventory.yaml").read_bytes() == SAMPLE_INVENTORY.read_bytes()


def test_fresh_init_lists_the_whole_backbone(project: Path) -> None:
    result = run(project, "inventory", "list", "--json")
    assert result.exit_code == 0
    names = [d["name"] for d in json.loads(result.stdout)]
    assert names == [d.name for d in load_inventory(SAMPLE_INVENTORY).devices]
    assert len(names) == 48
    table = run(project, "inventory", "list")
    assert table.stdout.splitlines()[0] == "48 of 48 devices"
    assert len(table.stdout.splitlines()) == 4 + 48


# --- list / show ---------------------------------------------------------------------------------


def test_list_table_exact(project: Path) -> None:
    result = run(project, "inventory", "list", "--site", "thienhung")
    assert result.exit_code == 0
    rule = " " + "─" * 117
    assert result.stdout.splitlines() == [
        "3 of 48 devices",
        "",
        "  NAME                ADDRESS       ROLE           SITE        MODEL                            PROFILE       TAGS",  # noqa: E501
        rule,
        "  thienhung-dist-01   127.10.6.1    distribution   thienhung   Cisco ASR-920-12SZ-IM            backbone-v3   ring",  # noqa: E501
        "  thienhung-acc-01    127.10.6.11   access         thienhung   Cisco Catalyst C9200L-24T-4X-E   backbone-v3   ubnd",  # noqa: E501
        "  thienhung-acc-02    127.10.6.12   access         thienhung   Cisco Catalyst C9200L-24T-4X-E   backbone-v3   mot-cua",  # noqa: E501
    ]


def test_list_json_exact(project: Path) -> None:
    result = run(project, "inventory", "list", "--role", "ups", "--json")
    assert result.exit_code == 0
    ups = {
        "role": "ups", "site": "dongxoai", "profile": "ups-v3", "vendor": "APC",
        "model": "Smart-UPS SRT 10000 (SRT10KXLI, NMC AP9641)", "tags": ["dc", "power"],
        "flow_exporter": None, "flow_sampling_rate": None, "syslog_source": None, "poll_interval_s": 30.0,
        "snmp_port": None,
    }
    assert json.loads(result.stdout) == [
        {"name": "dongxoai-ups-01", "address": "127.10.0.20", **ups},
        {"name": "dongxoai-ups-02", "address": "127.10.0.21", **ups},
    ]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--role", "firewall", "--tag", "ha"], ["dongxoai-fw-01", "dongxoai-fw-02"]),
        (["--tag", "dns", "--tag", "dc"], ["dongxoai-srv-dns-01", "dongxoai-srv-dns-02"]),
        (["--site", "tankhai", "--role", "access"], ["tankhai-acc-01", "tankhai-acc-02"]),
        (["--tag", "ttyt"], ["binhlong-acc-03", "phuoclong-acc-03", "chonthanh-acc-03", "budang-acc-03",
                             "locninh-acc-03"]),
        (["--tag", "nothing-has-this"], []),
    ],
)
def test_list_filters(project: Path, args: list[str], names: list[str]) -> None:
    result = run(project, "inventory", "list", *args, "--json")
    assert result.exit_code == 0
    assert [d["name"] for d in json.loads(result.stdout)] == names


def test_list_unknown_site_or_role_exits_2(project: Path) -> None:
    result = run(project, "inventory", "list", "--site", "binhlongg")
    assert result.exit_code == 2
    assert result.stderr == "error: no site named 'binhlongg' (did you mean 'binhlong'?)\n"
    assert run(project, "inventory", "list", "--role", "router").exit_code == 2


def test_show_text_and_json(project: Path) -> None:
    result = run(project, "inventory", "show", "thienhung-dist-01")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:10] == [
        "name            thienhung-dist-01",
        "address         127.10.6.1",
        "role            distribution",
        "site            thienhung (Thiện Hưng)",
        "vendor / model  Cisco ASR-920-12SZ-IM",
        "tags            ring",
        "snmp            backbone-v3: v3 user nocsoc, auth SHA-256, priv AES-128, port 16100",
        "poll interval   60 s",
        "flow exporter   127.10.6.1",
        "syslog source   127.10.6.1",
    ]
    assert result.stdout.splitlines()[14:] == [
        "  ring-bugiamap-thienhung   TenGigabitEthernet0/0/8    bugiamap-dist-01   TenGigabitEthernet0/0/9   10G",  # noqa: E501
        "  ring-thienhung-locninh    TenGigabitEthernet0/0/9    locninh-dist-01    TenGigabitEthernet0/0/8   10G",  # noqa: E501
        "  thienhung-dist01-acc01    TenGigabitEthernet0/0/10   thienhung-acc-01   TenGigabitEthernet1/1/1   10G",  # noqa: E501
        "  thienhung-dist01-acc02    GigabitEthernet0/0/4       thienhung-acc-02   GigabitEthernet1/0/24     1G",  # noqa: E501
    ]
    data = json.loads(run(project, "inventory", "show", "dongxoai-ups-01", "--json").stdout)
    assert data["effective"] == {"poll_interval_s": 30.0, "snmp_port": 16100}
    assert data["site"]["name"] == "Đồng Xoài"
    assert data["profile"]["auth_password"] == "env:NOCSOC_SNMP_AUTH"
    assert [lk["name"] for lk in data["links"]] == ["dc-ups01-dcsw01"]


def test_show_unknown_device(project: Path) -> None:
    result = run(project, "inventory", "show", "dongxoai-core-1")
    assert result.exit_code == 2
    assert result.stderr == "error: no device named 'dongxoai-core-1' (did you mean 'dongxoai-core-01'?)\n"


# --- add / update / remove ----------------------------------------------------------------------


def test_add_update_remove(project: Path) -> None:
    add = run(project, "inventory", "add", "thienhung-acc-03", "--address", "127.10.6.13", "--role", "access",
              "--site", "thienhung", "--profile", "backbone-v3", "--vendor", "Cisco", "--model",
              "Catalyst C9200L-24T-4X-E", "--tag", "ttyt", "--tag", "lab,new", "--poll-interval", "120")
    assert (add.exit_code, add.stdout) == (
        0, "added device thienhung-acc-03 (127.10.6.13, access, site thienhung)\n"
    )
    d = inventory_of(project).device("thienhung-acc-03")
    assert (d.tags, d.poll_interval_s, d.model) == (["ttyt", "lab", "new"], 120.0, "Catalyst C9200L-24T-4X-E")

    upd = run(project, "inventory", "update", "thienhung-acc-03", "--set", "address=127.10.6.14",
              "--set", "tags=ttyt", "--set", "poll_interval_s=")
    assert upd.exit_code == 0
    assert upd.stdout == (
        "updated device thienhung-acc-03: address: 127.10.6.13 -> 127.10.6.14; "
        "tags: ['ttyt', 'lab', 'new'] -> ['ttyt']; poll_interval_s: 120.0 -> None\n"
    )
    rename = run(project, "inventory", "update", "thienhung-dist-01", "--set", "name=thienhung-dist-02")
    assert rename.exit_code == 0
    inv = inventory_of(project)
    assert [lk.a.device for lk in inv.links if lk.name == "thienhung-dist01-acc01"] == ["thienhung-dist-02"]
    assert [lk.b.device for lk in inv.links if lk.name == "ring-bugiamap-thienhung"] == ["thienhung-dist-02"]

    rm = run(project, "inventory", "remove", "thienhung-dist-02", "--yes")
    assert rm.exit_code == 0
    assert rm.stdout == (
        "removed device thienhung-dist-02 and 4 link(s): ring-bugiamap-thienhung, ring-thienhung-locninh, "
        "thienhung-dist01-acc01, thienhung-dist01-acc02\n"
    )
    inv = inventory_of(project)
    assert "thienhung-dist-02" not in {d.name for d in inv.devices}
    assert len(inv.links) == 59 - 4
    assert run(project, "inventory", "validate").exit_code == 0


def test_first_cli_edit_of_a_fresh_init_changes_only_its_own_lines(project: Path) -> None:
    inv_file = project.parent / "inventory.yaml"
    before = inv_file.read_text(encoding="utf-8").splitlines()
    assert run(project, "inventory", "add", "thienhung-acc-03", "--address", "127.10.6.13", "--role",
               "access", "--site", "thienhung", "--profile", "backbone-v3").exit_code == 0
    after = inv_file.read_text(encoding="utf-8").splitlines()
    changed = [ln for ln in difflib.unified_diff(before, after, lineterm="", n=0)
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == [
        "+  # Thiện Hưng (thienhung)",
        "+  - name: thienhung-acc-03",
        "+    address: 127.10.6.13",
        "+    role: access",
        "+    site: thienhung",
        "+    profile: backbone-v3",
    ]


def test_add_refusals_leave_the_file_alone(project: Path) -> None:
    inv_file = project.parent / "inventory.yaml"
    before = inv_file.read_bytes()
    base = ["inventory", "add", "x-01", "--role", "access", "--profile", "backbone-v3"]
    bad_addr = run(project, *base, "--address", "127.10.6.300", "--site", "thienhung")
    assert (bad_addr.exit_code, bad_addr.stderr) == (
        2, "error: --address: '127.10.6.300' does not appear to be an IPv4 or IPv6 address\n")
    clash = run(project, *base, "--address", "127.10.6.1", "--site", "thienhungg")
    assert clash.exit_code == 2
    assert clash.stderr == (
        "error: device x-01: address: 127.10.6.1 is already used by device 'thienhung-dist-01'\n"
        "error: device x-01: site: unknown site 'thienhungg' (did you mean 'thienhung'?)\n"
    )
    dup = run(project, "inventory", "add", "thienhung-acc-01", "--address", "127.10.6.99", "--role", "access",
              "--site", "thienhung", "--profile", "backbone-v3")
    assert dup.stderr == (
        "error: device 'thienhung-acc-01' already exists; change it with `nocsoc inventory update`\n"
    )
    assert inv_file.read_bytes() == before


def test_update_refusals(project: Path) -> None:
    typo = run(project, "inventory", "update", "thienhung-acc-01", "--set", "adress=127.10.6.99")
    assert typo.exit_code == 2
    assert typo.stderr.startswith(
        "error: --set: unknown key 'adress' (did you mean 'address'?); settable: name, "
    )
    noeq = run(project, "inventory", "update", "thienhung-acc-01", "--set", "address")
    assert noeq.stderr == "error: --set: expected key=value, got 'address'\n"
    required = run(project, "inventory", "update", "thienhung-acc-01", "--set", "site=")
    assert required.stderr == "error: --set site: Input should be a valid string\n"
    taken = run(project, "inventory", "update", "thienhung-acc-01", "--set", "name=thienhung-acc-02")
    assert taken.stderr == "error: --set name: device 'thienhung-acc-02' already exists\n"


def test_remove_asks_first(project: Path) -> None:
    inv_file = project.parent / "inventory.yaml"
    before = inv_file.read_bytes()
    no = run(project, "inventory", "remove", "dongxoai-ups-02", input="n\n")
    assert no.exit_code == 1
    assert no.stdout == "Remove device dongxoai-ups-02 and its 1 link(s) (dc-ups02-dcsw02)? [y/N]: n\n"
    assert no.stderr == "error: not removed\n"
    assert inv_file.read_bytes() == before
    yes = run(project, "inventory", "remove", "dongxoai-ups-02", input="y\n")
    assert yes.exit_code == 0
    assert yes.stdout.endswith("removed device dongxoai-ups-02 and 1 link(s): dc-ups02-dcsw02\n")


# --- import / export -------------------------------------------------------------------------------


def test_import_dry_run_then_apply(project: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "new.csv"
    csv_file.write_text(
        "name,address,role,site,profile,vendor,model,tags\n"
        "locninh-acc-04,127.10.8.14,access,locninh,backbone-v3,Cisco,Catalyst C9200L-24T-4X-E,lab\n"
        "locninh-acc-01,127.10.8.11,access,locninh,backbone-v3,Cisco,Catalyst C9300-24T,ubnd\n"
        "locninh-acc-02,127.10.8.12,access,locninh,backbone-v3,Cisco,Catalyst C9200L-24T-4X-E,mot-cua\n",
        encoding="utf-8",
    )
    inv_file = project.parent / "inventory.yaml"
    before = inv_file.read_bytes()
    dry = run(project, "inventory", "import", str(csv_file), "--dry-run")
    assert dry.exit_code == 0
    assert dry.stdout == (
        "+ device locninh-acc-04\n"
        "~ device locninh-acc-01: model: Catalyst C9200L-24T-4X-E -> Catalyst C9300-24T\n"
        "would import new.csv: 1 added, 1 updated, 1 unchanged (dry run: nothing written)\n"
    )
    assert inv_file.read_bytes() == before
    dry_json = json.loads(run(project, "inventory", "import", str(csv_file), "--dry-run", "--json").stdout)
    assert dry_json["changes"][1] == {"action": "update", "kind": "device", "name": "locninh-acc-01",
                                      "fields": {"model": {"old": "Catalyst C9200L-24T-4X-E",
                                                           "new": "Catalyst C9300-24T"}}}
    real = run(project, "inventory", "import", str(csv_file))
    assert real.exit_code == 0
    assert real.stdout.splitlines()[-1] == "imported new.csv: 1 added, 1 updated, 1 unchanged"
    inv = inventory_of(project)
    assert len(inv.devices) == 49 and inv.device("locninh-acc-01").model == "Catalyst C9300-24T"


def test_import_with_bad_rows_applies_nothing(project: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(
        "name,address,role,site,profile\n"
        "ok-01,127.10.8.21,access,locninh,backbone-v3\n"
        "bad-01,127.10.8.1,access,locninh,backbone-v3\n"
        "bad-02,127.10.8.23,access,locnin,backbone-v3\n",
        encoding="utf-8",
    )
    inv_file = project.parent / "inventory.yaml"
    before = inv_file.read_bytes()
    result = run(project, "inventory", "import", str(csv_file))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {csv_file}: 2 problem(s); nothing imported\n"
        f"error: {csv_file}:3: row 3, address: 127.10.8.1 is already used by device 'locninh-dist-01'\n"
        f"error: {csv_file}:4: row 4, site: unknown site 'locnin' (did you mean 'locninh'?)\n"
    )
    assert inv_file.read_bytes() == before


def test_export_formats(project: Path, tmp_path: Path) -> None:
    inv = inventory_of(project)
    formats: tuple[ExportFormat, ...] = ("yaml", "csv", "json")
    for fmt in formats:
        result = run(project, "inventory", "export", "--format", fmt)
        assert result.exit_code == 0
        assert result.stdout == export_inventory(inv, fmt)
    out = tmp_path / "out.csv"
    result = run(project, "inventory", "export", "-f", "csv", "-o", str(out))
    assert result.exit_code == 0 and result.stderr == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8") == export_inventory(inv, "csv")
    bad = run(project, "inventory", "export", "--format", "xml")
    assert bad.exit_code == 2
    assert bad.stderr == "error: --format: unknown format 'xml'; use yaml, csv or json\n"


# --- validate ------------------------------------------------------------------------------------


def test_validate_ok(project: Path) -> None:
    result = run(project, "inventory", "validate")
    assert result.exit_code == 0
    assert result.stdout == (
        f"{project.parent / 'inventory.yaml'}: ok: 48 devices, 12 sites, 4 SNMP profiles, 59 links\n"
    )


def _nth_line(lines: list[str], needle: str, n: int = 1) -> int:
    """1-based line number of the n-th line that is `needle` (leading/trailing spaces ignored)."""
    return [i for i, ln in enumerate(lines, 1) if ln.strip() == needle][n - 1]


def test_validate_broken_inventory_lists_every_problem_and_exits_2(project: Path) -> None:
    inv_file = project.parent / "inventory.yaml"
    text = inv_file.read_text(encoding="utf-8")
    text = text.replace("    address: 127.10.6.11\n", "    address: 127.10.6.1\n", 1)  # thienhung-acc-01
    text = text.replace("    site: tankhai\n", "    site: tan-khai\n", 1)  # tankhai-dist-01
    text = text.replace("device: locninh-dist-01, interface: TenGigabitEthernet0/0/8}",
                        "device: locninh-dist-1, interface: TenGigabitEthernet0/0/8}", 1)
    text = text.replace("    address: 127.10.0.20\n", "    address: 127.10.0.256\n", 1)  # dongxoai-ups-01
    inv_file.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    bad_ip = _nth_line(lines, "address: 127.10.0.256")
    dist_ip, dup_ip = _nth_line(lines, "address: 127.10.6.1", 1), _nth_line(lines, "address: 127.10.6.1", 2)
    bad_site = _nth_line(lines, "site: tan-khai")
    dangling = _nth_line(lines, "b: {device: locninh-dist-1, interface: TenGigabitEthernet0/0/8}")

    result = run(project, "inventory", "validate")
    assert result.exit_code == 2
    f = str(inv_file)
    assert result.stdout.splitlines() == [
        f"{f}:{bad_ip}: devices[11].address: '127.10.0.256' does not appear to be an IPv4 or IPv6 address",
        f"{f}:{dup_ip}: devices[33].address: 127.10.6.1 is already used by device 'thienhung-dist-01' "
        f"(first on line {dist_ip})",
        f"{f}:{bad_site}: devices[42].site: unknown site 'tan-khai' (did you mean 'tankhai'?)",
        f"{f}:{dangling}: links[6].b.device: dangling link: unknown device 'locninh-dist-1' "
        "(did you mean 'locninh-dist-01'?)",
    ]
    assert result.stderr == f"error: {f}: 4 problem(s)\n"
    as_json = json.loads(run(project, "inventory", "validate", "--json").stdout)
    assert as_json["ok"] is False
    assert as_json["counts"] == {"sites": 12, "snmp_profiles": 4, "devices": 47, "links": 59}
    assert [(p["line"], p["key"]) for p in as_json["problems"]] == [
        (bad_ip, "devices[11].address"), (dup_ip, "devices[33].address"), (bad_site, "devices[42].site"),
        (dangling, "links[6].b.device"),
    ]
    # every other command refuses the broken file the same way, exit 2
    listing = run(project, "inventory", "list")
    assert listing.exit_code == 2
    assert listing.stderr.splitlines() == [f"error: {ln}" for ln in result.stdout.splitlines()]


def test_validate_secrets_resolves_without_printing(project: Path, tmp_path: Path) -> None:
    env = {k: None for k in SENTINELS}
    result = run(project, "inventory", "validate", "--secrets", env=env)  # type: ignore[arg-type]
    assert result.exit_code == 2
    line = _nth_line((project.parent / "inventory.yaml").read_text(encoding="utf-8").splitlines(),
                     "auth_password: env:NOCSOC_SNMP_AUTH")
    assert result.stdout.splitlines()[0] == (
        f"{project.parent / 'inventory.yaml'}:{line}: snmp_profiles[0].auth_password: auth_password "
        "(env:NOCSOC_SNMP_AUTH): environment variable NOCSOC_SNMP_AUTH is not set"
    )
    assert len(result.stdout.splitlines()) == 7  # 3 v3 profiles x 2 + 1 community
    ok = run(project, "inventory", "validate", "--secrets", env=SENTINELS)
    assert ok.exit_code == 0
    assert not any(v in ok.output for v in SENTINELS.values())


def test_validate_secrets_file_reference_relative_to_config(project: Path) -> None:
    inv_file = project.parent / "inventory.yaml"
    text = inv_file.read_text(encoding="utf-8").replace("community: env:NOCSOC_SNMP_COMMUNITY",
                                                        "community: file:secrets/community")
    inv_file.write_text(text, encoding="utf-8")
    secret_file = project.parent / "secrets" / "community"
    secret_file.parent.mkdir()
    secret_file.write_text("file-SENTINEL-5d1e\n")
    secret_file.chmod(0o644)
    line = _nth_line(text.splitlines(), "community: file:secrets/community")
    bad = run(project, "inventory", "validate", "--secrets", env=SENTINELS)
    assert bad.exit_code == 2
    assert bad.stdout == (
        f"{inv_file}:{line}: snmp_profiles[3].community: {secret_file}: community (file:secrets/community): "
        f"secret file has mode 0644; others could read it: run `chmod 600 {secret_file}`\n"
    )
    secret_file.chmod(0o600)
    ok = run(project, "inventory", "validate", "--secrets", env=SENTINELS)
    assert ok.exit_code == 0
    assert "SENTINEL" not in bad.output + ok.output


# --- secrets never leave through --json ------------------------------------------------------------


def test_json_output_never_contains_secrets(project: Path) -> None:
    outputs = []
    for args in (
        ["inventory", "list", "--json"],
        *(["inventory", "show", d.name, "--json"] for d in inventory_of(project).devices),
        ["inventory", "export", "--format", "json"],
        ["inventory", "export", "--format", "yaml"],
        ["inventory", "export", "--format", "csv"],
        ["inventory", "validate", "--secrets", "--json"],
    ):
        result = run(project, *args, env=SENTINELS)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    everything = "\n".join(outputs)
    assert "env:NOCSOC_SNMP_AUTH" in everything  # the references are there...
    for secret in SENTINELS.values():
        assert secret not in everything  # ...the secrets are not


# --- concurrency with real processes --------------------------------------------------------------


def test_concurrent_cli_adds_lose_nothing(project: Path) -> None:
    """2 writers x N processes, all started at once, each adding one device through the real CLI."""
    exe = Path(sys.executable).parent / "nocsoc"
    assert exe.exists(), f"{exe} missing: install the project into the venv (pip install -e .)"
    n = 8
    env = {**os.environ, "NOCSOC_CONFIG": str(project)}
    procs = []
    for i in range(n):
        for writer, site_index in (("a", 200), ("b", 201)):
            procs.append(subprocess.Popen(
                [str(exe), "inventory", "add", f"{writer}-{i:02d}",
                 "--address", f"127.10.{site_index}.{i + 1}",
                 "--role", "access", "--site", "thienhung", "--profile", "backbone-v3"],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            ))
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.startswith("added device ")
    names = {d.name for d in inventory_of(project).devices}
    expected = {f"{w}-{i:02d}" for w in "ab" for i in range(n)}
    assert expected <= names
    assert len(names) == 48 + 2 * n
    assert sorted(x.name for x in project.parent.iterdir()) == [
        ".inventory.yaml.lock", "inventory.yaml", "nocsoc.yaml"
    ]
