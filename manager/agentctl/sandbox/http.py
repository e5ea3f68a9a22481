"""Requests, responses and service errors as the handlers see them (no sockets here)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, no query
    query: dict[str, str]  # the first value of each parameter
    headers: dict[str, str]  # names lower-cased
    raw: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # route parameters
    api_version: str = ""

    def arg(self, name: str, default: str = "") -> str:
        """A query parameter, matched case-insensitively as both services do."""
        low = name.lower()
        for k, v in self.query.items():
            if k.lower() == low:
                return v
        return default

    @functools.cached_property
    def body(self) -> Any:
        """The JSON body (None when empty); ValueError when it is not JSON or nests deeper than
        ``MAX_DEPTH``."""
        if not self.raw.strip():
            return None
        try:
            doc = json.loads(self.raw)
        except RecursionError:
            raise ValueError("the JSON is nested too deep") from None
        if _depth(doc) > MAX_DEPTH:
            raise ValueError("the JSON is nested too deep")
        return doc


MAX_DEPTH = 64  # levels of JSON nesting a request body may have (the deepest ARM model is far less)


def _depth(doc: Any) -> int:
    """How deep ``doc`` nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(doc, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            level += 1
            deepest = max(deepest, level)
            stack.extend((child, level) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # a body sent as is (text/plain unless headers say otherwise)


class ServiceError(Exception):
    """A failure answered the way the service answers it."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None, text: str = "") -> None:
        super().__init__(f"{status}: {body if text == '' else text}")
        self.response = Response(status, body if not text else None, dict(headers or {}), text or None)


def arm_error(
    status: int, code: str, message: str, *, target: str = "", details: list[dict[str, Any]] | None = None
) -> ServiceError:
    err: dict[str, Any] = {"code": code, "message": message}
    if target:
        err["target"] = target
    if details:
        err["details"] = details
    return ServiceError(status, {"error": err})


def devops_error(status: int, type_key: str, message: str, *, namespace: str = "") -> ServiceError:
    """A WrappedException as Azure DevOps serialises it."""
    ns = namespace or "Microsoft.TeamFoundation.DistributedTask.WebApi"
    return ServiceError(
        status,
        {
            "$id": "1",
            "innerException": None,
            "message": message,
            "typeName": f"{ns}.{type_key}, {ns}",
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        },
    )


def iso(t: float) -> str:
    """A timestamp as Azure writes them: UTC with seven fractional digits."""
    d = dt.datetime.fromtimestamp(t, dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond:06d}0+00:00"


def iso_z(t: float) -> str:
    """A timestamp as Azure DevOps writes them."""
    d = dt.datetime.fromtimestamp(t, dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
