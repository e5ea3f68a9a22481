"""ARM resources in the state: stored by lower-cased id as the bodies ARM returns, looked up
case-insensitively, listed by collection, and the errors ARM gives when something is missing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from agentctl.sandbox.http import Response, arm_error
from agentctl.sandbox.registry import Ctx, State

Resource = dict[str, Any]
# resource type (lower case) -> fn(state, stored body) -> body to return
VIEWS: dict[str, Callable[[State, Resource], Resource]] = {}

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def stable_guid(seed: str) -> str:
    """A GUID derived from ``seed``: the same world gets the same ids every time."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "agentctl-sandbox:" + seed.lower()))


def resources(st: State) -> dict[str, Resource]:
    arm: dict[str, Resource] = st.setdefault("arm", {})
    return arm


def get(st: State, rid: str) -> Resource | None:
    return resources(st).get(rid.rstrip("/").lower())


def put(st: State, body: Resource) -> Resource:
    resources(st)[body["id"].lower()] = body
    return body


def delete_tree(st: State, rid: str) -> None:
    """Remove a resource and everything below it."""
    low = rid.lower()
    for key in [k for k in resources(st) if k == low or k.startswith(low + "/")]:
        del resources(st)[key]


def children(st: State, collection: str) -> list[Resource]:
    """Resources directly in a collection (an id up to the resource type segment)."""
    low = collection.rstrip("/").lower()
    return [r for k, r in resources(st).items() if k.rsplit("/", 1)[0] == low]


def view(st: State, body: Resource) -> Resource:
    fn = VIEWS.get(body["type"].lower())
    return fn(st, body) if fn else body


def rg_id(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


def provider_id(sub: str, rg: str, provider_type: str, *names: str) -> str:
    """``provider_type`` like ``Microsoft.Compute/galleries/images``; one name per type segment."""
    namespace, *types = provider_type.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"{rg_id(sub, rg)}/providers/{namespace}/{path}"


def parse_id(rid: str) -> dict[str, str]:
    """subscription, resourceGroup, namespace, type (e.g. ``virtualNetworks/subnets``), name."""
    parts = rid.strip("/").split("/")
    out: dict[str, str] = {}
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        out["subscription"] = parts[1]
    if len(parts) >= 4 and parts[2].lower() == "resourcegroups":
        out["resourceGroup"] = parts[3]
    if len(parts) >= 8 and parts[4].lower() == "providers":
        out["namespace"] = parts[5]
        rest = parts[6:]
        out["type"] = "/".join(rest[0::2])
        out["name"] = rest[-1]
    return out


def check_subscription(ctx: Ctx, sub: str) -> None:
    if sub.lower() != ctx.meta["subscriptionId"].lower():
        raise arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def require_rg(ctx: Ctx, sub: str, rg: str) -> Resource:
    check_subscription(ctx, sub)
    group = get(ctx.st, rg_id(sub, rg))
    if group is None:
        raise arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return group


def require(ctx: Ctx, rid: str) -> Resource:
    """The resource, or the 404 ARM answers: missing group, missing parent, missing resource."""
    parts = parse_id(rid)
    require_rg(ctx, parts["subscription"], parts["resourceGroup"])
    found = get(ctx.st, rid)
    if found is not None:
        return found
    segments = rid.strip("/").split("/")
    if len(segments) > 8:  # a nested resource: is the parent there?
        parent = "/" + "/".join(segments[:-2])
        if get(ctx.st, parent) is None:
            raise arm_error(
                404,
                "ParentResourceNotFound",
                "Failed to perform 'read' on resource(s) of type "
                f"'{parts['namespace']}/{parts['type'].rsplit('/', 1)[0]}', because the parent resource "
                f"'{parent}' could not be found.",
            )
    raise arm_error(
        404,
        "ResourceNotFound",
        f"The Resource '{parts['namespace']}/{parts['type']}/{parts['name']}' under resource group "
        f"'{parts['resourceGroup']}' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
    )


def path_id(ctx: Ctx) -> str:
    """The resource id a request addresses: its path, in the casing the client sent."""
    return ctx.req.path.rstrip("/")


def show(ctx: Ctx) -> Response:
    """GET of a stored resource."""
    return Response(200, view(ctx.st, require(ctx, path_id(ctx))))


def subscription_listing(ctx: Ctx) -> Response:
    """GET of ``/subscriptions/{id}/providers/{namespace}/{type}``: that type in every group."""
    segments = path_id(ctx).strip("/").split("/")
    check_subscription(ctx, segments[1])
    kind = f"{segments[3]}/{segments[4]}".lower()
    items = [r for r in resources(ctx.st).values() if r["type"].lower() == kind]
    return Response(200, {"value": [view(ctx.st, r) for r in sorted(items, key=lambda r: r["id"].lower())]})


def listing(ctx: Ctx) -> Response:
    """GET of a collection; its owner (a resource group, or the parent resource) must exist."""
    collection = path_id(ctx)
    segments = collection.strip("/").split("/")
    if len(segments) <= 7:  # subscriptions/S/resourceGroups/G/providers/NS/type
        require_rg(ctx, segments[1], segments[3])
    else:
        require(ctx, "/" + "/".join(segments[:-1]))
    items = sorted(children(ctx.st, collection), key=lambda r: r["name"].lower())
    return Response(200, {"value": [view(ctx.st, r) for r in items]})
