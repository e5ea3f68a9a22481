"""The managed pool's facts: the pool, its Dev Center project, the subnet and the service
principal's roles, the resource providers and the quota, and the Azure DevOps pool and queue the
service makes. Read-only.

With another backend selected, only what an earlier managed pool of this file left is read (the
pool, and the Dev Center agentctl made for it), for its removal.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agentctl.azure.managed import DEVCENTER_API, NETWORK_API, POOLS_API
from agentctl.config import PoolSpec, parse_id
from agentctl.errors import NotFound, Problem
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.common import identity_parts, resource_group_scope
from agentctl.kinds.managed_pool import desired
from agentctl.versions import version_key

log = logging.getLogger(__name__)
NAME = "managedPool"
PROVIDERS = ("Microsoft.DevOpsInfrastructure", "Microsoft.DevCenter")


@dataclass
class ManagedFacts:
    pool: dict[str, Any] | None = None
    dev_center: dict[str, Any] | None = None
    project: dict[str, Any] | None = None  # the Dev Center project
    resource_group: dict[str, Any] | None = None
    subnet: dict[str, Any] | None = None
    # the service principal's role assignments at (or above) each scope it needs a role on
    service_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)  # namespace -> registrationState
    usage: dict[str, Any] | None = None  # the sku family's quota: currentValue, limit
    sku_cores: int = 0
    image_versions: dict[str, list[str]] = field(default_factory=dict)  # gallery image id -> versions
    # the caller's effective permissions where agentctl would fix a prerequisite (the VNet, the images)
    caller_permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    agent_pool: dict[str, Any] | None = None
    queue: dict[str, Any] | None = None
    queue_permissions: dict[str, Any] = field(default_factory=dict)


def of(facts: Facts) -> ManagedFacts:
    found: ManagedFacts | None = facts.kinds.get(NAME)
    return found if found is not None else ManagedFacts()


def owned(resource: dict[str, Any] | None, spec: PoolSpec) -> bool:
    from agentctl.kinds.common import MANAGED_BY, TAG_MANAGED, TAG_POOL

    tags = (resource or {}).get("tags") or {}
    return tags.get(TAG_MANAGED) == MANAGED_BY and tags.get(TAG_POOL) == spec.devops.pool.name


def _leftovers(spec: PoolSpec, clients: Clients) -> ManagedFacts:
    """Another backend is selected: this file's managed pool and the Dev Center agentctl made for it."""
    mine = ManagedFacts(pool=clients.arm.managed.get_pool(spec.azure.resourceGroup, spec.devops.pool.name))
    if not owned(mine.pool, spec):
        return ManagedFacts()
    project = str(((mine.pool or {}).get("properties") or {}).get("devCenterProjectResourceId") or "")
    mine.project = clients.arm.managed.get(project, DEVCENTER_API) if project else None
    center = str(((mine.project or {}).get("properties") or {}).get("devCenterId") or "")
    mine.dev_center = clients.arm.managed.get(center, DEVCENTER_API) if center else None
    subnet = str(desired_subnet(mine.pool))
    mine.subnet = clients.arm.managed.get(subnet, NETWORK_API) if subnet else None
    sp = spec.managedPool.servicePrincipalObjectId if spec.managedPool is not None else None
    if sp:  # the file still names the pool's service principal: the roles agentctl gave it
        scopes = dict.fromkeys(scope for scope, _ in desired.service_roles(spec))
        mine.service_roles = {s: clients.arm.list_role_assignments(s, sp) for s in scopes}
    return mine


def desired_subnet(pool: dict[str, Any] | None) -> str:
    props = (pool or {}).get("properties") or {}
    return str(((props.get("fabricProfile") or {}).get("networkProfile") or {}).get("subnetId") or "")


def _reads(spec: PoolSpec, clients: Clients, sp: str) -> dict[str, Any]:
    arm, managed, dev = clients.arm, clients.arm.managed, clients.devops
    identity = desired.agents_identity(spec)
    galleries = {
        i.galleryImageId: parse_id("galleryImage", str(i.galleryImageId)) for i in desired.mp(spec).images
    }
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="observe") as pool:
        jobs: dict[str, Any] = {
            "pool": pool.submit(managed.get_pool, spec.azure.resourceGroup, spec.devops.pool.name),
            "resource_group": pool.submit(arm.get_resource_group, spec.azure.resourceGroup),
            "project": pool.submit(managed.get, desired.project_id(spec), DEVCENTER_API),
            "dev_center": pool.submit(managed.get, desired.dev_center_id(spec), DEVCENTER_API)
            if desired.makes_dev_center(spec)
            else None,
            "subnet": pool.submit(managed.get, spec.network.subnetId, NETWORK_API),
            "identity": pool.submit(arm.get_identity, *identity_parts(identity)) if identity else None,
            "devops_project": pool.submit(lambda: dev.project),
            "usages": pool.submit(managed.usages, spec.azure.location),
            "skus": pool.submit(managed.skus, spec.azure.location),
            **{f"provider:{ns}": pool.submit(arm.get_provider, ns) for ns in PROVIDERS},
            **{
                f"versions:{gid}": pool.submit(arm.list_image_versions, p["rg"], p["gallery"], p["name"])
                for gid, p in galleries.items()
                if gid and p
            },
            **{
                f"roles:{scope}": pool.submit(arm.list_role_assignments, scope, sp)
                for scope in dict.fromkeys(s for s, _ in desired.service_roles(spec))
                if sp
            },
            **{
                f"permissions:{scope}": pool.submit(arm.list_permissions, scope)
                for scope in dict.fromkeys(
                    [desired.vnet_id(spec), *(s for s, _ in desired.service_roles(spec) if sp)]
                )
            },
        }
        return {k: _answer(job) for k, job in jobs.items()}


def _answer(job: Any) -> Any:
    """A read's answer; what does not exist is None (the checks after name it)."""
    try:
        return job.result() if job is not None else None
    except NotFound:
        return None


def _check_references(spec: PoolSpec, got: dict[str, Any]) -> None:
    missing: list[Problem] = []

    def lacks(path: str, message: str) -> None:
        missing.append(Problem(message, path, spec.line(path), spec.source))

    if got["subnet"] is None:
        lacks("network.subnetId", f"subnet {spec.network.subnetId.rsplit('/', 1)[-1]} does not exist")
    if not desired.makes_dev_center(spec) and got["project"] is None:
        lacks("managedPool.devCenterProject", "this Dev Center project does not exist")
    if desired.agents_identity(spec) and got["identity"] is None:
        lacks("managedPool.identity.userAssigned", "this identity does not exist")
    for i, image in enumerate(desired.mp(spec).images):
        versions = got.get(f"versions:{image.galleryImageId}")
        if image.galleryImageId and versions is None:
            lacks(f"managedPool.images[{i}].galleryImageId", "this gallery image does not exist")
        elif image.version and image.version not in [v["name"] for v in versions or []]:
            lacks(f"managedPool.images[{i}].version", f"version {image.version} does not exist")
    if got["devops_project"] is None:
        lacks("devops.project", f"project {spec.devops.project} does not exist in {spec.devops.organization}")
    if missing:
        raise NotFound(
            f"{spec.source or 'the pool file'} names what does not exist",
            hint="fix the ids in the pool file, or create what they name first (not agentctl's to make)",
            problems=missing,
        )


def _quota(
    spec: PoolSpec, mine: ManagedFacts, skus: list[dict[str, Any]], usages: list[dict[str, Any]]
) -> None:
    sku = next((s for s in skus if str(s.get("name", "")).lower() == desired.mp(spec).sku.lower()), None)
    if sku is None:
        return
    props = sku.get("properties") or {}
    cores = next((c.get("value") for c in props.get("capabilities") or [] if c.get("name") == "vCPUs"), 0)
    mine.sku_cores = int(cores or 0)
    family = str(props.get("family") or "")
    mine.usage = next((u for u in usages if (u.get("name") or {}).get("value") == family), None)


def observe(spec: PoolSpec, clients: Clients, facts: Facts) -> ManagedFacts:
    if spec.managed is None:
        return _leftovers(spec, clients)
    sp = desired.mp(spec).servicePrincipalObjectId or ""
    got = _reads(spec, clients, sp)
    _check_references(spec, got)
    facts.project, facts.identity = got["devops_project"] or {}, got["identity"]
    mine = ManagedFacts(
        pool=got["pool"],
        dev_center=got["dev_center"],
        project=got["project"],
        resource_group=got["resource_group"],
        subnet=got["subnet"],
        providers={ns: str((got[f"provider:{ns}"] or {}).get("registrationState") or "") for ns in PROVIDERS},
        service_roles={k.split(":", 1)[1]: v for k, v in got.items() if k.startswith("roles:")},
        caller_permissions={
            k.split(":", 1)[1]: v for k, v in got.items() if k.startswith("permissions:") and v is not None
        },
        image_versions={
            k.split(":", 1)[1]: sorted((v["name"] for v in vs or []), key=version_key)
            for k, vs in got.items()
            if k.startswith("versions:")
        },
    )
    _quota(spec, mine, got["skus"] or [], got["usages"] or [])
    _devops_side(spec, clients, facts, mine)
    return mine


def _devops_side(spec: PoolSpec, clients: Clients, facts: Facts, mine: ManagedFacts) -> None:
    """The Azure DevOps pool and queue (the service's), the queue's permissions, the agents' roles."""
    dev, arm = clients.devops, clients.arm
    mine.agent_pool = dev.pool_by_name(spec.devops.pool.name)
    mine.queue = dev.queue_by_name(spec.devops.pool.name)
    if mine.queue is not None:
        mine.queue_permissions = dev.permissions("queue", mine.queue["id"])
    if facts.principal_id:
        scope = f"/subscriptions/{spec.azure.subscription}"
        facts.role_assignments = arm.list_role_assignments(scope, facts.principal_id)


def settle(spec: PoolSpec, clients: Clients, facts: Facts) -> None:
    """Before a write: wait until an operation an interrupted run left on the pool has ended (the
    service makes the Azure DevOps pool and queue when a create ends)."""
    mine = of(facts)
    state = ((mine.pool or {}).get("properties") or {}).get("provisioningState")
    if mine.pool is None or state in ("Succeeded", "Failed", "Canceled"):
        return
    mine.pool = clients.arm.managed.settled(str(mine.pool["id"]), POOLS_API)
    if spec.managed is not None:
        _devops_side(spec, clients, facts, mine)


__all__ = ["NAME", "ManagedFacts", "observe", "of", "owned", "resource_group_scope", "settle"]
