"""The JSON Schema of pool.yaml, derived from the model (kept in the repo for editors)."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

from agentctl.config.model import PoolSpec, fields_of

SCHEMA_ID = "https://agentctl.dev/schemas/pool.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of pool.yaml, derived from the model (kept in the repo for editors)."""
    schema = _schema_of(PoolSpec)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "agentctl pool",
        **schema,
        # the sections each backend needs (the other backend's may stay: a switch removes what they name)
        "if": {"properties": {"backend": {"const": "managedPool"}}, "required": ["backend"]},
        "then": {"required": ["managedPool"]},
        "else": {
            "required": ["image", "scaleSet"],
            "properties": {"devops": {"required": ["azureConnection"]}},
        },
    }


def _schema_of(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1:
            return _schema_of(inner[0])
        return {"oneOf": [_schema_of(a) for a in inner]}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        props: dict[str, Any] = {}
        required = []
        for f, ftype in fields_of(tp):
            s = _schema_of(ftype)
            m = dict(f.metadata)
            m.pop("rule", None)  # the loader's; the schema has the pattern
            s["description"] = m.pop("description")
            if "items" in m:
                s["items"].update(m.pop("items"))
            s.update(m)
            if f.default is not dataclasses.MISSING and f.default is not None:
                s["default"] = f.default
                if type(None) in typing.get_args(ftype):  # null turns the default off
                    s["type"] = [s["type"], "null"]
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
            props[f.name] = s
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            out["required"] = required
        return out
    if origin is list:
        return {"type": "array", "items": _schema_of(typing.get_args(tp)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": {"type": "string"}}
    return {"type": {str: "string", int: "integer", bool: "boolean"}[tp]}


def schema_path() -> Path:
    from agentctl import schemas

    return schemas.path("pool")
