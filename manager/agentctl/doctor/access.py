"""Permissions, checked without writing: the caller's ARM permissions (``Microsoft.Authorization/
permissions``, actions and notActions with wildcards) against what deploy-pool does at each scope,
and its Azure DevOps permissions through the permission evaluation batch."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from agentctl.config import PoolSpec
from agentctl.doctor import ERROR, INFO, Finding

if TYPE_CHECKING:
    from agentctl.doctor.gather import Facts


@dataclass(frozen=True)
class Need:
    scope: str
    action: str
    role: str  # a built-in role that grants it
    why: str


def providers(spec: PoolSpec) -> list[str]:
    """The resource providers the pool file uses."""
    out = ["Microsoft.Compute", "Microsoft.Network", "Microsoft.ManagedIdentity"]
    if spec.devops.kubernetes:
        out.append("Microsoft.ContainerService")
    if spec.registries:
        out.append("Microsoft.ContainerRegistry")
    return out


def needs(spec: PoolSpec, group_exists: bool) -> list[Need]:
    """What deploy-pool does, per scope. The pool's resource group is checked only when it exists
    (the permissions API answers per resource group or resource)."""
    group = f"/subscriptions/{spec.azure.subscription}/resourceGroups/{spec.azure.resourceGroup}"
    identity = spec.scaleSet.identity.userAssigned
    out: list[Need] = []
    if group_exists:
        out.append(
            Need(
                group,
                "Microsoft.Compute/virtualMachineScaleSets/write",
                "Virtual Machine Contributor",
                "create the scale set",
            )
        )
        if spec.devops.azureConnection.grantRole:
            out.append(
                Need(
                    group,
                    "Microsoft.Authorization/roleAssignments/write",
                    "User Access Administrator",
                    "grant the connection's role",
                )
            )
    out += [
        Need(
            spec.network.subnetId,
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            "Network Contributor",
            "place the scale set in the subnet",
        ),
        Need(
            identity,
            "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
            "Managed Identity Operator",
            "attach the identity to the scale set",
        ),
        Need(
            spec.image.galleryImageId,
            "Microsoft.Compute/galleries/images/versions/read",
            "Reader",
            "deploy the gallery image",
        ),
    ]
    named = spec.devops.azureConnection.identity
    if named:
        out.append(
            Need(
                named,
                "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
                "Managed Identity Contributor",
                "add the service connection's federated credential",
            )
        )
    elif group_exists:
        out.append(
            Need(
                group,
                "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                "Managed Identity Contributor",
                "create the pool-management identity and its federated credential",
            )
        )
    for reg in spec.registries:
        out.append(
            Need(
                reg.id,
                "Microsoft.Authorization/roleAssignments/write",
                "User Access Administrator",
                "grant the agents' identity pull or push",
            )
        )
    for k in spec.devops.kubernetes:
        sub = k.cluster.subscription or spec.azure.subscription
        cluster = (
            f"/subscriptions/{sub}/resourceGroups/{k.cluster.resourceGroup}"
            f"/providers/Microsoft.ContainerService/managedClusters/{k.cluster.name}"
        )
        admin = k.credentials == "admin"
        action = "listClusterAdminCredential" if admin else "listClusterUserCredential"
        role = "Azure Kubernetes Service Cluster " + ("Admin" if admin else "User") + " Role"
        out.append(
            Need(
                cluster,
                f"Microsoft.ContainerService/managedClusters/{action}/action",
                role,
                f"read the kubeconfig of {k.cluster.name}",
            )
        )
    return out


@lru_cache(maxsize=256)
def _pattern(wildcard: str) -> re.Pattern[str]:
    """An ARM action pattern: ``*`` matches any text, and ``/*/`` also nothing (``a/*/b`` covers ``a/b``)."""
    parts = [re.escape(p) for p in wildcard.split("*")]
    regex = ".*".join(parts).replace(r"/.*/", r"/(?:.*/)?")
    return re.compile(f"^{regex}$", re.IGNORECASE)


def allowed(permissions: list[dict[str, Any]], action: str) -> bool:
    """Whether any permission entry grants ``action`` (matched by its actions, not by its notActions)."""
    for entry in permissions:
        granted = any(_pattern(a).match(action) for a in entry.get("actions") or [])
        denied = any(_pattern(a).match(action) for a in entry.get("notActions") or [])
        if granted and not denied:
            return True
    return False


# Azure DevOps security namespaces: (id, token template, bit, what, where to grant it)
DEVOPS_NEEDS = (
    (
        "101eae8c-1709-47f9-b228-0e476c35b3ba",
        "AgentPools",
        32,
        "create agent pools",
        "the Creator or Administrator role on agent pools (Organization settings > Agent pools > Security)",
    ),
    (
        "101eae8c-1709-47f9-b228-0e476c35b3ba",
        "AgentPools",
        2,
        "manage agent pools",
        "the Administrator role on agent pools (Organization settings > Agent pools > Security)",
    ),
    (
        "49b48001-ca20-4adc-8111-5b60c903a50c",
        "endpoints/{project}",
        4,
        "create service connections",
        "the Creator role on service connections (Project settings > Service connections > Security)",
    ),
    (
        "49b48001-ca20-4adc-8111-5b60c903a50c",
        "endpoints/{project}",
        2,
        "administer service connections",
        "the Administrator role on service connections (Project settings > Service connections > Security)",
    ),
    (
        "83d4c2e6-e57d-4d6e-892b-b87222b7ad20",
        "Environments/{project}",
        32,
        "create environments",
        "the Creator role on environments (Pipelines > Environments > Security)",
    ),
    (
        "83d4c2e6-e57d-4d6e-892b-b87222b7ad20",
        "Environments/{project}",
        8,
        "administer environments",
        "the Administrator role on environments (Pipelines > Environments > Security)",
    ),
)


def devops_evaluations(project_id: str) -> dict[str, Any]:
    """The permission evaluation batch doctor sends (HasPermissionsBatch)."""
    return {
        "alwaysAllowAdministrators": True,
        "evaluations": [
            {"securityNamespaceId": ns, "token": token.format(project=project_id), "permissions": bit}
            for ns, token, bit, _, _ in DEVOPS_NEEDS
        ],
    }


def check(spec: PoolSpec, facts: Facts) -> list[Finding]:
    out: list[Finding] = []
    if facts.resource_group is None:
        out.append(
            Finding(
                "permissions.group_absent",
                INFO,
                f"/subscriptions/{spec.azure.subscription}/resourceGroups/{spec.azure.resourceGroup}",
                "the pool's resource group does not exist yet: deploy-pool creates it, and the permissions "
                "inside it are checked once it exists",
            )
        )
    for need in needs(spec, facts.resource_group is not None):
        held = facts.permissions.get(need.scope)
        if held is None or allowed(held, need.action):
            continue  # a missing scope is reported by the check that needs it
        out.append(
            Finding(
                "permissions.missing",
                ERROR,
                need.scope,
                f"the caller may not {need.action} (needed to {need.why})",
                f"assign the caller {need.role} (or a role with {need.action}) at {need.scope}",
            )
        )
    answers = {
        (e.get("securityNamespaceId", "").lower(), e.get("permissions")): e.get("value")
        for e in facts.evaluations
    }
    for ns, token, bit, what, where in DEVOPS_NEEDS:
        if answers.get((ns, bit)) is False:
            out.append(
                Finding(
                    "permissions.devops_missing",
                    ERROR,
                    f"{spec.devops.organization} ({token.format(project=spec.devops.project)})",
                    f"the caller may not {what} in Azure DevOps",
                    f"give the caller {where}",
                )
            )
    return out
