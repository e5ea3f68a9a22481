"""Managed DevOps Pools (``Microsoft.DevOpsInfrastructure/pools``) and the Dev Center projects they
belong to (``Microsoft.DevCenter``).

A pool PUT is refused as the service refuses it: a name taken anywhere, an unknown Dev Center
project, organization, project or image, a subnet that is not delegated to
``Microsoft.DevOpsInfrastructure/pools`` or is in another region, and the DevOpsInfrastructure
service principal (application ``31687f79-5e43-4c1e-8c63-d9f4bff5cf8b``) without Reader and Network
Contributor on the virtual network, or without Reader on a gallery image
(learn.microsoft.com/azure/devops/managed-devops-pools/configure-networking and configure-images).
When the create finishes, the service's side effects appear in Azure DevOps: an agent pool of the
pool's name and a queue in each project it serves. Its agents (``/resources``) follow the standby
schedule (manual ``resourcePredictions``) and report their image and version.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agentctl.sandbox import lro
from agentctl.sandbox.arm import authorization, common
from agentctl.sandbox.devops import common as devops_common
from agentctl.sandbox.devops import pools as devops_pools
from agentctl.sandbox.http import Response, arm_error, iso
from agentctl.sandbox.registry import ApiVersions, Ctx, State, arm

SERVICE_APP_ID = "31687f79-5e43-4c1e-8c63-d9f4bff5cf8b"
TYPE = "Microsoft.DevOpsInfrastructure/pools"
VERSIONS = ApiVersions.of("pools", "2024-10-19", "2025-01-21", "2025-09-20", "2026-06-02")
DEVCENTER_VERSIONS = ApiVersions.of("devcenters", "2024-02-01", "2025-02-01")
SUB = "/subscriptions/{subscriptionId}"
PROVIDER = SUB + "/resourceGroups/{resourceGroupName}/providers/Microsoft.DevOpsInfrastructure"
ITEM = PROVIDER + "/pools/{poolName}"
DEVCENTER = SUB + "/resourceGroups/{resourceGroupName}/providers/Microsoft.DevCenter"
WELL_KNOWN_IMAGES = {"ubuntu-22.04", "ubuntu-24.04", "windows-2019", "windows-2022", "windows-2025"}
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-.]{2,43}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")
_SPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")
WEEK_SECONDS = 7 * 24 * 3600
SKUS = {"Standard_D2ads_v5": 2, "Standard_D4ads_v5": 4, "Standard_D4s_v5": 4, "Standard_D8ads_v5": 8}
QUOTA = {"standardDADSv5Family": 100, "standardDSv5Family": 100}


def _bad(message: str, code: str = "BadRequest") -> Exception:
    return arm_error(400, code, message)


def service_principal_id(tenant: str) -> str:
    """The object id of the DevOpsInfrastructure service principal in a tenant."""
    return common.stable_guid(f"serviceprincipal/{SERVICE_APP_ID}/{tenant}")


def _holds(st: State, scope: str, *roles: str) -> bool:
    """Whether the service principal holds one of ``roles`` (or Owner / Contributor) at ``scope``."""
    held = authorization.role_names_of(st, service_principal_id(st["meta"]["tenantId"]), scope)
    return bool(held & {*roles, "Owner", "Contributor"})


# ---- Dev Center ---------------------------------------------------------------------------------


def _tracked(
    existing: dict[str, Any] | None,
    rid: str,
    name: str,
    body: dict[str, Any],
    props: dict[str, Any],
    state: str,
) -> dict[str, Any]:
    """A tracked resource as its provider keeps it (id and name keep their first casing)."""
    resource = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else name,
        "type": common.parse_id(rid)["namespace"] + "/" + common.parse_id(rid)["type"],
        "location": body["location"],
        "tags": body.get("tags") or {},
        "properties": {**props, "provisioningState": state},
    }
    if body.get("identity"):
        resource["identity"] = body["identity"]
    return resource


def _system_data(ctx: Ctx, existing: dict[str, Any] | None) -> dict[str, str]:
    """ARM's systemData: who made the resource and when, and who changed it last."""
    now = iso(ctx.now)
    made = (existing or {}).get("systemData") or {
        "createdBy": ctx.meta["caller"],
        "createdByType": "User",
        "createdAt": now,
    }
    return {**made, "lastModifiedBy": ctx.meta["caller"], "lastModifiedByType": "User", "lastModifiedAt": now}


def _put_devcenter_resource(
    ctx: Ctx, param: str, pattern: str, rule: str, complete: Callable[[dict[str, Any]], None]
) -> Response:
    """PUT of a dev center or project: the name rule, a location, ``complete`` adds or checks members."""
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    name, rid = p[param], common.path_id(ctx)
    if not re.fullmatch(pattern, name):
        raise _bad(f"The name '{name}' is invalid: {rule}.", "InvalidName")
    body = ctx.req.body if isinstance(ctx.req.body, dict) else {}
    if not body.get("location"):
        raise _bad("The 'location' property is required.", "InvalidRequestContent")
    props = {k: v for k, v in (body.get("properties") or {}).items() if k != "provisioningState"}
    complete(props)
    existing = common.get(ctx.st, rid)
    resource = _tracked(existing, rid, name, body, props, "Accepted")
    if props.get("displayName"):  # the service tags a resource with its display name
        resource["tags"] = {"hidden-title": props["displayName"], **resource["tags"]}
    resource["systemData"] = _system_data(ctx, existing)
    common.put(ctx.st, resource)
    headers = lro.start(
        ctx, "devcenter.put", resource["id"], provider="Microsoft.DevCenter", location=body["location"]
    )
    return Response(200 if existing else 201, resource, headers)


@arm("PUT", DEVCENTER + "/devcenters/{devCenterName}", "arm.devcenters.put", DEVCENTER_VERSIONS)
def put_devcenter(ctx: Ctx) -> Response:
    def complete(props: dict[str, Any]) -> None:
        name, region = ctx.req.params["devCenterName"].lower(), str(ctx.req.body["location"]).lower()
        guid = common.stable_guid(common.path_id(ctx))
        props["devCenterUri"] = f"https://{guid}-{name}.{region}.devcenter.azure.com"
        props.setdefault("networkSettings", {"microsoftHostedNetworkEnableStatus": "Enabled"})

    return _put_devcenter_resource(
        ctx, "devCenterName", r"[a-zA-Z0-9][a-zA-Z0-9-]{2,25}", "3 to 26 letters, digits or '-'", complete
    )


@arm("PUT", DEVCENTER + "/projects/{projectName}", "arm.devcenterprojects.put", DEVCENTER_VERSIONS)
def put_project(ctx: Ctx) -> Response:
    def complete(props: dict[str, Any]) -> None:
        center = common.get(ctx.st, str(props.get("devCenterId") or ""))
        if center is None or center["type"] != "Microsoft.DevCenter/devcenters":
            raise _bad(f"The dev center '{props.get('devCenterId')}' was not found.", "DevCenterNotFound")
        props["devCenterUri"] = center["properties"]["devCenterUri"]

    rule = "3 to 63 letters, digits, '-', '_' or '.'"
    return _put_devcenter_resource(ctx, "projectName", r"[a-zA-Z0-9][a-zA-Z0-9-_.]{2,62}", rule, complete)


@lro.finalizer("devcenter.put")
def _devcenter_done(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    found = common.get(st, op["resourceId"])
    if found is not None:
        found["properties"]["provisioningState"] = "Succeeded" if ok else "Failed"


arm("GET", DEVCENTER + "/devcenters/{devCenterName}", "arm.devcenters.get", DEVCENTER_VERSIONS)(common.show)
arm("GET", DEVCENTER + "/projects/{projectName}", "arm.devcenterprojects.get", DEVCENTER_VERSIONS)(
    common.show
)


# ---- pools --------------------------------------------------------------------------------------


def _seconds(span: Any, field: str) -> int:
    m = _SPAN.fullmatch(str(span))
    if m is None:
        raise _bad(f"'{field}' must be a time span such as 7.00:00:00, not '{span}'.")
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _check_agent(agent: dict[str, Any], maximum: int) -> None:
    kind = agent.get("kind")
    if kind not in ("Stateless", "Stateful"):
        raise _bad(f"agentProfile.kind '{kind}' is not valid; use Stateless or Stateful.")
    for field in ("maxAgentLifetime", "gracePeriodTimeSpan"):
        if kind == "Stateful" and field in agent and _seconds(agent[field], field) > WEEK_SECONDS:
            raise _bad(f"'{field}' can be at most one week (7.00:00:00).")
    predictions = agent.get("resourcePredictions")
    if predictions is None:
        return
    days = predictions.get("daysData") if isinstance(predictions, dict) else None
    if not isinstance(days, list) or len(days) not in (1, 7):
        raise _bad("resourcePredictions.daysData must hold one item (all week) or seven (Sunday first).")
    _windows_zone(predictions.get("timeZone") or "UTC")
    for day in days:
        for time, count in (day or {}).items():
            if not _TIME.fullmatch(time) or not isinstance(count, int) or not 0 <= count <= maximum:
                raise _bad(
                    f"resourcePredictions: '{time}': {count} is not a time HH:MM:SS with a standby count "
                    f"from 0 to maximumConcurrency ({maximum})."
                )


def _windows_zone(name: str) -> ZoneInfo:
    from tzlocal.windows_tz import win_tz

    if name == "UTC":
        return ZoneInfo("UTC")
    if name not in win_tz:
        raise _bad(f"The time zone '{name}' is not a known time zone id (TimeZoneInfo).")
    return ZoneInfo(win_tz[name])


def _check_organizations(ctx: Ctx, profile: dict[str, Any]) -> list[str]:
    """The Azure DevOps project ids the pool serves (every project when none is named)."""
    if profile.get("kind") != "AzureDevOps":
        raise _bad(f"organizationProfile.kind '{profile.get('kind')}' is not supported here.")
    orgs = profile.get("organizations") or []
    if not orgs:
        raise _bad("organizationProfile.organizations needs at least one organization.")
    mine = ctx.meta["organization"].lower()
    projects = ctx.st["devops"]["projects"]
    by_name = {p["name"].lower(): p["id"] for p in projects.values()}
    served: list[str] = []
    for org in orgs:
        url = str(org.get("url") or "").rstrip("/").lower()
        if url not in (f"https://dev.azure.com/{mine}", f"https://{mine}.visualstudio.com"):
            raise _bad(
                f"The Azure DevOps organization '{org.get('url')}' was not found, or is not connected to the "
                "Microsoft Entra tenant of this subscription.",
                "OrganizationNotFound",
            )
        for name in org.get("projects") or list(by_name):
            if str(name).lower() not in by_name:
                raise _bad(
                    f"The project '{name}' does not exist in organization '{org['url']}'.", "ProjectNotFound"
                )
            served.append(by_name[str(name).lower()])
    return served


def _check_fabric(ctx: Ctx, fabric: dict[str, Any], location: str) -> None:
    if fabric.get("kind") != "Vmss":
        raise _bad(f"fabricProfile.kind '{fabric.get('kind')}' is not valid; use Vmss.")
    if not (fabric.get("sku") or {}).get("name"):
        raise _bad("fabricProfile.sku.name is required.")
    images = fabric.get("images") or []
    if not images:
        raise _bad("fabricProfile.images needs at least one image.")
    for image in images:
        _check_image(ctx, image)
    subnet_id = (fabric.get("networkProfile") or {}).get("subnetId")
    if subnet_id:
        _check_subnet(ctx, str(subnet_id), location)


def _check_image(ctx: Ctx, image: dict[str, Any]) -> None:
    known = str(image.get("wellKnownImageName") or "").split("/")[0]
    rid = str(image.get("resourceId") or "")
    if known:
        if known not in WELL_KNOWN_IMAGES:
            raise _bad(f"The well-known image '{known}' does not exist.", "ImageNotFound")
        return
    if not rid.lower().startswith("/subscriptions/"):
        if not rid:
            raise _bad("Each image needs a resourceId or a wellKnownImageName.")
        return  # a marketplace image path
    found = common.get(ctx.st, rid)
    if found is None or not found["type"].startswith("Microsoft.Compute/galleries/images"):
        raise _bad(f"The image '{rid}' was not found.", "ImageNotFound")
    if not _holds(ctx.st, rid, "Reader"):
        raise arm_error(
            403,
            "LinkedAuthorizationFailed",
            f"The DevOpsInfrastructure service principal ({SERVICE_APP_ID}) has no access to image '{rid}'. "
            "Assign it the Reader role on the image or its gallery.",
        )


def _check_subnet(ctx: Ctx, subnet_id: str, location: str) -> None:
    subnet = common.get(ctx.st, subnet_id)
    if subnet is None:
        raise _bad(f"The subnet '{subnet_id}' was not found.", "SubnetNotFound")
    vnet_id = subnet_id.rsplit("/subnets/", 1)[0]
    vnet = common.get(ctx.st, vnet_id) or {}
    if str(vnet.get("location", location)).lower() != location.lower():
        raise _bad(
            f"Virtual network {vnet.get('name')} is in region {vnet.get('location')}, but pool "
            f"{ctx.req.params['poolName']} is in region {location}. These must be in the same region."
        )
    delegations = (subnet.get("properties") or {}).get("delegations") or []
    services = {str((d.get("properties") or {}).get("serviceName", "")).lower() for d in delegations}
    if services != {TYPE.lower()}:
        raise _bad(
            f"The subnet '{subnet_id}' must be delegated to {TYPE} (and to nothing else) before a pool "
            "can use it.",
            "SubnetNotDelegated",
        )
    missing = [role for role in ("Reader", "Network Contributor") if not _holds(ctx.st, vnet_id, role)]
    if missing:
        raise arm_error(
            403,
            "LinkedAuthorizationFailed",
            f"The DevOpsInfrastructure service principal ({SERVICE_APP_ID}) lacks {' and '.join(missing)} on "
            f"virtual network '{vnet_id}'.",
        )


def _validate(ctx: Ctx, body: dict[str, Any], location: str) -> list[str]:
    props = body.get("properties")
    if not isinstance(props, dict):
        raise _bad("The 'properties' of the pool are required.", "InvalidRequestContent")
    maximum = props.get("maximumConcurrency")
    if not isinstance(maximum, int) or not 1 <= maximum <= 10000:
        raise _bad("maximumConcurrency must be a whole number from 1 to 10000.")
    for part in ("organizationProfile", "agentProfile", "fabricProfile"):
        if not isinstance(props.get(part), dict):
            raise _bad(f"The '{part}' of the pool is required.", "InvalidRequestContent")
    project = common.get(ctx.st, str(props.get("devCenterProjectResourceId") or ""))
    if project is None or project["type"] != "Microsoft.DevCenter/projects":
        raise _bad(
            f"The Dev Center project '{props.get('devCenterProjectResourceId')}' was not found.",
            "ProjectNotFound",
        )
    _check_agent(props["agentProfile"], maximum)
    served = _check_organizations(ctx, props["organizationProfile"])
    _check_fabric(ctx, props["fabricProfile"], location)
    return served


def _stored(body: dict[str, Any], existing: dict[str, Any] | None, rid: str, name: str) -> dict[str, Any]:
    """The pool as the service keeps it: what was sent, with its defaults."""
    props = copy.deepcopy(body["properties"])
    props.pop("provisioningState", None)
    for image in props["fabricProfile"]["images"]:
        image.setdefault("buffer", "*")
        image.setdefault("ephemeralType", "Automatic")
        image["isEphemeral"] = True  # every ephemeralType is an ephemeral OS disk
    network = props["fabricProfile"].get("networkProfile")
    if network:
        count = int(network.get("staticIpAddressCount") or 0)
        network["ipAddresses"] = [f"20.0.0.{i + 1}" for i in range(count)] if count else []
    return _tracked(existing, rid, name, body, props, "Provisioning" if existing is None else "Updating")


def _require_registered(ctx: Ctx) -> None:
    """ARM refuses a resource of a provider the subscription has not registered."""
    if "microsoft.devopsinfrastructure" in {n.lower() for n in ctx.meta.get("unregisteredProviders") or []}:
        raise arm_error(
            409,
            "MissingSubscriptionRegistration",
            "The subscription is not registered to use namespace 'Microsoft.DevOpsInfrastructure'.",
        )


def _in_use(name: str) -> str:
    return f"Managed DevOps pool {name} is already in use. Please choose a pool name that has not been taken."


def _taken(st: State, name: str, rid: str) -> bool:
    return any(
        r["type"] == TYPE and r["name"].lower() == name.lower() and r["id"].lower() != rid.lower()
        for r in common.resources(st).values()
    )


def _write(ctx: Ctx, body: dict[str, Any], existing: dict[str, Any] | None) -> Response:
    p = ctx.req.params
    rid = common.provider_id(p["subscriptionId"], p["resourceGroupName"], TYPE, p["poolName"])
    name = p["poolName"]
    if not _NAME.fullmatch(name):
        raise _bad(f"The pool name '{name}' is invalid: 3 to 44 letters, digits, '-' or '.'.", "InvalidName")
    if _taken(ctx.st, name, rid):
        raise arm_error(
            409,
            "Conflict",
            _in_use(name),
        )
    location = str(body.get("location") or "")
    if not location:
        raise _bad("The 'location' property is required.", "InvalidRequestContent")
    _require_registered(ctx)
    served = _validate(ctx, body, location)
    resource = _stored(body, existing, rid, name)
    common.put(ctx.st, resource)
    args = {"projects": served, "owner": devops_common.caller(ctx)}
    headers = lro.start(
        ctx,
        "mdp.put",
        resource["id"],
        provider="Microsoft.DevOpsInfrastructure",
        location=location,
        args=args,
    )
    return Response(200 if existing else 201, resource, headers)


def _existing(ctx: Ctx) -> dict[str, Any] | None:
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    return common.get(
        ctx.st, common.provider_id(p["subscriptionId"], p["resourceGroupName"], TYPE, p["poolName"])
    )


@arm("PUT", ITEM, "arm.mdp.put", VERSIONS)
def put_pool(ctx: Ctx) -> Response:
    body = ctx.req.body
    if not isinstance(body, dict):
        raise _bad("The request content was invalid and could not be deserialized.", "InvalidRequestContent")
    return _write(ctx, body, _existing(ctx))


def _merge(current: Any, patch: Any) -> Any:
    if isinstance(current, dict) and isinstance(patch, dict):
        return {**current, **{k: _merge(current.get(k), v) for k, v in patch.items()}}
    return copy.deepcopy(patch)


@arm("PATCH", ITEM, "arm.mdp.patch", VERSIONS)
def patch_pool(ctx: Ctx) -> Response:
    existing = _existing(ctx) or common.require(ctx, common.path_id(ctx))
    body = ctx.req.body if isinstance(ctx.req.body, dict) else {}
    current = {k: v for k, v in existing.items() if k in ("location", "tags", "identity", "properties")}
    merged = _merge(current, body)
    for profile in ("agentProfile", "fabricProfile", "organizationProfile"):
        if profile in (body.get("properties") or {}):  # a profile is replaced whole, as its kind says
            merged["properties"][profile] = copy.deepcopy(body["properties"][profile])
    response = _write(ctx, merged, existing)
    return Response(202, None, {k: v for k, v in response.headers.items() if k != "Azure-AsyncOperation"})


@arm("DELETE", ITEM, "arm.mdp.delete", VERSIONS)
def delete_pool(ctx: Ctx) -> Response:
    found = _existing(ctx)
    if found is None:
        return Response(204)
    found["properties"]["provisioningState"] = "Deleting"
    headers = lro.start(
        ctx, "mdp.delete", found["id"], provider="Microsoft.DevOpsInfrastructure", location=found["location"]
    )
    return Response(202, None, {k: v for k, v in headers.items() if k != "Azure-AsyncOperation"})


@lro.finalizer("mdp.put")
def _put_done(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    pool = common.get(st, op["resourceId"])
    if pool is None or pool["properties"]["provisioningState"] == "Deleting":
        return
    pool["properties"]["provisioningState"] = "Succeeded" if ok else "Failed"
    if ok:
        _sync_devops(st, pool, op["args"], now)


@lro.finalizer("mdp.delete")
def _delete_done(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    pool = common.get(st, op["resourceId"])
    if pool is None:
        return
    if not ok:
        pool["properties"]["provisioningState"] = "Failed"
        return
    agent_pool = _agent_pool(st, pool["name"])
    if agent_pool is not None:
        devops_pools.pools(st).pop(str(agent_pool["id"]), None)
        for qid, queue in list(devops_pools.queues(st).items()):
            if queue["pool"]["id"] == agent_pool["id"]:
                del devops_pools.queues(st)[qid]
    common.delete_tree(st, pool["id"])


def _agent_pool(st: State, name: str) -> dict[str, Any] | None:
    return next((p for p in devops_pools.pools(st).values() if p["name"].lower() == name.lower()), None)


def _sync_devops(st: State, pool: dict[str, Any], args: dict[str, Any], now: float) -> None:
    """What the service does in Azure DevOps: the agent pool and a queue in each project served."""
    agent_pool = _agent_pool(st, pool["name"])
    if agent_pool is None:
        agent_pool = devops_pools.make_pool(st, pool["name"], "none", False, args["owner"], now)
    have = {q["projectId"] for q in devops_pools.queues(st).values() if q["pool"]["id"] == agent_pool["id"]}
    for project_id in args["projects"]:
        if project_id not in have:
            devops_pools.make_queue(st, project_id, agent_pool)


arm("GET", ITEM, "arm.mdp.get", VERSIONS)(common.show)
arm("GET", PROVIDER + "/pools", "arm.mdp.list", VERSIONS)(common.listing)
arm("GET", SUB + "/providers/Microsoft.DevOpsInfrastructure/pools", "arm.mdp.listall", VERSIONS)(
    common.subscription_listing
)


def standby_at(pool: dict[str, Any], when: datetime) -> int:
    """The standby agents a pool's manual predictions ask for at ``when``."""
    predictions = pool["properties"]["agentProfile"].get("resourcePredictions") or {}
    days = predictions.get("daysData") or []
    if not days:
        return 0
    local = when.astimezone(_windows_zone(predictions.get("timeZone") or "UTC"))
    week = days * 7 if len(days) == 1 else days
    sunday_first = (local.weekday() + 1) % 7
    now_key = local.strftime("%H:%M:%S")
    for back in range(8):  # the last entry at or before now, going back up to a week
        day = week[(sunday_first - back) % 7] or {}
        earlier = sorted(t for t in day if back or t <= now_key)
        if earlier:
            return int(day[earlier[-1]])
    return 0


@arm("GET", ITEM + "/resources", "arm.mdp.resources", VERSIONS)
def list_resources(ctx: Ctx) -> Response:
    pool = common.require(ctx, common.path_id(ctx).rsplit("/", 1)[0])
    count = 0
    if pool["properties"]["provisioningState"] == "Succeeded":
        count = min(
            standby_at(pool, datetime.fromtimestamp(ctx.now, UTC)), pool["properties"]["maximumConcurrency"]
        )
    image = pool["properties"]["fabricProfile"]["images"][0]
    image_name = (
        image.get("wellKnownImageName") or str(image.get("resourceId", "")).rstrip("/").split("/")[-1]
    )
    version = _image_version(ctx.st, image)
    items = [
        {
            "id": f"{pool['id']}/resources/{pool['name']}:{common.stable_guid(pool['id'])}:agent_{i}",
            "name": f"agent{i:06d}",
            "properties": {"image": image_name, "imageVersion": version, "status": "Ready"},
        }
        for i in range(count)
    ]
    return Response(200, {"value": items})


def _image_version(st: State, image: dict[str, Any]) -> str:
    rid = str(image.get("resourceId") or "")
    if "/versions/" in rid.lower():
        return rid.rsplit("/", 1)[1]
    found = common.get(st, rid)
    if found is None:
        return "latest"
    versions = [r["name"] for r in common.children(st, found["id"] + "/versions")]
    return max(versions, key=lambda v: tuple(int(x) for x in v.split(".")), default="latest")


@arm(
    "POST",
    SUB + "/providers/Microsoft.DevOpsInfrastructure/checkNameAvailability",
    "arm.mdp.checkname",
    VERSIONS,
)
def check_name(ctx: Ctx) -> Response:
    common.check_subscription(ctx, ctx.req.params["subscriptionId"])
    body = ctx.req.body if isinstance(ctx.req.body, dict) else {}
    name = str(body.get("name") or "")
    if not _NAME.fullmatch(name):
        answer = {
            "available": "Unavailable",
            "reason": "Invalid",
            "message": f"The pool name '{name}' is invalid.",
        }
    elif _taken(ctx.st, name, ""):
        answer = {
            "available": "Unavailable",
            "reason": "AlreadyExists",
            "message": _in_use(name),
        }
    else:
        answer = {"available": "Available"}
    return Response(200, {"name": name, **answer})


@arm(
    "GET",
    SUB + "/providers/Microsoft.DevOpsInfrastructure/locations/{locationName}/skus",
    "arm.mdp.skus",
    VERSIONS,
)
def list_skus(ctx: Ctx) -> Response:
    location = ctx.req.params["locationName"]
    base = common.path_id(ctx)
    items = [
        {
            "id": f"{base}/{name}",
            "name": name,
            "type": "Microsoft.DevOpsInfrastructure/locations/skus",
            "properties": _sku_properties(name, cpus, location),
        }
        for name, cpus in SKUS.items()
    ]
    return Response(200, {"value": items})


def _sku_properties(name: str, cpus: int, location: str) -> dict[str, Any]:
    """A SKU's properties, as the spec's ResourceSkuProperties (the resource nests them)."""
    return {
        "resourceType": "pools",
        "tier": "Standard",
        "size": name.split("_", 1)[1],
        "family": "standardDADSv5Family" if "ads" in name else "standardDSv5Family",
        "locations": [location],
        "locationInfo": [{"location": location, "zones": ["1", "2", "3"], "zoneDetails": []}],
        "capabilities": [{"name": "vCPUs", "value": str(cpus)}],
        "restrictions": [],
    }


@arm(
    "GET",
    SUB + "/providers/Microsoft.DevOpsInfrastructure/locations/{location}/usages",
    "arm.mdp.usages",
    VERSIONS,
)
def list_usages(ctx: Ctx) -> Response:
    used: dict[str, int] = dict.fromkeys(QUOTA, 0)
    for r in common.resources(ctx.st).values():
        if r["type"] == TYPE and r["location"].lower() == ctx.req.params["location"].lower():
            sku = r["properties"]["fabricProfile"]["sku"]["name"]
            family = "standardDADSv5Family" if "ads" in sku else "standardDSv5Family"
            used[family] += SKUS.get(sku, 4) * r["properties"]["maximumConcurrency"]
    items = [
        {
            "id": f"{common.path_id(ctx)}/{family}",
            "unit": "Count",
            "currentValue": used[family],
            "limit": limit,
            "name": {"value": family, "localizedValue": family},
        }
        for family, limit in QUOTA.items()
    ]
    return Response(200, {"value": items})


def _delete_devcenter_resource(ctx: Ctx) -> Response:
    """DELETE of a dev center or project: a long-running delete (202, then gone); 204 when absent. A
    project still holding a managed pool is refused, as the service refuses it."""
    rid = common.path_id(ctx)
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    found = common.get(ctx.st, rid)
    if found is None:
        return Response(204)
    for r in common.resources(ctx.st).values():
        project = str((r.get("properties") or {}).get("devCenterProjectResourceId") or "")
        center = str((r.get("properties") or {}).get("devCenterId") or "")
        if rid.lower() in (project.lower(), center.lower()):
            raise arm_error(
                409, "Conflict", f"'{found['name']}' is in use by '{r['id']}'; delete that first."
            )
    found["properties"]["provisioningState"] = "Deleting"
    headers = lro.start(
        ctx, "devcenter.delete", found["id"], provider="Microsoft.DevCenter", location=found["location"]
    )
    return Response(202, None, headers)  # final state via the Azure-AsyncOperation header


@lro.finalizer("devcenter.delete")
def _devcenter_deleted(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    found = common.get(st, op["resourceId"])
    if found is not None:
        if ok:
            common.delete_tree(st, found["id"])
        else:
            found["properties"]["provisioningState"] = "Failed"


arm("DELETE", DEVCENTER + "/devcenters/{devCenterName}", "arm.devcenters.delete", DEVCENTER_VERSIONS)(
    _delete_devcenter_resource
)
arm("DELETE", DEVCENTER + "/projects/{projectName}", "arm.devcenterprojects.delete", DEVCENTER_VERSIONS)(
    _delete_devcenter_resource
)
