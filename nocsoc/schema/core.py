"""The building blocks of the telemetry schema: measurements, their tags and typed fields.

Every point nocsoc writes is made by `Measurement.point()`, which checks tag and field names
and coerces values to the declared type. Coercion matters: InfluxDB rejects a batch when a
field written once as float (`1.5`) arrives later as integer (`2i`), so a rate that happens to
be whole must still be encoded as a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    FLOAT = "float"
    INT = "int"  # line protocol `i`; InfluxDB 1.x OSS has no unsigned type, so counters are INT
    UINT = "uint"  # line protocol `u`; only for sinks that support it (InfluxDB 2.x/3.x)
    BOOL = "bool"
    STRING = "string"


FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class Field:
    """A typed field with its unit (Grafana unit id where one applies, e.g. `bps`, `percent`)."""

    name: str
    type: FieldType
    unit: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag (indexed dimension). Keep cardinality bounded: never a per-flow or per-event value."""

    name: str
    description: str = ""


@dataclass(slots=True)
class Point:
    """One point ready for a sink: measurement, tags, fields (already coerced), time in ns."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    time_ns: int


class SchemaError(ValueError):
    """A point that does not fit its measurement (unknown tag/field, wrong type)."""


def _coerce(measurement: str, f: Field, value: object) -> FieldValue:
    t = f.type
    try:
        if t is FieldType.FLOAT:
            if isinstance(value, bool):
                raise TypeError("bool")
            return float(value)  # type: ignore[arg-type]
        if t is FieldType.INT or t is FieldType.UINT:
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, float):
                if not value.is_integer():
                    raise TypeError("non-integral float")
                return int(value)
            if not isinstance(value, int):
                raise TypeError(type(value).__name__)
            if t is FieldType.UINT and value < 0:
                raise TypeError("negative")
            return value
        if t is FieldType.BOOL:
            if not isinstance(value, bool | int):
                raise TypeError(type(value).__name__)
            return bool(value)
        if not isinstance(value, str):
            raise TypeError(type(value).__name__)
        return value
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"{measurement}.{f.name}: value {value!r} is not a valid {t.value} ({exc})"
        ) from None


@dataclass(frozen=True)
class Measurement:
    """A measurement: its name, tags and fields. The single source of names for writers and readers."""

    name: str
    description: str
    tags: tuple[Tag, ...]
    fields: tuple[Field, ...]
    area: str = ""
    _field_map: dict[str, Field] = field(init=False, repr=False, compare=False)
    _tag_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_field_map", {f.name: f for f in self.fields})
        object.__setattr__(self, "_tag_names", frozenset(t.name for t in self.tags))
        if len(self._field_map) != len(self.fields) or len(self._tag_names) != len(self.tags):
            raise SchemaError(f"{self.name}: duplicate tag or field name")
        if self._tag_names & self._field_map.keys():
            raise SchemaError(f"{self.name}: a name is both tag and field")

    @property
    def tag_names(self) -> frozenset[str]:
        return self._tag_names

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self._field_map)

    def field(self, name: str) -> Field:
        try:
            return self._field_map[name]
        except KeyError:
            raise SchemaError(f"{self.name}: no field {name!r}") from None

    def f(self, name: str) -> str:
        """The field name, checked: dashboards use this so a typo fails at build time."""
        return self.field(name).name

    def t(self, name: str) -> str:
        """The tag name, checked."""
        if name not in self._tag_names:
            raise SchemaError(f"{self.name}: no tag {name!r}")
        return name

    def point(
        self,
        time_ns: int,
        tags: Mapping[str, object],
        fields: Mapping[str, object],
    ) -> Point:
        """Make a checked point. Tags with empty/None values are left out; None fields too."""
        out_tags: dict[str, str] = {}
        for k, v in tags.items():
            if k not in self._tag_names:
                raise SchemaError(f"{self.name}: unknown tag {k!r}")
            if v is None or v == "":
                continue
            out_tags[k] = str(v)
        out_fields: dict[str, FieldValue] = {}
        fmap = self._field_map
        for k, v in fields.items():
            f = fmap.get(k)
            if f is None:
                raise SchemaError(f"{self.name}: unknown field {k!r}")
            if v is None:
                continue
            out_fields[k] = _coerce(self.name, f, v)
        if not out_fields:
            raise SchemaError(f"{self.name}: a point needs at least one field")
        return Point(self.name, out_tags, out_fields, int(time_ns))
