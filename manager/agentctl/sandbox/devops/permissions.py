"""Azure DevOps pipeline permissions of a resource (service endpoint, agent queue, environment)."""

from __future__ import annotations

from typing import Any

from agentctl.sandbox.devops import common
from agentctl.sandbox.http import Response, devops_error, iso_z
from agentctl.sandbox.registry import Ctx, Location, devops, location

PERMISSIONS = location(
    Location(
        "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2",
        "pipelinePermissions",
        "pipelinePermissions",
        "{project}/_apis/pipelines/{resource}/{resourceType}/{resourceId}",
        1,
        5.1,
        7.2,
        "0.0",
    )
)


def _resource(ctx: Ctx) -> tuple[str, str]:
    """(type, id) of an existing resource in the route's project."""
    proj = common.project(ctx)
    kind, rid = ctx.req.params.get("resourceType", "").lower(), ctx.req.params.get("resourceId", "").lower()
    if kind not in common.PROTECTED:
        raise common.bad_request(
            f"Resource type '{kind}' is not supported; use {', '.join(common.PROTECTED)}."
        )
    if common.protected_resource(ctx.st, kind, rid, proj["id"]) is None:
        raise devops_error(
            404,
            "ResourceNotFoundException",
            f"The {kind} resource {rid} was not found in project {proj['name']}.",
            namespace="Microsoft.Azure.Pipelines.Authorization.WebApi",
        )
    return kind, rid


def current(ctx: Ctx, kind: str, rid: str) -> dict[str, Any]:
    stored: dict[str, Any] = common.section(ctx.st, "permissions").get(f"{kind}/{rid}", {})
    out: dict[str, Any] = {"resource": {"type": kind, "id": rid}, "pipelines": stored.get("pipelines", [])}
    if stored.get("allPipelines"):
        out["allPipelines"] = stored["allPipelines"]
    return out


def authorize_all(ctx: Ctx, kind: str, rid: str) -> None:
    common.section(ctx.st, "permissions")[f"{kind}/{rid}"] = {
        "allPipelines": {
            "authorized": True,
            "authorizedBy": common.caller(ctx),
            "authorizedOn": iso_z(ctx.now),
        },
        "pipelines": [],
    }


@devops(PERMISSIONS, "GET", "devops.permissions.get", key="resourceId")
def get_permissions(ctx: Ctx) -> Response:
    kind, rid = _resource(ctx)
    return Response(200, current(ctx, kind, rid))


@devops(PERMISSIONS, "PATCH", "devops.permissions.update", key="resourceId")
def update_permissions(ctx: Ctx) -> Response:
    kind, rid = _resource(ctx)
    doc = common.body(ctx)
    stored = current(ctx, kind, rid)
    by = {"authorizedBy": common.caller(ctx), "authorizedOn": iso_z(ctx.now)}
    if isinstance(doc.get("allPipelines"), dict):
        if doc["allPipelines"].get("authorized"):
            stored["allPipelines"] = {"authorized": True, **by}
        else:
            stored.pop("allPipelines", None)
    pipelines = {p["id"]: p for p in stored["pipelines"]}
    for p in doc.get("pipelines") or []:
        if not isinstance(p, dict) or not isinstance(p.get("id"), int):
            raise common.bad_request("Each pipeline permission needs an integer 'id'.")
        if p.get("authorized"):
            pipelines[p["id"]] = {"id": p["id"], "authorized": True, **by}
        else:
            pipelines.pop(p["id"], None)
    stored["pipelines"] = sorted(pipelines.values(), key=lambda p: p["id"])
    common.section(ctx.st, "permissions")[f"{kind}/{rid}"] = {
        "allPipelines": stored.get("allPipelines"),
        "pipelines": stored["pipelines"],
    }
    return Response(200, stored)
