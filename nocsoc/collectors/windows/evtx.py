"""Read .evtx files (files, directories, globs) into LogEvents, with a report per file.

Why the `evtx` package: a Rust parser (omerbenamram/evtx) that renders each record as JSON
~100x faster than python-evtx. A corrupt chunk makes its iterator raise once and carry on with
the next chunk: each such error is counted in the file's report and the rest is read.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from nocsoc.collectors.windows.event import windows_event
from nocsoc.collectors.windows.evtxchunks import _decode_chunk, c_decoder_on, chunk_results, evtx_texts
from nocsoc.collectors.windows.evtxevents import events_decoder, learn
from nocsoc.collectors.windows.fields import NotAnEvent, flatten_record, record_fields
from nocsoc.collectors.windows.report import MAX_EVENT_BYTES, InputReport
from nocsoc.events import LogEvent


def expand_inputs(args: Iterable[Path | str], suffixes: tuple[str, ...] = (".evtx",)) -> list[Path]:
    """Files as given; directories to their files with `suffixes` (recursively, sorted); a path
    that does not exist but has glob characters to its matches (a quoted `logs/*.evtx`)."""
    out: list[Path] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() in suffixes and q.is_file()))
        elif not p.exists() and any(c in str(a) for c in "*?["):
            out.extend(Path(m) for m in sorted(glob.glob(str(a), recursive=True)) if Path(m).is_file())
        else:
            out.append(p)
    return out


def parse_record(data: str, report: InputReport, source: str) -> LogEvent | None:
    """One record's JSON (evtx_dump form) -> event; None (counted in `report`) when bad."""
    if len(data) > MAX_EVENT_BYTES:
        report.oversized += 1
        report.note(f"record of {len(data)} bytes skipped (limit {MAX_EVENT_BYTES})")
        return None
    fields = record_fields(data)
    if fields is None:  # not built, or a record it leaves to the reference
        try:
            fields = flatten_record(orjson.loads(data))
        except (orjson.JSONDecodeError, NotAnEvent) as exc:
            report.not_events += 1
            report.note(f"not an event record: {exc}")
            return None
    ev, _ = windows_event(fields, data, parser="evtx", source=source, report=report)
    report.events += 1
    return ev


_HEADER, _CHUNK = 4096, 65536
_MAX_ERRORS_IN_A_ROW = 10_000


def _check_size(path: Path, report: InputReport) -> None:
    """The parser stops quietly at a partial last chunk and at a file shorter than its header's
    chunk count says: count both, so a cut copy is never a silent short read. (A larger file is
    normal: Windows preallocates, and a dirty header undercounts.)"""
    try:  # os-level calls: this runs once per file, and hunting directories hold thousands
        fd = os.open(path, os.O_RDONLY)
        try:
            head = os.pread(fd, _HEADER, 0)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
    except OSError as exc:
        report.bad_chunks += 1
        report.note(f"cannot read: {exc}")
        return
    if len(head) < 44:
        return
    declared = int.from_bytes(head[42:44], "little")
    whole, partial = divmod(max(size - _HEADER, 0), _CHUNK)
    if partial:
        report.bad_chunks += 1
        report.note(f"truncated: last chunk has {partial} of {_CHUNK} bytes")
    if whole + (1 if partial else 0) < declared:
        missing = declared - whole - (1 if partial else 0)
        report.bad_chunks += missing
        report.note(f"truncated: {missing} of the {declared} chunks the header declares are missing")


def read_evtx(path: Path, report: InputReport, threads: int = 0) -> Iterator[LogEvent]:
    """Every readable record of one .evtx file. Bad chunks and records are counted in `report`
    (with the first few messages), never raised."""
    from evtx import PyEvtxParser

    try:
        it: Iterator[dict[str, Any]] = PyEvtxParser(  # type: ignore[assignment]
            str(path), number_of_threads=threads).records_json()
    except (OSError, RuntimeError) as exc:
        report.bad_chunks += 1
        report.note(f"not an EVTX file: {exc}")
        return
    _check_size(path, report)
    source = f"evtx:{path.name}"
    # per chunk: C's finished events (with the texts it leaves to Python), else texts and errors
    results: Iterator[Any] = chunk_results(path, PyEvtxParser, events_decoder(source) or _decode_chunk) \
        if c_decoder_on() else iter((evtx_texts(it),))
    errors_in_a_row = 0
    for got in results:
        if type(got) is tuple:  # decode_events: (events and texts, number of texts)
            items, slow = got
            if items:
                errors_in_a_row = 0
            if not slow:
                report.events += len(items)
                yield from items
                continue
            got = items
        for data in got:
            if type(data) is not str:
                if isinstance(data, LogEvent):
                    report.events += 1
                    yield data
                    continue
                # an error for one chunk (or record): evtx goes on with the next
                report.bad_chunks += 1
                report.note(str(data).splitlines()[0][:300])
                errors_in_a_row += 1
                if errors_in_a_row > _MAX_ERRORS_IN_A_ROW:  # never spin on a parser that cannot advance
                    report.note(f"gave up after {errors_in_a_row} errors in a row")
                    return
                continue
            errors_in_a_row = 0
            # the common case without parse_record's frame (this runs once per record where
            # decode_events is not built): in C, the fields; parse_record for the rest (too
            # long, declined, not built), which counts them
            if len(data) <= MAX_EVENT_BYTES \
                    and (fields := record_fields(data)) is not None:
                ev, _ = windows_event(fields, data, parser="evtx", source=source, report=report)
                learn(fields)
                report.events += 1
                yield ev
                continue
            other = parse_record(data, report, source)
            if other is not None:
                yield other
