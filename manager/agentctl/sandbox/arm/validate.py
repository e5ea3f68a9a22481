"""Check a request body against a model of the members a service knows.

A model maps definition names to ``{member: type}``; the type strings are those of
``vmss_model`` ("string", "integer", "number", "boolean", "any", "enum:<key>", "[T]", "{T}",
"#Definition"). Checking stops at the first problem, as the services' deserialisers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentctl.sandbox.http import arm_error

Types = dict[str, dict[str, str]]
Enums = dict[str, tuple[str, ...]]

_DOTNET = {
    "string": "System.String",
    "integer": "System.Int32",
    "number": "System.Double",
    "boolean": "System.Boolean",
}


@dataclass
class Problem:
    kind: str  # "member" | "type" | "enum"
    path: str
    message: str


def deserialize(
    value: Any, type_: str, types: Types, enums: Enums, code: str = "InvalidRequestContent"
) -> None:
    """``check``, answered as ARM answers a body its deserialiser refuses: 400 with ``code``."""
    problem = check(value, type_, types, enums)
    if problem:
        raise arm_error(
            400, code, f"The request content was invalid and could not be deserialized: '{problem.message}'."
        )


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _type_error(value: Any, expected: str, path: str) -> Problem:
    shown = "{null}" if value is None else repr(value) if not isinstance(value, str) else f'"{value}"'
    return Problem("type", path, f"Error converting value {shown} to type '{expected}'. Path '{path}'.")


def check(value: Any, type_: str, types: Types, enums: Enums, path: str = "") -> Problem | None:
    if value is None or type_ == "any":
        return None
    if type_.startswith("#"):
        name = type_[1:]
        if not isinstance(value, dict):
            return _type_error(value, name, path)
        members = types[name]
        for key, item in value.items():
            if key not in members:
                return Problem(
                    "member",
                    _join(path, key),
                    f"Could not find member '{key}' on object of type '{name}'. Path '{_join(path, key)}'.",
                )
            found = check(item, members[key], types, enums, _join(path, key))
            if found:
                return found
        return None
    if type_.startswith("["):
        if not isinstance(value, list):
            return _type_error(value, "List", path)
        for i, item in enumerate(value):
            found = check(item, type_[1:-1], types, enums, f"{path}[{i}]")
            if found:
                return found
        return None
    if type_.startswith("{"):
        if not isinstance(value, dict):
            return _type_error(value, "Dictionary", path)
        for key, item in value.items():
            found = check(item, type_[1:-1], types, enums, f"{path}['{key}']")
            if found:
                return found
        return None
    if type_.startswith("enum:"):
        allowed = enums[type_[5:]]
        if not isinstance(value, str) or value.lower() not in {a.lower() for a in allowed}:
            names = ", ".join(allowed)
            return Problem(
                "enum",
                path,
                f"The value '{value}' of parameter '{path}' is not valid. Allowed values: {names}.",
            )
        return None
    ok = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
    }[type_]
    return None if ok else _type_error(value, _DOTNET[type_], path)
