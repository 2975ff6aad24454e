"""Decoded flow records as column batches: what every decoder produces and the rollup consumes.

Columns (numpy arrays) instead of one object per flow: the rollup groups and sums whole batches
with sort + reduceat, which is what lets decode + rollup run at over a million records/s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Sampling state of each record; the rollup's `sampled` tag is its name.
UNKNOWN, UNSAMPLED, SCALED = 0, 1, 2
SAMPLED_NAMES = {UNKNOWN: "unknown", UNSAMPLED: "false", SCALED: "true"}

V6 = np.dtype("V16")


@dataclass(slots=True)
class FlowBatch:
    """Records of one exporter and IP version, received in one rollup interval.

    `src`/`dst` are uint32 (IPv4) or V16 (IPv6, network order). `bytes`/`packets` are already
    multiplied by `rate`; `state` says per record whether they were (see SAMPLED_NAMES).
    """

    exporter: str
    version: str  # "5" | "9" | "10" | "sflow"
    ip_version: int
    time: float  # arrival time (s) of the datagrams: selects the rollup interval
    src: np.ndarray
    dst: np.ndarray
    sport: np.ndarray  # uint32
    dport: np.ndarray
    proto: np.ndarray
    in_if: np.ndarray
    out_if: np.ndarray
    bytes: np.ndarray  # int64, scaled
    packets: np.ndarray  # int64, scaled
    rate: np.ndarray  # int64, the factor applied (1 when unknown or unsampled)
    state: np.ndarray  # int8, UNKNOWN | UNSAMPLED | SCALED
    # what a record says beside its flow, where its exporter says it (derive.EXTRA): the outer
    # addresses of a tunnel (V16, IPv4-mapped for IPv4), NAT translations, firewall and NAT
    # events, 1 for an RFC 5103 / NSEL reverse direction, sFlow forwarding status and drops
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    # "flow" | "event" (no volume element: NAT/firewall event logging) | "drop" (sFlow drop
    # samples): events and drops are kept for who reads records, never added to volumes
    kind: str = "flow"

    def __len__(self) -> int:
        return int(self.bytes.shape[0])

    def rows(self) -> list[dict[str, object]]:
        """One dict per record (for `nocsoc flows decode --json` and tests; slow by design)."""
        from nocsoc.collectors.flows.addresses import format_addresses

        srcs = format_addresses(self.src, self.ip_version)
        dsts = format_addresses(self.dst, self.ip_version)
        out: list[dict[str, object]] = []
        cols = zip(srcs, dsts, self.sport.tolist(), self.dport.tolist(), self.proto.tolist(),
                   self.in_if.tolist(), self.out_if.tolist(), self.bytes.tolist(),
                   self.packets.tolist(), self.rate.tolist(), self.state.tolist(), strict=True)
        for s, d, sp, dp, pr, i, o, b, p, r, st in cols:
            out.append({
                "exporter": self.exporter, "version": self.version, "ip_version": self.ip_version,
                "src": s, "dst": d, "sport": sp, "dport": dp, "proto": pr, "in_if": i, "out_if": o,
                "bytes": b, "packets": p, "sampling_rate": r, "sampled": SAMPLED_NAMES[st],
            })
            if self.kind != "flow":
                out[-1]["kind"] = self.kind
        for name, values in self.extra.items():
            for row, v in zip(out, _extra_values(name, values), strict=True):
                row[name] = v
        return out


def _extra_values(name: str, values: np.ndarray) -> list[object]:
    from nocsoc.collectors.flows.derive import format_address

    if values.dtype == V6:
        return [format_address(bytes(v)) for v in values.tolist()]
    if name in ("nat_src", "nat_dst"):
        import socket

        return [socket.inet_ntoa(int(v).to_bytes(4, "big")) for v in values.tolist()]
    return [int(v) for v in values.tolist()]


# A scaled byte or packet count above this in one record is garbage (a petabyte per flow record),
# refused so that int64 sums over an interval can never wrap.
MAX_SCALED = 1 << 50


def plausible(values: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Mask of records whose count, multiplied by their sampling rate, stays <= MAX_SCALED."""
    if values.shape[0] and int(values.max()) <= MAX_SCALED // max(int(rate.max()), 1):
        return np.ones(values.shape[0], dtype=bool)  # the usual case, without a division per record
    return values.astype(np.uint64) <= (np.uint64(MAX_SCALED) // np.maximum(rate, 1).astype(np.uint64))


def make_batch(exporter: str, version: str, ip_version: int, time: float, cols: dict[str, np.ndarray],
               rate: np.ndarray, state: np.ndarray, kind: str = "flow") -> FlowBatch:
    """Build a batch from raw columns, applying the sampling rate to bytes and packets."""
    n = len(rate)
    zeros = np.zeros(n, dtype=np.uint32)

    def col(name: str) -> np.ndarray:
        a = cols.get(name)
        return zeros if a is None else a.astype(np.uint32, copy=False)

    addr_dtype = np.uint32 if ip_version == 4 else V6
    src = cols.get("src")
    dst = cols.get("dst")
    return FlowBatch(
        exporter=exporter, version=version, ip_version=ip_version, time=time,
        src=src if src is not None else np.zeros(n, dtype=addr_dtype),
        dst=dst if dst is not None else np.zeros(n, dtype=addr_dtype),
        sport=col("sport"), dport=col("dport"), proto=col("proto"),
        in_if=col("in_if"), out_if=col("out_if"),
        bytes=cols["bytes"].astype(np.int64) * rate,
        packets=cols["packets"].astype(np.int64) * rate,
        rate=rate, state=state,
        extra={k[2:]: v for k, v in cols.items() if k.startswith("x_")}, kind=kind,
    )
