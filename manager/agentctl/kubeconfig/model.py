"""The kubeconfig model: named clusters, contexts and users, and choosing the context to keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentctl.errors import InvalidInput, quoted


@dataclass
class Entry:
    path: str  # e.g. clusters[0]
    item: dict[str, Any]
    name: str  # "" when missing
    body: dict[str, Any] | None  # item[inner] when it is a mapping


def entries(data: dict[str, Any], section: str, inner: str) -> tuple[list[Entry], list[tuple[str, str]]]:
    """The entries of a section, and (path, message) for each malformed one."""
    raw = data.get(section)
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [(section, f"{section} must be a list")]
    entries: list[Entry] = []
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(raw):
        path = f"{section}[{i}]"
        if not isinstance(item, dict):
            problems.append((path, f"must be a mapping with name and {inner}"))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            problems.append((f"{path}.name", "has no name"))
            name = ""
        body = item.get(inner)
        if not isinstance(body, dict):
            problems.append((f"{path}.{inner}", f"has no {inner} mapping"))
            body = None
        entries.append(Entry(path, item, name, body))
    return entries, problems


def _named(data: dict[str, Any], section: str, inner: str, name: Any) -> Entry | None:
    found = (e for e in entries(data, section, inner)[0] if e.name and e.name == name and e.body is not None)
    return next(found, None)


def select(data: dict[str, Any], context: str | None, source: str) -> str | None:
    """The context to keep: the named one, else current-context, else the only one."""
    names = [e.name for e in entries(data, "contexts", "context")[0] if e.name]
    if context is not None:
        if context not in names:
            raise InvalidInput(
                f"{source} has no context {quoted(context)}",
                hint=f"its contexts: {', '.join(names) or 'none'}",
            )
        return context
    current = data.get("current-context")
    if isinstance(current, str) and current in names:
        return current
    if current in (None, "") and len(names) == 1:
        return names[0]
    return None


@dataclass
class Picked:
    name: str
    cluster: dict[str, Any]
    context: dict[str, Any]
    user: dict[str, Any]

    def minified(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {k: data[k] for k in ("apiVersion", "kind") if k in data}
        out.update(
            {
                "clusters": [self.cluster],
                "contexts": [self.context],
                "current-context": self.name,
                "users": [self.user],
            }
        )
        return out


def picked(data: dict[str, Any], name: str | None) -> Picked | None:
    """The context ``name`` with its cluster and user, if all three exist."""
    context = _named(data, "contexts", "context", name) if name else None
    if name is None or context is None or context.body is None:
        return None
    cluster = _named(data, "clusters", "cluster", context.body.get("cluster"))
    user = _named(data, "users", "user", context.body.get("user"))
    if cluster is None or user is None:
        return None
    return Picked(name, cluster.item, context.item, user.item)
