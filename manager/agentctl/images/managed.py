"""Managed pools in the image lifecycle. The lifecycle works with one gallery image per pool file;
a managed pool may have several, so it takes part as one view per gallery image (a copy of the
spec whose ``image`` is that one, its lines those of ``managedPool.images[i]``). What uses a
version: the pool's images (a pinned version, or the definition: the latest) and its agents'
image versions. ``roll`` PATCHes the pool's images onto a version and can pin it in pool.yaml.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from agentctl.azure import Arm
from agentctl.azure.managed import POOLS_API
from agentctl.config import Image, PoolSpec
from agentctl.errors import NotFound, UsageError
from agentctl.images.model import Confirm, Instances, Note, PoolImage, same_id, split_reference
from agentctl.images.poolfile import set_version, write_pool_file
from agentctl.kinds.common import MANAGED_BY, TAG_MANAGED


def views(spec: PoolSpec) -> list[PoolSpec]:
    """The spec as the lifecycle sees it: itself (a scale-set pool), or one view per gallery image."""
    if spec.managed is None:
        return [spec]
    out = []
    for i, image in enumerate(spec.managed.images):
        if not image.galleryImageId:
            continue  # a well-known image has no gallery versions
        at = f"managedPool.images[{i}]"
        lines = dict(spec.lines)
        for key in ("galleryImageId", "version"):
            if f"{at}.{key}" in spec.lines:
                lines[f"image.{key}"] = spec.lines[f"{at}.{key}"]
        out.append(dataclasses.replace(spec, image=Image(image.galleryImageId, image.version), lines=lines))
    return out


def index_of(spec: PoolSpec) -> int:
    """The position in ``managedPool.images`` of a view's image."""
    assert spec.managed is not None
    ids = [str(i.galleryImageId or "").lower() for i in spec.managed.images]
    return ids.index(spec.image.galleryImageId.lower())


def _pool(arm: Arm, spec: PoolSpec) -> dict[str, Any] | None:
    return arm.managed.get_pool(spec.azure.resourceGroup, spec.devops.pool.name)


def pool_image(arm: Arm, spec: PoolSpec) -> PoolImage:
    """A view's use of its image: the pool's reference to it, and its agents on it."""
    pool = _pool(arm, spec)
    if pool is None:
        return PoolImage(spec)
    refs = [str(i.get("resourceId") or "") for i in _images(pool)]
    model = next((r for r in refs if same_id(split_reference(r)[0], spec.image.galleryImageId)), None)
    return PoolImage(spec, model, _agents(arm, spec, pool) if model else {})


def _images(pool: dict[str, Any]) -> list[dict[str, Any]]:
    return list(((pool.get("properties") or {}).get("fabricProfile") or {}).get("images") or [])


def _agents(arm: Arm, spec: PoolSpec, pool: dict[str, Any]) -> Instances:
    """The agents on this view's image (all of them when the pool has this image only)."""
    name = spec.image.galleryImageId.rstrip("/").rsplit("/", 1)[-1].lower()
    only = len(_images(pool)) == 1
    out: Instances = {}
    for agent in arm.managed.agents(str(pool["id"])):
        props = agent.get("properties") or {}
        if only or str(props.get("image") or "").lower() == name:
            out[str(agent.get("name"))] = (spec.image.galleryImageId, props.get("imageVersion"))
    return out


def roll(
    spec: PoolSpec,
    arm: Arm,
    new_model: str,
    version: str,
    write: bool,
    confirm: Confirm,
    note: Note,
    data: dict[str, Any],
) -> dict[str, Any]:
    """PATCH the managed pool's reference to this view's image to ``new_model``; with ``write``,
    pin ``version`` in pool.yaml as ``managedPool.images[i].version``."""
    pool = _pool(arm, spec)
    if pool is None or (pool.get("tags") or {}).get(TAG_MANAGED) != MANAGED_BY:
        raise NotFound(
            f"managed pool {spec.devops.pool.name} does not exist in {spec.azure.resourceGroup}, "
            "or is not agentctl's",
            hint=f"deploy the pool first: agentctl deploy-pool -f {spec.source}",
        )
    edited = _edited(spec, version) if write and data["poolFile"] else None
    if not (data["model"]["changed"] or edited):
        return data
    if not confirm(data):
        data["cancelled"] = True
        return data
    if data["model"]["changed"]:
        note(f"updating managed pool {spec.devops.pool.name}: image {version}")
        fabric = dict((pool.get("properties") or {}).get("fabricProfile") or {})
        fabric["images"] = [
            {**i, "resourceId": new_model}
            if same_id(split_reference(str(i.get("resourceId") or ""))[0], spec.image.galleryImageId)
            else i
            for i in _images(pool)
        ]
        arm.managed.patch(str(pool["id"]), POOLS_API, {"properties": {"fabricProfile": fabric}})
    data["applied"] = True
    if edited is not None:
        write_pool_file(spec.source, edited)
        data["poolFile"]["written"] = True
    return data


def _edited(spec: PoolSpec, version: str) -> str:
    assert spec.managed is not None
    i = index_of(spec)
    images = list(spec.managed.images)
    old = images[i].version
    images[i] = dataclasses.replace(images[i], version=version)
    # the file as loaded: no image section (a file that keeps one for a switch is edited by hand)
    real = dataclasses.replace(
        spec, image=Image(""), managedPool=dataclasses.replace(spec.managed, images=images)
    )
    with open(spec.source, encoding="utf-8", newline="") as f:
        return set_version(f.read(), spec, f"managedPool.images[{i}]", old, version, real)


def refuse_recycle() -> None:
    raise UsageError(
        "--recycle-idle is for scale-set pools",
        hint="a managed pool replaces its agents itself: new agents start on the new image",
    )
