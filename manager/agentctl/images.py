"""The image lifecycle: gallery versions and which pools use them (list), moving a pool onto a
version (roll), and deleting the versions beyond the newest N that no pool uses (prune).

``observe`` only reads. ``plan_roll``, ``recyclable``, ``plan_prune`` and ``edited_pool_file``
are pure and table-tested. ``roll`` and ``prune`` are the only code here that writes: one PATCH
of the scale set's image reference, one delete of idle agents' instances, image version deletes,
and (on request) pool.yaml's ``image.version`` line.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentctl import config
from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.devops import DevOps
from agentctl.errors import AgentctlError, InvalidInput, NotFound, PreconditionFailed, Problem, UsageError
from agentctl.kinds import common
from agentctl.kinds.common import version_key
from agentctl.kinds.pool import desired

log = logging.getLogger(__name__)

SUCCEEDED, FAILED = "Succeeded", "Failed"
WORKERS = 4
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


def _dig(doc: Any, *keys: str) -> Any:
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _text(value: Any) -> str | None:
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
            published=_text(pub.get("publishedDate")),
            exclude_from_latest=bool(pub.get("excludeFromLatest")),
            end_of_life=_text(pub.get("endOfLifeDate")),
            replication=_text(_dig(props, "replicationStatus", "aggregatedState")),
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
    source: str  # "scale set" (its model), "pool.yaml", or "instances" (VMs created from it)
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
        for source, ref in (("scale set", p.model), ("pool.yaml", desired.image_reference(p.spec))):
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


# --- reading ---------------------------------------------------------------------------------


def load_pools(paths: list[str]) -> list[PoolSpec]:
    """Load pool files that are read through one Azure sign-in."""
    specs = [config.load(p) for p in paths]
    kinds = {(s.azure.cloud, s.azure.credential) for s in specs}
    if len(kinds) > 1:
        raise UsageError(
            "the pool files use different Azure clouds or credentials (azure.cloud, azure.credential)",
            hint="run the command once per cloud",
        )
    return specs


def _image_parts(spec: PoolSpec) -> dict[str, str]:
    parts = config.parse_id("galleryImage", spec.image.galleryImageId)
    assert parts is not None  # validated by config
    return parts


def _arms(target: Target, specs: list[PoolSpec]) -> dict[str, Arm]:
    subs = {s.azure.subscription for s in specs} | {_image_parts(s)["sub"] for s in specs}
    return {sub.lower(): Arm(target, sub) for sub in subs}


def model_image(scale_set: dict[str, Any]) -> str | None:
    ref = _dig(scale_set, "properties", "virtualMachineProfile", "storageProfile", "imageReference", "id")
    return _text(ref)


def _instances(arm: Arm, spec: PoolSpec) -> Instances:
    out: Instances = {}
    for vm in arm.list_instances(spec.azure.resourceGroup, spec.scaleSet.name):
        ref = _dig(vm, "properties", "storageProfile", "imageReference") or {}
        definition, version = split_reference(str(ref.get("id") or ""))
        out[str(vm.get("instanceId"))] = (definition, _text(ref.get("exactVersion")) or version)
    return out


def _pool_image(arm: Arm, spec: PoolSpec) -> PoolImage:
    ss = arm.get_scale_set(spec.azure.resourceGroup, spec.scaleSet.name)
    if ss is None:
        return PoolImage(spec)
    return PoolImage(spec, model_image(ss), _instances(arm, spec))


def _versions(arm: Arm, spec: PoolSpec) -> list[Version]:
    p = _image_parts(spec)
    try:
        docs = arm.list_image_versions(p["rg"], p["gallery"], p["name"])
    except NotFound as e:
        where = f"{spec.source}:{spec.line('image.galleryImageId')}"
        raise NotFound(f"{where}: image.galleryImageId: {e.message}") from None
    return sorted((Version.of(d) for d in docs), key=lambda v: version_key(v.name))


def _with_replication(arm: Arm, spec: PoolSpec, version: Version) -> Version:
    p = _image_parts(spec)
    doc = arm.get_image_version(p["rg"], p["gallery"], p["name"], version.name)
    return Version.of(doc) if doc else version


def observe(
    specs: list[PoolSpec], target: Target, replication: bool = False
) -> tuple[list[PoolImage], list[ImageDefinition]]:
    """The pools' scale sets and instances, and the versions of every image definition they name."""
    arms = _arms(target, specs)
    firsts: dict[str, PoolSpec] = {}
    for s in specs:
        firsts.setdefault(s.image.galleryImageId.lower(), s)
    owners = list(firsts.values())

    def image_arm(s: PoolSpec) -> Arm:
        return arms[_image_parts(s)["sub"].lower()]

    # Reads run one after another: concurrent first use of the SDK clients can deadlock on imports.
    pools = [_pool_image(arms[s.azure.subscription.lower()], s) for s in specs]
    listed = [_versions(image_arm(s), s) for s in owners]
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


# --- roll ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolFileEdit:
    """What pool.yaml must say so that the next deploy-pool keeps the rolled version."""

    file: str
    line: int | None
    old: str | None  # the pinned version; None: the file does not pin one
    new: str

    def instruction(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.old:
            return f"{where}: change image.version from {self.old} to {self.new}"
        return f"{where}: add `version: {self.new}` under image, next to galleryImageId"


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


def edited_pool_file(text: str, spec: PoolSpec, version: str) -> str:
    """pool.yaml with image.version set to ``version``: one line changed (or added), comments and
    layout kept. Refuses when the result would not load as the same pool with that version."""
    old = spec.image.version
    edit = PoolFileEdit(spec.source, None, old, version)
    lines = text.splitlines(keepends=True)
    index = (spec.line("image.version" if old else "image.galleryImageId") or 0) - 1
    current = lines[index] if 0 <= index < len(lines) else ""
    if old:
        pattern = re.compile(rf"(\bversion\s*:\s*)([\"']?){re.escape(old)}\2")
        updated, count = pattern.subn(lambda m: f"{m[1]}{m[2]}{version}{m[2]}", current, count=1)
    else:
        m = re.match(r"([ \t]+)galleryImageId[ \t]*:", current)
        count = 1 if m else 0
        eol = "\r\n" if current.endswith("\r\n") else "\n"
        updated = current.rstrip("\r\n") + eol + (f"{m[1]}version: {version}{eol}" if m else "")
    result = "".join([*lines[:index], updated, *lines[index + 1 :]]) if count else text
    want = dataclasses.replace(spec, image=dataclasses.replace(spec.image, version=version))
    try:
        ok = count == 1 and config.loads(result, spec.source) == want
    except InvalidInput:
        ok = False
    if not ok:
        raise InvalidInput(
            f"{spec.source}: cannot set image.version in place",
            problems=[
                Problem("edit it by hand", "image.version", index + 1 if index >= 0 else None, spec.source)
            ],
            hint=edit.instruction(),
        )
    return result


def write_pool_file(path: str, text: str) -> None:
    """Replace the file atomically, keeping its permissions."""
    real = Path(path).resolve()
    mode = real.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def _owned_scale_set(arm: Arm, spec: PoolSpec) -> dict[str, Any]:
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
    """Point the pool's scale set at an image version; optionally update pool.yaml and recycle idle agents."""
    arms = _arms(target, [spec])
    arm = arms[spec.azure.subscription.lower()]
    rg, name = spec.azure.resourceGroup, spec.scaleSet.name
    ss = _owned_scale_set(arm, spec)
    versions = _versions(arms[_image_parts(spec)["sub"].lower()], spec)
    instances = _instances(arm, spec)
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
        return recyclable(nodes, _instances(arm, spec), spec.image.galleryImageId, version)

    recycle, kept = idle_agents()
    edit = the_plan.edit
    data: dict[str, Any] = {
        "file": spec.source,
        "pool": spec.devops.pool.name,
        "scaleSet": name,
        "image": spec.image.galleryImageId,
        "version": version,
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


# --- prune -----------------------------------------------------------------------------------


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
    arms = _arms(target, specs)

    for d, version in doomed:  # one at a time; a failure does not stop the others
        p = _image_parts(owners[d.id.lower()])
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
