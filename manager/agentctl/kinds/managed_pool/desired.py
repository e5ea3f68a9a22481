"""What a managed pool should look like: the ``Microsoft.DevOpsInfrastructure/pools`` body from the
spec, the Dev Center and project agentctl makes, the roles the service principal needs, and the
drift between the body and the pool as the service returns it. Pure functions."""

from __future__ import annotations

import re
from typing import Any

from agentctl import standby
from agentctl.config import PoolSpec, parse_id
from agentctl.config.managed import ManagedPool
from agentctl.kinds.common import resource_group_scope, tags

POOL_TYPE = "Microsoft.DevOpsInfrastructure/pools"
# The service principal Managed DevOps Pools acts as ("DevOpsInfrastructure", one application in
# every tenant). It needs Reader and Network Contributor on the virtual network of an injected subnet
# and Reader on each gallery image: learn.microsoft.com/azure/devops/managed-devops-pools/
# configure-networking ("Add permissions") and configure-images ("Azure Compute Gallery images").
SERVICE_APP_ID = "31687f79-5e43-4c1e-8c63-d9f4bff5cf8b"
# Built-in role ids, the same in every tenant
# (learn.microsoft.com/azure/role-based-access-control/built-in-roles)
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
ROLE_NAMES = {READER: "Reader", NETWORK_CONTRIBUTOR: "Network Contributor"}
# Roles that include what Reader and Network Contributor allow
SUPERSETS = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "b24988ac-6180-42a0-ab88-20f7382dd24c",
}  # Owner, Contributor
TAG_DELEGATED = "agentctl-delegated-subnet"  # on the pool: agentctl delegated its subnet (and takes it back)
# The profiles the service replaces whole on a PATCH (each is polymorphic by its kind)
PROFILES = ("organizationProfile", "agentProfile", "fabricProfile")


def mp(spec: PoolSpec) -> ManagedPool:
    assert spec.managedPool is not None  # the loader requires it with backend managedPool
    return spec.managedPool


def pool_id(spec: PoolSpec) -> str:
    return f"{resource_group_scope(spec)}/providers/{POOL_TYPE}/{spec.devops.pool.name}"


def _slug(name: str, allowed: str) -> str:
    return re.sub(f"[^{allowed}]", "-", name).strip("-")


def dev_center_id(spec: PoolSpec) -> str:
    """The Dev Center agentctl makes when the file names no project: dc-<pool>, 3-26 characters."""
    name = ("dc-" + _slug(spec.devops.pool.name, "a-zA-Z0-9-"))[:26].rstrip("-")
    return f"{resource_group_scope(spec)}/providers/Microsoft.DevCenter/devcenters/{name}"


def project_id(spec: PoolSpec) -> str:
    """The Dev Center project: the file's, or the one agentctl makes (named as the pool)."""
    if mp(spec).devCenterProject:
        return str(mp(spec).devCenterProject)
    name = _slug(spec.devops.pool.name, "a-zA-Z0-9-_.")[:63]
    name = name if len(name) >= 3 else f"{name}-agents"
    return f"{resource_group_scope(spec)}/providers/Microsoft.DevCenter/projects/{name}"


def makes_dev_center(spec: PoolSpec) -> bool:
    return not mp(spec).devCenterProject


def dev_center_body(spec: PoolSpec) -> dict[str, Any]:
    return {"location": spec.azure.location, "tags": tags(spec)}


def project_body(spec: PoolSpec) -> dict[str, Any]:
    return {
        "location": spec.azure.location,
        "tags": tags(spec),
        "properties": {
            "devCenterId": dev_center_id(spec),
            "description": f"Agents of pool {spec.devops.pool.name}",
        },
    }


def image_id(image: Any) -> str:
    """A gallery image's resource id as the pool takes it (a pinned version: the version's id)."""
    base = str(image.galleryImageId)
    return f"{base}/versions/{image.version}" if image.version else base


def _images(spec: PoolSpec) -> list[dict[str, Any]]:
    out = []
    for image in mp(spec).images:
        item: dict[str, Any] = (
            {"resourceId": image_id(image)}
            if image.galleryImageId
            else {"wellKnownImageName": image.wellKnownImageName}
        )
        if image.aliases:
            item["aliases"] = list(image.aliases)
        item["buffer"] = image.buffer
        out.append(item)
    return out


def agent_profile(spec: PoolSpec) -> dict[str, Any]:
    """Stateless or stateful, and standby: automatic with its preference, else the file's count or
    schedule as manual resource predictions."""
    profile = mp(spec).agentProfile
    out: dict[str, Any] = {"kind": profile.kind.capitalize()}
    if profile.kind == "stateful":
        if profile.maxAgentLifetime:
            out["maxAgentLifetime"] = profile.maxAgentLifetime
        if profile.gracePeriodTimeSpan:
            out["gracePeriodTimeSpan"] = profile.gracePeriodTimeSpan
    wanted = spec.devops.pool.standby
    automatic = getattr(wanted, "automatic", None)
    if automatic:
        out["resourcePredictionsProfile"] = {"kind": "Automatic", "predictionPreference": automatic}
    else:
        out["resourcePredictionsProfile"] = {"kind": "Manual"}
        out["resourcePredictions"] = standby.resource_predictions(spec.standby_week())
    return out


def _fabric(spec: PoolSpec) -> dict[str, Any]:
    m = mp(spec)
    storage: dict[str, Any] = {"osDiskStorageAccountType": m.osDiskType}
    if m.dataDisks:
        storage["dataDisks"] = [
            {
                "diskSizeGiB": d.diskSizeGiB,
                "storageAccountType": d.storageAccountType,
                "caching": d.caching,
                **({"driveLetter": d.driveLetter} if d.driveLetter else {}),
            }
            for d in m.dataDisks
        ]
    return {
        "kind": "Vmss",
        "sku": {"name": m.sku},
        "images": _images(spec),
        "storageProfile": storage,
        "networkProfile": {"subnetId": spec.network.subnetId},
    }


def _organization(spec: PoolSpec) -> dict[str, Any]:
    perm = mp(spec).permissions
    permission: dict[str, Any] = {"kind": perm.kind[0].upper() + perm.kind[1:]}
    if perm.kind == "specificAccounts":
        permission |= {"users": list(perm.users), "groups": list(perm.groups)}
    url = spec.devops.organization.rstrip("/")
    return {
        "kind": "AzureDevOps",
        "organizations": [{"url": url, "projects": [spec.devops.project]}],
        "permissionProfile": permission,
    }


def pool_body(spec: PoolSpec, delegated: bool) -> dict[str, Any]:
    """The PUT body; ``delegated``: agentctl delegated the subnet (the pool's tag says so)."""
    body: dict[str, Any] = {
        "location": spec.azure.location,
        "tags": {**tags(spec), **({TAG_DELEGATED: "true"} if delegated else {})},
        "properties": {
            "maximumConcurrency": mp(spec).maximumConcurrency,
            "devCenterProjectResourceId": project_id(spec),
            "organizationProfile": _organization(spec),
            "agentProfile": agent_profile(spec),
            "fabricProfile": _fabric(spec),
        },
    }
    if mp(spec).identity is not None:
        body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {agents_identity(spec): {}}}
    return body


def agents_identity(spec: PoolSpec) -> str:
    identity = mp(spec).identity
    return identity.userAssigned if identity is not None else ""


def _same(want: Any, have: Any) -> bool:
    """``have`` (as the service returns it, with its defaults) holds what ``want`` says."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_same(v, _get(have, k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(map(_same, want, have))
    if isinstance(want, str) and isinstance(have, str) and want.startswith("/subscriptions/"):
        return want.lower() == have.lower()  # resource ids ignore case
    return bool(want == have)


def _get(doc: dict[str, Any], key: str) -> Any:
    return next((v for k, v in doc.items() if k.lower() == key.lower()), None)


def drift(
    spec: PoolSpec, observed: dict[str, Any], delegated: bool
) -> tuple[list[tuple[str, Any, Any]], dict[str, Any]]:
    """What differs, as (field, old, new), and the PATCH body of the changed fields only (a profile
    whole: the service replaces a profile by its kind)."""
    want = pool_body(spec, delegated)
    props, have = want["properties"], observed.get("properties") or {}
    changed: list[tuple[str, Any, Any]] = []
    patch: dict[str, Any] = {}
    for key, value in props.items():
        if not _same(value, _get(have, key)):
            changed.append((key, _shown(key, _get(have, key)), _shown(key, value)))
            patch.setdefault("properties", {})[key] = value
    if not _same(want["tags"], observed.get("tags") or {}):
        changed.append(("tags", observed.get("tags"), want["tags"]))
        patch["tags"] = want["tags"]
    ids = set((observed.get("identity") or {}).get("userAssignedIdentities") or {})
    wanted_ids = set((want.get("identity") or {}).get("userAssignedIdentities") or {})
    if {i.lower() for i in ids} != {i.lower() for i in wanted_ids}:
        changed.append(("identity", sorted(ids), sorted(wanted_ids)))
        patch["identity"] = want.get("identity") or {"type": "None"}
    return changed, patch


def _shown(key: str, value: Any) -> Any:
    """A field's value for a plan: the standby part of the agent profile, else the value."""
    if key == "agentProfile" and isinstance(value, dict):
        keep = (
            "kind",
            "maxAgentLifetime",
            "gracePeriodTimeSpan",
            "resourcePredictionsProfile",
            "resourcePredictions",
        )
        return {k: value[k] for k in keep if k in value}
    return value


def vnet_id(spec: PoolSpec) -> str:
    return spec.network.subnetId.rsplit("/subnets/", 1)[0]


def service_roles(spec: PoolSpec) -> list[tuple[str, str]]:
    """(scope, role id) the DevOpsInfrastructure service principal must hold."""
    wanted = [(vnet_id(spec), READER), (vnet_id(spec), NETWORK_CONTRIBUTOR)]
    for image in mp(spec).images:
        if image.galleryImageId and parse_id("galleryImage", image.galleryImageId):
            wanted.append((image.galleryImageId, READER))
    return list(dict.fromkeys(wanted))
