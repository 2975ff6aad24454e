"""NetFlow v9 / IPFIX templates: parsing, compiled decoders, the cache, and the early-data buffer.

A fixed-length template compiles to a numpy structured dtype, so a data set (or many joined data
sets of one template) decodes with one `np.frombuffer`; variable-length templates (IPFIX only)
take a per-record Python path. Templates are keyed by (exporter, source id / observation domain,
template id) and persisted as JSON so a restart does not lose the records that arrive before the
exporter's next template refresh (softflowd sends it every 16 datagrams, routers every few minutes).
"""

from __future__ import annotations

import json
import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nocsoc.collectors.flows import speedups
from nocsoc.collectors.flows.fields import (
    ADDRESS_LENGTH,
    ENTERPRISE_FIELDS,
    FLOW_FIELDS,
    RAW_FIELDS,
    REPEATABLE,
    SECTION_FIELDS,
)
from nocsoc.fileio import atomic_write

VARLEN = 0xFFFF
MAX_FIELDS = 512            # a template with more is garbage (the largest real ones have ~100)
MAX_TEMPLATES_PER_EXPORTER = 4096

# Scope fields of options data records are decoded under key spaces of their own (see
# `Template.decode_options`). A v9 scope field type is not an information element (RFC 3954 6.1:
# 1 System, 2 Interface, 3 Line Card, 4 Cache, 5 Template): read as one, scope Interface was IE 2
# (packets) and scope System IE 1 (bytes). IPFIX scope fields are information elements; the key
# space says that they were scope (ingressInterface as scope makes a rate that interface's).
V9_SCOPE = 1 << 16     # v9 scope field type t -> V9_SCOPE | t
IPFIX_SCOPE = 1 << 17  # IPFIX scope element t -> IPFIX_SCOPE | t (and t, as before)
V9_SCOPE_TYPES = range(1, 6)

_HH = struct.Struct("!HH")
_HHH = struct.Struct("!HHH")
_I = struct.Struct("!I")


class TemplateError(ValueError):
    """A template or data set that cannot be decoded (names what is wrong)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    type: int
    length: int
    enterprise: int = 0


TemplateKey = tuple[str, int, int]  # (exporter, source id / observation domain, template id)


@dataclass
class Template:
    """One template; `compile()` prepares its decoder."""

    version: int  # 9 | 10
    template_id: int
    fields: tuple[FieldSpec, ...]
    scope_count: int = 0  # > 0 for options templates: the first `scope_count` fields are scope
    options: bool = False
    record_length: int | None = field(default=None, init=False)  # None: variable length
    min_length: int = field(default=0, init=False)
    dtype: np.dtype | None = field(default=None, init=False, repr=False)
    _wanted: dict[str, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)
    _wanted_index: dict[int, str] = field(default_factory=dict, init=False, repr=False)
    lenient: tuple[str, ...] = field(default=(), init=False, compare=False)
    # the address pairs a record may carry, in template order: "4", "6", "i4", "i6" (see
    # derive._pairs: the last non-zero pair is the flow, an earlier one its tunnel)
    pair_order: tuple[str, ...] = field(default=(), init=False, compare=False)
    # options data bodies already decoded: exporters repeat the same few (sampling announcements)
    _options_seen: dict[bytes, list[dict[int, int]]] = field(default_factory=dict, init=False, repr=False,
                                                               compare=False)

    def __post_init__(self) -> None:
        if not self.fields:
            raise TemplateError(f"template {self.template_id} has no fields")
        if len(self.fields) > MAX_FIELDS:
            raise TemplateError(f"template {self.template_id} has {len(self.fields)} fields (> {MAX_FIELDS})")
        # Lenient where real exporters deviate and the records still decode (what Logstash,
        # nfacctd and goflow2 accept): a field of length 0 (Juniper SRX scopes, some v9 exporters)
        # occupies nothing and is skipped; variable length (65535) in NetFlow v9 (H3C NetStream)
        # is read with IPFIX's length prefix. `lenient` says what was tolerated (counted).
        self.lenient = tuple(
            [f"field {f.type} has length 0" for f in self.fields if f.length == 0]
            + (["variable length in NetFlow v9"] if self.version != 10
               and any(f.length == VARLEN for f in self.fields) else []))
        self.min_length = sum(1 if f.length == VARLEN else f.length for f in self.fields)
        if self.min_length == 0:
            raise TemplateError(f"template {self.template_id}: every field has length 0")
        if any(f.length == VARLEN for f in self.fields):
            self.record_length = None
        else:
            self.record_length = self.min_length
        # offset and length of the first occurrence of each element we read; a flow key element
        # seen again (a tunnel template: outer header, then inner) as "i" + name, its last one
        offset = 0
        for index, f in enumerate(self.fields):
            if f.length == 0:
                continue
            if f.length == VARLEN:
                offset = -1  # unknown from here on: the slow path finds them
            name = field_name(f)
            if name and name in self._wanted:
                name = "i" + name if name in REPEATABLE else None
            if name:
                want_len = ADDRESS_LENGTH.get(name)
                if name in SECTION_FIELDS:
                    ok = True
                elif want_len:
                    ok = f.length == want_len
                else:
                    ok = f.length <= 8
                if ok:
                    pair = _pair_of(name)
                    if pair and pair[0] not in self.pair_order:
                        self.pair_order += pair
                    self._wanted[name] = (offset, f.length)
                    self._wanted_index[index] = name
            if offset >= 0:
                offset += f.length
        if self.record_length is not None:
            names, formats, offsets = [], [], []
            for name, (off, length) in self._wanted.items():
                names.append(name)
                offsets.append(off)
                if name in RAW_FIELDS:
                    formats.append(f"V{length}")
                elif name in ADDRESS_LENGTH:
                    formats.append(">u4")
                elif length in (1, 2, 4, 8):
                    formats.append(f">u{length}")
                else:
                    formats.append(f"V{length}")  # 3-, 5-, 6-, 7-byte reduced-size integers
            self.dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                   "itemsize": self.record_length})

    @property
    def ip_version(self) -> int:
        return 6 if ("src6" in self._wanted or "dst6" in self._wanted) else 4

    def to_json(self) -> dict[str, object]:
        return {"version": self.version, "template_id": self.template_id, "options": self.options,
                "scope_count": self.scope_count,
                "fields": [[f.type, f.length, f.enterprise] for f in self.fields]}

    @classmethod
    def from_json(cls, d: dict) -> Template:
        return cls(int(d["version"]), int(d["template_id"]),
                   tuple(FieldSpec(int(a), int(b), int(c)) for a, b, c in d["fields"]),
                   int(d.get("scope_count", 0)), bool(d.get("options", False)))

    def same_as(self, other: Template) -> bool:
        return (self.fields == other.fields and self.scope_count == other.scope_count
                and self.options == other.options)

    # --- data decoding -------------------------------------------------------------------------

    def count(self, body: bytes) -> int | None:
        """Records in a data set body (fixed-length templates only; padding ignored)."""
        if self.record_length is None:
            return None
        return len(body) // self.record_length

    def decode_columns(self, buf: bytes | np.ndarray) -> dict[str, np.ndarray]:
        """Decode records (bytes, or a uint8 array of them) into columns by column name."""
        if self.record_length is not None:
            assert self.dtype is not None
            if speedups.ext is not None:  # one pass a field, no structured-dtype copies
                return speedups.record_columns(buf, self.dtype, _RAW_COLUMNS)
            n = len(buf) // self.record_length
            arr = np.frombuffer(buf, dtype=self.dtype, count=n)
            cols: dict[str, np.ndarray] = {}
            for name in self.dtype.names or ():
                a = arr[name]
                if a.dtype.kind != "V":
                    cols[name] = a.astype(a.dtype.newbyteorder("="))  # native order, one copy
                elif name in RAW_FIELDS:
                    cols[name] = np.ascontiguousarray(a)
                else:
                    cols[name] = _void_to_uint(a)
            return cols
        return self._decode_variable(buf if isinstance(buf, bytes) else buf.tobytes())

    def columns_at(self, buf: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
        """decode_columns of the fixed-length records at byte `offsets` of `buf`, gathered in the
        same pass (C only: the bulk path that calls it is C only)."""
        assert self.dtype is not None
        return speedups.record_columns(buf, self.dtype, _RAW_COLUMNS, offsets)

    def _decode_variable(self, buf: bytes) -> dict[str, np.ndarray]:
        """Per-record path for templates with variable-length fields (RFC 7011 section 7)."""
        wanted_by_index = self._wanted_index  # only fixed-length occurrences (checked lengths)
        seen = set(wanted_by_index.values())
        lists: dict[str, list] = {n: [] for n in seen}
        pos, end = 0, len(buf)
        specs = self.fields
        count = 0
        while end - pos >= self.min_length:
            row: dict[str, object] = {}
            p = pos
            for i, f in enumerate(specs):
                length = f.length
                if length == VARLEN:
                    length, p = _varlen(buf, p, end, "variable-length field runs past the data set")
                if p + length > end:
                    raise TemplateError(f"field {f.type} (length {length}) runs past the data set")
                name = wanted_by_index.get(i)
                if name is not None:
                    raw = buf[p:p + length]
                    row[name] = raw if name in RAW_FIELDS else int.from_bytes(raw, "big")
                p += length
            if p == pos:
                raise TemplateError("record of length 0")
            for n in seen:
                lists[n].append(row.get(n, _EMPTY.get(n, 0)))
            pos = p
            count += 1
        cols: dict[str, np.ndarray] = {}
        for n, values in lists.items():
            if n in SECTION_FIELDS:
                cols[n] = np.array([*values, None], dtype=object)[:-1]  # (None: never one 2-D array)
            elif n in RAW_FIELDS:
                cols[n] = np.frombuffer(b"".join(values), dtype="V16") if values else np.zeros(0, "V16")
            else:
                cols[n] = np.array(values, dtype=np.uint64)
        if not lists:  # no element we read, but the records still count
            cols["_count"] = np.zeros(count, dtype=np.uint8)
        return cols

    def decode_options_cached(self, buf: bytes) -> list[dict[int, int]]:
        """decode_options, remembering the last few hundred bodies (the records are shared: read
        them, never change them). WHY: softflowd repeats its options data every 16 datagrams, and
        decoding it again cost more than all the flow records between (~8 ns a record)."""
        got = self._options_seen.get(buf)
        if got is None:
            got = self.decode_options(buf)  # raises on bad input: nothing cached then
            if len(self._options_seen) >= 256:
                self._options_seen.clear()
            self._options_seen[bytes(buf)] = got
        return got

    def _option_keys(self) -> list[tuple[int, ...]]:
        """The keys each field's value goes under in a decoded options record (none: skipped).
        Option fields: their element id. Scope fields: V9_SCOPE | type (v9), or IPFIX_SCOPE | id
        and the id (IPFIX: a samplerId or selectorId scope names a sampler as an option field
        does). A v9 scope type outside RFC 3954's five is an exporter using element ids as scope
        types: it goes under its id as well."""
        keys: list[tuple[int, ...]] = []
        for i, f in enumerate(self.fields):
            if f.enterprise:
                keys.append(())
            elif i >= self.scope_count:
                keys.append((f.type,))
            elif self.version == 9:
                keys.append((V9_SCOPE | f.type,) if f.type in V9_SCOPE_TYPES else (V9_SCOPE | f.type, f.type))
            else:
                keys.append((IPFIX_SCOPE | f.type, f.type))
        return keys

    def decode_options(self, buf: bytes) -> list[dict[int, int]]:
        """Options data records as {key: integer value} (non-enterprise, <= 8 bytes; the first
        field of a key wins): option fields by element id, scope fields by `_option_keys`."""
        out: list[dict[int, int]] = []
        pos, end = 0, len(buf)
        keys = self._option_keys()
        while end - pos >= self.min_length:
            rec: dict[int, int] = {}
            p = pos
            for f, fkeys in zip(self.fields, keys, strict=True):
                length = f.length
                if length == VARLEN:
                    length, p = _varlen(buf, p, end, "options record runs past the data set")
                if p + length > end:
                    raise TemplateError("options record runs past the data set")
                if length <= 8:
                    for key in fkeys:
                        if key not in rec:
                            rec[key] = int.from_bytes(buf[p:p + length], "big")
                p += length
            if p == pos:
                raise TemplateError("options record of length 0")
            out.append(rec)
            pos = p
        return out


def _varlen(buf: bytes, p: int, end: int, overrun: str) -> tuple[int, int]:
    """(length, start) of the variable-length field whose prefix is at `p` (RFC 7011 section 7:
    one length byte, or 255 and a two-byte length); TemplateError(`overrun`) when the prefix
    runs past `end`."""
    if p >= end:
        raise TemplateError(overrun)
    length = buf[p]
    if length < 255:
        return length, p + 1
    if p + 3 > end:
        raise TemplateError(overrun)
    return (buf[p + 1] << 8) | buf[p + 2], p + 3


_RAW_COLUMNS = RAW_FIELDS  # void fields kept as bytes (the rest are integers)
_EMPTY: dict[str, object] = {n: bytes(16) for n in RAW_FIELDS - SECTION_FIELDS}
_EMPTY.update(dict.fromkeys(SECTION_FIELDS, b""))


def field_name(f: FieldSpec) -> str | None:
    """The column an element is read into, or None (skipped by its length)."""
    if f.enterprise:
        return ENTERPRISE_FIELDS.get((f.enterprise, f.type))
    return FLOW_FIELDS.get(f.type)


def _pair_of(name: str) -> tuple[str, ...]:
    """The address pair a column opens ("4", "6", "i4", "i6"), () for other columns."""
    return {"src": ("4",), "dst": ("4",), "src6": ("6",), "dst6": ("6",), "isrc": ("i4",),
            "idst": ("i4",), "isrc6": ("i6",), "idst6": ("i6",)}.get(name, ())


def _void_to_uint(a: np.ndarray) -> np.ndarray:
    """Big-endian integers of 3, 5, 6 or 7 bytes (IPFIX reduced-size encoding) -> uint64."""
    n = a.dtype.itemsize
    u = np.frombuffer(a.tobytes(), dtype=np.uint8).reshape(-1, n).astype(np.uint64)
    weights = (np.uint64(256) ** np.arange(n - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)
    return (u * weights).sum(axis=1, dtype=np.uint64)


# --- template set parsing ------------------------------------------------------------------------
# A set's templates are parsed one by one: a bad one (TemplateError in the list, naming it) never
# takes the next one or the datagram with it; only where the set itself cannot be walked further
# (a field count that overruns it) does the rest of that set go, with the error saying so.

# A withdrawal: (template id, None). Template id 2 or 3 withdraws all (options) templates.
Withdrawal = tuple[int, None]
Parsed = Template | Withdrawal | TemplateError


def _make(version: int, tid: int, specs: tuple[FieldSpec, ...], scope: int = 0,
          options: bool = False) -> Template | TemplateError:
    try:
        return Template(version, tid, specs, scope_count=scope, options=options)
    except TemplateError as exc:
        exc.template_id = tid  # type: ignore[attr-defined]
        return exc


def parse_v9_templates(body: bytes) -> list[Parsed]:
    """Flowset id 0: (template id, field count, (type, length) * count) repeated, then padding."""
    out: list[Parsed] = []
    pos, end = 0, len(body)
    while end - pos >= 4:
        tid, count = _HH.unpack_from(body, pos)
        pos += 4
        if tid == 0 and count == 0:
            break  # padding
        if count == 0 or pos + 4 * count > end:
            out.append(TemplateError(f"template {tid}: {count} fields do not fit the flowset"))
            break
        specs = tuple(FieldSpec(*_HH.unpack_from(body, pos + 4 * i)) for i in range(count))
        pos += 4 * count
        out.append(TemplateError(f"template id {tid} < 256") if tid < 256 else _make(9, tid, specs))
    return out


def parse_v9_options_templates(body: bytes) -> list[Parsed]:
    """Flowset id 1: template id, scope length, option length (bytes), scope fields, option fields."""
    out: list[Parsed] = []
    pos, end = 0, len(body)
    while end - pos >= 6:
        tid, scope_len, opt_len = _HHH.unpack_from(body, pos)
        pos += 6
        if tid == 0:
            break  # padding
        if scope_len % 4 or opt_len % 4 or scope_len + opt_len == 0 or pos + scope_len + opt_len > end:
            out.append(TemplateError(f"options template {tid}: scope/option lengths {scope_len}/{opt_len} "
                                     "are wrong"))
            break
        n = (scope_len + opt_len) // 4
        specs = tuple(FieldSpec(*_HH.unpack_from(body, pos + 4 * i)) for i in range(n))
        pos += scope_len + opt_len
        out.append(TemplateError(f"options template id {tid} < 256") if tid < 256
                   else _make(9, tid, specs, scope_len // 4, True))
    return out


def _ipfix_fields(body: bytes, pos: int, count: int, tid: int) -> tuple[tuple[FieldSpec, ...], int]:
    specs = []
    end = len(body)
    for _ in range(count):
        if pos + 4 > end:
            raise TemplateError(f"template {tid}: field specifiers run past the set")
        ftype, flen = _HH.unpack_from(body, pos)
        pos += 4
        ent = 0
        if ftype & 0x8000:
            if pos + 4 > end:
                raise TemplateError(f"template {tid}: enterprise number runs past the set")
            ent = _I.unpack_from(body, pos)[0]
            pos += 4
            ftype &= 0x7FFF
        specs.append(FieldSpec(ftype, flen, ent))
    return tuple(specs), pos


def parse_ipfix_templates(body: bytes, options: bool) -> list[Parsed]:
    """Set id 2 (template) or 3 (options template); field count 0 is a withdrawal (RFC 7011 8.1)."""
    out: list[Parsed] = []
    pos, end = 0, len(body)
    while end - pos >= 4:
        tid, count = _HH.unpack_from(body, pos)
        pos += 4
        if count == 0:
            if tid not in (2, 3) and tid < 256:
                out.append(TemplateError(f"withdrawal of template id {tid} < 256"))
            else:
                out.append((tid, None))
            continue
        scope = 0
        if options:
            if pos + 2 > end:
                out.append(TemplateError(f"options template {tid}: no scope field count"))
                break
            scope = struct.unpack_from("!H", body, pos)[0]
            pos += 2
        if count > MAX_FIELDS:
            out.append(TemplateError(f"template {tid} has {count} fields (> {MAX_FIELDS})"))
            break
        try:
            specs, pos = _ipfix_fields(body, pos, count, tid)
        except TemplateError as exc:
            out.append(exc)
            break
        if tid < 256:
            out.append(TemplateError(f"template id {tid} < 256"))
        elif options and (scope == 0 or scope > count):
            out.append(TemplateError(f"options template {tid}: scope field count {scope} of {count}"))
        else:
            out.append(_make(10, tid, specs, scope, options))
    return out


# --- the cache -----------------------------------------------------------------------------------

class TemplateCache:
    """Templates by (exporter, domain, template id), persisted as one JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._templates: dict[TemplateKey, Template] = {}
        self.lookup = self._templates.get  # the hot path's bound lookup (same dict, never replaced)
        self._per_exporter: dict[str, int] = {}
        self.dirty = False

    def __len__(self) -> int:
        return len(self._templates)

    def get(self, key: TemplateKey) -> Template | None:
        return self._templates.get(key)

    def put(self, key: TemplateKey, template: Template) -> bool:
        """Store; True when it is new or changed (an unchanged refresh is a no-op)."""
        old = self._templates.get(key)
        if old is not None and old.same_as(template) and old.version == template.version:
            return False
        if old is None:
            n = self._per_exporter.get(key[0], 0)
            if n >= MAX_TEMPLATES_PER_EXPORTER:
                raise TemplateError(f"exporter {key[0]} has {n} templates: refusing more")
            self._per_exporter[key[0]] = n + 1
        self._templates[key] = template
        self.dirty = True
        return True

    def withdraw(self, exporter: str, domain: int, template_id: int) -> int:
        """Remove one template, or all (2) / all options (3) templates of a domain."""
        if template_id in (2, 3):
            want_options = template_id == 3
            keys = [k for k, t in self._templates.items()
                    if k[0] == exporter and k[1] == domain and t.options == want_options]
        else:
            one = (exporter, domain, template_id)
            keys = [one] if one in self._templates else []
        for k in keys:
            del self._templates[k]
            self._per_exporter[exporter] -= 1
        if keys:
            self.dirty = True
        return len(keys)

    def save(self) -> None:
        """Write atomically: a crash leaves the old file or the new one."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = [{"exporter": k[0], "domain": k[1], **t.to_json()} for k, t in self._templates.items()]
        atomic_write(self.path, json.dumps({"version": 1, "templates": data}))
        self.dirty = False

    def load(self) -> int:
        """Read the persisted templates; a broken file is reported, not fatal (ValueError names it)."""
        if self.path is None or not self.path.exists():
            return 0
        try:
            raw = json.loads(self.path.read_text())
            loaded = 0
            for d in raw["templates"]:
                t = Template.from_json(d)
                self.put((str(d["exporter"]), int(d["domain"]), t.template_id), t)
                loaded += 1
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{self.path}: cannot read persisted templates ({exc})") from exc
        self.dirty = False
        return loaded


@dataclass
class Held:
    key: TemplateKey
    version: int
    body: bytes
    time: float


class EarlyData:
    """Data sets that came before their template, bounded by count and bytes (oldest dropped)."""

    def __init__(self, max_sets: int = 2048, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_sets = max_sets
        self.max_bytes = max_bytes
        self._held: OrderedDict[int, Held] = OrderedDict()
        self._seq = 0
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, held: Held) -> list[Held]:
        """Keep one data set; returns what had to be evicted to make room (to be counted)."""
        self._held[self._seq] = held
        self._seq += 1
        self.bytes += len(held.body)
        evicted = []
        while len(self._held) > self.max_sets or self.bytes > self.max_bytes:
            _, old = self._held.popitem(last=False)
            self.bytes -= len(old.body)
            evicted.append(old)
        return evicted

    def release(self, key: TemplateKey) -> list[Held]:
        """The held data sets for `key`, in arrival order, removed from the buffer."""
        ids = [i for i, h in self._held.items() if h.key == key]
        out = []
        for i in ids:
            h = self._held.pop(i)
            self.bytes -= len(h.body)
            out.append(h)
        return out

    def expire(self, before: float) -> list[Held]:
        """Drop data sets held since before `before` (their template is not coming)."""
        out = []
        while self._held:
            i, h = next(iter(self._held.items()))
            if h.time >= before:
                break
            del self._held[i]
            self.bytes -= len(h.body)
            out.append(h)
        return out
