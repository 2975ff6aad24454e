"""Type stub for the C accelerator nocsoc/_lineproto.c (see its header and nocsoc/lineproto.py)."""

from collections.abc import Callable
from typing import Any

from nocsoc.schema import Point

MAX_FIELDS: int

class Plan:
    """The fields of one shape in sorted order: kinds ('f', 'i', 'u', 'b'), each one's index in
    the point's field order, and its escaped `key=` (ASCII bytes)."""

    def __init__(self, kinds: str, order: tuple[int, ...], keys: tuple[bytes, ...]) -> None: ...

class SeriesCache:
    """Series key -> hit (as lineproto._series), looked up by encode_many from a point's strings;
    cleared when it holds maxsize entries."""

    def __init__(self, maxsize: int) -> None: ...
    def __len__(self) -> int: ...
    def clear(self) -> None: ...

def encode_many(
    points: list[Point],
    div: int,
    series: dict[tuple[object, ...], Any],
    new_series: Callable[[Point, tuple[object, ...], int, None], object],
    dumps: Callable[[list[float]], bytes] | None,
    cache: SeriesCache | None = None,
    /,
) -> list[str] | None: ...
