"""A small InfluxQL SELECT builder that only accepts names the schema declares.

Dashboards never spell a measurement, tag or field: they pass schema `Measurement` objects and
names checked by `.f()` / `.t()`, so renaming a field in the schema breaks the build, not a
panel in production. Identifiers are always double-quoted; `validate.py` relies on that to
re-check the rendered text independently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nocsoc.schema import Measurement

TIME_FILTER = "$timeFilter"
INTERVAL = "$__interval"


def q(name: str) -> str:
    """A double-quoted InfluxQL identifier."""
    return '"' + name.replace('"', '\\"') + '"'


def s(value: str) -> str:
    """A single-quoted InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def var_regex(var: str) -> str:
    """`/^$var$/`: how Grafana variables (single, multi, All) are matched in InfluxQL."""
    return f"/^${var}$/"


@dataclass
class Select:
    """SELECT ... FROM measurement (or a subquery) WHERE $timeFilter AND ... GROUP BY ..."""

    source: Measurement | Select
    columns: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    group_time: str | None = None
    group_tags: list[str] = field(default_factory=list)
    fill: str | None = None
    order_desc: bool = False
    limit: int | None = None
    time_filter: bool = True

    @property
    def measurement(self) -> Measurement:
        src = self.source
        return src if isinstance(src, Measurement) else src.measurement

    # -- columns -------------------------------------------------------------
    def agg(self, fn: str, fld: str, alias: str | None = None, *args: str | float) -> Select:
        """`fn("field", args...) AS "alias"`; the field is checked against the source."""
        name = self._field(fld)
        extra = "".join(f", {a}" for a in args)
        self.columns.append(f"{fn}({q(name)}{extra}) AS {q(alias or fld)}")
        return self

    def raw(self, *names: str) -> Select:
        """Plain fields or tags (raw points, for tables)."""
        for n in names:
            self.columns.append(q(self._name(n)))
        return self

    def expr(self, text: str, alias: str) -> Select:
        """A computed column (e.g. `non_negative_difference(max("x"))`); names inside must be q()'d."""
        self.columns.append(f"{text} AS {q(alias)}")
        return self

    # -- filters -------------------------------------------------------------
    def _tag_is(self, tag: str, op: str, rhs: str) -> Select:
        """WHERE `tag` (checked against the source) `op` `rhs` (already quoted or a regex)."""
        self.where.append(f"{q(self._tag(tag))} {op} {rhs}")
        return self

    def match_var(self, tag: str, var: str) -> Select:
        return self._tag_is(tag, "=~", var_regex(var))

    def eq(self, tag: str, value: str) -> Select:
        return self._tag_is(tag, "=", s(value))

    def ne(self, tag: str, value: str) -> Select:
        return self._tag_is(tag, "!=", s(value))

    def regex(self, tag: str, pattern: str) -> Select:
        return self._tag_is(tag, "=~", f"/{pattern}/")

    def has(self, tag: str) -> Select:
        """Only points that carry this tag."""
        return self.regex(tag, ".+")

    def field_cmp(self, fld: str, op: str, value: float) -> Select:
        self.where.append(f"{q(self._field(fld))} {op} {value:g}")
        return self

    # -- grouping ------------------------------------------------------------
    def by_time(self, interval: str = INTERVAL, fill: str | None = "null") -> Select:
        self.group_time = interval
        self.fill = fill
        return self

    def by(self, *tags: str) -> Select:
        self.group_tags.extend(self._tag(t) for t in tags)
        return self

    def newest_first(self, limit: int | None = None) -> Select:
        self.order_desc = True
        self.limit = limit
        return self

    # -- names ---------------------------------------------------------------
    def _field(self, name: str) -> str:
        src = self.source
        if isinstance(src, Select):
            if name not in src.aliases():
                raise ValueError(f"subquery has no column {name!r} (has {sorted(src.aliases())})")
            return name
        return src.f(name)

    def _tag(self, name: str) -> str:
        return self.measurement.t(name)

    def _name(self, name: str) -> str:
        m = self.measurement
        return m.t(name) if name in m.tag_names else self._field(name)

    def aliases(self) -> set[str]:
        out = set()
        for c in self.columns:
            if " AS " in c:
                out.add(c.rsplit(" AS ", 1)[1].strip('"'))
        return out

    # -- text ----------------------------------------------------------------
    def render(self) -> str:
        if not self.columns:
            raise ValueError("a SELECT needs at least one column")
        src = self.source
        frm = q(src.name) if isinstance(src, Measurement) else f"({src.render()})"
        conds = ([TIME_FILTER] if self.time_filter else []) + self.where
        parts = [f"SELECT {', '.join(self.columns)} FROM {frm}"]
        if conds:
            parts.append("WHERE " + " AND ".join(conds))
        groups = ([f"time({self.group_time})"] if self.group_time else []) + [q(t) for t in self.group_tags]
        if groups:
            parts.append("GROUP BY " + ", ".join(groups))
        if self.group_time and self.fill:
            parts.append(f"fill({self.fill})")
        if self.order_desc:
            parts.append("ORDER BY time DESC")
        if self.limit is not None:
            parts.append(f"LIMIT {self.limit}")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.render()


def select(source: Measurement | Select) -> Select:
    return Select(source)


def subquery(inner: Select) -> Select:
    """An outer SELECT over `inner`; the outer WHERE carries no $timeFilter (the inner has it)."""
    return Select(inner, time_filter=False)


def tag_values(m: Measurement, tag: str, where: dict[str, str] | None = None) -> str:
    """`SHOW TAG VALUES` for a template variable, optionally filtered by other variables."""
    text = f"SHOW TAG VALUES FROM {q(m.name)} WITH KEY = {q(m.t(tag))}"
    if where:
        text += " WHERE " + " AND ".join(f"{q(m.t(t))} =~ {var_regex(v)}" for t, v in where.items())
    return text
