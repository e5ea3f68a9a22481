"""Resource kinds beyond the pool itself, each a small module with the same five parts.

A module in ``KINDS`` provides:

- ``NAME``: its key in ``Facts.extra``;
- ``observe(spec, clients, facts) -> Any``: read-only facts for its resources (run after the
  pool's own facts are known; may use ``facts.identity``, ``facts.project``...);
- ``plan(spec, facts) -> list[Action]`` and ``plan_destroy(spec, facts) -> list[Action]``: pure;
  action keys are ``<kind>:<instance>`` (e.g. ``environment:dev``), kinds unique across modules;
- ``HANDLERS``: ``{(kind, op): fn(ctx, action)}`` (``ctx`` is ``agentctl.apply.Context``);
- ``status(spec, clients, facts) -> dict``: what ``agentctl status`` shows for it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

KIND_MODULES = ("agentctl.resources.deploy_path", "agentctl.resources.registries")


def kinds() -> list[ModuleType]:
    """The resource modules present in this build."""
    out = []
    for name in KIND_MODULES:
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
    return out
