"""An .evtx file's records as JSON texts, chunk by chunk, in C where it reads the chunk exactly
as evtx does, else by evtx itself.

Why: the Rust `evtx` package costs ~4 us a record in full chunks, plus the Python objects it
hands over; `_evtxfast.decode_chunk` writes the same JSON text byte for byte in ~1 us
(tests/collectors/windows/test_evtxfast.py proves the equality on every real record). It
declines (None) any chunk it does not read exactly as evtx: that chunk alone then goes to evtx,
as a one-chunk file (the file's own header, then the chunk), so evtx's answer for it, records
or errors, is what the caller gets. A chunk whose CRC32s do not match goes to evtx unread.

`NOCSOC_EVTX_DECODER=rust` sends every chunk to evtx (the reference path; also what runs where
the C extension is not built).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

try:
    from nocsoc.collectors.windows._evtxfast import decode_chunk as _decode_chunk
except ImportError:  # not built: evtx reads every chunk
    _decode_chunk = None

try:  # zlib-ng's CRC32 folds with PCLMULQDQ/AVX: ~0.06 us a record where zlib's takes ~0.33
    from zlib_ng.zlib_ng import crc32 as _crc32
except ImportError:  # the same function, slower
    from zlib import crc32 as _crc32

HEADER, CHUNK, CHUNK_HEADER = 4096, 65536, 512
_ZERO = bytes(CHUNK)  # a preallocated chunk never written to: evtx skips it (no record, no error)


def _evtx_verified() -> bool:
    """The C decoder writes the text evtx 0.14 writes (checked record by record by
    tests/collectors/windows/test_evtxfast.py): with another evtx, whose text may differ, every
    chunk goes to evtx, so a file's records never mix two renderings."""
    try:
        return version("evtx").startswith("0.14.")
    except PackageNotFoundError:
        return False


_VERIFIED = _decode_chunk is not None and _evtx_verified()


def c_decoder_on() -> bool:
    """Whether record_texts decodes chunks in C (built, the evtx it was checked against, and
    not switched off)."""
    return _VERIFIED and os.environ.get("NOCSOC_EVTX_DECODER", "c") != "rust"


def crcs_ok(chunk: bytes) -> bool:
    """Both CRC32s of a chunk as its header states them: the header's (bytes 0-120 and
    128-512) and the records' (512 to the free-space offset). Read through a memoryview: a
    slice of the bytes would copy the chunk first."""
    free = int.from_bytes(chunk[48:52], "little")
    if not CHUNK_HEADER <= free <= CHUNK:
        return False
    mv = memoryview(chunk)
    head = _crc32(mv[128:CHUNK_HEADER], _crc32(mv[:120]))
    return head == int.from_bytes(chunk[124:128], "little") \
        and _crc32(mv[CHUNK_HEADER:free]) == int.from_bytes(chunk[52:56], "little")


def evtx_texts(it: Iterator[dict[str, Any]], index: int | None = None) -> Iterator[str | RuntimeError]:
    """evtx's records_json() iterator as record texts, or the error it raised for a chunk or a
    record (yielded, never raised: its iterator goes on after one). `index`: the iterator reads
    a one-chunk file made of that chunk of the real file, which its errors then name."""
    while True:
        try:
            rec = next(it)
        except StopIteration:
            return
        except RuntimeError as exc:
            if index is not None:
                exc = RuntimeError(str(exc).replace("chunk number 0", f"chunk number {index}", 1))
            yield exc
            continue
        data = rec["data"]
        yield data if type(data) is str else str(data)


def by_evtx(parser: Any, head: bytes, chunk: bytes, index: int) -> Iterator[str | RuntimeError]:
    """One chunk read by evtx (`parser`: evtx.PyEvtxParser), as a file of that chunk alone."""
    return evtx_texts(parser(io.BytesIO(head + chunk), number_of_threads=1).records_json(), index)


def chunk_results(path: Path, parser: Any, decode: Callable[[bytes], Any] | None
                  ) -> Iterator[Any]:
    """Per 64 KiB chunk of the file at `path`, in file order: `decode(chunk)` where it reads
    the chunk (not None; CRC32s checked first), else an iterator of evtx's texts and errors for
    that chunk (by_evtx). A file that cannot be opened gives one iterator holding the error.
    Like evtx, it reads whole chunks up to the end of the file (a partial last chunk is not
    read: evtx.read_evtx's size check reports it)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed below; a failure to open is yielded)
    except OSError as exc:
        yield iter([RuntimeError(f"cannot read: {exc}")])
        return
    with fh:
        head = fh.read(HEADER)
        index = 0
        while len(chunk := fh.read(CHUNK)) == CHUNK:
            if chunk != _ZERO:
                got = decode(chunk) if decode is not None and crcs_ok(chunk) else None
                yield got if got is not None else by_evtx(parser, head, chunk, index)
            index += 1


def record_texts(path: Path, parser: Any) -> Iterator[str | RuntimeError]:
    """Every record's JSON text of the file at `path`, in file order, or the error evtx raised
    for a chunk or record (see chunk_results)."""
    for got in chunk_results(path, parser, _decode_chunk):
        yield from got
