"""Loading pool.yaml: types and field constraints checked with the file's line numbers."""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

from agentctl import yamlsrc
from agentctl.config.model import PoolSpec, fields_of
from agentctl.config.names import NameRule
from agentctl.config.rules import cross_checks, unique
from agentctl.errors import QUOTE_LIMIT, Collected, InvalidInput, quoted


def load(path: str | Path) -> PoolSpec:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{p}: no such file", hint="create one with `agentctl init`") from None
    except OSError as e:
        raise InvalidInput(f"{p}: cannot read ({e.strerror})") from None
    return loads(data, str(p))


def loads(text: str | bytes, source: str = "pool.yaml") -> PoolSpec:
    value, lines = yamlsrc.load(text, source)
    errs = Collected(source)
    if not isinstance(value, dict):
        errs.add("the document must be a mapping with azure, network, image, scaleSet and devops", "", 1)
        errs.raise_if_any()
    spec = _build(PoolSpec, value, "", lines, errs)
    errs.raise_if_any()
    assert isinstance(spec, PoolSpec)
    spec = dataclasses.replace(spec, source=source, lines=lines)
    cross_checks(spec, errs)
    errs.raise_if_any()
    return spec


def _line(lines: dict[str, int], path: str) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return lines.get("")


def _build(tp: Any, value: Any, path: str, lines: dict[str, int], errs: Collected) -> Any:
    """Check ``value`` against the type ``tp``; return the typed value (or None after an error)."""
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        return _build(_branch(tp, value), value, path, lines, errs)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, value, path, lines, errs)
    if origin is list:
        if not isinstance(value, list):
            errs.add(f"expected a list, got {_kind(value)}", path, _line(lines, path))
            return None
        (item_t,) = typing.get_args(tp)
        return [_build(item_t, v, yamlsrc.join(path, i), lines, errs) for i, v in enumerate(value)]
    if origin is dict:
        return _build_tags(value, path, lines, errs)
    ok = {str: isinstance(value, str), int: isinstance(value, int) and not isinstance(value, bool)}
    ok[bool] = isinstance(value, bool)
    if not ok.get(tp, False):
        errs.add(f"expected {_TYPE_NAMES[tp]}, got {_kind(value)}", path, _line(lines, path))
        return None
    return value


def _build_dataclass(tp: type, value: Any, path: str, lines: dict[str, int], errs: Collected) -> Any:
    """A mapping checked against a dataclass: unknown keys, missing fields, each field's type."""
    if not isinstance(value, dict):
        errs.add(f"expected a mapping, got {_kind(value)}", path, _line(lines, path))
        return None
    known = fields_of(tp)
    names = [f.name for f, _ in known]
    for key in value:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (expected one of: {', '.join(names)})"
            where = _line(lines, yamlsrc.join(path, key))
            if len(key) > QUOTE_LIMIT:  # a field path would echo it whole: quote it shortened
                errs.add(f"unknown key {quoted(key)}{hint}", path, where)
            else:
                errs.add(f"unknown key{hint}", yamlsrc.join(path, key), where)
    kwargs: dict[str, Any] = {}
    for f, ftype in known:
        child = yamlsrc.join(path, f.name)
        if f.name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                errs.add("required field is missing", child, _line(lines, path))
            continue
        built = _build(ftype, value[f.name], child, lines, errs)
        if built is not None or value[f.name] is None:
            _constrain(f.metadata, built, child, lines, errs)
            kwargs[f.name] = built
    try:
        return tp(**kwargs)
    except TypeError:
        return None  # a required field was missing or invalid; already reported


def _build_tags(value: Any, path: str, lines: dict[str, int], errs: Collected) -> dict[str, str] | None:
    """A mapping of strings (tags): scalars become their text, booleans as YAML writes them."""
    if not isinstance(value, dict):
        errs.add(f"expected a mapping, got {_kind(value)}", path, _line(lines, path))
        return None
    out = {}
    for k, v in value.items():
        if not isinstance(v, str | int | float | bool) or v is None:
            errs.add(f"expected a string, got {_kind(v)}", yamlsrc.join(path, k), _line(lines, path))
            continue
        out[k] = str(v).lower() if isinstance(v, bool) else str(v)
    return out


_TYPE_NAMES = {str: "a string", int: "a whole number", bool: "true or false"}


def _branch(tp: Any, value: Any) -> Any:
    """Of ``X | None`` the X; of ``int | SomeDataclass``, the dataclass for a mapping, else the int."""
    inner = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(inner) == 1:
        return inner[0]
    mapped = next(a for a in inner if dataclasses.is_dataclass(a))
    return mapped if isinstance(value, dict) else next(a for a in inner if a is not mapped)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({quoted(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _constrain(
    m: typing.Mapping[str, Any], value: Any, path: str, lines: dict[str, int], errs: Collected
) -> None:
    if value is None:
        return
    line = _line(lines, path)
    if "enum" in m and value not in m["enum"]:
        close = difflib.get_close_matches(str(value), m["enum"], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        errs.add(f"{quoted(value)} is not one of {', '.join(m['enum'])}{hint}", path, line)
    if isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value) if v is not None]  # None: reported
        for item_path, v in items:
            _constrain({"description": m["description"], **m.get("items", {})}, v, item_path, lines, errs)
        if m.get("uniqueItems"):
            unique(items, lambda msg, p: errs.add(msg, p, _line(lines, p)))
    if isinstance(value, str):
        rule: NameRule | None = m.get("rule")
        problem = rule(value) if rule else None
        if "maxLength" in m and len(value) > m["maxLength"]:
            errs.add(f"is {len(value)} characters long; the limit is {m['maxLength']}", path, line)
        elif problem:
            errs.add(problem, path, line)
        elif "pattern" in m and not re.fullmatch(m["pattern"], value):
            errs.add(f"{quoted(value)} is not a valid value ({m['description'].rstrip('.')})", path, line)
        elif value in m.get("not", {}).get("enum", []):
            errs.add(f"{quoted(value)} is a name Azure reserves; choose another", path, line)
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in m and value < m["minimum"]:
            errs.add(f"{value} is below the minimum {m['minimum']}", path, line)
        if "maximum" in m and value > m["maximum"]:
            errs.add(f"{value} is above the maximum {m['maximum']}", path, line)
