"""Reading the image lifecycle's facts: the pools' scale sets and instances, the gallery's versions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agentctl import config
from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.errors import NotFound, UsageError
from agentctl.images import managed
from agentctl.images.model import (
    ImageDefinition,
    Instances,
    PoolImage,
    Version,
    dig,
    split_reference,
    text_of,
    uses,
)
from agentctl.versions import version_key

WORKERS = 4


def load_pools(paths: list[str]) -> list[PoolSpec]:
    """Load pool files that are read through one Azure sign-in."""
    specs = [view for p in paths for view in managed.views(config.load(p))]
    kinds = {(s.azure.cloud, s.azure.credential) for s in specs}
    if len(kinds) > 1:
        raise UsageError(
            "the pool files use different Azure clouds or credentials (azure.cloud, azure.credential)",
            hint="run the command once per cloud",
        )
    return specs


def image_parts(spec: PoolSpec) -> dict[str, str]:
    parts = config.parse_id("galleryImage", spec.image.galleryImageId)
    assert parts is not None  # validated by config
    return parts


def arms_for(target: Target, specs: list[PoolSpec]) -> dict[str, Arm]:
    subs = {s.azure.subscription for s in specs} | {image_parts(s)["sub"] for s in specs}
    return {sub.lower(): Arm(target, sub) for sub in subs}


def model_image(scale_set: dict[str, Any]) -> str | None:
    ref = dig(scale_set, "properties", "virtualMachineProfile", "storageProfile", "imageReference", "id")
    return text_of(ref)


def instances_of(arm: Arm, spec: PoolSpec) -> Instances:
    out: Instances = {}
    for vm in arm.list_instances(spec.azure.resourceGroup, spec.scaleSet.name):
        ref = dig(vm, "properties", "storageProfile", "imageReference") or {}
        definition, version = split_reference(str(ref.get("id") or ""))
        out[str(vm.get("instanceId"))] = (definition, text_of(ref.get("exactVersion")) or version)
    return out


def _pool_image(arm: Arm, spec: PoolSpec) -> PoolImage:
    if spec.managed is not None:
        return managed.pool_image(arm, spec)
    ss = arm.get_scale_set(spec.azure.resourceGroup, spec.scaleSet.name)
    if ss is None:
        return PoolImage(spec)
    return PoolImage(spec, model_image(ss), instances_of(arm, spec))


def versions_of(arm: Arm, spec: PoolSpec) -> list[Version]:
    p = image_parts(spec)
    try:
        docs = arm.list_image_versions(p["rg"], p["gallery"], p["name"])
    except NotFound as e:
        where = f"{spec.source}:{spec.line('image.galleryImageId')}"
        raise NotFound(f"{where}: image.galleryImageId: {e.message}") from None
    return sorted((Version.of(d) for d in docs), key=lambda v: version_key(v.name))


def _with_replication(arm: Arm, spec: PoolSpec, version: Version) -> Version:
    p = image_parts(spec)
    doc = arm.get_image_version(p["rg"], p["gallery"], p["name"], version.name)
    return Version.of(doc) if doc else version


def observe(
    specs: list[PoolSpec], target: Target, replication: bool = False
) -> tuple[list[PoolImage], list[ImageDefinition]]:
    """The pools' scale sets and instances, and the versions of every image definition they name."""
    arms = arms_for(target, specs)
    firsts: dict[str, PoolSpec] = {}
    for s in specs:
        firsts.setdefault(s.image.galleryImageId.lower(), s)
    owners = list(firsts.values())

    def image_arm(s: PoolSpec) -> Arm:
        return arms[image_parts(s)["sub"].lower()]

    # Reads run one after another: concurrent first use of the SDK clients can deadlock on imports.
    pools = [_pool_image(arms[s.azure.subscription.lower()], s) for s in specs]
    listed = [versions_of(image_arm(s), s) for s in owners]
    if replication:  # one GET per version, concurrent now that the list warmed the client up
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="images") as ex:
            listed = [
                list(ex.map(lambda v, s=s: _with_replication(image_arm(s), s, v), versions))
                for s, versions in zip(owners, listed, strict=True)
            ]
    definitions = [
        ImageDefinition(s.image.galleryImageId, versions, uses(pools, s.image.galleryImageId, versions))
        for s, versions in zip(owners, listed, strict=True)
    ]
    return pools, definitions


def list_images(specs: list[PoolSpec], target: Target) -> dict[str, Any]:
    pools, definitions = observe(specs, target, replication=True)
    return {"images": [d.to_dict() for d in definitions], "pools": [p.to_dict() for p in pools]}
