"""Re-pack real EVTX records into full 64 KiB chunks, as a production log holds them.

Why: SigmaHQ's regression recordings hold about one record per chunk, so the Rust parser's
per-chunk work (header, string and template tables) lands on every record; a production
Security or Sysmon log packs ~100 records in a chunk, most of them reusing a template an
earlier record of the chunk defined. No such log is in ../shared. This module builds one
from the real records, honestly: every record's binary XML is copied token by token, only
its chunk-relative offsets are rewritten (names and template definitions, per the format:
libyal's "Windows XML Event Log (EVTX)" document), and a template definition that an earlier
record of the new chunk already holds (same GUID, same bytes) is referenced instead of
repeated, which is what Windows' own writer does. `verify()` then reads the file back with
the same parser and demands every record's JSON byte for byte equal to the original's.

Hand-written (bench only, never production): no library writes EVTX.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

HEADER, CHUNK, CHUNK_HEADER = 4096, 65536, 512
_REC_MAGIC = b"\x2a\x2a\x00\x00"


class Rewriter(Protocol):
    """What bench/evtx_synth.py changes while records are copied: substitution values (never the
    template or its names) and the record header's timestamp."""

    def values(self, src: bytes, body: tuple[int, int],
               values: list[tuple[int, bytes]]) -> list[bytes | None]:
        """New bytes for each (type, bytes) value of the template instance whose definition's
        body is `src[body[0]:body[1]]` (None: keep it; binary XML values are always kept and
        walked)."""
        ...

    def timestamp(self, record: SourceRecord) -> bytes | None:
        """The record header's FILETIME (8 bytes), or None to keep the source's."""
        ...


class Unsupported(ValueError):
    """A record this re-packer cannot move (a token it does not know, an offset outside what
    was copied): the record is left out and counted, never guessed at."""


@dataclass
class SourceRecord:
    chunk: bytes  # the whole 64 KiB source chunk (offsets in the record are relative to it)
    offset: int  # of the record in `chunk`
    size: int
    key: tuple[str, int]  # (file, chunk index): records of one source chunk share definitions


def source_records(files: Iterable[Path]) -> Iterator[list[SourceRecord]]:
    """Every record of every chunk, one list per source chunk (its records refer to names and
    templates an earlier record of the same chunk defined)."""
    for f in files:
        data = f.read_bytes()
        for ci, o in enumerate(range(HEADER, len(data) - CHUNK + 1, CHUNK)):
            chunk = data[o:o + CHUNK]
            if chunk[:8] != b"ElfChnk\x00":
                continue
            free = struct.unpack_from("<I", chunk, 48)[0]
            recs, p = [], CHUNK_HEADER
            while p + 24 <= min(free, CHUNK) and chunk[p:p + 4] == _REC_MAGIC:
                size = struct.unpack_from("<I", chunk, p + 4)[0]
                if size < 28 or p + size > CHUNK:
                    break
                recs.append(SourceRecord(chunk, p, size, (str(f), ci)))
                p += size
            if recs:
                yield recs


@dataclass
class _Emitter:
    """Copies binary XML tokens from a source chunk into `out` (whose byte 0 is at chunk
    offset `base`), rewriting the offsets that point into the chunk."""

    src: bytes
    out: bytearray
    base: int
    omap: dict[int, int]  # source offset of a name / template body -> its offset in the new chunk
    templates: dict[bytes, int]  # shared-template key -> offset of its body in the new chunk
    names: dict[bytes, int] = field(default_factory=dict)  # name -> its first copy in the new chunk
    share: bool = True
    keying: bool = False  # write names as their text (a template's identity, see _key)
    inline_names: list[tuple[int, bytes]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)  # templates "defined" / "shared"
    rewrite: Rewriter | None = None  # substitution values changed on the way (evtx_synth)

    def pos(self) -> int:
        return self.base + len(self.out)

    def _u32(self, p: int) -> int:
        return int(struct.unpack_from("<I", self.src, p)[0])

    def _name(self, off: int) -> bytes:
        """The name at source offset `off` (hash, count, UTF-16 text): what identifies it."""
        n = struct.unpack_from("<H", self.src, off + 6)[0]
        return self.src[off + 4:off + 8 + 2 * n]

    def _ref(self, p: int) -> int:
        """A name offset at source `p`: the name itself follows when it points just past the
        field (first use), else it is an earlier one, found where it was copied to."""
        off = self._u32(p)
        inline = off == p + 4
        end = p + 4 + (8 + 2 * struct.unpack_from("<H", self.src, p + 10)[0] + 2 if inline else 0)
        if self.keying:  # the name's text stands for it, wherever it is defined
            self.out += b"N" + self._name(off)
            if inline:
                self.inline_names.append((off, self._name(off)))
            return end
        if inline:  # copy it (next-string link cleared, hash, count, text, NUL)
            self.out += struct.pack("<I", self.pos() + 4)
            self.omap[off] = self.pos()
            self.names.setdefault(self._name(off), self.pos())
            self.out += b"\0\0\0\0" + self.src[p + 8:end]
            return end
        if off not in self.omap:
            raise Unsupported(f"name offset {off:#x} not among the copied records")
        self.out += struct.pack("<I", self.omap[off])
        return end

    def walk(self, p: int, end: int) -> None:
        src, out = self.src, self.out
        while p < end:
            tok = src[p]
            t = tok & 0xBF  # 0x40: "more follows" / "has attributes"
            if tok == 0x00:  # end of the fragment: what follows up to `end` is the writer's
                out += src[p:end]  # slack (seen: stale bytes), never read; kept as it was
                return
            if t in (0x02, 0x03, 0x04):  # close start tag, close empty element, end element
                out.append(tok)
                p += 1
            elif t == 0x0F:  # fragment header
                out += src[p:p + 4]
                p += 4
            elif t == 0x01:  # open start element: dependency id, data size, name [, attr list size]
                out += src[p:p + 7]
                p = self._ref(p + 7)
                if tok & 0x40:
                    out += src[p:p + 4]
                    p += 4
            elif t in (0x06, 0x09, 0x0A):  # attribute, entity reference, PI target: a name
                out.append(tok)
                p = self._ref(p + 1)
            elif t == 0x05:  # value text
                if src[p + 1] != 0x01:
                    raise Unsupported(f"value token of type {src[p + 1]:#x}")
                n = struct.unpack_from("<H", src, p + 2)[0]
                out += src[p:p + 4 + 2 * n]
                p += 4 + 2 * n
            elif t in (0x07, 0x0B):  # CDATA, PI data: a counted UTF-16 string
                n = struct.unpack_from("<H", src, p + 1)[0]
                out += src[p:p + 3 + 2 * n]
                p += 3 + 2 * n
            elif t == 0x08:  # character reference
                out += src[p:p + 3]
                p += 3
            elif t in (0x0D, 0x0E):  # substitutions
                out += src[p:p + 4]
                p += 4
            elif tok == 0x0C:
                p = self._template_instance(p)
            else:
                raise Unsupported(f"token {tok:#x} at {p:#x}")
        if p != end:
            raise Unsupported(f"tokens overran their span ({p:#x} > {end:#x})")

    def _template_instance(self, p: int) -> int:
        src, out = self.src, self.out
        off = self._u32(p + 6)
        tbody = (off + 24, off + 24 + self._u32(off + 20))  # the definition's body, wherever it is
        out += src[p:p + 6]  # token, unknown byte, template id
        field_at = len(out)
        out += b"\0\0\0\0"
        p += 10
        if off == p:  # the definition follows: next-template link, GUID, size, body
            size = self._u32(p + 20)
            body = (p + 24, p + 24 + size)
            key = self._key(body) if self.share else None
            if key is not None and key[0] in self.templates:
                at = self.templates[key[0]]  # an earlier record of this chunk holds it
                self.stats["shared"] = self.stats.get("shared", 0) + 1
                self.omap[off] = at
                for s, name in key[1]:  # names this copy defined: the chunk has them already
                    self.omap[s] = self.names[name]
            else:
                at = self.pos()
                self.omap[off] = at
                self.stats["defined"] = self.stats.get("defined", 0) + 1
                out += b"\0\0\0\0" + src[p + 4:p + 24]
                start = len(out)
                self.walk(*body)
                if len(out) - start != size:
                    raise Unsupported("template body changed size")
                if key is not None:
                    self.templates[key[0]] = at
            p = body[1]
        elif off in self.omap:  # defined by an earlier record of the same source chunk
            at = self.omap[off]
        else:
            raise Unsupported(f"template offset {off:#x} not among the copied records")
        struct.pack_into("<I", out, field_at, at)
        # instance data: value count, descriptors (size, type, 0), values; binary XML values
        # (type 0x21) hold fragments with offsets of their own, so they are walked too
        n = self._u32(p)
        desc = [struct.unpack_from("<HBB", src, p + 4 + 4 * i) for i in range(n)]
        out += src[p:p + 4]
        desc_at = len(out)
        out += src[p + 4:p + 4 + 4 * n]
        p += 4 + 4 * n
        new: list[bytes | None] = [None] * n
        if self.rewrite is not None:
            q, vals = p, []
            for size, vtype, _ in desc:
                vals.append((vtype, src[q:q + size]))
                q += size
            new = self.rewrite.values(src, tbody, vals)
        for i, (size, vtype, _) in enumerate(desc):
            if vtype == 0x21:
                start = len(out)
                self.walk(p, p + size)
                struct.pack_into("<H", out, desc_at + 4 * i, len(out) - start)
            elif (v := new[i]) is not None:
                if len(v) > 0xFFFF:
                    raise Unsupported("value longer than a descriptor counts")
                out += v
                struct.pack_into("<H", out, desc_at + 4 * i, len(v))
            else:
                out += src[p:p + size]
            p += size
        return p

    def _key(self, body: tuple[int, int]) -> tuple[bytes, list[tuple[int, bytes]]] | None:
        """The definition's GUID and tokens with every name written as its text (so two
        definitions are the same template whether a name is defined in them or earlier in the
        chunk), and the names it defines. None when it cannot be walked."""
        scratch = _Emitter(self.src, bytearray(), 0, {}, {}, share=False, keying=True)
        try:
            scratch.walk(*body)
        except Unsupported:
            return None
        guid = self.src[body[0] - 20:body[0] - 4]
        return guid + bytes(scratch.out), scratch.inline_names


@dataclass
class Packer:
    """Fills chunks with whole source chunks' records, in order, as full as they go."""

    first_id: int = 1
    chunks: list[bytes] = field(default_factory=list)
    originals: list[SourceRecord] = field(default_factory=list)  # in written order
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> source records left out
    _body: bytearray = field(default_factory=bytearray)
    _templates: dict[bytes, int] = field(default_factory=dict)
    _names: dict[bytes, int] = field(default_factory=dict)
    _recs: list[tuple[int, int]] = field(default_factory=list)  # (offset, record id) in the open chunk
    _next_id: int = 0
    templates: dict[str, int] = field(default_factory=dict)  # definitions written / referenced
    rewrite: Rewriter | None = None  # evtx_synth's: values and timestamps changed while copying

    def __post_init__(self) -> None:
        self._next_id = self.first_id

    def add(self, group: list[SourceRecord], max_records: int = 0) -> None:
        """One source chunk's records; a new chunk is started when they do not fit (or when
        the open one holds `max_records` already)."""
        if max_records and self._recs and len(self._recs) + len(group) > max_records:
            self.close()
        for attempt in (0, 1):
            saved = (len(self._body), dict(self._templates), len(self._recs), self._next_id,
                     dict(self.templates), dict(self._names))
            try:
                self._add(group)
                self.originals.extend(group)
                return
            except _Full:
                self._body[saved[0]:] = b""
                self._templates, self._next_id, self.templates = saved[1], saved[3], saved[4]
                self._names = saved[5]
                del self._recs[saved[2]:]
                if attempt == 0 and self._recs:
                    self.close()
                    continue
                self.skipped["larger than a chunk"] = self.skipped.get("larger than a chunk", 0) + len(group)
                return
            except Unsupported as exc:
                self._body[saved[0]:] = b""
                self._templates, self._next_id, self.templates = saved[1], saved[3], saved[4]
                self._names = saved[5]
                del self._recs[saved[2]:]
                reason = str(exc).split(" at ")[0]
                self.skipped[reason] = self.skipped.get(reason, 0) + len(group)
                return

    def _add(self, group: list[SourceRecord]) -> None:
        omap: dict[int, int] = {}
        for r in group:
            at = CHUNK_HEADER + len(self._body)
            rec = bytearray()
            stats: dict[str, int] = {}
            em = _Emitter(r.chunk, rec, at + 24, omap, self._templates, self._names, stats=stats,
                          rewrite=self.rewrite)
            em.walk(r.offset + 24, r.offset + r.size - 4)
            size = 24 + len(rec) + 4
            if at + size > CHUNK:
                raise _Full
            ts = r.chunk[r.offset + 16:r.offset + 24]
            if self.rewrite is not None:
                ts = self.rewrite.timestamp(r) or ts
            self._body += _REC_MAGIC + struct.pack("<IQ", size, self._next_id) + ts + rec \
                + struct.pack("<I", size)
            self._recs.append((at, self._next_id))
            self._next_id += 1
            for k, v in stats.items():
                self.templates[k] = self.templates.get(k, 0) + v

    def close(self) -> None:
        """Write the open chunk: header (record numbers, offsets, both CRC32s), records, zeros.
        The string and template hash tables are left empty: they only speed up a writer's
        lookups, every offset in the records is explicit."""
        if not self._recs:
            return
        head = bytearray(CHUNK_HEADER)
        first, last = self._recs[0][1], self._recs[-1][1]
        free = CHUNK_HEADER + len(self._body)
        struct.pack_into("<8sQQQQIII", head, 0, b"ElfChnk\x00", first, last, first, last, 128,
                         self._recs[-1][0], free)
        struct.pack_into("<I", head, 52, zlib.crc32(bytes(self._body)))
        struct.pack_into("<I", head, 120, 1)  # flags as Windows leaves a closed chunk
        struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120]) + bytes(head[128:])))
        self.chunks.append(bytes(head) + bytes(self._body) + bytes(CHUNK - free))
        self._body = bytearray()
        self._templates = {}
        self._names = {}
        self._recs = []

    @property
    def records(self) -> int:
        return self._next_id - self.first_id


class _Full(Exception):
    pass


def write_file(path: Path, chunks: list[bytes], next_record_id: int) -> None:
    """An .evtx file header (format 3.1, per libevtx's document) and the chunks."""
    if len(chunks) > 0xFFFF:
        raise ValueError(f"{len(chunks)} chunks: an EVTX header counts at most 65,535")
    head = bytearray(HEADER)
    struct.pack_into("<8sQQQIHHHH", head, 0, b"ElfFile\x00", 0, len(chunks) - 1, next_record_id,
                     128, 1, 3, HEADER, len(chunks))
    struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
    with path.open("wb") as fh:
        fh.write(head)
        for c in chunks:
            fh.write(c)


def repack(files: list[Path], out: Path, copies: int = 1, max_records: int = 0) -> Packer:
    """Every record of `files`, `copies` times over, in the order recorded, re-packed into
    chunks as full as they go (or of at most `max_records`) in `out`."""
    groups = list(source_records(files))
    p = Packer()
    for _ in range(copies):
        for g in groups:
            p.add(g, max_records)
    p.close()
    write_file(out, p.chunks, p.first_id + p.records)
    return p


def verify(packer: Packer, path: Path) -> int:
    """Every record read back from `path` equals its original (both read by the same parser,
    number_of_threads=1): the JSON byte for byte, and the timestamp; the new file's chunk CRC32s
    valid. Returns the records checked; raises AssertionError naming the first difference
    (RuntimeError, the parser's, for a bad CRC32)."""
    from evtx import PyEvtxParser

    def rendered(f: str, checksums: bool = False) -> list[tuple[str, str]]:
        return [(str(rec["data"]), str(rec["timestamp"]))  # type: ignore[index]
                for rec in PyEvtxParser(f, number_of_threads=1,
                                        validate_checksums=checksums).records_json()]

    want: dict[tuple[str, int, int], tuple[str, str]] = {}
    for f in sorted({r.key[0] for r in packer.originals}):
        data = Path(f).read_bytes()
        where = [(ci, s.offset) for ci, o in enumerate(range(HEADER, len(data) - CHUNK + 1, CHUNK))
                 if data[o:o + 8] == b"ElfChnk\x00" for s in _records_of(data[o:o + CHUNK])]
        recs = rendered(f)  # in chunk order, records in their chunk's order
        if len(recs) != len(where):
            raise AssertionError(f"{f}: {len(recs)} records parsed, {len(where)} in its chunks")
        want.update(((f, ci, off), rec) for (ci, off), rec in zip(where, recs, strict=True))
    got = rendered(str(path), checksums=True)  # the CRC32s written are checked too
    if len(got) != len(packer.originals):
        raise AssertionError(f"{len(got)} records read back, {len(packer.originals)} written")
    for n, (r, rec) in enumerate(zip(packer.originals, got, strict=True), 1):
        if rec != want[(r.key[0], r.key[1], r.offset)]:
            raise AssertionError(f"record {n} (from {r.key[0]} chunk {r.key[1]} offset "
                                 f"{r.offset:#x}) differs after re-packing")
    return len(got)


def _records_of(chunk: bytes) -> list[SourceRecord]:
    free = struct.unpack_from("<I", chunk, 48)[0]
    recs, p = [], CHUNK_HEADER
    while p + 24 <= min(free, CHUNK) and chunk[p:p + 4] == _REC_MAGIC:
        size = struct.unpack_from("<I", chunk, p + 4)[0]
        recs.append(SourceRecord(chunk, p, size, ("", 0)))
        p += size
    return recs
