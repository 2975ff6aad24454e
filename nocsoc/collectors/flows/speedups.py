"""The optional C extension (`_flowfast.c`) in one place.

`speedups.ext` is the compiled module, or None where it was not built (setup.py builds it as
optional). Every user reads `speedups.ext` when it runs, never at import, so setting it to None
switches the whole collector to its pure-Python/numpy path: the tests run both paths that way and
compare them, so the fallback cannot rot. What is in C and why: the header of _flowfast.c.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np

try:
    from nocsoc.collectors.flows import _flowfast as _built
except ImportError:  # pragma: no cover - depends on the build
    _built = None  # type: ignore[assignment]

ext: ModuleType | None = _built
if _built is not None:
    # a receiver burst behaves as a sequence of (payload, exporter, time) tuples (see _flowfast.c)
    Sequence.register(_built.Datagrams)

BIG_ENDIAN, RAW, WIDE, TO_U32 = 0, 1, 2, 3  # field kinds of _flowfast.columns
# columns that make_batch casts to uint32 anyway: C widens them while copying (same values)
U32_COLUMNS = frozenset(("sport", "dport", "proto", "in_if", "out_if"))

Spec = list[tuple[str, int, int, int, np.dtype]]
_specs: dict[tuple[np.dtype, frozenset[str]], Spec] = {}


def _spec(dtype: np.dtype, raw: frozenset[str]) -> Spec:
    """(name, offset, length, kind, column dtype) of each field of a big-endian record dtype:
    the values `np.frombuffer(buf, dtype)[name]` would give, in native order."""
    spec = _specs.get((dtype, raw))
    if spec is None:
        spec = []
        for name in dtype.names or ():
            ftype, offset = dtype.fields[name][:2]  # type: ignore[index]
            if ftype.kind == "u" and name in U32_COLUMNS and ftype.itemsize <= 4:
                spec.append((name, offset, ftype.itemsize, TO_U32, np.dtype(np.uint32)))
            elif ftype.kind == "u":
                spec.append((name, offset, ftype.itemsize, BIG_ENDIAN, ftype.newbyteorder("=")))
            elif name in raw:
                spec.append((name, offset, ftype.itemsize, RAW, ftype))
            else:
                spec.append((name, offset, ftype.itemsize, WIDE, np.dtype(np.uint64)))
        _specs[(dtype, raw)] = spec
    return spec


def record_columns(buf: bytes | np.ndarray, dtype: np.dtype, raw: frozenset[str] = frozenset(),
                   offsets: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Records of `dtype` (back to back in `buf`, or at the int64 byte `offsets`) as native-order
    columns: unsigned big-endian integers by value, voids copied as they are when named in `raw`,
    else read as big-endian integers into uint64. Needs `ext`."""
    assert ext is not None
    spec = _spec(dtype, raw)
    fields = [(off, length, kind) for _, off, length, kind, _ in spec]
    cols = ext.columns(buf, dtype.itemsize, fields, offsets)
    return {name: np.frombuffer(col, dtype=out) for (name, _, _, _, out), col in zip(spec, cols, strict=True)}
