"""A small inventory written as text, so tests can break it on a known line."""

from __future__ import annotations

from pathlib import Path

import pytest

SMALL = """\
# test inventory
version: 1

sites:
  - id: dongxoai
    name: Đồng Xoài
    kind: datacenter
  - id: binhlong
    name: Bình Long

snmp_profiles:
  - name: v2
    version: 2c
    community: env:TEST_COMMUNITY
    port: 16100

devices:
  - name: core-01
    address: 127.10.0.1
    role: core
    site: dongxoai
    profile: v2
  - name: dist-01
    address: 127.10.1.1
    role: distribution
    site: binhlong
    profile: v2
    tags: [ring]

links:
  - name: ring-1
    a: {device: core-01, interface: xe-0/1/0}
    b: {device: dist-01, interface: Te0/0/8}
    speed_mbps: 10000
"""
# Line numbers in SMALL, for exact file:line assertions.
LINE = {"core-01": 18, "core-01.address": 19, "dist-01": 23, "dist-01.address": 24, "dist-01.site": 26,
        "dist-01.profile": 27, "ring-1": 31, "ring-1.a": 32, "ring-1.b": 33}


@pytest.fixture
def small(tmp_path: Path) -> Path:
    p = tmp_path / "inventory.yaml"
    p.write_text(SMALL, encoding="utf-8")
    return p
