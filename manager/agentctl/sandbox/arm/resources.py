"""Microsoft.Resources: resource groups (PUT, GET, HEAD, list)."""

from __future__ import annotations

import re

from agentctl.sandbox.arm import common
from agentctl.sandbox.arm.validate import deserialize
from agentctl.sandbox.http import Response, arm_error
from agentctl.sandbox.registry import ApiVersions, Ctx, arm

VERSIONS = ApiVersions.of(
    "resourceGroups",
    "2019-10-01",
    "2020-06-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-01-01",
    "2025-03-01",
    "2025-04-01",
)
MODEL = {
    "ResourceGroupDefinition": {
        "id": "any",
        "name": "any",
        "type": "any",
        "location": "string",
        "managedBy": "string",
        "tags": "{string}",
        "properties": "{any}",
    }
}
_NAME = re.compile(r"^[-\w._()]{1,90}$")
ITEM = "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}"


def resource_group(sub: str, name: str, location: str, tags: dict[str, str] | None = None) -> common.Resource:
    body: common.Resource = {
        "id": common.rg_id(sub, name),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if tags:
        body["tags"] = tags
    return body


@arm("GET", ITEM, "arm.resourcegroups.get", VERSIONS)
def get_group(ctx: Ctx) -> Response:
    p = ctx.req.params
    return Response(200, common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"]))


@arm("HEAD", ITEM, "arm.resourcegroups.head", VERSIONS)
def check_group(ctx: Ctx) -> Response:
    p = ctx.req.params
    common.check_subscription(ctx, p["subscriptionId"])
    found = common.get(ctx.st, common.rg_id(p["subscriptionId"], p["resourceGroupName"]))
    return Response(204 if found else 404)


@arm("GET", "/subscriptions/{subscriptionId}/resourcegroups", "arm.resourcegroups.list", VERSIONS)
def list_groups(ctx: Ctx) -> Response:
    sub = ctx.req.params["subscriptionId"]
    common.check_subscription(ctx, sub)
    items = sorted(
        common.children(ctx.st, f"/subscriptions/{sub}/resourceGroups"), key=lambda r: r["name"].lower()
    )
    return Response(200, {"value": items})


@arm("PUT", ITEM, "arm.resourcegroups.put", VERSIONS)
def put_group(ctx: Ctx) -> Response:
    p = ctx.req.params
    sub, name = p["subscriptionId"], p["resourceGroupName"]
    common.check_subscription(ctx, sub)
    if not _NAME.match(name) or name.endswith("."):
        raise arm_error(
            400,
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' has these invalid characters or length. The name can "
            "only be a letter, digit, '-', '.', '(', ')' or '_', up to 90 long, and must not end in '.'.",
        )
    body = ctx.req.body
    deserialize(body, "#ResourceGroupDefinition", MODEL, {})
    if not body.get("location"):
        raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
    location = body["location"].replace(" ", "").lower()
    existing = common.get(ctx.st, common.rg_id(sub, name))
    if existing and existing["location"] != location:
        raise arm_error(
            409,
            "InvalidResourceGroupLocation",
            f"Invalid resource group location '{location}'. The Resource group already exists in location "
            f"'{existing['location']}'.",
        )
    group = common.put(
        ctx.st, resource_group(sub, existing["name"] if existing else name, location, body.get("tags"))
    )
    if body.get("managedBy"):
        group["managedBy"] = body["managedBy"]
    return Response(200 if existing else 201, group)
