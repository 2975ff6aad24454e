"""Datagrams -> FlowBatch columns for NetFlow v5, v9 and IPFIX (sFlow: see sflow.py).

The hot path does as little Python per datagram as it can: headers and set headers are parsed with
`struct`, and the bytes of each data set are only appended to an accumulator keyed by (exporter,
domain, template, sampling). At the end of a batch each accumulator is joined and decoded with one
`np.frombuffer` (see templates.py), so the per-record cost is numpy's, not Python's.

Bad input never raises out of `decode()`: each malformed datagram is counted as a decode error
for its exporter and dropped (the sets before the bad one are kept: they were whole).

Two routes, proven equal by the tests (test_bulk, test_captures, test_exporter_quirks decode
everything both ways): the per-datagram path (`_decode_one`: pure Python + numpy, the reference,
and the whole decoder where the C extension is not built) and the bulk path (`_vector`: regular
batches of one version walked in C, falling back to the reference at the first state change or
bad datagram). For v5 the bulk path leaves records in their datagrams for the rollup's C tables
(`decode_for_rollup`), which halves a v5 record's decode + rollup CPU against building columns.
A numpy bulk walk once served builds without C; it saved only a fraction of the CPU there (the
numpy rollup dominates) and was removed: CI requires the extension, and one reference is what
keeps the fast path honest (figures: the commit that removed it).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from nocsoc.collectors.flows import batchwalk, derive, netflow5, speedups
from nocsoc.collectors.flows.records import (
    MAX_SCALED,
    SCALED,
    UNKNOWN,
    UNSAMPLED,
    FlowBatch,
    make_batch,
    plausible,
)
from nocsoc.collectors.flows.sampling import SamplingTable, ScopedRates
from nocsoc.collectors.flows.sequence import IpfixSequence, SequenceTracker, positions_by_key
from nocsoc.collectors.flows.sflow import SflowError
from nocsoc.collectors.flows.stats import ExporterStats
from nocsoc.collectors.flows.templates import (
    EarlyData,
    Held,
    Template,
    TemplateCache,
    TemplateError,
    parse_ipfix_templates,
    parse_v9_options_templates,
    parse_v9_templates,
)

log = logging.getLogger(__name__)

Datagram = tuple[bytes, str, float]  # payload, exporter address, arrival time (s)
Decoded = FlowBatch | netflow5.V5Records  # what decode_for_rollup returns

_V9_HEADER = struct.Struct("!HHIIII")  # version count uptime secs sequence source_id
_IPFIX_HEADER = struct.Struct("!HHIII")  # version length export_time sequence domain
_SET = struct.Struct("!HH")


class DecodeError(ValueError):
    pass


@dataclass
class _Acc:
    """Data of one (exporter, version, domain, template, sampling) waiting to be decoded."""

    template: Template | None  # None: NetFlow v5
    time: float
    chunks: list[bytes | np.ndarray] = field(default_factory=list)  # bytes-like, joined later
    decoded: list[dict[str, np.ndarray]] = field(default_factory=list)  # variable-length sets
    direct: list[netflow5.V5Records] = field(default_factory=list)  # v5 left in its datagrams
    scoped: ScopedRates | None = None  # v9/IPFIX: the per-record rates its records arrived under


AccKey = tuple[str, str, int, int, int, int]  # exporter, version, domain, template id, rate, state

ALWAYS_PLAUSIBLE = MAX_SCALED >> 32  # rates up to this cannot scale a 32-bit count past MAX_SCALED
VECTOR_MIN = 8  # below this many datagrams the per-datagram path is as fast
WALK_BUDGET = 4  # see _bulk


class NetflowDecoder:
    """Decoder state: templates, sampling, sequence numbers, early data, per-exporter counters."""

    def __init__(self, templates: TemplateCache | None = None, sampling: SamplingTable | None = None,
                 stats: ExporterStats | None = None, early: EarlyData | None = None,
                 sflow: object | None = None) -> None:
        # `is None`, not `or`: an empty cache or buffer is falsy (it has a length)
        self.templates = templates if templates is not None else TemplateCache()
        self.sampling = sampling if sampling is not None else SamplingTable()
        self.stats = stats if stats is not None else ExporterStats()
        self.early = early if early is not None else EarlyData()
        self.sequences = SequenceTracker()
        self.ipfix_sequences = IpfixSequence()
        self.sflow = sflow  # an SflowDecoder, when sFlow arrives through this decoder too
        self._acc: dict[AccKey, _Acc] = {}
        self._pending_finish: list[tuple[AccKey, _Acc]] = []
        self.vxlan = False  # decapsulate VXLAN in header sections (FlowsConfig.vxlan_decap)
        self.vectorized = True  # bulk path (C) for regular batches (False: per datagram, for tests)
        self._direct = False  # within decode_for_rollup: v5 records may stay in their datagrams
        self.unexpected_errors = 0  # decoder bugs (not bad input): the fuzz test wants 0
        # counters are summed here during a decode() call and published once at its end:
        # a lock per data set would cost more than decoding the set
        self._counts: dict[tuple[str, str], dict[str, int]] = {}
        # template sets already applied, as raw bytes: a refresh that repeats one byte for byte
        # (most do, every few seconds or datagrams) is skipped without parsing
        self._known_template_sets: set[tuple[str, int, bytes]] = set()

    # --- entry point ---------------------------------------------------------------------------

    def _count(self, exporter: str, vname: str, name: str, n: int = 1) -> None:
        d = self._counts.get((exporter, vname))
        if d is None:
            d = self._counts[(exporter, vname)] = {}
        d[name] = d.get(name, 0) + n

    def _publish_counts(self) -> None:
        for exporter, vname in self.sampling.new_unsupported:
            self._count(exporter, vname, "sampling_unsupported")
        self.sampling.new_unsupported.clear()
        for (exporter, vname), values in self._counts.items():
            self.stats.add_many(exporter, vname, values)
        self._counts = {}

    def decode(self, datagrams: Iterable[Datagram]) -> list[FlowBatch]:
        """Decode datagrams that fall in one rollup interval into batches."""
        try:
            return cast(list[FlowBatch], self._decode(datagrams))  # (no V5Records outside _direct)
        finally:
            self._publish_counts()

    def decode_for_rollup(self, datagrams: Iterable[Datagram]) -> list[Decoded]:
        """`decode`, except that with the C extension the records of regular v5 batches stay in
        their datagrams (V5Records) for `Rollups.add` to add straight into its tables: the same
        records, counters and rollups without building their columns (half the CPU a v5 record
        costs with the rollup, measured: see the "fewer routes" note in _decode)."""
        self._direct = speedups.ext is not None
        try:
            return self._decode(datagrams)
        finally:
            self._direct = False
            self._publish_counts()

    def _decode(self, datagrams: Iterable[Datagram]) -> list[Decoded]:
        # a list, or the receiver's Datagrams (payloads read in place by the C functions)
        dgs = datagrams if isinstance(datagrams, Sequence) else list(datagrams)
        extra: list[FlowBatch] = []
        slow: Sequence[Datagram] = dgs
        ext = speedups.ext
        if self.vectorized and ext is not None and len(dgs) >= VECTOR_MIN:
            by_version: dict[int, Sequence[Datagram]] = {}
            by_version[5], by_version[9], by_version[10], slow = ext.by_version(dgs)
            v9, v10 = by_version[9], by_version[10]
            if v9 and v10 and not _exporters(v9).isdisjoint(_exporters(v10)):
                slow = dgs  # one exporter speaking both: keep the arrival order across them
            else:
                for version, same in by_version.items():
                    self._bulk(version, same)
        for data, exporter, t in slow:
            extra.extend(self._decode_one(data, exporter, t))
        out: list[Decoded] = self._finish()
        return out + extra

    def _bulk(self, version: int, group: Sequence[Datagram]) -> None:
        """The vectorized path over `group`. Where it stops (a state change, bad input), the
        datagrams before go in bulk, that one on its own, and the rest is tried again. A refused
        attempt costs a walk of what it was given: once those walks add up to WALK_BUDGET times
        the group (a stream of garbage or of constant template changes), the rest goes one by
        one, so bulk decoding never costs more than a few walks over the per-datagram path."""
        rest, walked, budget = group, 0, WALK_BUDGET * len(group)
        while rest:
            if len(rest) < VECTOR_MIN or walked + len(rest) > budget:
                self._one_by_one(rest)
                return
            walked += len(rest)
            stop = self._vector(version, rest)
            if stop is None:
                return
            head = rest[:stop]
            walked += len(head)
            if len(head) < VECTOR_MIN or self._vector(version, head) is not None:
                self._one_by_one(head)  # (nothing was changed by a refused attempt)
            self._one_by_one(rest[stop:stop + 1])
            rest = rest[stop + 1:]

    def _one_by_one(self, datagrams: Iterable[Datagram]) -> None:
        for data, exporter, t in datagrams:
            self._decode_one(data, exporter, t)  # v5/v9/IPFIX: never returns batches

    def _decode_one(self, data: bytes, exporter: str, t: float) -> list[FlowBatch]:
        version = (data[0] << 8 | data[1]) if len(data) >= 2 else -1
        vname = {5: "5", 9: "9", 10: "10"}.get(version, "sflow" if version == 0 else "other")
        if version != 0 or self.sflow is None:  # sFlow counts its own, under the agent address
            self._count(exporter, vname, "datagrams")
        try:
            if version == 5:
                self._v5(data, exporter, t)
            elif version == 9:
                self._v9(data, exporter, t)
            elif version == 10:
                self._ipfix(data, exporter, t)
            elif version == 0 and self.sflow is not None:  # counts its bad input itself
                return self.sflow.decode_one(  # type: ignore[attr-defined]
                    data, exporter, t, self.sampling.fallback)
            else:
                raise DecodeError(f"unknown flow protocol version {version}")
        except (DecodeError, TemplateError, netflow5.V5Error, SflowError, struct.error,
                IndexError) as exc:
            self._count(exporter, vname, "decode_errors")
            log.debug("dropped datagram from %s (v%s): %s", exporter, vname, exc)
        except Exception:  # a decoder bug must not stop the collector: count it, log once
            self._count(exporter, vname, "decode_errors")
            self.unexpected_errors += 1
            if self.unexpected_errors == 1:
                log.exception("unexpected error decoding a datagram from %s (counted, dropped)",
                              exporter)
        return []

    # --- the bulk path (whole batches of one version walked in C; see batchwalk.py) -----------

    def _vector(self, version: int, group: Sequence[Datagram]) -> int | None:
        """Decode `group` (datagrams of one version, arrival order) in bulk (C); None when done.
        Otherwise, having changed nothing, the index of the first datagram it cannot take: bad
        input, or a template or sampling change (records after it must see the new state),
        which the per-datagram path applies."""
        whole = len(group) - 1
        try:
            if version == 5:
                return self._vector_v5(group)
            j = batchwalk.join_group(group)
            walk = batchwalk.walk_sets(j, version)
            return walk if isinstance(walk, int) else self._vector_sets(group, version, j, walk)
        except (TemplateError, ValueError, IndexError, struct.error) as exc:
            log.debug("batch of %d v%d datagrams takes the per-datagram path: %s", len(group), version, exc)
            return whole

    @staticmethod
    def _exporter_index(j: batchwalk.Joined) -> tuple[list[str], np.ndarray]:
        assert j.exporter_index is not None
        return j.exporters, j.exporter_index

    def _count_per_exporter(self, exporters: list[str], vname: str, name: str, index: np.ndarray,
                            weights: np.ndarray | None = None) -> None:
        sums = np.bincount(index, weights=weights, minlength=len(exporters))
        for e, v in zip(exporters, sums.tolist(), strict=True):
            if v:
                self._count(e, vname, name, int(v))

    def _v5_groups(self, exporters: list[str], eidx: np.ndarray, count: np.ndarray, seq: np.ndarray,
                   engine: np.ndarray, sampling: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Counts a v5 batch's loss (per exporter and engine, in arrival order, as the
        per-datagram path does), datagrams and records; then its datagrams per exporter index,
        engine and sampling field (one accumulator each): (eidx << 32 | engine << 16 | sampling,
        positions in arrival order)."""
        lost = self.sequences.observe_many(exporters, 5, eidx, engine, seq, count)
        for e, n in lost.items():
            self._count(e, "5", "sequence_lost", n)
        self._count_per_exporter(exporters, "5", "datagrams", eidx)
        self._count_per_exporter(exporters, "5", "records", eidx, count)
        return positions_by_key((eidx << 32) | (engine << 16) | sampling)

    def _vector_v5(self, group: Sequence[Datagram]) -> int | None:
        """v5 in bulk without copying: the headers read in place (C). For the rollup
        (decode_for_rollup), the records of each exporter, engine and sampling field stay in their
        datagrams (V5Records) when every one is plausible once scaled, as any 32-bit count is up
        to a rate of 2**18 (v5 headers carry 14 bits; a larger rate can only be the inventory's);
        otherwise (or for `decode`) they become columns, which drops and counts the implausible."""
        assert speedups.ext is not None
        got = speedups.ext.v5_walk(group)
        if isinstance(got, int):
            return got
        exporters = got[0]
        eidx, count, seq, engine, sampling = (np.frombuffer(c, dtype=np.int64) for c in got[1:])
        for key, sel in self._v5_groups(exporters, eidx, count, seq, engine, sampling):
            exporter = exporters[key >> 32]
            rate, state = self.sampling.resolve_v5(exporter, key & 0xFFFF)
            t = group[int(sel[0])][2]
            recs = netflow5.V5Records(exporter, t, group, sel, int(count[sel].sum()), rate, state)
            if self._direct and rate <= ALWAYS_PLAUSIBLE:
                self._add(exporter, "5", (key >> 16) & 0xFFFF, -1, rate, state, None, t, None, direct=recs)
            else:
                self._add(exporter, "5", (key >> 16) & 0xFFFF, -1, rate, state, None, t, None,
                          recs.columns())
        return None

    def _vector_sets(self, group: Sequence[Datagram], version: int, j: batchwalk.Joined,
                     w: batchwalk.SetWalk) -> int | None:
        vname = "9" if version == 9 else "10"
        exporters, eidx = self._exporter_index(j)
        sid, dg = w.sid, w.dgram
        set_exp = eidx[dg]
        set_dom = w.domain[dg]
        # template sets: only unchanged refreshes are allowed here (a new one changes state)
        tmpl_ids = (0, 1) if version == 9 else (2, 3)
        stop: int | None = None  # the first datagram that changes state
        tsets = np.flatnonzero((sid == tmpl_ids[0]) | (sid == tmpl_ids[1]))
        # (Python lists, not numpy scalars, in the per-set loops: ~10x cheaper an element)
        for d, b, blen, e, dom in zip(dg[tsets].tolist(), w.body[tsets].tolist(), w.body_len[tsets].tolist(),
                                      set_exp[tsets].tolist(), set_dom[tsets].tolist(), strict=True):
            if (exporters[e], dom, j.raw[b - 4:b + blen]) not in self._known_template_sets:
                stop = d
                break
        data = np.flatnonzero(sid >= 256)
        dkey = (set_exp[data] << 48) | (set_dom[data] << 16) | sid[data]
        keys, inverse = np.unique(dkey, return_inverse=True)
        fast: list[tuple[int, Template]] = []  # (group, template)
        special = np.zeros(len(keys), dtype=bool)
        options_sets: list[tuple[int, Template]] = []  # (set index, template)
        for g, key in enumerate(keys.tolist()):
            tkey = (exporters[key >> 48], (key >> 16) & 0xFFFFFFFF, key & 0xFFFF)
            tpl = self.templates.get(tkey)
            if tpl is None:
                special[g] = True  # data before its template: held, in arrival order below
            elif tpl.options:
                special[g] = True
                options_sets.extend((int(i), tpl) for i in data[inverse == g].tolist())
            elif tpl.record_length is None:
                return len(group) - 1  # variable-length records: per set, errors per datagram
            else:
                fast.append((g, tpl))
        # options data: allowed only when it repeats what is known (sampling unchanged)
        options_sets.sort()
        learned: list[tuple[str, int, dict[int, int]]] = []
        options_counts = [0] * len(group)
        # the same options data repeated in one batch (an exporter re-announcing its sampling) is
        # checked once: every check reads the rates as they were before the batch
        checked: set[tuple[int, int, int, bytes]] = set()
        oidx = np.array([i for i, _ in options_sets], dtype=np.int64)
        for (_i, tpl), d, b, blen, e, domain in zip(
                options_sets, dg[oidx].tolist(), w.body[oidx].tolist(), w.body_len[oidx].tolist(),
                set_exp[oidx].tolist(), set_dom[oidx].tolist(), strict=True):
            if stop is not None and d >= stop:
                break
            body = j.raw[b:b + blen]
            recs = tpl.decode_options_cached(body)
            options_counts[d] += len(recs)
            key = (e, domain, tpl.template_id, body)
            if key in checked:
                continue
            checked.add(key)
            exporter = exporters[e]
            for rec in recs:
                if self.sampling.would_change(exporter, domain, rec):
                    return d
                learned.append((exporter, domain, rec))
        options_per_dg = np.array(options_counts, dtype=np.int64)
        if stop is not None:
            return stop
        # --- from here on state changes: the batch is ours -------------------------------------
        for exporter, domain, rec in learned:
            self.sampling.learn(exporter, domain, rec, vname)
        self._count_per_exporter(exporters, vname, "datagrams", eidx)
        ndg = len(group)
        uncountable = np.zeros(ndg, dtype=bool)
        if special.any():
            for i in data[special[inverse]].tolist():
                if self.templates.get((exporters[set_exp[i]], int(set_dom[i]), int(sid[i]))) is None:
                    b = int(w.body[i])
                    self._data_set(exporters[set_exp[i]], vname, int(set_dom[i]), int(sid[i]),
                                   j.raw[b:b + int(w.body_len[i])], group[int(dg[i])][2])
                    uncountable[dg[i]] = True
        flows_per_dg = np.zeros(ndg, dtype=np.int64)
        for g, tpl in fast:
            size = tpl.record_length
            assert size is not None
            sel = data[inverse == g]
            nrec = w.body_len[sel] // size
            flows_per_dg += np.bincount(dg[sel], weights=nrec, minlength=ndg).astype(np.int64)  # exact: small
            if not nrec.any():
                continue
            key = int(keys[g])
            exporter, domain = exporters[key >> 48], (key >> 16) & 0xFFFFFFFF
            rate, state = self.sampling.resolve(exporter, domain)
            offsets = batchwalk.record_offsets(w.body[sel], nrec, size)
            t = group[int(dg[sel[0]])][2]
            # gathered straight into columns (one pass in C)
            self._add(exporter, vname, domain, key & 0xFFFF, rate, state, tpl, t, None,
                      tpl.columns_at(j.buf, offsets))
        self._count_per_exporter(exporters, vname, "records", eidx, flows_per_dg)
        if version == 9:
            lost = self.sequences.observe_many(exporters, 9, eidx, w.domain, w.seq,
                                               np.ones(ndg, dtype=np.int64))
        else:
            lost = self.ipfix_sequences.observe_many(exporters, eidx, w.domain, w.seq, flows_per_dg,
                                                     options_per_dg, uncountable)
        for e, n in lost.items():
            self._count(e, vname, "sequence_lost", n)
        return None

    def expire_early(self, before: float) -> int:
        """Drop held data older than `before` (counted as template_missing already when held)."""
        return len(self.early.expire(before))

    # --- NetFlow v5 ----------------------------------------------------------------------------

    def _v5(self, data: bytes, exporter: str, t: float) -> None:
        count, seq, engine, sampling = netflow5.parse_header(data)
        lost = self.sequences.observe((exporter, 5, engine), seq, count)
        if lost:
            self._count(exporter, "5", "sequence_lost", lost)
        rate, state = self.sampling.resolve_v5(exporter, sampling)
        end = netflow5.HEADER_LEN + count * netflow5.RECORD_LEN
        if end < len(data):
            self._trailing(data, end, exporter, "5")
        self._add(exporter, "5", engine, -1, rate, state, None, t, data[netflow5.HEADER_LEN:end])
        self._count(exporter, "5", "records", count)

    def _trailing(self, data: bytes, end: int, exporter: str, vname: str) -> None:
        """Bytes after the message its header describes: zero padding, or more (another message
        back to back: one message per datagram is read, as Logstash and nfacctd do), counted."""
        self._count(exporter, vname, "trailing_data" if any(data[end:]) else "padding")

    # --- NetFlow v9 ----------------------------------------------------------------------------

    def _v9(self, data: bytes, exporter: str, t: float) -> None:
        if len(data) < 20:
            raise DecodeError(f"v9 datagram of {len(data)} bytes is shorter than the header")
        _v, _count, _uptime, _secs, seq, domain = _V9_HEADER.unpack_from(data)
        lost = self.sequences.observe((exporter, 9, domain), seq, 1)
        if lost:
            self._count(exporter, "9", "sequence_lost", lost)
        self._sets(data, 20, len(data), exporter, "9", domain, t)

    # --- IPFIX ---------------------------------------------------------------------------------

    def _ipfix(self, data: bytes, exporter: str, t: float) -> None:
        if len(data) < 16:
            raise DecodeError(f"IPFIX message of {len(data)} bytes is shorter than the header")
        _v, length, _export, seq, domain = _IPFIX_HEADER.unpack_from(data)
        if length < 16 or length > len(data):
            raise DecodeError(f"IPFIX header says {length} bytes, datagram has {len(data)}")
        if length < len(data):
            self._trailing(data, length, exporter, "10")
        units = self._sets(data, 16, length, exporter, "10", domain, t)
        flows, options = units if units is not None else (None, None)
        lost = self.ipfix_sequences.observe((exporter, 10, domain), seq, flows, options)
        if lost:
            self._count(exporter, "10", "sequence_lost", lost)

    # --- sets (v9 flowsets and IPFIX sets share the layout) ------------------------------------

    def _sets(self, data: bytes, pos: int, end: int, exporter: str, vname: str, domain: int,
              t: float) -> tuple[int, int] | None:
        """Walk the sets; returns (flow records, options records), None if some were uncountable."""
        v9 = vname == "9"
        flows, options, countable = 0, 0, True
        get_template = self.templates.lookup
        accs = self._acc
        sampling: tuple[int, int] | None = None  # resolved once per datagram (until options data)
        scoped: ScopedRates | None = None  # the same, for per-record (sampler, interface) rates
        while end - pos >= 4:
            sid, slen = _SET.unpack_from(data, pos)
            if slen < 4 or pos + slen > end:
                if not any(data[pos:end]):  # zero padding after the last set (Cisco ACI, PAN-OS)
                    self._count(exporter, vname, "padding")
                    pos = end
                    break
                raise DecodeError(f"set {sid} at offset {pos}: length {slen} is below 4 or overruns "
                                  "the datagram")
            start = pos + 4
            pos += slen
            if sid >= 256:
                tpl = get_template((exporter, domain, sid))
                if tpl is not None and tpl.record_length is not None and not tpl.options:
                    # the hot path: fixed-length records, appended for one joined decode later
                    size = tpl.record_length
                    n = (slen - 4) // size
                    if n:
                        if sampling is None:
                            sampling = self.sampling.resolve(exporter, domain)
                            scoped = self.sampling.scoped(exporter, domain)
                        # cut the set's padding, or joined sets would shift every later record
                        chunk = data[start:start + n * size]
                        acc = accs.get((exporter, vname, domain, sid, sampling[0], sampling[1]))
                        if acc is not None and acc.template is tpl and acc.scoped is scoped:
                            acc.chunks.append(chunk)
                        else:
                            self._add(exporter, vname, domain, sid, sampling[0], sampling[1], tpl, t, chunk)
                    flows += n
                    continue
                got = self._data_set(exporter, vname, domain, sid, data[start:pos], t)
                if got is None:
                    countable = False
                elif got[1]:
                    options += got[0]
                    sampling = None  # options data may have announced a new rate
                else:
                    flows += got[0]
            elif sid <= 3:
                if (sid < 2) != v9:
                    continue  # a set id of the other protocol: reserved here, skipped
                known = (exporter, domain, data[start - 4:pos])  # set header included
                if known in self._known_template_sets:
                    continue  # an unchanged refresh
                self._templates(exporter, vname, domain, t, data[start:pos], options=sid in (1, 3))
                if len(self._known_template_sets) > 65536:
                    self._known_template_sets.clear()
                self._known_template_sets.add(known)
            # other set ids below 256 are reserved: skipped by their length
        if pos != end and not v9:
            if any(data[pos:end]):
                raise DecodeError(f"{end - pos} stray bytes after the last set")
            self._count(exporter, vname, "padding")
        if flows:
            self._count(exporter, vname, "records", flows)
        return (flows, options) if countable else None

    def _templates(self, exporter: str, vname: str, domain: int, t: float, body: bytes,
                   options: bool) -> None:
        if vname == "9":
            found: list = parse_v9_options_templates(body) if options else parse_v9_templates(body)
        else:
            found = parse_ipfix_templates(body, options)
        for item in found:
            if isinstance(item, TemplateError):
                self._count(exporter, vname, "template_errors")
                log.debug("template from %s (v%s, domain %d) refused: %s", exporter, vname, domain, item)
                tid = getattr(item, "template_id", None)
                if tid is not None:  # its data is not coming back: drop what was held for it
                    self.early.release((exporter, domain, tid))
                continue
            if isinstance(item, tuple):
                self.templates.withdraw(exporter, domain, item[0])
                self._known_template_sets = {k for k in self._known_template_sets
                                             if k[:2] != (exporter, domain)}
                continue
            key = (exporter, domain, item.template_id)
            if self.templates.put(key, item):
                if item.lenient:
                    self._count(exporter, vname, "template_lenient")
                    log.debug("template %d from %s accepted leniently: %s", item.template_id, exporter,
                              "; ".join(item.lenient))
                for held in self.early.release(key):
                    got = self._data_set(exporter, vname, domain, item.template_id, held.body, t)
                    if got is not None and not got[1]:
                        self._count(exporter, vname, "records", got[0])

    def _data_set(self, exporter: str, vname: str, domain: int, tid: int, body: bytes,
                  t: float) -> tuple[int, bool] | None:
        """Queue one data set for decoding; returns (records, is options data), None if unknown."""
        key = (exporter, domain, tid)
        tpl = self.templates.get(key)
        if tpl is None:
            self._count(exporter, vname, "template_missing")
            for _ in self.early.hold(Held(key, int(vname), body, t)):
                pass  # evicted: already counted as template_missing when held
            return None
        if tpl.options:
            recs = tpl.decode_options(body)
            for rec in recs:
                self.sampling.learn(exporter, domain, rec, vname)
            return len(recs), True
        rate, state = self.sampling.resolve(exporter, domain)
        if tpl.record_length is None:
            cols = tpl.decode_columns(body)  # variable length: decode now, errors stay per set
            n = _ncols(cols)
            self._add(exporter, vname, domain, tid, rate, state, tpl, t, None, cols)
        else:
            n = len(body) // tpl.record_length
            if n:  # cut the set's padding, or joined sets would shift every later record
                self._add(exporter, vname, domain, tid, rate, state, tpl, t, body[:n * tpl.record_length])
        return n, False

    def _add(self, exporter: str, vname: str, domain: int, tid: int, rate: int, state: int,
             tpl: Template | None, t: float, body: bytes | np.ndarray | None,
             cols: dict[str, np.ndarray] | None = None, direct: netflow5.V5Records | None = None) -> None:
        key = (exporter, vname, domain, tid, rate, state)
        acc = self._acc.get(key)
        scoped = self.sampling.scoped(exporter, domain) if tpl is not None else None
        if acc is None or acc.template is not tpl or acc.scoped is not scoped:
            if acc is not None:  # template or per-record rates replaced mid-batch: finish the old first
                self._acc.pop(key)
                self._pending_finish.append((key, acc))
            acc = self._acc[key] = _Acc(tpl, t, scoped=scoped)
        if body is not None:
            acc.chunks.append(body)
        if cols is not None:
            acc.decoded.append(cols)
        if direct is not None:
            acc.direct.append(direct)

    # --- finishing a batch ---------------------------------------------------------------------

    def _finish(self) -> list[Decoded]:
        out: list[Decoded] = []
        items = [*self._pending_finish, *self._acc.items()]
        self._acc = {}
        self._pending_finish = []
        for key, acc in items:
            exporter, vname, domain, _tid, rate, state = key
            try:
                parts = list(acc.decoded)
                if acc.chunks:
                    parts.append(netflow5.decode_columns(_joined(acc.chunks)) if acc.template is None
                                 else acc.template.decode_columns(_joined(acc.chunks)))
                for cols in parts:
                    out.extend(self._batches(exporter, vname, domain, acc.time, cols, rate, state,
                                             acc.scoped, acc.template))
                for recs in acc.direct:  # already checked plausible (_vector_v5_direct)
                    recs.time = acc.time
                    if state == UNKNOWN:
                        self._count(exporter, vname, "unsampled", len(recs))
                    out.append(recs)
            except (TemplateError, ValueError) as exc:
                self._count(exporter, vname, "decode_errors")
                log.debug("dropped data of %s (v%s): %s", exporter, vname, exc)
        return out

    def _batches(self, exporter: str, vname: str, domain: int, t: float, cols: dict[str, np.ndarray],
                 rate: int, state: int, scoped: ScopedRates | None = None,
                 tpl: Template | None = None) -> list[FlowBatch]:
        if _ncols(cols) == 0:
            return []
        if tpl is None:  # NetFlow v5: the columns are the flow
            groups = [(4, cols)]
        else:
            counts: dict[str, int] = {}
            groups = derive.records(cols, tpl.pair_order, counts, self.vxlan)
            for name, n in counts.items():
                self._count(exporter, vname, name, n)
        out: list[FlowBatch] = []
        for fam, group in groups:
            out.extend(self._batch(exporter, vname, domain, t, fam, group, rate, state, scoped))
        return out

    def _batch(self, exporter: str, vname: str, domain: int, t: float, fam: int, cols: dict[str, np.ndarray],
               rate: int, state: int, scoped: ScopedRates | None) -> list[FlowBatch]:
        n = _ncols(cols)
        if n == 0:
            return []
        zeros = np.zeros(n, dtype=np.uint64)
        cols.setdefault("bytes", zeros)
        cols.setdefault("packets", zeros)
        rates = np.full(n, rate, dtype=np.int64)
        states = np.full(n, state, dtype=np.int8)
        self._per_record_sampling(cols, rates, states, scoped)
        ok = plausible(cols["bytes"], rates) & plausible(cols["packets"], rates)
        if not ok.all():
            bad = int(n - np.count_nonzero(ok))
            self._count(exporter, vname, "decode_errors", bad)
            log.debug("dropped %d records of %s with impossible byte/packet counts", bad, exporter)
            cols = {k: v[ok] for k, v in cols.items()}
            rates, states, n = rates[ok], states[ok], int(np.count_nonzero(ok))
            if n == 0:
                return []
        unknown = int(np.count_nonzero(states == UNKNOWN))
        if unknown:
            self._count(exporter, vname, "unsampled", unknown)
            self.sampling.warn_unknown(exporter, domain)
        return [make_batch(exporter, vname, fam, t, cols, rates, states,
                           "event" if "_event" in cols else "flow")]

    @staticmethod
    def _per_record_sampling(cols: dict[str, np.ndarray], rates: np.ndarray, states: np.ndarray,
                             scoped: ScopedRates | None) -> None:
        """Per record, the most specific rate known replaces the domain's (`rates` comes filled
        with the domain's, the inventory's or unknown): the record's own sampling interval, else
        its sampler's, else its input interface's, else its output interface's. Applied from the
        least specific up, each overwriting the records it knows."""
        looked_up: list[tuple[np.ndarray, np.ndarray]] = []  # (mask, rates), least specific first
        if scoped:
            for column, table in (("out_if", scoped.egress), ("in_if", scoped.ingress)):
                ids = cols.get(column)
                if ids is not None and table:
                    looked_up.append(table.find(ids))
            sampler = cols.get("sampler", cols.get("selector"))
            if sampler is not None and scoped.sampler:
                looked_up.append(scoped.sampler.find(sampler))
        own = cols.get("sampling")
        if own is not None:
            looked_up.append((own > 0, own.astype(np.int64)))
        for m, r in looked_up:
            rates[m] = r[m]
            states[m] = np.where(r[m] > 1, SCALED, UNSAMPLED)


def _exporters(group: Sequence[Datagram]) -> set[str]:
    """The exporters of a group, without making a Datagrams' tuples (each copies its payload)."""
    ext = speedups.ext
    if ext is not None and isinstance(group, ext.Datagrams):
        return group.exporters()
    return {d[1] for d in group}


def _joined(chunks: list[bytes | np.ndarray]) -> bytes | np.ndarray:
    """One buffer of the accumulated record bytes (a single chunk is used as it is)."""
    if len(chunks) == 1:
        return chunks[0]
    return b"".join([c if isinstance(c, bytes) else c.data for c in chunks])


def _ncols(cols: dict[str, np.ndarray]) -> int:
    for v in cols.values():
        return int(v.shape[0])
    return 0


def _clean(cols: Mapping[str, np.ndarray | None]) -> dict[str, np.ndarray]:
    return {k: v for k, v in cols.items() if v is not None}
