"""Azure DevOps environments (the 7.1 ``distributedtask/environments`` path) and the checks
(approvals and others) configured on protected resources.

A check configuration's ``settings`` are stored and returned as sent (with approvers checked
against the organization's identities); the SDK's model has no ``settings`` member, so clients
send these through the raw request path. Lists and reads include ``settings`` only with
``$expand=settings``, as the service does.
"""

from __future__ import annotations

import re
from typing import Any

from agentctl.sandbox.devops import common
from agentctl.sandbox.http import Response, devops_error, iso_z
from agentctl.sandbox.registry import Ctx, Location, devops, location

ENVIRONMENTS = location(
    Location(
        "8572b1fc-2482-47fa-8f74-7e3ed53ee54b",
        "environments",
        "environments",
        "{project}/_apis/distributedtask/{resource}/{environmentId}",
        1,
        5.0,
        7.2,
        "7.1",  # released in 7.1 (the 7.1 spec marks it not preview)
    )
)
CHECKS = location(
    Location(
        "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea",
        "PipelinesChecks",
        "configurations",
        "{project}/_apis/pipelines/checks/{resource}/{id}",
        1,
        5.1,
        7.2,
        "0.0",
    )
)
CHECK_TYPES = {
    "8c6f20a7-a545-4486-9777-f762fafe0d4d": "Approval",
    "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7": "Task Check",
    "2ef31ad6-baa0-403a-8b45-2cbc9b4e5563": "ExclusiveLock",
}
APPROVAL = "8c6f20a7-a545-4486-9777-f762fafe0d4d"
MAX_TIMEOUT = 43200  # minutes (30 days)
_BAD_NAME = re.compile(r"[\\/:*?\"<>;#$*{},+=\[\]|]")
ENV_NAMESPACE = "Microsoft.TeamFoundation.DistributedTask.WebApi"
CHECK_NAMESPACE = "Microsoft.Azure.Pipelines.Checks.WebApi"


def environments(ctx: Ctx) -> dict[str, common.Item]:
    return common.section(ctx.st, "environments")


def checks(ctx: Ctx) -> dict[str, common.Item]:
    return common.section(ctx.st, "checks")


def _environment(ctx: Ctx) -> common.Item:
    proj = common.project(ctx)
    eid = common.int_param(ctx, "environmentId")
    found = environments(ctx).get(str(eid))
    if found is None or found["project"]["id"] != proj["id"]:
        raise devops_error(
            404, "EnvironmentNotFoundException", f"Environment {eid} not found.", namespace=ENV_NAMESPACE
        )
    return found


def _check_name(ctx: Ctx, name: Any, project_id: str, skip: int | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise devops_error(
            400, "ArgumentNullException", "Value cannot be null.\r\nParameter name: name", namespace="System"
        )
    if len(name) > 128 or _BAD_NAME.search(name):
        raise common.bad_request(
            f"Environment name '{name}' is invalid: at most 128 characters, and none of "
            f'\\/:*?"<>;#$*{{}},+=[]|.'
        )
    for env in environments(ctx).values():
        if env["project"]["id"] == project_id and env["name"].lower() == name.lower() and env["id"] != skip:
            raise devops_error(
                409,
                "EnvironmentExistsException",
                f"Environment '{name}' already exists in current project.",
                namespace=ENV_NAMESPACE,
            )
    return name


@devops(ENVIRONMENTS, "POST", "devops.environments.create", key="!environmentId")
def create_environment(ctx: Ctx) -> Response:
    proj = common.project(ctx)
    doc = common.body(ctx)
    name = _check_name(ctx, doc.get("name"), proj["id"], None)
    eid = common.next_id(ctx.st, "environment")
    who, when = common.caller(ctx), iso_z(ctx.now)
    env = {
        "id": eid,
        "name": name,
        "description": doc.get("description") or "",
        "createdBy": who,
        "createdOn": when,
        "lastModifiedBy": who,
        "lastModifiedOn": when,
        "project": common.project_ref(proj),
    }
    environments(ctx)[str(eid)] = env
    return Response(200, env)


def _shown(ctx: Ctx, env: common.Item) -> common.Item:
    return {**env, "resources": []} if "resourcereferences" in ctx.req.arg("expands").lower() else env


@devops(ENVIRONMENTS, "GET", "devops.environments.get", key="environmentId")
def get_environment(ctx: Ctx) -> Response:
    return Response(200, _shown(ctx, _environment(ctx)))


@devops(ENVIRONMENTS, "GET", "devops.environments.list", key="!environmentId")
def list_environments(ctx: Ctx) -> Response:
    proj = common.project(ctx)
    name = ctx.req.arg("name").lower()
    out = [
        e
        for e in environments(ctx).values()
        if e["project"]["id"] == proj["id"]
        and (not name or re.fullmatch(re.escape(name).replace(r"\*", ".*"), e["name"].lower()))
    ]
    return common.paged(ctx, out, default_top=50)


@devops(ENVIRONMENTS, "PATCH", "devops.environments.update", key="environmentId")
def update_environment(ctx: Ctx) -> Response:
    env = _environment(ctx)
    doc = common.body(ctx)
    if doc.get("name") is not None:
        env["name"] = _check_name(ctx, doc["name"], env["project"]["id"], env["id"])
    if doc.get("description") is not None:
        env["description"] = doc["description"]
    env.update(lastModifiedBy=common.caller(ctx), lastModifiedOn=iso_z(ctx.now))
    return Response(200, env)


@devops(ENVIRONMENTS, "DELETE", "devops.environments.delete", key="environmentId")
def delete_environment(ctx: Ctx) -> Response:
    env = _environment(ctx)
    del environments(ctx)[str(env["id"])]
    for cid, check in list(checks(ctx).items()):
        if check["resource"]["type"] == "environment" and check["resource"]["id"] == str(env["id"]):
            del checks(ctx)[cid]
    common.section(ctx.st, "permissions").pop(f"environment/{env['id']}", None)
    return Response(204)


# --- check configurations ----------------------------------------------------------------------


def _resource(ctx: Ctx, project_id: str, ref: Any) -> common.Item:
    if not isinstance(ref, dict) or not ref.get("type") or ref.get("id") in (None, ""):
        raise common.bad_request("A check configuration needs a resource with a type and an id.")
    kind = str(ref["type"]).lower()
    item = common.protected_resource(ctx.st, kind, str(ref["id"]), project_id)
    if item is None:
        raise devops_error(
            404,
            "ResourceNotFoundException",
            f"The {kind} resource {ref['id']} was not found.",
            namespace=CHECK_NAMESPACE,
        )
    return {"type": kind, "id": str(item["id"]), "name": item["name"]}


def _approval_settings(ctx: Ctx, settings: Any) -> common.Item:
    if not isinstance(settings, dict):
        raise common.bad_request("An approval check needs settings with approvers.")
    approvers = settings.get("approvers")
    if not isinstance(approvers, list) or not approvers:
        raise common.bad_request("An approval check needs at least one approver.")
    resolved = []
    for a in approvers:
        ident = common.identity(ctx.st, str((a or {}).get("id", ""))) if isinstance(a, dict) else None
        if ident is None:
            raise common.bad_request(f"Approver {a!r} is not an identity of this organization.")
        resolved.append({**a, "displayName": ident["providerDisplayName"], "id": ident["id"]})
    minimum = settings.get("minRequiredApprovers", 0)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or not 0 <= minimum <= len(approvers):
        raise common.bad_request(
            f"minRequiredApprovers must be between 0 (all) and the number of approvers ({len(approvers)})."
        )
    order = settings.get("executionOrder", "anyOrder")
    if order not in ("anyOrder", "inSequence"):
        raise common.bad_request(f"executionOrder '{order}' is not valid; use anyOrder or inSequence.")
    return {**settings, "approvers": resolved}


def _build_check(ctx: Ctx, doc: common.Item, existing: common.Item | None) -> common.Item:
    proj = common.project(ctx)
    type_id = str((doc.get("type") or {}).get("id", "")).lower()
    if type_id not in CHECK_TYPES:
        raise common.bad_request(f"Check type '{type_id}' is not known. Known: {', '.join(CHECK_TYPES)}.")
    resource = _resource(ctx, proj["id"], doc.get("resource"))
    timeout = doc.get("timeout", MAX_TIMEOUT)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= MAX_TIMEOUT:
        raise common.bad_request(f"timeout must be between 1 and {MAX_TIMEOUT} minutes.")
    settings = _approval_settings(ctx, doc.get("settings")) if type_id == APPROVAL else doc.get("settings")
    cid = existing["id"] if existing else common.next_id(ctx.st, "check")
    who, when = common.caller(ctx), iso_z(ctx.now)
    url = f"{common.org_url(ctx)}/{proj['id']}/_apis/pipelines/checks/configurations/{cid}"
    return {
        "settings": settings,
        "timeout": timeout,
        "type": {"id": type_id, "name": CHECK_TYPES[type_id]},
        "url": url,
        "resource": resource,
        "createdBy": existing["createdBy"] if existing else who,
        "createdOn": existing["createdOn"] if existing else when,
        "modifiedBy": who,
        "modifiedOn": when,
        "id": cid,
        "_links": {"self": {"href": url}},
        "projectId": proj["id"],
    }


def _shown_check(ctx: Ctx, check: common.Item, with_settings: bool) -> common.Item:
    return {k: v for k, v in check.items() if k != "projectId" and (with_settings or k != "settings")}


def _expand(ctx: Ctx) -> bool:
    return "settings" in ctx.req.arg("$expand").lower()


def _check(ctx: Ctx) -> common.Item:
    proj = common.project(ctx)
    cid = common.int_param(ctx, "id")
    found = checks(ctx).get(str(cid))
    if found is None or found["projectId"] != proj["id"]:
        raise devops_error(
            404,
            "CheckConfigurationNotFoundException",
            f"Check configuration {cid} was not found.",
            namespace=CHECK_NAMESPACE,
        )
    return found


@devops(CHECKS, "POST", "devops.checks.create", key="!id")
def create_check(ctx: Ctx) -> Response:
    check = _build_check(ctx, common.body(ctx), None)
    checks(ctx)[str(check["id"])] = check
    return Response(200, _shown_check(ctx, check, True))


@devops(CHECKS, "GET", "devops.checks.get", key="id")
def get_check(ctx: Ctx) -> Response:
    return Response(200, _shown_check(ctx, _check(ctx), _expand(ctx)))


@devops(CHECKS, "GET", "devops.checks.list", key="!id")
def list_checks(ctx: Ctx) -> Response:
    proj = common.project(ctx)
    kind, rid = ctx.req.arg("resourceType").lower(), ctx.req.arg("resourceId").lower()
    if not kind or not rid:
        raise common.bad_request("resourceType and resourceId are required.")
    out = [
        _shown_check(ctx, c, _expand(ctx))
        for c in checks(ctx).values()
        if c["projectId"] == proj["id"]
        and c["resource"]["type"] == kind
        and c["resource"]["id"].lower() == rid
    ]
    return Response(200, common.wrap(sorted(out, key=lambda c: c["id"])))


def _update_check(ctx: Ctx) -> Response:
    existing = _check(ctx)
    check = _build_check(ctx, common.body(ctx), existing)
    checks(ctx)[str(check["id"])] = check
    return Response(200, _shown_check(ctx, check, True))


devops(CHECKS, "PATCH", "devops.checks.update", key="id")(_update_check)
devops(CHECKS, "PUT", "devops.checks.replace", key="id")(_update_check)


@devops(CHECKS, "DELETE", "devops.checks.delete", key="id")
def delete_check(ctx: Ctx) -> Response:
    check = _check(ctx)
    del checks(ctx)[str(check["id"])]
    return Response(204)
