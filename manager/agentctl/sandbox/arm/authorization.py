"""Microsoft.Authorization: role assignments (PUT, GET, list at a scope, DELETE) and the
built-in role definitions agentctl needs (GET, list with ``roleName eq``).

Assignments are kept in the state under ``roleAssignments`` (lower-cased id -> body) because
their scope is any resource id. Principals must exist in the world (users, groups, managed
identities); a second assignment of the same role to the same principal at the same scope
fails with 409 ``RoleAssignmentExists``, as ARM does.
"""

from __future__ import annotations

import re
from typing import Any

from agentctl.sandbox.arm import common
from agentctl.sandbox.arm.validate import deserialize
from agentctl.sandbox.http import Response, arm_error, iso
from agentctl.sandbox.registry import ApiVersions, Ctx, State, arm

VERSIONS = ApiVersions.of(
    "roleAssignments",
    "2015-07-01",
    "2018-01-01-preview",
    "2020-04-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
)
ASSIGNMENTS = "{*scope}/providers/Microsoft.Authorization/roleAssignments"
DEFINITIONS = "{*scope}/providers/Microsoft.Authorization/roleDefinitions"
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"

# name -> (GUID, description, actions): the built-in roles, with their real ids.
BUILT_IN: dict[str, tuple[str, str, list[str]]] = {
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Grants full access to manage all resources.", ["*"]),
    "Contributor": (
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
        ["*"],
    ),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "View all resources.", ["*/read"]),
    "User Access Administrator": (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "Lets you manage user access to Azure resources.",
        ["*/read", "Microsoft.Authorization/*"],
    ),
    "Virtual Machine Contributor": (
        "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
        "Create and manage virtual machines, manage disks, install and run software.",
        ["Microsoft.Compute/virtualMachineScaleSets/*", "Microsoft.Compute/virtualMachines/*"],
    ),
    "Network Contributor": (
        "4d97b98b-1d4f-4787-a291-c67834d212e7",
        "Lets you manage networks, but not access to them.",
        ["Microsoft.Network/*"],
    ),
    "Managed Identity Operator": (
        "f1a07417-d97a-45cb-824c-7a7467783830",
        "Read and Assign User Assigned Identity",
        [
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
        ],
    ),
    "AcrPull": (
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",
        "acr pull",
        ["Microsoft.ContainerRegistry/registries/pull/read"],
    ),
    "AcrPush": (
        "8311e382-0749-4cb8-b61a-304f252e45ec",
        "acr push",
        [
            "Microsoft.ContainerRegistry/registries/pull/read",
            "Microsoft.ContainerRegistry/registries/push/write",
        ],
    ),
    "Azure Kubernetes Service Cluster User Role": (
        "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
        "List cluster user credential action.",
        ["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"],
    ),
    "Azure Kubernetes Service Cluster Admin Role": (
        "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",
        "List cluster admin credential action.",
        ["Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"],
    ),
    "Azure Kubernetes Service RBAC Writer": (
        "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
        "Allows read/write access to most objects in a namespace.",
        ["Microsoft.Authorization/*/read"],
    ),
}
# what a built-in role's permissions leave out (Contributor cannot grant roles)
NOT_ACTIONS: dict[str, list[str]] = {
    "Contributor": [
        "Microsoft.Authorization/*/Delete",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action",
    ],
}
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
MODEL = {
    "RoleAssignmentCreateParameters": {
        "properties": "#RoleAssignmentProperties",
        "id": "any",
        "name": "any",
        "type": "any",
    },
    "RoleAssignmentProperties": {
        "roleDefinitionId": "string",
        "principalId": "string",
        "principalType": "enum:principalType",
        "description": "string",
        "condition": "string",
        "conditionVersion": "string",
        "delegatedManagedIdentityResourceId": "string",
        "scope": "any",
        "createdOn": "any",
        "updatedOn": "any",
        "createdBy": "any",
        "updatedBy": "any",
    },
}
# OData string literals: in single quotes, a quote inside written twice
_FILTER_PRINCIPAL = re.compile(r"^\s*principalId\s+eq\s+'((?:[^']|'')+)'\s*$", re.IGNORECASE)
_FILTER_ROLE_NAME = re.compile(r"^\s*roleName\s+eq\s+'((?:[^']|'')+)'\s*$", re.IGNORECASE)


def _odata(literal: str) -> str:
    return literal.replace("''", "'")


def _definition_id(sub: str, guid: str) -> str:
    return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _definition(sub: str, name: str) -> dict[str, Any]:
    guid, description, actions = BUILT_IN[name]
    return {
        "id": _definition_id(sub, guid),
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": description,
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": actions,
                    "notActions": NOT_ACTIONS.get(name, []),
                    "dataActions": [],
                    "notDataActions": [],
                }
            ],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
        },
    }


def assignments(st: State) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = st.setdefault("roleAssignments", {})
    return out


def role_names_of(st: State, principal_id: str, scope: str) -> set[str]:
    """Names of the roles a principal holds at ``scope`` or above."""
    guid_to_name = {guid: name for name, (guid, _, _) in BUILT_IN.items()}
    low = scope.lower()
    out = set()
    for a in assignments(st).values():
        p = a["properties"]
        held = p["scope"].lower()
        if p["principalId"] == principal_id and (low == held or low.startswith(held.rstrip("/") + "/")):
            out.add(guid_to_name.get(p["roleDefinitionId"].rsplit("/", 1)[1], ""))
    return out


def _principals(st: State) -> dict[str, str]:
    """object id -> principal type, for everything in the world that can hold a role."""
    out = {p["id"]: p["type"] for p in st["meta"].get("principals", [])}
    for r in common.resources(st).values():
        if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities":
            out[r["properties"]["principalId"]] = "ServicePrincipal"
    return out


def _check_scope(ctx: Ctx, scope: str) -> None:
    parts = common.parse_id(scope)
    if "subscription" not in parts:
        raise arm_error(400, "InvalidScope", f"The scope '{scope}' is not valid for role assignments.")
    common.check_subscription(ctx, parts["subscription"])
    if "name" in parts:
        common.require(ctx, scope)
    elif "resourceGroup" in parts:
        common.require_rg(ctx, parts["subscription"], parts["resourceGroup"])


@arm("PUT", ASSIGNMENTS + "/{roleAssignmentName}", "arm.roleassignments.put", VERSIONS)
def put_assignment(ctx: Ctx) -> Response:
    p = ctx.req.params
    scope, name = p["scope"] or "/", p["roleAssignmentName"]
    if not common.GUID.match(name):
        raise arm_error(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        )
    body = ctx.req.body
    deserialize(body, "#RoleAssignmentCreateParameters", MODEL, {"principalType": PRINCIPAL_TYPES})
    props = body.get("properties") or {}
    for required in ("roleDefinitionId", "principalId"):
        if not props.get(required):
            raise arm_error(
                400,
                "InvalidRequestContent",
                f"Required property '{required}' not found in JSON. Path 'properties'.",
            )
    _check_scope(ctx, scope)
    sub = ctx.meta["subscriptionId"]
    role_guid = props["roleDefinitionId"].rstrip("/").rsplit("/", 1)[-1].lower()
    if (
        role_guid not in {g for g, _, _ in BUILT_IN.values()}
        or "/roledefinitions/" not in props["roleDefinitionId"].lower()
    ):
        raise arm_error(
            400,
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID '{role_guid}' does not exist.",
        )
    principals = _principals(ctx.st)
    principal = props["principalId"]
    if principal not in principals:
        raise arm_error(
            400,
            "PrincipalNotFound",
            f"Principal {principal.replace('-', '')} does not exist in the directory "
            f"{ctx.meta['tenantId']}. Check "
            "that you have the correct principal ID. If you are creating this principal and then immediately "
            "assigning a role, this error might be related to a replication delay.",
        )
    rid = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}"
    existing = assignments(ctx.st).get(rid.lower())
    definition_id = _definition_id(sub, role_guid)
    for other in assignments(ctx.st).values():
        o = other["properties"]
        same = (o["principalId"], o["roleDefinitionId"].lower(), o["scope"].lower())
        if other["name"].lower() != name.lower() and same == (
            principal,
            definition_id.lower(),
            (scope.rstrip("/") or "/").lower(),
        ):
            raise arm_error(409, "RoleAssignmentExists", "The role assignment already exists.")
    if existing:
        e = existing["properties"]
        if (e["principalId"], e["roleDefinitionId"].lower()) != (principal, definition_id.lower()):
            raise arm_error(
                400,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        return Response(200, existing)
    stamp = iso(ctx.now)
    assignment = {
        "id": rid,
        "name": name,
        "type": ASSIGNMENT_TYPE,
        "properties": {
            "roleDefinitionId": definition_id,
            "principalId": principal,
            "principalType": props.get("principalType") or principals[principal],
            "scope": scope.rstrip("/") or "/",
            "createdOn": stamp,
            "updatedOn": stamp,
            "createdBy": ctx.meta["callerId"],
            "updatedBy": ctx.meta["callerId"],
            **{
                k: props[k]
                for k in ("condition", "conditionVersion", "description")
                if props.get(k) is not None
            },
        },
    }
    assignments(ctx.st)[rid.lower()] = assignment
    return Response(201, assignment)


def _find(ctx: Ctx) -> dict[str, Any] | None:
    return assignments(ctx.st).get(common.path_id(ctx).lower())


@arm("GET", ASSIGNMENTS + "/{roleAssignmentName}", "arm.roleassignments.get", VERSIONS)
def get_assignment(ctx: Ctx) -> Response:
    found = _find(ctx)
    if found is None:
        raise arm_error(
            404,
            "RoleAssignmentNotFound",
            f"The role assignment '{ctx.req.params['roleAssignmentName']}' is not found.",
        )
    return Response(200, found)


@arm("DELETE", ASSIGNMENTS + "/{roleAssignmentName}", "arm.roleassignments.delete", VERSIONS)
def delete_assignment(ctx: Ctx) -> Response:
    found = _find(ctx)
    if found is None:
        return Response(204)
    del assignments(ctx.st)[found["id"].lower()]
    return Response(200, found)


@arm("GET", ASSIGNMENTS, "arm.roleassignments.list", VERSIONS)
def list_assignments(ctx: Ctx) -> Response:
    scope = (ctx.req.params["scope"] or "/").lower().rstrip("/")
    query = ctx.req.arg("$filter")
    principal = None
    at_scope = query.strip().lower() == "atscope()"
    if query and not at_scope:
        m = _FILTER_PRINCIPAL.match(query)
        if m is None:
            raise arm_error(400, "UnsupportedQuery", f"The filter '{query}' is not supported.")
        principal = _odata(m.group(1))
    out = []
    for a in assignments(ctx.st).values():
        held = a["properties"]["scope"].lower().rstrip("/")
        above = scope == held or scope.startswith(held + "/") or held == ""
        below = held.startswith(scope + "/")
        if principal is not None and a["properties"]["principalId"] != principal:
            continue
        if above or (below and not at_scope):
            out.append(a)
    return Response(200, {"value": sorted(out, key=lambda a: a["name"])})


@arm("GET", DEFINITIONS, "arm.roledefinitions.list", VERSIONS)
def list_definitions(ctx: Ctx) -> Response:
    sub = ctx.meta["subscriptionId"]
    query = ctx.req.arg("$filter")
    names = list(BUILT_IN)
    if query:
        m = _FILTER_ROLE_NAME.match(query)
        if m is None:
            raise arm_error(400, "UnsupportedQuery", f"The filter '{query}' is not supported.")
        names = [n for n in names if n.lower() == _odata(m.group(1)).lower()]
    return Response(200, {"value": [_definition(sub, n) for n in names]})


@arm("GET", DEFINITIONS + "/{roleDefinitionId}", "arm.roledefinitions.get", VERSIONS)
def get_definition(ctx: Ctx) -> Response:
    guid = ctx.req.params["roleDefinitionId"].lower()
    for name, (g, _, _) in BUILT_IN.items():
        if g == guid:
            return Response(200, _definition(ctx.meta["subscriptionId"], name))
    raise arm_error(
        404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{guid}' does not exist."
    )
