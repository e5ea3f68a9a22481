"""What each of the scale-set pool's resources should look like, as the REST JSON we send: pure
functions of the spec. Both the planner (to diff) and the handlers (to send) build payloads here,
so what ``plan`` shows is what ``deploy-pool`` writes.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agentctl import standby
from agentctl.config import PoolSpec
from agentctl.kinds.common import get_in, marker, resource_group_scope, set_in, tags


def scale_set_id(spec: PoolSpec) -> str:
    return (
        f"/subscriptions/{spec.azure.subscription}/resourceGroups/{spec.azure.resourceGroup}"
        f"/providers/Microsoft.Compute/virtualMachineScaleSets/{spec.scaleSet.name}"
    )


def image_reference(spec: PoolSpec) -> str:
    base = spec.image.galleryImageId
    return f"{base}/versions/{spec.image.version}" if spec.image.version else base


def computer_name_prefix(spec: PoolSpec) -> str:
    return re.sub(r"[^a-zA-Z0-9-]", "", spec.scaleSet.name)[:15].rstrip("-") or "agent"


def scale_set_body(spec: PoolSpec, ssh_public_key: str) -> dict[str, Any]:
    """The full scale set for a scale-set agent pool (design: Uniform, Manual, no LB, no public IP).

    Longer than the usual function on purpose: it is one literal body, read against the REST
    reference as a whole."""
    ss = spec.scaleSet
    os_disk: dict[str, Any] = {
        "createOption": "FromImage",
        "diskSizeGB": ss.osDisk.sizeGb,
        "osType": "Linux",
    }
    if ss.osDisk.ephemeral:
        os_disk |= {"caching": "ReadOnly", "diffDiskSettings": {"option": "Local"}}
    else:
        os_disk |= {"caching": "ReadWrite", "managedDisk": {"storageAccountType": "Premium_LRS"}}
    body: dict[str, Any] = {
        "location": spec.azure.location,
        "tags": {**ss.tags, **tags(spec)},
        "sku": {"name": ss.sku, "tier": "Standard", "capacity": 0},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {ss.identity.userAssigned: {}}},
        "properties": {
            "orchestrationMode": "Uniform",
            "overprovision": False,
            "singlePlacementGroup": False,
            "platformFaultDomainCount": 1,
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {
                "osProfile": {
                    "computerNamePrefix": computer_name_prefix(spec),
                    "adminUsername": ss.adminUsername,
                    "linuxConfiguration": {
                        "disablePasswordAuthentication": True,
                        "provisionVMAgent": True,
                        "ssh": {
                            "publicKeys": [
                                {
                                    "path": f"/home/{ss.adminUsername}/.ssh/authorized_keys",
                                    "keyData": ssh_public_key,
                                }
                            ]
                        },
                    },
                },
                "storageProfile": {"imageReference": {"id": image_reference(spec)}, "osDisk": os_disk},
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": "nic",
                            "properties": {
                                "primary": True,
                                "ipConfigurations": [
                                    {
                                        "name": "ipconfig",
                                        "properties": {"subnet": {"id": spec.network.subnetId}},
                                    }
                                ],
                            },
                        }
                    ]
                },
            },
        },
    }
    if ss.zones:
        body["zones"] = list(ss.zones)
    return body


def ssh_keys(observed: dict[str, Any]) -> str:
    """The SSH public key in a scale set's model (kept when the model is PUT again)."""
    keys = get_in(
        observed,
        "properties",
        "virtualMachineProfile",
        "osProfile",
        "linuxConfiguration",
        "ssh",
        "publicKeys",
    )
    return str((keys or [{}])[0].get("keyData") or "")


def keep_extensions(body: dict[str, Any], observed: dict[str, Any]) -> None:
    """Carry the scale set's extensions into a full model PUT: a PUT without them would remove
    them, and Azure DevOps adds its agent extension to the scale set of an elastic pool."""
    profile = get_in(observed, "properties", "virtualMachineProfile", "extensionProfile")
    if profile:
        body["properties"]["virtualMachineProfile"]["extensionProfile"] = profile


def scale_set_drift(
    spec: PoolSpec, observed: dict[str, Any]
) -> tuple[list[tuple[str, Any, Any]], dict[str, Any]]:
    """Fields that differ from the spec, and the PATCH body that fixes them.

    Capacity is Azure DevOps's to manage and never compared. Tags are merged: tags set by others
    (a policy, say) stay. Fields Azure cannot change on an existing scale set are in
    ``scale_set_fixed_drift``.
    """
    want = scale_set_body(spec, "")
    changes: list[tuple[str, Any, Any]] = []
    patch: dict[str, Any] = {}
    vmp = ("properties", "virtualMachineProfile")
    mutable: list[tuple[str, tuple[str | int, ...]]] = [
        ("sku.name", ("sku", "name")),
        ("image", (*vmp, "storageProfile", "imageReference", "id")),
    ]
    for label, path in mutable:
        old, new = get_in(observed, *path), get_in(want, *path)
        if str(old or "").lower() != str(new).lower():
            changes.append((label, old, new))
            set_in(patch, path, new)
    observed_tags = observed.get("tags") or {}
    if any(observed_tags.get(k) != v for k, v in want["tags"].items()):
        changes.append(("tags", observed_tags, {**observed_tags, **want["tags"]}))
        patch["tags"] = {**observed_tags, **want["tags"]}
    wanted_identity = spec.scaleSet.identity.userAssigned
    attached = list(get_in(observed, "identity", "userAssignedIdentities") or {})
    # The pool-management identity never stays on a VM: any job there could use it.
    manager = [i for i in attached if i.lower() == pool_identity_id(spec).lower()]
    if wanted_identity.lower() not in {i.lower() for i in attached}:
        # The file's identity replaces the one it named before. A PATCH merges identities, so those
        # to take off are sent as null. (One added by hand next to the file's is left alone.)
        manager = [i for i in attached if i.lower() != wanted_identity.lower()]
    if manager or wanted_identity.lower() not in {i.lower() for i in attached}:
        kept = [i for i in attached if i not in manager and i.lower() != wanted_identity.lower()]
        changes.append(("identity", attached, [wanted_identity, *kept]))
        gone = {i: None for i in manager}
        patch["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {wanted_identity: {}, **gone}}
    subnet_path = (
        *vmp,
        "networkProfile",
        "networkInterfaceConfigurations",
        0,
        "properties",
        "ipConfigurations",
        0,
    )
    old_subnet = get_in(observed, *subnet_path, "properties", "subnet", "id")
    if str(old_subnet or "").lower() != spec.network.subnetId.lower():
        changes.append(("subnet", old_subnet, spec.network.subnetId))
        set_in(patch, (*vmp, "networkProfile"), want["properties"]["virtualMachineProfile"]["networkProfile"])
    old_size = get_in(observed, *vmp, "storageProfile", "osDisk", "diskSizeGB")
    if old_size != spec.scaleSet.osDisk.sizeGb:
        changes.append(("osDisk.sizeGb", old_size, spec.scaleSet.osDisk.sizeGb))
        set_in(patch, (*vmp, "storageProfile", "osDisk", "diskSizeGB"), spec.scaleSet.osDisk.sizeGb)
    return changes, patch


def scale_set_fixed_drift(spec: PoolSpec, observed: dict[str, Any]) -> list[str]:
    """Differences in what Azure cannot change on an existing scale set, as warnings: the admin
    user, an ephemeral OS disk, the zones. (The SSH key is not compared: Azure never returns a
    throwaway key's private half, and a new key is only for new scale sets.)"""
    vmp = ("properties", "virtualMachineProfile")
    ephemeral = get_in(observed, *vmp, "storageProfile", "osDisk", "diffDiskSettings", "option") == "Local"
    fixed = [
        (
            "scaleSet.adminUsername",
            get_in(observed, *vmp, "osProfile", "adminUsername"),
            spec.scaleSet.adminUsername,
        ),
        ("scaleSet.osDisk.ephemeral", ephemeral, spec.scaleSet.osDisk.ephemeral),
        ("scaleSet.zones", sorted(observed.get("zones") or []), sorted(spec.scaleSet.zones)),
    ]
    return [
        f"{label} is {old!r} on the scale set and {new!r} in the file: Azure cannot change it on an "
        "existing scale set; destroy the pool and deploy it again to apply it"
        for label, old, new in fixed
        if old != new
    ]


def connection_body(
    spec: PoolSpec, project: dict[str, Any], tenant_id: str, client_id: str, environment: str, arm_url: str
) -> dict[str, Any]:
    """An Azure Resource Manager service connection with workload identity federation, made manually."""
    name = spec.devops.azureConnection.name
    return {
        "name": name,
        "type": "AzureRM",
        "url": arm_url,
        "description": marker(spec),
        "authorization": {
            "scheme": "WorkloadIdentityFederation",
            "parameters": {"tenantid": tenant_id, "serviceprincipalid": client_id},
        },
        "data": {
            "environment": environment,
            "scopeLevel": "Subscription",
            "subscriptionId": spec.azure.subscription,
            "subscriptionName": spec.azure.subscription,
            "creationMode": "Manual",
            "identityType": "ManagedIdentity",
        },
        "isShared": False,
        "owner": "library",
        "serviceEndpointProjectReferences": [
            {
                "projectReference": {"id": project["id"], "name": project["name"]},
                "name": name,
                "description": marker(spec),
            }
        ],
    }


def connection_drift(want: dict[str, Any], observed: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    changes = []
    for label, path in [
        ("authorization.serviceprincipalid", ("authorization", "parameters", "serviceprincipalid")),
        ("authorization.tenantid", ("authorization", "parameters", "tenantid")),
        ("data.subscriptionId", ("data", "subscriptionId")),
        ("authorization.scheme", ("authorization", "scheme")),
    ]:
        old, new = get_in(observed, *path), get_in(want, *path)
        if str(old or "").lower() != str(new or "").lower():
            changes.append((label, old, new))
    return changes


def elastic_settings(spec: PoolSpec, at: datetime) -> dict[str, Any]:
    """The elastic pool's settings at the instant ``at``: ``desiredIdle`` is the standby count in force."""
    p = spec.devops.pool
    return {
        "maxCapacity": p.maxCapacity,
        "desiredIdle": standby.count_at(spec.standby_week(), at),
        "recycleAfterEachUse": p.recycleAfterEachUse,
        "timeToLiveMinutes": p.timeToLiveMinutes,
        "maxSavedNodeCount": p.maxSavedNodeCount,
        "agentInteractiveUI": p.agentInteractiveUI,
        "osType": "linux",
    }


def elastic_pool_body(spec: PoolSpec, endpoint_id: str, project_id: str, at: datetime) -> dict[str, Any]:
    return {
        "azureId": scale_set_id(spec),
        "serviceEndpointId": endpoint_id,
        "serviceEndpointScope": project_id,
        "orchestrationType": "uniform",
        **elastic_settings(spec, at),
    }


def elastic_drift(
    spec: PoolSpec, observed: dict[str, Any], connection: dict[str, Any] | None, at: datetime
) -> list[tuple[str, Any, Any]]:
    """Settings that differ, and the service connection when the pool uses another one
    (``connection``: the one the file names, None while it is still to be made)."""
    want = elastic_settings(spec, at)
    drift = [
        (k, observed.get(k), v) for k, v in want.items() if str(observed.get(k)).lower() != str(v).lower()
    ]
    used = str(observed.get("serviceEndpointId") or "")
    if connection is None or used.lower() != str(connection.get("id") or "").lower():
        drift.append(("serviceConnection", used, spec.devops.azureConnection.name))
    return drift


def pool_identity_managed(spec: PoolSpec) -> bool:
    """agentctl makes (and removes) the pool-management identity unless the file names one, or the
    connection is not agentctl's."""
    conn = spec.devops.azureConnection
    return not conn.identity and not conn.existing


def pool_identity_id(spec: PoolSpec) -> str:
    """The pool-management identity: the file's, or the one agentctl makes next to the scale set."""
    if spec.devops.azureConnection.identity:
        return spec.devops.azureConnection.identity
    name = re.sub(r"[^-\w]", "-", spec.scaleSet.name)[:123] + "-pool"
    return f"{resource_group_scope(spec)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


def identity_body(spec: PoolSpec) -> dict[str, Any]:
    return {"location": spec.azure.location, "tags": tags(spec)}


POOL_ACTIONS = (
    "Microsoft.Compute/virtualMachineScaleSets/read",
    "Microsoft.Compute/virtualMachineScaleSets/write",
    "Microsoft.Compute/virtualMachineScaleSets/delete/action",
    "Microsoft.Compute/virtualMachineScaleSets/reimage/action",
    "Microsoft.Compute/virtualMachineScaleSets/extensions/write",
    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
)


def _allows(patterns: list[str], action: str) -> bool:
    rx = [re.escape(p).replace("\\*", ".*") for p in patterns]
    return any(re.fullmatch(r, action, flags=re.IGNORECASE) for r in rx)


def missing_actions(definitions: list[dict[str, Any]]) -> list[str]:
    """The actions of ``POOL_ACTIONS`` that none of these role definitions grants."""
    granted = []
    for d in definitions:
        for perm in (d.get("properties") or {}).get("permissions") or []:
            granted.append((perm.get("actions") or [], perm.get("notActions") or []))
    return [
        action
        for action in POOL_ACTIONS
        if not any(_allows(yes, action) and not _allows(no, action) for yes, no in granted)
    ]
