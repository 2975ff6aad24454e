"""The CLI in Vietnamese (issue 18 item 7): every command's and option's --help comes from the vi
catalogue (nocsoc/messages/help/vi.yaml, checked against docs/glossary.md by test_glossary.py),
the rendered --help of each command shows it, and the machine-readable output is the same in
both languages (JSON keys and values are an interface)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from nocsoc.cli import lang
from nocsoc.cli.app import app

WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400", "NO_COLOR": "1", "LANG": "C.UTF-8", "LC_ALL": ""}


def commands() -> dict[str, object]:
    return lang.help_targets(typer.main.get_command(app))


def paths() -> list[str]:
    """Every command path, the root first."""
    return [k for k, obj in commands().items() if not hasattr(obj, "opts")]


def flat(text: str) -> str:
    """Help as rich renders it in boxes, with the box drawing and line breaks taken out."""
    return " ".join(re.sub(r"[\u2500-\u257f]", " ", text).split())  # box drawing out


def test_every_help_text_has_its_vietnamese_and_no_key_is_stale() -> None:
    found = commands()
    texts = lang.help_texts("vi")
    assert sorted(set(found) - set(texts)) == []  # a command or option without Vietnamese help
    assert sorted(set(texts) - set(found) - {"--help"}) == []  # a key naming nothing
    same = [k for k in found if texts[k] == getattr(found[k], "help", None)]
    # only a list of the values to type (`text | json`) reads the same in both languages
    assert [k for k in same if not re.fullmatch(r"[\w.:-]+( \| [\w.:-]+)+", texts[k])] == []


@pytest.mark.parametrize("path", paths())
def test_help_of_each_command_in_vietnamese(path: str) -> None:
    args = [] if path == "nocsoc" else path.split()
    vi = CliRunner().invoke(app, ["--lang", "vi", *args, "--help"], env=WIDE)
    en = CliRunner().invoke(app, ["--lang", "en", *args, "--help"], env=WIDE)
    assert vi.exit_code == en.exit_code == 0, vi.output
    vi_text, en_text = flat(vi.output), flat(en.output)
    texts = lang.help_texts("vi")
    own = {k: obj for k, obj in commands().items() if k == path or k.startswith(f"{path} -")
           or (k.startswith(f"{path} ") and hasattr(obj, "opts") and " " not in k[len(path) + 1:])}
    if path == "nocsoc":
        own = {k: v for k, v in commands().items() if k == "nocsoc" or k.startswith("--")}
    for key, obj in own.items():
        if getattr(obj, "hidden", False):
            continue  # not shown (e.g. run --worker), translated all the same
        english = flat(str(getattr(obj, "help", "")))
        # the first words of each text: rich wraps and may cut a long command help in the list
        assert flat(texts[key])[:40] in vi_text, (key, vi_text)
        assert english[:40] in en_text, (key, en_text)
        if english[:40] not in flat(texts[key]):  # not a list of values both languages share
            assert english[:40] not in vi_text, (key, "English left on the Vietnamese screen")
    assert "Tùy chọn" in vi_text and "Options" not in vi_text
    assert "in hướng dẫn này rồi thoát" in vi_text and "Show this message" not in vi_text


def test_the_locale_asks_for_vietnamese_and_lang_wins() -> None:
    by_locale = CliRunner().invoke(app, ["inventory", "--help"], env={**WIDE, "LANG": "vi_VN.UTF-8"})
    assert "Danh mục thiết bị" in flat(by_locale.output)
    by_env = CliRunner().invoke(app, ["inventory", "--help"], env={**WIDE, "NOCSOC_LANG": "vi"})
    assert "Danh mục thiết bị" in flat(by_env.output)
    english = CliRunner().invoke(app, ["--lang", "en", "inventory", "--help"],
                                 env={**WIDE, "LANG": "vi_VN.UTF-8"})
    assert "The device inventory" in flat(english.output) and "Danh mục" not in english.output
    # and typer's words go back to English for the next command in the same process
    assert "Options" in flat(CliRunner().invoke(app, ["inventory", "--help"], env=WIDE).output)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("lang")
    assert CliRunner().invoke(app, ["init", str(d)]).exit_code == 0
    return d / "nocsoc.yaml"


SECRETS = {"NOCSOC_SNMP_COMMUNITY": "lab-community", "NOCSOC_SNMP_AUTH": "lab-auth-pass",
           "NOCSOC_SNMP_PRIV": "lab-priv-pass"}
JSON_COMMANDS = [
    ["inventory", "list", "--json"],
    ["inventory", "show", "tankhai-dist-01", "--json"],
    ["inventory", "validate", "--json"],
    ["inventory", "export", "--format", "json"],
    ["profiles", "list", "--json"],
    ["profiles", "show", "cisco", "--json"],
    ["rules", "list", "--json"],
    ["traps", "catalog", "--json"],
    ["check", "--json"],
    ["dashboards", "list", "--json"],
    ["alerts", "list", "--json"],
    ["topology", "--format", "json"],
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=" ".join)
def test_json_is_the_same_in_both_languages(project: Path, args: list[str]) -> None:
    env = {**WIDE, **SECRETS}
    runs = [CliRunner().invoke(app, ["-c", str(project), "--lang", lg, *args], env=env)
            for lg in ("vi", "en")]
    # same exit code (`check` says 2 when, say, another program holds a listen port: JSON still)
    assert runs[0].exit_code == runs[1].exit_code, (runs[0].output, runs[1].output)
    vi, en = (json.loads(r.stdout) for r in runs)
    assert vi == en


# --- human output: the covered commands say it in Vietnamese, every word from the catalogue ------


def vi_and_en(project: Path, *args: str) -> tuple[str, str]:
    env = {**WIDE, **SECRETS}
    out = []
    for lg in ("vi", "en"):
        r = CliRunner().invoke(app, ["-c", str(project), "--lang", lg, *args], env=env)
        out.append(flat(r.output))
    return out[0], out[1]


def keys_shown(prefix: str) -> list[tuple[str, str]]:
    """(vi, en) texts of the catalogue keys under `prefix` without {fields}: whole words to find."""
    from nocsoc import messages

    vi, en = messages.catalog("vi"), messages.catalog("en")
    return [(vi[k], en[k]) for k in vi if k.startswith(prefix) and "{" not in vi[k]]


def test_inventory_list_and_show_in_vietnamese(project: Path) -> None:
    vi, en = vi_and_en(project, "inventory", "list", "--site", "tankhai")
    assert vi.startswith("3/48 thiết bị TÊN ĐỊA CHỈ VAI TRÒ ĐỊA ĐIỂM KIỂU MÁY HỒ SƠ NHÃN")
    assert en.startswith("3 of 48 devices NAME ADDRESS ROLE SITE MODEL PROFILE TAGS")
    assert vi.split("NHÃN", 1)[1] == en.split("TAGS", 1)[1]  # the rows: data, not words
    vi, en = vi_and_en(project, "inventory", "show", "tankhai-dist-01")
    for word_vi, word_en in keys_shown("inv.show.") + keys_shown("inv.col.")[7:]:
        if word_vi != word_en:  # snmp reads the same
            assert word_vi in vi and word_en not in vi.replace("tankhai", ""), word_en
    assert "v3, người dùng nocsoc, xác thực SHA-256, mã hóa AES-128, cổng 16100" in vi
    assert "4 tuyến" in vi and "4 links" in en


def test_inventory_edits_and_validate_in_vietnamese(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["init", str(tmp_path)]).exit_code == 0
    cfg = tmp_path / "nocsoc.yaml"

    def run(*args: str) -> str:
        r = CliRunner().invoke(app, ["-c", str(cfg), "--lang", "vi", *args], env=WIDE)
        assert r.exit_code == 0, r.output
        return flat(r.output)

    assert run("inventory", "add", "tankhai-acc-03", "--address", "127.10.9.13", "--role", "access",
               "--site", "tankhai", "--profile", "backbone-v3") == (
        "đã thêm thiết bị tankhai-acc-03 (127.10.9.13, access, địa điểm tankhai)")
    assert run("inventory", "update", "tankhai-acc-03", "--set", "tags=ttyt") == (
        "đã sửa thiết bị tankhai-acc-03: tags: [] -> ['ttyt']")
    assert run("inventory", "remove", "tankhai-acc-03", "--yes") == "đã xóa thiết bị tankhai-acc-03"
    csv = tmp_path / "new.csv"
    csv.write_text("name,address,role,site,profile\ntankhai-acc-04,127.10.9.14,access,tankhai,backbone-v3\n",
                   encoding="utf-8")
    assert run("inventory", "import", str(csv), "--dry-run") == (
        "+ thiết bị tankhai-acc-04 sẽ nhập new.csv: thêm 1, sửa 0, không đổi 0 (chạy thử: không ghi gì)")
    assert run("inventory", "import", str(csv)) == (
        "+ thiết bị tankhai-acc-04 đã nhập new.csv: thêm 1, sửa 0, không đổi 0")
    assert run("inventory", "remove", "tankhai-acc-04", "--yes") == "đã xóa thiết bị tankhai-acc-04"
    assert run("inventory", "validate").endswith(
        "inventory.yaml: hợp lệ: 48 thiết bị, 12 địa điểm, 4 hồ sơ SNMP, 59 tuyến")


def test_check_and_status_in_vietnamese(project: Path, tmp_path: Path) -> None:
    vi, en = vi_and_en(project, "check")
    assert vi.endswith("hợp lệ (48 thiết bị; dịch vụ snmp, flows, logs)") or vi.startswith("lỗi:"), vi
    assert "ok (48 devices" not in vi
    broken = CliRunner().invoke(app, ["-c", str(project), "--lang", "vi", "check"], env=WIDE)  # no secrets
    assert broken.exit_code == 2 and flat(broken.output).startswith("lỗi: ")
    assert "environment variable NOCSOC_SNMP_AUTH is not set" in broken.output  # the finding: names
    vi, en = vi_and_en(project, "status")
    assert vi.startswith("không có trạng thái trong ") and vi.endswith("`nocsoc run` có đang chạy không?")
    assert en.startswith("no status in ")


def test_status_table_in_vietnamese(tmp_path: Path) -> None:
    import time

    from nocsoc.service.status import WorkerStatus, write_status

    assert CliRunner().invoke(app, ["init", str(tmp_path)]).exit_code == 0
    now = time.time()
    write_status(tmp_path / "var", WorkerStatus("snmp", 4242, now - 60, now, "failed", error="port in use",
                                                config_error=True,
                                                reload={"time": now, "ok": True, "message": "devices +1"}))
    r = CliRunner().invoke(app, ["-c", str(tmp_path / "nocsoc.yaml"), "--lang", "vi", "status"], env=WIDE)
    vi = flat(r.output)
    assert r.exit_code == 1
    for word in ("tiến trình", "trạng thái", "đã chạy", "báo cáo", "dịch vụ / nơi lưu", "bộ đếm",
                 "snmp lỗi (cấu hình): port in use", "lần nạp lại gần nhất", "đã áp dụng: devices +1"):
        assert word in vi, word
    for word in ("worker", "state", "counters", "failed", "last reload", "applied"):
        assert word not in vi, word


def test_alerts_and_rules_in_vietnamese(tmp_path: Path) -> None:
    """Alerts raised by a built-in rule's own test lines, then listed, acknowledged, listed again."""
    rules = Path(__file__).resolve().parents[2] / "nocsoc" / "detections" / "rules" / "tests"
    sample = sorted(rules.glob("*.match.log"))[0]
    db = str(tmp_path / "alerts.db")
    cfg = str(tmp_path / "nocsoc.yaml")
    assert CliRunner().invoke(app, ["init", str(tmp_path)]).exit_code == 0

    def run(*args: str, lg: str = "vi") -> str:
        r = CliRunner().invoke(app, ["-c", cfg, "--lang", lg, *args], env=WIDE)
        assert r.exit_code == 0, r.output
        return flat(r.output)

    run("detect", "--store", "--db", db, str(sample))
    listed = run("alerts", "list", "--db", db)
    assert re.match(r"\d+ cảnh báo ", listed), listed
    for word in ("mã", "mức độ", "luật", "thiết bị", "nguồn", "người dùng", "số lần", "thấy lần đầu",
                 "thấy lần cuối", "trạng thái", "mới"):
        assert word in listed, word
    assert "first seen" not in listed and " new " not in listed
    alert_id = json.loads(CliRunner().invoke(app, ["-c", cfg, "alerts", "list", "--db", db, "--json"],
                                             env=WIDE).stdout)[0]["id"]
    assert run("alerts", "ack", str(alert_id), "--db", db, "--by", "tester") == (
        f"cảnh báo {alert_id} giờ là: đã tiếp nhận")
    shown = run("alerts", "show", str(alert_id), "--db", db)
    for word in ("[đã tiếp nhận]", "mã luật:", "chiến thuật:", "thiết bị:", "IP nguồn:", "người dùng:",
                 "số lần:", "nhãn:", "thấy lần đầu:", "thấy lần cuối:", "mẫu:", "nhật ký kiểm tra:"):
        assert word in shown, word
    assert "first seen" not in shown and "samples:" not in shown
    rules_vi, rules_en = run("rules", "list"), run("rules", "list", lg="en")
    vi_head = (r"\d+ luật, \d+ luật tương quan \(\d+ chưa hỗ trợ, \d+ bị tắt, \d+ lỗi\) "
               r"mức độ loại tiêu đề")
    assert re.match(vi_head, rules_vi)
    en_head = r"\d+ rules, \d+ correlations \(\d+ unsupported, \d+ disabled, \d+ errors\) level kind title"
    assert re.match(en_head, rules_en)


@pytest.mark.parametrize(("args", "vi_start", "en_start"), [
    (["profiles", "list"],
     r"\d+ hồ sơ thiết bị SNMP tên hãng hệ điều hành vai trò sysObjectID ~ sysDescr bảng trap "
     r"nguồn",
     r"\d+ SNMP device profiles name vendor os role sysObjectID ~ sysDescr tables traps source"),
    (["profiles", "show", "cisco"], r"cisco: .*, vai trò \S+ \(.*\) MIB: .* khớp khi: sysObjectID .* "
                                    r"bảng bảng loại chỉ mục trường làn OID đơn vị",
     r"cisco: .* tables table kind index field lane OID unit"),
    (["traps", "catalog"],
     r"danh mục trap \(\d+ mục\) oid tên mib sự kiện loại mức độ cảnh báo tiêu đề nguồn",
     r"trap catalogue \(\d+ entries\) oid name mib event kind severity alert title source"),
])
def test_profiles_and_traps_tables_in_vietnamese(project: Path, args: list[str], vi_start: str,
                                                 en_start: str) -> None:
    vi, en = vi_and_en(project, *args)
    assert re.match(vi_start, vi), vi[:300]
    assert re.match(en_start, en), en[:300]


def test_history_queries_in_vietnamese(project: Path) -> None:
    vi, en = vi_and_en(project, "logs", "search")
    assert re.search(r"ghi chú: chưa có lịch sử nhật ký trong \S+: chưa có gì được ghi \(nocsoc run sẽ ghi\) "
                     r"0 dòng, \S+ \S+ - bây giờ UTC thời điểm \(UTC\) thiết bị chương trình nguồn đích "
                     r"người dùng dòng$", vi), vi
    assert en.endswith("time (UTC) host program source destination user line")
    vi, en = vi_and_en(project, "flows", "query", "--ip", "192.0.2.1")
    assert vi.endswith("192.0.2.1: 0 dòng đối tác, " + vi.split("dòng đối tác, ")[1].split(" UTC")[0]
                       + " UTC đối tác chiều giao thức cổng cổng đối tác byte gói luồng thấy lần đầu (UTC) "
                       "thấy lần cuối (UTC) nguồn xuất luồng")
    assert "peer rows" in en and "peer rows" not in vi


def test_users_tokens_and_availability_in_vietnamese(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["init", str(tmp_path)]).exit_code == 0
    cfg = str(tmp_path / "nocsoc.yaml")

    def run(*args: str, stdin: str | None = None) -> str:
        r = CliRunner().invoke(app, ["-c", cfg, "--lang", "vi", *args], env=WIDE, input=stdin)
        assert r.exit_code == 0, r.output
        return flat(r.output)

    assert run("users", "add", "lan", "--role", "analyst", "--password-stdin",
               stdin="a-long-enough-passphrase\n") == "đã thêm người dùng lan (analyst)"
    assert run("users", "list").startswith("1 người dùng tên vai trò ngày tạo bị khóa đến lan analyst")
    created = run("tokens", "create", "--name", "ioc", "--scope", "read:kpi", "--by", "tester")
    assert created.startswith("token 1 (ioc: read:kpi); chỉ hiện một lần, gửi kèm dạng")
    assert run("tokens", "list").startswith(
        "1 token mã tên phạm vi người tạo ngày tạo dùng lần cuối thu hồi lúc")
    assert run("tokens", "revoke", "1") == "đã thu hồi token 1"
    from nocsoc.sinks.factory import build_sink
    from nocsoc.sinks.plugins.sqlite import SqliteSinkConfig

    build_sink(SqliteSinkConfig(path=str(tmp_path / "var" / "nocsoc.db")), tmp_path).close()  # empty
    avail = run("ping", "--availability", "--since", "1h")
    assert avail.startswith("độ sẵn sàng trong 1h thiết bị địa điểm số mẫu sẵn sàng snmp mất kết nối "
                            "độ sẵn sàng % hiện tại")
    assert "theo địa điểm (trung bình các thiết bị) địa điểm thiết bị độ sẵn sàng %" in avail


def test_detect_and_rule_tests_in_vietnamese(tmp_path: Path) -> None:
    rules = Path(__file__).resolve().parents[2] / "nocsoc" / "detections" / "rules" / "tests"
    sample = sorted(rules.glob("*.match.log"))[0]
    rule_id = sample.name.split(".", 1)[0]

    def run(*args: str, lg: str = "vi") -> tuple[int, str]:
        r = CliRunner().invoke(app, ["--lang", lg, *args], env=WIDE)
        return r.exit_code, flat(r.output)

    code, hunt = run("detect", str(sample))
    assert code == 0
    assert re.match(r"\d+ cảnh báo từ \d+ sự kiện \(\d+ không phân tích được\) mã mức độ", hunt)
    code, tested = run("rules", "test", rule_id, str(sample))
    assert code == 0
    assert re.fullmatch(r"đạt .+: \d+ (dòng khớp|sự cố) trên \d+ dòng \(kỳ vọng: khớp\)", tested)
    code, english = run("rules", "test", rule_id, str(sample), lg="en")
    assert re.fullmatch(r"ok .+: \d+ (lines matched|incidents) of \d+ lines \(expected match\)", english)
    code, checked = run("rules", "check")
    assert code == 0
    assert re.match(r"\d+ tệp: nạp được \d+ luật và \d+ luật tương quan; \d+ chưa hỗ trợ; 0 lỗi "
                    r"phép thử luật: (\d+)/\1 đạt", checked), checked


def test_profile_test_on_a_real_walk_in_vietnamese(project: Path) -> None:
    from tests.collectors.snmp import walkcheck

    walk = walkcheck.walks_dir() / "snmprec" / "yunshan.snmprec"
    if not walk.exists():
        pytest.skip(f"{walk} absent (set NOCSOC_SHARED_DIR)")
    vi, en = vi_and_en(project, "profiles", "test", str(walk))
    assert re.search(r"\d+ varbind, sysObjectID \S+ hồ sơ: huawei-vrp \(hãng huawei, vai trò \w+\) "
                     r"cổng: \d+; điểm dữ liệu: .* thiết bị: ", vi), vi[:400]
    assert "quang cổng cảm biến làn thu dBm phát dBm dòng phân cực mA V °C" in vi
    assert "100GE1/0/1" in vi and "profile: huawei-vrp" in en and "rx dBm" in en


def test_flows_decode_in_vietnamese(tmp_path: Path) -> None:
    from tests.collectors.flows.test_cli import capture

    pcap = str(capture(tmp_path / "c.pcap"))
    vi = flat(CliRunner().invoke(app, ["--lang", "vi", "flows", "decode", pcap], env=WIDE).output)
    en = flat(CliRunner().invoke(app, ["--lang", "en", "flows", "decode", pcap], env=WIDE).output)
    for words in ("datagram UDP nguồn xuất luồng phiên bản datagram bản ghi lỗi giải mã mất theo số thứ tự "
                  "thiếu template không lấy mẫu bộ đếm khác",
                  "tổng nguồn xuất luồng ip lấy mẫu luồng gói byte",
                  "nguồn có lưu lượng lớn nhất nguồn xuất luồng hạng nguồn luồng gói byte",
                  "cặp trao đổi có lưu lượng lớn nhất nguồn xuất luồng hạng cặp trao đổi luồng gói byte"):
        assert words in vi, words
    assert "top conversation exporter rank conversation flows packets bytes" in en
    assert "totals" not in vi and "decode errors" not in vi


def test_poll_table_in_vietnamese(monkeypatch: pytest.MonkeyPatch) -> None:
    """`poll --once`'s table (the command itself is tested on live agents in test_cli_poll.py)."""
    import io

    from rich.console import Console

    from nocsoc.cli import common, snmp
    from nocsoc.collectors.snmp.poller import PollResult

    rows = [PollResult("tankhai-dist-01", "tankhai", "distribution", "127.10.9.1", 16100, ok=True,
                       interfaces=12, points=40, varbinds=300, requests=6, duration_s=0.05),
            PollResult("tankhai-acc-01", "tankhai", "access", "127.10.9.11", 16100, error_kind="timeout")]
    texts = {}
    for lg in ("vi", "en"):
        monkeypatch.setattr(common.OPTIONS, "lang", lg)
        console = Console(width=200, record=True, color_system=None, file=io.StringIO())
        console.print(snmp._table(rows))
        texts[lg] = flat(console.export_text())
    assert texts["vi"].startswith(
        "Thăm dò SNMP thiết bị địa chỉ sysName trạng thái số cổng điểm dữ liệu varbind yêu cầu thời gian "
        "tankhai-dist-01 127.10.9.1:16100 đạt 12 40 300 6 50 ms")
    assert texts["en"].startswith(
        "SNMP poll device address sysName status ifaces points varbinds requests time")


def test_simulate_status_in_vietnamese(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's live status (the command itself runs in tests/simulate)."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from nocsoc.cli import common
    from nocsoc.cli.simulate import _status_table

    status = {"sim_time_of_day": 8 * 3600 + 30 * 60, "sim_elapsed_s": 1800.0, "agents": 48,
              "snmp": {"responses": 900, "varbinds": 12000}, "snmp_cpu_s": 1.5, "flow_records": 4000,
              "flow_datagrams": 80, "syslog_lines": 300, "attack_lines": 40, "late_ticks": 1,
              "send_errors": 0}
    clock = SimpleNamespace(speed=60.0)
    scenario = SimpleNamespace(status=lambda: status, lab=SimpleNamespace(clock=clock),
                               config=SimpleNamespace(flows_to="127.0.0.1:2055", syslog_to=None))
    monkeypatch.setattr(common.OPTIONS, "lang", "vi")
    console = Console(width=200, record=True, color_system=None, file=io.StringIO())
    console.print(_status_table(scenario, 0.0))  # type: ignore[arg-type]
    text = flat(console.export_text())
    for words in ("giờ giả lập 08:30 (+30.0 phút giả lập, x60)", "agent SNMP 48 thiết bị, 900 lần trả lời, "
                  "12000 varbind, 1.50 giây CPU", "luồng 4000 bản ghi trong 80 datagram tới 127.0.0.1:2055",
                  "syslog 300 dòng (40 dòng tấn công)", "vấn đề 1 nhịp trễ, 0 lỗi gửi"):
        assert words in text, (words, text)


def test_one_line_errors_start_with_the_readers_word() -> None:
    vi = CliRunner().invoke(app, ["--lang", "vi", "inventory", "list", "--bogus"], env=WIDE)
    en = CliRunner().invoke(app, ["--lang", "en", "inventory", "list", "--bogus"], env=WIDE)
    assert vi.exit_code == en.exit_code == 2
    assert flat(vi.stderr) == "lỗi: No such option: --bogus (xem: nocsoc inventory list --help)"
    assert flat(en.stderr) == "error: No such option: --bogus (see: nocsoc inventory list --help)"


def test_demo_attack_checks_in_vietnamese() -> None:
    import io

    from rich.console import Console

    from nocsoc.service.summary import AttackCheck, render_attack_checks

    checks = [AttackCheck("port_scan", "192.0.2.66", "dongxoai-fw-01", 50,
                          ["Port Scan Seen in Firewall Logs"]),
              AttackCheck("web_sqli", "198.51.100.77", "dongxoai-srv-portal", 10, [])]
    texts = {}
    for lg in ("vi", "en"):
        console = Console(width=200, record=True, color_system=None, file=io.StringIO())
        console.print(render_attack_checks(checks, lang=lg))
        texts[lg] = flat(console.export_text())
    assert texts["vi"].startswith("Các cuộc tấn công được đưa vào và cảnh báo chúng gây ra tấn công nguồn "
                                  "mục tiêu số dòng cảnh báo đã tạo port_scan 192.0.2.66")
    assert texts["vi"].endswith("web_sqli 198.51.100.77 dongxoai-srv-portal 10 không có")
    assert texts["en"].startswith("Injected attacks and the alerts they raised attack source target lines")
