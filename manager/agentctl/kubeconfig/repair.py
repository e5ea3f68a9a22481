"""Repairing a kubeconfig: keep the chosen context, strip copy-paste whitespace, encode raw PEM."""

from __future__ import annotations

import base64
from typing import Any

import yaml

from agentctl.kubeconfig.model import entries, picked, select
from agentctl.kubeconfig.reader import document


def prepared(text: str | bytes, source: str, context: str | None) -> dict[str, Any]:
    """Parsed, minified to the chosen context when it resolves, and repaired."""
    data = document(text, source)
    name = select(data, context, source)
    chosen = picked(data, name)
    if chosen is not None:
        data = chosen.minified(data)
    elif name is not None:
        data["current-context"] = name
    repair(data)
    return data


def repair(data: dict[str, Any]) -> None:
    """Strip copy-paste whitespace from base64 fields and tokens; base64-encode raw PEM."""
    for section, inner, keys in (
        ("clusters", "cluster", ("certificate-authority-data",)),
        ("users", "user", ("client-certificate-data", "client-key-data", "token")),
    ):
        for entry in entries(data, section, inner)[0]:
            body = entry.body or {}
            for key in keys:
                if isinstance(body.get(key), str):
                    body[key] = _clean(body[key], key)


def _clean(value: str, key: str) -> str:
    if key != "token" and value.lstrip().startswith("-----BEGIN"):
        return base64.b64encode(value.strip().encode() + b"\n").decode()
    return "".join(value.split())


class _Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: dict[str, Any]) -> str:
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 30)
    return text
