"""``image prune``: delete the gallery versions beyond the newest N that no pool uses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.errors import AgentctlError
from agentctl.images.model import FAILED, SUCCEEDED, Confirm, Note, Use, Version
from agentctl.images.read import arms_for, image_parts, observe
from agentctl.versions import version_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PruneItem:
    version: Version
    delete: bool
    reasons: tuple[str, ...]  # why it is kept; empty when deleted

    def to_dict(self) -> dict[str, Any]:
        return self.version.to_dict() | {"delete": self.delete, "keptBecause": list(self.reasons)}


def plan_prune(versions: list[Version], keep: int, in_use: dict[str, list[Use]]) -> list[PruneItem]:
    """Keep the newest ``keep`` versions that succeeded, every version in use and every version
    still being created or changed; delete the rest (failed ones included). Oldest first."""
    ranked = sorted((v for v in versions if v.state == SUCCEEDED), key=lambda v: version_key(v.name))
    newest = {v.name for v in ranked[-keep:]} if keep > 0 else set()
    items = []
    for v in sorted(versions, key=lambda v: version_key(v.name)):
        reasons = [f"one of the newest {keep}"] if v.name in newest else []
        reasons += [u.describe() for u in in_use.get(v.name, [])]
        if v.state not in (SUCCEEDED, FAILED):
            reasons.append(f"provisioning state {v.state}")
        items.append(PruneItem(v, not reasons, tuple(reasons)))
    return items


def prune(specs: list[PoolSpec], target: Target, keep: int, confirm: Confirm, note: Note) -> dict[str, Any]:
    """Delete the image versions beyond the newest ``keep`` that none of the pools uses."""
    pools, definitions = observe(specs, target)
    owners = {s.image.galleryImageId.lower(): s for s in specs}
    plans = [(d, plan_prune(d.versions, keep, d.uses)) for d in definitions]
    data: dict[str, Any] = {
        "keep": keep,
        "pools": [p.to_dict() for p in pools],
        "images": [{"id": d.id, "versions": [i.to_dict() for i in items]} for d, items in plans],
        "deleted": [],
        "failed": [],
        "applied": False,
    }
    doomed = [(d, i.version.name) for d, items in plans for i in items if i.delete]
    if not doomed:
        return data
    if not confirm(data):
        data["cancelled"] = True
        return data
    arms = arms_for(target, specs)

    for d, version in doomed:  # one at a time; a failure does not stop the others
        p = image_parts(owners[d.id.lower()])
        try:
            arms[p["sub"].lower()].delete_image_version(p["rg"], p["gallery"], p["name"], version)
        except AgentctlError as e:
            log.warning("deleting %s/versions/%s failed: %s", d.id, version, e.message)
            data["failed"].append({"image": d.id, "version": version, "error": e.message})
            continue
        note(f"deleted {p['name']}/{version}")
        data["deleted"].append({"image": d.id, "version": version})
    data["applied"] = True
    return data
