"""Gallery image versions and which pools use them: the values the image lifecycle plans with."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentctl.config import PoolSpec
from agentctl.kinds.pool import desired
from agentctl.versions import version_key

SUCCEEDED, FAILED = "Succeeded", "Failed"
Confirm = Callable[[dict[str, Any]], bool]
Note = Callable[[str], None]
# instanceId -> (image definition id, image version it was created from; None when unknown)
Instances = dict[str, tuple[str, str | None]]

_VERSIONED = re.compile(r"^(?P<definition>.+)/versions/(?P<version>[^/]+)$", re.IGNORECASE)


def split_reference(image_id: str) -> tuple[str, str | None]:
    """(image definition id, version) of an image reference; version None means "latest"."""
    m = _VERSIONED.match(image_id.rstrip("/"))
    if m is None:
        return image_id.rstrip("/"), None
    return m["definition"], None if m["version"].lower() == "latest" else m["version"]


def same_id(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def dig(doc: Any, *keys: str) -> Any:
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def text_of(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Version:
    """A gallery image version, as far as the lifecycle cares."""

    name: str
    state: str = SUCCEEDED  # provisioningState
    published: str | None = None
    exclude_from_latest: bool = False
    end_of_life: str | None = None
    replication: str | None = None  # replicationStatus.aggregatedState, when Azure reported it
    regions: tuple[str, ...] = ()

    @staticmethod
    def of(doc: dict[str, Any]) -> Version:
        props = doc.get("properties") or {}
        pub = props.get("publishingProfile") or {}
        return Version(
            name=str(doc["name"]),
            state=str(props.get("provisioningState") or "Unknown"),
            published=text_of(pub.get("publishedDate")),
            exclude_from_latest=bool(pub.get("excludeFromLatest")),
            end_of_life=text_of(pub.get("endOfLifeDate")),
            replication=text_of(dig(props, "replicationStatus", "aggregatedState")),
            regions=tuple(str(r.get("name")) for r in pub.get("targetRegions") or []),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "publishedDate": self.published,
            "provisioningState": self.state,
            "replication": self.replication,
            "regions": list(self.regions),
            "excludeFromLatest": self.exclude_from_latest,
            "endOfLifeDate": self.end_of_life,
        }


def latest(versions: list[Version]) -> Version | None:
    """What a reference to the image definition resolves to: the highest version that succeeded
    and is not excluded from latest."""
    usable = [v for v in versions if v.state == SUCCEEDED and not v.exclude_from_latest]
    return max(usable, key=lambda v: version_key(v.name), default=None)


# --- who uses what ---------------------------------------------------------------------------


@dataclass
class PoolImage:
    """One pool file and the images its scale set uses."""

    spec: PoolSpec
    model: str | None = None  # the scale set model's imageReference id; None: no scale set
    instances: Instances = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version = split_reference(self.model)[1] if self.model else None
        return {
            "file": self.spec.source,
            "pool": self.spec.devops.pool.name,
            "backend": self.spec.backend,
            "scaleSet": self.spec.scaleSet.name,
            "image": self.spec.image.galleryImageId,
            "pinned": self.spec.image.version,
            "model": self.model,
            "modelVersion": version or ("latest" if self.model else None),
            "instances": len(self.instances),
        }


@dataclass(frozen=True)
class Use:
    """One reason a version is in use by a pool."""

    pool: str
    file: str
    # "scale set" (its model) or "managed pool" (its images), "pool.yaml", or "instances" (VMs or
    # agents created from it)
    source: str
    latest: bool = False  # through the image definition ("latest"), not a pinned version
    instances: int = 0

    def describe(self) -> str:
        if self.source == "instances":
            return f"{self.instances} instance(s) of pool {self.pool}"
        via = " (latest)" if self.latest else ""
        return f"pool {self.pool}: {self.source}{via}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def uses(pools: list[PoolImage], definition: str, versions: list[Version]) -> dict[str, list[Use]]:
    """Version name -> why it is in use, for the versions of ``definition``."""
    newest = latest(versions)
    out: dict[str, list[Use]] = defaultdict(list)
    for p in pools:
        name, file = p.spec.devops.pool.name, p.spec.source
        model = "managed pool" if p.spec.managed is not None else "scale set"
        for source, ref in ((model, p.model), ("pool.yaml", desired.image_reference(p.spec))):
            if ref is None:
                continue
            ref_definition, version = split_reference(ref)
            resolved = version or (newest.name if newest else None)
            if resolved and same_id(ref_definition, definition):
                out[resolved].append(Use(name, file, source, latest=version is None))
        counts = Counter(v for d, v in p.instances.values() if v and same_id(d, definition))
        for version, n in sorted(counts.items()):
            out[version].append(Use(name, file, "instances", instances=n))
    return dict(out)


@dataclass
class ImageDefinition:
    id: str
    versions: list[Version]  # oldest first
    uses: dict[str, list[Use]]

    def to_dict(self) -> dict[str, Any]:
        newest = latest(self.versions)
        return {
            "id": self.id,
            "latest": newest.name if newest else None,
            "versions": [
                v.to_dict()
                | {
                    "latest": newest is not None and v.name == newest.name,
                    "usedBy": [u.to_dict() for u in self.uses.get(v.name, [])],
                }
                for v in self.versions
            ],
        }
