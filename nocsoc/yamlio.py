"""YAML in and out, keeping the line of every key and list item so errors can name file:line:key.

PyYAML's `safe_load` throws the positions away; its composer keeps them on every node. We compose,
then build plain Python values ourselves while recording `path -> line`, where a path is a tuple of
keys and list indexes such as `("devices", 3, "address")`. Duplicate keys, which PyYAML would
silently collapse to the last one, are an error here: in an inventory they are always a mistake.

Dumping is stable (key order as given, block style, Unicode kept, no line wrapping) so that an
inventory rewritten by the CLI gives small, readable git diffs.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import ConstructorError, SafeConstructor

from nocsoc.errors import NocsocError, Problem

YamlPath = tuple[str | int, ...]

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Keys whose values are secrets or secret references: never echoed back in an error.
_SECRET_WORDS = ("password", "community", "token", "secret", "key")


def key_label(path: Sequence[str | int]) -> str:
    """`("devices", 3, "address")` -> `devices[3].address`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class YamlDoc:
    """A parsed YAML document with the 1-based line of every key and list item."""

    file: Path
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """Line of `path`, else of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None
            p = p[:-1]

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        return Problem(message, self.file, self.line_of(path), key_label(path) or None)


class _Builder:
    """Turns a composed node tree into dicts/lists/scalars, recording lines and refusing duplicates."""

    def __init__(self, file: Path, error_cls: type[NocsocError]) -> None:
        self.file = file
        self.error_cls = error_cls
        self.lines: dict[YamlPath, int] = {}
        self.constructor = SafeConstructor()

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        plain: dict[type, str] = {
            yaml.MappingNode: "tag:yaml.org,2002:map",
            yaml.SequenceNode: "tag:yaml.org,2002:seq",
        }
        expected = plain.get(type(node))
        if expected is not None and node.tag != expected:
            raise self.error_cls(
                f"cannot read this value: unsupported tag {node.tag!r}",
                file=self.file, line=node.start_mark.line + 1, key=key_label(path) or None,
            )
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)  # resolves `<<:` merge keys like safe_load does
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node)
                line = key_node.start_mark.line + 1
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise self.error_cls(
                        "a key must be a plain scalar", file=self.file, line=line, key=key_label(path) or None
                    )
                pkey: str | int = key if isinstance(key, str) else str(key)
                if isinstance(key, int) and not isinstance(key, bool):
                    pkey = key
                if key in out:
                    first = self.lines.get((*path, pkey))
                    raise self.error_cls(
                        f"duplicate key (first defined on line {first})",
                        file=self.file,
                        line=line,
                        key=key_label((*path, pkey)),
                    )
                self.lines[(*path, pkey)] = line
                out[key] = self.build(value_node, (*path, pkey))
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[(*path, i)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, i)))
            return items
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: YamlPath = ()) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            raise self.error_cls(
                f"cannot read this value: {exc.problem}",
                file=self.file, line=node.start_mark.line + 1, key=key_label(path) or None,
            ) from None


def parse_yaml(text: str, file: Path, error_cls: type[NocsocError] = NocsocError) -> YamlDoc:
    """Parse one YAML document. An empty document is `None` data."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "invalid YAML"
        raise error_cls(f"invalid YAML: {what}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise error_cls(f"invalid YAML: {exc}", file=file) from None
    if node is None:
        return YamlDoc(file, None, {(): 1})
    builder = _Builder(file, error_cls)
    builder.lines[()] = node.start_mark.line + 1
    data = builder.build(node, ())
    return YamlDoc(file, data, builder.lines)


def load_yaml(path: Path, error_cls: type[NocsocError] = NocsocError, what: str = "file") -> YamlDoc:
    """Read and parse `path`; a missing or unreadable file is an `error_cls` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error_cls(f"{what} not found", file=path) from None
    except IsADirectoryError:
        raise error_cls(f"{what} is a directory, expected a YAML file", file=path) from None
    except UnicodeDecodeError as exc:
        raise error_cls(f"not UTF-8 text (byte {exc.start})", file=path) from None
    except OSError as exc:
        raise error_cls(f"cannot read {what}: {exc.strerror}", file=path) from None
    return parse_yaml(text, path, error_cls)


# --- dumping ------------------------------------------------------------------------------------


class _StableDumper(yaml.SafeDumper):
    """Block style with list items indented under their key (the common hand-written style)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class FlowMap(dict[str, Any]):
    """A mapping written on one line, `{device: x, interface: y}`: small records read better so."""


def _flow_representer(dumper: yaml.SafeDumper, value: FlowMap) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(value), flow_style=True)


class FlowList(list[Any]):
    """A list of scalars written on one line, `[dc, ring]`."""


def _flow_list_representer(dumper: yaml.SafeDumper, value: FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=True)


_StableDumper.add_representer(str, _str_representer)
_StableDumper.add_representer(FlowMap, _flow_representer)
_StableDumper.add_representer(FlowList, _flow_list_representer)


def dump_yaml(data: Any, header: str | None = None) -> str:
    """Stable YAML text: keys in the given order, Unicode as is, no wrapping, optional `# header`."""
    body = yaml.dump(
        data,
        Dumper=_StableDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10_000,
        indent=2,
    )
    if header:
        lines = "".join(f"# {h}\n" if h else "#\n" for h in header.splitlines())
        return lines + body
    return body


# --- pydantic errors -> problems with file:line:key -----------------------------------------


def _unwrap(ann: Any) -> Any:
    """Strip `Annotated[...]` and `X | None` down to X."""
    while True:
        origin = get_origin(ann)
        if origin is Annotated:
            ann = get_args(ann)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(ann) if a is not type(None)]
            if len(members) == 1:
                ann = members[0]
                continue
        return ann


def _tagged_member(ann: Any, tag: str | int) -> type[BaseModel] | None:
    """For a discriminated union of models, the member whose `type` default is `tag`."""
    if get_origin(ann) not in (Union, types.UnionType) or not isinstance(tag, str):
        return None
    for member in get_args(ann):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for f in member.model_fields.values():
                if get_origin(f.annotation) is Literal and f.default == tag:
                    return member
    return None


def _walk(loc: Iterable[str | int], ann: Any) -> tuple[YamlPath, Any]:
    """Drop union-member labels from a pydantic `loc`; return it with the type found at its end."""
    clean: list[str | int] = []
    for comp in loc:
        ann = _unwrap(ann)
        member = _tagged_member(ann, comp)
        if member is not None:
            ann = member
            continue
        clean.append(comp)
        if isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(comp, str):
            f = ann.model_fields.get(comp)
            ann = f.annotation if f is not None else None
        elif get_origin(ann) in (list, tuple, set, frozenset) and isinstance(comp, int):
            ann = get_args(ann)[0] if get_args(ann) else None
        elif get_origin(ann) is dict:
            ann = get_args(ann)[1] if get_args(ann) else None
        else:
            ann = None
    return tuple(clean), _unwrap(ann)


def _is_secret_key(path: YamlPath) -> bool:
    last = next((p for p in reversed(path) if isinstance(p, str)), "")
    return any(w in last.lower() for w in _SECRET_WORDS)


def _describe(err: Any, path: YamlPath, parent: Any) -> str:
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        is_model = isinstance(parent, type) and issubclass(parent, BaseModel)
        allowed = list(parent.model_fields) if is_model else []
        unknown = str(path[-1]) if path else ""
        text = "unknown key"
        close = difflib.get_close_matches(unknown, allowed, n=1, cutoff=0.6)
        if close:
            text += f" (did you mean `{close[0]}`?)"
        if allowed:
            text += f"; allowed: {', '.join(allowed)}"
        return text
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        what = path[-1] if path else "type"
        return f"unknown {what} {ctx.get('tag')!r}; expected one of: {ctx.get('expected_tags')}"
    if kind in ("value_error", "assertion_error"):
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = err.get("input")
    if isinstance(value, (str, int, float, bool)) and not _is_secret_key(path):
        return f"{msg} (got {value!r})"
    return msg


def validation_problems(
    exc: ValidationError, doc: YamlDoc, model: Any, base: YamlPath = ()
) -> list[Problem]:
    """One `Problem` per pydantic error, located in `doc` (the model was validated at `base`)."""
    problems = []
    for err in exc.errors(include_url=False):
        path, _ = _walk(err["loc"], model)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            tag = str(err.get("ctx", {}).get("discriminator", "type")).strip("'")
            path = (*path, tag)
        parent = _walk(err["loc"][:-1], model)[1]
        full = (*base, *path)
        problems.append(doc.problem(full, _describe(err, path, parent)))
    return problems
