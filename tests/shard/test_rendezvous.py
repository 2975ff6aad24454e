"""Rendezvous hashing: exact owners for a fixed set, order-independent, minimal movement.

The literal table pins the weight function: pollers of two versions must agree on every owner
during a rolling upgrade, so a change of hash is a protocol change this test makes visible. The
second ground truth is an independent reading of the documented formula (struct, not
int.from_bytes; a full sort, not a running maximum).
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections import Counter

import pytest

from nocsoc.shard import rendezvous as r

MEMBERS = ["poller-a", "poller-b", "poller-c"]
KEYS = ["hcm-core-1", "hcm-core-2", "hn-dist-1", "dn-edge-7", "ct-ups-1", "bp-access-12",
        "Đồng Xoài-sw1", "la-core-1"]
# Owners among MEMBERS, and among poller-a and poller-b after poller-c has left.
EXPECTED_3 = {"hcm-core-1": "poller-b", "hcm-core-2": "poller-a", "hn-dist-1": "poller-a",
              "dn-edge-7": "poller-c", "ct-ups-1": "poller-c", "bp-access-12": "poller-a",
              "Đồng Xoài-sw1": "poller-c", "la-core-1": "poller-a"}
EXPECTED_2 = {**EXPECTED_3, "dn-edge-7": "poller-b", "ct-ups-1": "poller-a", "Đồng Xoài-sw1": "poller-b"}

# 34 provinces x 50 devices: the national inventory of issue #19
NATIONAL = [f"p{p:02d}-dev{d:02d}" for p in range(34) for d in range(50)]


def reference_owner(key: str, members: list[str]) -> str:
    """The documented formula, computed another way."""
    def w(m: str) -> int:
        h = hashlib.new("blake2b", (m + "\x00" + key).encode("utf-8"), digest_size=8)
        return int(struct.unpack(">Q", h.digest())[0])
    return sorted(members, key=lambda m: (w(m), m))[-1]


def test_exact_owners_for_a_fixed_set() -> None:
    assert r.assign(KEYS, MEMBERS) == EXPECTED_3
    assert r.assign(KEYS, MEMBERS[:2]) == EXPECTED_2
    assert r.weight("poller-a", "hcm-core-1") == 6935163828055375665


def test_owners_match_the_documented_formula() -> None:
    members = [f"host{i}-{1000 + i}" for i in range(5)]
    got = r.assign(NATIONAL, members)
    assert got == {k: reference_owner(k, members) for k in NATIONAL}


def test_owner_does_not_depend_on_member_order_or_duplicates() -> None:
    for perm in itertools.permutations(MEMBERS):
        assert r.assign(KEYS, [*perm, perm[0]]) == EXPECTED_3


def test_no_member_no_owner() -> None:
    assert r.assign(KEYS, []) == {}
    assert r.owner("x", []) is None
    assert r.owned_by("poller-z", KEYS, MEMBERS) == set()  # not a member: owns nothing


def test_every_key_has_exactly_one_owner() -> None:
    members = [f"m{i}" for i in range(7)]
    parts = [r.owned_by(m, NATIONAL, members) for m in members]
    assert sum(map(len, parts)) == len(NATIONAL)
    assert set().union(*parts) == set(NATIONAL)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_a_join_moves_only_the_keys_the_newcomer_takes(n: int) -> None:
    members = [f"m{i}" for i in range(n)]
    before = r.assign(NATIONAL, members)
    after = r.assign(NATIONAL, [*members, "new"])
    moved = {k for k in NATIONAL if before[k] != after[k]}
    assert moved == {k for k in NATIONAL if after[k] == "new"}
    # about 1/(n+1) of the keys move: never a reshuffle (a modulo hash moves ~n/(n+1))
    share = len(NATIONAL) / (n + 1)
    assert 0.75 * share <= len(moved) <= 1.25 * share


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_a_leave_moves_only_the_leavers_keys(n: int) -> None:
    members = [f"m{i}" for i in range(n)]
    before = r.assign(NATIONAL, members)
    gone = members[n // 2]
    after = r.assign(NATIONAL, [m for m in members if m != gone])
    moved = {k for k in NATIONAL if before[k] != after[k]}
    assert moved == {k for k in NATIONAL if before[k] == gone}
    # each of them goes to the member that was second for it
    for k in moved:
        assert after[k] == reference_owner(k, [m for m in members if m != gone])


def test_load_is_balanced_over_the_national_inventory() -> None:
    members = [f"poller-{i}" for i in range(4)]
    counts = Counter(r.assign(NATIONAL, members).values())
    assert set(counts) == set(members)
    assert max(counts.values()) <= 1.15 * len(NATIONAL) / 4
    assert min(counts.values()) >= 0.85 * len(NATIONAL) / 4
