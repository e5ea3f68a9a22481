"""``image roll``: point a pool's scale set at an image version, optionally update pool.yaml and
recycle idle agents. ``plan_roll`` and ``recyclable`` are pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.devops import DevOps
from agentctl.errors import NotFound, PreconditionFailed, UsageError
from agentctl.images import managed
from agentctl.images.model import SUCCEEDED, Confirm, Instances, Note, Version, latest, same_id
from agentctl.images.poolfile import PoolFileEdit, edited_pool_file, write_pool_file
from agentctl.images.read import arms_for, image_parts, instances_of, model_image, versions_of
from agentctl.kinds import common
from agentctl.kinds.pool import desired
from agentctl.versions import version_key


@dataclass(frozen=True)
class RollPlan:
    target: Version
    old_model: str
    new_model: str
    edit: PoolFileEdit | None
    outdated: dict[str, str | None]  # instanceId -> version, for instances not created from the target

    @property
    def changed(self) -> bool:
        return not same_id(self.old_model, self.new_model)


def plan_roll(
    spec: PoolSpec, model: str, versions: list[Version], instances: Instances, requested: str | None
) -> RollPlan:
    """Where the scale set model and pool.yaml should point for ``requested`` (None: the latest).

    A pool that follows "latest" (pool.yaml names no version) keeps referencing the image
    definition when rolled to the latest; any other roll pins the version, in the model and the file.
    """
    names = ", ".join(v.name for v in versions) or "no versions"
    if requested is None:
        target = latest(versions)
        if target is None:
            raise NotFound(
                f"{spec.image.galleryImageId} has no version to roll to "
                f"(none has succeeded without excludeFromLatest; the gallery has {names})"
            )
    else:
        found = [v for v in versions if v.name == requested]
        if not found:
            raise NotFound(f"image version {requested} does not exist (the gallery has {names})")
        target = found[0]
        if target.state != SUCCEEDED:
            raise PreconditionFailed(
                f"image version {requested} is {target.state}; only a succeeded version can be rolled out"
            )
    definition = spec.image.galleryImageId
    pin = None if requested is None and spec.image.version is None else target.name
    edit = None
    if pin != spec.image.version:
        line = spec.line("image.version" if spec.image.version else "image.galleryImageId")
        edit = PoolFileEdit(spec.source, line, spec.image.version, target.name)
    outdated = {
        iid: version
        for iid, (d, version) in sorted(instances.items(), key=lambda kv: version_key(kv[0]))
        if version != target.name or not same_id(d, definition)
    }
    new_model = f"{definition}/versions/{pin}" if pin else definition
    return RollPlan(target, model, new_model, edit, outdated)


def _agent_flags(node: dict[str, Any]) -> set[str]:
    """agentState is a flags enum, serialized like "enabled, online"."""
    return {f.strip().lower() for f in str(node.get("agentState") or "").split(",") if f.strip()}


def recyclable(
    nodes: list[dict[str, Any]], instances: Instances, definition: str, version: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(idle agents whose VM was not created from ``version``: to delete, every other node with why
    it stays). Idle means node state idle, agent online and no job; busy agents are never picked."""
    recycle, kept = [], []
    for node in nodes:
        iid = str(node.get("computeId") or "")
        state = str(node.get("state") or "")
        flags = _agent_flags(node)
        entry = {"node": node.get("name"), "instanceId": iid or None, "state": state}
        vm = instances.get(iid)
        if "assigned" in flags or node.get("requestId") or state.lower() == "assigned":
            reason = "running a job"
        elif state.lower() != "idle":
            reason = f"node state {state or 'unknown'}"
        elif not flags & {"online", "idle"}:
            reason = "agent not online"
        elif vm is None:
            reason = "no instance in the scale set"
        elif vm[1] == version and same_id(vm[0], definition):
            reason = f"already runs {version}"
        else:
            recycle.append(entry | {"version": vm[1]})
            continue
        kept.append(entry | {"reason": reason})
    return recycle, kept


def owned_scale_set(arm: Arm, spec: PoolSpec) -> dict[str, Any]:
    rg, name = spec.azure.resourceGroup, spec.scaleSet.name
    ss = arm.get_scale_set(rg, name)
    if ss is None:
        raise NotFound(
            f"scale set {name} does not exist in {rg}",
            hint=f"deploy the pool first: agentctl deploy-pool -f {spec.source}",
        )
    if (ss.get("tags") or {}).get(common.TAG_MANAGED) != common.MANAGED_BY:
        raise PreconditionFailed(f"scale set {name} in {rg} was not created by agentctl; not rolling it")
    return ss


def owned_elastic_pool(dev: DevOps, spec: PoolSpec) -> dict[str, Any]:
    """The elastic pool of the file's agent pool, when its scale set is the file's (its ``poolId`` is
    the agent pool's id; the nodes' computeIds are the scale set's instance ids)."""
    pool = dev.pool_by_name(spec.devops.pool.name)
    elastic = dev.read("elastic.get", {"poolId": pool["id"]}) if pool else None
    if pool is None or elastic is None:
        raise NotFound(
            f"scale-set agent pool {spec.devops.pool.name} does not exist",
            hint=f"deploy the pool first: agentctl deploy-pool -f {spec.source}",
        )
    if not same_id(str(elastic.get("azureId") or ""), desired.scale_set_id(spec)):
        raise PreconditionFailed(
            f"agent pool {spec.devops.pool.name} is backed by {elastic.get('azureId')}, not by scale set "
            f"{spec.scaleSet.name}; leaving it alone"
        )
    return {**elastic, "poolId": int(pool["id"])}


def roll(
    spec: PoolSpec,
    target: Target,
    requested: str | None,
    recycle_idle: bool,
    write: bool,
    confirm: Confirm,
    note: Note,
) -> dict[str, Any]:
    """Point the pool's scale set (or managed pool) at an image version; optionally update pool.yaml
    and recycle idle agents."""
    if spec.managed is not None:
        return _roll_managed(spec, target, requested, recycle_idle, write, confirm, note)
    arms = arms_for(target, [spec])
    arm = arms[spec.azure.subscription.lower()]
    rg, name = spec.azure.resourceGroup, spec.scaleSet.name
    ss = owned_scale_set(arm, spec)
    versions = versions_of(arms[image_parts(spec)["sub"].lower()], spec)
    instances = instances_of(arm, spec)
    the_plan = plan_roll(spec, model_image(ss) or "", versions, instances, requested)
    version = the_plan.target.name
    edited = None
    if write and the_plan.edit:
        with open(spec.source, encoding="utf-8", newline="") as f:
            edited = edited_pool_file(f.read(), spec, version)
    dev = DevOps(target, spec.devops.project) if recycle_idle else None
    pool_id = owned_elastic_pool(dev, spec)["poolId"] if dev else 0

    def idle_agents() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if dev is None:
            return [], []
        nodes = dev.values(dev.read("elastic.nodes", {"poolId": pool_id}))
        return recyclable(nodes, instances_of(arm, spec), spec.image.galleryImageId, version)

    recycle, kept = idle_agents()
    data = _roll_report(spec, the_plan, recycle_idle, recycle, kept)
    if not (the_plan.changed or edited or recycle):
        return data
    if not confirm(data):
        data["cancelled"] = True
        return data
    if the_plan.changed:
        note(f"updating scale set {name}: image {version}")
        patch = {
            "properties": {
                "virtualMachineProfile": {"storageProfile": {"imageReference": {"id": the_plan.new_model}}}
            }
        }
        arm.patch_scale_set(rg, name, patch)
    data["applied"] = True
    if edited is not None:
        write_pool_file(spec.source, edited)
        data["poolFile"]["written"] = True
    if recycle_idle:
        recycle, kept = idle_agents()  # fresh: an agent may have taken a job since the plan
        if recycle:
            note(f"deleting {len(recycle)} idle agent instance(s) of {name}")
            arm.delete_instances(rg, name, [str(r["instanceId"]) for r in recycle])
        data["recycle"] |= {"nodes": recycle, "kept": kept, "done": True}
    return data


def _roll_managed(
    spec: PoolSpec,
    target: Target,
    requested: str | None,
    recycle_idle: bool,
    write: bool,
    confirm: Confirm,
    note: Note,
) -> dict[str, Any]:
    """A managed pool with one gallery image: the pool's reference to it moved (one PATCH)."""
    if recycle_idle:
        managed.refuse_recycle()
    found = managed.views(spec)
    if len(found) != 1:
        raise UsageError(
            f"image roll moves a managed pool with one gallery image; {spec.source} has {len(found)}",
            hint="pin each image's version in managedPool.images, then run deploy-pool",
        )
    view = found[0]
    arms = arms_for(target, [view])
    arm = arms[spec.azure.subscription.lower()]
    used = managed.pool_image(arm, view)
    versions = versions_of(arms[image_parts(view)["sub"].lower()], view)
    the_plan = plan_roll(view, used.model or "", versions, used.instances, requested)
    data = _roll_report(view, the_plan, False, [], [])
    return managed.roll(view, arm, the_plan.new_model, the_plan.target.name, write, confirm, note, data)


def _roll_report(
    spec: PoolSpec,
    the_plan: RollPlan,
    recycle_idle: bool,
    recycle: list[dict[str, Any]],
    kept: list[dict[str, Any]],
) -> dict[str, Any]:
    """What ``roll`` will do (and, as it goes, did): the data of its result."""
    edit = the_plan.edit
    return {
        "file": spec.source,
        "pool": spec.devops.pool.name,
        "backend": spec.backend,
        "scaleSet": spec.scaleSet.name,
        "image": spec.image.galleryImageId,
        "version": the_plan.target.name,
        "model": {"old": the_plan.old_model, "new": the_plan.new_model, "changed": the_plan.changed},
        "poolFile": None
        if edit is None
        else {
            "line": edit.line,
            "old": edit.old,
            "new": edit.new,
            "instruction": edit.instruction(),
            "written": False,
        },
        "outdatedInstances": [{"instanceId": i, "version": v} for i, v in the_plan.outdated.items()],
        "recycle": {"requested": recycle_idle, "nodes": recycle, "kept": kept, "done": False},
        "applied": False,
    }
