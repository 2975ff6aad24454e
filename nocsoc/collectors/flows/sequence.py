"""Loss from sequence numbers, per exporter and domain.

What a sequence number counts differs by version: v5 counts flows, v9 export packets, IPFIX data
records. Each observation says how many units it carried, so the next expected number is known.
"""

from __future__ import annotations

MOD = 1 << 32
MAX_GAP = 1_000_000  # a larger forward jump is an exporter restart, not loss


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
