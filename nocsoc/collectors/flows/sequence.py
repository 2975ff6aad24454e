"""Loss from sequence numbers, per exporter and domain.

What a sequence number counts differs by version: v5 counts flows, v9 export packets, IPFIX data
records. Each observation says how many units it carried, so the next expected number is known.
"""

from __future__ import annotations

import numpy as np

MOD = 1 << 32
MAX_GAP = 1_000_000  # a larger forward jump is an exporter restart, not loss
MAX_IRREGULAR = 4  # per key and batch: after this many, the rest of the batch goes one by one


class SequenceTracker:
    def __init__(self) -> None:
        self._expected: dict[tuple[str, int, int], int] = {}
        self.resets = 0

    def observe(self, key: tuple[str, int, int], seq: int, units: int | None) -> int:
        """Units lost before this one (0 for the first, for reordering, and for restarts).

        `units` None means this datagram's size in units is unknown (IPFIX data without its
        template): the next observation then starts afresh instead of guessing.
        """
        expected = self._expected.get(key)
        lost = 0
        if expected is not None:
            gap = (seq - expected) % MOD
            if gap == 0:
                pass
            elif gap < MAX_GAP:
                lost = gap
            elif gap > MOD - MAX_GAP:
                return 0  # late (reordered or duplicate) datagram: keep the expectation
            else:
                self.resets += 1
        if units is None:
            self._expected.pop(key, None)
        else:
            self._expected[key] = (seq + units) % MOD
        return lost

    def observe_many(self, exporters: list[str], version: int, eidx: np.ndarray, domain: np.ndarray,
                     seq: np.ndarray, units: np.ndarray) -> dict[str, int]:
        """`observe` for a batch (arrays in arrival order, `eidx` indexing `exporters`); units lost
        per exporter. A stretch without loss or reordering is checked with numpy in one go."""
        return _observe_many(self, exporters, version, eidx, domain, seq, units)


def positions_by_key(key: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Each distinct key of a batch (ascending) with its int64 positions, in arrival order."""
    if key.shape[0] and int(key.min()) == int(key.max()):  # the usual batch: one key, no sort
        return [(int(key[0]), np.arange(key.shape[0], dtype=np.int64))]
    keys, inverse = np.unique(key, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
    return [(k, order[bounds[g]:bounds[g + 1]]) for g, k in enumerate(keys.tolist())]


def _by_key(eidx: np.ndarray, domain: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """(exporter index, domain, positions in arrival order) per distinct pair of a batch."""
    return [(k >> 32, k & 0xFFFFFFFF, pos) for k, pos in positions_by_key((eidx << 32) | domain)]


def _add_lost(out: dict[str, int], exporter: str, n: int) -> None:
    if n:
        out[exporter] = out.get(exporter, 0) + n


def _observe_many(tracker: SequenceTracker, exporters: list[str], version: int, eidx: np.ndarray,
                  domain: np.ndarray, seq: np.ndarray, units: np.ndarray) -> dict[str, int]:
    out: dict[str, int] = {}
    for e, dom, sel in _by_key(eidx, domain):
        key = (exporters[e], version, dom)
        s, u = seq[sel], units[sel]
        irregular = 0
        while s.shape[0]:
            if irregular >= MAX_IRREGULAR:  # a disordered stream: one by one is cheaper than numpy
                for si, ui in zip(s.tolist(), u.tolist(), strict=True):
                    _add_lost(out, exporters[e], tracker.observe(key, si, ui))
                break
            # the common case, no loss and no reordering, checked with numpy up to the first
            # message that is not where the previous one said: that one goes through observe()
            expected = tracker._expected.get(key)
            after = (s + u) % MOD
            ok = np.empty(s.shape[0], dtype=bool)
            ok[0] = expected is None or int(s[0]) == expected
            ok[1:] = s[1:] == after[:-1]
            k = int(np.argmin(ok)) if not ok.all() else s.shape[0]
            if k:
                tracker._expected[key] = int(after[k - 1])
            if k < s.shape[0]:
                irregular += 1
                _add_lost(out, exporters[e], tracker.observe(key, int(s[k]), int(u[k])))
            s, u = s[k + 1:], u[k + 1:]
    return out


class IpfixSequence:
    """IPFIX loss, robust to how exporters actually number their messages.

    RFC 7011 says the sequence number counts all data records sent *before* this message; softflowd
    (measured here) counts those up to and *including* this message, and leaves options records
    out. The four readings (before/including x all/flow records only) are checked side by side;
    a wrong reading accumulates a spurious loss on nearly every message, the right one only true
    losses, so the smallest running total is reported.
    """

    def __init__(self) -> None:
        # key -> [previous seq, previous all records, previous flow records, cum0..cum3]
        self._state: dict[tuple[str, int, int], list[int]] = {}
        self._reported: dict[tuple[str, int, int], int] = {}
        self.resets = 0

    def observe(self, key: tuple[str, int, int], seq: int, flows: int | None, options: int | None) -> int:
        """New loss (records) since the last observation of `key`."""
        st = self._state.get(key)
        if flows is None or options is None:
            if st is not None:
                st[1] = st[2] = -1  # this message's size is unknown: the next one starts afresh
            return 0
        every = flows + options
        if st is None or st[1] < 0:
            if st is None:
                self._state[key] = [seq, every, flows, 0, 0, 0, 0]
            else:
                st[0], st[1], st[2] = seq, every, flows
            return 0
        prev, prev_every, prev_flows = st[0], st[1], st[2]
        gaps = ((seq - prev - prev_every) % MOD, (seq - prev - prev_flows) % MOD,
                (seq - every - prev) % MOD, (seq - flows - prev) % MOD)
        if min(gaps) > MOD - MAX_GAP:
            return 0  # a late (reordered or duplicate) message: keep the expectation
        for i, gap in enumerate(gaps):
            if gap < MAX_GAP:
                st[3 + i] += gap
            elif gap > MOD - MAX_GAP:
                st[3 + i] += MOD - gap  # behind where this reading expected: evidence against it
        if min(gaps) >= MAX_GAP:
            self.resets += 1  # an exporter restart: nothing to count
        st[0], st[1], st[2] = seq, every, flows
        best = min(st[3:])
        lost = best - self._reported.get(key, 0)
        self._reported[key] = best
        return max(lost, 0)

    def observe_many(self, exporters: list[str], eidx: np.ndarray, domain: np.ndarray, seq: np.ndarray,
                     flows: np.ndarray, options: np.ndarray, uncountable: np.ndarray) -> dict[str, int]:
        """`observe` for a batch (arrays in arrival order); records lost per exporter. Stretches
        without reordering or restarts are summed with numpy; anything else goes one by one."""
        out: dict[str, int] = {}
        for e, dom, sel in _by_key(eidx, domain):
            key = (exporters[e], 10, dom)
            s, f, unc = seq[sel], flows[sel], uncountable[sel]
            every = f + options[sel]
            irregular = 0
            while s.shape[0]:
                if irregular >= MAX_IRREGULAR:  # a disordered stream: one by one, in plain Python
                    for si, fi, ei, ui in zip(s.tolist(), f.tolist(), every.tolist(), unc.tolist(),
                                              strict=True):
                        lost = self.observe(key, si, None if ui else fi, None if ui else ei - fi)
                        _add_lost(out, exporters[e], lost)
                    break
                k = self._regular_stretch(key, exporters[e], out, s, f, every, unc)
                if k < s.shape[0]:
                    irregular += 1  # this one on its own (late, restart, unknown size, first)
                    lost = self.observe(key, int(s[k]), None if unc[k] else int(f[k]),
                                        None if unc[k] else int(every[k] - f[k]))
                    _add_lost(out, exporters[e], lost)
                s, f, every, unc = s[k + 1:], f[k + 1:], every[k + 1:], unc[k + 1:]
        return out

    def _regular_stretch(self, key: tuple[str, int, int], exporter: str, out: dict[str, int],
                         s: np.ndarray, f: np.ndarray, every: np.ndarray, unc: np.ndarray) -> int:
        """Apply `observe` to the leading messages that are neither late nor a restart nor of
        unknown size, with numpy; returns how many it took."""
        st = self._state.get(key)
        if st is None or st[1] < 0:
            return 0
        prev = np.concatenate(([st[0]], s[:-1]))
        prev_every = np.concatenate(([st[1]], every[:-1]))
        prev_flows = np.concatenate(([st[2]], f[:-1]))
        gaps = np.stack(((s - prev - prev_every) % MOD, (s - prev - prev_flows) % MOD,
                         (s - every - prev) % MOD, (s - f - prev) % MOD))
        ok = (gaps.min(axis=0) < MAX_GAP) & ~unc
        k = int(np.argmin(ok)) if not ok.all() else s.shape[0]
        if k == 0:
            return 0
        g = gaps[:, :k]
        add = np.where(g < MAX_GAP, g, np.where(g > MOD - MAX_GAP, MOD - g, 0))
        for i, v in enumerate(add.sum(axis=1).tolist()):
            st[3 + i] += v
        st[0], st[1], st[2] = int(s[k - 1]), int(every[k - 1]), int(f[k - 1])
        # per message, lost = new best - previous best; the best only grows, so the sum is this
        best = min(st[3:])
        _add_lost(out, exporter, max(best - self._reported.get(key, 0), 0))
        self._reported[key] = best
        return k
