"""Sites list the prefixes they use (`networks:`): validated one by one, errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocsoc.inventory.store import InventoryError, load_inventory

GOOD = """\
version: 1
sites:
  - id: trung-tam
    name: Trung tâm dữ liệu tỉnh
    kind: province_dc
    networks:
      - 10.20.0.0/16
      - 2001:DB8:20::/48
      - 203.0.113.0/28
  - id: xa-tan-loi
    name: Xã Tân Lợi
    kind: commune
    networks: [10.21.4.0/24, 10.20.0.0/16]
  - id: phuong-1
    name: Phường 1
    kind: ward
"""


def test_networks_are_normalised_and_unioned(tmp_path: Path) -> None:
    f = tmp_path / "inventory.yaml"
    f.write_text(GOOD, encoding="utf-8")
    inv = load_inventory(f)
    assert inv.site("trung-tam").networks == ["10.20.0.0/16", "2001:db8:20::/48", "203.0.113.0/28"]
    assert inv.site("phuong-1").networks == []
    # every site's prefixes once each, in file order
    assert inv.networks() == ["10.20.0.0/16", "2001:db8:20::/48", "203.0.113.0/28", "10.21.4.0/24"]


@pytest.mark.parametrize(
    ("value", "line", "message"),
    [
        ("10.20.1.5/16", 9, "sites[0].networks[1]: network '10.20.1.5/16' has host bits set: "
                            "did you mean 10.20.0.0/16?"),
        ("banana", 9, "sites[0].networks[1]: network 'banana' is not an IPv4 or IPv6 prefix "
                      "(write 10.20.0.0/16)"),
        ("10.20.0.0/33", 9, "sites[0].networks[1]: network '10.20.0.0/33' is not an IPv4 or IPv6 prefix "
                            "(write 10.20.0.0/16)"),
        ("2001:db8::1/32", 9, "sites[0].networks[1]: network '2001:db8::1/32' has host bits set: "
                              "did you mean 2001:db8::/32?"),
    ],
)
def test_a_bad_prefix_is_one_error_at_its_line(tmp_path: Path, value: str, line: int, message: str) -> None:
    f = tmp_path / "inventory.yaml"
    f.write_text(
        "version: 1\nsites:\n  - id: tt\n    name: Trung tam\n    kind: province_dc\n    networks:\n"
        f"      - 10.20.0.0/16\n      # the second one\n      - {value!r}\n",
        encoding="utf-8",
    )
    with pytest.raises(InventoryError) as exc:
        load_inventory(f)
    assert str(exc.value) == f"{f}:{line}: {message}"
