"""What a preflight reads before deploying: compute usages (vCPU quota) and resource SKUs of a
region, resource provider registrations, and the caller's effective permissions at a scope.

- **Usages** count the vCPUs of every scale set instance and AKS node in the region, per VM family
  and in all (``cores``), against the limits of the world's ``quota`` (default ``DEFAULT_LIMIT``).
- **SKUs** are the VM sizes in ``SKUS`` (family, vCPUs, memory, Hyper-V generations), offered in
  every region.
- **Providers** are ``Registered`` unless the world lists them in ``unregisteredProviders``.
- **Permissions** are those of the caller's role assignments at or above the scope (its own and
  its groups'), one entry per assignment, as ``Microsoft.Authorization/permissions`` answers.
"""

from __future__ import annotations

import re
from typing import Any

from agentctl.sandbox.arm import authorization, common, compute
from agentctl.sandbox.http import Response, arm_error
from agentctl.sandbox.registry import ROUTES, ApiVersions, Ctx, Route, State, arm

# Compute's usages answer the api-versions its scale sets do, and older ones the SDKs still send.
COMPUTE = ApiVersions(
    "locations/usages", compute.VERSIONS.versions | {"2021-07-01", "2022-03-01", "2022-08-01", "2022-11-01"}
)
SKU_VERSIONS = ApiVersions.of("skus", "2019-04-01", "2021-07-01")
PROVIDERS = ApiVersions.of(
    "providers",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
)
PERMISSIONS = ApiVersions.of(
    "permissions", "2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview"
)
DEFAULT_LIMIT = 100  # vCPUs per family and per region, unless the world's quota says otherwise

# name -> (family, vCPUs, memory GB, Hyper-V generations)
SKUS: dict[str, tuple[str, int, int, str]] = {
    "Standard_D2s_v5": ("standardDSv5Family", 2, 8, "V1,V2"),
    "Standard_D4s_v5": ("standardDSv5Family", 4, 16, "V1,V2"),
    "Standard_D8s_v5": ("standardDSv5Family", 8, 32, "V1,V2"),
    "Standard_D16s_v5": ("standardDSv5Family", 16, 64, "V1,V2"),
    "Standard_D2ds_v5": ("standardDDSv5Family", 2, 8, "V1,V2"),
    "Standard_D4ds_v5": ("standardDDSv5Family", 4, 16, "V1,V2"),
    "Standard_D8ds_v5": ("standardDDSv5Family", 8, 32, "V1,V2"),
    "Standard_D2s_v3": ("standardDSv3Family", 2, 8, "V1,V2"),
    "Standard_D4s_v3": ("standardDSv3Family", 4, 16, "V1,V2"),
    "Standard_D2as_v5": ("standardDASv5Family", 2, 8, "V1,V2"),
    "Standard_D4as_v5": ("standardDASv5Family", 4, 16, "V1,V2"),
    "Standard_B2s": ("standardBSFamily", 2, 4, "V1,V2"),
    "Standard_B2ms": ("standardBSFamily", 2, 8, "V1,V2"),
    "Standard_A2_v2": ("standardAv2Family", 2, 4, "V1"),
    "Standard_F4s_v2": ("standardFSv2Family", 4, 8, "V1,V2"),
}
FAMILY_NAMES = {
    "standardDSv5Family": "Standard DSv5 Family vCPUs",
    "standardDDSv5Family": "Standard DDSv5 Family vCPUs",
    "standardDSv3Family": "Standard DSv3 Family vCPUs",
    "standardDASv5Family": "Standard DASv5 Family vCPUs",
    "standardBSFamily": "Standard BS Family vCPUs",
    "standardAv2Family": "Standard Av2 Family vCPUs",
    "standardFSv2Family": "Standard FSv2 Family vCPUs",
}
_LOCATION_FILTER = re.compile(r"^\s*location\s+eq\s+'([^']+)'\s*$", re.IGNORECASE)


def _region(name: str) -> str:
    return name.replace(" ", "").lower()


def used_vcpus(st: State, location: str) -> dict[str, int]:
    """vCPUs in use in a region per family, and in all under ``cores``."""
    used: dict[str, int] = {"cores": 0}

    def add(size: str, count: int) -> None:
        family, vcpus, _, _ = SKUS.get(size, ("", 0, 0, ""))
        if family:
            used[family] = used.get(family, 0) + vcpus * count
            used["cores"] += vcpus * count

    for r in list(common.resources(st).values()):
        if _region(str(r.get("location", ""))) != _region(location):
            continue
        if r["type"] == "Microsoft.Compute/virtualMachineScaleSets":
            live = [
                vm
                for vm in compute.instances(st, r["id"])
                if vm["properties"]["provisioningState"] != "Deleting"
            ]
            add(str(r.get("sku", {}).get("name", "")), len(live))
        elif r["type"].lower() == "microsoft.containerservice/managedclusters":
            for pool in r["properties"].get("agentPoolProfiles") or []:
                add(str(pool.get("vmSize", "")), int(pool.get("count") or 0))
    return used


@arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/usages",
    "arm.usages.list",
    COMPUTE,
)
def list_usages(ctx: Ctx) -> Response:
    common.check_subscription(ctx, ctx.req.params["subscriptionId"])
    location = _region(ctx.req.params["location"])
    limits: dict[str, int] = {k: int(v) for k, v in (ctx.meta.get("quota") or {}).get(location, {}).items()}
    used = used_vcpus(ctx.st, location)
    names = {"cores": "Total Regional vCPUs", **FAMILY_NAMES}
    value = [
        {
            "unit": "Count",
            "currentValue": used.get(name, 0),
            "limit": limits.get(name, DEFAULT_LIMIT),
            "name": {"value": name, "localizedValue": shown},
        }
        for name, shown in names.items()
    ]
    return Response(200, {"value": value})


def _sku(name: str, location: str) -> dict[str, Any]:
    family, vcpus, memory, generations = SKUS[name]
    return {
        "resourceType": "virtualMachines",
        "name": name,
        "tier": "Standard",
        "size": name.removeprefix("Standard_"),
        "family": family,
        "locations": [location],
        "locationInfo": [{"location": location, "zones": ["1", "2", "3"], "zoneDetails": []}],
        "capabilities": [
            {"name": "vCPUs", "value": str(vcpus)},
            {"name": "MemoryGB", "value": str(memory)},
            {"name": "HyperVGenerations", "value": generations},
            {"name": "PremiumIO", "value": "True" if "s_" in name or name.endswith("s") else "False"},
        ],
        "restrictions": [],
    }


@arm("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/skus", "arm.skus.list", SKU_VERSIONS)
def list_skus(ctx: Ctx) -> Response:
    common.check_subscription(ctx, ctx.req.params["subscriptionId"])
    query = ctx.req.arg("$filter")
    regions = [ctx.meta["location"]]
    if query:
        m = _LOCATION_FILTER.match(query)
        if m is None:
            raise arm_error(
                400,
                "InvalidFilter",
                f"The filter '{query}' is not supported. Filter by location eq '<region>'.",
            )
        regions = [_region(m.group(1))]
    return Response(200, {"value": [_sku(name, r) for r in regions for name in SKUS]})


KNOWN_PROVIDERS = (
    "Microsoft.Compute",
    "Microsoft.Network",
    "Microsoft.ManagedIdentity",
    "Microsoft.ContainerService",
    "Microsoft.ContainerRegistry",
    "Microsoft.Authorization",
    "Microsoft.Resources",
    "Microsoft.DevOpsInfrastructure",
    "Microsoft.DevCenter",
)


@arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}",
    "arm.providers.get",
    PROVIDERS,
)
def get_provider(ctx: Ctx) -> Response:
    name = _provider_name(ctx)
    unregistered = {n.lower() for n in ctx.meta.get("unregisteredProviders") or []}
    return _provider(ctx, name, "NotRegistered" if name.lower() in unregistered else "Registered")


def _provider_name(ctx: Ctx) -> str:
    common.check_subscription(ctx, ctx.req.params["subscriptionId"])
    asked = ctx.req.params["resourceProviderNamespace"]
    known = {n.lower(): n for n in KNOWN_PROVIDERS}
    name = known.get(asked.lower())
    if name is None:
        raise arm_error(
            404,
            "InvalidResourceNamespace",
            f"The resource namespace '{asked}' is invalid.",
        )
    return name


@arm(
    "POST",
    "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}/register",
    "arm.providers.register",
    PROVIDERS,
)
def register_provider(ctx: Ctx) -> Response:
    """Registration: answered Registering; the provider reads Registered from then on (the caller
    needs */register/action on the subscription: Contributor or Owner)."""
    name = _provider_name(ctx)
    if not _caller_may(ctx.st, f"/subscriptions/{ctx.req.params['subscriptionId']}"):
        raise arm_error(
            403,
            "AuthorizationFailed",
            f"The client '{ctx.meta['caller']}' does not have authorization to perform action "
            f"'{name}/register/action' over scope '/subscriptions/{ctx.req.params['subscriptionId']}'.",
        )
    unregistered = ctx.meta.get("unregisteredProviders") or []
    kept = [n for n in unregistered if n.lower() != name.lower()]
    ctx.meta["unregisteredProviders"] = kept
    return _provider(ctx, name, "Registering" if len(kept) != len(unregistered) else "Registered")


def _caller_may(st: State, scope: str) -> bool:
    """Whether the caller (or a group of theirs) holds a built-in role that may register providers."""
    held = set().union(*(authorization.role_names_of(st, p, scope) for p in _caller_principals(st)))
    return bool(held & {"Owner", "Contributor"})


def _provider(ctx: Ctx, name: str, state: str) -> Response:
    sub = ctx.req.params["subscriptionId"]
    return Response(
        200,
        {
            "id": f"/subscriptions/{sub}/providers/{name}",
            "namespace": name,
            "registrationState": state,
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [],
        },
    )


def _caller_principals(st: State) -> set[str]:
    """The caller's object id and those of the groups it is a member of."""
    caller = st["meta"].get("callerId", "")
    out = {caller}
    identities = (st.get("devops") or {}).get("identities") or {}
    descriptor = next((i["descriptor"] for i in identities.values() if i.get("objectId") == caller), None)
    for ident in identities.values():
        if ident.get("isContainer") and descriptor in (ident.get("members") or []):
            out.add(ident["objectId"])
    return out


def permissions_at(st: State, scope: str) -> list[dict[str, Any]]:
    """One permission entry per role assignment of the caller at or above ``scope``."""
    principals = _caller_principals(st)
    guid_to_name = {guid: name for name, (guid, _, _) in authorization.BUILT_IN.items()}
    low = scope.lower().rstrip("/")
    out = []
    for a in sorted(authorization.assignments(st).values(), key=lambda x: x["name"]):
        p = a["properties"]
        held = p["scope"].lower().rstrip("/")
        if p["principalId"] not in principals or not (
            low == held or low.startswith(held + "/") or held == ""
        ):
            continue
        name = guid_to_name.get(p["roleDefinitionId"].rsplit("/", 1)[1].lower())
        if name is None:
            continue
        _, _, actions = authorization.BUILT_IN[name]
        out.append(
            {
                "actions": list(actions),
                "notActions": list(authorization.NOT_ACTIONS.get(name, [])),
                "dataActions": [],
                "notDataActions": [],
            }
        )
    return out


def list_permissions(ctx: Ctx) -> Response:
    # a top-level resource comes with an empty parent path (``Microsoft.X//type/name``), as the
    # SDKs and the Azure CLI send it; ARM reads it as the resource
    scope = re.sub("/{2,}", "/", ctx.req.params["scope"] or "/")
    parts = common.parse_id(scope)
    if "resourceGroup" not in parts:
        raise arm_error(400, "InvalidScope", f"The scope '{scope}' is not valid for permissions.")
    if "name" in parts:
        common.require(ctx, scope)
    else:
        common.require_rg(ctx, parts["subscription"], parts["resourceGroup"])
    return Response(200, {"value": permissions_at(ctx.st, scope)})


# The scope may hold an empty segment (see list_permissions), which ``{*scope}`` does not match.
ROUTES.append(
    Route(
        "arm",
        "GET",
        re.compile(
            r"^(?P<scope>(?:/[^/]*)*?)/providers/Microsoft\.Authorization/permissions/?$", re.IGNORECASE
        ),
        "arm.permissions.list",
        list_permissions,
        PERMISSIONS,
    )
)
