"""Putting names into URLs: every value that comes from a file goes through here.

``segment`` makes a value one URL path segment or one query value: percent-encoded with nothing
left as a delimiter (``/ ? # % &`` and the rest are encoded). A value that is exactly ``.`` or
``..`` is refused: requests turns ``%2E`` back into ``.``, so no encoding keeps such a segment
from being read as "this folder" or "the folder above". ``resource_path`` does the same for each
segment of an ARM resource id or scope, for the SDK parameters that take a whole path unencoded.
``odata_string`` quotes a value inside an OData ``$filter``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from agentctl.errors import InvalidInput, quoted

DOT_SEGMENTS = (".", "..")


def segment(value: Any) -> str:
    """``value`` as one path segment or query value."""
    text = str(value)
    if text in DOT_SEGMENTS:
        raise InvalidInput(f"{quoted(text)} cannot be a name: in a URL it means a folder, not a name")
    return quote(text, safe="")


def resource_path(resource_id: str) -> str:
    """An ARM resource id or scope (``/subscriptions/.../resourceGroups/...``), each segment
    encoded by ``segment``; the slashes between segments stay."""
    head, *parts = resource_id.split("/")
    if head or not parts:
        raise InvalidInput(f"{quoted(resource_id)} is not a resource id (it must start with /)")
    return "/" + "/".join(segment(p) for p in parts)


def odata_string(value: Any) -> str:
    """``value`` as an OData string literal: in single quotes, each quote inside doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def dot_segment(path: str) -> bool:
    """Whether a URL path holds a ``.`` or ``..`` segment (before any query)."""
    return any(part in DOT_SEGMENTS for part in path.split("?", 1)[0].split("/"))
